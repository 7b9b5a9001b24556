#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/error.h"
#include "domain/engine.h"
#include "domain/verdict.h"

#include "engine_fixture.h"

static int setup(void **state)
{
    programme_t *programme = fixture_programme();
    *state = programme;
    return programme ? 0 : -1;
}

static int teardown(void **state)
{
    programme_t *programme = *state;
    programme_destroy(&programme);
    return 0;
}

static const programme_criterion_t *criterion(const programme_t *programme, const char *id)
{
    int at = programme_find_criterion(programme, id);
    assert_true(at >= 0);
    return programme_criterion(programme, (size_t)at);
}

/* A self-reported result of one criterion, as the engine gives it. */
static engine_criterion_result_t self_result(const programme_t *programme, const char *id,
                                             report_value_t value, bool present)
{
    engine_criterion_result_t result = {.criterion = criterion(programme, id)};
    result.present = present;
    result.value = value;
    result.value.kind = result.criterion->kind;
    result.passed = present && engine_criterion_passes(result.criterion, &result.value);
    return result;
}

static void reason_text(const engine_criterion_result_t *result, const char *expected)
{
    char buf[VERDICT_TEXT_MAX];
    verdict_reason(result, buf, sizeof buf);
    assert_string_equal(buf, expected);
}

static void a_reason_names_the_value_against_the_rule(void **state)
{
    const programme_t *programme = *state;
    engine_criterion_result_t r =
        self_result(programme, "2.1", (report_value_t){.num = 880, .den = 1000}, true);
    assert_false(r.passed);
    reason_text(&r, "88.00%（880/1000），要求 ≥ 90%");
    r = self_result(programme, "2.3", (report_value_t){.num = 855, .den = 1000}, true);
    reason_text(&r, "85.50%（855/1000），要求 ≥ 85.5%");
    r = self_result(programme, "2.2", (report_value_t){.num = 99, .den = 100}, true);
    reason_text(&r, "99.00%（99/100），要求 = 100%（分子等于分母）");
    r = self_result(programme, "2.2", (report_value_t){.num = 0, .den = 0}, true);
    reason_text(&r, "0/0（分母为 0），要求 = 100%（分子等于分母）");
    r = self_result(programme, "1.2a", (report_value_t){.count = 1}, true);
    reason_text(&r, "1，要求 ≥ 2");
    r = self_result(programme, "1.1", (report_value_t){.flag = false}, true);
    reason_text(&r, "否，要求 是");
    r = self_result(programme, "1.2b", (report_value_t){0}, false);
    reason_text(&r, "未填写，要求 是（缺项按不合格计）");
    assert_true(verdict_notable(&r));
    char line[VERDICT_TEXT_MAX];
    verdict_line(&r, line, sizeof line);
    assert_string_equal(line, "✗ 1.2b 实施方案：未填写，要求 是（缺项按不合格计）");
}

static void an_inspected_value_is_set_against_the_self_reported_one(void **state)
{
    const programme_t *programme = *state;
    engine_criterion_result_t r =
        self_result(programme, "2.1", (report_value_t){.num = 880, .den = 1000}, true);
    r.source = ENGINE_TIER_PREFECTURE;
    r.self_present = true;
    r.self_value = (report_value_t){.kind = CRITERION_RATIO, .num = 940, .den = 1000};
    r.discrepancy = true;
    reason_text(&r, "市级核查值 88.00%（880/1000），要求 ≥ 90%；自报 94.00%（940/1000）；"
                    "核查与自报不符（取消本年度推荐资格）");
    /* Passing on inspection but off by more than the tolerance: still named. */
    r = self_result(programme, "2.1", (report_value_t){.num = 910, .den = 1000}, true);
    r.source = ENGINE_TIER_PROVINCE;
    r.self_present = true;
    r.self_value = (report_value_t){.kind = CRITERION_RATIO, .num = 990, .den = 1000};
    r.discrepancy = true;
    assert_true(r.passed);
    assert_true(verdict_notable(&r));
    char line[VERDICT_TEXT_MAX];
    verdict_line(&r, line, sizeof line);
    assert_string_equal(line, "△ 2.1 覆盖率：省级核查值 91.00%（910/1000），要求 ≥ 90%；自报 "
                              "99.00%（990/1000）；核查与自报不符（取消本年度推荐资格）");
    r.discrepancy = false;
    assert_false(verdict_notable(&r));
}

static void a_reason_is_cut_at_the_buffer(void **state)
{
    const programme_t *programme = *state;
    engine_criterion_result_t r =
        self_result(programme, "2.1", (report_value_t){.num = 880, .den = 1000}, true);
    char small[8];
    verdict_reason(&r, small, sizeof small);
    assert_true(strlen(small) < sizeof small);
}

