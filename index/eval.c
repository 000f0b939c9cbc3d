/* eval.c -- `corpusmill eval-retrieval --qa FILE [--config CONFIG] [--json]`:
 * retrieval quality on a QA set. The passages of the set (SQuAD contexts,
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>
#include <unicode/uchar.h>
#include <unicode/utf16.h>
#include <xxhash.h>

#include "../embed/embedder.h"
#include "../embed/npy.h"
#include "../pipeline/clean.h"
#include "../pipeline/json.h"
#include "../pipeline/progress.h"
#include "../pipeline/stage_reader.h"
#include "rag.h"

#define DEPTH 20
#define WINDOW 512

const char cm_eval_usage[] =
    "usage: corpusmill eval-retrieval [RAG_DIR] --qa FILE [--config CONFIG] [--json]\n"
    "\n"
    "Measures retrieval on a QA set: SQuAD-format JSON (each paragraph's context\n"
    "is a passage, its questions' gold) or JSON Lines with query, positive and\n"
    "negative (RGB: every passage joins the collection, the positives are gold).\n"
    "The passages are embedded and indexed with the config's embed and index\n"
    "settings (default: the hash model, factory auto) into a temporary export,\n"
    "and every question is searched in each mode. Prints recall@1, recall@5,\n"
    "recall@20, MRR@10 and precision@5 per mode; --json gives\n"
    "{\"dense\": {...}, \"bm25\": {...}, \"hybrid\": {...}}.\n"
    "\n"
    "With RAG_DIR, the questions are searched in that export instead, and a\n"
    "retrieved chunk is a hit when its text lies inside a gold passage (or the\n"
    "passage inside it), compared after NFKC case folding with only letters,\n"
    "digits and CJK characters kept.\n";

/* ---- the QA set ---- */

typedef struct question {
    char *text;
    size_t *gold;
    size_t n_gold;
} question;

typedef struct qa_set {
    char **passages;      /* unique texts */
    size_t n_passages, cap_passages;
    size_t *table;        /* open addressing: passage index + 1, 0 empty */
    size_t table_cap;
    question *q;
    size_t n_q, cap_q;
    /* SQuAD parsing state */
    long para;            /* index of the current paragraph's passage, -1 none */
    char cur_key[64];     /* "data.N.paragraphs.M" of para */
} qa_set;

static size_t passage_id(qa_set *s, const char *text, size_t len)
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

static question *add_question(qa_set *s, const char *text, size_t len)
{
    if (s->n_q == s->cap_q) {
        s->cap_q = s->cap_q ? 2 * s->cap_q : 256;
        s->q = cm_realloc(s->q, s->cap_q * sizeof *s->q);
    }
    question *q = &s->q[s->n_q++];
    memset(q, 0, sizeof *q);
    q->text = cm_strndup(text, len);
    return q;
}

static void add_gold(question *q, size_t id)
{
    for (size_t i = 0; i < q->n_gold; i++)
        if (q->gold[i] == id) return;
    q->gold = cm_realloc(q->gold, (q->n_gold + 1) * sizeof *q->gold);
    q->gold[q->n_gold++] = id;
}

/* SQuAD: data.N.paragraphs.M.context, data.N.paragraphs.M.qas.K.question;
 * the context comes before its questions in every file we know, but the
 * question keeps the key of its paragraph to be sure. */
static int visit_squad(void *user, const char *const *path, int depth, cm_json_type type, double num, const char *str,
                       size_t len)
{
    (void)num;
    qa_set *s = user;
    if (type != CM_JSON_STRING || depth < 5 || strcmp(path[0], "data") || strcmp(path[2], "paragraphs")) return 0;
    char key[64];
    snprintf(key, sizeof key, "%s.%s", path[1], path[3]);
    if (depth == 5 && !strcmp(path[4], "context")) {
        s->para = (long)passage_id(s, str, len);
        snprintf(s->cur_key, sizeof s->cur_key, "%s", key);
    } else if (depth == 7 && !strcmp(path[4], "qas") && !strcmp(path[6], "question") && s->para >= 0 &&
               !strcmp(key, s->cur_key)) {
        add_gold(add_question(s, str, len), (size_t)s->para);
    }
    return 0;
}

