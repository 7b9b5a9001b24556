/* engine.c - one evaluation engine for every tier (see engine.h).
 *
 * Layout: the input files every added version into a bucket per
 * (unit, year), so choosing the counted version and merging inspections
 * never needs a global sort. Evaluation walks the programme's years from the
 * first to the requested one, reusing one set of result buffers, because
 * units designated in an earlier year leave the later rankings. */
#include "domain/engine.h"
#include "base/error.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Thresholds and percentages are compared in millionths of a percentage
 * point, in 128-bit integers, so 89.99 % never rounds up to 90 %. */
#define MICRO 1000000
#define PERCENT_MICRO 100000000u /* 100 % in micro-points */

typedef unsigned __int128 u128;

typedef struct {
    bool present;
    bool flag;
    uint64_t a; /* count, or numerator */
    uint64_t b; /* denominator */
} dense_value_t;

typedef struct {
    int unit;
    int year;
    engine_tier_t tier;
    char report_id[REPORT_ID_MAX];
    uint32_t version;
    uint64_t series;
    int64_t submitted_at;
    int64_t received_at;
    size_t present_count;
    /* Judged alone, when added: what an uninspected unit-year of an
     * earlier year needs (see evaluate_unit). */
    size_t items_passed;
    int64_t margin_sum_micro;
    /* Programme criterion order, in the same allocation: evaluation reads
     * the header and then the values of every version it looks at. */
    dense_value_t values[];
} stored_t;

typedef struct {
    char report_id[REPORT_ID_MAX];
    char *reason;
    int64_t returned_at;
} return_t;

typedef struct {
    int group; /* unit index of the prefecture */
    int year;
    char **codes;
    size_t code_count;
    bool confirmed;
    int64_t made_at;
    uint64_t revision;
} recommendation_t;

/* Everything known about one unit-year. */
typedef struct {
    stored_t **reports; /* owned by input->reports */
    size_t report_count, report_cap;
    const stored_t *highest_id; /* the version with the largest report_id */
    return_t *returns;
    size_t return_count, return_cap;
} bucket_t;

struct engine_input {
    const programme_t *programme;
    int first_year, year_count;
    size_t unit_count, criterion_count, item_count;
    int64_t *threshold_micro; /* per criterion */
    /* Looked up once here, not per unit and year: each of these costs a
     * search or a date parse in the programme. */
    const programme_criterion_t **criteria; /* per criterion */
    int64_t *self_deadline;                 /* per year: self-assessment deadline */
    int64_t *rec_deadline;                  /* per year: recommendation deadline */
    int *quota;                             /* per group slot and year */
    int ratio_criteria;                     /* number of ratio criteria in the standard */
    int64_t tolerance_micro;
    unsigned disqualifying; /* flags that stop a unit from qualifying */
    int *group_of;          /* per unit: index of the unit holding its quota, -1 */
    int *evaluated;         /* evaluated unit indices sorted by code */
    size_t evaluated_count;
    int *groups; /* group unit indices sorted by code */
    size_t group_count;
    int *group_slot;      /* per unit: position in groups, -1 */
    size_t *members;      /* positions in evaluated[], grouped by group slot, by code */
    size_t *member_start; /* per group slot: first of its members; [group_count] = end */
    int root;
    bucket_t *buckets; /* unit_count * year_count */
    stored_t **reports;
    size_t report_count, report_cap;
    recommendation_t *recs;
    size_t rec_count, rec_cap;
};

struct engine_result {
    const programme_t *programme;
    int year;
    int64_t now;
    engine_unit_result_t *units; /* all evaluated units, sorted by code */
    size_t unit_count;
    engine_criterion_result_t *criteria_block;
    bool *items_block;
    engine_prefecture_result_t *prefectures; /* all groups, sorted by code */
    size_t prefecture_count;
    const engine_unit_result_t **pointer_block; /* rankings, lists */
    engine_aggregate_t *aggregate_block;
    size_t *scope_units;
    size_t scope_unit_count;
    size_t *scope_prefectures;
    size_t scope_prefecture_count;
    bool has_province;
    const programme_unit_t *scope; /* the unit the evaluation is for */
    engine_province_result_t province;
    char **reasons;                 /* per unit: its own copy of the return reason */
    provenance_t *provenance_block; /* per unit, once a caller attaches one */
};

static int grow(void **array, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t cap2 = *cap ? *cap * 2 : 8;
    while (cap2 < need)
        cap2 *= 2;
    void *p = realloc(*array, cap2 * size);
    if (!p)
        return SF_ENOMEM;
    *array = p;
    *cap = cap2;
    return 0;
}

static void set_err(char *err, size_t errsize, const char *fmt, ...)
{
    if (!err || !errsize)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errsize, fmt, ap);
    va_end(ap);
}

static int64_t to_micro(double value)
{
    return (int64_t)llround(value * MICRO);
}

/* floor(100 * num / den) in micro-points; den > 0. */
static int64_t percent_micro(uint64_t num, uint64_t den)
{
    /* The same quotient without a 128-bit division when num * 1e8 fits. */
    if (num <= UINT64_MAX / PERCENT_MICRO) {
        uint64_t scaled = num * PERCENT_MICRO / den;
        return scaled > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)scaled;
    }
    u128 scaled = (u128)num * PERCENT_MICRO / den;
    return scaled > (u128)INT64_MAX ? INT64_MAX : (int64_t)scaled;
}

static bool passes_micro(criterion_kind_t kind, criterion_op_t op, int64_t threshold_micro,
                         const dense_value_t *v)
{
    if (!v->present)
        return false;
    switch (kind) {
    case CRITERION_BOOL:
        return v->flag == (threshold_micro != 0);
    case CRITERION_COUNT: {
        u128 lhs = (u128)v->a * MICRO;
        u128 rhs = threshold_micro < 0 ? 0 : (u128)threshold_micro;
        return op == OP_EQ ? lhs == rhs : lhs >= rhs;
    }
    case CRITERION_RATIO: {
        if (v->b == 0)
            return false;
        /* 100*num/den >= t  <=>  num * 1e8 >= t_micro * den */
        u128 lhs = (u128)v->a * PERCENT_MICRO;
        u128 rhs = (u128)(threshold_micro < 0 ? 0 : threshold_micro) * v->b;
        return op == OP_EQ ? lhs == rhs : lhs >= rhs;
    }
    }
    return false;
}

static void dense_from_value(dense_value_t *out, const report_value_t *in, criterion_kind_t kind)
{
    memset(out, 0, sizeof *out);
    if (in->kind != kind)
        return; /* a value of the wrong kind is as good as none */
    out->present = true;
    out->flag = in->flag;
    out->a = kind == CRITERION_COUNT ? in->count : in->num;
    out->b = in->den;
}

