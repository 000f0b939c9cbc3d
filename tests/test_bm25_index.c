/* test_bm25_index.c -- the BM25 impact index (index/bm25_index.h):
 * - scores against BM25 worked out by hand on three chunks;
 * - the pruned search returns exactly what scoring every matching chunk
 *   returns (ids, scores, order; ties by chunk id) on thousands of random
 *   queries over a generated collection with shuffled ids and duplicate
 *   texts, and on the real questions of RGB, CMRC 2018 and XQuAD over their
 *   passages (../shared/data), while reading fewer postings;
 * - the file does not depend on the memory budget (runs) or on the split
 *   (parts merged);
 * - damaged files are refused naming the file: truncated, another version,
 *   bytes changed (sha256), and random damage never crashes a search;
 * - a query of a megabyte is cut to the documented bound. */
#include "bm25_format.h"
#include "bm25_index.h"
#include "check.h"
#include "eval.h"
#include "util.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/test_bm25_index.XXXXXX";

static uint64_t rng = 88172645463325252ull;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* ---- a generated collection: Zipf-distributed CJK characters and words ---- */

#define VOCAB 3000
static char vocab[VOCAB][16];
static double zipf_cdf[VOCAB];

static void make_vocab(void)
{
    double sum = 0;
    for (int i = 0; i < VOCAB; i++) {
        if (i % 3) cm_utf8_encode(0x4E00 + (uint32_t)(i * 7 % 20000), vocab[i]); /* a Han character */
        else snprintf(vocab[i], sizeof vocab[i], " w%d ", i);                     /* a word */
        sum += 1.0 / (i + 1);
        zipf_cdf[i] = sum;
    }
    for (int i = 0; i < VOCAB; i++) zipf_cdf[i] /= sum;
}

static const char *zipf_word(void)
{
    double u = (double)(next_rand() % 1000000) / 1e6;
    int lo = 0, hi = VOCAB - 1;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (zipf_cdf[mid] < u) lo = mid + 1;
        else hi = mid;
    }
    return vocab[lo];
}

static void random_text(cm_buf *b, size_t words)
{
    cm_buf_clear(b);
    for (size_t i = 0; i < words; i++) cm_buf_append_str(b, zipf_word());
    cm_buf_append(b, "", 0);
    b->len--;
}

#define DOCS 6000
static cm_buf texts[DOCS];
static int64_t ids[DOCS];

static void make_collection(void)
{
    for (int i = 0; i < DOCS; i++) {
        cm_buf_init(&texts[i]);
        if (i % 50 == 49) { /* a copy of an earlier chunk: equal scores, ties decided by chunk id */
            cm_buf_append(&texts[i], texts[i - 7].data, texts[i - 7].len);
            cm_buf_append(&texts[i], "", 0);
            texts[i].len--;
        } else {
            random_text(&texts[i], 3 + next_rand() % (i % 10 ? 120 : 900));
        }
        ids[i] = (int64_t)((uint64_t)(i * 7919 % DOCS) << 20 | (uint64_t)i); /* not in order */
    }
}

