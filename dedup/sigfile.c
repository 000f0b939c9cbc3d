/* sigfile.c -- writing and reading band signature files (see sigfile.h). */
#include "sigfile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#define HEADER_SIZE 64
#define VERSION 1
#define BLOCK (1u << 20)
static const char MAGIC[8] = {'C', 'M', 'S', 'I', 'G', 0, 0, 1};

static void put32(unsigned char *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i)); }
static void put64(unsigned char *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i)); }
static uint32_t get32(const unsigned char *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}
static uint64_t get64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

static int cmp_rec(const void *a, const void *b)
{
    const cm_sigrec *x = a, *y = b;
    if (x->hash != y->hash) return x->hash < y->hash ? -1 : 1;
    return x->doc < y->doc ? -1 : x->doc > y->doc;
}

static void make_header(unsigned char *h, const cm_minhash_params *p, int band, uint64_t count)
{
    memset(h, 0, HEADER_SIZE);
    memcpy(h, MAGIC, 8);
    put32(h + 8, VERSION);
    put32(h + 12, 16);
    put32(h + 16, (uint32_t)p->ngram);
    put32(h + 20, (uint32_t)p->bands);
    put32(h + 24, (uint32_t)p->rows);
    put32(h + 28, (uint32_t)band);
    put64(h + 32, p->seed);
    put64(h + 40, count);
    put32(h + 48, (uint32_t)p->fold_digits);
}

/* Sorts by hash, then document. Records arrive in document order, so a
 * stable radix sort on the hash alone gives that order; qsort otherwise. */
static void sort_recs(cm_sigrec *recs, size_t n)
{
    int by_doc = 1;
    for (size_t i = 1; i < n && by_doc; i++) by_doc = recs[i - 1].doc <= recs[i].doc;
    if (!by_doc || n < 256) {
        if (n) qsort(recs, n, sizeof *recs, cmp_rec);
        return;
    }
    size_t count[8][256];
    memset(count, 0, sizeof count);
    for (size_t i = 0; i < n; i++)
        for (int b = 0; b < 8; b++) count[b][(recs[i].hash >> (8 * b)) & 0xFF]++;
    cm_sigrec *tmp = cm_malloc(n * sizeof *tmp), *src = recs, *dst = tmp;
    for (int b = 0; b < 8; b++) {
        size_t *c = count[b];
        if (c[(src[0].hash >> (8 * b)) & 0xFF] == n) continue;
        size_t sum = 0;
        for (int k = 0; k < 256; k++) {
            size_t x = c[k];
            c[k] = sum;
            sum += x;
        }
        for (size_t i = 0; i < n; i++) dst[c[(src[i].hash >> (8 * b)) & 0xFF]++] = src[i];
        cm_sigrec *t = src;
        src = dst;
        dst = t;
    }
    if (src != recs) memcpy(recs, src, n * sizeof *recs);
    free(tmp);
}

int cm_sigfile_write(const char *path, const cm_minhash_params *p, int band, cm_sigrec *recs, size_t n, cm_err *err)
{
    sort_recs(recs, n);
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) return cm_errorf(err, "cannot write '%s': %s", tmp, strerror(errno));
    setvbuf(f, NULL, _IOFBF, BLOCK);
    XXH64_state_t *st = XXH64_createState();
    XXH64_reset(st, 0);
    unsigned char h[HEADER_SIZE];
    make_header(h, p, band, n);
    int bad = fwrite(h, 1, HEADER_SIZE, f) != HEADER_SIZE;
    XXH64_update(st, h, HEADER_SIZE);
    unsigned char buf[16 * 4096];
    size_t k = 0;
    for (size_t i = 0; i < n && !bad; i++) {
        put64(buf + 16 * k, recs[i].hash);
        put64(buf + 16 * k + 8, recs[i].doc);
        if (++k == 4096 || i + 1 == n) {
            XXH64_update(st, buf, 16 * k);
            bad |= fwrite(buf, 1, 16 * k, f) != 16 * k;
            k = 0;
        }
    }
    unsigned char tr[8];
    put64(tr, XXH64_digest(st));
    XXH64_freeState(st);
    bad |= fwrite(tr, 1, 8, f) != 8;
    bad |= fclose(f) != 0;
    if (bad) {
        remove(tmp);
        return cm_errorf(err, "cannot write '%s': %s", tmp, strerror(errno));
    }
    if (rename(tmp, path) != 0) return cm_errorf(err, "cannot rename '%s': %s", tmp, strerror(errno));
    return 0;
}

