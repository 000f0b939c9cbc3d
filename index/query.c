/* query.c -- `corpusmill query`: searches a RAG export from the command
 * line, as text for people or JSON for scripts. */
#include "query.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../pipeline/clean.h"
#include "rag.h"

const char cm_query_usage[] =
    "usage: corpusmill query RAG_DIR TEXT [--k K] [--mode dense|bm25|hybrid] [--json]\n"
    "\n"
    "Searches the export RAG_DIR (OUT/rag/) for TEXT and prints the best K chunks\n"
    "(default 5) with their document id, source, heading path and scores.\n"
    "  --mode dense   the vectors (FAISS), with the export's own embedder and query prefix\n"
    "  --mode bm25    BM25 over CJK characters and bigrams and words (SQLite FTS5)\n"
    "  --mode hybrid  reciprocal rank fusion (k = 60) of the two (default)\n"
    "  --json         one JSON object: {\"query\", \"mode\", \"results\": [...]}\n";

static int usage(const char *fmt, const char *what) { return cm_usage_error("query", cm_query_usage, fmt, what); }

int cm_query_main(int argc, char **argv)
{
    const char *dir = NULL, *text = NULL, *mode_s = "hybrid";
    long k = 5;
    int json = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { fputs(cm_query_usage, stdout); return CM_EXIT_OK; }
        if (!strcmp(a, "--json")) { json = 1; continue; }
        if (!strcmp(a, "--k") || !strcmp(a, "--mode")) {
            if (i + 1 >= argc) return usage("option '%s' needs a value", a);
            const char *v = argv[++i];
            if (!strcmp(a, "--mode")) mode_s = v;
            else if (cm_parse_long(v, 1, 10000, &k)) return usage("--k '%s' must be 1..10000", v);
            continue;
        }
        if (a[0] == '-' && a[1]) return usage("unknown option '%s'", a);
        if (!dir) dir = a;
        else if (!text) text = a;
        else return usage("one query text at a time (quote it): '%s'", a);
    }
    if (!dir || !text) return usage("%s", "RAG_DIR and TEXT are required");
    int mode = cm_rag_mode_parse(mode_s);
    if (mode < 0) return usage("--mode '%s' must be dense, bm25 or hybrid", mode_s);
    cm_err err;
    cm_rag *r = cm_rag_open(dir, &err);
    if (!r) {
        fprintf(stderr, "corpusmill query: %s\n", err.msg);
        return CM_EXIT_USAGE;
    }
    cm_rag_hit *hits = cm_malloc((size_t)k * sizeof *hits);
    long n = cm_rag_search(r, text, (cm_rag_mode)mode, (size_t)k, hits, &err);
    int rc = CM_EXIT_OK;
    cm_buf b;
    cm_buf_init(&b);
    if (n < 0) rc = CM_EXIT_FAILED;
    if (rc == CM_EXIT_OK && json) {
        cm_buf_append_str(&b, "{\"query\": ");
        cm_buf_append_json_bytes(&b, text, strlen(text));
        cm_buf_appendf(&b, ", \"mode\": \"%s\", \"results\": [", mode_s);
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
