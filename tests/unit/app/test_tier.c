/* Tier policy on its own (tier.h): a real LMDB store in a temp dir, a
 * tier_t per role over it and the embedded programme, no node, no link.
 * Programmes: a newer revision is stored, passed down and switched to; an
 * older or equal one is not; one that does not load is refused alone.
 * Returns: the hub's verb stores and queues them down and up; what arrives
 * is checked against its sender. Recommendations from a hub are stored at
 * the province. Evaluation counts what is stored; the hub's automatic
 * recommendation is queued once per change; a confirm after the
 * recommendation deadline needs an override. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "storage/outbox.h"
#include "storage/records.h"
#include "storage/store.h"
#include "transport/codec.h"
#include "transport/link.h"
#include "domain/engine.h"
#include "domain/programme.h"
#include "domain/report.h"
#include "app/tier.h"
#include "report_fixture.h"

#define PROVINCE "530000"
#define HUB "530100"
#define COUNTY "530102"
#define OTHER_COUNTY "530103"
#define NOW 1530000000 /* 2018-06-26 */

typedef struct {
    char dir[64];
    store_t *store;
    tier_t *tier;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/shifan-tier-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    sf_error_t error = {0, ""};
    if (!(f->store = store_open(f->dir, 0, &error)))
        fail_msg("store_open: %s", error.text);
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

static tier_t *make_tier(fixture_t *f, tier_role_t role, const char *code)
{
    sf_error_t error = {0, ""};
    f->tier = tier_new(role, code, 1, f->store, &error);
    if (!f->tier)
        fail_msg("tier_new: %s", error.text);
    return f->tier;
}

/* ---- running policy inside a write transaction ---- */

typedef int (*txn_step_fn)(fixture_t *f, store_txn_t *txn, void *arg);

struct step_arg {
    fixture_t *f;
    txn_step_fn fn;
    void *arg;
};

static int step_fn(store_txn_t *txn, void *arg)
{
    struct step_arg *a = arg;
    return a->fn(a->f, txn, a->arg);
}

static int in_write(fixture_t *f, txn_step_fn fn, void *arg)
{
    struct step_arg a = {f, fn, arg};
    return store_write(f->store, step_fn, &a);
}

static int register_child(fixture_t *f, store_txn_t *txn, void *code)
{
    return store_put_string(txn, f->store, DB_CHILDREN, code, "key-of-the-child");
}

/* One received payload, through the tier function for its kind. */
struct incoming {
    const char *peer;
    const uint8_t *bytes;
    size_t len;
    int outcome;
    char why[256];
};

static int apply_fn(fixture_t *f, store_txn_t *txn, void *arg)
{
    struct incoming *in = arg;
    Shifan__Payload *payload = codec_payload_unpack(in->bytes, in->len);
    assert_non_null(payload);
    switch (payload->body_case) {
    case SHIFAN__PAYLOAD__BODY_PROGRAMME:
        in->outcome = tier_apply_programme(f->tier, txn, payload, in->bytes, in->len, in->why,
                                           sizeof in->why);
        break;
    case SHIFAN__PAYLOAD__BODY_RETURN_FOR_CORRECTION:
        in->outcome = tier_apply_return(f->tier, txn, in->peer, payload, in->bytes, in->len,
                                        in->why, sizeof in->why);
        break;
    case SHIFAN__PAYLOAD__BODY_RECOMMENDATION:
        in->outcome = tier_apply_recommendation(f->tier, txn, in->peer, payload, in->bytes, in->len,
                                                in->why, sizeof in->why);
        break;
    default:
        fail_msg("no tier function for body %d", (int)payload->body_case);
    }
    codec_payload_free(payload);
    return in->outcome < 0 ? in->outcome : 0; /* a refusal commits the rest */
}

/* Applies one payload in its own transaction; returns the tier's outcome. */
static int apply(fixture_t *f, const char *peer, const uint8_t *bytes, size_t len, char *why,
                 size_t whysize)
{
    struct incoming in = {peer, bytes, len, 0, ""};
    int rc = in_write(f, apply_fn, &in);
    snprintf(why, whysize, "%s", in.why);
    return rc ? rc : in.outcome;
}

/* ---- reading the store back ---- */

struct pending_arg {
    store_t *store;
    const char *stream;
    uint64_t count;
};

static int pending_read(store_txn_t *txn, void *arg)
{
    struct pending_arg *a = arg;
    outbox_state_t state;
    int rc = outbox_state(txn, a->store, a->stream, &state);
    a->count = rc ? 0 : state.next_seq - 1 - state.acked;
    return rc;
}

/* Items waiting on a stream ("up", or the one down to a child). */
static uint64_t pending(fixture_t *f, const char *stream_or_child, bool down)
{
    char stream[OUTBOX_STREAM_MAX];
    if (down)
        link_down_stream(stream, sizeof stream, stream_or_child);
    else
        snprintf(stream, sizeof stream, "%s", stream_or_child);
    struct pending_arg arg = {f->store, stream, 0};
    assert_int_equal(store_read(f->store, pending_read, &arg), 0);
    return arg.count;
}

/* ---- payloads ---- */

/* The embedded programme's document with another revision, as a Programme
 * payload (malloc'd). */
static uint8_t *programme_payload(uint64_t revision, const char *document, int64_t published_at,
                                  size_t *len)
{
    programme_t *programme = programme_load_default(NULL);
    assert_non_null(programme);
    char *text = NULL;
    if (!document) { /* the same document, its "revision" replaced */
        const char *original = programme_json(programme);
        const char *key = strstr(original, "\"revision\"");
        assert_non_null(key);
        const char *digits = key + strcspn(key, "0123456789");
        const char *rest = digits + strspn(digits, "0123456789");
        size_t size = strlen(original) + 32;
        text = malloc(size);
        snprintf(text, size, "%.*s%llu%s", (int)(digits - original), original,
                 (unsigned long long)revision, rest);
        document = text;
    }
    Shifan__Programme wire = SHIFAN__PROGRAMME__INIT;
    wire.programme_id = (char *)programme_id(programme);
    wire.revision = revision;
    wire.document.data = (uint8_t *)document;
    wire.document.len = strlen(document);
    wire.published_at = published_at;
    Shifan__Payload payload = SHIFAN__PAYLOAD__INIT;
    payload.body_case = SHIFAN__PAYLOAD__BODY_PROGRAMME;
    payload.programme = &wire;
    uint8_t *bytes;
    assert_int_equal(codec_payload_pack(&payload, &bytes, len), 0);
    free(text);
    programme_destroy(&programme);
    return bytes;
}

static uint8_t *return_payload(const char *report_id, const char *unit, const char *by, size_t *len)
{
    Shifan__Return ret = SHIFAN__RETURN__INIT;
    ret.report_id = (char *)report_id;
    ret.unit = (char *)unit;
    ret.year = 2018;
    ret.reason = "2.1: the denominator is last year's";
    ret.returned_at = NOW;
    ret.by = (char *)by;
    Shifan__Payload payload = SHIFAN__PAYLOAD__INIT;
    payload.body_case = SHIFAN__PAYLOAD__BODY_RETURN_FOR_CORRECTION;
    payload.return_for_correction = &ret;
    uint8_t *bytes;
    assert_int_equal(codec_payload_pack(&payload, &bytes, len), 0);
    return bytes;
}

/* A full Yunnan report of unit for 2018, as stored: a Report payload. */
static uint8_t *report_payload(const char *unit, const char *report_id, size_t *len)
{
    return fixture_report_payload(unit, report_id, NOW, len);
}

struct stored_report {
    const char *unit, *report_id;
};

static int store_report_fn(fixture_t *f, store_txn_t *txn, void *arg)
{
    struct stored_report *r = arg;
    size_t len;
    uint8_t *bytes = report_payload(r->unit, r->report_id, &len);
    records_report_t record = {r->report_id, r->unit, 2018, 1, 0, NOW};
    bool stored;
    int rc = records_report_store(txn, f->store, &record, bytes, len, &stored);
    free(bytes);
    return rc ? rc : tier_touch_data(f->tier, txn);
}

static void store_report(fixture_t *f, const char *unit, const char *report_id)
{
    struct stored_report r = {unit, report_id};
    assert_int_equal(in_write(f, store_report_fn, &r), 0);
}

struct lookup_arg {
    store_t *store;
    store_db_t db;
    const char *key;
};

static int lookup_fn(store_txn_t *txn, void *arg)
{
    struct lookup_arg *a = arg;
    const void *value;
    size_t len;
    return store_get(txn, a->store, a->db, a->key, strlen(a->key), &value, &len);
}

static bool stored_in(fixture_t *f, store_db_t db, const char *key)
{
    struct lookup_arg arg = {f->store, db, key};
    return store_read(f->store, lookup_fn, &arg) == 0;
}

/* ---- programmes ---- */

static void a_newer_programme_is_stored_passed_down_and_switched_to(void **state)
{
    fixture_t *f = *state;
    tier_t *tier = make_tier(f, ROLE_PREFECTURE, HUB);
    assert_int_equal(in_write(f, register_child, COUNTY), 0);
    assert_int_equal(programme_revision(tier_programme(tier)), 1);
    char why[256];
    size_t len;
    uint8_t *newer = programme_payload(2, NULL, NOW, &len);
    assert_int_equal(apply(f, "", newer, len, why, sizeof why), 0);
    assert_true(stored_in(f, DB_PROGRAMMES, "programme"));
    assert_int_equal(pending(f, COUNTY, true), 1); /* queued to the county in that commit */
    assert_int_equal(tier_programme_reload(tier, false), 1);
    assert_int_equal(programme_revision(tier_programme(tier)), 2);
    /* The standard it replaced is remembered: reports made under it still count. */
    assert_non_null(tier_earlier_standards(tier)[0]);

    free(newer);

    /* The same revision again (published later): applied, but neither
     * stored anew nor passed down nor switched to. */
    uint8_t *same = programme_payload(2, NULL, NOW + 60, &len);
    assert_int_equal(apply(f, "", same, len, why, sizeof why), 0);
    assert_int_equal(pending(f, COUNTY, true), 1);
    assert_int_equal(tier_programme_reload(tier, false), 0);
    free(same);

    /* An older revision changes nothing. */
    uint8_t *older = programme_payload(1, NULL, NOW, &len);
    assert_int_equal(apply(f, "", older, len, why, sizeof why), 0);
    assert_int_equal(pending(f, COUNTY, true), 1);
    assert_int_equal(tier_programme_reload(tier, false), 0);
    assert_int_equal(programme_revision(tier_programme(tier)), 2);
    free(older);
}

/* A bad programme and a good one in one transaction: the bad one is refused
 * (LINK_REFUSED, so the link refuses that item alone), the good one stays. */
static int bad_then_good_fn(fixture_t *f, store_txn_t *txn, void *arg)
{
    struct incoming *items = arg;
    for (size_t i = 0; i < 2; i++) {
        int rc = apply_fn(f, txn, &items[i]);
        if (rc)
            return rc;
    }
    return 0;
}

static void a_programme_that_does_not_load_is_refused_alone(void **state)
{
    fixture_t *f = *state;
    tier_t *tier = make_tier(f, ROLE_COUNTY, COUNTY);
    size_t bad_len, good_len;
    uint8_t *bad = programme_payload(9, "{\"format\": \"not a programme\"", NOW, &bad_len);
    uint8_t *good = programme_payload(3, NULL, NOW, &good_len);
    struct incoming items[2] = {{"", bad, bad_len, 0, ""}, {"", good, good_len, 0, ""}};
    assert_int_equal(in_write(f, bad_then_good_fn, items), 0);
    assert_int_equal(items[0].outcome, LINK_REFUSED);
    assert_non_null(strstr(items[0].why, "malformed: the published programme is invalid"));
    assert_int_equal(items[1].outcome, 0);
    assert_int_equal(tier_programme_reload(tier, false), 1);
    assert_int_equal(programme_revision(tier_programme(tier)), 3); /* not 9 */

    /* Alone, the bad one leaves nothing behind. */
    char why[256];
    assert_int_equal(apply(f, "", bad, bad_len, why, sizeof why), LINK_REFUSED);
    assert_int_equal(tier_programme_reload(tier, false), 0);
    assert_int_equal(programme_revision(tier_programme(tier)), 3);
    free(bad);
    free(good);
}

/* ---- returns ---- */

static void the_hubs_return_of_a_stored_report_goes_down_and_up(void **state)
{
    fixture_t *f = *state;
    tier_t *tier = make_tier(f, ROLE_PREFECTURE, HUB);
    char err[512];
    /* Nothing stored for that unit-year: refused with a reason. */
    assert_int_equal(tier_return(tier, COUNTY, 2018, "2.1 is wrong", NOW, err, sizeof err),
                     SF_EINVAL);
    assert_non_null(strstr(err, "no report of that unit-year is stored"));
    assert_int_equal(pending(f, COUNTY, true), 0);

    store_report(f, COUNTY, COUNTY "-2018-v1-00000001");
    assert_int_equal(tier_return(tier, COUNTY, 2018, "2.1 is wrong", NOW, err, sizeof err), 0);
    assert_true(stored_in(f, DB_RETURNS, COUNTY "-2018-v1-00000001"));
    assert_int_equal(pending(f, COUNTY, true), 1); /* down to the county */
    assert_int_equal(pending(f, "up", false), 1);  /* up to the province */

    /* A unit not under the hub, or no reason: refused, nothing queued. */
    assert_int_equal(tier_return(tier, "530300", 2018, "x", NOW, err, sizeof err), SF_EINVAL);
    assert_int_equal(tier_return(tier, COUNTY, 2018, "", NOW, err, sizeof err), SF_EINVAL);
    assert_int_equal(pending(f, "up", false), 1);
}

static void a_return_is_applied_only_from_who_may_send_it(void **state)
{
    fixture_t *f = *state;
    make_tier(f, ROLE_PROVINCE, PROVINCE);
    char why[256];
    size_t len;
    /* From the hub that made it, for a unit in its area: stored. */
    uint8_t *ok = return_payload(COUNTY "-2018-v1-00000001", COUNTY, HUB, &len);
    assert_int_equal(apply(f, HUB, ok, len, why, sizeof why), 0);
    assert_true(stored_in(f, DB_RETURNS, COUNTY "-2018-v1-00000001"));
    free(ok);
    /* Naming another hub as its sender: refused. */
    uint8_t *forged = return_payload(COUNTY "-2018-v1-00000002", COUNTY, "530300", &len);
    assert_int_equal(apply(f, HUB, forged, len, why, sizeof why), LINK_REFUSED);
    assert_false(stored_in(f, DB_RETURNS, COUNTY "-2018-v1-00000002"));
    free(forged);
    /* For a unit outside the hub's area: refused. */
    uint8_t *foreign = return_payload("530302-2018-v1-00000003", "530302", HUB, &len);
    assert_int_equal(apply(f, HUB, foreign, len, why, sizeof why), LINK_REFUSED);
    assert_non_null(strstr(why, "may not return reports of unit 530302"));
    assert_false(stored_in(f, DB_RETURNS, "530302-2018-v1-00000003"));
    free(foreign);
}

static void a_county_stores_its_own_returns_and_refuses_others(void **state)
{
    fixture_t *f = *state;
    make_tier(f, ROLE_COUNTY, COUNTY);
    char why[256];
    size_t len;
    uint8_t *ours = return_payload(COUNTY "-2018-v1-00000001", COUNTY, HUB, &len);
    assert_int_equal(apply(f, "", ours, len, why, sizeof why), 0);
    assert_true(stored_in(f, DB_RETURNS, COUNTY "-2018-v1-00000001"));
    free(ours);
    uint8_t *theirs = return_payload(OTHER_COUNTY "-2018-v1-00000002", OTHER_COUNTY, HUB, &len);
    assert_int_equal(apply(f, "", theirs, len, why, sizeof why), LINK_REFUSED);
    assert_false(stored_in(f, DB_RETURNS, OTHER_COUNTY "-2018-v1-00000002"));
    free(theirs);
}

/* ---- recommendations ---- */

static uint8_t *recommendation_payload(const char *prefecture, const char *unit, bool confirmed,
                                       uint64_t revision, size_t *len)
{
    char *units[1] = {(char *)unit};
    Shifan__Recommendation rec = SHIFAN__RECOMMENDATION__INIT;
    rec.prefecture = (char *)prefecture;
    rec.year = 2018;
    rec.units = units;
    rec.n_units = 1;
    rec.confirmed = confirmed;
    rec.made_at = NOW;
    rec.revision = revision;
    Shifan__Payload payload = SHIFAN__PAYLOAD__INIT;
    payload.body_case = SHIFAN__PAYLOAD__BODY_RECOMMENDATION;
    payload.recommendation = &rec;
    uint8_t *bytes;
    assert_int_equal(codec_payload_pack(&payload, &bytes, len), 0);
    return bytes;
}

static void a_hubs_recommendation_is_stored_at_the_province(void **state)
{
    fixture_t *f = *state;
    make_tier(f, ROLE_PROVINCE, PROVINCE);
    char why[256];
    size_t len;
    uint8_t *rec = recommendation_payload(HUB, COUNTY, true, 1, &len);
    assert_int_equal(apply(f, HUB, rec, len, why, sizeof why), 0);
    assert_true(stored_in(f, DB_RECOMMENDATIONS, HUB "/2018"));
    free(rec);
    /* Another hub may not recommend for this prefecture. */
    uint8_t *foreign = recommendation_payload(HUB, COUNTY, false, 2, &len);
    assert_int_equal(apply(f, "530300", foreign, len, why, sizeof why), LINK_REFUSED);
    free(foreign);
    /* Nor a hub a unit outside its area. */
    uint8_t *outside = recommendation_payload(HUB, "530302", false, 3, &len);
    assert_int_equal(apply(f, HUB, outside, len, why, sizeof why), LINK_REFUSED);
    assert_non_null(strstr(why, "which is not its unit"));
    free(outside);
}

/* ---- evaluation and the hub's ranking ---- */

static void evaluation_counts_what_is_stored(void **state)
{
    fixture_t *f = *state;
    tier_t *tier = make_tier(f, ROLE_PROVINCE, PROVINCE);
    store_report(f, COUNTY, COUNTY "-2018-v1-00000001");
    store_report(f, OTHER_COUNTY, OTHER_COUNTY "-2018-v1-00000002");
    engine_result_t *result = NULL;
    char err[512];
    assert_int_equal(tier_evaluate(tier, 2018, HUB, NOW, &result, err, sizeof err), 0);
    size_t reported = 0, missing = 0;
    for (size_t i = 0; i < engine_result_unit_count(result); i++) {
        const engine_unit_result_t *unit = engine_result_unit(result, i);
        if (unit->status == ENGINE_MISSING)
            missing++;
        else {
            reported++;
            assert_true(strcmp(unit->unit->code, COUNTY) == 0 ||
                        strcmp(unit->unit->code, OTHER_COUNTY) == 0);
        }
    }
    assert_int_equal(reported, 2);
    assert_true(missing > 0); /* the hub's other counties sent nothing */
    engine_result_destroy(&result);
    /* A year outside the programme is the user's mistake. */
    assert_int_equal(tier_evaluate(tier, 2030, NULL, NOW, &result, err, sizeof err), SF_EINVAL);
    assert_null(result);
}

/* The first unit of the recommendation stored for holder/2018 ("" if none). */
struct first_unit_arg {
    store_t *store;
    char unit[PROGRAMME_CODE_MAX];
};

static int first_unit_fn(store_txn_t *txn, void *arg)
{
    struct first_unit_arg *a = arg;
    const void *value;
    size_t len;
    int rc = store_get(txn, a->store, DB_RECOMMENDATIONS, HUB "/2018", strlen(HUB "/2018"), &value,
                       &len);
    if (rc)
        return rc;
    Shifan__Payload *payload = codec_payload_unpack(value, len);
    assert_non_null(payload);
    assert_int_equal(payload->body_case, SHIFAN__PAYLOAD__BODY_RECOMMENDATION);
    snprintf(a->unit, sizeof a->unit, "%s",
             payload->recommendation->n_units ? payload->recommendation->units[0] : "");
    codec_payload_free(payload);
    return 0;
}

static const char *recommended(fixture_t *f, char *out)
{
    struct first_unit_arg arg = {f->store, ""};
    assert_int_equal(store_read(f->store, first_unit_fn, &arg), 0);
    return strcpy(out, arg.unit);
}

static void the_hubs_automatic_recommendation_is_queued_once_per_change(void **state)
{
    fixture_t *f = *state;
    tier_t *tier = make_tier(f, ROLE_PREFECTURE, HUB);
    char unit[PROGRAMME_CODE_MAX], err[512];
    store_report(f, COUNTY, COUNTY "-2018-v1-00000001");
    tier_auto_recommend(tier, NOW, 1000); /* first sight of the data: ranks at once */
    uint64_t queued = pending(f, "up", false);
    assert_true(queued >= 1); /* a list per programme year, 2018's naming the county */
    assert_string_equal(recommended(f, unit), COUNTY);

    /* Nothing changed: nothing more, however often asked. */
    tier_auto_recommend(tier, NOW, 5000);
    tier_auto_recommend(tier, NOW, 40000);
    assert_int_equal(pending(f, "up", false), queued);

    /* The data moved but the list (quota 1) stays: re-ranked, nothing queued. */
    store_report(f, OTHER_COUNTY, OTHER_COUNTY "-2018-v1-00000002");
    tier_auto_recommend(tier, NOW, 41000);
    tier_auto_recommend(tier, NOW, 43500);
    assert_int_equal(pending(f, "up", false), queued);

    /* The county's report returned: the other county takes its place, once
     * the data has been quiet for a moment, and it is queued once. */
    assert_int_equal(tier_return(tier, COUNTY, 2018, "2.1 is wrong", NOW, err, sizeof err), 0);
    queued++; /* the return itself goes up */
    assert_int_equal(pending(f, "up", false), queued);
    tier_auto_recommend(tier, NOW, 44000); /* just changed: waits for quiet */
    assert_int_equal(pending(f, "up", false), queued);
    tier_auto_recommend(tier, NOW, 46500);
    assert_int_equal(pending(f, "up", false), queued + 1);
    assert_string_equal(recommended(f, unit), OTHER_COUNTY);
    tier_auto_recommend(tier, NOW, 50000);
    tier_auto_recommend(tier, NOW, 90000);
    assert_int_equal(pending(f, "up", false), queued + 1);
}

/* The daemon's ticks after a change: it sees the change, then ranks once
 * the data has been quiet for 2 s. */
static void rank_once_quiet(tier_t *tier, int64_t mono_ms)
{
    tier_auto_recommend(tier, NOW, mono_ms);
    tier_auto_recommend(tier, NOW, mono_ms + 2500);
}

/* The ranking keeps its input between rankings and decodes only the reports
 * stored since: a report whose key sorts before every key it holds, one
 * between them and one after them are each found, and a return (not a
 * report) makes it load everything again. Equal values rank the lower code
 * first (docs/results-format.md), so each step's list shows whether the
 * ranking saw the report just stored. */
static void the_kept_ranking_input_sees_every_report_stored_since(void **state)
{
    fixture_t *f = *state;
    tier_t *tier = make_tier(f, ROLE_PREFECTURE, HUB);
    char unit[PROGRAMME_CODE_MAX], err[512];
    store_report(f, "530112", "530112-2018-v1-00000005");
    tier_auto_recommend(tier, NOW, 1000);
    assert_string_equal(recommended(f, unit), "530112");

    store_report(f, "530111", "530111-2018-v1-00000004"); /* after nothing, before all */
    rank_once_quiet(tier, 4000);
    assert_string_equal(recommended(f, unit), "530111");

    store_report(f, "530114", "530114-2018-v1-00000006");            /* after all: ranks below */
    store_report(f, OTHER_COUNTY, OTHER_COUNTY "-2018-v1-00000002"); /* before all */
    rank_once_quiet(tier, 7000);
    assert_string_equal(recommended(f, unit), OTHER_COUNTY);

    store_report(f, COUNTY, COUNTY "-2018-v1-00000001");
    rank_once_quiet(tier, 10000);
    assert_string_equal(recommended(f, unit), COUNTY);

    /* A return is not a report: everything is loaded again, and the
     * returned county drops out. */
    assert_int_equal(tier_return(tier, COUNTY, 2018, "2.1 is wrong", NOW, err, sizeof err), 0);
    rank_once_quiet(tier, 13000);
    assert_string_equal(recommended(f, unit), OTHER_COUNTY);
    store_report(f, COUNTY, COUNTY "-2018-v2-00000003"); /* a newer version clears it */
    rank_once_quiet(tier, 16000);
    assert_string_equal(recommended(f, unit), COUNTY);
}

static int fill_up_fn(fixture_t *f, store_txn_t *txn, void *arg)
{
    size_t count = *(size_t *)arg;
    for (size_t i = 0; i < count; i++) {
        int rc = outbox_append(txn, f->store, "up", "x", 1, NULL);
        if (rc)
            return rc;
    }
    return 0;
}

static int ack_up_fn(fixture_t *f, store_txn_t *txn, void *arg)
{
    (void)arg;
    outbox_state_t up;
    int rc = outbox_state(txn, f->store, "up", &up);
    return rc ? rc : outbox_ack(txn, f->store, "up", up.epoch, up.next_seq - 1);
}

/* A provisional list would only queue behind a long forward queue: the hub
 * ranks once the queue is short again, and then at once. */
static void the_hub_does_not_rank_while_its_forward_queue_is_long(void **state)
{
    fixture_t *f = *state;
    tier_t *tier = make_tier(f, ROLE_PREFECTURE, HUB);
    char unit[PROGRAMME_CODE_MAX];
    size_t backlog = 1001;
    assert_int_equal(in_write(f, fill_up_fn, &backlog), 0);
    store_report(f, COUNTY, COUNTY "-2018-v1-00000001");
    tier_auto_recommend(tier, NOW, 1000);
    tier_auto_recommend(tier, NOW, 40000); /* long quiet, long overdue: still waits */
    assert_int_equal(pending(f, "up", false), backlog);
    assert_false(stored_in(f, DB_RECOMMENDATIONS, HUB "/2018"));

    assert_int_equal(in_write(f, ack_up_fn, NULL), 0); /* the parent took it all */
    assert_int_equal(pending(f, "up", false), 0);
    tier_auto_recommend(tier, NOW, 41000);
    assert_true(pending(f, "up", false) >= 1);
    assert_string_equal(recommended(f, unit), COUNTY);
}

/* A confirm after the calendar's recommendation deadline (Yunnan: 09-30) is
 * refused with nothing stored or queued, unless the operator overrides it;
 * showing the lists, or confirming up to the deadline itself, needs none. */
static void a_confirm_after_the_deadline_needs_an_override(void **state)
{
    fixture_t *f = *state;
    tier_t *tier = make_tier(f, ROLE_PREFECTURE, HUB);
    char err[512];
    tier_recommendations_t *lists = NULL;
    store_report(f, COUNTY, COUNTY "-2018-v1-00000001");
    int64_t due = programme_deadline(tier_programme(tier), STAGE_RECOMMENDATION, 2018);
    tier_recommend_request_t request = {true, false, "tester"};
    assert_int_equal(tier_recommend(tier, 2018, &request, due + 1, &lists, err, sizeof err),
                     SF_EINVAL);
    assert_null(lists);
    assert_non_null(strstr(err, "2018-09-30T23:59:59+08:00"));
    assert_non_null(strstr(err, "override"));
    assert_false(stored_in(f, DB_RECOMMENDATIONS, HUB "/2018"));
    assert_int_equal(pending(f, "up", false), 0);

    assert_int_equal(tier_recommend(tier, 2018, NULL, due + 1, &lists, err, sizeof err), 0);
    assert_false(lists->lists[0].confirmed);
    tier_recommendations_destroy(&lists);

    request.override_deadline = true;
    assert_int_equal(tier_recommend(tier, 2018, &request, due + 1, &lists, err, sizeof err), 0);
    assert_true(lists->lists[0].confirmed);
    assert_string_equal(lists->lists[0].units[0], COUNTY);
    tier_recommendations_destroy(&lists);
    assert_true(stored_in(f, DB_RECOMMENDATIONS, HUB "/2018"));
    assert_int_equal(pending(f, "up", false), 1);

    /* The last second of the deadline day is still in time. */
    request.override_deadline = false;
    int64_t due_2019 = programme_deadline(tier_programme(tier), STAGE_RECOMMENDATION, 2019);
    assert_int_equal(tier_recommend(tier, 2019, &request, due_2019, &lists, err, sizeof err), 0);
    tier_recommendations_destroy(&lists);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(a_newer_programme_is_stored_passed_down_and_switched_to,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(a_programme_that_does_not_load_is_refused_alone, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(the_hubs_return_of_a_stored_report_goes_down_and_up, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_return_is_applied_only_from_who_may_send_it, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_county_stores_its_own_returns_and_refuses_others, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_hubs_recommendation_is_stored_at_the_province, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(evaluation_counts_what_is_stored, setup, teardown),
        cmocka_unit_test_setup_teardown(the_hubs_automatic_recommendation_is_queued_once_per_change,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(the_kept_ranking_input_sees_every_report_stored_since,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(the_hub_does_not_rank_while_its_forward_queue_is_long,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(a_confirm_after_the_deadline_needs_an_override, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
