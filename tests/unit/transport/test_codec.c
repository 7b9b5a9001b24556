/* The wire codec: valid frames round-trip; empty, oversized, truncated and
 * random frames give clean errors (run under ASan in CI); receipts appended
 * to payload bytes decode as receipts. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_batch_round_trips),
        cmocka_unit_test(empty_and_oversized_frames_are_refused),
        cmocka_unit_test(every_truncation_fails_cleanly_or_decodes_a_prefix),
        cmocka_unit_test(random_bytes_never_crash),
        cmocka_unit_test(wrong_version_and_gaps_are_protocol_errors),
        cmocka_unit_test(appended_receipts_decode_in_order),
        cmocka_unit_test(field_number_zero_is_refused_at_any_depth),
        cmocka_unit_test(an_arena_decodes_messages_larger_than_itself),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
