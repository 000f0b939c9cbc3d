/* step_clusters.c -- dedup step 3, one task: every candidate pair, exact
 * pairs first (each classed: the same text, the same simplified text, or the
 * same only with digits folded); near pairs that would join two clusters
 * verified (dedup.verify: the exact Jaccard of the two shingle sets with
 * digits as written, and folded when fold_digits, recomputed from the clean
 * output for the documents in pairs only, once per distinct text; or the
 * signatures); union-find, a cluster's smallest document kept. Every removed
 * document is reported with the kept copy (its cluster's representative)
 * and the document it was verified against, its neighbour towards the
 * representative in the tree of accepted pairs, with that pair's kind and
 * Jaccard. Per signatures task:
 * minhash/remove/TTTTT.bin (document -> kept copy), .via.bin (document ->
 * verified against), .sim.bin (document -> kind and Jaccard), .ids (the raw
 * ids of both), and minhash/clusters.json. Documents of earlier runs lead
 * their clusters and are never removed. */
#define _GNU_SOURCE
#include "dedup_steps.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "../pipeline/layout.h"
#include "../pipeline/progress.h"
#include "../pipeline/stage_reader.h"
#include "../pipeline/writer.h"
#include "minhash.h"
#include "sigfile.h"

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


/* Shingle sets of the documents verification needs: with digits as
 * written, and folded (fold_digits) to tell matches that need the folding. */
/* The shingle sets, one after another in large blocks that ask for huge
 * pages: a malloc and fresh 4 KiB pages per document cost ~15% of the step
 * in page faults. */
typedef struct set_arena {
    uint64_t **block;
    size_t n_block, cap_block;
    uint64_t *at;     /* free space in the last block */
    size_t left;      /* values */
    size_t next_size; /* bytes of the next block */
} set_arena;

static const uint64_t *arena_copy(set_arena *a, const uint64_t *v, size_t n)
{
    if (n > a->left || !a->at) { /* an empty set needs a place too: NULL means "not read" */
        size_t bytes = a->next_size ? a->next_size : (size_t)2 << 20;
        while (bytes / sizeof *v < n) bytes *= 2;
        void *p = NULL;
        if (posix_memalign(&p, (size_t)2 << 20, bytes)) p = cm_malloc(bytes); /* cm_malloc reports running out */
        madvise(p, bytes, MADV_HUGEPAGE); /* advice: nothing to do when refused */
        if (a->n_block == a->cap_block) {
            a->cap_block = a->cap_block ? 2 * a->cap_block : 16;
            a->block = cm_realloc(a->block, a->cap_block * sizeof *a->block);
        }
        a->block[a->n_block++] = p;
        a->at = p;
        a->left = bytes / sizeof *v;
        a->next_size = bytes < ((size_t)64 << 20) ? 2 * bytes : bytes;
    }
    uint64_t *out = a->at;
    memcpy(out, v, n * sizeof *v);
    a->at += n;
    a->left -= n;
    return out;
}

static void arena_free(set_arena *a)
{
    for (size_t i = 0; i < a->n_block; i++) free(a->block[i]);
    free(a->block);
}

typedef struct verify_sets {
    const uint64_t *keys;
    size_t nk;
    unsigned char *read;            /* the documents to shingle: one per distinct text among those needed */
    const uint64_t **sets, **fsets; /* their shingle sets, as written and folded (NULL: no folding), in the arena */
    size_t *n, *fn;
    cm_minhasher *mh, *fmh;
    set_arena arena;
} verify_sets;

static int verify_each(void *user, const cm_stage_record *r, cm_err *err)
{
    (void)err;
    verify_sets *vs = user;
    long i = cm_find_u64(vs->keys, vs->nk, ORDER(r->key));
    if (i >= 0 && vs->read[i] && !vs->sets[i]) {
        const uint64_t *sorted = cm_minhash_sorted_shingles(vs->mh, r->text, r->text_len, &vs->n[i]);
        vs->sets[i] = arena_copy(&vs->arena, sorted, vs->n[i]);
        if (vs->fmh) {
            sorted = cm_minhash_sorted_shingles(vs->fmh, r->text, r->text_len, &vs->fn[i]);
            vs->fsets[i] = arena_copy(&vs->arena, sorted, vs->fn[i]);
        }
    }
    return 0;
}

