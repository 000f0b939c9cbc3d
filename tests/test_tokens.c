/* test_tokens.c -- the fast tokenizer against a plain reference that
 * decodes one code point at a time (the tokenizer takes ASCII words 16
 * bytes at a time and starts them without decoding), on generated text of
 * words, joiners, digits, CJK, kana, hangul, spaces and symbols on both
 * sides of 16-byte blocks. */
#include "check.h"
#include "tokens.h"

typedef struct ref_token {
    size_t start, len;
    uint32_t chars;
    int is_word, has_alpha, is_cjk;
} ref_token;

static int plain_word(uint32_t c) { return cm_is_wordch(c) && !cm_is_han(c) && !cm_is_kana_hangul(c); }

/* The rules of tokens.h, one code point at a time. A joiner's neighbour
 * before it is its previous byte, as the tokenizer reads it. */
static size_t reference(const char *text, ref_token *out)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t len = strlen(text), i = 0, n = 0, k, k2;
    while (i < len) {
        uint32_t c = cm_utf8_decode_at(s, len, i, &k);
        size_t st = i;
        uint32_t chars = 0;
        int alpha = 0;
        if (cm_is_han(c)) {
            out[n++] = (ref_token){st, k, 1, 1, 1, 1};
            i += k;
        } else if (cm_is_space(c)) {
            i += k;
        } else if (cm_is_kana_hangul(c)) {
            while (i < len && cm_is_kana_hangul(cm_utf8_decode_at(s, len, i, &k))) i += k, chars++;
            out[n++] = (ref_token){st, i - st, chars, 1, 1, 1};
        } else if (plain_word(c)) {
            while (i < len) {
                uint32_t d = cm_utf8_decode_at(s, len, i, &k);
                if (plain_word(d)) {
                    alpha |= cm_is_alpha(d);
                    i += k, chars++;
                    continue;
                }
                if (!cm_is_joiner(d) || i + k >= len) break;
                uint32_t e = cm_utf8_decode_at(s, len, i + k, &k2);
                if (!plain_word(e)) break;
                if (d == ',' && !(s[i - 1] >= '0' && s[i - 1] <= '9' && e >= '0' && e <= '9')) break;
                if (d == '-' && !(cm_is_alpha(e) && cm_is_alpha(s[i - 1]))) break;
                i += k, chars++;
            }
            out[n++] = (ref_token){st, i - st, chars, 1, alpha, 0};
        } else {
            while (i < len && cm_utf8_decode_at(s, len, i, &k) == c) i += k, chars++;
            out[n++] = (ref_token){st, i - st, chars, 0, 0, 0};
        }
    }
    return n;
}

int main(void)
{
    static const char *const pieces[] = {
        "word", "Word", "x", "_", "9", "3,000", "well-known", "U.S.", "it's", "a-", "-b", ",", ".", "..", "--", " ",
        " ", " ", "\n", "\t", "\r", "é", "café", "Ω", "漢", "字", "カタカナ", "한국", "。", "！", "…", "\xF0\x9F\x98\x80",
        "٣", "ª", "e\xCC\x81", "’", "·", "abcdefghijklmnopqrstuvwxyz0123456789", "ABCDEFGHIJKLMNOP_qrst", "\xE3\x80\x80"};
    const size_t np = sizeof pieces / sizeof *pieces;
    uint64_t rng = 0x2545F4914F6CDD1DULL;
    cm_tokenizer tz;
    cm_tokenizer_init(&tz);
    static ref_token want[4096];
    int differ = 0;
    size_t tokens = 0;
    for (int round = 0; round < 3000; round++) {
        char text[2048] = "";
        rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
        int n = 1 + (int)((rng >> 33) % 40);
        for (int i = 0; i < n; i++) {
            rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
            strcat(text, pieces[(rng >> 33) % np]);
        }
        size_t nw = reference(text, want);
        cm_tokenize(&tz, CM_WORDS_FAST, text, strlen(text));
        int bad = tz.n != nw;
        for (size_t i = 0; !bad && i < nw; i++) {
            const cm_token *t = &tz.tok[i];
            bad = t->start != want[i].start || t->len != want[i].len || t->chars != want[i].chars ||
                  t->is_word != want[i].is_word || t->has_alpha != want[i].has_alpha || t->is_cjk != want[i].is_cjk ||
                  t->hash != cm_hash_bytes(text + t->start, t->len);
        }
        if (bad && differ++ < 3) fprintf(stderr, "tokens differ from the reference on [%s]\n", text);
        tokens += nw;
    }
    CHECK(differ == 0);
    CHECK(tokens > 30000);
    cm_tokenizer_free(&tz);
    CHECK_DONE();
}
