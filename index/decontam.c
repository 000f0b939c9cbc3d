/* decontam.c -- `corpusmill decontaminate CONFIG`: finds training documents
 * that share a long n-gram with an evaluation item (13 words, or 13 CJK
 * characters, as GPT-3's and Llama's contamination checks do), reports every
 * hit with both texts, and with `remove: true` writes the documents without
 * them.
 *
 * Evaluation sets: SQuAD-format JSON (an item is a question with its
 * paragraph's context and answers) or JSON Lines (an item is a line; all its
 * strings, at any depth, count). Their n-grams are hashed (XXH3) into a
 * sorted table; every training document's n-grams are looked up in it.
 * Words are lowercased runs of letters and digits; CJK characters count one
 * by one, so a Chinese 13-gram is 13 characters with punctuation skipped. */
#define _GNU_SOURCE
#include "decontam.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unicode/uchar.h>
#define XXH_STATIC_LINKING_ONLY /* XXH3_state_t on the stack */
#include <xxhash.h>
#include <zstd.h>

#include <cblas.h>

#include "../embed/embed_stage.h"
#include "../embed/embedder.h"
#include "../embed/npy.h"
#include "../pipeline/json.h"
#include "../pipeline/layout.h"
#include "../pipeline/progress.h"
#include "../pipeline/stage.h"
#include "../pipeline/stage_reader.h"
#include "../pipeline/writer.h"
#include "squad.h"

/* ---- options: the `decontam` section ---- */

static int decontam_read(void *opts, const cm_conf *n, cm_err *err)
{
    static const char *const known[] = {"eval_sets", "ngram", "cjk_ngram", "remove", "vector_threshold", NULL};
    cm_decontam_options *o = opts;
    if (!n) return 0;
    if (cm_conf_check_keys(n, "decontam", known, err)) return -1;
    return cm_conf_strings(n, "eval_sets", &o->eval_sets, &o->n_eval_sets, err) ||
                   cm_conf_int(n, "ngram", 1, 1000, &o->ngram, err) ||
                   cm_conf_int(n, "cjk_ngram", 1, 1000, &o->cjk_ngram, err) ||
                   cm_conf_bool(n, "remove", &o->remove, err) ||
                   cm_conf_double(n, "vector_threshold", 0, 1, &o->vector_threshold, err)
               ? -1
               : 0;
}

static void decontam_free(void *opts)
{
    cm_decontam_options *o = opts;
    cm_conf_free_strings(o->eval_sets, o->n_eval_sets);
}

static const char DECONTAM_REFERENCE[] =
    "decontam:              # present: `run` checks the kept documents against evaluation sets\n"
    "  eval_sets: []        # SQuAD JSON or JSON Lines files (every string of a line is the item)\n"
    "  ngram: 13            # a document sharing 13 consecutive words with an item is contaminated\n"
    "  cjk_ngram: 13        # or 13 consecutive CJK characters (punctuation skipped)\n"
    "  remove: false        # true: OUT/decontam/kept/ without them, OUT/rejected/decontam/ with them;\n"
    "                       #   always: OUT/decontam/report.jsonl, every hit with both texts\n"
    "  vector_threshold: 0.95  # with a BERT model (after embed): a document with a chunk this close\n"
    "                       #   (cosine) to an item is a hit too (decontam:vector); 0 = off\n";

static const char DECONTAM_USAGE[] =
    "usage: corpusmill decontaminate CONFIG [--out DIR] [--force]\n"
    "\n"
    "Checks the kept documents (OUT/dedup/, or OUT/clean/) against the config's\n"
    "decontam.eval_sets (SQuAD JSON or JSON Lines): a document sharing 13\n"
    "consecutive words, or 13 CJK characters, with an evaluation item is a hit.\n"
    "Writes OUT/decontam/report.jsonl with both texts; with decontam.remove,\n"
    "OUT/decontam/kept/ and OUT/rejected/decontam/ (reason decontam:ngram).\n";

