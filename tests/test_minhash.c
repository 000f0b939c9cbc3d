/* test_minhash.c -- shingles of English, Chinese and mixed text, the
 * simplification dedup applies, determinism, the Jaccard estimate against the
 * exact value, and band collisions for near and far pairs. */
#include "check.h"
#include "minhash.h"

#include <math.h>
#include <stdlib.h>

#include "util.h"

static unsigned rng_state = 42;
static unsigned rnd(void) { return (rng_state = rng_state * 1103515245u + 12345u) >> 8; }

/* A text of n words from a vocabulary of 5000 made-up words (letters only). */
static void random_text(cm_buf *b, int n)
{
    cm_buf_clear(b);
    for (int i = 0; i < n; i++) {
        unsigned w = rnd() % 5000;
        char word[8];
        int k = 0;
        do { word[k++] = (char)('a' + w % 26); w /= 26; } while (w);
        word[k] = 0;
        cm_buf_appendf(b, "%s%s", i ? " " : "", word);
    }
}

int main(void)
{
    cm_minhash_params p;
    cm_minhash_params_default(&p);
    CHECK(p.ngram == 5 && p.bands == 14 && p.rows == 8);
    cm_minhasher *m = cm_minhasher_create(&p);
    CHECK(m != NULL);
    int np = p.bands * p.rows;
    uint32_t *s1 = calloc((size_t)np, 4), *s2 = calloc((size_t)np, 4);
    uint64_t *b1 = calloc((size_t)p.bands, 8), *b2 = calloc((size_t)p.bands, 8);

    /* simplification: case, punctuation and spacing do not matter; digits do,
     * unless fold_digits */
    const char *x = "The Quick brown fox jumps over 12 lazy dogs, again and again!";
    const char *y = "the quick BROWN fox -- jumps over 12 lazy dogs again and again";
    const char *z = "the quick BROWN fox -- jumps over 99 lazy dogs again and again";
    CHECK(cm_minhash_signature(m, x, strlen(x), s1) == 8); /* 12 units, 5-grams */
    cm_minhash_signature(m, y, strlen(y), s2);
    CHECK(memcmp(s1, s2, (size_t)np * 4) == 0);
    CHECK(cm_shingle_jaccard(m, x, strlen(x), y, strlen(y)) == 1.0);
    CHECK(cm_shingle_jaccard(m, x, strlen(x), z, strlen(z)) < 0.5); /* 5 of 8 shingles hold the number */
    cm_minhash_params pf = p;
    pf.fold_digits = 1;
    cm_minhasher *mf = cm_minhasher_create(&pf);
    CHECK(cm_shingle_jaccard(mf, x, strlen(x), z, strlen(z)) == 1.0);
    cm_minhasher_free(mf);

    /* Chinese: one unit per character; mixed text run by run */
    const char *zh = "我们的茶很好";
    CHECK(cm_minhash_signature(m, zh, strlen(zh), s1) == 2);
    /* ideographs are told from their bytes (lead E4-E9); a Yijing hexagram
     * (U+4DC0..U+4DFF, E4 B7 xx) among them separates, as a space does */
    const char *hexagram = "我们的茶\u4dc0很好的茶叶", *spaced = "我们的茶 很好的茶叶";
    CHECK(cm_shingle_jaccard(m, hexagram, strlen(hexagram), spaced, strlen(spaced)) == 1.0);
    const char *mixed = "数据 cleaning 很重要";
    CHECK(cm_minhash_signature(m, mixed, strlen(mixed), s1) == 2); /* 数 据 cleaning 很 重 要 */
    /* a short text is one shingle; an empty one none */
    CHECK(cm_minhash_signature(m, "two words", 9, s1) == 1);
    CHECK(cm_minhash_signature(m, " ,.! ", 5, s1) == 0);
    CHECK(s1[0] == 0xFFFFFFFFu && s1[np - 1] == 0xFFFFFFFFu);

    /* deterministic; another seed gives other values */
    cm_buf t;
    cm_buf_init(&t);
    random_text(&t, 300);
    cm_minhash_signature(m, t.data, t.len, s1);
    cm_minhash_signature(m, t.data, t.len, s2);
    CHECK(memcmp(s1, s2, (size_t)np * 4) == 0);
    cm_minhash_params p2 = p;
    p2.seed = 2;
    cm_minhasher *m2 = cm_minhasher_create(&p2);
    cm_minhash_signature(m2, t.data, t.len, s2);
    CHECK(cm_minhash_similarity(s1, s2, (size_t)np) < 0.1);
    cm_minhasher_free(m2);

    /* the estimate follows the exact Jaccard; near pairs share a band, far
     * pairs do not */
    cm_buf u, v;
    cm_buf_init(&u);
    cm_buf_init(&v);
    double err_sum = 0;
    int near_found = 0, far_found = 0, pairs = 40;
    for (int k = 0; k < pairs; k++) {
        random_text(&u, 200);
        /* v: u with every 40th word replaced (J about 0.8 for 5-grams) */
        cm_buf_clear(&v);
        char *copy = cm_strdup(u.data), *save = NULL;
        int w = 0;
        for (char *tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save), w++)
            cm_buf_appendf(&v, "%s%s", w ? " " : "", w % 40 == 7 ? "changed" : tok);
        free(copy);
        double j = cm_shingle_jaccard(m, u.data, u.len, v.data, v.len);
        cm_minhash_signature(m, u.data, u.len, s1);
        cm_minhash_signature(m, v.data, v.len, s2);
        err_sum += fabs(cm_minhash_similarity(s1, s2, (size_t)np) - j);
        cm_minhash_bands(m, s1, b1);
        cm_minhash_bands(m, s2, b2);
        int shared = 0;
        for (int i = 0; i < p.bands; i++) shared |= b1[i] == b2[i];
        near_found += shared;
        random_text(&v, 200);
        cm_minhash_signature(m, v.data, v.len, s2);
        cm_minhash_bands(m, s2, b2);
        shared = 0;
        for (int i = 0; i < p.bands; i++) shared |= b1[i] == b2[i];
        far_found += shared;
    }
    double mean_err = err_sum / pairs;
    printf("mean |estimate - exact| = %.3f; near pairs sharing a band %d of %d\n", mean_err, near_found, pairs);
    CHECK(mean_err < 0.06); /* one standard deviation at J = 0.8 over 112 values is 0.038 */
    if (near_found < 32) fprintf(stderr, "near pairs sharing a band: %d of %d\n", near_found, pairs);
    CHECK(near_found >= 32); /* P = 1 - (1 - 0.8^8)^14 = 0.92 at J = 0.8 */
    CHECK(far_found == 0);

    /* the AVX-512 kernel (where the CPU has it), AVX2 and the portable loop
     * give the same signature: 112 functions (all in the first), 120 (8 left
     * for AVX2), 15 (8 for AVX2, 7 for the portable loop) */
    static const int shapes[][2] = {{14, 8}, {15, 8}, {5, 3}};
    for (int sh = 0; sh < 3; sh++) {
        cm_minhash_params q = p;
        q.bands = shapes[sh][0];
        q.rows = shapes[sh][1];
        cm_minhasher *fast = cm_minhasher_create(&q);
        setenv("CORPUSMILL_NO_AVX512", "1", 1);
        cm_minhasher *plain = cm_minhasher_create(&q);
        unsetenv("CORPUSMILL_NO_AVX512");
        uint32_t sf[120], sp[120];
        int same = 1;
        for (int k = 0; k < 20; k++) {
            random_text(&u, 50 + 40 * k);
            if (k % 2) cm_buf_append_str(&u, " 数据清洗很重要，去重也一样重要。");
            cm_minhash_signature(fast, u.data, u.len, sf);
            cm_minhash_signature(plain, u.data, u.len, sp);
            same &= memcmp(sf, sp, (size_t)(q.bands * q.rows) * sizeof *sf) == 0;
        }
        CHECK(same);
        cm_minhasher_free(fast);
        cm_minhasher_free(plain);
    }

    /* ASCII taken 16 bytes at a time gives the units a byte at a time does:
     * the same text with each space a dash (U+2014, a separator too, and
     * non-ASCII, so no block of it is all ASCII) has the same signature;
     * words of every length, runs of separators and digits, both foldings */
    for (int fold = 0; fold < 2; fold++) {
        cm_minhash_params q = p;
        q.fold_digits = fold;
        cm_minhasher *mm = cm_minhasher_create(&q);
        int same = 1, units_seen = 0;
        for (int k = 0; k < 300; k++) {
            cm_buf_clear(&u);
            cm_buf_clear(&v);
            int words = 5 + (int)(rnd() % 60);
            for (int w = 0; w < words; w++) {
                int len = 1 + (int)(rnd() % (rnd() % 4 ? 9 : 40));
                for (int j = 0; j < len; j++) {
                    unsigned r = rnd() % 64;
                    char c = r < 26 ? (char)('a' + r) : r < 52 ? (char)('A' + r - 26) : r < 62 ? (char)('0' + r - 52) : '_';
                    cm_buf_append_char(&u, c);
                    cm_buf_append_char(&v, c);
                }
                int seps = 1 + (int)(rnd() % 3);
                for (int j = 0; j < seps; j++) {
                    cm_buf_append_char(&u, j == 1 ? ',' : ' ');
                    cm_buf_append_str(&v, j == 1 ? "," : "\xE2\x80\x94");
                }
            }
            units_seen += cm_minhash_signature(mm, u.data, u.len, s1) > 0;
            cm_minhash_signature(mm, v.data, v.len, s2);
            same &= memcmp(s1, s2, (size_t)np * 4) == 0;
        }
        CHECK(same);
        CHECK(units_seen > 250);
        cm_minhasher_free(mm);
    }

    /* parameters out of range */
    cm_minhash_params bad = p;
    bad.rows = 0;
    CHECK(cm_minhasher_create(&bad) == NULL);
    bad = p;
    bad.ngram = 100;
    CHECK(cm_minhasher_create(&bad) == NULL);

    cm_buf_free(&t);
    cm_buf_free(&u);
    cm_buf_free(&v);
    free(s1);
    free(s2);
    free(b1);
    free(b2);
    cm_minhasher_free(m);
    CHECK_DONE();
}
