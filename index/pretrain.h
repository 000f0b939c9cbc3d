/* pretrain.h -- the `pretrain` stage, the pretraining index: corpusmill pretrain CONFIG (one task,
 * after every embed task) writes OUT/index/pretrain/:
 *   documents.faiss        a document-level index (ids = doc_key), vectors =
 *                          the normalized mean of each document's chunks
 *   centroids.npy          spherical k-means centroids (FAISS), K x dim
 *   clusters-SSSS.jsonl.zst  every document: doc_key, doc_id, cluster, similarity
 *   clusters.json          K, iterations, seed, cluster sizes
 * and counts documents and clusters in the stats. */
#ifndef CM_PRETRAIN_H
#define CM_PRETRAIN_H

#include "../pipeline/stage.h"

/* The `pretrain` section. */
typedef struct cm_pretrain_options {
    long clusters;             /* k-means K; 0 = sqrt(documents)                  default: 0 */
    long iterations;           /*                                                 default: 20 */
    long seed;                 /*                                                 default: 1234 */
    int threads;               /* OpenMP / OpenBLAS threads for k-means           default: 1 */
    int semdedup;              /* SemDeDup within clusters                        default: false */
    double epsilon;            /* pairs with cosine >= 1 - epsilon are duplicates default: 0.01 */
    int semdedup_lexical;      /* allow it with the lexical hash model            default: false */
} cm_pretrain_options;

/* The stage's descriptor: one task, after every embed task. */
extern const cm_stage_def cm_stage_pretrain;

#endif
