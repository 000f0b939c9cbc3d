/* length.c -- minimum and maximum characters, words and lines. Words are the
 * signals' words (one per CJK character with fast word units); lines are
 * non-empty lines. 0 means no limit; every limit is off by default.
 * Reasons: length:min_chars, max_chars, min_words, max_words, min_lines,
 * max_lines. */
#include "filter.h"
#include "signals.h"

#include <stdlib.h>

static const char DEFAULTS[] =
    "length:                        # 0 = no limit\n"
    "  min_chars: 0\n"
    "  max_chars: 0\n"
    "  min_words: 0\n"
    "  max_words: 0\n"
    "  min_lines: 0\n"
    "  max_lines: 0\n";

typedef struct length {
    double min_chars, max_chars, min_words, max_words, min_lines, max_lines;
} length;

static void destroy(void *self) { free(self); }

static void *create(const cm_conf *opt, cm_err *err)
{
    static const char *const known[] = {"min_chars", "max_chars", "min_words", "max_words", "min_lines", "max_lines", NULL};
    length *l = cm_calloc(1, sizeof *l);
    if (cm_conf_check_keys(opt, "filter length", known, err) || cm_conf_double(opt, "min_chars", 0, 1e15, &l->min_chars, err) ||
        cm_conf_double(opt, "max_chars", 0, 1e15, &l->max_chars, err) ||
        cm_conf_double(opt, "min_words", 0, 1e15, &l->min_words, err) ||
        cm_conf_double(opt, "max_words", 0, 1e15, &l->max_words, err) ||
        cm_conf_double(opt, "min_lines", 0, 1e15, &l->min_lines, err) ||
        cm_conf_double(opt, "max_lines", 0, 1e15, &l->max_lines, err)) {
        destroy(l);
        return NULL;
    }
    return l;
}

static cm_verdict apply(void *self, cm_doc *doc)
{
    length *l = self;
    const cm_signal_values *v = cm_signals_basic(doc);
    const char *rule = NULL;
    if (l->min_chars && v->chars < l->min_chars) rule = "min_chars";
    else if (l->max_chars && v->chars > l->max_chars) rule = "max_chars";
    else if (l->min_words && v->words < l->min_words) rule = "min_words";
    else if (l->max_words && v->words > l->max_words) rule = "max_words";
    else if (l->min_lines && v->lines < l->min_lines) rule = "min_lines";
    else if (l->max_lines && v->lines > l->max_lines) rule = "max_lines";
    if (!rule) return CM_KEEP;
    doc->drop_rule = rule;
    return CM_DROP;
}

const cm_filter cm_filter_length = {
    .name = "length",
    .summary = "minimum and maximum characters, words and lines",
    .defaults = DEFAULTS,
    .create = create,
    .apply = apply,
    .destroy = destroy,
};