/* ---- the evaluation items' n-grams ---- */

typedef struct gram {
    uint64_t hash;
    uint32_t item;
} gram;

typedef struct unit {
    size_t begin, end; /* bytes */
    uint64_t hash;
    int cjk;
} unit;

typedef struct items {
    char **text;       /* one string per item: its texts joined */
    char **file;
    size_t n, cap;
    gram *grams;
    size_t n_grams, cap_grams;
    cm_buf cur;        /* the item being read */
    int words, chars;  /* n-gram lengths */
    unit *units;
    size_t cap_units;
} items;

/* The units (words, CJK characters) of text. */
static size_t units_of(items *it, const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        size_t k = cm_utf8_seq_len(s + i, len - i);
        if (!k) { i++; continue; }
        uint32_t c = cm_utf8_decode(s + i, k);
        int cjk = cm_is_cjk(c), word = !cjk && u_isalnum((UChar32)c);
        if (!cjk && !word) { i += k; continue; }
        if (n == it->cap_units) {
            it->cap_units = it->cap_units ? 2 * it->cap_units : 1024;
            it->units = cm_realloc(it->units, it->cap_units * sizeof *it->units);
        }
        unit *u = &it->units[n++];
        u->begin = i;
        u->cjk = cjk;
        if (cjk) {
            u->hash = XXH3_64bits(s + i, k);
            i += k;
        } else { /* a lowercased word */
            XXH3_state_t st;
            XXH3_64bits_reset(&st);
            while (i < len) {
                k = cm_utf8_seq_len(s + i, len - i);
                if (!k) break;
                c = cm_utf8_decode(s + i, k);
                if (cm_is_cjk(c) || !u_isalnum((UChar32)c)) break;
                UChar32 low = u_tolower((UChar32)c);
                XXH3_64bits_update(&st, &low, sizeof low);
                i += k;
            }
            u->hash = XXH3_64bits_digest(&st);
        }
        u->end = i;
    }
    return n;
}

/* Calls fn for every n-gram of the units: `words` words, or `chars` CJK
 * characters, never mixing the two. */
static void each_gram(items *it, size_t n, void (*fn)(void *, const unit *, size_t, uint64_t), void *user)
{
    for (size_t i = 0; i < n; i++) {
        size_t need = it->units[i].cjk ? (size_t)it->chars : (size_t)it->words;
        if (i + need > n) continue;
        uint64_t h = 0x9E3779B97F4A7C15ULL;
        size_t j;
        for (j = 0; j < need && it->units[i + j].cjk == it->units[i].cjk; j++)
            h = XXH3_64bits_withSeed(&it->units[i + j].hash, sizeof h, h);
        if (j == need) fn(user, &it->units[i], need, h);
    }
}

static void add_gram(void *user, const unit *u, size_t n, uint64_t h)
{
    (void)u; (void)n;
    items *it = user;
    if (it->n_grams == it->cap_grams) {
        it->cap_grams = it->cap_grams ? 2 * it->cap_grams : 4096;
        it->grams = cm_realloc(it->grams, it->cap_grams * sizeof *it->grams);
    }
    it->grams[it->n_grams++] = (gram){h, (uint32_t)it->n};
}

static void end_item(items *it, const char *file)
{
    if (!it->cur.len) return;
    if (it->n == it->cap) {
        it->cap = it->cap ? 2 * it->cap : 256;
        it->text = cm_realloc(it->text, it->cap * sizeof *it->text);
        it->file = cm_realloc(it->file, it->cap * sizeof *it->file);
    }
    each_gram(it, units_of(it, it->cur.data, it->cur.len), add_gram, it);
    it->text[it->n] = cm_strndup(it->cur.data, it->cur.len);
    it->file[it->n++] = cm_strdup(file);
    cm_buf_clear(&it->cur);
}

typedef struct squad_ctx {
    items *it;
    const char *file;
} squad_ctx;

