/* fineweb.c -- FineWeb's own quality rules (Penedo et al. 2024, datatrove
 * FineWebQualityFilter defaults), with a short line of 10 characters for
 * documents that are mostly CJK (signals.short_line_chars_cjk).
 *
 * Reasons: fineweb:line_punct_ratio (too few lines end in terminal
 * punctuation, CJK marks included), fineweb:short_line_ratio,
 * fineweb:char_dup_ratio (characters in duplicated lines), fineweb:list_ratio
 * (line breaks per word). A threshold of 0 turns its rule off. */
#include "filter.h"
#include "signals.h"

#include <stdlib.h>

static const char DEFAULTS[] =
    "fineweb:                       # datatrove FineWebQualityFilter defaults\n"
    "  line_punct_thr: 0.12         # drop when fewer lines than this end in terminal punctuation\n"
    "  line_punct_exclude_zero: false  # keep documents with no such line at all\n"
    "  short_line_thr: 0.67         # drop when more lines than this are short (30 chars; 10 for CJK)\n"
    "  char_duplicates_ratio: 0.01  # drop when more characters than this are in duplicated lines\n"
    "  new_line_ratio: 0.3          # drop when line breaks per word exceed this\n"
    "  min_lines: 1                 # judge documents of at least this many lines\n"
    "  cjk:                         # for documents that are mostly CJK (calibrated)\n"
    "    line_punct_thr: 0.12\n"
    "    short_line_thr: 0.67\n"
    "    char_duplicates_ratio: 0.01\n"
    "    new_line_ratio: 0.3\n"
    "    min_lines: 2                 # one line is no ratio: many Chinese pages come as one paragraph\n";

typedef struct rules {
    double line_punct, short_line, char_dup, new_line;
    long min_lines; /* line ratios are judged on at least this many lines */
} rules;

typedef struct fineweb {
    rules latin, cjk;
    int exclude_zero;
} fineweb;

static int read_rules(const cm_conf *n, rules *r, cm_err *err)
{
    return cm_conf_double(n, "line_punct_thr", 0, 1, &r->line_punct, err) ||
                   cm_conf_double(n, "short_line_thr", 0, 1, &r->short_line, err) ||
                   cm_conf_double(n, "char_duplicates_ratio", 0, 1, &r->char_dup, err) ||
                   cm_conf_double(n, "new_line_ratio", 0, 1e6, &r->new_line, err) ||
                   cm_conf_int(n, "min_lines", 0, 1000000, &r->min_lines, err)
               ? -1
               : 0;
}

static void destroy(void *self) { free(self); }

static void *create(const cm_conf *opt, cm_err *err)
{
    static const char *const known[] = {"line_punct_thr", "line_punct_exclude_zero", "short_line_thr",
                                        "char_duplicates_ratio", "new_line_ratio", "min_lines", "cjk", NULL};
    static const char *const known_cjk[] = {"line_punct_thr", "short_line_thr", "char_duplicates_ratio",
                                            "new_line_ratio", "min_lines", NULL};
    fineweb *f = cm_calloc(1, sizeof *f);
    f->latin = (rules){0.12, 0.67, 0.01, 0.3, 1};
    f->cjk = (rules){0.12, 0.67, 0.01, 0.3, 2};
    if (cm_conf_check_keys(opt, "filter fineweb", known, err) ||
        cm_conf_check_keys(cm_conf_get(opt, "cjk"), "filter fineweb.cjk", known_cjk, err) ||
        read_rules(opt, &f->latin, err) || read_rules(cm_conf_get(opt, "cjk"), &f->cjk, err) ||
        cm_conf_bool(opt, "line_punct_exclude_zero", &f->exclude_zero, err)) {
        destroy(f);
        return NULL;
    }
    return f;
}

static cm_verdict apply(void *self, cm_doc *doc)
{
    fineweb *f = self;
    const cm_signal_values *v = cm_signals_basic(doc);
    const rules *r = v->cjk ? &f->cjk : &f->latin;
    if (v->lines == 0 || v->lines < (double)r->min_lines) return CM_KEEP;
    if (r->line_punct && v->terminal_punct_lines_frac < r->line_punct &&
        !(f->exclude_zero && v->terminal_punct_lines_frac == 0)) {
        doc->drop_rule = "line_punct_ratio";
        return CM_DROP;
    }
    if (r->short_line && v->short_lines_frac > r->short_line) { doc->drop_rule = "short_line_ratio"; return CM_DROP; }
    if (r->char_dup && v->dup_line_char_frac_fw > r->char_dup) { doc->drop_rule = "char_dup_ratio"; return CM_DROP; }
    if (r->new_line && v->newline_word_ratio > r->new_line) { doc->drop_rule = "list_ratio"; return CM_DROP; }
    return CM_KEEP;
}

const cm_filter cm_filter_fineweb = {
    .name = "fineweb",
    .summary = "FineWeb rules: terminal punctuation, short lines, duplicated line characters, list-like text",
    .defaults = DEFAULTS,
    .create = create,
    .apply = apply,
    .destroy = destroy,
};
