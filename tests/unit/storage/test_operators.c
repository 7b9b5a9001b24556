/* Operator accounts (operators.h) on a real LMDB environment: a password
 * hashed and checked, a wrong one and an unknown name refused alike, the
 * stored value holds no password, an account kept across a reopen, a
 * second add of a name refused, remove, and the bounds of names and
 * passwords. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "storage/operators.h"
#include "store_fixture.h"

static int stored_value_fn(store_txn_t *txn, void *arg)
{
    store_fixture_t *f = ((void **)arg)[0];
    const void *value;
    size_t vlen;
    int rc = store_get(txn, f->store, DB_OPERATORS, "wang", 4, &value, &vlen);
    if (!rc)
        snprintf(((void **)arg)[1], 256, "%.*s", (int)(vlen - 8), (const char *)value + 8);
    return rc;
}

static void test_hash_verify_wrong_remove(void **state)
{
    store_fixture_t *f = *state;
    assert_int_equal(operators_count(f->store), 0);
    assert_int_equal(operators_add(f->store, "wang", "correct horse", 1000), 0);
    assert_int_equal(operators_verify(f->store, "wang", "correct horse"), 0);
    assert_int_equal(operators_verify(f->store, "wang", "correct hors"), SF_EDENIED);
    assert_int_equal(operators_verify(f->store, "wang", ""), SF_EDENIED);
    assert_int_equal(operators_verify(f->store, "li", "correct horse"), SF_EDENIED);

    char stored[256];
    assert_int_equal(store_read(f->store, stored_value_fn, (void *[]){f, stored}), 0);
    assert_null(strstr(stored, "correct horse"));
    assert_non_null(strstr(stored, "$argon2id$"));

    /* Kept on disk: the store closed and opened again. */
    store_destroy(&f->store);
    sf_error_t error = {0, ""};
    assert_non_null(f->store = store_open(f->dir, 0, &error));
    assert_true(operators_exists(f->store, "wang"));
    assert_int_equal(operators_verify(f->store, "wang", "correct horse"), 0);

    assert_int_equal(operators_remove(f->store, "wang"), 0);
    assert_false(operators_exists(f->store, "wang"));
    assert_int_equal(operators_verify(f->store, "wang", "correct horse"), SF_EDENIED);
    assert_int_equal(operators_remove(f->store, "wang"), SF_ENOTFOUND);
    assert_int_equal(operators_count(f->store), 0);
}

static void test_add_twice_and_list(void **state)
{
    store_fixture_t *f = *state;
    assert_int_equal(operators_add(f->store, "张三", "password-1", 2000), 0);
    assert_int_equal(operators_add(f->store, "li.si", "password-2", 3000), 0);
    assert_int_equal(operators_add(f->store, "li.si", "another-one", 4000), SF_EEXIST);
    assert_int_equal(operators_verify(f->store, "li.si", "password-2"), 0);
    operators_entry_t *entries;
    size_t count;
    assert_int_equal(operators_list(f->store, &entries, &count), 0);
    assert_int_equal(count, 2);
    assert_string_equal(entries[0].name, "li.si"); /* name order: bytes */
    assert_int_equal(entries[0].created_at, 3000);
    assert_string_equal(entries[1].name, "张三");
    assert_int_equal(entries[1].created_at, 2000);
    free(entries);
    assert_int_equal(operators_count(f->store), 2);
}

static void test_bounds(void **state)
{
    store_fixture_t *f = *state;
    char long_name[OPERATORS_NAME_MAX + 2];
    memset(long_name, 'a', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    assert_false(operators_name_valid(long_name));
    long_name[OPERATORS_NAME_MAX] = '\0';
    assert_true(operators_name_valid(long_name));
    assert_false(operators_name_valid(""));
    assert_false(operators_name_valid("two words"));
    assert_false(operators_name_valid("a:b"));
    assert_false(operators_name_valid("tab\there"));
    assert_int_equal(operators_add(f->store, "two words", "password-1", 1), SF_EINVAL);
    assert_int_equal(operators_add(f->store, "short", "1234567", 1), SF_EINVAL);
    assert_int_equal(operators_add(f->store, "short", "12345678", 1), 0);
    assert_int_equal(operators_count(f->store), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_hash_verify_wrong_remove, store_fixture_setup,
                                        store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_add_twice_and_list, store_fixture_setup,
                                        store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_bounds, store_fixture_setup, store_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
