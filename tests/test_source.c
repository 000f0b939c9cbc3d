/* test_source.c -- reading every container and compression, found by
 * content: plain, gzip, xz, bzip2, zstd (also --long=31), tar, tar.gz,
 * tar.zst; truncated and corrupt streams keep what came before the damage;
 * names that lie; empty files; the line splitter's limits. Fixtures are made
 * here with the standard command-line tools. */
#include "check.h"
#include "format.h"
#include "source.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256];

static void sh(const char *fmt, const char *a)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, fmt, a, a, a, a);
    char full[4096];
    snprintf(full, sizeof full, "cd %s && %s", dir, cmd);
    if (system(full) != 0) {
        fprintf(stderr, "fixture command failed: %s\n", full);
        exit(1);
    }
}

static const char *at(const char *name)
{
    static char p[1024];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return p;
}

/* Reads every member; concatenates "member|" names and the data. */
typedef struct result {
    cm_buf names, data;
    int members, failed;
    char kind[32], warning[1200], error[1200];
} result;

static void read_all(const char *name, result *r)
{
    memset(r, 0, sizeof *r);
    cm_buf_init(&r->names);
    cm_buf_init(&r->data);
    cm_err err;
    cm_source *s = cm_source_open(at(name), &err);
    if (!s) {
        r->failed = 1;
        snprintf(r->error, sizeof r->error, "%s", err.msg);
        return;
    }
    if (cm_source_warning(s)) snprintf(r->warning, sizeof r->warning, "%s", cm_source_warning(s));
    const char *member;
    int rc;
    char buf[7]; /* small reads exercise the buffering */
    while ((rc = cm_source_next_member(s, &member, &err)) == 1) {
        r->members++;
        cm_buf_append_str(&r->names, member ? member : "-");
        cm_buf_append_char(&r->names, '|');
        long n;
        while ((n = cm_source_read(s, buf, sizeof buf, &err)) > 0) cm_buf_append(&r->data, buf, (size_t)n);
        if (n < 0) { r->failed = 1; snprintf(r->error, sizeof r->error, "%s", err.msg); break; }
    }
    if (rc < 0) { r->failed = 1; snprintf(r->error, sizeof r->error, "%s", err.msg); }
    snprintf(r->kind, sizeof r->kind, "%s", cm_source_kind(s)); /* tar is known after the first header */
    if (!r->data.data) cm_buf_append(&r->data, "", 0);
    if (!r->names.data) cm_buf_append(&r->names, "", 0);
    cm_source_close(s);
}

static void free_result(result *r)
{
    cm_buf_free(&r->names);
    cm_buf_free(&r->data);
}

