/* bert.c -- loading a BERT model folder (see bert.h): its JSON settings,
 * its vocabulary and its weights, each checked against config.json. */
#include "bert.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../pipeline/json.h"
#include "safetensors.h"

/* ---- small JSON settings files ---- */

typedef struct settings {
    /* config.json */
    double vocab_size, hidden, layers, heads, intermediate, max_positions, type_vocab, ln_eps;
    char hidden_act[32], position_type[32];
    /* tokenizer_config.json */
    int do_lower_case;
    double model_max_length;
    /* 1_Pooling/config.json */
    int pool_cls, pool_mean, pool_other;
    /* sentence_bert_config.json */
    double max_seq_length;
    /* config_sentence_transformers.json */
    char *query_prompt;
} settings;

static int visit_config(void *user, const char *const *path, int depth, cm_json_type type, double num,
                        const char *str, size_t len)
{
    settings *s = user;
    if (depth != 1) return 0;
    const char *k = path[0];
    if (type == CM_JSON_NUMBER) {
        if (!strcmp(k, "vocab_size")) s->vocab_size = num;
        else if (!strcmp(k, "hidden_size")) s->hidden = num;
        else if (!strcmp(k, "num_hidden_layers")) s->layers = num;
        else if (!strcmp(k, "num_attention_heads")) s->heads = num;
        else if (!strcmp(k, "intermediate_size")) s->intermediate = num;
        else if (!strcmp(k, "max_position_embeddings")) s->max_positions = num;
        else if (!strcmp(k, "type_vocab_size")) s->type_vocab = num;
        else if (!strcmp(k, "layer_norm_eps")) s->ln_eps = num;
    } else if (type == CM_JSON_STRING) {
        if (!strcmp(k, "hidden_act")) snprintf(s->hidden_act, sizeof s->hidden_act, "%.*s", (int)len, str);
        else if (!strcmp(k, "position_embedding_type"))
            snprintf(s->position_type, sizeof s->position_type, "%.*s", (int)len, str);
    }
    return 0;
}

static int visit_tokenizer(void *user, const char *const *path, int depth, cm_json_type type, double num,
                           const char *str, size_t len)
{
    (void)str; (void)len;
    settings *s = user;
    if (depth != 1) return 0;
    if (!strcmp(path[0], "do_lower_case") && type == CM_JSON_BOOL) s->do_lower_case = num != 0;
    if (!strcmp(path[0], "model_max_length") && type == CM_JSON_NUMBER) s->model_max_length = num;
    return 0;
}

static int visit_pooling(void *user, const char *const *path, int depth, cm_json_type type, double num,
                         const char *str, size_t len)
{
    (void)str; (void)len;
    settings *s = user;
    if (depth != 1 || type != CM_JSON_BOOL || num == 0) return 0;
    if (!strcmp(path[0], "pooling_mode_cls_token")) s->pool_cls = 1;
    else if (!strcmp(path[0], "pooling_mode_mean_tokens")) s->pool_mean = 1;
    else if (!strncmp(path[0], "pooling_mode_", 13)) s->pool_other = 1;
    return 0;
}

static int visit_sbert(void *user, const char *const *path, int depth, cm_json_type type, double num,
                       const char *str, size_t len)
{
    settings *s = user;
    if (depth == 1 && type == CM_JSON_NUMBER && !strcmp(path[0], "max_seq_length")) s->max_seq_length = num;
    if (depth == 2 && type == CM_JSON_STRING && !strcmp(path[0], "prompts") && !strcmp(path[1], "query")) {
        free(s->query_prompt);
        s->query_prompt = cm_strndup(str, len);
    }
    return 0;
}

/* Reads dir/name into fn; a missing optional file is fine. */
static int read_json(const char *dir, const char *name, int required, cm_json_visit_fn fn, settings *s, cm_err *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (!cm_path_exists(path)) return required ? cm_errorf(err, "%s: missing (not a model folder?)", path) : 0;
    cm_buf b;
    cm_buf_init(&b);
    cm_err e;
    int rc = cm_read_file(path, &b, 16u << 20, &e);
    if (rc == 0) rc = cm_json_visit(b.data, b.len, fn, s, &e);
    cm_buf_free(&b);
    if (rc) return cm_errorf(err, "%s: %s", path, e.msg);
    return 0;
}

