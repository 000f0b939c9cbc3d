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

void cm_dedup_simplify(const char *text, size_t len, int fold, cm_buf *out, cm_simplify_cache *cache)
{
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
            i++;
            if (a >= 'A' && a <= 'Z') a = (unsigned char)(a + 32);
            else if (fold && a >= '0' && a <= '9') a = '0';
            if ((a >= 'a' && a <= 'z') || (a >= '0' && a <= '9')) {
                if (space && ol) o[ol++] = ' ';
                space = 0;
                o[ol++] = (char)a;
            } else if (a == ' ' || a == '\t' || a == '\n' || a == '\r') {
                space = 1;
            }
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
