/* clean_stage.c -- the `clean` stage (see clean_stage.h): its options, its
 * descriptor, and the task.
 *
 * Accounting: every record read is counted once, in the worker that decides
 * its fate: kept, removed (reason "filter:rule", or "input:exam_cn_skipped")
 * or malformed (reason in malformed_by). */
#define _GNU_SOURCE
#include "clean_stage.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "../pipeline/document.h"
#include "../pipeline/format.h"
#include "../pipeline/inputs.h"
#include "../pipeline/json.h"
#include "../pipeline/layout.h"
#include "../pipeline/pool.h"
#include "../pipeline/progress.h"
#include "../pipeline/source.h"
#include "../pipeline/stage.h"
#include "../pipeline/writer.h"
#include "filter.h"
#include "signals.h"

/* ---- options: the `clean` section ---- */

/* Checks that every step names a known filter and that its options are
 * valid, by building one instance. */
static int clean_read(void *opts, const cm_conf *n, cm_err *err)
{
    cm_clean_options *o = opts;
    static const char *const known[] = {"invalid_utf8", "signals", "steps", NULL};
    static const char *const utf8[] = {"replace", "quarantine", NULL};
    if (!n) return 0;
    if (cm_conf_check_keys(n, "clean", known, err)) return -1;
    if (cm_conf_enum(n, "invalid_utf8", utf8, &o->invalid_utf8, err)) return -1;
    if (cm_signal_opts_read(cm_conf_get(n, "signals"), &o->signals, err)) return -1;
    const cm_conf *steps = cm_conf_get(n, "steps");
    if (!steps) return 0;
    if (steps->type != CM_CONF_SEQ) return cm_conf_error(err, steps, "clean.steps must be a list of filters");
    for (size_t i = 0; i < steps->n; i++) {
        const cm_conf *s = steps->items[i];
        const char *name;
        const cm_conf *fopts = NULL;
        if (s->type == CM_CONF_SCALAR) name = s->value;
        else if (s->type == CM_CONF_MAP && s->n == 1) {
            name = s->keys[0];
            fopts = s->items[0];
            if (fopts->type == CM_CONF_SCALAR && fopts->plain && (!fopts->value[0] || !strcmp(fopts->value, "null")))
                fopts = NULL;
        } else
            return cm_conf_error(err, s, "each step is a filter name, or a map of one filter name to its options");
        const cm_filter *f = cm_filter_find(name);
        if (!f) {
            cm_buf list;
            cm_buf_init(&list);
            for (size_t k = 0; cm_filters[k]; k++) {
                if (k) cm_buf_append_str(&list, ", ");
                cm_buf_append_str(&list, cm_filters[k]->name);
            }
            int r = cm_conf_error(err, s, "unknown filter '%s' (known: %s)", name, list.data);
            cm_buf_free(&list);
            return r;
        }
        void *inst = f->create(fopts, err);
        if (!inst) return -1;
        f->destroy(inst);
    }
    o->steps = steps;
    return 0;
}

static const char CLEAN_REFERENCE[] =
    "clean:\n"
    "  invalid_utf8: replace  # replace (U+FFFD, counted) | quarantine (to malformed/)\n"
    "  signals:\n"
    "    word_units: fast     # fast (UAX #29 core rules; one CJK character = one word) | icu (ICU word break,\n"
    "                         #   dictionary words for Chinese; 13-41 MB/s)\n"
    "    short_line_chars: 30 # a short line for short_lines_frac (FineWeb)\n"
    "    short_line_chars_cjk: 10  # the same for documents that are mostly CJK\n"
    "    store: auto          # auto (when a step computed them) | always | never: corpusmill.signals\n"
    "  steps:                 # in order; `corpusmill filters` lists them with their defaults\n"
    "    - normalize: {}\n";

static const char CLEAN_USAGE[] =
    "usage: corpusmill clean CONFIG --task I --tasks N [--input PATH]... [--out DIR] [--threads T] [--force]\n"
    "\n"
    "Runs task I of N of the clean stage: reads files I, I+N, I+2N, ... of the sorted\n"
    "input, normalizes and filters every record, and writes\n"
    "  OUT/clean/part-TTTTT-SSSS.jsonl.zst          kept records\n"
    "  OUT/rejected/clean/part-TTTTT-SSSS.jsonl.zst removed records with their reason\n"
    "  OUT/malformed/clean-TTTTT.jsonl              records that could not be read\n"
    "  OUT/stats/clean-TTTTT.json, OUT/summary.json counts (read = kept + removed + malformed)\n"
    "  OUT/_done/clean/TTTTT                        completion marker (a rerun is a no-op)\n"
    "\n"
    "  --task I       this task's index, 0 <= I < N (default 0)\n"
    "  --tasks N      number of tasks (default: run.tasks, which defaults to 1)\n"
    "  --input PATH   input file, directory or glob; repeatable; replaces input.paths\n"
    "  --out DIR      output directory; replaces output.dir\n"
    "  --threads T    worker threads (default: run.threads, else all cores)\n"
    "  --force        run even if the task already finished\n"
    "  --progress M   auto | bar | log | none | fd:N (default auto)\n";

/* ---- records handed from the reader to the workers ---- */

typedef struct rec_ref {
    size_t off, len;          /* in batch.in */
    uint64_t line, offset, full_len;
    const cm_origin *origin;
    uint8_t kind, damage;
} rec_ref;

/* A batch's output is cut into zstd frames of at most frame_bytes of JSON,
 * at record boundaries, so that parts can end between frames. */
typedef struct frame {
    size_t z_end;     /* end of the frame in the compressed buffer */
    uint64_t raw;     /* JSON bytes it holds */
} frame;

typedef struct frames {
    frame *items;
    size_t n, cap;
} frames;

