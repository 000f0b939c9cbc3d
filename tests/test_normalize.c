/* test_normalize.c -- the normalize step: NFKC, the Chinese punctuation
 * policy, NFC, control characters, line endings, invisible characters,
 * spaces, blank lines, and the empty-document drop. */
#include "check.h"
#include "filter.h"

#include <stdlib.h>
#include <unicode/unorm2.h>
#include <unicode/uset.h>
#include <unicode/ustring.h>

static void *make(const char *yaml, cm_err *err)
{
    const cm_filter *f = cm_filter_find("normalize");
    cm_conf *c = yaml ? cm_conf_load_string(yaml, strlen(yaml), "test.yaml", err) : NULL;
    if (yaml && !c) return NULL;
    void *s = f->create(c, err);
    cm_conf_free(c); /* options are read at create time */
    return s;
}

/* Runs the step on text; returns the verdict, the result in out. */
static cm_verdict norm(void *state, const char *text, char *out, size_t cap)
{
    const cm_filter *f = cm_filter_find("normalize");
    cm_doc d;
    cm_doc_init(&d);
    cm_buf_append(&d.text, text, strlen(text));
    cm_verdict v = f->apply(state, &d);
    snprintf(out, cap, "%s", d.text.data ? d.text.data : "");
    cm_doc_free(&d);
    return v;
}


/* ---- a slow, obvious reference of the cleanup policy, to compare the
 * vectorized one against on random text ---- */

static void ref_cleanup(const char *s, size_t len, cm_buf *out)
{
    /* pass 1: code points, line breaks unified, removed characters gone */
    uint32_t *cps = malloc((len + 1) * sizeof *cps);
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        size_t k = cm_utf8_seq_len((const unsigned char *)s + i, len - i);
        uint32_t cp = cm_utf8_decode((const unsigned char *)s + i, k);
        i += k;
        if (cp == '\r' && i < len && s[i] == '\n') continue;
        if (cp == '\r' || cp == 0x85 || cp == 0x2028 || cp == 0x2029) cp = '\n';
        if ((cp < 0x20 && cp != '\n' && cp != '\t') || cp == 0x7F || (cp >= 0x80 && cp < 0xA0) || cp == 0xFEFF ||
            cp == 0x200B || cp == 0x2060)
            continue;
        cps[n++] = cp;
    }
    /* pass 2: line by line */
    cm_buf lines;
    cm_buf_init(&lines);
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && cps[i] != '\n') continue;
        size_t a = start, b = i;
        while (b > a && (cps[b - 1] == ' ' || cps[b - 1] == '\t')) b--; /* trailing blanks */
        size_t lead = a;
        while (lead < b && (cps[lead] == ' ' || cps[lead] == '\t')) lead++;
        char tmp[4];
        for (size_t j = a; j < lead; j++) cm_buf_append_char(&lines, (char)cps[j]); /* indentation */
        for (size_t j = lead; j < b;) {
            if (cps[j] == ' ' || cps[j] == '\t') {
                size_t e = j;
                int has_space = 0;
                while (e < b && (cps[e] == ' ' || cps[e] == '\t')) has_space |= cps[e++] == ' ';
                if (has_space) cm_buf_append_char(&lines, ' ');
                else for (size_t t = j; t < e; t++) cm_buf_append_char(&lines, '\t');
                j = e;
            } else {
                cm_buf_append(&lines, tmp, cm_utf8_encode(cps[j], tmp));
                j++;
            }
        }
        cm_buf_append_char(&lines, '\n');
        start = i + 1;
    }
    /* pass 3: blank lines: none at the ends, at most one in a row; a line
     * of only indentation is blank */
    cm_buf_clear(out);
    size_t blank_run = 0;
    int any = 0;
    const char *p = lines.data ? lines.data : "";
    while (*p) {
        const char *e = strchr(p, '\n');
        size_t l = (size_t)(e - p);
        int blank = 1;
        for (size_t j = 0; j < l; j++) if (p[j] != ' ' && p[j] != '\t') blank = 0;
        if (blank) blank_run++;
        else {
            if (any) {
                cm_buf_append_char(out, '\n');
                if (blank_run) cm_buf_append_char(out, '\n');
                cm_buf_append(out, p, l);
            } else {
                /* the first line loses its indentation only if the document starts with it */
                size_t j = 0;
                while (j < l && (p[j] == ' ' || p[j] == '\t')) j++;
                cm_buf_append(out, p + j, l - j);
            }
            any = 1;
            blank_run = 0;
        }
        p = e + 1;
    }
    if (!out->data) cm_buf_append(out, "", 0);
    cm_buf_free(&lines);
    free(cps);
}

/* text: 1 to max_pieces pieces of the alphabet, drawn with *rng */
static void random_pieces(cm_buf *text, unsigned *rng, const char *const *alphabet, size_t na, int max_pieces)
{
    cm_buf_clear(text);
    int pieces = 1 + (int)((*rng = *rng * 1103515245u + 12345u) >> 16) % max_pieces;
    for (int i = 0; i < pieces; i++) {
        *rng = *rng * 1103515245u + 12345u;
        cm_buf_append_str(text, alphabet[(*rng >> 16) % na]);
    }
}

