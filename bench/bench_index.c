/* bench_index.c -- what corpusmill adds to FAISS: N random unit vectors of
 * DIM, indexed with FACTORY directly through FAISS's C API (in memory) and
 * through corpusmill's index steps (train + add from .npy parts), then
 * QUERIES single-vector searches (k = 10) each way: faiss_Index_search on
 * the index, and cm_rag_search_vector on the opened export.
 *   bench_index WORKDIR N DIM FACTORY [QUERIES]
 * Prints build seconds and queries/s for both and the overhead. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <faiss/c_api/AutoTune_c.h>
#include <faiss/c_api/Index_c.h>
#include <faiss/c_api/index_factory_c.h>

#include "config.h"
#include "embed_stage.h"
#include "index_stage.h"
#include "rag_build.h"
#include "npy.h"
#include "rag.h"
#include "stage.h"

void omp_set_num_threads(int n);

static float *random_unit(size_t n, size_t d, uint64_t seed)
{
    float *v = malloc(n * d * sizeof *v);
    uint64_t r = seed;
    for (size_t i = 0; i < n; i++) {
        double norm = 0;
        for (size_t j = 0; j < d; j++) {
            r = r * 6364136223846793005ULL + 1442695040888963407ULL;
            float x = (float)((r >> 40) / 16777216.0 - 0.5);
            v[i * d + j] = x;
            norm += (double)x * x;
        }
        float inv = (float)(1 / sqrt(norm));
        for (size_t j = 0; j < d; j++) v[i * d + j] *= inv;
    }
    return v;
}

int main(int argc, char **argv)
{
    if (argc < 5) { fprintf(stderr, "usage: bench_index WORKDIR N DIM FACTORY [QUERIES]\n"); return 2; }
    const char *work = argv[1], *factory = argv[4];
    size_t n = strtoull(argv[2], NULL, 10), d = strtoull(argv[3], NULL, 10);
    size_t nq = argc > 5 ? strtoull(argv[5], NULL, 10) : 2000;
    omp_set_num_threads(1);
    cm_err err;
    float *v = random_unit(n, d, 1), *q = random_unit(nq, d, 2);
    int64_t *ids = malloc(n * sizeof *ids);
    for (size_t i = 0; i < n; i++) ids[i] = (int64_t)i;
    const char *params = strstr(factory, "HNSW") ? "efSearch=64" : strstr(factory, "IVF") ? "nprobe=16" : NULL;

    /* FAISS directly */
    double t0 = cm_now();
    FaissIndex *idx;
    if (faiss_index_factory(&idx, (int)d, factory, METRIC_INNER_PRODUCT)) return 1;
    if (!faiss_Index_is_trained(idx)) faiss_Index_train(idx, (idx_t)(n < 100000 ? n : 100000), v);
    faiss_Index_add_with_ids(idx, (idx_t)n, v, ids);
    double build_direct = cm_now() - t0;
    if (params) {
        FaissParameterSpace *ps;
        faiss_ParameterSpace_new(&ps);
        faiss_ParameterSpace_set_index_parameters(ps, idx, params);
        faiss_ParameterSpace_free(ps);
    }
    float dist[10];
    idx_t lab[10];
    t0 = cm_now();
    for (size_t i = 0; i < nq; i++) faiss_Index_search(idx, 1, q + i * d, 10, dist, lab);
    double search_direct = cm_now() - t0;
    faiss_Index_free(idx);

    /* through corpusmill: an OUT with the vectors as embed would write them */
    char path[4096], cfgtext[4500];
    snprintf(path, sizeof path, "%s/embeddings", work);
    cm_mkdirs(path, &err);
    snprintf(path, sizeof path, "%s/chunks", work);
    cm_mkdirs(path, &err);
    snprintf(path, sizeof path, "%s/embeddings/part-00000-0000.npy", work);
    cm_npy_writer *w = cm_npy_create(path, CM_NPY_F32, d, &err);
    cm_npy_append(w, v, n, &err);
    cm_npy_close(w, &err);
    snprintf(path, sizeof path, "%s/embeddings/part-00000-0000.ids.npy", work);
    w = cm_npy_create(path, CM_NPY_I64, 0, &err);
    cm_npy_append(w, ids, n, &err);
    cm_npy_close(w, &err);
    snprintf(path, sizeof path, "%s/embeddings/manifest.json", work);
    snprintf(cfgtext, sizeof cfgtext, "{\"model\": \"hash\", \"dim\": %zu, \"lexical\": true, \"chunk\": {}}\n", d);
    cm_write_file_atomic(path, cfgtext, strlen(cfgtext), &err);
    snprintf(path, sizeof path, "%s/chunks/part-00000-0000.jsonl", work);
    FILE *f = fopen(path, "w");
    for (size_t i = 0; i < n; i++) fprintf(f, "{\"chunk_id\":%zu,\"doc_id\":\"d%zu\",\"text\":\"t\",\"headings\":[]}\n", i, i);
    fclose(f);
    snprintf(cfgtext, sizeof cfgtext, "output:\n  dir: %s\nembed:\n  dim: %zu\nindex:\n  factory: \"%s\"\n", work, d, factory);
    const cm_stage_def *const stages[] = {&cm_stage_embed, &cm_stage_index, NULL};
    cm_config *cfg = cm_config_parse(cfgtext, "bench.yaml", stages, &err);
    if (!cfg) { fprintf(stderr, "%s\n", err.msg); return 1; }
    const cm_index_options *io = cm_config_options(cfg, "index");
    uint64_t added = 0, chunks = 0;
    t0 = cm_now();
    if (cm_rag_train(cfg, io, &err) || cm_rag_add(cfg, io, 0, 1, &added, &err)) { fprintf(stderr, "%s\n", err.msg); return 1; }
    double build_ours = cm_now() - t0;
    t0 = cm_now();
    if (cm_rag_merge(cfg, io, NULL, 1, &chunks, &err)) { fprintf(stderr, "%s\n", err.msg); return 1; }
    double merge = cm_now() - t0;
    snprintf(path, sizeof path, "%s/rag", work);
    cm_rag *r = cm_rag_open(path, &err);
    if (!r) { fprintf(stderr, "%s\n", err.msg); return 1; }
    cm_rag_hit hits[10];
    t0 = cm_now();
    for (size_t i = 0; i < nq; i++) cm_rag_search_vector(r, q + i * d, 10, hits, &err);
    double search_ours = cm_now() - t0;
    cm_rag_close(r);
    printf("%-14s n %zu dim %zu: build %.2f s direct, %.2f s corpusmill (train + add from .npy: %+.0f%%), "
           "then merge + recall check + chunk store %.2f s; search %.0f q/s direct, %.0f q/s corpusmill (%+.0f%%)\n",
           factory, n, d, build_direct, build_ours, 100 * (build_ours / build_direct - 1), merge, nq / search_direct,
           nq / search_ours, 100 * (search_ours / search_direct - 1));
    cm_config_free(cfg);
    free(v);
    free(q);
    free(ids);
    return 0;
}
