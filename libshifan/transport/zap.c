#include "transport/zap.h"
#include "base/error.h"
#include "base/slog.h"
#include "base/stime.h"
#include "transport/keys.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define ZAP_OPT_ENFORCE_DOMAIN 93 /* ZMQ_ZAP_ENFORCE_DOMAIN is a DRAFT macro on bookworm (Z14) */

struct zap {
    void *socket;
    zap_entry_t *entries; /* sorted by key for bsearch */
    size_t count;
    uint64_t accepted, refused;
    int64_t last_refusal_log_ms;
};

static int entry_compare(const void *a, const void *b)
{
    return memcmp(((const zap_entry_t *)a)->key, ((const zap_entry_t *)b)->key, 32);
}

zap_t *zap_new(void *ctx, sf_error_t *error)
{
    zap_t *self = calloc(1, sizeof *self);
    if (!self) {
        sf_error_set(error, SF_ENOMEM, "out of memory for the ZAP handler");
        return NULL;
    }
    self->socket = zmq_socket(ctx, ZMQ_REP);
    int linger = 0;
    if (!self->socket || zmq_setsockopt(self->socket, ZMQ_LINGER, &linger, sizeof linger) ||
        zmq_bind(self->socket, "inproc://zeromq.zap.01") != 0) {
        int zerr = errno;
        slog_error("cannot start the ZAP handler: %s", zmq_strerror(zerr));
        sf_error_set(error, SF_ESTATE, "cannot start the ZAP handler: %s", zmq_strerror(zerr));
        zap_destroy(&self);
        return NULL;
    }
    return self;
}

void zap_destroy(zap_t **self_p)
{
    zap_t *self = *self_p;
    if (!self)
        return;
    if (self->socket)
        zmq_close(self->socket);
    free(self->entries);
    free(self);
    *self_p = NULL;
}

void *zap_socket(zap_t *self)
{
    return self->socket;
}

int zap_set_entries(zap_t *self, const zap_entry_t *entries, size_t count)
{
    zap_entry_t *copy = NULL;
    if (count) {
        if (!(copy = malloc(count * sizeof *copy)))
            return SF_ENOMEM;
        memcpy(copy, entries, count * sizeof *copy);
        qsort(copy, count, sizeof *copy, entry_compare);
    }
    free(self->entries);
    self->entries = copy;
    self->count = count;
    return 0;
}

bool zap_is_current(const zap_t *self, const char *code, const char *key_z85)
{
    zap_entry_t probe;
    if (!key_z85 || strlen(key_z85) != 40 || !zmq_z85_decode(probe.key, key_z85))
        return false;
    const zap_entry_t *found =
        self->count ? bsearch(&probe, self->entries, self->count, sizeof probe, entry_compare)
                    : NULL;
    return found && strcmp(found->code, code) == 0;
}

uint64_t zap_accepted(const zap_t *self)
{
    return self->accepted;
}

uint64_t zap_refused(const zap_t *self)
{
    return self->refused;
}

static void zap_reply(zap_t *self, const zmq_msg_t *request_id, const char *status,
                      const char *text, const char *user_id)
{
    const char *frames[] = {"1.0", NULL, status, text, user_id, ""};
    for (int i = 0; i < 6; i++) {
        int more = i < 5 ? ZMQ_SNDMORE : 0;
        if (i == 1)
            zmq_send(self->socket, zmq_msg_data((zmq_msg_t *)request_id),
                     zmq_msg_size((zmq_msg_t *)request_id), more);
        else
            zmq_send(self->socket, frames[i], strlen(frames[i]), more);
    }
}

/* Reads the frames of one request: version, request id, domain, address,
 * routing id, mechanism, credentials. */
