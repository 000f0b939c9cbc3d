/* stats.c -- counters, their JSON form, and the run summary. */
#define _GNU_SOURCE
#include "stats.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "json.h"

void cm_reasons_add(cm_reasons *r, const char *name, uint64_t count)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->items[i].name, name) == 0) { r->items[i].count += count; return; }
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 8;
        r->items = cm_realloc(r->items, r->cap * sizeof *r->items);
    }
    r->items[r->n].name = cm_strdup(name);
    r->items[r->n].count = count;
    r->n++;
}

void cm_reasons_add2(cm_reasons *r, const char *prefix, const char *rule, uint64_t count)
{
    size_t pl = strlen(prefix), rl = strlen(rule);
    for (size_t i = 0; i < r->n; i++) {
        const char *nm = r->items[i].name;
        if (strncmp(nm, prefix, pl) == 0 && nm[pl] == ':' && strcmp(nm + pl + 1, rule) == 0) {
            r->items[i].count += count;
            return;
        }
    }
    char *full = cm_malloc(pl + rl + 2);
    memcpy(full, prefix, pl);
    full[pl] = ':';
    memcpy(full + pl + 1, rule, rl + 1);
    cm_reasons_add(r, full, count);
    free(full);
}

uint64_t cm_reasons_total(const cm_reasons *r)
{
    uint64_t t = 0;
    for (size_t i = 0; i < r->n; i++) t += r->items[i].count;
    return t;
}

uint64_t cm_reasons_get(const cm_reasons *r, const char *name)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->items[i].name, name) == 0) return r->items[i].count;
    return 0;
}

void cm_reasons_free(cm_reasons *r)
{
    for (size_t i = 0; i < r->n; i++) free(r->items[i].name);
    free(r->items);
    r->items = NULL;
    r->n = r->cap = 0;
}

void cm_counts_init(cm_counts *c) { memset(c, 0, sizeof *c); }

void cm_counts_free(cm_counts *c)
{
    cm_reasons_free(&c->removed);
    cm_reasons_free(&c->malformed_by);
}

void cm_counts_clear(cm_counts *c)
{
    cm_reasons removed = c->removed, mal = c->malformed_by;
    for (size_t i = 0; i < removed.n; i++) removed.items[i].count = 0;
    for (size_t i = 0; i < mal.n; i++) mal.items[i].count = 0;
    memset(c, 0, sizeof *c);
    c->removed = removed;
    c->malformed_by = mal;
}

void cm_counts_merge(cm_counts *into, const cm_counts *from)
{
    into->read += from->read;
    into->kept += from->kept;
    into->malformed += from->malformed;
    into->bytes_in += from->bytes_in;
    into->bytes_out += from->bytes_out;
    into->modified += from->modified;
    into->utf8_repaired += from->utf8_repaired;
    into->blank_lines += from->blank_lines;
    for (size_t i = 0; i < from->removed.n; i++)
        if (from->removed.items[i].count) cm_reasons_add(&into->removed, from->removed.items[i].name, from->removed.items[i].count);
    for (size_t i = 0; i < from->malformed_by.n; i++)
        if (from->malformed_by.items[i].count)
            cm_reasons_add(&into->malformed_by, from->malformed_by.items[i].name, from->malformed_by.items[i].count);
}

int cm_counts_balanced(const cm_counts *c)
{
    return c->read == c->kept + cm_reasons_total(&c->removed) + c->malformed;
}

void cm_task_stats_init(cm_task_stats *s)
{
    memset(s, 0, sizeof *s);
    cm_counts_init(&s->counts);
}

void cm_task_stats_free(cm_task_stats *s)
{
    cm_counts_free(&s->counts);
    cm_reasons_free(&s->outputs);
    cm_reasons_free(&s->input_errors_by);
}

static int by_count_desc(const void *a, const void *b)
{
    const cm_reason *x = a, *y = b;
    if (x->count != y->count) return x->count > y->count ? -1 : 1;
    return strcmp(x->name, y->name);
}

void cm_reasons_sort(cm_reasons *r)
{
    if (r->n) qsort(r->items, r->n, sizeof *r->items, by_count_desc);
}