int cm_bert_is_model_dir(const char *dir)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/config.json", dir);
    return cm_path_exists(path);
}

/* ---- weights ---- */

static float *own(cm_bert *m, size_t count)
{
    float *p = cm_malloc(count * sizeof *p);
    m->owned = cm_realloc(m->owned, (m->n_owned + 1) * sizeof *m->owned);
    m->owned[m->n_owned++] = p;
    return p;
}

typedef struct loader {
    cm_bert *m;
    cm_safetensors *st;
    const char *file;
    const char *prefix; /* "" or "bert." */
    cm_err *err;
} loader;

static const cm_tensor *find(loader *l, const char *name)
{
    char full[256];
    snprintf(full, sizeof full, "%s%s", l->prefix, name);
    const cm_tensor *t = cm_safetensors_find(l->st, full);
    if (!t && strstr(name, "LayerNorm.weight")) { /* old checkpoints: gamma / beta */
        snprintf(full, sizeof full, "%s%.*sgamma", l->prefix, (int)(strlen(name) - 6), name);
        t = cm_safetensors_find(l->st, full);
    } else if (!t && strstr(name, "LayerNorm.bias")) {
        snprintf(full, sizeof full, "%s%.*sbeta", l->prefix, (int)(strlen(name) - 4), name);
        t = cm_safetensors_find(l->st, full);
    }
    return t;
}

/* The tensor called name, checked to have shape [d0] (d1 == 0) or [d0, d1],
 * as float32: the mapping itself when it is F32 and aligned, else a
 * converted copy. NULL with err. */
static const float *weight(loader *l, const char *name, int64_t d0, int64_t d1)
{
    const cm_tensor *t = find(l, name);
    if (!t) {
        cm_errorf(l->err, "%s: no tensor '%s%s'", l->file, l->prefix, name);
        return NULL;
    }
    int rank = d1 ? 2 : 1;
    if (t->rank != rank || t->shape[0] != d0 || (rank == 2 && t->shape[1] != d1)) {
        char got[128] = "";
        size_t o = 0;
        for (int i = 0; i < t->rank && o < sizeof got - 24; i++)
            o += (size_t)snprintf(got + o, sizeof got - o, i ? ", %lld" : "%lld", (long long)t->shape[i]);
        if (rank == 2)
            cm_errorf(l->err, "%s: '%s' has shape [%s], config.json implies [%lld, %lld]", l->file, t->name, got,
                      (long long)d0, (long long)d1);
        else
            cm_errorf(l->err, "%s: '%s' has shape [%s], config.json implies [%lld]", l->file, t->name, got,
                      (long long)d0);
        return NULL;
    }
    if (t->dtype == CM_DTYPE_F32 && ((uintptr_t)t->data % sizeof(float)) == 0) return t->data;
    float *p = own(l->m, t->count);
    cm_tensor_to_f32(t, p);
    return p;
}

/* dst[i * ld + col0 + o] = src[o * in + i]: a Linear weight [out, in]
 * transposed into columns col0.. of a row-major [in, ld] matrix. */
static void transpose_into(const float *src, size_t out, size_t in, float *dst, size_t ld, size_t col0)
{
    for (size_t o = 0; o < out; o++)
        for (size_t i = 0; i < in; i++) dst[i * ld + col0 + o] = src[o * in + i];
}

/* A Linear weight [out, in], transposed to [in, out]. NULL with err. */
static const float *linear_weight(loader *l, const char *name, int64_t out, int64_t in)
{
    const float *w = weight(l, name, out, in);
    if (!w) return NULL;
    float *t = own(l->m, (size_t)(out * in));
    transpose_into(w, (size_t)out, (size_t)in, t, (size_t)out, 0);
    return t;
}

/* q, k, v of layer i fused into [H, 3H] and [3H]. */
static int fuse_qkv(loader *l, int i, cm_bert_layer *ly)
{
    int64_t H = l->m->cfg.hidden;
    float *w = own(l->m, (size_t)(3 * H * H));
    float *b = own(l->m, (size_t)(3 * H));
    static const char *const part[3] = {"query", "key", "value"};
    for (int p = 0; p < 3; p++) {
        char name[128];
        snprintf(name, sizeof name, "encoder.layer.%d.attention.self.%s.weight", i, part[p]);
        const float *src = weight(l, name, H, H);
        if (!src) return -1;
        transpose_into(src, (size_t)H, (size_t)H, w, (size_t)(3 * H), (size_t)(p * H));
        snprintf(name, sizeof name, "encoder.layer.%d.attention.self.%s.bias", i, part[p]);
        if (!(src = weight(l, name, H, 0))) return -1;
        memcpy(b + p * H, src, (size_t)H * sizeof *b);
    }
    ly->qkv_w = w;
    ly->qkv_b = b;
    return 0;
}

