/* embed_stage.c -- the embed stage (see embed_stage.h): documents ->
 * chunks -> vectors, a window of chunks at a time (a BERT model groups a
 * window's chunks by length before batching them). */
#define _GNU_SOURCE
#include "embed_stage.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "../pipeline/clean.h"
#include "../pipeline/json.h"
#include "../pipeline/progress.h"
#include "../pipeline/stage.h"
#include "../pipeline/stage_reader.h"
#include "../pipeline/writer.h"
#include "chunker.h"
#include "embedder.h"
#include "npy.h"

#define WINDOW 1024              /* chunks embedded together */
#define HASH_CHUNK_CHARS 900     /* HuixiangDou's chunk size */
#define CHUNK_ORDINAL_LIMIT (1LL << 47)

const char *cm_embed_input_stage(const cm_config *cfg) { return cfg->dedup.enabled ? "dedup" : "clean"; }

/* One embeddings part: the vectors and their chunk ids, written under
 * temporary names and renamed together when complete. */
typedef struct npy_part {
    cm_npy_writer *vec, *ids;
    char vec_path[4300], ids_path[4300];
    size_t rows;
    int seq;
} npy_part;

typedef struct embed_state {
    const cm_config *cfg;
    cm_task_stats *st;
    cm_embedder *model;
    cm_chunker *chunker;
    const cm_input_list *inputs;
    int task;
    size_t dim, max_units;
    /* chunk records */
    cm_part_writer chunk_parts;
    ZSTD_CCtx *cctx;
    cm_buf json, z;
    /* the window */
    cm_buf texts;
    size_t offsets[WINDOW + 1];
    int64_t ids[WINDOW];
    size_t n;
    float *vectors;
    npy_part part;
    char dir[4200];
    /* ids */
    long last_file;
    int64_t ordinal;
    uint64_t chunks, units;
    cm_progress progress;
    cm_err err;
} embed_state;

static size_t model_length(void *user, const char *text, size_t len)
{
    return cm_embedder_length(user, text, len);
}

static int part_open(embed_state *s, cm_err *err)
{
    npy_part *p = &s->part;
    char tmp[4400];
    snprintf(p->vec_path, sizeof p->vec_path, "%s/part-%05d-%04d.npy", s->dir, s->task, p->seq);
    snprintf(p->ids_path, sizeof p->ids_path, "%s/part-%05d-%04d.ids.npy", s->dir, s->task, p->seq);
    snprintf(tmp, sizeof tmp, "%s.tmp", p->vec_path);
    if (!(p->vec = cm_npy_create(tmp, CM_NPY_F32, s->dim, err))) return -1;
    snprintf(tmp, sizeof tmp, "%s.tmp", p->ids_path);
    if (!(p->ids = cm_npy_create(tmp, CM_NPY_I64, 0, err))) return -1;
    p->rows = 0;
    return 0;
}

static int part_close(embed_state *s, cm_err *err)
{
    npy_part *p = &s->part;
    if (!p->vec) return 0;
    int rc = cm_npy_close(p->vec, err);
    rc |= cm_npy_close(p->ids, rc ? NULL : err);
    p->vec = p->ids = NULL;
    if (rc) return -1;
    const char *finals[2] = {p->vec_path, p->ids_path};
    for (int i = 0; i < 2; i++) {
        char tmp[4400];
        snprintf(tmp, sizeof tmp, "%s.tmp", finals[i]);
        if (rename(tmp, finals[i])) return cm_errorf(err, "cannot rename '%s': %s", tmp, strerror(errno));
    }
    s->st->parts++;
    p->seq++;
    return 0;
}

