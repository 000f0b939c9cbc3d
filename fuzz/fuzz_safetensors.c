/* fuzz_safetensors.c -- the safetensors header parser: offsets past the
 * end or overlapping, shapes that disagree with sizes, odd dtypes; every
 * tensor it accepts is converted to float32. */
#include "fuzz_util.h"
#include "safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(data, size, ".safetensors");
    cm_err err = {0};
    cm_safetensors *st = cm_safetensors_open(path, &err);
    if (!st) return 0;
    for (size_t i = 0; i < cm_safetensors_count(st); i++) {
        const cm_tensor *t = cm_safetensors_at(st, i);
        if (t->count > (1u << 20)) continue;
        float *out = malloc((t->count ? t->count : 1) * sizeof *out);
        cm_tensor_to_f32(t, out);
        free(out);
    }
    cm_safetensors_close(st);
    return 0;
}
