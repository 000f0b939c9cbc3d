/* rejection.c -- calibrating, recording and measuring the threshold under
 * which a RAG export refuses a question (see rejection.h). */
#include "rejection.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../pipeline/json.h"
#include "rag_internal.h"

#define MAX_QUESTIONS_FILE (64u << 20)

/* ---- questions ---- */

static void add_question(cm_questions *qs, const char *s, size_t len)
{
    qs->text = cm_realloc(qs->text, (qs->n + 1) * sizeof *qs->text);
    qs->text[qs->n++] = cm_strndup(s, len);
}

typedef struct array_walk {
    cm_questions *qs;
    int foreign; /* something else than a string in an array */
} array_walk;

static int visit_string(void *user, const char *const *path, int depth, cm_json_type type, double number,
                        const char *str, size_t len)
{
    (void)number;
    array_walk *w = user;
    /* an array's members have decimal indexes as their path; an object's, keys */
    if (depth != 1 || type != CM_JSON_STRING || strspn(path[0], "0123456789") != strlen(path[0])) {
        w->foreign = 1;
        return 1;
    }
    if (len) add_question(w->qs, str, len);
    return 0;
}

int cm_questions_load(const char *path, cm_questions *qs, cm_err *err)
{
    memset(qs, 0, sizeof *qs);
    cm_buf b;
    cm_buf_init(&b);
    if (cm_read_file(path, &b, MAX_QUESTIONS_FILE, err)) return -1;
    /* by the name: a line of chat may well start with "[" ([旺柴] is WeChat's emoji code) */
    size_t plen = strlen(path);
    int rc = 0;
    if (plen >= 5 && !strcmp(path + plen - 5, ".json")) {
        cm_err e;
        cm_buf_reserve(&b, CM_JSON_PADDING);
        array_walk w = {qs, 0};
        if (cm_json_visit(b.data, b.len, visit_string, &w, &e)) rc = cm_errorf(err, "%s: %s", path, e.msg);
        else if (w.foreign) rc = cm_errorf(err, "%s: a JSON file of questions must be an array of strings", path);
    } else {
        size_t line = 1;
        for (const char *p = b.data, *end = b.data + b.len; p < end && rc == 0; line++) {
            const char *nl = memchr(p, '\n', (size_t)(end - p)), *next = nl ? nl + 1 : end;
            size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
            if (len && p[len - 1] == '\r') len--;
            if (!cm_json_valid_utf8(p, len)) rc = cm_errorf(err, "%s:%zu: not UTF-8", path, line);
            else {
                size_t s = 0;
                while (s < len && (p[s] == ' ' || p[s] == '\t')) s++;
                if (s < len) add_question(qs, p + s, len - s);
            }
            p = next;
        }
    }
    cm_buf_free(&b);
    if (rc == 0 && qs->n == 0) rc = cm_errorf(err, "%s: no questions in it", path);
    if (rc) cm_questions_free(qs);
    return rc;
}

void cm_questions_free(cm_questions *qs)
{
    for (size_t i = 0; i < qs->n; i++) free(qs->text[i]);
    free(qs->text);
    memset(qs, 0, sizeof *qs);
}

int cm_rejection_relevance(cm_rag *r, const cm_questions *qs, cm_rag_relevance *out, cm_err *err)
{
    for (size_t i = 0; i < qs->n; i++)
        if (cm_rag_relevance_of(r, qs->text[i], &out[i], err)) return -1;
    return 0;
}

/* ---- thresholds ---- */

void cm_rejection_measure(const cm_rag_relevance *good, size_t n_good, const cm_rag_relevance *bad, size_t n_bad,
                          cm_rejection_result *res)
{
    /* each question's score once (the learned one costs an exp) */
    double *g = cm_malloc((n_good ? n_good : 1) * sizeof *g), *b = cm_malloc((n_bad ? n_bad : 1) * sizeof *b);
    for (size_t i = 0; i < n_good; i++) g[i] = cm_rag_relevance_score(&good[i], res->score, &res->model);
    for (size_t i = 0; i < n_bad; i++) b[i] = cm_rag_relevance_score(&bad[i], res->score, &res->model);
    cm_score_measure m;
    cm_measure_scores(g, n_good, b, n_bad, res->threshold, &m);
    res->good = n_good;
    res->bad = n_bad;
    res->precision = m.precision;
    res->recall = m.recall;
    res->f1 = m.f1;
    res->accuracy = m.accuracy;
    res->auc = m.auc;
    free(g);
    free(b);
}

/* Logistic regression by full-batch gradient descent: few features and a
 * few thousand questions at most, so plain and exact beats clever. */
#define FIT_EPOCHS 2000
#define FIT_RATE 0.5
#define FIT_L2 1e-3

