/* rejection.h -- telling questions a RAG export can answer from those it
 * cannot: calibrating a threshold on labelled questions (`index calibrate`),
 * recording it in the export's manifest, and measuring it (`eval-rejection`).
 * The scores judged are rag.h's relevance scores. */
#ifndef CM_REJECTION_H
#define CM_REJECTION_H

#include <stddef.h>

#include "../pipeline/util.h"
#include "rag.h"

/* Questions: a file named *.json holds a JSON array of strings
 * (HuixiangDou's good_questions.json), any other one question per line
 * (blank lines skipped). */
typedef struct cm_questions {
    char **text;
    size_t n;
} cm_questions;

/* 0, or -1 with err naming the file (and the line of a line that is not
 * UTF-8). A file with no question is an error. */
int cm_questions_load(const char *path, cm_questions *qs, cm_err *err);
void cm_questions_free(cm_questions *qs);

/* Both relevance scores of every question (out: qs->n of them). */
int cm_rejection_relevance(cm_rag *r, const cm_questions *qs, cm_rag_relevance *out, cm_err *err);

/* "answerable" judged at a threshold: good questions are the positives. */
typedef struct cm_rejection_result {
    int score;             /* CM_RAG_SCORE_* */
    double threshold;      /* answerable when the score >= it */
    cm_rag_judge_model model; /* the learned score's */
    double precision, recall, f1, accuracy;
    double auc;            /* the score's ROC AUC over the two sets (threshold-free) */
    size_t good, bad;
} cm_rejection_result;

/* The result of res->score at res->threshold (with res->model), filled in
 * the rest of res. */
void cm_rejection_measure(const cm_rag_relevance *good, size_t n_good, const cm_rag_relevance *bad, size_t n_bad,
                          cm_rejection_result *res);

/* Fits the learned score on the two sets (logistic regression over
 * rag.h's features, standardized, the two classes weighted equally, a
 * little L2; deterministic), then for each score the threshold of the best
 * F1 (ties: the better precision), halfway between the lowest value it
 * accepts and the next value below; per[CM_RAG_SCORE_*] gets each, *best
 * the score with the best F1 (ties: the larger AUC, then the earlier
 * score). Both sets must hold a question. */
void cm_rejection_calibrate(const cm_rag_relevance *good, size_t n_good, const cm_rag_relevance *bad, size_t n_bad,
                            cm_rejection_result per[CM_RAG_SCORES], cm_rejection_result *best);

/* Writes res into RAG_DIR/manifest.json as its "rejection" member (in place
 * of one there), through a temporary file and a rename. 0, or -1 with err. */
int cm_rejection_record(const char *rag_dir, const cm_rejection_result *res, cm_err *err);

/* {"score", "threshold", "precision", "recall", "f1", "accuracy", "auc",
 * "good", "bad", "model": {"features", "mean", "sd", "weight", "bias"}} */
void cm_rejection_json(const cm_rejection_result *res, cm_buf *out);

#endif
