/* stage_reader.c -- one task's records of a finished document stage, with
 * split-independent document keys (see stage_reader.h). */
#include "stage_reader.h"

#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "layout.h"
#include "progress.h"
#include "source.h"
#include "stage.h"
#include "writer.h"

struct cm_stage_reader {
    const cm_config *cfg;
    cm_input_list inputs;
    char **sorted;            /* the input paths, for bsearch */
    cm_json_parser *parser;
    cm_json_record rec;
    cm_buf line;              /* the record, padded for simdjson */
    long last_file;
    uint64_t ordinal;
    char source_file[4096];   /* corpusmill.source.file of the record */
    const char *progress_label; /* NULL: no progress */
    const char *progress_phase;
    cm_progress progress;
    uint64_t docs, bytes, part_base, parts_total;
    cm_source *src;
    /* the walk in progress */
    cm_stage_record_fn fn;
    void *user;
    cm_err err;
    int failed;
};

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

cm_stage_reader *cm_stage_reader_create(const cm_config *cfg, cm_err *err)
{
    cm_stage_reader *r = cm_calloc(1, sizeof *r);
    r->cfg = cfg;
    if (cm_stage_listing(cfg->output.dir, &r->inputs, err)) {
        free(r);
        return NULL;
    }
    if (r->inputs.n >= CM_MAX_INPUT_FILES) {
        cm_inputs_free(&r->inputs);
        free(r);
        cm_errorf(err, "documents are numbered by input file: at most %u input files (this run has more)",
                  CM_MAX_INPUT_FILES - 1);
        return NULL;
    }
    r->sorted = cm_calloc(r->inputs.n ? r->inputs.n : 1, sizeof *r->sorted);
    for (size_t i = 0; i < r->inputs.n; i++) r->sorted[i] = r->inputs.files[i].path; /* already sorted */
    r->parser = cm_json_parser_create();
    cm_json_record_init(&r->rec);
    cm_buf_init(&r->line);
    return r;
}

void cm_stage_reader_free(cm_stage_reader *r)
{
    if (!r) return;
    free(r->sorted);
    cm_inputs_free(&r->inputs);
    cm_json_parser_free(r->parser);
    cm_json_record_free(&r->rec);
    cm_buf_free(&r->line);
    free(r);
}

const cm_input_list *cm_stage_reader_inputs(const cm_stage_reader *r) { return &r->inputs; }

static void on_record(void *user, const char *data, size_t len, uint64_t line, uint64_t offset, int kind, int damage,
                      uint64_t full_len)
{
    (void)line; (void)offset; (void)kind; (void)full_len;
    cm_stage_reader *r = user;
    if (r->failed) return;
    r->failed = 1;
    if (damage) { cm_errorf(&r->err, "a record is damaged"); return; }
    cm_buf_clear(&r->line);
    cm_buf_append(&r->line, data, len);
    cm_buf_reserve(&r->line, CM_JSON_PADDING);
    memset(r->line.data + r->line.len, ' ', CM_JSON_PADDING);
    cm_err e;
    if (cm_json_parse_record(r->parser, r->line.data, r->line.len, &r->rec, &e) != 0) {
        cm_errorf(&r->err, "a record is not valid JSON: %s", e.msg);
        return;
    }
    long ti = -1;
    for (size_t k = 0; k < r->cfg->input.n_text_fields && ti < 0; k++)
        ti = cm_json_find(&r->rec, r->cfg->input.text_fields[k], NULL);
    long ci = cm_json_find(&r->rec, "corpusmill", NULL);
    if (ti < 0 || ci < 0 || r->rec.members[ti].type != CM_JSON_STRING) {
        cm_errorf(&r->err, "a record has no text or no corpusmill object");
        return;
    }
    const cm_json_member *cm = &r->rec.members[ci];
    if (cm_json_nested_string(r->parser, r->line.data + cm->value_start, cm->value_end - cm->value_start, "source",
                              "file", r->source_file, sizeof r->source_file))
        r->source_file[0] = 0;
    const char *key = r->source_file;
    char **hit = bsearch(&key, r->sorted, r->inputs.n, sizeof *r->sorted, cmp_str);
    if (!hit) {
        cm_errorf(&r->err, "'%s' is not among the inputs of this config (was clean run with other inputs?)",
                  r->source_file);
        return;
    }
    long fi = (long)(hit - r->sorted);
    if (fi != r->last_file) { r->last_file = fi; r->ordinal = 0; }
    cm_stage_record rec = {CM_DOC_KEY(fi, r->ordinal++), r->line.data, r->line.len,
                           cm_json_str(&r->rec, &r->rec.members[ti]), r->rec.members[ti].str_len, &r->rec};
    r->failed = r->fn(r->user, &rec, &r->err) != 0;
    if (r->progress_label) {
        r->docs++;
        r->bytes += len;
        cm_progress_update(&r->progress, r->docs, r->bytes, r->part_base + cm_source_file_offset(r->src), r->parts_total, 0);
    }
}

