/* serve.h -- `corpusmill serve RAG_DIR`: HTTP search over an export (see serve.c). */
#ifndef CM_SERVE_H
#define CM_SERVE_H

extern const char cm_serve_usage[];

/* argv after the command name. Runs until SIGINT or SIGTERM. */
int cm_serve_main(int argc, char **argv);

#endif
