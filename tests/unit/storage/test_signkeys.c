/* The signing key registry (signkeys.h) on a real LMDB environment: every
 * field of a record kept, the key in force found among a unit's retired
 * and revoked ones, one unit's prefix walk never reaching a longer code,
 * the listing order, the validity boundary, the units put refuses and a
 * corrupt stored value. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdint.h>
#include <string.h>

#include "storage/signkeys.h"
#include "store_fixture.h"

/* A key whose bytes are all `byte`, so the key order is the byte order. */
static signkey_t a_key(const char *unit, uint8_t byte, int64_t since, int64_t until)
{
    signkey_t key;
    memset(&key, 0, sizeof key);
    snprintf(key.unit, sizeof key.unit, "%s", unit);
    memset(key.key, byte, sizeof key.key);
    key.since = since;
    key.until = until;
    return key;
}

struct put_arg {
    store_t *store;
    const signkey_t *keys;
    size_t count;
};

static int put_fn(store_txn_t *txn, void *arg)
{
    struct put_arg *a = arg;
    for (size_t i = 0; i < a->count; i++) {
        int rc = signkeys_put(txn, a->store, &a->keys[i]);
        if (rc)
            return rc;
    }
    return 0;
}

static int put_keys(store_t *store, const signkey_t *keys, size_t count)
{
    struct put_arg arg = {store, keys, count};
    return store_write(store, put_fn, &arg);
}

typedef enum { ASK_GET, ASK_CURRENT, ASK_KNOWN, ASK_LIST } ask_t;

struct query {
    store_t *store;
    ask_t ask;
    const char *unit;
    const uint8_t *key;
    signkey_t found;
    bool known;
    signkey_t *list;
    size_t count;
    int rc;
};

static int query_fn(store_txn_t *txn, void *arg)
{
    struct query *q = arg;
    switch (q->ask) {
    case ASK_GET:
        q->rc = signkeys_get(txn, q->store, q->unit, q->key, &q->found);
        break;
    case ASK_CURRENT:
        q->rc = signkeys_current(txn, q->store, q->unit, &q->found);
        break;
    case ASK_KNOWN:
        q->known = signkeys_known(txn, q->store, q->unit);
        break;
    case ASK_LIST:
        q->rc = signkeys_list(txn, q->store, &q->list, &q->count);
        break;
    }
    return 0;
}

static struct query ask(store_t *store, ask_t what, const char *unit, const uint8_t *key)
{
    struct query q = {.store = store, .ask = what, .unit = unit, .key = key, .rc = -12345};
    assert_int_equal(store_read(store, query_fn, &q), 0);
    return q;
}

static void assert_same_record(const signkey_t *got, const signkey_t *want)
{
    assert_string_equal(got->unit, want->unit);
    assert_memory_equal(got->key, want->key, sizeof want->key);
    assert_int_equal(got->since, want->since);
    assert_int_equal(got->until, want->until);
    assert_int_equal(got->revoked, want->revoked);
    assert_string_equal(got->registered_by, want->registered_by);
}

static void every_field_round_trips_through_put_and_get(void **state)
{
    store_fixture_t *f = *state;
    signkey_t keys[2];
    keys[0] = a_key("530102", 0x11, 1531616400, 0);
    for (size_t i = 0; i < sizeof keys[0].key; i++)
        keys[0].key[i] = (uint8_t)(i * 37 + 5); /* every byte different */
    keys[1] = a_key("530102", 0xee, INT64_MAX - 1, INT64_MAX);
    keys[1].revoked = true;
    memset(keys[1].registered_by, 'h', SIGNKEYS_CODE_MAX - 1); /* the longest: 31 */
    assert_int_equal(put_keys(f->store, keys, 2), 0);
    for (size_t i = 0; i < 2; i++) {
        struct query q = ask(f->store, ASK_GET, "530102", keys[i].key);
        assert_int_equal(q.rc, 0);
        assert_same_record(&q.found, &keys[i]);
    }
    assert_int_equal(strlen(keys[1].registered_by), SIGNKEYS_CODE_MAX - 1);
    /* another key of the same unit, or the same key of another unit: none */
    uint8_t other[SIGNKEYS_KEY_BYTES];
    memset(other, 0x12, sizeof other);
    assert_int_equal(ask(f->store, ASK_GET, "530102", other).rc, SF_ENOTFOUND);
    assert_int_equal(ask(f->store, ASK_GET, "530103", keys[0].key).rc, SF_ENOTFOUND);
    /* a put again replaces the record */
    keys[0].until = 1531700000;
    snprintf(keys[0].registered_by, sizeof keys[0].registered_by, "530100");
    assert_int_equal(put_keys(f->store, keys, 1), 0);
    struct query q = ask(f->store, ASK_GET, "530102", keys[0].key);
    assert_int_equal(q.rc, 0);
    assert_same_record(&q.found, &keys[0]);
}

