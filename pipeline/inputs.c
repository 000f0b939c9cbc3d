/* inputs.c -- expands input paths into the run's sorted file list. */
#define _GNU_SOURCE
#include "inputs.h"

#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "format.h"

static void add_file(cm_input_list *l, size_t *cap, const char *path, size_t rel_off, uint64_t size)
{
    if (l->n == *cap) {
        *cap = *cap ? *cap * 2 : 64;
        l->files = cm_realloc(l->files, *cap * sizeof *l->files);
    }
    cm_input_file *f = &l->files[l->n++];
    f->path = cm_strdup(path);
    f->rel = f->path + rel_off;
    f->size = size;
}

static int cmp_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Walks dir; rel_off is where paths below the named root start. */
static int walk(cm_input_list *l, size_t *cap, const char *dir, size_t rel_off, int format, int depth, cm_err *err)
{
    if (depth > 64) return cm_errorf(err, "%s: directories nested too deeply", dir);
    DIR *d = opendir(dir);
    if (!d) return cm_errorf(err, "%s: cannot read directory: %s", dir, strerror(errno));
    char **names = NULL;
    size_t n = 0, ncap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue; /* ., .., hidden files */
        if (n == ncap) { ncap = ncap ? ncap * 2 : 32; names = cm_realloc(names, ncap * sizeof *names); }
        names[n++] = cm_strdup(e->d_name);
    }
    closedir(d);
    if (n) qsort(names, n, sizeof *names, cmp_name);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        size_t len = strlen(dir) + strlen(names[i]) + 2;
        char *p = cm_malloc(len);
        snprintf(p, len, "%s/%s", dir, names[i]);
        struct stat lst, st;
        if (lstat(p, &lst) == 0) {
            int is_link = S_ISLNK(lst.st_mode);
            if (stat(p, &st) != 0) {
                /* a dangling link or a link loop: say so, skip it */
                l->skipped++;
                if (!l->first_skipped) l->first_skipped = cm_strdup(p);
            } else if (S_ISDIR(st.st_mode)) {
                if (!is_link) rc = walk(l, cap, p, rel_off, format, depth + 1, err);
            } else if (S_ISREG(st.st_mode)) {
                if (cm_format_claims(format, names[i])) add_file(l, cap, p, rel_off, (uint64_t)st.st_size);
                else {
                    l->skipped++;
                    if (!l->first_skipped) l->first_skipped = cm_strdup(p);
                }
            }
        }
        free(p);
    }
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    return rc;
}

static int cmp_file(const void *a, const void *b)
{
    return strcmp(((const cm_input_file *)a)->path, ((const cm_input_file *)b)->path);
}

/* Strips trailing slashes (but keeps "/"). */
static char *clean_path(const char *p)
{
    char *c = cm_strdup(p);
    size_t n = strlen(c);
    while (n > 1 && c[n - 1] == '/') c[--n] = 0;
    return c;
}

static int add_path(cm_input_list *l, size_t *cap, const char *path, int format, cm_err *err)
{
    struct stat st;
    if (stat(path, &st) != 0) return cm_errorf(err, "input '%s' does not exist: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode)) return walk(l, cap, path, strlen(path) + 1, format, 0, err);
    if (!S_ISREG(st.st_mode)) return cm_errorf(err, "input '%s' is not a regular file or directory", path);
    const char *slash = strrchr(path, '/');
    add_file(l, cap, path, slash ? (size_t)(slash - path) + 1 : 0, (uint64_t)st.st_size);
    return 0;
}

int cm_inputs_expand(char *const *paths, size_t n, int format, cm_input_list *out, cm_err *err)
{
    memset(out, 0, sizeof *out);
    size_t cap = 0;
    if (n == 0) return cm_errorf(err, "no input: give input.paths in the config or --input");
    for (size_t i = 0; i < n; i++) {
        char *p = clean_path(paths[i]);
        int rc;
        if (strpbrk(p, "*?[")) {
            glob_t g;
            int gr = glob(p, GLOB_ERR, NULL, &g);
            if (gr == GLOB_NOMATCH) rc = cm_errorf(err, "input '%s' matches no file", p);
            else if (gr != 0) rc = cm_errorf(err, "input '%s': cannot expand the pattern", p);
            else {
                rc = 0;
                for (size_t k = 0; k < g.gl_pathc && rc == 0; k++) rc = add_path(out, &cap, g.gl_pathv[k], format, err);
            }
            if (gr == 0) globfree(&g);
        } else {
            rc = add_path(out, &cap, p, format, err);
        }
        free(p);
        if (rc) { cm_inputs_free(out); return -1; }
    }
    if (out->n) qsort(out->files, out->n, sizeof *out->files, cmp_file);
    /* drop duplicates (the same file named twice) */
    size_t w = 0;
    for (size_t i = 0; i < out->n; i++) {
        if (w > 0 && strcmp(out->files[w - 1].path, out->files[i].path) == 0) { free(out->files[i].path); continue; }
        out->files[w++] = out->files[i];
    }
    out->n = w;
    if (out->n == 0) {
        cm_errorf(err, "the inputs hold no file that format reads (%llu skipped, e.g. %s)",
                  (unsigned long long)out->skipped, out->first_skipped ? out->first_skipped : "none");
        cm_inputs_free(out);
        return -1;
    }
    return 0;
}

void cm_inputs_free(cm_input_list *l)
{
    for (size_t i = 0; i < l->n; i++) free(l->files[i].path);
    free(l->files);
    free(l->first_skipped);
    memset(l, 0, sizeof *l);
}

size_t cm_inputs_task_share(const cm_input_list *l, int task, int tasks, size_t *indexes, size_t cap)
{
    size_t k = 0;
    for (size_t i = (size_t)task; i < l->n && k < cap; i += (size_t)tasks) indexes[k++] = i;
    return k;
}
