/* signals.h -- per-document quality signals, in the style of RedPajama-v2
 * and Gopher, computed once per document and shared by every filter that
 * reads them (gopher_*, c4, fineweb, length, signal).
 *
 * Tokens. A document is split into tokens: words and symbol runs (runs of
 * punctuation and symbols, such as "," or "..."), like the NLTK tokenizer
 * datatrove's Gopher filters use, so that their ratios mean the same here.
 *  - word_units: fast (default): the UAX #29 rules that matter for counting:
 *    runs of letters, marks and digits, joined across an apostrophe, a period
 *    or a comma between letters/digits ("don't", "3.14", "e.g"); every CJK
 *    ideograph, and each run of kana or hangul, is a word (Chinese has no
 *    spaces: one character is the unit, as data-juicer recommends).
 *  - word_units: icu: ICU's word break iterator (UAX #29, and dictionary
 *    segmentation for Chinese: 书生/浦/语/大/模型/...). Exact, and 13-41 MB/s here.
 * Mixed documents are tokenized by script, run by run. A document is "CJK"
 * when CJK words are at least half of its words; filters pick their
 * thresholds by that.
 *
 * Lines are split on \n; paragraphs on blank lines. Lengths are in Unicode
 * code points. Definitions of the repetition signals follow datatrove's
 * GopherRepetitionFilter exactly (duplicates beyond the first occurrence,
 * fractions of the text's characters). */
#ifndef CM_SIGNALS_H
#define CM_SIGNALS_H

#include <stddef.h>
#include <stdint.h>

#include "../pipeline/conf.h"
#include "../pipeline/document.h"
#include "tokens.h"

/* auto: when a step computed them (they cost nothing more); always; never */
enum { CM_STORE_AUTO = 0, CM_STORE_ALWAYS = 1, CM_STORE_NEVER = 2 };

typedef struct cm_line {
    uint32_t start, len; /* bytes */
    uint32_t chars;
    uint64_t hash;
} cm_line;

/* The signals. Fractions are in [0, 1]; counts are whole numbers. */
typedef struct cm_signal_values {
    double chars, words, tokens, lines, paragraphs, sentences;
    double cjk;                    /* 1 when the document is mostly CJK */
    double cjk_frac;               /* CJK words / words (a CJK character is a word with fast units) */
    double mean_word_length;       /* code points per word (symbol runs excluded) */
    double symbol_word_ratio;      /* ("#" + "..." + "…") / tokens */
    double hash_word_ratio, ellipsis_word_ratio;
    double bullet_lines_frac, ellipsis_lines_frac;
    double alpha_words_frac;       /* tokens with an alphabetic or CJK character / tokens */
    double stop_words, stop_words_frac;
    double dup_line_frac, dup_para_frac, dup_line_char_frac, dup_para_char_frac;
    double top_2gram_frac, top_3gram_frac, top_4gram_frac;
    double dup_5gram_frac, dup_6gram_frac, dup_7gram_frac, dup_8gram_frac, dup_9gram_frac, dup_10gram_frac;
    double terminal_punct_lines_frac;
    double short_lines_frac;       /* lines of at most short_line_chars (30; 10 for CJK documents) */
    double unique_words_frac, unigram_entropy;
    double digit_frac, upper_frac, whitespace_frac, url_frac;
    double curly_brackets, lorem_ipsum, javascript_lines, policy_lines;
    double newline_word_ratio;     /* line breaks / words (FineWeb's list ratio) */
    double dup_line_char_frac_fw;  /* FineWeb: duplicated line chars / chars without \n */
} cm_signal_values;

/* Name and offset of each signal, for the generic `signal` filter and JSON. */
typedef struct cm_signal_def {
    const char *name;
    size_t offset;
} cm_signal_def;
extern const cm_signal_def cm_signal_defs[];
/* The value of the signal called name, or -1 when there is no such signal. */
int cm_signal_lookup(const char *name);
/* The value of signal `index` (into cm_signal_defs) in v. */
double cm_signal_value(const cm_signal_values *v, int index);

/* Options, from the `signals` block of `clean` (see signals.c for defaults). */
typedef struct cm_signal_opts {
    int word_units;             /* CM_WORDS_FAST | CM_WORDS_ICU */
    int short_line_chars;       /* 30 (FineWeb) */
    int short_line_chars_cjk;   /* 10 */
    int store;                  /* CM_STORE_*: write corpusmill.signals on records */
} cm_signal_opts;

void cm_signal_opts_default(cm_signal_opts *o);
int cm_signal_opts_read(const cm_conf *node, cm_signal_opts *o, cm_err *err);

/* Per-document state, hung on the document as its cache (cm_doc.cache)
 * and reused across documents. */
typedef struct cm_signals cm_signals;

/* Makes the state of doc and gives it its options (NULL: the defaults);
 * without it, the state is made on first use with the defaults. opts must
 * outlive doc. */
void cm_signals_setup(cm_doc *doc, const cm_signal_opts *opts);
/* The store option of doc's signals (CM_STORE_*). */
int cm_signals_store(const cm_doc *doc);

/* The signals of doc's current text: computed on first use after the text
 * changed, then cached. */
const cm_signal_values *cm_signals_get(cm_doc *doc);
/* Only the cheap signals (characters, tokens, lines, duplicate lines and
 * paragraphs), not the n-gram ones (top_*gram, dup_*gram, unique_words_frac,
 * unigram_entropy),
 * which are left 0 unless computed already. For filters that need no more. */
const cm_signal_values *cm_signals_basic(cm_doc *doc);

/* The tokens / lines of the current text (valid after cm_signals_get). */
const cm_token *cm_signals_tokens(cm_doc *doc, size_t *n);
const cm_line *cm_signals_lines(cm_doc *doc, size_t *n);

/* Extra named values set by filters (language score, PII counts, flagged
 * word fraction), written with the signals; forgotten with the document. */
void cm_signals_set_extra(cm_doc *doc, const char *name, double value);
/* An extra value, or -1 when not set. */
double cm_signals_get_extra(cm_doc *doc, const char *name);

/* Whether a step stored an extra value (cm_signals_set_extra). */
int cm_signals_has_extras(const cm_doc *doc);
/* Whether a step asked for the signals of this document. */
int cm_signals_used(const cm_doc *doc);

/* A line of a text made of lines of the text before it (c4 keeps some lines
 * and drops the others): len bytes at `at`, the bytes the previous text had
 * at was_at, or new bytes when was_at is CM_LINE_REWRITTEN. */
typedef struct cm_kept_line {
    uint32_t at, len, was_at;
} cm_kept_line;
#define CM_LINE_REWRITTEN UINT32_MAX

/* Says, right after cm_doc_swap_text, where the new text's lines came from
 * (in order; the text between them is line breaks), so that the next
 * computation takes the kept lines' tokens from the previous text instead
 * of tokenizing them again: the same tokens, as a line's tokens depend on
 * the line alone (fast word units; with icu everything is recomputed). */
void cm_signals_text_from_lines(cm_doc *doc, const cm_kept_line *lines, size_t n);

/* Appends `"signals":{...}` (computing them if needed) to out. */
void cm_signals_json(cm_doc *doc, cm_buf *out);

/* Whether a line (without its \n) ends in terminal punctuation: ASCII
 * . ! ? " ' and CJK 。！？…」』” ’ (trailing spaces ignored). */
int cm_line_ends_terminal(const char *line, size_t len);

#endif
