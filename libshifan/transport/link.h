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
 * Ownership: the caller owns a link object and destroys it before the
 * store and before terminating the ZeroMQ context it was made in (net.h);
 * config strings and hooks are copied at creation, hooks->arg is only
 * passed back. The event functions (on_readable, on_monitor, tick) never
 * fail: what cannot be done now (a commit, a send) is logged and retried
 * later, and nothing is acknowledged that was not committed.
 * Threads: a link object belongs to the thread running the node's loop;
 * the hooks run on it (all but admit inside store_write()). */
#ifndef SHIFAN_LINK_H
#define SHIFAN_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "storage/store.h"
#include "transport/zap.h"

/* Timers and sizes. docs/protocol.md explains each. Timers marked
 * "floor" adapt upward to the link: round trips and drain times measured on
 * it, doubled after each timeout that made no progress (LINK_BACKOFF_MAX). */
#define LINK_HEARTBEAT_MS 1000     /* ZMTP heartbeat and app Ping interval */
#define LINK_DEAD_MS 3000          /* floor: silence after which a child declares the link dead */
#define LINK_ZMTP_TIMEOUT_MS 60000 /* ZMTP heartbeat timeout: only a backstop (see protocol.md) */
#define LINK_TCP_MAXRT_MS 30000    /* TCP_USER_TIMEOUT: data unacknowledged by TCP this long */
#define LINK_HANDSHAKE_MS                                                                          \
    1500                            /* floor: a child's ZMTP/CURVE handshake must finish within    \
                                     * this; grows on a link not known to be fast (link_client.c) */
#define LINK_HANDSHAKE_MAX_MS 30000 /* ... up to this; and what a parent allows every child */
#define LINK_FAST_RTT_MS 250        /* a link with a smaller round trip is known to be fast */
#define LINK_FAST_BPS (1u << 20)    /* ... and, draining this many bytes/s, gets the full window */
#define LINK_RECONNECT_MS 100       /* first reconnect delay ... */
#define LINK_RECONNECT_MAX_MS 500   /* ... doubling up to this */
#define LINK_HELLO_RETRY_MS 500     /* floor: Hello resent while no Welcome */
#define LINK_RESEND_MS 3000         /* floor: unacknowledged items resent after this */
#define LINK_TIMER_MAX_MS 120000    /* no adaptive timer grows beyond this */
#define LINK_BACKOFF_MAX 5          /* timeouts without progress double a timer at most 5 times */
#define LINK_BATCH_ITEMS 64
#define LINK_BATCH_BYTES (96 * 1024)   /* a batch's bytes at most ... */
#define LINK_BATCH_MIN_BYTES 4096      /* ... and at least (always one item), from the drain rate */
#define LINK_BATCH_DRAIN_MS 250        /* a batch should take about this long on the link */
#define LINK_WINDOW_ITEMS 16384        /* items in flight at most */
#define LINK_WINDOW_BYTES (16u << 20)  /* bytes in flight at most ... */
#define LINK_WINDOW_QUEUE_MS 1000      /* ... and at most a round trip plus this much of the rate */
#define LINK_FLIGHTS_MAX 1024          /* batches in flight at most */
#define LINK_SLOWEST_BPS 1000          /* drain rate assumed before one is measured (8 kbit/s) */
#define LINK_PEER_SILENT_MS 10000      /* parent stops sending to a child silent this long */
#define LINK_REFUSED_RETRY_MS 3000     /* reconnect after a refused or failed handshake */
#define LINK_REFUSALS_PENDING_MAX 1024 /* refusal notices queued to one peer at most */

/* What an apply hook returns besides 0 (applied) and a negative sf_err_t.
 * A hook that refuses or defers must not have written anything. */
#define LINK_REFUSED 1 /* refused for good: consumed (acknowledged), the sender told why */
#define LINK_LATER                                                                                 \
    2                       /* not now (a programme revision not yet loaded, say): the item and    \
                             * the rest of its batch wait and are resent; nothing is refused */
#define LINK_OVER_LIMIT 3   /* refused: the sender is at its storage bound (Refusal OVER_LIMIT) */
#define LINK_REFUSED_UNIT 4 /* refused: the sender may not speak for that unit (NOT_YOUR_UNIT) */