static double jaccard_of(const uint64_t *x, size_t na, const uint64_t *y, size_t nb)
{
    if (!x || !y) return -1;
    size_t i = 0, j = 0, inter = 0;
    while (i < na && j < nb) {
        if (x[i] == y[j]) { inter++; i++; j++; }
        else if (x[i] < y[j]) i++;
        else j++;
    }
    size_t uni = na + nb - inter;
    return uni ? (double)inter / (double)uni : 1.0;
}

/* The Jaccard of nodes a and b with digits as written (folded: with them
 * folded); -1 when their shingles were not read. */
static double set_jaccard(const verify_sets *vs, size_t a, size_t b, int folded)
{
    if (!vs->sets) return -1;
    if (folded) return vs->fsets ? jaccard_of(vs->fsets[a], vs->fn[a], vs->fsets[b], vs->fn[b]) : -1;
    return jaccard_of(vs->sets[a], vs->n[a], vs->sets[b], vs->n[b]);
}

static int read_pairs(const char *path, const cm_minhash_params *p, int band, cm_dedup_pairs *ps, cm_err *err)
{
    cm_sigreader *r = cm_sigreader_open(path, p, band, err);
    if (!r) return -1;
    cm_sigrec x;
    int got;
    while ((got = cm_sigreader_next(r, &x, err)) == 1) cm_dedup_add_pair(ps, x.hash, x.doc);
    cm_sigreader_close(r);
    return got < 0 ? -1 : 0;
}

/* For the removals of task t, writes minhash/remove/TTTTT.ids: the key,
 * length and raw JSON id of every document they point to (kept copies and
 * the documents verified against), sorted by key, read from the ids files of
 * this run and earlier ones. */
