/* cli.c -- argument parsing and the commands: run (the whole pipeline on one
 * machine, tasks as child processes), clean (one task of the clean stage),
 * filters and config (reference). Stages are library calls; this file only
 * parses, dispatches and reports. */
#define _GNU_SOURCE
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../filters/filter.h"
#include "clean.h"
#include "../dedup/dedup.h"
#include "../embed/embed_stage.h"
#include "../index/index_stage.h"
#include "../index/query.h"
#include "../index/eval.h"
#include "../index/serve.h"
#include "../index/pretrain.h"
#include "../index/decontam.h"
#include "../embed/embed_text.h"
#include "config.h"
#include "inputs.h"
#include "launch.h"
#include "plan.h"
#include "report.h"
#include "progress.h"
#include "inspect.h"
#include "stage.h"
#include "stats.h"
#include "writer.h"

#define VERSION "0.1.0"

static const char USAGE[] =
    "corpusmill " VERSION " -- clean, deduplicate and index LLM pretraining text\n"
    "\n"
    "usage: corpusmill COMMAND [ARGS]\n"
    "\n"
    "commands:\n"
    "  run CONFIG      run the pipeline on this machine (tasks in parallel processes)\n"
    "  clean CONFIG    run one task of the clean stage (--task I --tasks N)\n"
    "  dedup STEP CONFIG  one task of a dedup step: signatures, buckets, clusters, filter\n"
    "  embed CONFIG    one task of the embed stage: chunks and vectors (--task I --tasks N)\n"
    "  embed-text      embed the lines of stdin (--model hash|DIR; see embed-text --help)\n"
    "  index CONFIG    build the RAG export OUT/rag/ (FAISS index, SQLite chunk store)\n"
    "  pretrain CONFIG document vectors, k-means clusters, a document index (OUT/index/pretrain/)\n"
    "  decontaminate CONFIG  documents sharing 13-grams with evaluation sets: report, or remove\n"
    "  query RAG_DIR TEXT  search an export: dense, bm25 or hybrid\n"
    "  serve RAG_DIR   HTTP search over an export (POST /search, GET /healthz, /manifest)\n"
    "  eval-retrieval --qa FILE  recall@k, MRR, precision@5 per search mode on a QA set\n"
    "  launch slurm CONFIG  sbatch scripts for every step, chained job arrays (--submit)\n"
    "  report OUT      OUT/report.html: the funnel, removals, signals, clusters, time (run writes it)\n"
    "  status OUT      which tasks of which stage are done, and the counts so far\n"
    "  digest OUT      an order-independent checksum of the kept records and chunks\n"
    "  filters         list the clean steps with their options and defaults\n"
    "  config          print every config option with its default\n"
    "  help COMMAND    help on one command (or: corpusmill COMMAND --help)\n"
    "\n"
    "Exit status: 0 success, 1 the work failed, 2 bad usage or config.\n";

static const char USAGE_RUN[] =
    "usage: corpusmill run CONFIG [--input PATH]... [--out DIR] [--tasks N] [-j N] [--threads T] [--force]\n"
    "\n"
    "Runs every stage of the pipeline on this machine: the input is split into N\n"
    "tasks per stage (files i, i+N, ...), run by J worker processes. Finished tasks\n"
    "are skipped when the run is started again (--force runs them anyway).\n"
    "\n"
    "  --input PATH   input file, directory or glob; repeatable; replaces input.paths\n"
    "  --out DIR      output directory; replaces output.dir\n"
    "  --tasks N      tasks per stage (default: run.tasks, else the number of jobs)\n"
    "  -j, --jobs N   processes at once (default: run.jobs = 1)\n"
    "  --threads T    worker threads per task (default: run.threads, else cores / jobs)\n"
    "  --force        rerun tasks that already finished\n"
    "  --progress M   auto | bar | log | none (default auto: a bar on a terminal)\n";

static const char USAGE_CLEAN[] =
    "usage: corpusmill clean CONFIG --task I --tasks N [--input PATH]... [--out DIR] [--threads T] [--force]\n"
    "\n"
    "Runs task I of N of the clean stage: reads files I, I+N, I+2N, ... of the sorted\n"
    "input, normalizes and filters every record, and writes\n"
    "  OUT/clean/part-TTTTT-SSSS.jsonl.zst          kept records\n"
    "  OUT/rejected/clean/part-TTTTT-SSSS.jsonl.zst removed records with their reason\n"
    "  OUT/malformed/clean-TTTTT.jsonl              records that could not be read\n"
    "  OUT/stats/clean-TTTTT.json, OUT/summary.json counts (read = kept + removed + malformed)\n"
    "  OUT/_done/clean/TTTTT                        completion marker (a rerun is a no-op)\n"
    "\n"
    "  --task I       this task's index, 0 <= I < N (default 0)\n"
    "  --tasks N      number of tasks (default: run.tasks, which defaults to 1)\n"
    "  --input PATH   input file, directory or glob; repeatable; replaces input.paths\n"
    "  --out DIR      output directory; replaces output.dir\n"
    "  --threads T    worker threads (default: run.threads, else all cores)\n"
    "  --force        run even if the task already finished\n"
    "  --progress M   auto | bar | log | none | fd:N (default auto)\n";

typedef struct args {
    const char *config;
    char **inputs;
    size_t n_inputs;
    const char *out;
    long task, tasks, jobs, threads;
    int force;
    int progress, progress_fd;
    int help;
} args;

