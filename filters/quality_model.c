/* quality_model.c -- drops documents a fastText classifier scores below a
 * threshold: the probability of the model's "good" label (DCLM keeps the
 * top of such a score, FineWeb-Edu scores educational value the same way).
 * The model is fastText's own .bin/.ftz, so published classifiers load
 * unchanged; `corpusmill quality train` makes one from your documents and
 * writes MODEL.json beside it, which sets label and cjk here so that the
 * text is cut as it was in training.
 *
 * The score is stored as the signal named by field (default quality).
 * Reason: quality_model:below_threshold. Each worker thread loads its own
 * copy of the model (fastText models are read-only, but a shared copy would
 * need state outside the step). */
#include "filter.h"
#include "signals.h"
#include "fasttext_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char DEFAULTS[] =
    "quality_model:\n"
    "  model: \"\"                    # a fastText classifier (.bin or .ftz); required\n"
    "  label: \"\"                    # the good label; empty: MODEL.json's, else __label__hq\n"
    "  threshold: 0.5               # keep documents whose probability of label is >= this\n"
    "  field: quality               # the signal the probability is stored as\n"
    "  cjk: auto                    # none, chars, words; auto: MODEL.json's (none without one)\n";

enum { CJK_AUTO = 3 };

typedef struct quality_model {
    cm_fasttext *model;
    char label[128];
    char field[48];
    double threshold;
    int cjk;
    cm_buf line;
} quality_model;

static void destroy(void *self)
{
    quality_model *q = self;
    if (!q) return;
    cm_fasttext_free(q->model);
    cm_buf_free(&q->line);
    free(q);
}

static void *create(const cm_conf *opt, cm_err *err)
{
    static const char *const known[] = {"model", "label", "threshold", "field", "cjk", NULL};
    static const char *const cjk_names[] = {"none", "chars", "words", "auto", NULL};
    quality_model *q = cm_calloc(1, sizeof *q);
    cm_buf_init(&q->line);
    char *model = NULL, *label = NULL, *field = NULL;
    q->threshold = 0.5;
    q->cjk = CJK_AUTO;
    cm_ft_side side;
    if (cm_conf_check_keys(opt, "filter quality_model", known, err) || cm_conf_string(opt, "model", &model, err) ||
        cm_conf_string(opt, "label", &label, err) || cm_conf_double(opt, "threshold", 0, 1, &q->threshold, err) ||
        cm_conf_string(opt, "field", &field, err) || cm_conf_enum(opt, "cjk", cjk_names, &q->cjk, err))
        goto fail;
    if (!model || !model[0]) {
        cm_conf_error(err, opt, "filter quality_model: model: the path of a fastText classifier is required");
        goto fail;
    }
    if (cm_ft_side_read(model, &side, err)) goto fail;
    if (q->cjk == CJK_AUTO) q->cjk = side.cjk;
    else if (side.found && q->cjk != side.cjk) {
        cm_conf_error(err, cm_conf_get(opt, "cjk"),
                      "filter quality_model: cjk: %s, but %s was trained with cjk: %s (its .json says so)",
                      cm_ft_cjk_names[q->cjk], model, cm_ft_cjk_names[side.cjk]);
        goto fail;
    }
    snprintf(q->label, sizeof q->label, "%s", label && label[0] ? label : side.label);
    snprintf(q->field, sizeof q->field, "%s", field && field[0] ? field : "quality");
    if (!(q->model = cm_ft_open(model, q->label, err))) goto fail;
    free(model);
    free(label);
    free(field);
    return q;
fail:
    free(model);
    free(label);
    free(field);
    destroy(q);
    return NULL;
}

static cm_verdict apply(void *self, cm_doc *doc)
{
    quality_model *q = self;
    cm_fasttext_text(doc->text.data, doc->text.len, q->cjk, &q->line);
    double p = q->line.len ? cm_fasttext_prob(q->model, q->line.data, q->line.len, q->label) : 0;
    cm_signals_set_extra(doc, q->field, p);
    if (p < q->threshold) {
        doc->drop_rule = "below_threshold";
        return CM_DROP;
    }
    return CM_KEEP;
}

const cm_filter cm_filter_quality_model = {
    .name = "quality_model",
    .summary = "drop documents a fastText classifier (.bin/.ftz) scores below a threshold",
    .defaults = DEFAULTS,
    .create = create,
    .apply = apply,
    .destroy = destroy,
    .needs = "model",
};
