/* engine_fixture.h - a small programme and report builders shared by the
 * engine and render tests (static inline: each test uses a subset). */
#ifndef SHIFAN_ENGINE_FIXTURE_H
#define SHIFAN_ENGINE_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/stime.h"
#include "domain/programme.h"
#include "domain/report.h"

/* Test province 990000, 2018-2019. 甲市 990100 (quota 2, then 1) has five
 * counties, 乙市 990200 (quota 0) two, 丙州 990300 (quota 1) three, one of
 * them with HTML-hostile characters in its name. Criteria cover every kind
 * and operator, with a fractional threshold (2.3 >= 85.5). */
static const char fixture_programme_json[] =
    "{\"format\":1,\"id\":\"test-2018\",\"title\":\"测试方案\",\"revision\":1,"
    "\"standard_id\":\"test-std\",\"years\":{\"first\":2018,\"last\":2019},"
    "\"evaluated_level\":\"county\",\"tolerance_pp\":5,\"late_disqualifies\":false,"
    "\"calendar\":["
    "{\"stage\":\"self_assessment\",\"deadline\":\"07-31\",\"title_zh\":\"自评\"},"
    "{\"stage\":\"recommendation\",\"deadline\":\"09-30\",\"title_zh\":\"推荐\"},"
    "{\"stage\":\"materials\",\"deadline\":\"11-20\",\"title_zh\":\"材料\"},"
    "{\"stage\":\"evaluation\",\"deadline\":\"11-30\",\"title_zh\":\"评估\"}],"
    "\"targets\":["
    "{\"id\":\"demonstration\",\"kind\":\"count\",\"of\":\"demonstration\",\"value\":4,"
    "\"by\":2019,\"title_zh\":\"示范县4个\"},"
    "{\"id\":\"national\",\"kind\":\"count\",\"of\":\"national\",\"value\":2,\"by\":2019,"
    "\"title_zh\":\"国家级2个\"}],"
    "\"quotas\":{\"990100\":{\"2018\":2,\"2019\":1},\"990200\":{\"2018\":0,\"2019\":0},"
    "\"990300\":{\"2018\":1,\"2019\":1}},"
    "\"national_quota\":{\"2018\":1,\"2019\":1},"
    "\"standard\":{\"sections\":[{\"id\":\"1\",\"title_zh\":\"组织\"},"
    "{\"id\":\"2\",\"title_zh\":\"服务\"}],\"criteria\":["
    "{\"id\":\"1.1\",\"item\":\"1.1\",\"kind\":\"bool\",\"op\":\"==\",\"threshold\":true,"
    "\"title_zh\":\"纳入规划\"},"
    "{\"id\":\"1.2a\",\"item\":\"1.2\",\"kind\":\"count\",\"op\":\">=\",\"threshold\":2,"
    "\"title_zh\":\"会议次数\"},"
    "{\"id\":\"1.2b\",\"item\":\"1.2\",\"kind\":\"bool\",\"op\":\"==\",\"threshold\":true,"
    "\"title_zh\":\"实施方案\"},"
    "{\"id\":\"2.1\",\"item\":\"2.1\",\"kind\":\"ratio\",\"op\":\">=\",\"threshold\":90,"
    "\"title_zh\":\"覆盖率\"},"
    "{\"id\":\"2.2\",\"item\":\"2.2\",\"kind\":\"ratio\",\"op\":\"==\",\"threshold\":100,"
    "\"title_zh\":\"报告率\"},"
    "{\"id\":\"2.3\",\"item\":\"2.3\",\"kind\":\"ratio\",\"op\":\">=\",\"threshold\":85.5,"
    "\"title_zh\":\"准确率\"}]},"
    "\"units\":["
    "{\"code\":\"990000\",\"name\":\"测试省\",\"level\":\"province\"},"
    "{\"code\":\"990100\",\"name\":\"甲市\",\"level\":\"prefecture\",\"parent\":\"990000\"},"
    "{\"code\":\"990101\",\"name\":\"甲一县\",\"level\":\"county\",\"parent\":\"990100\"},"
    "{\"code\":\"990102\",\"name\":\"甲二县\",\"level\":\"county\",\"parent\":\"990100\"},"
    "{\"code\":\"990103\",\"name\":\"甲三县\",\"level\":\"county\",\"parent\":\"990100\"},"
    "{\"code\":\"990104\",\"name\":\"甲四县\",\"level\":\"county\",\"parent\":\"990100\"},"
    "{\"code\":\"990105\",\"name\":\"甲五县\",\"level\":\"county\",\"parent\":\"990100\"},"
    "{\"code\":\"990200\",\"name\":\"乙市\",\"level\":\"prefecture\",\"parent\":\"990000\"},"
    "{\"code\":\"990201\",\"name\":\"乙一县\",\"level\":\"county\",\"parent\":\"990200\"},"
    "{\"code\":\"990202\",\"name\":\"乙二县\",\"level\":\"county\",\"parent\":\"990200\"},"
    "{\"code\":\"990300\",\"name\":\"丙州\",\"level\":\"prefecture\",\"parent\":\"990000\"},"
    "{\"code\":\"990301\",\"name\":\"丙一县\",\"level\":\"county\",\"parent\":\"990300\"},"
    "{\"code\":\"990302\",\"name\":\"丙二县\",\"level\":\"county\",\"parent\":\"990300\"},"
    "{\"code\":\"990303\",\"name\":\"丙<三>&\\\"县'\",\"level\":\"county\","
    "\"parent\":\"990300\"}]}";

