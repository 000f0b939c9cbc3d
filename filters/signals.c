/* signals.c -- computes the quality signals (see signals.h): one pass over
 * the text for characters, tokens and lines, then hash counting for the
 * repetition signals. All scratch memory is owned by the per-document state
 * and reused, so steady-state computation allocates nothing. */
#define _GNU_SOURCE
#include "signals.h"

#include <stdio.h>

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unicode/ubrk.h>
#include <unicode/uchar.h>
#include <unicode/ustring.h>
#include <xxhash.h>

/* ---- options ---- */

void cm_signal_opts_default(cm_signal_opts *o)
{
    o->word_units = CM_WORDS_FAST;
    o->short_line_chars = 30;     /* FineWeb's short line */
    o->short_line_chars_cjk = 10; /* calibrated on zh-web-chinesewebtext: a CJK character carries ~3 Latin ones */
    o->store = CM_STORE_AUTO;
}

int cm_signal_opts_read(const cm_conf *node, cm_signal_opts *o, cm_err *err)
{
    static const char *const known[] = {"word_units", "short_line_chars", "short_line_chars_cjk", "store", NULL};
    static const char *const units[] = {"fast", "icu", NULL};
    static const char *const store[] = {"auto", "always", "never", NULL};
    if (cm_conf_check_keys(node, "clean.signals", known, err)) return -1;
    long a = o->short_line_chars, b = o->short_line_chars_cjk;
    if (cm_conf_enum(node, "word_units", units, &o->word_units, err) ||
        cm_conf_int(node, "short_line_chars", 1, 100000, &a, err) ||
        cm_conf_int(node, "short_line_chars_cjk", 1, 100000, &b, err) || cm_conf_enum(node, "store", store, &o->store, err))
        return -1;
    o->short_line_chars = (int)a;
    o->short_line_chars_cjk = (int)b;
    return 0;
}

/* ---- the table of signals ---- */

#define SIG(name) {#name, offsetof(cm_signal_values, name)}
const cm_signal_def cm_signal_defs[] = {
    SIG(chars), SIG(words), SIG(tokens), SIG(lines), SIG(paragraphs), SIG(sentences), SIG(cjk), SIG(cjk_frac),
    SIG(mean_word_length), SIG(symbol_word_ratio), SIG(hash_word_ratio), SIG(ellipsis_word_ratio),
    SIG(bullet_lines_frac), SIG(ellipsis_lines_frac), SIG(alpha_words_frac), SIG(stop_words), SIG(stop_words_frac),
    SIG(dup_line_frac), SIG(dup_para_frac), SIG(dup_line_char_frac), SIG(dup_para_char_frac), SIG(top_2gram_frac),
    SIG(top_3gram_frac), SIG(top_4gram_frac), SIG(dup_5gram_frac), SIG(dup_6gram_frac), SIG(dup_7gram_frac),
    SIG(dup_8gram_frac), SIG(dup_9gram_frac), SIG(dup_10gram_frac), SIG(terminal_punct_lines_frac),
    SIG(short_lines_frac), SIG(unique_words_frac), SIG(unigram_entropy), SIG(digit_frac), SIG(upper_frac),
    SIG(whitespace_frac), SIG(url_frac), SIG(curly_brackets), SIG(lorem_ipsum), SIG(javascript_lines),
    SIG(policy_lines), SIG(newline_word_ratio), SIG(dup_line_char_frac_fw), {NULL, 0},
};

int cm_signal_lookup(const char *name)
{
    for (int i = 0; cm_signal_defs[i].name; i++)
        if (strcmp(cm_signal_defs[i].name, name) == 0) return i;
    return -1;
}

/* ---- stop words ----
 * English: the most frequent English function words (the top of the usual
 * frequency lists, e.g. the Oxford English Corpus's 100 most common words,
 * content words left out); it contains Gopher's eight.
 * Chinese: the most frequent function characters and words of modern written
 * Chinese (particles, pronouns, prepositions, conjunctions, copula), written
 * for this project; single characters so that they match character-level
 * tokens, words for ICU's dictionary tokens. */
static const char *const STOP_EN[] = {
    "the", "be", "to", "of", "and", "a", "in", "that", "have", "i", "it", "for", "not", "on", "with", "he", "as",
    "you", "do", "at", "this", "but", "his", "by", "from", "they", "we", "her", "she", "or", "an", "will", "my",
    "all", "would", "there", "their", "what", "so", "if", "about", "which", "me", "is", "are", "was", "were",
    "been", "has", "had", "can", "its", "our", "your", "them", "than", "then", "these", "those", "when", NULL};
static const char *const STOP_ZH[] = {
    "的", "了", "是", "在", "和", "有", "我", "也", "不", "就", "都", "这", "他", "她", "它", "你", "们", "与",
    "及", "或", "被", "把", "从", "对", "而", "为", "以", "之", "其", "但", "并", "所", "于", "将", "让", "向",
    "着", "过", "地", "得", "吗", "呢", "吧", "啊", "那", "些", "个", "该", "此", "等", "我们", "他们", "你们",
    "这个", "那个", "一个", "没有", "因为", "所以", "但是", "如果", "可以", "已经", "这些", "那些", "自己", NULL};

/* ---- a small open-addressing counter keyed by 64-bit hashes ---- */

/* Keys are 32-bit fingerprints of the 64-bit hashes (0 marks a free slot):
 * half the memory of full keys, so a document's table stays in cache; a
 * false match needs two of a document's few thousand n-grams to share 32
 * bits, which moves no fraction measurably. */
typedef struct htab {
    uint32_t *keys;
    uint32_t *vals;
    size_t cap;  /* allocated */
    size_t size; /* in use for this document: a power of two */
} htab;

