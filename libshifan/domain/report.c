#include "domain/report.h"
#include "base/error.h"
#include "base/slog.h"
#include "base/stime.h"

#include "shifan.pb-c.h"

#include <csv.h>
#include <errno.h>
#include <iconv.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CSV_FIELDS_MAX 32
#define WHERE_MAX 160

/* "values[12]" without snprintf: this runs for every value a hub receives,
 * while the text is needed only when a value is wrong. */
static void where_index(char *out, const char *name, size_t index)
{
    char digits[24];
    size_t n = 0;
    do {
        digits[n++] = (char)('0' + index % 10);
        index /= 10;
    } while (index && n < sizeof digits);
    size_t len = strlen(name);
    memcpy(out, name, len);
    out[len++] = '[';
    while (n)
        out[len++] = digits[--n];
    out[len++] = ']';
    out[len] = '\0';
}

/* One parse: where the text comes from, the programme to check against (may
 * be NULL), and where the first error goes. */
typedef struct {
    const char *source;
    const programme_t *programme;
    char *err;
    size_t errsize;
} parser_t;

__attribute__((format(printf, 3, 4))) static int fail(const parser_t *ps, const char *where,
                                                      const char *fmt, ...)
{
    if (!ps->err || ps->errsize == 0)
        return SF_EINVAL;
    int used = snprintf(ps->err, ps->errsize, "%s: %s%s", ps->source, where ? where : "",
                        where ? ": " : "");
    if (used < 0 || (size_t)used >= ps->errsize)
        return SF_EINVAL;
    va_list args;
    va_start(args, fmt);
    vsnprintf(ps->err + used, ps->errsize - (size_t)used, fmt, args);
    va_end(args);
    return SF_EINVAL;
}

static const char *kind_name(criterion_kind_t kind)
{
    return kind == CRITERION_BOOL ? "bool" : kind == CRITERION_COUNT ? "count" : "ratio";
}

/* Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF. */
static bool utf8_valid(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
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

static bool text_ok(const char *text, size_t max)
{
    size_t len = strlen(text);
    return len <= max && utf8_valid((const unsigned char *)text, len);
}

/* Plain loops, not strspn(): glibc builds a table per strspn call, and these
 * run for every value of every report a hub receives. */
static bool all_chars(const char *text, size_t len, bool (*ok)(char))
{
    for (size_t i = 0; i < len; i++)
        if (!ok(text[i]))
            return false;
    return true;
}

static bool digit_char(char c)
{
    return c >= '0' && c <= '9';
}

static bool criterion_char(char c)
{
    return digit_char(c) || (c >= 'a' && c <= 'z') || c == '.';
}

static bool standard_char(char c)
{
    return criterion_char(c) || c == '-' || c == '_';
}

static bool is_code(const char *text)
{
    size_t len = strlen(text);
    if (len != 6 && len != 9)
        return false;
    return all_chars(text, len, digit_char);
}

/* Criterion ids as the programme format allows them: a-z, 0-9 and ".". */
static bool is_criterion_id(const char *text)
{
    size_t len = strlen(text);
    return len > 0 && len < CRITERION_ID_MAX && all_chars(text, len, criterion_char);
}

static bool is_standard_id(const char *text)
{
    size_t len = strlen(text);
    return len < PROGRAMME_ID_MAX && all_chars(text, len, standard_char);
}

static bool is_report_id(const char *text)
{
    size_t len = strlen(text);
    if (len >= REPORT_ID_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if (text[i] < 0x21 || text[i] > 0x7E || text[i] == '"' || text[i] == '\\')
            return false;
    return true;
}

bool report_id_valid(const char *text)
{
    return text && *text && is_report_id(text);
}

/* The bytes as UTF-8 in a new buffer: a UTF-8 BOM is dropped (Excel's "CSV
 * UTF-8"), and text that is not UTF-8 is taken for GB18030, a superset of the
 * GBK that Excel writes on Chinese Windows. Pure ASCII reads the same. */
static int decode_text(const parser_t *ps, const char *text, size_t len, char **out,
                       size_t *out_len)
{
    *out = NULL;
    if (!text)
        return fail(ps, NULL, "no input");
    if (len > REPORT_MAX_BYTES)
        return fail(ps, NULL, "larger than %d bytes", REPORT_MAX_BYTES);
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
        text += 3;
        len -= 3;
    }
    const char *nul = memchr(text, '\0', len);
    if (nul)
        return fail(ps, NULL, "contains a NUL byte at offset %zu: not a text file",
                    (size_t)(nul - text));
    if (utf8_valid((const unsigned char *)text, len)) {
        if (!(*out = malloc(len + 1)))
            return SF_ENOMEM;
        memcpy(*out, text, len);
        (*out)[len] = '\0';
        *out_len = len;
        return 0;
    }
    iconv_t cd = iconv_open("UTF-8", "GB18030");
    if (cd == (iconv_t)-1)
        return fail(ps, NULL, "not UTF-8, and GB18030 conversion is unavailable");
    size_t room = len * 2 + 4; /* a GB18030 byte never needs more than 2 UTF-8 bytes */
    char *buffer = malloc(room);
    if (!buffer) {
        iconv_close(cd);
        return SF_ENOMEM;
    }
    char *in = (char *)text, *outp = buffer;
    size_t in_left = len, out_left = room - 1;
    size_t done = iconv(cd, &in, &in_left, &outp, &out_left);
    if (done != (size_t)-1)
        done = iconv(cd, NULL, NULL, &outp, &out_left);
    iconv_close(cd);
    if (done == (size_t)-1) {
        free(buffer);
        return fail(ps, NULL, "neither UTF-8 nor GB18030 text (bad byte at offset %zu)",
                    (size_t)(in - text));
    }
    *outp = '\0';
    *out = buffer;
    *out_len = (size_t)(outp - buffer);
    slog_debug("%s: read as GB18030", ps->source);
    return 0;
}

report_t *report_new(void)
{
    return calloc(1, sizeof(report_t));
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

/* The shape of a value, whatever its source: "" when well formed. */
static const char *value_problem(const report_value_t *value)
{
    const uint64_t max = (uint64_t)INT64_MAX;
    if (!is_criterion_id(value->criterion))
        return "not a criterion id (a-z, 0-9, \".\", at most 15)";
    if (value->comment && !text_ok(value->comment, REPORT_COMMENT_MAX))
        return "comment is not UTF-8 text of at most 4096 bytes";
    switch (value->kind) {
    case CRITERION_BOOL:
        return "";
    case CRITERION_COUNT:
        return value->count > max ? "count is larger than 9223372036854775807" : "";
    case CRITERION_RATIO:
        if (value->num > max || value->den > max)
            return "numerator or denominator larger than 9223372036854775807";
        if (value->den == 0 && value->num > 0)
            return "denominator is 0 but numerator is not";
        if (value->num > value->den)
            return "numerator exceeds denominator";
        return "";
    }
    return "unknown kind";
}

int report_put(report_t *self, const report_value_t *value)
{
    if (!self || !value || *value_problem(value))
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
    report_t *copy = report_new();
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
        return fail(ps, where, "criterion %s: unknown criterion (not in standard %s)",
                    value->criterion, programme_standard_id(ps->programme));
    criterion_kind_t kind = programme_criterion(ps->programme, (size_t)index)->kind;
    if (kind != value->kind)
        return fail(ps, where, "criterion %s: is a %s criterion, got a %s value", value->criterion,
                    kind_name(kind), kind_name(value->kind));
    return 0;
}

static int check_unit_year(const parser_t *ps, const char *unit_where, const char *unit,
                           const char *year_where, int year)
{
    const programme_t *programme = ps->programme;
    if (!programme)
        return 0;
    if (!programme_has_year(programme, year))
        return fail(ps, year_where, "year %d is outside the programme's years %d..%d", year,
                    programme_first_year(programme), programme_last_year(programme));
    int index = programme_find_unit(programme, unit);
    if (index < 0)
        return fail(ps, unit_where, "unit %s is not in the programme's hierarchy", unit);
    const programme_unit_t *found = programme_unit(programme, (size_t)index);
    if (!found->evaluated)
        return fail(ps, unit_where, "unit %s (%s) is a %s, not a unit of evaluation (%s)", unit,
                    found->name, programme_level_name(found->level),
                    programme_level_name(programme_evaluated_level(programme)));
    return 0;
}

/* Insert into a report being parsed; duplicates are caught by the callers,
 * which know where the first one was. */
static int add_value(const parser_t *ps, report_t *report, const char *where,
                     const report_value_t *value)
{
    const char *problem = value_problem(value);
    if (*problem)
        return fail(ps, where, "criterion %s: %s", value->criterion, problem);
    int rc = check_against(ps, where, value);
    if (rc)
        return rc;
    rc = report_put(report, value);
    if (rc == SF_EEXIST)
        return fail(ps, where, "criterion %s: given twice", value->criterion);
    if (rc == SF_ETOOBIG)
        return fail(ps, where, "more than %d values", REPORT_VALUES_MAX);
    return rc;
}

/* ------------------------------------------------------------------ JSON */

static void json_where(char *out, const char *parent, const char *key)
{
    if (snprintf(out, WHERE_MAX, "%s[\"%.40s\"]", parent, key) >= WHERE_MAX)
        out[WHERE_MAX - 1] = '\0';
}

static int json_uint(const parser_t *ps, json_t *value, const char *where, const char *what,
                     uint64_t *out)
{
    if (json_is_real(value))
        return fail(ps, where, "%s %g is not a whole number (5.0 and 1e6 are not accepted)", what,
                    json_real_value(value));
    if (!json_is_integer(value))
        return fail(ps, where, "%s must be a whole number", what);
    if (json_integer_value(value) < 0)
        return fail(ps, where, "%s %lld is negative", what, (long long)json_integer_value(value));
    *out = (uint64_t)json_integer_value(value);
    return 0;
}

static int json_value(const parser_t *ps, const char *key, json_t *json, const char *where,
                      report_value_t *value)
{
    memset(value, 0, sizeof *value);
    if (!is_criterion_id(key))
        return fail(ps, where, "\"%.40s\" is not a criterion id", key);
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
        return json_uint(ps, json, where, "count", &value->count);
    case JSON_OBJECT: {
        value->kind = CRITERION_RATIO;
        const char *member;
        json_t *part;
        json_object_foreach(json, member, part)
        {
            if (strcmp(member, "num") != 0 && strcmp(member, "den") != 0) {
                snprintf(inner, sizeof inner, "%s.%.20s", where, member);
                return fail(ps, inner, "unknown key (a ratio has \"num\" and \"den\")");
            }
        }
        static const char *const parts[] = {"num", "den"};
        for (int p = 0; p < 2; p++) {
            snprintf(inner, sizeof inner, "%s.%s", where, parts[p]);
            part = json_object_get(json, parts[p]);
            if (!part)
                return fail(ps, inner, "missing");
            if ((rc = json_uint(ps, part, inner, p ? "denominator" : "numerator",
                                p ? &value->den : &value->num)))
                return rc;
        }
        snprintf(inner, sizeof inner, "%s.den", where);
        if (value->den == 0 && value->num > 0)
            return fail(ps, inner, "criterion %s: denominator is 0 but numerator is %llu", key,
                        (unsigned long long)value->num);
        snprintf(inner, sizeof inner, "%s.num", where);
        if (value->num > value->den)
            return fail(ps, inner, "criterion %s: numerator %llu exceeds denominator %llu", key,
                        (unsigned long long)value->num, (unsigned long long)value->den);
        return 0;
    }
    default:
        return fail(ps, where, "expected true/false, a whole number or {\"num\": N, \"den\": D}");
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
        return fail(ps, where, "expected a string");
    const char *text = json_string_value(value);
    if (strlen(text) >= size || !valid(text))
        return fail(ps, where, "\"%.40s\" is not %s", text,
                    valid == is_report_id     ? "a report id (printable ASCII, at most 63)"
                    : valid == is_standard_id ? "a standard id (a-z, 0-9, \"-_.\")"
                                              : "a 6- or 9-digit unit code");
    strcpy(out, text);
    return 0;
}

static bool is_code_or_empty(const char *text)
{
    return !*text || is_code(text);
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
            return fail(ps, where, "unknown key");
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
            return fail(ps, "$.unit", "missing, and no default unit");
        if (!is_code(default_unit))
            return fail(ps, "$.unit", "missing, and the default \"%.20s\" is not a unit code",
                        default_unit);
        strcpy(report->unit, default_unit);
    }
    value = json_object_get(root, "year");
    if (!value)
        return fail(ps, "$.year", "missing");
    if (!json_is_integer(value) || json_integer_value(value) < 1 ||
        json_integer_value(value) > 9999)
        return fail(ps, "$.year", "expected a year (a whole number such as 2018)");
    report->year = (int)json_integer_value(value);
    if ((value = json_object_get(root, "version"))) {
        if (!json_is_integer(value) || json_integer_value(value) < 0 ||
            json_integer_value(value) > UINT32_MAX)
            return fail(ps, "$.version", "expected a whole number 0..4294967295");
        report->version = (uint32_t)json_integer_value(value);
    }
    if ((value = json_object_get(root, "submitted_at"))) {
        if (!json_is_string(value) || stime_parse(json_string_value(value), &report->submitted_at))
            return fail(ps, "$.submitted_at", "expected an ISO 8601 time");
    }
    return check_unit_year(ps, "$.unit", report->unit, "$.year", report->year);
}

static report_t *parse_json(const parser_t *ps, const char *text, size_t len,
                            const char *default_unit)
{
    json_error_t error;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &error);
    if (!root) {
        fail(ps, NULL, "line %d, column %d: %s", error.line, error.column, error.text);
        return NULL;
    }
    report_t *report = report_new();
    int rc = report ? 0 : SF_ENOMEM;
    char where[WHERE_MAX];
    if (!rc && !json_is_object(root))
        rc = fail(ps, "$", "expected an object");
    if (!rc)
        rc = json_header(ps, root, report, default_unit);
    json_t *values = rc ? NULL : json_object_get(root, "values");
    if (!rc && !json_is_object(values))
        rc = fail(ps, "$.values", values ? "expected an object" : "missing");
    const char *key;
    json_t *json;
    if (!rc)
        json_object_foreach(values, key, json)
        {
            report_value_t value;
            json_where(where, "$.values", key);
            if ((rc = json_value(ps, key, json, where, &value)) ||
                (rc = add_value(ps, report, where, &value)))
                break;
        }
    json_t *comments = rc ? NULL : json_object_get(root, "comments");
    if (comments && !json_is_object(comments))
        rc = fail(ps, "$.comments", "expected an object");
    if (!rc && comments)
        json_object_foreach(comments, key, json)
        {
            json_where(where, "$.comments", key);
            report_value_t *value = (report_value_t *)report_find(report, key);
            if (!value) {
                rc = fail(ps, where, "criterion %.40s: a comment for a criterion without a value",
                          key);
                break;
            }
            if (!json_is_string(json) || json_string_length(json) > REPORT_COMMENT_MAX ||
                strlen(json_string_value(json)) != json_string_length(json)) {
                rc = fail(ps, where, "criterion %s: expected text of at most %d bytes", key,
                          REPORT_COMMENT_MAX);
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
            fail(ps, NULL, "out of memory");
        report_destroy(&report);
    }
    return report;
}

/* ------------------------------------------------------------------- CSV */

typedef enum {
    COL_UNIT,
    COL_YEAR,
    COL_CRITERION,
    COL_VALUE,
    COL_NUM,
    COL_DEN,
    COL_COMMENT,
    COL_TITLE,
    COL_COUNT
} column_t;

/* Header names, English and Chinese, so that a sheet made by either reads. */
static const char *const column_names[COL_COUNT][3] = {
    {"unit", "单位", "单位代码"}, {"year", "年度", "年份"},      {"criterion", "指标", "指标编号"},
    {"value", "值", "数值"},      {"numerator", "分子", "num"},  {"denominator", "分母", "den"},
    {"comment", "说明", "备注"},  {"title", "指标名称", "名称"},
};

typedef struct {
    const parser_t *ps;
    const char *default_unit;
    report_t *report;
    int rc;       /* first error; later rows are ignored */
    int line;     /* line being fed to libcsv */
    int row_line; /* line where the current row started */
    int data_rows;
    int first_line[REPORT_VALUES_MAX]; /* per value in insertion order, for duplicates */
    char *fields[CSV_FIELDS_MAX];
    size_t field_count;
    bool too_many_fields;
    bool header_done;
    int column[COL_COUNT]; /* field index, -1 if absent */
    size_t header_fields;
    bool have_unit, have_year;
    int unit_line, year_line;
} csv_state_t;

static void csv_clear_row(csv_state_t *st)
{
    for (size_t f = 0; f < st->field_count; f++)
        free(st->fields[f]);
    st->field_count = 0;
    st->too_many_fields = false;
}

static void on_field(void *data, size_t len, void *ctx)
{
    csv_state_t *st = ctx;
    if (st->field_count == 0 && !st->too_many_fields)
        st->row_line = st->line;
    if (st->field_count >= CSV_FIELDS_MAX) {
        st->too_many_fields = true;
        return;
    }
    char *field = malloc(len + 1);
    if (!field) {
        st->rc = st->rc ? st->rc : SF_ENOMEM;
        return;
    }
    memcpy(field, data, len);
    field[len] = '\0';
    st->fields[st->field_count++] = field;
}

/* Spaces around a quoted field are the spreadsheet's, not the value's. */
static char *trim(char *text)
{
    while (*text == ' ' || *text == '\t')
        text++;
    size_t len = strlen(text);
    while (len && (text[len - 1] == ' ' || text[len - 1] == '\t' || text[len - 1] == '\r' ||
                   text[len - 1] == '\n'))
        text[--len] = '\0';
    return text;
}

static bool ascii_equal_nocase(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char ca = *a >= 'A' && *a <= 'Z' ? (char)(*a + 32) : *a;
        char cb = *b >= 'A' && *b <= 'Z' ? (char)(*b + 32) : *b;
        if (ca != cb)
            return false;
    }
    return *a == *b;
}

