#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/stime.h"
#include "domain/programme.h"

/* A small programme that loads; each bad case below changes one thing. */
static const char *const mini =
    "{\"format\":1,\"id\":\"mini\",\"title\":\"Mini\",\"revision\":1,\"standard_id\":\"mini-std\","
    "\"years\":{\"first\":2018,\"last\":2019},\"evaluated_level\":\"county\","
    "\"units\":[{\"code\":\"530000\",\"name\":\"P\",\"level\":\"province\"},"
    "{\"code\":\"530100\",\"name\":\"Pref\",\"level\":\"prefecture\",\"parent\":\"530000\"},"
    "{\"code\":\"530102\",\"name\":\"C1\",\"level\":\"county\",\"parent\":\"530100\"},"
    "{\"code\":\"530103\",\"name\":\"C2\",\"level\":\"county\",\"parent\":\"530100\"}],"
    "\"aliases\":[{\"code\":\"530199\",\"current\":\"530103\"}],"
    "\"standard\":{\"sections\":[{\"id\":\"1\",\"title_zh\":\"S1\"},{\"id\":\"2\",\"title_zh\":"
    "\"S2\"}],"
    "\"criteria\":["
    "{\"id\":\"1.1\",\"item\":\"1.1\",\"kind\":\"bool\",\"op\":\"==\",\"threshold\":true,"
    "\"title_zh\":\"a\"},"
    "{\"id\":\"1.2a\",\"item\":\"1.2\",\"kind\":\"count\",\"op\":\">=\",\"threshold\":2,"
    "\"title_zh\":\"b\"},"
    "{\"id\":\"1.2b\",\"item\":\"1.2\",\"kind\":\"ratio\",\"op\":\">=\",\"threshold\":90,"
    "\"title_zh\":\"c\"},"
    "{\"id\":\"2.1\",\"item\":\"2.1\",\"kind\":\"ratio\",\"op\":\"==\",\"threshold\":100,"
    "\"title_zh\":\"d\"}]},"
    "\"quotas\":{\"530100\":{\"2018\":1,\"2019\":1}},"
    "\"national_quota\":{\"2018\":1},"
    "\"targets\":[{\"id\":\"t\",\"kind\":\"count\",\"of\":\"demonstration\",\"value\":2,\"by\":"
    "2019}],"
    "\"calendar\":[{\"stage\":\"self_assessment\",\"deadline\":\"07-31\",\"title_zh\":\"x\"},"
    "{\"stage\":\"recommendation\",\"deadline\":\"09-30\",\"title_zh\":\"x\"},"
    "{\"stage\":\"evaluation\",\"deadline\":\"11-30\",\"title_zh\":\"x\"},"
    "{\"stage\":\"materials\",\"deadline\":\"11-20\",\"title_zh\":\"x\"}]}";

static char *read_whole(const char *path, size_t *len)
{
    FILE *file = fopen(path, "rb");
    assert_non_null(file);
    char *text = malloc(PROGRAMME_MAX_BYTES);
    assert_non_null(text);
    *len = fread(text, 1, PROGRAMME_MAX_BYTES, file);
    fclose(file);
    return text;
}

static programme_t *load_qinhuangdao(void)
{
    const char *root = getenv("SHIFAN_SOURCE_DIR");
    assert_non_null(root);
    char path[4096];
    sf_error_t error;
    snprintf(path, sizeof path, "%s/programmes/qinhuangdao-2018.json", root);
    programme_t *programme = programme_load_file(path, &error);
    if (!programme)
        fail_msg("%s", error.text);
    return programme;
}

static int root_quota(const programme_t *programme, int year)
{
    return programme_quota(programme, programme_unit(programme, 0)->code, year);
}

static int64_t at(const char *iso)
{
    int64_t t;
    assert_int_equal(stime_parse(iso, &t), 0);
    return t;
}

