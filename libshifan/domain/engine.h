/* engine.h - one evaluation engine for every tier.
 *
 * The county's offline self-check, the prefecture hub's ranking and
 * recommendation and the province's evaluation all call engine_evaluate() on
 * the same kind of input, so the three tiers give the same answer from the
 * same data. The rules are those of PRODUCT.md "Evaluation semantics";
 * docs/results-format.md says how each decision the spec leaves open is
 * taken (expected units, which version counts, lateness, returns, ...).
 *
 * Usage: engine_input_new(programme, &error), then add every report version,
 * inspection, return-for-correction and received recommendation of every
 * year you have (order does not matter: the engine sorts), then
 * engine_evaluate(input, year, now, scope). Evaluating year Y evaluates the
 * programme's years first_year..Y, because cumulative progress and "already a
 * demonstration unit" need the earlier years.
 *
 * Guarantees: deterministic (the same set of inputs gives the same result,
 * whatever order they were added in; no floating point in any decision),
 * no global state, no clock (evaluation takes `now` as an argument), not
 * thread-safe per input while adding (distinct objects may be used from
 * distinct threads; a finished result may be read from many).
 *
 * Failure: engine_input_new returns NULL with an sf_error_t; the other
 * functions return 0 or a negative sf_err_t (SF_EINVAL, SF_ENOMEM), and
 * engine_evaluate also a sentence in err.
 *
 * Ownership: the input keeps a pointer to the programme, which must outlive
 * it and every result; everything added is copied. Results are immutable
 * once engine_result_set_provenance has attached what the caller knows, and
 * every pointer into a result lives as long as the result (and the
 * programme); a result does not need its input any more. */
#ifndef SHIFAN_ENGINE_H
#define SHIFAN_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/programme.h"
#include "domain/provenance.h"
#include "domain/report.h"

typedef enum {
    ENGINE_TIER_SELF = 0,   /* the unit's own report */
    ENGINE_TIER_PREFECTURE, /* a prefecture's inspection */
    ENGINE_TIER_PROVINCE,   /* the province's inspection */
} engine_tier_t;

typedef enum { ENGINE_ON_TIME = 0, ENGINE_LATE, ENGINE_MISSING } engine_status_t;

/* Unit flags, a bit set. Only the disqualifying ones (ENGINE_FLAGS_DISQUALIFY)
 * stop a unit from qualifying; the others are information. */
typedef enum {
    ENGINE_FLAG_LATE = 1u << 0,           /* first version submitted after the deadline */
    ENGINE_FLAG_DISCREPANCY = 1u << 1,    /* inspection contradicts the self-report */
    ENGINE_FLAG_RETURNED = 1u << 2,       /* counted version was returned for correction */
    ENGINE_FLAG_MISSING_VALUES = 1u << 3, /* counted version lacks criteria (they fail) */
    ENGINE_FLAG_INSPECTED = 1u << 4,      /* some value comes from an inspection */
    ENGINE_FLAG_CORRECTED = 1u << 5,      /* more than one version was submitted */
    ENGINE_FLAG_NOT_YET_DUE = 1u << 6,    /* missing, but the deadline has not passed */
    ENGINE_FLAG_DESIGNATED = 1u << 7,     /* demonstration unit of an earlier year */
    /* The counted version's claimed time contradicts the hub's signed
     * receipt (provenance.h); set by engine_result_set_provenance. */
    ENGINE_FLAG_CLAIMED_TIME = 1u << 8,
} engine_flag_t;
#define ENGINE_FLAG_COUNT 9
#define ENGINE_FLAGS_DISQUALIFY (ENGINE_FLAG_DISCREPANCY | ENGINE_FLAG_RETURNED)

/* Where a prefecture's effective recommendation comes from. */
typedef enum {
    ENGINE_REC_AUTOMATIC = 0, /* none received: the engine's own ranking (provisional) */
    ENGINE_REC_PROVISIONAL,   /* received from the hub, not yet confirmed */
    ENGINE_REC_CONFIRMED,     /* received and confirmed by the prefecture */
} engine_rec_source_t;

typedef struct engine_input engine_input_t;
typedef struct engine_result engine_result_t;

/* A new, empty input for this programme (borrowed: it must outlive the
 * input). NULL with error->code SF_ENOMEM, or SF_EINVAL for no programme;
 * error may be NULL. */
engine_input_t *engine_input_new(const programme_t *programme, sf_error_t *error);
/* Frees the input and everything added, and sets *self_p to NULL. */
void engine_input_destroy(engine_input_t **self_p);

/* Adds one version of a unit's self-assessment, with the time the hub
 * received it (0: unknown, e.g. at the county). Adding a report_id already
 * present is a no-op (a redelivered version is one version). Returns 0, or
 * SF_EINVAL when the unit is not a unit of evaluation of the programme or the
 * year lies outside it, SF_ENOMEM. */