typedef struct batch {
    cm_buf in;                /* records back to back (+ padding for simdjson) */
    rec_ref *recs;
    size_t n, cap;
    uint64_t file_bytes_done; /* progress: input file bytes consumed at submit */
    /* results */
    cm_buf kept, rejected;    /* uncompressed JSON lines (worker scratch) */
    cm_buf kept_z, rejected_z;/* zstd frames, back to back */
    frames kept_f, rejected_f;/* where each frame ends */
    int failed;               /* compression failed: the message is in errors */
    cm_buf malformed;         /* JSON lines */
    cm_buf errors;            /* one message per line */
    uint64_t n_errors;
    cm_counts counts;
} batch;

typedef struct step {
    const cm_filter *filter;
    const cm_conf *options;
} step;

typedef struct task_ctx {
    const cm_config *cfg;
    const cm_clean_options *opts;
    const cm_stage_task *st;
    step *steps;
    size_t n_steps;
    /* reader state (reader thread only, read by this thread after join) */
    cm_input_list inputs;
    size_t *share;
    size_t n_share;
    cm_origin **origins;
    size_t n_origins, cap_origins;
    uint64_t files, file_bytes, empty_files, input_errors, blank_lines;
    char vanished[4600];       /* why the reader stopped early: an input file gone or changed */
    cm_reasons input_errors_by;
    uint64_t total_file_bytes;
    _Atomic uint64_t file_bytes_done;
    _Atomic int stop_reader;
    int reader_failed;
    cm_pool *pool;
    batch *cur;
    cm_progress *progress;
    pthread_mutex_t print_mu; /* reader notes vs. progress bar */
} task_ctx;

typedef struct worker_ctx {
    task_ctx *task;
    cm_json_parser *parser;
    cm_doc doc;
    void **states;
    ZSTD_CCtx *cctx;
    cm_buf repair;
    cm_buf render;
} worker_ctx;

/* ---- the reader thread ---- */

static void note(task_ctx *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(task_ctx *t, const char *fmt, ...)
{
    char msg[1400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&t->print_mu);
    cm_progress_clear(t->progress);
    cm_logf(&t->st->log, "%s", msg);
    pthread_mutex_unlock(&t->print_mu);
}

static void submit_current(task_ctx *t)
{
    if (!t->cur) return;
    if (t->cur->n == 0) { cm_pool_unacquire(t->pool, t->cur); t->cur = NULL; return; }
    t->cur->file_bytes_done = atomic_load(&t->file_bytes_done);
    cm_pool_submit(t->pool, t->cur);
    t->cur = NULL;
}

typedef struct reader_sink_ctx {
    task_ctx *t;
    const cm_origin *origin;
    uint64_t records;
    cm_source *src;
    uint64_t file_base; /* file bytes done before this file */
} reader_sink_ctx;

static void sink_record(void *user, const char *data, size_t len, uint64_t line, uint64_t offset, int kind,
                        int damage, uint64_t full_len)
{
    reader_sink_ctx *rs = user;
    task_ctx *t = rs->t;
    rs->records++;
    if (atomic_load(&t->stop_reader)) return;
    if (t->cur && t->cur->n > 0 && t->cur->in.len + len > t->cfg->run.batch_size) submit_current(t);
    if (!t->cur) {
        atomic_store(&t->file_bytes_done, rs->file_base + cm_source_file_offset(rs->src));
        t->cur = cm_pool_acquire(t->pool);
        if (!t->cur) { atomic_store(&t->stop_reader, 1); return; }
        batch *b = t->cur;
        b->n = 0;
        cm_buf_clear(&b->in);
    }
    batch *b = t->cur;
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 1024;
        b->recs = cm_realloc(b->recs, b->cap * sizeof *b->recs);
    }
    rec_ref *r = &b->recs[b->n++];
    r->off = b->in.len;
    r->len = len;
    r->line = line;
    r->offset = offset;
    r->full_len = full_len;
    r->origin = rs->origin;
    r->kind = (uint8_t)kind;
    r->damage = (uint8_t)damage;
    cm_buf_append(&b->in, data, len);
}

static void sink_blank(void *user) { ((reader_sink_ctx *)user)->t->blank_lines++; }

static const cm_origin *add_origin(task_ctx *t, const char *file, const char *rel, const char *member)
{
    if (t->n_origins == t->cap_origins) {
        t->cap_origins = t->cap_origins ? t->cap_origins * 2 : 64;
        t->origins = cm_realloc(t->origins, t->cap_origins * sizeof *t->origins);
    }
    cm_origin *o = cm_calloc(1, sizeof *o);
    o->file = cm_strdup(file);
    o->member = member ? cm_strdup(member) : NULL;
    o->rel = cm_strdup(member ? member : rel);
    t->origins[t->n_origins++] = o;
    return o;
}

/* A file that could not be read to its end: counted, with its kind
 * ("limit:ratio" when the message names a limit, else "damaged"). Only the
 * reader thread calls it. */
static void input_error(task_ctx *t, const cm_err *err)
{
    t->input_errors++;
    char kind[64] = "damaged";
    const char *lim = strstr(err->msg, "limit:");
    if (lim) snprintf(kind, sizeof kind, "limit:%.*s", (int)strcspn(lim + 6, ": "), lim + 6);
    cm_reasons_add(&t->input_errors_by, kind, 1);
}