/* Embeds the window and appends its rows. */
static int flush_window(embed_state *s, cm_err *err)
{
    if (!s->n) return 0;
    const char *texts[WINDOW];
    size_t lens[WINDOW];
    for (size_t i = 0; i < s->n; i++) {
        texts[i] = s->texts.data + s->offsets[i];
        lens[i] = s->offsets[i + 1] - s->offsets[i];
    }
    if (cm_embedder_embed(s->model, texts, lens, s->n, 0, s->vectors, err)) return -1;
    for (size_t i = 0; i < s->n;) {
        if (!s->part.vec && part_open(s, err)) return -1;
        size_t room = (size_t)s->cfg->embed.part_rows - s->part.rows, take = s->n - i < room ? s->n - i : room;
        if (cm_npy_append(s->part.vec, s->vectors + i * s->dim, take, err) ||
            cm_npy_append(s->part.ids, s->ids + i, take, err))
            return -1;
        s->part.rows += take;
        i += take;
        if (s->part.rows == (size_t)s->cfg->embed.part_rows && part_close(s, err)) return -1;
    }
    cm_reasons_add(&s->st->outputs, "vectors", s->n);
    s->n = 0;
    cm_buf_clear(&s->texts);
    return 0;
}

static void append_headings(cm_buf *b, const char *text, const cm_chunk *k)
{
    cm_buf_append_str(b, ",\"headings\":[");
    for (int d = 0; d < k->depth; d++) {
        if (d) cm_buf_append_char(b, ',');
        cm_buf_append_json_bytes(b, text + k->heading[d].begin, k->heading[d].end - k->heading[d].begin);
    }
    cm_buf_append_char(b, ']');
}

static int visit_language(void *user, const char *const *path, int depth, cm_json_type type, double num,
                          const char *str, size_t len)
{
    (void)num;
    if (depth == 1 && type == CM_JSON_STRING && !strcmp(path[0], "language")) {
        snprintf(user, 16, "%.*s", (int)(len < 15 ? len : 15), str);
        return 1;
    }
    return 0;
}

static int embed_each(void *user, const cm_stage_record *r, cm_err *err)
{
    embed_state *s = user;
    s->st->counts.read++;
    s->st->counts.bytes_in += r->line_len;
    if (r->text_len > s->cfg->embed.max_document_bytes) { /* bounded work and memory per document */
        cm_reasons_add(&s->st->counts.removed, "embed:too_long", 1);
        return 0;
    }
    const cm_chunk *ks;
    size_t n = cm_chunker_split(s->chunker, r->text, r->text_len, &ks);
    if (!n) {
        cm_reasons_add(&s->st->counts.removed, "embed:empty", 1);
        return 0;
    }
    s->st->counts.kept++;
    long file = (long)CM_DOC_FILE(r->key);
    if (file != s->last_file) { s->last_file = file; s->ordinal = 0; }
    /* the document's language (clean's language step), for the chunk's metadata */
    char lang[16] = "";
    long li = cm_json_find(r->rec, "corpusmill", NULL);
    if (li >= 0)
        cm_json_visit(r->line + r->rec->members[li].value_start,
                      r->rec->members[li].value_end - r->rec->members[li].value_start, visit_language, lang, NULL);
    long ii = cm_json_find(r->rec, s->cfg->input.id_field, NULL);
    const char *doc_id = "null";
    size_t doc_id_len = 4;
    if (ii >= 0) {
        doc_id = r->line + r->rec->members[ii].value_start;
        doc_id_len = r->rec->members[ii].value_end - r->rec->members[ii].value_start;
    }
    for (size_t i = 0; i < n; i++) {
        const cm_chunk *k = &ks[i];
        if (s->ordinal >= CHUNK_ORDINAL_LIMIT)
            return cm_errorf(err, "%s: more than 2^47 chunks from one input file", s->inputs->files[file].path);
        int64_t id = CM_CHUNK_ID(file, s->ordinal++);
        size_t before = s->json.len;
        cm_buf_appendf(&s->json, "{\"chunk_id\":%lld,\"doc_id\":", (long long)id);
        cm_buf_append(&s->json, doc_id, doc_id_len);
        cm_buf_appendf(&s->json, ",\"doc_key\":%llu,\"source\":", (unsigned long long)r->key);
        cm_buf_append_json_bytes(&s->json, s->inputs->files[file].path, strlen(s->inputs->files[file].path));
        cm_buf_appendf(&s->json, ",\"index\":%zu,\"start\":%zu,\"end\":%zu,\"length\":%zu", i, k->char_begin,
                       k->char_end, k->units);
        append_headings(&s->json, r->text, k);
        if (lang[0]) {
            cm_buf_append_str(&s->json, ",\"language\":");
            cm_buf_append_json_bytes(&s->json, lang, strlen(lang));
        }
        cm_buf_append_str(&s->json, ",\"text\":");
        cm_buf_append_json_bytes(&s->json, r->text + k->bytes.begin, k->bytes.end - k->bytes.begin);
        cm_buf_append_str(&s->json, "}\n");
        s->st->counts.bytes_out += s->json.len - before;
        s->units += k->units;
        s->chunks++;
        s->offsets[s->n] = s->texts.len;
        cm_buf_append(&s->texts, r->text + k->bytes.begin, k->bytes.end - k->bytes.begin);
        s->ids[s->n++] = id;
        s->offsets[s->n] = s->texts.len;
        if (s->n == WINDOW && flush_window(s, err)) return -1;
    }
    if (cm_part_writer_flush_zstd(&s->chunk_parts, s->cctx, &s->json, &s->z, 4u << 20, err)) return -1;
    cm_progress_update(&s->progress, s->st->counts.read, s->st->counts.bytes_in, 0, 0, 0);
    return 0;
}

