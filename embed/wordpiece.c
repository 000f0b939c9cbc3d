/* wordpiece.c -- the WordPiece tokenizer (see wordpiece.h). Text is worked
 * on as code points; ICU provides categories, case mapping and
 * normalization. */
#include "wordpiece.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>
#include <xxhash.h>

#define MAX_WORD_CHARS 100

typedef struct slot {
    uint64_t hash;
    int32_t id; /* -1: empty */
    char *token;
} slot;

struct cm_wordpiece {
    slot *table;
    size_t cap; /* power of two */
    int lower;
    size_t n; /* vocabulary lines */
    int32_t unk, cls, sep;
    /* scratch */
    uint32_t *cps;
    size_t cap_cps;
    cm_buf piece;
    cm_buf word;
};

static void insert(cm_wordpiece *w, const char *tok, int32_t id)
{
    uint64_t h = XXH3_64bits(tok, strlen(tok));
    size_t i = (size_t)h & (w->cap - 1);
    while (w->table[i].id >= 0) {
        if (w->table[i].hash == h && !strcmp(w->table[i].token, tok)) {
            w->table[i].id = id; /* a repeated token takes its last line, as Hugging Face's load_vocab does */
            return;
        }
        i = (i + 1) & (w->cap - 1);
    }
    w->table[i] = (slot){h, id, cm_strdup(tok)};
}

static int32_t lookup(const cm_wordpiece *w, const char *tok, size_t n)
{
    uint64_t h = XXH3_64bits(tok, n);
    size_t i = (size_t)h & (w->cap - 1);
    while (w->table[i].id >= 0) {
        if (w->table[i].hash == h && strlen(w->table[i].token) == n && !memcmp(w->table[i].token, tok, n))
            return w->table[i].id;
        i = (i + 1) & (w->cap - 1);
    }
    return -1;
}

int32_t cm_wordpiece_id(const cm_wordpiece *w, const char *token) { return lookup(w, token, strlen(token)); }

size_t cm_wordpiece_size(const cm_wordpiece *w) { return w->n; }

cm_wordpiece *cm_wordpiece_create(const char *const *tokens, size_t n, int do_lower_case, cm_err *err)
{
    cm_wordpiece *w = cm_calloc(1, sizeof *w);
    w->cap = 64;
    while (w->cap < 2 * n + 2) w->cap <<= 1;
    w->table = cm_malloc(w->cap * sizeof *w->table);
    for (size_t i = 0; i < w->cap; i++) w->table[i] = (slot){0, -1, NULL};
    for (size_t i = 0; i < n; i++) insert(w, tokens[i], (int32_t)i);
    w->lower = do_lower_case;
    w->n = n;
    w->unk = cm_wordpiece_id(w, "[UNK]");
    w->cls = cm_wordpiece_id(w, "[CLS]");
    w->sep = cm_wordpiece_id(w, "[SEP]");
    cm_buf_init(&w->piece);
    cm_buf_init(&w->word);
    if (w->unk < 0 || w->cls < 0 || w->sep < 0) {
        cm_errorf(err, "the vocabulary lacks [UNK], [CLS] or [SEP]");
        cm_wordpiece_free(w);
        return NULL;
    }
    return w;
}

cm_wordpiece *cm_wordpiece_load(const char *path, int do_lower_case, cm_err *err)
{
    cm_buf b;
    cm_buf_init(&b);
    if (cm_read_file(path, &b, 256u << 20, err)) { cm_buf_free(&b); return NULL; }
    /* one token per line, as Hugging Face's load_vocab: an empty line is a
     * token too (it takes an id); the last line may lack its '\n' */
    if (b.len && b.data[b.len - 1] != '\n') cm_buf_append_char(&b, '\n');
    size_t n = 0, cap = 1024;
    const char **toks = cm_malloc(cap * sizeof *toks);
    char *p = b.data, *end = b.data + b.len;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p)); /* never NULL: the text ends with '\n' */
        if (memchr(p, 0, (size_t)(nl - p))) {
            cm_errorf(err, "%s: line %zu has a NUL byte (not a vocab.txt)", path, n + 1);
            free(toks);
            cm_buf_free(&b);
            return NULL;
        }
        *nl = 0;
        if (nl > p && nl[-1] == '\r') nl[-1] = 0;
        if (n == cap) { cap *= 2; toks = cm_realloc(toks, cap * sizeof *toks); }
        toks[n++] = p;
        p = nl + 1;
    }
    cm_wordpiece *w = cm_wordpiece_create(toks, n, do_lower_case, err);
    if (!w) {
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s", err->msg);
        cm_errorf(err, "%s: %s", path, msg);
    }
    free(toks);
    cm_buf_free(&b);
    return w;
}