/* A SQuAD item: the question, its paragraph's context and its answers. */
static int squad_item(void *user, const cm_squad_question *q, cm_err *err)
{
    (void)err;
    squad_ctx *c = user;
    cm_buf_append(&c->it->cur, q->question, q->question_len);
    cm_buf_append_char(&c->it->cur, '\n');
    cm_buf_append(&c->it->cur, q->context, q->context_len);
    if (q->answers_len) {
        cm_buf_append_char(&c->it->cur, '\n');
        cm_buf_append(&c->it->cur, q->answers, q->answers_len);
    }
    end_item(c->it, c->file);
    return 0;
}

static int visit_strings(void *user, const char *const *path, int depth, cm_json_type type, double num,
                         const char *str, size_t len)
{
    (void)path; (void)depth; (void)num;
    items *it = user;
    if (type == CM_JSON_STRING) {
        if (it->cur.len) cm_buf_append_char(&it->cur, '\n');
        cm_buf_append(&it->cur, str, len);
    }
    return 0;
}

typedef struct line_ctx {
    items *it;
    const char *file;
} line_ctx;

static int eval_line(void *user, const char *line, size_t len, const cm_json_record *rec, cm_err *err)
{
    (void)rec;
    line_ctx *c = user;
    if (cm_json_visit(line, len, visit_strings, c->it, err)) return -1;
    end_item(c->it, c->file);
    return 0;
}

static int cmp_gram(const void *a, const void *b)
{
    uint64_t x = ((const gram *)a)->hash, y = ((const gram *)b)->hash;
    return x < y ? -1 : x > y;
}

static int load_eval(items *it, char **files, size_t n, cm_err *err)
{
    for (size_t f = 0; f < n; f++) {
        cm_buf b;
        cm_buf_init(&b);
        if (cm_read_file(files[f], &b, (size_t)1 << 31, err)) { cm_buf_free(&b); return -1; }
        int rc = 0;
        cm_err e;
        squad_ctx sq = {it, files[f]};
        if (!cm_squad_looks_like(b.data, b.len) || cm_squad_read(b.data, b.len, squad_item, &sq, &e) != 0) {
            cm_buf_clear(&it->cur);
            line_ctx c = {it, files[f]};
            rc = cm_walk_json_lines(files[f], eval_line, &c, err);
        }
        cm_buf_free(&b);
        if (rc) return -1;
    }
    if (!it->n) return cm_errorf(err, "the evaluation sets hold no items");
    if (it->n_grams) qsort(it->grams, it->n_grams, sizeof *it->grams, cmp_gram);
    return 0;
}

/* ---- by vectors (a real model only) ---- */

typedef struct vhit {
    uint64_t doc_key;
    uint32_t item;
    float sim;
} vhit;

typedef struct chunk_doc {
    int64_t chunk;
    uint64_t doc_key;
} chunk_doc;

static int cmp_chunk(const void *a, const void *b)
{
    int64_t x = ((const chunk_doc *)a)->chunk, y = ((const chunk_doc *)b)->chunk;
    return x < y ? -1 : x > y;
}

static int cmp_vhit(const void *a, const void *b)
{
    uint64_t x = ((const vhit *)a)->doc_key, y = ((const vhit *)b)->doc_key;
    return x < y ? -1 : x > y;
}

typedef struct chunk_map {
    chunk_doc *m;
    size_t n, cap;
} chunk_map;

static int map_chunk(void *user, const char *line, size_t len, const cm_json_record *rec, cm_err *err)
{
    (void)len;
    chunk_map *cm = user;
    long ci = cm_json_find(rec, "chunk_id", NULL), ki = cm_json_find(rec, "doc_key", NULL);
    if (ci < 0 || ki < 0) return cm_errorf(err, "a chunk record without chunk_id or doc_key");
    if (cm->n == cm->cap) {
        cm->cap = cm->cap ? 2 * cm->cap : 4096;
        cm->m = cm_realloc(cm->m, cm->cap * sizeof *cm->m);
    }
    cm->m[cm->n++] = (chunk_doc){strtoll(line + rec->members[ci].value_start, NULL, 10),
                                 strtoull(line + rec->members[ki].value_start, NULL, 10)};
    return 0;
}

