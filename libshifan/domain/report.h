/* report.h - one unit's values for one year, in memory.
 *
 * A report is what a county submits (self-assessment) or what a prefecture
 * or the province records (inspection): per-criterion values of three kinds.
 * This module parses reports from JSON and CSV (docs/formats.md), validates
 * them against a programme, and converts to and from the wire form
 * (Shifan__Report in proto/shifan.proto).
 *
 * Ownership: report_new, report_load, report_parse_json and the others,
 * report_dup and report_from_proto return an object the caller destroys
 * with report_destroy(); strings inside are owned by the report, and a
 * pointer from report_find lives until the report changes (report_put) or
 * dies.
 * Threading: no global state; a report may be read from many threads, and
 * changed from one. No clock: times are those in the input.
 * Failure: constructors return NULL (with an sf_error_t, or a message in
 * err for the report_parse_ functions and report_from_proto); the other
 * functions return 0 or a negative sf_err_t, as each says.
 *
 * Which function to call: report_load() for anything a person wrote (a
 * submitted or inspection file): it parses and checks against the programme
 * in one go, so every error names the CSV line or JSON path, and CSV cells
 * "1"/"0" are read as the criterion's kind. report_parse_* alone read without
 * a programme: there "1"/"0" are counts.
 *
 * Order: values are sorted by programme_criterion_compare() (section, item,
 * letter: "1.2c" < "1.10" < "2.1"), which is the standard's own order. */
#ifndef SHIFAN_REPORT_H
#define SHIFAN_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "base/lang.h"
#include "domain/programme.h"

#define REPORT_ID_MAX 64
#define REPORT_MAX_BYTES (64 * 1024) /* largest accepted input file / payload */
#define REPORT_VALUES_MAX 1024       /* values in one report */
#define REPORT_COMMENT_MAX 4096      /* bytes of one comment */
/* Counts, numerators and denominators are at most INT64_MAX, so that JSON
 * (jansson's long long) can carry every value a report holds. */

typedef struct {
    char criterion[CRITERION_ID_MAX];
    criterion_kind_t kind;
    bool flag;      /* CRITERION_BOOL */
    uint64_t count; /* CRITERION_COUNT */
    uint64_t num;   /* CRITERION_RATIO */
    uint64_t den;
    char *comment; /* optional, UTF-8, owned */
} report_value_t;

typedef struct {
    char report_id[REPORT_ID_MAX]; /* e.g. "530102-2018-v2-3fa9c1d2"; empty before submit */
    char unit[PROGRAMME_CODE_MAX];
    int year;
    char standard_id[PROGRAMME_ID_MAX];
    uint32_t version;                /* 1, 2, ... per unit-year at its origin */
    uint64_t series;                 /* origin's numbering series (its init time), 0: none */
    int64_t submitted_at;            /* unix seconds */
    char origin[PROGRAMME_CODE_MAX]; /* node that created it */
    report_value_t *values;          /* sorted by criterion id, no duplicates */
    size_t value_count;
} report_t;

/* An empty report (no unit, no values), or NULL with SF_ENOMEM in error
 * (which may be NULL). */
report_t *report_new(sf_error_t *error);
/* Frees the report and its values and sets *self_p to NULL; NULL is a no-op. */
void report_destroy(report_t **self_p);

/* Parses JSON ({"unit":..,"year":..,"values":{..},"comments":{..}}) or CSV
 * (the layout in docs/formats.md). Structural errors only (syntax, kinds of
 * JSON values, negative numbers, num > den, den = 0 with num > 0). `source`
 * names the input in messages. On failure returns NULL and writes
 * "SOURCE: line 4: criterion 2.1: numerator 12 exceeds denominator 10" or
 * "SOURCE: $.values[\"2.1\"].num: ..." into err. default_unit is used when
 * the input names no unit (may be NULL). */
report_t *report_parse_json(const char *text, size_t len, const char *source,
                            const char *default_unit, char *err, size_t errsize);
report_t *report_parse_csv(const char *text, size_t len, const char *source,
                           const char *default_unit, char *err, size_t errsize);
/* Picks JSON or CSV by content (first non-blank byte '{' means JSON). */
report_t *report_parse(const char *text, size_t len, const char *source, const char *default_unit,
                       char *err, size_t errsize);
/* report_parse + report_validate against `programme`, with errors located in
 * the input ("SOURCE: line 7: criterion 9.9: unknown criterion"), the
 * format by content; the encodings read are report_load_as's. On failure NULL
 * with error->code SF_EINVAL (SF_ENOMEM when memory ran out) and that
 * sentence in error->text; error may be NULL. */
report_t *report_load(const char *text, size_t len, const char *source, const char *default_unit,
                      const programme_t *programme, sf_error_t *error);

/* How the bytes are to be read: by content (REPORT_ANY: a first non-blank
 * '{' means JSON), or as the one format the caller knows they are. */
typedef enum { REPORT_ANY = 0, REPORT_JSON, REPORT_CSV } report_format_t;

