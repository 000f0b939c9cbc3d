/* test_wordpiece.c -- the WordPiece tokenizer on hand-checked cases in
 * English, Chinese and mixed text (Hugging Face BertTokenizer semantics). */
#include "check.h"
#include "wordpiece.h"

#include <stdlib.h>

static const char *const VOCAB[] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "the",  "quick", "brown", "fox", "un",
                                    "##aff", "##able", "hello", "world", ",",    ".",     "!",     "中",  "文",
                                    "##s",   "cafe",   "run",   "(",     ")",    "数",    "据",    "naive"};

static const char *tok(cm_wordpiece *w, const char *text)
{
    static cm_buf b;
    cm_wordpiece_tokens(w, text, strlen(text), &b);
    return b.data;
}

int main(void)
{
    cm_err err;
    size_t nv = sizeof VOCAB / sizeof VOCAB[0];
    cm_wordpiece *w = cm_wordpiece_create(VOCAB, nv, 1, &err);
    CHECK(w != NULL);

    CHECK_STR(tok(w, "UNaffable"), "un ##aff ##able");         /* Hugging Face's own example */
    CHECK_STR(tok(w, "Hello, World!"), "hello , world !");     /* punctuation splits */
    CHECK_STR(tok(w, "中文"), "中 文");                          /* spaces around CJK ideographs */
    CHECK_STR(tok(w, "the中文fox"), "the 中 文 fox");
    CHECK_STR(tok(w, "Café naïve"), "cafe naive");             /* lowercase, accents stripped */
    CHECK_STR(tok(w, "runs"), "run ##s");                      /* longest match first, ## continuation */
    CHECK_STR(tok(w, "xyz"), "[UNK]");                         /* no piece: the whole word */
    CHECK_STR(tok(w, "hello\x01world"), "[UNK]");              /* controls removed, the word joined */
    CHECK_STR(tok(w, "the\xe3\x80\x80" "fox\tthe\r\nfox"), "the fox the fox"); /* Zs and \t \r \n are spaces */
    CHECK_STR(tok(w, "(数据)"), "( 数 据 )");
    CHECK_STR(tok(w, ""), "");
    {
        char longw[160];
        memset(longw, 'a', 150);
        longw[150] = 0;
        CHECK_STR(tok(w, longw), "[UNK]"); /* over 100 characters */
    }

    int32_t ids[16];
    size_t n = cm_wordpiece_encode(w, "the quick brown fox", 19, ids, 16);
    CHECK(n == 6 && ids[0] == 2 && ids[1] == 4 && ids[2] == 5 && ids[3] == 6 && ids[4] == 7 && ids[5] == 3);
    n = cm_wordpiece_encode(w, "the quick brown fox", 19, ids, 4); /* truncated, [SEP] kept */
    CHECK(n == 4 && ids[0] == 2 && ids[1] == 4 && ids[2] == 5 && ids[3] == 3);
    CHECK(cm_wordpiece_id(w, "##aff") == 9 && cm_wordpiece_id(w, "nope") == -1);
    cm_wordpiece_free(w);

    /* without lowercasing, case and accents stay */
    w = cm_wordpiece_create(VOCAB, nv, 0, &err);
    CHECK_STR(tok(w, "Hello the"), "[UNK] the");
    CHECK_STR(tok(w, "café"), "[UNK]");
    cm_wordpiece_free(w);

    /* a vocabulary file, and one without the special tokens */
    FILE *f = fopen("/tmp/cm-vocab-test.txt", "w");
    for (size_t i = 0; i < nv; i++) fprintf(f, "%s\n", VOCAB[i]);
    fclose(f);
    w = cm_wordpiece_load("/tmp/cm-vocab-test.txt", 1, &err);
    CHECK(w != NULL);
    CHECK(w && cm_wordpiece_id(w, "naive") == 25);
    cm_wordpiece_free(w);
    f = fopen("/tmp/cm-vocab-test.txt", "w");
    fputs("a\nb\n", f);
    fclose(f);
    CHECK(cm_wordpiece_load("/tmp/cm-vocab-test.txt", 1, &err) == NULL);
    CHECK_CONTAINS(err.msg, "/tmp/cm-vocab-test.txt");
    CHECK_CONTAINS(err.msg, "[UNK]");

    /* found by fuzz_wordpiece: an empty file was read past its end */
    f = fopen("/tmp/cm-vocab-test.txt", "w");
    fclose(f);
    CHECK(cm_wordpiece_load("/tmp/cm-vocab-test.txt", 1, &err) == NULL);
    CHECK_CONTAINS(err.msg, "[UNK]");
    /* an empty line is a token with its id (HF's load_vocab), not the end:
     * the tokens after it keep their ids; no final newline is fine */
    f = fopen("/tmp/cm-vocab-test.txt", "w");
    fputs("[PAD]\n\n[UNK]\r\n[CLS]\n[SEP]\nhello", f);
    fclose(f);
    w = cm_wordpiece_load("/tmp/cm-vocab-test.txt", 1, &err);
    CHECK(w != NULL);
    CHECK(w && cm_wordpiece_id(w, "[UNK]") == 2);
    CHECK(w && cm_wordpiece_id(w, "hello") == 5);
    cm_wordpiece_free(w);
    /* a NUL byte: not a vocab file */
    f = fopen("/tmp/cm-vocab-test.txt", "w");
    fwrite("[UNK]\n[CLS]\n[SEP]\nx\0y\n", 1, 20, f);
    fclose(f);
    CHECK(cm_wordpiece_load("/tmp/cm-vocab-test.txt", 1, &err) == NULL);
    CHECK_CONTAINS(err.msg, "line 4 has a NUL byte");
    remove("/tmp/cm-vocab-test.txt");
    CHECK_DONE();
}
