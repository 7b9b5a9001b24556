/*
 * tamper — a dishonest hub for the signing tests: rewrites what a stopped
 * node has queued upward, as a hub that alters its counties' reports in
 * transit would.
 *
 *   tamper --data DIR [--stream up] [--mode value|resign|receipt]
 *
 * Every queued report in the stream is changed and written back under the
 * same sequence number:
 *   value    the first whole-number or ratio value goes up by one, and the
 *            altered report is put back under the county's own signature
 *            (which no longer holds);
 *   resign   the same change, signed again with the node's own signing key
 *            but still naming the county as signer (a hub forging it);
 *   receipt  the report is left alone; the last receipt's received_at moves
 *            a day earlier (a hub back-dating its receipt).
 * Prints "tampered N item(s)". The node must not be running.
 */
#include "storage/store.h"
#include "transport/codec.h"
#include "transport/sign.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STREAM_BYTES 16

static const char *mode = "value";
static sign_pair_t own;

static bool bump_value(Shifan__Report *report)
{
    for (size_t i = 0; i < report->n_values; i++) {
        Shifan__Value *value = report->values[i];
        if (value->value_case == SHIFAN__VALUE__VALUE_COUNT) {
            value->count++;
            return true;
        }
        if (value->value_case == SHIFAN__VALUE__VALUE_RATIO &&
            value->ratio->num < value->ratio->den) {
            value->ratio->num++;
            return true;
        }
    }
    return false;
}

/* The outer Payload of a stored item, re-made with a changed signed body. */
static int rewrite_body(Shifan__Payload *outer, uint8_t **out, size_t *out_len)
{
    Shifan__SignedItem *item = outer->signed_item;
    Shifan__Payload *inner = codec_payload_unpack(item->body.data, item->body.len);
    if (!inner || inner->body_case != SHIFAN__PAYLOAD__BODY_REPORT || !bump_value(inner->report)) {
        codec_payload_free(inner);
        return 1;
    }
    uint8_t *body = NULL;
    size_t body_len = 0;
    int rc = codec_payload_pack(inner, &body, &body_len);
    codec_payload_free(inner);
    if (rc)
        return rc;
    ProtobufCBinaryData original = item->body; /* the unpacked message frees it */
    item->body.data = body;
    item->body.len = body_len;
    if (strcmp(mode, "resign") == 0) {
        static const char context[] = "shifan-item-1";
        uint8_t *message = malloc(sizeof context - 1 + body_len);
        memcpy(message, context, sizeof context - 1);
        memcpy(message + sizeof context - 1, body, body_len);
        crypto_sign_detached(item->signature.data, NULL, message, sizeof context - 1 + body_len,
                             own.secret_key);
        memcpy(item->signer_key.data, own.public_key, SIGN_PUBLIC_BYTES);
        free(message);
    }
    rc = codec_payload_pack(outer, out, out_len);
    item->body = original;
    free(body);
    return rc;
}

struct walk {
    store_t *store;
    char stream[STREAM_BYTES];
    int changed;
    uint8_t *keys[4096];
    uint8_t *values[4096];
    size_t lens[4096];
    size_t count;
};

static int collect(const void *key, size_t klen, const void *value, size_t vlen, void *arg)
{
    struct walk *w = arg;
    if (klen != STREAM_BYTES + 8 || w->count == 4096)
        return 0;
    Shifan__Payload *outer = shifan__payload__unpack(NULL, vlen, value);
    uint8_t *out = NULL;
    size_t out_len = 0;
    int rc = 1;
    if (outer && outer->body_case == SHIFAN__PAYLOAD__BODY_SIGNED_ITEM) {
        if (strcmp(mode, "receipt") == 0 && outer->n_receipts) {
            outer->receipts[outer->n_receipts - 1]->received_at -= 86400;
            rc = codec_payload_pack(outer, &out, &out_len);
        } else if (strcmp(mode, "receipt") != 0) {
            rc = rewrite_body(outer, &out, &out_len);
        }
    }
    if (outer)
        shifan__payload__free_unpacked(outer, NULL);
    if (rc)
        return 0;
    w->keys[w->count] = malloc(klen);
    memcpy(w->keys[w->count], key, klen);
    w->values[w->count] = out;
    w->lens[w->count++] = out_len;
    return 0;
}

static int rewrite_fn(store_txn_t *txn, void *arg)
{
    struct walk *w = arg;
    int rc = store_each(txn, w->store, DB_OUTBOX, w->stream, STREAM_BYTES, collect, w);
    for (size_t i = 0; rc == 0 && i < w->count; i++)
        rc = store_put(txn, w->store, DB_OUTBOX, w->keys[i], STREAM_BYTES + 8, w->values[i],
                       w->lens[i], 0);
    return rc;
}

int main(int argc, char **argv)
{
    const char *data = NULL, *stream = "up";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--data") == 0)
            data = argv[i + 1];
        else if (strcmp(argv[i], "--stream") == 0)
            stream = argv[i + 1];
        else if (strcmp(argv[i], "--mode") == 0)
            mode = argv[i + 1];
    }
    if (!data || sodium_init() < 0) {
        fprintf(stderr, "usage: tamper --data DIR [--stream up] [--mode value|resign|receipt]\n");
        return 2;
    }
    char path[4096], why[256];
    snprintf(path, sizeof path, "%s/keys", data);
    if (sign_keys_load(path, &own, why, sizeof why)) {
        fprintf(stderr, "tamper: %s\n", why);
        return 1;
    }
    snprintf(path, sizeof path, "%s/store", data);
    sf_error_t error = {0, ""};
    store_t *store = store_open(path, 0, &error);
    if (!store) {
        fprintf(stderr, "tamper: cannot open %s: %s\n", path, error.text);
        return 1;
    }
    struct walk *w = calloc(1, sizeof *w);
    w->store = store;
    strncpy(w->stream, stream, STREAM_BYTES);
    int rc = store_write(store, rewrite_fn, w);
    printf("tampered %zu item(s)\n", rc ? 0 : w->count);
    for (size_t i = 0; i < w->count; i++)
        free(w->keys[i]), free(w->values[i]);
    free(w);
    store_destroy(&store);
    return rc ? 1 : 0;
}
