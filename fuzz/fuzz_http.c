/* fuzz_http.c -- the HTTP request handler of `corpusmill serve`: any bytes
 * as a request on a real connection (a socketpair handed to the server's
 * libmicrohttpd daemon), over a real export. The export is the one in
 * $CM_FUZZ_RAG (scripts/fuzz.sh makes it from the demo). Every answer must
 * be a complete HTTP response, or the connection closed. */
#include <errno.h>
#include <poll.h>
#include <sys/socket.h>

#include "fuzz_util.h"
#include "serve.h"

static cm_server *server;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc; (void)argv;
    const char *dir = getenv("CM_FUZZ_RAG");
    if (!dir) { fprintf(stderr, "fuzz_http: set CM_FUZZ_RAG to an export (scripts/fuzz.sh does)\n"); abort(); }
    cm_err err = {0};
    server = cm_server_open(dir, 1, 4096, 2, 8, &err);
    if (!server || cm_server_start(server, NULL, 8, &err)) { fprintf(stderr, "fuzz_http: %s\n", err.msg); abort(); }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) abort();
    if (cm_server_add_connection(server, sv[0]) != 0) { close(sv[1]); return 0; }
    size_t off = 0;
    while (off < size) {
        ssize_t w = send(sv[1], data + off, size - off, MSG_NOSIGNAL);
        if (w <= 0) break; /* the server closed early: fine */
        off += (size_t)w;
    }
    shutdown(sv[1], SHUT_WR);
    char buf[65536];
    size_t got = 0;
    struct pollfd p = {sv[1], POLLIN, 0};
    for (;;) {
        int r = poll(&p, 1, 5000);
        if (r == 0) { fprintf(stderr, "fuzz_http: no answer and no close in 5 s\n"); abort(); }
        ssize_t n = recv(sv[1], buf, sizeof buf, 0);
        if (n <= 0) break;
        if (got == 0 && n >= 5 && memcmp(buf, "HTTP/", 5) != 0) abort(); /* not an HTTP answer */
        got += (size_t)n;
    }
    close(sv[1]);
    return 0;
}