/* Reasons as a JSON object, largest first (zero counts left out). */
static void reasons_json(const cm_reasons *r, cm_buf *out)
{
    cm_reason *sorted = cm_calloc(r->n ? r->n : 1, sizeof *sorted);
    if (r->n) memcpy(sorted, r->items, r->n * sizeof *sorted);
    qsort(sorted, r->n, sizeof *sorted, by_count_desc);
    cm_buf_append_char(out, '{');
    int first = 1;
    for (size_t i = 0; i < r->n; i++) {
        if (!sorted[i].count) continue;
        if (!first) cm_buf_append_str(out, ", ");
        first = 0;
        cm_buf_append_json_string(out, sorted[i].name, strlen(sorted[i].name));
        cm_buf_appendf(out, ": %llu", (unsigned long long)sorted[i].count);
    }
    cm_buf_append_char(out, '}');
    free(sorted);
}

static void counts_json(const cm_counts *c, double seconds, cm_buf *out)
{
    cm_buf_appendf(out, "\"read\": %llu, \"kept\": %llu, \"removed\": ", (unsigned long long)c->read,
                   (unsigned long long)c->kept);
    reasons_json(&c->removed, out);
    cm_buf_appendf(out, ", \"malformed\": %llu, \"bytes_in\": %llu, \"bytes_out\": %llu, \"seconds\": %.3f",
                   (unsigned long long)c->malformed, (unsigned long long)c->bytes_in,
                   (unsigned long long)c->bytes_out, seconds);
    cm_buf_appendf(out, ", \"removed_total\": %llu, \"malformed_by\": ", (unsigned long long)cm_reasons_total(&c->removed));
    reasons_json(&c->malformed_by, out);
    cm_buf_appendf(out, ", \"modified\": %llu, \"utf8_repaired\": %llu, \"blank_lines\": %llu, \"balanced\": %s",
                   (unsigned long long)c->modified, (unsigned long long)c->utf8_repaired,
                   (unsigned long long)c->blank_lines, cm_counts_balanced(c) ? "true" : "false");
}

void cm_task_stats_json(const cm_task_stats *s, cm_buf *out)
{
    cm_buf_appendf(out, "{\"stage\": \"%s\", \"task\": %d, \"tasks\": %d, ", s->stage, s->task, s->tasks);
    counts_json(&s->counts, s->seconds, out);
    cm_buf_appendf(out,
                   ", \"files\": %llu, \"file_bytes\": %llu, \"empty_files\": %llu, \"input_errors\": %llu, "
                   "\"parts\": %llu, \"threads\": %d, \"peak_rss_kb\": %ld, \"outputs\": ",
                   (unsigned long long)s->files, (unsigned long long)s->file_bytes,
                   (unsigned long long)s->empty_files, (unsigned long long)s->input_errors,
                   (unsigned long long)s->parts, s->threads, s->peak_rss_kb);
    reasons_json(&s->outputs, out);
    cm_buf_append_str(out, ", \"input_errors_by\": ");
    reasons_json(&s->input_errors_by, out);
    cm_buf_append_str(out, "}\n");
}

int cm_task_stats_write(const cm_task_stats *s, const char *path, cm_err *err)
{
    cm_buf b;
    cm_buf_init(&b);
    cm_task_stats_json(s, &b);
    int r = cm_write_file_atomic(path, b.data, b.len, err);
    cm_buf_free(&b);
    return r;
}