static void differential(void *form_none)
{
    static const char *const alphabet[] = {"a", "b", "中", "文", " ", " ", "  ", "\t", "\n", "\r\n", "\r", "\xc2\x85",
                                           "\xe2\x80\xa8", "\xe2\x80\x8b", "\xef\xbb\xbf", "\x01", "\x7f", "\xc2\x80",
                                           "，", "é", "\xe2\x80\x9c", "x", "yz", "0123456789abcdef"};
    const size_t na = sizeof alphabet / sizeof alphabet[0];
    unsigned rng = 12345;
    cm_buf text, want;
    cm_buf_init(&text);
    cm_buf_init(&want);
    int mismatches = 0;
    for (int round = 0; round < 3000; round++) {
        random_pieces(&text, &rng, alphabet, na, 80);
        ref_cleanup(text.data, text.len, &want);
        char got[8192];
        norm(form_none, text.data, got, sizeof got);
        if (strcmp(got, want.data) != 0 && mismatches++ < 3)
            fprintf(stderr, "cleanup differs from the reference\n  in:   [%s]\n  got:  [%s]\n  want: [%s]\n", text.data,
                    got, want.data);
    }
    CHECK(mismatches == 0);
    cm_buf_free(&text);
    cm_buf_free(&want);
}

/* The step normalizes only the spans around characters that are not
 * stable and copies the rest; the reference is ICU's filtered NFKC over the
 * whole text, then the cleanup reference. The pieces mix stable characters
 * with ones that change or combine with their neighbours (combining marks,
 * jamo, full-width and compatibility forms, characters outside the BMP),
 * with plain runs long enough to separate spans. */
static void differential_unicode(void *dflt)
{
    static const char *const alphabet[] = {"a", "e", "A", "中", "，", "…", "～", "\u0301", "\u0323", "\u0308", "ＡＢ",
                                           "１", "\u3000", "ﬁ", "²", "é", "\u212b", "가", "\u1100", "\u1161",
                                           "\u11a8", "\U0001F600", "\U0001D400", "\u0958", "ｶ", "\uff9e", "カ",
                                           "\u3099", "\u00a0", " ", "\n", "plain words between the spans, long enough ",
                                           "短句，没有变化的中文文本。"};
    const size_t na = sizeof alphabet / sizeof alphabet[0];
    UErrorCode st = U_ZERO_ERROR;
    const UNormalizer2 *nfkc = unorm2_getNFKCInstance(&st);
    USet *protect = uset_open(0, 0x10FFFF);
    static const UChar32 punct[] = {0xFF0C, 0xFF01, 0xFF1F, 0xFF1A, 0xFF1B, 0xFF08, 0xFF09, 0x2026, 0xFF5E};
    for (size_t i = 0; i < sizeof punct / sizeof *punct; i++) uset_remove(protect, punct[i]);
    uset_freeze(protect);
    UNormalizer2 *filtered = unorm2_openFiltered(nfkc, protect, &st);
    CHECK(U_SUCCESS(st));
    unsigned rng = 4242;
    cm_buf text, want;
    cm_buf_init(&text);
    cm_buf_init(&want);
    static UChar u16[8192], n16[16384];
    static char whole[32768], got[32768];
    int mismatches = 0;
    for (int round = 0; round < 3000; round++) {
        random_pieces(&text, &rng, alphabet, na, 60);
        int32_t l16 = 0, ln = 0, l8 = 0;
        st = U_ZERO_ERROR;
        u_strFromUTF8(u16, 8192, &l16, text.data, (int32_t)text.len, &st);
        ln = unorm2_normalize(filtered, u16, l16, n16, 16384, &st);
        u_strToUTF8(whole, (int32_t)sizeof whole, &l8, n16, ln, &st);
        CHECK(U_SUCCESS(st));
        ref_cleanup(whole, (size_t)l8, &want);
        norm(dflt, text.data, got, sizeof got);
        if (strcmp(got, want.data) != 0 && mismatches++ < 3)
            fprintf(stderr, "normalization differs from ICU's over the whole text\n  in:   [%s]\n  got:  [%s]\n  want: [%s]\n",
                    text.data, got, want.data);
    }
    CHECK(mismatches == 0);
    unorm2_close(filtered);
    uset_close(protect);
    cm_buf_free(&text);
    cm_buf_free(&want);
}

