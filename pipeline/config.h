/* config.h -- the typed configuration of a corpusmill run, read from YAML.
 *
 * The core config is what every stage shares: `input:` (what to read),
 * `output:` (where and how to write) and `run:` (tasks, threads, error
 * policy). Each stage owns its section (`clean:`, `dedup:`, `embed:` ...):
 * the loader hands the section's subtree to the stage's descriptor
 * (pipeline/stage.h), which fills its own options struct; a stage reads its
 * options back with cm_config_options().
 *
 * Every option has a default, written once in a reference text (the core's
 * is cm_config_reference, a stage's its descriptor's) that the loader reads
 * before the file; every section's keys are checked, so a misspelt key is an
 * error naming the key, the file and the line. Relative paths are relative
 * to the current directory. Option names are the YAML names all the way
 * down. */
#ifndef CM_CONFIG_H
#define CM_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include "conf.h"

struct cm_stage_def;

typedef enum cm_format_kind { CM_FORMAT_AUTO, CM_FORMAT_JSONL, CM_FORMAT_TEXT, CM_FORMAT_LINES } cm_format_kind;
typedef enum cm_exam_mode { CM_EXAM_RENDER, CM_EXAM_SKIP } cm_exam_mode;
typedef enum cm_keep_rejected { CM_REJECTED_FULL, CM_REJECTED_IDS } cm_keep_rejected;
typedef enum cm_on_error { CM_ON_ERROR_SKIP, CM_ON_ERROR_FAIL } cm_on_error;

/* A stage's section: its descriptor, its node in the file (NULL when the
 * file has none: the stage is off), its options (defaults when absent) and
 * its reference read as YAML (the defaults; options may point into it). */
typedef struct cm_config_section {
    const struct cm_stage_def *def;
    const cm_conf *node;
    void *opts;
    cm_conf *defaults;
} cm_config_section;

typedef struct cm_config {
    char *path;      /* the config file */
    cm_conf *root;   /* its tree (stage sections and filter blocks point into it) */

    struct {
        char **paths;        /* files, directories, globs */
        size_t n_paths;
        int format;          /* cm_format_kind */
        char **text_fields;  /* text_field: first present wins */
        size_t n_text_fields;
        char *id_field;
        int exam_cn;         /* records with q_main and no text */
        char *exam_template; /* {field} placeholders */
        uint64_t max_member_size; /* a file or archive member decompressed */
        double max_ratio;    /* decompressed / compressed, past 64 MiB */
    } input;

    struct {
        char *dir;
        uint64_t part_size;  /* uncompressed bytes per output part */
        int zstd_level;
        int keep_rejected;   /* cm_keep_rejected */
    } output;

    struct {
        int tasks;                 /* slices of the input */
        int jobs;                  /* processes for `run` */
        int threads;               /* worker threads per task; 0 = cores/jobs */
        int on_error;              /* cm_on_error */
        double max_malformed_fraction; /* exit 1 above this */
        uint64_t max_record_size;  /* longer records are malformed */
        uint64_t batch_size;       /* records handed to a worker at once */
        int max_error_lines;       /* per task, then a count */
        int progress, progress_fd; /* cm_progress_mode: set by the command line (--progress), not YAML */
    } run;

    cm_config_section *sections; /* one per stage the loader was given, in its order */
    size_t n_sections;
} cm_config;

/* Loads and validates path: the core sections, then every stage's section
 * through its descriptor (stages: NULL-terminated; a top-level key that is
 * neither core nor one of theirs is an error). NULL with err (kind usage). */
cm_config *cm_config_load(const char *path, const struct cm_stage_def *const *stages, cm_err *err);
/* Same, from a string (for tests); `name` is used in messages. */
cm_config *cm_config_parse(const char *text, const char *name, const struct cm_stage_def *const *stages, cm_err *err);
void cm_config_free(cm_config *c);

/* The options of stage `name` (its defaults when the file has no such
 * section), or NULL when the config was loaded without that stage. */
const void *cm_config_options(const cm_config *c, const char *name);
/* Whether the file has the stage's section (the stage is on). */
int cm_config_has(const cm_config *c, const char *name);

/* Replaces input.paths (command-line --input). */
void cm_config_set_inputs(cm_config *c, char **paths, size_t n);
/* Replaces output.dir (command-line --out). */
void cm_config_set_out(cm_config *c, const char *dir);

/* The core sections with every option's default and what it means, as
 * commented YAML: the one place those defaults are written. */
extern const char cm_config_reference[];

#endif
