/* dedup_truth.c -- ground truth for dedup, by brute force: the exact Jaccard
 * similarity of document pairs over the same shingles the MinHash stage uses,
 * against the clusters a dedup run produced.
 *
 *   dedup_truth OUT        (OUT: a finished `run` with clean and dedup)
 *
 * Candidate pairs are the pairs sharing a shingle that at most 300 documents
 * have (a pair with J >= 0.5 shares many of those); their exact J is computed
 * from the full shingle sets, with digits as written (whatever the run's
 * fold_digits). Prints recall of pairs with J >= 0.8 (both in one cluster),
 * precision of the removals (the removed document and the document it was
 * verified against have J >= 0.8, and >= 0.7; and the same against its
 * cluster's representative, which can be hops away), precision per removal
 * reason, and the detection rate per J bin next to the S-curve
 * 1 - (1 - J^r)^b. Exit 0; the caller checks the numbers. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "json.h"
#include "minhash.h"
#include "sigfile.h"
#include "source.h"
#include "util.h"

typedef struct docrec {
    char *file;
    uint64_t line, ordinal;
    uint64_t *set;
    size_t n;
    long cluster; /* index of the representative */
    long via;     /* index of the document it was verified against */
    char reason[32];
} docrec;

static docrec *docs;
static size_t n_docs, cap_docs;
static cm_minhasher *mh;
static cm_json_parser *parser;
static cm_json_record rec;
static cm_buf line;
static int reading_rejected;
static char field_file[4096], rep_file[4096], via_file[4096], field_reason[32];
static uint64_t field_line, rep_record, via_record;

static int visit(void *user, const char *const *path, int depth, cm_json_type type, double num, const char *str, size_t len)
{
    (void)user;
    if (depth == 2 && !strcmp(path[0], "source")) {
        if (!strcmp(path[1], "file") && type == CM_JSON_STRING) snprintf(field_file, sizeof field_file, "%.*s", (int)len, str);
        if (!strcmp(path[1], "line") && type == CM_JSON_NUMBER) field_line = (uint64_t)num;
    }
    if (depth == 2 && !strcmp(path[0], "duplicate_of")) {
        if (!strcmp(path[1], "file") && type == CM_JSON_STRING) snprintf(rep_file, sizeof rep_file, "%.*s", (int)len, str);
        if (!strcmp(path[1], "record") && type == CM_JSON_NUMBER) rep_record = (uint64_t)num;
    }
    if (depth == 2 && !strcmp(path[0], "verified_against")) {
        if (!strcmp(path[1], "file") && type == CM_JSON_STRING) snprintf(via_file, sizeof via_file, "%.*s", (int)len, str);
        if (!strcmp(path[1], "record") && type == CM_JSON_NUMBER) via_record = (uint64_t)num;
    }
    if (depth == 1 && !strcmp(path[0], "reason") && type == CM_JSON_STRING)
        snprintf(field_reason, sizeof field_reason, "%.*s", (int)len, str);
    return 0;
}

static long find_doc(const char *file, int by_line, uint64_t v)
{
    for (size_t i = 0; i < n_docs; i++)
        if ((by_line ? docs[i].line : docs[i].ordinal) == v && !strcmp(docs[i].file, file)) return (long)i;
    return -1;
}