/* Documents with a chunk whose cosine with an evaluation item reaches the
 * threshold, sorted by doc_key (the best item for each). 0 hits when embed
 * has not run or its model is the lexical hash (*why says so). */
static int vector_hits(const cm_config *cfg, const cm_decontam_options *dopts, const items *it, vhit **out,
                       size_t *n_out, const char **why, cm_err *err)
{
    const char *outd = cfg->output.dir;
    *out = NULL;
    *n_out = 0;
    if (dopts->vector_threshold <= 0) { *why = "off (decontam.vector_threshold 0)"; return 0; }
    cm_embed_manifest em;
    if (cm_embed_manifest_read(outd, &em, NULL)) { *why = "skipped: no embed output"; return 0; }
    free(em.raw);
    if (em.lexical) { *why = "skipped: the hash model is lexical (the n-grams cover that)"; return 0; }
    *why = "on";
    const cm_embed_options *eo = cm_config_options(cfg, "embed");
    if (!eo) { *why = "skipped: no embed section"; return 0; }
    cm_embedder_opts o;
    cm_embedder_opts_init(&o);
    o.threads = eo->threads;
    o.batch = (size_t)eo->batch;
    cm_embedder *e = cm_embedder_open(eo->model, &o, err);
    if (!e) return -1;
    size_t dim = cm_embedder_dim(e), ni = it->n;
    float *q = cm_malloc(ni * dim * sizeof *q);
    size_t *lens = cm_malloc(ni * sizeof *lens);
    for (size_t i = 0; i < ni; i++) lens[i] = strlen(it->text[i]);
    int rc = cm_embedder_embed(e, (const char *const *)it->text, lens, ni, 0, q, err);
    cm_embedder_free(e);
    free(lens);
    /* chunk id -> document */
    chunk_map map = {NULL, 0, 0};
    char dir[4300];
    snprintf(dir, sizeof dir, "%s/chunks", outd);
    size_t nc;
    char **files = cm_list_dir(dir, "part-", &nc);
    for (size_t i = 0; i < nc && rc == 0; i++) rc = cm_walk_json_lines(files[i], map_chunk, &map, err);
    cm_free_list(files, nc);
    if (map.n) qsort(map.m, map.n, sizeof *map.m, cmp_chunk);
    /* every item against every chunk vector, part by part */
    snprintf(dir, sizeof dir, "%s/embeddings", outd);
    size_t np;
    char **parts = cm_list_dir(dir, "part-", &np);
    vhit *h = NULL;
    size_t nh = 0, cap = 0;
    float thr = (float)dopts->vector_threshold;
    for (size_t p = 0; p < np && rc == 0; p++) {
        size_t l = strlen(parts[p]);
        if (l < 8 || strcmp(parts[p] + l - 8, ".ids.npy")) continue;
        char vp[4400];
        snprintf(vp, sizeof vp, "%.*s.npy", (int)(l - 8), parts[p]);
        size_t r1, c1, r2, c2;
        int64_t *ids = cm_npy_load(parts[p], CM_NPY_I64, &r1, &c1, err);
        float *v = ids ? cm_npy_load(vp, CM_NPY_F32, &r2, &c2, err) : NULL;
        if (!v || r1 != r2 || c2 != dim) {
            if (v) cm_errorf(err, "%s: %zu rows of %zu for %zu ids (dim %zu)", vp, r2, c2, r1, dim);
            free(ids);
            free(v);
            rc = -1;
            break;
        }
        float *sim = cm_malloc((ni ? ni : 1) * (r1 ? r1 : 1) * sizeof *sim);
        if (ni && r1)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)ni, (int)r1, (int)dim, 1.0f, q, (int)dim, v, (int)dim,
                        0.0f, sim, (int)r1);
        for (size_t a = 0; a < ni; a++)
            for (size_t c = 0; c < r1; c++) {
                if (sim[a * r1 + c] < thr) continue;
                chunk_doc probe = {ids[c], 0};
                const chunk_doc *d = map.n ? bsearch(&probe, map.m, map.n, sizeof *map.m, cmp_chunk) : NULL;
                if (!d) continue;
                if (nh == cap) { cap = cap ? 2 * cap : 64; h = cm_realloc(h, cap * sizeof *h); }
                h[nh++] = (vhit){d->doc_key, (uint32_t)a, sim[a * r1 + c]};
            }
        free(sim);
        free(ids);
        free(v);
    }
    cm_free_list(parts, np);
    free(map.m);
    free(q);
    if (rc) { free(h); return -1; }
    /* one hit per document: the most similar */
    if (nh) qsort(h, nh, sizeof *h, cmp_vhit);
    size_t k = 0;
    for (size_t i = 0; i < nh; i++) {
        if (k && h[k - 1].doc_key == h[i].doc_key) {
            if (h[i].sim > h[k - 1].sim) h[k - 1] = h[i];
        } else {
            h[k++] = h[i];
        }
    }
    *out = h;
    *n_out = k;
    return 0;
}

