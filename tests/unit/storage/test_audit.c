/* The audit trail (audit.h) on a real LMDB environment: entries numbered in
 * the order written and read back whole after a reopen, the newest N of
 * them, and fields too long for their arrays cut, not overflowing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "storage/audit.h"
#include "store_fixture.h"

static void append(store_t *store, int64_t at, const char *who, const char *action,
                   const char *target)
{
    audit_entry_t entry = {.at = at};
    snprintf(entry.who, sizeof entry.who, "%s", who);
    snprintf(entry.node, sizeof entry.node, "530102");
    snprintf(entry.action, sizeof entry.action, "%s", action);
    snprintf(entry.target, sizeof entry.target, "%s", target);
    assert_int_equal(audit_append(store, &entry), 0);
}

static void test_order_and_reopen(void **state)
{
    store_fixture_t *f = *state;
    append(f->store, 100, "张三", "county/draft", "530102/2018");
    append(f->store, 200, "li", "county/submit", "530102-2018-v1-0a0b0c0d");
    append(f->store, 300, "li", "county/draft", "");
    store_destroy(&f->store);
    sf_error_t error = {0, ""};
    assert_non_null(f->store = store_open(f->dir, 0, &error));
    audit_entry_t *entries;
    size_t count;
    assert_int_equal(audit_list(f->store, 0, &entries, &count), 0);
    assert_int_equal(count, 3);
    assert_int_equal(entries[0].seq, 1);
    assert_int_equal(entries[0].at, 100);
    assert_string_equal(entries[0].who, "张三");
    assert_string_equal(entries[0].node, "530102");
    assert_string_equal(entries[0].action, "county/draft");
    assert_string_equal(entries[0].target, "530102/2018");
    assert_int_equal(entries[1].seq, 2);
    assert_string_equal(entries[1].target, "530102-2018-v1-0a0b0c0d");
    assert_int_equal(entries[2].seq, 3);
    assert_string_equal(entries[2].target, "");
    free(entries);

    assert_int_equal(audit_list(f->store, 2, &entries, &count), 0);
    assert_int_equal(count, 2);
    assert_int_equal(entries[0].seq, 2);
    assert_int_equal(entries[1].seq, 3);
    free(entries);
}

static void test_long_fields_cut(void **state)
{
    store_fixture_t *f = *state;
    audit_entry_t entry = {.at = 1};
    memset(entry.who, 'w', sizeof entry.who);       /* no NUL at all */
    memset(entry.target, 't', sizeof entry.target); /* no NUL at all */
    snprintf(entry.node, sizeof entry.node, "530102");
    snprintf(entry.action, sizeof entry.action, "county/submit");
    assert_int_equal(audit_append(f->store, &entry), 0);
    audit_entry_t *entries;
    size_t count;
    assert_int_equal(audit_list(f->store, 0, &entries, &count), 0);
    assert_int_equal(count, 1);
    assert_int_equal(strlen(entries[0].who), sizeof entry.who - 1);
    assert_int_equal(strlen(entries[0].target), sizeof entry.target - 1);
    assert_string_equal(entries[0].action, "county/submit");
    free(entries);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_order_and_reopen, store_fixture_setup,
                                        store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_long_fields_cut, store_fixture_setup,
                                        store_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
