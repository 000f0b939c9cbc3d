/* stage.c -- the stage manifest (see stage.h). */
#define _GNU_SOURCE
#include "stage.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#include "json.h"

void cm_stage_fingerprint(const cm_config *cfg, char out[17])
{
    XXH3_state_t *st = XXH3_createState();
    XXH3_64bits_reset(st);
    cm_buf b;
    cm_buf_init(&b);
    if (cm_read_file(cfg->path, &b, 16u << 20, NULL) == 0) XXH3_64bits_update(st, b.data, b.len);
    cm_buf_free(&b);
    for (size_t i = 0; i < cfg->input.n_paths; i++) {
        XXH3_64bits_update(st, "\0", 1);
        XXH3_64bits_update(st, cfg->input.paths[i], strlen(cfg->input.paths[i]));
    }
    snprintf(out, 17, "%016llx", (unsigned long long)XXH3_64bits_digest(st));
    XXH3_freeState(st);
}

typedef struct manifest {
    int tasks;
    char fingerprint[17];
} manifest;

static int manifest_visit(void *user, const char *const *path, int depth, cm_json_type type, double num,
                          const char *str, size_t len)
{
    manifest *m = user;
    if (depth != 1) return 0;
    if (!strcmp(path[0], "tasks") && type == CM_JSON_NUMBER) m->tasks = (int)num;
    if (!strcmp(path[0], "fingerprint") && type == CM_JSON_STRING)
        snprintf(m->fingerprint, sizeof m->fingerprint, "%.*s", (int)len, str);
    return 0;
}

static int read_manifest(const char *path, manifest *m, cm_err *err)
{
    cm_buf b;
    cm_buf_init(&b);
    memset(m, 0, sizeof *m);
    int rc = cm_read_file(path, &b, 1u << 20, err);
    if (rc == 0) rc = cm_json_visit(b.data, b.len, manifest_visit, m, err);
    cm_buf_free(&b);
    return rc;
}

int cm_stage_claim(const char *out_dir, const char *stage, int tasks, const char *fingerprint, int force, cm_err *err)
{
    char path[4200], tmp[4300], body[256];
    snprintf(path, sizeof path, "%s/_done/%s/_run.json", out_dir, stage);
    snprintf(body, sizeof body, "{\"stage\": \"%s\", \"tasks\": %d, \"fingerprint\": \"%s\"}\n", stage, tasks, fingerprint);
    for (int attempt = 0; attempt < 2; attempt++) {
        if (cm_path_exists(path)) {
            manifest m;
            if (read_manifest(path, &m, err)) return -1;
            if (m.tasks != tasks)
                return cm_errorf(err,
                                 "%s already holds %s results split into %d tasks; this run asks for %d. "
                                 "Use --tasks %d, or a new --out",
                                 out_dir, stage, m.tasks, tasks, m.tasks);
            if (strcmp(m.fingerprint, fingerprint) != 0) {
                if (!force)
                    return cm_errorf(err,
                                     "%s holds %s results made with another config or input; use a new --out, "
                                     "or --force to redo every task",
                                     out_dir, stage);
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

int cm_stage_tasks(const char *out_dir, const char *stage)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/_done/%s/_run.json", out_dir, stage);
    manifest m;
    if (!cm_path_exists(path) || read_manifest(path, &m, NULL)) return 0;
    return m.tasks;
}

int cm_stage_begin(const cm_config *cfg, const char *stage, int task, int tasks, int force, char *marker, size_t cap,
                   int *done, cm_err *err)
{
    const char *out = cfg->output.dir;
    char sub[128], fingerprint[17];
    *done = 0;
    snprintf(sub, sizeof sub, "_done/%s", stage);
    if (cm_mkdirs_under(out, sub, err) || cm_mkdirs_under(out, "stats", err)) return -1;
    cm_stage_fingerprint(cfg, fingerprint);
    if (cm_stage_claim(out, stage, tasks, fingerprint, force, err)) return -1;
    snprintf(marker, cap, "%s/_done/%s/%05d", out, stage, task);
    *done = !force && cm_path_exists(marker);
    return 0;
}

int cm_stage_finish(const cm_config *cfg, const char *stats_name, const cm_task_stats *st, const char *marker,
                    cm_err *err)
{
    if (stats_name) {
        char path[4400];
        snprintf(path, sizeof path, "%s/stats/%s-%05d.json", cfg->output.dir, stats_name, st->task);
        if (cm_task_stats_write(st, path, err)) return -1;
        cm_summary_write(cfg->output.dir, NULL);
    }
    return cm_task_stats_write(st, marker, err);
}
