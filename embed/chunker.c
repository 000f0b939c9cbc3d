/* chunker.c -- sentence-aware chunks with Markdown heading paths (see
 * chunker.h). Works on byte offsets into the document; code points are
 * decoded on the fly (an invalid byte counts as one character). */
#include "chunker.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../pipeline/util.h"

typedef struct piece {
    size_t begin, end, units;
} piece;

struct cm_chunker {
    cm_chunker_opts o;
    cm_length_fn length;
    void *user;
    const char *text;
    size_t len;
    /* the current section's pieces */
    piece *pieces;
    size_t n_pieces, cap_pieces;
    /* the result */
    cm_chunk *chunks;
    size_t n_chunks, cap_chunks;
    /* heading path */
    int depth;
    int level[CM_CHUNK_MAX_DEPTH];
    cm_span heading[CM_CHUNK_MAX_DEPTH];
    /* char offsets: a cursor that only moves forward */
    size_t cursor_byte, cursor_char;
};

cm_chunker *cm_chunker_create(const cm_chunker_opts *o, cm_length_fn length, void *user)
{
    cm_chunker *c = cm_calloc(1, sizeof *c);
    c->o = *o;
    if (c->o.max_units < 1) c->o.max_units = 1;
    if (c->o.overlap >= c->o.max_units) c->o.overlap = c->o.max_units - 1;
    c->length = length;
    c->user = user;
    return c;
}

void cm_chunker_free(cm_chunker *c)
{
    if (!c) return;
    free(c->pieces);
    free(c->chunks);
    free(c);
}

/* ---- code points ---- */

static size_t decode(const char *s, size_t end, size_t i, uint32_t *cp)
{
    size_t k = cm_utf8_seq_len((const unsigned char *)s + i, end - i);
    *cp = k ? cm_utf8_decode((const unsigned char *)s + i, k) : 0xFFFD;
    return k ? k : 1;
}

/* The start of the code point that ends at i (i > begin). */
static size_t back(const char *s, size_t begin, size_t i)
{
    size_t j = i - 1;
    while (j > begin && ((unsigned char)s[j] & 0xC0) == 0x80 && i - j < 4) j--;
    return j;
}

static int is_space(uint32_t c)
{
    return c == ' ' || (c >= '\t' && c <= '\r') || c == 0xA0 || c == 0x3000 || (c >= 0x2000 && c <= 0x200A) ||
           c == 0x202F || c == 0x205F || c == 0x1680 || c == 0x85 || c == 0x2028 || c == 0x2029;
}

/* Sentence ends that need no space after them. */
static int is_cjk_end(uint32_t c)
{
    return c == 0x3002 || c == 0xFF01 || c == 0xFF1F || c == 0xFF1B || c == 0x2026 || c == 0xFF61;
}

static int is_closer(uint32_t c)
{
    return c == '"' || c == '\'' || c == ')' || c == ']' || c == 0x201D || c == 0x2019 || c == 0x300D ||
           c == 0x300F || c == 0xFF09 || c == 0x300B || c == 0x3011 || c == 0x3009 || c == 0xFF3D;
}

/* The end of [b, e) without its trailing white space. */
static size_t trim_end(const char *s, size_t b, size_t e)
{
    while (e > b) {
        uint32_t cp;
        size_t p = back(s, b, e);
        decode(s, e, p, &cp);
        if (!is_space(cp)) break;
        e = p;
    }
    return e;
}

/* The length of [b, e) as a chunk would have it: trailing white space does
 * not count. */
static size_t units(cm_chunker *c, size_t b, size_t e)
{
    e = trim_end(c->text, b, e);
    return e > b ? c->length(c->user, c->text + b, e - b) : 0;
}

/* ---- pieces: sentences, cut to max_units ---- */

static void push_piece(cm_chunker *c, size_t b, size_t e)
{
    if (e <= b) return;
    size_t u = units(c, b, e);
    if (c->n_pieces == c->cap_pieces) {
        c->cap_pieces = c->cap_pieces ? 2 * c->cap_pieces : 64;
        c->pieces = cm_realloc(c->pieces, c->cap_pieces * sizeof *c->pieces);
    }
    c->pieces[c->n_pieces++] = (piece){b, e, u};
}

/* The end of the word (with its trailing white space) or CJK character
 * starting at i. */
static size_t atom_end(const char *s, size_t i, size_t e)
{
    uint32_t cp;
    size_t k = decode(s, e, i, &cp);
    if (!cm_is_cjk(cp) && !is_space(cp)) {
        while (i + k < e) {
            size_t k2 = decode(s, e, i + k, &cp);
            if (is_space(cp) || cm_is_cjk(cp)) break;
            k += k2;
        }
    }
    i += k;
    while (i < e) {
        size_t k2 = decode(s, e, i, &cp);
        if (!is_space(cp)) break;
        i += k2;
    }
    return i;
}

