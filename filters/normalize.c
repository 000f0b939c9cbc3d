/* normalize.c -- the first step of `clean`: Unicode normalization (ICU) and
 * whitespace / control-character cleanup.
 *
 * Policy, in order:
 *  1. Unicode normalization, NFKC by default (nfc | nfkc | none). NFKC folds
 *     full-width letters and digits, ligatures and compatibility forms, which
 *     is what pretraining wants. It also folds the full-width punctuation
 *     that Chinese is written with (，！？：；（） to ASCII, … to "..."),
 *     which changes training text and defeats punctuation rules written for
 *     Chinese. So by default those characters are excluded from
 *     normalization (ICU's filtered normalizer): Chinese keeps its
 *     punctuation. `keep_cjk_punctuation: false` gives plain NFKC;
 *     `cjk_punctuation` lists the protected characters.
 *  2. Cleanup: control characters other than \n and \t removed (C0, DEL, C1);
 *     \r\n, \r, NEL, U+2028 and U+2029 become \n; BOM (U+FEFF), zero-width
 *     space (U+200B) and word joiner (U+2060) removed (ZWJ / ZWNJ stay: emoji
 *     and Persian need them); a run of spaces (or of spaces and tabs) inside a
 *     line becomes one space, a run of tabs alone stays (tab-separated
 *     columns); leading indentation stays (Markdown and code need it); trailing spaces
 *     and tabs of every line removed; more than one blank line in a row
 *     becomes one; blank lines at the start and end removed.
 *  3. A document left empty is dropped as normalize:empty.
 *
 * Traditional to Simplified Chinese conversion is deliberately not done. */
#include "filter.h"

#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <unicode/unorm2.h>
#include <unicode/uset.h>
#include <unicode/ustring.h>

static const char DEFAULTS[] =
    "normalize:\n"
    "  form: nfkc                  # nfkc | nfc | none (NFKC: as FineWeb, RedPajama and CCNet)\n"
    "  keep_cjk_punctuation: true  # exclude the characters below from normalization\n"
    "  cjk_punctuation: \"，！？：；（）…～\"\n"
    "  collapse_spaces: true       # runs of spaces inside a line become one\n"
    "  collapse_blank_lines: true  # at most one blank line in a row\n"
    "  drop_empty: true            # drop documents left empty (normalize:empty)\n";

enum { FORM_NFKC, FORM_NFC, FORM_NONE };

typedef struct normalize {
    int form;
    int collapse_spaces;
    int collapse_blank_lines;
    int drop_empty;
    const UNormalizer2 *base;   /* owned by ICU */
    UNormalizer2 *filtered;     /* owned; NULL when nothing is protected */
    USet *protect;              /* set given to the filtered normalizer */
    unsigned char plain[256];   /* bytes the cleanup copies as they are */
    cm_buf ws;                  /* the pending run of spaces and tabs */
    uint8_t *stable;            /* bitmap over the BMP: characters already normalized in any context */
    UChar *u16, *u16_out;       /* scratch, grown as needed */
    int32_t u16_cap, u16_out_cap;
} normalize;

static void destroy(void *self)
{
    normalize *n = self;
    if (!n) return;
    if (n->filtered) unorm2_close(n->filtered);
    if (n->protect) uset_close(n->protect);
    free(n->stable);
    cm_buf_free(&n->ws);
    free(n->u16);
    free(n->u16_out);
    free(n);
}

/* Bytes the cleanup copies without a second look: everything except
 * controls, space, DEL, and the lead bytes of the few multi-byte characters
 * it changes (C2: C1 controls and NEL; E2: U+200B, U+2028, U+2029, U+2060;
 * EF: U+FEFF). Text is valid UTF-8 here, so continuation bytes of other
 * characters are plain too. */
static int is_plain_byte(unsigned c)
{
    return (c >= 0x21 && c <= 0x7E) || (c >= 0x80 && c != 0xC2 && c != 0xE2 && c != 0xEF);
}

/* Marks the BMP characters whose quick check is YES and whose combining
 * class is 0: text made only of them is normalized already (UAX #15 quick
 * check), so it can skip ICU. That is nearly all Chinese and English text. */
