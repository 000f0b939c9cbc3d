/* minhash.c -- shingles and MinHash signatures (see minhash.h). The scratch
 * arrays live in the cm_minhasher and are reused, so a worker thread that
 * owns one allocates nothing per document. */
#include "minhash.h"

#include <stdlib.h>
#include <string.h>
#include <unicode/uchar.h>
#include <xxhash.h>
#ifdef __AVX2__
#include <immintrin.h>
#endif

#include "../pipeline/util.h"

struct cm_minhasher {
    cm_minhash_params p;
    int n_perm;
    uint64_t *a; /* odd multipliers */
    uint64_t *b;
    uint64_t *unit;      /* hashes of the units of the current text */
    size_t n_unit, cap_unit;
    uint64_t *shingle;   /* shingle hashes */
    size_t n_shingle, cap_shingle;
    uint32_t *x;         /* the same, folded to 32 bits */
    size_t cap_x;
    cm_buf word;         /* one word, simplified */
};

void cm_minhash_params_default(cm_minhash_params *p)
{
    p->ngram = 5;
    p->bands = 14;
    p->rows = 8;
    p->seed = 1;
    p->fold_digits = 0;
}

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

cm_minhasher *cm_minhasher_create(const cm_minhash_params *p)
{
    if (p->ngram < 1 || p->ngram > 64 || p->bands < 1 || p->bands > 1024 || p->rows < 1 || p->rows > 64) return NULL;
    cm_minhasher *m = cm_calloc(1, sizeof *m);
    m->p = *p;
    m->n_perm = p->bands * p->rows;
    m->a = cm_malloc((size_t)m->n_perm * sizeof *m->a);
    m->b = cm_malloc((size_t)m->n_perm * sizeof *m->b);
    uint64_t st = p->seed;
    for (int i = 0; i < m->n_perm; i++) {
        m->a[i] = splitmix64(&st) | 1u;
        m->b[i] = splitmix64(&st);
    }
    cm_buf_init(&m->word);
    return m;
}

void cm_minhasher_free(cm_minhasher *m)
{
    if (!m) return;
    free(m->a);
    free(m->b);
    free(m->unit);
    free(m->shingle);
    free(m->x);
    cm_buf_free(&m->word);
    free(m);
}

const cm_minhash_params *cm_minhasher_params(const cm_minhasher *m) { return &m->p; }


static inline uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xFF51AFD7ED558CCDULL;
    x ^= x >> 33;
    x *= 0xC4CEB9FE1A85EC53ULL;
    x ^= x >> 33;
    return x;
}

static void push_unit(cm_minhasher *m, const void *p, size_t n)
{
    if (m->n_unit == m->cap_unit) {
        m->cap_unit = m->cap_unit ? m->cap_unit * 2 : 1024;
        m->unit = cm_realloc(m->unit, m->cap_unit * sizeof *m->unit);
    }
    uint64_t h;
    if (n <= 8) { /* a CJK character, a short word */
        uint64_t x = 0;
        memcpy(&x, p, n);
        h = mix64(x ^ ((uint64_t)n << 59));
    } else {
        h = XXH3_64bits(p, n);
    }
    m->unit[m->n_unit++] = h;
}

/* Cuts simplified units out of text (see minhash.h). */
static void units(cm_minhasher *m, const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *)text;
    m->n_unit = 0;
    cm_buf_clear(&m->word);
    cm_buf_reserve(&m->word, 4 * len + 8); /* never grows below: words are written in place */
    char *wd = m->word.data;
    size_t wl = 0;
    for (size_t i = 0; i <= len;) {
        if (i < len && s[i] < 0x80) { /* ASCII, the common case */
            unsigned char c = s[i++];
            if ((c | 32) >= 'a' && (c | 32) <= 'z') { wd[wl++] = (char)(c | 32); continue; }
            if (c >= '0' && c <= '9') { wd[wl++] = m->p.fold_digits ? '0' : (char)c; continue; }
            if (wl) { push_unit(m, wd, wl); wl = 0; }
            continue;
        }
        uint32_t c = 0;
        size_t k = 1;
        if (i < len) {
            k = cm_utf8_seq_len(s + i, len - i);
            if (!k) { k = 1; c = 0xFFFD; }
            else c = cm_utf8_decode(s + i, k);
        }
        int word_char = i < len && !cm_is_cjk(c) && u_isalnum((UChar32)c);
        if (word_char) {
            uint32_t d = m->p.fold_digits && u_isdigit((UChar32)c) ? '0' : (uint32_t)u_tolower((UChar32)c);
            wl += cm_utf8_encode(d, wd + wl);
        } else {
            if (wl) { push_unit(m, wd, wl); wl = 0; }
            if (i < len && cm_is_cjk(c)) push_unit(m, s + i, k); /* same hash as its UTF-8 bytes elsewhere */
        }
        if (i == len) break;
        i += k;
    }
}

static void shingles(cm_minhasher *m)
{
    int n = m->p.ngram;
    size_t count = m->n_unit >= (size_t)n ? m->n_unit - (size_t)n + 1 : (m->n_unit ? 1 : 0);
    if (count > m->cap_shingle) {
        m->cap_shingle = count;
        m->shingle = cm_realloc(m->shingle, count * sizeof *m->shingle);
    }
    size_t w = m->n_unit < (size_t)n ? m->n_unit : (size_t)n;
    for (size_t i = 0; i < count; i++) {
        /* the units' hashes, each rotated by its position, mixed */
        uint64_t h = (uint64_t)w * 0x9E3779B97F4A7C15ULL;
        for (size_t j = 0; j < w; j++) {
            uint64_t u = m->unit[i + j];
            h ^= (u << (j * 13 % 64)) | (u >> ((64 - j * 13 % 64) % 64));
            h = h * 0xFF51AFD7ED558CCDULL + 0x2545F4914F6CDD1DULL;
        }
        m->shingle[i] = mix64(h);
    }
    m->n_shingle = count;
}

