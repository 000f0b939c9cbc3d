/* stages.c -- the table of stages, the one place that lists every stage
 * (their descriptors live beside their code: filters/clean_stage.c,
 * dedup/dedup_stage.c, embed/embed_stage.c, index/index_stage.c,
 * index/pretrain.c, index/decontam.c), and what follows from it: which
 * stages a config turns on and what each reads. */
#include "program.h"

#include <stdio.h>
#include <string.h>

#include "../dedup/dedup_stage.h"
#include "../embed/embed_stage.h"
#include "../filters/clean_stage.h"
#include "../index/decontam.h"
#include "../index/index_stage.h"
#include "../index/pretrain.h"

const cm_stage_def *const cm_stages[] = {
    &cm_stage_clean, &cm_stage_dedup, &cm_stage_embed, &cm_stage_index, &cm_stage_pretrain, &cm_stage_decontam, NULL,
};

const cm_stage_def *cm_stage_by_command(const char *command)
{
    for (size_t i = 0; cm_stages[i]; i++)
        if (!strcmp(cm_stages[i]->command, command) || !strcmp(cm_stages[i]->name, command)) return cm_stages[i];
    return NULL;
}

cm_config *cm_program_config(const char *path, cm_err *err) { return cm_config_load(path, cm_stages, err); }

cm_config *cm_job_config(const char *path, const cm_arg_list *inputs, const char *out, const int *progress)
{
    cm_err err;
    cm_config *cfg = cm_program_config(path, &err);
    if (!cfg) {
        cm_fail(NULL, &err);
        return NULL;
    }
    if (inputs && inputs->n) cm_config_set_inputs(cfg, (char **)inputs->items, inputs->n);
    if (out) cm_config_set_out(cfg, out);
    if (progress) {
        cfg->run.progress = progress[0];
        cfg->run.progress_fd = progress[1];
    }
    return cfg;
}

static const cm_stage_def *by_name(const char *name)
{
    for (size_t i = 0; cm_stages[i]; i++)
        if (!strcmp(cm_stages[i]->name, name)) return cm_stages[i];
    return NULL;
}

int cm_stage_enabled(const cm_config *cfg, const cm_stage_def *def)
{
    /* clean always runs: it is the input's way in */
    if (!strcmp(def->reads, "input")) return 1;
    if (!cm_config_has(cfg, def->name)) return 0;
    const cm_stage_def *dep = by_name(def->reads);
    return !dep || cm_stage_enabled(cfg, dep);
}

void cm_stage_sources(const cm_config *cfg, const cm_stage_def *def, cm_stage_task *t)
{
    const char **source = &t->source, **documents = &t->documents;
    *source = NULL;
    *documents = NULL;
    t->source_def = NULL;
    /* the last enabled document stage before def, and the run's last one */
    const char *before = NULL;
    int past = 0;
    for (size_t i = 0; cm_stages[i]; i++) {
        if (cm_stages[i] == def) past = 1;
        if (!cm_stages[i]->documents || !cm_stage_enabled(cfg, cm_stages[i])) continue;
        if (!past) before = cm_stages[i]->name;
        *documents = cm_stages[i]->name;
    }
    if (!strcmp(def->reads, "documents")) *source = before;
    else if (strcmp(def->reads, "input")) *source = def->reads;
    if (*source) t->source_def = by_name(*source);
}

int cm_exit_status(const cm_err *err) { return err->kind == CM_ERR_USAGE ? CM_EXIT_USAGE : CM_EXIT_FAILED; }

int cm_fail(const char *command, const cm_err *err)
{
    fprintf(stderr, "corpusmill%s%s: %s\n", command ? " " : "", command ? command : "", err->msg);
    return cm_exit_status(err);
}

static void stderr_line(void *user, const char *line)
{
    (void)user;
    fprintf(stderr, "corpusmill: %s\n", line);
}

cm_log cm_stderr_log(void) { return (cm_log){stderr_line, NULL}; }
