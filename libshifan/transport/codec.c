#include "transport/codec.h"
#include "base/error.h"

#include <stdbool.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

/* protobuf-c takes a key of field number 0, which protobuf forbids, when it
 * comes as an over-long varint (0x82 0x00), and keeps it as an unknown
 * field; packed again, the key is written short (0x02) and protobuf-c
 * refuses its own output. So a message holding one is refused here, in it
 * or in any message inside it (found by tests/fuzz/fuzz_envelope). */
static bool field_numbers_valid(const ProtobufCMessage *message)
{
    for (unsigned i = 0; i < message->n_unknown_fields; i++)
        if (message->unknown_fields[i].tag == 0)
            return false;
    const ProtobufCMessageDescriptor *descriptor = message->descriptor;
    const char *base = (const char *)message;
    for (unsigned f = 0; f < descriptor->n_fields; f++) {
        const ProtobufCFieldDescriptor *field = &descriptor->fields[f];
        if (field->type != PROTOBUF_C_TYPE_MESSAGE)
            continue;
        if (field->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t count = *(const size_t *)(base + field->quantifier_offset);
            ProtobufCMessage *const *items =
                *(ProtobufCMessage *const *const *)(base + field->offset);
            for (size_t k = 0; k < count; k++)
                if (!field_numbers_valid(items[k]))
                    return false;
            continue;
        }
        /* The members of a oneof share their storage: only the set one counts. */
        if ((field->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
            *(const uint32_t *)(base + field->quantifier_offset) != field->id)
            continue;
        const ProtobufCMessage *sub = *(ProtobufCMessage *const *)(base + field->offset);
        if (sub && !field_numbers_valid(sub))
            return false;
    }
    return true;
}

Shifan__Envelope *codec_unpack(const uint8_t *data, size_t len, int *err)
{
    if (len == 0) {
        *err = SF_EPROTO;
        return NULL;
    }
    if (len > CODEC_MAX_FRAME) {
        *err = SF_ETOOBIG;
        return NULL;
    }
    Shifan__Envelope *envelope = shifan__envelope__unpack(NULL, len, data);
    if (!envelope) {
        *err = SF_EPROTO;
        return NULL;
    }
    if (envelope->version != CODEC_WIRE_VERSION ||
        envelope->body_case == SHIFAN__ENVELOPE__BODY__NOT_SET ||
        !field_numbers_valid(&envelope->base)) {
        *err = SF_EPROTO;
        goto refuse;
    }
    if (envelope->body_case == SHIFAN__ENVELOPE__BODY_BATCH) {
        const Shifan__Batch *batch = envelope->batch;
        if (batch->n_items > CODEC_MAX_ITEMS) {
            *err = SF_ETOOBIG;
            goto refuse;
        }
        for (size_t i = 0; i < batch->n_items; i++) {
            if (batch->items[i]->payload.len > CODEC_MAX_PAYLOAD) {
                *err = SF_ETOOBIG;
                goto refuse;
            }
            /* Items must ascend without gaps: the receiver relies on it. */
            if (i > 0 && batch->items[i]->seq != batch->items[i - 1]->seq + 1) {
                *err = SF_EPROTO;
                goto refuse;
            }
        }
    }
    *err = 0;
    return envelope;
refuse:
    shifan__envelope__free_unpacked(envelope, NULL);
    return NULL;
}

void codec_free(Shifan__Envelope *envelope)
{
    if (envelope)
        shifan__envelope__free_unpacked(envelope, NULL);
}

int codec_pack_msg(const Shifan__Envelope *envelope, void *zmq_msg)
{
    size_t len = shifan__envelope__get_packed_size(envelope);
    if (len > CODEC_MAX_FRAME)
        return SF_ETOOBIG;
    if (zmq_msg_init_size(zmq_msg, len))
        return SF_ENOMEM;
    shifan__envelope__pack(envelope, zmq_msg_data(zmq_msg));
    return 0;
}

Shifan__Payload *codec_payload_unpack(const uint8_t *data, size_t len)
{
    return codec_payload_open(NULL, data, len, NULL);
}

void codec_payload_free(Shifan__Payload *payload)
{
    if (payload)
        shifan__payload__free_unpacked(payload, NULL);
}

int codec_payload_pack(const Shifan__Payload *payload, uint8_t **data, size_t *len)
{
    if (!protobuf_c_message_check(&payload->base))
        return SF_EINVAL;
    *len = shifan__payload__get_packed_size(payload);
    if (*len > CODEC_MAX_PAYLOAD)
        return SF_ETOOBIG;
    if (!(*data = malloc(*len ? *len : 1)))
        return SF_ENOMEM;
    shifan__payload__pack(payload, *data);
    return 0;
}

#define PAYLOAD_RECEIPTS_FIELD 30 /* Payload.receipts in proto/shifan.proto */

static size_t put_varint(uint8_t *out, uint64_t value)
{
    size_t n = 0;
    do {
        out[n++] = (uint8_t)((value & 0x7f) | (value >= 0x80 ? 0x80 : 0));
        value >>= 7;
    } while (value);
    return n;
}

static const char ITEM_CONTEXT[] = "shifan-item-1";
static const char RECEIPT_CONTEXT[] = "shifan-receipt-1";

/* context || body in one malloc'd buffer: what a signature covers. */
static int context_bytes(const char *context, const uint8_t *body, size_t len, uint8_t **out,
                         size_t *out_len)
{
    size_t clen = strlen(context);
    if (!(*out = malloc(clen + len + 1)))
        return SF_ENOMEM;
    memcpy(*out, context, clen);
    if (len)
        memcpy(*out + clen, body, len);
    *out_len = clen + len;
    return 0;
}

static void put_be64(uint8_t *out, int64_t value)
{
    for (int i = 7; i >= 0; i--, value = (int64_t)((uint64_t)value >> 8))
        out[i] = (uint8_t)((uint64_t)value & 0xff);
}

/* The bytes a receipt's signature covers (proto/shifan.proto, Receipt). */
static int receipt_message(const char *node, int64_t received_at, int64_t claimed_before,
                           int64_t session_since, const uint8_t *body_hash, uint8_t **out,
                           size_t *out_len)
{
    size_t node_len = strlen(node);
    size_t len = CODEC_HASH_BYTES + node_len + 1 + 24;
    uint8_t *tail = malloc(len);
    if (!tail)
        return SF_ENOMEM;
    memcpy(tail, body_hash, CODEC_HASH_BYTES);
    memcpy(tail + CODEC_HASH_BYTES, node, node_len + 1);
    put_be64(tail + CODEC_HASH_BYTES + node_len + 1, received_at);
    put_be64(tail + CODEC_HASH_BYTES + node_len + 9, claimed_before);
    put_be64(tail + CODEC_HASH_BYTES + node_len + 17, session_since);
    int rc = context_bytes(RECEIPT_CONTEXT, tail, len, out, out_len);
    free(tail);
    return rc;
}

int codec_payload_stamp(const uint8_t *payload, size_t len, const codec_receipt_t *stamp,
                        uint8_t **out, size_t *out_len)
{
    Shifan__Receipt receipt = SHIFAN__RECEIPT__INIT;
    receipt.node = (char *)stamp->node;
    receipt.received_at = stamp->received_at;
    receipt.has_claimed_before = stamp->claimed_before != 0;
    receipt.claimed_before = stamp->claimed_before;
    receipt.has_session_since = stamp->session_since != 0;
    receipt.session_since = stamp->session_since;
    uint8_t signature[CODEC_SIGNATURE_BYTES];
    if (stamp->body_hash && stamp->secret_key) {
        uint8_t *message = NULL;
        size_t message_len = 0;
        int rc = receipt_message(stamp->node, stamp->received_at, stamp->claimed_before,
                                 stamp->session_since, stamp->body_hash, &message, &message_len);
        if (rc)
            return rc;
        crypto_sign_detached(signature, NULL, message, message_len, stamp->secret_key);
        free(message);
        receipt.has_signature = true;
        receipt.signature.data = signature;
        receipt.signature.len = sizeof signature;
    }
    size_t receipt_len = shifan__receipt__get_packed_size(&receipt);
    /* key of field 30 (receipts), wire type 2, then the length, then the bytes */
    uint8_t head[16];
    size_t head_len = put_varint(head, (uint64_t)PAYLOAD_RECEIPTS_FIELD << 3 | 2);
    head_len += put_varint(head + head_len, receipt_len);
    size_t total = len + head_len + receipt_len;
    if (total > CODEC_MAX_PAYLOAD)
        return SF_ETOOBIG;
    uint8_t *buf = malloc(total);
    if (!buf)
        return SF_ENOMEM;
    memcpy(buf, payload, len);
    memcpy(buf + len, head, head_len);
    shifan__receipt__pack(&receipt, buf + len + head_len);
    *out = buf;
    *out_len = total;
    return 0;
}

int codec_payload_append_receipt(const uint8_t *payload, size_t len, const char *node,
                                 int64_t received_at, uint8_t **out, size_t *out_len)
{
    codec_receipt_t receipt = {.node = node, .received_at = received_at};
    return codec_payload_stamp(payload, len, &receipt, out, out_len);
}

bool codec_receipt_verifies(const Shifan__Receipt *receipt,
                            const uint8_t body_hash[CODEC_HASH_BYTES],
                            const uint8_t public_key[CODEC_SIGN_PUBLIC_BYTES])
{
    if (!receipt->has_signature || receipt->signature.len != CODEC_SIGNATURE_BYTES)
        return false;
    uint8_t *message = NULL;
    size_t message_len = 0;
    if (receipt_message(receipt->node, receipt->received_at,
                        receipt->has_claimed_before ? receipt->claimed_before : 0,
                        receipt->has_session_since ? receipt->session_since : 0, body_hash,
                        &message, &message_len))
        return false;
    bool ok =
        crypto_sign_verify_detached(receipt->signature.data, message, message_len, public_key) == 0;
    free(message);
    return ok;
}

struct codec_arena {
    uint8_t *buf;
    size_t size, used;
    size_t fallbacks; /* allocations of the current message that fell back to malloc */
};

codec_arena_t *codec_arena_new(size_t size, sf_error_t *error)
{
    codec_arena_t *self = calloc(1, sizeof *self);
    if (self && !(self->buf = malloc(size))) {
        free(self);
        self = NULL;
    }
    if (!self) {
        sf_error_set(error, SF_ENOMEM, "out of memory for a decoding arena of %zu bytes", size);
        return NULL;
    }
    self->size = size;
    return self;
}

void codec_arena_destroy(codec_arena_t **self_p)
{
    if (!*self_p)
        return;
    free((*self_p)->buf);
    free(*self_p);
    *self_p = NULL;
}

static void *arena_alloc(void *data, size_t size)
{
    codec_arena_t *arena = data;
    size_t aligned = (size + 15) & ~(size_t)15;
    if (aligned < size || arena->size - arena->used < aligned) {
        arena->fallbacks++;
        return malloc(size ? size : 1);
    }
    void *ptr = arena->buf + arena->used;
    arena->used += aligned;
    return ptr;
}

static void arena_free(void *data, void *ptr)
{
    codec_arena_t *arena = data;
    uint8_t *p = ptr;
    if (p < arena->buf || p >= arena->buf + arena->size)
        free(ptr); /* a fallback allocation */
}

Shifan__Payload *codec_payload_unpack_arena(codec_arena_t *arena, const uint8_t *data, size_t len)
{
    return codec_payload_open(arena, data, len, NULL);
}

void codec_payload_free_arena(codec_arena_t *arena, Shifan__Payload *payload)
{
    if (!payload)
        return;
    /* Everything in the arena goes with the next unpack's reset; walking
     * the message (a sixth of a hub's apply time, perf) is needed only to
     * free what fell back to malloc. */
    if (arena->fallbacks) {
        ProtobufCAllocator allocator = {arena_alloc, arena_free, arena};
        shifan__payload__free_unpacked(payload, &allocator);
    }
    arena->used = 0;
    arena->fallbacks = 0;
}

static Shifan__Payload *unpack_one(ProtobufCAllocator *allocator, const uint8_t *data, size_t len)
{
    if (len == 0 || len > CODEC_MAX_PAYLOAD)
        return NULL;
    Shifan__Payload *payload = shifan__payload__unpack(allocator, len, data);
    if (payload && (payload->body_case == SHIFAN__PAYLOAD__BODY__NOT_SET ||
                    !field_numbers_valid(&payload->base))) {
        shifan__payload__free_unpacked(payload, allocator);
        return NULL;
    }
    return payload;
}

static bool seal_check(const Shifan__SignedItem *item, const Shifan__Payload *inner,
                       codec_seal_t *seal)
{
    if (item->signature.len != CODEC_SIGNATURE_BYTES ||
        item->signer_key.len != CODEC_SIGN_PUBLIC_BYTES || !*item->signer ||
        strlen(item->signer) >= CODEC_SIGNER_MAX ||
        inner->body_case == SHIFAN__PAYLOAD__BODY_SIGNED_ITEM || inner->n_receipts)
        return false;
    if (!seal)
        return true;
    seal->is_signed = true;
    snprintf(seal->signer, sizeof seal->signer, "%s", item->signer);
    memcpy(seal->signer_key, item->signer_key.data, CODEC_SIGN_PUBLIC_BYTES);
    crypto_generichash(seal->body_hash, sizeof seal->body_hash, item->body.data, item->body.len,
                       NULL, 0);
    uint8_t *message = NULL;
    size_t message_len = 0;
    if (context_bytes(ITEM_CONTEXT, item->body.data, item->body.len, &message, &message_len))
        return false;
    seal->verifies = crypto_sign_verify_detached(item->signature.data, message, message_len,
                                                 item->signer_key.data) == 0;
    free(message);
    return true;
}

Shifan__Payload *codec_payload_open(codec_arena_t *arena, const uint8_t *data, size_t len,
                                    codec_seal_t *seal)
{
    if (seal)
        memset(seal, 0, sizeof *seal);
    ProtobufCAllocator allocator = {arena_alloc, arena_free, arena}, *alloc = NULL;
    if (arena) {
        arena->used = 0;
        arena->fallbacks = 0;
        alloc = &allocator;
    }
    Shifan__Payload *outer = unpack_one(alloc, data, len);
    if (!outer || outer->body_case != SHIFAN__PAYLOAD__BODY_SIGNED_ITEM)
        return outer;
    const Shifan__SignedItem *item = outer->signed_item;
    Shifan__Payload *inner = unpack_one(alloc, item->body.data, item->body.len);
    if (!inner || !seal_check(item, inner, seal)) {
        if (inner)
            shifan__payload__free_unpacked(inner, alloc);
        shifan__payload__free_unpacked(outer, alloc);
        if (seal)
            memset(seal, 0, sizeof *seal);
        return NULL;
    }
    /* The receipts stamped on the way travel outside the signed body. */
    inner->n_receipts = outer->n_receipts;
    inner->receipts = outer->receipts;
    outer->n_receipts = 0;
    outer->receipts = NULL;
    shifan__payload__free_unpacked(outer, alloc);
    return inner;
}

int codec_payload_sign(const uint8_t *body, size_t len, const char *signer,
                       const uint8_t public_key[CODEC_SIGN_PUBLIC_BYTES],
                       const uint8_t secret_key[CODEC_SIGN_SECRET_BYTES], uint8_t **out,
                       size_t *out_len)
{
    if (!len || !*signer || strlen(signer) >= CODEC_SIGNER_MAX)
        return SF_EINVAL;
    Shifan__Payload *check = unpack_one(NULL, body, len);
    bool is_signed = !check || check->body_case == SHIFAN__PAYLOAD__BODY_SIGNED_ITEM;
    if (check)
        shifan__payload__free_unpacked(check, NULL);
    if (is_signed)
        return SF_EINVAL;
    uint8_t *message = NULL, signature[CODEC_SIGNATURE_BYTES];
    size_t message_len = 0;
    int rc = context_bytes(ITEM_CONTEXT, body, len, &message, &message_len);
    if (rc)
        return rc;
    crypto_sign_detached(signature, NULL, message, message_len, secret_key);
    free(message);
    Shifan__SignedItem item = SHIFAN__SIGNED_ITEM__INIT;
    item.body.data = (uint8_t *)body;
    item.body.len = len;
    item.signature.data = signature;
    item.signature.len = sizeof signature;
    item.signer = (char *)signer;
    item.signer_key.data = (uint8_t *)public_key;
    item.signer_key.len = CODEC_SIGN_PUBLIC_BYTES;
    Shifan__Payload payload = SHIFAN__PAYLOAD__INIT;
    payload.body_case = SHIFAN__PAYLOAD__BODY_SIGNED_ITEM;
    payload.signed_item = &item;
    return codec_payload_pack(&payload, out, out_len);
}

static const char ROTATE_CONTEXT[] = "shifan-rotate-1";

/* The bytes a rotation's previous_signature covers. */
static int rotation_message(const Shifan__KeyAnnouncement *ann, uint8_t **out, size_t *out_len)
{
    size_t unit_len = strlen(ann->unit), curve_len = ann->curve_key ? strlen(ann->curve_key) : 0;
    size_t len = unit_len + 1 + ann->sign_key.len + curve_len + 1 + 8;
    uint8_t *tail = malloc(len), *p = tail;
    if (!tail)
        return SF_ENOMEM;
    memcpy(p, ann->unit, unit_len + 1);
    p += unit_len + 1;
    memcpy(p, ann->sign_key.data, ann->sign_key.len);
    p += ann->sign_key.len;
    if (curve_len)
        memcpy(p, ann->curve_key, curve_len);
    p[curve_len] = '\0';
    put_be64(p + curve_len + 1, ann->made_at);
    int rc = context_bytes(ROTATE_CONTEXT, tail, len, out, out_len);
    free(tail);
    return rc;
}

int codec_rotation_sign(const Shifan__KeyAnnouncement *ann,
                        const uint8_t secret_key[CODEC_SIGN_SECRET_BYTES],
                        uint8_t signature[CODEC_SIGNATURE_BYTES])
{
    uint8_t *message = NULL;
    size_t len = 0;
    int rc = rotation_message(ann, &message, &len);
    if (rc)
        return rc;
    crypto_sign_detached(signature, NULL, message, len, secret_key);
    free(message);
    return 0;
}

bool codec_rotation_verifies(const Shifan__KeyAnnouncement *ann)
{
    if (!ann->has_previous_key || ann->previous_key.len != CODEC_SIGN_PUBLIC_BYTES ||
        !ann->has_previous_signature || ann->previous_signature.len != CODEC_SIGNATURE_BYTES)
        return false;
    uint8_t *message = NULL;
    size_t len = 0;
    if (rotation_message(ann, &message, &len))
        return false;
    bool ok = crypto_sign_verify_detached(ann->previous_signature.data, message, len,
                                          ann->previous_key.data) == 0;
    free(message);
    return ok;
}
