/* embedder.c -- the hash model or a BERT folder behind one interface (see
 * embedder.h). */
#include "embedder.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "bert.h"
#include "hash_embed.h"

struct cm_embedder {
    cm_hash_embed *hash;
    cm_bert *bert;
    const cm_backend *backend;
    void *ctx;
    size_t batch, max_tokens;
    char *query_prefix;
    char describe[512];
    /* scratch, grown as windows need it */
    int32_t *ids;      /* window: max_len per text */
    int *lens;
    uint64_t *order;   /* (length << 32) | index */
    int32_t *packed;   /* one batch */
    int *batch_lens;
    float *batch_out;
    size_t cap;
    cm_buf text;
};

void cm_embedder_opts_init(cm_embedder_opts *o)
{
    memset(o, 0, sizeof *o);
    o->hash_dim = 512;
    o->backend = "cpu";
    o->batch = 32;
}

cm_embedder *cm_embedder_open(const char *model, const cm_embedder_opts *o, cm_err *err)
{
    cm_embedder *e = cm_calloc(1, sizeof *e);
    cm_buf_init(&e->text);
    if (!strcmp(model, "hash")) {
        if (o->hash_dim < 1 || o->hash_dim > 65536) {
            cm_errorf(err, "hash model: dim %zu must be 1..65536", o->hash_dim);
            free(e);
            return NULL;
        }
        e->hash = cm_hash_embed_create(o->hash_dim, 0);
        e->query_prefix = cm_strdup(o->query_prefix ? o->query_prefix : "");
        snprintf(e->describe, sizeof e->describe,
                 "hash: weight-free LEXICAL embedder (signed feature hashing of words and CJK characters), "
                 "dim %zu; close vectors share words, not meaning", o->hash_dim);
        return e;
    }
    if (!cm_bert_is_model_dir(model)) {
        cm_errorf(err, "model '%s' is neither 'hash' nor a folder with config.json", model);
        free(e);
        return NULL;
    }
    e->backend = cm_backend_find(o->backend ? o->backend : "cpu");
    if (!e->backend) {
        cm_errorf(err, "no backend '%s' (cpu)", o->backend);
        free(e);
        return NULL;
    }
    if (!(e->bert = cm_bert_load(model, err))) { free(e); return NULL; }
    e->batch = o->batch ? o->batch : 32;
    e->max_tokens = e->batch * (size_t)e->bert->max_len;
    if (!(e->ctx = e->backend->create(e->bert, e->max_tokens, o->threads, err))) {
        cm_embedder_free(e);
        return NULL;
    }
    e->query_prefix = cm_strdup(o->query_prefix ? o->query_prefix : e->bert->query_prefix);
    e->packed = cm_malloc(e->max_tokens * sizeof *e->packed);
    e->batch_lens = cm_malloc(e->batch * sizeof *e->batch_lens);
    e->batch_out = cm_malloc(e->batch * (size_t)e->bert->cfg.hidden * sizeof *e->batch_out);
    const cm_bert_config *c = &e->bert->cfg;
    snprintf(e->describe, sizeof e->describe,
             "bert: %s (hidden %d, %d layers, %d heads, max %d tokens, %s pooling, L2), backend %s", model, c->hidden,
             c->layers, c->heads, e->bert->max_len, e->bert->pooling == CM_POOL_CLS ? "CLS" : "mean",
             e->backend->name);
    return e;
}

void cm_embedder_free(cm_embedder *e)
{
    if (!e) return;
    cm_hash_embed_free(e->hash);
    if (e->ctx) e->backend->free(e->ctx);
    cm_bert_free(e->bert);
    free(e->query_prefix);
    free(e->ids);
    free(e->lens);
    free(e->order);
    free(e->packed);
    free(e->batch_lens);
    free(e->batch_out);
    cm_buf_free(&e->text);
    free(e);
}

size_t cm_embedder_dim(const cm_embedder *e)
{
    return e->hash ? cm_hash_embed_dim(e->hash) : (size_t)e->bert->cfg.hidden;
}

