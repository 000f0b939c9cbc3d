/* format_text.c -- one document per file (Markdown and text knowledge
 * bases). The id is the path below the directory the user named. A file
 * larger than max_record_size is malformed (its start kept as evidence). */
#include "format.h"

#include <stdlib.h>
#include <string.h>

static int read_member(cm_source *src, uint64_t max_record_size, const cm_record_sink *sink, cm_err *err)
{
    cm_buf b;
    cm_buf_init(&b);
    uint64_t total = 0;
    int broken = 0;
    char chunk[65536];
    for (;;) {
        long r = cm_source_read(src, chunk, sizeof chunk, err);
        if (r < 0) { broken = 1; break; }
        if (r == 0) break;
        if (total + (uint64_t)r <= max_record_size) cm_buf_append(&b, chunk, (size_t)r);
        else if (b.len < CM_EVIDENCE_BYTES) {
            size_t room = CM_EVIDENCE_BYTES - b.len;
            cm_buf_append(&b, chunk, (size_t)r < room ? (size_t)r : room);
        }
        total += (uint64_t)r;
    }
    if (total > 0) {
        int damage = total > max_record_size ? CM_DAMAGE_TOO_LONG : broken ? CM_DAMAGE_TRUNCATED : 0;
        const char *p = b.data;
        size_t n = damage == CM_DAMAGE_TOO_LONG && b.len > CM_EVIDENCE_BYTES ? CM_EVIDENCE_BYTES : b.len;
        if (!damage && n >= 3 && (unsigned char)p[0] == 0xEF && (unsigned char)p[1] == 0xBB && (unsigned char)p[2] == 0xBF) {
            p += 3;
            n -= 3;
        }
        sink->record(sink->user, p, n, 1, 0, CM_REC_TEXT_FILE, damage, total);
    }
    cm_buf_free(&b);
    return broken ? -1 : 0;
}

const cm_format cm_format_text = {"text", read_member};
