/* eval.c -- retrieval quality on a QA set (see eval.h), what
 * `corpusmill eval-retrieval` measures. The passages of the set (SQuAD contexts,
 * or RGB-style positive + negative passages; identical texts once) become a
 * temporary export, one passage = one document = one chunk, built with the
 * config's embedder and index settings by the same code as `index`; every
 * question is searched in each mode. A hit is a retrieved gold passage:
 * recall@k is the share of questions with a gold passage in the top k,
 * MRR@10 the mean reciprocal rank of the first one (0 beyond 10),
 * precision@5 the share of gold passages among the top 5. */
#define _GNU_SOURCE
#include "eval.h"

#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>
#include <unicode/uchar.h>
#include <unicode/utf16.h>
#include <xxhash.h>

#include "../embed/embed_stage.h"
#include "../embed/embedder.h"
#include "../embed/npy.h"
#include "../pipeline/json.h"
#include "../pipeline/progress.h"
#include "../pipeline/stage_reader.h"
#include "index_stage.h"
#include "rag.h"
#include "squad.h"

#define DEPTH 20
#define WINDOW 512

/* ---- the QA set ---- */


static size_t passage_id(cm_qa_set *s, const char *text, size_t len)
{
    if (2 * (s->n_passages + 1) > s->table_cap) {
        size_t cap = s->table_cap ? 2 * s->table_cap : 1024;
        size_t *t = cm_calloc(cap, sizeof *t);
        for (size_t i = 0; i < s->table_cap; i++)
            if (s->table[i]) {
                const char *p = s->passages[s->table[i] - 1];
                size_t h = (size_t)XXH3_64bits(p, strlen(p)) & (cap - 1);
                while (t[h]) h = (h + 1) & (cap - 1);
                t[h] = s->table[i];
            }
        free(s->table);
        s->table = t;
        s->table_cap = cap;
    }
    size_t h = (size_t)XXH3_64bits(text, len) & (s->table_cap - 1);
    while (s->table[h]) {
        const char *p = s->passages[s->table[h] - 1];
        if (strlen(p) == len && !memcmp(p, text, len)) return s->table[h] - 1;
        h = (h + 1) & (s->table_cap - 1);
    }
    if (s->n_passages == s->cap_passages) {
        s->cap_passages = s->cap_passages ? 2 * s->cap_passages : 1024;
        s->passages = cm_realloc(s->passages, s->cap_passages * sizeof *s->passages);
    }
    s->passages[s->n_passages] = cm_strndup(text, len);
    s->table[h] = ++s->n_passages;
    return s->n_passages - 1;
}

static cm_qa_question *add_question(cm_qa_set *s, const char *text, size_t len)
{
    if (s->n_q == s->cap_q) {
        s->cap_q = s->cap_q ? 2 * s->cap_q : 256;
        s->q = cm_realloc(s->q, s->cap_q * sizeof *s->q);
    }
    cm_qa_question *q = &s->q[s->n_q++];
    memset(q, 0, sizeof *q);
    q->text = cm_strndup(text, len);
    return q;
}

static void add_gold(cm_qa_question *q, size_t id)
{
    for (size_t i = 0; i < q->n_gold; i++)
        if (q->gold[i] == id) return;
    q->gold = cm_realloc(q->gold, (q->n_gold + 1) * sizeof *q->gold);
    q->gold[q->n_gold++] = id;
}

/* SQuAD: each paragraph's context is a passage, the gold of its questions. */
static int squad_question(void *user, const cm_squad_question *q, cm_err *err)
{
    (void)err;
    cm_qa_set *s = user;
    size_t para = passage_id(s, q->context, q->context_len);
    add_gold(add_question(s, q->question, q->question_len), para);
    return 0;
}

typedef struct rgb_ctx {
    cm_qa_set *s;
    cm_qa_question *q;
    int positive;
} rgb_ctx;

static int visit_passages(void *user, const char *const *path, int depth, cm_json_type type, double num,
                          const char *str, size_t len)
{
    (void)path; (void)num;
    rgb_ctx *c = user;
    if (depth != 1 || type != CM_JSON_STRING) return 0;
    size_t id = passage_id(c->s, str, len);
    if (c->positive) add_gold(c->q, id);
    return 0;
}