static void htab_reset(htab *h, size_t expected)
{
    size_t size = 64;
    while (size < expected * 2) size <<= 1;
    if (size > h->cap) {
        free(h->keys);
        free(h->vals);
        h->keys = cm_malloc(size * sizeof *h->keys);
        h->vals = cm_malloc(size * sizeof *h->vals);
        h->cap = size;
    }
    h->size = size;
    memset(h->keys, 0, size * sizeof *h->keys); /* only what this document uses */
}

static inline uint32_t fingerprint(uint64_t key)
{
    uint32_t f = (uint32_t)(key >> 32);
    return f ? f : 1;
}

/* Adds one occurrence of key; returns its count. */
static uint32_t htab_add(htab *h, uint64_t key)
{
    uint32_t f = fingerprint(key);
    size_t mask = h->size - 1, i = (size_t)key & mask;
    for (;;) {
        if (h->keys[i] == f) return ++h->vals[i];
        if (h->keys[i] == 0) {
            h->keys[i] = f;
            h->vals[i] = 1;
            return 1;
        }
        i = (i + 1) & mask;
    }
}

/* Adds key; returns whether it was there already (no counts kept). */
static int htab_insert(htab *h, uint64_t key)
{
    uint32_t f = fingerprint(key);
    size_t mask = h->size - 1, i = (size_t)key & mask;
    for (;;) {
        if (h->keys[i] == f) return 1;
        if (h->keys[i] == 0) {
            h->keys[i] = f;
            return 0;
        }
        i = (i + 1) & mask;
    }
}

static int htab_has(const htab *h, uint64_t key)
{
    uint32_t f = fingerprint(key);
    size_t mask = h->size - 1, i = (size_t)key & mask;
    for (;;) {
        if (h->keys[i] == f) return 1;
        if (h->keys[i] == 0) return 0;
        i = (i + 1) & mask;
    }
}

/* ---- per-document state ---- */

typedef struct extra {
    char name[48];
    double value;
} extra;

struct cm_signals {
    int valid;      /* tier 1: characters, tokens, lines */
    int judged, judged_repetition; /* values in v were computed for this document (maybe for an earlier text) */
    int repetition; /* tier 2: duplicate lines, paragraphs, n-grams, word statistics */
    int used;
    cm_signal_values v;
    cm_token *tok;
    size_t n_tok, cap_tok;
    cm_line *line;
    size_t n_line, cap_line;
    htab h, stop;
    cm_buf lower;          /* ASCII-lowercased text, for phrase search */
    extra *extras;
    size_t n_extras, cap_extras;
    UChar *u16;
    int32_t *u16_to_u8;
    size_t cap_u16;
    UBreakIterator *bi;
};

static inline uint64_t hash_bytes(const void *p, size_t n)
{
    if (n <= 8) { /* most tokens: one CJK character, a short word */
        uint64_t x = 0;
        memcpy(&x, p, n);
        x ^= (uint64_t)n << 59;
        x *= 0x9E3779B97F4A7C15ULL;
        x ^= x >> 32;
        x *= 0xD6E8FEB86659FD93ULL;
        x ^= x >> 32;
        return x;
    }
    return XXH3_64bits(p, n);
}

uint64_t cm_hash_bytes(const void *p, size_t n) { return hash_bytes(p, n); }

static cm_signals *state(cm_doc *doc)
{
    if (!doc->signals) {
        cm_signals *s = cm_calloc(1, sizeof *s);
        /* the stop-word set, by hash */
        htab_reset(&s->stop, 256);
        for (int i = 0; STOP_EN[i]; i++) htab_add(&s->stop, cm_hash_bytes(STOP_EN[i], strlen(STOP_EN[i])));
        for (int i = 0; STOP_ZH[i]; i++) htab_add(&s->stop, cm_hash_bytes(STOP_ZH[i], strlen(STOP_ZH[i])));
        doc->signals = s;
    }
    return doc->signals;
}

void cm_signals_invalidate(cm_signals *s)
{
    if (s) s->valid = s->repetition = 0;
}

void cm_signals_forget_extras(cm_signals *s)
{
    if (s) {
        s->valid = s->repetition = 0;
        s->judged = s->judged_repetition = 0;
        s->used = 0;
        s->n_extras = 0;
    }
}

int cm_signals_used(const cm_doc *doc) { return doc->signals && doc->signals->used; }

void cm_signals_free(cm_signals *s)
{
    if (!s) return;
    free(s->tok);
    free(s->line);
    free(s->h.keys);
    free(s->h.vals);
    free(s->stop.keys);
    free(s->stop.vals);
    cm_buf_free(&s->lower);
    free(s->extras);
    free(s->u16);
    free(s->u16_to_u8);
    if (s->bi) ubrk_close(s->bi);
    free(s);
}

void cm_signals_set_extra(cm_doc *doc, const char *name, double value)
{
    cm_signals *s = state(doc);
    for (size_t i = 0; i < s->n_extras; i++)
        if (strcmp(s->extras[i].name, name) == 0) { s->extras[i].value = value; return; }
    if (s->n_extras == s->cap_extras) {
        s->cap_extras = s->cap_extras ? s->cap_extras * 2 : 8;
        s->extras = cm_realloc(s->extras, s->cap_extras * sizeof *s->extras);
    }
    snprintf(s->extras[s->n_extras].name, sizeof s->extras[0].name, "%s", name);
    s->extras[s->n_extras].value = value;
    s->n_extras++;
}

double cm_signals_get_extra(cm_doc *doc, const char *name)
{
    cm_signals *s = state(doc);
    for (size_t i = 0; i < s->n_extras; i++)
        if (strcmp(s->extras[i].name, name) == 0) return s->extras[i].value;
    return -1;
}

/* ---- character classes ---- */

