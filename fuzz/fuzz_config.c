/* fuzz_config.c -- the YAML config loader with every section's checks (the
 * core's and every stage's, as the program loads it):
 * wrong types, unknown keys, anchors, deep nesting, huge numbers. */
#include "fuzz_util.h"
#include "config.h"
#include "../programs/program.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(data, size, ".yaml");
    cm_err err = {0};
    cm_config *cfg = cm_program_config(path, &err);
    if (cfg) cm_config_free(cfg);
    return 0;
}
