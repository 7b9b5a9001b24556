/* The store's typed API and the record layouts of records.h, on real LMDB
 * files in a temp dir: get/put/del, prefix walks, no-overwrite, the map
 * growing under a transaction that is then run again, and the DB_LATEST
 * value in both of its formats. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/error.h"
#include "storage/records.h"
#include "storage/store.h"

typedef struct {
    char dir[64];
    store_t *store;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/shifan-store-XXXXXX");
    if (!f || !mkdtemp(f->dir))
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    store_destroy(&f->store);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    int rc = system(cmd);
    free(f);
    return rc;
}

static store_t *open_store(fixture_t *f, size_t mapsize)
{
    sf_error_t err = {0, ""};
    f->store = store_open(f->dir, mapsize, &err);
    assert_non_null(f->store);
    return f->store;
}

struct kv_arg {
    store_t *store;
    int result;
    char seen[256];
    int stop_after;
    int visits;
};

static int put_fruit_fn(store_txn_t *txn, void *arg)
{
    struct kv_arg *a = arg;
    const char *keys[] = {"apple/1", "apple/2", "apricot", "banana/1", "apple/3"};
    for (size_t i = 0; i < 5; i++) {
        int rc = store_put(txn, a->store, DB_META, keys[i], strlen(keys[i]), "v", 1, 0);
        if (rc)
            return rc;
    }
    return 0;
}

static int collect(const void *key, size_t klen, const void *value, size_t vlen, void *arg)
{
    struct kv_arg *a = arg;
    (void)value, (void)vlen;
    size_t at = strlen(a->seen);
    snprintf(a->seen + at, sizeof a->seen - at, "%s%.*s", at ? "," : "", (int)klen,
             (const char *)key);
    return ++a->visits == a->stop_after ? 7 : 0;
}

static int walk_apple_fn(store_txn_t *txn, void *arg)
{
    struct kv_arg *a = arg;
    a->result = store_each(txn, a->store, DB_META, "apple/", 6, collect, a);
    return 0;
}

static int walk_all_fn(store_txn_t *txn, void *arg)
{
    struct kv_arg *a = arg;
    a->result = store_each(txn, a->store, DB_META, NULL, 0, collect, a);
    return 0;
}

static void each_walks_a_prefix_in_key_order_and_stops_when_asked(void **state)
{
    fixture_t *f = *state;
    store_t *store = open_store(f, 0);
    struct kv_arg arg = {.store = store};
    assert_int_equal(store_write(store, put_fruit_fn, &arg), 0);
    assert_int_equal(store_read(store, walk_apple_fn, &arg), 0);
    assert_int_equal(arg.result, 0);
    assert_string_equal(arg.seen, "apple/1,apple/2,apple/3");

    arg = (struct kv_arg){.store = store};
    assert_int_equal(store_read(store, walk_all_fn, &arg), 0);
    assert_string_equal(arg.seen, "apple/1,apple/2,apple/3,apricot,banana/1");

    /* fn's non-zero value stops the walk and is what store_each returns. */
    arg = (struct kv_arg){.store = store, .stop_after = 2};
    assert_int_equal(store_read(store, walk_all_fn, &arg), 0);
    assert_int_equal(arg.result, 7);
    assert_string_equal(arg.seen, "apple/1,apple/2");

    assert_int_equal(store_count(store, DB_META), 5);
}

