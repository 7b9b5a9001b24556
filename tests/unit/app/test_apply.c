/* The receiver's apply path (node_apply_payload) on real county, hub and
 * province stores: a malformed item is refused (LINK_REFUSED), never an
 * error, since an error aborts the link's transaction and the sender
 * resends the same item for ever. The cases come from tests/fuzz/fuzz_apply
 * (docs/fuzzing.md). Then the hub's signing policy (node_keys.c,
 * docs/signing.md): the first signed item registers a county's key, and
 * after that an item must be signed by a key registered for its maker and
 * valid when it was made. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "base/error.h"
#include "base/stime.h"
#include "storage/outbox.h"
#include "storage/signkeys.h"
#include "storage/store.h"
#include "transport/codec.h"
#include "transport/link.h"
#include "domain/engine.h"
#include "domain/render.h"
#include "app/node.h"
#include "report_fixture.h"

typedef struct {
    char dir[64];
    node_t *county, *hub, *province;
} fixture_t;

static node_t *make_node(fixture_t *f, const char *name, const node_init_options_t *options)
{
    char dir[128], err[512];
    snprintf(dir, sizeof dir, "%s/%s", f->dir, name);
    if (node_init(dir, options, err, sizeof err))
        fail_msg("init %s: %s", name, err);
    sf_error_t error = {0, ""};
    node_t *node = node_open(dir, options->role, &error);
    if (!node)
        fail_msg("open %s: %s", name, error.text);
    return node;
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/shifan-apply-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    char err[512];
    node_init_options_t province = {ROLE_PROVINCE, NULL, "tcp://127.0.0.1:7001", NULL, NULL, NULL};
    f->province = make_node(f, "province", &province);
    node_init_options_t hub = {ROLE_PREFECTURE,
                               "530100",
                               "tcp://127.0.0.1:7002",
                               "tcp://127.0.0.1:7001",
                               node_public_key(f->province),
                               NULL};
    f->hub = make_node(f, "hub", &hub);
    node_init_options_t county = {
        ROLE_COUNTY, "530102", NULL, "tcp://127.0.0.1:7002", node_public_key(f->hub), NULL};
    f->county = make_node(f, "county", &county);
    if (node_allow(f->province, "530100", node_public_key(f->hub), err, sizeof err) ||
        node_allow(f->hub, "530102", node_public_key(f->county), err, sizeof err))
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    node_destroy(&f->county);
    node_destroy(&f->hub);
    node_destroy(&f->province);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    int rc = system(cmd);
    free(f);
    return rc;
}

static int apply_return(node_t *node, const char *peer, const char *report_id, char *why,
                        size_t whysize)
{
    Shifan__Return ret = SHIFAN__RETURN__INIT;
    ret.report_id = (char *)report_id;
    ret.unit = "530102";
    ret.year = 2018;
    ret.reason = "2.1: the denominator is last year's";
    ret.returned_at = 1533000000;
    ret.by = "530100";
    Shifan__Payload payload = SHIFAN__PAYLOAD__INIT;
    payload.body_case = SHIFAN__PAYLOAD__BODY_RETURN_FOR_CORRECTION;
    payload.return_for_correction = &ret;
    uint8_t *bytes;
    size_t len;
    assert_int_equal(codec_payload_pack(&payload, &bytes, &len), 0);
    int rc = node_apply_payload(node, peer, bytes, len, why, whysize);
    free(bytes);
    return rc;
}

/* fuzz_apply: a Return whose report_id begins with a NUL (so is "" in C)
 * made the county's mdb_put fail (MDB_BAD_VALSIZE): a storage error, so
 * the hub would have resent it for ever. Same at the province, and for an
 * id longer than LMDB's 511-byte key limit. */