static int load_layer(loader *l, int i, cm_bert_layer *ly)
{
    int64_t H = l->m->cfg.hidden, I = l->m->cfg.intermediate;
    char n[128];
#define W(field, suffix, d0, d1)                                                  \
    do {                                                                          \
        snprintf(n, sizeof n, "encoder.layer.%d.%s", i, suffix);                  \
        if (!(ly->field = weight(l, n, d0, d1))) return -1;                       \
    } while (0)
#define LIN(field, suffix, out, in)                                               \
    do {                                                                          \
        snprintf(n, sizeof n, "encoder.layer.%d.%s", i, suffix);                  \
        if (!(ly->field = linear_weight(l, n, out, in))) return -1;               \
    } while (0)
    if (fuse_qkv(l, i, ly)) return -1;
    LIN(out_w, "attention.output.dense.weight", H, H);
    W(out_b, "attention.output.dense.bias", H, 0);
    W(ln1_g, "attention.output.LayerNorm.weight", H, 0);
    W(ln1_b, "attention.output.LayerNorm.bias", H, 0);
    LIN(ff1_w, "intermediate.dense.weight", I, H);
    W(ff1_b, "intermediate.dense.bias", I, 0);
    LIN(ff2_w, "output.dense.weight", H, I);
    W(ff2_b, "output.dense.bias", H, 0);
    W(ln2_g, "output.LayerNorm.weight", H, 0);
    W(ln2_b, "output.LayerNorm.bias", H, 0);
#undef W
#undef LIN
    return 0;
}

/* ---- the model ---- */

static int check_config(const settings *s, const char *path, cm_bert_config *c, cm_err *err)
{
    struct { const char *key; double v; int *dst; int min; } ints[] = {
        {"vocab_size", s->vocab_size, &c->vocab_size, 1},
        {"hidden_size", s->hidden, &c->hidden, 1},
        {"num_hidden_layers", s->layers, &c->layers, 1},
        {"num_attention_heads", s->heads, &c->heads, 1},
        {"intermediate_size", s->intermediate, &c->intermediate, 1},
        {"max_position_embeddings", s->max_positions, &c->max_positions, 2},
        {"type_vocab_size", s->type_vocab, &c->type_vocab, 1},
    };
    for (size_t i = 0; i < sizeof ints / sizeof *ints; i++) {
        double v = ints[i].v;
        if (v < ints[i].min || v > (1 << 24) || v != floor(v))
            return cm_errorf(err, "%s: '%s' is missing or not a sensible integer", path, ints[i].key);
        *ints[i].dst = (int)v;
    }
    if (c->hidden % c->heads)
        return cm_errorf(err, "%s: hidden_size %d is not a multiple of num_attention_heads %d", path, c->hidden, c->heads);
    if (!(s->ln_eps > 0 && s->ln_eps < 1)) return cm_errorf(err, "%s: layer_norm_eps must be in (0, 1)", path);
    c->ln_eps = (float)s->ln_eps;
    if (strcmp(s->hidden_act, "gelu"))
        return cm_errorf(err, "%s: hidden_act '%s' is not supported (only the exact erf 'gelu' of BERT)", path,
                         s->hidden_act);
    if (strcmp(s->position_type, "absolute"))
        return cm_errorf(err, "%s: position_embedding_type '%s' is not supported (only 'absolute')", path,
                         s->position_type);
    return 0;
}

/* bge's published query instructions, for folders without a prompts entry. */
static const char *bge_prefix(const char *dir)
{
    const char *base = strrchr(dir, '/');
    base = base && base[1] ? base + 1 : dir;
    if (!strstr(base, "bge-")) return "";
    if (strstr(base, "-zh")) return "为这个句子生成表示以用于检索相关文章：";
    if (strstr(base, "-en")) return "Represent this sentence for searching relevant passages: ";
    return "";
}

