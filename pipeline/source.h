/* source.h -- one input file as a sequence of byte streams ("members").
 *
 * The compression and container are found from the content, not the name:
 * plain files, gzip / xz / bzip2 (libarchive), zstd (libzstd, so frames
 * written with --long=31 decode), and tar archives of any of these. A plain
 * or bare-compressed file has one member with a NULL name; a tar has one
 * member per regular file. When the name promises another format than the
 * content has, cm_source_warning says so and the content wins. */
#ifndef CM_SOURCE_H
#define CM_SOURCE_H

#include <stddef.h>
#include <stdint.h>
#include "util.h"

typedef struct cm_source cm_source;

/* Opens path and detects its format. NULL with err on failure. */
cm_source *cm_source_open(const char *path, cm_err *err);
void cm_source_close(cm_source *s);

/* A short description of what was detected, e.g. "tar+gzip", "zstd". */
const char *cm_source_kind(const cm_source *s);
/* A note about a name that lies about the content, or NULL. */
const char *cm_source_warning(const cm_source *s);

/* Moves to the next member. Returns 1 and sets *name (NULL for non-archives;
 * valid until the next call), 0 when there are no more, -1 with err (for
 * example a corrupt archive header). */
int cm_source_next_member(cm_source *s, const char **name, cm_err *err);

/* Reads up to cap decompressed bytes of the current member. Returns the
 * count, 0 at the member's end, -1 with err when the data is truncated or
 * corrupt (err names the byte offset in the file). */
long cm_source_read(cm_source *s, char *buf, size_t cap, cm_err *err);

/* Caps on what one member may decompress to: in all (0 = none), and as a
 * multiple of the compressed bytes it took (0 = none; judged past 64 MiB of
 * output). Past a cap, cm_source_read fails with an error that starts with
 * the file (and member) and says "limit:member_size" or "limit:ratio". */
void cm_source_set_limits(cm_source *s, uint64_t max_member_size, double max_ratio);

/* Bytes of the file consumed so far, and its size (for progress). */
uint64_t cm_source_file_offset(const cm_source *s);
uint64_t cm_source_file_size(const cm_source *s);

#endif
