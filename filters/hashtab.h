/* hashtab.h -- a small open-addressing counter keyed by 64-bit hashes, for
 * the per-document counting of the quality signals (duplicate lines,
 * n-grams) and for word sets. Inline: it sits in the hottest loops.
 *
 * Keys are 32-bit fingerprints of the 64-bit hashes (0 marks a free slot):
 * half the memory of full keys, so a document's table stays in cache; a
 * false match needs two of a document's few thousand n-grams to share 32
 * bits, which moves no fraction measurably. The table's memory is owned by
 * the caller's cm_htab and reused; cm_htab_free releases it. */
#ifndef CM_HASHTAB_H
#define CM_HASHTAB_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../pipeline/util.h"

/* A key and its count side by side: a probe touches one cache line, not
 * one in a key array and another in a count array. */
typedef struct cm_htab_slot {
    uint32_t key, count;
} cm_htab_slot;

typedef struct cm_htab {
    cm_htab_slot *slot;
    size_t cap;  /* allocated */
    size_t size; /* in use for this document: a power of two */
} cm_htab;

static inline void cm_htab_reset(cm_htab *h, size_t expected)
{
    size_t size = 64;
    while (size < expected * 2) size <<= 1;
    if (size > h->cap) {
        free(h->slot);
        h->slot = cm_malloc(size * sizeof *h->slot);
        h->cap = size;
    }
    h->size = size;
    memset(h->slot, 0, size * sizeof *h->slot); /* only what this document uses */
}

static inline uint32_t cm_htab_fingerprint(uint64_t key)
{
    uint32_t f = (uint32_t)(key >> 32);
    return f ? f : 1;
}

/* The slot that holds fingerprint f of key, or the free slot where it goes.
 * One test for either: the usual case (the first slot) then takes the same
 * branch whether the key is new or not, which a predictor can guess. */
static inline size_t cm_htab_find(const cm_htab *h, uint64_t key, uint32_t f)
{
    size_t mask = h->size - 1, i = (size_t)key & mask;
    for (;;) {
        uint32_t k = h->slot[i].key;
        if ((k == f) | (k == 0)) return i;
        i = (i + 1) & mask;
    }
}

/* Adds one occurrence of key; returns its count (a free slot's is 0). */
static inline uint32_t cm_htab_add(cm_htab *h, uint64_t key)
{
    uint32_t f = cm_htab_fingerprint(key);
    size_t i = cm_htab_find(h, key, f);
    h->slot[i].key = f;
    return ++h->slot[i].count;
}

/* Adds one occurrence of key; returns its slot, whose count (h->slot[i].count) is
 * final once every key is added. */
static inline size_t cm_htab_add_slot(cm_htab *h, uint64_t key)
{
    uint32_t f = cm_htab_fingerprint(key);
    size_t i = cm_htab_find(h, key, f);
    h->slot[i].key = f;
    h->slot[i].count++;
    return i;
}

static inline int cm_htab_has(const cm_htab *h, uint64_t key)
{
    uint32_t f = cm_htab_fingerprint(key);
    return h->slot[cm_htab_find(h, key, f)].key == f;
}

static inline void cm_htab_free(cm_htab *h)
{
    free(h->slot);
    h->slot = NULL;
    h->cap = h->size = 0;
}

#endif