static int usage_error(const char *usage, const char *fmt, const char *what)
{
    fprintf(stderr, "corpusmill: ");
    fprintf(stderr, fmt, what);
    fprintf(stderr, "\n\n%s", usage);
    return CM_EXIT_USAGE;
}

static int parse_long(const char *s, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 0) return -1;
    *out = v;
    return 0;
}

static int parse_progress(const char *v, args *a)
{
    if (!strcmp(v, "auto")) a->progress = CM_PROGRESS_AUTO;
    else if (!strcmp(v, "bar")) a->progress = CM_PROGRESS_BAR;
    else if (!strcmp(v, "log")) a->progress = CM_PROGRESS_LOG;
    else if (!strcmp(v, "none")) a->progress = CM_PROGRESS_NONE;
    else if (!strncmp(v, "fd:", 3)) {
        long fd;
        if (parse_long(v + 3, &fd)) return -1;
        a->progress = CM_PROGRESS_FD;
        a->progress_fd = (int)fd;
    } else return -1;
    return 0;
}

/* Parses the options shared by run and clean. */
static int parse_args(int argc, char **argv, const char *usage, args *a)
{
    memset(a, 0, sizeof *a);
    a->task = 0;
    a->tasks = -1;
    a->jobs = -1;
    a->threads = -1;
    a->progress = CM_PROGRESS_AUTO;
    a->inputs = calloc((size_t)argc, sizeof(char *));
    for (int i = 0; i < argc; i++) {
        char *arg = argv[i];
        if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) { a->help = 1; return 0; }
        if (arg[0] != '-' || !arg[1]) {
            if (a->config) return usage_error(usage, "unexpected argument '%s'", arg);
            a->config = arg;
            continue;
        }
        /* --name=value or --name value; -jN or -j N */
        char name[64];
        const char *value = NULL;
        const char *eq = strchr(arg, '=');
        if (!strncmp(arg, "-j", 2) && arg[2] && arg[2] != '-') {
            snprintf(name, sizeof name, "-j");
            value = arg + 2;
        } else if (eq) {
            snprintf(name, sizeof name, "%.*s", (int)(eq - arg), arg);
            value = eq + 1;
        } else {
            snprintf(name, sizeof name, "%s", arg);
        }
        if (!strcmp(name, "--force")) { a->force = 1; continue; }
        static const char *const with_value[] = {"--input", "--out", "--task", "--tasks", "-j", "--jobs",
                                                 "--threads", "--progress", NULL};
        int known = 0;
        for (int k = 0; with_value[k]; k++) known |= !strcmp(with_value[k], name);
        if (!known) return usage_error(usage, "unknown option '%s'", arg);
        if (!value) {
            if (i + 1 >= argc) return usage_error(usage, "option '%s' needs a value", arg);
            value = argv[++i];
        }
        long v = 0;
        if (!strcmp(name, "--input")) a->inputs[a->n_inputs++] = (char *)value;
        else if (!strcmp(name, "--out")) a->out = value;
        else if (!strcmp(name, "--progress")) {
            if (parse_progress(value, a)) return usage_error(usage, "bad --progress '%s'", value);
        } else {
            if (parse_long(value, &v)) return usage_error(usage, "'%s' needs a non-negative integer", name);
            if (!strcmp(name, "--task")) a->task = v;
            else if (!strcmp(name, "--tasks")) a->tasks = v;
            else if (!strcmp(name, "-j") || !strcmp(name, "--jobs")) a->jobs = v;
            else if (!strcmp(name, "--threads")) a->threads = v;
        }
    }
    if (!a->config) return usage_error(usage, "%s", "a CONFIG file is required");
    if (a->tasks == 0) return usage_error(usage, "%s", "--tasks must be at least 1");
    if (a->jobs == 0) return usage_error(usage, "%s", "-j must be at least 1");
    return 0;
}

static cm_config *load_config(const args *a);

/* A stage command's arguments and config. NULL when there is nothing more
 * to do (--help, a usage or config error), with the exit status in *rc; the
 * caller frees a->inputs in every case. */
static cm_config *stage_setup(int argc, char **argv, const char *usage, args *a, int *rc)
{
    *rc = parse_args(argc, argv, usage, a);
    if (*rc || a->help) {
        if (a->help) fputs(usage, stdout);
        return NULL;
    }
    cm_config *cfg = load_config(a);
    if (!cfg) *rc = CM_EXIT_USAGE;
    return cfg;
}

/* stage_setup for a stage that needs every document at once: --task 0
 * --tasks 1, or a usage error. */
static cm_config *one_task_setup(int argc, char **argv, const char *usage, const char *name, args *a, int *rc)
{
    cm_config *cfg = stage_setup(argc, argv, usage, a, rc);
    if (cfg && (a->tasks > 1 || a->task > 0)) {
        cm_config_free(cfg);
        char msg[160];
        snprintf(msg, sizeof msg, "%s is one task: --task 0 --tasks 1 (it needs every document at once)", name);
        *rc = usage_error(usage, "%s", msg);
        return NULL;
    }
    return cfg;
}

static cm_config *load_config(const args *a)
{
    cm_err err;
    cm_config *cfg = cm_config_load(a->config, &err);
    if (!cfg) {
        fprintf(stderr, "corpusmill: %s\n", err.msg);
        return NULL;
    }
    if (a->n_inputs) cm_config_set_inputs(cfg, a->inputs, a->n_inputs);
    if (a->out) cm_config_set_out(cfg, a->out);
    cfg->run.progress = a->progress;
    cfg->run.progress_fd = a->progress_fd;
    return cfg;
}

