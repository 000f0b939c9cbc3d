/* plan.c -- the pipeline's steps and their task counts (see plan.h). */
#include "plan.h"

#include <stdio.h>

#include "../dedup/dedup.h"

static void add(cm_plan_step *steps, int *n, const char *verb, const char *step, const char *marker, int tasks)
{
    cm_plan_step *s = &steps[(*n)++];
    s->verb = verb;
    s->step = step;
    s->marker = marker;
    s->tasks = tasks;
    snprintf(s->label, sizeof s->label, "%s%s%s", verb, step ? " " : "", step ? step : "");
}

int cm_plan_build(const cm_config *cfg, int tasks, cm_plan_step *steps)
{
    int n = 0;
    add(steps, &n, "clean", NULL, "clean", tasks);
    if (cfg->dedup.enabled) {
        /* signatures and filter follow clean's split; buckets are split by
         * bands; the clusters need every candidate pair at once */
        add(steps, &n, "dedup", "signatures", "dedup_signatures", tasks);
        add(steps, &n, "dedup", "buckets", "dedup_buckets", cm_dedup_bucket_tasks(cfg));
        add(steps, &n, "dedup", "clusters", "dedup_clusters", 1);
        add(steps, &n, "dedup", "filter", "dedup", tasks);
    }
    if (cfg->embed.enabled) {
        add(steps, &n, "embed", NULL, "embed", tasks);
        if (cfg->index.enabled) {
            if (tasks == 1) {
                add(steps, &n, "index", NULL, "index", 1);
            } else { /* train on a sample, add in shards, merge */
                add(steps, &n, "index", "train", "index_train", 1);
                add(steps, &n, "index", "add", "index_add", tasks);
                add(steps, &n, "index", "merge", "index", 1);
            }
        }
        if (cfg->pretrain.enabled) add(steps, &n, "pretrain", NULL, "pretrain", 1);
    }
    if (cfg->decontam.enabled) add(steps, &n, "decontaminate", NULL, "decontam", 1);
    return n;
}
