/* rag_build.c -- building the RAG export (see rag_build.h): the FAISS index
 * through FAISS's own C API, in steps a cluster can spread (train, add,
 * merge), the SQLite chunk store, the BM25 impact index (bm25_index.h; an
 * FTS5 table too when asked), and the manifest. Searching it is
 * rag_search.c. */
#define _GNU_SOURCE
#include "rag_build.h"

#include <cblas.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <faiss/c_api/AutoTune_c.h>
#include <faiss/c_api/IndexIVF_c.h>
#include <faiss/c_api/Index_c.h>
#include <faiss/c_api/error_c.h>
#include <faiss/c_api/index_factory_c.h>
#include <faiss/c_api/index_io_c.h>

#include "../embed/embed_stage.h"
#include "../embed/npy.h"
#include "../pipeline/json.h"
#include "../pipeline/layout.h"
#include "../pipeline/progress.h"
#include "../pipeline/stage_reader.h"
#include "../pipeline/writer.h"
#include "bm25_index.h"
#include "bm25_terms.h"
#include "checksum.h"
#include "rag_format.h"
#include "rag_internal.h"

/* ---- the FAISS index ---- */

/* auto: the choice and why, from the count and dimension. */
static void choose_factory(const cm_index_options *o, size_t n, long dim, char *factory, size_t cap, char *why, size_t wcap)
{
    if (strcmp(o->factory, "auto")) {
        snprintf(factory, cap, "%s", o->factory);
        snprintf(why, wcap, "index.factory in the config");
        return;
    }
    double hnsw_bytes = (double)n * ((double)dim * 4 + 32 * 2 * 4 + 16);
    if (n < 10000) {
        snprintf(factory, cap, "IDMap,Flat");
        snprintf(why, wcap, "%zu vectors: fewer than 10,000, exact search is fast enough", n);
    } else if (hnsw_bytes <= (double)o->memory) {
        snprintf(factory, cap, "IDMap,HNSW32");
        snprintf(why, wcap, "%zu vectors: HNSW32 needs about %.0f MB, within index.memory", n, hnsw_bytes / 1e6);
    } else {
        size_t k = 1;
        while (k * k < 64 * n) k <<= 1; /* a power of two near 8 sqrt(n) */
        snprintf(factory, cap, "IVF%zu,Flat", k);
        snprintf(why, wcap, "%zu vectors: HNSW32 (%.0f MB) would exceed index.memory; IVF with ~8 sqrt(N) lists", n,
                 hnsw_bytes / 1e6);
    }
}

typedef struct parts {
    char **ids;     /* embeddings/part-*.ids.npy */
    size_t n;
} parts;

static int list_parts(const char *out, parts *p, cm_err *err)
{
    char dir[4300];
    snprintf(dir, sizeof dir, "%s/embeddings", out);
    size_t n;
    char **all = cm_list_dir(dir, "part-", &n);
    memset(p, 0, sizeof *p);
    p->ids = cm_calloc(n ? n : 1, sizeof *p->ids);
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(all[i]);
        if (l > 8 && !strcmp(all[i] + l - 8, ".ids.npy")) p->ids[p->n++] = cm_strdup(all[i]);
    }
    cm_free_list(all, n);
    if (!p->n) return cm_errorf(err, "%s has no embeddings parts (run embed first)", dir);
    return 0;
}

static void free_parts(parts *p)
{
    for (size_t i = 0; i < p->n; i++) free(p->ids[i]);
    free(p->ids);
}

/* The vectors and ids of part i; checked to agree. */
static int load_part(const parts *p, size_t i, long dim, float **vec, int64_t **ids, size_t *rows, cm_err *err)
{
    char vpath[4300];
    snprintf(vpath, sizeof vpath, "%.*s.npy", (int)(strlen(p->ids[i]) - 8), p->ids[i]);
    size_t r1, c1, r2, c2;
    *ids = cm_npy_load(p->ids[i], CM_NPY_I64, &r1, &c1, err);
    if (!*ids) return -1;
    *vec = cm_npy_load(vpath, CM_NPY_F32, &r2, &c2, err);
    if (!*vec) { free(*ids); return -1; }
    if (r1 != r2 || c1 != 0 || (long)c2 != dim) {
        free(*ids);
        free(*vec);
        return cm_errorf(err, "%s: %zu ids for %zu rows of %zu (dim %ld)", p->ids[i], r1, r2, c2, dim);
    }
    *rows = r1;
    return 0;
}

/* ---- the recall check ---- */

#define RECALL_QUERIES 1000
#define RECALL_K 10

/* recall@10 of the index against exact search, for a deterministic sample
 * of the stored vectors as queries. A result counts when its score reaches
 * the exact 10th score (ties between equal vectors are not misses). */