static int rgb_line(void *user, const char *line, size_t len, const cm_json_record *rec, cm_err *err)
{
    (void)len;
    cm_qa_set *s = user;
    long q = cm_json_find(rec, "query", NULL), pos = cm_json_find(rec, "positive", NULL),
         neg = cm_json_find(rec, "negative", NULL);
    if (q < 0 || rec->members[q].type != CM_JSON_STRING || pos < 0 || rec->members[pos].type != CM_JSON_ARRAY)
        return cm_errorf(err, "a line without a query string and a positive list");
    rgb_ctx c = {s, add_question(s, cm_json_str(rec, &rec->members[q]), rec->members[q].str_len), 1};
    const cm_json_member *m = &rec->members[pos];
    if (cm_json_visit(line + m->value_start, m->value_end - m->value_start, visit_passages, &c, err)) return -1;
    if (neg >= 0 && rec->members[neg].type == CM_JSON_ARRAY) {
        c.positive = 0;
        m = &rec->members[neg];
        if (cm_json_visit(line + m->value_start, m->value_end - m->value_start, visit_passages, &c, err)) return -1;
    }
    return 0;
}

int cm_qa_load(const char *path, cm_qa_set *s, cm_err *err)
{
    memset(s, 0, sizeof *s);
    FILE *f = fopen(path, "rb");
    if (!f) return cm_errorf(err, "%s: %s", path, strerror(errno));
    int c;
    while ((c = fgetc(f)) == ' ' || c == '\n' || c == '\r' || c == '\t') {}
    fclose(f);
    int rc;
    if (c == '{') { /* one object: SQuAD, unless it is the first of several lines */
        cm_buf b;
        cm_buf_init(&b);
        cm_err e;
        rc = cm_read_file(path, &b, (size_t)1 << 31, err);
        if (rc == 0 && cm_squad_looks_like(b.data, b.len) && cm_squad_read(b.data, b.len, squad_question, s, &e) == 0) rc = 0;
        else if (rc == 0) rc = cm_walk_json_lines(path, rgb_line, s, err);
        cm_buf_free(&b);
    } else {
        rc = cm_errorf(err, "%s: neither SQuAD JSON nor JSON Lines", path);
    }
    if (rc == 0 && (!s->n_q || !s->n_passages)) rc = cm_errorf(err, "%s: no questions or no passages", path);
    return rc;
}

void cm_qa_free(cm_qa_set *s)
{
    for (size_t i = 0; i < s->n_passages; i++) free(s->passages[i]);
    free(s->passages);
    free(s->table);
    for (size_t i = 0; i < s->n_q; i++) { free(s->q[i].text); free(s->q[i].gold); }
    free(s->q);
}

/* ---- the temporary export ---- */

