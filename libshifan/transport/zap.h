/* zap.h - our ZAP handler (ZeroMQ RFC 27): which CURVE keys may connect.
 *
 * A REP socket bound to inproc://zeromq.zap.01 in the node's context, served
 * from the node's own event loop. It answers from an in-memory table (key ->
 * unit code), never from LMDB, because libzmq waits for the answer inside
 * the handshake (dependency-traps A9). An accepted key gets "<code>:<key>"
 * (its unit code and its Z85 public key) as the ZAP user id, so every
 * message it sends carries that as its "User-Id" property; every other key
 * is refused (status 400) and counted.
 *
 * zap_secure_server() makes a socket a CURVE server that fails closed: a
 * non-empty ZAP domain plus ZMQ_ZAP_ENFORCE_DOMAIN (option 93, set through
 * libzmq because CZMQ's setter is a no-op on bookworm, A1-A3), read back.
 *
 * Ownership: one handler per context (the endpoint is fixed); the caller
 * owns it, and destroys it after the servers that rely on it and before
 * the context is terminated. The table is copied in.
 * Threads: the thread that runs the loop; handshakes of every socket in
 * the context wait until zap_handle() answers, so call it whenever
 * zap_socket() is readable. */
#ifndef SHIFAN_ZAP_H
#define SHIFAN_ZAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#define ZAP_DOMAIN "shifan"
#define ZAP_CODE_MAX 16

typedef struct zap zap_t;

typedef struct {
    uint8_t key[32];
    char code[ZAP_CODE_MAX];
} zap_entry_t;

/* Binds the handler in ctx (a ZeroMQ context) with an empty table: every
 * key is refused until zap_set_entries(). NULL with error SF_ENOMEM, or
 * SF_ESTATE if the endpoint is taken (a handler already runs in ctx). */
zap_t *zap_new(void *ctx, sf_error_t *error);
/* Closes the socket, frees the handler and sets *self_p to NULL; a NULL
 * *self_p is a no-op. */
void zap_destroy(zap_t **self_p);

/* The REP socket, for zmq_poll; owned by the handler. */
void *zap_socket(zap_t *self);

/* Replaces the table of allowed keys (copied). Handshakes from now on are
 * answered from it; sessions already established are not closed here (a
 * link server whose admit hook asks zap_is_current() drops their frames).
 * 0, or SF_ENOMEM with the old table kept. */
int zap_set_entries(zap_t *self, const zap_entry_t *entries, size_t count);

/* Answers every pending request without blocking. */
void zap_handle(zap_t *self);

/* True while key_z85 (Z85 text) is registered to code in the table; false
 * for a key that is not valid Z85. */
bool zap_is_current(const zap_t *self, const char *code, const char *key_z85);

/* Requests accepted and refused (malformed, not CURVE, or unknown key)
 * since zap_new. */
uint64_t zap_accepted(const zap_t *self);
uint64_t zap_refused(const zap_t *self);

/* Configures socket as a CURVE server with an enforced ZAP domain. Must be
 * called before bind (Z11). Returns 0; SF_EINVAL if secret_z85 is not a
 * Z85 key; SF_ESTATE if enforcement could not be switched on (logged: the
 * node must then refuse to start) or CURVE could not be set. */
int zap_secure_server(void *socket, const char *secret_z85);

#endif
