/* backend.h -- where a BERT forward pass runs. A backend turns a batch of
 * token id sequences into pooled, L2-normalized vectors; everything around
 * it (model loading, tokenizing, grouping by length) is shared. The CPU
 * backend (backend_cpu.c, OpenBLAS) is the only one so far; another (CUDA
 * through cuBLAS) is one new file filling in this table. */
#ifndef CM_BACKEND_H
#define CM_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "../pipeline/util.h"
#include "bert.h"

typedef struct cm_backend {
    const char *name;
    /* A context for model m that takes batches of up to max_tokens tokens
     * in all, no sequence longer than m->max_len; threads: compute threads
     * (0: the machine's cores). All working memory is allocated here. */
    void *(*create)(const cm_bert *m, size_t max_tokens, int threads, cm_err *err);
    /* n sequences, packed one after another in ids (lens[i] tokens each,
     * [CLS] first): writes n rows of m->cfg.hidden floats to out, pooled as
     * the model says and L2-normalized. Returns 0, or -1 with err. */
    int (*encode)(void *ctx, const int32_t *ids, const int *lens, size_t n, float *out, cm_err *err);
    void (*free)(void *ctx);
} cm_backend;

extern const cm_backend cm_backend_cpu;

/* The backend called name ("cpu"), or NULL. */
const cm_backend *cm_backend_find(const char *name);

#endif
