/* tokens.c -- the tokenizer (see tokens.h): UAX #29's counting rules in one
 * pass over the bytes (fast), or ICU's word break iterator (icu). */
#include "tokens.h"

#include <stdlib.h>
#include <string.h>
#include <unicode/ustring.h>

void cm_tokenizer_init(cm_tokenizer *tz) { memset(tz, 0, sizeof *tz); }

void cm_tokenizer_free(cm_tokenizer *tz)
{
    free(tz->tok);
    free(tz->u16);
    free(tz->u16_to_u8);
    if (tz->bi) ubrk_close(tz->bi);
    memset(tz, 0, sizeof *tz);
}

uint64_t cm_hash_bytes(const void *p, size_t n) { return cm_hash_bytes_inline(p, n); }

void cm_tokenizer_reserve(cm_tokenizer *tz, size_t more)
{
    if (tz->cap - tz->n >= more) return;
    size_t cap = tz->cap ? tz->cap : 1024;
    while (cap - tz->n < more) cap *= 2;
    tz->tok = cm_realloc(tz->tok, cap * sizeof *tz->tok);
    tz->cap = cap;
}

static void push_token(cm_tokenizer *S, const unsigned char *s, size_t start, size_t end, uint32_t chars, int is_word,
                       int has_alpha, int is_cjk)
{
    if (S->n == S->cap) cm_tokenizer_reserve(S, 1);
    cm_token *t = &S->tok[S->n++];
    t->start = (uint32_t)start;
    t->len = (uint32_t)(end - start);
    t->chars = chars;
    t->is_word = (uint8_t)is_word;
    t->has_alpha = (uint8_t)has_alpha;
    t->is_cjk = (uint8_t)is_cjk;
    size_t n = end - start;
    if (n <= 8) {
        uint64_t x = cm_load_small(s + start, n);
        t->key = t->hash = cm_hash_small(x, n);
        if (!is_cjk) {
            /* ASCII A-Z to a-z in all eight bytes at once: a byte's bit 7
             * ends set when it is >= 'A', > 'Z' or not ASCII */
            uint64_t low7 = x & 0x7F7F7F7F7F7F7F7FULL;
            uint64_t upper = (low7 + 0x3F3F3F3F3F3F3F3FULL) & ~(low7 + 0x2525252525252525ULL) & ~x & 0x8080808080808080ULL;
            if (upper) t->key = cm_hash_small(x | upper >> 2, n);
        }
        return;
    }
    t->hash = cm_hash_bytes_inline(s + start, n);
    t->key = t->hash;
    if (!is_cjk && end - start <= 64) {
        size_t j = start;
        while (j < end && !(s[j] >= 'A' && s[j] <= 'Z')) j++;
        if (j < end) {
            char low[64];
            for (j = start; j < end; j++) low[j - start] = (char)((s[j] >= 'A' && s[j] <= 'Z') ? s[j] + 32 : s[j]);
            t->key = cm_hash_bytes_inline(low, end - start);
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

/* A word starting at st (a word character, neither Han nor kana/hangul):
 * word characters, and joiners between them; returns where it ends. */
static size_t word_token(cm_tokenizer *S, const unsigned char *s, size_t len, size_t st)
{
    size_t i = st, k;
    uint32_t n = 0;
    int alpha = 0;
    while (i < len) {
#ifdef __SSE2__
        if (len - i >= 16) {
            /* a run of ASCII word characters, 16 bytes at a time */
            __m128i v = _mm_loadu_si128((const __m128i *)(s + i));
            __m128i letter = _mm_or_si128(cm_bytes_in_range(v, 'a', 'z'), cm_bytes_in_range(v, 'A', 'Z'));
            __m128i word = _mm_or_si128(_mm_or_si128(letter, cm_bytes_in_range(v, '0', '9')),
                                        _mm_cmpeq_epi8(v, _mm_set1_epi8('_')));
            unsigned run = (unsigned)__builtin_ctz(~(unsigned)_mm_movemask_epi8(word)); /* at most 16 */
            alpha |= ((unsigned)_mm_movemask_epi8(letter) & ((1u << run) - 1)) != 0;
            i += run;
            n += run;
            if (run == 16) continue;
        }
#endif
        unsigned char b = s[i];
        if (ASCII_WORD[b]) { /* the common case, without decoding */
            if (ASCII_WORD[b] == 2) alpha = 1;
            i++;
            n++;
            continue;
        }
        uint32_t d = cm_utf8_decode_at(s, len, i, &k);
        if (cm_is_wordch(d) && !cm_is_han(d) && !cm_is_kana_hangul(d)) {
            if (cm_is_alpha(d)) alpha = 1;
            i += k;
            n++;
            continue;
        }
        if (cm_is_joiner(d) && i + k < len) {
            size_t k2;
            uint32_t e = cm_utf8_decode_at(s, len, i + k, &k2);
            /* a comma only joins digits (3,000), a hyphen only letters; the others any word characters */
            int ok = cm_is_wordch(e) && !cm_is_han(e) && !cm_is_kana_hangul(e) &&
                     (d != ',' || ((s[i - 1] >= '0' && s[i - 1] <= '9') && e >= '0' && e <= '9')) &&
                     (d != '-' || (cm_is_alpha(e) && cm_is_alpha(s[i - 1])));
            if (ok) { i += k; n++; continue; }
        }
        break;
    }
    push_token(S, s, st, i, n, 1, alpha, 0);
    return i;
}

/* Fast tokenizer (see signals.h). An ASCII word character starts a word
 * without decoding or the class tests below. */
static void tokenize_fast(cm_tokenizer *S, const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned char b = s[i];
        if (b == ' ' || b == '\n') { i++; continue; }
        if (ASCII_WORD[b]) { i = word_token(S, s, len, i); continue; }
        size_t k;
        uint32_t c = cm_utf8_decode_at(s, len, i, &k);
        if (cm_is_han(c)) { /* before the space test: no ideograph is a space, and that test asks ICU */
            push_token(S, s, i, i + k, 1, 1, 1, 1);
            i += k;
            continue;
        }
        if (cm_is_space(c)) { i += k; continue; }
        if (cm_is_kana_hangul(c)) {
            size_t st = i;
            uint32_t n = 0;
            while (i < len) {
                uint32_t d = cm_utf8_decode_at(s, len, i, &k);
                if (!cm_is_kana_hangul(d)) break;
                i += k;
                n++;
            }
            push_token(S, s, st, i, n, 1, 1, 1);
            continue;
        }
        if (cm_is_wordch(c)) { i = word_token(S, s, len, i); continue; }
        /* punctuation and symbols: a run of the same character is one token */
        size_t st = i;
        uint32_t n = 0;
        while (i < len) {
            size_t k2;
            uint32_t d = cm_utf8_decode_at(s, len, i, &k2);
            if (d != c) break;
            i += k2;
            n++;
        }
        push_token(S, s, st, i, n, 0, 0, 0);
    }
}

/* ICU tokenizer: UAX #29 word boundaries, dictionary segmentation for CJK. */
static void tokenize_icu(cm_tokenizer *S, const unsigned char *s, size_t len)
{
    if (len + 1 > S->cap_u16) {
        S->cap_u16 = len + 1;
        S->u16 = cm_realloc(S->u16, S->cap_u16 * sizeof *S->u16);
        S->u16_to_u8 = cm_realloc(S->u16_to_u8, (S->cap_u16 + 1) * sizeof *S->u16_to_u8);
    }
    int32_t n16 = 0;
    for (size_t i = 0; i < len;) {
        size_t k;
        uint32_t c = cm_utf8_decode_at(s, len, i, &k);
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
    if (U_FAILURE(st)) { tokenize_fast(S, s, len); return; }
    int32_t a = ubrk_first(S->bi);
    for (int32_t b = ubrk_next(S->bi); b != UBRK_DONE; a = b, b = ubrk_next(S->bi)) {
        int status = ubrk_getRuleStatus(S->bi);
        size_t ba = (size_t)S->u16_to_u8[a], bb = (size_t)S->u16_to_u8[b];
        uint32_t chars = 0;
        int alpha = 0, cjk = 0, space = 1;
        for (size_t i = ba; i < bb;) {
            size_t k;
            uint32_t c = cm_utf8_decode_at(s, len, i, &k);
            chars++;
            if (!cm_is_space(c)) space = 0;
            if (cm_is_han(c) || cm_is_kana_hangul(c)) cjk = 1;
            if (cm_is_alpha(c) || cm_is_han(c)) alpha = 1;
            i += k;
        }
        if (space) continue;
        push_token(S, s, ba, bb, chars, status != UBRK_WORD_NONE, alpha, cjk);
    }
}

void cm_tokenize_span(cm_tokenizer *tz, const char *text, size_t start, size_t end)
{
    size_t first = tz->n;
    tokenize_fast(tz, (const unsigned char *)text + start, end - start);
    for (size_t i = first; i < tz->n; i++) tz->tok[i].start += (uint32_t)start;
}

void cm_tokenize(cm_tokenizer *tz, int word_units, const char *text, size_t len)
{
    tz->n = 0;
    if (word_units == CM_WORDS_ICU) tokenize_icu(tz, (const unsigned char *)text, len);
    else tokenize_fast(tz, (const unsigned char *)text, len);
}
