/* safetensors.h -- a validating reader of Hugging Face's safetensors files
 * (8-byte little-endian header length, a JSON header naming each tensor's
 * dtype, shape and byte range, then the raw data), for the embed stage.
 *
 * The file is memory-mapped and everything in it is checked before use:
 * header length inside the file, valid JSON of the expected shape, a
 * supported dtype (F32, F16, BF16), byte ranges inside the data section,
 * sized exactly as the shape says and not overlapping. A hostile or truncated
 * file gives an error naming the file and the tensor, never a crash. */
#ifndef CM_SAFETENSORS_H
#define CM_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "../pipeline/util.h"

#define CM_TENSOR_MAX_RANK 8

typedef enum cm_dtype { CM_DTYPE_F32, CM_DTYPE_F16, CM_DTYPE_BF16 } cm_dtype;

typedef struct cm_tensor {
    char *name;
    cm_dtype dtype;
    int rank;
    int64_t shape[CM_TENSOR_MAX_RANK];
    size_t count;      /* elements: the product of shape */
    const void *data;  /* inside the mapping, count elements of dtype */
    size_t begin, end; /* byte range in the data section */
} cm_tensor;

typedef struct cm_safetensors cm_safetensors;

/* Maps and validates path. NULL with err on any problem. */
cm_safetensors *cm_safetensors_open(const char *path, cm_err *err);
void cm_safetensors_close(cm_safetensors *st);

size_t cm_safetensors_count(const cm_safetensors *st);
const cm_tensor *cm_safetensors_at(const cm_safetensors *st, size_t i);
/* The tensor called name, or NULL. */
const cm_tensor *cm_safetensors_find(const cm_safetensors *st, const char *name);

/* Converts a tensor's elements to float32 (fp16 and bf16 exactly, with
 * subnormals, infinities and NaN). out holds t->count floats. */
void cm_tensor_to_f32(const cm_tensor *t, float *out);

/* One IEEE half-precision value (as bits) in single precision. */
float cm_f16_to_f32(uint16_t h);

#endif
