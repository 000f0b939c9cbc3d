/* test_utf8.c -- UTF-8 validation and repair, JSON string escaping. */
#include "check.h"
#include "util.h"

int main(void)
{
    cm_buf b;
    cm_buf_init(&b);

    /* one U+FFFD per maximal invalid subpart (Unicode's recommended practice) */
    CHECK(cm_utf8_repair("a\xff" "b", 3, &b) == 1);
    CHECK_STR(b.data, "a\xef\xbf\xbd" "b");
    cm_buf_clear(&b);
    CHECK(cm_utf8_repair("\xe4\xb8", 2, &b) == 1); /* truncated 中 */
    CHECK_STR(b.data, "\xef\xbf\xbd");
    cm_buf_clear(&b);
    CHECK(cm_utf8_repair("\xc0\xaf", 2, &b) == 2); /* overlong '/' */
    cm_buf_clear(&b);
    CHECK(cm_utf8_repair("\xed\xa0\x80x", 4, &b) == 3); /* surrogate D800 */
    CHECK_STR(b.data, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdx");
    cm_buf_clear(&b);
    CHECK(cm_utf8_repair("中文ok", strlen("中文ok"), &b) == 0);
    CHECK_STR(b.data, "中文ok");

    CHECK(cm_utf8_seq_len((const unsigned char *)"\xf4\x90\x80\x80", 4) == 0); /* > U+10FFFF */
    CHECK(cm_utf8_seq_len((const unsigned char *)"\xf0\x9f\x98\x80", 4) == 4);
    char enc[4];
    CHECK(cm_utf8_encode(0x1F600, enc) == 4 && memcmp(enc, "\xf0\x9f\x98\x80", 4) == 0);
    CHECK(cm_utf8_decode((const unsigned char *)"\xe4\xb8\xad", 3) == 0x4E2D);

    /* JSON escaping: quotes, backslashes, controls; UTF-8 passes through */
    cm_buf_clear(&b);
    cm_buf_append_json_string(&b, "a\"b\\c\n\x01中", strlen("a\"b\\c\n\x01中"));
    CHECK_STR(b.data, "\"a\\\"b\\\\c\\n\\u0001中\"");
    /* raw bytes: invalid ones become \xHH text */
    cm_buf_clear(&b);
    CHECK(cm_buf_append_json_bytes(&b, "ok\xff", 3) == 1);
    CHECK_STR(b.data, "\"ok\\\\xff\"");

    cm_buf_free(&b);
    CHECK_DONE();
}
