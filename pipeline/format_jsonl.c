/* format_jsonl.c -- JSON Lines: one record per line. Blank lines are not
 * records (they are counted); a UTF-8 byte order mark before the first
 * record and a \r before each \n are dropped. */
#include "format.h"

static int is_blank(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r') return 0;
    return 1;
}

static int read_member(cm_source *src, uint64_t max_record, const cm_record_sink *sink, cm_err *err)
{
    cm_lines l;
    cm_lines_init(&l, src, max_record);
    const char *p;
    size_t n;
    uint64_t full, off;
    int flags;
    while (cm_lines_next(&l, &p, &n, &full, &off, &flags)) {
        if (l.line == 1 && n >= 3 && (unsigned char)p[0] == 0xEF && (unsigned char)p[1] == 0xBB &&
            (unsigned char)p[2] == 0xBF) {
            p += 3;
            n -= 3;
            full -= 3;
        }
        if (!flags && n && p[n - 1] == '\r') n--, full--;
        if (!flags && is_blank(p, n)) {
            sink->blank(sink->user);
            continue;
        }
        int damage = (flags & CM_LINE_TOO_LONG) ? CM_DAMAGE_TOO_LONG : (flags & CM_LINE_TRUNCATED) ? CM_DAMAGE_TRUNCATED : 0;
        sink->record(sink->user, p, n, l.line, off, CM_REC_JSON, damage, full);
    }
    int failed = l.failed;
    if (failed) *err = l.err;
    cm_lines_free(&l);
    return failed ? -1 : 0;
}

const cm_format cm_format_jsonl = {"jsonl", read_member};