static void *reader_main(void *arg)
{
    task_ctx *t = arg;
    const cm_config *cfg = t->cfg;
    uint64_t base = 0;
    for (size_t i = 0; i < t->n_share && !atomic_load(&t->stop_reader); i++) {
        const cm_input_file *f = &t->inputs.files[t->share[i]];
        cm_err err;
        struct stat st;
        int gone = stat(f->path, &st) != 0;
        if (gone || (uint64_t)st.st_size != f->size) {
            /* Its records would be lost, or differ from what the listing
             * promised: the task fails and writes nothing. */
            snprintf(t->vanished, sizeof t->vanished,
                     "input '%s' %s since the run listed it (%s): restore it and run "
                     "again, or start over in a new --out",
                     f->path, gone ? "vanished" : "changed size", cm_inputs_path(cfg->output.dir).s);
            break;
        }
        cm_source *src = cm_source_open(f->path, &err);
        if (!src) {
            input_error(t, &err);
            note(t, "error: %s", err.msg);
            base += f->size;
            continue;
        }
        cm_source_set_limits(src, cfg->input.max_member_size, cfg->input.max_ratio);
        t->files++;
        t->file_bytes += cm_source_file_size(src);
        if (cm_source_warning(src)) note(t, "warning: %s", cm_source_warning(src));
        reader_sink_ctx rs = {t, NULL, 0, src, base};
        cm_record_sink sink = {sink_record, sink_blank, &rs};
        const char *member;
        int r;
        while ((r = cm_source_next_member(src, &member, &err)) == 1 && !atomic_load(&t->stop_reader)) {
            rs.origin = add_origin(t, f->path, f->rel, member);
            const cm_format *fmt = cm_format_for(cfg->input.format, member ? member : f->path);
            if (fmt->read_member(src, cfg->run.max_record_size, &sink, &err) != 0) {
                input_error(t, &err);
                note(t, "error: %s (records before the damage are kept)", err.msg);
                break;
            }
        }
        if (r < 0) {
            input_error(t, &err);
            note(t, "error: %s (records before the damage are kept)", err.msg);
        }
        if (rs.records == 0 && r >= 0) {
            if (cm_source_file_size(src) == 0) {
                t->empty_files++;
                note(t, "warning: %s: empty file, no records", f->path);
            }
        }
        base += f->size;
        atomic_store(&t->file_bytes_done, base);
        cm_source_close(src);
    }
    submit_current(t);
    cm_pool_finish(t->pool);
    return NULL;
}

/* ---- serialization ---- */

static void append_source(cm_buf *o, const cm_origin *origin, uint64_t line)
{
    cm_buf_append_str(o, "\"source\":{\"file\":");
    cm_buf_append_json_bytes(o, origin->file, strlen(origin->file));
    if (origin->member) {
        cm_buf_append_str(o, ",\"member\":");
        cm_buf_append_json_bytes(o, origin->member, strlen(origin->member));
    }
    cm_buf_append_str(o, ",\"line\":");
    cm_buf_append_u64(o, line);
    cm_buf_append_char(o, '}');
}

static void append_corpusmill(cm_buf *o, cm_doc *d, const char *reason_filter, const char *reason_rule)
{
    cm_buf_append_str(o, "\"corpusmill\":{");
    append_source(o, d->origin, d->line);
    if (d->utf8_replaced) {
        cm_buf_append_str(o, ",\"utf8_replaced\":");
        cm_buf_append_u64(o, d->utf8_replaced);
    }
    if (d->meta.len) {
        cm_buf_append_char(o, ',');
        cm_buf_append(o, d->meta.data, d->meta.len);
    }
    int store = cm_signals_store(d);
    if (store == CM_STORE_ALWAYS || (store == CM_STORE_AUTO && (cm_signals_used(d) || cm_signals_has_extras(d)))) {
        cm_buf_append_char(o, ',');
        cm_signals_json(d, o);
    }
    if (reason_filter) {
        /* rule names can come from the config (the signal filter's `name`) */
        char reason[320];
        snprintf(reason, sizeof reason, "%s:%s", reason_filter, reason_rule);
        cm_buf_append_str(o, ",\"reason\":");
        cm_buf_append_json_bytes(o, reason, strlen(reason));
    }
    cm_buf_append_char(o, '}');
}

/* The record with its text as cleaned and the corpusmill object added; other
 * members are copied byte for byte. */
static void append_full(cm_buf *o, cm_doc *d, const char *rf, const char *rr)
{
    cm_buf_append_char(o, '{');
    int any = 0;
    if (d->is_json) {
        for (size_t i = 0; i < d->json.n_members; i++) {
            const cm_json_member *m = &d->json.members[i];
            if (m->key_len == 10 && memcmp(cm_json_key(&d->json, m), "corpusmill", 10) == 0) continue;
            if (any) cm_buf_append_char(o, ',');
            any = 1;
            if ((long)i == d->text_member && d->text_changed) {
                cm_buf_append(o, d->raw + m->raw_start, m->value_start - m->raw_start);
                cm_buf_append_json_string(o, d->text.data, d->text.len);
            } else {
                cm_buf_append(o, d->raw + m->raw_start, m->raw_end - m->raw_start);
            }
        }
    } else {
        cm_buf_append_str(o, "\"id\":");
        cm_buf_append_json_bytes(o, d->synth_id, strlen(d->synth_id));
        any = 1;
    }
    if (d->text_added || !d->is_json) {
        if (any) cm_buf_append_char(o, ',');
        cm_buf_append_json_string(o, d->text_key, strlen(d->text_key));
        cm_buf_append_char(o, ':');
        cm_buf_append_json_string(o, d->text.data, d->text.len);
        any = 1;
    }
    if (any) cm_buf_append_char(o, ',');
    append_corpusmill(o, d, rf, rr);
    cm_buf_append_str(o, "}\n");
}

/* keep_rejected: ids -- the id, the source and the reason only. */
static void append_ids(cm_buf *o, cm_doc *d, const char *rf, const char *rr)
{
    cm_buf_append_str(o, "{\"id\":");
    if (d->is_json && d->id_member >= 0) {
        const cm_json_member *m = &d->json.members[d->id_member];
        cm_buf_append(o, d->raw + m->value_start, m->value_end - m->value_start);
    } else if (d->synth_id) {
        cm_buf_append_json_bytes(o, d->synth_id, strlen(d->synth_id));
    } else {
        cm_buf_append_str(o, "null");
    }
    cm_buf_append_char(o, ',');
    append_corpusmill(o, d, rf, rr);
    cm_buf_append_str(o, "}\n");
}

static void location(cm_buf *o, const cm_origin *origin, uint64_t line)
{
    cm_buf_append_str(o, origin->file);
    if (origin->member) {
        cm_buf_append_char(o, '[');
        cm_buf_append_str(o, origin->member);
        cm_buf_append_char(o, ']');
    }
    cm_buf_appendf(o, ":%llu", (unsigned long long)line);
}

/* Records the record as malformed: counted, written to malformed/ with the
 * raw bytes (escaped if not UTF-8), and an error line. */
