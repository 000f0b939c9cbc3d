/* report.c -- `corpusmill report OUT`: OUT/report.html, one self-contained
 * page that shows what the pipeline did to the data: the funnel, removals
 * per rule with examples, kept-versus-removed signal histograms per
 * language, the language mix, duplicate clusters, k-means clusters, the
 * index, and time and memory per stage and task.
 *
 * Charts are inline SVG written here: the page needs no script, font or
 * network (it opens on a cluster's login node), and nothing is bundled that
 * would need a JavaScript build. The numbers the page shows are also
 * embedded as JSON (<script type="application/json" id="report-data">) for
 * tools and tests. Work is bounded whatever the run's size: counts come from
 * the stats files, examples and histograms from a sample of at most
 * SAMPLE_RECORDS records per side, read from the start of each part. */
#define _GNU_SOURCE
#include "report.h"
#include "program.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../pipeline/format.h"
#include "../pipeline/json.h"
#include "../pipeline/source.h"
#include "../pipeline/stats.h"
#include "../pipeline/writer.h"

#define SAMPLE_RECORDS 4000
#define EXAMPLES_PER_RULE 3
#define EXAMPLE_CHARS 300
#define BINS 20

const char cm_report_usage[] =
    "usage: corpusmill report OUT\n"
    "\n"
    "Writes OUT/report.html: the funnel across stages, removals per rule with\n"
    "examples, kept-versus-removed histograms of the main signals per language,\n"
    "the language mix, duplicate and k-means cluster sizes, the index, and time\n"
    "and memory per stage and task. One self-contained file (inline SVG, no\n"
    "script or network). Bounded work: examples and histograms come from a\n"
    "sample of the records. `corpusmill run` writes it at the end.\n";

/* The funnel's rows: the counts every stage keeps (the stats of its
 * counting step), in the order a run goes through them, and the SemDeDup
 * counts pretrain keeps beside its own. Returns how many. */
static int funnel_stages(const char **out, int cap)
{
    int n = 0;
    for (size_t i = 0; cm_stages[i]; i++)
        for (int k = 0; k < cm_stages[i]->n_steps; k++)
            if (cm_stages[i]->steps[k].stats && n < cap) {
                const char *m = cm_stages[i]->steps[k].marker;
                int seen = 0;
                for (int j = 0; j < n; j++) seen |= !strcmp(out[j], m);
                if (!seen) out[n++] = m;
            }
    if (n < cap) out[n++] = "semdedup";
    return n;
}

/* The signals drawn, with their histogram range (chars on a log10 scale). */
typedef struct signal_spec {
    const char *name;
    double lo, hi;
    int log10;
} signal_spec;
static const signal_spec SIGNALS[] = {
    {"chars", 0, 6, 1},
    {"mean_word_length", 0, 15, 0},
    {"stop_words_frac", 0, 1, 0},
    {"dup_line_frac", 0, 1, 0},
    {"terminal_punct_lines_frac", 0, 1, 0},
    {"language_score", 0, 1, 0},
};
#define N_SIGNALS (sizeof SIGNALS / sizeof SIGNALS[0])
static const char *const LANGS[] = {"zh", "en", "other"};
#define N_LANGS 3

typedef struct example {
    char reason[96];
    char id[128];
    char text[EXAMPLE_CHARS * 4 + 8];
    char source[512];   /* input file:line */
    char part[512];     /* the rejected part and the line in it */
    char dup[640];      /* a duplicate's kept copy and the document it was verified against, with the pair's Jaccard */
} example;

typedef struct report {
    const char *out;
    uint64_t hist[N_LANGS][2][N_SIGNALS][BINS]; /* [lang][kept=0 / removed=1][signal][bin] */
    uint64_t sampled[2];
    cm_reasons languages;  /* language -> records in the sample */
    example *examples;
    size_t n_examples, cap_examples;
    cm_reasons dup_sizes;  /* "kept id" -> duplicates removed for it */
    /* the record being visited */
    double sig[N_SIGNALS];
    int has_sig[N_SIGNALS];
    char lang[16], reason[96], id[128], src_file[400];
    long src_line;
    char dup_of[200], via[200];
    double jaccard, jaccard_folded;  /* -1: none */
    uint64_t jaccard_bins[6];        /* dedup removals by verified Jaccard: <0.5, 0.5-0.6 .. 0.9-1.0 */
    const char *text_field;
    cm_buf text;
} report;

/* ---- HTML and JSON helpers ---- */

static void html(cm_buf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '<') cm_buf_append_str(b, "&lt;");
        else if (c == '>') cm_buf_append_str(b, "&gt;");
        else if (c == '&') cm_buf_append_str(b, "&amp;");
        else if (c == '"') cm_buf_append_str(b, "&quot;");
        else if (c == '\'') cm_buf_append_str(b, "&#39;");
        else if ((unsigned char)c < 0x20 && c != '\n' && c != '\t') cm_buf_append_char(b, ' ');
        else cm_buf_append_char(b, c);
    }
}
static void html_str(cm_buf *b, const char *s) { html(b, s, strlen(s)); }

/* A JSON string safe inside <script>: "<" never appears raw. */
static void json_str(cm_buf *b, const char *s)
{
    cm_buf tmp;
    cm_buf_init(&tmp);
    cm_buf_append_json_bytes(&tmp, s, strlen(s));
    for (size_t i = 0; i < tmp.len; i++) {
        if (tmp.data[i] == '<') cm_buf_append_str(b, "\\u003c");
        else cm_buf_append_char(b, tmp.data[i]);
    }
    cm_buf_free(&tmp);
}

static void human_bytes(char *out, size_t cap, double v)
{
    const char *u[] = {"B", "KB", "MB", "GB", "TB"};
    int i = 0;
    while (v >= 1000 && i < 4) { v /= 1000; i++; }
    snprintf(out, cap, i ? "%.1f %s" : "%.0f %s", v, u[i]);
}

