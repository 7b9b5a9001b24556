/* report_internal.h - what the report_*.c files share: the parse state, the
 * checks every format applies, and the per-format readers. Not a contract:
 * report.h is; nothing outside libshifan/domain/report*.c includes this. */
#ifndef SHIFAN_REPORT_INTERNAL_H
#define SHIFAN_REPORT_INTERNAL_H

#include "domain/report.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#define WHERE_MAX 160

/* One parse: where the text comes from, the programme to check against (may
 * be NULL), and where the first error goes. */
typedef struct {
    const char *source;
    const programme_t *programme;
    char *err;
    size_t errsize;
    int *code;  /* when not NULL, gets the code of the first failure */
    char *note; /* when not NULL, what was read but not used (ignored columns) */
    size_t note_size;
} parser_t;

/* Writes "SOURCE: WHERE: message" into ps->err (when there is one) and
 * returns SF_EINVAL, so that `return report_fail(...)` reads as one. */
__attribute__((format(printf, 3, 4))) int report_fail(const parser_t *ps, const char *where,
                                                      const char *fmt, ...);

/* Writes "SOURCE: out of memory" and returns SF_ENOMEM (in *ps->code too). */
int report_out_of_memory(const parser_t *ps);

/* Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF. */
bool report_utf8_valid(const unsigned char *s, size_t len);

/* The shape of a value, whatever its source: "" when well formed. */
const char *report_value_problem(const report_value_t *value);

/* With a programme at hand: the year lies in it and the unit is one of its
 * units of evaluation; the *_where name the fields in messages. */
int report_check_unit_year(const parser_t *ps, const char *unit_where, const char *unit,
                           const char *year_where, int year);

/* Insert into a report being parsed; duplicates are caught by the callers,
 * which know where the first one was. */
int report_add_value(const parser_t *ps, report_t *report, const char *where,
                     const report_value_t *value);

/* The readers of report_json.c and report_csv.c: UTF-8 text in, a report
 * checked against ps->programme (when set) out, or NULL with the reason in
 * ps->err. */
report_t *report_json_read(const parser_t *ps, const char *text, size_t len,
                           const char *default_unit);
report_t *report_csv_read(const parser_t *ps, const char *text, size_t len,
                          const char *default_unit);

/* "values[12]" without snprintf: this runs for every value a hub receives,
 * while the text is needed only when a value is wrong. */
static inline void report_where_index(char *out, const char *name, size_t index)
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

static inline bool text_ok(const char *text, size_t max)
{
    size_t len = strlen(text);
    return len <= max && report_utf8_valid((const unsigned char *)text, len);
}

/* Plain loops, not strspn(): glibc builds a table per strspn call, and these
 * run for every value of every report a hub receives. */
static inline bool all_chars(const char *text, size_t len, bool (*ok)(char))
{
    for (size_t i = 0; i < len; i++)
        if (!ok(text[i]))
            return false;
    return true;
}

static inline bool digit_char(char c)
{
    return c >= '0' && c <= '9';
}

static inline bool criterion_char(char c)
{
    return digit_char(c) || (c >= 'a' && c <= 'z') || c == '.';
}

static inline bool standard_char(char c)
{
    return criterion_char(c) || c == '-' || c == '_';
}

static inline bool is_code(const char *text)
{
    size_t len = strlen(text);
    if (len != 6 && len != 9)
        return false;
    return all_chars(text, len, digit_char);
}

/* Criterion ids as the programme format allows them: a-z, 0-9 and ".". */
static inline bool is_criterion_id(const char *text)
{
    size_t len = strlen(text);
    return len > 0 && len < CRITERION_ID_MAX && all_chars(text, len, criterion_char);
}

static inline bool is_standard_id(const char *text)
{
    size_t len = strlen(text);
    return len < PROGRAMME_ID_MAX && all_chars(text, len, standard_char);
}

static inline bool is_report_id(const char *text)
{
    size_t len = strlen(text);
    if (len >= REPORT_ID_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if (text[i] < 0x21 || text[i] > 0x7E || text[i] == '"' || text[i] == '\\')
            return false;
    return true;
}

static inline bool is_code_or_empty(const char *text)
{
    return !*text || is_code(text);
}

#endif
