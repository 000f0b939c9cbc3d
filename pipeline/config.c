/* config.c -- reads a corpusmill YAML config into cm_config, checking every
 * key and value. The reference text at the bottom is what `corpusmill
 * config` prints and what the README quotes. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "../filters/filter.h"

#define DEFAULT_EXAM_TEMPLATE                                                                   \
    "{q_main}\nA. {option_a}\nB. {option_b}\nC. {option_c}\nD. {option_d}\nE. {option_e}\n" \
    "答案：{std_ans}\n解析：{answer_detail}"

static void set_defaults(cm_config *c)
{
    c->input.format = CM_FORMAT_AUTO;
    c->input.text_fields = cm_calloc(1, sizeof(char *));
    c->input.text_fields[0] = cm_strdup("content");
    c->input.n_text_fields = 1;
    c->input.id_field = cm_strdup("id");
    c->input.exam_cn = CM_EXAM_RENDER;
    c->input.exam_template = cm_strdup(DEFAULT_EXAM_TEMPLATE);
    c->input.max_member_bytes = 64ull << 30;
    c->input.max_ratio = 200;
    c->output.dir = cm_strdup("out");
    c->output.part_bytes = 256u << 20;
    c->output.zstd_level = 3;
    c->output.keep_rejected = CM_REJECTED_FULL;
    c->run.tasks = 1;
    c->run.jobs = 1;
    c->run.threads = 0;
    c->run.on_error = CM_ON_ERROR_SKIP;
    c->run.max_malformed_fraction = 0.01;
    c->run.max_record_bytes = 64u << 20;
    c->run.progress = 3; /* CM_PROGRESS_NONE: a library caller asks for progress */
    c->run.batch_bytes = 4u << 20;
    c->run.max_error_lines = 50;
    c->clean.invalid_utf8 = CM_UTF8_REPLACE;
    cm_signal_opts_default(&c->clean.signals);
    c->dedup.exact = 1;
    c->dedup.minhash = 1;
    cm_minhash_params_default(&c->dedup.params);
    c->dedup.verify = CM_VERIFY_EXACT;
    c->dedup.threshold = 0.8;
    c->dedup.memory = 1u << 30;
    c->embed.model = cm_strdup("hash");
    c->embed.dim = 512;
    c->embed.backend = cm_strdup("cpu");
    c->embed.batch = 32;
    c->embed.overlap = 32;
    c->embed.markdown = 1;
    c->embed.part_rows = 1000000;
    c->embed.max_document_bytes = 16u << 20;
    c->index.factory = cm_strdup("auto");
    c->index.ef_search = 64;
    c->index.nprobe = 16;
    c->index.memory = 8ull << 30;
    c->pretrain.iterations = 20;
    c->pretrain.seed = 1234;
    c->pretrain.threads = 1;
    c->pretrain.epsilon = 0.01;
    c->decontam.ngram = 13;
    c->decontam.cjk_ngram = 13;
    c->decontam.vector_threshold = 0.95;
}

static int read_decontam(cm_config *c, const cm_conf *n, cm_err *err)
{
    static const char *const known[] = {"eval_sets", "ngram", "cjk_ngram", "remove", "vector_threshold", NULL};
    if (!n) return 0;
    if (cm_conf_check_keys(n, "decontam", known, err)) return -1;
    c->decontam.enabled = 1;
    return cm_conf_strings(n, "eval_sets", &c->decontam.eval_sets, &c->decontam.n_eval_sets, err) ||
                   cm_conf_int(n, "ngram", 1, 1000, &c->decontam.ngram, err) ||
                   cm_conf_int(n, "cjk_ngram", 1, 1000, &c->decontam.cjk_ngram, err) ||
                   cm_conf_bool(n, "remove", &c->decontam.remove, err) ||
                   cm_conf_double(n, "vector_threshold", 0, 1, &c->decontam.vector_threshold, err)
               ? -1
               : 0;
}

