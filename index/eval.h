/* eval.h -- retrieval quality on a QA set, what `corpusmill eval-retrieval`
 * measures (see eval.c): recall@1/5/20, MRR@10 and precision@5 of each
 * search mode, over a temporary export of the set's passages or against an
 * existing export. */
#ifndef CM_EVAL_H
#define CM_EVAL_H

#include <stddef.h>

#include "../pipeline/config.h"

/* A QA set: unique passages, and questions with their gold passages. */
typedef struct cm_qa_question {
    char *text;
    size_t *gold;         /* passage indexes */
    size_t n_gold;
} cm_qa_question;

typedef struct cm_qa_set {
    char **passages;      /* unique texts */
    size_t n_passages, cap_passages;
    size_t *table;        /* open addressing: passage index + 1, 0 empty */
    size_t table_cap;
    cm_qa_question *q;
    size_t n_q, cap_q;
} cm_qa_set;

/* Reads SQuAD-format JSON (each paragraph's context is a passage, its
 * questions' gold) or JSON Lines with query, positive and negative (RGB:
 * every passage joins the collection, the positives are gold). */
int cm_qa_load(const char *path, cm_qa_set *s, cm_err *err);
void cm_qa_free(cm_qa_set *s);

typedef struct cm_eval_scores {
    double r1, r5, r20, mrr10, p5;
} cm_eval_scores;

typedef struct cm_eval_latency {
    double mean, p50, p99;   /* milliseconds per question, searching only */
} cm_eval_latency;

typedef struct cm_eval_result {
    cm_eval_scores mode[3];  /* by cm_rag_mode: dense, bm25, hybrid */
    cm_eval_latency latency[3];
    size_t questions, passages;
    double build_seconds, search_seconds;
    double hybrid_weight;    /* BM25's share of hybrid */
} cm_eval_result;

/* Searches every question in each mode (BM25 through the FTS5 table when
 * bm25_fts5, else bm25.idx; hybrid with BM25's share hybrid_weight, or the
 * export's when it is negative), timing each search. With export_dir NULL, the passages
 * become a temporary export (one passage = one chunk) built with cfg's
 * embed and index options; with export_dir, that export is searched and a
 * retrieved chunk counts when its text lies inside a gold passage (or the
 * passage inside it), compared after NFKC case folding with only letters,
 * digits and CJK characters. Progress (questions searched) as
 * cfg->run.progress asks. 0 or -1 with err. */
int cm_eval_retrieval(const cm_config *cfg, const cm_qa_set *s, const char *export_dir, int bm25_fts5,
                      double hybrid_weight, cm_eval_result *res, cm_err *err);

/* {"dense": {...}, "bm25": {...}, "hybrid": {...}, "latency_ms": {"dense":
 * {"mean", "p50", "p99"}, ...}, "hybrid_bm25_weight", "questions",
 * "passages", "model", "qa"} and a line break. */
void cm_eval_json(const cm_eval_result *res, const char *model, const char *qa, cm_buf *out);

#endif