/* The funnel of the clean stage, and where the outputs are. */
static void print_result(const char *out)
{
    cm_task_stats sum;
    cm_task_stats_init(&sum);
    int done = 0;
    cm_stage_load(out, "clean", &sum, &done, NULL);
    const cm_counts *c = &sum.counts;
    fprintf(stderr, "corpusmill: clean: %d tasks, read %llu, kept %llu, removed %llu, malformed %llu%s\n", done,
            (unsigned long long)c->read, (unsigned long long)c->kept,
            (unsigned long long)cm_reasons_total(&c->removed), (unsigned long long)c->malformed,
            cm_counts_balanced(c) ? " (read = kept + removed + malformed)" : " (NOT BALANCED)");
    cm_reasons_sort(&sum.counts.removed);
    for (size_t i = 0; i < c->removed.n; i++)
        fprintf(stderr, "  removed   %-36s %llu\n", c->removed.items[i].name, (unsigned long long)c->removed.items[i].count);
    for (size_t i = 0; i < c->malformed_by.n; i++)
        fprintf(stderr, "  malformed %-36s %llu\n", c->malformed_by.items[i].name,
                (unsigned long long)c->malformed_by.items[i].count);
    fprintf(stderr, "  kept      %s/clean/\n  rejected  %s/rejected/clean/\n", out, out);
    if (c->malformed) fprintf(stderr, "  malformed %s/malformed/\n", out);
    cm_task_stats dd;
    cm_task_stats_init(&dd);
    int dd_done = 0;
    cm_stage_load(out, "dedup", &dd, &dd_done, NULL);
    if (dd_done) {
        fprintf(stderr, "corpusmill: dedup: read %llu, kept %llu, removed %llu", (unsigned long long)dd.counts.read,
                (unsigned long long)dd.counts.kept, (unsigned long long)cm_reasons_total(&dd.counts.removed));
        cm_reasons_sort(&dd.counts.removed);
        for (size_t i = 0; i < dd.counts.removed.n; i++)
            fprintf(stderr, "%s%s %llu", i ? ", " : " (", dd.counts.removed.items[i].name,
                    (unsigned long long)dd.counts.removed.items[i].count);
        fprintf(stderr, "%s\n  deduplicated %s/dedup/\n  duplicates   %s/rejected/dedup/\n", dd.counts.removed.n ? ")" : "",
                out, out);
    }
    cm_task_stats_free(&dd);
    cm_task_stats em;
    cm_task_stats_init(&em);
    int em_done = 0;
    cm_stage_load(out, "embed", &em, &em_done, NULL);
    if (em_done)
        fprintf(stderr, "corpusmill: embed: read %llu, kept %llu, removed %llu; %llu chunks, %llu vectors\n"
                        "  chunks       %s/chunks/\n  embeddings   %s/embeddings/\n",
                (unsigned long long)em.counts.read, (unsigned long long)em.counts.kept,
                (unsigned long long)cm_reasons_total(&em.counts.removed),
                (unsigned long long)cm_reasons_get(&em.outputs, "chunks"),
                (unsigned long long)cm_reasons_get(&em.outputs, "vectors"), out, out);
    cm_task_stats_free(&em);
    cm_task_stats ix;
    cm_task_stats_init(&ix);
    int ix_done = 0;
    cm_stage_load(out, "index", &ix, &ix_done, NULL);
    if (ix_done)
        fprintf(stderr, "corpusmill: index: %llu chunks in the RAG export\n  rag          %s/rag/ (corpusmill query %s/rag \"...\")\n",
                (unsigned long long)ix.counts.kept, out, out);
    cm_task_stats_free(&ix);
    cm_task_stats pt;
    cm_task_stats_init(&pt);
    int pt_done = 0;
    cm_stage_load(out, "pretrain", &pt, &pt_done, NULL);
    if (pt_done)
        fprintf(stderr, "corpusmill: pretrain: %llu documents in %llu clusters\n  clusters     %s/index/pretrain/\n",
                (unsigned long long)pt.counts.kept, (unsigned long long)cm_reasons_get(&pt.outputs, "clusters"), out);
    cm_task_stats_free(&pt);
    cm_task_stats dc;
    cm_task_stats_init(&dc);
    int dc_done = 0;
    cm_stage_load(out, "decontam", &dc, &dc_done, NULL);
    if (dc_done)
        fprintf(stderr, "corpusmill: decontaminate: %llu of %llu documents share an n-gram with an evaluation item\n"
                        "  report       %s/decontam/report.jsonl\n",
                (unsigned long long)cm_reasons_get(&dc.outputs, "contaminated"), (unsigned long long)dc.counts.read, out);
    cm_task_stats_free(&dc);
    fprintf(stderr, "  summary   %s/summary.json\n", out);
    char report_path[4400];
    snprintf(report_path, sizeof report_path, "%s/report.html", out);
    if (cm_path_exists(report_path)) fprintf(stderr, "  report    %s\n", report_path);
    cm_task_stats_free(&sum);
}