static void build_stable(normalize *n)
{
    const UNormalizer2 *norm = n->filtered ? n->filtered : n->base;
    n->stable = cm_calloc(65536 / 8, 1);
    for (UChar32 cp = 0; cp < 0x10000; cp++) {
        if (cp >= 0xD800 && cp <= 0xDFFF) continue;
        UChar u = (UChar)cp;
        UErrorCode st = U_ZERO_ERROR;
        if (u_getCombiningClass(cp) == 0 && unorm2_quickCheck(norm, &u, 1, &st) == UNORM_YES && U_SUCCESS(st))
            n->stable[cp >> 3] |= (uint8_t)(1u << (cp & 7));
    }
}

/* Whether the BMP character at s[i] (lead byte c >= 0x80, enough bytes
 * left: the text is valid UTF-8) is stable; *k gets its length. A character
 * outside the BMP is not: ICU decides. */
static int stable_at(const normalize *n, const unsigned char *s, size_t len, size_t i, size_t *k)
{
    unsigned char c = s[i];
    uint32_t cp;
    if (c < 0xE0) {
        *k = 2;
        if (i + 1 >= len) return 0;
        cp = ((uint32_t)(c & 0x1F) << 6) | (s[i + 1] & 0x3F);
    } else if (c < 0xF0) {
        *k = 3;
        if (i + 2 >= len) return 0;
        /* U+4000..U+9FFF (CJK ideographs, Extension A, Yijing symbols): all stable */
        if (c >= 0xE4 && c <= 0xE9) return 1;
        cp = ((uint32_t)(c & 0x0F) << 12) | ((uint32_t)(s[i + 1] & 0x3F) << 6) | (s[i + 2] & 0x3F);
    } else {
        *k = c < 0xF8 ? 4 : 1;
        return 0;
    }
    return (n->stable[cp >> 3] >> (cp & 7)) & 1;
}

/* The start of the first character at or after i that is not stable (len
 * when there is none); *last_stable gets the start of the stable character
 * just before it, or stays as it was when there is none after i. */
static size_t first_unstable(const normalize *n, const unsigned char *s, size_t len, size_t i, size_t *last_stable)
{
#ifdef __SSE2__
    /* 16 bytes at a time from a character's start: ASCII, continuation
     * bytes and the lead bytes E4-E9 (U+4000..U+9FFF) are stable characters
     * or parts of them; only the characters of the other lead bytes are
     * looked up. The block's last character may end past it. */
    while (i + 16 <= len) {
        __m128i v = _mm_loadu_si128((const __m128i *)(s + i));
        __m128i cont = _mm_cmplt_epi8(v, _mm_set1_epi8((char)0xC0)); /* signed: 0x80..0xBF */
        __m128i ok = _mm_or_si128(_mm_or_si128(cont, _mm_cmpgt_epi8(v, _mm_set1_epi8(-1))),
                                  cm_bytes_in_range(v, (char)0xE4, (char)0xE9));
        unsigned lead = ~(unsigned)_mm_movemask_epi8(cont) & 0xFFFF; /* bit 0 set: i starts a character */
        unsigned other = ~(unsigned)_mm_movemask_epi8(ok) & 0xFFFF;
        for (; other; other &= other - 1) {
            size_t at = i + (size_t)__builtin_ctz(other), k;
            if (!stable_at(n, s, len, at, &k)) {
                unsigned before = lead & ((1u << (at - i)) - 1);
                if (before) *last_stable = i + 31 - (size_t)__builtin_clz(before);
                return at;
            }
        }
        /* no lead byte: not UTF-8, which the reader repairs before any step */
        if (lead) *last_stable = i + 31 - (size_t)__builtin_clz(lead);
        i += 16;
        while (i < len && (s[i] & 0xC0) == 0x80) i++;
    }
#endif
    while (i < len) {
        if (s[i] < 0x80) { *last_stable = i++; continue; }
        size_t k;
        if (!stable_at(n, s, len, i, &k)) return i;
        *last_stable = i;
        i += k;
    }
    return len;
}

/* The start of the first stable character at or after i (len when none). */
static size_t next_stable(const normalize *n, const unsigned char *s, size_t len, size_t i)
{
    while (i < len) {
        if (s[i] < 0x80) return i;
        size_t k;
        if (stable_at(n, s, len, i, &k)) return i;
        i += k;
    }
    return len;
}

