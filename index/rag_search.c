/* rag_search.c -- searching a RAG export (see rag.h): dense through the
 * FAISS index, BM25 through the impact index bm25.idx (or, when asked, the
 * chunk store's FTS5 table and corpusmill's okapi_bm25 ranking), hybrid by
 * a weighted sum of the two lists' normalized scores; and the relevance a
 * question reaches, judged against the threshold `index calibrate` set. */
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
#include "bm25_index.h"
#include "bm25_terms.h"
#include "checksum.h"
#include "okapi_bm25.h"
#include "rag_format.h"

void omp_set_num_threads(int n); /* libgomp's: FAISS's parallel loops */

struct cm_rag {
    FaissIndex *index;
    cm_bm25_index *bm25_index; /* NULL: an export without bm25.idx (FTS5 only) */
    cm_bm25_searcher *searcher;
    cm_bm25_hit *bm25_hits;
    size_t bm25_cap;
    int use_fts5;         /* BM25 through the FTS5 table */
    sqlite3_stmt *df;     /* a term's document frequency (chunks_vocab); NULL without FTS5 */
    int owns_index, owns_bm25; /* 0 for instances sharing another's (cm_rag_open_shared) */
    sqlite3 *db;
    sqlite3_stmt *bm25, *row; /* bm25: NULL without FTS5 */
    cm_embedder *model;
    long dim;
    float *qvec;
    cm_buf terms, match;
    double bm25_weight;   /* hybrid: BM25's share */
    int judge_score;      /* rejection: the score judged (-1 uncalibrated), its threshold, its model */
    double judge_threshold;
    cm_rag_judge_model judge_model;
    int64_t *tombstones;  /* sorted: chunk ids deleted but still in an HNSW graph (until index compact) */
    size_t n_tombstones;
    int owns_tombstones;
};

typedef struct rag_manifest {
    char model[4096];
    char prefix[1024];
    char bm25_sha256[80], tomb_sha256[80];
    char judge_score[16];
    int has_prefix, lexical, has_weight, has_threshold, has_bias, has_model[3][CM_RAG_FEATURES];
    long dim, generation;
    double tombstones;
    double weight, threshold;
    cm_rag_judge_model judge;
} rag_manifest;

static int model_ok(const rag_manifest *m)
{
    for (int i = 0; i < CM_RAG_FEATURES; i++)
        if (!m->has_model[0][i] || !m->has_model[1][i] || !m->has_model[2][i] || !(m->judge.sd[i] > 0) ||
            !isfinite(m->judge.mean[i]) || !isfinite(m->judge.weight[i]))
            return 0;
    return m->has_bias && isfinite(m->judge.bias);
}

static cm_rag *open_rag(const char *dir, const cm_rag *share, cm_err *err);

static int by_id(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* tombstones.g.ids: n int64 chunk ids, little-endian, sorted; checked
 * against the manifest's count and sha256. */
static int load_tombstones(cm_rag *r, const char *dir, const char *name, const char *sha256, size_t n, cm_err *err)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    cm_buf b;
    cm_buf_init(&b);
    if (cm_read_file(path, &b, (size_t)1 << 32, err)) return -1;
    char hex[65];
    cm_sha256_hex(b.data, b.len, hex);
    int rc = 0;
    if (b.len != n * sizeof(int64_t)) rc = cm_errorf(err, "%s: %zu bytes, the manifest says %zu ids", path, b.len, n);
    else if (strcmp(hex, sha256)) rc = cm_errorf(err, "%s: its sha256 is not the manifest's (damaged or replaced)", path);
    if (rc == 0) {
        r->tombstones = cm_malloc(n * sizeof *r->tombstones);
        memcpy(r->tombstones, b.data, b.len);
        r->n_tombstones = n;
        r->owns_tombstones = 1;
        for (size_t i = 1; i < n && rc == 0; i++)
            if (r->tombstones[i - 1] >= r->tombstones[i]) rc = cm_errorf(err, "%s: ids not sorted", path);
    }
    cm_buf_free(&b);
    return rc;
}

static int tombstoned(const cm_rag *r, int64_t id)
{
    return r->n_tombstones && bsearch(&id, r->tombstones, r->n_tombstones, sizeof id, by_id) != NULL;
}

cm_rag *cm_rag_open(const char *dir, cm_err *err) { return open_rag(dir, NULL, err); }

