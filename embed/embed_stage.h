/* embed_stage.h -- the `embed` stage, its options and descriptor:
 *   corpusmill embed CONFIG --task I --tasks N
 * Task T reads task T's kept documents of the stage before it (OUT/dedup/
 * when the config deduplicates, else OUT/clean/), splits each into chunks
 * (embed/chunker.h) and embeds them (embed/embedder.h), writing
 *   OUT/chunks/part-TTTTT-SSSS.jsonl.zst       one record per chunk
 *   OUT/embeddings/part-TTTTT-SSSS.npy         float32 [rows, dim], L2-normalized
 *   OUT/embeddings/part-TTTTT-SSSS.ids.npy     int64 [rows]: the chunk id of each row
 *   OUT/embeddings/manifest.json               model, dimension, chunking, id layout
 * A chunk id is (index of the document's input file << 47) | (the chunk's
 * ordinal among that file's chunks): unique, and the same whatever
 * --tasks. Documents: read = kept (chunked) + removed (embed:empty, no text
 * left to embed). */
#ifndef CM_EMBED_STAGE_H
#define CM_EMBED_STAGE_H

#include <stdint.h>

#include "../pipeline/stage.h"
#include "embedder.h"

#define CM_CHUNK_ID(file, ordinal) (((int64_t)(file) << 47) | (int64_t)(ordinal))

/* The `embed` section. */
typedef struct cm_embed_options {
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
    uint64_t max_document_size; /* longer documents are not chunked (embed:too_long) default: 16 MiB */
} cm_embed_options;

/* The stage's descriptor: one step, task T reading task T of its source
 * (OUT/dedup/ when the config deduplicates, else OUT/clean/). */
extern const cm_stage_def cm_stage_embed;

/* The embedder options the section asks for (threads: a command line's
 * --threads, 0 for the section's own). */
void cm_embed_embedder_opts(const cm_embed_options *o, int threads, cm_embedder_opts *eo);

/* OUT/embeddings/manifest.json, read back. */
typedef struct cm_embed_manifest {
    char model[4096];
    char unit[32];      /* the chunk size's unit: characters or tokens */
    long dim, max, overlap;
    int lexical;        /* the hash model */
    char *raw;          /* the whole file (free it) */
} cm_embed_manifest;

/* Reads OUT/embeddings/manifest.json; -1 with err naming it ("run embed
 * first") when it is missing or has no model or dim. */
int cm_embed_manifest_read(const char *out, cm_embed_manifest *m, cm_err *err);

#endif
