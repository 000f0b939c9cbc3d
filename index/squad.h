/* squad.h -- reads SQuAD-format JSON (data[].paragraphs[] with a context
 * and qas[] of a question and answers[].text), the evaluation sets of
 * eval-retrieval (index/eval.c) and decontaminate (index/decontam.c), as one
 * call per question with its paragraph. Members may come in any order
 * within a question (SQuAD's own files put answers first). */
#ifndef CM_SQUAD_H
#define CM_SQUAD_H

#include <stddef.h>

#include "../pipeline/util.h"

typedef struct cm_squad_question {
    long paragraph;         /* the paragraph's ordinal in the file, from 0 */
    const char *context;    /* its context (bytes, not NUL-terminated) */
    size_t context_len;
    const char *question;
    size_t question_len;
    const char *answers;    /* the answers' texts joined by '\n' (empty when none) */
    size_t answers_len;
} cm_squad_question;

/* Called for every question; non-zero stops the walk (with err). */
typedef int (*cm_squad_fn)(void *user, const cm_squad_question *q, cm_err *err);

/* Whether json looks like SQuAD: one object with "paragraphs". */
int cm_squad_looks_like(const char *json, size_t len);

/* Walks json (a whole SQuAD file). Returns 0, or -1 with err (not valid
 * JSON, or fn stopped it). */
int cm_squad_read(const char *json, size_t len, cm_squad_fn fn, void *user, cm_err *err);

#endif
