/* json.h -- the JSON layer: a C interface to simdjson (On Demand), which is
 * C++. Records are parsed in one pass that fully validates them and notes,
 * for every top-level member, where its raw bytes are, so that fields we do
 * not touch are written back byte for byte.
 *
 * Input buffers must stay readable for CM_JSON_PADDING bytes past their
 * length (simdjson reads ahead in SIMD blocks); their content is ignored. */
#ifndef CM_JSON_H
#define CM_JSON_H

#include <stddef.h>
#include "util.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CM_JSON_PADDING 64

typedef enum cm_json_type {
    CM_JSON_NULL,
    CM_JSON_BOOL,
    CM_JSON_NUMBER,
    CM_JSON_STRING,
    CM_JSON_ARRAY,
    CM_JSON_OBJECT
} cm_json_type;

/* One top-level member of a record. Offsets are into the parsed line
 * (raw_*, value_*) or into cm_json_record.strings (key_*, str_*). */
typedef struct cm_json_member {
    size_t key_off, key_len;       /* unescaped key */
    size_t raw_start, raw_end;     /* `"key": value` in the line */
    size_t value_start, value_end; /* the raw value alone */
    cm_json_type type;
    size_t str_off, str_len;       /* unescaped value, when type is STRING */
} cm_json_member;

typedef struct cm_json_record {
    cm_json_member *members;
    size_t n_members, cap;
    cm_buf strings; /* unescaped keys and top-level string values */
} cm_json_record;

typedef struct cm_json_parser cm_json_parser;

/* Result of cm_json_parse_record besides 0 (success). */
#define CM_JSON_BAD_UTF8 1 /* the line is not valid UTF-8; nothing parsed */
#define CM_JSON_INVALID 2  /* not a valid JSON object; err says why and where */

cm_json_parser *cm_json_parser_create(void);
void cm_json_parser_free(cm_json_parser *p);

void cm_json_record_init(cm_json_record *r);
void cm_json_record_free(cm_json_record *r);

/* Parses `line` (len bytes, readable for len + CM_JSON_PADDING) as one JSON
 * object and fills rec. Every nested value is validated. Returns 0,
 * CM_JSON_BAD_UTF8 or CM_JSON_INVALID (with err: the problem and its
 * 1-based column). */
int cm_json_parse_record(cm_json_parser *p, const char *line, size_t len, cm_json_record *rec,
                         cm_err *err);

/* Index of the first member whose key equals `key`, or -1. When `dupes` is
 * not NULL it receives how many members have that key. */
long cm_json_find(const cm_json_record *rec, const char *key, int *dupes);

/* Pointer to a member's unescaped key / string value. */
const char *cm_json_key(const cm_json_record *rec, const cm_json_member *m);
const char *cm_json_str(const cm_json_record *rec, const cm_json_member *m);

/* The string at text.outer.inner (text: a JSON object, readable for len +
 * CM_JSON_PADDING) into out, unescaped and NUL-terminated, through p's
 * buffers (no allocation once they are big enough; a record parsed before
 * stays valid: its members were copied out). 0, or -1 when it is not there,
 * not a string, or not shorter than cap. */
int cm_json_nested_string(cm_json_parser *p, const char *text, size_t len, const char *outer, const char *inner,
                          char *out, size_t cap);

/* 1 when s is valid UTF-8 (SIMD validation). */
int cm_json_valid_utf8(const char *s, size_t n);

/* Walks a small JSON document (a stats file, a manifest) and calls fn for
 * every scalar, with the path of keys (and array indexes as decimal strings)
 * leading to it. fn returns non-zero to stop. Returns 0, or -1 with err. */
typedef int (*cm_json_visit_fn)(void *user, const char *const *path, int depth, cm_json_type type,
                                double number, const char *str, size_t str_len);
int cm_json_visit(const char *text, size_t len, cm_json_visit_fn fn, void *user, cm_err *err);

/* ---- named fields of a small JSON document ---- */

/* A field to read: its dotted name ("model", "chunk.unit"), the type it
 * must have, and where it goes: a char array of cap bytes for a string, a
 * double for a number, an int (0 or 1) for a boolean; *found, when not NULL,
 * is set when it was there. A field of another type is left alone. */
typedef struct cm_json_field {
    const char *name; /* NULL ends a table */
    cm_json_type type;
    void *out;
    size_t cap;
    int *found;
} cm_json_field;

/* Reads the fields of text (a NULL-name-terminated table). 0, or -1 with
 * err when text is not valid JSON. */
int cm_json_fields(const char *text, size_t len, const cm_json_field *fields, cm_err *err);
/* The same from a file of at most 16 MiB; its text goes to *text (when not
 * NULL, the caller frees it). -1 with err naming the file. */
int cm_json_file_fields(const char *path, const cm_json_field *fields, cm_buf *text, cm_err *err);

#ifdef __cplusplus
}
#endif
#endif
