/* console_check.c - a report checked and evaluated without storing it
 * (console_check.h). */
#include "app/console_check.h"
#include "base/msg.h"

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
    verdict_check_destroy(&(*self_p)->verdict);
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

int console_check(node_t *node, const char *text, size_t len, const char *source,
                  console_check_t **out)
{
    console_check_t *self = calloc(1, sizeof *self);
    if (!(*out = self))
        return SF_ENOMEM;
    const programme_t *programme = node_programme(node);
    sf_error_t error = {0, ""};
    int rc = 0;
    self->report = report_load(text, len, source, node_code(node), programme, &error);
    if (!self->report) {
        snprintf(self->error, sizeof self->error, "%s", error.text);
        rc = error.code == SF_ENOMEM
                 ? SF_ENOMEM
                 : check_fields(self, programme, text, len, source, node_code(node));
    } else {
        char err[512];
        rc = node_check(node, self->report, &self->verdict, err, sizeof err);
        if (rc == SF_EINVAL) { /* another unit, one the engine does not evaluate: as submit says */
            snprintf(self->error, sizeof self->error, "%s: %s", source, err);
            report_destroy(&self->report);
            rc = 0;
        }
    }
    if (rc)
        console_check_destroy(out);
    return rc;
}
