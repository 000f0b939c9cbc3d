/* config.c -- reads a corpusmill YAML config into cm_config: the core
 * sections here, every stage's section through its descriptor, checking
 * every key and value.
 *
 * Defaults are written once, in the reference texts: the core's at the
 * bottom of this file, each stage's beside its code (cm_stage_def.reference).
 * The loader reads a reference first and the file's section over it, so
 * what `corpusmill config` prints (and the README quotes) is what a config
 * without the key gets. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stage.h"

static int read_input(cm_config *c, const cm_conf *n, cm_err *err)
{
    static const char *const known[] = {"paths", "format", "text_field", "id_field", "exam_cn", "exam_template",
                                        "max_member_size", "max_ratio", NULL};
    static const char *const formats[] = {"auto", "jsonl", "text", "lines", NULL};
    static const char *const exam[] = {"render", "skip", NULL};
    if (cm_conf_check_keys(n, "input", known, err)) return -1;
    if (cm_conf_strings(n, "paths", &c->input.paths, &c->input.n_paths, err)) return -1;
    if (cm_conf_enum(n, "format", formats, &c->input.format, err)) return -1;
    if (cm_conf_strings(n, "text_field", &c->input.text_fields, &c->input.n_text_fields, err)) return -1;
    if (c->input.n_text_fields == 0) return cm_conf_error(err, cm_conf_get(n, "text_field"), "text_field is empty");
    if (cm_conf_string(n, "id_field", &c->input.id_field, err)) return -1;
    if (cm_conf_enum(n, "exam_cn", exam, &c->input.exam_cn, err)) return -1;
    if (cm_conf_string(n, "exam_template", &c->input.exam_template, err)) return -1;
    if (cm_conf_size(n, "max_member_size", &c->input.max_member_size, err)) return -1;
    if (cm_conf_double(n, "max_ratio", 0, 1e9, &c->input.max_ratio, err)) return -1;
    return 0;
}

static int read_output(cm_config *c, const cm_conf *n, cm_err *err)
{
    static const char *const known[] = {"dir", "part_size", "zstd_level", "keep_rejected", NULL};
    static const char *const rejected[] = {"full", "ids", NULL};
    if (cm_conf_check_keys(n, "output", known, err)) return -1;
    long level = c->output.zstd_level;
    if (cm_conf_string(n, "dir", &c->output.dir, err) || cm_conf_size(n, "part_size", &c->output.part_size, err) ||
        cm_conf_int(n, "zstd_level", -7, 19, &level, err) ||
        cm_conf_enum(n, "keep_rejected", rejected, &c->output.keep_rejected, err))
        return -1;
    if (c->output.part_size < 4096)
        return cm_conf_error(err, cm_conf_get(n, "part_size"), "part_size must be at least 4KiB");
    c->output.zstd_level = (int)level;
    return 0;
}

static int read_run(cm_config *c, const cm_conf *n, cm_err *err)
{
    static const char *const known[] = {"tasks", "jobs", "threads", "on_error", "max_malformed_fraction",
                                        "max_record_size", "batch_size", "max_error_lines", NULL};
    static const char *const on_error[] = {"skip", "fail", NULL};
    if (cm_conf_check_keys(n, "run", known, err)) return -1;
    long tasks = c->run.tasks, jobs = c->run.jobs, threads = c->run.threads, lines = c->run.max_error_lines;
    if (cm_conf_int(n, "tasks", 1, 1000000, &tasks, err) || cm_conf_int(n, "jobs", 1, 4096, &jobs, err) ||
        cm_conf_int(n, "threads", 0, 1024, &threads, err) || cm_conf_enum(n, "on_error", on_error, &c->run.on_error, err) ||
        cm_conf_double(n, "max_malformed_fraction", 0, 1, &c->run.max_malformed_fraction, err) ||
        cm_conf_size(n, "max_record_size", &c->run.max_record_size, err) ||
        cm_conf_size(n, "batch_size", &c->run.batch_size, err) ||
        cm_conf_int(n, "max_error_lines", 0, 1000000, &lines, err))
        return -1;
    if (c->run.max_record_size < 1024 || c->run.max_record_size > (1ull << 30))
        return cm_conf_error(err, cm_conf_get(n, "max_record_size"),
                             "max_record_size must be between 1KiB and 1GiB (signals index text with 32 bits)");
    if (c->run.batch_size < 1024)
        return cm_conf_error(err, cm_conf_get(n, "batch_size"), "batch_size must be at least 1KiB");
    c->run.tasks = (int)tasks;
    c->run.jobs = (int)jobs;
    c->run.threads = (int)threads;
    c->run.max_error_lines = (int)lines;
    return 0;
}

/* The core sections' defaults: the reference, read. */
static int read_core_defaults(cm_config *c, cm_err *err)
{
    cm_conf *ref = cm_conf_load_string(cm_config_reference, strlen(cm_config_reference), "the core defaults", err);
    int rc = !ref || read_input(c, cm_conf_get(ref, "input"), err) || read_output(c, cm_conf_get(ref, "output"), err) ||
                     read_run(c, cm_conf_get(ref, "run"), err)
                 ? -1
                 : 0;
    cm_conf_free(ref);
    c->run.progress = 3; /* CM_PROGRESS_NONE: a library caller asks for progress */
    return rc;
}

