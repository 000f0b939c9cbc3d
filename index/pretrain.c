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
#include "../pipeline/layout.h"
#include "../pipeline/progress.h"
#include "../pipeline/stage.h"
#include "../pipeline/stage_reader.h"
#include "../pipeline/writer.h"
#include "faiss_error.h"

void omp_set_num_threads(int n);          /* libgomp's, for FAISS's OpenMP loops */
void openblas_set_num_threads(int n);     /* k-means distances run on sgemm */

/* ---- options: the `pretrain` section ---- */

static int pretrain_read(void *opts, const cm_conf *n, cm_err *err)
{
    static const char *const known[] = {"clusters", "iterations", "seed", "threads", "semdedup", "epsilon",
                                        "semdedup_lexical", NULL};
    cm_pretrain_options *o = opts;
    if (!n) return 0;
    if (cm_conf_check_keys(n, "pretrain", known, err)) return -1;
    long threads = o->threads;
    if (cm_conf_int(n, "clusters", 0, 1 << 24, &o->clusters, err) ||
        cm_conf_int(n, "iterations", 1, 1000, &o->iterations, err) ||
        cm_conf_int(n, "seed", 0, 2147483647, &o->seed, err) || cm_conf_int(n, "threads", 1, 256, &threads, err) ||
        cm_conf_bool(n, "semdedup", &o->semdedup, err) ||
        cm_conf_double(n, "epsilon", 0, 1, &o->epsilon, err) ||
        cm_conf_bool(n, "semdedup_lexical", &o->semdedup_lexical, err))
        return -1;
    o->threads = (int)threads;
    return 0;
}

static const char PRETRAIN_REFERENCE[] =
    "pretrain:              # present: `run` clusters the documents after embed (OUT/index/pretrain/)\n"
    "  clusters: 0          # k-means K over document vectors (mean of their chunks); 0 = sqrt(documents)\n"
    "  iterations: 20\n"
    "  seed: 1234\n"
    "  threads: 1           # OpenMP and OpenBLAS threads for k-means (more make times swing on small machines)\n"
    "  semdedup: false      # SemDeDup: within a cluster, a document with cosine >= 1 - epsilon to an earlier\n"
    "                       #   kept one goes to OUT/rejected/semdedup/ (kept ones to OUT/semdedup/)\n"
    "  epsilon: 0.01\n"
    "  semdedup_lexical: false  # refuse SemDeDup with the hash model (it would remove lexical, not semantic,\n"
    "                       #   duplicates) unless true\n";

static const char PRETRAIN_USAGE[] =
    "usage: corpusmill pretrain CONFIG [--out DIR] [--force]\n"
    "\n"
    "After embed: every document's vector (the normalized mean of its chunks),\n"
    "spherical k-means over them with FAISS, and OUT/index/pretrain/: a cluster\n"
    "for every document (clusters-*.jsonl.zst), the cluster sizes (clusters.json),\n"
    "the centroids (centroids.npy) and a document index (documents.faiss).\n"
    "The config's `pretrain` section sets K, iterations, seed and threads.\n";

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
static int write_semdedup(const cm_config *cfg, const char *input, const twin *t, size_t nt, double t0, cm_err *err)
{
    const char *out = cfg->output.dir;
    int tasks = cm_stage_tasks(out, "embed");
    cm_stage_reader *reader = cm_stage_reader_create(cfg, err);
    if (reader) cm_stage_reader_progress(reader, "pretrain", "semdedup");
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
        snprintf(prefix, sizeof prefix, "%s", cm_part_prefix_of(task).s);
        cm_remove_prefixed(kdir, prefix, NULL);
        cm_remove_prefixed(rdir, prefix, NULL);
        cm_part_writer_init(&s.kept, kdir, prefix, ".jsonl.zst", cfg->output.part_size);
        cm_part_writer_init(&s.rejected, rdir, prefix, ".jsonl.zst", cfg->output.part_size);
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
        snprintf(st.stage, sizeof st.stage, "semdedup");
        st.tasks = 1;
        st.seconds = cm_now() - t0;
        st.peak_rss_kb = cm_peak_rss_kb();
        rc = cm_task_stats_write(&st, cm_stats_path(out, "semdedup", 0).s, err);
    }
    ZSTD_freeCCtx(s.cctx);
    cm_buf_free(&s.kbuf);
    cm_buf_free(&s.rbuf);
    cm_buf_free(&s.z);
    cm_task_stats_free(&st);
    cm_stage_reader_free(reader);
    return rc;
}

/* Spherical k-means over the document vectors (FAISS): the k centroids,
 * each document's nearest one and its similarity. */