typedef struct {
    void *arg;
    /* Applies one received item in the receiver's write transaction. `peer`
     * is the sender's unit code as proven by its key, "" for the parent.
     * Returns 0, LINK_REFUSED, LINK_REFUSED_UNIT or LINK_OVER_LIMIT (with
     * a reason in why),
     * LINK_LATER, or a negative sf_err_t. An error that says the node cannot
     * write now (SF_ENOSPC, SF_EIO, SF_ENOMEM, a failed store) aborts the
     * whole transaction: nothing is acknowledged and the senders resend.
     * Any other error refuses that item alone: the transaction is run again
     * without it (its other items are applied) and the sender is told.
     * May run more than once for the same item (the transaction is retried
     * after the map grew or an item was refused): derive everything from txn. */
    int (*apply)(void *arg, store_txn_t *txn, const char *peer, const uint8_t *payload, size_t len,
                 char *why, size_t whysize);
    /* An item of `peer` was refused: queue the sender a durable notice
     * (Payload.refused) in this transaction. reason is a Refusal.Reason.
     * Optional. Not called while LINK_REFUSALS_PENDING_MAX items (of any
     * kind) wait on the stream back to that peer: a peer that sends only
     * what we refuse cannot grow our store without bound. */
    int (*refused)(void *arg, store_txn_t *txn, const char *peer, uint64_t epoch, uint64_t seq,
                   const uint8_t *payload, size_t len, int reason, const char *why);
    /* Parent: the child lacks our downward state (first contact, a
     * re-initialised child, or one restored from an older backup): queue
     * it again on "d:<peer>", skipping what is queued there already. */
    int (*resync_child)(void *arg, store_txn_t *txn, const char *peer);
    /* Child: the parent lacks items it once acknowledged (a parent restored
     * from an older backup, or re-initialised): queue our state again on
     * "up", skipping what is queued there already. */
    int (*resync_parent)(void *arg, store_txn_t *txn);
    /* Parent only: is this key still registered to this code? Asked for
     * every frame, answered from memory; NULL admits whatever ZAP admitted. */
    bool (*admit)(void *arg, const char *code, const char *key_z85);
    /* Parent only: a child's Hello is being applied in txn (a session
     * opened). Optional; may run more than once for one Hello. */
    int (*hello)(void *arg, store_txn_t *txn, const char *peer);
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

/* Starts connecting to the parent; the connection is made, lost and made
 * again in the background. NULL with error: SF_ENOMEM; SF_EINVAL if a
 * key is not Z85 or the endpoint cannot be connected; SF_ESTATE if a socket
 * cannot be made or set; the store's error reading the "up" stream. */
link_client_t *link_client_new(void *ctx, store_t *store, const link_client_config_t *config,
                               const link_hooks_t *hooks, sf_error_t *error);
/* Closes the sockets, frees the client and sets *self_p to NULL (NULL: a
 * no-op). Unacknowledged items stay in the outbox for the next client. */
void link_client_destroy(link_client_t **self_p);
/* Sockets to poll for ZMQ_POLLIN: the DEALER and its monitor (owned by the
 * client). */
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

/* What the link measured and did, for status and tests. */
typedef struct {
    uint64_t bytes_sent;   /* item payload bytes put on the wire, resends included */
    uint64_t bytes_resent; /* of which resends */
    uint64_t items_acked;  /* items acknowledged by the peer */
    uint64_t rate_Bps;     /* measured drain rate, bytes/s (0: not yet measured) */
    int64_t srtt_ms;       /* smoothed time from sending a batch to its ack */
    int64_t rto_ms;        /* current resend timer */
    uint32_t batch_bytes;  /* current batch size bound */
    uint64_t window_bytes; /* current bytes-in-flight bound */
    uint64_t resyncs;      /* times our state was queued again for a peer */
    uint64_t restarts;     /* times a stream restarted under a new epoch */
    uint64_t refused;      /* items the peer refused (its Refusal frames) */
    char last_event[160];  /* the last restore/resync event, for status ("" none) */
} link_stats_t;
void link_client_stats(const link_client_t *self, link_stats_t *stats);

/* ---- parent side ---- */
typedef struct link_server link_server_t;

typedef struct {
    const char *code;       /* own unit code, sent in Welcome */
    const char *endpoint;   /* bind, e.g. tcp://0.0.0.0:7001 */
    const char *secret_key; /* own secret key, Z85 */
} link_server_config_t;

/* Binds the ROUTER as a CURVE server with an enforced ZAP domain. The ZAP
 * handler must already be running in ctx (zap_new). NULL with error:
 * SF_ENOMEM; SF_EEXIST if the address is in use; SF_EINVAL if the endpoint
 * cannot be bound or the secret key is not Z85; SF_ESTATE if a socket
 * cannot be made or ZAP cannot be enforced. */
link_server_t *link_server_new(void *ctx, store_t *store, const link_server_config_t *config,
                               const link_hooks_t *hooks, sf_error_t *error);
/* Closes the socket, frees the server and sets *self_p to NULL (NULL: a
 * no-op). */
void link_server_destroy(link_server_t **self_p);
void *link_server_socket(link_server_t *self);
/* The endpoint actually bound (resolves a "tcp://127.0.0.1:*" wildcard);
 * valid as long as the server. */
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
    uint64_t rate_Bps; /* measured downward drain rate (0: not yet) */
    int64_t srtt_ms;
} link_peer_info_t;
/* Fills up to max peers; returns the number of known peers. */
size_t link_server_peers(link_server_t *self, link_peer_info_t *out, size_t max);
uint64_t link_server_dropped_frames(const link_server_t *self);
uint64_t link_server_refused_items(const link_server_t *self);
/* Frames from a connection that has no session (no accepted Hello on it,
 * or its Hello was refused): dropped, never applied. Counted in dropped. */
