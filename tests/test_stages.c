/* test_stages.c -- every stage run in process, through the one runner
 * (pipeline/stage.h) and the program's table of stages, on a small fixture
 * written here: two input files with exact and near duplicates, documents
 * too short to keep, a malformed line, and an evaluation item one document
 * copies. Each stage's counts are checked against what the fixture holds;
 * so are the runner's contract (a finished task is not run again, another
 * split of a started step is refused, a step before its prerequisites is
 * refused, a gate leaves no marker) and the error kinds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "layout.h"
#include "rag.h"
#include "stage.h"
#include "stats.h"
#include "../programs/program.h"

static char dir[256];

static void write_text(const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

/* A document of about 60 words, distinct per seed, with its own tag word. */
static void doc_text(char *out, size_t cap, int seed, const char *tag)
{
    static const char *const words[] = {"river", "stone", "garden", "window", "letter", "market", "winter", "silver",
                                        "forest", "candle", "harbor", "meadow", "lantern", "orchard", "valley", "thunder"};
    size_t n = (size_t)snprintf(out, cap, "%s", tag);
    unsigned x = (unsigned)seed * 2654435761u + 12345u;
    for (int i = 0; i < 60 && n + 16 < cap; i++) {
        x = x * 1103515245u + 12345u;
        n += (size_t)snprintf(out + n, cap - n, " %s", words[(x >> 16) % 16]);
    }
    snprintf(out + n, cap - n, ".");
}

/* Runs every task of one step; 0 when each returned 0. */
static int run_step(const cm_config *cfg, const cm_stage_def *def, const cm_stage_step *step, int tasks,
                    cm_task_stats *sum, cm_err *err)
{
    for (int t = 0; t < tasks; t++) {
        cm_stage_task task = {.cfg = cfg, .opts = cm_config_options(cfg, def->name), .task = t, .tasks = tasks,
                              .threads = 1};
        cm_stage_sources(cfg, def, &task);
        cm_task_stats st;
        cm_task_stats_init(&st);
        int done = 0;
        int rc = cm_stage_run_task(def, step, &task, &st, &done, err);
        if (rc == 0 && sum) cm_counts_merge(&sum->counts, &st.counts);
        if (rc == 0 && sum)
            for (size_t i = 0; i < st.outputs.n; i++)
                cm_reasons_add(&sum->outputs, st.outputs.items[i].name, st.outputs.items[i].count);
        cm_task_stats_free(&st);
        if (rc) return rc;
    }
    return 0;
}

/* Runs a stage's plan for `tasks` tasks; its counting step's counts go to sum. */
static int run_stage(const cm_config *cfg, const char *name, int tasks, cm_task_stats *sum, cm_err *err)
{
    const cm_stage_def *def = cm_stage_by_command(name);
    cm_stage_plan plan;
    cm_stage_plan_make(def, cm_config_options(cfg, name), tasks, &plan);
    for (int i = 0; i < plan.n; i++)
        if (run_step(cfg, def, plan.step[i], plan.tasks[i], plan.step[i]->stats ? sum : NULL, err)) return -1;
    return 0;
}

