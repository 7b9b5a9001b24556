#include "transport/link.h"
#include "base/error.h"
#include "base/slog.h"
#include "base/stime.h"
#include "storage/outbox.h"
#include "transport/codec.h"
#include "transport/keys.h"

#include <errno.h>
#include <sodium.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

/* Frames read per wake-up, applied in one group commit. Bounded so that a
 * hub alternates between its children and its parent instead of committing
 * one huge group while its upward link idles. */
#define LINK_DRAIN_MAX 64
#define UP_STREAM "up"
#define DOWN_INBOUND "down"

const char *link_state_name(link_state_t state)
{
    switch (state) {
    case LINK_CONNECTING:
        return "connecting";
    case LINK_UP:
        return "up";
    case LINK_REFUSED_KEY:
        return "refused";
    }
    return "unknown";
}

void link_down_stream(char *out, size_t size, const char *child_code)
{
    snprintf(out, size, "d:%.12s", child_code);
}

static void inbound_up_stream(char *out, size_t size, const char *child_code)
{
    snprintf(out, size, "u:%.12s", child_code);
}

/* ------------------------------------------------------------------------
 * Sending half, shared by both ends: a window over one outbox stream.
 *
 * The window adapts to the link (docs/protocol.md, "Slow and lossy links"):
 * each acknowledgement gives a round-trip sample (send of a batch to its
 * ack) and a drain-rate sample (bytes acknowledged per second while busy).
 * Batches are sized to take about LINK_BATCH_DRAIN_MS on the link, bytes in
 * flight to about a round trip plus LINK_WINDOW_QUEUE_MS, so that on a slow
 * link little waits in queues (a Ping or an Ack is never far behind) and a
 * resend costs little; on a fast one the window opens within a few round
 * trips. The estimate lives in memory and survives reconnections.
 * ------------------------------------------------------------------------ */

typedef struct {
    uint64_t last_seq;
    uint32_t bytes;
    int64_t sent_ms;
    bool resent; /* carried items sent before: no round-trip sample (Karn) */
} flight_t;

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
    flight_t flights[LINK_FLIGHTS_MAX];
    size_t flight_first, flight_count;
    uint64_t bytes_in_flight;
    link_stats_t stats;
} sender_t;

typedef int (*send_fn)(void *ctx, zmq_msg_t *msg);

static int64_t clamp64(int64_t value, int64_t low, int64_t high)
{
    return value < low ? low : value > high ? high : value;
}

static void sender_forget_flights(sender_t *sender)
{
    sender->flight_first = sender->flight_count = 0;
    sender->bytes_in_flight = 0;
}

static void sender_rewind(sender_t *sender)
{
    sender->next_send = sender->acked + 1;
    sender->last_progress_ms = stime_mono_ms();
    sender_forget_flights(sender);
}

static uint64_t sender_in_flight(const sender_t *sender)
{
    return sender->next_send > sender->acked + 1 ? sender->next_send - 1 - sender->acked : 0;
}

/* The time to drain what is in flight at the measured rate (or the slowest
 * rate we plan for, before one is measured). */
static int64_t sender_drain_ms(const sender_t *sender)
{
    double rate = sender->rate_Bps > 0 ? sender->rate_Bps : LINK_SLOWEST_BPS;
    return (int64_t)((double)sender->bytes_in_flight * 1000.0 / rate);
}

/* Resend timer: smoothed round trip plus four deviations, at least the
 * floor, plus what is still to drain, doubled per fruitless timeout. */
static int64_t sender_rto_ms(const sender_t *sender)
{
    int64_t base = sender->srtt_ms ? sender->srtt_ms + 4 * sender->rttvar_ms : 0;
    if (base < LINK_RESEND_MS)
        base = LINK_RESEND_MS;
    base += sender->srtt_ms ? 0 : sender_drain_ms(sender);
    return clamp64(base << sender->backoff, LINK_RESEND_MS, LINK_TIMER_MAX_MS);
}

/* A link with a short round trip and a drain rate of a megabyte a second
 * or more: what waits in its queues drains in well under a second whatever
 * the window, so it gets the largest batches and window. (Measured per
 * ack, the rate of a hub that is also busy applying trails the link's: a
 * window sized from it cost a third of the end-to-end rate.) */
static bool sender_fast(const sender_t *sender)
{
    return sender->srtt_ms > 0 && sender->srtt_ms < LINK_FAST_RTT_MS &&
           sender->rate_Bps >= LINK_FAST_BPS;
}

static size_t sender_batch_bytes(const sender_t *sender)
{
    if (sender_fast(sender))
        return LINK_BATCH_BYTES;
    if (sender->rate_Bps <= 0)
        return LINK_BATCH_MIN_BYTES;
    return (size_t)clamp64((int64_t)(sender->rate_Bps * LINK_BATCH_DRAIN_MS / 1000.0),
                           LINK_BATCH_MIN_BYTES, LINK_BATCH_BYTES);
}

static uint64_t sender_window_bytes(const sender_t *sender)
{
    if (sender_fast(sender))
        return LINK_WINDOW_BYTES;
    if (sender->rate_Bps <= 0)
        return 2 * LINK_BATCH_MIN_BYTES;
    double ms = (double)(sender->min_rtt_ms + LINK_WINDOW_QUEUE_MS);
    return (uint64_t)clamp64((int64_t)(sender->rate_Bps * ms / 1000.0),
                             2 * (int64_t)sender_batch_bytes(sender), LINK_WINDOW_BYTES);
}

static void sender_fill_stats(const sender_t *sender, link_stats_t *stats)
{
    *stats = sender->stats;
    stats->rate_Bps = (uint64_t)sender->rate_Bps;
    stats->srtt_ms = sender->srtt_ms;
    stats->rto_ms = sender_rto_ms(sender);
    stats->batch_bytes = (uint32_t)sender_batch_bytes(sender);
    stats->window_bytes = sender_window_bytes(sender);
}

/* One round-trip sample (RFC 6298): a batch to its ack, or on an idle link
 * a Ping to its Pong. */
static void sender_rtt_sample(sender_t *sender, int64_t sample)
{
    if (sample < 1)
        sample = 1;
    if (sender->srtt_ms == 0) {
        sender->srtt_ms = sample;
        sender->rttvar_ms = sample / 2;
    } else {
        int64_t diff = sender->srtt_ms - sample;
        sender->rttvar_ms = (3 * sender->rttvar_ms + (diff < 0 ? -diff : diff)) / 4;
        sender->srtt_ms = (7 * sender->srtt_ms + sample) / 8;
    }
    if (sender->min_rtt_ms == 0 || sample < sender->min_rtt_ms)
        sender->min_rtt_ms = sample;
}

/* The peer acknowledged up to `acked` (already stored in sender->acked by
 * the caller's refresh): take the samples and drop the flights. */
static void sender_on_progress(sender_t *sender, uint64_t previous_acked)
{
    int64_t now = stime_mono_ms();
    if (sender->acked <= previous_acked)
        return;
    sender->stats.items_acked += sender->acked - previous_acked;
    uint64_t bytes = 0;
    int64_t sample = -1, first_sent = 0;
    while (sender->flight_count) {
        flight_t *flight = &sender->flights[sender->flight_first];
        if (flight->last_seq > sender->acked)
            break;
        bytes += flight->bytes;
        if (!first_sent)
            first_sent = flight->sent_ms;
        sample = flight->resent ? -1 : now - flight->sent_ms;
        sender->bytes_in_flight -= flight->bytes;
        sender->flight_first = (sender->flight_first + 1) % LINK_FLIGHTS_MAX;
        sender->flight_count--;
    }
    if (sample >= 0)
        sender_rtt_sample(sender, sample);
    if (bytes && sender->busy_since_ms) {
        int64_t since = sender->busy_since_ms > first_sent ? sender->busy_since_ms : first_sent;
        int64_t elapsed = now - since;
        if (elapsed < 1)
            elapsed = 1;
        double rate = (double)bytes * 1000.0 / (double)elapsed;
        sender->rate_Bps = sender->rate_Bps > 0 ? 0.75 * sender->rate_Bps + 0.25 * rate : rate;
    }
    sender->busy_since_ms = sender->flight_count ? now : 0;
    sender->backoff = 0;
    sender->last_progress_ms = now;
}

struct sender_refresh_arg {
    store_t *store;
    sender_t *sender;
};

static int sender_refresh_fn(MDB_txn *txn, void *arg)
{
    struct sender_refresh_arg *a = arg;
    outbox_state_t state;
    int rc = outbox_state(txn, a->store, a->sender->stream, &state);
    if (rc)
        return rc;
    a->sender->head = state.next_seq - 1;
    if (state.epoch != a->sender->epoch) {
        /* A new epoch (a restarted stream): nothing of the old is in flight. */
        a->sender->epoch = state.epoch;
        a->sender->acked = state.acked;
        a->sender->next_send = state.acked + 1;
        a->sender->high_sent = state.acked;
        sender_forget_flights(a->sender);
        return 0;
    }
    if (state.acked > a->sender->acked) {
        uint64_t previous = a->sender->acked;
        a->sender->acked = state.acked;
        if (a->sender->next_send <= state.acked)
            a->sender->next_send = state.acked + 1;
        sender_on_progress(a->sender, previous);
    }
    return 0;
}

static int sender_refresh(sender_t *sender, store_t *store)
{
    struct sender_refresh_arg arg = {store, sender};
    return store_read(store, sender_refresh_fn, &arg);
}

struct batch_build {
    Shifan__Item *items;
    Shifan__Item **item_ptrs;
    size_t count, max, bytes;
};

static int batch_collect(uint64_t seq, const void *data, size_t len, void *arg)
{
    struct batch_build *build = arg;
    if (build->count == build->max)
        return 1;
    Shifan__Item *item = &build->items[build->count];
    shifan__item__init(item);
    item->seq = seq;
    /* Points into the map: valid until the read txn ends, and we pack before
     * that (L8). */
    item->payload.data = (uint8_t *)data;
    item->payload.len = len;
    build->item_ptrs[build->count++] = item;
    build->bytes += len;
    return 0;
}

