/* rag_update.c -- a RAG export changed in place of a rebuild (see
 * rag_update.h): the next generation of its files written beside the
 * current one, then the manifest switched to them. */
#define _GNU_SOURCE
#include "rag_update.h"

#include <errno.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <faiss/c_api/Index_c.h>
#include <faiss/c_api/MetaIndexes_c.h>
#include <faiss/c_api/impl/AuxIndexStructures_c.h>
#include <faiss/c_api/index_factory_c.h>
#include <faiss/c_api/index_io_c.h>

#include "../embed/embed_stage.h"
#include "../pipeline/json.h"
#include "../pipeline/layout.h"
#include "../pipeline/stage_reader.h"
#include "../pipeline/writer.h"
#include "bm25_index.h"
#include "rag_format.h"
#include "rag_internal.h"

/* ---- the export as it is ---- */

typedef struct export_state {
    const char *dir;
    long generation;
    char model[4096], factory[256], params[64];
    double dim, next_file, tombstones;
    int fts5, has_next_file;
    char names[4][64]; /* index, chunks, bm25, tombstones of the generation */
} export_state;

enum { F_INDEX, F_CHUNKS, F_BM25, F_TOMB };

static void names_of(long generation, char names[4][64])
{
    cm_rag_file("index", "faiss", generation, names[F_INDEX], 64);
    cm_rag_file("chunks", "sqlite", generation, names[F_CHUNKS], 64);
    cm_rag_file("bm25", "idx", generation, names[F_BM25], 64);
    cm_rag_file("tombstones", "ids", generation, names[F_TOMB], 64);
}

static void path_of(const export_state *e, const char *name, char *path, size_t cap)
{
    snprintf(path, cap, "%s/%s", e->dir, name);
}

static int read_state(const char *dir, export_state *e, cm_err *err)
{
    memset(e, 0, sizeof *e);
    e->dir = dir;
    char path[4400];
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    double generation = 0;
    cm_json_field f[] = {{"generation", CM_JSON_NUMBER, &generation, 0, NULL},
                         {"model", CM_JSON_STRING, e->model, sizeof e->model, NULL},
                         {"dim", CM_JSON_NUMBER, &e->dim, 0, NULL},
                         {"index.factory", CM_JSON_STRING, e->factory, sizeof e->factory, NULL},
                         {"index.search_parameters", CM_JSON_STRING, e->params, sizeof e->params, NULL},
                         {"bm25.fts5", CM_JSON_BOOL, &e->fts5, 0, NULL},
                         {"next_file", CM_JSON_NUMBER, &e->next_file, 0, &e->has_next_file},
                         {"tombstones", CM_JSON_NUMBER, &e->tombstones, 0, NULL},
                         {NULL, 0, NULL, 0, NULL}};
    cm_err je;
    if (cm_json_file_fields(path, f, NULL, &je)) return cm_usagef(err, "%s (not a RAG export?)", je.msg);
    if (!e->model[0] || !(e->dim > 0)) return cm_usagef(err, "%s: no model or dim (not a RAG export?)", path);
    if (e->fts5) return cm_usagef(err, "%s: an export with an FTS5 table (index.fts5) is not updated: rebuild it", dir);
    if (!(generation >= 0 && generation < 1e9)) return cm_usagef(err, "%s: generation %g is not a count", path, generation);
    e->generation = (long)generation;
    names_of(e->generation, e->names);
    snprintf(path, sizeof path, "%s/%s", dir, e->names[F_BM25]);
    if (!cm_path_exists(path)) return cm_usagef(err, "%s is missing (an export of an older corpusmill: rebuild it)", path);
    return 0;
}

/* ---- files ---- */

static int copy_file(const char *from, const char *to, cm_err *err)
{
    FILE *in = fopen(from, "rb"), *out = in ? fopen(to, "wb") : NULL;
    if (!in || !out) {
        int e = errno;
        if (in) fclose(in);
        return cm_errorf(err, "%s: %s", in ? to : from, strerror(e));
    }
    static const size_t CHUNK = 1 << 20;
    char *buf = cm_malloc(CHUNK);
    size_t n;
    int rc = 0;
    while ((n = fread(buf, 1, CHUNK, in)) > 0)
        if (fwrite(buf, 1, n, out) != n) { rc = cm_errorf(err, "%s: %s", to, strerror(errno)); break; }
    if (rc == 0 && ferror(in)) rc = cm_errorf(err, "%s: read error", from);
    free(buf);
    fclose(in);
    if (fclose(out) && rc == 0) rc = cm_errorf(err, "%s: %s", to, strerror(errno));
    return rc;
}

