/* progress.c -- see progress.h. Every line goes to the descriptor the
 * caller gave: the library writes progress only where the program asked. */
#define _POSIX_C_SOURCE 200809L
#include "progress.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

void cm_progress_init(cm_progress *p, int mode, int fd, const char *label)
{
    memset(p, 0, sizeof *p);
    if (mode == CM_PROGRESS_AUTO) mode = isatty(fd) ? CM_PROGRESS_BAR : CM_PROGRESS_LOG;
    p->mode = mode;
    p->fd = fd;
    p->label = label;
    p->start = p->last = cm_now();
}

static void fmt_duration(double s, char *out, size_t cap)
{
    if (s < 0 || s > 1e7) { snprintf(out, cap, "--:--"); return; }
    long t = (long)(s + 0.5);
    if (t >= 3600) snprintf(out, cap, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
    else snprintf(out, cap, "%ld:%02ld", t / 60, t % 60);
}

void cm_progress_update(cm_progress *p, uint64_t docs, uint64_t bytes, uint64_t done, uint64_t total, int force)
{
    p->docs = docs;
    p->bytes = bytes;
    double now = cm_now();
    double every = p->mode == CM_PROGRESS_BAR ? 0.25 : p->mode == CM_PROGRESS_FD ? 0.5 : 5.0;
    if (p->mode == CM_PROGRESS_NONE || (!force && now - p->last < every)) return;
    /* a short job in log mode stays quiet: the result line says it all */
    if (p->mode == CM_PROGRESS_LOG && force && !p->drawn && now - p->start < every) return;
    p->last = now;
    double el = now - p->start;
    if (el <= 0) el = 1e-9;
    if (p->mode == CM_PROGRESS_FD) {
        char line[200];
        int n = snprintf(line, sizeof line, "P %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "%s%s\n", docs, bytes, done,
                         total, p->phase[0] ? "\t" : "", p->phase);
        if (write(p->fd, line, (size_t)n) < 0) p->mode = CM_PROGRESS_NONE;
        return;
    }
    double frac = total ? (double)done / (double)total : 0;
    if (frac > 1) frac = 1;
    char eta[32], elapsed[32];
    fmt_duration(frac > 0.001 ? el * (1 - frac) / frac : -1, eta, sizeof eta);
    fmt_duration(el, elapsed, sizeof elapsed);
    double mbs = (double)bytes / 1e6 / el;
    double dps = (double)docs / el;
    if (p->mode == CM_PROGRESS_BAR) {
        char bar[31];
        int fill = (int)(frac * 30);
        for (int i = 0; i < 30; i++) bar[i] = i < fill ? '#' : '.';
        bar[30] = 0;
        dprintf(p->fd, "\r\033[K[%s%s%s] %s %5.1f%%  %" PRIu64 " docs  %.0f docs/s  %.1f MB/s  ETA %s", p->label,
                p->phase[0] ? ": " : "", p->phase, bar, frac * 100, docs, dps, mbs, eta);
        p->drawn = 1;
    } else {
        dprintf(p->fd, "[%s%s%s] %5.1f%%  %" PRIu64 " docs  %.0f docs/s  %.1f MB/s  elapsed %s  ETA %s\n", p->label,
                p->phase[0] ? ": " : "", p->phase, frac * 100, docs, dps, mbs, elapsed, eta);
        p->drawn = 1; /* in log mode: something was printed */
    }
}

void cm_progress_phase(cm_progress *p, const char *phase)
{
    snprintf(p->phase, sizeof p->phase, "%s", phase ? phase : "");
    /* a bar, or the runner reading FD lines, shows the new phase at once */
    if (p->mode == CM_PROGRESS_BAR || p->mode == CM_PROGRESS_FD) cm_progress_update(p, p->docs, p->bytes, 0, 1, 1);
}

void cm_progress_clear(cm_progress *p)
{
    if (p->mode == CM_PROGRESS_BAR && p->drawn) {
        dprintf(p->fd, "\r\033[K");
        p->drawn = 0;
    }
}

void cm_progress_end(cm_progress *p)
{
    if (p->mode == CM_PROGRESS_BAR && p->drawn) {
        dprintf(p->fd, "\n");
        p->drawn = 0;
    }
}

int cm_progress_parse(const char *line, uint64_t *docs, uint64_t *bytes, uint64_t *done, uint64_t *total, char *phase,
                      size_t cap)
{
    if (sscanf(line, "P %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64, docs, bytes, done, total) != 4) return -1;
    const char *tab = strchr(line, '\t');
    snprintf(phase, cap, "%s", tab ? tab + 1 : "");
    return 0;
}
