/* filter.h -- the interface every `clean` step implements.
 *
 * A filter is a descriptor in its own file under filters/, listed once in
 * filters/registry.c. The YAML config names steps in order:
 *
 *   clean:
 *     steps:
 *       - normalize: {form: nfkc}
 *
 * For each worker thread the pipeline calls create() with the step's YAML
 * block (NULL when the block is empty), then apply() for every document in
 * turn, then destroy(). An instance is used by one thread only, so it may
 * keep scratch buffers. create() validates its options: an unknown key or a
 * bad value is an error naming the file and line.
 *
 * apply() may:
 *   - keep the document unchanged: return CM_KEEP;
 *   - rewrite the text (line removals, normalization): write the new text to
 *     doc->scratch, call cm_doc_swap_text(doc), return CM_KEEP;
 *   - drop it: set doc->drop_rule to a short static rule name and return
 *     CM_DROP; the pipeline records the reason as "FILTER:RULE";
 *   - add notes: append `"key":value` pairs to doc->meta (comma separated).
 */
#ifndef CM_FILTER_H
#define CM_FILTER_H

#include "../pipeline/conf.h"
#include "../pipeline/document.h"

typedef enum cm_verdict { CM_KEEP = 0, CM_DROP = 1 } cm_verdict;

typedef struct cm_filter {
    const char *name;     /* the YAML key, and the prefix of drop reasons */
    const char *summary;  /* one line for `corpusmill filters` */
    const char *defaults; /* the options with their defaults, as YAML, with sources */
    void *(*create)(const cm_conf *options, cm_err *err);
    cm_verdict (*apply)(void *self, cm_doc *doc);
    void (*destroy)(void *self);
    const char *needs;    /* an option it cannot run without (a model file), or NULL: runs on defaults */
} cm_filter;

/* The registry: every filter, NULL-terminated. */
extern const cm_filter *const cm_filters[];

/* The filter called `name`, or NULL. */
const cm_filter *cm_filter_find(const char *name);

#endif