uint64_t link_server_sessionless_frames(const link_server_t *self);
/* Totals over every child's downward stream, and the last restore/resync
 * event (""), as link_client_stats. */
void link_server_stats(const link_server_t *self, link_stats_t *stats);

/* ---- items brought by hand (a package: docs/packages.md) ---- */

/* One item's payload, borrowed. */
typedef struct {
    const uint8_t *data;
    size_t len;
} link_item_t;

typedef struct {
    uint64_t seq;
    char why[160];
} link_import_refusal_t;

typedef struct {
    size_t applied;    /* items applied (refused ones not counted) ... */
    size_t in_stream;  /* ... of which continued the inbound stream and moved its position */
    size_t duplicates; /* at or below the stream's position: skipped, as the link skips them */
    size_t later;      /* the hook said LINK_LATER: not applied; the link or a later import will */
    size_t refused;    /* refused, each told to the sender as over the link */
    link_import_refusal_t *refusals; /* `refused` of them (NULL if memory ran out): free with
                                      * link_import_result_free */
    uint64_t epoch, position;        /* the inbound stream's epoch and position afterwards */
} link_import_result_t;

/* Parent: applies `count` items that `peer` queued on its "up" stream under
 * `epoch`, item i having seq first_seq + i, as the link would and in ONE
 * durable transaction (store_write, fsync'd when 0 is returned): items
 * that continue the inbound stream "u:<peer>" (same epoch, seq applied + 1
 * and on) are applied through hooks->apply and move its position, so the
 * child's next Hello is answered with them applied and it drops them from
 * its outbox; items at or below the position are duplicates, skipped;
 * items of another epoch or beyond a gap are applied through hooks->apply
 * without moving the position (the hook's own dedup, by id, makes their
 * later arrival over the link change nothing). Refusals and poisoned items
 * are handled as in the link: durable notices through hooks->refused on
 * "d:<peer>". Reads the position from the store inside the transaction, so
 * a daemon running on the same store (another process) stays consistent:
 * its server keeps no inbound position in memory. hooks->arg as link.h.
 * Returns 0 with *result filled (the caller frees it), SF_ENOMEM, SF_EINVAL
 * (no peer, or a peer code too long for a stream name), or the store's
 * error: then nothing was applied. */
int link_import(store_t *store, const link_hooks_t *hooks, const char *peer, uint64_t epoch,
                uint64_t first_seq, const link_item_t *items, size_t count,
                link_import_result_t *result);
/* Frees result->refusals (and zeroes the result). */
void link_import_result_free(link_import_result_t *result);

#endif
