/* util.c -- implementation of the shared helpers declared in util.h. */
#define _GNU_SOURCE
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

static void die_oom(size_t n)
{
    fprintf(stderr, "corpusmill: out of memory allocating %zu bytes\n", n);
    abort();
}

void *cm_malloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) die_oom(n);
    return p;
}

void *cm_calloc(size_t count, size_t n)
{
    void *p = calloc(count ? count : 1, n ? n : 1);
    if (!p) die_oom(count * n);
    return p;
}

void *cm_realloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) die_oom(n);
    return q;
}

char *cm_strdup(const char *s) { return cm_strndup(s, strlen(s)); }

char *cm_strndup(const char *s, size_t n)
{
    char *d = cm_malloc(n + 1);
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

int cm_errorf(cm_err *err, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->kind = CM_ERR_FAILED;
    }
    return -1;
}

int cm_usagef(cm_err *err, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->kind = CM_ERR_USAGE;
    }
    return -1;
}

int cm_err_usage(cm_err *err)
{
    if (err) err->kind = CM_ERR_USAGE;
    return -1;
}

void cm_logf(const cm_log *log, const char *fmt, ...)
{
    if (!log || !log->write) return;
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    log->write(log->user, line);
}

void cm_buf_init(cm_buf *b) { b->data = NULL; b->len = 0; b->cap = 0; }

void cm_buf_free(cm_buf *b)
{
    free(b->data);
    cm_buf_init(b);
}

void cm_buf_reserve(cm_buf *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    if (need <= b->cap) return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need) cap = cap * 2;
    b->data = cm_realloc(b->data, cap);
    b->cap = cap;
}

void cm_buf_clear(cm_buf *b)
{
    b->len = 0;
    if (b->data) b->data[0] = 0;
}

void cm_buf_append(cm_buf *b, const void *data, size_t n)
{
    cm_buf_reserve(b, n);
    if (n) memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = 0;
}

void cm_buf_append_str(cm_buf *b, const char *s) { cm_buf_append(b, s, strlen(s)); }

void cm_buf_append_char(cm_buf *b, char c)
{
    cm_buf_reserve(b, 1);
    b->data[b->len++] = c;
    b->data[b->len] = 0;
}

void cm_buf_appendf(cm_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n > 0) {
        cm_buf_reserve(b, (size_t)n);
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap2);
        b->len += (size_t)n;
    }
    va_end(ap2);
}

void cm_buf_append_u64(cm_buf *b, uint64_t v)
{
    char tmp[24];
    int i = 23;
    tmp[i] = 0;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    cm_buf_append(b, tmp + i, (size_t)(23 - i));
}

static const char HEX[] = "0123456789abcdef";

/* A byte needs escaping in a JSON string when it is a quote, a backslash or
 * a control character. */
static inline int json_needs_escape(unsigned char c) { return c < 0x20 || c == '"' || c == '\\'; }

static void append_json_escape(cm_buf *b, unsigned char c)
{
    char e[6] = {'\\', 0, 0, 0, 0, 0};
    size_t n = 2;
    switch (c) {
    case '"': e[1] = '"'; break;
    case '\\': e[1] = '\\'; break;
    case '\n': e[1] = 'n'; break;
    case '\t': e[1] = 't'; break;
    case '\r': e[1] = 'r'; break;
    case '\b': e[1] = 'b'; break;
    case '\f': e[1] = 'f'; break;
    default:
        e[1] = 'u'; e[2] = '0'; e[3] = '0'; e[4] = HEX[c >> 4]; e[5] = HEX[c & 15];
        n = 6;
    }
    cm_buf_append(b, e, n);
}

void cm_buf_append_json_string(cm_buf *b, const char *s, size_t n)
{
    /* Worst case every byte becomes \u00XX. Reserve once, then copy runs. */
    cm_buf_reserve(b, n + 2);
    cm_buf_append_char(b, '"');
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
#ifdef __SSE2__
        /* skip 16 bytes at a time while none needs escaping */
        while (i + 16 <= n) {
            __m128i v = _mm_loadu_si128((const __m128i *)(s + i));
            __m128i ctl = _mm_cmplt_epi8(_mm_xor_si128(v, _mm_set1_epi8((char)0x80)), _mm_set1_epi8((char)(0x20 ^ 0x80)));
            __m128i q = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\\')));
            if (_mm_movemask_epi8(_mm_or_si128(ctl, q))) break;
            i += 16;
        }
        if (i >= n) break;
#endif
        unsigned char c = (unsigned char)s[i];
        if (json_needs_escape(c)) {
            cm_buf_append(b, s + run, i - run);
            append_json_escape(b, c);
            run = i + 1;
        }
    }
    cm_buf_append(b, s + run, n - run);
    cm_buf_append_char(b, '"');
}

