/* pretrain.h -- the pretraining index: corpusmill pretrain CONFIG (one task,
 * after every embed task) writes OUT/index/pretrain/:
 *   documents.faiss        a document-level index (ids = doc_key), vectors =
 *                          the normalized mean of each document's chunks
 *   centroids.npy          spherical k-means centroids (FAISS), K x dim
 *   clusters-SSSS.jsonl.zst  every document: doc_key, doc_id, cluster, similarity
 *   clusters.json          K, iterations, seed, cluster sizes
 * and counts documents and clusters in the stats. */
#ifndef CM_PRETRAIN_H
#define CM_PRETRAIN_H

#include "../pipeline/config.h"
#include "../pipeline/stats.h"

int cm_pretrain_task(const cm_config *cfg, int force, cm_task_stats *st, int *already_done, cm_err *err);

#endif
