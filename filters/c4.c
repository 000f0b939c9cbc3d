/* c4.c -- the C4 rules (Raffel et al. 2020, section 2.2; datatrove
 * C4QualityFilter defaults), made right for Chinese: terminal punctuation
 * includes the CJK marks 。！？…」 (and ! ? as NFKC leaves them), and a CJK
 * line's words are its characters.
 *
 * Line-level (lines are removed, the document is kept): citation markers
 * [1] [edit] [citation needed] are cut out; lines without terminal
 * punctuation (`terminal_punct: false` turns this off, as FineWeb ran C4);
 * lines with fewer than min_words_per_line words; lines with a word longer
 * than max_word_length; lines mentioning javascript; lines with a cookie or
 * policy phrase. The count goes to the signal c4_lines_removed.
 * Document-level reasons: c4:lorem_ipsum, c4:curly_bracket,
 * c4:too_few_sentences (after line removal), c4:empty (every line removed). */
#include "filter.h"
#include "signals.h"

#include <stdlib.h>
#include <string.h>

static const char DEFAULTS[] =
    "c4:                            # datatrove C4QualityFilter defaults (C4, Raffel et al. 2020)\n"
    "  remove_citations: true\n"
    "  terminal_punct: true         # drop lines without terminal punctuation (FineWeb: false)\n"
    "  min_words_per_line: 3\n"
    "  max_word_length: 1000\n"
    "  javascript: true\n"
    "  policy: true\n"
    "  lorem_ipsum: true\n"
    "  curly_bracket: true\n"
    "  min_sentences: 5\n"
    "  cjk:                         # documents that are mostly CJK (calibrated)\n"
    "    min_words_per_line: 3\n"
    "    min_sentences: 2\n";

typedef struct c4 {
    int remove_citations, terminal_punct, javascript, policy, lorem, curly;
    long min_words_line, max_word_len, min_sentences;
    long cjk_min_words_line, cjk_min_sentences;
    cm_buf line; /* one line, citations cut out */
    cm_kept_line *kept; /* where each line of the new text came from */
    size_t cap_kept;
} c4;

static void destroy(void *self)
{
    c4 *c = self;
    if (!c) return;
    cm_buf_free(&c->line);
    free(c->kept);
    free(c);
}

static void *create(const cm_conf *opt, cm_err *err)
{
    static const char *const known[] = {"remove_citations", "terminal_punct", "min_words_per_line", "max_word_length",
                                        "javascript", "policy", "lorem_ipsum", "curly_bracket", "min_sentences", "cjk",
                                        NULL};
    static const char *const known_cjk[] = {"min_words_per_line", "min_sentences", NULL};
    c4 *c = cm_calloc(1, sizeof *c);
    c->remove_citations = c->terminal_punct = c->javascript = c->policy = c->lorem = c->curly = 1;
    c->min_words_line = 3;
    c->max_word_len = 1000;
    c->min_sentences = 5;
    c->cjk_min_words_line = 3;
    c->cjk_min_sentences = 2;
    const cm_conf *cjk = cm_conf_get(opt, "cjk");
    if (cm_conf_check_keys(opt, "filter c4", known, err) || cm_conf_check_keys(cjk, "filter c4.cjk", known_cjk, err) ||
        cm_conf_bool(opt, "remove_citations", &c->remove_citations, err) ||
        cm_conf_bool(opt, "terminal_punct", &c->terminal_punct, err) ||
        cm_conf_int(opt, "min_words_per_line", 0, 1000000, &c->min_words_line, err) ||
        cm_conf_int(opt, "max_word_length", 0, 100000000, &c->max_word_len, err) ||
        cm_conf_bool(opt, "javascript", &c->javascript, err) || cm_conf_bool(opt, "policy", &c->policy, err) ||
        cm_conf_bool(opt, "lorem_ipsum", &c->lorem, err) || cm_conf_bool(opt, "curly_bracket", &c->curly, err) ||
        cm_conf_int(opt, "min_sentences", 0, 1000000, &c->min_sentences, err) ||
        cm_conf_int(cjk, "min_words_per_line", 0, 1000000, &c->cjk_min_words_line, err) ||
        cm_conf_int(cjk, "min_sentences", 0, 1000000, &c->cjk_min_sentences, err)) {
        destroy(c);
        return NULL;
    }
    return c;
}

/* Copies line to out without citation markers: [digits], [edit], [citation needed]. */
static void cut_citations(const char *s, size_t n, cm_buf *out)
{
    cm_buf_clear(out);
    size_t i = 0;
    while (i < n) {
        if (s[i] == '[') {
            size_t j = i + 1;
            while (j < n && s[j] >= '0' && s[j] <= '9') j++;
            size_t skip = 0;
            if (j > i + 1 && j < n && s[j] == ']') skip = j + 1 - i;
            else if (n - i >= 6 && memcmp(s + i, "[edit]", 6) == 0) skip = 6;
            else if (n - i >= 17 && memcmp(s + i, "[citation needed]", 17) == 0) skip = 17;
            if (skip) { i += skip; continue; }
        }
        cm_buf_append_char(out, s[i++]);
    }
    if (!out->data) cm_buf_append(out, "", 0);
}