struct sender_pack_arg {
    store_t *store;
    sender_t *sender;
    size_t max_items, max_bytes;
    zmq_msg_t *msg;
    uint64_t last_seq;
    size_t count, bytes;
};

static int sender_pack_fn(MDB_txn *txn, void *arg)
{
    struct sender_pack_arg *a = arg;
    struct batch_build build = {0};
    build.max = a->max_items;
    build.items = calloc(build.max, sizeof *build.items);
    build.item_ptrs = calloc(build.max, sizeof *build.item_ptrs);
    int rc = SF_ENOMEM;
    if (!build.items || !build.item_ptrs)
        goto out;
    rc = outbox_scan(txn, a->store, a->sender->stream, a->sender->next_send, build.max,
                     a->max_bytes, batch_collect, &build);
    if (rc || build.count == 0)
        goto out;
    if (build.items[0].seq != a->sender->next_send) {
        /* Gap in our own outbox: the peer acked past what we thought. */
        a->sender->next_send = build.items[0].seq;
    }
    Shifan__Batch batch = SHIFAN__BATCH__INIT;
    batch.epoch = a->sender->epoch;
    batch.n_items = build.count;
    batch.items = build.item_ptrs;
    Shifan__Envelope envelope = SHIFAN__ENVELOPE__INIT;
    envelope.version = CODEC_WIRE_VERSION;
    envelope.body_case = SHIFAN__ENVELOPE__BODY_BATCH;
    envelope.batch = &batch;
    rc = codec_pack_msg(&envelope, a->msg);
    if (rc == 0) {
        a->count = build.count;
        a->bytes = build.bytes;
        a->last_seq = build.items[build.count - 1].seq;
    }
out:
    free(build.items);
    free(build.item_ptrs);
    return rc;
}

/* Sends batches while the window allows. Returns the number of frames sent. */
static int sender_pump(sender_t *sender, store_t *store, send_fn send, void *send_ctx)
{
    int frames = 0;
    while (sender->active && sender->epoch != 0 && sender->next_send <= sender->head) {
        uint64_t in_flight = sender_in_flight(sender);
        if (in_flight >= LINK_WINDOW_ITEMS || sender->flight_count == LINK_FLIGHTS_MAX)
            break;
        /* Bytes: a full window waits, but an empty one always sends one item. */
        if (in_flight > 0 && sender->bytes_in_flight >= sender_window_bytes(sender))
            break;
        size_t room = (size_t)(LINK_WINDOW_ITEMS - in_flight);
        zmq_msg_t msg;
        struct sender_pack_arg arg = {store,
                                      sender,
                                      room < LINK_BATCH_ITEMS ? room : LINK_BATCH_ITEMS,
                                      sender_batch_bytes(sender),
                                      &msg,
                                      0,
                                      0,
                                      0};
        int rc = store_read(store, sender_pack_fn, &arg);
        if (rc || arg.count == 0)
            break;
        int64_t now = stime_mono_ms();
        if (in_flight == 0) {
            sender->last_progress_ms = now;
            sender->busy_since_ms = now;
        }
        if (send(send_ctx, &msg) != 0) {
            zmq_msg_close(&msg);
            break; /* peer absent or at its HWM: the next tick retries */
        }
        bool resent = sender->next_send <= sender->high_sent;
        flight_t *flight =
            &sender->flights[(sender->flight_first + sender->flight_count) % LINK_FLIGHTS_MAX];
        flight->last_seq = arg.last_seq;
        flight->bytes = (uint32_t)arg.bytes;
        flight->sent_ms = now;
        flight->resent = resent;
        sender->flight_count++;
        sender->bytes_in_flight += arg.bytes;
        sender->stats.bytes_sent += arg.bytes;
        if (resent)
            sender->stats.bytes_resent += arg.bytes;
        sender->next_send = arg.last_seq + 1;
        if (arg.last_seq > sender->high_sent)
            sender->high_sent = arg.last_seq;
        frames++;
    }
    return frames;
}

/* True if items are in flight and the resend timer ran out: the caller
 * rewinds (parent) or re-synchronises (child). Each such timeout doubles
 * the timer until progress is made. */
static bool sender_timed_out(sender_t *sender, const char *who)
{
    if (sender_in_flight(sender) == 0)
        return false;
    int64_t now = stime_mono_ms(), rto = sender_rto_ms(sender);
    if (now - sender->last_progress_ms < rto)
        return false;
    slog_info("%s: no acknowledgement for %lld ms, resending from seq %" PRIu64, who,
              (long long)rto, sender->acked + 1);
    if (sender->backoff < LINK_BACKOFF_MAX)
        sender->backoff++;
    return true;
}

/* ------------------------------------------------------------------------
 * Receiving half: apply a batch in the caller's transaction.
 *
 * Refusal is per item, never per commit. A hook that refuses (LINK_REFUSED,
 * LINK_OVER_LIMIT) wrote nothing: the item is consumed in place. A hook
 * error that is not about the node's ability to write (see
 * error_is_systemic) may have left the transaction half-done or dead: the
 * item is marked "poisoned" and the whole group transaction is run again,
 * this time refusing that item without calling the hook. So a bad item from
 * one child never takes down the commit it shares with others.
 * ------------------------------------------------------------------------ */

#define LINK_WHY_MAX 160

typedef struct {
    uint64_t seq;
    int reason; /* Shifan__Refusal__Reason */
    char why[LINK_WHY_MAX];
} refusal_t;

typedef struct {
    refusal_t *items;
    size_t count, cap;
} refusals_t;

static void refusals_add(refusals_t *list, uint64_t seq, int reason, const char *why)
{
    if (list->count == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 8;
        refusal_t *grown = realloc(list->items, cap * sizeof *grown);
        if (!grown)
            return; /* the refusal is still logged, counted and noticed durably */
        list->items = grown;
        list->cap = cap;
    }
    list->items[list->count].seq = seq;
    list->items[list->count].reason = reason;
    snprintf(list->items[list->count].why, sizeof list->items[list->count].why, "%s", why);
    list->count++;
}

/* Items whose hook failed: refused on the next run of the transaction. */
typedef struct {
    char inbound[OUTBOX_STREAM_MAX];
    uint64_t epoch, seq;
    char why[LINK_WHY_MAX];
} poison_t;

typedef struct {
    poison_t *items;
    size_t count, cap;
    bool added; /* this run poisoned an item: run the transaction again */
} poisons_t;

static const poison_t *poison_find(const poisons_t *list, const char *inbound, uint64_t epoch,
                                   uint64_t seq)
{
    for (size_t i = 0; i < list->count; i++)
        if (list->items[i].seq == seq && list->items[i].epoch == epoch &&
            strcmp(list->items[i].inbound, inbound) == 0)
            return &list->items[i];
    return NULL;
}

static int poison_add(poisons_t *list, const char *inbound, uint64_t epoch, uint64_t seq,
                      const char *why)
{
    if (list->count == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 4;
        poison_t *grown = realloc(list->items, cap * sizeof *grown);
        if (!grown)
            return SF_ENOMEM;
        list->items = grown;
        list->cap = cap;
    }
    poison_t *p = &list->items[list->count++];
    snprintf(p->inbound, sizeof p->inbound, "%s", inbound);
    p->epoch = epoch;
    p->seq = seq;
    snprintf(p->why, sizeof p->why, "%s", why);
    list->added = true;
    return 0;
}

/* Internal: the transaction must run again (an item was poisoned). */

/* Errors that say "this node cannot write now", not "this item is bad":
 * they abort the group, and the senders resend later. */
static bool error_is_systemic(store_t *store, int rc)
{
    return rc == SF_ENOSPC || rc == SF_EIO || rc == SF_ENOMEM || rc == SF_EGROW ||
           store_failed(store);
}

static int refusal_reason(int outcome)
{
    if (outcome == LINK_OVER_LIMIT)
        return SHIFAN__REFUSAL__REASON__OVER_LIMIT;
    if (outcome == LINK_REFUSED_UNIT)
        return SHIFAN__REFUSAL__REASON__NOT_YOUR_UNIT;
    return SHIFAN__REFUSAL__REASON__MALFORMED;
}

typedef struct {
    uint64_t epoch, applied;
    bool matched; /* the batch's epoch is the one established */
    size_t applied_now;
} batch_result_t;

typedef struct {
    store_t *store;
    const link_hooks_t *hooks;
    const char *peer;          /* "" from the parent */
    const char *inbound;       /* our name of the sender's stream */
    const char *notice_stream; /* the stream back to the sender, for the pending bound */
    refusals_t *refusals;
    poisons_t *poisons;
} apply_ctx_t;

/* Records a refusal: counted for the Refusal frame after the commit, and
 * noticed durably to the sender in this transaction (bounded per peer). */
static int apply_refuse(MDB_txn *txn, const apply_ctx_t *ctx, uint64_t epoch,
                        const Shifan__Item *item, int reason, const char *why)
{
    refusals_add(ctx->refusals, item->seq, reason, why);
    if (!ctx->hooks->refused)
        return 0;
    outbox_state_t back;
    int rc = outbox_state(txn, ctx->store, ctx->notice_stream, &back);
    if (rc)
        return rc;
    if (back.next_seq - 1 - back.acked >= LINK_REFUSALS_PENDING_MAX) {
        slog_warn("refusal of item %" PRIu64 " from %s not queued back: %d items already wait "
                  "for it",
                  item->seq, *ctx->peer ? ctx->peer : "the parent", LINK_REFUSALS_PENDING_MAX);
        return 0;
    }
    return ctx->hooks->refused(ctx->hooks->arg, txn, ctx->peer, epoch, item->seq,
                               item->payload.data, item->payload.len, reason, why);
}

