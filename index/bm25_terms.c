/* bm25_terms.c -- BM25 terms for Chinese and English (see bm25_terms.h). */
#include "bm25_terms.h"

#include <unicode/uchar.h>

static void add_term(cm_buf *out, const char *s, size_t n, size_t *count)
{
    if (out->len) cm_buf_append_char(out, ' ');
    cm_buf_append(out, s, n);
    ++*count;
}

size_t cm_bm25_terms(const char *text, size_t len, cm_buf *out)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t count = 0, prev_cjk = (size_t)-1, prev_len = 0; /* the previous CJK character, for bigrams */
    size_t word = (size_t)-1;                             /* start of the word in progress (in out) */
    for (size_t i = 0; i <= len;) {
        size_t k = i < len ? cm_utf8_seq_len(s + i, len - i) : 0;
        uint32_t c = i < len && k ? cm_utf8_decode(s + i, k) : 0;
        int cjk = i < len && k && (cm_is_cjk(c) || (c >= 0x30 && c <= 0x39));
        int alnum = i < len && k && !cjk && u_isalnum((UChar32)c);
        if (alnum) {
            if (word == (size_t)-1) {
                if (out->len) cm_buf_append_char(out, ' ');
                word = out->len;
                count++;
            }
            char low[4];
            size_t n = cm_utf8_encode((uint32_t)u_tolower((UChar32)c), low);
            cm_buf_append(out, low, n);
        } else {
            word = (size_t)-1;
        }
        if (cjk) {
            if (prev_cjk != (size_t)-1) add_term(out, text + prev_cjk, prev_len + k, &count);
            add_term(out, text + i, k, &count);
            prev_cjk = i;
            prev_len = k;
        } else {
            prev_cjk = (size_t)-1;
        }
        if (i == len) break;
        i += k ? k : 1;
    }
    return count;
}
