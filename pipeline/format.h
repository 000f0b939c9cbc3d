/* format.h -- record formats: how the bytes of one input member become
 * records. One file per format (format_jsonl.c, format_lines.c,
 * format_text.c), each exporting a cm_format; `format: auto` picks by name.
 *
 * Readers run in the task's reader thread and hand each record to a sink,
 * which batches them for the worker threads. */
#ifndef CM_FORMAT_H
#define CM_FORMAT_H

#include <stddef.h>
#include <stdint.h>
#include "source.h"
#include "util.h"

/* What a record's bytes are. */
enum { CM_REC_JSON = 0, CM_REC_TEXT_FILE = 1, CM_REC_TEXT_LINE = 2 };
/* Damage the reader found; such records are malformed. */
enum { CM_DAMAGE_NONE = 0, CM_DAMAGE_TOO_LONG = 1, CM_DAMAGE_TRUNCATED = 2 };

typedef struct cm_record_sink {
    /* data/len: the record (for damaged ones, what could be kept); line:
     * 1-based line; offset: byte offset in the member; kind/damage as above;
     * full_len: the record's real length (larger than len when cut). */
    void (*record)(void *user, const char *data, size_t len, uint64_t line, uint64_t offset, int kind,
                   int damage, uint64_t full_len);
    /* a line that is blank (not a record) */
    void (*blank)(void *user);
    void *user;
} cm_record_sink;

/* Splits a member into lines with a bounded buffer. */
typedef struct cm_lines {
    cm_source *src;
    char *buf;
    char *evidence;       /* the start of an over-long line */
    size_t cap, start, end;
    uint64_t max_record_size;     /* longer lines are cut */
    uint64_t line;        /* number of the line last returned */
    uint64_t offset;      /* member offset of buf[start] */
    int eof;
    int failed;           /* a read error happened; err holds it */
    cm_err err;
} cm_lines;

/* Line flags from cm_lines_next. */
#define CM_LINE_TOO_LONG 1  /* only the first CM_EVIDENCE_BYTES are returned */
#define CM_LINE_TRUNCATED 2 /* the stream broke inside this line */
#define CM_EVIDENCE_BYTES 65536

void cm_lines_init(cm_lines *l, cm_source *src, uint64_t max_record_size);
void cm_lines_free(cm_lines *l);
/* Returns 1 with a line (without its \n; valid until the next call), 0 at the
 * end of the member. *full_len is the line's real length, *offset where it
 * starts. After the last line, l->failed tells whether the stream broke. */
int cm_lines_next(cm_lines *l, const char **p, size_t *n, uint64_t *full_len, uint64_t *offset, int *flags);

/* Reads a member line by line and hands every non-blank line to the sink as
 * a record of `kind` (blank lines go to sink->blank). A UTF-8 byte order
 * mark before the first line and the \r of \r\n endings are dropped. The
 * shared body of the line-based formats. */
int cm_format_read_lines(cm_source *src, uint64_t max_record_size, int kind, const cm_record_sink *sink, cm_err *err);

typedef struct cm_format {
    const char *name;
    /* reads the current member of src; returns 0, or -1 when the stream broke
     * (err says where; records before the damage were delivered). */
    int (*read_member)(cm_source *src, uint64_t max_record_size, const cm_record_sink *sink, cm_err *err);
} cm_format;

extern const cm_format cm_format_jsonl;
extern const cm_format cm_format_lines;
extern const cm_format cm_format_text;

/* The format for a file or member name under the configured kind
 * (cm_format_kind). */
const cm_format *cm_format_for(int kind, const char *name);
/* Whether a directory walk under `kind` keeps `name`. */
int cm_format_claims(int kind, const char *name);

#endif
