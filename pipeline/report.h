/* report.h -- `corpusmill report OUT`: OUT/report.html (see report.c). */
#ifndef CM_REPORT_H
#define CM_REPORT_H

#include "util.h"

extern const char cm_report_usage[];

/* Writes OUT/report.html. Returns 0, or -1 with err (no summary.json). */
int cm_report_write(const char *out, cm_err *err);

/* argv after the command name. Returns a CM_EXIT_* status. */
int cm_report_main(int argc, char **argv);

#endif