struct cm_sigreader {
    char *path;
    FILE *f;
    unsigned char *buf;
    size_t len, pos;   /* bytes in buf, next one */
    uint64_t count, done;
    XXH64_state_t *st;
};

void cm_sigreader_close(cm_sigreader *r)
{
    if (!r) return;
    if (r->f) fclose(r->f);
    if (r->st) XXH64_freeState(r->st);
    free(r->buf);
    free(r->path);
    free(r);
}

cm_sigreader *cm_sigreader_open(const char *path, const cm_minhash_params *p, int band, cm_err *err)
{
    cm_sigreader *r = cm_calloc(1, sizeof *r);
    r->path = cm_strdup(path);
    r->f = fopen(path, "rb");
    if (!r->f) {
        cm_errorf(err, "%s: cannot open: %s", path, strerror(errno));
        cm_sigreader_close(r);
        return NULL;
    }
    unsigned char h[HEADER_SIZE];
    if (fread(h, 1, HEADER_SIZE, r->f) != HEADER_SIZE) {
        cm_errorf(err, "%s: truncated: no complete header", path);
        cm_sigreader_close(r);
        return NULL;
    }
    if (memcmp(h, MAGIC, 8) != 0) {
        cm_errorf(err, "%s: not a corpusmill signature file", path);
        cm_sigreader_close(r);
        return NULL;
    }
    if (get32(h + 8) != VERSION || get32(h + 12) != 16) {
        cm_errorf(err, "%s: signature file version %u, this corpusmill reads version %d", path, get32(h + 8), VERSION);
        cm_sigreader_close(r);
        return NULL;
    }
    uint32_t ng = get32(h + 16), bands = get32(h + 20), rows = get32(h + 24), b = get32(h + 28);
    uint64_t seed = get64(h + 32);
    uint32_t fold = get32(h + 48);
    if (ng != (uint32_t)p->ngram || bands != (uint32_t)p->bands || rows != (uint32_t)p->rows || seed != p->seed ||
        b != (uint32_t)band || fold != (uint32_t)p->fold_digits) {
        cm_errorf(err,
                  "%s: made with other MinHash parameters (ngram %u, %u bands x %u rows, seed %llu, band %u, "
                  "fold_digits %u; this run: ngram %d, %d x %d, seed %llu, band %d, fold_digits %d)",
                  path, ng, bands, rows, (unsigned long long)seed, b, fold, p->ngram, p->bands, p->rows,
                  (unsigned long long)p->seed, band, p->fold_digits);
        cm_sigreader_close(r);
        return NULL;
    }
    r->count = get64(h + 40);
    r->buf = cm_malloc(BLOCK);
    r->st = XXH64_createState();
    XXH64_reset(r->st, 0);
    XXH64_update(r->st, h, HEADER_SIZE);
    return r;
}

uint64_t cm_sigreader_count(const cm_sigreader *r) { return r->count; }

/* Refills buf keeping the unread tail; returns bytes available. */
static size_t refill(cm_sigreader *r)
{
    size_t tail = r->len - r->pos;
    memmove(r->buf, r->buf + r->pos, tail);
    r->len = tail + fread(r->buf + tail, 1, BLOCK - tail, r->f);
    r->pos = 0;
    return r->len;
}

int cm_sigreader_next(cm_sigreader *r, cm_sigrec *out, cm_err *err)
{
    if (r->done == r->count) {
        /* the trailer: the checksum of everything before it */
        if (r->len - r->pos < 8 && refill(r) < 8)
            return cm_errorf(err, "%s: truncated: the checksum is missing", r->path);
        uint64_t want = get64(r->buf + r->pos);
        r->pos += 8;
        if (XXH64_digest(r->st) != want) return cm_errorf(err, "%s: corrupt: the checksum does not match", r->path);
        if (r->len - r->pos > 0 || fgetc(r->f) != EOF) return cm_errorf(err, "%s: corrupt: data after the checksum", r->path);
        r->done++; /* past the end: further calls return 0 */
        return 0;
    }
    if (r->done > r->count) return 0;
    if (r->len - r->pos < 16) {
        /* checksum what is consumed before moving it */
        if (refill(r) < 16)
            return cm_errorf(err, "%s: truncated after %llu of %llu records", r->path, (unsigned long long)r->done,
                             (unsigned long long)r->count);
    }
    const unsigned char *p = r->buf + r->pos;
    XXH64_update(r->st, p, 16);
    out->hash = get64(p);
    out->doc = get64(p + 8);
    r->pos += 16;
    r->done++;
    return 1;
}