static int apply_batch(MDB_txn *txn, const apply_ctx_t *ctx, const Shifan__Batch *batch,
                       batch_result_t *result)
{
    outbox_inbound_t in;
    int rc = outbox_inbound_get(txn, ctx->store, ctx->inbound, &in);
    if (rc)
        return rc;
    result->epoch = in.epoch;
    result->applied = in.applied;
    result->matched = false;
    result->applied_now = 0;
    if (batch->epoch != in.epoch) {
        /* A stream first used after the session began starts at seq 1. */
        if (in.epoch == 0 && batch->n_items > 0 && batch->items[0]->seq == 1) {
            memset(&in, 0, sizeof in);
            in.epoch = batch->epoch;
        } else {
            return 0;
        }
    }
    result->matched = true;
    const Shifan__Item *last = NULL;
    for (size_t i = 0; i < batch->n_items; i++) {
        const Shifan__Item *item = batch->items[i];
        if (item->seq <= in.applied)
            continue; /* a resend of something applied: acknowledge again, apply never */
        if (item->seq != in.applied + 1)
            break; /* a gap: earlier frames were lost; the sender will rewind */
        const poison_t *poisoned = poison_find(ctx->poisons, ctx->inbound, in.epoch, item->seq);
        if (poisoned) {
            slog_warn("refused an item from %s: %s", *ctx->peer ? ctx->peer : "the parent",
                      poisoned->why);
            if ((rc = apply_refuse(txn, ctx, in.epoch, item, SHIFAN__REFUSAL__REASON__CANNOT_STORE,
                                   poisoned->why)))
                return rc;
        } else {
            char why[LINK_WHY_MAX] = "";
            rc = ctx->hooks->apply(ctx->hooks->arg, txn, ctx->peer, item->payload.data,
                                   item->payload.len, why, sizeof why);
            if (rc == LINK_LATER)
                break; /* this item and the rest of the batch wait: the sender resends */
            if (rc < 0) {
                if (error_is_systemic(ctx->store, rc))
                    return rc;
                char reason[LINK_WHY_MAX];
                snprintf(reason, sizeof reason, "cannot store item %" PRIu64 ": %.100s", item->seq,
                         why[0] ? why : sf_strerror(rc));
                if ((rc = poison_add(ctx->poisons, ctx->inbound, in.epoch, item->seq, reason)))
                    return rc;
                return SF_ERERUN;
            }
            if (rc == LINK_REFUSED || rc == LINK_OVER_LIMIT || rc == LINK_REFUSED_UNIT) {
                const char *text = why[0] ? why : "refused";
                if ((rc = apply_refuse(txn, ctx, in.epoch, item, refusal_reason(rc), text)))
                    return rc;
            }
        }
        in.applied = item->seq;
        result->applied_now++;
        last = item;
    }
    /* Only the newest applied item's digest is kept: it is what a restored
     * sender compares with its own item of that number. */
    if (last)
        outbox_digest(last->payload.data, last->payload.len, in.digest);
    if ((rc = outbox_inbound_put(txn, ctx->store, ctx->inbound, &in)))
        return rc;
    result->epoch = in.epoch;
    result->applied = in.applied;
    return 0;
}

/* Runs a transaction function that applies items, again without each item
 * it poisons, until it commits or fails for a systemic reason. */
static int write_refusing(store_t *store, store_txn_fn fn, void *arg, poisons_t *poisons)
{
    poisons->count = 0;
    for (int attempt = 0;; attempt++) {
        poisons->added = false;
        int rc = store_write(store, fn, arg);
        if (rc != SF_ERERUN || attempt > CODEC_MAX_ITEMS * LINK_DRAIN_MAX)
            return rc == SF_ERERUN ? SF_ESTORE : rc;
    }
}

static void envelope_init(Shifan__Envelope *envelope)
{
    shifan__envelope__init(envelope);
    envelope->version = CODEC_WIRE_VERSION;
}

/* ------------------------------------------------------------------------
 * Child side.
 * ------------------------------------------------------------------------ */

struct link_client {
    void *socket, *monitor;
    store_t *store;
    link_hooks_t hooks;
    char code[16];
    char endpoint[256];
    link_state_t state;
    sender_t up;
    uint64_t session;       /* this connection's Hello.session */
    int dead_backoff;       /* silences without progress since the last ack */
    int handshake_ms;       /* current handshake limit (ZMQ_HANDSHAKE_IVL) */
    int handshake_timeouts; /* consecutive handshakes that ran out of time */
    int64_t last_rx_ms, last_tx_ms, last_hello_ms, last_refused_log_ms;
    int64_t reconnect_at_ms; /* after a failed handshake; 0 = not needed */
    int64_t last_contact;
    uint64_t ping_nonce;
    int64_t ping_sent_ms;
    /* Per drain: what the transaction must do. */
    Shifan__Envelope *welcome;
    Shifan__Envelope *batches[LINK_DRAIN_MAX];
    size_t batch_count;
    uint64_t ack_applied;
    bool ack_seen;
    refusals_t refusals;
    poisons_t poisons;
    batch_result_t down_result;
    bool down_any;
    bool restarted_stream, resynced_parent, skipped_down;
    uint64_t skipped_from, skipped_to;
};

static int set_int(void *socket, int option, int value)
{
    return zmq_setsockopt(socket, option, &value, sizeof value);
}

static int link_common_options(void *socket)
{
    int64_t maxmsg = CODEC_MAX_FRAME + 1024; /* an int64_t, or libzmq says EINVAL (Z9) */
    /* ZMTP heartbeats only as a backstop: libzmq clears its timeout only when
     * a whole message arrives (Z8), so on a slow link a short timeout kills
     * every large frame. Liveness is judged by the link's own adaptive
     * timers, and by TCP for data it cannot deliver (TCP_MAXRT). */
    if (set_int(socket, ZMQ_LINGER, 0) || /* LMDB holds the truth (Z5) */
        set_int(socket, ZMQ_HEARTBEAT_IVL, LINK_HEARTBEAT_MS) ||
        set_int(socket, ZMQ_HEARTBEAT_TIMEOUT, LINK_ZMTP_TIMEOUT_MS) ||
        set_int(socket, ZMQ_HEARTBEAT_TTL, LINK_ZMTP_TIMEOUT_MS) ||
        set_int(socket, ZMQ_TCP_MAXRT, LINK_TCP_MAXRT_MS) ||
        zmq_setsockopt(socket, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg))
        return SF_ESTATE;
    return 0;
}

static int client_send(void *ctx, zmq_msg_t *msg)
{
    link_client_t *self = ctx;
    if (zmq_msg_send(msg, self->socket, ZMQ_DONTWAIT) < 0)
        return SF_EIO;
    self->last_tx_ms = stime_mono_ms();
    return 0;
}

static void client_send_envelope(link_client_t *self, const Shifan__Envelope *envelope)
{
    zmq_msg_t msg;
    if (codec_pack_msg(envelope, &msg) != 0)
        return;
    if (client_send(self, &msg) != 0)
        zmq_msg_close(&msg);
}

static uint64_t random_nonzero64(void)
{
    uint64_t value = 0;
    while (value == 0)
        randombytes_buf(&value, sizeof value);
    return value;
}

struct client_hello_arg {
    link_client_t *self;
    outbox_state_t up;
    outbox_inbound_t down;
};

static int client_hello_fn(MDB_txn *txn, void *arg)
{
    struct client_hello_arg *a = arg;
    int rc = outbox_state(txn, a->self->store, UP_STREAM, &a->up);
    return rc ? rc : outbox_inbound_get(txn, a->self->store, DOWN_INBOUND, &a->down);
}

static void client_send_hello(link_client_t *self)
{
    struct client_hello_arg arg = {self, {0}, {0}};
    if (store_read(self->store, client_hello_fn, &arg) != 0)
        return;
    Shifan__Hello hello = SHIFAN__HELLO__INIT;
    hello.code = self->code;
    hello.up_epoch = arg.up.epoch;
    hello.up_acked = arg.up.acked;
    hello.down_epoch = arg.down.epoch;
    hello.down_applied = arg.down.applied;
    hello.has_down_digest = 1;
    hello.down_digest.data = arg.down.digest;
    hello.down_digest.len = OUTBOX_DIGEST_LEN;
    hello.has_session = 1;
    hello.session = self->session;
    hello.software = "shifan " SHIFAN_VERSION_TEXT;
    Shifan__Envelope envelope;
    envelope_init(&envelope);
    envelope.body_case = SHIFAN__ENVELOPE__BODY_HELLO;
    envelope.hello = &hello;
    client_send_envelope(self, &envelope);
    self->last_hello_ms = stime_mono_ms();
}

