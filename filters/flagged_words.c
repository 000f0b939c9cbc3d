/* flagged_words.c -- drops documents in which flagged words (adult content,
 * profanity, gambling and other spam vocabulary) are too large a fraction of
 * the words. The fraction is flagged matches / words; a Chinese entry of
 * several characters counts once although it spans several one-character
 * words, so Chinese (CJK) documents have their own threshold.
 *
 * The default lists, filters/data/flagged_words_en.txt and _zh.txt, are small
 * and written for this project (compiled in, so no install path is needed);
 * bring your own lists (one word per line, such as LDNOOBW) with `files`,
 * which add to them, or replace them with `defaults: false`. The fraction is the signal
 * flagged_words_frac. Reason: flagged_words:frac. */
#include "filter.h"
#include "signals.h"
#include "wordset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char DEFAULTS[] =
    "flagged_words:\n"
    "  max_frac: 0.045              # data-juicer's flagged_word_ratio default\n"
    "  max_frac_cjk: 0.01           # calibrated on zh-web-chinesewebtext's gambling spam\n"
    "  files: []                    # more lists, one word per line (UTF-8)\n"
    "  defaults: true               # use the built-in lists too\n";

/* The default lists: filters/data/flagged_words_{en,zh}.txt, compiled in. */
extern const char cm_flagged_words_en[];
extern const char cm_flagged_words_zh[];

typedef struct flagged {
    double max_frac, max_frac_cjk;
    cm_wordset *set;
} flagged;

static void destroy(void *self)
{
    flagged *f = self;
    if (!f) return;
    cm_wordset_free(f->set);
    free(f);
}

/* Appends the words of a list (one per line, # comments) to *words. */
static void parse_list(cm_buf *b, char ***words, size_t *n, size_t *cap)
{
    char *line = b->data;
    while (line && *line) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = 0;
        size_t l = strlen(line);
        while (l && (line[l - 1] == '\r' || line[l - 1] == ' ' || line[l - 1] == '\t')) line[--l] = 0;
        if (l && line[0] != '#') {
            if (*n == *cap) { *cap = *cap ? *cap * 2 : 256; *words = cm_realloc(*words, *cap * sizeof **words); }
            (*words)[(*n)++] = cm_strdup(line);
        }
        line = nl ? nl + 1 : NULL;
    }
}

static int load_list(const char *path, char ***words, size_t *n, size_t *cap, cm_err *err)
{
    cm_buf b;
    cm_buf_init(&b);
    if (cm_read_file(path, &b, 64u << 20, err)) { cm_buf_free(&b); return -1; }
    parse_list(&b, words, n, cap);
    cm_buf_free(&b);
    return 0;
}

static void *create(const cm_conf *opt, cm_err *err)
{
    static const char *const known[] = {"max_frac", "max_frac_cjk", "files", "defaults", NULL};
    flagged *f = cm_calloc(1, sizeof *f);
    f->max_frac = 0.045;
    f->max_frac_cjk = 0.01;
    int defaults = 1;
    char **files = NULL, **words = NULL;
    size_t nf = 0, nw = 0, cap = 0;
    if (cm_conf_check_keys(opt, "filter flagged_words", known, err) ||
        cm_conf_double(opt, "max_frac", 0, 1, &f->max_frac, err) ||
        cm_conf_double(opt, "max_frac_cjk", 0, 1, &f->max_frac_cjk, err) ||
        cm_conf_strings(opt, "files", &files, &nf, err) || cm_conf_bool(opt, "defaults", &defaults, err))
        goto fail;
    if (defaults) {
        const char *lists[] = {cm_flagged_words_en, cm_flagged_words_zh};
        for (int k = 0; k < 2; k++) {
            cm_buf b;
            cm_buf_init(&b);
            cm_buf_append_str(&b, lists[k]);
            parse_list(&b, &words, &nw, &cap);
            cm_buf_free(&b);
        }
    }
    for (size_t i = 0; i < nf; i++) {
        cm_err e2;
        if (load_list(files[i], &words, &nw, &cap, &e2)) {
            cm_conf_error(err, cm_conf_get(opt, "files"), "filter flagged_words: %s", e2.msg);
            goto fail;
        }
    }
    f->set = cm_wordset_create(words, nw);
    cm_conf_free_strings(words, nw);
    cm_conf_free_strings(files, nf);
    return f;
fail:
    cm_conf_free_strings(words, nw);
    cm_conf_free_strings(files, nf);
    destroy(f);
    return NULL;
}

static cm_verdict apply(void *self, cm_doc *doc)
{
    flagged *f = self;
    const cm_signal_values *v = cm_signals_basic(doc);
    if (v->words == 0) return CM_KEEP;
    size_t n_tok;
    const cm_token *tok = cm_signals_tokens(doc, &n_tok);
    double frac = (double)cm_wordset_count(f->set, doc->text.data, tok, n_tok) / v->words;
    cm_signals_set_extra(doc, "flagged_words_frac", frac);
    double max = v->cjk ? f->max_frac_cjk : f->max_frac;
    if (max && frac > max) {
        doc->drop_rule = "frac";
        return CM_DROP;
    }
    return CM_KEEP;
}

const cm_filter cm_filter_flagged_words = {
    .name = "flagged_words",
    .summary = "drop documents with too many flagged (adult, profane, gambling) words; zh and en lists",
    .defaults = DEFAULTS,
    .create = create,
    .apply = apply,
    .destroy = destroy,
};
