/* backend_cpu.c -- the BERT forward pass on the CPU, matrix products through
 * OpenBLAS's cblas_sgemm. It follows Hugging Face's BertModel step by step:
 * embeddings (word + position + token type 0) and LayerNorm; then per layer
 * self-attention, output projection, residual and LayerNorm, feed-forward
 * with exact erf GELU, residual and LayerNorm (post-LN).
 *
 * Sequences are packed without padding: the dense layers work on every
 * real token of the batch at once, and attention runs per sequence over its
 * own tokens. That is what Hugging Face's additive padding mask computes
 * (masked scores get exp(min) = 0), without the wasted rows.
 *
 * Threads: the big products run on OpenBLAS's threads; attention (one item
 * per sequence and head, OpenBLAS at one thread) and the element-wise steps
 * run on this backend's own threads, so every step uses every core.
 *
 * This file is built with -O3 -ffast-math so that the element-wise loops
 * vectorize, erff and expf included (glibc's libmvec). */
#define _GNU_SOURCE
#include <cblas.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"

void openblas_set_num_threads(int n); /* OpenBLAS's own; not in every cblas.h */

/* Results this small are set to zero: subnormal floats make sgemm many
 * times slower (microcode assists), and no sum in BERT can tell them from
 * zero. */
#define TINY 1e-30f
#define ROWS_PER_ITEM 16

struct cpu_ctx;
typedef void (*item_fn)(struct cpu_ctx *c, size_t item, int worker);

typedef struct worker {
    struct cpu_ctx *c;
    int index;
    pthread_t tid;
} worker;

typedef struct cpu_ctx {
    const cm_bert *m;
    size_t max_tokens;
    float *x, *qkv, *ctx, *y, *ff;
    float **scores;          /* per worker: [max_len, max_len] */
    size_t *first;           /* the batch's sequences: index of their first token */
    const int *lens;
    size_t n, T;
    /* fork-join pool: workers 1..threads-1; the caller is worker 0 */
    int threads;
    worker *workers;
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    unsigned long gen;
    int busy, stop;
    item_fn fn;
    size_t items;
    atomic_size_t next;
    /* the element-wise step in progress: rows of width, a residual to add,
     * LayerNorm's weights */
    float *rows;
    const float *res, *gamma, *beta;
    size_t width, n_rows;
} cpu_ctx;

/* ---- the pool ---- */

static void run_items(cpu_ctx *c, int w)
{
    size_t i;
    while ((i = atomic_fetch_add(&c->next, 1)) < c->items) c->fn(c, i, w);
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    cpu_ctx *c = w->c;
    unsigned long seen = 0;
    pthread_mutex_lock(&c->mu);
    for (;;) {
        while (!c->stop && c->gen == seen) pthread_cond_wait(&c->go, &c->mu);
        if (c->stop) break;
        seen = c->gen;
        pthread_mutex_unlock(&c->mu);
        run_items(c, w->index);
        pthread_mutex_lock(&c->mu);
        if (--c->busy == 0) pthread_cond_signal(&c->done);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

/* Calls fn for items 0..items-1 on every thread; returns when all are done. */
static void parallel(cpu_ctx *c, item_fn fn, size_t items)
{
    c->fn = fn;
    c->items = items;
    atomic_store(&c->next, 0);
    if (c->threads == 1) { run_items(c, 0); return; }
    pthread_mutex_lock(&c->mu);
    c->busy = c->threads - 1;
    c->gen++;
    pthread_cond_broadcast(&c->go);
    pthread_mutex_unlock(&c->mu);
    run_items(c, 0);
    pthread_mutex_lock(&c->mu);
    while (c->busy) pthread_cond_wait(&c->done, &c->mu);
    pthread_mutex_unlock(&c->mu);
}

static void cpu_free(void *p)
{
    cpu_ctx *c = p;
    if (!c) return;
    if (c->workers) {
        pthread_mutex_lock(&c->mu);
        c->stop = 1;
        pthread_cond_broadcast(&c->go);
        pthread_mutex_unlock(&c->mu);
        for (int i = 1; i < c->threads; i++) pthread_join(c->workers[i].tid, NULL);
        free(c->workers);
    }
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->go);
    pthread_cond_destroy(&c->done);
    for (int i = 0; i < c->threads; i++) free(c->scores[i]);
    free(c->scores);
    free(c->first);
    free(c->x);
    free(c->qkv);
    free(c->ctx);
    free(c->y);
    free(c->ff);
    free(c);
}

static void *cpu_create(const cm_bert *m, size_t max_tokens, int threads, cm_err *err)
{
    if (max_tokens < (size_t)m->max_len) {
        cm_errorf(err, "a batch must hold at least one sequence of %d tokens", m->max_len);
        return NULL;
    }
    if (threads <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? (int)n : 1;
    }
    if (threads > 256) threads = 256;
    size_t H = (size_t)m->cfg.hidden, F = (size_t)m->cfg.intermediate, L = (size_t)m->max_len;
    cpu_ctx *c = cm_calloc(1, sizeof *c);
    c->m = m;
    c->max_tokens = max_tokens;
    c->threads = threads;
    c->x = cm_malloc(max_tokens * H * sizeof(float));
    c->qkv = cm_malloc(max_tokens * 3 * H * sizeof(float));
    c->ctx = cm_malloc(max_tokens * H * sizeof(float));
    c->y = cm_malloc(max_tokens * H * sizeof(float));
    c->ff = cm_malloc(max_tokens * F * sizeof(float));
    c->first = cm_malloc(max_tokens * sizeof *c->first);
    c->scores = cm_calloc((size_t)threads, sizeof *c->scores);
    for (int i = 0; i < threads; i++) c->scores[i] = cm_malloc(L * L * sizeof(float));
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->go, NULL);
    pthread_cond_init(&c->done, NULL);
    if (threads > 1) {
        c->workers = cm_calloc((size_t)threads, sizeof *c->workers);
        for (int i = 1; i < threads; i++) {
            c->workers[i] = (worker){c, i, 0};
            if (pthread_create(&c->workers[i].tid, NULL, worker_main, &c->workers[i])) {
                cm_errorf(err, "cannot start compute thread %d", i);
                c->threads = i; /* join the ones that started */
                cpu_free(c);
                return NULL;
            }
        }
    }
    return c;
}