static void malformed(batch *b, const rec_ref *r, const char *data, size_t len, const char *kind, const char *msg)
{
    b->counts.malformed++;
    cm_reasons_add(&b->counts.malformed_by, kind, 1);
    cm_buf *o = &b->malformed;
    size_t keep = len < CM_EVIDENCE_BYTES ? len : CM_EVIDENCE_BYTES;
    cm_buf_append_str(o, "{\"file\":");
    cm_buf_append_json_bytes(o, r->origin->file, strlen(r->origin->file));
    if (r->origin->member) {
        cm_buf_append_str(o, ",\"member\":");
        cm_buf_append_json_bytes(o, r->origin->member, strlen(r->origin->member));
    }
    cm_buf_appendf(o, ",\"line\":%llu,\"offset\":%llu,\"reason\":\"%s\",\"error\":", (unsigned long long)r->line,
                   (unsigned long long)r->offset, kind);
    cm_buf_append_json_bytes(o, msg, strlen(msg));
    cm_buf_append_str(o, ",\"raw\":");
    size_t bad = cm_buf_append_json_bytes(o, data, keep);
    cm_buf_appendf(o, ",\"raw_escaped\":%s,\"raw_bytes\":%llu,\"raw_truncated\":%s}\n", bad ? "true" : "false",
                   (unsigned long long)r->full_len, keep < r->full_len ? "true" : "false");
    location(&b->errors, r->origin, r->line);
    cm_buf_appendf(&b->errors, ": %s\n", msg);
    b->n_errors++;
}

/* ---- decoding a record into the document ---- */

/* Renders the Exam-cn template: {field} placeholders; a line whose
 * placeholders are all empty is left out. */
static void render_template(const char *tpl, const cm_doc *d, cm_buf *out)
{
    cm_buf_clear(out);
    const char *line = tpl;
    while (*line) {
        const char *end = strchr(line, '\n');
        if (!end) end = line + strlen(line);
        size_t mark = out->len;
        int placeholders = 0, filled = 0;
        for (const char *p = line; p < end;) {
            const char *close = *p == '{' ? memchr(p, '}', (size_t)(end - p)) : NULL;
            if (!close) { cm_buf_append_char(out, *p++); continue; }
            char key[128];
            size_t kl = (size_t)(close - p - 1);
            if (kl >= sizeof key) { cm_buf_append_char(out, *p++); continue; }
            memcpy(key, p + 1, kl);
            key[kl] = 0;
            placeholders++;
            long i = cm_json_find(&d->json, key, NULL);
            if (i >= 0) {
                const cm_json_member *m = &d->json.members[i];
                if (m->type == CM_JSON_STRING) {
                    if (m->str_len) filled++;
                    cm_buf_append(out, cm_json_str(&d->json, m), m->str_len);
                } else if (m->type != CM_JSON_NULL) {
                    filled++;
                    cm_buf_append(out, d->raw + m->value_start, m->value_end - m->value_start);
                }
            }
            p = close + 1;
        }
        if (placeholders && !filled) out->len = mark;
        else if (*end) cm_buf_append_char(out, '\n');
        out->data[out->len] = 0;
        line = *end ? end + 1 : end;
    }
    while (out->len && out->data[out->len - 1] == '\n') out->data[--out->len] = 0;
}

enum decode_result { DECODED, DECODE_MALFORMED, DECODE_SKIPPED };

static int decode_json(worker_ctx *w, batch *b, const rec_ref *r, const char *data)
{
    const cm_config *cfg = w->task->cfg;
    cm_doc *d = &w->doc;
    char msg[1200];
    cm_err err;
    d->raw = data;
    d->raw_len = r->len;
    d->is_json = 1;
    int rc = cm_json_parse_record(w->parser, data, r->len, &d->json, &err);
    if (rc == CM_JSON_BAD_UTF8) {
        if (w->task->opts->invalid_utf8 == CM_UTF8_QUARANTINE) {
            size_t i = 0;
            while (i < r->len) {
                size_t k = cm_utf8_seq_len((const unsigned char *)data + i, r->len - i);
                if (!k) break;
                i += k;
            }
            snprintf(msg, sizeof msg, "invalid UTF-8 at column %zu", i + 1);
            malformed(b, r, data, r->len, "invalid_utf8", msg);
            return DECODE_MALFORMED;
        }
        cm_buf_clear(&w->repair);
        d->utf8_replaced = cm_utf8_repair(data, r->len, &w->repair);
        cm_buf_reserve(&w->repair, CM_JSON_PADDING);
        memset(w->repair.data + w->repair.len, ' ', CM_JSON_PADDING);
        d->raw = w->repair.data;
        d->raw_len = w->repair.len;
        rc = cm_json_parse_record(w->parser, d->raw, d->raw_len, &d->json, &err);
    }
    if (rc != 0) {
        malformed(b, r, data, r->len, "invalid_json", rc == CM_JSON_BAD_UTF8 ? "invalid UTF-8" : err.msg);
        return DECODE_MALFORMED;
    }
    long ti = -1;
    int dupes = 0;
    for (size_t k = 0; k < cfg->input.n_text_fields && ti < 0; k++) {
        ti = cm_json_find(&d->json, cfg->input.text_fields[k], &dupes);
        if (ti >= 0) d->text_key = cfg->input.text_fields[k];
    }
    d->id_member = cm_json_find(&d->json, cfg->input.id_field, NULL);
    if (ti < 0) {
        if (cm_json_find(&d->json, "q_main", NULL) >= 0) {
            d->text_key = cfg->input.text_fields[0];
            if (cfg->input.exam_cn == CM_EXAM_SKIP) return DECODE_SKIPPED;
            render_template(cfg->input.exam_template, d, &w->render);
            cm_buf_append(&d->text, w->render.data, w->render.len);
            d->text_added = 1;
            d->text_changed = 1;
            return DECODED;
        }
        snprintf(msg, sizeof msg, "no text field '%s'", cfg->input.text_fields[0]);
        for (size_t k = 1; k < cfg->input.n_text_fields; k++) {
            size_t l = strlen(msg);
            snprintf(msg + l, sizeof msg - l, "%s'%s'", k + 1 == cfg->input.n_text_fields ? " or " : ", ",
                     cfg->input.text_fields[k]);
        }
        malformed(b, r, data, r->len, "missing_text", msg);
        return DECODE_MALFORMED;
    }
    if (dupes > 1) {
        snprintf(msg, sizeof msg, "the text field '%s' appears %d times", d->text_key, dupes);
        malformed(b, r, data, r->len, "duplicate_text", msg);
        return DECODE_MALFORMED;
    }
    const cm_json_member *m = &d->json.members[ti];
    if (m->type != CM_JSON_STRING) {
        static const char *const names[] = {"null", "a boolean", "a number", "a string", "an array", "an object"};
        snprintf(msg, sizeof msg, "the text field '%s' is %s, not a string", d->text_key, names[m->type]);
        malformed(b, r, data, r->len, "text_not_string", msg);
        return DECODE_MALFORMED;
    }
    d->text_member = ti;
    cm_buf_append(&d->text, cm_json_str(&d->json, m), m->str_len);
    if (d->utf8_replaced) d->text_changed = 1;
    return DECODED;
}

