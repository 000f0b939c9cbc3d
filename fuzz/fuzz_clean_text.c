/* fuzz_clean_text.c -- Unicode normalization, the quality signals and every
 * filter that runs on its defaults (quality_model needs a model file: its
 * text preparation, cm_fasttext_text, is fuzzed here in every CJK mode), on
 * any bytes as a document's text. */
#include "fuzz_util.h"
#include "fasttext_text.h"
#include "filter.h"
#include "signals.h"

static void *states[64];
static const cm_filter *filter_of[64];
static int n_states;
static cm_signal_opts opts;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc; (void)argv;
    cm_signal_opts_default(&opts);
    for (int i = 0; cm_filters[i] && n_states < 64; i++) {
        if (cm_filters[i]->needs) continue;
        cm_err err;
        states[n_states] = cm_filters[i]->create(NULL, &err);
        if (!states[n_states]) { fprintf(stderr, "%s: %s\n", cm_filters[i]->name, err.msg); abort(); }
        filter_of[n_states] = cm_filters[i];
        n_states++;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cm_doc doc;
    cm_doc_init(&doc);
    cm_signals_setup(&doc, &opts);
    for (int i = 0; i < n_states; i++) {
        cm_doc_reset(&doc);
        cm_buf_append(&doc.text, data, size);
        /* normalize first, as the recipes do, then this filter */
        cm_filters[0]->apply(states[0], &doc);
        filter_of[i]->apply(states[i], &doc);
        (void)cm_signals_get(&doc);
    }
    cm_buf line;
    cm_buf_init(&line);
    for (int cjk = CM_FT_CJK_NONE; cjk <= CM_FT_CJK_WORDS; cjk++) {
        cm_fasttext_text((const char *)data, size, cjk, &line);
        /* one line: fastText ends its input at a line break */
        if (memchr(line.data, '\n', line.len)) abort();
    }
    cm_buf_free(&line);
    cm_doc_free(&doc);
    return 0;
}
