/* cli.c -- the corpusmill command line: the table of commands, from which
 * both `corpusmill --help` and the dispatch are made. Stage commands come
 * from the table of stages (stages.c); the rest are listed here. */
#define _GNU_SOURCE /* RTLD_DEFAULT */
#include "program.h"

#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "../filters/filter.h"

static int cmd_filters(int argc, char **argv);
static int cmd_config(int argc, char **argv);

typedef struct command {
    const char *name;
    const char *synopsis; /* what follows the name in the list */
    const char *summary;
    const char *const *usage;
    int (*fn)(int argc, char **argv);
} command;

static const char *const FILTERS_USAGE = "usage: corpusmill filters\n\nLists the clean steps with every option and its default.\n";
static const char *const CONFIG_USAGE = "usage: corpusmill config\n\nPrints every config option with its default, as YAML.\n";
static const char *const RUN_USAGE = cm_run_usage, *const LAUNCH_USAGE = cm_launch_usage,
                         *const QUERY_USAGE = cm_query_usage, *const SERVE_USAGE = cm_serve_usage,
                         *const EVAL_USAGE = cm_eval_usage, *const EMBED_TEXT_USAGE = cm_embed_text_usage,
                         *const REPORT_USAGE = cm_report_usage, *const STATUS_USAGE = cm_status_usage,
                         *const DIGEST_USAGE = cm_digest_usage, *const EVAL_REJECTION_USAGE = cm_eval_rejection_usage,
                         *const QUALITY_USAGE = cm_quality_usage;

/* The commands besides the stages': run before them, the rest after. */
static const command RUN = {"run", "CONFIG", "run the pipeline on this machine (tasks in parallel processes)", &RUN_USAGE,
                            cm_cmd_run};
static const command OTHERS[] = {
    {"embed-text", "", "embed the lines of stdin (--model hash|DIR; see embed-text --help)", &EMBED_TEXT_USAGE,
     cm_cmd_embed_text},
    {"query", "RAG_DIR TEXT", "search an export: dense, bm25 or hybrid", &QUERY_USAGE, cm_cmd_query},
    {"serve", "RAG_DIR", "HTTP search over an export (POST /search, GET /healthz, /manifest)", &SERVE_USAGE, cm_cmd_serve},
    {"eval-retrieval", "--qa FILE", "recall@k, MRR, precision@5 per search mode on a QA set", &EVAL_USAGE, cm_cmd_eval},
    {"eval-rejection", "RAG_DIR --good F --bad F", "precision, recall, F1 of the calibrated \"answerable\" threshold",
     &EVAL_REJECTION_USAGE, cm_cmd_eval_rejection},
    {"quality", "train|eval|predict", "train a fastText quality classifier, measure it, score lines",
     &QUALITY_USAGE, cm_cmd_quality},
    {"launch", "slurm CONFIG", "sbatch scripts for every step, chained job arrays (--submit)", &LAUNCH_USAGE,
     cm_cmd_launch},
    {"report", "OUT", "OUT/report.html: the funnel, removals, signals, clusters, time (run writes it)", &REPORT_USAGE,
     cm_cmd_report},
    {"status", "OUT", "which tasks of which stage are done, and the counts so far", &STATUS_USAGE, cm_cmd_status},
    {"digest", "OUT", "an order-independent checksum of the kept records and chunks", &DIGEST_USAGE, cm_cmd_digest},
    {"filters", "", "list the clean steps with their options and defaults", &FILTERS_USAGE, cmd_filters},
    {"config", "", "print every config option with its default", &CONFIG_USAGE, cmd_config},
    {NULL, NULL, NULL, NULL, NULL},
};

static void list_line(FILE *f, const char *name, const char *synopsis, const char *summary)
{
    char left[64];
    snprintf(left, sizeof left, "%s%s%s", name, *synopsis ? " " : "", synopsis);
    fprintf(f, "  %-22s %s\n", left, summary);
}

static void print_help(FILE *f)
{
    fprintf(f, "corpusmill " CM_VERSION " -- clean, deduplicate and index LLM pretraining text\n\n"
               "usage: corpusmill COMMAND [ARGS]\n\ncommands:\n");
    list_line(f, RUN.name, RUN.synopsis, RUN.summary);
    for (size_t i = 0; cm_stages[i]; i++) {
        const cm_stage_def *d = cm_stages[i];
        list_line(f, d->command, cm_stage_step_find(d, NULL) ? "CONFIG" : "STEP CONFIG", d->summary);
    }
    for (const command *c = OTHERS; c->name; c++) list_line(f, c->name, c->synopsis, c->summary);
    list_line(f, "help", "COMMAND", "help on one command (or: corpusmill COMMAND --help)");
    fprintf(f, "\nExit status: 0 success, 1 the work failed, 2 bad usage or config.\n");
}

