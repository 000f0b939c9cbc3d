/* index_stage.c -- the index stage's steps, markers and stats around the
 * RAG export (see index_stage.h). */
#include "index_stage.h"

#include <stdio.h>
#include <string.h>

#include "../pipeline/clean.h"
#include "../pipeline/stage.h"
#include "rag.h"

/* Every task of stage has its marker. */
static int stage_finished(const char *out, const char *stage, int tasks, cm_err *err)
{
    char path[4400];
    for (int t = 0; t < tasks; t++) {
        snprintf(path, sizeof path, "%s/_done/%s/%05d", out, stage, t);
        if (!cm_path_exists(path)) return cm_errorf(err, "%s task %d has not finished (no %s)", stage, t, path);
    }
    return 0;
}

int cm_index_step(const cm_config *cfg, const char *step, int task, int tasks, int force, cm_task_stats *st,
                  int *already_done, cm_err *err)
{
    double t0 = cm_now();
    *already_done = 0;
    const char *out = cfg->output.dir;
    int which = !step ? 0 : !strcmp(step, "train") ? 1 : !strcmp(step, "add") ? 2 : !strcmp(step, "merge") ? 3 : -1;
    if (which < 0) return cm_errorf(err, "unknown index step '%s' (train, add, merge)", step), CM_EXIT_USAGE;
    if (task < 0 || tasks < 1 || task >= tasks) return cm_errorf(err, "--task must be in [0, --tasks)"), CM_EXIT_USAGE;
    if (which != 2 && tasks != 1)
        return cm_errorf(err, "index %s is one task (--tasks 1); only add is split", step ? step : ""), CM_EXIT_USAGE;
    int embed_tasks = cm_stage_tasks(out, "embed");
    if (!embed_tasks) return cm_errorf(err, "%s has no embed output to index (run embed first)", out), CM_EXIT_USAGE;
    if (stage_finished(out, "embed", embed_tasks, err)) return CM_EXIT_USAGE;
    if (which == 2 || which == 3) { /* add and merge need a finished train */
        if (cm_stage_tasks(out, "index_train") == 0 || stage_finished(out, "index_train", 1, err))
            return cm_errorf(err, "index train has not finished in %s (run it first)", out), CM_EXIT_USAGE;
    }
    int shards = which == 3 ? cm_stage_tasks(out, "index_add") : 0;
    if (shards && stage_finished(out, "index_add", shards, err)) return CM_EXIT_USAGE;
    static const char *const stages[] = {"index", "index_train", "index_add", "index"};
    const char *stage = stages[which];
    char marker[4400];
    if (cm_stage_begin(cfg, stage, task, tasks, force, marker, sizeof marker, already_done, err)) return CM_EXIT_USAGE;
    if (*already_done) return CM_EXIT_OK;
    uint64_t n = 0;
    int rc;
    switch (which) {
    case 0: rc = cm_rag_export(cfg, &n, err); break;
    case 1: rc = cm_rag_train(cfg, err) ? CM_EXIT_FAILED : CM_EXIT_OK; break;
    case 2: rc = cm_rag_add(cfg, task, tasks, &n, err) ? CM_EXIT_FAILED : CM_EXIT_OK; break;
    default: rc = cm_rag_merge(cfg, shards, &n, err); break;
    }
    snprintf(st->stage, sizeof st->stage, "%s", stage);
    st->task = task;
    st->tasks = tasks;
    st->counts.read = st->counts.kept = n;
    cm_reasons_add(&st->outputs, "vectors", n);
    st->seconds = cm_now() - t0;
    st->peak_rss_kb = cm_peak_rss_kb();
    if (rc != CM_EXIT_OK) return rc;
    /* only the complete export has the stage's stats */
    return cm_stage_finish(cfg, which == 0 || which == 3 ? "index" : NULL, st, marker, err) ? CM_EXIT_FAILED : CM_EXIT_OK;
}
