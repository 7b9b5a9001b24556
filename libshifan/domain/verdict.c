/* verdict.c - reasons of verdicts and the check of one report (verdict.h). */
#include "domain/verdict.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Appends to a NUL-terminated buffer, cutting at its size. */
static void append(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void append(char *buf, size_t size, const char *fmt, ...)
{
    size_t used = strnlen(buf, size);
    if (used + 1 >= size)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + used, size - used, fmt, ap);
    va_end(ap);
}

void verdict_value_text(const report_value_t *value, bool present, char *buf, size_t size)
{
    if (!size)
        return;
    buf[0] = '\0';
    if (!present || !value) {
        append(buf, size, "未填写");
        return;
    }
    switch (value->kind) {
    case CRITERION_BOOL:
        append(buf, size, "%s", value->flag ? "是" : "否");
        return;
    case CRITERION_COUNT:
        append(buf, size, "%llu", (unsigned long long)value->count);
        return;
    case CRITERION_RATIO:
        if (value->den)
            append(buf, size, "%.2f%%（%llu/%llu）",
                   100.0 * (double)value->num / (double)value->den, (unsigned long long)value->num,
                   (unsigned long long)value->den);
        else
            append(buf, size, "%llu/0（分母为 0）", (unsigned long long)value->num);
        return;
    }
}

void verdict_rule_text(const programme_criterion_t *criterion, char *buf, size_t size)
{
    if (!size)
        return;
    buf[0] = '\0';
    switch (criterion->kind) {
    case CRITERION_BOOL:
        append(buf, size, "是");
        return;
    case CRITERION_COUNT:
        append(buf, size, "≥ %g", criterion->threshold);
        return;
    case CRITERION_RATIO:
        if (criterion->op == OP_EQ)
            append(buf, size, "= %g%%（分子等于分母）", criterion->threshold);
        else
            append(buf, size, "≥ %g%%", criterion->threshold);
        return;
    }
}

static const char *inspector_zh(engine_tier_t tier)
{
    return tier == ENGINE_TIER_PROVINCE ? "省级核查值" : "市级核查值";
}

void verdict_reason(const engine_criterion_result_t *result, char *buf, size_t size)
{
    if (!size)
        return;
    char value[128], rule[128];
    verdict_value_text(&result->value, result->present, value, sizeof value);
    verdict_rule_text(result->criterion, rule, sizeof rule);
    buf[0] = '\0';
    bool inspected = result->source != ENGINE_TIER_SELF;
    if (inspected)
        append(buf, size, "%s ", inspector_zh(result->source));
    append(buf, size, "%s，要求 %s", value, rule);
    if (!result->present)
        append(buf, size, "（缺项按不合格计）");
    if (inspected) {
        verdict_value_text(&result->self_value, result->self_present, value, sizeof value);
        append(buf, size, "；自报 %s", value);
    }
    if (result->discrepancy)
        append(buf, size, "；核查与自报不符（取消本年度推荐资格）");
}

bool verdict_notable(const engine_criterion_result_t *result)
{
    return !result->passed || result->discrepancy;
}

void verdict_line(const engine_criterion_result_t *result, char *buf, size_t size)
{
    if (!size)
        return;
    char reason[VERDICT_TEXT_MAX];
    verdict_reason(result, reason, sizeof reason);
    buf[0] = '\0';
    append(buf, size, "%s %s %s：%s", result->passed ? "△" : "✗", result->criterion->id,
           result->criterion->title_zh ? result->criterion->title_zh : "", reason);
}

static verdict_check_t *check_new(const programme_t *programme, const report_t *report)
{
    verdict_check_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->criterion_count = programme_criterion_count(programme);
    self->item_count = programme_item_count(programme);
    self->criteria = calloc(self->criterion_count + 1, sizeof *self->criteria);
    self->items = calloc(self->item_count + 1, sizeof *self->items);
    if (!self->criteria || !self->items) {
        verdict_check_destroy(&self);
        return NULL;
    }
    snprintf(self->unit, sizeof self->unit, "%s", report->unit);
    int unit = programme_find_unit(programme, report->unit);
    self->unit_name = unit >= 0 ? programme_unit(programme, (size_t)unit)->name : NULL;
    self->year = report->year;
    return self;
}