static int measure_recall(FaissIndex *idx, const parts *p, long dim, size_t n, double *recall, size_t *queries,
                          cm_err *err)
{
    size_t nq = n < RECALL_QUERIES ? n : RECALL_QUERIES, stride = n / (nq ? nq : 1), got = 0, seen = 0;
    float *q = cm_malloc((nq ? nq : 1) * (size_t)dim * sizeof *q);
    float *best = cm_malloc((nq ? nq : 1) * RECALL_K * sizeof *best); /* per query, sorted descending */
    for (size_t i = 0; i < nq * RECALL_K; i++) best[i] = -INFINITY;
    int rc = 0;
    for (size_t i = 0; i < p->n && rc == 0; i++) { /* the queries */
        float *vec;
        int64_t *ids;
        size_t rows;
        if (load_part(p, i, dim, &vec, &ids, &rows, err)) { rc = -1; break; }
        for (size_t j = 0; j < rows && got < nq; j++, seen++)
            if (seen % (stride ? stride : 1) == 0) memcpy(q + got++ * (size_t)dim, vec + j * (size_t)dim, (size_t)dim * sizeof *q);
        free(vec);
        free(ids);
    }
    nq = got;
    for (size_t i = 0; i < p->n && rc == 0; i++) { /* exact top 10 by brute force */
        float *vec;
        int64_t *ids;
        size_t rows;
        if (load_part(p, i, dim, &vec, &ids, &rows, err)) { rc = -1; break; }
        for (size_t r0 = 0; r0 < rows; r0 += 4096) {
            size_t nr = rows - r0 < 4096 ? rows - r0 : 4096;
            float *s = cm_malloc(nq * nr * sizeof *s);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)nq, (int)nr, (int)dim, 1.0f, q, (int)dim,
                        vec + r0 * (size_t)dim, (int)dim, 0.0f, s, (int)nr);
            for (size_t a = 0; a < nq; a++) {
                float *b = best + a * RECALL_K;
                for (size_t c = 0; c < nr; c++) {
                    float v = s[a * nr + c];
                    if (v <= b[RECALL_K - 1]) continue;
                    int k = RECALL_K - 1;
                    while (k > 0 && b[k - 1] < v) { b[k] = b[k - 1]; k--; }
                    b[k] = v;
                }
            }
            free(s);
        }
        free(vec);
        free(ids);
    }
    if (rc == 0 && nq) {
        float *d = cm_malloc(nq * RECALL_K * sizeof *d);
        idx_t *l = cm_malloc(nq * RECALL_K * sizeof *l);
        if (faiss_Index_search(idx, (idx_t)nq, q, RECALL_K, d, l)) rc = cm_faiss_error(err, "search");
        size_t hits = 0, want = 0;
        for (size_t a = 0; rc == 0 && a < nq; a++) {
            size_t k = n < RECALL_K ? n : RECALL_K;
            float threshold = best[a * RECALL_K + k - 1] - 1e-5f;
            want += k;
            for (size_t j = 0; j < k; j++) hits += l[a * RECALL_K + j] >= 0 && d[a * RECALL_K + j] >= threshold;
        }
        *recall = want ? (double)hits / (double)want : 1;
        free(d);
        free(l);
    } else if (rc == 0) {
        *recall = 1;
    }
    *queries = nq;
    free(q);
    free(best);
    return rc;
}

/* The build is three steps so that a cluster can spread the adding:
 *   train  (one task)  count, choose the factory, train on a sample:
 *                      OUT/index/rag/trained.faiss and plan.json
 *   add    (task t)    the trained index plus parts t, t + N, ...:
 *                      OUT/index/rag/shard-TTTTT.faiss
 *   merge  (one task)  IVF shards merged list by list (merge_from); other
 *                      kinds rebuilt from the parts; then search
 *                      parameters, the recall check, OUT/rag/index.faiss */

static void work_path(const char *out, const char *name, char *path, size_t cap)
{
    snprintf(path, cap, "%s/index/rag/%s", out, name);
}

static int write_index(FaissIndex *idx, const char *path, cm_err *err)
{
    char tmp[4500];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    if (faiss_write_index_fname(idx, tmp)) return cm_faiss_error(err, tmp);
    if (rename(tmp, path)) return cm_errorf(err, "cannot rename '%s': %s", tmp, strerror(errno));
    return 0;
}

static int read_index(const char *path, FaissIndex **idx, cm_err *err)
{
    if (!cm_path_exists(path)) return cm_errorf(err, "%s is missing (run index train first)", path);
    if (faiss_read_index_fname(path, 0, idx)) return cm_faiss_error(err, path);
    return 0;
}

typedef struct plan {
    char factory[256], why[256];
    double vectors;
} plan;

static int read_plan(const char *out, plan *p, cm_err *err)
{
    char path[4400];
    work_path(out, "plan.json", path, sizeof path);
    memset(p, 0, sizeof *p);
    cm_json_field f[] = {{"factory", CM_JSON_STRING, p->factory, sizeof p->factory, NULL},
                         {"why", CM_JSON_STRING, p->why, sizeof p->why, NULL},
                         {"vectors", CM_JSON_NUMBER, &p->vectors, 0, NULL},
                         {NULL, 0, NULL, 0, NULL}};
    cm_err e;
    int rc = cm_json_file_fields(path, f, NULL, &e);
    if (rc || !p->factory[0]) return cm_errorf(err, "%s (run index train first)", rc ? e.msg : "plan.json has no factory");
    return 0;
}

