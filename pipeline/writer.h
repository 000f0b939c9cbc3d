/* writer.h -- size-bounded output parts written under a temporary name and
 * renamed when complete, so a reader never sees half a part.
 *
 * Parts are named DIR/PREFIX-SSSS.EXT (S = sequence). The caller hands in
 * bytes ready to be written (for .zst parts: whole zstd frames, compressed by
 * the worker threads) with the uncompressed size they stand for; a part is
 * closed once it holds part_size of uncompressed data. */
#ifndef CM_WRITER_H
#define CM_WRITER_H

#include <stdint.h>
#include <stdio.h>
#include <zstd.h>

#include "util.h"

typedef struct cm_part_writer {
    char *dir, *prefix, *ext;
    uint64_t part_size;  /* 0: a single part */
    uint64_t cur_raw;
    int seq;
    FILE *f;
    char final_path[4096], tmp_path[4104];
    uint64_t parts_done;
} cm_part_writer;

void cm_part_writer_init(cm_part_writer *w, const char *dir, const char *prefix, const char *ext, uint64_t part_size);
int cm_part_writer_write(cm_part_writer *w, const void *data, size_t n, uint64_t raw_bytes, cm_err *err);
/* Compresses plain into one zstd frame, writes it to the current part and
 * empties plain -- when plain holds at least min_bytes (0: any). */
int cm_part_writer_flush_zstd(cm_part_writer *w, ZSTD_CCtx *cctx, cm_buf *plain, cm_buf *scratch,
                              size_t min_bytes, cm_err *err);
/* Finishes the current part (rename). */
int cm_part_writer_close(cm_part_writer *w, cm_err *err);
/* Removes the unfinished part; for a task that failed. */
void cm_part_writer_abort(cm_part_writer *w);
void cm_part_writer_free(cm_part_writer *w);

/* Deletes DIR/PREFIX-* (finished and temporary), so that a task that runs
 * again starts clean. */
int cm_remove_prefixed(const char *dir, const char *prefix, cm_err *err);

/* Removes, in OUT and the folders stages write, the temporary files of writers that
 * were killed before their rename (NAME.tmp, NAME.tmp.PID, NAME.PID of a
 * stage manifest). Only safe when no task is writing into OUT: `run` calls
 * it when every stage has finished. Returns the number removed. */
size_t cm_remove_stale_temporaries(const char *out);

/* The files of dir whose names start with prefix (temporary ones left
 * out), sorted, as full paths; NULL when there are none. */
char **cm_list_dir(const char *dir, const char *prefix, size_t *n);
void cm_free_list(char **list, size_t n);

#endif
