/* stage.c -- the stage contract (see stage.h): the runner every task goes
 * through, the split claim, the input listing and the markers. */
#define _GNU_SOURCE
#include "stage.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#include "json.h"
#include "layout.h"

/* A hash state that has taken the config file's bytes. */
static XXH3_state_t *hash_config(const cm_config *cfg, cm_buf *b)
{
    XXH3_state_t *st = XXH3_createState();
    XXH3_64bits_reset(st);
    if (cm_read_file(cfg->path, b, 16u << 20, NULL) == 0) XXH3_64bits_update(st, b->data, b->len);
    return st;
}

void cm_stage_fingerprint(const cm_config *cfg, char out[17])
{
    cm_buf b;
    cm_buf_init(&b);
    XXH3_state_t *st = hash_config(cfg, &b);
    cm_buf_free(&b);
    for (size_t i = 0; i < cfg->input.n_paths; i++) {
        XXH3_64bits_update(st, "\0", 1);
        XXH3_64bits_update(st, cfg->input.paths[i], strlen(cfg->input.paths[i]));
    }
    snprintf(out, 17, "%016llx", (unsigned long long)XXH3_64bits_digest(st));
    XXH3_freeState(st);
}

/* For the stages after clean: the config's bytes and the first line of the
 * input listing clean recorded (which names clean's own fingerprint), not
 * the input paths of this command line, which these stages do not read. */
static void fingerprint_after_clean(const cm_config *cfg, char out[17])
{
    cm_buf b;
    cm_buf_init(&b);
    XXH3_state_t *st = hash_config(cfg, &b);
    cm_buf_clear(&b);
    if (cm_read_file(cm_inputs_path(cfg->output.dir).s, &b, (size_t)1 << 30, NULL) == 0)
        XXH3_64bits_update(st, b.data, strcspn(b.data, "\n"));
    cm_buf_free(&b);
    snprintf(out, 17, "%016llx", (unsigned long long)XXH3_64bits_digest(st));
    XXH3_freeState(st);
}

/* Parses _inputs.tsv; 0 with the list, 1 when it was made for another
 * fingerprint, -1 when it is damaged. */
static int parse_inputs(const cm_buf *b, const char *fingerprint, cm_input_list *list)
{
    memset(list, 0, sizeof *list);
    const char *p = b->data, *end = b->data + b->len;
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    char head[64];
    snprintf(head, sizeof head, "# corpusmill inputs %s", fingerprint ? fingerprint : "");
    if (!nl) return -1;
    if (strncmp(p, "# corpusmill inputs ", 20) != 0) return -1;
    if (fingerprint && ((size_t)(nl - p) != strlen(head) || memcmp(p, head, strlen(head)) != 0)) return 1;
    size_t cap = 0;
    for (p = nl + 1; p < end; p = nl + 1) {
        nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) { cm_inputs_free(list); return -1; }
        char *tab1, *tab2;
        unsigned long long size = strtoull(p, &tab1, 10);
        unsigned long rel = *tab1 == '\t' ? strtoul(tab1 + 1, &tab2, 10) : 0;
        if (*tab1 != '\t' || *tab2 != '\t' || rel > (size_t)(nl - tab2 - 1)) { cm_inputs_free(list); return -1; }
        if (list->n == cap) {
            cap = cap ? 2 * cap : 64;
            list->files = cm_realloc(list->files, cap * sizeof *list->files);
        }
        cm_input_file *f = &list->files[list->n++];
        size_t len = (size_t)(nl - tab2 - 1);
        f->path = cm_malloc(len + 1);
        memcpy(f->path, tab2 + 1, len);
        f->path[len] = 0;
        f->rel = f->path + rel;
        f->size = size;
    }
    return 0;
}

