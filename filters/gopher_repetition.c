/* gopher_repetition.c -- Gopher's repetition rules (Rae et al. 2021, table
 * A1), with datatrove's GopherRepetitionFilter defaults; for documents that
 * are mostly CJK the n-grams are of characters, and the `cjk:` thresholds are
 * calibrated so that clean Chinese text keeps (common character sequences
 * repeat more often than word sequences do).
 *
 * Reasons: gopher_repetition:dup_line_frac, dup_para_frac,
 * dup_line_char_frac, dup_para_char_frac, top_2gram .. top_4gram,
 * dup_5gram .. dup_10gram. A threshold of 0 turns its rule off. */
#include "filter.h"
#include "signals.h"

#include <stdlib.h>

static const char DEFAULTS[] =
    "gopher_repetition:             # datatrove GopherRepetitionFilter defaults (Gopher, table A1)\n"
    "  dup_line_frac: 0.3\n"
    "  dup_para_frac: 0.3\n"
    "  dup_line_char_frac: 0.2\n"
    "  dup_para_char_frac: 0.2\n"
    "  top_ngram_frac: {2: 0.20, 3: 0.18, 4: 0.16}\n"
    "  dup_ngram_frac: {5: 0.15, 6: 0.14, 7: 0.13, 8: 0.12, 9: 0.11, 10: 0.10}\n"
    "  cjk:                         # n-grams of characters; calibrated on Chinese web text\n"
    "    dup_line_frac: 0.3\n"
    "    dup_para_frac: 0.3\n"
    "    dup_line_char_frac: 0.2\n"
    "    dup_para_char_frac: 0.2\n"
    "    top_ngram_frac: {2: 0.20, 3: 0.18, 4: 0.16}\n"
    "    dup_ngram_frac: {5: 0.25, 6: 0.24, 7: 0.23, 8: 0.22, 9: 0.21, 10: 0.20}\n";

typedef struct rules {
    double dup_line, dup_para, dup_line_char, dup_para_char;
    double top[5];  /* [2..4] */
    double dup[11]; /* [5..10] */
} rules;

typedef struct repetition {
    rules latin, cjk;
} repetition;

static int read_ngram_map(const cm_conf *n, const char *key, int lo, int hi, double *out, cm_err *err)
{
    const cm_conf *m = cm_conf_get(n, key);
    if (!m) return 0;
    if (m->type != CM_CONF_MAP) return cm_conf_error(err, m, "'%s' must be a map from n to a fraction", key);
    for (size_t i = 0; i < m->n; i++) {
        char *end;
        long k = strtol(m->keys[i], &end, 10);
        if (*end || k < lo || k > hi)
            return cm_conf_error(err, m->items[i], "'%s': n must be between %d and %d, not '%s'", key, lo, hi, m->keys[i]);
        if (cm_conf_double(m, m->keys[i], 0, 1, &out[k], err)) return -1;
    }
    return 0;
}

static int read_rules(const cm_conf *n, rules *r, const char *what, int allow_cjk, cm_err *err)
{
    static const char *const known[] = {"dup_line_frac", "dup_para_frac", "dup_line_char_frac", "dup_para_char_frac",
                                        "top_ngram_frac", "dup_ngram_frac", "cjk", NULL};
    if (cm_conf_check_keys(n, what, allow_cjk ? known : known + 0, err)) return -1;
    if (!allow_cjk && cm_conf_get(n, "cjk")) return cm_conf_error(err, cm_conf_get(n, "cjk"), "'cjk' cannot nest");
    return cm_conf_double(n, "dup_line_frac", 0, 1, &r->dup_line, err) ||
                   cm_conf_double(n, "dup_para_frac", 0, 1, &r->dup_para, err) ||
                   cm_conf_double(n, "dup_line_char_frac", 0, 1, &r->dup_line_char, err) ||
                   cm_conf_double(n, "dup_para_char_frac", 0, 1, &r->dup_para_char, err) ||
                   read_ngram_map(n, "top_ngram_frac", 2, 4, r->top, err) ||
                   read_ngram_map(n, "dup_ngram_frac", 5, 10, r->dup, err)
               ? -1
               : 0;
}

static void destroy(void *self) { free(self); }

static void *create(const cm_conf *opt, cm_err *err)
{
    repetition *g = cm_calloc(1, sizeof *g);
    g->latin = (rules){0.3, 0.3, 0.2, 0.2, {0, 0, 0.20, 0.18, 0.16}, {0, 0, 0, 0, 0, 0.15, 0.14, 0.13, 0.12, 0.11, 0.10}};
    g->cjk = (rules){0.3, 0.3, 0.2, 0.2, {0, 0, 0.20, 0.18, 0.16}, {0, 0, 0, 0, 0, 0.25, 0.24, 0.23, 0.22, 0.21, 0.20}};
    if (read_rules(opt, &g->latin, "filter gopher_repetition", 1, err) ||
        read_rules(cm_conf_get(opt, "cjk"), &g->cjk, "filter gopher_repetition.cjk", 0, err)) {
        destroy(g);
        return NULL;
    }
    return g;
}

static cm_verdict apply(void *self, cm_doc *doc)
{
    repetition *g = self;
    const cm_signal_values *v = cm_signals_get(doc);
    const rules *r = v->cjk ? &g->cjk : &g->latin;
    static const char *const top_rule[] = {0, 0, "top_2gram", "top_3gram", "top_4gram"};
    static const char *const dup_rule[] = {0, 0, 0, 0, 0, "dup_5gram", "dup_6gram", "dup_7gram", "dup_8gram",
                                           "dup_9gram", "dup_10gram"};
    const double top[] = {0, 0, v->top_2gram_frac, v->top_3gram_frac, v->top_4gram_frac};
    const double dup[] = {0, 0, 0, 0, 0, v->dup_5gram_frac, v->dup_6gram_frac, v->dup_7gram_frac,
                          v->dup_8gram_frac, v->dup_9gram_frac, v->dup_10gram_frac};
    if (r->dup_para && v->dup_para_frac > r->dup_para) { doc->drop_rule = "dup_para_frac"; return CM_DROP; }
    if (r->dup_para_char && v->dup_para_char_frac > r->dup_para_char) { doc->drop_rule = "dup_para_char_frac"; return CM_DROP; }
    if (r->dup_line && v->dup_line_frac > r->dup_line) { doc->drop_rule = "dup_line_frac"; return CM_DROP; }
    if (r->dup_line_char && v->dup_line_char_frac > r->dup_line_char) { doc->drop_rule = "dup_line_char_frac"; return CM_DROP; }
    for (int n = 2; n <= 4; n++)
        if (r->top[n] && top[n] > r->top[n]) { doc->drop_rule = top_rule[n]; return CM_DROP; }
    for (int n = 5; n <= 10; n++)
        if (r->dup[n] && dup[n] > r->dup[n]) { doc->drop_rule = dup_rule[n]; return CM_DROP; }
    return CM_KEEP;
}

const cm_filter cm_filter_gopher_repetition = {
    .name = "gopher_repetition",
    .summary = "Gopher repetition rules: duplicate lines and paragraphs, top and duplicated n-grams",
    .defaults = DEFAULTS,
    .create = create,
    .apply = apply,
    .destroy = destroy,
};
