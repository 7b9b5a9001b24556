/* programme_load.c - a programme from its JSON (docs/programme-format.md):
 * every field checked, every refusal naming its JSON path, and the
 * canonical text kept for publishing. */
#include "domain/programme.h"
#include "base/error.h"
#include "base/stime.h"
#include "domain/embedded.h"
#include "domain/programme_internal.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_NAME "programme-yunnan-2017.json"
#define TEXT_MAX 4096 /* bytes of a title, name or note */
#define PATH_MAX_LEN 160

/* Where we are in the document, for messages that name the JSON path. */
typedef struct {
    const char *source;
    sf_error_t *error; /* may be NULL */
} loader_t;

/* Sets ld->error to SF_EINVAL and "SOURCE: PATH: message"; returns SF_EINVAL. */
__attribute__((format(printf, 3, 4))) static int fail(loader_t *ld, const char *path,
                                                      const char *fmt, ...)
{
    if (!ld->error)
        return SF_EINVAL;
    ld->error->code = SF_EINVAL;
    char *err = ld->error->text;
    size_t errsize = sizeof ld->error->text;
    int used = snprintf(err, errsize, "%s: %s%s", ld->source, path ? path : "", path ? ": " : "");
    if (used < 0 || (size_t)used >= errsize)
        return SF_EINVAL;
    va_list args;
    va_start(args, fmt);
    vsnprintf(err + used, errsize - (size_t)used, fmt, args);
    va_end(args);
    return SF_EINVAL;
}

/* A failure with its own code (SF_ENOMEM, SF_EIO): the same message shape. */
static void fail_with(loader_t *ld, int code, const char *what, const char *why)
{
    fail(ld, NULL, "%s%s", what, why);
    if (ld->error)
        ld->error->code = code;
}

static bool is_identifier(const char *key)
{
    if (!((*key >= 'a' && *key <= 'z') || (*key >= 'A' && *key <= 'Z') || *key == '_'))
        return false;
    for (; *key; key++)
        if (!((*key >= 'a' && *key <= 'z') || (*key >= 'A' && *key <= 'Z') || *key == '_' ||
              (*key >= '0' && *key <= '9')))
            return false;
    return true;
}

/* $.a.b for identifiers, $.a["530100"] otherwise: the path can be pasted
 * into jq. */
static void path_key(char *out, const char *parent, const char *key)
{
    int used = is_identifier(key) ? snprintf(out, PATH_MAX_LEN, "%s.%.40s", parent, key)
                                  : snprintf(out, PATH_MAX_LEN, "%s[\"%.40s\"]", parent, key);
    if (used >= PATH_MAX_LEN) /* paths are short; a cut one still locates the error */
        out[PATH_MAX_LEN - 1] = '\0';
}

static void path_index(char *out, const char *parent, size_t index)
{
    if (snprintf(out, PATH_MAX_LEN, "%s[%zu]", parent, index) >= PATH_MAX_LEN)
        out[PATH_MAX_LEN - 1] = '\0';
}

static const char *json_kind(const json_t *value)
{
    switch (json_typeof(value)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a real number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}

/* Unknown keys are refused so that a misspelt field is not silently ignored. */
static int check_keys(loader_t *ld, json_t *object, const char *path, const char *const *allowed)
{
    const char *key;
    json_t *value;
    json_object_foreach(object, key, value)
    {
        bool known = false;
        for (size_t i = 0; allowed[i] && !known; i++)
            known = strcmp(key, allowed[i]) == 0;
        if (!known) {
            char where[PATH_MAX_LEN];
            path_key(where, path, key);
            return fail(ld, where, "unknown key");
        }
    }
    return 0;
}

static json_t *member(loader_t *ld, json_t *object, const char *path, const char *key,
                      bool required, json_type type, char *where, int *rc)
{
    path_key(where, path, key);
    json_t *value = json_object_get(object, key);
    *rc = 0;
    if (!value) {
        if (required)
            *rc = fail(ld, where, "missing");
        return NULL;
    }
    bool ok = json_typeof(value) == type || (type == JSON_TRUE && json_typeof(value) == JSON_FALSE);
    if (!ok) {
        static const char *const wanted[] = {"an object", "an array",  "a string", "an integer",
                                             "a number",  "a boolean", "a boolean"};
        *rc = fail(ld, where, "expected %s, got %s", wanted[type], json_kind(value));
        return NULL;
    }
    return value;
}

static int get_text(loader_t *ld, json_t *object, const char *path, const char *key, bool required,
                    const char **out)
{
    char where[PATH_MAX_LEN];
    int rc;
    *out = NULL;
    if (!required && json_is_null(json_object_get(object, key)))
        return 0; /* "parent": null reads as no parent */
    json_t *value = member(ld, object, path, key, required, JSON_STRING, where, &rc);
    if (!value)
        return rc;
    size_t len = json_string_length(value);
    if (len == 0)
        return fail(ld, where, "empty");
    if (len > TEXT_MAX)
        return fail(ld, where, "longer than %d bytes", TEXT_MAX);
    if (strlen(json_string_value(value)) != len)
        return fail(ld, where, "contains a NUL character");
    *out = json_string_value(value);
    return 0;
}

static int get_integer(loader_t *ld, json_t *object, const char *path, const char *key,
                       bool required, long long min, long long max, long long *out)
{
    char where[PATH_MAX_LEN];
    int rc;
    json_t *value = json_object_get(object, key);
    path_key(where, path, key);
    if (value && json_is_real(value))
        return fail(ld, where, "expected an integer, got the real number %g",
                    json_real_value(value));
    value = member(ld, object, path, key, required, JSON_INTEGER, where, &rc);
    if (!value)
        return rc;
    long long number = json_integer_value(value);
    if (number < min || number > max)
        return fail(ld, where, "%lld is out of range %lld..%lld", number, min, max);
    *out = number;
    return 0;
}

/* Ids are ASCII so that they can be keys, file names and proto strings. */
static bool id_chars_ok(const char *text, const char *extra)
{
    if (!*text)
        return false;
    for (const char *p = text; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || strchr(extra, *p)))
            return false;
    return true;
}

