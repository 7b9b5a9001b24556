/* console_check: a report checked and evaluated without a store, as the
 * county's console does on every keystroke. A report with every criterion
 * passing qualifies; one ratio under its threshold fails that criterion,
 * its item and the unit; bad values get the CLI's message each, per field;
 * a blank criterion is listed as missing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/console_check.h"
#include "domain/programme.h"

#define NOW 1531000000 /* 2018-07-07, before the self-assessment deadline */

/* A report of 530102 for 2018 with every criterion passing, except `low`
 * (a ratio) given as 0/100 when not NULL, and `skip` left out. */
static char *report_text(const programme_t *programme, const char *low, const char *skip)
{
    size_t size = 16384, used = 0;
    char *text = malloc(size);
    used += (size_t)snprintf(text, size, "{\"unit\":\"530102\",\"year\":2018,\"values\":{");
    for (size_t i = 0; i < programme_criterion_count(programme); i++) {
        const programme_criterion_t *c = programme_criterion(programme, i);
        if (skip && strcmp(c->id, skip) == 0)
            continue;
        const char *comma = used > 45 ? "," : "";
        if (c->kind == CRITERION_BOOL)
            used += (size_t)snprintf(text + used, size - used, "%s\"%s\":true", comma, c->id);
        else if (c->kind == CRITERION_COUNT)
            used += (size_t)snprintf(text + used, size - used, "%s\"%s\":%d", comma, c->id,
                                     (int)c->threshold + 1);
        else
            used += (size_t)snprintf(
                text + used, size - used, "%s\"%s\":{\"num\":%d,\"den\":100000}", comma, c->id,
                low && strcmp(c->id, low) == 0 ? 0 : (int)(c->threshold * 1000));
    }
    snprintf(text + used, size - used, "}}");
    return text;
}

static const programme_criterion_t *first_ratio(const programme_t *programme)
{
    for (size_t i = 0; i < programme_criterion_count(programme); i++)
        if (programme_criterion(programme, i)->kind == CRITERION_RATIO &&
            programme_criterion(programme, i)->threshold > 0)
            return programme_criterion(programme, i);
    return NULL;
}

static void test_passing_then_one_ratio_low(void **state)
{
    (void)state;
    programme_t *programme = programme_load_default(NULL);
    assert_non_null(programme);
    const programme_criterion_t *ratio = first_ratio(programme);
    assert_non_null(ratio);
    char *text = report_text(programme, NULL, NULL);
    console_check_t *check = NULL;
    assert_int_equal(console_check(programme, text, strlen(text), "form", "530102", NOW, &check),
                     0);
    assert_string_equal(check->error, "");
    assert_non_null(check->unit);
    assert_true(check->unit->qualified);
    assert_int_equal(check->unit->items_passed, programme_item_count(programme));
    assert_int_equal(check->missing_count, 0);
    assert_string_equal(check->report->report_id, ""); /* nothing was stored or numbered */
    console_check_destroy(&check);
    free(text);

    text = report_text(programme, ratio->id, NULL);
    assert_int_equal(console_check(programme, text, strlen(text), "form", "530102", NOW, &check),
                     0);
    assert_false(check->unit->qualified);
    assert_false(check->unit->item_passed[ratio->item_index]);
    for (size_t i = 0; i < programme_criterion_count(programme); i++)
        assert_int_equal(check->unit->criteria[i].passed,
                         programme_criterion(programme, i) != ratio);
    console_check_destroy(&check);
    free(text);
    programme_destroy(&programme);
}

static void test_each_bad_field_named(void **state)
{
    (void)state;
    programme_t *programme = programme_load_default(NULL);
    const char *text = "{\"year\":2018,\"values\":{\"1.1\":true,\"2.1\":{\"num\":12,\"den\":10},"
                       "\"1.2a\":\"abc\",\"9.9\":1}}";
    console_check_t *check = NULL;
    assert_int_equal(console_check(programme, text, strlen(text), "form", "530102", NOW, &check),
                     0);
    assert_null(check->report);
    assert_null(check->unit);
    assert_non_null(strstr(check->error, "form: $.values[\"2.1\"].num"));
    assert_int_equal(check->field_count, 3);
    bool seen[3] = {false, false, false};
    for (size_t i = 0; i < check->field_count; i++) {
        const console_field_error_t *field = &check->fields[i];
        if (strcmp(field->criterion, "2.1") == 0)
            seen[0] = strstr(field->message, "numerator 12 exceeds denominator 10") != NULL;
        if (strcmp(field->criterion, "1.2a") == 0)
            seen[1] = strstr(field->message, "$.values[\"1.2a\"]") != NULL;
        if (strcmp(field->criterion, "9.9") == 0)
            seen[2] = strstr(field->message, "unknown criterion") != NULL;
    }
    assert_true(seen[0] && seen[1] && seen[2]);
    console_check_destroy(&check);
    programme_destroy(&programme);
}

static void test_blank_is_missing_and_no_json_is_an_error(void **state)
{
    (void)state;
    programme_t *programme = programme_load_default(NULL);
    char *text = report_text(programme, NULL, "1.1");
    console_check_t *check = NULL;
    assert_int_equal(console_check(programme, text, strlen(text), "form", "530102", NOW, &check),
                     0);
    assert_int_equal(check->missing_count, 1);
    assert_string_equal(check->missing, "1.1");
    assert_false(check->unit->qualified);
    console_check_destroy(&check);
    free(text);
    assert_int_equal(console_check(programme, "{", 1, "form", "530102", NOW, &check), 0);
    assert_int_equal(check->field_count, 0);
    assert_non_null(strstr(check->error, "form"));
    console_check_destroy(&check);
    assert_null(check);
    programme_destroy(&programme);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_passing_then_one_ratio_low),
        cmocka_unit_test(test_each_bad_field_named),
        cmocka_unit_test(test_blank_is_missing_and_no_json_is_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