static int stats_visit(void *user, const char *const *path, int depth, cm_json_type type, double num,
                       const char *str, size_t len)
{
    cm_task_stats *s = user;
    if (depth == 2 && type == CM_JSON_NUMBER) {
        char key[512];
        snprintf(key, sizeof key, "%s", path[1]);
        if (!strcmp(path[0], "removed")) cm_reasons_add(&s->counts.removed, key, (uint64_t)num);
        else if (!strcmp(path[0], "malformed_by")) cm_reasons_add(&s->counts.malformed_by, key, (uint64_t)num);
        else if (!strcmp(path[0], "outputs")) cm_reasons_add(&s->outputs, key, (uint64_t)num);
        else if (!strcmp(path[0], "input_errors_by")) cm_reasons_add(&s->input_errors_by, key, (uint64_t)num);
        return 0;
    }
    if (depth != 1) return 0;
    const char *k = path[0];
    if (type == CM_JSON_STRING && !strcmp(k, "stage")) {
        snprintf(s->stage, sizeof s->stage, "%.*s", (int)len, str);
        return 0;
    }
    if (type != CM_JSON_NUMBER) return 0;
    uint64_t u = num < 0 ? 0 : (uint64_t)num;
    if (!strcmp(k, "task")) s->task = (int)num;
    else if (!strcmp(k, "tasks")) s->tasks = (int)num;
    else if (!strcmp(k, "read")) s->counts.read = u;
    else if (!strcmp(k, "kept")) s->counts.kept = u;
    else if (!strcmp(k, "malformed")) s->counts.malformed = u;
    else if (!strcmp(k, "bytes_in")) s->counts.bytes_in = u;
    else if (!strcmp(k, "bytes_out")) s->counts.bytes_out = u;
    else if (!strcmp(k, "modified")) s->counts.modified = u;
    else if (!strcmp(k, "utf8_repaired")) s->counts.utf8_repaired = u;
    else if (!strcmp(k, "blank_lines")) s->counts.blank_lines = u;
    else if (!strcmp(k, "seconds")) s->seconds = num;
    else if (!strcmp(k, "files")) s->files = u;
    else if (!strcmp(k, "file_bytes")) s->file_bytes = u;
    else if (!strcmp(k, "empty_files")) s->empty_files = u;
    else if (!strcmp(k, "input_errors")) s->input_errors = u;
    else if (!strcmp(k, "parts")) s->parts = u;
    else if (!strcmp(k, "threads")) s->threads = (int)num;
    else if (!strcmp(k, "peak_rss_kb")) s->peak_rss_kb = (long)num;
    return 0;
}

int cm_task_stats_read(const char *path, cm_task_stats *s, cm_err *err)
{
    cm_buf b;
    cm_buf_init(&b);
    int r = cm_read_file(path, &b, 64u << 20, err);
    if (r == 0) {
        cm_err e2;
        r = cm_json_visit(b.data, b.len, stats_visit, s, &e2);
        if (r) cm_errorf(err, "%s: %s", path, e2.msg);
    }
    cm_buf_free(&b);
    return r;
}

static void add_task(cm_task_stats *sum, const cm_task_stats *t)
{
    cm_counts_merge(&sum->counts, &t->counts);
    sum->seconds += t->seconds;
    sum->files += t->files;
    sum->file_bytes += t->file_bytes;
    sum->empty_files += t->empty_files;
    sum->input_errors += t->input_errors;
    sum->parts += t->parts;
    for (size_t i = 0; i < t->outputs.n; i++) cm_reasons_add(&sum->outputs, t->outputs.items[i].name, t->outputs.items[i].count);
    for (size_t i = 0; i < t->input_errors_by.n; i++)
        cm_reasons_add(&sum->input_errors_by, t->input_errors_by.items[i].name, t->input_errors_by.items[i].count);
    sum->tasks = t->tasks;
    if (t->peak_rss_kb > sum->peak_rss_kb) sum->peak_rss_kb = t->peak_rss_kb;
}

int cm_stage_load(const char *out_dir, const char *stage, cm_task_stats *sum, int *tasks_done, cm_err *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/stats", out_dir);
    *tasks_done = 0;
    snprintf(sum->stage, sizeof sum->stage, "%s", stage);
    DIR *d = opendir(path);
    if (!d) return 0;
    size_t sl = strlen(stage);
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d)) && rc == 0) {
        size_t l = strlen(e->d_name);
        if (strncmp(e->d_name, stage, sl) != 0 || e->d_name[sl] != '-' || l < 6 || strcmp(e->d_name + l - 5, ".json"))
            continue;
        char sp[4400];
        snprintf(sp, sizeof sp, "%s/%s", path, e->d_name);
        cm_task_stats t;
        cm_task_stats_init(&t);
        rc = cm_task_stats_read(sp, &t, err);
        if (rc == 0) {
            add_task(sum, &t);
            (*tasks_done)++;
        }
        cm_task_stats_free(&t);
    }
    closedir(d);
    return rc;
}

