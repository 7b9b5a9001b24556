/* codec.h - frames on a link: one Envelope (proto/shifan.proto) per frame.
 *
 * Decoding treats every frame as hostile: empty frames (which protobuf-c
 * would turn into an all-default message, trap P4), frames over
 * CODEC_MAX_FRAME, another wire version, an envelope with no body, and
 * batches with too many items are refused with SF_EPROTO or SF_ETOOBIG; so
 * is a key of field number 0 anywhere in a frame or payload (protobuf-c
 * takes it, but cannot read what it packs from it). So whatever decodes
 * here packs again into bytes that decode. No schema type is recursive
 * (P2). Payloads inside items stay opaque bytes here; codec_payload_*
 * decode them. */
#ifndef SHIFAN_CODEC_H
#define SHIFAN_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "shifan.pb-c.h"

#define CODEC_WIRE_VERSION 1
#define CODEC_MAX_PAYLOAD (512 * 1024)        /* one item's payload */
#define CODEC_MAX_FRAME (1024 * 1024 + 65536) /* one frame, before CURVE */
#define CODEC_MAX_ITEMS 1024                  /* items in one batch */

/* Unpacks a frame. Returns the envelope (free with codec_free) or NULL with
 * *err set. */
Shifan__Envelope *codec_unpack(const uint8_t *data, size_t len, int *err);
void codec_free(Shifan__Envelope *envelope);

/* Packs an envelope into a zmq_msg_t the caller owns (initialised here). */
int codec_pack_msg(const Shifan__Envelope *envelope, void *zmq_msg);

/* A reusable bump allocator for decoding payloads on the hot path: protobuf-c
 * makes one allocation per sub-message (dozens per report), and freeing them
 * one by one cost more than decoding. Allocations beyond the arena fall back
 * to malloc. One arena per thread; a payload decoded with it stays valid
 * until the next codec_payload_unpack_arena() on the same arena. */
typedef struct codec_arena codec_arena_t;
codec_arena_t *codec_arena_new(size_t size, sf_error_t *error);
void codec_arena_destroy(codec_arena_t **self_p);
Shifan__Payload *codec_payload_unpack_arena(codec_arena_t *arena, const uint8_t *data, size_t len);
void codec_payload_free_arena(codec_arena_t *arena, Shifan__Payload *payload);

/* Unpacks a Payload; NULL on malformed input. Free with codec_payload_free. */
Shifan__Payload *codec_payload_unpack(const uint8_t *data, size_t len);
void codec_payload_free(Shifan__Payload *payload);
/* Appends a Receipt to a serialized Payload without decoding and re-encoding
 * it: protobuf concatenation adds an element to the repeated `receipts`
 * field, and the original bytes travel on untouched (trap P6). Writes a
 * malloc'd buffer; SF_ETOOBIG if the result exceeds CODEC_MAX_PAYLOAD. */
int codec_payload_append_receipt(const uint8_t *payload, size_t len, const char *node,
                                 int64_t received_at, uint8_t **out, size_t *out_len);

/* Packs a payload into a malloc'd buffer. */
int codec_payload_pack(const Shifan__Payload *payload, uint8_t **data, size_t *len);

#endif
