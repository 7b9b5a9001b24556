/* programme.c - queries on a loaded programme (programme_load.c builds it):
 * units, criteria, quotas, targets and the calendar. */
#include "domain/programme.h"
#include "base/stime.h"
#include "domain/programme_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const stage_names[STAGE_COUNT] = {"self_assessment", "recommendation",
                                                     "evaluation", "materials"};
static const char *const level_names[] = {"province", "prefecture", "county", "site"};

int programme_criterion_compare(const char *a, const char *b)
{
    const char *pa = a, *pb = b;
    while (*pa && *pb) {
        bool da = *pa >= '0' && *pa <= '9', db = *pb >= '0' && *pb <= '9';
        if (da && db) {
            while (*pa == '0' && pa[1] >= '0' && pa[1] <= '9')
                pa++;
            while (*pb == '0' && pb[1] >= '0' && pb[1] <= '9')
                pb++;
            size_t la = 0, lb = 0; /* digit runs; no strspn on this hot path */
            while (pa[la] >= '0' && pa[la] <= '9')
                la++;
            while (pb[lb] >= '0' && pb[lb] <= '9')
                lb++;
            if (la != lb)
                return la < lb ? -1 : 1;
            int cmp = strncmp(pa, pb, la);
            if (cmp)
                return cmp < 0 ? -1 : 1;
            pa += la;
            pb += lb;
        } else {
            if (*pa != *pb)
                return (unsigned char)*pa < (unsigned char)*pb ? -1 : 1;
            pa++;
            pb++;
        }
    }
    if (*pa || *pb)
        return *pa ? 1 : -1;
    /* "1.01" and "1.1" are different ids: break the tie by bytes. */
    int cmp = strcmp(a, b);
    return cmp < 0 ? -1 : cmp > 0;
}

int programme_compare_unit_keys(const void *a, const void *b)
{
    return strcmp(((const unit_key_t *)a)->code, ((const unit_key_t *)b)->code);
}

int programme_lookup(const programme_t *self, const char *code)
{
    if (!self || !code || strlen(code) >= PROGRAMME_CODE_MAX)
        return -1;
    unit_key_t key;
    strcpy(key.code, code);
    const unit_key_t *found =
        bsearch(&key, self->keys, self->key_count, sizeof key, programme_compare_unit_keys);
    return found ? found->unit : -1;
}

static int64_t end_of_day(int year, int month, int day)
{
    char date[16];
    int64_t start;
    snprintf(date, sizeof date, "%04d-%02d-%02d", year, month, day);
    if (stime_parse(date, &start))
        return -1;
    return start + 86400 - 1;
}

void programme_destroy(programme_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    programme_t *self = *self_p;
    free(self->title);
    free(self->title_en);
    for (size_t u = 0; self->units && u < self->unit_count; u++)
        free(self->units[u].name);
    free(self->units);
    free(self->holds_quota);
    for (size_t a = 0; self->aliases && a < self->alias_count; a++)
        free(self->aliases[a].name);
    free(self->aliases);
    free(self->keys);
    for (size_t s = 0; self->sections && s < self->section_count; s++) {
        free(self->sections[s].title_zh);
        free(self->sections[s].title_en);
    }
    free(self->sections);
    free(self->items);
    free(self->criteria_by_text);
    for (size_t c = 0; self->criteria && c < self->criterion_count; c++) {
        free(self->criteria[c].title_zh);
        free(self->criteria[c].title_en);
    }
    free(self->criteria);
    free(self->quotas);
    free(self->national);
    for (size_t t = 0; self->targets && t < self->target_count; t++) {
        free(self->targets[t].title_zh);
        free(self->targets[t].title_en);
    }
    free(self->targets);
    for (size_t s = 0; self->stages && s < self->stage_count; s++) {
        free(self->stages[s].info.title_zh);
        free(self->stages[s].info.title_en);
        free(self->stages[s].exceptions);
    }
    free(self->stages);
    free(self->json);
    free(self);
    *self_p = NULL;
}

const char *programme_json(const programme_t *self)
{
    return self->json;
}

const char *programme_id(const programme_t *self)
{
    return self->id;
}

const char *programme_title(const programme_t *self)
{
    return self->title;
}

const char *programme_title_en(const programme_t *self)
{
    return self->title_en;
}

const char *programme_standard_id(const programme_t *self)
{
    return self->standard_id;
}

uint64_t programme_revision(const programme_t *self)
{
    return self->revision;
}

int programme_first_year(const programme_t *self)
{
    return self->first_year;
}

int programme_last_year(const programme_t *self)
{
    return self->last_year;
}

bool programme_has_year(const programme_t *self, int year)
{
    return year >= self->first_year && year <= self->last_year;
}

double programme_tolerance(const programme_t *self)
{
    return self->tolerance;
}

unit_level_t programme_evaluated_level(const programme_t *self)
{
    return self->evaluated_level;
}

bool programme_late_disqualifies(const programme_t *self)
{
    return self->late_disqualifies;
}

const char *programme_level_name(unit_level_t level)
{
    return (unsigned)level < 4 ? level_names[level] : "unknown";
}

size_t programme_unit_count(const programme_t *self)
{
    return self->unit_count;
}

const programme_unit_t *programme_unit(const programme_t *self, size_t index)
{
    return index < self->unit_count ? &self->units[index] : NULL;
}

int programme_find_unit(const programme_t *self, const char *code)
{
    return programme_lookup(self, code);
}