/* Everything but the criterion id, which the caller copies. */
static void value_from_dense(report_value_t *out, const dense_value_t *in,
                             const programme_criterion_t *criterion)
{
    out->kind = criterion->kind;
    out->flag = in->present && in->flag;
    out->count = in->present && criterion->kind == CRITERION_COUNT ? in->a : 0;
    out->num = in->present && criterion->kind == CRITERION_RATIO ? in->a : 0;
    out->den = in->present && criterion->kind == CRITERION_RATIO ? in->b : 0;
}

bool engine_criterion_passes(const programme_criterion_t *criterion, const report_value_t *value)
{
    if (!criterion || !value)
        return false;
    dense_value_t dense;
    dense_from_value(&dense, value, criterion->kind);
    return passes_micro(criterion->kind, criterion->op, to_micro(criterion->threshold), &dense);
}

static int compare_unit_codes(const programme_t *programme, int a, int b)
{
    return strcmp(programme_unit(programme, (size_t)a)->code,
                  programme_unit(programme, (size_t)b)->code);
}

/* Insertion sort keeps this free of a global for qsort's comparator; the
 * lists are a few thousand codes, sorted once per input. */
static void sort_by_code(const programme_t *programme, int *list, size_t count)
{
    for (size_t i = 1; i < count; i++) {
        int value = list[i];
        size_t j = i;
        while (j > 0 && compare_unit_codes(programme, list[j - 1], value) > 0) {
            list[j] = list[j - 1];
            j--;
        }
        list[j] = value;
    }
}

void engine_input_destroy(engine_input_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    engine_input_t *self = *self_p;
    size_t buckets = self->unit_count * (size_t)self->year_count;
    for (size_t i = 0; self->buckets && i < buckets; i++) {
        free(self->buckets[i].reports);
        for (size_t r = 0; r < self->buckets[i].return_count; r++)
            free(self->buckets[i].returns[r].reason);
        free(self->buckets[i].returns);
    }
    for (size_t i = 0; i < self->report_count; i++)
        free(self->reports[i]);
    for (size_t i = 0; i < self->rec_count; i++) {
        for (size_t c = 0; c < self->recs[i].code_count; c++)
            free(self->recs[i].codes[c]);
        free(self->recs[i].codes);
    }
    free(self->recs);
    free(self->reports);
    free(self->buckets);
    free(self->threshold_micro);
    free(self->criteria);
    free(self->self_deadline);
    free(self->rec_deadline);
    free(self->quota);
    free(self->group_of);
    free(self->evaluated);
    free(self->groups);
    free(self->group_slot);
    free(self->members);
    free(self->member_start);
    free(self);
    *self_p = NULL;
}

/* Members per group, so evaluating a group never scans the country. */
static int index_group_members(engine_input_t *self)
{
    self->members = calloc(self->evaluated_count + 1, sizeof(size_t));
    self->member_start = calloc(self->group_count + 2, sizeof(size_t));
    if (!self->members || !self->member_start)
        return SF_ENOMEM;
    for (size_t i = 0; i < self->evaluated_count; i++) {
        int group = self->group_of[self->evaluated[i]];
        if (group >= 0)
            self->member_start[self->group_slot[group] + 1]++;
    }
    for (size_t g = 0; g < self->group_count; g++)
        self->member_start[g + 1] += self->member_start[g];
    size_t *fill = calloc(self->group_count + 1, sizeof(size_t));
    if (!fill)
        return SF_ENOMEM;
    for (size_t i = 0; i < self->evaluated_count; i++) {
        int group = self->group_of[self->evaluated[i]];
        if (group < 0)
            continue;
        size_t slot = (size_t)self->group_slot[group];
        self->members[self->member_start[slot] + fill[slot]++] = i;
    }
    free(fill);
    return 0;
}

/* What evaluation asks of the programme per criterion, year and group. */
static int index_programme(engine_input_t *self)
{
    const programme_t *programme = self->programme;
    size_t years = (size_t)self->year_count;
    self->criteria = calloc(self->criterion_count + 1, sizeof *self->criteria);
    self->self_deadline = calloc(years, sizeof(int64_t));
    self->rec_deadline = calloc(years, sizeof(int64_t));
    self->quota = calloc(self->group_count * years + 1, sizeof(int));
    if (!self->criteria || !self->self_deadline || !self->rec_deadline || !self->quota)
        return SF_ENOMEM;
    for (size_t c = 0; c < self->criterion_count; c++) {
        self->criteria[c] = programme_criterion(programme, c);
        self->threshold_micro[c] = to_micro(self->criteria[c]->threshold);
        self->ratio_criteria += self->criteria[c]->kind == CRITERION_RATIO;
    }
    for (size_t y = 0; y < years; y++) {
        int year = self->first_year + (int)y;
        self->self_deadline[y] = programme_deadline(programme, STAGE_SELF_ASSESSMENT, year);
        self->rec_deadline[y] = programme_deadline(programme, STAGE_RECOMMENDATION, year);
        for (size_t g = 0; g < self->group_count; g++) {
            const char *code = programme_unit(programme, (size_t)self->groups[g])->code;
            self->quota[g * years + y] = programme_quota(programme, code, year);
        }
    }
    self->tolerance_micro = to_micro(programme_tolerance(programme));
    self->disqualifying = ENGINE_FLAGS_DISQUALIFY;
    if (programme_late_disqualifies(programme))
        self->disqualifying |= ENGINE_FLAG_LATE;
    return 0;
}

engine_input_t *engine_input_new(const programme_t *programme, sf_error_t *error)
{
    if (!programme) {
        sf_error_set(error, SF_EINVAL, "no programme");
        return NULL;
    }
    engine_input_t *self = calloc(1, sizeof *self);
    if (!self) {
        sf_error_set(error, SF_ENOMEM, "out of memory");
        return NULL;
    }
    self->programme = programme;
    self->first_year = programme_first_year(programme);
    self->year_count = programme_last_year(programme) - self->first_year + 1;
    if (self->year_count < 1)
        self->year_count = 1;
    self->unit_count = programme_unit_count(programme);
    self->criterion_count = programme_criterion_count(programme);
    self->item_count = programme_item_count(programme);
    self->root = -1;
    size_t n = self->unit_count ? self->unit_count : 1;
    self->threshold_micro = calloc(self->criterion_count + 1, sizeof(int64_t));
    self->group_of = malloc(n * sizeof(int));
    self->group_slot = malloc(n * sizeof(int));
    self->evaluated = malloc(n * sizeof(int));
    self->groups = malloc(n * sizeof(int));
    self->buckets = calloc(n * (size_t)self->year_count, sizeof(bucket_t));
    if (!self->threshold_micro || !self->group_of || !self->group_slot || !self->evaluated ||
        !self->groups || !self->buckets)
        goto fail;
    for (size_t u = 0; u < self->unit_count; u++) {
        const programme_unit_t *unit = programme_unit(programme, u);
        if (unit->parent < 0 && self->root < 0)
            self->root = (int)u;
        self->group_slot[u] = -1;
    }
    for (size_t u = 0; u < self->unit_count; u++) {
        self->group_of[u] = -1;
        if (!programme_unit(programme, u)->evaluated)
            continue;
        self->evaluated[self->evaluated_count++] = (int)u;
        int group = programme_recommender(programme, (int)u);
        self->group_of[u] = group;
        if (group >= 0 && self->group_slot[group] < 0) {
            self->group_slot[group] = 0;
            self->groups[self->group_count++] = group;
        }
    }
    sort_by_code(programme, self->evaluated, self->evaluated_count);
    sort_by_code(programme, self->groups, self->group_count);
    for (size_t g = 0; g < self->group_count; g++)
        self->group_slot[self->groups[g]] = (int)g;
    if (index_group_members(self) || index_programme(self))
        goto fail;
    return self;
fail:
    engine_input_destroy(&self);
    sf_error_set(error, SF_ENOMEM, "out of memory");
    return NULL;
}