static void build(const char *name, int from, int to, uint64_t memory)
{
    char path[512], prefix[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(prefix, sizeof prefix, "%s/%s", dir, name);
    cm_bm25_builder *b = cm_bm25_builder_create(prefix, memory);
    cm_err err;
    for (int i = from; i < to; i++) CHECK(cm_bm25_builder_add(b, ids[i], i % 4 ? NULL : "[\"标题 heading\"]", i % 4 ? 0 : 18, texts[i].data, texts[i].len, &err) == 0);
    CHECK(cm_bm25_builder_finish(b, path, NULL, &err) == 0);
    cm_bm25_builder_free(b);
}

static int same_file(const char *a, const char *b)
{
    char pa[512], pb[512];
    snprintf(pa, sizeof pa, "%s/%s", dir, a);
    snprintf(pb, sizeof pb, "%s/%s", dir, b);
    cm_buf x, y;
    cm_buf_init(&x);
    cm_buf_init(&y);
    cm_err err;
    int same = cm_read_file(pa, &x, 1u << 30, &err) == 0 && cm_read_file(pb, &y, 1u << 30, &err) == 0 && x.len == y.len &&
               !memcmp(x.data, y.data, x.len);
    cm_buf_free(&x);
    cm_buf_free(&y);
    return same;
}

/* ---- pruned against exhaustive ---- */

typedef struct totals {
    size_t queries, differ;
    uint64_t pruned_postings, all_postings;
} totals;

static void compare(cm_bm25_searcher *s, const char *q, size_t k, totals *t)
{
    static cm_bm25_hit a[1000], b[1000];
    long na = cm_bm25_search(s, q, strlen(q), k, a);
    cm_bm25_search_stats sa, sb;
    cm_bm25_last_stats(s, &sa);
    long nb = cm_bm25_search_exhaustive(s, q, strlen(q), k, b);
    cm_bm25_last_stats(s, &sb);
    int same = na == nb;
    for (long i = 0; same && i < na; i++) same = a[i].chunk_id == b[i].chunk_id && a[i].score == b[i].score;
    for (long i = 1; same && i < na; i++) same = a[i - 1].score > a[i].score || (a[i - 1].score == a[i].score && a[i - 1].chunk_id < a[i].chunk_id);
    if (!same && t->differ < 3) fprintf(stderr, "pruned and exhaustive differ for k=%zu: \"%.80s\"\n", k, q);
    t->differ += !same;
    t->queries++;
    t->pruned_postings += sa.postings;
    t->all_postings += sb.postings;
}

static void random_queries(cm_bm25_searcher *s, int n, totals *t)
{
    static const size_t ks[] = {1, 5, 10, 100};
    cm_buf q;
    cm_buf_init(&q);
    for (int i = 0; i < n; i++) {
        random_text(&q, 1 + next_rand() % 60);
        if (i % 10 == 0) cm_buf_append_str(&q, " zzunknown "); /* a term in no chunk */
        compare(s, q.data, ks[i % 4], t);
    }
    cm_buf_free(&q);
}

/* Under the sanitizers (ten times slower) every 4th question and a quarter
 * of the generated queries: the same checks, a shorter run. */
static size_t stride = 1;

/* A QA set's passages as the collection, its questions as the queries. */
static void real_queries(const char *file, totals *t)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/../shared/data/%s", CM_SOURCE_DIR, file);
    if (access(path, R_OK)) {
        printf("skipped (absent): %s\n", path);
        return;
    }
    cm_qa_set set;
    memset(&set, 0, sizeof set);
    cm_err err;
    CHECK(cm_qa_load(path, &set, &err) == 0);
    char idx[512], prefix[512];
    snprintf(idx, sizeof idx, "%s/real.idx", dir);
    snprintf(prefix, sizeof prefix, "%s/real", dir);
    cm_bm25_builder *b = cm_bm25_builder_create(prefix, 1u << 30);
    for (size_t i = 0; i < set.n_passages; i++)
        CHECK(cm_bm25_builder_add(b, (int64_t)i, NULL, 0, set.passages[i], strlen(set.passages[i]), &err) == 0);
    CHECK(cm_bm25_builder_finish(b, idx, NULL, &err) == 0);
    cm_bm25_builder_free(b);
    cm_bm25_index *ix = cm_bm25_open(idx, NULL, &err);
    CHECK(ix != NULL);
    if (ix) {
        cm_bm25_searcher *s = cm_bm25_searcher_create(ix);
        size_t before = t->queries;
        for (size_t i = 0; i < set.n_q; i += stride) {
            compare(s, set.q[i].text, 5, t);
            compare(s, set.q[i].text, 100, t);
        }
        printf("%s: %zu passages, %zu queries compared\n", file, set.n_passages, t->queries - before);
        cm_bm25_searcher_free(s);
        cm_bm25_close(ix);
    }
    cm_qa_free(&set);
}

/* ---- by hand ---- */

