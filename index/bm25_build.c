/* bm25_build.c -- writing bm25.idx (see bm25_index.h): chunks inverted in
 * memory (one hash table of term records, each with its postings as
 * varints), runs written when memory runs out, and one writer that turns
 * any sequence of sources (the memory, runs, other indexes) into the final
 * file with the statistics of all of them. */
#define _GNU_SOURCE
#include "bm25_index.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "bm25_format.h"
#include "bm25_terms.h"

/* ---- inverting in memory ----
 * A term's record is found by a 64-bit key: a CJK character's or digit's
 * code point, a pair's two code points (as cm_bm25_scan gives them: most
 * terms of Chinese text never have their bytes hashed), or a word's hash
 * with bit 62 set (its bytes then compared). The table is far larger than
 * the caches and is read at random, so a document's terms are collected
 * first and each lookup is prefetched some terms ahead: the memory waits
 * overlap instead of adding up. The record holds everything a document
 * touches, so one miss finds it all. */

#define WORD_KEY (1ull << 62)
#define AHEAD 16

typedef struct mterm {
    uint64_t key;               /* 0: an empty slot */
    uint8_t *post;              /* varint gap, varint tf; per posting */
    uint32_t post_len, post_cap;
    uint32_t tf;                /* in the document being added */
    uint32_t last_doc, df;
    uint32_t str_off;           /* its bytes in the builder's strings */
    uint8_t len;
} mterm;

/* A term of the document being added, before it is looked up. */
typedef struct occurrence {
    uint64_t key;
    const char *part;           /* its bytes are part + at; NULL: the document's word bytes + at */
    uint32_t at, len;
} occurrence;

/* Posting lists grow by doubling in an arena of their own: mapped chunks
 * advised to use huge pages, size classes of 8 << c bytes, blocks freed on
 * growth kept for reuse; no malloc per list and no copy into a new heap
 * block beyond the doubling. */
#define ARENA_CHUNK (64u << 20)
#define CLASSES 30

typedef struct arena {
    uint8_t **chunks;
    size_t *sizes;
    size_t n_chunks;
    size_t used;                /* in the last chunk */
    void *free_list[CLASSES];
} arena;

static void *huge_alloc(size_t bytes);

static uint8_t *arena_alloc(arena *a, unsigned cls)
{
    if (a->free_list[cls]) {
        void *p = a->free_list[cls];
        memcpy(&a->free_list[cls], p, sizeof(void *)); /* the next free block is stored in the block */
        return p;
    }
    size_t bytes = (size_t)8 << cls;
    if (!a->n_chunks || a->used + bytes > a->sizes[a->n_chunks - 1]) {
        size_t size = bytes > ARENA_CHUNK ? bytes : ARENA_CHUNK;
        a->chunks = cm_realloc(a->chunks, (a->n_chunks + 1) * sizeof *a->chunks);
        a->sizes = cm_realloc(a->sizes, (a->n_chunks + 1) * sizeof *a->sizes);
        a->sizes[a->n_chunks] = size;
        a->chunks[a->n_chunks++] = huge_alloc(size);
        a->used = 0;
    }
    uint8_t *p = a->chunks[a->n_chunks - 1] + a->used;
    a->used += bytes;
    return p;
}

static void arena_release(arena *a, void *p, unsigned cls)
{
    memcpy(p, &a->free_list[cls], sizeof(void *));
    a->free_list[cls] = p;
}

static void arena_reset(arena *a)
{
    for (size_t i = 0; i < a->n_chunks; i++) munmap(a->chunks[i], a->sizes[i]);
    free(a->chunks);
    free(a->sizes);
    memset(a, 0, sizeof *a);
}

