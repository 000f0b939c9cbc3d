/* bench_embed.c -- encoder throughput of the CPU backend on a model folder:
 * batches of BATCH sequences of SEQ tokens (random ids, [CLS] first), after
 * one warm-up batch, for at least SECONDS.
 *   bench_embed MODEL_DIR SEQ BATCH THREADS [SECONDS]
 * Prints one line: chunks/s, ms per batch, and CPU time / wall time (the
 * threads really used). bench/embed.sh gets the sgemm share from perf. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "backend.h"
#include "bert.h"

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec * 1e-6;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: bench_embed MODEL_DIR SEQ BATCH THREADS [SECONDS]\n");
        return 2;
    }
    int L = atoi(argv[2]), B = atoi(argv[3]), threads = atoi(argv[4]);
    double seconds = argc > 5 ? atof(argv[5]) : 10;
    cm_err err;
    cm_bert *m = cm_bert_load(argv[1], &err);
    if (!m) { fprintf(stderr, "%s\n", err.msg); return 1; }
    if (L < 2 || L > m->max_len || B < 1 || threads < 1) {
        fprintf(stderr, "SEQ must be 2..%d, BATCH and THREADS at least 1\n", m->max_len);
        return 2;
    }
    void *ctx = cm_backend_cpu.create(m, (size_t)B * (size_t)L, threads, &err);
    if (!ctx) { fprintf(stderr, "%s\n", err.msg); return 1; }
    int32_t *ids = malloc((size_t)B * L * sizeof *ids);
    int *lens = malloc((size_t)B * sizeof *lens);
    uint64_t r = 12345;
    for (int i = 0; i < B; i++) {
        lens[i] = L;
        for (int t = 0; t < L; t++) {
            r = r * 6364136223846793005ULL + 1442695040888963407ULL;
            ids[i * L + t] = t == 0 ? 2 : (int32_t)(5 + (r >> 33) % (uint64_t)(m->cfg.vocab_size - 5));
        }
    }
    float *out = malloc((size_t)B * m->cfg.hidden * sizeof *out);
    if (cm_backend_cpu.encode(ctx, ids, lens, (size_t)B, out, &err)) { fprintf(stderr, "%s\n", err.msg); return 1; }
    double t0 = cm_now(), c0 = cpu_seconds(), t;
    int batches = 0;
    do {
        cm_backend_cpu.encode(ctx, ids, lens, (size_t)B, out, &err);
        batches++;
    } while ((t = cm_now() - t0) < seconds);
    double per_batch = t / batches;
    printf("ours  seq %3d batch %d threads %d: %7.1f chunks/s (%.1f ms per batch, %d batches; cpu/wall %.2f)\n", L, B,
           threads, B / per_batch, per_batch * 1e3, batches, (cpu_seconds() - c0) / t);
    free(ids);
    free(lens);
    free(out);
    cm_backend_cpu.free(ctx);
    cm_bert_free(m);
    return 0;
}
