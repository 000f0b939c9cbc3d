/* backend_cpu.c -- the BERT forward pass on the CPU, matrix products through
 * OpenBLAS's cblas_sgemm. It follows Hugging Face's BertModel step by step:
 * embeddings (word + position + token type 0) and LayerNorm; then per layer
 * self-attention, output projection, residual and LayerNorm, feed-forward
 * with exact erf GELU, residual and LayerNorm (post-LN).
 *
 * Sequences are packed without padding: the dense layers work on every
 * real token of the batch at once, and attention runs per sequence over its
 * own tokens. That is what Hugging Face's additive padding mask computes
 * (masked scores get exp(min) = 0), without the wasted rows. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"

void openblas_set_num_threads(int n); /* OpenBLAS's own; not in every cblas.h */

typedef struct cpu_ctx {
    const cm_bert *m;
    size_t max_tokens;
    float *x, *qkv, *ctx, *y, *ff, *scores;
} cpu_ctx;

static void *cpu_create(const cm_bert *m, size_t max_tokens, int threads, cm_err *err)
{
    if (max_tokens < (size_t)m->max_len) {
        cm_errorf(err, "a batch must hold at least one sequence of %d tokens", m->max_len);
        return NULL;
    }
    if (threads > 0) openblas_set_num_threads(threads);
    size_t H = (size_t)m->cfg.hidden, F = (size_t)m->cfg.intermediate, L = (size_t)m->max_len;
    cpu_ctx *c = cm_calloc(1, sizeof *c);
    c->m = m;
    c->max_tokens = max_tokens;
    c->x = cm_malloc(max_tokens * H * sizeof(float));
    c->qkv = cm_malloc(max_tokens * 3 * H * sizeof(float));
    c->ctx = cm_malloc(max_tokens * H * sizeof(float));
    c->y = cm_malloc(max_tokens * H * sizeof(float));
    c->ff = cm_malloc(max_tokens * F * sizeof(float));
    c->scores = cm_malloc(L * L * sizeof(float));
    return c;
}

static void cpu_free(void *p)
{
    cpu_ctx *c = p;
    if (!c) return;
    free(c->x);
    free(c->qkv);
    free(c->ctx);
    free(c->y);
    free(c->ff);
    free(c->scores);
    free(c);
}

/* y[t, :] = x[t, :] w^T + b for t < T; w is [n, k]. */
static void linear(const float *x, size_t T, size_t k, const float *w, const float *b, size_t n, float *y)
{
    for (size_t t = 0; t < T; t++) memcpy(y + t * n, b, n * sizeof *y);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)T, (int)n, (int)k, 1.0f, x, (int)k, w, (int)k, 1.0f, y,
                (int)n);
}

/* x = LayerNorm(x + r) row by row (r may be NULL). */
static void add_layernorm(float *x, const float *r, size_t T, size_t H, const float *g, const float *b, float eps)
{
    for (size_t t = 0; t < T; t++) {
        float *row = x + t * H;
        if (r)
            for (size_t i = 0; i < H; i++) row[i] += r[t * H + i];
        double mean = 0, var = 0;
        for (size_t i = 0; i < H; i++) mean += row[i];
        mean /= (double)H;
        for (size_t i = 0; i < H; i++) var += (row[i] - mean) * (row[i] - mean);
        var /= (double)H;
        float inv = (float)(1.0 / sqrt(var + eps)), mu = (float)mean;
        for (size_t i = 0; i < H; i++) row[i] = (row[i] - mu) * inv * g[i] + b[i];
    }
}

static void gelu(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) x[i] = 0.5f * x[i] * (1.0f + erff(x[i] * 0.70710678118654752f));
}

/* Self-attention of one sequence of L tokens: qkv rows are [q | k | v],
 * each H wide; writes the heads' outputs side by side into out (rows H). */