const programme_t *engine_input_programme(const engine_input_t *self)
{
    return self ? self->programme : NULL;
}

static bucket_t *bucket_for(const engine_input_t *self, int unit, int year)
{
    return &self->buckets[(size_t)unit * (size_t)self->year_count +
                          (size_t)(year - self->first_year)];
}

static int resolve_unit_year(const engine_input_t *self, const char *code, int year)
{
    if (!code || year < self->first_year || year >= self->first_year + self->year_count)
        return SF_EINVAL;
    int unit = programme_find_unit(self->programme, code);
    if (unit < 0 || !programme_unit(self->programme, (size_t)unit)->evaluated)
        return SF_EINVAL;
    return unit;
}

/* The version's own items passed and margin sum, as evaluate_criteria and
 * evaluate_unit would find them with no inspection. */
static void judge_stored(const engine_input_t *self, stored_t *stored)
{
    const programme_t *programme = self->programme;
    for (size_t i = 0; i < self->item_count; i++) {
        const programme_item_t *item = programme_item(programme, i);
        bool passed = item->criterion_count > 0;
        for (int k = 0; k < item->criterion_count; k++) {
            size_t c = (size_t)(item->first_criterion + k);
            const programme_criterion_t *criterion = self->criteria[c];
            passed = passed && passes_micro(criterion->kind, criterion->op,
                                            self->threshold_micro[c], &stored->values[c]);
        }
        stored->items_passed += passed;
    }
    for (size_t c = 0; c < self->criterion_count; c++) {
        const dense_value_t *v = &stored->values[c];
        if (self->criteria[c]->kind == CRITERION_RATIO && v->present && v->b > 0)
            stored->margin_sum_micro += percent_micro(v->a, v->b) - self->threshold_micro[c];
    }
}

static int add_stored(engine_input_t *self, const report_t *report, engine_tier_t tier,
                      int64_t received_at)
{
    if (!self || !report)
        return SF_EINVAL;
    int unit = resolve_unit_year(self, report->unit, report->year);
    if (unit < 0)
        return unit;
    bucket_t *bucket = bucket_for(self, unit, report->year);
    /* A redelivered version is the same version: keep the first copy. A
     * store hands its versions over in report_id order, so a new one is
     * usually above every id the bucket holds: one comparison then, not a
     * scan (a unit-year of thousands of versions made ranking quadratic). */
    bool above = bucket->highest_id && strcmp(report->report_id, bucket->highest_id->report_id) > 0;
    for (size_t i = 0; !above && i < bucket->report_count; i++) {
        const stored_t *known = bucket->reports[i];
        if (known->tier == tier && report->report_id[0] &&
            strcmp(known->report_id, report->report_id) == 0)
            return 0;
    }
    if (grow((void **)&self->reports, &self->report_cap, self->report_count + 1,
             sizeof(stored_t *)) ||
        grow((void **)&bucket->reports, &bucket->report_cap, bucket->report_count + 1,
             sizeof(stored_t *)))
        return SF_ENOMEM;
    stored_t *stored =
        calloc(1, sizeof *stored + (self->criterion_count + 1) * sizeof(dense_value_t));
    if (!stored)
        return SF_ENOMEM;
    stored->unit = unit;
    stored->year = report->year;
    stored->tier = tier;
    snprintf(stored->report_id, sizeof stored->report_id, "%s", report->report_id);
    stored->version = report->version;
    stored->series = report->series;
    stored->submitted_at = report->submitted_at;
    stored->received_at = received_at;
    for (size_t v = 0; v < report->value_count; v++) {
        int c = programme_find_criterion(self->programme, report->values[v].criterion);
        if (c < 0)
            continue; /* report_validate refuses these; the engine just ignores them */
        const programme_criterion_t *criterion = programme_criterion(self->programme, (size_t)c);
        dense_from_value(&stored->values[c], &report->values[v], criterion->kind);
        if (stored->values[c].present)
            stored->present_count++;
    }
    judge_stored(self, stored);
    if (!bucket->highest_id || strcmp(stored->report_id, bucket->highest_id->report_id) > 0)
        bucket->highest_id = stored;
    bucket->reports[bucket->report_count++] = stored;
    self->reports[self->report_count++] = stored;
    return 0;
}

int engine_input_add_report(engine_input_t *self, const report_t *report, int64_t received_at)
{
    return add_stored(self, report, ENGINE_TIER_SELF, received_at);
}

int engine_input_add_inspection(engine_input_t *self, const report_t *inspection,
                                engine_tier_t tier)
{
    if (tier != ENGINE_TIER_PREFECTURE && tier != ENGINE_TIER_PROVINCE)
        return SF_EINVAL;
    return add_stored(self, inspection, tier, 0);
}

int engine_input_add_return(engine_input_t *self, const char *unit_code, int year,
                            const char *report_id, const char *reason, int64_t returned_at)
{
    if (!self)
        return SF_EINVAL;
    int unit = resolve_unit_year(self, unit_code, year);
    if (unit < 0)
        return unit;
    bucket_t *bucket = bucket_for(self, unit, year);
    if (grow((void **)&bucket->returns, &bucket->return_cap, bucket->return_count + 1,
             sizeof(return_t)))
        return SF_ENOMEM;
    return_t *ret = &bucket->returns[bucket->return_count];
    memset(ret, 0, sizeof *ret);
    snprintf(ret->report_id, sizeof ret->report_id, "%s", report_id ? report_id : "");
    ret->reason = strdup(reason ? reason : "");
    if (!ret->reason)
        return SF_ENOMEM;
    ret->returned_at = returned_at;
    bucket->return_count++;
    return 0;
}

