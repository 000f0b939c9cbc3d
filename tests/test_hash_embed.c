/* test_hash_embed.c -- the weight-free lexical embedder: unit length,
 * determinism, the seed, and closeness that follows shared words (English)
 * and shared characters (Chinese), with case folded. */
#include "check.h"
#include "hash_embed.h"

#include <math.h>
#include <stdlib.h>

#define DIM 256

static double cosine(cm_hash_embed *h, const char *a, const char *b)
{
    float va[DIM], vb[DIM];
    cm_hash_embed_text(h, a, strlen(a), va);
    cm_hash_embed_text(h, b, strlen(b), vb);
    double dot = 0;
    for (int i = 0; i < DIM; i++) dot += (double)va[i] * vb[i];
    return dot;
}

int main(void)
{
    cm_hash_embed *h = cm_hash_embed_create(DIM, 0);
    CHECK(h && cm_hash_embed_dim(h) == DIM);
    CHECK(cm_hash_embed_create(0, 0) == NULL);

    float v[DIM], w[DIM];
    const char *t = "The quick brown fox jumps over the lazy dog.";
    cm_hash_embed_text(h, t, strlen(t), v);
    double norm = 0;
    for (int i = 0; i < DIM; i++) norm += (double)v[i] * v[i];
    CHECK(fabs(norm - 1.0) < 1e-5);
    cm_hash_embed_text(h, t, strlen(t), w);
    CHECK(!memcmp(v, w, sizeof v)); /* deterministic */

    /* no features: zeros */
    cm_hash_embed_text(h, " ,.!", 4, v);
    int zeros = 1;
    for (int i = 0; i < DIM; i++) zeros &= v[i] == 0.0f;
    CHECK(zeros);

    /* case is folded; shared words bring texts closer */
    CHECK(cosine(h, "Machine Learning", "machine learning") > 0.999);
    double near = cosine(h, "the cat sat on the mat", "the cat sat on a mat");
    double far = cosine(h, "the cat sat on the mat", "stock prices fell sharply today");
    CHECK(near > 0.5 && far < 0.3 && near > far + 0.3);

    /* Chinese: shared characters and pairs */
    double zh_near = cosine(h, "北京是中国的首都", "中国的首都是北京");
    double zh_far = cosine(h, "北京是中国的首都", "今天股市大幅下跌");
    CHECK(zh_near > 0.5 && zh_far < 0.3);
    /* mixed text: the CJK run and the words both count */
    CHECK(cosine(h, "使用 FAISS 建立索引", "FAISS 索引") > 0.3);

    /* another seed, other dimensions */
    cm_hash_embed *h2 = cm_hash_embed_create(DIM, 42);
    cm_hash_embed_text(h, t, strlen(t), v);
    cm_hash_embed_text(h2, t, strlen(t), w);
    CHECK(memcmp(v, w, sizeof v) != 0);
    cm_hash_embed_free(h2);

    /* invalid UTF-8 does not stop it */
    cm_hash_embed_text(h, "ab\xff\xfe" "cd", 6, v);
    norm = 0;
    for (int i = 0; i < DIM; i++) norm += (double)v[i] * v[i];
    CHECK(fabs(norm - 1.0) < 1e-5);
    cm_hash_embed_free(h);
    /* an empty text as the very first one: the zero vector */
    {
        cm_hash_embed *fresh = cm_hash_embed_create(16, 0);
        float z[16];
        cm_hash_embed_text(fresh, "", 0, z);
        float sum = 0;
        for (int i = 0; i < 16; i++) sum += z[i] * z[i];
        CHECK(sum == 0);
        cm_hash_embed_free(fresh);
    }
    CHECK_DONE();
}