/* The stage sections: each stage's options, from its reference and then the
 * file's section. The reference's tree lives as long as the config (a
 * stage's options may point into it, as clean's steps do). */
static int read_sections(cm_config *c, const cm_stage_def *const *stages, cm_err *err)
{
    size_t n = 0;
    while (stages && stages[n]) n++;
    c->sections = cm_calloc(n ? n : 1, sizeof *c->sections);
    for (size_t i = 0; i < n; i++) {
        const cm_stage_def *d = stages[i];
        cm_config_section *s = &c->sections[c->n_sections++];
        s->def = d;
        s->node = cm_conf_get(c->root, d->name);
        s->opts = cm_calloc(1, d->opts_size ? d->opts_size : 1);
        char name[96];
        snprintf(name, sizeof name, "the %s defaults", d->name);
        if (!(s->defaults = cm_conf_load_string(d->reference, strlen(d->reference), name, err))) return -1;
        if (d->read(s->opts, cm_conf_get(s->defaults, d->name), err) || d->read(s->opts, s->node, err)) return -1;
    }
    return 0;
}

static cm_config *finish(cm_conf *root, const char *name, const cm_stage_def *const *stages, cm_err *err)
{
    if (!root) {
        cm_err_usage(err);
        return NULL;
    }
    cm_config *c = cm_calloc(1, sizeof *c);
    c->path = cm_strdup(name);
    c->root = root;
    const char *known[64];
    size_t nk = 0;
    known[nk++] = "input";
    known[nk++] = "output";
    known[nk++] = "run";
    for (size_t i = 0; stages && stages[i] && nk + 1 < sizeof known / sizeof *known; i++) known[nk++] = stages[i]->name;
    known[nk] = NULL;
    if (read_core_defaults(c, err) || cm_conf_check_keys(root, "the config", known, err) ||
        read_input(c, cm_conf_get(root, "input"), err) || read_output(c, cm_conf_get(root, "output"), err) ||
        read_run(c, cm_conf_get(root, "run"), err) || read_sections(c, stages, err)) {
        cm_err_usage(err);
        cm_config_free(c);
        return NULL;
    }
    return c;
}

cm_config *cm_config_load(const char *path, const cm_stage_def *const *stages, cm_err *err)
{
    return finish(cm_conf_load_file(path, err), path, stages, err);
}

cm_config *cm_config_parse(const char *text, const char *name, const cm_stage_def *const *stages, cm_err *err)
{
    return finish(cm_conf_load_string(text, strlen(text), name, err), name, stages, err);
}

const void *cm_config_options(const cm_config *c, const char *name)
{
    for (size_t i = 0; i < c->n_sections; i++)
        if (!strcmp(c->sections[i].def->name, name)) return c->sections[i].opts;
    return NULL;
}

