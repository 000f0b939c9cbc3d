/* rag.h -- searching the RAG export (OUT/rag/; rag_build.h builds it).
 *
 *   index.faiss     the chunk vectors, ids = chunk ids, inner product (the
 *                   vectors are unit length: cosine); faiss.read_index reads it
 *   chunks.sqlite   table chunks (id, doc_id, doc_key, source, chunk_index,
 *                   start, end, headings, text, metadata) and chunks_fts, an
 *                   FTS5 table over BM25 terms (index/bm25_terms.h) whose
 *                   rowid is the chunk id
 *   manifest.json   the embedder, chunking, index factory and search
 *                   parameters, counts, sha256 of each file
 *
 * Search modes: dense (FAISS), bm25 (FTS5's bm25()), hybrid (reciprocal
 * rank fusion, k = 60, of the two lists). */
#ifndef CM_RAG_H
#define CM_RAG_H

#include <stddef.h>
#include <stdint.h>

#include "../pipeline/util.h"

typedef enum cm_rag_mode { CM_RAG_DENSE, CM_RAG_BM25, CM_RAG_HYBRID } cm_rag_mode;

typedef struct cm_rag_hit {
    int64_t chunk_id;
    double score;        /* dense: inner product; bm25: BM25 (higher is better); hybrid: RRF */
    double dense, bm25;  /* each list's score, NAN when absent from it */
    int dense_rank, bm25_rank; /* 1-based, 0 when absent */
} cm_rag_hit;

typedef struct cm_rag cm_rag;

/* Opens an export for searching. NULL with err. */
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

/* The text of chunk id (valid until the next call on r), or NULL. */
const char *cm_rag_chunk_text(cm_rag *r, int64_t id, size_t *len);

/* The OpenMP team FAISS searches with from the calling thread (the setting
 * is per thread). The program sets it: one query gains nothing from a team,
 * whose idle threads spin (a quarter of the CPU of eval-retrieval went
 * there), so searchers call it with 1 in each searching thread. */
void cm_rag_search_threads(int n);

/* "dense" / "bm25" / "hybrid" to a mode; -1 when none. */
int cm_rag_mode_parse(const char *s);

#endif
