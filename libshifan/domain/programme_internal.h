/* programme_internal.h - the loaded programme's layout, shared by
 * programme_load.c (which fills it from JSON) and programme.c (which answers
 * queries on it). Not a contract: programme.h is. */
#ifndef SHIFAN_PROGRAMME_INTERNAL_H
#define SHIFAN_PROGRAMME_INTERNAL_H

#include "domain/programme.h"

typedef struct {
    int year;
    int64_t deadline;
} stage_exception_t;

typedef struct {
    programme_stage_info_t info;
    stage_exception_t *exceptions;
    size_t exception_count;
} stage_t;

typedef struct {
    char code[PROGRAMME_CODE_MAX];
    int unit;
} unit_key_t;

typedef struct {
    const char *id; /* points into the criterion */
    int criterion;
} criterion_key_t;

struct programme {
    char id[PROGRAMME_ID_MAX];
    char standard_id[PROGRAMME_ID_MAX];
    char *title;
    char *title_en;
    uint64_t revision;
    int first_year, last_year;
    unit_level_t evaluated_level;
    double tolerance;
    bool late_disqualifies;

    programme_unit_t *units;
    size_t unit_count;
    bool *holds_quota; /* per unit: has quota entries of its own */
    programme_alias_t *aliases;
    size_t alias_count;
    unit_key_t *keys; /* units and aliases, sorted by code */
    size_t key_count;
    size_t participant_count;

    programme_section_t *sections;
    size_t section_count;
    programme_item_t *items;
    size_t item_count;
    programme_criterion_t *criteria;
    size_t criterion_count;
    criterion_key_t *criteria_by_text; /* ids sorted by strcmp: lookups */

    programme_quota_t *quotas;
    size_t quota_count;
    int *national; /* per year from first_year */
    programme_target_t *targets;
    size_t target_count;
    stage_t *stages;
    size_t stage_count;
    int standard_stage[STAGE_COUNT]; /* index into stages */

    char *json;
};

/* Index of the unit (or the alias's unit) with this code, or -1; the keys
 * must be sorted by programme_compare_unit_keys. */
int programme_lookup(const programme_t *self, const char *code);
int programme_compare_unit_keys(const void *a, const void *b);

#endif
