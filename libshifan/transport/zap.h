/* zap.h - our ZAP handler (ZeroMQ RFC 27): which CURVE keys may connect.
 *
 * A REP socket bound to inproc://zeromq.zap.01 in the node's context, served
 * from the node's own event loop. It answers from an in-memory table (key ->
 * unit code), never from LMDB, because libzmq waits for the answer inside
 * the handshake (dependency-traps A9). An accepted key gets its unit code as
 * the ZAP user id, so every message it sends carries "User-Id" = its code.
 *
 * zap_secure_server() makes a socket a CURVE server that fails closed: a
 * non-empty ZAP domain plus ZMQ_ZAP_ENFORCE_DOMAIN (option 93, set through
 * libzmq because CZMQ's setter is a no-op on bookworm, A1-A3), read back. */
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

/* Binds the handler in ctx. NULL with *err set if the endpoint is taken. */
zap_t *zap_new(void *ctx, sf_error_t *error);
void zap_destroy(zap_t **self_p);

/* The REP socket, for zmq_poll. */
void *zap_socket(zap_t *self);

/* Replaces the table of allowed keys (copied). */
int zap_set_entries(zap_t *self, const zap_entry_t *entries, size_t count);

/* Answers every pending request without blocking. */
void zap_handle(zap_t *self);

/* True while key_z85 (Z85 text) is registered to code in the table. */
bool zap_is_current(const zap_t *self, const char *code, const char *key_z85);

uint64_t zap_accepted(const zap_t *self);
uint64_t zap_refused(const zap_t *self);

/* Configures socket as a CURVE server with an enforced ZAP domain. Must be
 * called before bind (Z11). Returns 0, or SF_ESTATE if enforcement could not
 * be switched on (the node must then refuse to start). */
int zap_secure_server(void *socket, const char *secret_z85);

#endif
