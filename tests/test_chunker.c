/* test_chunker.c -- the sentence-aware chunker: English and Chinese sentence
 * ends, Markdown heading paths (and fences that hide headings), sentences
 * and words longer than the limit cut without losing text, overlap made of
 * whole words, character offsets, and two properties over generated text:
 * every chunk within the limit, and every non-space byte in some chunk
 * (exactly one when there is no overlap). */
#include "check.h"
#include "chunker.h"
#include "util.h"

#include <stdlib.h>

static size_t chars(void *user, const char *s, size_t n)
{
    (void)user;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) k += ((unsigned char)s[i] & 0xC0) != 0x80;
    return k;
}

static cm_chunker *make(size_t max, size_t overlap)
{
    cm_chunker_opts o = {max, overlap, 1};
    return cm_chunker_create(&o, chars, NULL);
}

static char out[64][512];

/* The chunks' texts into out[]; returns how many. */
static size_t split(cm_chunker *c, const char *text, const cm_chunk **ks)
{
    size_t n = cm_chunker_split(c, text, strlen(text), ks);
    for (size_t i = 0; i < n && i < 64; i++)
        snprintf(out[i], sizeof out[i], "%.*s", (int)((*ks)[i].bytes.end - (*ks)[i].bytes.begin), text + (*ks)[i].bytes.begin);
    return n;
}

static void path(const char *text, const cm_chunk *k, char *buf, size_t cap)
{
    buf[0] = 0;
    for (int d = 0; d < k->depth; d++) {
        size_t l = strlen(buf);
        snprintf(buf + l, cap - l, "%s%.*s", d ? " > " : "", (int)(k->heading[d].end - k->heading[d].begin),
                 text + k->heading[d].begin);
    }
}

static void test_sentences(void)
{
    const cm_chunk *ks;
    cm_chunker *c = make(40, 0);
    size_t n = split(c, "One sentence is here. Two sentences are there! Is three? Dr. no 3.14 ok.", &ks);
    CHECK(n == 3);
    CHECK_STR(out[0], "One sentence is here.");
    CHECK_STR(out[1], "Two sentences are there! Is three?");
    CHECK_STR(out[2], "Dr. no 3.14 ok.");
    for (size_t i = 0; i < n; i++) CHECK(ks[i].units <= 40);

    n = split(c, "今天天气很好。我们去公园散步吧！你来吗？好的……那就走“现在”。最后一句没有句号", &ks);
    cm_chunker_free(c);
    c = make(12, 0);
    n = split(c, "今天天气很好。我们去公园散步吧！你来吗？好的……那就走“现在”。最后一句没有句号", &ks);
    CHECK(n == 5);
    CHECK_STR(out[0], "今天天气很好。");
    CHECK_STR(out[1], "我们去公园散步吧！"); /* 9 + 4 > 12 */
    CHECK_STR(out[2], "你来吗？好的……");
    cm_chunker_free(c);
    c = make(13, 0);
    n = split(c, "今天天气很好。我们去公园散步吧！你来吗？好的……那就走“现在”。最后一句没有句号", &ks);
    CHECK(n == 4);
    CHECK_STR(out[0], "今天天气很好。");
    CHECK_STR(out[1], "我们去公园散步吧！你来吗？");
    CHECK_STR(out[2], "好的……那就走“现在”。");
    CHECK_STR(out[3], "最后一句没有句号");
    /* offsets in characters */
    CHECK(ks[1].char_begin == 7 && ks[1].char_end == 20);
    CHECK(ks[3].char_begin == 32 && ks[3].char_end == 40);
    /* ! and ? after Chinese, as NFKC writes them, end sentences too */
    n = split(c, "你好!我很好?谢谢;再见", &ks);
    CHECK(n == 1);
    cm_chunker_free(c);
    c = make(4, 0);
    n = split(c, "你好!我很好?谢谢;再见", &ks);
    CHECK(n == 4);
    CHECK_STR(out[0], "你好!");
    CHECK_STR(out[1], "我很好?");
    CHECK_STR(out[2], "谢谢;");
    cm_chunker_free(c);
    /* line breaks end sentences */
    c = make(10, 0);
    n = split(c, "short one\nshort two\n\n\nthree", &ks);
    CHECK(n == 3);
    CHECK_STR(out[1], "short two");
    CHECK_STR(out[2], "three");
    cm_chunker_free(c);
}

static void test_markdown(void)
{
    const char *md = "Preface line.\n"
                     "# Guide\n"
                     "Intro text.\n"
                     "## Install #\n"
                     "Run make.\n"
                     "```\n"
                     "# not a heading\n"
                     "```\n"
                     "### Debian\n"
                     "apt-get it.\n"
                     "## Use\n"
                     "Call it.\n"
                     "#hashtag is not a heading\n"
                     "# Appendix\n"
                     "## Tables\n"
                     "A table.\n";
    const cm_chunk *ks;
    cm_chunker *c = make(1000, 0);
    size_t n = split(c, md, &ks);
    CHECK(n == 6);
    char p[256];
    path(md, &ks[0], p, sizeof p);
    CHECK_STR(p, "");
    CHECK_STR(out[0], "Preface line.");
    path(md, &ks[1], p, sizeof p);
    CHECK_STR(p, "Guide");
    CHECK_STR(out[1], "# Guide\nIntro text.");
    path(md, &ks[2], p, sizeof p);
    CHECK_STR(p, "Guide > Install");
    CHECK_CONTAINS(out[2], "# not a heading"); /* inside the fence */
    path(md, &ks[3], p, sizeof p);
    CHECK_STR(p, "Guide > Install > Debian");
    path(md, &ks[4], p, sizeof p);
    CHECK_STR(p, "Guide > Use");
    CHECK_STR(out[4], "## Use\nCall it.\n#hashtag is not a heading");
    /* a heading with only a subheading under it joins the subheading's chunk */
    path(md, &ks[5], p, sizeof p);
    CHECK_STR(p, "Appendix > Tables");
    CHECK_STR(out[5], "# Appendix\n## Tables\nA table.");
    cm_chunker_free(c);
    /* markdown off: one section */
    cm_chunker_opts o = {1000, 0, 0};
    c = cm_chunker_create(&o, chars, NULL);
    CHECK(split(c, md, &ks) == 1 && ks[0].depth == 0);
    cm_chunker_free(c);
}

