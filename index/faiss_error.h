/* faiss_error.h -- a FAISS C API failure as a cm_err: what was being done
 * and FAISS's own last error. */
#ifndef CM_FAISS_ERROR_H
#define CM_FAISS_ERROR_H

#include <faiss/c_api/error_c.h>

#include "../pipeline/util.h"

static inline int cm_faiss_error(cm_err *err, const char *what)
{
    const char *e = faiss_get_last_error();
    return cm_errorf(err, "FAISS: %s: %s", what, e ? e : "unknown error");
}

#endif
