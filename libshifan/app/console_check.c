/* console_check.c - a report checked and evaluated without storing it
 * (console_check.h). */
#include "app/console_check.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void console_check_destroy(console_check_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free((*self_p)->fields);
    report_destroy(&(*self_p)->report);
    engine_result_destroy(&(*self_p)->result);
    free(*self_p);
    *self_p = NULL;
}

/* Reads one value (and its comment) of the document alone, in a report of
 * the same unit and year, and notes its error if it has one. */
static int check_field(console_check_t *self, const programme_t *programme, json_t *document,
                       const char *criterion, json_t *value, const char *source,
                       const char *default_unit)
{
    json_t *one = json_deep_copy(document);
    json_t *comment = json_object_get(json_object_get(document, "comments"), criterion);
    if (!one || json_object_set_new(one, "values", json_pack("{sO}", criterion, value)) ||
        json_object_set_new(one, "comments",
                            comment ? json_pack("{sO}", criterion, comment) : json_object())) {
        json_decref(one);
        return SF_ENOMEM;
    }
    char *text = json_dumps(one, JSON_COMPACT);
    json_decref(one);
    if (!text)
        return SF_ENOMEM;
    sf_error_t error = {0, ""};
    report_t *report = report_load(text, strlen(text), source, default_unit, programme, &error);
    free(text);
    if (report) {
        report_destroy(&report);
        return 0;
    }
    if (error.code == SF_ENOMEM)
        return SF_ENOMEM;
    console_field_error_t *fields =
        realloc(self->fields, (self->field_count + 1) * sizeof *self->fields);
    if (!fields)
        return SF_ENOMEM;
    self->fields = fields;
    console_field_error_t *field = &fields[self->field_count++];
    snprintf(field->criterion, sizeof field->criterion, "%s", criterion);
    snprintf(field->message, sizeof field->message, "%s", error.text);
    return 0;
}

/* Every value of the document read alone (when the document is an object
 * with an object of values; otherwise the whole text's error says it). */
static int check_fields(console_check_t *self, const programme_t *programme, const char *text,
                        size_t len, const char *source, const char *default_unit)
{
    json_t *document = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
    json_t *values = json_object_get(document, "values");
    const char *criterion;
    json_t *value;
    int rc = 0;
    if (json_is_object(document) && json_is_object(values))
        json_object_foreach(values, criterion, value)
        {
            if ((rc = check_field(self, programme, document, criterion, value, source,
                                  default_unit)))
                break;
        }
    json_decref(document);
    return rc;
}

/* The report evaluated alone, as a version submitted now. */
static int check_evaluate(console_check_t *self, const programme_t *programme, int64_t now)
{
    sf_error_t error = {0, ""};
    engine_input_t *input = engine_input_new(programme, &error);
    if (!input)
        return error.code;
    report_t *report = self->report;
    snprintf(report->report_id, sizeof report->report_id, "%s-%d-check", report->unit,
             report->year);
    report->version = 1;
    report->submitted_at = now;
    int rc = engine_input_add_report(input, report, 0);
    if (rc == 0)
        rc = engine_evaluate(input, report->year, now, report->unit, &self->result, self->error,
                             sizeof self->error);
    engine_input_destroy(&input);
    report->report_id[0] = '\0';
    report->version = 0;
    report->submitted_at = 0;
    if (rc == 0 && !(self->unit = engine_result_find_unit(self->result, report->unit)))
        rc = SF_EINVAL;
    return rc;
}

int console_check(const programme_t *programme, const char *text, size_t len, const char *source,
                  const char *default_unit, int64_t now, console_check_t **out)
{
    console_check_t *self = calloc(1, sizeof *self);
    if (!(*out = self))
        return SF_ENOMEM;
    sf_error_t error = {0, ""};
    self->report = report_load(text, len, source, default_unit, programme, &error);
    if (!self->report) {
        snprintf(self->error, sizeof self->error, "%s", error.text);
        int rc = error.code == SF_ENOMEM
                     ? SF_ENOMEM
                     : check_fields(self, programme, text, len, source, default_unit);
        if (rc)
            console_check_destroy(out);
        return rc;
    }
    self->missing_count =
        report_missing(self->report, programme, self->missing, sizeof self->missing);
    int rc = check_evaluate(self, programme, now);
    if (rc == SF_ENOMEM) {
        console_check_destroy(out);
        return rc;
    }
    if (rc) { /* a report the engine cannot place (a unit it does not evaluate) */
        if (!self->error[0])
            snprintf(self->error, sizeof self->error, "%s: unit %s: cannot be evaluated", source,
                     self->report->unit);
        report_destroy(&self->report);
        engine_result_destroy(&self->result);
        self->unit = NULL;
    }
    return 0;
}
