/* test_json.c -- the JSON layer: member spans for pass-through, full
 * validation, UTF-8 detection, the stats visitor. */
#include "check.h"
#include "json.h"

#include <stdlib.h>

/* Parses s from a padded copy; returns the result code. */
static int parse(cm_json_parser *p, const char *s, cm_json_record *r, char *copy, cm_err *err)
{
    size_t n = strlen(s);
    memcpy(copy, s, n);
    memset(copy + n, ' ', CM_JSON_PADDING);
    return cm_json_parse_record(p, copy, n, r, err);
}

static void span(const char *base, size_t a, size_t b, char *out)
{
    memcpy(out, base + a, b - a);
    out[b - a] = 0;
}

int main(void)
{
    cm_json_parser *p = cm_json_parser_create();
    cm_json_record r;
    cm_json_record_init(&r);
    cm_err err;
    char *buf = malloc(1 << 16), tmp[4096];

    /* members, their raw spans and unescaped values */
    CHECK(parse(p, "{\"id\": 7, \"content\":\"a\\n\\u4e2d\\\"q\" ,\"meta\": {\"x\": [1, 2.5e3, null]}, \"ok\":true}",
                &r, buf, &err) == 0);
    CHECK(r.n_members == 4);
    CHECK_STR(cm_json_key(&r, &r.members[1]), "content");
    CHECK(r.members[1].type == CM_JSON_STRING);
    CHECK_STR(cm_json_str(&r, &r.members[1]), "a\n中\"q");
    span(buf, r.members[1].value_start, r.members[1].value_end, tmp);
    CHECK_STR(tmp, "\"a\\n\\u4e2d\\\"q\"");
    span(buf, r.members[2].raw_start, r.members[2].raw_end, tmp);
    CHECK_STR(tmp, "\"meta\": {\"x\": [1, 2.5e3, null]}");
    CHECK(r.members[2].type == CM_JSON_OBJECT);
    span(buf, r.members[0].value_start, r.members[0].value_end, tmp);
    CHECK_STR(tmp, "7");
    CHECK(r.members[3].type == CM_JSON_BOOL);
    int dupes = 0;
    CHECK(cm_json_find(&r, "content", &dupes) == 1 && dupes == 1);
    CHECK(cm_json_find(&r, "nope", NULL) == -1);

    /* escaped keys are compared unescaped */
    CHECK(parse(p, "{\"con\\u0074ent\": \"x\"}", &r, buf, &err) == 0);
    CHECK(cm_json_find(&r, "content", NULL) == 0);

    /* duplicate keys are all reported */
    CHECK(parse(p, "{\"content\": \"a\", \"content\": \"b\"}", &r, buf, &err) == 0);
    CHECK(cm_json_find(&r, "content", &dupes) == 0 && dupes == 2);

    /* integers past 64 bits are valid JSON */
    CHECK(parse(p, "{\"id\": 123456789012345678901234567890}", &r, buf, &err) == 0);

    /* invalid records, including damage inside nested values */
    const char *bad[] = {
        "{\"a\": [1,,2]}", "{\"a\": {\"b\": \"\\q\"}}", "{\"a\": 1", "[1, 2]", "\"str\"", "{\"a\": tru}",
        "{\"a\": [1 2]}", "{\"a\": 1} trailing", "{\"a\": \"\\ud800\"}", "{\"a\": 01}", "{\"a\": \"x\ty\"}",
        "{a: 1}", "", "{\"a\": -}", "{\"a\": {\"b\": [1, {\"c\": nul}]}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = parse(p, bad[i], &r, buf, &err);
        if (rc != CM_JSON_INVALID) fprintf(stderr, "accepted bad JSON: %s (rc=%d)\n", bad[i], rc);
        CHECK(rc == CM_JSON_INVALID);
    }
    CHECK(parse(p, "[1]", &r, buf, &err) == CM_JSON_INVALID);
    CHECK_CONTAINS(err.msg, "not a JSON object");
    CHECK(parse(p, "{\"a\": [1 2]}", &r, buf, &err) == CM_JSON_INVALID);
    CHECK_CONTAINS(err.msg, "column");

    /* invalid UTF-8 is told apart, so that it can be repaired */
    CHECK(parse(p, "{\"a\": \"\xff\xfe\"}", &r, buf, &err) == CM_JSON_BAD_UTF8);
    CHECK(parse(p, "{\"a\": \"\xc0\xaf\"}", &r, buf, &err) == CM_JSON_BAD_UTF8); /* overlong */
    CHECK(cm_json_valid_utf8("中文 ok", strlen("中文 ok")));
    CHECK(!cm_json_valid_utf8("\xed\xa0\x80", 3)); /* encoded surrogate */

    /* deeply nested input is refused, not a stack overflow */
    {
        size_t depth = 5000, n = 0;
        char *deep = malloc(2 * depth + 64 + CM_JSON_PADDING);
        n += (size_t)sprintf(deep, "{\"a\":");
        for (size_t i = 0; i < depth; i++) deep[n++] = '[';
        for (size_t i = 0; i < depth; i++) deep[n++] = ']';
        deep[n++] = '}';
        memset(deep + n, ' ', CM_JSON_PADDING);
        CHECK(cm_json_parse_record(p, deep, n, &r, &err) == CM_JSON_INVALID);
        free(deep);
    }

    cm_json_record_free(&r);
    cm_json_parser_free(p);
    free(buf);
    CHECK_DONE();
}
