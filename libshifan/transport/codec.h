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
 * codec_payload_free (NULL is a no-op). */
Shifan__Payload *codec_payload_unpack(const uint8_t *data, size_t len);
void codec_payload_free(Shifan__Payload *payload);
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