static inline int is_han(uint32_t c)
{
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0xF900 && c <= 0xFAFF) ||
           (c >= 0x20000 && c <= 0x3134F);
}
static inline int is_kana_hangul(uint32_t c)
{
    return (c >= 0x3040 && c <= 0x30FF) || (c >= 0x31F0 && c <= 0x31FF) || (c >= 0xAC00 && c <= 0xD7AF) ||
           (c >= 0x1100 && c <= 0x11FF) || (c >= 0x3130 && c <= 0x318F) || (c >= 0xFF66 && c <= 0xFF9F);
}
static inline int is_space(uint32_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || (c >= 0x80 && u_isUWhiteSpace((UChar32)c));
}
static inline int is_wordch(uint32_t c)
{
    if (c < 0x80) return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (u_isalnum((UChar32)c)) return 1;
    int8_t t = u_charType((UChar32)c);
    return t == U_NON_SPACING_MARK || t == U_COMBINING_SPACING_MARK || t == U_ENCLOSING_MARK;
}
static inline int is_alpha(uint32_t c)
{
    if (c < 0x80) return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    return u_isalpha((UChar32)c);
}
/* UAX #29 MidLetter / MidNumLet / MidNum characters that join a word when a
 * word character follows; and the hyphen, which the NLTK tokenizer behind
 * datatrove's Gopher thresholds keeps inside words ("well-known") */
static inline int is_joiner(uint32_t c) { return c == '\'' || c == 0x2019 || c == '.' || c == ',' || c == 0xB7 || c == '-'; }

static inline uint32_t decode_at(const unsigned char *s, size_t len, size_t i, size_t *k)
{
    unsigned char c = s[i];
    if (c < 0x80) { *k = 1; return c; }
    *k = cm_utf8_seq_len(s + i, len - i);
    if (!*k) { *k = 1; return 0xFFFD; }
    return cm_utf8_decode(s + i, *k);
}

static void push_token(cm_signals *S, const unsigned char *s, size_t start, size_t end, uint32_t chars, int is_word,
                       int has_alpha, int is_cjk)
{
    if (S->n_tok == S->cap_tok) {
        S->cap_tok = S->cap_tok ? S->cap_tok * 2 : 1024;
        S->tok = cm_realloc(S->tok, S->cap_tok * sizeof *S->tok);
    }
    cm_token *t = &S->tok[S->n_tok++];
    t->start = (uint32_t)start;
    t->len = (uint32_t)(end - start);
    t->chars = chars;
    t->is_word = (uint8_t)is_word;
    t->has_alpha = (uint8_t)has_alpha;
    t->is_cjk = (uint8_t)is_cjk;
    t->hash = hash_bytes(s + start, end - start);
    t->key = t->hash;
    if (!is_cjk && end - start <= 64) {
        size_t j = start;
        while (j < end && !(s[j] >= 'A' && s[j] <= 'Z')) j++;
        if (j < end) {
            char low[64];
            for (j = start; j < end; j++) low[j - start] = (char)((s[j] >= 'A' && s[j] <= 'Z') ? s[j] + 32 : s[j]);
            t->key = hash_bytes(low, end - start);
        }
    }
}

/* ASCII word characters: 1 digit or underscore, 2 letter, 0 otherwise. */
static const unsigned char ASCII_WORD[256] = {
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
    ['_'] = 1,
    ['a'] = 2, ['b'] = 2, ['c'] = 2, ['d'] = 2, ['e'] = 2, ['f'] = 2, ['g'] = 2, ['h'] = 2, ['i'] = 2, ['j'] = 2,
    ['k'] = 2, ['l'] = 2, ['m'] = 2, ['n'] = 2, ['o'] = 2, ['p'] = 2, ['q'] = 2, ['r'] = 2, ['s'] = 2, ['t'] = 2,
    ['u'] = 2, ['v'] = 2, ['w'] = 2, ['x'] = 2, ['y'] = 2, ['z'] = 2,
    ['A'] = 2, ['B'] = 2, ['C'] = 2, ['D'] = 2, ['E'] = 2, ['F'] = 2, ['G'] = 2, ['H'] = 2, ['I'] = 2, ['J'] = 2,
    ['K'] = 2, ['L'] = 2, ['M'] = 2, ['N'] = 2, ['O'] = 2, ['P'] = 2, ['Q'] = 2, ['R'] = 2, ['S'] = 2, ['T'] = 2,
    ['U'] = 2, ['V'] = 2, ['W'] = 2, ['X'] = 2, ['Y'] = 2, ['Z'] = 2,
};

