/* clean.h -- the `clean` stage: read a task's share of the input, normalize
 * and filter every record, write kept / rejected / malformed records and the
 * task's stats.
 *
 * Data path: reader thread (source -> format -> batches) -> worker threads
 * (parse -> steps -> serialize -> compress) -> this thread (writes parts in
 * batch order, so output is the same at any thread count). */
#ifndef CM_CLEAN_H
#define CM_CLEAN_H

#include "config.h"
#include "stats.h"

typedef struct cm_clean_opts {
    int task, tasks;
    int threads;        /* worker threads; 0: from the config, else cores */
    int progress;       /* cm_progress_mode */
    int progress_fd;    /* for CM_PROGRESS_FD */
    int force;          /* run even when the task's done marker exists */
} cm_clean_opts;

/* Exit statuses, as the CLI returns them. */
#define CM_EXIT_OK 0
#define CM_EXIT_FAILED 1 /* the work failed: too many malformed records, on_error: fail, an I/O error */
#define CM_EXIT_USAGE 2  /* bad usage or config, missing input, unwritable output */

/* Runs one task. Returns a CM_EXIT_* status; err says why when not OK.
 * stats (initialized by the caller) receives the task's counts. When the
 * task already finished (its marker exists), does nothing and sets
 * *already_done. */
int cm_clean_task(const cm_config *cfg, const cm_clean_opts *opts, cm_task_stats *stats, int *already_done,
                  cm_err *err);

/* The output-directory checks every stage does before work starts. */
int cm_prepare_out_dir(const char *out, cm_err *err);

#endif
