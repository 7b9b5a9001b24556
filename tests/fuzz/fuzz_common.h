/* fuzz_common.h - what the libFuzzer harnesses of tests/fuzz share.
 *
 * A harness fails (abort, which libFuzzer records as a crash with its input)
 * when a sanitizer fires or when one of the properties below is broken:
 * these are the guarantees the headers make about hostile input, checked
 * on every input the fuzzer tries. */
#ifndef SHIFAN_FUZZ_COMMON_H
#define SHIFAN_FUZZ_COMMON_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/slog.h"
#include "transport/codec.h"
#include "domain/report.h"

/* libFuzzer's entry points. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* scripts/fuzz.sh runs with -close_fd_mask=2: the library's log lines (a
 * refusal each) go nowhere, while libFuzzer and the sanitizers keep a copy
 * of stderr. So does fuzz_fail, through this one, taken before main. */
static int fuzz_report_fd = 2;

__attribute__((constructor)) static void fuzz_keep_stderr(void)
{
    int fd = dup(2);
    if (fd >= 0)
        fuzz_report_fd = fd;
}

__attribute__((format(printf, 1, 2), noreturn)) static void fuzz_fail(const char *fmt, ...)
{
    char text[1024];
    va_list args;
    va_start(args, fmt);
    int len = vsnprintf(text, sizeof text, fmt, args);
    va_end(args);
    if (len < 0)
        len = 0;
    if ((size_t)len >= sizeof text)
        len = (int)sizeof text - 1;
    dprintf(fuzz_report_fd, "fuzz property broken: %.*s\n", len, text);
    abort();
}

static inline void fuzz_same_report(const report_t *a, const report_t *b, const char *what)
{
    if (strcmp(a->unit, b->unit) || a->year != b->year || strcmp(a->report_id, b->report_id) ||
        strcmp(a->standard_id, b->standard_id) || strcmp(a->origin, b->origin) ||
        a->version != b->version || a->submitted_at != b->submitted_at ||
        a->value_count != b->value_count)
        fuzz_fail("%s: the header of report %s changed", what, a->report_id);
    for (size_t v = 0; v < a->value_count; v++) {
        const report_value_t *x = &a->values[v], *y = &b->values[v];
        if (strcmp(x->criterion, y->criterion) || x->kind != y->kind ||
            (x->kind == CRITERION_BOOL && x->flag != y->flag) ||
            (x->kind == CRITERION_COUNT && x->count != y->count) ||
            (x->kind == CRITERION_RATIO && (x->num != y->num || x->den != y->den)) ||
            (x->comment == NULL) != (y->comment == NULL) ||
            (x->comment && strcmp(x->comment, y->comment)))
            fuzz_fail("%s: value %zu (%s) changed", what, v, x->criterion);
    }
}

/* A report that was accepted must survive the wire unchanged: as the
 * Payload a county queues (report_to_proto, codec_payload_pack) and as the
 * hub reads it (codec_payload_unpack, report_from_proto). */
static inline void fuzz_check_wire_round_trip(const report_t *report, int body_case)
{
    struct Shifan__Report *wire = report_to_proto(report);
    if (!wire)
        fuzz_fail("report_to_proto failed");
    Shifan__Payload payload = SHIFAN__PAYLOAD__INIT;
    payload.body_case = (Shifan__Payload__BodyCase)body_case;
    if (body_case == SHIFAN__PAYLOAD__BODY_REPORT)
        payload.report = wire;
    else
        payload.inspection = wire;
    uint8_t *bytes = NULL;
    size_t len = 0;
    int rc = codec_payload_pack(&payload, &bytes, &len);
    report_proto_free(wire);
    if (rc)
        fuzz_fail("an accepted report does not pack (%d)", rc);
    Shifan__Payload *decoded = codec_payload_unpack(bytes, len);
    free(bytes);
    if (!decoded || decoded->body_case != (Shifan__Payload__BodyCase)body_case)
        fuzz_fail("an accepted report's payload does not decode");
    char err[512];
    report_t *back = report_from_proto(
        body_case == SHIFAN__PAYLOAD__BODY_REPORT ? decoded->report : decoded->inspection, err,
        sizeof err);
    codec_payload_free(decoded);
    if (!back)
        fuzz_fail("an accepted report is refused on the wire: %s", err);
    fuzz_same_report(report, back, "wire round trip");
    report_destroy(&back);
}

/* report_to_json gives what report_parse_json reads back, unchanged. */
static inline void fuzz_check_json_round_trip(const report_t *report)
{
    char *text = report_to_json(report);
    if (!text)
        fuzz_fail("report_to_json failed");
    char err[512];
    report_t *back = report_parse_json(text, strlen(text), "round trip", NULL, err, sizeof err);
    if (!back)
        fuzz_fail("report_to_json wrote what report_parse_json refuses: %s\n%s", err, text);
    free(text);
    fuzz_same_report(report, back, "JSON round trip");
    report_destroy(&back);
}

/* What node_submit and node_inspect fill in before a report travels. */
static inline void fuzz_stamp(report_t *report, const char *origin, const char *standard_id)
{
    snprintf(report->report_id, sizeof report->report_id, "%s-%d-v1-0000abcd", report->unit,
             report->year);
    snprintf(report->origin, sizeof report->origin, "%s", origin);
    snprintf(report->standard_id, sizeof report->standard_id, "%s", standard_id);
    report->version = 1;
    report->submitted_at = 1531616400; /* 2018-07-15T09:00:00+08:00 */
}

#endif