static int cluster_docs(const cm_pretrain_options *o, const docs *d, size_t k, float **centroids, idx_t **assign,
                        float **sim, cm_err *err)
{
    FaissClusteringParameters cp;
    faiss_ClusteringParameters_init(&cp);
    cp.niter = (int)o->iterations;
    cp.seed = (int)o->seed;
    cp.spherical = 1;               /* unit vectors: cosine */
    cp.min_points_per_centroid = 1; /* no warnings for small runs */
    FaissClustering *km = NULL;
    FaissIndexFlatIP *q = NULL;
    int rc = 0;
    if (faiss_Clustering_new_with_params(&km, (int)d->dim, (int)k, &cp) || faiss_IndexFlatIP_new_with(&q, (idx_t)d->dim) ||
        faiss_Clustering_train(km, (idx_t)d->n, d->vec, (FaissIndex *)q))
        rc = cm_faiss_error(err, "k-means");
    if (rc == 0) {
        float *c;
        size_t size;
        faiss_Clustering_centroids(km, &c, &size);
        *centroids = cm_malloc(size * sizeof **centroids);
        memcpy(*centroids, c, size * sizeof **centroids);
        /* each document's nearest centroid */
        faiss_Index_reset((FaissIndex *)q);
        *assign = cm_malloc(d->n * sizeof **assign);
        *sim = cm_malloc(d->n * sizeof **sim);
        if (faiss_Index_add((FaissIndex *)q, (idx_t)k, *centroids) ||
            faiss_Index_search((FaissIndex *)q, (idx_t)d->n, d->vec, 1, *sim, *assign))
            rc = cm_faiss_error(err, "assign");
    }
    if (q) faiss_Index_free((FaissIndex *)q);
    if (km) faiss_Clustering_free(km);
    return rc;
}

/* OUT/index/pretrain/documents.faiss: the document vectors, ids = doc_key. */
static int write_document_index(const docs *d, const char *path, cm_err *err)
{
    FaissIndex *di = NULL;
    int64_t *keys = cm_malloc(d->n * sizeof *keys);
    for (size_t i = 0; i < d->n; i++) keys[i] = (int64_t)d->key[i];
    int rc = 0;
    if (faiss_index_factory(&di, (int)d->dim, "IDMap,Flat", METRIC_INNER_PRODUCT) ||
        faiss_Index_add_with_ids(di, (idx_t)d->n, d->vec, keys) || faiss_write_index_fname(di, path))
        rc = cm_faiss_error(err, path);
    if (di) faiss_Index_free(di);
    free(keys);
    return rc;
}

/* OUT/index/pretrain/clusters-SSSS.jsonl.zst: every document's cluster and
 * similarity; the cluster sizes go to sizes (k). */
static int write_assignments(const docs *d, const idx_t *assign, const float *sim, const char *dir, size_t *sizes,
                             cm_err *err)
{
    cm_remove_prefixed(dir, "clusters-", NULL);
    cm_part_writer pw;
    cm_part_writer_init(&pw, dir, "clusters", ".jsonl.zst", 0);
    ZSTD_CCtx *cctx = ZSTD_createCCtx();
    cm_buf line, z;
    cm_buf_init(&line);
    cm_buf_init(&z);
    int rc = 0;
    for (size_t i = 0; i < d->n && rc == 0; i++) {
        sizes[assign[i]]++;
        cm_buf_appendf(&line, "{\"doc_key\":%llu,\"doc_id\":%s,\"cluster\":%lld,\"similarity\":%.5f}\n",
                       (unsigned long long)d->key[i], d->id[i], (long long)assign[i], sim[i]);
        rc = cm_part_writer_flush_zstd(&pw, cctx, &line, &z, 4u << 20, err);
    }
    if (rc == 0) rc = cm_part_writer_flush_zstd(&pw, cctx, &line, &z, 0, err) || cm_part_writer_close(&pw, err) ? -1 : 0;
    cm_part_writer_free(&pw);
    ZSTD_freeCCtx(cctx);
    cm_buf_free(&line);
    cm_buf_free(&z);
    return rc;
}

/* OUT/index/pretrain/clusters.json: K, iterations, seed and the sizes. */
static int write_cluster_sizes(const cm_pretrain_options *o, size_t n_docs, const size_t *sizes, size_t k,
                               const char *path, cm_err *err)
{
    size_t mn = n_docs, mx = 0, empty = 0;
    cm_buf b;
    cm_buf_init(&b);
    cm_buf_appendf(&b, "{\n  \"documents\": %zu,\n  \"clusters\": %zu,\n  \"iterations\": %ld,\n  \"seed\": %ld,\n  \"sizes\": [",
                   n_docs, k, o->iterations, o->seed);
    for (size_t c = 0; c < k; c++) {
        cm_buf_appendf(&b, c ? ", %zu" : "%zu", sizes[c]);
        mn = sizes[c] < mn ? sizes[c] : mn;
        mx = sizes[c] > mx ? sizes[c] : mx;
        empty += sizes[c] == 0;
    }
    cm_buf_appendf(&b, "],\n  \"min\": %zu,\n  \"max\": %zu,\n  \"empty\": %zu\n}\n", mn, mx, empty);
    int rc = cm_write_file_atomic(path, b.data, b.len, err);
    cm_buf_free(&b);
    return rc;
}

