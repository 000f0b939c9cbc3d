/* cmd_query.c -- `corpusmill query RAG_DIR TEXT`: searches a RAG export from
 * the command line, as text for people or JSON for scripts. */
#include "program.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../index/rag.h"

const char cm_query_usage[] =
    "usage: corpusmill query RAG_DIR TEXT [--k K] [--mode dense|bm25|hybrid] [--bm25 index|fts5]\n"
    "                        [--bm25-weight W] [--json]\n"
    "\n"
    "Searches the export RAG_DIR (OUT/rag/) for TEXT and prints the best K chunks\n"
    "(default 5) with their document id, source, heading path and scores.\n"
    "  --mode dense   the vectors (FAISS), with the export's own embedder and query prefix\n"
    "  --mode bm25    BM25 over CJK characters and bigrams and words (bm25.idx)\n"
    "  --mode hybrid  the two lists' scores, normalized and weighted (default; the\n"
    "                 manifest's hybrid.bm25_weight, or --bm25-weight W from 0 to 1)\n"
    "  --bm25 fts5    BM25 through the export's FTS5 table (built with index.fts5: true)\n"
    "  --json         one JSON object: {\"query\", \"mode\", \"answerable\", \"relevance\",\n"
    "                 \"results\": [...]}\n"
    "An export calibrated by `index calibrate` also says whether the question is\n"
    "answerable (the relevance judged and its threshold); else answerable is null.\n";

static int parse_mode(const char *v, void *out)
{
    int m = cm_rag_mode_parse(v);
    if (m < 0) return -1;
    *(int *)out = m;
    return 0;
}

int cm_cmd_query(int argc, char **argv)
{
    const char *pos[2] = {NULL, NULL};
    long k = 5;
    int json = 0, mode = CM_RAG_HYBRID, fts5 = 0;
    double weight = -1;
    const cm_arg opts[] = {
        {"--k", NULL, CM_ARG_LONG, &k, 1, 10000, NULL, "1..10000"},
        {"--bm25", NULL, CM_ARG_PARSE, &fts5, 0, 0, cm_parse_bm25_engine, "index or fts5"},
        {"--mode", NULL, CM_ARG_PARSE, &mode, 0, 0, parse_mode, "dense, bm25 or hybrid"},
        {"--bm25-weight", NULL, CM_ARG_PARSE, &weight, 0, 0, cm_parse_unit_interval, "a number from 0 to 1"},
        {"--json", NULL, CM_ARG_FLAG, &json, 0, 0, NULL, NULL},
        {NULL, NULL, 0, NULL, 0, 0, NULL, NULL},
    };
    static const char *const names[] = {"RAG_DIR", "TEXT (quote it)"};
    cm_args a = {"query", cm_query_usage, opts, pos, names, 2, 2};
    int help, rc = cm_args_parse(&a, argc, argv, &help);
    if (rc || help) return rc;
    const char *dir = pos[0], *text = pos[1];
    static const char *const mode_names[] = {"dense", "bm25", "hybrid"};
    cm_err err;
    cm_rag *r = cm_rag_open(dir, &err);
    if (!r) { /* not an export: the caller named the wrong folder */
        fprintf(stderr, "corpusmill query: %s\n", err.msg);
        return CM_EXIT_USAGE;
    }
    if (fts5 && cm_rag_use_fts5(r, 1, &err)) {
        fprintf(stderr, "corpusmill query: %s\n", err.msg);
        cm_rag_close(r);
        return CM_EXIT_USAGE;
    }
    if (weight >= 0) cm_rag_set_hybrid_weight(r, weight);
    cm_rag_search_threads(1);
    cm_rag_hit *hits = cm_malloc((size_t)k * sizeof *hits);
    cm_rag_verdict v;
    long n = cm_rag_search(r, text, (cm_rag_mode)mode, (size_t)k, hits, &err);
    if (n >= 0 && cm_rag_judge(r, text, &v, &err)) n = -1;
    cm_buf b;
    cm_buf_init(&b);
    if (n < 0) rc = CM_EXIT_FAILED;
    if (rc == CM_EXIT_OK && json) {
        cm_buf_append_str(&b, "{\"query\": ");
        cm_buf_append_json_bytes(&b, text, strlen(text));
        cm_buf_appendf(&b, ", \"mode\": \"%s\", ", mode_names[mode]);
        cm_rag_verdict_json(&v, &b);
        cm_buf_append_str(&b, ", \"results\": [");
        for (long i = 0; i < n && rc == CM_EXIT_OK; i++) {
            if (i) cm_buf_append_str(&b, ", ");
            if (cm_rag_hit_json(r, &hits[i], (int)i + 1, &b, &err)) rc = CM_EXIT_FAILED;
        }
        cm_buf_append_str(&b, "]}\n");
        if (rc == CM_EXIT_OK) fwrite(b.data, 1, b.len, stdout);
    } else if (rc == CM_EXIT_OK) {
        if (v.answerable >= 0) /* a calibrated export's verdict first */
            printf("answerable: %s (%s relevance %.4g, threshold %.4g)\n", v.answerable ? "yes" : "no",
                   cm_rag_score_name(v.score), v.value, v.threshold);
        for (long i = 0; i < n && rc == CM_EXIT_OK; i++) {
            cm_buf_clear(&b);
            if (cm_rag_hit_text(r, &hits[i], (int)i + 1, &b, &err)) { rc = CM_EXIT_FAILED; break; }
            fputs(b.data, stdout);
        }
        if (n == 0) fprintf(stderr, "corpusmill query: no results\n");
    }
    if (rc) fprintf(stderr, "corpusmill query: %s\n", err.msg);
    cm_buf_free(&b);
    free(hits);
    cm_rag_close(r);
    return rc;
}