static int get_id(loader_t *ld, json_t *object, const char *path, const char *key,
                  const char *extra, size_t size, char *out)
{
    const char *text;
    int rc = get_text(ld, object, path, key, true, &text);
    if (rc)
        return rc;
    char where[PATH_MAX_LEN];
    path_key(where, path, key);
    if (strlen(text) >= size)
        return fail(ld, where, "\"%.40s\" is longer than %zu characters", text, size - 1);
    if (!id_chars_ok(text, extra))
        return fail(ld, where, "\"%.40s\": use only a-z, 0-9 and \"%s\"", text, extra);
    strcpy(out, text);
    return 0;
}

static int dup_text(const char *text, char **out)
{
    *out = NULL;
    if (!text)
        return 0;
    *out = strdup(text);
    return *out ? 0 : SF_ENOMEM;
}

static bool is_code(const char *text, size_t digits)
{
    if (strlen(text) != digits)
        return false;
    for (size_t i = 0; i < digits; i++)
        if (text[i] < '0' || text[i] > '9')
            return false;
    return true;
}

static int find_exact_unit(const programme_t *self, const char *code)
{
    int index = programme_lookup(self, code);
    return index >= 0 && strcmp(self->units[index].code, code) == 0 ? index : -1;
}

/* "MM-DD" valid in every year: 02-29 is refused because it does not exist in
 * most years. */
static int parse_month_day(const char *text, int *month, int *day)
{
    char date[16];
    int64_t ignored;
    if (strlen(text) != 5 || text[2] != '-')
        return SF_EINVAL;
    snprintf(date, sizeof date, "2001-%s", text);
    if (stime_parse(date, &ignored))
        return SF_EINVAL;
    *month = (text[0] - '0') * 10 + (text[1] - '0');
    *day = (text[3] - '0') * 10 + (text[4] - '0');
    return 0;
}

static int parse_year_key(loader_t *ld, const programme_t *self, const char *key, const char *where,
                          int *year)
{
    if (!is_code(key, 4))
        return fail(ld, where, "\"%.20s\" is not a year", key);
    *year = atoi(key);
    if (*year < self->first_year || *year > self->last_year)
        return fail(ld, where, "year %d is outside the programme's years %d..%d", *year,
                    self->first_year, self->last_year);
    return 0;
}

/* $.years: first..last, at most 51 years. */
static int load_years(loader_t *ld, programme_t *self, json_t *root)
{
    int rc;
    char where[PATH_MAX_LEN];
    json_t *years = member(ld, root, "$", "years", true, JSON_OBJECT, where, &rc);
    static const char *const year_keys[] = {"first", "last", NULL};
    long long first, last;
    if (!years || (rc = check_keys(ld, years, "$.years", year_keys)) ||
        (rc = get_integer(ld, years, "$.years", "first", true, 1949, 9999, &first)) ||
        (rc = get_integer(ld, years, "$.years", "last", true, 1949, 9999, &last)))
        return rc;
    if (last < first || last - first > 50)
        return fail(ld, "$.years.last", "%lld must be between first (%lld) and first + 50", last,
                    first);
    self->first_year = (int)first;
    self->last_year = (int)last;
    return 0;
}

/* What is evaluated and how strictly: the level, the tolerance of a
 * discrepancy, and whether lateness disqualifies. */
static int load_rules(loader_t *ld, programme_t *self, json_t *root)
{
    char where[PATH_MAX_LEN];
    const char *text;
    int rc;
    if ((rc = get_text(ld, root, "$", "evaluated_level", true, &text)))
        return rc;
    if (strcmp(text, "county") == 0)
        self->evaluated_level = LEVEL_COUNTY;
    else if (strcmp(text, "site") == 0)
        self->evaluated_level = LEVEL_SITE;
    else
        return fail(ld, "$.evaluated_level", "expected \"county\" or \"site\"");

    self->tolerance = 5;
    json_t *tolerance = json_object_get(root, "tolerance_pp");
    if (tolerance) {
        if (!json_is_number(tolerance))
            return fail(ld, "$.tolerance_pp", "expected a number, got %s", json_kind(tolerance));
        self->tolerance = json_number_value(tolerance);
        if (!(self->tolerance >= 0 && self->tolerance <= 100))
            return fail(ld, "$.tolerance_pp", "%g is out of range 0..100", self->tolerance);
    }
    json_t *late = member(ld, root, "$", "late_disqualifies", false, JSON_TRUE, where, &rc);
    if (rc)
        return rc;
    self->late_disqualifies = late && json_is_true(late);
    return 0;
}

/* $.sources and $.notes: a string or an array of strings, kept only in the
 * canonical text. */
static int check_doc_texts(loader_t *ld, json_t *root)
{
    char where[PATH_MAX_LEN];
    static const char *const doc_keys[] = {"sources", "notes"};
    for (size_t k = 0; k < 2; k++) {
        json_t *doc = json_object_get(root, doc_keys[k]);
        char path[PATH_MAX_LEN];
        path_key(path, "$", doc_keys[k]);
        if (!doc || json_is_string(doc))
            continue;
        if (!json_is_array(doc))
            return fail(ld, path, "expected a string or an array of strings");
        size_t index;
        json_t *line;
        json_array_foreach(doc, index, line)
        {
            if (!json_is_string(line)) {
                path_index(where, path, index);
                return fail(ld, where, "expected a string, got %s", json_kind(line));
            }
        }
    }
    return 0;
}

static int load_header(loader_t *ld, programme_t *self, json_t *root)
{
    static const char *const top[] = {
        "format",      "id",      "title",           "title_en",       "revision",
        "standard_id", "years",   "evaluated_level", "tolerance_pp",   "late_disqualifies",
        "calendar",    "targets", "quotas",          "national_quota", "standard",
        "units",       "aliases", "participants",    "sources",        "notes",
        NULL};
    int rc = check_keys(ld, root, "$", top);
    long long number;
    const char *text;
    if (rc || (rc = get_integer(ld, root, "$", "format", true, 1, 1000, &number)))
        return rc;
    if (number != PROGRAMME_FORMAT)
        return fail(ld, "$.format", "format %lld is not supported (this build reads %d)", number,
                    PROGRAMME_FORMAT);
    if ((rc = get_id(ld, root, "$", "id", "-_.", sizeof self->id, self->id)) ||
        (rc = get_id(ld, root, "$", "standard_id", "-_.", sizeof self->standard_id,
                     self->standard_id)))
        return rc;
    if ((rc = get_text(ld, root, "$", "title", true, &text)) || (rc = dup_text(text, &self->title)))
        return rc;
    if ((rc = get_text(ld, root, "$", "title_en", false, &text)) ||
        (rc = dup_text(text, &self->title_en)))
        return rc;
    if ((rc = get_integer(ld, root, "$", "revision", true, 1, INT64_MAX, &number)))
        return rc;
    self->revision = (uint64_t)number;

    if ((rc = load_years(ld, self, root)) || (rc = load_rules(ld, self, root)))
        return rc;
    return check_doc_texts(ld, root);
}

