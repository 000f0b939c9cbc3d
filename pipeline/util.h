/* util.h -- small building blocks shared by every module: a growable byte
 * buffer, an error message holder, checked allocation, clocks, UTF-8 and
 * JSON string helpers.
 *
 * Ownership: a cm_buf owns its bytes; cm_buf_free releases them. Nothing here
 * keeps global state. */
#ifndef CM_UTIL_H
#define CM_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- checked allocation: out of memory aborts with a message ---- */
void *cm_malloc(size_t n);
void *cm_calloc(size_t count, size_t n);
void *cm_realloc(void *p, size_t n);
char *cm_strdup(const char *s);
char *cm_strndup(const char *s, size_t n);

/* ---- errors: the library's one convention ----
 * A function that can fail returns 0 on success and -1 on failure, with a
 * message in the caller's cm_err and the kind of failure: the work failed
 * (damaged data, an I/O error), or the caller asked for something that
 * cannot be (bad usage, a bad config, a missing input). Only the program
 * (programs/) maps kinds to exit statuses and prints messages. */
typedef enum cm_err_kind {
    CM_ERR_FAILED = 1, /* the work failed */
    CM_ERR_USAGE = 2   /* bad usage or config: nothing was done */
} cm_err_kind;

typedef struct cm_err {
    int kind;       /* cm_err_kind */
    char msg[1024];
} cm_err;

/* Formats a message into err (when err is not NULL), of kind
 * CM_ERR_FAILED. Returns -1 so that `return cm_errorf(err, ...)` reads
 * naturally. */
int cm_errorf(cm_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same, of kind CM_ERR_USAGE. */
int cm_usagef(cm_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Marks a message a callee already wrote as CM_ERR_USAGE; returns -1. */
int cm_err_usage(cm_err *err);

/* ---- notes while work goes on: the program decides where they go ---- */
typedef struct cm_log {
    void (*write)(void *user, const char *line); /* one line, without a line break; NULL: dropped */
    void *user;
} cm_log;

/* Formats one line and hands it to log (nothing when log or its writer is
 * NULL). */
void cm_logf(const cm_log *log, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- growable byte buffer; data is always NUL-terminated for convenience ---- */
typedef struct cm_buf {
    char *data;
    size_t len;
    size_t cap;
} cm_buf;

void cm_buf_init(cm_buf *b);
void cm_buf_free(cm_buf *b);
/* Makes room for `extra` more bytes (plus the terminating NUL). */
void cm_buf_reserve(cm_buf *b, size_t extra);
void cm_buf_clear(cm_buf *b);
void cm_buf_append(cm_buf *b, const void *data, size_t n);
void cm_buf_append_str(cm_buf *b, const char *s);
void cm_buf_append_char(cm_buf *b, char c);
void cm_buf_appendf(cm_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cm_buf_append_u64(cm_buf *b, uint64_t v);

/* Appends s (valid UTF-8) as a quoted JSON string, escaping quotes,
 * backslashes and control characters. */
void cm_buf_append_json_string(cm_buf *b, const char *s, size_t n);
/* Appends arbitrary bytes as a quoted JSON string: valid UTF-8 passes as in
 * cm_buf_append_json_string, every byte of an invalid sequence becomes the
 * four characters \xHH (written as "\\xHH"). Returns the number of invalid
 * bytes escaped. */
size_t cm_buf_append_json_bytes(cm_buf *b, const char *s, size_t n);

/* The n <= 8 bytes at p as a little-endian integer, zero above (what
 * memcpy(&x, p, n) gives), from fixed-size loads: GCC makes a memcpy of
 * variable length a library call, once per token in the hot loops. */
static inline uint64_t cm_load_small(const void *p, size_t n)
{
    const unsigned char *b = (const unsigned char *)p;
    if (n >= 4) {
        uint32_t lo, hi;
        memcpy(&lo, b, 4);
        memcpy(&hi, b + n - 4, 4);
        return (uint64_t)lo | ((uint64_t)hi << ((n - 4) * 8));
    }
    if (!n) return 0;
    return (uint64_t)b[0] | ((uint64_t)b[n / 2] << (8 * (n / 2))) | ((uint64_t)b[n - 1] << (8 * (n - 1)));
}

#ifdef __SSE2__
/* 0xFF in each byte of v within [lo, hi], 0 elsewhere. The compares are
 * signed: the range is ASCII (a byte >= 0x80 is never in it) or lies within
 * 0x81..0xFF, such as the lead bytes E4-E9 of U+4000..U+9FFF. */
static inline __m128i cm_bytes_in_range(__m128i v, char lo, char hi)
{
    return _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8((char)(lo - 1))), _mm_cmplt_epi8(v, _mm_set1_epi8((char)(hi + 1))));
}
#endif

/* The first occurrence of needle (k bytes) in h (n bytes), as memmem: 16
 * positions at a time where the needle's first and last bytes both are
 * (SSE2), the bytes between compared only there. glibc's memmem goes a
 * byte at a time for short needles; the signals look for "http", "www."
 * and blank lines in every document. */
static inline const char *cm_memmem(const char *h, size_t n, const char *needle, size_t k)
{
    if (k == 0) return h;
    if (n < k) return NULL;
    if (k == 1) return (const char *)memchr(h, needle[0], n);
    size_t i = 0;
#ifdef __SSE2__
    const __m128i first = _mm_set1_epi8(needle[0]), last = _mm_set1_epi8(needle[k - 1]);
    for (; i + k - 1 + 16 <= n; i += 16) {
        __m128i a = _mm_loadu_si128((const __m128i *)(h + i)), b = _mm_loadu_si128((const __m128i *)(h + i + k - 1));
        unsigned m = (unsigned)_mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(a, first), _mm_cmpeq_epi8(b, last)));
        for (; m; m &= m - 1) {
            size_t j = i + (size_t)__builtin_ctz(m);
            if (!memcmp(h + j + 1, needle + 1, k - 2)) return h + j;
        }
    }
#endif
    for (; i + k <= n; i++)
        if (h[i] == needle[0] && !memcmp(h + i + 1, needle + 1, k - 1)) return h + i;
    return NULL;
}

