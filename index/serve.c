/* serve.c -- the HTTP search server over an export (`corpusmill serve
 * RAG_DIR`, programs/cmd_serve.c), with libmicrohttpd.
 *
 *   POST /search    {"query": "...", "k": 5, "mode": "hybrid"} -> {"query", "mode", "answerable",
 *                   "relevance", "results": [...]} (answerable: null until `index calibrate`)
 *   GET  /healthz   {"status": "ok", "chunks": N}
 *   GET  /manifest  the export's manifest.json
 *
 * Bound to 127.0.0.1 unless --host says otherwise. A request body over
 * --max-body bytes gets 413, malformed JSON or fields 400, an unknown path
 * 404, a wrong method 405, every error as {"error": "..."}. A connection
 * idle for --timeout seconds is closed (a slow client cannot hold a worker);
 * A request's body must arrive within --timeout seconds of its headers, or
 * the connection is closed. --threads workers each own a searcher (their
 * own SQLite connection and embedder, one shared FAISS index); beyond
 * --max-connections requests in progress a request gets 503 at once (its
 * connection costs at most the 128 KiB header buffer), and beyond that again
 * connections are refused: memory stays bounded. No request path reaches
 * the filesystem: the manifest is read when the export is opened.
 *
 * `index update` switches the export's manifest to a new generation of its
 * files; cm_server_reload (the program calls it every second) opens the new
 * generation beside the old and swaps it in: a request runs wholly on one
 * generation, and the old one is closed when its last request ends. */
#define _GNU_SOURCE
#include "serve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../pipeline/json.h"
#include "rag.h"

#define MAX_K 1000

/* One generation of the export, open: a searcher per worker. */
typedef struct generation {
    cm_rag **rags;
    int *busy;
    int n;
    int refs;            /* requests using it */
    char *manifest;
    size_t manifest_len;
    uint64_t chunks;
} generation;

struct cm_server {
    char *dir;
    generation *current;
    struct stat seen;    /* the manifest current was opened from */
    pthread_mutex_t mu;
    pthread_cond_t freed;
    int n;
    size_t max_body;
    unsigned timeout;
    unsigned max_active;
    atomic_uint active;  /* requests between their headers and their end */
    struct MHD_Daemon *daemon;
};
typedef struct cm_server server;

typedef struct request {
    cm_buf body;
    int too_large;
    int busy;            /* counted in active; or answered 503 */
    double started;
} request;

static void free_generation(generation *g)
{
    if (!g) return;
    for (int i = g->n - 1; i >= 0; i--)
        if (g->rags[i]) cm_rag_close(g->rags[i]);
    free(g->rags);
    free(g->busy);
    free(g->manifest);
    free(g);
}

static generation *open_generation(const char *dir, int n, cm_err *err)
{
    generation *g = cm_calloc(1, sizeof *g);
    g->n = n;
    g->rags = cm_calloc((size_t)n, sizeof *g->rags);
    g->busy = cm_calloc((size_t)n, sizeof *g->busy);
    char path[4200];
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    cm_buf m;
    cm_buf_init(&m);
    int ok = (g->rags[0] = cm_rag_open(dir, err)) != NULL;
    for (int i = 1; i < n && ok; i++) ok = (g->rags[i] = cm_rag_open_shared(dir, g->rags[0], err)) != NULL;
    if (ok) ok = cm_read_file(path, &m, 16u << 20, err) == 0;
    g->manifest = m.data;
    g->manifest_len = m.len;
    if (!ok) {
        free_generation(g);
        return NULL;
    }
    g->chunks = cm_rag_size(g->rags[0]);
    return g;
}

/* The current generation, held for a request (and, with slot, one of its
 * searchers). */
