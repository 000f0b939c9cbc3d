/* rag.h -- searching the RAG export (OUT/rag/; rag_build.h builds it).
 *
 *   index.faiss     the chunk vectors, ids = chunk ids, inner product (the
 *                   vectors are unit length: cosine); faiss.read_index reads it
 *   chunks.sqlite   table chunks (id, doc_id, doc_key, source, chunk_index,
 *                   start, end, headings, text, metadata); chunks_fts, an
 *                   FTS5 table over the BM25 terms, with index.fts5
 *   bm25.idx        the BM25 impact index (bm25_index.h)
 *   manifest.json   the embedder, chunking, index factory and search
 *                   parameters, counts, sha256 of each file
 *
 * Search modes: dense (FAISS), bm25 (bm25.idx; or the FTS5 table),
 * hybrid: w * BM25 / the best BM25 + (1 - w) * the cosine min-max scaled
 * over the dense list, over the best 100 of each (the manifest's
 * hybrid.bm25_weight w).
 *
 * Rejection: a question's relevance to the export is a score comparable
 * across questions; `index calibrate` picks one and a threshold and records
 * them in the manifest (rejection.score, rejection.threshold), and a
 * question under the threshold is one the export cannot answer. */
#ifndef CM_RAG_H
#define CM_RAG_H

#include <stddef.h>
#include <stdint.h>

#include "../pipeline/util.h"

typedef enum cm_rag_mode { CM_RAG_DENSE, CM_RAG_BM25, CM_RAG_HYBRID } cm_rag_mode;

typedef struct cm_rag_hit {
    int64_t chunk_id;
    double score;        /* dense: inner product; bm25: BM25 (higher is better); hybrid: the fused score */
    double dense, bm25;  /* each list's score, NAN when absent from it */
    int dense_rank, bm25_rank; /* 1-based, 0 when absent */
} cm_rag_hit;

typedef struct cm_rag cm_rag;

/* Opens an export for searching: bm25.idx is checked against the
 * manifest's sha256. NULL with err. */
cm_rag *cm_rag_open(const char *dir, cm_err *err);
/* Another searcher of the same export sharing base's FAISS index (FAISS
 * searches a CPU index from several threads at once); its own SQLite
 * connection and embedder. Close it before base. */
cm_rag *cm_rag_open_shared(const char *dir, const cm_rag *base, cm_err *err);
void cm_rag_close(cm_rag *r);

/* The number of vectors in the export. */
uint64_t cm_rag_size(const cm_rag *r);

/* The best k chunks for query. Returns how many were written to hits
 * (k of them at most), or -1 with err. */
long cm_rag_search(cm_rag *r, const char *query, cm_rag_mode mode, size_t k, cm_rag_hit *hits, cm_err *err);

/* Dense search for a vector already embedded (dim floats, unit length). */
long cm_rag_search_vector(cm_rag *r, const float *vec, size_t k, cm_rag_hit *hits, cm_err *err);

/* Appends a hit's chunk as a JSON object (chunk_id, doc_id, source,
 * headings, start, end, text, and the scores). */
int cm_rag_hit_json(cm_rag *r, const cm_rag_hit *h, int rank, cm_buf *out, cm_err *err);

/* The same for people: rank, document, source, score, heading path, and
 * the start of the text on one line. */
int cm_rag_hit_text(cm_rag *r, const cm_rag_hit *h, int rank, cm_buf *out, cm_err *err);

/* Calls fn with every chunk of the export as one JSON object of its
 * content: doc_id, chunk_index, start, end, source, headings, text,
 * metadata; not its id (an updated export numbers new chunks past the old
 * ones). What `digest` sums. 0, or -1 with err. */
int cm_rag_chunk_lines(cm_rag *r, void (*fn)(void *user, const char *line, size_t len), void *user, cm_err *err);

/* The text of chunk id (valid until the next call on r), or NULL. */
const char *cm_rag_chunk_text(cm_rag *r, int64_t id, size_t *len);