static void write_manifest(embed_state *s, const char *out)
{
    cm_buf b;
    cm_buf_init(&b);
    const char *model = s->cfg->embed.model;
    cm_buf_append_str(&b, "{\n  \"model\": ");
    cm_buf_append_json_bytes(&b, model, strlen(model));
    cm_buf_append_str(&b, ",\n  \"description\": ");
    const char *d = cm_embedder_describe(s->model);
    cm_buf_append_json_bytes(&b, d, strlen(d));
    cm_buf_appendf(&b,
                   ",\n  \"lexical\": %s,\n  \"dim\": %zu,\n  \"dtype\": \"float32\",\n  \"normalized\": true,\n"
                   "  \"chunk\": {\"unit\": \"%s\", \"max\": %zu, \"overlap\": %ld, \"markdown\": %s},\n"
                   "  \"chunk_id\": \"(input file index << 47) | chunk ordinal within the file\",\n"
                   "  \"files\": \"part-TTTTT-SSSS.npy rows are the chunks whose ids part-TTTTT-SSSS.ids.npy lists\"\n}\n",
                   cm_embedder_is_lexical(s->model) ? "true" : "false", s->dim, cm_embedder_unit(s->model),
                   s->max_units, s->cfg->embed.overlap, s->cfg->embed.markdown ? "true" : "false");
    char path[4300];
    snprintf(path, sizeof path, "%s/embeddings/manifest.json", out);
    cm_write_file_atomic(path, b.data, b.len, NULL);
    cm_buf_free(&b);
}

/* Opens the model and sizes the chunks. */
static int open_model(const cm_config *cfg, const cm_embed_opts *o, embed_state *s, cm_err *err)
{
    cm_embedder_opts eo;
    cm_embedder_opts_init(&eo);
    eo.hash_dim = (size_t)cfg->embed.dim;
    eo.threads = o->threads ? o->threads : cfg->embed.threads;
    eo.backend = cfg->embed.backend;
    eo.batch = (size_t)cfg->embed.batch;
    eo.query_prefix = cfg->embed.query_prefix;
    if (!(s->model = cm_embedder_open(cfg->embed.model, &eo, err))) return -1;
    s->dim = cm_embedder_dim(s->model);
    size_t cap = cm_embedder_capacity(s->model);
    s->max_units = cfg->embed.max_tokens ? (size_t)cfg->embed.max_tokens : cap ? cap : HASH_CHUNK_CHARS;
    if (cap && s->max_units > cap)
        return cm_errorf(err, "embed.chunk.max_tokens %zu is more than the model takes (%zu tokens)", s->max_units, cap);
    if ((size_t)cfg->embed.overlap >= s->max_units)
        return cm_errorf(err, "embed.chunk.overlap %ld must be smaller than the chunk size %zu", cfg->embed.overlap,
                         s->max_units);
    cm_chunker_opts co = {s->max_units, (size_t)cfg->embed.overlap, cfg->embed.markdown};
    s->chunker = cm_chunker_create(&co, model_length, s->model);
    return 0;
}

