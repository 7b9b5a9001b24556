/* The wire codec: valid frames round-trip; empty, oversized, truncated and
 * random frames give clean errors (run under ASan in CI); receipts appended
 * to payload bytes decode as receipts. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "base/error.h"
#include "transport/codec.h"

static zmq_msg_t packed_batch(size_t items)
{
    Shifan__Item *item = calloc(items, sizeof *item), **ptrs = calloc(items, sizeof *ptrs);
    for (size_t i = 0; i < items; i++) {
        shifan__item__init(&item[i]);
        item[i].seq = 100 + i;
        item[i].payload.data = (uint8_t *)"payload-bytes";
        item[i].payload.len = 13;
        ptrs[i] = &item[i];
    }
    Shifan__Batch batch = SHIFAN__BATCH__INIT;
    batch.epoch = 0x1122334455667788ULL;
    batch.n_items = items;
    batch.items = ptrs;
    Shifan__Envelope envelope = SHIFAN__ENVELOPE__INIT;
    envelope.version = CODEC_WIRE_VERSION;
    envelope.body_case = SHIFAN__ENVELOPE__BODY_BATCH;
    envelope.batch = &batch;
    zmq_msg_t msg;
    assert_int_equal(codec_pack_msg(&envelope, &msg), 0);
    free(item);
    free(ptrs);
    return msg;
}

static void a_batch_round_trips(void **state)
{
    (void)state;
    zmq_msg_t msg = packed_batch(5);
    int err = -1;
    Shifan__Envelope *envelope = codec_unpack(zmq_msg_data(&msg), zmq_msg_size(&msg), &err);
    assert_non_null(envelope);
    assert_int_equal(err, 0);
    assert_int_equal(envelope->body_case, SHIFAN__ENVELOPE__BODY_BATCH);
    assert_int_equal(envelope->batch->n_items, 5);
    assert_int_equal(envelope->batch->items[4]->seq, 104);
    assert_int_equal(envelope->batch->epoch, 0x1122334455667788ULL);
    codec_free(envelope);
    zmq_msg_close(&msg);
}

static void empty_and_oversized_frames_are_refused(void **state)
{
    (void)state;
    int err = 0;
    uint8_t byte = 0;
    assert_null(codec_unpack(&byte, 0, &err));
    assert_int_equal(err, SF_EPROTO);
    uint8_t *big = calloc(1, CODEC_MAX_FRAME + 1);
    assert_null(codec_unpack(big, CODEC_MAX_FRAME + 1, &err));
    assert_int_equal(err, SF_ETOOBIG);
    free(big);
}

static void every_truncation_fails_cleanly_or_decodes_a_prefix(void **state)
{
    (void)state;
    zmq_msg_t msg = packed_batch(3);
    const uint8_t *data = zmq_msg_data(&msg);
    size_t len = zmq_msg_size(&msg), refused = 0;
    for (size_t cut = 0; cut < len; cut++) {
        int err = 0;
        Shifan__Envelope *envelope = codec_unpack(data, cut, &err);
        if (envelope) {
            /* A cut at a field boundary is a shorter valid message. */
            assert_int_equal(err, 0);
            codec_free(envelope);
        } else {
            assert_true(err == SF_EPROTO || err == SF_ETOOBIG);
            refused++;
        }
    }
    assert_true(refused > len / 2);
    zmq_msg_close(&msg);
}

static void random_bytes_never_crash(void **state)
{
    (void)state;
    srand(12345);
    size_t refused = 0;
    for (int round = 0; round < 20000; round++) {
        uint8_t junk[256];
        size_t len = 1 + (size_t)(rand() % (int)sizeof junk);
        for (size_t i = 0; i < len; i++)
            junk[i] = (uint8_t)rand();
        int err = 0;
        Shifan__Envelope *envelope = codec_unpack(junk, len, &err);
        if (envelope)
            codec_free(envelope);
        else
            refused++;
        Shifan__Payload *payload = codec_payload_unpack(junk, len);
        codec_payload_free(payload);
    }
    assert_true(refused > 19000);
}

static void wrong_version_and_gaps_are_protocol_errors(void **state)
{
    (void)state;
    Shifan__Ping ping = SHIFAN__PING__INIT;
    Shifan__Envelope envelope = SHIFAN__ENVELOPE__INIT;
    envelope.version = 2;
    envelope.body_case = SHIFAN__ENVELOPE__BODY_PING;
    envelope.ping = &ping;
    zmq_msg_t msg;
    assert_int_equal(codec_pack_msg(&envelope, &msg), 0);
    int err = 0;
    assert_null(codec_unpack(zmq_msg_data(&msg), zmq_msg_size(&msg), &err));
    assert_int_equal(err, SF_EPROTO);
    zmq_msg_close(&msg);

    Shifan__Item a = SHIFAN__ITEM__INIT, b = SHIFAN__ITEM__INIT, *items[] = {&a, &b};
    a.seq = 1;
    b.seq = 3; /* a gap inside one batch */
    Shifan__Batch batch = SHIFAN__BATCH__INIT;
    batch.n_items = 2;
    batch.items = items;
    envelope.version = CODEC_WIRE_VERSION;
    envelope.body_case = SHIFAN__ENVELOPE__BODY_BATCH;
    envelope.batch = &batch;
    assert_int_equal(codec_pack_msg(&envelope, &msg), 0);
    assert_null(codec_unpack(zmq_msg_data(&msg), zmq_msg_size(&msg), &err));
    assert_int_equal(err, SF_EPROTO);
    zmq_msg_close(&msg);
}