static int get_put_del_fn(store_txn_t *txn, void *arg)
{
    struct kv_arg *a = arg;
    store_t *store = a->store;
    const void *value;
    size_t len;
    assert_int_equal(store_get(txn, store, DB_REPORTS, "r1", 2, &value, &len), SF_ENOTFOUND);
    assert_int_equal(store_put(txn, store, DB_REPORTS, "r1", 2, "first", 5, 0), 0);
    assert_int_equal(store_get(txn, store, DB_REPORTS, "r1", 2, &value, &len), 0);
    assert_int_equal(len, 5);
    assert_memory_equal(value, "first", 5);
    /* No-overwrite keeps the first value: the dedup of reports by id. */
    assert_int_equal(store_put(txn, store, DB_REPORTS, "r1", 2, "again", 5, STORE_NOOVERWRITE),
                     SF_EEXIST);
    assert_int_equal(store_get(txn, store, DB_REPORTS, "r1", 2, &value, &len), 0);
    assert_memory_equal(value, "first", 5);
    /* Without it, the value is replaced. */
    assert_int_equal(store_put(txn, store, DB_REPORTS, "r1", 2, "second", 6, 0), 0);
    assert_int_equal(store_get(txn, store, DB_REPORTS, "r1", 2, &value, &len), 0);
    assert_memory_equal(value, "second", 6);
    /* Keys LMDB cannot hold are bad input, not a store failure. */
    assert_int_equal(store_put(txn, store, DB_REPORTS, "", 0, "x", 1, 0), SF_EINVAL);
    char big[600];
    memset(big, 'k', sizeof big);
    assert_int_equal(store_put(txn, store, DB_REPORTS, big, sizeof big, "x", 1, 0), SF_EINVAL);
    assert_int_equal(store_del(txn, store, DB_REPORTS, "r1", 2), 0);
    assert_int_equal(store_del(txn, store, DB_REPORTS, "r1", 2), SF_ENOTFOUND);
    assert_int_equal(store_get(txn, store, DB_REPORTS, "r1", 2, &value, &len), SF_ENOTFOUND);
    /* Strings and counters. */
    char text[8];
    uint64_t number = 0;
    assert_int_equal(store_put_string(txn, store, DB_META, "role", "county"), 0);
    assert_int_equal(store_get_string(txn, store, DB_META, "role", text, sizeof text), 0);
    assert_string_equal(text, "county");
    assert_int_equal(store_get_string(txn, store, DB_META, "role", text, 4), SF_ETOOBIG);
    assert_int_equal(store_get_u64(txn, store, DB_META, "role", &number), SF_ECORRUPT);
    assert_int_equal(store_put_u64(txn, store, DB_META, "n", 41), 0);
    assert_int_equal(records_counter_bump(txn, store, "n"), 0);
    assert_int_equal(records_counter_bump(txn, store, "fresh"), 0);
    assert_int_equal(store_get_u64(txn, store, DB_META, "n", &number), 0);
    assert_int_equal(number, 42);
    assert_int_equal(store_get_u64(txn, store, DB_META, "fresh", &number), 0);
    assert_int_equal(number, 1);
    return 0;
}

static void get_put_del_and_no_overwrite(void **state)
{
    fixture_t *f = *state;
    store_t *store = open_store(f, 0);
    struct kv_arg arg = {.store = store};
    assert_int_equal(store_write(store, get_put_del_fn, &arg), 0);
    assert_int_equal(store_count(store, DB_REPORTS), 0);
    assert_int_equal(store_count(store, DB_META), 3);
}

struct grow_arg {
    store_t *store;
    int runs;
};

static int fill_fn(store_txn_t *txn, void *arg)
{
    struct grow_arg *a = arg;
    a->runs++;
    static char value[4096];
    memset(value, 'x', sizeof value);
    for (int i = 0; i < 400; i++) {
        char key[32];
        snprintf(key, sizeof key, "item/%04d", i);
        int rc = store_put(txn, a->store, DB_OUTBOX, key, strlen(key), value, sizeof value, 0);
        if (rc)
            return rc; /* SF_EGROW: store_write grows the map and calls us again */
    }
    return 0;
}

static void a_full_map_grows_and_the_transaction_runs_again(void **state)
{
    fixture_t *f = *state;
    store_t *store = open_store(f, 128 * 1024);
    size_t before = store_mapsize(store);
    struct grow_arg arg = {store, 0};
    assert_int_equal(store_write(store, fill_fn, &arg), 0);
    assert_true(arg.runs > 1);
    assert_true(store_mapsize(store) > before);
    assert_int_equal(store_count(store, DB_OUTBOX), 400);
}

static void latest_record_round_trips_and_reads_the_old_format(void **state)
{
    (void)state;
    records_latest_t in = {3, 1500000000, -5, "530102-2018-v3-0badcafe"}, out;
    uint8_t value[20 + RECORDS_ID_MAX];
    size_t len = records_latest_encode(&in, value, sizeof value);
    assert_int_equal(len, 20 + strlen(in.report_id));
    assert_int_equal(value[4], 0); /* the series' top byte: what tells the formats apart */
    assert_int_equal(records_latest_decode(value, len, &out), 0);
    assert_int_equal(out.version, 3);
    assert_int_equal(out.series, 1500000000);
    assert_int_equal(out.submitted_at, -5);
    assert_string_equal(out.report_id, in.report_id);

    /* Version 0.1: version be32 | id, read as series 0, submitted_at 0. */
    uint8_t old[4 + 32];
    const char *id = "530102-2017-v2-12345678";
    store_put_be32(old, 2);
    memcpy(old + 4, id, strlen(id));
    assert_int_equal(records_latest_decode(old, 4 + strlen(id), &out), 0);
    assert_int_equal(out.version, 2);
    assert_int_equal(out.series, 0);
    assert_int_equal(out.submitted_at, 0);
    assert_string_equal(out.report_id, id);

    assert_int_equal(records_latest_decode(old, 3, &out), SF_ECORRUPT);
    records_latest_t empty = {1, 0, 0, ""};
    assert_int_equal(records_latest_encode(&empty, value, sizeof value), 0);
}

