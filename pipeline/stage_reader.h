/* stage_reader.h -- reads one task's output of a finished document stage
 * (OUT/clean/ or OUT/dedup/), record by record, in order, giving each record
 * a document key that does not depend on how the work was split:
 *     key = (index of its input file among the config's inputs << 40)
 *           | (its ordinal among that file's records in this stage)
 * Input files are never split across tasks, so the ordinal is the same for
 * any --tasks. dedup numbers documents with it, embed derives chunk ids
 * from it. */
#ifndef CM_STAGE_READER_H
#define CM_STAGE_READER_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "inputs.h"
#include "json.h"

#define CM_DOC_KEY(file, ordinal) (((uint64_t)(file) << 40) | (uint64_t)(ordinal))
#define CM_DOC_FILE(k) ((k) >> 40)
#define CM_DOC_ORDINAL(k) ((k) & ((1ULL << 40) - 1))
#define CM_MAX_INPUT_FILES (1u << 16)

typedef struct cm_stage_record {
    uint64_t key;
    const char *line;          /* the whole JSON record */
    size_t line_len;
    const char *text;          /* its text field, unescaped */
    size_t text_len;
    const cm_json_record *rec; /* its top-level members (offsets into line) */
} cm_stage_record;

/* Called for every record; returns non-zero (with err) to stop. */
typedef int (*cm_stage_record_fn)(void *user, const cm_stage_record *r, cm_err *err);

typedef struct cm_stage_reader cm_stage_reader;

/* The config's inputs, expanded and numbered. NULL with err (missing
 * inputs, more than CM_MAX_INPUT_FILES files). */
cm_stage_reader *cm_stage_reader_create(const cm_config *cfg, cm_err *err);
void cm_stage_reader_free(cm_stage_reader *r);

/* The expanded inputs; files[CM_DOC_FILE(key)] is a record's file. */
const cm_input_list *cm_stage_reader_inputs(const cm_stage_reader *r);

/* Shows progress of the walks that follow (percent of the parts' bytes,
 * documents/s, ETA) as `label` and, for a step of several phases, `phase`
 * (NULL none), in the mode of cfg->run.progress. */
void cm_stage_reader_progress(cm_stage_reader *r, const char *label, const char *phase);

/* Calls fn for every record of OUT/<stage>/part-TTTTT-*, in order. A
 * record that is not valid JSON, has no text field or names a file that is
 * not among the inputs stops the walk with an error naming the part. */
int cm_stage_reader_walk(cm_stage_reader *r, const char *stage, int task, cm_stage_record_fn fn, void *user,
                         cm_err *err);

/* Calls fn for every JSON record of one output part (.jsonl.zst or
 * .jsonl), parsed (top-level members; offsets into line). A record that is
 * not valid JSON stops the walk with an error naming the file. */
typedef int (*cm_json_line_fn)(void *user, const char *line, size_t len, const cm_json_record *rec, cm_err *err);
int cm_walk_json_lines(const char *path, cm_json_line_fn fn, void *user, cm_err *err);

#endif
