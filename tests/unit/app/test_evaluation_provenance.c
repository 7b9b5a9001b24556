/* The province's evaluation checks who signed each counted version and
 * whether its claimed time stands (docs/signing.md, "Time you can check"),
 * on a real LMDB store in a temp dir: counties' and hubs' keys registered
 * with signkeys_put, reports signed with codec_payload_sign, stamped by the
 * hub with codec_payload_stamp, stored as the link stores them; the JSON of
 * `evaluate --format json` says what was found. A rewound claim is flagged,
 * an honest one and a link that was down are not, a receipt signed by a
 * key other than the hub's and an unsigned report are not judged, and a
 * hub's own evaluation claims nothing it cannot check. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "storage/records.h"
#include "storage/signkeys.h"
#include "storage/store.h"
#include "transport/codec.h"
#include "domain/engine.h"
#include "domain/programme.h"
#include "domain/render.h"
#include "domain/report.h"
#include "app/tier.h"
#include "report_fixture.h"

#define PROVINCE "530000"
#define HUB "530100"
#define HONEST "530102"
#define REWOUND "530103"
#define WRONG_RECEIPT "530111"
#define UNSIGNED "530112"
#define PACKAGE "530113"
#define LATER_SESSION "530114"
#define NOW 1530000000 /* 2018-06-26 */
#define DAY (24 * 3600)

typedef struct {
    uint8_t public_key[CODEC_SIGN_PUBLIC_BYTES];
    uint8_t secret_key[CODEC_SIGN_SECRET_BYTES];
} pair_t;

typedef struct {
    char dir[64];
    store_t *store;
    tier_t *tier;
    pair_t hub, stranger;
} fixture_t;

/* A stored report: who made it when, and what its hub's receipt says. */
typedef struct {
    const char *unit;
    int64_t submitted_at;
    int64_t received_at, claimed_before, session_since;
    bool is_signed;
    const pair_t *stamper; /* signs the receipt */
    const char *signer;    /* NULL: the unit signs its own report */
} crafted_t;

static const char *signer_of(const crafted_t *c)
{
    return c->signer ? c->signer : c->unit;
}

static void register_key(fixture_t *f, const char *unit, const pair_t *pair);

static int setup(void **state)
{
    assert_true(sodium_init() >= 0);
    fixture_t *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/shifan-provenance-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    sf_error_t error = {0, ""};
    if (!(f->store = store_open(f->dir, 0, &error)))
        fail_msg("store_open: %s", error.text);
    if (!(f->tier = tier_new(ROLE_PROVINCE, PROVINCE, 1, f->store, &error)))
        fail_msg("tier_new: %s", error.text);
    crypto_sign_keypair(f->hub.public_key, f->hub.secret_key);
    crypto_sign_keypair(f->stranger.public_key, f->stranger.secret_key);
    register_key(f, HUB, &f->hub);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    tier_destroy(&f->tier);
    store_destroy(&f->store);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    int rc = system(cmd);
    free(f);
    return rc;
}

struct key_arg {
    fixture_t *f;
    const signkey_t *key;
};

static int put_key_fn(store_txn_t *txn, void *arg)
{
    struct key_arg *a = arg;
    return signkeys_put(txn, a->f->store, a->key);
}

static void register_key(fixture_t *f, const char *unit, const pair_t *pair)
{
    signkey_t key;
    memset(&key, 0, sizeof key);
    snprintf(key.unit, sizeof key.unit, "%s", unit);
    memcpy(key.key, pair->public_key, sizeof key.key);
    key.since = NOW - 365 * DAY;
    struct key_arg arg = {f, &key};
    assert_int_equal(store_write(f->store, put_key_fn, &arg), 0);
}

struct lookup_arg {
    store_t *store;
    const char *key;
    bool found;
};

static int memo_exists_fn(store_txn_t *txn, void *arg)
{
    struct lookup_arg *a = arg;
    const void *value;
    size_t len;
    a->found = store_get(txn, a->store, DB_META, a->key, strlen(a->key), &value, &len) == 0;
    return 0;
}

/* Marks unit's pair rotated out at `until` (a key stays valid before it). */
static void retire_key(fixture_t *f, const char *unit, const pair_t *pair, int64_t until)
{
    signkey_t key;
    memset(&key, 0, sizeof key);
    snprintf(key.unit, sizeof key.unit, "%s", unit);
    memcpy(key.key, pair->public_key, sizeof key.key);
    key.since = NOW - 365 * DAY;
    key.until = until;
    struct key_arg arg = {f, &key};
    assert_int_equal(store_write(f->store, put_key_fn, &arg), 0);
}

/* A full Yunnan report of unit for 2018 made at submitted_at, packed as
 * the county packs it: a Report payload. */
