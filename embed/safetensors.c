/* safetensors.c -- the safetensors reader (see safetensors.h). The header
 * is walked with the JSON layer's visitor; each scalar lands in the tensor
 * its first path element names, and the checks run once all are in. */
#define _DEFAULT_SOURCE
#include "safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../pipeline/json.h"

/* A header larger than this is not a model header (safetensors' own limit). */
#define MAX_HEADER_BYTES (100u << 20)

struct cm_safetensors {
    char *path;
    void *map;
    size_t map_len;
    cm_tensor *tensors;
    size_t n, cap;
};

typedef struct {
    cm_safetensors *st;
    int failed;
    cm_err *err;
} header_walk;

/* Per-tensor state kept apart from cm_tensor while parsing. */
typedef struct {
    int has_dtype, n_offsets;
    int64_t offsets[2];
} parse_state;

static const size_t DTYPE_SIZE[] = {4, 2, 2};

static int walk_fail(header_walk *w, const char *tensor, const char *what)
{
    cm_errorf(w->err, "%s: tensor '%s': %s", w->st->path, tensor, what);
    w->failed = 1;
    return 1;
}

static int is_index(const char *s, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || end == s || v < 0 || v >= max) return 0;
    *out = v;
    return 1;
}

static int whole_number(double x, int64_t *out)
{
    if (!(x >= 0 && x <= 9.0e15) || x != (double)(int64_t)x) return 0;
    *out = (int64_t)x;
    return 1;
}

typedef struct {
    header_walk w;
    parse_state *ps;
    size_t ps_cap;
} walk_ctx;

static size_t tensor_index(walk_ctx *c, const char *name)
{
    cm_safetensors *st = c->w.st;
    if (st->n && !strcmp(st->tensors[st->n - 1].name, name)) return st->n - 1;
    for (size_t i = 0; i + 1 < st->n; i++)
        if (!strcmp(st->tensors[i].name, name)) return i;
    if (st->n == st->cap) {
        st->cap = st->cap ? 2 * st->cap : 64;
        st->tensors = cm_realloc(st->tensors, st->cap * sizeof *st->tensors);
        c->ps = cm_realloc(c->ps, st->cap * sizeof *c->ps);
    }
    memset(&st->tensors[st->n], 0, sizeof st->tensors[st->n]);
    memset(&c->ps[st->n], 0, sizeof c->ps[st->n]);
    st->tensors[st->n].name = cm_strdup(name);
    return st->n++;
}

static int on_scalar(void *user, const char *const *path, int depth, cm_json_type type, double number,
                     const char *str, size_t str_len)
{
    walk_ctx *c = user;
    header_walk *w = &c->w;
    if (depth < 1) return walk_fail(w, "", "the header is not a JSON object");
    if (!strcmp(path[0], "__metadata__")) return 0; /* free-form strings */
    if (depth < 2) return walk_fail(w, path[0], "not an object");
    size_t i = tensor_index(c, path[0]);
    cm_tensor *t = &w->st->tensors[i];
    parse_state *ps = &c->ps[i];
    long idx;
    int64_t v;
    if (!strcmp(path[1], "dtype") && depth == 2) {
        if (type != CM_JSON_STRING || ps->has_dtype) return walk_fail(w, path[0], "bad or repeated dtype");
        if (str_len == 3 && !memcmp(str, "F32", 3)) t->dtype = CM_DTYPE_F32;
        else if (str_len == 3 && !memcmp(str, "F16", 3)) t->dtype = CM_DTYPE_F16;
        else if (str_len == 4 && !memcmp(str, "BF16", 4)) t->dtype = CM_DTYPE_BF16;
        else {
            char msg[96];
            snprintf(msg, sizeof msg, "dtype %.*s is not supported (F32, F16, BF16)", (int)(str_len > 16 ? 16 : str_len),
                     str);
            return walk_fail(w, path[0], msg);
        }
        ps->has_dtype = 1;
    } else if (!strcmp(path[1], "shape") && depth == 3) {
        if (type != CM_JSON_NUMBER || !is_index(path[2], CM_TENSOR_MAX_RANK, &idx) || idx != t->rank ||
            !whole_number(number, &v))
            return walk_fail(w, path[0], "bad shape");
        t->shape[t->rank++] = v;
    } else if (!strcmp(path[1], "data_offsets") && depth == 3) {
        if (type != CM_JSON_NUMBER || !is_index(path[2], 2, &idx) || idx != ps->n_offsets ||
            !whole_number(number, &v))
            return walk_fail(w, path[0], "bad data_offsets");
        ps->offsets[ps->n_offsets++] = v;
    } else {
        return walk_fail(w, path[0], "unexpected field in the header");
    }
    return 0;
}

static int by_begin(const void *a, const void *b)
{
    const cm_tensor *x = a, *y = b;
    return x->begin < y->begin ? -1 : x->begin > y->begin;
}

