/* check.h -- the few assertion macros the C unit tests use. Each failed check
 * prints its file, line and expression; main returns non-zero if any failed,
 * which CTest reports. */
#ifndef CM_CHECK_H
#define CM_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failures;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            check_failures++;                                                        \
        }                                                                            \
    } while (0)

#define CHECK_STR(got, want)                                                                          \
    do {                                                                                              \
        const char *g_ = (got), *w_ = (want);                                                         \
        if (!g_ || strcmp(g_, w_) != 0) {                                                             \
            fprintf(stderr, "%s:%d: %s\n  got:  \"%s\"\n  want: \"%s\"\n", __FILE__, __LINE__, #got, \
                    g_ ? g_ : "(null)", w_);                                                          \
            check_failures++;                                                                         \
        }                                                                                             \
    } while (0)

#define CHECK_CONTAINS(hay, needle)                                                                       \
    do {                                                                                                  \
        const char *h_ = (hay), *n_ = (needle);                                                           \
        if (!h_ || !strstr(h_, n_)) {                                                                     \
            fprintf(stderr, "%s:%d: \"%s\" does not contain \"%s\"\n", __FILE__, __LINE__, h_ ? h_ : "", n_); \
            check_failures++;                                                                             \
        }                                                                                                 \
    } while (0)

#define CHECK_DONE()                                                          \
    do {                                                                      \
        if (check_failures) fprintf(stderr, "%d checks failed\n", check_failures); \
        return check_failures ? 1 : 0;                                        \
    } while (0)

#endif
