/* minhash.c -- shingles and MinHash signatures (see minhash.h). The scratch
 * arrays live in the cm_minhasher and are reused, so a worker thread that
 * owns one allocates nothing per document. */
#include "minhash.h"

#include <stdlib.h>
#include <string.h>
#include <unicode/uchar.h>
#include <xxhash.h>
#if defined(__x86_64__) && defined(__GNUC__)
#define HAVE_AVX512_KERNEL 1 /* compiled with a target attribute, chosen at run time */
#endif
#if defined(__AVX2__) || defined(HAVE_AVX512_KERNEL)
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
    uint64_t *sort_tmp;  /* the radix sort's other half, for shingle sets */
    size_t cap_sort;
    cm_buf word;         /* one word, simplified */
    uint8_t *bmp_alnum;  /* ICU's u_isalnum per BMP code point, asked once: 0 not yet, 1 no, 2 yes */
    int avx512;          /* the CPU runs the AVX-512 kernel */
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
    m->bmp_alnum = cm_calloc(0x10000, 1);
#ifdef HAVE_AVX512_KERNEL
    __builtin_cpu_init();
    m->avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
                !getenv("CORPUSMILL_NO_AVX512"); /* the test compares both kernels */
#endif
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
    free(m->sort_tmp);
    cm_buf_free(&m->word);
    free(m->bmp_alnum);
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

static inline uint64_t unit_hash(const void *p, size_t n)
{
    if (n <= 8) /* a CJK character, a short word */
        return mix64(cm_load_small(p, n) ^ ((uint64_t)n << 59));
    return XXH3_64bits(p, n);
}

static inline int is_alnum(cm_minhasher *m, uint32_t c)
{
    if (c >= 0x10000) return u_isalnum((UChar32)c);
    if (!m->bmp_alnum[c]) m->bmp_alnum[c] = u_isalnum((UChar32)c) ? 2 : 1;
    return m->bmp_alnum[c] == 2;
}

/* Cuts simplified units out of text (see minhash.h). Every unit takes at
 * least one byte, so len slots are enough. */
static void units(cm_minhasher *m, const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *)text;
    if (m->cap_unit < len + 1) {
        m->cap_unit = len + 1 > 2 * m->cap_unit ? len + 1 : 2 * m->cap_unit;
        free(m->unit);
        m->unit = cm_malloc(m->cap_unit * sizeof *m->unit);
    }
    uint64_t *restrict unit = m->unit;
    size_t n = 0;
    cm_buf_clear(&m->word);
    /* never grows below: words are written in place; 16 bytes before the
     * word and 16 after it for the ASCII blocks' whole-vector stores */
    cm_buf_reserve(&m->word, 4 * len + 48);
    char *wd = m->word.data + 16;
    size_t wl = 0;
    const int fold = m->p.fold_digits;
#ifdef __SSE2__
    const __m128i digit_zero = _mm_set1_epi8('0');
