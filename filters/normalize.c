/* normalize.c -- the first step of `clean`: Unicode normalization (ICU) and
 * whitespace / control-character cleanup.
 *
 * Policy, in order:
 *  1. Unicode normalization, NFKC by default (nfc | nfkc | none). NFKC folds
 *     full-width letters and digits, ligatures and compatibility forms, which
 *     is what pretraining wants. It also folds the full-width punctuation
 *     that Chinese is written with (，！？：；（） to ASCII, … to "..."),
 *     which changes training text and defeats punctuation rules written for
 *     Chinese. So by default those characters are excluded from
 *     normalization (ICU's filtered normalizer): Chinese keeps its
 *     punctuation. `keep_cjk_punctuation: false` gives plain NFKC;
 *     `cjk_punctuation` lists the protected characters.
 *  2. Cleanup: control characters other than \n and \t removed (C0, DEL, C1);
 *     \r\n, \r, NEL, U+2028 and U+2029 become \n; BOM (U+FEFF), zero-width
 *     space (U+200B) and word joiner (U+2060) removed (ZWJ / ZWNJ stay: emoji
 *     and Persian need them); a run of spaces (or of spaces and tabs) inside a
 *     line becomes one space, a run of tabs alone stays (tab-separated
 *     columns); leading indentation stays (Markdown and code need it); trailing spaces
 *     and tabs of every line removed; more than one blank line in a row
 *     becomes one; blank lines at the start and end removed.
 *  3. A document left empty is dropped as normalize:empty.
 *
 * Traditional to Simplified Chinese conversion is deliberately not done. */
#include "filter.h"

#include <stdlib.h>
#include <string.h>
#include <unicode/unorm2.h>
#include <unicode/uset.h>
#include <unicode/ustring.h>

static const char DEFAULTS[] =
    "normalize:\n"
    "  form: nfkc                  # nfkc | nfc | none (NFKC: as FineWeb, RedPajama and CCNet)\n"
    "  keep_cjk_punctuation: true  # exclude the characters below from normalization\n"
    "  cjk_punctuation: \"，！？：；（）…～\"\n"
    "  collapse_spaces: true       # runs of spaces inside a line become one\n"
    "  collapse_blank_lines: true  # at most one blank line in a row\n"
    "  drop_empty: true            # drop documents left empty (normalize:empty)\n";

enum { FORM_NFKC, FORM_NFC, FORM_NONE };

typedef struct normalize {
    int form;
    int collapse_spaces;
    int collapse_blank_lines;
    int drop_empty;
    const UNormalizer2 *base;   /* owned by ICU */
    UNormalizer2 *filtered;     /* owned; NULL when nothing is protected */
    USet *protect;              /* set given to the filtered normalizer */
    UChar *u16, *u16_out;       /* scratch, grown as needed */
    int32_t u16_cap, u16_out_cap;
} normalize;

static void destroy(void *self)
{
    normalize *n = self;
    if (!n) return;
    if (n->filtered) unorm2_close(n->filtered);
    if (n->protect) uset_close(n->protect);
    free(n->u16);
    free(n->u16_out);
    free(n);
}

