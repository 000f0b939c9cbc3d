/* pretrain.c -- the pretraining index (see pretrain.h): document vectors
 * from their chunks, spherical k-means through FAISS, a cluster for every
 * document, and a document-level FAISS index.
 *
 * Chunk records and vector rows line up task by task (embed writes both in
 * the same order); the ids files are checked against the records' chunk ids
 * as they are zipped. A document's chunks are consecutive, so its vector is
 * a running sum, normalized when the next document starts. */
#define _GNU_SOURCE
#include "pretrain.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include <faiss/c_api/Clustering_c.h>
#include <faiss/c_api/IndexFlat_c.h>
#include <faiss/c_api/Index_c.h>
#include <faiss/c_api/error_c.h>
#include <faiss/c_api/index_factory_c.h>
#include <faiss/c_api/index_io_c.h>

#include "../embed/embed_stage.h"
#include "../embed/npy.h"
#include "../pipeline/clean.h"
#include "../pipeline/stage.h"
#include "../pipeline/stage_reader.h"
#include "../pipeline/writer.h"

void omp_set_num_threads(int n);          /* libgomp's, for FAISS's OpenMP loops */
void openblas_set_num_threads(int n);     /* k-means distances run on sgemm */

typedef struct docs {
    size_t dim, n, cap;
    float *vec;          /* n x dim, normalized */
    uint64_t *key;       /* doc_key */
    char **id;           /* raw JSON doc_id */
    /* the document being summed */
    uint64_t cur_key;
    int open;
    char *cur_id;
    float *sum;
    /* the current embeddings part */
    float *rows;
    int64_t *ids;
    size_t n_rows, next_row;
    char **vparts;
    size_t n_vparts, next_part;
} docs;

static void close_doc(docs *d)
{
    if (!d->open) return;
    if (d->n == d->cap) {
        d->cap = d->cap ? 2 * d->cap : 1024;
        d->vec = cm_realloc(d->vec, d->cap * d->dim * sizeof *d->vec);
        d->key = cm_realloc(d->key, d->cap * sizeof *d->key);
        d->id = cm_realloc(d->id, d->cap * sizeof *d->id);
    }
    double norm = 0;
    for (size_t j = 0; j < d->dim; j++) norm += (double)d->sum[j] * d->sum[j];
    float inv = norm > 0 ? (float)(1 / sqrt(norm)) : 0;
    for (size_t j = 0; j < d->dim; j++) d->vec[d->n * d->dim + j] = d->sum[j] * inv;
    d->key[d->n] = d->cur_key;
    d->id[d->n++] = d->cur_id;
    d->cur_id = NULL;
    d->open = 0;
}

/* The next vector row and its chunk id, from the embeddings parts. */
static int next_row(docs *d, const float **row, int64_t *id, cm_err *err)
{
    while (d->next_row >= d->n_rows) {
        free(d->rows);
        free(d->ids);
        d->rows = NULL;
        d->ids = NULL;
        if (d->next_part >= d->n_vparts) return cm_errorf(err, "more chunk records than vectors");
        const char *ip = d->vparts[d->next_part++];
        char vp[4300];
        snprintf(vp, sizeof vp, "%.*s.npy", (int)(strlen(ip) - 8), ip);
        size_t r1, c1, r2, c2;
        if (!(d->ids = cm_npy_load(ip, CM_NPY_I64, &r1, &c1, err))) return -1;
        if (!(d->rows = cm_npy_load(vp, CM_NPY_F32, &r2, &c2, err))) return -1;
        if (r1 != r2 || c2 != d->dim) return cm_errorf(err, "%s: %zu ids for %zu rows of %zu", ip, r1, r2, c2);
        d->n_rows = r1;
        d->next_row = 0;
    }
    *row = d->rows + d->next_row * d->dim;
    *id = d->ids[d->next_row++];
    return 0;
}

