/* outbox.h - durable, ordered streams of messages on top of the store.
 *
 * A stream is one direction of one link: a county's or hub's "up" stream,
 * and a parent's "d:<code>" stream to each child. Each message appended gets
 * the next sequence number (1, 2, ...); it stays until the peer acknowledges
 * a sequence number >= its own, then it is deleted. Every stream has an
 * epoch, a random 64-bit number fixed when the stream is first used (and
 * replaced by outbox_restart_stream), so a peer can tell a re-initialised
 * sender (whose numbers start again at 1) from a resend.
 *
 * The receiving side keeps, per peer stream, the epoch and the highest
 * sequence number applied: outbox_inbound_*, under the names "u:<code>" (a
 * parent, for a child's "up") and "down" (a child, for its parent's
 * "d:<code>"). Both halves are plain functions
 * on a caller's write transaction, so that "store the report, queue its
 * forward, remember it was applied" is one atomic, durable commit.
 *
 * Durability: nothing here commits. Every function works inside the
 * caller's transaction, so a message is durable when the caller's
 * store_write() has returned 0 (fsync'd, store.h), together with whatever
 * else that transaction wrote, or not at all.
 *
 * Ownership: data passed in is copied into the store; data handed to an
 * outbox_item_fn points into the map and is valid only during that call
 * (trap L8). Nothing here allocates anything the caller must free.
 *
 * Threads: as store.h, one thread per store.
 *
 * Errors: 0 or a negative sf_err_t: SF_EINVAL for a stream name of
 * OUTBOX_STREAM_MAX bytes or more (outbox_open_stream, outbox_append),
 * SF_ECORRUPT for a stream state that does not decode, SF_EPROTO for an
 * ack no append explains, SF_EGROW when the map is full (return it from
 * the transaction function: store_write grows the map and runs it again),
 * or another store error.
 *
 * Keys: DB_OUTBOX  stream name NUL-padded to 16 bytes | seq be64
 *       DB_STREAMS "out:" name -> epoch be64 | next_seq be64 | acked be64
 *                  "in:" name  -> epoch be64 | applied be64 */
#ifndef SHIFAN_OUTBOX_H
#define SHIFAN_OUTBOX_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include "storage/store.h"

#define OUTBOX_STREAM_MAX                                                                          \
    16 /* names incl. NUL: "up", "down", "d:<code>", "u:<code>", codes <= 12 */

typedef struct {
    uint64_t epoch;
    uint64_t next_seq; /* sequence number the next append gets */
    uint64_t acked;    /* every seq <= acked is acknowledged and deleted */
} outbox_state_t;

/* Reads a stream's state; a stream never used reads as epoch 0, next_seq 1,
 * acked 0. */
int outbox_state(store_txn_t *txn, store_t *store, const char *stream, outbox_state_t *state);

/* Gives a stream its epoch now if it has none, so a peer can learn it in
 * the handshake before the first message exists. */
int outbox_open_stream(store_txn_t *txn, store_t *store, const char *stream, outbox_state_t *state);

/* Gives the stream a new epoch and renumbers its unacknowledged messages
 * from 1, in order. For a sender restored from an older backup, whose peer
 * has applied sequence numbers this copy never issued: reusing them would
 * make the peer skip new messages as duplicates. */
int outbox_restart_stream(store_txn_t *txn, store_t *store, const char *stream,
                          outbox_state_t *state);

/* Appends a message; on success *seq (may be NULL) is its sequence number.
 * Creates the stream (with a fresh random epoch) on first use. */
int outbox_append(store_txn_t *txn, store_t *store, const char *stream, const void *data,
                  size_t len, uint64_t *seq);

/* Appends a message unless the stream already holds an unacknowledged one
 * with exactly these bytes (*queued, may be NULL, says which). For state
 * queued again to a peer that lost it: asked twice, it is queued once, so a
 * looping or hostile peer cannot make us store without bound. The data must
 * not point into the map (L8). */
int outbox_append_once(store_txn_t *txn, store_t *store, const char *stream, const void *data,
                       size_t len, bool *queued);

/* Records that the peer applied every seq <= applied of epoch `epoch`, and
 * deletes those messages. An ack for another epoch, or for more than was
 * ever appended, is refused with SF_EPROTO; an old ack is a no-op. */
int outbox_ack(store_txn_t *txn, store_t *store, const char *stream, uint64_t epoch,
               uint64_t applied);

typedef int (*outbox_item_fn)(uint64_t seq, const void *data, size_t len, void *arg);

/* Calls fn for messages with seq >= from, ascending, until fn returns
 * non-zero (1 = stop, negative = error returned), or max_items/max_bytes
 * (of data already passed) is reached. The data pointer is valid only inside
 * fn (L8). Returns 0 or an error. */
int outbox_scan(store_txn_t *txn, store_t *store, const char *stream, uint64_t from,
                size_t max_items, size_t max_bytes, outbox_item_fn fn, void *arg);

/* Receiving side. State of a peer's stream as applied here: epoch 0 and
 * applied 0 when nothing was ever applied. */
#define OUTBOX_DIGEST_LEN 16

typedef struct {
    uint64_t epoch;
    uint64_t applied;
    /* Digest of the payload of item `applied` (all zero: unknown). Sent back
     * in the handshake so that a sender restored from an older backup can
     * tell that its item of that number is not the one applied. */
    uint8_t digest[OUTBOX_DIGEST_LEN];
} outbox_inbound_t;

int outbox_inbound_get(store_txn_t *txn, store_t *store, const char *stream, outbox_inbound_t *in);

/* The digest kept for an applied item (BLAKE2b, 16 bytes). */
void outbox_digest(const void *data, size_t len, uint8_t digest[OUTBOX_DIGEST_LEN]);
/* True if the stream still holds item seq and its digest differs from
 * `digest` (an all-zero or wrong-sized digest never differs). */
bool outbox_item_differs(store_txn_t *txn, store_t *store, const char *stream, uint64_t seq,
                         const uint8_t *digest, size_t digest_len);
int outbox_inbound_put(store_txn_t *txn, store_t *store, const char *stream,
                       const outbox_inbound_t *in);

#endif
