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

#include "../pipeline/json.h"
#include "../pipeline/layout.h"
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

/* ---- options: the `embed` section ---- */

static int embed_read(void *opts, const cm_conf *n, cm_err *err)
{
    static const char *const known[] = {"model", "dim", "backend", "threads", "batch", "query_prefix", "chunk",
                                        "part_rows", "max_document_size", NULL};
    static const char *const chunk_known[] = {"max_tokens", "overlap", "markdown", NULL};
    cm_embed_options *o = opts;
    if (!n) return 0;
    if (cm_conf_check_keys(n, "embed", known, err)) return -1;
    long threads = o->threads;
    const cm_conf *chunk = cm_conf_get(n, "chunk");
    if (cm_conf_string(n, "model", &o->model, err) || cm_conf_int(n, "dim", 1, 65536, &o->dim, err) ||
        cm_conf_string(n, "backend", &o->backend, err) || cm_conf_int(n, "threads", 0, 1024, &threads, err) ||
        cm_conf_int(n, "batch", 1, 4096, &o->batch, err) ||
        cm_conf_string(n, "query_prefix", &o->query_prefix, err) ||
        cm_conf_int(n, "part_rows", 1, 1L << 40, &o->part_rows, err) ||
        cm_conf_size(n, "max_document_size", &o->max_document_size, err) ||
        cm_conf_check_keys(chunk, "embed.chunk", chunk_known, err) ||
        cm_conf_int(chunk, "max_tokens", 0, 1L << 30, &o->max_tokens, err) ||
        cm_conf_int(chunk, "overlap", 0, 1L << 30, &o->overlap, err) ||
        cm_conf_bool(chunk, "markdown", &o->markdown, err))
        return -1;
    if (o->max_tokens && o->overlap >= o->max_tokens)
        return cm_conf_error(err, cm_conf_get(chunk, "overlap"), "overlap must be smaller than max_tokens");
    const cm_conf *qp = cm_conf_get(n, "query_prefix");
    if (qp && qp->plain && (!strcmp(qp->value, "null") || !strcmp(qp->value, "~"))) { /* the model's own */
        free(o->query_prefix);
        o->query_prefix = NULL;
    }
    o->threads = (int)threads;
    return 0;
}

static void embed_free(void *opts)
{
    cm_embed_options *o = opts;
    free(o->model);
    free(o->backend);
    free(o->query_prefix);
}

void cm_embed_embedder_opts(const cm_embed_options *o, int threads, cm_embedder_opts *eo)
{
    cm_embedder_opts_init(eo);
    eo->hash_dim = (size_t)o->dim;
    eo->threads = threads ? threads : o->threads;
    eo->backend = o->backend;
    eo->batch = (size_t)o->batch;
    eo->query_prefix = o->query_prefix;
}

static const char EMBED_REFERENCE[] =
    "embed:                 # present: `run` chunks and embeds the kept documents (see embed/README.md)\n"
    "  model: hash          # hash: the weight-free LEXICAL embedder (shared words, not meaning), or a\n"
    "                       #   Hugging Face BERT folder: config.json, vocab.txt, model.safetensors\n"
    "                       #   (bge-small-zh-v1.5, bge-base-en-v1.5, all-MiniLM-L6-v2, text2vec, m3e)\n"
    "  dim: 512             # hash model: vector size\n"
    "  backend: cpu         # BERT: where the forward pass runs (OpenBLAS sgemm)\n"
    "  threads: 0           # BERT: compute threads; 0 = cores / jobs\n"
    "  batch: 32            # BERT: sequences per forward pass (grouped by length)\n"
    "  query_prefix: null   # null: the model's own (bge-zh: 为这个句子生成表示以用于检索相关文章：)\n"
    "  part_rows: 1000000   # vectors per OUT/embeddings/part-*.npy\n"
    "  max_document_size: 16MiB  # a longer document is not chunked: removed as embed:too_long\n"
    "  chunk:\n"
    "    max_tokens: 0      # 0 = auto: 900 characters (hash; HuixiangDou's size) or the model's\n"
    "                       #   maximum sequence less [CLS] and [SEP] (510 for bge)\n"
    "    overlap: 32        # units of the previous chunk's end repeated (whole words / CJK characters)\n"
    "    markdown: true     # Markdown headings start chunks; the heading path goes with each chunk\n";