void cm_wordpiece_free(cm_wordpiece *w)
{
    if (!w) return;
    for (size_t i = 0; i < w->cap; i++) free(w->table[i].token);
    free(w->table);
    free(w->cps);
    cm_buf_free(&w->piece);
    cm_buf_free(&w->word);
    free(w);
}

static int is_chinese(uint32_t c)
{
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
           (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF) ||
           (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

static int is_whitespace(uint32_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || u_charType((UChar32)c) == U_SPACE_SEPARATOR;
}

static int is_control(uint32_t c)
{
    if (c == '\t' || c == '\n' || c == '\r') return 0;
    int8_t t = u_charType((UChar32)c);
    return t == U_CONTROL_CHAR || t == U_FORMAT_CHAR || t == U_SURROGATE || t == U_PRIVATE_USE_CHAR ||
           t == U_UNASSIGNED;
}

static int is_punct(uint32_t c)
{
    if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126)) return 1;
    int8_t t = u_charType((UChar32)c);
    return t == U_DASH_PUNCTUATION || t == U_START_PUNCTUATION || t == U_END_PUNCTUATION ||
           t == U_CONNECTOR_PUNCTUATION || t == U_OTHER_PUNCTUATION || t == U_INITIAL_PUNCTUATION ||
           t == U_FINAL_PUNCTUATION;
}

/* UTF-16 round trip through ICU: NFC, or lowercase + NFD + marks dropped. */
static void transform(const uint32_t *in, size_t n, int lower_strip, uint32_t **out, size_t *n_out)
{
    UChar *u = cm_malloc((2 * n + 1) * sizeof *u);
    int32_t ul = 0;
    for (size_t i = 0; i < n; i++) {
        if (in[i] >= 0x10000) { u[ul++] = (UChar)(0xD7C0 + (in[i] >> 10)); u[ul++] = (UChar)(0xDC00 | (in[i] & 0x3FF)); }
        else u[ul++] = (UChar)in[i];
    }
    UErrorCode st = U_ZERO_ERROR;
    UChar *v = cm_malloc((size_t)(4 * ul + 16) * sizeof *v);
    int32_t vl;
    if (lower_strip) {
        UChar *low = cm_malloc((size_t)(3 * ul + 16) * sizeof *low);
        int32_t ll = u_strToLower(low, 3 * ul + 16, u, ul, "", &st);
        const UNormalizer2 *nfd = unorm2_getNFDInstance(&st);
        vl = unorm2_normalize(nfd, low, ll, v, 4 * ul + 16, &st);
        free(low);
    } else {
        const UNormalizer2 *nfc = unorm2_getNFCInstance(&st);
        vl = unorm2_normalize(nfc, u, ul, v, 4 * ul + 16, &st);
    }
    if (U_FAILURE(st)) { /* keep the input */
        *out = cm_malloc((n ? n : 1) * sizeof **out);
        memcpy(*out, in, n * sizeof *in);
        *n_out = n;
        free(u);
        free(v);
        return;
    }
    *out = cm_malloc(((size_t)vl + 1) * sizeof **out);
    size_t k = 0;
    for (int32_t i = 0; i < vl;) {
        UChar32 c;
        U16_NEXT(v, i, vl, c);
        if (lower_strip && u_charType(c) == U_NON_SPACING_MARK) continue;
        (*out)[k++] = (uint32_t)c;
    }
    *n_out = k;
    free(u);
    free(v);
}

static void append_cp(cm_buf *b, uint32_t c)
{
    char tmp[4];
    cm_buf_append(b, tmp, cm_utf8_encode(c, tmp));
}

/* WordPiece of one word (code points); calls emit for each piece id. */
static void wordpiece(cm_wordpiece *w, const uint32_t *cp, size_t n, void (*emit)(void *, int32_t, const char *, size_t),
                      void *user)
{
    if (n > MAX_WORD_CHARS) { emit(user, w->unk, "[UNK]", 5); return; }
    /* byte offset of every code point */
    size_t *off = cm_malloc((n + 1) * sizeof *off);
    cm_buf_clear(&w->word);
    for (size_t i = 0; i < n; i++) { off[i] = w->word.len; append_cp(&w->word, cp[i]); }
    off[n] = w->word.len;
    int32_t ids[MAX_WORD_CHARS + 1];
    size_t starts[MAX_WORD_CHARS + 1], ends[MAX_WORD_CHARS + 1], np = 0;
    size_t start = 0;
    while (start < n) {
        size_t end = n;
        int32_t found = -1;
        while (end > start) {
            cm_buf_clear(&w->piece);
            if (start > 0) cm_buf_append(&w->piece, "##", 2);
            cm_buf_append(&w->piece, w->word.data + off[start], off[end] - off[start]);
            found = lookup(w, w->piece.data, w->piece.len);
            if (found >= 0) break;
            end--;
        }
        if (found < 0) { free(off); emit(user, w->unk, "[UNK]", 5); return; }
        ids[np] = found;
        starts[np] = start;
        ends[np] = end;
        np++;
        start = end;
    }
    for (size_t i = 0; i < np; i++) {
        cm_buf_clear(&w->piece);
        if (starts[i] > 0) cm_buf_append(&w->piece, "##", 2);
        cm_buf_append(&w->piece, w->word.data + off[starts[i]], off[ends[i]] - off[starts[i]]);
        emit(user, ids[i], w->piece.data, w->piece.len);
    }
    free(off);
}

