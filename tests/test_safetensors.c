/* test_safetensors.c -- the safetensors reader on a well-formed file (F32,
 * F16 and BF16 tensors converted exactly) and on hostile ones: truncated,
 * bad header length, bad JSON, unsupported dtype, offsets out of range,
 * sizes that disagree with the shape, overlapping tensors. */
#include "check.h"
#include "safetensors.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static const char *PATH = "/tmp/cm-safetensors-test.safetensors";

/* Writes header (as given) and data; header_len overrides the length field
 * when non-zero. */
static void write_file(const char *header, uint64_t header_len, const void *data, size_t data_len)
{
    FILE *f = fopen(PATH, "wb");
    uint64_t n = header_len ? header_len : strlen(header);
    unsigned char len[8];
    for (int i = 0; i < 8; i++) len[i] = (unsigned char)(n >> (8 * i));
    fwrite(len, 1, 8, f);
    fwrite(header, 1, strlen(header), f);
    if (data_len) fwrite(data, 1, data_len, f);
    fclose(f);
}

/* Opening must fail with a message containing want. */
static void expect_error(const char *header, uint64_t header_len, const void *data, size_t data_len,
                         const char *want)
{
    cm_err err;
    err.msg[0] = 0;
    write_file(header, header_len, data, data_len);
    cm_safetensors *st = cm_safetensors_open(PATH, &err);
    CHECK(st == NULL);
    cm_safetensors_close(st);
    CHECK_CONTAINS(err.msg, PATH);
    CHECK_CONTAINS(err.msg, want);
}

int main(void)
{
    /* F32 [2,2] at 0..16, F16 [3] at 16..22, BF16 [1] at 22..24 */
    unsigned char data[24];
    float f32[4] = {1.5f, -2.0f, 0.0f, 3.25f};
    memcpy(data, f32, 16);
    uint16_t f16[3] = {0x3c00 /* 1 */, 0xc000 /* -2 */, 0x0001 /* 2^-24 */};
    for (int i = 0; i < 3; i++) { data[16 + 2 * i] = (unsigned char)f16[i]; data[17 + 2 * i] = (unsigned char)(f16[i] >> 8); }
    data[22] = 0xc0; data[23] = 0x3f; /* bf16 0x3fc0 = 1.5 */
    const char *good = "{\"__metadata__\":{\"format\":\"pt\"},"
                       "\"bert.embeddings.word_embeddings.weight\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]},"
                       "\"b\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[16,22]},"
                       "\"c\":{\"dtype\":\"BF16\",\"shape\":[1],\"data_offsets\":[22,24]}}";
    write_file(good, 0, data, sizeof data);
    cm_err err;
    cm_safetensors *st = cm_safetensors_open(PATH, &err);
    CHECK(st != NULL);
    if (st) {
        CHECK(cm_safetensors_count(st) == 3);
        const cm_tensor *a = cm_safetensors_find(st, "bert.embeddings.word_embeddings.weight");
        CHECK(a && a->dtype == CM_DTYPE_F32 && a->rank == 2 && a->shape[0] == 2 && a->shape[1] == 2 && a->count == 4);
        float out[4];
        if (a) { cm_tensor_to_f32(a, out); CHECK(!memcmp(out, f32, sizeof f32)); }
        const cm_tensor *b = cm_safetensors_find(st, "b");
        if (b) { cm_tensor_to_f32(b, out); CHECK(out[0] == 1.0f && out[1] == -2.0f && out[2] == ldexpf(1.0f, -24)); }
        CHECK(b != NULL);
        const cm_tensor *c = cm_safetensors_find(st, "c");
        if (c) { cm_tensor_to_f32(c, out); CHECK(out[0] == 1.5f); }
        CHECK(c != NULL);
        CHECK(cm_safetensors_find(st, "missing") == NULL);
        cm_safetensors_close(st);
    }
    /* half precision corner cases */
    CHECK(cm_f16_to_f32(0x7bff) == 65504.0f);
    CHECK(isinf(cm_f16_to_f32(0x7c00)) && cm_f16_to_f32(0xfc00) < 0);
    CHECK(isnan(cm_f16_to_f32(0x7e00)));
    CHECK(cm_f16_to_f32(0x03ff) == ldexpf(1023.0f, -24)); /* largest subnormal */
    CHECK(signbit(cm_f16_to_f32(0x8000)));

    /* hostile files */
    {
        FILE *f = fopen(PATH, "wb");
        fputs("abc", f);
        fclose(f);
        st = cm_safetensors_open(PATH, &err);
        CHECK(st == NULL);
        CHECK_CONTAINS(err.msg, "too short");
    }
    expect_error("{}", 1000, NULL, 0, "header length");                         /* longer than the file */
    expect_error("{}", (uint64_t)1 << 62, NULL, 0, "header length");            /* absurd */
    expect_error("{\"a\":{\"dtype\":", 0, NULL, 0, "header");                   /* bad JSON */
    expect_error("[1,2]", 0, NULL, 0, "not a JSON object");
    expect_error("{\"a\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 0, data, 8, "I64");
    expect_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 0, data, 8, "outside");
    expect_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[8,4]}}", 0, data, 16, "outside");
    expect_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,16]}}", 0, data, 16, "3 elements");
    expect_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                 "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 0, data, 16, "overlap");
    expect_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,8]}}", 0, data, 8, "bad shape");
    expect_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,8]}}", 0, data, 8, "bad shape");
    expect_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", 0, data, 8, "missing");
    expect_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"x\":1}}", 0, data, 8, "unexpected");
    expect_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,8]}}", 0, data, 8,
                 "too large");
    remove(PATH);
    CHECK_DONE();
}
