/* report.h -- OUT/report.html (see report.c): `corpusmill report OUT`
 * writes it, and `run` at its end. */
#ifndef CM_REPORT_H
#define CM_REPORT_H

#include "../pipeline/util.h"

/* Writes OUT/report.html. Returns 0, or -1 with err (no summary.json). */
int cm_report_write(const char *out, cm_err *err);

#endif
