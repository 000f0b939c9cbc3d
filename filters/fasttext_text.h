/* fasttext_text.h -- a document's text as a fastText classifier reads it,
 * and the side file that records how a model's training text was made, so
 * that `quality train` and the quality_model / language steps feed a model
 * the same way (see fasttext_text.c). */
#ifndef CM_FASTTEXT_TEXT_H
#define CM_FASTTEXT_TEXT_H

#include "../pipeline/util.h"
#include "fasttext_wrap.h"

/* How CJK text is cut into fastText's whitespace tokens. */
enum { CM_FT_CJK_NONE, CM_FT_CJK_CHARS, CM_FT_CJK_WORDS };
extern const char *const cm_ft_cjk_names[]; /* "none", "chars", "words", NULL */

/* text as one line of whitespace-separated tokens into out (cleared first):
 * line breaks become spaces; CM_FT_CJK_CHARS makes every CJK character a
 * token, CM_FT_CJK_WORDS cuts all text at ICU's word boundaries. */
void cm_fasttext_text(const char *text, size_t len, int cjk, cm_buf *out);

/* The side file of a model: MODEL + ".json" beside it. */
typedef struct cm_ft_side {
    char label[128]; /* the "good" label, e.g. __label__hq */
    int cjk;         /* CM_FT_CJK_* */
    int found;       /* the side file exists */
} cm_ft_side;
void cm_ft_side_path(const char *model, char *path, size_t cap);
/* Reads the side file when there is one (found = 0 and defaults when not):
 * -1 with err when it is damaged. */
int cm_ft_side_read(const char *model, cm_ft_side *side, cm_err *err);

/* A model for a step: loaded, refused with err naming the file; the label
 * must be one of the model's. */
cm_fasttext *cm_ft_open(const char *model, const char *label, cm_err *err);

#endif