static generation *acquire(server *s, int *slot)
{
    pthread_mutex_lock(&s->mu);
    for (;;) {
        generation *g = s->current;
        int got = -1;
        for (int i = 0; slot && i < g->n && got < 0; i++)
            if (!g->busy[i]) got = i;
        if (!slot || got >= 0) {
            if (slot) {
                g->busy[got] = 1;
                *slot = got;
            }
            g->refs++;
            pthread_mutex_unlock(&s->mu);
            return g;
        }
        pthread_cond_wait(&s->freed, &s->mu);
    }
}

static void release(server *s, generation *g, int slot)
{
    pthread_mutex_lock(&s->mu);
    if (slot >= 0) g->busy[slot] = 0;
    int last = --g->refs == 0 && g != s->current;
    pthread_cond_broadcast(&s->freed);
    pthread_mutex_unlock(&s->mu);
    if (last) free_generation(g); /* replaced, and its last request done */
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *body, size_t len)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, "Content-Type", "application/json; charset=utf-8");
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result error_reply(struct MHD_Connection *c, unsigned status, const char *msg)
{
    cm_buf b;
    cm_buf_init(&b);
    cm_buf_append_str(&b, "{\"error\": ");
    cm_buf_append_json_bytes(&b, msg, strlen(msg));
    cm_buf_append_str(&b, "}\n");
    enum MHD_Result ret = reply(c, status, b.data, b.len);
    cm_buf_free(&b);
    return ret;
}

