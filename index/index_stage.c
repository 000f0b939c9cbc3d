/* index_stage.c -- the index stage's markers and stats around the RAG
 * export (see index_stage.h). */
#include "index_stage.h"

#include <stdio.h>

#include "../pipeline/clean.h"
#include "../pipeline/stage.h"
#include "rag.h"

int cm_index_task(const cm_config *cfg, int force, cm_task_stats *st, int *already_done, cm_err *err)
{
    double t0 = cm_now();
    *already_done = 0;
    const char *out = cfg->output.dir;
    int embed_tasks = cm_stage_tasks(out, "embed");
    if (!embed_tasks) return cm_errorf(err, "%s has no embed output to index (run embed first)", out), CM_EXIT_USAGE;
    char path[4400];
    for (int t = 0; t < embed_tasks; t++) {
        snprintf(path, sizeof path, "%s/_done/embed/%05d", out, t);
        if (!cm_path_exists(path)) return cm_errorf(err, "embed task %d has not finished (no %s)", t, path), CM_EXIT_USAGE;
    }
    if (cm_mkdirs_under(out, "_done/index", err) || cm_mkdirs_under(out, "stats", err)) return CM_EXIT_USAGE;
    char fingerprint[17];
    cm_stage_fingerprint(cfg, fingerprint);
    if (cm_stage_claim(out, "index", 1, fingerprint, force, err)) return CM_EXIT_USAGE;
    char marker[4400];
    snprintf(marker, sizeof marker, "%s/_done/index/00000", out);
    if (!force && cm_path_exists(marker)) {
        *already_done = 1;
        return CM_EXIT_OK;
    }
    uint64_t chunks = 0;
    int rc = cm_rag_export(cfg, &chunks, err);
    snprintf(st->stage, sizeof st->stage, "index");
    st->task = 0;
    st->tasks = 1;
    st->counts.read = st->counts.kept = chunks;
    cm_reasons_add(&st->outputs, "vectors", chunks);
    st->seconds = cm_now() - t0;
    st->peak_rss_kb = cm_peak_rss_kb();
    if (rc != CM_EXIT_OK) return rc;
    snprintf(path, sizeof path, "%s/stats/index-00000.json", out);
    if (cm_task_stats_write(st, path, err)) return CM_EXIT_FAILED;
    cm_summary_write(out, NULL);
    if (cm_task_stats_write(st, marker, err)) return CM_EXIT_FAILED;
    return CM_EXIT_OK;
}
