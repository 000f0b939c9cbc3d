/* inspect.h -- `corpusmill status OUT` and `corpusmill digest OUT`, which read
 * an output directory and change nothing (see inspect.c). */
#ifndef CM_INSPECT_H
#define CM_INSPECT_H

extern const char cm_status_usage[];
extern const char cm_digest_usage[];

/* argv after the command name. Return a CM_EXIT_* status. */
int cm_status_main(int argc, char **argv);
int cm_digest_main(int argc, char **argv);

#endif
