/* dedup.c -- the dedup stages (see dedup.h). Each step keeps a task's
 * records in memory (16 bytes per band and document, plus the signature):
 * about 0.7 KB per document at 14 x 8. */
#define _GNU_SOURCE
#include "dedup.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "../pipeline/clean.h"
#include "../pipeline/format.h"
#include "../pipeline/inputs.h"
#include "../pipeline/json.h"
#include "../pipeline/source.h"
#include "../pipeline/stage.h"
#include "../pipeline/stage_reader.h"
#include "../pipeline/writer.h"
#include "minhash.h"
#include "sigfile.h"
#include "simplify.h"

#define KEY_FILE(k) CM_DOC_FILE(k)
#define KEY_ORDINAL(k) CM_DOC_ORDINAL(k)
#define EXACT_FLAG (1ULL << 63)
/* documents of earlier runs (dedup.previous): flag, run index, their own key */
#define PREV_FLAG (1ULL << 62)
#define PREV_KEY(run, key) (PREV_FLAG | ((uint64_t)(run) << 56) | (key))
#define PREV_RUN(k) (((k) >> 56) & 63)
#define PREV_ORIG(k) ((k) & ((1ULL << 56) - 1))
/* the union-find orders documents so that earlier runs' come first: they are
 * kept, never touched */
#define ORDER(k) ((k) ^ PREV_FLAG)

int cm_dedup_bucket_tasks(const cm_config *cfg) { return cfg->dedup.params.bands + 1; }

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* ---- signatures ---- */

typedef struct sig_state {
    cm_minhasher *mh;
    int exact, minhash, n_perm, bands;
    cm_sigrec **band;   /* [bands + 1]: the last is exact */
    size_t n, cap, total;
    uint32_t *sig;
    uint64_t *band_hash;
    FILE *sigs;         /* key + signature per document, streamed */
    FILE *ids;          /* key, length, raw JSON id per document: for duplicate_of */
    cm_buf scratch;
    size_t limit;       /* documents held before a sorted run is written */
    int spills;
    const char *out;
    int task;
    const cm_minhash_params *p;
    const char *id_field;
    cm_err err;
    int failed;
} sig_state;

static void band_dir(const char *out, int band, int bands, char *dir, size_t cap);