static int read_pretrain(cm_config *c, const cm_conf *n, cm_err *err)
{
    static const char *const known[] = {"clusters", "iterations", "seed", "threads", "semdedup", "epsilon",
                                        "semdedup_lexical", NULL};
    if (!n) return 0;
    if (cm_conf_check_keys(n, "pretrain", known, err)) return -1;
    c->pretrain.enabled = 1;
    long threads = c->pretrain.threads;
    if (cm_conf_int(n, "clusters", 0, 1 << 24, &c->pretrain.clusters, err) ||
        cm_conf_int(n, "iterations", 1, 1000, &c->pretrain.iterations, err) ||
        cm_conf_int(n, "seed", 0, 2147483647, &c->pretrain.seed, err) || cm_conf_int(n, "threads", 1, 256, &threads, err) ||
        cm_conf_bool(n, "semdedup", &c->pretrain.semdedup, err) ||
        cm_conf_double(n, "epsilon", 0, 1, &c->pretrain.epsilon, err) ||
        cm_conf_bool(n, "semdedup_lexical", &c->pretrain.semdedup_lexical, err))
        return -1;
    c->pretrain.threads = (int)threads;
    return 0;
}

static int read_index(cm_config *c, const cm_conf *n, cm_err *err)
{
    static const char *const known[] = {"factory", "ef_search", "nprobe", "memory", NULL};
    if (!n) return 0;
    if (cm_conf_check_keys(n, "index", known, err)) return -1;
    c->index.enabled = 1;
    return cm_conf_string(n, "factory", &c->index.factory, err) ||
                   cm_conf_int(n, "ef_search", 1, 1 << 20, &c->index.ef_search, err) ||
                   cm_conf_int(n, "nprobe", 1, 1 << 20, &c->index.nprobe, err) ||
                   cm_conf_size(n, "memory", &c->index.memory, err)
               ? -1
               : 0;
}

static int read_embed(cm_config *c, const cm_conf *n, cm_err *err)
{
    static const char *const known[] = {"model", "dim", "backend", "threads", "batch", "query_prefix", "chunk",
                                        "part_rows", "max_document_size", NULL};
    static const char *const chunk_known[] = {"max_tokens", "overlap", "markdown", NULL};
    if (!n) return 0;
    if (cm_conf_check_keys(n, "embed", known, err)) return -1;
    c->embed.enabled = 1;
    long threads = c->embed.threads;
    const cm_conf *chunk = cm_conf_get(n, "chunk");
    if (cm_conf_string(n, "model", &c->embed.model, err) || cm_conf_int(n, "dim", 1, 65536, &c->embed.dim, err) ||
        cm_conf_string(n, "backend", &c->embed.backend, err) || cm_conf_int(n, "threads", 0, 1024, &threads, err) ||
        cm_conf_int(n, "batch", 1, 4096, &c->embed.batch, err) ||
        cm_conf_string(n, "query_prefix", &c->embed.query_prefix, err) ||
        cm_conf_int(n, "part_rows", 1, 1L << 40, &c->embed.part_rows, err) ||
        cm_conf_size(n, "max_document_size", &c->embed.max_document_bytes, err) ||
        cm_conf_check_keys(chunk, "embed.chunk", chunk_known, err) ||
        cm_conf_int(chunk, "max_tokens", 0, 1L << 30, &c->embed.max_tokens, err) ||
        cm_conf_int(chunk, "overlap", 0, 1L << 30, &c->embed.overlap, err) ||
        cm_conf_bool(chunk, "markdown", &c->embed.markdown, err))
        return -1;
    if (c->embed.max_tokens && c->embed.overlap >= c->embed.max_tokens)
        return cm_conf_error(err, cm_conf_get(chunk, "overlap"), "overlap must be smaller than max_tokens");
    const cm_conf *qp = cm_conf_get(n, "query_prefix");
    if (qp && qp->plain && (!strcmp(qp->value, "null") || !strcmp(qp->value, "~"))) { /* the model's own */
        free(c->embed.query_prefix);
        c->embed.query_prefix = NULL;
    }
    c->embed.threads = (int)threads;
    return 0;
}