static void hand_scores(void)
{
    char path[512], prefix[512];
    snprintf(path, sizeof path, "%s/hand.idx", dir);
    snprintf(prefix, sizeof prefix, "%s/hand", dir);
    cm_bm25_builder *b = cm_bm25_builder_create(prefix, 1u << 20);
    cm_err err;
    /* terms: "tea green tea" 3, "green bridge" 2, "bridge bridge bridge walk" 4; avgdl 3 */
    CHECK(cm_bm25_builder_add(b, 30, NULL, 0, "Tea, green tea.", 15, &err) == 0);
    CHECK(cm_bm25_builder_add(b, 10, NULL, 0, "green bridge", 12, &err) == 0);
    CHECK(cm_bm25_builder_add(b, 20, NULL, 0, "bridge bridge bridge walk", 25, &err) == 0);
    CHECK(cm_bm25_builder_finish(b, path, NULL, &err) == 0);
    cm_bm25_builder_free(b);
    cm_bm25_index *ix = cm_bm25_open(path, NULL, &err);
    CHECK(ix != NULL);
    if (!ix) return;
    cm_bm25_info info;
    cm_bm25_info_of(ix, &info);
    CHECK(info.docs == 3 && info.terms == 4 && info.total_terms == 9 && info.postings == 6);
    cm_bm25_searcher *s = cm_bm25_searcher_create(ix);
    cm_bm25_hit h[5];
    double idf_green = log(1 + (3 - 2 + 0.5) / (2 + 0.5)), idf_tea = log(1 + (3 - 1 + 0.5) / (1 + 0.5));
    /* "green tea": doc 30 (tf tea 2, green 1, length 3), doc 10 (green 1, length 2) */
    long n = cm_bm25_search(s, "GREEN tea", 9, 5, h);
    double want30 = idf_tea * 2 * 2.2 / (2 + 1.2 * (0.25 + 0.75 * 3 / 3.0)) + idf_green * 1 * 2.2 / (1 + 1.2 * (0.25 + 0.75 * 3 / 3.0));
    double want10 = idf_green * 2.2 / (1 + 1.2 * (0.25 + 0.75 * 2 / 3.0));
    CHECK(n == 2);
    CHECK(h[0].chunk_id == 30 && fabs(h[0].score - want30) < 1e-4);
    CHECK(h[1].chunk_id == 10 && fabs(h[1].score - want10) < 1e-4);
    /* a repeated query term counts again */
    n = cm_bm25_search(s, "walk walk", 9, 5, h);
    double idf_walk = log(1 + (3 - 1 + 0.5) / 1.5), one = idf_walk * 2.2 / (1 + 1.2 * (0.25 + 0.75 * 4 / 3.0));
    CHECK(n == 1 && h[0].chunk_id == 20 && fabs(h[0].score - 2 * one) < 1e-4);
    CHECK(cm_bm25_search(s, "nothing here", 12, 5, h) == 0);
    CHECK(cm_bm25_search(s, "", 0, 5, h) == 0);
    /* ties: "bridge" alone in 10 (length 2) beats 20 (tf 3, length 4)? computed, and equal texts tie by id */
    n = cm_bm25_search(s, "bridge", 6, 1, h);
    double b10 = 2.2 / (1 + 1.2 * (0.25 + 0.75 * 2 / 3.0)), b20 = 3 * 2.2 / (3 + 1.2 * (0.25 + 0.75 * 4 / 3.0));
    CHECK(n == 1 && h[0].chunk_id == (b20 > b10 ? 20 : 10));
    cm_bm25_searcher_free(s);
    cm_bm25_close(ix);
}

/* ---- damage ---- */

static void damaged(const char *good)
{
    char src[512], bad[512];
    snprintf(src, sizeof src, "%s/%s", dir, good);
    snprintf(bad, sizeof bad, "%s/bad.idx", dir);
    cm_buf file;
    cm_buf_init(&file);
    cm_err err;
    CHECK(cm_read_file(src, &file, 1u << 30, &err) == 0);
    FILE *f = fopen(bad, "wb");
    fwrite(file.data, 1, file.len - 100, f);
    fclose(f);
    CHECK(cm_bm25_open(bad, NULL, &err) == NULL);
    CHECK_CONTAINS(err.msg, bad);
    CHECK_CONTAINS(err.msg, "truncated");
    bm25_header h;
    memcpy(&h, file.data, sizeof h);
    h.version = 99;
    f = fopen(bad, "wb");
    fwrite(&h, sizeof h, 1, f);
    fwrite(file.data + sizeof h, 1, file.len - sizeof h, f);
    fclose(f);
    CHECK(cm_bm25_open(bad, NULL, &err) == NULL);
    CHECK_CONTAINS(err.msg, "version 99");
    /* one byte of the postings changed: the manifest's sha256 no longer matches */
    memcpy(&h, file.data, sizeof h);
    file.data[h.off_postings + 10] ^= 0x40;
    f = fopen(bad, "wb");
    fwrite(file.data, 1, file.len, f);
    fclose(f);
    CHECK(cm_bm25_open(bad, "0000000000000000000000000000000000000000000000000000000000000000", &err) == NULL);
    CHECK_CONTAINS(err.msg, "sha256");
    file.data[h.off_postings + 10] ^= 0x40;
    /* random damage, in memory: refused, or searched without a crash */
    uint64_t *copy = cm_malloc(file.len + 8);
    cm_bm25_hit hits[20];
    size_t refused = 0, searched = 0;
    for (int round = 0; round < 3000; round++) {
        memcpy(copy, file.data, file.len);
        uint8_t *bytes = (uint8_t *)copy;
        int edits = 1 + (int)(next_rand() % 4);
        for (int e = 0; e < edits; e++) {
            size_t at = round % 3 == 0 ? next_rand() % sizeof h : next_rand() % file.len;
            bytes[at] = (uint8_t)next_rand();
        }
        cm_bm25_index *ix = cm_bm25_open_bytes(copy, file.len, &err);
        if (!ix) {
            refused++;
            continue;
        }
        cm_bm25_searcher *s = cm_bm25_searcher_create(ix);
        cm_buf q;
        cm_buf_init(&q);
        for (int i = 0; i < 5; i++) {
            random_text(&q, 30);
            long n = cm_bm25_search(s, q.data, q.len, 20, hits);
            CHECK(n >= 0 && n <= 20);
        }
        cm_buf_free(&q);
        cm_bm25_searcher_free(s);
        cm_bm25_close(ix);
        searched++;
    }
    printf("random damage: %zu refused, %zu searched without a crash\n", refused, searched);
    CHECK(refused > 0 && searched > 0);
    free(copy);
    cm_buf_free(&file);
}

