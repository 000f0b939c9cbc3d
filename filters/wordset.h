/* wordset.h -- a set of words (stop words, flagged words), matched against
 * a document's tokens (filters/tokens.h) in lowercase. Multi-character
 * Chinese entries match ICU word tokens; with fast word units every Chinese
 * character is a token, so entries of several characters are also found as
 * runs of consecutive tokens. */
#ifndef CM_WORDSET_H
#define CM_WORDSET_H

#include <stddef.h>

#include "tokens.h"

typedef struct cm_wordset cm_wordset;

cm_wordset *cm_wordset_create(char *const *words, size_t n);
void cm_wordset_free(cm_wordset *w);
/* How many of the n tokens t of text are words in the set (an entry of
 * several CJK characters counts once for its run of tokens). */
size_t cm_wordset_count(const cm_wordset *w, const char *text, const cm_token *t, size_t n);

#endif
