#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "base/error.h"
#include "domain/engine.h"

#include "engine_fixture.h"

/* ---- the pass rule, value by value ---- */

typedef struct {
    criterion_kind_t kind;
    criterion_op_t op;
    double threshold;
    criterion_kind_t value_kind;
    bool flag;
    uint64_t count, num, den;
    bool passes;
} pass_case_t;

static void criteria_pass_exactly_at_their_thresholds(void **state)
{
    (void)state;
    const uint64_t max = UINT64_MAX;
    const pass_case_t cases[] = {
        {CRITERION_BOOL, OP_EQ, 1, CRITERION_BOOL, true, 0, 0, 0, true},
        {CRITERION_BOOL, OP_EQ, 1, CRITERION_BOOL, false, 0, 0, 0, false},
        {CRITERION_COUNT, OP_GE, 2, CRITERION_COUNT, false, 1, 0, 0, false},
        {CRITERION_COUNT, OP_GE, 2, CRITERION_COUNT, false, 2, 0, 0, true},
        {CRITERION_COUNT, OP_GE, 2, CRITERION_COUNT, false, 3, 0, 0, true},
        {CRITERION_COUNT, OP_GE, 0, CRITERION_COUNT, false, 0, 0, 0, true},
        {CRITERION_COUNT, OP_GE, 10, CRITERION_COUNT, false, max, 0, 0, true},
        {CRITERION_COUNT, OP_EQ, 3, CRITERION_COUNT, false, 3, 0, 0, true},
        {CRITERION_COUNT, OP_EQ, 3, CRITERION_COUNT, false, 4, 0, 0, false},
        /* 89.99 % is not 90 %. */
        {CRITERION_RATIO, OP_GE, 90, CRITERION_RATIO, false, 0, 8999, 10000, false},
        {CRITERION_RATIO, OP_GE, 90, CRITERION_RATIO, false, 0, 9000, 10000, true},
        {CRITERION_RATIO, OP_GE, 90, CRITERION_RATIO, false, 0, 9, 10, true},
        {CRITERION_RATIO, OP_GE, 90, CRITERION_RATIO, false, 0, 89, 100, false},
        {CRITERION_RATIO, OP_GE, 90, CRITERION_RATIO, false, 0, 899999999, 1000000000, false},
        {CRITERION_RATIO, OP_GE, 90, CRITERION_RATIO, false, 0, 0, 0, false},
        {CRITERION_RATIO, OP_GE, 0, CRITERION_RATIO, false, 0, 0, 5, true},
        {CRITERION_RATIO, OP_GE, 0, CRITERION_RATIO, false, 0, 0, 0, false},
        {CRITERION_RATIO, OP_GE, 90, CRITERION_RATIO, false, 0, max, max, true},
        {CRITERION_RATIO, OP_GE, 90, CRITERION_RATIO, false, 0, max / 10 * 9, max, false},
        /* 0.9 * max = max / 10 * 9 + 4.5 */
        {CRITERION_RATIO, OP_GE, 90, CRITERION_RATIO, false, 0, max / 10 * 9 + 4, max, false},
        {CRITERION_RATIO, OP_GE, 90, CRITERION_RATIO, false, 0, max / 10 * 9 + 5, max, true},
        /* == 100 means num == den. */
        {CRITERION_RATIO, OP_EQ, 100, CRITERION_RATIO, false, 0, 99, 100, false},
        {CRITERION_RATIO, OP_EQ, 100, CRITERION_RATIO, false, 0, 100, 100, true},
        {CRITERION_RATIO, OP_EQ, 100, CRITERION_RATIO, false, 0, 0, 0, false},
        {CRITERION_RATIO, OP_EQ, 100, CRITERION_RATIO, false, 0, max - 1, max, false},
        {CRITERION_RATIO, OP_EQ, 100, CRITERION_RATIO, false, 0, max, max, true},
        {CRITERION_RATIO, OP_GE, 100, CRITERION_RATIO, false, 0, 999, 1000, false},
        /* A fractional threshold. */
        {CRITERION_RATIO, OP_GE, 85.5, CRITERION_RATIO, false, 0, 855, 1000, true},
        {CRITERION_RATIO, OP_GE, 85.5, CRITERION_RATIO, false, 0, 171, 200, true},
        {CRITERION_RATIO, OP_GE, 85.5, CRITERION_RATIO, false, 0, 8549, 10000, false},
        {CRITERION_RATIO, OP_GE, 33.333333, CRITERION_RATIO, false, 0, 1, 3, true},
        {CRITERION_RATIO, OP_GE, 33.333334, CRITERION_RATIO, false, 0, 1, 3, false},
        /* A value of the wrong kind is no value. */
        {CRITERION_RATIO, OP_GE, 90, CRITERION_COUNT, false, 95, 0, 0, false},
        {CRITERION_BOOL, OP_EQ, 1, CRITERION_COUNT, false, 1, 0, 0, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const pass_case_t *c = &cases[i];
        programme_criterion_t criterion = {.kind = c->kind, .op = c->op, .threshold = c->threshold};
        report_value_t value = {.kind = c->value_kind,
                                .flag = c->flag,
                                .count = c->count,
                                .num = c->num,
                                .den = c->den};
        if (engine_criterion_passes(&criterion, &value) != c->passes)
            fail_msg("case %zu: threshold %g, count %llu, %llu/%llu: expected %s", i, c->threshold,
                     (unsigned long long)c->count, (unsigned long long)c->num,
                     (unsigned long long)c->den, c->passes ? "pass" : "fail");
    }
    assert_false(engine_criterion_passes(NULL, NULL));
}

/* ---- evaluation fixtures ---- */

typedef struct {
    programme_t *programme;
    engine_input_t *input;
    engine_result_t *result;
} world_t;

static int world_setup(void **state)
{
    world_t *w = calloc(1, sizeof *w);
    if (!w)
        return -1;
    w->programme = fixture_programme();
    w->input = w->programme ? engine_input_new(w->programme, NULL) : NULL;
    *state = w;
    return w->input ? 0 : -1;
}

static int world_teardown(void **state)
{
    world_t *w = *state;
    engine_result_destroy(&w->result);
    engine_input_destroy(&w->input);
    programme_destroy(&w->programme);
    free(w);
    return 0;
}

/* Adds a report and frees it. */
static void add(world_t *w, report_t *report, int64_t received_at)
{
    assert_int_equal(engine_input_add_report(w->input, report, received_at), 0);
    report_destroy(&report);
}

static void inspect(world_t *w, report_t *report, engine_tier_t tier)
{
    assert_int_equal(engine_input_add_inspection(w->input, report, tier), 0);
    report_destroy(&report);
}

static const engine_unit_result_t *evaluate(world_t *w, int year, const char *scope,
                                            const char *unit)
{
    char err[256] = "";
    engine_result_destroy(&w->result);
    int rc = engine_evaluate(w->input, year, fixture_time("2018-12-31"), scope, &w->result, err,
                             sizeof err);
    if (rc != 0)
        fail_msg("engine_evaluate: %s", err);
    return unit ? engine_result_find_unit(w->result, unit) : NULL;
}

static void assert_codes(const engine_unit_result_t *const *list, size_t count,
                         const char *const *expected, size_t expected_count)
{
    assert_int_equal(count, expected_count);
    for (size_t i = 0; i < count; i++)
        assert_string_equal(list[i]->unit->code, expected[i]);
}

#define CODES(...) ((const char *const[]){__VA_ARGS__})
#define NCODES(...) (sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))
#define ASSERT_LIST(list, count, ...)                                                              \
    assert_codes((list), (count), CODES(__VA_ARGS__), NCODES(__VA_ARGS__))

static void lateness_is_judged_by_submission_not_receipt(void **state)
{
    world_t *w = *state;
    /* Submitted at the last second of the deadline, delivered weeks later. */
    add(w, fixture_passing_report("990101", 2018, 1, "2018-07-31T23:59:59+08:00", "a1", 5),
        fixture_time("2018-08-20"));
    /* Submitted a second after the deadline, delivered at once. */
    add(w, fixture_passing_report("990102", 2018, 1, "2018-08-01T00:00:00+08:00", "b1", 5),
        fixture_time("2018-08-01T00:00:01+08:00"));
    const engine_unit_result_t *a = evaluate(w, 2018, NULL, "990101");
    assert_int_equal(a->status, ENGINE_ON_TIME);
    assert_false(a->flags & ENGINE_FLAG_LATE);
    assert_int_equal(a->received_at, fixture_time("2018-08-20"));
    const engine_unit_result_t *b = engine_result_find_unit(w->result, "990102");
    assert_int_equal(b->status, ENGINE_LATE);
    assert_true(b->flags & ENGINE_FLAG_LATE);
    assert_true(b->qualified); /* the fixture does not disqualify late reports */
    const engine_unit_result_t *c = engine_result_find_unit(w->result, "990103");
    assert_int_equal(c->status, ENGINE_MISSING);
    assert_false(c->qualified);
    assert_false(c->flags & ENGINE_FLAG_NOT_YET_DUE);

    const engine_prefecture_result_t *p = engine_result_find_prefecture(w->result, "990100");
    assert_int_equal(p->summary.expected, 5);
    assert_int_equal(p->summary.reported, 2);
    assert_int_equal(p->summary.on_time, 1);
    assert_int_equal(p->summary.late, 1);
    assert_int_equal(p->summary.missing, 3);

    /* Before the deadline a missing unit is not yet due. */
    char err[128];
    engine_result_destroy(&w->result);
    assert_int_equal(engine_evaluate(w->input, 2018, fixture_time("2018-07-15"), NULL, &w->result,
                                     err, sizeof err),
                     0);
    c = engine_result_find_unit(w->result, "990103");
    assert_int_equal(c->status, ENGINE_MISSING);
    assert_true(c->flags & ENGINE_FLAG_NOT_YET_DUE);
}

static void the_latest_version_counts(void **state)
{
    world_t *w = *state;
    /* 990101: v2 corrects a failing v1; added newest first. */
    report_t *v2 = fixture_passing_report("990101", 2018, 2, "2018-08-10", "a2", 5);
    report_t *v1 = fixture_passing_report("990101", 2018, 1, "2018-07-01", "a1", 5);
    fixture_ratio(v1, "2.1", 850, 1000);
    add(w, v2, fixture_time("2018-08-11"));
    add(w, v1, fixture_time("2018-07-02"));
    /* A redelivered version is not a new one. */
    add(w, fixture_passing_report("990101", 2018, 1, "2018-07-01", "a1", 5), 0);
    /* 990102: same version number twice: the later submission counts. */
    report_t *early = fixture_passing_report("990102", 2018, 1, "2018-07-02", "b-early", 5);
    report_t *late = fixture_passing_report("990102", 2018, 1, "2018-07-03", "b-late", 5);
    fixture_bool(early, "1.1", false);
    add(w, late, 0);
    add(w, early, 0);
    /* 990103: same version and time: the larger report_id counts. */
    report_t *x = fixture_passing_report("990103", 2018, 1, "2018-07-02", "c-x", 5);
    report_t *y = fixture_passing_report("990103", 2018, 1, "2018-07-02", "c-y", 5);
    fixture_count(x, "1.2a", 0);
    add(w, y, 0);
    add(w, x, 0);

    const engine_unit_result_t *a = evaluate(w, 2018, NULL, "990101");
    assert_true(a->qualified);
    assert_int_equal(a->version, 2);
    assert_int_equal(a->version_count, 2);
    assert_string_equal(a->report_id, "a2");
    assert_true(a->flags & ENGINE_FLAG_CORRECTED);
    /* The first version was on time; the correction after the deadline
     * does not make the unit late. */
    assert_int_equal(a->status, ENGINE_ON_TIME);
    assert_int_equal(a->first_submitted_at, fixture_time("2018-07-01"));
    assert_int_equal(a->submitted_at, fixture_time("2018-08-10"));
    const engine_unit_result_t *b = engine_result_find_unit(w->result, "990102");
    assert_string_equal(b->report_id, "b-late");
    assert_true(b->qualified);
    const engine_unit_result_t *c = engine_result_find_unit(w->result, "990103");
    assert_string_equal(c->report_id, "c-y");
    assert_true(c->qualified);
}

/* A county that lost its disk and was initialised again numbers from v1 in
 * a later series: its new v1 counts over the old v5. */
static void a_reinitialised_county_is_heard(void **state)
{
    world_t *w = *state;
    report_t *old = fixture_passing_report("990101", 2018, 5, "2018-07-01", "old-v5", 5);
    report_t *fresh = fixture_passing_report("990101", 2018, 1, "2018-07-05", "new-v1", 5);
    old->series = 1500000000;
    fresh->series = 1530000000;
    fixture_bool(old, "1.1", false);
    add(w, fresh, 0);
    add(w, old, 0);
    /* 990102 was restored from a backup taken before its v3: it numbers v2
     * again, later; the newer submission counts, not the higher number. */
    report_t *v3 = fixture_passing_report("990102", 2018, 3, "2018-07-03", "b-v3", 5);
    report_t *again = fixture_passing_report("990102", 2018, 2, "2018-07-06", "b-v2-again", 5);
    v3->series = again->series = 1500000000;
    fixture_bool(v3, "1.1", false);
    add(w, again, 0);
    add(w, v3, 0);
    const engine_unit_result_t *a = evaluate(w, 2018, NULL, "990101");
    assert_string_equal(a->report_id, "new-v1");
    assert_int_equal(a->version, 1);
    assert_int_equal(a->version_count, 2);
    assert_true(a->qualified);
    const engine_unit_result_t *b = engine_result_find_unit(w->result, "990102");
    assert_string_equal(b->report_id, "b-v2-again");
    assert_true(b->qualified);
}

static void missing_values_fail_their_items(void **state)
{
    world_t *w = *state;
    report_t *r = fixture_passing_report("990101", 2018, 1, "2018-07-01", "a1", 5);
    fixture_remove(r, "1.2b");
    fixture_ratio(r, "2.1", 0, 0);
    add(w, r, 0);
    const engine_unit_result_t *u = evaluate(w, 2018, NULL, "990101");
    assert_true(u->flags & ENGINE_FLAG_MISSING_VALUES);
    assert_false(u->qualified);
    assert_int_equal(u->items_passed, 3); /* 1.1, 2.2 and 2.3 pass; 1.2, 2.1 fail */
    const programme_t *p = w->programme;
    assert_false(u->item_passed[programme_find_item(p, "1.2")]);
    assert_false(u->item_passed[programme_find_item(p, "2.1")]);
    assert_true(u->item_passed[programme_find_item(p, "1.1")]);
}

typedef struct {
    const char *criterion;
    uint64_t self_num, self_den, inspected_num, inspected_den;
    bool discrepancy;
    bool qualified;
} discrepancy_case_t;

static void inspections_replace_values_and_catch_discrepancies(void **state)
{
    world_t *w = *state;
    static const char *const units[] = {"990101", "990102", "990103", "990104", "990105"};
    const discrepancy_case_t cases[] = {
        /* passes on the self-report, fails on inspection */
        {"2.1", 920, 1000, 880, 1000, true, false},
        /* both pass, but 99 % against 93 %: more than 5 points apart */
        {"2.1", 990, 1000, 930, 1000, true, false},
        /* exactly 5 points apart: within the tolerance */
        {"2.1", 930, 1000, 980, 1000, false, true},
        /* 5.1 points the other way */
        {"2.1", 930, 1000, 981, 1000, true, false},
        /* fails on the self-report, passes on inspection, 2 points: accepted */
        {"2.3", 850, 1000, 870, 1000, false, true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        report_t *self = fixture_passing_report(units[i], 2018, 1, "2018-07-01", units[i], 5);
        fixture_ratio(self, cases[i].criterion, cases[i].self_num, cases[i].self_den);
        add(w, self, 0);
        report_t *insp = fixture_report(units[i], 2018, 1, fixture_time("2018-08-15"), "i");
        fixture_ratio(insp, cases[i].criterion, cases[i].inspected_num, cases[i].inspected_den);
        inspect(w, insp, ENGINE_TIER_PREFECTURE);
    }
    /* A bool reported true and found false. */
    report_t *self = fixture_passing_report("990201", 2018, 1, "2018-07-01", "s", 5);
    add(w, self, 0);
    report_t *insp = fixture_report("990201", 2018, 1, fixture_time("2018-08-15"), "i");
    fixture_bool(insp, "1.1", false);
    inspect(w, insp, ENGINE_TIER_PREFECTURE);
    /* A count reported too low, found sufficient: no discrepancy, passes. */
    self = fixture_passing_report("990202", 2018, 1, "2018-07-01", "s", 5);
    fixture_count(self, "1.2a", 1);
    add(w, self, 0);
    insp = fixture_report("990202", 2018, 1, fixture_time("2018-08-15"), "i");
    fixture_count(insp, "1.2a", 3);
    inspect(w, insp, ENGINE_TIER_PREFECTURE);

    evaluate(w, 2018, NULL, NULL);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const engine_unit_result_t *u = engine_result_find_unit(w->result, units[i]);
        int c = programme_find_criterion(w->programme, cases[i].criterion);
        if (!!(u->flags & ENGINE_FLAG_DISCREPANCY) != cases[i].discrepancy ||
            u->qualified != cases[i].qualified)
            fail_msg("case %zu: flags %x qualified %d", i, u->flags, u->qualified);
        assert_int_equal(u->criteria[c].discrepancy, cases[i].discrepancy);
        assert_int_equal(u->criteria[c].source, ENGINE_TIER_PREFECTURE);
        assert_int_equal(u->criteria[c].value.num, cases[i].inspected_num);
        assert_int_equal(u->criteria[c].self_value.num, cases[i].self_num);
        assert_true(u->flags & ENGINE_FLAG_INSPECTED);
    }
    const engine_unit_result_t *u = engine_result_find_unit(w->result, "990201");
    assert_true(u->flags & ENGINE_FLAG_DISCREPANCY);
    assert_false(u->qualified);
    u = engine_result_find_unit(w->result, "990202");
    assert_false(u->flags & ENGINE_FLAG_DISCREPANCY);
    assert_true(u->qualified);
    assert_int_equal(u->criteria[programme_find_criterion(w->programme, "1.2a")].value.count, 3);
}

static void province_inspection_overrides_and_removes_a_recommended_unit(void **state)
{
    world_t *w = *state;
    add(w, fixture_passing_report("990301", 2018, 1, "2018-07-01", "a", 30), 0);
    add(w, fixture_passing_report("990302", 2018, 1, "2018-07-01", "b", 10), 0);
    /* The prefecture found 990301 fine; the province finds 2.2 at 98 %. */
    report_t *insp = fixture_report("990301", 2018, 1, fixture_time("2018-08-15"), "p");
    fixture_ratio(insp, "2.2", 100, 100);
    inspect(w, insp, ENGINE_TIER_PREFECTURE);
    insp = fixture_report("990301", 2018, 1, fixture_time("2018-10-15"), "q");
    fixture_ratio(insp, "2.2", 98, 100);
    inspect(w, insp, ENGINE_TIER_PROVINCE);
    const char *list[] = {"990301"};
    assert_int_equal(engine_input_add_recommendation(w->input, "990300", 2018, list, 1, true,
                                                     fixture_time("2018-09-20"), 1),
                     0);
    const engine_unit_result_t *u = evaluate(w, 2018, NULL, "990301");
    int c = programme_find_criterion(w->programme, "2.2");
    assert_int_equal(u->criteria[c].source, ENGINE_TIER_PROVINCE);
    assert_int_equal(u->criteria[c].value.num, 98);
    assert_true(u->flags & ENGINE_FLAG_DISCREPANCY);
    assert_true(u->recommended);
    assert_false(u->qualified);
    assert_false(u->demonstration);
    const engine_province_result_t *pr = engine_result_province(w->result);
    assert_non_null(pr);
    assert_int_equal(pr->demonstration_count, 0);
}

static void a_returned_version_is_flagged_until_corrected(void **state)
{
    world_t *w = *state;
    add(w, fixture_passing_report("990101", 2018, 1, "2018-07-01", "a1", 5), 0);
    add(w, fixture_passing_report("990102", 2018, 1, "2018-07-01", "b1", 5), 0);
    assert_int_equal(engine_input_add_return(w->input, "990101", 2018, "a1", "附件缺失",
                                             fixture_time("2018-07-05")),
                     0);
    /* Without a report_id: whatever was counted when it was returned. */
    assert_int_equal(engine_input_add_return(w->input, "990102", 2018, NULL, "数据有误",
                                             fixture_time("2018-07-05")),
                     0);
    const engine_unit_result_t *a = evaluate(w, 2018, NULL, "990101");
    assert_true(a->flags & ENGINE_FLAG_RETURNED);
    assert_string_equal(a->return_reason, "附件缺失");
    assert_false(a->qualified);
    assert_false(a->recommended);
    assert_true(engine_result_find_unit(w->result, "990102")->flags & ENGINE_FLAG_RETURNED);

    add(w, fixture_passing_report("990101", 2018, 2, "2018-07-10", "a2", 5), 0);
    add(w, fixture_passing_report("990102", 2018, 2, "2018-07-10", "b2", 5), 0);
    a = evaluate(w, 2018, NULL, "990101");
    assert_false(a->flags & ENGINE_FLAG_RETURNED);
    assert_null(a->return_reason);
    assert_true(a->qualified);
    assert_false(engine_result_find_unit(w->result, "990102")->flags & ENGINE_FLAG_RETURNED);
    assert_int_equal(engine_input_add_return(w->input, "999999", 2018, "x", "r", 0), SF_EINVAL);
}

static void ranking_breaks_ties_by_margin_then_submission_then_code(void **state)
{
    world_t *w = *state;
    add(w, fixture_passing_report("990101", 2018, 1, "2018-07-10", "a", 30), 0);
    add(w, fixture_passing_report("990102", 2018, 1, "2018-07-20", "b", 50), 0);
    add(w, fixture_passing_report("990103", 2018, 1, "2018-07-05", "c", 30), 0);
    add(w, fixture_passing_report("990104", 2018, 1, "2018-07-10", "d", 30), 0);
    report_t *failing = fixture_passing_report("990105", 2018, 1, "2018-07-01", "e", 90);
    fixture_ratio(failing, "2.2", 999, 1000);
    add(w, failing, 0);
    /* 乙市 has qualified units but quota 0. */
    add(w, fixture_passing_report("990201", 2018, 1, "2018-07-01", "f", 90), 0);

    evaluate(w, 2018, NULL, NULL);
    const engine_prefecture_result_t *p = engine_result_find_prefecture(w->result, "990100");
    assert_int_equal(p->quota, 2);
    ASSERT_LIST(p->ranking, p->ranking_count, "990102", "990103", "990101", "990104");
    /* More qualified units than the quota: the best two. */
    ASSERT_LIST(p->automatic, p->automatic_count, "990102", "990103");
    ASSERT_LIST(p->recommended, p->recommended_count, "990102", "990103");
    assert_int_equal(p->source, ENGINE_REC_AUTOMATIC);
    assert_true(p->provisional);
    assert_int_equal(engine_result_find_unit(w->result, "990102")->rank, 1);
    assert_int_equal(engine_result_find_unit(w->result, "990104")->rank, 4);
    assert_int_equal(engine_result_find_unit(w->result, "990105")->rank, 0);
    /* 2 * 5.0 points over 3 ratio criteria */
    assert_float_equal(engine_result_find_unit(w->result, "990102")->mean_margin, 10.0 / 3, 1e-9);

    const engine_prefecture_result_t *q = engine_result_find_prefecture(w->result, "990200");
    assert_int_equal(q->quota, 0);
    ASSERT_LIST(q->ranking, q->ranking_count, "990201");
    assert_int_equal(q->recommended_count, 0);
    assert_false(engine_result_find_unit(w->result, "990201")->recommended);

    const engine_province_result_t *pr = engine_result_province(w->result);
    ASSERT_LIST(pr->demonstration, pr->demonstration_count, "990102", "990103");
    ASSERT_LIST(pr->national, pr->national_count, "990102");
}

static void a_prefectures_own_list_is_used_within_its_quota(void **state)
{
    world_t *w = *state;
    add(w, fixture_passing_report("990301", 2018, 1, "2018-07-01", "a", 50), 0);
    add(w, fixture_passing_report("990302", 2018, 1, "2018-07-01", "b", 10), 0);
    add(w, fixture_passing_report("990303", 2018, 1, "2018-07-01", "c", 20), 0);
    const char *provisional[] = {"990302"};
    const char *confirmed[] = {"990303", "990301", "999999"};
    assert_int_equal(engine_input_add_recommendation(w->input, "990300", 2018, provisional, 1,
                                                     false, fixture_time("2018-09-01"), 1),
                     0);
    evaluate(w, 2018, NULL, NULL);
    const engine_prefecture_result_t *p = engine_result_find_prefecture(w->result, "990300");
    assert_int_equal(p->source, ENGINE_REC_PROVISIONAL);
    assert_true(p->provisional);
    ASSERT_LIST(p->recommended, p->recommended_count, "990302");
    ASSERT_LIST(p->automatic, p->automatic_count, "990301");

    /* The confirmed, later revision wins, cut to the quota of one. */
    assert_int_equal(engine_input_add_recommendation(w->input, "990300", 2018, confirmed, 3, true,
                                                     fixture_time("2018-10-02"), 2),
                     0);
    evaluate(w, 2018, NULL, NULL);
    p = engine_result_find_prefecture(w->result, "990300");
    assert_int_equal(p->source, ENGINE_REC_CONFIRMED);
    assert_false(p->provisional);
    assert_true(p->late); /* after 09-30 */
    assert_int_equal(p->ignored_count, 2);
    ASSERT_LIST(p->recommended, p->recommended_count, "990303");
    assert_true(engine_result_find_unit(w->result, "990303")->demonstration);
    assert_false(engine_result_find_unit(w->result, "990301")->recommended);
    assert_true(engine_result_find_unit(w->result, "990301")->recommended_auto);
    assert_int_equal(
        engine_input_add_recommendation(w->input, "990101", 2018, confirmed, 1, true, 0, 1),
        SF_EINVAL);
}

static void progress_accumulates_and_designated_units_leave_the_ranking(void **state)
{
    world_t *w = *state;
    for (int year = 2018; year <= 2019; year++) {
        char when[16];
        snprintf(when, sizeof when, "%d-07-01", year);
        add(w, fixture_passing_report("990101", year, 1, when, "a", 40), 0);
        add(w, fixture_passing_report("990102", year, 1, when, "b", 30), 0);
        add(w, fixture_passing_report("990103", year, 1, when, "c", 20), 0);
        add(w, fixture_passing_report("990301", year, 1, when, "d", 10), 0);
        add(w, fixture_passing_report("990302", year, 1, when, "e", 50), 0);
    }
    const engine_unit_result_t *a = evaluate(w, 2019, NULL, "990101");
    assert_int_equal(a->designated_year, 2018);
    assert_true(a->flags & ENGINE_FLAG_DESIGNATED);
    assert_true(a->qualified);
    assert_false(a->recommended);
    const engine_province_result_t *pr = engine_result_province(w->result);
    /* 2018: 990101, 990102 (quota 2) and 990302; national: 990302 (best margin).
     * 2019: 990103 (quota 1) and 990301; national: 990103. */
    ASSERT_LIST(pr->demonstration, pr->demonstration_count, "990103", "990301");
    ASSERT_LIST(pr->national, pr->national_count, "990103");
    assert_int_equal(pr->progress_count, 2);
    assert_int_equal(pr->progress[0].year, 2018);
    assert_int_equal(pr->progress[0].demonstration, 3);
    assert_int_equal(pr->progress[0].national, 1);
    assert_int_equal(pr->progress[1].demonstration_total, 5);
    assert_int_equal(pr->progress[1].national_total, 2);
    assert_int_equal(pr->target_count, 2);
    assert_string_equal(pr->targets[0].id, "demonstration");
    assert_int_equal(pr->targets[0].needed, 4);
    assert_int_equal(pr->targets[0].achieved, 5);
    assert_int_equal(pr->targets[1].needed, 2);
    assert_int_equal(pr->targets[1].achieved, 2);
}

static void aggregates_sum_numerators_and_denominators(void **state)
{
    world_t *w = *state;
    report_t *a = fixture_passing_report("990101", 2018, 1, "2018-07-01", "a", 5);
    fixture_ratio(a, "2.1", 9, 10);
    fixture_count(a, "1.2a", 2);
    report_t *b = fixture_passing_report("990102", 2018, 1, "2018-07-01", "b", 5);
    fixture_ratio(b, "2.1", 990, 1000);
    fixture_count(b, "1.2a", 5);
    fixture_bool(b, "1.1", false);
    report_t *c = fixture_passing_report("990103", 2018, 1, "2018-07-01", "c", 5);
    fixture_remove(c, "2.1");
    fixture_remove(c, "1.1");
    add(w, a, 0);
    add(w, b, 0);
    add(w, c, 0);
    evaluate(w, 2018, NULL, NULL);
    const engine_prefecture_result_t *p = engine_result_find_prefecture(w->result, "990100");
    const engine_aggregate_t *ratio =
        &p->summary.aggregates[programme_find_criterion(w->programme, "2.1")];
    /* 999/1010 = 98.91 %, not the mean of 90 % and 99 % (94.5 %). */
    assert_int_equal(ratio->units, 2);
    assert_int_equal(ratio->sum, 999);
    assert_int_equal(ratio->den_sum, 1010);
    assert_float_equal(ratio->percent, 100.0 * 999 / 1010, 1e-9);
    const engine_aggregate_t *count =
        &p->summary.aggregates[programme_find_criterion(w->programme, "1.2a")];
    assert_int_equal(count->sum, 2 + 5 + 2);
    const engine_aggregate_t *flag =
        &p->summary.aggregates[programme_find_criterion(w->programme, "1.1")];
    assert_int_equal(flag->units, 2);
    assert_int_equal(flag->true_count, 1);
    assert_float_equal(flag->percent, 50.0, 1e-9);
    assert_int_equal(p->summary.qualified, 1); /* 9/10 is exactly 90 % */
}

static void every_scope_gives_a_unit_the_same_answer(void **state)
{
    world_t *w = *state;
    add(w, fixture_passing_report("990101", 2018, 1, "2018-07-01", "a", 40), 0);
    add(w, fixture_passing_report("990102", 2018, 1, "2018-08-02", "b", 20), 0);
    char err[256];
    engine_result_t *county = NULL, *prefecture = NULL, *province = NULL;
    int64_t now = fixture_time("2018-12-01");
    assert_int_equal(engine_evaluate(w->input, 2018, now, "990102", &county, err, sizeof err), 0);
    assert_int_equal(engine_evaluate(w->input, 2018, now, "990100", &prefecture, err, sizeof err),
                     0);
    assert_int_equal(engine_evaluate(w->input, 2018, now, "990000", &province, err, sizeof err), 0);
    assert_int_equal(engine_result_unit_count(county), 1);
    assert_int_equal(engine_result_prefecture_count(county), 1);
    assert_null(engine_result_province(county));
    assert_int_equal(engine_result_unit_count(prefecture), 5);
    assert_null(engine_result_province(prefecture));
    assert_int_equal(engine_result_unit_count(province), 10);
    assert_non_null(engine_result_province(province));
    const engine_unit_result_t *results[] = {
        engine_result_find_unit(county, "990102"),
        engine_result_find_unit(prefecture, "990102"),
        engine_result_find_unit(province, "990102"),
    };
    for (size_t i = 1; i < 3; i++) {
        assert_int_equal(results[i]->status, results[0]->status);
        assert_int_equal(results[i]->flags, results[0]->flags);
        assert_int_equal(results[i]->qualified, results[0]->qualified);
        assert_int_equal(results[i]->rank, results[0]->rank);
        assert_int_equal(results[i]->recommended, results[0]->recommended);
        assert_int_equal(results[i]->margin_sum_micro, results[0]->margin_sum_micro);
    }
    assert_int_equal(results[0]->status, ENGINE_LATE);
    assert_null(engine_result_find_unit(county, "990101"));
    engine_result_destroy(&county);
    engine_result_destroy(&prefecture);
    engine_result_destroy(&province);
    assert_null(province);

    assert_int_equal(engine_evaluate(w->input, 2018, now, "123456", &county, err, sizeof err),
                     SF_EINVAL);
    assert_non_null(strstr(err, "123456"));
    assert_int_equal(engine_evaluate(w->input, 2017, now, NULL, &county, err, sizeof err),
                     SF_EINVAL);
    assert_null(county);
    report_t *wrong = fixture_passing_report("990100", 2018, 1, "2018-07-01", "p", 0);
    assert_int_equal(engine_input_add_report(w->input, wrong, 0), SF_EINVAL);
    report_destroy(&wrong);
    wrong = fixture_passing_report("990101", 2025, 1, "2025-07-01", "p", 0);
    assert_int_equal(engine_input_add_report(w->input, wrong, 0), SF_EINVAL);
    report_destroy(&wrong);
}

/* ---- Qinhuangdao: sites under counties, a share target ---- */

static char *read_source_file(const char *relative, size_t *len)
{
    const char *root = getenv("SHIFAN_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", root ? root : ".", relative);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = malloc((size_t)size + 1);
    if (text && fread(text, 1, (size_t)size, f) != (size_t)size) {
        free(text);
        text = NULL;
    }
    if (text)
        text[size] = '\0';
    fclose(f);
    *len = (size_t)size;
    return text;
}

static void fill_all_passing(report_t *report, const programme_t *programme)
{
    for (size_t c = 0; c < programme_criterion_count(programme); c++) {
        const programme_criterion_t *criterion = programme_criterion(programme, c);
        switch (criterion->kind) {
        case CRITERION_BOOL:
            fixture_bool(report, criterion->id, true);
            break;
        case CRITERION_COUNT:
            fixture_count(report, criterion->id, (uint64_t)criterion->threshold);
            break;
        case CRITERION_RATIO:
            fixture_ratio(report, criterion->id, 1000, 1000);
            break;
        }
    }
}

static void the_qinhuangdao_programme_evaluates_sites(void **state)
{
    (void)state;
    size_t len = 0;
    char *text = read_source_file("programmes/qinhuangdao-2018.json", &len);
    assert_non_null(text);
    char err[512] = "";
    sf_error_t error;
    programme_t *programme = programme_load_json(text, len, "qinhuangdao-2018.json", &error);
    free(text);
    if (!programme)
        fail_msg("%s", error.text);
    engine_input_t *input = engine_input_new(programme, NULL);
    assert_non_null(input);
    /* One site of 海港区 (130302) passes everything. */
    const char *site = NULL;
    for (size_t u = 0; u < programme_unit_count(programme) && !site; u++) {
        const programme_unit_t *unit = programme_unit(programme, u);
        if (unit->evaluated && programme_unit_within(programme, unit->code, "130302"))
            site = unit->code;
    }
    assert_non_null(site);
    report_t *report = fixture_report(site, 2018, 1, fixture_time("2018-10-01"), "q1");
    fill_all_passing(report, programme);
    assert_int_equal(engine_input_add_report(input, report, 0), 0);
    report_destroy(&report);

    engine_result_t *result = NULL;
    assert_int_equal(
        engine_evaluate(input, 2018, fixture_time("2018-12-20"), NULL, &result, err, sizeof err),
        0);
    const engine_unit_result_t *u = engine_result_find_unit(result, site);
    assert_non_null(u);
    assert_true(u->qualified);
    assert_int_equal(u->status, ENGINE_ON_TIME);
    assert_string_equal(u->prefecture->code, "130302");
    const engine_prefecture_result_t *p = engine_result_find_prefecture(result, "130302");
    assert_int_equal(p->quota, 1);
    ASSERT_LIST(p->recommended, p->recommended_count, site);
    const engine_province_result_t *pr = engine_result_province(result);
    ASSERT_LIST(pr->demonstration, pr->demonstration_count, site);
    assert_int_equal(pr->national_count, 0);
    assert_int_equal(engine_result_prefecture_count(result), 9);
    assert_int_equal(pr->target_count, 1);
    assert_true(pr->targets[0].share);
    assert_int_equal(pr->targets[0].needed, (programme_participant_count(programme) + 1) / 2);
    assert_int_equal(pr->targets[0].achieved, 1);
    /* The city's hub sees all of its counties' sites. */
    engine_result_t *hub = NULL;
    assert_int_equal(
        engine_evaluate(input, 2018, fixture_time("2018-12-20"), "130300", &hub, err, sizeof err),
        0);
    assert_int_equal(engine_result_prefecture_count(hub), 9);
    assert_int_equal(engine_result_unit_count(hub), engine_result_unit_count(result));
    engine_result_destroy(&hub);
    engine_result_destroy(&result);
    engine_input_destroy(&input);
    programme_destroy(&programme);
}

/* ---- Yunnan, 129 counties, 2017-2020 ----
 *
 * Every county gets values from a PRNG, but each "background" county has one
 * criterion, picked by the PRNG, pushed below its threshold: no background
 * county ever qualifies. A few "star" counties in four prefectures pass
 * everything with every ratio `margin` tenths of a point above its
 * threshold (capped at 100 %), so their order is known by hand. */

typedef struct {
    const char *code;
    unsigned margin;       /* tenths of a point */
    const char *submitted; /* MM-DD of each year */
} star_t;

static const star_t stars[] = {
    /* 昆明 quotas 1,1,1,1 */
    {"530102", 40, "07-10"},
    {"530103", 30, "07-10"},
    {"530111", 20, "07-10"},
    {"530112", 10, "07-12"},
    {"530113", 10, "07-01"}, /* same margin as 530112, submits earlier */
    /* 曲靖 quotas 1,1,0,1; 530302 has 2.1 at 89.99 % in 2017 */
    {"530302", 50, "07-10"},
    {"530303", 20, "07-10"},
    {"530304", 10, "07-03"},
    /* 红河 quotas 1,1,0,1; 532501 caught by the prefecture's inspection in 2017;
     * 532503 submits late in 2020 */
    {"532501", 30, "07-10"},
    {"532502", 20, "07-10"},
    {"532503", 10, "07-10"},
    /* 大理 quotas 0,1,1,1; 532901 and 532922 tie up to the code */
    {"532901", 20, "07-10"},
    {"532922", 20, "07-10"},
    {"532923", 10, "07-02"},
};

static uint64_t prng_next(uint64_t *s)
{
    /* splitmix64: fixed, portable, good enough to scatter values */
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static const star_t *find_star(const char *code)
{
    for (size_t i = 0; i < sizeof stars / sizeof stars[0]; i++)
        if (strcmp(stars[i].code, code) == 0)
            return &stars[i];
    return NULL;
}

static report_t *yunnan_report(const programme_t *programme, const char *code, int year,
                               uint64_t *prng)
{
    const star_t *star = find_star(code);
    char when[40];
    if (star && strcmp(code, "532503") == 0 && year == 2020)
        snprintf(when, sizeof when, "%d-08-05", year);
    else if (star)
        snprintf(when, sizeof when, "%d-%s", year, star->submitted);
    else
        snprintf(when, sizeof when, "%d-07-%02d", year, (int)(1 + prng_next(prng) % 28));
    char id[64];
    snprintf(id, sizeof id, "%s-%d-v1", code, year);
    report_t *report = fixture_report(code, year, 1, fixture_time(when), id);
    size_t criteria = programme_criterion_count(programme);
    size_t spoiled = star ? criteria : (size_t)(prng_next(prng) % criteria);
    for (size_t c = 0; c < criteria; c++) {
        const programme_criterion_t *criterion = programme_criterion(programme, c);
        bool spoil = c == spoiled;
        switch (criterion->kind) {
        case CRITERION_BOOL:
            fixture_bool(report, criterion->id, !spoil);
            break;
        case CRITERION_COUNT: {
            uint64_t threshold = (uint64_t)criterion->threshold;
            fixture_count(report, criterion->id,
                          spoil ? threshold - 1 : threshold + prng_next(prng) % 4);
            break;
        }
        case CRITERION_RATIO: {
            uint64_t threshold = (uint64_t)(criterion->threshold * 10); /* tenths */
            uint64_t tenths;
            if (star)
                tenths = threshold + star->margin > 1000 ? 1000 : threshold + star->margin;
            else if (spoil)
                tenths = threshold - 1 - prng_next(prng) % 50;
            else
                tenths = threshold + prng_next(prng) % (1001 - threshold);
            if (criterion->op == OP_EQ && !spoil)
                tenths = 1000;
            fixture_ratio(report, criterion->id, tenths, 1000);
            break;
        }
        }
    }
    if (year == 2017 && strcmp(code, "530302") == 0)
        fixture_ratio(report, "2.1", 8999, 10000);
    return report;
}

static void yunnan_recommendations_match_a_hand_computed_plan(void **state)
{
    (void)state;
    programme_t *programme = programme_load_default(NULL);
    assert_non_null(programme);
    engine_input_t *input = engine_input_new(programme, NULL);
    assert_non_null(input);
    uint64_t prng = 20170731;
    size_t counties = 0;
    for (int year = 2017; year <= 2020; year++) {
        for (size_t u = 0; u < programme_unit_count(programme); u++) {
            const programme_unit_t *unit = programme_unit(programme, u);
            if (!unit->evaluated)
                continue;
            counties += year == 2017;
            /* About one background county in ten does not report. */
            if (!find_star(unit->code) && prng_next(&prng) % 10 == 0)
                continue;
            report_t *report = yunnan_report(programme, unit->code, year, &prng);
            assert_int_equal(engine_input_add_report(input, report, report->submitted_at + 60), 0);
            report_destroy(&report);
        }
    }
    assert_int_equal(counties, 129);
    /* 红河's inspection of 532501 in 2017: 2.1 reported 93 %, found 85 %. */
    report_t *insp = fixture_report("532501", 2017, 1, fixture_time("2017-09-01"), "i1");
    fixture_ratio(insp, "2.1", 850, 1000);
    assert_int_equal(engine_input_add_inspection(input, insp, ENGINE_TIER_PREFECTURE), 0);
    report_destroy(&insp);
    /* 大理 confirms its own list in 2020. */
    const char *dali[] = {"532923"};
    assert_int_equal(engine_input_add_recommendation(input, "532900", 2020, dali, 1, true,
                                                     fixture_time("2020-09-25"), 3),
                     0);

    static const struct {
        int year;
        const char *kunming, *qujing, *honghe, *dali;
        const char *demonstration[4];
        const char *national[2];
        size_t demonstration_total, national_total;
    } expect[] = {
        {2017,
         "530102",
         "530303",
         "532502",
         NULL,
         {"530102", "530303", "532502"},
         {"530102"},
         3,
         1},
        {2018,
         "530103",
         "530302",
         "532501",
         "532901",
         {"530302", "530103", "532501", "532901"},
         {"530302", "530103"},
         7,
         3},
        {2019, "530111", NULL, NULL, "532922", {"530111", "532922"}, {"530111", "532922"}, 9, 5},
        {2020,
         "530113",
         "530304",
         "532503",
         "532923",
         {"530113", "532923", "530304", "532503"},
         {"530113", "532923"},
         13,
         7},
    };
    for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++) {
        engine_result_t *result = NULL;
        char err[256] = "";
        char now[32];
        snprintf(now, sizeof now, "%d-11-30", expect[i].year);
        assert_int_equal(engine_evaluate(input, expect[i].year, fixture_time(now), NULL, &result,
                                         err, sizeof err),
                         0);
        const char *prefectures[] = {"530100", "530300", "532500", "532900"};
        const char *wanted[] = {expect[i].kunming, expect[i].qujing, expect[i].honghe,
                                expect[i].dali};
        for (size_t k = 0; k < 4; k++) {
            const engine_prefecture_result_t *p =
                engine_result_find_prefecture(result, prefectures[k]);
            assert_non_null(p);
            if (!wanted[k]) {
                if (p->recommended_count)
                    fail_msg("%d %s: recommends %s", expect[i].year, prefectures[k],
                             p->recommended[0]->unit->code);
                continue;
            }
            if (p->recommended_count != 1 || strcmp(p->recommended[0]->unit->code, wanted[k]) != 0)
                fail_msg("%d %s: expected %s, got %zu starting %s", expect[i].year, prefectures[k],
                         wanted[k], p->recommended_count,
                         p->recommended_count ? p->recommended[0]->unit->code : "-");
        }
        const engine_province_result_t *pr = engine_result_province(result);
        size_t demonstrations = 0, nationals = 0;
        while (demonstrations < 4 && expect[i].demonstration[demonstrations])
            demonstrations++;
        while (nationals < 2 && expect[i].national[nationals])
            nationals++;
        assert_codes(pr->demonstration, pr->demonstration_count, expect[i].demonstration,
                     demonstrations);
        assert_codes(pr->national, pr->national_count, expect[i].national, nationals);
        const engine_progress_t *last = &pr->progress[pr->progress_count - 1];
        assert_int_equal(last->demonstration_total, expect[i].demonstration_total);
        assert_int_equal(last->national_total, expect[i].national_total);
        /* Background counties never qualify; stars are the only qualified. */
        for (size_t u = 0; u < engine_result_unit_count(result); u++) {
            const engine_unit_result_t *r = engine_result_unit(result, u);
            bool spoiled_star = (expect[i].year == 2017 && (strcmp(r->unit->code, "530302") == 0 ||
                                                            strcmp(r->unit->code, "532501") == 0));
            if (r->qualified != (find_star(r->unit->code) && !spoiled_star))
                fail_msg("%d %s qualified %d", expect[i].year, r->unit->code, r->qualified);
        }
        if (expect[i].year == 2020) {
            assert_int_equal(engine_result_find_unit(result, "532503")->status, ENGINE_LATE);
            assert_true(engine_result_find_prefecture(result, "532900")->source ==
                        ENGINE_REC_CONFIRMED);
            assert_int_equal(pr->targets[0].needed, 37);
            assert_int_equal(pr->targets[0].achieved, 13);
            assert_int_equal(pr->targets[1].needed, 7);
            assert_int_equal(pr->targets[1].achieved, 7);
        }
        if (expect[i].year == 2017)
            assert_true(engine_result_find_unit(result, "532501")->flags & ENGINE_FLAG_DISCREPANCY);
        engine_result_destroy(&result);
    }
    engine_input_destroy(&input);
    programme_destroy(&programme);
}

int main(void)
{
#define WORLD(test) cmocka_unit_test_setup_teardown(test, world_setup, world_teardown)
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(criteria_pass_exactly_at_their_thresholds),
        WORLD(lateness_is_judged_by_submission_not_receipt),
        WORLD(the_latest_version_counts),
        WORLD(a_reinitialised_county_is_heard),
        WORLD(missing_values_fail_their_items),
        WORLD(inspections_replace_values_and_catch_discrepancies),
        WORLD(province_inspection_overrides_and_removes_a_recommended_unit),
        WORLD(a_returned_version_is_flagged_until_corrected),
        WORLD(ranking_breaks_ties_by_margin_then_submission_then_code),
        WORLD(a_prefectures_own_list_is_used_within_its_quota),
        WORLD(progress_accumulates_and_designated_units_leave_the_ranking),
        WORLD(aggregates_sum_numerators_and_denominators),
        WORLD(every_scope_gives_a_unit_the_same_answer),
        cmocka_unit_test(the_qinhuangdao_programme_evaluates_sites),
        cmocka_unit_test(yunnan_recommendations_match_a_hand_computed_plan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
