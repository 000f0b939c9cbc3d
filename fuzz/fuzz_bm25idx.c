/* fuzz_bm25idx.c -- the BM25 impact index of an export (bm25.idx), read
 * from bytes nobody vetted: a header that lies about sections, bit widths,
 * offsets and counts, blocks whose postings do not add up. It is opened,
 * then searched (pruned and exhaustive) with a few queries. */
#include <stdlib.h>
#include <string.h>

#include "bm25_index.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t *copy = malloc(size + 8); /* the index wants 8-byte alignment */
    memcpy(copy, data, size);
    cm_err err = {0};
    cm_bm25_index *ix = cm_bm25_open_bytes(copy, size, &err);
    if (ix) {
        static const char *const queries[] = {"明前茶 采摘", "the bridge walk 1883", "茶", "2022年冬奥会"};
        cm_bm25_searcher *s = cm_bm25_searcher_create(ix);
        cm_bm25_hit hits[8];
        for (size_t i = 0; i < sizeof queries / sizeof *queries; i++) {
            cm_bm25_search(s, queries[i], strlen(queries[i]), 3, hits);
            cm_bm25_search_exhaustive(s, queries[i], strlen(queries[i]), 8, hits);
        }
        cm_bm25_searcher_free(s);
        cm_bm25_close(ix);
    }
    free(copy);
    return 0;
}
