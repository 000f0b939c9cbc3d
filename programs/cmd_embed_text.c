/* cmd_embed_text.c -- `corpusmill embed-text`: embeds the lines of stdin,
 * for direct use and for checking a model by hand. One vector per input
 * line, in input order; an empty line gets the zero vector so the rows
 * still line up with the lines. */
#define _GNU_SOURCE
#include "program.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../embed/embedder.h"
#include "../embed/npy.h"

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

static int parse_size(const char *v, void *out, long lo, long hi)
{
    long x;
    if (cm_parse_long(v, lo, hi, &x)) return -1;
    *(size_t *)out = (size_t)x;
    return 0;
}
static int parse_dim(const char *v, void *out) { return parse_size(v, out, 1, 65536); }
static int parse_batch(const char *v, void *out) { return parse_size(v, out, 1, 4096); }
static int parse_threads(const char *v, void *out)
{
    long x;
    if (cm_parse_long(v, 0, 1024, &x)) return -1;
    *(int *)out = (int)x;
    return 0;
}

int cm_cmd_embed_text(int argc, char **argv)
{
    const char *model = NULL, *output = NULL;
    int query = 0;
    cm_embedder_opts o;
    cm_embedder_opts_init(&o);
    const cm_arg opts[] = {
        {"--model", NULL, CM_ARG_STRING, &model, 0, 0, NULL, NULL},
        {"--output", NULL, CM_ARG_STRING, &output, 0, 0, NULL, NULL},
        {"--query", NULL, CM_ARG_FLAG, &query, 0, 0, NULL, NULL},
        {"--dim", NULL, CM_ARG_PARSE, &o.hash_dim, 0, 0, parse_dim, "1..65536"},
        {"--threads", NULL, CM_ARG_PARSE, &o.threads, 0, 0, parse_threads, "0..1024"},
        {"--batch", NULL, CM_ARG_PARSE, &o.batch, 0, 0, parse_batch, "1..4096"},
        {NULL, NULL, 0, NULL, 0, 0, NULL, NULL},
    };
    cm_args a = {"embed-text", cm_embed_text_usage, opts, NULL, NULL, 0, 0};
    int help, rc = cm_args_parse(&a, argc, argv, &help);
    if (rc || help) return rc;
    if (!model) return cm_usage_error("embed-text", cm_embed_text_usage, "--model is required");

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
