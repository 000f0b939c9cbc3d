/* program.h -- what every command of the corpusmill program shares: the
 * exit statuses, where errors and notes are printed, the one argument
 * parser, and the table of stages (programs/stages.c), the one place that
 * lists every stage. The library (pipeline/, filters/, dedup/, embed/,
 * index/) returns 0 / -1 with a cm_err; only the program prints, and maps an
 * error's kind to an exit status. */
#ifndef CM_PROGRAM_H
#define CM_PROGRAM_H

#include <stddef.h>

#include "../pipeline/config.h"
#include "../pipeline/stage.h"
#include "../pipeline/util.h"

#define CM_VERSION "0.1.0"

/* Exit statuses. */
#define CM_EXIT_OK 0
#define CM_EXIT_FAILED 1 /* the work failed: too many malformed records, on_error: fail, an I/O error */
#define CM_EXIT_USAGE 2  /* bad usage or config, missing input, unwritable output */

/* The exit status of an error: its kind. */
int cm_exit_status(const cm_err *err);

/* Prints "corpusmill[ COMMAND]: MESSAGE" on stderr and returns the error's
 * exit status. */
int cm_fail(const char *command, const cm_err *err);

/* The log the program hands the library: each line on stderr after
 * "corpusmill: ". */
cm_log cm_stderr_log(void);

/* ---- arguments: one parser for every command ----
 * A command declares its options in a table; the parser takes --name VALUE,
 * --name=VALUE and, for an option with a short alias, -jN or -j N; -h and
 * --help; and positional arguments in order. Errors print
 * "corpusmill COMMAND: WHAT" and the command's usage. */
typedef enum cm_arg_kind {
    CM_ARG_FLAG,    /* int *: set to 1 */
    CM_ARG_UNFLAG,  /* int *: set to 0 (--dry-run against --submit) */
    CM_ARG_LONG,    /* long *, within [min, max] */
    CM_ARG_STRING,  /* const char ** */
    CM_ARG_STRINGS, /* cm_arg_list *: repeatable */
    CM_ARG_PARSE    /* parse(value, out): 0 when it takes the value */
} cm_arg_kind;

typedef struct cm_arg_list {
    const char **items;
    size_t n;
} cm_arg_list;

typedef struct cm_arg {
    const char *name;  /* "--tasks"; NULL ends the table */
    const char *alias; /* "-j", or NULL */
    int kind;          /* cm_arg_kind */
    void *out;
    long min, max;     /* CM_ARG_LONG */
    int (*parse)(const char *value, void *out);
    const char *what;  /* what a bad value should be, for the message */
} cm_arg;

typedef struct cm_args {
    const char *command;     /* for messages: "run", "launch slurm" */
    const char *usage;
    const cm_arg *options;   /* NULL-name terminated */
    const char **positional; /* slots for positional arguments, in order */
    const char *const *positional_names; /* "CONFIG": for "a CONFIG is required" */
    int n_positional;        /* slots */
    int required;            /* how many of them must be given */
} cm_args;

/* Parses argv (after the command name) into a's slots. Returns 0 (with
 * *help set when -h or --help was given, the usage then printed on stdout),
 * or CM_EXIT_USAGE with the message and usage printed. Frees nothing; list
 * items point into argv. */
int cm_args_parse(const cm_args *a, int argc, char **argv, int *help);
void cm_arg_list_free(cm_arg_list *l);

/* Prints "corpusmill COMMAND: MESSAGE" and the usage on stderr; returns
 * CM_EXIT_USAGE. */
