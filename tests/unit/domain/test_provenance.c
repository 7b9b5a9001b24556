/* The rule of "Time you can check" (domain/provenance.h): exactly 24 h is
 * plausible and a second more is not, by either rule; unknown times (0)
 * accuse nobody; a gap the link was down for explains itself; nothing is
 * judged from an unsigned report, a missing receipt or one that does not
 * verify; every verdict has its line in both languages. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdint.h>
#include <string.h>

#include "base/lang.h"
#include "domain/provenance.h"

#define T_S 1530000000 /* the county's claimed submitted_at */
#define HOUR 3600
#define DAY (24 * HOUR)

/* A signed report with a verified receipt and nothing known of the link. */
static provenance_times_t verified(int64_t received_at)
{
    provenance_times_t t = {true, true, true, T_S, received_at, 0, 0};
    return t;
}

static void unknown_link_times_accuse_nobody(void **state)
{
    (void)state;
    /* Received ten days late, but the hub knows nothing of the link. */
    provenance_times_t t = verified(T_S + 10 * DAY);
    provenance_judgement_t j = provenance_judge(&t);
    assert_true(j.checked);
    assert_false(j.implausible);
    assert_int_equal(j.verdict, PROVENANCE_LINK_UNKNOWN);
}

static void contact_exactly_a_day_after_is_plausible(void **state)
{
    (void)state;
    provenance_times_t t = verified(T_S + 2 * DAY);
    t.claimed_before = T_S + DAY;
    provenance_judgement_t j = provenance_judge(&t);
    assert_true(j.checked);
    assert_false(j.implausible);
    assert_int_equal(j.verdict, PROVENANCE_PLAUSIBLE);
    t.claimed_before = T_S + DAY + 1;
    j = provenance_judge(&t);
    assert_true(j.implausible);
    assert_int_equal(j.verdict, PROVENANCE_LATER_ITEM_FIRST);
    assert_int_equal(j.gap, DAY + 1);
}

static void session_up_exactly_a_day_after_is_plausible(void **state)
{
    (void)state;
    /* The session was up before the claimed time: T_s counts. */
    provenance_times_t t = verified(T_S + DAY);
    t.session_since = T_S - HOUR;
    assert_false(provenance_judge(&t).implausible);
    t.received_at = T_S + DAY + 1;
    provenance_judgement_t j = provenance_judge(&t);
    assert_true(j.implausible);
    assert_int_equal(j.verdict, PROVENANCE_SESSION_UP);
    assert_int_equal(j.gap, DAY + 1);
    /* A session opened after the claimed time: from its start. */
    t.session_since = T_S + 2 * DAY;
    t.received_at = T_S + 3 * DAY;
    assert_false(provenance_judge(&t).implausible);
    t.received_at = T_S + 3 * DAY + 1;
    j = provenance_judge(&t);
    assert_int_equal(j.verdict, PROVENANCE_SESSION_UP);
    assert_int_equal(j.gap, DAY + 1);
}

static void a_link_that_was_down_explains_the_gap(void **state)
{
    (void)state;
    /* A package imported a week later: no session, last contact before T_s. */
    provenance_times_t t = verified(T_S + 7 * DAY);
    t.claimed_before = T_S - 3 * DAY;
    assert_false(provenance_judge(&t).implausible);
    /* The link came back five days later and delivered at once. */
    t.claimed_before = T_S - HOUR;
    t.session_since = T_S + 5 * DAY;
    t.received_at = T_S + 5 * DAY + 10;
    assert_false(provenance_judge(&t).implausible);
}

static void contact_is_the_first_rule_when_both_hold(void **state)
{
    (void)state;
    /* The rewound clock of a county whose link never went down. */
    provenance_times_t t = verified(T_S + 3 * DAY);
    t.claimed_before = T_S + 3 * DAY - 60;
    t.session_since = T_S - DAY;
    provenance_judgement_t j = provenance_judge(&t);
    assert_int_equal(j.verdict, PROVENANCE_LATER_ITEM_FIRST);
    assert_int_equal(j.gap, 3 * DAY - 60);
}

static void nothing_is_judged_without_a_verified_receipt(void **state)
{
    (void)state;
    provenance_times_t t = verified(T_S + 3 * DAY);
    t.claimed_before = T_S + 3 * DAY - 60; /* would be implausible if checked */
    t.session_since = T_S - DAY;
    t.receipt_verifies = false;
    provenance_judgement_t j = provenance_judge(&t);
    assert_false(j.checked);
    assert_false(j.implausible);
    assert_int_equal(j.verdict, PROVENANCE_RECEIPT_UNVERIFIED);
    t.has_receipt = false;
    assert_int_equal(provenance_judge(&t).verdict, PROVENANCE_NO_RECEIPT);
    /* Unsigned comes first, whatever its receipt claims. */
    t.has_receipt = t.receipt_verifies = true;
    t.is_signed = false;
    j = provenance_judge(&t);
    assert_false(j.checked);
    assert_false(j.implausible);
    assert_int_equal(j.verdict, PROVENANCE_UNSIGNED);
}

static void every_verdict_has_a_line_in_both_languages(void **state)
{
    (void)state;
    provenance_judgement_t j = {PROVENANCE_LATER_ITEM_FIRST, true, true, 3 * DAY - 60};
    char line[PROVENANCE_REASON_MAX];
    provenance_reason(&j, LANG_EN, line, sizeof line);
    assert_string_equal(line, "the hub had already received an item the county made 71 h 59 "
                              "min after the claimed time (a county's queue delivers in order)");
    provenance_reason(&j, LANG_ZH, line, sizeof line);
    assert_non_null(strstr(line, "71 小时 59 分"));
    for (int v = 0; v < PROVENANCE_VERDICT_COUNT; v++) {
        provenance_judgement_t each = {(provenance_verdict_t)v, false, false, DAY + 60};
        char en[PROVENANCE_REASON_MAX], zh[PROVENANCE_REASON_MAX];
        provenance_reason(&each, LANG_EN, en, sizeof en);
        provenance_reason(&each, LANG_ZH, zh, sizeof zh);
        assert_true(strlen(en) > 20);
        assert_string_not_equal(en, zh);
        assert_null(strchr(en, '\n'));
        assert_string_not_equal(provenance_verdict_name((provenance_verdict_t)v), "unknown");
        for (int w = 0; w < v; w++)
            assert_string_not_equal(provenance_verdict_name((provenance_verdict_t)v),
                                    provenance_verdict_name((provenance_verdict_t)w));
    }
    provenance_judgement_t unsigned_report = {PROVENANCE_UNSIGNED, false, false, 0};
    provenance_reason(&unsigned_report, LANG_EN, line, sizeof line);
    assert_non_null(strstr(line, "not checked"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(unknown_link_times_accuse_nobody),
        cmocka_unit_test(contact_exactly_a_day_after_is_plausible),
        cmocka_unit_test(session_up_exactly_a_day_after_is_plausible),
        cmocka_unit_test(a_link_that_was_down_explains_the_gap),
        cmocka_unit_test(contact_is_the_first_rule_when_both_hold),
        cmocka_unit_test(nothing_is_judged_without_a_verified_receipt),
        cmocka_unit_test(every_verdict_has_a_line_in_both_languages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
