/* bm25_index.h -- the BM25 impact index of a RAG export (OUT/rag/bm25.idx):
 * an inverted index over the terms of bm25_terms.h, posting lists in blocks
 * of 128 with each block's largest score factor, searched with block-max
 * MaxScore so that a query reads a small part of the common terms' lists.
 * The layout is bm25_format.h.
 *
 * Building: a builder takes the chunks one by one, inverts them in memory
 * and, past its memory budget, writes what it holds as a run file and goes
 * on; finishing writes the index (merging the runs). Indexes of disjoint
 * sets of chunks merge into one (an `index add` task writes one each;
 * `index merge` joins them) with the statistics of the whole. The result
 * depends only on the chunks and their order, not on the budget or how the
 * work was split.
 *
 * Searching: scores are Lucene's BM25 (k1 1.2, b 0.75, its IDF) with the
 * document length quantized to one byte as Lucene does; they are summed as
 * integers (units of 2^-16), so the pruned search returns exactly what
 * scoring every matching chunk returns: the same chunks, the same scores,
 * the same order (ties by chunk id). A query reads the first
 * CM_BM25_MAX_QUERY_BYTES bytes of its text and keeps its
 * CM_BM25_MAX_QUERY_TERMS rarest distinct terms found in the index (a
 * repeated term counts again): a long Chinese question makes dozens of
 * unigrams and bigrams, and the common ones (的, 是) add next to nothing to
 * a score. On RGB, keeping them all moves precision@5 from 0.628 to 0.627. */
#ifndef CM_BM25_INDEX_H
#define CM_BM25_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "../pipeline/progress.h"
#include "../pipeline/util.h"

#define CM_BM25_MAX_QUERY_BYTES 16384
#define CM_BM25_MAX_QUERY_TERMS 32

/* ---- building ---- */

typedef struct cm_bm25_builder cm_bm25_builder;

/* A builder that writes runs to run_prefix.run-NNNN.idx (the folder must
 * exist) when what it holds passes memory bytes. */
cm_bm25_builder *cm_bm25_builder_create(const char *run_prefix, uint64_t memory);
/* Adds one chunk: its heading path (any text, may be NULL) and its text. */
int cm_bm25_builder_add(cm_bm25_builder *b, int64_t chunk_id, const char *headings, size_t headings_len,
                        const char *text, size_t text_len, cm_err *err);
/* Writes the index of every chunk added to path (through path.tmp), and
 * removes the runs; prog (may be NULL) counts the terms written. */
int cm_bm25_builder_finish(cm_bm25_builder *b, const char *path, cm_progress *prog, cm_err *err);
void cm_bm25_builder_free(cm_bm25_builder *b);

/* One index of the chunks of inputs[0], then inputs[1], ... (disjoint sets
 * of chunks), written to path. */
int cm_bm25_merge(const char *const *inputs, size_t n, const char *path, cm_progress *prog, cm_err *err);

/* ---- reading ---- */

typedef struct cm_bm25_index cm_bm25_index;

typedef struct cm_bm25_info {
    uint64_t docs, terms, postings, blocks, total_terms, bytes;
    double avgdl;
} cm_bm25_info;

/* Maps path and checks it: its header, version, size and every section's
 * bounds; with sha256 (64 hex digits, from the export's manifest), that its
 * bytes hash to it. NULL with err naming the file. */
cm_bm25_index *cm_bm25_open(const char *path, const char *sha256, cm_err *err);
/* The same over bytes in memory (which must outlive the index). */
cm_bm25_index *cm_bm25_open_bytes(const void *data, size_t size, cm_err *err);
void cm_bm25_close(cm_bm25_index *ix);
void cm_bm25_info_of(const cm_bm25_index *ix, cm_bm25_info *info);

/* ---- searching ---- */

/* A searcher's scratch (cursors, decoded blocks, the top-k heap): one per
 * thread; the index is shared. */
typedef struct cm_bm25_searcher cm_bm25_searcher;

cm_bm25_searcher *cm_bm25_searcher_create(const cm_bm25_index *ix);
void cm_bm25_searcher_free(cm_bm25_searcher *s);

typedef struct cm_bm25_hit {
    int64_t chunk_id;
    double score;
} cm_bm25_hit;

/* What the last search did, for benchmarks and tests. */
typedef struct cm_bm25_search_stats {
    size_t terms;              /* distinct query terms found in the index */
    uint64_t postings;         /* postings decoded */
    uint64_t scored;           /* documents fully scored */
    uint64_t floor;            /* the estimated floor of the k-th score (2^-16 units), 0 none */
    double ceiling;            /* the most any chunk could score: every distinct query term (those
                                * in no chunk too, at document frequency 0) at BM25's saturation,
                                * k1 + 1 times its IDF; a score over it is comparable across queries */
    double ceiling_known;      /* the same over the terms found in the index */
    size_t distinct;           /* distinct query terms, found or not */
} cm_bm25_search_stats;

/* The best k chunks for query (at most k to hits, best first). Returns how
 * many. */
long cm_bm25_search(cm_bm25_searcher *s, const char *query, size_t len, size_t k, cm_bm25_hit *hits);
/* The same by scoring every chunk that holds any query term (no pruning):
 * what tests compare cm_bm25_search with. */
long cm_bm25_search_exhaustive(cm_bm25_searcher *s, const char *query, size_t len, size_t k, cm_bm25_hit *hits);
void cm_bm25_last_stats(const cm_bm25_searcher *s, cm_bm25_search_stats *st);

#endif