static void appended_receipts_decode_in_order(void **state)
{
    (void)state;
    Shifan__Return ret = SHIFAN__RETURN__INIT;
    ret.report_id = "530102-2018-v1-00000001";
    ret.unit = "530102";
    ret.year = 2018;
    ret.reason = "2.1 den";
    ret.by = "530100";
    Shifan__Payload payload = SHIFAN__PAYLOAD__INIT;
    payload.body_case = SHIFAN__PAYLOAD__BODY_RETURN_FOR_CORRECTION;
    payload.return_for_correction = &ret;
    uint8_t *bytes, *once, *twice;
    size_t len, once_len, twice_len;
    assert_int_equal(codec_payload_pack(&payload, &bytes, &len), 0);
    assert_int_equal(
        codec_payload_append_receipt(bytes, len, "530100", 1531616400, &once, &once_len), 0);
    assert_int_equal(
        codec_payload_append_receipt(once, once_len, "530000", 1531620000, &twice, &twice_len), 0);
    Shifan__Payload *decoded = codec_payload_unpack(twice, twice_len);
    assert_non_null(decoded);
    assert_int_equal(decoded->n_receipts, 2);
    assert_string_equal(decoded->receipts[0]->node, "530100");
    assert_int_equal(decoded->receipts[0]->received_at, 1531616400);
    assert_string_equal(decoded->receipts[1]->node, "530000");
    assert_string_equal(decoded->return_for_correction->reason, "2.1 den");
    codec_payload_free(decoded);
    free(bytes);
    free(once);
    free(twice);

    uint8_t *big = calloc(1, CODEC_MAX_PAYLOAD), *out;
    size_t out_len;
    assert_int_equal(
        codec_payload_append_receipt(big, CODEC_MAX_PAYLOAD, "530100", 1, &out, &out_len),
        SF_ETOOBIG);
    free(big);
}

/* protobuf-c takes a key of field number 0 sent as an over-long varint
 * (0x82 0x00) and packs it short (0x02), which it then refuses: a frame
 * that decoded could not be packed again into one that decodes. Found by
 * tests/fuzz/fuzz_envelope; the decoders refuse such keys at any depth. */
static void field_number_zero_is_refused_at_any_depth(void **state)
{
    (void)state;
    /* version 1, a Ping (nonce 42), then field 0 as bytes of length 0 */
    const uint8_t frame[] = {0x08, 0x01, 0x72, 0x02, 0x08, 0x2a, 0x82, 0x00, 0x00};
    int err = 0;
    assert_null(codec_unpack(frame, sizeof frame, &err));
    assert_int_equal(err, SF_EPROTO);
    /* without the bad key the same frame decodes */
    Shifan__Envelope *envelope = codec_unpack(frame, sizeof frame - 3, &err);
    assert_non_null(envelope);
    assert_int_equal(envelope->ping->nonce, 42);
    codec_free(envelope);

    /* the key inside a Ping, inside the envelope */
    const uint8_t nested[] = {0x08, 0x01, 0x72, 0x05, 0x08, 0x2a, 0x82, 0x00, 0x00};
    assert_null(codec_unpack(nested, sizeof nested, &err));
    assert_int_equal(err, SF_EPROTO);

    /* a Receipt (field 30) inside a Payload with a Return; the receipt holds the key */
    Shifan__Return ret = SHIFAN__RETURN__INIT;
    ret.report_id = "530102-2018-v1-00000001";
    ret.unit = "530102";
    ret.year = 2018;
    ret.reason = "r";
    ret.by = "530100";
    Shifan__Payload payload = SHIFAN__PAYLOAD__INIT;
    payload.body_case = SHIFAN__PAYLOAD__BODY_RETURN_FOR_CORRECTION;
    payload.return_for_correction = &ret;
    uint8_t *bytes;
    size_t len;
    assert_int_equal(codec_payload_pack(&payload, &bytes, &len), 0);
    const uint8_t receipt[] = {0xf2, 0x01, 0x0d, 0x0a, 0x06, '5',  '3',  '0',
                               '1',  '0',  '0',  0x10, 0x01, 0x82, 0x00, 0x00};
    uint8_t *bad = malloc(len + sizeof receipt);
    memcpy(bad, bytes, len);
    memcpy(bad + len, receipt, sizeof receipt);
    assert_null(codec_payload_unpack(bad, len + sizeof receipt));
    codec_arena_t *arena = codec_arena_new(4096, NULL);
    assert_null(codec_payload_unpack_arena(arena, bad, len + sizeof receipt));
    /* the same receipt without the bad key is one more receipt */
    bad[len + 2] = 0x0a;
    Shifan__Payload *decoded = codec_payload_unpack(bad, len + sizeof receipt - 3);
    assert_non_null(decoded);
    assert_int_equal(decoded->n_receipts, 1);
    assert_string_equal(decoded->receipts[0]->node, "530100");
    codec_payload_free(decoded);
    codec_arena_destroy(&arena);
    free(bad);
    free(bytes);
}

/* An arena too small for a message falls back to malloc for the rest; what
 * fell back is freed with the message (the ASan pass finds a leak if not),
 * and a message that fit is released by resetting the arena. */
