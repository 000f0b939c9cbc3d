/* source.c -- opens input files whatever their compression or container.
 *
 * Layers, bottom up: the file (counting bytes for progress), a decoder found
 * by magic bytes (zlib for gzip, liblzma for xz, libbz2 for bzip2, libzstd for
 * zstd), a peek buffer used to recognise tar, then either the bytes
 * themselves (one member) or libarchive reading tar from our callback.
 *
 * We decode compression ourselves rather than through libarchive's filters
 * for two reasons: libarchive's gzip filter drops its last 64 KiB block when
 * the input is truncated (we must keep every record before the damage), and
 * it refuses zstd frames written with --long=31. */
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
#include <bzlib.h>
#include <lzma.h>
#include <zlib.h>
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

    /* decoder layer */
    char *zin;        /* compressed input */
    size_t zin_cap, zin_len, zin_pos;
    int in_frame;     /* inside a compressed stream/frame: EOF now means truncation */
    int dec_ready;
    ZSTD_DCtx *zd;
    z_stream gz;
    lzma_stream xz;
    bz_stream bz;

    /* stream-level peek (tar detection after zstd) */
    char speek[PEEK_CAP];
    size_t speek_len, speek_pos;

    /* libarchive, for tar */
    struct archive *ar;
    char *arbuf;

    int comp;
    int archive_mode;  /* 1: members come from libarchive */
    int member_state;  /* 0 before the first member, 1 in one, 2 done */
    char kind[32];
    char warning[1200];
    char errmsg[1100]; /* set by the libarchive callback on a read error */

    /* decompression-bomb defence (cm_source_set_limits) */
    uint64_t max_member_size;
    double max_ratio;
    uint64_t member_out;      /* decompressed bytes of the current member */
    uint64_t member_in_start; /* file offset where it started */
    const char *member_name;
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

/* Hands out what is left of a peek buffer; 0 when it is used up. */
static size_t take_peek(const char *peek, size_t len, size_t *pos, char *buf, size_t n)
{
    size_t k = len - *pos;
    if (k > n) k = n;
    memcpy(buf, peek + *pos, k);
    *pos += k;
    return k;
}

static long file_read(cm_source *s, char *buf, size_t n, cm_err *err)
{
    if (s->fpeek_pos < s->fpeek_len) return (long)take_peek(s->fpeek, s->fpeek_len, &s->fpeek_pos, buf, n);
    return file_read_raw(s, buf, n, err);
}

/* Offset in the file of the next compressed byte not yet decoded. */
static unsigned long long undecoded_at(const cm_source *s)
{
    return (unsigned long long)(s->file_offset - (s->zin_len - s->zin_pos));
}

static int truncated(cm_source *s, cm_err *err)
{
    return cm_errorf(err, "%s: truncated %s stream: the file ends inside compressed data (byte %llu)", s->path,
                     COMP_NAMES[s->comp], (unsigned long long)s->file_offset);
}

/* One decoding step of the current codec over zin[zin_pos..zin_len) into
 * out. Returns bytes produced, or -1 with err. Updates in_frame. */
