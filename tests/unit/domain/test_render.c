#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "base/error.h"
#include "domain/engine.h"
#include "domain/render.h"

#include "engine_fixture.h"

/* One year of the fixture province with every kind of unit: qualified and
 * recommended, failing, late, returned (with a hostile reason), missing,
 * inspected with a discrepancy, and a prefecture's confirmed list. */
static engine_result_t *build_result(programme_t *programme, bool reversed)
{
    report_t *reports[8];
    size_t n = 0;
    reports[n++] = fixture_passing_report("990101", 2018, 1, "2018-07-01", "a1", 40);
    reports[n++] = fixture_passing_report("990102", 2018, 1, "2018-07-02", "b1", 20);
    reports[n] = fixture_passing_report("990103", 2018, 1, "2018-07-03", "c1", 20);
    fixture_ratio(reports[n++], "2.1", 8999, 10000);
    reports[n++] = fixture_passing_report("990104", 2018, 1, "2018-08-03", "d1", 10);
    reports[n++] = fixture_passing_report("990201", 2018, 1, "2018-07-03", "e1", 10);
    reports[n++] = fixture_passing_report("990301", 2018, 1, "2018-07-03", "f1", 10);
    reports[n++] = fixture_passing_report("990303", 2018, 1, "2018-07-04", "g1", 30);
    reports[n++] = fixture_passing_report("990303", 2018, 2, "2018-07-09", "g2", 30);
    engine_input_t *input = engine_input_new(programme, NULL);
    assert_non_null(input);
    for (size_t i = 0; i < n; i++) {
        size_t k = reversed ? n - 1 - i : i;
        assert_int_equal(engine_input_add_report(input, reports[k], reports[k]->submitted_at + 5),
                         0);
        report_destroy(&reports[k]);
    }
    report_t *insp = fixture_report("990104", 2018, 1, fixture_time("2018-08-20"), "i1");
    fixture_ratio(insp, "2.1", 800, 1000);
    assert_int_equal(engine_input_add_inspection(input, insp, ENGINE_TIER_PREFECTURE), 0);
    report_destroy(&insp);
    assert_int_equal(engine_input_add_return(input, "990201", 2018, "e1",
                                             "<script>alert('x')</script> & 附件",
                                             fixture_time("2018-07-20")),
                     0);
    const char *list[] = {"990303"};
    assert_int_equal(engine_input_add_recommendation(input, "990300", 2018, list, 1, true,
                                                     fixture_time("2018-09-28"), 1),
                     0);
    engine_result_t *result = NULL;
    char err[256];
    assert_int_equal(
        engine_evaluate(input, 2018, fixture_time("2018-11-01"), NULL, &result, err, sizeof err),
        0);
    /* The result borrows the programme, never the input. */
    engine_input_destroy(&input);
    return result;
}

typedef struct {
    programme_t *programme;
    engine_result_t *result;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    f->programme = fixture_programme();
    if (!f->programme)
        return -1;
    f->result = build_result(f->programme, false);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    engine_result_destroy(&f->result);
    programme_destroy(&f->programme);
    free(f);
    return 0;
}

static json_t *load_json(const engine_result_t *result)
{
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(render_json(result, &text, &len), 0);
    assert_int_equal(strlen(text), len);
    json_error_t error;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &error);
    if (!root)
        fail_msg("result JSON does not parse: %s (line %d)", error.text, error.line);
    free(text);
    return root;
}

