/* What a node admits from a peer: for every rule of admission.h one item
 * that passes and one that is refused, with the reason and its code. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/error.h"
#include "base/msg.h"
#include "base/stime.h"
#include "domain/admission.h"
#include "domain/programme.h"

/* The call must return `want`; on a refusal, why must contain `text`. */
static void expect(int got, int want, const char *why, const char *text, int line)
{
    if (got != want)
        fail_msg("line %d: returned %d, expected %d; why: \"%s\"", line, got, want, why);
    if (text && !strstr(why, text))
        fail_msg("line %d: expected \"%s\" in \"%s\"", line, text, why);
}
#define EXPECT(call, want, text)                                                                   \
    do {                                                                                           \
        why[0] = '\0';                                                                             \
        int got_ = (call);                                                                         \
        expect(got_, (want), why, (text), __LINE__);                                               \
    } while (0)
#define ADMITTED(call) EXPECT(call, 0, NULL)
#define MALFORMED(call, text) EXPECT(call, SF_EINVAL, text)
#define NOT_YOURS(call, text) EXPECT(call, SF_EDENIED, text)

typedef struct {
    programme_t *yunnan;
    programme_t *qinhuangdao;
    programme_t *roomy; /* Yunnan with a quota of 3 for 530100 in 2018 */
    int64_t now;
} fixture_t;

/* text with the first `find` replaced: a programme variant (malloc'd). */
static char *replaced(const char *text, const char *find, const char *with)
{
    const char *at = strstr(text, find);
    assert_non_null(at);
    size_t head = (size_t)(at - text), flen = strlen(find), wlen = strlen(with);
    char *out = malloc(strlen(text) - flen + wlen + 1);
    assert_non_null(out);
    memcpy(out, text, head);
    memcpy(out + head, with, wlen);
    strcpy(out + head + wlen, at + flen);
    return out;
}

static programme_t *load_text(const char *text)
{
    sf_error_t error;
    programme_t *programme = programme_load_json(text, strlen(text), "variant", &error);
    if (!programme)
        fail_msg("%s", error.text);
    return programme;
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    *state = f; /* teardown frees what setup made, even when it fails */
    if (!f || !(f->yunnan = programme_load_default(NULL)))
        return -1;
    const char *root = getenv("SHIFAN_SOURCE_DIR");
    char path[4096];
    sf_error_t error;
    snprintf(path, sizeof path, "%s/programmes/qinhuangdao-2018.json", root ? root : ".");
    if (!(f->qinhuangdao = programme_load_file(path, &error))) {
        fprintf(stderr, "%s\n", error.text);
        return -1;
    }
    char *roomy = replaced(programme_json(f->yunnan), "\"530100\":{\"2017\":1,\"2018\":1",
                           "\"530100\":{\"2017\":1,\"2018\":3");
    f->roomy = load_text(roomy);
    free(roomy);
    if (stime_parse("2018-08-01T09:00:00+08:00", &f->now))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    if (!f)
        return 0;
    programme_destroy(&f->yunnan);
    programme_destroy(&f->qinhuangdao);
    programme_destroy(&f->roomy);
    free(f);
    return 0;
}

/* ---- a well-formed report, to spoil one field at a time ---- */

typedef struct {
    Shifan__Report msg;
    Shifan__Value values[3];
    Shifan__Value *value_ptrs[3];
    Shifan__Ratio ratio;
    Shifan__Comment comment;
    Shifan__Comment *comment_ptrs[1];
    char report_id[128], unit[32], origin[32], standard_id[80], comment_text[64];
} report_msg_t;

/* Unit 530102's report for 2018 as its county submits it: 1.1 (bool),
 * 1.2c (count), 2.1 (ratio, with a comment). */
static void report_msg(report_msg_t *r, const fixture_t *f, const char *unit, const char *origin)
{
    memset(r, 0, sizeof *r);
    shifan__report__init(&r->msg);
    snprintf(r->report_id, sizeof r->report_id, "%s-2018-v1-0000000a", unit);
    snprintf(r->unit, sizeof r->unit, "%s", unit);
    snprintf(r->origin, sizeof r->origin, "%s", origin);
    snprintf(r->standard_id, sizeof r->standard_id, "%s", programme_standard_id(f->yunnan));
    snprintf(r->comment_text, sizeof r->comment_text, "含外来务工人员");
    const char *criteria[3] = {"1.1", "1.2c", "2.1"};
    for (int v = 0; v < 3; v++) {
        shifan__value__init(&r->values[v]);
        r->values[v].criterion = (char *)criteria[v];
        r->value_ptrs[v] = &r->values[v];
    }
    r->values[0].value_case = SHIFAN__VALUE__VALUE_FLAG;
    r->values[0].flag = 1;
    r->values[1].value_case = SHIFAN__VALUE__VALUE_COUNT;
    r->values[1].count = 3;
    shifan__ratio__init(&r->ratio);
    r->ratio.num = 912;
    r->ratio.den = 1000;
    r->values[2].value_case = SHIFAN__VALUE__VALUE_RATIO;
    r->values[2].ratio = &r->ratio;
    shifan__comment__init(&r->comment);
    r->comment.criterion = "2.1";
    r->comment.text = r->comment_text;
    r->comment_ptrs[0] = &r->comment;
    r->msg.report_id = r->report_id;
    r->msg.unit = r->unit;
    r->msg.year = 2018;
    r->msg.standard_id = r->standard_id;
    r->msg.version = 1;
    r->msg.submitted_at = f->now - 3600;
    r->msg.origin = r->origin;
    r->msg.n_values = 3;
    r->msg.values = r->value_ptrs;
    r->msg.n_comments = 1;
    r->msg.comments = r->comment_ptrs;
}

static admission_t at_hub(const fixture_t *f)
{
    return (admission_t){
        .programme = f->yunnan, .receiver = "530100", .peer = "530102", .now = f->now};
}

static admission_t at_province(const fixture_t *f)
{
    return (admission_t){
        .programme = f->yunnan, .receiver = "530000", .peer = "530100", .now = f->now};
}

static admission_t at_county(const fixture_t *f)
{
    return (admission_t){.programme = f->yunnan, .receiver = "530102", .peer = "", .now = f->now};
}

/* ---- context ---- */