int engine_input_add_recommendation(engine_input_t *self, const char *prefecture, int year,
                                    const char *const *units, size_t unit_count, bool confirmed,
                                    int64_t made_at, uint64_t revision)
{
    if (!self || !prefecture || (unit_count && !units))
        return SF_EINVAL;
    if (year < self->first_year || year >= self->first_year + self->year_count)
        return SF_EINVAL;
    int group = programme_find_unit(self->programme, prefecture);
    if (group < 0 || self->group_slot[group] < 0)
        return SF_EINVAL;
    if (grow((void **)&self->recs, &self->rec_cap, self->rec_count + 1, sizeof(recommendation_t)))
        return SF_ENOMEM;
    recommendation_t *rec = &self->recs[self->rec_count];
    memset(rec, 0, sizeof *rec);
    rec->codes = calloc(unit_count + 1, sizeof(char *));
    if (!rec->codes)
        return SF_ENOMEM;
    for (size_t i = 0; i < unit_count; i++) {
        rec->codes[i] = strdup(units[i] ? units[i] : "");
        if (!rec->codes[i]) {
            for (size_t j = 0; j < i; j++)
                free(rec->codes[j]);
            free(rec->codes);
            return SF_ENOMEM;
        }
    }
    rec->code_count = unit_count;
    rec->group = group;
    rec->year = year;
    rec->confirmed = confirmed;
    rec->made_at = made_at;
    rec->revision = revision;
    self->rec_count++;
    return 0;
}

/* ---- evaluation ---- */

/* The latest submission counts: the later numbering series (a
 * re-initialised node starts a new one), then the later submission (a node
 * restored from a backup numbers again from where the backup stood), then
 * the higher version, then the larger report_id, so the choice never
 * depends on arrival order. */
static bool stored_newer(const stored_t *a, const stored_t *b)
{
    if (a->series != b->series)
        return a->series > b->series;
    if (a->submitted_at != b->submitted_at)
        return a->submitted_at > b->submitted_at;
    if (a->version != b->version)
        return a->version > b->version;
    return strcmp(a->report_id, b->report_id) > 0;
}

/* Ranking of PRODUCT.md: more items passed, larger mean margin over the
 * ratio criteria, earlier submission, smaller code. Every qualified unit
 * has the same number of ratio criteria, so sums order as means do. */
static int rank_compare(const engine_unit_result_t *a, const engine_unit_result_t *b)
{
    if (a->items_passed != b->items_passed)
        return a->items_passed > b->items_passed ? -1 : 1;
    if (a->margin_sum_micro != b->margin_sum_micro)
        return a->margin_sum_micro > b->margin_sum_micro ? -1 : 1;
    if (a->submitted_at != b->submitted_at)
        return a->submitted_at < b->submitted_at ? -1 : 1;
    return strcmp(a->unit->code, b->unit->code);
}

static void sort_ranked(const engine_unit_result_t **list, size_t count)
{
    for (size_t i = 1; i < count; i++) {
        const engine_unit_result_t *value = list[i];
        size_t j = i;
        while (j > 0 && rank_compare(list[j - 1], value) > 0) {
            list[j] = list[j - 1];
            j--;
        }
        list[j] = value;
    }
}

typedef struct {
    const engine_input_t *input;
    engine_result_t *result;
    int *designated;   /* per unit index: year designated, 0 */
    size_t *result_of; /* per unit index: position in result->units */
    /* The requested year: only then are the display-only fields (values,
     * summaries) filled; earlier years decide who was designated. */
    bool final;
    bool *passed; /* per criterion, of the unit being evaluated */
} eval_t;

static bool discrepant(const eval_t *ev, size_t c, const dense_value_t *self_value,
                       bool self_passed, const dense_value_t *inspected)
{
    const programme_criterion_t *criterion = ev->input->criteria[c];
    if (!inspected->present)
        return false;
    bool inspected_passed =
        passes_micro(criterion->kind, criterion->op, ev->input->threshold_micro[c], inspected);
    if (self_passed && !inspected_passed)
        return true;
    if (criterion->kind == CRITERION_RATIO && self_value->present && self_value->b > 0 &&
        inspected->b > 0) {
        int64_t diff =
            percent_micro(self_value->a, self_value->b) - percent_micro(inspected->a, inspected->b);
        if (diff < 0)
            diff = -diff;
        return diff > ev->input->tolerance_micro;
    }
    return false;
}

/* Per criterion, the latest inspection of a tier that holds a value for it. */
static const stored_t *latest_inspection(const bucket_t *bucket, engine_tier_t tier, size_t c)
{
    const stored_t *best = NULL;
    for (size_t i = 0; i < bucket->report_count; i++) {
        const stored_t *s = bucket->reports[i];
        if (s->tier == tier && s->values[c].present && (!best || stored_newer(s, best)))
            best = s;
    }
    return best;
}

/* A unit-year's result before anything is known: missing, no flags. */
static void unit_result_reset(const eval_t *ev, engine_unit_result_t *r, int unit)
{
    r->status = ENGINE_MISSING;
    r->flags = 0;
    r->report_id[0] = '\0';
    r->version = 0;
    r->version_count = 0;
    r->submitted_at = r->received_at = r->first_submitted_at = 0;
    r->return_reason = NULL;
    r->rank = 0;
    r->recommended_auto = r->recommended = r->demonstration = r->national_candidate = false;
    r->designated_year = ev->designated[unit];
}

/* The versions of the unit's own report: how many, the first submission,
 * and the one counted (the newest); *any_inspection when an inspection
 * is among the stored items. */
static const stored_t *count_versions(const bucket_t *bucket, engine_unit_result_t *r,
                                      bool *any_inspection)
{
    const stored_t *counted = NULL;
    for (size_t i = 0; i < bucket->report_count; i++) {
        const stored_t *s = bucket->reports[i];
        if (s->tier != ENGINE_TIER_SELF) {
            *any_inspection = true;
            continue;
        }
        if (r->version_count == 0 || s->submitted_at < r->first_submitted_at)
            r->first_submitted_at = s->submitted_at;
        r->version_count++;
        if (!counted || stored_newer(s, counted))
            counted = s;
    }
    return counted;
}

/* Status and flags from the counted version: late by the first
 * submission, corrected, incomplete, returned; or not yet due. */
