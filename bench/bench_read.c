/* bench_read.c -- throughput of the reading layers alone, on one core:
 *   bench_read decompress FILE   decode the file (cm_source), MB/s of output
 *   bench_read parse FILE        JSON parsing with full validation
 *                                (cm_json_parse_record), MB/s of JSON; the
 *                                records are loaded first, only parsing is timed
 *   bench_read normalize FILE    the normalize step on every record's text
 *   bench_read minhash FILE      MinHash signatures (5-gram shingles, 14 x 8) of every record's text
 *   bench_read signals FILE      every quality signal (filters/signals.h, fast word units) of every
 *                                record's text; the best of 5 passes (this VM's speed wanders) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "document.h"
#include "filter.h"
#include "format.h"
#include "json.h"
#include "minhash.h"
#include "signals.h"
#include "source.h"
#include "util.h"

static double decompress(const char *path, uint64_t *bytes)
{
    cm_err err;
    double t0 = cm_now();
    cm_source *s = cm_source_open(path, &err);
    if (!s) { fprintf(stderr, "%s\n", err.msg); exit(1); }
    const char *m;
    static char buf[1 << 20];
    *bytes = 0;
    while (cm_source_next_member(s, &m, &err) == 1) {
        long n;
        while ((n = cm_source_read(s, buf, sizeof buf, &err)) > 0) *bytes += (uint64_t)n;
        if (n < 0) { fprintf(stderr, "%s\n", err.msg); exit(1); }
    }
    cm_source_close(s);
    return cm_now() - t0;
}

/* Loads every line, each followed by simdjson's padding. */
static void load_lines(const char *path, cm_buf *all, size_t **offs, size_t *n)
{
    cm_err err;
    cm_source *s = cm_source_open(path, &err);
    if (!s) { fprintf(stderr, "%s\n", err.msg); exit(1); }
    const char *m;
    size_t cap = 1 << 16;
    *offs = malloc(cap * sizeof **offs);
    *n = 0;
    while (cm_source_next_member(s, &m, &err) == 1) {
        cm_lines l;
        cm_lines_init(&l, s, 64u << 20);
        const char *p;
        size_t len;
        uint64_t full, off;
        int flags;
        while (cm_lines_next(&l, &p, &len, &full, &off, &flags)) {
            if (*n + 2 >= cap) { cap *= 2; *offs = realloc(*offs, cap * sizeof **offs); }
            (*offs)[(*n)++] = all->len;
            cm_buf_append(all, p, len);
            for (int i = 0; i < CM_JSON_PADDING; i++) cm_buf_append_char(all, ' ');
        }
        cm_lines_free(&l);
    }
    (*offs)[*n] = all->len;
    cm_source_close(s);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: bench_read decompress|parse|normalize|minhash|signals FILE\n");
        return 2;
    }
    if (!strcmp(argv[1], "decompress")) {
        uint64_t bytes;
        double t = decompress(argv[2], &bytes);
        printf("decompress: %.1f MB in %.3f s = %.0f MB/s (one core)\n", bytes / 1e6, t, bytes / 1e6 / t);
        return 0;
    }
    cm_buf all;
    cm_buf_init(&all);
    size_t *offs, n;
    load_lines(argv[2], &all, &offs, &n);
    uint64_t json_bytes = all.len - n * CM_JSON_PADDING;
    cm_json_parser *p = cm_json_parser_create();
    cm_json_record r;
    cm_json_record_init(&r);
    cm_err err;
    size_t bad = 0;
    if (!strcmp(argv[1], "parse")) {
        double t0 = cm_now();
        for (size_t i = 0; i < n; i++) {
            size_t len = offs[i + 1] - offs[i] - CM_JSON_PADDING;
            if (cm_json_parse_record(p, all.data + offs[i], len, &r, &err) != 0) bad++;
        }
        double t = cm_now() - t0;
        printf("parse: %zu records, %.1f MB in %.3f s = %.0f MB/s (one core, full validation)%s\n", n,
               json_bytes / 1e6, t, json_bytes / 1e6 / t, bad ? " [some records invalid]" : "");
    } else if (!strcmp(argv[1], "normalize")) {
        const cm_filter *f = cm_filter_find("normalize");
        void *st = f->create(NULL, &err);
        cm_doc d;
        cm_doc_init(&d);
        uint64_t text_bytes = 0;
        double busy = 0;
        for (size_t i = 0; i < n; i++) {
            size_t len = offs[i + 1] - offs[i] - CM_JSON_PADDING;
            if (cm_json_parse_record(p, all.data + offs[i], len, &r, &err) != 0) continue;
            long ti = cm_json_find(&r, "content", NULL);
            if (ti < 0) continue;
            cm_doc_reset(&d);
            cm_buf_append(&d.text, cm_json_str(&r, &r.members[ti]), r.members[ti].str_len);
            text_bytes += d.text.len;
            double t0 = cm_now();
            f->apply(st, &d);
            busy += cm_now() - t0;
        }
        printf("normalize: %.1f MB of text in %.3f s = %.0f MB/s (one core)\n", text_bytes / 1e6, busy,
               text_bytes / 1e6 / busy);
        cm_doc_free(&d);
        f->destroy(st);
    }
    else if (!strcmp(argv[1], "minhash")) {
        cm_minhash_params mp;
        cm_minhash_params_default(&mp);
        cm_minhasher *m = cm_minhasher_create(&mp);
        uint32_t sig[14 * 8];
        uint64_t text_bytes = 0, shingles = 0;
        double busy = 0;
        for (size_t i = 0; i < n; i++) {
            size_t len = offs[i + 1] - offs[i] - CM_JSON_PADDING;
            if (cm_json_parse_record(p, all.data + offs[i], len, &r, &err) != 0) continue;
            long ti = cm_json_find(&r, "content", NULL);
            if (ti < 0) continue;
            const char *t = cm_json_str(&r, &r.members[ti]);
            size_t tl = r.members[ti].str_len;
            text_bytes += tl;
            double t0 = cm_now();
            shingles += cm_minhash_signature(m, t, tl, sig);
            busy += cm_now() - t0;
        }
        printf("minhash: %.1f MB of text, %llu shingles in %.3f s = %.1f MB/s (one core)\n", text_bytes / 1e6,
               (unsigned long long)shingles, busy, text_bytes / 1e6 / busy);
        cm_minhasher_free(m);
    }
    else if (!strcmp(argv[1], "signals")) {
        cm_buf texts;
        cm_buf_init(&texts);
        size_t *ends = malloc((n + 1) * sizeof *ends), n_texts = 0;
        for (size_t i = 0; i < n; i++) {
            size_t len = offs[i + 1] - offs[i] - CM_JSON_PADDING;
            if (cm_json_parse_record(p, all.data + offs[i], len, &r, &err) != 0) continue;
            long ti = cm_json_find(&r, "content", NULL);
            if (ti < 0) continue;
            cm_buf_append(&texts, cm_json_str(&r, &r.members[ti]), r.members[ti].str_len);
            ends[n_texts++] = texts.len;
        }
        cm_signal_opts so;
        cm_signal_opts_default(&so);
        cm_doc d;
        cm_doc_init(&d);
        cm_signals_setup(&d, &so);
        double best = 1e30, check = 0;
        for (int pass = 0; pass < 5; pass++) {
            double t0 = cm_now(), sum = 0;
            for (size_t i = 0, at = 0; i < n_texts; at = ends[i++]) {
                cm_doc_reset(&d);
                cm_buf_append(&d.text, texts.data + at, ends[i] - at);
                const cm_signal_values *v = cm_signals_get(&d);
                sum += v->dup_5gram_frac + v->top_2gram_frac + v->words;
            }
            double t = cm_now() - t0;
            if (t < best) best = t;
            check = sum;
        }
        printf("signals: %zu texts, %.1f MB in %.3f s = %.1f MB/s (one core, best of 5; checksum %.6g)\n", n_texts,
               texts.len / 1e6, best, texts.len / 1e6 / best, check);
        cm_doc_free(&d);
        cm_buf_free(&texts);
        free(ends);
    }
    cm_json_record_free(&r);
    cm_json_parser_free(p);
    free(offs);
    cm_buf_free(&all);
    return 0;
}
