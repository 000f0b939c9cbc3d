/* index_stage.h -- the `index` stage, building the RAG export OUT/rag/
 * (index/rag_build.h) from embed's outputs once every embed task has
 * finished: in one task, or train / add (N tasks) / merge. Its options are
 * cm_index_options (rag_build.h). */
#ifndef CM_INDEX_STAGE_H
#define CM_INDEX_STAGE_H

#include "../pipeline/stage.h"
#include "rag_build.h"

extern const cm_stage_def cm_stage_index;

#endif