static int write_collection(const cm_embed_options *eo, const cm_qa_set *s, const char *out, cm_err *err)
{
    char dir[4300], path[4400];
    snprintf(dir, sizeof dir, "%s/chunks", out);
    if (cm_mkdirs(dir, err)) return -1;
    snprintf(path, sizeof path, "%s/part-00000-0000.jsonl", dir);
    FILE *f = fopen(path, "wb");
    if (!f) return cm_errorf(err, "%s: %s", path, strerror(errno));
    cm_buf b;
    cm_buf_init(&b);
    for (size_t i = 0; i < s->n_passages; i++) {
        cm_buf_clear(&b);
        cm_buf_appendf(&b, "{\"chunk_id\":%zu,\"doc_id\":\"p%zu\",\"index\":0,\"headings\":[],\"text\":", i, i);
        cm_buf_append_json_bytes(&b, s->passages[i], strlen(s->passages[i]));
        cm_buf_append_str(&b, "}\n");
        fwrite(b.data, 1, b.len, f);
    }
    cm_buf_free(&b);
    if (fclose(f)) return cm_errorf(err, "%s: write error", path);

    cm_embedder_opts o;
    cm_embed_embedder_opts(eo, 0, &o);
    cm_embedder *e = cm_embedder_open(eo->model, &o, err);
    if (!e) return -1;
    size_t dim = cm_embedder_dim(e);
    snprintf(dir, sizeof dir, "%s/embeddings", out);
    cm_mkdirs(dir, NULL);
    snprintf(path, sizeof path, "%s/part-00000-0000.npy", dir);
    cm_npy_writer *vw = cm_npy_create(path, CM_NPY_F32, dim, err);
    snprintf(path, sizeof path, "%s/part-00000-0000.ids.npy", dir);
    cm_npy_writer *iw = vw ? cm_npy_create(path, CM_NPY_I64, 0, err) : NULL;
    int rc = vw && iw ? 0 : -1;
    float *vec = cm_malloc(WINDOW * dim * sizeof *vec);
    for (size_t i = 0; i < s->n_passages && rc == 0; i += WINDOW) {
        size_t n = s->n_passages - i < WINDOW ? s->n_passages - i : WINDOW, lens[WINDOW];
        int64_t ids[WINDOW];
        for (size_t j = 0; j < n; j++) { lens[j] = strlen(s->passages[i + j]); ids[j] = (int64_t)(i + j); }
        if (cm_embedder_embed(e, (const char *const *)s->passages + i, lens, n, 0, vec, err) ||
            cm_npy_append(vw, vec, n, err) || cm_npy_append(iw, ids, n, err))
            rc = -1;
    }
    free(vec);
    if (vw && cm_npy_close(vw, rc ? NULL : err)) rc = -1;
    if (iw && cm_npy_close(iw, rc ? NULL : err)) rc = -1;
    if (rc == 0) {
        cm_buf_init(&b);
        cm_buf_append_str(&b, "{\"model\": ");
        cm_buf_append_json_bytes(&b, eo->model, strlen(eo->model));
        cm_buf_appendf(&b, ", \"lexical\": %s, \"dim\": %zu, \"chunk\": {\"unit\": \"passages\", \"max\": 0, \"overlap\": 0}}\n",
                       cm_embedder_is_lexical(e) ? "true" : "false", dim);
        snprintf(path, sizeof path, "%s/manifest.json", dir);
        rc = cm_write_file_atomic(path, b.data, b.len, err);
        cm_buf_free(&b);
    }
    cm_embedder_free(e);
    return rc;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    return remove(path);
}

/* ---- comparing texts of an existing export ---- */

/* text, NFKC-casefolded, with only letters, digits and CJK characters, into
 * out (UTF-16 code units are enough to compare). */
static void fold(const char *text, size_t len, cm_buf *out)
{
    cm_buf_clear(out);
    UErrorCode e = U_ZERO_ERROR;
    int32_t n16 = 0;
    u_strFromUTF8WithSub(NULL, 0, &n16, text, (int32_t)len, 0xFFFD, NULL, &e);
    e = U_ZERO_ERROR;
    UChar *u = cm_malloc(((size_t)n16 + 1) * sizeof *u);
    u_strFromUTF8WithSub(u, n16 + 1, NULL, text, (int32_t)len, 0xFFFD, NULL, &e);
    const UNormalizer2 *nfkc = unorm2_getNFKCCasefoldInstance(&e);
    UChar *f = cm_malloc(((size_t)n16 * 4 + 16) * sizeof *f);
    int32_t nf = U_SUCCESS(e) ? unorm2_normalize(nfkc, u, n16, f, n16 * 4 + 16, &e) : 0;
    if (U_FAILURE(e)) nf = 0;
    for (int32_t i = 0; i < nf;) {
        UChar32 c;
        U16_NEXT(f, i, nf, c);
        if (u_isalnum(c) || cm_is_cjk((uint32_t)c)) {
            char b[4];
            cm_buf_append(out, b, cm_utf8_encode((uint32_t)c, b));
        }
    }
    cm_buf_append(out, "", 0);
    free(u);
    free(f);
}

typedef struct folded {
    char **passage; /* folded passages, by passage id */
    cm_buf chunk;
} folded;