static uint8_t *report_body(const char *unit, const char *report_id, int64_t submitted_at,
                            size_t *len)
{
    return fixture_report_payload(unit, report_id, submitted_at, len);
}

/* The bytes the province stores for c: signed by county (NULL: not
 * signed), then stamped by the hub. */
static uint8_t *crafted_bytes(const crafted_t *c, const pair_t *county, const char *report_id,
                              size_t *len)
{
    size_t body_len, signed_len;
    uint8_t *body = report_body(c->unit, report_id, c->submitted_at, &body_len), *out;
    if (!c->is_signed) {
        assert_int_equal(
            codec_payload_append_receipt(body, body_len, HUB, c->received_at, &out, len), 0);
        free(body);
        return out;
    }
    uint8_t *signed_item;
    assert_int_equal(codec_payload_sign(body, body_len, signer_of(c), county->public_key,
                                        county->secret_key, &signed_item, &signed_len),
                     0);
    free(body);
    codec_seal_t seal;
    Shifan__Payload *opened = codec_payload_open(NULL, signed_item, signed_len, &seal);
    assert_non_null(opened);
    assert_true(seal.verifies);
    codec_payload_free(opened);
    codec_receipt_t receipt = {HUB,
                               c->received_at,
                               c->claimed_before,
                               c->session_since,
                               seal.body_hash,
                               c->stamper->secret_key};
    assert_int_equal(codec_payload_stamp(signed_item, signed_len, &receipt, &out, len), 0);
    free(signed_item);
    return out;
}

struct store_arg {
    fixture_t *f;
    const crafted_t *crafted;
    const pair_t *county;
};

static int store_fn(store_txn_t *txn, void *arg)
{
    struct store_arg *a = arg;
    char report_id[REPORT_ID_MAX];
    snprintf(report_id, sizeof report_id, "%s-2018-v1-00000001", a->crafted->unit);
    size_t len;
    uint8_t *bytes = crafted_bytes(a->crafted, a->county, report_id, &len);
    records_report_t record = {report_id, a->crafted->unit, 2018, 1, 0, a->crafted->submitted_at};
    bool stored;
    int rc = records_report_store(txn, a->f->store, &record, bytes, len, &stored);
    free(bytes);
    return rc;
}

/* Stores c as the link stores it, signed by a fresh county key that is
 * registered here first. */
static void store_crafted(fixture_t *f, const crafted_t *c)
{
    pair_t county;
    crypto_sign_keypair(county.public_key, county.secret_key);
    if (c->is_signed)
        register_key(f, signer_of(c), &county);
    struct store_arg arg = {f, c, &county};
    assert_int_equal(store_write(f->store, store_fn, &arg), 0);
}

/* The province's evaluation as `evaluate --format json` writes it. */
static json_t *evaluation_json(tier_t *tier, const char *scope)
{
    engine_result_t *result = NULL;
    char err[512], *text = NULL;
    if (tier_evaluate(tier, 2018, scope, NOW + 60, &result, err, sizeof err))
        fail_msg("tier_evaluate: %s", err);
    assert_int_equal(render_json(result, &text, NULL), 0);
    engine_result_destroy(&result);
    json_error_t error;
    json_t *root = json_loads(text, 0, &error);
    free(text);
    assert_non_null(root);
    return root;
}

static json_t *unit_of(json_t *root, const char *code)
{
    size_t i;
    json_t *unit;
    json_array_foreach(json_object_get(root, "units"), i, unit)
    {
        if (strcmp(json_string_value(json_object_get(unit, "code")), code) == 0)
            return unit;
    }
    fail_msg("no unit %s", code);
    return NULL;
}

static bool provenance_bool(json_t *root, const char *code, const char *key)
{
    json_t *value = json_object_get(json_object_get(unit_of(root, code), "provenance"), key);
    if (!json_is_boolean(value))
        fail_msg("%s: provenance.%s is not a boolean", code, key);
    return json_is_true(value);
}

static const char *provenance_string(json_t *root, const char *code, const char *key)
{
    json_t *value = json_object_get(json_object_get(unit_of(root, code), "provenance"), key);
    return json_is_string(value) ? json_string_value(value) : NULL;
}

static bool has_flag(json_t *root, const char *code, const char *flag)
{
    size_t i;
    json_t *value;
    json_array_foreach(json_object_get(unit_of(root, code), "flags"), i, value)
    {
        if (strcmp(json_string_value(value), flag) == 0)
            return true;
    }
    return false;
}