/* The OpenMP team FAISS searches with from the calling thread (the setting
 * is per thread). The program sets it: one query gains nothing from a team,
 * whose idle threads spin (a quarter of the CPU of eval-retrieval went
 * there), so searchers call it with 1 in each searching thread. */
void cm_rag_search_threads(int n);

/* BM25 through the FTS5 table (on) or bm25.idx (off, the default when the
 * export has it): the same ranking, for comparing the two. 0, or -1 with
 * err (usage) when the export lacks the one asked for. */
int cm_rag_use_fts5(cm_rag *r, int on, cm_err *err);

/* "dense" / "bm25" / "hybrid" to a mode; -1 when none. */
int cm_rag_mode_parse(const char *s);

/* BM25's share w of a hybrid score, 0..1 (from the manifest; set it to
 * compare weights on one export). */
void cm_rag_set_hybrid_weight(cm_rag *r, double bm25_weight);
double cm_rag_hybrid_weight(const cm_rag *r);

/* ---- rejection ---- */

/* The scores a question's relevance can be judged on: bm25 (the best
 * chunk's BM25 over the query's ceiling), dense (the best cosine), learned
 * (a logistic model of the features below that `index calibrate` fits on
 * the labelled questions: a probability). */
enum { CM_RAG_SCORE_BM25, CM_RAG_SCORE_DENSE, CM_RAG_SCORE_LEARNED, CM_RAG_SCORES };

typedef struct cm_rag_relevance {
    double best_bm25; /* the best chunk's BM25 */
    double bm25;      /* best_bm25 over the query's ceiling (bm25_index.h): 0..1, the share of
                       * the most the question's terms could score anywhere */
    double known;     /* the share of the ceiling from terms the export holds: 0..1 */
    double dense;     /* the best chunk's cosine */
} cm_rag_relevance;

/* The learned score: sigmoid(bias + sum weight[i] * (feature[i] - mean[i]) / sd[i])
 * over the features log(1 + best_bm25), dense, known, bm25. */
#define CM_RAG_FEATURES 4
typedef struct cm_rag_judge_model {
    double mean[CM_RAG_FEATURES], sd[CM_RAG_FEATURES], weight[CM_RAG_FEATURES], bias;
} cm_rag_judge_model;

void cm_rag_features(const cm_rag_relevance *rel, double f[CM_RAG_FEATURES]);

/* "bm25" / "dense" / "learned" to a score; -1 when none. */
int cm_rag_score_parse(const char *s);
const char *cm_rag_score_name(int score);

/* Both searches' relevance of query. 0, or -1 with err (an export without
 * bm25.idx: usage). */
int cm_rag_relevance_of(cm_rag *r, const char *query, cm_rag_relevance *rel, cm_err *err);
/* One score of rel (model: for the learned one). */
double cm_rag_relevance_score(const cm_rag_relevance *rel, int score, const cm_rag_judge_model *model);

typedef struct cm_rag_verdict {
    int answerable;       /* 1, 0, or -1 when the export is not calibrated */
    int score;            /* CM_RAG_SCORE_* judged */
    double value, threshold;
    cm_rag_judge_model model;
} cm_rag_verdict;

/* The export's recorded verdict rule: its score, threshold and (learned)
 * model. 0, or -1 when the export is not calibrated. */
int cm_rag_calibration(const cm_rag *r, int *score, double *threshold, cm_rag_judge_model *model);

/* Judges query against the export's calibrated threshold (answerable -1,
 * nothing searched, when it has none). 0, or -1 with err. */
int cm_rag_judge(cm_rag *r, const char *query, cm_rag_verdict *v, cm_err *err);
/* "answerable": true|false|null, "relevance": {"score", "value",
 * "threshold"}|null: members to put in a JSON object. */
void cm_rag_verdict_json(const cm_rag_verdict *v, cm_buf *out);

#endif
