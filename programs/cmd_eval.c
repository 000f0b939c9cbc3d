/* cmd_eval.c -- `corpusmill eval-retrieval [RAG_DIR] --qa FILE [--config
 * CONFIG] [--json]`: retrieval quality on a QA set (index/eval.h), printed
 * as a table or JSON; against an export, the result is also left in
 * RAG_DIR/eval.json for the run report. */
#include "program.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../embed/embed_stage.h"
#include "../index/eval.h"
#include "../index/rag.h"
#include "../pipeline/progress.h"

const char cm_eval_usage[] =
    "usage: corpusmill eval-retrieval [RAG_DIR] --qa FILE [--config CONFIG] [--bm25 index|fts5]\n"
    "                                 [--bm25-weight W] [--json]\n"
    "\n"
    "Measures retrieval on a QA set: SQuAD-format JSON (each paragraph's context\n"
    "is a passage, its questions' gold) or JSON Lines with query, positive and\n"
    "negative (RGB: every passage joins the collection, the positives are gold).\n"
    "The passages are embedded and indexed with the config's embed and index\n"
    "settings (default: the hash model, factory auto) into a temporary export,\n"
    "and every question is searched in each mode. Prints recall@1, recall@5,\n"
    "recall@20, MRR@10 and precision@5 per mode, and the search time per\n"
    "question (mean, p50, p99 ms, measured in this process after loading);\n"
    "--json gives {\"dense\": {...}, \"bm25\": {...}, \"hybrid\": {...},\n"
    "\"latency_ms\": {...}}. --bm25 fts5 ranks BM25 with the export's FTS5 table\n"
    "(index.fts5: true) instead of bm25.idx, for comparing the two. --bm25-weight\n"
    "sets BM25's share of hybrid (default: the export's, index.hybrid_weight).\n"
    "\n"
    "With RAG_DIR, the questions are searched in that export instead, and a\n"
    "retrieved chunk is a hit when its text lies inside a gold passage (or the\n"
    "passage inside it), compared after NFKC case folding with only letters,\n"
    "digits and CJK characters kept.\n";

int cm_cmd_eval(int argc, char **argv)
{
    const char *qa = NULL, *config = NULL, *export_dir = NULL;
    int json = 0, fts5 = 0;
    double weight = -1;
    const cm_arg opts[] = {
        {"--qa", NULL, CM_ARG_STRING, &qa, 0, 0, NULL, NULL},
        {"--bm25", NULL, CM_ARG_PARSE, &fts5, 0, 0, cm_parse_bm25_engine, "index or fts5"},
        {"--config", NULL, CM_ARG_STRING, &config, 0, 0, NULL, NULL},
        {"--bm25-weight", NULL, CM_ARG_PARSE, &weight, 0, 0, cm_parse_unit_interval, "a number from 0 to 1"},
        {"--json", NULL, CM_ARG_FLAG, &json, 0, 0, NULL, NULL},
        {NULL, NULL, 0, NULL, 0, 0, NULL, NULL},
    };
    static const char *const names[] = {"RAG_DIR"};
    cm_args a = {"eval-retrieval", cm_eval_usage, opts, &export_dir, names, 1, 0};
    int help, rc = cm_args_parse(&a, argc, argv, &help);
    if (rc || help) return rc;
    if (!qa) return cm_usage_error("eval-retrieval", cm_eval_usage, "--qa FILE is required");
    cm_err err;
    cm_config *cfg = config ? cm_program_config(config, &err) : cm_config_parse("", "defaults", cm_stages, &err);
    if (!cfg) return cm_fail("eval-retrieval", &err);
    cm_qa_set s;
    if (cm_qa_load(qa, &s, &err)) {
        fprintf(stderr, "corpusmill eval-retrieval: %s\n", err.msg);
        cm_qa_free(&s);
        cm_config_free(cfg);
        return CM_EXIT_USAGE;
    }
    cm_rag_search_threads(1);
    cm_eval_result res;
    const cm_embed_options *eo = cm_config_options(cfg, "embed");
    cfg->run.progress = json ? CM_PROGRESS_NONE : CM_PROGRESS_AUTO;
    cfg->run.progress_fd = STDERR_FILENO;
    if (cm_eval_retrieval(cfg, &s, export_dir, fts5, weight, &res, &err)) {
        rc = cm_fail("eval-retrieval", &err);
    } else {
        cm_buf jb;
        cm_buf_init(&jb);
        cm_eval_json(&res, eo->model, qa, &jb);
        if (export_dir) { /* the run report shows the last evaluation of an export */
            char path[4200];
            snprintf(path, sizeof path, "%s/eval.json", export_dir);
            cm_err werr;
            if (cm_write_file_atomic(path, jb.data, jb.len, &werr)) fprintf(stderr, "corpusmill eval-retrieval: %s\n", werr.msg);
        }
        if (json) {
            fwrite(jb.data, 1, jb.len, stdout);
        } else {
            static const char *const modes[] = {"dense", "bm25", "hybrid"};
            if (export_dir)
                printf("%s: %zu questions, %zu gold passages, searched in %s (%.1f s)\n", qa, res.questions, res.passages,
                       export_dir, res.search_seconds);
            else
                printf("%s: %zu questions, %zu passages, model %s (built in %.1f s, searched in %.1f s)\n", qa,
                       res.questions, res.passages, eo->model, res.build_seconds, res.search_seconds);
            printf("%-8s %9s %9s %10s %7s %12s %10s %10s\n", "mode", "recall@1", "recall@5", "recall@20", "MRR@10",
                   "precision@5", "mean ms", "p99 ms");
            for (int m = 0; m < 3; m++) {
                const cm_eval_scores *sc = &res.mode[m];
                printf("%-8s %9.3f %9.3f %10.3f %7.3f %12.3f %10.2f %10.2f\n", modes[m], sc->r1, sc->r5, sc->r20, sc->mrr10,
                       sc->p5, res.latency[m].mean, res.latency[m].p99);
            }
        }
        cm_buf_free(&jb);
    }
    cm_qa_free(&s);
    cm_config_free(cfg);
    return rc;
}