/* Writes the held band records as sorted runs TTTTT-SSSS.bin, one per band. */
static int spill(sig_state *s)
{
    char dir[4200], path[4400];
    for (int b = 0; b <= s->bands; b++) {
        if ((b == s->bands && !s->exact) || (b < s->bands && !s->minhash)) continue;
        band_dir(s->out, b, s->bands, dir, sizeof dir);
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
    if (s->exact) {
        cm_hash128 h = cm_exact_hash(text, len, &s->scratch);
        s->band[s->bands][s->n] = (cm_sigrec){h.hi ^ (h.lo * 0x9E3779B97F4A7C15ULL), key};
    }
    if (s->minhash) {
        cm_minhash_signature(s->mh, text, len, s->sig);
        cm_minhash_bands(s->mh, s->sig, s->band_hash);
        for (int b = 0; b < s->bands; b++) s->band[b][s->n] = (cm_sigrec){s->band_hash[b], key};
        if (fwrite(&key, sizeof key, 1, s->sigs) != 1 || fwrite(s->sig, sizeof *s->sig, (size_t)s->n_perm, s->sigs) != (size_t)s->n_perm) {
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

static void band_dir(const char *out, int band, int bands, char *dir, size_t cap)
{
    if (band == bands) snprintf(dir, cap, "%s/minhash/bands/exact", out);
    else snprintf(dir, cap, "%s/minhash/bands/%03d", out, band);
}

/* Closes a file written under tmp and renames it to path when all went
 * well (rc), else removes it. Returns the status. */
static int finish_stream(FILE *f, const char *tmp, const char *path, int rc, cm_err *err)
{
    if (!f) return rc;
    int bad = fclose(f) != 0;
    if (rc == CM_EXIT_OK && (bad || rename(tmp, path) != 0)) {
        cm_errorf(err, "cannot write '%s'", path);
        rc = CM_EXIT_FAILED;
    }
    if (rc != CM_EXIT_OK) unlink(tmp);
    return rc;
}

static int step_signatures(const cm_config *cfg, int task, cm_task_stats *st, cm_err *err)
{
    const char *out = cfg->output.dir;
    const cm_minhash_params *p = &cfg->dedup.params;
    cm_stage_reader *reader = cm_stage_reader_create(cfg, err);
    if (reader) cm_stage_reader_progress(reader, "dedup signatures");
    if (!reader) return CM_EXIT_USAGE;
    sig_state s;
    memset(&s, 0, sizeof s);
    s.id_field = cfg->input.id_field;
    s.mh = cm_minhasher_create(p);
    s.exact = cfg->dedup.exact;
    s.minhash = cfg->dedup.minhash;
    s.bands = p->bands;
    s.n_perm = p->bands * p->rows;
    s.band = cm_calloc((size_t)s.bands + 1, sizeof *s.band);
    s.sig = cm_malloc((size_t)s.n_perm * sizeof *s.sig);
    s.band_hash = cm_malloc((size_t)s.bands * sizeof *s.band_hash);
    cm_buf_init(&s.scratch);
    s.out = out;
    s.task = task;
    s.p = p;
    s.limit = (size_t)(cfg->dedup.memory / ((uint64_t)(s.bands + 1) * sizeof(cm_sigrec)));
    if (s.limit < 64) s.limit = 64;
    char dir[4200], path[4400], tmp[4500], prefix[16];
    /* a task that runs again starts from nothing */
    snprintf(prefix, sizeof prefix, "%05d", task);
    for (int b = 0; b <= s.bands; b++) {
        band_dir(out, b, s.bands, dir, sizeof dir);
        cm_remove_prefixed(dir, prefix, NULL);
    }
    snprintf(dir, sizeof dir, "%s/minhash/sigs", out);
    snprintf(path, sizeof path, "%s/%05d.bin", dir, task);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int rc = CM_EXIT_OK;
    char ids_dir[4200], ids_path[4400], ids_tmp[4500];
    snprintf(ids_dir, sizeof ids_dir, "%s/minhash/ids", out);
    snprintf(ids_path, sizeof ids_path, "%s/%05d.bin", ids_dir, task);
    snprintf(ids_tmp, sizeof ids_tmp, "%s.tmp", ids_path);
    if (cm_mkdirs(dir, err) || !(s.sigs = fopen(tmp, "wb")) || cm_mkdirs(ids_dir, err) || !(s.ids = fopen(ids_tmp, "wb"))) {
        if (!s.sigs || !s.ids) cm_errorf(err, "cannot write '%s': %s", s.sigs ? ids_tmp : tmp, strerror(errno));
        rc = CM_EXIT_FAILED;
    }
    if (rc == CM_EXIT_OK) {
        if (cm_stage_reader_walk(reader, "clean", task, sig_each, &s, err)) rc = CM_EXIT_FAILED;
        else if (s.n && spill(&s)) {
            cm_errorf(err, "%s", s.err.msg);
            rc = CM_EXIT_FAILED;
        }
    }
    rc = finish_stream(s.ids, ids_tmp, ids_path, rc, err);
    rc = finish_stream(s.sigs, tmp, path, rc, err);
    s.n = s.total;
    st->counts.read = st->counts.kept = s.total;
    st->parts = (uint64_t)s.spills;
    for (int b = 0; b <= s.bands; b++) free(s.band[b]);
    free(s.band);
    free(s.sig);
    free(s.band_hash);
    cm_buf_free(&s.scratch);
    cm_minhasher_free(s.mh);
    cm_stage_reader_free(reader);
    return rc;
}

/* ---- buckets ---- */

typedef struct pairs {
    cm_sigrec *p;
    size_t n, cap;
} pairs;

static void add_pair(pairs *ps, uint64_t a, uint64_t b)
{
    if (ps->n == ps->cap) {
        ps->cap = ps->cap ? ps->cap * 2 : 1024;
        ps->p = cm_realloc(ps->p, ps->cap * sizeof *ps->p);
    }
    ps->p[ps->n++] = (cm_sigrec){a, b};
}

/* Merges one band (band == bands: the exact hashes), the part of it whose
 * hashes fall in range `range` of `ranges` (by their top 32 bits). */
static int merge_band(const cm_config *cfg, int band, int range, int ranges, cm_err *err)
{
    const char *out = cfg->output.dir;
    const cm_minhash_params *p = &cfg->dedup.params;
    char dir[4200], path[4400];
    band_dir(out, band, p->bands, dir, sizeof dir);
    size_t n;
    char **files = cm_list_dir(dir, "", &n);
    size_t n_new = n;
    /* the same band of earlier runs */
    int *run = NULL;
    for (size_t k = 0; k < cfg->dedup.n_previous; k++) {
        char pdir[4200];
        band_dir(cfg->dedup.previous[k], band, p->bands, pdir, sizeof pdir);
        size_t m;
        char **more = cm_list_dir(pdir, "", &m);
        if (!more && !cm_is_dir(pdir)) {
            cm_free_list(files, n);
            return cm_errorf(err, "dedup.previous: '%s' holds no MinHash files of band %d", cfg->dedup.previous[k], band);
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
    pairs ps = {0};
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
        if (have && x.hash == cur_hash) add_pair(&ps, first, x.doc);
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
static int step_buckets(const cm_config *cfg, int task, int tasks, cm_err *err)
{
    int bands = cfg->dedup.params.bands;
    int ranges = (tasks + bands) / (bands + 1);
    for (int u = task; u < (bands + 1) * ranges; u += tasks) {
        int b = u % (bands + 1), range = u / (bands + 1);
        if ((b == bands && !cfg->dedup.exact) || (b < bands && !cfg->dedup.minhash)) continue;
        if (merge_band(cfg, b, range, ranges, err)) return CM_EXIT_FAILED;
    }
    return CM_EXIT_OK;
}

/* ---- clusters ---- */

static size_t find_root(size_t *parent, size_t x)
{
    while (parent[x] != x) {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    return x;
}

static void union_roots(size_t *parent, size_t a, size_t b)
{
    size_t ra = find_root(parent, a), rb = find_root(parent, b);
    if (ra == rb) return;
    if (ra < rb) parent[rb] = ra; /* the smaller document leads */
    else parent[ra] = rb;
}

static long index_of(const uint64_t *keys, size_t n, uint64_t k)
{
    const uint64_t *hit = bsearch(&k, keys, n, sizeof *keys, cmp_u64);
    return hit ? (long)(hit - keys) : -1;
}

typedef struct verify_sets {
    const uint64_t *keys;
    size_t nk;
    const unsigned char *need; /* the documents whose shingles are needed */
    uint64_t **sets;  /* their shingle sets */
    size_t *n;
    cm_minhasher *mh;
} verify_sets;

static int verify_each(void *user, const cm_stage_record *r, cm_err *err)
{
    (void)err;
    verify_sets *vs = user;
    long i = index_of(vs->keys, vs->nk, ORDER(r->key));
    if (i >= 0 && vs->need[i] && !vs->sets[i])
        vs->sets[i] = cm_minhash_shingle_set(vs->mh, r->text, r->text_len, &vs->n[i]);
    return 0;
}

static double set_jaccard(const verify_sets *vs, size_t a, size_t b)
{
    const uint64_t *x = vs->sets[a], *y = vs->sets[b];
    if (!x || !y) return 0;
    size_t i = 0, j = 0, inter = 0, na = vs->n[a], nb = vs->n[b];
    while (i < na && j < nb) {
        if (x[i] == y[j]) { inter++; i++; j++; }
        else if (x[i] < y[j]) i++;
        else j++;
    }
    size_t uni = na + nb - inter;
    return uni ? (double)inter / (double)uni : 1.0;
}

static int read_pairs(const char *path, const cm_minhash_params *p, int band, pairs *ps, cm_err *err)
{
    cm_sigreader *r = cm_sigreader_open(path, p, band, err);
    if (!r) return -1;
    cm_sigrec x;
    int got;
    while ((got = cm_sigreader_next(r, &x, err)) == 1) add_pair(ps, x.hash, x.doc);
    cm_sigreader_close(r);
    return got < 0 ? -1 : 0;
}

/* The next record of an ids file held in b, from *off: an 8-byte key, a
 * 4-byte length and that many bytes of raw JSON id. Returns 1 with the
 * record, 0 at the end, -1 when the rest is too short to be a record. */
static int next_id_record(const cm_buf *b, size_t *off, uint64_t *key, const char **id, uint32_t *len)
{
    if (*off == b->len) return 0;
    if (b->len - *off < 12) return -1;
    memcpy(key, b->data + *off, 8);
    memcpy(len, b->data + *off + 8, 4);
    if (b->len - *off - 12 < *len) return -1;
    *id = b->data + *off + 12;
    *off += 12 + *len;
    return 1;
}

/* For the removals of task t (doc = representative | EXACT_FLAG), writes
 * minhash/remove/TTTTT.ids: every representative's key, length and raw JSON
 * id, sorted by key, read from the ids files of this run and earlier ones. */
static int write_rep_ids(const cm_config *cfg, const pairs *rm, size_t t, cm_err *err)
{
    const char *out = cfg->output.dir;
    size_t n = 0;
    uint64_t *reps = cm_malloc((rm->n ? rm->n : 1) * sizeof *reps);
    for (size_t i = 0; i < rm->n; i++) reps[n++] = rm->p[i].doc & ~EXACT_FLAG;
    if (n) qsort(reps, n, sizeof *reps, cmp_u64);
    size_t w = 0;
    for (size_t i = 0; i < n; i++)
        if (!w || reps[w - 1] != reps[i]) reps[w++] = reps[i];
    n = w;
    char **ids = cm_calloc(n ? n : 1, sizeof *ids);
    uint32_t *lens = cm_calloc(n ? n : 1, sizeof *lens);
    int rc = 0;
    for (int k = -1; k < (int)cfg->dedup.n_previous && rc == 0 && n; k++) {
        char dir[4200];
        snprintf(dir, sizeof dir, "%s/minhash/ids", k < 0 ? out : cfg->dedup.previous[k]);
        size_t nf;
        char **files = cm_list_dir(dir, "", &nf);
        for (size_t f = 0; f < nf && rc == 0; f++) {
            cm_buf b;
            cm_buf_init(&b);
            if (cm_read_file(files[f], &b, (size_t)1 << 40, err)) { cm_buf_free(&b); rc = -1; break; }
            size_t off = 0;
            uint64_t key;
            uint32_t len;
            const char *id;
            int got;
            while ((got = next_id_record(&b, &off, &key, &id, &len)) == 1) {
                if (k >= 0) key = PREV_KEY(k, key);
                const uint64_t *hit = bsearch(&key, reps, n, sizeof *reps, cmp_u64);
                if (hit && !ids[hit - reps]) {
                    ids[hit - reps] = cm_strndup(id, len);
                    lens[hit - reps] = len;
                }
            }
            if (got < 0) rc = cm_errorf(err, "%s: truncated or corrupt ids file", files[f]);
            cm_buf_free(&b);
        }
        cm_free_list(files, nf);
    }
    if (rc == 0) {
        cm_buf o;
        cm_buf_init(&o);
        for (size_t i = 0; i < n; i++) {
            uint32_t len = ids[i] ? lens[i] : 4;
            cm_buf_append(&o, &reps[i], 8);
            cm_buf_append(&o, &len, 4);
            cm_buf_append(&o, ids[i] ? ids[i] : "null", len);
        }
        char path[4400];
        snprintf(path, sizeof path, "%s/minhash/remove/%05zu.ids", out, t);
        rc = cm_write_file_atomic(path, o.data ? o.data : "", o.len, err);
        cm_buf_free(&o);
    }
    for (size_t i = 0; i < n; i++) free(ids[i]);
    free(ids);
    free(lens);
    free(reps);
    return rc;
}

static int step_clusters(const cm_config *cfg, cm_task_stats *st, cm_err *err)
{
    const char *out = cfg->output.dir;
    const cm_minhash_params *p = &cfg->dedup.params;
    int n_perm = p->bands * p->rows;
    char dir[4200], path[4400];
    pairs mh = {0}, ex = {0};
    int rc = 0;
    snprintf(dir, sizeof dir, "%s/minhash/pairs", out);
    {
        /* every pairs file: BBB-RRRR.bin per band and hash range, exact-RRRR.bin */
        size_t nf;
        char **files = cm_list_dir(dir, "", &nf);
        for (size_t f = 0; f < nf && rc == 0; f++) {
            const char *name = strrchr(files[f], '/') + 1;
            int is_exact = !strncmp(name, "exact-", 6);
            int b = is_exact ? p->bands : atoi(name);
            if ((is_exact && !cfg->dedup.exact) || (!is_exact && !cfg->dedup.minhash)) continue;
            rc = read_pairs(files[f], p, b, is_exact ? &ex : &mh, err);
        }
        cm_free_list(files, nf);
        (void)path;
    }
    /* every document in a pair, sorted: the union-find's nodes */
    size_t nk = 0;
    uint64_t *keys = cm_malloc((2 * (mh.n + ex.n) + 1) * sizeof *keys);
    for (size_t i = 0; i < mh.n; i++) { keys[nk++] = ORDER(mh.p[i].hash); keys[nk++] = ORDER(mh.p[i].doc); }
    for (size_t i = 0; i < ex.n; i++) { keys[nk++] = ORDER(ex.p[i].hash); keys[nk++] = ORDER(ex.p[i].doc); }
    if (nk) qsort(keys, nk, sizeof *keys, cmp_u64);
    size_t w = 0;
    for (size_t i = 0; i < nk; i++)
        if (!w || keys[w - 1] != keys[i]) keys[w++] = keys[i];
    nk = w;
    size_t tasks = 0;
    snprintf(dir, sizeof dir, "%s/minhash/sigs", out);
    char **sigfiles = cm_list_dir(dir, "", &tasks);
    size_t *parent = cm_malloc((nk ? nk : 1) * sizeof *parent);
    unsigned char *exact = cm_calloc(nk ? nk : 1, 1);
    for (size_t i = 0; i < nk; i++) parent[i] = i;
    /* exact pairs first: they need no verification */
    for (size_t i = 0; i < ex.n && rc == 0; i++) {
        long a = index_of(keys, nk, ORDER(ex.p[i].hash)), b = index_of(keys, nk, ORDER(ex.p[i].doc));
        exact[a] = exact[b] = 1;
        union_roots(parent, (size_t)a, (size_t)b);
    }
    /* near pairs: only those that would join two clusters need checking, and
     * only their documents need signatures or shingles */
    pairs todo = {0};
    unsigned char *need = cm_calloc(nk ? nk : 1, 1);
    for (size_t i = 0; i < mh.n && rc == 0; i++) {
        long a = index_of(keys, nk, ORDER(mh.p[i].hash)), b = index_of(keys, nk, ORDER(mh.p[i].doc));
        if (find_root(parent, (size_t)a) == find_root(parent, (size_t)b)) continue;
        add_pair(&todo, (uint64_t)a, (uint64_t)b);
        need[a] = need[b] = 1;
    }
    uint32_t *sigs = NULL;
    unsigned char *have_sig = NULL;
    verify_sets vs = {0};
    /* signatures: for verify: signature, and for pairs with an earlier run's
     * document (its text is not at hand) */
    int any_prev = 0;
    for (size_t i = 0; i < todo.n; i++)
        any_prev |= ((keys[todo.p[i].hash] ^ PREV_FLAG) & PREV_FLAG) || ((keys[todo.p[i].doc] ^ PREV_FLAG) & PREV_FLAG);
    if (rc == 0 && todo.n && cfg->dedup.verify != CM_VERIFY_OFF && (cfg->dedup.verify == CM_VERIFY_SIGNATURE || any_prev)) {
        sigs = cm_malloc(nk * (size_t)n_perm * sizeof *sigs);
        have_sig = cm_calloc(nk ? nk : 1, 1);
        size_t rec = sizeof(uint64_t) + (size_t)n_perm * sizeof(uint32_t);
        for (int k = -1; k < (int)cfg->dedup.n_previous && rc == 0; k++) {
            size_t nf = tasks;
            char **files = sigfiles;
            if (k >= 0) {
                char pdir[4200];
                snprintf(pdir, sizeof pdir, "%s/minhash/sigs", cfg->dedup.previous[k]);
                files = cm_list_dir(pdir, "", &nf);
            }
            for (size_t t = 0; t < nf && rc == 0; t++) {
                cm_buf b;
                cm_buf_init(&b);
                if (cm_read_file(files[t], &b, (size_t)1 << 40, err)) { cm_buf_free(&b); rc = -1; break; }
                if (b.len % rec) { rc = cm_errorf(err, "%s: truncated or corrupt signature file", files[t]); }
                for (size_t off = 0; rc == 0 && off + rec <= b.len; off += rec) {
                    uint64_t key;
                    memcpy(&key, b.data + off, sizeof key);
                    if (k >= 0) key = PREV_KEY(k, key);
                    long i = index_of(keys, nk, ORDER(key));
                    if (i >= 0 && need[i]) {
                        memcpy(sigs + (size_t)i * (size_t)n_perm, b.data + off + sizeof key, (size_t)n_perm * sizeof *sigs);
                        have_sig[i] = 1;
                    }
                }
                cm_buf_free(&b);
            }
            if (k >= 0) cm_free_list(files, nf);
        }
    }
    if (rc == 0 && cfg->dedup.verify == CM_VERIFY_EXACT && todo.n) {
        /* the clean output is read again; only the needed documents are shingled */
        vs.keys = keys;
        vs.nk = nk;
        vs.need = need;
        vs.sets = cm_calloc(nk ? nk : 1, sizeof *vs.sets);
        vs.n = cm_calloc(nk ? nk : 1, sizeof *vs.n);
        vs.mh = cm_minhasher_create(p);
        cm_stage_reader *reader = cm_stage_reader_create(cfg, err);
        if (reader) cm_stage_reader_progress(reader, "dedup clusters (verify)");
        if (!reader) rc = -1;
        for (size_t t = 0; t < tasks && rc == 0; t++) rc = cm_stage_reader_walk(reader, "clean", (int)t, verify_each, &vs, err);
        cm_stage_reader_free(reader);
    }
    uint64_t rejected_pairs = 0;
    for (size_t i = 0; i < todo.n && rc == 0; i++) {
        size_t a = (size_t)todo.p[i].hash, b = (size_t)todo.p[i].doc;
        if (find_root(parent, a) == find_root(parent, b)) continue;
        double sim = 1;
        int prev_pair = ((keys[a] ^ PREV_FLAG) & PREV_FLAG) || ((keys[b] ^ PREV_FLAG) & PREV_FLAG);
        if (vs.sets && !prev_pair) sim = set_jaccard(&vs, a, b);
        else if (sigs)
            sim = have_sig[a] && have_sig[b]
                      ? cm_minhash_similarity(sigs + a * (size_t)n_perm, sigs + b * (size_t)n_perm, (size_t)n_perm)
                      : 0;
        if (cfg->dedup.verify != CM_VERIFY_OFF && sim < cfg->dedup.threshold) {
            rejected_pairs++;
            continue;
        }
        union_roots(parent, a, b);
    }
    free(todo.p);
    free(need);
    /* removal lists per signatures task: task of a document = its file index mod tasks */
    pairs *rm = cm_calloc(tasks ? tasks : 1, sizeof *rm);
    uint64_t removed = 0, clusters = 0;
    for (size_t i = 0; i < nk && rc == 0; i++) {
        size_t r = find_root(parent, i);
        if (r == i) { clusters++; continue; }
        uint64_t key = ORDER(keys[i]), rep = ORDER(keys[r]);
        if (key & PREV_FLAG) continue; /* an earlier run's document is never touched */
        removed++;
        if (tasks) add_pair(&rm[(size_t)(KEY_FILE(key) % tasks)], rep | (exact[i] ? EXACT_FLAG : 0), key);
    }
    snprintf(dir, sizeof dir, "%s/minhash/remove", out);
    for (size_t t = 0; t < tasks && rc == 0; t++) {
        snprintf(path, sizeof path, "%s/%05zu.bin", dir, t);
        /* sorted by document: written with the document as the hash */
        for (size_t i = 0; i < rm[t].n; i++) {
            uint64_t tmp = rm[t].p[i].hash;
            rm[t].p[i].hash = rm[t].p[i].doc;
            rm[t].p[i].doc = tmp;
        }
        if (cm_mkdirs(dir, err) || cm_sigfile_write(path, p, 0, rm[t].p, rm[t].n, err)) rc = -1;
    }
    /* the ids of the representatives each task's removals point to */
    for (size_t t = 0; t < tasks && rc == 0; t++) rc = write_rep_ids(cfg, &rm[t], t, err);
    if (rc == 0) {
        char js[512];
        int l = snprintf(js, sizeof js,
                         "{\"candidate_pairs\": %zu, \"exact_pairs\": %zu, \"pairs_failing_verification\": %llu, "
                         "\"documents_in_clusters\": %zu, \"clusters\": %llu, \"removed\": %llu}\n",
                         mh.n, ex.n, (unsigned long long)rejected_pairs, nk, (unsigned long long)clusters,
                         (unsigned long long)removed);
        snprintf(path, sizeof path, "%s/minhash/clusters.json", out);
        if (cm_write_file_atomic(path, js, (size_t)l, err)) rc = -1;
    }
    st->counts.read = nk;
    st->counts.kept = nk - removed;
    for (size_t t = 0; t < tasks; t++) free(rm[t].p);
    free(rm);
    free(parent);
    free(exact);
    free(sigs);
    free(have_sig);
    for (size_t i = 0; vs.sets && i < nk; i++) free(vs.sets[i]);
    free(vs.sets);
    free(vs.n);
    cm_minhasher_free(vs.mh);
    free(keys);
    free(mh.p);
    free(ex.p);
    cm_free_list(sigfiles, tasks);
    return rc ? CM_EXIT_FAILED : CM_EXIT_OK;
}

/* ---- filter ---- */

typedef struct filter_state {
    cm_sigrec *rm;  /* hash = document, doc = representative (+ exact flag) */
    size_t n_rm;
    cm_buf kept, rejected;
    cm_part_writer kw, rw;
    ZSTD_CCtx *cctx;
    cm_buf z;
    cm_task_stats *st;
    const cm_input_list *inputs;
    const cm_config *cfg;
    uint64_t *rep_keys;  /* representatives' keys, sorted, and their raw JSON ids */
    char **rep_ids;
    size_t n_reps;
    cm_err err;
} filter_state;

static int flush_part(filter_state *f, cm_buf *b, cm_part_writer *pw, int force)
{
    return cm_part_writer_flush_zstd(pw, f->cctx, b, &f->z, force ? 0 : 4u << 20, &f->err);
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
    if (!hit) {
        cm_buf_append(&f->kept, line, n);
        cm_buf_append_char(&f->kept, '\n');
        f->st->counts.kept++;
        f->st->counts.bytes_out += n + 1;
        if (flush_part(f, &f->kept, &f->kw, 0)) { *err = f->err; return -1; }
        return 0;
    }
    int exact = (hit->doc & EXACT_FLAG) != 0;
    uint64_t rep = hit->doc & ~EXACT_FLAG;
    const char *reason = exact ? "dedup:exact" : "dedup:minhash";
    cm_reasons_add(&f->st->counts.removed, reason, 1);
    if (n < 2 || line[n - 1] != '}' || line[n - 2] != '}') return cm_errorf(err, "a clean record of unexpected shape");
    cm_buf_append(&f->rejected, line, n - 2);
    cm_buf_appendf(&f->rejected, ",\"reason\":\"%s\",\"duplicate_of\":{", reason);
    const uint64_t *rk = f->n_reps ? bsearch(&rep, f->rep_keys, f->n_reps, sizeof *f->rep_keys, cmp_u64) : NULL;
    cm_buf_append_str(&f->rejected, "\"id\":");
    cm_buf_append_str(&f->rejected, rk ? f->rep_ids[rk - f->rep_keys] : "null");
    cm_buf_append_char(&f->rejected, ',');
    if (rep & PREV_FLAG) {
        /* a document of an earlier run: that run, its input file number and record */
        const char *run = f->cfg->dedup.previous[PREV_RUN(rep)];
        cm_buf_append_str(&f->rejected, "\"previous_run\":");
        cm_buf_append_json_bytes(&f->rejected, run, strlen(run));
        cm_buf_appendf(&f->rejected, ",\"file_index\":%llu,\"record\":%llu}}}\n",
                       (unsigned long long)KEY_FILE(PREV_ORIG(rep)), (unsigned long long)KEY_ORDINAL(PREV_ORIG(rep)));
    } else {
        const char *rf = f->inputs->files[KEY_FILE(rep)].path;
        cm_buf_append_str(&f->rejected, "\"file\":");
        cm_buf_append_json_bytes(&f->rejected, rf, strlen(rf));
        cm_buf_appendf(&f->rejected, ",\"record\":%llu}}}\n", (unsigned long long)KEY_ORDINAL(rep));
    }
    if (flush_part(f, &f->rejected, &f->rw, 0)) { *err = f->err; return -1; }
    return 0;
}

static int step_filter(const cm_config *cfg, int task, cm_task_stats *st, cm_err *err)
{
    const char *out = cfg->output.dir;
    char path[4400], prefix[64], dir[4200];
    filter_state f;
    memset(&f, 0, sizeof f);
    f.st = st;
    f.cfg = cfg;
    snprintf(path, sizeof path, "%s/minhash/remove/%05d.bin", out, task);
    size_t cap = 0;
    if (cm_path_exists(path)) {
        cm_sigreader *r = cm_sigreader_open(path, &cfg->dedup.params, 0, err);
        if (!r) return CM_EXIT_FAILED;
        cm_sigrec x;
        int got;
        while ((got = cm_sigreader_next(r, &x, err)) == 1) {
            if (f.n_rm == cap) { cap = cap ? cap * 2 : 1024; f.rm = cm_realloc(f.rm, cap * sizeof *f.rm); }
            f.rm[f.n_rm++] = x;
        }
        cm_sigreader_close(r);
        if (got < 0) { free(f.rm); return CM_EXIT_FAILED; }
    }
    snprintf(path, sizeof path, "%s/minhash/remove/%05d.ids", out, task);
    if (cm_path_exists(path)) {
        cm_buf b;
        cm_buf_init(&b);
        if (cm_read_file(path, &b, (size_t)1 << 40, err)) { cm_buf_free(&b); free(f.rm); return CM_EXIT_FAILED; }
        size_t off = 0, cap_r = 0;
        uint64_t key;
        uint32_t len;
        const char *id;
        int got;
        while ((got = next_id_record(&b, &off, &key, &id, &len)) == 1) {
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
            return CM_EXIT_FAILED;
        }
    }
    cm_stage_reader *reader = cm_stage_reader_create(cfg, err);
    if (reader) cm_stage_reader_progress(reader, "dedup filter");
    if (!reader) { free(f.rm); return CM_EXIT_USAGE; }
    f.inputs = cm_stage_reader_inputs(reader);
    snprintf(prefix, sizeof prefix, "part-%05d", task);
    snprintf(dir, sizeof dir, "%s/dedup", out);
    cm_mkdirs(dir, NULL);
    cm_remove_prefixed(dir, prefix, NULL);
    cm_part_writer_init(&f.kw, dir, prefix, ".jsonl.zst", cfg->output.part_bytes);
    snprintf(dir, sizeof dir, "%s/rejected/dedup", out);
    cm_mkdirs(dir, NULL);
    cm_remove_prefixed(dir, prefix, NULL);
    cm_part_writer_init(&f.rw, dir, prefix, ".jsonl.zst", cfg->output.part_bytes);
    f.cctx = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(f.cctx, ZSTD_c_compressionLevel, cfg->output.zstd_level);
    int rc = cm_stage_reader_walk(reader, "clean", task, filter_each, &f, err);
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
    for (size_t i = 0; i < f.n_reps; i++) free(f.rep_ids[i]);
    free(f.rep_ids);
    free(f.rep_keys);
    cm_stage_reader_free(reader);
    return rc ? CM_EXIT_FAILED : CM_EXIT_OK;
}

/* ---- the step runner: markers, stats ---- */

int cm_dedup_step(const cm_config *cfg, const char *step, int task, int tasks, int force, cm_task_stats *st,
                  int *already_done, cm_err *err)
{
    double t0 = cm_now();
    *already_done = 0;
    const char *out = cfg->output.dir;
    static const char *const steps[] = {"signatures", "buckets", "clusters", "filter", NULL};
    int which = -1;
    for (int i = 0; steps[i]; i++)
        if (!strcmp(steps[i], step)) which = i;
    if (which < 0) return cm_errorf(err, "unknown dedup step '%s' (signatures, buckets, clusters, filter)", step), CM_EXIT_USAGE;
    if (task < 0 || tasks < 1 || task >= tasks) return cm_errorf(err, "--task must be in [0, --tasks)"), CM_EXIT_USAGE;
    if (which == 2 && tasks != 1) return cm_errorf(err, "dedup clusters is one task (--tasks 1)"), CM_EXIT_USAGE;
    char stage[32], marker[4400];
    snprintf(stage, sizeof stage, which == 3 ? "dedup" : "dedup_%s", step);
    /* signatures and filter read clean's outputs task by task: the same split */
    if (which == 0 || which == 3) {
        int clean_tasks = cm_stage_tasks(out, "clean");
        if (clean_tasks == 0)
            return cm_errorf(err, "%s has no clean output to deduplicate (run clean first)", out), CM_EXIT_USAGE;
        if (clean_tasks != tasks)
            return cm_errorf(err, "clean ran in %d tasks; dedup %s must use --tasks %d", clean_tasks, step, clean_tasks),
                   CM_EXIT_USAGE;
    }
    /* a changed split of a started step is refused (its files would mix) */
    if (cm_stage_begin(cfg, stage, task, tasks, force, marker, sizeof marker, already_done, err)) return CM_EXIT_USAGE;
    if (*already_done) return CM_EXIT_OK;
    int rc;
    switch (which) {
    case 0: rc = step_signatures(cfg, task, st, err); break;
    case 1: rc = step_buckets(cfg, task, tasks, err); break;
    case 2: rc = step_clusters(cfg, st, err); break;
    default: rc = step_filter(cfg, task, st, err); break;
    }
    snprintf(st->stage, sizeof st->stage, "%s", stage);
    st->task = task;
    st->tasks = tasks;
    st->seconds = cm_now() - t0;
    st->peak_rss_kb = cm_peak_rss_kb();
    if (rc != CM_EXIT_OK) return rc;
    /* the filter step's counts are the stage's */
    return cm_stage_finish(cfg, which == 3 ? "dedup" : NULL, st, marker, err) ? CM_EXIT_FAILED : CM_EXIT_OK;
}