static void a_return_without_a_usable_report_id_is_refused(void **state)
{
    fixture_t *f = *state;
    char why[256], long_id[600];
    memset(long_id, 'x', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    assert_int_equal(apply_return(f->county, "", "", why, sizeof why), LINK_REFUSED);
    assert_non_null(strstr(why, "report_id"));
    assert_int_equal(apply_return(f->county, "", long_id, why, sizeof why), LINK_REFUSED);
    assert_int_equal(apply_return(f->province, "530100", "", why, sizeof why), LINK_REFUSED);
    assert_int_equal(apply_return(f->province, "530100", long_id, why, sizeof why), LINK_REFUSED);
    /* the well-formed return is applied */
    assert_int_equal(apply_return(f->county, "", "530102-2018-v1-00000001", why, sizeof why), 0);
    assert_int_equal(
        apply_return(f->province, "530100", "530102-2018-v1-00000001", why, sizeof why), 0);

    /* the very input fuzz_apply found (after its selector byte: the county) */
    static const uint8_t found[] = {
        0x62, 0x3b, 0x0a, 0x17, 0x00, 0x00, 0x00, 0x3e, 0x30, 0x32, 0x2d, 0x32, 0x30,
        0x2c, 0x38, 0x2d, 0x79, 0x65, 0x61, 0x72, 0x73, 0x30, 0x30, 0x30, 0x30, 0x30,
        0x31, 0x12, 0x06, 0x35, 0x33, 0x30, 0x31, 0x30, 0x32, 0x18, 0xe2, 0x0f, 0x22,
        0x07, 0x32, 0x2e, 0x31, 0x20, 0x64, 0x65, 0x6e, 0x28, 0xc0, 0xf2, 0xfe, 0xda,
        0x05, 0x32, 0x06, 0x35, 0x33, 0x30, 0x31, 0x30, 0x30};
    assert_int_equal(node_apply_payload(f->county, "", found, sizeof found, why, sizeof why),
                     LINK_REFUSED);
}

/* fuzz_apply: a report from a county whose report_id began with a NUL
 * passed report_from_proto ("" was a valid id) and the hub's mdb_put
 * failed on the empty key: the county would have resent it for ever. */
static void a_report_without_a_report_id_is_refused_at_the_hub(void **state)
{
    fixture_t *f = *state;
    report_t *report = report_new(NULL);
    strcpy(report->unit, "530102");
    report->year = 2018;
    strcpy(report->standard_id, "yunnan-2017-trial");
    strcpy(report->origin, "530102");
    report->version = 1;
    report->submitted_at = 1531616400;
    report_value_t value = {.criterion = "1.1", .kind = CRITERION_BOOL, .flag = true};
    assert_int_equal(report_put(report, &value), 0);
    struct Shifan__Report *wire = report_to_proto(report);
    Shifan__Payload payload = SHIFAN__PAYLOAD__INIT;
    payload.body_case = SHIFAN__PAYLOAD__BODY_REPORT;
    payload.report = wire;
    uint8_t *bytes;
    size_t len;
    assert_int_equal(codec_payload_pack(&payload, &bytes, &len), 0);
    char why[256];
    assert_int_equal(node_apply_payload(f->hub, "530102", bytes, len, why, sizeof why),
                     LINK_REFUSED);
    assert_non_null(strstr(why, "report_id"));
    free(bytes);
    report_proto_free(wire);
    report_destroy(&report);
}

/* The province used to store what a hub forwarded without checking its
 * content, then show it: `list` and the rendered result formatted a
 * submitted_at of INT64_MAX by adding the +08:00 offset to it, a signed
 * overflow (UBSan, with an input made for fuzz_apply). Now every tier
 * admits only plausible times; and stime_format is total on int64 for
 * whatever a store may still hold. */
static void times_out_of_range_are_shown_at_the_end_of_the_range(void **state)
{
    fixture_t *f = *state;
    report_t *report = report_new(NULL);
    strcpy(report->report_id, "530102-2018-v1-0000beef");
    strcpy(report->unit, "530102");
    report->year = 2018;
    strcpy(report->standard_id, "yunnan-2017-trial");
    strcpy(report->origin, "530102");
    report->version = 1;
    report->submitted_at = INT64_MAX;
    report_value_t value = {.criterion = "1.1", .kind = CRITERION_BOOL, .flag = true};
    assert_int_equal(report_put(report, &value), 0);
    struct Shifan__Report *wire = report_to_proto(report);
    Shifan__Payload payload = SHIFAN__PAYLOAD__INIT;
    payload.body_case = SHIFAN__PAYLOAD__BODY_REPORT;
    payload.report = wire;
    uint8_t *bytes, *stamped;
    size_t len, stamped_len;
    assert_int_equal(codec_payload_pack(&payload, &bytes, &len), 0);
    /* the hub's receipt, from a clock far in the past */
    assert_int_equal(
        codec_payload_append_receipt(bytes, len, "530100", INT64_MIN, &stamped, &stamped_len), 0);
    char why[256], when[STIME_BUFSZ];
    assert_int_equal(
        node_apply_payload(f->province, "530100", stamped, stamped_len, why, sizeof why),
        LINK_REFUSED);
    assert_non_null(strstr(why, "submitted_at"));
    node_versions_t *list = node_list(f->province, NULL);
    assert_non_null(list);
    assert_int_equal(list->count, 0);
    node_versions_destroy(&list);
    assert_string_equal(stime_format(INT64_MAX, when, sizeof when), "9999-12-31T23:59:59+08:00");
    assert_string_equal(stime_format(INT64_MIN, when, sizeof when), "0000-01-01T00:00:00+08:00");
    free(stamped);
    free(bytes);
    report_proto_free(wire);
    report_destroy(&report);
}

/* A hub passes each county its part of the province's evaluation, dumped
 * again by jansson, which writes a real such as 1e5 as 100000.0: a part
 * could outgrow CODEC_MAX_PAYLOAD, and the pack error failed the item, which
 * the province would have resent for ever (found reviewing the path
 * fuzz_apply drives; its inputs stay far below that size). */
static void an_evaluation_too_large_to_pass_down_is_kept_at_the_hub(void **state)
{
    fixture_t *f = *state;
    size_t count = 100000; /* "1e5," is 4 bytes, "100000.0," 9 */
    char *document = malloc(count * 4 + 64);
    strcpy(document, "{\"year\":2018,\"published_for\":\"530100\",\"x\":[");
    size_t at = strlen(document);
    for (size_t i = 0; i < count; i++, at += 4)
        memcpy(document + at, "1e5,", 4);
    strcpy(document + at - 1, "]}");
    Shifan__EvaluationResult result = SHIFAN__EVALUATION_RESULT__INIT;
    result.year = 2018;
    result.document.data = (uint8_t *)document;
    result.document.len = strlen(document);
    result.evaluated_at = 1542250000;
    Shifan__Payload payload = SHIFAN__PAYLOAD__INIT;
    payload.body_case = SHIFAN__PAYLOAD__BODY_EVALUATION;
    payload.evaluation = &result;
    uint8_t *bytes;
    size_t len;
    assert_int_equal(codec_payload_pack(&payload, &bytes, &len), 0);
    char why[256], err[256];
    assert_int_equal(node_apply_payload(f->hub, "", bytes, len, why, sizeof why), 0);
    char *kept = node_published_evaluation(f->hub, 2018, err, sizeof err);
    assert_non_null(kept);
    assert_int_equal(strlen(kept), strlen(document));
    free(kept);
    free(bytes);
    free(document);
}

/* ---- signed items at the hub ---- */

#define COUNTY "530102"
#define ROTATED_AT 1531700000 /* a rotation's made_at */

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

/* A full Yunnan report of the county (the hub admits only complete ones). */
static report_t *a_county_report(void)
{
    return fixture_report(COUNTY);
}

/* A county report made here, packed: signed by pair as COUNTY, or not
 * signed when pair is NULL. */
static uint8_t *a_report_payload(const char *report_id, int64_t submitted_at, const pair_t *pair,
                                 size_t *len)
{
    report_t *report = a_county_report();
    snprintf(report->report_id, sizeof report->report_id, "%s", report_id);
    strcpy(report->standard_id, "yunnan-2017-trial");
    strcpy(report->origin, COUNTY);
    report->version = 1;
    report->submitted_at = submitted_at;
    struct Shifan__Report *wire = report_to_proto(report);
    Shifan__Payload payload = SHIFAN__PAYLOAD__INIT;
    payload.body_case = SHIFAN__PAYLOAD__BODY_REPORT;
    payload.report = wire;
    uint8_t *body, *bytes;
    size_t body_len;
    assert_int_equal(codec_payload_pack(&payload, &body, &body_len), 0);
    report_proto_free(wire);
    report_destroy(&report);
    if (!pair) {
        *len = body_len;
        return body;
    }
    assert_int_equal(
        codec_payload_sign(body, body_len, COUNTY, pair->public_key, pair->secret_key, &bytes, len),
        0);
    free(body);
    return bytes;
}

/* The hub applies a report made here; 0 or LINK_REFUSED, the reason in why. */
static int hub_takes_report(fixture_t *f, const char *report_id, int64_t submitted_at,
                            const pair_t *pair, char *why, size_t whysize)
{
    size_t len;
    uint8_t *bytes = a_report_payload(report_id, submitted_at, pair, &len);
    why[0] = '\0';
    int rc = node_apply_payload(f->hub, COUNTY, bytes, len, why, whysize);
    free(bytes);
    return rc;
}

static bool hub_holds(fixture_t *f, const char *report_id)
{
    node_versions_t *list = node_list(f->hub, NULL);
    assert_non_null(list);
    bool found = false;
    for (size_t i = 0; i < list->count; i++)
        found |= strcmp(list->versions[i].report_id, report_id) == 0;
    node_versions_destroy(&list);
    return found;
}

struct key_query {
    store_t *store;
    signkey_t key;
    int rc;
};

static int current_key_fn(store_txn_t *txn, void *arg)
{
    struct key_query *q = arg;
    q->rc = signkeys_current(txn, q->store, COUNTY, &q->key);
    return 0;
}

/* The county's key in force at the hub: 0 (in *key) or SF_ENOTFOUND. */
static int hub_county_key(fixture_t *f, signkey_t *key)
{
    struct key_query q = {.store = node_store(f->hub)};
    assert_int_equal(store_read(q.store, current_key_fn, &q), 0);
    if (key)
        *key = q.key;
    return q.rc;
}

/* What the county queued up: its key announcement, then its report. */
typedef struct {
    uint8_t *bytes[4];
    size_t lens[4], count;
} queued_t;

static int collect(uint64_t seq, const void *data, size_t len, void *arg)
{
    (void)seq;
    queued_t *q = arg;
    if (q->count == 4)
        return SF_ETOOBIG;
    q->bytes[q->count] = malloc(len);
    memcpy(q->bytes[q->count], data, len);
    q->lens[q->count++] = len;
    return 0;
}

static int collect_fn(store_txn_t *txn, void *arg)
{
    node_t *county = ((void **)arg)[0];
    return outbox_scan(txn, node_store(county), "up", 1, SIZE_MAX, SIZE_MAX, collect,
                       ((void **)arg)[1]);
}

static void county_submits(fixture_t *f, queued_t *q)
{
    char err[256];
    report_t *report = a_county_report();
    assert_int_equal(node_submit(f->county, report, err, sizeof err), 0);
    report_destroy(&report);
    memset(q, 0, sizeof *q);
    assert_int_equal(store_read(node_store(f->county), collect_fn, (void *[]){f->county, q}), 0);
    assert_int_equal(q->count, 2);
}

static void forget(queued_t *q)
{
    for (size_t i = 0; i < q->count; i++)
        free(q->bytes[i]);
    q->count = 0;
}

/* The report id inside a queued item, checking that the county signed it. */
static void queued_report_id(fixture_t *f, const queued_t *q, size_t i, char *id, size_t size)
{
    codec_seal_t seal;
    Shifan__Payload *payload = codec_payload_open(NULL, q->bytes[i], q->lens[i], &seal);
    assert_non_null(payload);
    assert_int_equal(payload->body_case, SHIFAN__PAYLOAD__BODY_REPORT);
    assert_true(seal.is_signed);
    assert_true(seal.verifies);
    assert_string_equal(seal.signer, COUNTY);
    assert_memory_equal(seal.signer_key, node_sign_public_key(f->county), CODEC_SIGN_PUBLIC_BYTES);
    snprintf(id, size, "%s", payload->report->report_id);
    codec_payload_free(payload);
}

static void a_signed_county_report_is_stored_and_registers_its_key(void **state)
{
    fixture_t *f = *state;
    queued_t q;
    county_submits(f, &q);
    char id[REPORT_ID_MAX], why[256] = "";
    queued_report_id(f, &q, 1, id, sizeof id);
    assert_int_equal(hub_county_key(f, NULL), SF_ENOTFOUND);
    /* the report alone, before the announcement: its signature registers the key */
    assert_int_equal(node_apply_payload(f->hub, COUNTY, q.bytes[1], q.lens[1], why, sizeof why), 0);
    assert_true(hub_holds(f, id));
    signkey_t key;
    assert_int_equal(hub_county_key(f, &key), 0);
    assert_memory_equal(key.key, node_sign_public_key(f->county), SIGNKEYS_KEY_BYTES);
    assert_int_equal(key.until, 0);
    assert_false(key.revoked);
    /* the announcement of the same key after it changes nothing */
    assert_int_equal(node_apply_payload(f->hub, COUNTY, q.bytes[0], q.lens[0], why, sizeof why), 0);
    assert_int_equal(hub_county_key(f, &key), 0);
    assert_memory_equal(key.key, node_sign_public_key(f->county), SIGNKEYS_KEY_BYTES);
    forget(&q);
}

static void a_report_changed_inside_its_signature_is_refused(void **state)
{
    fixture_t *f = *state;
    queued_t q;
    county_submits(f, &q);
    char id[REPORT_ID_MAX], why[256] = "";
    queued_report_id(f, &q, 1, id, sizeof id);
    /* 2.1's numerator, 900: a Ratio's field 1 as the varint 0x84 0x07 */
    uint8_t *bytes = q.bytes[1], *value = NULL;
    size_t len = q.lens[1];
    for (size_t at = 0; at + 3 <= len && !value; at++)
        if (memcmp(bytes + at, "2.1", 3) == 0)
            for (size_t n = at + 3; n + 3 <= len && n < at + 12 && !value; n++)
                if (bytes[n] == 0x08 && bytes[n + 1] == 0x84 && bytes[n + 2] == 0x07)
                    value = bytes + n + 1;
    assert_non_null(value);
    *value = 0x85; /* 901 */
    codec_seal_t seal;
    Shifan__Payload *payload = codec_payload_open(NULL, bytes, len, &seal);
    assert_non_null(payload); /* still a report, but not the one signed */
    assert_false(seal.verifies);
    codec_payload_free(payload);
    assert_int_equal(node_apply_payload(f->hub, COUNTY, bytes, len, why, sizeof why), LINK_REFUSED);
    assert_non_null(strstr(why, "does not verify"));
    assert_false(hub_holds(f, id));
    assert_int_equal(hub_county_key(f, NULL), SF_ENOTFOUND);
    /* as signed, it is stored */
    *value = 0x84;
    assert_int_equal(node_apply_payload(f->hub, COUNTY, bytes, len, why, sizeof why), 0);
    assert_true(hub_holds(f, id));
    forget(&q);
}

static void an_unsigned_report_is_refused_once_the_county_has_a_key(void **state)
{
    fixture_t *f = *state;
    char why[256];
    /* unsigned, before any key: taken (an older county) */
    assert_int_equal(
        hub_takes_report(f, "530102-2018-v1-00000a01", 1531616400, NULL, why, sizeof why), 0);
    assert_true(hub_holds(f, "530102-2018-v1-00000a01"));
    queued_t q;
    county_submits(f, &q);
    assert_int_equal(node_apply_payload(f->hub, COUNTY, q.bytes[0], q.lens[0], why, sizeof why), 0);
    assert_int_equal(hub_county_key(f, NULL), 0);
    assert_int_equal(
        hub_takes_report(f, "530102-2018-v1-00000a02", 1531616500, NULL, why, sizeof why),
        LINK_REFUSED);
    assert_non_null(strstr(why, "not signed"));
    assert_false(hub_holds(f, "530102-2018-v1-00000a02"));
    forget(&q);
}

static void a_report_signed_by_a_key_not_registered_is_refused(void **state)
{
    fixture_t *f = *state;
    pair_t county = a_pair(), other = a_pair();
    char why[256];
    assert_int_equal(
        hub_takes_report(f, "530102-2018-v1-00000b01", 1531616400, &county, why, sizeof why), 0);
    assert_int_equal(
        hub_takes_report(f, "530102-2018-v1-00000b02", 1531616500, &other, why, sizeof why),
        LINK_REFUSED);
    assert_non_null(strstr(why, "not a key registered"));
    assert_false(hub_holds(f, "530102-2018-v1-00000b02"));
    signkey_t key;
    assert_int_equal(hub_county_key(f, &key), 0);
    assert_memory_equal(key.key, county.public_key, SIGNKEYS_KEY_BYTES);
    /* the registered key still signs */
    assert_int_equal(
        hub_takes_report(f, "530102-2018-v1-00000b03", 1531616600, &county, why, sizeof why), 0);
}

/* A rotation from old_pair to new_pair at made_at, as node_rotate.c's
 * rotation_pack makes it: signed by the new key, carrying the old key's
 * signature. */
static uint8_t *a_rotation(const pair_t *old_pair, const pair_t *new_pair, int64_t made_at,
                           size_t *len)
{
    uint8_t previous_signature[CODEC_SIGNATURE_BYTES];
    Shifan__KeyAnnouncement ann = SHIFAN__KEY_ANNOUNCEMENT__INIT;
    ann.unit = COUNTY;
    ann.sign_key.data = (uint8_t *)new_pair->public_key;
    ann.sign_key.len = CODEC_SIGN_PUBLIC_BYTES;
    ann.made_at = made_at;
    ann.has_previous_key = true;
    ann.previous_key.data = (uint8_t *)old_pair->public_key;
    ann.previous_key.len = CODEC_SIGN_PUBLIC_BYTES;
    assert_int_equal(codec_rotation_sign(&ann, old_pair->secret_key, previous_signature), 0);
    ann.has_previous_signature = true;
    ann.previous_signature.data = previous_signature;
    ann.previous_signature.len = sizeof previous_signature;
    Shifan__Payload payload = SHIFAN__PAYLOAD__INIT;
    payload.body_case = SHIFAN__PAYLOAD__BODY_KEY;
    payload.key = &ann;
    uint8_t *body, *bytes;
    size_t body_len;
    assert_int_equal(codec_payload_pack(&payload, &body, &body_len), 0);
    assert_int_equal(codec_payload_sign(body, body_len, COUNTY, new_pair->public_key,
                                        new_pair->secret_key, &bytes, len),
                     0);
    free(body);
    return bytes;
}

static void a_rotation_replaces_the_key_for_what_is_made_after_it(void **state)
{
    fixture_t *f = *state;
    pair_t old_pair = a_pair(), new_pair = a_pair();
    char why[256];
    assert_int_equal(
        hub_takes_report(f, "530102-2018-v1-00000c01", 1531616400, &old_pair, why, sizeof why), 0);
    size_t len;
    uint8_t *rotation = a_rotation(&old_pair, &new_pair, ROTATED_AT, &len);
    assert_int_equal(node_apply_payload(f->hub, COUNTY, rotation, len, why, sizeof why), 0);
    free(rotation);
    signkey_t key;
    assert_int_equal(hub_county_key(f, &key), 0);
    assert_memory_equal(key.key, new_pair.public_key, SIGNKEYS_KEY_BYTES);
    /* the new key signs */
    assert_int_equal(
        hub_takes_report(f, "530102-2018-v1-00000c02", ROTATED_AT + 10, &new_pair, why, sizeof why),
        0);
    assert_true(hub_holds(f, "530102-2018-v1-00000c02"));
    /* the old one, for what is made from the rotation on, no more */
    assert_int_equal(
        hub_takes_report(f, "530102-2018-v1-00000c03", ROTATED_AT, &old_pair, why, sizeof why),
        LINK_REFUSED);
    assert_non_null(strstr(why, "replaced"));
    assert_false(hub_holds(f, "530102-2018-v1-00000c03"));
    /* what it signed before the rotation still counts (delivered late) */
    assert_int_equal(
        hub_takes_report(f, "530102-2018-v1-00000c04", ROTATED_AT - 1, &old_pair, why, sizeof why),
        0);
    assert_true(hub_holds(f, "530102-2018-v1-00000c04"));
}

static void a_rotation_without_the_registered_keys_signature_is_refused(void **state)
{
    fixture_t *f = *state;
    pair_t registered = a_pair(), other = a_pair(), new_pair = a_pair();
    char why[256];
    assert_int_equal(
        hub_takes_report(f, "530102-2018-v1-00000d01", 1531616400, &registered, why, sizeof why),
        0);
    size_t len;
    uint8_t *rotation = a_rotation(&other, &new_pair, ROTATED_AT, &len);
    assert_int_equal(node_apply_payload(f->hub, COUNTY, rotation, len, why, sizeof why),
                     LINK_REFUSED);
    assert_non_null(strstr(why, "another key"));
    free(rotation);
    signkey_t key;
    assert_int_equal(hub_county_key(f, &key), 0);
    assert_memory_equal(key.key, registered.public_key, SIGNKEYS_KEY_BYTES);
    assert_int_equal(
        hub_takes_report(f, "530102-2018-v1-00000d02", ROTATED_AT + 10, &new_pair, why, sizeof why),
        LINK_REFUSED);
}

static void a_revoked_key_signs_only_what_was_made_before_the_revocation(void **state)
{
    fixture_t *f = *state;
    pair_t county = a_pair();
    char why[256], err[256];
    assert_int_equal(
        hub_takes_report(f, "530102-2018-v1-00000e01", 1531616400, &county, why, sizeof why), 0);
    int64_t since = 1531620000;
    assert_int_equal(node_revoke(f->hub, COUNTY, since, err, sizeof err), 0);
    assert_int_equal(hub_county_key(f, NULL), SF_ENOTFOUND);
    assert_int_equal(
        hub_takes_report(f, "530102-2018-v1-00000e02", since, &county, why, sizeof why),
        LINK_REFUSED);
    assert_non_null(strstr(why, "revoked"));
    assert_false(hub_holds(f, "530102-2018-v1-00000e02"));
    assert_int_equal(
        hub_takes_report(f, "530102-2018-v1-00000e03", since + 3600, &county, why, sizeof why),
        LINK_REFUSED);
    assert_non_null(strstr(why, "revoked"));
    assert_int_equal(
        hub_takes_report(f, "530102-2018-v1-00000e04", since - 1, &county, why, sizeof why), 0);
    assert_true(hub_holds(f, "530102-2018-v1-00000e04"));
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(a_return_without_a_usable_report_id_is_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(times_out_of_range_are_shown_at_the_end_of_the_range, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(an_evaluation_too_large_to_pass_down_is_kept_at_the_hub,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(a_report_without_a_report_id_is_refused_at_the_hub, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_signed_county_report_is_stored_and_registers_its_key,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(a_report_changed_inside_its_signature_is_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(an_unsigned_report_is_refused_once_the_county_has_a_key,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(a_report_signed_by_a_key_not_registered_is_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_rotation_replaces_the_key_for_what_is_made_after_it,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(a_rotation_without_the_registered_keys_signature_is_refused,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            a_revoked_key_signs_only_what_was_made_before_the_revocation, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