static void the_receiver_and_the_sender_must_fit_the_hierarchy(void **state)
{
    fixture_t *f = *state;
    char why[512];
    report_msg_t r;
    report_msg(&r, f, "530102", "530102");
    admission_t at = at_hub(f);
    ADMITTED(admit_report(&at, &r.msg, why, sizeof why));
    at.receiver = "999999";
    MALFORMED(admit_report(&at, &r.msg, why, sizeof why), "this node (999999) is not in programme");
    at = at_hub(f);
    at.peer = "530302"; /* a county of another prefecture */
    NOT_YOURS(admit_report(&at, &r.msg, why, sizeof why),
              "from 530302: not a unit directly under this node (530100)");
    at.peer = "53\x01x";
    NOT_YOURS(admit_report(&at, &r.msg, why, sizeof why), "from 53?x: not a unit directly under");
    at = at_province(f);
    at.peer = "530102"; /* a county, not a child of the province */
    NOT_YOURS(admit_report(&at, &r.msg, why, sizeof why), "not a unit directly under");
    MALFORMED(admit_report(NULL, &r.msg, why, sizeof why), "no programme or receiver");
}

static void each_item_travels_only_its_own_way(void **state)
{
    fixture_t *f = *state;
    char why[512];
    report_msg_t r;
    report_msg(&r, f, "530102", "530102");
    admission_t county = at_county(f),
                hub_from_parent = {
                    .programme = f->yunnan, .receiver = "530100", .peer = "", .now = f->now};
    MALFORMED(admit_report(&county, &r.msg, why, sizeof why),
              "report 530102-2018-v1-0000000a from the parent to the county 530102: reports "
              "travel up only");
    MALFORMED(admit_report(&hub_from_parent, &r.msg, why, sizeof why), "reports travel up only");
    admission_t hub = at_hub(f);
    MALFORMED(admit_inspection(&hub, &r.msg, why, sizeof why),
              "inspections travel only from a prefecture hub to the province");
    Shifan__Recommendation rec = SHIFAN__RECOMMENDATION__INIT;
    MALFORMED(admit_recommendation(&hub, &rec, why, sizeof why),
              "recommendations travel only from a prefecture hub to the province");
    Shifan__Return ret = SHIFAN__RETURN__INIT;
    MALFORMED(admit_return(&hub, &ret, why, sizeof why), "returns travel from a prefecture hub");
    MALFORMED(admit_return(&hub_from_parent, &ret, why, sizeof why), "returns travel");
    Shifan__Programme programme = SHIFAN__PROGRAMME__INIT;
    admission_t province = at_province(f);
    MALFORMED(admit_programme(&province, &programme, NULL, why, sizeof why),
              "programmes travel down only");
    MALFORMED(admit_programme(&hub, &programme, NULL, why, sizeof why), "programmes travel down");
    Shifan__EvaluationResult result = SHIFAN__EVALUATION_RESULT__INIT;
    MALFORMED(admit_evaluation(&province, &result, why, sizeof why),
              "evaluation results travel down only");
}

/* ---- reports ---- */

static void a_report_is_admitted_at_the_hub_and_the_province(void **state)
{
    fixture_t *f = *state;
    char why[512];
    report_msg_t r;
    report_msg(&r, f, "530102", "530102");
    admission_t hub = at_hub(f), province = at_province(f);
    ADMITTED(admit_report(&hub, &r.msg, why, sizeof why));
    ADMITTED(admit_report(&province, &r.msg, why, sizeof why));
    /* A former code is a unit (禄丰县 532331, now 禄丰市 532302 of 楚雄州 532300). */
    report_msg(&r, f, "532331", "532302");
    admission_t chuxiong = {
        .programme = f->yunnan, .receiver = "532300", .peer = "532302", .now = f->now};
    ADMITTED(admit_report(&chuxiong, &r.msg, why, sizeof why));
    /* A report of no values is allowed: every criterion is missing and fails. */
    r.msg.n_values = r.msg.n_comments = 0;
    ADMITTED(admit_report(&chuxiong, &r.msg, why, sizeof why));
}

static void a_report_must_be_well_formed(void **state)
{
    fixture_t *f = *state;
    char why[512];
    report_msg_t r;
    admission_t hub = at_hub(f);
    report_msg(&r, f, "530102", "530102");
    r.ratio.num = 1001;
    MALFORMED(admit_report(&hub, &r.msg, why, sizeof why),
              "report 530102-2018-v1-0000000a: values[2]: criterion 2.1: numerator exceeds "
              "denominator");
    report_msg(&r, f, "530102", "530102");
    r.ratio.num = 0;
    r.ratio.den = 0; /* allowed: a ratio with nothing to count, which fails */
    ADMITTED(admit_report(&hub, &r.msg, why, sizeof why));
    r.values[1].criterion = "1.1";
    MALFORMED(admit_report(&hub, &r.msg, why, sizeof why), "criterion 1.1: given twice");
    report_msg(&r, f, "530102", "530102");
    r.values[1].value_case = SHIFAN__VALUE__VALUE__NOT_SET;
    MALFORMED(admit_report(&hub, &r.msg, why, sizeof why), "criterion 1.2c: no value set");
    report_msg(&r, f, "530102", "530102");
    r.values[1].count = (uint64_t)INT64_MAX + 1;
    MALFORMED(admit_report(&hub, &r.msg, why, sizeof why), "count is larger than");
    report_msg(&r, f, "530102", "530102");
    r.msg.n_values = REPORT_VALUES_MAX + 1;
    MALFORMED(admit_report(&hub, &r.msg, why, sizeof why), "1025 values and 1 comments: too many");
    report_msg(&r, f, "530102", "530102");
    strcpy(r.comment_text, "\xD6\xD0"); /* GBK bytes */
    MALFORMED(admit_report(&hub, &r.msg, why, sizeof why),
              "comments[0]: criterion 2.1: comment is not UTF-8");
    report_msg(&r, f, "530102", "530102");
    r.comment.criterion = "1.2a"; /* no value for it */
    MALFORMED(admit_report(&hub, &r.msg, why, sizeof why),
              "comments[0]: a comment for a criterion without a value");
    report_msg(&r, f, "530102", "530102");
    char long_comment[REPORT_COMMENT_MAX + 2];
    memset(long_comment, 'x', sizeof long_comment - 1);
    long_comment[sizeof long_comment - 1] = '\0';
    r.comment.text = long_comment;
    MALFORMED(admit_report(&hub, &r.msg, why, sizeof why), "at most 4096 bytes");
    long_comment[REPORT_COMMENT_MAX] = '\0';
    ADMITTED(admit_report(&hub, &r.msg, why, sizeof why));
}

/* The one pass (report_proto_fits) takes the usual report; anything else
 * goes the long way and is judged as before. */