static int cmd_clean(int argc, char **argv)
{
    args a;
    int r;
    cm_config *cfg = stage_setup(argc, argv, USAGE_CLEAN, &a, &r);
    if (!cfg) { free(a.inputs); return r; }
    cm_clean_opts o = {
        .task = (int)a.task,
        .tasks = a.tasks > 0 ? (int)a.tasks : cfg->run.tasks,
        .threads = a.threads > 0 ? (int)a.threads : 0,
        .progress = a.progress,
        .progress_fd = a.progress_fd,
        .force = a.force,
    };
    cm_task_stats st;
    cm_task_stats_init(&st);
    cm_err err;
    int done = 0;
    int rc = cm_clean_task(cfg, &o, &st, &done, &err);
    if (rc != CM_EXIT_OK) fprintf(stderr, "corpusmill: clean task %d: %s\n", o.task, err.msg);
    else if (done) fprintf(stderr, "corpusmill: clean task %d of %d already finished (--force to run it again)\n", o.task, o.tasks);
    else if (o.progress != CM_PROGRESS_FD)
        fprintf(stderr, "corpusmill: clean task %d of %d: read %llu, kept %llu, removed %llu, malformed %llu in %.2f s\n",
                o.task, o.tasks, (unsigned long long)st.counts.read, (unsigned long long)st.counts.kept,
                (unsigned long long)cm_reasons_total(&st.counts.removed), (unsigned long long)st.counts.malformed,
                st.seconds);
    cm_task_stats_free(&st);
    cm_config_free(cfg);
    free(a.inputs);
    return rc;
}

/* ---- run: the local runner ---- */

typedef struct child {
    pid_t pid;
    int fd;              /* progress pipe */
    int task;
    char line[256];
    size_t line_len;
    uint64_t docs, bytes, done, total;
} child;

static int spawn_task(const char *self, const args *a, const char *config, const char *out, const char *verb,
                      const char *step, int task, int tasks, int threads, int force, child *c)
{
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) != 0) return -1;
    pid_t pid = fork();
    if (pid < 0) { close(pfd[0]); close(pfd[1]); return -1; }
    if (pid == 0) {
        dup2(pfd[1], 3);
        char task_s[32], tasks_s[32], threads_s[32];
        snprintf(task_s, sizeof task_s, "%d", task);
        snprintf(tasks_s, sizeof tasks_s, "%d", tasks);
        snprintf(threads_s, sizeof threads_s, "%d", threads);
        char **av = calloc(20 + 2 * a->n_inputs, sizeof *av);
        int n = 0;
        av[n++] = (char *)self;
        av[n++] = (char *)verb;
        if (step) av[n++] = (char *)step;
        av[n++] = (char *)config;
        av[n++] = "--task"; av[n++] = task_s;
        av[n++] = "--tasks"; av[n++] = tasks_s;
        av[n++] = "--threads"; av[n++] = threads_s;
        av[n++] = "--out"; av[n++] = (char *)out;
        av[n++] = "--progress"; av[n++] = "fd:3";
        if (force) av[n++] = "--force";
        for (size_t i = 0; i < a->n_inputs; i++) { av[n++] = "--input"; av[n++] = a->inputs[i]; }
        av[n] = NULL;
        execv(self, av);
        fprintf(stderr, "corpusmill: cannot start %s: %s\n", self, strerror(errno));
        _exit(CM_EXIT_FAILED);
    }
    close(pfd[1]);
    memset(c, 0, sizeof *c);
    c->pid = pid;
    c->fd = pfd[0];
    c->task = task;
    return 0;
}

static void read_progress(child *c)
{
    char buf[1024];
    ssize_t r = read(c->fd, buf, sizeof buf);
    if (r <= 0) { close(c->fd); c->fd = -1; return; }
    for (ssize_t i = 0; i < r; i++) {
        if (buf[i] == '\n') {
            c->line[c->line_len] = 0;
            uint64_t docs, bytes, done, total;
            if (cm_progress_parse(c->line, &docs, &bytes, &done, &total) == 0) {
                c->docs = docs;
                c->bytes = bytes;
                c->done = done;
                c->total = total;
            }
            c->line_len = 0;
        } else if (c->line_len + 1 < sizeof c->line) {
            c->line[c->line_len++] = buf[i];
        }
    }
}

/* Runs tasks 0..tasks-1 of one stage, `jobs` child processes at a time,
 * following their progress. Returns the worst exit status. */
static int run_tasks(const char *self, const args *a, const char *out, const char *verb, const char *step,
                     const char *label, int tasks, int jobs, int threads, const uint64_t *task_total, uint64_t total,
                     int *failed_tasks)
{
    if (jobs > tasks) jobs = tasks;
    child *running = calloc((size_t)jobs, sizeof *running);
    int n_running = 0, next = 0, worst = CM_EXIT_OK, rc = CM_EXIT_OK;
    uint64_t done_bytes = 0, done_docs = 0, done_in = 0;
    cm_progress progress;
    cm_progress_init(&progress, a->progress, 0, label);
    while (rc == CM_EXIT_OK && (next < tasks || n_running > 0)) {
        while (next < tasks && n_running < jobs) {
            if (spawn_task(self, a, a->config, out, verb, step, next, tasks, threads, a->force, &running[n_running]) != 0) {
                fprintf(stderr, "corpusmill: cannot start task %d: %s\n", next, strerror(errno));
                rc = CM_EXIT_FAILED;
                break;
            }
            n_running++;
            next++;
        }
        struct pollfd pfds[64];
        int np = 0;
        for (int i = 0; i < n_running && np < 64; i++)
            if (running[i].fd >= 0) { pfds[np].fd = running[i].fd; pfds[np].events = POLLIN; np++; }
        poll(pfds, (nfds_t)np, 200);
        for (int i = 0; i < n_running; i++) {
            child *c = &running[i];
            for (int k = 0; k < np; k++)
                if (pfds[k].fd == c->fd && (pfds[k].revents & (POLLIN | POLLHUP))) read_progress(c);
            int status;
            pid_t w = waitpid(c->pid, &status, WNOHANG);
            if (w == c->pid) {
                while (c->fd >= 0) read_progress(c);
                int code = WIFEXITED(status) ? WEXITSTATUS(status) : CM_EXIT_FAILED;
                if (code != CM_EXIT_OK) {
                    (*failed_tasks)++;
                    if (code > worst) worst = code;
                    cm_progress_clear(&progress);
                    fprintf(stderr, "corpusmill: %s task %d failed (exit %d)\n", label, c->task, code);
                }
                if (task_total) done_bytes += task_total[c->task];
                done_docs += c->docs;
                done_in += c->bytes;
                running[i] = running[--n_running];
                i--;
            }
        }
        uint64_t docs = done_docs, in = done_in, fb = done_bytes;
        for (int i = 0; i < n_running; i++) { docs += running[i].docs; in += running[i].bytes; fb += running[i].done; }
        if (task_total) {
            cm_progress_update(&progress, docs, in, fb, total, 0);
        } else { /* no input sizes up front: the share of tasks done, each by its own progress */
            uint64_t per_mille = (uint64_t)(next - n_running) * 1000;
            for (int i = 0; i < n_running; i++)
                if (running[i].total) per_mille += running[i].done * 1000 / running[i].total;
            cm_progress_update(&progress, docs, in, per_mille, (uint64_t)tasks * 1000, 0);
        }
    }
    cm_progress_update(&progress, done_docs, done_in, 1, 1, 1);
    cm_progress_end(&progress);
    free(running);
    return rc != CM_EXIT_OK ? rc : worst;
}

