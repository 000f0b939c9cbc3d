/* npy.h -- a streaming writer (and a whole-file reader) of NumPy .npy files (format 1.0) holding a
 * float32 (little-endian) or int64 matrix, so numpy.load reads the embed
 * stage's outputs. Rows are appended as they come; the header is written
 * with room to spare and rewritten with the final row count on close. */
#ifndef CM_NPY_H
#define CM_NPY_H

#include <stddef.h>
#include <stdint.h>

#include "../pipeline/util.h"

typedef enum cm_npy_dtype { CM_NPY_F32, CM_NPY_I64 } cm_npy_dtype;

typedef struct cm_npy_writer cm_npy_writer;

/* cols: the row width; 0 writes a 1-D array (shape (rows,)). */
cm_npy_writer *cm_npy_create(const char *path, cm_npy_dtype dtype, size_t cols, cm_err *err);
/* Appends rows (rows * max(cols, 1) values of the writer's dtype). */
int cm_npy_append(cm_npy_writer *w, const void *values, size_t rows, cm_err *err);
/* Writes the final header and closes; frees w whatever happens. */
int cm_npy_close(cm_npy_writer *w, cm_err *err);

/* Reads a whole little-endian, C-order .npy file of dtype: rows, cols (0
 * for a 1-D array) and the values (free them). NULL with err naming the
 * file when it is something else or truncated. */
void *cm_npy_load(const char *path, cm_npy_dtype dtype, size_t *rows, size_t *cols, cm_err *err);

#endif
