/* index_stage.h -- the `index` stage: corpusmill index CONFIG (one task)
 * builds the RAG export OUT/rag/ (index/rag.h) from embed's outputs, after
 * every embed task has finished. Accounting: read = the chunk records,
 * kept = those in the export. */
#ifndef CM_INDEX_STAGE_H
#define CM_INDEX_STAGE_H

#include "../pipeline/config.h"
#include "../pipeline/stats.h"

int cm_index_task(const cm_config *cfg, int force, cm_task_stats *st, int *already_done, cm_err *err);

#endif
