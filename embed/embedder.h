/* embedder.h -- one interface over the two kinds of model the embed stage
 * and embed-text use: the weight-free lexical `hash` model
 * (embed/hash_embed.h) and a BERT model folder (embed/bert.h) run by a
 * backend (embed/backend.h). Callers hand over windows of texts; for BERT
 * they are tokenized, grouped by length into batches (little padding work:
 * sequences are packed) and the vectors come back in the callers' order. */
#ifndef CM_EMBEDDER_H
#define CM_EMBEDDER_H

#include <stddef.h>

#include "../pipeline/util.h"

typedef struct cm_embedder cm_embedder;

typedef struct cm_embedder_opts {
    size_t hash_dim;          /* hash model: vector size                    default 512 */
    int threads;              /* BERT: compute threads, 0 = cores            default 0 */
    const char *backend;      /* BERT: "cpu"                                 default cpu */
    size_t batch;             /* BERT: sequences per forward pass            default 32 */
    const char *query_prefix; /* NULL: the model's own (bge: its instruction) */
} cm_embedder_opts;

void cm_embedder_opts_init(cm_embedder_opts *o);

/* model: "hash" or a Hugging Face BERT folder. NULL with err. */
cm_embedder *cm_embedder_open(const char *model, const cm_embedder_opts *o, cm_err *err);
void cm_embedder_free(cm_embedder *e);

size_t cm_embedder_dim(const cm_embedder *e);
/* 1 for the lexical hash model. */
int cm_embedder_is_lexical(const cm_embedder *e);
/* A one-line description for manifests and logs. */
const char *cm_embedder_describe(const cm_embedder *e);
/* The unit chunks are sized in: "tokens" (BERT) or "characters" (hash). */
const char *cm_embedder_unit(const cm_embedder *e);
/* The length of text in that unit (BERT: WordPiece tokens without [CLS]
 * and [SEP]; hash: code points). */
size_t cm_embedder_length(cm_embedder *e, const char *text, size_t len);
/* The most units one text can have before the model truncates it (BERT:
 * its maximum sequence less [CLS] and [SEP]), 0 when unlimited. */
size_t cm_embedder_capacity(const cm_embedder *e);

/* Embeds n texts into out (n rows of dim floats, L2-normalized; the zero
 * vector for a text with no features). query: prepend the query prefix.
 * Returns 0, or -1 with err. */
int cm_embedder_embed(cm_embedder *e, const char *const *texts, const size_t *lens, size_t n, int query, float *out,
                      cm_err *err);

#endif
