/* verdict.h - why a unit passes or fails, in words, and the check of one
 * report before it is stored.
 *
 * Two things every place that shows a verdict needs. First, the reason of
 * one criterion's verdict as a sentence: the value against the rule and,
 * where an inspection replaced the value, the inspected value against the
 * self-reported one ("市级核查值 88.00%（880/1000），要求 ≥ 90%；自报
 * 94.00%（940/1000）；核查与自报不符"). Second, verdict_check(): one report
 * evaluated by the engine alone, as if submitted at `now`, with nothing
 * stored: per criterion, per item and overall, and the criteria the report
 * leaves blank. `county-node submit --check` prints it; `submit` refuses a
 * report with blanks unless the official confirms them (--allow-blank); the
 * web console's live check calls the same function.
 *
 * Text is Chinese (what the officials read), UTF-8, numbers formatted
 * without locale (percentages to two decimals).
 * Ownership: verdict_check returns a new object the caller destroys with
 * verdict_check_destroy(); its criterion and item pointers point into the
 * programme, which must outlive it. The *_text functions write into the
 * caller's buffer, always NUL-terminated (cut at size).
 * Threading: no global state, no clock (`now` is an argument).
 * Failure: verdict_check returns NULL with SF_EINVAL (the report does not
 * fit the programme: unknown criterion, wrong kind, unit or year; the
 * sentence in error->text) or SF_ENOMEM. The other functions cannot fail. */
#ifndef SHIFAN_VERDICT_H
#define SHIFAN_VERDICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "domain/engine.h"
#include "domain/programme.h"
#include "domain/report.h"

#define VERDICT_TEXT_MAX 512

/* A value as officials read it: "是"/"否", "12", "88.00%（880/1000）",
 * "0/0（分母为 0）", or "未填写" when not present. */
void verdict_value_text(const report_value_t *value, bool present, char *buf, size_t size);
/* The rule of a criterion: "是", "≥ 2", "≥ 90%", "= 100%（分子等于分母）". */
void verdict_rule_text(const programme_criterion_t *criterion, char *buf, size_t size);
/* The reason of one criterion's verdict (passed or not): the value counted
 * and the rule; who inspected it and the self-reported value when an
 * inspection gave it; and the discrepancy when it raised one. */
void verdict_reason(const engine_criterion_result_t *result, char *buf, size_t size);
/* True when a criterion is part of why a unit is not qualified: it failed,
 * or its inspection contradicts the self-report. */
bool verdict_notable(const engine_criterion_result_t *result);
/* One line for a notable criterion: a mark ("✗" failed, "△" passed but
 * contradicted by the inspection), the id, the title and the reason:
 * "✗ 2.1 覆盖率：88.00%（880/1000），要求 ≥ 90%". */
void verdict_line(const engine_criterion_result_t *result, char *buf, size_t size);

typedef struct {
    const programme_criterion_t *criterion;
    bool blank;  /* the report does not give it (it fails) */
    bool passed; /* the pass rule of PRODUCT.md */
    char reason[VERDICT_TEXT_MAX];
} verdict_criterion_t;

typedef struct {
    const programme_item_t *item;
    bool passed; /* all its criteria pass */
} verdict_item_t;

typedef struct {
    char unit[PROGRAMME_CODE_MAX];
    const char *unit_name; /* the programme's name of the unit */
    int year;
    verdict_criterion_t *criteria; /* programme order, criterion_count of them */
    size_t criterion_count;
    verdict_item_t *items; /* programme order */
    size_t item_count;
    size_t items_passed;
    size_t blank_count; /* criteria with .blank set */
    bool passed;        /* every item passes */
    bool late;          /* the unit-year is late: its first version after the deadline */
    bool qualified;     /* passed, and no flag that disqualifies (lateness where it does) */
} verdict_check_t;

/* Validates `report` against `programme` (report_validate: the unit must be
 * set) and evaluates it alone as submitted at `now`. first_submitted_at is
 * when the unit-year's first version was submitted (0: this would be the
 * first): lateness is decided by it, as the engine does. The report is not
 * changed. */
verdict_check_t *verdict_check(const programme_t *programme, const report_t *report, int64_t now,
                               int64_t first_submitted_at, sf_error_t *error);
/* Frees the check and sets *self_p to NULL; NULL or *NULL is a no-op. */
void verdict_check_destroy(verdict_check_t **self_p);

/* The ids of the blank criteria, joined by "、", into buf; returns how many. */
size_t verdict_blank_list(const verdict_check_t *check, char *buf, size_t size);

#endif
