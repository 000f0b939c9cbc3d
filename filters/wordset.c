/* wordset.c -- sets of words matched against a document's tokens in
 * lowercase (see wordset.h). */
#include "wordset.h"

#include <stdlib.h>
#include <string.h>

#include "hashtab.h"

struct cm_wordset {
    cm_htab set;
    int max_cjk_run;   /* longest entry in CJK characters, for runs of single-character tokens */
    uint8_t first[8192]; /* bitmap of the BMP: first characters of entries of several CJK characters */
    uint8_t single[8192]; /* bitmap of the BMP: entries that are one non-ASCII character (a bit in L1,
                           * not a probe of the table, for every Chinese character) */
    uint8_t any[8192];    /* single | first: a character with neither bit needs no further look */
    uint64_t maybe[64];   /* a bit per entry's key bits 20..31: a word whose bit is clear is no entry
                           * (one L1 load instead of a probe for nearly every English word) */
};

static size_t maybe_bit(uint64_t key) { return (size_t)(key >> 20) & 4095; }

cm_wordset *cm_wordset_create(char *const *words, size_t n)
{
    cm_wordset *w = cm_calloc(1, sizeof *w);
    cm_htab_reset(&w->set, n + 1);
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
        uint64_t key = cm_hash_bytes(low, l);
        cm_htab_add(&w->set, key);
        w->maybe[maybe_bit(key) >> 6] |= 1ULL << (maybe_bit(key) & 63);
        size_t k1 = cm_utf8_seq_len((const unsigned char *)low, l);
        if (k1 == l && l > 1) {
            uint32_t c = cm_utf8_decode((const unsigned char *)low, k1);
            if (c < 0x10000) w->single[c >> 3] |= (uint8_t)(1u << (c & 7));
        }
        if (cjk_chars > w->max_cjk_run) w->max_cjk_run = cjk_chars;
        if (cjk_chars > 1) {
            size_t k = cm_utf8_seq_len((const unsigned char *)low, l);
            uint32_t c = k ? cm_utf8_decode((const unsigned char *)low, k) : 0;
            if (c < 0x10000) w->first[c >> 3] |= (uint8_t)(1u << (c & 7));
        }
    }
    for (size_t i = 0; i < sizeof w->any; i++) w->any[i] = w->single[i] | w->first[i];
    return w;
}

void cm_wordset_free(cm_wordset *w)
{
    if (!w) return;
    cm_htab_free(&w->set);
    free(w);
}

size_t cm_wordset_count(const cm_wordset *w, const char *text, const cm_token *t, size_t n)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        if (!t[i].is_word) continue;
        const unsigned char *p = (const unsigned char *)text + t[i].start;
        /* one BMP character (every Chinese one): the bitmaps know, no table probe */
        int one_bmp = t[i].chars == 1 && p[0] >= 0x80 && t[i].len <= 3;
        uint32_t c = 0;
        if (one_bmp) {
            size_t k;
            c = cm_utf8_decode_at(p, t[i].len, 0, &k);
            if (!(w->any[c >> 3] & (1u << (c & 7)))) continue; /* neither an entry nor the start of one */
            if (w->single[c >> 3] & (1u << (c & 7))) { count++; continue; }
        } else {
            uint64_t key = cm_token_key(&t[i]);
            if ((w->maybe[maybe_bit(key) >> 6] >> (maybe_bit(key) & 63) & 1) && cm_htab_has(&w->set, key)) {
                count++;
                continue;
            }
        }
        /* entries of several CJK characters over adjacent one-character tokens */
        if (t[i].is_cjk && one_bmp && w->max_cjk_run > 1) {
            if (!(w->first[c >> 3] & (1u << (c & 7)))) continue;
            size_t end = i + 1;
            while (end < n && end - i < (size_t)w->max_cjk_run && t[end].is_cjk && t[end].chars == 1 &&
                   t[end].start == t[end - 1].start + t[end - 1].len)
                end++;
            for (size_t e = end; e > i + 1; e--) {
                size_t bytes = t[e - 1].start + t[e - 1].len - t[i].start;
                if (cm_htab_has(&w->set, cm_hash_bytes_inline(text + t[i].start, bytes))) { count++; i = e - 1; break; }
            }
        }
    }
    return count;
}
