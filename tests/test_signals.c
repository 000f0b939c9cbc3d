/* test_signals.c -- every quality signal on small texts computed by hand,
 * in English, Chinese and mixed text, with both word units. */
#include "check.h"
#include "signals.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static cm_doc doc;
static cm_signal_opts opts;

static const cm_signal_values *sig(const char *text)
{
    cm_doc_reset(&doc);
    cm_buf_append_str(&doc.text, text);
    return cm_signals_get(&doc);
}

#define NEAR(a, b) (fabs((a) - (b)) < 1e-3)
#define CHECK_NEAR(got, want)                                                                               \
    do {                                                                                                    \
        double g_ = (got), w_ = (want);                                                                     \
        if (!NEAR(g_, w_)) {                                                                                \
            fprintf(stderr, "%s:%d: %s = %g, want %g\n", __FILE__, __LINE__, #got, g_, w_);                 \
            check_failures++;                                                                               \
        }                                                                                                   \
    } while (0)

/* The tests' random texts: a 64-bit LCG (Knuth's MMIX constants), and n
 * pieces drawn from the first `use` of a list. */
static uint64_t next(uint64_t *rng) { return *rng = *rng * 6364136223846793005ULL + 1442695040888963407ULL; }

static void append_pieces(cm_buf *b, uint64_t *rng, const char *const *pieces, size_t use, size_t n)
{
    for (size_t i = 0; i < n; i++) cm_buf_append_str(b, pieces[(next(rng) >> 33) % use]);
}

/* ---- the repetition signals against datatrove's definition, computed the
 * slow way: every window compared token by token ---- */

static int same_gram(const char *s, const cm_token *t, size_t a, size_t b, int n)
{
    for (int j = 0; j < n; j++) {
        const cm_token *x = &t[a + (size_t)j], *y = &t[b + (size_t)j];
        if (x->len != y->len || memcmp(s + x->start, s + y->start, x->len)) return 0;
    }
    return 1;
}

/* top_{2,3,4}gram_frac and dup_{5..10}gram_frac of the document's tokens */
static void reference_repetition(cm_doc *d, double top[3], double dup[6])
{
    size_t n_tok;
    const cm_token *t = cm_signals_tokens(d, &n_tok);
    const char *s = d->text.data;
    double dchars = cm_signals_basic(d)->chars;
    if (dchars == 0) dchars = 1;
    for (int k = 0; k < 3; k++) top[k] = 0;
    for (int k = 0; k < 6; k++) dup[k] = 0;
    for (int n = 2; n <= 4 && n_tok >= (size_t)n; n++) {
        size_t best = 0, best_at = 0;
        for (size_t i = 0; i + (size_t)n <= n_tok; i++) {
            size_t c = 1; /* the running count of window i's n-gram, as the pass sees it */
            for (size_t j = 0; j < i; j++) c += same_gram(s, t, i, j, n);
            if (c > best) { best = c; best_at = i; }
        }
        if (best < 2) break;
        size_t gram_chars = (size_t)n - 1;
        for (int j = 0; j < n; j++) gram_chars += t[best_at + (size_t)j].chars;
        top[n - 2] = (double)(gram_chars * best) / dchars;
    }
    size_t *seen = malloc((n_tok + 1) * sizeof *seen);
    for (int n = 5; n <= 10 && n_tok >= (size_t)n; n++) {
        size_t n_seen = 0, repeated = 0;
        for (size_t i = 0; i + (size_t)n <= n_tok;) {
            int hit = 0;
            for (size_t j = 0; j < n_seen && !hit; j++) hit = same_gram(s, t, i, seen[j], n);
            if (hit) {
                for (int j = 0; j < n; j++) repeated += t[i + (size_t)j].chars;
                i += (size_t)n;
            } else {
                seen[n_seen++] = i;
                i++;
            }
        }
        dup[n - 5] = (double)repeated / dchars;
        if (!repeated) break;
    }
    free(seen);
}

/* Generated documents of a few words and characters, so that n-grams of
 * every length repeat, overlap and get skipped over. */
static void check_repetition_against_reference(void)
{
    static const char *const words[] = {"the", "cat", "sat", "on", "mat", "。", "我们", "的", "茶", ",", "a"};
    uint64_t rng = 0x9E3779B97F4A7C15ULL;
    int differ = 0;
    for (int round = 0; round < 400; round++) {
        cm_doc_reset(&doc);
        uint64_t r = next(&rng);
        size_t vocab = 2 + (r >> 33) % 9, len = (r >> 45) % 300;
        for (size_t i = 0; i < len; i++) {
            r = next(&rng);
            cm_buf_append_str(&doc.text, words[(r >> 33) % vocab]);
            cm_buf_append_char(&doc.text, (r >> 50) % 7 ? ' ' : '\n');
        }
        double top[3], dup[6];
        reference_repetition(&doc, top, dup);
        const cm_signal_values *v = cm_signals_get(&doc);
        const double got_top[3] = {v->top_2gram_frac, v->top_3gram_frac, v->top_4gram_frac};
        const double got_dup[6] = {v->dup_5gram_frac, v->dup_6gram_frac, v->dup_7gram_frac,
                                   v->dup_8gram_frac, v->dup_9gram_frac, v->dup_10gram_frac};
        for (int k = 0; k < 3; k++) differ += got_top[k] != top[k];
        for (int k = 0; k < 6; k++) differ += got_dup[k] != dup[k];
        if (differ && differ < 3) fprintf(stderr, "repetition differs from the reference in round %d\n", round);
    }
    CHECK(differ == 0);
}

/* ---- the boilerplate phrases (one multi-pattern scan in signals.c)
 * against a search per phrase and per line, on texts made of phrases,
 * their first bytes and filler, so that matches fall on every offset of
 * the scan's 16-byte blocks and at the very end ---- */

static const char *const POLICY_REF[] = {"terms of use", "privacy policy", "cookie policy", "uses cookies",
                                         "use of cookies", "use cookies", "隐私政策", "使用条款", "服务条款",
                                         "免责声明", NULL};

static int line_has(const char *low, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (!memcmp(low + i, needle, k)) return 1;
    return 0;
}

static void check_phrases_against_reference(void)
{
    static const char *const pieces[] = {"lorem ipsum", "Lorem Ipsum", "javascript", "JavaScript", "cookie", "Cookie Policy",
                                         "privacy policy", "terms of use", "use cookies", "隐私政策", "使用条款", "服务条款",
                                         "免责声明", "条款", "jav", "coo", "lor", "pri", "ter", "ipsum", "隐私", "条",
                                         "x", "文字", "ab", " ", " ", "\n", "\n"};
    const size_t n_pieces = sizeof pieces / sizeof *pieces;
    uint64_t rng = 0x2545F4914F6CDD1DULL;
    int differ = 0;
    for (int round = 0; round < 600; round++) {
        cm_doc_reset(&doc);
        size_t len = (next(&rng) >> 40) % 60;
        append_pieces(&doc.text, &rng, pieces, n_pieces, len);
        cm_buf low;
        cm_buf_init(&low);
        cm_buf_append(&low, doc.text.data, doc.text.len);
        for (size_t i = 0; i < low.len; i++)
            if (low.data[i] >= 'A' && low.data[i] <= 'Z') low.data[i] = (char)(low.data[i] + 32);
        double lorem = 0, js = 0, pol = 0;
        for (const char *p = low.data; (p = strstr(p, "lorem ipsum")); p += 11) lorem++;
        for (size_t i = 0; i < low.len;) {
            const char *nl = memchr(low.data + i, '\n', low.len - i);
            size_t e = nl ? (size_t)(nl - low.data) : low.len;
            int blank = 1;
            for (size_t j = i; j < e && blank; j++) blank = low.data[j] == ' ' || low.data[j] == '\t';
            if (!blank) {
                js += line_has(low.data + i, e - i, "javascript");
                int any = 0;
                for (int k = 0; POLICY_REF[k] && !any; k++) any = line_has(low.data + i, e - i, POLICY_REF[k]);
                pol += any;
            }
            i = e + 1;
        }
        const cm_signal_values *v = cm_signals_get(&doc);
        int bad = v->lorem_ipsum != lorem || v->javascript_lines != js || v->policy_lines != pol;
        if (bad && differ < 3)
            fprintf(stderr, "phrases differ in round %d: lorem %g/%g js %g/%g policy %g/%g\n", round, v->lorem_ipsum, lorem,
                    v->javascript_lines, js, v->policy_lines, pol);
        differ += bad;
        cm_buf_free(&low);
    }
    CHECK(differ == 0);
}

/* ---- character counts against a code point at a time through ICU, on
 * texts whose ASCII runs start and end at every offset of a 16-byte block
 * (the counting takes all-ASCII blocks whole) ---- */
static void check_character_counts_against_reference(void)
{
    static const char *const pieces[] = {"a", "Z", "7", " ", "\t", "\n", "word ", "ABC12", "漢", "字", "。", "Ａ", "５",
                                         "\xE3\x80\x80" /* ideographic space */, "é", "Ω", "\xF0\x9F\x98\x80", "٣"};
    const size_t n_pieces = sizeof pieces / sizeof *pieces;
    uint64_t rng = 0x9E3779B97F4A7C15ULL;
    int differ = 0;
    for (int round = 0; round < 400; round++) {
        cm_doc_reset(&doc);
        /* every tenth text long and ASCII: more blocks than a byte counter holds */
        int ascii_only = round % 10 == 0;
        uint64_t r = next(&rng);
        size_t len = ascii_only ? 2500 + (r >> 40) % 2500 : (r >> 40) % 90;
        append_pieces(&doc.text, &rng, pieces, ascii_only ? 7 : n_pieces, len);
        double chars = 0, digits = 0, upper = 0, spaces = 0;
        const unsigned char *t = (const unsigned char *)doc.text.data;
        for (size_t i = 0; i < doc.text.len;) {
            size_t k = cm_utf8_seq_len(t + i, doc.text.len - i);
            uint32_t c = cm_utf8_decode(t + i, k);
            chars++;
            digits += u_isdigit((UChar32)c) != 0;
            upper += u_isupper((UChar32)c) != 0;
            spaces += c == ' ' || c == '\t' || c == '\n' || (c >= 0x80 && u_isUWhiteSpace((UChar32)c));
            i += k;
        }
        const cm_signal_values *v = cm_signals_basic(&doc);
        double n = chars ? chars : 1;
        int bad = v->chars != chars || v->digit_frac != (chars ? digits / n : 0) ||
                  v->upper_frac != (chars ? upper / n : 0) || v->whitespace_frac != (chars ? spaces / n : 0);
        if (bad && differ < 3)
            fprintf(stderr, "character counts differ in round %d: chars %g/%g digit %g/%g upper %g/%g space %g/%g\n", round,
                    v->chars, chars, v->digit_frac, digits / n, v->upper_frac, upper / n, v->whitespace_frac, spaces / n);
        differ += bad;
    }
    CHECK(differ == 0);
    /* one class in every byte of many blocks in a row */
    cm_doc_reset(&doc);
    for (int i = 0; i < 5000; i++) cm_buf_append_char(&doc.text, '7');
    for (int i = 0; i < 5000; i++) cm_buf_append_char(&doc.text, i % 2 ? 'Q' : '\n');
    const cm_signal_values *v = cm_signals_basic(&doc);
    CHECK(v->chars == 10000 && v->digit_frac == 0.5 && v->upper_frac == 0.25 && v->whitespace_frac == 0.25);
}

/* ---- every token's key is the hash of its bytes with ASCII lowercased, on
 * words of every length around the 8-byte short path and every case ---- */
static void check_token_keys(void)
{
    static const char *const pieces[] = {"A", "z", "Q", "Z", "@", "[", "`", "{", "_", "7", "é", "É", "Ω", "漢", "'", "-",
                                         " ", " ", " ", " ", " "};
    uint64_t rng = 0x5851F42D4C957F2DULL;
    int differ = 0;
    size_t checked = 0;
    for (int round = 0; round < 300; round++) {
        cm_doc_reset(&doc);
        size_t len = (next(&rng) >> 40) % 80;
        append_pieces(&doc.text, &rng, pieces, sizeof pieces / sizeof *pieces, len);
        size_t n;
        const cm_token *t = cm_signals_tokens(&doc, &n);
        for (size_t i = 0; i < n; i++) {
            if (t[i].is_cjk || t[i].len > 64) continue;
            char low[64];
            for (uint32_t j = 0; j < t[i].len; j++) {
                char c = doc.text.data[t[i].start + j];
                low[j] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
            }
            checked++;
            int bad = t[i].key != cm_hash_bytes(low, t[i].len) ||
                      t[i].hash != cm_hash_bytes(doc.text.data + t[i].start, t[i].len);
            if (bad && differ < 3) fprintf(stderr, "token key differs: \"%.*s\"\n", (int)t[i].len, doc.text.data + t[i].start);
            differ += bad;
        }
    }
    CHECK(checked > 3000);
    CHECK(differ == 0);
}

/* ---- a text made of kept lines (as c4 rewrites one): the tokens taken
 * from the previous text and the signals computed on them are those of the
 * new text tokenized afresh ---- */
static void check_kept_lines_against_fresh(void)
{
    static const char *const pieces[] = {"word", "Well-known", "3,000", "U.S.", "it's", "漢字", "。", "\n", "\n", "\n",
                                         "  ", "\t", "...", "!!", "https://x.org/a", "é", "かな", "한국", "[1]", "-", ",",
                                         "'", "ab.cd", "A"};
    const size_t n_pieces = sizeof pieces / sizeof *pieces;
    cm_doc fresh;
    cm_doc_init(&fresh);
    cm_signals_setup(&fresh, &opts);
    uint64_t rng = 0xD1B54A32D192ED03ULL;
    int differ = 0, carried = 0;
    for (int round = 0; round < 400; round++) {
        cm_doc_reset(&doc);
        size_t len = (next(&rng) >> 40) % 80;
        append_pieces(&doc.text, &rng, pieces, n_pieces, len);
        size_t n_tok;
        cm_signals_tokens(&doc, &n_tok); /* the previous text's tokens */
        /* keep about two lines in three, rewrite one in five of those */
        cm_kept_line kept[128];
        size_t n_kept = 0;
        cm_buf *out = &doc.scratch;
        cm_buf_clear(out);
        const char *t = doc.text.data;
        for (size_t i = 0; i <= doc.text.len && n_kept < 128;) {
            const char *nl = memchr(t + i, '\n', doc.text.len - i);
            size_t e = nl ? (size_t)(nl - t) : doc.text.len;
            unsigned r = (unsigned)(next(&rng) >> 33) % 15;
            if (r < 10) {
                if (out->len) cm_buf_append_char(out, '\n');
                if (r < 2) {
                    kept[n_kept++] = (cm_kept_line){(uint32_t)out->len, 7, CM_LINE_REWRITTEN};
                    cm_buf_append_str(out, "new 新 x");
                    kept[n_kept - 1].len = (uint32_t)strlen("new 新 x");
                } else {
                    kept[n_kept++] = (cm_kept_line){(uint32_t)out->len, (uint32_t)(e - i), (uint32_t)i};
                    cm_buf_append(out, t + i, e - i);
                }
            }
            if (!nl) break;
            i = e + 1;
        }
        if (!out->data) cm_buf_append(out, "", 0);
        cm_doc_swap_text(&doc);
        cm_signals_text_from_lines(&doc, kept, n_kept);
        carried += n_kept > 0;
        cm_doc_reset(&fresh);
        cm_buf_append(&fresh.text, doc.text.data, doc.text.len);
        const cm_signal_values *a = cm_signals_get(&doc), *b = cm_signals_get(&fresh);
        size_t na, nb;
        const cm_token *ta = cm_signals_tokens(&doc, &na), *tb = cm_signals_tokens(&fresh, &nb);
        int bad = na != nb;
        for (size_t i = 0; !bad && i < na; i++)
            bad = ta[i].start != tb[i].start || ta[i].len != tb[i].len || ta[i].chars != tb[i].chars ||
                  ta[i].is_word != tb[i].is_word || ta[i].has_alpha != tb[i].has_alpha || ta[i].is_cjk != tb[i].is_cjk ||
                  ta[i].hash != tb[i].hash || ta[i].key != tb[i].key;
        for (int k = 0; !bad && cm_signal_defs[k].name; k++) bad = cm_signal_value(a, k) != cm_signal_value(b, k);
        if (bad && differ < 3) fprintf(stderr, "kept lines: tokens or signals differ from a fresh count in round %d\n", round);
        differ += bad;
    }
    cm_doc_free(&fresh);
    CHECK(carried > 200);
    CHECK(differ == 0);
}

int main(void)
{
    cm_doc_init(&doc);
    cm_signal_opts_default(&opts);
    cm_signals_setup(&doc, &opts);
    const cm_signal_values *v;

    /* English: tokens are words and punctuation runs */
    v = sig("Hello world. Hello world.");
    CHECK_NEAR(v->chars, 25);
    CHECK_NEAR(v->tokens, 6);
    CHECK_NEAR(v->words, 4);
    CHECK_NEAR(v->mean_word_length, 5);
    CHECK_NEAR(v->sentences, 2);
    CHECK_NEAR(v->lines, 1);
    CHECK_NEAR(v->paragraphs, 1);
    CHECK_NEAR(v->terminal_punct_lines_frac, 1);
    CHECK_NEAR(v->alpha_words_frac, 4.0 / 6);
    CHECK_NEAR(v->unique_words_frac, 0.5);
    CHECK_NEAR(v->unigram_entropy, log(2));
    CHECK_NEAR(v->top_2gram_frac, 22.0 / 25); /* "Hello world" (11 chars) twice */
    CHECK_NEAR(v->dup_5gram_frac, 0);
    CHECK_NEAR(v->upper_frac, 2.0 / 25);
    CHECK_NEAR(v->whitespace_frac, 3.0 / 25);
    CHECK(v->cjk == 0);

    /* stop words in lowercase, and Gopher's symbols */
    v = sig("The cat and THE dog # # ... fine…");
    CHECK_NEAR(v->words, 6);
    CHECK_NEAR(v->stop_words, 3); /* The, and, THE */
    CHECK_NEAR(v->stop_words_frac, 0.5);
    CHECK_NEAR(v->hash_word_ratio, 2.0 / v->tokens);
    CHECK_NEAR(v->ellipsis_word_ratio, 2.0 / v->tokens);

    /* Chinese, one word per character */
    v = sig("我们的茶很好。我们的茶很好。");
    CHECK_NEAR(v->chars, 14);
    CHECK_NEAR(v->tokens, 14);
    CHECK_NEAR(v->words, 12);
    CHECK(v->cjk == 1);
    CHECK_NEAR(v->cjk_frac, 1);
    CHECK_NEAR(v->mean_word_length, 1);
    CHECK_NEAR(v->stop_words, 6); /* 我 们 的, twice */
    CHECK_NEAR(v->sentences, 2);
    CHECK_NEAR(v->terminal_punct_lines_frac, 1);
    CHECK_NEAR(v->dup_5gram_frac, 5.0 / 14); /* the second 我们的茶很 */
    CHECK_NEAR(v->alpha_words_frac, 12.0 / 14);

    /* CJK line ends, full-width and as NFKC would have left them */
    v = sig("第一行。\n第二行！\n第三行？\n第四行…\n「第五行」\n第六行!\n第七行?\n第八行...\n没有标点");
    CHECK_NEAR(v->lines, 9);
    CHECK_NEAR(v->terminal_punct_lines_frac, 8.0 / 9);
    CHECK_NEAR(v->ellipsis_lines_frac, 2.0 / 9);
    CHECK_NEAR(v->short_lines_frac, 1); /* all at most 10 characters in a CJK document */

    /* lines, bullets, ellipses, paragraphs */
    v = sig("a\n\n- item one\n- item two\nEnd...");
    CHECK_NEAR(v->lines, 4);
    CHECK_NEAR(v->paragraphs, 2);
    CHECK_NEAR(v->bullet_lines_frac, 0.5);
    CHECK_NEAR(v->ellipsis_lines_frac, 0.25);
    CHECK_NEAR(v->terminal_punct_lines_frac, 0.25);
    CHECK_NEAR(v->short_lines_frac, 1);
    v = sig("• one\n● two\n* three\nfour");
    CHECK_NEAR(v->bullet_lines_frac, 0.75);

    /* duplicate lines and paragraphs, by count and by characters */
    v = sig("x y z\nx y z\nabc");
    CHECK_NEAR(v->dup_line_frac, 1.0 / 3);
    CHECK_NEAR(v->dup_line_char_frac, 5.0 / 15);
    CHECK_NEAR(v->dup_line_char_frac_fw, 5.0 / 13);
    CHECK_NEAR(v->newline_word_ratio, 2.0 / 7);
    v = sig("para one\n\npara two\n\npara one");
    CHECK_NEAR(v->paragraphs, 3);
    CHECK_NEAR(v->dup_para_frac, 1.0 / 3);
    CHECK_NEAR(v->dup_para_char_frac, 8.0 / 28);

    /* URLs, digits, brackets, boilerplate phrases */
    v = sig("see https://example.com/a now 12");
    CHECK_NEAR(v->url_frac, 21.0 / 32);
    CHECK_NEAR(v->digit_frac, 2.0 / 32);
    v = sig("Lorem ipsum dolor {x}\nPlease enable JavaScript\nRead our Privacy Policy.\n本站隐私政策");
    CHECK_NEAR(v->lorem_ipsum, 1);
    CHECK_NEAR(v->curly_brackets, 1);
    CHECK_NEAR(v->javascript_lines, 1);
    CHECK_NEAR(v->policy_lines, 2);

    /* mixed: Chinese characters and English words; the dominant script by words */
    v = sig("数据 cleaning 很重要");
    CHECK_NEAR(v->words, 6);
    CHECK_NEAR(v->cjk_frac, 5.0 / 6);
    CHECK(v->cjk == 1);
    v = sig("We clean 数据 for training large language models today");
    CHECK_NEAR(v->cjk_frac, 2.0 / 10);
    CHECK(v->cjk == 0);

    /* UAX #29 joiners: apostrophes, decimal points, abbreviations */
    v = sig("Don't stop: it's 3.14, e.g. fine 3,000.");
    CHECK_NEAR(v->words, 7);
    size_t n;
    const cm_token *t = cm_signals_tokens(&doc, &n);
    CHECK(n > 0 && t[0].len == 5 && t[0].is_word);

    /* ICU word units agree on English, and segment Chinese into words */
    opts.word_units = CM_WORDS_ICU;
    v = sig("Don't stop: it's 3.14, e.g. fine 3,000.");
    CHECK_NEAR(v->words, 7);
    v = sig("书生浦语大模型全链路开源体系");
    CHECK_NEAR(v->words, 11); /* 书生/浦/语/大/模型/全/链/路/开/源/体系 */
    CHECK(v->cjk == 1);
    /* characters outside the BMP (UTF-16 surrogate pairs inside ICU) keep their offsets */
    v = sig("smile \U0001F600 ok 𠀀字 done");
    size_t nt;
    const cm_token *tk = cm_signals_tokens(&doc, &nt);
    CHECK(nt >= 4);
    CHECK(nt >= 1 && tk[nt - 1].len == 4 && memcmp(doc.text.data + tk[nt - 1].start, "done", 4) == 0);
    opts.word_units = CM_WORDS_FAST;
    v = sig("书生浦语大模型全链路开源体系");
    CHECK_NEAR(v->words, 14);

    /* cached until the text changes */
    v = sig("one two three");
    CHECK_NEAR(v->words, 3);
    cm_buf_clear(&doc.scratch);
    cm_buf_append_str(&doc.scratch, "one two");
    cm_doc_swap_text(&doc);
    CHECK_NEAR(cm_signals_get(&doc)->words, 2);

    /* extras and the JSON form */
    cm_signals_set_extra(&doc, "pii_email", 2);
    CHECK_NEAR(cm_signals_get_extra(&doc, "pii_email"), 2);
    CHECK_NEAR(cm_signals_get_extra(&doc, "nope"), -1);
    cm_buf js;
    cm_buf_init(&js);
    cm_signals_json(&doc, &js);
    CHECK_CONTAINS(js.data, "\"signals\":{\"chars\":7,\"words\":2,");
    CHECK_CONTAINS(js.data, "\"pii_email\":2}");
    cm_buf_free(&js);
    CHECK(cm_signal_lookup("dup_line_frac") >= 0);
    CHECK(cm_signal_lookup("no_such_signal") == -1);

    check_repetition_against_reference();
    check_phrases_against_reference();
    check_character_counts_against_reference();
    check_kept_lines_against_fresh();
    check_token_keys();

    /* empty text */
    v = sig("");
    CHECK_NEAR(v->words, 0);
    CHECK_NEAR(v->lines, 0);

    cm_doc_free(&doc);
    CHECK_DONE();
}
