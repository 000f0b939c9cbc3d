/* bm25_search.c -- reading and searching bm25.idx (see bm25_index.h):
 * the file mapped and checked once, then block-max MaxScore over its
 * posting lists with integer scores, so that pruning never changes what is
 * returned. */
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

#include "bm25_format.h"
#include "checksum.h"
#include "bm25_terms.h"

#define SCORE_UNIT 65536.0 /* scores are summed as integers of 2^-16 */
#define DONE UINT32_MAX

struct cm_bm25_index {
    bm25_view v;
    void *map;
    size_t map_size;
    double avgdl;
};

/* ---- the checked view ---- */

static int section(const bm25_header *h, uint64_t off, uint64_t bytes, uint64_t *end, const char *name,
                   const char *what, cm_err *err)
{
    if (off % 8 || off < *end || off > h->file_size || bytes > h->file_size - off)
        return cm_errorf(err, "%s: damaged BM25 index (its %s section lies outside the file)", name, what);
    *end = off + bytes;
    return 0;
}

int bm25_view_init(bm25_view *v, const void *data, uint64_t size, const char *name, cm_err *err)
{
    memset(v, 0, sizeof *v);
    const bm25_header *h = data;
    if (size < sizeof *h || memcmp(h->magic, BM25_MAGIC, 8))
        return cm_errorf(err, "%s: not a corpusmill BM25 index", name);
    if (h->version != BM25_VERSION || h->header_size != sizeof *h)
        return cm_errorf(err, "%s: BM25 index version %u; this corpusmill reads version %d (rebuild the export)", name,
                         h->version, BM25_VERSION);
    if (h->file_size != size)
        return cm_errorf(err, "%s: %llu bytes where its header says %llu (truncated or appended to)", name,
                         (unsigned long long)size, (unsigned long long)h->file_size);
    if ((uintptr_t)data % 8) return cm_errorf(err, "%s: not 8-byte aligned in memory", name);
    if (h->k1 != BM25_K1 || h->b != BM25_B) return cm_errorf(err, "%s: BM25 parameters other than k1 1.2, b 0.75", name);
    uint64_t end = sizeof *h;
    if (section(h, h->off_ids, (uint64_t)h->n_docs * 8, &end, name, "chunk id", err) ||
        section(h, h->off_norms, h->n_docs, &end, name, "norm", err) ||
        section(h, h->off_postings, h->postings_size, &end, name, "postings", err) ||
        section(h, h->off_blocks, h->n_blocks * sizeof(bm25_block), &end, name, "block", err) ||
        section(h, h->off_terms, (uint64_t)h->n_terms * sizeof(bm25_term), &end, name, "term", err) ||
        section(h, h->off_strings, h->strings_size, &end, name, "string", err))
        return -1;
    /* the unpacker reads up to 8 bytes past a block: other sections follow */
    if (h->postings_size && h->file_size - (h->off_postings + h->postings_size) < 8)
        return cm_errorf(err, "%s: damaged BM25 index (postings at the end of the file)", name);
    const uint8_t *b = data;
    v->base = b;
    v->size = size;
    v->h = h;
    v->ids = (const int64_t *)(b + h->off_ids);
    v->norms = b + h->off_norms;
    v->postings = b + h->off_postings;
    v->blocks = (const bm25_block *)(b + h->off_blocks);
    v->terms = (const bm25_term *)(b + h->off_terms);
    v->strings = (const char *)(b + h->off_strings);
    uint64_t next_block = 0, postings = 0, prev_end = 0;
    for (uint32_t i = 0; i < h->n_terms; i++) {
        const bm25_term *t = &v->terms[i];
        uint64_t nb = bm25_term_blocks(t);
        if (!t->len || t->len > CM_BM25_MAX_TERM || (uint64_t)t->str_off + t->len > h->strings_size || !t->df ||
            t->df > h->n_docs || t->first_block != next_block || nb > h->n_blocks - next_block ||
            t->postings < prev_end || t->postings > h->postings_size)
            return cm_errorf(err, "%s: damaged BM25 index (term %u)", name, i);
        if (i) { /* sorted, no repeats: binary search and merging rely on it */
            const bm25_term *p = &v->terms[i - 1];
            size_t n = p->len < t->len ? p->len : t->len;
            int c = memcmp(v->strings + p->str_off, v->strings + t->str_off, n);
            if (c > 0 || (c == 0 && p->len >= t->len)) return cm_errorf(err, "%s: damaged BM25 index (terms out of order at %u)", name, i);
        }
        uint64_t term_end = t->postings, last = 0;
        uint8_t max_q = 0;
        for (uint64_t j = 0; j < nb; j++) {
            const bm25_block *bl = &v->blocks[t->first_block + j];
            uint32_t n = j + 1 < nb ? BM25_BLOCK : t->df - (uint32_t)(BM25_BLOCK * j);
            uint64_t at = t->postings + bl->offset, bytes = bm25_packed_bytes(n, bl->doc_bits) + bm25_packed_bytes(n, bl->tf_bits);
            if (bl->doc_bits > 32 || bl->tf_bits > 32 || bl->last_doc >= h->n_docs || (j && bl->last_doc <= last) ||
                at < term_end || at > h->postings_size || bytes > h->postings_size - at)
                return cm_errorf(err, "%s: damaged BM25 index (term %u, block %llu)", name, i, (unsigned long long)j);
            term_end = at + bytes;
            last = bl->last_doc;
            if (bl->max_q > max_q) max_q = bl->max_q;
        }
        if (max_q != t->max_q) return cm_errorf(err, "%s: damaged BM25 index (term %u's maximum)", name, i);
        next_block += nb;
        postings += t->df;
        prev_end = term_end;
    }
    if (next_block != h->n_blocks || postings != h->n_postings)
        return cm_errorf(err, "%s: damaged BM25 index (block or posting counts)", name);
    return 0;
}