static void *create(const cm_conf *opt, cm_err *err)
{
    static const char *const known[] = {"form", "keep_cjk_punctuation", "cjk_punctuation", "collapse_spaces",
                                        "collapse_blank_lines", "drop_empty", NULL};
    static const char *const forms[] = {"nfkc", "nfc", "none", NULL};
    if (cm_conf_check_keys(opt, "filter normalize", known, err)) return NULL;
    normalize *n = cm_calloc(1, sizeof *n);
    n->form = FORM_NFKC;
    n->collapse_spaces = 1;
    n->collapse_blank_lines = 1;
    n->drop_empty = 1;
    int keep_punct = 1;
    char *punct = cm_strdup("，！？：；（）…～");
    if (cm_conf_enum(opt, "form", forms, &n->form, err) || cm_conf_bool(opt, "keep_cjk_punctuation", &keep_punct, err) ||
        cm_conf_string(opt, "cjk_punctuation", &punct, err) || cm_conf_bool(opt, "collapse_spaces", &n->collapse_spaces, err) ||
        cm_conf_bool(opt, "collapse_blank_lines", &n->collapse_blank_lines, err) ||
        cm_conf_bool(opt, "drop_empty", &n->drop_empty, err))
        goto fail;
    if (n->form != FORM_NONE) {
        UErrorCode st = U_ZERO_ERROR;
        n->base = n->form == FORM_NFKC ? unorm2_getNFKCInstance(&st) : unorm2_getNFCInstance(&st);
        if (U_FAILURE(st)) { cm_errorf(err, "ICU: cannot load the normalizer: %s", u_errorName(st)); goto fail; }
        if (keep_punct && punct[0]) {
            n->protect = uset_open(0, 0x10FFFF);
            const unsigned char *p = (const unsigned char *)punct;
            size_t len = strlen(punct);
            for (size_t i = 0; i < len;) {
                size_t k = cm_utf8_seq_len(p + i, len - i);
                if (!k) { cm_errorf(err, "filter normalize: cjk_punctuation is not valid UTF-8"); goto fail; }
                uset_remove(n->protect, (UChar32)cm_utf8_decode(p + i, k));
                i += k;
            }
            uset_freeze(n->protect);
            n->filtered = unorm2_openFiltered(n->base, n->protect, &st);
            if (U_FAILURE(st)) { cm_errorf(err, "ICU: cannot build the filtered normalizer: %s", u_errorName(st)); goto fail; }
        }
    }
    free(punct);
    return n;
fail:
    free(punct);
    destroy(n);
    return NULL;
}

static int is_ascii(const char *s, size_t n)
{
    uint64_t acc = 0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        acc |= w;
    }
    for (; i < n; i++) acc |= (unsigned char)s[i];
    return (acc & 0x8080808080808080ULL) == 0;
}

static void grow_u16(UChar **p, int32_t *cap, int32_t need)
{
    if (need <= *cap) return;
    int32_t c = *cap ? *cap : 1024;
    while (c < need) c *= 2;
    *p = cm_realloc(*p, (size_t)c * sizeof(UChar));
    *cap = c;
}

/* Unicode normalization of doc->text; returns 0, or -1 when ICU failed
 * (the text is then left as it was). */
static int unicode_normalize(normalize *n, cm_doc *doc)
{
    if (n->form == FORM_NONE || is_ascii(doc->text.data, doc->text.len)) return 0;
    if (doc->text.len > INT32_MAX / 2) return -1;
    const UNormalizer2 *norm = n->filtered ? n->filtered : n->base;
    UErrorCode st = U_ZERO_ERROR;
    int32_t len16 = 0;
    grow_u16(&n->u16, &n->u16_cap, (int32_t)doc->text.len + 1);
    u_strFromUTF8(n->u16, n->u16_cap, &len16, doc->text.data, (int32_t)doc->text.len, &st);
    if (U_FAILURE(st)) return -1;
    int32_t ok = unorm2_spanQuickCheckYes(norm, n->u16, len16, &st);
    if (U_FAILURE(st)) return -1;
    if (ok == len16) return 0; /* already normalized: the common case */
    int32_t out_len;
    for (;;) {
        st = U_ZERO_ERROR;
        grow_u16(&n->u16_out, &n->u16_out_cap, len16 + 16);
        memcpy(n->u16_out, n->u16, (size_t)ok * sizeof(UChar));
        out_len = unorm2_normalizeSecondAndAppend(norm, n->u16_out, ok, n->u16_out_cap, n->u16 + ok, len16 - ok, &st);
        if (st == U_BUFFER_OVERFLOW_ERROR) {
            grow_u16(&n->u16_out, &n->u16_out_cap, out_len + 16);
            continue;
        }
        if (U_FAILURE(st)) return -1;
        break;
    }
    cm_buf_clear(&doc->scratch);
    cm_buf_reserve(&doc->scratch, (size_t)out_len * 3 + 4);
    int32_t len8 = 0;
    st = U_ZERO_ERROR;
    u_strToUTF8(doc->scratch.data, (int32_t)(doc->scratch.cap - 1), &len8, n->u16_out, out_len, &st);
    if (U_FAILURE(st)) return -1;
    doc->scratch.len = (size_t)len8;
    doc->scratch.data[len8] = 0;
    if (doc->scratch.len != doc->text.len || memcmp(doc->scratch.data, doc->text.data, doc->text.len) != 0)
        cm_doc_swap_text(doc);
    return 0;
}

