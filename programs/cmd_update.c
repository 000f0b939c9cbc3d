/* cmd_update.c -- a knowledge base changed without a rebuild
 * (index/rag_update.h):
 *   corpusmill index update RAG_DIR CONFIG [--input PATH]... [--delete ID]...
 *   corpusmill index compact RAG_DIR
 * update runs the config's clean, dedup and embed stages on the new
 * documents, in this process, into a work folder inside RAG_DIR, then
 * hands their chunks and vectors to the library's update. */
#define _GNU_SOURCE
#include "program.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../index/rag_update.h"
#include "../pipeline/progress.h"
#include "../pipeline/stats.h"

const char cm_update_usage[] =
    "usage: corpusmill index update RAG_DIR CONFIG [--input PATH]... [--delete ID]... [--progress M]\n"
    "       corpusmill index compact RAG_DIR\n"
    "\n"
    "update adds the documents of --input to the export RAG_DIR (cleaned,\n"
    "deduplicated among themselves and embedded by CONFIG's clean, dedup and\n"
    "embed sections: the export's own recipe and model) and deletes the\n"
    "documents whose id is given with --delete; a document added under an id\n"
    "the export has replaces it. It writes the export's next generation of files\n"
    "and then switches manifest.json to them: `serve` and other readers see the\n"
    "old export or the new one, never a mix. The BM25 index is rebuilt from the\n"
    "chunk store (the same scores as an export built in one go); an HNSW index\n"
    "keeps deleted vectors as tombstones that search skips until `index\n"
    "compact` rebuilds it.\n";

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void remove_tree(const char *dir) { nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS); }

/* Every step of the named stages of cfg, one task each, in this process;
 * stages cfg does not enable are passed over. */
int cm_run_stages_here(const cm_config *cfg, const char *const *names, int n, cm_err *err)
{
    for (int s = 0; s < n; s++) {
        const cm_stage_def *def = cm_stage_by_command(names[s]);
        if (!def || !cm_stage_enabled(cfg, def)) continue;
        cm_stage_plan plan;
        cm_stage_plan_make(def, cm_config_options(cfg, def->name), 1, &plan);
        for (int i = 0; i < plan.n; i++) {
            cm_stage_task task = {.cfg = cfg, .opts = cm_config_options(cfg, def->name), .task = 0, .tasks = 1,
                                  .threads = 0};
            cm_stage_sources(cfg, def, &task);
            cm_task_stats st;
            cm_task_stats_init(&st);
            int done = 0, rc = cm_stage_run_task(def, plan.step[i], &task, &st, &done, err);
            cm_task_stats_free(&st);
            if (rc) return rc;
        }
    }
    return 0;
}

/* The stages clean, dedup and embed of cfg; embed is required. */
static int run_recipe(const cm_config *cfg, cm_err *err)
{
    static const char *const names[] = {"clean", "dedup", "embed"};
    const cm_stage_def *embed = cm_stage_by_command("embed");
    if (!embed || !cm_stage_enabled(cfg, embed))
        return cm_usagef(err, "the config has no embed section: an update needs the export's recipe");
    return cm_run_stages_here(cfg, names, 3, err);
}

static void print_stats(const char *what, const cm_rag_update_stats *st)
{
    fprintf(stderr,
            "corpusmill: index %s: generation %ld, %llu chunks (%llu added, %llu deleted of %llu documents), "
            "%llu tombstones, %.2f s\n",
            what, st->generation, (unsigned long long)st->chunks, (unsigned long long)st->chunks_added,
            (unsigned long long)st->chunks_deleted, (unsigned long long)st->documents_deleted,
            (unsigned long long)st->tombstones, st->seconds);
}

int cm_cmd_update(int argc, char **argv)
{
    static const char command[] = "index update";
    const char *pos[2] = {NULL, NULL};
    cm_arg_list inputs = {NULL, 0}, deletes = {NULL, 0};
    int progress[2] = {CM_PROGRESS_NONE, 2};
    const cm_arg opts[] = {
        {"--input", NULL, CM_ARG_STRINGS, &inputs, 0, 0, NULL, NULL},
        {"--delete", NULL, CM_ARG_STRINGS, &deletes, 0, 0, NULL, NULL},
        {"--progress", NULL, CM_ARG_PARSE, progress, 0, 0, cm_parse_progress, "auto, bar, log, none or fd:N"},
        {NULL, NULL, 0, NULL, 0, 0, NULL, NULL},
    };
    static const char *const names[] = {"RAG_DIR", "CONFIG"};
    cm_args a = {command, cm_update_usage, opts, pos, names, 2, 2};
    int help, rc = cm_args_parse(&a, argc, argv, &help);
    if (rc || help) goto out;
    if (!inputs.n && !deletes.n) {
        rc = cm_usage_error(command, cm_update_usage, "nothing to do: give --input PATH or --delete ID");
        goto out;
    }
    cm_err err;
    char work[4400];
    snprintf(work, sizeof work, "%s/update.work", pos[0]);
    remove_tree(work);
    cm_config *cfg = NULL;
    if (inputs.n) {
        if (!(cfg = cm_job_config(pos[1], &inputs, work, progress))) { rc = CM_EXIT_USAGE; goto out; }
        if (run_recipe(cfg, &err)) {
            rc = cm_fail(command, &err);
            cm_config_free(cfg);
            remove_tree(work);
            goto out;
        }
    }
    cm_rag_update_stats st;
    if (cm_rag_update(pos[0], inputs.n ? work : NULL, deletes.items, deletes.n, &st, &err)) rc = cm_fail(command, &err);
    else {
        print_stats("update", &st);
        if (st.missing) fprintf(stderr, "corpusmill: index update: %zu of the ids to delete were not in the export\n", st.missing);
    }
    cm_config_free(cfg);
    remove_tree(work);
out:
    cm_arg_list_free(&inputs);
    cm_arg_list_free(&deletes);
    return rc;
}

int cm_cmd_compact(int argc, char **argv)
{
    static const char command[] = "index compact";
    const char *dir = NULL;
    const cm_arg opts[] = {{NULL, NULL, 0, NULL, 0, 0, NULL, NULL}};
    static const char *const names[] = {"RAG_DIR"};
    cm_args a = {command, cm_update_usage, opts, &dir, names, 1, 1};
    int help, rc = cm_args_parse(&a, argc, argv, &help);
    if (rc || help) return rc;
    cm_err err;
    cm_rag_update_stats st;
    if (cm_rag_compact(dir, &st, &err)) return cm_fail(command, &err);
    if (!st.chunks_deleted) fprintf(stderr, "corpusmill: index compact: %s has no tombstones: nothing to do\n", dir);
    else print_stats("compact", &st);
    return CM_EXIT_OK;
}