static void judge_counted(const eval_t *ev, engine_unit_result_t *r, const bucket_t *bucket,
                          const stored_t *counted, int year)
{
    int64_t deadline = ev->input->self_deadline[year - ev->input->first_year];
    if (counted) {
        memcpy(r->report_id, counted->report_id, strlen(counted->report_id) + 1);
        r->version = counted->version;
        r->submitted_at = counted->submitted_at;
        r->received_at = counted->received_at;
        /* On time or late is decided by the first submission: a correction the
         * prefecture asked for after the deadline does not make a unit late. */
        r->status = r->first_submitted_at <= deadline ? ENGINE_ON_TIME : ENGINE_LATE;
        if (r->status == ENGINE_LATE)
            r->flags |= ENGINE_FLAG_LATE;
        if (r->version_count > 1)
            r->flags |= ENGINE_FLAG_CORRECTED;
        if (counted->present_count < ev->input->criterion_count)
            r->flags |= ENGINE_FLAG_MISSING_VALUES;
        const return_t *latest_return = NULL;
        for (size_t i = 0; i < bucket->return_count; i++) {
            const return_t *ret = &bucket->returns[i];
            bool matches = ret->report_id[0] ? strcmp(ret->report_id, counted->report_id) == 0
                                             : counted->submitted_at <= ret->returned_at;
            if (matches && (!latest_return || ret->returned_at >= latest_return->returned_at))
                latest_return = ret;
        }
        if (latest_return) {
            r->flags |= ENGINE_FLAG_RETURNED;
            r->return_reason = latest_return->reason;
        }
    } else if (ev->result->now <= deadline) {
        r->flags |= ENGINE_FLAG_NOT_YET_DUE;
    }
    if (r->designated_year)
        r->flags |= ENGINE_FLAG_DESIGNATED;
}

/* Each criterion's value after inspections, its pass (in ev->passed),
 * discrepancy and margin; the unit's flags and margin sum. Only the
 * requested year writes the result's criteria: they are most of its
 * memory, and earlier years need only the passes and the sum. */
static void evaluate_criteria(const eval_t *ev, engine_unit_result_t *r, const bucket_t *bucket,
                              const stored_t *counted, bool any_inspection)
{
    const engine_input_t *input = ev->input;
    static const dense_value_t none = {0};
    r->margin_sum_micro = 0;
    for (size_t c = 0; c < input->criterion_count; c++) {
        const programme_criterion_t *criterion = input->criteria[c];
        engine_criterion_result_t scratch;
        engine_criterion_result_t *cr = ev->final ? &r->criteria[c] : &scratch;
        const dense_value_t *self_value = counted ? &counted->values[c] : &none;
        const dense_value_t *effective = self_value;
        const int64_t threshold = input->threshold_micro[c];
        cr->criterion = criterion;
        cr->source = ENGINE_TIER_SELF;
        cr->self_present = self_value->present;
        cr->self_passed = passes_micro(criterion->kind, criterion->op, threshold, self_value);
        cr->discrepancy = false;
        if (any_inspection) {
            static const engine_tier_t tiers[] = {ENGINE_TIER_PREFECTURE, ENGINE_TIER_PROVINCE};
            for (size_t t = 0; t < 2; t++) {
                const stored_t *insp = latest_inspection(bucket, tiers[t], c);
                if (!insp)
                    continue;
                effective = &insp->values[c];
                cr->source = tiers[t];
                r->flags |= ENGINE_FLAG_INSPECTED;
                if (counted && discrepant(ev, c, self_value, cr->self_passed, effective))
                    cr->discrepancy = true;
            }
        }
        if (cr->discrepancy)
            r->flags |= ENGINE_FLAG_DISCREPANCY;
        cr->present = effective->present;
        cr->passed = passes_micro(criterion->kind, criterion->op, threshold, effective);
        ev->passed[c] = cr->passed;
        if (ev->final) {
            value_from_dense(&cr->value, effective, criterion);
            value_from_dense(&cr->self_value, self_value, criterion);
            memcpy(cr->value.criterion, criterion->id, sizeof cr->value.criterion);
            memcpy(cr->self_value.criterion, criterion->id, sizeof cr->self_value.criterion);
        }
        cr->margin_micro = 0;
        if (criterion->kind == CRITERION_RATIO && effective->present && effective->b > 0) {
            cr->margin_micro = percent_micro(effective->a, effective->b) - threshold;
            r->margin_sum_micro += cr->margin_micro;
        }
    }
}

static void evaluate_unit(eval_t *ev, engine_unit_result_t *r, int unit, int year)
{
    const engine_input_t *input = ev->input;
    const programme_t *programme = input->programme;
    const bucket_t *bucket = bucket_for(input, unit, year);
    bool any_inspection = false;

    unit_result_reset(ev, r, unit);
    const stored_t *counted = count_versions(bucket, r, &any_inspection);
    judge_counted(ev, r, bucket, counted, year);
    if (!ev->final && !any_inspection) {
        /* An earlier year only decides who was designated: with nothing
         * inspected, the counted version's own judgement is the unit's. */
        r->items_passed = counted ? counted->items_passed : 0;
        r->margin_sum_micro = counted ? counted->margin_sum_micro : 0;
    } else {
        evaluate_criteria(ev, r, bucket, counted, any_inspection);
        r->items_passed = 0;
        for (size_t i = 0; i < input->item_count; i++) {
            const programme_item_t *item = programme_item(programme, i);
            bool passed = item->criterion_count > 0;
            for (int c = 0; c < item->criterion_count; c++)
                passed = passed && ev->passed[item->first_criterion + c];
            r->item_passed[i] = passed;
            r->items_passed += passed;
        }
    }
    r->mean_margin =
        input->ratio_criteria ? (double)r->margin_sum_micro / MICRO / input->ratio_criteria : 0.0;
    /* A unit that never reported takes no part, whatever was inspected. */
    r->qualified =
        counted && r->items_passed == input->item_count && !(r->flags & input->disqualifying);
}

static void summary_reset(engine_summary_t *s, size_t criterion_count)
{
    engine_aggregate_t *aggregates = s->aggregates;
    memset(s, 0, sizeof *s);
    s->aggregates = aggregates;
    memset(aggregates, 0, criterion_count * sizeof *aggregates);
}

/* Completeness and timeliness count the participating units only (all
 * evaluated units unless the programme lists participants); qualification
 * and aggregates count every unit that reported. */
static void summary_add(engine_summary_t *s, const engine_unit_result_t *r, size_t criteria)
{
    if (r->unit->participating) {
        s->expected++;
        if (r->status == ENGINE_MISSING)
            s->missing++;
        else {
            s->reported++;
            if (r->status == ENGINE_ON_TIME)
                s->on_time++;
            else
                s->late++;
        }
    }
    if (r->status == ENGINE_MISSING)
        return;
    s->qualified += r->qualified;
    for (size_t c = 0; c < criteria; c++) {
        const engine_criterion_result_t *cr = &r->criteria[c];
        engine_aggregate_t *agg = &s->aggregates[c];
        agg->criterion = cr->criterion;
        if (!cr->present)
            continue;
        agg->units++;
        switch (cr->criterion->kind) {
        case CRITERION_BOOL:
            agg->true_count += cr->value.flag;
            break;
        case CRITERION_COUNT:
            agg->sum += cr->value.count;
            break;
        case CRITERION_RATIO:
            agg->sum += cr->value.num;
            agg->den_sum += cr->value.den;
            break;
        }
    }
}