static void default_programme_is_yunnan_2017(void **state)
{
    (void)state;
    programme_t *programme = programme_load_default(NULL);
    assert_non_null(programme);
    assert_string_equal(programme_id(programme), "yunnan-2017");
    assert_int_equal(programme_first_year(programme), 2017);
    assert_int_equal(programme_last_year(programme), 2020);
    size_t prefectures = 0, counties = 0, evaluated = 0;
    for (size_t u = 0; u < programme_unit_count(programme); u++) {
        const programme_unit_t *unit = programme_unit(programme, u);
        prefectures += unit->level == LEVEL_PREFECTURE;
        counties += unit->level == LEVEL_COUNTY;
        evaluated += unit->evaluated;
        if (unit->level == LEVEL_COUNTY)
            assert_int_equal(programme_unit(programme, (size_t)unit->prefecture)->level,
                             LEVEL_PREFECTURE);
    }
    assert_int_equal(prefectures, 16);
    assert_int_equal(counties, 129);
    assert_int_equal(evaluated, 129);
    assert_int_equal(programme_participant_count(programme), 129);
    assert_int_equal(programme_item_count(programme), 32);
    assert_int_equal(programme_criterion_count(programme), 38);
    assert_int_equal(programme_section_count(programme), 6);

    /* A Yunnan county is recommended by its prefecture, the quota holder. */
    int county = programme_find_unit(programme, "530102");
    assert_string_equal(
        programme_unit(programme, (size_t)programme_recommender(programme, county))->code,
        "530100");

    assert_int_equal(root_quota(programme, 2017), 5);
    assert_int_equal(root_quota(programme, 2018), 10);
    assert_int_equal(root_quota(programme, 2019), 10);
    assert_int_equal(root_quota(programme, 2020), 12);
    assert_int_equal(programme_quota(programme, "530100", 2017), 1);
    assert_int_equal(programme_quota(programme, "530600", 2017), 0);
    assert_int_equal(programme_quota(programme, "533400", 2020), 1);
    int national = 0;
    for (int year = 2017; year <= 2020; year++)
        national += programme_national_quota(programme, year);
    assert_int_equal(national, 7);
    assert_int_equal(programme_national_quota(programme, 2016), 0);

    assert_int_equal(programme_target_count(programme), 2);
    assert_int_equal(programme_target(programme, 0)->value, 37);
    assert_int_equal(programme_target(programme, 1)->of, TARGET_OF_NATIONAL);
    assert_int_equal(programme_target(programme, 1)->value, 7);

    const programme_criterion_t *c =
        programme_criterion(programme, (size_t)programme_find_criterion(programme, "1.2c"));
    assert_string_equal(c->item, "1.2");
    assert_int_equal(c->kind, CRITERION_COUNT);
    assert_true(c->threshold == 1);
    c = programme_criterion(programme, (size_t)programme_find_criterion(programme, "2.7"));
    assert_int_equal(c->op, OP_EQ);
    assert_true(c->threshold == 100);
    const programme_item_t *item =
        programme_item(programme, (size_t)programme_find_item(programme, "5.4"));
    assert_int_equal(item->criterion_count, 3);
    assert_string_equal(item->section, "5");
    assert_int_equal(programme_find_criterion(programme, "9.9"), -1);

    assert_true(programme_tolerance(programme) == 5);
    assert_false(programme_late_disqualifies(programme));
    assert_int_equal(programme_deadline(programme, STAGE_SELF_ASSESSMENT, 2018),
                     at("2018-07-31T23:59:59+08:00"));
    assert_int_equal(programme_deadline(programme, STAGE_RECOMMENDATION, 2019),
                     at("2019-09-30T23:59:59+08:00"));
    assert_int_equal(programme_deadline(programme, STAGE_EVALUATION, 2020),
                     at("2020-11-30T23:59:59+08:00"));
    assert_int_equal(programme_deadline(programme, STAGE_MATERIALS, 2018),
                     at("2018-11-20T23:59:59+08:00"));
    /* The seed's one exception: 2017 materials by the end of March 2018. */
    assert_int_equal(programme_deadline(programme, STAGE_MATERIALS, 2017),
                     at("2018-03-31T23:59:59+08:00"));
    programme_destroy(&programme);
    assert_null(programme);
}

