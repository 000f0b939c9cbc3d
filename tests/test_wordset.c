/* test_wordset.c -- word sets (stop words, flagged words) against tokens:
 * ASCII words in any case, one-character entries (the bitmap path), entries
 * of several CJK characters over runs of one-character tokens, and with
 * ICU word units; and the tokens' lowercase keys the sets match on. */
#include "check.h"
#include "wordset.h"

static size_t count(const cm_wordset *w, int units, const char *text)
{
    cm_tokenizer tz;
    cm_tokenizer_init(&tz);
    cm_tokenize(&tz, units, text, strlen(text));
    size_t c = cm_wordset_count(w, text, tz.tok, tz.n);
    cm_tokenizer_free(&tz);
    return c;
}

/* Every token's key is the hash of its bytes with A-Z lowercased, short
 * tokens (lowercased eight bytes at once) and long ones alike: words of
 * 1-20 characters drawn from the bytes around the A-Z range and non-ASCII
 * letters. */
static void check_keys_against_lowercase(void)
{
    static const char *const pieces[] = {"A", "Z", "a", "z", "@", "[", "`", "{", "0", "_", "M", "q", "\xc3\x80", "\xc3\xa4",
                                         "\xd0\x96", "-", "'", " ", "中"};
    const size_t np = sizeof pieces / sizeof *pieces;
    unsigned rng = 777;
    cm_tokenizer tz;
    cm_tokenizer_init(&tz);
    int bad = 0;
    size_t tokens = 0;
    for (int round = 0; round < 2000; round++) {
        char text[256] = "";
        int n = 1 + (int)((rng = rng * 1103515245u + 12345u) >> 16) % 20;
        for (int i = 0; i < n; i++) {
            rng = rng * 1103515245u + 12345u;
            strcat(text, pieces[(rng >> 16) % np]);
        }
        cm_tokenize(&tz, CM_WORDS_FAST, text, strlen(text));
        for (size_t i = 0; i < tz.n; i++, tokens++) {
            char low[256];
            const cm_token *t = &tz.tok[i];
            for (uint32_t j = 0; j < t->len; j++) {
                char c = text[t->start + j];
                low[j] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
            }
            if (t->hash != cm_hash_bytes(text + t->start, t->len) || t->key != cm_hash_bytes(low, t->len)) {
                if (bad++ < 3) fprintf(stderr, "token [%.*s] of [%s]: wrong hash or key\n", (int)t->len, text + t->start, text);
            }
        }
    }
    CHECK(bad == 0);
    CHECK(tokens > 10000);
    cm_tokenizer_free(&tz);
}

int main(void)
{
    check_keys_against_lowercase();
    char *words[] = {"的", "是", "赌博", "网上赌场", "porn", "é", "ß", "Ж", "💰"};
    cm_wordset *w = cm_wordset_create(words, sizeof words / sizeof *words);
    CHECK(count(w, CM_WORDS_FAST, "的是的") == 3);
    CHECK(count(w, CM_WORDS_FAST, "我们的茶") == 1);
    CHECK(count(w, CM_WORDS_FAST, "不要赌博，远离网上赌场。") == 2); /* runs of single-character tokens */
    CHECK(count(w, CM_WORDS_FAST, "赌") == 0);                   /* a prefix of an entry is not one */
    CHECK(count(w, CM_WORDS_FAST, "porn Porn PORN pornography") == 3);
    CHECK(count(w, CM_WORDS_FAST, "café é É") == 1);             /* é alone; no case folding beyond ASCII */
    CHECK(count(w, CM_WORDS_FAST, "ß Ж ж") == 2);
    CHECK(count(w, CM_WORDS_FAST, "") == 0);
    CHECK(count(w, CM_WORDS_ICU, "不要赌博") >= 1);                /* ICU makes 赌博 one word token */
    cm_wordset_free(w);
    /* no multi-character entries: single characters still found */
    char *one[] = {"茶"};
    w = cm_wordset_create(one, 1);
    CHECK(count(w, CM_WORDS_FAST, "龙井茶，好茶") == 2);
    CHECK(count(w, CM_WORDS_FAST, "龙井") == 0);
    cm_wordset_free(w);
    CHECK_DONE();
}
