/* clean_stage.h -- the `clean` stage: read a task's share of the input,
 * normalize and filter every record (the steps of filters/registry.c), write
 * kept / rejected / malformed records and the task's stats.
 *
 * Data path: reader thread (source -> format -> batches) -> worker threads
 * (parse -> steps -> serialize -> compress) -> the task's thread (writes
 * parts in batch order, so output is the same at any thread count). */
#ifndef CM_CLEAN_STAGE_H
#define CM_CLEAN_STAGE_H

#include "../pipeline/conf.h"
#include "../pipeline/stage.h"
#include "signals.h"

typedef enum cm_bad_utf8 { CM_UTF8_REPLACE, CM_UTF8_QUARANTINE } cm_bad_utf8;

/* The `clean` section. */
typedef struct cm_clean_options {
    int invalid_utf8;       /* cm_bad_utf8                              default: replace */
    cm_signal_opts signals; /* how signals are computed and stored       see filters/signals.c */
    const cm_conf *steps;   /* the steps list (NULL: normalize only); points into the config's tree */
} cm_clean_options;

/* The stage's descriptor (pipeline/stage.h): one step, split over input
 * files, its counts gated by max_malformed_fraction and on_error. */
extern const cm_stage_def cm_stage_clean;

#endif
