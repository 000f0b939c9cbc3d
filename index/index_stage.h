/* index_stage.h -- the `index` stage, building the RAG export OUT/rag/
 * (index/rag.h) from embed's outputs once every embed task has finished:
 *   corpusmill index CONFIG                       all in one task
 *   corpusmill index train CONFIG                 one task
 *   corpusmill index add CONFIG --task I --tasks N
 *   corpusmill index merge CONFIG                 one task, after every add
 * Accounting of the export: read = kept = the chunks in it. */
#ifndef CM_INDEX_STAGE_H
#define CM_INDEX_STAGE_H

#include "../pipeline/config.h"
#include "../pipeline/stats.h"

/* step: NULL (everything), "train", "add" or "merge". Returns a CM_EXIT_*
 * status; sets *already_done when the step's task had finished before. */
int cm_index_step(const cm_config *cfg, const char *step, int task, int tasks, int force, cm_task_stats *st,
                  int *already_done, cm_err *err);

#endif