static int add_key(programme_t *self, const char *code, int unit)
{
    strcpy(self->keys[self->key_count].code, code);
    self->keys[self->key_count].unit = unit;
    self->key_count++;
    return 0;
}

/* One entry of $.units: its fields, level and code; its parent's code is
 * kept in *parent (borrowed from the tree) until every unit is known. */
static int load_unit(loader_t *ld, programme_t *self, json_t *entry, size_t index,
                     const char **parent)
{
    char path[PATH_MAX_LEN], where[PATH_MAX_LEN];
    programme_unit_t *unit = &self->units[index];
    const char *code, *name, *level;
    int rc;
    self->unit_count = index + 1;
    path_index(path, "$.units", index);
    if (!json_is_object(entry))
        return fail(ld, path, "expected an object, got %s", json_kind(entry));
    static const char *const unit_keys[] = {"code", "name", "level", "parent", NULL};
    if ((rc = check_keys(ld, entry, path, unit_keys)) ||
        (rc = get_text(ld, entry, path, "code", true, &code)) ||
        (rc = get_text(ld, entry, path, "name", true, &name)) ||
        (rc = get_text(ld, entry, path, "level", true, &level)) ||
        (rc = get_text(ld, entry, path, "parent", false, parent)) ||
        (rc = dup_text(name, &unit->name)))
        return rc;
    int level_index = -1;
    for (int l = 0; l < 4; l++)
        if (strcmp(level, programme_level_name(l)) == 0)
            level_index = l;
    if (level_index < 0) {
        path_key(where, path, "level");
        return fail(ld, where,
                    "\"%.20s\": expected \"province\", \"prefecture\", \"county\" "
                    "or \"site\"",
                    level);
    }
    unit->level = (unit_level_t)level_index;
    if (!is_code(code, unit->level == LEVEL_SITE ? 9 : 6)) {
        path_key(where, path, "code");
        return fail(ld, where, "\"%.20s\" is not a %d-digit code", code,
                    unit->level == LEVEL_SITE ? 9 : 6);
    }
    strcpy(unit->code, code);
    unit->evaluated = unit->level == self->evaluated_level;
    if ((unit->level == LEVEL_PROVINCE) != (*parent == NULL)) {
        path_key(where, path, "parent");
        return fail(ld, where,
                    unit->level == LEVEL_PROVINCE ? "a province has no parent" : "missing");
    }
    add_key(self, code, (int)index);
    return 0;
}

/* One entry of $.aliases; its unit is resolved once the keys are sorted. */
static int load_alias(loader_t *ld, programme_t *self, json_t *entry, size_t index)
{
    char path[PATH_MAX_LEN], where[PATH_MAX_LEN];
    const char *code, *name, *current, *note;
    int rc;
    path_index(path, "$.aliases", index);
    if (!json_is_object(entry))
        return fail(ld, path, "expected an object, got %s", json_kind(entry));
    static const char *const alias_keys[] = {"code", "name", "current", "note", NULL};
    if ((rc = check_keys(ld, entry, path, alias_keys)) ||
        (rc = get_text(ld, entry, path, "code", true, &code)) ||
        (rc = get_text(ld, entry, path, "name", false, &name)) ||
        (rc = get_text(ld, entry, path, "current", true, &current)) ||
        (rc = get_text(ld, entry, path, "note", false, &note)))
        return rc;
    path_key(where, path, "code");
    if (!is_code(code, 6) && !is_code(code, 9))
        return fail(ld, where, "\"%.20s\" is not a 6- or 9-digit code", code);
    programme_alias_t *alias = &self->aliases[index];
    self->alias_count = index + 1;
    strcpy(alias->code, code);
    alias->unit = -1;
    if ((rc = dup_text(name, &alias->name)))
        return rc;
    add_key(self, code, -1 - (int)index); /* resolved below, once keys are sorted */
    return 0;
}

/* Sorts the keys (units and aliases) and refuses a code given twice,
 * naming the later entry. */
static int sort_unit_keys(loader_t *ld, programme_t *self)
{
    char path[PATH_MAX_LEN];
    qsort(self->keys, self->key_count, sizeof *self->keys, programme_compare_unit_keys);
    for (size_t k = 1; k < self->key_count; k++)
        if (strcmp(self->keys[k - 1].code, self->keys[k].code) == 0) {
            int a = self->keys[k - 1].unit, b = self->keys[k].unit;
            int later = a > b ? a : b;
            if (a < 0 || b < 0)
                snprintf(path, sizeof path, "$.aliases[%d].code", -1 - (a < 0 ? a : b));
            else
                snprintf(path, sizeof path, "$.units[%d].code", later);
            return fail(ld, path, "duplicate code %s", self->keys[k].code);
        }
    return 0;
}

/* Each unit's parent, one level up; then the prefecture of each unit, one
 * root, and at least one unit of evaluation. */
static int link_hierarchy(loader_t *ld, programme_t *self, const char **parents)
{
    char path[PATH_MAX_LEN];
    for (size_t u = 0; u < self->unit_count; u++) {
        programme_unit_t *unit = &self->units[u];
        unit->parent = -1;
        if (!parents[u])
            continue;
        int parent = programme_lookup(self, parents[u]);
        snprintf(path, sizeof path, "$.units[%zu].parent", u);
        if (parent < 0)
            return fail(ld, path, "unknown parent \"%.20s\" of %s", parents[u], unit->code);
        if (self->units[parent].level + 1 != unit->level)
            return fail(ld, path, "parent %s is a %s; a %s's parent must be a %s",
                        self->units[parent].code, programme_level_name(self->units[parent].level),
                        programme_level_name(unit->level), programme_level_name(unit->level - 1));
        unit->parent = parent;
    }
    size_t roots = 0, evaluated = 0;
    for (size_t u = 0; u < self->unit_count; u++) {
        programme_unit_t *unit = &self->units[u];
        roots += unit->level == LEVEL_PROVINCE;
        evaluated += unit->evaluated;
        unit->prefecture = -1;
        for (int up = (int)u; up >= 0; up = self->units[up].parent)
            if (self->units[up].level == LEVEL_PREFECTURE)
                unit->prefecture = up;
    }
    if (roots != 1)
        return fail(ld, "$.units", "%zu units of level province; exactly one is the root", roots);
    if (evaluated == 0)
        return fail(ld, "$.units", "no unit of the evaluated level %s",
                    programme_level_name(self->evaluated_level));
    return 0;
}

