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
 * programme_destroy(); every pointer into it lives as long as it.
 * Threading: a loaded programme is read-only, so any number of threads may
 * query it at once. No global state, no clock: deadlines are computed from
 * the year asked for, never from "now".
 * Failure: the loaders return NULL with a code and a sentence in an
 * sf_error_t; queries never fail: an index out of range gives NULL, an
 * unknown code or id -1 (as each function says).
 *
 * Criterion order: criteria are listed in the order of their ids compared
 * with programme_criterion_compare() (section, item, letter), so sorting a
 * report's values by id gives the programme's order. */
#ifndef SHIFAN_PROGRAMME_H
#define SHIFAN_PROGRAMME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#define PROGRAMME_CODE_MAX 16 /* unit codes: 6 (county) or 9 (township) digits */
#define PROGRAMME_ID_MAX 64
#define CRITERION_ID_MAX 16
#define PROGRAMME_STAGE_ID_MAX 32
#define PROGRAMME_FORMAT 1                    /* the "format" the loader understands */
#define PROGRAMME_MAX_BYTES (4 * 1024 * 1024) /* largest accepted programme file */

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
    bool participating; /* counted by share targets ("participants"; all evaluated units when
                           the programme lists none) */
} programme_unit_t;

/* A former code still accepted for a unit (programme_find_unit resolves it). */
typedef struct {
    char code[PROGRAMME_CODE_MAX]; /* former code, e.g. 532331 (禄丰县) */
    char *name;                    /* former name, may be NULL */
    int unit;                      /* index of the current unit (532302 禄丰市) */
} programme_alias_t;

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
    int item_index; /* index into the items */
    bool from_seed; /* false: the threshold is the programme's own choice
                       ("source": "programme"); true when "seed" or unset */
} programme_criterion_t;

typedef struct {
    char id[CRITERION_ID_MAX]; /* "1" */
    char *title_zh;
    char *title_en; /* may be NULL */
} programme_section_t;

typedef struct {
    char id[CRITERION_ID_MAX]; /* "1.2" */
    char section[CRITERION_ID_MAX];
    int first_criterion; /* criteria of an item are contiguous */
    int criterion_count;
    int section_index; /* index into the sections */
} programme_item_t;

typedef struct {
    int year;
    int prefecture; /* index into units: the quota holder (a prefecture, or a
                       county when sites are evaluated) */
    int quota;
} programme_quota_t;

typedef enum {
    STAGE_SELF_ASSESSMENT = 0, /* county self-assessment due (Yunnan: 07-31) */
    STAGE_RECOMMENDATION,      /* prefecture recommendation due (09-30) */
    STAGE_EVALUATION,          /* province evaluation ends (11-30) */
    STAGE_MATERIALS,           /* annual materials due (11-20) */
    STAGE_COUNT
} programme_stage_t;

/* One stage of the calendar: the four above, which every programme has, and
 * any others the programme names (Qinhuangdao: "plan"). */
typedef struct {
    char id[PROGRAMME_STAGE_ID_MAX]; /* "self_assessment", ..., or the programme's own */
    int stage;                       /* a programme_stage_t, or -1 for the programme's own */
    int deadline_month, deadline_day;
    int opens_month, opens_day; /* 0 when the stage names no opening */
    char *title_zh;
    char *title_en; /* may be NULL */
} programme_stage_info_t;

typedef enum { TARGET_COUNT, TARGET_SHARE } target_kind_t;
typedef enum { TARGET_OF_DEMONSTRATION, TARGET_OF_NATIONAL } target_of_t;

/* Progress goal, cumulative over the years up to `by`. */
typedef struct {
    char id[PROGRAMME_ID_MAX];
    target_kind_t kind; /* count: `value` units; share: `value` percent of the
                           participating units */
    target_of_t of;     /* demonstration units, or national ones */
    double value;
    int by; /* year */
    char *title_zh;
    char *title_en; /* may be NULL */
} programme_target_t;

typedef struct programme programme_t;

/* The embedded default (Yunnan 2017-2020). NULL only on allocation failure
 * (SF_ENOMEM), or SF_ENOTFOUND in a build without it. */
programme_t *programme_load_default(sf_error_t *error);

/* Loads and validates a programme from JSON text. On failure returns NULL
 * with error->code SF_EINVAL (SF_ENOMEM when memory ran out) and a precise
 * error->text ("SOURCE: $.standard.criteria[3].op: ..."). The embedded
 * default loads the same way (source "programme-yunnan-2017.json"). error
 * may be NULL. */
programme_t *programme_load_json(const char *text, size_t len, const char *source,
                                 sf_error_t *error);
/* The same from a file; its path is the source. Also SF_EIO ("PATH: cannot
 * open: No such file or directory"). */
programme_t *programme_load_file(const char *path, sf_error_t *error);

