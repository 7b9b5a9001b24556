/* error.h - the project-wide error codes.
 *
 * Every library function that can fail returns 0 or one of these negative
 * codes; programs turn them into messages and exit codes (0, 1, 2). The
 * library never exits and never prints on its own behalf except through
 * slog. */
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
} sf_err_t;

/* A short English sentence for an error code; never NULL. */
const char *sf_strerror(int err);

#endif