static int decode_text(worker_ctx *w, batch *b, const rec_ref *r, const char *data)
{
    const cm_config *cfg = w->task->cfg;
    cm_doc *d = &w->doc;
    d->is_json = 0;
    d->raw = data;
    d->raw_len = r->len;
    d->text_key = cfg->input.text_fields[0];
    if (r->kind == CM_REC_TEXT_LINE) {
        cm_buf_clear(&w->render);
        cm_buf_appendf(&w->render, "%s:%llu", r->origin->rel, (unsigned long long)r->line);
        d->synth_id = w->render.data;
    } else {
        d->synth_id = r->origin->rel;
    }
    if (cm_json_valid_utf8(data, r->len)) {
        cm_buf_append(&d->text, data, r->len);
        return DECODED;
    }
    if (w->task->opts->invalid_utf8 == CM_UTF8_QUARANTINE) {
        malformed(b, r, data, r->len, "invalid_utf8", "invalid UTF-8");
        return DECODE_MALFORMED;
    }
    d->utf8_replaced = cm_utf8_repair(data, r->len, &d->text);
    return DECODED;
}

/* ---- the worker: one batch ---- */

/* Compresses src into dst as frames of at most frame_bytes of JSON lines
 * each (a longer single record is one frame). -1 with err when zstd fails. */
static int compress_frames(worker_ctx *w, const cm_buf *src, cm_buf *dst, frames *f, uint64_t frame_bytes, cm_err *err)
{
    cm_buf_clear(dst);
    f->n = 0;
    size_t pos = 0;
    while (pos < src->len) {
        size_t end = src->len;
        if (end - pos > frame_bytes) {
            /* the last record boundary within the limit, else the first after it */
            const char *lim = src->data + pos + frame_bytes;
            const char *nl = lim;
            while (nl > src->data + pos && nl[-1] != '\n') nl--;
            if (nl == src->data + pos) {
                nl = memchr(lim, '\n', (size_t)(src->data + src->len - lim));
                nl = nl ? nl + 1 : src->data + src->len;
            }
            end = (size_t)(nl - src->data);
        }
        size_t bound = ZSTD_compressBound(end - pos);
        cm_buf_reserve(dst, bound);
        size_t z = ZSTD_compress2(w->cctx, dst->data + dst->len, bound, src->data + pos, end - pos);
        if (ZSTD_isError(z)) return cm_errorf(err, "zstd compression failed: %s", ZSTD_getErrorName(z));
        dst->len += z;
        if (f->n == f->cap) {
            f->cap = f->cap ? f->cap * 2 : 8;
            f->items = cm_realloc(f->items, f->cap * sizeof *f->items);
        }
        f->items[f->n].z_end = dst->len;
        f->items[f->n].raw = end - pos;
        f->n++;
        pos = end;
    }
    return 0;
}

/* Writes a batch's frames; parts end between frames. */
static int write_frames(cm_part_writer *pw, const cm_buf *z, const frames *f, cm_err *err)
{
    size_t start = 0;
    for (size_t i = 0; i < f->n; i++) {
        if (cm_part_writer_write(pw, z->data + start, f->items[i].z_end - start, f->items[i].raw, err)) return -1;
        start = f->items[i].z_end;
    }
    return 0;
}