static void an_honest_claim_verifies_and_is_not_flagged(void **state)
{
    fixture_t *f = *state;
    crafted_t c = {HONEST, NOW - 600, NOW, NOW - 3600, NOW - 7200, true, &f->hub, NULL};
    store_crafted(f, &c);
    json_t *root = evaluation_json(f->tier, NULL);
    assert_true(provenance_bool(root, HONEST, "signed"));
    assert_true(provenance_bool(root, HONEST, "verifies"));
    assert_true(provenance_bool(root, HONEST, "registered"));
    assert_true(provenance_bool(root, HONEST, "receipt_verifies"));
    assert_true(provenance_bool(root, HONEST, "time_checked"));
    assert_false(provenance_bool(root, HONEST, "claimed_time_implausible"));
    assert_false(has_flag(root, HONEST, "claimed_time_implausible"));
    assert_string_equal(provenance_string(root, HONEST, "signer"), HONEST);
    assert_string_equal(provenance_string(root, HONEST, "received_by"), HUB);
    assert_int_equal(strlen(provenance_string(root, HONEST, "fingerprint")), 19);
    assert_non_null(provenance_string(root, HONEST, "claimed_before"));
    assert_string_equal(provenance_string(root, HONEST, "verdict"), "plausible");
    /* A unit that sent nothing has nothing to vouch for. */
    assert_true(json_is_null(json_object_get(unit_of(root, "530115"), "provenance")));
    json_decref(root);
}

static void a_rewound_claim_is_flagged_with_its_reason(void **state)
{
    fixture_t *f = *state;
    /* Claimed three days ago; the hub had been in contact a minute before. */
    crafted_t c = {REWOUND, NOW - 3 * DAY, NOW, NOW - 60, NOW - 120, true, &f->hub, NULL};
    store_crafted(f, &c);
    json_t *root = evaluation_json(f->tier, NULL);
    assert_true(provenance_bool(root, REWOUND, "verifies"));
    assert_true(provenance_bool(root, REWOUND, "receipt_verifies"));
    assert_true(provenance_bool(root, REWOUND, "claimed_time_implausible"));
    assert_true(has_flag(root, REWOUND, "claimed_time_implausible"));
    assert_string_equal(provenance_string(root, REWOUND, "verdict"), "later_item_first");
    assert_string_equal(provenance_string(root, REWOUND, "reason"),
                        "the hub had already received an item the county made 71 h 59 min "
                        "after the claimed time (a county's queue delivers in order)");
    json_decref(root);
}

static void a_link_that_was_down_explains_a_late_receipt(void **state)
{
    fixture_t *f = *state;
    /* Imported from a package five days on: no session, last contact before. */
    crafted_t package = {PACKAGE, NOW - 5 * DAY, NOW, NOW - 6 * DAY, 0, true, &f->hub, NULL};
    /* The link came back two days ago and delivered at once... */
    crafted_t back = {LATER_SESSION, NOW - 5 * DAY, NOW - 2 * DAY + 5, NOW - 6 * DAY,
                      NOW - 2 * DAY, true,          &f->hub,           NULL};
    store_crafted(f, &package);
    store_crafted(f, &back);
    json_t *root = evaluation_json(f->tier, NULL);
    assert_true(provenance_bool(root, PACKAGE, "time_checked"));
    assert_false(provenance_bool(root, PACKAGE, "claimed_time_implausible"));
    assert_true(json_is_null(
        json_object_get(json_object_get(unit_of(root, PACKAGE), "provenance"), "session_since")));
    assert_false(provenance_bool(root, LATER_SESSION, "claimed_time_implausible"));
    json_decref(root);
}

static void a_receipt_by_another_key_is_not_judged(void **state)
{
    fixture_t *f = *state;
    /* Would be flagged, had the hub's registered key signed the receipt. */
    crafted_t c = {WRONG_RECEIPT, NOW - 3 * DAY, NOW,          NOW - 60,
                   NOW - 120,     true,          &f->stranger, NULL};
    store_crafted(f, &c);
    json_t *root = evaluation_json(f->tier, NULL);
    assert_true(provenance_bool(root, WRONG_RECEIPT, "verifies"));
    assert_false(provenance_bool(root, WRONG_RECEIPT, "receipt_verifies"));
    assert_false(provenance_bool(root, WRONG_RECEIPT, "time_checked"));
    assert_false(provenance_bool(root, WRONG_RECEIPT, "claimed_time_implausible"));
    assert_false(has_flag(root, WRONG_RECEIPT, "claimed_time_implausible"));
    assert_non_null(strstr(provenance_string(root, WRONG_RECEIPT, "reason"), "not checked"));
    assert_string_equal(provenance_string(root, WRONG_RECEIPT, "verdict"), "receipt_unverified");
    json_decref(root);
}

