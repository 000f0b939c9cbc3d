/* format_lines.c -- plain text with one document per line (news dumps,
 * sentence lists). Blank lines are not documents; ids are "path:line". */
#include "format.h"

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
        int blank = !flags;
        for (size_t i = 0; blank && i < n; i++)
            if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r') blank = 0;
        if (blank) {
            sink->blank(sink->user);
            continue;
        }
        int damage = (flags & CM_LINE_TOO_LONG) ? CM_DAMAGE_TOO_LONG : (flags & CM_LINE_TRUNCATED) ? CM_DAMAGE_TRUNCATED : 0;
        sink->record(sink->user, p, n, l.line, off, CM_REC_TEXT_LINE, damage, full);
    }
    int failed = l.failed;
    if (failed) *err = l.err;
    cm_lines_free(&l);
    return failed ? -1 : 0;
}

const cm_format cm_format_lines = {"lines", read_member};