/* ---- the documents ---- */

typedef struct scan {
    items *it;
    const cm_config *cfg;
    const cm_decontam_options *o;
    const cm_stage_record *rec;
    long hit_item;       /* the first item hit in this document, -1 none */
    size_t hit_begin, hit_end;
    cm_part_writer kept, rejected;
    ZSTD_CCtx *cctx;
    cm_buf kbuf, rbuf, z, report;
    cm_task_stats *st;
    uint64_t hits, vector_hits;
    const vhit *vh;
    size_t n_vh;
} scan;

static void find_gram(void *user, const unit *u, size_t n, uint64_t h)
{
    scan *s = user;
    if (s->hit_item >= 0 || !s->it->n_grams) return;
    gram probe = {h, 0};
    const gram *g = bsearch(&probe, s->it->grams, s->it->n_grams, sizeof *g, cmp_gram);
    if (!g) return;
    s->hit_item = g->item;
    s->hit_begin = u[0].begin;
    s->hit_end = u[n - 1].end;
}

static int scan_each(void *user, const cm_stage_record *r, cm_err *err)
{
    scan *s = user;
    s->st->counts.read++;
    s->st->counts.bytes_in += r->line_len;
    s->hit_item = -1;
    each_gram(s->it, units_of(s->it, r->text, r->text_len), find_gram, s);
    vhit probe = {r->key, 0, 0};
    const vhit *v = s->n_vh && s->hit_item < 0 ? bsearch(&probe, s->vh, s->n_vh, sizeof *s->vh, cmp_vhit) : NULL;
    if (v) { /* no shared n-gram, but a chunk close to an item */
        s->hit_item = v->item;
        s->hit_begin = s->hit_end = 0;
        s->vector_hits++;
    }
    const char *reason = v ? "decontam:vector" : "decontam:ngram";
    int remove = s->hit_item >= 0 && s->o->remove;
    if (s->hit_item >= 0) {
        s->hits++;
        long ii = cm_json_find(r->rec, s->cfg->input.id_field, NULL);
        cm_buf_appendf(&s->report, "{\"doc_key\":%llu,\"doc_id\":", (unsigned long long)r->key);
        if (ii >= 0) cm_buf_append(&s->report, r->line + r->rec->members[ii].value_start,
                                   r->rec->members[ii].value_end - r->rec->members[ii].value_start);
        else cm_buf_append_str(&s->report, "null");
        if (v) cm_buf_appendf(&s->report, ",\"vector_similarity\":%.5f", v->sim);
        else {
            cm_buf_append_str(&s->report, ",\"ngram\":");
            cm_buf_append_json_bytes(&s->report, r->text + s->hit_begin, s->hit_end - s->hit_begin);
        }
        cm_buf_append_str(&s->report, ",\"eval_file\":");
        const char *f = s->it->file[s->hit_item], *t = s->it->text[s->hit_item];
        cm_buf_append_json_bytes(&s->report, f, strlen(f));
        cm_buf_appendf(&s->report, ",\"eval_item\":%ld,\"eval_text\":", s->hit_item);
        cm_buf_append_json_bytes(&s->report, t, strlen(t));
        cm_buf_append_str(&s->report, ",\"doc_text\":");
        cm_buf_append_json_bytes(&s->report, r->text, r->text_len);
        cm_buf_appendf(&s->report, ",\"removed\":%s}\n", remove ? "true" : "false");
    }
    if (!s->o->remove) return 0;
    size_t n = r->line_len;
    if (!remove) {
        s->st->counts.kept++;
        s->st->counts.bytes_out += n + 1;
        cm_buf_append(&s->kbuf, r->line, n);
        cm_buf_append_char(&s->kbuf, '\n');
        return cm_part_writer_flush_zstd(&s->kept, s->cctx, &s->kbuf, &s->z, 4u << 20, err);
    }
    if (n < 2 || r->line[n - 1] != '}' || r->line[n - 2] != '}') return cm_errorf(err, "a record of unexpected shape");
    cm_reasons_add(&s->st->counts.removed, reason, 1);
    cm_buf_append(&s->rbuf, r->line, n - 2);
    cm_buf_appendf(&s->rbuf, ",\"reason\":\"%s\",\"decontam\":{\"eval_item\":%ld,", reason, s->hit_item);
    if (v) cm_buf_appendf(&s->rbuf, "\"vector_similarity\":%.5f", v->sim);
    else {
        cm_buf_append_str(&s->rbuf, "\"ngram\":");
        cm_buf_append_json_bytes(&s->rbuf, r->text + s->hit_begin, s->hit_end - s->hit_begin);
    }
    cm_buf_append_str(&s->rbuf, "}}}\n");
    return cm_part_writer_flush_zstd(&s->rejected, s->cctx, &s->rbuf, &s->z, 4u << 20, err);
}

