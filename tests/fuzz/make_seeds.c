/* make_seeds OUTDIR: writes the binary seed corpus of the fuzz harnesses,
 * made by the library itself from the inputs the unit tests use, so that
 * no serialized blob is committed and the seeds follow the schema:
 *
 *   OUTDIR/payload/   one Payload of each kind (report, inspection, return,
 *                     programme, recommendation, evaluation result, key
 *                     confirmation), and signed ones (docs/signing.md): a
 *                     report, the same with a signed receipt, a key rotation
 *   OUTDIR/envelope/  one frame of each kind, a batch carrying payloads
 *   OUTDIR/apply/     a selector byte (fuzz_apply.c) + a payload, for each
 *                     node and sender that takes that kind
 *   OUTDIR/programme_json/  the embedded programme and Qinhuangdao 2018
 *
 * The signing keys come from constant seeds, so the seeds are the same on
 * every run. scripts/fuzz.sh runs it into its scratch corpus before each
 * run. */
#include "base/error.h"
#include "transport/codec.h"
#include "transport/package.h"
#include "domain/engine.h"
#include "domain/programme.h"
#include "domain/render.h"
#include "domain/report.h"

#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zmq.h>

#ifndef SHIFAN_SOURCE_DIR
#error "SHIFAN_SOURCE_DIR: set by CMakeLists.txt"
#endif

/* The report of tests/unit/test_report.c, and an inspection of another county. */
static const char *const report_json =
    "{\"unit\":\"530102\",\"year\":2018,"
    "\"values\":{\"2.1\":{\"num\":912,\"den\":1000},\"1.1\":true,\"1.2c\":3,\"1.2a\":false,"
    "\"2.7\":{\"num\":0,\"den\":0}},"
    "\"comments\":{\"2.1\":\"含外来务工人员，见附表\"}}";
static const char *const inspection_json =
    "{\"unit\":\"530103\",\"year\":2018,\"values\":{\"2.1\":{\"num\":850,\"den\":1000},"
    "\"1.1\":true},\"comments\":{\"2.1\":\"抽查\"}}";

static const char *outdir;

static void write_seed(const char *dir, const char *name, const uint8_t *bytes, size_t len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", outdir, dir);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/%s/%s", outdir, dir, name);
    FILE *file = fopen(path, "wb");
    if (!file || fwrite(bytes, 1, len, file) != len || fclose(file) != 0) {
        fprintf(stderr, "make_seeds: cannot write %s\n", path);
        exit(1);
    }
}

/* fuzz_apply's input: the selector byte, then the payload. */
static void write_apply_seed(const char *name, uint8_t selector, const uint8_t *bytes, size_t len)
{
    uint8_t *buf = malloc(len + 1);
    if (!buf)
        exit(1);
    buf[0] = selector;
    memcpy(buf + 1, bytes, len);
    write_seed("apply", name, buf, len + 1);
    free(buf);
}

/* fuzz_apply.c: node = selector % 3 (county, hub, province), sender =
 * selector / 3 % 4 (hub: parent, 530102, 530103, a foreign county;
 * province: 530100, 530300, 530100, an unknown code). */
#define AT_COUNTY 0
#define AT_HUB_FROM_PARENT 1
#define AT_HUB_FROM_530102 (1 + 3 * 1)
#define AT_PROVINCE_FROM_530100 2

typedef struct {
    uint8_t *bytes;
    size_t len;
} blob_t;

static blob_t pack_payload(Shifan__Payload *payload)
{
    blob_t blob = {NULL, 0};
    if (codec_payload_pack(payload, &blob.bytes, &blob.len)) {
        fprintf(stderr, "make_seeds: cannot pack a payload\n");
        exit(1);
    }
    return blob;
}

static report_t *parse(const programme_t *programme, const char *text, const char *origin,
                       const char *id)
{
    sf_error_t error;
    report_t *report = report_load(text, strlen(text), "seed", NULL, programme, &error);
    if (!report) {
        fprintf(stderr, "make_seeds: %s\n", error.text);
        exit(1);
    }
    snprintf(report->report_id, sizeof report->report_id, "%s", id);
    snprintf(report->origin, sizeof report->origin, "%s", origin);
    snprintf(report->standard_id, sizeof report->standard_id, "%s",
             programme_standard_id(programme));
    report->version = 1;
    report->submitted_at = 1531616400;
    return report;
}