/* Steps 1-5 of wordpiece.h, then WordPiece, calling emit for every piece. */
static void run(cm_wordpiece *w, const char *text, size_t len, void (*emit)(void *, int32_t, const char *, size_t),
                void *user)
{
    /* decode, clean, space CJK */
    size_t n = 0;
    if (3 * len + 3 > w->cap_cps) {
        w->cap_cps = 3 * len + 3;
        w->cps = cm_realloc(w->cps, w->cap_cps * sizeof *w->cps);
    }
    const unsigned char *s = (const unsigned char *)text;
    for (size_t i = 0; i < len;) {
        size_t k = cm_utf8_seq_len(s + i, len - i);
        uint32_t c = k ? cm_utf8_decode(s + i, k) : 0xFFFD;
        i += k ? k : 1;
        if (c == 0 || c == 0xFFFD || is_control(c)) continue;
        if (is_whitespace(c)) { w->cps[n++] = ' '; continue; }
        if (is_chinese(c)) { w->cps[n++] = ' '; w->cps[n++] = c; w->cps[n++] = ' '; continue; }
        w->cps[n++] = c;
    }
    uint32_t *norm;
    size_t nn;
    transform(w->cps, n, 0, &norm, &nn); /* NFC */
    for (size_t i = 0; i < nn;) {
        while (i < nn && is_whitespace(norm[i])) i++;
        size_t j = i;
        while (j < nn && !is_whitespace(norm[j])) j++;
        if (j == i) break;
        uint32_t *tok = norm + i, *low = NULL;
        size_t tl = j - i;
        if (w->lower) {
            transform(norm + i, j - i, 1, &low, &tl);
            tok = low;
        }
        /* punctuation splits the token */
        size_t a = 0;
        for (size_t b = 0; b <= tl; b++) {
            if (b == tl || is_punct(tok[b])) {
                if (b > a) wordpiece(w, tok + a, b - a, emit, user);
                if (b < tl) wordpiece(w, tok + b, 1, emit, user);
                a = b + 1;
            }
        }
        free(low);
        i = j;
    }
    free(norm);
}

typedef struct joiner {
    cm_buf *out;
    size_t n;
} joiner;

static void join_emit(void *user, int32_t id, const char *s, size_t n)
{
    (void)id;
    joiner *j = user;
    if (j->n++) cm_buf_append_char(j->out, ' ');
    cm_buf_append(j->out, s, n);
}

size_t cm_wordpiece_tokens(cm_wordpiece *w, const char *text, size_t len, cm_buf *out)
{
    cm_buf_clear(out);
    joiner j = {out, 0};
    run(w, text, len, join_emit, &j);
    if (!out->data) cm_buf_append(out, "", 0);
    return j.n;
}

typedef struct collector {
    int32_t *ids;
    size_t n, max;
} collector;

static void collect_emit(void *user, int32_t id, const char *s, size_t n)
{
    (void)s; (void)n;
    collector *c = user;
    if (c->n < c->max) c->ids[c->n++] = id;
}

size_t cm_wordpiece_encode(cm_wordpiece *w, const char *text, size_t len, int32_t *ids, size_t max_len)
{
    if (max_len < 2) return 0;
    ids[0] = w->cls;
    collector c = {ids + 1, 0, max_len - 2};
    run(w, text, len, collect_emit, &c);
    ids[1 + c.n] = w->sep;
    return c.n + 2;
}

static void count_emit(void *user, int32_t id, const char *s, size_t n)
{
    (void)id; (void)s; (void)n;
    ++*(size_t *)user;
}

size_t cm_wordpiece_count(cm_wordpiece *w, const char *text, size_t len)
{
    size_t n = 0;
    run(w, text, len, count_emit, &n);
    return n;
}
