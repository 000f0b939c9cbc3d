/* conf.c -- builds cm_conf trees from libyaml documents and reads typed
 * values from them with precise error messages. */
#include "conf.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

int cm_conf_error(cm_err *err, const cm_conf *node, const char *fmt, ...)
{
    if (!err) return -1;
    char msg[800];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (node) cm_usagef(err, "%s:%d:%d: %s", node->file, node->line, node->col, msg);
    else cm_usagef(err, "%s", msg);
    return -1;
}

static void free_node(cm_conf *n)
{
    if (!n) return;
    for (size_t i = 0; i < n->n; i++) {
        if (n->keys) free(n->keys[i]);
        free_node(n->items[i]);
    }
    free(n->keys);
    free(n->items);
    free(n->value);
    free(n);
}

void cm_conf_free(cm_conf *root)
{
    if (!root) return;
    char *file = (char *)root->file;
    free_node(root);
    free(file);
}

/* A config is small; aliases of aliases (a "billion laughs") are not. */
#define MAX_NODES 100000

static cm_conf *convert(yaml_document_t *doc, yaml_node_t *yn, const char *file, int depth, size_t *budget,
                        cm_err *err)
{
    if (depth > 64) {
        cm_usagef(err, "%s:%lu: YAML nested too deeply", file, (unsigned long)yn->start_mark.line + 1);
        return NULL;
    }
    if (*budget == 0) {
        cm_usagef(err, "%s:%lu: the YAML expands to more than %d nodes (aliases of aliases?)", file,
                  (unsigned long)yn->start_mark.line + 1, MAX_NODES);
        return NULL;
    }
    (*budget)--;
    cm_conf *n = cm_calloc(1, sizeof *n);
    n->file = file;
    n->line = (int)yn->start_mark.line + 1;
    n->col = (int)yn->start_mark.column + 1;
    switch (yn->type) {
    case YAML_SCALAR_NODE:
        n->type = CM_CONF_SCALAR;
        n->value = cm_strndup((const char *)yn->data.scalar.value, yn->data.scalar.length);
        n->plain = yn->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        return n;
    case YAML_SEQUENCE_NODE: {
        n->type = CM_CONF_SEQ;
        size_t count = (size_t)(yn->data.sequence.items.top - yn->data.sequence.items.start);
        n->items = cm_calloc(count, sizeof *n->items);
        for (size_t i = 0; i < count; i++) {
            yaml_node_t *c = yaml_document_get_node(doc, yn->data.sequence.items.start[i]);
            n->items[i] = c ? convert(doc, c, file, depth + 1, budget, err) : NULL;
            if (!n->items[i]) { n->n = i; free_node(n); return NULL; }
            n->n = i + 1;
        }
        return n;
    }
    case YAML_MAPPING_NODE: {
        n->type = CM_CONF_MAP;
        size_t count = (size_t)(yn->data.mapping.pairs.top - yn->data.mapping.pairs.start);
        n->items = cm_calloc(count, sizeof *n->items);
        n->keys = cm_calloc(count, sizeof *n->keys);
        for (size_t i = 0; i < count; i++) {
            yaml_node_pair_t *p = &yn->data.mapping.pairs.start[i];
            yaml_node_t *k = yaml_document_get_node(doc, p->key);
            yaml_node_t *v = yaml_document_get_node(doc, p->value);
            if (!k || !v || k->type != YAML_SCALAR_NODE) {
                cm_usagef(err, "%s:%lu:%lu: map keys must be plain strings", file,
                          (unsigned long)(k ? k->start_mark.line + 1 : 0),
                          (unsigned long)(k ? k->start_mark.column + 1 : 0));
                free_node(n);
                return NULL;
            }
            const char *key = (const char *)k->data.scalar.value;
            for (size_t j = 0; j < i; j++) {
                if (strcmp(n->keys[j], key) == 0) {
                    cm_usagef(err, "%s:%lu:%lu: duplicate key '%s'", file,
                              (unsigned long)k->start_mark.line + 1,
                              (unsigned long)k->start_mark.column + 1, key);
                    free_node(n);
                    return NULL;
                }
            }
            n->keys[i] = cm_strdup(key);
            n->items[i] = convert(doc, v, file, depth + 1, budget, err);
            if (!n->items[i]) { free(n->keys[i]); free_node(n); return NULL; }
            n->items[i]->key_line = (int)k->start_mark.line + 1;
            n->items[i]->key_col = (int)k->start_mark.column + 1;
            n->n = i + 1;
        }
        return n;
    }
    default:
        break;
    }
    free(n);
    cm_usagef(err, "%s: empty YAML node", file);
    return NULL;
}

