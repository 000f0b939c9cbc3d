/* bert.h -- a BERT-family encoder loaded from a Hugging Face model folder:
 *   config.json               sizes, layer_norm_eps, hidden_act (gelu)
 *   vocab.txt                 WordPiece vocabulary (embed/wordpiece.h)
 *   tokenizer_config.json     do_lower_case (default true, as BertTokenizer)
 *   model.safetensors         F32 / F16 / BF16 weights, Hugging Face names
 *                             with or without a "bert." prefix
 *   1_Pooling/config.json     sentence-transformers pooling (CLS or mean);
 *                             without it, CLS
 *   sentence_bert_config.json max_seq_length, when present
 *   config_sentence_transformers.json  prompts.query, when present
 * Every weight's shape is checked against config.json before use.
 *
 * The forward pass itself lives behind a backend (embed/backend.h); this
 * module owns the weights, the tokenizer and the model's settings. */
#ifndef CM_BERT_H
#define CM_BERT_H

#include <stddef.h>
#include <stdint.h>

#include "../pipeline/util.h"
#include "wordpiece.h"

typedef enum cm_pooling { CM_POOL_CLS, CM_POOL_MEAN } cm_pooling;

typedef struct cm_bert_config {
    int vocab_size, hidden, layers, heads, intermediate;
    int max_positions, type_vocab;
    float ln_eps;
} cm_bert_config;

/* One encoder layer. The Linear weights are stored transposed, row-major
 * [in, out] (Hugging Face keeps [out, in]): OpenBLAS runs the product
 * x * W^T about 25% faster that way than with a transposed operand. q, k
 * and v are fused into one [H, 3H] matrix (columns: q, then k, then v) so
 * one sgemm computes all three. */
typedef struct cm_bert_layer {
    const float *qkv_w, *qkv_b;
    const float *out_w, *out_b, *ln1_g, *ln1_b;
    const float *ff1_w, *ff1_b, *ff2_w, *ff2_b, *ln2_g, *ln2_b;
} cm_bert_layer;

typedef struct cm_bert {
    cm_bert_config cfg;
    const float *word_emb, *pos_emb, *type_emb, *emb_ln_g, *emb_ln_b;
    cm_bert_layer *layer;
    cm_pooling pooling;
    int max_len;            /* tokens per sequence, [CLS] and [SEP] included */
    char *query_prefix;     /* "" when the model has none */
    cm_wordpiece *vocab;
    /* private: the mapping and the weights converted or fused at load */
    void *weights_file;
    float **owned;
    size_t n_owned;
} cm_bert;

/* Loads the model folder dir. NULL with err naming the file and what is
 * wrong (missing tensor, shape, dtype, unsupported setting). */
cm_bert *cm_bert_load(const char *dir, cm_err *err);
void cm_bert_free(cm_bert *m);

/* 1 when dir looks like a model folder (has config.json). */
int cm_bert_is_model_dir(const char *dir);

#endif