static int cmd_run(int argc, char **argv)
{
    args a;
    int r = parse_args(argc, argv, USAGE_RUN, &a);
    if (r || a.help) {
        if (a.help) fputs(USAGE_RUN, stdout);
        free(a.inputs);
        return r;
    }
    cm_config *cfg = load_config(&a);
    if (!cfg) { free(a.inputs); return CM_EXIT_USAGE; }
    int rc = CM_EXIT_OK;
    cm_err err;
    /* Everything that can be checked before work starts is checked here. */
    cm_input_list inputs;
    if (cm_inputs_expand(cfg->input.paths, cfg->input.n_paths, cfg->input.format, &inputs, &err)) {
        fprintf(stderr, "corpusmill: %s\n", err.msg);
        cm_config_free(cfg);
        free(a.inputs);
        return CM_EXIT_USAGE;
    }
    if (inputs.skipped)
        fprintf(stderr, "corpusmill: note: %llu files in the input directories are not read by format '%s' (e.g. %s)\n",
                (unsigned long long)inputs.skipped,
                cfg->input.format == CM_FORMAT_JSONL ? "jsonl" : cfg->input.format == CM_FORMAT_TEXT ? "text"
                : cfg->input.format == CM_FORMAT_LINES ? "lines" : "auto",
                inputs.first_skipped);
    const char *out = cfg->output.dir;
    if (cm_prepare_out_dir(out, &err)) {
        fprintf(stderr, "corpusmill: %s\n", err.msg);
        cm_inputs_free(&inputs);
        cm_config_free(cfg);
        free(a.inputs);
        return CM_EXIT_USAGE;
    }
    int jobs = a.jobs > 0 ? (int)a.jobs : cfg->run.jobs;
    int tasks = a.tasks > 0 ? (int)a.tasks
                : cm_conf_get(cm_conf_get(cfg->root, "run"), "tasks") ? cfg->run.tasks : jobs;
    if (jobs > tasks) jobs = tasks;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int threads = a.threads > 0 ? (int)a.threads : cfg->run.threads > 0 ? cfg->run.threads
                  : (int)(cores / jobs > 0 ? cores / jobs : 1);

    char fingerprint[17];
    cm_stage_fingerprint(cfg, fingerprint);
    if (cm_mkdirs_under(out, "_done/clean", &err) || cm_stage_claim(out, "clean", tasks, fingerprint, a.force, &err)) {
        fprintf(stderr, "corpusmill: %s\n", err.msg);
        cm_inputs_free(&inputs);
        cm_config_free(cfg);
        free(a.inputs);
        return CM_EXIT_USAGE;
    }

    /* the listing every task splits (a resumed run keeps its first one) */
    cm_inputs_free(&inputs);
    if (cm_stage_inputs(cfg, a.force, &inputs, &err)) {
        fprintf(stderr, "corpusmill: %s\n", err.msg);
        cm_config_free(cfg);
        free(a.inputs);
        return CM_EXIT_USAGE;
    }
    uint64_t *task_total = calloc((size_t)tasks, sizeof *task_total);
    uint64_t total = 0;
    for (size_t i = 0; i < inputs.n; i++) {
        task_total[i % (size_t)tasks] += inputs.files[i].size;
        total += inputs.files[i].size;
    }
    fprintf(stderr, "corpusmill: run %s: %zu input files (%.1f MB), clean in %d tasks, %d at a time, %d threads each\n",
            a.config, inputs.n, (double)total / 1e6, tasks, jobs, threads);

    char self[4096];
    ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
    if (sl <= 0) { fprintf(stderr, "corpusmill: cannot find my own executable\n"); rc = CM_EXIT_FAILED; }
    else self[sl] = 0;

    double t0 = cm_now();
    int failed_tasks = 0;
    cm_plan_step plan[CM_PLAN_MAX];
    int n_steps = cm_plan_build(cfg, tasks, plan);
    int worst = CM_EXIT_OK;
    for (int k = 0; k < n_steps && worst == CM_EXIT_OK; k++)
        worst = run_tasks(self, &a, out, plan[k].verb, plan[k].step, plan[k].label, plan[k].tasks, jobs, threads,
                          k == 0 ? task_total : NULL, k == 0 ? total : 0, &failed_tasks);
    if (cm_summary_write(out, &err)) fprintf(stderr, "corpusmill: %s\n", err.msg);
    /* every task has ended: what a killed writer left can go */
    if (worst == CM_EXIT_OK) {
        size_t stale = cm_remove_stale_temporaries(out);
        if (stale) fprintf(stderr, "corpusmill: removed %zu temporary files left by interrupted tasks\n", stale);
        if (cm_report_write(out, &err)) fprintf(stderr, "corpusmill: report: %s\n", err.msg);
    }
    print_result(out);
    fprintf(stderr, "corpusmill: finished in %.2f s%s\n", cm_now() - t0,
            failed_tasks ? " with failed tasks (rerun the same command to retry them)" : "");
    if (worst != CM_EXIT_OK) rc = worst == CM_EXIT_USAGE ? CM_EXIT_USAGE : CM_EXIT_FAILED;
    free(task_total);
    cm_inputs_free(&inputs);
    cm_config_free(cfg);
    free(a.inputs);
    return rc;
}

