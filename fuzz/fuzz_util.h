/* fuzz_util.h -- what the libFuzzer targets share: the input as a file
 * (the parsers under test read files, as the pipeline does). */
#ifndef CM_FUZZ_UTIL_H
#define CM_FUZZ_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Writes data to /dev/shm/cm-fuzz-PID<suffix> (memory, not disk) and
 * returns the path, which stays the same for the process. */
static inline const char *fuzz_file(const uint8_t *data, size_t size, const char *suffix)
{
    static char path[256];
    snprintf(path, sizeof path, "/dev/shm/cm-fuzz-%d%s", (int)getpid(), suffix);
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    if (size && fwrite(data, 1, size, f) != size) abort();
    fclose(f);
    return path;
}

#endif