static void former_code_resolves_to_its_successor(void **state)
{
    (void)state;
    programme_t *programme = programme_load_default(NULL);
    assert_non_null(programme);
    int old = programme_find_unit(programme, "532331");
    assert_true(old >= 0);
    assert_int_equal(old, programme_find_unit(programme, "532302"));
    assert_string_equal(programme_unit_code(programme, "532331"), "532302");
    assert_string_equal(programme_unit(programme, (size_t)old)->name, "禄丰市");
    assert_true(programme_unit_within(programme, "532331", "532300"));
    assert_null(programme_unit_code(programme, "532399"));
    assert_int_equal(programme_find_unit(programme, "5323"), -1);
    programme_destroy(&programme);
}

static void unit_within_follows_the_hierarchy(void **state)
{
    (void)state;
    programme_t *programme = programme_load_default(NULL);
    assert_non_null(programme);
    assert_true(programme_unit_within(programme, "530102", "530102"));
    assert_true(programme_unit_within(programme, "530102", "530100"));
    assert_true(programme_unit_within(programme, "530102", "530000"));
    assert_false(programme_unit_within(programme, "530102", "532300"));
    assert_false(programme_unit_within(programme, "530100", "530102"));
    assert_false(programme_unit_within(programme, "999999", "530000"));
    assert_false(programme_unit_within(programme, "530102", NULL));
    programme_destroy(&programme);
}

static void qinhuangdao_loads_with_sites_and_county_quotas(void **state)
{
    (void)state;
    programme_t *programme = load_qinhuangdao();
    assert_string_equal(programme_id(programme), "qinhuangdao-2018");
    assert_int_equal(programme_evaluated_level(programme), LEVEL_SITE);
    size_t sites = 0, counties = 0;
    for (size_t u = 0; u < programme_unit_count(programme); u++) {
        const programme_unit_t *unit = programme_unit(programme, u);
        sites += unit->evaluated;
        counties += unit->level == LEVEL_COUNTY;
        assert_int_equal(unit->evaluated, unit->level == LEVEL_SITE);
    }
    assert_int_equal(sites, 102);
    assert_int_equal(counties, 9);
    int site = programme_find_unit(programme, "130302001");
    assert_true(site >= 0);
    assert_string_equal(
        programme_unit(programme, (size_t)programme_unit(programme, (size_t)site)->prefecture)
            ->code,
        "130300");
    assert_true(programme_unit_within(programme, "130302001", "130302"));
    assert_false(programme_unit_within(programme, "130302001", "130303"));
    /* One site per county in 2018; the city's quota is their sum. */
    assert_int_equal(programme_quota(programme, "130302", 2018), 1);
    assert_int_equal(programme_quota(programme, "130300", 2018), 9);
    assert_int_equal(programme_quota(programme, "130300", 2019), 0);
    assert_string_equal(
        programme_unit(programme, (size_t)programme_quota_holder(programme, site))->code, "130302");
    /* A site is ranked and recommended by its county, which holds the quota. */
    assert_string_equal(
        programme_unit(programme, (size_t)programme_recommender(programme, site))->code, "130302");
    assert_int_equal(programme_recommender(programme, -1), -1);
    assert_int_equal(programme_national_quota(programme, 2018), 0);
    assert_int_equal(programme_target_count(programme), 1);
    assert_int_equal(programme_target(programme, 0)->kind, TARGET_SHARE);
    assert_true(programme_target(programme, 0)->value == 50);
    assert_int_equal(programme_target(programme, 0)->by, 2020);
    assert_int_equal(programme_deadline(programme, STAGE_EVALUATION, 2018),
                     at("2018-12-31T23:59:59+08:00"));
    assert_int_equal(programme_deadline_named(programme, "plan", 2018),
                     at("2018-05-31T23:59:59+08:00"));
    assert_int_equal(programme_deadline_named(programme, "nothing", 2018), -1);
    bool own_choice = false;
    for (size_t c = 0; c < programme_criterion_count(programme); c++)
        own_choice |= !programme_criterion(programme, c)->from_seed;
    assert_true(own_choice);
    programme_destroy(&programme);
}