/* The same bytes under a new name: a hard link, or a copy where links fail. */
static int link_or_copy(const char *from, const char *to, cm_err *err)
{
    unlink(to);
    return link(from, to) == 0 ? 0 : copy_file(from, to, err);
}

static int by_id(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int read_tombstones(const export_state *e, int64_t **ids, size_t *n, cm_err *err)
{
    *ids = NULL;
    *n = 0;
    if (!(e->tombstones > 0)) return 0;
    char path[4400];
    path_of(e, e->names[F_TOMB], path, sizeof path);
    cm_buf b;
    cm_buf_init(&b);
    if (cm_read_file(path, &b, (size_t)1 << 32, err)) return -1;
    *n = b.len / sizeof(int64_t);
    *ids = cm_malloc((*n ? *n : 1) * sizeof **ids);
    memcpy(*ids, b.data, *n * sizeof **ids);
    cm_buf_free(&b);
    return *n == (size_t)e->tombstones ? 0 : cm_errorf(err, "%s: %zu ids, the manifest says %g", path, *n, e->tombstones);
}

static int write_ids(const char *path, const int64_t *ids, size_t n, cm_err *err)
{
    return cm_write_file_atomic(path, ids, n * sizeof *ids, err);
}

/* ---- the chunk store ---- */

typedef struct id_list {
    int64_t *v;
    size_t n, cap;
} id_list;

static void id_push(id_list *l, int64_t id)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 256;
        l->v = cm_realloc(l->v, l->cap * sizeof *l->v);
    }
    l->v[l->n++] = id;
}

typedef struct doc_walk {
    char **ids;
    size_t n;
} doc_walk;

/* The document ids of the new chunks (each once: chunks of one document follow each other). */
static int collect_doc(void *user, const char *line, size_t len, const cm_json_record *rec, cm_err *err)
{
    (void)len;
    doc_walk *w = user;
    long i = cm_json_find(rec, "doc_id", NULL);
    if (i < 0) return cm_errorf(err, "a chunk record without doc_id");
    const cm_json_member *m = &rec->members[i];
    char *id = m->type == CM_JSON_STRING ? cm_strndup(cm_json_str(rec, m), m->str_len)
                                          : cm_strndup(line + m->value_start, m->value_end - m->value_start);
    if (w->n && !strcmp(w->ids[w->n - 1], id)) {
        free(id);
        return 0;
    }
    w->ids = cm_realloc(w->ids, (w->n + 1) * sizeof *w->ids);
    w->ids[w->n++] = id;
    return 0;
}

static int new_documents(const char *work_out, doc_walk *w, cm_err *err)
{
    char dir[4300];
    snprintf(dir, sizeof dir, "%s/chunks", work_out);
    size_t n;
    char **files = cm_list_dir(dir, "part-", &n);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) rc = cm_walk_json_lines(files[i], collect_doc, w, err);
    cm_free_list(files, n);
    return rc;
}

/* Deletes the chunks of doc, their ids to removed; *found whether it had any. */
static int delete_document(sqlite3 *db, sqlite3_stmt *sel, sqlite3_stmt *del, const char *doc, id_list *removed,
                           int *found, cm_err *err)
{
    size_t before = removed->n;
    sqlite3_reset(sel);
    sqlite3_bind_text(sel, 1, doc, -1, SQLITE_STATIC);
    int s;
    while ((s = sqlite3_step(sel)) == SQLITE_ROW) id_push(removed, sqlite3_column_int64(sel, 0));
    if (s != SQLITE_DONE) return cm_sql_error(db, err, "find a document's chunks");
    sqlite3_reset(del);
    sqlite3_bind_text(del, 1, doc, -1, SQLITE_STATIC);
    if (sqlite3_step(del) != SQLITE_DONE) return cm_sql_error(db, err, "delete a document's chunks");
    *found = removed->n > before;
    return 0;
}