static int chunk_each(void *user, const char *line, size_t len, const cm_json_record *rec, cm_err *err)
{
    (void)len;
    docs *d = user;
    long ci = cm_json_find(rec, "chunk_id", NULL), ki = cm_json_find(rec, "doc_key", NULL), di = cm_json_find(rec, "doc_id", NULL);
    if (ci < 0 || ki < 0 || di < 0) return cm_errorf(err, "a chunk record without chunk_id, doc_key or doc_id");
    long long cid = strtoll(line + rec->members[ci].value_start, NULL, 10);
    uint64_t key = strtoull(line + rec->members[ki].value_start, NULL, 10);
    const float *row;
    int64_t id;
    if (next_row(d, &row, &id, err)) return -1;
    if (id != cid) return cm_errorf(err, "chunk %lld is row %lld of the embeddings: out of step", cid, (long long)id);
    if (!d->open || key != d->cur_key) {
        close_doc(d);
        memset(d->sum, 0, d->dim * sizeof *d->sum);
        d->cur_key = key;
        d->cur_id = cm_strndup(line + rec->members[di].value_start, rec->members[di].value_end - rec->members[di].value_start);
        d->open = 1;
    }
    for (size_t j = 0; j < d->dim; j++) d->sum[j] += row[j];
    return 0;
}

static int faiss_fail(cm_err *err, const char *what)
{
    const char *e = faiss_get_last_error();
    return cm_errorf(err, "FAISS: %s: %s", what, e ? e : "unknown error");
}

/* Reads every task's chunks and vectors into document vectors. */
static int load_docs(const char *out, docs *d, cm_err *err)
{
    char dir[4300], prefix[32];
    int tasks = cm_stage_tasks(out, "embed");
    int rc = 0;
    for (int t = 0; t < tasks && rc == 0; t++) {
        snprintf(prefix, sizeof prefix, "part-%05d-", t);
        snprintf(dir, sizeof dir, "%s/embeddings", out);
        size_t nv;
        char **all = cm_list_dir(dir, prefix, &nv);
        d->n_vparts = 0;
        d->next_part = 0;
        free(d->vparts);
        d->vparts = cm_calloc(nv ? nv : 1, sizeof *d->vparts);
        for (size_t i = 0; i < nv; i++) {
            size_t l = strlen(all[i]);
            if (l > 8 && !strcmp(all[i] + l - 8, ".ids.npy")) d->vparts[d->n_vparts++] = all[i];
            else free(all[i]);
        }
        free(all);
        snprintf(dir, sizeof dir, "%s/chunks", out);
        size_t nc;
        char **chunks = cm_list_dir(dir, prefix, &nc);
        for (size_t i = 0; i < nc && rc == 0; i++) rc = cm_walk_json_lines(chunks[i], chunk_each, d, err);
        cm_free_list(chunks, nc);
        if (rc == 0 && (d->next_row < d->n_rows || d->next_part < d->n_vparts))
            rc = cm_errorf(err, "embed task %d has more vectors than chunk records", t);
        for (size_t i = 0; i < d->n_vparts; i++) free(d->vparts[i]);
        free(d->rows);
        free(d->ids);
        d->rows = NULL;
        d->ids = NULL;
        d->n_rows = d->next_row = 0;
    }
    close_doc(d);
    return rc;
}

static void free_docs(docs *d)
{
    for (size_t i = 0; i < d->n; i++) free(d->id[i]);
    free(d->id);
    free(d->vec);
    free(d->key);
    free(d->cur_id);
    free(d->sum);
    free(d->vparts);
}

/* ---- SemDeDup ---- */

typedef struct twin {
    uint64_t key, kept; /* removed document, the one kept */
    const char *kept_id; /* its raw JSON id (owned by docs) */
    float sim;
    long cluster;
} twin;

static int cmp_twin(const void *a, const void *b)
{
    uint64_t x = ((const twin *)a)->key, y = ((const twin *)b)->key;
    return x < y ? -1 : x > y;
}

/* Within each cluster, documents in input order (doc_key); a document whose
 * cosine with an earlier kept one is >= 1 - epsilon is removed, with that
 * one as its twin. The first of a group is kept, as dedup keeps the first
 * copy. */
typedef struct member {
    long cluster;
    uint64_t key;
    size_t doc;
} member;

static int cmp_member(const void *a, const void *b)
{
    const member *x = a, *y = b;
    if (x->cluster != y->cluster) return x->cluster < y->cluster ? -1 : 1;
    return x->key < y->key ? -1 : x->key > y->key;
}

