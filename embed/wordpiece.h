/* wordpiece.h -- BERT's WordPiece tokenizer with the semantics of Hugging
 * Face's BertTokenizer (BasicTokenizer + WordpieceTokenizer), for the embed
 * stage (issue 5; the encoder is to come):
 *   1. text cleaning: NUL, U+FFFD and control characters (category C*, but
 *      \t \n \r) removed; whitespace (\t \n \r and category Zs) to spaces;
 *   2. spaces around CJK ideographs (BERT's code-point ranges);
 *   3. NFC, then split on whitespace;
 *   4. with do_lower_case: lowercase and strip accents (NFD, marks Mn
 *      dropped);
 *   5. split on punctuation (ASCII 33-47, 58-64, 91-96, 123-126, and
 *      categories P*), each mark its own token;
 *   6. greedy longest-match-first WordPiece with "##" continuations; a word
 *      with no match, or longer than 100 characters, is [UNK]. */
#ifndef CM_WORDPIECE_H
#define CM_WORDPIECE_H

#include <stddef.h>
#include <stdint.h>

#include "../pipeline/util.h"

typedef struct cm_wordpiece cm_wordpiece;

/* Loads vocab.txt (one token per line; the id is the line number; a token
 * on several lines has the id of its last, as in Hugging Face). */
cm_wordpiece *cm_wordpiece_load(const char *vocab_path, int do_lower_case, cm_err *err);
/* From tokens in memory (tests). */
cm_wordpiece *cm_wordpiece_create(const char *const *tokens, size_t n, int do_lower_case, cm_err *err);
void cm_wordpiece_free(cm_wordpiece *w);

/* The token strings of text, joined by single spaces, into out (for tests
 * and debugging). Returns the number of tokens. */
size_t cm_wordpiece_tokens(cm_wordpiece *w, const char *text, size_t len, cm_buf *out);

/* Ids of [CLS] text [SEP], truncated to max_len (>= 2) ids. Returns the
 * number written to ids. */
size_t cm_wordpiece_encode(cm_wordpiece *w, const char *text, size_t len, int32_t *ids, size_t max_len);

/* The number of tokens of text, without [CLS] and [SEP] and without
 * truncation (the chunker sizes chunks by it). */
size_t cm_wordpiece_count(cm_wordpiece *w, const char *text, size_t len);

/* The id of a token, or -1. */
int32_t cm_wordpiece_id(const cm_wordpiece *w, const char *token);

/* The number of lines of the vocabulary: every id is below it. */
size_t cm_wordpiece_size(const cm_wordpiece *w);

#endif
