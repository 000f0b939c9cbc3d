/* stage.h -- what every stage's tasks agree on before they start.
 *
 * The first task of a stage to start records in OUT/_done/STAGE/_run.json how
 * the stage is split (--tasks) and a fingerprint of the config and inputs.
 * A later task, or a rerun, with another split is refused: its outputs would
 * mix with the old split's and the counts would no longer add up. A rerun
 * with a changed config is refused too (its finished tasks would otherwise be
 * skipped and silently keep the old results), unless --force, which redoes
 * the work under the new config. */
#ifndef CM_STAGE_H
#define CM_STAGE_H

#include "config.h"
#include "inputs.h"
#include "stats.h"
#include "util.h"

/* A hex fingerprint (16 digits) of the config file's bytes and the inputs. */
void cm_stage_fingerprint(const cm_config *cfg, char out[17]);

/* Checks and records the stage's split and fingerprint. Returns 0, or -1
 * with err saying what differs and what to do. */
int cm_stage_claim(const char *out_dir, const char *stage, int tasks, const char *fingerprint, int force, cm_err *err);

/* The run's input files, fixed when its clean stage first starts and kept in
 * OUT/_done/clean/_inputs.tsv (size, offset of the relative part, path):
 * every clean task splits this list, and every later stage numbers
 * documents by it, so a file added to or removed from an input directory
 * during the run cannot shift one task's share into another's. The list is
 * made anew when it was made for another config (a --force rerun) or when
 * relist is set. Returns 0, or -1 with err. */
int cm_stage_inputs(const cm_config *cfg, int relist, cm_input_list *list, cm_err *err);

/* The task count recorded for a started stage, or 0 when it has none. */
int cm_stage_tasks(const char *out_dir, const char *stage);

/* What every stage task does first: makes OUT/_done/STAGE and OUT/stats,
 * claims the stage (cm_stage_claim) and finds the task's marker, whose path
 * goes to marker. Returns 0 (with *done set when the task had finished and
 * force is off) or -1 with err (the split or config changed, an unwritable
 * OUT). */
int cm_stage_begin(const cm_config *cfg, const char *stage, int task, int tasks, int force, char *marker, size_t cap,
                   int *done, cm_err *err);

/* What a finished task does last: OUT/stats/STATS_NAME-TTTTT.json (when
 * stats_name is not NULL), the summary, then its marker. */
int cm_stage_finish(const cm_config *cfg, const char *stats_name, const cm_task_stats *st, const char *marker,
                    cm_err *err);

#endif
