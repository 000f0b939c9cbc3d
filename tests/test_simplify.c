/* test_simplify.c -- dedup's simplification and the hashes it compares:
 * digits kept unless fold_digits, the text's own hash apart. */
#include "check.h"
#include "simplify.h"

#include <stdlib.h>

/* The rules for ASCII one byte at a time: letters lowercased and digits
 * (folded to 0 with fold) written, a run of white space one space before
 * the next written byte (none at the start), everything else dropped. */
static void reference_ascii(const char *t, size_t n, int fold, cm_buf *out)
{
    cm_buf_clear(out);
    int space = 0;
    for (size_t i = 0; i < n; i++) {
        char c = t[i];
        if (c >= 'A' && c <= 'Z') c = (char)(c + 32);
        if (fold && c >= '0' && c <= '9') c = '0';
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            if (space && out->len) cm_buf_append_char(out, ' ');
            space = 0;
            cm_buf_append_char(out, c);
        } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            space = 1;
        }
    }
    cm_buf_append(out, "", 0);
}

/* Every ASCII byte, in random texts, both foldings; ASCII runs broken by
 * ideographs (written) and accents (decomposed) at random. */
static void check_ascii_against_reference(void)
{
    cm_buf got, want, ascii;
    cm_buf_init(&got);
    cm_buf_init(&want);
    cm_buf_init(&ascii);
    uint64_t x = 0x9E3779B97F4A7C15ULL;
    int differ = 0;
    for (int round = 0; round < 2000; round++) {
        cm_buf_clear(&ascii);
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        size_t n = (x >> 40) % 200;
        for (size_t i = 0; i < n; i++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            unsigned r = (unsigned)(x >> 33);
            /* mostly letters and spaces, as text is; every byte value sometimes */
            char c = (char)(r % 4 == 0 ? (r >> 8) % 128 : r % 4 == 1 ? ' ' : 'A' + (r >> 8) % 58);
            cm_buf_append_char(&ascii, c ? c : 'x');
        }
        int fold = round & 1;
        cm_dedup_simplify(ascii.data ? ascii.data : "", ascii.len, fold, &got, NULL);
        reference_ascii(ascii.data ? ascii.data : "", ascii.len, fold, &want);
        int bad = got.len != want.len || memcmp(got.data, want.data, got.len);
        if (bad && differ < 3) fprintf(stderr, "round %d: \"%s\", want \"%s\"\n", round, got.data, want.data);
        differ += bad;
    }
    CHECK(differ == 0);
    cm_buf_free(&got);
    cm_buf_free(&want);
    cm_buf_free(&ascii);
}