struct cm_bm25_builder {
    char *run_prefix;
    arena postings;
    uint64_t memory, bytes;     /* budget; what the table, strings and postings hold */
    mterm *tab;                 /* open addressing, a power of two */
    size_t cap, n_terms;
    unsigned shift;             /* 64 - log2(cap) */
    cm_buf strings;
    mterm **touched;            /* terms of the document being added */
    size_t n_touched, cap_touched;
    occurrence *occ;            /* the document's terms in order */
    size_t n_occ, cap_occ;
    const char *part;           /* the part being scanned (heading path or text) */
    cm_buf words;               /* the document's words, lowercased */
    int64_t *ids;
    uint8_t *norms;
    size_t n_docs, cap_docs;
    uint64_t total_terms;
    char **runs;
    size_t n_runs;
};

/* The term table and the posting arena: anonymous mappings advised to use
 * huge pages (a random lookup on 4 KiB pages also misses the TLB, which
 * prefetching does not hide), zero-filled. Out of memory ends the process,
 * as cm_malloc does. */
static void *huge_alloc(size_t bytes)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        fprintf(stderr, "corpusmill: out of memory (%zu bytes)\n", bytes);
        abort();
    }
    madvise(p, bytes, MADV_HUGEPAGE);
    return p;
}

static void table_set(cm_bm25_builder *b, size_t cap)
{
    b->tab = huge_alloc(cap * sizeof(mterm));
    b->cap = cap;
    b->shift = 64;
    while ((size_t)1 << (64 - b->shift) < cap) b->shift--;
}

static inline size_t slot_of(const cm_bm25_builder *b, uint64_t key)
{
    return (size_t)((key * 0x9E3779B97F4A7C15ull) >> b->shift);
}

cm_bm25_builder *cm_bm25_builder_create(const char *run_prefix, uint64_t memory)
{
    cm_bm25_builder *b = cm_calloc(1, sizeof *b);
    b->run_prefix = cm_strdup(run_prefix);
    b->memory = memory;
    table_set(b, 1 << 16);
    b->bytes = b->cap * sizeof(mterm);
    cm_buf_init(&b->strings);
    cm_buf_init(&b->words);
    return b;
}

static void reset_memory(cm_bm25_builder *b)
{
    arena_reset(&b->postings);
    memset(b->tab, 0, b->cap * sizeof *b->tab);
    b->n_terms = 0;
    cm_buf_clear(&b->strings);
    b->n_docs = 0;
    b->total_terms = 0;
    b->bytes = b->cap * sizeof(mterm);
}

void cm_bm25_builder_free(cm_bm25_builder *b)
{
    if (!b) return;
    arena_reset(&b->postings);
    munmap(b->tab, b->cap * sizeof *b->tab);
    for (size_t i = 0; i < b->n_runs; i++) {
        unlink(b->runs[i]);
        free(b->runs[i]);
    }
    free(b->runs);
    cm_buf_free(&b->strings);
    cm_buf_free(&b->words);
    free(b->touched);
    free(b->occ);
    free(b->ids);
    free(b->norms);
    free(b->run_prefix);
    free(b);
}

/* Room for `more` new terms at a load of at most a half (between
 * documents only: the touched records move). */
static void reserve_terms(cm_bm25_builder *b, size_t more)
{
    if (2 * (b->n_terms + more) <= b->cap) return;
    size_t cap = b->cap;
    while (2 * (b->n_terms + more) > cap) cap *= 2;
    mterm *old = b->tab;
    size_t old_cap = b->cap;
    table_set(b, cap);
    for (size_t i = 0; i < old_cap; i++) {
        if (!old[i].key) continue;
        size_t at = slot_of(b, old[i].key);
        while (b->tab[at].key) at = (at + 1) & (cap - 1);
        b->tab[at] = old[i];
    }
    munmap(old, old_cap * sizeof *old);
    b->bytes += (cap - old_cap) * sizeof(mterm);
}

