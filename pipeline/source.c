/* source.c -- opens input files whatever their compression or container.
 *
 * Layers, bottom up: the file (counting bytes for progress), an optional
 * zstd decoder (libzstd: libarchive refuses --long=31 frames), a peek buffer
 * used to recognise tar, then either the bytes themselves (one member) or
 * libarchive reading from our callback (gzip, xz, bzip2, tar). */
#define _GNU_SOURCE
#include "source.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

enum comp { COMP_NONE, COMP_GZIP, COMP_XZ, COMP_BZIP2, COMP_ZSTD };
static const char *const COMP_NAMES[] = {"plain", "gzip", "xz", "bzip2", "zstd"};

#define PEEK_CAP 4096
#define IO_CHUNK (1u << 20)

struct cm_source {
    char *path;
    int fd;
    uint64_t file_size, file_offset;
    int file_eof;

    /* file-level peek (format detection) */
    char fpeek[PEEK_CAP];
    size_t fpeek_len, fpeek_pos;

    /* zstd layer */
    ZSTD_DCtx *zd;
    char *zin;
    size_t zin_cap;
    ZSTD_inBuffer zbuf;
    size_t zlast;     /* last ZSTD_decompressStream result: 0 at a frame end */
    int zstarted;

    /* stream-level peek (tar detection after zstd) */
    char speek[PEEK_CAP];
    size_t speek_len, speek_pos;

    /* libarchive */
    struct archive *ar;
    char *arbuf;
    int is_raw_format;

    int comp;
    int archive_mode;  /* 1: members come from libarchive */
    int member_state;  /* 0 before the first member, 1 in one, 2 done */
    char kind[32];
    char warning[1200];
    char errmsg[1100]; /* set by the libarchive callback on a read error */
};

