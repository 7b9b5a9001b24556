/* console_check: the county console's form read and checked by the rule of
 * `submit --check` (node_check), on a real county node in a temp dir, as the
 * console does on every keystroke. A report with every criterion passing
 * qualifies; one ratio under its threshold fails that criterion (with the
 * verdict's reason: value against threshold), its item and the unit; bad
 * values get the CLI's message each, per field; a blank criterion is named;
 * another county's report is refused as submit refuses it; nothing is
 * stored. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "app/console_check.h"
#include "app/node.h"
#include "domain/programme.h"

typedef struct {
    char dir[64];
    node_t *county;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    char public_key[41], secret_key[41], path[128], err[256];
    assert_int_equal(zmq_curve_keypair(public_key, secret_key), 0);
    snprintf(f->dir, sizeof f->dir, "/tmp/shifan-check-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(path, sizeof path, "%s/county", f->dir);
    node_init_options_t options = {ROLE_COUNTY,         "530102",   NULL,
                                   "tcp://127.0.0.1:1", public_key, NULL};
    if (node_init(path, &options, err, sizeof err))
        fail_msg("init: %s", err);
    sf_error_t error = {0, ""};
    if (!(f->county = node_open(path, ROLE_COUNTY, &error)))
        fail_msg("open: %s", error.text);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    node_destroy(&f->county);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* A report of unit for 2018 with every criterion passing, except `low`
 * (a ratio) given as 0/100000 when not NULL, and `skip` left out. */
static char *report_text(const programme_t *programme, const char *unit, const char *low,
                         const char *skip)
{
    size_t size = 16384, used = 0;
    char *text = malloc(size);
    used += (size_t)snprintf(text, size, "{\"unit\":\"%s\",\"year\":2018,\"values\":{", unit);
    size_t opening = used;
    for (size_t i = 0; i < programme_criterion_count(programme); i++) {
        const programme_criterion_t *c = programme_criterion(programme, i);
        if (skip && strcmp(c->id, skip) == 0)
            continue;
        const char *comma = used > opening ? "," : "";
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

static void one_low_ratio_fails_with_its_reason(void **state)
{
    fixture_t *f = *state;
    const programme_t *programme = node_programme(f->county);
    const programme_criterion_t *ratio = first_ratio(programme);
    assert_non_null(ratio);
    char *text = report_text(programme, "530102", NULL, NULL);
    console_check_t *check = NULL;
    assert_int_equal(console_check(f->county, text, strlen(text), "form", &check), 0);
    assert_string_equal(check->error, "");
    assert_non_null(check->verdict);
    assert_true(check->verdict->passed);
    assert_int_equal(check->verdict->items_passed, programme_item_count(programme));
    assert_int_equal(check->verdict->blank_count, 0);
    assert_string_equal(check->report->report_id, ""); /* nothing was stored or numbered */
    console_check_destroy(&check);
    free(text);

    text = report_text(programme, "530102", ratio->id, NULL);
    assert_int_equal(console_check(f->county, text, strlen(text), "form", &check), 0);
    assert_false(check->verdict->passed);
    assert_false(check->verdict->qualified);
    assert_false(check->verdict->items[ratio->item_index].passed);
    for (size_t i = 0; i < programme_criterion_count(programme); i++) {
        const verdict_criterion_t *criterion = &check->verdict->criteria[i];
        assert_int_equal(criterion->passed, criterion->criterion != ratio);
        if (criterion->criterion == ratio) { /* the value against the threshold */
            char expected[64];
            snprintf(expected, sizeof expected, "0.00%%（0/100000），要求 ≥ %g%%",
                     ratio->threshold);
            assert_string_equal(criterion->reason, expected);
        }
    }
    console_check_destroy(&check);
    free(text);
    node_versions_t *versions = node_list(f->county, NULL);
    assert_int_equal(versions->count, 0);
    node_versions_destroy(&versions);
}

static void each_bad_field_is_named(void **state)
{
    fixture_t *f = *state;
    const char *text = "{\"year\":2018,\"values\":{\"1.1\":true,\"2.1\":{\"num\":12,\"den\":10},"
                       "\"1.2a\":\"abc\",\"9.9\":1}}";
    console_check_t *check = NULL;
    assert_int_equal(console_check(f->county, text, strlen(text), "form", &check), 0);
    assert_null(check->report);
    assert_null(check->verdict);
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
    assert_int_equal(console_check(f->county, "{", 1, "form", &check), 0);
    assert_int_equal(check->field_count, 0);
    assert_non_null(strstr(check->error, "form"));
    console_check_destroy(&check);
    assert_null(check);
}

static void blanks_are_named_and_another_unit_is_refused(void **state)
{
    fixture_t *f = *state;
    const programme_t *programme = node_programme(f->county);
    char *text = report_text(programme, "530102", NULL, "1.1");
    console_check_t *check = NULL;
    assert_int_equal(console_check(f->county, text, strlen(text), "form", &check), 0);
    assert_int_equal(check->verdict->blank_count, 1);
    assert_true(check->verdict->criteria[0].blank);
    assert_false(check->verdict->passed);
    char list[64];
    assert_int_equal(verdict_blank_list(check->verdict, list, sizeof list), 1);
    assert_string_equal(list, "1.1");
    console_check_destroy(&check);
    free(text);

    text = report_text(programme, "530103", NULL, NULL);
    assert_int_equal(console_check(f->county, text, strlen(text), "form", &check), 0);
    assert_null(check->verdict);
    assert_null(check->report);
    assert_non_null(strstr(check->error, "form: "));
    assert_non_null(strstr(check->error, "may report only for its own unit"));
    console_check_destroy(&check);
    free(text);
}

int main(void)
{
    setenv("SHIFAN_NOW", "2018-07-07T09:00:00+08:00", 1); /* before the deadline */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(one_low_ratio_fails_with_its_reason, setup, teardown),
        cmocka_unit_test_setup_teardown(each_bad_field_is_named, setup, teardown),
        cmocka_unit_test_setup_teardown(blanks_are_named_and_another_unit_is_refused, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
