/* link_client.c - the child's end of the link (link.h): a DEALER that
 * connects out with CURVE, says Hello on every new connection, applies what
 * the parent sends in one transaction per drain, and reconnects itself when
 * the parent falls silent or a handshake fails. */
#include "base/error.h"
#include "base/slog.h"
#include "base/stime.h"
#include "storage/outbox.h"
#include "transport/codec.h"
#include "transport/keys.h"
#include "transport/link.h"
#include "transport/link_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

struct link_client {
    void *socket, *monitor;
    store_t *store;
    link_hooks_t hooks;
    char code[16];
    char endpoint[256];
    link_state_t state;
    link_sender_t up;
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
    link_refusals_t refusals;
    link_poisons_t poisons;
    link_batch_result_t down_result;
    bool down_any;
    bool restarted_stream, resynced_parent, skipped_down;
    uint64_t skipped_from, skipped_to;
};

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

static int client_hello_fn(store_txn_t *txn, void *arg)
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
    link_envelope_init(&envelope);
    envelope.body_case = SHIFAN__ENVELOPE__BODY_HELLO;
    envelope.hello = &hello;
    client_send_envelope(self, &envelope);
    self->last_hello_ms = stime_mono_ms();
}

/* The DEALER, with its CURVE keys. IMMEDIATE: no pipe while disconnected,
 * so nothing queues for a dead connection and is sent later behind our
 * resends (Z4). Reconnect fast with a small cap: the link must resume
 * within ~2 s of healing. */
static int client_open_socket(link_client_t *self, void *ctx, const link_client_config_t *config,
                              sf_error_t *error)
{
    uint8_t server_key[32], public_key[32], secret_key[32];
    if (keys_decode(config->server_key, server_key) ||
        keys_decode(config->public_key, public_key) || keys_decode(config->secret_key, secret_key))
        return sf_error_set(error, SF_EINVAL, "a key of the link to %s is not a Z85 CURVE key",
                            config->endpoint);
    if (!(self->socket = zmq_socket(ctx, ZMQ_DEALER)))
        return sf_error_set(error, SF_ESTATE, "cannot make a socket: %s", zmq_strerror(errno));
    self->handshake_ms = LINK_HANDSHAKE_MS;
    if (link_common_options(self->socket) || link_set_int(self->socket, ZMQ_IMMEDIATE, 1) ||
        link_set_int(self->socket, ZMQ_HANDSHAKE_IVL, self->handshake_ms) ||
        link_set_int(self->socket, ZMQ_RECONNECT_IVL, LINK_RECONNECT_MS) ||
        link_set_int(self->socket, ZMQ_RECONNECT_IVL_MAX, LINK_RECONNECT_MAX_MS) ||
        zmq_setsockopt(self->socket, ZMQ_CURVE_SERVERKEY, server_key, 32) ||
        zmq_setsockopt(self->socket, ZMQ_CURVE_PUBLICKEY, public_key, 32) ||
        zmq_setsockopt(self->socket, ZMQ_CURVE_SECRETKEY, secret_key, 32))
        return sf_error_set(error, SF_ESTATE, "cannot set the options of the link socket: %s",
                            zmq_strerror(errno));
    return 0;
}

/* The PAIR that receives the DEALER's connection events. */
static int client_open_monitor(link_client_t *self, void *ctx, sf_error_t *error)
{
    /* Random, not the object's address: a restarted client may get the same
     * address while libzmq still holds the old monitor endpoint. */
    char monitor_endpoint[64];
    snprintf(monitor_endpoint, sizeof monitor_endpoint, "inproc://shifan-monitor-%08x%08x",
             randombytes_random(), randombytes_random());
    if (zmq_socket_monitor(self->socket, monitor_endpoint,
                           ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED |
                               ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                               ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                               ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) ||
        !(self->monitor = zmq_socket(ctx, ZMQ_PAIR)) ||
        link_set_int(self->monitor, ZMQ_LINGER, 0) || zmq_connect(self->monitor, monitor_endpoint))
        return sf_error_set(error, SF_ESTATE, "cannot monitor the link socket: %s",
                            zmq_strerror(errno));
    return 0;
}

