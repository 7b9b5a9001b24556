/* console_check.h - one report checked and evaluated without storing it:
 * the county console's live check (POST /api/county/check) and the first
 * step of its submit.
 *
 * The same rules as `county-node submit`: the text is read with
 * report_load against the programme in force (so every message is the
 * CLI's, naming the JSON path), then evaluated alone by the engine as of
 * `now` (engine.h: the pass rule per criterion, per item, and the unit's
 * verdict). Nothing is read from or written to a store. Besides the first
 * error of the whole text, each value is also read on its own, so that
 * every wrong field gets its message, not only the first.
 *
 * Ownership: *out is the caller's (console_check_destroy); its report and
 * result are owned by it. Threads: no shared state. Errors: 0 with *out
 * set (bad input is a result, not an error: out->error non-empty), or
 * SF_ENOMEM. */
#ifndef SHIFAN_CONSOLE_CHECK_H
#define SHIFAN_CONSOLE_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "domain/engine.h"
#include "domain/programme.h"
#include "domain/report.h"

typedef struct {
    char criterion[CRITERION_ID_MAX];
    char message[512];
} console_field_error_t;

typedef struct {
    char error[1024];              /* the first error of the whole text; "": valid */
    console_field_error_t *fields; /* per-criterion errors found reading each value alone */
    size_t field_count;
    report_t *report;                 /* the valid report (no id yet); NULL when error is set */
    engine_result_t *result;          /* its evaluation; NULL when error is set */
    const engine_unit_result_t *unit; /* the report's unit in result */
    char missing[2048];               /* criteria not given, comma-separated (they fail) */
    size_t missing_count;
} console_check_t;

/* Checks text (report JSON, at most REPORT_MAX_BYTES) named source in
 * messages, for default_unit (the node's code), evaluated as of now. */
int console_check(const programme_t *programme, const char *text, size_t len, const char *source,
                  const char *default_unit, int64_t now, console_check_t **out);
void console_check_destroy(console_check_t **self_p);

#endif
