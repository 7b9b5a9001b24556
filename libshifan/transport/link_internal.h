/* link_internal.h - what the files of the link share; included only by
 * transport/link*.c, never above transport/ (link.h is the contract).
 *
 * The link is cut along its concerns:
 *   link.c         stream names, socket options and envelopes both ends use;
 *   link_sender.c  the sending half of either end: a window over one outbox
 *                  stream that adapts to the link (rate, round trip, timers);
 *   link_apply.c   the receiving half: a batch applied in the caller's group
 *                  transaction, with refusal per item, never per commit;
 *   link_client.c  the child's end (DEALER, Hello, reconnection);
 *   link_server.c  the parent's end (ROUTER, sessions, group commit);
 *   link_import.c  a package's items applied at the parent as the link would.
 *
 * Ownership: every structure here is embedded in a link_client_t or
 * link_server_t and lives as long as it; pointers taken into the store (an
 * item's payload) are valid only inside the transaction that read them.
 * Threads: as link.h, the thread running the node's loop. */
#ifndef SHIFAN_LINK_INTERNAL_H
#define SHIFAN_LINK_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

#include "shifan.pb-c.h"
#include "storage/outbox.h"
#include "storage/store.h"
#include "transport/link.h"

/* Frames read per wake-up, applied in one group commit. Bounded so that a
 * hub alternates between its children and its parent instead of committing
 * one huge group while its upward link idles. */
#define LINK_DRAIN_MAX 64
#define UP_STREAM "up"      /* the child's stream to its parent */
#define DOWN_INBOUND "down" /* the child's name of the parent's stream to it */
#define LINK_WHY_MAX 160    /* a refusal's reason, for the log and the sender */

static inline int64_t clamp64(int64_t value, int64_t low, int64_t high)
{
    return value < low ? low : value > high ? high : value;
}

/* ---- link.c: shared by both ends ---- */

/* The parent's name of a child's upward stream ("u:<code>"). */
void link_inbound_up_stream(char *out, size_t size, const char *child_code);
/* An Envelope of the current wire version; the caller sets the body. */
void link_envelope_init(Shifan__Envelope *envelope);
/* zmq_setsockopt of an int; 0 or -1 with errno, as libzmq. */
int link_set_int(void *socket, int option, int value);
/* Linger, heartbeats, TCP_MAXRT and the frame size bound both ends set;
 * 0 or SF_ESTATE. */
int link_common_options(void *socket);

/* ---- link_sender.c: a window over one outbox stream ---- */

typedef struct {
    uint64_t last_seq;
    uint32_t bytes;
    int64_t sent_ms;
    bool resent; /* carried items sent before: no round-trip sample (Karn) */
} link_flight_t;

typedef struct {
    char stream[OUTBOX_STREAM_MAX];
    uint64_t epoch;
    uint64_t acked;     /* peer has durably applied every seq <= acked */
    uint64_t next_send; /* next seq to put on the wire */
    uint64_t head;      /* highest seq in the outbox */
    uint64_t high_sent; /* highest seq ever put on the wire in this epoch */
    int64_t last_progress_ms;
    bool active; /* a session is established: sending is allowed */
    /* the link estimate */
    double rate_Bps;
    int64_t srtt_ms, rttvar_ms, min_rtt_ms;
    int backoff; /* resend timeouts since the last progress */
    int64_t busy_since_ms;
    link_flight_t flights[LINK_FLIGHTS_MAX];
    size_t flight_first, flight_count;
    uint64_t bytes_in_flight;
    link_stats_t stats;
} link_sender_t;

/* Puts one message on the wire without blocking: 0 (the message is then
 * sent and owned by libzmq) or an error (the caller still owns it). */
typedef int (*link_send_fn)(void *ctx, zmq_msg_t *msg);