static void process_batch(void *ctx, void *slot)
{
    worker_ctx *w = ctx;
    batch *b = slot;
    task_ctx *t = w->task;
    const cm_config *cfg = t->cfg;
    cm_counts_clear(&b->counts);
    cm_buf_clear(&b->kept);
    cm_buf_clear(&b->rejected);
    cm_buf_clear(&b->malformed);
    cm_buf_clear(&b->errors);
    b->n_errors = 0;
    b->failed = 0;
    cm_buf_reserve(&b->in, CM_JSON_PADDING); /* simdjson reads past the last record ... */
    memset(b->in.data + b->in.len, ' ', CM_JSON_PADDING); /* ... and its SIMD masks look at what it reads */
    int ids_only = cfg->output.keep_rejected == CM_REJECTED_IDS;
    for (size_t i = 0; i < b->n; i++) {
        const rec_ref *r = &b->recs[i];
        const char *data = b->in.data + r->off;
        cm_doc *d = &w->doc;
        cm_doc_reset(d);
        d->origin = r->origin;
        d->line = r->line;
        b->counts.read++;
        b->counts.bytes_in += r->full_len;
        if (r->damage == CM_DAMAGE_TOO_LONG) {
            char msg[160];
            snprintf(msg, sizeof msg, "record of %llu bytes is longer than max_record_size",
                     (unsigned long long)r->full_len);
            malformed(b, r, data, r->len, "too_long", msg);
            continue;
        }
        if (r->damage == CM_DAMAGE_TRUNCATED) {
            malformed(b, r, data, r->len, "truncated", "the input ends inside this record (truncated or corrupt stream)");
            continue;
        }
        const char *nul = memchr(data, 0, r->len);
        if (nul) {
            char msg[160];
            snprintf(msg, sizeof msg, "NUL byte at %s %zu%s", r->kind == CM_REC_TEXT_FILE ? "byte" : "column",
                     (size_t)(nul - data) + 1, r->kind == CM_REC_TEXT_FILE ? ": binary content, not text" : "");
            malformed(b, r, data, r->len, "nul_byte", msg);
            continue;
        }
        int dr = r->kind == CM_REC_JSON ? decode_json(w, b, r, data) : decode_text(w, b, r, data);
        if (dr == DECODE_MALFORMED) continue;
        const char *rf = NULL, *rr = NULL;
        if (dr == DECODE_SKIPPED) {
            rf = "input";
            rr = "exam_cn_skipped";
        } else {
            for (size_t s = 0; s < t->n_steps; s++) {
                if (t->steps[s].filter->apply(w->states[s], d) == CM_DROP) {
                    rf = t->steps[s].filter->name;
                    rr = d->drop_rule ? d->drop_rule : "drop";
                    break;
                }
            }
        }
        if (rf) {
            cm_reasons_add2(&b->counts.removed, rf, rr, 1);
            if (ids_only) append_ids(&b->rejected, d, rf, rr);
            else append_full(&b->rejected, d, rf, rr);
        } else {
            size_t before = b->kept.len;
            append_full(&b->kept, d, NULL, NULL);
            b->counts.kept++;
            b->counts.bytes_out += b->kept.len - before;
            if (d->text_changed) b->counts.modified++;
        }
        if (d->utf8_replaced) b->counts.utf8_repaired++;
    }
    uint64_t frame_bytes = cfg->output.part_size < (1u << 20) ? cfg->output.part_size : (1u << 20);
    cm_err zerr;
    b->failed = compress_frames(w, &b->kept, &b->kept_z, &b->kept_f, frame_bytes, &zerr) ||
                compress_frames(w, &b->rejected, &b->rejected_z, &b->rejected_f, frame_bytes, &zerr);
    if (b->failed) cm_buf_append_str(&b->errors, zerr.msg);
}

/* ---- the task ---- */

static int online_cores(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

/* OUT/malformed/clean-TTTTT.jsonl */
static cm_path malformed_path(const char *out, int task)
{
    cm_path p;
    snprintf(p.s, sizeof p.s, "%s/malformed/clean-%05d.jsonl", out, task);
    return p;
}

static int make_dirs(const char *out, cm_err *err)
{
    static const char *const sub[] = {"clean", "rejected/clean", "malformed", NULL};
    for (int i = 0; sub[i]; i++)
        if (cm_mkdirs_under(out, sub[i], err)) return -1;
    return 0;
}

static int resolve_steps(const cm_clean_options *o, step **out, size_t *n)
{
    const cm_conf *steps = o->steps;
    if (!steps) {
        *out = cm_calloc(1, sizeof **out);
        (*out)[0].filter = cm_filter_find("normalize");
        (*out)[0].options = NULL;
        *n = 1;
        return 0;
    }
    *out = cm_calloc(steps->n ? steps->n : 1, sizeof **out);
    for (size_t i = 0; i < steps->n; i++) {
        const cm_conf *s = steps->items[i];
        const char *name = s->type == CM_CONF_SCALAR ? s->value : s->keys[0];
        const cm_conf *opts = s->type == CM_CONF_MAP ? s->items[0] : NULL;
        if (opts && opts->type == CM_CONF_SCALAR) opts = NULL;
        (*out)[i].filter = cm_filter_find(name);
        (*out)[i].options = opts;
    }
    *n = steps->n;
    return 0;
}


static void free_batch(batch *b)
{
    cm_buf_free(&b->in);
    free(b->recs);
    cm_buf_free(&b->kept);
    cm_buf_free(&b->rejected);
    cm_buf_free(&b->kept_z);
    cm_buf_free(&b->rejected_z);
    free(b->kept_f.items);
    free(b->rejected_f.items);
    cm_buf_free(&b->malformed);
    cm_buf_free(&b->errors);
    cm_counts_free(&b->counts);
}

/* A worker thread's context: its parser, document, filter instances and
 * compressor. */
static int worker_open(worker_ctx *w, task_ctx *t, cm_err *err)
{
    w->task = t;
    w->parser = cm_json_parser_create();
    cm_doc_init(&w->doc);
    cm_signals_setup(&w->doc, &t->opts->signals);
    cm_buf_init(&w->repair);
    cm_buf_init(&w->render);
    w->cctx = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_compressionLevel, t->cfg->output.zstd_level);
    ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_checksumFlag, 1);
    w->states = cm_calloc(t->n_steps ? t->n_steps : 1, sizeof *w->states);
    for (size_t s = 0; s < t->n_steps; s++)
        if (!(w->states[s] = t->steps[s].filter->create(t->steps[s].options, err))) return cm_err_usage(err);
    return 0;
}

static void worker_close(worker_ctx *w)
{
    const task_ctx *t = w->task;
    if (w->states)
        for (size_t s = 0; s < t->n_steps; s++)
            if (w->states[s]) t->steps[s].filter->destroy(w->states[s]);
    free(w->states);
    if (w->parser) cm_json_parser_free(w->parser);
    cm_doc_free(&w->doc);
    cm_buf_free(&w->repair);
    cm_buf_free(&w->render);
    if (w->cctx) ZSTD_freeCCtx(w->cctx);
}

/* What the task writes: kept and rejected parts, the malformed records,
 * and the malformed lines it prints (the first max_error_lines). */
typedef struct task_out {
    cm_part_writer kept, rejected;
    char mal_path[CM_PATH_MAX], mal_tmp[CM_PATH_MAX + 8];
    FILE *mal;
    uint64_t errors_printed, errors_hidden;
    int failed;
} task_out;

