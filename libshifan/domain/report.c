/* report.c - the report object (values in criterion order, copies, lookups)
 * and the checks every format shares: ids, UTF-8, the shape of a value and
 * its fit to a programme. The formats: report_json.c, report_csv.c,
 * report_wire.c; reading a person's file: report_load.c. */
#include "domain/report.h"
#include "base/error.h"
#include "base/msg.h"
#include "domain/report_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int report_fail(const parser_t *ps, const char *where, const char *fmt, ...)
{
    if (ps->code && !*ps->code)
        *ps->code = SF_EINVAL;
    if (!ps->err || ps->errsize == 0)
        return SF_EINVAL;
    int used = where ? snprintf(ps->err, ps->errsize, msg("%s: %s: "), ps->source, where)
                     : snprintf(ps->err, ps->errsize, msg("%s: "), ps->source);
    if (used < 0 || (size_t)used >= ps->errsize)
        return SF_EINVAL;
    va_list args;
    va_start(args, fmt);
    vsnprintf(ps->err + used, ps->errsize - (size_t)used, fmt, args);
    va_end(args);
    return SF_EINVAL;
}

int report_out_of_memory(const parser_t *ps)
{
    report_fail(ps, NULL, msg("out of memory"));
    if (ps->code)
        *ps->code = SF_ENOMEM;
    return SF_ENOMEM;
}

static const char *kind_name(criterion_kind_t kind)
{
    return kind == CRITERION_BOOL    ? msg("bool")
           : kind == CRITERION_COUNT ? msg("count")
                                     : msg("ratio");
}

/* Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF. */
bool report_utf8_valid(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        /* Comments and ids are mostly ASCII: eight such bytes at a time. */
        uint64_t word;
        if (len - i >= 8 && (memcpy(&word, s + i, 8), !(word & 0x8080808080808080u))) {
            i += 8;
            continue;
        }
        unsigned char c = s[i];
        size_t extra;
        unsigned min;
        unsigned code;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            extra = 1, min = 0x80, code = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            extra = 2, min = 0x800, code = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            extra = 3, min = 0x10000, code = c & 0x07;
        } else {
            return false;
        }
        if (len - i <= extra)
            return false;
        for (size_t k = 1; k <= extra; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
            code = (code << 6) | (s[i + k] & 0x3F);
        }
        if (code < min || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF))
            return false;
        i += extra + 1;
    }
    return true;
}

bool report_id_valid(const char *text)
{
    return text && *text && is_report_id(text);
}

bool report_text_valid(const char *text, size_t max)
{
    return text && text_ok(text, max);
}

report_t *report_new(sf_error_t *error)
{
    report_t *self = calloc(1, sizeof(report_t));
    if (!self)
        sf_error_set(error, SF_ENOMEM, msg("out of memory"));
    return self;
}

static void values_free(report_value_t *values, size_t count)
{
    for (size_t v = 0; v < count; v++)
        free(values[v].comment);
    free(values);
}

void report_destroy(report_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    values_free((*self_p)->values, (*self_p)->value_count);
    free(*self_p);
    *self_p = NULL;
}

static int compare_values(const void *a, const void *b)
{
    return programme_criterion_compare(((const report_value_t *)a)->criterion,
                                       ((const report_value_t *)b)->criterion);
}

const report_value_t *report_find(const report_t *self, const char *criterion)
{
    if (!self || !criterion || strlen(criterion) >= CRITERION_ID_MAX || !self->value_count)
        return NULL;
    report_value_t key;
    memset(&key, 0, sizeof key);
    strcpy(key.criterion, criterion);
    return bsearch(&key, self->values, self->value_count, sizeof key, compare_values);
}

const char *report_value_problem(const report_value_t *value)
{
    const uint64_t max = (uint64_t)INT64_MAX;
    if (!is_criterion_id(value->criterion))
        return msg("not a criterion id (a-z, 0-9, \".\", at most 15)");
    if (value->comment && !text_ok(value->comment, REPORT_COMMENT_MAX))
        return msg("comment is not UTF-8 text of at most 4096 bytes");
    switch (value->kind) {
    case CRITERION_BOOL:
        return "";
    case CRITERION_COUNT:
        return value->count > max ? msg("count is larger than 9223372036854775807") : "";
    case CRITERION_RATIO:
        if (value->num > max || value->den > max)
            return msg("numerator or denominator larger than 9223372036854775807");
        if (value->den == 0 && value->num > 0)
            return msg("denominator is 0 but numerator is not");
        if (value->num > value->den)
            return msg("numerator exceeds denominator");
        return "";
    }
    return msg("unknown kind");
}