static blob_t report_payload(const report_t *report, Shifan__Payload__BodyCase body_case)
{
    struct Shifan__Report *wire = report_to_proto(report);
    Shifan__Payload payload = SHIFAN__PAYLOAD__INIT;
    payload.body_case = body_case;
    if (body_case == SHIFAN__PAYLOAD__BODY_REPORT)
        payload.report = wire;
    else
        payload.inspection = wire;
    blob_t blob = pack_payload(&payload);
    report_proto_free(wire);
    return blob;
}

static blob_t return_payload(void)
{
    Shifan__Return ret = SHIFAN__RETURN__INIT;
    ret.report_id = "530102-2018-v1-00000001";
    ret.unit = "530102";
    ret.year = 2018;
    ret.reason = "2.1 den";
    ret.returned_at = 1533000000;
    ret.by = "530100";
    Shifan__Payload payload = SHIFAN__PAYLOAD__INIT;
    payload.body_case = SHIFAN__PAYLOAD__BODY_RETURN_FOR_CORRECTION;
    payload.return_for_correction = &ret;
    return pack_payload(&payload);
}

static blob_t recommendation_payload(void)
{
    char *units[] = {"530102", "530103"};
    Shifan__Recommendation rec = SHIFAN__RECOMMENDATION__INIT;
    rec.prefecture = "530100";
    rec.year = 2018;
    rec.units = units;
    rec.n_units = 2;
    rec.confirmed = 1;
    rec.made_at = 1538300000;
    rec.revision = 1;
    Shifan__Payload payload = SHIFAN__PAYLOAD__INIT;
    payload.body_case = SHIFAN__PAYLOAD__BODY_RECOMMENDATION;
    payload.recommendation = &rec;
    return pack_payload(&payload);
}

static blob_t programme_payload(const char *text, const char *id, uint64_t revision)
{
    Shifan__Programme wire = SHIFAN__PROGRAMME__INIT;
    wire.programme_id = (char *)id;
    wire.revision = revision;
    wire.document.data = (uint8_t *)text;
    wire.document.len = strlen(text);
    wire.published_at = 1530000000;
    Shifan__Payload payload = SHIFAN__PAYLOAD__INIT;
    payload.body_case = SHIFAN__PAYLOAD__BODY_PROGRAMME;
    payload.programme = &wire;
    return pack_payload(&payload);
}

/* A real result: the report evaluated by the engine for its unit (a wider
 * scope makes seeds of 100 KiB and more), as JSON. */
static blob_t evaluation_payload(const programme_t *programme, const report_t *report)
{
    engine_input_t *input = engine_input_new(programme, NULL);
    engine_result_t *result = NULL;
    char err[512], *text = NULL;
    size_t len = 0;
    if (!input || engine_input_add_report(input, report, 1531620000) ||
        engine_evaluate(input, 2018, 1542250000, "530102", &result, err, sizeof err) ||
        render_json(result, &text, &len)) {
        fprintf(stderr, "make_seeds: cannot evaluate the seed report\n");
        exit(1);
    }
    Shifan__EvaluationResult wire = SHIFAN__EVALUATION_RESULT__INIT;
    wire.year = 2018;
    wire.document.data = (uint8_t *)text;
    wire.document.len = len;
    wire.evaluated_at = 1542250000;
    Shifan__Payload payload = SHIFAN__PAYLOAD__INIT;
    payload.body_case = SHIFAN__PAYLOAD__BODY_EVALUATION;
    payload.evaluation = &wire;
    blob_t blob = pack_payload(&payload);
    free(text);
    engine_result_destroy(&result);
    engine_input_destroy(&input);
    return blob;
}

/* ---- signed items (docs/signing.md) ---- */

typedef struct {
    uint8_t public_key[CODEC_SIGN_PUBLIC_BYTES];
    uint8_t secret_key[CODEC_SIGN_SECRET_BYTES];
} pair_t;

/* The pair of a constant seed: deterministic seeds. */
static pair_t seed_pair(char fill)
{
    uint8_t seed[crypto_sign_SEEDBYTES];
    memset(seed, fill, sizeof seed);
    pair_t pair;
    crypto_sign_seed_keypair(pair.public_key, pair.secret_key, seed);
    return pair;
}