int main(void)
{
    if (getenv("CM_SANITIZED")) stride = 4;
    CHECK(mkdtemp(dir) != NULL);
    make_vocab();
    hand_scores();
    make_collection();
    build("all.idx", 0, DOCS, 1u << 30);
    build("small-memory.idx", 0, DOCS, 200000); /* runs */
    CHECK(same_file("all.idx", "small-memory.idx"));
    build("part0.idx", 0, 2500, 1u << 30);
    build("part1.idx", 2500, 4100, 1u << 30);
    build("part2.idx", 4100, DOCS, 1u << 30);
    build("empty.idx", 0, 0, 1u << 30); /* an add task with no chunks */
    char p[4][512], merged[512];
    for (int i = 0; i < 3; i++) snprintf(p[i], sizeof p[i], "%s/part%d.idx", dir, i);
    snprintf(p[3], sizeof p[3], "%s/empty.idx", dir);
    snprintf(merged, sizeof merged, "%s/merged.idx", dir);
    const char *parts[5] = {p[0], p[3], p[1], p[2], p[3]};
    cm_err err;
    CHECK(cm_bm25_merge(parts, 5, merged, NULL, &err) == 0);
    CHECK(same_file("all.idx", "merged.idx"));

    char all[512];
    snprintf(all, sizeof all, "%s/all.idx", dir);
    cm_bm25_index *ix = cm_bm25_open(all, NULL, &err);
    CHECK(ix != NULL);
    totals t = {0, 0, 0, 0};
    if (ix) {
        cm_bm25_searcher *s = cm_bm25_searcher_create(ix);
        random_queries(s, 3000 / stride, &t);
        /* a megabyte of query: cut to the bound, not a crash */
        cm_buf big;
        cm_buf_init(&big);
        random_text(&big, 400000);
        cm_bm25_hit h[10];
        CHECK(cm_bm25_search(s, big.data, big.len, 10, h) == 10);
        cm_bm25_search_stats st;
        cm_bm25_last_stats(s, &st);
        CHECK(st.terms > 0 && st.terms <= CM_BM25_MAX_QUERY_TERMS);
        cm_buf_free(&big);
        cm_bm25_searcher_free(s);
        cm_bm25_close(ix);
    }
    printf("generated: %zu queries, %zu differ; postings read %llu pruned, %llu exhaustive\n", t.queries, t.differ,
           (unsigned long long)t.pruned_postings, (unsigned long long)t.all_postings);
    CHECK(t.differ == 0);
    CHECK(t.pruned_postings < t.all_postings);
    totals r = {0, 0, 0, 0};
    real_queries("zh-rag-rgb/zh_refine.json", &r);
    real_queries("zh-qa-cmrc2018/cmrc2018_dev.json", &r);
    real_queries("qa-xquad-en-zh/xquad.en.json", &r);
    printf("real: %zu queries, %zu differ; postings read %llu pruned, %llu exhaustive\n", r.queries, r.differ,
           (unsigned long long)r.pruned_postings, (unsigned long long)r.all_postings);
    CHECK(r.differ == 0);
    CHECK(r.queries == 0 || r.pruned_postings < r.all_postings);
    damaged("all.idx");
    for (int i = 0; i < DOCS; i++) cm_buf_free(&texts[i]);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
    CHECK_DONE();
}
