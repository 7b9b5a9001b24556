/* report_csv.c - a report as CSV (docs/formats.md): one value per row,
 * read a line at a time with libcsv so that every message names its line;
 * and the fill-in template, written with the same column names. */
#include "domain/report.h"
#include "base/error.h"
#include "base/msg.h"
#include "base/lang.h"
#include "domain/csvw.h"
#include "domain/report_internal.h"

#include <csv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CSV_FIELDS_MAX 32

typedef enum {
    COL_UNIT,
    COL_YEAR,
    COL_CRITERION,
    COL_VALUE,
    COL_NUM,
    COL_DEN,
    COL_COMMENT,
    COL_TITLE, /* this and the ones below are for the person filling in: not read */
    COL_SECTION,
    COL_ITEM,
    COL_KIND,
    COL_REQUIREMENT,
    COL_COUNT
} column_t;

/* Header names, English and Chinese, so that a sheet made by either reads;
 * the first two are the ones the template writes. */
static const char *const column_names[COL_COUNT][3] = {
    {"unit", "单位代码", "单位"}, {"year", "年度", "年份"},      {"criterion", "指标编号", "指标"},
    {"value", "值", "数值"},      {"numerator", "分子", "num"},  {"denominator", "分母", "den"},
    {"comment", "说明", "备注"},  {"title", "指标名称", "名称"}, {"section", "部分", "章节"},
    {"item", "条目", "项目"},     {"kind", "类型", "填写方式"},  {"requirement", "要求", "标准"},
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

/* Adds a column the layout does not know to the note: "ignored columns: 序号, 单位名称". */
static void note_ignored(csv_state_t *st, const char *name)
{
    char *note = st->ps->note;
    size_t size = st->ps->note_size;
    if (!note || !size)
        return;
    size_t used = strlen(note);
    snprintf(note + used, size - used, "%s%s", used ? ", " : msg("ignored columns: "), name);
}

static int csv_column(const char *name)
{
    for (int c = 0; c < COL_COUNT; c++)
        for (int n = 0; n < 3; n++)
            if (ascii_equal_nocase(name, column_names[c][n]))
                return c;
    return -1;
}

/* The header row: each known column's place; unknown ones are skipped (a
 * spreadsheet's 序号 or 单位名称) and named in the note, blank ones too
 * (Excel's empty trailing cells), silently. */
static int csv_header(csv_state_t *st, char where[WHERE_MAX])
{
    for (int c = 0; c < COL_COUNT; c++)
        st->column[c] = -1;
    for (size_t f = 0; f < st->field_count; f++) {
        const char *name = trim(st->fields[f]);
        int found = csv_column(name);
        if (found < 0) {
            if (*name)
                note_ignored(st, name);
            continue;
        }
        if (st->column[found] >= 0)
            return report_fail(st->ps, where, msg("column \"%s\" given twice"),
                               column_names[found][0]);
        st->column[found] = (int)f;
    }
    if (st->column[COL_CRITERION] < 0 || st->column[COL_YEAR] < 0 || st->column[COL_VALUE] < 0)
        return report_fail(
            st->ps, where,
            msg("the header needs the columns year, criterion and value (年度, 指标编号, "
                "值)"));
    if ((st->column[COL_NUM] < 0) != (st->column[COL_DEN] < 0))
        return report_fail(st->ps, where, msg("numerator and denominator columns go together"));
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
        return report_fail(st->ps, where,
                           msg("criterion %s: %s %s is larger than 9223372036854775807"), criterion,
                           what, text);
    if (rc && text[0] == '-')
        return report_fail(st->ps, where, msg("criterion %s: %s %s is negative"), criterion, what,
                           text);
    if (rc)
        return report_fail(st->ps, where, msg("criterion %s: %s \"%.40s\" is not a whole number"),
                           criterion, what, text);
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

/* A ratio: numerator and denominator columns filled, the value column empty. */
static int csv_ratio(csv_state_t *st, const char *where, const char *text, const char *num,
                     const char *den, report_value_t *value)
{
    const char *id = value->criterion;
    int rc;
    if (*text)
        return report_fail(
            st->ps, where,
            msg("criterion %s: give a ratio as numerator and denominator, value empty"), id);
    if (!*num || !*den)
        return report_fail(st->ps, where,
                           msg("criterion %s: a ratio needs both numerator and "
                               "denominator"),
                           id);
    value->kind = CRITERION_RATIO;
    if ((rc = csv_number(st, where, id, msg("numerator"), num, &value->num)) ||
        (rc = csv_number(st, where, id, msg("denominator"), den, &value->den)))
        return rc;
    if (value->den == 0 && value->num > 0)
        return report_fail(st->ps, where,
                           msg("criterion %s: denominator is 0 but numerator is %llu"), id,
                           (unsigned long long)value->num);
    if (value->num > value->den)
        return report_fail(st->ps, where,
                           msg("criterion %s: numerator %llu exceeds denominator %llu"), id,
                           (unsigned long long)value->num, (unsigned long long)value->den);
    return 0;
}

/* The criterion's kind when a programme is at hand (*expected stays -1
 * without one); an unknown criterion is refused here, before its cells. */
static int csv_expected_kind(csv_state_t *st, const char *where, const char *id, int *expected)
{
    if (!st->ps->programme)
        return 0;
    int index = programme_find_criterion(st->ps->programme, id);
    if (index < 0)
        return report_fail(st->ps, where,
                           msg("criterion %s: unknown criterion (not in standard %s)"), id,
                           programme_standard_id(st->ps->programme));
    *expected = (int)programme_criterion(st->ps->programme, (size_t)index)->kind;
    return 0;
}

static int csv_value(csv_state_t *st, const char *where, report_value_t *value)
{
    const char *text = cell(st, COL_VALUE), *num = cell(st, COL_NUM), *den = cell(st, COL_DEN);
    const char *id = value->criterion;
    int expected = -1; /* the criterion's kind when a programme is at hand */
    int rc = csv_expected_kind(st, where, id, &expected);
    if (rc)
        return rc;
    if (*num || *den)
        return csv_ratio(st, where, text, num, den, value);
    if (expected == CRITERION_RATIO)
        return report_fail(
            st->ps, where,
            msg("criterion %s: is a ratio criterion: fill numerator and denominator"), id);
    int word = csv_bool_word(text);
    bool digits = strspn(text, "0123456789") == strlen(text);
    if (expected == CRITERION_BOOL) { /* here "1" and "0" are yes and no */
        if (word < 0)
            return report_fail(
                st->ps, where,
                msg("criterion %s: is a bool criterion: write true/false, yes/no, 是/否 or "
                    "1/0, got \"%.40s\""),
                id, text);
        value->kind = CRITERION_BOOL;
        value->flag = word == 1;
        return 0;
    }
    if (word >= 0 && !digits) {
        if (expected == CRITERION_COUNT)
            return report_fail(
                st->ps, where,
                msg("criterion %s: is a count criterion: write a whole number, got \"%.40s\""), id,
                text);
        value->kind = CRITERION_BOOL; /* without a programme "1" and "0" stay counts */
        value->flag = word == 1;
        return 0;
    }
    if (strchr(text, '%') || strchr(text, '/'))
        return report_fail(
            st->ps, where,
            msg("criterion %s: write a ratio as numerator and denominator, not \"%.40s\""), id,
            text);
    value->kind = CRITERION_COUNT;
    return csv_number(st, where, id, msg("count"), text, &value->count);
}

/* A row's unit and year: a blank one repeats the one above (fill-down is
 * optional), a different one is refused, naming the line it differs from. */
static int csv_unit_year(csv_state_t *st, const char *where, const char *unit, const char *year)
{
    report_t *report = st->report;
    if (*unit) {
        if (!is_code(unit))
            return report_fail(st->ps, where, msg("unit \"%.20s\" is not a 6- or 9-digit code"),
                               unit);
        if (st->have_unit && strcmp(unit, report->unit) != 0)
            return report_fail(st->ps, where, msg("unit %s differs from %s on line %d"), unit,
                               report->unit, st->unit_line);
        if (!st->have_unit) {
            strcpy(report->unit, unit);
            st->have_unit = true;
            st->unit_line = st->row_line;
        }
    }
    if (*year) {
        uint64_t number;
        if (parse_uint(year, &number) || number < 1 || number > 9999)
            return report_fail(st->ps, where, msg("year \"%.20s\" is not a year"), year);
        if (st->have_year && (int)number != report->year)
            return report_fail(st->ps, where, msg("year %d differs from %d on line %d"),
                               (int)number, report->year, st->year_line);
        if (!st->have_year) {
            report->year = (int)number;
            st->have_year = true;
            st->year_line = st->row_line;
        }
    } else if (!st->have_year) {
        return report_fail(st->ps, where, msg("no year"));
    }
    return 0;
}

/* Adds a row's value, remembering its line for a later duplicate. */
static int csv_add(csv_state_t *st, const char *where, const report_value_t *value)
{
    report_t *report = st->report;
    int rc = report_add_value(st->ps, report, where, value);
    if (rc)
        return rc;
    /* first_line follows the values' sorted order: shift like report_put did. */
    size_t at = (size_t)(report_find(report, value->criterion) - report->values);
    memmove(&st->first_line[at + 1], &st->first_line[at],
            (report->value_count - 1 - at) * sizeof st->first_line[0]);
    st->first_line[at] = st->row_line;
    return 0;
}

static int csv_row(csv_state_t *st)
{
    char where[WHERE_MAX];
    snprintf(where, sizeof where, msg("line %d"), st->row_line);
    if (st->too_many_fields)
        return report_fail(st->ps, where, msg("more than %d fields"), CSV_FIELDS_MAX);
    if (!st->header_done)
        return csv_header(st, where);
    bool blank = true;
    for (size_t f = 0; f < st->field_count && blank; f++)
        blank = !*trim(st->fields[f]);
    if (blank) /* spreadsheets export empty rows as ",,,," */
        return 0;
    if (st->field_count != st->header_fields)
        return report_fail(st->ps, where, msg("%zu fields, the header has %zu"), st->field_count,
                           st->header_fields);
    report_t *report = st->report;
    const char *unit = cell(st, COL_UNIT), *year = cell(st, COL_YEAR);
    const char *criterion = cell(st, COL_CRITERION);
    st->data_rows++;
    int rc = csv_unit_year(st, where, unit, year);
    if (rc)
        return rc;
    if (!*criterion)
        return report_fail(st->ps, where, msg("no criterion"));
    if (!is_criterion_id(criterion))
        return report_fail(st->ps, where, msg("\"%.40s\" is not a criterion id"), criterion);
    const report_value_t *earlier = report_find(report, criterion);
    if (earlier)
        return report_fail(st->ps, where, msg("criterion %s: given again (first on line %d)"),
                           criterion, st->first_line[earlier - report->values]);

    const char *comment = cell(st, COL_COMMENT);
    if (!*cell(st, COL_VALUE) && !*cell(st, COL_NUM) && !*cell(st, COL_DEN)) {
        if (*comment)
            return report_fail(st->ps, where, msg("criterion %s: a comment without a value"),
                               criterion);
        return 0; /* a template row left empty: the criterion is missing */
    }
    report_value_t value;
    memset(&value, 0, sizeof value);
    strcpy(value.criterion, criterion);
    if ((rc = csv_value(st, where, &value)))
        return rc;
    if (*comment)
        value.comment = (char *)comment;
    return csv_add(st, where, &value);
}

static void on_row(int terminator, void *ctx)
{
    csv_state_t *st = ctx;
    (void)terminator;
    if (!st->rc)
        st->rc = csv_row(st);
    csv_clear_row(st);
}

/* Excel's "Unicode text" separates by tabs: a header row with more tabs
 * than commas makes the whole file tab-separated. */
static unsigned char csv_delimiter(const char *text, size_t len)
{
    const char *newline = memchr(text, '\n', len);
    size_t line = newline ? (size_t)(newline - text) : len, tabs = 0, commas = 0;
    for (size_t i = 0; i < line; i++) {
        tabs += text[i] == '\t';
        commas += text[i] == ',';
    }
    return tabs > commas ? '\t' : ',';
}

report_t *report_csv_read(const parser_t *ps, const char *text, size_t len,
                          const char *default_unit)
{
    csv_state_t *st = calloc(1, sizeof *st);
    struct csv_parser parser;
    if (!st || csv_init(&parser, CSV_STRICT | CSV_STRICT_FINI) != 0) {
        free(st);
        report_out_of_memory(ps);
        return NULL;
    }
    csv_set_delim(&parser, csv_delimiter(text, len));
    st->ps = ps;
    st->default_unit = default_unit;
    st->report = report_new(NULL);
    st->rc = st->report ? 0 : SF_ENOMEM;
    st->line = 1;
    /* Fed a line at a time so that each row knows its line number. */
    size_t at = 0;
    while (at < len && !st->rc) {
        const char *newline = memchr(text + at, '\n', len - at);
        size_t chunk = newline ? (size_t)(newline - (text + at)) + 1 : len - at;
        if (csv_parse(&parser, text + at, chunk, on_field, on_row, st) != chunk) {
            st->rc = report_fail(ps, NULL, msg("line %d: %s"), st->line,
                                 csv_strerror(csv_error(&parser)));
            break;
        }
        at += chunk;
        if (newline)
            st->line++;
    }
    /* csv_fini delivers a last row without a newline; after a strict error
     * it delivers the partial row too, which st->rc makes us ignore. */
    if (csv_fini(&parser, on_field, on_row, st) != 0 && !st->rc)
        st->rc = report_fail(ps, NULL, msg("line %d: unterminated quoted field"),
                             st->field_count ? st->row_line : st->line);
    csv_clear_row(st);
    csv_free(&parser);

    report_t *report = st->report;
    int rc = st->rc;
    if (!rc && !st->header_done)
        rc = report_fail(ps, NULL, msg("empty: expected a header row (year,criterion,value,...)"));
    if (!rc && !st->have_year)
        rc = report_fail(ps, NULL, msg("no data rows"));
    if (!rc && !st->have_unit) {
        if (!default_unit || !is_code(default_unit))
            rc = report_fail(ps, NULL, msg("no unit given, and no default unit"));
        else
            strcpy(report->unit, default_unit);
    }
    if (!rc) {
        char unit_where[WHERE_MAX], year_where[WHERE_MAX];
        snprintf(unit_where, sizeof unit_where, msg("line %d"), st->have_unit ? st->unit_line : 1);
        snprintf(year_where, sizeof year_where, msg("line %d"), st->year_line);
        rc = report_check_unit_year(ps, unit_where, report->unit, year_where, report->year);
    }
    if (rc == SF_ENOMEM)
        report_out_of_memory(ps);
    if (rc)
        report_destroy(&report);
    free(st);
    return report;
}

/* The template's columns, in its order: the ones read, with the ones for
 * the person filling in between criterion and value. */
static const column_t template_columns[] = {
    COL_UNIT, COL_YEAR,        COL_CRITERION, COL_SECTION, COL_ITEM, COL_TITLE,
    COL_KIND, COL_REQUIREMENT, COL_VALUE,     COL_NUM,     COL_DEN,  COL_COMMENT,
};

/* What to write in the kind and requirement columns of a criterion. */
static void template_hints(csvw_t *w, const programme_criterion_t *criterion, sf_lang_t lang)
{
    bool en = lang == LANG_EN;
    const char *ge = en ? ">=" : "≥", *eq = en ? "==" : "=";
    switch (criterion->kind) {
    case CRITERION_BOOL:
        csvw_field(w, en ? "yes/no" : "是/否");
        csvw_field(w, en ? "yes" : "是");
        return;
    case CRITERION_COUNT:
        csvw_field(w, en ? "count" : "数量");
        csvw_fieldf(w, "%s %g", ge, criterion->threshold);
        return;
    case CRITERION_RATIO:
        csvw_field(w, en ? "ratio: numerator and denominator" : "比例（填分子、分母）");
        csvw_fieldf(w, "%s %g%%", criterion->op == OP_EQ ? eq : ge, criterion->threshold);
        return;
    }
}

/* The value, numerator, denominator and comment cells of a criterion: the
 * report's value when it has one (written as report_load reads it back),
 * else empty. */
static void template_value(csvw_t *w, const report_value_t *value, sf_lang_t lang)
{
    bool en = lang == LANG_EN;
    if (value && value->kind == CRITERION_BOOL)
        csvw_field(w, value->flag ? (en ? "yes" : "是") : (en ? "no" : "否"));
    else if (value && value->kind == CRITERION_COUNT)
        csvw_fieldf(w, "%llu", (unsigned long long)value->count);
    else
        csvw_field(w, "");
    if (value && value->kind == CRITERION_RATIO) {
        csvw_fieldf(w, "%llu", (unsigned long long)value->num);
        csvw_fieldf(w, "%llu", (unsigned long long)value->den);
    } else {
        csvw_field(w, "");
        csvw_field(w, "");
    }
    csvw_field(w, value && value->comment ? value->comment : "");
}

static void template_row(csvw_t *w, const programme_t *programme, size_t index, const char *unit,
                         int year, sf_lang_t lang, const report_t *report)
{
    const programme_criterion_t *criterion = programme_criterion(programme, index);
    const programme_item_t *item = programme_item(programme, (size_t)criterion->item_index);
    const programme_section_t *section = programme_section(programme, (size_t)item->section_index);
    bool en = lang == LANG_EN;
    csvw_field(w, unit);
    csvw_fieldf(w, "%d", year);
    csvw_field(w, criterion->id);
    csvw_field(w, en && section->title_en ? section->title_en : section->title_zh);
    csvw_field(w, item->id);
    csvw_field(w, en && criterion->title_en ? criterion->title_en : criterion->title_zh);
    template_hints(w, criterion, lang);
    template_value(w, report ? report_find(report, criterion->id) : NULL, lang);
    csvw_row_end(w);
}

/* The template of unit and year, its value cells from report (NULL: empty). */
static int template_write(const programme_t *programme, const char *unit, int year, sf_lang_t lang,
                          const report_t *report, char **out, size_t *len)
{
    if (!programme || !out || !programme_has_year(programme, year) ||
        (unit && !is_code_or_empty(unit)))
        return SF_EINVAL;
    csvw_t *w = csvw_new(true);
    if (!w)
        return SF_ENOMEM;
    for (size_t i = 0; i < sizeof template_columns / sizeof template_columns[0]; i++)
        csvw_field(w, column_names[template_columns[i]][lang == LANG_EN ? 0 : 1]);
    csvw_row_end(w);
    for (size_t i = 0; i < programme_criterion_count(programme); i++)
        template_row(w, programme, i, unit ? unit : "", year, lang, report);
    return csvw_finish(&w, out, len);
}

int report_template_csv(const programme_t *programme, const char *unit, int year, sf_lang_t lang,
                        char **out, size_t *len)
{
    return template_write(programme, unit, year, lang, NULL, out, len);
}

int report_to_template_csv(const report_t *self, const programme_t *programme, sf_lang_t lang,
                           char **out, size_t *len)
{
    if (!self)
        return SF_EINVAL;
    return template_write(programme, self->unit, self->year, lang, self, out, len);
}
