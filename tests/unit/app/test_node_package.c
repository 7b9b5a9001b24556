/* export-package and import-package at the node (node.h), on real nodes in
 * a temp dir: a county's package opens at its hub and is applied once; an
 * empty queue is no package; the hub refuses a package from a unit that is
 * not its child, one sealed to another node, and one signed by a key other
 * than the one it holds for the county, and says when it holds none yet. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/stime.h"
#include "storage/outbox.h"
#include "storage/signkeys.h"
#include "storage/store.h"
#include "domain/report.h"
#include "app/node.h"

#define COUNTY "530102"
#define HUB "530100"

typedef struct {
    char dir[64];
    node_t *county, *hub, *province;
    char package[128];
} fixture_t;

static node_t *make_node(fixture_t *f, const char *name, node_role_t role, const char *code,
                         const char *upstream_key)
{
    char path[128], err[256];
    snprintf(path, sizeof path, "%s/%s", f->dir, name);
    node_init_options_t options = {role, code, NULL, NULL, NULL, NULL};
    if (role != ROLE_COUNTY)
        options.listen = "tcp://127.0.0.1:*";
    if (role != ROLE_PROVINCE) {
        options.upstream = "tcp://127.0.0.1:1"; /* nothing listens: the link is down */
        options.upstream_key = upstream_key;
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
    snprintf(f->dir, sizeof f->dir, "/tmp/shifan-package-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    f->province = make_node(f, "province", ROLE_PROVINCE, NULL, NULL);
    f->hub = make_node(f, "hub", ROLE_PREFECTURE, HUB, node_public_key(f->province));
    f->county = make_node(f, "county", ROLE_COUNTY, COUNTY, node_public_key(f->hub));
    snprintf(f->package, sizeof f->package, "%s/county.pkg", f->dir);
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
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static void county_submits(fixture_t *f, int year)
{
    static const char *json =
        "{\"unit\":\"" COUNTY "\",\"year\":%d,\"values\":{\"1.1\":true,\"1.2a\":true,"
        "\"1.2b\":true,\"1.2c\":2,\"1.3\":true,\"1.4a\":true,\"1.4b\":2,\"1.5\":true}}";
    char text[512], err[256];
    snprintf(text, sizeof text, json, year);
    report_t *report = report_parse_json(text, strlen(text), "test", NULL, err, sizeof err);
    if (!report)
        fail_msg("%s", err);
    assert_int_equal(node_submit(f->county, report, err, sizeof err), 0);
    report_destroy(&report);
}

static void county_exports(fixture_t *f, size_t expected)
{
    char err[256];
    size_t items = 0;
    assert_int_equal(node_export_package(f->county, f->package, &items, err, sizeof err), 0);
    assert_int_equal(items, expected);
}

static void allow_county(fixture_t *f)
{
    char err[256];
    assert_int_equal(node_allow(f->hub, COUNTY, node_public_key(f->county), err, sizeof err), 0);
}

struct key_arg {
    node_t *node;
    const uint8_t *key;
    int64_t until; /* 0: in force */
};

static int put_key_fn(store_txn_t *txn, void *varg)
{
    struct key_arg *arg = varg;
    signkey_t key = {.since = 1, .until = arg->until};
    snprintf(key.unit, sizeof key.unit, "%s", COUNTY);
    memcpy(key.key, arg->key, SIGNKEYS_KEY_BYTES);
    return signkeys_put(txn, node_store(arg->node), &key);
}

static void hub_holds_key(fixture_t *f, const uint8_t *key, int64_t until)
{
    struct key_arg arg = {f->hub, key, until};
    assert_int_equal(store_write(node_store(f->hub), put_key_fn, &arg), 0);
}

static int ack_all_fn(store_txn_t *txn, void *arg)
{
    store_t *store = arg;
    outbox_state_t up;
    int rc = outbox_state(txn, store, "up", &up);
    return rc ? rc : outbox_ack(txn, store, "up", up.epoch, up.next_seq - 1);
}

static void a_package_is_applied_once_and_an_empty_queue_is_none(void **state)
{
    fixture_t *f = *state;
    char err[256];
    county_submits(f, 2017);
    county_submits(f, 2018);
    county_exports(f, 3); /* its signing key, queued at init, and the two */
    allow_county(f);
    node_import_t done;
    assert_int_equal(node_import_package(f->hub, f->package, &done, err, sizeof err), 0);
    assert_string_equal(done.from, COUNTY);
    assert_int_equal(done.items, 3);
    assert_int_equal(done.applied, 3);
    assert_int_equal(done.in_stream, 3);
    assert_true(done.signer_unregistered);
    node_import_release(&done);
    assert_int_equal(node_import_package(f->hub, f->package, &done, err, sizeof err), 0);
    assert_int_equal(done.applied, 0);
    assert_int_equal(done.duplicates, 3);
    node_import_release(&done);
    sf_error_t error = {0, ""};
    node_status_t *status = node_status(f->hub, &error);
    assert_non_null(status);
    assert_int_equal(status->reports, 2);
    /* forwarded to the province, once: the hub's key, the county's, the two */
    assert_int_equal(status->queued, 4);
    /* Once the parent acknowledged everything (the link's Welcome would),
     * an export is refused: there is nothing to carry. */
    assert_int_equal(store_write(node_store(f->county), ack_all_fn, node_store(f->county)), 0);
    size_t items = 99;
    assert_int_equal(node_export_package(f->county, f->package, &items, err, sizeof err),
                     SF_EINVAL);
    assert_int_equal(items, 0);
    assert_non_null(strstr(err, "nothing is queued for the parent"));
    node_status_destroy(&status);
}

static void a_package_from_no_child_or_for_another_node_is_refused(void **state)
{
    fixture_t *f = *state;
    char err[256];
    county_submits(f, 2018);
    county_exports(f, 2);
    node_import_t done;
    assert_int_equal(node_import_package(f->hub, f->package, &done, err, sizeof err), SF_EINVAL);
    assert_non_null(strstr(err, "not a child registered here"));
    assert_int_equal(node_import_package(f->province, f->package, &done, err, sizeof err),
                     SF_EINVAL);
    assert_non_null(strstr(err, "does not open with this node's key"));
    assert_int_equal(node_import_package(f->county, f->package, &done, err, sizeof err), SF_EINVAL);
}

static void the_signing_key_must_be_one_held_for_the_county(void **state)
{
    fixture_t *f = *state;
    char err[256];
    county_submits(f, 2018);
    county_exports(f, 2);
    allow_county(f);
    uint8_t other[SIGNKEYS_KEY_BYTES];
    memset(other, 0x42, sizeof other);
    hub_holds_key(f, other, 0);
    node_import_t done;
    assert_int_equal(node_import_package(f->hub, f->package, &done, err, sizeof err), SF_EINVAL);
    assert_non_null(strstr(err, "signed by a key this node does not hold for " COUNTY));
    hub_holds_key(f, other, 2); /* replaced by the county's own key */
    hub_holds_key(f, node_sign_public_key(f->county), 0);
    assert_int_equal(node_import_package(f->hub, f->package, &done, err, sizeof err), 0);
    assert_false(done.signer_unregistered);
    assert_int_equal(done.applied, 2);
    node_import_release(&done);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(a_package_is_applied_once_and_an_empty_queue_is_none, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_package_from_no_child_or_for_another_node_is_refused,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(the_signing_key_must_be_one_held_for_the_county, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