static void json_carries_the_fixed_fields(void **state)
{
    fixture_t *f = *state;
    json_t *root = load_json(f->result);
    json_t *units = json_object_get(root, "units");
    assert_true(json_is_array(units));
    assert_int_equal(json_array_size(units), 10);
    size_t i;
    json_t *unit;
    json_array_foreach(units, i, unit)
    {
        assert_true(json_is_string(json_object_get(unit, "code")));
        assert_true(json_is_string(json_object_get(unit, "prefecture")));
        const char *status = json_string_value(json_object_get(unit, "status"));
        assert_non_null(status);
        assert_true(strcmp(status, "on_time") == 0 || strcmp(status, "late") == 0 ||
                    strcmp(status, "missing") == 0);
        assert_true(json_is_boolean(json_object_get(unit, "qualified")));
        assert_true(json_is_array(json_object_get(unit, "failed")));
        assert_true(json_is_boolean(json_object_get(unit, "recommended")));
        assert_true(json_is_boolean(json_object_get(unit, "demonstration")));
        assert_true(json_is_boolean(json_object_get(unit, "national_candidate")));
        assert_true(json_is_array(json_object_get(unit, "flags")));
        assert_true(json_is_array(json_object_get(unit, "criteria")));
    }
    json_t *u103 = json_array_get(units, 2);
    assert_string_equal(json_string_value(json_object_get(u103, "code")), "990103");
    assert_string_equal(json_string_value(json_array_get(json_object_get(u103, "failed"), 0)),
                        "2.1");
    json_t *c21 = json_array_get(json_object_get(u103, "criteria"), 3);
    assert_string_equal(json_string_value(json_object_get(c21, "id")), "2.1");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(c21, "value"), "num")),
                     8999);
    assert_false(json_boolean_value(json_object_get(c21, "passed")));
    /* 89.99 % shown with two decimals, margin -0.01 */
    assert_float_equal(json_real_value(json_object_get(c21, "percent")), 89.99, 1e-9);
    assert_float_equal(json_real_value(json_object_get(c21, "margin")), -0.01, 1e-9);
    json_t *u104 = json_array_get(units, 3);
    assert_string_equal(json_string_value(json_object_get(u104, "status")), "late");
    json_t *flags = json_object_get(u104, "flags");
    bool late = false, discrepancy = false;
    json_array_foreach(flags, i, unit)
    {
        late |= strcmp(json_string_value(unit), "late") == 0;
        discrepancy |= strcmp(json_string_value(unit), "discrepancy") == 0;
    }
    assert_true(late && discrepancy);

    json_t *prefectures = json_object_get(root, "prefectures");
    assert_int_equal(json_array_size(prefectures), 3);
    json_t *p = json_array_get(prefectures, 0);
    assert_string_equal(json_string_value(json_object_get(p, "code")), "990100");
    assert_int_equal(json_integer_value(json_object_get(p, "quota")), 2);
    json_t *recommended = json_object_get(p, "recommended");
    assert_int_equal(json_array_size(recommended), 2);
    assert_string_equal(json_string_value(json_array_get(recommended, 0)), "990101");
    assert_string_equal(json_string_value(json_array_get(recommended, 1)), "990102");
    assert_true(json_boolean_value(json_object_get(p, "provisional")));
    json_t *c = json_array_get(prefectures, 2);
    assert_string_equal(json_string_value(json_object_get(c, "source")), "confirmed");
    assert_false(json_boolean_value(json_object_get(c, "provisional")));
    json_t *completeness = json_object_get(p, "completeness");
    assert_int_equal(json_integer_value(json_object_get(completeness, "expected")), 5);
    assert_int_equal(json_integer_value(json_object_get(completeness, "reported")), 4);

    json_t *province = json_object_get(root, "province");
    assert_true(json_is_object(province));
    json_t *demonstration = json_object_get(province, "demonstration");
    assert_int_equal(json_array_size(demonstration), 3);
    assert_string_equal(json_string_value(json_array_get(demonstration, 0)), "990101");
    assert_string_equal(json_string_value(json_array_get(demonstration, 1)), "990303");
    assert_string_equal(json_string_value(json_array_get(demonstration, 2)), "990102");
    json_t *national = json_object_get(province, "national_candidates");
    assert_int_equal(json_array_size(national), 1);
    json_t *progress = json_object_get(province, "progress");
    assert_int_equal(json_integer_value(json_object_get(progress, "demonstration_total")), 3);
    json_t *targets = json_object_get(progress, "targets");
    assert_int_equal(json_array_size(targets), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(targets, 0), "needed")), 4);
    json_decref(root);
}