/* ---- sorting and measuring ---- */
/* Sorts n 64-bit values ascending: a radix sort (8 bits a pass, passes
 * where every value has the same byte skipped), insertion below 64 values;
 * tmp has room for n. Several times faster than qsort for hashes. */
void cm_sort_u64(uint64_t *v, size_t n, uint64_t *tmp);
/* Sorts and drops repeated values; returns how many are left. */
size_t cm_sort_unique_u64(uint64_t *v, size_t n);
/* The index of k in the ascending v, or -1 (with repeated values, the
 * last). A binary search without branches on the data (a conditional move
 * per step): lookups in large key tables mispredict half their steps. */
static inline long cm_find_u64(const uint64_t *v, size_t n, uint64_t k)
{
    if (!n) return -1;
    const uint64_t *base = v;
    while (n > 1) {
        size_t half = n / 2;
        base = base[half] <= k ? base + half : base;
        n -= half;
    }
    return *base == k ? (long)(base - v) : -1;
}
/* cm_find_u64 of m keys at once (out[i] for k[i]): the searches advance in
 * step, so their cache misses overlap instead of waiting one by one. */
void cm_find_u64_many(const uint64_t *v, size_t n, const uint64_t *k, size_t m, long *out);
/* How well a score tells positives from negatives: precision, recall, F1
 * and accuracy of "positive when score >= threshold", and the AUC (the
 * chance a positive outscores a negative, ties counting half; 0 when either
 * set is empty). Sorts both arrays. */
typedef struct cm_score_measure {
    double precision, recall, f1, accuracy, auc;
} cm_score_measure;
void cm_measure_scores(double *pos, size_t n_pos, double *neg, size_t n_neg, double threshold, cm_score_measure *m);

/* ---- UTF-8 ---- */
/* Length of the valid UTF-8 sequence starting at s (1..4), or 0 when the
 * bytes at s do not start a valid sequence (overlong forms and surrogates
 * are invalid). */

