/* gopher_quality.c -- Gopher's quality rules (Rae et al. 2021, "Scaling
 * Language Models", appendix A.1.1), with datatrove's GopherQualityFilter
 * defaults for space-delimited text, and thresholds calibrated for documents
 * that are mostly CJK (`cjk:` block), where a word is one character.
 *
 * Rules and reasons (gopher_quality:RULE):
 *   min_words / max_words          words (punctuation runs excluded)
 *   mean_word_length_low / _high   mean characters per word
 *   hash_ratio / ellipsis_ratio    "#" and "..."/"…" per token
 *   bullet_lines                   fraction of lines starting with a bullet
 *   ellipsis_lines                 fraction of lines ending with an ellipsis
 *   alpha_words                    fraction of tokens with a letter or CJK character
 *   stop_words                     fewer stop words than min_stop_words
 * A threshold of 0 turns its rule off. */
#include "filter.h"
#include "signals.h"
#include "wordset.h"

#include <stdlib.h>

static const char DEFAULTS[] =
    "gopher_quality:                # datatrove GopherQualityFilter defaults (Gopher, Rae et al. 2021, A.1.1)\n"
    "  min_words: 50\n"
    "  max_words: 100000\n"
    "  min_mean_word_length: 3\n"
    "  max_mean_word_length: 10\n"
    "  max_symbol_word_ratio: 0.1   # for \"#\" and for ellipses, each\n"
    "  max_bullet_lines_frac: 0.9\n"
    "  max_ellipsis_lines_frac: 0.3\n"
    "  min_alpha_words_frac: 0.8\n"
    "  min_stop_words: 2\n"
    "  stop_words: [the, be, to, of, and, that, have, with]\n"
    "  min_lines: 1                 # the bullet and ellipsis line rules need this many lines\n"
    "  cjk:                         # documents that are mostly CJK; a word is one character\n"
    "    min_words: 100             # calibrated on zh-web-chinesewebtext (clean vs dirty)\n"
    "    max_words: 200000\n"
    "    min_mean_word_length: 0    # off: one character per word\n"
    "    max_mean_word_length: 0\n"
    "    max_symbol_word_ratio: 0.1\n"
    "    max_bullet_lines_frac: 0.9\n"
    "    max_ellipsis_lines_frac: 0.3\n"
    "    min_alpha_words_frac: 0.6  # CJK punctuation is a token per mark\n"
    "    min_stop_words: 2\n"
    "    stop_words: [的, 了, 是, 在, 和, 有, 也, 不, 我们, 这]\n"
    "    min_lines: 2                 # one line is no ratio\n";

typedef struct rules {
    double min_words, max_words, min_mwl, max_mwl, max_symbol, max_bullet, max_ellipsis, min_alpha;
    long min_stop;
    cm_wordset *stop;
    long min_lines; /* the bullet and ellipsis line rules need at least this many lines */
} rules;

typedef struct gopher_quality {
    rules latin, cjk;
} gopher_quality;

static int read_rules(const cm_conf *n, rules *r, const char *what, int allow_cjk, cm_err *err)
{
    static const char *const known[] = {"min_words", "max_words", "min_mean_word_length", "max_mean_word_length",
                                        "max_symbol_word_ratio", "max_bullet_lines_frac", "max_ellipsis_lines_frac",
                                        "min_alpha_words_frac", "min_stop_words", "stop_words", "min_lines", "cjk", NULL};
    static const char *const known_cjk[] = {"min_words", "max_words", "min_mean_word_length", "max_mean_word_length",
                                            "max_symbol_word_ratio", "max_bullet_lines_frac", "max_ellipsis_lines_frac",
                                            "min_alpha_words_frac", "min_stop_words", "stop_words", "min_lines", NULL};
    if (cm_conf_check_keys(n, what, allow_cjk ? known : known_cjk, err)) return -1;
    char **words = NULL;
    size_t nw = 0;
    if (cm_conf_double(n, "min_words", 0, 1e12, &r->min_words, err) ||
        cm_conf_double(n, "max_words", 0, 1e12, &r->max_words, err) ||
        cm_conf_double(n, "min_mean_word_length", 0, 1e6, &r->min_mwl, err) ||
        cm_conf_double(n, "max_mean_word_length", 0, 1e6, &r->max_mwl, err) ||
        cm_conf_double(n, "max_symbol_word_ratio", 0, 1e6, &r->max_symbol, err) ||
        cm_conf_double(n, "max_bullet_lines_frac", 0, 1, &r->max_bullet, err) ||
        cm_conf_double(n, "max_ellipsis_lines_frac", 0, 1, &r->max_ellipsis, err) ||
        cm_conf_double(n, "min_alpha_words_frac", 0, 1, &r->min_alpha, err) ||
        cm_conf_int(n, "min_stop_words", 0, 1000000, &r->min_stop, err) ||
        cm_conf_int(n, "min_lines", 0, 1000000, &r->min_lines, err) ||
        cm_conf_strings(n, "stop_words", &words, &nw, err))
        return -1;
    if (words) {
        cm_wordset_free(r->stop);
        r->stop = cm_wordset_create(words, nw);
        cm_conf_free_strings(words, nw);
    }
    return 0;
}