/* Adds a group's counts into the province's: integer sums, so the same as
 * adding every unit again. */
static void summary_merge(engine_summary_t *s, const engine_summary_t *part, size_t criteria)
{
    s->expected += part->expected;
    s->reported += part->reported;
    s->on_time += part->on_time;
    s->late += part->late;
    s->missing += part->missing;
    s->qualified += part->qualified;
    for (size_t c = 0; c < criteria; c++) {
        s->aggregates[c].units += part->aggregates[c].units;
        s->aggregates[c].true_count += part->aggregates[c].true_count;
        s->aggregates[c].sum += part->aggregates[c].sum;
        s->aggregates[c].den_sum += part->aggregates[c].den_sum;
    }
}

static void summary_finish(engine_summary_t *s, const engine_input_t *input)
{
    for (size_t c = 0; c < input->criterion_count; c++) {
        engine_aggregate_t *agg = &s->aggregates[c];
        agg->criterion = programme_criterion(input->programme, c);
        if (agg->criterion->kind == CRITERION_RATIO && agg->den_sum)
            agg->percent = 100.0 * (double)agg->sum / (double)agg->den_sum;
        else if (agg->criterion->kind == CRITERION_BOOL && agg->units)
            agg->percent = 100.0 * (double)agg->true_count / (double)agg->units;
        else
            agg->percent = 0.0;
    }
}

static int compare_recs(const recommendation_t *a, const recommendation_t *b)
{
    if (a->revision != b->revision)
        return a->revision > b->revision ? 1 : -1;
    if (a->confirmed != b->confirmed)
        return a->confirmed ? 1 : -1;
    if (a->made_at != b->made_at)
        return a->made_at > b->made_at ? 1 : -1;
    for (size_t i = 0; i < a->code_count && i < b->code_count; i++) {
        int order = strcmp(a->codes[i], b->codes[i]);
        if (order)
            return order;
    }
    return a->code_count == b->code_count ? 0 : (a->code_count > b->code_count ? 1 : -1);
}

static void evaluate_group(eval_t *ev, engine_prefecture_result_t *p, size_t slot, int year)
{
    int group = ev->input->groups[slot];
    const engine_input_t *input = ev->input;
    engine_result_t *result = ev->result;
    const programme_unit_t *unit = programme_unit(input->programme, (size_t)group);
    p->unit = unit;
    p->quota = input->quota[slot * (size_t)input->year_count + (size_t)(year - input->first_year)];
    summary_reset(&p->summary, input->criterion_count);
    p->ranking_count = p->automatic_count = p->recommended_count = p->ignored_count = 0;

    for (size_t m = input->member_start[slot]; m < input->member_start[slot + 1]; m++) {
        engine_unit_result_t *r = &result->units[input->members[m]];
        if (ev->final)
            summary_add(&p->summary, r, input->criterion_count);
        if (r->qualified && !r->designated_year)
            p->ranking[p->ranking_count++] = r;
    }
    summary_finish(&p->summary, input);
    sort_ranked(p->ranking, p->ranking_count);
    for (size_t i = 0; i < p->ranking_count; i++)
        ((engine_unit_result_t *)p->ranking[i])->rank = (int)i + 1;
    size_t quota = p->quota > 0 ? (size_t)p->quota : 0;
    p->automatic = p->ranking;
    p->automatic_count = p->ranking_count < quota ? p->ranking_count : quota;
    for (size_t i = 0; i < p->automatic_count; i++)
        ((engine_unit_result_t *)p->automatic[i])->recommended_auto = true;

    const recommendation_t *best = NULL;
    for (size_t i = 0; i < input->rec_count; i++) {
        const recommendation_t *rec = &input->recs[i];
        if (rec->group == group && rec->year == year && (!best || compare_recs(rec, best) > 0))
            best = rec;
    }
    p->made_at = 0;
    p->revision = 0;
    p->late = false;
    if (!best) {
        p->source = ENGINE_REC_AUTOMATIC;
        for (size_t i = 0; i < p->automatic_count; i++)
            p->recommended[p->recommended_count++] = p->automatic[i];
    } else {
        p->source = best->confirmed ? ENGINE_REC_CONFIRMED : ENGINE_REC_PROVISIONAL;
        p->made_at = best->made_at;
        p->revision = best->revision;
        p->late = best->made_at > input->rec_deadline[year - input->first_year];
        for (size_t i = 0; i < best->code_count; i++) {
            int u = programme_find_unit(input->programme, best->codes[i]);
            bool ok = u >= 0 && input->group_of[u] == group && p->recommended_count < quota;
            const engine_unit_result_t *r = ok ? &result->units[ev->result_of[u]] : NULL;
            for (size_t j = 0; ok && j < p->recommended_count; j++)
                ok = p->recommended[j] != r;
            if (!ok) {
                p->ignored_count++;
                continue;
            }
            p->recommended[p->recommended_count++] = r;
        }
    }
    p->provisional = p->source != ENGINE_REC_CONFIRMED;
    for (size_t i = 0; i < p->recommended_count; i++)
        ((engine_unit_result_t *)p->recommended[i])->recommended = true;
}

static void evaluate_targets(const engine_input_t *input, engine_province_result_t *province,
                             const engine_progress_t *progress)
{
    size_t participants = programme_participant_count(input->programme);
    for (size_t i = 0; i < province->target_count; i++) {
        const programme_target_t *target = programme_target(input->programme, i);
        engine_target_t *t = &province->targets[i];
        t->id = target->id;
        t->title_zh = target->title_zh;
        t->national = target->of == TARGET_OF_NATIONAL;
        t->share = target->kind == TARGET_SHARE;
        t->value = target->value;
        t->by = target->by;
        /* A share of 50 % of 102 sites means 51 of them: round up. */
        double needed = t->share ? target->value * (double)participants / 100.0 : target->value;
        t->needed = needed > 0 ? (size_t)ceil(needed - 1e-9) : 0;
        t->achieved = t->national ? progress->national_total : progress->demonstration_total;
        t->percent = t->needed ? 100.0 * (double)t->achieved / (double)t->needed : 0.0;
    }
}