/* Fast tokenizer (see signals.h). Also counts characters by class. */
static void tokenize_fast(cm_signals *S, const unsigned char *s, size_t len, size_t *cjk_chars, size_t *letters)
{
    size_t i = 0;
    while (i < len) {
        size_t k;
        uint32_t c = decode_at(s, len, i, &k);
        if (c == ' ' || c == '\n') { i++; continue; }
        if (is_space(c)) { i += k; continue; }
        if (is_han(c)) {
            push_token(S, s, i, i + k, 1, 1, 1, 1);
            (*cjk_chars)++;
            (*letters)++;
            i += k;
            continue;
        }
        if (is_kana_hangul(c)) {
            size_t st = i;
            uint32_t n = 0;
            while (i < len) {
                uint32_t d = decode_at(s, len, i, &k);
                if (!is_kana_hangul(d)) break;
                i += k;
                n++;
            }
            *cjk_chars += n;
            *letters += n;
            push_token(S, s, st, i, n, 1, 1, 1);
            continue;
        }
        if (is_wordch(c)) {
            size_t st = i;
            uint32_t n = 0;
            int alpha = 0;
            while (i < len) {
                unsigned char b = s[i];
                if (ASCII_WORD[b]) { /* the common case, without decoding */
                    if (ASCII_WORD[b] == 2) { alpha = 1; (*letters)++; }
                    i++;
                    n++;
                    continue;
                }
                uint32_t d = decode_at(s, len, i, &k);
                if (is_wordch(d) && !is_han(d) && !is_kana_hangul(d)) {
                    if (is_alpha(d)) { alpha = 1; (*letters)++; }
                    i += k;
                    n++;
                    continue;
                }
                if (is_joiner(d) && i + k < len) {
                    size_t k2;
                    uint32_t e = decode_at(s, len, i + k, &k2);
                    /* a comma only joins digits (3,000), a hyphen only letters; the others any word characters */
                    int ok = is_wordch(e) && !is_han(e) && !is_kana_hangul(e) &&
                             (d != ',' || ((s[i - 1] >= '0' && s[i - 1] <= '9') && e >= '0' && e <= '9')) &&
                             (d != '-' || (is_alpha(e) && is_alpha(s[i - 1])));
                    if (ok) { i += k; n++; continue; }
                }
                break;
            }
            push_token(S, s, st, i, n, 1, alpha, 0);
            continue;
        }
        /* punctuation and symbols: a run of the same character is one token */
        size_t st = i;
        uint32_t n = 0;
        while (i < len) {
            size_t k2;
            uint32_t d = decode_at(s, len, i, &k2);
            if (d != c) break;
            i += k2;
            n++;
        }
        push_token(S, s, st, i, n, 0, 0, 0);
    }
}

/* ICU tokenizer: UAX #29 word boundaries, dictionary segmentation for CJK. */
static void tokenize_icu(cm_signals *S, const unsigned char *s, size_t len, size_t *cjk_chars, size_t *letters)
{
    if (len + 1 > S->cap_u16) {
        S->cap_u16 = len + 1;
        S->u16 = cm_realloc(S->u16, S->cap_u16 * sizeof *S->u16);
        S->u16_to_u8 = cm_realloc(S->u16_to_u8, (S->cap_u16 + 1) * sizeof *S->u16_to_u8);
    }
    int32_t n16 = 0;
    for (size_t i = 0; i < len;) {
        size_t k;
        uint32_t c = decode_at(s, len, i, &k);
        S->u16_to_u8[n16] = (int32_t)i;
        if (c >= 0x10000) {
            S->u16[n16++] = (UChar)(0xD7C0 + (c >> 10));
            S->u16_to_u8[n16] = (int32_t)i;
            S->u16[n16++] = (UChar)(0xDC00 | (c & 0x3FF));
        } else {
            S->u16[n16++] = (UChar)c;
        }
        i += k;
    }
    S->u16_to_u8[n16] = (int32_t)len;
    UErrorCode st = U_ZERO_ERROR;
    if (!S->bi) S->bi = ubrk_open(UBRK_WORD, "", NULL, 0, &st);
    st = U_ZERO_ERROR;
    ubrk_setText(S->bi, S->u16, n16, &st);
    if (U_FAILURE(st)) { tokenize_fast(S, s, len, cjk_chars, letters); return; }
    int32_t a = ubrk_first(S->bi);
    for (int32_t b = ubrk_next(S->bi); b != UBRK_DONE; a = b, b = ubrk_next(S->bi)) {
        int status = ubrk_getRuleStatus(S->bi);
        size_t ba = (size_t)S->u16_to_u8[a], bb = (size_t)S->u16_to_u8[b];
        uint32_t chars = 0;
        int alpha = 0, cjk = 0, space = 1;
        for (size_t i = ba; i < bb;) {
            size_t k;
            uint32_t c = decode_at(s, len, i, &k);
            chars++;
            if (!is_space(c)) space = 0;
            if (is_han(c) || is_kana_hangul(c)) { cjk = 1; (*cjk_chars)++; }
            if (is_alpha(c) || is_han(c)) { alpha = 1; (*letters)++; }
            i += k;
        }
        if (space) continue;
        push_token(S, s, ba, bb, chars, status != UBRK_WORD_NONE, alpha, cjk);
    }
}

/* ---- the computation ---- */

/* Polynomial hashes of all windows of n tokens, rolled in O(1) per window
 * (arithmetic mod 2^64 with an odd base), then mixed so that every bit
 * depends on every token. */
#define NGRAM_BASE 0x100000001B3ULL
static inline uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xFF51AFD7ED558CCDULL;
    x ^= x >> 33;
    return x;
}

typedef struct roller {
    const cm_token *t;
    int n;
    uint64_t h, top; /* top = BASE^(n-1) */
} roller;

static void roller_start(roller *r, const cm_token *t, int n)
{
    r->t = t;
    r->n = n;
    r->h = 0;
    r->top = 1;
    for (int j = 0; j < n; j++) {
        r->h = r->h * NGRAM_BASE + t[j].hash;
        if (j) r->top *= NGRAM_BASE;
    }
}

/* The hash of window i (call with i = 0, 1, 2, ... in order, or jump with
 * roller_start(t + i)). */
static inline uint64_t roller_hash(const roller *r) { return mix64(r->h + (uint64_t)r->n); }
static inline void roller_next(roller *r, size_t i)
{
    (void)i;
    r->h = (r->h - r->t[0].hash * r->top) * NGRAM_BASE + r->t[r->n].hash;
    r->t++;
}

static int ends_with_bytes(const unsigned char *s, size_t n, const char *suffix)
{
    size_t k = strlen(suffix);
    return n >= k && memcmp(s + n - k, suffix, k) == 0;
}
static int starts_with_bytes(const unsigned char *s, size_t n, const char *prefix)
{
    size_t k = strlen(prefix);
    return n >= k && memcmp(s, prefix, k) == 0;
}

