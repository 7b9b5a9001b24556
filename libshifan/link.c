#include "link.h"
#include "codec.h"
#include "error.h"
#include "keys.h"
#include "outbox.h"
#include "slog.h"
#include "stime.h"

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
 * ------------------------------------------------------------------------ */

typedef struct {
    char stream[OUTBOX_STREAM_MAX];
    uint64_t epoch;
    uint64_t acked;     /* peer has durably applied every seq <= acked */
    uint64_t next_send; /* next seq to put on the wire */
    uint64_t head;      /* highest seq in the outbox */
    int64_t last_progress_ms;
    bool active; /* a session is established: sending is allowed */
} sender_t;

typedef int (*send_fn)(void *ctx, zmq_msg_t *msg);

static void sender_rewind(sender_t *sender)
{
    sender->next_send = sender->acked + 1;
    sender->last_progress_ms = stime_mono_ms();
}

static uint64_t sender_in_flight(const sender_t *sender)
{
    return sender->next_send > sender->acked + 1 ? sender->next_send - 1 - sender->acked : 0;
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
    a->sender->epoch = state.epoch;
    if (state.acked > a->sender->acked) {
        a->sender->acked = state.acked;
        if (a->sender->next_send <= state.acked)
            a->sender->next_send = state.acked + 1;
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
    size_t count, max;
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
    return 0;
}

struct sender_pack_arg {
    store_t *store;
    sender_t *sender;
    size_t max_items;
    zmq_msg_t *msg;
    uint64_t last_seq;
    size_t count;
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
                     LINK_BATCH_BYTES, batch_collect, &build);
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
        if (in_flight >= LINK_WINDOW_ITEMS)
            break;
        size_t room = (size_t)(LINK_WINDOW_ITEMS - in_flight);
        zmq_msg_t msg;
        struct sender_pack_arg arg = {
            store, sender, room < LINK_BATCH_ITEMS ? room : LINK_BATCH_ITEMS, &msg, 0, 0};
        int rc = store_read(store, sender_pack_fn, &arg);
        if (rc || arg.count == 0)
            break;
        if (in_flight == 0)
            sender->last_progress_ms = stime_mono_ms();
        if (send(send_ctx, &msg) != 0) {
            zmq_msg_close(&msg);
            break; /* peer absent or at its HWM: the next tick retries */
        }
        sender->next_send = arg.last_seq + 1;
        frames++;
    }
    return frames;
}

static void sender_check_resend(sender_t *sender, const char *who)
{
    if (sender_in_flight(sender) == 0)
        return;
    int64_t now = stime_mono_ms();
    if (now - sender->last_progress_ms < LINK_RESEND_MS)
        return;
    slog_info("%s: no acknowledgement for %d ms, resending from seq %" PRIu64, who, LINK_RESEND_MS,
              sender->acked + 1);
    sender_rewind(sender);
}

/* ------------------------------------------------------------------------
 * Receiving half: apply a batch in the caller's transaction.
 * ------------------------------------------------------------------------ */

typedef struct {
    uint64_t seq;
    char why[160];
} refusal_t;

typedef struct {
    refusal_t *items;
    size_t count, cap;
} refusals_t;

static void refusals_add(refusals_t *list, uint64_t seq, const char *why)
{
    if (list->count == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 8;
        refusal_t *grown = realloc(list->items, cap * sizeof *grown);
        if (!grown)
            return; /* the refusal is still logged by the apply hook */
        list->items = grown;
        list->cap = cap;
    }
    list->items[list->count].seq = seq;
    snprintf(list->items[list->count].why, sizeof list->items[list->count].why, "%s", why);
    list->count++;
}

typedef struct {
    uint64_t epoch, applied;
    bool matched; /* the batch's epoch is the one established */
    size_t applied_now;
} batch_result_t;