static void free_items(items *it)
{
    for (size_t i = 0; i < it->n; i++) { free(it->text[i]); free(it->file[i]); }
    free(it->text);
    free(it->file);
    free(it->grams);
    free(it->units);
    cm_buf_free(&it->cur);
}

/* Walks every task of the document stage: the report, and with remove the
 * documents without the hits. */
static int scan_documents(const cm_stage_task *t, scan *s, cm_stage_reader *reader, int tasks, cm_err *err)
{
    const cm_config *cfg = t->cfg;
    const cm_decontam_options *o = t->opts;
    const char *out = cfg->output.dir;
    char kdir[CM_PATH_MAX], rdir[CM_PATH_MAX];
    snprintf(kdir, sizeof kdir, "%s", cm_out_dir(out, "decontam/kept").s);
    snprintf(rdir, sizeof rdir, "%s", cm_out_dir(out, "rejected/decontam").s);
    if (o->remove && (cm_mkdirs(kdir, err) || cm_mkdirs(rdir, err))) return cm_err_usage(err);
    int rc = 0;
    for (int task = 0; task < tasks && rc == 0; task++) {
        cm_part_prefix part = cm_part_prefix_of(task);
        const char *prefix = part.s;
        if (o->remove) {
            cm_remove_prefixed(kdir, prefix, NULL);
            cm_remove_prefixed(rdir, prefix, NULL);
        }
        cm_part_writer_init(&s->kept, kdir, prefix, ".jsonl.zst", cfg->output.part_size);
        cm_part_writer_init(&s->rejected, rdir, prefix, ".jsonl.zst", cfg->output.part_size);
        rc = cm_stage_reader_walk(reader, t->source, task, scan_each, s, err);
        if (rc == 0 && o->remove &&
            (cm_part_writer_flush_zstd(&s->kept, s->cctx, &s->kbuf, &s->z, 0, err) ||
             cm_part_writer_flush_zstd(&s->rejected, s->cctx, &s->rbuf, &s->z, 0, err) ||
             cm_part_writer_close(&s->kept, err) || cm_part_writer_close(&s->rejected, err)))
            rc = -1;
        cm_part_writer_free(&s->kept);
        cm_part_writer_free(&s->rejected);
    }
    return rc;
}

