/* step_filter.c -- dedup step 4, one task per clean task: kept records to
 * OUT/dedup/ (the pretraining output), removed ones to OUT/rejected/dedup/
 * with reason dedup:exact or dedup:minhash and duplicate_of: the kept copy's
 * id and where it is (its input file and record, or an earlier run). */
#define _GNU_SOURCE
#include "dedup_steps.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "../pipeline/inputs.h"
#include "../pipeline/json.h"
#include "../pipeline/stage_reader.h"
#include "../pipeline/writer.h"
#include "sigfile.h"

typedef struct filter_state {
    cm_sigrec *rm, *via, *sim; /* hash = document; doc = kept copy, verified against, kind and Jaccard */
    size_t n_rm;
    cm_buf kept, rejected;
    cm_part_writer kw, rw;
    ZSTD_CCtx *cctx;
    cm_buf z;
    cm_task_stats *st;
    const cm_input_list *inputs;
    const cm_dedup_options *o;
    uint64_t *rep_keys;  /* representatives' keys, sorted, and their raw JSON ids */
    char **rep_ids;
    size_t n_reps;
    cm_err err;
} filter_state;

static int flush_part(filter_state *f, cm_buf *b, cm_part_writer *pw, int force)
{
    return cm_part_writer_flush_zstd(pw, f->cctx, b, &f->z, force ? 0 : 4u << 20, &f->err);
}

/* "id", and where the document is: its input file and record, or an earlier
 * run's file index and record. */
static void append_where(filter_state *f, uint64_t doc)
{
    long rk = cm_find_u64(f->rep_keys, f->n_reps, doc);
    cm_buf_append_str(&f->rejected, "\"id\":");
    cm_buf_append_str(&f->rejected, rk >= 0 ? f->rep_ids[rk] : "null");
    cm_buf_append_char(&f->rejected, ',');
    if (doc & PREV_FLAG) {
        const char *run = f->o->previous[PREV_RUN(doc)];
        cm_buf_append_str(&f->rejected, "\"previous_run\":");
        cm_buf_append_json_bytes(&f->rejected, run, strlen(run));
        cm_buf_appendf(&f->rejected, ",\"file_index\":%llu,\"record\":%llu",
                       (unsigned long long)KEY_FILE(PREV_ORIG(doc)), (unsigned long long)KEY_ORDINAL(PREV_ORIG(doc)));
    } else {
        const char *rf = f->inputs->files[KEY_FILE(doc)].path;
        cm_buf_append_str(&f->rejected, "\"file\":");
        cm_buf_append_json_bytes(&f->rejected, rf, strlen(rf));
        cm_buf_appendf(&f->rejected, ",\"record\":%llu", (unsigned long long)KEY_ORDINAL(doc));
    }
}

static void append_jaccard(cm_buf *b, const char *key, double j)
{
    if (j < 0) cm_buf_appendf(b, ",\"%s\":null", key);
    else cm_buf_appendf(b, ",\"%s\":%.4f", key, j);
}

static int filter_each(void *user, const cm_stage_record *r, cm_err *err)
{
    filter_state *f = user;
    uint64_t key = r->key;
    const char *line = r->line;
    size_t n = r->line_len;
    f->st->counts.read++;
    f->st->counts.bytes_in += n;
    cm_sigrec probe = {key, 0};
    cm_sigrec *hit = NULL;
    size_t lo = 0, hi = f->n_rm;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (f->rm[mid].hash < probe.hash) lo = mid + 1;
        else hi = mid;
    }
    if (lo < f->n_rm && f->rm[lo].hash == key) hit = &f->rm[lo];
    size_t at = lo;
    if (!hit) {
        cm_buf_append(&f->kept, line, n);
        cm_buf_append_char(&f->kept, '\n');
        f->st->counts.kept++;
        f->st->counts.bytes_out += n + 1;
        if (flush_part(f, &f->kept, &f->kw, 0)) { *err = f->err; return -1; }
        return 0;
    }
    /* the three files list the same documents in the same order */
    if (f->via[at].hash != key || f->sim[at].hash != key) return cm_errorf(err, "the removal lists disagree");
    uint64_t rep = hit->doc, via = f->via[at].doc, sim = f->sim[at].doc;
    static const char *const reasons[] = {"dedup:exact", "dedup:simplified", "dedup:minhash", "dedup:folded"};
    const char *reason = reasons[cm_dedup_sim_kind(sim)];
    cm_reasons_add(&f->st->counts.removed, reason, 1);
    if (n < 2 || line[n - 1] != '}' || line[n - 2] != '}') return cm_errorf(err, "a clean record of unexpected shape");
    cm_buf_append(&f->rejected, line, n - 2);
    cm_buf_appendf(&f->rejected, ",\"reason\":\"%s\",\"duplicate_of\":{", reason);
    append_where(f, rep);
    cm_buf_append_str(&f->rejected, "},\"verified_against\":{");
    append_where(f, via);
    append_jaccard(&f->rejected, "jaccard", cm_dedup_sim_jaccard(sim, 0));
    if (f->o->params.fold_digits) append_jaccard(&f->rejected, "jaccard_folded", cm_dedup_sim_jaccard(sim, 1));
    if (cm_dedup_sim_estimated(sim)) cm_buf_append_str(&f->rejected, ",\"estimated\":true");
    cm_buf_append_str(&f->rejected, "}}}\n");
    if (flush_part(f, &f->rejected, &f->rw, 0)) { *err = f->err; return -1; }
    return 0;
}

