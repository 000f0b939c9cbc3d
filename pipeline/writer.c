/* writer.c -- part files with atomic completion (see writer.h). */
#define _GNU_SOURCE
#include "writer.h"

#include <dirent.h>
#include <stdio.h>
#include <errno.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

void cm_part_writer_init(cm_part_writer *w, const char *dir, const char *prefix, const char *ext, uint64_t part_size)
{
    memset(w, 0, sizeof *w);
    w->dir = cm_strdup(dir);
    w->prefix = cm_strdup(prefix);
    w->ext = cm_strdup(ext);
    w->part_size = part_size;
}

static int open_part(cm_part_writer *w, cm_err *err)
{
    snprintf(w->final_path, sizeof w->final_path, "%s/%s-%04d%s", w->dir, w->prefix, w->seq, w->ext);
    snprintf(w->tmp_path, sizeof w->tmp_path, "%s.tmp", w->final_path);
    w->f = fopen(w->tmp_path, "wb");
    if (!w->f) return cm_errorf(err, "cannot write '%s': %s", w->tmp_path, strerror(errno));
    setvbuf(w->f, NULL, _IOFBF, 1 << 20);
    w->cur_raw = 0;
    return 0;
}

int cm_part_writer_close(cm_part_writer *w, cm_err *err)
{
    if (!w->f) return 0;
    int bad = fflush(w->f) != 0;
    bad |= fclose(w->f) != 0;
    w->f = NULL;
    if (bad) return cm_errorf(err, "cannot write '%s': %s", w->tmp_path, strerror(errno));
    if (rename(w->tmp_path, w->final_path) != 0)
        return cm_errorf(err, "cannot rename '%s': %s", w->tmp_path, strerror(errno));
    w->seq++;
    w->parts_done++;
    return 0;
}

int cm_part_writer_write(cm_part_writer *w, const void *data, size_t n, uint64_t raw_bytes, cm_err *err)
{
    if (n == 0) return 0;
    if (!w->f && open_part(w, err)) return -1;
    if (fwrite(data, 1, n, w->f) != n) return cm_errorf(err, "cannot write '%s': %s", w->tmp_path, strerror(errno));
    w->cur_raw += raw_bytes;
    if (w->part_size && w->cur_raw >= w->part_size) return cm_part_writer_close(w, err);
    return 0;
}

void cm_part_writer_abort(cm_part_writer *w)
{
    if (w->f) {
        fclose(w->f);
        w->f = NULL;
        unlink(w->tmp_path);
    }
}

void cm_part_writer_free(cm_part_writer *w)
{
    cm_part_writer_abort(w);
    free(w->dir);
    free(w->prefix);
    free(w->ext);
}

int cm_part_writer_flush_zstd(cm_part_writer *w, ZSTD_CCtx *cctx, cm_buf *plain, cm_buf *scratch, size_t min_bytes,
                              cm_err *err)
{
    if (!plain->len || plain->len < min_bytes) return 0;
    size_t bound = ZSTD_compressBound(plain->len);
    cm_buf_clear(scratch);
    cm_buf_reserve(scratch, bound);
    size_t z = ZSTD_compress2(cctx, scratch->data, bound, plain->data, plain->len);
    if (ZSTD_isError(z)) return cm_errorf(err, "zstd: %s", ZSTD_getErrorName(z));
    int rc = cm_part_writer_write(w, scratch->data, z, plain->len, err);
    cm_buf_clear(plain);
    return rc;
}

int cm_remove_prefixed(const char *dir, const char *prefix, cm_err *err)
{
    DIR *d = opendir(dir);
    if (!d) return 0;
    size_t pl = strlen(prefix);
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, prefix, pl) != 0) continue;
        char p[4400];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (unlink(p) != 0 && errno != ENOENT) rc = cm_errorf(err, "cannot remove '%s': %s", p, strerror(errno));
    }
    closedir(d);
    return rc;
}

static int is_temporary(const char *name)
{
    const char *t = strstr(name, ".tmp");
    if (t && (!t[4] || t[4] == '.')) return 1;
    /* _run.json.PID, _inputs.tsv.PID: a stage manifest's first writer */
    const char *dot = strrchr(name, '.');
    if (!dot || dot == name || !dot[1] || strspn(dot + 1, "0123456789") != strlen(dot + 1)) return 0;
    return !strncmp(name, "_run.json.", 10) || !strncmp(name, "_inputs.tsv.", 12);
}

static size_t remove_temporaries(const char *dir, int recurse)
{
    DIR *d = opendir(dir);
    if (!d) return 0;
    size_t removed = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char p[4400];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(p, &st) != 0) continue;
        if (S_ISDIR(st.st_mode) && recurse) removed += remove_temporaries(p, 1);
        else if (S_ISREG(st.st_mode) && is_temporary(e->d_name) && unlink(p) == 0) removed++;
    }
    closedir(d);
    return removed;
}

size_t cm_remove_stale_temporaries(const char *out)
{
    /* the folders stages write (DESIGN.md), never whatever else OUT holds */
    static const char *const folders[] = {"clean", "dedup", "rejected", "malformed", "minhash", "chunks", "embeddings",
                                          "index", "rag", "stats", "_done", "decontam", "semdedup", "slurm", NULL};
    size_t removed = remove_temporaries(out, 0);
    for (int i = 0; folders[i]; i++) {
        char p[4400];
        snprintf(p, sizeof p, "%s/%s", out, folders[i]);
        removed += remove_temporaries(p, 1);
    }
    return removed;
}

static int cmp_path(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Files in dir whose names start with prefix, sorted, as full paths. */
char **cm_list_dir(const char *dir, const char *prefix, size_t *n)
{
    *n = 0;
    DIR *d = opendir(dir);
    if (!d) return NULL;
    char **out = NULL;
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (e->d_name[0] == '.' || strncmp(e->d_name, prefix, strlen(prefix)) != 0 || (l > 4 && !strcmp(e->d_name + l - 4, ".tmp")))
            continue;
        if (*n == cap) { cap = cap ? cap * 2 : 16; out = cm_realloc(out, cap * sizeof *out); }
        size_t pl = strlen(dir) + l + 2;
        out[*n] = cm_malloc(pl);
        snprintf(out[*n], pl, "%s/%s", dir, e->d_name);
        (*n)++;
    }
    closedir(d);
    if (*n) qsort(out, *n, sizeof *out, cmp_path);
    return out;
}

void cm_free_list(char **l, size_t n)
{
    for (size_t i = 0; i < n; i++) free(l[i]);
    free(l);
}