/* The BM25 index of every chunk of the store. */
static int build_bm25(sqlite3 *db, const char *path, cm_err *err)
{
    char prefix[4500];
    snprintf(prefix, sizeof prefix, "%s.build", path);
    cm_bm25_builder *b = cm_bm25_builder_create(prefix, (uint64_t)1 << 30);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "SELECT id, headings, text FROM chunks ORDER BY id", -1, &st, NULL) != SQLITE_OK
                 ? cm_sql_error(db, err, "read the chunks")
                 : 0;
    int s = SQLITE_DONE;
    while (rc == 0 && (s = sqlite3_step(st)) == SQLITE_ROW) {
        const char *heads = (const char *)sqlite3_column_text(st, 1);
        size_t hl = (size_t)sqlite3_column_bytes(st, 1);
        const char *text = (const char *)sqlite3_column_text(st, 2);
        size_t tl = (size_t)sqlite3_column_bytes(st, 2);
        rc = cm_bm25_builder_add(b, sqlite3_column_int64(st, 0), heads, hl, text ? text : "", tl, err);
    }
    if (rc == 0 && s != SQLITE_DONE) rc = cm_sql_error(db, err, "read the chunks");
    sqlite3_finalize(st);
    if (rc == 0) rc = cm_bm25_builder_finish(b, path, NULL, err);
    cm_bm25_builder_free(b);
    return rc;
}

/* ---- the manifest ---- */

/* Switches the manifest to generation g's files, then removes generation
 * g - 2's (g - 1 stays for readers that read the manifest before the switch). */
static int switch_generation(const export_state *e, long g, uint64_t chunks, uint64_t vectors, size_t tombstones,
                             double next_file, const cm_bm25_info *bi, cm_err *err)
{
    char names[4][64], path[4400], sha[4][65];
    names_of(g, names);
    int files = tombstones ? 4 : 3;
    for (int i = 0; i < files; i++) {
        path_of(e, names[i], path, sizeof path);
        if (cm_rag_sha256_file(path, sha[i], err)) return -1;
    }
    cm_buf fl, bm;
    cm_buf_init(&fl);
    cm_buf_init(&bm);
    cm_buf_append_char(&fl, '{');
    for (int i = 0; i < files; i++) cm_buf_appendf(&fl, "%s\"%s\": {\"sha256\": \"%s\"}", i ? ", " : "", names[i], sha[i]);
    cm_buf_append_char(&fl, '}');
    cm_rag_bm25_manifest(bi, 0, &bm);
    char gen[32], ch[32], vec[32], tomb[32], nf[32];
    snprintf(gen, sizeof gen, "%ld", g);
    snprintf(ch, sizeof ch, "%llu", (unsigned long long)chunks);
    snprintf(vec, sizeof vec, "%llu", (unsigned long long)vectors);
    snprintf(tomb, sizeof tomb, "%zu", tombstones);
    snprintf(nf, sizeof nf, "%.0f", next_file);
    static const char *const keys[] = {"generation", "chunks", "vectors", "tombstones", "next_file", "bm25", "files"};
    char *values[] = {gen, ch, vec, tomb, nf, bm.data, fl.data};
    int rc = cm_rag_manifest_set(e->dir, keys, (const char *const *)values, 7, err);
    cm_buf_free(&fl);
    cm_buf_free(&bm);
    if (rc == 0 && g >= 2) {
        char old[4][64];
        names_of(g - 2, old);
        for (int i = 0; i < 4; i++) {
            path_of(e, old[i], path, sizeof path);
            unlink(path);
        }
    }
    return rc;
}

/* ---- FAISS ---- */

/* Removes ids from idx, or (a kind that cannot: HNSW) adds them to the
 * tombstones. */
static int remove_vectors(FaissIndex *idx, const id_list *removed, id_list *tomb, cm_err *err)
{
    (void)err;
    if (!removed->n) return 0;
    FaissIDSelectorBatch *sel = NULL;
    size_t gone = 0;
    int ok = faiss_IDSelectorBatch_new(&sel, removed->n, removed->v) == 0 &&
             faiss_Index_remove_ids(idx, (FaissIDSelector *)sel, &gone) == 0;
    if (sel) faiss_IDSelector_free((FaissIDSelector *)sel);
    if (!ok)
        for (size_t i = 0; i < removed->n; i++) id_push(tomb, removed->v[i]);
    return 0;
}

