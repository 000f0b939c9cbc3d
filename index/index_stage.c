/* index_stage.c -- the `index` stage: its options, its steps around the RAG
 * export (index/rag_build.h) and its descriptor:
 *   corpusmill index CONFIG                       all in one task
 *   corpusmill index train CONFIG                 one task
 *   corpusmill index add CONFIG --task I --tasks N
 *   corpusmill index merge CONFIG                 one task, after every add
 * after every embed task. Accounting of the export: read = kept = the
 * chunks in it. */
#include "index_stage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../embed/embed_stage.h"
#include "../pipeline/stage.h"
#include "rag_build.h"

/* ---- options: the `index` section ---- */

static int index_read(void *opts, const cm_conf *n, cm_err *err)
{
    static const char *const known[] = {"factory", "ef_search", "nprobe", "memory", "bm25_memory", "fts5", "hybrid_weight", NULL};
    cm_index_options *o = opts;
    if (!n) return 0;
    if (cm_conf_check_keys(n, "index", known, err)) return -1;
    const cm_conf *w = cm_conf_get(n, "hybrid_weight");
    if (w && w->type == CM_CONF_SCALAR && !strcmp(w->value, "auto")) o->hybrid_weight = -1;
    else if (cm_conf_double(n, "hybrid_weight", 0, 1, &o->hybrid_weight, err)) return -1;
    return cm_conf_string(n, "factory", &o->factory, err) ||
                   cm_conf_int(n, "ef_search", 1, 1 << 20, &o->ef_search, err) ||
                   cm_conf_int(n, "nprobe", 1, 1 << 20, &o->nprobe, err) ||
                   cm_conf_size(n, "memory", &o->memory, err) || cm_conf_size(n, "bm25_memory", &o->bm25_memory, err) ||
                   cm_conf_bool(n, "fts5", &o->fts5, err)
               ? -1
               : 0;
}

static void index_free(void *opts) { free(((cm_index_options *)opts)->factory); }

static const char INDEX_REFERENCE[] =
    "index:                 # present: `run` builds the RAG export OUT/rag/ after embed (see index/README.md)\n"
    "  factory: auto        # auto: IDMap,Flat below 10,000 vectors, IDMap,HNSW32 while it fits `memory`,\n"
    "                       #   IVF{K},Flat beyond (K ~ 8 sqrt(N)); or any FAISS factory string\n"
    "  ef_search: 64        # HNSW search breadth (saved with the index)\n"
    "  nprobe: 16           # IVF lists searched (saved with the index)\n"
    "  memory: 8GiB         # what auto may plan for the index\n"
    "  bm25_memory: 1GiB    # postings the BM25 index build holds in memory; beyond, runs go to disk\n"
    "  fts5: false          # true: an FTS5 table in chunks.sqlite too, for SQL full-text search (3x the\n"
    "                       #   chunk text on disk; search uses bm25.idx either way)\n"
    "  hybrid_weight: auto  # hybrid = w * BM25 / its best + (1 - w) * dense min-max scaled over the two\n"
    "                       #   lists; auto: 1 with a lexical model (hash: BM25 orders, dense fills in),\n"
    "                       #   0.5 with a neural one\n";

static const char INDEX_USAGE[] =
    "usage: corpusmill index [train|add|merge] CONFIG [--task I --tasks N] [--out DIR] [--force]\n"
    "\n"
    "Builds the RAG export from embed's outputs (after every embed task), in one\n"
    "go or in steps a cluster can spread: train (one task: the factory, trained\n"
    "on a sample), add (N tasks, each its share of the embeddings parts), merge\n"
    "(one task: IVF shards merged, other kinds rebuilt; the chunk store; the\n"
    "add tasks' BM25 parts merged):\n"
    "  OUT/rag/index.faiss     FAISS index of the chunk vectors (ids = chunk ids)\n"
    "  OUT/rag/chunks.sqlite   the chunks (and an FTS5 table with index.fts5)\n"
    "  OUT/rag/bm25.idx        the BM25 impact index\n"
    "  OUT/rag/manifest.json   embedder, chunking, index factory, counts, sha256\n"
    "The config's `index` section picks the FAISS factory (`corpusmill config`).\n"
    "\n"
    "usage: corpusmill index calibrate RAG_DIR --good FILE --bad FILE [--json]\n"
    "\n"
    "Chooses the relevance score and threshold that best separate questions the\n"
    "export can answer (--good) from those it cannot (--bad), one per line or a\n"
    "JSON array of strings, and records them in RAG_DIR/manifest.json: query and\n"
    "serve then say whether a question is answerable.\n";

