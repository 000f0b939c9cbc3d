/* simplify.c -- dedup's text simplification and exact hash (see simplify.h). */
#include "simplify.h"

#include <string.h>

#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <xxhash.h>

enum { CLS_UNKNOWN, CLS_DROP, CLS_SPACE, CLS_WRITTEN };

/* What simplification does with a non-ASCII code point (decomposed or not):
 * drops it (marks, punctuation, symbols), counts it as white space, or
 * writes it. */
static uint8_t class_of(uint32_t c)
{
    if (u_isUWhiteSpace((UChar32)c)) return CLS_SPACE;
    int8_t t = u_charType((UChar32)c);
    if (t == U_NON_SPACING_MARK || t == U_ENCLOSING_MARK || t == U_COMBINING_SPACING_MARK) return CLS_DROP; /* accents */
    if (u_ispunct((UChar32)c) || t == U_MATH_SYMBOL || t == U_CURRENCY_SYMBOL || t == U_MODIFIER_SYMBOL ||
        t == U_OTHER_SYMBOL)
        return CLS_DROP;
    return CLS_WRITTEN;
}

/* Appends the simplified form of one code point (may be nothing); cls is
 * class_of(c) when already known (non-ASCII), CLS_UNKNOWN otherwise. */
static void simplify_cp(uint32_t c, uint8_t cls, int fold, cm_buf *out, int *space)
{
    char tmp[4];
    if (c < 0x80) {
        if (c >= 'A' && c <= 'Z') c += 32;
        if (fold && c >= '0' && c <= '9') c = '0';
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            if (*space && out->len) cm_buf_append_char(out, ' ');
            *space = 0;
            cm_buf_append_char(out, (char)c);
        } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            *space = 1;
        }
        return;
    }
    if (cls == CLS_UNKNOWN) cls = class_of(c);
    if (cls == CLS_SPACE) { *space = 1; return; }
    if (cls == CLS_DROP) return;
    if (fold && u_isdigit((UChar32)c)) c = '0';
    else c = (uint32_t)u_tolower((UChar32)c);
    if (*space && out->len) cm_buf_append_char(out, ' ');
    *space = 0;
    cm_buf_append(out, tmp, cm_utf8_encode(c, tmp));
}

/* ASCII: 2 written (letters, digits), 1 white space, 0 dropped; and what
 * a written byte becomes (lowercase; with fold, every digit '0'). */
static const uint8_t ASCII_CLASS[128] = {
    ['\t'] = 1, ['\n'] = 1, ['\r'] = 1, [' '] = 1,
    ['0'] = 2, ['1'] = 2, ['2'] = 2, ['3'] = 2, ['4'] = 2, ['5'] = 2, ['6'] = 2, ['7'] = 2, ['8'] = 2, ['9'] = 2,
    ['A'] = 2, ['B'] = 2, ['C'] = 2, ['D'] = 2, ['E'] = 2, ['F'] = 2, ['G'] = 2, ['H'] = 2, ['I'] = 2, ['J'] = 2,
    ['K'] = 2, ['L'] = 2, ['M'] = 2, ['N'] = 2, ['O'] = 2, ['P'] = 2, ['Q'] = 2, ['R'] = 2, ['S'] = 2, ['T'] = 2,
    ['U'] = 2, ['V'] = 2, ['W'] = 2, ['X'] = 2, ['Y'] = 2, ['Z'] = 2,
    ['a'] = 2, ['b'] = 2, ['c'] = 2, ['d'] = 2, ['e'] = 2, ['f'] = 2, ['g'] = 2, ['h'] = 2, ['i'] = 2, ['j'] = 2,
    ['k'] = 2, ['l'] = 2, ['m'] = 2, ['n'] = 2, ['o'] = 2, ['p'] = 2, ['q'] = 2, ['r'] = 2, ['s'] = 2, ['t'] = 2,
    ['u'] = 2, ['v'] = 2, ['w'] = 2, ['x'] = 2, ['y'] = 2, ['z'] = 2,
};

static void make_lower(uint8_t *t, int fold)
{
    for (int c = 0; c < 128; c++)
        t[c] = (uint8_t)(c >= 'A' && c <= 'Z' ? c + 32 : fold && c >= '0' && c <= '9' ? '0' : c);
}