/* Sentence and line ends: ASCII . ! ? " ' and CJK 。！？…」』” ’ */
static const char *const TERMINALS[] = {".", "!", "?", "\"", "'", "。", "！", "？", "…", "」", "』", "”", "’", NULL};
/* Gopher's bullets (datatrove) and RedPajama-v2's */
static const char *const BULLETS[] = {"•", "-", "*", "‣", "▶", "◀", "◦", "■", "□", "▪", "▫", "–", "●", "○", "·", "◆", "►", NULL};
/* C4's policy phrases, and their Chinese counterparts */
static const char *const POLICY[] = {"terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies",
                                     "use cookies", "隐私政策", "使用条款", "服务条款", "免责声明", NULL};

int cm_line_ends_terminal(const char *line, size_t len)
{
    const unsigned char *s = (const unsigned char *)line;
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t')) len--;
    for (int k = 0; TERMINALS[k]; k++)
        if (ends_with_bytes(s, len, TERMINALS[k])) return 1;
    return 0;
}

static inline uint64_t token_key(const char *text, const cm_token *t)
{
    (void)text;
    return t->key;
}

uint64_t cm_token_key(const char *text, const cm_token *t) { return token_key(text, t); }

static size_t count_sub(const char *hay, size_t n, const char *needle)
{
    size_t k = strlen(needle), c = 0;
    const char *p = hay, *end = hay + n;
    while (p < end && (p = memmem(p, (size_t)(end - p), needle, k))) { c++; p += k; }
    return c;
}

/* Characters of the text that are inside URLs (http://, https://, www.). */
static size_t url_chars(const unsigned char *s, size_t len)
{
    size_t total = 0, i = 0;
    while (i < len) {
        const unsigned char *h = memmem(s + i, len - i, "http", 4);
        const unsigned char *w = memmem(s + i, len - i, "www.", 4);
        const unsigned char *p = h && (!w || h < w) ? h : w;
        if (!p) break;
        size_t at = (size_t)(p - s);
        int ok = p == w || starts_with_bytes(p, len - at, "http://") || starts_with_bytes(p, len - at, "https://");
        if (at > 0 && (s[at - 1] | 32) >= 'a' && (s[at - 1] | 32) <= 'z') ok = 0; /* inside a word */
        if (!ok) { i = at + 4; continue; }
        size_t j = at;
        while (j < len && s[j] > ' ' && s[j] < 0x80) j++;
        total += j - at;
        i = j;
    }
    return total;
}