static int csv_header(csv_state_t *st, char where[WHERE_MAX])
{
    for (int c = 0; c < COL_COUNT; c++)
        st->column[c] = -1;
    for (size_t f = 0; f < st->field_count; f++) {
        const char *name = trim(st->fields[f]);
        int found = -1;
        for (int c = 0; c < COL_COUNT && found < 0; c++)
            for (int n = 0; n < 3 && found < 0; n++)
                if (ascii_equal_nocase(name, column_names[c][n]))
                    found = c;
        if (found < 0)
            return fail(st->ps, where,
                        "unknown column \"%.40s\" (expected unit, year, criterion, value, "
                        "numerator, denominator, comment, title)",
                        name);
        if (st->column[found] >= 0)
            return fail(st->ps, where, "column \"%s\" given twice", column_names[found][0]);
        st->column[found] = (int)f;
    }
    if (st->column[COL_CRITERION] < 0 || st->column[COL_YEAR] < 0 || st->column[COL_VALUE] < 0)
        return fail(st->ps, where, "the header needs the columns year, criterion and value");
    if ((st->column[COL_NUM] < 0) != (st->column[COL_DEN] < 0))
        return fail(st->ps, where, "numerator and denominator columns go together");
    st->header_fields = st->field_count;
    st->header_done = true;
    return 0;
}