static void an_arena_decodes_messages_larger_than_itself(void **state)
{
    (void)state;
    Shifan__Return ret = SHIFAN__RETURN__INIT;
    ret.report_id = "530102-2018-v1-00000001";
    ret.unit = "530102";
    ret.year = 2018;
    char reason[3000];
    memset(reason, 'r', sizeof reason - 1);
    reason[sizeof reason - 1] = '\0';
    ret.reason = reason;
    ret.by = "530100";
    Shifan__Payload payload = SHIFAN__PAYLOAD__INIT;
    payload.body_case = SHIFAN__PAYLOAD__BODY_RETURN_FOR_CORRECTION;
    payload.return_for_correction = &ret;
    uint8_t *bytes;
    size_t len;
    assert_int_equal(codec_payload_pack(&payload, &bytes, &len), 0);
    codec_arena_t *arena = codec_arena_new(256, NULL);
    for (int round = 0; round < 3; round++) {
        Shifan__Payload *decoded = codec_payload_unpack_arena(arena, bytes, len);
        assert_non_null(decoded);
        assert_string_equal(decoded->return_for_correction->reason, reason);
        assert_string_equal(decoded->return_for_correction->by, "530100");
        codec_payload_free_arena(arena, decoded);
    }
    ret.reason = "short";
    uint8_t *small;
    size_t small_len;
    assert_int_equal(codec_payload_pack(&payload, &small, &small_len), 0);
    Shifan__Payload *decoded = codec_payload_unpack_arena(arena, small, small_len);
    assert_non_null(decoded);
    assert_string_equal(decoded->return_for_correction->reason, "short");
    codec_payload_free_arena(arena, decoded);
    codec_arena_destroy(&arena);
    free(small);
    free(bytes);
}

/* ---- signed payloads (docs/signing.md) ---- */

typedef struct {
    uint8_t public_key[CODEC_SIGN_PUBLIC_BYTES];
    uint8_t secret_key[CODEC_SIGN_SECRET_BYTES];
} pair_t;

static pair_t a_pair(void)
{
    pair_t pair;
    assert_int_equal(crypto_sign_keypair(pair.public_key, pair.secret_key), 0);
    return pair;
}

/* Where text first occurs in bytes (it must). */
static uint8_t *find(uint8_t *bytes, size_t len, const char *text)
{
    size_t text_len = strlen(text);
    for (size_t at = 0; at + text_len <= len; at++)
        if (memcmp(bytes + at, text, text_len) == 0)
            return bytes + at;
    fail_msg("\"%s\" is not in the bytes", text);
    return NULL;
}

/* A packed Return, the body the signing tests sign. */
static void return_body(uint8_t **bytes, size_t *len)
{
    Shifan__Return ret = SHIFAN__RETURN__INIT;
    ret.report_id = "530102-2018-v1-00000001";
    ret.unit = "530102";
    ret.year = 2018;
    ret.reason = "2.1 den";
    ret.by = "530100";
    Shifan__Payload payload = SHIFAN__PAYLOAD__INIT;
    payload.body_case = SHIFAN__PAYLOAD__BODY_RETURN_FOR_CORRECTION;
    payload.return_for_correction = &ret;
    assert_int_equal(codec_payload_pack(&payload, bytes, len), 0);
}

/* A Payload{signed_item} made field by field, so that its sizes can be wrong. */
static void a_signed_item(const uint8_t *body, size_t len, const uint8_t *signature,
                          size_t signature_len, const char *signer, const uint8_t *key,
                          size_t key_len, uint8_t **out, size_t *out_len)
{
    Shifan__SignedItem item = SHIFAN__SIGNED_ITEM__INIT;
    item.body.data = (uint8_t *)body;
    item.body.len = len;
    item.signature.data = (uint8_t *)signature;
    item.signature.len = signature_len;
    item.signer = (char *)signer;
    item.signer_key.data = (uint8_t *)key;
    item.signer_key.len = key_len;
    Shifan__Payload payload = SHIFAN__PAYLOAD__INIT;
    payload.body_case = SHIFAN__PAYLOAD__BODY_SIGNED_ITEM;
    payload.signed_item = &item;
    assert_int_equal(codec_payload_pack(&payload, out, out_len), 0);
}

/* What codec_payload_sign signs: the item context, then the body. */
static void sign_body(const uint8_t *body, size_t len, const pair_t *pair,
                      uint8_t signature[CODEC_SIGNATURE_BYTES])
{
    uint8_t *message = malloc(13 + len);
    memcpy(message, "shifan-item-1", 13);
    memcpy(message + 13, body, len);
    crypto_sign_detached(signature, NULL, message, 13 + len, pair->secret_key);
    free(message);
}

static void signing_then_opening_gives_the_body_and_its_seal(void **state)
{
    (void)state;
    pair_t county = a_pair();
    uint8_t *body, *signed_bytes, hash[CODEC_HASH_BYTES];
    size_t len, signed_len;
    return_body(&body, &len);
    assert_int_equal(codec_payload_sign(body, len, "530102", county.public_key, county.secret_key,
                                        &signed_bytes, &signed_len),
                     0);
    codec_seal_t seal;
    memset(&seal, 0xff, sizeof seal);
    Shifan__Payload *opened = codec_payload_open(NULL, signed_bytes, signed_len, &seal);
    assert_non_null(opened);
    assert_int_equal(opened->body_case, SHIFAN__PAYLOAD__BODY_RETURN_FOR_CORRECTION);
    assert_string_equal(opened->return_for_correction->reason, "2.1 den");
    assert_int_equal(opened->n_receipts, 0);
    assert_true(seal.is_signed);
    assert_true(seal.verifies);
    assert_string_equal(seal.signer, "530102");
    assert_memory_equal(seal.signer_key, county.public_key, CODEC_SIGN_PUBLIC_BYTES);
    crypto_generichash(hash, sizeof hash, body, len, NULL, 0);
    assert_memory_equal(seal.body_hash, hash, CODEC_HASH_BYTES);
    codec_payload_free(opened);
    /* codec_payload_unpack opens it alike */
    opened = codec_payload_unpack(signed_bytes, signed_len);
    assert_non_null(opened);
    assert_string_equal(opened->return_for_correction->reason, "2.1 den");
    codec_payload_free(opened);
    free(signed_bytes);
    free(body);
}

