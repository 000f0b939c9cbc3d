/* cmd_serve.c -- `corpusmill serve RAG_DIR`: the HTTP search server
 * (index/serve.h) on an address until SIGINT or SIGTERM. */
#define _GNU_SOURCE
#include "program.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../index/serve.h"

const char cm_serve_usage[] =
    "usage: corpusmill serve RAG_DIR [--host 127.0.0.1] [--port 8080] [--threads N]\n"
    "                        [--max-body BYTES] [--timeout S] [--max-connections N]\n"
    "\n"
    "Serves the export RAG_DIR over HTTP until interrupted, taking up a new\n"
    "generation of it (`index update`) within a second, requests in progress\n"
    "finishing on the old one:\n"
    "  POST /search    {\"query\": \"...\", \"k\": 5, \"mode\": \"dense|bm25|hybrid\"}\n"
    "  GET  /healthz   {\"status\": \"ok\", \"chunks\": N}\n"
    "  GET  /manifest  the export's manifest.json\n"
    "  --host H            address to bind (default 127.0.0.1: this machine only)\n"
    "  --port P            port (default 8080; 0 picks a free one, printed at start)\n"
    "  --threads N         worker threads, each with its own searcher (default 2)\n"
    "  --max-body BYTES    largest request body (default 65536; more gets 413)\n"
    "  --timeout S         close a connection idle this long (default 10)\n"
    "  --max-connections N connections at once (default 256)\n";

int cm_cmd_serve(int argc, char **argv)
{
    const char *dir = NULL, *host = "127.0.0.1";
    long port = 8080, threads = 2, max_body = 65536, timeout = 10, max_conn = 256;
    const cm_arg opts[] = {
        {"--host", NULL, CM_ARG_STRING, &host, 0, 0, NULL, NULL},
        {"--port", NULL, CM_ARG_LONG, &port, 0, 65535, NULL, "0..65535"},
        {"--threads", NULL, CM_ARG_LONG, &threads, 1, 256, NULL, "1..256"},
        {"--max-body", NULL, CM_ARG_LONG, &max_body, 64, 1 << 30, NULL, "64..2^30"},
        {"--timeout", NULL, CM_ARG_LONG, &timeout, 1, 3600, NULL, "1..3600"},
        {"--max-connections", NULL, CM_ARG_LONG, &max_conn, 1, 100000, NULL, "1..100000"},
        {NULL, NULL, 0, NULL, 0, 0, NULL, NULL},
    };
    static const char *const names[] = {"RAG_DIR"};
    cm_args a = {"serve", cm_serve_usage, opts, &dir, names, 1, 1};
    int help, rc = cm_args_parse(&a, argc, argv, &help);
    if (rc || help) return rc;
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1)
        return cm_usage_error("serve", cm_serve_usage, "--host '%s' is not an IPv4 address", host);

    cm_err err;
    cm_server *s = cm_server_open(dir, (int)threads, (size_t)max_body, (unsigned)timeout, (unsigned)max_conn, &err);
    if (!s) {
        fprintf(stderr, "corpusmill serve: %s\n", err.msg);
        return CM_EXIT_USAGE;
    }
    /* the signals that stop the server are taken by sigwait below, in every
     * thread (blocked before MHD starts its own) */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    if (cm_server_start(s, &addr, (unsigned)max_conn, &err)) {
        fprintf(stderr, "corpusmill serve: cannot listen on %s:%ld: %s\n", host, port, err.msg);
        rc = CM_EXIT_FAILED;
    } else {
        fprintf(stderr, "corpusmill serve: %s (%llu chunks) on http://%s:%u/ with %ld threads; Ctrl-C stops\n", dir,
                (unsigned long long)cm_server_chunks(s), host, cm_server_port(s), threads);
        /* every second, a new generation of the export (index update) is taken up */
        int sig;
        struct timespec second = {1, 0};
        while ((sig = sigtimedwait(&stop, NULL, &second)) < 0) {
            int reloaded;
            if (cm_server_reload(s, &reloaded, &err)) fprintf(stderr, "corpusmill serve: not reloaded: %s\n", err.msg);
            else if (reloaded)
                fprintf(stderr, "corpusmill serve: %s changed: now %llu chunks\n", dir,
                        (unsigned long long)cm_server_chunks(s));
        }
        fprintf(stderr, "corpusmill serve: stopping (signal %d)\n", sig);
    }
    cm_server_close(s);
    return rc;
}