static void a_report_in_any_order_is_judged_the_same(void **state)
{
    fixture_t *f = *state;
    char why[512];
    report_msg_t r;
    admission_t hub = at_hub(f);
    report_msg(&r, f, "530102", "530102");
    assert_true(report_proto_fits(&r.msg, f->yunnan));
    ADMITTED(admit_report(&hub, &r.msg, why, sizeof why));
    /* Out of the programme's order: the long way sorts them. */
    Shifan__Value *first = r.value_ptrs[0];
    r.value_ptrs[0] = r.value_ptrs[2];
    r.value_ptrs[2] = first;
    assert_false(report_proto_fits(&r.msg, f->yunnan));
    ADMITTED(admit_report(&hub, &r.msg, why, sizeof why));
    r.values[1].criterion = "2.1";
    MALFORMED(admit_report(&hub, &r.msg, why, sizeof why), "criterion 2.1: given twice");
    report_msg(&r, f, "530102", "530102");
    r.values[1].value_case = SHIFAN__VALUE__VALUE_FLAG; /* 1.2c is a count */
    assert_false(report_proto_fits(&r.msg, f->yunnan));
    MALFORMED(admit_report(&hub, &r.msg, why, sizeof why),
              "values[1]: criterion 1.2c: is a count criterion, got a bool value");
    report_msg(&r, f, "530102", "530102");
    r.msg.n_comments = 1;
    Shifan__Comment *twice[2] = {&r.comment, &r.comment};
    r.msg.comments = twice;
    r.msg.n_comments = 2;
    MALFORMED(admit_report(&hub, &r.msg, why, sizeof why), "comments[1]");
    /* Comments of ASCII and of characters after eight ASCII bytes. */
    report_msg(&r, f, "530102", "530102");
    strcpy(r.comment_text, "abcdefgh含外来务工人员 and more ASCII");
    ADMITTED(admit_report(&hub, &r.msg, why, sizeof why));
    strcpy(r.comment_text, "abcdefghijklmnop\xD6\xD0");
    MALFORMED(admit_report(&hub, &r.msg, why, sizeof why),
              "comments[0]: criterion 2.1: comment is not UTF-8");
}

static void a_report_id_is_a_safe_lmdb_key(void **state)
{
    fixture_t *f = *state;
    char why[512];
    report_msg_t r;
    admission_t hub = at_hub(f);
    report_msg(&r, f, "530102", "530102");
    strcpy(r.report_id, "Second_impl.v1-9");
    ADMITTED(admit_report(&hub, &r.msg, why, sizeof why));
    strcpy(r.report_id, "");
    MALFORMED(admit_report(&hub, &r.msg, why, sizeof why),
              "report_id: not 1 to 63 bytes of printable ASCII");
    strcpy(r.report_id, "530102/2018");
    MALFORMED(admit_report(&hub, &r.msg, why, sizeof why),
              "report_id \"530102/2018\": not 1 to 63");
    memset(r.report_id, 'a', 63);
    r.report_id[63] = '\0';
    ADMITTED(admit_report(&hub, &r.msg, why, sizeof why));
    memset(r.report_id, 'a', 64);
    r.report_id[64] = '\0';
    MALFORMED(admit_report(&hub, &r.msg, why, sizeof why),
              "report_id: not 1 to 63 bytes of printable ASCII");
}

static void a_report_must_fit_the_programme(void **state)
{
    fixture_t *f = *state;
    char why[512];
    report_msg_t r;
    admission_t province = at_province(f);
    report_msg(&r, f, "530102", "530102");
    r.values[1].criterion = "9.9";
    MALFORMED(admit_report(&province, &r.msg, why, sizeof why),
              "report 530102-2018-v1-0000000a: values[2]: criterion 9.9: unknown criterion");
    report_msg(&r, f, "530102", "530102");
    r.values[0].value_case = SHIFAN__VALUE__VALUE_COUNT;
    MALFORMED(admit_report(&province, &r.msg, why, sizeof why),
              "criterion 1.1: is a bool criterion, got a count value");
    report_msg(&r, f, "530102", "530102");
    r.msg.year = 2016;
    MALFORMED(admit_report(&province, &r.msg, why, sizeof why),
              "year 2016 is outside the programme's years 2017..2020");
    r.msg.year = 2017;
    ADMITTED(admit_report(&province, &r.msg, why, sizeof why));
    r.msg.year = 2020;
    ADMITTED(admit_report(&province, &r.msg, why, sizeof why));
    r.msg.year = 2021;
    MALFORMED(admit_report(&province, &r.msg, why, sizeof why), "year 2021 is outside");
    report_msg(&r, f, "530102", "530102");
    strcpy(r.standard_id, "qinhuangdao-2018");
    MALFORMED(admit_report(&province, &r.msg, why, sizeof why),
              "standard_id: \"qinhuangdao-2018\" is not the programme's standard "
              "\"yunnan-2017-trial\"");
    strcpy(r.standard_id, "");
    MALFORMED(admit_report(&province, &r.msg, why, sizeof why),
              "standard_id is empty; the programme's standard is \"yunnan-2017-trial\"");
}

static void a_report_of_a_replaced_standard_is_judged_by_the_current_one(void **state)
{
    fixture_t *f = *state;
    char why[512];
    char *text = replaced(programme_json(f->yunnan), "\"standard_id\":\"yunnan-2017-trial\"",
                          "\"standard_id\":\"yunnan-2017-rev2\"");
    programme_t *rev2 = load_text(text);
    free(text);
    report_msg_t r;
    report_msg(&r, f, "530102", "530102"); /* names yunnan-2017-trial */
    admission_t hub = {.programme = rev2, .receiver = "530100", .peer = "530102", .now = f->now};
    MALFORMED(admit_report(&hub, &r.msg, why, sizeof why),
              "standard_id: \"yunnan-2017-trial\" is not the programme's standard "
              "\"yunnan-2017-rev2\"");
    const char *const replaced_ones[] = {"yunnan-2017-trial", NULL};
    hub.earlier_standards = replaced_ones;
    ADMITTED(admit_report(&hub, &r.msg, why, sizeof why));
    strcpy(r.standard_id, "qinhuangdao-2018");
    MALFORMED(admit_report(&hub, &r.msg, why, sizeof why),
              "is not the programme's standard \"yunnan-2017-rev2\" nor one it replaced");
    strcpy(r.standard_id, "yunnan-2017-trial");
    r.values[1].criterion = "9.9"; /* its values must fit the current standard */
    MALFORMED(admit_report(&hub, &r.msg, why, sizeof why),
              "criterion 9.9: unknown criterion (not in standard yunnan-2017-rev2)");
    programme_destroy(&rev2);
}