static mterm *lookup(cm_bm25_builder *b, const occurrence *o)
{
    const char *bytes = o->part ? o->part + o->at : b->words.data + o->at;
    size_t at = slot_of(b, o->key);
    for (;; at = (at + 1) & (b->cap - 1)) {
        mterm *t = &b->tab[at];
        if (!t->key) break;
        if (t->key == o->key &&
            (!(o->key & WORD_KEY) || (t->len == o->len && !memcmp(b->strings.data + t->str_off, bytes, o->len))))
            return t;
    }
    mterm *t = &b->tab[at];
    *t = (mterm){.key = o->key, .last_doc = UINT32_MAX, .str_off = (uint32_t)b->strings.len, .len = (uint8_t)o->len};
    cm_buf_append(&b->strings, bytes, o->len);
    b->n_terms++;
    b->bytes += o->len;
    return t;
}

/* Records a term of the document; looking it up waits for the rest. */
static int add_term(void *user, const char *term, size_t len, uint64_t key)
{
    cm_bm25_builder *b = user;
    if (b->n_occ == b->cap_occ) {
        b->cap_occ = b->cap_occ ? 2 * b->cap_occ : 4096;
        b->occ = cm_realloc(b->occ, b->cap_occ * sizeof *b->occ);
    }
    occurrence *o = &b->occ[b->n_occ++];
    o->len = (uint32_t)len;
    if (key) {
        o->key = key;
        o->part = b->part;
        o->at = (uint32_t)(term - b->part);
    } else { /* a word: lowercased in the scanner's scratch, copied */
        o->key = (XXH3_64bits(term, len) & (WORD_KEY - 1)) | WORD_KEY;
        o->part = NULL;
        o->at = (uint32_t)b->words.len;
        cm_buf_append(&b->words, term, len);
    }
    return 0;
}

