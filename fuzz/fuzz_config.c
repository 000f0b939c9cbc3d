/* fuzz_config.c -- the YAML config loader with every section's checks:
 * wrong types, unknown keys, anchors, deep nesting, huge numbers. */
#include "fuzz_util.h"
#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(data, size, ".yaml");
    cm_err err = {0};
    cm_config *cfg = cm_config_load(path, &err);
    if (cfg) cm_config_free(cfg);
    return 0;
}