size_t cm_utf8_seq_len(const unsigned char *s, size_t avail);
/* Decodes one code point of a valid sequence of length len. */
uint32_t cm_utf8_decode(const unsigned char *s, size_t len);
/* Encodes cp into out (at least 4 bytes); returns the length. */
size_t cm_utf8_encode(uint32_t cp, char *out);
/* Copies s to out with every invalid sequence replaced by U+FFFD (one per
 * maximal invalid subpart, as the Unicode standard recommends). Returns the
 * number of replacements. */
size_t cm_utf8_repair(const char *s, size_t n, cm_buf *out);
/* The code point at s[i] and its length in *k, inline for the hot loops
 * (tokenizer, signals, MinHash units): an invalid sequence is U+FFFD of one
 * byte. */
static inline uint32_t cm_utf8_decode_at(const unsigned char *s, size_t len, size_t i, size_t *k)
{
    unsigned char c = s[i];
    if (c < 0x80) { *k = 1; return c; }
    if (c >= 0xE0 && c < 0xF0 && len - i >= 3 && (s[i + 1] & 0xC0) == 0x80 && (s[i + 2] & 0xC0) == 0x80) {
        /* three bytes (CJK), inline: the same checks as cm_utf8_seq_len */
        uint32_t cp = ((uint32_t)(c & 0x0F) << 12) | ((uint32_t)(s[i + 1] & 0x3F) << 6) | (s[i + 2] & 0x3F);
        if (cp >= 0x800 && (cp < 0xD800 || cp > 0xDFFF)) { *k = 3; return cp; }
    }
    *k = cm_utf8_seq_len(s + i, len - i);
    if (!*k) { *k = 1; return 0xFFFD; }
    return cm_utf8_decode(s + i, *k);
}

/* A CJK character that is a word on its own for shingling, hashing and
 * chunking: Han (with the compatibility and supplementary blocks), kana,
 * Hangul syllables. */
/* Whether s[i] starts a CJK ideograph of U+4000..U+9FFF: lead byte E4-E9,
 * less the Yijing hexagrams U+4DC0..U+4DFF (E4 B7 xx). The bulk of Chinese
 * text, told from its bytes without decoding. */
static inline int cm_utf8_ideograph_at(const unsigned char *s, size_t len, size_t i)
{
    return s[i] >= 0xE4 && s[i] <= 0xE9 && len - i >= 3 && (s[i + 1] & 0xC0) == 0x80 && (s[i + 2] & 0xC0) == 0x80 &&
           !(s[i] == 0xE4 && s[i + 1] == 0xB7);
}
static inline int cm_is_cjk(uint32_t c)
{
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0xF900 && c <= 0xFAFF) ||
           (c >= 0x3040 && c <= 0x30FF) || (c >= 0xAC00 && c <= 0xD7AF) || (c >= 0x20000 && c <= 0x3134F);
}

/* ---- clocks and files ---- */
double cm_now(void);                 /* monotonic seconds */
long cm_peak_rss_kb(void);           /* this process's peak resident set */
/* mkdir -p; returns 0 or -1 with err filled. */
int cm_mkdirs(const char *path, cm_err *err);
/* mkdir -p of dir/sub. */
int cm_mkdirs_under(const char *dir, const char *sub, cm_err *err);
/* Writes data to path through path.tmp + rename, so readers never see a
 * partial file. */
int cm_write_file_atomic(const char *path, const void *data, size_t n, cm_err *err);
/* Reads a whole small file (configs, stats) into out. */
int cm_read_file(const char *path, cm_buf *out, size_t max_bytes, cm_err *err);
int cm_path_exists(const char *path);
int cm_is_dir(const char *path);
/* Parses a non-negative decimal integer; returns 0 on success. */
int cm_parse_u64(const char *s, uint64_t *out);
/* Parses a decimal integer in [lo, hi]; returns 0 on success. */
int cm_parse_long(const char *s, long lo, long hi, long *out);

#ifdef __cplusplus
}
#endif
#endif