/* report_load, told the format, and telling what it read but did not use.
 * Input is UTF-8, UTF-16LE/BE with a byte order mark (Excel's "Unicode
 * text", tab-separated), GB18030 with a byte order mark, or without one
 * GB18030/GBK when the bytes are not UTF-8; a BOM is dropped. A CSV's
 * columns of no meaning to a report (a spreadsheet's 序号 or 单位名称) are
 * skipped and named in `note` ("ignored columns: 序号, 单位名称"; "" when
 * none, truncated to note_size; note may be NULL). An XLSX sheet turned
 * into CSV bytes in memory comes here with REPORT_CSV. Failure as
 * report_load. */
report_t *report_load_as(const char *text, size_t len, report_format_t format, const char *source,
                         const char *default_unit, const programme_t *programme, char *note,
                         size_t note_size, sf_error_t *error);

/* The fill-in form of `programme` for `year` as CSV (docs/formats.md,
 * "Template"): UTF-8 with a byte order mark, CRLF, a header row, then one
 * row per criterion in the standard's order with the unit (may be NULL or
 * "": left blank), the year, the criterion's id, its section's, item's and
 * own titles, its kind and requirement, and empty value, numerator,
 * denominator and comment cells. Headers and hints in Chinese, or English
 * with LANG_EN; either reads back through report_load. Returns 0 with a
 * malloc'd document in *out (length in *len when len is not NULL),
 * SF_EINVAL for a year outside the programme or a unit that is not a
 * 6- or 9-digit code, SF_ENOMEM. */
int report_template_csv(const programme_t *programme, const char *unit, int year, sf_lang_t lang,
                        char **out, size_t *len);
/* The same form filled with the report's values: its unit and year on
 * every row, and for each criterion it gives, the value (是/否 or yes/no,
 * a whole number), or numerator and denominator, and its comment; the
 * criteria it does not give are left empty. It reads back through
 * report_load as the same report (values and comments). Returns as
 * report_template_csv; SF_EINVAL also for a report whose year is outside
 * the programme (report_validate it first). */
int report_to_template_csv(const report_t *self, const programme_t *programme, sf_lang_t lang,
                           char **out, size_t *len);

/* Checks a parsed report against a programme: unknown criterion, wrong kind
 * for the criterion, year outside the programme, unit not in the hierarchy or
 * not a unit of evaluation. Returns 0, or SF_EINVAL with the message in err.
 * Missing criteria are allowed (they fail); report_missing lists them. */
int report_validate(const report_t *self, const programme_t *programme, const char *source,
                    char *err, size_t errsize);
/* Writes the ids of the programme's criteria absent from the report,
 * comma-separated, into buf; returns how many are missing. */
size_t report_missing(const report_t *self, const programme_t *programme, char *buf, size_t size);

const report_value_t *report_find(const report_t *self, const char *criterion);

/* True for a report id as stored and sent: 1 to REPORT_ID_MAX - 1 bytes of
 * printable ASCII, no space, quote or backslash. */
bool report_id_valid(const char *text);

/* Adds a copy of `value` (its comment copied too) in criterion order.
 * SF_EEXIST when the report has that criterion, SF_EINVAL when the value is
 * not well formed (bad id, num > den, ...), SF_ETOOBIG past
 * REPORT_VALUES_MAX, SF_ENOMEM. */
int report_put(report_t *self, const report_value_t *value);
/* A deep copy, or NULL on allocation failure. */
report_t *report_dup(const report_t *self);

/* Wire form (Shifan__Report of proto/shifan.proto).
 * report_to_proto builds a message that borrows the report's strings: keep
 * the report alive while it is used, free it with report_proto_free().
 * report_from_proto copies a received message and checks it (codes are
 * digits, strings UTF-8 and bounded, kinds consistent, num <= den); on failure
 * NULL and a message in err. */
struct Shifan__Report;
struct Shifan__Report *report_to_proto(const report_t *self);
void report_proto_free(struct Shifan__Report *msg);
report_t *report_from_proto(const struct Shifan__Report *msg, char *err, size_t errsize);
/* The same checks, with `source` naming the message in err instead of
 * "report message" (e.g. "report 530102-2018-v1-3fa9c1d2"), and a result
 * that tells bad input (SF_EINVAL, message in err) from a lack of memory
 * (SF_ENOMEM): a receiver refuses the first and retries the second. */
int report_read_proto(const struct Shifan__Report *msg, const char *source, report_t **report,
                      char *err, size_t errsize);

/* True when report_read_proto would read `msg` without a complaint and
 * report_validate would find each of its values in `programme` with the
 * right kind (the standard, unit and year aside), checked in one pass over
 * the message without building a report_t; values in the programme's order
 * (as every sender writes them) are found with one comparison each. False
 * says only "not certainly": the caller reads it the long way, for the
 * reason. */
bool report_proto_fits(const struct Shifan__Report *msg, const programme_t *programme);

/* True when text (not NULL) is strict UTF-8 (no overlong forms, no
 * surrogates) of at most max bytes: the rule for comments, and for other
 * free text that arrives over a link. */
bool report_text_valid(const char *text, size_t max);

/* JSON form of a report (as accepted by report_parse_json, plus report_id,
 * version, submitted_at, origin). Returns a malloc'd string. */
char *report_to_json(const report_t *self);

#endif