static void a_flipped_body_byte_does_not_verify(void **state)
{
    (void)state;
    pair_t county = a_pair();
    uint8_t *body, *signed_bytes;
    size_t len, signed_len;
    return_body(&body, &len);
    assert_int_equal(codec_payload_sign(body, len, "530102", county.public_key, county.secret_key,
                                        &signed_bytes, &signed_len),
                     0);
    uint8_t *reason = find(signed_bytes, signed_len, "2.1 den");
    assert_non_null(reason);
    reason[4] = 'D';
    codec_seal_t seal;
    Shifan__Payload *opened = codec_payload_open(NULL, signed_bytes, signed_len, &seal);
    assert_non_null(opened); /* it still opens: the receiver says why it refuses */
    assert_string_equal(opened->return_for_correction->reason, "2.1 Den");
    assert_true(seal.is_signed);
    assert_false(seal.verifies);
    assert_string_equal(seal.signer, "530102");
    codec_payload_free(opened);
    /* flipped back, it verifies again */
    reason[4] = 'd';
    opened = codec_payload_open(NULL, signed_bytes, signed_len, &seal);
    assert_non_null(opened);
    assert_true(seal.verifies);
    codec_payload_free(opened);
    free(signed_bytes);
    free(body);
}

static void a_signature_of_another_key_does_not_verify(void **state)
{
    (void)state;
    pair_t county = a_pair(), other = a_pair();
    uint8_t *body, *bytes, signature[CODEC_SIGNATURE_BYTES];
    size_t len, bytes_len;
    return_body(&body, &len);
    sign_body(body, len, &other, signature);
    a_signed_item(body, len, signature, sizeof signature, "530102", county.public_key,
                  CODEC_SIGN_PUBLIC_BYTES, &bytes, &bytes_len);
    codec_seal_t seal;
    Shifan__Payload *opened = codec_payload_open(NULL, bytes, bytes_len, &seal);
    assert_non_null(opened);
    assert_true(seal.is_signed);
    assert_false(seal.verifies);
    codec_payload_free(opened);
    free(bytes);
    /* the helper signs as codec_payload_sign does: with the right key it verifies */
    sign_body(body, len, &county, signature);
    a_signed_item(body, len, signature, sizeof signature, "530102", county.public_key,
                  CODEC_SIGN_PUBLIC_BYTES, &bytes, &bytes_len);
    opened = codec_payload_open(NULL, bytes, bytes_len, &seal);
    assert_non_null(opened);
    assert_true(seal.verifies);
    codec_payload_free(opened);
    free(bytes);
    free(body);
}

/* Opens bytes that must not open; the seal says nothing after it. */
static void assert_does_not_open(const uint8_t *bytes, size_t len)
{
    codec_seal_t seal;
    memset(&seal, 0xff, sizeof seal);
    assert_null(codec_payload_open(NULL, bytes, len, &seal));
    assert_false(seal.is_signed);
    assert_false(seal.verifies);
    assert_null(codec_payload_unpack(bytes, len));
    codec_arena_t *arena = codec_arena_new(4096, NULL);
    assert_null(codec_payload_open(arena, bytes, len, NULL));
    codec_arena_destroy(&arena);
}

static void a_signed_item_of_the_wrong_shape_does_not_open(void **state)
{
    (void)state;
    pair_t county = a_pair();
    uint8_t *body, *bytes, signature[CODEC_SIGNATURE_BYTES + 1];
    size_t len, bytes_len;
    return_body(&body, &len);
    sign_body(body, len, &county, signature);
    char long_signer[CODEC_SIGNER_MAX + 1];
    memset(long_signer, '5', CODEC_SIGNER_MAX);
    long_signer[CODEC_SIGNER_MAX] = '\0';
    struct {
        size_t signature_len, key_len;
        const char *signer;
    } cases[] = {
        {CODEC_SIGNATURE_BYTES - 1, CODEC_SIGN_PUBLIC_BYTES, "530102"},
        {CODEC_SIGNATURE_BYTES + 1, CODEC_SIGN_PUBLIC_BYTES, "530102"},
        {0, CODEC_SIGN_PUBLIC_BYTES, "530102"},
        {CODEC_SIGNATURE_BYTES, CODEC_SIGN_PUBLIC_BYTES - 1, "530102"},
        {CODEC_SIGNATURE_BYTES, 0, "530102"},
        {CODEC_SIGNATURE_BYTES, CODEC_SIGN_PUBLIC_BYTES, ""},
        {CODEC_SIGNATURE_BYTES, CODEC_SIGN_PUBLIC_BYTES, long_signer},
    };
    uint8_t key[CODEC_SIGN_PUBLIC_BYTES + 1];
    memcpy(key, county.public_key, CODEC_SIGN_PUBLIC_BYTES);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        a_signed_item(body, len, signature, cases[i].signature_len, cases[i].signer, key,
                      cases[i].key_len, &bytes, &bytes_len);
        assert_does_not_open(bytes, bytes_len);
        free(bytes);
    }
    /* the same item with the right sizes opens */
    a_signed_item(body, len, signature, CODEC_SIGNATURE_BYTES, "530102", key,
                  CODEC_SIGN_PUBLIC_BYTES, &bytes, &bytes_len);
    codec_seal_t seal;
    Shifan__Payload *opened = codec_payload_open(NULL, bytes, bytes_len, &seal);
    assert_non_null(opened);
    assert_true(seal.verifies);
    codec_payload_free(opened);
    free(bytes);
    free(body);
}