static int term_cmp(const bm25_view *v, const bm25_term *t, const char *s, size_t len)
{
    size_t n = t->len < len ? t->len : len;
    int c = memcmp(v->strings + t->str_off, s, n);
    return c ? c : (t->len > len) - (t->len < len);
}

long bm25_view_find(const bm25_view *v, const char *term, size_t len)
{
    long lo = 0, hi = (long)v->h->n_terms - 1;
    while (lo <= hi) {
        long mid = lo + (hi - lo) / 2;
        int c = term_cmp(v, &v->terms[mid], term, len);
        if (!c) return mid;
        if (c < 0) lo = mid + 1;
        else hi = mid - 1;
    }
    return -1;
}

/* ---- opening ---- */

static cm_bm25_index *index_of(const void *data, size_t size, void *map, const char *name, cm_err *err)
{
    cm_bm25_index *ix = cm_calloc(1, sizeof *ix);
    if (bm25_view_init(&ix->v, data, size, name, err)) {
        free(ix);
        return NULL;
    }
    ix->map = map;
    ix->map_size = size;
    const bm25_header *h = ix->v.h;
    ix->avgdl = h->n_docs && h->total_terms ? (double)h->total_terms / h->n_docs : 1;
    return ix;
}

cm_bm25_index *cm_bm25_open_bytes(const void *data, size_t size, cm_err *err)
{
    return index_of(data, size, NULL, "(memory)", err);
}

cm_bm25_index *cm_bm25_open(const char *path, const char *sha256, cm_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        cm_errorf(err, "%s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) || st.st_size < (off_t)sizeof(bm25_header)) {
        close(fd);
        cm_errorf(err, "%s: not a corpusmill BM25 index (%lld bytes)", path, (long long)st.st_size);
        return NULL;
    }
    void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (map == MAP_FAILED) {
        cm_errorf(err, "%s: cannot map: %s", path, strerror(errno));
        return NULL;
    }
    if (sha256) {
        char hex[65];
        cm_sha256_hex(map, (size_t)st.st_size, hex);
        if (strcmp(hex, sha256)) {
            munmap(map, (size_t)st.st_size);
            cm_errorf(err, "%s: its sha256 is %.12s..., the manifest's %.12s...: the file was changed or damaged", path, hex,
                      sha256);
            return NULL;
        }
    }
    madvise(map, (size_t)st.st_size, MADV_WILLNEED);
    cm_bm25_index *ix = index_of(map, (size_t)st.st_size, map, path, err);
    if (!ix) munmap(map, (size_t)st.st_size);
    return ix;
}