/* Reads the file itself, below the peek buffer. */
static long file_read_raw(cm_source *s, char *buf, size_t n, cm_err *err)
{
    if (s->file_eof) return 0;
    for (;;) {
        ssize_t r = read(s->fd, buf, n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return cm_errorf(err, "%s: read error at byte %llu: %s", s->path,
                                    (unsigned long long)s->file_offset, strerror(errno));
        if (r == 0) s->file_eof = 1;
        s->file_offset += (uint64_t)r;
        return (long)r;
    }
}

static long file_read(cm_source *s, char *buf, size_t n, cm_err *err)
{
    if (s->fpeek_pos < s->fpeek_len) {
        size_t k = s->fpeek_len - s->fpeek_pos;
        if (k > n) k = n;
        memcpy(buf, s->fpeek + s->fpeek_pos, k);
        s->fpeek_pos += k;
        return (long)k;
    }
    return file_read_raw(s, buf, n, err);
}

static long zstd_read(cm_source *s, char *buf, size_t n, cm_err *err)
{
    ZSTD_outBuffer out = {buf, n, 0};
    while (out.pos == 0) {
        if (s->zbuf.pos == s->zbuf.size) {
            long r = file_read(s, s->zin, s->zin_cap, err);
            if (r < 0) return -1;
            if (r == 0) {
                if (s->zstarted && s->zlast != 0)
                    return cm_errorf(err, "%s: truncated zstd stream: the file ends inside a frame (byte %llu)",
                                     s->path, (unsigned long long)s->file_offset);
                return 0;
            }
            s->zbuf.src = s->zin;
            s->zbuf.size = (size_t)r;
            s->zbuf.pos = 0;
        }
        size_t ret = ZSTD_decompressStream(s->zd, &out, &s->zbuf);
        if (ZSTD_isError(ret))
            return cm_errorf(err, "%s: corrupt zstd data near byte %llu: %s", s->path,
                             (unsigned long long)(s->file_offset - (s->zbuf.size - s->zbuf.pos)),
                             ZSTD_getErrorName(ret));
        s->zstarted = 1;
        s->zlast = ret;
    }
    return (long)out.pos;
}

/* The decompressed stream below libarchive / the member reader. */
static long stream_read(cm_source *s, char *buf, size_t n, cm_err *err)
{
    if (s->speek_pos < s->speek_len) {
        size_t k = s->speek_len - s->speek_pos;
        if (k > n) k = n;
        memcpy(buf, s->speek + s->speek_pos, k);
        s->speek_pos += k;
        return (long)k;
    }
    return s->comp == COMP_ZSTD ? zstd_read(s, buf, n, err) : file_read(s, buf, n, err);
}

static la_ssize_t archive_read_cb(struct archive *a, void *user, const void **block)
{
    (void)a;
    cm_source *s = user;
    cm_err e;
    long r = stream_read(s, s->arbuf, IO_CHUNK, &e);
    if (r < 0) {
        snprintf(s->errmsg, sizeof s->errmsg, "%s", e.msg);
        archive_set_error(a, EIO, "%s", e.msg);
        return -1;
    }
    *block = s->arbuf;
    return r;
}

static int is_tar_header(const char *p, size_t n)
{
    return n >= 263 && memcmp(p + 257, "ustar", 5) == 0;
}

static int comp_from_magic(const unsigned char *p, size_t n)
{
    if (n >= 2 && p[0] == 0x1f && p[1] == 0x8b) return COMP_GZIP;
    if (n >= 6 && memcmp(p, "\xFD" "7zXZ\0", 6) == 0) return COMP_XZ;
    if (n >= 3 && memcmp(p, "BZh", 3) == 0) return COMP_BZIP2;
    if (n >= 4 && p[0] == 0x28 && p[1] == 0xB5 && p[2] == 0x2F && p[3] == 0xFD) return COMP_ZSTD;
    return COMP_NONE;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static int comp_from_name(const char *path)
{
    if (ends_with(path, ".gz") || ends_with(path, ".tgz")) return COMP_GZIP;
    if (ends_with(path, ".xz")) return COMP_XZ;
    if (ends_with(path, ".bz2")) return COMP_BZIP2;
    if (ends_with(path, ".zst") || ends_with(path, ".zstd")) return COMP_ZSTD;
    return COMP_NONE;
}

void cm_source_close(cm_source *s)
{
    if (!s) return;
    if (s->ar) archive_read_free(s->ar);
    if (s->zd) ZSTD_freeDCtx(s->zd);
    if (s->fd >= 0) close(s->fd);
    free(s->zin);
    free(s->arbuf);
    free(s->path);
    free(s);
}

static int fill_peek(cm_source *s, char *peek, size_t *len, int from_stream, cm_err *err)
{
    *len = 0;
    while (*len < PEEK_CAP) {
        long r = from_stream ? zstd_read(s, peek + *len, PEEK_CAP - *len, err)
                             : file_read_raw(s, peek + *len, PEEK_CAP - *len, err);
        if (r < 0) return -1;
        if (r == 0) break;
        *len += (size_t)r;
    }
    return 0;
}

cm_source *cm_source_open(const char *path, cm_err *err)
{
    cm_source *s = cm_calloc(1, sizeof *s);
    s->fd = -1;
    s->path = cm_strdup(path);
    s->fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (s->fd < 0 || fstat(s->fd, &st) != 0) {
        cm_errorf(err, "%s: cannot open: %s", path, strerror(errno));
        cm_source_close(s);
        return NULL;
    }
    if (S_ISDIR(st.st_mode)) {
        cm_errorf(err, "%s: is a directory, not a file", path);
        cm_source_close(s);
        return NULL;
    }
    s->file_size = (uint64_t)st.st_size;
#ifdef POSIX_FADV_SEQUENTIAL
    posix_fadvise(s->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
    /* Peek at the file, then rewind the peek so that it is read again. */
    if (fill_peek(s, s->fpeek, &s->fpeek_len, 0, err)) { cm_source_close(s); return NULL; }
    s->fpeek_pos = 0;
    s->comp = comp_from_magic((const unsigned char *)s->fpeek, s->fpeek_len);

    int tar = 0;
    if (s->comp == COMP_ZSTD) {
        s->zd = ZSTD_createDCtx();
        ZSTD_DCtx_setParameter(s->zd, ZSTD_d_windowLogMax, 31);
        s->zin_cap = ZSTD_DStreamInSize();
        s->zin = cm_malloc(s->zin_cap);
        if (fill_peek(s, s->speek, &s->speek_len, 1, err)) { cm_source_close(s); return NULL; }
        s->speek_pos = 0;
        tar = is_tar_header(s->speek, s->speek_len);
        s->archive_mode = tar;
    } else if (s->comp == COMP_NONE) {
        tar = is_tar_header(s->fpeek, s->fpeek_len);
        s->archive_mode = tar;
    } else {
        s->archive_mode = 1; /* libarchive decompresses, and finds tar or raw inside */
    }

    if (s->archive_mode) {
        s->ar = archive_read_new();
        s->arbuf = cm_malloc(IO_CHUNK);
        archive_read_support_filter_gzip(s->ar);
        archive_read_support_filter_xz(s->ar);
        archive_read_support_filter_bzip2(s->ar);
        archive_read_support_format_tar(s->ar);
        archive_read_support_format_gnutar(s->ar);
        if (!tar) archive_read_support_format_raw(s->ar);
        if (archive_read_open(s->ar, s, NULL, archive_read_cb, NULL) != ARCHIVE_OK) {
            cm_errorf(err, "%s: %s", path, s->errmsg[0] ? s->errmsg : archive_error_string(s->ar));
            cm_source_close(s);
            return NULL;
        }
    }

    int named = comp_from_name(path);
    if (named != s->comp) {
        snprintf(s->warning, sizeof s->warning, "%s: the name says %s but the content is %s; reading it as %s", path,
                 COMP_NAMES[named], COMP_NAMES[s->comp], COMP_NAMES[s->comp]);
    }
    snprintf(s->kind, sizeof s->kind, "%s%s%s", tar ? "tar" : "", tar && s->comp != COMP_NONE ? "+" : "",
             tar && s->comp == COMP_NONE ? "" : COMP_NAMES[s->comp]);
    return s;
}

const char *cm_source_kind(const cm_source *s) { return s->kind; }
const char *cm_source_warning(const cm_source *s) { return s->warning[0] ? s->warning : NULL; }
uint64_t cm_source_file_offset(const cm_source *s) { return s->file_offset; }
uint64_t cm_source_file_size(const cm_source *s) { return s->file_size; }

int cm_source_next_member(cm_source *s, const char **name, cm_err *err)
{
    *name = NULL;
    if (s->member_state == 2) return 0;
    if (!s->archive_mode) {
        if (s->member_state == 1) { s->member_state = 2; return 0; }
        s->member_state = 1;
        return 1;
    }
    for (;;) {
        struct archive_entry *e;
        int r = archive_read_next_header(s->ar, &e);
        if (r == ARCHIVE_EOF) { s->member_state = 2; return 0; }
        if (r < ARCHIVE_WARN) {
            s->member_state = 2;
            return cm_errorf(err, "%s: corrupt or truncated archive near byte %llu: %s", s->path,
                             (unsigned long long)s->file_offset,
                             s->errmsg[0] ? s->errmsg : archive_error_string(s->ar));
        }
        s->is_raw_format = archive_format(s->ar) == ARCHIVE_FORMAT_RAW;
        if (!s->is_raw_format && strncmp(s->kind, "tar", 3) != 0)
            snprintf(s->kind, sizeof s->kind, "tar+%s", COMP_NAMES[s->comp]);
        if (s->is_raw_format) {
            s->member_state = 1;
            return 1;
        }
        if (archive_entry_filetype(e) != AE_IFREG) continue; /* directories, links: nothing to read */
        s->member_state = 1;
        *name = archive_entry_pathname(e);
        if (!*name) *name = "?";
        return 1;
    }
}

long cm_source_read(cm_source *s, char *buf, size_t cap, cm_err *err)
{
    if (s->member_state != 1) return 0;
    if (!s->archive_mode) return stream_read(s, buf, cap, err);
    la_ssize_t r = archive_read_data(s->ar, buf, cap);
    if (r < 0) {
        return cm_errorf(err, "%s: truncated or corrupt data near byte %llu: %s", s->path,
                         (unsigned long long)s->file_offset,
                         s->errmsg[0] ? s->errmsg : archive_error_string(s->ar));
    }
    return (long)r;
}