static void a_report_is_for_a_unit_of_the_sender(void **state)
{
    fixture_t *f = *state;
    char why[512];
    report_msg_t r;
    admission_t hub = at_hub(f), province = at_province(f);
    report_msg(&r, f, "530103", "530103");
    NOT_YOURS(admit_report(&hub, &r.msg, why, sizeof why),
              "unit 530103 is not 530102 or under it: its key may not report for it");
    report_msg(&r, f, "530302", "530302");
    NOT_YOURS(admit_report(&province, &r.msg, why, sizeof why),
              "unit 530302 is not 530100 or under it");
    report_msg(&r, f, "530199", "530102");
    MALFORMED(admit_report(&province, &r.msg, why, sizeof why),
              "unit 530199 is not in programme yunnan-2017");
    report_msg(&r, f, "530100", "530100");
    MALFORMED(admit_report(&province, &r.msg, why, sizeof why),
              "unit 530100 (昆明市) is a prefecture, not a unit of evaluation (county)");
}

static void a_report_comes_from_the_county_of_its_unit(void **state)
{
    fixture_t *f = *state;
    char why[512];
    report_msg_t r;
    admission_t province = at_province(f);
    report_msg(&r, f, "530102", "530103");
    MALFORMED(admit_report(&province, &r.msg, why, sizeof why),
              "origin 530103: not the county of unit 530102 (530102)");
    strcpy(r.origin, "530100");
    MALFORMED(admit_report(&province, &r.msg, why, sizeof why), "origin 530100: not the county");
    strcpy(r.origin, "");
    MALFORMED(admit_report(&province, &r.msg, why, sizeof why), "origin is empty");
    /* Sites: the county that owns the site submits for it. */
    report_msg(&r, f, "130302001", "130302");
    strcpy(r.standard_id, programme_standard_id(f->qinhuangdao));
    r.msg.n_values = r.msg.n_comments = 0;
    admission_t city = {
        .programme = f->qinhuangdao, .receiver = "130300", .peer = "130302", .now = f->now};
    ADMITTED(admit_report(&city, &r.msg, why, sizeof why));
    strcpy(r.origin, "130303");
    MALFORMED(admit_report(&city, &r.msg, why, sizeof why),
              "origin 130303: not the county of unit 130302001 (130302)");
    report_msg(&r, f, "130302", "130302");
    strcpy(r.standard_id, programme_standard_id(f->qinhuangdao));
    r.msg.n_values = r.msg.n_comments = 0;
    MALFORMED(admit_report(&city, &r.msg, why, sizeof why),
              "is a county, not a unit of evaluation (site)");
}

static void a_report_has_a_version_and_a_plausible_time(void **state)
{
    fixture_t *f = *state;
    char why[512];
    report_msg_t r;
    admission_t hub = at_hub(f);
    report_msg(&r, f, "530102", "530102");
    r.msg.version = 0;
    MALFORMED(admit_report(&hub, &r.msg, why, sizeof why), "version 0: versions count from 1");
    r.msg.version = 7;
    ADMITTED(admit_report(&hub, &r.msg, why, sizeof why));
    r.msg.submitted_at = 1;
    MALFORMED(admit_report(&hub, &r.msg, why, sizeof why),
              "submitted_at 1: before 2000-01-01T00:00:00Z");
    r.msg.submitted_at = ADMIT_EARLIEST;
    ADMITTED(admit_report(&hub, &r.msg, why, sizeof why));
    r.msg.submitted_at = f->now + ADMIT_AHEAD_MAX;
    ADMITTED(admit_report(&hub, &r.msg, why, sizeof why));
    r.msg.submitted_at = f->now + ADMIT_AHEAD_MAX + 1;
    MALFORMED(admit_report(&hub, &r.msg, why, sizeof why),
              "more than a day ahead of this node's clock (2018-08-01T09:00:00+08:00)");
    r.msg.submitted_at = INT64_MAX;
    MALFORMED(admit_report(&hub, &r.msg, why, sizeof why),
              "submitted_at 9223372036854775807: more than a day ahead");
}

/* ---- inspections ---- */

static void an_inspection_comes_from_the_hub_that_made_it(void **state)
{
    fixture_t *f = *state;
    char why[512];
    report_msg_t r;
    admission_t province = at_province(f);
    report_msg(&r, f, "530102", "530100");
    strcpy(r.report_id, "530102-2018-i-530100-0a1b2c3d");
    ADMITTED(admit_inspection(&province, &r.msg, why, sizeof why));
    strcpy(r.origin, "530102");
    MALFORMED(admit_inspection(&province, &r.msg, why, sizeof why),
              "inspection 530102-2018-i-530100-0a1b2c3d: origin 530102: not the inspecting hub "
              "530100");
    report_msg(&r, f, "530102", "530100");
    r.msg.n_values = r.msg.n_comments = 0;
    MALFORMED(admit_inspection(&province, &r.msg, why, sizeof why),
              "no values: an inspection gives at least one");
    report_msg(&r, f, "530302", "530100");
    NOT_YOURS(admit_inspection(&province, &r.msg, why, sizeof why),
              "unit 530302 is not 530100 or under it: its key may not inspect for it");
    report_msg(&r, f, "530102", "530100");
    r.values[1].criterion = "9.9";
    MALFORMED(admit_inspection(&province, &r.msg, why, sizeof why),
              "values[2]: criterion 9.9: unknown criterion");
}

/* ---- returns ---- */

typedef struct {
    Shifan__Return msg;
    char report_id[80], unit[32], by[32];
    char *reason;
} return_msg_t;

static void return_msg(return_msg_t *r, const fixture_t *f, const char *unit, const char *by)
{
    memset(r, 0, sizeof *r);
    shifan__return__init(&r->msg);
    snprintf(r->report_id, sizeof r->report_id, "%s-2018-v1-0000000a", unit);
    snprintf(r->unit, sizeof r->unit, "%s", unit);
    snprintf(r->by, sizeof r->by, "%s", by);
    r->msg.report_id = r->report_id;
    r->msg.unit = r->unit;
    r->msg.year = 2018;
    r->msg.reason = "2.1 分母应为流动人口目标人群总数";
    r->msg.returned_at = f->now;
    r->msg.by = r->by;
}

