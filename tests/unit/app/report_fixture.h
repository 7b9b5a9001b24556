/* A full Yunnan 2018 self-assessment for the app tests (every criterion of
 * the standard, all passing but nothing special): parsed, or packed as the
 * Report payload a county stores. Include after cmocka.h. */
#ifndef SHIFAN_REPORT_FIXTURE_H
#define SHIFAN_REPORT_FIXTURE_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "transport/codec.h"
#include "domain/programme.h"
#include "domain/report.h"

/* The report of unit, as a county's parser reads it. */
static inline report_t *fixture_report(const char *unit)
{
    static const char *json =
        "{\"unit\":\"%s\",\"year\":2018,\"values\":{\"1.1\":true,\"1.2a\":true,"
        "\"1.2b\":true,\"1.2c\":2,\"1.3\":true,\"1.4a\":true,\"1.4b\":2,\"1.5\":true,"
        "\"2.1\":{\"num\":900,\"den\":1000},\"2.2\":{\"num\":850,\"den\":1000},"
        "\"2.3\":{\"num\":960,\"den\":1000},\"2.4\":{\"num\":930,\"den\":1000},"
        "\"2.5\":{\"num\":880,\"den\":1000},\"2.6\":{\"num\":870,\"den\":1000},"
        "\"2.7\":{\"num\":50,\"den\":50},\"2.8\":{\"num\":970,\"den\":1000},\"3.1\":true,"
        "\"3.2\":true,\"3.3a\":true,\"3.3b\":3,\"3.4\":true,\"3.5\":6,\"3.6\":2,\"4.1\":true,"
        "\"4.2\":true,\"4.3\":true,\"4.4\":true,\"4.5\":true,\"5.1\":true,\"5.2\":true,"
        "\"5.3\":2,\"5.4a\":1,\"5.4b\":1,\"5.4c\":12,\"5.5\":true,"
        "\"6.1\":{\"num\":95,\"den\":100},\"6.2\":{\"num\":92,\"den\":100},"
        "\"6.3\":{\"num\":97,\"den\":100}}}";
    char text[4096], err[256];
    snprintf(text, sizeof text, json, unit);
    report_t *report = report_parse_json(text, strlen(text), "test", NULL, err, sizeof err);
    if (!report)
        fail_msg("%s", err);
    return report;
}

/* The same as stored (version 1 of report_id, made by unit at
 * submitted_at, the embedded programme's standard): a packed Report
 * payload, malloc'd. */
static inline uint8_t *fixture_report_payload(const char *unit, const char *report_id,
                                              int64_t submitted_at, size_t *len)
{
    report_t *report = fixture_report(unit);
    snprintf(report->report_id, sizeof report->report_id, "%s", report_id);
    snprintf(report->origin, sizeof report->origin, "%s", unit);
    report->version = 1;
    report->submitted_at = submitted_at;
    programme_t *programme = programme_load_default(NULL);
    snprintf(report->standard_id, sizeof report->standard_id, "%s",
             programme_standard_id(programme));
    programme_destroy(&programme);
    struct Shifan__Report *wire = report_to_proto(report);
    assert_non_null(wire);
    Shifan__Payload payload = SHIFAN__PAYLOAD__INIT;
    payload.body_case = SHIFAN__PAYLOAD__BODY_REPORT;
    payload.report = wire;
    uint8_t *bytes;
    assert_int_equal(codec_payload_pack(&payload, &bytes, len), 0);
    report_proto_free(wire);
    report_destroy(&report);
    return bytes;
}

#endif
