/* test_simplify.c -- dedup's simplification and exact hash. */
#include "check.h"
#include "simplify.h"

int main(void)
{
    cm_buf b, s;
    cm_buf_init(&b);
    cm_buf_init(&s);
    cm_dedup_simplify("  Héllo,   WORLD!!  Café 2024 — naïve\n", strlen("  Héllo,   WORLD!!  Café 2024 — naïve\n"), &b);
    CHECK_STR(b.data, "hello world cafe 0000 naive");
    const char *zh = "今天，天气很好！温度：２５度。";
    cm_dedup_simplify(zh, strlen(zh), &b);
    CHECK_STR(b.data, "今天天气很好温度00度");
    cm_dedup_simplify("", 0, &b);
    CHECK_STR(b.data, "");
    /* equal after simplification, equal hashes; different text, different hashes */
    cm_hash128 a = cm_exact_hash("The  cat sat.", 13, &s);
    cm_hash128 c = cm_exact_hash("the cat sat", 11, &s);
    cm_hash128 d = cm_exact_hash("the cat sat down", 16, &s);
    CHECK(a.hi == c.hi && a.lo == c.lo);
    CHECK(a.hi != d.hi || a.lo != d.lo);
    cm_buf_free(&b);
    cm_buf_free(&s);
    CHECK_DONE();
}
