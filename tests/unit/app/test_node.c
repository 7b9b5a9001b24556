/* What a node does with items that arrive, on real stores in a temp dir:
 * the bound on what one child may make its parent store, refusal notices
 * shown to the county, and the order of versions across a re-init. Items
 * are made by a real county node (node_submit) and applied at a real hub
 * with node_apply_payload, as the link would apply them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "storage/outbox.h"
#include "storage/store.h"
#include "transport/codec.h"
#include "transport/link.h"
#include "domain/report.h"
#include "app/cli.h"
#include "app/node.h"

#include <zmq.h>

static char parent_key[41], parent_secret[41]; /* a real key; nothing listens */

#define COUNTY "530102"
#define HUB "530100"

typedef struct {
    char dir[64];
    node_t *county, *hub;
    uint8_t **items; /* what the county queued up, in order */
    size_t *lens, count;
} fixture_t;

static node_t *make_node(fixture_t *f, const char *name, node_role_t role, const char *code)
{
    char path[128], err[256];
    snprintf(path, sizeof path, "%s/%s", f->dir, name);
    node_init_options_t options = {role, code, NULL, NULL, NULL, NULL};
    if (role == ROLE_COUNTY) {
        options.upstream = "tcp://127.0.0.1:1";
        options.upstream_key = parent_key;
    } else {
        options.listen = "tcp://127.0.0.1:*";
        options.upstream = "tcp://127.0.0.1:1";
        options.upstream_key = parent_key;
    }
    if (node_init(path, &options, err, sizeof err) != 0)
        fail_msg("init %s: %s", name, err);
    sf_error_t error = {0, ""};
    node_t *node = node_open(path, role, &error);
    if (!node)
        fail_msg("open %s: %s", name, error.text);
    return node;
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    assert_int_equal(zmq_curve_keypair(parent_key, parent_secret), 0);
    snprintf(f->dir, sizeof f->dir, "/tmp/shifan-node-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    f->county = make_node(f, "county", ROLE_COUNTY, COUNTY);
    f->hub = make_node(f, "hub", ROLE_PREFECTURE, HUB);
    *state = f;
    return 0;
}

static void forget_items(fixture_t *f)
{
    for (size_t i = 0; i < f->count; i++)
        free(f->items[i]);
    free(f->items);
    free(f->lens);
    f->items = NULL;
    f->lens = NULL;
    f->count = 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    forget_items(f);
    node_destroy(&f->county);
    node_destroy(&f->hub);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* A full Yunnan report; `padding` bytes of comment make it large. */
static report_t *a_report(int year, size_t padding)
{
    static const char *json =
        "{\"unit\":\"" COUNTY "\",\"year\":%d,\"values\":{\"1.1\":true,\"1.2a\":true,"
        "\"1.2b\":true,\"1.2c\":2,\"1.3\":true,\"1.4a\":true,\"1.4b\":2,\"1.5\":true,"
        "\"2.1\":{\"num\":900,\"den\":1000},\"2.2\":{\"num\":850,\"den\":1000},"
        "\"2.3\":{\"num\":960,\"den\":1000},\"2.4\":{\"num\":930,\"den\":1000},"
        "\"2.5\":{\"num\":880,\"den\":1000},\"2.6\":{\"num\":870,\"den\":1000},"
        "\"2.7\":{\"num\":50,\"den\":50},\"2.8\":{\"num\":970,\"den\":1000},\"3.1\":true,"
        "\"3.2\":true,\"3.3a\":true,\"3.3b\":3,\"3.4\":true,\"3.5\":6,\"3.6\":2,\"4.1\":true,"
        "\"4.2\":true,\"4.3\":true,\"4.4\":true,\"4.5\":true,\"5.1\":true,\"5.2\":true,"
        "\"5.3\":2,\"5.4a\":1,\"5.4b\":1,\"5.4c\":12,\"5.5\":true,"
        "\"6.1\":{\"num\":95,\"den\":100},\"6.2\":{\"num\":92,\"den\":100},"
        "\"6.3\":{\"num\":97,\"den\":100}},\"comments\":{%s}}";
    char comments[16384] = "";
    const char *ids[] = {"1.1", "1.2a", "1.2b", "1.3"};
    for (size_t c = 0; c < 4 && padding > 0; c++) {
        size_t n = padding > 4000 ? 4000 : padding;
        padding -= n;
        size_t at = strlen(comments);
        at += (size_t)snprintf(comments + at, sizeof comments - at, "%s\"%s\":\"", c ? "," : "",
                               ids[c]);
        memset(comments + at, 'x', n);
        snprintf(comments + at + n, sizeof comments - at - n, "\"");
    }
    char text[20000], err[256];
    snprintf(text, sizeof text, json, year, comments);
    report_t *report = report_parse_json(text, strlen(text), "test", NULL, err, sizeof err);
    if (!report)
        fail_msg("%s", err);
    return report;
}

static int collect(uint64_t seq, const void *data, size_t len, void *arg)
{
    (void)seq;
    fixture_t *f = arg;
    f->items = realloc(f->items, (f->count + 1) * sizeof *f->items);
    f->lens = realloc(f->lens, (f->count + 1) * sizeof *f->lens);
    f->items[f->count] = malloc(len);
    memcpy(f->items[f->count], data, len);
    f->lens[f->count++] = len;
    return 0;
}

static int collect_fn(store_txn_t *txn, void *arg)
{
    fixture_t *f = arg;
    return outbox_scan(txn, node_store(f->county), "up", 1, SIZE_MAX, SIZE_MAX, collect, f);
}

/* Submits n reports at the county and collects what it queued up. */
static void county_submits(fixture_t *f, int n, int year, size_t padding)
{
    char err[256];
    for (int i = 0; i < n; i++) {
        report_t *report = a_report(year, padding);
        assert_int_equal(node_submit(f->county, report, err, sizeof err), 0);
        report_destroy(&report);
    }
    forget_items(f);
    assert_int_equal(store_read(node_store(f->county), collect_fn, f), 0);
}

static int hub_takes(fixture_t *f, size_t i, char *why, size_t whysize)
{
    return node_apply_payload(f->hub, COUNTY, f->items[i], f->lens[i], why, whysize);
}

/* One county may make its hub store at most 4 MiB per unit of its area and
 * year (the county and its sites: here one unit). Past that it is refused
 * with a reason, and a resend of what is stored is still no refusal. */
static void a_child_is_bounded_per_year(void **state)
{
    fixture_t *f = *state;
    county_submits(f, 80, 2018, 14000); /* about 1.1 MiB of comments in all */
    char why[256];
    size_t stored = 0;
    int outcome = 0;
    for (size_t i = 0; i < f->count; i++) {
        why[0] = '\0';
        outcome = hub_takes(f, i, why, sizeof why);
        if (outcome != 0)
            break;
        stored++;
    }
    /* Far below the bound: all stored (80 reports after the county's
     * signing key, which it queues first). */
    assert_int_equal(outcome, 0);
    assert_int_equal(stored, 81);
    /* More 2018 batches of the same size pass the 4 MiB of that year; the
     * county's outbox still holds the earlier ones, which are resends. */
    for (int round = 0; round < 4 && outcome == 0; round++) {
        county_submits(f, 80, 2018, 14000);
        for (size_t i = 0; i < f->count; i++) {
            outcome = hub_takes(f, i, why, sizeof why);
            if (outcome == LINK_OVER_LIMIT)
                break;
            assert_int_equal(outcome, 0); /* known ones: resends, no refusal */
        }
    }
    assert_int_equal(outcome, LINK_OVER_LIMIT);
    assert_non_null(strstr(why, "over limit: " COUNTY " has stored"));
    /* A resend of a stored version is never over the limit. */
    assert_int_equal(hub_takes(f, 0, why, sizeof why), 0);
    /* Another year has its own bound. */
    county_submits(f, 1, 2019, 0);
    assert_int_equal(hub_takes(f, f->count - 1, why, sizeof why), 0);
}

/* A refusal notice from the parent marks the report refused at the county,
 * with the parent's reason, and status counts it. */
static void a_refusal_notice_marks_the_report_refused(void **state)
{
    fixture_t *f = *state;
    county_submits(f, 2, 2018, 0);
    node_versions_t *list = node_list(f->county, NULL);
    assert_non_null(list);
    assert_int_equal(list->count, 2);
    char report_id[REPORT_ID_MAX];
    snprintf(report_id, sizeof report_id, "%s", list->versions[1].report_id);
    node_versions_destroy(&list);

    Shifan__ItemRefused notice = SHIFAN__ITEM_REFUSED__INIT;
    notice.epoch = 1;
    notice.seq = 2;
    notice.reason = SHIFAN__REFUSAL__REASON__MALFORMED;
    notice.detail = "criterion 9.9: unknown criterion";
    notice.report_id = report_id;
    notice.kind = "report";
    notice.refused_by = HUB;
    Shifan__Payload payload = SHIFAN__PAYLOAD__INIT;
    payload.body_case = SHIFAN__PAYLOAD__BODY_REFUSED;
    payload.refused = &notice;
    uint8_t *bytes;
    size_t len;
    assert_int_equal(codec_payload_pack(&payload, &bytes, &len), 0);
    char why[256];
    assert_int_equal(node_apply_payload(f->county, "", bytes, len, why, sizeof why), 0);
    free(bytes);

    list = node_list(f->county, NULL);
    assert_non_null(list);
    int refused = 0;
    for (size_t i = 0; i < list->count; i++) {
        const node_version_t *version = &list->versions[i];
        if (strcmp(version->report_id, report_id) == 0) {
            assert_int_equal(version->state, NODE_VERSION_REFUSED);
            assert_string_equal(version->refusal, "criterion 9.9: unknown criterion");
            assert_string_equal(version->refused_by, HUB);
            char text[640];
            assert_string_equal(cli_version_state(version, text, sizeof text),
                                "refused: criterion 9.9: unknown criterion");
            refused++;
        } else {
            assert_int_not_equal(version->state, NODE_VERSION_REFUSED);
        }
    }
    node_versions_destroy(&list);
    assert_int_equal(refused, 1);
    node_status_t *status = node_status(f->county, NULL);
    assert_non_null(status);
    assert_int_equal(status->refused, 1);
    node_status_destroy(&status);
}

/* node_check: the engine's verdict of a report, and nothing stored. */
static void a_check_stores_nothing_and_names_the_blanks(void **state)
{
    fixture_t *f = *state;
    char err[256];
    report_t *report = a_report(2018, 0);
    verdict_check_t *check = NULL;
    assert_int_equal(node_check(f->county, report, &check, err, sizeof err), 0);
    assert_true(check->passed);
    assert_int_equal(check->blank_count, 0);
    assert_int_equal(check->items_passed, check->item_count);
    verdict_check_destroy(&check);
    node_versions_t *versions = node_list(f->county, NULL);
    assert_non_null(versions);
    assert_int_equal(versions->count, 0);
    node_versions_destroy(&versions);

    report_t *blank = a_report(2018, 0);
    blank->value_count--; /* 6.3, the last criterion, left blank */
    free(blank->values[blank->value_count].comment);
    assert_int_equal(node_check(f->county, blank, &check, err, sizeof err), 0);
    assert_false(check->passed);
    assert_int_equal(check->blank_count, 1);
    assert_true(check->criteria[check->criterion_count - 1].blank);
    verdict_check_destroy(&check);
    report_destroy(&blank);

    assert_int_equal(node_check(f->hub, report, &check, err, sizeof err), SF_EINVAL);
    assert_null(check);
    snprintf(report->unit, sizeof report->unit, "530103");
    assert_int_equal(node_check(f->county, report, &check, err, sizeof err), SF_EINVAL);
    assert_non_null(strstr(err, "may report only for its own unit"));
    report_destroy(&report);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(a_child_is_bounded_per_year, setup, teardown),
        cmocka_unit_test_setup_teardown(a_check_stores_nothing_and_names_the_blanks, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_refusal_notice_marks_the_report_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
