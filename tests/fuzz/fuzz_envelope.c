/* fuzz_envelope: one link frame, as the link receives it (codec_unpack).
 *
 * Properties: no sanitizer report; a refused frame says why (SF_EPROTO or
 * SF_ETOOBIG); an accepted frame keeps codec.h's promises (version 1, a
 * body, at most CODEC_MAX_ITEMS items of at most CODEC_MAX_PAYLOAD bytes in
 * ascending seq without gaps) and packs again into a frame that decodes,
 * with the same body. */
#include "fuzz_common.h"

#include "base/error.h"

#include <zmq.h>

static void check_batch(const Shifan__Batch *batch)
{
    if (batch->n_items > CODEC_MAX_ITEMS)
        fuzz_fail("a batch of %zu items was accepted", batch->n_items);
    for (size_t i = 0; i < batch->n_items; i++) {
        if (batch->items[i]->payload.len > CODEC_MAX_PAYLOAD)
            fuzz_fail("an item of %zu bytes was accepted", batch->items[i]->payload.len);
        if (i > 0 && batch->items[i]->seq != batch->items[i - 1]->seq + 1)
            fuzz_fail("a batch with a gap after item %zu was accepted", i - 1);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int err = 1;
    Shifan__Envelope *envelope = codec_unpack(data, size, &err);
    if (!envelope) {
        if (err != SF_EPROTO && err != SF_ETOOBIG)
            fuzz_fail("a refused frame gave error %d", err);
        return 0;
    }
    if (err != 0)
        fuzz_fail("an accepted frame gave error %d", err);
    if (envelope->version != CODEC_WIRE_VERSION ||
        envelope->body_case == SHIFAN__ENVELOPE__BODY__NOT_SET)
        fuzz_fail("a frame of version %u, body %d was accepted", envelope->version,
                  (int)envelope->body_case);
    if (envelope->body_case == SHIFAN__ENVELOPE__BODY_BATCH)
        check_batch(envelope->batch);

    zmq_msg_t msg;
    int rc = codec_pack_msg(envelope, &msg);
    if (rc == 0) {
        int again = 1;
        Shifan__Envelope *repacked = codec_unpack(zmq_msg_data(&msg), zmq_msg_size(&msg), &again);
        if (!repacked)
            fuzz_fail("an accepted frame, packed again, is refused (%d)", again);
        if (repacked->body_case != envelope->body_case)
            fuzz_fail("packing changed the body from %d to %d", (int)envelope->body_case,
                      (int)repacked->body_case);
        codec_free(repacked);
        zmq_msg_close(&msg);
    } else if (rc != SF_ETOOBIG) {
        /* Unknown fields are kept and packed again (trap P6), and a varint
         * may have been sent longer than needed: the size can change, but
         * only past CODEC_MAX_FRAME may packing fail. */
        fuzz_fail("an accepted frame does not pack again (%d)", rc);
    }
    codec_free(envelope);
    return 0;
}