static const char EMBED_USAGE[] =
    "usage: corpusmill embed CONFIG --task I --tasks N [--out DIR] [--threads T] [--force]\n"
    "\n"
    "Runs task I of the embed stage over task I's kept documents (OUT/dedup/ when\n"
    "the config deduplicates, else OUT/clean/; --tasks = that stage's split):\n"
    "  OUT/chunks/part-TTTTT-SSSS.jsonl.zst      chunk records: chunk_id, doc_id,\n"
    "                                            start/end (characters), headings, text\n"
    "  OUT/embeddings/part-TTTTT-SSSS.npy        float32 vectors, L2-normalized\n"
    "  OUT/embeddings/part-TTTTT-SSSS.ids.npy    int64 chunk id of every row\n"
    "  OUT/embeddings/manifest.json              model, dimension, chunking\n"
    "The config's `embed` section picks the model (hash, or a BERT folder) and\n"
    "the chunk size (`corpusmill config` shows its options).\n"
    "\n"
    "  --threads T    BERT compute threads (default: embed.threads, else all cores)\n"
    "  --force        run even if the task already finished\n"
    "  --progress M   auto | bar | log | none | fd:N (default auto)\n";

/* One embeddings part: the vectors and their chunk ids, written under
 * temporary names and renamed together when complete. */
typedef struct npy_part {
    cm_npy_writer *vec, *ids;
    char vec_path[CM_PATH_MAX + 64], ids_path[CM_PATH_MAX + 64];
    size_t rows;
    int seq;
} npy_part;

typedef struct embed_state {
    const cm_config *cfg;
    const cm_embed_options *o;
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
    char dir[CM_PATH_MAX];
    /* ids */
    long last_file;
    int64_t ordinal;
    uint64_t chunks, units;
    cm_err err;
} embed_state;

static size_t model_length(void *user, const char *text, size_t len)
{
    return cm_embedder_length(user, text, len);
}

static int part_open(embed_state *s, cm_err *err)
{
    npy_part *p = &s->part;
    char tmp[CM_PATH_MAX + 128];
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
        char tmp[CM_PATH_MAX + 128];
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
        size_t room = (size_t)s->o->part_rows - s->part.rows, take = s->n - i < room ? s->n - i : room;
        if (cm_npy_append(s->part.vec, s->vectors + i * s->dim, take, err) ||
            cm_npy_append(s->part.ids, s->ids + i, take, err))
            return -1;
        s->part.rows += take;
        i += take;
        if (s->part.rows == (size_t)s->o->part_rows && part_close(s, err)) return -1;
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
    if (r->text_len > s->o->max_document_size) { /* bounded work and memory per document */
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
    return 0;
}

static void write_manifest(embed_state *s, const char *out)
{
    cm_buf b;
    cm_buf_init(&b);
    const char *model = s->o->model;
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
                   s->max_units, s->o->overlap, s->o->markdown ? "true" : "false");
    cm_write_file_atomic(cm_manifest_path(out, "embeddings").s, b.data, b.len, NULL);
    cm_buf_free(&b);
}

/* Opens the model and sizes the chunks. */
static int open_model(const cm_embed_options *o, int threads, embed_state *s, cm_err *err)
{
    cm_embedder_opts eo;
    cm_embed_embedder_opts(o, threads, &eo);
    if (!(s->model = cm_embedder_open(o->model, &eo, err))) return -1;
    s->dim = cm_embedder_dim(s->model);
    size_t cap = cm_embedder_capacity(s->model);
    s->max_units = o->max_tokens ? (size_t)o->max_tokens : cap ? cap : HASH_CHUNK_CHARS;
    if (cap && s->max_units > cap)
        return cm_errorf(err, "embed.chunk.max_tokens %zu is more than the model takes (%zu tokens)", s->max_units, cap);
    if ((size_t)o->overlap >= s->max_units)
        return cm_errorf(err, "embed.chunk.overlap %ld must be smaller than the chunk size %zu", o->overlap,
                         s->max_units);
    cm_chunker_opts co = {s->max_units, (size_t)o->overlap, o->markdown};
    s->chunker = cm_chunker_create(&co, model_length, s->model);
    return 0;
}