static const char USAGE_DEDUP[] =
    "usage: corpusmill dedup STEP CONFIG --task I --tasks N [--out DIR] [--force]\n"
    "\n"
    "Runs one task of one dedup step over OUT/clean/ (see dedup/dedup.h):\n"
    "  signatures  --tasks = the clean split: exact hashes and MinHash bands per record\n"
    "  buckets     --tasks up to bands + 1: candidate pairs, band by band\n"
    "  clusters    --tasks 1: verification and union-find; removal lists\n"
    "  filter      --tasks = the clean split: OUT/dedup/ and OUT/rejected/dedup/\n"
    "The config needs a `dedup` section (`corpusmill config` shows its options).\n";

static int cmd_dedup(int argc, char **argv)
{
    if (argc < 1 || !strcmp(argv[0], "--help") || !strcmp(argv[0], "-h")) {
        fputs(USAGE_DEDUP, argc < 1 ? stderr : stdout);
        return argc < 1 ? CM_EXIT_USAGE : CM_EXIT_OK;
    }
    const char *step = argv[0];
    args a;
    int rc;
    cm_config *cfg = stage_setup(argc - 1, argv + 1, USAGE_DEDUP, &a, &rc);
    if (!cfg) { free(a.inputs); return rc; }
    cm_err err;
    if (!cfg->dedup.enabled) {
        fprintf(stderr, "corpusmill: %s has no dedup section\n", a.config);
        rc = CM_EXIT_USAGE;
    } else {
        cm_task_stats st;
        cm_task_stats_init(&st);
        int done = 0;
        rc = cm_dedup_step(cfg, step, (int)a.task, a.tasks > 0 ? (int)a.tasks : cfg->run.tasks, a.force, &st, &done, &err);
        if (rc != CM_EXIT_OK) fprintf(stderr, "corpusmill: dedup %s task %ld: %s\n", step, a.task, err.msg);
        cm_task_stats_free(&st);
    }
    cm_config_free(cfg);
    free(a.inputs);
    return rc;
}

static const char USAGE_EMBED[] =
    "usage: corpusmill embed CONFIG --task I --tasks N [--out DIR] [--threads T] [--force]\n"
    "\n"
    "Runs task I of the embed stage over task I's kept documents (OUT/dedup/ when\n"
    "the config deduplicates, else OUT/clean/; --tasks = that stage's split):\n"
    "  OUT/chunks/part-TTTTT-SSSS.jsonl.zst      chunk records: chunk_id, doc_id,\n"
    "                                            start/end (characters), headings, text\n"
    "  OUT/embeddings/part-TTTTT-SSSS.npy        float32 vectors, L2-normalized\n"
    "  OUT/embeddings/part-TTTTT-SSSS.ids.npy    int64 chunk id of every row\n"
    "  OUT/embeddings/manifest.json              model, dimension, chunking\n"
    "The config's `embed` section picks the model (hash, or a BERT folder) and\n"
    "the chunk size (`corpusmill config` shows its options).\n"
    "\n"
    "  --threads T    BERT compute threads (default: embed.threads, else all cores)\n"
    "  --force        run even if the task already finished\n"
    "  --progress M   auto | bar | log | none | fd:N (default auto)\n";

static int cmd_embed(int argc, char **argv)
{
    args a;
    int rc;
    cm_config *cfg = stage_setup(argc, argv, USAGE_EMBED, &a, &rc);
    if (!cfg) { free(a.inputs); return rc; }
    cm_err err;
    if (!cfg->embed.enabled) {
        fprintf(stderr, "corpusmill: %s has no embed section\n", a.config);
        rc = CM_EXIT_USAGE;
    } else {
        cm_embed_opts o = {(int)a.task, a.tasks > 0 ? (int)a.tasks : cfg->run.tasks, a.threads > 0 ? (int)a.threads : 0,
                           a.force, a.progress, a.progress_fd};
        cm_task_stats st;
        cm_task_stats_init(&st);
        int done = 0;
        rc = cm_embed_task(cfg, &o, &st, &done, &err);
        if (rc != CM_EXIT_OK) fprintf(stderr, "corpusmill: embed task %d: %s\n", o.task, err.msg);
        else if (done) fprintf(stderr, "corpusmill: embed task %d of %d already finished (--force to run it again)\n", o.task, o.tasks);
        else if (o.progress != CM_PROGRESS_FD)
            fprintf(stderr, "corpusmill: embed task %d of %d: %llu documents, %llu chunks, %llu vectors in %.2f s\n", o.task,
                    o.tasks, (unsigned long long)st.counts.kept, (unsigned long long)cm_reasons_get(&st.outputs, "chunks"),
                    (unsigned long long)cm_reasons_get(&st.outputs, "vectors"), st.seconds);
        cm_task_stats_free(&st);
    }
    cm_config_free(cfg);
    free(a.inputs);
    return rc;
}

