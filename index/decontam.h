/* decontam.h -- the `decontam` stage, `corpusmill decontaminate CONFIG` (one task, after dedup, or
 * clean without dedup): training documents that share a 13-word (or
 * 13-CJK-character) n-gram with an item of the config's evaluation sets.
 * Writes OUT/decontam/report.jsonl (every hit: document, n-gram, eval file
 * and item, both texts) and, with decontam.remove, OUT/decontam/kept/ and
 * OUT/rejected/decontam/ (reason decontam:ngram). */
#ifndef CM_DECONTAM_H
#define CM_DECONTAM_H

#include <stddef.h>

#include "../pipeline/stage.h"

/* The `decontam` section. */
typedef struct cm_decontam_options {
    char **eval_sets;          /* SQuAD JSON or JSON Lines files                  default: none */
    size_t n_eval_sets;
    long ngram;                /* shared words that make a hit                    default: 13 */
    long cjk_ngram;            /* shared CJK characters that make a hit           default: 13 */
    int remove;                /* write the documents without the hits            default: false */
    double vector_threshold;   /* a chunk this close (cosine) to an item is a hit;
                                  BERT models only, 0 = off                       default: 0.95 */
} cm_decontam_options;

/* The stage's descriptor: one task, after every task of the document stage. */
extern const cm_stage_def cm_stage_decontam;

#endif
