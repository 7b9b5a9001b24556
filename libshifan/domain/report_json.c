/* report_json.c - a report as JSON: reading (report_parse_json and
 * report_load's JSON branch) and writing (report_to_json). */
#include "domain/report.h"
#include "base/error.h"
#include "base/msg.h"
#include "base/stime.h"
#include "domain/report_internal.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void json_where(char *out, const char *parent, const char *key)
{
    if (snprintf(out, WHERE_MAX, "%s[\"%.40s\"]", parent, key) >= WHERE_MAX)
        out[WHERE_MAX - 1] = '\0';
}

static int json_uint(const parser_t *ps, json_t *value, const char *where, const char *what,
                     uint64_t *out)
{
    if (json_is_real(value))
        return report_fail(ps, where,
                           msg("%s %g is not a whole number (5.0 and 1e6 are not accepted)"), what,
                           json_real_value(value));
    if (!json_is_integer(value))
        return report_fail(ps, where, msg("%s must be a whole number"), what);
    if (json_integer_value(value) < 0)
        return report_fail(ps, where, msg("%s %lld is negative"), what,
                           (long long)json_integer_value(value));
    *out = (uint64_t)json_integer_value(value);
    return 0;
}

static int json_value(const parser_t *ps, const char *key, json_t *json, const char *where,
                      report_value_t *value)
{
    memset(value, 0, sizeof *value);
    if (!is_criterion_id(key))
        return report_fail(ps, where, msg("\"%.40s\" is not a criterion id"), key);
    strcpy(value->criterion, key);
    char inner[WHERE_MAX + 32];
    int rc;
    switch (json_typeof(json)) {
    case JSON_TRUE:
    case JSON_FALSE:
        value->kind = CRITERION_BOOL;
        value->flag = json_is_true(json);
        return 0;
    case JSON_INTEGER:
    case JSON_REAL:
        value->kind = CRITERION_COUNT;
        return json_uint(ps, json, where, msg("count"), &value->count);
    case JSON_OBJECT: {
        value->kind = CRITERION_RATIO;
        const char *member;
        json_t *part;
        json_object_foreach(json, member, part)
        {
            if (strcmp(member, "num") != 0 && strcmp(member, "den") != 0) {
                snprintf(inner, sizeof inner, "%s.%.20s", where, member);
                return report_fail(ps, inner, msg("unknown key (a ratio has \"num\" and \"den\")"));
            }
        }
        static const char *const parts[] = {"num", "den"};
        for (int p = 0; p < 2; p++) {
            snprintf(inner, sizeof inner, "%s.%s", where, parts[p]);
            part = json_object_get(json, parts[p]);
            if (!part)
                return report_fail(ps, inner, msg("missing"));
            if ((rc = json_uint(ps, part, inner, p ? msg("denominator") : msg("numerator"),
                                p ? &value->den : &value->num)))
                return rc;
        }
        snprintf(inner, sizeof inner, "%s.den", where);
        if (value->den == 0 && value->num > 0)
            return report_fail(ps, inner,
                               msg("criterion %s: denominator is 0 but numerator is %llu"), key,
                               (unsigned long long)value->num);
        snprintf(inner, sizeof inner, "%s.num", where);
        if (value->num > value->den)
            return report_fail(ps, inner,
                               msg("criterion %s: numerator %llu exceeds denominator %llu"), key,
                               (unsigned long long)value->num, (unsigned long long)value->den);
        return 0;
    }
    default:
        return report_fail(ps, where,
                           msg("expected true/false, a whole number or {\"num\": N, \"den\": D}"));
    }
}

static int json_text_member(const parser_t *ps, json_t *root, const char *key, char *out,
                            size_t size, bool (*valid)(const char *))
{
    char where[WHERE_MAX];
    snprintf(where, sizeof where, "$.%s", key);
    json_t *value = json_object_get(root, key);
    if (!value)
        return 0;
    if (!json_is_string(value))
        return report_fail(ps, where, msg("expected a string"));
    const char *text = json_string_value(value);
    if (strlen(text) >= size || !valid(text))
        return report_fail(ps, where, msg("\"%.40s\" is not %s"), text,
                           valid == is_report_id ? msg("a report id (printable ASCII, at most 63)")
                           : valid == is_standard_id ? msg("a standard id (a-z, 0-9, \"-_.\")")
                                                     : msg("a 6- or 9-digit unit code"));
    strcpy(out, text);
    return 0;
}

static int json_header(const parser_t *ps, json_t *root, report_t *report, const char *default_unit)
{
    static const char *const allowed[] = {"unit",         "year",        "values",  "comments",
                                          "origin",       "standard_id", "version", "report_id",
                                          "submitted_at", NULL};
    const char *key;
    json_t *value;
    int rc;
    json_object_foreach(root, key, value)
    {
        bool known = false;
        for (size_t i = 0; allowed[i] && !known; i++)
            known = strcmp(key, allowed[i]) == 0;
        if (!known) {
            char where[WHERE_MAX];
            snprintf(where, sizeof where, "$.%.40s", key);
            return report_fail(ps, where, msg("unknown key"));
        }
    }
    if ((rc = json_text_member(ps, root, "unit", report->unit, sizeof report->unit, is_code)) ||
        (rc = json_text_member(ps, root, "origin", report->origin, sizeof report->origin,
                               is_code_or_empty)) ||
        (rc = json_text_member(ps, root, "standard_id", report->standard_id,
                               sizeof report->standard_id, is_standard_id)) ||
        (rc = json_text_member(ps, root, "report_id", report->report_id, sizeof report->report_id,
                               is_report_id)))
        return rc;
    if (!report->unit[0]) {
        if (!default_unit)
            return report_fail(ps, "$.unit", msg("missing, and no default unit"));
        if (!is_code(default_unit))
            return report_fail(ps, "$.unit",
                               msg("missing, and the default \"%.20s\" is not a unit code"),
                               default_unit);
        strcpy(report->unit, default_unit);
    }
    value = json_object_get(root, "year");
    if (!value)
        return report_fail(ps, "$.year", msg("missing"));
    if (!json_is_integer(value) || json_integer_value(value) < 1 ||
        json_integer_value(value) > 9999)
        return report_fail(ps, "$.year", msg("expected a year (a whole number such as 2018)"));
    report->year = (int)json_integer_value(value);
    if ((value = json_object_get(root, "version"))) {
        if (!json_is_integer(value) || json_integer_value(value) < 0 ||
            json_integer_value(value) > UINT32_MAX)
            return report_fail(ps, "$.version", msg("expected a whole number 0..4294967295"));
        report->version = (uint32_t)json_integer_value(value);
    }
    if ((value = json_object_get(root, "submitted_at"))) {
        if (!json_is_string(value) || stime_parse(json_string_value(value), &report->submitted_at))
            return report_fail(ps, "$.submitted_at", msg("expected an ISO 8601 time"));
    }
    return report_check_unit_year(ps, "$.unit", report->unit, "$.year", report->year);
}

