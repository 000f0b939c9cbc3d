/* cmd_rejection.c -- rejection of questions an export cannot answer
 * (index/rejection.h):
 *   corpusmill index calibrate RAG_DIR --good FILE --bad FILE [--json]
 *   corpusmill eval-rejection RAG_DIR --good FILE --bad FILE [--json]
 * calibrate picks a score and threshold and records them in the manifest;
 * eval-rejection measures the recorded threshold on other questions. */
#include "program.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../index/rag.h"
#include "../index/rejection.h"

const char cm_calibrate_usage[] =
    "usage: corpusmill index calibrate RAG_DIR --good FILE --bad FILE [--json]\n"
    "\n"
    "Scores every question of --good (questions the export should answer) and\n"
    "--bad (questions it should refuse: other topics, chit-chat), each a file\n"
    "with one question per line or, named *.json, a JSON array of strings, on\n"
    "each relevance\n"
    "score: bm25 (the best chunk's BM25 over the most the question's terms\n"
    "could score anywhere), dense (the best cosine) and learned (a logistic\n"
    "model of both searches' scores fitted here on the two sets: the chance the\n"
    "question is answerable). Picks the score and threshold with the\n"
    "best F1 of \"answerable\" and records them in RAG_DIR/manifest.json;\n"
    "`query` and `serve` then say whether each question is answerable. Prints\n"
    "precision, recall, F1 and AUC of each score (--json: one object).\n";

const char cm_eval_rejection_usage[] =
    "usage: corpusmill eval-rejection RAG_DIR --good FILE --bad FILE [--json]\n"
    "\n"
    "Judges every question of --good and --bad with the score and threshold\n"
    "`index calibrate` recorded in RAG_DIR/manifest.json and prints precision,\n"
    "recall and F1 of \"answerable\" (good questions are the positives); --json:\n"
    "{\"precision\", \"recall\", \"f1\", \"threshold\", \"good\", \"bad\", ...}.\n";

typedef struct rejection_args {
    const char *dir, *good, *bad;
    int json;
} rejection_args;

static int parse(const char *command, const char *usage, int argc, char **argv, rejection_args *ra, int *help)
{
    memset(ra, 0, sizeof *ra);
    const cm_arg opts[] = {
        {"--good", NULL, CM_ARG_STRING, &ra->good, 0, 0, NULL, NULL},
        {"--bad", NULL, CM_ARG_STRING, &ra->bad, 0, 0, NULL, NULL},
        {"--json", NULL, CM_ARG_FLAG, &ra->json, 0, 0, NULL, NULL},
        {NULL, NULL, 0, NULL, 0, 0, NULL, NULL},
    };
    static const char *const names[] = {"RAG_DIR"};
    cm_args a = {command, usage, opts, &ra->dir, names, 1, 1};
    int rc = cm_args_parse(&a, argc, argv, help);
    if (rc || *help) return rc;
    if (!ra->good || !ra->bad) return cm_usage_error(command, usage, "--good FILE and --bad FILE are required");
    return 0;
}

/* The relevance of both sets' questions. */
typedef struct scored {
    cm_rag *rag;
    cm_questions good, bad;
    cm_rag_relevance *g, *b;
} scored;

static void scored_free(scored *s)
{
    cm_rag_close(s->rag);
    cm_questions_free(&s->good);
    cm_questions_free(&s->bad);
    free(s->g);
    free(s->b);
}

/* With rule (eval-rejection), the export's recorded verdict rule goes there
 * first, and an export without one is refused before anything is scored. */
