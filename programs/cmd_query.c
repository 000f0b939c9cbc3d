/* cmd_query.c -- `corpusmill query RAG_DIR TEXT`: searches a RAG export from
 * the command line, as text for people or JSON for scripts. */
#include "program.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../index/rag.h"

const char cm_query_usage[] =
    "usage: corpusmill query RAG_DIR TEXT [--k K] [--mode dense|bm25|hybrid] [--json]\n"
    "\n"
    "Searches the export RAG_DIR (OUT/rag/) for TEXT and prints the best K chunks\n"
    "(default 5) with their document id, source, heading path and scores.\n"
    "  --mode dense   the vectors (FAISS), with the export's own embedder and query prefix\n"
    "  --mode bm25    BM25 over CJK characters and bigrams and words (SQLite FTS5)\n"
    "  --mode hybrid  reciprocal rank fusion (k = 60) of the two (default)\n"
    "  --json         one JSON object: {\"query\", \"mode\", \"results\": [...]}\n";

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
    int json = 0, mode = CM_RAG_HYBRID;
    const cm_arg opts[] = {
        {"--k", NULL, CM_ARG_LONG, &k, 1, 10000, NULL, "1..10000"},
        {"--mode", NULL, CM_ARG_PARSE, &mode, 0, 0, parse_mode, "dense, bm25 or hybrid"},
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
    cm_rag_search_threads(1);
    cm_rag_hit *hits = cm_malloc((size_t)k * sizeof *hits);
    long n = cm_rag_search(r, text, (cm_rag_mode)mode, (size_t)k, hits, &err);
    cm_buf b;
    cm_buf_init(&b);
    if (n < 0) rc = CM_EXIT_FAILED;
    if (rc == CM_EXIT_OK && json) {
        cm_buf_append_str(&b, "{\"query\": ");
        cm_buf_append_json_bytes(&b, text, strlen(text));
        cm_buf_appendf(&b, ", \"mode\": \"%s\", \"results\": [", mode_names[mode]);
        for (long i = 0; i < n && rc == CM_EXIT_OK; i++) {
            if (i) cm_buf_append_str(&b, ", ");
            if (cm_rag_hit_json(r, &hits[i], (int)i + 1, &b, &err)) rc = CM_EXIT_FAILED;
        }
        cm_buf_append_str(&b, "]}\n");
        if (rc == CM_EXIT_OK) fwrite(b.data, 1, b.len, stdout);
    } else if (rc == CM_EXIT_OK) {
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
