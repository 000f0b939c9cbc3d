/* fuzz_clean_text.c -- Unicode normalization, the quality signals and every
 * filter with its defaults, on any bytes as a document's text. */
#include "fuzz_util.h"
#include "filter.h"
#include "signals.h"

static void *states[64];
static int n_states;
static cm_signal_opts opts;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc; (void)argv;
    cm_signal_opts_default(&opts);
    for (int i = 0; cm_filters[i] && n_states < 64; i++) {
        cm_err err;
        states[n_states] = cm_filters[i]->create(NULL, &err);
        if (!states[n_states]) { fprintf(stderr, "%s: %s\n", cm_filters[i]->name, err.msg); abort(); }
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
        cm_filters[i]->apply(states[i], &doc);
        (void)cm_signals_get(&doc);
    }
    cm_doc_free(&doc);
    return 0;
}