void cm_bm25_close(cm_bm25_index *ix)
{
    if (!ix) return;
    if (ix->map) munmap(ix->map, ix->map_size);
    free(ix);
}

void cm_bm25_info_of(const cm_bm25_index *ix, cm_bm25_info *info)
{
    const bm25_header *h = ix->v.h;
    *info = (cm_bm25_info){h->n_docs, h->n_terms, h->n_postings, h->n_blocks, h->total_terms, h->file_size, ix->avgdl};
}

/* ---- the searcher ---- */

typedef struct cursor {
    const bm25_term *t;
    uint64_t n_blocks, block, shallow; /* block decoded; block of the last bound asked */
    uint32_t pos, n, doc;              /* position in the decoded block; its document, DONE at the end */
    double w;                          /* query count x IDF, in score units */
    uint64_t ub;                       /* the term's bound */
    uint32_t docs[BM25_BLOCK], tfs[BM25_BLOCK];
    uint32_t score1[256];              /* what frequency 1 scores, by norm */
} cursor;

typedef struct qterm {
    uint32_t at, len;                  /* in the searcher's term bytes */
    uint32_t count;
    long index;                        /* in the index's terms */
} qterm;

typedef struct heap_entry {
    uint64_t score;
    uint32_t doc;
} heap_entry;

struct cm_bm25_searcher {
    const cm_bm25_index *ix;
    cm_buf bytes;                      /* the query's terms, back to back */
    qterm *q;
    size_t nq, capq;
    cursor *c;                         /* the query's cursors */
    cursor **order;                    /* by bound, ascending */
    uint64_t *prefix;                  /* bounds summed along order */
    size_t capc, nc;
    heap_entry *heap;
    size_t nheap, caph;
    uint64_t floor;                    /* scores below it cannot be among the k best */
    uint64_t *scores;                  /* estimate_floor's k best partial scores (a heap) */
    size_t cap_scores;
    uint64_t *window;                  /* the window's accumulators */
    uint64_t *window_bits;             /* which of them hold a document */
    uint64_t *acc;                     /* exhaustive: a score per document */
    uint32_t *touched;
    cm_bm25_search_stats stats;
};

cm_bm25_searcher *cm_bm25_searcher_create(const cm_bm25_index *ix)
{
    cm_bm25_searcher *s = cm_calloc(1, sizeof *s);
    s->ix = ix;
    cm_buf_init(&s->bytes);
    return s;
}

void cm_bm25_searcher_free(cm_bm25_searcher *s)
{
    if (!s) return;
    cm_buf_free(&s->bytes);
    free(s->q);
    free(s->c);
    free(s->order);
    free(s->prefix);
    free(s->heap);
    free(s->acc);
    free(s->window);
    free(s->window_bits);
    free(s->scores);
    free(s->touched);
    free(s);
}

void cm_bm25_last_stats(const cm_bm25_searcher *s, cm_bm25_search_stats *st) { *st = s->stats; }

static int collect_term(void *user, const char *term, size_t len, uint64_t key)
{
    (void)key;
    cm_bm25_searcher *s = user;
    if (s->nq == s->capq) {
        s->capq = s->capq ? 2 * s->capq : 64;
        s->q = cm_realloc(s->q, s->capq * sizeof *s->q);
    }
    s->q[s->nq++] = (qterm){(uint32_t)s->bytes.len, (uint32_t)len, 1, -1};
    cm_buf_append(&s->bytes, term, len);
    return 0;
}

/* qsort has no context argument: the bytes go through a thread-local. */
static _Thread_local const char *sort_bytes;