/* Splits CSV text into rows of fields (handles quotes; enough for our own output). */
static size_t csv_rows(char *text, char *rows[][64], size_t max_rows)
{
    size_t row = 0, field = 0;
    char *p = text, *out = text;
    rows[0][0] = out;
    while (*p && row < max_rows) {
        if (*p == '"') {
            for (p++; *p; p++) {
                if (*p == '"' && p[1] == '"')
                    *out++ = *p++;
                else if (*p == '"')
                    break;
                else
                    *out++ = *p;
            }
            p++;
        } else if (*p == ',') {
            *out++ = '\0';
            p++;
            rows[row][++field] = out;
        } else if (*p == '\r' && p[1] == '\n') {
            *out++ = '\0';
            p += 2;
            rows[row][++field] = NULL;
            row++;
            field = 0;
            if (row < max_rows)
                rows[row][0] = out;
        } else {
            *out++ = *p++;
        }
    }
    return row;
}

static int column(char *header[64], const char *name)
{
    for (int i = 0; i < 64 && header[i]; i++)
        if (strcmp(header[i], name) == 0)
            return i;
    fail_msg("no column %s", name);
    return -1;
}

/* The HTML table row of a unit, from its <tr> to before its </tr> (caller frees). */
static char *html_row(const char *html, const char *code)
{
    char needle[64];
    snprintf(needle, sizeof needle, "<td>%s</td><td class=\"name\">", code);
    const char *cell = strstr(html, needle);
    if (!cell)
        fail_msg("no HTML row for %s", code);
    const char *start = cell;
    while (start > html && strncmp(start, "<tr", 3) != 0)
        start--;
    const char *end = strstr(cell, "</tr>");
    assert_non_null(end);
    return strndup(start, (size_t)(end - start));
}

static size_t count_of(const char *haystack, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(haystack, needle); p; p = strstr(p + strlen(needle), needle))
        n++;
    return n;
}

static void csv_and_html_carry_the_same_facts_as_json(void **state)
{
    fixture_t *f = *state;
    json_t *root = load_json(f->result);
    char *csv = NULL, *html = NULL;
    size_t csv_len = 0, html_len = 0;
    assert_int_equal(render_csv_lang(f->result, LANG_EN, &csv, &csv_len), 0);
    assert_int_equal(render_html(f->result, &html, &html_len), 0);
    char *rows[16][64];
    char *html_rows = strdup(html);
    assert_memory_equal(csv, "\xEF\xBB\xBF", 3); /* Excel reads UTF-8 only with its mark */
    size_t count = csv_rows(csv + 3, rows, 16);
    assert_int_equal(count, 11); /* header + 10 units */
    int code = column(rows[0], "code"), qualified = column(rows[0], "qualified");
    int recommended = column(rows[0], "recommended"), status = column(rows[0], "status");
    int item21 = column(rows[0], "item_2.1"), demonstration = column(rows[0], "demonstration");

    json_t *units = json_object_get(root, "units");
    for (size_t i = 0; i < json_array_size(units); i++) {
        json_t *unit = json_array_get(units, i);
        const char *unit_code = json_string_value(json_object_get(unit, "code"));
        char **row = rows[i + 1];
        assert_string_equal(row[code], unit_code);
        bool is_qualified = json_boolean_value(json_object_get(unit, "qualified"));
        bool is_recommended = json_boolean_value(json_object_get(unit, "recommended"));
        assert_string_equal(row[qualified], is_qualified ? "true" : "false");
        assert_string_equal(row[recommended], is_recommended ? "true" : "false");
        assert_string_equal(row[demonstration],
                            json_boolean_value(json_object_get(unit, "demonstration")) ? "true"
                                                                                       : "false");
        assert_string_equal(row[status], json_string_value(json_object_get(unit, "status")));
        /* The unit's HTML row says the same. */
        char needle[64];
        snprintf(needle, sizeof needle, "<tr class=\"recommended\"><td>%s</td>", unit_code);
        const char *line = strstr(html_rows, needle);
        assert_int_equal(line != NULL, is_recommended);
        if (!line) {
            snprintf(needle, sizeof needle, "<tr><td>%s</td>", unit_code);
            line = strstr(html_rows, needle);
        }
        assert_non_null(line);
        const char *end = strstr(line, "</tr>");
        assert_non_null(end);
        char *copy = strndup(line, (size_t)(end - line));
        assert_int_equal(strstr(copy, ">合格<") != NULL, is_qualified);
        assert_int_equal(strstr(copy, ">不合格<") != NULL, !is_qualified);
        assert_int_equal(strstr(copy, ">推荐<") != NULL, is_recommended);
        /* The status cell (the flags cell has a class, so "<td>迟报</td>" is the status). */
        const char *unit_status = json_string_value(json_object_get(unit, "status"));
        const char *status_zh = strcmp(unit_status, "on_time") == 0 ? "<td>按时</td>"
                                : strcmp(unit_status, "late") == 0  ? "<td>迟报</td>"
                                                                    : "<td>未报</td>";
        assert_int_equal(count_of(copy, "<td>按时</td>") + count_of(copy, "<td>迟报</td>") +
                             count_of(copy, "<td>未报</td>"),
                         1);
        assert_non_null(strstr(copy, status_zh));
        assert_int_equal(strstr(copy, "<td>示范县</td>") != NULL,
                         json_boolean_value(json_object_get(unit, "demonstration")));
        assert_int_equal(strstr(copy, "<td>国家级候选</td>") != NULL,
                         json_boolean_value(json_object_get(unit, "national_candidate")));
        free(copy);
    }
    assert_string_equal(rows[3][item21], "fail"); /* 990103 */
    assert_string_equal(rows[1][item21], "pass"); /* 990101 */
    assert_string_equal(rows[5][item21], "");     /* 990105, missing */
    free(html_rows);
    free(csv);
    free(html);
    json_decref(root);
}