static void the_current_key_is_the_one_without_an_until(void **state)
{
    store_fixture_t *f = *state;
    /* the key in force sorts between a rotated and a revoked one */
    signkey_t keys[] = {a_key("530102", 0x10, 100, 200), a_key("530102", 0x80, 300, 0),
                        a_key("530102", 0xf0, 200, 300), a_key("530103", 0x40, 100, 0)};
    keys[2].revoked = true;
    assert_int_equal(put_keys(f->store, keys, 4), 0);
    struct query q = ask(f->store, ASK_CURRENT, "530102", NULL);
    assert_int_equal(q.rc, 0);
    assert_same_record(&q.found, &keys[1]);
    q = ask(f->store, ASK_CURRENT, "530103", NULL);
    assert_int_equal(q.rc, 0);
    assert_same_record(&q.found, &keys[3]);
}

static void a_unit_with_only_retired_keys_has_none_current_but_is_known(void **state)
{
    store_fixture_t *f = *state;
    signkey_t keys[] = {a_key("530102", 0x10, 100, 200), a_key("530102", 0x20, 200, 300)};
    keys[1].revoked = true;
    assert_int_equal(put_keys(f->store, keys, 2), 0);
    assert_int_equal(ask(f->store, ASK_CURRENT, "530102", NULL).rc, SF_ENOTFOUND);
    assert_true(ask(f->store, ASK_KNOWN, "530102", NULL).known);
    assert_false(ask(f->store, ASK_KNOWN, "530103", NULL).known);
    assert_int_equal(ask(f->store, ASK_CURRENT, "530103", NULL).rc, SF_ENOTFOUND);
}

static void a_unit_does_not_catch_a_longer_code_it_begins(void **state)
{
    store_fixture_t *f = *state;
    signkey_t county = a_key("530102", 0x01, 100, 0);
    assert_int_equal(put_keys(f->store, &county, 1), 0);
    assert_int_equal(ask(f->store, ASK_CURRENT, "5301", NULL).rc, SF_ENOTFOUND);
    assert_false(ask(f->store, ASK_KNOWN, "5301", NULL).known);
    assert_false(ask(f->store, ASK_KNOWN, "53010", NULL).known);
    /* the shorter code's own key, sorting after the longer one's */
    signkey_t hub = a_key("5301", 0xff, 50, 0);
    assert_int_equal(put_keys(f->store, &hub, 1), 0);
    struct query q = ask(f->store, ASK_CURRENT, "5301", NULL);
    assert_int_equal(q.rc, 0);
    assert_same_record(&q.found, &hub);
    q = ask(f->store, ASK_CURRENT, "530102", NULL);
    assert_int_equal(q.rc, 0);
    assert_same_record(&q.found, &county);
}

static void the_list_holds_every_record_in_unit_then_key_order(void **state)
{
    store_fixture_t *f = *state;
    struct query q = ask(f->store, ASK_LIST, NULL, NULL);
    assert_int_equal(q.rc, 0);
    assert_null(q.list);
    assert_int_equal(q.count, 0);
    /* put in no particular order */
    signkey_t keys[] = {a_key("530102", 0x90, 1, 0), a_key("5301", 0x05, 2, 0),
                        a_key("530000", 0x70, 3, 0), a_key("530102", 0x20, 4, 5),
                        a_key("5301", 0x03, 6, 7)};
    snprintf(keys[0].registered_by, sizeof keys[0].registered_by, "530100");
    keys[4].revoked = true;
    assert_int_equal(put_keys(f->store, keys, 5), 0);
    const signkey_t *want[] = {&keys[2], &keys[4], &keys[1], &keys[3], &keys[0]};
    q = ask(f->store, ASK_LIST, NULL, NULL);
    assert_int_equal(q.rc, 0);
    assert_int_equal(q.count, 5);
    for (size_t i = 0; i < 5; i++)
        assert_same_record(&q.list[i], want[i]);
    free(q.list);
}