/* Adds the work folder's vectors under their ids plus id_base; *files gets
 * how many input files their ids number (the next update starts past them). */
static int add_vectors(FaissIndex *idx, const char *work_out, long dim, int64_t id_base, uint64_t *added, double *files,
                       cm_err *err)
{
    float *vec;
    int64_t *ids;
    size_t n;
    if (cm_rag_load_vectors(work_out, dim, &vec, &ids, &n, err)) return -1;
    int64_t top = -1;
    for (size_t i = 0; i < n; i++) {
        if (ids[i] > top) top = ids[i];
        ids[i] += id_base;
    }
    *files = top < 0 ? 0 : (double)((top >> 47) + 1);
    int rc = n && faiss_Index_add_with_ids(idx, (idx_t)n, vec, ids) ? cm_faiss_error(err, "add the new vectors") : 0;
    free(vec);
    free(ids);
    *added = n;
    return rc;
}

static void sort_unique(id_list *l)
{
    if (!l->n) return;
    qsort(l->v, l->n, sizeof *l->v, by_id);
    size_t k = 1;
    for (size_t i = 1; i < l->n; i++)
        if (l->v[i] != l->v[k - 1]) l->v[k++] = l->v[i];
    l->n = k;
}

/* ---- update ---- */

/* The first input-file index past every chunk id of the store: new chunk
 * ids start there (embed numbers an update's files from 0). */
static int next_file_of(sqlite3 *db, const export_state *e, double *next, cm_err *err)
{
    if (e->has_next_file) {
        *next = e->next_file;
        return 0;
    }
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT max(id) FROM chunks", -1, &st, NULL) != SQLITE_OK) return cm_sql_error(db, err, "max id");
    int64_t max = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    *next = max < 0 ? 0 : (double)((max >> 47) + 1);
    return 0;
}

static int check_model(const export_state *e, const char *work_out, cm_err *err)
{
    cm_embed_manifest em;
    if (cm_embed_manifest_read(work_out, &em, err)) return -1;
    free(em.raw);
    char model[PATH_MAX];
    if (strcmp(em.model, "hash") && realpath(em.model, model)) snprintf(em.model, sizeof em.model, "%s", model);
    if (strcmp(em.model, e->model) || em.dim != (long)e->dim)
        return cm_usagef(err, "the update was embedded with %s (dim %ld), the export with %s (dim %.0f): use the export's recipe",
                         em.model, em.dim, e->model, e->dim);
    return 0;
}

/* Whether embed wrote any chunk (the clean filters may have removed every new document). */
static int has_chunks(const char *work_out)
{
    char dir[4300];
    snprintf(dir, sizeof dir, "%s/chunks", work_out);
    size_t n;
    char **files = cm_list_dir(dir, "part-", &n);
    cm_free_list(files, n);
    return n > 0;
}

