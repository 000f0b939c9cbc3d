/* okapi_bm25.h -- registers okapi_bm25(k1, b), an FTS5 ranking function
 * (see okapi_bm25.c), on a connection. */
#ifndef CM_OKAPI_BM25_H
#define CM_OKAPI_BM25_H

#include <sqlite3.h>

/* Returns 0, or -1 when this SQLite has no FTS5. */
int cm_okapi_bm25_register(sqlite3 *db);

#endif
