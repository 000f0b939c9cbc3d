/* progress.h -- progress on long work: a bar on a terminal (documents/s,
 * MB/s, percent of input bytes, ETA), a plain line every few seconds when
 * stderr is not a terminal, or machine-readable lines on a file descriptor
 * (how `corpusmill run` follows the tasks it started). */
#ifndef CM_PROGRESS_H
#define CM_PROGRESS_H

#include <stdint.h>

typedef enum cm_progress_mode {
    CM_PROGRESS_AUTO, /* bar on a TTY, else log */
    CM_PROGRESS_BAR,
    CM_PROGRESS_LOG,
    CM_PROGRESS_NONE,
    CM_PROGRESS_FD
} cm_progress_mode;

typedef struct cm_progress {
    int mode;
    int fd;
    const char *label;
    double start, last;
    int drawn;         /* a bar is on screen */
} cm_progress;

/* Shows progress in `mode` on descriptor fd (the program passes stderr's
 * for a bar or log lines, its pipe for FD; AUTO is a bar when fd is a
 * terminal). */
void cm_progress_init(cm_progress *p, int mode, int fd, const char *label);
/* docs and bytes so far (decompressed record bytes), input file bytes done
 * of total. Rate-limited unless force. */
void cm_progress_update(cm_progress *p, uint64_t docs, uint64_t bytes, uint64_t done, uint64_t total, int force);
/* Clears the bar line so that a message can be printed. */
void cm_progress_clear(cm_progress *p);
void cm_progress_end(cm_progress *p);

/* Parses a line written in FD mode. Returns 0 on success. */
int cm_progress_parse(const char *line, uint64_t *docs, uint64_t *bytes, uint64_t *done, uint64_t *total);

#endif
