#include "base/error.h"

#include <stdarg.h>
#include <stdio.h>

const char *sf_strerror(int err)
{
    switch (err) {
    case SF_OK:
        return "success";
    case SF_EINVAL:
        return "invalid input";
    case SF_ENOMEM:
        return "out of memory";
    case SF_EIO:
        return "input/output error";
    case SF_ENOSPC:
        return "disk full: free space and retry, nothing committed was lost";
    case SF_ENOTFOUND:
        return "not found";
    case SF_EEXIST:
        return "already exists";
    case SF_ECORRUPT:
        return "stored data is corrupt";
    case SF_EPROTO:
        return "protocol error";
    case SF_EDENIED:
        return "not allowed";
    case SF_ESTATE:
        return "not possible in the current state";
    case SF_ESTORE:
        return "storage error";
    case SF_ETOOBIG:
        return "too large";
    case SF_EGROW:
        return "the store must grow (internal)";
    case SF_ERERUN:
        return "the transaction must run again (internal)";
    }
    return "unknown error";
}

int sf_error_set(sf_error_t *error, int code, const char *fmt, ...)
{
    if (error) {
        error->code = code;
        va_list args;
        va_start(args, fmt);
        vsnprintf(error->text, sizeof error->text, fmt, args);
        va_end(args);
    }
    return code;
}
