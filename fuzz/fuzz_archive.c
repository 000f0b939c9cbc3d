/* fuzz_archive.c -- the archive and compression reader (gzip, zstd, xz,
 * bzip2, tar, zip, and plain text, told apart by their bytes): every member
 * read to the end, or to the first error. */
#include "fuzz_util.h"
#include "source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* the name says nothing: the bytes decide */
    const char *path = fuzz_file(data, size, ".bin");
    cm_err err = {0};
    cm_source *src = cm_source_open(path, &err);
    if (!src) return 0;
    const char *member;
    char buf[65536];
    size_t total = 0;
    int r;
    while ((r = cm_source_next_member(src, &member, &err)) == 1) {
        long n;
        while ((n = cm_source_read(src, buf, sizeof buf, &err)) > 0) {
            total += (size_t)n;
            if (total > (64u << 20)) break; /* a bomb: the cap is the pipeline's business */
        }
        if (n < 0 || total > (64u << 20)) break;
    }
    cm_source_close(src);
    return 0;
}
