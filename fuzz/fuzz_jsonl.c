/* fuzz_jsonl.c -- the JSON Lines record reader: lines of any length, damage
 * and encoding, each parsed as clean parses a record (the JSON object, the
 * text and id fields). */
#include "fuzz_util.h"
#include "format.h"
#include "json.h"
#include "source.h"

typedef struct sink_ctx {
    cm_json_parser *parser;
    cm_json_record rec;
    cm_buf line;
} sink_ctx;

static void on_record(void *user, const char *data, size_t len, uint64_t line, uint64_t offset, int kind, int damage,
                      uint64_t full_len)
{
    (void)line; (void)offset; (void)kind; (void)damage; (void)full_len;
    sink_ctx *s = user;
    cm_buf_clear(&s->line);
    cm_buf_append(&s->line, data, len);
    cm_buf_reserve(&s->line, CM_JSON_PADDING);
    memset(s->line.data + s->line.len, ' ', CM_JSON_PADDING);
    cm_err err = {0};
    if (cm_json_parse_record(s->parser, s->line.data, s->line.len, &s->rec, &err) == 0) {
        long t = cm_json_find(&s->rec, "content", NULL);
        if (t >= 0 && s->rec.members[t].type == CM_JSON_STRING) {
            const char *text = cm_json_str(&s->rec, &s->rec.members[t]);
            volatile size_t n = strlen(text);
            (void)n;
        }
        (void)cm_json_find(&s->rec, "id", NULL);
    }
}

static void on_blank(void *user) { (void)user; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(data, size, ".jsonl");
    cm_err err = {0};
    cm_source *src = cm_source_open(path, &err);
    if (!src) return 0;
    sink_ctx s;
    s.parser = cm_json_parser_create();
    cm_json_record_init(&s.rec);
    cm_buf_init(&s.line);
    cm_record_sink sink = {on_record, on_blank, &s};
    const char *member;
    if (cm_source_next_member(src, &member, &err) == 1) cm_format_read_lines(src, 4096, CM_REC_JSON, &sink, &err);
    cm_source_close(src);
    cm_json_parser_free(s.parser);
    cm_json_record_free(&s.rec);
    cm_buf_free(&s.line);
    return 0;
}
