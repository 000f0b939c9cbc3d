/* dedup_stage.c -- the `dedup` stage's options and descriptor (see
 * dedup_stage.h), and what its steps share. The steps are one file each:
 * step_signatures.c, step_buckets.c, step_clusters.c, step_filter.c. */
#define _GNU_SOURCE
#include "dedup_stage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dedup_steps.h"

/* ---- options: the `dedup` section ---- */

static int dedup_read(void *opts, const cm_conf *n, cm_err *err)
{
    static const char *const known[] = {"exact",  "minhash",  "ngram",       "bands",        "rows",
                                        "seed",   "verify",   "threshold",   "memory",       "previous",
                                        "fold_digits", "recent_texts", NULL};
    static const char *const verify[] = {"exact", "signature", "off", NULL};
    cm_dedup_options *o = opts;
    if (!n) return 0;
    if (cm_conf_check_keys(n, "dedup", known, err)) return -1;
    long ngram = o->params.ngram, bands = o->params.bands, rows = o->params.rows, seed = (long)o->params.seed,
         recent = (long)o->recent_texts;
    if (cm_conf_bool(n, "exact", &o->exact, err) || cm_conf_bool(n, "minhash", &o->minhash, err) ||
        cm_conf_int(n, "ngram", 1, 64, &ngram, err) || cm_conf_int(n, "bands", 1, 1024, &bands, err) ||
        cm_conf_int(n, "rows", 1, 64, &rows, err) || cm_conf_int(n, "seed", 0, 2147483647, &seed, err) ||
        cm_conf_enum(n, "verify", verify, &o->verify, err) ||
        cm_conf_strings(n, "previous", &o->previous, &o->n_previous, err) ||
        cm_conf_size(n, "memory", &o->memory, err) || cm_conf_double(n, "threshold", 0, 1, &o->threshold, err) ||
        cm_conf_bool(n, "fold_digits", &o->params.fold_digits, err) ||
        cm_conf_int(n, "recent_texts", 0, 1L << 24, &recent, err))
        return -1;
    o->recent_texts = (size_t)recent;
    o->params.ngram = (int)ngram;
    o->params.bands = (int)bands;
    o->params.rows = (int)rows;
    o->params.seed = (uint64_t)seed;
    return 0;
}

static void dedup_free(void *opts)
{
    cm_dedup_options *o = opts;
    cm_conf_free_strings(o->previous, o->n_previous);
}

static const char DEDUP_REFERENCE[] =
    "dedup:                 # present: `run` deduplicates after clean (see dedup/README.md)\n"
    "  exact: true          # exact duplicates of the simplified text (XXH3-128)\n"
    "  minhash: true        # near duplicates, MinHash-LSH\n"
    "  ngram: 5             # shingle: 5 words, or 5 CJK characters\n"
    "  bands: 14\n"
    "  rows: 8              # 14 x 8: P(found | J = 0.8) = 0.92\n"
    "  seed: 1\n"
    "  verify: exact        # exact (shingle Jaccard) | signature (equal values) | off: a candidate pair\n"
    "                       #   counts when its similarity reaches threshold\n"
    "  threshold: 0.8\n"
    "  fold_digits: false   # true: every digit counts as 0 (datatrove's way): records that differ only in\n"
    "                       #   numbers (dates, prices, rates) match, as dedup:folded; false keeps them apart\n"
    "  previous: []         # OUT dirs of earlier runs: their documents are kept, matches here removed\n"
    "  memory: 1GiB         # band records a signatures task holds; beyond, sorted runs go to disk\n"
    "  recent_texts: 65536  # texts a signatures task remembers (~0.6 KB each at 14 x 8): a copy of one\n"
    "                       #   is not simplified and MinHashed again; 0: none\n";