static blob_t signed_payload(const blob_t *body, const char *signer, const pair_t *pair)
{
    blob_t blob = {NULL, 0};
    if (codec_payload_sign(body->bytes, body->len, signer, pair->public_key, pair->secret_key,
                           &blob.bytes, &blob.len)) {
        fprintf(stderr, "make_seeds: cannot sign a payload\n");
        exit(1);
    }
    return blob;
}

/* The signed item as the hub stores and forwards it: its signed receipt
 * over the body's hash. */
static blob_t with_signed_receipt(const blob_t *signed_item, const blob_t *body, const pair_t *hub)
{
    uint8_t body_hash[CODEC_HASH_BYTES];
    crypto_generichash(body_hash, sizeof body_hash, body->bytes, body->len, NULL, 0);
    codec_receipt_t receipt = {.node = "530100",
                               .received_at = 1531620000,
                               .claimed_before = 1531610000,
                               .session_since = 1531600000,
                               .body_hash = body_hash,
                               .secret_key = hub->secret_key};
    blob_t blob = {NULL, 0};
    if (codec_payload_stamp(signed_item->bytes, signed_item->len, &receipt, &blob.bytes,
                            &blob.len)) {
        fprintf(stderr, "make_seeds: cannot stamp a receipt\n");
        exit(1);
    }
    return blob;
}

/* 530102 rotates from old_pair to new_pair, as node_rotate.c does: the
 * announcement carries the old key's signature and is signed by the new. */
static blob_t rotation_payload(const pair_t *old_pair, const pair_t *new_pair)
{
    uint8_t previous_signature[CODEC_SIGNATURE_BYTES];
    Shifan__KeyAnnouncement ann = SHIFAN__KEY_ANNOUNCEMENT__INIT;
    ann.unit = "530102";
    ann.sign_key.data = (uint8_t *)new_pair->public_key;
    ann.sign_key.len = CODEC_SIGN_PUBLIC_BYTES;
    ann.made_at = 1531700000;
    ann.has_previous_key = 1;
    ann.previous_key.data = (uint8_t *)old_pair->public_key;
    ann.previous_key.len = CODEC_SIGN_PUBLIC_BYTES;
    ann.curve_key = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
    if (codec_rotation_sign(&ann, old_pair->secret_key, previous_signature))
        exit(1);
    ann.has_previous_signature = 1;
    ann.previous_signature.data = previous_signature;
    ann.previous_signature.len = sizeof previous_signature;
    Shifan__Payload payload = SHIFAN__PAYLOAD__INIT;
    payload.body_case = SHIFAN__PAYLOAD__BODY_KEY;
    payload.key = &ann;
    blob_t body = pack_payload(&payload);
    blob_t blob = signed_payload(&body, "530102", new_pair);
    free(body.bytes);
    return blob;
}

/* The province's word to 530102 that it holds key for it. */
static blob_t confirmation_payload(const pair_t *key)
{
    Shifan__KeyConfirmation conf = SHIFAN__KEY_CONFIRMATION__INIT;
    conf.unit = "530102";
    conf.sign_key.data = (uint8_t *)key->public_key;
    conf.sign_key.len = CODEC_SIGN_PUBLIC_BYTES;
    conf.since = 1531620000;
    conf.registered_by = "530100";
    Shifan__Payload payload = SHIFAN__PAYLOAD__INIT;
    payload.body_case = SHIFAN__PAYLOAD__BODY_KEY_CONFIRMATION;
    payload.key_confirmation = &conf;
    return pack_payload(&payload);
}

/* fuzz_package's input: the plaintext behind a package's seal, for the
 * recipient key fuzz_package.c derives from its constant seed. */
