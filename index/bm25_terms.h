/* bm25_terms.h -- the terms BM25 indexes and searches, the same for Chinese
 * and English: every CJK character or digit and every pair of adjacent ones
 * (Chinese has no spaces; unigrams + bigrams is the classic strong baseline;
 * digits as characters let 2022年 match 2022), and every lowercased word of
 * letters (and digits next to them). A word longer than CM_BM25_MAX_TERM
 * bytes is cut there, on a character boundary, at indexing and at query time
 * alike. The impact index (bm25_index.h) takes the terms one by one
 * (cm_bm25_scan); the optional FTS5 table takes them space-separated, which
 * its unicode61 tokenizer splits back (a CJK bigram stays one token). */
#ifndef CM_BM25_TERMS_H
#define CM_BM25_TERMS_H

#include <stddef.h>
#include <stdint.h>

#include "../pipeline/util.h"

#define CM_BM25_MAX_TERM 64

/* Called for each term in text order; term is valid during the call only.
 * key identifies a CJK or digit term without its bytes: the code point + 1
 * for one character, CM_BM25_BIGRAM | first << 21 | second for two; 0 for
 * a word. A non-zero return stops the scan and is returned by cm_bm25_scan. */
typedef int (*cm_bm25_term_fn)(void *user, const char *term, size_t len, uint64_t key);

#define CM_BM25_BIGRAM (1ull << 63)

/* Calls fn for every term of text. Returns 0, or fn's non-zero return. */
int cm_bm25_scan(const char *text, size_t len, cm_bm25_term_fn fn, void *user);

/* Appends the terms of text to out, separated by spaces. Returns how many. */
size_t cm_bm25_terms(const char *text, size_t len, cm_buf *out);

#endif
