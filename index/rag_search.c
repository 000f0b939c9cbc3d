/* rag_search.c -- searching a RAG export (see rag.h): dense through the
 * FAISS index, BM25 through the chunk store's FTS5 table and corpusmill's
 * okapi_bm25 ranking, hybrid by reciprocal rank fusion of the two. */
#define _GNU_SOURCE
#include "rag.h"

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <faiss/c_api/Index_c.h>
#include <faiss/c_api/index_io_c.h>

#include "../embed/embedder.h"
#include "../pipeline/json.h"
#include "bm25_terms.h"
#include "okapi_bm25.h"
#include "rag_format.h"

void omp_set_num_threads(int n); /* libgomp's: FAISS's parallel loops */

struct cm_rag {
    FaissIndex *index;
    sqlite3_stmt *df;     /* a term's document frequency (chunks_vocab), NULL for older exports */
    int owns_index;       /* 0 for instances sharing another's (cm_rag_open_shared) */
    sqlite3 *db;
    sqlite3_stmt *bm25, *row;
    cm_embedder *model;
    long dim;
    float *qvec;
    cm_buf terms, match;
};

typedef struct rag_manifest {
    char model[4096];
    char prefix[1024];
    int has_prefix;
    long dim;
} rag_manifest;

static cm_rag *open_rag(const char *dir, const cm_rag *share, cm_err *err);

cm_rag *cm_rag_open(const char *dir, cm_err *err) { return open_rag(dir, NULL, err); }

cm_rag *cm_rag_open_shared(const char *dir, const cm_rag *base, cm_err *err) { return open_rag(dir, base, err); }