static void zap_handle_one(zap_t *self, zmq_msg_t *frames, int count)
{
    char mechanism[16] = "";
    if (count >= 6) {
        size_t len = zmq_msg_size(&frames[5]);
        if (len < sizeof mechanism)
            memcpy(mechanism, zmq_msg_data(&frames[5]), len);
    }
    if (count != 7 || zmq_msg_size(&frames[0]) != 3 ||
        memcmp(zmq_msg_data(&frames[0]), "1.0", 3) != 0 || strcmp(mechanism, "CURVE") != 0 ||
        zmq_msg_size(&frames[6]) != 32) {
        self->refused++;
        slog_warn("ZAP: refused a malformed or non-CURVE request (%d frames, mechanism '%s')",
                  count, mechanism);
        if (count >= 2)
            zap_reply(self, &frames[1], "400", "CURVE only", "");
        return;
    }
    zap_entry_t probe;
    memcpy(probe.key, zmq_msg_data(&frames[6]), 32);
    const zap_entry_t *found =
        self->count ? bsearch(&probe, self->entries, self->count, sizeof probe, entry_compare)
                    : NULL;
    if (found) {
        self->accepted++;
        /* "code:key": the server re-checks the pair on every frame, so a key
         * replaced by 'allow' loses its established session too. */
        char user_id[ZAP_CODE_MAX + 42];
        char z85[41];
        zmq_z85_encode(z85, found->key, 32);
        snprintf(user_id, sizeof user_id, "%s:%s", found->code, z85);
        zap_reply(self, &frames[1], "200", "OK", user_id);
        return;
    }
    self->refused++;
    /* An unknown client reconnects every few hundred ms: log at most every 10 s. */
    int64_t now = stime_mono_ms();
    if (now - self->last_refusal_log_ms > 10000) {
        char z85[41] = "";
        zmq_z85_encode(z85, probe.key, 32);
        char address[64] = "";
        size_t len = zmq_msg_size(&frames[3]);
        memcpy(address, zmq_msg_data(&frames[3]), len < sizeof address ? len : sizeof address - 1);
        slog_warn("refused unknown key %s from %s (%llu refusals so far); register it with "
                  "'allow --code CODE --key KEY' if it is one of ours",
                  z85, address, (unsigned long long)self->refused);
        self->last_refusal_log_ms = now;
    }
    zap_reply(self, &frames[1], "400", "unknown key", "");
}

void zap_handle(zap_t *self)
{
    for (;;) {
        zmq_msg_t frames[8];
        int count = 0, more = 1;
        while (more) {
            zmq_msg_t part;
            zmq_msg_init(&part);
            if (zmq_msg_recv(&part, self->socket, count == 0 ? ZMQ_DONTWAIT : 0) < 0) {
                zmq_msg_close(&part);
                if (count == 0)
                    return; /* nothing pending */
                break;
            }
            more = zmq_msg_more(&part);
            if (count < 8)
                frames[count++] = part;
            else
                zmq_msg_close(&part);
        }
        zap_handle_one(self, frames, count);
        for (int i = 0; i < count; i++)
            zmq_msg_close(&frames[i]);
    }
}

int zap_secure_server(void *socket, const char *secret_z85)
{
    int one = 1, enforce = 0;
    size_t size = sizeof enforce;
    uint8_t secret[32];
    /* Checked first: zmq_z85_decode writes 4/5 of any length it is given. */
    if (keys_decode(secret_z85, secret))
        return SF_EINVAL;
    if (zmq_setsockopt(socket, ZMQ_ZAP_DOMAIN, ZAP_DOMAIN, strlen(ZAP_DOMAIN)) ||
        zmq_setsockopt(socket, ZAP_OPT_ENFORCE_DOMAIN, &one, sizeof one) ||
        zmq_getsockopt(socket, ZAP_OPT_ENFORCE_DOMAIN, &enforce, &size) || enforce != 1) {
        slog_error("cannot enforce the ZAP domain on a CURVE server (libzmq %d.%d): refusing to "
                   "start without authentication",
                   ZMQ_VERSION_MAJOR, ZMQ_VERSION_MINOR);
        return SF_ESTATE;
    }
    if (zmq_setsockopt(socket, ZMQ_CURVE_SERVER, &one, sizeof one) ||
        zmq_setsockopt(socket, ZMQ_CURVE_SECRETKEY, secret, 32))
        return SF_ESTATE;
    return 0;
}
