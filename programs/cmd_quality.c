/* cmd_quality.c -- fastText quality classifiers (filters/fasttext_wrap.h):
 *   corpusmill quality train CONFIG --positive P... --negative P... --out MODEL.bin
 *   corpusmill quality eval MODEL.bin --labels FILE [--json]
 *   corpusmill quality predict MODEL.bin < lines
 * train reads both sets with CONFIG's readers and clean steps (normalize, and
 * whatever else it lists), writes fastText's training format, trains with
 * the library, and measures the model on documents it held out; MODEL.json
 * beside the model records the label and the CJK cut for quality_model. */
#define _GNU_SOURCE
#include "program.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../filters/fasttext_text.h"
#include "../pipeline/progress.h"
#include "../pipeline/stage_reader.h"

const char cm_quality_usage[] =
    "usage: corpusmill quality train CONFIG --positive PATH... --negative PATH... --out MODEL.bin\n"
    "                              [--label __label__hq] [--cjk none|chars|words] [--epochs 5]\n"
    "                              [--ngrams 2] [--dim 32] [--bucket 200000] [--lr 0.1] [--threads 1]\n"
    "                              [--holdout 0.1] [--no-balance] [--json]\n"
    "       corpusmill quality eval MODEL.bin --labels FILE [--label L] [--threshold 0.5] [--json]\n"
    "       corpusmill quality predict MODEL.bin [--label L]\n"
    "\n"
    "train: reads the documents of --positive (good text) and --negative (text to\n"
    "drop) with CONFIG's input options and clean steps (a recipe of normalize\n"
    "alone keeps every document), cuts CJK text as --cjk says (chars: every\n"
    "CJK character a token; words: ICU word boundaries), shuffles, holds out\n"
    "--holdout of the documents, repeats the smaller class's training documents\n"
    "until both weigh the same (--no-balance: as they come), trains a fastText\n"
    "classifier (supervised: softmax, word n-grams hashed into --bucket rows;\n"
    "the model is about 4 x dim x (bucket + words) bytes) and writes MODEL.bin and MODEL.bin.json (label,\n"
    "cjk, the held-out accuracy and AUC). One thread trains reproducibly.\n"
    "eval: a JSON Lines FILE with `text` and `label` (1/0, true/false, or the\n"
    "label's name): AUC of the probability of --label, and accuracy,\n"
    "precision and recall of keeping documents at >= --threshold.\n"
    "predict: the probability of --label for each line of stdin, one a line,\n"
    "the text cut as MODEL.bin.json says (as `fasttext predict-prob MODEL - -1`\n"
    "gives it for that label).\n";

/* ---- reading documents through the pipeline ---- */

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    return remove(path);
}

typedef struct examples {
    cm_buf text;     /* the lines, "LABEL tokens\n" each */
    size_t *off;     /* where each starts */
    size_t n, cap;
    const char *label;
    int cjk;
    cm_buf scratch;
} examples;

static int add_example(void *user, const cm_stage_record *r, cm_err *err)
{
    (void)err;
    examples *x = user;
    cm_fasttext_text(r->text, r->text_len, x->cjk, &x->scratch);
    if (!x->scratch.len) return 0; /* nothing fastText could read */
    if (x->n == x->cap) {
        x->cap = x->cap ? x->cap * 2 : 1024;
        x->off = cm_realloc(x->off, x->cap * sizeof *x->off);
    }
    x->off[x->n++] = x->text.len;
    cm_buf_append_str(&x->text, x->label);
    cm_buf_append_char(&x->text, ' ');
    cm_buf_append(&x->text, x->scratch.data, x->scratch.len);
    cm_buf_append_char(&x->text, '\n');
    return 0;
}

/* Example k of x: its whole line ("LABEL tokens\n"), *len bytes. */
static const char *example_line(const examples *x, size_t k, size_t *len)
{
    size_t end = k + 1 < x->n ? x->off[k + 1] : x->text.len;
    *len = end - x->off[k];
    return x->text.data + x->off[k];
}