static void evaluate_year(eval_t *ev, int year)
{
    const engine_input_t *input = ev->input;
    engine_result_t *result = ev->result;
    engine_province_result_t *province = &result->province;

    for (size_t i = 0; i < result->unit_count; i++)
        evaluate_unit(ev, &result->units[i], input->evaluated[i], year);
    province->quota_total = 0;
    for (size_t g = 0; g < result->prefecture_count; g++) {
        evaluate_group(ev, &result->prefectures[g], g, year);
        province->quota_total += result->prefectures[g].quota;
    }

    summary_reset(&province->summary, input->criterion_count);
    for (size_t g = 0; ev->final && g < result->prefecture_count; g++)
        summary_merge(&province->summary, &result->prefectures[g].summary, input->criterion_count);
    province->demonstration_count = 0;
    for (size_t i = 0; i < result->unit_count; i++) {
        engine_unit_result_t *r = &result->units[i];
        if (ev->final && input->group_of[input->evaluated[i]] < 0)
            summary_add(&province->summary, r, input->criterion_count);
        /* Recommended, still qualified under the province's own inspections,
         * and not already a demonstration unit of an earlier year. */
        if (r->recommended && r->qualified && !r->designated_year) {
            r->demonstration = true;
            province->demonstration[province->demonstration_count++] = r;
        }
    }
    summary_finish(&province->summary, input);
    sort_ranked(province->demonstration, province->demonstration_count);
    province->national_quota = programme_national_quota(input->programme, year);
    size_t national_quota = province->national_quota > 0 ? (size_t)province->national_quota : 0;
    province->national = province->demonstration;
    province->national_count = province->demonstration_count < national_quota
                                   ? province->demonstration_count
                                   : national_quota;
    for (size_t i = 0; i < province->national_count; i++)
        ((engine_unit_result_t *)province->national[i])->national_candidate = true;

    engine_progress_t *progress = &province->progress[year - input->first_year];
    progress->year = year;
    progress->demonstration = province->demonstration_count;
    progress->national = province->national_count;
    const engine_progress_t *before = year > input->first_year ? progress - 1 : NULL;
    progress->demonstration_total =
        (before ? before->demonstration_total : 0) + progress->demonstration;
    progress->national_total = (before ? before->national_total : 0) + progress->national;
    province->progress_count = (size_t)(year - input->first_year + 1);
    evaluate_targets(input, province, progress);

    for (size_t i = 0; i < province->demonstration_count; i++) {
        size_t position = (size_t)(province->demonstration[i] - result->units);
        ev->designated[input->evaluated[position]] = year;
    }
}

void engine_result_destroy(engine_result_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    engine_result_t *self = *self_p;
    free(self->units);
    free(self->criteria_block);
    free(self->items_block);
    free(self->prefectures);
    free(self->pointer_block);
    free(self->aggregate_block);
    free(self->scope_units);
    free(self->scope_prefectures);
    free(self->province.progress);
    free(self->province.targets);
    for (size_t i = 0; self->reasons && i < self->unit_count; i++)
        free(self->reasons[i]);
    free(self->reasons);
    free(self->provenance_block);
    free(self);
    *self_p = NULL;
}

static engine_result_t *result_new(const engine_input_t *input)
{
    engine_result_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    size_t units = input->evaluated_count, groups = input->group_count;
    size_t criteria = input->criterion_count, items = input->item_count;
    self->programme = input->programme;
    self->unit_count = units;
    self->prefecture_count = groups;
    self->units = calloc(units + 1, sizeof *self->units);
    self->criteria_block = calloc(units * criteria + 1, sizeof *self->criteria_block);
    self->items_block = calloc(units * items + 1, sizeof *self->items_block);
    self->prefectures = calloc(groups + 1, sizeof *self->prefectures);
    /* Per group: ranking and recommended lists (automatic aliases ranking);
     * province: demonstration list (national aliases it). */
    self->pointer_block = calloc(2 * units + units + 1, sizeof *self->pointer_block);
    self->aggregate_block = calloc((groups + 1) * criteria + 1, sizeof *self->aggregate_block);
    self->scope_units = calloc(units + 1, sizeof *self->scope_units);
    self->reasons = calloc(units + 1, sizeof *self->reasons);
    self->scope_prefectures = calloc(groups + 1, sizeof *self->scope_prefectures);
    self->province.progress = calloc((size_t)input->year_count, sizeof(engine_progress_t));
    self->province.target_count = programme_target_count(input->programme);
    self->province.targets = calloc(self->province.target_count + 1, sizeof(engine_target_t));
    if (!self->units || !self->criteria_block || !self->items_block || !self->prefectures ||
        !self->pointer_block || !self->aggregate_block || !self->scope_units ||
        !self->scope_prefectures || !self->province.progress || !self->province.targets ||
        !self->reasons) {
        engine_result_destroy(&self);
        return NULL;
    }
    for (size_t i = 0; i < units; i++) {
        engine_unit_result_t *r = &self->units[i];
        int unit = input->evaluated[i];
        r->unit = programme_unit(input->programme, (size_t)unit);
        r->prefecture = input->group_of[unit] >= 0
                            ? programme_unit(input->programme, (size_t)input->group_of[unit])
                            : NULL;
        /* Filled when the requested year is evaluated. */
        r->criteria = &self->criteria_block[i * criteria];
        r->item_passed = &self->items_block[i * items];
    }
    /* Each group's lists get as many slots as it has units. */
    size_t offset = 0;
    for (size_t g = 0; g < groups; g++) {
        size_t members = input->member_start[g + 1] - input->member_start[g];
        self->prefectures[g].ranking = &self->pointer_block[offset];
        self->prefectures[g].recommended = &self->pointer_block[offset + members];
        offset += 2 * members;
        self->prefectures[g].summary.aggregates = &self->aggregate_block[g * criteria];
    }
    self->province.demonstration = &self->pointer_block[offset];
    self->province.summary.aggregates = &self->aggregate_block[groups * criteria];
    if (input->root >= 0)
        self->province.unit = programme_unit(input->programme, (size_t)input->root);
    return self;
}

static int apply_scope(engine_result_t *result, const engine_input_t *input, const char *scope,
                       char *err, size_t errsize)
{
    int scope_unit = input->root;
    if (scope_unit < 0 && !(scope && scope[0])) {
        set_err(err, errsize, "programme %s has no root unit", programme_id(input->programme));
        return SF_EINVAL;
    }
    if (scope && scope[0]) {
        scope_unit = programme_find_unit(input->programme, scope);
        if (scope_unit < 0) {
            set_err(err, errsize, "scope %s: no such unit in programme %s", scope,
                    programme_id(input->programme));
            return SF_EINVAL;
        }
    }
    result->has_province = scope_unit == input->root;
    result->scope = programme_unit(input->programme, (size_t)scope_unit);
    const char *scope_code = programme_unit(input->programme, (size_t)scope_unit)->code;
    bool *group_in = calloc(input->group_count + 1, sizeof(bool));
    if (!group_in)
        return SF_ENOMEM;
    for (size_t i = 0; i < result->unit_count; i++) {
        int unit = input->evaluated[i];
        if (!result->has_province &&
            !programme_unit_within(input->programme, result->units[i].unit->code, scope_code))
            continue;
        result->scope_units[result->scope_unit_count++] = i;
        if (input->group_of[unit] >= 0)
            group_in[input->group_slot[input->group_of[unit]]] = true;
    }
    for (size_t g = 0; g < input->group_count; g++)
        if (group_in[g])
            result->scope_prefectures[result->scope_prefecture_count++] = g;
    free(group_in);
    return 0;
}