/* POST /search: the body parsed, checked, searched. */
static enum MHD_Result search(server *s, struct MHD_Connection *c, cm_buf *body)
{
    cm_buf_reserve(body, CM_JSON_PADDING);
    memset(body->data + body->len, ' ', CM_JSON_PADDING);
    cm_json_parser *p = cm_json_parser_create();
    cm_json_record rec;
    cm_json_record_init(&rec);
    cm_err err;
    char msg[1200];
    unsigned status = 0;
    long k = 5;
    int mode = CM_RAG_HYBRID;
    const char *query = NULL, *mode_s = "hybrid";
    char mode_buf[16];
    if (cm_json_parse_record(p, body->data, body->len, &rec, &err) != 0) {
        snprintf(msg, sizeof msg, "the body is not a JSON object: %s", err.msg);
        status = MHD_HTTP_BAD_REQUEST;
    } else {
        long qi = cm_json_find(&rec, "query", NULL), ki = cm_json_find(&rec, "k", NULL), mi = cm_json_find(&rec, "mode", NULL);
        if (qi < 0 || rec.members[qi].type != CM_JSON_STRING || rec.members[qi].str_len == 0) {
            snprintf(msg, sizeof msg, "\"query\" must be a non-empty string");
            status = MHD_HTTP_BAD_REQUEST;
        } else {
            query = cm_json_str(&rec, &rec.members[qi]);
        }
        if (!status && ki >= 0) {
            const cm_json_member *m = &rec.members[ki];
            char *end;
            k = m->type == CM_JSON_NUMBER ? strtol(body->data + m->value_start, &end, 10) : -1;
            if (m->type != CM_JSON_NUMBER || end != body->data + m->value_end || k < 1 || k > MAX_K) {
                snprintf(msg, sizeof msg, "\"k\" must be an integer from 1 to %d", MAX_K);
                status = MHD_HTTP_BAD_REQUEST;
            }
        }
        if (!status && mi >= 0) {
            const cm_json_member *m = &rec.members[mi];
            if (m->type == CM_JSON_STRING) {
                snprintf(mode_buf, sizeof mode_buf, "%.*s", (int)m->str_len, cm_json_str(&rec, m));
                mode_s = mode_buf;
            }
            if (m->type != CM_JSON_STRING || (mode = cm_rag_mode_parse(mode_s)) < 0) {
                snprintf(msg, sizeof msg, "\"mode\" must be dense, bm25 or hybrid");
                status = MHD_HTTP_BAD_REQUEST;
            }
        }
    }
    enum MHD_Result ret;
    if (status) {
        ret = error_reply(c, status, msg);
    } else {
        int slot = -1;
        generation *g = acquire(s, &slot);
        cm_rag *r = g->rags[slot];
        cm_rag_hit *hits = cm_malloc((size_t)k * sizeof *hits);
        cm_rag_search_threads(1); /* the server's threads are its parallelism: one FAISS thread each */
        long n = cm_rag_search(r, query, (cm_rag_mode)mode, (size_t)k, hits, &err);
        cm_rag_verdict v;
        if (n >= 0 && cm_rag_judge(r, query, &v, &err)) n = -1;
        cm_buf out;
        cm_buf_init(&out);
        cm_buf_append_str(&out, "{\"query\": ");
        cm_buf_append_json_bytes(&out, query, strlen(query));
        cm_buf_appendf(&out, ", \"mode\": \"%s\", ", mode_s);
        if (n >= 0) cm_rag_verdict_json(&v, &out);
        cm_buf_append_str(&out, ", \"results\": [");
        for (long i = 0; i < n; i++) {
            if (i) cm_buf_append_str(&out, ", ");
            if (cm_rag_hit_json(r, &hits[i], (int)i + 1, &out, &err)) { n = -1; break; }
        }
        cm_buf_append_str(&out, "]}\n");
        release(s, g, slot);
        ret = n < 0 ? error_reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, err.msg) : reply(c, MHD_HTTP_OK, out.data, out.len);
        cm_buf_free(&out);
        free(hits);
    }
    cm_json_record_free(&rec);
    cm_json_parser_free(p);
    return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                              const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    (void)version;
    server *s = cls;
    int post = !strcmp(method, "POST");
    if (!*con_cls) { /* the headers: a request starts */
        request *rq = cm_calloc(1, sizeof *rq);
        cm_buf_init(&rq->body);
        *con_cls = rq;
        rq->started = cm_now();
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoull(cl, NULL, 10) > s->max_body) rq->too_large = 1;
        if (atomic_fetch_add(&s->active, 1) >= s->max_active) {
            atomic_fetch_sub(&s->active, 1);
            rq->busy = -1;
        } else {
            rq->busy = 1;
        }
        return MHD_YES;
    }
    request *rq = *con_cls;
    if (rq->busy < 0) { /* over max_active: answered now, body ignored */
        *upload_size = 0;
        return error_reply(c, MHD_HTTP_SERVICE_UNAVAILABLE, "the server is busy: retry shortly");
    }
    if (*upload_size) { /* a piece of the body */
        if (cm_now() - rq->started > s->timeout) return MHD_NO; /* a trickling body: close */
        if (!rq->too_large && rq->body.len + *upload_size <= s->max_body) cm_buf_append(&rq->body, upload, *upload_size);
        else rq->too_large = 1;
        *upload_size = 0;
        return MHD_YES;
    }
    if (!strcmp(url, "/search")) {
        if (!post) return error_reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "use POST for /search");
        if (rq->too_large) {
            char msg[96];
            snprintf(msg, sizeof msg, "the request body is larger than %zu bytes", s->max_body);
            return error_reply(c, MHD_HTTP_CONTENT_TOO_LARGE, msg);
        }
        return search(s, c, &rq->body);
    }
    if (!strcmp(url, "/healthz") || !strcmp(url, "/manifest")) {
        if (strcmp(method, "GET") && strcmp(method, "HEAD")) return error_reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "use GET");
        generation *g = acquire(s, NULL);
        enum MHD_Result ret;
        if (!strcmp(url, "/manifest")) {
            ret = reply(c, MHD_HTTP_OK, g->manifest, g->manifest_len);
        } else {
            char body[128];
            int n = snprintf(body, sizeof body, "{\"status\": \"ok\", \"chunks\": %llu}\n", (unsigned long long)g->chunks);
            ret = reply(c, MHD_HTTP_OK, body, (size_t)n);
        }
        release(s, g, -1);
        return ret;
    }
    return error_reply(c, MHD_HTTP_NOT_FOUND, "no such path (POST /search, GET /healthz, GET /manifest)");
}

