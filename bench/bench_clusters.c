/* bench_clusters.c -- the clusters step on synthetic pairs:
 *   bench_clusters OUT DOCS PAIRS
 * writes PAIRS random near-duplicate pairs among DOCS documents (band 0; the
 * other bands empty) under OUT/minhash/pairs, then runs the clusters step
 * (dedup/step_clusters.c, without the runner's checks: no buckets step ran)
 * with verification off, and prints its time. Run it under /usr/bin/time for
 * the peak RSS. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "dedup_stage.h"
#include "dedup_steps.h"
#include "sigfile.h"
#include "util.h"

int main(int argc, char **argv)
{
    if (argc != 4) { fprintf(stderr, "usage: bench_clusters OUT DOCS PAIRS\n"); return 2; }
    const char *out = argv[1];
    uint64_t docs = strtoull(argv[2], NULL, 10), npairs = strtoull(argv[3], NULL, 10);
    char yaml[1024];
    snprintf(yaml, sizeof yaml, "input:\n  paths: [%s]\noutput:\n  dir: %s\ndedup:\n  exact: false\n  verify: off\n", out, out);
    cm_err err;
    if (cm_mkdirs_under(out, "minhash/pairs", &err)) { fprintf(stderr, "%s\n", err.msg); return 1; }
    const cm_stage_def *const stages[] = {&cm_stage_dedup, NULL};
    cm_config *cfg = cm_config_parse(yaml, "bench.yaml", stages, &err);
    if (!cfg) { fprintf(stderr, "%s\n", err.msg); return 1; }
    const cm_dedup_options *o = cm_config_options(cfg, "dedup");
    cm_sigrec *p = malloc(npairs * sizeof *p);
    uint64_t x = 12345;
    double t0 = cm_now();
    for (uint64_t i = 0; i < npairs; i++) {
        /* documents numbered as (file << 40 | record), 10,000 files */
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        uint64_t a = (x >> 11) % docs;
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        uint64_t b = a + 1 + (x >> 11) % 1000; /* near neighbours: chains and clusters form */
        if (b >= docs) b = a > 0 ? a - 1 : 1;
        p[i].hash = ((a % 10000) << 40) | (a / 10000);
        p[i].doc = ((b % 10000) << 40) | (b / 10000);
    }
    char path[4200];
    for (int band = 0; band < o->params.bands; band++) {
        snprintf(path, sizeof path, "%s/minhash/pairs/%03d.bin", out, band);
        if (cm_sigfile_write(path, &o->params, band, p, band == 0 ? npairs : 0, &err)) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
    }
    free(p);
    printf("wrote %llu pairs among %llu documents in %.1f s\n", (unsigned long long)npairs, (unsigned long long)docs,
           cm_now() - t0);
    cm_task_stats st;
    cm_task_stats_init(&st);
    t0 = cm_now();
    cm_stage_task t = {.cfg = cfg, .opts = o, .source = "clean", .task = 0, .tasks = 1, .force = 1};
    int rc = cm_dedup_clusters(&t, &st, &err);
    if (rc) { fprintf(stderr, "%s\n", err.msg); return 1; }
    printf("clusters: %.1f s, %llu documents in pairs, peak RSS %ld MiB\n", cm_now() - t0,
           (unsigned long long)st.counts.read, cm_peak_rss_kb() / 1024);
    snprintf(path, sizeof path, "%s/minhash/clusters.json", out);
    cm_buf b;
    cm_buf_init(&b);
    if (cm_read_file(path, &b, 1 << 20, &err) == 0) fputs(b.data, stdout);
    cm_buf_free(&b);
    cm_task_stats_free(&st);
    cm_config_free(cfg);
    return 0;
}
