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
#include "hash_embed.h"
#include "npy.h"

#define DEFAULT_HASH_DIM 512

const char cm_embed_text_usage[] =
    "usage: corpusmill embed-text --model hash [--dim D] [--query] [--output F.npy]\n"
    "\n"
    "Embeds each line of stdin (UTF-8). With --output, writes a float32 .npy\n"
    "matrix (one row per line, numpy.load reads it); without, prints one\n"
    "vector per line as space-separated numbers.\n"
    "\n"
    "  --model hash   the weight-free LEXICAL embedder: signed feature hashing\n"
    "                 of CJK characters and character pairs, and of words and\n"
    "                 word pairs, L2-normalized. Close vectors share words,\n"
    "                 not meaning. (BERT model folders: not yet supported.)\n"
    "  --dim D        vector size for the hash model (default 512)\n"
    "  --query        embed as queries (the hash model has no query prefix;\n"
    "                 accepted so scripts work unchanged with other models)\n";

static int usage(const char *fmt, const char *what)
{
    fputs("corpusmill embed-text: ", stderr);
    fprintf(stderr, fmt, what);
    fprintf(stderr, "\n\n%s", cm_embed_text_usage);
    return CM_EXIT_USAGE;
}

int cm_embed_text_main(int argc, char **argv)
{
    const char *model = NULL, *output = NULL;
    long dim = DEFAULT_HASH_DIM;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { fputs(cm_embed_text_usage, stdout); return CM_EXIT_OK; }
        if (!strcmp(a, "--query")) continue;
        if (strcmp(a, "--model") && strcmp(a, "--dim") && strcmp(a, "--output")) return usage("unknown option '%s'", a);
        if (i + 1 >= argc) return usage("option '%s' needs a value", a);
        const char *v = argv[++i];
        if (!strcmp(a, "--model")) model = v;
        else if (!strcmp(a, "--output")) output = v;
        else {
            char *end;
            errno = 0;
            dim = strtol(v, &end, 10);
            if (errno || *end || end == v || dim < 1 || dim > 65536) return usage("--dim '%s' must be 1..65536", v);
        }
    }
    if (!model) return usage("%s", "--model is required");
    if (strcmp(model, "hash"))
        return usage("model '%s': only the weight-free 'hash' model is supported so far", model);

    cm_hash_embed *h = cm_hash_embed_create((size_t)dim, 0);
    float *vec = cm_malloc((size_t)dim * sizeof *vec);
    cm_err err;
    cm_npy_writer *npy = NULL;
    if (output && !(npy = cm_npy_create(output, CM_NPY_F32, (size_t)dim, &err))) {
        fprintf(stderr, "corpusmill embed-text: %s\n", err.msg);
        free(vec);
        cm_hash_embed_free(h);
        return CM_EXIT_USAGE;
    }
    int rc = CM_EXIT_OK;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, stdin)) >= 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) n--;
        cm_hash_embed_text(h, line, (size_t)n, vec);
        if (npy) {
            if (cm_npy_append(npy, vec, 1, &err)) { rc = CM_EXIT_FAILED; break; }
        } else {
            for (long d = 0; d < dim; d++) printf(d ? " %.7g" : "%.7g", vec[d]);
            putchar('\n');
        }
    }
    if (ferror(stdin)) { snprintf(err.msg, sizeof err.msg, "stdin: %s", strerror(errno)); rc = CM_EXIT_FAILED; }
    if (npy && cm_npy_close(npy, rc ? NULL : &err) && !rc) rc = CM_EXIT_FAILED;
    if (!npy && fflush(stdout)) { snprintf(err.msg, sizeof err.msg, "stdout: %s", strerror(errno)); rc = CM_EXIT_FAILED; }
    if (rc) fprintf(stderr, "corpusmill embed-text: %s\n", err.msg);
    free(line);
    free(vec);
    cm_hash_embed_free(h);
    return rc;
}