static int read_dedup(cm_config *c, const cm_conf *n, cm_err *err)
{
    static const char *const known[] = {"exact",     "minhash",  "ngram",  "bands",    "rows", "seed",
                                        "verify",    "threshold", "memory", "previous", NULL};
    static const char *const verify[] = {"exact", "signature", "off", NULL};
    if (!n) return 0;
    if (cm_conf_check_keys(n, "dedup", known, err)) return -1;
    c->dedup.enabled = 1;
    long ngram = c->dedup.params.ngram, bands = c->dedup.params.bands, rows = c->dedup.params.rows, seed = 1;
    if (cm_conf_bool(n, "exact", &c->dedup.exact, err) || cm_conf_bool(n, "minhash", &c->dedup.minhash, err) ||
        cm_conf_int(n, "ngram", 1, 64, &ngram, err) || cm_conf_int(n, "bands", 1, 1024, &bands, err) ||
        cm_conf_int(n, "rows", 1, 64, &rows, err) || cm_conf_int(n, "seed", 0, 2147483647, &seed, err) ||
        cm_conf_enum(n, "verify", verify, &c->dedup.verify, err) ||
        cm_conf_strings(n, "previous", &c->dedup.previous, &c->dedup.n_previous, err) ||
        cm_conf_size(n, "memory", &c->dedup.memory, err) || cm_conf_double(n, "threshold", 0, 1, &c->dedup.threshold, err))
        return -1;
    c->dedup.params.ngram = (int)ngram;
    c->dedup.params.bands = (int)bands;
    c->dedup.params.rows = (int)rows;
    c->dedup.params.seed = (uint64_t)seed;
    return 0;
}

static int read_input(cm_config *c, const cm_conf *n, cm_err *err)
{
    static const char *const known[] = {"paths", "format", "text_field", "id_field", "exam_cn", "exam_template",
                                        "max_member_size", "max_ratio", NULL};
    static const char *const formats[] = {"auto", "jsonl", "text", "lines", NULL};
    static const char *const exam[] = {"render", "skip", NULL};
    if (cm_conf_check_keys(n, "input", known, err)) return -1;
    if (cm_conf_strings(n, "paths", &c->input.paths, &c->input.n_paths, err)) return -1;
    if (cm_conf_enum(n, "format", formats, &c->input.format, err)) return -1;
    if (cm_conf_strings(n, "text_field", &c->input.text_fields, &c->input.n_text_fields, err)) return -1;
    if (c->input.n_text_fields == 0) return cm_conf_error(err, cm_conf_get(n, "text_field"), "text_field is empty");
    if (cm_conf_string(n, "id_field", &c->input.id_field, err)) return -1;
    if (cm_conf_enum(n, "exam_cn", exam, &c->input.exam_cn, err)) return -1;
    if (cm_conf_string(n, "exam_template", &c->input.exam_template, err)) return -1;
    if (cm_conf_size(n, "max_member_size", &c->input.max_member_bytes, err)) return -1;
    if (cm_conf_double(n, "max_ratio", 0, 1e9, &c->input.max_ratio, err)) return -1;
    return 0;
}

static int read_output(cm_config *c, const cm_conf *n, cm_err *err)
{
    static const char *const known[] = {"dir", "part_size", "zstd_level", "keep_rejected", NULL};
    static const char *const rejected[] = {"full", "ids", NULL};
    if (cm_conf_check_keys(n, "output", known, err)) return -1;
    long level = c->output.zstd_level;
    if (cm_conf_string(n, "dir", &c->output.dir, err) || cm_conf_size(n, "part_size", &c->output.part_bytes, err) ||
        cm_conf_int(n, "zstd_level", -7, 19, &level, err) ||
        cm_conf_enum(n, "keep_rejected", rejected, &c->output.keep_rejected, err))
        return -1;
    if (c->output.part_bytes < 4096)
        return cm_conf_error(err, cm_conf_get(n, "part_size"), "part_size must be at least 4KiB");
    c->output.zstd_level = (int)level;
    return 0;
}

static int read_run(cm_config *c, const cm_conf *n, cm_err *err)
{
    static const char *const known[] = {"tasks", "jobs", "threads", "on_error", "max_malformed_fraction",
                                        "max_record_size", "batch_size", "max_error_lines", NULL};
    static const char *const on_error[] = {"skip", "fail", NULL};
    if (cm_conf_check_keys(n, "run", known, err)) return -1;
    long tasks = c->run.tasks, jobs = c->run.jobs, threads = c->run.threads, lines = c->run.max_error_lines;
    if (cm_conf_int(n, "tasks", 1, 1000000, &tasks, err) || cm_conf_int(n, "jobs", 1, 4096, &jobs, err) ||
        cm_conf_int(n, "threads", 0, 1024, &threads, err) || cm_conf_enum(n, "on_error", on_error, &c->run.on_error, err) ||
        cm_conf_double(n, "max_malformed_fraction", 0, 1, &c->run.max_malformed_fraction, err) ||
        cm_conf_size(n, "max_record_size", &c->run.max_record_bytes, err) ||
        cm_conf_size(n, "batch_size", &c->run.batch_bytes, err) ||
        cm_conf_int(n, "max_error_lines", 0, 1000000, &lines, err))
        return -1;
    if (c->run.max_record_bytes < 1024 || c->run.max_record_bytes > (1ull << 30))
        return cm_conf_error(err, cm_conf_get(n, "max_record_size"),
                             "max_record_size must be between 1KiB and 1GiB (signals index text with 32 bits)");
    if (c->run.batch_bytes < 1024)
        return cm_conf_error(err, cm_conf_get(n, "batch_size"), "batch_size must be at least 1KiB");
    c->run.tasks = (int)tasks;
    c->run.jobs = (int)jobs;
    c->run.threads = (int)threads;
    c->run.max_error_lines = (int)lines;
    return 0;
}