static void outputs_open(task_out *o, const cm_config *cfg, int task)
{
    memset(o, 0, sizeof *o);
    const char *out = cfg->output.dir;
    cm_part_prefix part = cm_part_prefix_of(task);
    cm_part_writer_init(&o->kept, cm_out_dir(out, "clean").s, part.s, ".jsonl.zst", cfg->output.part_size);
    cm_part_writer_init(&o->rejected, cm_out_dir(out, "rejected/clean").s, part.s, ".jsonl.zst", cfg->output.part_size);
    snprintf(o->mal_path, sizeof o->mal_path, "%s", malformed_path(out, task).s);
    snprintf(o->mal_tmp, sizeof o->mal_tmp, "%s.tmp", o->mal_path);
}

/* Writes one batch's frames and malformed records, in batch order. */
static int outputs_write(task_out *o, const batch *b, cm_err *err)
{
    if (b->failed) return cm_errorf(err, "%s", b->errors.data);
    if (write_frames(&o->kept, &b->kept_z, &b->kept_f, err) || write_frames(&o->rejected, &b->rejected_z, &b->rejected_f, err))
        return -1;
    if (b->malformed.len) {
        if (!o->mal) o->mal = fopen(o->mal_tmp, "wb");
        if (!o->mal || fwrite(b->malformed.data, 1, b->malformed.len, o->mal) != b->malformed.len)
            return cm_errorf(err, "cannot write '%s': %s", o->mal_tmp, strerror(errno));
    }
    return 0;
}

/* Renames what was written (rc 0), or removes it. */
static int outputs_close(task_out *o, int rc, cm_err *err)
{
    if (rc == 0) {
        if (cm_part_writer_close(&o->kept, err) || cm_part_writer_close(&o->rejected, err)) rc = -1;
        if (o->mal) {
            int bad = fclose(o->mal) != 0;
            o->mal = NULL;
            if (bad || rename(o->mal_tmp, o->mal_path) != 0) rc = cm_errorf(err, "cannot write '%s'", o->mal_path);
        }
    }
    if (rc != 0) {
        cm_part_writer_abort(&o->kept);
        cm_part_writer_abort(&o->rejected);
        if (o->mal) fclose(o->mal);
        o->mal = NULL;
        unlink(o->mal_tmp);
    }
    cm_part_writer_free(&o->kept);
    cm_part_writer_free(&o->rejected);
    return rc;
}

/* The batch's malformed lines, up to max_error_lines for the task. */
static void log_malformed(task_ctx *t, task_out *o, const batch *b)
{
    pthread_mutex_lock(&t->print_mu);
    cm_progress_clear(t->progress);
    const char *line = b->errors.data;
    for (uint64_t k = 0; k < b->n_errors; k++) {
        const char *nl = strchr(line, '\n');
        if (o->errors_printed < (uint64_t)t->cfg->run.max_error_lines) {
            cm_logf(&t->st->log, "malformed: %.*s", (int)(nl - line), line);
            o->errors_printed++;
        } else {
            o->errors_hidden++;
        }
        line = nl + 1;
    }
    pthread_mutex_unlock(&t->print_mu);
}

/* Stops the reader and the workers' queue after a failure. */
static void stop_early(task_ctx *t)
{
    atomic_store(&t->stop_reader, 1);
    cm_pool_cancel(t->pool);
}

/* This thread's part: takes the batches back in order, sums their counts,
 * writes them, shows progress. */
static int consume(task_ctx *t, task_out *o, cm_counts *total, cm_err *err)
{
    int rc = 0;
    for (;;) {
        int timed_out;
        batch *b = cm_pool_next(t->pool, 200, &timed_out);
        if (!b && !timed_out) break;
        if (b) {
            cm_counts_merge(total, &b->counts);
            if (rc == 0 && outputs_write(o, b, err)) {
                rc = -1;
                stop_early(t);
            }
            if (b->n_errors && !b->failed) {
                log_malformed(t, o, b);
                if (t->cfg->run.on_error == CM_ON_ERROR_FAIL && rc == 0) {
                    rc = cm_errorf(err, "stopping at the first malformed record (on_error: fail)");
                    stop_early(t);
                }
            }
            cm_pool_release(t->pool, b);
        }
        pthread_mutex_lock(&t->print_mu);
        cm_progress_update(t->progress, total->read, total->bytes_in, atomic_load(&t->file_bytes_done),
                           t->total_file_bytes, 0);
        pthread_mutex_unlock(&t->print_mu);
    }
    return rc;
}

/* Runs the reader thread and the workers over the task's share of the
 * input, this thread writing what they make. */
static int process_inputs(task_ctx *t, void **wctx, int threads, task_out *o, cm_counts *total, cm_err *err)
{
    int n_slots = 2 * threads + 2;
    batch *batches = cm_calloc((size_t)n_slots, sizeof *batches);
    void **slots = cm_calloc((size_t)n_slots, sizeof *slots);
    for (int i = 0; i < n_slots; i++) {
        cm_counts_init(&batches[i].counts);
        slots[i] = &batches[i];
    }
    int rc = 0, e;
    pthread_t reader;
    if (!(t->pool = cm_pool_create(threads, wctx, process_batch, slots, n_slots, err))) rc = -1;
    else if ((e = pthread_create(&reader, NULL, reader_main, t)) != 0) {
        rc = cm_errorf(err, "cannot start the reader thread: %s", strerror(e));
        cm_pool_free(t->pool);
    }
    if (rc == 0) {
        rc = consume(t, o, total, err);
        pthread_join(reader, NULL);
        if (t->vanished[0] && rc == 0) rc = cm_errorf(err, "%s", t->vanished);
        cm_pool_free(t->pool);
        cm_progress_update(t->progress, total->read, total->bytes_in, t->total_file_bytes, t->total_file_bytes, 1);
        cm_progress_end(t->progress);
        if (o->errors_hidden)
            cm_logf(&t->st->log, "%llu more malformed records (see %s)", (unsigned long long)o->errors_hidden,
                    o->mal_path);
    }
    for (int i = 0; i < n_slots; i++) free_batch(&batches[i]);
    free(batches);
    free(slots);
    return rc;
}