static int chunk_in_gold(cm_rag *r, folded *fo, const cm_qa_question *q, int64_t chunk)
{
    size_t len;
    const char *t = cm_rag_chunk_text(r, chunk, &len);
    if (!t) return 0;
    fold(t, len, &fo->chunk);
    if (!fo->chunk.len) return 0;
    for (size_t g = 0; g < q->n_gold; g++) {
        const char *p = fo->passage[q->gold[g]];
        if (*p && (strstr(p, fo->chunk.data) || strstr(fo->chunk.data, p))) return 1;
    }
    return 0;
}

/* ---- scoring ---- */


/* fo NULL: the temporary export, where chunk ids are passage ids */
static void score_question(cm_rag *r, folded *fo, const cm_qa_question *q, const cm_rag_hit *hits, long n, cm_eval_scores *sc)
{
    long first = 0;
    int gold5 = 0;
    for (long i = 0; i < n; i++) {
        int gold = 0;
        if (fo) gold = chunk_in_gold(r, fo, q, hits[i].chunk_id);
        else
            for (size_t g = 0; g < q->n_gold; g++) gold |= (int64_t)q->gold[g] == hits[i].chunk_id;
        if (gold && !first) first = i + 1;
        if (gold && i < 5) gold5++;
    }
    sc->r1 += first == 1;
    sc->r5 += first && first <= 5;
    sc->r20 += first && first <= 20;
    sc->mrr10 += first && first <= 10 ? 1.0 / (double)first : 0;
    sc->p5 += gold5 / 5.0;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Mean, median and 99th percentile (nearest rank) of n times, sorted here. */
static cm_eval_latency latency_of(double *ms, size_t n)
{
    cm_eval_latency l = {0, 0, 0};
    if (!n) return l;
    qsort(ms, n, sizeof *ms, by_value);
    for (size_t i = 0; i < n; i++) l.mean += ms[i];
    l.mean /= (double)n;
    l.p50 = ms[(n - 1) / 2];
    size_t r99 = (size_t)ceil(0.99 * (double)n);
    l.p99 = ms[(r99 ? r99 : 1) - 1];
    return l;
}

int cm_eval_retrieval(const cm_config *cfg, const cm_qa_set *s, const char *export_dir, int bm25_fts5,
                      double hybrid_weight, cm_eval_result *res, cm_err *err)
{
    memset(res, 0, sizeof *res);
    res->questions = s->n_q;
    res->passages = s->n_passages;
    const cm_embed_options *eo = cm_config_options(cfg, "embed");
    const cm_index_options *io = cm_config_options(cfg, "index");
    if (!eo || !io) return cm_usagef(err, "eval-retrieval needs a config loaded with the embed and index stages");
    const char *tmpdir = getenv("TMPDIR");
    char out[4096], rag_dir[4200];
    snprintf(out, sizeof out, "%s/corpusmill-eval.XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
    int rc = 0;
    double t0 = cm_now();
    folded fo = {NULL, {0}}, *fop = NULL;
    if (export_dir) { /* an existing export: gold passages compared by text */
        out[0] = 0;
        snprintf(rag_dir, sizeof rag_dir, "%s", export_dir);
        fo.passage = cm_calloc(s->n_passages, sizeof *fo.passage);
        for (size_t i = 0; i < s->n_passages; i++) {
            fold(s->passages[i], strlen(s->passages[i]), &fo.chunk);
            fo.passage[i] = cm_strdup(fo.chunk.data);
        }
        fop = &fo;
    } else { /* a temporary export of exactly the set's passages */
        if (!mkdtemp(out)) {
            out[0] = 0;
            rc = cm_errorf(err, "cannot make a temporary directory: %s", strerror(errno));
        }
        cm_config tmp_cfg = *cfg; /* a shallow copy that writes into the temporary directory */
        tmp_cfg.output.dir = out;
        uint64_t chunks;
        if (rc == 0) rc = write_collection(eo, s, out, err);
        if (rc == 0) rc = cm_rag_export(&tmp_cfg, io, eo->query_prefix, &chunks, err);
        snprintf(rag_dir, sizeof rag_dir, "%s/rag", out);
    }
    cm_rag *r = rc == 0 ? cm_rag_open(rag_dir, err) : NULL;
    if (rc == 0 && !r) rc = export_dir ? cm_err_usage(err) : -1;
    if (rc == 0 && bm25_fts5 && cm_rag_use_fts5(r, 1, err)) rc = -1;
    if (rc == 0 && hybrid_weight >= 0) cm_rag_set_hybrid_weight(r, hybrid_weight);
    if (rc == 0) res->hybrid_weight = cm_rag_hybrid_weight(r);
    double *ms[3];
    for (int m = 0; m < 3; m++) ms[m] = cm_calloc(s->n_q ? s->n_q : 1, sizeof *ms[m]);
    res->build_seconds = cm_now() - t0;
    cm_rag_hit hits[DEPTH];
    t0 = cm_now();
    cm_progress prog; /* questions searched */
    cm_progress_init(&prog, cfg->run.progress, cfg->run.progress_fd, "eval-retrieval");
    for (size_t i = 0; i < s->n_q && rc == 0; i++) {
        for (int m = 0; m < 3 && rc == 0; m++) {
            double q0 = cm_now();
            long n = cm_rag_search(r, s->q[i].text, (cm_rag_mode)m, DEPTH, hits, err);
            ms[m][i] = (cm_now() - q0) * 1000;
            if (n < 0) rc = -1;
            else score_question(r, fop, &s->q[i], hits, n, &res->mode[m]);
        }
        cm_progress_update(&prog, i + 1, 0, i + 1, s->n_q, 0);
    }
    cm_progress_update(&prog, s->n_q, 0, s->n_q, s->n_q, 1);
    cm_progress_end(&prog);
    res->search_seconds = cm_now() - t0;
    for (int m = 0; m < 3; m++) {
        if (rc == 0) res->latency[m] = latency_of(ms[m], s->n_q);
        free(ms[m]);
    }
    for (int m = 0; m < 3 && s->n_q; m++) {
        cm_eval_scores *sc = &res->mode[m];
        double n = (double)s->n_q;
        sc->r1 /= n;
        sc->r5 /= n;
        sc->r20 /= n;
        sc->mrr10 /= n;
        sc->p5 /= n;
    }
    cm_rag_close(r);
    if (out[0]) nftw(out, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    if (fo.passage)
        for (size_t i = 0; i < s->n_passages; i++) free(fo.passage[i]);
    free(fo.passage);
    cm_buf_free(&fo.chunk);
    return rc;
}

void cm_eval_json(const cm_eval_result *res, const char *model, const char *qa, cm_buf *out)
{
    static const char *const modes[] = {"dense", "bm25", "hybrid"};
    cm_buf_append_str(out, "{");
    for (int m = 0; m < 3; m++) {
        const cm_eval_scores *sc = &res->mode[m];
        cm_buf_appendf(out, "%s\"%s\": {\"recall@1\": %.4f, \"recall@5\": %.4f, \"recall@20\": %.4f, \"mrr@10\": %.4f, "
                            "\"precision@5\": %.4f}", m ? ", " : "", modes[m], sc->r1, sc->r5, sc->r20, sc->mrr10, sc->p5);
    }
    cm_buf_append_str(out, ", \"latency_ms\": {");
    for (int m = 0; m < 3; m++) {
        const cm_eval_latency *l = &res->latency[m];
        cm_buf_appendf(out, "%s\"%s\": {\"mean\": %.3f, \"p50\": %.3f, \"p99\": %.3f}", m ? ", " : "", modes[m], l->mean,
                       l->p50, l->p99);
    }
    cm_buf_appendf(out, "}, \"hybrid_bm25_weight\": %.4g", res->hybrid_weight);
    cm_buf_appendf(out, ", \"questions\": %zu, \"passages\": %zu, \"model\": ", res->questions, res->passages);
    cm_buf_append_json_bytes(out, model, strlen(model));
    cm_buf_append_str(out, ", \"qa\": ");
    cm_buf_append_json_bytes(out, qa, strlen(qa));
    cm_buf_append_str(out, "}\n");
}