static void an_unsigned_report_says_so(void **state)
{
    fixture_t *f = *state;
    crafted_t c = {UNSIGNED, NOW - 3 * DAY, NOW, 0, 0, false, NULL, NULL};
    store_crafted(f, &c);
    json_t *root = evaluation_json(f->tier, NULL);
    assert_false(provenance_bool(root, UNSIGNED, "signed"));
    assert_false(provenance_bool(root, UNSIGNED, "verifies"));
    assert_false(provenance_bool(root, UNSIGNED, "receipt_verifies"));
    assert_false(provenance_bool(root, UNSIGNED, "claimed_time_implausible"));
    assert_null(provenance_string(root, UNSIGNED, "signer"));
    assert_null(provenance_string(root, UNSIGNED, "fingerprint"));
    assert_string_equal(provenance_string(root, UNSIGNED, "received_by"), HUB);
    assert_non_null(strstr(provenance_string(root, UNSIGNED, "reason"), "unsigned report"));
    assert_string_equal(provenance_string(root, UNSIGNED, "verdict"), "unsigned");
    json_decref(root);
}

static void a_hub_claims_nothing_it_cannot_check(void **state)
{
    fixture_t *f = *state;
    crafted_t c = {REWOUND, NOW - 3 * DAY, NOW, NOW - 60, NOW - 120, true, &f->hub, NULL};
    store_crafted(f, &c);
    sf_error_t error = {0, ""};
    tier_t *hub = tier_new(ROLE_PREFECTURE, HUB, 1, f->store, &error);
    assert_non_null(hub);
    json_t *root = evaluation_json(hub, HUB);
    assert_true(json_is_null(json_object_get(unit_of(root, REWOUND), "provenance")));
    assert_false(has_flag(root, REWOUND, "claimed_time_implausible"));
    json_decref(root);
    tier_destroy(&hub);
}

/* The signatures' verdicts are remembered (meta seal/<id>) for the next
 * evaluation, but the hub's key in force is looked up each time: after a
 * rotation the old receipt no longer counts as the hub's. */
static void remembered_checks_follow_the_hub_key(void **state)
{
    fixture_t *f = *state;
    crafted_t c = {REWOUND, NOW - 3 * DAY, NOW, NOW - 60, NOW - 120, true, &f->hub, NULL};
    store_crafted(f, &c);
    for (int run = 0; run < 2; run++) {
        json_t *root = evaluation_json(f->tier, NULL);
        assert_true(provenance_bool(root, REWOUND, "verifies"));
        assert_true(provenance_bool(root, REWOUND, "claimed_time_implausible"));
        json_decref(root);
    }
    const char *memo_key = "seal/" REWOUND "-2018-v1-00000001";
    struct lookup_arg lookup = {f->store, memo_key, false};
    assert_int_equal(store_read(f->store, memo_exists_fn, &lookup), 0);
    assert_true(lookup.found);
    /* The hub rotates its key: the receipt signed by the old one is checked
     * against the new one, and the time is no longer judged. */
    pair_t rotated;
    crypto_sign_keypair(rotated.public_key, rotated.secret_key);
    register_key(f, HUB, &rotated);
    retire_key(f, HUB, &f->hub, NOW);
    json_t *root = evaluation_json(f->tier, NULL);
    assert_true(provenance_bool(root, REWOUND, "verifies"));
    assert_false(provenance_bool(root, REWOUND, "receipt_verifies"));
    assert_false(provenance_bool(root, REWOUND, "claimed_time_implausible"));
    json_decref(root);
}

/* A county's own registered key on a neighbour's report does not make
 * it the neighbour's. */
static void a_report_signed_by_another_county_is_not_registered(void **state)
{
    fixture_t *f = *state;
    crafted_t c = {HONEST, NOW - 600, NOW, NOW - 3600, NOW - 7200, true, &f->hub, REWOUND};
    store_crafted(f, &c);
    json_t *root = evaluation_json(f->tier, NULL);
    assert_true(provenance_bool(root, HONEST, "verifies"));
    assert_string_equal(provenance_string(root, HONEST, "signer"), REWOUND);
    assert_false(provenance_bool(root, HONEST, "registered"));
    json_decref(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(an_honest_claim_verifies_and_is_not_flagged, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_rewound_claim_is_flagged_with_its_reason, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_link_that_was_down_explains_a_late_receipt, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_receipt_by_another_key_is_not_judged, setup, teardown),
        cmocka_unit_test_setup_teardown(an_unsigned_report_says_so, setup, teardown),
        cmocka_unit_test_setup_teardown(a_hub_claims_nothing_it_cannot_check, setup, teardown),
        cmocka_unit_test_setup_teardown(remembered_checks_follow_the_hub_key, setup, teardown),
        cmocka_unit_test_setup_teardown(a_report_signed_by_another_county_is_not_registered, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