const char *programme_unit_code(const programme_t *self, const char *code)
{
    int index = programme_lookup(self, code);
    return index >= 0 ? self->units[index].code : NULL;
}

bool programme_unit_within(const programme_t *self, const char *code, const char *ancestor)
{
    int unit = programme_lookup(self, code), above = programme_lookup(self, ancestor);
    if (unit < 0 || above < 0)
        return false;
    for (; unit >= 0; unit = self->units[unit].parent)
        if (unit == above)
            return true;
    return false;
}

size_t programme_alias_count(const programme_t *self)
{
    return self->alias_count;
}

const programme_alias_t *programme_alias(const programme_t *self, size_t index)
{
    return index < self->alias_count ? &self->aliases[index] : NULL;
}

size_t programme_participant_count(const programme_t *self)
{
    return self->participant_count;
}

size_t programme_section_count(const programme_t *self)
{
    return self->section_count;
}

const programme_section_t *programme_section(const programme_t *self, size_t index)
{
    return index < self->section_count ? &self->sections[index] : NULL;
}

size_t programme_criterion_count(const programme_t *self)
{
    return self->criterion_count;
}

const programme_criterion_t *programme_criterion(const programme_t *self, size_t index)
{
    return index < self->criterion_count ? &self->criteria[index] : NULL;
}

/* Criteria are sorted by programme_criterion_compare, checked on load. */
int programme_find_criterion(const programme_t *self, const char *id)
{
    size_t low = 0, high = self->criterion_count;
    if (!id)
        return -1;
    while (low < high) {
        size_t mid = low + (high - low) / 2;
        int cmp = strcmp(self->criteria_by_text[mid].id, id);
        if (cmp == 0)
            return self->criteria_by_text[mid].criterion;
        if (cmp < 0)
            low = mid + 1;
        else
            high = mid;
    }
    return -1;
}

size_t programme_item_count(const programme_t *self)
{
    return self->item_count;
}

const programme_item_t *programme_item(const programme_t *self, size_t index)
{
    return index < self->item_count ? &self->items[index] : NULL;
}

int programme_find_item(const programme_t *self, const char *id)
{
    for (size_t i = 0; id && i < self->item_count; i++)
        if (strcmp(self->items[i].id, id) == 0)
            return (int)i;
    return -1;
}

int programme_quota(const programme_t *self, const char *prefecture, int year)
{
    int unit = programme_lookup(self, prefecture);
    if (unit < 0)
        return 0;
    int own = 0, below = 0;
    for (size_t q = 0; q < self->quota_count; q++) {
        const programme_quota_t *quota = &self->quotas[q];
        if (quota->year != year)
            continue;
        if (quota->prefecture == unit)
            own += quota->quota;
        else if (!self->holds_quota[unit] &&
                 programme_unit_within(self, self->units[quota->prefecture].code, prefecture))
            below += quota->quota;
    }
    return self->holds_quota[unit] ? own : below;
}

int programme_quota_holder(const programme_t *self, int unit)
{
    if (unit < 0 || (size_t)unit >= self->unit_count)
        return -1;
    for (; unit >= 0; unit = self->units[unit].parent)
        if (self->holds_quota[unit])
            return unit;
    return -1;
}

int programme_recommender(const programme_t *self, int unit)
{
    if (unit < 0 || (size_t)unit >= self->unit_count)
        return -1;
    const programme_unit_t *u = &self->units[unit];
    int holder = programme_quota_holder(self, unit);
    if (holder >= 0 && holder != unit)
        return holder;
    if (u->prefecture >= 0 && u->prefecture != unit)
        return u->prefecture;
    return u->parent;
}

size_t programme_quota_count(const programme_t *self)
{
    return self->quota_count;
}

const programme_quota_t *programme_quota_at(const programme_t *self, size_t index)
{
    return index < self->quota_count ? &self->quotas[index] : NULL;
}

int programme_national_quota(const programme_t *self, int year)
{
    if (!programme_has_year(self, year))
        return 0;
    return self->national[year - self->first_year];
}

size_t programme_target_count(const programme_t *self)
{
    return self->target_count;
}

const programme_target_t *programme_target(const programme_t *self, size_t index)
{
    return index < self->target_count ? &self->targets[index] : NULL;
}

static int64_t stage_deadline(const stage_t *stage, int year)
{
    for (size_t e = 0; e < stage->exception_count; e++)
        if (stage->exceptions[e].year == year)
            return stage->exceptions[e].deadline;
    return end_of_day(year, stage->info.deadline_month, stage->info.deadline_day);
}

int64_t programme_deadline(const programme_t *self, programme_stage_t stage, int year)
{
    if ((unsigned)stage >= STAGE_COUNT)
        return -1;
    return stage_deadline(&self->stages[self->standard_stage[stage]], year);
}

int64_t programme_deadline_named(const programme_t *self, const char *stage, int year)
{
    for (size_t s = 0; stage && s < self->stage_count; s++)
        if (strcmp(self->stages[s].info.id, stage) == 0)
            return stage_deadline(&self->stages[s], year);
    return -1;
}

const char *programme_stage_name(programme_stage_t stage)
{
    return (unsigned)stage < STAGE_COUNT ? stage_names[stage] : NULL;
}

size_t programme_stage_count(const programme_t *self)
{
    return self->stage_count;
}

const programme_stage_info_t *programme_stage_at(const programme_t *self, size_t index)
{
    return index < self->stage_count ? &self->stages[index].info : NULL;
}