static twin *find_twins(const docs *d, const idx_t *assign, size_t k, double epsilon, size_t *n_twins)
{
    /* members grouped by cluster, each group in input order (doc_key) */
    member *m = cm_malloc((d->n ? d->n : 1) * sizeof *m);
    for (size_t i = 0; i < d->n; i++) m[i] = (member){(long)assign[i], d->key[i], i};
    qsort(m, d->n, sizeof *m, cmp_member);
    size_t *count = cm_calloc(k + 1, sizeof *count), *members = cm_malloc((d->n ? d->n : 1) * sizeof *members);
    for (size_t i = 0; i < d->n; i++) {
        count[m[i].cluster + 1]++;
        members[i] = m[i].doc;
    }
    for (size_t c = 0; c < k; c++) count[c + 1] += count[c];
    free(m);
    unsigned char *removed = cm_calloc(d->n ? d->n : 1, 1);
    twin *t = NULL;
    size_t nt = 0, cap = 0;
    float thr = (float)(1 - epsilon);
    for (size_t c = 0; c < k; c++)
        for (size_t a = count[c]; a < count[c + 1]; a++) {
            size_t i = members[a];
            if (removed[i]) continue;
            const float *vi = d->vec + i * d->dim;
            for (size_t b = a + 1; b < count[c + 1]; b++) {
                size_t j = members[b];
                if (removed[j]) continue;
                const float *vj = d->vec + j * d->dim;
                float dot = 0;
                for (size_t x = 0; x < d->dim; x++) dot += vi[x] * vj[x];
                if (dot < thr) continue;
                removed[j] = 1;
                if (nt == cap) { cap = cap ? 2 * cap : 64; t = cm_realloc(t, cap * sizeof *t); }
                t[nt++] = (twin){d->key[j], d->key[i], d->id[i], dot, (long)c};
            }
        }
    free(count);
    free(members);
    free(removed);
    if (nt) qsort(t, nt, sizeof *t, cmp_twin);
    *n_twins = nt;
    return t;
}

typedef struct sd_state {
    const twin *t;
    size_t nt;
    cm_part_writer kept, rejected;
    ZSTD_CCtx *cctx;
    cm_buf kbuf, rbuf, z;
    cm_task_stats *st;
} sd_state;

static int semdedup_each(void *user, const cm_stage_record *r, cm_err *err)
{
    sd_state *s = user;
    s->st->counts.read++;
    s->st->counts.bytes_in += r->line_len;
    twin probe = {r->key, 0, NULL, 0, 0};
    const twin *hit = s->nt ? bsearch(&probe, s->t, s->nt, sizeof *s->t, cmp_twin) : NULL;
    if (!hit) {
        s->st->counts.kept++;
        s->st->counts.bytes_out += r->line_len + 1;
        cm_buf_append(&s->kbuf, r->line, r->line_len);
        cm_buf_append_char(&s->kbuf, '\n');
        return cm_part_writer_flush_zstd(&s->kept, s->cctx, &s->kbuf, &s->z, 4u << 20, err);
    }
    size_t n = r->line_len;
    if (n < 2 || r->line[n - 1] != '}' || r->line[n - 2] != '}') return cm_errorf(err, "a record of unexpected shape");
    cm_reasons_add(&s->st->counts.removed, "semdedup:near_duplicate", 1);
    cm_buf_append(&s->rbuf, r->line, n - 2);
    cm_buf_appendf(&s->rbuf, ",\"reason\":\"semdedup:near_duplicate\",\"semdedup\":{\"kept\":{\"doc_key\":%llu,\"id\":%s},"
                             "\"similarity\":%.5f,\"cluster\":%ld}}}\n",
                   (unsigned long long)hit->kept, hit->kept_id, hit->sim, hit->cluster);
    return cm_part_writer_flush_zstd(&s->rejected, s->cctx, &s->rbuf, &s->z, 4u << 20, err);
}

/* Writes OUT/semdedup/ (kept) and OUT/rejected/semdedup/ task by task over
 * the documents embed read, and the stage's stats. */
