/* link.h - the durable link between a child and its parent (docs/protocol.md).
 *
 * The child connects out with a DEALER, the parent listens with a ROUTER;
 * both speak CURVE, and the parent admits only keys in its ZAP table. Each
 * direction is an outbox stream (outbox.h): the sender sends batches of
 * items from its outbox, at most LINK_WINDOW_ITEMS unacknowledged at a time;
 * the receiver applies each item once, in order, in one durable transaction
 * per group of frames that arrived together, and only then acknowledges the
 * highest applied sequence number. On every (re)connection the child says
 * Hello and the parent answers Welcome: both sides then resume from the
 * last durably acknowledged point. Sending never blocks (ZMQ_DONTWAIT): a
 * full or absent peer just means "try again later", never a stalled daemon.
 *
 * Payloads are opaque to the link: the apply hook of the node decides what
 * an item means, in the receiver's transaction, and may refuse it.
 *
 * Threads: a link object belongs to the thread running the node's loop. */
#ifndef SHIFAN_LINK_H
#define SHIFAN_LINK_H

#include <lmdb.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "zap.h"

/* Timers and sizes. docs/protocol.md explains each. */
#define LINK_HEARTBEAT_MS 1000    /* ZMTP heartbeat and app Ping interval */
#define LINK_DEAD_MS 3000         /* silence after which a link is declared down */
#define LINK_HANDSHAKE_MS 1500    /* ZMTP/CURVE handshake must finish within this */
#define LINK_RECONNECT_MS 100     /* first reconnect delay ... */
#define LINK_RECONNECT_MAX_MS 500 /* ... doubling up to this */
#define LINK_HELLO_RETRY_MS 500   /* Hello resent while no Welcome */
#define LINK_RESEND_MS 3000       /* unacknowledged items resent after this */
#define LINK_BATCH_ITEMS 64
#define LINK_BATCH_BYTES (96 * 1024)
#define LINK_WINDOW_ITEMS 16384    /* 256 full batches in flight */
#define LINK_PEER_SILENT_MS 5000   /* parent stops sending to a silent child */
#define LINK_REFUSED_RETRY_MS 3000 /* reconnect after a refused or failed handshake */

/* Returned by an apply hook: the item is consumed (it counts as applied and
 * is acknowledged, so the sender stops resending it) but was refused; the
 * sender is told why. */
#define LINK_REFUSED 1

typedef struct {
    void *arg;
    /* Applies one received item in the receiver's write transaction. `peer`
     * is the sender's unit code as proven by its key. Returns 0, LINK_REFUSED
     * (with a reason in why), or a negative sf_err_t that aborts the whole
     * transaction (nothing is acknowledged; the sender will resend).
     * May run more than once for the same item if the transaction is retried
     * after the map grew: derive everything from txn. */
    int (*apply)(void *arg, MDB_txn *txn, const char *peer, const uint8_t *payload, size_t len,
                 char *why, size_t whysize);
    /* Called while handling a Hello whose down_epoch is not our stream's:
     * the child has never seen that stream (first contact, or a
     * re-initialised child); optional. Runs inside the transaction. */
    int (*new_peer)(void *arg, MDB_txn *txn, const char *peer);
    /* Parent only: is this key still registered to this code? Asked for
     * every frame, answered from memory; NULL admits whatever ZAP admitted. */
    bool (*admit)(void *arg, const char *code, const char *key_z85);
} link_hooks_t;

typedef enum { LINK_CONNECTING = 0, LINK_UP, LINK_REFUSED_KEY } link_state_t;
const char *link_state_name(link_state_t state);

/* ---- child side ---- */
typedef struct link_client link_client_t;

typedef struct {
    const char *code;       /* own unit code */
    const char *endpoint;   /* parent, e.g. tcp://127.0.0.1:7001 */
    const char *server_key; /* parent's public key, Z85 */
    const char *public_key; /* own key pair, Z85 */
    const char *secret_key;
} link_client_config_t;

link_client_t *link_client_new(void *ctx, store_t *store, const link_client_config_t *config,
                               const link_hooks_t *hooks, int *err);
void link_client_destroy(link_client_t **self_p);
/* Sockets to poll for ZMQ_POLLIN: the DEALER and its monitor. */
void *link_client_socket(link_client_t *self);
void *link_client_monitor(link_client_t *self);
void link_client_on_readable(link_client_t *self);
void link_client_on_monitor(link_client_t *self);
/* Timers and sending; call at least every 100 ms and after local appends. */
void link_client_tick(link_client_t *self);
link_state_t link_client_state(const link_client_t *self);
/* Wall-clock unix time of the last frame from the parent, 0 if never. */
int64_t link_client_last_contact(const link_client_t *self);
uint64_t link_client_acked(const link_client_t *self);

/* ---- parent side ---- */
typedef struct link_server link_server_t;

typedef struct {
    const char *code;       /* own unit code, sent in Welcome */
    const char *endpoint;   /* bind, e.g. tcp://0.0.0.0:7001 */
    const char *secret_key; /* own secret key, Z85 */
} link_server_config_t;

/* The ZAP handler must already be running in ctx (zap_new). */
link_server_t *link_server_new(void *ctx, store_t *store, const link_server_config_t *config,
                               const link_hooks_t *hooks, int *err);
void link_server_destroy(link_server_t **self_p);
void *link_server_socket(link_server_t *self);
/* The endpoint actually bound (resolves a "tcp://127.0.0.1:*" wildcard). */
const char *link_server_endpoint(const link_server_t *self);
void link_server_on_readable(link_server_t *self);
void link_server_tick(link_server_t *self);
/* Stream name of the downward stream to a child ("d:<code>"). */
void link_down_stream(char *out, size_t size, const char *child_code);

typedef struct {
    char code[16];
    bool connected;
    int64_t last_contact; /* wall clock */
    uint64_t down_pending;
} link_peer_info_t;
/* Fills up to max peers; returns the number of known peers. */
size_t link_server_peers(link_server_t *self, link_peer_info_t *out, size_t max);
uint64_t link_server_dropped_frames(const link_server_t *self);
uint64_t link_server_refused_items(const link_server_t *self);

#endif
