/* document.h -- one record on its way through `clean`: where it came from,
 * the record as read, and the text that filters look at and may rewrite.
 *
 * A worker owns one cm_doc and reuses it for every record (the buffers keep
 * their capacity), so the hot loop allocates nothing. */
#ifndef CM_DOCUMENT_H
#define CM_DOCUMENT_H

#include <stddef.h>
#include <stdint.h>
#include "json.h"
#include "util.h"

/* An input file and, for archives, the member being read. Lives as long as
 * the task; records point to it. */
typedef struct cm_origin {
    char *file;
    char *member; /* NULL outside archives */
    char *rel;    /* id base for text formats: the member, or the path below the named directory */
} cm_origin;

/* What the document calls on its cache (each may be NULL). */
typedef struct cm_doc_cache_ops {
    void (*text_changed)(void *cache); /* the text was rewritten */
    void (*reset)(void *cache);        /* a new record starts */
    void (*free)(void *cache);
} cm_doc_cache_ops;

typedef struct cm_doc {
    /* where it came from */
    const cm_origin *origin;
    uint64_t line;        /* 1-based line of the record in its file or member */

    /* the record as read: a JSON line, or plain text for text formats */
    const char *raw;
    size_t raw_len;
    int is_json;
    cm_json_record json;  /* top-level members, when is_json */
    long text_member;     /* index in json.members, -1 when the text was synthesized */
    long id_member;       /* index in json.members, or -1 */
    const char *text_key; /* the key the text is written under */
    const char *synth_id; /* id for text formats (relative path, path:line) */

    /* the text being cleaned: valid UTF-8; filters may rewrite it */
    cm_buf text;
    cm_buf scratch;       /* a spare buffer a filter fills and swaps in with cm_doc_swap_text */
    int text_changed;     /* the text differs from the record's */
    int text_added;       /* the text member is new (rendered from a template) */

    /* notes on the record, written under "corpusmill" */
    size_t utf8_replaced; /* invalid UTF-8 sequences replaced by U+FFFD */
    cm_buf meta;          /* extra members of the "corpusmill" object, as `"key":value` pairs joined by commas */

    /* state a filter layer keeps on the document across records (the
     * quality signals of filters/signals.h, computed on demand and cached
     * until the text changes); the document tells it when its text changes,
     * when a record starts and when it is freed */
    void *cache;
    const struct cm_doc_cache_ops *cache_ops;

    /* verdict */
    const char *drop_filter; /* name of the step that removed it, NULL when kept */
    const char *drop_rule;   /* the rule within that step */
} cm_doc;

void cm_doc_init(cm_doc *d);
void cm_doc_free(cm_doc *d);
/* Forgets the previous record, keeping buffer capacity. */
void cm_doc_reset(cm_doc *d);
/* Makes scratch the text (a filter that wrote its result to scratch calls
 * this); marks the text changed. */
void cm_doc_swap_text(cm_doc *d);

#endif
