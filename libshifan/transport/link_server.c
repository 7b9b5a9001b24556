/* link_server.c - the parent's end of the link (link.h): a ROUTER that
 * listens with CURVE behind our ZAP handler, one session per child (the
 * connection of its latest accepted Hello), and one group commit for all
 * the frames that arrived together from every child. */
#include "base/error.h"
#include "base/slog.h"
#include "base/stime.h"
#include "storage/outbox.h"
#include "transport/codec.h"
#include "transport/link.h"
#include "transport/link_internal.h"
#include "transport/zap.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

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
    link_sender_t down;
} peer_t;

typedef struct {
    char code[16];
    peer_t *peer; /* resolved after the drain: peers[] may move while it grows */
    Shifan__Envelope *envelope;
    /* results of the transaction */
    bool welcome_ok;
    Shifan__Welcome welcome;
    uint8_t up_digest[OUTBOX_DIGEST_LEN];
    link_batch_result_t batch;
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
    link_refusals_t refusals[LINK_DRAIN_MAX];
    link_poisons_t poisons;
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
    link_sender_refresh(&peer->down, self->store);
    peer->down.next_send = peer->down.acked + 1;
    return peer;
}

link_server_t *link_server_new(void *ctx, store_t *store, const link_server_config_t *config,
                               const link_hooks_t *hooks, sf_error_t *error)
{
    link_server_t *self = calloc(1, sizeof *self);
    if (!self) {
        sf_error_set(error, SF_ENOMEM, "out of memory for the link server");
        return NULL;
    }
    self->store = store;
    self->hooks = *hooks;
    snprintf(self->code, sizeof self->code, "%s", config->code ? config->code : "");
    snprintf(self->endpoint, sizeof self->endpoint, "%s", config->endpoint);
    if (!(self->socket = zmq_socket(ctx, ZMQ_ROUTER))) {
        sf_error_set(error, SF_ESTATE, "cannot make a socket: %s", zmq_strerror(errno));
        goto fail;
    }
    /* MANDATORY: a send to a gone child fails (EHOSTUNREACH) instead of
     * vanishing, and with DONTWAIT never blocks the hub (Z2). Routing ids
     * are assigned by the ROUTER, never chosen by children (Z6). */
    /* A parent waits long for a handshake: its children's links may be
     * slow, and a child that is gone costs only a socket until then. */
    int rc = SF_ESTATE;
    if (link_common_options(self->socket) || link_set_int(self->socket, ZMQ_ROUTER_MANDATORY, 1) ||
        link_set_int(self->socket, ZMQ_HANDSHAKE_IVL, LINK_HANDSHAKE_MAX_MS) ||
        (rc = zap_secure_server(self->socket, config->secret_key)) != 0) {
        sf_error_set(error, rc ? rc : SF_ESTATE, "cannot make %s a CURVE server with ZAP",
                     config->endpoint);
        goto fail;
    }
    if (zmq_bind(self->socket, config->endpoint) != 0) {
        int zerr = errno;
        slog_error("cannot listen on %s: %s", config->endpoint, zmq_strerror(zerr));
        sf_error_set(error, zerr == EADDRINUSE ? SF_EEXIST : SF_EINVAL, "cannot listen on %s: %s",
                     config->endpoint, zmq_strerror(zerr));
        goto fail;
    }
    size_t size = sizeof self->endpoint;
    zmq_getsockopt(self->socket, ZMQ_LAST_ENDPOINT, self->endpoint, &size);
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
    link_envelope_init(&envelope);
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

/* Hello, the child's upward stream: where we stand in it, after
 * reconciling with what the child says we acknowledged. Left in *in. */
static int server_hello_up(link_server_t *self, store_txn_t *txn, pending_t *pending,
                           outbox_inbound_t *in)
{
    const Shifan__Hello *hello = pending->envelope->hello;
    peer_t *peer = pending->peer;
    char inbound[OUTBOX_STREAM_MAX];
    link_inbound_up_stream(inbound, sizeof inbound, peer->code);
    int rc = outbox_inbound_get(txn, self->store, inbound, in);
    if (rc)
        return rc;
    if (hello->up_epoch != in->epoch) {
        bool lost = in->epoch == 0 && hello->up_acked > 0;
        if (in->epoch && !lost)
            slog_info("child %s has a new upward stream (re-initialised?); continuing after "
                      "its seq %" PRIu64,
                      peer->code, hello->up_acked);
        memset(in, 0, sizeof *in); /* no digest known for that position */
        in->epoch = hello->up_epoch;
        /* A child whose items we acknowledged but of which this store holds
         * nothing: we were re-initialised or restored from a backup older
         * than its first contact. Answering 0 makes it queue its state again. */
        in->applied = lost ? 0 : hello->up_acked;
        if (lost)
            pending->event = "holds nothing of a child that we acknowledged: it queues its "
                             "state again";
    } else if (hello->up_acked > in->applied) {
        /* We acknowledged more than we hold: restored from an older backup.
         * The Welcome says what we hold, and the child queues its state again. */
        pending->event = "acknowledged more of a child than this store holds (restored from "
                         "a backup?): it queues its state again";
    }
    return outbox_inbound_put(txn, self->store, inbound, in);
}

/* Hello, our downward stream to the child: reconciled with what the child
 * says it applied, then read again into *down. */
static int server_hello_down(link_server_t *self, store_txn_t *txn, pending_t *pending,
                             outbox_state_t *down)
{
    const Shifan__Hello *hello = pending->envelope->hello;
    peer_t *peer = pending->peer;
    int rc = outbox_state(txn, self->store, peer->down.stream, down);
    if (rc)
        return rc;
    if (self->hooks.hello && (rc = self->hooks.hello(self->hooks.arg, txn, peer->code)))
        return rc;
    bool same = hello->down_epoch == down->epoch && down->epoch != 0;
    if (same && (hello->down_applied >= down->next_seq ||
                 (hello->down_applied > down->acked &&
                  outbox_item_differs(txn, self->store, peer->down.stream, hello->down_applied,
                                      hello->down_digest.data, hello->down_digest.len)))) {
        /* The child applied numbers this store never issued, or other items
         * under them: we were restored from an older backup. */
        pending->event = "the child applied more of our stream than this store ever held "
                         "(restored from a backup?): restarting the stream to it";
        if ((rc = outbox_restart_stream(txn, self->store, peer->down.stream, down)))
            return rc;
    } else if (same && hello->down_applied > down->acked) {
        if ((rc =
                 outbox_ack(txn, self->store, peer->down.stream, down->epoch, hello->down_applied)))
            return rc;
    } else if (same && hello->down_applied < down->acked) {
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
    return outbox_state(txn, self->store, peer->down.stream, down);
}

/* The Welcome that answers the Hello, sent after the commit. */
static void server_hello_welcome(link_server_t *self, pending_t *pending,
                                 const outbox_inbound_t *in, const outbox_state_t *down)
{
    const Shifan__Hello *hello = pending->envelope->hello;
    shifan__welcome__init(&pending->welcome);
    pending->welcome.code = self->code;
    pending->welcome.up_epoch = in->epoch;
    pending->welcome.up_applied = in->applied;
    pending->welcome.down_epoch = down->epoch;
    pending->welcome.down_acked = down->acked;
    pending->welcome.heartbeat_ms = LINK_HEARTBEAT_MS;
    memcpy(pending->up_digest, in->digest, sizeof pending->up_digest);
    pending->welcome.has_up_digest = 1;
    pending->welcome.up_digest.data = pending->up_digest; /* sent after the commit */
    pending->welcome.up_digest.len = sizeof pending->up_digest;
    pending->welcome.has_session = hello->has_session;
    pending->welcome.session = hello->session;
    pending->welcome_ok = true;
}

static int server_hello(link_server_t *self, store_txn_t *txn, pending_t *pending)
{
    outbox_inbound_t in;
    outbox_state_t down;
    int rc;
    pending->event = NULL;
    if ((rc = server_hello_up(self, txn, pending, &in)) ||
        (rc = server_hello_down(self, txn, pending, &down)))
        return rc;
    server_hello_welcome(self, pending, &in, &down);
    return 0;
}

static int server_txn_fn(store_txn_t *txn, void *arg)
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
            link_inbound_up_stream(inbound, sizeof inbound, pending->peer->code);
            link_apply_ctx_t ctx = {self->store,
                                    &self->hooks,
                                    pending->peer->code,
                                    inbound,
                                    pending->peer->down.stream,
                                    &self->refusals[i],
                                    &self->poisons};
            if ((rc = link_apply_batch(txn, &ctx, pending->envelope->batch, &pending->batch)))
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
    link_envelope_init(&envelope);
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
            link_sender_refresh(&peer->down, self->store);
            peer->down.acked = pending->welcome.down_acked > peer->down.acked
                                   ? pending->welcome.down_acked
                                   : peer->down.acked;
            peer->down.active = true;
            link_sender_rewind(&peer->down);
            Shifan__Envelope envelope;
            link_envelope_init(&envelope);
            envelope.body_case = SHIFAN__ENVELOPE__BODY_WELCOME;
            envelope.welcome = &pending->welcome;
            server_send_envelope(self, peer, &envelope);
            slog_info("child %s connected; it resumes after seq %" PRIu64, peer->code,
                      pending->welcome.up_applied);
        }
        if (self->refusals[i].count) {
            self->refused_items += self->refusals[i].count;
            link_send_refusals(server_send_envelope_cb, &ctx, &self->refusals[i]);
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
                link_envelope_init(&envelope);
                envelope.body_case = SHIFAN__ENVELOPE__BODY_ACK;
                envelope.ack = &ack;
                server_send_envelope(self, peer, &envelope);
            }
        }
        if (pending->envelope->body_case == SHIFAN__ENVELOPE__BODY_ACK)
            link_sender_refresh(&peer->down, self->store);
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
    int rc = link_write_refusing(self->store, server_txn_fn, self, &self->poisons);
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
        link_sender_pump(&self->peers[i].down, self->store, server_send, &ctx);
    }
}

struct server_refresh_arg {
    link_server_t *self;
};

static int server_refresh_fn(store_txn_t *txn, void *arg)
{
    link_server_t *self = ((struct server_refresh_arg *)arg)->self;
    for (size_t i = 0; i < self->peer_count; i++) {
        int rc = link_sender_refresh_txn(txn, self->store, &self->peers[i].down);
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
        if (2 * link_sender_rto_ms(&peer->down) > silent)
            silent = 2 * link_sender_rto_ms(&peer->down);
        if (peer->connected && now - peer->last_rx_ms > silent) {
            slog_info("child %s silent for %lld ms: considered disconnected", peer->code,
                      (long long)silent);
            peer->connected = false;
            peer->down.active = false;
            link_sender_rewind(&peer->down);
        }
        if (!peer->connected)
            continue;
        char who[32];
        snprintf(who, sizeof who, "downlink to %s", peer->code);
        if (link_sender_timed_out(&peer->down, who))
            link_sender_rewind(&peer->down);
        struct server_send_ctx ctx = {self, peer};
        link_sender_pump(&peer->down, self->store, server_send, &ctx);
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