/* Keeps whole UTF-8 characters: at most max_chars of them. */
static size_t utf8_prefix(const char *s, size_t n, size_t max_chars)
{
    size_t chars = 0, i = 0;
    while (i < n) {
        if (((unsigned char)s[i] & 0xC0) != 0x80) {
            if (chars == max_chars) break;
            chars++;
        }
        i++;
    }
    return i;
}

/* ---- sampling records ---- */

static int record_visit(void *user, const char *const *path, int depth, cm_json_type type, double num,
                        const char *str, size_t len)
{
    report *r = user;
    if (depth == 1 && type == CM_JSON_STRING && !strcmp(path[0], r->text_field)) {
        cm_buf_clear(&r->text);
        cm_buf_append(&r->text, str, len);
    } else if (depth == 1 && !strcmp(path[0], "id")) {
        if (type == CM_JSON_STRING) snprintf(r->id, sizeof r->id, "%.*s", (int)len, str);
        else if (type == CM_JSON_NUMBER) snprintf(r->id, sizeof r->id, "%.0f", num);
    } else if (depth >= 2 && !strcmp(path[0], "corpusmill")) {
        if (depth == 2 && type == CM_JSON_STRING && !strcmp(path[1], "language"))
            snprintf(r->lang, sizeof r->lang, "%.*s", (int)len, str);
        else if (depth == 2 && type == CM_JSON_STRING && !strcmp(path[1], "reason"))
            snprintf(r->reason, sizeof r->reason, "%.*s", (int)len, str);
        else if (depth == 3 && !strcmp(path[1], "source") && !strcmp(path[2], "file") && type == CM_JSON_STRING)
            snprintf(r->src_file, sizeof r->src_file, "%.*s", (int)len, str);
        else if (depth == 3 && !strcmp(path[1], "source") && !strcmp(path[2], "line") && type == CM_JSON_NUMBER)
            r->src_line = (long)num;
        else if (depth == 3 && !strcmp(path[1], "duplicate_of") && !strcmp(path[2], "id") && type == CM_JSON_STRING)
            snprintf(r->dup_of, sizeof r->dup_of, "%.*s", (int)len, str);
        else if (depth == 3 && !strcmp(path[1], "verified_against") && !strcmp(path[2], "id") && type == CM_JSON_STRING)
            snprintf(r->via, sizeof r->via, "%.*s", (int)len, str);
        else if (depth == 3 && !strcmp(path[1], "verified_against") && !strcmp(path[2], "jaccard") && type == CM_JSON_NUMBER)
            r->jaccard = num;
        else if (depth == 3 && !strcmp(path[1], "verified_against") && !strcmp(path[2], "jaccard_folded") &&
                 type == CM_JSON_NUMBER)
            r->jaccard_folded = num;
        else if (depth == 3 && !strcmp(path[1], "signals") && type == CM_JSON_NUMBER)
            for (size_t i = 0; i < N_SIGNALS; i++)
                if (!strcmp(path[2], SIGNALS[i].name)) { r->sig[i] = num; r->has_sig[i] = 1; }
    }
    return 0;
}

typedef struct sample_ctx {
    report *r;
    int removed;        /* the side being sampled */
    int hist;           /* clean's kept or rejected records: histograms and languages */
    int want_examples;  /* rejected records: collect examples */
    int want_dups;      /* rejected/dedup: duplicate clusters */
    const char *part;   /* the part being read (relative to OUT) */
    uint64_t taken, budget;
} sample_ctx;

static int lang_index(const char *lang)
{
    if (!strncmp(lang, "zh", 2)) return 0;
    if (!strncmp(lang, "en", 2)) return 1;
    return 2;
}

static void add_example(report *r, const sample_ctx *s, uint64_t line)
{
    size_t have = 0;
    for (size_t i = 0; i < r->n_examples; i++) have += !strcmp(r->examples[i].reason, r->reason);
    if (have >= EXAMPLES_PER_RULE) return;
    if (r->n_examples == r->cap_examples) {
        r->cap_examples = r->cap_examples ? 2 * r->cap_examples : 64;
        r->examples = cm_realloc(r->examples, r->cap_examples * sizeof *r->examples);
    }
    example *e = &r->examples[r->n_examples++];
    memset(e, 0, sizeof *e);
    snprintf(e->reason, sizeof e->reason, "%s", r->reason);
    snprintf(e->id, sizeof e->id, "%s", r->id);
    size_t n = utf8_prefix(r->text.data ? r->text.data : "", r->text.len, EXAMPLE_CHARS);
    snprintf(e->text, sizeof e->text, "%.*s%s", (int)n, r->text.data ? r->text.data : "", n < r->text.len ? " …" : "");
    if (r->src_file[0]) snprintf(e->source, sizeof e->source, "%s:%ld", r->src_file, r->src_line);
    snprintf(e->part, sizeof e->part, "%s:%llu", s->part, (unsigned long long)line);
    if (r->dup_of[0]) {
        int n2 = snprintf(e->dup, sizeof e->dup, "kept copy %s; verified against %s", r->dup_of, r->via[0] ? r->via : "?");
        if (r->jaccard >= 0 && n2 > 0 && (size_t)n2 < sizeof e->dup)
            n2 += snprintf(e->dup + n2, sizeof e->dup - (size_t)n2, ", Jaccard %.3f", r->jaccard);
        if (r->jaccard_folded >= 0 && n2 > 0 && (size_t)n2 < sizeof e->dup)
            snprintf(e->dup + n2, sizeof e->dup - (size_t)n2, " (%.3f with digits folded)", r->jaccard_folded);
    }
}