static long decode_step(cm_source *s, char *out, size_t n, cm_err *err)
{
    const unsigned char *in = (const unsigned char *)s->zin + s->zin_pos;
    size_t avail = s->zin_len - s->zin_pos;
    size_t used = 0, made = 0;
    switch (s->comp) {
    case COMP_ZSTD: {
        ZSTD_inBuffer ib = {in, avail, 0};
        ZSTD_outBuffer ob = {out, n, 0};
        size_t r = ZSTD_decompressStream(s->zd, &ob, &ib);
        if (ZSTD_isError(r))
            return cm_errorf(err, "%s: corrupt zstd data near byte %llu: %s", s->path, undecoded_at(s), ZSTD_getErrorName(r));
        used = ib.pos;
        made = ob.pos;
        s->in_frame = r != 0;
        break;
    }
    case COMP_GZIP: {
        if (!s->in_frame && avail >= 2 && !(in[0] == 0x1f && in[1] == 0x8b)) {
            /* a gzip member ended and what follows is not another one */
            return cm_errorf(err, "%s: unexpected data after the end of the gzip stream (byte %llu)", s->path, undecoded_at(s));
        }
        if (!s->in_frame) inflateReset(&s->gz);
        s->gz.next_in = (Bytef *)in;
        s->gz.avail_in = (uInt)avail;
        s->gz.next_out = (Bytef *)out;
        s->gz.avail_out = (uInt)n;
        int r = inflate(&s->gz, Z_NO_FLUSH);
        if (r != Z_OK && r != Z_STREAM_END && r != Z_BUF_ERROR)
            return cm_errorf(err, "%s: corrupt gzip data near byte %llu: %s", s->path, undecoded_at(s),
                             s->gz.msg ? s->gz.msg : "inflate failed");
        used = avail - s->gz.avail_in;
        made = n - s->gz.avail_out;
        s->in_frame = r != Z_STREAM_END;
        break;
    }
    case COMP_XZ: {
        s->xz.next_in = in;
        s->xz.avail_in = avail;
        s->xz.next_out = (uint8_t *)out;
        s->xz.avail_out = n;
        lzma_ret r = lzma_code(&s->xz, LZMA_RUN);
        if (r != LZMA_OK && r != LZMA_STREAM_END && r != LZMA_BUF_ERROR)
            return cm_errorf(err, "%s: corrupt xz data near byte %llu (lzma error %d)", s->path, undecoded_at(s), (int)r);
        used = avail - s->xz.avail_in;
        made = n - s->xz.avail_out;
        s->in_frame = 1; /* xz knows the end only when told the input ended */
        break;
    }
    case COMP_BZIP2: {
        if (!s->in_frame) {
            BZ2_bzDecompressEnd(&s->bz);
            memset(&s->bz, 0, sizeof s->bz);
            BZ2_bzDecompressInit(&s->bz, 0, 0);
        }
        s->bz.next_in = (char *)in;
        s->bz.avail_in = (unsigned)avail;
        s->bz.next_out = out;
        s->bz.avail_out = (unsigned)n;
        int r = BZ2_bzDecompress(&s->bz);
        if (r != BZ_OK && r != BZ_STREAM_END)
            return cm_errorf(err, "%s: corrupt bzip2 data near byte %llu (bzip2 error %d)", s->path, undecoded_at(s), r);
        used = avail - s->bz.avail_in;
        made = n - s->bz.avail_out;
        s->in_frame = r != BZ_STREAM_END;
        break;
    }
    default:
        return cm_errorf(err, "%s: no decoder", s->path);
    }
    s->zin_pos += used;
    return (long)made;
}

static long decode_read(cm_source *s, char *buf, size_t n, cm_err *err)
{
    for (;;) {
        if (s->zin_pos == s->zin_len) {
            long r = file_read(s, s->zin, s->zin_cap, err);
            if (r < 0) return -1;
            s->zin_len = (size_t)r;
            s->zin_pos = 0;
            if (r == 0) {
                if (s->comp == COMP_XZ) {
                    /* tell liblzma the input ended: it says whether the stream was complete */
                    s->xz.next_in = NULL;
                    s->xz.avail_in = 0;
                    s->xz.next_out = (uint8_t *)buf;
                    s->xz.avail_out = n;
                    lzma_ret lr = lzma_code(&s->xz, LZMA_FINISH);
                    size_t made = n - s->xz.avail_out;
                    if (made) return (long)made;
                    if (lr == LZMA_STREAM_END) return 0;
                    return truncated(s, err);
                }
                if (s->in_frame) return truncated(s, err);
                return 0;
            }
        }
        long made = decode_step(s, buf, n, err);
        if (made != 0) return made;
    }
}

/* The decompressed stream below libarchive / the member reader. */
static long stream_read(cm_source *s, char *buf, size_t n, cm_err *err)
{
    if (s->speek_pos < s->speek_len) return (long)take_peek(s->speek, s->speek_len, &s->speek_pos, buf, n);
    return s->comp == COMP_NONE ? file_read(s, buf, n, err) : decode_read(s, buf, n, err);
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
    if (s->dec_ready && s->comp == COMP_GZIP) inflateEnd(&s->gz);
    if (s->dec_ready && s->comp == COMP_XZ) lzma_end(&s->xz);
    if (s->dec_ready && s->comp == COMP_BZIP2) BZ2_bzDecompressEnd(&s->bz);
    if (s->fd >= 0) close(s->fd);
    free(s->zin);
    free(s->arbuf);
    free(s->path);
    free(s);
}