static void a_passing_report_checks_as_passed_with_no_blank(void **state)
{
    const programme_t *programme = *state;
    report_t *report = fixture_passing_report("990101", 2018, 0, "2018-07-01", "", 10);
    sf_error_t error = {0, ""};
    verdict_check_t *check =
        verdict_check(programme, report, fixture_time("2018-07-10"), 0, &error);
    assert_non_null(check);
    assert_true(check->passed);
    assert_true(check->qualified);
    assert_false(check->late);
    assert_int_equal(check->blank_count, 0);
    assert_int_equal(check->criterion_count, 6);
    assert_int_equal(check->item_count, 5);
    assert_int_equal(check->items_passed, 5);
    assert_string_equal(check->unit_name, "甲一县");
    assert_string_equal(check->criteria[3].criterion->id, "2.1");
    assert_string_equal(check->criteria[3].reason, "91.00%（910/1000），要求 ≥ 90%");
    assert_string_equal(check->items[1].item->id, "1.2");
    /* The report is the caller's, unchanged: no id, no time given to it. */
    assert_string_equal(report->report_id, "");
    verdict_check_destroy(&check);
    assert_null(check);
    report_destroy(&report);
}

static void blank_criteria_are_named_and_fail_their_items(void **state)
{
    const programme_t *programme = *state;
    report_t *report = fixture_passing_report("990101", 2018, 0, "2018-07-01", "", 10);
    fixture_remove(report, "1.2b");
    fixture_remove(report, "2.2");
    fixture_ratio(report, "2.1", 880, 1000);
    verdict_check_t *check = verdict_check(programme, report, fixture_time("2018-08-02"), 0, NULL);
    assert_non_null(check);
    assert_false(check->passed);
    assert_false(check->qualified);
    assert_true(check->late);
    assert_int_equal(check->blank_count, 2);
    char list[64];
    assert_int_equal(verdict_blank_list(check, list, sizeof list), 2);
    assert_string_equal(list, "1.2b、2.2");
    assert_true(check->criteria[2].blank);
    assert_false(check->criteria[2].passed);
    assert_false(check->criteria[3].blank); /* 2.1 given, failing */
    assert_false(check->criteria[3].passed);
    assert_true(check->items[0].passed);  /* 1.1 */
    assert_false(check->items[1].passed); /* 1.2: 1.2b blank */
    assert_false(check->items[2].passed); /* 2.1 */
    assert_false(check->items[3].passed); /* 2.2 blank */
    assert_true(check->items[4].passed);  /* 2.3 */
    assert_int_equal(check->items_passed, 2);
    verdict_check_destroy(&check);
    /* A correction after the deadline of a version sent in time is not late. */
    check = verdict_check(programme, report, fixture_time("2018-08-02"), fixture_time("2018-07-20"),
                          NULL);
    assert_non_null(check);
    assert_false(check->late);
    verdict_check_destroy(&check);
    report_destroy(&report);
}

static void a_report_the_programme_refuses_is_not_checked(void **state)
{
    const programme_t *programme = *state;
    sf_error_t error = {0, ""};
    report_t *report = fixture_passing_report("990101", 2018, 0, "2018-07-01", "", 10);
    fixture_count(report, "9.9", 1);
    assert_null(verdict_check(programme, report, fixture_time("2018-07-10"), 0, &error));
    assert_int_equal(error.code, SF_EINVAL);
    assert_non_null(strstr(error.text, "9.9"));
    report_destroy(&report);
    report = fixture_passing_report("", 2018, 0, "2018-07-01", "", 10);
    assert_null(verdict_check(programme, report, 0, 0, &error));
    assert_int_equal(error.code, SF_EINVAL);
    report_destroy(&report);
    report = fixture_passing_report("990100", 2018, 0, "2018-07-01", "", 10); /* a prefecture */
    assert_null(verdict_check(programme, report, 0, 0, &error));
    assert_int_equal(error.code, SF_EINVAL);
    report_destroy(&report);
    verdict_check_destroy(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(a_reason_names_the_value_against_the_rule, setup, teardown),
        cmocka_unit_test_setup_teardown(an_inspected_value_is_set_against_the_self_reported_one,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(a_reason_is_cut_at_the_buffer, setup, teardown),
        cmocka_unit_test_setup_teardown(a_passing_report_checks_as_passed_with_no_blank, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(blank_criteria_are_named_and_fail_their_items, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_report_the_programme_refuses_is_not_checked, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