static void on_record(void *user, const char *data, size_t len, uint64_t line, uint64_t offset, int kind, int damage,
                      uint64_t full_len)
{
    (void)offset; (void)kind; (void)damage; (void)full_len;
    sample_ctx *s = user;
    report *r = s->r;
    if (s->taken >= s->budget) return;
    s->taken++;
    memset(r->has_sig, 0, sizeof r->has_sig);
    r->lang[0] = r->reason[0] = r->id[0] = r->src_file[0] = r->dup_of[0] = r->via[0] = 0;
    r->jaccard = r->jaccard_folded = -1;
    r->src_line = 0;
    cm_buf_clear(&r->text);
    if (cm_json_visit(data, len, record_visit, r, NULL)) return;
    if (s->want_dups && r->dup_of[0]) {
        cm_reasons_add(&r->dup_sizes, r->dup_of, 1);
        if (r->jaccard >= 0) r->jaccard_bins[r->jaccard < 0.5 ? 0 : r->jaccard >= 1 ? 5 : (int)(r->jaccard * 10) - 4]++;
    }
    if (s->hist) {
        int l = lang_index(r->lang);
        cm_reasons_add(&r->languages, r->lang[0] ? r->lang : "unknown", 1);
        r->sampled[s->removed]++;
        for (size_t i = 0; i < N_SIGNALS; i++) {
            if (!r->has_sig[i]) continue;
            double v = r->sig[i];
            if (SIGNALS[i].log10) v = v > 0 ? log10(v) : 0;
            int bin = (int)floor((v - SIGNALS[i].lo) / (SIGNALS[i].hi - SIGNALS[i].lo) * BINS);
            if (bin < 0) bin = 0;
            if (bin >= BINS) bin = BINS - 1;
            r->hist[l][s->removed][i][bin]++;
        }
    }
    if (s->want_examples && r->reason[0]) add_example(r, s, line);
}

static void on_blank(void *user) { (void)user; }

/* Reads records from the start of every part in OUT/folder, at most budget
 * in all, spread over the parts. */
static void sample_folder(report *r, const char *folder, int removed, int hist, int want_examples, int want_dups,
                          uint64_t budget)
{
    char dir[4400];
    snprintf(dir, sizeof dir, "%s/%s", r->out, folder);
    size_t n;
    char **parts = cm_list_dir(dir, "part-", &n);
    for (size_t i = 0; i < n; i++) {
        sample_ctx s = {r, removed, hist, want_examples, want_dups, parts[i] + strlen(r->out) + 1, 0,
                        budget / n + (i < budget % n)};
        cm_err err;
        cm_source *src = cm_source_open(parts[i], &err);
        if (!src) continue;
        const char *member;
        cm_record_sink sink = {on_record, on_blank, &s};
        if (cm_source_next_member(src, &member, &err) == 1)
            cm_format_read_lines(src, 64u << 20, CM_REC_JSON, &sink, &err); /* stops mattering once taken = budget */
        cm_source_close(src);
    }
    cm_free_list(parts, n);
}

/* ---- the page ---- */

static void bar_chart(cm_buf *b, const char *const *labels, const uint64_t *values, size_t n, const char *color)
{
    uint64_t max = 1;
    for (size_t i = 0; i < n; i++) if (values[i] > max) max = values[i];
    int row = 22, label_w = 300, bar_w = 460;
    cm_buf_appendf(b, "<svg class=\"chart\" width=\"%d\" height=\"%zu\" role=\"img\">", label_w + bar_w + 90,
                   n * (size_t)row + 4);
    for (size_t i = 0; i < n; i++) {
        double w = (double)values[i] / (double)max * bar_w;
        cm_buf_appendf(b, "<text x=\"%d\" y=\"%zu\" text-anchor=\"end\">", label_w - 6, i * (size_t)row + 15);
        html_str(b, labels[i]);
        cm_buf_appendf(b, "</text><rect x=\"%d\" y=\"%zu\" width=\"%.1f\" height=\"16\" fill=\"%s\"/>"
                          "<text x=\"%.1f\" y=\"%zu\">%llu</text>",
                       label_w, i * (size_t)row + 3, w < 1 && values[i] ? 1.0 : w, color, label_w + w + 6,
                       i * (size_t)row + 15, (unsigned long long)values[i]);
    }
    cm_buf_append_str(b, "</svg>\n");
}

static void histogram(cm_buf *b, const report *r, int lang, size_t sig)
{
    const signal_spec *sp = &SIGNALS[sig];
    uint64_t tot[2] = {0, 0};
    for (int side = 0; side < 2; side++)
        for (int k = 0; k < BINS; k++) tot[side] += r->hist[lang][side][sig][k];
    int w = 300, h = 120, pad = 20;
    cm_buf_append_str(b, "<figure class=\"hist\"><figcaption>");
    html_str(b, sp->name);
    cm_buf_appendf(b, "%s (kept %llu, removed %llu)</figcaption>", sp->log10 ? ", log10" : "", (unsigned long long)tot[0],
                   (unsigned long long)tot[1]);
    cm_buf_appendf(b, "<svg width=\"%d\" height=\"%d\" role=\"img\">", w, h + pad);
    double maxf = 0;
    for (int side = 0; side < 2; side++)
        for (int k = 0; k < BINS && tot[side]; k++) {
            double f = (double)r->hist[lang][side][sig][k] / (double)tot[side];
            if (f > maxf) maxf = f;
        }
    double bw = (double)w / BINS;
    for (int side = 0; side < 2; side++) {
        if (!tot[side]) continue;
        for (int k = 0; k < BINS; k++) {
            double f = (double)r->hist[lang][side][sig][k] / (double)tot[side];
            double bh = maxf > 0 ? f / maxf * h : 0;
            cm_buf_appendf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" class=\"%s\"/>",
                           k * bw + (side ? bw / 2 : 0), h - bh, bw / 2, bh, side ? "removed" : "kept");
        }
    }
    cm_buf_appendf(b, "<line x1=\"0\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"axis\"/>", h, w, h);
    cm_buf_appendf(b, "<text x=\"0\" y=\"%d\">%g</text><text x=\"%d\" y=\"%d\" text-anchor=\"end\">%g</text>", h + 15,
                   sp->lo, w, h + 15, sp->hi);
    cm_buf_append_str(b, "</svg></figure>");
}