static int contains_ci(const char *s, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++) {
        size_t j = 0;
        while (j < k) {
            char c = s[i + j];
            if (c >= 'A' && c <= 'Z') c = (char)(c + 32);
            if (c != needle[j]) break;
            j++;
        }
        if (j == k) return 1;
    }
    return 0;
}

static const char *const POLICY[] = {"terms of use", "privacy policy", "cookie policy", "uses cookies",
                                     "use of cookies", "use cookies", "隐私政策", "使用条款", NULL};

static cm_verdict apply(void *self, cm_doc *doc)
{
    c4 *c = self;
    const cm_signal_values *v = cm_signals_basic(doc);
    int cjk = (int)v->cjk;
    if (c->lorem && v->lorem_ipsum > 0) { doc->drop_rule = "lorem_ipsum"; return CM_DROP; }
    if (c->curly && v->curly_brackets > 0) { doc->drop_rule = "curly_bracket"; return CM_DROP; }
    long min_words = cjk ? c->cjk_min_words_line : c->min_words_line;
    long min_sent = cjk ? c->cjk_min_sentences : c->min_sentences;

    size_t n_tok;
    const cm_token *tok = cm_signals_tokens(doc, &n_tok);
    const char *s = doc->text.data;
    size_t len = doc->text.len;
    cm_buf *out = &doc->scratch;
    cm_buf_clear(out);
    size_t removed = 0, kept_lines = 0, ti = 0;
    /* the signals say whether any line has these phrases at all */
    int look_js = c->javascript && v->javascript_lines > 0;
    int look_policy = c->policy && v->policy_lines > 0;
    for (size_t i = 0; i <= len && len;) {
        const char *nl = memchr(s + i, '\n', len - i);
        size_t e = nl ? (size_t)(nl - s) : len;
        /* words of this line (tokens are in text order) and the longest */
        long words = 0;
        uint32_t longest = 0;
        while (ti < n_tok && tok[ti].start < e) {
            if (tok[ti].start >= i && tok[ti].is_word) {
                words++;
                if (tok[ti].chars > longest) longest = tok[ti].chars;
            }
            ti++;
        }
        int blank = 1;
        for (size_t j = i; j < e && blank; j++) blank = s[j] == ' ' || s[j] == '\t';
        if (!blank) {
            const char *line = s + i;
            size_t ln = e - i;
            if (c->remove_citations && memchr(line, '[', ln)) {
                cut_citations(line, ln, &c->line);
                line = c->line.data;
                ln = c->line.len;
            }
            int drop = (c->terminal_punct && !cm_line_ends_terminal(line, ln)) || (min_words && words < min_words) ||
                       (c->max_word_len && longest > (uint32_t)c->max_word_len) ||
                       (look_js && contains_ci(line, ln, "javascript"));
            for (int k = 0; look_policy && !drop && POLICY[k]; k++) drop = contains_ci(line, ln, POLICY[k]);
            if (drop) removed++;
            else {
                if (out->len) cm_buf_append_char(out, '\n');
                if (kept_lines == c->cap_kept) {
                    c->cap_kept = c->cap_kept ? 2 * c->cap_kept : 256;
                    c->kept = cm_realloc(c->kept, c->cap_kept * sizeof *c->kept);
                }
                c->kept[kept_lines] = (cm_kept_line){(uint32_t)out->len, (uint32_t)ln,
                                                     line == s + i ? (uint32_t)i : CM_LINE_REWRITTEN};
                cm_buf_append(out, line, ln);
                kept_lines++;
            }
        }
        if (!nl) break;
        i = e + 1;
    }
    if (kept_lines == 0) {
        cm_buf_clear(out);
        doc->drop_rule = "empty";
        return CM_DROP;
    }
    if (removed || out->len != len) {
        cm_doc_swap_text(doc);
        cm_signals_text_from_lines(doc, c->kept, kept_lines);
        cm_signals_set_extra(doc, "c4_lines_removed", (double)removed);
    }
    if (min_sent && cm_signals_basic(doc)->sentences < (double)min_sent) {
        doc->drop_rule = "too_few_sentences";
        return CM_DROP;
    }
    return CM_KEEP;
}

const cm_filter cm_filter_c4 = {
    .name = "c4",
    .summary = "C4 rules: lines without terminal punctuation (CJK-aware), javascript/policy lines, lorem ipsum, {",
    .defaults = DEFAULTS,
    .create = create,
    .apply = apply,
    .destroy = destroy,
};