static void compute(cm_doc *doc)
{
    cm_signals *S = state(doc);
    const cm_signal_opts *o = doc->signal_opts;
    cm_signal_opts dflt;
    if (!o) { cm_signal_opts_default(&dflt); o = &dflt; }
    const unsigned char *s = (const unsigned char *)doc->text.data;
    size_t len = doc->text.len;
    cm_signal_values *v = &S->v;
    memset(v, 0, sizeof *v);
    S->n_tok = S->n_line = 0;
    S->repetition = 0;
    S->judged = 1;
    S->judged_repetition = 0;
    if (!s) s = (const unsigned char *)"";

    /* characters */
    size_t chars = 0, digits = 0, upper = 0, spaces = 0, newlines = 0;
    for (size_t i = 0; i < len;) {
        size_t k;
        uint32_t c = decode_at(s, len, i, &k);
        chars++;
        if (c < 0x80) {
            digits += c >= '0' && c <= '9';
            upper += c >= 'A' && c <= 'Z';
            spaces += c == ' ' || c == '\t' || c == '\n';
            newlines += c == '\n';
        } else if (!is_han(c)) { /* ideographs are none of these */
            digits += u_isdigit((UChar32)c) != 0;
            upper += u_isupper((UChar32)c) != 0;
            spaces += u_isUWhiteSpace((UChar32)c) != 0;
        }
        i += k;
    }

    /* tokens */
    size_t cjk_chars = 0, letters = 0;
    if (o->word_units == CM_WORDS_ICU) tokenize_icu(S, s, len, &cjk_chars, &letters);
    else tokenize_fast(S, s, len, &cjk_chars, &letters);
    size_t words = 0, word_chars = 0, alpha_tokens = 0, stop = 0, hashes = 0, ellipses = 0;
    for (size_t i = 0; i < S->n_tok; i++) {
        const cm_token *t = &S->tok[i];
        alpha_tokens += t->has_alpha;
        if (t->is_word) {
            words++;
            word_chars += t->chars;
            stop += htab_has(&S->stop, token_key((const char *)s, t)); /* in lowercase */
        } else {
            const unsigned char *p = s + t->start;
            if (p[0] == '#') hashes += t->chars;
            if (p[0] == '.' && t->chars >= 3) ellipses += t->chars / 3;
            if (starts_with_bytes(p, t->len, "…")) ellipses += t->chars;
        }
    }
    v->chars = (double)chars;
    v->tokens = (double)S->n_tok;
    v->words = (double)words;
    /* the dominant script by words: a CJK character and a Latin word each
     * carry about one unit of meaning (letters would overweight Latin) */
    size_t cjk_words = 0;
    for (size_t i = 0; i < S->n_tok; i++) cjk_words += S->tok[i].is_word && S->tok[i].is_cjk;
    (void)cjk_chars;
    (void)letters;
    v->cjk_frac = words ? (double)cjk_words / (double)words : 0;
    v->cjk = v->cjk_frac >= 0.5;
    v->mean_word_length = words ? (double)word_chars / (double)words : 0;
    double ntok = S->n_tok ? (double)S->n_tok : 1;
    v->hash_word_ratio = (double)hashes / ntok;
    v->ellipsis_word_ratio = (double)ellipses / ntok;
    v->symbol_word_ratio = (double)(hashes + ellipses) / ntok;
    v->alpha_words_frac = S->n_tok ? (double)alpha_tokens / ntok : 0;
    v->stop_words = (double)stop;
    v->stop_words_frac = words ? (double)stop / (double)words : 0;
    v->digit_frac = chars ? (double)digits / (double)chars : 0;
    v->upper_frac = chars ? (double)upper / (double)chars : 0;
    v->whitespace_frac = chars ? (double)spaces / (double)chars : 0;
    v->url_frac = chars ? (double)url_chars(s, len) / (double)chars : 0;
    v->newline_word_ratio = words ? (double)newlines / (double)words : 0;

    /* sentences: runs of terminal punctuation, and a last sentence without one */
    size_t sentences = 0;
    int open = 0;
    for (size_t i = 0; i < S->n_tok; i++) {
        const cm_token *t = &S->tok[i];
        if (t->is_word) { open = 1; continue; }
        const unsigned char *p = s + t->start;
        int term = p[0] == '.' || p[0] == '!' || p[0] == '?' || starts_with_bytes(p, t->len, "。") ||
                   starts_with_bytes(p, t->len, "！") || starts_with_bytes(p, t->len, "？") ||
                   starts_with_bytes(p, t->len, "…");
        if (term && open) { sentences++; open = 0; }
    }
    v->sentences = (double)(sentences + open);

    /* lines (non-empty) and their signals */
    cm_buf_clear(&S->lower);
    cm_buf_reserve(&S->lower, len);
    for (size_t i = 0; i < len; i++) S->lower.data[i] = (char)((s[i] >= 'A' && s[i] <= 'Z') ? s[i] + 32 : s[i]);
    S->lower.len = len;
    size_t bullets = 0, ell_lines = 0, term_lines = 0, short_lines = 0, js_lines = 0, pol_lines = 0;
    int short_max = v->cjk ? o->short_line_chars_cjk : o->short_line_chars;
    /* the boilerplate phrases are rare: find them in the whole text, then
     * count the lines they are on */
    size_t js_at = len, pol_at = len;
    {
        const char *low = S->lower.data;
        const char *p = memmem(low, len, "javascript", 10);
        if (p) js_at = (size_t)(p - low);
        /* every policy phrase contains one of these */
        static const char *const KEYS[] = {"cookie", "privacy policy", "terms of use", "隐私政策", "条款", "免责声明", NULL};
        int keys = cjk_words ? 6 : 3; /* the Chinese phrases only where there is Chinese */
        for (int k = 0; k < keys; k++) {
            const char *q = memmem(low, len, KEYS[k], strlen(KEYS[k]));
            if (q && (size_t)(q - low) < pol_at) pol_at = (size_t)(q - low);
        }
    }
    for (size_t i = 0; i < len;) {
        const unsigned char *nl = memchr(s + i, '\n', len - i);
        size_t e = nl ? (size_t)(nl - s) : len;
        size_t a = i, b = e;
        while (a < b && (s[a] == ' ' || s[a] == '\t')) a++;
        while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t')) b--;
        if (b > a) {
            if (S->n_line == S->cap_line) {
                S->cap_line = S->cap_line ? S->cap_line * 2 : 256;
                S->line = cm_realloc(S->line, S->cap_line * sizeof *S->line);
            }
            cm_line *L = &S->line[S->n_line++];
            L->start = (uint32_t)i;
            L->len = (uint32_t)(e - i);
            uint32_t lc = 0;
            for (size_t j = i; j < e; j++) lc += (s[j] & 0xC0) != 0x80;
            L->chars = lc;
            L->hash = hash_bytes(s + i, e - i);
            unsigned char first = s[a], last = s[b - 1];
            if (first == '-' || first == '*' || first == 0xE2 || first == 0xC2)
                for (int k = 0; BULLETS[k]; k++)
                    if (starts_with_bytes(s + a, b - a, BULLETS[k])) { bullets++; break; }
            if (last == '.' || last == 0xA6) /* "...", and the last byte of "…" */
                if (ends_with_bytes(s + a, b - a, "...") || ends_with_bytes(s + a, b - a, "…")) ell_lines++;
            if (cm_line_ends_terminal((const char *)s + a, b - a)) term_lines++;
            if (lc <= (uint32_t)short_max) short_lines++;
            if (js_at < e && js_at + 10 <= len) {
                const char *low = S->lower.data + i;
                if (memmem(low, e - i, "javascript", 10)) js_lines++;
            }
            if (pol_at < e) {
                const char *low = S->lower.data + i;
                for (int k = 0; POLICY[k]; k++)
                    if (memmem(low, e - i, POLICY[k], strlen(POLICY[k]))) { pol_lines++; break; }
            }
        }
        i = e + 1;
    }
    double nlines = S->n_line ? (double)S->n_line : 1;
    v->lines = (double)S->n_line;
    v->bullet_lines_frac = (double)bullets / nlines;
    v->ellipsis_lines_frac = (double)ell_lines / nlines;
    v->terminal_punct_lines_frac = S->n_line ? (double)term_lines / nlines : 0;
    v->short_lines_frac = S->n_line ? (double)short_lines / nlines : 0;
    v->javascript_lines = (double)js_lines;
    v->policy_lines = (double)pol_lines;
    size_t curly = 0;
    for (const unsigned char *p = s; (p = memchr(p, '{', len - (size_t)(p - s))); p++) curly++;
    v->curly_brackets = (double)curly;
    v->lorem_ipsum = (double)count_sub(S->lower.data, len, "lorem ipsum");

    double dchars = chars ? (double)chars : 1;
    /* duplicate lines (datatrove: duplicates beyond the first) */
    htab_reset(&S->h, S->n_line);
    size_t dup_lines = 0, dup_line_chars = 0;
    for (size_t i = 0; i < S->n_line; i++) {
        if (htab_add(&S->h, S->line[i].hash) > 1) {
            dup_lines++;
            dup_line_chars += S->line[i].chars;
        }
    }
    v->dup_line_frac = (double)dup_lines / nlines;
    v->dup_line_char_frac = (double)dup_line_chars / dchars;
    v->dup_line_char_frac_fw = chars > newlines ? (double)dup_line_chars / (double)(chars - newlines) : 0;

    /* paragraphs: split on blank lines */
    htab_reset(&S->h, S->n_line + 1);
    size_t paras = 0, dup_paras = 0, dup_para_chars = 0;
    for (size_t i = 0; i < len;) {
        const unsigned char *p = memmem(s + i, len - i, "\n\n", 2);
        size_t e = p ? (size_t)(p - s) : len;
        if (e > i) {
            paras++;
            if (htab_add(&S->h, cm_hash_bytes(s + i, e - i)) > 1) {
                dup_paras++;
                for (size_t j = i; j < e; j++) dup_para_chars += (s[j] & 0xC0) != 0x80;
            }
        }
        i = e;
        while (i < len && s[i] == '\n') i++;
    }
    v->paragraphs = (double)paras;
    v->dup_para_frac = paras ? (double)dup_paras / (double)paras : 0;
    v->dup_para_char_frac = (double)dup_para_chars / dchars;


    S->valid = 1;
}