int main(void)
{
    check_ascii_against_reference();
    cm_buf b, s;
    cm_buf_init(&b);
    cm_buf_init(&s);
    const char *en = "  Héllo,   WORLD!!  Café 2024 — naïve\n";
    cm_dedup_simplify(en, strlen(en), 1, &b, NULL);
    CHECK_STR(b.data, "hello world cafe 0000 naive");
    cm_dedup_simplify(en, strlen(en), 0, &b, NULL);
    CHECK_STR(b.data, "hello world cafe 2024 naive");
    const char *zh = "今天，天气很好！温度：２５度。";
    cm_dedup_simplify(zh, strlen(zh), 1, &b, NULL);
    CHECK_STR(b.data, "今天天气很好温度00度");
    const char *zh2 = "今天，天气很好！温度：25度。";
    cm_dedup_simplify(zh2, strlen(zh2), 0, &b, NULL);
    CHECK_STR(b.data, "今天天气很好温度25度");
    /* runs of ideographs are copied whole; a Yijing hexagram (U+4DC0, its
     * lead byte E4 as theirs) is a symbol and goes; Extension A (U+3400,
     * lead E3) and U+9FFF stay, a space before a run is written once */
    const char *runs = "天\u4dc0地 \u3400人\u9fff  和";
    cm_dedup_simplify(runs, strlen(runs), 0, &b, NULL);
    CHECK_STR(b.data, "天地 \u3400人\u9fff 和");
    /* Hangul syllables decompose to three jamo (3 bytes in, 9 out), more
     * than the 2x reserved up front, then ASCII written in place must still
     * fit: 28 syllables then "a a a ..." fill a 256-byte buffer past its end */
    cm_buf h;
    cm_buf_init(&h);
    for (int i = 0; i < 28; i++) cm_buf_append(&h, "\xea\xb0\x81", 3); /* U+AC01 */
    for (int i = 0; i < 8; i++) cm_buf_append(&h, " a", 2);
    cm_buf_append(&h, " b", 2);
    cm_dedup_simplify(h.data, h.len, 0, &b, NULL);
    CHECK(b.len == 28 * 9 + 18 && b.data[b.len - 1] == 'b' && b.data[b.len - 2] == ' ');
    cm_buf_free(&h);
    /* the per-code-point cache changes nothing: text of every kind, twice
     * through one cache (the second time from what the first learned) */
    const char *mixed = "Ça été — naïve Ωμέγα Привет! 가각 한국어 «quoted» ½ ① ＡＢ　全角 ™ € ¥ 「引号」、。・ x\u0301 "
                        "Straße ǅ ﬁ 𝐀 😀 ١٢٣ ๑๒ 二〇二四年 ﹏ ‰ ¶ § † ‡ • ‹›";
    cm_buf plain, cached;
    cm_buf_init(&plain);
    cm_buf_init(&cached);
    cm_simplify_cache *cache = cm_calloc(1, sizeof *cache);
    for (int fold = 0; fold < 2; fold++) {
        cm_dedup_simplify(mixed, strlen(mixed), fold, &plain, NULL);
        for (int round = 0; round < 2; round++) {
            cm_dedup_simplify(mixed, strlen(mixed), fold, &cached, cache);
            CHECK(cached.len == plain.len && !memcmp(cached.data, plain.data, plain.len));
        }
    }
    int learned = 0;
    for (int i = 0; i < 0x10000; i++) learned += cache->cls[i] != 0;
    CHECK(learned > 10); /* it did remember */
    free(cache);
    cm_buf_free(&plain);
    cm_buf_free(&cached);
    cm_dedup_simplify("", 0, 0, &b, NULL);
    CHECK_STR(b.data, "");
    /* equal after simplification, equal hashes; different text, different hashes */
    cm_hash128 a = cm_simplified_hash("The  cat sat.", 13, 0, &s, NULL);
    cm_hash128 c = cm_simplified_hash("the cat sat", 11, 0, &s, NULL);
    cm_hash128 d = cm_simplified_hash("the cat sat down", 16, 0, &s, NULL);
    CHECK(a.hi == c.hi && a.lo == c.lo);
    CHECK(a.hi != d.hi || a.lo != d.lo);
    /* two rates on two days: one simplified text only when digits fold */
    const char *r1 = "1 USD = 7.1023 CNY on 2024-05-01.", *r2 = "1 USD = 7.0981 CNY on 2024-05-02.";
    a = cm_simplified_hash(r1, strlen(r1), 0, &s, NULL);
    c = cm_simplified_hash(r2, strlen(r2), 0, &s, NULL);
    CHECK(a.hi != c.hi || a.lo != c.lo);
    a = cm_simplified_hash(r1, strlen(r1), 1, &s, NULL);
    c = cm_simplified_hash(r2, strlen(r2), 1, &s, NULL);
    CHECK(a.hi == c.hi && a.lo == c.lo);
    /* the text's own hash tells case and punctuation apart */
    a = cm_text_hash("The  cat sat.", 13);
    c = cm_text_hash("the cat sat", 11);
    CHECK(a.hi != c.hi || a.lo != c.lo);
    cm_buf_free(&b);
    cm_buf_free(&s);
    CHECK_DONE();
}