static void test_long(void)
{
    const cm_chunk *ks;
    cm_chunker *c = make(50, 0);
    char text[4096] = "";
    for (int i = 0; i < 60; i++) strcat(text, i % 7 ? "word " : "longerword ");
    strcat(text, "end");
    size_t n = split(c, text, &ks), total = 0;
    CHECK(n > 5);
    for (size_t i = 0; i < n; i++) {
        CHECK(ks[i].units <= 50);
        CHECK(out[i][0] != ' ' && out[i][strlen(out[i]) - 1] != ' ');
        if (i) CHECK(text[ks[i].bytes.begin - 1] == ' '); /* cut between words */
        total += ks[i].bytes.end - ks[i].bytes.begin;
    }
    CHECK(total + n - 1 == strlen(text)); /* nothing lost but the spaces between chunks */

    /* one word longer than the limit: cut between characters */
    char word[600];
    memset(word, 'x', 500);
    word[500] = 0;
    n = split(c, word, &ks);
    CHECK(n == 10);
    for (size_t i = 0; i < n; i++) CHECK(ks[i].units == 50);
    cm_chunker_free(c);

    /* Chinese with no punctuation at all */
    c = make(10, 0);
    char zh[2048] = "";
    for (int i = 0; i < 35; i++) strcat(zh, "汉");
    n = split(c, zh, &ks);
    CHECK(n == 4 && ks[3].units == 5 && ks[3].char_begin == 30);
    cm_chunker_free(c);
}

static void test_overlap(void)
{
    const cm_chunk *ks;
    cm_chunker *c = make(40, 12);
    const char *t = "Alpha beta gamma delta. Epsilon zeta eta theta. Iota kappa lambda mu. Nu xi omicron pi.";
    size_t n = split(c, t, &ks);
    CHECK(n >= 3);
    for (size_t i = 1; i < n; i++) {
        CHECK(ks[i].bytes.begin < ks[i - 1].bytes.end);                    /* overlaps */
        CHECK(ks[i - 1].bytes.end - ks[i].bytes.begin <= 12);             /* by at most 12 chars */
        CHECK(ks[i].bytes.begin > ks[i - 1].bytes.begin);
        CHECK(t[ks[i].bytes.begin - 1] == ' ');                           /* at a word */
        CHECK(ks[i].units <= 40);
    }
    CHECK_STR(out[1], "gamma delta. Epsilon zeta eta theta."); /* 12 characters again */
    cm_chunker_free(c);
}

/* Generated mixed text: limits hold and nothing is lost. */
static void test_properties(void)
{
    static const char *const parts[] = {"The quick brown fox. ", "跳过了懒狗。", "Why? ", "真的吗？", "\n", "# Head\n",
                                        "averyveryverylongwordwithoutanyspacesatallreally ", "数据清洗", "ok! ", "\n\n",
                                        "“引号。”", "  "};
    uint64_t seed = 7;
    for (int round = 0; round < 300; round++) {
        char text[4096] = "";
        int np = 1 + (int)(seed % 40);
        for (int i = 0; i < np; i++) {
            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
            strcat(text, parts[(seed >> 33) % (sizeof parts / sizeof *parts)]);
        }
        size_t len = strlen(text), max = 8 + (size_t)(seed >> 40) % 60, overlap = round % 2 ? max / 4 : 0;
        cm_chunker *c = make(max, overlap);
        const cm_chunk *ks;
        size_t n = cm_chunker_split(c, text, len, &ks);
        unsigned char *covered = calloc(len + 1, 1);
        int bad = 0;
        for (size_t i = 0; i < n; i++) {
            if (ks[i].units > max || ks[i].bytes.end <= ks[i].bytes.begin) bad = 1;
            if (i && ks[i].bytes.begin < ks[i - 1].bytes.begin) bad = 1;
            for (size_t b = ks[i].bytes.begin; b < ks[i].bytes.end; b++) covered[b]++;
        }
        for (size_t b = 0; b < len; b++) {
            unsigned char ch = (unsigned char)text[b];
            int space = ch == ' ' || ch == '\n';
            if (!space && covered[b] == 0) bad = 1;
            if (!overlap && covered[b] > 1) bad = 1;
        }
        if (bad) fprintf(stderr, "round %d (max %zu, overlap %zu): %s\n", round, max, overlap, text);
        CHECK(!bad);
        free(covered);
        cm_chunker_free(c);
        if (bad) break;
    }
}

int main(void)
{
    const cm_chunk *ks;
    cm_chunker *c = make(100, 10);
    CHECK(cm_chunker_split(c, "", 0, &ks) == 0);
    CHECK(cm_chunker_split(c, " \n\t\n ", 5, &ks) == 0);
    cm_chunker_free(c);
    test_sentences();
    test_markdown();
    test_long();
    test_overlap();
    test_properties();
    CHECK_DONE();
}