static void on_record(void *user, const char *data, size_t len, uint64_t l, uint64_t off, int kind, int damage, uint64_t full)
{
    (void)user; (void)l; (void)off; (void)kind; (void)damage; (void)full;
    cm_buf_clear(&line);
    cm_buf_append(&line, data, len);
    cm_buf_reserve(&line, CM_JSON_PADDING);
    memset(line.data + line.len, ' ', CM_JSON_PADDING);
    cm_err err;
    if (cm_json_parse_record(parser, line.data, line.len, &rec, &err)) return;
    long ci = cm_json_find(&rec, "corpusmill", NULL);
    if (ci < 0) return;
    field_file[0] = rep_file[0] = via_file[0] = field_reason[0] = 0;
    cm_json_visit(line.data + rec.members[ci].value_start, rec.members[ci].value_end - rec.members[ci].value_start, visit,
                  NULL, NULL);
    if (reading_rejected) {
        long d = find_doc(field_file, 1, field_line), r = find_doc(rep_file, 0, rep_record),
             v = find_doc(via_file, 0, via_record);
        if (d >= 0 && r >= 0) docs[d].cluster = r;
        if (d >= 0) {
            docs[d].via = v >= 0 ? v : r;
            snprintf(docs[d].reason, sizeof docs[d].reason, "%s", field_reason);
        }
        return;
    }
    long ti = cm_json_find(&rec, "content", NULL);
    if (ti < 0) ti = cm_json_find(&rec, "text", NULL);
    if (ti < 0) return;
    if (n_docs == cap_docs) { cap_docs = cap_docs ? cap_docs * 2 : 1024; docs = realloc(docs, cap_docs * sizeof *docs); }
    docrec *d = &docs[n_docs];
    d->file = cm_strdup(field_file);
    d->line = field_line;
    d->ordinal = 0;
    for (size_t i = n_docs; i-- > 0;)
        if (!strcmp(docs[i].file, d->file)) { d->ordinal = docs[i].ordinal + 1; break; }
    d->set = cm_minhash_shingle_set(mh, cm_json_str(&rec, &rec.members[ti]), rec.members[ti].str_len, &d->n);
    d->cluster = (long)n_docs;
    d->via = (long)n_docs;
    d->reason[0] = 0;
    n_docs++;
}

static void blank(void *u) { (void)u; }

static void read_dir(const char *dir)
{
    DIR *dd = opendir(dir);
    if (!dd) return;
    char *names[4096];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dd)) && n < 4096)
        if (strstr(e->d_name, ".jsonl.zst") && !strstr(e->d_name, ".tmp")) names[n++] = strdup(e->d_name);
    closedir(dd);
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            if (strcmp(names[i], names[j]) > 0) { char *t = names[i]; names[i] = names[j]; names[j] = t; }
    for (int i = 0; i < n; i++) {
        char p[4400];
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        cm_err err;
        cm_source *s = cm_source_open(p, &err);
        const char *m;
        cm_record_sink sink = {on_record, blank, NULL};
        if (s && cm_source_next_member(s, &m, &err) == 1) cm_format_read_lines(s, 1u << 30, CM_REC_JSON, &sink, &err);
        cm_source_close(s);
        free(names[i]);
    }
}

static long root(long i)
{
    while (docs[i].cluster != i) i = docs[i].cluster;
    return i;
}

static double jaccard(const docrec *a, const docrec *b)
{
    size_t i = 0, j = 0, inter = 0;
    while (i < a->n && j < b->n) {
        if (a->set[i] == b->set[j]) { inter++; i++; j++; }
        else if (a->set[i] < b->set[j]) i++;
        else j++;
    }
    size_t uni = a->n + b->n - inter;
    return uni ? (double)inter / (double)uni : 1.0;
}

typedef struct post { uint64_t h; uint32_t doc; } post;
static int cmp_post(const void *x, const void *y)
{
    const post *a = x, *b = y;
    if (a->h != b->h) return a->h < b->h ? -1 : 1;
    return (a->doc > b->doc) - (a->doc < b->doc);
}
static int cmp_pair(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return a < b ? -1 : a > b;
}

