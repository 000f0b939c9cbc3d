/* fuzz_sigfile.c -- the MinHash signature files the dedup steps hand each
 * other: headers with the wrong parameters, truncated records, lies about
 * counts. */
#include "fuzz_util.h"
#include "sigfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(data, size, ".sig");
    cm_minhash_params p;
    cm_minhash_params_default(&p);
    cm_err err = {0};
    cm_sigreader *r = cm_sigreader_open(path, &p, 0, &err);
    if (!r) return 0;
    cm_sigrec rec;
    uint64_t n = 0;
    while (cm_sigreader_next(r, &rec, &err) == 1 && n < (1u << 22)) n++;
    cm_sigreader_close(r);
    return 0;
}
