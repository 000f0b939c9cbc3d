/* language.c -- language identification with CLD2 (or a fastText model such
 * as lid.176.bin: engine: fasttext, model: PATH), with a keep list and a
 * minimum score (the fraction of the text CLD2 puts in the top language,
 * 0..1; FineWeb keeps English at >= 0.65 with fastText, which Debian does not
 * ship). Writes corpusmill.language and the signal language_score.
 *
 * Speed: a CLD2 call costs ~30 us plus ~35 ns per byte here, so only the
 * first max_bytes (1 KiB) of a document are given to it: the language of a
 * page is plain from its first paragraphs. A document whose words are at least 95% Han characters with
 * no kana or hangul is Chinese without asking CLD2 (script_shortcut), which
 * is what CLD2 says of such text anyway; turn it off to tell zh from zh-Hant.
 * WanJuan-CC records carry their own `language` field: trust_field uses it.
 * With fastText, the code is the top label without "__label__" and the
 * score its probability (FineWeb's and CCNet's language_score).
 *
 * Reasons: language:not_kept (the language is not in keep), language:low_score. */
#include "filter.h"
#include "signals.h"
#include "cld2_wrap.h"
#include "fasttext_text.h"
#include "../pipeline/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char DEFAULTS[] =
    "language:\n"
    "  keep: []                     # language codes to keep (CLD2's: en, zh, zh-Hant, ...); empty = all\n"
    "  min_score: 0.65              # fraction of the text in the top language (FineWeb: 0.65)\n"
    "  max_bytes: 1024              # the start of the document given to CLD2\n"
    "  script_shortcut: true        # >= 95% Han words, no kana/hangul: zh without CLD2\n"
    "  trust_field: \"\"              # a record field holding the language (WanJuan-CC: language)\n"
    "  engine: cld2                 # cld2, or fasttext with model:\n"
    "  model: \"\"                    # a fastText language model (lid.176.bin, lid.176.ftz)\n";

typedef struct language {
    char **keep;
    size_t n_keep;
    double min_score;
    long max_bytes;
    int shortcut;
    char *field;
    cm_fasttext *ft; /* engine fasttext */
    cm_buf line;
} language;

static void destroy(void *self)
{
    language *l = self;
    if (!l) return;
    cm_conf_free_strings(l->keep, l->n_keep);
    free(l->field);
    cm_fasttext_free(l->ft);
    cm_buf_free(&l->line);
    free(l);
}

static void *create(const cm_conf *opt, cm_err *err)
{
    static const char *const known[] = {"keep", "min_score", "max_bytes", "script_shortcut", "trust_field", "engine",
                                        "model", NULL};
    static const char *const engines[] = {"cld2", "fasttext", NULL};
    language *l = cm_calloc(1, sizeof *l);
    cm_buf_init(&l->line);
    int engine = 0;
    char *model = NULL;
    l->min_score = 0.65;
    l->max_bytes = 1024;
    l->shortcut = 1;
    if (cm_conf_check_keys(opt, "filter language", known, err) || cm_conf_strings(opt, "keep", &l->keep, &l->n_keep, err) ||
        cm_conf_double(opt, "min_score", 0, 1, &l->min_score, err) ||
        cm_conf_int(opt, "max_bytes", 64, 1 << 30, &l->max_bytes, err) ||
        cm_conf_bool(opt, "script_shortcut", &l->shortcut, err) || cm_conf_string(opt, "trust_field", &l->field, err) ||
        cm_conf_enum(opt, "engine", engines, &engine, err) || cm_conf_string(opt, "model", &model, err))
        goto fail;
    if (engine == 1) {
        if (!model || !model[0]) {
            cm_conf_error(err, opt, "filter language: engine fasttext needs model: (lid.176.bin or your own)");
            goto fail;
        }
        if (!(l->ft = cm_ft_open(model, NULL, err))) goto fail;
    }
    free(model);
    if (l->field && !l->field[0]) { free(l->field); l->field = NULL; }
    return l;
fail:
    free(model);
    destroy(l);
    return NULL;
}

/* A cut that does not split a UTF-8 sequence. */
static size_t utf8_cut(const char *s, size_t len, size_t max)
{
    if (len <= max) return len;
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80) max--;
    return max;
}

static cm_verdict apply(void *self, cm_doc *doc)
{
    language *l = self;
    char code[32] = "un";
    double score = 0;
    int found = 0;
    if (l->field && doc->is_json) {
        long i = cm_json_find(&doc->json, l->field, NULL);
        if (i >= 0 && doc->json.members[i].type == CM_JSON_STRING) {
            snprintf(code, sizeof code, "%s", cm_json_str(&doc->json, &doc->json.members[i]));
            score = 1;
            found = 1;
        }
    }
    if (!found && l->shortcut) {
        const cm_signal_values *v = cm_signals_basic(doc);
        size_t n;
        const cm_token *t = cm_signals_tokens(doc, &n);
        size_t han = 0, kana = 0;
        for (size_t i = 0; i < n; i++) {
            if (!t[i].is_cjk) continue;
            size_t k;
            uint32_t c = cm_utf8_decode_at((const unsigned char *)doc->text.data + t[i].start, t[i].len, 0, &k);
            int kana_hangul = (c >= 0x3040 && c <= 0x31FF) || (c >= 0xAC00 && c <= 0xD7AF) || (c >= 0x1100 && c <= 0x11FF) ||
                              (c >= 0x3130 && c <= 0x318F) || (c >= 0xFF66 && c <= 0xFF9F);
            if (kana_hangul) kana++;
            else han++;
        }
        if (v->words > 0 && kana == 0 && (double)han / v->words >= 0.95) {
            snprintf(code, sizeof code, "zh");
            score = (double)han / v->words;
            found = 1;
        }
    }
    if (!found && doc->text.len) {
        int percent = 0, reliable = 0;
        size_t n = utf8_cut(doc->text.data, doc->text.len, (size_t)l->max_bytes);
        /* CLD2 reads past its tables on invalid UTF-8: such text stays "un" */
        if (l->ft) {
            char label[64];
            double p = 0;
            cm_fasttext_text(doc->text.data, n, CM_FT_CJK_NONE, &l->line);
            if (l->line.len && cm_fasttext_top(l->ft, l->line.data, l->line.len, label, sizeof label, &p) == 0) {
                const char *c = strncmp(label, "__label__", 9) == 0 ? label + 9 : label;
                snprintf(code, sizeof code, "%.31s", c);
                score = p;
            }
        } else if (cm_json_valid_utf8(doc->text.data, n)) {
            cm_cld2_detect(doc->text.data, (int)n, code, sizeof code, &percent, &reliable);
            score = percent / 100.0;
        }
    }
    /* the code may come from the record itself (trust_field): escape it */
    cm_buf_append_str(&doc->meta, doc->meta.len ? ",\"language\":" : "\"language\":");
    cm_buf_append_json_bytes(&doc->meta, code, strlen(code));
    cm_signals_set_extra(doc, "language_score", score);
    if (l->n_keep) {
        int ok = 0;
        for (size_t i = 0; i < l->n_keep && !ok; i++) ok = strcmp(l->keep[i], code) == 0;
        if (!ok) { doc->drop_rule = "not_kept"; return CM_DROP; }
    }
    if (score < l->min_score) { doc->drop_rule = "low_score"; return CM_DROP; }
    return CM_KEEP;
}

const cm_filter cm_filter_language = {
    .name = "language",
    .summary = "language identification (CLD2 or a fastText model) with a keep list and a minimum score",
    .defaults = DEFAULTS,
    .create = create,
    .apply = apply,
    .destroy = destroy,
};