static int embed_run(const cm_stage_task *t, cm_task_stats *st, cm_err *err)
{
    const cm_config *cfg = t->cfg;
    const cm_embed_options *o = t->opts;
    const char *out = cfg->output.dir;
    embed_state s;
    memset(&s, 0, sizeof s);
    s.cfg = cfg;
    s.o = o;
    s.st = st;
    s.task = t->task;
    s.last_file = -1;
    st->threads = t->threads ? t->threads : o->threads;
    if (open_model(o, t->threads, &s, err)) {
        cm_embedder_free(s.model);
        return cm_err_usage(err);
    }
    cm_stage_reader *reader = cm_stage_reader_create(cfg, err);
    if (!reader) {
        cm_chunker_free(s.chunker);
        cm_embedder_free(s.model);
        return cm_err_usage(err);
    }
    s.inputs = cm_stage_reader_inputs(reader);
    cm_part_prefix part = cm_part_prefix_of(t->task);
    const char *prefix = part.s;
    char chunk_dir[CM_PATH_MAX];
    snprintf(chunk_dir, sizeof chunk_dir, "%s", cm_out_dir(out, "chunks").s);
    snprintf(s.dir, sizeof s.dir, "%s", cm_out_dir(out, "embeddings").s);
    int rc = 0;
    if (cm_mkdirs(chunk_dir, err) || cm_mkdirs(s.dir, err)) rc = -1;
    /* a task that runs again starts from nothing */
    cm_remove_prefixed(chunk_dir, prefix, NULL);
    cm_remove_prefixed(s.dir, prefix, NULL);
    cm_part_writer_init(&s.chunk_parts, chunk_dir, prefix, ".jsonl.zst", cfg->output.part_size);
    s.cctx = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(s.cctx, ZSTD_c_compressionLevel, cfg->output.zstd_level);
    s.vectors = cm_malloc((size_t)WINDOW * s.dim * sizeof *s.vectors);
    char label[64];
    snprintf(label, sizeof label, "embed %d/%d", t->task, t->tasks);
    cm_stage_reader_progress(reader, label, NULL);
    if (rc == 0) rc = cm_stage_reader_walk(reader, t->source, t->task, embed_each, &s, err);
    if (rc == 0) rc = flush_window(&s, err);
    if (rc == 0) rc = part_close(&s, err);
    if (rc == 0) rc = cm_part_writer_flush_zstd(&s.chunk_parts, s.cctx, &s.json, &s.z, 0, err);
    if (rc == 0) rc = cm_part_writer_close(&s.chunk_parts, err);
    if (rc == 0) write_manifest(&s, out);
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
    return rc ? -1 : 0;
}

static const cm_stage_step EMBED_STEPS[] = {
    {.name = NULL, .marker = "embed", .split = CM_SPLIT_SOURCE, .stats = 1, .run = embed_run},
};

const cm_stage_def cm_stage_embed = {
    .name = "embed",
    .command = "embed",
    .summary = "one task of the embed stage: chunks and vectors (--task I --tasks N)",
    .usage = EMBED_USAGE,
    .reference = EMBED_REFERENCE,
    .reads = "documents",
    .opts_size = sizeof(cm_embed_options),
    .read = embed_read,
    .free = embed_free,
    .steps = EMBED_STEPS,
    .n_steps = 1,
};

/* ---- reading the manifest back (index, pretrain, decontaminate) ---- */

int cm_embed_manifest_read(const char *out, cm_embed_manifest *m, cm_err *err)
{
    memset(m, 0, sizeof *m);
    double dim = 0, max = 0, overlap = 0;
    cm_json_field f[] = {{"model", CM_JSON_STRING, m->model, sizeof m->model, NULL},
                         {"dim", CM_JSON_NUMBER, &dim, 0, NULL},
                         {"lexical", CM_JSON_BOOL, &m->lexical, 0, NULL},
                         {"chunk.unit", CM_JSON_STRING, m->unit, sizeof m->unit, NULL},
                         {"chunk.max", CM_JSON_NUMBER, &max, 0, NULL},
                         {"chunk.overlap", CM_JSON_NUMBER, &overlap, 0, NULL},
                         {NULL, 0, NULL, 0, NULL}};
    cm_path path = cm_manifest_path(out, "embeddings");
    cm_buf b;
    cm_err e;
    if (cm_json_file_fields(path.s, f, &b, &e)) return cm_errorf(err, "%s (run embed first)", e.msg);
    m->dim = (long)dim;
    m->max = (long)max;
    m->overlap = (long)overlap;
    if (m->dim < 1 || !m->model[0]) { cm_buf_free(&b); return cm_errorf(err, "%s: no model or dim", path.s); }
    while (b.len && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == ' ')) b.data[--b.len] = 0;
    m->raw = b.data; /* owned now */
    return 0;
}
