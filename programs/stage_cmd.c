/* stage_cmd.c -- the stage commands, one task of one step:
 *   corpusmill STAGE [STEP] CONFIG --task I --tasks N [--input PATH]...
 *              [--out DIR] [--threads T] [--progress M] [--force]
 * for every stage of the table (clean, dedup STEP, embed, index [STEP],
 * pretrain, decontaminate): the arguments and the config, then the
 * library's runner (pipeline/stage.h), then one line on how it went. */
#include "program.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../pipeline/progress.h"

/* The step named by argv[0] when it is one of def's, else def's default
 * step; NULL (with a message printed) when def has no default step. */
static const cm_stage_step *pick_step(const cm_stage_def *def, int *argc, char ***argv)
{
    if (*argc > 0) {
        for (int i = 0; i < def->n_steps; i++)
            if (def->steps[i].name && !strcmp((*argv)[0], def->steps[i].name)) {
                (*argc)--;
                (*argv)++;
                return &def->steps[i];
            }
    }
    const cm_stage_step *s = cm_stage_step_find(def, NULL);
    if (!s) {
        char names[256] = "";
        for (int i = 0; i < def->n_steps; i++)
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? ", " : "", def->steps[i].name);
        if (*argc < 1) cm_usage_error(def->command, def->usage, "a STEP is required (%s)", names);
        else cm_usage_error(def->command, def->usage, "unknown %s step '%s' (%s)", def->command, (*argv)[0], names);
    }
    return s;
}

/* The task count when --tasks is not given: one for a step that sees
 * everything, the source's split for a step that follows it, else run.tasks. */
static int default_tasks(const cm_config *cfg, const cm_stage_step *step, const char *source)
{
    if (step->split == CM_SPLIT_ONE) return 1;
    if (step->split == CM_SPLIT_SOURCE && source) {
        int n = cm_stage_tasks(cfg->output.dir, source);
        if (n > 0) return n;
    }
    return cfg->run.tasks;
}

/* What a finished task did, in the stage's own words. */
static void describe(const cm_stage_def *def, const cm_task_stats *st, cm_buf *b)
{
    const cm_counts *c = &st->counts;
    unsigned long long read = c->read, kept = c->kept, removed = cm_reasons_total(&c->removed);
    if (!strcmp(def->name, "embed")) {
        cm_buf_appendf(b, "%llu documents, %llu chunks, %llu vectors", kept,
                       (unsigned long long)cm_reasons_get(&st->outputs, "chunks"),
                       (unsigned long long)cm_reasons_get(&st->outputs, "vectors"));
    } else if (!strcmp(def->name, "pretrain")) {
        cm_buf_appendf(b, "%llu documents in %llu clusters", kept, (unsigned long long)cm_reasons_get(&st->outputs, "clusters"));
    } else if (!strcmp(def->name, "decontam")) {
        cm_buf_appendf(b, "%llu of %llu documents share an n-gram with %llu evaluation items%s",
                       (unsigned long long)cm_reasons_get(&st->outputs, "contaminated"), read,
                       (unsigned long long)cm_reasons_get(&st->outputs, "eval_items"), removed ? " (removed)" : "");
    } else if (!strcmp(def->name, "index")) {
        cm_buf_appendf(b, "%llu chunks", kept);
    } else {
        cm_buf_appendf(b, "read %llu, kept %llu, removed %llu, malformed %llu", read, kept, removed,
                       (unsigned long long)c->malformed);
    }
}

int cm_cmd_stage(const cm_stage_def *def, int argc, char **argv)
{
    if (argc > 0 && (!strcmp(argv[0], "-h") || !strcmp(argv[0], "--help"))) {
        fputs(def->usage, stdout);
        return CM_EXIT_OK;
    }
    const cm_stage_step *step = pick_step(def, &argc, &argv);
    if (!step) return CM_EXIT_USAGE;
    const char *config = NULL, *out = NULL;
    cm_arg_list inputs = {NULL, 0};
    long task = 0, tasks = 0, threads = 0;
    int force = 0, progress[2] = {CM_PROGRESS_AUTO, STDERR_FILENO};
    const cm_arg opts[] = {
        {"--input", NULL, CM_ARG_STRINGS, &inputs, 0, 0, NULL, NULL},
        {"--out", NULL, CM_ARG_STRING, &out, 0, 0, NULL, NULL},
        {"--task", NULL, CM_ARG_LONG, &task, 0, 1000000, NULL, "a non-negative integer"},
        {"--tasks", NULL, CM_ARG_LONG, &tasks, 1, 1000000, NULL, "at least 1"},
        {"--threads", NULL, CM_ARG_LONG, &threads, 0, 1024, NULL, NULL},
        {"--progress", NULL, CM_ARG_PARSE, progress, 0, 0, cm_parse_progress, "auto | bar | log | none | fd:N"},
        {"--force", NULL, CM_ARG_FLAG, &force, 0, 0, NULL, NULL},
        {NULL, NULL, 0, NULL, 0, 0, NULL, NULL},
    };
    static const char *const names[] = {"a CONFIG file"};
    cm_args a = {def->command, def->usage, opts, &config, names, 1, 1};
    int help, rc = cm_args_parse(&a, argc, argv, &help);
    if (rc || help) { cm_arg_list_free(&inputs); return rc; }

    cm_config *cfg = cm_job_config(config, &inputs, out, progress);
    cm_arg_list_free(&inputs);
    if (!cfg) return CM_EXIT_USAGE;
    cm_err err;
    if (strcmp(def->reads, "input") && !cm_config_has(cfg, def->name)) {
        fprintf(stderr, "corpusmill: %s has no %s section\n", config, def->name);
        cm_config_free(cfg);
        return CM_EXIT_USAGE;
    }

    char label[64];
    snprintf(label, sizeof label, "%s%s%s", def->command, step->name ? " " : "", step->name ? step->name : "");
    cm_stage_task t = {.cfg = cfg, .opts = cm_config_options(cfg, def->name), .task = (int)task, .threads = (int)threads,
                       .force = force, .log = cm_stderr_log()};
    cm_stage_sources(cfg, def, &t);
    t.tasks = tasks > 0 ? (int)tasks : default_tasks(cfg, step, t.source);
    cm_task_stats st;
    cm_task_stats_init(&st);
    int done = 0;
    if (cm_stage_run_task(def, step, &t, &st, &done, &err)) {
        fprintf(stderr, "corpusmill: %s task %d: %s\n", label, t.task, err.msg);
        rc = cm_exit_status(&err);
    } else if (done) {
        fprintf(stderr, "corpusmill: %s task %d of %d already finished (--force to run it again)\n", label, t.task,
                t.tasks);
    } else if (progress[0] != CM_PROGRESS_FD) {
        cm_buf b;
        cm_buf_init(&b);
        describe(def, &st, &b);
        fprintf(stderr, "corpusmill: %s task %d of %d: %s in %.2f s\n", label, t.task, t.tasks, b.data, st.seconds);
        cm_buf_free(&b);
    }
    cm_task_stats_free(&st);
    cm_config_free(cfg);
    return rc;
}
