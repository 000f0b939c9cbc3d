/* launch.c -- `corpusmill launch slurm`: the pipeline's steps (plan.h) as
 * Slurm job arrays, one sbatch script per step in OUT/slurm/, each array
 * waiting for the one before it (--dependency=afterok). The input listing
 * and the split are fixed here, before any job runs, so every array task
 * reads the same files. A second launch submits only the tasks that have no
 * completion marker yet: after a failure, fix the cause and launch again. */
#define _GNU_SOURCE
#include "program.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../pipeline/inputs.h"
#include "../pipeline/layout.h"

const char cm_launch_usage[] =
    "usage: corpusmill launch slurm CONFIG [--input PATH]... [--out DIR] [--tasks N]\n"
    "         [--partition P] [--account A] [--time T] [--cpus-per-task C] [--mem M]\n"
    "         [--max-running M] [--submit [--hold] | --dry-run]\n"
    "\n"
    "Writes one sbatch script per pipeline step into OUT/slurm/ (NN-STEP.sbatch,\n"
    "the last one writing OUT/report.html):\n"
    "a job array over the step's tasks (--array=0-(N-1)%M), logs per task in\n"
    "OUT/slurm/logs/STEP-JOB_TASK.log, and OUT/slurm/submit.sh, which submits\n"
    "them chained by --dependency=afterok. The input files are listed and the\n"
    "split recorded now (OUT/_done/), so every task reads the same files.\n"
    "\n"
    "  --submit          submit the steps in order (sbatch) and print their job ids;\n"
    "                    only tasks without a completion marker are submitted, so\n"
    "                    after a failure: fix the cause, launch --submit again\n"
    "  --hold            with --submit: jobs start held (scontrol release JOBID)\n"
    "  --dry-run         write the scripts and print the sbatch commands (the default)\n"
    "  --tasks N         tasks per step (default: run.tasks)\n"
    "  --cpus-per-task C cores per task, and its worker threads (default: run.threads, else 1)\n"
    "  --mem M           memory per task, as sbatch takes it (e.g. 8G)\n"
    "  --time T          time limit per task (e.g. 4:00:00)\n"
    "  --partition P, --account A   passed to sbatch\n"
    "  --max-running M   at most M tasks of one array at once (%M)\n"
    "  --input PATH, --out DIR      replace input.paths and output.dir\n"
    "\n"
    "`corpusmill status OUT` shows what is done, and the log tail of unfinished tasks.\n";

typedef struct launch_opts {
    const char *config;
    cm_arg_list inputs;
    const char *out;
    long tasks, cpus, max_running;
    const char *partition, *account, *time_limit, *mem;
    int submit, hold;
} launch_opts;