cm_bert *cm_bert_load(const char *dir, cm_err *err)
{
    settings s;
    memset(&s, 0, sizeof s);
    s.ln_eps = 1e-12;
    snprintf(s.hidden_act, sizeof s.hidden_act, "gelu");
    snprintf(s.position_type, sizeof s.position_type, "absolute");
    s.do_lower_case = 1;
    s.type_vocab = 2;
    char path[4200];
    snprintf(path, sizeof path, "%s/config.json", dir);
    cm_bert *m = cm_calloc(1, sizeof *m);
    if (read_json(dir, "config.json", 1, visit_config, &s, err) || check_config(&s, path, &m->cfg, err) ||
        read_json(dir, "tokenizer_config.json", 0, visit_tokenizer, &s, err) ||
        read_json(dir, "1_Pooling/config.json", 0, visit_pooling, &s, err) ||
        read_json(dir, "sentence_bert_config.json", 0, visit_sbert, &s, err) ||
        read_json(dir, "config_sentence_transformers.json", 0, visit_sbert, &s, err))
        goto fail;
    if (s.pool_other || (s.pool_cls && s.pool_mean)) {
        cm_errorf(err, "%s/1_Pooling/config.json: only CLS or mean pooling is supported", dir);
        goto fail;
    }
    m->pooling = s.pool_mean ? CM_POOL_MEAN : CM_POOL_CLS;
    m->max_len = m->cfg.max_positions;
    if (s.model_max_length >= 2 && s.model_max_length < m->max_len) m->max_len = (int)s.model_max_length;
    if (s.max_seq_length >= 2 && s.max_seq_length < m->max_len) m->max_len = (int)s.max_seq_length;
    m->query_prefix = s.query_prompt ? s.query_prompt : cm_strdup(bge_prefix(dir));
    s.query_prompt = NULL;

    snprintf(path, sizeof path, "%s/vocab.txt", dir);
    if (!(m->vocab = cm_wordpiece_load(path, s.do_lower_case, err))) goto fail;
    if (cm_wordpiece_size(m->vocab) > (size_t)m->cfg.vocab_size) {
        cm_errorf(err, "%s: %zu tokens, more than config.json's vocab_size %d", path, cm_wordpiece_size(m->vocab),
                  m->cfg.vocab_size);
        goto fail;
    }

    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    if (!cm_path_exists(path)) {
        cm_errorf(err, "%s: missing (only safetensors weights are read; convert pytorch_model.bin first)", path);
        goto fail;
    }
    cm_safetensors *st = cm_safetensors_open(path, err);
    if (!st) goto fail;
    m->weights_file = st;
    loader l = {m, st, path, "", err};
    if (!cm_safetensors_find(st, "embeddings.word_embeddings.weight") &&
        cm_safetensors_find(st, "bert.embeddings.word_embeddings.weight"))
        l.prefix = "bert.";
    const cm_bert_config *c = &m->cfg;
    if (!(m->word_emb = weight(&l, "embeddings.word_embeddings.weight", c->vocab_size, c->hidden)) ||
        !(m->pos_emb = weight(&l, "embeddings.position_embeddings.weight", c->max_positions, c->hidden)) ||
        !(m->type_emb = weight(&l, "embeddings.token_type_embeddings.weight", c->type_vocab, c->hidden)) ||
        !(m->emb_ln_g = weight(&l, "embeddings.LayerNorm.weight", c->hidden, 0)) ||
        !(m->emb_ln_b = weight(&l, "embeddings.LayerNorm.bias", c->hidden, 0)))
        goto fail;
    m->layer = cm_calloc((size_t)c->layers, sizeof *m->layer);
    for (int i = 0; i < c->layers; i++)
        if (load_layer(&l, i, &m->layer[i])) goto fail;
    return m;
fail:
    free(s.query_prompt);
    cm_bert_free(m);
    return NULL;
}

void cm_bert_free(cm_bert *m)
{
    if (!m) return;
    for (size_t i = 0; i < m->n_owned; i++) free(m->owned[i]);
    free(m->owned);
    free(m->layer);
    free(m->query_prefix);
    cm_wordpiece_free(m->vocab);
    cm_safetensors_close(m->weights_file);
    free(m);
}
