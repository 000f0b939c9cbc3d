/* dedup_stage.h -- the `dedup` stage: exact and MinHash-LSH deduplication
 * of the clean output, in four steps, each run as
 *   corpusmill dedup STEP CONFIG --task I --tasks N
 *   signatures  task T of the clean split (dedup/step_signatures.c)
 *   buckets     bands + 1 tasks: candidate pairs, band by band (step_buckets.c)
 *   clusters    one task: verification, union-find, removal lists (step_clusters.c)
 *   filter      task T: OUT/dedup/ and OUT/rejected/dedup/ (step_filter.c)
 * A document is (global input file index << 40) | (its ordinal among the
 * file's kept records): the same whatever the task split, so the removed set
 * does not depend on --tasks; the kept copy is the first in input file
 * order. */
#ifndef CM_DEDUP_STAGE_H
#define CM_DEDUP_STAGE_H

#include <stddef.h>
#include <stdint.h>

#include "../pipeline/stage.h"
#include "minhash.h"

/* exact: Jaccard of the shingle sets, recomputed for the documents in pairs;
 * signature: the fraction of equal signature values; off: every candidate */
typedef enum cm_dedup_verify { CM_VERIFY_EXACT, CM_VERIFY_SIGNATURE, CM_VERIFY_OFF } cm_dedup_verify;

/* The `dedup` section. */
typedef struct cm_dedup_options {
    int exact;                 /* exact duplicates (simplified text, XXH3-128)    default: true */
    int minhash;               /* near duplicates (MinHash-LSH)                   default: true */
    cm_minhash_params params;  /* ngram 5, bands 14, rows 8, seed 1 */
    int verify;                /* cm_dedup_verify: how candidate pairs are checked default: exact */
    double threshold;          /* the similarity a verified pair needs            default: 0.8 */
    uint64_t memory;           /* band records a signatures task holds before it
                                  writes a sorted run to disk                      default: 1 GiB */
    size_t recent_texts;       /* texts a signatures task remembers the values of default: 65536 */
    char **previous;           /* OUT dirs of earlier runs to dedup against       default: none */
    size_t n_previous;
} cm_dedup_options;

extern const cm_stage_def cm_stage_dedup;

#endif