int main(void)
{
    cm_err err;
    char out[4096];
    const cm_filter *f = cm_filter_find("normalize");
    CHECK(f != NULL);
    void *dflt = make(NULL, &err);
    CHECK(dflt != NULL);

    /* NFKC folds full-width letters and digits, ligatures, NBSP ... */
    norm(dflt, "ＡＢＣ１２３ ﬁne\u00a0x", out, sizeof out);
    CHECK_STR(out, "ABC123 fine x");
    /* ... but Chinese keeps its full-width punctuation by default */
    norm(dflt, "你好，世界！真的吗？注意：分号；（括号）……～", out, sizeof out);
    CHECK_STR(out, "你好，世界！真的吗？注意：分号；（括号）……～");
    /* 。「」《》、 are not touched by NFKC anyway */
    norm(dflt, "「他说：《书》很好。」、", out, sizeof out);
    CHECK_STR(out, "「他说：《书》很好。」、");
    /* the ideographic space is a space (and runs of spaces collapse) */
    norm(dflt, "中文\u3000\u3000文本", out, sizeof out);
    CHECK_STR(out, "中文 文本");

    /* plain NFKC when the policy is off */
    void *plain = make("keep_cjk_punctuation: false\n", &err);
    CHECK(plain != NULL);
    norm(plain, "你好，世界！……", out, sizeof out);
    CHECK_STR(out, "你好,世界!......");
    f->destroy(plain);

    /* a custom protected set */
    void *custom = make("cjk_punctuation: \"！\"\n", &err);
    norm(custom, "你好，世界！", out, sizeof out);
    CHECK_STR(out, "你好,世界！");
    f->destroy(custom);

    /* NFC composes but keeps compatibility characters */
    void *nfc = make("form: nfc\n", &err);
    norm(nfc, "e\u0301 ＡＢ", out, sizeof out);
    CHECK_STR(out, "\u00e9 ＡＢ");
    f->destroy(nfc);
    void *none = make("form: none\n", &err);
    norm(none, "e\u0301 ＡＢ", out, sizeof out);
    CHECK_STR(out, "e\u0301 ＡＢ");
    f->destroy(none);

    /* control characters go, \n and \t stay; line endings become \n */
    norm(dflt, "a\x01\x07" "b\x7f\tc\r\nd\re\xc2\x85" "f\u2028g\xc2\x80" "h", out, sizeof out);
    CHECK_STR(out, "ab\tc\nd\ne\nf\ngh");
    /* BOM, zero-width space and word joiner go; ZWJ stays (emoji sequences) */
    norm(dflt, "\ufeffa\u200bb\u2060c \U0001F468\u200d\U0001F469", out, sizeof out);
    CHECK_STR(out, "abc \U0001F468\u200d\U0001F469");
    /* trailing blanks per line, runs of spaces inside a line, indentation kept */
    norm(dflt, "title   \t\n    indented  code\nx \t y\tz\t\tw", out, sizeof out);
    CHECK_STR(out, "title\n    indented code\nx y\tz\t\tw");
    /* at most one blank line; none at the start or end */
    norm(dflt, "\n\n  \na\n\n\n\n\nb\n\n\n", out, sizeof out);
    CHECK_STR(out, "a\n\nb");
    void *keep_blank = make("collapse_blank_lines: false\ncollapse_spaces: false\n", &err);
    norm(keep_blank, "a\n\n\n\nb  c", out, sizeof out);
    CHECK_STR(out, "a\n\n\n\nb  c");
    f->destroy(keep_blank);

    /* a document left empty is dropped with the rule "empty" */
    {
        cm_doc d;
        cm_doc_init(&d);
        cm_buf_append_str(&d.text, " \u200b\r\n\t\u3000 ");
        CHECK(f->apply(dflt, &d) == CM_DROP);
        CHECK_STR(d.drop_rule, "empty");
        cm_doc_free(&d);
    }
    CHECK(norm(dflt, "x", out, sizeof out) == CM_KEEP);

    /* text that needs nothing is left alone and not marked changed */
    {
        cm_doc d;
        cm_doc_init(&d);
        cm_buf_append_str(&d.text, "已经规范的中文文本，没有问题。\nPlain line.");
        f->apply(dflt, &d);
        CHECK(d.text_changed == 0);
        cm_doc_free(&d);
    }

    /* bad options are errors that name the file and line */
    CHECK(make("form: nfkd\n", &err) == NULL);
    CHECK_CONTAINS(err.msg, "test.yaml:1:");
    CHECK_CONTAINS(err.msg, "nfkd");
    CHECK(make("fomr: nfc\n", &err) == NULL);
    CHECK_CONTAINS(err.msg, "unknown key 'fomr'");
    CHECK(make("drop_empty: maybe\n", &err) == NULL);
    CHECK_CONTAINS(err.msg, "true or false");

    /* the vectorized cleanup agrees with the obvious one (no Unicode
     * normalization here: that is ICU's) */
    void *form_none = make("form: none\n", &err);
    differential(form_none);
    f->destroy(form_none);
    /* and the spans normalized alone give what ICU gives for the whole text */
    differential_unicode(dflt);
    /* bytes that are not UTF-8 (a block of continuation bytes: no character
     * starts in it) are no crash; the fuzzer found clz(0) here */
    {
        char bad[160];
        memset(bad, 0xA3, 100);
        strcpy(bad + 100, "\xef\xbd\x86r) # x");
        CHECK(norm(dflt, bad, out, sizeof out) == CM_KEEP);
    }

    f->destroy(dflt);
    CHECK_DONE();
}
