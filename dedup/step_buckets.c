/* step_buckets.c -- dedup step 2, one task per band (and one for the exact
 * hashes), or per band and hash range with more tasks: a k-way merge of
 * that band's sorted runs from every signatures task, in 1 MiB reads, and of
 * the same band of earlier runs (dedup.previous); records sharing a hash
 * are candidate pairs, each with the smallest document of its bucket
 * (minhash/pairs/BBB-RRRR.bin, exact-RRRR.bin). */
#define _GNU_SOURCE
#include "dedup_steps.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../pipeline/progress.h"
#include "../pipeline/writer.h"
#include "sigfile.h"

/* Merges one band (band == bands: the exact hashes), the part of it whose
 * hashes fall in range `range` of `ranges` (by their top 32 bits). */
static int merge_band(const cm_config *cfg, const cm_dedup_options *o, int band, int range, int ranges, cm_err *err)
{
    const char *out = cfg->output.dir;
    const cm_minhash_params *p = &o->params;
    char dir[4200], path[4400];
    cm_dedup_band_dir(out, band, p->bands, dir, sizeof dir);
    size_t n;
    char **files = cm_list_dir(dir, "", &n);
    size_t n_new = n;
    /* the same band of earlier runs */
    int *run = NULL;
    for (size_t k = 0; k < o->n_previous; k++) {
        char pdir[4200];
        cm_dedup_band_dir(o->previous[k], band, p->bands, pdir, sizeof pdir);
        size_t m;
        char **more = cm_list_dir(pdir, "", &m);
        if (!more && !cm_is_dir(pdir)) {
            cm_free_list(files, n);
            return cm_errorf(err, "dedup.previous: '%s' holds no MinHash files of band %d", o->previous[k], band);
        }
        files = cm_realloc(files, (n + m + 1) * sizeof *files);
        run = cm_realloc(run, (n + m + 1) * sizeof *run);
        for (size_t i = 0; i < m; i++) { files[n + i] = more[i]; run[n + i] = (int)k; }
        free(more);
        n += m;
    }
    cm_sigreader **r = cm_calloc(n ? n : 1, sizeof *r);
    cm_sigrec *head = cm_calloc(n ? n : 1, sizeof *head);
    int *live = cm_calloc(n ? n : 1, sizeof *live);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        r[i] = cm_sigreader_open(files[i], p, band, err);
        if (!r[i]) { rc = -1; break; }
        int got = cm_sigreader_next(r[i], &head[i], err);
        if (got < 0) rc = -1;
        live[i] = got == 1;
        if (live[i] && i >= n_new) head[i].doc = PREV_KEY(run[i], head[i].doc);
    }
    cm_dedup_pairs ps = {0};
    uint64_t cur_hash = 0, first = 0;
    int have = 0;
    while (rc == 0) {
        /* the smallest head (a handful of files: a linear scan) */
        long best = -1;
        for (size_t i = 0; i < n; i++)
            if (live[i] && (best < 0 || head[i].hash < head[best].hash ||
                            (head[i].hash == head[best].hash && head[i].doc < head[best].doc)))
                best = (long)i;
        if (best < 0) break;
        cm_sigrec x = head[best];
        int in_range = ranges == 1 || (int)(((x.hash >> 32) * (uint64_t)ranges) >> 32) == range;
        int got = cm_sigreader_next(r[best], &head[best], err);
        if (got < 0) { rc = -1; break; }
        live[best] = got == 1;
        if (live[best] && (size_t)best >= n_new) head[best].doc = PREV_KEY(run[best], head[best].doc);
        if (!in_range) continue;
        if (have && x.hash == cur_hash) cm_dedup_add_pair(&ps, first, x.doc);
        else { cur_hash = x.hash; first = x.doc; have = 1; }
    }
    for (size_t i = 0; i < n; i++) cm_sigreader_close(r[i]);
    if (rc == 0) {
        snprintf(dir, sizeof dir, "%s/minhash/pairs", out);
        if (band == p->bands) snprintf(path, sizeof path, "%s/exact-%04d.bin", dir, range);
        else snprintf(path, sizeof path, "%s/%03d-%04d.bin", dir, band, range);
        if (cm_mkdirs(dir, err) || cm_sigfile_write(path, p, band, ps.p, ps.n, err)) rc = -1;
    }
    free(ps.p);
    free(r);
    free(head);
    free(live);
    free(run);
    cm_free_list(files, n);
    return rc;
}

/* Work units are (band, hash range): with more tasks than bands + 1, each
 * band is cut into ranges by hash, so that the merge spreads over them. */
int cm_dedup_buckets(const cm_stage_task *t, cm_task_stats *st, cm_err *err)
{
    (void)st;
    const cm_dedup_options *o = t->opts;
    int task = t->task, tasks = t->tasks;
    int bands = o->params.bands;
    int ranges = (tasks + bands) / (bands + 1);
    cm_progress prog;
    cm_progress_init(&prog, t->cfg->run.progress, t->cfg->run.progress_fd, "dedup buckets");
    uint64_t units = 0, done = 0;
    for (int u = task; u < (bands + 1) * ranges; u += tasks) units++;
    int rc = 0;
    for (int u = task; u < (bands + 1) * ranges && rc == 0; u += tasks, done++) {
        int b = u % (bands + 1), range = u / (bands + 1);
        cm_progress_update(&prog, 0, 0, done, units, 0);
        if ((b == bands && !o->exact) || (b < bands && !o->minhash)) continue;
        rc = merge_band(t->cfg, o, b, range, ranges, err);
    }
    cm_progress_update(&prog, 0, 0, units, units, 1);
    cm_progress_end(&prog);
    return rc;
}
