/* signal.c -- a generic rule on any signal, so that users can write their own
 * filters in YAML:
 *
 *   - signal:
 *       rules:
 *         - {signal: words, min: 20}
 *         - {signal: url_frac, max: 0.2, name: too_many_urls}
 *
 * A document outside [min, max] is dropped as signal:NAME (default NAME:
 * SIGNAL_min or SIGNAL_max). Signals set by other filters (language_score,
 * pii_*, flagged_words_frac) can be used too, after those filters. */
#include "filter.h"
#include "signals.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char DEFAULTS[] =
    "signal:\n"
    "  rules: []                    # each {signal: NAME, min: X, max: Y, name: RULE}; see README for the names\n";

typedef struct rule {
    int index;            /* into cm_signal_defs, or -1 for an extra */
    char *extra;          /* name of an extra signal */
    int has_min, has_max;
    double min, max;
    char *name_min, *name_max;
} rule;

typedef struct signal_filter {
    rule *rules;
    size_t n;
} signal_filter;

static void destroy(void *self)
{
    signal_filter *s = self;
    if (!s) return;
    for (size_t i = 0; i < s->n; i++) {
        free(s->rules[i].extra);
        free(s->rules[i].name_min);
        free(s->rules[i].name_max);
    }
    free(s->rules);
    free(s);
}

static const char *const EXTRA_PREFIXES[] = {"language_score", "pii_", "flagged_words", NULL};

static void *create(const cm_conf *opt, cm_err *err)
{
    static const char *const known[] = {"rules", NULL};
    static const char *const rule_keys[] = {"signal", "min", "max", "name", NULL};
    signal_filter *s = cm_calloc(1, sizeof *s);
    if (cm_conf_check_keys(opt, "filter signal", known, err)) goto fail;
    const cm_conf *rules = cm_conf_get(opt, "rules");
    if (!rules) return s;
    if (rules->type != CM_CONF_SEQ) { cm_conf_error(err, rules, "'rules' must be a list"); goto fail; }
    s->rules = cm_calloc(rules->n ? rules->n : 1, sizeof *s->rules);
    for (size_t i = 0; i < rules->n; i++) {
        const cm_conf *r = rules->items[i];
        rule *ru = &s->rules[s->n++];
        char *sig = NULL, *name = NULL;
        if (cm_conf_check_keys(r, "a signal rule", rule_keys, err) || cm_conf_string(r, "signal", &sig, err) ||
            cm_conf_string(r, "name", &name, err)) {
            free(sig);
            free(name);
            goto fail;
        }
        if (!sig) { free(name); cm_conf_error(err, r, "a rule needs 'signal'"); goto fail; }
        for (const char *c = name; c && *c; c++)
            if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_')) {
                cm_conf_error(err, r, "a rule name is lowercase letters, digits and _, not '%s'", name);
                free(sig);
                free(name);
                goto fail;
            }
        ru->index = cm_signal_lookup(sig);
        if (ru->index < 0) {
            int ok = 0;
            for (int k = 0; EXTRA_PREFIXES[k]; k++) ok |= strncmp(sig, EXTRA_PREFIXES[k], strlen(EXTRA_PREFIXES[k])) == 0;
            if (!ok) {
                cm_conf_error(err, r, "unknown signal '%s' (see `corpusmill filters` and the README)", sig);
                free(sig);
                free(name);
                goto fail;
            }
            ru->extra = cm_strdup(sig);
        }
        ru->has_min = cm_conf_get(r, "min") != NULL;
        ru->has_max = cm_conf_get(r, "max") != NULL;
        if (cm_conf_double(r, "min", -1e300, 1e300, &ru->min, err) || cm_conf_double(r, "max", -1e300, 1e300, &ru->max, err)) {
            free(sig);
            free(name);
            goto fail;
        }
        char buf[300];
        snprintf(buf, sizeof buf, "%s_min", sig);
        ru->name_min = cm_strdup(name ? name : buf);
        snprintf(buf, sizeof buf, "%s_max", sig);
        ru->name_max = cm_strdup(name ? name : buf);
        free(sig);
        free(name);
    }
    return s;
fail:
    destroy(s);
    return NULL;
}

static cm_verdict apply(void *self, cm_doc *doc)
{
    signal_filter *s = self;
    if (s->n == 0) return CM_KEEP;
    const cm_signal_values *v = cm_signals_get(doc);
    for (size_t i = 0; i < s->n; i++) {
        const rule *r = &s->rules[i];
        double x = r->extra ? cm_signals_get_extra(doc, r->extra)
                            : cm_signal_value(v, r->index);
        if (r->extra && x < 0) continue; /* not set for this document */
        if (r->has_min && x < r->min) { doc->drop_rule = r->name_min; return CM_DROP; }
        if (r->has_max && x > r->max) { doc->drop_rule = r->name_max; return CM_DROP; }
    }
    return CM_KEEP;
}

const cm_filter cm_filter_signal = {
    .name = "signal",
    .summary = "keep or drop on any signal, with min/max from YAML",
    .defaults = DEFAULTS,
    .create = create,
    .apply = apply,
    .destroy = destroy,
};
