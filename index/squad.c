/* squad.c -- the SQuAD-format reader (see squad.h), over the JSON visitor:
 * a question is complete when the walk leaves its qas entry. */
#define _GNU_SOURCE
#include "squad.h"

#include <stdio.h>
#include <string.h>

#include "../pipeline/json.h"

typedef struct walk {
    cm_squad_fn fn;
    void *user;
    cm_err *err;
    int stopped;
    char para_key[64];   /* "N.M" of the paragraph whose context is held */
    long paragraph;
    cm_buf context;
    char qa_key[96];     /* "N.M.K" of the question being gathered, "" none */
    cm_buf question, answers;
    int has_question;
} walk;

static void emit(walk *w)
{
    if (w->qa_key[0] && w->has_question && !w->stopped) {
        cm_squad_question q = {w->paragraph, w->context.data ? w->context.data : "", w->context.len,
                               w->question.data, w->question.len, w->answers.data ? w->answers.data : "",
                               w->answers.len};
        if (w->fn(w->user, &q, w->err)) w->stopped = 1;
    }
    w->qa_key[0] = 0;
    w->has_question = 0;
    cm_buf_clear(&w->question);
    cm_buf_clear(&w->answers);
}

static int visit(void *user, const char *const *path, int depth, cm_json_type type, double num, const char *str,
                 size_t len)
{
    (void)num;
    walk *w = user;
    if (w->stopped) return 1;
    if (type != CM_JSON_STRING || depth < 5 || strcmp(path[0], "data") || strcmp(path[2], "paragraphs")) return 0;
    char para[64];
    snprintf(para, sizeof para, "%s.%s", path[1], path[3]);
    if (depth == 5 && !strcmp(path[4], "context")) {
        emit(w);
        snprintf(w->para_key, sizeof w->para_key, "%s", para);
        w->paragraph++;
        cm_buf_clear(&w->context);
        cm_buf_append(&w->context, str, len);
        return 0;
    }
    if (depth < 7 || strcmp(path[4], "qas") || strcmp(para, w->para_key)) return 0;
    char qa[96];
    snprintf(qa, sizeof qa, "%s.%s", para, path[5]);
    if (strcmp(qa, w->qa_key)) {
        emit(w);
        snprintf(w->qa_key, sizeof w->qa_key, "%s", qa);
    }
    if (depth == 7 && !strcmp(path[6], "question")) {
        cm_buf_clear(&w->question);
        cm_buf_append(&w->question, str, len);
        w->has_question = 1;
    } else if (depth == 9 && !strcmp(path[6], "answers") && !strcmp(path[8], "text")) {
        if (w->answers.len) cm_buf_append_char(&w->answers, '\n');
        cm_buf_append(&w->answers, str, len);
    }
    return 0;
}

int cm_squad_looks_like(const char *json, size_t len)
{
    size_t i = 0;
    while (i < len && (json[i] == ' ' || json[i] == '\n' || json[i] == '\r' || json[i] == '\t')) i++;
    return i < len && json[i] == '{' && memmem(json, len, "\"paragraphs\"", 12) != NULL;
}

int cm_squad_read(const char *json, size_t len, cm_squad_fn fn, void *user, cm_err *err)
{
    walk w;
    memset(&w, 0, sizeof w);
    w.fn = fn;
    w.user = user;
    w.err = err;
    w.paragraph = -1;
    cm_buf_init(&w.context);
    cm_buf_init(&w.question);
    cm_buf_init(&w.answers);
    int rc = cm_json_visit(json, len, visit, &w, err);
    if (rc == 0) emit(&w);
    if (w.stopped) rc = -1;
    cm_buf_free(&w.context);
    cm_buf_free(&w.question);
    cm_buf_free(&w.answers);
    return rc;
}