link_client_t *link_client_new(void *ctx, store_t *store, const link_client_config_t *config,
                               const link_hooks_t *hooks, int *err)
{
    link_client_t *self = calloc(1, sizeof *self);
    uint8_t server_key[32], public_key[32], secret_key[32];
    char monitor_endpoint[64];
    *err = SF_ENOMEM;
    if (!self)
        return NULL;
    self->store = store;
    self->hooks = *hooks;
    self->session = random_nonzero64();
    snprintf(self->code, sizeof self->code, "%s", config->code);
    snprintf(self->endpoint, sizeof self->endpoint, "%s", config->endpoint);
    snprintf(self->up.stream, sizeof self->up.stream, UP_STREAM);
    *err = SF_EINVAL;
    if (keys_decode(config->server_key, server_key) ||
        keys_decode(config->public_key, public_key) || keys_decode(config->secret_key, secret_key))
        goto fail;
    *err = SF_ESTATE;
    if (!(self->socket = zmq_socket(ctx, ZMQ_DEALER)))
        goto fail;
    /* IMMEDIATE: no pipe while disconnected, so nothing queues for a dead
     * connection and is sent later behind our resends (Z4). Reconnect fast
     * with a small cap: the link must resume within ~2 s of healing. */
    self->handshake_ms = LINK_HANDSHAKE_MS;
    if (link_common_options(self->socket) || set_int(self->socket, ZMQ_IMMEDIATE, 1) ||
        set_int(self->socket, ZMQ_HANDSHAKE_IVL, self->handshake_ms) ||
        set_int(self->socket, ZMQ_RECONNECT_IVL, LINK_RECONNECT_MS) ||
        set_int(self->socket, ZMQ_RECONNECT_IVL_MAX, LINK_RECONNECT_MAX_MS) ||
        zmq_setsockopt(self->socket, ZMQ_CURVE_SERVERKEY, server_key, 32) ||
        zmq_setsockopt(self->socket, ZMQ_CURVE_PUBLICKEY, public_key, 32) ||
        zmq_setsockopt(self->socket, ZMQ_CURVE_SECRETKEY, secret_key, 32))
        goto fail;
    /* Random, not the object's address: a restarted client may get the same
     * address while libzmq still holds the old monitor endpoint. */
    snprintf(monitor_endpoint, sizeof monitor_endpoint, "inproc://shifan-monitor-%08x%08x",
             randombytes_random(), randombytes_random());
    if (zmq_socket_monitor(self->socket, monitor_endpoint,
                           ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED |
                               ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                               ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                               ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) ||
        !(self->monitor = zmq_socket(ctx, ZMQ_PAIR)) || set_int(self->monitor, ZMQ_LINGER, 0) ||
        zmq_connect(self->monitor, monitor_endpoint))
        goto fail;
    if (zmq_connect(self->socket, config->endpoint) != 0) {
        slog_error("cannot connect to %s: %s", config->endpoint, zmq_strerror(errno));
        *err = SF_EINVAL;
        goto fail;
    }
    self->state = LINK_CONNECTING;
    if ((*err = sender_refresh(&self->up, store)))
        goto fail;
    self->up.next_send = self->up.acked + 1;
    *err = 0;
    return self;
fail:
    link_client_destroy(&self);
    return NULL;
}

void link_client_destroy(link_client_t **self_p)
{
    link_client_t *self = *self_p;
    if (!self)
        return;
    if (self->socket) {
        zmq_socket_monitor(self->socket, NULL, 0);
        zmq_close(self->socket);
    }
    if (self->monitor)
        zmq_close(self->monitor);
    free(self->refusals.items);
    free(self->poisons.items);
    free(self);
    *self_p = NULL;
}

void *link_client_socket(link_client_t *self)
{
    return self->socket;
}

void *link_client_monitor(link_client_t *self)
{
    return self->monitor;
}

link_state_t link_client_state(const link_client_t *self)
{
    return self->state;
}

int64_t link_client_last_contact(const link_client_t *self)
{
    return self->last_contact;
}

uint64_t link_client_acked(const link_client_t *self)
{
    return self->up.acked;
}

void link_client_stats(const link_client_t *self, link_stats_t *stats)
{
    sender_fill_stats(&self->up, stats);
}

static void note_event(link_stats_t *stats, const char *text)
{
    snprintf(stats->last_event, sizeof stats->last_event, "%s", text);
}

/* How long the parent may stay silent before the link counts as dead: the
 * floor, or a round trip plus what we still have to drain ahead of its
 * answer, doubled per silence that made no progress. */
static int64_t client_dead_ms(const link_client_t *self)
{
    const sender_t *up = &self->up;
    int64_t base = up->srtt_ms ? up->srtt_ms + 4 * up->rttvar_ms : 0;
    if (base < LINK_DEAD_MS)
        base = LINK_DEAD_MS;
    base += sender_drain_ms(up);
    return clamp64(base << self->dead_backoff, LINK_DEAD_MS, LINK_TIMER_MAX_MS);
}

static void client_link_lost(link_client_t *self, const char *why)
{
    if (self->state == LINK_UP)
        slog_warn("link to %s down: %s; %" PRIu64 " item(s) unacknowledged will be resent",
                  self->endpoint, why, sender_in_flight(&self->up));
    if (self->state != LINK_REFUSED_KEY)
        self->state = LINK_CONNECTING;
    self->up.active = false;
    sender_rewind(&self->up);
}

/* A new connection: whatever was in flight on the old one is gone, and a
 * Welcome meant for the old one must not be taken for ours. */
static void client_new_session(link_client_t *self)
{
    self->session = random_nonzero64();
    self->last_rx_ms = stime_mono_ms();
}

/* The handshake ran out of time. On a link known to be fast that means a
 * dead path: try again at once with the same limit (a blackholed path
 * heals within a handshake). Otherwise it may be a slow one (a CURVE
 * handshake is four round trips and a few hundred bytes): double the
 * limit, up to LINK_HANDSHAKE_MAX_MS, and reconnect with it. */
static void client_handshake_timed_out(link_client_t *self)
{
    int64_t now = stime_mono_ms();
    bool known_fast = self->up.srtt_ms > 0 && self->up.srtt_ms < LINK_FAST_RTT_MS;
    self->handshake_timeouts++;
    int limit = LINK_HANDSHAKE_MS;
    if (self->up.srtt_ms >= LINK_FAST_RTT_MS)
        limit = (int)clamp64(8 * self->up.srtt_ms, LINK_HANDSHAKE_MS, LINK_HANDSHAKE_MAX_MS);
    if (!known_fast) {
        int doublings = self->handshake_timeouts < 5 ? self->handshake_timeouts : 5;
        limit = (int)clamp64((int64_t)limit << doublings, LINK_HANDSHAKE_MS, LINK_HANDSHAKE_MAX_MS);
    }
    if (limit != self->handshake_ms) {
        slog_info("handshake with %s timed out after %d ms (a slow link?): next limit %d ms",
                  self->endpoint, self->handshake_ms, limit);
        self->handshake_ms = limit;
        set_int(self->socket, ZMQ_HANDSHAKE_IVL, limit); /* applies to the next connect */
    }
    self->reconnect_at_ms = now + LINK_RECONNECT_MS;
}

void link_client_on_monitor(link_client_t *self)
{
    for (;;) {
        zmq_msg_t head, address;
        zmq_msg_init(&head);
        if (zmq_msg_recv(&head, self->monitor, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&head);
            return;
        }
        zmq_msg_init(&address);
        if (zmq_msg_more(&head))
            zmq_msg_recv(&address, self->monitor, 0);
        uint16_t event = 0;
        uint32_t value = 0;
        if (zmq_msg_size(&head) >= 6) {
            memcpy(&event, zmq_msg_data(&head), 2);
            memcpy(&value, (uint8_t *)zmq_msg_data(&head) + 2, 4);
        }
        zmq_msg_close(&head);
        zmq_msg_close(&address);
        int64_t now = stime_mono_ms();
        switch (event) {
        case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
            /* A new connection: resume from the parent's durable state. */
            self->handshake_timeouts = 0;
            client_link_lost(self, "reconnected");
            client_new_session(self);
            self->state = LINK_CONNECTING;
            client_send_hello(self);
            break;
        case ZMQ_EVENT_DISCONNECTED:
            client_link_lost(self, "connection closed");
            break;
        case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
            /* libzmq 4.3.4 treats a ZAP refusal as a protocol error and never
             * reconnects that endpoint: we re-arm it ourselves, so a county
             * refused before its key was allowed connects soon after. */
            self->reconnect_at_ms = now + LINK_REFUSED_RETRY_MS;
            self->state = LINK_REFUSED_KEY;
            self->up.active = false;
            if (now - self->last_refused_log_ms > 30000) {
                slog_error("the parent at %s refused our key (ZAP status %u): ask its operator "
                           "to run 'allow --code %s --key <the output of our key verb>'",
                           self->endpoint, value, self->code);
                self->last_refused_log_ms = now;
            }
            break;
        case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
            if (value == EAGAIN) {
                client_handshake_timed_out(self);
                break;
            }
            /* fall through */
        default:
            self->reconnect_at_ms = now + LINK_REFUSED_RETRY_MS;
            if (now - self->last_refused_log_ms > 30000) {
                slog_warn("handshake with %s failed (event 0x%x, %u): is --upstream-key the "
                          "parent's current public key?",
                          self->endpoint, event, value);
                self->last_refused_log_ms = now;
            }
            break;
        }
    }
}

/* On Welcome: reconcile both streams with the parent's view. */
static int client_welcome(link_client_t *self, MDB_txn *txn, const Shifan__Welcome *welcome)
{
    outbox_state_t up;
    int rc = outbox_state(txn, self->store, UP_STREAM, &up);
    if (rc)
        return rc;
    bool same = welcome->up_epoch == up.epoch && up.epoch != 0;
    if (same && (welcome->up_applied >= up.next_seq ||
                 (welcome->up_applied > up.acked &&
                  outbox_item_differs(txn, self->store, UP_STREAM, welcome->up_applied,
                                      welcome->up_digest.data, welcome->up_digest.len)))) {
        /* The parent applied numbers we never issued, or other items under
         * our numbers: we were restored from an older backup. A new epoch
         * keeps new reports from being skipped as duplicates; ids dedupe
         * what was delivered before. */
        if ((rc = outbox_restart_stream(txn, self->store, UP_STREAM, &up)))
            return rc;
        self->restarted_stream = true;
    } else if (same && welcome->up_applied > up.acked) {
        if ((rc = outbox_ack(txn, self->store, UP_STREAM, up.epoch, welcome->up_applied)))
            return rc;
    } else if (same && welcome->up_applied < up.acked) {
        /* The parent lacks items it acknowledged: it was restored from an
         * older backup or re-initialised. Those items are deleted here, so
         * queue our state again (the parent dedupes what it has) and start
         * a new epoch that the parent takes from its first item. */
        if ((rc = outbox_restart_stream(txn, self->store, UP_STREAM, &up)))
            return rc;
        if (self->hooks.resync_parent && (rc = self->hooks.resync_parent(self->hooks.arg, txn)))
            return rc;
        self->restarted_stream = true;
        self->resynced_parent = true;
    }
    outbox_inbound_t down;
    if ((rc = outbox_inbound_get(txn, self->store, DOWN_INBOUND, &down)))
        return rc;
    if (welcome->down_epoch != down.epoch) {
        /* The parent's stream to us is new to us: start where it stands. */
        memset(&down, 0, sizeof down);
        down.epoch = welcome->down_epoch;
        down.applied = welcome->down_acked;
        rc = outbox_inbound_put(txn, self->store, DOWN_INBOUND, &down);
    } else if (welcome->down_acked > down.applied) {
        /* We applied less than we once acknowledged: this store was restored
         * from an older backup. The parent deleted those items and queues its
         * state to us again after them; continue from there. */
        self->skipped_down = true;
        self->skipped_from = down.applied;
        self->skipped_to = welcome->down_acked;
        down.applied = welcome->down_acked;
        memset(down.digest, 0, sizeof down.digest);
        rc = outbox_inbound_put(txn, self->store, DOWN_INBOUND, &down);
    }
    return rc;
}