static int score_sets(const char *command, const rejection_args *ra, scored *s, cm_rejection_result *rule)
{
    memset(s, 0, sizeof *s);
    cm_err err;
    if (cm_questions_load(ra->good, &s->good, &err) || cm_questions_load(ra->bad, &s->bad, &err)) {
        cm_err_usage(&err);
        return cm_fail(command, &err);
    }
    if (!(s->rag = cm_rag_open(ra->dir, &err))) {
        cm_err_usage(&err); /* not an export: the caller named the wrong folder */
        return cm_fail(command, &err);
    }
    if (rule) {
        memset(rule, 0, sizeof *rule);
        if (cm_rag_calibration(s->rag, &rule->score, &rule->threshold, &rule->model)) {
            cm_usagef(&err, "%s is not calibrated: run `corpusmill index calibrate` on it first", ra->dir);
            return cm_fail(command, &err);
        }
    }
    cm_rag_search_threads(1);
    s->g = cm_malloc(s->good.n * sizeof *s->g);
    s->b = cm_malloc(s->bad.n * sizeof *s->b);
    if (cm_rejection_relevance(s->rag, &s->good, s->g, &err) || cm_rejection_relevance(s->rag, &s->bad, s->b, &err))
        return cm_fail(command, &err);
    return CM_EXIT_OK;
}

static void print_json(const cm_rejection_result *r)
{
    cm_buf b;
    cm_buf_init(&b);
    cm_rejection_json(r, &b);
    cm_buf_append_char(&b, '\n');
    fwrite(b.data, 1, b.len, stdout);
    cm_buf_free(&b);
}

static void print_result(const char *label, const cm_rejection_result *r)
{
    printf("  %-6s threshold %-9.4g precision %.3f  recall %.3f  F1 %.3f  accuracy %.3f  AUC %.3f\n", label,
           r->threshold, r->precision, r->recall, r->f1, r->accuracy, r->auc);
}

int cm_cmd_calibrate(int argc, char **argv)
{
    static const char command[] = "index calibrate";
    rejection_args ra;
    int help, rc = parse(command, cm_calibrate_usage, argc, argv, &ra, &help);
    if (rc || help) return rc;
    scored s;
    rc = score_sets(command, &ra, &s, NULL);
    if (rc == CM_EXIT_OK) {
        cm_rejection_result per[CM_RAG_SCORES], best;
        cm_rejection_calibrate(s.g, s.good.n, s.b, s.bad.n, per, &best);
        cm_err err;
        if (cm_rejection_record(ra.dir, &best, &err)) {
            rc = cm_fail(command, &err);
        } else if (ra.json) {
            cm_buf b;
            cm_buf_init(&b);
            cm_buf_append_str(&b, "{\"chosen\": ");
            cm_rejection_json(&best, &b);
            for (int i = 0; i < CM_RAG_SCORES; i++) {
                cm_buf_appendf(&b, ", \"%s\": ", cm_rag_score_name(i));
                cm_rejection_json(&per[i], &b);
            }
            cm_buf_append_str(&b, "}\n");
            fwrite(b.data, 1, b.len, stdout);
            cm_buf_free(&b);
        } else {
            printf("%zu good and %zu bad questions; the best threshold of each score:\n", s.good.n, s.bad.n);
            for (int i = 0; i < CM_RAG_SCORES; i++) print_result(cm_rag_score_name(i), &per[i]);
            printf("chosen: %s >= %.4g, recorded in %s/manifest.json\n", cm_rag_score_name(best.score), best.threshold,
                   ra.dir);
        }
    }
    scored_free(&s);
    return rc;
}

int cm_cmd_eval_rejection(int argc, char **argv)
{
    static const char command[] = "eval-rejection";
    rejection_args ra;
    int help, rc = parse(command, cm_eval_rejection_usage, argc, argv, &ra, &help);
    if (rc || help) return rc;
    scored s;
    cm_rejection_result r;
    rc = score_sets(command, &ra, &s, &r);
    if (rc == CM_EXIT_OK) {
        cm_rejection_measure(s.g, s.good.n, s.b, s.bad.n, &r);
        if (ra.json) {
            print_json(&r);
        } else {
            printf("%zu good and %zu bad questions, judged on %s >= %.4g:\n", r.good, r.bad, cm_rag_score_name(r.score),
                   r.threshold);
            print_result(cm_rag_score_name(r.score), &r);
        }
    }
    scored_free(&s);
    return rc;
}