int cm_usage_error(const char *command, const char *usage, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* --progress auto|bar|log|none|fd:N (cm_arg parse hook; out: int[2], mode and fd). */
int cm_parse_progress(const char *value, void *out);
/* --bm25 index|fts5 (cm_arg parse hook; out: int, 1 for fts5). */
int cm_parse_bm25_engine(const char *value, void *out);
/* A number from 0 to 1 into a double (CM_ARG_PARSE). */
int cm_parse_unit_interval(const char *value, void *out);

/* ---- the stages ---- */

/* Every stage, in the order a run goes through them; NULL-terminated. */
extern const cm_stage_def *const cm_stages[];

/* The stage whose command (or name) is `command`, or NULL. */
const cm_stage_def *cm_stage_by_command(const char *command);

/* Loads a config with every stage's section. NULL with err (kind usage). */
cm_config *cm_program_config(const char *path, cm_err *err);

/* The config a job command (run, a stage, launch) names, with its --input
 * (inputs, may be empty) and --out (NULL: the config's) applied and its
 * --progress (mode, fd; NULL: none). NULL when it cannot be loaded, the
 * error printed. */
cm_config *cm_job_config(const char *path, const cm_arg_list *inputs, const char *out, const int *progress);

/* Whether a stage takes part in a run of cfg: its section is present, and
 * so is the section of the stage it reads. */
int cm_stage_enabled(const cm_config *cfg, const cm_stage_def *def);

/* What a stage's task reads in a run of cfg: its source (the stage named by
 * def->reads, or for "documents" the last enabled document stage before it:
 * dedup, else clean; NULL for the input) with its descriptor, and the run's
 * document stage; into t. */
void cm_stage_sources(const cm_config *cfg, const cm_stage_def *def, cm_stage_task *t);

/* ---- the plan: every step of a run, in order ---- */

#define CM_PLAN_MAX 16

typedef struct cm_plan_step {
    const cm_stage_def *stage;
    const cm_stage_step *step;
    const char *verb;   /* the command: clean, dedup, embed, index, pretrain, decontaminate */
    const char *name;   /* its step, or NULL: signatures, buckets, clusters, filter, train, add, merge */
    const char *marker; /* its folder under OUT/_done/ (what status and the markers call it) */
    char label[32];     /* "dedup signatures" */
    int tasks;          /* 1 for the steps that see everything at once */
} cm_plan_step;

/* Fills steps (CM_PLAN_MAX) for a run split into `tasks`; returns how many.
 * Which stages take part follows the config's sections. */
int cm_plan_build(const cm_config *cfg, int tasks, cm_plan_step *steps);

/* ---- the commands (argv after the command's name) ---- */
int cm_cmd_stage(const cm_stage_def *def, int argc, char **argv);
int cm_cmd_run(int argc, char **argv);
int cm_cmd_launch(int argc, char **argv);
int cm_cmd_query(int argc, char **argv);
int cm_cmd_serve(int argc, char **argv);
int cm_cmd_eval(int argc, char **argv);
int cm_cmd_embed_text(int argc, char **argv);
int cm_cmd_report(int argc, char **argv);
int cm_cmd_status(int argc, char **argv);
int cm_cmd_digest(int argc, char **argv);
int cm_cmd_calibrate(int argc, char **argv);      /* index calibrate */
int cm_cmd_eval_rejection(int argc, char **argv);
int cm_cmd_update(int argc, char **argv);         /* index update */
int cm_cmd_compact(int argc, char **argv);        /* index compact */
int cm_cmd_quality(int argc, char **argv);        /* quality train|eval|predict */
/* Every step of the named stages of cfg (those it enables), one task each,
 * in this process (index update, quality train). */
int cm_run_stages_here(const cm_config *cfg, const char *const *names, int n, cm_err *err);

extern const char cm_run_usage[], cm_launch_usage[], cm_query_usage[], cm_serve_usage[], cm_eval_usage[],
    cm_embed_text_usage[], cm_report_usage[], cm_status_usage[], cm_digest_usage[], cm_calibrate_usage[],
    cm_eval_rejection_usage[], cm_update_usage[], cm_quality_usage[];

/* The run's funnel on stderr, stage by stage, and where the outputs are. */
void cm_print_run_result(const char *out);

#endif