static void *create(const cm_conf *opt, cm_err *err)
{
    static const char *const known[] = {"form", "keep_cjk_punctuation", "cjk_punctuation", "collapse_spaces",
                                        "collapse_blank_lines", "drop_empty", NULL};
    static const char *const forms[] = {"nfkc", "nfc", "none", NULL};
    if (cm_conf_check_keys(opt, "filter normalize", known, err)) return NULL;
    normalize *n = cm_calloc(1, sizeof *n);
    n->form = FORM_NFKC;
    n->collapse_spaces = 1;
    n->collapse_blank_lines = 1;
    n->drop_empty = 1;
    int keep_punct = 1;
    char *punct = cm_strdup("，！？：；（）…～");
    if (cm_conf_enum(opt, "form", forms, &n->form, err) || cm_conf_bool(opt, "keep_cjk_punctuation", &keep_punct, err) ||
        cm_conf_string(opt, "cjk_punctuation", &punct, err) || cm_conf_bool(opt, "collapse_spaces", &n->collapse_spaces, err) ||
        cm_conf_bool(opt, "collapse_blank_lines", &n->collapse_blank_lines, err) ||
        cm_conf_bool(opt, "drop_empty", &n->drop_empty, err))
        goto fail;
    if (n->form != FORM_NONE) {
        UErrorCode st = U_ZERO_ERROR;
        n->base = n->form == FORM_NFKC ? unorm2_getNFKCInstance(&st) : unorm2_getNFCInstance(&st);
        if (U_FAILURE(st)) { cm_errorf(err, "ICU: cannot load the normalizer: %s", u_errorName(st)); goto fail; }
        if (keep_punct && punct[0]) {
            n->protect = uset_open(0, 0x10FFFF);
            const unsigned char *p = (const unsigned char *)punct;
            size_t len = strlen(punct);
            for (size_t i = 0; i < len;) {
                size_t k = cm_utf8_seq_len(p + i, len - i);
                if (!k) { cm_errorf(err, "filter normalize: cjk_punctuation is not valid UTF-8"); goto fail; }
                uset_remove(n->protect, (UChar32)cm_utf8_decode(p + i, k));
                i += k;
            }
            uset_freeze(n->protect);
            n->filtered = unorm2_openFiltered(n->base, n->protect, &st);
            if (U_FAILURE(st)) { cm_errorf(err, "ICU: cannot build the filtered normalizer: %s", u_errorName(st)); goto fail; }
        }
    }
    for (unsigned c = 0; c < 256; c++) n->plain[c] = (unsigned char)is_plain_byte(c);
    if (n->form != FORM_NONE) build_stable(n);
    free(punct);
    return n;
fail:
    free(punct);
    destroy(n);
    return NULL;
}

static void grow_u16(UChar **p, int32_t *cap, int32_t need)
{
    if (need <= *cap) return;
    int32_t c = *cap ? *cap : 1024;
    while (c < need) c *= 2;
    *p = cm_realloc(*p, (size_t)c * sizeof(UChar));
    *cap = c;
}

/* Appends the normalization of s[0, len) to out; -1 when ICU failed. */
static int normalize_span(normalize *n, const char *s, size_t len, cm_buf *out)
{
    const UNormalizer2 *norm = n->filtered ? n->filtered : n->base;
    UErrorCode st = U_ZERO_ERROR;
    int32_t len16 = 0;
    grow_u16(&n->u16, &n->u16_cap, (int32_t)len + 1);
    u_strFromUTF8(n->u16, n->u16_cap, &len16, s, (int32_t)len, &st);
    if (U_FAILURE(st)) return -1;
    int32_t out_len;
    for (;;) {
        st = U_ZERO_ERROR;
        grow_u16(&n->u16_out, &n->u16_out_cap, len16 + 16);
        out_len = unorm2_normalize(norm, n->u16, len16, n->u16_out, n->u16_out_cap, &st);
        if (st == U_BUFFER_OVERFLOW_ERROR) {
            grow_u16(&n->u16_out, &n->u16_out_cap, out_len + 16);
            continue;
        }
        if (U_FAILURE(st)) return -1;
        break;
    }
    cm_buf_reserve(out, (size_t)out_len * 3 + 4);
    int32_t len8 = 0;
    st = U_ZERO_ERROR;
    u_strToUTF8(out->data + out->len, (int32_t)(out->cap - out->len - 1), &len8, n->u16_out, out_len, &st);
    if (U_FAILURE(st)) return -1;
    out->len += (size_t)len8;
    return 0;
}

/* Unicode normalization of doc->text; returns 0, or -1 when ICU failed
 * (the text is then left as it was). A stable character is a normalization
 * boundary (nothing before it changes it or what follows it), so only the
 * spans from the stable character before a run of unstable ones to the
 * next stable character go through ICU, each on its own, as ICU splits
 * text itself; the rest is copied. Nearly all Chinese and English text has
 * no such span at all. */