cm_conf *cm_conf_load_string(const char *text, size_t len, const char *name, cm_err *err)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&parser)) {
        cm_usagef(err, "%s: cannot initialize the YAML parser", name);
        return NULL;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        cm_usagef(err, "%s:%lu:%lu: YAML error: %s%s%s", name, (unsigned long)parser.problem_mark.line + 1,
                  (unsigned long)parser.problem_mark.column + 1, parser.problem ? parser.problem : "syntax error",
                  parser.context ? " " : "", parser.context ? parser.context : "");
        yaml_parser_delete(&parser);
        return NULL;
    }
    char *file = cm_strdup(name);
    cm_conf *root;
    yaml_node_t *top = yaml_document_get_root_node(&doc);
    if (!top) {
        root = cm_calloc(1, sizeof *root);
        root->type = CM_CONF_MAP;
        root->file = file;
        root->line = root->col = 1;
    } else {
        size_t budget = MAX_NODES;
        root = convert(&doc, top, file, 0, &budget, err);
        if (root && root->type != CM_CONF_MAP) {
            cm_conf_error(err, root, "the config must be a map of sections");
            free_node(root);
            root = NULL;
        }
        if (!root) free(file);
    }
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    return root;
}

cm_conf *cm_conf_load_file(const char *path, cm_err *err)
{
    cm_buf b;
    cm_buf_init(&b);
    if (cm_read_file(path, &b, 16u << 20, err) != 0) {
        cm_buf_free(&b);
        return NULL;
    }
    cm_conf *c = cm_conf_load_string(b.data, b.len, path, err);
    cm_buf_free(&b);
    return c;
}

const cm_conf *cm_conf_get(const cm_conf *map, const char *key)
{
    if (!map || map->type != CM_CONF_MAP) return NULL;
    for (size_t i = 0; i < map->n; i++)
        if (strcmp(map->keys[i], key) == 0) return map->items[i];
    return NULL;
}

/* "a, b, c" from a NULL-terminated list, into out. */
static void join_names(const char *const *names, cm_buf *out)
{
    for (const char *const *k = names; *k; k++) {
        if (out->len) cm_buf_append_str(out, ", ");
        cm_buf_append_str(out, *k);
    }
    if (!out->data) cm_buf_append_str(out, "none");
}

int cm_conf_check_keys(const cm_conf *node, const char *what, const char *const *known, cm_err *err)
{
    if (!node) return 0;
    if (node->type != CM_CONF_MAP) return cm_conf_error(err, node, "'%s' must be a map of options", what);
    for (size_t i = 0; i < node->n; i++) {
        int ok = 0;
        for (const char *const *k = known; *k; k++)
            if (strcmp(*k, node->keys[i]) == 0) { ok = 1; break; }
        if (!ok) {
            cm_buf list;
            cm_buf_init(&list);
            join_names(known, &list);
            int r = cm_usagef(err, "%s:%d:%d: unknown key '%s' in %s (known: %s)", node->file, node->items[i]->key_line,
                              node->items[i]->key_col, node->keys[i], what, list.data);
            cm_buf_free(&list);
            return r;
        }
    }
    return 0;
}

/* The scalar under key, NULL when absent; an error when not a scalar. */
static int scalar_of(const cm_conf *map, const char *key, const cm_conf **out, cm_err *err)
{
    *out = NULL;
    const cm_conf *n = cm_conf_get(map, key);
    if (!n) return 0;
    if (n->type != CM_CONF_SCALAR) return cm_conf_error(err, n, "'%s' must be a single value", key);
    if (n->plain && (strcmp(n->value, "") == 0 || strcmp(n->value, "~") == 0 || strcmp(n->value, "null") == 0))
        return 0; /* explicit null: keep the default */
    *out = n;
    return 0;
}

int cm_conf_bool(const cm_conf *map, const char *key, int *out, cm_err *err)
{
    const cm_conf *n;
    if (scalar_of(map, key, &n, err)) return -1;
    if (!n) return 0;
    const char *v = n->value;
    if (!strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcasecmp(v, "on")) *out = 1;
    else if (!strcasecmp(v, "false") || !strcasecmp(v, "no") || !strcasecmp(v, "off")) *out = 0;
    else return cm_conf_error(err, n, "'%s' must be true or false, not '%s'", key, v);
    return 0;
}