static int by_bytes(const void *a, const void *b)
{
    const qterm *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(sort_bytes + x->at, sort_bytes + y->at, n);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

static _Thread_local const bm25_view *sort_view;

static int by_df(const void *a, const void *b)
{
    const qterm *x = a, *y = b;
    uint32_t dx = sort_view->terms[x->index].df, dy = sort_view->terms[y->index].df;
    if (dx != dy) return dx < dy ? -1 : 1;
    return (x->index > y->index) - (x->index < y->index);
}

static uint64_t contribution(const cursor *c, uint32_t tf, uint8_t norm, double avgdl)
{
    return (uint64_t)(c->w * bm25_factor(tf, norm, avgdl) + 0.5);
}

static inline uint64_t score_of(const cursor *c, uint32_t tf, uint8_t norm, double avgdl)
{
    return tf == 1 ? c->score1[norm] : contribution(c, tf, norm, avgdl);
}

/* An upper bound of what a posting of a block (or term) with max_q scores. */
static inline uint64_t bound_of(const cursor *c, uint8_t max_q)
{
    return (uint64_t)(c->w * (double)max_q * (BM25_K1 + 1) / 255.0) + 2;
}

static void load_block(cursor *c, uint64_t j, cm_bm25_searcher *s)
{
    for (; j < c->n_blocks; j++) {
        c->block = j;
        c->n = bm25_decode_block(&s->ix->v, c->t, j, c->docs, c->tfs);
        s->stats.postings += c->n;
        if (c->n) {
            c->pos = 0;
            c->doc = c->docs[0];
            return;
        }
    }
    c->doc = DONE;
}

static inline void next(cursor *c, cm_bm25_searcher *s)
{
    if (++c->pos < c->n) c->doc = c->docs[c->pos];
    else load_block(c, c->block + 1, s);
}

/* To the first posting at or after target. */
static void seek(cursor *c, uint32_t target, cm_bm25_searcher *s)
{
    if (c->doc >= target) return;
    const bm25_block *bl = s->ix->v.blocks + c->t->first_block;
    if (bl[c->block].last_doc < target) {
        uint64_t j = c->block + 1;
        while (j < c->n_blocks && bl[j].last_doc < target) j++;
        if (j == c->n_blocks) {
            c->doc = DONE;
            return;
        }
        load_block(c, j, s);
        if (c->doc == DONE) return;
    }
    while (c->pos < c->n && c->docs[c->pos] < target) c->pos++;
    if (c->pos < c->n) c->doc = c->docs[c->pos];
    else load_block(c, c->block + 1, s);
}

/* The bound of the block that would hold target (0 past the last). */
static inline uint64_t block_bound(cursor *c, uint32_t target, const bm25_view *v)
{
    const bm25_block *bl = v->blocks + c->t->first_block;
    while (c->shallow < c->n_blocks && bl[c->shallow].last_doc < target) c->shallow++;
    return c->shallow < c->n_blocks ? bound_of(c, bl[c->shallow].max_q) : 0;
}

/* The query's distinct terms found in the index, rarest first, as cursors. */
static void prepare(cm_bm25_searcher *s, const char *query, size_t len)
{
    const bm25_view *v = &s->ix->v;
    memset(&s->stats, 0, sizeof s->stats);
    s->nq = s->nc = s->nheap = 0;
    s->floor = 0;
    cm_buf_clear(&s->bytes);
    if (len > CM_BM25_MAX_QUERY_BYTES) { /* cut on a character boundary */
        len = CM_BM25_MAX_QUERY_BYTES;
        while (len && ((unsigned char)query[len] & 0xC0) == 0x80) len--;
    }
    cm_bm25_scan(query, len, collect_term, s);
    if (!s->nq) return;
    sort_bytes = s->bytes.data;
    qsort(s->q, s->nq, sizeof *s->q, by_bytes);
    size_t n = 0;
    for (size_t i = 0; i < s->nq; i++) {
        if (n && !by_bytes(&s->q[n - 1], &s->q[i])) s->q[n - 1].count++;
        else s->q[n++] = s->q[i];
    }
    /* the ceiling counts every term, those in no chunk (document frequency 0) too: a question
     * about what the collection lacks reaches a small share of it whatever it matches */
    size_t kept = 0;
    double ceiling = 0;
    for (size_t i = 0; i < n; i++) {
        qterm t = s->q[i];
        t.index = bm25_view_find(v, s->bytes.data + t.at, t.len);
        double c = (double)t.count * bm25_idf(v->h->n_docs, t.index >= 0 ? v->terms[t.index].df : 0) * (BM25_K1 + 1);
        ceiling += c;
        if (t.index >= 0) {
            s->q[kept++] = t;
            s->stats.ceiling_known += c;
        }
    }
    s->stats.ceiling = ceiling;
    s->stats.distinct = n;
    sort_view = v;
    qsort(s->q, kept, sizeof *s->q, by_df);
    if (kept > CM_BM25_MAX_QUERY_TERMS) kept = CM_BM25_MAX_QUERY_TERMS;
    if (kept > s->capc) {
        s->capc = kept;
        s->c = cm_realloc(s->c, kept * sizeof *s->c);
        s->order = cm_realloc(s->order, kept * sizeof *s->order);
        s->prefix = cm_realloc(s->prefix, kept * sizeof *s->prefix);
    }
    double avgdl = s->ix->avgdl;
    for (size_t i = 0; i < kept; i++) {
        cursor *c = &s->c[i];
        c->t = &v->terms[s->q[i].index];
        c->n_blocks = bm25_term_blocks(c->t);
        c->shallow = 0;
        c->w = (double)s->q[i].count * bm25_idf(v->h->n_docs, c->t->df) * SCORE_UNIT;
        for (int norm = 0; norm < 256; norm++) c->score1[norm] = (uint32_t)contribution(c, 1, (uint8_t)norm, avgdl);
        c->ub = bound_of(c, c->t->max_q);
        load_block(c, 0, s);
    }
    s->nc = s->stats.terms = kept;
}

/* ---- the top k: a heap whose root is the worst kept ---- */

static inline int worse(const cm_bm25_searcher *s, uint64_t sa, uint32_t da, uint64_t sb, uint32_t db)
{
    if (sa != sb) return sa < sb;
    return s->ix->v.ids[da] > s->ix->v.ids[db];
}

/* Whether a document scoring `score` would enter a heap of k. */
/* Whether a document scoring `score` would enter a heap of k: not below
 * the floor (a lower bound of the k-th best score, see estimate_floor),
 * and better than the worst kept once the heap is full. */
static inline int could_enter(const cm_bm25_searcher *s, size_t k, uint64_t score, uint32_t doc)
{
    if (score < s->floor) return 0;
    return s->nheap < k || worse(s, s->heap[0].score, s->heap[0].doc, score, doc);
}

static void sift_down(cm_bm25_searcher *s, size_t i)
{
    heap_entry *h = s->heap;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < s->nheap && worse(s, h[l].score, h[l].doc, h[m].score, h[m].doc)) m = l;
        if (r < s->nheap && worse(s, h[r].score, h[r].doc, h[m].score, h[m].doc)) m = r;
        if (m == i) return;
        heap_entry t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

static void push(cm_bm25_searcher *s, size_t k, uint64_t score, uint32_t doc)
{
    if (s->nheap < k) {
        size_t i = s->nheap++;
        s->heap[i] = (heap_entry){score, doc};
        while (i) {
            size_t p = (i - 1) / 2;
            if (!worse(s, s->heap[i].score, s->heap[i].doc, s->heap[p].score, s->heap[p].doc)) break;
            heap_entry t = s->heap[i];
            s->heap[i] = s->heap[p];
            s->heap[p] = t;
            i = p;
        }
    } else {
        s->heap[0] = (heap_entry){score, doc};
        sift_down(s, 0);
    }
}

static long results(cm_bm25_searcher *s, cm_bm25_hit *hits)
{
    long n = (long)s->nheap;
    while (s->nheap) { /* the worst comes out first: fill from the end */
        heap_entry e = s->heap[0];
        hits[s->nheap - 1] = (cm_bm25_hit){s->ix->v.ids[e.doc], (double)e.score / SCORE_UNIT};
        s->heap[0] = s->heap[--s->nheap];
        sift_down(s, 0);
    }
    return n;
}

static void reserve_heap(cm_bm25_searcher *s, size_t k)
{
    if (k > s->caph) {
        s->caph = k;
        s->heap = cm_realloc(s->heap, k * sizeof *s->heap);
    }
}

static int by_bound(const void *a, const void *b)
{
    const cursor *x = *(cursor *const *)a, *y = *(cursor *const *)b;
    if (x->ub != y->ub) return x->ub < y->ub ? -1 : 1;
    return (x > y) - (x < y);
}

/* ---- a floor for the k-th score ----
 * Before the pruned pass, the lists of the rarest terms (at most an eighth
 * of the query's postings, and 32768) are merged and their documents scored on those terms
 * alone. Each partial score is at most the document's full score, so the
 * k-th best partial score is at most the k-th best full score: below it
 * nothing can enter. Without it, the k-th score starts at 0 and climbs
 * slowly while the common terms' long lists are read as essential. */
#define FLOOR_POSTINGS 32768

static void estimate_floor(cm_bm25_searcher *s, cursor **o, size_t n, size_t k)
{
    const bm25_view *v = &s->ix->v;
    uint64_t total = 0, postings = 0;
    for (size_t i = 0; i < n; i++) total += o[i]->t->df;
    uint64_t budget = total / 8 < FLOOR_POSTINGS ? total / 8 : FLOOR_POSTINGS; /* at most an eighth more to read */
    size_t m = 0;
    while (m < n && postings + o[n - 1 - m]->t->df <= budget) postings += o[n - 1 - m++]->t->df;
    if (!m || postings < k) return;
    if (k > s->cap_scores) {
        s->cap_scores = k;
        s->scores = cm_realloc(s->scores, k * sizeof *s->scores);
    }
    size_t have = 0; /* a min-heap of the k best partial scores */
    cursor **c = o + n - m;
    for (;;) {
        uint32_t d = DONE;
        for (size_t i = 0; i < m; i++)
            if (c[i]->doc < d) d = c[i]->doc;
        if (d == DONE) break;
        uint64_t score = 0;
        for (size_t i = 0; i < m; i++)
            if (c[i]->doc == d) {
                score += score_of(c[i], c[i]->tfs[c[i]->pos], v->norms[d], s->ix->avgdl);
                next(c[i], s);
            }
        if (have < k) {
            size_t j = have++;
            s->scores[j] = score;
            while (j && s->scores[(j - 1) / 2] > s->scores[j]) {
                uint64_t t = s->scores[j];
                s->scores[j] = s->scores[(j - 1) / 2];
                s->scores[(j - 1) / 2] = t;
                j = (j - 1) / 2;
            }
        } else if (score > s->scores[0]) {
            s->scores[0] = score;
            for (size_t j = 0;;) {
                size_t l = 2 * j + 1, r = l + 1, x = j;
                if (l < k && s->scores[l] < s->scores[x]) x = l;
                if (r < k && s->scores[r] < s->scores[x]) x = r;
                if (x == j) break;
                uint64_t t = s->scores[j];
                s->scores[j] = s->scores[x];
                s->scores[x] = t;
                j = x;
            }
        }
    }
    if (have == k) s->floor = s->scores[0];
    for (size_t i = 0; i < m; i++) { /* back to the start for the pruned pass */
        c[i]->shallow = 0;
        load_block(c[i], 0, s);
    }
}

/* ---- block-max MaxScore, a window at a time ----
 * The cursors sorted by their bounds; the first e of them are
 * non-essential: their bounds sum below the k-th score, so a document they
 * alone hold cannot enter. The essential lists are read a window of
 * documents at a time into accumulators (sequential reads, no per-document
 * merge of the lists, as Lucene's MaxScore does); each document they touch
 * is then checked against the non-essential terms' block bounds before any
 * of their postings is read, and dropped as soon as what remains cannot
 * lift it into the top k. */
#define WINDOW 4096

/* Adds the essential cursor's postings below end to the window's accumulators. */
static void accumulate(cm_bm25_searcher *s, cursor *c, uint32_t w, uint32_t end)
{
    const uint8_t *norms = s->ix->v.norms;
    uint64_t *acc = s->window;
    uint64_t *bits = s->window_bits;
    while (c->doc < end) {
        uint32_t p = c->pos, n = c->n;
        const uint32_t *docs = c->docs, *tfs = c->tfs;
        for (; p < n && docs[p] < end; p++) {
            uint32_t d = docs[p], off = d - w;
            acc[off] += score_of(c, tfs[p], norms[d], s->ix->avgdl);
            bits[off >> 6] |= 1ull << (off & 63);
        }
        if (p < n) {
            c->pos = p;
            c->doc = docs[p];
            return;
        }
        load_block(c, c->block + 1, s);
    }
}

/* The full score of d, which holds `score` from the essential terms, or 0
 * when the non-essential terms (o[0..e)) cannot lift it into the top k. */
static int complete(cm_bm25_searcher *s, cursor **o, size_t e, size_t k, uint32_t d, uint64_t *score)
{
    const bm25_view *v = &s->ix->v;
    if (!e) return could_enter(s, k, *score, d);
    if (!could_enter(s, k, *score + s->prefix[e - 1], d)) return 0;
    uint64_t nb[CM_BM25_MAX_QUERY_TERMS], bound = *score;
    for (size_t i = 0; i < e; i++) bound += nb[i] = block_bound(o[i], d, v);
    if (!could_enter(s, k, bound, d)) return 0;
    for (size_t i = e; i--;) { /* the largest bounds first */
        bound -= nb[i];
        seek(o[i], d, s);
        if (o[i]->doc == d) {
            uint64_t add = score_of(o[i], o[i]->tfs[o[i]->pos], v->norms[d], s->ix->avgdl);
            *score += add;
            bound += add;
        }
        if (!could_enter(s, k, bound, d)) return 0;
    }
    return 1;
}

long cm_bm25_search(cm_bm25_searcher *s, const char *query, size_t len, size_t k, cm_bm25_hit *hits)
{
    prepare(s, query, len);
    if (!s->nc || !k) return 0;
    reserve_heap(s, k);
    if (!s->window) {
        s->window = cm_calloc(WINDOW, sizeof *s->window);
        s->window_bits = cm_calloc(WINDOW / 64, sizeof *s->window_bits);
    }
    size_t n = s->nc, e = 0;
    for (size_t i = 0; i < n; i++) s->order[i] = &s->c[i];
    qsort(s->order, n, sizeof *s->order, by_bound);
    cursor **o = s->order;
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++) s->prefix[i] = sum += o[i]->ub;
    estimate_floor(s, o, n, k);
    while (e < n && s->prefix[e] < s->floor) e++;
    for (;;) {
        uint32_t w = DONE;
        for (size_t i = e; i < n; i++)
            if (o[i]->doc < w) w = o[i]->doc;
        if (w == DONE) break;
        uint32_t end = w < DONE - WINDOW ? w + WINDOW : DONE;
        size_t ew = e; /* the window's essential terms: o[ew..n) */
        for (size_t i = ew; i < n; i++) accumulate(s, o[i], w, end);
        for (size_t word = 0; word < WINDOW / 64; word++)
            for (uint64_t bits = s->window_bits[word]; bits; bits &= bits - 1) {
                uint32_t off = (uint32_t)(word * 64 + (size_t)__builtin_ctzll(bits)), d = w + off;
                uint64_t score = s->window[off];
                s->window[off] = 0;
                if (!complete(s, o, ew, k, d, &score)) continue;
                s->stats.scored++;
                push(s, k, score, d);
                if (s->nheap == k) /* a document below the k-th score cannot enter, even on a tie */
                    while (e < n && s->prefix[e] < s->heap[0].score) e++;
            }
        memset(s->window_bits, 0, WINDOW / 64 * sizeof *s->window_bits);
    }
    s->stats.floor = s->floor;
    return results(s, hits);
}