static void write_package_seed(const pair_t *sender, const blob_t *items, size_t count)
{
    uint8_t seed[32] = {7}, recipient_public[crypto_box_PUBLICKEYBYTES],
            recipient_secret[crypto_box_SECRETKEYBYTES];
    crypto_box_seed_keypair(recipient_public, recipient_secret, seed);
    package_item_t list[8];
    for (size_t i = 0; i < count && i < 8; i++)
        list[i] = (package_item_t){items[i].bytes, items[i].len};
    package_t package = {.from = "530102",
                         .epoch = 0x1122334455667788u,
                         .first_seq = 3,
                         .made_at = 1531620000,
                         .items = list,
                         .item_count = count};
    uint8_t *file = NULL;
    size_t len = 0;
    sf_error_t error;
    if (package_seal(&package, sender->public_key, sender->secret_key, recipient_public, &file,
                     &len, &error)) {
        fprintf(stderr, "make_seeds: cannot seal a package: %s\n", error.text);
        exit(1);
    }
    size_t plain_len = len - PACKAGE_MAGIC_LEN - crypto_box_SEALBYTES;
    uint8_t *plain = malloc(plain_len ? plain_len : 1);
    if (!plain || crypto_box_seal_open(plain, file + PACKAGE_MAGIC_LEN, len - PACKAGE_MAGIC_LEN,
                                       recipient_public, recipient_secret) != 0) {
        fprintf(stderr, "make_seeds: the package seed does not open\n");
        exit(1);
    }
    write_seed("package", "two-items", plain, plain_len);
    free(plain);
    free(file);
}

static void write_envelope(const char *name, Shifan__Envelope *envelope)
{
    envelope->version = CODEC_WIRE_VERSION;
    zmq_msg_t msg;
    if (codec_pack_msg(envelope, &msg)) {
        fprintf(stderr, "make_seeds: cannot pack envelope %s\n", name);
        exit(1);
    }
    write_seed("envelope", name, zmq_msg_data(&msg), zmq_msg_size(&msg));
    zmq_msg_close(&msg);
}