static void assert_same_programme(const programme_t *a, const programme_t *b)
{
    assert_string_equal(programme_json(a), programme_json(b));
    assert_string_equal(programme_id(a), programme_id(b));
    assert_int_equal(programme_revision(a), programme_revision(b));
    assert_int_equal(programme_unit_count(a), programme_unit_count(b));
    for (size_t u = 0; u < programme_unit_count(a); u++) {
        const programme_unit_t *x = programme_unit(a, u), *y = programme_unit(b, u);
        assert_string_equal(x->code, y->code);
        assert_string_equal(x->name, y->name);
        assert_int_equal(x->parent, y->parent);
        assert_int_equal(x->evaluated, y->evaluated);
    }
    assert_int_equal(programme_criterion_count(a), programme_criterion_count(b));
    for (size_t c = 0; c < programme_criterion_count(a); c++) {
        const programme_criterion_t *x = programme_criterion(a, c), *y = programme_criterion(b, c);
        assert_string_equal(x->id, y->id);
        assert_int_equal(x->kind, y->kind);
        assert_int_equal(x->op, y->op);
        assert_true(x->threshold == y->threshold);
        assert_string_equal(x->title_zh, y->title_zh);
    }
    for (int year = programme_first_year(a); year <= programme_last_year(a); year++) {
        assert_int_equal(root_quota(a, year), root_quota(b, year));
        assert_int_equal(programme_national_quota(a, year), programme_national_quota(b, year));
        for (int s = 0; s < STAGE_COUNT; s++)
            assert_int_equal(programme_deadline(a, (programme_stage_t)s, year),
                             programme_deadline(b, (programme_stage_t)s, year));
    }
}

static void canonical_json_loads_to_an_equal_programme(void **state)
{
    (void)state;
    programme_t *originals[] = {programme_load_default(NULL), load_qinhuangdao()};
    for (size_t i = 0; i < 2; i++) {
        sf_error_t error;
        const char *json = programme_json(originals[i]);
        assert_null(strchr(json, '\n')); /* compact */
        programme_t *again = programme_load_json(json, strlen(json), "canonical", &error);
        if (!again)
            fail_msg("%s", error.text);
        assert_same_programme(originals[i], again);
        programme_destroy(&again);
        programme_destroy(&originals[i]);
    }
}

static void file_layout_does_not_change_the_canonical_text(void **state)
{
    (void)state;
    const char *root = getenv("SHIFAN_SOURCE_DIR");
    char path[4096];
    sf_error_t error;
    size_t len;
    snprintf(path, sizeof path, "%s/libshifan/data/programme-yunnan-2017.json", root);
    char *text = read_whole(path, &len);
    programme_t *from_file = programme_load_json(text, len, path, &error);
    programme_t *embedded = programme_load_default(NULL);
    assert_non_null(from_file);
    assert_non_null(embedded);
    assert_string_equal(programme_json(from_file), programme_json(embedded));
    programme_destroy(&from_file);
    programme_destroy(&embedded);
    free(text);
}

static void criterion_ids_order_like_the_standard(void **state)
{
    (void)state;
    const char *const ordered[] = {"1.1", "1.2", "1.2a", "1.2c", "1.10", "2.1", "10.1"};
    size_t n = sizeof ordered / sizeof *ordered;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            int cmp = programme_criterion_compare(ordered[i], ordered[j]);
            assert_int_equal(cmp < 0, i < j);
            assert_int_equal(cmp == 0, i == j);
        }
    assert_int_not_equal(programme_criterion_compare("1.01", "1.1"), 0);
}

/* The mini text with one substring replaced. */
static char *mutate(const char *find, const char *replace)
{
    const char *hit = strstr(mini, find);
    assert_non_null(hit);
    size_t size = strlen(mini) - strlen(find) + strlen(replace) + 1;
    char *text = malloc(size);
    assert_non_null(text);
    snprintf(text, size, "%.*s%s%s", (int)(hit - mini), mini, replace, hit + strlen(find));
    return text;
}

static void mini_programme_loads(void **state)
{
    (void)state;
    sf_error_t error;
    programme_t *programme = programme_load_json(mini, strlen(mini), "mini.json", &error);
    if (!programme)
        fail_msg("%s", error.text);
    assert_int_equal(programme_item_count(programme), 3);
    assert_int_equal(programme_find_unit(programme, "530199"),
                     programme_find_unit(programme, "530103"));
    assert_int_equal(programme_participant_count(programme), 2);
    programme_destroy(&programme);

    /* A participants list narrows the base of share targets. */
    char *text = mutate("\"aliases\":[", "\"participants\":[\"530199\"],\"aliases\":[");
    programme = programme_load_json(text, strlen(text), "mini.json", &error);
    if (!programme)
        fail_msg("%s", error.text);
    assert_int_equal(programme_participant_count(programme), 1);
    assert_true(
        programme_unit(programme, (size_t)programme_find_unit(programme, "530103"))->participating);
    assert_false(
        programme_unit(programme, (size_t)programme_find_unit(programme, "530102"))->participating);
    programme_destroy(&programme);
    free(text);
}