static const char DEDUP_USAGE[] =
    "usage: corpusmill dedup STEP CONFIG --task I --tasks N [--out DIR] [--force]\n"
    "\n"
    "Runs one task of one dedup step over OUT/clean/ (see dedup/dedup_stage.h):\n"
    "  signatures  --tasks = the clean split: exact hashes and MinHash bands per record\n"
    "  buckets     --tasks up to bands + 1: candidate pairs, band by band\n"
    "  clusters    --tasks 1: verification and union-find; removal lists\n"
    "  filter      --tasks = the clean split: OUT/dedup/ and OUT/rejected/dedup/\n"
    "The config needs a `dedup` section (`corpusmill config` shows its options).\n";

/* ---- what the steps share ---- */

void cm_dedup_add_pair(cm_dedup_pairs *ps, uint64_t a, uint64_t b)
{
    if (ps->n == ps->cap) {
        ps->cap = ps->cap ? ps->cap * 2 : 1024;
        ps->p = cm_realloc(ps->p, ps->cap * sizeof *ps->p);
    }
    ps->p[ps->n++] = (cm_sigrec){a, b};
}

void cm_dedup_band_dir(const char *out, int band, int bands, char *dir, size_t cap)
{
    if (band == bands) snprintf(dir, cap, "%s/minhash/bands/exact", out);
    else snprintf(dir, cap, "%s/minhash/bands/%03d", out, band);
}

int cm_dedup_finish_stream(FILE *f, const char *tmp, const char *path, int rc, cm_err *err)
{
    if (!f) return rc;
    int bad = fclose(f) != 0;
    if (rc == 0 && (bad || rename(tmp, path) != 0)) rc = cm_errorf(err, "cannot write '%s'", path);
    if (rc != 0) unlink(tmp);
    return rc;
}

int cm_dedup_next_id(const cm_buf *b, size_t *off, uint64_t *key, const char **id, uint32_t *len)
{
    if (*off == b->len) return 0;
    if (b->len - *off < 12) return -1;
    memcpy(key, b->data + *off, 8);
    memcpy(len, b->data + *off + 8, 4);
    if (b->len - *off - 12 < *len) return -1;
    *id = b->data + *off + 12;
    *off += 12 + *len;
    return 1;
}

/* ---- the descriptor ---- */

/* signatures and filter follow clean's split; buckets are split by bands
 * (and one task for the exact hashes); the clusters need every candidate
 * pair at once */
static void dedup_plan(const void *opts, int tasks, cm_stage_plan *plan)
{
    const cm_dedup_options *o = opts;
    for (int i = 0; i < cm_stage_dedup.n_steps; i++) {
        const cm_stage_step *s = &cm_stage_dedup.steps[i];
        plan->step[plan->n] = s;
        plan->tasks[plan->n++] = s->split == CM_SPLIT_ONE ? 1 : s->run == cm_dedup_buckets ? o->params.bands + 1 : tasks;
    }
}

static const cm_stage_step DEDUP_STEPS[] = {
    {.name = "signatures", .marker = "dedup_signatures", .split = CM_SPLIT_SOURCE, .run = cm_dedup_signatures},
    {.name = "buckets", .marker = "dedup_buckets", .split = CM_SPLIT_FREE, .after = {"dedup_signatures"},
     .run = cm_dedup_buckets},
    {.name = "clusters", .marker = "dedup_clusters", .split = CM_SPLIT_ONE, .after = {"dedup_buckets"},
     .run = cm_dedup_clusters},
    {.name = "filter", .marker = "dedup", .split = CM_SPLIT_SOURCE, .stats = 1, .after = {"dedup_clusters"},
     .run = cm_dedup_filter},
};

const cm_stage_def cm_stage_dedup = {
    .name = "dedup",
    .command = "dedup",
    .summary = "one task of a dedup step: signatures, buckets, clusters, filter",
    .usage = DEDUP_USAGE,
    .reference = DEDUP_REFERENCE,
    .reads = "documents",
    .documents = 1,
    .opts_size = sizeof(cm_dedup_options),
    .read = dedup_read,
    .free = dedup_free,
    .steps = DEDUP_STEPS,
    .n_steps = 4,
    .plan = dedup_plan,
};
