/* test_npy.c -- the .npy writer: the header numpy expects (magic, version,
 * a 64-byte-aligned dict with the final shape), the data after it, 2-D
 * float32 and 1-D int64, and an error naming an unwritable path;
 * numpy.load reads the files back (Debian's python3-numpy, hence
 * /usr/bin/python3: a pyenv or venv python on PATH may lack it). */
#include "check.h"
#include "npy.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static size_t read_all(const char *path, unsigned char *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

int main(void)
{
    cm_err err;
    const char *p = "/tmp/cm-npy-test.npy";
    cm_npy_writer *w = cm_npy_create(p, CM_NPY_F32, 3, &err);
    CHECK(w != NULL);
    float rows[6] = {1, 2, 3, 4, 5, 6.5f};
    CHECK(cm_npy_append(w, rows, 1, &err) == 0);
    CHECK(cm_npy_append(w, rows + 3, 1, &err) == 0);
    CHECK(cm_npy_close(w, &err) == 0);
    unsigned char buf[512];
    size_t n = read_all(p, buf, sizeof buf);
    CHECK(n == 128 + 24);
    CHECK(!memcmp(buf, "\x93NUMPY\x01\x00", 8));
    size_t hlen = buf[8] | (size_t)buf[9] << 8;
    CHECK((10 + hlen) % 64 == 0 && buf[10 + hlen - 1] == '\n');
    CHECK(memmem(buf, 128, "'shape': (2, 3)", 15) != NULL);
    CHECK(memmem(buf, 128, "'descr': '<f4'", 14) != NULL);
    CHECK(!memcmp(buf + 128, rows, 24));

    const char *q = "/tmp/cm-npy-test-ids.npy";
    w = cm_npy_create(q, CM_NPY_I64, 0, &err);
    int64_t ids[3] = {-1, 42, INT64_MAX};
    CHECK(w && cm_npy_append(w, ids, 3, &err) == 0 && cm_npy_close(w, &err) == 0);
    n = read_all(q, buf, sizeof buf);
    CHECK(n == 128 + 24 && memmem(buf, 128, "'shape': (3,)", 13) && memmem(buf, 128, "'<i8'", 5));
    CHECK(!memcmp(buf + 128, ids, 24));

    /* numpy itself reads them (python3-numpy is installed by scripts/setup.sh) */
    {
        CHECK(system("/usr/bin/python3 -c \"import numpy as np; a=np.load('/tmp/cm-npy-test.npy'); "
                     "b=np.load('/tmp/cm-npy-test-ids.npy'); "
                     "assert a.shape==(2,3) and a.dtype==np.float32 and a[1,2]==6.5; "
                     "assert b.tolist()==[-1,42,2**63-1]\"") == 0);
    }
    /* read back: shape, values; the wrong dtype and a truncated file refused */
    size_t r, c;
    float *back = cm_npy_load(p, CM_NPY_F32, &r, &c, &err);
    CHECK(back && r == 2 && c == 3 && back[5] == 6.5f);
    free(back);
    int64_t *iback = cm_npy_load(q, CM_NPY_I64, &r, &c, &err);
    CHECK(iback && r == 3 && c == 0 && iback[2] == INT64_MAX);
    free(iback);
    CHECK(cm_npy_load(q, CM_NPY_F32, &r, &c, &err) == NULL);
    CHECK_CONTAINS(err.msg, "not a '<f4' array");
    CHECK(truncate(p, 140) == 0);
    CHECK(cm_npy_load(p, CM_NPY_F32, &r, &c, &err) == NULL);
    CHECK_CONTAINS(err.msg, "truncated");
    CHECK(cm_npy_load("/nonexistent-dir/x.npy", CM_NPY_F32, &r, &c, &err) == NULL);
    CHECK_CONTAINS(err.msg, "/nonexistent-dir/x.npy");
    remove(p);
    remove(q);

    CHECK(cm_npy_create("/nonexistent-dir/x.npy", CM_NPY_F32, 4, &err) == NULL);
    CHECK_CONTAINS(err.msg, "/nonexistent-dir/x.npy");
    CHECK_DONE();
}