/* Reads a small JSON file of OUT whole, or leaves b empty. */
static void read_json(const char *out, const char *rel, cm_buf *b)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", out, rel);
    cm_buf_init(b);
    if (cm_path_exists(path) && cm_read_file(path, b, 16u << 20, NULL)) cm_buf_clear(b);
}

typedef struct kv_ctx {
    const char *want[16];
    char got[16][512];
} kv_ctx;

/* Top-level (or "a.b") scalar values of a small JSON document, as text. */
static int kv_visit(void *user, const char *const *path, int depth, cm_json_type type, double num, const char *str,
                    size_t len)
{
    kv_ctx *k = user;
    char key[256];
    if (depth == 1) snprintf(key, sizeof key, "%s", path[0]);
    else if (depth == 2) snprintf(key, sizeof key, "%s.%s", path[0], path[1]);
    else return 0;
    for (int i = 0; i < 16 && k->want[i]; i++) {
        if (strcmp(k->want[i], key)) continue;
        if (type == CM_JSON_STRING) snprintf(k->got[i], sizeof k->got[i], "%.*s", (int)len, str);
        else if (type == CM_JSON_NUMBER) snprintf(k->got[i], sizeof k->got[i], "%g", num);
        else if (type == CM_JSON_BOOL) snprintf(k->got[i], sizeof k->got[i], "%s", num != 0 ? "true" : "false");
    }
    return 0;
}

#define MAX_SIZES 4096

/* The values k found, as a two-column table; each cell's data-key is
 * PREFIX.KEY (the test reads them). */
static void kv_table(cm_buf *b, const kv_ctx *k, const char *prefix)
{
    cm_buf_append_str(b, "<table>");
    for (int i = 0; i < 16 && k->want[i]; i++) {
        cm_buf_append_str(b, "<tr><th>");
        html_str(b, k->want[i]);
        cm_buf_appendf(b, "</th><td class=\"num\" data-key=\"%s.", prefix);
        html_str(b, k->want[i]);
        cm_buf_append_str(b, "\">");
        html_str(b, k->got[i][0] ? k->got[i] : "-");
        cm_buf_append_str(b, "</td></tr>");
    }
    cm_buf_append_str(b, "</table>\n");
}

typedef struct sizes_ctx {
    uint64_t v[MAX_SIZES];
    size_t n;
} sizes_ctx;

/* The "sizes" array of clusters.json (the first MAX_SIZES). */
static int sizes_visit(void *user, const char *const *path, int depth, cm_json_type type, double num, const char *str,
                       size_t len)
{
    (void)str; (void)len;
    sizes_ctx *s = user;
    if (depth == 2 && !strcmp(path[0], "sizes") && type == CM_JSON_NUMBER && s->n < MAX_SIZES) s->v[s->n++] = (uint64_t)num;
    return 0;
}

