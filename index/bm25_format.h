/* bm25_format.h -- the layout of bm25.idx, the BM25 impact index of a RAG
 * export, which its writer (bm25_build.c) and reader (bm25_search.c) share.
 * Internal to index/; bm25_index.h is the interface.
 *
 * One file, little-endian, read through mmap. Sections, each 8-byte
 * aligned, in this order:
 *
 *   header     bm25_header below
 *   chunk ids  int64 per document (documents are numbered 0..N-1 in the
 *              order they were added; ids need not be sorted)
 *   norms      uint8 per document: its length in terms, quantized as
 *              Lucene quantizes norms (exact below 32, then 4 significant
 *              bits: within 6%)
 *   postings   per term, blocks of up to 128 postings: the document-number
 *              gaps (minus one) bit-packed at the block's width, then the
 *              term frequencies (minus one) bit-packed at theirs
 *   blocks     bm25_block per block: last document, where its bytes start
 *              (from the term's first byte), both widths, and the block's
 *              largest BM25 term-frequency factor, quantized up (so it
 *              bounds every posting of the block)
 *   terms      bm25_term per term, sorted by the term's bytes
 *   strings    the terms' bytes, in the same order
 *
 * What a posting scores is computed at query time from its frequency and
 * its document's norm with the collection's statistics (Lucene's BM25,
 * k1 1.2, b 0.75, its IDF): a per-term table of 256 entries, one per norm,
 * for the common frequencies. Storing the frequency (mostly 1: zero bits)
 * instead of an 8-bit impact per posting keeps the file at about a third
 * of the chunk text; the block and term maxima are what pruning needs. */
#ifndef CM_BM25_FORMAT_H
#define CM_BM25_FORMAT_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "../pipeline/util.h"

#define BM25_MAGIC "CMBM25\x1a\n"
#define BM25_VERSION 1
#define BM25_BLOCK 128
#define BM25_K1 1.2
#define BM25_B 0.75

typedef struct bm25_header {
    char magic[8];
    uint32_t version;
    uint32_t header_size;      /* sizeof(bm25_header) */
    uint64_t file_size;
    uint32_t n_docs, n_terms;
    uint64_t n_blocks, n_postings;
    uint64_t total_terms;      /* the documents' lengths summed */
    double k1, b;
    uint64_t off_ids, off_norms, off_postings, off_blocks, off_terms, off_strings;
    uint64_t postings_size, strings_size;
    uint64_t reserved[3];
} bm25_header;

typedef struct bm25_block {
    uint32_t last_doc;
    uint32_t offset;           /* from the term's first byte of postings */
    uint8_t doc_bits, tf_bits;
    uint8_t max_q;             /* ceil(255 * max factor / (k1 + 1)) */
    uint8_t pad;
} bm25_block;

typedef struct bm25_term {
    uint64_t postings;         /* from off_postings */
    uint32_t str_off;          /* from off_strings */
    uint32_t df;               /* documents (postings) */
    uint64_t first_block;
    uint8_t len;               /* bytes, 1..CM_BM25_MAX_TERM */
    uint8_t max_q;             /* the largest of its blocks' */
    uint8_t pad[6];
} bm25_term;

_Static_assert(sizeof(bm25_header) == 160, "bm25_header layout");
_Static_assert(sizeof(bm25_block) == 12, "bm25_block layout");
_Static_assert(sizeof(bm25_term) == 32, "bm25_term layout");

/* Document length <-> norm byte: exact below 32, then 16 steps per
 * doubling (4 significant bits), rounded down as Lucene does. */
static inline uint32_t bm25_norm_length(uint8_t norm)
{
    if (norm < 32) return norm;
    unsigned e = (unsigned)(norm - 32) / 16, m = (unsigned)(norm - 32) % 16;
    return (16u + m) << (e + 1);
}

static inline uint8_t bm25_norm_of(uint64_t length)
{
    if (length < 32) return (uint8_t)length;
    unsigned lo = 32, hi = 255; /* the largest norm whose length <= length */
    while (lo < hi) {
        unsigned mid = (lo + hi + 1) / 2;
        if (bm25_norm_length((uint8_t)mid) <= length) lo = mid;
        else hi = mid - 1;
    }
    return (uint8_t)lo;
}

/* BM25's term-frequency factor: tf (k1 + 1) / (tf + k1 (1 - b + b len / avgdl)). */
static inline double bm25_factor(uint32_t tf, uint8_t norm, double avgdl)
{
    double norm_len = BM25_K1 * (1 - BM25_B + BM25_B * (double)bm25_norm_length(norm) / avgdl);
    return (double)tf * (BM25_K1 + 1) / ((double)tf + norm_len);
}