/* Frees the programme and sets *self_p to NULL; NULL or *NULL is a no-op. */
void programme_destroy(programme_t **self_p);

/* The programme's JSON text (canonical, as stored and published): the
 * loaded document with sorted keys, compact. Loading it gives an equal
 * programme with the same canonical text. */
const char *programme_json(const programme_t *self);

const char *programme_id(const programme_t *self); /* e.g. "yunnan-2017" */
const char *programme_title(const programme_t *self);
const char *programme_standard_id(const programme_t *self);
uint64_t programme_revision(const programme_t *self);
int programme_first_year(const programme_t *self);
int programme_last_year(const programme_t *self);
double programme_tolerance(const programme_t *self);             /* percentage points, default 5 */
const char *programme_title_en(const programme_t *self);         /* may be NULL */
unit_level_t programme_evaluated_level(const programme_t *self); /* LEVEL_COUNTY or LEVEL_SITE */
bool programme_late_disqualifies(const programme_t *self);       /* Yunnan: false */
bool programme_has_year(const programme_t *self, int year);

/* "province", "prefecture", "county", "site" */
const char *programme_level_name(unit_level_t level);

size_t programme_unit_count(const programme_t *self);
const programme_unit_t *programme_unit(const programme_t *self, size_t index);
/* Index of the unit with this code (a former code resolves to its successor),
 * or -1. */
int programme_find_unit(const programme_t *self, const char *code);
/* True when unit `code` is `ancestor` itself or lies under it. */
bool programme_unit_within(const programme_t *self, const char *code, const char *ancestor);
/* The current code of a unit given by its code or a former one, or NULL. */
const char *programme_unit_code(const programme_t *self, const char *code);
size_t programme_alias_count(const programme_t *self);
const programme_alias_t *programme_alias(const programme_t *self, size_t index);

size_t programme_section_count(const programme_t *self);
const programme_section_t *programme_section(const programme_t *self, size_t index);

size_t programme_criterion_count(const programme_t *self);
const programme_criterion_t *programme_criterion(const programme_t *self, size_t index);
int programme_find_criterion(const programme_t *self, const char *id); /* index or -1 */
size_t programme_item_count(const programme_t *self);
const programme_item_t *programme_item(const programme_t *self, size_t index);
int programme_find_item(const programme_t *self, const char *id); /* index or -1 */
/* Orders criterion ids as the standard does: digit runs compare as numbers,
 * so "1.2" < "1.2a" < "1.2c" < "1.10" < "2.1". Like strcmp's result. */
int programme_criterion_compare(const char *a, const char *b);

/* Quota of a prefecture (by code) for a year; 0 when none is set. A unit
 * without a quota of its own gets the sum of the quotas of the units under
 * it: Qinhuangdao sets 1 per county, so the city's quota is 9. */
int programme_quota(const programme_t *self, const char *prefecture, int year);
/* Index of the nearest unit at or above `unit` (an index) that holds quotas
 * of its own: the prefecture in Yunnan, the county in Qinhuangdao; -1 when
 * none. Recommendations must respect the quota of that holder too. */
int programme_quota_holder(const programme_t *self, int unit);
/* Index of the unit that recommends unit of evaluation `unit` (an index):
 * the nearest unit above it that holds quotas of its own (a Yunnan
 * prefecture, a Qinhuangdao county for its sites); without one, its
 * prefecture-level ancestor, else its parent; -1 when none. The engine ranks
 * the units of each recommender together, and a recommendation names it as
 * its holder. */
int programme_recommender(const programme_t *self, int unit);
size_t programme_quota_count(const programme_t *self);
const programme_quota_t *programme_quota_at(const programme_t *self, size_t index);
/* National candidates a year may have; 0 when the programme sets none. */
int programme_national_quota(const programme_t *self, int year);

size_t programme_target_count(const programme_t *self);
const programme_target_t *programme_target(const programme_t *self, size_t index);
/* Number of participating units (the base of share targets). */
size_t programme_participant_count(const programme_t *self);

/* Unix time (seconds) of the deadline of a stage in a year: end of that day,
 * China Standard Time, i.e. the last second 23:59:59+08:00; a submission is
 * late when its time is greater. A per-year exception (Yunnan: 2017
 * materials due 2018-03-31) replaces the MM-DD date. -1 for a bad stage. */
int64_t programme_deadline(const programme_t *self, programme_stage_t stage, int year);
/* The same for a stage by id (also the programme's own stages); -1 if unknown. */
int64_t programme_deadline_named(const programme_t *self, const char *stage, int year);
const char *programme_stage_name(programme_stage_t stage); /* "self_assessment", ... */
size_t programme_stage_count(const programme_t *self);     /* calendar order */
const programme_stage_info_t *programme_stage_at(const programme_t *self, size_t index);

#endif
