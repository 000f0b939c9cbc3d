/* plan.h -- the pipeline as a list of steps, in the order they run, each
 * with its task count: what `corpusmill run` executes one step after the
 * other and `corpusmill launch slurm` turns into chained job arrays. Which
 * steps there are follows the config's sections. */
#ifndef CM_PLAN_H
#define CM_PLAN_H

#include "config.h"

#define CM_PLAN_MAX 16

typedef struct cm_plan_step {
    const char *verb;   /* the command: clean, dedup, embed, index, pretrain, decontaminate */
    const char *step;   /* its step, or NULL: signatures, buckets, clusters, filter, train, add, merge */
    const char *marker; /* its folder under OUT/_done/ (what status and the markers call it) */
    char label[32];     /* "dedup signatures" */
    int tasks;          /* 1 for the steps that see everything at once */
} cm_plan_step;

/* Fills steps (CM_PLAN_MAX) for a run split into `tasks`; returns how many. */
int cm_plan_build(const cm_config *cfg, int tasks, cm_plan_step *steps);

#endif