static void fit_model(const cm_rag_relevance *good, size_t n_good, const cm_rag_relevance *bad, size_t n_bad,
                      cm_rag_judge_model *m)
{
    enum { F = CM_RAG_FEATURES };
    size_t n = n_good + n_bad;
    double (*x)[F] = cm_malloc(n * sizeof *x);
    for (size_t i = 0; i < n; i++) cm_rag_features(i < n_good ? &good[i] : &bad[i - n_good], x[i]);
    memset(m, 0, sizeof *m);
    for (int j = 0; j < F; j++) {
        double sum = 0, sq = 0;
        for (size_t i = 0; i < n; i++) sum += x[i][j];
        m->mean[j] = sum / (double)n;
        for (size_t i = 0; i < n; i++) sq += (x[i][j] - m->mean[j]) * (x[i][j] - m->mean[j]);
        m->sd[j] = sqrt(sq / (double)n);
        if (!(m->sd[j] > 1e-12)) m->sd[j] = 1; /* a constant feature: its weight stays 0 */
        for (size_t i = 0; i < n; i++) x[i][j] = (x[i][j] - m->mean[j]) / m->sd[j];
    }
    /* each class weighs half, whatever the sizes of the sets */
    double w_good = (double)n / (2.0 * (double)n_good), w_bad = (double)n / (2.0 * (double)n_bad);
    for (int epoch = 0; epoch < FIT_EPOCHS; epoch++) {
        double g[F] = {0}, gb = 0;
        for (size_t i = 0; i < n; i++) {
            double z = m->bias;
            for (int j = 0; j < F; j++) z += m->weight[j] * x[i][j];
            int label = i < n_good;
            double e = (1 / (1 + exp(-z)) - label) * (label ? w_good : w_bad);
            for (int j = 0; j < F; j++) g[j] += e * x[i][j];
            gb += e;
        }
        for (int j = 0; j < F; j++) m->weight[j] -= FIT_RATE * (g[j] / (double)n + FIT_L2 * m->weight[j]);
        m->bias -= FIT_RATE * gb / (double)n;
    }
    free(x);
}

typedef struct labelled {
    double value;
    int good;
} labelled;

static int by_value_desc(const void *a, const void *b)
{
    double x = ((const labelled *)a)->value, y = ((const labelled *)b)->value;
    return x > y ? -1 : x < y;
}

void cm_rejection_calibrate(const cm_rag_relevance *good, size_t n_good, const cm_rag_relevance *bad, size_t n_bad,
                            cm_rejection_result per[CM_RAG_SCORES], cm_rejection_result *best)
{
    cm_rag_judge_model model;
    fit_model(good, n_good, bad, n_bad, &model);
    size_t n = n_good + n_bad;
    labelled *all = cm_malloc((n ? n : 1) * sizeof *all);
    for (int score = 0; score < CM_RAG_SCORES; score++) {
        for (size_t i = 0; i < n_good; i++) all[i] = (labelled){cm_rag_relevance_score(&good[i], score, &model), 1};
        for (size_t i = 0; i < n_bad; i++) all[n_good + i] = (labelled){cm_rag_relevance_score(&bad[i], score, &model), 0};
        qsort(all, n, sizeof *all, by_value_desc);
        /* accept the i best (a whole run of equal values at once): F1 of each cut */
        size_t tp = 0, fp = 0;
        double best_f1 = -1, best_p = -1, threshold = n ? all[0].value : 0;
        for (size_t i = 0; i < n;) {
            size_t j = i;
            while (j < n && all[j].value == all[i].value) {
                tp += all[j].good;
                fp += !all[j].good;
                j++;
            }
            double p = (double)tp / (double)(tp + fp), r = n_good ? (double)tp / (double)n_good : 0;
            double f1 = p + r > 0 ? 2 * p * r / (p + r) : 0;
            if (f1 > best_f1 || (f1 == best_f1 && p > best_p)) {
                best_f1 = f1;
                best_p = p;
                threshold = j < n ? (all[i].value + all[j].value) / 2 : all[i].value;
            }
            i = j;
        }
        memset(&per[score], 0, sizeof per[score]);
        per[score].score = score;
        per[score].threshold = threshold;
        per[score].model = model;
        cm_rejection_measure(good, n_good, bad, n_bad, &per[score]);
    }
    free(all);
    int b = 0;
    for (int score = 1; score < CM_RAG_SCORES; score++)
        if (per[score].f1 > per[b].f1 || (per[score].f1 == per[b].f1 && per[score].auc > per[b].auc)) b = score;
    *best = per[b];
}

/* ---- the manifest ---- */

void cm_rejection_json(const cm_rejection_result *res, cm_buf *out)
{
    cm_buf_appendf(out,
                   "{\"score\": \"%s\", \"threshold\": %.17g, \"precision\": %.4f, \"recall\": %.4f, \"f1\": %.4f, "
                   "\"accuracy\": %.4f, \"auc\": %.4f, \"good\": %zu, \"bad\": %zu",
                   cm_rag_score_name(res->score), res->threshold, res->precision, res->recall, res->f1, res->accuracy,
                   res->auc, res->good, res->bad);
    if (res->score == CM_RAG_SCORE_LEARNED) {
        const cm_rag_judge_model *m = &res->model;
        cm_buf_append_str(out, ", \"model\": {\"features\": [\"log(1 + best_bm25)\", \"dense\", \"known\", \"bm25\"]");
        static const char *const names[3] = {"mean", "sd", "weight"};
        const double *arrays[3] = {m->mean, m->sd, m->weight};
        for (int a = 0; a < 3; a++) {
            cm_buf_appendf(out, ", \"%s\": [", names[a]);
            for (int i = 0; i < CM_RAG_FEATURES; i++) cm_buf_appendf(out, "%s%.17g", i ? ", " : "", arrays[a][i]);
            cm_buf_append_char(out, ']');
        }
        cm_buf_appendf(out, ", \"bias\": %.17g}", m->bias);
    }
    cm_buf_append_char(out, '}');
}

int cm_rejection_record(const char *rag_dir, const cm_rejection_result *res, cm_err *err)
{
    cm_buf value;
    cm_buf_init(&value);
    cm_rejection_json(res, &value);
    static const char *const keys[] = {"rejection"};
    const char *values[] = {value.data};
    int rc = cm_rag_manifest_set(rag_dir, keys, values, 1, err);
    cm_buf_free(&value);
    return rc;
}
