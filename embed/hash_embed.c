/* hash_embed.c -- the weight-free lexical embedder (see hash_embed.h).
 * Features are gathered as 64-bit hashes, sorted so equal ones sit
 * together, and counted in one pass: no hash map, and the scratch array is
 * kept between calls. */
#include "hash_embed.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unicode/uchar.h>
#include <xxhash.h>

struct cm_hash_embed {
    size_t dim;
    uint64_t seed;
    uint64_t *features;
    size_t n, cap;
    cm_buf word; /* the current word, lowercased UTF-8 */
};

enum { TAG_CHAR = 1, TAG_CHAR_PAIR, TAG_WORD, TAG_WORD_PAIR };

cm_hash_embed *cm_hash_embed_create(size_t dim, uint64_t seed)
{
    if (!dim) return NULL;
    cm_hash_embed *h = cm_calloc(1, sizeof *h);
    h->dim = dim;
    h->seed = seed;
    cm_buf_init(&h->word);
    return h;
}

void cm_hash_embed_free(cm_hash_embed *h)
{
    if (!h) return;
    free(h->features);
    cm_buf_free(&h->word);
    free(h);
}

size_t cm_hash_embed_dim(const cm_hash_embed *h) { return h->dim; }


static void add(cm_hash_embed *h, int tag, uint64_t a, uint64_t b)
{
    uint64_t key[3] = {(uint64_t)tag, a, b};
    if (h->n == h->cap) {
        h->cap = h->cap ? 2 * h->cap : 256;
        h->features = cm_realloc(h->features, h->cap * sizeof *h->features);
    }
    h->features[h->n++] = XXH3_64bits_withSeed(key, sizeof key, h->seed);
}

/* Ends the current word, if any; prev_word holds the last word's hash (0:
 * none, so a pair never spans a CJK run or the text's start). */
static void end_word(cm_hash_embed *h, uint64_t *prev_word)
{
    if (!h->word.len) return;
    uint64_t w = XXH3_64bits(h->word.data, h->word.len) | 1;
    add(h, TAG_WORD, w, 0);
    if (*prev_word) add(h, TAG_WORD_PAIR, *prev_word, w);
    *prev_word = w;
    h->word.len = 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

void cm_hash_embed_text(cm_hash_embed *h, const char *text, size_t len, float *out)
{
    const unsigned char *s = (const unsigned char *)text;
    uint64_t prev_word = 0;
    uint32_t prev_cjk = 0;
    h->n = 0;
    h->word.len = 0;
    for (size_t i = 0; i < len;) {
        size_t l = cm_utf8_seq_len(s + i, len - i);
        uint32_t c = l ? cm_utf8_decode(s + i, l) : 0xFFFD;
        i += l ? l : 1;
        if (cm_is_cjk(c)) {
            end_word(h, &prev_word);
            prev_word = 0;
            add(h, TAG_CHAR, c, 0);
            if (prev_cjk) add(h, TAG_CHAR_PAIR, prev_cjk, c);
            prev_cjk = c;
        } else if (u_isalnum((UChar32)c)) {
            prev_cjk = 0;
            char enc[4];
            size_t el = cm_utf8_encode((uint32_t)u_tolower((UChar32)c), enc);
            cm_buf_append(&h->word, enc, el);
        } else {
            prev_cjk = 0;
            end_word(h, &prev_word);
        }
    }
    end_word(h, &prev_word);

    memset(out, 0, h->dim * sizeof *out);
    if (h->n) qsort(h->features, h->n, sizeof *h->features, cmp_u64);
    for (size_t i = 0; i < h->n;) {
        size_t j = i;
        while (j < h->n && h->features[j] == h->features[i]) j++;
        uint64_t f = h->features[i];
        float weight = 1.0f + logf((float)(j - i));
        out[(f >> 1) % h->dim] += (f & 1) ? weight : -weight;
        i = j;
    }
    double norm = 0;
    for (size_t d = 0; d < h->dim; d++) norm += (double)out[d] * out[d];
    if (norm > 0) {
        float inv = (float)(1.0 / sqrt(norm));
        for (size_t d = 0; d < h->dim; d++) out[d] *= inv;
    }
}