static int pretrain_run(const cm_stage_task *t, cm_task_stats *st, cm_err *err)
{
    double t0 = cm_now();
    const cm_config *cfg = t->cfg;
    const cm_pretrain_options *o = t->opts;
    const char *out = cfg->output.dir;
    char dir[CM_PATH_MAX], path[CM_PATH_MAX + 32];
    snprintf(dir, sizeof dir, "%s", cm_out_dir(out, "index/pretrain").s);
    if (cm_mkdirs(dir, err)) return cm_err_usage(err);
    cm_embed_manifest em;
    if (cm_embed_manifest_read(out, &em, err)) return cm_err_usage(err);
    free(em.raw);
    if (o->semdedup && em.lexical && !o->semdedup_lexical)
        return cm_usagef(err, "pretrain.semdedup with the lexical hash model would remove documents that share words, "
                              "not meaning (dedup's MinHash does that better); use a BERT model, or set "
                              "pretrain.semdedup_lexical: true if that is really what you want");

    cm_progress prog;
    cm_progress_init(&prog, cfg->run.progress, cfg->run.progress_fd, "pretrain");
    cm_progress_phase(&prog, "document vectors");
    cm_progress_update(&prog, 0, 0, 0, 1, 0);
    docs d;
    memset(&d, 0, sizeof d);
    d.dim = (size_t)em.dim;
    d.sum = cm_calloc(d.dim, sizeof *d.sum);
    int rc = load_docs(out, &d, err);
    int threads = o->threads > 0 ? o->threads : 1;
    omp_set_num_threads(threads);
    openblas_set_num_threads(threads);
    st->threads = threads;

    size_t k = o->clusters > 0 ? (size_t)o->clusters : (size_t)llround(sqrt((double)d.n));
    if (k < 1) k = 1;
    if (k > d.n) k = d.n;
    float *centroids = NULL, *sim = NULL;
    idx_t *assign = NULL;
    size_t *sizes = NULL;
    if (rc == 0 && d.n == 0) rc = cm_errorf(err, "no documents to cluster");
    cm_progress_phase(&prog, "k-means");
    cm_progress_update(&prog, d.n, 0, 0, 1, 0);
    if (rc == 0) rc = cluster_docs(o, &d, k, &centroids, &assign, &sim, err);
    cm_progress_phase(&prog, "outputs");
    cm_progress_update(&prog, d.n, 0, 0, 1, 0);
    /* outputs: centroids, the document index, a cluster per document, the sizes */
    if (rc == 0) {
        snprintf(path, sizeof path, "%s/centroids.npy", dir);
        cm_npy_writer *w = cm_npy_create(path, CM_NPY_F32, d.dim, err);
        if (!w || cm_npy_append(w, centroids, k, err) || cm_npy_close(w, err)) rc = -1;
    }
    snprintf(path, sizeof path, "%s/documents.faiss", dir);
    if (rc == 0) rc = write_document_index(&d, path, err);
    if (rc == 0) {
        sizes = cm_calloc(k, sizeof *sizes);
        rc = write_assignments(&d, assign, sim, dir, sizes, err);
    }
    snprintf(path, sizeof path, "%s/clusters.json", dir);
    if (rc == 0) rc = write_cluster_sizes(o, d.n, sizes, k, path, err);
    cm_progress_update(&prog, d.n, 0, 1, 1, 1);
    cm_progress_end(&prog);
    if (rc == 0 && o->semdedup) {
        size_t nt = 0;
        twin *tw = find_twins(&d, assign, k, o->epsilon, &nt);
        rc = write_semdedup(cfg, t->documents, tw, nt, t0, err);
        free(tw);
    }
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
    free(centroids);
    free(assign);
    free(sim);
    free(sizes);
    free_docs(&d);
    return rc;
}

static const cm_stage_step PRETRAIN_STEPS[] = {
    {.name = NULL, .marker = "pretrain", .split = CM_SPLIT_ONE, .stats = 1, .needs_source_done = 1, .run = pretrain_run},
};

const cm_stage_def cm_stage_pretrain = {
    .name = "pretrain",
    .command = "pretrain",
    .summary = "document vectors, k-means clusters, a document index (OUT/index/pretrain/)",
    .usage = PRETRAIN_USAGE,
    .reference = PRETRAIN_REFERENCE,
    .reads = "embed",
    .opts_size = sizeof(cm_pretrain_options),
    .read = pretrain_read,
    .steps = PRETRAIN_STEPS,
    .n_steps = 1,
};