typedef struct {
    const char *find;
    const char *replace;
    const char *message;
} bad_case_t;

static const bad_case_t bad_programmes[] = {
    {"\"op\":\">=\",\"threshold\":90", "\"op\":\">\",\"threshold\":90",
     "mini.json: $.standard.criteria[2].op: \">\": expected \">=\" or \"==\""},
    {"\"id\":\"mini\"", "\"id\":\"mini\",\"id\":\"other\"", "duplicate object key"},
    {"\"name\":\"C2\",\"level\":\"county\",\"parent\":\"530100\"",
     "\"name\":\"C2\",\"level\":\"county\",\"parent\":\"530900\"",
     "mini.json: $.units[3].parent: unknown parent \"530900\""},
    {"\"code\":\"530103\",\"name\":\"C2\"", "\"code\":\"530102\",\"name\":\"C2\"",
     "$.units[3].code: duplicate code 530102"},
    {"\"code\":\"530199\"", "\"code\":\"530102\"", "$.aliases[0].code: duplicate code 530102"},
    {"\"current\":\"530103\"", "\"current\":\"530777\"", "$.aliases[0].current"},
    {"\"id\":\"1.2b\"", "\"id\":\"1.2a\"", "$.standard.criteria[2].id: duplicate criterion id"},
    {"\"id\":\"1.1\",\"item\":\"1.1\"", "\"id\":\"1.3\",\"item\":\"1.3\"",
     "$.standard.criteria[1].id: \"1.2a\" comes after \"1.3\""},
    {"\"id\":\"1.2b\",\"item\":\"1.2\"", "\"id\":\"1.2b\",\"item\":\"1.3\"",
     "$.standard.criteria[2].id: \"1.2b\" must be its item \"1.3\""},
    {"\"id\":\"2.1\",\"item\":\"2.1\"", "\"id\":\"7.1\",\"item\":\"7.1\"",
     "$.standard.criteria[3].item: \"7.1\" does not start with a section id"},
    {"\"threshold\":90", "\"threshold\":120",
     "$.standard.criteria[2].threshold: 120 is out of range 0..100"},
    {"\"threshold\":90", "\"threshold\":-1",
     "$.standard.criteria[2].threshold: -1 is out of range"},
    {"\"op\":\"==\",\"threshold\":100", "\"op\":\"==\",\"threshold\":90",
     "$.standard.criteria[3].threshold: \"==\" on a ratio means num = den"},
    {"\"threshold\":2", "\"threshold\":2.5",
     "$.standard.criteria[1].threshold: a count threshold is a whole number"},
    {"\"threshold\":true", "\"threshold\":false", "$.standard.criteria[0].threshold"},
    {"\"kind\":\"count\"", "\"kind\":\"number\"", "$.standard.criteria[1].kind"},
    {"{\"id\":\"2\",\"title_zh\":\"S2\"}",
     "{\"id\":\"2\",\"title_zh\":\"S2\"},{\"id\":\"3\",\"title_zh\":\"S3\"}",
     "$.standard.sections[2]: section \"3\" has no criteria"},
    {"\"quotas\":{\"530100\"", "\"quotas\":{\"539900\"",
     "$.quotas[\"539900\"]: quota for unknown unit"},
    {"\"quotas\":{\"530100\"", "\"quotas\":{\"530102\"",
     "$.quotas[\"530102\"]: 530102 is a county; quotas belong to prefectures"},
    {"\"2019\":1}}", "\"2021\":1}}", "$.quotas[\"530100\"][\"2021\"]: year 2021 is outside"},
    {"\"2018\":1,\"2019\":1}", "\"2018\":-1,\"2019\":1}", "$.quotas[\"530100\"][\"2018\"]"},
    {"\"national_quota\":{\"2018\":1}", "\"national_quota\":{\"2018\":2}",
     "$.national_quota[\"2018\"]: national quota 2 exceeds the year's total quota 1"},
    {"\"format\":1", "\"format\":2", "$.format: format 2 is not supported"},
    {"\"revision\":1", "\"revision\":0", "$.revision: 0 is out of range"},
    {"\"revision\":1", "\"revision\":1.0", "$.revision: expected an integer"},
    {"\"last\":2019", "\"last\":2010", "$.years.last"},
    {"\"evaluated_level\":\"county\"", "\"evaluated_level\":\"village\"", "$.evaluated_level"},
    {"\"level\":\"prefecture\"", "\"level\":\"city\"", "$.units[1].level"},
    {"\"code\":\"530102\"", "\"code\":\"53010\"", "$.units[2].code: \"53010\" is not a 6-digit"},
    {"\"revision\":1,", "\"revision\":1,\"colour\":\"red\",", "$.colour: unknown key"},
    {"\"stage\":\"materials\"", "\"stage\":\"paperwork\"",
     "$.calendar: stage \"materials\" is missing"},
    {"\"deadline\":\"09-30\"", "\"deadline\":\"02-29\"", "$.calendar[1].deadline"},
    {"\"deadline\":\"09-30\"", "\"deadline\":\"9/30\"", "$.calendar[1].deadline"},
    {"\"by\":2019", "\"by\":2025", "$.targets[0].by"},
    {"\"value\":2,", "\"value\":\"2\",", "$.targets[0].value"},
    {"\"title\":\"Mini\",", "", "$.title: missing"},
    {"\"title\":\"Mini\"", "\"title\":\"\"", "$.title: empty"},
    {"\"evaluated_level\":\"county\",", "\"evaluated_level\":\"county\",\"tolerance_pp\":200,",
     "$.tolerance_pp: 200 is out of range"},
    {"\"calendar\":[", "\"calendar\":[[", "line 1"},
    {"\"aliases\":[", "\"participants\":[\"530100\"],\"aliases\":[",
     "$.participants[0]: \"530100\" is not a unit of evaluation"},
    {"\"aliases\":[", "\"participants\":[\"530102\",\"530102\"],\"aliases\":[",
     "$.participants[1]: 530102 is listed twice"},
};

