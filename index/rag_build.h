/* rag_build.h -- building the RAG export OUT/rag/ from embed's outputs
 * (OUT/chunks/, OUT/embeddings/):
 *
 *   index.faiss     the chunk vectors, ids = chunk ids, inner product (the
 *                   vectors are unit length: cosine); faiss.read_index reads it
 *   chunks.sqlite   table chunks (id, doc_id, doc_key, source, chunk_index,
 *                   start, end, headings, text, metadata); with index.fts5,
 *                   chunks_fts too, an FTS5 table over the BM25 terms
 *                   (index/bm25_terms.h) whose rowid is the chunk id
 *   bm25.idx        the BM25 impact index (index/bm25_index.h)
 *   manifest.json   the embedder, chunking, index factory and search
 *                   parameters, counts, sha256 of each file
 *
 * In one go (cm_rag_export) or in steps a cluster can spread: train (one
 * task: the factory, trained on a sample), add (N tasks, each its share of
 * the embeddings parts and of the chunks' BM25 index), merge (one task: IVF
 * shards merged, other kinds rebuilt; BM25 parts merged; the chunk store;
 * the manifest). rag.h searches the export. */
#ifndef CM_RAG_BUILD_H
#define CM_RAG_BUILD_H

#include <stdint.h>

#include "../pipeline/config.h"

/* The `index` section: how the export's FAISS index is built. */
typedef struct cm_index_options {
    char *factory;             /* a FAISS factory string, or auto                 default: auto */
    long ef_search;            /* HNSW search breadth                             default: 64 */
    long nprobe;               /* IVF lists searched                              default: 16 */
    uint64_t memory;           /* budget for auto's choice                        default: 8 GiB */
    uint64_t bm25_memory;      /* postings a BM25 build holds before a run        default: 1 GiB */
    int fts5;                  /* an FTS5 table in chunks.sqlite too              default: false */
    double hybrid_weight;      /* BM25's share of a hybrid score, -1 auto          default: auto */
} cm_index_options;

/* Each returns 0, or -1 with err. query_prefix (the embed section's, NULL
 * for the model's own) is recorded in the manifest. */
int cm_rag_export(const cm_config *cfg, const cm_index_options *o, const char *query_prefix, uint64_t *chunks,
                  cm_err *err);
int cm_rag_train(const cm_config *cfg, const cm_index_options *o, cm_err *err);
/* Adds parts task, task + tasks, ... to the trained index: a shard. */
int cm_rag_add(const cm_config *cfg, const cm_index_options *o, int task, int tasks, uint64_t *added, cm_err *err);
/* The final index from `shards` add tasks (0: adds every part itself), the
 * chunk store and the manifest; the chunks stored go to *chunks. */
int cm_rag_merge(const cm_config *cfg, const cm_index_options *o, const char *query_prefix, int shards, uint64_t *chunks,
                 cm_err *err);

#endif
