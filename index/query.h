/* query.h -- `corpusmill query RAG_DIR TEXT [--k K] [--mode dense|bm25|hybrid] [--json]`. */
#ifndef CM_QUERY_H
#define CM_QUERY_H

extern const char cm_query_usage[];

/* argv after the command name. Returns a CM_EXIT_* status. */
int cm_query_main(int argc, char **argv);

#endif