int report_put(report_t *self, const report_value_t *value)
{
    if (!self || !value || *report_value_problem(value))
        return SF_EINVAL;
    /* Values usually come in order (from our own senders and files): then
     * the new one sorts after the last and cannot be a duplicate. */
    size_t count = self->value_count;
    bool in_order = count == 0 || programme_criterion_compare(self->values[count - 1].criterion,
                                                              value->criterion) < 0;
    if (!in_order && report_find(self, value->criterion))
        return SF_EEXIST;
    if (count >= REPORT_VALUES_MAX)
        return SF_ETOOBIG;
    report_value_t copy = *value;
    copy.comment = NULL;
    if (value->comment && !(copy.comment = strdup(value->comment)))
        return SF_ENOMEM;
    report_value_t *grown = self->values;
    /* Capacity is 8, then doubles: max(8, next power of two of the count),
     * so the array grows only when the count reaches 8, 16, 32, ... */
    if (count == 0 || (count >= 8 && (count & (count - 1)) == 0)) {
        grown = realloc(self->values, (count ? count * 2 : 8) * sizeof *grown);
        if (!grown) {
            free(copy.comment);
            return SF_ENOMEM;
        }
    }
    self->values = grown;
    size_t at = self->value_count;
    while (at > 0 && programme_criterion_compare(grown[at - 1].criterion, copy.criterion) > 0)
        at--;
    memmove(&grown[at + 1], &grown[at], (self->value_count - at) * sizeof *grown);
    grown[at] = copy;
    self->value_count++;
    return 0;
}

report_t *report_dup(const report_t *self)
{
    report_t *copy = report_new(NULL);
    if (!copy || !self)
        return copy;
    *copy = *self;
    copy->values = NULL;
    copy->value_count = 0;
    for (size_t v = 0; v < self->value_count; v++)
        if (report_put(copy, &self->values[v])) {
            report_destroy(&copy);
            break;
        }
    return copy;
}

/* Unknown criterion or wrong kind, when a programme is at hand. */
static int check_against(const parser_t *ps, const char *where, const report_value_t *value)
{
    if (!ps->programme)
        return 0;
    int index = programme_find_criterion(ps->programme, value->criterion);
    if (index < 0)
        return report_fail(ps, where, msg("criterion %s: unknown criterion (not in standard %s)"),
                           value->criterion, programme_standard_id(ps->programme));
    criterion_kind_t kind = programme_criterion(ps->programme, (size_t)index)->kind;
    if (kind != value->kind)
        return report_fail(ps, where, msg("criterion %s: is a %s criterion, got a %s value"),
                           value->criterion, kind_name(kind), kind_name(value->kind));
    return 0;
}

int report_check_unit_year(const parser_t *ps, const char *unit_where, const char *unit,
                           const char *year_where, int year)
{
    const programme_t *programme = ps->programme;
    if (!programme)
        return 0;
    if (!programme_has_year(programme, year))
        return report_fail(ps, year_where, msg("year %d is outside the programme's years %d..%d"),
                           year, programme_first_year(programme), programme_last_year(programme));
    int index = programme_find_unit(programme, unit);
    if (index < 0)
        return report_fail(ps, unit_where, msg("unit %s is not in the programme's hierarchy"),
                           unit);
    const programme_unit_t *found = programme_unit(programme, (size_t)index);
    if (!found->evaluated)
        return report_fail(ps, unit_where,
                           msg("unit %s (%s) is a %s, not a unit of evaluation (%s)"), unit,
                           found->name, programme_level_name(found->level),
                           programme_level_name(programme_evaluated_level(programme)));
    return 0;
}

int report_add_value(const parser_t *ps, report_t *report, const char *where,
                     const report_value_t *value)
{
    const char *problem = report_value_problem(value);
    if (*problem)
        return report_fail(ps, where, msg("criterion %s: %s"), value->criterion, problem);
    int rc = check_against(ps, where, value);
    if (rc)
        return rc;
    rc = report_put(report, value);
    if (rc == SF_EEXIST)
        return report_fail(ps, where, msg("criterion %s: given twice"), value->criterion);
    if (rc == SF_ETOOBIG)
        return report_fail(ps, where, msg("more than %d values"), REPORT_VALUES_MAX);
    return rc;
}

int report_validate(const report_t *self, const programme_t *programme, const char *source,
                    char *err, size_t errsize)
{
    parser_t ps = {source ? source : "report", programme, err, errsize, NULL, NULL, 0};
    char where[WHERE_MAX];
    if (self->standard_id[0] && strcmp(self->standard_id, programme_standard_id(programme)) != 0)
        return report_fail(&ps, "standard_id", msg("\"%s\" is not the programme's standard \"%s\""),
                           self->standard_id, programme_standard_id(programme));
    int rc = report_check_unit_year(&ps, "unit", self->unit, "year", self->year);
    for (size_t v = 0; !rc && v < self->value_count; v++) {
        report_where_index(where, "values", v);
        rc = check_against(&ps, where, &self->values[v]);
    }
    return rc;
}

size_t report_missing(const report_t *self, const programme_t *programme, char *buf, size_t size)
{
    size_t missing = 0, used = 0;
    if (buf && size)
        buf[0] = '\0';
    for (size_t c = 0; c < programme_criterion_count(programme); c++) {
        const char *id = programme_criterion(programme, c)->id;
        if (report_find(self, id))
            continue;
        missing++;
        if (!buf || !size)
            continue;
        int wrote = snprintf(buf + used, size - used, "%s%s", used ? "," : "", id);
        if (wrote < 0 || (size_t)wrote >= size - used) {
            buf[used] = '\0'; /* whole ids only */
            size = used;
        } else {
            used += (size_t)wrote;
        }
    }
    return missing;
}
