/* decontam.h -- `corpusmill decontaminate CONFIG` (one task, after dedup, or
 * clean without dedup): training documents that share a 13-word (or
 * 13-CJK-character) n-gram with an item of the config's evaluation sets.
 * Writes OUT/decontam/report.jsonl (every hit: document, n-gram, eval file
 * and item, both texts) and, with decontam.remove, OUT/decontam/kept/ and
 * OUT/rejected/decontam/ (reason decontam:ngram). */
#ifndef CM_DECONTAM_H
#define CM_DECONTAM_H

#include "../pipeline/config.h"
#include "../pipeline/stats.h"

int cm_decontam_task(const cm_config *cfg, int force, cm_task_stats *st, int *already_done, cm_err *err);

#endif