static void a_key_is_valid_only_for_items_made_before_its_until(void **state)
{
    (void)state;
    signkey_t current = a_key("530102", 0x01, 100, 0);
    assert_true(signkeys_valid_at(&current, 0));
    assert_true(signkeys_valid_at(&current, INT64_MAX));
    signkey_t retired = a_key("530102", 0x02, 100, 1531616400);
    assert_true(signkeys_valid_at(&retired, 1531616399));
    assert_false(signkeys_valid_at(&retired, 1531616400));
    assert_false(signkeys_valid_at(&retired, 1531616401));
    retired.revoked = true; /* a revocation bounds it the same way */
    assert_true(signkeys_valid_at(&retired, 1531616399));
    assert_false(signkeys_valid_at(&retired, 1531616400));
}

static void a_unit_that_cannot_be_a_key_prefix_is_refused(void **state)
{
    store_fixture_t *f = *state;
    signkey_t key = a_key("", 0x01, 100, 0);
    assert_int_equal(put_keys(f->store, &key, 1), SF_EINVAL);
    snprintf(key.unit, sizeof key.unit, "5301/02");
    assert_int_equal(put_keys(f->store, &key, 1), SF_EINVAL);
    memset(key.unit, '5', sizeof key.unit); /* 32 bytes, no room for the NUL */
    assert_int_equal(put_keys(f->store, &key, 1), SF_EINVAL);
    key.unit[SIGNKEYS_CODE_MAX - 1] = '\0'; /* 31: the longest */
    assert_int_equal(put_keys(f->store, &key, 1), 0);
    /* a registered_by without its NUL is refused too */
    snprintf(key.unit, sizeof key.unit, "530102");
    memset(key.registered_by, 'h', sizeof key.registered_by);
    assert_int_equal(put_keys(f->store, &key, 1), SF_EINVAL);
    struct query q = ask(f->store, ASK_LIST, NULL, NULL);
    assert_int_equal(q.rc, 0);
    assert_int_equal(q.count, 1);
    assert_int_equal(strlen(q.list[0].unit), SIGNKEYS_CODE_MAX - 1);
    free(q.list);
}

struct raw_put {
    store_t *store;
    const char *name;
};

static int raw_put_fn(store_txn_t *txn, void *arg)
{
    struct raw_put *a = arg;
    return store_put(txn, a->store, DB_SIGNKEYS, a->name, strlen(a->name), "\x01\x02\x03", 3, 0);
}

static void a_truncated_stored_value_is_corrupt(void **state)
{
    store_fixture_t *f = *state;
    uint8_t key[SIGNKEYS_KEY_BYTES];
    memset(key, 0xab, sizeof key);
    char name[128] = "530102/";
    for (size_t i = 0; i < sizeof key; i++)
        snprintf(name + 7 + 2 * i, 3, "%02x", key[i]);
    struct raw_put arg = {f->store, name};
    assert_int_equal(store_write(f->store, raw_put_fn, &arg), 0);
    assert_int_equal(ask(f->store, ASK_GET, "530102", key).rc, SF_ECORRUPT);
    assert_int_equal(ask(f->store, ASK_CURRENT, "530102", NULL).rc, SF_ECORRUPT);
    struct query q = ask(f->store, ASK_LIST, NULL, NULL);
    assert_int_equal(q.rc, SF_ECORRUPT);
    assert_null(q.list);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(every_field_round_trips_through_put_and_get,
                                        store_fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(the_current_key_is_the_one_without_an_until,
                                        store_fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(a_unit_with_only_retired_keys_has_none_current_but_is_known,
                                        store_fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(a_unit_does_not_catch_a_longer_code_it_begins,
                                        store_fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(the_list_holds_every_record_in_unit_then_key_order,
                                        store_fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(a_key_is_valid_only_for_items_made_before_its_until,
                                        store_fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(a_unit_that_cannot_be_a_key_prefix_is_refused,
                                        store_fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(a_truncated_stored_value_is_corrupt, store_fixture_setup,
                                        store_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