static int write_semdedup(const cm_config *cfg, const twin *t, size_t nt, double t0, cm_err *err)
{
    const char *out = cfg->output.dir, *input = cfg->dedup.enabled ? "dedup" : "clean";
    int tasks = cm_stage_tasks(out, "embed");
    cm_stage_reader *reader = cm_stage_reader_create(cfg, err);
    if (reader) cm_stage_reader_progress(reader, "semdedup");
    if (!reader) return -1;
    cm_task_stats st;
    cm_task_stats_init(&st);
    sd_state s;
    memset(&s, 0, sizeof s);
    s.t = t;
    s.nt = nt;
    s.st = &st;
    s.cctx = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(s.cctx, ZSTD_c_compressionLevel, cfg->output.zstd_level);
    char kdir[4300], rdir[4300], prefix[32];
    snprintf(kdir, sizeof kdir, "%s/semdedup", out);
    snprintf(rdir, sizeof rdir, "%s/rejected/semdedup", out);
    int rc = cm_mkdirs(kdir, err) || cm_mkdirs(rdir, err) ? -1 : 0;
    for (int task = 0; task < tasks && rc == 0; task++) {
        snprintf(prefix, sizeof prefix, "part-%05d", task);
        cm_remove_prefixed(kdir, prefix, NULL);
        cm_remove_prefixed(rdir, prefix, NULL);
        cm_part_writer_init(&s.kept, kdir, prefix, ".jsonl.zst", cfg->output.part_bytes);
        cm_part_writer_init(&s.rejected, rdir, prefix, ".jsonl.zst", cfg->output.part_bytes);
        rc = cm_stage_reader_walk(reader, input, task, semdedup_each, &s, err);
        if (rc == 0 && (cm_part_writer_flush_zstd(&s.kept, s.cctx, &s.kbuf, &s.z, 0, err) ||
                        cm_part_writer_flush_zstd(&s.rejected, s.cctx, &s.rbuf, &s.z, 0, err) ||
                        cm_part_writer_close(&s.kept, err) || cm_part_writer_close(&s.rejected, err)))
            rc = -1;
        st.parts += s.kept.parts_done;
        cm_part_writer_free(&s.kept);
        cm_part_writer_free(&s.rejected);
    }
    if (rc == 0) {
        char path[4400];
        snprintf(st.stage, sizeof st.stage, "semdedup");
        st.tasks = 1;
        st.seconds = cm_now() - t0;
        st.peak_rss_kb = cm_peak_rss_kb();
        snprintf(path, sizeof path, "%s/stats/semdedup-00000.json", out);
        rc = cm_task_stats_write(&st, path, err);
    }
    ZSTD_freeCCtx(s.cctx);
    cm_buf_free(&s.kbuf);
    cm_buf_free(&s.rbuf);
    cm_buf_free(&s.z);
    cm_task_stats_free(&st);
    cm_stage_reader_free(reader);
    return rc;
}

