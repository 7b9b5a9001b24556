/* fuzz_payload: one item's payload, decoded as the receiving node does
 * (codec_payload_unpack and its arena variant on the daemon's hot path),
 * then each kind's own check: report_from_proto for reports and
 * inspections, programme_load_json for a published programme's document,
 * the JSON of an evaluation result.
 *
 * Properties: no sanitizer report or leak; the heap and arena decoders
 * agree and pack to the same bytes; a receipt appended to an accepted
 * payload decodes as one more receipt; an accepted report or inspection
 * survives report_to_proto -> pack -> unpack -> report_from_proto
 * unchanged; an accepted programme's canonical text loads again into the
 * same canonical text (programme.h). */
#include "fuzz_common.h"

#include "base/error.h"
#include "domain/programme.h"

#include <jansson.h>

static codec_arena_t *small_arena, *large_arena;
static programme_t *yunnan; /* the embedded default: report_proto_fits's programme */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* A tiny arena makes most allocations fall back to malloc; the large
     * one is the daemon's (node.c). Both paths must free what they took. */
    small_arena = codec_arena_new(256, NULL);
    large_arena = codec_arena_new(2u << 20, NULL);
    yunnan = programme_load_default(NULL);
    if (!small_arena || !large_arena || !yunnan)
        abort();
    return 0;
}

static uint8_t *pack(const Shifan__Payload *payload, size_t *len)
{
    uint8_t *bytes = NULL;
    int rc = codec_payload_pack(payload, &bytes, len);
    if (rc == SF_ETOOBIG)
        return NULL; /* see check_arenas */
    if (rc)
        fuzz_fail("an accepted payload does not pack (%d)", rc);
    return bytes;
}

static void check_arenas(const uint8_t *data, size_t size, const Shifan__Payload *heap)
{
    codec_arena_t *arenas[] = {small_arena, large_arena};
    size_t heap_len = 0;
    /* Unknown fields are packed again and over-long varints shrink, so
     * a repack may exceed the limit (ETOOBIG), never fail otherwise. */
    uint8_t *heap_bytes = heap ? pack(heap, &heap_len) : NULL;
    for (size_t a = 0; a < 2; a++) {
        Shifan__Payload *arena = codec_payload_unpack_arena(arenas[a], data, size);
        if ((arena == NULL) != (heap == NULL))
            fuzz_fail("heap and arena decoders disagree (heap %p, arena %zu %p)", (void *)heap, a,
                      (void *)arena);
        if (arena && heap_bytes) {
            size_t len = 0;
            uint8_t *bytes = pack(arena, &len);
            if (!bytes || len != heap_len || memcmp(bytes, heap_bytes, len) != 0)
                fuzz_fail("heap and arena decodes pack differently (%zu, %zu bytes)", heap_len,
                          len);
            free(bytes);
        }
        codec_payload_free_arena(arenas[a], arena);
    }
    free(heap_bytes);
}

static void check_receipt(const uint8_t *data, size_t size, const Shifan__Payload *payload)
{
    uint8_t *stamped = NULL;
    size_t len = 0;
    int rc = codec_payload_append_receipt(data, size, "530100", 1531616400, &stamped, &len);
    if (rc == SF_ETOOBIG)
        return;
    if (rc)
        fuzz_fail("appending a receipt failed (%d)", rc);
    Shifan__Payload *decoded = codec_payload_unpack(stamped, len);
    free(stamped);
    if (!decoded)
        fuzz_fail("an accepted payload with a receipt appended does not decode");
    if (decoded->n_receipts != payload->n_receipts + 1 ||
        strcmp(decoded->receipts[payload->n_receipts]->node, "530100") != 0 ||
        decoded->receipts[payload->n_receipts]->received_at != 1531616400)
        fuzz_fail("the appended receipt is not the last of %zu", decoded->n_receipts);
    codec_payload_free(decoded);
}

/* Admission's one pass (report_proto_fits) may only say "fits" for a
 * report the long way takes: read without complaint, and every value found
 * in the programme with its kind (unit, year and standard are checked
 * apart, so they are set to ones the programme has). */
static void check_fits(const Shifan__Report *wire, const report_t *report, const char *err)
{
    if (!report_proto_fits(wire, yunnan))
        return;
    if (!report)
        fuzz_fail("report_proto_fits took a report that report_from_proto refuses: %s", err);
    report_t *copy = report_dup(report);
    if (!copy)
        abort();
    snprintf(copy->unit, sizeof copy->unit, "530102");
    copy->year = 2018;
    copy->standard_id[0] = '\0';
    char why[512];
    if (report_validate(copy, yunnan, "fuzz", why, sizeof why))
        fuzz_fail("report_proto_fits took a report that report_validate refuses: %s", why);
    report_destroy(&copy);
}

static void check_report(const Shifan__Report *wire, int body_case)
{
    char err[512];
    report_t *report = report_from_proto(wire, err, sizeof err);
    check_fits(wire, report, err);
    if (!report)
        return;
    fuzz_check_wire_round_trip(report, body_case);
    report_destroy(&report);
}

static void check_programme(const Shifan__Programme *wire)
{
    sf_error_t error;
    programme_t *programme = programme_load_json((const char *)wire->document.data,
                                                 wire->document.len, "programme", &error);
    if (!programme)
        return;
    const char *canonical = programme_json(programme);
    programme_t *again = programme_load_json(canonical, strlen(canonical), "canonical", &error);
    if (!again)
        fuzz_fail("a programme's canonical text does not load: %s", error.text);
    if (strcmp(programme_json(again), canonical) != 0)
        fuzz_fail("a programme's canonical text changed when loaded again");
    programme_destroy(&again);
    programme_destroy(&programme);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Shifan__Payload *payload = codec_payload_unpack(data, size);
    check_arenas(data, size, payload);
    if (!payload)
        return 0;
    if (payload->body_case == SHIFAN__PAYLOAD__BODY__NOT_SET)
        fuzz_fail("a payload without a body was accepted");
    check_receipt(data, size, payload);
    switch (payload->body_case) {
    case SHIFAN__PAYLOAD__BODY_REPORT:
        check_report(payload->report, SHIFAN__PAYLOAD__BODY_REPORT);
        break;
    case SHIFAN__PAYLOAD__BODY_INSPECTION:
        check_report(payload->inspection, SHIFAN__PAYLOAD__BODY_INSPECTION);
        break;
    case SHIFAN__PAYLOAD__BODY_PROGRAMME:
        check_programme(payload->programme);
        break;
    case SHIFAN__PAYLOAD__BODY_EVALUATION: {
        /* What tier_apply_evaluation accepts. */
        json_error_t error;
        json_t *document =
            json_loadb((const char *)payload->evaluation->document.data,
                       payload->evaluation->document.len, JSON_REJECT_DUPLICATES, &error);
        json_decref(document);
        break;
    }
    default:
        break; /* returns and recommendations are checked against a node: fuzz_apply */
    }
    codec_payload_free(payload);
    return 0;
}