typedef struct rgb_ctx {
    qa_set *s;
    question *q;
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
    qa_set *s = user;
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

static int load_qa(const char *path, qa_set *s, cm_err *err)
{
    memset(s, 0, sizeof *s);
    s->para = -1;
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
        if (rc == 0 && strstr(b.data, "\"paragraphs\"") && cm_json_visit(b.data, b.len, visit_squad, s, &e) == 0) rc = 0;
        else if (rc == 0) rc = cm_walk_json_lines(path, rgb_line, s, err);
        cm_buf_free(&b);
    } else {
        rc = cm_errorf(err, "%s: neither SQuAD JSON nor JSON Lines", path);
    }
    if (rc == 0 && (!s->n_q || !s->n_passages)) rc = cm_errorf(err, "%s: no questions or no passages", path);
    return rc;
}

static void free_qa(qa_set *s)
{
    for (size_t i = 0; i < s->n_passages; i++) free(s->passages[i]);
    free(s->passages);
    free(s->table);
    for (size_t i = 0; i < s->n_q; i++) { free(s->q[i].text); free(s->q[i].gold); }
    free(s->q);
}

/* ---- the temporary export ---- */

static int write_collection(const cm_config *cfg, const qa_set *s, const char *out, cm_err *err)
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
    cm_embedder_opts_init(&o);
    o.hash_dim = (size_t)cfg->embed.dim;
    o.threads = cfg->embed.threads;
    o.batch = (size_t)cfg->embed.batch;
    o.query_prefix = cfg->embed.query_prefix;
    cm_embedder *e = cm_embedder_open(cfg->embed.model, &o, err);
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
        cm_buf_append_json_bytes(&b, cfg->embed.model, strlen(cfg->embed.model));
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

static int chunk_in_gold(cm_rag *r, folded *fo, const question *q, int64_t chunk)
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

typedef struct scores {
    double r1, r5, r20, mrr10, p5;
} scores;

/* fo NULL: the temporary export, where chunk ids are passage ids */
static void score_question(cm_rag *r, folded *fo, const question *q, const cm_rag_hit *hits, long n, scores *sc)
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