static void write_envelopes(const blob_t *payloads, size_t count)
{
    uint8_t digest[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    Shifan__Envelope envelope = SHIFAN__ENVELOPE__INIT;

    Shifan__Hello hello = SHIFAN__HELLO__INIT;
    hello.code = "530102";
    hello.up_epoch = 0x1122334455667788ULL;
    hello.up_acked = 7;
    hello.down_epoch = 0x8877665544332211ULL;
    hello.down_applied = 3;
    hello.software = "shifan 0.1";
    hello.has_down_digest = 1;
    hello.down_digest.data = digest;
    hello.down_digest.len = sizeof digest;
    envelope.body_case = SHIFAN__ENVELOPE__BODY_HELLO;
    envelope.hello = &hello;
    write_envelope("hello", &envelope);

    Shifan__Welcome welcome = SHIFAN__WELCOME__INIT;
    welcome.code = "530100";
    welcome.up_epoch = hello.up_epoch;
    welcome.up_applied = 7;
    welcome.down_epoch = hello.down_epoch;
    welcome.down_acked = 3;
    welcome.heartbeat_ms = 1000;
    welcome.has_up_digest = 1;
    welcome.up_digest.data = digest;
    welcome.up_digest.len = sizeof digest;
    shifan__envelope__init(&envelope);
    envelope.body_case = SHIFAN__ENVELOPE__BODY_WELCOME;
    envelope.welcome = &welcome;
    write_envelope("welcome", &envelope);

    Shifan__Item *items = calloc(count, sizeof *items), **ptrs = calloc(count, sizeof *ptrs);
    if (!items || !ptrs)
        exit(1);
    for (size_t i = 0; i < count; i++) {
        shifan__item__init(&items[i]);
        items[i].seq = 8 + i;
        items[i].payload.data = payloads[i].bytes;
        items[i].payload.len = payloads[i].len;
        ptrs[i] = &items[i];
    }
    Shifan__Batch batch = SHIFAN__BATCH__INIT;
    batch.epoch = hello.up_epoch;
    batch.n_items = count;
    batch.items = ptrs;
    shifan__envelope__init(&envelope);
    envelope.body_case = SHIFAN__ENVELOPE__BODY_BATCH;
    envelope.batch = &batch;
    write_envelope("batch", &envelope);
    free(items);
    free(ptrs);

    Shifan__Ack ack = SHIFAN__ACK__INIT;
    ack.epoch = hello.up_epoch;
    ack.applied = 9;
    shifan__envelope__init(&envelope);
    envelope.body_case = SHIFAN__ENVELOPE__BODY_ACK;
    envelope.ack = &ack;
    write_envelope("ack", &envelope);

    Shifan__Ping ping = SHIFAN__PING__INIT;
    ping.nonce = 42;
    shifan__envelope__init(&envelope);
    envelope.body_case = SHIFAN__ENVELOPE__BODY_PING;
    envelope.ping = &ping;
    write_envelope("ping", &envelope);

    Shifan__Pong pong = SHIFAN__PONG__INIT;
    pong.nonce = 42;
    shifan__envelope__init(&envelope);
    envelope.body_case = SHIFAN__ENVELOPE__BODY_PONG;
    envelope.pong = &pong;
    write_envelope("pong", &envelope);

    Shifan__Refusal refusal = SHIFAN__REFUSAL__INIT;
    refusal.reason = SHIFAN__REFUSAL__REASON__NOT_YOUR_UNIT;
    refusal.has_seq = 1;
    refusal.seq = 8;
    refusal.detail = "the key of 530102 may not report for unit 530302";
    shifan__envelope__init(&envelope);
    envelope.body_case = SHIFAN__ENVELOPE__BODY_REFUSAL;
    envelope.refusal = &refusal;
    write_envelope("refusal", &envelope);
}

static char *read_text(const char *path)
{
    FILE *file = fopen(path, "rb");
    char *text = calloc(1, PROGRAMME_MAX_BYTES + 1);
    if (!file || !text) {
        fprintf(stderr, "make_seeds: cannot read %s\n", path);
        exit(1);
    }
    size_t len = fread(text, 1, PROGRAMME_MAX_BYTES, file);
    fclose(file);
    text[len] = '\0';
    return text;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: make_seeds OUTDIR\n");
        return 2;
    }
    outdir = argv[1];
    mkdir(outdir, 0755);
    if (sodium_init() < 0)
        return 1;
    programme_t *programme = programme_load_default(NULL);
    if (!programme)
        return 1;
    report_t *report = parse(programme, report_json, "530102", "530102-2018-v1-3fa9c1d2");
    report_t *inspection =
        parse(programme, inspection_json, "530100", "530103-2018-i-530100-0000abcd");

    blob_t report_blob = report_payload(report, SHIFAN__PAYLOAD__BODY_REPORT);
    blob_t inspection_blob = report_payload(inspection, SHIFAN__PAYLOAD__BODY_INSPECTION);
    blob_t return_blob = return_payload();
    blob_t recommendation_blob = recommendation_payload();
    const char *canonical = programme_json(programme);
    blob_t programme_blob = programme_payload(canonical, programme_id(programme), 2);
    char qinhuangdao_path[4096];
    snprintf(qinhuangdao_path, sizeof qinhuangdao_path, "%s/programmes/qinhuangdao-2018.json",
             SHIFAN_SOURCE_DIR);
    char *qinhuangdao = read_text(qinhuangdao_path);
    char *mini = read_text(SHIFAN_SOURCE_DIR "/tests/fuzz/corpus/programme_json/mini.json");
    blob_t mini_blob = programme_payload(mini, "mini", 3);
    blob_t evaluation_blob = evaluation_payload(programme, report);
    /* As the hub forwards it: with its receipt appended. */
    blob_t stamped = {NULL, 0};
    if (codec_payload_append_receipt(report_blob.bytes, report_blob.len, "530100", 1531620000,
                                     &stamped.bytes, &stamped.len))
        return 1;

    /* Times at both ends of int64, as a hub's clock or a forged record may
     * give them (test_apply: times_out_of_range_are_shown_...). */
    report->submitted_at = INT64_MAX;
    blob_t far_blob = report_payload(report, SHIFAN__PAYLOAD__BODY_REPORT), far = {NULL, 0};
    if (codec_payload_append_receipt(far_blob.bytes, far_blob.len, "530100", INT64_MIN, &far.bytes,
                                     &far.len))
        return 1;
    write_apply_seed("province-report-far-times", AT_PROVINCE_FROM_530100, far.bytes, far.len);
    free(far_blob.bytes);
    free(far.bytes);

    /* Signed: by the county, a receipt of the hub, a rotation, and the
     * province's confirmation (which travels signed by the province). */
    pair_t county = seed_pair('c'), rotated = seed_pair('n'), hub = seed_pair('h'),
           province = seed_pair('p');
    blob_t signed_report = signed_payload(&report_blob, "530102", &county);
    blob_t signed_stamped = with_signed_receipt(&signed_report, &report_blob, &hub);
    blob_t rotation_blob = rotation_payload(&county, &rotated);
    blob_t confirmation_blob = confirmation_payload(&county);
    blob_t signed_confirmation = signed_payload(&confirmation_blob, "530000", &province);
    write_seed("payload", "report-signed", signed_report.bytes, signed_report.len);
    write_seed("payload", "report-signed-with-receipt", signed_stamped.bytes, signed_stamped.len);
    write_seed("payload", "key-rotation", rotation_blob.bytes, rotation_blob.len);
    write_seed("payload", "key-confirmation", confirmation_blob.bytes, confirmation_blob.len);
    write_seed("payload", "key-confirmation-signed", signed_confirmation.bytes,
               signed_confirmation.len);
    write_apply_seed("hub-report-signed", AT_HUB_FROM_530102, signed_report.bytes,
                     signed_report.len);
    write_apply_seed("province-report-signed", AT_PROVINCE_FROM_530100, signed_stamped.bytes,
                     signed_stamped.len);
    write_apply_seed("hub-key-rotation", AT_HUB_FROM_530102, rotation_blob.bytes,
                     rotation_blob.len);
    write_apply_seed("county-key-confirmation", AT_COUNTY, signed_confirmation.bytes,
                     signed_confirmation.len);

    write_seed("payload", "report", report_blob.bytes, report_blob.len);
    write_seed("payload", "report-with-receipt", stamped.bytes, stamped.len);
    write_seed("payload", "inspection", inspection_blob.bytes, inspection_blob.len);
    write_seed("payload", "return", return_blob.bytes, return_blob.len);
    write_seed("payload", "recommendation", recommendation_blob.bytes, recommendation_blob.len);
    write_seed("payload", "programme", programme_blob.bytes, programme_blob.len);
    write_seed("payload", "programme-mini", mini_blob.bytes, mini_blob.len);
    write_seed("payload", "evaluation", evaluation_blob.bytes, evaluation_blob.len);

    write_apply_seed("hub-report", AT_HUB_FROM_530102, report_blob.bytes, report_blob.len);
    write_apply_seed("province-report", AT_PROVINCE_FROM_530100, stamped.bytes, stamped.len);
    write_apply_seed("province-inspection", AT_PROVINCE_FROM_530100, inspection_blob.bytes,
                     inspection_blob.len);
    write_apply_seed("county-return", AT_COUNTY, return_blob.bytes, return_blob.len);
    write_apply_seed("province-return", AT_PROVINCE_FROM_530100, return_blob.bytes,
                     return_blob.len);
    write_apply_seed("province-recommendation", AT_PROVINCE_FROM_530100, recommendation_blob.bytes,
                     recommendation_blob.len);
    write_apply_seed("hub-programme", AT_HUB_FROM_PARENT, programme_blob.bytes, programme_blob.len);
    write_apply_seed("county-programme-mini", AT_COUNTY, mini_blob.bytes, mini_blob.len);
    write_apply_seed("hub-evaluation", AT_HUB_FROM_PARENT, evaluation_blob.bytes,
                     evaluation_blob.len);
    write_apply_seed("county-evaluation", AT_COUNTY, evaluation_blob.bytes, evaluation_blob.len);

    blob_t batch[] = {report_blob, return_blob, recommendation_blob, signed_stamped};
    write_envelopes(batch, 4);
    blob_t carried[] = {signed_report, rotation_blob};
    write_package_seed(&county, carried, 2);

    write_seed("programme_json", "yunnan-2017.json", (const uint8_t *)canonical, strlen(canonical));
    write_seed("programme_json", "qinhuangdao-2018.json", (const uint8_t *)qinhuangdao,
               strlen(qinhuangdao));

    blob_t all[] = {report_blob,         stamped,        inspection_blob, return_blob,
                    recommendation_blob, programme_blob, mini_blob,       evaluation_blob,
                    signed_report,       signed_stamped, rotation_blob,   confirmation_blob,
                    signed_confirmation};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        free(all[i].bytes);
    free(qinhuangdao);
    free(mini);
    report_destroy(&report);
    report_destroy(&inspection);
    programme_destroy(&programme);
    return 0;
}