/* Values end up in shell scripts: allow only what sbatch values need. */
static int safe_value(const char *v, void *out)
{
    if (!*v || strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.:,+@%/=") != strlen(v))
        return -1;
    *(const char **)out = v;
    return 0;
}

static int parse(int argc, char **argv, launch_opts *o, int *help)
{
    memset(o, 0, sizeof *o);
    static const char *const sbatch_chars = "it has characters sbatch does not take here";
    const cm_arg opts[] = {
        {"--submit", NULL, CM_ARG_FLAG, &o->submit, 0, 0, NULL, NULL},
        {"--dry-run", NULL, CM_ARG_UNFLAG, &o->submit, 0, 0, NULL, NULL},
        {"--hold", NULL, CM_ARG_FLAG, &o->hold, 0, 0, NULL, NULL},
        {"--input", NULL, CM_ARG_STRINGS, &o->inputs, 0, 0, NULL, NULL},
        {"--out", NULL, CM_ARG_STRING, &o->out, 0, 0, NULL, NULL},
        {"--tasks", NULL, CM_ARG_LONG, &o->tasks, 1, 1000000, NULL, "a positive integer"},
        {"--cpus-per-task", NULL, CM_ARG_LONG, &o->cpus, 1, 1000000, NULL, "a positive integer"},
        {"--max-running", NULL, CM_ARG_LONG, &o->max_running, 1, 1000000, NULL, "a positive integer"},
        {"--partition", NULL, CM_ARG_PARSE, &o->partition, 0, 0, safe_value, sbatch_chars},
        {"--account", NULL, CM_ARG_PARSE, &o->account, 0, 0, safe_value, sbatch_chars},
        {"--time", NULL, CM_ARG_PARSE, &o->time_limit, 0, 0, safe_value, sbatch_chars},
        {"--mem", NULL, CM_ARG_PARSE, &o->mem, 0, 0, safe_value, sbatch_chars},
        {NULL, NULL, 0, NULL, 0, 0, NULL, NULL},
    };
    static const char *const names[] = {"a CONFIG file"};
    cm_args a = {"launch slurm", cm_launch_usage, opts, &o->config, names, 1, 1};
    int rc = cm_args_parse(&a, argc, argv, help);
    if (rc || *help) return rc;
    if (o->hold && !o->submit) return cm_usage_error("launch slurm", cm_launch_usage, "--hold goes with --submit");
    return 0;
}

/* The shell form of s, in single quotes. */
static void shell_quote(cm_buf *b, const char *s)
{
    cm_buf_append_char(b, '\'');
    for (; *s; s++) {
        if (*s == '\'') cm_buf_append_str(b, "'\\''");
        else cm_buf_append_char(b, *s);
    }
    cm_buf_append_char(b, '\'');
}

/* "1,3-5": the tasks of a step that have no marker; empty when all do. */
static void unfinished_tasks(const char *out, const cm_plan_step *s, cm_buf *spec, int *count)
{
    cm_buf_clear(spec);
    *count = 0;
    int run_start = -1;
    for (int t = 0; t <= s->tasks; t++) {
        int todo = t < s->tasks && !cm_path_exists(cm_marker_path(out, s->marker, t).s);
        if (todo) {
            (*count)++;
            if (run_start < 0) run_start = t;
        } else if (run_start >= 0) {
            if (spec->len) cm_buf_append_char(spec, ',');
            if (run_start == t - 1) cm_buf_appendf(spec, "%d", run_start);
            else cm_buf_appendf(spec, "%d-%d", run_start, t - 1);
            run_start = -1;
        }
    }
    cm_buf_append_char(spec, 0);
    spec->len--;
}

static int write_script(const launch_opts *o, const char *self, const char *cwd, const char *config, const char *out,
                        const cm_plan_step *s, int index, int cpus, char *path, size_t cap, cm_err *err)
{
    snprintf(path, cap, "%s/slurm/%02d-%s.sbatch", out, index, s->marker);
    cm_buf b;
    cm_buf_init(&b);
    cm_buf_appendf(&b, "#!/bin/bash\n# corpusmill %s: %d task%s (written by corpusmill launch slurm; submit.sh chains the steps)\n",
                   s->label, s->tasks, s->tasks == 1 ? "" : "s");
    cm_buf_appendf(&b, "#SBATCH --job-name=cm-%s\n", s->marker);
    cm_buf_appendf(&b, "#SBATCH --array=0-%d", s->tasks - 1);
    if (o->max_running > 0) cm_buf_appendf(&b, "%%%ld", o->max_running);
    cm_buf_appendf(&b, "\n#SBATCH --output=%s/slurm/logs/%s-%%A_%%a.log\n", out, s->marker);
    cm_buf_appendf(&b, "#SBATCH --chdir=%s\n#SBATCH --ntasks=1\n#SBATCH --cpus-per-task=%d\n", cwd, cpus);
    if (o->mem) cm_buf_appendf(&b, "#SBATCH --mem=%s\n", o->mem);
    if (o->time_limit) cm_buf_appendf(&b, "#SBATCH --time=%s\n", o->time_limit);
    if (o->partition) cm_buf_appendf(&b, "#SBATCH --partition=%s\n", o->partition);
    if (o->account) cm_buf_appendf(&b, "#SBATCH --account=%s\n", o->account);
    cm_buf_append_str(&b, "#SBATCH --kill-on-invalid-dep=yes\nset -eu\n"
                          "echo \"corpusmill: $SLURM_JOB_NAME task $SLURM_ARRAY_TASK_ID on $(hostname) at $(date -Is)\"\n"
                          "exec ");
    shell_quote(&b, self);
    if (!strcmp(s->verb, "report")) { /* the last job: OUT/report.html, as `run` writes at its end */
        cm_buf_append_str(&b, " report ");
        shell_quote(&b, out);
        cm_buf_append_char(&b, '\n');
        int rc = cm_write_file_atomic(path, b.data, b.len, err);
        cm_buf_free(&b);
        return rc;
    }
    cm_buf_appendf(&b, " %s", s->verb);
    if (s->name) cm_buf_appendf(&b, " %s", s->name);
    cm_buf_append_char(&b, ' ');
    shell_quote(&b, config);
    cm_buf_appendf(&b, " --task \"$SLURM_ARRAY_TASK_ID\" --tasks %d --threads \"${SLURM_CPUS_PER_TASK:-%d}\" --out ",
                   s->tasks, cpus);
    shell_quote(&b, out);
    cm_buf_append_str(&b, " --progress log");
    for (size_t i = 0; i < o->inputs.n; i++) {
        cm_buf_append_str(&b, " --input ");
        shell_quote(&b, o->inputs.items[i]);
    }
    cm_buf_append_char(&b, '\n');
    int rc = cm_write_file_atomic(path, b.data, b.len, err);
    cm_buf_free(&b);
    return rc;
}

/* Runs sbatch with argv; the job id it prints goes to id. */
static int sbatch(char *const *argv, char *id, size_t cap, cm_err *err)
{
    int pfd[2];
    if (pipe(pfd) != 0) return cm_errorf(err, "pipe: %s", strerror(errno));
    pid_t pid = fork();
    if (pid < 0) return cm_errorf(err, "fork: %s", strerror(errno));
    if (pid == 0) {
        dup2(pfd[1], 1);
        close(pfd[0]);
        close(pfd[1]);
        execvp(argv[0], argv);
        fprintf(stderr, "corpusmill launch: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(pfd[1]);
    char buf[256];
    size_t n = 0;
    ssize_t r;
    while ((r = read(pfd[0], buf + n, sizeof buf - 1 - n)) > 0) n += (size_t)r;
    close(pfd[0]);
    buf[n] = 0;
    int status;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return cm_errorf(err, "sbatch failed (exit %d)%s%s", WIFEXITED(status) ? WEXITSTATUS(status) : -1,
                         n ? ": " : "", buf);
    /* --parsable prints "jobid" or "jobid;cluster" */
    size_t len = strspn(buf, "0123456789");
    if (!len || len >= cap) return cm_errorf(err, "sbatch printed no job id: '%s'", buf);
    memcpy(id, buf, len);
    id[len] = 0;
    return 0;
}

static int launch(const launch_opts *o, cm_err *err)
{
    cm_config *cfg = cm_job_config(o->config, &o->inputs, o->out, NULL);
    if (!cfg) { /* the error is printed */
        err->msg[0] = 0;
        return CM_EXIT_USAGE;
    }
    int rc = CM_EXIT_USAGE;
    int tasks = o->tasks > 0 ? (int)o->tasks : cfg->run.tasks;
    int cpus = o->cpus > 0 ? (int)o->cpus : cfg->run.threads > 0 ? cfg->run.threads : 1;
    char self[PATH_MAX], cwd[PATH_MAX], config[PATH_MAX], out[PATH_MAX], fingerprint[17], path[4400];
    cm_buf spec, submit_sh;
    cm_buf_init(&spec);
    cm_buf_init(&submit_sh);
    ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
    if (sl <= 0 || !getcwd(cwd, sizeof cwd) || !realpath(o->config, config)) {
        cm_errorf(err, "cannot resolve my own path, the working folder or '%s'", o->config);
        goto done;
    }
    self[sl] = 0;
    /* the split and the listing are settled before any job starts */
    cm_input_list inputs;
    cm_stage_fingerprint(cfg, fingerprint);
    if (cm_prepare_out_dir(cfg->output.dir, err) ||
        cm_mkdirs_under(cfg->output.dir, "slurm/logs", err) ||
        cm_stage_claim(cfg->output.dir, "clean", tasks, fingerprint, 0, err) || cm_stage_inputs(cfg, 0, &inputs, err))
        goto done;
    size_t n_files = inputs.n;
    cm_inputs_free(&inputs);
    if (!realpath(cfg->output.dir, out)) {
        cm_errorf(err, "cannot resolve '%s'", cfg->output.dir);
        goto done;
    }
    cm_plan_step plan[CM_PLAN_MAX + 1];
    int n = cm_plan_build(cfg, tasks, plan);
    /* and last, one job that writes the run report (it has no marker: always submitted) */
    plan[n] = (cm_plan_step){.verb = "report", .name = NULL, .marker = "report", .label = "report", .tasks = 1};
    n++;
    for (int k = 0; k < n; k++) {
        int recorded = cm_stage_tasks(out, plan[k].marker);
        if (recorded && recorded != plan[k].tasks) {
            cm_errorf(err, "%s already holds %s results split into %d tasks; this launch asks for %d. "
                           "Use --tasks %d, or a new --out", out, plan[k].label, recorded, plan[k].tasks, recorded);
            goto done;
        }
    }
    fprintf(stderr, "corpusmill launch: %zu input files, %d tasks per step, %d cores per task; scripts in %s/slurm/\n",
            n_files, tasks, cpus, out);
    cm_buf_append_str(&submit_sh, "#!/bin/bash\n# Submits every step, each after the one before it succeeded.\n"
                                  "# (corpusmill launch slurm --submit does the same, skipping finished tasks.)\nset -eu\n"
                                  "cd \"$(dirname \"$0\")\"\ndep=\n");
    char prev[64] = "";
    rc = CM_EXIT_OK;
    for (int k = 0; k < n && rc == CM_EXIT_OK; k++) {
        char script[4400];
        if (write_script(o, self, cwd, config, out, &plan[k], k + 1, cpus, script, sizeof script, err)) {
            rc = CM_EXIT_FAILED;
            break;
        }
        const char *base = strrchr(script, '/') + 1;
        cm_buf_appendf(&submit_sh, "jid=$(sbatch --parsable ${dep:+--dependency=afterok:$dep} %s)\n"
                                   "echo \"%s: job ${jid%%%%;*}\"\ndep=${jid%%%%;*}\n", base, plan[k].label);
        int todo;
        unfinished_tasks(out, &plan[k], &spec, &todo);
        if (!todo) {
            fprintf(stderr, "  %-18s %2d/%d tasks done, nothing to submit\n", plan[k].label, plan[k].tasks, plan[k].tasks);
            continue;
        }
        char array[4200], dep[128];
        snprintf(array, sizeof array, "--array=%s", spec.data);
        if (o->max_running > 0) snprintf(array + strlen(array), sizeof array - strlen(array), "%%%ld", o->max_running);
        snprintf(dep, sizeof dep, "--dependency=afterok:%s", prev);
        char *argv[8];
        int a = 0;
        argv[a++] = "sbatch";
        argv[a++] = "--parsable";
        if (o->hold) argv[a++] = "--hold";
        if (prev[0]) argv[a++] = dep;
        argv[a++] = array;
        argv[a++] = script;
        argv[a] = NULL;
        if (!o->submit) {
            fprintf(stderr, "  %-18s %d of %d tasks to run: sbatch", plan[k].label, todo, plan[k].tasks);
            for (int i = 1; i < a; i++) fprintf(stderr, " %s", i == a - 1 ? base : argv[i]);
            fputc('\n', stderr);
            snprintf(prev, sizeof prev, "<%s>", plan[k].marker);
            continue;
        }
        cm_err serr;
        if (sbatch(argv, prev, sizeof prev, &serr)) {
            cm_errorf(err, "%s: %s", plan[k].label, serr.msg);
            rc = CM_EXIT_FAILED;
            break;
        }
        printf("%s\t%s\t%s\n", plan[k].marker, prev, spec.data);
        fprintf(stderr, "  %-18s job %s, tasks %s%s\n", plan[k].label, prev, spec.data, o->hold ? " (held)" : "");
    }
    if (rc == CM_EXIT_OK) {
        snprintf(path, sizeof path, "%s/slurm/submit.sh", out);
        if (cm_write_file_atomic(path, submit_sh.data, submit_sh.len, err) || chmod(path, 0755) != 0)
            rc = CM_EXIT_FAILED;
    }
    if (rc == CM_EXIT_OK && !o->submit)
        fprintf(stderr, "corpusmill launch: dry run; submit with --submit (or bash %s/slurm/submit.sh)\n", out);
done:
    cm_buf_free(&spec);
    cm_buf_free(&submit_sh);
    cm_config_free(cfg);
    return rc;
}

int cm_cmd_launch(int argc, char **argv)
{
    if (argc >= 1 && (!strcmp(argv[0], "-h") || !strcmp(argv[0], "--help"))) {
        fputs(cm_launch_usage, stdout);
        return CM_EXIT_OK;
    }
    if (argc < 1 || strcmp(argv[0], "slurm") != 0)
        return cm_usage_error("launch", cm_launch_usage, "the only launcher is 'slurm': corpusmill launch slurm CONFIG");
    if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        fputs(cm_launch_usage, stdout);
        return CM_EXIT_OK;
    }
    launch_opts o;
    int help, rc = parse(argc - 1, argv + 1, &o, &help);
    if (rc == 0 && !help) {
        cm_err err;
        rc = launch(&o, &err);
        if (rc != CM_EXIT_OK && err.msg[0]) fprintf(stderr, "corpusmill launch: %s\n", err.msg);
    }
    cm_arg_list_free(&o.inputs);
    return rc;
}