/* Forgets what is in flight: the next pump sends again from acked + 1. */
void link_sender_rewind(link_sender_t *sender);
uint64_t link_sender_in_flight(const link_sender_t *sender);
/* The time to drain what is in flight at the measured (or slowest) rate. */
int64_t link_sender_drain_ms(const link_sender_t *sender);
/* The current resend timer. */
int64_t link_sender_rto_ms(const link_sender_t *sender);
void link_sender_fill_stats(const link_sender_t *sender, link_stats_t *stats);
/* Takes one round-trip sample (a batch to its ack, or a Ping to its Pong). */
void link_sender_rtt_sample(link_sender_t *sender, int64_t sample);
/* Reads the stream's state (epoch, acked, head) and takes the samples of
 * what was acknowledged since; 0 or the store's error. The _txn form runs
 * in the caller's read transaction. */
int link_sender_refresh(link_sender_t *sender, store_t *store);
int link_sender_refresh_txn(store_txn_t *txn, store_t *store, link_sender_t *sender);
/* Sends batches while the window allows; returns the frames sent. */
int link_sender_pump(link_sender_t *sender, store_t *store, link_send_fn send, void *send_ctx);
/* True if items are in flight and the resend timer ran out (logged, and
 * the timer doubled); the caller rewinds or re-synchronises. */
bool link_sender_timed_out(link_sender_t *sender, const char *who);

/* ---- link_apply.c: a batch applied in the receiver's transaction ---- */

typedef struct {
    uint64_t seq;
    int reason; /* Shifan__Refusal__Reason */
    char why[LINK_WHY_MAX];
} link_refusal_t;

/* Refusals of one drain, sent to their sender after the commit. */
typedef struct {
    link_refusal_t *items; /* malloc'd; freed by the owner of the list */
    size_t count, cap;
} link_refusals_t;

/* Items whose hook failed: refused on the next run of the transaction. */
typedef struct {
    char inbound[OUTBOX_STREAM_MAX];
    uint64_t epoch, seq;
    char why[LINK_WHY_MAX];
} link_poison_t;

typedef struct {
    link_poison_t *items; /* malloc'd; freed by the owner of the list */
    size_t count, cap;
    bool added; /* this run poisoned an item: run the transaction again */
} link_poisons_t;

typedef struct {
    uint64_t epoch, applied;
    bool matched; /* the batch's epoch is the one established */
    size_t applied_now;
} link_batch_result_t;

typedef struct {
    store_t *store;
    const link_hooks_t *hooks;
    const char *peer;          /* "" from the parent */
    const char *inbound;       /* our name of the sender's stream */
    const char *notice_stream; /* the stream back to the sender, for the pending bound */
    link_refusals_t *refusals;
    link_poisons_t *poisons;
} link_apply_ctx_t;

/* Applies the items of batch that follow the inbound stream's position, in
 * txn, and records the new position; result says what it stands at. 0, a
 * negative sf_err_t that aborts the transaction, or SF_ERERUN when an item
 * was poisoned (link_write_refusing runs the transaction again). */
int link_apply_batch(store_txn_t *txn, const link_apply_ctx_t *ctx, const Shifan__Batch *batch,
                     link_batch_result_t *result);
/* Applies one item through the hooks, or refuses it, without looking at
 * or moving the stream's position (a package's item beyond a gap): 0 when
 * it is consumed, *wait when the hook said LINK_LATER, SF_ERERUN when it
 * was poisoned, or an error that aborts the transaction. */
int link_apply_item(store_txn_t *txn, const link_apply_ctx_t *ctx, uint64_t epoch,
                    const Shifan__Item *item, bool *wait);
/* store_write(store, fn, arg), run again without each item fn poisons,
 * until it commits (0) or fails for a systemic reason (that error). */
int link_write_refusing(store_t *store, store_txn_fn fn, void *arg, link_poisons_t *poisons);
/* Sends one Refusal frame per refused item through send. */
void link_send_refusals(void (*send)(void *, const Shifan__Envelope *), void *ctx,
                        const link_refusals_t *refusals);

#endif