static void a_return_goes_to_the_county_of_its_unit(void **state)
{
    fixture_t *f = *state;
    char why[512];
    return_msg_t r;
    admission_t county = at_county(f), province = at_province(f);
    return_msg(&r, f, "530102", "530100");
    ADMITTED(admit_return(&county, &r.msg, why, sizeof why));
    ADMITTED(admit_return(&province, &r.msg, why, sizeof why));
    return_msg(&r, f, "530103", "530100");
    NOT_YOURS(admit_return(&county, &r.msg, why, sizeof why),
              "return of 530103-2018-v1-0000000a: unit 530103 is not 530102 or under it");
    return_msg(&r, f, "530302", "530100");
    NOT_YOURS(admit_return(&province, &r.msg, why, sizeof why),
              "unit 530302 is not 530100 or under it");
    return_msg(&r, f, "530199", "530100");
    MALFORMED(admit_return(&province, &r.msg, why, sizeof why),
              "unit 530199 is not in programme yunnan-2017");
    return_msg(&r, f, "530100", "530100");
    MALFORMED(admit_return(&province, &r.msg, why, sizeof why), "not a unit of evaluation");
}

static void a_return_names_the_hub_that_returns(void **state)
{
    fixture_t *f = *state;
    char why[512];
    return_msg_t r;
    admission_t county = at_county(f), province = at_province(f);
    return_msg(&r, f, "530102", "530300");
    MALFORMED(admit_return(&province, &r.msg, why, sizeof why),
              "by 530300: not the returning hub 530100");
    MALFORMED(admit_return(&county, &r.msg, why, sizeof why),
              "by 530300: not the returning hub 530100");
    r.msg.by = NULL;
    MALFORMED(admit_return(&county, &r.msg, why, sizeof why), "by (none): not the returning hub");
}

static void a_return_is_well_formed(void **state)
{
    fixture_t *f = *state;
    char why[512];
    return_msg_t r;
    admission_t province = at_province(f);
    return_msg(&r, f, "530102", "530100");
    strcpy(r.report_id, "");
    MALFORMED(admit_return(&province, &r.msg, why, sizeof why),
              "return: report_id \"\": not 1 to 63 characters");
    memset(r.report_id, '9', 70);
    r.report_id[70] = '\0';
    MALFORMED(admit_return(&province, &r.msg, why, sizeof why), "...\": not 1 to 63");
    return_msg(&r, f, "530102", "530100");
    r.msg.year = 2016;
    MALFORMED(admit_return(&province, &r.msg, why, sizeof why), "year 2016 is outside");
    return_msg(&r, f, "530102", "530100");
    r.msg.reason = "";
    MALFORMED(admit_return(&province, &r.msg, why, sizeof why),
              "reason is empty: the county must be told why");
    r.msg.reason = "\xB7\xD6\xC4\xB8"; /* 分母 in GBK */
    MALFORMED(admit_return(&province, &r.msg, why, sizeof why),
              "reason is not UTF-8 text of at most 4096 bytes");
    char reason[ADMIT_REASON_MAX + 2];
    memset(reason, 'x', sizeof reason - 1);
    reason[sizeof reason - 1] = '\0';
    r.msg.reason = reason;
    MALFORMED(admit_return(&province, &r.msg, why, sizeof why), "at most 4096 bytes");
    reason[ADMIT_REASON_MAX] = '\0';
    ADMITTED(admit_return(&province, &r.msg, why, sizeof why));
    r.msg.returned_at = 0;
    MALFORMED(admit_return(&province, &r.msg, why, sizeof why), "returned_at 0: before 2000");
    r.msg.returned_at = f->now + 2 * 86400;
    MALFORMED(admit_return(&province, &r.msg, why, sizeof why), "returned_at");
}

/* ---- recommendations ---- */

typedef struct {
    Shifan__Recommendation msg;
    char holder[32];
    char *units[4];
} rec_msg_t;

static void rec_msg(rec_msg_t *r, const fixture_t *f, const char *holder, size_t count, ...)
{
    memset(r, 0, sizeof *r);
    shifan__recommendation__init(&r->msg);
    snprintf(r->holder, sizeof r->holder, "%s", holder);
    va_list args;
    va_start(args, count);
    for (size_t i = 0; i < count; i++)
        r->units[i] = va_arg(args, char *);
    va_end(args);
    r->msg.prefecture = r->holder;
    r->msg.year = 2018;
    r->msg.units = r->units;
    r->msg.n_units = count;
    r->msg.confirmed = 1;
    r->msg.made_at = f->now;
    r->msg.revision = 1;
}

static void a_recommendation_is_for_a_holder_under_the_sender(void **state)
{
    fixture_t *f = *state;
    char why[512];
    rec_msg_t r;
    admission_t province = at_province(f);
    rec_msg(&r, f, "530100", 1, "530102");
    ADMITTED(admit_recommendation(&province, &r.msg, why, sizeof why));
    rec_msg(&r, f, "530100", 0); /* nobody qualified yet */
    ADMITTED(admit_recommendation(&province, &r.msg, why, sizeof why));
    rec_msg(&r, f, "530300", 1, "530302");
    NOT_YOURS(admit_recommendation(&province, &r.msg, why, sizeof why),
              "recommendation of 530300 for 2018: 530300 is not 530100 or under it");
    rec_msg(&r, f, "539900", 0);
    MALFORMED(admit_recommendation(&province, &r.msg, why, sizeof why),
              "prefecture 539900 is not in programme yunnan-2017");
    rec_msg(&r, f, "530100", 0);
    r.msg.year = 2021;
    MALFORMED(admit_recommendation(&province, &r.msg, why, sizeof why), "year 2021 is outside");
    /* Qinhuangdao: each county holds the quota of its sites, the city none. */
    admission_t hebei = {
        .programme = f->qinhuangdao, .receiver = "130000", .peer = "130300", .now = f->now};
    rec_msg(&r, f, "130302", 1, "130302001");
    ADMITTED(admit_recommendation(&hebei, &r.msg, why, sizeof why));
    rec_msg(&r, f, "130300", 0);
    MALFORMED(admit_recommendation(&hebei, &r.msg, why, sizeof why),
              "130300 (秦皇岛市) recommends no unit of evaluation in programme qinhuangdao-2018");
}