/* ---- the steps ---- */

/* The embed section's query prefix, recorded in the export's manifest. */
static const char *query_prefix(const cm_config *cfg)
{
    const cm_embed_options *e = cm_config_options(cfg, "embed");
    return e ? e->query_prefix : NULL;
}

static void count_export(cm_task_stats *st, uint64_t n)
{
    st->counts.read = st->counts.kept = n;
    cm_reasons_add(&st->outputs, "vectors", n);
}

static int index_all(const cm_stage_task *t, cm_task_stats *st, cm_err *err)
{
    uint64_t n = 0;
    int rc = cm_rag_export(t->cfg, t->opts, query_prefix(t->cfg), &n, err);
    count_export(st, n);
    return rc;
}

static int index_train(const cm_stage_task *t, cm_task_stats *st, cm_err *err)
{
    count_export(st, 0);
    return cm_rag_train(t->cfg, t->opts, err);
}

static int index_add(const cm_stage_task *t, cm_task_stats *st, cm_err *err)
{
    uint64_t n = 0;
    int rc = cm_rag_add(t->cfg, t->opts, t->task, t->tasks, &n, err);
    count_export(st, n);
    return rc;
}

static int index_merge(const cm_stage_task *t, cm_task_stats *st, cm_err *err)
{
    uint64_t n = 0;
    /* the shards of the add tasks, every one finished; none: merge adds every part itself */
    int shards = cm_stage_tasks(t->cfg->output.dir, "index_add");
    if (shards && cm_stage_finished(t->cfg->output.dir, "index_add", err)) return cm_err_usage(err);
    int rc = cm_rag_merge(t->cfg, t->opts, query_prefix(t->cfg), shards, &n, err);
    count_export(st, n);
    return rc;
}

/* ---- the descriptor ---- */

/* One task builds it all; more train on a sample, add in shards, merge. */
static void index_plan(const void *opts, int tasks, cm_stage_plan *plan)
{
    (void)opts;
    const cm_stage_step *s = cm_stage_index.steps;
    if (tasks == 1) {
        plan->step[0] = &s[0];
        plan->tasks[0] = 1;
        plan->n = 1;
        return;
    }
    for (int i = 1; i < 4; i++) {
        plan->step[plan->n] = &s[i];
        plan->tasks[plan->n++] = s[i].split == CM_SPLIT_ONE ? 1 : tasks;
    }
}

static const cm_stage_step INDEX_STEPS[] = {
    {.name = NULL, .marker = "index", .split = CM_SPLIT_ONE, .stats = 1, .needs_source_done = 1, .run = index_all},
    {.name = "train", .marker = "index_train", .split = CM_SPLIT_ONE, .needs_source_done = 1, .run = index_train},
    {.name = "add", .marker = "index_add", .split = CM_SPLIT_FREE, .needs_source_done = 1, .after = {"index_train"},
     .run = index_add},
    {.name = "merge", .marker = "index", .split = CM_SPLIT_ONE, .stats = 1, .needs_source_done = 1,
     .after = {"index_train"}, .run = index_merge},
};

const cm_stage_def cm_stage_index = {
    .name = "index",
    .command = "index",
    .summary = "build the RAG export OUT/rag/ (FAISS index, SQLite chunk store, BM25 index)",
    .usage = INDEX_USAGE,
    .reference = INDEX_REFERENCE,
    .reads = "embed",
    .opts_size = sizeof(cm_index_options),
    .read = index_read,
    .free = index_free,
    .steps = INDEX_STEPS,
    .n_steps = 4,
    .plan = index_plan,
};
