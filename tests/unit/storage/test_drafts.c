/* The console's drafts (drafts.h) on a real LMDB environment: a draft
 * written is read back after the store is closed and opened again, a
 * newer one replaces it, one unit-year does not see another's, and the
 * bounds (empty unit, text over DRAFTS_TEXT_MAX). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/error.h"
#include "storage/drafts.h"
#include "storage/store.h"
#include "store_fixture.h"

static int put(store_t *store, const char *unit, int year, const char *text, int64_t at,
               uint32_t version)
{
    drafts_record_t draft = {at, version, (char *)text, strlen(text)};
    return drafts_save(store, unit, year, &draft);
}

static void test_draft_survives_reopen_and_is_replaced(void **state)
{
    store_fixture_t *f = *state;
    assert_int_equal(put(f->store, "530102", 2018, "{\"values\":{\"1.1\":true}}", 1000, 0), 0);
    store_destroy(&f->store);
    sf_error_t error = {0, ""};
    assert_non_null(f->store = store_open(f->dir, 0, &error));
    drafts_record_t draft;
    assert_int_equal(drafts_load(f->store, "530102", 2018, &draft), 0);
    assert_string_equal(draft.text, "{\"values\":{\"1.1\":true}}");
    assert_int_equal(draft.saved_at, 1000);
    assert_int_equal(draft.submitted_version, 0);
    free(draft.text);
    assert_int_equal(put(f->store, "530102", 2018, "{}", 2000, 3), 0);
    assert_int_equal(drafts_load(f->store, "530102", 2018, &draft), 0);
    assert_string_equal(draft.text, "{}");
    assert_int_equal(draft.len, 2);
    assert_int_equal(draft.saved_at, 2000);
    assert_int_equal(draft.submitted_version, 3);
    free(draft.text);
}

static void test_unit_years_are_apart(void **state)
{
    store_fixture_t *f = *state;
    assert_int_equal(put(f->store, "530102", 2018, "a", 1, 0), 0);
    assert_int_equal(put(f->store, "530102", 2019, "b", 1, 0), 0);
    drafts_record_t draft;
    assert_int_equal(drafts_load(f->store, "530103", 2018, &draft), SF_ENOTFOUND);
    assert_null(draft.text);
    assert_int_equal(drafts_load(f->store, "530102", 2019, &draft), 0);
    assert_string_equal(draft.text, "b");
    free(draft.text);
    assert_int_equal(drafts_load(f->store, "530102", 2018, &draft), 0);
    assert_string_equal(draft.text, "a");
    free(draft.text);
}

static void test_bounds(void **state)
{
    store_fixture_t *f = *state;
    assert_int_equal(put(f->store, "", 2018, "x", 1, 0), SF_EINVAL);
    char *big = malloc(DRAFTS_TEXT_MAX + 2);
    assert_non_null(big);
    memset(big, 'x', DRAFTS_TEXT_MAX + 1);
    big[DRAFTS_TEXT_MAX + 1] = '\0';
    assert_int_equal(put(f->store, "530102", 2018, big, 1, 0), SF_EINVAL);
    big[DRAFTS_TEXT_MAX] = '\0';
    assert_int_equal(put(f->store, "530102", 2018, big, 1, 0), 0);
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_draft_survives_reopen_and_is_replaced,
                                        store_fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_unit_years_are_apart, store_fixture_setup,
                                        store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_bounds, store_fixture_setup, store_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