int cm_rag_train(const cm_config *cfg, const cm_index_options *o, cm_err *err)
{
    const char *out = cfg->output.dir;
    cm_embed_manifest em;
    if (cm_embed_manifest_read(out, &em, err)) return -1;
    parts p;
    int rc = list_parts(out, &p, err);
    size_t n = 0;
    for (size_t i = 0; i < p.n && rc == 0; i++) {
        size_t r, c;
        int64_t *ids = cm_npy_load(p.ids[i], CM_NPY_I64, &r, &c, err);
        if (!ids) rc = -1;
        free(ids);
        n += r;
    }
    cm_progress prog;
    cm_progress_init(&prog, cfg->run.progress, cfg->run.progress_fd, "index train");
    cm_progress_phase(&prog, "train");
    plan pl;
    choose_factory(o, n, em.dim, pl.factory, sizeof pl.factory, pl.why, sizeof pl.why);
    FaissIndex *idx = NULL;
    if (rc == 0 && faiss_index_factory(&idx, (int)em.dim, pl.factory, METRIC_INNER_PRODUCT)) rc = cm_faiss_error(err, pl.factory);
    if (rc == 0 && !faiss_Index_is_trained(idx)) {
        /* a deterministic sample: every stride-th vector */
        size_t want = n < 100000 ? n : 100000, stride = n / (want ? want : 1), got = 0, seen = 0;
        float *sample = cm_malloc((want ? want : 1) * (size_t)em.dim * sizeof *sample);
        for (size_t i = 0; i < p.n && rc == 0; i++) {
            float *vec;
            int64_t *ids;
            size_t rows;
            if (load_part(&p, i, em.dim, &vec, &ids, &rows, err)) { rc = -1; break; }
            for (size_t j = 0; j < rows && got < want; j++, seen++)
                if (seen % (stride ? stride : 1) == 0)
                    memcpy(sample + got++ * (size_t)em.dim, vec + j * (size_t)em.dim, (size_t)em.dim * sizeof *vec);
            free(vec);
            free(ids);
        }
        if (rc == 0 && faiss_Index_train(idx, (idx_t)got, sample)) rc = cm_faiss_error(err, "train");
        free(sample);
    }
    char path[4400];
    work_path(out, "", path, sizeof path);
    if (rc == 0 && cm_mkdirs(path, err)) rc = -1;
    work_path(out, "trained.faiss", path, sizeof path);
    if (rc == 0) rc = write_index(idx, path, err);
    if (rc == 0) {
        cm_buf b;
        cm_buf_init(&b);
        cm_buf_append_str(&b, "{\"factory\": ");
        cm_buf_append_json_bytes(&b, pl.factory, strlen(pl.factory));
        cm_buf_append_str(&b, ", \"why\": ");
        cm_buf_append_json_bytes(&b, pl.why, strlen(pl.why));
        cm_buf_appendf(&b, ", \"vectors\": %zu, \"parts\": %zu}\n", n, p.n);
        work_path(out, "plan.json", path, sizeof path);
        rc = cm_write_file_atomic(path, b.data, b.len, err);
        cm_buf_free(&b);
    }
    if (idx) faiss_Index_free(idx);
    free_parts(&p);
    free(em.raw);
    cm_progress_end(&prog);
    return rc;
}

/* Adds parts task, task + tasks, ... to idx, in batches so that progress
 * shows (adding a million vectors to HNSW takes minutes). */
static int add_parts(FaissIndex *idx, const parts *p, long dim, int task, int tasks, uint64_t *added, cm_progress *prog,
                     cm_err *err)
{
    enum { BATCH = 65536 };
    cm_progress_phase(prog, "vectors");
    uint64_t share = 0, done = 0;
    for (size_t i = (size_t)task; i < p->n; i += (size_t)tasks) share++;
    int rc = 0;
    for (size_t i = (size_t)task; i < p->n && rc == 0; i += (size_t)tasks) {
        float *vec;
        int64_t *ids;
        size_t rows;
        if (load_part(p, i, dim, &vec, &ids, &rows, err)) { rc = -1; break; }
        for (size_t at = 0; at < rows && rc == 0; at += BATCH) {
            size_t n = rows - at < BATCH ? rows - at : BATCH;
            if (faiss_Index_add_with_ids(idx, (idx_t)n, vec + at * (size_t)dim, ids + at)) rc = cm_faiss_error(err, "add_with_ids");
            *added += n;
            cm_progress_update(prog, *added, *added * (uint64_t)dim * sizeof(float), done * 1000 + (at + n) * 1000 / rows,
                               share * 1000, 0);
        }
        free(vec);
        free(ids);
        done++;
    }
    cm_progress_update(prog, *added, *added * (uint64_t)dim * sizeof(float), 1, 1, 1);
    return rc;
}

static int bm25_part(const cm_config *cfg, const cm_index_options *o, int task, int tasks, cm_progress *prog, cm_err *err);

int cm_rag_add(const cm_config *cfg, const cm_index_options *o, int task, int tasks, uint64_t *added, cm_err *err)
{
    const char *out = cfg->output.dir;
    cm_embed_manifest em;
    if (cm_embed_manifest_read(out, &em, err)) return -1;
    parts p;
    char path[4400], name[64];
    FaissIndex *idx = NULL;
    *added = 0;
    work_path(out, "trained.faiss", path, sizeof path);
    int rc = list_parts(out, &p, err);
    if (rc == 0) rc = read_index(path, &idx, err);
    cm_progress prog;
    cm_progress_init(&prog, cfg->run.progress, cfg->run.progress_fd, "index add");
    if (rc == 0) rc = add_parts(idx, &p, em.dim, task, tasks, added, &prog, err);
    snprintf(name, sizeof name, "shard-%05d.faiss", task);
    work_path(out, name, path, sizeof path);
    if (rc == 0) rc = write_index(idx, path, err);
    if (rc == 0) rc = bm25_part(cfg, o, task, tasks, &prog, err);
    cm_progress_end(&prog);
    if (idx) faiss_Index_free(idx);
    free_parts(&p);
    free(em.raw);
    return rc;
}

static int set_params(FaissIndex *idx, const char *params, cm_err *err)
{
    FaissParameterSpace *ps = NULL;
    int rc = 0;
    if (faiss_ParameterSpace_new(&ps) || faiss_ParameterSpace_set_index_parameters(ps, idx, params))
        rc = cm_faiss_error(err, params);
    faiss_ParameterSpace_free(ps);
    return rc;
}