static void attend(cpu_ctx *c, const float *qkv, size_t L, float *out)
{
    size_t H = (size_t)c->m->cfg.hidden, heads = (size_t)c->m->cfg.heads, d = H / heads;
    float scale = 1.0f / sqrtf((float)d);
    float *s = c->scores;
    for (size_t h = 0; h < heads; h++) {
        const float *q = qkv + h * d, *k = qkv + H + h * d, *v = qkv + 2 * H + h * d;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)L, (int)L, (int)d, scale, q, (int)(3 * H), k,
                    (int)(3 * H), 0.0f, s, (int)L);
        for (size_t i = 0; i < L; i++) {
            float *row = s + i * L, mx = row[0], sum = 0;
            for (size_t j = 1; j < L; j++) mx = row[j] > mx ? row[j] : mx;
            for (size_t j = 0; j < L; j++) sum += row[j] = expf(row[j] - mx);
            float inv = 1.0f / sum;
            for (size_t j = 0; j < L; j++) row[j] *= inv;
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)L, (int)d, (int)L, 1.0f, s, (int)L, v,
                    (int)(3 * H), 0.0f, out + h * d, (int)H);
    }
}

static int cpu_encode(void *p, const int32_t *ids, const int *lens, size_t n, float *out, cm_err *err)
{
    cpu_ctx *c = p;
    const cm_bert *m = c->m;
    size_t H = (size_t)m->cfg.hidden, F = (size_t)m->cfg.intermediate, T = 0;
    for (size_t i = 0; i < n; i++) {
        if (lens[i] < 1 || lens[i] > m->max_len) return cm_errorf(err, "a sequence of %d tokens (1..%d)", lens[i], m->max_len);
        T += (size_t)lens[i];
    }
    if (T > c->max_tokens) return cm_errorf(err, "a batch of %zu tokens (at most %zu)", T, c->max_tokens);
    for (size_t i = 0; i < T; i++)
        if (ids[i] < 0 || ids[i] >= m->cfg.vocab_size) return cm_errorf(err, "token id %d out of range", ids[i]);

    /* embeddings */
    for (size_t i = 0, t = 0; i < n; i++)
        for (int pos = 0; pos < lens[i]; pos++, t++) {
            const float *w = m->word_emb + (size_t)ids[t] * H, *ps = m->pos_emb + (size_t)pos * H;
            float *row = c->x + t * H;
            for (size_t j = 0; j < H; j++) row[j] = w[j] + ps[j] + m->type_emb[j];
        }
    add_layernorm(c->x, NULL, T, H, m->emb_ln_g, m->emb_ln_b, m->cfg.ln_eps);

    for (int l = 0; l < m->cfg.layers; l++) {
        const cm_bert_layer *ly = &m->layer[l];
        linear(c->x, T, H, ly->qkv_w, ly->qkv_b, 3 * H, c->qkv);
        for (size_t i = 0, t = 0; i < n; t += (size_t)lens[i], i++)
            attend(c, c->qkv + t * 3 * H, (size_t)lens[i], c->ctx + t * H);
        linear(c->ctx, T, H, ly->out_w, ly->out_b, H, c->y);
        add_layernorm(c->x, c->y, T, H, ly->ln1_g, ly->ln1_b, m->cfg.ln_eps);
        linear(c->x, T, H, ly->ff1_w, ly->ff1_b, F, c->ff);
        gelu(c->ff, T * F);
        linear(c->ff, T, F, ly->ff2_w, ly->ff2_b, H, c->y);
        add_layernorm(c->x, c->y, T, H, ly->ln2_g, ly->ln2_b, m->cfg.ln_eps);
    }

    /* pooling, then L2 */
    for (size_t i = 0, t = 0; i < n; t += (size_t)lens[i], i++) {
        float *o = out + i * H;
        if (m->pooling == CM_POOL_CLS) {
            memcpy(o, c->x + t * H, H * sizeof *o);
        } else {
            memset(o, 0, H * sizeof *o);
            for (int k = 0; k < lens[i]; k++)
                for (size_t j = 0; j < H; j++) o[j] += c->x[(t + (size_t)k) * H + j];
            for (size_t j = 0; j < H; j++) o[j] /= (float)lens[i];
        }
        double norm = 0;
        for (size_t j = 0; j < H; j++) norm += (double)o[j] * o[j];
        float inv = norm > 0 ? (float)(1.0 / sqrt(norm)) : 0.0f;
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