static void destroy(void *self)
{
    gopher_quality *g = self;
    if (!g) return;
    cm_wordset_free(g->latin.stop);
    cm_wordset_free(g->cjk.stop);
    free(g);
}

static void *create(const cm_conf *opt, cm_err *err)
{
    gopher_quality *g = cm_calloc(1, sizeof *g);
    static char *en[] = {"the", "be", "to", "of", "and", "that", "have", "with"};
    static char *zh[] = {"的", "了", "是", "在", "和", "有", "也", "不", "我们", "这"};
    g->latin = (rules){50, 100000, 3, 10, 0.1, 0.9, 0.3, 0.8, 2, cm_wordset_create(en, 8), 1};
    g->cjk = (rules){100, 200000, 0, 0, 0.1, 0.9, 0.3, 0.6, 2, cm_wordset_create(zh, 10), 2};
    if (read_rules(opt, &g->latin, "filter gopher_quality", 1, err) ||
        read_rules(cm_conf_get(opt, "cjk"), &g->cjk, "filter gopher_quality.cjk", 0, err)) {
        destroy(g);
        return NULL;
    }
    return g;
}

static cm_verdict drop(cm_doc *doc, const char *rule)
{
    doc->drop_rule = rule;
    return CM_DROP;
}

static cm_verdict apply(void *self, cm_doc *doc)
{
    gopher_quality *g = self;
    const cm_signal_values *v = cm_signals_basic(doc);
    const rules *r = v->cjk ? &g->cjk : &g->latin;
    if (r->min_words && v->words < r->min_words) return drop(doc, "min_words");
    if (r->max_words && v->words > r->max_words) return drop(doc, "max_words");
    if (r->min_mwl && v->mean_word_length < r->min_mwl) return drop(doc, "mean_word_length_low");
    if (r->max_mwl && v->mean_word_length > r->max_mwl) return drop(doc, "mean_word_length_high");
    if (r->max_symbol && v->hash_word_ratio > r->max_symbol) return drop(doc, "hash_ratio");
    if (r->max_symbol && v->ellipsis_word_ratio > r->max_symbol) return drop(doc, "ellipsis_ratio");
    int enough_lines = v->lines >= (double)r->min_lines;
    if (enough_lines && r->max_bullet && v->bullet_lines_frac > r->max_bullet) return drop(doc, "bullet_lines");
    if (enough_lines && r->max_ellipsis && v->ellipsis_lines_frac > r->max_ellipsis) return drop(doc, "ellipsis_lines");
    if (r->min_alpha && v->alpha_words_frac < r->min_alpha) return drop(doc, "alpha_words");
    if (r->min_stop && r->stop) {
        size_t n_tok;
        const cm_token *tok = cm_signals_tokens(doc, &n_tok);
        if (cm_wordset_count(r->stop, doc->text.data, tok, n_tok) < (size_t)r->min_stop) return drop(doc, "stop_words");
    }
    return CM_KEEP;
}

const cm_filter cm_filter_gopher_quality = {
    .name = "gopher_quality",
    .summary = "Gopher quality rules: length, word length, symbols, bullets, alphabetic words, stop words",
    .defaults = DEFAULTS,
    .create = create,
    .apply = apply,
    .destroy = destroy,
};