int cm_embedder_is_lexical(const cm_embedder *e) { return e->hash != NULL; }
const char *cm_embedder_describe(const cm_embedder *e) { return e->describe; }
const char *cm_embedder_unit(const cm_embedder *e) { return e->hash ? "characters" : "tokens"; }

size_t cm_embedder_length(cm_embedder *e, const char *text, size_t len)
{
    if (e->bert) return cm_wordpiece_count(e->bert->vocab, text, len);
    size_t n = 0;
    for (size_t i = 0; i < len; i++) n += ((unsigned char)text[i] & 0xC0) != 0x80;
    return n;
}

size_t cm_embedder_capacity(const cm_embedder *e) { return e->bert ? (size_t)e->bert->max_len - 2 : 0; }

/* order entries are (length << 32) | index: sorting them sorts by length,
 * then by position */
static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The text to embed: text itself, or the query prefix and text. */
static void with_prefix(cm_embedder *e, const char *text, size_t len, size_t plen, const char **t, size_t *l)
{
    *t = text;
    *l = len;
    if (!plen) return;
    cm_buf_clear(&e->text);
    cm_buf_append(&e->text, e->query_prefix, plen);
    cm_buf_append(&e->text, text, len);
    *t = e->text.data;
    *l = e->text.len;
}

int cm_embedder_embed(cm_embedder *e, const char *const *texts, const size_t *lens, size_t n, int query, float *out,
                      cm_err *err)
{
    size_t plen = query ? strlen(e->query_prefix) : 0;
    if (e->hash) {
        size_t dim = cm_hash_embed_dim(e->hash);
        for (size_t i = 0; i < n; i++) {
            const char *t;
            size_t l;
            with_prefix(e, texts[i], lens[i], plen, &t, &l);
            cm_hash_embed_text(e->hash, t, l, out + i * dim);
        }
        return 0;
    }
    size_t max_len = (size_t)e->bert->max_len, H = (size_t)e->bert->cfg.hidden;
    if (n >= (1ull << 32)) return cm_errorf(err, "a window of %zu texts (fewer than 2^32)", n);
    if (n > e->cap) {
        e->cap = n;
        e->ids = cm_realloc(e->ids, n * max_len * sizeof *e->ids);
        e->lens = cm_realloc(e->lens, n * sizeof *e->lens);
        e->order = cm_realloc(e->order, n * sizeof *e->order);
    }
    for (size_t i = 0; i < n; i++) {
        const char *t;
        size_t l;
        with_prefix(e, texts[i], lens[i], plen, &t, &l);
        e->lens[i] = (int)cm_wordpiece_encode(e->bert->vocab, t, l, e->ids + i * max_len, max_len);
        e->order[i] = (uint64_t)e->lens[i] << 32 | i;
    }
    /* shortest first: neighbours in a batch have similar lengths, and the
     * order of equal lengths is fixed, so results do not depend on it */
    if (n) qsort(e->order, n, sizeof *e->order, cmp_u64);
    for (size_t i = 0; i < n;) {
        size_t b = 0, tokens = 0;
        while (i + b < n && b < e->batch && tokens + (e->order[i + b] >> 32) <= e->max_tokens) {
            size_t k = (size_t)(e->order[i + b] & 0xFFFFFFFFu);
            memcpy(e->packed + tokens, e->ids + k * max_len, (size_t)e->lens[k] * sizeof *e->packed);
            e->batch_lens[b] = e->lens[k];
            tokens += (size_t)e->lens[k];
            b++;
        }
        if (e->backend->encode(e->ctx, e->packed, e->batch_lens, b, e->batch_out, err)) return -1;
        for (size_t j = 0; j < b; j++) memcpy(out + (size_t)(e->order[i + j] & 0xFFFFFFFFu) * H, e->batch_out + j * H, H * sizeof *out);
        i += b;
    }
    return 0;
}