/* The final index: merged IVF shards, or the trained index with every part. */
static int merge_index(const cm_config *cfg, const cm_index_options *o, const cm_embed_manifest *em, int shards,
                       const char *path, plan *pl, char *params, size_t pcap, uint64_t *total, double *recall,
                       size_t *recall_queries, cm_progress *prog, cm_err *err)
{
    const char *out = cfg->output.dir;
    parts p;
    FaissIndex *idx = NULL;
    char wpath[4400], name[64];
    int rc = list_parts(out, &p, err);
    if (rc == 0) rc = read_plan(out, pl, err);
    /* start from shard 0 (with one shard it is the whole index), or the trained one */
    work_path(out, shards > 0 ? "shard-00000.faiss" : "trained.faiss", wpath, sizeof wpath);
    if (rc == 0) rc = read_index(wpath, &idx, err);
    FaissIndexIVF *ivf = rc == 0 ? faiss_IndexIVF_cast(idx) : NULL;
    uint64_t added = 0;
    if (rc == 0 && ivf && shards > 1) {
        cm_progress_phase(prog, "merge shards");
        for (int t = 1; t < shards && rc == 0; t++) { /* shard 0 is idx */
            cm_progress_update(prog, 0, 0, (uint64_t)t, (uint64_t)shards, 0);
            FaissIndex *shard = NULL;
            snprintf(name, sizeof name, "shard-%05d.faiss", t);
            work_path(out, name, wpath, sizeof wpath);
            if ((rc = read_index(wpath, &shard, err))) break;
            FaissIndexIVF *other = faiss_IndexIVF_cast(shard);
            if (!other) rc = cm_errorf(err, "%s is not an IVF index like the trained one", wpath);
            else if (faiss_IndexIVF_merge_from(ivf, other, 0)) rc = cm_faiss_error(err, "merge_from");
            faiss_Index_free(shard);
        }
    } else if (rc == 0 && shards != 1) { /* no shards, or kinds that do not merge: every part into one */
        if (shards > 1) { /* shard 0 holds some parts already: start from the trained index */
            faiss_Index_free(idx);
            idx = NULL;
            work_path(out, "trained.faiss", wpath, sizeof wpath);
            rc = read_index(wpath, &idx, err);
        }
        if (rc == 0) rc = add_parts(idx, &p, em->dim, 0, 1, &added, prog, err);
    }
    size_t n = rc == 0 ? (size_t)faiss_Index_ntotal(idx) : 0;
    if (rc == 0 && (double)n != pl->vectors)
        rc = cm_errorf(err, "the index holds %zu vectors, the plan %.0f: were the embeddings changed since index train?", n,
                       pl->vectors);
    params[0] = 0;
    int hnsw = strstr(pl->factory, "HNSW") != NULL;
    long width = hnsw ? o->ef_search : o->nprobe;
    if (rc == 0 && (hnsw || strstr(pl->factory, "IVF"))) {
        snprintf(params, pcap, hnsw ? "efSearch=%ld" : "nprobe=%ld", width);
        rc = set_params(idx, params, err);
    }
    *recall = 1;
    *recall_queries = 0;
    cm_progress_phase(prog, "recall check");
    if (rc == 0) rc = measure_recall(idx, &p, em->dim, n, recall, recall_queries, err);
    /* auto promises recall@10 >= 0.95: search wider until it holds */
    while (rc == 0 && !strcmp(o->factory, "auto") && params[0] && *recall < 0.95 && width < 4096) {
        width *= 2;
        snprintf(params, pcap, hnsw ? "efSearch=%ld" : "nprobe=%ld", width);
        rc = set_params(idx, params, err);
        if (rc == 0) rc = measure_recall(idx, &p, em->dim, n, recall, recall_queries, err);
    }
    cm_progress_phase(prog, "write index");
    if (rc == 0) rc = write_index(idx, path, err);
    *total = n;
    if (idx) faiss_Index_free(idx);
    free_parts(&p);
    return rc;
}

/* ---- the chunk store ---- */

typedef struct store {
    int64_t id_base;              /* added to every chunk id (index update's new files) */
    sqlite3 *db;                  /* NULL: only the BM25 index is built */
    sqlite3_stmt *chunk, *fts;    /* fts: NULL without index.fts5 */
    cm_bm25_builder *bm25;        /* NULL: the BM25 index comes from the add tasks' parts */
    cm_buf terms, meta;
    uint64_t n, total;            /* chunks stored, of total (for progress) */
    cm_progress *prog;
} store;

static long member(const cm_json_record *rec, const char *key, cm_json_type type)
{
    long i = cm_json_find(rec, key, NULL);
    return i >= 0 && rec->members[i].type == type ? i : -1;
}