/* Each alias's current unit, then the alias keys point at it. */
static int resolve_aliases(loader_t *ld, programme_t *self, json_t *aliases)
{
    char path[PATH_MAX_LEN];
    for (size_t a = 0; a < self->alias_count; a++) {
        const char *current =
            json_string_value(json_object_get(json_array_get(aliases, a), "current"));
        int target = find_exact_unit(self, current);
        if (target < 0) {
            snprintf(path, sizeof path, "$.aliases[%zu].current", a);
            return fail(ld, path, "\"%.20s\" is not a unit's code", current);
        }
        self->aliases[a].unit = target;
    }
    for (size_t k = 0; k < self->key_count; k++)
        if (self->keys[k].unit < 0)
            self->keys[k].unit = self->aliases[-1 - self->keys[k].unit].unit;
    return 0;
}

static int load_units(loader_t *ld, programme_t *self, json_t *root)
{
    char where[PATH_MAX_LEN];
    int rc;
    json_t *units = member(ld, root, "$", "units", true, JSON_ARRAY, where, &rc);
    if (!units)
        return rc;
    json_t *aliases = member(ld, root, "$", "aliases", false, JSON_ARRAY, where, &rc);
    if (rc)
        return rc;
    size_t count = json_array_size(units), alias_count = json_array_size(aliases);
    if (count == 0)
        return fail(ld, "$.units", "no units");
    if (count > 1000000 || alias_count > 100000)
        return fail(ld, "$.units", "too many units");
    self->units = calloc(count, sizeof *self->units);
    self->holds_quota = calloc(count, sizeof *self->holds_quota);
    self->aliases = calloc(alias_count ? alias_count : 1, sizeof *self->aliases);
    self->keys = calloc(count + alias_count, sizeof *self->keys);
    if (!self->units || !self->holds_quota || !self->aliases || !self->keys)
        return SF_ENOMEM;
    const char **parents = calloc(count, sizeof *parents); /* borrowed from the tree */
    if (!parents)
        return SF_ENOMEM;
    size_t index;
    json_t *entry;
    json_array_foreach(units, index, entry)
    {
        if ((rc = load_unit(ld, self, entry, index, &parents[index])))
            goto out;
    }
    json_array_foreach(aliases, index, entry)
    {
        if ((rc = load_alias(ld, self, entry, index)))
            goto out;
    }
    if (!(rc = sort_unit_keys(ld, self)) && !(rc = link_hierarchy(ld, self, parents)))
        rc = resolve_aliases(ld, self, aliases);
out:
    free(parents);
    return rc;
}

static int load_participants(loader_t *ld, programme_t *self, json_t *root)
{
    char where[PATH_MAX_LEN];
    int rc;
    json_t *list = member(ld, root, "$", "participants", false, JSON_ARRAY, where, &rc);
    if (rc)
        return rc;
    if (!list) {
        for (size_t u = 0; u < self->unit_count; u++) {
            self->units[u].participating = self->units[u].evaluated;
            self->participant_count += self->units[u].evaluated;
        }
        return 0;
    }
    size_t index;
    json_t *entry;
    json_array_foreach(list, index, entry)
    {
        path_index(where, "$.participants", index);
        if (!json_is_string(entry))
            return fail(ld, where, "expected a unit code, got %s", json_kind(entry));
        int unit = programme_lookup(self, json_string_value(entry));
        if (unit < 0 || !self->units[unit].evaluated)
            return fail(ld, where, "\"%.20s\" is not a unit of evaluation",
                        json_string_value(entry));
        if (self->units[unit].participating)
            return fail(ld, where, "%s is listed twice", self->units[unit].code);
        self->units[unit].participating = true;
        self->participant_count++;
    }
    return 0;
}

static int load_sections(loader_t *ld, programme_t *self, json_t *sections)
{
    static const char *const keys[] = {"id", "title_zh", "title_en", NULL};
    char path[PATH_MAX_LEN], where[PATH_MAX_LEN];
    size_t count = json_array_size(sections), index;
    json_t *entry;
    int rc;
    if (count == 0)
        return fail(ld, "$.standard.sections", "no sections");
    if (count > 1000)
        return fail(ld, "$.standard.sections", "more than 1000 sections");
    if (!(self->sections = calloc(count, sizeof *self->sections)))
        return SF_ENOMEM;
    json_array_foreach(sections, index, entry)
    {
        programme_section_t *section = &self->sections[index];
        const char *title, *title_en;
        path_index(path, "$.standard.sections", index);
        if (!json_is_object(entry))
            return fail(ld, path, "expected an object, got %s", json_kind(entry));
        self->section_count = index + 1;
        if ((rc = check_keys(ld, entry, path, keys)) ||
            (rc = get_id(ld, entry, path, "id", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", sizeof section->id,
                         section->id)) ||
            (rc = get_text(ld, entry, path, "title_zh", true, &title)) ||
            (rc = get_text(ld, entry, path, "title_en", false, &title_en)) ||
            (rc = dup_text(title, &section->title_zh)) ||
            (rc = dup_text(title_en, &section->title_en)))
            return rc;
        for (size_t s = 0; s < index; s++)
            if (strcmp(self->sections[s].id, section->id) == 0) {
                path_key(where, path, "id");
                return fail(ld, where, "duplicate section id \"%s\"", section->id);
            }
    }
    return 0;
}