int cm_dedup_filter(const cm_stage_task *t, cm_task_stats *st, cm_err *err)
{
    const cm_config *cfg = t->cfg;
    const cm_dedup_options *o = t->opts;
    const char *out = cfg->output.dir;
    int task = t->task;
    char path[4400], prefix[64], dir[4200];
    filter_state f;
    memset(&f, 0, sizeof f);
    f.st = st;
    f.o = o;
    /* the removals: kept copy, verified against, kind and Jaccard */
    static const char *const lists[] = {"%s/minhash/remove/%05d.bin", "%s/minhash/remove/%05d.via.bin",
                                        "%s/minhash/remove/%05d.sim.bin"};
    cm_sigrec **into[] = {&f.rm, &f.via, &f.sim};
    size_t counts[3] = {0, 0, 0};
    for (int l = 0; l < 3; l++) {
        snprintf(path, sizeof path, lists[l], out, task);
        if (!cm_path_exists(path)) continue;
        cm_sigreader *r = cm_sigreader_open(path, &o->params, l, err);
        if (!r) { free(f.rm); free(f.via); free(f.sim); return -1; }
        cm_sigrec x;
        int got;
        size_t cap = 0;
        while ((got = cm_sigreader_next(r, &x, err)) == 1) {
            if (counts[l] == cap) { cap = cap ? cap * 2 : 1024; *into[l] = cm_realloc(*into[l], cap * sizeof **into[l]); }
            (*into[l])[counts[l]++] = x;
        }
        cm_sigreader_close(r);
        if (got < 0) { free(f.rm); free(f.via); free(f.sim); return -1; }
    }
    f.n_rm = counts[0];
    if (counts[1] != f.n_rm || counts[2] != f.n_rm) {
        free(f.rm); free(f.via); free(f.sim);
        return cm_errorf(err, "minhash/remove/%05d: the removal lists disagree (%zu, %zu, %zu records)", task, counts[0],
                         counts[1], counts[2]);
    }
    snprintf(path, sizeof path, "%s/minhash/remove/%05d.ids", out, task);
    if (cm_path_exists(path)) {
        cm_buf b;
        cm_buf_init(&b);
        if (cm_read_file(path, &b, (size_t)1 << 40, err)) { cm_buf_free(&b); free(f.rm); free(f.via); free(f.sim); return -1; }
        size_t off = 0, cap_r = 0;
        uint64_t key;
        uint32_t len;
        const char *id;
        int got;
        while ((got = cm_dedup_next_id(&b, &off, &key, &id, &len)) == 1) {
            if (f.n_reps == cap_r) {
                cap_r = cap_r ? cap_r * 2 : 256;
                f.rep_keys = cm_realloc(f.rep_keys, cap_r * sizeof *f.rep_keys);
                f.rep_ids = cm_realloc(f.rep_ids, cap_r * sizeof *f.rep_ids);
            }
            f.rep_keys[f.n_reps] = key;
            f.rep_ids[f.n_reps++] = cm_strndup(id, len);
        }
        cm_buf_free(&b);
        if (got < 0) {
            cm_errorf(err, "%s: truncated or corrupt ids file", path);
            for (size_t i = 0; i < f.n_reps; i++) free(f.rep_ids[i]);
            free(f.rep_ids);
            free(f.rep_keys);
            free(f.rm);
            free(f.via);
            free(f.sim);
            return -1;
        }
    }
    cm_stage_reader *reader = cm_stage_reader_create(cfg, err);
    if (reader) cm_stage_reader_progress(reader, "dedup filter", NULL);
    if (!reader) { free(f.rm); free(f.via); free(f.sim); return cm_err_usage(err); }
    f.inputs = cm_stage_reader_inputs(reader);
    snprintf(prefix, sizeof prefix, "part-%05d", task);
    snprintf(dir, sizeof dir, "%s/dedup", out);
    cm_mkdirs(dir, NULL);
    cm_remove_prefixed(dir, prefix, NULL);
    cm_part_writer_init(&f.kw, dir, prefix, ".jsonl.zst", cfg->output.part_size);
    snprintf(dir, sizeof dir, "%s/rejected/dedup", out);
    cm_mkdirs(dir, NULL);
    cm_remove_prefixed(dir, prefix, NULL);
    cm_part_writer_init(&f.rw, dir, prefix, ".jsonl.zst", cfg->output.part_size);
    f.cctx = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(f.cctx, ZSTD_c_compressionLevel, cfg->output.zstd_level);
    int rc = cm_stage_reader_walk(reader, t->source, task, filter_each, &f, err);
    if (rc == 0 && (flush_part(&f, &f.kept, &f.kw, 1) || flush_part(&f, &f.rejected, &f.rw, 1) ||
                    cm_part_writer_close(&f.kw, &f.err) || cm_part_writer_close(&f.rw, &f.err)))
        rc = cm_errorf(err, "%s", f.err.msg);
    st->parts = f.kw.parts_done;
    cm_part_writer_free(&f.kw);
    cm_part_writer_free(&f.rw);
    ZSTD_freeCCtx(f.cctx);
    cm_buf_free(&f.kept);
    cm_buf_free(&f.rejected);
    cm_buf_free(&f.z);
    free(f.rm);
    free(f.via);
    free(f.sim);
    for (size_t i = 0; i < f.n_reps; i++) free(f.rep_ids[i]);
    free(f.rep_ids);
    free(f.rep_keys);
    cm_stage_reader_free(reader);
    return rc ? -1 : 0;
}