link_client_t *link_client_new(void *ctx, store_t *store, const link_client_config_t *config,
                               const link_hooks_t *hooks, sf_error_t *error)
{
    link_client_t *self = calloc(1, sizeof *self);
    if (!self) {
        sf_error_set(error, SF_ENOMEM, "out of memory for the link to %s", config->endpoint);
        return NULL;
    }
    self->store = store;
    self->hooks = *hooks;
    self->session = random_nonzero64();
    snprintf(self->code, sizeof self->code, "%s", config->code);
    snprintf(self->endpoint, sizeof self->endpoint, "%s", config->endpoint);
    snprintf(self->up.stream, sizeof self->up.stream, UP_STREAM);
    if (client_open_socket(self, ctx, config, error) || client_open_monitor(self, ctx, error))
        goto fail;
    if (zmq_connect(self->socket, config->endpoint) != 0) {
        int zerr = errno;
        slog_error("cannot connect to %s: %s", config->endpoint, zmq_strerror(zerr));
        sf_error_set(error, SF_EINVAL, "cannot connect to %s: %s", config->endpoint,
                     zmq_strerror(zerr));
        goto fail;
    }
    self->state = LINK_CONNECTING;
    int rc = link_sender_refresh(&self->up, store);
    if (rc) {
        sf_error_set(error, rc, "cannot read the upward stream: %s", sf_strerror(rc));
        goto fail;
    }
    self->up.next_send = self->up.acked + 1;
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
    link_sender_fill_stats(&self->up, stats);
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
    const link_sender_t *up = &self->up;
    int64_t base = up->srtt_ms ? up->srtt_ms + 4 * up->rttvar_ms : 0;
    if (base < LINK_DEAD_MS)
        base = LINK_DEAD_MS;
    base += link_sender_drain_ms(up);
    return clamp64(base << self->dead_backoff, LINK_DEAD_MS, LINK_TIMER_MAX_MS);
}

static void client_link_lost(link_client_t *self, const char *why)
{
    if (self->state == LINK_UP)
        slog_warn("link to %s down: %s; %" PRIu64 " item(s) unacknowledged will be resent",
                  self->endpoint, why, link_sender_in_flight(&self->up));
    if (self->state != LINK_REFUSED_KEY)
        self->state = LINK_CONNECTING;
    self->up.active = false;
    link_sender_rewind(&self->up);
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
        link_set_int(self->socket, ZMQ_HANDSHAKE_IVL, limit); /* applies to the next connect */
    }
    self->reconnect_at_ms = now + LINK_RECONNECT_MS;
}

/* Reads one monitor event without blocking; false when none is pending. */
static bool client_read_event(link_client_t *self, uint16_t *event, uint32_t *value)
{
    zmq_msg_t head, address;
    zmq_msg_init(&head);
    if (zmq_msg_recv(&head, self->monitor, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&head);
        return false;
    }
    zmq_msg_init(&address);
    if (zmq_msg_more(&head))
        zmq_msg_recv(&address, self->monitor, 0);
    *event = 0;
    *value = 0;
    if (zmq_msg_size(&head) >= 6) {
        memcpy(event, zmq_msg_data(&head), 2);
        memcpy(value, (uint8_t *)zmq_msg_data(&head) + 2, 4);
    }
    zmq_msg_close(&head);
    zmq_msg_close(&address);
    return true;
}

