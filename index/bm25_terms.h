/* bm25_terms.h -- the terms BM25 indexes and searches, the same for Chinese
 * and English: every CJK character or digit and every pair of adjacent ones
 * (Chinese has no spaces; unigrams + bigrams is the classic strong baseline;
 * digits as characters let 2022年 match 2022), and every lowercased word of
 * letters (and digits next to them). The terms are written
 * space-separated, which SQLite FTS5's unicode61 tokenizer then splits back
 * exactly (a CJK bigram stays one token). */
#ifndef CM_BM25_TERMS_H
#define CM_BM25_TERMS_H

#include <stddef.h>

#include "../pipeline/util.h"

/* Appends the terms of text to out, separated by spaces. Returns how many. */
size_t cm_bm25_terms(const char *text, size_t len, cm_buf *out);

#endif