int cm_stage_inputs(const cm_config *cfg, int relist, cm_input_list *list, cm_err *err)
{
    const char *out = cfg->output.dir;
    char path[CM_PATH_MAX], tmp[CM_PATH_MAX + 32], fingerprint[17];
    cm_stage_fingerprint(cfg, fingerprint);
    snprintf(path, sizeof path, "%s", cm_inputs_path(out).s);
    for (int attempt = 0; attempt < 3; attempt++) {
        if (!relist && cm_path_exists(path)) {
            cm_buf b;
            cm_buf_init(&b);
            if (cm_read_file(path, &b, (size_t)1 << 30, err)) { cm_buf_free(&b); return -1; }
            int r = parse_inputs(&b, fingerprint, list);
            cm_buf_free(&b);
            if (r == 0) return 0;
            if (r < 0) return cm_errorf(err, "%s is damaged: remove it to list the inputs again", path);
            relist = 1; /* made for another config */
        }
        cm_input_list now;
        if (cm_inputs_expand(cfg->input.paths, cfg->input.n_paths, cfg->input.format, &now, err)) return -1;
        cm_buf b;
        cm_buf_init(&b);
        cm_buf_appendf(&b, "# corpusmill inputs %s\n", fingerprint);
        for (size_t i = 0; i < now.n; i++) {
            if (strchr(now.files[i].path, '\n')) {
                cm_errorf(err, "input file name with a line break: '%s'", now.files[i].path);
                cm_inputs_free(&now);
                cm_buf_free(&b);
                return -1;
            }
            cm_buf_appendf(&b, "%llu\t%zu\t%s\n", (unsigned long long)now.files[i].size,
                           (size_t)(now.files[i].rel - now.files[i].path), now.files[i].path);
        }
        if (cm_mkdirs(cm_done_dir(out, "clean").s, err)) { cm_inputs_free(&now); cm_buf_free(&b); return -1; }
        snprintf(tmp, sizeof tmp, "%s.%d", path, (int)getpid());
        int rc = cm_write_file_atomic(tmp, b.data, b.len, err);
        cm_buf_free(&b);
        if (rc == 0) {
            /* a relist replaces; a first listing wins only if no other task's came first */
            int r = relist ? rename(tmp, path) : link(tmp, path);
            int e = errno;
            unlink(tmp);
            if (r == 0 || (!relist && e == EEXIST)) {
                if (r == 0) { *list = now; return 0; }
                cm_inputs_free(&now);
                continue; /* read the winner's */
            }
            cm_errorf(err, "cannot write '%s': %s", path, strerror(e));
        }
        cm_inputs_free(&now);
        return -1;
    }
    return cm_errorf(err, "cannot settle '%s'", path);
}

typedef struct manifest {
    int tasks;
    char fingerprint[17];
} manifest;

static int read_manifest(const char *path, manifest *m, cm_err *err)
{
    memset(m, 0, sizeof *m);
    double tasks = 0;
    cm_json_field f[] = {{"tasks", CM_JSON_NUMBER, &tasks, 0, NULL},
                         {"fingerprint", CM_JSON_STRING, m->fingerprint, sizeof m->fingerprint, NULL},
                         {NULL, 0, NULL, 0, NULL}};
    int rc = cm_json_file_fields(path, f, NULL, err);
    m->tasks = (int)tasks;
    return rc;
}

int cm_stage_listing(const char *out, cm_input_list *list, cm_err *err)
{
    cm_path path = cm_inputs_path(out);
    if (!cm_path_exists(path.s))
        return cm_usagef(err, "%s has no input listing (%s): run clean first", out, path.s);
    cm_buf b;
    cm_buf_init(&b);
    if (cm_read_file(path.s, &b, (size_t)1 << 30, err)) { cm_buf_free(&b); return -1; }
    int r = parse_inputs(&b, NULL, list);
    cm_buf_free(&b);
    if (r) return cm_errorf(err, "%s is damaged: rerun clean with --force, or start over in a new --out", path.s);
    return 0;
}

