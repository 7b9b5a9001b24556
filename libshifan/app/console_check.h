/* console_check.h - the county console's form read and checked without
 * storing it: the live check (POST /api/county/check) and the first step of
 * its submit and download.
 *
 * One rule with `county-node submit --check`: the text is read with
 * report_load against the node's programme (every message is the CLI's,
 * naming the JSON path), then checked by node_check (node.h: the unit must
 * be the node's own; verdict.h: the engine's verdict per criterion with its
 * reason, per item and overall, the blank criteria, lateness from the
 * unit-year's first stored version). What this layer adds is for a form:
 * when the text does not read, each value is also read on its own, so that
 * every wrong field gets its message, not only the first. Nothing is
 * written to the store.
 *
 * Ownership: *out is the caller's (console_check_destroy); its report and
 * verdict are owned by it; the verdict points into the node's programme.
 * Threads: the daemon's (it reads the node's store). Errors: 0 with *out
 * set (bad input is a result, not an error: out->error non-empty), or
 * SF_ENOMEM, or the store's error reading the stored versions. */
#ifndef SHIFAN_CONSOLE_CHECK_H
#define SHIFAN_CONSOLE_CHECK_H

#include <stddef.h>

#include "app/node.h"
#include "domain/report.h"
#include "domain/verdict.h"

typedef struct {
    char criterion[CRITERION_ID_MAX];
    char message[512];
} console_field_error_t;

typedef struct {
    char error[1024];              /* the first error of the whole text; "": valid */
    console_field_error_t *fields; /* per-criterion errors found reading each value alone */
    size_t field_count;
    report_t *report;         /* the valid report (no id yet); NULL when error is set */
    verdict_check_t *verdict; /* node_check's verdict; NULL when error is set */
} console_check_t;

/* Checks text (report JSON, at most REPORT_MAX_BYTES) named source in
 * messages, for the county node (its code is the default unit). */
int console_check(node_t *node, const char *text, size_t len, const char *source,
                  console_check_t **out);
void console_check_destroy(console_check_t **self_p);

#endif