/* One word longer than the limit: slices of at most max_units code points,
 * halved until each measures within the limit. */
static void cut_word(cm_chunker *c, size_t b, size_t e)
{
    while (b < e) {
        size_t want = c->o.max_units, x, n;
        for (;;) {
            uint32_t cp;
            for (x = b, n = 0; x < e && n < want; n++) x += decode(c->text, e, x, &cp);
            if (want == 1 || units(c, b, x) <= c->o.max_units) break;
            want /= 2;
        }
        push_piece(c, b, x);
        b = x;
    }
}

/* A sentence over the limit: packed from words / CJK characters. */
static void cut_sentence(cm_chunker *c, size_t b, size_t e)
{
    size_t start = b;
    for (size_t i = b; i < e;) {
        size_t j = atom_end(c->text, i, e);
        if (units(c, i, j) > c->o.max_units) {
            push_piece(c, start, i);
            cut_word(c, i, j);
            start = j;
        } else if (i > start && units(c, start, j) > c->o.max_units) {
            push_piece(c, start, i);
            start = i;
        }
        i = j;
    }
    push_piece(c, start, e);
}

static void add_sentence(cm_chunker *c, size_t b, size_t e)
{
    if (units(c, b, e) <= c->o.max_units) push_piece(c, b, e);
    else cut_sentence(c, b, e);
}

static void split_sentences(cm_chunker *c, size_t b, size_t e)
{
    const char *s = c->text;
    size_t start = b;
    uint32_t prev = 0;
    for (size_t i = b; i < e;) {
        uint32_t cp;
        size_t k = decode(s, e, i, &cp), j = i + k;
        int end = 0;
        if (cp == '\n' || is_cjk_end(cp)) {
            end = 1;
        } else if (cp == '!' || cp == '?' || cp == ';' || cp == '.') {
            if (cp != '.' && cm_is_cjk(prev)) end = 1; /* ! ? ; after Chinese, as NFKC leaves them */
            else if (cp != ';') {
                size_t x = j;
                uint32_t n2 = 0;
                while (x < e) {
                    size_t k2 = decode(s, e, x, &n2);
                    if (!is_closer(n2) && n2 != '.' && n2 != '!' && n2 != '?') break;
                    x += k2;
                }
                if (x >= e || is_space(n2)) { end = 1; j = x; }
                if (end && cp == '.' && x < e) { /* "Dr. no", "e.g. this": a lowercase word goes on */
                    while (x < e && is_space(n2)) x += decode(s, e, x, &n2);
                    if (x < e && n2 >= 'a' && n2 <= 'z') { end = 0; j = i + k; }
                }
            }
        }
        if (end) { /* the run of ends and closers, then white space, stay with it */
            while (j < e) {
                uint32_t n2;
                size_t k2 = decode(s, e, j, &n2);
                if (!is_cjk_end(n2) && !is_closer(n2) && !(cm_is_cjk(prev) && (n2 == '!' || n2 == '?'))) break;
                j += k2;
            }
            while (j < e) {
                uint32_t n2;
                size_t k2 = decode(s, e, j, &n2);
                if (!is_space(n2)) break;
                j += k2;
            }
            add_sentence(c, start, j);
            start = j;
        }
        prev = cp;
        i = j;
    }
    add_sentence(c, start, e);
}

/* ---- chunks ---- */

static size_t count_chars(const char *s, size_t b, size_t e)
{
    size_t n = 0;
    for (size_t i = b; i < e; i++) n += ((unsigned char)s[i] & 0xC0) != 0x80;
    return n;
}

static void emit(cm_chunker *c, size_t b, size_t e)
{
    uint32_t cp;
    while (b < e && is_space((decode(c->text, e, b, &cp), cp))) b += decode(c->text, e, b, &cp);
    e = trim_end(c->text, b, e);
    if (e <= b) return;
    if (c->n_chunks == c->cap_chunks) {
        c->cap_chunks = c->cap_chunks ? 2 * c->cap_chunks : 16;
        c->chunks = cm_realloc(c->chunks, c->cap_chunks * sizeof *c->chunks);
    }
    cm_chunk *k = &c->chunks[c->n_chunks++];
    memset(k, 0, sizeof *k);
    k->bytes = (cm_span){b, e};
    c->cursor_char += count_chars(c->text, c->cursor_byte, b); /* chunk starts never move back */
    c->cursor_byte = b;
    k->char_begin = c->cursor_char;
    k->char_end = k->char_begin + count_chars(c->text, b, e);
    k->units = units(c, b, e);
    k->depth = c->depth;
    memcpy(k->heading, c->heading, sizeof k->heading);
}