void cm_dedup_simplify(const char *text, size_t len, int fold, cm_buf *out, cm_simplify_cache *cache)
{
    uint8_t lower[128];
    make_lower(lower, fold);
    cm_buf_clear(out);
    const unsigned char *s = (const unsigned char *)text;
    UErrorCode st = U_ZERO_ERROR;
    const UNormalizer2 *nfd = unorm2_getNFDInstance(&st);
    int space = 0;
    /* ASCII and Han are written in place, at most twice the input (a space
     * and a character per byte); whatever a decomposition adds beyond that
     * (a Hangul syllable is 3 bytes in, 9 out) is reserved again after it.
     * The output's end is a local: stores through out->data could alias it. */
    cm_buf_reserve(out, 2 * len + 16);
    char *o = out->data;
    size_t ol = 0;
    for (size_t i = 0; i < len;) {
        unsigned char a = s[i];
        if (a < 0x80) {
            /* a run of ASCII without a branch on the bytes (English text
             * alternates letters, spaces and punctuation, which no predictor
             * guesses): both stores always happen, the length moves by what
             * is kept (the buffer has room for two bytes per input byte) */
            do {
                unsigned cls = ASCII_CLASS[a], w = cls >> 1;
                o[ol] = ' ';
                ol += w & (unsigned)space & (ol != 0);
                o[ol] = (char)lower[a];
                ol += w;
                space = (space | (int)(cls & 1)) & (int)(w ^ 1);
            } while (++i < len && (a = s[i]) < 0x80);
            continue;
        }
        if (cm_utf8_ideograph_at(s, len, i)) {
            /* a run of CJK ideographs: letters without case or accents, kept
             * as they are, copied at once */
            size_t j = i + 3;
            while (j < len && cm_utf8_ideograph_at(s, len, j)) j += 3;
            if (space && ol) o[ol++] = ' ';
            space = 0;
            memcpy(o + ol, s + i, j - i);
            ol += j - i;
            i = j;
            continue;
        }
        size_t k;
        uint32_t c = cm_utf8_decode_at(s, len, i, &k);
        if (c == 0xFFFD && k == 1) { i++; continue; } /* invalid: dropped */
        if ((c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF)) {
            /* CJK ideographs: letters without case or accents, kept as they are */
            if (space && ol) o[ol++] = ' ';
            space = 0;
            memcpy(o + ol, s + i, 3); /* always 3 bytes in these blocks; a fixed size, not a call */
            ol += 3;
            i += 3;
            continue;
        }
        i += k;
        /* a code point seen before without a decomposition: its class is
         * cached, and ICU is not asked again */
        uint8_t known = cache && c < 0x10000 ? cache->cls[c] : CLS_UNKNOWN;
        if (known == CLS_DROP) continue;
        if (known == CLS_SPACE) { space = 1; continue; }
        out->len = ol;
        UChar d[8];
        int32_t n = known == CLS_UNKNOWN && U_SUCCESS(st) && c >= 0xC0
                        ? unorm2_getDecomposition(nfd, (UChar32)c, d, 8, &st)
                        : -1;
        if (n <= 0 || U_FAILURE(st)) {
            if (known == CLS_UNKNOWN) {
                known = class_of(c);
                /* no decomposition: the class depends on c alone, unless ICU
                 * failed (then nothing is remembered) */
                if (cache && c < 0x10000 && U_SUCCESS(st)) cache->cls[c] = known;
            }
            st = U_ZERO_ERROR;
            simplify_cp(c, known, fold, out, &space);
        } else {
            /* a decomposed letter: its parts, marks dropped */
            for (int32_t j = 0; j < n;) {
                UChar32 part;
                U16_NEXT(d, j, n, part);
                simplify_cp((uint32_t)part, CLS_UNKNOWN, fold, out, &space);
            }
        }
        cm_buf_reserve(out, 2 * (len - i) + 16);
        o = out->data;
        ol = out->len;
    }
    out->len = ol;
    o[ol] = 0;
}

cm_hash128 cm_text_hash(const char *text, size_t len)
{
    XXH128_hash_t h = XXH3_128bits(text, len);
    cm_hash128 r = {h.high64, h.low64};
    return r;
}

cm_hash128 cm_simplified_hash(const char *text, size_t len, int fold_digits, cm_buf *scratch, cm_simplify_cache *cache)
{
    cm_dedup_simplify(text, len, fold_digits, scratch, cache);
    XXH128_hash_t h = XXH3_128bits(scratch->data, scratch->len);
    cm_hash128 r = {h.high64, h.low64};
    return r;
}