static void a_signed_body_that_is_signed_or_carries_receipts_does_not_open(void **state)
{
    (void)state;
    pair_t county = a_pair();
    uint8_t *body, *inner, *bytes, *stamped, signature[CODEC_SIGNATURE_BYTES];
    size_t len, inner_len, bytes_len, stamped_len;
    return_body(&body, &len);
    /* a signed payload as the body of another */
    assert_int_equal(codec_payload_sign(body, len, "530102", county.public_key, county.secret_key,
                                        &inner, &inner_len),
                     0);
    sign_body(inner, inner_len, &county, signature);
    a_signed_item(inner, inner_len, signature, sizeof signature, "530102", county.public_key,
                  CODEC_SIGN_PUBLIC_BYTES, &bytes, &bytes_len);
    assert_does_not_open(bytes, bytes_len);
    free(bytes);
    /* a body with a receipt inside the signature */
    assert_int_equal(
        codec_payload_append_receipt(body, len, "530100", 1531616400, &stamped, &stamped_len), 0);
    assert_int_equal(codec_payload_sign(stamped, stamped_len, "530102", county.public_key,
                                        county.secret_key, &bytes, &bytes_len),
                     0);
    assert_does_not_open(bytes, bytes_len);
    free(bytes);
    /* a body that is no payload */
    sign_body((const uint8_t *)"\x01", 1, &county, signature);
    a_signed_item((const uint8_t *)"\x01", 1, signature, sizeof signature, "530102",
                  county.public_key, CODEC_SIGN_PUBLIC_BYTES, &bytes, &bytes_len);
    assert_does_not_open(bytes, bytes_len);
    free(bytes);
    free(stamped);
    free(inner);
    free(body);
}

static void signing_a_signed_payload_is_refused(void **state)
{
    (void)state;
    pair_t county = a_pair();
    uint8_t *body, *signed_bytes, *again = NULL;
    size_t len, signed_len, again_len = 0;
    return_body(&body, &len);
    assert_int_equal(codec_payload_sign(body, len, "530102", county.public_key, county.secret_key,
                                        &signed_bytes, &signed_len),
                     0);
    assert_int_equal(codec_payload_sign(signed_bytes, signed_len, "530102", county.public_key,
                                        county.secret_key, &again, &again_len),
                     SF_EINVAL);
    assert_null(again);
    /* nor an empty body, an empty signer or one too long */
    assert_int_equal(codec_payload_sign(body, 0, "530102", county.public_key, county.secret_key,
                                        &again, &again_len),
                     SF_EINVAL);
    assert_int_equal(
        codec_payload_sign(body, len, "", county.public_key, county.secret_key, &again, &again_len),
        SF_EINVAL);
    assert_int_equal(codec_payload_sign(body, len, "5301025301025301025301025301025301",
                                        county.public_key, county.secret_key, &again, &again_len),
                     SF_EINVAL);
    assert_null(again);
    free(signed_bytes);
    free(body);
}

static void an_unsigned_payload_opens_unsealed(void **state)
{
    (void)state;
    uint8_t *body;
    size_t len;
    return_body(&body, &len);
    codec_seal_t seal;
    memset(&seal, 0xff, sizeof seal);
    Shifan__Payload *opened = codec_payload_open(NULL, body, len, &seal);
    assert_non_null(opened);
    assert_string_equal(opened->return_for_correction->reason, "2.1 den");
    assert_false(seal.is_signed);
    assert_false(seal.verifies);
    assert_string_equal(seal.signer, "");
    codec_payload_free(opened);
    free(body);
}

/* Stamps a receipt of node on bytes (freed), signed when key is not NULL. */
static uint8_t *stamped(uint8_t *bytes, size_t *len, const char *node, int64_t received_at,
                        const uint8_t *body_hash, const pair_t *pair)
{
    codec_receipt_t receipt = {.node = node,
                               .received_at = received_at,
                               .claimed_before = received_at - 600,
                               .session_since = received_at - 60,
                               .body_hash = body_hash,
                               .secret_key = pair ? pair->secret_key : NULL};
    uint8_t *out;
    size_t out_len;
    assert_int_equal(codec_payload_stamp(bytes, *len, &receipt, &out, &out_len), 0);
    free(bytes);
    *len = out_len;
    return out;
}