size_t cm_buf_append_json_bytes(cm_buf *b, const char *s, size_t n)
{
    size_t bad = 0;
    cm_buf_append_char(b, '"');
    size_t i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            if (json_needs_escape(c)) append_json_escape(b, c);
            else cm_buf_append_char(b, (char)c);
            i++;
            continue;
        }
        size_t k = cm_utf8_seq_len((const unsigned char *)s + i, n - i);
        if (k) {
            cm_buf_append(b, s + i, k);
            i += k;
        } else {
            char e[6] = {'\\', '\\', 'x', HEX[c >> 4], HEX[c & 15], 0};
            cm_buf_append(b, e, 5);
            bad++;
            i++;
        }
    }
    cm_buf_append_char(b, '"');
    return bad;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void cm_sort_u64(uint64_t *v, size_t n, uint64_t *tmp)
{
    if (n < 64) {
        for (size_t i = 1; i < n; i++) {
            uint64_t x = v[i];
            size_t j = i;
            for (; j > 0 && v[j - 1] > x; j--) v[j] = v[j - 1];
            v[j] = x;
        }
        return;
    }
    size_t count[8][256];
    memset(count, 0, sizeof count);
    for (size_t i = 0; i < n; i++)
        for (int b = 0; b < 8; b++) count[b][(v[i] >> (8 * b)) & 0xFF]++;
    uint64_t *src = v, *dst = tmp;
    for (int b = 0; b < 8; b++) {
        size_t *c = count[b];
        if (c[(src[0] >> (8 * b)) & 0xFF] == n) continue; /* one byte value: the pass changes nothing */
        size_t sum = 0;
        for (int k = 0; k < 256; k++) {
            size_t x = c[k];
            c[k] = sum;
            sum += x;
        }
        for (size_t i = 0; i < n; i++) dst[c[(src[i] >> (8 * b)) & 0xFF]++] = src[i];
        uint64_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != v) memcpy(v, src, n * sizeof *v);
}

void cm_find_u64_many(const uint64_t *v, size_t n, const uint64_t *k, size_t m, long *out)
{
    enum { LANES = 16 };
    for (size_t s = 0; s < m; s += LANES) {
        size_t w = m - s < LANES ? m - s : LANES;
        if (!n) {
            for (size_t j = 0; j < w; j++) out[s + j] = -1;
            continue;
        }
        const uint64_t *base[LANES];
        for (size_t j = 0; j < w; j++) base[j] = v;
        for (size_t len = n; len > 1;) {
            size_t half = len / 2;
            for (size_t j = 0; j < w; j++) base[j] = base[j][half] <= k[s + j] ? base[j] + half : base[j];
            len -= half;
        }
        for (size_t j = 0; j < w; j++) out[s + j] = *base[j] == k[s + j] ? (long)(base[j] - v) : -1;
    }
}

size_t cm_sort_unique_u64(uint64_t *v, size_t n)
{
    uint64_t *tmp = cm_malloc((n ? n : 1) * sizeof *tmp);
    cm_sort_u64(v, n, tmp);
    free(tmp);
    size_t w = 0;
    for (size_t i = 0; i < n; i++)
        if (!w || v[w - 1] != v[i]) v[w++] = v[i];
    return w;
}

void cm_measure_scores(double *pos, size_t n_pos, double *neg, size_t n_neg, double threshold, cm_score_measure *m)
{
    size_t tp = 0, fp = 0;
    for (size_t i = 0; i < n_pos; i++) tp += pos[i] >= threshold;
    for (size_t i = 0; i < n_neg; i++) fp += neg[i] >= threshold;
    m->precision = tp + fp ? (double)tp / (double)(tp + fp) : 0;
    m->recall = n_pos ? (double)tp / (double)n_pos : 0;
    m->f1 = m->precision + m->recall > 0 ? 2 * m->precision * m->recall / (m->precision + m->recall) : 0;
    m->accuracy = n_pos + n_neg ? (double)(tp + n_neg - fp) / (double)(n_pos + n_neg) : 0;
    qsort(pos, n_pos, sizeof *pos, by_value);
    qsort(neg, n_neg, sizeof *neg, by_value);
    double wins = 0;
    size_t below = 0, equal = 0; /* negatives under pos[i], and equal to it */
    for (size_t i = 0; i < n_pos; i++) {
        while (below < n_neg && neg[below] < pos[i]) below++;
        equal = below;
        while (equal < n_neg && neg[equal] == pos[i]) equal++;
        wins += (double)below + 0.5 * (double)(equal - below);
    }
    m->auc = n_pos && n_neg ? wins / ((double)n_pos * (double)n_neg) : 0;
}

size_t cm_utf8_seq_len(const unsigned char *s, size_t avail)
{
    unsigned char c = s[0];
    if (c < 0x80) return 1;
    if (c < 0xC2) return 0;
    if (c < 0xE0) {
        if (avail < 2 || (s[1] & 0xC0) != 0x80) return 0;
        return 2;
    }
    if (c < 0xF0) {
        if (avail < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80) return 0;
        if (c == 0xE0 && s[1] < 0xA0) return 0;  /* overlong */
        if (c == 0xED && s[1] >= 0xA0) return 0; /* surrogate */
        return 3;
    }
    if (c < 0xF5) {
        if (avail < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80)
            return 0;
        if (c == 0xF0 && s[1] < 0x90) return 0; /* overlong */
        if (c == 0xF4 && s[1] >= 0x90) return 0; /* past U+10FFFF */
        return 4;
    }
    return 0;
}