/* Where the next chunk starts: the shortest run of whole words / CJK
 * characters at the end of [b, e) longer than limit units, less its first
 * word; never all of [b, e). e itself when nothing fits. */
static size_t overlap_start(cm_chunker *c, size_t b, size_t e, size_t limit)
{
    size_t pos = e;
    while (pos > b && limit) {
        size_t i = trim_end(c->text, b, pos);
        if (i == b) break;
        uint32_t cp;
        size_t p = back(c->text, b, i);
        decode(c->text, e, p, &cp);
        if (!cm_is_cjk(cp))
            while (p > b) {
                size_t q = back(c->text, b, p);
                decode(c->text, e, q, &cp);
                if (is_space(cp) || cm_is_cjk(cp)) break;
                p = q;
            }
        if (p == b || units(c, p, e) > limit) break;
        pos = p;
    }
    return pos;
}

static void chunk_section(cm_chunker *c, size_t b, size_t e)
{
    c->n_pieces = 0;
    split_sentences(c, b, e);
    size_t max = c->o.max_units, cur = SIZE_MAX;
    for (size_t i = 0; i < c->n_pieces; i++) {
        const piece *p = &c->pieces[i];
        if (cur != SIZE_MAX && units(c, cur, p->end) > max) {
            emit(c, cur, p->begin);
            size_t room = max - p->units;
            cur = overlap_start(c, cur, p->begin, c->o.overlap < room ? c->o.overlap : room);
            if (units(c, cur, p->end) > max) cur = p->begin; /* the space between did not fit */
        }
        if (cur == SIZE_MAX) cur = p->begin;
    }
    if (cur != SIZE_MAX) emit(c, cur, e);
}

/* ---- sections ---- */

/* Level (1..6) of an ATX heading line [b, e) and its title, or 0. */
static int heading_level(const char *s, size_t b, size_t e, cm_span *title)
{
    size_t i = b;
    while (i < e && i - b < 3 && s[i] == ' ') i++;
    int level = 0;
    while (i < e && s[i] == '#' && level < 7) { level++; i++; }
    if (level < 1 || level > 6 || (i < e && s[i] != ' ' && s[i] != '\t')) return 0;
    while (i < e && (s[i] == ' ' || s[i] == '\t')) i++;
    size_t t = e;
    while (t > i && (s[t - 1] == ' ' || s[t - 1] == '\t' || s[t - 1] == '\r')) t--;
    size_t h = t; /* a closing run of # after a space */
    while (h > i && s[h - 1] == '#') h--;
    if (h < t && (h == i || s[h - 1] == ' ' || s[h - 1] == '\t')) {
        t = h;
        while (t > i && (s[t - 1] == ' ' || s[t - 1] == '\t')) t--;
    }
    *title = (cm_span){i, t};
    return level;
}

static int is_fence(const char *s, size_t b, size_t e)
{
    size_t i = b;
    while (i < e && i - b < 3 && s[i] == ' ') i++;
    return e - i >= 3 && (!memcmp(s + i, "```", 3) || !memcmp(s + i, "~~~", 3));
}

/* 1 when [b, e) is a heading line and white space, and nothing else. */
static int only_heading(const char *s, size_t b, size_t e)
{
    const char *nl = memchr(s + b, '\n', e - b);
    cm_span t;
    if (!heading_level(s, b, nl ? (size_t)(nl - s) : e, &t)) return 0;
    for (size_t i = nl ? (size_t)(nl - s) : e; i < e; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r') return 0;
    return 1;
}

size_t cm_chunker_split(cm_chunker *c, const char *text, size_t len, const cm_chunk **chunks)
{
    c->text = text;
    c->len = len;
    c->n_chunks = 0;
    c->depth = 0;
    c->cursor_byte = c->cursor_char = 0;
    size_t section = 0;
    int fenced = 0;
    for (size_t line = 0; c->o.markdown && line < len;) {
        const char *nl = memchr(text + line, '\n', len - line);
        size_t end = nl ? (size_t)(nl - text) : len;
        cm_span title;
        int level;
        if (is_fence(text, line, end)) {
            fenced = !fenced;
        } else if (!fenced && (level = heading_level(text, line, end, &title))) {
            /* a heading with nothing under it but a subheading goes with the
             * subheading's section (its title stays in the path) */
            if (!only_heading(text, section, line)) {
                chunk_section(c, section, line);
                section = line;
            }
            while (c->depth > 0 && c->level[c->depth - 1] >= level) c->depth--;
            if (c->depth < CM_CHUNK_MAX_DEPTH) {
                c->level[c->depth] = level;
                c->heading[c->depth++] = title;
            }
        }
        line = nl ? end + 1 : len;
    }
    chunk_section(c, section, len);
    *chunks = c->chunks;
    return c->n_chunks;
}
