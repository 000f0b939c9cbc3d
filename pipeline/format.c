/* format.c -- the line splitter shared by the line-based formats, and the
 * choice of format by name. */
#include "format.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

#define READ_CHUNK (1u << 20)

void cm_lines_init(cm_lines *l, cm_source *src, uint64_t max_record_size)
{
    memset(l, 0, sizeof *l);
    l->src = src;
    l->max_record_size = max_record_size;
    l->cap = 2 * READ_CHUNK;
    l->buf = cm_malloc(l->cap);
    l->evidence = cm_malloc(CM_EVIDENCE_BYTES);
}

void cm_lines_free(cm_lines *l)
{
    free(l->buf);
    free(l->evidence);
    l->buf = l->evidence = NULL;
}

/* Reads more into buf after `end`, growing the buffer up to the line limit.
 * Returns bytes read, 0 at the end, -1 on error. */
static long fill(cm_lines *l)
{
    if (l->eof) return 0;
    if (l->start > 0 && (l->cap - l->end) < READ_CHUNK) {
        memmove(l->buf, l->buf + l->start, l->end - l->start);
        l->end -= l->start;
        l->start = 0;
    }
    if (l->cap - l->end < READ_CHUNK) {
        l->cap *= 2;
        l->buf = cm_realloc(l->buf, l->cap);
    }
    long r = cm_source_read(l->src, l->buf + l->end, l->cap - l->end, &l->err);
    if (r < 0) { l->failed = 1; l->eof = 1; return -1; }
    if (r == 0) { l->eof = 1; return 0; }
    l->end += (size_t)r;
    return r;
}

/* Skips the rest of an over-long line; returns its total length. */
static uint64_t skip_rest_of_line(cm_lines *l, uint64_t seen)
{
    for (;;) {
        char *nl = memchr(l->buf + l->start, '\n', l->end - l->start);
        if (nl) {
            size_t k = (size_t)(nl - (l->buf + l->start));
            seen += k;
            l->offset += k + 1;
            l->start += k + 1;
            return seen;
        }
        seen += l->end - l->start;
        l->offset += l->end - l->start;
        l->start = l->end = 0;
        if (fill(l) <= 0) return seen;
    }
}

int cm_lines_next(cm_lines *l, const char **p, size_t *n, uint64_t *full_len, uint64_t *offset, int *flags)
{
    *flags = 0;
    size_t scanned = 0; /* bytes after start known to hold no newline */
    for (;;) {
        char *nl = memchr(l->buf + l->start + scanned, '\n', l->end - l->start - scanned);
        if (nl && (uint64_t)(nl - (l->buf + l->start)) > l->max_record_size) {
            size_t k = (size_t)(nl - (l->buf + l->start));
            size_t keep = k < CM_EVIDENCE_BYTES ? k : CM_EVIDENCE_BYTES;
            memcpy(l->evidence, l->buf + l->start, keep);
            *p = l->evidence;
            *n = keep;
            *full_len = k;
            *offset = l->offset;
            *flags = CM_LINE_TOO_LONG;
            l->offset += k + 1;
            l->start += k + 1;
            l->line++;
            return 1;
        }
        if (nl) {
            size_t k = (size_t)(nl - (l->buf + l->start));
            *p = l->buf + l->start;
            *n = k;
            *full_len = k;
            *offset = l->offset;
            l->offset += k + 1;
            l->start += k + 1;
            l->line++;
            return 1;
        }
        scanned = l->end - l->start;
        if (scanned > l->max_record_size) {
            /* Too long: keep the start as evidence, skip to the next line. */
            uint64_t at = l->offset;
            size_t keep = scanned < CM_EVIDENCE_BYTES ? scanned : CM_EVIDENCE_BYTES;
            memcpy(l->evidence, l->buf + l->start, keep);
            *p = l->evidence;
            *n = keep;
            *full_len = skip_rest_of_line(l, 0);
            *offset = at;
            *flags = CM_LINE_TOO_LONG;
            l->line++;
            return 1;
        }
        long r = fill(l);
        if (r > 0) continue;
        /* end of stream (or broken): the rest is the last line */
        if (l->end > l->start) {
            size_t k = l->end - l->start;
            *p = l->buf + l->start;
            *n = k;
            *full_len = k;
            *offset = l->offset;
            l->offset += k;
            l->start = l->end;
            l->line++;
            if (l->failed) *flags = CM_LINE_TRUNCATED;
            return 1;
        }
        return 0;
    }
}

static int is_blank(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r') return 0;
    return 1;
}

int cm_format_read_lines(cm_source *src, uint64_t max_record_size, int kind, const cm_record_sink *sink, cm_err *err)
{
    cm_lines l;
    cm_lines_init(&l, src, max_record_size);
    const char *p;
    size_t n;
    uint64_t full, off;
    int flags;
    while (cm_lines_next(&l, &p, &n, &full, &off, &flags)) {
        if (l.line == 1 && n >= 3 && (unsigned char)p[0] == 0xEF && (unsigned char)p[1] == 0xBB &&
            (unsigned char)p[2] == 0xBF) {
            p += 3;
            n -= 3;
            full -= 3;
        }
        if (!flags && n && p[n - 1] == '\r') n--, full--;
        if (!flags && is_blank(p, n)) {
            sink->blank(sink->user);
            continue;
        }
        int damage = (flags & CM_LINE_TOO_LONG) ? CM_DAMAGE_TOO_LONG : (flags & CM_LINE_TRUNCATED) ? CM_DAMAGE_TRUNCATED : 0;
        sink->record(sink->user, p, n, l.line, off, kind, damage, full);
    }
    int failed = l.failed;
    if (failed) *err = l.err;
    cm_lines_free(&l);
    return failed ? -1 : 0;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* The name without a compression suffix, into out. */
static void strip_compression(const char *name, char *out, size_t cap)
{
    snprintf(out, cap, "%s", name);
    static const char *const sfx[] = {".gz", ".zst", ".zstd", ".xz", ".bz2", NULL};
    for (int i = 0; sfx[i]; i++) {
        if (ends_with(out, sfx[i])) {
            out[strlen(out) - strlen(sfx[i])] = 0;
            return;
        }
    }
    if (ends_with(out, ".tgz")) strcpy(out + strlen(out) - 4, ".tar");
}

static int is_text_name(const char *name)
{
    char base[4096];
    strip_compression(name, base, sizeof base);
    return ends_with(base, ".md") || ends_with(base, ".markdown") || ends_with(base, ".txt") ||
           ends_with(base, ".rst");
}

static int is_jsonl_name(const char *name)
{
    char base[4096];
    strip_compression(name, base, sizeof base);
    return ends_with(base, ".jsonl") || ends_with(base, ".json") || ends_with(base, ".ndjson") ||
           ends_with(base, ".tar");
}

const cm_format *cm_format_for(int kind, const char *name)
{
    switch (kind) {
    case CM_FORMAT_JSONL: return &cm_format_jsonl;
    case CM_FORMAT_TEXT: return &cm_format_text;
    case CM_FORMAT_LINES: return &cm_format_lines;
    default: return is_text_name(name) ? &cm_format_text : &cm_format_jsonl;
    }
}

int cm_format_claims(int kind, const char *name)
{
    switch (kind) {
    case CM_FORMAT_JSONL: return is_jsonl_name(name);
    case CM_FORMAT_TEXT:
    case CM_FORMAT_LINES: return is_text_name(name) || is_jsonl_name(name);
    default: return is_text_name(name) || is_jsonl_name(name);
    }
}