static int store_chunk(void *user, const char *line, size_t len, const cm_json_record *rec, cm_err *err)
{
    (void)len;
    store *s = user;
    long id = member(rec, "chunk_id", CM_JSON_NUMBER), text = member(rec, "text", CM_JSON_STRING);
    long doc = cm_json_find(rec, "doc_id", NULL), heads = member(rec, "headings", CM_JSON_ARRAY);
    if (id < 0 || text < 0 || doc < 0) return cm_errorf(err, "a chunk record without chunk_id, doc_id or text");
    const cm_json_member *m = rec->members;
    long long cid = strtoll(line + m[id].value_start, NULL, 10) + s->id_base;
    const char *heads_text = heads >= 0 ? line + m[heads].value_start : NULL;
    size_t heads_len = heads >= 0 ? m[heads].value_end - m[heads].value_start : 0;
    if (s->db) {
        sqlite3_stmt *st = s->chunk;
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, cid);
        if (m[doc].type == CM_JSON_STRING) sqlite3_bind_text(st, 2, cm_json_str(rec, &m[doc]), (int)m[doc].str_len, SQLITE_STATIC);
        else sqlite3_bind_text(st, 2, line + m[doc].value_start, (int)(m[doc].value_end - m[doc].value_start), SQLITE_STATIC);
        static const char *const ints[] = {"doc_key", "index", "start", "end", "length"};
        for (int i = 0; i < 5; i++) {
            long k = member(rec, ints[i], CM_JSON_NUMBER);
            if (k >= 0) sqlite3_bind_int64(st, 3 + i, strtoll(line + m[k].value_start, NULL, 10));
            else sqlite3_bind_null(st, 3 + i);
        }
        long src = member(rec, "source", CM_JSON_STRING);
        if (src >= 0) sqlite3_bind_text(st, 8, cm_json_str(rec, &m[src]), (int)m[src].str_len, SQLITE_STATIC);
        else sqlite3_bind_null(st, 8);
        if (heads >= 0) sqlite3_bind_text(st, 9, heads_text, (int)heads_len, SQLITE_STATIC);
        else sqlite3_bind_text(st, 9, "[]", 2, SQLITE_STATIC);
        sqlite3_bind_text(st, 10, cm_json_str(rec, &m[text]), (int)m[text].str_len, SQLITE_STATIC);
        /* metadata: the chunk record's fields that have no column (language) */
        cm_buf_clear(&s->meta);
        cm_buf_append_char(&s->meta, '{');
        long lang = member(rec, "language", CM_JSON_STRING);
        if (lang >= 0) {
            cm_buf_append_str(&s->meta, "\"language\": ");
            cm_buf_append(&s->meta, line + m[lang].value_start, m[lang].value_end - m[lang].value_start);
        }
        cm_buf_append_char(&s->meta, '}');
        sqlite3_bind_text(st, 11, s->meta.data, (int)s->meta.len, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE) return cm_sql_error(s->db, err, "insert a chunk");
    }
    if (s->fts) { /* BM25 terms for SQL: the heading path, then the text */
        cm_buf_clear(&s->terms);
        if (heads_text) cm_bm25_terms(heads_text, heads_len, &s->terms);
        cm_bm25_terms(cm_json_str(rec, &m[text]), m[text].str_len, &s->terms);
        sqlite3_reset(s->fts);
        sqlite3_bind_int64(s->fts, 1, cid);
        sqlite3_bind_text(s->fts, 2, s->terms.data ? s->terms.data : "", (int)s->terms.len, SQLITE_STATIC);
        if (sqlite3_step(s->fts) != SQLITE_DONE) return cm_sql_error(s->db, err, "index a chunk for FTS5");
    }
    if (s->bm25 && cm_bm25_builder_add(s->bm25, cid, heads_text, heads_len, cm_json_str(rec, &m[text]), m[text].str_len, err))
        return -1;
    s->n++;
    if (s->prog) cm_progress_update(s->prog, s->n, 0, s->n, s->total > s->n ? s->total : s->n + 1, 0);
    return 0;
}

/* 64 KiB pages: chunks of ~1.5 KB fill them to ~98%, where 4 KiB pages
 * hold two and leave a quarter empty (the store was 1.39x its text). */
static const char SCHEMA[] =
    "PRAGMA page_size=65536; PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
    "CREATE TABLE chunks(id INTEGER PRIMARY KEY, doc_id TEXT NOT NULL, doc_key INTEGER, chunk_index INTEGER,"
    " start INTEGER, \"end\" INTEGER, length INTEGER, source TEXT, headings TEXT NOT NULL, text TEXT NOT NULL,"
    " metadata TEXT NOT NULL DEFAULT '{}');"
    "CREATE INDEX chunks_doc ON chunks(doc_id);"
    "CREATE TABLE info(key TEXT PRIMARY KEY, value TEXT);";

static const char FTS5_SCHEMA[] =
    "CREATE VIRTUAL TABLE chunks_fts USING fts5(terms, content='', tokenize='unicode61');"
    "CREATE VIRTUAL TABLE chunks_vocab USING fts5vocab(chunks_fts, 'row');";

/* The chunk parts of OUT/chunks/, sorted. */
static char **chunk_parts(const char *out, size_t *n, cm_err *err)
{
    char dir[4300];
    snprintf(dir, sizeof dir, "%s/chunks", out);
    char **files = cm_list_dir(dir, "part-", n);
    if (!*n) cm_errorf(err, "%s has no chunk parts (run embed first)", dir);
    return files;
}

/* Walks chunk parts [from, to) into s. */
static int walk_chunks(char **files, size_t from, size_t to, store *s, cm_err *err)
{
    int rc = 0;
    for (size_t i = from; i < to && rc == 0; i++) rc = cm_walk_json_lines(files[i], store_chunk, s, err);
    return rc;
}

/* The chunk store at path; with bm25 (NULL: the BM25 index comes from
 * parts), the chunks inverted for BM25 too, in the same walk. */
