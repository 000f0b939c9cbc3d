/* stage.h -- the stage contract: what a stage is (a descriptor), what one of
 * its tasks is given, and the one runner that does, for every stage, what
 * every task does around its work.
 *
 * A stage is a descriptor in its own folder (filters/clean_stage.c,
 * dedup/dedup_stage.c, embed/embed_stage.c, index/...): its name, which is
 * also its config section, its options (defaults, reader, reference text),
 * and its steps. A step is run as
 *     corpusmill STAGE [STEP] CONFIG --task I --tasks N
 * and cm_stage_run_task() does around it: the task and split checks, the
 * steps that must have finished before it, the claim on the split
 * (OUT/_done/MARKER/_run.json: a later task with another split or config is
 * refused), the completion marker (a finished task is not run again), the
 * stats and the summary. Only the program (programs/stages.c) lists every
 * stage.
 *
 * The first task of a stage to start records in OUT/_done/MARKER/_run.json
 * how the step is split (--tasks) and a fingerprint of the config and
 * inputs. A later task, or a rerun, with another split is refused: its
 * outputs would mix with the old split's and the counts would no longer add
 * up. A rerun with a changed config is refused too (its finished tasks would
 * otherwise be skipped and silently keep the old results), unless force,
 * which redoes the work under the new config. */
#ifndef CM_STAGE_H
#define CM_STAGE_H

#include "conf.h"
#include "config.h"
#include "inputs.h"
#include "stats.h"
#include "util.h"

/* ---- one task of a step, as the runner hands it to the step ---- */

struct cm_stage_def;

typedef struct cm_stage_task {
    const cm_config *cfg;
    const void *opts;   /* the stage's own options (cm_config_options) */
    const char *source;    /* the stage this one reads ("clean", "dedup", "embed"), or NULL for the input */
    const struct cm_stage_def *source_def; /* its descriptor, whose verdict on the whole stage is checked */
    const char *documents; /* the run's last document stage ("dedup", else "clean"), for stages that
                              read documents beside their source (pretrain's SemDeDup) */
    int task, tasks;
    int threads;        /* worker threads asked for on the command line; 0: the stage's default */
    int force;          /* run even when the task's marker exists; redo under a changed config */
    cm_log log;         /* notes and warnings while the task runs */
} cm_stage_task;

/* How a step's tasks divide the work. */
typedef enum cm_split {
    CM_SPLIT_FREE,   /* any number of tasks (clean: input files; index add: parts; buckets: bands) */
    CM_SPLIT_SOURCE, /* task T reads task T of the source stage: its --tasks is the source's */
    CM_SPLIT_ONE     /* one task sees everything */
} cm_split;

#define CM_STAGE_MAX_AFTER 4

typedef struct cm_stage_step {
    const char *name;    /* "signatures"; NULL for a stage of one step */
    const char *marker;  /* its folder under OUT/_done/, and the name its stats go under */
    int split;           /* cm_split */
    int stats;           /* its counts are the stage's: OUT/stats/MARKER-TTTTT.json and the summary */
    /* markers of steps whose every task must have finished first; the
     * source stage is checked by the split (CM_SPLIT_SOURCE: the same task)
     * or, with needs_source_done, as a whole */
    const char *after[CM_STAGE_MAX_AFTER];
    int needs_source_done;
    /* The step's work. Returns 0, or -1 with err (its kind: failed, or
     * usage when nothing could be done). */
    int (*run)(const cm_stage_task *t, cm_task_stats *st, cm_err *err);
    /* Optional: after a successful run and its stats are written, whether
     * the task may count as done (clean's on_error: fail for damaged
     * inputs). -1 with err: no marker, so a rerun meets the same gate. */
    int (*verdict)(const cm_stage_task *t, const cm_task_stats *st, cm_err *err);
    /* Optional: the verdict on the whole step, on its tasks' summed stats,
     * once every task has its marker (clean's max_malformed_fraction): the
     * same whatever the split. The task that completes the step, any rerun
     * of one, and every step that reads it fail with err while it fails. */
    int (*stage_verdict)(const cm_stage_task *t, const cm_task_stats *sum, cm_err *err);
} cm_stage_step;