static int client_txn_fn(MDB_txn *txn, void *arg)
{
    link_client_t *self = arg;
    int rc;
    slog_hold(); /* what the hooks log stands or falls with this transaction */
    self->refusals.count = 0;
    self->down_any = false;
    self->restarted_stream = self->resynced_parent = self->skipped_down = false;
    if (self->welcome && (rc = client_welcome(self, txn, self->welcome->welcome)))
        return rc;
    if (self->ack_seen) {
        outbox_state_t up;
        if ((rc = outbox_state(txn, self->store, UP_STREAM, &up)))
            return rc;
        if (self->ack_applied > up.acked && self->ack_applied < up.next_seq &&
            (rc = outbox_ack(txn, self->store, UP_STREAM, up.epoch, self->ack_applied)))
            return rc;
    }
    apply_ctx_t ctx = {self->store,     &self->hooks,  "", DOWN_INBOUND, UP_STREAM,
                       &self->refusals, &self->poisons};
    for (size_t i = 0; i < self->batch_count; i++) {
        if ((rc = apply_batch(txn, &ctx, self->batches[i]->batch, &self->down_result)))
            return rc;
        self->down_any = true;
    }
    return 0;
}

static void client_send_ack(link_client_t *self, uint64_t epoch, uint64_t applied)
{
    Shifan__Ack ack = SHIFAN__ACK__INIT;
    ack.epoch = epoch;
    ack.applied = applied;
    Shifan__Envelope envelope;
    envelope_init(&envelope);
    envelope.body_case = SHIFAN__ENVELOPE__BODY_ACK;
    envelope.ack = &ack;
    client_send_envelope(self, &envelope);
}

static void send_refusals(void (*send)(void *, const Shifan__Envelope *), void *ctx,
                          const refusals_t *refusals)
{
    for (size_t i = 0; i < refusals->count; i++) {
        Shifan__Refusal refusal = SHIFAN__REFUSAL__INIT;
        refusal.reason = (Shifan__Refusal__Reason)refusals->items[i].reason;
        refusal.has_seq = 1;
        refusal.seq = refusals->items[i].seq;
        refusal.detail = (char *)refusals->items[i].why;
        Shifan__Envelope envelope;
        envelope_init(&envelope);
        envelope.body_case = SHIFAN__ENVELOPE__BODY_REFUSAL;
        envelope.refusal = &refusal;
        send(ctx, &envelope);
    }
}

static void client_send_envelope_cb(void *ctx, const Shifan__Envelope *envelope)
{
    client_send_envelope(ctx, envelope);
}

static void client_after_commit(link_client_t *self)
{
    if (self->welcome && self->skipped_down) {
        slog_warn("this store applied the parent's items only to %" PRIu64 " but acknowledged "
                  "%" PRIu64 " (restored from a backup?): continuing after %" PRIu64
                  "; the parent queues its state again",
                  self->skipped_from, self->skipped_to, self->skipped_to);
        note_event(&self->up.stats, "restored from a backup: the parent's state requested again");
    }
    if (self->welcome && self->restarted_stream) {
        if (self->resynced_parent) {
            slog_warn("the parent at %s lacks items it once acknowledged (restored from a "
                      "backup, or re-initialised?): our state is queued to it again under a "
                      "new epoch",
                      self->endpoint);
            self->up.stats.resyncs++;
            note_event(&self->up.stats, "parent behind us: our state queued again");
        } else {
            slog_warn("the parent has applied more of our stream than this store ever "
                      "held (restored from a backup?): pending items renumbered under a "
                      "new epoch");
            note_event(&self->up.stats, "restored from a backup: stream restarted");
        }
        self->up.stats.restarts++;
        codec_free(self->welcome);
        self->welcome = NULL;
        sender_refresh(&self->up, self->store);
        client_send_hello(self);
    }
    /* A second Welcome of the same session (an answer to a Hello resent
     * while the first was on its way) only acknowledges: rewinding again
     * would resend what is in flight, a storm on a slow link. */
    bool session_starts = self->welcome && self->state != LINK_UP;
    if (session_starts) {
        slog_info("link to %s up (parent %s); resuming after seq %" PRIu64, self->endpoint,
                  self->welcome->welcome->code, self->welcome->welcome->up_applied);
        self->state = LINK_UP;
        self->up.active = true;
    }
    uint64_t before = self->up.acked;
    sender_refresh(&self->up, self->store);
    if (session_starts) {
        sender_rewind(&self->up);
        self->up.min_rtt_ms = 0; /* maybe a new path */
    } else if (self->up.acked > before) {
        self->dead_backoff = 0;
    }
    if (self->down_any)
        client_send_ack(self, self->down_result.epoch, self->down_result.applied);
    send_refusals(client_send_envelope_cb, self, &self->refusals);
}

/* Is this Welcome the answer to our current Hello? An old parent that does
 * not echo the session is taken at its word when the epoch matches. */
static bool client_welcome_current(const link_client_t *self, const Shifan__Welcome *welcome)
{
    if (welcome->has_session && welcome->session != self->session)
        return false;
    return welcome->up_epoch == self->up.epoch || self->up.epoch == 0;
}

void link_client_on_readable(link_client_t *self)
{
    self->welcome = NULL;
    self->batch_count = 0;
    self->ack_seen = false;
    self->ack_applied = 0;
    Shifan__Envelope *keep[LINK_DRAIN_MAX];
    size_t kept = 0;
    for (int n = 0; n < LINK_DRAIN_MAX; n++) {
        zmq_msg_t msg;
        zmq_msg_init(&msg);
        if (zmq_msg_recv(&msg, self->socket, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&msg);
            break;
        }
        int err;
        Shifan__Envelope *envelope = codec_unpack(zmq_msg_data(&msg), zmq_msg_size(&msg), &err);
        zmq_msg_close(&msg);
        if (!envelope) {
            slog_warn("dropped a malformed frame from the parent (%s)", sf_strerror(err));
            continue;
        }
        self->last_rx_ms = stime_mono_ms();
        self->last_contact = stime_now();
        bool used = false;
        switch (envelope->body_case) {
        case SHIFAN__ENVELOPE__BODY_WELCOME:
            if (client_welcome_current(self, envelope->welcome)) {
                if (self->welcome)
                    codec_free(self->welcome);
                self->welcome = envelope;
                used = true;
            }
            break;
        case SHIFAN__ENVELOPE__BODY_ACK:
            if ((self->state == LINK_UP || self->welcome) &&
                envelope->ack->epoch == self->up.epoch &&
                envelope->ack->applied > self->ack_applied) {
                self->ack_applied = envelope->ack->applied;
                self->ack_seen = true;
            }
            break;
        case SHIFAN__ENVELOPE__BODY_BATCH:
            /* Only within a session: a batch on a connection not yet
             * welcomed is from before our Hello and is resent after it. */
            if (self->state != LINK_UP && !self->welcome)
                break;
            self->batches[self->batch_count++] = envelope;
            keep[kept++] = envelope;
            used = true;
            break;
        case SHIFAN__ENVELOPE__BODY_PONG:
            if (envelope->pong->nonce == self->ping_nonce && self->ping_sent_ms &&
                sender_in_flight(&self->up) == 0)
                sender_rtt_sample(&self->up, stime_mono_ms() - self->ping_sent_ms);
            self->ping_sent_ms = 0;
            break;
        case SHIFAN__ENVELOPE__BODY_REFUSAL:
            if (!envelope->refusal->has_seq) {
                /* The session itself was refused: show it, and back off. */
                if (self->state != LINK_REFUSED_KEY)
                    slog_error("the parent refused this node: %s (our code %s); check the code "
                               "registered with 'allow' for our key",
                               envelope->refusal->detail ? envelope->refusal->detail : "",
                               self->code);
                self->state = LINK_REFUSED_KEY;
                self->up.active = false;
                break;
            }
            self->up.stats.refused++;
            slog_warn("the parent refused item %" PRIu64 ": %s", envelope->refusal->seq,
                      envelope->refusal->detail ? envelope->refusal->detail : "no reason given");
            break;
        default:
            break;
        }
        if (!used)
            codec_free(envelope);
    }
    if (self->welcome || self->ack_seen || self->batch_count) {
        int64_t started = stime_mono_ms();
        int rc = write_refusing(self->store, client_txn_fn, self, &self->poisons);
        slog_release(rc == 0);
        slog_debug("client commit: ack %llu, %zu batch(es) in %lld ms",
                   (unsigned long long)self->ack_applied, self->batch_count,
                   (long long)(stime_mono_ms() - started));
        if (rc)
            slog_error("cannot record what the parent sent: %s; it will be resent",
                       sf_strerror(rc));
        else
            client_after_commit(self);
    }
    if (self->welcome)
        codec_free(self->welcome);
    self->welcome = NULL;
    for (size_t i = 0; i < kept; i++)
        codec_free(keep[i]);
    self->batch_count = 0;
    sender_pump(&self->up, self->store, client_send, self);
}