static void bad_programmes_are_refused_with_their_path(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad_programmes / sizeof *bad_programmes; i++) {
        const bad_case_t *bad = &bad_programmes[i];
        char *text = mutate(bad->find, bad->replace);
        sf_error_t error;
        programme_t *programme = programme_load_json(text, strlen(text), "mini.json", &error);
        if (programme)
            fail_msg("case %zu (%s) loaded", i, bad->message);
        if (!strstr(error.text, bad->message))
            fail_msg("case %zu: expected \"%s\" in \"%s\"", i, bad->message, error.text);
        assert_memory_equal(error.text, "mini.json: ", 11);
        assert_int_equal(error.code, SF_EINVAL);
        free(text);
    }
}

static void missing_file_names_the_path(void **state)
{
    (void)state;
    sf_error_t error;
    assert_null(programme_load_file("/nonexistent/p.json", &error));
    assert_non_null(strstr(error.text, "/nonexistent/p.json: cannot open"));
    assert_int_equal(error.code, SF_EIO);
    assert_null(programme_load_json(mini, 10, "cut.json", NULL)); /* error NULL: no crash */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(default_programme_is_yunnan_2017),
        cmocka_unit_test(former_code_resolves_to_its_successor),
        cmocka_unit_test(unit_within_follows_the_hierarchy),
        cmocka_unit_test(qinhuangdao_loads_with_sites_and_county_quotas),
        cmocka_unit_test(canonical_json_loads_to_an_equal_programme),
        cmocka_unit_test(file_layout_does_not_change_the_canonical_text),
        cmocka_unit_test(criterion_ids_order_like_the_standard),
        cmocka_unit_test(mini_programme_loads),
        cmocka_unit_test(bad_programmes_are_refused_with_their_path),
        cmocka_unit_test(missing_file_names_the_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
