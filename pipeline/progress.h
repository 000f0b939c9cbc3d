/* progress.h -- progress on long work: a bar on a terminal (documents/s,
 * MB/s, percent of input bytes, ETA), a plain line every few seconds when
 * stderr is not a terminal, or machine-readable lines on a file descriptor
 * (how `corpusmill run` follows the tasks it started). */
#ifndef CM_PROGRESS_H
#define CM_PROGRESS_H

#include <stddef.h>
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
    char phase[32];    /* the part of a step of several that is running; "" none */
    uint64_t docs, bytes; /* the last counts shown */
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
/* Names the phase now running, for a step of several (the bar shows
 * "label: phase"; FD lines carry it). The done / total of later updates
 * count this phase's work. NULL or "" clears it. */
void cm_progress_phase(cm_progress *p, const char *phase);

/* Clears the bar line so that a message can be printed. */
void cm_progress_clear(cm_progress *p);
void cm_progress_end(cm_progress *p);

/* Parses a line written in FD mode; phase (cap bytes) gets its phase, ""
 * when none. Returns 0 on success. */
int cm_progress_parse(const char *line, uint64_t *docs, uint64_t *bytes, uint64_t *done, uint64_t *total, char *phase,
                      size_t cap);

#endif
