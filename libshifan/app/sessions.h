/* sessions.h - the console's logins, in memory: a session per successful
 * login, named by a random 256-bit id (the cookie's value) and carrying a
 * second random 256-bit token the page sends back with every change
 * (X-CSRF-Token), and a count of failed logins per name against guessing.
 *
 * Sessions live in the daemon's memory only: a restart logs everyone out.
 * A session ends on logout, after SESSIONS_IDLE_MS without a request, when
 * the table is full and it is the least recently used, or when its
 * operator's account is removed (the console checks that per request).
 * Ids and tokens come from libsodium's randombytes_buf and are compared in
 * constant time (sodium_memcmp).
 *
 * Times are milliseconds of a monotonic clock the caller reads
 * (stime_mono_ms) and passes in, so tests can move them.
 * Ownership: the caller owns the table (sessions_new, sessions_destroy); an
 * entry returned is borrowed and valid until the next sessions_open or
 * sessions_close* call. Threads: one, the daemon's. */
#ifndef SHIFAN_SESSIONS_H
#define SHIFAN_SESSIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#define SESSIONS_COOKIE "shifan_session"
#define SESSIONS_MAX 256                            /* sessions at once */
#define SESSIONS_IDLE_MS ((int64_t)8 * 3600 * 1000) /* ended after 8 h without a request */
#define SESSIONS_FREE_FAILURES 5                    /* failed logins per name before a wait */
#define SESSIONS_LOCK_MS ((int64_t)30 * 1000)       /* the wait after them */
#define SESSIONS_TOKEN_HEX 64                       /* 32 random bytes as hex */

typedef struct {
    char id[SESSIONS_TOKEN_HEX + 1];   /* the cookie's value; "" for a free slot */
    char csrf[SESSIONS_TOKEN_HEX + 1]; /* what X-CSRF-Token must carry */
    char who[65];                      /* the operator's name */
    int64_t last_seen_ms;
} sessions_entry_t;

typedef struct sessions sessions_t;

/* An empty table. NULL with error set (SF_ENOMEM, or SF_EIO when libsodium
 * cannot start). */
sessions_t *sessions_new(sf_error_t *error);
/* Ends every session and sets *self_p to NULL. */
void sessions_destroy(sessions_t **self_p);

/* A new session for who (at most 64 bytes of it kept), seen at now_ms;
 * when the table is full the least recently seen session ends for it. */
const sessions_entry_t *sessions_open(sessions_t *self, const char *who, int64_t now_ms);

/* The session a Cookie header names (SESSIONS_COOKIE=ID among its pairs),
 * marked seen at now_ms; NULL when it names none, an unknown one or one
 * idle for SESSIONS_IDLE_MS (which then ends). */
const sessions_entry_t *sessions_find(sessions_t *self, const char *cookie, int64_t now_ms);

/* Ends the session id (nothing when there is none). */
void sessions_close(sessions_t *self, const char *id);
/* Ends every session of who. */
void sessions_close_operator(sessions_t *self, const char *who);

/* True if token is the session's CSRF token (constant time). */
bool sessions_csrf_ok(const sessions_entry_t *session, const char *token);

/* Guessing: 0 if who may try a password now, else the milliseconds left
 * to wait (after SESSIONS_FREE_FAILURES failures in a row, SESSIONS_LOCK_MS
 * from the last). The count is kept per name, for up to 64 names (the
 * oldest forgotten first), whether the name exists or not. */
int64_t sessions_login_wait_ms(sessions_t *self, const char *who, int64_t now_ms);
void sessions_login_failed(sessions_t *self, const char *who, int64_t now_ms);
void sessions_login_succeeded(sessions_t *self, const char *who);

#endif
