/* run.c -- `corpusmill run CONFIG`: the whole pipeline on this machine.
 * The plan's steps run one after the other; each step's tasks run as child
 * processes of this same executable (`corpusmill STAGE ... --task I`), J at
 * a time, each reporting its progress on a pipe, which this process shows
 * as one bar per step. At the end: the summary, the run report, and the
 * funnel. */
#define _GNU_SOURCE
#include "program.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../pipeline/inputs.h"
#include "../pipeline/progress.h"
#include "../pipeline/writer.h"
#include "report.h"

const char cm_run_usage[] =
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

/* What every task of the run is started with. */
typedef struct run_ctx {
    const char *self;      /* this executable */
    const char *config;
    const char *out;
    const cm_arg_list *inputs;
    int threads, force, progress;
} run_ctx;

typedef struct child {
    pid_t pid;
    int fd;              /* progress pipe */
    int task;
    char line[256];
    size_t line_len;
    uint64_t docs, bytes, done, total;
    char phase[32];      /* the phase it reports, "" none */
} child;

static int spawn_task(const run_ctx *r, const cm_plan_step *s, int task, child *c)
{
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) != 0) return -1;
    pid_t pid = fork();
    if (pid < 0) { close(pfd[0]); close(pfd[1]); return -1; }
    if (pid == 0) {
        dup2(pfd[1], 3);
        char task_s[32], tasks_s[32], threads_s[32];
        snprintf(task_s, sizeof task_s, "%d", task);
        snprintf(tasks_s, sizeof tasks_s, "%d", s->tasks);
        snprintf(threads_s, sizeof threads_s, "%d", r->threads);
        char **av = calloc(20 + 2 * r->inputs->n, sizeof *av);
        int n = 0;
        av[n++] = (char *)r->self;
        av[n++] = (char *)s->verb;
        if (s->name) av[n++] = (char *)s->name;
        av[n++] = (char *)r->config;
        av[n++] = "--task"; av[n++] = task_s;
        av[n++] = "--tasks"; av[n++] = tasks_s;
        av[n++] = "--threads"; av[n++] = threads_s;
        av[n++] = "--out"; av[n++] = (char *)r->out;
        av[n++] = "--progress"; av[n++] = "fd:3";
        if (r->force) av[n++] = "--force";
        for (size_t i = 0; i < r->inputs->n; i++) { av[n++] = "--input"; av[n++] = (char *)r->inputs->items[i]; }
        av[n] = NULL;
        execv(r->self, av);
        fprintf(stderr, "corpusmill: cannot start %s: %s\n", r->self, strerror(errno));
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
            if (cm_progress_parse(c->line, &docs, &bytes, &done, &total, c->phase, sizeof c->phase) == 0) {
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

/* Runs the tasks of one step, `jobs` child processes at a time, following
 * their progress. Returns the worst exit status. */
static int run_step(const run_ctx *r, const cm_plan_step *s, int jobs, const uint64_t *task_total, uint64_t total,
                    int *failed_tasks)
{
    int tasks = s->tasks;
    if (jobs > tasks) jobs = tasks;
    child *running = calloc((size_t)jobs, sizeof *running);
    int n_running = 0, next = 0, worst = CM_EXIT_OK, rc = CM_EXIT_OK;
    uint64_t done_bytes = 0, done_docs = 0, done_in = 0;
    cm_progress progress;
    cm_progress_init(&progress, r->progress, STDERR_FILENO, s->label);
    while (rc == CM_EXIT_OK && (next < tasks || n_running > 0)) {
        while (next < tasks && n_running < jobs) {
            if (spawn_task(r, s, next, &running[n_running]) != 0) {
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
                    fprintf(stderr, "corpusmill: %s task %d failed (exit %d)\n", s->label, c->task, code);
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
        /* the phase the running tasks are in, when they agree on one */
        const char *phase = n_running ? running[0].phase : "";
        for (int i = 1; i < n_running; i++)
            if (strcmp(running[i].phase, phase)) phase = "";
        if (strcmp(progress.phase, phase)) cm_progress_phase(&progress, phase);
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

/* One stage's line of the funnel and where its outputs are (st: its
 * summed stats). */
static void print_stage(const char *out, const char *stage, cm_task_stats *st, int tasks)
{
    const cm_counts *c = &st->counts;
    unsigned long long read = c->read, kept = c->kept, removed = cm_reasons_total(&c->removed);
    if (!strcmp(stage, "clean")) {
        fprintf(stderr, "corpusmill: clean: %d tasks, read %llu, kept %llu, removed %llu, malformed %llu%s\n", tasks, read,
                kept, removed, (unsigned long long)c->malformed,
                cm_counts_balanced(c) ? " (read = kept + removed + malformed)" : " (NOT BALANCED)");
        cm_reasons_sort(&st->counts.removed);
        for (size_t i = 0; i < c->removed.n; i++)
            fprintf(stderr, "  removed   %-36s %llu\n", c->removed.items[i].name,
                    (unsigned long long)c->removed.items[i].count);
        for (size_t i = 0; i < c->malformed_by.n; i++)
            fprintf(stderr, "  malformed %-36s %llu\n", c->malformed_by.items[i].name,
                    (unsigned long long)c->malformed_by.items[i].count);
        fprintf(stderr, "  kept      %s/clean/\n  rejected  %s/rejected/clean/\n", out, out);
        if (c->malformed) fprintf(stderr, "  malformed %s/malformed/\n", out);
    } else if (!strcmp(stage, "dedup")) {
        fprintf(stderr, "corpusmill: dedup: read %llu, kept %llu, removed %llu", read, kept, removed);
        cm_reasons_sort(&st->counts.removed);
        for (size_t i = 0; i < c->removed.n; i++)
            fprintf(stderr, "%s%s %llu", i ? ", " : " (", c->removed.items[i].name,
                    (unsigned long long)c->removed.items[i].count);
        fprintf(stderr, "%s\n  deduplicated %s/dedup/\n  duplicates   %s/rejected/dedup/\n", c->removed.n ? ")" : "", out,
                out);
    } else if (!strcmp(stage, "embed")) {
        fprintf(stderr, "corpusmill: embed: read %llu, kept %llu, removed %llu; %llu chunks, %llu vectors\n"
                        "  chunks       %s/chunks/\n  embeddings   %s/embeddings/\n",
                read, kept, removed, (unsigned long long)cm_reasons_get(&st->outputs, "chunks"),
                (unsigned long long)cm_reasons_get(&st->outputs, "vectors"), out, out);
    } else if (!strcmp(stage, "index")) {
        fprintf(stderr, "corpusmill: index: %llu chunks in the RAG export\n"
                        "  rag          %s/rag/ (corpusmill query %s/rag \"...\")\n", kept, out, out);
    } else if (!strcmp(stage, "pretrain")) {
        fprintf(stderr, "corpusmill: pretrain: %llu documents in %llu clusters\n  clusters     %s/index/pretrain/\n", kept,
                (unsigned long long)cm_reasons_get(&st->outputs, "clusters"), out);
    } else if (!strcmp(stage, "decontam")) {
        fprintf(stderr, "corpusmill: decontaminate: %llu of %llu documents share an n-gram with an evaluation item\n"
                        "  report       %s/decontam/report.jsonl\n",
                (unsigned long long)cm_reasons_get(&st->outputs, "contaminated"), read, out);
    }
}

/* The funnel, stage by stage, and where the outputs are. */
void cm_print_run_result(const char *out)
{
    for (size_t i = 0; cm_stages[i]; i++) {
        const char *stage = cm_stages[i]->name;
        cm_task_stats st;
        cm_task_stats_init(&st);
        int done = 0;
        cm_stage_load(out, stage, &st, &done, NULL);
        if (done || !strcmp(stage, "clean")) print_stage(out, stage, &st, done);
        cm_task_stats_free(&st);
    }
    fprintf(stderr, "  summary   %s/summary.json\n", out);
    char report_path[4400];
    snprintf(report_path, sizeof report_path, "%s/report.html", out);
    if (cm_path_exists(report_path)) fprintf(stderr, "  report    %s\n", report_path);
}

/* Everything that can be checked before work starts: the inputs, the
 * output directory, the split. Then the listing every task splits. */
static int prepare(cm_config *cfg, int tasks, int force, cm_input_list *inputs)
{
    cm_err err;
    if (cm_inputs_expand(cfg->input.paths, cfg->input.n_paths, cfg->input.format, inputs, &err)) {
        fprintf(stderr, "corpusmill: %s\n", err.msg);
        return CM_EXIT_USAGE;
    }
    if (inputs->skipped)
        fprintf(stderr, "corpusmill: note: %llu files in the input directories are not read by format '%s' (e.g. %s)\n",
                (unsigned long long)inputs->skipped,
                cfg->input.format == CM_FORMAT_JSONL ? "jsonl" : cfg->input.format == CM_FORMAT_TEXT ? "text"
                : cfg->input.format == CM_FORMAT_LINES ? "lines" : "auto",
                inputs->first_skipped);
    const char *out = cfg->output.dir;
    char fingerprint[17];
    cm_stage_fingerprint(cfg, fingerprint);
    if (cm_prepare_out_dir(out, &err) ||
        cm_stage_claim(out, "clean", tasks, fingerprint, force, &err)) {
        fprintf(stderr, "corpusmill: %s\n", err.msg);
        return CM_EXIT_USAGE;
    }
    /* the listing every task splits (a resumed run keeps its first one) */
    cm_inputs_free(inputs);
    if (cm_stage_inputs(cfg, force, inputs, &err)) {
        fprintf(stderr, "corpusmill: %s\n", err.msg);
        return CM_EXIT_USAGE;
    }
    return CM_EXIT_OK;
}

int cm_cmd_run(int argc, char **argv)
{
    const char *config = NULL, *out_arg = NULL;
    cm_arg_list inputs = {NULL, 0};
    long tasks_arg = 0, jobs_arg = 0, threads_arg = 0;
    int force = 0, progress[2] = {CM_PROGRESS_AUTO, 0};
    const cm_arg opts[] = {
        {"--input", NULL, CM_ARG_STRINGS, &inputs, 0, 0, NULL, NULL},
        {"--out", NULL, CM_ARG_STRING, &out_arg, 0, 0, NULL, NULL},
        {"--tasks", NULL, CM_ARG_LONG, &tasks_arg, 1, 1000000, NULL, "at least 1"},
        {"--jobs", "-j", CM_ARG_LONG, &jobs_arg, 1, 4096, NULL, "at least 1"},
        {"--threads", NULL, CM_ARG_LONG, &threads_arg, 0, 1024, NULL, NULL},
        {"--progress", NULL, CM_ARG_PARSE, progress, 0, 0, cm_parse_progress, "auto | bar | log | none"},
        {"--force", NULL, CM_ARG_FLAG, &force, 0, 0, NULL, NULL},
        {NULL, NULL, 0, NULL, 0, 0, NULL, NULL},
    };
    static const char *const names[] = {"a CONFIG file"};
    cm_args a = {"run", cm_run_usage, opts, &config, names, 1, 1};
    int help, rc = cm_args_parse(&a, argc, argv, &help);
    if (rc || help) { cm_arg_list_free(&inputs); return rc; }
    cm_config *cfg = cm_job_config(config, &inputs, out_arg, progress);
    if (!cfg) { cm_arg_list_free(&inputs); return CM_EXIT_USAGE; }
    cm_err err;
    const char *out = cfg->output.dir;
    int jobs = jobs_arg > 0 ? (int)jobs_arg : cfg->run.jobs;
    int tasks = tasks_arg > 0 ? (int)tasks_arg : cm_conf_get(cm_conf_get(cfg->root, "run"), "tasks") ? cfg->run.tasks : jobs;
    if (jobs > tasks) jobs = tasks;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int threads = threads_arg > 0 ? (int)threads_arg : cfg->run.threads > 0 ? cfg->run.threads
                  : (int)(cores / jobs > 0 ? cores / jobs : 1);

    cm_input_list listing;
    memset(&listing, 0, sizeof listing);
    rc = prepare(cfg, tasks, force, &listing);
    if (rc) {
        cm_inputs_free(&listing);
        cm_config_free(cfg);
        cm_arg_list_free(&inputs);
        return rc;
    }
    uint64_t *task_total = calloc((size_t)tasks, sizeof *task_total);
    uint64_t total = 0;
    for (size_t i = 0; i < listing.n; i++) {
        task_total[i % (size_t)tasks] += listing.files[i].size;
        total += listing.files[i].size;
    }
    fprintf(stderr, "corpusmill: run %s: %zu input files (%.1f MB), clean in %d tasks, %d at a time, %d threads each\n",
            config, listing.n, (double)total / 1e6, tasks, jobs, threads);

    char self[4096];
    ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
    if (sl <= 0) { fprintf(stderr, "corpusmill: cannot find my own executable\n"); rc = CM_EXIT_FAILED; }
    else self[sl] = 0;

    double t0 = cm_now();
    int failed_tasks = 0;
    cm_plan_step plan[CM_PLAN_MAX];
    int n_steps = cm_plan_build(cfg, tasks, plan);
    run_ctx r = {self, config, out, &inputs, threads, force, progress[0]};
    int worst = rc;
    for (int k = 0; k < n_steps && worst == CM_EXIT_OK; k++)
        worst = run_step(&r, &plan[k], jobs, k == 0 ? task_total : NULL, k == 0 ? total : 0, &failed_tasks);
    if (cm_summary_write(out, &err)) fprintf(stderr, "corpusmill: %s\n", err.msg);
    /* every task has ended: what a killed writer left can go */
    if (worst == CM_EXIT_OK) {
        size_t stale = cm_remove_stale_temporaries(out);
        if (stale) fprintf(stderr, "corpusmill: removed %zu temporary files left by interrupted tasks\n", stale);
        if (cm_report_write(out, &err)) fprintf(stderr, "corpusmill: report: %s\n", err.msg);
    }
    cm_print_run_result(out);
    fprintf(stderr, "corpusmill: finished in %.2f s%s\n", cm_now() - t0,
            failed_tasks ? " with failed tasks (rerun the same command to retry them)" : "");
    rc = worst == CM_EXIT_OK ? CM_EXIT_OK : worst == CM_EXIT_USAGE ? CM_EXIT_USAGE : CM_EXIT_FAILED;
    free(task_total);
    cm_inputs_free(&listing);
    cm_config_free(cfg);
    cm_arg_list_free(&inputs);
    return rc;
}
