/* embed_text.c -- `corpusmill embed-text` (see embed_text.h). One vector
 * per input line, in input order; an empty line gets the zero vector so the
 * rows still line up with the lines. */
#define _GNU_SOURCE
#include "embed_text.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../pipeline/clean.h"
#include "embedder.h"
#include "npy.h"

#define WINDOW 1024 /* lines embedded together: BERT groups them by length */

const char cm_embed_text_usage[] =
    "usage: corpusmill embed-text --model hash|DIR [--dim D] [--query] [--threads T]\n"
    "                             [--batch B] [--output F.npy]\n"
    "\n"
    "Embeds each line of stdin (UTF-8). With --output, writes a float32 .npy\n"
    "matrix (one row per line, numpy.load reads it); without, prints one\n"
    "vector per line as space-separated numbers.\n"
    "\n"
    "  --model hash   the weight-free LEXICAL embedder: signed feature hashing\n"
    "                 of CJK characters and character pairs, and of words and\n"
    "                 word pairs, L2-normalized. Close vectors share words,\n"
    "                 not meaning.\n"
    "  --model DIR    a Hugging Face BERT folder (config.json, vocab.txt,\n"
    "                 model.safetensors; e.g. bge-small-zh-v1.5,\n"
    "                 all-MiniLM-L6-v2), run on the CPU through OpenBLAS\n"
    "  --dim D        vector size for the hash model (default 512)\n"
    "  --query        embed as queries: prepend the model's query instruction\n"
    "                 (bge: from its folder name or prompts; hash: none)\n"
    "  --threads T    BERT compute threads (default: all cores)\n"
    "  --batch B      BERT sequences per forward pass (default 32)\n";

static int usage(const char *fmt, const char *what) { return cm_usage_error("embed-text", cm_embed_text_usage, fmt, what); }

/* Embeds the window's lines and writes their rows. */
static int flush(cm_embedder *e, char **lines, size_t *lens, size_t n, int query, float *vecs, cm_npy_writer *npy,
                 cm_err *err)
{
    if (!n) return 0;
    if (cm_embedder_embed(e, (const char *const *)lines, lens, n, query, vecs, err)) return -1;
    size_t dim = cm_embedder_dim(e);
    if (npy) return cm_npy_append(npy, vecs, n, err);
    for (size_t i = 0; i < n; i++) {
        for (size_t d = 0; d < dim; d++) printf(d ? " %.7g" : "%.7g", vecs[i * dim + d]);
        putchar('\n');
    }
    return 0;
}

int cm_embed_text_main(int argc, char **argv)
{
    const char *model = NULL, *output = NULL;
    int query = 0;
    cm_embedder_opts o;
    cm_embedder_opts_init(&o);
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { fputs(cm_embed_text_usage, stdout); return CM_EXIT_OK; }
        if (!strcmp(a, "--query")) { query = 1; continue; }
        if (strcmp(a, "--model") && strcmp(a, "--dim") && strcmp(a, "--output") && strcmp(a, "--threads") &&
            strcmp(a, "--batch"))
            return usage("unknown option '%s'", a);
        if (i + 1 >= argc) return usage("option '%s' needs a value", a);
        const char *v = argv[++i];
        long x;
        if (!strcmp(a, "--model")) model = v;
        else if (!strcmp(a, "--output")) output = v;
        else if (!strcmp(a, "--dim")) {
            if (cm_parse_long(v, 1, 65536, &x)) return usage("--dim '%s' must be 1..65536", v);
            o.hash_dim = (size_t)x;
        } else if (!strcmp(a, "--threads")) {
            if (cm_parse_long(v, 0, 1024, &x)) return usage("--threads '%s' must be 0..1024", v);
            o.threads = (int)x;
        } else {
            if (cm_parse_long(v, 1, 4096, &x)) return usage("--batch '%s' must be 1..4096", v);
            o.batch = (size_t)x;
        }
    }
    if (!model) return usage("%s", "--model is required");

    cm_err err;
    cm_embedder *e = cm_embedder_open(model, &o, &err);
    if (!e) {
        fprintf(stderr, "corpusmill embed-text: %s\n", err.msg);
        return CM_EXIT_USAGE;
    }
    size_t dim = cm_embedder_dim(e);
    float *vecs = cm_malloc(WINDOW * dim * sizeof *vecs);
    char *lines[WINDOW];
    size_t lens[WINDOW], caps[WINDOW], n = 0;
    memset(lines, 0, sizeof lines);
    memset(caps, 0, sizeof caps);
    cm_npy_writer *npy = NULL;
    if (output && !(npy = cm_npy_create(output, CM_NPY_F32, dim, &err))) {
        fprintf(stderr, "corpusmill embed-text: %s\n", err.msg);
        free(vecs);
        cm_embedder_free(e);
        return CM_EXIT_USAGE;
    }
    int rc = CM_EXIT_OK;
    ssize_t got;
    while ((got = getline(&lines[n], &caps[n], stdin)) >= 0) {
        while (got > 0 && (lines[n][got - 1] == '\n' || lines[n][got - 1] == '\r')) got--;
        lens[n++] = (size_t)got;
        if (n == WINDOW) {
            if (flush(e, lines, lens, n, query, vecs, npy, &err)) { rc = CM_EXIT_FAILED; break; }
            n = 0;
        }
    }
    if (!rc && flush(e, lines, lens, n, query, vecs, npy, &err)) rc = CM_EXIT_FAILED;
    if (!rc && ferror(stdin)) { snprintf(err.msg, sizeof err.msg, "stdin: %s", strerror(errno)); rc = CM_EXIT_FAILED; }
    if (npy && cm_npy_close(npy, rc ? NULL : &err) && !rc) rc = CM_EXIT_FAILED;
    if (!npy && fflush(stdout) && !rc) { snprintf(err.msg, sizeof err.msg, "stdout: %s", strerror(errno)); rc = CM_EXIT_FAILED; }
    if (rc) fprintf(stderr, "corpusmill embed-text: %s\n", err.msg);
    for (size_t i = 0; i < WINDOW; i++) free(lines[i]);
    free(vecs);
    cm_embedder_free(e);
    return rc;
}
