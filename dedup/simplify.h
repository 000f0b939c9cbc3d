/* simplify.h -- the text form dedup compares besides the text itself, after
 * datatrove's simplify_text: lowercase, accents stripped (NFD, marks
 * dropped), punctuation and symbols dropped, runs of whitespace one space,
 * ends trimmed, and with fold_digits every digit 0. Two records that differ
 * only in those ways are `dedup:simplified` duplicates (`dedup:folded` when
 * they differ in digits); `dedup:exact` is kept for records of the same
 * text. */
#ifndef CM_SIMPLIFY_H
#define CM_SIMPLIFY_H

#include <stddef.h>
#include <stdint.h>

#include "../pipeline/util.h"

/* What simplification learned about BMP code points outside ASCII and Han
 * (punctuation and symbols dropped, white space, or the full path), kept by
 * the caller across calls: ICU is asked about each once, not at every
 * occurrence (CJK punctuation recurs in every Chinese document). Zeroed
 * before first use (cm_calloc). */
typedef struct cm_simplify_cache {
    uint8_t cls[0x10000];
} cm_simplify_cache;

/* Writes the simplified form of UTF-8 text to out (cleared first); digits
 * become 0 when fold_digits is set. cache may be NULL. */
void cm_dedup_simplify(const char *text, size_t len, int fold_digits, cm_buf *out, cm_simplify_cache *cache);

typedef struct cm_hash128 {
    uint64_t hi, lo;
} cm_hash128;
/* XXH3-128 of the text as it is. */
cm_hash128 cm_text_hash(const char *text, size_t len);
/* XXH3-128 of the simplified text (cache may be NULL). */
cm_hash128 cm_simplified_hash(const char *text, size_t len, int fold_digits, cm_buf *scratch, cm_simplify_cache *cache);

#endif