static const char *cell(csv_state_t *st, column_t column)
{
    return st->column[column] < 0 ? "" : trim(st->fields[st->column[column]]);
}

/* A whole number 0..INT64_MAX, digits only. */
static int parse_uint(const char *text, uint64_t *out)
{
    size_t len = strlen(text);
    if (len == 0 || strspn(text, "0123456789") != len)
        return SF_EINVAL;
    uint64_t number = 0;
    for (size_t i = 0; i < len; i++) {
        if (number > ((uint64_t)INT64_MAX - (uint64_t)(text[i] - '0')) / 10)
            return SF_ETOOBIG;
        number = number * 10 + (uint64_t)(text[i] - '0');
    }
    *out = number;
    return 0;
}

static int csv_number(csv_state_t *st, const char *where, const char *criterion, const char *what,
                      const char *text, uint64_t *out)
{
    int rc = parse_uint(text, out);
    if (rc == SF_ETOOBIG)
        return fail(st->ps, where, "criterion %s: %s %s is larger than 9223372036854775807",
                    criterion, what, text);
    if (rc && text[0] == '-')
        return fail(st->ps, where, "criterion %s: %s %s is negative", criterion, what, text);
    if (rc)
        return fail(st->ps, where, "criterion %s: %s \"%.40s\" is not a whole number", criterion,
                    what, text);
    return 0;
}

