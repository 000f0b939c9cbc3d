/* format_lines.c -- plain text with one document per line (news dumps,
 * sentence lists). Blank lines are not documents; ids are "path:line". */
#include "format.h"

static int read_member(cm_source *src, uint64_t max_record_size, const cm_record_sink *sink, cm_err *err)
{
    return cm_format_read_lines(src, max_record_size, CM_REC_TEXT_LINE, sink, err);
}

const cm_format cm_format_lines = {"lines", read_member};