static const char USAGE_INDEX[] =
    "usage: corpusmill index [train|add|merge] CONFIG [--task I --tasks N] [--out DIR] [--force]\n"
    "\n"
    "Builds the RAG export from embed's outputs (after every embed task), in one\n"
    "go or in steps a cluster can spread: train (one task: the factory, trained\n"
    "on a sample), add (N tasks, each its share of the embeddings parts), merge\n"
    "(one task: IVF shards merged, other kinds rebuilt; the chunk store):\n"
    "  OUT/rag/index.faiss     FAISS index of the chunk vectors (ids = chunk ids)\n"
    "  OUT/rag/chunks.sqlite   the chunks, and an FTS5 table for BM25\n"
    "  OUT/rag/manifest.json   embedder, chunking, index factory, counts, sha256\n"
    "The config's `index` section picks the FAISS factory (`corpusmill config`).\n";

static int cmd_index(int argc, char **argv)
{
    const char *step = NULL;
    if (argc > 0 && (!strcmp(argv[0], "train") || !strcmp(argv[0], "add") || !strcmp(argv[0], "merge"))) {
        step = argv[0];
        argc--;
        argv++;
    }
    args a;
    int rc;
    cm_config *cfg = stage_setup(argc, argv, USAGE_INDEX, &a, &rc);
    if (!cfg) { free(a.inputs); return rc; }
    cm_err err;
    cm_task_stats st;
    cm_task_stats_init(&st);
    int done = 0;
    rc = cm_index_step(cfg, step, (int)a.task, a.tasks > 0 ? (int)a.tasks : 1, a.force, &st, &done, &err);
    if (rc != CM_EXIT_OK) fprintf(stderr, "corpusmill: index%s%s: %s\n", step ? " " : "", step ? step : "", err.msg);
    else if (done) fprintf(stderr, "corpusmill: index%s%s already finished (--force to run it again)\n", step ? " " : "", step ? step : "");
    else if (a.progress != CM_PROGRESS_FD && (!step || !strcmp(step, "merge")))
        fprintf(stderr, "corpusmill: index: %llu chunks in %s/rag/ in %.2f s\n", (unsigned long long)st.counts.kept,
                cfg->output.dir, st.seconds);
    else if (a.progress != CM_PROGRESS_FD)
        fprintf(stderr, "corpusmill: index %s task %ld: done in %.2f s\n", step, a.task, st.seconds);
    cm_task_stats_free(&st);
    cm_config_free(cfg);
    free(a.inputs);
    return rc;
}

static const char USAGE_PRETRAIN[] =
    "usage: corpusmill pretrain CONFIG [--out DIR] [--force]\n"
    "\n"
    "After embed: every document's vector (the normalized mean of its chunks),\n"
    "spherical k-means over them with FAISS, and OUT/index/pretrain/: a cluster\n"
    "for every document (clusters-*.jsonl.zst), the cluster sizes (clusters.json),\n"
    "the centroids (centroids.npy) and a document index (documents.faiss).\n"
    "The config's `pretrain` section sets K, iterations, seed and threads.\n";

static int cmd_pretrain(int argc, char **argv)
{
    args a;
    int rc;
    cm_config *cfg = one_task_setup(argc, argv, USAGE_PRETRAIN, "pretrain", &a, &rc);
    if (!cfg) { free(a.inputs); return rc; }
    cm_err err;
    cm_task_stats st;
    cm_task_stats_init(&st);
    int done = 0;
    rc = cm_pretrain_task(cfg, a.force, &st, &done, &err);
    if (rc != CM_EXIT_OK) fprintf(stderr, "corpusmill: pretrain: %s\n", err.msg);
    else if (done) fprintf(stderr, "corpusmill: pretrain already finished (--force to run it again)\n");
    else if (a.progress != CM_PROGRESS_FD)
        fprintf(stderr, "corpusmill: pretrain: %llu documents in %llu clusters in %.2f s\n", (unsigned long long)st.counts.kept,
                (unsigned long long)cm_reasons_get(&st.outputs, "clusters"), st.seconds);
    cm_task_stats_free(&st);
    cm_config_free(cfg);
    free(a.inputs);
    return rc;
}

static const char USAGE_DECONTAM[] =
    "usage: corpusmill decontaminate CONFIG [--out DIR] [--force]\n"
    "\n"
    "Checks the kept documents (OUT/dedup/, or OUT/clean/) against the config's\n"
    "decontam.eval_sets (SQuAD JSON or JSON Lines): a document sharing 13\n"
    "consecutive words, or 13 CJK characters, with an evaluation item is a hit.\n"
    "Writes OUT/decontam/report.jsonl with both texts; with decontam.remove,\n"
    "OUT/decontam/kept/ and OUT/rejected/decontam/ (reason decontam:ngram).\n";