int engine_evaluate(const engine_input_t *input, int year, int64_t now, const char *scope,
                    engine_result_t **result_p, char *err, size_t errsize)
{
    if (!input || !result_p)
        return SF_EINVAL;
    *result_p = NULL;
    if (year < input->first_year || year >= input->first_year + input->year_count) {
        set_err(err, errsize, "year %d is outside programme %s (%d-%d)", year,
                programme_id(input->programme), input->first_year,
                input->first_year + input->year_count - 1);
        return SF_EINVAL;
    }
    engine_result_t *result = result_new(input);
    eval_t ev = {.input = input, .result = result};
    int rc = SF_ENOMEM;
    if (!result)
        goto out;
    result->year = year;
    result->now = now;
    ev.designated = calloc(input->unit_count + 1, sizeof(int));
    ev.result_of = calloc(input->unit_count + 1, sizeof(size_t));
    ev.passed = calloc(input->criterion_count + 1, sizeof(bool));
    if (!ev.designated || !ev.result_of || !ev.passed)
        goto out;
    for (size_t i = 0; i < input->evaluated_count; i++)
        ev.result_of[input->evaluated[i]] = i;
    for (int y = input->first_year; y <= year; y++) {
        ev.final = y == year;
        evaluate_year(&ev, y);
    }
    /* The result outlives the input: it keeps its own return reasons. */
    for (size_t i = 0; i < result->unit_count; i++) {
        engine_unit_result_t *r = &result->units[i];
        if (!r->return_reason)
            continue;
        result->reasons[i] = strdup(r->return_reason);
        if (!result->reasons[i])
            goto out;
        r->return_reason = result->reasons[i];
    }
    rc = apply_scope(result, input, scope, err, errsize);
out:
    free(ev.designated);
    free(ev.result_of);
    free(ev.passed);
    if (rc == 0)
        *result_p = result;
    else
        engine_result_destroy(&result);
    return rc;
}

int engine_result_year(const engine_result_t *self)
{
    return self->year;
}

int64_t engine_result_now(const engine_result_t *self)
{
    return self->now;
}

const programme_t *engine_result_programme(const engine_result_t *self)
{
    return self->programme;
}

size_t engine_result_unit_count(const engine_result_t *self)
{
    return self->scope_unit_count;
}

const engine_unit_result_t *engine_result_unit(const engine_result_t *self, size_t index)
{
    return index < self->scope_unit_count ? &self->units[self->scope_units[index]] : NULL;
}

const engine_unit_result_t *engine_result_find_unit(const engine_result_t *self, const char *code)
{
    int unit = programme_find_unit(self->programme, code);
    if (unit < 0)
        return NULL;
    const programme_unit_t *target = programme_unit(self->programme, (size_t)unit);
    for (size_t i = 0; i < self->scope_unit_count; i++)
        if (self->units[self->scope_units[i]].unit == target)
            return &self->units[self->scope_units[i]];
    return NULL;
}

int engine_result_set_provenance(engine_result_t *self, const char *unit,
                                 const provenance_t *provenance)
{
    engine_unit_result_t *u = (engine_unit_result_t *)engine_result_find_unit(self, unit);
    if (!u || !u->report_id[0])
        return SF_EINVAL;
    /* One block for every unit: the result is freed as one. */
    if (!self->provenance_block &&
        !(self->provenance_block = calloc(self->unit_count, sizeof *self->provenance_block)))
        return SF_ENOMEM;
    provenance_t *slot = &self->provenance_block[u - self->units];
    *slot = *provenance;
    u->provenance = slot;
    if (provenance->judgement.implausible)
        u->flags |= ENGINE_FLAG_CLAIMED_TIME;
    else
        u->flags &= ~(unsigned)ENGINE_FLAG_CLAIMED_TIME;
    return 0;
}

size_t engine_result_prefecture_count(const engine_result_t *self)
{
    return self->scope_prefecture_count;
}

const engine_prefecture_result_t *engine_result_prefecture(const engine_result_t *self,
                                                           size_t index)
{
    return index < self->scope_prefecture_count ? &self->prefectures[self->scope_prefectures[index]]
                                                : NULL;
}

const engine_prefecture_result_t *engine_result_find_prefecture(const engine_result_t *self,
                                                                const char *code)
{
    for (size_t i = 0; i < self->scope_prefecture_count; i++) {
        const engine_prefecture_result_t *p = &self->prefectures[self->scope_prefectures[i]];
        if (strcmp(p->unit->code, code) == 0)
            return p;
    }
    return NULL;
}

const programme_unit_t *engine_result_scope(const engine_result_t *self)
{
    return self->scope;
}

const engine_province_result_t *engine_result_province(const engine_result_t *self)
{
    return self->has_province ? &self->province : NULL;
}

const char *engine_status_name(engine_status_t status)
{
    switch (status) {
    case ENGINE_ON_TIME:
        return "on_time";
    case ENGINE_LATE:
        return "late";
    case ENGINE_MISSING:
        return "missing";
    }
    return "unknown";
}

const char *engine_flag_name(unsigned flag)
{
    switch (flag) {
    case ENGINE_FLAG_LATE:
        return "late";
    case ENGINE_FLAG_DISCREPANCY:
        return "discrepancy";
    case ENGINE_FLAG_RETURNED:
        return "returned";
    case ENGINE_FLAG_MISSING_VALUES:
        return "missing_values";
    case ENGINE_FLAG_INSPECTED:
        return "inspected";
    case ENGINE_FLAG_CORRECTED:
        return "corrected";
    case ENGINE_FLAG_NOT_YET_DUE:
        return "not_yet_due";
    case ENGINE_FLAG_DESIGNATED:
        return "designated_earlier";
    case ENGINE_FLAG_CLAIMED_TIME:
        return "claimed_time_implausible";
    }
    return NULL;
}

const char *engine_rec_source_name(engine_rec_source_t source)
{
    switch (source) {
    case ENGINE_REC_AUTOMATIC:
        return "automatic";
    case ENGINE_REC_PROVISIONAL:
        return "provisional";
    case ENGINE_REC_CONFIRMED:
        return "confirmed";
    }
    return "unknown";
}