static const char LINES[] = "{\"id\":1,\"content\":\"first\"}\n{\"id\":2,\"content\":\"二\"}\n{\"id\":3,\"content\":\"third\"}\n";

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/cm-test-source-%d", (int)getpid());
    mkdir(dir, 0777);
    FILE *f = fopen(at("a.jsonl"), "wb");
    fputs(LINES, f);
    fclose(f);
    sh("gzip -c a.jsonl > a.jsonl.gz && xz -c a.jsonl > a.jsonl.xz && bzip2 -c a.jsonl > a.jsonl.bz2"
       " && zstd -q -c a.jsonl > a.jsonl.zst && cat a.jsonl | zstd -q --long=31 -c > long.jsonl.zst", "");
    sh("mkdir -p t/sub && cp a.jsonl t/sub/one.jsonl && printf '{\"id\":9,\"content\":\"x\"}\\n' > t/two.jsonl"
       " && tar -C t -cf a.tar sub two.jsonl && gzip -c a.tar > a.tar.gz && zstd -q -c a.tar > a.tar.zst", "");

    result r;
    const char *plain_like[][2] = {{"a.jsonl", "plain"}, {"a.jsonl.gz", "gzip"},     {"a.jsonl.xz", "xz"},
                                   {"a.jsonl.bz2", "bzip2"}, {"a.jsonl.zst", "zstd"}, {"long.jsonl.zst", "zstd"}};
    for (size_t i = 0; i < 6; i++) {
        read_all(plain_like[i][0], &r);
        if (r.failed) fprintf(stderr, "%s: %s\n", plain_like[i][0], r.error);
        CHECK(!r.failed);
        CHECK_STR(r.kind, plain_like[i][1]);
        CHECK(r.members == 1);
        CHECK_STR(r.names.data, "-|");
        CHECK_STR(r.data.data, LINES);
        CHECK(r.warning[0] == 0);
        free_result(&r);
    }

    const char *tars[][2] = {{"a.tar", "tar"}, {"a.tar.gz", "tar+gzip"}, {"a.tar.zst", "tar+zstd"}};
    for (size_t i = 0; i < 3; i++) {
        read_all(tars[i][0], &r);
        if (r.failed) fprintf(stderr, "%s: %s\n", tars[i][0], r.error);
        CHECK(!r.failed);
        CHECK_STR(r.kind, tars[i][1]);
        CHECK(r.members == 2); /* the directory entry is not a member */
        CHECK_STR(r.names.data, "sub/one.jsonl|two.jsonl|");
        CHECK(r.data.len == strlen(LINES) + strlen("{\"id\":9,\"content\":\"x\"}\n"));
        free_result(&r);
    }

    /* truncated streams: an error naming the file and offset, and the
     * bytes before the damage delivered */
    sh("seq 1 20000 | sed 's/.*/{\"id\":&,\"content\":\"line &\"}/' > big.jsonl"
       " && gzip -c big.jsonl | head -c 20000 > trunc.jsonl.gz"
       " && zstd -q -c big.jsonl | head -c 20000 > trunc.jsonl.zst"
       " && xz -c big.jsonl | head -c 20000 > trunc.jsonl.xz", "");
    const char *truncs[] = {"trunc.jsonl.gz", "trunc.jsonl.zst", "trunc.jsonl.xz"};
    for (size_t i = 0; i < 3; i++) {
        read_all(truncs[i], &r);
        CHECK(r.failed);
        CHECK_CONTAINS(r.error, truncs[i]);
        CHECK_CONTAINS(r.error, "byte");
        CHECK(r.data.len > 10000); /* what was readable came through */
        CHECK(strncmp(r.data.data, "{\"id\":1,\"content\":\"line 1\"}\n", 28) == 0);
        free_result(&r);
    }
    /* corrupt data after a valid gzip header */
    sh("gzip -c big.jsonl | head -c 100 > corrupt.jsonl.gz && head -c 5000 /dev/urandom >> corrupt.jsonl.gz", "");
    read_all("corrupt.jsonl.gz", &r);
    CHECK(r.failed);
    CHECK_CONTAINS(r.error, "corrupt.jsonl.gz");
    free_result(&r);

    /* a name that lies: the content wins, with a warning */
    sh("cp a.jsonl liar.jsonl.gz && cp a.jsonl.zst liar2.jsonl", "");
    read_all("liar.jsonl.gz", &r);
    CHECK(!r.failed);
    CHECK_STR(r.data.data, LINES);
    CHECK_CONTAINS(r.warning, "name says gzip but the content is plain");
    free_result(&r);
    read_all("liar2.jsonl", &r);
    CHECK(!r.failed);
    CHECK_STR(r.data.data, LINES);
    CHECK_CONTAINS(r.warning, "content is zstd");
    free_result(&r);

    /* empty file: one member with nothing in it */
    sh("touch empty.jsonl && mkdir -p adir.jsonl.gz", "");
    read_all("empty.jsonl", &r);
    CHECK(!r.failed && r.members == 1 && r.data.len == 0);
    free_result(&r);
    read_all("adir.jsonl.gz", &r);
    CHECK(r.failed);
    CHECK_CONTAINS(r.error, "is a directory");
    free_result(&r);
    read_all("missing.jsonl", &r);
    CHECK(r.failed);
    CHECK_CONTAINS(r.error, "missing.jsonl");
    free_result(&r);

    /* the line splitter: over-long lines are cut to evidence and skipped,
     * the last line may lack its newline */
    {
        f = fopen(at("long.txt"), "wb");
        fputs("short\n", f);
        for (int i = 0; i < 300000; i++) fputc('x', f);
        fputs("\nafter\nno-newline", f);
        fclose(f);
        cm_err err;
        cm_source *s = cm_source_open(at("long.txt"), &err);
        const char *m;
        CHECK(cm_source_next_member(s, &m, &err) == 1);
        cm_lines l;
        cm_lines_init(&l, s, 100000);
        const char *p;
        size_t n;
        uint64_t full, off;
        int flags;
        CHECK(cm_lines_next(&l, &p, &n, &full, &off, &flags) == 1 && n == 5 && !flags && off == 0);
        CHECK(cm_lines_next(&l, &p, &n, &full, &off, &flags) == 1);
        CHECK(flags == CM_LINE_TOO_LONG && n == CM_EVIDENCE_BYTES && full == 300000 && off == 6);
        CHECK(p[0] == 'x' && p[n - 1] == 'x');
        CHECK(cm_lines_next(&l, &p, &n, &full, &off, &flags) == 1 && n == 5 && memcmp(p, "after", 5) == 0);
        CHECK(l.line == 3 && off == 300007);
        CHECK(cm_lines_next(&l, &p, &n, &full, &off, &flags) == 1 && n == 10 && !flags);
        CHECK(cm_lines_next(&l, &p, &n, &full, &off, &flags) == 0 && !l.failed);
        cm_lines_free(&l);
        cm_source_close(s);
    }

    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", dir);
    CHECK_DONE();
}
