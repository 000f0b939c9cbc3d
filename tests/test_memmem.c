/* test_memmem.c -- cm_memmem (pipeline/util.h) against a search at every
 * position, on strings over a three-letter alphabet (so that first and last
 * bytes match often and the bytes between decide), needles of every length
 * to 20, haystacks up to 100 bytes at every alignment. */
#include "check.h"
#include "util.h"

#include <stdlib.h>

static const char *naive(const char *h, size_t n, const char *needle, size_t k)
{
    for (size_t i = 0; i + k <= n; i++)
        if (!memcmp(h + i, needle, k)) return h + i;
    return NULL;
}

int main(void)
{
    char buf[128], needle[24];
    uint64_t x = 0x243F6A8885A308D3ULL;
    int differ = 0, found = 0;
    for (int round = 0; round < 60000; round++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        size_t n = (x >> 20) % 101, k = (x >> 40) % 21, off = (x >> 50) % 16;
        for (size_t i = 0; i < n; i++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            buf[off + i] = "ab\n"[(x >> 33) % 3];
        }
        /* half the needles are cut from the haystack, so that most are found */
        if (round % 2 && k <= n) {
            size_t at = (size_t)((x >> 13) % (n - k + 1));
            memcpy(needle, buf + off + at, k);
        } else {
            for (size_t i = 0; i < k; i++) {
                x = x * 6364136223846793005ULL + 1442695040888963407ULL;
                needle[i] = "ab\n"[(x >> 33) % 3];
            }
        }
        const char *want = naive(buf + off, n, needle, k), *got = cm_memmem(buf + off, n, needle, k);
        found += want != NULL;
        if (got != want && differ++ < 3)
            fprintf(stderr, "round %d: n %zu k %zu: at %ld, want %ld\n", round, n, k, got ? (long)(got - buf - off) : -1,
                    want ? (long)(want - buf - off) : -1);
    }
    CHECK(differ == 0);
    CHECK(found > 20000);
    CHECK_DONE();
}
