/* args.c -- the one argument parser every command uses (see program.h):
 * a table of options per command, and its positional arguments. */
#define _GNU_SOURCE
#include "program.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../pipeline/progress.h"

int cm_usage_error(const char *command, const char *usage, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "corpusmill %s: %s\n\n%s", command, msg, usage);
    return CM_EXIT_USAGE;
}

void cm_arg_list_free(cm_arg_list *l)
{
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

static int parse_long(const char *s, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end) return -1;
    *out = v;
    return 0;
}

int cm_parse_progress(const char *v, void *out)
{
    int *mode = out;
    long fd;
    if (!strcmp(v, "auto")) mode[0] = CM_PROGRESS_AUTO;
    else if (!strcmp(v, "bar")) mode[0] = CM_PROGRESS_BAR;
    else if (!strcmp(v, "log")) mode[0] = CM_PROGRESS_LOG;
    else if (!strcmp(v, "none")) mode[0] = CM_PROGRESS_NONE;
    else if (!strncmp(v, "fd:", 3) && parse_long(v + 3, &fd) == 0 && fd >= 0 && fd < 1024) {
        mode[0] = CM_PROGRESS_FD;
        mode[1] = (int)fd;
    } else return -1;
    return 0;
}

int cm_parse_bm25_engine(const char *v, void *out)
{
    if (!strcmp(v, "index")) *(int *)out = 0;
    else if (!strcmp(v, "fts5")) *(int *)out = 1;
    else return -1;
    return 0;
}

/* The option arg names, and where its value starts when it is attached
 * (--name=value, -jN); NULL when arg is none of the table's. */
static const cm_arg *find_option(const cm_arg *opts, const char *arg, const char **attached)
{
    *attached = NULL;
    for (const cm_arg *o = opts; o && o->name; o++) {
        const char *names[2] = {o->name, o->alias};
        for (int k = 0; k < 2; k++) {
            const char *n = names[k];
            if (!n) continue;
            size_t l = strlen(n);
            if (strncmp(arg, n, l)) continue;
            if (!arg[l]) return o;
            if (arg[l] == '=') { *attached = arg + l + 1; return o; }
            if (k == 1 && l == 2 && arg[1] != '-') { *attached = arg + l; return o; } /* -j4 */
        }
    }
    return NULL;
}

static int take_value(const cm_args *a, const cm_arg *o, const char *value)
{
    switch (o->kind) {
    case CM_ARG_LONG: {
        long v;
        if (parse_long(value, &v) || v < o->min || v > o->max) {
            if (o->what) return cm_usage_error(a->command, a->usage, "%s '%s' must be %s", o->name, value, o->what);
            return cm_usage_error(a->command, a->usage, "%s '%s' must be an integer from %ld to %ld", o->name, value,
                                  o->min, o->max);
        }
        *(long *)o->out = v;
        return 0;
    }
    case CM_ARG_STRING: *(const char **)o->out = value; return 0;
    case CM_ARG_STRINGS: {
        cm_arg_list *l = o->out;
        l->items = cm_realloc(l->items, (l->n + 1) * sizeof *l->items);
        l->items[l->n++] = value;
        return 0;
    }
    default:
        if (o->parse(value, o->out))
            return cm_usage_error(a->command, a->usage, "bad %s '%s'%s%s", o->name, value, o->what ? ": " : "",
                                  o->what ? o->what : "");
        return 0;
    }
}

int cm_args_parse(const cm_args *a, int argc, char **argv, int *help)
{
    *help = 0;
    int npos = 0;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
            *help = 1;
            fputs(a->usage, stdout);
            return CM_EXIT_OK;
        }
        if (arg[0] != '-' || !arg[1]) {
            if (npos >= a->n_positional) return cm_usage_error(a->command, a->usage, "unexpected argument '%s'", arg);
            a->positional[npos++] = arg;
            continue;
        }
        const char *value;
        const cm_arg *o = find_option(a->options, arg, &value);
        if (!o) return cm_usage_error(a->command, a->usage, "unknown option '%s'", arg);
        if (o->kind == CM_ARG_FLAG || o->kind == CM_ARG_UNFLAG) {
            if (value) return cm_usage_error(a->command, a->usage, "option '%s' takes no value", o->name);
            *(int *)o->out = o->kind == CM_ARG_FLAG;
            continue;
        }
        if (!value) {
            if (i + 1 >= argc) return cm_usage_error(a->command, a->usage, "option '%s' needs a value", arg);
            value = argv[++i];
        }
        int rc = take_value(a, o, value);
        if (rc) return rc;
    }
    if (npos < a->required) return cm_usage_error(a->command, a->usage, "%s is required", a->positional_names[npos]);
    return CM_EXIT_OK;
}

int cm_parse_unit_interval(const char *v, void *out)
{
    char *end;
    double x = strtod(v, &end);
    if (end == v || *end || !(x >= 0 && x <= 1)) return -1;
    *(double *)out = x;
    return 0;
}