static void put_varint(arena *a, mterm *t, uint32_t v, uint64_t *bytes)
{
    if (t->post_cap - t->post_len < 5) {
        unsigned cls = t->post_cap ? (unsigned)__builtin_ctz(t->post_cap / 8) + 1 : 0;
        uint8_t *p = arena_alloc(a, cls);
        if (t->post_cap) {
            memcpy(p, t->post, t->post_len);
            arena_release(a, t->post, cls - 1);
        }
        t->post = p;
        *bytes += ((size_t)8 << cls) - t->post_cap;
        t->post_cap = 8u << cls;
    }
    while (v >= 0x80) {
        t->post[t->post_len++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    t->post[t->post_len++] = (uint8_t)v;
}

static int write_run(cm_bm25_builder *b, cm_err *err);

int cm_bm25_builder_add(cm_bm25_builder *b, int64_t chunk_id, const char *headings, size_t headings_len,
                        const char *text, size_t text_len, cm_err *err)
{
    if (b->n_docs >= UINT32_MAX - 1) return cm_errorf(err, "a BM25 index holds at most 4,294,967,294 chunks");
    if (b->n_docs == b->cap_docs) {
        b->cap_docs = b->cap_docs ? 2 * b->cap_docs : 4096;
        b->ids = cm_realloc(b->ids, b->cap_docs * sizeof *b->ids);
        b->norms = cm_realloc(b->norms, b->cap_docs);
    }
    uint32_t doc = (uint32_t)b->n_docs;
    b->n_occ = b->n_touched = 0;
    cm_buf_clear(&b->words);
    if (headings && headings_len) {
        b->part = headings;
        cm_bm25_scan(headings, headings_len, add_term, b);
    }
    b->part = text;
    cm_bm25_scan(text, text_len, add_term, b);
    size_t n = b->n_occ;
    reserve_terms(b, n);
    if (n > b->cap_touched) {
        b->cap_touched = n;
        b->touched = cm_realloc(b->touched, n * sizeof *b->touched);
    }
    for (size_t i = 0; i < n + AHEAD; i++) {
        if (i < n) __builtin_prefetch(&b->tab[slot_of(b, b->occ[i].key)], 1);
        if (i >= AHEAD) {
            mterm *t = lookup(b, &b->occ[i - AHEAD]);
            if (!t->tf++) {
                b->touched[b->n_touched++] = t;
                if (t->post) __builtin_prefetch(t->post + t->post_len, 1); /* where its posting goes, below */
            }
        }
    }
    for (size_t i = 0; i < b->n_touched; i++) {
        mterm *t = b->touched[i];
        put_varint(&b->postings, t, doc - t->last_doc, &b->bytes); /* the first: doc + 1 (last_doc starts at -1) */
        put_varint(&b->postings, t, t->tf, &b->bytes);
        t->last_doc = doc;
        t->df++;
        t->tf = 0;
    }
    b->ids[doc] = chunk_id;
    b->norms[doc] = bm25_norm_of(n);
    b->total_terms += n;
    b->n_docs++;
    if (b->bytes + b->n_docs * 9 > b->memory) return write_run(b, err);
    return 0;
}

/* ---- sources the writer reads: the memory, or an index file ---- */

typedef struct source {
    const cm_bm25_builder *mem;    /* the in-memory postings, or */
    bm25_view view;                /* an index file, mapped */
    void *map;
    size_t map_size;
    uint32_t *order;               /* memory: term indexes sorted by bytes */
    size_t n_terms, at;            /* the next term, in sorted order */
    uint32_t n_docs, base;         /* its documents are base .. base + n_docs - 1 */
    uint64_t total_terms;
} source;

static _Thread_local const cm_bm25_builder *sort_builder;

static int by_term_bytes(const void *a, const void *b)
{
    const mterm *x = &sort_builder->tab[*(const uint32_t *)a], *y = &sort_builder->tab[*(const uint32_t *)b];
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(sort_builder->strings.data + x->str_off, sort_builder->strings.data + y->str_off, n);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

static void source_of_memory(source *s, const cm_bm25_builder *b)
{
    memset(s, 0, sizeof *s);
    s->mem = b;
    s->n_terms = b->n_terms;
    s->n_docs = (uint32_t)b->n_docs;
    s->total_terms = b->total_terms;
    s->order = cm_malloc((b->n_terms ? b->n_terms : 1) * sizeof *s->order);
    size_t n = 0;
    for (size_t i = 0; i < b->cap; i++)
        if (b->tab[i].key) s->order[n++] = (uint32_t)i;
    sort_builder = b;
    qsort(s->order, b->n_terms, sizeof *s->order, by_term_bytes);
}

static int source_of_file(source *s, const char *path, cm_err *err)
{
    memset(s, 0, sizeof *s);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st)) {
        if (fd >= 0) close(fd);
        return cm_errorf(err, "%s: %s", path, strerror(errno));
    }
    s->map_size = (size_t)st.st_size;
    s->map = s->map_size ? mmap(NULL, s->map_size, PROT_READ, MAP_SHARED, fd, 0) : MAP_FAILED;
    close(fd);
    if (s->map == MAP_FAILED) {
        s->map = NULL;
        return cm_errorf(err, "%s: not a corpusmill BM25 index (cannot map it)", path);
    }
    madvise(s->map, s->map_size, MADV_SEQUENTIAL);
    if (bm25_view_init(&s->view, s->map, s->map_size, path, err)) return -1;
    s->n_terms = s->view.h->n_terms;
    s->n_docs = s->view.h->n_docs;
    s->total_terms = s->view.h->total_terms;
    return 0;
}

static void source_free(source *s)
{
    if (s->map) munmap(s->map, s->map_size);
    free(s->order);
}

static const char *source_term(const source *s, size_t *len)
{
    if (s->mem) {
        const mterm *t = &s->mem->tab[s->order[s->at]];
        *len = t->len;
        return s->mem->strings.data + t->str_off;
    }
    const bm25_term *t = &s->view.terms[s->at];
    *len = t->len;
    return s->view.strings + t->str_off;
}

/* Appends the current term's postings (documents offset by base) to docs
 * and tfs. Returns how many, or -1 when a file's postings are damaged. */
static long source_postings(const source *s, uint32_t *docs, uint32_t *tfs)
{
    if (s->mem) {
        const mterm *t = &s->mem->tab[s->order[s->at]];
        uint32_t doc = UINT32_MAX, n = 0;
        for (uint32_t p = 0; p < t->post_len; n++) {
            uint32_t v[2];
            for (int k = 0; k < 2; k++) {
                uint32_t x = 0;
                for (unsigned shift = 0;; shift += 7) {
                    uint8_t c = t->post[p++];
                    x |= (uint32_t)(c & 0x7F) << shift;
                    if (!(c & 0x80)) break;
                }
                v[k] = x;
            }
            doc += v[0];
            docs[n] = s->base + doc;
            tfs[n] = v[1];
        }
        return n;
    }
    const bm25_term *t = &s->view.terms[s->at];
    uint64_t nb = bm25_term_blocks(t), n = 0;
    for (uint64_t j = 0; j < nb; j++) {
        uint32_t got = bm25_decode_block(&s->view, t, j, docs + n, tfs + n);
        if (!got) return -1;
        for (uint32_t i = 0; i < got; i++) docs[n + i] += s->base;
        n += got;
    }
    return (long)n;
}

/* ---- the writer ---- */

typedef struct writer {
    FILE *f;
    const char *path;
    uint64_t at;
    int failed;
} writer;

static void put(writer *w, const void *data, size_t n)
{
    if (n && fwrite(data, 1, n, w->f) != n) w->failed = 1;
    w->at += n;
}

static void pad8(writer *w)
{
    static const uint8_t zeros[8];
    put(w, zeros, (8 - w->at % 8) % 8);
}

/* One index of the sources' documents, in order, at path (through .tmp). */
static int write_index(source *src, size_t n_src, const char *path, cm_progress *prog, cm_err *err)
{
    bm25_header h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, BM25_MAGIC, 8);
    h.version = BM25_VERSION;
    h.header_size = sizeof h;
    h.k1 = BM25_K1;
    h.b = BM25_B;
    uint64_t docs = 0, terms_upper = 0;
    for (size_t i = 0; i < n_src; i++) {
        src[i].base = (uint32_t)docs;
        docs += src[i].n_docs;
        h.total_terms += src[i].total_terms;
        terms_upper += src[i].n_terms;
    }
    if (docs >= UINT32_MAX) return cm_errorf(err, "%s: more than 4,294,967,294 chunks in one BM25 index", path);
    h.n_docs = (uint32_t)docs;
    double avgdl = docs && h.total_terms ? (double)h.total_terms / (double)docs : 1;
    char tmp[4400];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp) return cm_errorf(err, "%s: path too long", path);
    writer w = {fopen(tmp, "wb"), tmp, 0, 0};
    if (!w.f) return cm_errorf(err, "%s: %s", tmp, strerror(errno));
    setvbuf(w.f, NULL, _IOFBF, 1 << 20);
    put(&w, &h, sizeof h);
    uint8_t *norms = cm_malloc(docs ? docs : 1);
    h.off_ids = w.at;
    for (size_t i = 0; i < n_src; i++) {
        const int64_t *ids = src[i].mem ? src[i].mem->ids : src[i].view.ids;
        const uint8_t *nm = src[i].mem ? src[i].mem->norms : src[i].view.norms;
        if (!src[i].n_docs) continue; /* an add task with no chunks: its arrays may be NULL */
        put(&w, ids, (size_t)src[i].n_docs * sizeof *ids);
        memcpy(norms + src[i].base, nm, src[i].n_docs);
    }
    h.off_norms = w.at;
    put(&w, norms, docs);
    pad8(&w);
    h.off_postings = w.at;
    uint8_t q1[256]; /* the bound of a posting of frequency 1, by norm */
    for (int i = 0; i < 256; i++) q1[i] = bm25_quantize_up(bm25_factor(1, (uint8_t)i, avgdl));
    cm_buf blocks, terms, strings;
    cm_buf_init(&blocks);
    cm_buf_init(&terms);
    cm_buf_init(&strings);
    uint32_t *pdocs = cm_malloc((docs ? docs : 1) * sizeof *pdocs), *ptfs = cm_malloc((docs ? docs : 1) * sizeof *ptfs);
    uint32_t vals[BM25_BLOCK];
    uint8_t packed[2 * BM25_BLOCK * 4 + 8];
    int rc = 0;
    uint64_t done = 0;
    for (;;) {
        const char *best = NULL; /* the smallest current term of all sources */
        size_t best_len = 0;
        for (size_t i = 0; i < n_src; i++) {
            if (src[i].at >= src[i].n_terms) continue;
            size_t len;
            const char *t = source_term(&src[i], &len);
            size_t m = len < best_len ? len : best_len;
            int c = best ? memcmp(t, best, m) : -1;
            if (!best || c < 0 || (c == 0 && len < best_len)) {
                best = t;
                best_len = len;
            }
        }
        if (!best) break;
        char term[CM_BM25_MAX_TERM];
        memcpy(term, best, best_len);
        uint64_t df = 0;
        for (size_t i = 0; i < n_src; i++) {
            if (src[i].at >= src[i].n_terms) continue;
            size_t len;
            const char *t = source_term(&src[i], &len);
            if (len != best_len || memcmp(t, term, len)) continue;
            long got = source_postings(&src[i], pdocs + df, ptfs + df);
            if (got < 0) { rc = cm_errorf(err, "a BM25 source of %s has damaged postings", path); break; }
            df += (uint64_t)got;
            src[i].at++;
            done++;
        }
        if (rc) break;
        bm25_term te;
        memset(&te, 0, sizeof te);
        te.postings = w.at - h.off_postings;
        te.str_off = (uint32_t)strings.len;
        te.df = (uint32_t)df;
        te.first_block = h.n_blocks;
        te.len = (uint8_t)best_len;
        cm_buf_append(&strings, term, best_len);
        uint32_t prev = UINT32_MAX;
        for (uint64_t at = 0; at < df; at += BM25_BLOCK) {
            uint32_t n = df - at < BM25_BLOCK ? (uint32_t)(df - at) : BM25_BLOCK;
            bm25_block bl;
            memset(&bl, 0, sizeof bl);
            bl.offset = (uint32_t)(w.at - h.off_postings - te.postings);
            uint32_t max_gap = 0, max_tf = 0;
            for (uint32_t i = 0; i < n; i++) {
                uint32_t d = pdocs[at + i], tf = ptfs[at + i];
                vals[i] = d - prev - 1;
                prev = d;
                if (vals[i] > max_gap) max_gap = vals[i];
                if (tf - 1 > max_tf) max_tf = tf - 1;
                uint8_t q = tf == 1 ? q1[norms[d]] : bm25_quantize_up(bm25_factor(tf, norms[d], avgdl));
                if (q > bl.max_q) bl.max_q = q;
            }
            bl.last_doc = prev;
            bl.doc_bits = (uint8_t)bm25_bits_of(max_gap);
            bl.tf_bits = (uint8_t)bm25_bits_of(max_tf);
            size_t nd = bm25_packed_bytes(n, bl.doc_bits);
            bm25_pack(vals, n, bl.doc_bits, packed);
            for (uint32_t i = 0; i < n; i++) vals[i] = ptfs[at + i] - 1;
            bm25_pack(vals, n, bl.tf_bits, packed + nd);
            put(&w, packed, nd + bm25_packed_bytes(n, bl.tf_bits));
            if (bl.max_q > te.max_q) te.max_q = bl.max_q;
            cm_buf_append(&blocks, &bl, sizeof bl);
            h.n_blocks++;
        }
        h.n_postings += df;
        cm_buf_append(&terms, &te, sizeof te);
        h.n_terms++;
        if (prog && done % 4096 == 0) cm_progress_update(prog, done, 0, done, terms_upper, 0);
    }
    h.postings_size = w.at - h.off_postings;
    pad8(&w);
    h.off_blocks = w.at;
    put(&w, blocks.data, blocks.len);
    pad8(&w);
    h.off_terms = w.at;
    put(&w, terms.data, terms.len);
    h.off_strings = w.at;
    h.strings_size = strings.len;
    put(&w, strings.data, strings.len);
    pad8(&w);
    h.file_size = w.at;
    if (rc == 0 && (fseek(w.f, 0, SEEK_SET) || fwrite(&h, sizeof h, 1, w.f) != 1)) w.failed = 1;
    if (fclose(w.f) || w.failed) rc = rc ? rc : cm_errorf(err, "%s: write error: %s", tmp, strerror(errno));
    if (rc == 0 && rename(tmp, path)) rc = cm_errorf(err, "cannot rename '%s': %s", tmp, strerror(errno));
    if (rc) unlink(tmp);
    free(norms);
    free(pdocs);
    free(ptfs);
    cm_buf_free(&blocks);
    cm_buf_free(&terms);
    cm_buf_free(&strings);
    return rc;
}

