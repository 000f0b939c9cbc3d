/* bm25_terms.c -- BM25 terms for Chinese and English (see bm25_terms.h). */
#include "bm25_terms.h"

#include <string.h>
#include <unicode/uchar.h>

static int is_cjk_or_digit(uint32_t c) { return (c >= 0x30 && c <= 0x39) || cm_is_cjk(c); }

int cm_bm25_scan(const char *text, size_t len, cm_bm25_term_fn fn, void *user)
{
    const unsigned char *s = (const unsigned char *)text;
    char word[CM_BM25_MAX_TERM];
    size_t wlen = 0;
    int in_word = 0, word_full = 0;
    size_t prev = (size_t)-1, prev_len = 0; /* the previous CJK character or digit, for bigrams */
    uint32_t prev_c = 0;
    for (size_t i = 0; i <= len;) {
        size_t k = 0;
        uint32_t c = 0;
        if (i < len) {
            if (s[i] < 0x80) { k = 1; c = s[i]; }
            else if ((k = cm_utf8_seq_len(s + i, len - i))) c = cm_utf8_decode(s + i, k);
        }
        int cjk = k && is_cjk_or_digit(c);
        int alnum = k && !cjk && (c < 0x80 ? ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') : u_isalnum((UChar32)c));
        if (alnum) {
            char low[4];
            uint32_t lc = c < 0x80 ? (c | 0x20) : (uint32_t)u_tolower((UChar32)c);
            size_t n = lc < 0x80 ? (low[0] = (char)lc, 1) : cm_utf8_encode(lc, low);
            if (wlen + n <= sizeof word && !word_full) {
                memcpy(word + wlen, low, n);
                wlen += n;
            } else {
                word_full = 1; /* the rest of a very long word is not indexed */
            }
            in_word = 1;
        } else if (in_word) {
            int rc = fn(user, word, wlen, 0);
            if (rc) return rc;
            in_word = word_full = 0;
            wlen = 0;
        }
        if (cjk) {
            int rc;
            if (prev != (size_t)-1 &&
                (rc = fn(user, text + prev, prev_len + k, CM_BM25_BIGRAM | (uint64_t)prev_c << 21 | c)))
                return rc;
            if ((rc = fn(user, text + i, k, (uint64_t)c + 1))) return rc;
            prev = i;
            prev_len = k;
            prev_c = c;
        } else {
            prev = (size_t)-1;
        }
        if (i == len) break;
        i += k ? k : 1;
    }
    return 0;
}

typedef struct joined {
    cm_buf *out;
    size_t count;
} joined;

static int append_term(void *user, const char *term, size_t len, uint64_t key)
{
    (void)key;
    joined *j = user;
    if (j->out->len) cm_buf_append_char(j->out, ' ');
    cm_buf_append(j->out, term, len);
    j->count++;
    return 0;
}

size_t cm_bm25_terms(const char *text, size_t len, cm_buf *out)
{
    joined j = {out, 0};
    cm_bm25_scan(text, len, append_term, &j);
    return j.count;
}
