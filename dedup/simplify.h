/* simplify.h -- the text form exact dedup hashes, after datatrove's
 * simplify_text: lowercase, accents stripped (NFD, marks dropped), every
 * digit 0, punctuation and symbols dropped, runs of whitespace one space,
 * ends trimmed. Two records that differ only in those ways are exact
 * duplicates. */
#ifndef CM_SIMPLIFY_H
#define CM_SIMPLIFY_H

#include <stddef.h>
#include <stdint.h>

#include "../pipeline/util.h"

/* Writes the simplified form of UTF-8 text to out (cleared first). */
void cm_dedup_simplify(const char *text, size_t len, cm_buf *out);

/* XXH3-128 of the simplified text. */
typedef struct cm_hash128 {
    uint64_t hi, lo;
} cm_hash128;
cm_hash128 cm_exact_hash(const char *text, size_t len, cm_buf *scratch);

#endif
