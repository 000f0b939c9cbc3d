/* embed_stage.h -- the `embed` stage:
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

#include "../pipeline/config.h"
#include "../pipeline/stats.h"

#define CM_CHUNK_ID(file, ordinal) (((int64_t)(file) << 47) | (int64_t)(ordinal))

typedef struct cm_embed_opts {
    int task, tasks;
    int threads;      /* 0: embed.threads */
    int force;
    int progress;     /* cm_progress_mode */
    int progress_fd;
} cm_embed_opts;

/* Runs one task. Returns a CM_EXIT_* status (pipeline/clean.h); sets
 * *already_done when it had finished before. */
int cm_embed_task(const cm_config *cfg, const cm_embed_opts *o, cm_task_stats *st, int *already_done, cm_err *err);

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

/* The stage embed reads: "dedup" or "clean". */
const char *cm_embed_input_stage(const cm_config *cfg);

#endif