/* Per-stage totals while merging. */
typedef struct stage_total {
    char name[32];
    cm_task_stats sum;
    int tasks_done;
} stage_total;

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int cm_summary_write(const char *out_dir, cm_err *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/.summary.lock", out_dir);
    int lock = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0666);
    if (lock >= 0) flock(lock, LOCK_EX);

    snprintf(path, sizeof path, "%s/stats", out_dir);
    DIR *d = opendir(path);
    char **names = NULL;
    size_t n = 0, cap = 0;
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            size_t l = strlen(e->d_name);
            if (l < 6 || strcmp(e->d_name + l - 5, ".json") != 0) continue;
            if (n == cap) { cap = cap ? cap * 2 : 16; names = cm_realloc(names, cap * sizeof *names); }
            names[n++] = cm_strdup(e->d_name);
        }
        closedir(d);
    }
    if (n) qsort(names, n, sizeof *names, cmp_str);

    stage_total *stages = NULL;
    size_t ns = 0;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        char sp[4400];
        snprintf(sp, sizeof sp, "%s/stats/%s", out_dir, names[i]);
        cm_task_stats t;
        cm_task_stats_init(&t);
        if (cm_task_stats_read(sp, &t, err)) { cm_task_stats_free(&t); rc = -1; break; }
        size_t k;
        for (k = 0; k < ns; k++) if (!strcmp(stages[k].name, t.stage)) break;
        if (k == ns) {
            stages = cm_realloc(stages, (ns + 1) * sizeof *stages);
            memset(&stages[ns], 0, sizeof stages[ns]);
            snprintf(stages[ns].name, sizeof stages[ns].name, "%s", t.stage);
            cm_task_stats_init(&stages[ns].sum);
            ns++;
        }
        stage_total *st = &stages[k];
        add_task(&st->sum, &t);
        st->tasks_done++;
        cm_task_stats_free(&t);
    }
    if (rc == 0) {
        cm_buf b;
        cm_buf_init(&b);
        cm_buf_append_str(&b, "{\n  \"stages\": {");
        int all_balanced = 1;
        for (size_t k = 0; k < ns; k++) {
            stage_total *st = &stages[k];
            cm_buf_appendf(&b, "%s\n    \"%s\": {", k ? "," : "", st->name);
            counts_json(&st->sum.counts, st->sum.seconds, &b);
            cm_buf_appendf(&b,
                           ", \"tasks\": %d, \"tasks_done\": %d, \"files\": %llu, \"file_bytes\": %llu, "
                           "\"empty_files\": %llu, \"input_errors\": %llu, \"parts\": %llu, \"peak_rss_kb\": %ld",
                           st->sum.tasks, st->tasks_done, (unsigned long long)st->sum.files,
                           (unsigned long long)st->sum.file_bytes, (unsigned long long)st->sum.empty_files,
                           (unsigned long long)st->sum.input_errors, (unsigned long long)st->sum.parts,
                           st->sum.peak_rss_kb);
            if (st->sum.outputs.n) {
                cm_buf_append_str(&b, ", \"outputs\": ");
                reasons_json(&st->sum.outputs, &b);
            }
            if (st->sum.input_errors_by.n) {
                cm_buf_append_str(&b, ", \"input_errors_by\": ");
                reasons_json(&st->sum.input_errors_by, &b);
            }
            cm_buf_append_char(&b, '}');
            all_balanced &= cm_counts_balanced(&st->sum.counts);
        }
        cm_buf_appendf(&b, "\n  },\n  \"balanced\": %s\n}\n", all_balanced ? "true" : "false");
        snprintf(path, sizeof path, "%s/summary.json", out_dir);
        rc = cm_write_file_atomic(path, b.data, b.len, err);
        cm_buf_free(&b);
    }
    for (size_t k = 0; k < ns; k++) cm_task_stats_free(&stages[k].sum);
    free(stages);
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    if (lock >= 0) { flock(lock, LOCK_UN); close(lock); }
    return rc;
}