int cm_pretrain_task(const cm_config *cfg, int force, cm_task_stats *st, int *already_done, cm_err *err)
{
    double t0 = cm_now();
    *already_done = 0;
    const char *out = cfg->output.dir;
    int tasks = cm_stage_tasks(out, "embed");
    if (!tasks) return cm_errorf(err, "%s has no embed output (run embed first)", out), CM_EXIT_USAGE;
    char path[4400];
    for (int t = 0; t < tasks; t++) {
        snprintf(path, sizeof path, "%s/_done/embed/%05d", out, t);
        if (!cm_path_exists(path)) return cm_errorf(err, "embed task %d has not finished (no %s)", t, path), CM_EXIT_USAGE;
    }
    char marker[4400];
    if (cm_mkdirs_under(out, "index/pretrain", err) ||
        cm_stage_begin(cfg, "pretrain", 0, 1, force, marker, sizeof marker, already_done, err))
        return CM_EXIT_USAGE;
    if (*already_done) return CM_EXIT_OK;

    cm_embed_manifest em;
    if (cm_embed_manifest_read(out, &em, err)) return CM_EXIT_USAGE;
    free(em.raw);
    long dim = em.dim;
    if (cfg->pretrain.semdedup && em.lexical && !cfg->pretrain.semdedup_lexical)
        return cm_errorf(err, "pretrain.semdedup with the lexical hash model would remove documents that share words, "
                              "not meaning (dedup's MinHash does that better); use a BERT model, or set "
                              "pretrain.semdedup_lexical: true if that is really what you want"),
               CM_EXIT_USAGE;

    docs d;
    memset(&d, 0, sizeof d);
    d.dim = (size_t)dim;
    d.sum = cm_calloc(d.dim, sizeof *d.sum);
    int rc = load_docs(out, &d, err) ? CM_EXIT_FAILED : CM_EXIT_OK;
    int threads = cfg->pretrain.threads > 0 ? cfg->pretrain.threads : 1;
    omp_set_num_threads(threads);
    openblas_set_num_threads(threads);

    size_t k = cfg->pretrain.clusters > 0 ? (size_t)cfg->pretrain.clusters : (size_t)llround(sqrt((double)d.n));
    if (k < 1) k = 1;
    if (k > d.n) k = d.n;
    float *centroids = NULL;
    idx_t *assign = NULL;
    float *sim = NULL;
    size_t *sizes = NULL;
    if (rc == CM_EXIT_OK && d.n == 0) rc = (cm_errorf(err, "no documents to cluster"), CM_EXIT_FAILED);
    if (rc == CM_EXIT_OK) {
        FaissClusteringParameters cp;
        faiss_ClusteringParameters_init(&cp);
        cp.niter = (int)cfg->pretrain.iterations;
        cp.seed = (int)cfg->pretrain.seed;
        cp.spherical = 1;               /* unit vectors: cosine */
        cp.min_points_per_centroid = 1; /* no warnings for small runs */
        FaissClustering *km = NULL;
        FaissIndexFlatIP *q = NULL;
        if (faiss_Clustering_new_with_params(&km, (int)dim, (int)k, &cp) || faiss_IndexFlatIP_new_with(&q, dim) ||
            faiss_Clustering_train(km, (idx_t)d.n, d.vec, (FaissIndex *)q))
            rc = (faiss_fail(err, "k-means"), CM_EXIT_FAILED);
        if (rc == CM_EXIT_OK) {
            float *c;
            size_t size;
            faiss_Clustering_centroids(km, &c, &size);
            centroids = cm_malloc(size * sizeof *centroids);
            memcpy(centroids, c, size * sizeof *centroids);
            /* each document's nearest centroid */
            faiss_Index_reset((FaissIndex *)q);
            assign = cm_malloc(d.n * sizeof *assign);
            sim = cm_malloc(d.n * sizeof *sim);
            if (faiss_Index_add((FaissIndex *)q, (idx_t)k, centroids) ||
                faiss_Index_search((FaissIndex *)q, (idx_t)d.n, d.vec, 1, sim, assign))
                rc = (faiss_fail(err, "assign"), CM_EXIT_FAILED);
        }
        if (q) faiss_Index_free((FaissIndex *)q);
        if (km) faiss_Clustering_free(km);
    }
    /* outputs: centroids, the document index, a cluster per document */
    if (rc == CM_EXIT_OK) {
        snprintf(path, sizeof path, "%s/index/pretrain/centroids.npy", out);
        cm_npy_writer *w = cm_npy_create(path, CM_NPY_F32, (size_t)dim, err);
        if (!w || cm_npy_append(w, centroids, k, err) || cm_npy_close(w, err)) rc = CM_EXIT_FAILED;
    }
    if (rc == CM_EXIT_OK) {
        FaissIndex *di = NULL;
        int64_t *keys = cm_malloc(d.n * sizeof *keys);
        for (size_t i = 0; i < d.n; i++) keys[i] = (int64_t)d.key[i];
        snprintf(path, sizeof path, "%s/index/pretrain/documents.faiss", out);
        if (faiss_index_factory(&di, (int)dim, "IDMap,Flat", METRIC_INNER_PRODUCT) ||
            faiss_Index_add_with_ids(di, (idx_t)d.n, d.vec, keys) || faiss_write_index_fname(di, path))
            rc = (faiss_fail(err, path), CM_EXIT_FAILED);
        if (di) faiss_Index_free(di);
        free(keys);
    }
    if (rc == CM_EXIT_OK) {
        sizes = cm_calloc(k, sizeof *sizes);
        snprintf(path, sizeof path, "%s/index/pretrain", out);
        cm_remove_prefixed(path, "clusters-", NULL);
        cm_part_writer pw;
        cm_part_writer_init(&pw, path, "clusters", ".jsonl.zst", 0);
        ZSTD_CCtx *cctx = ZSTD_createCCtx();
        cm_buf line, z;
        cm_buf_init(&line);
        cm_buf_init(&z);
        for (size_t i = 0; i < d.n && rc == CM_EXIT_OK; i++) {
            sizes[assign[i]]++;
            cm_buf_appendf(&line, "{\"doc_key\":%llu,\"doc_id\":%s,\"cluster\":%lld,\"similarity\":%.5f}\n",
                           (unsigned long long)d.key[i], d.id[i], (long long)assign[i], sim[i]);
            if (cm_part_writer_flush_zstd(&pw, cctx, &line, &z, 4u << 20, err)) rc = CM_EXIT_FAILED;
        }
        if (rc == CM_EXIT_OK && (cm_part_writer_flush_zstd(&pw, cctx, &line, &z, 0, err) || cm_part_writer_close(&pw, err)))
            rc = CM_EXIT_FAILED;
        cm_part_writer_free(&pw);
        ZSTD_freeCCtx(cctx);
        cm_buf_free(&line);
        cm_buf_free(&z);
    }
    if (rc == CM_EXIT_OK) {
        size_t mn = d.n, mx = 0, empty = 0;
        cm_buf b;
        cm_buf_init(&b);
        cm_buf_appendf(&b, "{\n  \"documents\": %zu,\n  \"clusters\": %zu,\n  \"iterations\": %ld,\n  \"seed\": %ld,\n  \"sizes\": [",
                       d.n, k, cfg->pretrain.iterations, cfg->pretrain.seed);
        for (size_t c = 0; c < k; c++) {
            cm_buf_appendf(&b, c ? ", %zu" : "%zu", sizes[c]);
            mn = sizes[c] < mn ? sizes[c] : mn;
            mx = sizes[c] > mx ? sizes[c] : mx;
            empty += sizes[c] == 0;
        }
        cm_buf_appendf(&b, "],\n  \"min\": %zu,\n  \"max\": %zu,\n  \"empty\": %zu\n}\n", mn, mx, empty);
        snprintf(path, sizeof path, "%s/index/pretrain/clusters.json", out);
        if (cm_write_file_atomic(path, b.data, b.len, err)) rc = CM_EXIT_FAILED;
        cm_buf_free(&b);
    }
    if (rc == CM_EXIT_OK && cfg->pretrain.semdedup) {
        size_t nt = 0;
        twin *t = find_twins(&d, assign, k, cfg->pretrain.epsilon, &nt);
        if (write_semdedup(cfg, t, nt, t0, err)) rc = CM_EXIT_FAILED;
        free(t);
    }
    snprintf(st->stage, sizeof st->stage, "pretrain");
    st->task = 0;
    st->tasks = 1;
    st->counts.read = st->counts.kept = d.n;
    cm_reasons_add(&st->outputs, "clusters", k);
    if (sizes) { /* the cluster sizes' range (all of them are in clusters.json) */
        size_t mn = SIZE_MAX, mx = 0;
        for (size_t c = 0; c < k; c++) {
            mn = sizes[c] < mn ? sizes[c] : mn;
            mx = sizes[c] > mx ? sizes[c] : mx;
        }
        cm_reasons_add(&st->outputs, "largest_cluster", mx);
        cm_reasons_add(&st->outputs, "smallest_cluster", mn);
    }
    st->threads = threads;
    st->seconds = cm_now() - t0;
    st->peak_rss_kb = cm_peak_rss_kb();
    free(centroids);
    free(assign);
    free(sim);
    free(sizes);
    free_docs(&d);
    if (rc != CM_EXIT_OK) return rc;
    return cm_stage_finish(cfg, "pretrain", st, marker, err) ? CM_EXIT_FAILED : CM_EXIT_OK;
}
