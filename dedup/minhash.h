/* minhash.h -- MinHash signatures for near-duplicate detection, the core of
 * the MinHash-LSH dedup stages (issue 4; the stages themselves are to come).
 *
 * Shingles. The text is simplified for dedup (lowercased, digits to 0 when
 * fold_digits is set, punctuation and whitespace dropped between units) and cut into units:
 * words of letters and digits for space-delimited scripts, and one unit per
 * CJK character (Chinese has no spaces; data-juicer recommends characters,
 * and word 5-grams would need a segmenter). Mixed text is cut run by run.
 * A shingle is `ngram` consecutive units (default 5); a text with fewer
 * units has one shingle of all of them.
 *
 * Hashing. Units are hashed (a 64-bit mix of short units, XXH3-64 of longer
 * ones), a shingle's hash mixes its units' hashes and is folded to 32 bits x;
 * then bands x rows hash functions (default 14 x 8 = 112, as datatrove and
 * FineWeb) from the multiply-add-shift family for 32-bit keys
 * h_i(x) = ((a_i x + b_i) mod 2^64) >> 32 (Dietzfelbinger 1996; strongly
 * universal), a_i odd 64-bit and b_i 64-bit from splitmix64 seeded with `seed`. A signature value is the minimum of h_i
 * over the shingles. (datatrove uses (a x + b) mod 2^61 - 1: exact modular
 * arithmetic needs 128-bit products, 4x slower here; this family vectorizes,
 * and tests/test_minhash.c checks the estimate against exact Jaccard.) Band j
 * hashes rows j*r .. j*r + r - 1 with XXH3-64. Two documents with Jaccard
 * similarity J share a band with probability 1 - (1 - J^r)^b: about 0.92 at
 * J = 0.8 for 14 x 8, the threshold (1/b)^(1/r) being about 0.72. */
#ifndef CM_MINHASH_H
#define CM_MINHASH_H

#include <stddef.h>
#include <stdint.h>

typedef struct cm_minhash_params {
    int ngram;       /* units per shingle                    default 5 */
    int bands;       /*                                      default 14 */
    int rows;        /* per band                             default 8 */
    uint64_t seed;   /* of the permutations                  default 1 */
    int fold_digits; /* every digit as 0 in units (datatrove's way) default 0 */
} cm_minhash_params;

void cm_minhash_params_default(cm_minhash_params *p);

typedef struct cm_minhasher cm_minhasher;

/* NULL when the parameters are out of range (ngram 1..64, bands 1..1024,
 * rows 1..64). */
cm_minhasher *cm_minhasher_create(const cm_minhash_params *p);
void cm_minhasher_free(cm_minhasher *m);
const cm_minhash_params *cm_minhasher_params(const cm_minhasher *m);

/* The signature of UTF-8 text into sig (bands * rows values). Returns the
 * number of distinct-position shingles; 0 for a text without units, whose
 * signature is all 0xFFFFFFFF. */
size_t cm_minhash_signature(cm_minhasher *m, const char *text, size_t len, uint32_t *sig);

/* The band hashes of a signature into out (bands values). */
void cm_minhash_bands(const cm_minhasher *m, const uint32_t *sig, uint64_t *out);

/* The fraction of equal values of two signatures: an estimate of Jaccard. */
double cm_minhash_similarity(const uint32_t *a, const uint32_t *b, size_t n);

/* The sorted, distinct shingle hashes of a text, in a new array (*n of them;
 * the caller frees it). */
uint64_t *cm_minhash_shingle_set(cm_minhasher *m, const char *text, size_t len, size_t *n);
/* The same in m's scratch, valid until m's next call: for a caller that
 * keeps many sets in its own memory. */
const uint64_t *cm_minhash_sorted_shingles(cm_minhasher *m, const char *text, size_t len, size_t *n);

/* The exact Jaccard similarity of the shingle sets of two texts (for
 * verification of candidate pairs, and for tests). */
double cm_shingle_jaccard(cm_minhasher *m, const char *a, size_t alen, const char *b, size_t blen);

#endif