static void a_recommendation_lists_distinct_units_of_its_holder_within_quota(void **state)
{
    fixture_t *f = *state;
    char why[512];
    rec_msg_t r;
    admission_t province = at_province(f);
    rec_msg(&r, f, "530100", 2, "530102", "530103");
    MALFORMED(admit_recommendation(&province, &r.msg, why, sizeof why),
              "2 units listed, beyond the quota of 1");
    rec_msg(&r, f, "530100", 1, "530102");
    r.msg.year = 2019; /* 530100: 1 in 2019 too */
    ADMITTED(admit_recommendation(&province, &r.msg, why, sizeof why));
    admission_t zhaotong = {
        .programme = f->yunnan, .receiver = "530000", .peer = "530600", .now = f->now};
    rec_msg(&r, f, "530600", 1, "530602"); /* 昭通: no quota in 2018 */
    MALFORMED(admit_recommendation(&zhaotong, &r.msg, why, sizeof why),
              "1 units listed, beyond the quota of 0");
    admission_t roomy = {
        .programme = f->roomy, .receiver = "530000", .peer = "530100", .now = f->now};
    rec_msg(&r, f, "530100", 3, "530102", "530103", "530111");
    ADMITTED(admit_recommendation(&roomy, &r.msg, why, sizeof why));
    rec_msg(&r, f, "530100", 2, "530102", "530302");
    NOT_YOURS(admit_recommendation(&roomy, &r.msg, why, sizeof why),
              "units[1] 530302 is not ranked under 530100");
    rec_msg(&r, f, "530100", 3, "530102", "530103", "530102");
    MALFORMED(admit_recommendation(&roomy, &r.msg, why, sizeof why),
              "units[2] 530102 is listed twice (units[0] 530102)");
    rec_msg(&r, f, "530100", 2, "530102", "530199");
    MALFORMED(admit_recommendation(&roomy, &r.msg, why, sizeof why),
              "units[1] 530199 is not in programme");
    rec_msg(&r, f, "530100", 2, "530102", "530100");
    MALFORMED(admit_recommendation(&roomy, &r.msg, why, sizeof why),
              "units[1] 530100 (昆明市) is a prefecture, not a unit of evaluation");
    rec_msg(&r, f, "530100", 2, "530102", NULL);
    MALFORMED(admit_recommendation(&roomy, &r.msg, why, sizeof why), "units[1] (none)");
}

static void a_recommendation_has_a_revision_and_a_plausible_time(void **state)
{
    fixture_t *f = *state;
    char why[512];
    rec_msg_t r;
    admission_t province = at_province(f);
    rec_msg(&r, f, "530100", 1, "530102");
    r.msg.revision = 0;
    MALFORMED(admit_recommendation(&province, &r.msg, why, sizeof why),
              "revision 0: revisions count from 1");
    r.msg.revision = 12;
    ADMITTED(admit_recommendation(&province, &r.msg, why, sizeof why));
    r.msg.made_at = f->now + 365 * 86400;
    MALFORMED(admit_recommendation(&province, &r.msg, why, sizeof why),
              "made_at 1564621200: more than a day ahead");
    r.msg.made_at = 0;
    MALFORMED(admit_recommendation(&province, &r.msg, why, sizeof why), "made_at 0: before");
}

/* ---- programmes ---- */

static void programme_msg(Shifan__Programme *p, const fixture_t *f, const char *document)
{
    shifan__programme__init(p);
    p->programme_id = "yunnan-2017";
    p->revision = 1;
    p->document.data = (uint8_t *)document;
    p->document.len = strlen(document);
    p->published_at = f->now - 86400;
}

static void a_programme_is_a_valid_document_of_the_same_hierarchy(void **state)
{
    fixture_t *f = *state;
    char why[512];
    Shifan__Programme p;
    admission_t county = at_county(f),
                hub = {.programme = f->yunnan, .receiver = "530100", .peer = "", .now = f->now};
    char *second = replaced(programme_json(f->yunnan), "\"revision\":1", "\"revision\":2");
    programme_msg(&p, f, second);
    p.revision = 2;
    programme_t *loaded = NULL;
    ADMITTED(admit_programme(&county, &p, &loaded, why, sizeof why));
    assert_non_null(loaded);
    assert_int_equal(programme_revision(loaded), 2);
    programme_destroy(&loaded);
    ADMITTED(admit_programme(&hub, &p, NULL, why, sizeof why));
    p.revision = 3;
    MALFORMED(admit_programme(&county, &p, &loaded, why, sizeof why),
              "programme yunnan-2017 revision 3: the document's revision is 2");
    assert_null(loaded);
    free(second);
    /* A resend of the revision in use is admitted: storing keeps the newer. */
    programme_msg(&p, f, programme_json(f->yunnan));
    ADMITTED(admit_programme(&county, &p, NULL, why, sizeof why));
    p.programme_id = "yunnan-2018";
    MALFORMED(admit_programme(&county, &p, NULL, why, sizeof why),
              "the document's id is \"yunnan-2017\"");
    p.programme_id = "";
    MALFORMED(admit_programme(&county, &p, NULL, why, sizeof why), "programme_id is empty");
    programme_msg(&p, f, programme_json(f->yunnan));
    p.revision = 0;
    MALFORMED(admit_programme(&county, &p, NULL, why, sizeof why),
              "revision 0: revisions count from 1");
    programme_msg(&p, f, programme_json(f->yunnan));
    p.published_at = 0;
    MALFORMED(admit_programme(&county, &p, NULL, why, sizeof why), "published_at 0: before");
    programme_msg(&p, f, "{\"format\":1}");
    MALFORMED(admit_programme(&county, &p, NULL, why, sizeof why),
              "programme yunnan-2017 revision 1: ");
    programme_msg(&p, f, "\x01garbage");
    MALFORMED(admit_programme(&county, &p, NULL, why, sizeof why), "programme yunnan-2017");
    programme_msg(&p, f, "");
    MALFORMED(admit_programme(&county, &p, NULL, why, sizeof why), "document is empty");
}

static void a_programme_keeps_the_receiver_in_its_place(void **state)
{
    fixture_t *f = *state;
    char why[512];
    Shifan__Programme p;
    admission_t county = at_county(f);
    programme_msg(&p, f, programme_json(f->qinhuangdao));
    p.programme_id = "qinhuangdao-2018";
    MALFORMED(admit_programme(&county, &p, NULL, why, sizeof why),
              "its root unit is 130000, this node's programme's is 530000");
    const char *wuhua = "{\"code\":\"530102\",\"level\":\"county\",\"name\":\"五华区\",\"parent\":"
                        "\"530100\"}";
    char *gone = replaced(programme_json(f->yunnan), wuhua,
                          "{\"code\":\"530199\",\"level\":\"county\",\"name\":\"某区\","
                          "\"parent\":\"530100\"}");
    programme_msg(&p, f, gone);
    MALFORMED(admit_programme(&county, &p, NULL, why, sizeof why),
              "this node's unit 530102 is not in it");
    free(gone);
    char *moved = replaced(programme_json(f->yunnan), wuhua,
                           "{\"code\":\"530102\",\"level\":\"county\",\"name\":\"五华区\","
                           "\"parent\":\"530300\"}");
    programme_msg(&p, f, moved);
    MALFORMED(admit_programme(&county, &p, NULL, why, sizeof why),
              "this node's unit 530102 is under 530300 in it, not under 530100");
    free(moved);
}