static int csv_bool_word(const char *text)
{
    static const char *const yes[] = {"true", "yes", "是", "1"};
    static const char *const no[] = {"false", "no", "否", "0"};
    for (int i = 0; i < 4; i++) {
        if (ascii_equal_nocase(text, yes[i]))
            return 1;
        if (ascii_equal_nocase(text, no[i]))
            return 0;
    }
    return -1;
}

static int csv_value(csv_state_t *st, const char *where, report_value_t *value)
{
    const char *text = cell(st, COL_VALUE), *num = cell(st, COL_NUM), *den = cell(st, COL_DEN);
    const char *id = value->criterion;
    int rc;
    int expected = -1; /* the criterion's kind when a programme is at hand */
    if (st->ps->programme) {
        int index = programme_find_criterion(st->ps->programme, id);
        if (index < 0)
            return fail(st->ps, where, "criterion %s: unknown criterion (not in standard %s)", id,
                        programme_standard_id(st->ps->programme));
        expected = (int)programme_criterion(st->ps->programme, (size_t)index)->kind;
    }
    if (*num || *den) {
        if (*text)
            return fail(st->ps, where,
                        "criterion %s: give a ratio as numerator and denominator, value empty", id);
        if (!*num || !*den)
            return fail(st->ps, where,
                        "criterion %s: a ratio needs both numerator and "
                        "denominator",
                        id);
        value->kind = CRITERION_RATIO;
        if ((rc = csv_number(st, where, id, "numerator", num, &value->num)) ||
            (rc = csv_number(st, where, id, "denominator", den, &value->den)))
            return rc;
        if (value->den == 0 && value->num > 0)
            return fail(st->ps, where, "criterion %s: denominator is 0 but numerator is %llu", id,
                        (unsigned long long)value->num);
        if (value->num > value->den)
            return fail(st->ps, where, "criterion %s: numerator %llu exceeds denominator %llu", id,
                        (unsigned long long)value->num, (unsigned long long)value->den);
        return 0;
    }
    if (expected == CRITERION_RATIO)
        return fail(st->ps, where,
                    "criterion %s: is a ratio criterion: fill numerator and denominator", id);
    int word = csv_bool_word(text);
    bool digits = strspn(text, "0123456789") == strlen(text);
    if (expected == CRITERION_BOOL) { /* here "1" and "0" are yes and no */
        if (word < 0)
            return fail(st->ps, where,
                        "criterion %s: is a bool criterion: write true/false, yes/no, 是/否 or "
                        "1/0, got \"%.40s\"",
                        id, text);
        value->kind = CRITERION_BOOL;
        value->flag = word == 1;
        return 0;
    }
    if (word >= 0 && !digits) {
        if (expected == CRITERION_COUNT)
            return fail(st->ps, where,
                        "criterion %s: is a count criterion: write a whole number, got \"%.40s\"",
                        id, text);
        value->kind = CRITERION_BOOL; /* without a programme "1" and "0" stay counts */
        value->flag = word == 1;
        return 0;
    }
    if (strchr(text, '%') || strchr(text, '/'))
        return fail(st->ps, where,
                    "criterion %s: write a ratio as numerator and denominator, not \"%.40s\"", id,
                    text);
    value->kind = CRITERION_COUNT;
    return csv_number(st, where, id, "count", text, &value->count);
}

static int csv_row(csv_state_t *st)
{
    char where[WHERE_MAX];
    snprintf(where, sizeof where, "line %d", st->row_line);
    if (st->too_many_fields)
        return fail(st->ps, where, "more than %d fields", CSV_FIELDS_MAX);
    if (!st->header_done)
        return csv_header(st, where);
    bool blank = true;
    for (size_t f = 0; f < st->field_count && blank; f++)
        blank = !*trim(st->fields[f]);
    if (blank) /* spreadsheets export empty rows as ",,,," */
        return 0;
    if (st->field_count != st->header_fields)
        return fail(st->ps, where, "%zu fields, the header has %zu", st->field_count,
                    st->header_fields);
    report_t *report = st->report;
    const char *unit = cell(st, COL_UNIT), *year = cell(st, COL_YEAR);
    const char *criterion = cell(st, COL_CRITERION);
    st->data_rows++;
    /* A blank unit or year repeats the one above: fill-down is optional. */
    if (*unit) {
        if (!is_code(unit))
            return fail(st->ps, where, "unit \"%.20s\" is not a 6- or 9-digit code", unit);
        if (st->have_unit && strcmp(unit, report->unit) != 0)
            return fail(st->ps, where, "unit %s differs from %s on line %d", unit, report->unit,
                        st->unit_line);
        if (!st->have_unit) {
            strcpy(report->unit, unit);
            st->have_unit = true;
            st->unit_line = st->row_line;
        }
    }
    if (*year) {
        uint64_t number;
        if (parse_uint(year, &number) || number < 1 || number > 9999)
            return fail(st->ps, where, "year \"%.20s\" is not a year", year);
        if (st->have_year && (int)number != report->year)
            return fail(st->ps, where, "year %d differs from %d on line %d", (int)number,
                        report->year, st->year_line);
        if (!st->have_year) {
            report->year = (int)number;
            st->have_year = true;
            st->year_line = st->row_line;
        }
    } else if (!st->have_year) {
        return fail(st->ps, where, "no year");
    }
    if (!*criterion)
        return fail(st->ps, where, "no criterion");
    if (!is_criterion_id(criterion))
        return fail(st->ps, where, "\"%.40s\" is not a criterion id", criterion);
    const report_value_t *earlier = report_find(report, criterion);
    if (earlier)
        return fail(st->ps, where, "criterion %s: given again (first on line %d)", criterion,
                    st->first_line[earlier - report->values]);

    const char *comment = cell(st, COL_COMMENT);
    if (!*cell(st, COL_VALUE) && !*cell(st, COL_NUM) && !*cell(st, COL_DEN)) {
        if (*comment)
            return fail(st->ps, where, "criterion %s: a comment without a value", criterion);
        return 0; /* a template row left empty: the criterion is missing */
    }
    report_value_t value;
    memset(&value, 0, sizeof value);
    strcpy(value.criterion, criterion);
    int rc = csv_value(st, where, &value);
    if (rc)
        return rc;
    if (*comment)
        value.comment = (char *)comment;
    if ((rc = add_value(st->ps, report, where, &value)))
        return rc;
    /* first_line follows the values' sorted order: shift like report_put did. */
    size_t at = (size_t)(report_find(report, criterion) - report->values);
    memmove(&st->first_line[at + 1], &st->first_line[at],
            (report->value_count - 1 - at) * sizeof st->first_line[0]);
    st->first_line[at] = st->row_line;
    return 0;
}

