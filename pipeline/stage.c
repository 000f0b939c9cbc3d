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

/* Parses _inputs.tsv; 0 with the list, 1 when it was made for another
 * fingerprint, -1 when it is damaged. */
static int parse_inputs(const cm_buf *b, const char *fingerprint, cm_input_list *list)
{
    memset(list, 0, sizeof *list);
    const char *p = b->data, *end = b->data + b->len;
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    char head[64];
    snprintf(head, sizeof head, "# corpusmill inputs %s", fingerprint);
    if (!nl) return -1;
    if ((size_t)(nl - p) != strlen(head) || memcmp(p, head, strlen(head)) != 0)
        return strncmp(p, "# corpusmill inputs ", 20) == 0 ? 1 : -1;
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
    char path[4200], tmp[4300], fingerprint[17];
    cm_stage_fingerprint(cfg, fingerprint);
    snprintf(path, sizeof path, "%s/_done/clean/_inputs.tsv", out);
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
        if (cm_mkdirs_under(out, "_done/clean", err)) { cm_inputs_free(&now); cm_buf_free(&b); return -1; }
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
