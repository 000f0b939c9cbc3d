/* npy.c -- the .npy writer (see npy.h). */
#include "npy.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* magic, version, header length and the dict, padded with spaces and a
 * newline to a multiple of 64 as the format asks; room for any row count. */
#define HEADER_BYTES 128

struct cm_npy_writer {
    FILE *f;
    char *path;
    cm_npy_dtype dtype;
    size_t cols;
    uint64_t rows;
    int failed;
};

static void format_header(const cm_npy_writer *w, unsigned char out[HEADER_BYTES])
{
    char dict[HEADER_BYTES];
    const char *descr = w->dtype == CM_NPY_F32 ? "<f4" : "<i8";
    int n;
    if (w->cols)
        n = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (%" PRIu64 ", %zu), }",
                     descr, w->rows, w->cols);
    else
        n = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (%" PRIu64 ",), }", descr,
                     w->rows);
    memcpy(out, "\x93NUMPY\x01\x00", 8);
    uint16_t len = HEADER_BYTES - 10;
    out[8] = (unsigned char)(len & 0xff);
    out[9] = (unsigned char)(len >> 8);
    memset(out + 10, ' ', HEADER_BYTES - 10);
    memcpy(out + 10, dict, (size_t)n); /* n < 118: rows and cols are at most 20 digits each */
    out[HEADER_BYTES - 1] = '\n';
}

static int io_error(cm_npy_writer *w, cm_err *err)
{
    w->failed = 1;
    return cm_errorf(err, "%s: %s", w->path, strerror(errno ? errno : EIO));
}

cm_npy_writer *cm_npy_create(const char *path, cm_npy_dtype dtype, size_t cols, cm_err *err)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        cm_errorf(err, "%s: %s", path, strerror(errno));
        return NULL;
    }
    cm_npy_writer *w = cm_calloc(1, sizeof *w);
    w->f = f;
    w->path = cm_strdup(path);
    w->dtype = dtype;
    w->cols = cols;
    unsigned char header[HEADER_BYTES];
    format_header(w, header);
    if (fwrite(header, 1, HEADER_BYTES, f) != HEADER_BYTES) {
        io_error(w, err);
        fclose(f);
        free(w->path);
        free(w);
        return NULL;
    }
    return w;
}

int cm_npy_append(cm_npy_writer *w, const void *values, size_t rows, cm_err *err)
{
    size_t n = rows * (w->cols ? w->cols : 1);
    if (n && fwrite(values, w->dtype == CM_NPY_F32 ? 4 : 8, n, w->f) != n) return io_error(w, err);
    w->rows += rows;
    return 0;
}

int cm_npy_close(cm_npy_writer *w, cm_err *err)
{
    int rc = w->failed ? -1 : 0;
    unsigned char header[HEADER_BYTES];
    format_header(w, header);
    if (!rc && (fseek(w->f, 0, SEEK_SET) || fwrite(header, 1, HEADER_BYTES, w->f) != HEADER_BYTES))
        rc = io_error(w, err);
    if (fclose(w->f) && !rc) rc = io_error(w, err);
    free(w->path);
    free(w);
    return rc;
}

/* ---- reading ---- */

void *cm_npy_load(const char *path, cm_npy_dtype dtype, size_t *rows, size_t *cols, cm_err *err)
{
    /* the header, then the data read straight into the array */
    FILE *f = fopen(path, "rb");
    if (!f) { cm_errorf(err, "%s: %s", path, strerror(errno)); return NULL; }
    unsigned char pre[12];
    char dict[1024];
    size_t hl = 0, off = 0;
    void *out = NULL;
    if (fread(pre, 1, 10, f) != 10 || memcmp(pre, "\x93NUMPY", 6)) goto bad;
    if (pre[6] == 1) { hl = (size_t)pre[8] | (size_t)pre[9] << 8; off = 10; }
    else if (pre[6] == 2 || pre[6] == 3) {
        if (fread(pre + 10, 1, 2, f) != 2) goto bad;
        hl = (size_t)pre[8] | (size_t)pre[9] << 8 | (size_t)pre[10] << 16 | (size_t)pre[11] << 24;
        off = 12;
    } else goto bad;
    if (hl == 0 || hl >= sizeof dict || fread(dict, 1, hl, f) != hl) goto bad;
    dict[hl] = 0;
    const char *want = dtype == CM_NPY_F32 ? "'<f4'" : "'<i8'";
    if (!strstr(dict, want)) {
        cm_errorf(err, "%s: not a %s array (header %s)", path, want, dict);
        fclose(f);
        return NULL;
    }
    const char *shape = strstr(dict, "'shape': (");
    if (!strstr(dict, "'fortran_order': False") || !shape) goto bad;
    unsigned long long r = 0, c = 0;
    int got = sscanf(shape + 10, "%llu, %llu", &r, &c);
    if (got < 1) goto bad;
    size_t item = dtype == CM_NPY_F32 ? 4 : 8, n = (size_t)r * (got == 2 ? (size_t)c : 1), bytes = n * item;
    if (fseek(f, 0, SEEK_END) || (size_t)ftell(f) != off + hl + bytes) {
        cm_errorf(err, "%s: the file does not hold %zu values of %zu bytes (truncated?)", path, n, item);
        fclose(f);
        return NULL;
    }
    fseek(f, (long)(off + hl), SEEK_SET);
    out = cm_malloc(bytes ? bytes : 1);
    if (bytes && fread(out, 1, bytes, f) != bytes) {
        free(out);
        goto bad;
    }
    fclose(f);
    *rows = (size_t)r;
    *cols = got == 2 ? (size_t)c : 0;
    return out;
bad:
    cm_errorf(err, "%s: not a .npy file this reader understands", path);
    fclose(f);
    return NULL;
}