static void on_row(int terminator, void *ctx)
{
    csv_state_t *st = ctx;
    (void)terminator;
    if (!st->rc)
        st->rc = csv_row(st);
    csv_clear_row(st);
}

static report_t *parse_csv(const parser_t *ps, const char *text, size_t len,
                           const char *default_unit)
{
    csv_state_t *st = calloc(1, sizeof *st);
    struct csv_parser parser;
    if (!st || csv_init(&parser, CSV_STRICT | CSV_STRICT_FINI) != 0) {
        free(st);
        fail(ps, NULL, "out of memory");
        return NULL;
    }
    st->ps = ps;
    st->default_unit = default_unit;
    st->report = report_new();
    st->rc = st->report ? 0 : SF_ENOMEM;
    st->line = 1;
    /* Fed a line at a time so that each row knows its line number. */
    size_t at = 0;
    while (at < len && !st->rc) {
        const char *newline = memchr(text + at, '\n', len - at);
        size_t chunk = newline ? (size_t)(newline - (text + at)) + 1 : len - at;
        if (csv_parse(&parser, text + at, chunk, on_field, on_row, st) != chunk) {
            st->rc = fail(ps, NULL, "line %d: %s", st->line, csv_strerror(csv_error(&parser)));
            break;
        }
        at += chunk;
        if (newline)
            st->line++;
    }
    /* csv_fini delivers a last row without a newline; after a strict error
     * it delivers the partial row too, which st->rc makes us ignore. */
    if (csv_fini(&parser, on_field, on_row, st) != 0 && !st->rc)
        st->rc = fail(ps, NULL, "line %d: unterminated quoted field",
                      st->field_count ? st->row_line : st->line);
    csv_clear_row(st);
    csv_free(&parser);

    report_t *report = st->report;
    int rc = st->rc;
    if (!rc && !st->header_done)
        rc = fail(ps, NULL, "empty: expected a header row (year,criterion,value,...)");
    if (!rc && !st->have_year)
        rc = fail(ps, NULL, "no data rows");
    if (!rc && !st->have_unit) {
        if (!default_unit || !is_code(default_unit))
            rc = fail(ps, NULL, "no unit given, and no default unit");
        else
            strcpy(report->unit, default_unit);
    }
    if (!rc) {
        char unit_where[WHERE_MAX], year_where[WHERE_MAX];
        snprintf(unit_where, sizeof unit_where, "line %d", st->have_unit ? st->unit_line : 1);
        snprintf(year_where, sizeof year_where, "line %d", st->year_line);
        rc = check_unit_year(ps, unit_where, report->unit, year_where, report->year);
    }
    if (rc == SF_ENOMEM)
        fail(ps, NULL, "out of memory");
    if (rc)
        report_destroy(&report);
    free(st);
    return report;
}

/* ------------------------------------------------------------ entry points */

typedef enum { AS_JSON, AS_CSV, AS_GUESS } input_kind_t;

static report_t *parse_any(const parser_t *ps, const char *text, size_t len,
                           const char *default_unit, input_kind_t kind)
{
    char *utf8;
    size_t utf8_len = 0;
    if (ps->err && ps->errsize)
        ps->err[0] = '\0';
    int rc = decode_text(ps, text, len, &utf8, &utf8_len);
    if (rc) {
        if (rc == SF_ENOMEM)
            fail(ps, NULL, "out of memory");
        return NULL;
    }
    if (kind == AS_GUESS) {
        size_t skip = strspn(utf8, " \t\r\n");
        kind = utf8[skip] == '{' ? AS_JSON : AS_CSV;
    }
    report_t *report = kind == AS_JSON ? parse_json(ps, utf8, utf8_len, default_unit)
                                       : parse_csv(ps, utf8, utf8_len, default_unit);
    free(utf8);
    return report;
}