int cm_conf_int(const cm_conf *map, const char *key, long min, long max, long *out, cm_err *err)
{
    const cm_conf *n;
    if (scalar_of(map, key, &n, err)) return -1;
    if (!n) return 0;
    char *end;
    errno = 0;
    long v = strtol(n->value, &end, 10);
    if (errno || end == n->value || *end) return cm_conf_error(err, n, "'%s' must be an integer, not '%s'", key, n->value);
    if (v < min || v > max) return cm_conf_error(err, n, "'%s' must be between %ld and %ld, not %ld", key, min, max, v);
    *out = v;
    return 0;
}

int cm_conf_double(const cm_conf *map, const char *key, double min, double max, double *out, cm_err *err)
{
    const cm_conf *n;
    if (scalar_of(map, key, &n, err)) return -1;
    if (!n) return 0;
    char *end;
    errno = 0;
    double v = strtod(n->value, &end);
    if (errno || end == n->value || *end || isnan(v)) return cm_conf_error(err, n, "'%s' must be a number, not '%s'", key, n->value);
    if (v < min || v > max) return cm_conf_error(err, n, "'%s' must be between %g and %g, not %g", key, min, max, v);
    *out = v;
    return 0;
}

int cm_conf_size(const cm_conf *map, const char *key, uint64_t *out, cm_err *err)
{
    const cm_conf *n;
    if (scalar_of(map, key, &n, err)) return -1;
    if (!n) return 0;
    char *end;
    errno = 0;
    double v = strtod(n->value, &end);
    if (errno || end == n->value || v < 0) return cm_conf_error(err, n, "'%s' must be a size such as 64MiB, not '%s'", key, n->value);
    while (*end == ' ') end++;
    static const struct { const char *unit; double mult; } units[] = {
        {"", 1}, {"B", 1}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
        {"KiB", 1024.0}, {"MiB", 1048576.0}, {"GiB", 1073741824.0}, {"TiB", 1099511627776.0},
        {"K", 1024.0}, {"M", 1048576.0}, {"G", 1073741824.0},
    };
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcmp(end, units[i].unit) == 0) {
            double bytes = v * units[i].mult;
            /* 2^64 is exactly representable; anything at or above it does not fit in a size */
            if (!(bytes < 18446744073709551616.0)) return cm_conf_error(err, n, "'%s' is too large: '%s'", key, n->value);
            *out = (uint64_t)bytes;
            return 0;
        }
    }
    return cm_conf_error(err, n, "'%s': unknown size unit '%s' (use B, KB, MB, GB, KiB, MiB, GiB)", key, end);
}

int cm_conf_string(const cm_conf *map, const char *key, char **out, cm_err *err)
{
    const cm_conf *n;
    if (scalar_of(map, key, &n, err)) return -1;
    if (!n) return 0;
    free(*out);
    *out = cm_strdup(n->value);
    return 0;
}

int cm_conf_enum(const cm_conf *map, const char *key, const char *const *choices, int *out, cm_err *err)
{
    const cm_conf *n;
    if (scalar_of(map, key, &n, err)) return -1;
    if (!n) return 0;
    for (int i = 0; choices[i]; i++)
        if (strcmp(choices[i], n->value) == 0) { *out = i; return 0; }
    cm_buf list;
    cm_buf_init(&list);
    join_names(choices, &list);
    int r = cm_conf_error(err, n, "'%s' must be one of %s, not '%s'", key, list.data, n->value);
    cm_buf_free(&list);
    return r;
}

void cm_conf_free_strings(char **list, size_t n)
{
    for (size_t i = 0; i < n; i++) free(list[i]);
    free(list);
}

int cm_conf_strings(const cm_conf *map, const char *key, char ***list, size_t *n, cm_err *err)
{
    const cm_conf *node = cm_conf_get(map, key);
    if (!node) return 0;
    char **out;
    size_t count;
    if (node->type == CM_CONF_SCALAR) {
        out = cm_calloc(1, sizeof *out);
        out[0] = cm_strdup(node->value);
        count = 1;
    } else if (node->type == CM_CONF_SEQ) {
        out = cm_calloc(node->n, sizeof *out);
        for (size_t i = 0; i < node->n; i++) {
            if (node->items[i]->type != CM_CONF_SCALAR) {
                cm_conf_free_strings(out, i);
                return cm_conf_error(err, node->items[i], "'%s' must be a list of strings", key);
            }
            out[i] = cm_strdup(node->items[i]->value);
        }
        count = node->n;
    } else {
        return cm_conf_error(err, node, "'%s' must be a string or a list of strings", key);
    }
    cm_conf_free_strings(*list, *n);
    *list = out;
    *n = count;
    return 0;
}