int cm_config_has(const cm_config *c, const char *name)
{
    for (size_t i = 0; i < c->n_sections; i++)
        if (!strcmp(c->sections[i].def->name, name)) return c->sections[i].node != NULL;
    return 0;
}

void cm_config_free(cm_config *c)
{
    if (!c) return;
    cm_conf_free_strings(c->input.paths, c->input.n_paths);
    cm_conf_free_strings(c->input.text_fields, c->input.n_text_fields);
    free(c->input.id_field);
    free(c->input.exam_template);
    free(c->output.dir);
    for (size_t i = 0; i < c->n_sections; i++) {
        if (c->sections[i].def->free) c->sections[i].def->free(c->sections[i].opts);
        free(c->sections[i].opts);
        cm_conf_free(c->sections[i].defaults);
    }
    free(c->sections);
    cm_conf_free(c->root);
    free(c->path);
    free(c);
}

void cm_config_set_inputs(cm_config *c, char **paths, size_t n)
{
    cm_conf_free_strings(c->input.paths, c->input.n_paths);
    c->input.paths = cm_calloc(n ? n : 1, sizeof(char *));
    for (size_t i = 0; i < n; i++) c->input.paths[i] = cm_strdup(paths[i]);
    c->input.n_paths = n;
}

void cm_config_set_out(cm_config *c, const char *dir)
{
    free(c->output.dir);
    c->output.dir = cm_strdup(dir);
}

const char cm_config_reference[] =
    "# corpusmill configuration: every option with its default.\n"
    "# Relative paths are relative to the directory corpusmill runs in.\n"
    "input:\n"
    "  paths: []              # files, directories (walked recursively) and globs; --input replaces them\n"
    "  format: auto           # auto | jsonl | text | lines\n"
    "                         #   auto: .md .markdown .txt .rst are one document per file, the rest JSON Lines\n"
    "                         #   text: one document per file (id = path relative to the input root)\n"
    "                         #   lines: one document per line (id = path:line)\n"
    "  text_field: content    # or a list, first present wins: [content, text, raw_content]\n"
    "  id_field: id\n"
    "  exam_cn: render        # render | skip: WanJuan Exam-cn records (q_main, option_a.., no text field)\n"
    "  exam_template: \"{q_main}\\nA. {option_a}\\nB. {option_b}\\nC. {option_c}\\nD. {option_d}\\nE. {option_e}\\n答案：{std_ans}\\n解析：{answer_detail}\"\n"
    "                         #   a line whose placeholders are all empty is left out\n"
    "  max_member_size: 64GiB # a file or archive member decompressing to more stops there (limit:member_size)\n"
    "  max_ratio: 200         # ... or expanding more than this past 64 MiB (limit:ratio: a decompression bomb)\n"
    "output:\n"
    "  dir: out               # --out replaces it\n"
    "  part_size: 256MiB      # uncompressed bytes per part file before a new part starts\n"
    "  zstd_level: 2          # -7..19 (negative: zstd's fast levels); 2: ~25% less CPU than 3 for ~5% more bytes\n"
    "  keep_rejected: full    # full | ids: removed records in full, or only id, source and reason\n"
    "run:\n"
    "  tasks: 1               # slices of the input (files i, i+N, ... in sorted order); --tasks\n"
    "  jobs: 1                # processes `corpusmill run` uses; -j\n"
    "  threads: 0             # worker threads per task; 0 = cores / jobs; --threads\n"
    "  on_error: skip         # skip | fail: fail stops at the first malformed record\n"
    "  max_malformed_fraction: 0.01  # with skip, exit 1 when more than this fraction is malformed\n"
    "  max_record_size: 64MiB # longer records are malformed (the first 64 KiB are kept as evidence)\n"
    "  batch_size: 4MiB       # records handed to a worker thread at once\n"
    "  max_error_lines: 50    # malformed-record lines printed per task; the rest are counted\n";
