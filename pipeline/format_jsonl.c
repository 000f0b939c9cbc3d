/* format_jsonl.c -- JSON Lines: one record per line. Blank lines are not
 * records (they are counted); a UTF-8 byte order mark before the first
 * record and a \r before each \n are dropped. */
#include "format.h"

static int read_member(cm_source *src, uint64_t max_record_size, const cm_record_sink *sink, cm_err *err)
{
    return cm_format_read_lines(src, max_record_size, CM_REC_JSON, sink, err);
}

const cm_format cm_format_jsonl = {"jsonl", read_member};