cm_rag *cm_rag_open_shared(const char *dir, const cm_rag *base, cm_err *err) { return open_rag(dir, base, err); }

static cm_rag *open_rag(const char *dir, const cm_rag *share, cm_err *err)
{
    char path[4300];
    rag_manifest m;
    memset(&m, 0, sizeof m);
    double dim = 0, generation = 0;
    /* the generation first: it names the files */
    cm_json_field g[] = {{"generation", CM_JSON_NUMBER, &generation, 0, NULL}, {NULL, 0, NULL, 0, NULL}};
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    cm_err e;
    if (cm_json_file_fields(path, g, NULL, &e)) {
        cm_errorf(err, "%s (not a RAG export?)", e.msg);
        return NULL;
    }
    if (!(generation >= 0 && generation < 1e9)) {
        cm_errorf(err, "%s: generation %g is not a count", path, generation);
        return NULL;
    }
    m.generation = (long)generation;
    char faiss_name[64], store_name[64], bm25_name[64], tomb_name[64], bm25_key[96], tomb_key[96];
    cm_rag_file("index", "faiss", m.generation, faiss_name, sizeof faiss_name);
    cm_rag_file("chunks", "sqlite", m.generation, store_name, sizeof store_name);
    cm_rag_file("bm25", "idx", m.generation, bm25_name, sizeof bm25_name);
    cm_rag_file("tombstones", "ids", m.generation, tomb_name, sizeof tomb_name);
    snprintf(bm25_key, sizeof bm25_key, "files.%s.sha256", bm25_name);
    snprintf(tomb_key, sizeof tomb_key, "files.%s.sha256", tomb_name);
    cm_json_field f[] = {{"model", CM_JSON_STRING, m.model, sizeof m.model, NULL},
                         {"dim", CM_JSON_NUMBER, &dim, 0, NULL},
                         {"query_prefix", CM_JSON_STRING, m.prefix, sizeof m.prefix, &m.has_prefix},
                         {bm25_key, CM_JSON_STRING, m.bm25_sha256, sizeof m.bm25_sha256, NULL},
                         {"tombstones", CM_JSON_NUMBER, &m.tombstones, 0, NULL},
                         {tomb_key, CM_JSON_STRING, m.tomb_sha256, sizeof m.tomb_sha256, NULL},
                         {"lexical", CM_JSON_BOOL, &m.lexical, 0, NULL},
                         {"hybrid.bm25_weight", CM_JSON_NUMBER, &m.weight, 0, &m.has_weight},
                         {"rejection.score", CM_JSON_STRING, m.judge_score, sizeof m.judge_score, NULL},
                         {"rejection.threshold", CM_JSON_NUMBER, &m.threshold, 0, &m.has_threshold},
                         {"rejection.model.bias", CM_JSON_NUMBER, &m.judge.bias, 0, &m.has_bias},
                         [11 + 3 * CM_RAG_FEATURES] = {NULL, 0, NULL, 0, NULL}};
    /* rejection.model.{mean,sd,weight}.I */
    char names[3][CM_RAG_FEATURES][48];
    static const char *const arrays[3] = {"mean", "sd", "weight"};
    for (int a = 0; a < 3; a++)
        for (int i = 0; i < CM_RAG_FEATURES; i++) {
            snprintf(names[a][i], sizeof names[a][i], "rejection.model.%s.%d", arrays[a], i);
            double *slot = a == 0 ? &m.judge.mean[i] : a == 1 ? &m.judge.sd[i] : &m.judge.weight[i];
            f[11 + a * CM_RAG_FEATURES + i] = (cm_json_field){names[a][i], CM_JSON_NUMBER, slot, 0, &m.has_model[a][i]};
        }
    if (cm_json_file_fields(path, f, NULL, &e)) {
        cm_errorf(err, "%s (not a RAG export?)", e.msg);
        return NULL;
    }
    m.dim = (long)dim;
    if (m.has_weight && !(m.weight >= 0 && m.weight <= 1)) {
        cm_errorf(err, "%s: hybrid.bm25_weight %g is not between 0 and 1", path, m.weight);
        return NULL;
    }
    if (m.judge_score[0] && (!m.has_threshold || cm_rag_score_parse(m.judge_score) < 0 ||
                             (cm_rag_score_parse(m.judge_score) == CM_RAG_SCORE_LEARNED && !model_ok(&m)))) {
        cm_errorf(err, "%s: rejection needs a known score (bm25, dense, learned), a threshold and, for learned, "
                       "its model (4 means, positive sds, weights, a bias)", path);
        return NULL;
    }
    cm_rag *r = cm_calloc(1, sizeof *r);
    /* exports before the weighted fusion: the default their model gets now */
    r->bm25_weight = m.has_weight ? m.weight : m.lexical ? CM_HYBRID_WEIGHT_LEXICAL : CM_HYBRID_WEIGHT_NEURAL;
    r->judge_score = m.judge_score[0] ? cm_rag_score_parse(m.judge_score) : -1;
    r->judge_threshold = m.threshold;
    r->judge_model = m.judge;
    cm_buf_init(&r->terms);
    cm_buf_init(&r->match);
    r->dim = m.dim;
    snprintf(path, sizeof path, "%s/%s", dir, faiss_name);
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
    if (share) {
        r->tombstones = share->tombstones;
        r->n_tombstones = share->n_tombstones;
    } else if (m.tombstones > 0 && load_tombstones(r, dir, tomb_name, m.tomb_sha256, (size_t)m.tombstones, err)) {
        cm_rag_close(r);
        return NULL;
    }
    snprintf(path, sizeof path, "%s/%s", dir, bm25_name);
    if (share) {
        r->bm25_index = share->bm25_index;
    } else if (m.bm25_sha256[0] || cm_path_exists(path)) {
        if (!m.bm25_sha256[0]) {
            cm_errorf(err, "%s: the manifest has no sha256 for it", path);
            cm_rag_close(r);
            return NULL;
        }
        if (!(r->bm25_index = cm_bm25_open(path, m.bm25_sha256, err))) { cm_rag_close(r); return NULL; }
        r->owns_bm25 = 1;
    }
    if (r->bm25_index) r->searcher = cm_bm25_searcher_create(r->bm25_index);
    snprintf(path, sizeof path, "%s/%s", dir, store_name);
    if (sqlite3_open_v2(path, &r->db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(r->db, "SELECT doc_id, source, headings, start, \"end\", text FROM chunks WHERE id = ?1", -1,
                           &r->row, NULL) != SQLITE_OK) {
        cm_sql_error(r->db, err, path);
        cm_rag_close(r);
        return NULL;
    }
    /* the FTS5 table: exports built with index.fts5, and those of corpusmill before bm25.idx */
    if (cm_okapi_bm25_register(r->db) == 0 &&
        sqlite3_prepare_v2(r->db, "SELECT rowid, okapi_bm25(chunks_fts, 1.2, 0.75) AS s FROM chunks_fts"
                                  " WHERE chunks_fts MATCH ?1 ORDER BY s DESC, rowid LIMIT ?2", -1, &r->bm25, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(r->db, "SELECT doc FROM chunks_vocab WHERE term = ?1", -1, &r->df, NULL) != SQLITE_OK)
        r->df = NULL;
    if (!r->bm25_index && !r->bm25) {
        cm_errorf(err, "%s: neither bm25.idx nor an FTS5 table (not a RAG export?)", dir);
        cm_rag_close(r);
        return NULL;
    }
    r->use_fts5 = !r->bm25_index;
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
    cm_bm25_searcher_free(r->searcher);
    if (r->owns_bm25) cm_bm25_close(r->bm25_index);
    if (r->owns_tombstones) free(r->tombstones);
    free(r->bm25_hits);
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

uint64_t cm_rag_size(const cm_rag *r) { return (uint64_t)faiss_Index_ntotal(r->index) - r->n_tombstones; }

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
    /* deleted chunks still in the graph: asked for as many more, and dropped */
    size_t want = k + r->n_tombstones;
    idx_t *ids = cm_malloc(want * sizeof *ids);
    float *d = cm_malloc(want * sizeof *d);
    long n = 0;
    if (faiss_Index_search(r->index, 1, vec, (idx_t)want, d, ids)) n = cm_faiss_error(err, "search");
    else
        for (size_t i = 0; i < want && (size_t)n < k; i++)
            if (ids[i] >= 0 && !tombstoned(r, ids[i])) hits[n] = (cm_rag_hit){ids[i], d[i], d[i], NAN, (int)n + 1, 0}, n++;
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

int cm_rag_use_fts5(cm_rag *r, int on, cm_err *err)
{
    if (on && !r->bm25) return cm_usagef(err, "this export has no FTS5 table (build it with index.fts5: true)");
    if (!on && !r->bm25_index) return cm_usagef(err, "this export has no bm25.idx (built by an older corpusmill)");
    r->use_fts5 = on;
    return 0;
}

static long bm25(cm_rag *r, const char *q, size_t k, cm_rag_hit *hits, cm_err *err)
{
    if (!r->use_fts5) {
        if (k > r->bm25_cap) {
            r->bm25_cap = k;
            r->bm25_hits = cm_realloc(r->bm25_hits, k * sizeof *r->bm25_hits);
        }
        long n = cm_bm25_search(r->searcher, q, strlen(q), k, r->bm25_hits);
        for (long i = 0; i < n; i++)
            hits[i] = (cm_rag_hit){r->bm25_hits[i].chunk_id, r->bm25_hits[i].score, NAN, r->bm25_hits[i].score, 0, (int)i + 1};
        return n;
    }
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

/* Fused scores, then the cosine (at w = 1 it orders the chunks BM25 did not
 * find), then the chunk id. */
static int by_score(const void *a, const void *b)
{
    const cm_rag_hit *x = a, *y = b;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    double dx = isnan(x->dense) ? -2 : x->dense, dy = isnan(y->dense) ? -2 : y->dense;
    if (dx != dy) return dx > dy ? -1 : 1;
    return x->chunk_id < y->chunk_id ? -1 : x->chunk_id > y->chunk_id;
}

void cm_rag_set_hybrid_weight(cm_rag *r, double bm25_weight) { r->bm25_weight = bm25_weight; }

double cm_rag_hybrid_weight(const cm_rag *r) { return r->bm25_weight; }

/* hybrid = w * bm25 / the best bm25 + (1 - w) * dense scaled to [0, 1] over
 * the dense list (min-max); a chunk absent from a list gets 0 from it. BM25
 * has a floor of 0, so its best alone sets the scale; cosines do not, and
 * the hash model's sit in a narrow band that min-max spreads out. At w = 1
 * the order is BM25's, and the dense list only fills in past BM25's hits. */
static long hybrid(cm_rag *r, const char *query, size_t k, cm_rag_hit *hits, cm_err *err)
{
    size_t depth = k > CM_FUSION_DEPTH ? k : CM_FUSION_DEPTH;
    cm_rag_hit *a = cm_malloc(depth * sizeof *a), *b = cm_malloc(depth * sizeof *b);
    cm_rag_hit *all = cm_malloc(2 * depth * sizeof *all);
    double w = r->bm25_weight;
    /* at w = 1 the order is BM25's: its best k decide, past them the dense list fills in
     * (and a top-k BM25 search costs a fraction of a top-100 one) */
    long na = dense(r, query, depth, a, err), nb = na < 0 ? -1 : bm25(r, query, w >= 1 ? k : depth, b, err);
    long n = 0;
    if (na >= 0 && nb >= 0) {
        double dmax = na ? a[0].dense : 0, dmin = na ? a[na - 1].dense : 0, bmax = nb ? b[0].bm25 : 0;
        for (long i = 0; i < na; i++) {
            all[n] = a[i];
            all[n++].score = (1 - w) * (dmax > dmin ? (a[i].dense - dmin) / (dmax - dmin) : 1);
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
            all[i].score += w * (bmax > 0 ? b[j].bm25 / bmax : 0);
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

long cm_rag_search(cm_rag *r, const char *query, cm_rag_mode mode, size_t k, cm_rag_hit *hits, cm_err *err)
{
    if (k == 0) return 0;
    if (mode == CM_RAG_DENSE) return dense(r, query, k, hits, err);
    if (mode == CM_RAG_BM25) return bm25(r, query, k, hits, err);
    return hybrid(r, query, k, hits, err);
}

/* ---- rejection ---- */

static const char *const SCORE_NAMES[CM_RAG_SCORES] = {"bm25", "dense", "learned"};

int cm_rag_score_parse(const char *s)
{
    for (int i = 0; i < CM_RAG_SCORES; i++)
        if (!strcmp(s, SCORE_NAMES[i])) return i;
    return -1;
}

const char *cm_rag_score_name(int score) { return score >= 0 && score < CM_RAG_SCORES ? SCORE_NAMES[score] : "?"; }

int cm_rag_relevance_of(cm_rag *r, const char *query, cm_rag_relevance *rel, cm_err *err)
{
    if (!r->bm25_index) return cm_usagef(err, "this export has no bm25.idx (built by an older corpusmill): rebuild it");
    cm_bm25_hit h;
    long n = cm_bm25_search(r->searcher, query, strlen(query), 1, &h);
    cm_bm25_search_stats st;
    cm_bm25_last_stats(r->searcher, &st);
    rel->best_bm25 = n > 0 ? h.score : 0;
    rel->bm25 = st.ceiling > 0 ? rel->best_bm25 / st.ceiling : 0;
    rel->known = st.ceiling > 0 ? st.ceiling_known / st.ceiling : 0;
    cm_rag_hit d = {0, 0, 0, 0, 0, 0};
    n = dense(r, query, 1, &d, err);
    if (n < 0) return -1;
    rel->dense = n > 0 ? d.dense : 0;
    return 0;
}

void cm_rag_features(const cm_rag_relevance *rel, double f[CM_RAG_FEATURES])
{
    f[0] = log1p(rel->best_bm25);
    f[1] = rel->dense;
    f[2] = rel->known;
    f[3] = rel->bm25;
}

double cm_rag_relevance_score(const cm_rag_relevance *rel, int score, const cm_rag_judge_model *model)
{
    if (score == CM_RAG_SCORE_BM25) return rel->bm25;
    if (score == CM_RAG_SCORE_DENSE) return rel->dense;
    double f[CM_RAG_FEATURES], z = model->bias;
    cm_rag_features(rel, f);
    for (int i = 0; i < CM_RAG_FEATURES; i++) z += model->weight[i] * (f[i] - model->mean[i]) / model->sd[i];
    return 1 / (1 + exp(-z));
}

int cm_rag_calibration(const cm_rag *r, int *score, double *threshold, cm_rag_judge_model *model)
{
    if (r->judge_score < 0) return -1;
    *score = r->judge_score;
    *threshold = r->judge_threshold;
    *model = r->judge_model;
    return 0;
}

int cm_rag_judge(cm_rag *r, const char *query, cm_rag_verdict *v, cm_err *err)
{
    memset(v, 0, sizeof *v);
    v->answerable = -1;
    if (cm_rag_calibration(r, &v->score, &v->threshold, &v->model)) return 0;
    cm_rag_relevance rel;
    if (cm_rag_relevance_of(r, query, &rel, err)) return -1;
    v->value = cm_rag_relevance_score(&rel, v->score, &v->model);
    v->answerable = v->value >= v->threshold;
    return 0;
}

void cm_rag_verdict_json(const cm_rag_verdict *v, cm_buf *out)
{
    if (v->answerable < 0) {
        cm_buf_append_str(out, "\"answerable\": null, \"relevance\": null");
        return;
    }
    cm_buf_appendf(out, "\"answerable\": %s, \"relevance\": {\"score\": \"%s\", \"value\": %.6g, \"threshold\": %.6g}",
                   v->answerable ? "true" : "false", cm_rag_score_name(v->score), v->value, v->threshold);
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

int cm_rag_chunk_lines(cm_rag *r, void (*fn)(void *user, const char *line, size_t len), void *user, cm_err *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(r->db, "SELECT doc_id, chunk_index, start, \"end\", source, headings, text, metadata FROM chunks",
                           -1, &st, NULL) != SQLITE_OK)
        return cm_sql_error(r->db, err, "read the chunks");
    cm_buf b;
    cm_buf_init(&b);
    static const char *const names[] = {"doc_id", "chunk_index", "start", "end", "source", "headings", "text", "metadata"};
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        cm_buf_clear(&b);
        for (int c = 0; c < 8; c++) {
            cm_buf_appendf(&b, "%s\"%s\": ", c ? ", " : "{", names[c]);
            int type = sqlite3_column_type(st, c);
            if (type == SQLITE_NULL) cm_buf_append_str(&b, "null");
            else if (type == SQLITE_INTEGER) cm_buf_appendf(&b, "%lld", (long long)sqlite3_column_int64(st, c));
            else cm_buf_append_json_bytes(&b, (const char *)sqlite3_column_text(st, c), (size_t)sqlite3_column_bytes(st, c));
        }
        cm_buf_append_char(&b, '}');
        fn(user, b.data, b.len);
    }
    int rc = s == SQLITE_DONE ? 0 : cm_sql_error(r->db, err, "read the chunks");
    sqlite3_finalize(st);
    cm_buf_free(&b);
    return rc;
}