/* ---- evaluation results ---- */

static void evaluation_msg(Shifan__EvaluationResult *e, const fixture_t *f, const char *document)
{
    shifan__evaluation_result__init(e);
    e->year = 2018;
    e->document.data = (uint8_t *)document;
    e->document.len = strlen(document);
    e->evaluated_at = f->now;
}

static void an_evaluation_is_this_nodes_part_of_a_result(void **state)
{
    fixture_t *f = *state;
    char why[512];
    Shifan__EvaluationResult e;
    admission_t county = at_county(f),
                hub = {.programme = f->yunnan, .receiver = "530100", .peer = "", .now = f->now};
    evaluation_msg(&e, f, "{\"year\":2018,\"published_for\":\"530102\",\"units\":[]}");
    ADMITTED(admit_evaluation(&county, &e, why, sizeof why));
    NOT_YOURS(admit_evaluation(&hub, &e, why, sizeof why),
              "evaluation of 2018: document: $.published_for is 530102, not this node (530100)");
    evaluation_msg(&e, f, "{\"year\":2018,\"units\":[]}");
    MALFORMED(admit_evaluation(&county, &e, why, sizeof why), "$.published_for is missing");
    evaluation_msg(&e, f, "{\"year\":2019,\"published_for\":\"530102\"}");
    MALFORMED(admit_evaluation(&county, &e, why, sizeof why), "document: $.year is not 2018");
    evaluation_msg(&e, f, "{\"year\":2016,\"published_for\":\"530102\"}");
    e.year = 2016;
    MALFORMED(admit_evaluation(&county, &e, why, sizeof why), "year 2016 is outside");
    evaluation_msg(&e, f, "[2018]");
    MALFORMED(admit_evaluation(&county, &e, why, sizeof why), "document is not a JSON object");
    evaluation_msg(&e, f, "{\"year\":2018,\"year\":2018,\"published_for\":\"530102\"}");
    MALFORMED(admit_evaluation(&county, &e, why, sizeof why), "document is not JSON: line 1");
    evaluation_msg(&e, f, "{\"year\":2018,\"published_for\":\"530102\"");
    MALFORMED(admit_evaluation(&county, &e, why, sizeof why), "document is not JSON");
    evaluation_msg(&e, f, "");
    MALFORMED(admit_evaluation(&county, &e, why, sizeof why), "document is empty");
    evaluation_msg(&e, f, "{\"year\":2018,\"published_for\":\"530102\"}");
    e.document.len = ADMIT_DOCUMENT_MAX + 1; /* checked before it is read */
    MALFORMED(admit_evaluation(&county, &e, why, sizeof why), "more than 524288");
    evaluation_msg(&e, f, "{\"year\":2018,\"published_for\":\"530102\"}");
    e.evaluated_at = f->now + 3 * 86400;
    MALFORMED(admit_evaluation(&county, &e, why, sizeof why), "evaluated_at");
}

/* ---- payloads and receipts ---- */

/* A refusal notice comes back from the node that refused, or (passed down
 * by a hub) from a unit above the receiver; its text is bounded UTF-8 and
 * its report id a safe key. */
static void a_refusal_notice_is_from_the_refuser_and_well_formed(void **state)
{
    fixture_t *f = *state;
    char why[512];
    Shifan__ItemRefused notice = SHIFAN__ITEM_REFUSED__INIT;
    notice.epoch = 1;
    notice.seq = 7;
    notice.reason = 2;
    notice.detail = "criterion 9.9: unknown criterion";
    notice.report_id = "530102-2018-v1-0a1b2c3d";
    notice.kind = "report";
    notice.refused_by = "530100";
    Shifan__Payload payload = SHIFAN__PAYLOAD__INIT;
    payload.body_case = SHIFAN__PAYLOAD__BODY_REFUSED;
    payload.refused = &notice;
    admission_t county = at_county(f), hub = at_hub(f);
    ADMITTED(admit_payload(&county, &payload, why, sizeof why));
    notice.refused_by = "530000"; /* the province's, passed down by the hub */
    ADMITTED(admit_payload(&county, &payload, why, sizeof why));
    notice.refused_by = "530103"; /* a sibling county is not above us */
    MALFORMED(admit_payload(&county, &payload, why, sizeof why), "refused_by");
    notice.refused_by = "530102"; /* the hub's child refused a downward item of ours */
    ADMITTED(admit_payload(&hub, &payload, why, sizeof why));
    notice.refused_by = "530100";
    MALFORMED(admit_payload(&hub, &payload, why, sizeof why), "refused_by");
    notice.refused_by = "530100";
    notice.report_id = "bad id/with slash";
    MALFORMED(admit_payload(&county, &payload, why, sizeof why), "report_id");
    notice.report_id = NULL;
    notice.detail = "\xff\xfe not text";
    MALFORMED(admit_payload(&county, &payload, why, sizeof why), "detail");
    notice.detail = NULL;
    MALFORMED(admit_payload(&county, &payload, why, sizeof why), "detail");
}

