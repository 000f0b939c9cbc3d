/* stats.h -- the accounting that proves nothing is lost.
 *
 * Every record a task reads ends up kept, removed (with a reason) or
 * malformed: read = kept + removed + malformed. A task writes its counts to
 * OUT/stats/STAGE-TTTTT.json; cm_summary_write merges every stats file into
 * OUT/summary.json, with the keys DESIGN.md fixes per stage: read, kept,
 * removed (reason -> count), malformed, bytes_in, bytes_out, seconds. */
#ifndef CM_STATS_H
#define CM_STATS_H

#include <stdint.h>
#include "util.h"

typedef struct cm_reason {
    char *name;
    uint64_t count;
} cm_reason;

/* A small map from reason to count (a handful of reasons: linear search). */
typedef struct cm_reasons {
    cm_reason *items;
    size_t n, cap;
} cm_reasons;

void cm_reasons_add(cm_reasons *r, const char *name, uint64_t count);
/* Adds "prefix:rule" without building the string when it is already there. */
void cm_reasons_add2(cm_reasons *r, const char *prefix, const char *rule, uint64_t count);
uint64_t cm_reasons_total(const cm_reasons *r);
uint64_t cm_reasons_get(const cm_reasons *r, const char *name);
void cm_reasons_free(cm_reasons *r);
/* Orders by count, largest first (then by name). */
void cm_reasons_sort(cm_reasons *r);

typedef struct cm_counts {
    uint64_t read;          /* records read */
    uint64_t kept;
    uint64_t malformed;
    uint64_t bytes_in;      /* bytes of the records read, as read (decompressed) */
    uint64_t bytes_out;     /* bytes of the kept records, as written (uncompressed) */
    uint64_t modified;      /* kept records whose text the steps changed */
    uint64_t utf8_repaired; /* records whose invalid UTF-8 was replaced */
    uint64_t blank_lines;   /* empty lines between JSON records: not records */
    cm_reasons removed;     /* "filter:rule" -> count */
    cm_reasons malformed_by;/* kind of damage -> count */
} cm_counts;

void cm_counts_init(cm_counts *c);
void cm_counts_free(cm_counts *c);
void cm_counts_clear(cm_counts *c);
void cm_counts_merge(cm_counts *into, const cm_counts *from);
/* read == kept + removed + malformed */
int cm_counts_balanced(const cm_counts *c);

/* One task's stats file. */
typedef struct cm_task_stats {
    char stage[32];
    int task, tasks;
    cm_counts counts;
    double seconds;
    uint64_t files;         /* input files opened */
    uint64_t file_bytes;    /* their sizes on disk */
    uint64_t empty_files;
    uint64_t input_errors;  /* truncated/corrupt streams, unreadable files */
    uint64_t parts;         /* output parts written */
    int threads;
    long peak_rss_kb;
    cm_reasons outputs;     /* what the stage made besides records ("chunks" -> count), summed in summary.json */
    cm_reasons input_errors_by; /* why input files stopped early ("limit:ratio", "truncated" -> count) */
} cm_task_stats;

void cm_task_stats_init(cm_task_stats *s);
void cm_task_stats_free(cm_task_stats *s);
/* Appends the stats as a JSON object. */
void cm_task_stats_json(const cm_task_stats *s, cm_buf *out);
int cm_task_stats_write(const cm_task_stats *s, const char *path, cm_err *err);
int cm_task_stats_read(const char *path, cm_task_stats *s, cm_err *err);

/* Sums the stats files of one stage (OUT/stats/STAGE-*.json) into sum
 * (initialized by the caller); *tasks_done gets how many there were. */
int cm_stage_load(const char *out_dir, const char *stage, cm_task_stats *sum, int *tasks_done, cm_err *err);

/* Merges OUT/stats/STAGE-TTTTT.json into OUT/summary.json (atomically, under a lock so
 * that tasks finishing together do not lose each other's counts). */
int cm_summary_write(const char *out_dir, cm_err *err);

#endif