static void client_reconnect(link_client_t *self)
{
    zmq_disconnect(self->socket, self->endpoint); /* may already be gone: fine */
    client_new_session(self);
    if (zmq_connect(self->socket, self->endpoint) != 0)
        self->reconnect_at_ms = stime_mono_ms() + LINK_REFUSED_RETRY_MS;
}

void link_client_tick(link_client_t *self)
{
    int64_t now = stime_mono_ms();
    if (self->reconnect_at_ms && now >= self->reconnect_at_ms) {
        self->reconnect_at_ms = 0;
        client_reconnect(self);
    }
    if (self->state == LINK_UP && now - self->last_rx_ms > client_dead_ms(self)) {
        /* The connection may be half-open, or the path silently dropping:
         * a new connection is the only cure (libzmq's own heartbeat is a
         * slow backstop, see link_common_options). */
        client_link_lost(self, "no answer from the parent");
        if (self->dead_backoff < LINK_BACKOFF_MAX)
            self->dead_backoff++;
        client_reconnect(self);
    }
    /* Hello again while no Welcome came: after two round trips, or half a
     * handshake's time while no round trip is known (every Hello costs the
     * parent a durable transaction, and waits behind our data). */
    int64_t hello_every =
        self->state == LINK_REFUSED_KEY ? LINK_REFUSED_RETRY_MS : LINK_HELLO_RETRY_MS;
    if (self->state != LINK_REFUSED_KEY) {
        int64_t patient = self->up.srtt_ms ? 2 * self->up.srtt_ms + sender_drain_ms(&self->up)
                                           : self->handshake_ms / 2;
        if (patient > hello_every)
            hello_every = clamp64(patient, LINK_HELLO_RETRY_MS, LINK_TIMER_MAX_MS);
    }
    if (self->state != LINK_UP && now - self->last_hello_ms >= hello_every)
        client_send_hello(self);
    if (self->state == LINK_UP && now - self->last_tx_ms >= LINK_HEARTBEAT_MS) {
        Shifan__Ping ping = SHIFAN__PING__INIT;
        ping.nonce = ++self->ping_nonce;
        Shifan__Envelope envelope;
        envelope_init(&envelope);
        envelope.body_case = SHIFAN__ENVELOPE__BODY_PING;
        envelope.ping = &ping;
        client_send_envelope(self, &envelope);
        self->ping_sent_ms = now;
    }
    if (self->state == LINK_UP && sender_timed_out(&self->up, "uplink")) {
        /* Acks stopped while the connection looks alive: re-synchronise
         * through Hello/Welcome, which also repairs an epoch mismatch. */
        int backoff = self->up.backoff;
        client_link_lost(self, "acknowledgements stopped");
        self->up.backoff = backoff;
        client_send_hello(self);
    }
    sender_refresh(&self->up, self->store);
    sender_pump(&self->up, self->store, client_send, self);
}

/* ------------------------------------------------------------------------
 * Parent side.
 * ------------------------------------------------------------------------ */

#define ROUTING_ID_MAX 256

typedef struct {
    char code[16];
    /* The session: the connection whose Hello was accepted. Frames from any
     * other connection of this key are dropped until it says Hello. */
    uint8_t routing_id[ROUTING_ID_MAX];
    size_t routing_len;
    bool session;
    bool connected;
    int64_t last_rx_ms;
    int64_t last_contact;
    sender_t down;
} peer_t;

typedef struct {
    char code[16];
    peer_t *peer; /* resolved after the drain: peers[] may move while it grows */
    Shifan__Envelope *envelope;
    /* results of the transaction */
    bool welcome_ok;
    Shifan__Welcome welcome;
    uint8_t up_digest[OUTBOX_DIGEST_LEN];
    batch_result_t batch;
    const char *event; /* a restore/resync decided in the transaction, logged after */
} pending_t;

struct link_server {
    void *socket;
    store_t *store;
    link_hooks_t hooks;
    char code[16];
    char endpoint[256];
    peer_t *peers;
    size_t peer_count, peer_cap;
    pending_t pending[LINK_DRAIN_MAX];
    size_t pending_count;
    refusals_t refusals[LINK_DRAIN_MAX];
    poisons_t poisons;
    uint64_t dropped_frames, refused_items, sessionless_frames;
    link_stats_t stats; /* resyncs, restarts, last_event */
    int64_t last_revoked_ms;
    int64_t last_drop_log_ms;
};

static peer_t *server_peer(link_server_t *self, const char *code, bool create)
{
    for (size_t i = 0; i < self->peer_count; i++)
        if (strcmp(self->peers[i].code, code) == 0)
            return &self->peers[i];
    if (!create)
        return NULL;
    if (self->peer_count == self->peer_cap) {
        size_t cap = self->peer_cap ? self->peer_cap * 2 : 16;
        peer_t *grown = realloc(self->peers, cap * sizeof *grown);
        if (!grown)
            return NULL;
        /* pending[] holds peer pointers only within one drain, never across. */
        self->peers = grown;
        self->peer_cap = cap;
    }
    peer_t *peer = &self->peers[self->peer_count++];
    memset(peer, 0, sizeof *peer);
    snprintf(peer->code, sizeof peer->code, "%s", code);
    link_down_stream(peer->down.stream, sizeof peer->down.stream, code);
    sender_refresh(&peer->down, self->store);
    peer->down.next_send = peer->down.acked + 1;
    return peer;
}

link_server_t *link_server_new(void *ctx, store_t *store, const link_server_config_t *config,
                               const link_hooks_t *hooks, int *err)
{
    link_server_t *self = calloc(1, sizeof *self);
    *err = SF_ENOMEM;
    if (!self)
        return NULL;
    self->store = store;
    self->hooks = *hooks;
    snprintf(self->code, sizeof self->code, "%s", config->code ? config->code : "");
    snprintf(self->endpoint, sizeof self->endpoint, "%s", config->endpoint);
    *err = SF_ESTATE;
    if (!(self->socket = zmq_socket(ctx, ZMQ_ROUTER)))
        goto fail;
    /* MANDATORY: a send to a gone child fails (EHOSTUNREACH) instead of
     * vanishing, and with DONTWAIT never blocks the hub (Z2). Routing ids
     * are assigned by the ROUTER, never chosen by children (Z6). */
    /* A parent waits long for a handshake: its children's links may be
     * slow, and a child that is gone costs only a socket until then. */
    if (link_common_options(self->socket) || set_int(self->socket, ZMQ_ROUTER_MANDATORY, 1) ||
        set_int(self->socket, ZMQ_HANDSHAKE_IVL, LINK_HANDSHAKE_MAX_MS) ||
        (*err = zap_secure_server(self->socket, config->secret_key)) != 0) {
        if (!*err)
            *err = SF_ESTATE;
        goto fail;
    }
    if (zmq_bind(self->socket, config->endpoint) != 0) {
        slog_error("cannot listen on %s: %s", config->endpoint, zmq_strerror(errno));
        *err = errno == EADDRINUSE ? SF_EEXIST : SF_EINVAL;
        goto fail;
    }
    size_t size = sizeof self->endpoint;
    zmq_getsockopt(self->socket, ZMQ_LAST_ENDPOINT, self->endpoint, &size);
    *err = 0;
    return self;
fail:
    link_server_destroy(&self);
    return NULL;
}

void link_server_destroy(link_server_t **self_p)
{
    link_server_t *self = *self_p;
    if (!self)
        return;
    if (self->socket)
        zmq_close(self->socket);
    for (size_t i = 0; i < LINK_DRAIN_MAX; i++)
        free(self->refusals[i].items);
    free(self->poisons.items);
    free(self->peers);
    free(self);
    *self_p = NULL;
}

void *link_server_socket(link_server_t *self)
{
    return self->socket;
}

const char *link_server_endpoint(const link_server_t *self)
{
    return self->endpoint;
}

uint64_t link_server_dropped_frames(const link_server_t *self)
{
    return self->dropped_frames;
}

uint64_t link_server_refused_items(const link_server_t *self)
{
    return self->refused_items;
}

uint64_t link_server_sessionless_frames(const link_server_t *self)
{
    return self->sessionless_frames;
}

void link_server_stats(const link_server_t *self, link_stats_t *stats)
{
    *stats = self->stats;
    for (size_t i = 0; i < self->peer_count; i++) {
        const link_stats_t *one = &self->peers[i].down.stats;
        stats->bytes_sent += one->bytes_sent;
        stats->bytes_resent += one->bytes_resent;
        stats->items_acked += one->items_acked;
        stats->refused += one->refused;
    }
}

