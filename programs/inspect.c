/* inspect.c -- commands that look at an output directory without changing
 * it: `corpusmill status OUT` (which tasks of which stage are done, and the
 * funnel so far) and `corpusmill digest OUT` (an order-independent checksum
 * of the kept records and of the chunk set, the same however the work was
 * split; of a RAG export, of its chunks). */
#define _GNU_SOURCE
#include "program.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <string.h>
#include <xxhash.h>

#include "../index/rag.h"
#include "../pipeline/format.h"
#include "../pipeline/layout.h"
#include "../pipeline/source.h"
#include "../pipeline/stats.h"
#include "../pipeline/writer.h"

/* Every step's marker, in the order a run goes through them (a marker two
 * steps share, as index's, where the later one is). Returns how many. */
static int markers_in_order(const char **out, int cap)
{
    int n = 0;
    for (size_t i = 0; cm_stages[i]; i++) {
        const cm_stage_def *d = cm_stages[i];
        for (int k = 0; k < d->n_steps; k++) {
            const char *m = d->steps[k].marker;
            int later = 0;
            for (int j = k + 1; j < d->n_steps; j++) later |= !strcmp(d->steps[j].marker, m);
            if (!later && n < cap) out[n++] = m;
        }
    }
    return n;
}

static int count_markers(const char *out, const char *stage, int tasks)
{
    int done = 0;
    for (int t = 0; t < tasks; t++) done += cm_path_exists(cm_marker_path(out, stage, t).s);
    return done;
}

/* For each unfinished task of a stage launched on Slurm: the tail of its
 * newest log (OUT/slurm/logs/STAGE-JOB_TASK.log), which says why it failed
 * or how far it got. */
static void print_log_tails(const char *out, const char *stage, int tasks)
{
    char dir[4400];
    snprintf(dir, sizeof dir, "%s/slurm/logs", out);
    size_t n;
    char prefix[64];
    snprintf(prefix, sizeof prefix, "%s-", stage);
    char **logs = cm_list_dir(dir, prefix, &n);
    for (int t = 0; t < tasks; t++) {
        if (cm_path_exists(cm_marker_path(out, stage, t).s)) continue;
        char suffix[32];
        snprintf(suffix, sizeof suffix, "_%d.log", t);
        const char *newest = NULL;
        time_t newest_time = 0;
        for (size_t i = 0; i < n; i++) {
            size_t l = strlen(logs[i]), sl = strlen(suffix);
            /* STAGE-JOB_TASK.log, not another stage sharing the prefix (dedup- vs dedup_x-) */
            const char *rest = logs[i] + strlen(dir) + 1 + strlen(prefix);
            if (l < sl || strcmp(logs[i] + l - sl, suffix) != 0 || strspn(rest, "0123456789") == 0) continue;
            struct stat st;
            if (stat(logs[i], &st) == 0 && (!newest || st.st_mtime >= newest_time)) {
                newest = logs[i];
                newest_time = st.st_mtime;
            }
        }
        if (!newest) {
            printf("  task %d: not finished (no Slurm log)\n", t);
            continue;
        }
        cm_buf b;
        cm_buf_init(&b);
        if (cm_read_file(newest, &b, 64u << 20, NULL) == 0) {
            /* the last 5 lines */
            size_t end = b.len;
            while (end > 0 && b.data[end - 1] == '\n') end--;
            size_t start = end;
            for (int lines = 0; start > 0; start--)
                if (b.data[start - 1] == '\n' && ++lines == 5) break;
            printf("  task %d: not finished; %s ends:\n", t, newest);
            const char *p = b.data + start, *e = b.data + end;
            while (p < e) {
                const char *nl = memchr(p, '\n', (size_t)(e - p));
                if (!nl) nl = e;
                printf("    | %.*s\n", (int)(nl - p), p);
                p = nl + 1;
            }
        }
        cm_buf_free(&b);
    }
    cm_free_list(logs, n);
}