static cm_rag *open_rag(const char *dir, const cm_rag *share, cm_err *err)
{
    char path[4300];
    rag_manifest m;
    memset(&m, 0, sizeof m);
    double dim = 0;
    cm_json_field f[] = {{"model", CM_JSON_STRING, m.model, sizeof m.model, NULL},
                         {"dim", CM_JSON_NUMBER, &dim, 0, NULL},
                         {"query_prefix", CM_JSON_STRING, m.prefix, sizeof m.prefix, &m.has_prefix},
                         {NULL, 0, NULL, 0, NULL}};
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    cm_err e;
    if (cm_json_file_fields(path, f, NULL, &e)) {
        cm_errorf(err, "%s (not a RAG export?)", e.msg);
        return NULL;
    }
    m.dim = (long)dim;
    cm_rag *r = cm_calloc(1, sizeof *r);
    cm_buf_init(&r->terms);
    cm_buf_init(&r->match);
    r->dim = m.dim;
    snprintf(path, sizeof path, "%s/index.faiss", dir);
    if (share) {
        r->index = share->index;
    } else {
        if (faiss_read_index_fname(path, 0, &r->index)) { cm_faiss_error(err, path); cm_rag_close(r); return NULL; }
        r->owns_index = 1;
    }
    if (faiss_Index_d(r->index) != m.dim) {
        cm_errorf(err, "%s: dimension %d, the manifest says %ld", path, faiss_Index_d(r->index), m.dim);
        cm_rag_close(r);
        return NULL;
    }
    snprintf(path, sizeof path, "%s/chunks.sqlite", dir);
    if (sqlite3_open_v2(path, &r->db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK || cm_okapi_bm25_register(r->db) ||
        sqlite3_prepare_v2(r->db, "SELECT rowid, okapi_bm25(chunks_fts, 1.2, 0.75) AS s FROM chunks_fts"
                                  " WHERE chunks_fts MATCH ?1 ORDER BY s DESC, rowid LIMIT ?2", -1, &r->bm25, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(r->db, "SELECT doc_id, source, headings, start, \"end\", text FROM chunks WHERE id = ?1", -1,
                           &r->row, NULL) != SQLITE_OK) {
        cm_sql_error(r->db, err, path);
        cm_rag_close(r);
        return NULL;
    }
    if (sqlite3_prepare_v2(r->db, "SELECT doc FROM chunks_vocab WHERE term = ?1", -1, &r->df, NULL) != SQLITE_OK)
        r->df = NULL;
    cm_embedder_opts o;
    cm_embedder_opts_init(&o);
    o.hash_dim = (size_t)m.dim;
    o.threads = 1;
    o.query_prefix = m.has_prefix ? m.prefix : NULL;
    if (!(r->model = cm_embedder_open(m.model, &o, err))) { cm_rag_close(r); return NULL; }
    r->qvec = cm_malloc(cm_embedder_dim(r->model) * sizeof *r->qvec);
    return r;
}

void cm_rag_close(cm_rag *r)
{
    if (!r) return;
    if (r->index && r->owns_index) faiss_Index_free(r->index);
    sqlite3_finalize(r->bm25);
    sqlite3_finalize(r->row);
    sqlite3_finalize(r->df);
    sqlite3_close(r->db);
    cm_embedder_free(r->model);
    free(r->qvec);
    cm_buf_free(&r->terms);
    cm_buf_free(&r->match);
    free(r);
}

uint64_t cm_rag_size(const cm_rag *r) { return (uint64_t)faiss_Index_ntotal(r->index); }

int cm_rag_mode_parse(const char *s)
{
    if (!strcmp(s, "dense")) return CM_RAG_DENSE;
    if (!strcmp(s, "bm25")) return CM_RAG_BM25;
    if (!strcmp(s, "hybrid")) return CM_RAG_HYBRID;
    return -1;
}

static long dense(cm_rag *r, const char *q, size_t k, cm_rag_hit *hits, cm_err *err)
{
    size_t len = strlen(q);
    if (cm_embedder_embed(r->model, &q, &len, 1, 1, r->qvec, err)) return -1;
    return cm_rag_search_vector(r, r->qvec, k, hits, err);
}

void cm_rag_search_threads(int n) { omp_set_num_threads(n > 0 ? n : 1); }

long cm_rag_search_vector(cm_rag *r, const float *vec, size_t k, cm_rag_hit *hits, cm_err *err)
{
    idx_t *ids = cm_malloc(k * sizeof *ids);
    float *d = cm_malloc(k * sizeof *d);
    long n = 0;
    if (faiss_Index_search(r->index, 1, vec, (idx_t)k, d, ids)) n = cm_faiss_error(err, "search");
    else
        for (size_t i = 0; i < k; i++)
            if (ids[i] >= 0) hits[n++] = (cm_rag_hit){ids[i], d[i], d[i], NAN, (int)i + 1, 0};
    free(ids);
    free(d);
    return n;
}

#define MAX_QUERY_TERMS 32

typedef struct qterm {
    const char *s;
    size_t n;
    double df;
    int count; /* times in the query */
} qterm;

static int by_df(const void *a, const void *b)
{
    double x = ((const qterm *)a)->df, y = ((const qterm *)b)->df;
    return x < y ? -1 : x > y;
}

/* The query's distinct terms with their document frequencies; terms in no
 * chunk are dropped (they score nothing), and of the rest the
 * MAX_QUERY_TERMS rarest are kept: a long question in Chinese has dozens of
 * unigrams and bigrams, and the common ones (的, 是) match nearly every chunk
 * while adding almost nothing to a score. */
static size_t query_terms(cm_rag *r, qterm *out, size_t cap)
{
    size_t n = 0;
    const char *t = r->terms.data;
    while (t && *t) {
        const char *e = strchr(t, ' ');
        size_t len = e ? (size_t)(e - t) : strlen(t);
        size_t i = 0;
        while (i < n && !(out[i].n == len && !memcmp(out[i].s, t, len))) i++;
        if (i < n) out[i].count++;
        else if (n < cap) out[n++] = (qterm){t, len, 0, 1};
        t = e ? e + 1 : NULL;
    }
    if (!r->df) return n; /* an export without chunks_vocab: every term */
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        sqlite3_reset(r->df);
        sqlite3_bind_text(r->df, 1, out[i].s, (int)out[i].n, SQLITE_STATIC);
        out[i].df = sqlite3_step(r->df) == SQLITE_ROW ? sqlite3_column_double(r->df, 0) : 0;
        if (out[i].df > 0) out[kept++] = out[i];
    }
    qsort(out, kept, sizeof *out, by_df);
    return kept < MAX_QUERY_TERMS ? kept : MAX_QUERY_TERMS;
}

static long bm25(cm_rag *r, const char *q, size_t k, cm_rag_hit *hits, cm_err *err)
{
    cm_buf_clear(&r->terms);
    cm_bm25_terms(q, strlen(q), &r->terms);
    qterm terms[512];
    size_t nt = query_terms(r, terms, sizeof terms / sizeof *terms);
    if (!nt) return 0;
    /* "t1" OR "t2" ...: quoted; a repeated term counts again */
    cm_buf_clear(&r->match);
    for (size_t i = 0; i < nt; i++)
        for (int c = 0; c < terms[i].count; c++) {
            if (r->match.len) cm_buf_append_str(&r->match, " OR ");
            cm_buf_append_char(&r->match, '"');
            cm_buf_append(&r->match, terms[i].s, terms[i].n);
            cm_buf_append_char(&r->match, '"');
        }
    sqlite3_reset(r->bm25);
    sqlite3_bind_text(r->bm25, 1, r->match.data, (int)r->match.len, SQLITE_STATIC);
    sqlite3_bind_int64(r->bm25, 2, (sqlite3_int64)k);
    long n = 0;
    int s;
    while ((s = sqlite3_step(r->bm25)) == SQLITE_ROW) {
        double score = sqlite3_column_double(r->bm25, 1);
        hits[n] = (cm_rag_hit){sqlite3_column_int64(r->bm25, 0), score, NAN, score, 0, (int)n + 1};
        n++;
    }
    if (s != SQLITE_DONE) return cm_sql_error(r->db, err, "bm25 search");
    return n;
}

static int by_score(const void *a, const void *b)
{
    const cm_rag_hit *x = a, *y = b;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    return x->chunk_id < y->chunk_id ? -1 : x->chunk_id > y->chunk_id;
}

long cm_rag_search(cm_rag *r, const char *query, cm_rag_mode mode, size_t k, cm_rag_hit *hits, cm_err *err)
{
    if (k == 0) return 0;
    if (mode == CM_RAG_DENSE) return dense(r, query, k, hits, err);
    if (mode == CM_RAG_BM25) return bm25(r, query, k, hits, err);
    size_t depth = k > CM_FUSION_DEPTH ? k : CM_FUSION_DEPTH;
    cm_rag_hit *a = cm_malloc(depth * sizeof *a), *b = cm_malloc(depth * sizeof *b);
    cm_rag_hit *all = cm_malloc(2 * depth * sizeof *all);
    long na = dense(r, query, depth, a, err), nb = na < 0 ? -1 : bm25(r, query, depth, b, err);
    long n = 0;
    if (na >= 0 && nb >= 0) {
        for (long i = 0; i < na; i++) {
            all[n] = a[i];
            all[n++].score = 1.0 / (CM_RRF_K + a[i].dense_rank);
        }
        for (long j = 0; j < nb; j++) {
            long i = 0;
            while (i < n && all[i].chunk_id != b[j].chunk_id) i++;
            if (i == n) {
                all[n] = b[j];
                all[n++].score = 0;
            }
            all[i].bm25 = b[j].bm25;
            all[i].bm25_rank = b[j].bm25_rank;
            all[i].score += 1.0 / (CM_RRF_K + b[j].bm25_rank);
        }
        qsort(all, (size_t)n, sizeof *all, by_score);
        if ((size_t)n > k) n = (long)k;
        memcpy(hits, all, (size_t)n * sizeof *hits);
    } else {
        n = -1;
    }
    free(a);
    free(b);
    free(all);
    return n;
}

int cm_rag_hit_json(cm_rag *r, const cm_rag_hit *h, int rank, cm_buf *out, cm_err *err)
{
    sqlite3_reset(r->row);
    sqlite3_bind_int64(r->row, 1, h->chunk_id);
    if (sqlite3_step(r->row) != SQLITE_ROW) return cm_errorf(err, "chunk %lld is in the index but not in chunks.sqlite", (long long)h->chunk_id);
    cm_buf_appendf(out, "{\"rank\": %d, \"chunk_id\": %lld, \"score\": %.6g", rank, (long long)h->chunk_id, h->score);
    if (!isnan(h->dense)) cm_buf_appendf(out, ", \"dense_score\": %.6g, \"dense_rank\": %d", h->dense, h->dense_rank);
    if (!isnan(h->bm25)) cm_buf_appendf(out, ", \"bm25_score\": %.6g, \"bm25_rank\": %d", h->bm25, h->bm25_rank);
    static const char *const names[] = {"doc_id", "source", "headings", "start", "end", "text"};
    for (int c = 0; c < 6; c++) {
        cm_buf_appendf(out, ", \"%s\": ", names[c]);
        int type = sqlite3_column_type(r->row, c);
        if (type == SQLITE_NULL) cm_buf_append_str(out, "null");
        else if (type == SQLITE_INTEGER) cm_buf_appendf(out, "%lld", (long long)sqlite3_column_int64(r->row, c));
        else if (c == 2) cm_buf_append(out, (const char *)sqlite3_column_text(r->row, c), (size_t)sqlite3_column_bytes(r->row, c));
        else cm_buf_append_json_bytes(out, (const char *)sqlite3_column_text(r->row, c), (size_t)sqlite3_column_bytes(r->row, c));
    }
    cm_buf_append_char(out, '}');
    return 0;
}

const char *cm_rag_chunk_text(cm_rag *r, int64_t id, size_t *len)
{
    sqlite3_reset(r->row);
    sqlite3_bind_int64(r->row, 1, id);
    if (sqlite3_step(r->row) != SQLITE_ROW) return NULL;
    *len = (size_t)sqlite3_column_bytes(r->row, 5);
    return (const char *)sqlite3_column_text(r->row, 5);
}

int cm_rag_hit_text(cm_rag *r, const cm_rag_hit *h, int rank, cm_buf *out, cm_err *err)
{
    sqlite3_reset(r->row);
    sqlite3_bind_int64(r->row, 1, h->chunk_id);
    if (sqlite3_step(r->row) != SQLITE_ROW) return cm_errorf(err, "chunk %lld is in the index but not in chunks.sqlite", (long long)h->chunk_id);
    const char *doc = (const char *)sqlite3_column_text(r->row, 0), *src = (const char *)sqlite3_column_text(r->row, 1);
    const char *heads = (const char *)sqlite3_column_text(r->row, 2), *text = (const char *)sqlite3_column_text(r->row, 5);
    cm_buf_appendf(out, "%d. %s  (%s, chunk %lld, score %.4g)", rank, doc ? doc : "", src ? src : "",
                   (long long)h->chunk_id, h->score);
    if (heads && strcmp(heads, "[]")) cm_buf_appendf(out, "  %s", heads);
    cm_buf_append_str(out, "\n   ");
    /* the text on one line, cut at 300 bytes on a character boundary */
    size_t n = text ? strlen(text) : 0, cut = n > 300 ? 300 : n;
    while (cut < n && ((unsigned char)text[cut] & 0xC0) == 0x80) cut--;
    for (size_t i = 0; i < cut; i++) cm_buf_append_char(out, text[i] == '\n' ? ' ' : text[i]);
    if (cut < n) cm_buf_append_str(out, " ...");
    cm_buf_append_char(out, '\n');
    return 0;
}
