/* bench_bm25.c -- the BM25 impact index alone, on one core: builds it from
 * an OUT folder's chunks (OUT/chunks/part-*), timing the reading of the
 * chunk records apart from the inversion and the writing, then searches
 * every question of a QA set (k = 100, the hybrid depth, and k = 10) with
 * pruning and exhaustively.
 *   bench_bm25 OUT INDEX_PATH QA_FILE
 * Prints chunks/s, bytes per chunk-text byte and ms per query. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bm25_index.h"
#include "eval.h"
#include "json.h"
#include "stage_reader.h"
#include "writer.h"

#define PASSES 3

typedef struct feed {
    cm_bm25_builder *b;
    uint64_t chunks, text_bytes;
} feed;

static int one(void *user, const char *line, size_t len, const cm_json_record *rec, cm_err *err)
{
    (void)len;
    feed *f = user;
    long id = cm_json_find(rec, "chunk_id", NULL), text = cm_json_find(rec, "text", NULL), h = cm_json_find(rec, "headings", NULL);
    if (id < 0 || text < 0) return cm_errorf(err, "a chunk without chunk_id or text");
    const cm_json_member *m = rec->members;
    f->chunks++;
    f->text_bytes += m[text].str_len;
    if (!f->b) return 0;
    return cm_bm25_builder_add(f->b, strtoll(line + m[id].value_start, NULL, 10), h >= 0 ? line + m[h].value_start : NULL,
                               h >= 0 ? m[h].value_end - m[h].value_start : 0, cm_json_str(rec, &m[text]), m[text].str_len, err);
}

static int walk(const char *out, feed *f, cm_err *err)
{
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/chunks", out);
    size_t n;
    char **files = cm_list_dir(dir, "part-", &n);
    int rc = n ? 0 : cm_errorf(err, "%s: no chunk parts", dir);
    for (size_t i = 0; i < n && rc == 0; i++) rc = cm_walk_json_lines(files[i], one, f, err);
    cm_free_list(files, n);
    return rc;
}

static int by_ms(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void report(const char *what, double *ms, size_t n)
{
    double sum = 0;
    for (size_t i = 0; i < n; i++) sum += ms[i];
    qsort(ms, n, sizeof *ms, by_ms);
    printf("%-24s mean %8.3f ms  p50 %8.3f ms  p99 %8.3f ms\n", what, sum / (double)n, ms[(n - 1) / 2],
           ms[(size_t)(0.99 * (double)n + 0.999) - 1]);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: bench_bm25 OUT INDEX_PATH QA_FILE\n");
        return 2;
    }
    cm_err err;
    feed f = {NULL, 0, 0};
    double t0 = cm_now();
    if (walk(argv[1], &f, &err)) { fprintf(stderr, "%s\n", err.msg); return 1; }
    double t_read = cm_now() - t0;
    char prefix[4200];
    snprintf(prefix, sizeof prefix, "%s.build", argv[2]);
    f = (feed){cm_bm25_builder_create(prefix, 1ull << 30), 0, 0};
    t0 = cm_now();
    if (walk(argv[1], &f, &err)) { fprintf(stderr, "%s\n", err.msg); return 1; }
    double t_invert = cm_now() - t0 - t_read;
    t0 = cm_now();
    if (cm_bm25_builder_finish(f.b, argv[2], NULL, &err)) { fprintf(stderr, "%s\n", err.msg); return 1; }
    double t_write = cm_now() - t0;
    cm_bm25_builder_free(f.b);
    cm_bm25_index *ix = cm_bm25_open(argv[2], NULL, &err);
    if (!ix) { fprintf(stderr, "%s\n", err.msg); return 1; }
    cm_bm25_info info;
    cm_bm25_info_of(ix, &info);
    printf("%llu chunks, %.1f MB of text: reading the records %.2f s; inverting %.2f s, writing %.2f s: %.0f chunks/s "
           "(building, one core)\n",
           (unsigned long long)f.chunks, f.text_bytes / 1e6, t_read, t_invert, t_write,
           (double)f.chunks / (t_invert + t_write));
    printf("bm25.idx: %.1f MB (%.3f bytes per chunk-text byte), %llu terms, %llu postings, %llu blocks\n", info.bytes / 1e6,
           (double)info.bytes / (double)f.text_bytes, (unsigned long long)info.terms, (unsigned long long)info.postings,
           (unsigned long long)info.blocks);
    cm_qa_set qa;
    memset(&qa, 0, sizeof qa);
    if (cm_qa_load(argv[3], &qa, &err)) { fprintf(stderr, "%s\n", err.msg); return 1; }
    cm_bm25_searcher *s = cm_bm25_searcher_create(ix);
    cm_bm25_hit hits[100];
    double *ms = malloc(qa.n_q * sizeof *ms);
    static const size_t ks[] = {100, 10};
    for (int e = 0; e < 2; e++)
        for (int kk = 0; kk < 2; kk++) {
            uint64_t postings = 0, scored = 0, floors = 0;
            for (int pass = 0; pass < PASSES; pass++) /* each query's fastest of PASSES: this machine is shared */
                for (size_t i = 0; i < qa.n_q; i++) {
                    double q0 = cm_now();
                    if (e == 0) cm_bm25_search(s, qa.q[i].text, strlen(qa.q[i].text), ks[kk], hits);
                    else cm_bm25_search_exhaustive(s, qa.q[i].text, strlen(qa.q[i].text), ks[kk], hits);
                    double t = (cm_now() - q0) * 1000;
                    if (!pass || t < ms[i]) ms[i] = t;
                    if (pass) continue;
                    cm_bm25_search_stats st;
                    cm_bm25_last_stats(s, &st);
                    postings += st.postings;
                    scored += st.scored;
                    floors += st.floor > 0;
                }
            char what[64];
            snprintf(what, sizeof what, "%s k=%zu", e ? "exhaustive" : "block-max MaxScore", ks[kk]);
            report(what, ms, qa.n_q);
            printf("%-24s per query: %.0f postings decoded, %.0f chunks scored, floor estimated for %.0f%%\n", "",
                   (double)postings / (double)qa.n_q, (double)scored / (double)qa.n_q, 100.0 * (double)floors / (double)qa.n_q);
        }
    free(ms);
    cm_bm25_searcher_free(s);
    cm_bm25_close(ix);
    cm_qa_free(&qa);
    return 0;
}