static int run_task(const cm_config *cfg, const cm_embed_opts *o, cm_task_stats *st, cm_err *err)
{
    const char *out = cfg->output.dir;
    embed_state s;
    memset(&s, 0, sizeof s);
    s.cfg = cfg;
    s.st = st;
    s.task = o->task;
    s.last_file = -1;
    if (open_model(cfg, o, &s, err)) {
        cm_embedder_free(s.model);
        return CM_EXIT_USAGE;
    }
    cm_stage_reader *reader = cm_stage_reader_create(cfg, err);
    if (!reader) {
        cm_chunker_free(s.chunker);
        cm_embedder_free(s.model);
        return CM_EXIT_USAGE;
    }
    s.inputs = cm_stage_reader_inputs(reader);
    char prefix[64], chunk_dir[4200];
    snprintf(prefix, sizeof prefix, "part-%05d", o->task);
    snprintf(chunk_dir, sizeof chunk_dir, "%s/chunks", out);
    snprintf(s.dir, sizeof s.dir, "%s/embeddings", out);
    int rc = 0;
    if (cm_mkdirs(chunk_dir, err) || cm_mkdirs(s.dir, err)) rc = -1;
    /* a task that runs again starts from nothing */
    cm_remove_prefixed(chunk_dir, prefix, NULL);
    cm_remove_prefixed(s.dir, prefix, NULL);
    cm_part_writer_init(&s.chunk_parts, chunk_dir, prefix, ".jsonl.zst", cfg->output.part_bytes);
    s.cctx = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(s.cctx, ZSTD_c_compressionLevel, cfg->output.zstd_level);
    s.vectors = cm_malloc((size_t)WINDOW * s.dim * sizeof *s.vectors);
    char label[64];
    snprintf(label, sizeof label, "embed %d/%d", o->task, o->tasks);
    cm_progress_init(&s.progress, o->progress, o->progress_fd, label);
    if (rc == 0) rc = cm_stage_reader_walk(reader, cm_embed_input_stage(cfg), o->task, embed_each, &s, err);
    if (rc == 0) rc = flush_window(&s, err);
    if (rc == 0) rc = part_close(&s, err);
    if (rc == 0) rc = cm_part_writer_flush_zstd(&s.chunk_parts, s.cctx, &s.json, &s.z, 0, err);
    if (rc == 0) rc = cm_part_writer_close(&s.chunk_parts, err);
    if (rc == 0) write_manifest(&s, out);
    cm_progress_update(&s.progress, st->counts.read, st->counts.bytes_in, 0, 0, 1);
    cm_progress_end(&s.progress);
    if (s.part.vec) { cm_npy_close(s.part.vec, NULL); cm_npy_close(s.part.ids, NULL); }
    if (rc) cm_part_writer_abort(&s.chunk_parts);
    cm_reasons_add(&st->outputs, "chunks", s.chunks);
    cm_reasons_add(&st->outputs, "chunk_units", s.units);
    cm_part_writer_free(&s.chunk_parts);
    ZSTD_freeCCtx(s.cctx);
    cm_buf_free(&s.json);
    cm_buf_free(&s.z);
    cm_buf_free(&s.texts);
    free(s.vectors);
    cm_chunker_free(s.chunker);
    cm_embedder_free(s.model);
    cm_stage_reader_free(reader);
    return rc ? CM_EXIT_FAILED : CM_EXIT_OK;
}