static inline programme_t *fixture_programme(void)
{
    sf_error_t error;
    programme_t *programme = programme_load_json(fixture_programme_json,
                                                 strlen(fixture_programme_json), "fixture", &error);
    if (!programme)
        fprintf(stderr, "fixture programme: %s\n", error.text);
    return programme;
}

static inline int64_t fixture_time(const char *iso)
{
    int64_t t = 0;
    if (stime_parse(iso, &t) != 0) {
        fprintf(stderr, "bad time %s\n", iso);
        abort();
    }
    return t;
}

/* A report with no values yet. */
static inline report_t *fixture_report(const char *unit, int year, uint32_t version,
                                       int64_t submitted_at, const char *report_id)
{
    report_t *report = report_new(NULL);
    if (!report)
        abort();
    snprintf(report->unit, sizeof report->unit, "%s", unit);
    snprintf(report->origin, sizeof report->origin, "%s", unit);
    snprintf(report->report_id, sizeof report->report_id, "%s", report_id);
    report->year = year;
    report->version = version;
    report->submitted_at = submitted_at;
    return report;
}

static inline report_value_t *fixture_slot(report_t *report, const char *criterion)
{
    for (size_t i = 0; i < report->value_count; i++)
        if (strcmp(report->values[i].criterion, criterion) == 0)
            return &report->values[i];
    report_value_t *values =
        realloc(report->values, (report->value_count + 1) * sizeof *report->values);
    if (!values)
        abort();
    report->values = values;
    report_value_t *slot = &values[report->value_count++];
    memset(slot, 0, sizeof *slot);
    snprintf(slot->criterion, sizeof slot->criterion, "%s", criterion);
    return slot;
}

static inline void fixture_bool(report_t *report, const char *criterion, bool flag)
{
    report_value_t *v = fixture_slot(report, criterion);
    v->kind = CRITERION_BOOL;
    v->flag = flag;
}

static inline void fixture_count(report_t *report, const char *criterion, uint64_t count)
{
    report_value_t *v = fixture_slot(report, criterion);
    v->kind = CRITERION_COUNT;
    v->count = count;
}

static inline void fixture_ratio(report_t *report, const char *criterion, uint64_t num,
                                 uint64_t den)
{
    report_value_t *v = fixture_slot(report, criterion);
    v->kind = CRITERION_RATIO;
    v->num = num;
    v->den = den;
}

static inline void fixture_remove(report_t *report, const char *criterion)
{
    for (size_t i = 0; i < report->value_count; i++) {
        if (strcmp(report->values[i].criterion, criterion) != 0)
            continue;
        free(report->values[i].comment);
        memmove(&report->values[i], &report->values[i + 1],
                (report->value_count - i - 1) * sizeof *report->values);
        report->value_count--;
        return;
    }
}

/* Fills every criterion of the fixture programme with a passing value; the
 * ratio criteria 2.1 (>= 90) and 2.3 (>= 85.5) lie `tenths` tenths of a
 * point above their thresholds (den 1000), 2.2 (== 100) is exact. The mean
 * margin is therefore 2 * tenths / 10 / 3 points. */
static inline void fixture_passing(report_t *report, unsigned tenths)
{
    fixture_bool(report, "1.1", true);
    fixture_count(report, "1.2a", 2);
    fixture_bool(report, "1.2b", true);
    fixture_ratio(report, "2.1", 900 + tenths, 1000);
    fixture_ratio(report, "2.2", 1000, 1000);
    fixture_ratio(report, "2.3", 855 + tenths, 1000);
}

/* A fully passing self-report in one call. */
static inline report_t *fixture_passing_report(const char *unit, int year, uint32_t version,
                                               const char *when, const char *report_id,
                                               unsigned tenths)
{
    report_t *report = fixture_report(unit, year, version, fixture_time(when), report_id);
    fixture_passing(report, tenths);
    return report;
}

#endif