/* Sends one envelope to a routing id, whatever its session state. */
static int server_send_to(link_server_t *self, const uint8_t *rid, size_t rid_len, zmq_msg_t *msg)
{
    if (zmq_send(self->socket, rid, rid_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        return errno == EHOSTUNREACH ? SF_ESTATE : SF_EIO;
    /* The routing frame is queued; the body follows at once and cannot fail
     * for want of room (libzmq checks the HWM only on the first frame). */
    if (zmq_msg_send(msg, self->socket, ZMQ_DONTWAIT) < 0)
        return SF_EIO;
    return 0;
}

struct server_send_ctx {
    link_server_t *self;
    peer_t *peer;
};

/* Sends to the peer's session. */
static int server_send_raw(struct server_send_ctx *send, zmq_msg_t *msg)
{
    peer_t *peer = send->peer;
    if (!peer->session)
        return SF_ESTATE;
    int rc = server_send_to(send->self, peer->routing_id, peer->routing_len, msg);
    if (rc == SF_ESTATE) {
        peer->connected = false;
        peer->down.active = false;
    }
    return rc;
}

static int server_send(void *ctx, zmq_msg_t *msg)
{
    struct server_send_ctx *send = ctx;
    return send->peer->connected ? server_send_raw(send, msg) : SF_ESTATE;
}

static void server_send_envelope(link_server_t *self, peer_t *peer,
                                 const Shifan__Envelope *envelope)
{
    zmq_msg_t msg;
    if (codec_pack_msg(envelope, &msg) != 0)
        return;
    struct server_send_ctx ctx = {self, peer};
    if (server_send_raw(&ctx, &msg) != 0)
        zmq_msg_close(&msg);
}

static void server_send_envelope_cb(void *ctx, const Shifan__Envelope *envelope)
{
    struct server_send_ctx *send = ctx;
    server_send_envelope(send->self, send->peer, envelope);
}

/* A session refusal (no seq) straight to a connection. */
static void server_refuse_rid(link_server_t *self, const uint8_t *rid, size_t rid_len,
                              Shifan__Refusal__Reason reason, const char *detail)
{
    Shifan__Refusal refusal = SHIFAN__REFUSAL__INIT;
    refusal.reason = reason;
    refusal.detail = (char *)detail;
    Shifan__Envelope envelope;
    envelope_init(&envelope);
    envelope.body_case = SHIFAN__ENVELOPE__BODY_REFUSAL;
    envelope.refusal = &refusal;
    zmq_msg_t msg;
    if (codec_pack_msg(&envelope, &msg) != 0)
        return;
    if (server_send_to(self, rid, rid_len, &msg) != 0)
        zmq_msg_close(&msg);
}

/* A frame from a session whose key was replaced or removed since its
 * handshake: refused, and the child is told so (rate-limited). */
static void server_revoked(link_server_t *self, const uint8_t *rid, size_t rid_len,
                           const char *code)
{
    self->dropped_frames++;
    peer_t *peer = server_peer(self, code, false);
    if (peer && peer->routing_len == rid_len && memcmp(peer->routing_id, rid, rid_len) == 0)
        peer->session = peer->connected = peer->down.active = false;
    int64_t now = stime_mono_ms();
    if (now - self->last_revoked_ms < 1000)
        return;
    self->last_revoked_ms = now;
    slog_warn("refused a frame from an old key of %s: that key is no longer registered", code);
    server_refuse_rid(self, rid, rid_len, SHIFAN__REFUSAL__REASON__WRONG_CODE,
                      "this key is no longer registered for the unit");
}

static void server_drop(link_server_t *self, const char *who, const char *why)
{
    self->dropped_frames++;
    int64_t now = stime_mono_ms();
    if (now - self->last_drop_log_ms > 5000) {
        slog_warn("dropped a frame from %s: %s (%" PRIu64 " dropped so far)", who, why,
                  self->dropped_frames);
        self->last_drop_log_ms = now;
    }
}

static int server_hello(link_server_t *self, MDB_txn *txn, pending_t *pending)
{
    const Shifan__Hello *hello = pending->envelope->hello;
    peer_t *peer = pending->peer;
    char inbound[OUTBOX_STREAM_MAX];
    inbound_up_stream(inbound, sizeof inbound, peer->code);
    outbox_inbound_t in;
    int rc = outbox_inbound_get(txn, self->store, inbound, &in);
    if (rc)
        return rc;
    pending->event = NULL;
    if (hello->up_epoch != in.epoch) {
        bool lost = in.epoch == 0 && hello->up_acked > 0;
        if (in.epoch && !lost)
            slog_info("child %s has a new upward stream (re-initialised?); continuing after "
                      "its seq %" PRIu64,
                      peer->code, hello->up_acked);
        memset(&in, 0, sizeof in); /* no digest known for that position */
        in.epoch = hello->up_epoch;
        /* A child whose items we acknowledged but of which this store holds
         * nothing: we were re-initialised or restored from a backup older
         * than its first contact. Answering 0 makes it queue its state again. */
        in.applied = lost ? 0 : hello->up_acked;
        if (lost)
            pending->event = "holds nothing of a child that we acknowledged: it queues its "
                             "state again";
    } else if (hello->up_acked > in.applied) {
        /* We acknowledged more than we hold: restored from an older backup.
         * The Welcome says what we hold, and the child queues its state again. */
        pending->event = "acknowledged more of a child than this store holds (restored from "
                         "a backup?): it queues its state again";
    }
    if ((rc = outbox_inbound_put(txn, self->store, inbound, &in)))
        return rc;
    outbox_state_t down;
    if ((rc = outbox_state(txn, self->store, peer->down.stream, &down)))
        return rc;
    bool same = hello->down_epoch == down.epoch && down.epoch != 0;
    if (same && (hello->down_applied >= down.next_seq ||
                 (hello->down_applied > down.acked &&
                  outbox_item_differs(txn, self->store, peer->down.stream, hello->down_applied,
                                      hello->down_digest.data, hello->down_digest.len)))) {
        /* The child applied numbers this store never issued, or other items
         * under them: we were restored from an older backup. */
        pending->event = "the child applied more of our stream than this store ever held "
                         "(restored from a backup?): restarting the stream to it";
        if ((rc = outbox_restart_stream(txn, self->store, peer->down.stream, &down)))
            return rc;
    } else if (same && hello->down_applied > down.acked) {
        if ((rc = outbox_ack(txn, self->store, peer->down.stream, down.epoch, hello->down_applied)))
            return rc;
    } else if (same && hello->down_applied < down.acked) {
        /* The child applied less than it acknowledged: it was restored from
         * an older backup. What it lost was deleted here: queue our state
         * to it again. */
        pending->event = "the child applied less than it acknowledged (restored from a "
                         "backup?): our state is queued to it again";
        if (self->hooks.resync_child &&
            (rc = self->hooks.resync_child(self->hooks.arg, txn, peer->code)))
            return rc;
    } else if (!same && self->hooks.resync_child) {
        /* First contact, or a re-initialised child: it has none of our state. */
        if ((rc = self->hooks.resync_child(self->hooks.arg, txn, peer->code)))
            return rc;
    }
    if ((rc = outbox_state(txn, self->store, peer->down.stream, &down)))
        return rc;
    shifan__welcome__init(&pending->welcome);
    pending->welcome.code = self->code;
    pending->welcome.up_epoch = in.epoch;
    pending->welcome.up_applied = in.applied;
    pending->welcome.down_epoch = down.epoch;
    pending->welcome.down_acked = down.acked;
    pending->welcome.heartbeat_ms = LINK_HEARTBEAT_MS;
    memcpy(pending->up_digest, in.digest, sizeof pending->up_digest);
    pending->welcome.has_up_digest = 1;
    pending->welcome.up_digest.data = pending->up_digest; /* sent after the commit */
    pending->welcome.up_digest.len = sizeof pending->up_digest;
    pending->welcome.has_session = hello->has_session;
    pending->welcome.session = hello->session;
    pending->welcome_ok = true;
    return 0;
}

static int server_txn_fn(MDB_txn *txn, void *arg)
{
    link_server_t *self = arg;
    int rc;
    slog_hold(); /* what the hooks log stands or falls with this transaction */
    for (size_t i = 0; i < self->pending_count; i++) {
        pending_t *pending = &self->pending[i];
        self->refusals[i].count = 0;
        pending->welcome_ok = false;
        pending->batch.matched = false;
        pending->event = NULL;
        switch (pending->envelope->body_case) {
        case SHIFAN__ENVELOPE__BODY_HELLO:
            if ((rc = server_hello(self, txn, pending)))
                return rc;
            break;
        case SHIFAN__ENVELOPE__BODY_BATCH: {
            char inbound[OUTBOX_STREAM_MAX];
            inbound_up_stream(inbound, sizeof inbound, pending->peer->code);
            apply_ctx_t ctx = {self->store,
                               &self->hooks,
                               pending->peer->code,
                               inbound,
                               pending->peer->down.stream,
                               &self->refusals[i],
                               &self->poisons};
            if ((rc = apply_batch(txn, &ctx, pending->envelope->batch, &pending->batch)))
                return rc;
            break;
        }
        case SHIFAN__ENVELOPE__BODY_ACK: {
            const Shifan__Ack *ack = pending->envelope->ack;
            outbox_state_t down;
            if ((rc = outbox_state(txn, self->store, pending->peer->down.stream, &down)))
                return rc;
            if (ack->epoch == down.epoch && ack->applied > down.acked &&
                ack->applied < down.next_seq &&
                (rc = outbox_ack(txn, self->store, pending->peer->down.stream, ack->epoch,
                                 ack->applied)))
                return rc;
            break;
        }
        default:
            break;
        }
    }
    return 0;
}

/* One [routing id][body] message. */
typedef struct {
    uint8_t rid[ROUTING_ID_MAX];
    size_t rid_len;
    char code[16];
    Shifan__Envelope *envelope;
} incoming_t;

/* Reads one message; returns false when nothing is left to read. On a frame
 * that is dropped, in->envelope is NULL. */
static bool server_recv(link_server_t *self, incoming_t *in)
{
    zmq_msg_t rid, body;
    zmq_msg_init(&rid);
    zmq_msg_init(&body);
    bool more = true;
    in->envelope = NULL;
    in->rid_len = 0;
    if (zmq_msg_recv(&rid, self->socket, ZMQ_DONTWAIT) < 0) {
        more = errno != EAGAIN;
        goto out;
    }
    if (!zmq_msg_more(&rid) || zmq_msg_recv(&body, self->socket, 0) < 0) {
        server_drop(self, "a child", "no body frame");
        goto out;
    }
    if (zmq_msg_more(&body)) { /* extra frames are not ours: drain and drop */
        while (zmq_msg_more(&body)) {
            zmq_msg_close(&body);
            zmq_msg_init(&body);
            if (zmq_msg_recv(&body, self->socket, 0) < 0)
                break;
        }
        server_drop(self, "a child", "extra frames");
        goto out;
    }
    if (zmq_msg_size(&rid) > sizeof in->rid || zmq_msg_size(&rid) == 0) {
        server_drop(self, "a child", "bad routing id");
        goto out;
    }
    in->rid_len = zmq_msg_size(&rid);
    memcpy(in->rid, zmq_msg_data(&rid), in->rid_len);
    /* Our ZAP handler sets the user id to "code:key" (A6, A9). */
    const char *user_id = zmq_msg_gets(&body, "User-Id");
    const char *colon = user_id ? strchr(user_id, ':') : NULL;
    if (!colon || colon == user_id || colon - user_id >= (ptrdiff_t)sizeof in->code) {
        server_drop(self, "an unidentified peer", "no user id");
        goto out;
    }
    memcpy(in->code, user_id, (size_t)(colon - user_id));
    in->code[colon - user_id] = '\0';
    if (self->hooks.admit && !self->hooks.admit(self->hooks.arg, in->code, colon + 1)) {
        server_revoked(self, in->rid, in->rid_len, in->code);
        goto out;
    }
    int err;
    in->envelope = codec_unpack(zmq_msg_data(&body), zmq_msg_size(&body), &err);
    if (!in->envelope)
        server_drop(self, in->code, sf_strerror(err));
out:
    zmq_msg_close(&rid);
    zmq_msg_close(&body);
    return more;
}

static void server_reply_pong(link_server_t *self, peer_t *peer, uint64_t nonce)
{
    Shifan__Pong pong = SHIFAN__PONG__INIT;
    pong.nonce = nonce;
    Shifan__Envelope envelope;
    envelope_init(&envelope);
    envelope.body_case = SHIFAN__ENVELOPE__BODY_PONG;
    envelope.pong = &pong;
    server_send_envelope(self, peer, &envelope);
}

static void server_after_commit(link_server_t *self)
{
    /* One cumulative ack per child for this whole group. */
    for (size_t i = 0; i < self->pending_count; i++) {
        pending_t *pending = &self->pending[i];
        peer_t *peer = pending->peer;
        struct server_send_ctx ctx = {self, peer};
        if (pending->event) {
            /* Counted here, after the commit: the transaction may have run twice. */
            if (strstr(pending->event, "restarting the stream"))
                self->stats.restarts++;
            else if (strstr(pending->event, "queued to it again"))
                self->stats.resyncs++;
            slog_warn("child %s: %s", peer->code, pending->event);
            snprintf(self->stats.last_event, sizeof self->stats.last_event, "child %s: %s",
                     peer->code, pending->event);
        }
        if (pending->welcome_ok) {
            peer->connected = true;
            sender_refresh(&peer->down, self->store);
            peer->down.acked = pending->welcome.down_acked > peer->down.acked
                                   ? pending->welcome.down_acked
                                   : peer->down.acked;
            peer->down.active = true;
            sender_rewind(&peer->down);
            Shifan__Envelope envelope;
            envelope_init(&envelope);
            envelope.body_case = SHIFAN__ENVELOPE__BODY_WELCOME;
            envelope.welcome = &pending->welcome;
            server_send_envelope(self, peer, &envelope);
            slog_info("child %s connected; it resumes after seq %" PRIu64, peer->code,
                      pending->welcome.up_applied);
        }
        if (self->refusals[i].count) {
            self->refused_items += self->refusals[i].count;
            send_refusals(server_send_envelope_cb, &ctx, &self->refusals[i]);
        }
        if (pending->envelope->body_case == SHIFAN__ENVELOPE__BODY_BATCH &&
            pending->batch.matched) {
            bool later = false;
            for (size_t j = i + 1; j < self->pending_count; j++)
                if (self->pending[j].peer == peer &&
                    self->pending[j].envelope->body_case == SHIFAN__ENVELOPE__BODY_BATCH &&
                    self->pending[j].batch.matched)
                    later = true;
            if (!later) {
                Shifan__Ack ack = SHIFAN__ACK__INIT;
                ack.epoch = pending->batch.epoch;
                ack.applied = pending->batch.applied;
                Shifan__Envelope envelope;
                envelope_init(&envelope);
                envelope.body_case = SHIFAN__ENVELOPE__BODY_ACK;
                envelope.ack = &ack;
                server_send_envelope(self, peer, &envelope);
            }
        }
        if (pending->envelope->body_case == SHIFAN__ENVELOPE__BODY_ACK)
            sender_refresh(&peer->down, self->store);
    }
}

/* Takes one frame into the drain: returns true if it joins the group
 * transaction (pending), false if it was handled or dropped here. */
static bool server_take(link_server_t *self, incoming_t *in)
{
    Shifan__Envelope *envelope = in->envelope;
    peer_t *peer = server_peer(self, in->code, true);
    if (!peer)
        return false;
    bool from_session = peer->session && peer->routing_len == in->rid_len &&
                        memcmp(peer->routing_id, in->rid, in->rid_len) == 0;
    if (envelope->body_case == SHIFAN__ENVELOPE__BODY_HELLO) {
        if (strcmp(envelope->hello->code, peer->code) != 0) {
            slog_warn("refused Hello claiming unit %s from the key of %s", envelope->hello->code,
                      peer->code);
            if (from_session)
                peer->session = peer->connected = peer->down.active = false;
            server_refuse_rid(self, in->rid, in->rid_len, SHIFAN__REFUSAL__REASON__WRONG_CODE,
                              "the unit code does not match your key");
            return false;
        }
        /* This connection is the session from now on (the latest Hello of a
         * key wins; an old connection's frames are dropped from here on). */
        memcpy(peer->routing_id, in->rid, in->rid_len);
        peer->routing_len = in->rid_len;
        peer->session = true;
        peer->connected = true;
    } else if (!from_session) {
        self->sessionless_frames++;
        server_drop(self, peer->code, "a frame before Hello on this connection (no session)");
        return false;
    }
    peer->last_rx_ms = stime_mono_ms();
    peer->last_contact = stime_now();
    peer->connected = true;
    switch (envelope->body_case) {
    case SHIFAN__ENVELOPE__BODY_PING:
        server_reply_pong(self, peer, envelope->ping->nonce);
        return false;
    case SHIFAN__ENVELOPE__BODY_HELLO:
    case SHIFAN__ENVELOPE__BODY_BATCH:
    case SHIFAN__ENVELOPE__BODY_ACK:
        return true;
    case SHIFAN__ENVELOPE__BODY_REFUSAL:
        peer->down.stats.refused++;
        slog_warn("child %s refused item %" PRIu64 ": %s", peer->code, envelope->refusal->seq,
                  envelope->refusal->detail ? envelope->refusal->detail : "");
        return false;
    default:
        server_drop(self, peer->code, "unexpected message type");
        return false;
    }
}

void link_server_on_readable(link_server_t *self)
{
    self->pending_count = 0;
    for (int n = 0; n < LINK_DRAIN_MAX; n++) {
        incoming_t in;
        if (!server_recv(self, &in))
            break;
        if (!in.envelope)
            continue;
        if (!server_take(self, &in)) {
            codec_free(in.envelope);
            continue;
        }
        pending_t *pending = &self->pending[self->pending_count++];
        snprintf(pending->code, sizeof pending->code, "%s", in.code);
        pending->envelope = in.envelope;
    }
    if (self->pending_count == 0)
        return;
    for (size_t i = 0; i < self->pending_count; i++)
        self->pending[i].peer = server_peer(self, self->pending[i].code, true);
    int64_t started = stime_mono_ms();
    int rc = write_refusing(self->store, server_txn_fn, self, &self->poisons);
    slog_release(rc == 0);
    slog_debug("group commit: %zu frame(s) in %lld ms", self->pending_count,
               (long long)(stime_mono_ms() - started));
    if (rc)
        slog_error("cannot store what %zu frame(s) carried: %s; nothing was acknowledged, the "
                   "children will resend",
                   self->pending_count, sf_strerror(rc));
    else
        server_after_commit(self);
    for (size_t i = 0; i < self->pending_count; i++)
        codec_free(self->pending[i].envelope);
    self->pending_count = 0;
    for (size_t i = 0; i < self->peer_count; i++) {
        struct server_send_ctx ctx = {self, &self->peers[i]};
        sender_pump(&self->peers[i].down, self->store, server_send, &ctx);
    }
}

struct server_refresh_arg {
    link_server_t *self;
};

static int server_refresh_fn(MDB_txn *txn, void *arg)
{
    link_server_t *self = ((struct server_refresh_arg *)arg)->self;
    for (size_t i = 0; i < self->peer_count; i++) {
        struct sender_refresh_arg one = {self->store, &self->peers[i].down};
        int rc = sender_refresh_fn(txn, &one);
        if (rc)
            return rc;
    }
    return 0;
}

void link_server_tick(link_server_t *self)
{
    int64_t now = stime_mono_ms();
    struct server_refresh_arg arg = {self};
    store_read(self->store, server_refresh_fn, &arg);
    for (size_t i = 0; i < self->peer_count; i++) {
        peer_t *peer = &self->peers[i];
        int64_t silent = LINK_PEER_SILENT_MS;
        if (2 * sender_rto_ms(&peer->down) > silent)
            silent = 2 * sender_rto_ms(&peer->down);
        if (peer->connected && now - peer->last_rx_ms > silent) {
            slog_info("child %s silent for %lld ms: considered disconnected", peer->code,
                      (long long)silent);
            peer->connected = false;
            peer->down.active = false;
            sender_rewind(&peer->down);
        }
        if (!peer->connected)
            continue;
        char who[32];
        snprintf(who, sizeof who, "downlink to %s", peer->code);
        if (sender_timed_out(&peer->down, who))
            sender_rewind(&peer->down);
        struct server_send_ctx ctx = {self, peer};
        sender_pump(&peer->down, self->store, server_send, &ctx);
    }
}

size_t link_server_peers(link_server_t *self, link_peer_info_t *out, size_t max)
{
    for (size_t i = 0; i < self->peer_count && i < max; i++) {
        const peer_t *peer = &self->peers[i];
        snprintf(out[i].code, sizeof out[i].code, "%s", peer->code);
        out[i].connected = peer->connected;
        out[i].last_contact = peer->last_contact;
        out[i].down_pending =
            peer->down.head > peer->down.acked ? peer->down.head - peer->down.acked : 0;
        out[i].rate_Bps = (uint64_t)peer->down.rate_Bps;
        out[i].srtt_ms = peer->down.srtt_ms;
    }
    return self->peer_count;
}