static int unicode_normalize(normalize *n, cm_doc *doc)
{
    if (n->form == FORM_NONE) return 0;
    const unsigned char *s = (const unsigned char *)doc->text.data;
    size_t len = doc->text.len;
    size_t span_start = 0;
    size_t at = first_unstable(n, s, len, 0, &span_start);
    if (at == len) return 0; /* already normalized: the common case */
    if (len > INT32_MAX / 2) return -1;
    cm_buf *out = &doc->scratch;
    cm_buf_clear(out);
    cm_buf_reserve(out, len + len / 4);
    size_t copied = 0;
    while (at < len) {
        size_t span_end = next_stable(n, s, len, at);
        size_t next_start = span_end, next_at = first_unstable(n, s, len, span_end, &next_start);
        /* spans a few stable characters apart go to ICU as one: a call per
         * span costs more than those characters */
        while (next_at < len && next_at - span_end < 64) {
            span_end = next_stable(n, s, len, next_at);
            next_start = span_end;
            next_at = first_unstable(n, s, len, span_end, &next_start);
        }
        cm_buf_append(out, s + copied, span_start - copied);
        if (normalize_span(n, (const char *)s + span_start, span_end - span_start, out)) return -1;
        copied = span_end;
        span_start = next_start;
        at = next_at;
    }
    cm_buf_append(out, s + copied, len - copied);
    out->data[out->len] = 0;
    if (out->len != len || memcmp(out->data, s, len) != 0) cm_doc_swap_text(doc);
    return 0;
}

/* End of the run of plain bytes starting at i (s[i] is plain): plain bytes
 * and the single spaces between words, not ending in a space (a space before
 * a line break is trailing and goes). 16 bytes at a time with SSE2. */
static size_t plain_run(const normalize *n, const unsigned char *s, size_t i, size_t len)
{
    size_t j = i + 1;
#ifdef __SSE2__
    const __m128i bias = _mm_set1_epi8((char)0x80);
    const __m128i lo = _mm_set1_epi8((char)(0x21 ^ 0x80)); /* c < 0x21, as signed after the bias */
    const __m128i del = _mm_set1_epi8(0x7F), c2 = _mm_set1_epi8((char)0xC2);
    const __m128i e2 = _mm_set1_epi8((char)0xE2), ef = _mm_set1_epi8((char)0xEF);
    const __m128i sp = _mm_set1_epi8(' ');
    while (j + 17 <= len) {
        __m128i v = _mm_loadu_si128((const __m128i *)(s + j));
        __m128i next = _mm_loadu_si128((const __m128i *)(s + j + 1));
        __m128i is_sp = _mm_cmpeq_epi8(v, sp);
        __m128i special = _mm_andnot_si128(is_sp, _mm_cmplt_epi8(_mm_xor_si128(v, bias), lo));
        special = _mm_or_si128(special, _mm_cmpeq_epi8(v, del));
        special = _mm_or_si128(special, _mm_cmpeq_epi8(v, c2));
        special = _mm_or_si128(special, _mm_cmpeq_epi8(v, e2));
        special = _mm_or_si128(special, _mm_cmpeq_epi8(v, ef));
        /* a space is special when the next byte is not plain text: check
         * the common case, a space followed by a space */
        special = _mm_or_si128(special, _mm_and_si128(is_sp, _mm_cmpeq_epi8(next, sp)));
        unsigned m = (unsigned)_mm_movemask_epi8(special);
        if (m) {
            /* the bytes before the first special one are plain or single
             * spaces: the loop below resumes there */
            j += (size_t)__builtin_ctz(m);
            break;
        }
        j += 16;
    }
#endif
    while (j < len) {
        if (n->plain[s[j]]) { j++; continue; }
        if (s[j] == ' ' && j + 1 < len && n->plain[s[j + 1]]) { j += 2; continue; }
        break;
    }
    /* the vector loop may have taken a space whose next byte is special */
    while (j > i + 1 && s[j - 1] == ' ') j--;
    return j;
}

/* What the cleanup does with the character at s (a special byte). */
enum { CH_VISIBLE, CH_DROP, CH_NEWLINE, CH_SPACE };