static int cmd_decontam(int argc, char **argv)
{
    args a;
    int rc;
    cm_config *cfg = one_task_setup(argc, argv, USAGE_DECONTAM, "decontaminate", &a, &rc);
    if (!cfg) { free(a.inputs); return rc; }
    cm_err err;
    cm_task_stats st;
    cm_task_stats_init(&st);
    int done = 0;
    rc = cm_decontam_task(cfg, a.force, &st, &done, &err);
    if (rc != CM_EXIT_OK) fprintf(stderr, "corpusmill: decontaminate: %s\n", err.msg);
    else if (done) fprintf(stderr, "corpusmill: decontaminate already finished (--force to run it again)\n");
    else if (a.progress != CM_PROGRESS_FD)
        fprintf(stderr, "corpusmill: decontaminate: %llu of %llu documents share an n-gram with %llu evaluation items%s\n",
                (unsigned long long)cm_reasons_get(&st.outputs, "contaminated"), (unsigned long long)st.counts.read,
                (unsigned long long)cm_reasons_get(&st.outputs, "eval_items"), cfg->decontam.remove ? " (removed)" : "");
    cm_task_stats_free(&st);
    cm_config_free(cfg);
    free(a.inputs);
    return rc;
}

static int cmd_filters(void)
{
    for (size_t i = 0; cm_filters[i]; i++) {
        printf("%s -- %s\n\n%s\n", cm_filters[i]->name, cm_filters[i]->summary, cm_filters[i]->defaults);
    }
    return 0;
}

int cm_cli_main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        fputs(USAGE, argc < 2 ? stderr : stdout);
        return argc < 2 ? CM_EXIT_USAGE : CM_EXIT_OK;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) { printf("corpusmill %s\n", VERSION); return 0; }
    if (!strcmp(cmd, "help")) {
        if (argc < 3) { fputs(USAGE, stdout); return 0; }
        if (!strcmp(argv[2], "run")) { fputs(USAGE_RUN, stdout); return 0; }
        if (!strcmp(argv[2], "clean")) { fputs(USAGE_CLEAN, stdout); return 0; }
        if (!strcmp(argv[2], "embed-text")) { fputs(cm_embed_text_usage, stdout); return 0; }
        if (!strcmp(argv[2], "embed")) { fputs(USAGE_EMBED, stdout); return 0; }
        if (!strcmp(argv[2], "index")) { fputs(USAGE_INDEX, stdout); return 0; }
        if (!strcmp(argv[2], "pretrain")) { fputs(USAGE_PRETRAIN, stdout); return 0; }
        if (!strcmp(argv[2], "decontaminate")) { fputs(USAGE_DECONTAM, stdout); return 0; }
        if (!strcmp(argv[2], "query")) { fputs(cm_query_usage, stdout); return 0; }
        if (!strcmp(argv[2], "eval-retrieval")) { fputs(cm_eval_usage, stdout); return 0; }
        if (!strcmp(argv[2], "serve")) { fputs(cm_serve_usage, stdout); return 0; }
        if (!strcmp(argv[2], "launch")) { fputs(cm_launch_usage, stdout); return 0; }
        if (!strcmp(argv[2], "report")) { fputs(cm_report_usage, stdout); return 0; }
        if (!strcmp(argv[2], "status")) { fputs(cm_status_usage, stdout); return 0; }
        if (!strcmp(argv[2], "digest")) { fputs(cm_digest_usage, stdout); return 0; }
        if (!strcmp(argv[2], "dedup")) { fputs(USAGE_DEDUP, stdout); return 0; }
        if (!strcmp(argv[2], "filters") || !strcmp(argv[2], "config")) { fputs(USAGE, stdout); return 0; }
        fprintf(stderr, "corpusmill: no command '%s'\n\n%s", argv[2], USAGE);
        return CM_EXIT_USAGE;
    }
    if (!strcmp(cmd, "run")) return cmd_run(argc - 2, argv + 2);
    if (!strcmp(cmd, "clean")) return cmd_clean(argc - 2, argv + 2);
    if (!strcmp(cmd, "dedup")) return cmd_dedup(argc - 2, argv + 2);
    if (!strcmp(cmd, "embed")) return cmd_embed(argc - 2, argv + 2);
    if (!strcmp(cmd, "index")) return cmd_index(argc - 2, argv + 2);
    if (!strcmp(cmd, "pretrain")) return cmd_pretrain(argc - 2, argv + 2);
    if (!strcmp(cmd, "decontaminate")) return cmd_decontam(argc - 2, argv + 2);
    if (!strcmp(cmd, "query")) return cm_query_main(argc - 2, argv + 2);
    if (!strcmp(cmd, "eval-retrieval")) return cm_eval_main(argc - 2, argv + 2);
    if (!strcmp(cmd, "serve")) return cm_serve_main(argc - 2, argv + 2);
    if (!strcmp(cmd, "launch")) return cm_launch_main(argc - 2, argv + 2);
    if (!strcmp(cmd, "report")) return cm_report_main(argc - 2, argv + 2);
    if (!strcmp(cmd, "status")) return cm_status_main(argc - 2, argv + 2);
    if (!strcmp(cmd, "digest")) return cm_digest_main(argc - 2, argv + 2);
    if (!strcmp(cmd, "embed-text")) return cm_embed_text_main(argc - 2, argv + 2);
    if (!strcmp(cmd, "filters")) return cmd_filters();
    if (!strcmp(cmd, "config")) { fputs(cm_config_reference, stdout); return 0; }
    fprintf(stderr, "corpusmill: unknown command '%s'\n\n%s", cmd, USAGE);
    return CM_EXIT_USAGE;
}