int engine_input_add_report(engine_input_t *self, const report_t *report, int64_t received_at);

/* Adds an inspection (only the inspected criteria need be present) made by
 * `tier` (ENGINE_TIER_PREFECTURE or ENGINE_TIER_PROVINCE). Per criterion the
 * province's latest inspection wins over the prefecture's, which wins over
 * the self-report. Same errors as engine_input_add_report. */
int engine_input_add_inspection(engine_input_t *self, const report_t *inspection,
                                engine_tier_t tier);

/* Records a return for correction of version `report_id` (NULL or "": the
 * version counted at `returned_at`) of a unit-year. The unit is flagged
 * `returned` while that version is still the one counted; a newer version
 * clears it. `reason` is copied. */
int engine_input_add_return(engine_input_t *self, const char *unit, int year, const char *report_id,
                            const char *reason, int64_t returned_at);

/* Records a prefecture's recommendation for a year: unit codes best first.
 * The highest revision of a prefecture-year wins (then confirmed, then the
 * later made_at). Codes outside the prefecture and entries beyond the quota
 * are ignored when evaluating (and reported in the result). */
int engine_input_add_recommendation(engine_input_t *self, const char *prefecture, int year,
                                    const char *const *units, size_t unit_count, bool confirmed,
                                    int64_t made_at, uint64_t revision);

const programme_t *engine_input_programme(const engine_input_t *self);

/* Evaluates `year` as of `now` for `scope`: a unit code (the county's
 * self-check: that unit only), a prefecture code (its units), or NULL, "" or
 * the root's code (the whole province, with the province section). Whatever
 * the scope, a unit's figures are the same. Returns 0 and a new result in
 * *result_p, or SF_EINVAL (year outside the programme, unknown scope; a
 * message in err), SF_ENOMEM. */
int engine_evaluate(const engine_input_t *input, int year, int64_t now, const char *scope,
                    engine_result_t **result_p, char *err, size_t errsize);
void engine_result_destroy(engine_result_t **self_p);

/* One criterion of one unit, after inspections. */
typedef struct {
    const programme_criterion_t *criterion;
    bool present; /* a value exists (self-reported or inspected) */
    bool passed;
    engine_tier_t source; /* who gave the value counted */
    report_value_t value; /* kind, flag/count/num,den (comment always NULL) */
    bool self_present;    /* the self-reported value, kept beside it */
    report_value_t self_value;
    bool self_passed;
    bool discrepancy;     /* this criterion raised the flag */
    int64_t margin_micro; /* ratio, present, den > 0: 1e-6 points above threshold */
} engine_criterion_result_t;

typedef struct {
    const programme_unit_t *unit;
    const programme_unit_t *prefecture; /* the unit holding its quota (see docs) */
    engine_status_t status;
    unsigned flags; /* engine_flag_t bits */
    /* The version counted (empty report_id when missing). */
    char report_id[REPORT_ID_MAX];
    uint32_t version;
    size_t version_count;
    int64_t submitted_at;                /* of the counted version, the county's clock */
    int64_t received_at;                 /* of the counted version at the hub, 0 unknown */
    int64_t first_submitted_at;          /* of the earliest version: decides on_time/late */
    const char *return_reason;           /* when flagged returned */
    engine_criterion_result_t *criteria; /* programme order, programme_criterion_count() */
    bool *item_passed;                   /* programme order, programme_item_count() */
    size_t items_passed;
    bool qualified;
    int64_t margin_sum_micro; /* sum over ratio criteria of margin_micro */
    double mean_margin;       /* percentage points, for display only */
    int rank;                 /* 1.. among eligible qualified units of its prefecture; 0 none */
    bool recommended_auto;    /* in the engine's automatic list */
    bool recommended;         /* in the prefecture's effective list */
    bool demonstration;       /* provincial demonstration unit of this year */
    bool national_candidate;
    int designated_year; /* year it became a demonstration unit before, 0 if never */
    /* Who signed and received the counted version: NULL until the caller
     * attaches it (engine_result_set_provenance), and for a missing unit. */
    const provenance_t *provenance;
} engine_unit_result_t;

/* Aggregate of one criterion over the units with a value. */
typedef struct {
    const programme_criterion_t *criterion;
    size_t units;      /* units with a value */
    size_t true_count; /* bool */
    uint64_t sum;      /* count: sum; ratio: sum of numerators */
    uint64_t den_sum;  /* ratio: sum of denominators */
    double percent;    /* ratio: 100*sum/den_sum; bool: share true in %; count: 0 */
} engine_aggregate_t;