report_t *report_parse_json(const char *text, size_t len, const char *source,
                            const char *default_unit, char *err, size_t errsize)
{
    parser_t ps = {source ? source : "report", NULL, err, errsize};
    return parse_any(&ps, text, len, default_unit, AS_JSON);
}

report_t *report_parse_csv(const char *text, size_t len, const char *source,
                           const char *default_unit, char *err, size_t errsize)
{
    parser_t ps = {source ? source : "report", NULL, err, errsize};
    return parse_any(&ps, text, len, default_unit, AS_CSV);
}

report_t *report_parse(const char *text, size_t len, const char *source, const char *default_unit,
                       char *err, size_t errsize)
{
    parser_t ps = {source ? source : "report", NULL, err, errsize};
    return parse_any(&ps, text, len, default_unit, AS_GUESS);
}

report_t *report_load(const char *text, size_t len, const char *source, const char *default_unit,
                      const programme_t *programme, char *err, size_t errsize)
{
    parser_t ps = {source ? source : "report", programme, err, errsize};
    report_t *report = parse_any(&ps, text, len, default_unit, AS_GUESS);
    if (report && programme && report_validate(report, programme, ps.source, err, errsize))
        report_destroy(&report);
    return report;
}

int report_validate(const report_t *self, const programme_t *programme, const char *source,
                    char *err, size_t errsize)
{
    parser_t ps = {source ? source : "report", programme, err, errsize};
    char where[WHERE_MAX];
    if (self->standard_id[0] && strcmp(self->standard_id, programme_standard_id(programme)) != 0)
        return fail(&ps, "standard_id", "\"%s\" is not the programme's standard \"%s\"",
                    self->standard_id, programme_standard_id(programme));
    int rc = check_unit_year(&ps, "unit", self->unit, "year", self->year);
    for (size_t v = 0; !rc && v < self->value_count; v++) {
        where_index(where, "values", v);
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

/* ----------------------------------------------------------------- proto */

/* One allocation per array, kept beside the message so that
 * report_proto_free knows them; the message is the first member. */
typedef struct {
    Shifan__Report msg;
    Shifan__Value *values;
    Shifan__Value **value_ptrs;
    Shifan__Ratio *ratios;
    Shifan__Comment *comments;
    Shifan__Comment **comment_ptrs;
} proto_bundle_t;

void report_proto_free(struct Shifan__Report *msg)
{
    proto_bundle_t *bundle = (proto_bundle_t *)msg;
    if (!bundle)
        return;
    free(bundle->values);
    free(bundle->value_ptrs);
    free(bundle->ratios);
    free(bundle->comments);
    free(bundle->comment_ptrs);
    free(bundle);
}

struct Shifan__Report *report_to_proto(const report_t *self)
{
    proto_bundle_t *bundle = calloc(1, sizeof *bundle);
    if (!bundle)
        return NULL;
    size_t n = self->value_count, comments = 0;
    for (size_t v = 0; v < n; v++)
        comments += self->values[v].comment != NULL;
    bundle->values = calloc(n + 1, sizeof *bundle->values);
    bundle->value_ptrs = calloc(n + 1, sizeof *bundle->value_ptrs);
    bundle->ratios = calloc(n + 1, sizeof *bundle->ratios);
    bundle->comments = calloc(comments + 1, sizeof *bundle->comments);
    bundle->comment_ptrs = calloc(comments + 1, sizeof *bundle->comment_ptrs);
    if (!bundle->values || !bundle->value_ptrs || !bundle->ratios || !bundle->comments ||
        !bundle->comment_ptrs) {
        report_proto_free(&bundle->msg);
        return NULL;
    }
    Shifan__Report *msg = &bundle->msg;
    shifan__report__init(msg);
    /* protobuf-c's fields are char *: the strings are borrowed, never written. */
    msg->report_id = (char *)self->report_id;
    msg->unit = (char *)self->unit;
    msg->year = (uint32_t)self->year;
    msg->standard_id = (char *)self->standard_id;
    msg->version = self->version;
    msg->has_series = self->series != 0;
    msg->series = self->series;
    msg->submitted_at = self->submitted_at;
    msg->origin = (char *)self->origin;
    msg->n_values = n;
    msg->values = bundle->value_ptrs;
    msg->n_comments = comments;
    msg->comments = bundle->comment_ptrs;
    size_t c = 0;
    for (size_t v = 0; v < n; v++) {
        const report_value_t *value = &self->values[v];
        Shifan__Value *out = &bundle->values[v];
        shifan__value__init(out);
        out->criterion = (char *)value->criterion;
        switch (value->kind) {
        case CRITERION_BOOL:
            out->value_case = SHIFAN__VALUE__VALUE_FLAG;
            out->flag = value->flag;
            break;
        case CRITERION_COUNT:
            out->value_case = SHIFAN__VALUE__VALUE_COUNT;
            out->count = value->count;
            break;
        case CRITERION_RATIO:
            shifan__ratio__init(&bundle->ratios[v]);
            bundle->ratios[v].num = value->num;
            bundle->ratios[v].den = value->den;
            out->value_case = SHIFAN__VALUE__VALUE_RATIO;
            out->ratio = &bundle->ratios[v];
            break;
        }
        bundle->value_ptrs[v] = out;
        if (value->comment) {
            Shifan__Comment *comment = &bundle->comments[c];
            shifan__comment__init(comment);
            comment->criterion = (char *)value->criterion;
            comment->text = value->comment;
            bundle->comment_ptrs[c++] = comment;
        }
    }
    return msg;
}

static int proto_value(const parser_t *ps, const Shifan__Value *in, size_t index,
                       report_value_t *value)
{
    char where[WHERE_MAX];
    where_index(where, "values", index);
    memset(value, 0, sizeof *value);
    if (!in || !in->criterion || !is_criterion_id(in->criterion))
        return fail(ps, where, "not a criterion id");
    strcpy(value->criterion, in->criterion);
    switch (in->value_case) {
    case SHIFAN__VALUE__VALUE_FLAG:
        value->kind = CRITERION_BOOL;
        value->flag = in->flag != 0;
        break;
    case SHIFAN__VALUE__VALUE_COUNT:
        value->kind = CRITERION_COUNT;
        value->count = in->count;
        break;
    case SHIFAN__VALUE__VALUE_RATIO:
        if (!in->ratio)
            return fail(ps, where, "criterion %s: ratio without its numbers", value->criterion);
        value->kind = CRITERION_RATIO;
        value->num = in->ratio->num;
        value->den = in->ratio->den;
        break;
    default:
        return fail(ps, where, "criterion %s: no value set", value->criterion);
    }
    const char *problem = value_problem(value);
    if (*problem)
        return fail(ps, where, "criterion %s: %s", value->criterion, problem);
    return 0;
}

bool report_text_valid(const char *text, size_t max)
{
    return text && text_ok(text, max);
}

report_t *report_from_proto(const struct Shifan__Report *msg, char *err, size_t errsize)
{
    report_t *report = NULL;
    report_read_proto(msg, "report message", &report, err, errsize);
    return report;
}

/* The fields other than values and comments. */
static int proto_header(const parser_t *ps, const struct Shifan__Report *msg)
{
    if (!msg)
        return fail(ps, NULL, "no message");
    if (!msg->unit || !is_code(msg->unit))
        return fail(ps, "unit", "not a 6- or 9-digit code");
    /* Never empty on the wire: it is the key the report is stored under. */
    if (!report_id_valid(msg->report_id))
        return fail(ps, "report_id", "not 1 to %d bytes of printable ASCII", REPORT_ID_MAX - 1);
    if (!msg->standard_id || !is_standard_id(msg->standard_id))
        return fail(ps, "standard_id", "not a standard id");
    if (!msg->origin || !is_code_or_empty(msg->origin))
        return fail(ps, "origin", "not a 6- or 9-digit code");
    if (msg->year < 1 || msg->year > 9999)
        return fail(ps, "year", "%u is not a year", msg->year);
    if (msg->submitted_at < 0)
        return fail(ps, "submitted_at", "negative time");
    if (msg->n_values > REPORT_VALUES_MAX || msg->n_comments > msg->n_values)
        return fail(ps, "values", "%zu values and %zu comments: too many", msg->n_values,
                    msg->n_comments);
    return 0;
}

int report_read_proto(const struct Shifan__Report *msg, const char *source, report_t **out,
                      char *err, size_t errsize)
{
    parser_t ps = {source ? source : "report message", NULL, err, errsize};
    *out = NULL;
    if (err && errsize)
        err[0] = '\0';
    int rc = proto_header(&ps, msg);
    if (rc)
        return rc;
    report_t *report = report_new();
    if (!report) {
        fail(&ps, NULL, "out of memory");
        return SF_ENOMEM;
    }
    strcpy(report->unit, msg->unit);
    strcpy(report->report_id, msg->report_id);
    strcpy(report->standard_id, msg->standard_id);
    strcpy(report->origin, msg->origin);
    report->year = (int)msg->year;
    report->version = msg->version;
    report->series = msg->has_series ? msg->series : 0;
    report->submitted_at = msg->submitted_at;
    for (size_t v = 0; v < msg->n_values && !rc; v++) {
        report_value_t value;
        if (!(rc = proto_value(&ps, msg->values[v], v, &value))) {
            char where[WHERE_MAX];
            where_index(where, "values", v);
            rc = add_value(&ps, report, where, &value);
        }
    }
    for (size_t c = 0; c < msg->n_comments && !rc; c++) {
        const Shifan__Comment *comment = msg->comments[c];
        char where[WHERE_MAX];
        where_index(where, "comments", c);
        report_value_t *value = comment && comment->criterion
                                    ? (report_value_t *)report_find(report, comment->criterion)
                                    : NULL;
        if (!value) {
            rc = fail(&ps, where, "a comment for a criterion without a value");
        } else if (value->comment) {
            rc = fail(&ps, where, "criterion %s: a second comment", value->criterion);
        } else if (!comment->text || !text_ok(comment->text, REPORT_COMMENT_MAX)) {
            rc = fail(&ps, where, "criterion %s: comment is not UTF-8 of at most %d bytes",
                      value->criterion, REPORT_COMMENT_MAX);
        } else if (!(value->comment = strdup(comment->text))) {
            fail(&ps, NULL, "out of memory");
            rc = SF_ENOMEM;
        }
    }
    if (rc)
        report_destroy(&report);
    *out = report;
    return rc;
}

/* ------------------------------------------------------------- JSON out */

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