int main(int argc, char **argv)
{
    if (argc != 2) { fprintf(stderr, "usage: dedup_truth OUT\n"); return 2; }
    cm_minhash_params p;
    cm_minhash_params_default(&p);
    mh = cm_minhasher_create(&p);
    parser = cm_json_parser_create();
    cm_json_record_init(&rec);
    cm_buf_init(&line);
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/clean", argv[1]);
    read_dir(dir);
    reading_rejected = 1;
    snprintf(dir, sizeof dir, "%s/rejected/dedup", argv[1]);
    read_dir(dir);

    /* candidate pairs through shingles shared by few documents */
    size_t np = 0, cp = 0;
    for (size_t i = 0; i < n_docs; i++) np += docs[i].n;
    post *posts = malloc((np ? np : 1) * sizeof *posts);
    for (size_t i = 0; i < n_docs; i++)
        for (size_t k = 0; k < docs[i].n; k++) posts[cp++] = (post){docs[i].set[k], (uint32_t)i};
    qsort(posts, cp, sizeof *posts, cmp_post);
    size_t npairs = 0, cap = 1 << 16;
    uint64_t *pairs = malloc(cap * sizeof *pairs);
    for (size_t a = 0; a < cp;) {
        size_t b = a;
        while (b < cp && posts[b].h == posts[a].h) b++;
        if (b - a > 1 && b - a <= 300)
            for (size_t x = a; x < b; x++)
                for (size_t y = x + 1; y < b; y++) {
                    if (npairs == cap) { cap *= 2; pairs = realloc(pairs, cap * sizeof *pairs); }
                    pairs[npairs++] = ((uint64_t)posts[x].doc << 32) | posts[y].doc;
                }
        a = b;
    }
    qsort(pairs, npairs, sizeof *pairs, cmp_pair);
    size_t w = 0;
    for (size_t i = 0; i < npairs; i++)
        if (!w || pairs[w - 1] != pairs[i]) pairs[w++] = pairs[i];
    npairs = w;

    size_t truth = 0, found = 0;
    size_t bin_n[20] = {0}, bin_found[20] = {0};
    for (size_t i = 0; i < npairs; i++) {
        long a = (long)(pairs[i] >> 32), b = (long)(pairs[i] & 0xFFFFFFFF);
        double j = jaccard(&docs[a], &docs[b]);
        int same = root(a) == root(b);
        if (j >= 0.8) { truth++; found += same; }
        int bin = (int)(j * 20);
        if (bin > 19) bin = 19;
        bin_n[bin]++;
        bin_found[bin] += same;
    }
    size_t removed = 0, prec8 = 0, prec7 = 0, rep8 = 0, rep7 = 0;
    static const char *const reasons[] = {"dedup:exact", "dedup:simplified", "dedup:minhash", "dedup:folded"};
    size_t by_n[4] = {0}, by_ok[4] = {0};
    for (size_t i = 0; i < n_docs; i++) {
        if (docs[i].cluster == (long)i) continue;
        removed++;
        double j = jaccard(&docs[i], &docs[docs[i].via]), jr = jaccard(&docs[i], &docs[docs[i].cluster]);
        prec8 += j >= 0.8;
        prec7 += j >= 0.7;
        rep8 += jr >= 0.8;
        rep7 += jr >= 0.7;
        for (int k = 0; k < 4; k++)
            if (!strcmp(docs[i].reason, reasons[k])) { by_n[k]++; by_ok[k] += j >= 0.8; }
    }
    printf("documents %zu, candidate pairs %zu, pairs with J >= 0.8: %zu\n", n_docs, npairs, truth);
    printf("recall %.4f (%zu of %zu pairs with J >= 0.8 in one cluster)\n", truth ? (double)found / truth : 1.0, found, truth);
    printf("precision %.4f at J >= 0.8, %.4f at J >= 0.7 (%zu removals and the documents they were verified against, "
           "digits as written)\n",
           removed ? (double)prec8 / removed : 1.0, removed ? (double)prec7 / removed : 1.0, removed);
    printf("representative %.4f at J >= 0.8, %.4f at J >= 0.7 (the same removals and their clusters' kept copies)\n",
           removed ? (double)rep8 / removed : 1.0, removed ? (double)rep7 / removed : 1.0);
    for (int k = 0; k < 4; k++)
        if (by_n[k]) printf("reason %-17s %5zu removals, %.4f at J >= 0.8\n", reasons[k], by_n[k], (double)by_ok[k] / by_n[k]);
    printf("J bin      pairs  detected  S-curve 1-(1-J^%d)^%d\n", p.rows, p.bands);
    for (int b = 10; b < 20; b++) {
        double mid = (b + 0.5) / 20;
        printf("%.2f-%.2f %7zu  %8.3f  %8.3f\n", b / 20.0, (b + 1) / 20.0, bin_n[b],
               bin_n[b] ? (double)bin_found[b] / bin_n[b] : 0, 1 - pow(1 - pow(mid, p.rows), p.bands));
    }
    free(posts);
    free(pairs);
    for (size_t i = 0; i < n_docs; i++) {
        free(docs[i].file);
        free(docs[i].set);
    }
    free(docs);
    cm_buf_free(&line);
    cm_json_record_free(&rec);
    cm_json_parser_free(parser);
    cm_minhasher_free(mh);
    return 0;
}