/* Tier 2: the n-gram repetition signals and word statistics (hash counting
 * over every token), the costly part; computed only when a step or the stored record
 * needs them. */
static void compute_repetition(cm_doc *doc)
{
    cm_signals *S = doc->signals;
    cm_signal_values *v = &S->v;
    size_t chars = (size_t)v->chars, words = (size_t)v->words;
    double dchars = chars ? (double)chars : 1;
    /* word statistics: unique fraction and entropy */
    htab_reset(&S->h, S->n_tok);
    for (size_t i = 0; i < S->n_tok; i++)
        if (S->tok[i].is_word) htab_add(&S->h, S->tok[i].hash);
    size_t uniq = 0;
    double ent = 0;
    for (size_t i = 0; i < S->h.size; i++) {
        if (!S->h.keys[i]) continue;
        uniq++;
        double p = (double)S->h.vals[i] / (double)(words ? words : 1);
        ent -= p * log(p);
    }
    v->unique_words_frac = words ? (double)uniq / (double)words : 0;
    v->unigram_entropy = ent;

    /* n-grams over all tokens, as datatrove's GopherRepetitionFilter:
     * top n-gram: its length joined with spaces times its count; duplicated
     * n-grams: characters of repeated occurrences, skipping past each one */
    double *top[] = {&v->top_2gram_frac, &v->top_3gram_frac, &v->top_4gram_frac};
    for (int n = 2; n <= 4; n++) {
        if (S->n_tok < (size_t)n) continue;
        htab_reset(&S->h, S->n_tok);
        uint32_t best = 0;
        size_t best_at = 0;
        roller r;
        roller_start(&r, S->tok, n);
        for (size_t i = 0; i + (size_t)n <= S->n_tok; i++) {
            uint32_t c = htab_add(&S->h, roller_hash(&r));
            if (c > best) { best = c; best_at = i; }
            if (i + (size_t)n < S->n_tok) roller_next(&r, i);
        }
        /* an n-gram seen once is no repetition (datatrove counts it too,
         * which drops short documents for nothing); and when no n-gram
         * repeats, no longer one does */
        if (best < 2) break;
        size_t gram_chars = (size_t)n - 1;
        for (int j = 0; j < n; j++) gram_chars += S->tok[best_at + (size_t)j].chars;
        *top[n - 2] = (double)(gram_chars * best) / dchars;
    }
    double *dup[] = {&v->dup_5gram_frac, &v->dup_6gram_frac, &v->dup_7gram_frac,
                     &v->dup_8gram_frac, &v->dup_9gram_frac, &v->dup_10gram_frac};
    for (int n = 5; n <= 10; n++) {
        if (S->n_tok < (size_t)n) continue;
        htab_reset(&S->h, S->n_tok);
        size_t repeated = 0;
        roller r;
        roller_start(&r, S->tok, n);
        for (size_t i = 0; i + (size_t)n <= S->n_tok;) {
            if (htab_insert(&S->h, roller_hash(&r))) {
                for (int j = 0; j < n; j++) repeated += S->tok[i + (size_t)j].chars;
                i += (size_t)n; /* datatrove skips past a repeated n-gram */
                if (i + (size_t)n <= S->n_tok) roller_start(&r, S->tok + i, n);
            } else {
                if (i + (size_t)n < S->n_tok) roller_next(&r, i);
                i++;
            }
        }
        *dup[n - 5] = (double)repeated / dchars;
        /* no repeated n-gram means no repeated longer one: the rest are 0 */
        if (repeated == 0) break;
    }
    S->repetition = 1;
    S->judged_repetition = 1;
}

const cm_signal_values *cm_signals_get(cm_doc *doc)
{
    cm_signals *S = state(doc);
    S->used = 1;
    if (!S->valid) compute(doc);
    if (!S->repetition) compute_repetition(doc);
    return &S->v;
}

const cm_signal_values *cm_signals_basic(cm_doc *doc)
{
    cm_signals *S = state(doc);
    S->used = 1;
    if (!S->valid) compute(doc);
    return &S->v;
}

const cm_token *cm_signals_tokens(cm_doc *doc, size_t *n)
{
    cm_signals *S = state(doc);
    S->used = 1;
    if (!S->valid) compute(doc);
    *n = S->n_tok;
    return S->tok;
}

const cm_line *cm_signals_lines(cm_doc *doc, size_t *n)
{
    cm_signals *S = state(doc);
    S->used = 1;
    if (!S->valid) compute(doc);
    *n = S->n_line;
    return S->line;
}

