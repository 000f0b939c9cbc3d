/* fuzz_wordpiece.c -- the vocab.txt loader and the BERT tokenizer: the
 * input up to its first NUL byte is a vocab file, the rest is text to
 * tokenize (cased and uncased). */
#include "fuzz_util.h"
#include "wordpiece.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    size_t vocab_len = nul ? (size_t)(nul - data) : size;
    const char *text = (const char *)data + (nul ? vocab_len + 1 : size);
    size_t text_len = nul ? size - vocab_len - 1 : 0;
    const char *path = fuzz_file(data, vocab_len, ".vocab.txt");
    for (int lower = 0; lower < 2; lower++) {
        cm_err err;
        cm_wordpiece *w = cm_wordpiece_load(path, lower, &err);
        if (!w) continue;
        int32_t ids[512];
        cm_wordpiece_encode(w, text, text_len, ids, 512);
        cm_buf toks;
        cm_buf_init(&toks);
        cm_wordpiece_tokens(w, text, text_len, &toks);
        cm_buf_free(&toks);
        (void)cm_wordpiece_count(w, text, text_len);
        cm_wordpiece_free(w);
    }
    return 0;
}