/* The factor quantized up to 0..255 (an upper bound for pruning). */
static inline uint8_t bm25_quantize_up(double factor)
{
    double q = ceil(factor / (BM25_K1 + 1) * 255.0);
    return q >= 255 ? 255 : q <= 0 ? 0 : (uint8_t)q;
}

/* Lucene's IDF, which stays positive. */
static inline double bm25_idf(uint64_t docs, uint64_t df)
{
    return log(1 + ((double)docs - (double)df + 0.5) / ((double)df + 0.5));
}

/* ---- bit packing: n values of `bits` bits each (0..32), low bits first ---- */

static inline uint64_t bm25_packed_bytes(uint32_t n, unsigned bits) { return ((uint64_t)n * bits + 7) / 8; }

static inline unsigned bm25_bits_of(uint32_t v)
{
    unsigned b = 0;
    while (b < 32 && (v >> b)) b++;
    return b;
}

/* Writes bm25_packed_bytes(n, bits) bytes to out. */
static inline void bm25_pack(const uint32_t *v, uint32_t n, unsigned bits, uint8_t *out)
{
    uint64_t acc = 0;
    unsigned have = 0;
    size_t o = 0;
    for (uint32_t i = 0; i < n; i++) {
        acc |= (uint64_t)v[i] << have;
        have += bits;
        while (have >= 8) {
            out[o++] = (uint8_t)acc;
            acc >>= 8;
            have -= 8;
        }
    }
    if (have) out[o] = (uint8_t)acc;
}

/* Reads n values; may read up to 7 bytes past the packed ones (the file
 * always has them: other sections follow the postings). */
static inline void bm25_unpack(const uint8_t *in, uint32_t n, unsigned bits, uint32_t *v)
{
    if (bits == 0) {
        memset(v, 0, n * sizeof *v);
        return;
    }
    uint64_t mask = bits == 32 ? 0xFFFFFFFFu : ((uint64_t)1 << bits) - 1, pos = 0;
    for (uint32_t i = 0; i < n; i++, pos += bits) {
        uint64_t w;
        memcpy(&w, in + (pos >> 3), 8);
        v[i] = (uint32_t)((w >> (pos & 7)) & mask);
    }
}

/* ---- a checked view of an index's bytes ---- */

typedef struct bm25_view {
    const uint8_t *base;
    uint64_t size;
    const bm25_header *h;
    const int64_t *ids;
    const uint8_t *norms;
    const uint8_t *postings;
    const bm25_block *blocks;
    const bm25_term *terms;
    const char *strings;
} bm25_view;

/* Checks the header and every section's and term's bounds (bm25_search.c).
 * name is the file, for the error. */
int bm25_view_init(bm25_view *v, const void *data, uint64_t size, const char *name, cm_err *err);
/* The index of term (len bytes) in v's terms, or -1. */
long bm25_view_find(const bm25_view *v, const char *term, size_t len);

static inline uint64_t bm25_term_blocks(const bm25_term *t) { return ((uint64_t)t->df + BM25_BLOCK - 1) / BM25_BLOCK; }

/* Decodes block j of term t: documents (absolute numbers) and frequencies.
 * Returns how many, or 0 when the block's bytes do not add up to its last
 * document (damaged postings: searched as if the block were empty). */
static inline uint32_t bm25_decode_block(const bm25_view *v, const bm25_term *t, uint64_t j, uint32_t *docs,
                                         uint32_t *tfs)
{
    const bm25_block *bl = &v->blocks[t->first_block + j];
    uint64_t nb = bm25_term_blocks(t);
    uint32_t n = j + 1 < nb ? BM25_BLOCK : t->df - (uint32_t)(BM25_BLOCK * j);
    uint64_t prev = j ? (uint64_t)v->blocks[t->first_block + j - 1].last_doc : (uint64_t)-1;
    const uint8_t *p = v->postings + t->postings + bl->offset;
    bm25_unpack(p, n, bl->doc_bits, docs);
    uint64_t d = prev;
    for (uint32_t i = 0; i < n; i++) {
        d += (uint64_t)docs[i] + 1;
        docs[i] = (uint32_t)d;
    }
    if (d != bl->last_doc) return 0;
    bm25_unpack(p + bm25_packed_bytes(n, bl->doc_bits), n, bl->tf_bits, tfs);
    for (uint32_t i = 0; i < n; i++) tfs[i]++;
    return n;
}

#endif