static int load_criterion_rule(loader_t *ld, programme_criterion_t *criterion, json_t *entry,
                               const char *path)
{
    char where[PATH_MAX_LEN];
    const char *kind, *op;
    int rc;
    if ((rc = get_text(ld, entry, path, "kind", true, &kind)) ||
        (rc = get_text(ld, entry, path, "op", true, &op)))
        return rc;
    path_key(where, path, "kind");
    if (strcmp(kind, "bool") == 0)
        criterion->kind = CRITERION_BOOL;
    else if (strcmp(kind, "count") == 0)
        criterion->kind = CRITERION_COUNT;
    else if (strcmp(kind, "ratio") == 0)
        criterion->kind = CRITERION_RATIO;
    else
        return fail(ld, where, "\"%.20s\": expected \"bool\", \"count\" or \"ratio\"", kind);
    path_key(where, path, "op");
    if (strcmp(op, ">=") == 0)
        criterion->op = OP_GE;
    else if (strcmp(op, "==") == 0)
        criterion->op = OP_EQ;
    else
        return fail(ld, where, "\"%.20s\": expected \">=\" or \"==\"", op);
    if (criterion->kind == CRITERION_BOOL && criterion->op != OP_EQ)
        return fail(ld, where, "a bool criterion takes \"==\"");
    if (criterion->kind == CRITERION_COUNT && criterion->op != OP_GE)
        return fail(ld, where,
                    "a count criterion takes \">=\" (a count passes at or above "
                    "its threshold)");

    path_key(where, path, "threshold");
    json_t *threshold = json_object_get(entry, "threshold");
    if (!threshold)
        return fail(ld, where, "missing");
    switch (criterion->kind) {
    case CRITERION_BOOL:
        if (!json_is_true(threshold))
            return fail(ld, where, "a bool criterion's threshold is true");
        criterion->threshold = 1;
        break;
    case CRITERION_COUNT:
        if (!json_is_integer(threshold))
            return fail(ld, where, "a count threshold is a whole number, got %s",
                        json_kind(threshold));
        if (json_integer_value(threshold) < 0 || json_integer_value(threshold) > 1000000000)
            return fail(ld, where, "%lld is out of range 0..1000000000",
                        (long long)json_integer_value(threshold));
        criterion->threshold = (double)json_integer_value(threshold);
        break;
    case CRITERION_RATIO:
        if (!json_is_number(threshold))
            return fail(ld, where, "a ratio threshold is a percentage, got %s",
                        json_kind(threshold));
        criterion->threshold = json_number_value(threshold);
        if (!(criterion->threshold >= 0 && criterion->threshold <= 100))
            return fail(ld, where, "%g is out of range 0..100 (percent)", criterion->threshold);
        if (criterion->op == OP_EQ && criterion->threshold != 100)
            return fail(ld, where, "\"==\" on a ratio means num = den: the threshold is 100");
        break;
    }
    return 0;
}

static int index_criteria(programme_t *self);

/* One entry of $.standard.criteria: its fields and its rule. */
static int load_criterion(loader_t *ld, programme_t *self, json_t *entry, size_t index,
                          const char *path)
{
    static const char *const keys[] = {"id",       "item",     "kind",   "op",   "threshold",
                                       "title_zh", "title_en", "source", "note", NULL};
    char where[PATH_MAX_LEN];
    int rc;
    programme_criterion_t *criterion = &self->criteria[index];
    const char *title, *title_en, *source, *note;
    if (!json_is_object(entry))
        return fail(ld, path, "expected an object, got %s", json_kind(entry));
    self->criterion_count = index + 1;
    if ((rc = check_keys(ld, entry, path, keys)) ||
        (rc = get_id(ld, entry, path, "id", ".", sizeof criterion->id, criterion->id)) ||
        (rc = get_id(ld, entry, path, "item", ".", sizeof criterion->item, criterion->item)) ||
        (rc = load_criterion_rule(ld, criterion, entry, path)) ||
        (rc = get_text(ld, entry, path, "title_zh", true, &title)) ||
        (rc = get_text(ld, entry, path, "title_en", false, &title_en)) ||
        (rc = get_text(ld, entry, path, "source", false, &source)) ||
        (rc = get_text(ld, entry, path, "note", false, &note)) ||
        (rc = dup_text(title, &criterion->title_zh)) ||
        (rc = dup_text(title_en, &criterion->title_en)))
        return rc;
    if (source && strcmp(source, "seed") != 0 && strcmp(source, "programme") != 0) {
        path_key(where, path, "source");
        return fail(ld, where, "expected \"seed\" or \"programme\"");
    }
    criterion->from_seed = !source || strcmp(source, "seed") == 0;
    return 0;
}

/* A criterion's place in the standard: its item starts with a section id,
 * its id is the item's (plus letters), ids come in order, and the criteria
 * of an item are together. */
static int place_criterion(loader_t *ld, programme_t *self, size_t index, const char *path)
{
    programme_criterion_t *criterion = &self->criteria[index];
    char where[PATH_MAX_LEN];
    path_key(where, path, "item");
    const char *dot = strchr(criterion->item, '.');
    int section = -1;
    for (size_t s = 0; dot && s < self->section_count; s++)
        if (strlen(self->sections[s].id) == (size_t)(dot - criterion->item) &&
            strncmp(self->sections[s].id, criterion->item, (size_t)(dot - criterion->item)) == 0)
            section = (int)s;
    if (section < 0)
        return fail(ld, where, "\"%s\" does not start with a section id and \".\"",
                    criterion->item);
    size_t item_len = strlen(criterion->item);
    path_key(where, path, "id");
    if (strncmp(criterion->id, criterion->item, item_len) != 0 ||
        strspn(criterion->id + item_len, "abcdefghijklmnopqrstuvwxyz") !=
            strlen(criterion->id + item_len))
        return fail(ld, where,
                    "\"%s\" must be its item \"%s\", or the item followed by "
                    "letters",
                    criterion->id, criterion->item);
    if (index > 0) {
        int order = programme_criterion_compare(self->criteria[index - 1].id, criterion->id);
        if (order == 0)
            return fail(ld, where, "duplicate criterion id \"%s\"", criterion->id);
        if (order > 0)
            return fail(ld, where, "\"%s\" comes after \"%s\": list criteria in id order",
                        criterion->id, self->criteria[index - 1].id);
    }
    programme_item_t *item = self->item_count ? &self->items[self->item_count - 1] : NULL;
    if (!item || strcmp(item->id, criterion->item) != 0) {
        for (size_t i = 0; i < self->item_count; i++)
            if (strcmp(self->items[i].id, criterion->item) == 0)
                return fail(ld, where, "the criteria of item \"%s\" are not together",
                            criterion->item);
        item = &self->items[self->item_count++];
        strcpy(item->id, criterion->item);
        strcpy(item->section, self->sections[section].id);
        item->section_index = section;
        item->first_criterion = (int)index;
    }
    item->criterion_count++;
    criterion->item_index = (int)(item - self->items);
    return 0;
}