/* ---- the steps ---- */

/* y[t, :] = x[t, :] W^T + b for t < T; wt is W^T, [k, n]. */
static void linear(cpu_ctx *c, const float *x, size_t k, const float *wt, const float *b, size_t n, float *y)
{
    for (size_t t = 0; t < c->T; t++) memcpy(y + t * n, b, n * sizeof *y);
    openblas_set_num_threads(c->threads);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)c->T, (int)n, (int)k, 1.0f, x, (int)k, wt, (int)n,
                1.0f, y, (int)n);
}

/* Rows [item * ROWS_PER_ITEM, ...) of c->rows: row = LayerNorm(row + res). */
static void layernorm_item(cpu_ctx *c, size_t item, int w)
{
    (void)w;
    size_t H = c->width, end = (item + 1) * ROWS_PER_ITEM < c->n_rows ? (item + 1) * ROWS_PER_ITEM : c->n_rows;
    float eps = c->m->cfg.ln_eps;
    for (size_t t = item * ROWS_PER_ITEM; t < end; t++) {
        float *row = c->rows + t * H;
        if (c->res) {
            const float *r = c->res + t * H;
            for (size_t i = 0; i < H; i++) row[i] += r[i];
        }
        float mean = 0, var = 0;
        for (size_t i = 0; i < H; i++) mean += row[i];
        mean /= (float)H;
        for (size_t i = 0; i < H; i++) var += (row[i] - mean) * (row[i] - mean);
        var /= (float)H;
        float inv = 1.0f / sqrtf(var + eps);
        for (size_t i = 0; i < H; i++) row[i] = (row[i] - mean) * inv * c->gamma[i] + c->beta[i];
    }
}

static void add_layernorm(cpu_ctx *c, float *x, const float *res, const float *g, const float *b)
{
    c->rows = x;
    c->res = res;
    c->gamma = g;
    c->beta = b;
    c->width = (size_t)c->m->cfg.hidden;
    c->n_rows = c->T;
    parallel(c, layernorm_item, (c->T + ROWS_PER_ITEM - 1) / ROWS_PER_ITEM);
}

/* Exact GELU, x * Phi(x), on rows of c->ff. */
static void gelu_item(cpu_ctx *c, size_t item, int w)
{
    (void)w;
    size_t F = c->width, end = (item + 1) * ROWS_PER_ITEM < c->n_rows ? (item + 1) * ROWS_PER_ITEM : c->n_rows;
    float *x = c->rows;
    for (size_t i = item * ROWS_PER_ITEM * F; i < end * F; i++) {
        /* erff is +-1 in float beyond 7: clamping skips its slow path */
        float v = x[i] < -10.0f ? -10.0f : x[i] > 10.0f ? 10.0f : x[i];
        float g = 0.5f * x[i] * (1.0f + erff(v * 0.70710678118654752f));
        x[i] = fabsf(g) < TINY ? 0.0f : g;
    }
}

static void softmax_rows(float *s, size_t rows, size_t L)
{
    for (size_t i = 0; i < rows; i++) {
        float *row = s + i * L, mx = row[0], sum = 0;
        for (size_t j = 1; j < L; j++) mx = row[j] > mx ? row[j] : mx;
        /* clamped: libmvec's expf takes a slow scalar path for arguments
         * that underflow; exp(-80) is as good as zero next to exp(0) = 1 */
        for (size_t j = 0; j < L; j++) {
            float d = row[j] - mx;
            row[j] = expf(d < -80.0f ? -80.0f : d);
        }
        for (size_t j = 0; j < L; j++) sum += row[j];
        float inv = 1.0f / sum;
        for (size_t j = 0; j < L; j++) {
            float p = row[j] * inv;
            row[j] = p < TINY ? 0.0f : p;
        }
    }
}