static void receipts_on_a_signed_payload_come_out_on_the_body_in_order(void **state)
{
    (void)state;
    pair_t county = a_pair(), hub = a_pair(), province = a_pair();
    uint8_t *body, *bytes, hash[CODEC_HASH_BYTES];
    size_t len, bytes_len;
    return_body(&body, &len);
    crypto_generichash(hash, sizeof hash, body, len, NULL, 0);
    assert_int_equal(codec_payload_sign(body, len, "530102", county.public_key, county.secret_key,
                                        &bytes, &bytes_len),
                     0);
    bytes = stamped(bytes, &bytes_len, "530100", 1531616400, hash, &hub);
    bytes = stamped(bytes, &bytes_len, "530000", 1531620000, hash, &province);
    bytes = stamped(bytes, &bytes_len, "530001", 1531630000, NULL, NULL);
    codec_seal_t seal;
    Shifan__Payload *opened = codec_payload_open(NULL, bytes, bytes_len, &seal);
    assert_non_null(opened);
    assert_true(seal.verifies); /* receipts travel outside what the county signed */
    assert_int_equal(opened->n_receipts, 3);
    assert_string_equal(opened->receipts[0]->node, "530100");
    assert_int_equal(opened->receipts[0]->received_at, 1531616400);
    assert_int_equal(opened->receipts[0]->claimed_before, 1531616400 - 600);
    assert_int_equal(opened->receipts[0]->session_since, 1531616400 - 60);
    assert_string_equal(opened->receipts[1]->node, "530000");
    assert_int_equal(opened->receipts[1]->received_at, 1531620000);
    assert_string_equal(opened->receipts[2]->node, "530001");
    assert_true(codec_receipt_verifies(opened->receipts[0], seal.body_hash, hub.public_key));
    assert_true(codec_receipt_verifies(opened->receipts[1], seal.body_hash, province.public_key));
    assert_false(opened->receipts[2]->has_signature);
    codec_payload_free(opened);
    free(bytes);
    free(body);
}

static void a_signed_receipt_verifies_only_as_it_was_stamped(void **state)
{
    (void)state;
    pair_t county = a_pair(), hub = a_pair(), other = a_pair();
    uint8_t *body, *bytes;
    size_t len, bytes_len;
    return_body(&body, &len);
    assert_int_equal(codec_payload_sign(body, len, "530102", county.public_key, county.secret_key,
                                        &bytes, &bytes_len),
                     0);
    codec_seal_t seal;
    Shifan__Payload *opened = codec_payload_open(NULL, bytes, bytes_len, &seal);
    assert_non_null(opened);
    codec_payload_free(opened);
    bytes = stamped(bytes, &bytes_len, "530100", 1531616400, seal.body_hash, &hub);
    opened = codec_payload_open(NULL, bytes, bytes_len, &seal);
    assert_non_null(opened);
    Shifan__Receipt *receipt = opened->receipts[0];
    assert_true(receipt->has_signature);
    assert_int_equal(receipt->signature.len, CODEC_SIGNATURE_BYTES);
    assert_true(codec_receipt_verifies(receipt, seal.body_hash, hub.public_key));
    assert_false(codec_receipt_verifies(receipt, seal.body_hash, other.public_key));
    assert_false(codec_receipt_verifies(receipt, seal.body_hash, county.public_key));

    int64_t *times[] = {&receipt->received_at, &receipt->claimed_before, &receipt->session_since};
    for (size_t i = 0; i < 3; i++) {
        *times[i] += 1;
        assert_false(codec_receipt_verifies(receipt, seal.body_hash, hub.public_key));
        *times[i] -= 1;
        assert_true(codec_receipt_verifies(receipt, seal.body_hash, hub.public_key));
    }
    /* a time said unknown is not the time stamped */
    receipt->has_session_since = false;
    assert_false(codec_receipt_verifies(receipt, seal.body_hash, hub.public_key));
    receipt->has_session_since = true;
    receipt->node[5] = '1';
    assert_false(codec_receipt_verifies(receipt, seal.body_hash, hub.public_key));
    receipt->node[5] = '0';
    uint8_t hash[CODEC_HASH_BYTES];
    memcpy(hash, seal.body_hash, sizeof hash);
    hash[CODEC_HASH_BYTES - 1] ^= 0x80;
    assert_false(codec_receipt_verifies(receipt, hash, hub.public_key));
    receipt->signature.data[0] ^= 0x01;
    assert_false(codec_receipt_verifies(receipt, seal.body_hash, hub.public_key));
    receipt->signature.data[0] ^= 0x01;
    receipt->signature.len = CODEC_SIGNATURE_BYTES - 1;
    assert_false(codec_receipt_verifies(receipt, seal.body_hash, hub.public_key));
    receipt->signature.len = CODEC_SIGNATURE_BYTES;
    assert_true(codec_receipt_verifies(receipt, seal.body_hash, hub.public_key));
    codec_payload_free(opened);
    free(bytes);
    free(body);
}

static void an_unsigned_stamp_has_no_signature_and_does_not_verify(void **state)
{
    (void)state;
    pair_t county = a_pair(), hub = a_pair();
    uint8_t *body, *bytes;
    size_t len, bytes_len;
    return_body(&body, &len);
    assert_int_equal(codec_payload_sign(body, len, "530102", county.public_key, county.secret_key,
                                        &bytes, &bytes_len),
                     0);
    uint8_t hash[CODEC_HASH_BYTES];
    crypto_generichash(hash, sizeof hash, body, len, NULL, 0);
    /* a body hash without a key, and neither */
    bytes = stamped(bytes, &bytes_len, "530100", 1531616400, hash, NULL);
    bytes = stamped(bytes, &bytes_len, "530000", 1531620000, NULL, NULL);
    Shifan__Payload *opened = codec_payload_open(NULL, bytes, bytes_len, NULL);
    assert_non_null(opened);
    assert_int_equal(opened->n_receipts, 2);
    for (size_t i = 0; i < 2; i++) {
        assert_false(opened->receipts[i]->has_signature);
        assert_int_equal(opened->receipts[i]->signature.len, 0);
        assert_false(codec_receipt_verifies(opened->receipts[i], hash, hub.public_key));
    }
    assert_int_equal(opened->receipts[0]->claimed_before, 1531616400 - 600);
    codec_payload_free(opened);
    free(bytes);
    free(body);
}

