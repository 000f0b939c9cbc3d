/* test_wordset.c -- word sets (stop words, flagged words) against tokens:
 * ASCII words in any case, one-character entries (the bitmap path), entries
 * of several CJK characters over runs of one-character tokens, and with
 * ICU word units. */
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

int main(void)
{
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
