/* json_fields.c -- named fields of a small JSON document (a manifest, a
 * stats or claim file) into typed slots, over the JSON visitor (see
 * json.h): the one reader every manifest goes through. */
#include "json.h"

#include <stdio.h>
#include <string.h>

typedef struct fields_walk {
    const cm_json_field *fields;
} fields_walk;

/* Whether the visitor's path (keys and array indexes) is the dotted name. */
static int path_is(const char *const *path, int depth, const char *name)
{
    for (int d = 0; d < depth; d++) {
        size_t l = strlen(path[d]);
        if (strncmp(name, path[d], l)) return 0;
        name += l;
        if (d + 1 < depth) {
            if (*name != '.') return 0;
            name++;
        }
    }
    return *name == 0;
}

static int visit(void *user, const char *const *path, int depth, cm_json_type type, double num, const char *str,
                 size_t len)
{
    fields_walk *w = user;
    for (const cm_json_field *f = w->fields; f->name; f++) {
        if (f->type != type || !path_is(path, depth, f->name)) continue;
        if (type == CM_JSON_STRING) snprintf(f->out, f->cap, "%.*s", (int)len, str);
        else if (type == CM_JSON_NUMBER) *(double *)f->out = num;
        else if (type == CM_JSON_BOOL) *(int *)f->out = num != 0;
        if (f->found) *f->found = 1;
    }
    return 0;
}

int cm_json_fields(const char *text, size_t len, const cm_json_field *fields, cm_err *err)
{
    fields_walk w = {fields};
    return cm_json_visit(text, len, visit, &w, err);
}

int cm_json_file_fields(const char *path, const cm_json_field *fields, cm_buf *text, cm_err *err)
{
    cm_buf own;
    cm_buf_init(&own);
    cm_buf *b = text ? text : &own;
    cm_buf_init(b);
    int rc = cm_read_file(path, b, 16u << 20, err);
    cm_err e;
    if (rc == 0 && cm_json_fields(b->data, b->len, fields, &e)) rc = cm_errorf(err, "%s: %s", path, e.msg);
    if (!text || rc) cm_buf_free(b);
    return rc;
}
