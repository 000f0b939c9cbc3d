/* dedup.h -- the dedup stages, each run as
 *   corpusmill dedup STEP CONFIG --task I --tasks N
 * after `clean`, over OUT/clean/:
 *   signatures  task T of the clean split: for every kept record of clean
 *               task T, its exact hash and MinHash band hashes (per-band
 *               sorted files, dedup/sigfile.h) and its whole signature
 *   buckets     task t: bands t, t + N, ...: a k-way merge of that band's
 *               files from every task; records sharing a hash are candidate
 *               pairs (each with the smallest document of its bucket)
 *   clusters    one task: pairs verified on the whole signature (verify),
 *               then union-find; a cluster's representative is its smallest
 *               document; removal lists per signatures task
 *   filter      task T: kept records to OUT/dedup/, removed ones to
 *               OUT/rejected/dedup/ with reason dedup:exact or dedup:minhash
 *               and the representative (duplicate_of)
 * A document is (global input file index << 40) | (its ordinal among the
 * file's kept records): the same whatever the task split, so the removed set
 * does not depend on --tasks; the kept copy is the first in input file
 * order. */
#ifndef CM_DEDUP_H
#define CM_DEDUP_H

#include "../pipeline/config.h"
#include "../pipeline/stats.h"

/* Runs one step. Returns a CM_EXIT_* status (see pipeline/clean.h); sets
 * *already_done when the step's task had finished before. */
int cm_dedup_step(const cm_config *cfg, const char *step, int task, int tasks, int force, cm_task_stats *stats,
                  int *already_done, cm_err *err);

/* The number of buckets tasks `run` uses: one per band, and one for exact. */
int cm_dedup_bucket_tasks(const cm_config *cfg);

#endif
