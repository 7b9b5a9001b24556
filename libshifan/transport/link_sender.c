/* link_sender.c - the sending half of either end: a window over one outbox
 * stream (link_internal.h).
 *
 * The window adapts to the link (docs/protocol.md, "Slow and lossy links"):
 * each acknowledgement gives a round-trip sample (send of a batch to its
 * ack) and a drain-rate sample (bytes acknowledged per second while busy).
 * Batches are sized to take about LINK_BATCH_DRAIN_MS on the link, bytes in
 * flight to about a round trip plus LINK_WINDOW_QUEUE_MS, so that on a slow
 * link little waits in queues (a Ping or an Ack is never far behind) and a
 * resend costs little; on a fast one the window opens within a few round
 * trips. The estimate lives in memory and survives reconnections. */
#include "base/error.h"
#include "base/slog.h"
#include "base/stime.h"
#include "storage/outbox.h"
#include "transport/codec.h"
#include "transport/link_internal.h"

#include <inttypes.h>
#include <stdlib.h>
#include <zmq.h>

static void sender_forget_flights(link_sender_t *sender)
{
    sender->flight_first = sender->flight_count = 0;
    sender->bytes_in_flight = 0;
}

void link_sender_rewind(link_sender_t *sender)
{
    sender->next_send = sender->acked + 1;
    sender->last_progress_ms = stime_mono_ms();
    sender_forget_flights(sender);
}

uint64_t link_sender_in_flight(const link_sender_t *sender)
{
    return sender->next_send > sender->acked + 1 ? sender->next_send - 1 - sender->acked : 0;
}

/* The time to drain what is in flight at the measured rate (or the slowest
 * rate we plan for, before one is measured). */
int64_t link_sender_drain_ms(const link_sender_t *sender)
{
    double rate = sender->rate_Bps > 0 ? sender->rate_Bps : LINK_SLOWEST_BPS;
    return (int64_t)((double)sender->bytes_in_flight * 1000.0 / rate);
}

/* Resend timer: smoothed round trip plus four deviations, at least the
 * floor, plus what is still to drain, doubled per fruitless timeout. */
int64_t link_sender_rto_ms(const link_sender_t *sender)
{
    int64_t base = sender->srtt_ms ? sender->srtt_ms + 4 * sender->rttvar_ms : 0;
    if (base < LINK_RESEND_MS)
        base = LINK_RESEND_MS;
    base += sender->srtt_ms ? 0 : link_sender_drain_ms(sender);
    return clamp64(base << sender->backoff, LINK_RESEND_MS, LINK_TIMER_MAX_MS);
}

/* A link with a short round trip and a drain rate of a megabyte a second
 * or more: what waits in its queues drains in well under a second whatever
 * the window, so it gets the largest batches and window. (Measured per
 * ack, the rate of a hub that is also busy applying trails the link's: a
 * window sized from it cost a third of the end-to-end rate.) */
static bool sender_fast(const link_sender_t *sender)
{
    return sender->srtt_ms > 0 && sender->srtt_ms < LINK_FAST_RTT_MS &&
           sender->rate_Bps >= LINK_FAST_BPS;
}

static size_t sender_batch_bytes(const link_sender_t *sender)
{
    if (sender_fast(sender))
        return LINK_BATCH_BYTES;
    if (sender->rate_Bps <= 0)
        return LINK_BATCH_MIN_BYTES;
    return (size_t)clamp64((int64_t)(sender->rate_Bps * LINK_BATCH_DRAIN_MS / 1000.0),
                           LINK_BATCH_MIN_BYTES, LINK_BATCH_BYTES);
}

static uint64_t sender_window_bytes(const link_sender_t *sender)
{
    if (sender_fast(sender))
        return LINK_WINDOW_BYTES;
    if (sender->rate_Bps <= 0)
        return 2 * LINK_BATCH_MIN_BYTES;
    double ms = (double)(sender->min_rtt_ms + LINK_WINDOW_QUEUE_MS);
    return (uint64_t)clamp64((int64_t)(sender->rate_Bps * ms / 1000.0),
                             2 * (int64_t)sender_batch_bytes(sender), LINK_WINDOW_BYTES);
}

void link_sender_fill_stats(const link_sender_t *sender, link_stats_t *stats)
{
    *stats = sender->stats;
    stats->rate_Bps = (uint64_t)sender->rate_Bps;
    stats->srtt_ms = sender->srtt_ms;
    stats->rto_ms = link_sender_rto_ms(sender);
    stats->batch_bytes = (uint32_t)sender_batch_bytes(sender);
    stats->window_bytes = sender_window_bytes(sender);
}

/* One round-trip sample (RFC 6298): a batch to its ack, or on an idle link
 * a Ping to its Pong. */
void link_sender_rtt_sample(link_sender_t *sender, int64_t sample)
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
static void sender_on_progress(link_sender_t *sender, uint64_t previous_acked)
{
    int64_t now = stime_mono_ms();
    if (sender->acked <= previous_acked)
        return;
    sender->stats.items_acked += sender->acked - previous_acked;
    uint64_t bytes = 0;
    int64_t sample = -1, first_sent = 0;
    while (sender->flight_count) {
        link_flight_t *flight = &sender->flights[sender->flight_first];
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
        link_sender_rtt_sample(sender, sample);
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

int link_sender_refresh_txn(store_txn_t *txn, store_t *store, link_sender_t *sender)
{
    outbox_state_t state;
    int rc = outbox_state(txn, store, sender->stream, &state);
    if (rc)
        return rc;
    sender->head = state.next_seq - 1;
    if (state.epoch != sender->epoch) {
        /* A new epoch (a restarted stream): nothing of the old is in flight. */
        sender->epoch = state.epoch;
        sender->acked = state.acked;
        sender->next_send = state.acked + 1;
        sender->high_sent = state.acked;
        sender_forget_flights(sender);
        return 0;
    }
    if (state.acked > sender->acked) {
        uint64_t previous = sender->acked;
        sender->acked = state.acked;
        if (sender->next_send <= state.acked)
            sender->next_send = state.acked + 1;
        sender_on_progress(sender, previous);
    }
    return 0;
}

struct sender_refresh_arg {
    store_t *store;
    link_sender_t *sender;
};

static int sender_refresh_fn(store_txn_t *txn, void *arg)
{
    struct sender_refresh_arg *a = arg;
    return link_sender_refresh_txn(txn, a->store, a->sender);
}

int link_sender_refresh(link_sender_t *sender, store_t *store)
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
    link_sender_t *sender;
    size_t max_items, max_bytes;
    zmq_msg_t *msg;
    uint64_t last_seq;
    size_t count, bytes;
};

static int sender_pack_fn(store_txn_t *txn, void *arg)
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
int link_sender_pump(link_sender_t *sender, store_t *store, link_send_fn send, void *send_ctx)
{
    int frames = 0;
    while (sender->active && sender->epoch != 0 && sender->next_send <= sender->head) {
        uint64_t in_flight = link_sender_in_flight(sender);
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
        link_flight_t *flight =
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
bool link_sender_timed_out(link_sender_t *sender, const char *who)
{
    if (link_sender_in_flight(sender) == 0)
        return false;
    int64_t now = stime_mono_ms(), rto = link_sender_rto_ms(sender);
    if (now - sender->last_progress_ms < rto)
        return false;
    slog_info("%s: no acknowledgement for %lld ms, resending from seq %" PRIu64, who,
              (long long)rto, sender->acked + 1);
    if (sender->backoff < LINK_BACKOFF_MAX)
        sender->backoff++;
    return true;
}