int main(void)
{
    snprintf(dir, sizeof dir, "%s/cm-stages.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }

    /* the fixture: 10 distinct documents per file; file a repeats a0 twice
     * (exact) and has a near copy of a1; 3 short documents; one line that is
     * not JSON; b4 copies the evaluation item's words */
    cm_buf a, b;
    cm_buf_init(&a);
    cm_buf_init(&b);
    char text[2048], tag[32];
    for (int i = 0; i < 10; i++) {
        snprintf(tag, sizeof tag, "alpha%d", i);
        doc_text(text, sizeof text, i, tag);
        cm_buf_appendf(&a, "{\"id\":\"a%d\",\"content\":\"%s\"}\n", i, text);
        snprintf(tag, sizeof tag, "beta%d", i);
        doc_text(text, sizeof text, 100 + i, tag);
        if (i == 4) strcat(text, " the quick brown fox jumps over the lazy dog near the quiet river bank today");
        cm_buf_appendf(&b, "{\"id\":\"b%d\",\"content\":\"%s\"}\n", i, text);
    }
    doc_text(text, sizeof text, 0, "alpha0");
    cm_buf_appendf(&a, "{\"id\":\"a0-copy1\",\"content\":\"%s\"}\n{\"id\":\"a0-copy2\",\"content\":\"%s\"}\n", text, text);
    doc_text(text, sizeof text, 1, "alpha1");
    memcpy(strrchr(text, '.') - 5, "stone", 5); /* one word of sixty differs */
    cm_buf_appendf(&a, "{\"id\":\"a1-near\",\"content\":\"%s\"}\n", text);
    cm_buf_append_str(&b, "{\"id\":\"s1\",\"content\":\"too short\"}\n{\"id\":\"s2\",\"content\":\"tiny\"}\n"
                          "{\"id\":\"s3\",\"content\":\"short again\"}\n{\"id\":\"bad\",\"content\": oops}\n");
    write_text("a.jsonl", a.data);
    write_text("b.jsonl", b.data);
    write_text("eval.jsonl", "{\"question\":\"the quick brown fox jumps over the lazy dog near the quiet river bank today\"}\n");
    cm_buf_free(&a);
    cm_buf_free(&b);

    char yaml[4096];
    snprintf(yaml, sizeof yaml,
             "input:\n  paths: [%s/a.jsonl, %s/b.jsonl]\noutput:\n  dir: %s/out\n"
             "run:\n  max_malformed_fraction: 0.05\n"
             "clean:\n  steps:\n    - normalize: {}\n    - length: {min_chars: 40}\n"
             "dedup:\n  threshold: 0.7\n"
             "embed:\n  dim: 64\n"
             "index:\n  factory: auto\n"
             "pretrain:\n  clusters: 2\n"
             "decontam:\n  eval_sets: [%s/eval.jsonl]\n",
             dir, dir, dir, dir);
    cm_err err;
    cm_config *cfg = cm_config_parse(yaml, "stages.yaml", cm_stages, &err);
    if (!cfg) { fprintf(stderr, "%s\n", err.msg); return 1; }
    const char *out = cfg->output.dir;

    /* a step before its prerequisites is refused, as bad usage, and writes nothing */
    const cm_stage_def *dedup = cm_stage_by_command("dedup");
    cm_stage_task early = {.cfg = cfg, .opts = cm_config_options(cfg, "dedup"), .task = 0, .tasks = 1};
    cm_stage_sources(cfg, dedup, &early);
    CHECK_STR(early.source, "clean");
    cm_task_stats st;
    cm_task_stats_init(&st);
    int done = 0;
    CHECK(cm_stage_run_task(dedup, cm_stage_step_find(dedup, "clusters"), &early, &st, &done, &err) == -1);
    CHECK(err.kind == CM_ERR_USAGE);
    CHECK_CONTAINS(err.msg, "dedup_buckets");
    cm_task_stats_free(&st);

    /* clean, 2 tasks: 27 records, 1 malformed, 3 short. The malformed gate is
     * judged over the stage (1 of 27, under 5%), though the task holding the
     * bad line is over it (1 of 14) */
    cm_task_stats clean;
    cm_task_stats_init(&clean);
    CHECK(run_stage(cfg, "clean", 2, &clean, &err) == 0);
    if (check_failures) fprintf(stderr, "clean: %s\n", err.msg);
    CHECK(clean.counts.read == 27 && clean.counts.malformed == 1);
    CHECK(cm_reasons_get(&clean.counts.removed, "length:min_chars") == 3);
    CHECK(clean.counts.kept == 23 && cm_counts_balanced(&clean.counts));
    CHECK(cm_path_exists(cm_marker_path(out, "clean", 1).s));

    /* a finished task is not run again; another split is refused */
    {
        const cm_stage_def *def = cm_stage_by_command("clean");
        cm_stage_task t = {.cfg = cfg, .opts = cm_config_options(cfg, "clean"), .task = 1, .tasks = 2};
        cm_task_stats_init(&st);
        CHECK(cm_stage_run_task(def, cm_stage_step_find(def, NULL), &t, &st, &done, &err) == 0 && done == 1);
        CHECK(st.counts.read > 0); /* its stats, read back from the marker */
        cm_task_stats_free(&st);
        t.tasks = 3;
        cm_task_stats_init(&st);
        CHECK(cm_stage_run_task(def, cm_stage_step_find(def, NULL), &t, &st, &done, &err) == -1);
        CHECK(err.kind == CM_ERR_USAGE);
        CHECK_CONTAINS(err.msg, "split into 2 tasks");
        cm_task_stats_free(&st);
    }

    /* dedup: the two exact copies and the near copy go, with their reasons */
    cm_task_stats dd;
    cm_task_stats_init(&dd);
    CHECK(run_stage(cfg, "dedup", 2, &dd, &err) == 0);
    CHECK(dd.counts.read == 23);
    CHECK(cm_reasons_get(&dd.counts.removed, "dedup:exact") == 2);
    CHECK(cm_reasons_get(&dd.counts.removed, "dedup:minhash") == 1);
    CHECK(dd.counts.kept == 20);

    /* embed reads dedup's documents: one chunk each, a vector each */
    cm_task_stats em;
    cm_task_stats_init(&em);
    CHECK(run_stage(cfg, "embed", 2, &em, &err) == 0);
    CHECK(em.counts.read == 20 && em.counts.kept == 20);
    CHECK(cm_reasons_get(&em.outputs, "chunks") == 20 && cm_reasons_get(&em.outputs, "vectors") == 20);

    /* index in steps (train, 2 adds, merge); the export finds a document by its tag */
    cm_task_stats ix;
    cm_task_stats_init(&ix);
    CHECK(run_stage(cfg, "index", 2, &ix, &err) == 0);
    CHECK(ix.counts.kept == 20);
    {
        cm_rag *r = cm_rag_open(cm_out_dir(out, "rag").s, &err);
        CHECK(r != NULL);
        if (r) {
            cm_rag_hit hits[3];
            long n = cm_rag_search(r, "beta7", CM_RAG_BM25, 3, hits, &err);
            size_t len = 0;
            const char *t = n > 0 ? cm_rag_chunk_text(r, hits[0].chunk_id, &len) : NULL;
            CHECK(n >= 1 && t && !strncmp(t, "beta7 ", 6));
            cm_rag_close(r);
        }
    }

    /* pretrain: every kept document in one of two clusters */
    cm_task_stats pt;
    cm_task_stats_init(&pt);
    CHECK(run_stage(cfg, "pretrain", 2, &pt, &err) == 0);
    CHECK(pt.counts.kept == 20 && cm_reasons_get(&pt.outputs, "clusters") == 2);

    /* decontam: the one document that copies the item */
    cm_task_stats dc;
    cm_task_stats_init(&dc);
    CHECK(run_stage(cfg, "decontam", 1, &dc, &err) == 0);
    CHECK(dc.counts.read == 20 && cm_reasons_get(&dc.outputs, "contaminated") == 1);
    if (check_failures) fprintf(stderr, "last error: %s\n", err.msg);

    /* the malformed gate over the whole stage: the task that completes the
     * stage fails (the work failed, not usage), a rerun of it fails the same
     * way, and a step reading the stage refuses to start */
    cm_config_free(cfg);
    snprintf(yaml, sizeof yaml,
             "input:\n  paths: [%s/b.jsonl]\noutput:\n  dir: %s/gate\nrun:\n  max_malformed_fraction: 0\ndedup: {}\n", dir,
             dir);
    cfg = cm_config_parse(yaml, "gate.yaml", cm_stages, &err);
    CHECK(cfg != NULL);
    if (cfg) {
        const cm_stage_def *def = cm_stage_by_command("clean");
        cm_stage_task t = {.cfg = cfg, .opts = cm_config_options(cfg, "clean"), .task = 0, .tasks = 1};
        for (int attempt = 0; attempt < 2; attempt++) {
            cm_task_stats_init(&st);
            CHECK(cm_stage_run_task(def, cm_stage_step_find(def, NULL), &t, &st, &done, &err) == -1);
            CHECK(err.kind == CM_ERR_FAILED && done == attempt);
            CHECK_CONTAINS(err.msg, "max_malformed_fraction");
            cm_task_stats_free(&st);
        }
        CHECK(cm_path_exists(cm_stats_path(cfg->output.dir, "clean", 0).s));
        cm_stage_task sig = {.cfg = cfg, .opts = cm_config_options(cfg, "dedup"), .task = 0, .tasks = 1};
        cm_stage_sources(cfg, dedup, &sig);
        cm_task_stats_init(&st);
        CHECK(cm_stage_run_task(dedup, cm_stage_step_find(dedup, "signatures"), &sig, &st, &done, &err) == -1);
        CHECK_CONTAINS(err.msg, "malformed");
        CHECK(!cm_path_exists(cm_marker_path(cfg->output.dir, "dedup_signatures", 0).s));
        cm_task_stats_free(&st);
        cm_config_free(cfg);
    }

    cm_task_stats_free(&clean);
    cm_task_stats_free(&dd);
    cm_task_stats_free(&em);
    cm_task_stats_free(&ix);
    cm_task_stats_free(&pt);
    cm_task_stats_free(&dc);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (!check_failures && system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    CHECK_DONE();
}