/* Packs what a payload holds, to compare two decodings of it. */
static uint8_t *repacked(const Shifan__Payload *payload, size_t *len)
{
    *len = shifan__payload__get_packed_size(payload);
    uint8_t *out = malloc(*len ? *len : 1);
    shifan__payload__pack(payload, out);
    return out;
}

static void an_arena_opens_as_malloc_does(void **state)
{
    (void)state;
    pair_t county = a_pair(), hub = a_pair();
    uint8_t *body, *sealed, *with_receipts, *flipped, *nested, hash[CODEC_HASH_BYTES];
    size_t len, sealed_len, receipts_len, flipped_len, nested_len;
    return_body(&body, &len);
    crypto_generichash(hash, sizeof hash, body, len, NULL, 0);
    assert_int_equal(codec_payload_sign(body, len, "530102", county.public_key, county.secret_key,
                                        &sealed, &sealed_len),
                     0);
    receipts_len = sealed_len;
    with_receipts = malloc(sealed_len);
    memcpy(with_receipts, sealed, sealed_len);
    with_receipts = stamped(with_receipts, &receipts_len, "530100", 1531616400, hash, &hub);
    with_receipts = stamped(with_receipts, &receipts_len, "530000", 1531620000, NULL, NULL);
    flipped_len = sealed_len;
    flipped = malloc(sealed_len);
    memcpy(flipped, sealed, sealed_len);
    find(flipped, flipped_len, "2.1 den")[0] = '3';
    assert_int_equal(codec_payload_sign(body, len, "530102", county.public_key, county.secret_key,
                                        &nested, &nested_len),
                     0);
    uint8_t signature[CODEC_SIGNATURE_BYTES], *nested_item;
    size_t nested_item_len;
    sign_body(nested, nested_len, &county, signature);
    a_signed_item(nested, nested_len, signature, sizeof signature, "530102", county.public_key,
                  CODEC_SIGN_PUBLIC_BYTES, &nested_item, &nested_item_len);
    struct {
        const uint8_t *bytes;
        size_t len;
        bool opens;
    } cases[] = {{body, len, true},
                 {sealed, sealed_len, true},
                 {with_receipts, receipts_len, true},
                 {flipped, flipped_len, true},
                 {nested_item, nested_item_len, false}};
    /* small enough that the receipts fall back to malloc */
    codec_arena_t *arena = codec_arena_new(512, NULL);
    assert_non_null(arena);
    for (int round = 0; round < 2; round++) {
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            codec_seal_t plain, in_arena;
            Shifan__Payload *a = codec_payload_open(NULL, cases[i].bytes, cases[i].len, &plain);
            Shifan__Payload *b = codec_payload_open(arena, cases[i].bytes, cases[i].len, &in_arena);
            assert_memory_equal(&plain, &in_arena, sizeof plain);
            if (!cases[i].opens) {
                assert_null(a);
                assert_null(b);
                continue;
            }
            assert_non_null(a);
            assert_non_null(b);
            size_t a_len, b_len;
            uint8_t *a_bytes = repacked(a, &a_len), *b_bytes = repacked(b, &b_len);
            assert_int_equal(a_len, b_len);
            assert_memory_equal(a_bytes, b_bytes, a_len);
            assert_int_equal(a->n_receipts, b->n_receipts);
            for (size_t r = 0; r < b->n_receipts; r++)
                assert_int_equal(
                    codec_receipt_verifies(a->receipts[r], plain.body_hash, hub.public_key),
                    codec_receipt_verifies(b->receipts[r], in_arena.body_hash, hub.public_key));
            free(a_bytes);
            free(b_bytes);
            codec_payload_free(a);
            codec_payload_free_arena(arena, b);
        }
    }
    codec_arena_destroy(&arena);
    free(nested_item);
    free(nested);
    free(flipped);
    free(with_receipts);
    free(sealed);
    free(body);
}

/* ---- key rotations ---- */

typedef struct {
    pair_t old_pair, new_pair;
    uint8_t signature[CODEC_SIGNATURE_BYTES];
    char curve_key[41];
    Shifan__KeyAnnouncement ann;
} rotation_t;

/* A rotation of 530102 from old_pair to new_pair, as node_rotate.c makes it. */
static void a_rotation(rotation_t *r)
{
    r->old_pair = a_pair();
    r->new_pair = a_pair();
    memset(r->curve_key, 'k', 40);
    r->curve_key[40] = '\0';
    shifan__key_announcement__init(&r->ann);
    r->ann.unit = "530102";
    r->ann.sign_key.data = r->new_pair.public_key;
    r->ann.sign_key.len = CODEC_SIGN_PUBLIC_BYTES;
    r->ann.made_at = 1531616400;
    r->ann.has_previous_key = true;
    r->ann.previous_key.data = r->old_pair.public_key;
    r->ann.previous_key.len = CODEC_SIGN_PUBLIC_BYTES;
    r->ann.curve_key = r->curve_key;
    assert_int_equal(codec_rotation_sign(&r->ann, r->old_pair.secret_key, r->signature), 0);
    r->ann.has_previous_signature = true;
    r->ann.previous_signature.data = r->signature;
    r->ann.previous_signature.len = sizeof r->signature;
}