static int build_store(const char *out, const cm_index_options *o, const char *path, cm_bm25_builder *bm25,
                       uint64_t total, uint64_t *n, cm_progress *prog, cm_err *err)
{
    store s;
    memset(&s, 0, sizeof s);
    s.total = total;
    s.prog = prog;
    s.bm25 = bm25;
    cm_buf_init(&s.terms);
    cm_buf_init(&s.meta);
    unlink(path);
    int rc = 0;
    if (sqlite3_open(path, &s.db) != SQLITE_OK || sqlite3_exec(s.db, SCHEMA, NULL, NULL, NULL) != SQLITE_OK ||
        (o->fts5 && sqlite3_exec(s.db, FTS5_SCHEMA, NULL, NULL, NULL) != SQLITE_OK) ||
        sqlite3_exec(s.db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(s.db,
                           "INSERT INTO chunks(id, doc_id, doc_key, chunk_index, start, \"end\", length, source,"
                           " headings, text, metadata) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                           -1, &s.chunk, NULL) != SQLITE_OK ||
        (o->fts5 && sqlite3_prepare_v2(s.db, "INSERT INTO chunks_fts(rowid, terms) VALUES(?1, ?2)", -1, &s.fts, NULL) != SQLITE_OK))
        rc = cm_sql_error(s.db, err, path);
    size_t np = 0;
    char **files = rc == 0 ? chunk_parts(out, &np, err) : NULL;
    if (rc == 0 && !np) rc = -1;
    if (rc == 0) rc = walk_chunks(files, 0, np, &s, err);
    cm_free_list(files, np);
    if (rc == 0 && sqlite3_exec(s.db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) rc = cm_sql_error(s.db, err, "commit");
    if (rc == 0 && o->fts5 && sqlite3_exec(s.db, "INSERT INTO chunks_fts(chunks_fts) VALUES('optimize');", NULL, NULL, NULL) != SQLITE_OK)
        rc = cm_sql_error(s.db, err, "FTS5 optimize");
    sqlite3_finalize(s.chunk);
    sqlite3_finalize(s.fts);
    if (sqlite3_close(s.db) != SQLITE_OK && rc == 0) rc = cm_errorf(err, "%s: cannot close", path);
    cm_buf_free(&s.terms);
    cm_buf_free(&s.meta);
    *n = s.n;
    return rc;
}

static void bm25_part_path(const char *out, int task, char *path, size_t cap)
{
    char name[64];
    snprintf(name, sizeof name, "bm25-%05d.idx", task);
    work_path(out, name, path, cap);
}

/* An add task's share of the BM25 index: chunk parts [P t / N, P (t+1) / N),
 * contiguous, so that the parts merged in task order index the chunks in
 * the order one task would: the same file for any split. */
static int bm25_part(const cm_config *cfg, const cm_index_options *o, int task, int tasks, cm_progress *prog, cm_err *err)
{
    const char *out = cfg->output.dir;
    size_t np = 0;
    char **files = chunk_parts(out, &np, err);
    if (!np) return -1;
    size_t from = np * (size_t)task / (size_t)tasks, to = np * (size_t)(task + 1) / (size_t)tasks;
    char path[4400], prefix[4400];
    bm25_part_path(out, task, path, sizeof path);
    snprintf(prefix, sizeof prefix, "%.4390s", path);
    store s;
    memset(&s, 0, sizeof s);
    s.bm25 = cm_bm25_builder_create(prefix, o->bm25_memory);
    s.prog = prog;
    plan pl; /* the chunks are the vectors: this task's share, estimated by parts */
    s.total = read_plan(out, &pl, err) == 0 ? (uint64_t)(pl.vectors * (double)(to - from) / (double)np) : 0;
    cm_progress_phase(prog, "BM25 terms");
    int rc = walk_chunks(files, from, to, &s, err);
    cm_progress_phase(prog, "BM25 part");
    if (rc == 0) rc = cm_bm25_builder_finish(s.bm25, path, prog, err);
    cm_bm25_builder_free(s.bm25);
    cm_free_list(files, np);
    return rc;
}

/* The add tasks' BM25 parts, in task order, into one index. */
static int merge_bm25_parts(const char *out, int shards, const char *path, cm_progress *prog, cm_err *err)
{
    char **paths = cm_calloc((size_t)shards, sizeof *paths);
    for (int t = 0; t < shards; t++) {
        paths[t] = cm_malloc(4400);
        bm25_part_path(out, t, paths[t], 4400);
    }
    int rc = cm_bm25_merge((const char *const *)paths, (size_t)shards, path, prog, err);
    for (int t = 0; t < shards; t++) free(paths[t]);
    free(paths);
    return rc;
}

static int bm25_info(const char *path, cm_bm25_info *info, cm_err *err)
{
    cm_bm25_index *ix = cm_bm25_open(path, NULL, err);
    if (!ix) return -1;
    cm_bm25_info_of(ix, info);
    cm_bm25_close(ix);
    return 0;
}

/* This process's CPU time: the chunk store and BM25 phases run on one
 * thread, so it is their cost per core. */
static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the export ---- */

static int sha256_file(const char *path, char hex[65], cm_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) return cm_errorf(err, "%s: %s", path, strerror(errno));
    struct sha256_ctx ctx;
    sha256_init(&ctx);
    unsigned char buf[1 << 16];
    size_t r;
    while ((r = fread(buf, 1, sizeof buf, f)) > 0) sha256_update(&ctx, r, buf);
    int bad = ferror(f);
    fclose(f);
    if (bad) return cm_errorf(err, "%s: read error", path);
    cm_sha256_finish_hex(&ctx, hex);
    return 0;
}

int cm_rag_export(const cm_config *cfg, const cm_index_options *o, const char *query_prefix, uint64_t *chunks,
                  cm_err *err)
{
    if (cm_rag_train(cfg, o, err)) return -1;
    return cm_rag_merge(cfg, o, query_prefix, 0, chunks, err);
}

int cm_rag_merge(const cm_config *cfg, const cm_index_options *o, const char *query_prefix, int shards, uint64_t *chunks,
                 cm_err *err)
{
    const char *out = cfg->output.dir;
    cm_embed_manifest em;
    if (cm_embed_manifest_read(out, &em, err)) return cm_err_usage(err);
    char dir[4300], ipath[4400], spath[4400], tmp[4500], params[64];
    plan pl;
    snprintf(dir, sizeof dir, "%s/rag", out);
    if (cm_mkdirs(dir, err)) { free(em.raw); return cm_err_usage(err); }
    snprintf(ipath, sizeof ipath, "%s/index.faiss", dir);
    snprintf(spath, sizeof spath, "%s/chunks.sqlite", dir);
    uint64_t vectors = 0, stored = 0;
    double recall = 1, t0 = cm_now();
    size_t recall_queries = 0;
    cm_progress prog;
    cm_progress_init(&prog, cfg->run.progress, cfg->run.progress_fd, "index merge");
    int rc = merge_index(cfg, o, &em, shards, ipath, &pl, params, sizeof params, &vectors, &recall, &recall_queries,
                         &prog, err);
    snprintf(tmp, sizeof tmp, "%s.tmp", spath);
    double t_faiss = cm_now() - t0, t_store = 0, t_bm25 = 0, c_store = 0, c_bm25 = 0, c0 = cpu_seconds();
    t0 = cm_now();
    /* one task: the BM25 index grows with the chunk store; after add tasks, their parts merge */
    char bpath[4400], prefix[4400];
    snprintf(bpath, sizeof bpath, "%s/bm25.idx", dir);
    work_path(out, "bm25", prefix, sizeof prefix);
    cm_bm25_builder *bm25 = shards ? NULL : cm_bm25_builder_create(prefix, o->bm25_memory);
    cm_progress_phase(&prog, bm25 ? "chunk store + BM25 terms" : "chunk store");
    if (rc == 0) rc = build_store(out, o, tmp, bm25, vectors, &stored, &prog, err);
    if (rc == 0 && rename(tmp, spath)) rc = cm_errorf(err, "cannot rename '%s': %s", tmp, strerror(errno));
    if (rc == 0 && stored != vectors)
        rc = cm_errorf(err, "%llu chunk records but %llu vectors: embed's outputs disagree", (unsigned long long)stored,
                       (unsigned long long)vectors);
    t_store = cm_now() - t0;
    c_store = cpu_seconds() - c0;
    t0 = cm_now();
    c0 = cpu_seconds();
    cm_progress_phase(&prog, "BM25 index");
    if (rc == 0 && bm25) rc = cm_bm25_builder_finish(bm25, bpath, &prog, err);
    cm_bm25_builder_free(bm25);
    if (rc == 0 && !bm25) rc = merge_bm25_parts(out, shards, bpath, &prog, err);
    cm_bm25_info bi;
    memset(&bi, 0, sizeof bi);
    if (rc == 0) rc = bm25_info(bpath, &bi, err);
    if (rc == 0 && bi.docs != stored)
        rc = cm_errorf(err, "%s holds %llu chunks, the chunk store %llu", bpath, (unsigned long long)bi.docs,
                       (unsigned long long)stored);
    t_bm25 = cm_now() - t0;
    c_bm25 = cpu_seconds() - c0;
    char h1[65], h2[65], h3[65];
    cm_progress_phase(&prog, "checksums");
    if (rc == 0 && (sha256_file(ipath, h1, err) || sha256_file(spath, h2, err) || sha256_file(bpath, h3, err))) rc = -1;
    cm_progress_update(&prog, stored, 0, 1, 1, 1);
    cm_progress_end(&prog);
    if (rc == 0) {
        /* the model as a path that works from anywhere */
        char model[PATH_MAX];
        if (strcmp(em.model, "hash") && realpath(em.model, model)) snprintf(em.model, sizeof em.model, "%s", model);
        cm_buf b;
        cm_buf_init(&b);
        cm_buf_append_str(&b, "{\n  \"corpusmill_version\": \"" CM_RAG_VERSION "\",\n  \"model\": ");
        cm_buf_append_json_bytes(&b, em.model, strlen(em.model));
        cm_buf_appendf(&b, ",\n  \"dim\": %ld,\n  \"lexical\": %s,\n  \"metric\": \"inner_product\",\n  \"normalized\": true,\n",
                       em.dim, em.lexical ? "true" : "false");
        cm_buf_append_str(&b, "  \"query_prefix\": ");
        if (query_prefix) cm_buf_append_json_bytes(&b, query_prefix, strlen(query_prefix));
        else cm_buf_append_str(&b, "null");
        cm_buf_append_str(&b, ",\n  \"index\": {\"factory\": ");
        cm_buf_append_json_bytes(&b, pl.factory, strlen(pl.factory));
        cm_buf_append_str(&b, ", \"why\": ");
        cm_buf_append_json_bytes(&b, pl.why, strlen(pl.why));
        cm_buf_append_str(&b, ", \"search_parameters\": ");
        cm_buf_append_json_bytes(&b, params, strlen(params));
        cm_buf_appendf(&b, ", \"recall_at_10\": %.4f, \"recall_queries\": %zu", recall, recall_queries);
        cm_buf_appendf(&b, ", \"vectors\": %llu},\n  \"chunks\": %llu,\n", (unsigned long long)vectors, (unsigned long long)stored);
        cm_buf_append_str(&b, "  \"bm25\": ");
        cm_rag_bm25_manifest(&bi, o->fts5, &b);
        cm_buf_append_str(&b, ",\n");
        double w = o->hybrid_weight >= 0 ? o->hybrid_weight : em.lexical ? CM_HYBRID_WEIGHT_LEXICAL : CM_HYBRID_WEIGHT_NEURAL;
        cm_buf_appendf(&b, "  \"hybrid\": {\"fusion\": \"w * bm25 / best bm25 + (1 - w) * min-max scaled dense, over both lists\", "
                           "\"bm25_weight\": %.4g, \"depth\": %d},\n", w, CM_FUSION_DEPTH);
        cm_buf_appendf(&b, "  \"build_seconds\": {\"faiss\": %.2f, \"chunk_store\": %.2f, \"bm25\": %.2f},\n", t_faiss, t_store, t_bm25);
        cm_buf_appendf(&b, "  \"build_cpu_seconds\": {\"chunk_store\": %.2f, \"bm25\": %.2f},\n", c_store, c_bm25);
        cm_buf_appendf(&b, "  \"files\": {\"index.faiss\": {\"sha256\": \"%s\"}, \"chunks.sqlite\": {\"sha256\": \"%s\"}, "
                           "\"bm25.idx\": {\"sha256\": \"%s\"}},\n  \"embeddings\": %s\n}\n", h1, h2, h3, em.raw);
        snprintf(tmp, sizeof tmp, "%s/manifest.json", dir);
        if (cm_write_file_atomic(tmp, b.data, b.len, err)) rc = -1;
        cm_buf_free(&b);
    }
    free(em.raw);
    *chunks = stored;
    return rc ? -1 : 0;
}


/* ---- for index update (rag_internal.h) ---- */

static const char INSERT_CHUNK[] = "INSERT INTO chunks(id, doc_id, doc_key, chunk_index, start, \"end\", length, source,"
                                   " headings, text, metadata) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";

int cm_rag_insert_chunks(sqlite3 *db, const char *out, int64_t id_base, uint64_t *n, cm_err *err)
{
    store s;
    memset(&s, 0, sizeof s);
    s.id_base = id_base;
    s.db = db;
    cm_buf_init(&s.terms);
    cm_buf_init(&s.meta);
    int rc = sqlite3_prepare_v2(db, INSERT_CHUNK, -1, &s.chunk, NULL) != SQLITE_OK ? cm_sql_error(db, err, "insert") : 0;
    size_t np = 0;
    char **files = rc == 0 ? chunk_parts(out, &np, err) : NULL;
    if (rc == 0 && !np) rc = -1;
    if (rc == 0) rc = walk_chunks(files, 0, np, &s, err);
    cm_free_list(files, np);
    sqlite3_finalize(s.chunk);
    cm_buf_free(&s.terms);
    cm_buf_free(&s.meta);
    *n = s.n;
    return rc;
}

int cm_rag_sha256_file(const char *path, char hex[65], cm_err *err) { return sha256_file(path, hex, err); }

int cm_rag_load_vectors(const char *out, long dim, float **vec, int64_t **ids, size_t *n, cm_err *err)
{
    parts p;
    *vec = NULL;
    *ids = NULL;
    *n = 0;
    if (list_parts(out, &p, err)) { free_parts(&p); return -1; }
    int rc = 0;
    for (size_t i = 0; i < p.n && rc == 0; i++) {
        float *v;
        int64_t *d;
        size_t rows;
        if (load_part(&p, i, dim, &v, &d, &rows, err)) { rc = -1; break; }
        *vec = cm_realloc(*vec, (*n + rows) * (size_t)dim * sizeof **vec);
        *ids = cm_realloc(*ids, (*n + rows) * sizeof **ids);
        memcpy(*vec + *n * (size_t)dim, v, rows * (size_t)dim * sizeof *v);
        memcpy(*ids + *n, d, rows * sizeof *d);
        *n += rows;
        free(v);
        free(d);
    }
    free_parts(&p);
    return rc;
}

int cm_rag_write_faiss(FaissIndex *idx, const char *path, cm_err *err) { return write_index(idx, path, err); }

void cm_rag_bm25_manifest(const cm_bm25_info *bi, int fts5, cm_buf *b)
{
    cm_buf_appendf(b, "{\"scoring\": \"Okapi BM25 as Lucene (k1 1.2, b 0.75, its IDF, lengths quantized to a byte)\", "
                      "\"terms\": \"CJK characters and digits as unigrams + bigrams, lowercased words\", "
                      "\"index\": \"bm25.idx: blocks of 128 postings with block maxima, block-max MaxScore\", "
                      "\"vocabulary\": %llu, \"postings\": %llu, \"avgdl\": %.3f, \"fts5\": %s}",
                   (unsigned long long)bi->terms, (unsigned long long)bi->postings, bi->avgdl, fts5 ? "true" : "false");
}

int cm_rag_bm25_info(const char *path, cm_bm25_info *info, cm_err *err) { return bm25_info(path, info, err); }

int cm_rag_set_params(FaissIndex *idx, const char *params, cm_err *err) { return set_params(idx, params, err); }

int cm_rag_manifest_set(const char *dir, const char *const *keys, const char *const *values, size_t n, cm_err *err)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    cm_buf text, out;
    cm_buf_init(&text);
    cm_buf_init(&out);
    if (cm_read_file(path, &text, 16u << 20, err)) return -1;
    cm_buf_reserve(&text, CM_JSON_PADDING);
    memset(text.data + text.len, ' ', CM_JSON_PADDING);
    cm_json_parser *p = cm_json_parser_create();
    cm_json_record rec;
    cm_json_record_init(&rec);
    cm_err e;
    int rc = 0;
    if (cm_json_parse_record(p, text.data, text.len, &rec, &e) != 0) {
        rc = cm_errorf(err, "%s: %s", path, e.msg);
    } else {
        cm_buf_append_str(&out, "{\n");
        int *done = cm_calloc(n ? n : 1, sizeof *done);
        for (size_t i = 0; i < rec.n_members; i++) {
            const cm_json_member *m = &rec.members[i];
            const char *key = cm_json_key(&rec, m);
            size_t j = 0;
            while (j < n && strcmp(keys[j], key)) j++;
            cm_buf_append_str(&out, "  ");
            if (j < n) {
                cm_buf_appendf(&out, "\"%s\": %s", keys[j], values[j]);
                done[j] = 1;
            } else {
                cm_buf_append(&out, text.data + m->raw_start, m->raw_end - m->raw_start);
            }
            cm_buf_append_str(&out, ",\n");
        }
        for (size_t j = 0; j < n; j++)
            if (!done[j]) cm_buf_appendf(&out, "  \"%s\": %s,\n", keys[j], values[j]);
        free(done);
        out.len -= 2; /* the last ",\n" */
        cm_buf_append_str(&out, "\n}\n");
        rc = cm_write_file_atomic(path, out.data, out.len, err);
    }
    cm_json_record_free(&rec);
    cm_json_parser_free(p);
    cm_buf_free(&text);
    cm_buf_free(&out);
    return rc;
}

