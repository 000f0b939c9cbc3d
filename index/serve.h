/* serve.h -- the HTTP search server over an export (see serve.c); the
 * command `corpusmill serve` is programs/cmd_serve.c. */
#ifndef CM_SERVE_H
#define CM_SERVE_H

#include <stddef.h>
#include <stdint.h>

#include "../pipeline/util.h"

struct sockaddr_in;

/* The server: an export opened with `threads` searchers. Requests over
 * max_active in progress get 503; a body larger than max_body 413; a
 * connection idle, or a body unfinished, `timeout` seconds after its
 * headers is closed. NULL with err when the export cannot be opened. */
typedef struct cm_server cm_server;
cm_server *cm_server_open(const char *dir, int threads, size_t max_body, unsigned timeout, unsigned max_active,
                          cm_err *err);
/* Starts serving: on addr, or with no listening socket when addr is NULL
 * (connections then come from cm_server_add_connection). */
int cm_server_start(cm_server *s, const struct sockaddr_in *addr, unsigned max_connections, cm_err *err);
/* Hands the server a connected socket (the fuzzer's socketpair). */
int cm_server_add_connection(cm_server *s, int fd);
unsigned cm_server_port(const cm_server *s);
/* When the export's manifest changed since it was opened (`index update`),
 * opens the export again and serves the new generation from the next
 * request on (requests in progress finish on the old one). *reloaded says
 * whether it did; -1 with err when the new generation cannot be opened (the
 * old one serves on). */
int cm_server_reload(cm_server *s, int *reloaded, cm_err *err);
uint64_t cm_server_chunks(const cm_server *s);
/* Stops serving and frees everything. */
void cm_server_close(cm_server *s);

#endif
