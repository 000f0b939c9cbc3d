/* fasttext_wrap.h -- C interface to fastText 0.9.2 (Debian libfasttext-dev,
 * see fasttext_wrap.cc): load a classifier's .bin/.ftz, predict the
 * probability of a label for one line of text, train a supervised model.
 * Errors come back as a message in msg (msg_cap bytes) and a NULL or -1;
 * no C++ exception crosses into C. */
#ifndef CM_FASTTEXT_WRAP_H
#define CM_FASTTEXT_WRAP_H

#include <stddef.h>

typedef struct cm_fasttext cm_fasttext;

/* Loads a fastText model file. Refuses (NULL, msg naming path) a file that
 * is not a fastText model, one of another version, and one that is
 * truncated or has bytes past the model. */
cm_fasttext *cm_fasttext_load(const char *path, char *msg, size_t msg_cap);
void cm_fasttext_free(cm_fasttext *m);

/* Whether the model has this label (e.g. "__label__hq"). */
int cm_fasttext_has_label(const cm_fasttext *m, const char *label);

/* The probability of label for one line of whitespace-separated tokens
 * (what `fasttext predict-prob MODEL - -1` prints for it; 0 when the model
 * does not rank the label). line needs no terminator; a newline in it ends
 * the line, as in fastText's own reader. Thread-safe. */
double cm_fasttext_prob(const cm_fasttext *m, const char *line, size_t len, const char *label);

/* The most probable label of one line and its probability; 0 on success. */
int cm_fasttext_top(const cm_fasttext *m, const char *line, size_t len, char *label, size_t label_cap, double *prob);

/* Supervised training (fastText's `supervised` defaults: softmax, lr 0.1,
 * minCount 1, no subwords) on a file in fastText's format, written to out. */
typedef struct cm_fasttext_train_opts {
    int epochs, ngrams, dim, threads, seed;
    double lr;
    int bucket; /* rows for hashed word n-grams */
} cm_fasttext_train_opts;
int cm_fasttext_train(const char *input, const char *out, const cm_fasttext_train_opts *o, char *msg, size_t msg_cap);

#endif