static int cmp_u64_desc(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

static int cmp_count_desc(const void *a, const void *b)
{
    const cm_reason *x = a, *y = b;
    return x->count < y->count ? 1 : x->count > y->count ? -1 : strcmp(x->name, y->name);
}

/* The page's "funnel" section, and its numbers in data. */
static void section_funnel(report *r, cm_buf *b, cm_buf *data)
{
    const char *out = r->out;
    cm_buf_append_str(b, "<h2 id=\"funnel\">Funnel</h2>\n<table><tr><th>stage</th><th>tasks</th><th>read</th><th>kept</th>"
                         "<th>removed</th><th>malformed</th><th>bytes in</th><th>bytes out</th></tr>\n");
    cm_buf_append_str(data, ", \"funnel\": [");
    const char *labels[16];
    uint64_t values[16];
    size_t nf = 0;
    const char *funnel[16];
    int n_funnel = funnel_stages(funnel, 16);
    for (int i = 0; i < n_funnel; i++) {
        cm_task_stats st;
        cm_task_stats_init(&st);
        int done = 0;
        cm_stage_load(out, funnel[i], &st, &done, NULL);
        if (done) {
            const cm_counts *c = &st.counts;
            uint64_t removed = cm_reasons_total(&c->removed);
            char bi[32], bo[32];
            human_bytes(bi, sizeof bi, (double)c->bytes_in);
            human_bytes(bo, sizeof bo, (double)c->bytes_out);
            cm_buf_appendf(b,
                           "<tr><td>%s</td><td class=\"num\">%d</td><td class=\"num\" data-key=\"%s.read\">%llu</td>"
                           "<td class=\"num\" data-key=\"%s.kept\">%llu</td><td class=\"num\" data-key=\"%s.removed\">%llu</td>"
                           "<td class=\"num\" data-key=\"%s.malformed\">%llu</td><td class=\"num\">%s</td><td class=\"num\">%s</td></tr>\n",
                           funnel[i], done, funnel[i], (unsigned long long)c->read, funnel[i], (unsigned long long)c->kept,
                           funnel[i], (unsigned long long)removed, funnel[i], (unsigned long long)c->malformed, bi, bo);
            cm_buf_appendf(data, "%s{\"stage\": \"%s\", \"read\": %llu, \"kept\": %llu, \"removed\": %llu, \"malformed\": %llu, "
                                  "\"bytes_in\": %llu, \"bytes_out\": %llu",
                           nf ? ", " : "", funnel[i], (unsigned long long)c->read, (unsigned long long)c->kept,
                           (unsigned long long)removed, (unsigned long long)c->malformed,
                           (unsigned long long)c->bytes_in, (unsigned long long)c->bytes_out);
            uint64_t chunks = cm_reasons_get(&st.outputs, "chunks"), vectors = cm_reasons_get(&st.outputs, "vectors");
            if (chunks) cm_buf_appendf(data, ", \"chunks\": %llu, \"vectors\": %llu", (unsigned long long)chunks,
                                       (unsigned long long)vectors);
            cm_buf_append_char(data, '}');
            if (nf < 14) {
                labels[nf] = funnel[i];
                values[nf] = c->kept;
                nf++;
            }
            if (!strcmp(funnel[i], "embed") && chunks && nf < 15) {
                labels[nf] = "chunks";
                values[nf] = chunks;
                nf++;
                labels[nf] = "vectors";
                values[nf] = vectors;
                nf++;
            }
        }
        cm_task_stats_free(&st);
    }
    cm_buf_append_str(data, "]");
    cm_buf_append_str(b, "</table>\n<p>Documents kept after each stage (chunks and vectors after embed):</p>\n");
    if (nf) bar_chart(b, labels, values, nf, "#2f7ed8");
}

/* The page's "removals" section, and its numbers in data. */
static void section_removals(report *r, cm_buf *b, cm_buf *data)
{
    const char *out = r->out;
    cm_buf_append_str(b, "<h2 id=\"removals\">Removals per rule</h2>\n");
    cm_buf_append_str(data, ", \"removals\": [");
    size_t nr_total = 0;
    const char *funnel[16];
    int n_funnel = funnel_stages(funnel, 16);
    for (int i = 0; i < n_funnel; i++) {
        cm_task_stats st;
        cm_task_stats_init(&st);
        int done = 0;
        cm_stage_load(out, funnel[i], &st, &done, NULL);
        if (done && st.counts.removed.n) {
            cm_reasons *rm = &st.counts.removed;
            qsort(rm->items, rm->n, sizeof *rm->items, cmp_count_desc);
            cm_buf_appendf(b, "<h3>%s</h3>\n", funnel[i]);
            const char **lb = cm_calloc(rm->n, sizeof *lb);
            uint64_t *vs = cm_calloc(rm->n, sizeof *vs);
            for (size_t k = 0; k < rm->n; k++) {
                lb[k] = rm->items[k].name;
                vs[k] = rm->items[k].count;
                cm_buf_appendf(data, "%s{\"stage\": \"%s\", \"reason\": ", nr_total++ ? ", " : "", funnel[i]);
                json_str(data, rm->items[k].name);
                cm_buf_appendf(data, ", \"count\": %llu}", (unsigned long long)rm->items[k].count);
            }
            bar_chart(b, lb, vs, rm->n, "#e4572e");
            free(lb);
            free(vs);
            cm_buf_append_str(b, "<table><tr><th>rule</th><th>removed</th><th>examples (rejected file:line; input file:line)</th></tr>\n");
            for (size_t k = 0; k < rm->n; k++) {
                cm_buf_append_str(b, "<tr><td>");
                html_str(b, rm->items[k].name);
                cm_buf_appendf(b, "</td><td class=\"num\">%llu</td><td>", (unsigned long long)rm->items[k].count);
                int shown = 0;
                for (size_t e = 0; e < r->n_examples; e++) {
                    const example *x = &r->examples[e];
                    if (strcmp(x->reason, rm->items[k].name)) continue;
                    char part_file[512];
                    snprintf(part_file, sizeof part_file, "%.*s", (int)strcspn(x->part, ":"), x->part);
                    cm_buf_append_str(b, "<div class=\"ex\"><a href=\"");
                    html_str(b, part_file);
                    cm_buf_append_str(b, "\">");
                    html_str(b, x->part);
                    cm_buf_append_str(b, "</a> ");
                    html_str(b, x->source);
                    cm_buf_append_str(b, " <b>");
                    html_str(b, x->id);
                    cm_buf_append_str(b, "</b>: ");
                    if (x->dup[0]) {
                        cm_buf_append_str(b, "<i>");
                        html_str(b, x->dup);
                        cm_buf_append_str(b, "</i> ");
                    }
                    html_str(b, x->text);
                    cm_buf_append_str(b, "</div>");
                    shown++;
                }
                if (!shown) cm_buf_append_str(b, "<span class=\"muted\">none in the sample</span>");
                cm_buf_append_str(b, "</td></tr>\n");
            }
            cm_buf_append_str(b, "</table>\n");
        }
        cm_task_stats_free(&st);
    }
    cm_buf_append_str(data, "]");
    if (!nr_total) cm_buf_append_str(b, "<p class=\"muted\">Nothing was removed.</p>\n");
}

/* The page's "signals" section, and its numbers in data. */
static void section_signals(report *r, cm_buf *b, cm_buf *data)
{
    cm_buf_append_str(b, "<h2 id=\"signals\">Signals: kept versus removed</h2>\n<p class=\"legend\">Share of each side's "
                         "sampled documents per bin:<span style=\"background:#2f7ed8\"></span>kept"
                         "<span style=\"background:#e4572e\"></span>removed by clean</p>\n");
    cm_buf_appendf(data, ", \"sampled\": {\"kept\": %llu, \"removed\": %llu}, \"histograms\": {",
                   (unsigned long long)r->sampled[0], (unsigned long long)r->sampled[1]);
    for (int l = 0; l < N_LANGS; l++) {
        uint64_t any = 0;
        for (int side = 0; side < 2; side++)
            for (int k = 0; k < BINS; k++) any += r->hist[l][side][0][k];
        cm_buf_appendf(data, "%s\"%s\": {", l ? ", " : "", LANGS[l]);
        for (size_t s = 0; s < N_SIGNALS; s++) {
            cm_buf_appendf(data, "%s\"%s\": {\"kept\": [", s ? ", " : "", SIGNALS[s].name);
            for (int k = 0; k < BINS; k++) cm_buf_appendf(data, "%s%llu", k ? ", " : "", (unsigned long long)r->hist[l][0][s][k]);
            cm_buf_append_str(data, "], \"removed\": [");
            for (int k = 0; k < BINS; k++) cm_buf_appendf(data, "%s%llu", k ? ", " : "", (unsigned long long)r->hist[l][1][s][k]);
            cm_buf_append_str(data, "]}");
        }
        cm_buf_append_char(data, '}');
        if (!any) continue;
        cm_buf_appendf(b, "<h3>%s</h3>\n", l == 0 ? "Chinese (zh)" : l == 1 ? "English (en)" : "other languages");
        for (size_t s = 0; s < N_SIGNALS; s++) histogram(b, r, l, s);
        cm_buf_append_char(b, '\n');
    }
    cm_buf_append_char(data, '}');
    cm_buf_appendf(b, "<p class=\"muted\">From a sample of %llu kept and %llu removed documents (the first records of "
                      "every part).</p>\n",
                   (unsigned long long)r->sampled[0], (unsigned long long)r->sampled[1]);
}

/* The page's "languages" section, and its numbers in data. */
static void section_languages(report *r, cm_buf *b, cm_buf *data)
{
    cm_buf_append_str(b, "<h2 id=\"languages\">Language mix</h2>\n");
    qsort(r->languages.items, r->languages.n, sizeof *r->languages.items, cmp_count_desc);
    {
        size_t n = r->languages.n < 15 ? r->languages.n : 15;
        const char *lb[15];
        uint64_t vs[15];
        cm_buf_append_str(data, ", \"languages\": {");
        for (size_t i = 0; i < r->languages.n; i++) {
            if (i < n) { lb[i] = r->languages.items[i].name; vs[i] = r->languages.items[i].count; }
            cm_buf_appendf(data, "%s", i ? ", " : "");
            json_str(data, r->languages.items[i].name);
            cm_buf_appendf(data, ": %llu", (unsigned long long)r->languages.items[i].count);
        }
        cm_buf_append_char(data, '}');
        if (n) bar_chart(b, lb, vs, n, "#6a4c93");
        else cm_buf_append_str(b, "<p class=\"muted\">No language was recorded.</p>\n");
        cm_buf_append_str(b, "<p class=\"muted\">Kept and removed documents of the sample, by the language step's verdict.</p>\n");
    }
}

/* The start of a section that shows one of the run's JSON files: its
 * heading, the file read into j, and data's key. Returns 0 when the file is
 * absent: data's value is then null and the page says `absent`. */
static int json_section(const report *r, cm_buf *b, cm_buf *data, const char *heading, const char *rel,
                        const char *key, const char *absent, cm_buf *j)
{
    cm_buf_append_str(b, heading);
    read_json(r->out, rel, j);
    cm_buf_appendf(data, ", \"%s\": ", key);
    if (j->len) return 1;
    cm_buf_append_str(data, "null");
    cm_buf_appendf(b, "<p class=\"muted\">%s</p>\n", absent);
    cm_buf_free(j);
    return 0;
}

/* The page's "duplicates" section, and its numbers in data. */
static void section_duplicates(report *r, cm_buf *b, cm_buf *data)
{
    cm_buf clusters;
    if (json_section(r, b, data, "<h2 id=\"duplicates\">Duplicate clusters</h2>\n", "minhash/clusters.json", "dedup",
                     "This run did not deduplicate.", &clusters)) {
        kv_ctx k = {{"candidate_pairs", "exact_pairs", "pairs_failing_verification", "clusters", "documents_in_clusters",
                     "removed", "joined.exact", "joined.simplified", "joined.minhash", "joined.folded", "fold_digits",
                     NULL}, {{0}}};
        cm_json_visit(clusters.data, clusters.len, kv_visit, &k, NULL);
        kv_table(b, &k, "minhash");
        cm_buf_append_str(data, "{");
        for (int i = 0; k.want[i]; i++)
            cm_buf_appendf(data, "%s\"%s\": %s", i ? ", " : "", k.want[i], k.got[i][0] ? k.got[i] : "null");
        /* sizes: 1 kept + its removed duplicates, from the sample */
        uint64_t size_hist[8] = {0};
        const char *size_labels[8] = {"2", "3", "4", "5", "6-10", "11-100", "101-1000", ">1000"};
        for (size_t i = 0; i < r->dup_sizes.n; i++) {
            uint64_t sz = r->dup_sizes.items[i].count + 1;
            int bin = sz <= 5 ? (int)sz - 2 : sz <= 10 ? 4 : sz <= 100 ? 5 : sz <= 1000 ? 6 : 7;
            size_hist[bin]++;
        }
        cm_buf_append_str(data, ", \"cluster_sizes\": {");
        for (int i = 0; i < 8; i++) cm_buf_appendf(data, "%s\"%s\": %llu", i ? ", " : "", size_labels[i], (unsigned long long)size_hist[i]);
        cm_buf_append_str(data, "}");
        cm_buf_append_str(b, "<p>Cluster sizes (a kept document and its removed duplicates, from the sample of "
                             "rejected/dedup/):</p>\n");
        bar_chart(b, size_labels, size_hist, 8, "#f29e4c");
        static const char *const jl[6] = {"<0.5", "0.5-0.6", "0.6-0.7", "0.7-0.8", "0.8-0.9", "0.9-1.0"};
        cm_buf_append_str(data, ", \"verified_jaccard\": {");
        for (int i = 0; i < 6; i++)
            cm_buf_appendf(data, "%s\"%s\": %llu", i ? ", " : "", jl[i], (unsigned long long)r->jaccard_bins[i]);
        cm_buf_append_str(data, "}}");
        cm_buf_append_str(b, "<p>Each removal's Jaccard with the document it was verified against (shingles with "
                             "digits as written; from the same sample):</p>\n");
        bar_chart(b, jl, r->jaccard_bins, 6, "#8d6a9f");
        cm_buf_append_str(b, "<p class=\"muted\">MinHash detection rate against Jaccard: not measured by this run "
                             "(tests/test_dedup_evidence.sh measures it).</p>\n");
        cm_buf_free(&clusters);
    }
}

/* The page's "k-means" section, and its numbers in data. */
static void section_k_means(report *r, cm_buf *b, cm_buf *data)
{
    cm_buf km;
    if (json_section(r, b, data, "<h2 id=\"kmeans\">k-means clusters</h2>\n", "index/pretrain/clusters.json", "kmeans",
                     "This run did not cluster documents (no pretrain section).", &km)) {
        for (size_t i = 0; i < km.len; i++) cm_buf_append_char(data, km.data[i] == '<' ? ' ' : km.data[i]);
        kv_ctx k = {{"documents", "clusters", "min", "max", "empty", NULL}, {{0}}};
        cm_json_visit(km.data, km.len, kv_visit, &k, NULL);
        kv_table(b, &k, "kmeans");
        /* the sizes, largest first */
        sizes_ctx *sz = cm_calloc(1, sizeof *sz);
        cm_json_visit(km.data, km.len, sizes_visit, sz, NULL);
        uint64_t *sizes = sz->v;
        size_t ns = sz->n;
        if (ns) qsort(sizes, ns, sizeof *sizes, cmp_u64_desc);
        const char *lb[40];
        char names[40][16];
        size_t shown = ns > 40 ? 40 : ns;
        for (size_t i = 0; i < shown; i++) { snprintf(names[i], sizeof names[i], "#%zu", i + 1); lb[i] = names[i]; }
        if (shown) bar_chart(b, lb, sizes, shown, "#1b998b");
        if (ns > 40) {
            cm_buf_append_str(b, "<p class=\"muted\">The 40 largest of ");
            html_str(b, k.got[1]);
            cm_buf_append_str(b, " clusters.</p>\n");
        }
        free(sz);
        cm_buf_free(&km);
    }
}

/* The page's "index" section, and its numbers in data. */
static void section_index(report *r, cm_buf *b, cm_buf *data)
{
    const char *out = r->out;
    cm_buf man;
    if (json_section(r, b, data, "<h2 id=\"index\">Index</h2>\n", "rag/manifest.json", "index",
                     "This run built no RAG export.", &man)) {
        kv_ctx k = {{"model", "dim", "chunks", "index.factory", "index.why", "index.vectors", "index.recall_at_10",
                     "index.search_parameters"}, {{0}}};
        cm_json_visit(man.data, man.len, kv_visit, &k, NULL);
        kv_table(b, &k, "rag");
        cm_buf_append_str(data, "{");
        for (int i = 0; i < 8 && k.want[i]; i++) {
            cm_buf_appendf(data, "%s", i ? ", " : "");
            json_str(data, k.want[i]);
            cm_buf_append_str(data, ": ");
            json_str(data, k.got[i]);
        }
        cm_buf_append_str(data, "}");
        cm_buf_free(&man);
    }
    cm_buf ev;
    read_json(out, "rag/eval.json", &ev);
    if (ev.len) {
        kv_ctx q = {{"qa", "questions", "passages", "model", NULL}, {{0}}};
        cm_json_visit(ev.data, ev.len, kv_visit, &q, NULL);
        cm_buf_append_str(b, "<h3>eval-retrieval</h3>\n<p>");
        html_str(b, q.got[0]);
        cm_buf_appendf(b, ": %s questions, %s gold passages, model ", q.got[1], q.got[2]);
        html_str(b, q.got[3]);
        cm_buf_append_str(b, "</p>\n<table><tr><th>mode</th><th>recall@1</th><th>recall@5</th><th>recall@20</th>"
                             "<th>MRR@10</th><th>precision@5</th></tr>\n");
        static const char *const modes[] = {"dense", "bm25", "hybrid"};
        for (int m = 0; m < 3; m++) {
            char keys[5][48];
            kv_ctx k;
            memset(&k, 0, sizeof k);
            static const char *const metrics[] = {"recall@1", "recall@5", "recall@20", "mrr@10", "precision@5"};
            for (int i = 0; i < 5; i++) {
                snprintf(keys[i], sizeof keys[i], "%s.%s", modes[m], metrics[i]);
                k.want[i] = keys[i];
            }
            cm_json_visit(ev.data, ev.len, kv_visit, &k, NULL);
            cm_buf_appendf(b, "<tr><td>%s</td>", modes[m]);
            for (int i = 0; i < 5; i++)
                cm_buf_appendf(b, "<td class=\"num\" data-key=\"eval.%s\">%s</td>", keys[i], k.got[i][0] ? k.got[i] : "-");
            cm_buf_append_str(b, "</tr>\n");
        }
        cm_buf_append_str(b, "</table>\n");
    } else {
        cm_buf_append_str(b, "<p class=\"muted\">eval-retrieval has not been run on this export "
                             "(corpusmill eval-retrieval OUT/rag --qa FILE).</p>\n");
    }
    cm_buf_free(&ev);
}

/* The page's "time and memory" section, and its numbers in data. */
static void section_time_memory(report *r, cm_buf *b, cm_buf *data)
{
    const char *out = r->out;
    cm_buf_append_str(b, "<h2 id=\"time\">Time and memory</h2>\n<table><tr><th>stage</th><th>task</th><th>seconds</th>"
                         "<th>MB/s in</th><th>records/s</th><th>peak RSS</th><th>threads</th></tr>\n");
    cm_buf_append_str(data, ", \"tasks\": [");
    char sdir[4400];
    snprintf(sdir, sizeof sdir, "%s/stats", out);
    size_t ns;
    char **files = cm_list_dir(sdir, "", &ns);
    const char *st_labels[64];
    uint64_t st_ms[64];
    char st_names[64][40];
    size_t nst = 0;
    for (size_t i = 0; i < ns; i++) {
        cm_task_stats st;
        cm_task_stats_init(&st);
        if (cm_task_stats_read(files[i], &st, NULL) == 0) {
            double mbs = st.seconds > 0 ? (double)st.counts.bytes_in / 1e6 / st.seconds : 0;
            double rps = st.seconds > 0 ? (double)st.counts.read / st.seconds : 0;
            cm_buf_appendf(b, "<tr><td>%s</td><td class=\"num\">%d</td><td class=\"num\">%.2f</td><td class=\"num\">%.1f</td>"
                              "<td class=\"num\">%.0f</td><td class=\"num\">%.0f MiB</td><td class=\"num\">%d</td></tr>\n",
                           st.stage, st.task, st.seconds, mbs, rps, (double)st.peak_rss_kb / 1024, st.threads);
            cm_buf_appendf(data, "%s{\"stage\": \"%s\", \"task\": %d, \"seconds\": %.3f, \"peak_rss_kb\": %ld}", i ? ", " : "",
                           st.stage, st.task, st.seconds, st.peak_rss_kb);
            /* seconds per stage, summed over tasks */
            size_t j = 0;
            while (j < nst && strcmp(st_names[j], st.stage)) j++;
            if (j == nst && nst < 64) {
                snprintf(st_names[nst], sizeof st_names[nst], "%s", st.stage);
                st_labels[nst] = st_names[nst];
                st_ms[nst++] = 0;
            }
            if (j < 64) st_ms[j] += (uint64_t)(st.seconds * 1000);
        }
        cm_task_stats_free(&st);
    }
    cm_free_list(files, ns);
    cm_buf_append_str(data, "]");
    cm_buf_append_str(b, "</table>\n<p>Milliseconds per stage, all tasks together:</p>\n");
    if (nst) bar_chart(b, st_labels, st_ms, nst, "#3d5a80");
}

static void write_page(report *r, cm_buf *b)
{
    const char *out = r->out;
    cm_buf data; /* the embedded JSON */
    cm_buf_init(&data);
    cm_buf summary;
    read_json(out, "summary.json", &summary);
    cm_buf_append_str(&data, "{\"summary\": ");
    /* summary.json is our own JSON: only "<" needs escaping inside <script> */
    for (size_t i = 0; i < summary.len; i++) {
        if (summary.data[i] == '<') cm_buf_append_str(&data, "\\u003c");
        else cm_buf_append_char(&data, summary.data[i]);
    }
    if (!summary.len) cm_buf_append_str(&data, "null");

    char when[64];
    time_t now = time(NULL);
    strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", gmtime(&now));
    cm_buf_append_str(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
                         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>corpusmill report: ");
    html_str(b, out);
    cm_buf_append_str(b, "</title>\n<style>\n"
        "body{font-family:system-ui,-apple-system,\"Segoe UI\",\"Noto Sans\",\"Noto Sans CJK SC\",\"Source Han Sans SC\","
        "\"PingFang SC\",\"Microsoft YaHei\",\"WenQuanYi Micro Hei\",sans-serif;margin:2em auto;max-width:1100px;"
        "color:#1d2330;background:#fff;line-height:1.45}\n"
        "h1{font-size:1.6em}h2{border-bottom:2px solid #d7dce5;padding-bottom:.2em;margin-top:2em}\n"
        "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #d7dce5;padding:.25em .6em;text-align:left;"
        "vertical-align:top}td.num{text-align:right;font-variant-numeric:tabular-nums}th{background:#f2f4f8}\n"
        "svg text{font-size:12px;fill:#1d2330}svg.chart rect{rx:2}rect.kept{fill:#2f7ed8}rect.removed{fill:#e4572e;"
        "opacity:.85}line.axis{stroke:#888}\n"
        ".hist{display:inline-block;margin:.4em 1em .4em 0}.hist figcaption{font-size:.85em}\n"
        ".ex{font-size:.85em;color:#333;max-width:640px;white-space:pre-wrap;word-break:break-word}\n"
        ".muted{color:#667}.legend span{display:inline-block;width:12px;height:12px;margin:0 .3em 0 1em}\n"
        "</style></head><body>\n<h1>corpusmill run report</h1>\n<p class=\"muted\">");
    html_str(b, out);
    cm_buf_appendf(b, " — written %s by corpusmill report</p>\n", when);

    section_funnel(r, b, &data);
    section_removals(r, b, &data);
    section_signals(r, b, &data);
    section_languages(r, b, &data);
    section_duplicates(r, b, &data);
    section_k_means(r, b, &data);
    section_index(r, b, &data);
    section_time_memory(r, b, &data);

    cm_buf_append_str(&data, "}");
    cm_buf_append_str(b, "<script type=\"application/json\" id=\"report-data\">");
    cm_buf_append(b, data.data, data.len);
    cm_buf_append_str(b, "</script>\n</body></html>\n");
    cm_buf_free(&data);
    cm_buf_free(&summary);
}

int cm_report_write(const char *out, cm_err *err)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/summary.json", out);
    if (!cm_path_exists(path)) return cm_errorf(err, "%s has no summary.json (not an output directory, or nothing has run)", out);
    report *r = cm_calloc(1, sizeof *r);
    r->out = out;
    r->text_field = "content";
    cm_buf_init(&r->text);
    sample_folder(r, "clean", 0, 1, 0, 0, SAMPLE_RECORDS);
    sample_folder(r, "rejected/clean", 1, 1, 1, 0, SAMPLE_RECORDS);
    sample_folder(r, "rejected/dedup", 1, 0, 1, 1, SAMPLE_RECORDS);
    sample_folder(r, "rejected/semdedup", 1, 0, 1, 0, SAMPLE_RECORDS);
    sample_folder(r, "rejected/decontam", 1, 0, 1, 0, SAMPLE_RECORDS);
    cm_buf page;
    cm_buf_init(&page);
    write_page(r, &page);
    snprintf(path, sizeof path, "%s/report.html", out);
    int rc = cm_write_file_atomic(path, page.data, page.len, err);
    cm_buf_free(&page);
    cm_buf_free(&r->text);
    cm_reasons_free(&r->languages);
    cm_reasons_free(&r->dup_sizes);
    free(r->examples);
    free(r);
    return rc;
}

int cm_cmd_report(int argc, char **argv)
{
    const char *out = NULL;
    static const char *const names[] = {"OUT"};
    cm_args a = {"report", cm_report_usage, NULL, &out, names, 1, 1};
    int help, rc = cm_args_parse(&a, argc, argv, &help);
    if (rc || help) return rc;
    cm_err err;
    if (cm_report_write(out, &err)) {
        fprintf(stderr, "corpusmill report: %s\n", err.msg);
        return CM_EXIT_USAGE;
    }
    fprintf(stderr, "corpusmill report: %s/report.html\n", out);
    return CM_EXIT_OK;
}