/* Checks that every step names a known filter and that its options are
 * valid, by building one instance. */
static int read_clean(cm_config *c, const cm_conf *n, cm_err *err)
{
    static const char *const known[] = {"invalid_utf8", "signals", "steps", NULL};
    static const char *const utf8[] = {"replace", "quarantine", NULL};
    if (cm_conf_check_keys(n, "clean", known, err)) return -1;
    if (cm_conf_enum(n, "invalid_utf8", utf8, &c->clean.invalid_utf8, err)) return -1;
    if (cm_signal_opts_read(cm_conf_get(n, "signals"), &c->clean.signals, err)) return -1;
    const cm_conf *steps = cm_conf_get(n, "steps");
    if (!steps) return 0;
    if (steps->type != CM_CONF_SEQ) return cm_conf_error(err, steps, "clean.steps must be a list of filters");
    for (size_t i = 0; i < steps->n; i++) {
        const cm_conf *s = steps->items[i];
        const char *name;
        const cm_conf *opts = NULL;
        if (s->type == CM_CONF_SCALAR) name = s->value;
        else if (s->type == CM_CONF_MAP && s->n == 1) {
            name = s->keys[0];
            opts = s->items[0];
            if (opts->type == CM_CONF_SCALAR && opts->plain && (!opts->value[0] || !strcmp(opts->value, "null")))
                opts = NULL;
        } else
            return cm_conf_error(err, s, "each step is a filter name, or a map of one filter name to its options");
        const cm_filter *f = cm_filter_find(name);
        if (!f) {
            cm_buf list;
            cm_buf_init(&list);
            for (size_t k = 0; cm_filters[k]; k++) {
                if (k) cm_buf_append_str(&list, ", ");
                cm_buf_append_str(&list, cm_filters[k]->name);
            }
            int r = cm_conf_error(err, s, "unknown filter '%s' (known: %s)", name, list.data);
            cm_buf_free(&list);
            return r;
        }
        void *inst = f->create(opts, err);
        if (!inst) return -1;
        f->destroy(inst);
    }
    c->clean.steps = steps;
    return 0;
}

static cm_config *finish(cm_conf *root, const char *name, cm_err *err)
{
    if (!root) return NULL;
    cm_config *c = cm_calloc(1, sizeof *c);
    c->path = cm_strdup(name);
    c->root = root;
    set_defaults(c);
    static const char *const known[] = {"input", "output", "run", "clean", "dedup", "embed", "index", "pretrain",
                                        "decontam", NULL};
    if (cm_conf_check_keys(root, "the config", known, err) || read_input(c, cm_conf_get(root, "input"), err) ||
        read_output(c, cm_conf_get(root, "output"), err) || read_run(c, cm_conf_get(root, "run"), err) ||
        read_clean(c, cm_conf_get(root, "clean"), err) || read_dedup(c, cm_conf_get(root, "dedup"), err) ||
        read_embed(c, cm_conf_get(root, "embed"), err) || read_index(c, cm_conf_get(root, "index"), err) ||
        read_pretrain(c, cm_conf_get(root, "pretrain"), err) || read_decontam(c, cm_conf_get(root, "decontam"), err)) {
        cm_config_free(c);
        return NULL;
    }
    return c;
}

cm_config *cm_config_load(const char *path, cm_err *err) { return finish(cm_conf_load_file(path, err), path, err); }

cm_config *cm_config_parse(const char *text, const char *name, cm_err *err)
{
    return finish(cm_conf_load_string(text, strlen(text), name, err), name, err);
}

