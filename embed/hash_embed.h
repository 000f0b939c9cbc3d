/* hash_embed.h -- the weight-free default embedder (embed.model: hash).
 * It is LEXICAL, not semantic: texts that share words or characters come
 * out close, paraphrases with other words do not.
 *
 * Features: for CJK text (Han, kana, Hangul) every character and every
 * pair of adjacent characters; for other text every lowercased word
 * (letters and digits) and every pair of adjacent words. Each feature is
 * hashed (xxHash) to a dimension and a sign (signed feature hashing, so
 * collisions cancel on average rather than pile up), weighted 1 + ln(count)
 * and the vector is L2-normalized. A text with no features is all zeros. */
#ifndef CM_HASH_EMBED_H
#define CM_HASH_EMBED_H

#include <stddef.h>
#include <stdint.h>

#include "../pipeline/util.h"

typedef struct cm_hash_embed cm_hash_embed;

/* dim: the vector size (> 0); seed: changes every hash (0 by default). */
cm_hash_embed *cm_hash_embed_create(size_t dim, uint64_t seed);
void cm_hash_embed_free(cm_hash_embed *h);
size_t cm_hash_embed_dim(const cm_hash_embed *h);

/* Writes dim floats for text (UTF-8, len bytes) to out. */
void cm_hash_embed_text(cm_hash_embed *h, const char *text, size_t len, float *out);

#endif