int cm_stage_claim(const char *out_dir, const char *marker, int tasks, const char *fingerprint, int force, cm_err *err)
{
    char path[CM_PATH_MAX], tmp[CM_PATH_MAX + 32], body[256];
    if (cm_mkdirs(cm_done_dir(out_dir, marker).s, err)) return -1;
    snprintf(path, sizeof path, "%s", cm_claim_path(out_dir, marker).s);
    snprintf(body, sizeof body, "{\"stage\": \"%s\", \"tasks\": %d, \"fingerprint\": \"%s\"}\n", marker, tasks, fingerprint);
    for (int attempt = 0; attempt < 2; attempt++) {
        if (cm_path_exists(path)) {
            manifest m;
            if (read_manifest(path, &m, err)) return -1;
            if (m.tasks != tasks)
                return cm_errorf(err,
                                 "%s already holds %s results split into %d tasks; this run asks for %d. "
                                 "Use --tasks %d, or a new --out",
                                 out_dir, marker, m.tasks, tasks, m.tasks);
            if (strcmp(m.fingerprint, fingerprint) != 0) {
                if (!force)
                    return cm_errorf(err,
                                     "%s holds %s results made with another config or input; use a new --out, "
                                     "or --force to redo every task",
                                     out_dir, marker);
                return cm_write_file_atomic(path, body, strlen(body), err);
            }
            return 0;
        }
        /* create it only if no other task did meanwhile: link() fails if it exists */
        snprintf(tmp, sizeof tmp, "%s.%d", path, (int)getpid());
        if (cm_write_file_atomic(tmp, body, strlen(body), err)) return -1;
        int r = link(tmp, path);
        int e = errno;
        unlink(tmp);
        if (r == 0) return 0;
        if (e != EEXIST) return cm_errorf(err, "cannot create '%s': %s", path, strerror(e));
    }
    return cm_errorf(err, "cannot settle '%s'", path);
}

int cm_stage_tasks(const char *out_dir, const char *marker)
{
    cm_path path = cm_claim_path(out_dir, marker);
    manifest m;
    if (!cm_path_exists(path.s) || read_manifest(path.s, &m, NULL)) return 0;
    return m.tasks;
}

int cm_stage_finished(const char *out_dir, const char *marker, cm_err *err)
{
    int tasks = cm_stage_tasks(out_dir, marker);
    if (tasks == 0) return cm_errorf(err, "%s has not started in %s (run it first)", marker, out_dir);
    for (int t = 0; t < tasks; t++) {
        cm_path path = cm_marker_path(out_dir, marker, t);
        if (!cm_path_exists(path.s)) return cm_errorf(err, "%s task %d has not finished (no %s)", marker, t, path.s);
    }
    return 0;
}

int cm_prepare_out_dir(const char *out, cm_err *err)
{
    if (cm_mkdirs(out, err)) return -1;
    if (access(out, W_OK | X_OK) != 0) return cm_errorf(err, "output directory '%s' is not writable: %s", out, strerror(errno));
    return 0;
}

const cm_stage_step *cm_stage_step_find(const cm_stage_def *def, const char *name)
{
    for (int i = 0; i < def->n_steps; i++) {
        const char *s = def->steps[i].name;
        if ((!name && !s) || (name && s && !strcmp(name, s))) return &def->steps[i];
    }
    /* a stage of one named step runs it without the name */
    if (!name && def->n_steps == 1) return &def->steps[0];
    return NULL;
}

void cm_stage_plan_make(const cm_stage_def *def, const void *opts, int tasks, cm_stage_plan *plan)
{
    memset(plan, 0, sizeof *plan);
    if (def->plan) {
        def->plan(opts, tasks, plan);
        return;
    }
    for (int i = 0; i < def->n_steps && plan->n < CM_STAGE_PLAN_MAX; i++) {
        plan->step[plan->n] = &def->steps[i];
        plan->tasks[plan->n++] = def->steps[i].split == CM_SPLIT_ONE ? 1 : tasks;
    }
}

/* The verdict on a whole step once every task of it has finished (0 when it
 * has none, or has not finished). */
static int judge_step(const cm_stage_step *step, const cm_stage_task *t, cm_err *err)
{
    const char *out = t->cfg->output.dir;
    if (!step->stage_verdict || cm_stage_finished(out, step->marker, NULL)) return 0;
    cm_task_stats sum;
    cm_task_stats_init(&sum);
    int tasks = 0;
    int rc = cm_stage_load(out, step->marker, &sum, &tasks, err);
    if (rc == 0) rc = step->stage_verdict(t, &sum, err);
    cm_task_stats_free(&sum);
    return rc;
}

/* The source stage's verdict: a step that reads it must not go on while
 * the source, as a whole, fails its gate. */