int cm_rag_update(const char *rag_dir, const char *work_out, const char *const *delete_ids, size_t n_delete,
                  cm_rag_update_stats *st, cm_err *err)
{
    memset(st, 0, sizeof *st);
    double t0 = cm_now();
    export_state e;
    if (read_state(rag_dir, &e, err)) return -1;
    if (work_out && check_model(&e, work_out, err)) return -1;
    if (work_out && !has_chunks(work_out)) work_out = NULL;
    long g = e.generation + 1;
    char names[4][64], old_path[4400], path[4400], tmp[4500];
    names_of(g, names);

    /* the chunk store: a copy, changed in one transaction */
    path_of(&e, e.names[F_CHUNKS], old_path, sizeof old_path);
    path_of(&e, names[F_CHUNKS], path, sizeof path);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    if (copy_file(old_path, tmp, err)) return -1;
    sqlite3 *db = NULL;
    sqlite3_stmt *sel = NULL, *del = NULL;
    id_list removed = {0}, tomb = {0};
    doc_walk docs = {NULL, 0};
    double next_file = 0;
    int rc = 0;
    if (sqlite3_open(tmp, &db) != SQLITE_OK ||
        sqlite3_exec(db, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "SELECT id FROM chunks WHERE doc_id = ?1", -1, &sel, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "DELETE FROM chunks WHERE doc_id = ?1", -1, &del, NULL) != SQLITE_OK)
        rc = cm_sql_error(db, err, tmp);
    if (rc == 0) rc = next_file_of(db, &e, &next_file, err);
    if (rc == 0 && work_out) rc = new_documents(work_out, &docs, err);
    for (size_t i = 0; i < n_delete && rc == 0; i++) {
        int found;
        rc = delete_document(db, sel, del, delete_ids[i], &removed, &found, err);
        st->documents_deleted += (uint64_t)found;
        st->missing += !found;
    }
    for (size_t i = 0; i < docs.n && rc == 0; i++) { /* replaced */
        int found;
        rc = delete_document(db, sel, del, docs.ids[i], &removed, &found, err);
        st->documents_deleted += (uint64_t)found;
    }
    int64_t id_base = (int64_t)next_file << 47;
    uint64_t inserted = 0;
    if (rc == 0 && work_out) rc = cm_rag_insert_chunks(db, work_out, id_base, &inserted, err);
    if (rc == 0 && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) rc = cm_sql_error(db, err, "commit");
    st->chunks_deleted = removed.n;
    st->chunks_added = inserted;

    /* BM25 over the new store */
    char bpath[4400];
    path_of(&e, names[F_BM25], bpath, sizeof bpath);
    if (rc == 0) rc = build_bm25(db, bpath, err);
    sqlite3_stmt *count = NULL;
    if (rc == 0 && sqlite3_prepare_v2(db, "SELECT count(*) FROM chunks", -1, &count, NULL) == SQLITE_OK &&
        sqlite3_step(count) == SQLITE_ROW)
        st->chunks = (uint64_t)sqlite3_column_int64(count, 0);
    sqlite3_finalize(count);
    sqlite3_finalize(sel);
    sqlite3_finalize(del);
    if (sqlite3_close(db) != SQLITE_OK && rc == 0) rc = cm_errorf(err, "%s: cannot close", tmp);
    if (rc == 0 && rename(tmp, path)) rc = cm_errorf(err, "cannot rename '%s': %s", tmp, strerror(errno));

    /* FAISS: removed, added */
    FaissIndex *idx = NULL;
    path_of(&e, e.names[F_INDEX], old_path, sizeof old_path);
    if (rc == 0 && faiss_read_index_fname(old_path, 0, &idx)) rc = cm_faiss_error(err, old_path);
    size_t old_n = 0;
    int64_t *old_tomb = NULL;
    if (rc == 0) rc = read_tombstones(&e, &old_tomb, &old_n, err);
    for (size_t i = 0; i < old_n; i++) id_push(&tomb, old_tomb[i]);
    free(old_tomb);
    if (rc == 0) rc = remove_vectors(idx, &removed, &tomb, err);
    uint64_t added = 0;
    double files = 0;
    if (rc == 0 && work_out) rc = add_vectors(idx, work_out, (long)e.dim, id_base, &added, &files, err);
    if (rc == 0 && added != inserted)
        rc = cm_errorf(err, "%s: %llu vectors for %llu chunks: embed's outputs disagree", work_out,
                       (unsigned long long)added, (unsigned long long)inserted);
    path_of(&e, names[F_INDEX], path, sizeof path);
    if (rc == 0) rc = cm_rag_write_faiss(idx, path, err);
    uint64_t vectors = idx ? (uint64_t)faiss_Index_ntotal(idx) : 0;
    if (idx) faiss_Index_free(idx);
    sort_unique(&tomb);
    path_of(&e, names[F_TOMB], path, sizeof path);
    if (rc == 0 && tomb.n) rc = write_ids(path, tomb.v, tomb.n, err);
    if (rc == 0 && vectors - tomb.n != st->chunks)
        rc = cm_errorf(err, "%llu vectors (%zu deleted) for %llu chunks after the update", (unsigned long long)vectors,
                       tomb.n, (unsigned long long)st->chunks);

    cm_bm25_info bi;
    if (rc == 0) rc = cm_rag_bm25_info(bpath, &bi, err);
    if (rc == 0) rc = switch_generation(&e, g, st->chunks, vectors, tomb.n, next_file + files, &bi, err);
    st->generation = rc == 0 ? g : e.generation;
    st->tombstones = tomb.n;
    st->seconds = cm_now() - t0;
    for (size_t i = 0; i < docs.n; i++) free(docs.ids[i]);
    free(docs.ids);
    free(removed.v);
    free(tomb.v);
    if (rc) { /* the failed generation's files: the manifest still names the old ones */
        for (int i = 0; i < 4; i++) {
            path_of(&e, names[i], path, sizeof path);
            unlink(path);
        }
        unlink(tmp);
    }
    return rc;
}

