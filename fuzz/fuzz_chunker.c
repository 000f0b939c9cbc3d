/* fuzz_chunker.c -- the chunker: Markdown headings and fences, sentence
 * ends in any script, limits and overlaps from the first bytes. Every chunk
 * must lie inside the document and respect the limit (in code points). */
#include "fuzz_util.h"
#include "chunker.h"

/* the hash model's unit: code points (a limit below one character is not
 * meaningful, so bytes would be the wrong unit for the limit check) */
static size_t code_points(void *user, const char *text, size_t len)
{
    (void)user;
    size_t n = 0;
    for (size_t i = 0; i < len; i++) n += ((unsigned char)text[i] & 0xC0) != 0x80;
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3) return 0;
    cm_chunker_opts o = {.max_units = 1 + data[0] % 200, .overlap = 0, .markdown = data[2] & 1};
    o.overlap = data[1] % o.max_units;
    cm_chunker *c = cm_chunker_create(&o, code_points, NULL);
    if (!c) return 0;
    const cm_chunk *chunks;
    const char *text = (const char *)data + 3;
    size_t len = size - 3;
    size_t n = cm_chunker_split(c, text, len, &chunks);
    for (size_t i = 0; i < n; i++) {
        const cm_chunk *k = &chunks[i];
        if (k->bytes.begin > k->bytes.end || k->bytes.end > len || k->units > o.max_units) abort();
    }
    cm_chunker_free(c);
    return 0;
}