void cm_stage_reader_progress(cm_stage_reader *r, const char *label, const char *phase)
{
    r->progress_label = label;
    r->progress_phase = phase;
}

static void on_blank(void *user) { (void)user; }

int cm_stage_reader_walk(cm_stage_reader *r, const char *stage, int task, cm_stage_record_fn fn, void *user,
                         cm_err *err)
{
    char prefix[64];
    /* never another task's unfinished output: its parts may be partial */
    cm_path marker = cm_marker_path(r->cfg->output.dir, stage, task);
    if (!cm_path_exists(marker.s))
        return cm_errorf(err, "%s task %d has not finished (no %s): run it first", stage, task, marker.s);
    snprintf(prefix, sizeof prefix, "%s-", cm_part_prefix_of(task).s);
    size_t n;
    char **parts = cm_list_dir(cm_out_dir(r->cfg->output.dir, stage).s, prefix, &n);
    r->fn = fn;
    r->user = user;
    r->failed = 0;
    r->last_file = -1;
    int rc = 0;
    if (r->progress_label) {
        r->docs = r->bytes = r->part_base = r->parts_total = 0;
        for (size_t i = 0; i < n; i++) {
            struct stat st;
            if (stat(parts[i], &st) == 0) r->parts_total += (uint64_t)st.st_size;
        }
        cm_progress_init(&r->progress, r->cfg->run.progress, r->cfg->run.progress_fd, r->progress_label);
        cm_progress_phase(&r->progress, r->progress_phase);
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        cm_source *src = cm_source_open(parts[i], err);
        if (!src) { rc = -1; break; }
        r->src = src;
        const char *member;
        cm_record_sink sink = {on_record, on_blank, r};
        if (cm_source_next_member(src, &member, err) == 1 && cm_format_read_lines(src, 1u << 30, CM_REC_JSON, &sink, err))
            rc = -1;
        if (r->progress_label) r->part_base += cm_source_file_size(src);
        cm_source_close(src);
        if (r->failed) rc = cm_errorf(err, "%s: %s", parts[i], r->err.msg);
    }
    if (r->progress_label) {
        cm_progress_update(&r->progress, r->docs, r->bytes, r->parts_total, r->parts_total, 1);
        cm_progress_end(&r->progress);
    }
    cm_free_list(parts, n);
    return rc;
}

/* ---- any part file of JSON records ---- */

typedef struct line_walk {
    cm_json_parser *parser;
    cm_json_record rec;
    cm_buf line;
    cm_json_line_fn fn;
    void *user;
    cm_err err;
    int failed;
} line_walk;

static void on_json_line(void *user, const char *data, size_t len, uint64_t line, uint64_t offset, int kind,
                         int damage, uint64_t full_len)
{
    (void)offset; (void)kind; (void)full_len;
    line_walk *w = user;
    if (w->failed) return;
    w->failed = 1;
    if (damage) { cm_errorf(&w->err, "line %llu is damaged", (unsigned long long)line); return; }
    cm_buf_clear(&w->line);
    cm_buf_append(&w->line, data, len);
    cm_buf_reserve(&w->line, CM_JSON_PADDING);
    memset(w->line.data + w->line.len, ' ', CM_JSON_PADDING);
    cm_err e;
    if (cm_json_parse_record(w->parser, w->line.data, w->line.len, &w->rec, &e) != 0) {
        cm_errorf(&w->err, "line %llu is not valid JSON: %s", (unsigned long long)line, e.msg);
        return;
    }
    w->failed = w->fn(w->user, w->line.data, w->line.len, &w->rec, &w->err) != 0;
}

int cm_walk_json_lines(const char *path, cm_json_line_fn fn, void *user, cm_err *err)
{
    line_walk w;
    memset(&w, 0, sizeof w);
    w.parser = cm_json_parser_create();
    cm_json_record_init(&w.rec);
    cm_buf_init(&w.line);
    w.fn = fn;
    w.user = user;
    int rc = 0;
    cm_source *src = cm_source_open(path, err);
    if (!src) rc = -1;
    else {
        const char *member;
        cm_record_sink sink = {on_json_line, on_blank, &w};
        if (cm_source_next_member(src, &member, err) == 1 && cm_format_read_lines(src, 1u << 30, CM_REC_JSON, &sink, err))
            rc = -1;
        cm_source_close(src);
        if (w.failed) rc = cm_errorf(err, "%s: %s", path, w.err.msg);
    }
    cm_json_parser_free(w.parser);
    cm_json_record_free(&w.rec);
    cm_buf_free(&w.line);
    return rc;
}
