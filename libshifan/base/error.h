/* error.h - the project-wide error codes, and the one way to fail.
 *
 * Every library function that can fail returns 0 or one of these negative
 * codes; programs turn them into messages and exit codes (0, 1, 2). The
 * library never exits and never prints on its own behalf except through
 * slog.
 *
 * Constructors all have one shape:
 *
 *     x_t *x_new(arguments..., sf_error_t *error);   (or x_open, x_load_*)
 *     void x_destroy(x_t **self_p);                   (sets *self_p to NULL)
 *
 * x_new returns a new object the caller owns, or NULL with error->code set
 * to a negative sf_err_t and error->text to a sentence for the user (error
 * may be NULL when the caller does not care why). Functions that fail with
 * a reason a user must read take `char *err, size_t errsize` last. */
#ifndef SHIFAN_ERROR_H
#define SHIFAN_ERROR_H

typedef enum {
    SF_OK = 0,
    SF_EINVAL = -1,    /* bad input: a file, field or argument is wrong */
    SF_ENOMEM = -2,    /* out of memory */
    SF_EIO = -3,       /* an operating-system call failed (see errno in the log) */
    SF_ENOSPC = -4,    /* the disk is full: nothing new was committed */
    SF_ENOTFOUND = -5, /* no such record */
    SF_EEXIST = -6,    /* the record exists already */
    SF_ECORRUPT = -7,  /* stored data does not decode */
    SF_EPROTO = -8,    /* a peer broke the wire protocol */
    SF_EDENIED = -9,   /* a key or unit is not allowed */
    SF_ESTATE = -10,   /* the node is not in a state for this (not initialised, ...) */
    SF_ESTORE = -11,   /* LMDB failed in a way not listed above */
    SF_ETOOBIG = -12,  /* a message or field exceeds its limit */
    /* Internal: never returned across a public function. */
    SF_EGROW = -13,  /* storage: the map is full; store_write() grows it and runs again */
    SF_ERERUN = -14, /* transport: the group transaction runs again without a refused item */
} sf_err_t;

/* What went wrong: a code and a sentence (English, for the log and for
 * the programs to show). */
typedef struct {
    int code;       /* a negative sf_err_t; 0 while nothing failed */
    char text[512]; /* "" if the code says it all */
} sf_error_t;

/* Sets error (if not NULL) to code and the formatted text; returns code,
 * so that `return sf_error_set(error, SF_EINVAL, "...")` reads as one. */
int sf_error_set(sf_error_t *error, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A short English sentence for an error code; never NULL. */
const char *sf_strerror(int err);

#endif