static int judge_source(const cm_stage_task *t, cm_err *err)
{
    if (!t->source_def || !t->source) return 0;
    for (int i = 0; i < t->source_def->n_steps; i++) {
        const cm_stage_step *s = &t->source_def->steps[i];
        if (!strcmp(s->marker, t->source) && judge_step(s, t, err)) return -1;
    }
    return 0;
}

/* The split and the steps that must come first. */
static int check_task(const cm_stage_def *def, const cm_stage_step *step, const cm_stage_task *t, cm_err *err)
{
    const char *out = t->cfg->output.dir;
    const char *label = step->name ? step->name : "";
    if (t->task < 0 || t->tasks < 1 || t->task >= t->tasks) return cm_usagef(err, "--task must be in [0, --tasks)");
    if (step->split == CM_SPLIT_ONE && t->tasks != 1)
        return cm_usagef(err, "%s%s%s is one task (--tasks 1): it needs everything at once", def->command,
                         *label ? " " : "", label);
    if (step->split == CM_SPLIT_SOURCE && t->source) {
        int before = cm_stage_tasks(out, t->source);
        if (before == 0)
            return cm_usagef(err, "%s has no %s output for %s%s%s (run %s first)", out, t->source, def->command,
                             *label ? " " : "", label, t->source);
        if (before != t->tasks)
            return cm_usagef(err, "%s ran in %d tasks; %s%s%s must use --tasks %d", t->source, before, def->command,
                             *label ? " " : "", label, before);
        cm_path path = cm_marker_path(out, t->source, t->task);
        if (!cm_path_exists(path.s))
            return cm_usagef(err, "%s task %d has not finished (no %s)", t->source, t->task, path.s);
    }
    if (step->needs_source_done && t->source) {
        if (cm_stage_tasks(out, t->source) == 0)
            return cm_usagef(err, "%s has no %s output for %s (run %s first)", out, t->source, def->command, t->source);
        if (cm_stage_finished(out, t->source, err)) return cm_err_usage(err);
    }
    for (int i = 0; i < CM_STAGE_MAX_AFTER && step->after[i]; i++)
        if (cm_stage_finished(out, step->after[i], err)) return cm_err_usage(err);
    return judge_source(t, err);
}

int cm_stage_run_task(const cm_stage_def *def, const cm_stage_step *step, const cm_stage_task *t, cm_task_stats *st,
                      int *already_done, cm_err *err)
{
    double t0 = cm_now();
    const cm_config *cfg = t->cfg;
    const char *out = cfg->output.dir;
    *already_done = 0;
    if (check_task(def, step, t, err)) return -1;
    /* a changed split of a started step is refused (its files would mix) */
    char fingerprint[17];
    if (!strcmp(def->reads, "input")) cm_stage_fingerprint(cfg, fingerprint);
    else fingerprint_after_clean(cfg, fingerprint);
    if (cm_prepare_out_dir(out, err) || cm_mkdirs_under(out, "stats", err) ||
        cm_stage_claim(out, step->marker, t->tasks, fingerprint, t->force, err))
        return cm_err_usage(err);
    cm_path marker = cm_marker_path(out, step->marker, t->task);
    if (!t->force && cm_path_exists(marker.s)) {
        *already_done = 1;
        cm_task_stats_read(marker.s, st, NULL);
        return judge_step(step, t, err);
    }
    int rc = step->run(t, st, err);
    snprintf(st->stage, sizeof st->stage, "%s", step->marker);
    st->task = t->task;
    st->tasks = t->tasks;
    st->seconds = cm_now() - t0;
    st->peak_rss_kb = cm_peak_rss_kb();
    if (rc) return -1;
    if (step->stats) {
        cm_path path = cm_stats_path(out, step->marker, t->task);
        if (cm_task_stats_write(st, path.s, err)) return -1;
        cm_summary_write(out, NULL);
    }
    /* the verdict gates the marker only: the counts stay written */
    if (step->verdict && step->verdict(t, st, err)) return -1;
    if (cm_task_stats_write(st, marker.s, err)) return -1;
    return judge_step(step, t, err);
}