static int classify(const unsigned char *s, size_t avail, size_t *k)
{
    unsigned char c = s[0];
    *k = 1;
    if (c == ' ' || c == '\t') return CH_SPACE;
    if (c == '\n' || c == '\r') return CH_NEWLINE;
    if (c < 0x20 || c == 0x7F) return CH_DROP;
    if (c == 0xC2 && avail >= 2) {
        *k = 2;
        if (s[1] == 0x85) return CH_NEWLINE;            /* NEL */
        return s[1] < 0xA0 ? CH_DROP : CH_VISIBLE;      /* C1 controls */
    }
    if (c == 0xE2 && avail >= 3) {
        *k = 3;
        if (s[1] == 0x80 && (s[2] == 0xA8 || s[2] == 0xA9)) return CH_NEWLINE; /* U+2028, U+2029 */
        if ((s[1] == 0x80 && s[2] == 0x8B) || (s[1] == 0x81 && s[2] == 0xA0)) return CH_DROP; /* ZWSP, WJ */
        return CH_VISIBLE;
    }
    if (c == 0xEF && avail >= 3) {
        *k = 3;
        return (s[1] == 0xBB && s[2] == 0xBF) ? CH_DROP : CH_VISIBLE; /* BOM */
    }
    *k = cm_utf8_seq_len(s, avail);
    if (!*k) *k = 1;
    return CH_VISIBLE;
}

/* One pass over the text: see the policy at the top of the file. Runs of
 * plain bytes are copied with one memcpy. */
static void cleanup(normalize *n, cm_doc *doc)
{
    const unsigned char *s = (const unsigned char *)doc->text.data;
    size_t len = doc->text.len;
    cm_buf *out = &doc->scratch;
    cm_buf_clear(out);
    cm_buf_reserve(out, len);
    char *o = out->data;
    size_t olen = 0;
    size_t pending_nl = 0;           /* line breaks not yet written */
    size_t ws_len = 0;               /* pending run of spaces and tabs, copied to n->ws */
    int ws_has_space = 0;
    int at_line_start = 1;
    size_t i = 0;
    while (i < len) {
        size_t j = n->plain[s[i]] ? plain_run(n, s, i, len) : i;
        size_t k = j - i;
        if (k == 0) {
            int what = classify(s + i, len - i, &k);
            if (what == CH_SPACE) {
                if (ws_len == 0) { cm_buf_clear(&n->ws); ws_has_space = 0; }
                cm_buf_append_char(&n->ws, (char)s[i]);
                ws_len++;
                if (s[i] == ' ') ws_has_space = 1;
                i++;
                continue;
            }
            if (what == CH_NEWLINE) {
                if (s[i] == '\r' && i + 1 < len && s[i + 1] == '\n') k = 2;
                ws_len = 0; /* trailing spaces of the line go */
                pending_nl++;
                at_line_start = 1;
                i += k;
                continue;
            }
            if (what == CH_DROP) { i += k; continue; }
        }
        /* visible text from i to i + k: write what was pending before it */
        if (pending_nl) {
            if (olen > 0) {
                size_t nl = pending_nl;
                if (n->collapse_blank_lines && nl > 2) nl = 2;
                memset(o + olen, '\n', nl);
                olen += nl;
            }
            pending_nl = 0;
        }
        if (ws_len) {
            if (at_line_start) {
                if (olen > 0) { memcpy(o + olen, n->ws.data, ws_len); olen += ws_len; }
            } else if (n->collapse_spaces && ws_has_space) {
                o[olen++] = ' ';
            } else {
                memcpy(o + olen, n->ws.data, ws_len);
                olen += ws_len;
            }
            ws_len = 0;
        }
        at_line_start = 0;
        memcpy(o + olen, s + i, k);
        olen += k;
        i += k;
    }
    /* Output never exceeds input: every pending \n or space written stands
     * for at least one input byte. */
    out->len = olen;
    out->data[olen] = 0;
    if (olen != len || memcmp(o, s, len) != 0) cm_doc_swap_text(doc);
}

static cm_verdict apply(void *self, cm_doc *doc)
{
    normalize *n = self;
    unicode_normalize(n, doc);
    cleanup(n, doc);
    if (n->drop_empty && doc->text.len == 0) {
        doc->drop_rule = "empty";
        return CM_DROP;
    }
    return CM_KEEP;
}

const cm_filter cm_filter_normalize = {
    .name = "normalize",
    .summary = "Unicode normalization (ICU NFKC, Chinese punctuation kept) and whitespace/control cleanup",
    .defaults = DEFAULTS,
    .create = create,
    .apply = apply,
    .destroy = destroy,
};