static int check_sections_used(loader_t *ld, const programme_t *self)
{
    char path[PATH_MAX_LEN];
    for (size_t s = 0; s < self->section_count; s++) {
        bool used = false;
        for (size_t i = 0; i < self->item_count && !used; i++)
            used = self->items[i].section_index == (int)s;
        if (!used) {
            path_index(path, "$.standard.sections", s);
            return fail(ld, path, "section \"%s\" has no criteria", self->sections[s].id);
        }
    }
    return 0;
}

static int load_criteria(loader_t *ld, programme_t *self, json_t *criteria)
{
    char path[PATH_MAX_LEN];
    size_t count = json_array_size(criteria), index;
    json_t *entry;
    int rc;
    if (count == 0)
        return fail(ld, "$.standard.criteria", "no criteria");
    if (count > 1000)
        return fail(ld, "$.standard.criteria", "more than 1000 criteria");
    self->criteria = calloc(count, sizeof *self->criteria);
    self->items = calloc(count, sizeof *self->items);
    if (!self->criteria || !self->items)
        return SF_ENOMEM;
    json_array_foreach(criteria, index, entry)
    {
        path_index(path, "$.standard.criteria", index);
        if ((rc = load_criterion(ld, self, entry, index, path)) ||
            (rc = place_criterion(ld, self, index, path)))
            return rc;
    }
    return check_sections_used(ld, self);
}

static int load_standard(loader_t *ld, programme_t *self, json_t *root)
{
    static const char *const keys[] = {"sections", "criteria", NULL};
    char where[PATH_MAX_LEN];
    int rc;
    json_t *standard = member(ld, root, "$", "standard", true, JSON_OBJECT, where, &rc);
    if (!standard || (rc = check_keys(ld, standard, "$.standard", keys)))
        return rc;
    json_t *sections = member(ld, standard, "$.standard", "sections", true, JSON_ARRAY, where, &rc);
    if (!sections || (rc = load_sections(ld, self, sections)))
        return rc;
    json_t *criteria = member(ld, standard, "$.standard", "criteria", true, JSON_ARRAY, where, &rc);
    if (!criteria)
        return rc;
    if ((rc = load_criteria(ld, self, criteria)))
        return rc;
    return index_criteria(self);
}

/* Finding a criterion by its id is on every received report's path (a
 * few dozen per report): a binary search with strcmp over this index is
 * several times cheaper than one with programme_criterion_compare, and
 * equality is the same (ids are unique byte strings). */
static int compare_criterion_keys(const void *a, const void *b)
{
    return strcmp(((const criterion_key_t *)a)->id, ((const criterion_key_t *)b)->id);
}

static int index_criteria(programme_t *self)
{
    self->criteria_by_text = malloc((self->criterion_count + 1) * sizeof *self->criteria_by_text);
    if (!self->criteria_by_text)
        return SF_ENOMEM;
    for (size_t i = 0; i < self->criterion_count; i++)
        self->criteria_by_text[i] = (criterion_key_t){self->criteria[i].id, (int)i};
    qsort(self->criteria_by_text, self->criterion_count, sizeof *self->criteria_by_text,
          compare_criterion_keys);
    return 0;
}

static int year_total_quota(const programme_t *self, int year)
{
    int root = -1;
    for (size_t u = 0; u < self->unit_count && root < 0; u++)
        if (self->units[u].parent < 0)
            root = (int)u;
    return programme_quota(self, self->units[root].code, year);
}

/* $.quotas[CODE]: a quota holder's quota per year. */
static int load_holder_quotas(loader_t *ld, programme_t *self, const char *code, json_t *per_year)
{
    char path[PATH_MAX_LEN], where[PATH_MAX_LEN];
    const char *year_key;
    json_t *value;
    int rc;
    path_key(path, "$.quotas", code);
    int unit = find_exact_unit(self, code);
    if (unit < 0)
        return fail(ld, path, "quota for unknown unit \"%.20s\"", code);
    unit_level_t level = self->units[unit].level;
    bool holder =
        level == LEVEL_PREFECTURE || (level == LEVEL_COUNTY && self->evaluated_level == LEVEL_SITE);
    if (!holder)
        return fail(ld, path, "%s is a %s; quotas belong to prefectures%s", code,
                    programme_level_name(level),
                    self->evaluated_level == LEVEL_SITE ? " or counties" : "");
    if (!json_is_object(per_year))
        return fail(ld, path, "expected an object of year: quota, got %s", json_kind(per_year));
    self->holds_quota[unit] = true;
    json_object_foreach(per_year, year_key, value)
    {
        int year;
        path_key(where, path, year_key);
        if ((rc = parse_year_key(ld, self, year_key, where, &year)))
            return rc;
        if (!json_is_integer(value) || json_integer_value(value) < 0 ||
            json_integer_value(value) > 100000)
            return fail(ld, where, "a quota is a whole number 0..100000");
        programme_quota_t *quota = &self->quotas[self->quota_count++];
        quota->year = year;
        quota->prefecture = unit;
        quota->quota = (int)json_integer_value(value);
    }
    return 0;
}

/* $.national_quota: per year, at most the year's total quota. */
static int load_national_quotas(loader_t *ld, programme_t *self, json_t *root)
{
    char where[PATH_MAX_LEN];
    const char *year_key;
    json_t *value;
    int rc;
    size_t years = (size_t)(self->last_year - self->first_year + 1);
    if (!(self->national = calloc(years, sizeof *self->national)))
        return SF_ENOMEM;
    json_t *national = member(ld, root, "$", "national_quota", false, JSON_OBJECT, where, &rc);
    if (rc)
        return rc;
    json_object_foreach(national, year_key, value)
    {
        int year;
        path_key(where, "$.national_quota", year_key);
        if ((rc = parse_year_key(ld, self, year_key, where, &year)))
            return rc;
        if (!json_is_integer(value) || json_integer_value(value) < 0)
            return fail(ld, where, "a quota is a non-negative whole number");
        int year_total = year_total_quota(self, year);
        if (json_integer_value(value) > year_total)
            return fail(ld, where, "national quota %lld exceeds the year's total quota %d",
                        (long long)json_integer_value(value), year_total);
        self->national[year - self->first_year] = (int)json_integer_value(value);
    }
    return 0;
}

