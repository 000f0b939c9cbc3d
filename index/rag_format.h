/* rag_format.h -- what the RAG export's builder (rag_build.c) and searcher
 * (rag_search.c) agree on: the fusion constants both record or use, the
 * version written into the manifest, and how SQLite errors are reported.
 * Internal to index/. */
#ifndef CM_RAG_FORMAT_H
#define CM_RAG_FORMAT_H

#include <sqlite3.h>
#include <stdio.h>

#include "../pipeline/util.h"
#include "faiss_error.h"

#define CM_RAG_VERSION "0.2.0"
#define CM_FUSION_DEPTH 100  /* each list's depth for hybrid */
/* BM25's share of a hybrid score when index.hybrid_weight is auto. A
 * lexical model (hash) sees what BM25 sees, less well: on RGB and CMRC 2018
 * no weight below 1 beat BM25 on both (bench/README.md has the sweep), so
 * BM25 orders and the dense list fills in; a neural one adds meaning. */
#define CM_HYBRID_WEIGHT_LEXICAL 1.0
#define CM_HYBRID_WEIGHT_NEURAL 0.5

/* The export's files of a generation: generation 0 (a fresh export) has
 * index.faiss, chunks.sqlite, bm25.idx; `index update` writes generation
 * g as index.g.faiss, chunks.g.sqlite, bm25.g.idx (and tombstones.g.ids)
 * and switches the manifest to them. name: the file name alone. */
static inline void cm_rag_file(const char *base, const char *ext, long generation, char *name, size_t cap)
{
    if (generation > 0) snprintf(name, cap, "%s.%ld.%s", base, generation, ext);
    else snprintf(name, cap, "%s.%s", base, ext);
}

static inline int cm_sql_error(sqlite3 *db, cm_err *err, const char *what)
{
    return cm_errorf(err, "SQLite: %s: %s", what, db ? sqlite3_errmsg(db) : "cannot open");
}

#endif
