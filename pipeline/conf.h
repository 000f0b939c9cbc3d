/* conf.h -- YAML configuration trees (libyaml) with typed, checked getters.
 *
 * A config file becomes a tree of cm_conf nodes that remember their file,
 * line and column, so that every error names where the problem is. Getters
 * leave the caller's default in place when a key is absent; a sections's
 * keys are checked against the list its owner knows, and an unknown key is an
 * error. */
#ifndef CM_CONF_H
#define CM_CONF_H

#include <stddef.h>
#include <stdint.h>
#include "util.h"

typedef enum cm_conf_type { CM_CONF_SCALAR, CM_CONF_MAP, CM_CONF_SEQ } cm_conf_type;

typedef struct cm_conf {
    cm_conf_type type;
    const char *file;       /* shared by every node of one tree */
    int line, col;          /* 1-based */
    int key_line, key_col;  /* where the key naming this node is, for map items */
    char *value;            /* scalars */
    int plain;              /* scalar was unquoted (so `null`, `~` mean null) */
    size_t n;               /* children of maps and sequences */
    char **keys;            /* maps: keys[i] names items[i] */
    struct cm_conf **items;
} cm_conf;

/* Loads a YAML file (one document). An empty file gives an empty map. */
cm_conf *cm_conf_load_file(const char *path, cm_err *err);
/* Same from memory; `name` is used in messages. */
cm_conf *cm_conf_load_string(const char *text, size_t len, const char *name, cm_err *err);
void cm_conf_free(cm_conf *root);

/* The child of a map by key, or NULL (also NULL when map is NULL). */
const cm_conf *cm_conf_get(const cm_conf *map, const char *key);

/* Fails when `node` is not a map or holds a key not in the NULL-terminated
 * `known` list. `what` names the section in messages ("input", "filter
 * normalize"). A NULL node passes. */
int cm_conf_check_keys(const cm_conf *node, const char *what, const char *const *known, cm_err *err);

/* Typed getters: when the key is absent *out keeps its value (the default). */
int cm_conf_bool(const cm_conf *map, const char *key, int *out, cm_err *err);
int cm_conf_int(const cm_conf *map, const char *key, long min, long max, long *out, cm_err *err);
int cm_conf_double(const cm_conf *map, const char *key, double min, double max, double *out, cm_err *err);
/* A size: a number of bytes or a number with a unit (KB, MB, GB, KiB, MiB, GiB). */
int cm_conf_size(const cm_conf *map, const char *key, uint64_t *out, cm_err *err);
/* *out is replaced by a newly allocated copy (the old value is freed). */
int cm_conf_string(const cm_conf *map, const char *key, char **out, cm_err *err);
/* One of `choices` (NULL-terminated); *out is its index. */
int cm_conf_enum(const cm_conf *map, const char *key, const char *const *choices, int *out, cm_err *err);
/* A string or a list of strings; replaces *list (freeing the old one). */
int cm_conf_strings(const cm_conf *map, const char *key, char ***list, size_t *n, cm_err *err);
void cm_conf_free_strings(char **list, size_t n);

/* Formats "FILE:LINE:COL: " for a node into err, then the message. */
int cm_conf_error(cm_err *err, const cm_conf *node, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