static void a_payload_carries_one_item_and_receipts_of_its_way(void **state)
{
    fixture_t *f = *state;
    char why[512];
    report_msg_t r;
    report_msg(&r, f, "530102", "530102");
    Shifan__Receipt receipt = SHIFAN__RECEIPT__INIT, *receipts[ADMIT_RECEIPTS_MAX + 1];
    receipt.node = "530100";
    receipt.received_at = f->now;
    for (size_t i = 0; i <= ADMIT_RECEIPTS_MAX; i++)
        receipts[i] = &receipt;
    Shifan__Payload payload = SHIFAN__PAYLOAD__INIT;
    payload.body_case = SHIFAN__PAYLOAD__BODY_REPORT;
    payload.report = &r.msg;
    admission_t hub = at_hub(f), province = at_province(f);
    ADMITTED(admit_payload(&hub, &payload, why, sizeof why));
    payload.n_receipts = 1;
    payload.receipts = receipts;
    ADMITTED(admit_payload(&province, &payload, why, sizeof why));
    /* A county cannot stamp its hub's receipt. */
    NOT_YOURS(admit_payload(&hub, &payload, why, sizeof why),
              "report from 530102: receipts[0]: node 530100 is not 530102 or under it");
    receipt.node = "530302";
    NOT_YOURS(admit_payload(&province, &payload, why, sizeof why),
              "receipts[0]: node 530302 is not 530100 or under it");
    receipt.node = "nowhere";
    MALFORMED(admit_payload(&province, &payload, why, sizeof why),
              "receipts[0]: node nowhere is not in programme");
    /* A county's own receipt would pass for its hub's time of receipt. */
    receipt.node = "530102";
    MALFORMED(admit_payload(&hub, &payload, why, sizeof why),
              "receipts[0]: node 530102 is a county, and only a prefecture hub stamps a receipt");
    receipt.node = "530100";
    receipt.received_at = 0;
    MALFORMED(admit_payload(&province, &payload, why, sizeof why),
              "receipts[0].received_at 0: before 2000");
    receipt.received_at = f->now;
    payload.n_receipts = ADMIT_RECEIPTS_MAX + 1;
    MALFORMED(admit_payload(&province, &payload, why, sizeof why), "5 receipts, more than 4");
    payload.n_receipts = 0;
    /* The item's own rules apply through the payload. */
    r.values[0].criterion = "9.9";
    MALFORMED(admit_payload(&province, &payload, why, sizeof why), "criterion 9.9: unknown");
    payload.body_case = SHIFAN__PAYLOAD__BODY__NOT_SET;
    MALFORMED(admit_payload(&province, &payload, why, sizeof why),
              "payload: carries no item this version knows");
    Shifan__EvaluationResult e;
    evaluation_msg(&e, f, "{\"year\":2018,\"published_for\":\"530102\"}");
    payload.body_case = SHIFAN__PAYLOAD__BODY_EVALUATION;
    payload.evaluation = &e;
    admission_t county = at_county(f);
    ADMITTED(admit_payload(&county, &payload, why, sizeof why));
}

static void a_reason_cut_short_is_still_utf8(void **state)
{
    fixture_t *f = *state;
    report_msg_t r;
    report_msg(&r, f, "530100", "530100");
    admission_t province = at_province(f);
    /* "report 530100-2018-v1-0000000a: unit: unit 530100 (" is 51 bytes, and
     * 昆 3: room for 52 cuts it after its first byte, which goes. */
    char why[53];
    assert_int_equal(admit_report(&province, &r.msg, why, sizeof why), SF_EINVAL);
    assert_string_equal(why, "report 530100-2018-v1-0000000a: unit: unit 530100 (");
    char whole[512];
    assert_int_equal(admit_report(&province, &r.msg, whole, sizeof whole), SF_EINVAL);
    assert_non_null(strstr(whole, "(昆明市)"));
}

/* The receiver's language words the reason (ctest runs in English); a cut
 * keeps the Chinese whole characters before it. */
static void a_reason_is_in_the_receivers_language(void **state)
{
    fixture_t *f = *state;
    report_msg_t r;
    report_msg(&r, f, "530102", "530102");
    admission_t at = at_hub(f);
    at.peer = "530302";
    char why[512];
    msg_set_lang(LANG_ZH);
    int rc = admit_report(&at, &r.msg, why, sizeof why);
    char cut[32]; /* "报告 530102-2018-v1-0000000a" (30 bytes) and a part of "（" */
    admit_report(&at, &r.msg, cut, sizeof cut);
    msg_set_lang(LANG_EN);
    assert_int_equal(rc, SF_EDENIED);
    assert_non_null(strstr(why, "（来自 530302）：不是本节点（530100）的直属单位"));
    assert_memory_equal(why, "报告 530102-2018-v1-", strlen("报告 530102-2018-v1-"));
    assert_string_equal(cut, "报告 530102-2018-v1-0000000a");
}

static void refusals_map_to_their_reason_codes(void **state)
{
    (void)state;
    assert_int_equal(admit_refusal_reason(SF_EDENIED), SHIFAN__REFUSAL__REASON__NOT_YOUR_UNIT);
    assert_int_equal(admit_refusal_reason(SF_EINVAL), SHIFAN__REFUSAL__REASON__MALFORMED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_receiver_and_the_sender_must_fit_the_hierarchy),
        cmocka_unit_test(each_item_travels_only_its_own_way),
        cmocka_unit_test(a_report_is_admitted_at_the_hub_and_the_province),
        cmocka_unit_test(a_report_must_be_well_formed),
        cmocka_unit_test(a_report_in_any_order_is_judged_the_same),
        cmocka_unit_test(a_report_id_is_a_safe_lmdb_key),
        cmocka_unit_test(a_report_must_fit_the_programme),
        cmocka_unit_test(a_report_of_a_replaced_standard_is_judged_by_the_current_one),
        cmocka_unit_test(a_report_is_for_a_unit_of_the_sender),
        cmocka_unit_test(a_report_comes_from_the_county_of_its_unit),
        cmocka_unit_test(a_report_has_a_version_and_a_plausible_time),
        cmocka_unit_test(an_inspection_comes_from_the_hub_that_made_it),
        cmocka_unit_test(a_return_goes_to_the_county_of_its_unit),
        cmocka_unit_test(a_return_names_the_hub_that_returns),
        cmocka_unit_test(a_return_is_well_formed),
        cmocka_unit_test(a_recommendation_is_for_a_holder_under_the_sender),
        cmocka_unit_test(a_recommendation_lists_distinct_units_of_its_holder_within_quota),
        cmocka_unit_test(a_recommendation_has_a_revision_and_a_plausible_time),
        cmocka_unit_test(a_programme_is_a_valid_document_of_the_same_hierarchy),
        cmocka_unit_test(a_programme_keeps_the_receiver_in_its_place),
        cmocka_unit_test(an_evaluation_is_this_nodes_part_of_a_result),
        cmocka_unit_test(a_payload_carries_one_item_and_receipts_of_its_way),
        cmocka_unit_test(a_refusal_notice_is_from_the_refuser_and_well_formed),
        cmocka_unit_test(a_reason_cut_short_is_still_utf8),
        cmocka_unit_test(a_reason_is_in_the_receivers_language),
        cmocka_unit_test(refusals_map_to_their_reason_codes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