static void a_rotation_signed_by_the_old_key_verifies(void **state)
{
    (void)state;
    rotation_t r;
    a_rotation(&r);
    assert_true(codec_rotation_verifies(&r.ann));
    /* it survives the wire */
    Shifan__Payload payload = SHIFAN__PAYLOAD__INIT;
    payload.body_case = SHIFAN__PAYLOAD__BODY_KEY;
    payload.key = &r.ann;
    uint8_t *bytes;
    size_t len;
    assert_int_equal(codec_payload_pack(&payload, &bytes, &len), 0);
    Shifan__Payload *decoded = codec_payload_unpack(bytes, len);
    assert_non_null(decoded);
    assert_true(codec_rotation_verifies(decoded->key));
    codec_payload_free(decoded);
    free(bytes);
    /* without a curve key too */
    r.ann.curve_key = NULL;
    assert_int_equal(codec_rotation_sign(&r.ann, r.old_pair.secret_key, r.signature), 0);
    assert_true(codec_rotation_verifies(&r.ann));
}

static void a_rotation_changed_after_signing_does_not_verify(void **state)
{
    (void)state;
    rotation_t r;
    a_rotation(&r);
    r.ann.unit = "530103";
    assert_false(codec_rotation_verifies(&r.ann));
    r.ann.unit = "530102";
    r.new_pair.public_key[31] ^= 0x01;
    assert_false(codec_rotation_verifies(&r.ann));
    r.new_pair.public_key[31] ^= 0x01;
    r.curve_key[0] = 'K';
    assert_false(codec_rotation_verifies(&r.ann));
    r.curve_key[0] = 'k';
    r.ann.curve_key = NULL;
    assert_false(codec_rotation_verifies(&r.ann));
    r.ann.curve_key = r.curve_key;
    r.ann.made_at += 1;
    assert_false(codec_rotation_verifies(&r.ann));
    r.ann.made_at -= 1;
    assert_true(codec_rotation_verifies(&r.ann));
}

static void a_rotation_needs_the_signature_of_the_key_it_names(void **state)
{
    (void)state;
    rotation_t r;
    a_rotation(&r);
    /* previous_key is another key than the one that signed */
    pair_t other = a_pair();
    r.ann.previous_key.data = other.public_key;
    assert_false(codec_rotation_verifies(&r.ann));
    r.ann.previous_key.data = r.new_pair.public_key;
    assert_false(codec_rotation_verifies(&r.ann));
    r.ann.previous_key.data = r.old_pair.public_key;
    assert_true(codec_rotation_verifies(&r.ann));
    /* signed by the new key instead of the old one */
    uint8_t by_new[CODEC_SIGNATURE_BYTES];
    assert_int_equal(codec_rotation_sign(&r.ann, r.new_pair.secret_key, by_new), 0);
    r.ann.previous_signature.data = by_new;
    assert_false(codec_rotation_verifies(&r.ann));
    r.ann.previous_signature.data = r.signature;
    /* missing or short parts */
    r.ann.has_previous_signature = false;
    assert_false(codec_rotation_verifies(&r.ann));
    r.ann.has_previous_signature = true;
    r.ann.previous_signature.len = CODEC_SIGNATURE_BYTES - 1;
    assert_false(codec_rotation_verifies(&r.ann));
    r.ann.previous_signature.len = CODEC_SIGNATURE_BYTES;
    r.ann.has_previous_key = false;
    assert_false(codec_rotation_verifies(&r.ann));
    r.ann.has_previous_key = true;
    assert_true(codec_rotation_verifies(&r.ann));
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_batch_round_trips),
        cmocka_unit_test(empty_and_oversized_frames_are_refused),
        cmocka_unit_test(every_truncation_fails_cleanly_or_decodes_a_prefix),
        cmocka_unit_test(random_bytes_never_crash),
        cmocka_unit_test(wrong_version_and_gaps_are_protocol_errors),
        cmocka_unit_test(appended_receipts_decode_in_order),
        cmocka_unit_test(field_number_zero_is_refused_at_any_depth),
        cmocka_unit_test(an_arena_decodes_messages_larger_than_itself),
        cmocka_unit_test(signing_then_opening_gives_the_body_and_its_seal),
        cmocka_unit_test(a_flipped_body_byte_does_not_verify),
        cmocka_unit_test(a_signature_of_another_key_does_not_verify),
        cmocka_unit_test(a_signed_item_of_the_wrong_shape_does_not_open),
        cmocka_unit_test(a_signed_body_that_is_signed_or_carries_receipts_does_not_open),
        cmocka_unit_test(signing_a_signed_payload_is_refused),
        cmocka_unit_test(an_unsigned_payload_opens_unsealed),
        cmocka_unit_test(receipts_on_a_signed_payload_come_out_on_the_body_in_order),
        cmocka_unit_test(a_signed_receipt_verifies_only_as_it_was_stamped),
        cmocka_unit_test(an_unsigned_stamp_has_no_signature_and_does_not_verify),
        cmocka_unit_test(an_arena_opens_as_malloc_does),
        cmocka_unit_test(a_rotation_signed_by_the_old_key_verifies),
        cmocka_unit_test(a_rotation_changed_after_signing_does_not_verify),
        cmocka_unit_test(a_rotation_needs_the_signature_of_the_key_it_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