static int load_quotas(loader_t *ld, programme_t *self, json_t *root)
{
    char where[PATH_MAX_LEN];
    int rc;
    json_t *quotas = member(ld, root, "$", "quotas", true, JSON_OBJECT, where, &rc);
    if (!quotas)
        return rc;
    size_t total = 0;
    const char *code;
    json_t *per_year;
    json_object_foreach(quotas, code, per_year)
    {
        total += json_is_object(per_year) ? json_object_size(per_year) : 0;
    }
    if (total > 100000)
        return fail(ld, "$.quotas", "too many quotas");
    if (!(self->quotas = calloc(total ? total : 1, sizeof *self->quotas)))
        return SF_ENOMEM;
    json_object_foreach(quotas, code, per_year)
    {
        if ((rc = load_holder_quotas(ld, self, code, per_year)))
            return rc;
    }
    return load_national_quotas(ld, self, root);
}

/* A target's kind (count or share), what it counts, and its value. */
static int load_target_goal(loader_t *ld, programme_target_t *target, json_t *entry,
                            const char *kind, const char *of, const char *path)
{
    char where[PATH_MAX_LEN];
    path_key(where, path, "kind");
    if (strcmp(kind, "count") == 0)
        target->kind = TARGET_COUNT;
    else if (strcmp(kind, "share") == 0)
        target->kind = TARGET_SHARE;
    else
        return fail(ld, where, "expected \"count\" or \"share\"");
    path_key(where, path, "of");
    if (strcmp(of, "demonstration") == 0)
        target->of = TARGET_OF_DEMONSTRATION;
    else if (strcmp(of, "national") == 0)
        target->of = TARGET_OF_NATIONAL;
    else
        return fail(ld, where, "expected \"demonstration\" or \"national\"");
    path_key(where, path, "value");
    json_t *value = json_object_get(entry, "value");
    if (!value)
        return fail(ld, where, "missing");
    if (target->kind == TARGET_COUNT) {
        if (!json_is_integer(value) || json_integer_value(value) < 0)
            return fail(ld, where, "a count target is a non-negative whole number");
        target->value = (double)json_integer_value(value);
    } else {
        if (!json_is_number(value) || json_number_value(value) <= 0 ||
            json_number_value(value) > 100)
            return fail(ld, where, "a share target is a percentage above 0, at most 100");
        target->value = json_number_value(value);
    }
    return 0;
}

/* One entry of $.targets: its fields, then what it counts and how much. */
static int load_target(loader_t *ld, programme_t *self, json_t *entry, size_t index,
                       const char *path)
{
    static const char *const keys[] = {"id", "kind",     "of",       "value",
                                       "by", "title_zh", "title_en", NULL};
    char where[PATH_MAX_LEN];
    int rc;
    programme_target_t *target = &self->targets[index];
    const char *kind, *of, *title, *title_en;
    long long by;
    if (!json_is_object(entry))
        return fail(ld, path, "expected an object, got %s", json_kind(entry));
    self->target_count = index + 1;
    if ((rc = check_keys(ld, entry, path, keys)) ||
        (rc = get_id(ld, entry, path, "id", "-_.", sizeof target->id, target->id)) ||
        (rc = get_text(ld, entry, path, "kind", true, &kind)) ||
        (rc = get_text(ld, entry, path, "of", true, &of)) ||
        (rc = get_integer(ld, entry, path, "by", true, self->first_year, self->last_year, &by)) ||
        (rc = get_text(ld, entry, path, "title_zh", false, &title)) ||
        (rc = get_text(ld, entry, path, "title_en", false, &title_en)) ||
        (rc = dup_text(title, &target->title_zh)) || (rc = dup_text(title_en, &target->title_en)))
        return rc;
    target->by = (int)by;
    for (size_t t = 0; t < index; t++)
        if (strcmp(self->targets[t].id, target->id) == 0) {
            path_key(where, path, "id");
            return fail(ld, where, "duplicate target id \"%s\"", target->id);
        }
    return load_target_goal(ld, target, entry, kind, of, path);
}

static int load_targets(loader_t *ld, programme_t *self, json_t *root)
{
    char path[PATH_MAX_LEN], where[PATH_MAX_LEN];
    int rc;
    json_t *targets = member(ld, root, "$", "targets", false, JSON_ARRAY, where, &rc);
    if (!targets)
        return rc;
    size_t count = json_array_size(targets), index;
    json_t *entry;
    if (count > 100)
        return fail(ld, "$.targets", "more than 100 targets");
    if (!(self->targets = calloc(count ? count : 1, sizeof *self->targets)))
        return SF_ENOMEM;
    json_array_foreach(targets, index, entry)
    {
        path_index(path, "$.targets", index);
        if ((rc = load_target(ld, self, entry, index, path)))
            return rc;
    }
    return 0;
}