int cm_eval_main(int argc, char **argv)
{
    const char *qa = NULL, *config = NULL, *export_dir = NULL;
    int json = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { fputs(cm_eval_usage, stdout); return CM_EXIT_OK; }
        if (!strcmp(a, "--json")) { json = 1; continue; }
        if ((!strcmp(a, "--qa") || !strcmp(a, "--config")) && i + 1 < argc) {
            if (!strcmp(a, "--qa")) qa = argv[++i];
            else config = argv[++i];
            continue;
        }
        if (a[0] != '-' && !export_dir) { export_dir = a; continue; }
        fprintf(stderr, "corpusmill eval-retrieval: unexpected '%s'\n\n%s", a, cm_eval_usage);
        return CM_EXIT_USAGE;
    }
    if (!qa) { fprintf(stderr, "corpusmill eval-retrieval: --qa FILE is required\n\n%s", cm_eval_usage); return CM_EXIT_USAGE; }
    cm_err err;
    cm_config *cfg = config ? cm_config_load(config, &err) : cm_config_parse("", "defaults", &err);
    if (!cfg) { fprintf(stderr, "corpusmill eval-retrieval: %s\n", err.msg); return CM_EXIT_USAGE; }
    qa_set s;
    if (load_qa(qa, &s, &err)) {
        fprintf(stderr, "corpusmill eval-retrieval: %s\n", err.msg);
        free_qa(&s);
        cm_config_free(cfg);
        return CM_EXIT_USAGE;
    }
    const char *tmpdir = getenv("TMPDIR");
    char out[4096];
    snprintf(out, sizeof out, "%s/corpusmill-eval.XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
    int rc = CM_EXIT_OK;
    char rag_dir[4200];
    double t0 = cm_now();
    folded fo = {NULL, {0}}, *fop = NULL;
    if (export_dir) { /* an existing export: gold passages compared by text */
        out[0] = 0;
        snprintf(rag_dir, sizeof rag_dir, "%s", export_dir);
        fo.passage = cm_calloc(s.n_passages, sizeof *fo.passage);
        for (size_t i = 0; i < s.n_passages; i++) {
            fold(s.passages[i], strlen(s.passages[i]), &fo.chunk);
            fo.passage[i] = cm_strdup(fo.chunk.data);
        }
        fop = &fo;
    } else {
        if (!mkdtemp(out)) { cm_errorf(&err, "cannot make a temporary directory: %s", strerror(errno)); rc = CM_EXIT_FAILED; }
        cm_config_set_out(cfg, out);
        uint64_t chunks;
        if (rc == CM_EXIT_OK && write_collection(cfg, &s, out, &err)) rc = CM_EXIT_FAILED;
        if (rc == CM_EXIT_OK) rc = cm_rag_export(cfg, &chunks, &err);
        snprintf(rag_dir, sizeof rag_dir, "%s/rag", out);
    }
    cm_rag *r = rc == CM_EXIT_OK ? cm_rag_open(rag_dir, &err) : NULL;
    if (rc == CM_EXIT_OK && !r) rc = export_dir ? CM_EXIT_USAGE : CM_EXIT_FAILED;
    double t_build = cm_now() - t0;
    static const char *const modes[] = {"dense", "bm25", "hybrid"};
    scores sc[3];
    memset(sc, 0, sizeof sc);
    cm_rag_hit hits[DEPTH];
    t0 = cm_now();
    cm_progress prog; /* questions searched: a bar on a terminal, a line every 5 s otherwise */
    cm_progress_init(&prog, json ? CM_PROGRESS_NONE : CM_PROGRESS_AUTO, 0, "eval-retrieval");
    for (size_t i = 0; i < s.n_q && rc == CM_EXIT_OK; i++) {
        for (int m = 0; m < 3 && rc == CM_EXIT_OK; m++) {
            long n = cm_rag_search(r, s.q[i].text, (cm_rag_mode)m, DEPTH, hits, &err);
            if (n < 0) rc = CM_EXIT_FAILED;
            else score_question(r, fop, &s.q[i], hits, n, &sc[m]);
        }
        cm_progress_update(&prog, i + 1, 0, i + 1, s.n_q, 0);
    }
    cm_progress_update(&prog, s.n_q, 0, s.n_q, s.n_q, 1);
    cm_progress_end(&prog);
    double t_search = cm_now() - t0;
    if (rc == CM_EXIT_OK) {
        double n = (double)s.n_q;
        cm_buf jb;
        cm_buf_init(&jb);
        cm_buf_append_str(&jb, "{");
        for (int m = 0; m < 3; m++)
            cm_buf_appendf(&jb, "%s\"%s\": {\"recall@1\": %.4f, \"recall@5\": %.4f, \"recall@20\": %.4f, \"mrr@10\": %.4f, "
                                "\"precision@5\": %.4f}", m ? ", " : "", modes[m], sc[m].r1 / n, sc[m].r5 / n, sc[m].r20 / n,
                           sc[m].mrr10 / n, sc[m].p5 / n);
        cm_buf_appendf(&jb, ", \"questions\": %zu, \"passages\": %zu, \"model\": ", s.n_q, s.n_passages);
        cm_buf_append_json_bytes(&jb, cfg->embed.model, strlen(cfg->embed.model));
        cm_buf_append_str(&jb, ", \"qa\": ");
        cm_buf_append_json_bytes(&jb, qa, strlen(qa));
        cm_buf_append_str(&jb, "}\n");
        if (export_dir) { /* the run report shows the last evaluation of an export */
            char path[4200];
            snprintf(path, sizeof path, "%s/eval.json", export_dir);
            cm_err werr;
            if (cm_write_file_atomic(path, jb.data, jb.len, &werr))
                fprintf(stderr, "corpusmill eval-retrieval: %s\n", werr.msg);
        }
        if (json) {
            fwrite(jb.data, 1, jb.len, stdout);
        } else {
            if (export_dir)
                printf("%s: %zu questions, %zu gold passages, searched in %s (%.1f s)\n", qa, s.n_q, s.n_passages,
                       export_dir, t_search);
            else
                printf("%s: %zu questions, %zu passages, model %s (built in %.1f s, searched in %.1f s)\n", qa, s.n_q,
                       s.n_passages, cfg->embed.model, t_build, t_search);
            printf("%-8s %9s %9s %10s %7s %12s\n", "mode", "recall@1", "recall@5", "recall@20", "MRR@10", "precision@5");
            for (int m = 0; m < 3; m++)
                printf("%-8s %9.3f %9.3f %10.3f %7.3f %12.3f\n", modes[m], sc[m].r1 / n, sc[m].r5 / n, sc[m].r20 / n,
                       sc[m].mrr10 / n, sc[m].p5 / n);
        }
        cm_buf_free(&jb);
    } else {
        fprintf(stderr, "corpusmill eval-retrieval: %s\n", err.msg);
    }
    cm_rag_close(r);
    if (out[0]) nftw(out, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    if (fo.passage)
        for (size_t i = 0; i < s.n_passages; i++) free(fo.passage[i]);
    free(fo.passage);
    cm_buf_free(&fo.chunk);
    free_qa(&s);
    cm_config_free(cfg);
    return rc;
}