/* The documents of paths, cleaned by CONFIG in work/, as lines labelled label. */
static int read_set(const char *config, const cm_arg_list *paths, const char *work, examples *x, cm_err *err)
{
    int progress[2] = {CM_PROGRESS_NONE, 2};
    nftw(work, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    cm_config *cfg = cm_job_config(config, paths, work, progress);
    if (!cfg) return cm_usagef(err, "%s: the config could not be read", config);
    static const char *const clean[] = {"clean"};
    int rc = cm_run_stages_here(cfg, clean, 1, err);
    if (rc == 0) {
        cm_stage_reader *r = cm_stage_reader_create(cfg, err);
        if (!r) rc = -1;
        else {
            int tasks = cm_stage_tasks(work, "clean");
            for (int t = 0; t < (tasks > 0 ? tasks : 1) && rc == 0; t++)
                rc = cm_stage_reader_walk(r, "clean", t, add_example, x, err);
            cm_stage_reader_free(r);
        }
    }
    cm_config_free(cfg);
    nftw(work, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    return rc;
}

/* ---- train ---- */

static uint64_t next_random(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return *s >> 33;
}

static int write_lines(const char *path, const examples *const sets[2], const size_t *order, size_t from, size_t to,
                       cm_err *err)
{
    FILE *f = fopen(path, "w");
    if (!f) return cm_errorf(err, "%s: cannot write", path);
    for (size_t i = from; i < to; i++) {
        size_t len;
        const char *line = example_line(sets[order[i] & 1], order[i] >> 1, &len);
        fwrite(line, 1, len, f);
    }
    if (fclose(f)) return cm_errorf(err, "%s: write failed", path);
    return 0;
}

static int quality_train(int argc, char **argv)
{
    static const char command[] = "quality train";
    const char *config = NULL, *out = NULL, *label = "__label__hq", *cjk_name = "none";
    cm_arg_list pos_paths = {NULL, 0}, neg_paths = {NULL, 0};
    long epochs = 5, ngrams = 2, dim = 32, threads = 1, bucket = 200000;
    int balance = 1;
    double holdout = 0.1, lr = 0.1;
    int json = 0;
    const cm_arg opts[] = {
        {"--positive", NULL, CM_ARG_STRINGS, &pos_paths, 0, 0, NULL, NULL},
        {"--negative", NULL, CM_ARG_STRINGS, &neg_paths, 0, 0, NULL, NULL},
        {"--out", NULL, CM_ARG_STRING, &out, 0, 0, NULL, NULL},
        {"--label", NULL, CM_ARG_STRING, &label, 0, 0, NULL, NULL},
        {"--cjk", NULL, CM_ARG_STRING, &cjk_name, 0, 0, NULL, NULL},
        {"--epochs", NULL, CM_ARG_LONG, &epochs, 1, 1000, NULL, NULL},
        {"--ngrams", NULL, CM_ARG_LONG, &ngrams, 1, 5, NULL, NULL},
        {"--dim", NULL, CM_ARG_LONG, &dim, 2, 1024, NULL, NULL},
        {"--threads", NULL, CM_ARG_LONG, &threads, 1, 256, NULL, NULL},
        {"--bucket", NULL, CM_ARG_LONG, &bucket, 1000, 10000000, NULL, NULL},
        {"--no-balance", NULL, CM_ARG_UNFLAG, &balance, 0, 0, NULL, NULL},
        {"--holdout", NULL, CM_ARG_PARSE, &holdout, 0, 0, cm_parse_unit_interval, "a number from 0 to 1"},
        {"--lr", NULL, CM_ARG_PARSE, &lr, 0, 0, cm_parse_unit_interval, "a number from 0 to 1"},
        {"--json", NULL, CM_ARG_FLAG, &json, 0, 0, NULL, NULL},
        {NULL, NULL, 0, NULL, 0, 0, NULL, NULL},
    };
    static const char *const names[] = {"CONFIG"};
    cm_args a = {command, cm_quality_usage, opts, &config, names, 1, 1};
    int help, rc = cm_args_parse(&a, argc, argv, &help);
    if (rc || help) goto done;
    int cjk = -1;
    for (int i = 0; cm_ft_cjk_names[i]; i++)
        if (!strcmp(cm_ft_cjk_names[i], cjk_name)) cjk = i;
    if (!pos_paths.n || !neg_paths.n || !out) {
        rc = cm_usage_error(command, cm_quality_usage, "--positive, --negative and --out are required");
        goto done;
    }
    if (cjk < 0 || strncmp(label, "__label__", 9) || strchr(label, ' ') || !strcmp(label, "__label__lq")) {
        rc = cm_usage_error(command, cm_quality_usage,
                            "--cjk is none, chars or words; --label starts with __label__, has no space and is not __label__lq");
        goto done;
    }
    examples pos = {.label = label, .cjk = cjk}, neg = {.label = "__label__lq", .cjk = cjk};
    cm_buf_init(&pos.text); cm_buf_init(&pos.scratch); cm_buf_init(&neg.text); cm_buf_init(&neg.scratch);
    char work[4200], train_path[4300], model_msg[600];
    snprintf(work, sizeof work, "%s.work", out);
    snprintf(train_path, sizeof train_path, "%s.train.txt", out);
    cm_err err;
    size_t *order = NULL, *train_order = NULL, n_all = 0, n_train = 0;
    double *sp = NULL, *sn = NULL;
    cm_fasttext *model = NULL;
    if (read_set(config, &pos_paths, work, &pos, &err) || read_set(config, &neg_paths, work, &neg, &err)) {
        rc = cm_fail(command, &err);
        goto free_sets;
    }
    if (pos.n < 2 || neg.n < 2) {
        cm_usagef(&err, "%zu positive and %zu negative documents left after CONFIG's clean steps: need 2 of each",
                  pos.n, neg.n);
        rc = cm_fail(command, &err);
        goto free_sets;
    }
    /* both sets shuffled together (SGD over sorted classes learns the last
     * one), the held-out share taken from each */
    n_all = pos.n + neg.n;
    order = cm_malloc(n_all * sizeof *order);
    for (size_t i = 0; i < pos.n; i++) order[i] = i << 1;
    for (size_t i = 0; i < neg.n; i++) order[pos.n + i] = (i << 1) | 1;
    uint64_t seed = 42;
    for (size_t i = n_all - 1; i > 0; i--) {
        size_t j = (size_t)(next_random(&seed) % (i + 1)), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    n_train = n_all - (size_t)((double)n_all * holdout + 0.5);
    const examples *sets[2] = {&pos, &neg};
    /* balanced: the smaller class's training documents repeated until both
     * weigh the same (softmax otherwise learns the prior: at 50:1 every
     * document scores as the larger class), the whole shuffled again */
    size_t counts[2] = {0, 0};
    for (size_t i = 0; i < n_train; i++) counts[order[i] & 1]++;
    size_t n_lines = n_train;
    train_order = cm_malloc((balance && counts[0] && counts[1] ? 2 * (counts[0] > counts[1] ? counts[0] : counts[1])
                                                               : n_train) * sizeof *train_order);
    memcpy(train_order, order, n_train * sizeof *order);
    if (balance && counts[0] && counts[1]) {
        int small = counts[0] < counts[1] ? 0 : 1;
        size_t need = counts[!small] - counts[small];
        for (size_t i = 0; need; i = (i + 1) % n_train)
            if ((order[i] & 1) == (size_t)small) { train_order[n_lines++] = order[i]; need--; }
        for (size_t i = n_lines - 1; i > 0; i--) {
            size_t j = (size_t)(next_random(&seed) % (i + 1)), t = train_order[i];
            train_order[i] = train_order[j];
            train_order[j] = t;
        }
    }
    if (write_lines(train_path, sets, train_order, 0, n_lines, &err)) { rc = cm_fail(command, &err); goto free_sets; }
    cm_fasttext_train_opts to = {(int)epochs, (int)ngrams, (int)dim, (int)threads, 0, lr, (int)bucket};
    if (cm_fasttext_train(train_path, out, &to, model_msg, sizeof model_msg)) {
        cm_errorf(&err, "%s", model_msg);
        rc = cm_fail(command, &err);
        goto free_sets;
    }
    if (!(model = cm_ft_open(out, label, &err))) { rc = cm_fail(command, &err); goto free_sets; }
    /* the held-out documents */
    size_t np = 0, nn = 0;
    sp = cm_malloc((n_all - n_train + 1) * sizeof *sp);
    sn = cm_malloc((n_all - n_train + 1) * sizeof *sn);
    for (size_t i = n_train; i < n_all; i++) {
        const examples *x = sets[order[i] & 1];
        size_t len, skip = strlen(x->label) + 1; /* the label and its space; the newline at the end */
        const char *line = example_line(x, order[i] >> 1, &len);
        double p = cm_fasttext_prob(model, line + skip, len - skip - 1, label);
        if (x == &pos) sp[np++] = p;
        else sn[nn++] = p;
    }
    cm_score_measure m;
    cm_measure_scores(sp, np, sn, nn, 0.5, &m);
    char side[4300];
    cm_ft_side_path(out, side, sizeof side);
    FILE *f = fopen(side, "w");
    char body[1024];
    snprintf(body, sizeof body,
             "{\"label\": \"%s\", \"cjk\": \"%s\", \"positive\": %zu, \"negative\": %zu, \"holdout\": %zu, "
             "\"holdout_accuracy\": %.4f, \"holdout_auc\": %.4f, \"epochs\": %ld, \"ngrams\": %ld, \"dim\": %ld, "
             "\"lr\": %g, \"bucket\": %ld, \"balance\": %s}",
             label, cm_ft_cjk_names[cjk], pos.n, neg.n, np + nn, m.accuracy, m.auc, epochs, ngrams, dim, lr, bucket,
             balance ? "true" : "false");
    if (!f || fprintf(f, "%s\n", body) < 0 || fclose(f)) {
        cm_errorf(&err, "%s: cannot write", side);
        rc = cm_fail(command, &err);
        goto free_sets;
    }
    if (json) printf("%s\n", body);
    else
        printf("quality train: %zu positive, %zu negative documents; %zu held out: accuracy %.4f, AUC %.4f -> %s\n",
               pos.n, neg.n, np + nn, m.accuracy, m.auc, out);
free_sets:
    unlink(train_path);
    cm_fasttext_free(model);
    free(order);
    free(train_order);
    free(sp);
    free(sn);
    cm_buf_free(&pos.text); cm_buf_free(&pos.scratch); free(pos.off);
    cm_buf_free(&neg.text); cm_buf_free(&neg.scratch); free(neg.off);
done:
    cm_arg_list_free(&pos_paths);
    cm_arg_list_free(&neg_paths);
    return rc;
}

/* ---- eval ---- */

typedef struct labelled {
    cm_fasttext *model;
    const char *label;
    int cjk;
    cm_buf line;
    double *pos, *neg;
    size_t np, nn, cap_p, cap_n, row;
} labelled;

static int is_positive(const cm_json_record *rec, const char *line, const cm_json_member *m, const char *label,
                       int *out)
{
    if (m->type == CM_JSON_NUMBER) { *out = strtod(line + m->value_start, NULL) != 0; return 0; }
    if (m->type == CM_JSON_BOOL) { *out = line[m->value_start] == 't'; return 0; }
    if (m->type == CM_JSON_STRING) {
        const char *s = cm_json_str(rec, m);
        *out = !strcmp(s, "1") || !strcmp(s, "true") || !strcmp(s, label) || !strcmp(s, label + 9);
        return 0;
    }
    return -1;
}

static int on_labelled(void *user, const char *line, size_t len, const cm_json_record *rec, cm_err *err)
{
    (void)len;
    labelled *l = user;
    l->row++;
    long t = cm_json_find(rec, "text", NULL), y = cm_json_find(rec, "label", NULL);
    int positive = 0;
    if (t < 0 || rec->members[t].type != CM_JSON_STRING || y < 0 ||
        is_positive(rec, line, &rec->members[y], l->label, &positive))
        return cm_errorf(err, "record %zu: needs a string \"text\" and a \"label\" (1/0, true/false or a name)", l->row);
    const cm_json_member *m = &rec->members[t];
    cm_fasttext_text(cm_json_str(rec, m), m->str_len, l->cjk, &l->line);
    double p = l->line.len ? cm_fasttext_prob(l->model, l->line.data, l->line.len, l->label) : 0;
    double **to = positive ? &l->pos : &l->neg;
    size_t *n = positive ? &l->np : &l->nn, *cap = positive ? &l->cap_p : &l->cap_n;
    if (*n == *cap) { *cap = *cap ? *cap * 2 : 256; *to = cm_realloc(*to, *cap * sizeof **to); }
    (*to)[(*n)++] = p;
    return 0;
}

/* The model of argv's MODEL, its label and CJK cut (side file, --label). */
static cm_fasttext *open_model(const char *command, const char *path, const char **label, int *cjk, cm_ft_side *side)
{
    cm_err err;
    if (cm_ft_side_read(path, side, &err)) { cm_fail(command, &err); return NULL; }
    if (!*label) *label = side->label;
    *cjk = side->cjk;
    cm_fasttext *m = cm_ft_open(path, *label, &err);
    if (!m) cm_fail(command, &err);
    return m;
}

static int quality_eval(int argc, char **argv)
{
    static const char command[] = "quality eval";
    const char *path = NULL, *labels = NULL, *label = NULL;
    double threshold = 0.5;
    int json = 0;
    const cm_arg opts[] = {
        {"--labels", NULL, CM_ARG_STRING, &labels, 0, 0, NULL, NULL},
        {"--label", NULL, CM_ARG_STRING, &label, 0, 0, NULL, NULL},
        {"--threshold", NULL, CM_ARG_PARSE, &threshold, 0, 0, cm_parse_unit_interval, "a number from 0 to 1"},
        {"--json", NULL, CM_ARG_FLAG, &json, 0, 0, NULL, NULL},
        {NULL, NULL, 0, NULL, 0, 0, NULL, NULL},
    };
    static const char *const names[] = {"MODEL"};
    cm_args a = {command, cm_quality_usage, opts, &path, names, 1, 1};
    int help, rc = cm_args_parse(&a, argc, argv, &help);
    if (rc || help) return rc;
    if (!labels) return cm_usage_error(command, cm_quality_usage, "--labels FILE is required");
    cm_ft_side side;
    labelled l;
    memset(&l, 0, sizeof l);
    if (!(l.model = open_model(command, path, &label, &l.cjk, &side))) return CM_EXIT_FAILED;
    l.label = label;
    cm_buf_init(&l.line);
    cm_err err;
    if (cm_walk_json_lines(labels, on_labelled, &l, &err)) rc = cm_fail(command, &err);
    else {
        cm_score_measure m;
        cm_measure_scores(l.pos, l.np, l.neg, l.nn, threshold, &m);
        if (json)
            printf("{\"auc\": %.4f, \"threshold\": %g, \"precision\": %.4f, \"recall\": %.4f, \"f1\": %.4f, "
                   "\"accuracy\": %.4f, \"positive\": %zu, \"negative\": %zu}\n",
                   m.auc, threshold, m.precision, m.recall, m.f1, m.accuracy, l.np, l.nn);
        else
            printf("quality eval: %zu positive, %zu negative: AUC %.4f; at >= %g: precision %.4f, recall %.4f, "
                   "F1 %.4f, accuracy %.4f\n",
                   l.np, l.nn, m.auc, threshold, m.precision, m.recall, m.f1, m.accuracy);
    }
    cm_fasttext_free(l.model);
    cm_buf_free(&l.line);
    free(l.pos);
    free(l.neg);
    return rc;
}

/* ---- predict ---- */

static int quality_predict(int argc, char **argv)
{
    static const char command[] = "quality predict";
    const char *path = NULL, *label = NULL;
    const cm_arg opts[] = {
        {"--label", NULL, CM_ARG_STRING, &label, 0, 0, NULL, NULL},
        {NULL, NULL, 0, NULL, 0, 0, NULL, NULL},
    };
    static const char *const names[] = {"MODEL"};
    cm_args a = {command, cm_quality_usage, opts, &path, names, 1, 1};
    int help, rc = cm_args_parse(&a, argc, argv, &help);
    if (rc || help) return rc;
    cm_ft_side side;
    int cjk;
    cm_fasttext *m = open_model(command, path, &label, &cjk, &side);
    if (!m) return CM_EXIT_FAILED;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    cm_buf text;
    cm_buf_init(&text);
    while ((n = getline(&line, &cap, stdin)) >= 0) {
        cm_fasttext_text(line, (size_t)n, cjk, &text);
        printf("%.6f\n", text.len ? cm_fasttext_prob(m, text.data, text.len, label) : 0.0);
    }
    free(line);
    cm_buf_free(&text);
    cm_fasttext_free(m);
    return 0;
}

int cm_cmd_quality(int argc, char **argv)
{
    if (argc >= 1 && !strcmp(argv[0], "train")) return quality_train(argc - 1, argv + 1);
    if (argc >= 1 && !strcmp(argv[0], "eval")) return quality_eval(argc - 1, argv + 1);
    if (argc >= 1 && !strcmp(argv[0], "predict")) return quality_predict(argc - 1, argv + 1);
    if (argc >= 1 && (!strcmp(argv[0], "--help") || !strcmp(argv[0], "-h"))) {
        fputs(cm_quality_usage, stdout);
        return 0;
    }
    return cm_usage_error("quality", cm_quality_usage, "give train, eval or predict");
}