/* The steps `run` and `launch` execute for a stage, with their task counts
 * (CM_STAGE_PLAN_MAX at most). */
#define CM_STAGE_PLAN_MAX 8
typedef struct cm_stage_plan {
    const cm_stage_step *step[CM_STAGE_PLAN_MAX];
    int tasks[CM_STAGE_PLAN_MAX];
    int n;
} cm_stage_plan;

typedef struct cm_stage_def {
    const char *name;       /* config section and marker prefix: "dedup" */
    const char *command;    /* the command: usually name ("decontaminate" for decontam) */
    const char *summary;    /* one line for `corpusmill --help` */
    const char *usage;      /* `corpusmill COMMAND --help` */
    const char *reference;  /* its section with every option, its default and what it means, as commented
                               YAML: the one place the defaults are written (the loader reads it first) */
    const char *reads;      /* what it needs: "input", "documents" (the source stage), or a stage name */
    int documents;          /* it writes documents later stages read (OUT/NAME/part-*) */
    /* options: a zeroed struct of opts_size bytes, read from the reference's
     * section, then from the file's (NULL when absent); -1 with err naming
     * the file and line */
    size_t opts_size;
    int (*read)(void *opts, const cm_conf *section, cm_err *err);
    void (*free)(void *opts);
    const cm_stage_step *steps;
    int n_steps;
    /* Optional: the steps for a run of `tasks` tasks; default: every step,
     * FREE and SOURCE with `tasks` tasks, ONE with one. */
    void (*plan)(const void *opts, int tasks, cm_stage_plan *plan);
} cm_stage_def;

/* The step called name (NULL: the stage's only or default step), or NULL. */
const cm_stage_step *cm_stage_step_find(const cm_stage_def *def, const char *name);

/* The plan of def for a run of `tasks` tasks (its plan hook, or the
 * default). */
void cm_stage_plan_make(const cm_stage_def *def, const void *opts, int tasks, cm_stage_plan *plan);

/* Runs one task of one step: checks the task and the split, the steps that
 * must come first, claims the split, skips a finished task (*already_done,
 * with its stats read back), runs the step, writes its stats and summary,
 * then its marker. Returns 0, or -1 with err (and its kind). stats is
 * initialized by the caller. */
int cm_stage_run_task(const cm_stage_def *def, const cm_stage_step *step, const cm_stage_task *t, cm_task_stats *st,
                      int *already_done, cm_err *err);

/* ---- the split and the markers, for the runner, launch and status ---- */

/* A hex fingerprint (16 digits) of the config file's bytes and the inputs. */
void cm_stage_fingerprint(const cm_config *cfg, char out[17]);

/* Checks and records the step's split and fingerprint. Returns 0, or -1
 * with err saying what differs and what to do. */
int cm_stage_claim(const char *out_dir, const char *marker, int tasks, const char *fingerprint, int force, cm_err *err);

/* The run's input files, fixed when its clean stage first starts and kept in
 * OUT/_done/clean/_inputs.tsv (size, offset of the relative part, path):
 * every clean task splits this list, and every later stage numbers
 * documents by it, so a file added to or removed from an input directory
 * during the run cannot shift one task's share into another's. The list is
 * made anew when it was made for another config (a --force rerun) or when
 * relist is set. Returns 0, or -1 with err. */
int cm_stage_inputs(const cm_config *cfg, int relist, cm_input_list *list, cm_err *err);

/* The listing clean recorded in OUT/_done/clean/_inputs.tsv, whatever the
 * config's or command line's inputs: what every stage after clean numbers
 * documents by. -1 with err when there is none (usage) or it is damaged. */
int cm_stage_listing(const char *out, cm_input_list *list, cm_err *err);

/* The task count recorded for a started step, or 0 when it has none. */
int cm_stage_tasks(const char *out_dir, const char *marker);

/* Every task of a started step has its marker: 0, or -1 with err naming
 * the first that has not (or saying the step has not started). */
int cm_stage_finished(const char *out_dir, const char *marker, cm_err *err);

/* The output-directory checks every stage does before work starts: made,
 * and writable. */
int cm_prepare_out_dir(const char *out, cm_err *err);

#endif
