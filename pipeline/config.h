/* config.h -- the typed configuration of a corpusmill run, read from YAML.
 *
 * Every option has a default (below, and in the README); every section's
 * keys are checked, so a misspelt key is an error naming the key, the file
 * and the line. Relative paths are relative to the current directory. */
#ifndef CM_CONFIG_H
#define CM_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include "conf.h"
#include "../filters/signals.h"
#include "../dedup/minhash.h"

typedef enum cm_format_kind { CM_FORMAT_AUTO, CM_FORMAT_JSONL, CM_FORMAT_TEXT, CM_FORMAT_LINES } cm_format_kind;
typedef enum cm_exam_mode { CM_EXAM_RENDER, CM_EXAM_SKIP } cm_exam_mode;
typedef enum cm_keep_rejected { CM_REJECTED_FULL, CM_REJECTED_IDS } cm_keep_rejected;
typedef enum cm_on_error { CM_ON_ERROR_SKIP, CM_ON_ERROR_FAIL } cm_on_error;
typedef enum cm_bad_utf8 { CM_UTF8_REPLACE, CM_UTF8_QUARANTINE } cm_bad_utf8;
/* exact: Jaccard of the shingle sets, recomputed for the documents in pairs;
 * signature: the fraction of equal signature values; off: every candidate */
typedef enum cm_dedup_verify { CM_VERIFY_EXACT, CM_VERIFY_SIGNATURE, CM_VERIFY_OFF } cm_dedup_verify;

typedef struct cm_config {
    char *path;      /* the config file */
    cm_conf *root;   /* its tree (filter blocks point into it) */

    struct {
        char **paths;        /* files, directories, globs                   default: none */
        size_t n_paths;
        int format;          /* cm_format_kind                               default: auto */
        char **text_fields;  /* first present wins                           default: [content] */
        size_t n_text_fields;
        char *id_field;      /*                                              default: id */
        int exam_cn;         /* records with q_main and no text              default: render */
        char *exam_template; /* {field} placeholders                         default: see config.c */
        uint64_t max_member_bytes; /* a file or archive member decompressed default: 64 GiB */
        double max_ratio;    /* decompressed / compressed, past 64 MiB       default: 200 */
    } input;

    struct {
        char *dir;           /*                                              default: out */
        uint64_t part_bytes; /* uncompressed bytes per output part           default: 256 MiB */
        int zstd_level;      /*                                              default: 3 */
        int keep_rejected;   /* cm_keep_rejected                             default: full */
    } output;

    struct {
        int tasks;                 /* slices of the input                     default: 1 */
        int jobs;                  /* processes for `run`                     default: 1 */
        int threads;               /* worker threads per task; 0 = cores/jobs  default: 0 */
        int on_error;              /* cm_on_error                             default: skip */
        double max_malformed_fraction; /* exit 1 above this                  default: 0.01 */
        uint64_t max_record_bytes; /* longer records are malformed            default: 64 MiB */
        uint64_t batch_bytes;      /* records handed to a worker at once      default: 4 MiB */
        int max_error_lines;       /* per task, then a count                  default: 50 */
        int progress, progress_fd; /* cm_progress_mode: set by the command line (--progress), not YAML */
    } run;

    struct {
        int invalid_utf8;          /* cm_bad_utf8                             default: replace */
        const cm_conf *steps;      /* the steps list (NULL: normalize only) */
        cm_signal_opts signals;    /* how signals are computed and stored      see filters/signals.c */
    } clean;

    struct {
        int enabled;               /* a `dedup` section is present: run chains the dedup stages */
        int exact;                 /* exact duplicates (simplified text, XXH3-128)    default: true */
        int minhash;               /* near duplicates (MinHash-LSH)                   default: true */
        cm_minhash_params params;  /* ngram 5, bands 14, rows 8, seed 1 */
        int verify;                /* cm_dedup_verify: how candidate pairs are checked default: exact */
        double threshold;          /* the similarity a verified pair needs            default: 0.8 */
        uint64_t memory;           /* band records a signatures task holds before it
                                      writes a sorted run to disk                      default: 1 GiB */
        char **previous;           /* OUT dirs of earlier runs to dedup against       default: none */
        size_t n_previous;
    } dedup;

    struct {
        int enabled;               /* an `embed` section is present: run chunks and embeds */
        char *model;               /* "hash" or a Hugging Face BERT folder            default: hash */
        long dim;                  /* hash model: vector size                         default: 512 */
        char *backend;             /* BERT: where the forward pass runs               default: cpu */
        int threads;               /* BERT: compute threads; 0 = cores / jobs         default: 0 */
        long batch;                /* BERT: sequences per forward pass                default: 32 */
        char *query_prefix;        /* NULL: the model's own                           default: NULL */
        long max_tokens;           /* chunk limit in the model's unit; 0 = auto: 900 characters
                                      (hash) or the model's maximum (BERT)           default: 0 */
        long overlap;              /* units repeated from the previous chunk          default: 32 */
        int markdown;              /* Markdown headings start chunks                  default: true */
        long part_rows;            /* vectors per embeddings part                     default: 1000000 */
        uint64_t max_document_bytes; /* longer documents are not chunked (embed:too_long) default: 16 MiB */
    } embed;

    struct {
        int enabled;               /* an `index` section is present: run builds OUT/rag/ after embed */
        char *factory;             /* a FAISS factory string, or auto                 default: auto */
        long ef_search;            /* HNSW search breadth                             default: 64 */
        long nprobe;               /* IVF lists searched                              default: 16 */
        uint64_t memory;           /* budget for auto's choice                        default: 8 GiB */
    } index;

    struct {
        int enabled;               /* a `pretrain` section is present: run clusters after embed */
        long clusters;             /* k-means K; 0 = sqrt(documents)                  default: 0 */
        long iterations;           /*                                                 default: 20 */
        long seed;                 /*                                                 default: 1234 */
        int threads;               /* OpenMP / OpenBLAS threads for k-means           default: 1 */
        int semdedup;              /* SemDeDup within clusters                        default: false */
        double epsilon;            /* pairs with cosine >= 1 - epsilon are duplicates default: 0.01 */
        int semdedup_lexical;      /* allow it with the lexical hash model            default: false */
    } pretrain;

    struct {
        int enabled;               /* a `decontam` section is present */
        char **eval_sets;          /* SQuAD JSON or JSON Lines files                  default: none */
        size_t n_eval_sets;
        long ngram;                /* shared words that make a hit                    default: 13 */
        long cjk_ngram;            /* shared CJK characters that make a hit           default: 13 */
        int remove;                /* write the documents without the hits            default: false */
        double vector_threshold;   /* a chunk this close (cosine) to an item is a hit;
                                      BERT models only, 0 = off                       default: 0.95 */
    } decontam;
} cm_config;

/* Loads and validates path. Filter options are validated too. NULL with err. */
cm_config *cm_config_load(const char *path, cm_err *err);
/* Same, from a string (for tests); `name` is used in messages. */
cm_config *cm_config_parse(const char *text, const char *name, cm_err *err);
void cm_config_free(cm_config *c);

/* Replaces input.paths (command-line --input). */
void cm_config_set_inputs(cm_config *c, char **paths, size_t n);
/* Replaces output.dir (command-line --out). */
void cm_config_set_out(cm_config *c, const char *dir);

/* The documented defaults, as a commented YAML file. */
extern const char cm_config_reference[];

#endif