static void client_on_event(link_client_t *self, uint16_t event, uint32_t value)
{
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

void link_client_on_monitor(link_client_t *self)
{
    uint16_t event;
    uint32_t value;
    while (client_read_event(self, &event, &value))
        client_on_event(self, event, value);
}

/* On Welcome: reconcile both streams with the parent's view. */
static int client_welcome(link_client_t *self, store_txn_t *txn, const Shifan__Welcome *welcome)
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

static int client_txn_fn(store_txn_t *txn, void *arg)
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
    link_apply_ctx_t ctx = {self->store,     &self->hooks,  "", DOWN_INBOUND, UP_STREAM,
                            &self->refusals, &self->poisons};
    for (size_t i = 0; i < self->batch_count; i++) {
        if ((rc = link_apply_batch(txn, &ctx, self->batches[i]->batch, &self->down_result)))
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
    link_envelope_init(&envelope);
    envelope.body_case = SHIFAN__ENVELOPE__BODY_ACK;
    envelope.ack = &ack;
    client_send_envelope(self, &envelope);
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
        link_sender_refresh(&self->up, self->store);
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
    link_sender_refresh(&self->up, self->store);
    if (session_starts) {
        link_sender_rewind(&self->up);
        self->up.min_rtt_ms = 0; /* maybe a new path */
    } else if (self->up.acked > before) {
        self->dead_backoff = 0;
    }
    if (self->down_any)
        client_send_ack(self, self->down_result.epoch, self->down_result.applied);
    link_send_refusals(client_send_envelope_cb, self, &self->refusals);
}

/* Is this Welcome the answer to our current Hello? An old parent that does
 * not echo the session is taken at its word when the epoch matches. */
static bool client_welcome_current(const link_client_t *self, const Shifan__Welcome *welcome)
{
    if (welcome->has_session && welcome->session != self->session)
        return false;
    return welcome->up_epoch == self->up.epoch || self->up.epoch == 0;
}

/* A Pong: a round-trip sample on an idle link (a busy one samples the acks
 * of its batches). */
static void client_on_pong(link_client_t *self, const Shifan__Pong *pong)
{
    if (pong->nonce == self->ping_nonce && self->ping_sent_ms &&
        link_sender_in_flight(&self->up) == 0)
        link_sender_rtt_sample(&self->up, stime_mono_ms() - self->ping_sent_ms);
    self->ping_sent_ms = 0;
}

static void client_on_refusal(link_client_t *self, const Shifan__Refusal *refusal)
{
    if (!refusal->has_seq) {
        /* The session itself was refused: show it, and back off. */
        if (self->state != LINK_REFUSED_KEY)
            slog_error("the parent refused this node: %s (our code %s); check the code "
                       "registered with 'allow' for our key",
                       refusal->detail ? refusal->detail : "", self->code);
        self->state = LINK_REFUSED_KEY;
        self->up.active = false;
        return;
    }
    self->up.stats.refused++;
    slog_warn("the parent refused item %" PRIu64 ": %s", refusal->seq,
              refusal->detail ? refusal->detail : "no reason given");
}

/* Takes one frame from the parent into this drain: true if the drain keeps
 * it (a Welcome, or a Batch for the transaction) and frees it afterwards,
 * false if it was handled here and the caller frees it. */
static bool client_take(link_client_t *self, Shifan__Envelope *envelope)
{
    switch (envelope->body_case) {
    case SHIFAN__ENVELOPE__BODY_WELCOME:
        if (!client_welcome_current(self, envelope->welcome))
            return false;
        if (self->welcome)
            codec_free(self->welcome);
        self->welcome = envelope;
        return true;
    case SHIFAN__ENVELOPE__BODY_ACK:
        if ((self->state == LINK_UP || self->welcome) && envelope->ack->epoch == self->up.epoch &&
            envelope->ack->applied > self->ack_applied) {
            self->ack_applied = envelope->ack->applied;
            self->ack_seen = true;
        }
        return false;
    case SHIFAN__ENVELOPE__BODY_BATCH:
        /* Only within a session: a batch on a connection not yet
         * welcomed is from before our Hello and is resent after it. */
        if (self->state != LINK_UP && !self->welcome)
            return false;
        self->batches[self->batch_count++] = envelope;
        return true;
    case SHIFAN__ENVELOPE__BODY_PONG:
        client_on_pong(self, envelope->pong);
        return false;
    case SHIFAN__ENVELOPE__BODY_REFUSAL:
        client_on_refusal(self, envelope->refusal);
        return false;
    default:
        return false;
    }
}

/* Commits what the drain took (Welcome, acks, batches) in one durable
 * transaction, then answers; on failure nothing is acknowledged and the
 * parent resends. */
static void client_commit(link_client_t *self)
{
    int64_t started = stime_mono_ms();
    int rc = link_write_refusing(self->store, client_txn_fn, self, &self->poisons);
    slog_release(rc == 0);
    slog_debug("client commit: ack %llu, %zu batch(es) in %lld ms",
               (unsigned long long)self->ack_applied, self->batch_count,
               (long long)(stime_mono_ms() - started));
    if (rc)
        slog_error("cannot record what the parent sent: %s; it will be resent", sf_strerror(rc));
    else
        client_after_commit(self);
}

void link_client_on_readable(link_client_t *self)
{
    self->welcome = NULL;
    self->batch_count = 0;
    self->ack_seen = false;
    self->ack_applied = 0;
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
        if (!client_take(self, envelope))
            codec_free(envelope);
    }
    if (self->welcome || self->ack_seen || self->batch_count)
        client_commit(self);
    if (self->welcome)
        codec_free(self->welcome);
    self->welcome = NULL;
    for (size_t i = 0; i < self->batch_count; i++)
        codec_free(self->batches[i]);
    self->batch_count = 0;
    link_sender_pump(&self->up, self->store, client_send, self);
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
        int64_t patient = self->up.srtt_ms ? 2 * self->up.srtt_ms + link_sender_drain_ms(&self->up)
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
        link_envelope_init(&envelope);
        envelope.body_case = SHIFAN__ENVELOPE__BODY_PING;
        envelope.ping = &ping;
        client_send_envelope(self, &envelope);
        self->ping_sent_ms = now;
    }
    if (self->state == LINK_UP && link_sender_timed_out(&self->up, "uplink")) {
        /* Acks stopped while the connection looks alive: re-synchronise
         * through Hello/Welcome, which also repairs an epoch mismatch. */
        int backoff = self->up.backoff;
        client_link_lost(self, "acknowledgements stopped");
        self->up.backoff = backoff;
        client_send_hello(self);
    }
    link_sender_refresh(&self->up, self->store);
    link_sender_pump(&self->up, self->store, client_send, self);
}