uint32_t cm_utf8_decode(const unsigned char *s, size_t len)
{
    switch (len) {
    case 1: return s[0];
    case 2: return ((uint32_t)(s[0] & 0x1F) << 6) | (s[1] & 0x3F);
    case 3: return ((uint32_t)(s[0] & 0x0F) << 12) | ((uint32_t)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
    default:
        return ((uint32_t)(s[0] & 0x07) << 18) | ((uint32_t)(s[1] & 0x3F) << 12) |
               ((uint32_t)(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
    }
}

size_t cm_utf8_encode(uint32_t cp, char *out)
{
    if (cp < 0x80) { out[0] = (char)cp; return 1; }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Length of the maximal prefix of s that could begin a valid sequence: the
 * "maximal subpart" that Unicode (ch. 3, U+FFFD substitution) replaces by one
 * U+FFFD. Always at least 1. */
static size_t utf8_invalid_subpart(const unsigned char *s, size_t avail)
{
    unsigned char c = s[0];
    size_t want;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c < 0xE0) want = 2;
    else if (c >= 0xE0 && c < 0xF0) {
        want = 3;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c < 0xF5) {
        want = 4;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else return 1;
    size_t i = 1;
    if (i < avail && s[i] >= lo && s[i] <= hi) {
        i++;
        while (i < want && i < avail && (s[i] & 0xC0) == 0x80) i++;
    }
    return i;
}

size_t cm_utf8_repair(const char *s, size_t n, cm_buf *out)
{
    static const char FFFD[3] = {(char)0xEF, (char)0xBF, (char)0xBD};
    size_t bad = 0, i = 0, run = 0;
    cm_buf_reserve(out, n + 16);
    while (i < n) {
        const unsigned char *p = (const unsigned char *)s + i;
        if (*p < 0x80) { i++; continue; }
        size_t k = cm_utf8_seq_len(p, n - i);
        if (k) { i += k; continue; }
        cm_buf_append(out, s + run, i - run);
        cm_buf_append(out, FFFD, 3);
        bad++;
        i += utf8_invalid_subpart(p, n - i);
        run = i;
    }
    cm_buf_append(out, s + run, n - run);
    return bad;
}

double cm_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

long cm_peak_rss_kb(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
    return ru.ru_maxrss;
}

int cm_mkdirs(const char *path, cm_err *err)
{
    char tmp[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof tmp) return cm_errorf(err, "bad directory path '%s'", path);
    memcpy(tmp, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (tmp[i] == '/' || tmp[i] == 0) {
            char saved = tmp[i];
            tmp[i] = 0;
            if (mkdir(tmp, 0777) != 0 && errno != EEXIST)
                return cm_errorf(err, "cannot create directory '%s': %s", tmp, strerror(errno));
            tmp[i] = saved;
        }
    }
    if (!cm_is_dir(path)) return cm_errorf(err, "'%s' is not a directory", path);
    return 0;
}

int cm_mkdirs_under(const char *dir, const char *sub, cm_err *err)
{
    char p[4200];
    snprintf(p, sizeof p, "%s/%s", dir, sub);
    return cm_mkdirs(p, err);
}

int cm_write_file_atomic(const char *path, const void *data, size_t n, cm_err *err)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) return cm_errorf(err, "cannot write '%s': %s", tmp, strerror(errno));
    size_t w = fwrite(data, 1, n, f);
    int bad = (w != n) | (fflush(f) != 0);
    bad |= fclose(f) != 0;
    if (bad) {
        unlink(tmp);
        return cm_errorf(err, "cannot write '%s': %s", tmp, strerror(errno));
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return cm_errorf(err, "cannot rename '%s' to '%s': %s", tmp, path, strerror(e));
    }
    return 0;
}

int cm_read_file(const char *path, cm_buf *out, size_t max_bytes, cm_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) return cm_errorf(err, "cannot open '%s': %s", path, strerror(errno));
    char chunk[65536];
    size_t r;
    while ((r = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (out->len + r > max_bytes) {
            fclose(f);
            return cm_errorf(err, "'%s' is larger than %zu bytes", path, max_bytes);
        }
        cm_buf_append(out, chunk, r);
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) return cm_errorf(err, "cannot read '%s'", path);
    if (!out->data) cm_buf_reserve(out, 0);
    return 0;
}

int cm_path_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

int cm_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int cm_parse_u64(const char *s, uint64_t *out)
{
    if (!s || !*s) return -1;
    uint64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9') return -1;
        uint64_t d = (uint64_t)(*p - '0');
        if (v > (UINT64_MAX - d) / 10) return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

int cm_parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long x = strtol(s, &end, 10);
    if (errno || *end || end == s || x < lo || x > hi) return -1;
    *out = x;
    return 0;
}