static void finished(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode why)
{
    (void)c; (void)why;
    server *s = cls;
    request *rq = *con_cls;
    if (!rq) return;
    if (rq->busy > 0) atomic_fetch_sub(&s->active, 1);
    cm_buf_free(&rq->body);
    free(rq);
    *con_cls = NULL;
}


static int manifest_stat(const char *dir, struct stat *st)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    return stat(path, st);
}

cm_server *cm_server_open(const char *dir, int threads, size_t max_body, unsigned timeout, unsigned max_active,
                          cm_err *err)
{
    server *s = cm_calloc(1, sizeof *s);
    s->dir = cm_strdup(dir);
    s->max_body = max_body;
    s->timeout = timeout;
    s->max_active = max_active;
    atomic_init(&s->active, 0);
    s->n = threads;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->freed, NULL);
    if (manifest_stat(dir, &s->seen)) {
        cm_errorf(err, "%s/manifest.json: %s (not a RAG export?)", dir, strerror(errno));
        cm_server_close(s);
        return NULL;
    }
    if (!(s->current = open_generation(dir, threads, err))) {
        cm_server_close(s);
        return NULL;
    }
    return s;
}

int cm_server_reload(cm_server *s, int *reloaded, cm_err *err)
{
    *reloaded = 0;
    struct stat st;
    if (manifest_stat(s->dir, &st)) return cm_errorf(err, "%s/manifest.json: %s", s->dir, strerror(errno));
    if (st.st_ino == s->seen.st_ino && st.st_size == s->seen.st_size && st.st_mtim.tv_sec == s->seen.st_mtim.tv_sec &&
        st.st_mtim.tv_nsec == s->seen.st_mtim.tv_nsec)
        return 0;
    generation *g = open_generation(s->dir, s->n, err);
    if (!g) return -1; /* the old generation serves on; the next call tries again */
    pthread_mutex_lock(&s->mu);
    generation *old = s->current;
    s->current = g;
    s->seen = st;
    int idle = old->refs == 0;
    pthread_cond_broadcast(&s->freed);
    pthread_mutex_unlock(&s->mu);
    if (idle) free_generation(old); /* else its last request frees it */
    *reloaded = 1;
    return 0;
}

uint64_t cm_server_chunks(const cm_server *s) { return s->current->chunks; }

int cm_server_start(cm_server *s, const struct sockaddr_in *addr, unsigned max_connections, cm_err *err)
{
    /* a request over max_active is answered 503; the headroom above it
     * lets those answers go out before connections are refused */
    unsigned limit = max_connections + max_connections / 4 + 8;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    if (!addr) flags |= MHD_USE_NO_LISTEN_SOCKET;
    s->daemon = MHD_start_daemon(flags, addr ? ntohs(addr->sin_port) : 0, NULL, NULL, handle, s,
                                 MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)addr,
                                 MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)s->n,
                                 MHD_OPTION_CONNECTION_TIMEOUT, s->timeout,
                                 MHD_OPTION_CONNECTION_LIMIT, limit,
                                 MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)128 * 1024,
                                 MHD_OPTION_NOTIFY_COMPLETED, finished, s, MHD_OPTION_END);
    if (!s->daemon) return cm_errorf(err, "cannot start the HTTP server (address in use, or not this machine's?)");
    return 0;
}

unsigned cm_server_port(const cm_server *s)
{
    const union MHD_DaemonInfo *info = s->daemon ? MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT) : NULL;
    return info ? info->port : 0;
}

int cm_server_add_connection(cm_server *s, int fd)
{
    struct sockaddr_in peer;
    memset(&peer, 0, sizeof peer);
    peer.sin_family = AF_INET;
    peer.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return MHD_add_connection(s->daemon, fd, (const struct sockaddr *)&peer, sizeof peer) == MHD_YES ? 0 : -1;
}

void cm_server_close(cm_server *s)
{
    if (!s) return;
    if (s->daemon) MHD_stop_daemon(s->daemon);
    free_generation(s->current);
    free(s->dir);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->freed);
    free(s);
}
