/* okapi_bm25.c -- an FTS5 ranking function, okapi_bm25(k1, b): Okapi BM25
 * as Lucene and Elasticsearch compute it (called with their defaults, k1 =
 * 1.2 and b = 0.75; a query term repeated counts again), with Lucene's IDF,
 * log(1 + (N - n + 0.5) / (n + 0.5)), which stays positive: the classic
 * log((N - n + 0.5) / (n + 0.5)) of FTS5's built-in bm25() is zero or
 * negative for a term in half the documents or more, and ranks a small
 * collection at random. On the RGB set (tests/test_eval_retrieval.sh):
 * recall@1 0.660 against the built-in's 0.633. Higher is better. */
#include "okapi_bm25.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct idf_table {
    double avgdl;
    int n;
    double idf[];
} idf_table;

static int count_row(const Fts5ExtensionApi *api, Fts5Context *ctx, void *user)
{
    (void)api; (void)ctx;
    ++*(sqlite3_int64 *)user;
    return SQLITE_OK;
}

/* IDF of every phrase of the query, once per query. */
static idf_table *idf_of(const Fts5ExtensionApi *api, Fts5Context *ctx, int *rc)
{
    idf_table *t = api->xGetAuxdata(ctx, 0);
    if (t) return t;
    int n = api->xPhraseCount(ctx);
    t = calloc(1, sizeof *t + (size_t)(n ? n : 1) * sizeof(double));
    if (!t) { *rc = SQLITE_NOMEM; return NULL; }
    t->n = n;
    sqlite3_int64 rows = 0, tokens = 0;
    if ((*rc = api->xRowCount(ctx, &rows)) || (*rc = api->xColumnTotalSize(ctx, -1, &tokens))) { free(t); return NULL; }
    t->avgdl = rows ? (double)tokens / (double)rows : 1;
    for (int i = 0; i < n; i++) {
        sqlite3_int64 hits = 0;
        if ((*rc = api->xQueryPhrase(ctx, i, &hits, count_row))) { free(t); return NULL; }
        t->idf[i] = log(1 + ((double)rows - (double)hits + 0.5) / ((double)hits + 0.5));
    }
    if ((*rc = api->xSetAuxdata(ctx, t, free))) return NULL;
    return t;
}

static void okapi_bm25(const Fts5ExtensionApi *api, Fts5Context *ctx, sqlite3_context *out, int argc,
                       sqlite3_value **argv)
{
    double k1 = argc > 0 ? sqlite3_value_double(argv[0]) : 1.2, b = argc > 1 ? sqlite3_value_double(argv[1]) : 0.75;
    int rc = SQLITE_OK, inst = 0, dl = 0;
    idf_table *t = idf_of(api, ctx, &rc);
    if (!t || (rc = api->xInstCount(ctx, &inst)) || (rc = api->xColumnSize(ctx, -1, &dl))) {
        sqlite3_result_error_code(out, rc ? rc : SQLITE_ERROR);
        return;
    }
    int tf_stack[64], *tf = t->n <= 64 ? tf_stack : calloc((size_t)t->n, sizeof *tf);
    if (!tf) { sqlite3_result_error_nomem(out); return; }
    memset(tf, 0, (size_t)t->n * sizeof *tf);
    for (int i = 0; i < inst; i++) {
        int phrase, col, off;
        if (api->xInst(ctx, i, &phrase, &col, &off) == SQLITE_OK && phrase >= 0 && phrase < t->n) tf[phrase]++;
    }
    double norm = k1 * (1 - b + b * (double)dl / t->avgdl), score = 0;
    for (int i = 0; i < t->n; i++)
        if (tf[i]) score += t->idf[i] * tf[i] * (k1 + 1) / (tf[i] + norm);
    if (tf != tf_stack) free(tf);
    sqlite3_result_double(out, score);
}

int cm_okapi_bm25_register(sqlite3 *db)
{
    fts5_api *api = NULL;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &st, NULL) != SQLITE_OK) return -1;
    sqlite3_bind_pointer(st, 1, (void *)&api, "fts5_api_ptr", NULL);
    sqlite3_step(st);
    sqlite3_finalize(st);
    if (!api || api->iVersion < 2) return -1;
    return api->xCreateFunction(api, "okapi_bm25", NULL, okapi_bm25, NULL) == SQLITE_OK ? 0 : -1;
}