#endif
    for (size_t i = 0; i < len;) {
        size_t block_end = len;
#ifdef __SSE2__
        /* 16 ASCII bytes at once: their letters (lowercased) and digits in
         * one vector, the runs of them (words) found in its bit mask; a
         * run's bytes land at wd[wl] from one store of the whole vector at
         * wd + wl - p, which only overwrites bytes before a finished word
         * (a run that starts at p > 0 follows a separator, so wl is 0) */
        if (len - i >= 16) {
            __m128i v = _mm_loadu_si128((const __m128i *)(s + i));
            if (!_mm_movemask_epi8(v)) {
                __m128i low = _mm_or_si128(v, _mm_set1_epi8(0x20));
                __m128i letter = cm_bytes_in_range(low, 'a', 'z');
                __m128i digit = cm_bytes_in_range(v, '0', '9');
                __m128i out = _mm_or_si128(_mm_and_si128(letter, low), _mm_and_si128(digit, fold ? digit_zero : v));
                unsigned mask = (unsigned)_mm_movemask_epi8(_mm_or_si128(letter, digit));
                for (unsigned p = 0; p < 16;) {
                    unsigned rest = mask >> p;
                    if (rest & 1) { /* a run of word bytes from p (~rest has the bits above the block set) */
                        unsigned r = (unsigned)__builtin_ctz(~rest);
                        _mm_storeu_si128((__m128i *)(wd + wl - p), out);
                        wl += r;
                        p += r;
                    } else { /* separators from p: a word ends */
                        if (wl) { unit[n++] = unit_hash(wd, wl); wl = 0; }
                        p = rest ? p + (unsigned)__builtin_ctz(rest) : 16;
                    }
                }
                i += 16;
                continue;
            }
            block_end = i + 16; /* not all ASCII: code point by code point to its end */
        }
#endif
        while (i < block_end) {
            if (s[i] < 0x80) { /* ASCII */
                unsigned char c = s[i++];
                if ((c | 32) >= 'a' && (c | 32) <= 'z') { wd[wl++] = (char)(c | 32); continue; }
                if (c >= '0' && c <= '9') { wd[wl++] = fold ? '0' : (char)c; continue; }
                if (wl) { unit[n++] = unit_hash(wd, wl); wl = 0; }
                continue;
            }
            if (cm_utf8_ideograph_at(s, len, i)) { /* most Chinese text: no decoding, no class tests */
                if (wl) { unit[n++] = unit_hash(wd, wl); wl = 0; }
                unit[n++] = unit_hash(s + i, 3);
                i += 3;
                continue;
            }
            size_t k;
            uint32_t c = cm_utf8_decode_at(s, len, i, &k);
            if (cm_is_cjk(c)) { /* a unit of its own, hashed as its UTF-8 bytes */
                if (wl) { unit[n++] = unit_hash(wd, wl); wl = 0; }
                unit[n++] = unit_hash(s + i, k);
            } else if (is_alnum(m, c)) {
                uint32_t d = fold && u_isdigit((UChar32)c) ? '0' : (uint32_t)u_tolower((UChar32)c);
                wl += cm_utf8_encode(d, wd + wl);
            } else if (wl) {
                unit[n++] = unit_hash(wd, wl);
                wl = 0;
            }
            i += k;
        }
    }
    if (wl) unit[n++] = unit_hash(wd, wl);
    m->n_unit = n;
}

/* One shingle: the units' hashes, each rotated by its position, mixed.
 * Inlined with w known (the default 5), the rotations are constants. */
static inline uint64_t shingle_hash(const uint64_t *u, size_t w)
{
    uint64_t h = (uint64_t)w * 0x9E3779B97F4A7C15ULL;
    for (size_t j = 0; j < w; j++) {
        uint64_t x = u[j];
        h ^= (x << (j * 13 % 64)) | (x >> ((64 - j * 13 % 64) % 64));
        h = h * 0xFF51AFD7ED558CCDULL + 0x2545F4914F6CDD1DULL;
    }
    return mix64(h);
}

#ifdef HAVE_AVX512_KERNEL
/* The 5-gram hashes eight at a time: AVX-512 DQ multiplies 64-bit lanes,
 * AVX2 cannot, so the compiler vectorizes this copy only. */
__attribute__((target("avx512f,avx512dq"))) static void shingle_hashes_avx512(const uint64_t *u, size_t count,
                                                                               uint64_t *out)
{
    for (size_t i = 0; i < count; i++) out[i] = shingle_hash(u + i, 5);
}
#endif

static void shingles(cm_minhasher *m)
{
    int n = m->p.ngram;
    size_t count = m->n_unit >= (size_t)n ? m->n_unit - (size_t)n + 1 : (m->n_unit ? 1 : 0);
    if (count > m->cap_shingle) {
        m->cap_shingle = count;
        m->shingle = cm_realloc(m->shingle, count * sizeof *m->shingle);
    }
    size_t w = m->n_unit < (size_t)n ? m->n_unit : (size_t)n;
    const uint64_t *u = m->unit;
#ifdef HAVE_AVX512_KERNEL
    if (w == 5 && m->avx512)
        shingle_hashes_avx512(u, count, m->shingle);
    else
#endif
    if (w == 5)
        for (size_t i = 0; i < count; i++) m->shingle[i] = shingle_hash(u + i, 5);
    else
        for (size_t i = 0; i < count; i++) m->shingle[i] = shingle_hash(u + i, w);
    m->n_shingle = count;
}