typedef struct {
    size_t expected; /* evaluated units in the hierarchy */
    size_t reported; /* at least one version */
    size_t on_time;
    size_t late;
    size_t missing;
    size_t qualified;
    engine_aggregate_t *aggregates; /* programme criterion order */
} engine_summary_t;

typedef struct {
    const programme_unit_t *unit;
    int quota;
    engine_summary_t summary;
    const engine_unit_result_t **ranking; /* eligible qualified units, best first */
    size_t ranking_count;
    const engine_unit_result_t **automatic; /* first min(quota, ranking_count) of ranking */
    size_t automatic_count;
    engine_rec_source_t source;               /* of the effective list */
    bool provisional;                         /* source != ENGINE_REC_CONFIRMED */
    const engine_unit_result_t **recommended; /* effective list, best first */
    size_t recommended_count;
    size_t ignored_count; /* received entries ignored (outside, unknown, over quota) */
    int64_t made_at;      /* of the received list, 0 if automatic */
    uint64_t revision;
    bool late; /* received list made after the recommendation deadline */
} engine_prefecture_result_t;

typedef struct {
    int year;
    size_t demonstration;       /* this year */
    size_t national;            /* this year */
    size_t demonstration_total; /* cumulative first_year..year */
    size_t national_total;
} engine_progress_t;

/* Progress against one of the programme's targets, cumulative to the year. */
typedef struct {
    const char *id;       /* "demonstration", "national", "share" */
    const char *title_zh; /* may be NULL */
    bool national;        /* counts national candidates, else demonstration units */
    bool share;           /* value is a percentage of the expected units */
    double value;         /* 37 units, or 50 (%) */
    int by;               /* year the target is due */
    size_t achieved;      /* units so far, first_year..year */
    size_t needed;        /* units the target means (a share of the expected units, rounded up) */
    double percent;       /* achieved / needed, in % (display only) */
} engine_target_t;

typedef struct {
    const programme_unit_t *unit; /* the root */
    engine_summary_t summary;
    const engine_unit_result_t **demonstration; /* this year, best first */
    size_t demonstration_count;
    const engine_unit_result_t **national; /* national candidates, best first */
    size_t national_count;
    int national_quota;
    int quota_total;             /* sum of the prefectures' quotas this year */
    engine_progress_t *progress; /* one per year first_year..year */
    size_t progress_count;
    engine_target_t *targets; /* the programme's targets, in its order */
    size_t target_count;
} engine_province_result_t;

int engine_result_year(const engine_result_t *self);
int64_t engine_result_now(const engine_result_t *self);
const programme_t *engine_result_programme(const engine_result_t *self);
/* Units in scope, sorted by code. */
size_t engine_result_unit_count(const engine_result_t *self);
const engine_unit_result_t *engine_result_unit(const engine_result_t *self, size_t index);
const engine_unit_result_t *engine_result_find_unit(const engine_result_t *self, const char *code);
/* Prefectures with a unit in scope, sorted by code. */
size_t engine_result_prefecture_count(const engine_result_t *self);
const engine_prefecture_result_t *engine_result_prefecture(const engine_result_t *self,
                                                           size_t index);
const engine_prefecture_result_t *engine_result_find_prefecture(const engine_result_t *self,
                                                                const char *code);
/* The unit the evaluation was made for (its scope): the root when the
 * province evaluates, the prefecture when a hub does, the county for its
 * self-check. Renderings head their page with its name. */
const programme_unit_t *engine_result_scope(const engine_result_t *self);
/* The province section; NULL unless the scope was the whole province. */
const engine_province_result_t *engine_result_province(const engine_result_t *self);

/* Attaches the provenance of a unit's counted version (copied), and flags
 * the unit ENGINE_FLAG_CLAIMED_TIME when its judgement is implausible. The
 * engine has no store nor keys, so the caller that has them (the app)
 * establishes the facts after engine_evaluate; this is the one change a
 * result takes, made before it is rendered or shared between threads.
 * Returns 0, SF_EINVAL (the unit is not in the result's scope or has no
 * counted version) or SF_ENOMEM. */
int engine_result_set_provenance(engine_result_t *self, const char *unit,
                                 const provenance_t *provenance);

const char *engine_status_name(engine_status_t status); /* "on_time", "late", "missing" */
/* Name of one flag bit ("late", "discrepancy", ...), NULL for an unknown bit. */
const char *engine_flag_name(unsigned flag);
const char *engine_rec_source_name(engine_rec_source_t source); /* "automatic", ... */

/* The pass rule of PRODUCT.md for one value against one criterion, in exact
 * integer arithmetic (thresholds to 1e-6). Exposed for the tests and the
 * county's per-field hints. */
bool engine_criterion_passes(const programme_criterion_t *criterion, const report_value_t *value);

#endif