/* The one positional OUT of status and digest. */
static int parse_out(const char *command, const char *usage, int argc, char **argv, const char **out, int *help)
{
    static const char *const names[] = {"OUT"};
    cm_args a = {command, usage, NULL, out, names, 1, 1};
    return cm_args_parse(&a, argc, argv, help);
}

int cm_cmd_status(int argc, char **argv)
{
    const char *out = NULL;
    int help, rc = parse_out("status", cm_status_usage, argc, argv, &out, &help);
    if (rc || help) return rc;
    char path[4400];
    snprintf(path, sizeof path, "%s/_done", out);
    if (!cm_is_dir(path)) {
        fprintf(stderr, "corpusmill status: %s has no _done/ (not an output directory, or nothing has run)\n", out);
        return CM_EXIT_USAGE;
    }
    printf("%-17s %11s %9s %9s %9s %9s\n", "stage", "tasks done", "read", "kept", "removed", "malformed");
    int unfinished = 0;
    const char *markers[32];
    int n_markers = markers_in_order(markers, 32);
    for (int i = 0; i < n_markers; i++) {
        int tasks = cm_stage_tasks(out, markers[i]);
        if (!tasks) continue;
        int done = count_markers(out, markers[i], tasks);
        unfinished += done < tasks;
        cm_task_stats sum;
        cm_task_stats_init(&sum);
        int with_stats = 0;
        cm_stage_load(out, markers[i], &sum, &with_stats, NULL);
        char ratio[32];
        snprintf(ratio, sizeof ratio, "%d/%d", done, tasks);
        if (with_stats)
            printf("%-17s %11s %9llu %9llu %9llu %9llu%s\n", markers[i], ratio, (unsigned long long)sum.counts.read,
                   (unsigned long long)sum.counts.kept, (unsigned long long)cm_reasons_total(&sum.counts.removed),
                   (unsigned long long)sum.counts.malformed, done < tasks ? "  (running or failed)" : "");
        else
            printf("%-17s %11s %9s %9s %9s %9s%s\n", markers[i], ratio, "-", "-", "-", "-",
                   done < tasks ? "  (running or failed)" : "");
        cm_task_stats_free(&sum);
        if (done < tasks) print_log_tails(out, markers[i], tasks);
    }
    printf("%s\n", unfinished ? "some stages have unfinished tasks: run the same command again (run, or launch slurm --submit)"
                              : "every started stage has finished");
    return CM_EXIT_OK;
}

const char cm_status_usage[] =
    "usage: corpusmill status OUT\n"
    "\n"
    "Prints, for every stage that has started in OUT, how many of its tasks are\n"
    "done, and its counts so far (read, kept, removed, malformed). For a run\n"
    "launched on Slurm, each unfinished task's newest log ends the listing of\n"
    "its stage (OUT/slurm/logs/STAGE-JOB_TASK.log).\n";

/* ---- digest ---- */

typedef struct digest {
    uint64_t n, sum_hi, sum_lo, x_hi, x_lo;
} digest;

static void add_record(digest *d, const char *data, size_t len)
{
    XXH128_hash_t h = XXH3_128bits(data, len);
    uint64_t lo = d->sum_lo + h.low64;
    d->sum_hi += h.high64 + (lo < d->sum_lo);
    d->sum_lo = lo;
    d->x_hi ^= h.high64;
    d->x_lo ^= h.low64;
    d->n++;
}

typedef struct line_sink {
    digest *d;
    int failed;
} line_sink;

static void on_line(void *user, const char *data, size_t len, uint64_t line, uint64_t offset, int kind, int damage,
                    uint64_t full_len)
{
    (void)line; (void)offset; (void)kind; (void)full_len;
    line_sink *s = user;
    if (damage) s->failed = 1;
    else add_record(s->d, data, len);
}

static void on_blank(void *user) { (void)user; }