#ifdef HAVE_AVX512_KERNEL
/* With AVX-512 (DQ), eight functions sit in one register as 64-bit lanes:
 * one multiply, an add, a shift and a 64-bit minimum per shingle, sixteen
 * functions a pass. Compiled for AVX-512 whatever the build's flags and
 * chosen at run time (cm_minhasher_create asks the CPU; valgrind's CPU has
 * none, so it runs the AVX2 loop). Returns how many functions it did. */
__attribute__((target("avx512f,avx512dq"))) static int signature_avx512(const uint64_t *restrict a,
                                                                         const uint64_t *restrict b, int n,
                                                                         const uint32_t *restrict xs, size_t nx,
                                                                         uint32_t *restrict sig)
{
    int i = 0;
    for (; i + 16 <= n; i += 16) { /* two registers: independent chains */
        __m512i a0 = _mm512_loadu_si512(a + i), a1 = _mm512_loadu_si512(a + i + 8);
        __m512i b0 = _mm512_loadu_si512(b + i), b1 = _mm512_loadu_si512(b + i + 8);
        __m512i acc0 = _mm512_set1_epi64(0xFFFFFFFF), acc1 = acc0;
        for (size_t k = 0; k < nx; k++) {
            __m512i xv = _mm512_set1_epi64((long long)xs[k]);
            acc0 = _mm512_min_epu64(acc0, _mm512_srli_epi64(_mm512_add_epi64(_mm512_mullo_epi64(a0, xv), b0), 32));
            acc1 = _mm512_min_epu64(acc1, _mm512_srli_epi64(_mm512_add_epi64(_mm512_mullo_epi64(a1, xv), b1), 32));
        }
        _mm256_storeu_si256((__m256i *)(sig + i), _mm512_cvtepi64_epi32(acc0));
        _mm256_storeu_si256((__m256i *)(sig + i + 8), _mm512_cvtepi64_epi32(acc1));
    }
    return i;
}
#endif

/* The hot loop: the minimum of every hash function over the shingles,
 * (a x + b mod 2^64) >> 32 with x of 32 bits, from function `from` on (the
 * ones before were done by the AVX-512 kernel). With AVX2, eight functions
 * at a time stay in one register while all the shingles stream past (a x
 * built from two 32 x 32 -> 64-bit products); the portable loop below does
 * the same one function at a time. */
static void signature_of(const uint64_t *restrict a, const uint64_t *restrict b, int n, const uint32_t *restrict xs,
                         size_t nx, uint32_t *restrict sig, int from)
{
    int i = from;
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
    int done = 0;
#ifdef HAVE_AVX512_KERNEL
    if (m->avx512) done = signature_avx512(m->a, m->b, m->n_perm, m->x, m->n_shingle, sig);
#endif
    signature_of(m->a, m->b, m->n_perm, m->x, m->n_shingle, sig, done);
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

const uint64_t *cm_minhash_sorted_shingles(cm_minhasher *m, const char *t, size_t len, size_t *n)
{
    units(m, t, len);
    shingles(m);
    if (m->n_shingle > m->cap_sort) {
        m->cap_sort = m->n_shingle;
        free(m->sort_tmp);
        m->sort_tmp = cm_malloc(m->cap_sort * sizeof *m->sort_tmp);
    }
    uint64_t *set = m->shingle;
    cm_sort_u64(set, m->n_shingle, m->sort_tmp);
    size_t w = 0;
    for (size_t i = 0; i < m->n_shingle; i++)
        if (w == 0 || set[w - 1] != set[i]) set[w++] = set[i];
    *n = w;
    return set;
}

uint64_t *cm_minhash_shingle_set(cm_minhasher *m, const char *t, size_t len, size_t *n)
{
    const uint64_t *sorted = cm_minhash_sorted_shingles(m, t, len, n);
    uint64_t *set = cm_malloc((*n ? *n : 1) * sizeof *set);
    memcpy(set, sorted, *n * sizeof *set);
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