/* The engine's verdict of the one unit, copied into the check. */
static void check_fill(verdict_check_t *self, const programme_t *programme, const report_t *report,
                       const engine_unit_result_t *unit)
{
    for (size_t c = 0; c < self->criterion_count; c++) {
        verdict_criterion_t *out = &self->criteria[c];
        out->criterion = unit->criteria[c].criterion;
        out->blank = report_find(report, out->criterion->id) == NULL;
        out->passed = unit->criteria[c].passed;
        verdict_reason(&unit->criteria[c], out->reason, sizeof out->reason);
        self->blank_count += out->blank;
    }
    for (size_t i = 0; i < self->item_count; i++) {
        self->items[i].item = programme_item(programme, i);
        self->items[i].passed = unit->item_passed[i];
    }
    self->items_passed = unit->items_passed;
    self->passed = unit->items_passed == self->item_count;
    self->late = unit->status == ENGINE_LATE;
    self->qualified = unit->qualified;
}

/* Evaluates a copy of the report, stamped as submitted at `submitted_at`. */
static int check_evaluate(const programme_t *programme, const report_t *report, int64_t now,
                          int64_t submitted_at, engine_result_t **result, char *err, size_t errsize)
{
    report_t *copy = report_dup(report);
    engine_input_t *input = engine_input_new(programme, NULL);
    int rc = copy && input ? 0 : SF_ENOMEM;
    if (!rc) {
        copy->submitted_at = submitted_at;
        copy->version = copy->version ? copy->version : 1;
        if (!copy->report_id[0])
            snprintf(copy->report_id, sizeof copy->report_id, "%s-%d-check", copy->unit,
                     copy->year);
        rc = engine_input_add_report(input, copy, 0);
    }
    if (!rc)
        rc = engine_evaluate(input, report->year, now, report->unit, result, err, errsize);
    else if (rc == SF_ENOMEM)
        snprintf(err, errsize, "out of memory");
    else
        snprintf(err, errsize, "unit %s, year %d: not evaluated by this programme", report->unit,
                 report->year);
    engine_input_destroy(&input);
    report_destroy(&copy);
    return rc;
}

verdict_check_t *verdict_check(const programme_t *programme, const report_t *report, int64_t now,
                               int64_t first_submitted_at, sf_error_t *error)
{
    char err[512];
    if (!programme || !report || !report->unit[0]) {
        sf_error_set(error, SF_EINVAL, "the report names no unit");
        return NULL;
    }
    int rc = report_validate(report, programme, "report", err, sizeof err);
    engine_result_t *result = NULL;
    if (!rc)
        rc = check_evaluate(programme, report, now,
                            first_submitted_at && first_submitted_at < now ? first_submitted_at
                                                                           : now,
                            &result, err, sizeof err);
    const engine_unit_result_t *unit =
        result ? engine_result_find_unit(result, report->unit) : NULL;
    if (!rc && !unit) {
        rc = SF_EINVAL;
        snprintf(err, sizeof err, "unit %s: not a unit of evaluation", report->unit);
    }
    verdict_check_t *self = rc ? NULL : check_new(programme, report);
    if (self)
        check_fill(self, programme, report, unit);
    else if (!rc)
        snprintf(err, sizeof err, "out of memory"), rc = SF_ENOMEM;
    engine_result_destroy(&result);
    if (rc)
        sf_error_set(error, rc, "%s", err);
    return self;
}

void verdict_check_destroy(verdict_check_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free((*self_p)->criteria);
    free((*self_p)->items);
    free(*self_p);
    *self_p = NULL;
}

size_t verdict_blank_list(const verdict_check_t *check, char *buf, size_t size)
{
    size_t count = 0;
    if (size)
        buf[0] = '\0';
    for (size_t c = 0; c < check->criterion_count; c++) {
        if (!check->criteria[c].blank)
            continue;
        append(buf, size, "%s%s", count ? "、" : "", check->criteria[c].criterion->id);
        count++;
    }
    return count;
}
