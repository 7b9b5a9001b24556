/* codec.h - frames on a link: one Envelope (proto/shifan.proto) per frame,
 * and the Payloads that items carry.
 *
 * Guarantees: decoding treats every frame as hostile: empty frames (which
 * protobuf-c would turn into an all-default message, trap P4), frames over
 * CODEC_MAX_FRAME, another wire version, an envelope with no body, and
 * batches with too many items, items over CODEC_MAX_PAYLOAD or sequence
 * numbers that do not ascend by one are refused with SF_EPROTO or
 * SF_ETOOBIG; so is a key of field number 0 anywhere in a frame or payload
 * (protobuf-c takes it, but cannot read what it packs from it). So whatever
 * decodes here packs again into bytes that decode. No schema type is
 * recursive (P2). Payloads inside items stay opaque bytes here;
 * codec_payload_* decode them.
 *
 * Ownership: a decoded message is the caller's, freed with the matching
 * free function; it copies what it needs, so the input bytes may go as
 * soon as the call returns. Buffers returned through `uint8_t **` are
 * malloc'd and the caller's to free().
 *
 * Threads: no shared state; any thread may call any function, except that
 * an arena belongs to one thread at a time. */
#ifndef SHIFAN_CODEC_H
#define SHIFAN_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "shifan.pb-c.h"

#define CODEC_WIRE_VERSION 1
#define CODEC_MAX_PAYLOAD (512 * 1024)        /* one item's payload */
#define CODEC_MAX_FRAME (1024 * 1024 + 65536) /* one frame, before CURVE */
#define CODEC_MAX_ITEMS 1024                  /* items in one batch */

/* Unpacks a frame. Returns the envelope (free with codec_free), or NULL
 * with *err set to SF_EPROTO or SF_ETOOBIG. */
Shifan__Envelope *codec_unpack(const uint8_t *data, size_t len, int *err);
/* Frees an envelope of codec_unpack; NULL is a no-op. */
void codec_free(Shifan__Envelope *envelope);

/* Packs an envelope into zmq_msg (a zmq_msg_t *), which it initialises:
 * on 0 the caller owns the message (send it, or zmq_msg_close it). On
 * SF_ETOOBIG (over CODEC_MAX_FRAME) or SF_ENOMEM the message is left
 * uninitialised. */
int codec_pack_msg(const Shifan__Envelope *envelope, void *zmq_msg);

/* A reusable bump allocator for decoding payloads on the hot path: protobuf-c
 * makes one allocation per sub-message (dozens per report), and freeing them
 * one by one cost more than decoding. Allocations beyond the arena fall back
 * to malloc. A payload decoded with it stays valid until the next
 * codec_payload_unpack_arena() on the same arena; free each one with
 * codec_payload_free_arena() before that (it frees what fell back to
 * malloc). */
typedef struct codec_arena codec_arena_t;
/* A new arena of size bytes, or NULL with error SF_ENOMEM. */
codec_arena_t *codec_arena_new(size_t size, sf_error_t *error);
/* Frees the arena and sets *self_p to NULL; a NULL *self_p is a no-op. */
void codec_arena_destroy(codec_arena_t **self_p);
/* Unpacks a Payload into the arena; NULL on malformed input. */
Shifan__Payload *codec_payload_unpack_arena(codec_arena_t *arena, const uint8_t *data, size_t len);
void codec_payload_free_arena(codec_arena_t *arena, Shifan__Payload *payload);

/* Unpacks a Payload; NULL on malformed input (or no memory). Free with
 * codec_payload_free (NULL is a no-op). A signed payload (`signed_item`)
 * is opened as codec_payload_open opens it, without checking its
 * signature. */
Shifan__Payload *codec_payload_unpack(const uint8_t *data, size_t len);
void codec_payload_free(Shifan__Payload *payload);
/* ---- signed payloads (docs/signing.md) ---- */

#define CODEC_SIGN_PUBLIC_BYTES 32
#define CODEC_SIGN_SECRET_BYTES 64
#define CODEC_SIGNATURE_BYTES 64
#define CODEC_HASH_BYTES 32
#define CODEC_SIGNER_MAX 32

/* What a payload's SignedItem said of its maker, as codec_payload_open
 * found it. */