static void a_later_series_submission_or_version_counts(void **state)
{
    (void)state;
    records_latest_t current = {5, 100, 2000, "b"};
    records_latest_t later_series = {1, 101, 0, "a"};
    records_latest_t later_submission = {1, 100, 2001, "a"};
    records_latest_t same_time_higher_version = {6, 100, 2000, "a"};
    records_latest_t larger_id = {5, 100, 2000, "c"};
    records_latest_t older = {9, 99, 9999, "z"};
    assert_true(records_latest_newer(&later_series, &current));
    assert_true(records_latest_newer(&later_submission, &current));
    assert_true(records_latest_newer(&same_time_higher_version, &current));
    assert_true(records_latest_newer(&larger_id, &current));
    assert_false(records_latest_newer(&older, &current));
    assert_false(records_latest_newer(&current, &current));
}

struct report_arg {
    store_t *store;
    records_report_t report;
    bool stored;
    records_latest_t latest;
    int latest_rc;
};

static int store_report_fn(store_txn_t *txn, void *arg)
{
    struct report_arg *a = arg;
    int rc = records_report_store(txn, a->store, &a->report, a->report.report_id,
                                  strlen(a->report.report_id), &a->stored);
    if (rc)
        return rc;
    a->latest_rc =
        records_latest_get(txn, a->store, a->report.unit, (int)a->report.year, &a->latest);
    return 0;
}

static int put_old_latest_fn(store_txn_t *txn, void *arg)
{
    struct report_arg *a = arg;
    uint8_t old[4 + 32];
    const char *id = "530102-2018-v7-00000000";
    store_put_be32(old, 7);
    memcpy(old + 4, id, strlen(id));
    return store_put(txn, a->store, DB_LATEST, "530102/2018", 11, old, 4 + strlen(id), 0);
}

static void a_stored_report_is_kept_once_and_updates_latest(void **state)
{
    fixture_t *f = *state;
    store_t *store = open_store(f, 0);
    struct report_arg arg = {.store = store,
                             .report = {"530102-2018-v1-aaaaaaaa", "530102", 2018, 1, 10, 500}};
    assert_int_equal(store_write(store, store_report_fn, &arg), 0);
    assert_true(arg.stored);
    assert_int_equal(arg.latest_rc, 0);
    assert_string_equal(arg.latest.report_id, "530102-2018-v1-aaaaaaaa");
    assert_int_equal(arg.latest.series, 10);

    /* The same id again (a resend, a second path): not stored again. */
    assert_int_equal(store_write(store, store_report_fn, &arg), 0);
    assert_false(arg.stored);
    assert_int_equal(store_count(store, DB_REPORTS), 1);

    /* An older version arriving late is stored but does not become latest. */
    arg.report = (records_report_t){"530102-2018-v0-bbbbbbbb", "530102", 2018, 1, 9, 900};
    assert_int_equal(store_write(store, store_report_fn, &arg), 0);
    assert_true(arg.stored);
    assert_string_equal(arg.latest.report_id, "530102-2018-v1-aaaaaaaa");

    /* A latest record of version 0.1 is read, and the next write replaces
     * it in the new form. */
    assert_int_equal(store_write(store, put_old_latest_fn, &arg), 0);
    arg.report = (records_report_t){"530102-2018-v8-cccccccc", "530102", 2018, 8, 1, 1};
    assert_int_equal(store_write(store, store_report_fn, &arg), 0);
    assert_int_equal(arg.latest.version, 8);
    assert_int_equal(arg.latest.series, 1);
    assert_string_equal(arg.latest.report_id, "530102-2018-v8-cccccccc");
}

/* A directory that is not there: NULL, with a code and a sentence in
 * error; a NULL error is allowed. */
static void opening_a_missing_directory_fails_with_a_reason(void **state)
{
    fixture_t *f = *state;
    char missing[128];
    snprintf(missing, sizeof missing, "%s/not-there", f->dir);
    sf_error_t error = {0, ""};
    assert_null(store_open(missing, 0, &error));
    assert_int_equal(error.code, SF_EIO);
    assert_non_null(strstr(error.text, missing));
    assert_null(store_open(missing, 0, NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(each_walks_a_prefix_in_key_order_and_stops_when_asked,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(get_put_del_and_no_overwrite, setup, teardown),
        cmocka_unit_test_setup_teardown(a_full_map_grows_and_the_transaction_runs_again, setup,
                                        teardown),
        cmocka_unit_test(latest_record_round_trips_and_reads_the_old_format),
        cmocka_unit_test(a_later_series_submission_or_version_counts),
        cmocka_unit_test_setup_teardown(a_stored_report_is_kept_once_and_updates_latest, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(opening_a_missing_directory_fails_with_a_reason, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