static const command *find_command(const char *name)
{
    if (!strcmp(name, RUN.name)) return &RUN;
    for (const command *c = OTHERS; c->name; c++)
        if (!strcmp(c->name, name)) return c;
    return NULL;
}

static int cmd_filters(int argc, char **argv)
{
    (void)argc; (void)argv;
    for (size_t i = 0; cm_filters[i]; i++)
        printf("%s -- %s\n\n%s\n", cm_filters[i]->name, cm_filters[i]->summary, cm_filters[i]->defaults);
    return CM_EXIT_OK;
}

/* The core sections, then every stage's, in the table's order; a stage that
 * its section turns on is shown commented out, so that the output is itself
 * a config that runs clean only. */
static int cmd_config(int argc, char **argv)
{
    (void)argc; (void)argv;
    fputs(cm_config_reference, stdout);
    for (size_t i = 0; cm_stages[i]; i++) {
        const char *ref = cm_stages[i]->reference;
        if (!strcmp(cm_stages[i]->reads, "input")) {
            fputs(ref, stdout);
            continue;
        }
        for (const char *line = ref; *line;) {
            const char *nl = strchr(line, '\n');
            size_t len = nl ? (size_t)(nl - line) : strlen(line);
            printf("# %.*s\n", (int)len, line);
            line += len + (nl != NULL);
        }
    }
    return CM_EXIT_OK;
}

/* OpenBLAS (linked for the encoder and FAISS) starts its worker threads as
 * it loads, and each spins on sched_yield for about 0.1 s of CPU before it
 * sleeps: a tenth of a second per process, 10-20% of a short dedup step.
 * Stages that never multiply matrices stop them; OpenBLAS would start them
 * again on its next threaded call. Looked up by name: another BLAS has no
 * such function, and then nothing happens. */
static void stop_blas_threads(void)
{
    int (*shutdown)(void) = (int (*)(void))dlsym(RTLD_DEFAULT, "blas_thread_shutdown_");
    if (shutdown) shutdown();
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        print_help(argc < 2 ? stderr : stdout);
        return argc < 2 ? CM_EXIT_USAGE : CM_EXIT_OK;
    }
    const char *name = argv[1];
    if (!strcmp(name, "--version") || !strcmp(name, "version")) {
        printf("corpusmill %s\n", CM_VERSION);
        return CM_EXIT_OK;
    }
    if (!strcmp(name, "help")) {
        if (argc < 3) { print_help(stdout); return CM_EXIT_OK; }
        const cm_stage_def *d = cm_stage_by_command(argv[2]);
        const command *c = find_command(argv[2]);
        if (d) fputs(d->usage, stdout);
        else if (c) fputs(*c->usage, stdout);
        else {
            fprintf(stderr, "corpusmill: no command '%s'\n\n", argv[2]);
            print_help(stderr);
            return CM_EXIT_USAGE;
        }
        return CM_EXIT_OK;
    }
    const command *c = find_command(name);
    if (c) return c->fn(argc - 2, argv + 2);
    /* a step of the index stage's that works on an export, not on a config */
    if (!strcmp(name, "index") && argc > 2 && !strcmp(argv[2], "calibrate")) return cm_cmd_calibrate(argc - 3, argv + 3);
    if (!strcmp(name, "index") && argc > 2 && !strcmp(argv[2], "update")) return cm_cmd_update(argc - 3, argv + 3);
    if (!strcmp(name, "index") && argc > 2 && !strcmp(argv[2], "compact")) return cm_cmd_compact(argc - 3, argv + 3);
    if (!strcmp(name, "clean") || !strcmp(name, "dedup")) stop_blas_threads();
    for (size_t i = 0; cm_stages[i]; i++)
        if (!strcmp(cm_stages[i]->command, name)) return cm_cmd_stage(cm_stages[i], argc - 2, argv + 2);
    fprintf(stderr, "corpusmill: unknown command '%s'\n\n", name);
    print_help(stderr);
    return CM_EXIT_USAGE;
}
