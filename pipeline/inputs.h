/* inputs.h -- turns the configured input paths (files, directories, globs)
 * into the sorted list of files a run reads, and picks a task's share. */
#ifndef CM_INPUTS_H
#define CM_INPUTS_H

#include <stddef.h>
#include <stdint.h>
#include "util.h"

typedef struct cm_input_file {
    char *path;
    const char *rel;  /* points into path: the part below the directory the user named */
    uint64_t size;
} cm_input_file;

typedef struct cm_input_list {
    cm_input_file *files;
    size_t n;
    uint64_t skipped;        /* files in walked directories that no format reads */
    char *first_skipped;     /* one of them, for the message */
} cm_input_list;

/* Expands paths. Directories are walked recursively (symlinked directories
 * are not followed, so a link loop cannot trap the walk) and keep the files
 * that `format` (cm_format_kind) reads; files named directly are always
 * kept. A path that names nothing is an error. The result is sorted by path
 * and has no duplicates. */
int cm_inputs_expand(char *const *paths, size_t n, int format, cm_input_list *out, cm_err *err);
void cm_inputs_free(cm_input_list *l);

/* The files of task `task` of `tasks`: i, i + tasks, i + 2*tasks, ... */
size_t cm_inputs_task_share(const cm_input_list *l, int task, int tasks, size_t *indexes, size_t cap);

#endif