/* The default CSV is the Chinese one, worded as the HTML words each fact,
 * and says per unit what the English one says. */
static void chinese_csv_says_what_the_english_one_says(void **state)
{
    fixture_t *f = *state;
    char *zh = NULL, *en = NULL;
    size_t zh_len = 0, en_len = 0;
    assert_int_equal(render_csv(f->result, &zh, &zh_len), 0);
    assert_int_equal(render_csv_lang(f->result, LANG_EN, &en, &en_len), 0);
    assert_memory_equal(zh, "\xEF\xBB\xBF年度,单位代码,单位名称,",
                        strlen("\xEF\xBB\xBF年度,单位代码,单位名称,"));
    char *zh_rows[16][64], *en_rows[16][64];
    size_t count = csv_rows(zh + 3, zh_rows, 16);
    assert_int_equal(csv_rows(en + 3, en_rows, 16), count);
    static const char *const pairs[][2] = {
        {"code", "单位代码"},        {"status", "上报情况"},  {"qualified", "是否合格"},
        {"failed", "不合格条目"},    {"flags", "标记"},       {"recommended", "推荐"},
        {"demonstration", "示范县"}, {"item_2.1", "条目2.1"}, {"prefecture_source", "推荐来源"}};
    static const char *const words[][2] = {{"true", "是"},
                                           {"false", "否"},
                                           {"on_time", "按时"},
                                           {"late", "迟报"},
                                           {"missing", "未报"},
                                           {"pass", "合格"},
                                           {"fail", "不合格"},
                                           {"", ""},
                                           {"confirmed", "已确认"},
                                           {"provisional", "暂定（未确认）"},
                                           {"automatic", "自动排名（暂定）"}};
    for (size_t p = 0; p < sizeof pairs / sizeof pairs[0]; p++) {
        int e = column(en_rows[0], pairs[p][0]), z = column(zh_rows[0], pairs[p][1]);
        for (size_t r = 1; r < count; r++) {
            const char *want = en_rows[r][e];
            if (p == 0 || p == 3) { /* codes and item ids are the same in both */
                assert_string_equal(zh_rows[r][z], want);
                continue;
            }
            if (p == 4) { /* flags: each English word has its HTML label */
                assert_int_equal(strstr(want, "late") != NULL,
                                 strstr(zh_rows[r][z], "迟报") != NULL);
                assert_int_equal(strstr(want, "discrepancy") != NULL,
                                 strstr(zh_rows[r][z], "核查不符") != NULL);
                continue;
            }
            size_t w = 0;
            while (w < sizeof words / sizeof words[0] && strcmp(words[w][0], want) != 0)
                w++;
            if (w == sizeof words / sizeof words[0])
                fail_msg("unexpected English value %s in %s", want, pairs[p][0]);
            assert_string_equal(zh_rows[r][z], words[w][1]);
        }
    }
    free(zh);
    free(en);
}