static int is_repetition_signal(const char *name)
{
    return !strncmp(name, "top_", 4) || (!strncmp(name, "dup_", 4) && strstr(name, "gram")) ||
           !strcmp(name, "unique_words_frac") || !strcmp(name, "unigram_entropy");
}

/* Integers as they are; other values rounded to 4 decimals (without
 * printf: ~50 values per record). */
static void append_number(cm_buf *out, double x)
{
    if (!(fabs(x) < 1e15)) { cm_buf_appendf(out, "%g", x); return; }
    if (x < 0) { cm_buf_append_char(out, '-'); x = -x; }
    uint64_t scaled = (uint64_t)(x * 10000 + 0.5);
    cm_buf_append_u64(out, scaled / 10000);
    uint64_t frac = scaled % 10000;
    if (!frac) return;
    char d[6] = {'.', (char)('0' + frac / 1000), (char)('0' + frac / 100 % 10), (char)('0' + frac / 10 % 10),
                 (char)('0' + frac % 10), 0};
    int n = 5;
    while (d[n - 1] == '0') n--;
    cm_buf_append(out, d, (size_t)n);
}

void cm_signals_json(cm_doc *doc, cm_buf *out)
{
    int store = doc->signal_opts ? doc->signal_opts->store : CM_STORE_AUTO;
    /* auto: the values the steps judged the document on (a step that then
     * rewrote the text, such as pii, does not cause a recount); always:
     * everything, for the final text */
    const cm_signal_values *v = store == CM_STORE_ALWAYS ? cm_signals_get(doc) : NULL;
    if (!v && doc->signals && doc->signals->judged) v = &doc->signals->v;
    if (!v) v = cm_signals_basic(doc);
    int with_repetition = store == CM_STORE_ALWAYS || (doc->signals && doc->signals->judged_repetition);
    cm_signals *S = doc->signals;
    cm_buf_append_str(out, "\"signals\":{");
    int first = 1;
    for (int i = 0; cm_signal_defs[i].name; i++) {
        if (!with_repetition && is_repetition_signal(cm_signal_defs[i].name)) continue;
        if (!first) cm_buf_append_char(out, ',');
        first = 0;
        cm_buf_append_char(out, '"');
        cm_buf_append_str(out, cm_signal_defs[i].name);
        cm_buf_append(out, "\":", 2);
        append_number(out, cm_signal_value(v, (int)i));
    }
    for (size_t i = 0; i < S->n_extras; i++) {
        cm_buf_append(out, ",\"", 2);
        cm_buf_append_str(out, S->extras[i].name);
        cm_buf_append(out, "\":", 2);
        append_number(out, S->extras[i].value);
    }
    cm_buf_append_char(out, '}');
}

/* ---- word sets ---- */

struct cm_wordset {
    htab set;
    int max_cjk_run;   /* longest entry in CJK characters, for runs of single-character tokens */
    uint8_t first[8192]; /* bitmap of the BMP: first characters of entries of several CJK characters */
};

cm_wordset *cm_wordset_create(char *const *words, size_t n)
{
    cm_wordset *w = cm_calloc(1, sizeof *w);
    htab_reset(&w->set, n + 1);
    for (size_t i = 0; i < n; i++) {
        char low[256];
        size_t l = strlen(words[i]);
        if (l == 0 || l >= sizeof low) continue;
        int cjk_chars = 0;
        for (size_t j = 0; j < l; j++) {
            char c = words[i][j];
            low[j] = (char)((c >= 'A' && c <= 'Z') ? c + 32 : c);
            if ((unsigned char)c >= 0xE0) cjk_chars++;
        }
        htab_add(&w->set, cm_hash_bytes(low, l));
        if (cjk_chars > w->max_cjk_run) w->max_cjk_run = cjk_chars;
        if (cjk_chars > 1) {
            size_t k = cm_utf8_seq_len((const unsigned char *)low, l);
            uint32_t c = k ? cm_utf8_decode((const unsigned char *)low, k) : 0;
            if (c < 0x10000) w->first[c >> 3] |= (uint8_t)(1u << (c & 7));
        }
    }
    return w;
}

void cm_wordset_free(cm_wordset *w)
{
    if (!w) return;
    free(w->set.keys);
    free(w->set.vals);
    free(w);
}

size_t cm_wordset_count(const cm_wordset *w, cm_doc *doc)
{
    size_t n, count = 0;
    const cm_token *t = cm_signals_tokens(doc, &n);
    const char *text = doc->text.data;
    for (size_t i = 0; i < n; i++) {
        if (!t[i].is_word) continue;
        if (htab_has(&w->set, token_key(text, &t[i]))) { count++; continue; }
        /* entries of several CJK characters over adjacent one-character tokens */
        if (t[i].is_cjk && t[i].chars == 1 && w->max_cjk_run > 1) {
            const unsigned char *p = (const unsigned char *)text + t[i].start;
            uint32_t c = cm_utf8_decode(p, t[i].len);
            if (c >= 0x10000 || !(w->first[c >> 3] & (1u << (c & 7)))) continue;
            size_t end = i + 1;
            while (end < n && end - i < (size_t)w->max_cjk_run && t[end].is_cjk && t[end].chars == 1 &&
                   t[end].start == t[end - 1].start + t[end - 1].len)
                end++;
            for (size_t e = end; e > i + 1; e--) {
                size_t bytes = t[e - 1].start + t[e - 1].len - t[i].start;
                if (htab_has(&w->set, hash_bytes(text + t[i].start, bytes))) { count++; i = e - 1; break; }
            }
        }
    }
    return count;
}

double cm_signal_value(const cm_signal_values *v, int index)
{
    double x;
    memcpy(&x, (const char *)v + cm_signal_defs[index].offset, sizeof x);
    return x;
}
