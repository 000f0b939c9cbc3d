/* plan.c -- the pipeline's steps and their task counts (see program.h),
 * from the table of stages: each enabled stage's plan (its descriptor's, or
 * every step), in table order. */
#include "program.h"

#include <stdio.h>

int cm_plan_build(const cm_config *cfg, int tasks, cm_plan_step *steps)
{
    int n = 0;
    for (size_t i = 0; cm_stages[i]; i++) {
        const cm_stage_def *def = cm_stages[i];
        if (!cm_stage_enabled(cfg, def)) continue;
        cm_stage_plan plan;
        cm_stage_plan_make(def, cm_config_options(cfg, def->name), tasks, &plan);
        for (int k = 0; k < plan.n && n < CM_PLAN_MAX; k++) {
            cm_plan_step *s = &steps[n++];
            s->stage = def;
            s->step = plan.step[k];
            s->verb = def->command;
            s->name = plan.step[k]->name;
            s->marker = plan.step[k]->marker;
            s->tasks = plan.tasks[k];
            snprintf(s->label, sizeof s->label, "%s%s%s", def->command, s->name ? " " : "", s->name ? s->name : "");
        }
    }
    return n;
}