static int check_tensors(walk_ctx *c, const unsigned char *data, size_t data_len, cm_err *err)
{
    cm_safetensors *st = c->w.st;
    for (size_t i = 0; i < st->n; i++) {
        cm_tensor *t = &st->tensors[i];
        parse_state *ps = &c->ps[i];
        if (!ps->has_dtype || ps->n_offsets != 2)
            return cm_errorf(err, "%s: tensor '%s': dtype or data_offsets missing", st->path, t->name);
        size_t count = 1;
        for (int d = 0; d < t->rank; d++) {
            if (t->shape[d] && count > SIZE_MAX / 8 / (size_t)t->shape[d])
                return cm_errorf(err, "%s: tensor '%s': shape too large", st->path, t->name);
            count *= (size_t)t->shape[d];
        }
        t->count = count;
        t->begin = (size_t)ps->offsets[0];
        t->end = (size_t)ps->offsets[1];
        if (t->begin > t->end || t->end > data_len)
            return cm_errorf(err, "%s: tensor '%s': data_offsets [%zu, %zu] outside the %zu data bytes", st->path,
                             t->name, t->begin, t->end, data_len);
        if (t->end - t->begin != count * DTYPE_SIZE[t->dtype])
            return cm_errorf(err, "%s: tensor '%s': %zu bytes for a shape of %zu elements", st->path, t->name,
                             t->end - t->begin, count);
        t->data = data + t->begin;
    }
    /* sorting moves tensors, so it is done on a copy of the ranges */
    cm_tensor *sorted = cm_malloc((st->n ? st->n : 1) * sizeof *sorted);
    if (st->n) {
        memcpy(sorted, st->tensors, st->n * sizeof *sorted);
        qsort(sorted, st->n, sizeof *sorted, by_begin);
    }
    int rc = 0;
    for (size_t i = 1; i < st->n && !rc; i++)
        if (sorted[i].begin < sorted[i - 1].end)
            rc = cm_errorf(err, "%s: tensors '%s' and '%s' overlap", st->path, sorted[i - 1].name, sorted[i].name);
    free(sorted);
    return rc;
}

cm_safetensors *cm_safetensors_open(const char *path, cm_err *err)
{
    cm_safetensors *st = cm_calloc(1, sizeof *st);
    st->path = cm_strdup(path);
    walk_ctx c = {{st, 0, err}, NULL, 0};
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) < 0) {
        cm_errorf(err, "%s: %s", path, strerror(errno));
        goto fail;
    }
    if (sb.st_size < 8) {
        cm_errorf(err, "%s: %lld bytes, too short for a safetensors file", path, (long long)sb.st_size);
        goto fail;
    }
    st->map_len = (size_t)sb.st_size;
    st->map = mmap(NULL, st->map_len, PROT_READ, MAP_PRIVATE, fd, 0);
    if (st->map == MAP_FAILED) {
        st->map = NULL;
        cm_errorf(err, "%s: mmap: %s", path, strerror(errno));
        goto fail;
    }
    close(fd);
    fd = -1;
    const unsigned char *p = st->map;
    uint64_t header_len = 0;
    for (int i = 7; i >= 0; i--) header_len = header_len << 8 | p[i];
    if (header_len < 2 || header_len > MAX_HEADER_BYTES || header_len > st->map_len - 8) {
        cm_errorf(err, "%s: header length %llu does not fit the %zu-byte file", path, (unsigned long long)header_len,
                  st->map_len);
        goto fail;
    }
    const char *header = (const char *)p + 8;
    if (header[0] != '{') {
        cm_errorf(err, "%s: the header is not a JSON object", path);
        goto fail;
    }
    cm_err jerr;
    if (cm_json_visit(header, (size_t)header_len, on_scalar, &c, &jerr)) {
        cm_errorf(err, "%s: header: %s", path, jerr.msg);
        goto fail;
    }
    if (c.w.failed) goto fail;
    if (check_tensors(&c, p + 8 + header_len, st->map_len - 8 - (size_t)header_len, err)) goto fail;
    free(c.ps);
    return st;
fail:
    if (fd >= 0) close(fd);
    free(c.ps);
    cm_safetensors_close(st);
    return NULL;
}

void cm_safetensors_close(cm_safetensors *st)
{
    if (!st) return;
    for (size_t i = 0; i < st->n; i++) free(st->tensors[i].name);
    free(st->tensors);
    if (st->map) munmap(st->map, st->map_len);
    free(st->path);
    free(st);
}

size_t cm_safetensors_count(const cm_safetensors *st) { return st->n; }
const cm_tensor *cm_safetensors_at(const cm_safetensors *st, size_t i) { return i < st->n ? &st->tensors[i] : NULL; }

const cm_tensor *cm_safetensors_find(const cm_safetensors *st, const char *name)
{
    for (size_t i = 0; i < st->n; i++)
        if (!strcmp(st->tensors[i].name, name)) return &st->tensors[i];
    return NULL;
}

float cm_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ff, bits;
    if (exp == 0x1f) {
        bits = sign | 0x7f800000u | mant << 13; /* inf, NaN */
    } else if (exp) {
        bits = sign | (exp + 112) << 23 | mant << 13;
    } else if (mant) { /* subnormal: normalize */
        int e = -1;
        do { e++; mant <<= 1; } while (!(mant & 0x400));
        bits = sign | (uint32_t)(112 - e) << 23 | (mant & 0x3ff) << 13;
    } else {
        bits = sign;
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

void cm_tensor_to_f32(const cm_tensor *t, float *out)
{
    const unsigned char *p = t->data;
    for (size_t i = 0; i < t->count; i++) {
        if (t->dtype == CM_DTYPE_F32) {
            memcpy(&out[i], p + 4 * i, 4); /* safetensors is little-endian, as are our targets */
        } else {
            uint16_t h = (uint16_t)(p[2 * i] | p[2 * i + 1] << 8);
            if (t->dtype == CM_DTYPE_F16) {
                out[i] = cm_f16_to_f32(h);
            } else {
                uint32_t bits = (uint32_t)h << 16;
                memcpy(&out[i], &bits, 4);
            }
        }
    }
}