static int write_run(cm_bm25_builder *b, cm_err *err)
{
    char path[4300];
    if ((size_t)snprintf(path, sizeof path, "%s.run-%04zu.idx", b->run_prefix, b->n_runs) >= sizeof path)
        return cm_errorf(err, "%s: path too long", b->run_prefix);
    source s;
    source_of_memory(&s, b);
    int rc = write_index(&s, 1, path, NULL, err);
    source_free(&s);
    if (rc) return -1;
    b->runs = cm_realloc(b->runs, (b->n_runs + 1) * sizeof *b->runs);
    b->runs[b->n_runs++] = cm_strdup(path);
    reset_memory(b);
    return 0;
}

/* The index of the chunks of b[0], then b[1], ...: each builder's runs,
 * then what it holds. */
static int builders_finish(cm_bm25_builder *const *b, size_t n_builders, const char *path, cm_progress *prog, cm_err *err)
{
    size_t n = 0;
    for (size_t i = 0; i < n_builders; i++) n += b[i]->n_runs + 1;
    source *src = cm_calloc(n ? n : 1, sizeof *src);
    int rc = 0;
    n = 0;
    for (size_t i = 0; i < n_builders && rc == 0; i++) { /* each builder's runs, then what it holds */
        for (size_t r = 0; r < b[i]->n_runs && rc == 0; r++) rc = source_of_file(&src[n++], b[i]->runs[r], err);
        if (rc == 0) source_of_memory(&src[n++], b[i]);
    }
    if (rc == 0) rc = write_index(src, n, path, prog, err);
    for (size_t i = 0; i < n; i++) source_free(&src[i]);
    free(src);
    for (size_t i = 0; i < n_builders; i++) {
        for (size_t r = 0; r < b[i]->n_runs; r++) {
            unlink(b[i]->runs[r]);
            free(b[i]->runs[r]);
        }
        b[i]->n_runs = 0;
        reset_memory(b[i]);
    }
    return rc;
}

int cm_bm25_builder_finish(cm_bm25_builder *b, const char *path, cm_progress *prog, cm_err *err)
{
    return builders_finish(&b, 1, path, prog, err);
}

int cm_bm25_merge(const char *const *inputs, size_t n, const char *path, cm_progress *prog, cm_err *err)
{
    source *src = cm_calloc(n ? n : 1, sizeof *src);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) rc = source_of_file(&src[i], inputs[i], err);
    if (rc == 0) rc = write_index(src, n, path, prog, err);
    for (size_t i = 0; i < n; i++) source_free(&src[i]);
    free(src);
    return rc;
}