static void html_is_self_contained_printable_and_escaped(void **state)
{
    fixture_t *f = *state;
    char *html = NULL;
    assert_int_equal(render_html(f->result, &html, NULL), 0);
    assert_true(strncmp(html, "<!DOCTYPE html>", 15) == 0);
    assert_non_null(strstr(html, "<meta charset=\"utf-8\">"));
    assert_non_null(strstr(html, "@media print"));
    assert_null(strstr(html, "http:"));
    assert_null(strstr(html, "https:"));
    assert_null(strstr(html, "src="));
    assert_null(strstr(html, "<link"));
    assert_null(strstr(html, "<script"));
    assert_non_null(strstr(html, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; 附件"));
    assert_non_null(strstr(html, "丙&lt;三&gt;&amp;&quot;县&#39;"));
    assert_null(strstr(html, "丙<三>"));
    /* 示范县, 国家级候选, 按时/迟报/未报 and ✓/✗ are in every page's headers,
     * summary lines and legend: only whole lines and rows say what was decided. */
    assert_non_null(strstr(html, "<h2>汇总：测试省</h2>\n"
                                 "<p>本年度示范县（3 个，名额合计 3）：甲一县（990101）、"
                                 "丙&lt;三&gt;&amp;&quot;县&#39;（990303）、甲二县（990102）</p>\n"
                                 "<p>国家级候选（名额 1）：甲一县（990101）</p>\n"
                                 "<p>应报 10，已报 7（完整率 70.00%），按时 6（及时率 60.00%），"
                                 "迟报 1，未报 3，合格 4</p>\n"));
    assert_non_null(strstr(html, "<tr><td class=\"name\">示范县4个</td><td>2019</td><td>4</td>"
                                 "<td>3</td><td>75.00%</td></tr>"));
    assert_non_null(strstr(
        html, "<h2>甲市（990100）</h2>\n"
              "<p>本年度名额 2；推荐（自动排名（暂定））：甲一县（990101）、甲二县（990102）</p>\n"
              "<p>应报 5，已报 4（完整率 80.00%），按时 3（及时率 60.00%），"
              "迟报 1，未报 1，合格 2</p>\n"));
    /* Items: 990103 fails 2.1 (the third of five), 990105 is missing. */
    char *row = html_row(html, "990103");
    assert_non_null(strstr(row, "<td>按时</td><td class=\"pass\">✓</td><td class=\"pass\">✓</td>"
                                "<td class=\"fail\">✗</td><td class=\"pass\">✓</td>"
                                "<td class=\"pass\">✓</td><td class=\"fail\">不合格</td>"));
    free(row);
    row = html_row(html, "990105");
    assert_int_equal(count_of(row, "<td class=\"missing\">–</td>"), 5);
    assert_int_equal(count_of(row, "✓") + count_of(row, "✗"), 0);
    free(row);
    row = html_row(html, "990104");
    assert_non_null(strstr(row, "<td>迟报</td>"));
    assert_non_null(
        strstr(row, "<td class=\"name\">迟报；核查不符（取消本年度推荐资格）；经核查</td>"));
    free(row);
    free(html);
}

/* One passing report of `unit` evaluated for `scope` on 2018-07-02. */
static engine_result_t *one_report_result(const programme_t *programme, const char *unit,
                                          const char *scope)
{
    engine_input_t *input = engine_input_new(programme, NULL);
    report_t *r = fixture_passing_report(unit, 2018, 1, "2018-07-01", "a1", 40);
    assert_int_equal(engine_input_add_report(input, r, 0), 0);
    report_destroy(&r);
    engine_result_t *result = NULL;
    char err[128];
    assert_int_equal(
        engine_evaluate(input, 2018, fixture_time("2018-07-02"), scope, &result, err, sizeof err),
        0);
    engine_input_destroy(&input);
    return result;
}

/* Printed A4 landscape, headed with the evaluating tier, items explained,
 * aggregates per criterion and the reasons of every failed item. */
static void html_is_landscape_with_legend_aggregates_reasons_and_the_tier_heading(void **state)
{
    fixture_t *f = *state;
    char *html = NULL;
    assert_int_equal(render_html(f->result, &html, NULL), 0);
    assert_non_null(strstr(html, "@page{size:A4 landscape;"));
    assert_non_null(strstr(html, "<h1>测试省 2018年度评估结果<br><small>测试方案</small></h1>"));
    assert_non_null(strstr(html, "<h2>项目说明</h2>"));
    assert_non_null(strstr(html, "<tr><td>1.2</td><td>1.2a</td><td class=\"name\">会议次数</td>"
                                 "<td>≥ 2</td></tr>"));
    assert_non_null(strstr(html, "<tr><td>2.3</td><td>2.3</td><td class=\"name\">准确率</td>"
                                 "<td>≥ 85.5%</td></tr>"));
    /* The province's aggregates, then 甲市's: Σnum/Σden, never a mean. */
    const char *province = strstr(html, "<h2>汇总：测试省</h2>");
    const char *first = strstr(html, "<h3>分项汇总（比例为 Σ分子/Σ分母）</h3>");
    assert_non_null(province);
    assert_non_null(first);
    assert_true(first > province);
    assert_int_equal(count_of(html, "<h3>分项汇总"), 1 + engine_result_prefecture_count(f->result));
    /* 甲市: the four reported counties, 990104 by its inspected 800/1000. */
    const engine_prefecture_result_t *p = engine_result_find_prefecture(f->result, "990100");
    char cell[128];
    snprintf(cell, sizeof cell, "<td>2.1</td><td>≥ 90%%</td><td>4</td><td>%llu/%llu</td>",
             (unsigned long long)p->summary.aggregates[3].sum,
             (unsigned long long)p->summary.aggregates[3].den_sum);
    assert_non_null(strstr(strstr(html, "<h2>甲市（990100）</h2>"), cell));
    assert_non_null(strstr(html, "<li>甲三县（990103）<ul>\n<li>✗ 2.1 覆盖率：89.99%"
                                 "（8999/10000），要求 ≥ 90%</li>"));
    assert_non_null(strstr(html, "<li>✗ 2.1 覆盖率：市级核查值 80.00%（800/1000），要求 ≥ 90%；"
                                 "自报 91.00%（910/1000）；核查与自报不符（取消本年度推荐资格）"
                                 "</li>"));
    free(html);

    /* Rendered at a hub: headed with the prefecture, no province section. */
    engine_result_t *result = one_report_result(f->programme, "990301", "990300");
    assert_int_equal(render_html(result, &html, NULL), 0);
    assert_non_null(strstr(html, "<h1>丙州 2018年度评估结果<br>"));
    assert_null(strstr(html, "测试省"));
    assert_non_null(strstr(html, "<h2>项目说明</h2>"));
    free(html);
    engine_result_destroy(&result);
}

static void the_same_inputs_give_the_same_bytes(void **state)
{
    fixture_t *f = *state;
    engine_result_t *again = build_result(f->programme, true);
    for (render_format_t format = RENDER_JSON; format <= RENDER_HTML; format++) {
        char *first = NULL, *second = NULL, *third = NULL;
        size_t first_len = 0, second_len = 0, third_len = 0;
        assert_int_equal(render(f->result, format, &first, &first_len), 0);
        assert_int_equal(render(f->result, format, &second, &second_len), 0);
        assert_int_equal(render(again, format, &third, &third_len), 0);
        assert_int_equal(first_len, second_len);
        assert_int_equal(first_len, third_len);
        assert_memory_equal(first, second, first_len);
        assert_memory_equal(first, third, first_len);
        free(first);
        free(second);
        free(third);
    }
    engine_result_destroy(&again);
}

static void a_county_scope_renders_without_a_province(void **state)
{
    fixture_t *f = *state;
    engine_result_t *result = one_report_result(f->programme, "990101", "990101");
    json_t *root = load_json(result);
    assert_true(json_is_null(json_object_get(root, "province")));
    assert_int_equal(json_array_size(json_object_get(root, "units")), 1);
    json_decref(root);
    char *html = NULL;
    assert_int_equal(render_html(result, &html, NULL), 0);
    assert_null(strstr(html, "汇总："));
    free(html);
    engine_result_destroy(&result);

    render_format_t format;
    assert_int_equal(render_format_parse("csv", &format), 0);
    assert_int_equal(format, RENDER_CSV);
    assert_int_equal(render_format_parse("xml", &format), SF_EINVAL);
}

/* What the stream wrote, read back. */
static char *stream_json(const engine_result_t *result, size_t *len)
{
    FILE *file = tmpfile();
    assert_non_null(file);
    assert_int_equal(render_json_to(result, file), 0);
    long size = ftell(file);
    assert_true(size > 0);
    char *text = malloc((size_t)size + 1);
    rewind(file);
    assert_int_equal(fread(text, 1, (size_t)size, file), (size_t)size);
    text[size] = '\0';
    fclose(file);
    *len = (size_t)size;
    return text;
}

/* jansson's own dump of the document: the bytes render_json was built on
 * (JSON_INDENT(2), insertion order, 15 significant digits, a final newline). */
static char *jansson_form(const char *text, size_t len)
{
    json_error_t error;
    json_t *root = json_loadb(text, len, 0, &error);
    if (!root)
        fail_msg("result JSON does not parse: %s (line %d)", error.text, error.line);
    char *dump = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
    json_decref(root);
    size_t n = strlen(dump);
    char *out = malloc(n + 2);
    memcpy(out, dump, n);
    memcpy(out + n, "\n", 2);
    free(dump);
    return out;
}

static void assert_same_bytes_every_way(const engine_result_t *result)
{
    char *text = NULL;
    size_t len = 0, streamed_len = 0;
    assert_int_equal(render_json(result, &text, &len), 0);
    char *streamed = stream_json(result, &streamed_len);
    assert_int_equal(streamed_len, len);
    assert_memory_equal(streamed, text, len);
    char *dumped = jansson_form(text, len);
    assert_string_equal(text, dumped);
    FILE *file = tmpfile();
    assert_int_equal(render_to(result, RENDER_CSV, file), 0);
    char *csv = NULL;
    size_t csv_len = 0;
    assert_int_equal(render_csv(result, &csv, &csv_len), 0);
    assert_int_equal(ftell(file), (long)csv_len);
    fclose(file);
    free(csv);
    free(dumped);
    free(streamed);
    free(text);
}

/* The fixture holds an escaped Chinese return reason, ratios with two
 * decimals (89.99 %, margin -0.01), nulls (missing units), empty lists and
 * every flag; a second result adds reasons with control characters and
 * a whole-number threshold. */
static void streamed_json_is_the_same_bytes_as_the_document(void **state)
{
    fixture_t *f = *state;
    assert_same_bytes_every_way(f->result);

    engine_input_t *input = engine_input_new(f->programme, NULL);
    report_t *r = fixture_passing_report("990101", 2018, 1, "2018-07-01", "a1", 40);
    fixture_ratio(r, "2.1", 1, 3);
    assert_int_equal(engine_input_add_report(input, r, 0), 0);
    report_destroy(&r);
    assert_int_equal(engine_input_add_return(input, "990101", 2018, "a1",
                                             "退回\t\"引号\" \\ 反斜杠\n\x01\x1f / é 𝄞",
                                             fixture_time("2018-07-20")),
                     0);
    engine_result_t *result = NULL;
    char err[128];
    assert_int_equal(
        engine_evaluate(input, 2018, fixture_time("2018-11-01"), NULL, &result, err, sizeof err),
        0);
    assert_same_bytes_every_way(result);
    char *text = NULL;
    assert_int_equal(render_json(result, &text, NULL), 0);
    assert_non_null(strstr(
        text, "\"return_reason\": \"退回\\t\\\"引号\\\" \\\\ 反斜杠\\n\\u0001\\u001F / é 𝄞\""));
    assert_non_null(strstr(text, "\"percent\": 33.33,"));
    free(text);
    engine_result_destroy(&result);
    engine_result_t *county = NULL;
    assert_int_equal(engine_evaluate(input, 2018, fixture_time("2018-07-02"), "990101", &county,
                                     err, sizeof err),
                     0);
    assert_same_bytes_every_way(county);
    engine_result_destroy(&county);
    engine_input_destroy(&input);
}

static void a_failed_write_is_reported(void **state)
{
    fixture_t *f = *state;
    FILE *full = fopen("/dev/full", "wb");
    if (!full)
        skip();
    setvbuf(full, NULL, _IONBF, 0);
    assert_int_equal(render_json_to(f->result, full), SF_EIO);
    fclose(full);
    assert_int_equal(render_json_to(NULL, stdout), SF_EINVAL);
}

/* A unit's provenance, once attached: the JSON object (reason in English),
 * the flag in every form, the HTML mark and its explanation under the
 * table; a unit without one (or missing) says null. */
static void provenance_shows_in_json_csv_and_html(void **state)
{
    fixture_t *f = *state;
    provenance_t p = {.is_signed = true, .verifies = true, .registered = true};
    snprintf(p.signer, sizeof p.signer, "990101");
    snprintf(p.fingerprint, sizeof p.fingerprint, "ABCD-EFGH-IJKL-MNOP");
    snprintf(p.received_by, sizeof p.received_by, "990100");
    provenance_times_t times = {true,
                                true,
                                true,
                                fixture_time("2018-06-28"),
                                fixture_time("2018-07-01"),
                                fixture_time("2018-06-30"),
                                0};
    p.times = times;
    p.judgement = provenance_judge(&p.times);
    assert_true(p.judgement.implausible);
    assert_int_equal(engine_result_set_provenance(f->result, "990101", &p), 0);
    /* A missing unit has no counted version to vouch for. */
    assert_int_equal(engine_result_set_provenance(f->result, "990105", &p), SF_EINVAL);
    json_t *root = load_json(f->result);
    json_t *units = json_object_get(root, "units");
    json_t *flagged = json_array_get(units, 0), *other = json_array_get(units, 1);
    assert_string_equal(json_string_value(json_object_get(flagged, "code")), "990101");
    json_t *prov = json_object_get(flagged, "provenance");
    assert_true(json_is_true(json_object_get(prov, "signed")));
    assert_true(json_is_true(json_object_get(prov, "claimed_time_implausible")));
    assert_true(json_is_true(json_object_get(prov, "time_checked")));
    assert_string_equal(json_string_value(json_object_get(prov, "signer")), "990101");
    assert_string_equal(json_string_value(json_object_get(prov, "received_by")), "990100");
    assert_true(json_is_null(json_object_get(prov, "session_since")));
    assert_non_null(strstr(json_string_value(json_object_get(prov, "reason")),
                           "an item the county made 48 h 00 min after"));
    json_t *flags = json_object_get(flagged, "flags");
    assert_string_equal(json_string_value(json_array_get(flags, json_array_size(flags) - 1)),
                        "claimed_time_implausible");
    assert_true(json_is_null(json_object_get(other, "provenance")));
    json_decref(root);
    char *csv = NULL, *html = NULL;
    assert_int_equal(render_csv_lang(f->result, LANG_EN, &csv, NULL), 0);
    assert_non_null(strstr(csv, "claimed_time_implausible"));
    free(csv);
    assert_int_equal(render_html(f->result, &html, NULL), 0);
    assert_non_null(strstr(html, "甲一县 <span class=\"mark\""));
    assert_non_null(strstr(html, "申报时间存疑（与州（市）级节点签名的回执不符）"));
    assert_non_null(
        strstr(html, "甲一县（990101）：州（市）级节点此前已收到该县在申报时间之后 48 小时 00 分"));
    free(html);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(json_carries_the_fixed_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(csv_and_html_carry_the_same_facts_as_json, setup, teardown),
        cmocka_unit_test_setup_teardown(chinese_csv_says_what_the_english_one_says, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(html_is_self_contained_printable_and_escaped, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            html_is_landscape_with_legend_aggregates_reasons_and_the_tier_heading, setup, teardown),
        cmocka_unit_test_setup_teardown(the_same_inputs_give_the_same_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(a_county_scope_renders_without_a_province, setup, teardown),
        cmocka_unit_test_setup_teardown(streamed_json_is_the_same_bytes_as_the_document, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_failed_write_is_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(provenance_shows_in_json_csv_and_html, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