/* Self-attention of one head of one sequence: item = sequence * heads +
 * head. qkv rows are [q | k | v], each H wide; the head's output goes to its
 * columns of c->ctx. */
static void attend_item(cpu_ctx *c, size_t item, int w)
{
    size_t H = (size_t)c->m->cfg.hidden, heads = (size_t)c->m->cfg.heads, d = H / heads;
    size_t seq = item / heads, h = item % heads, t = c->first[seq], L = (size_t)c->lens[seq];
    const float *qkv = c->qkv + t * 3 * H;
    const float *q = qkv + h * d, *k = qkv + H + h * d, *v = qkv + 2 * H + h * d;
    float *s = c->scores[w];
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)L, (int)L, (int)d, 1.0f / sqrtf((float)d), q,
                (int)(3 * H), k, (int)(3 * H), 0.0f, s, (int)L);
    softmax_rows(s, L, L);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)L, (int)d, (int)L, 1.0f, s, (int)L, v, (int)(3 * H),
                0.0f, c->ctx + t * H + h * d, (int)H);
}

static int cpu_encode(void *p, const int32_t *ids, const int *lens, size_t n, float *out, cm_err *err)
{
    cpu_ctx *c = p;
    const cm_bert *m = c->m;
    size_t H = (size_t)m->cfg.hidden, F = (size_t)m->cfg.intermediate, T = 0;
    for (size_t i = 0; i < n; i++) {
        if (lens[i] < 1 || lens[i] > m->max_len) return cm_errorf(err, "a sequence of %d tokens (1..%d)", lens[i], m->max_len);
        if (T + (size_t)lens[i] > c->max_tokens) return cm_errorf(err, "a batch of more than %zu tokens", c->max_tokens);
        c->first[i] = T;
        T += (size_t)lens[i];
    }
    for (size_t i = 0; i < T; i++)
        if (ids[i] < 0 || ids[i] >= m->cfg.vocab_size) return cm_errorf(err, "token id %d out of range", ids[i]);
    c->lens = lens;
    c->n = n;
    c->T = T;

    /* embeddings */
    for (size_t i = 0, t = 0; i < n; i++)
        for (int pos = 0; pos < lens[i]; pos++, t++) {
            const float *w = m->word_emb + (size_t)ids[t] * H, *ps = m->pos_emb + (size_t)pos * H;
            float *row = c->x + t * H;
            for (size_t j = 0; j < H; j++) row[j] = w[j] + ps[j] + m->type_emb[j];
        }
    add_layernorm(c, c->x, NULL, m->emb_ln_g, m->emb_ln_b);

    for (int l = 0; l < m->cfg.layers; l++) {
        const cm_bert_layer *ly = &m->layer[l];
        linear(c, c->x, H, ly->qkv_w, ly->qkv_b, 3 * H, c->qkv);
        openblas_set_num_threads(1); /* each attention item is one thread's */
        parallel(c, attend_item, n * (size_t)m->cfg.heads);
        linear(c, c->ctx, H, ly->out_w, ly->out_b, H, c->y);
        add_layernorm(c, c->x, c->y, ly->ln1_g, ly->ln1_b);
        linear(c, c->x, H, ly->ff1_w, ly->ff1_b, F, c->ff);
        c->rows = c->ff;
        c->width = F;
        c->n_rows = T;
        parallel(c, gelu_item, (T + ROWS_PER_ITEM - 1) / ROWS_PER_ITEM);
        linear(c, c->ff, F, ly->ff2_w, ly->ff2_b, H, c->y);
        add_layernorm(c, c->x, c->y, ly->ln2_g, ly->ln2_b);
    }

    /* pooling, then L2 */
    for (size_t i = 0; i < n; i++) {
        float *o = out + i * H;
        const float *x = c->x + c->first[i] * H;
        if (m->pooling == CM_POOL_CLS) {
            memcpy(o, x, H * sizeof *o);
        } else {
            memset(o, 0, H * sizeof *o);
            for (int k = 0; k < lens[i]; k++)
                for (size_t j = 0; j < H; j++) o[j] += x[(size_t)k * H + j];
            for (size_t j = 0; j < H; j++) o[j] /= (float)lens[i];
        }
        float norm = 0;
        for (size_t j = 0; j < H; j++) norm += o[j] * o[j];
        float inv = norm > 0 ? 1.0f / sqrtf(norm) : 0.0f;
        for (size_t j = 0; j < H; j++) o[j] *= inv;
    }
    return 0;
}

const cm_backend cm_backend_cpu = {"cpu", cpu_create, cpu_encode, cpu_free};

const cm_backend *cm_backend_find(const char *name)
{
    if (!strcmp(name, "cpu")) return &cm_backend_cpu;
    return NULL;
}