int cm_embed_task(const cm_config *cfg, const cm_embed_opts *o, cm_task_stats *st, int *already_done, cm_err *err)
{
    double t0 = cm_now();
    *already_done = 0;
    const char *out = cfg->output.dir, *input = cm_embed_input_stage(cfg);
    if (o->task < 0 || o->tasks < 1 || o->task >= o->tasks) return cm_errorf(err, "--task must be in [0, --tasks)"), CM_EXIT_USAGE;
    /* the task reads its own share of the previous stage, finished */
    int before = cm_stage_tasks(out, input);
    if (before == 0) return cm_errorf(err, "%s has no %s output to embed (run %s first)", out, input, input), CM_EXIT_USAGE;
    if (before != o->tasks)
        return cm_errorf(err, "%s ran in %d tasks; embed must use --tasks %d", input, before, before), CM_EXIT_USAGE;
    char path[4400];
    snprintf(path, sizeof path, "%s/_done/%s/%05d", out, input, o->task);
    if (!cm_path_exists(path))
        return cm_errorf(err, "%s task %d has not finished (no %s)", input, o->task, path), CM_EXIT_USAGE;
    char marker[4400];
    if (cm_stage_begin(cfg, "embed", o->task, o->tasks, o->force, marker, sizeof marker, already_done, err))
        return CM_EXIT_USAGE;
    if (*already_done) return CM_EXIT_OK;
    int rc = run_task(cfg, o, st, err);
    snprintf(st->stage, sizeof st->stage, "embed");
    st->task = o->task;
    st->tasks = o->tasks;
    st->threads = o->threads ? o->threads : cfg->embed.threads;
    st->seconds = cm_now() - t0;
    st->peak_rss_kb = cm_peak_rss_kb();
    if (rc != CM_EXIT_OK) return rc;
    return cm_stage_finish(cfg, "embed", st, marker, err) ? CM_EXIT_FAILED : CM_EXIT_OK;
}

/* ---- reading the manifest back (index, pretrain, decontaminate) ---- */

static int visit_emb(void *user, const char *const *path, int depth, cm_json_type type, double num, const char *str,
                     size_t len)
{
    cm_embed_manifest *m = user;
    if (depth == 1 && type == CM_JSON_STRING && !strcmp(path[0], "model"))
        snprintf(m->model, sizeof m->model, "%.*s", (int)len, str);
    else if (depth == 1 && type == CM_JSON_NUMBER && !strcmp(path[0], "dim")) m->dim = (long)num;
    else if (depth == 1 && type == CM_JSON_BOOL && !strcmp(path[0], "lexical")) m->lexical = num != 0;
    else if (depth == 2 && !strcmp(path[0], "chunk")) {
        if (type == CM_JSON_STRING && !strcmp(path[1], "unit")) snprintf(m->unit, sizeof m->unit, "%.*s", (int)len, str);
        else if (type == CM_JSON_NUMBER && !strcmp(path[1], "max")) m->max = (long)num;
        else if (type == CM_JSON_NUMBER && !strcmp(path[1], "overlap")) m->overlap = (long)num;
    }
    return 0;
}

int cm_embed_manifest_read(const char *out, cm_embed_manifest *m, cm_err *err)
{
    memset(m, 0, sizeof *m);
    char path[4300];
    snprintf(path, sizeof path, "%s/embeddings/manifest.json", out);
    cm_buf b;
    cm_buf_init(&b);
    cm_err e;
    if (cm_read_file(path, &b, 1 << 20, &e) || cm_json_visit(b.data, b.len, visit_emb, m, &e)) {
        cm_buf_free(&b);
        return cm_errorf(err, "%s: %s (run embed first)", path, e.msg);
    }
    if (m->dim < 1 || !m->model[0]) { cm_buf_free(&b); return cm_errorf(err, "%s: no model or dim", path); }
    while (b.len && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == ' ')) b.data[--b.len] = 0;
    m->raw = b.data; /* owned now */
    return 0;
}