static int load_stage(loader_t *ld, programme_t *self, stage_t *stage, json_t *entry,
                      const char *path)
{
    static const char *const keys[] = {"stage",    "opens",    "deadline", "exceptions",
                                       "title_zh", "title_en", NULL};
    char where[PATH_MAX_LEN];
    const char *deadline, *opens, *title, *title_en;
    int rc;
    if (!json_is_object(entry))
        return fail(ld, path, "expected an object, got %s", json_kind(entry));
    if ((rc = check_keys(ld, entry, path, keys)) ||
        (rc = get_id(ld, entry, path, "stage", "_", sizeof stage->info.id, stage->info.id)) ||
        (rc = get_text(ld, entry, path, "deadline", true, &deadline)) ||
        (rc = get_text(ld, entry, path, "opens", false, &opens)) ||
        (rc = get_text(ld, entry, path, "title_zh", true, &title)) ||
        (rc = get_text(ld, entry, path, "title_en", false, &title_en)) ||
        (rc = dup_text(title, &stage->info.title_zh)) ||
        (rc = dup_text(title_en, &stage->info.title_en)))
        return rc;
    path_key(where, path, "deadline");
    if (parse_month_day(deadline, &stage->info.deadline_month, &stage->info.deadline_day))
        return fail(ld, where, "\"%.20s\": expected \"MM-DD\", a day every year has", deadline);
    path_key(where, path, "opens");
    if (opens && parse_month_day(opens, &stage->info.opens_month, &stage->info.opens_day))
        return fail(ld, where, "\"%.20s\": expected \"MM-DD\", a day every year has", opens);
    if (opens && (stage->info.opens_month * 100 + stage->info.opens_day >
                  stage->info.deadline_month * 100 + stage->info.deadline_day))
        return fail(ld, where, "%s is after the deadline %s", opens, deadline);
    stage->info.stage = -1;
    for (int s = 0; s < STAGE_COUNT; s++)
        if (strcmp(stage->info.id, programme_stage_name((programme_stage_t)s)) == 0)
            stage->info.stage = s;

    json_t *exceptions = member(ld, entry, path, "exceptions", false, JSON_OBJECT, where, &rc);
    if (rc || !exceptions)
        return rc;
    char exceptions_path[PATH_MAX_LEN];
    strcpy(exceptions_path, where);
    stage->exceptions = calloc(json_object_size(exceptions) + 1, sizeof *stage->exceptions);
    if (!stage->exceptions)
        return SF_ENOMEM;
    const char *year_key;
    json_t *value;
    json_object_foreach(exceptions, year_key, value)
    {
        int year;
        int64_t start;
        path_key(where, exceptions_path, year_key);
        if ((rc = parse_year_key(ld, self, year_key, where, &year)))
            return rc;
        if (!json_is_string(value) || strlen(json_string_value(value)) != 10 ||
            stime_parse(json_string_value(value), &start))
            return fail(ld, where, "expected a date \"YYYY-MM-DD\"");
        stage_exception_t *exception = &stage->exceptions[stage->exception_count++];
        exception->year = year;
        exception->deadline = start + 86400 - 1;
    }
    return 0;
}

static int load_calendar(loader_t *ld, programme_t *self, json_t *root)
{
    char path[PATH_MAX_LEN], where[PATH_MAX_LEN];
    int rc;
    json_t *calendar = member(ld, root, "$", "calendar", true, JSON_ARRAY, where, &rc);
    if (!calendar)
        return rc;
    size_t count = json_array_size(calendar), index;
    json_t *entry;
    if (count > 100)
        return fail(ld, "$.calendar", "more than 100 stages");
    if (!(self->stages = calloc(count ? count : 1, sizeof *self->stages)))
        return SF_ENOMEM;
    for (int s = 0; s < STAGE_COUNT; s++)
        self->standard_stage[s] = -1;
    json_array_foreach(calendar, index, entry)
    {
        path_index(path, "$.calendar", index);
        self->stage_count = index + 1;
        if ((rc = load_stage(ld, self, &self->stages[index], entry, path)))
            return rc;
        for (size_t s = 0; s < index; s++)
            if (strcmp(self->stages[s].info.id, self->stages[index].info.id) == 0) {
                path_key(where, path, "stage");
                return fail(ld, where, "duplicate stage \"%s\"", self->stages[index].info.id);
            }
        if (self->stages[index].info.stage >= 0)
            self->standard_stage[self->stages[index].info.stage] = (int)index;
    }
    for (int s = 0; s < STAGE_COUNT; s++)
        if (self->standard_stage[s] < 0)
            return fail(ld, "$.calendar", "stage \"%s\" is missing",
                        programme_stage_name((programme_stage_t)s));
    return 0;
}

static int load_document(loader_t *ld, programme_t *self, json_t *root)
{
    int rc;
    if (!json_is_object(root))
        return fail(ld, "$", "expected an object, got %s", json_kind(root));
    if ((rc = load_header(ld, self, root)) || (rc = load_units(ld, self, root)) ||
        (rc = load_participants(ld, self, root)) || (rc = load_standard(ld, self, root)) ||
        (rc = load_quotas(ld, self, root)) || (rc = load_targets(ld, self, root)) ||
        (rc = load_calendar(ld, self, root)))
        return rc;
    /* Sorted keys and no whitespace: the same programme always gives the same
     * bytes, whatever the layout of the file it was read from. */
    self->json = json_dumps(root, JSON_SORT_KEYS | JSON_COMPACT);
    return self->json ? 0 : SF_ENOMEM;
}

programme_t *programme_load_json(const char *text, size_t len, const char *source,
                                 sf_error_t *error)
{
    loader_t ld = {source ? source : "programme", error};
    if (error) {
        error->code = 0;
        error->text[0] = '\0';
    }
    if (!text) {
        fail(&ld, NULL, "no text");
        return NULL;
    }
    if (len > PROGRAMME_MAX_BYTES) {
        fail(&ld, NULL, "larger than %d bytes", PROGRAMME_MAX_BYTES);
        return NULL;
    }
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) { /* Notepad's BOM */
        text += 3;
        len -= 3;
    }
    json_error_t json_error;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &json_error);
    if (!root) {
        fail(&ld, NULL, "line %d, column %d: %s", json_error.line, json_error.column,
             json_error.text);
        return NULL;
    }
    programme_t *self = calloc(1, sizeof *self);
    int rc = self ? load_document(&ld, self, root) : SF_ENOMEM;
    json_decref(root);
    if (rc) {
        if (rc == SF_ENOMEM)
            fail_with(&ld, SF_ENOMEM, "out of memory", "");
        programme_destroy(&self);
    }
    return self;
}

programme_t *programme_load_file(const char *path, sf_error_t *error)
{
    loader_t ld = {path, error};
    FILE *file = fopen(path, "rb");
    if (!file) {
        fail_with(&ld, SF_EIO, "cannot open: ", strerror(errno));
        return NULL;
    }
    char *text = malloc(PROGRAMME_MAX_BYTES + 1);
    size_t len = text ? fread(text, 1, PROGRAMME_MAX_BYTES + 1, file) : 0;
    bool bad = !text || ferror(file);
    fclose(file);
    programme_t *self = NULL;
    if (bad)
        fail_with(&ld, text ? SF_EIO : SF_ENOMEM,
                  "cannot read: ", text ? strerror(errno) : "out of memory");
    else
        self = programme_load_json(text, len, path, error);
    free(text);
    return self;
}

programme_t *programme_load_default(sf_error_t *error)
{
    size_t len;
    const unsigned char *text = embedded_find(DEFAULT_NAME, &len);
    if (!text) {
        sf_error_set(error, SF_ENOTFOUND, "%s: not embedded in this build", DEFAULT_NAME);
        return NULL;
    }
    return programme_load_json((const char *)text, len, DEFAULT_NAME, error);
}
