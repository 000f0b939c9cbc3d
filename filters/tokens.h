/* tokens.h -- the tokenizer behind the quality signals and word sets: a
 * document's text as words and runs of punctuation/symbols (see signals.h for
 * the two word units, fast and icu), with the character classes it decides
 * by and the hash every token, line and n-gram is keyed by.
 *
 * A cm_tokenizer owns its arrays and ICU buffers and reuses them from one
 * document to the next, so tokenizing allocates nothing in steady state. */
#ifndef CM_TOKENS_H
#define CM_TOKENS_H

#include <stddef.h>
#include <stdint.h>
#include <unicode/ubrk.h>
#include <string.h>
#include <unicode/uchar.h>
#include <xxhash.h>

#include "../pipeline/util.h"

enum { CM_WORDS_FAST = 0, CM_WORDS_ICU = 1 };

typedef struct cm_token {
    uint32_t start, len; /* bytes in the text */
    uint32_t chars;      /* code points */
    uint8_t is_word;     /* 0: a run of punctuation/symbols */
    uint8_t has_alpha;   /* at least one alphabetic (or CJK) character */
    uint8_t is_cjk;
    uint64_t hash;       /* of the bytes */
    uint64_t key;        /* of the bytes with ASCII lowercased (word lists match on it) */
} cm_token;

typedef struct cm_tokenizer {
    cm_token *tok;
    size_t n, cap;
    /* word_units icu: the text in UTF-16, and where each unit came from */
    UChar *u16;
    int32_t *u16_to_u8;
    size_t cap_u16;
    UBreakIterator *bi;
} cm_tokenizer;

void cm_tokenizer_init(cm_tokenizer *tz);
void cm_tokenizer_free(cm_tokenizer *tz);

/* Splits text (valid UTF-8) into tz->tok[0..n) with word_units
 * (CM_WORDS_FAST or CM_WORDS_ICU). */
void cm_tokenize(cm_tokenizer *tz, int word_units, const char *text, size_t len);
/* Appends the CM_WORDS_FAST tokens of text[start, end) to tz->tok, their
 * positions in text. A fast token never crosses a line break and is decided
 * by its line alone, so a line's tokens are the same on its own as in any
 * text. */
void cm_tokenize_span(cm_tokenizer *tz, const char *text, size_t start, size_t end);
/* Room for `more` tokens after tz->tok[tz->n]. */
void cm_tokenizer_reserve(cm_tokenizer *tz, size_t more);

/* The hash of bytes that tokens, lines and n-grams are keyed by (XXH3, or a
 * cheaper mix for at most 8 bytes); the same out of line. */
static inline uint64_t cm_hash_small(uint64_t x, size_t n) /* x: the n <= 8 bytes as cm_load_small gives them */
{
    x ^= (uint64_t)n << 59;
    x *= 0x9E3779B97F4A7C15ULL;
    x ^= x >> 32;
    x *= 0xD6E8FEB86659FD93ULL;
    x ^= x >> 32;
    return x;
}
static inline uint64_t cm_hash_bytes_inline(const void *p, size_t n)
{
    if (n <= 8) return cm_hash_small(cm_load_small(p, n), n); /* most tokens: one CJK character, a short word */
    return XXH3_64bits(p, n);
}
uint64_t cm_hash_bytes(const void *p, size_t n);

/* The lowercase (ASCII) hash of a token, as stop-word and flagged-word sets
 * are keyed. */
static inline uint64_t cm_token_key(const cm_token *t) { return t->key; }

/* ---- character classes ---- */

static inline int cm_is_han(uint32_t c)
{
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0xF900 && c <= 0xFAFF) ||
           (c >= 0x20000 && c <= 0x3134F);
}
static inline int cm_is_kana_hangul(uint32_t c)
{
    return (c >= 0x3040 && c <= 0x30FF) || (c >= 0x31F0 && c <= 0x31FF) || (c >= 0xAC00 && c <= 0xD7AF) ||
           (c >= 0x1100 && c <= 0x11FF) || (c >= 0x3130 && c <= 0x318F) || (c >= 0xFF66 && c <= 0xFF9F);
}
static inline int cm_is_space(uint32_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || (c >= 0x80 && u_isUWhiteSpace((UChar32)c));
}
static inline int cm_is_wordch(uint32_t c)
{
    if (c < 0x80) return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (u_isalnum((UChar32)c)) return 1;
    int8_t t = u_charType((UChar32)c);
    return t == U_NON_SPACING_MARK || t == U_COMBINING_SPACING_MARK || t == U_ENCLOSING_MARK;
}
static inline int cm_is_alpha(uint32_t c)
{
    if (c < 0x80) return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    return u_isalpha((UChar32)c);
}
/* UAX #29 MidLetter / MidNumLet / MidNum characters that join a word when a
 * word character follows; and the hyphen, which the NLTK tokenizer behind
 * datatrove's Gopher thresholds keeps inside words ("well-known") */
static inline int cm_is_joiner(uint32_t c) { return c == '\'' || c == 0x2019 || c == '.' || c == ',' || c == 0xB7 || c == '-'; }

#endif