void cm_config_free(cm_config *c)
{
    if (!c) return;
    cm_conf_free_strings(c->input.paths, c->input.n_paths);
    cm_conf_free_strings(c->input.text_fields, c->input.n_text_fields);
    free(c->input.id_field);
    free(c->input.exam_template);
    free(c->output.dir);
    cm_conf_free_strings(c->dedup.previous, c->dedup.n_previous);
    free(c->embed.model);
    free(c->embed.backend);
    free(c->embed.query_prefix);
    free(c->index.factory);
    cm_conf_free_strings(c->decontam.eval_sets, c->decontam.n_eval_sets);
    cm_conf_free(c->root);
    free(c->path);
    free(c);
}

void cm_config_set_inputs(cm_config *c, char **paths, size_t n)
{
    cm_conf_free_strings(c->input.paths, c->input.n_paths);
    c->input.paths = cm_calloc(n ? n : 1, sizeof(char *));
    for (size_t i = 0; i < n; i++) c->input.paths[i] = cm_strdup(paths[i]);
    c->input.n_paths = n;
}

void cm_config_set_out(cm_config *c, const char *dir)
{
    free(c->output.dir);
    c->output.dir = cm_strdup(dir);
}

const char cm_config_reference[] =
    "# corpusmill configuration: every option with its default.\n"
    "# Relative paths are relative to the directory corpusmill runs in.\n"
    "input:\n"
    "  paths: []              # files, directories (walked recursively) and globs; --input replaces them\n"
    "  format: auto           # auto | jsonl | text | lines\n"
    "                         #   auto: .md .markdown .txt .rst are one document per file, the rest JSON Lines\n"
    "                         #   text: one document per file (id = path relative to the input root)\n"
    "                         #   lines: one document per line (id = path:line)\n"
    "  text_field: content    # or a list, first present wins: [content, text, raw_content]\n"
    "  id_field: id\n"
    "  exam_cn: render        # render | skip: WanJuan Exam-cn records (q_main, option_a.., no text field)\n"
    "  exam_template: \"{q_main}\\nA. {option_a}\\nB. {option_b}\\nC. {option_c}\\nD. {option_d}\\nE. {option_e}\\n答案：{std_ans}\\n解析：{answer_detail}\"\n"
    "                         #   a line whose placeholders are all empty is left out\n"
    "  max_member_size: 64GiB # a file or archive member decompressing to more stops there (limit:member_size)\n"
    "  max_ratio: 200         # ... or expanding more than this past 64 MiB (limit:ratio: a decompression bomb)\n"
    "output:\n"
    "  dir: out               # --out replaces it\n"
    "  part_size: 256MiB      # uncompressed bytes per part file before a new part starts\n"
    "  zstd_level: 3          # -7..19 (negative: zstd's fast levels)\n"
    "  keep_rejected: full    # full | ids: removed records in full, or only id, source and reason\n"
    "run:\n"
    "  tasks: 1               # slices of the input (files i, i+N, ... in sorted order); --tasks\n"
    "  jobs: 1                # processes `corpusmill run` uses; -j\n"
    "  threads: 0             # worker threads per task; 0 = cores / jobs; --threads\n"
    "  on_error: skip         # skip | fail: fail stops at the first malformed record\n"
    "  max_malformed_fraction: 0.01  # with skip, exit 1 when more than this fraction is malformed\n"
    "  max_record_size: 64MiB # longer records are malformed (the first 64 KiB are kept as evidence)\n"
    "  batch_size: 4MiB       # records handed to a worker thread at once\n"
    "  max_error_lines: 50    # malformed-record lines printed per task; the rest are counted\n"
    "clean:\n"
    "  invalid_utf8: replace  # replace (U+FFFD, counted) | quarantine (to malformed/)\n"
    "  signals:\n"
    "    word_units: fast     # fast (UAX #29 core rules; one CJK character = one word) | icu (ICU word break,\n"
    "                         #   dictionary words for Chinese; 13-41 MB/s)\n"
    "    short_line_chars: 30 # a short line for short_lines_frac (FineWeb)\n"
    "    short_line_chars_cjk: 10  # the same for documents that are mostly CJK\n"
    "    store: auto          # auto (when a step computed them) | always | never: corpusmill.signals\n"
    "  steps:                 # in order; `corpusmill filters` lists them with their defaults\n"
    "    - normalize: {}\n"
    "# dedup:                 # present: `run` deduplicates after clean (see dedup/README.md)\n"
    "#   exact: true          # exact duplicates of the simplified text (XXH3-128)\n"
    "#   minhash: true        # near duplicates, MinHash-LSH\n"
    "#   ngram: 5             # shingle: 5 words, or 5 CJK characters\n"
    "#   bands: 14\n"
    "#   rows: 8              # 14 x 8: P(found | J = 0.8) = 0.92\n"
    "#   seed: 1\n"
    "#   verify: exact        # exact (shingle Jaccard) | signature (equal values) | off: a candidate pair\n"
    "#                        #   counts when its similarity reaches threshold\n"
    "#   threshold: 0.8\n"
    "#   previous: []         # OUT dirs of earlier runs: their documents are kept, matches here removed\n"
    "#   memory: 1GiB         # band records a signatures task holds; beyond, sorted runs go to disk\n"
    "# embed:                 # present: `run` chunks and embeds the kept documents (see embed/README.md)\n"
    "#   model: hash          # hash: the weight-free LEXICAL embedder (shared words, not meaning), or a\n"
    "#                        #   Hugging Face BERT folder: config.json, vocab.txt, model.safetensors\n"
    "#                        #   (bge-small-zh-v1.5, bge-base-en-v1.5, all-MiniLM-L6-v2, text2vec, m3e)\n"
    "#   dim: 512             # hash model: vector size\n"
    "#   backend: cpu         # BERT: where the forward pass runs (OpenBLAS sgemm)\n"
    "#   threads: 0           # BERT: compute threads; 0 = cores / jobs\n"
    "#   batch: 32            # BERT: sequences per forward pass (grouped by length)\n"
    "#   query_prefix: null   # null: the model's own (bge-zh: 为这个句子生成表示以用于检索相关文章：)\n"
    "#   part_rows: 1000000   # vectors per OUT/embeddings/part-*.npy\n"
    "#   max_document_size: 16MiB  # a longer document is not chunked: removed as embed:too_long\n"
    "#   chunk:\n"
    "#     max_tokens: 0      # 0 = auto: 900 characters (hash; HuixiangDou's size) or the model's\n"
    "#                        #   maximum sequence less [CLS] and [SEP] (510 for bge)\n"
    "#     overlap: 32        # units of the previous chunk's end repeated (whole words / CJK characters)\n"
    "#     markdown: true     # Markdown headings start chunks; the heading path goes with each chunk\n"
    "# index:                 # present: `run` builds the RAG export OUT/rag/ after embed (see index/README.md)\n"
    "#   factory: auto        # auto: IDMap,Flat below 10,000 vectors, IDMap,HNSW32 while it fits `memory`,\n"
    "#                        #   IVF{K},Flat beyond (K ~ 8 sqrt(N)); or any FAISS factory string\n"
    "#   ef_search: 64        # HNSW search breadth (saved with the index)\n"
    "#   nprobe: 16           # IVF lists searched (saved with the index)\n"
    "#   memory: 8GiB         # what auto may plan for the index\n"
    "# pretrain:              # present: `run` clusters the documents after embed (OUT/index/pretrain/)\n"
    "#   clusters: 0          # k-means K over document vectors (mean of their chunks); 0 = sqrt(documents)\n"
    "#   iterations: 20\n"
    "#   seed: 1234\n"
    "#   threads: 1           # OpenMP and OpenBLAS threads for k-means (more make times swing on small machines)\n"
    "#   semdedup: false      # SemDeDup: within a cluster, a document with cosine >= 1 - epsilon to an earlier\n"
    "#                        #   kept one goes to OUT/rejected/semdedup/ (kept ones to OUT/semdedup/)\n"
    "#   epsilon: 0.01\n"
    "#   semdedup_lexical: false  # refuse SemDeDup with the hash model (it would remove lexical, not semantic,\n"
    "#                        #   duplicates) unless true\n"
    "# decontam:              # present: `run` checks the kept documents against evaluation sets\n"
    "#   eval_sets: []        # SQuAD JSON or JSON Lines files (every string of a line is the item)\n"
    "#   ngram: 13            # a document sharing 13 consecutive words with an item is contaminated\n"
    "#   cjk_ngram: 13        # or 13 consecutive CJK characters (punctuation skipped)\n"
    "#   remove: false        # true: OUT/decontam/kept/ without them, OUT/rejected/decontam/ with them;\n"
    "#                        #   always: OUT/decontam/report.jsonl, every hit with both texts\n"
    "#   vector_threshold: 0.95  # with a BERT model (after embed): a document with a chunk this close\n"
    "#                        #   (cosine) to an item is a hit too (decontam:vector); 0 = off\n";