typedef struct {
    bool is_signed;                /* it came as a SignedItem */
    bool verifies;                 /* the signature holds for signer_key */
    char signer[CODEC_SIGNER_MAX]; /* the signer's code */
    uint8_t signer_key[CODEC_SIGN_PUBLIC_BYTES];
    uint8_t body_hash[CODEC_HASH_BYTES]; /* BLAKE2b-256 of the signed body */
} codec_seal_t;

/* Unpacks a Payload into arena (NULL: malloc, free with
 * codec_payload_free). A SignedItem is opened: the result is its body's
 * Payload, carrying the outer payload's receipts, and seal (if not NULL)
 * says who signed it and whether the signature verifies against the key
 * it names (the caller decides whether that key is the signer's). A body
 * that is itself signed, carries receipts, has no member, or a signer key,
 * signature or signer of the wrong size is malformed: NULL. An unsigned
 * payload gives seal->is_signed false. */
Shifan__Payload *codec_payload_open(codec_arena_t *arena, const uint8_t *data, size_t len,
                                    codec_seal_t *seal);

/* Signs a packed Payload (body) as signer with the Ed25519 pair
 * (public_key, secret_key): a malloc'd Payload{signed_item} in *out. The
 * signature covers "shifan-item-1" followed by body. SF_EINVAL (body
 * empty, signed already, or signer too long), SF_ETOOBIG, SF_ENOMEM. */
int codec_payload_sign(const uint8_t *body, size_t len, const char *signer,
                       const uint8_t public_key[CODEC_SIGN_PUBLIC_BYTES],
                       const uint8_t secret_key[CODEC_SIGN_SECRET_BYTES], uint8_t **out,
                       size_t *out_len);

/* A receipt to stamp. body_hash and secret_key NULL: unsigned (the item
 * was not signed). claimed_before and session_since: 0 when unknown. */
typedef struct {
    const char *node;
    int64_t received_at;
    int64_t claimed_before;
    int64_t session_since;
    const uint8_t *body_hash;  /* codec_seal_t.body_hash of the item */
    const uint8_t *secret_key; /* the storing node's signing secret key */
} codec_receipt_t;

/* Appends the receipt, signed when it has a key, to a serialized Payload,
 * as codec_payload_append_receipt does. */
int codec_payload_stamp(const uint8_t *payload, size_t len, const codec_receipt_t *receipt,
                        uint8_t **out, size_t *out_len);

/* True when receipt carries a signature by public_key over body_hash and
 * its own fields. */
bool codec_receipt_verifies(const Shifan__Receipt *receipt,
                            const uint8_t body_hash[CODEC_HASH_BYTES],
                            const uint8_t public_key[CODEC_SIGN_PUBLIC_BYTES]);

/* A key rotation (KeyAnnouncement.previous_signature, proto/shifan.proto):
 * signs ann (unit, sign_key, curve_key, made_at) with the secret key it
 * replaces into signature; SF_ENOMEM. codec_rotation_verifies: true when
 * ann carries previous_key and a previous_signature by it. */
int codec_rotation_sign(const Shifan__KeyAnnouncement *ann,
                        const uint8_t secret_key[CODEC_SIGN_SECRET_BYTES],
                        uint8_t signature[CODEC_SIGNATURE_BYTES]);
bool codec_rotation_verifies(const Shifan__KeyAnnouncement *ann);

/* Appends a Receipt to a serialized Payload without decoding and re-encoding
 * it: protobuf concatenation adds an element to the repeated `receipts`
 * field, and the original bytes travel on untouched (trap P6). Writes a
 * malloc'd buffer to *out; SF_ETOOBIG if the result exceeds
 * CODEC_MAX_PAYLOAD, SF_ENOMEM. */
int codec_payload_append_receipt(const uint8_t *payload, size_t len, const char *node,
                                 int64_t received_at, uint8_t **out, size_t *out_len);

/* Packs a payload into a malloc'd buffer *data of *len bytes. SF_EINVAL if
 * protobuf-c's check fails (a required field or a string is NULL),
 * SF_ETOOBIG over CODEC_MAX_PAYLOAD, SF_ENOMEM; *data is untouched on
 * failure. */
int codec_payload_pack(const Shifan__Payload *payload, uint8_t **data, size_t *len);

#endif