report_t *report_json_read(const parser_t *ps, const char *text, size_t len,
                           const char *default_unit)
{
    json_error_t error;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &error);
    if (!root) {
        report_fail(ps, NULL, msg("line %d, column %d: %s"), error.line, error.column, error.text);
        return NULL;
    }
    report_t *report = report_new(NULL);
    int rc = report ? 0 : SF_ENOMEM;
    char where[WHERE_MAX];
    if (!rc && !json_is_object(root))
        rc = report_fail(ps, "$", msg("expected an object"));
    if (!rc)
        rc = json_header(ps, root, report, default_unit);
    json_t *values = rc ? NULL : json_object_get(root, "values");
    if (!rc && !json_is_object(values))
        rc = report_fail(ps, "$.values", values ? msg("expected an object") : msg("missing"));
    const char *key;
    json_t *json;
    if (!rc)
        json_object_foreach(values, key, json)
        {
            report_value_t value;
            json_where(where, "$.values", key);
            if ((rc = json_value(ps, key, json, where, &value)) ||
                (rc = report_add_value(ps, report, where, &value)))
                break;
        }
    json_t *comments = rc ? NULL : json_object_get(root, "comments");
    if (comments && !json_is_object(comments))
        rc = report_fail(ps, "$.comments", msg("expected an object"));
    if (!rc && comments)
        json_object_foreach(comments, key, json)
        {
            json_where(where, "$.comments", key);
            report_value_t *value = (report_value_t *)report_find(report, key);
            if (!value) {
                rc = report_fail(ps, where,
                                 msg("criterion %.40s: a comment for a criterion without a value"),
                                 key);
                break;
            }
            if (!json_is_string(json) || json_string_length(json) > REPORT_COMMENT_MAX ||
                strlen(json_string_value(json)) != json_string_length(json)) {
                rc = report_fail(ps, where, msg("criterion %s: expected text of at most %d bytes"),
                                 key, REPORT_COMMENT_MAX);
                break;
            }
            if (!(value->comment = strdup(json_string_value(json)))) {
                rc = SF_ENOMEM;
                break;
            }
        }
    json_decref(root);
    if (rc) {
        if (rc == SF_ENOMEM)
            report_out_of_memory(ps);
        report_destroy(&report);
    }
    return report;
}

static int set_new(json_t *object, const char *key, json_t *value)
{
    return value ? json_object_set_new(object, key, value) : -1;
}

char *report_to_json(const report_t *self)
{
    json_t *root = json_object(), *values = json_object(), *comments = json_object();
    char *text = NULL;
    int rc = root && values && comments ? 0 : -1;
    rc = rc ? rc : set_new(root, "unit", json_string(self->unit));
    rc = rc ? rc : set_new(root, "year", json_integer(self->year));
    if (!rc && self->standard_id[0])
        rc = set_new(root, "standard_id", json_string(self->standard_id));
    if (!rc && self->report_id[0])
        rc = set_new(root, "report_id", json_string(self->report_id));
    if (!rc && self->version)
        rc = set_new(root, "version", json_integer(self->version));
    if (!rc && self->submitted_at) {
        char when[STIME_BUFSZ];
        rc = set_new(root, "submitted_at",
                     json_string(stime_format(self->submitted_at, when, sizeof when)));
    }
    if (!rc && self->origin[0])
        rc = set_new(root, "origin", json_string(self->origin));
    for (size_t v = 0; !rc && v < self->value_count; v++) {
        const report_value_t *value = &self->values[v];
        json_t *json = NULL;
        if (value->kind == CRITERION_BOOL)
            json = json_boolean(value->flag);
        else if (value->kind == CRITERION_COUNT)
            json = json_integer((json_int_t)value->count);
        else
            json =
                json_pack("{sIsI}", "num", (json_int_t)value->num, "den", (json_int_t)value->den);
        rc = set_new(values, value->criterion, json);
        if (!rc && value->comment)
            rc = set_new(comments, value->criterion, json_string(value->comment));
    }
    if (!rc) {
        rc = json_object_set(root, "values", values);
        if (!rc && json_object_size(comments))
            rc = json_object_set(root, "comments", comments);
    }
    /* Insertion order is kept (jansson >= 2.8), so values stay in criterion
     * order; JSON_SORT_KEYS would put "10.1" before "2.1". */
    if (!rc)
        text = json_dumps(root, JSON_INDENT(2));
    json_decref(values);
    json_decref(comments);
    json_decref(root);
    return text;
}