static int apply_batch(MDB_txn *txn, store_t *store, const link_hooks_t *hooks, const char *peer,
                       const char *inbound, const Shifan__Batch *batch, refusals_t *refusals,
                       batch_result_t *result)
{
    outbox_inbound_t in;
    int rc = outbox_inbound_get(txn, store, inbound, &in);
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
        char why[160] = "";
        rc = hooks->apply(hooks->arg, txn, peer, item->payload.data, item->payload.len, why,
                          sizeof why);
        if (rc < 0)
            return rc;
        if (rc == LINK_REFUSED)
            refusals_add(refusals, item->seq, why[0] ? why : "refused");
        in.applied = item->seq;
        result->applied_now++;
        last = item;
    }
    /* Only the newest applied item's digest is kept: it is what a restored
     * sender compares with its own item of that number. */
    if (last)
        outbox_digest(last->payload.data, last->payload.len, in.digest);
    if ((rc = outbox_inbound_put(txn, store, inbound, &in)))
        return rc;
    result->epoch = in.epoch;
    result->applied = in.applied;
    return 0;
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
    int64_t last_rx_ms, last_tx_ms, last_hello_ms, last_refused_log_ms;
    int64_t reconnect_at_ms; /* after a failed handshake; 0 = not needed */
    int64_t last_contact;
    uint64_t ping_nonce;
    /* Per drain: what the transaction must do. */
    Shifan__Envelope *welcome;
    Shifan__Envelope *batches[LINK_DRAIN_MAX];
    size_t batch_count;
    uint64_t ack_applied;
    bool ack_seen;
    refusals_t refusals;
    batch_result_t down_result;
    bool down_any;
    bool restarted_stream;
};

static int set_int(void *socket, int option, int value)
{
    return zmq_setsockopt(socket, option, &value, sizeof value);
}

