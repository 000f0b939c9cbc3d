/* rag_format.h -- what the RAG export's builder (rag_build.c) and searcher
 * (rag_search.c) agree on: the fusion constants both record or use, the
 * version written into the manifest, and how SQLite errors are reported.
 * Internal to index/. */
#ifndef CM_RAG_FORMAT_H
#define CM_RAG_FORMAT_H

#include <sqlite3.h>

#include "../pipeline/util.h"
#include "faiss_error.h"

#define CM_RAG_VERSION "0.1.0"
#define CM_RRF_K 60          /* reciprocal rank fusion's k (hybrid) */
#define CM_FUSION_DEPTH 100  /* each list's depth for hybrid */

static inline int cm_sql_error(sqlite3 *db, cm_err *err, const char *what)
{
    return cm_errorf(err, "SQLite: %s: %s", what, db ? sqlite3_errmsg(db) : "cannot open");
}

#endif
