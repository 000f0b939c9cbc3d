/* step_signatures.c -- dedup step 1, one task per clean task: for every
 * kept record its exact hash and MinHash band hashes, held in memory up to
 * dedup.memory and written as per-band sorted runs (dedup/sigfile.h), its
 * whole signature (minhash/sigs/TTTTT.bin) and its raw JSON id
 * (minhash/ids/TTTTT.bin, for duplicate_of). Each task keeps 16 bytes per
 * band and document in memory: about 0.7 KB per document at 14 x 8, and
 * the values of up to dedup.recent_texts recently met texts (~40 MB). */
#define _GNU_SOURCE
#include "dedup_steps.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../pipeline/json.h"
#include "../pipeline/stage_reader.h"
#include "../pipeline/writer.h"
#include "minhash.h"
#include "sigfile.h"
#include "simplify.h"

/* What a text gives, all of it a function of the text alone: its exact
 * hashes and its MinHash signature and band hashes. */
typedef struct text_values {
    cm_hash128 text;         /* XXH3-128 of the text: the slot's key */
    uint64_t simplified;     /* hash of the simplified text, digits as written */
    uint64_t band_key;       /* the exact band's key (simplified, folded when fold_digits) */
    int used;
} text_values;

typedef struct sig_state {
    cm_minhasher *mh;
    int exact, minhash, n_perm, bands;
    cm_sigrec **band;   /* [bands + 1]: the last is exact */
    size_t n, cap, total;
    /* The last text met in each of dedup.recent_texts slots (by its hash)
     * and its values: crawled text repeats (boilerplate pages, mirrors,
     * reposts), and a copy met again costs a lookup instead of being
     * simplified and MinHashed again, with the same bytes out. About 0.6 KB
     * a slot at 14 x 8, touched as slots fill. */
    size_t n_recent;         /* slots; 1 when dedup.recent_texts is 0 (the slot is for the text at hand) */
    int remember;            /* dedup.recent_texts > 0 */
    text_values *recent;     /* [n_recent] */
    uint32_t *recent_sig;    /* [n_recent * n_perm] */
    uint64_t *recent_bands;  /* [n_recent * bands] */
    FILE *sigs;         /* key + signature per document, streamed */
    FILE *ids;          /* key, length, raw JSON id per document: for duplicate_of */
    FILE *texts;        /* key, text hash, simplified hash per document: what kind an exact pair is */
    cm_buf scratch;
    cm_simplify_cache *simplify_cache;
    size_t limit;       /* documents held before a sorted run is written */
    int spills;
    const char *out;
    int task;
    const cm_minhash_params *p;
    const char *id_field;
    cm_err err;
    int failed;
} sig_state;

/* Writes the held band records as sorted runs TTTTT-SSSS.bin, one per band. */
static int spill(sig_state *s)
{
    char dir[4200], path[4400];
    for (int b = 0; b <= s->bands; b++) {
        if ((b == s->bands && !s->exact) || (b < s->bands && !s->minhash)) continue;
        cm_dedup_band_dir(s->out, b, s->bands, dir, sizeof dir);
        snprintf(path, sizeof path, "%s/%05d-%04d.bin", dir, s->task, s->spills);
        if (cm_mkdirs(dir, &s->err) || cm_sigfile_write(path, s->p, b, s->band[b], s->n, &s->err)) return -1;
    }
    s->spills++;
    s->n = 0;
    return 0;
}

static int sig_each(void *user, const cm_stage_record *r, cm_err *err)
{
    sig_state *s = user;
    uint64_t key = r->key;
    const char *text = r->text;
    size_t len = r->text_len;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 4096;
        for (int b = 0; b <= s->bands; b++) s->band[b] = cm_realloc(s->band[b], s->cap * sizeof **s->band);
    }
    cm_hash128 th = cm_text_hash(text, len);
    size_t slot = (size_t)(th.lo % s->n_recent);
    text_values *v = &s->recent[slot];
    uint32_t *sig = s->recent_sig + slot * (size_t)s->n_perm;
    uint64_t *band_hash = s->recent_bands + slot * (size_t)s->bands;
    if (!s->remember || !v->used || v->text.hi != th.hi || v->text.lo != th.lo) {
        *v = (text_values){.text = th, .used = 1};
        if (s->exact) {
            /* the exact band is keyed by the widest equality asked for (the
             * simplified text, with digits folded when fold_digits); the
             * text's own hash and the simplified one without folding tell
             * the kind of a pair apart at the clusters step */
            v->simplified = cm_dedup_hash64(cm_simplified_hash(text, len, 0, &s->scratch, s->simplify_cache));
            v->band_key = s->p->fold_digits ? cm_dedup_hash64(cm_simplified_hash(text, len, 1, &s->scratch, s->simplify_cache))
                                            : v->simplified;
        }
        if (s->minhash) {
            cm_minhash_signature(s->mh, text, len, sig);
            cm_minhash_bands(s->mh, sig, band_hash);
        }
    }
    if (s->exact) {
        uint64_t rec[3] = {key, cm_dedup_hash64(th), v->simplified};
        s->band[s->bands][s->n] = (cm_sigrec){v->band_key, key};
        if (fwrite(rec, sizeof rec, 1, s->texts) != 1) {
            cm_errorf(err, "cannot write the text hashes: %s", strerror(errno));
            return -1;
        }
    }
    if (s->minhash) {
        for (int b = 0; b < s->bands; b++) s->band[b][s->n] = (cm_sigrec){band_hash[b], key};
        if (fwrite(&key, sizeof key, 1, s->sigs) != 1 || fwrite(sig, sizeof *sig, (size_t)s->n_perm, s->sigs) != (size_t)s->n_perm) {
            cm_errorf(err, "cannot write the signatures: %s", strerror(errno));
            return -1;
        }
    }
    {
        /* the record's id as raw JSON (null when it has none) */
        long ii = cm_json_find(r->rec, s->id_field, NULL);
        const char *raw = "null";
        uint32_t rl = 4;
        if (ii >= 0) {
            raw = r->line + r->rec->members[ii].value_start;
            rl = (uint32_t)(r->rec->members[ii].value_end - r->rec->members[ii].value_start);
        }
        if (fwrite(&key, sizeof key, 1, s->ids) != 1 || fwrite(&rl, sizeof rl, 1, s->ids) != 1 ||
            fwrite(raw, 1, rl, s->ids) != rl) {
            cm_errorf(err, "cannot write the ids: %s", strerror(errno));
            return -1;
        }
    }
    s->n++;
    s->total++;
    if (s->n >= s->limit && spill(s)) {
        cm_errorf(err, "%s", s->err.msg);
        return -1;
    }
    return 0;
}