/* Every record of OUT/<dir>/part-* into d. */
static int digest_dir(const char *out, const char *dir, digest *d, cm_err *err)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", out, dir);
    size_t n;
    char **parts = cm_list_dir(path, "part-", &n);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        cm_source *src = cm_source_open(parts[i], err);
        if (!src) { rc = -1; break; }
        const char *member;
        line_sink s = {d, 0};
        cm_record_sink sink = {on_line, on_blank, &s};
        if (cm_source_next_member(src, &member, err) == 1 && cm_format_read_lines(src, 1u << 30, CM_REC_JSON, &sink, err))
            rc = -1;
        cm_source_close(src);
        if (s.failed && rc == 0) rc = cm_errorf(err, "%s: a damaged record", parts[i]);
    }
    cm_free_list(parts, n);
    return rc;
}

static void print_digest(const char *what, const char *dir, const digest *d)
{
    printf("%-7s %-28s %10llu records  %016llx%016llx\n", what, dir, (unsigned long long)d->n,
           (unsigned long long)(d->sum_hi ^ d->x_lo), (unsigned long long)(d->sum_lo ^ d->x_hi));
}

static void on_chunk(void *user, const char *line, size_t len) { add_record(user, line, len); }

/* A RAG export: its chunks' content, whatever generation. */
static int digest_export(const char *dir)
{
    cm_err err;
    cm_rag *r = cm_rag_open(dir, &err);
    if (!r) return cm_fail("digest", &err);
    digest d = {0, 0, 0, 0, 0};
    int rc = cm_rag_chunk_lines(r, on_chunk, &d, &err) ? cm_fail("digest", &err) : CM_EXIT_OK;
    if (rc == CM_EXIT_OK) print_digest("export", "chunks", &d);
    cm_rag_close(r);
    return rc;
}

int cm_cmd_digest(int argc, char **argv)
{
    const char *out = NULL;
    int help, rc = parse_out("digest", cm_digest_usage, argc, argv, &out, &help);
    if (rc || help) return rc;
    char manifest[4400];
    snprintf(manifest, sizeof manifest, "%s/manifest.json", out);
    if (cm_path_exists(manifest)) return digest_export(out);
    /* every output of kept documents there is, one line each */
    static const char *const kept[] = {"clean", "dedup", "semdedup", "decontam/kept", NULL};
    cm_err err;
    int shown = 0;
    for (int i = 0; kept[i]; i++) {
        char path[4400];
        snprintf(path, sizeof path, "%s/%s", out, kept[i]);
        if (!cm_is_dir(path)) continue;
        digest d = {0, 0, 0, 0, 0};
        if (digest_dir(out, kept[i], &d, &err)) { fprintf(stderr, "corpusmill digest: %s\n", err.msg); return CM_EXIT_FAILED; }
        print_digest("kept", kept[i], &d);
        shown = 1;
    }
    if (!shown) {
        fprintf(stderr, "corpusmill digest: %s has no kept records (clean/, dedup/, ...)\n", out);
        return CM_EXIT_USAGE;
    }
    char path[4400];
    snprintf(path, sizeof path, "%s/chunks", out);
    if (cm_is_dir(path)) {
        digest d = {0, 0, 0, 0, 0};
        if (digest_dir(out, "chunks", &d, &err)) { fprintf(stderr, "corpusmill digest: %s\n", err.msg); return CM_EXIT_FAILED; }
        print_digest("chunks", "chunks", &d);
    }
    return CM_EXIT_OK;
}

const char cm_digest_usage[] =
    "usage: corpusmill digest OUT | RAG_DIR\n"
    "\n"
    "Of a RAG export (OUT/rag/), the same over its chunks' content (document\n"
    "id, position, headings, text, metadata): equal for an export built in one\n"
    "go and one brought to the same documents by `index update`.\n"
    "Of OUT:\n"
    "An order-independent checksum (XXH3-128 of every record, summed and XORed)\n"
    "of each output of kept documents (clean/, dedup/, semdedup/, decontam/kept/)\n"
    "and of the chunk records the RAG export is built from, one line each. The\n"
    "same input and config give the same digests for any --tasks and thread\n"
    "count.\n";