static int link_common_options(void *socket)
{
    int64_t maxmsg = CODEC_MAX_FRAME + 1024; /* an int64_t, or libzmq says EINVAL (Z9) */
    if (set_int(socket, ZMQ_LINGER, 0) ||    /* LMDB holds the truth (Z5) */
        set_int(socket, ZMQ_HEARTBEAT_IVL, LINK_HEARTBEAT_MS) ||
        set_int(socket, ZMQ_HEARTBEAT_TIMEOUT, LINK_DEAD_MS) ||
        set_int(socket, ZMQ_HEARTBEAT_TTL, LINK_DEAD_MS) ||
        set_int(socket, ZMQ_HANDSHAKE_IVL, LINK_HANDSHAKE_MS) ||
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
    if (link_common_options(self->socket) || set_int(self->socket, ZMQ_IMMEDIATE, 1) ||
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
            /* A new connection: whatever was in flight on the old one is gone.
             * Resume from the parent's durable state. */
            client_link_lost(self, "reconnected");
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

static int client_txn_fn(MDB_txn *txn, void *arg)
{
    link_client_t *self = arg;
    int rc;
    self->refusals.count = 0;
    self->down_any = false;
    self->restarted_stream = false;
    if (self->welcome) {
        const Shifan__Welcome *welcome = self->welcome->welcome;
        outbox_state_t up;
        if ((rc = outbox_state(txn, self->store, UP_STREAM, &up)))
            return rc;
        if (welcome->up_epoch == up.epoch && welcome->up_applied >= up.next_seq && up.epoch != 0) {
            /* The parent applied numbers we never issued: we were restored
             * from an older backup. A new epoch keeps new reports from being
             * skipped as duplicates; report ids dedupe what was delivered. */
            if ((rc = outbox_restart_stream(txn, self->store, UP_STREAM, &up)))
                return rc;
            self->restarted_stream = true;
        } else if (welcome->up_epoch == up.epoch && welcome->up_applied > up.acked &&
                   outbox_item_differs(txn, self->store, UP_STREAM, welcome->up_applied,
                                       welcome->up_digest.data, welcome->up_digest.len)) {
            /* Same number, other content: restored from a backup and then
             * queued past the parent's position. Restart as above. */
            if ((rc = outbox_restart_stream(txn, self->store, UP_STREAM, &up)))
                return rc;
            self->restarted_stream = true;
        } else if (welcome->up_epoch == up.epoch && welcome->up_applied > up.acked) {
            if ((rc = outbox_ack(txn, self->store, UP_STREAM, up.epoch, welcome->up_applied)))
                return rc;
        }
        outbox_inbound_t down;
        if ((rc = outbox_inbound_get(txn, self->store, DOWN_INBOUND, &down)))
            return rc;
        if (welcome->down_epoch != down.epoch) {
            /* The parent's stream to us is new to us: start where it stands. */
            memset(&down, 0, sizeof down);
            down.epoch = welcome->down_epoch;
            down.applied = welcome->down_acked;
            if ((rc = outbox_inbound_put(txn, self->store, DOWN_INBOUND, &down)))
                return rc;
        }
    }
    if (self->ack_seen) {
        outbox_state_t up;
        if ((rc = outbox_state(txn, self->store, UP_STREAM, &up)))
            return rc;
        if (self->ack_applied > up.acked && self->ack_applied < up.next_seq &&
            (rc = outbox_ack(txn, self->store, UP_STREAM, up.epoch, self->ack_applied)))
            return rc;
    }
    for (size_t i = 0; i < self->batch_count; i++) {
        rc = apply_batch(txn, self->store, &self->hooks, "", DOWN_INBOUND, self->batches[i]->batch,
                         &self->refusals, &self->down_result);
        if (rc)
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
        refusal.reason = SHIFAN__REFUSAL__REASON__NOT_YOUR_UNIT;
        if (strstr(refusals->items[i].why, "malformed") ||
            strstr(refusals->items[i].why, "invalid"))
            refusal.reason = SHIFAN__REFUSAL__REASON__MALFORMED;
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
            if (envelope->welcome->up_epoch == self->up.epoch || self->up.epoch == 0) {
                if (self->welcome)
                    codec_free(self->welcome);
                self->welcome = envelope;
                used = true;
            }
            break;
        case SHIFAN__ENVELOPE__BODY_ACK:
            if (envelope->ack->epoch == self->up.epoch &&
                envelope->ack->applied > self->ack_applied) {
                self->ack_applied = envelope->ack->applied;
                self->ack_seen = true;
            }
            break;
        case SHIFAN__ENVELOPE__BODY_BATCH:
            self->batches[self->batch_count++] = envelope;
            keep[kept++] = envelope;
            used = true;
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
            slog_warn("the parent refused item %" PRIu64 ": %s", envelope->refusal->seq,
                      envelope->refusal->detail ? envelope->refusal->detail : "no reason given");
            break;
        default:
            break; /* Pong: contact time is all it carries */
        }
        if (!used)
            codec_free(envelope);
    }
    if (self->welcome || self->ack_seen || self->batch_count) {
        int64_t started = stime_mono_ms();
        int rc = store_write(self->store, client_txn_fn, self);
        slog_debug("client commit: ack %llu, %zu batch(es) in %lld ms",
                   (unsigned long long)self->ack_applied, self->batch_count,
                   (long long)(stime_mono_ms() - started));
        if (rc) {
            slog_error("cannot record what the parent sent: %s; it will be resent",
                       sf_strerror(rc));
        } else {
            if (self->welcome && self->restarted_stream) {
                slog_warn("the parent has applied more of our stream than this store ever "
                          "held (restored from a backup?): pending items renumbered under a "
                          "new epoch");
                codec_free(self->welcome);
                self->welcome = NULL;
                self->up.acked = 0;
                self->up.next_send = 1;
                client_send_hello(self);
            }
            if (self->welcome) {
                if (self->state != LINK_UP)
                    slog_info("link to %s up (parent %s); resuming after seq %" PRIu64,
                              self->endpoint, self->welcome->welcome->code,
                              self->welcome->welcome->up_applied);
                self->state = LINK_UP;
                self->up.active = true;
            }
            sender_refresh(&self->up, self->store);
            if (self->welcome)
                sender_rewind(&self->up);
            else if (self->ack_seen)
                self->up.last_progress_ms = stime_mono_ms();
            if (self->down_any)
                client_send_ack(self, self->down_result.epoch, self->down_result.applied);
            send_refusals(client_send_envelope_cb, self, &self->refusals);
        }
    }
    if (self->welcome)
        codec_free(self->welcome);
    self->welcome = NULL;
    for (size_t i = 0; i < kept; i++)
        codec_free(keep[i]);
    self->batch_count = 0;
    sender_pump(&self->up, self->store, client_send, self);
}

void link_client_tick(link_client_t *self)
{
    int64_t now = stime_mono_ms();
    if (self->reconnect_at_ms && now >= self->reconnect_at_ms) {
        self->reconnect_at_ms = 0;
        zmq_disconnect(self->socket, self->endpoint); /* may already be gone: fine */
        if (zmq_connect(self->socket, self->endpoint) != 0)
            self->reconnect_at_ms = now + LINK_REFUSED_RETRY_MS;
    }
    if (self->state == LINK_UP && now - self->last_rx_ms > LINK_DEAD_MS)
        client_link_lost(self, "no answer from the parent");
    int64_t hello_every =
        self->state == LINK_REFUSED_KEY ? LINK_REFUSED_RETRY_MS : LINK_HELLO_RETRY_MS;
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
    }
    if (self->state == LINK_UP && sender_in_flight(&self->up) &&
        now - self->up.last_progress_ms >= LINK_RESEND_MS) {
        /* Acks stopped while the connection looks alive: re-synchronise
         * through Hello/Welcome, which also repairs an epoch mismatch. */
        client_link_lost(self, "acknowledgements stopped");
        client_send_hello(self);
    }
    sender_refresh(&self->up, self->store);
    sender_pump(&self->up, self->store, client_send, self);
}

/* ------------------------------------------------------------------------
 * Parent side.
 * ------------------------------------------------------------------------ */

typedef struct {
    char code[16];
    uint8_t routing_id[256];
    size_t routing_len;
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
    uint64_t dropped_frames, refused_items;
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
    if (link_common_options(self->socket) || set_int(self->socket, ZMQ_ROUTER_MANDATORY, 1) ||
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

struct server_send_ctx {
    link_server_t *self;
    peer_t *peer;
};

/* Sends to the peer's latest routing id, connected or not (a Refusal goes
 * to a peer whose session was refused). */
static int server_send_raw(struct server_send_ctx *send, zmq_msg_t *msg)
{
    peer_t *peer = send->peer;
    if (zmq_send(send->self->socket, peer->routing_id, peer->routing_len,
                 ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
        if (errno == EHOSTUNREACH) {
            peer->connected = false;
            peer->down.active = false;
        }
        return SF_EIO;
    }
    /* The routing frame is queued; the body follows at once and cannot fail
     * for want of room (libzmq checks the HWM only on the first frame). */
    if (zmq_msg_send(msg, send->self->socket, ZMQ_DONTWAIT) < 0)
        return SF_EIO;
    return 0;
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

/* A frame from a session whose key was replaced or removed since its
 * handshake: refused, and the child is told so (rate-limited). */
static void server_revoked(link_server_t *self, zmq_msg_t *rid, const char *code)
{
    self->dropped_frames++;
    int64_t now = stime_mono_ms();
    if (now - self->last_revoked_ms < 1000)
        return;
    self->last_revoked_ms = now;
    slog_warn("refused a frame from an old key of %s: that key is no longer registered", code);
    Shifan__Refusal refusal = SHIFAN__REFUSAL__INIT;
    refusal.reason = SHIFAN__REFUSAL__REASON__WRONG_CODE;
    refusal.detail = "this key is no longer registered for the unit";
    Shifan__Envelope envelope;
    envelope_init(&envelope);
    envelope.body_case = SHIFAN__ENVELOPE__BODY_REFUSAL;
    envelope.refusal = &refusal;
    zmq_msg_t msg;
    if (codec_pack_msg(&envelope, &msg) != 0)
        return;
    if (zmq_send(self->socket, zmq_msg_data(rid), zmq_msg_size(rid), ZMQ_SNDMORE | ZMQ_DONTWAIT) <
            0 ||
        zmq_msg_send(&msg, self->socket, ZMQ_DONTWAIT) < 0)
        zmq_msg_close(&msg);
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
    if (hello->up_epoch != in.epoch) {
        if (in.epoch)
            slog_info("child %s has a new upward stream (re-initialised?); continuing after "
                      "its seq %" PRIu64,
                      peer->code, hello->up_acked);
        memset(&in, 0, sizeof in); /* no digest known for that position */
        in.epoch = hello->up_epoch;
        in.applied = hello->up_acked;
    } else if (hello->up_acked > in.applied) {
        /* Only after a restore of this parent from an older backup. */
        slog_warn("child %s holds seq %" PRIu64 " as acknowledged, we had %" PRIu64
                  " applied (restored from backup?)",
                  peer->code, hello->up_acked, in.applied);
        in.applied = hello->up_acked;
        memset(in.digest, 0, sizeof in.digest);
    }
    if ((rc = outbox_inbound_put(txn, self->store, inbound, &in)))
        return rc;
    outbox_state_t down;
    if ((rc = outbox_state(txn, self->store, peer->down.stream, &down)))
        return rc;
    if (hello->down_epoch == down.epoch && down.epoch != 0 &&
        hello->down_applied >= down.next_seq) {
        /* The child applied numbers this store never issued: we were
         * restored from an older backup. Start the stream anew. */
        slog_warn("child %s has applied more of our stream than this store ever held "
                  "(restored from a backup?): restarting the stream to it",
                  peer->code);
        if ((rc = outbox_restart_stream(txn, self->store, peer->down.stream, &down)))
            return rc;
    } else if (hello->down_epoch == down.epoch && down.epoch != 0 &&
               hello->down_applied > down.acked &&
               outbox_item_differs(txn, self->store, peer->down.stream, hello->down_applied,
                                   hello->down_digest.data, hello->down_digest.len)) {
        slog_warn("child %s applied an item %" PRIu64 " that differs from ours (this store was "
                  "restored from a backup?): restarting the stream to it",
                  peer->code, hello->down_applied);
        if ((rc = outbox_restart_stream(txn, self->store, peer->down.stream, &down)))
            return rc;
    } else if (hello->down_epoch == down.epoch && down.epoch != 0) {
        if (hello->down_applied > down.acked && hello->down_applied < down.next_seq &&
            (rc = outbox_ack(txn, self->store, peer->down.stream, down.epoch, hello->down_applied)))
            return rc;
        if (hello->down_applied > down.acked && hello->down_applied < down.next_seq)
            down.acked = hello->down_applied;
    } else if (self->hooks.new_peer &&
               (rc = self->hooks.new_peer(self->hooks.arg, txn, peer->code)))
        return rc;
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
    pending->welcome_ok = true;
    return 0;
}

static int server_txn_fn(MDB_txn *txn, void *arg)
{
    link_server_t *self = arg;
    int rc;
    for (size_t i = 0; i < self->pending_count; i++) {
        pending_t *pending = &self->pending[i];
        self->refusals[i].count = 0;
        pending->welcome_ok = false;
        pending->batch.matched = false;
        switch (pending->envelope->body_case) {
        case SHIFAN__ENVELOPE__BODY_HELLO:
            if ((rc = server_hello(self, txn, pending)))
                return rc;
            break;
        case SHIFAN__ENVELOPE__BODY_BATCH: {
            char inbound[OUTBOX_STREAM_MAX];
            inbound_up_stream(inbound, sizeof inbound, pending->peer->code);
            if ((rc = apply_batch(txn, self->store, &self->hooks, pending->peer->code, inbound,
                                  pending->envelope->batch, &self->refusals[i], &pending->batch)))
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

/* Reads one [routing id][body] message; returns the envelope or NULL. */
static Shifan__Envelope *server_recv(link_server_t *self, peer_t **peer_out, bool *again)
{
    zmq_msg_t rid, body;
    zmq_msg_init(&rid);
    zmq_msg_init(&body);
    Shifan__Envelope *envelope = NULL;
    *again = false;
    *peer_out = NULL;
    if (zmq_msg_recv(&rid, self->socket, ZMQ_DONTWAIT) < 0) {
        *again = errno == EAGAIN;
        goto out;
    }
    if (!zmq_msg_more(&rid) || zmq_msg_recv(&body, self->socket, 0) < 0) {
        server_drop(self, "a child", "no body frame");
        goto out;
    }
    while (zmq_msg_more(&body)) { /* extra frames are not ours: drain and drop */
        zmq_msg_close(&body);
        zmq_msg_init(&body);
        zmq_msg_recv(&body, self->socket, 0);
        server_drop(self, "a child", "extra frames");
        goto out;
    }
    /* The ZAP handler set the user id to the key's unit code (A6, A9). */
    /* Our ZAP handler sets the user id to "code:key" (A6, A9). */
    const char *user_id = zmq_msg_gets(&body, "User-Id");
    const char *colon = user_id ? strchr(user_id, ':') : NULL;
    char code[16];
    if (!colon || colon == user_id || colon - user_id >= (ptrdiff_t)sizeof code) {
        server_drop(self, "an unidentified peer", "no user id");
        goto out;
    }
    memcpy(code, user_id, (size_t)(colon - user_id));
    code[colon - user_id] = '\0';
    if (self->hooks.admit && !self->hooks.admit(self->hooks.arg, code, colon + 1)) {
        server_revoked(self, &rid, code);
        goto out;
    }
    int err;
    envelope = codec_unpack(zmq_msg_data(&body), zmq_msg_size(&body), &err);
    if (!envelope) {
        server_drop(self, code, sf_strerror(err));
        goto out;
    }
    peer_t *peer = server_peer(self, code, true);
    if (!peer) {
        codec_free(envelope);
        envelope = NULL;
        goto out;
    }
    if (zmq_msg_size(&rid) <= sizeof peer->routing_id &&
        (peer->routing_len != zmq_msg_size(&rid) ||
         memcmp(peer->routing_id, zmq_msg_data(&rid), peer->routing_len) != 0)) {
        /* Latest connection of this key wins; the old pipe dies by heartbeat. */
        peer->routing_len = zmq_msg_size(&rid);
        memcpy(peer->routing_id, zmq_msg_data(&rid), peer->routing_len);
    }
    peer->last_rx_ms = stime_mono_ms();
    peer->last_contact = stime_now();
    *peer_out = peer;
out:
    zmq_msg_close(&rid);
    zmq_msg_close(&body);
    return envelope;
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

static void server_refuse(link_server_t *self, peer_t *peer, Shifan__Refusal__Reason reason,
                          const char *detail)
{
    Shifan__Refusal refusal = SHIFAN__REFUSAL__INIT;
    refusal.reason = reason;
    refusal.detail = (char *)detail;
    Shifan__Envelope envelope;
    envelope_init(&envelope);
    envelope.body_case = SHIFAN__ENVELOPE__BODY_REFUSAL;
    envelope.refusal = &refusal;
    server_send_envelope(self, peer, &envelope);
}

static void server_after_commit(link_server_t *self)
{
    /* One cumulative ack per child for this whole group. */
    for (size_t i = 0; i < self->pending_count; i++) {
        pending_t *pending = &self->pending[i];
        peer_t *peer = pending->peer;
        struct server_send_ctx ctx = {self, peer};
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
        if (pending->envelope->body_case == SHIFAN__ENVELOPE__BODY_ACK) {
            sender_refresh(&peer->down, self->store);
            peer->down.last_progress_ms = stime_mono_ms();
        }
    }
}

void link_server_on_readable(link_server_t *self)
{
    self->pending_count = 0;
    for (int n = 0; n < LINK_DRAIN_MAX; n++) {
        peer_t *peer;
        bool again;
        Shifan__Envelope *envelope = server_recv(self, &peer, &again);
        if (again)
            break;
        if (!envelope)
            continue;
        switch (envelope->body_case) {
        case SHIFAN__ENVELOPE__BODY_PING:
            peer->connected = true;
            server_reply_pong(self, peer, envelope->ping->nonce);
            codec_free(envelope);
            continue;
        case SHIFAN__ENVELOPE__BODY_HELLO:
            if (strcmp(envelope->hello->code, peer->code) != 0) {
                slog_warn("refused Hello claiming unit %s from the key of %s",
                          envelope->hello->code, peer->code);
                server_refuse(self, peer, SHIFAN__REFUSAL__REASON__WRONG_CODE,
                              "the unit code does not match your key");
                codec_free(envelope);
                continue;
            }
            peer->connected = true;
            break;
        case SHIFAN__ENVELOPE__BODY_BATCH:
        case SHIFAN__ENVELOPE__BODY_ACK:
            break;
        case SHIFAN__ENVELOPE__BODY_REFUSAL:
            slog_warn("child %s refused item %" PRIu64 ": %s", peer->code, envelope->refusal->seq,
                      envelope->refusal->detail ? envelope->refusal->detail : "");
            codec_free(envelope);
            continue;
        default:
            server_drop(self, peer->code, "unexpected message type");
            codec_free(envelope);
            continue;
        }
        pending_t *pending = &self->pending[self->pending_count++];
        snprintf(pending->code, sizeof pending->code, "%s", peer->code);
        pending->envelope = envelope;
    }
    if (self->pending_count == 0)
        return;
    for (size_t i = 0; i < self->pending_count; i++)
        self->pending[i].peer = server_peer(self, self->pending[i].code, true);
    int64_t started = stime_mono_ms();
    int rc = store_write(self->store, server_txn_fn, self);
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
        if (peer->connected && now - peer->last_rx_ms > LINK_PEER_SILENT_MS) {
            slog_info("child %s silent for %d ms: considered disconnected", peer->code,
                      LINK_PEER_SILENT_MS);
            peer->connected = false;
            peer->down.active = false;
            sender_rewind(&peer->down);
        }
        if (!peer->connected)
            continue;
        char who[32];
        snprintf(who, sizeof who, "downlink to %s", peer->code);
        sender_check_resend(&peer->down, who);
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
    }
    return self->peer_count;
}