static int write_rep_ids(const cm_config *cfg, const cm_dedup_options *o, const cm_dedup_pairs *rm,
                         const cm_dedup_pairs *via, size_t t, cm_err *err)
{
    const char *out = cfg->output.dir;
    size_t n = 0;
    uint64_t *reps = cm_malloc((rm->n + via->n + 1) * sizeof *reps);
    for (size_t i = 0; i < rm->n; i++) reps[n++] = rm->p[i].doc;
    for (size_t i = 0; i < via->n; i++) reps[n++] = via->p[i].doc;
    n = cm_sort_unique_u64(reps, n);
    char **ids = cm_calloc(n ? n : 1, sizeof *ids);
    uint32_t *lens = cm_calloc(n ? n : 1, sizeof *lens);
    int rc = 0;
    for (int k = -1; k < (int)o->n_previous && rc == 0 && n; k++) {
        char dir[4200];
        snprintf(dir, sizeof dir, "%s/minhash/ids", k < 0 ? out : o->previous[k]);
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
            while ((got = cm_dedup_next_id(&b, &off, &key, &id, &len)) == 1) {
                if (k >= 0) key = PREV_KEY(k, key);
                long hit = cm_find_u64(reps, n, key);
                if (hit >= 0 && !ids[hit]) {
                    ids[hit] = cm_strndup(id, len);
                    lens[hit] = len;
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

/* An accepted pair: it joined two clusters. */
typedef struct edge {
    size_t a, b;
    uint64_t sim; /* cm_dedup_sim_pack */
} edge;

/* The union-find over every document in a candidate pair. */
typedef struct graph {
    const cm_dedup_options *o;
    cm_dedup_pairs mh, ex;     /* near and exact candidate pairs: documents' keys, then (build_graph) node indexes */
    uint64_t *keys;            /* every document in a pair, ORDER()ed and sorted: the nodes */
    size_t nk;
    size_t *parent;
    unsigned char *in_exact;   /* the node is in an exact pair: its text hashes are needed */
    uint64_t *h_text, *h_simpl;/* their text and simplified-text hashes */
    edge *edges;               /* the accepted pairs, in the order they were joined */
    size_t n_edges, cap_edges;
    cm_dedup_pairs todo;       /* near pairs that would join two clusters (node indexes) */
    unsigned char *need;       /* the nodes whose shingles verification needs */
    uint32_t *sigs;            /* their signatures (verify: signature, or an earlier run's document) */
    unsigned char *have_sig;
    verify_sets vs;            /* their shingle sets (verify: exact) */
    uint64_t rejected_pairs, by_kind[4];
} graph;

/* Every pairs file: BBB-RRRR.bin per band and hash range, exact-RRRR.bin. */
static int read_all_pairs(const char *out, graph *g, cm_err *err)
{
    const cm_minhash_params *p = &g->o->params;
    char dir[CM_PATH_MAX];
    snprintf(dir, sizeof dir, "%s/minhash/pairs", out);
    size_t nf;
    char **files = cm_list_dir(dir, "", &nf);
    int rc = 0;
    for (size_t f = 0; f < nf && rc == 0; f++) {
        const char *name = strrchr(files[f], '/') + 1;
        int is_exact = !strncmp(name, "exact-", 6);
        int b = is_exact ? p->bands : atoi(name);
        if ((is_exact && !g->o->exact) || (!is_exact && !g->o->minhash)) continue;
        rc = read_pairs(files[f], p, b, is_exact ? &g->ex : &g->mh, err);
    }
    cm_free_list(files, nf);
    return rc;
}

static void add_edge(graph *g, size_t a, size_t b, uint64_t sim)
{
    if (g->n_edges == g->cap_edges) {
        g->cap_edges = g->cap_edges ? 2 * g->cap_edges : 1024;
        g->edges = cm_realloc(g->edges, g->cap_edges * sizeof *g->edges);
    }
    g->edges[g->n_edges++] = (edge){a, b, sim};
    g->by_kind[cm_dedup_sim_kind(sim)]++;
}

/* Joins a and b when they are in two clusters, remembering the pair. */
static void join(graph *g, size_t a, size_t b, uint64_t sim)
{
    if (find_root(g->parent, a) == find_root(g->parent, b)) return;
    union_roots(g->parent, a, b);
    add_edge(g, a, b, sim);
}

/* A pair list's document keys replaced by their node indexes, looked up
 * many at a time. */
static void pairs_to_nodes(graph *g, cm_dedup_pairs *ps)
{
    enum { BATCH = 64 };
    uint64_t k[2 * BATCH];
    long at[2 * BATCH];
    for (size_t s = 0; s < ps->n; s += BATCH) {
        size_t w = ps->n - s < BATCH ? ps->n - s : BATCH;
        for (size_t j = 0; j < w; j++) {
            k[2 * j] = ORDER(ps->p[s + j].hash);
            k[2 * j + 1] = ORDER(ps->p[s + j].doc);
        }
        cm_find_u64_many(g->keys, g->nk, k, 2 * w, at);
        for (size_t j = 0; j < w; j++) ps->p[s + j] = (cm_sigrec){(uint64_t)at[2 * j], (uint64_t)at[2 * j + 1]};
    }
}

/* The nodes, each its own cluster, and what verification will need; the
 * pairs' keys become node indexes. */
static void build_graph(graph *g)
{
    uint64_t *keys = cm_malloc((2 * (g->mh.n + g->ex.n) + 1) * sizeof *keys);
    size_t nk = 0;
    for (size_t i = 0; i < g->mh.n; i++) { keys[nk++] = ORDER(g->mh.p[i].hash); keys[nk++] = ORDER(g->mh.p[i].doc); }
    for (size_t i = 0; i < g->ex.n; i++) { keys[nk++] = ORDER(g->ex.p[i].hash); keys[nk++] = ORDER(g->ex.p[i].doc); }
    g->keys = keys;
    g->nk = nk = cm_sort_unique_u64(keys, nk);
    g->parent = cm_malloc((nk ? nk : 1) * sizeof *g->parent);
    g->in_exact = cm_calloc(nk ? nk : 1, 1);
    g->need = cm_calloc(nk ? nk : 1, 1);
    g->h_text = cm_calloc(nk ? nk : 1, sizeof *g->h_text);
    g->h_simpl = cm_calloc(nk ? nk : 1, sizeof *g->h_simpl);
    for (size_t i = 0; i < nk; i++) g->parent[i] = i;
    pairs_to_nodes(g, &g->mh);
    pairs_to_nodes(g, &g->ex);
    for (size_t i = 0; i < g->ex.n; i++) g->in_exact[g->ex.p[i].hash] = g->in_exact[g->ex.p[i].doc] = 1;
}

/* The text hashes of the nodes in exact pairs, from this run's texts files
 * (an earlier run's documents have none: their kind stays simplified). */
static int load_text_hashes(const char *out, graph *g, cm_err *err)
{
    char dir[CM_PATH_MAX];
    snprintf(dir, sizeof dir, "%s/minhash/texts", out);
    size_t nf;
    char **files = cm_list_dir(dir, "", &nf);
    int rc = 0;
    for (size_t f = 0; f < nf && rc == 0; f++) {
        cm_buf b;
        cm_buf_init(&b);
        if (cm_read_file(files[f], &b, (size_t)1 << 40, err)) { cm_buf_free(&b); rc = -1; break; }
        if (b.len % 24) rc = cm_errorf(err, "%s: truncated or corrupt text hashes", files[f]);
        for (size_t off = 0; rc == 0 && off + 24 <= b.len; off += 24) {
            uint64_t rec[3];
            memcpy(rec, b.data + off, sizeof rec);
            long i = cm_find_u64(g->keys, g->nk, ORDER(rec[0]));
            if (i >= 0 && g->in_exact[i]) {
                g->h_text[i] = rec[1];
                g->h_simpl[i] = rec[2];
            }
        }
        cm_buf_free(&b);
    }
    cm_free_list(files, nf);
    return rc;
}

/* The exact pairs, joined first (they need no verification), each classed;
 * a pair equal only with digits folded has its Jaccard with digits as
 * written measured, so its shingles are needed. */
static void join_exact(graph *g)
{
    for (size_t i = 0; i < g->ex.n; i++) {
        size_t a = (size_t)g->ex.p[i].hash, b = (size_t)g->ex.p[i].doc;
        int kind = g->h_text[a] && g->h_text[a] == g->h_text[b] ? CM_DUP_EXACT
                   : !g->o->params.fold_digits || g->h_simpl[a] == g->h_simpl[b] ? CM_DUP_SIMPLIFIED
                                                                                  : CM_DUP_FOLDED;
        size_t before = g->n_edges;
        join(g, a, b, cm_dedup_sim_pack(kind, 0, kind == CM_DUP_FOLDED ? -1 : 1, 1));
        if (g->n_edges > before && kind == CM_DUP_FOLDED) g->need[a] = g->need[b] = 1;
    }
    /* near pairs: only those that would join two clusters need checking */
    for (size_t i = 0; i < g->mh.n; i++) {
        size_t a = (size_t)g->mh.p[i].hash, b = (size_t)g->mh.p[i].doc;
        if (find_root(g->parent, a) == find_root(g->parent, b)) continue;
        cm_dedup_add_pair(&g->todo, (uint64_t)a, (uint64_t)b);
        g->need[a] = g->need[b] = 1;
    }
}

static int is_previous(const graph *g, size_t node) { return ((g->keys[node] ^ PREV_FLAG) & PREV_FLAG) != 0; }
/* The signatures of the needed documents, from this run's signatures files
 * (sigfiles) and earlier runs'. */
static int load_signatures(graph *g, char **sigfiles, size_t n_sigfiles, cm_err *err)
{
    const cm_dedup_options *o = g->o;
    size_t n_perm = (size_t)o->params.bands * (size_t)o->params.rows;
    g->sigs = cm_malloc((g->nk ? g->nk : 1) * n_perm * sizeof *g->sigs);
    g->have_sig = cm_calloc(g->nk ? g->nk : 1, 1);
    size_t rec = sizeof(uint64_t) + n_perm * sizeof(uint32_t);
    int rc = 0;
    for (int k = -1; k < (int)o->n_previous && rc == 0; k++) {
        size_t nf = n_sigfiles;
        char **files = sigfiles;
        if (k >= 0) {
            char pdir[CM_PATH_MAX];
            snprintf(pdir, sizeof pdir, "%s/minhash/sigs", o->previous[k]);
            files = cm_list_dir(pdir, "", &nf);
        }
        for (size_t t = 0; t < nf && rc == 0; t++) {
            cm_buf b;
            cm_buf_init(&b);
            if (cm_read_file(files[t], &b, (size_t)1 << 40, err)) { cm_buf_free(&b); rc = -1; break; }
            if (b.len % rec) rc = cm_errorf(err, "%s: truncated or corrupt signature file", files[t]);
            for (size_t off = 0; rc == 0 && off + rec <= b.len; off += rec) {
                uint64_t key;
                memcpy(&key, b.data + off, sizeof key);
                if (k >= 0) key = PREV_KEY(k, key);
                long i = cm_find_u64(g->keys, g->nk, ORDER(key));
                if (i >= 0 && g->need[i]) {
                    memcpy(g->sigs + (size_t)i * n_perm, b.data + off + sizeof key, n_perm * sizeof *g->sigs);
                    g->have_sig[i] = 1;
                }
            }
            cm_buf_free(&b);
        }
        if (k >= 0) cm_free_list(files, nf);
    }
    return rc;
}

typedef struct text_node {
    uint64_t h_text;
    size_t node;
} text_node;

static int by_text_then_node(const void *x, const void *y)
{
    const text_node *a = x, *b = y;
    if (a->h_text != b->h_text) return a->h_text < b->h_text ? -1 : 1;
    return a->node < b->node ? -1 : a->node > b->node;
}

/* Which needed documents to shingle: the first of each text (a document
 * with the text hash of another has its shingles), every document whose
 * text hash is unknown. Exact copies crowd near pairs: each copy of a text
 * meets each copy of its near neighbour's. Returns the read flags; same[i]
 * is the node whose set node i shares (itself when it is read). */
static unsigned char *plan_reads(const graph *g, size_t *same)
{
    size_t nk = g->nk, n = 0;
    unsigned char *read = cm_calloc(nk ? nk : 1, 1);
    text_node *tn = cm_malloc((nk ? nk : 1) * sizeof *tn);
    for (size_t i = 0; i < nk; i++) {
        same[i] = i;
        if (!g->need[i]) continue;
        if (g->h_text[i]) tn[n++] = (text_node){g->h_text[i], i};
        else read[i] = 1;
    }
    qsort(tn, n, sizeof *tn, by_text_then_node);
    for (size_t k = 0; k < n; k++) {
        int first = k == 0 || tn[k].h_text != tn[k - 1].h_text;
        if (first) read[tn[k].node] = 1;
        else same[tn[k].node] = same[tn[k - 1].node];
    }
    free(tn);
    return read;
}

/* The shingle sets of the needed documents: the source's documents read
 * again, one of each needed text shingled, its copies pointed at its set. */
static int load_shingles(graph *g, const cm_stage_task *task, size_t tasks, cm_err *err)
{
    verify_sets *vs = &g->vs;
    vs->keys = g->keys;
    vs->nk = g->nk;
    size_t *same = cm_malloc((g->nk ? g->nk : 1) * sizeof *same);
    vs->read = plan_reads(g, same);
    vs->sets = cm_calloc(g->nk ? g->nk : 1, sizeof *vs->sets);
    vs->n = cm_calloc(g->nk ? g->nk : 1, sizeof *vs->n);
    cm_minhash_params written = g->o->params;
    written.fold_digits = 0;
    vs->mh = cm_minhasher_create(&written);
    if (g->o->params.fold_digits) {
        vs->fsets = cm_calloc(g->nk ? g->nk : 1, sizeof *vs->fsets);
        vs->fn = cm_calloc(g->nk ? g->nk : 1, sizeof *vs->fn);
        vs->fmh = cm_minhasher_create(&g->o->params);
    }
    cm_stage_reader *reader = cm_stage_reader_create(task->cfg, err);
    if (!reader) { free(same); return -1; }
    cm_stage_reader_progress(reader, "dedup clusters", "verify");
    int rc = 0;
    for (size_t t = 0; t < tasks && rc == 0; t++) rc = cm_stage_reader_walk(reader, task->source, (int)t, verify_each, vs, err);
    cm_stage_reader_free(reader);
    for (size_t i = 0; i < g->nk; i++) {
        if (same[i] == i) continue;
        vs->sets[i] = vs->sets[same[i]];
        vs->n[i] = vs->n[same[i]];
        if (vs->fsets) {
            vs->fsets[i] = vs->fsets[same[i]];
            vs->fn[i] = vs->fn[same[i]];
        }
    }
    free(same);
    return rc;
}

/* Joins the near pairs whose similarity reaches the threshold: with digits
 * as written (dedup:minhash), or only folded (dedup:folded); and measures
 * the folded exact pairs' Jaccard with digits as written. */
static void verify_and_join(graph *g)
{
    const cm_dedup_options *o = g->o;
    size_t n_perm = (size_t)o->params.bands * (size_t)o->params.rows;
    for (size_t e = 0; e < g->n_edges; e++)
        if (cm_dedup_sim_kind(g->edges[e].sim) == CM_DUP_FOLDED)
            g->edges[e].sim = cm_dedup_sim_pack(CM_DUP_FOLDED, 0, set_jaccard(&g->vs, g->edges[e].a, g->edges[e].b, 0), 1);
    for (size_t i = 0; i < g->todo.n; i++) {
        size_t a = (size_t)g->todo.p[i].hash, b = (size_t)g->todo.p[i].doc;
        if (find_root(g->parent, a) == find_root(g->parent, b)) continue;
        int prev_pair = is_previous(g, a) || is_previous(g, b);
        if (o->verify == CM_VERIFY_OFF) {
            join(g, a, b, cm_dedup_sim_pack(CM_DUP_MINHASH, 0, -1, -1));
            continue;
        }
        if (g->vs.sets && !prev_pair) {
            double j = set_jaccard(&g->vs, a, b, 0), jf = set_jaccard(&g->vs, a, b, 1);
            if (j >= o->threshold) join(g, a, b, cm_dedup_sim_pack(CM_DUP_MINHASH, 0, j, jf));
            else if (jf >= o->threshold) join(g, a, b, cm_dedup_sim_pack(CM_DUP_FOLDED, 0, j, jf));
            else g->rejected_pairs++;
            continue;
        }
        /* the signatures' estimate (with the configured folding) */
        double sim = g->sigs && g->have_sig[a] && g->have_sig[b]
                         ? cm_minhash_similarity(g->sigs + a * n_perm, g->sigs + b * n_perm, n_perm)
                         : 0;
        if (sim >= o->threshold) join(g, a, b, cm_dedup_sim_pack(CM_DUP_MINHASH, 1, sim, -1));
        else g->rejected_pairs++;
    }
}

/* For each removed node: the node it was verified against (its neighbour on
 * the way to its cluster's representative, in the tree of accepted pairs)
 * and that pair's packed similarity. A breadth-first walk from every root. */
static void find_vias(const graph *g, size_t *via, uint64_t *sim)
{
    size_t nk = g->nk;
    size_t *start = cm_calloc(nk + 1, sizeof *start), *adj = cm_malloc((2 * g->n_edges + 1) * sizeof *adj);
    for (size_t e = 0; e < g->n_edges; e++) { start[g->edges[e].a + 1]++; start[g->edges[e].b + 1]++; }
    for (size_t i = 0; i < nk; i++) start[i + 1] += start[i];
    size_t *fill = cm_malloc((nk ? nk : 1) * sizeof *fill);
    memcpy(fill, start, (nk ? nk : 1) * sizeof *fill);
    for (size_t e = 0; e < g->n_edges; e++) {
        adj[fill[g->edges[e].a]++] = e;
        adj[fill[g->edges[e].b]++] = e;
    }
    size_t *queue = cm_malloc((nk ? nk : 1) * sizeof *queue);
    for (size_t i = 0; i < nk; i++) via[i] = (size_t)-1;
    for (size_t r = 0; r < nk; r++) {
        if (find_root(g->parent, r) != r) continue;
        size_t head = 0, tail = 0;
        queue[tail++] = r;
        via[r] = r;
        while (head < tail) {
            size_t x = queue[head++];
            for (size_t k = start[x]; k < start[x + 1]; k++) {
                const edge *e = &g->edges[adj[k]];
                size_t y = e->a == x ? e->b : e->a;
                if (via[y] != (size_t)-1) continue;
                via[y] = x;
                sim[y] = e->sim;
                queue[tail++] = y;
            }
        }
    }
    free(start);
    free(adj);
    free(fill);
    free(queue);
}

/* Removal lists per signatures task (a document's task: its file index mod
 * tasks), sorted by document: the kept copy, the document verified against,
 * the kind and Jaccard; the ids they point to; minhash/clusters.json. */
static int write_removals(const cm_config *cfg, graph *g, size_t tasks, cm_task_stats *st, cm_err *err)
{
    const char *out = cfg->output.dir;
    cm_dedup_pairs *rm = cm_calloc(3 * (tasks ? tasks : 1), sizeof *rm), *vias = rm + tasks, *sims = rm + 2 * tasks;
    size_t *via = cm_malloc((g->nk ? g->nk : 1) * sizeof *via);
    uint64_t *sim = cm_calloc(g->nk ? g->nk : 1, sizeof *sim), removed = 0, clusters = 0;
    find_vias(g, via, sim);
    for (size_t i = 0; i < g->nk; i++) {
        size_t r = find_root(g->parent, i);
        if (r == i) { clusters++; continue; }
        uint64_t key = ORDER(g->keys[i]);
        if (key & PREV_FLAG) continue; /* an earlier run's document is never touched */
        removed++;
        if (!tasks) continue;
        size_t t = (size_t)(KEY_FILE(key) % tasks);
        cm_dedup_add_pair(&rm[t], key, ORDER(g->keys[r]));
        cm_dedup_add_pair(&vias[t], key, ORDER(g->keys[via[i]]));
        cm_dedup_add_pair(&sims[t], key, sim[i]);
    }
    char dir[CM_PATH_MAX], path[CM_PATH_MAX + 32];
    snprintf(dir, sizeof dir, "%s/minhash/remove", out);
    int rc = cm_mkdirs(dir, err);
    static const char *const files[] = {"%s/%05zu.bin", "%s/%05zu.via.bin", "%s/%05zu.sim.bin"};
    for (size_t t = 0; t < tasks && rc == 0; t++)
        for (int f = 0; f < 3 && rc == 0; f++) {
            snprintf(path, sizeof path, files[f], dir, t);
            rc = cm_sigfile_write(path, &g->o->params, f, rm[t + (size_t)f * tasks].p, rm[t + (size_t)f * tasks].n, err);
        }
    for (size_t t = 0; t < tasks && rc == 0; t++) rc = write_rep_ids(cfg, g->o, &rm[t], &vias[t], t, err);
    if (rc == 0) {
        char js[768];
        int l = snprintf(js, sizeof js,
                         "{\"candidate_pairs\": %zu, \"exact_pairs\": %zu, \"pairs_failing_verification\": %llu, "
                         "\"documents_in_clusters\": %zu, \"clusters\": %llu, \"removed\": %llu, "
                         "\"joined\": {\"exact\": %llu, \"simplified\": %llu, \"minhash\": %llu, \"folded\": %llu}, "
                         "\"fold_digits\": %s}\n",
                         g->mh.n, g->ex.n, (unsigned long long)g->rejected_pairs, g->nk, (unsigned long long)clusters,
                         (unsigned long long)removed, (unsigned long long)g->by_kind[CM_DUP_EXACT],
                         (unsigned long long)g->by_kind[CM_DUP_SIMPLIFIED], (unsigned long long)g->by_kind[CM_DUP_MINHASH],
                         (unsigned long long)g->by_kind[CM_DUP_FOLDED], g->o->params.fold_digits ? "true" : "false");
        snprintf(path, sizeof path, "%s/minhash/clusters.json", out);
        rc = cm_write_file_atomic(path, js, (size_t)l, err);
    }
    st->counts.read = g->nk;
    st->counts.kept = g->nk - removed;
    for (size_t t = 0; t < 3 * tasks; t++) free(rm[t].p);
    free(rm);
    free(via);
    free(sim);
    return rc;
}

static void free_graph(graph *g)
{
    free(g->mh.p);
    free(g->ex.p);
    free(g->keys);
    free(g->parent);
    free(g->in_exact);
    free(g->h_text);
    free(g->h_simpl);
    free(g->edges);
    free(g->todo.p);
    free(g->need);
    free(g->sigs);
    free(g->have_sig);
    arena_free(&g->vs.arena);
    free(g->vs.read);
    free((void *)g->vs.sets);
    free((void *)g->vs.fsets);
    free(g->vs.n);
    free(g->vs.fn);
    cm_minhasher_free(g->vs.mh);
    cm_minhasher_free(g->vs.fmh);
}

int cm_dedup_clusters(const cm_stage_task *task, cm_task_stats *st, cm_err *err)
{
    const cm_config *cfg = task->cfg;
    graph g;
    memset(&g, 0, sizeof g);
    g.o = task->opts;
    cm_progress prog;
    cm_progress_init(&prog, cfg->run.progress, cfg->run.progress_fd, "dedup clusters");
    cm_progress_phase(&prog, "pairs");
    cm_progress_update(&prog, 0, 0, 0, 1, 0);
    int rc = read_all_pairs(cfg->output.dir, &g, err);
    if (rc == 0) build_graph(&g);
    if (rc == 0) rc = load_text_hashes(cfg->output.dir, &g, err);
    if (rc == 0) join_exact(&g);
    /* the signatures task count: one signatures file each */
    size_t tasks = 0;
    char dir[CM_PATH_MAX];
    snprintf(dir, sizeof dir, "%s/minhash/sigs", cfg->output.dir);
    char **sigfiles = cm_list_dir(dir, "", &tasks);
    /* signatures: for verify: signature, and for pairs with an earlier run's
     * document (its text is not at hand) */
    int any_prev = 0;
    for (size_t i = 0; i < g.todo.n; i++)
        any_prev |= is_previous(&g, (size_t)g.todo.p[i].hash) || is_previous(&g, (size_t)g.todo.p[i].doc);
    if (rc == 0 && g.todo.n && g.o->verify != CM_VERIFY_OFF && (g.o->verify == CM_VERIFY_SIGNATURE || any_prev))
        rc = load_signatures(&g, sigfiles, tasks, err);
    int need_any = 0;
    for (size_t i = 0; i < g.nk && !need_any; i++) need_any = g.need[i];
    if (rc == 0 && need_any && g.o->verify == CM_VERIFY_EXACT) rc = load_shingles(&g, task, tasks, err);
    cm_progress_phase(&prog, "clusters");
    cm_progress_update(&prog, g.nk, 0, 0, 1, 0);
    if (rc == 0) verify_and_join(&g);
    cm_progress_phase(&prog, "removals");
    cm_progress_update(&prog, g.nk, 0, 0, 1, 0);
    if (rc == 0) rc = write_removals(cfg, &g, tasks, st, err);
    cm_progress_update(&prog, g.nk, 0, 1, 1, 1);
    cm_progress_end(&prog);
    cm_free_list(sigfiles, tasks);
    free_graph(&g);
    return rc;
}