static int decontam_run(const cm_stage_task *t, cm_task_stats *st, cm_err *err)
{
    const cm_config *cfg = t->cfg;
    const cm_decontam_options *o = t->opts;
    const char *out = cfg->output.dir;
    if (!o->n_eval_sets) return cm_usagef(err, "decontam.eval_sets is empty");
    if (cm_mkdirs(cm_out_dir(out, "decontam").s, err)) return cm_err_usage(err);
    int tasks = cm_stage_tasks(out, t->source);

    cm_progress prog;
    cm_progress_init(&prog, cfg->run.progress, cfg->run.progress_fd, "decontaminate");
    cm_progress_phase(&prog, "evaluation items");
    cm_progress_update(&prog, 0, 0, 0, 1, 0);
    items it;
    memset(&it, 0, sizeof it);
    it.words = (int)o->ngram;
    it.chars = (int)o->cjk_ngram;
    cm_buf_init(&it.cur);
    int rc = load_eval(&it, o->eval_sets, o->n_eval_sets, err) ? cm_err_usage(err) : 0;
    vhit *vh = NULL;
    size_t n_vh = 0;
    const char *vector_check = "off";
    cm_progress_phase(&prog, "vector check");
    cm_progress_update(&prog, 0, 0, 0, 1, 0);
    if (rc == 0) rc = vector_hits(cfg, o, &it, &vh, &n_vh, &vector_check, err);
    cm_progress_end(&prog);
    cm_stage_reader *reader = rc ? NULL : cm_stage_reader_create(cfg, err);
    if (reader) cm_stage_reader_progress(reader, "decontaminate", "documents");
    if (rc == 0 && !reader) rc = cm_err_usage(err);
    scan s;
    memset(&s, 0, sizeof s);
    s.it = &it;
    s.cfg = cfg;
    s.o = o;
    s.st = st;
    s.vh = vh;
    s.n_vh = n_vh;
    s.cctx = ZSTD_createCCtx();
    if (rc == 0) rc = scan_documents(t, &s, reader, tasks, err);
    if (!o->remove) st->counts.kept = st->counts.read; /* a report only */
    if (rc == 0)
        rc = cm_write_file_atomic(cm_out_dir(out, "decontam/report.jsonl").s, s.report.data ? s.report.data : "",
                                  s.report.len, err);
    cm_reasons_add(&st->outputs, "contaminated", s.hits);
    cm_reasons_add(&st->outputs, "contaminated_by_vector", s.vector_hits);
    cm_reasons_add(&st->outputs, "eval_items", it.n);
    if (rc == 0) cm_logf(&t->log, "decontaminate: vector check %s", vector_check);
    free(vh);
    ZSTD_freeCCtx(s.cctx);
    cm_buf_free(&s.kbuf);
    cm_buf_free(&s.rbuf);
    cm_buf_free(&s.z);
    cm_buf_free(&s.report);
    cm_stage_reader_free(reader);
    free_items(&it);
    return rc;
}

static const cm_stage_step DECONTAM_STEPS[] = {
    {.name = NULL, .marker = "decontam", .split = CM_SPLIT_ONE, .stats = 1, .needs_source_done = 1, .run = decontam_run},
};

const cm_stage_def cm_stage_decontam = {
    .name = "decontam",
    .command = "decontaminate",
    .summary = "documents sharing 13-grams with evaluation sets: report, or remove",
    .usage = DECONTAM_USAGE,
    .reference = DECONTAM_REFERENCE,
    .reads = "documents",
    .opts_size = sizeof(cm_decontam_options),
    .read = decontam_read,
    .free = decontam_free,
    .steps = DECONTAM_STEPS,
    .n_steps = 1,
};