long cm_bm25_search_exhaustive(cm_bm25_searcher *s, const char *query, size_t len, size_t k, cm_bm25_hit *hits)
{
    prepare(s, query, len);
    if (!s->nc || !k) return 0;
    reserve_heap(s, k);
    const bm25_view *v = &s->ix->v;
    if (!s->acc) {
        s->acc = cm_calloc(v->h->n_docs ? v->h->n_docs : 1, sizeof *s->acc);
        s->touched = cm_malloc((v->h->n_docs ? v->h->n_docs : 1) * sizeof *s->touched);
    }
    size_t nt = 0;
    for (size_t i = 0; i < s->nc; i++)
        for (cursor *c = &s->c[i]; c->doc != DONE; next(c, s)) {
            if (!s->acc[c->doc]) s->touched[nt++] = c->doc;
            /* +1 marks a document touched even when its score rounds to 0 */
            s->acc[c->doc] += score_of(c, c->tfs[c->pos], v->norms[c->doc], s->ix->avgdl) + (s->acc[c->doc] ? 0 : 1);
        }
    for (size_t i = 0; i < nt; i++) {
        uint32_t d = s->touched[i];
        uint64_t score = s->acc[d] - 1;
        s->acc[d] = 0;
        s->stats.scored++;
        if (could_enter(s, k, score, d)) push(s, k, score, d);
    }
    return results(s, hits);
}