/* Characters that become a line break / are removed by the cleanup. */
static inline int is_newline_cp(uint32_t cp) { return cp == 0x85 || cp == 0x2028 || cp == 0x2029; }
static inline int is_removed_cp(uint32_t cp)
{
    return (cp >= 0x80 && cp < 0xA0) || cp == 0xFEFF || cp == 0x200B || cp == 0x2060;
}

/* One pass over the text: see the policy at the top of the file. */
static void cleanup(normalize *n, cm_doc *doc)
{
    const char *s = doc->text.data;
    size_t len = doc->text.len;
    cm_buf *out = &doc->scratch;
    cm_buf_clear(out);
    cm_buf_reserve(out, len);
    char *o = out->data;
    size_t olen = 0;
    size_t pending_nl = 0;        /* line breaks not yet written */
    size_t ws_start = 0, ws_len = 0; /* pending run of spaces/tabs in the input */
    int ws_has_space = 0;
    int at_line_start = 1;
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)s[i];
        uint32_t cp;
        size_t k = 1;
        if (c < 0x80) cp = c;
        else {
            k = cm_utf8_seq_len((const unsigned char *)s + i, len - i);
            if (!k) { i++; continue; } /* cannot happen: text is valid UTF-8 */
            cp = cm_utf8_decode((const unsigned char *)s + i, k);
        }
        if (cp == '\r') {
            if (i + 1 < len && s[i + 1] == '\n') { i++; continue; }
            cp = '\n';
        }
        if (cp == '\n' || is_newline_cp(cp)) {
            ws_len = 0; /* trailing spaces of the line go */
            pending_nl++;
            at_line_start = 1;
            i += k;
            continue;
        }
        if (cp == ' ' || cp == '\t') {
            if (ws_len == 0) { ws_start = i; ws_has_space = 0; }
            ws_len += 1;
            if (cp == ' ') ws_has_space = 1;
            i += 1;
            continue;
        }
        if (cp < 0x20 || cp == 0x7F || is_removed_cp(cp)) { i += k; continue; }
        /* a visible character: write what was pending before it */
        if (pending_nl) {
            if (olen > 0) {
                size_t nl = pending_nl;
                if (n->collapse_blank_lines && nl > 2) nl = 2;
                memset(o + olen, '\n', nl);
                olen += nl;
            }
            pending_nl = 0;
        }
        if (ws_len) {
            if (at_line_start) {
                if (olen > 0) { memcpy(o + olen, s + ws_start, ws_len); olen += ws_len; }
            } else if (n->collapse_spaces && ws_has_space) {
                o[olen++] = ' ';
            } else {
                memcpy(o + olen, s + ws_start, ws_len);
                olen += ws_len;
            }
            ws_len = 0;
        }
        at_line_start = 0;
        memcpy(o + olen, s + i, k);
        olen += k;
        i += k;
    }
    /* Output never exceeds input except for the \n written per pending run,
     * which replaces at least as many input bytes. */
    out->len = olen;
    out->data[olen] = 0;
    if (olen != len || memcmp(o, s, len) != 0) cm_doc_swap_text(doc);
}

static cm_verdict apply(void *self, cm_doc *doc)
{
    normalize *n = self;
    unicode_normalize(n, doc);
    cleanup(n, doc);
    if (n->drop_empty && doc->text.len == 0) {
        doc->drop_rule = "empty";
        return CM_DROP;
    }
    return CM_KEEP;
}

const cm_filter cm_filter_normalize = {
    .name = "normalize",
    .summary = "Unicode normalization (ICU NFKC, Chinese punctuation kept) and whitespace/control cleanup",
    .defaults = DEFAULTS,
    .create = create,
    .apply = apply,
    .destroy = destroy,
};