static void free_task(task_ctx *t)
{
    for (size_t i = 0; i < t->n_origins; i++) {
        free(t->origins[i]->file);
        free(t->origins[i]->member);
        free(t->origins[i]->rel);
        free(t->origins[i]);
    }
    free(t->origins);
    free(t->steps);
    free(t->share);
    cm_reasons_free(&t->input_errors_by);
    cm_inputs_free(&t->inputs);
    pthread_mutex_destroy(&t->print_mu);
}

static int clean_run(const cm_stage_task *task, cm_task_stats *stats, cm_err *err)
{
    const cm_config *cfg = task->cfg;
    const char *out = cfg->output.dir;
    if (make_dirs(out, err)) return cm_err_usage(err);

    task_ctx t;
    memset(&t, 0, sizeof t);
    t.cfg = cfg;
    t.opts = task->opts;
    t.st = task;
    pthread_mutex_init(&t.print_mu, NULL);
    if (cm_stage_inputs(cfg, task->force, &t.inputs, err)) {
        free_task(&t);
        return cm_err_usage(err);
    }
    if (task->task == 0 && cfg->run.progress != CM_PROGRESS_FD && t.inputs.skipped)
        cm_logf(&task->log, "note: %llu files in the input directories are not read by this format (e.g. %s)",
                (unsigned long long)t.inputs.skipped, t.inputs.first_skipped);
    t.share = cm_calloc(t.inputs.n, sizeof *t.share);
    t.n_share = cm_inputs_task_share(&t.inputs, task->task, task->tasks, t.share, t.inputs.n);
    for (size_t i = 0; i < t.n_share; i++) t.total_file_bytes += t.inputs.files[t.share[i]].size;
    resolve_steps(t.opts, &t.steps, &t.n_steps);

    /* A task that runs again starts from nothing. */
    char prefix[64];
    snprintf(prefix, sizeof prefix, "%s-", cm_part_prefix_of(task->task).s);
    cm_remove_prefixed(cm_out_dir(out, "clean").s, prefix, NULL);
    cm_remove_prefixed(cm_out_dir(out, "rejected/clean").s, prefix, NULL);
    snprintf(prefix, sizeof prefix, "clean-%05d", task->task);
    cm_remove_prefixed(cm_out_dir(out, "malformed").s, prefix, NULL);

    int threads = task->threads > 0 ? task->threads : cfg->run.threads > 0 ? cfg->run.threads : online_cores();
    worker_ctx *workers = cm_calloc((size_t)threads, sizeof *workers);
    void **wctx = cm_calloc((size_t)threads, sizeof *wctx);
    int rc = 0;
    for (int i = 0; i < threads; i++) {
        wctx[i] = &workers[i];
        if (rc == 0) rc = worker_open(&workers[i], &t, err);
        else workers[i].task = &t;
    }
    task_out o;
    outputs_open(&o, cfg, task->task);
    cm_progress progress;
    cm_progress_init(&progress, cfg->run.progress, cfg->run.progress_fd, "clean");
    t.progress = &progress;
    cm_counts total;
    cm_counts_init(&total);
    if (rc == 0) rc = process_inputs(&t, wctx, threads, &o, &total, err);
    rc = outputs_close(&o, rc, err);

    /* stats */
    total.blank_lines += t.blank_lines;
    cm_counts_merge(&stats->counts, &total);
    stats->files = t.files;
    stats->file_bytes = t.file_bytes;
    stats->empty_files = t.empty_files;
    stats->input_errors = t.input_errors;
    for (size_t i = 0; i < t.input_errors_by.n; i++)
        cm_reasons_add(&stats->input_errors_by, t.input_errors_by.items[i].name, t.input_errors_by.items[i].count);
    stats->parts = o.kept.parts_done;
    stats->threads = threads;

    cm_counts_free(&total);
    for (int i = 0; i < threads; i++) worker_close(&workers[i]);
    free(workers);
    free(wctx);
    free_task(&t);
    return rc;
}

/* A task's gate after its counts are written: with on_error: fail, a
 * damaged input fails it, with no marker, so a rerun meets the same gate. */
static int clean_verdict(const cm_stage_task *task, const cm_task_stats *st, cm_err *err)
{
    if (st->input_errors && task->cfg->run.on_error == CM_ON_ERROR_FAIL)
        return cm_errorf(err, "%llu input files were damaged or unreadable (on_error: fail)",
                         (unsigned long long)st->input_errors);
    return 0;
}

/* The gate on the whole stage, once every task has finished: the malformed
 * fraction of all the records read, so that the same input gets the same
 * verdict whatever --tasks is. */
static int clean_stage_verdict(const cm_stage_task *task, const cm_task_stats *sum, cm_err *err)
{
    const cm_config *cfg = task->cfg;
    const cm_counts *c = &sum->counts;
    double frac = c->read ? (double)c->malformed / (double)c->read : 0;
    if (c->malformed && frac > cfg->run.max_malformed_fraction)
        return cm_errorf(err,
                         "clean: %.2f%% of the stage's records are malformed (%llu of %llu), more than "
                         "max_malformed_fraction (%.2f%%); see %s/malformed/",
                         frac * 100, (unsigned long long)c->malformed, (unsigned long long)c->read,
                         cfg->run.max_malformed_fraction * 100, cfg->output.dir);
    return 0;
}

static const cm_stage_step CLEAN_STEPS[] = {
    {.name = NULL, .marker = "clean", .split = CM_SPLIT_FREE, .stats = 1, .run = clean_run, .verdict = clean_verdict,
     .stage_verdict = clean_stage_verdict},
};

const cm_stage_def cm_stage_clean = {
    .name = "clean",
    .command = "clean",
    .summary = "run one task of the clean stage (--task I --tasks N)",
    .usage = CLEAN_USAGE,
    .reference = CLEAN_REFERENCE,
    .reads = "input",
    .documents = 1,
    .opts_size = sizeof(cm_clean_options),
    .read = clean_read,
    .steps = CLEAN_STEPS,
    .n_steps = 1,
};