/* ---- compact ---- */

int cm_rag_compact(const char *rag_dir, cm_rag_update_stats *st, cm_err *err)
{
    memset(st, 0, sizeof *st);
    double t0 = cm_now();
    export_state e;
    if (read_state(rag_dir, &e, err)) return -1;
    st->generation = e.generation;
    int64_t *dead;
    size_t n_dead;
    if (read_tombstones(&e, &dead, &n_dead, err)) return -1;
    if (!n_dead) {
        free(dead);
        return 0;
    }
    char path[4400], names[4][64];
    path_of(&e, e.names[F_INDEX], path, sizeof path);
    FaissIndex *old = NULL, *idx = NULL;
    if (faiss_read_index_fname(path, 0, &old)) { free(dead); return cm_faiss_error(err, path); }
    FaissIndexIDMap *map = faiss_IndexIDMap_cast(old);
    int rc = 0;
    if (!map) rc = cm_errorf(err, "%s: tombstones in an index that is not an IDMap", path);
    long dim = (long)e.dim;
    idx_t *id_map = NULL;
    size_t n = 0;
    if (rc == 0) faiss_IndexIDMap_id_map(map, &id_map, &n);
    FaissIndex *sub = rc == 0 ? faiss_IndexIDMap_sub_index(map) : NULL;
    float *vec = cm_malloc((n ? n : 1) * (size_t)dim * sizeof *vec);
    idx_t *keep = cm_malloc((n ? n : 1) * sizeof *keep);
    size_t k = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        int64_t id = id_map[i];
        if (bsearch(&id, dead, n_dead, sizeof id, by_id)) continue;
        if (faiss_Index_reconstruct(sub, (idx_t)i, vec + k * (size_t)dim)) rc = cm_faiss_error(err, "reconstruct a vector");
        keep[k++] = id;
    }
    /* a graph of the living vectors, as the export's factory builds it */
    if (rc == 0 && faiss_index_factory(&idx, (int)dim, e.factory, METRIC_INNER_PRODUCT)) rc = cm_faiss_error(err, e.factory);
    if (rc == 0 && e.params[0]) rc = cm_rag_set_params(idx, e.params, err);
    if (rc == 0 && k && faiss_Index_add_with_ids(idx, (idx_t)k, vec, keep)) rc = cm_faiss_error(err, "add");
    long g = e.generation + 1;
    names_of(g, names);
    char to[4400];
    path_of(&e, names[F_INDEX], to, sizeof to);
    if (rc == 0) rc = cm_rag_write_faiss(idx, to, err);
    char from[4400];
    for (int f = F_CHUNKS; f <= F_BM25 && rc == 0; f++) {
        path_of(&e, e.names[f], from, sizeof from);
        path_of(&e, names[f], to, sizeof to);
        rc = link_or_copy(from, to, err);
    }
    cm_bm25_info bi;
    path_of(&e, names[F_BM25], to, sizeof to);
    if (rc == 0) rc = cm_rag_bm25_info(to, &bi, err);
    if (rc == 0) rc = switch_generation(&e, g, bi.docs, k, 0, e.next_file, &bi, err);
    if (rc == 0) {
        st->generation = g;
        st->chunks = bi.docs;
        st->chunks_deleted = n_dead;
    }
    st->seconds = cm_now() - t0;
    free(vec);
    free(keep);
    free(dead);
    if (idx) faiss_Index_free(idx);
    faiss_Index_free(old);
    return rc;
}