/* The hot loop: every permutation of one shingle. Written so that the
 * compiler vectorizes it (64-bit multiplies built from 32-bit lanes: 4 at a
 * time with AVX2, 2 with the SSE2 baseline). */
/* The hot loop: the minimum of every hash function over the shingles.
 * With AVX2, eight functions at a time stay in one register while all the
 * shingles stream past (a x mod 2^64 from two 32 x 32 -> 64-bit products, x
 * having 32 bits); the portable loop below does the same one function at a
 * time. */
static void signature_of(const uint64_t *restrict a, const uint64_t *restrict b, int n, const uint32_t *restrict xs,
                         size_t nx, uint32_t *restrict sig)
{
    int i = 0;
#ifdef __AVX2__
    for (; i + 8 <= n; i += 8) {
        __m256i a0 = _mm256_loadu_si256((const __m256i *)(a + i)), a1 = _mm256_loadu_si256((const __m256i *)(a + i + 4));
        __m256i b0 = _mm256_loadu_si256((const __m256i *)(b + i)), b1 = _mm256_loadu_si256((const __m256i *)(b + i + 4));
        __m256i a0h = _mm256_srli_epi64(a0, 32), a1h = _mm256_srli_epi64(a1, 32);
        __m256i acc = _mm256_set1_epi32(-1);
        for (size_t k = 0; k < nx; k++) {
            __m256i xv = _mm256_set1_epi64x((long long)xs[k]);
            __m256i s0 = _mm256_add_epi64(_mm256_add_epi64(_mm256_mul_epu32(a0, xv),
                                                           _mm256_slli_epi64(_mm256_mul_epu32(a0h, xv), 32)), b0);
            __m256i s1 = _mm256_add_epi64(_mm256_add_epi64(_mm256_mul_epu32(a1, xv),
                                                           _mm256_slli_epi64(_mm256_mul_epu32(a1h, xv), 32)), b1);
            /* high halves: functions i..i+3 to the even slots, i+4..i+7 to the odd ones */
            __m256i v = _mm256_blend_epi32(_mm256_srli_epi64(s0, 32), s1, 0xAA);
            acc = _mm256_min_epu32(acc, v);
        }
        uint32_t out[8];
        _mm256_storeu_si256((__m256i *)out, acc);
        for (int j = 0; j < 4; j++) {
            sig[i + j] = out[2 * j];
            sig[i + 4 + j] = out[2 * j + 1];
        }
    }
#endif
    for (; i < n; i++) {
        uint32_t m = 0xFFFFFFFFu;
        for (size_t k = 0; k < nx; k++) {
            uint32_t v = (uint32_t)((a[i] * (uint64_t)xs[k] + b[i]) >> 32);
            m = v < m ? v : m;
        }
        sig[i] = m;
    }
}

size_t cm_minhash_signature(cm_minhasher *m, const char *text, size_t len, uint32_t *sig)
{
    units(m, text, len);
    shingles(m);
    if (m->n_shingle > m->cap_x) {
        m->cap_x = m->n_shingle;
        m->x = cm_realloc(m->x, m->cap_x * sizeof *m->x);
    }
    for (size_t s = 0; s < m->n_shingle; s++) m->x[s] = (uint32_t)(m->shingle[s] ^ (m->shingle[s] >> 32));
    signature_of(m->a, m->b, m->n_perm, m->x, m->n_shingle, sig);
    return m->n_shingle;
}

void cm_minhash_bands(const cm_minhasher *m, const uint32_t *sig, uint64_t *out)
{
    for (int j = 0; j < m->p.bands; j++)
        out[j] = XXH3_64bits(sig + (size_t)j * (size_t)m->p.rows, (size_t)m->p.rows * sizeof *sig);
}

double cm_minhash_similarity(const uint32_t *a, const uint32_t *b, size_t n)
{
    size_t eq = 0;
    for (size_t i = 0; i < n; i++) eq += a[i] == b[i];
    return n ? (double)eq / (double)n : 0;
}

static int cmp_u64(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return a < b ? -1 : a > b;
}

/* The sorted, distinct shingle hashes of text, into a new array. */
uint64_t *cm_minhash_shingle_set(cm_minhasher *m, const char *t, size_t len, size_t *n)
{
    units(m, t, len);
    shingles(m);
    uint64_t *set = cm_malloc((m->n_shingle ? m->n_shingle : 1) * sizeof *set);
    memcpy(set, m->shingle, m->n_shingle * sizeof *set);
    qsort(set, m->n_shingle, sizeof *set, cmp_u64);
    size_t w = 0;
    for (size_t i = 0; i < m->n_shingle; i++)
        if (w == 0 || set[w - 1] != set[i]) set[w++] = set[i];
    *n = w;
    return set;
}

double cm_shingle_jaccard(cm_minhasher *m, const char *a, size_t alen, const char *b, size_t blen)
{
    size_t na, nb;
    uint64_t *sa = cm_minhash_shingle_set(m, a, alen, &na), *sb = cm_minhash_shingle_set(m, b, blen, &nb);
    size_t i = 0, j = 0, inter = 0;
    while (i < na && j < nb) {
        if (sa[i] == sb[j]) { inter++; i++; j++; }
        else if (sa[i] < sb[j]) i++;
        else j++;
    }
    free(sa);
    free(sb);
    size_t uni = na + nb - inter;
    return uni ? (double)inter / (double)uni : 1.0;
}