static int start_decoder(cm_source *s, cm_err *err)
{
    s->zin_cap = 1u << 17;
    s->zin = cm_malloc(s->zin_cap);
    int ok = 1;
    switch (s->comp) {
    case COMP_ZSTD:
        s->zd = ZSTD_createDCtx();
        ok = s->zd && !ZSTD_isError(ZSTD_DCtx_setParameter(s->zd, ZSTD_d_windowLogMax, 31));
        break;
    case COMP_GZIP:
        ok = inflateInit2(&s->gz, 15 + 16) == Z_OK; /* gzip wrapper only */
        break;
    case COMP_XZ: {
        lzma_stream init = LZMA_STREAM_INIT;
        s->xz = init;
        ok = lzma_stream_decoder(&s->xz, UINT64_MAX, LZMA_CONCATENATED) == LZMA_OK;
        break;
    }
    case COMP_BZIP2:
        ok = BZ2_bzDecompressInit(&s->bz, 0, 0) == BZ_OK;
        break;
    }
    if (!ok) return cm_errorf(err, "%s: cannot start the %s decoder", s->path, COMP_NAMES[s->comp]);
    s->dec_ready = 1;
    s->in_frame = 1; /* a compressed file with nothing decodable is truncated */
    return 0;
}

static int fill_peek(cm_source *s, char *peek, size_t *len, int from_stream, cm_err *err)
{
    *len = 0;
    while (*len < PEEK_CAP) {
        long r = from_stream ? decode_read(s, peek + *len, PEEK_CAP - *len, err)
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
    if (s->comp != COMP_NONE) {
        if (start_decoder(s, err)) { cm_source_close(s); return NULL; }
        if (fill_peek(s, s->speek, &s->speek_len, 1, err)) { cm_source_close(s); return NULL; }
        s->speek_pos = 0;
        tar = is_tar_header(s->speek, s->speek_len);
    } else {
        tar = is_tar_header(s->fpeek, s->fpeek_len);
    }
    s->archive_mode = tar;
    if (tar) {
        s->ar = archive_read_new();
        s->arbuf = cm_malloc(IO_CHUNK);
        archive_read_support_format_tar(s->ar);
        archive_read_support_format_gnutar(s->ar);
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
        s->member_out = 0;
        s->member_in_start = 0;
        s->member_name = NULL;
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
        if (archive_entry_filetype(e) != AE_IFREG) continue; /* directories, links: nothing to read */
        s->member_state = 1;
        *name = archive_entry_pathname(e);
        if (!*name) *name = "?";
        s->member_out = 0;
        s->member_in_start = s->file_offset;
        s->member_name = *name;
        return 1;
    }
}

void cm_source_set_limits(cm_source *s, uint64_t max_member_size, double max_ratio)
{
    s->max_member_size = max_member_size;
    s->max_ratio = max_ratio;
}

/* The ratio is judged only past this much output: small files of
 * repetitive text legitimately compress very well. */
#define RATIO_FLOOR (64u << 20)

static long check_limits(cm_source *s, long r, cm_err *err)
{
    if (r <= 0) return r;
    s->member_out += (uint64_t)r;
    const char *member = s->member_name ? s->member_name : "";
    if (s->max_member_size && s->member_out > s->max_member_size)
        return cm_errorf(err, "%s%s%s: limit:member_size: decompresses to more than %llu bytes (input.max_member_size)",
                         s->path, *member ? ":" : "", member, (unsigned long long)s->max_member_size);
    uint64_t in = s->file_offset - s->member_in_start;
    if (s->max_ratio > 0 && s->member_out > RATIO_FLOOR && (double)s->member_out > s->max_ratio * (double)(in ? in : 1))
        return cm_errorf(err,
                         "%s%s%s: limit:ratio: %llu bytes from %llu compressed, more than %.0f times "
                         "(a decompression bomb? input.max_ratio)",
                         s->path, *member ? ":" : "", member, (unsigned long long)s->member_out,
                         (unsigned long long)in, s->max_ratio);
    return r;
}

long cm_source_read(cm_source *s, char *buf, size_t cap, cm_err *err)
{
    if (s->member_state != 1) return 0;
    if (!s->archive_mode) return check_limits(s, stream_read(s, buf, cap, err), err);
    la_ssize_t r = archive_read_data(s->ar, buf, cap);
    if (r < 0) {
        return cm_errorf(err, "%s: truncated or corrupt data near byte %llu: %s", s->path,
                         (unsigned long long)s->file_offset,
                         s->errmsg[0] ? s->errmsg : archive_error_string(s->ar));
    }
    return check_limits(s, (long)r, err);
}
