/* programme.h - a demonstration programme as data.
 *
 * A programme is: the hierarchy (GB/T 2260 codes, names, levels, parents,
 * former codes as aliases), the work standard (sections, items, criteria),
 * yearly quotas per prefecture, national quotas, targets, the calendar of
 * deadlines and the discrepancy tolerance. It is read from a JSON file
 * (docs/programme-format.md) or taken from the embedded default (Yunnan
 * 2017-2020). A loaded programme is immutable; lookups are by code or id.
 *
 * Ownership: programme_load_* return a new object the caller destroys with
 * programme_destroy(); every pointer into it lives as long as it. */
#ifndef SHIFAN_PROGRAMME_H
#define SHIFAN_PROGRAMME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROGRAMME_CODE_MAX 16 /* unit codes: 6 (county) or 9 (township) digits */
#define PROGRAMME_ID_MAX 64
#define CRITERION_ID_MAX 16

typedef enum {
    LEVEL_PROVINCE = 0,
    LEVEL_PREFECTURE = 1,
    LEVEL_COUNTY = 2,
    LEVEL_SITE = 3, /* a township or street under a county */
} unit_level_t;

typedef struct {
    char code[PROGRAMME_CODE_MAX];
    char *name; /* Chinese name, UTF-8 */
    unit_level_t level;
    int parent;     /* index into programme_t.units, -1 for the root */
    int prefecture; /* index of the prefecture-level ancestor (self for a prefecture), -1 above */
    bool evaluated; /* a unit of evaluation (a county, or a site) */
} programme_unit_t;

typedef enum { CRITERION_BOOL, CRITERION_COUNT, CRITERION_RATIO } criterion_kind_t;
typedef enum { OP_GE, OP_EQ } criterion_op_t; /* ">=" and "==" */

typedef struct {
    char id[CRITERION_ID_MAX];   /* "1.2c" */
    char item[CRITERION_ID_MAX]; /* "1.2" */
    criterion_kind_t kind;
    criterion_op_t op;
    double threshold; /* bool: 1; count: minimum; ratio: percent */
    char *title_zh;
    char *title_en;
} programme_criterion_t;

typedef struct {
    char id[CRITERION_ID_MAX]; /* "1.2" */
    char section[CRITERION_ID_MAX];
    int first_criterion; /* criteria of an item are contiguous */
    int criterion_count;
} programme_item_t;

typedef struct {
    int year;
    int prefecture; /* index into units */
    int quota;
} programme_quota_t;

typedef enum {
    STAGE_SELF_ASSESSMENT = 0, /* county self-assessment due (Yunnan: 07-31) */
    STAGE_RECOMMENDATION,      /* prefecture recommendation due (09-30) */
    STAGE_EVALUATION,          /* province evaluation ends (11-30) */
    STAGE_MATERIALS,           /* annual materials due (11-20) */
    STAGE_COUNT
} programme_stage_t;

typedef struct programme programme_t;

/* The embedded default (Yunnan 2017-2020). NULL only on allocation failure. */
programme_t *programme_load_default(void);

/* Loads and validates a programme from JSON text. On failure returns NULL and
 * writes a precise message ("FILE: $.standard[3].op: ...") into err. */
programme_t *programme_load_json(const char *text, size_t len, const char *source, char *err,
                                 size_t errsize);
programme_t *programme_load_file(const char *path, char *err, size_t errsize);

void programme_destroy(programme_t **self_p);

/* The programme's JSON text (canonical, as stored and published). */
const char *programme_json(const programme_t *self);

const char *programme_id(const programme_t *self); /* e.g. "yunnan-2017" */
const char *programme_title(const programme_t *self);
const char *programme_standard_id(const programme_t *self);
uint64_t programme_revision(const programme_t *self);
int programme_first_year(const programme_t *self);
int programme_last_year(const programme_t *self);
double programme_tolerance(const programme_t *self); /* percentage points, default 5 */

size_t programme_unit_count(const programme_t *self);
const programme_unit_t *programme_unit(const programme_t *self, size_t index);
/* Index of the unit with this code (a former code resolves to its successor),
 * or -1. */
int programme_find_unit(const programme_t *self, const char *code);
/* True when unit `code` is `ancestor` itself or lies under it. */
bool programme_unit_within(const programme_t *self, const char *code, const char *ancestor);

size_t programme_criterion_count(const programme_t *self);
const programme_criterion_t *programme_criterion(const programme_t *self, size_t index);
int programme_find_criterion(const programme_t *self, const char *id); /* index or -1 */
size_t programme_item_count(const programme_t *self);
const programme_item_t *programme_item(const programme_t *self, size_t index);

/* Quota of a prefecture (by code) for a year; 0 when none is set. */
int programme_quota(const programme_t *self, const char *prefecture, int year);
int programme_national_quota(const programme_t *self, int year);

/* Unix time (seconds) of the deadline of a stage in a year: end of that day,
 * China Standard Time. */
int64_t programme_deadline(const programme_t *self, programme_stage_t stage, int year);

#endif