int cm_dedup_signatures(const cm_stage_task *t, cm_task_stats *st, cm_err *err)
{
    const cm_config *cfg = t->cfg;
    const cm_dedup_options *o = t->opts;
    const char *out = cfg->output.dir;
    int task = t->task;
    const cm_minhash_params *p = &o->params;
    cm_stage_reader *reader = cm_stage_reader_create(cfg, err);
    if (reader) cm_stage_reader_progress(reader, "dedup signatures", NULL);
    if (!reader) return cm_err_usage(err);
    sig_state s;
    memset(&s, 0, sizeof s);
    s.id_field = cfg->input.id_field;
    s.mh = cm_minhasher_create(p);
    s.exact = o->exact;
    s.minhash = o->minhash;
    s.bands = p->bands;
    s.n_perm = p->bands * p->rows;
    s.band = cm_calloc((size_t)s.bands + 1, sizeof *s.band);
    s.remember = o->recent_texts > 0;
    s.n_recent = s.remember ? o->recent_texts : 1;
    s.recent = cm_calloc(s.n_recent, sizeof *s.recent);
    s.recent_sig = cm_malloc(s.n_recent * (size_t)s.n_perm * sizeof *s.recent_sig);
    s.recent_bands = cm_malloc(s.n_recent * (size_t)s.bands * sizeof *s.recent_bands);
    cm_buf_init(&s.scratch);
    s.simplify_cache = cm_calloc(1, sizeof *s.simplify_cache);
    s.out = out;
    s.task = task;
    s.p = p;
    s.limit = (size_t)(o->memory / ((uint64_t)(s.bands + 1) * sizeof(cm_sigrec)));
    if (s.limit < 64) s.limit = 64;
    char dir[4200], path[4400], tmp[4500], prefix[16];
    /* a task that runs again starts from nothing */
    snprintf(prefix, sizeof prefix, "%05d", task);
    for (int b = 0; b <= s.bands; b++) {
        cm_dedup_band_dir(out, b, s.bands, dir, sizeof dir);
        cm_remove_prefixed(dir, prefix, NULL);
    }
    snprintf(dir, sizeof dir, "%s/minhash/sigs", out);
    snprintf(path, sizeof path, "%s/%05d.bin", dir, task);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int rc = 0;
    char ids_dir[4200], ids_path[4400], ids_tmp[4500];
    snprintf(ids_dir, sizeof ids_dir, "%s/minhash/ids", out);
    snprintf(ids_path, sizeof ids_path, "%s/%05d.bin", ids_dir, task);
    snprintf(ids_tmp, sizeof ids_tmp, "%s.tmp", ids_path);
    char tx_dir[4200], tx_path[4400], tx_tmp[4500];
    snprintf(tx_dir, sizeof tx_dir, "%s/minhash/texts", out);
    snprintf(tx_path, sizeof tx_path, "%s/%05d.bin", tx_dir, task);
    snprintf(tx_tmp, sizeof tx_tmp, "%s.tmp", tx_path);
    if (cm_mkdirs(dir, err) || !(s.sigs = fopen(tmp, "wb")) || cm_mkdirs(ids_dir, err) || !(s.ids = fopen(ids_tmp, "wb")) ||
        cm_mkdirs(tx_dir, err) || !(s.texts = fopen(tx_tmp, "wb"))) {
        if (!s.sigs || !s.ids || !s.texts)
            cm_errorf(err, "cannot write '%s': %s", !s.sigs ? tmp : !s.ids ? ids_tmp : tx_tmp, strerror(errno));
        rc = -1;
    }
    if (rc == 0) {
        if (cm_stage_reader_walk(reader, t->source, task, sig_each, &s, err)) rc = -1;
        else if (s.n && spill(&s)) {
            cm_errorf(err, "%s", s.err.msg);
            rc = -1;
        }
    }
    rc = cm_dedup_finish_stream(s.texts, tx_tmp, tx_path, rc, err);
    rc = cm_dedup_finish_stream(s.ids, ids_tmp, ids_path, rc, err);
    rc = cm_dedup_finish_stream(s.sigs, tmp, path, rc, err);
    s.n = s.total;
    st->counts.read = st->counts.kept = s.total;
    st->parts = (uint64_t)s.spills;
    for (int b = 0; b <= s.bands; b++) free(s.band[b]);
    free(s.band);
    free(s.recent);
    free(s.recent_sig);
    free(s.recent_bands);
    cm_buf_free(&s.scratch);
    free(s.simplify_cache);
    cm_minhasher_free(s.mh);
    cm_stage_reader_free(reader);
    return rc;
}
