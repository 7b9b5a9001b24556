/* render.c - JSON, CSV and HTML forms of an engine result (see render.h).
 *
 * Numbers that are not integers (percentages, margins) are rounded to two
 * decimals before they are written, so the bytes never depend on the last
 * bits of a double. */
#include "domain/render.h"
#include "base/error.h"
#include "base/stime.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- a growable text buffer ---- */

typedef struct {
    char *data;
    size_t len, cap;
    bool failed;
} text_t;

static void text_append(text_t *t, const char *s, size_t n)
{
    if (t->failed)
        return;
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 4096;
        while (cap < t->len + n + 1)
            cap *= 2;
        char *p = realloc(t->data, cap);
        if (!p) {
            t->failed = true;
            return;
        }
        t->data = p;
        t->cap = cap;
    }
    memcpy(t->data + t->len, s, n);
    t->len += n;
    t->data[t->len] = '\0';
}

static void text_puts(text_t *t, const char *s)
{
    text_append(t, s, strlen(s));
}

static void text_printf(text_t *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void text_printf(text_t *t, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        t->failed = true;
        return;
    }
    if ((size_t)n < sizeof small) {
        text_append(t, small, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big) {
        t->failed = true;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    text_append(t, big, (size_t)n);
    free(big);
}

static int text_finish(text_t *t, char **out, size_t *len)
{
    if (!t->failed && !t->data)
        text_append(t, "", 0);
    if (t->failed) {
        free(t->data);
        return SF_ENOMEM;
    }
    *out = t->data;
    if (len)
        *len = t->len;
    return 0;
}

/* ---- shared helpers ---- */

static double round2(double value)
{
    return round(value * 100.0) / 100.0;
}

/* "12.35" without locale surprises: printf's %.2f of a rounded value. */
static void format2(char *buf, size_t size, double value)
{
    double r = round2(value);
    if (r == 0.0)
        r = 0.0; /* no "-0.00" */
    snprintf(buf, size, "%.2f", r);
}

static double share(size_t part, size_t whole)
{
    return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

static const engine_prefecture_result_t *prefecture_of(const engine_result_t *result,
                                                       const engine_unit_result_t *unit)
{
    return unit->prefecture ? engine_result_find_prefecture(result, unit->prefecture->code) : NULL;
}

/* ---- JSON ---- */

static json_t *json_time(int64_t t)
{
    char buf[STIME_BUFSZ];
    return t ? json_string(stime_format(t, buf, sizeof buf)) : json_null();
}

static json_t *json_real2(double value)
{
    double r = round2(value);
    return json_real(r == 0.0 ? 0.0 : r);
}

static json_t *json_value(const report_value_t *value, bool present)
{
    if (!present)
        return json_null();
    switch (value->kind) {
    case CRITERION_BOOL:
        return json_boolean(value->flag);
    case CRITERION_COUNT:
        return json_integer((json_int_t)value->count);
    case CRITERION_RATIO: {
        json_t *ratio = json_object();
        json_object_set_new(ratio, "num", json_integer((json_int_t)value->num));
        json_object_set_new(ratio, "den", json_integer((json_int_t)value->den));
        return ratio;
    }
    }
    return json_null();
}

static const char *kind_name(criterion_kind_t kind)
{
    return kind == CRITERION_BOOL ? "bool" : kind == CRITERION_COUNT ? "count" : "ratio";
}

static const char *tier_name(engine_tier_t tier)
{
    return tier == ENGINE_TIER_PREFECTURE ? "prefecture"
           : tier == ENGINE_TIER_PROVINCE ? "province"
                                          : "self";
}

static json_t *json_flags(unsigned flags)
{
    json_t *list = json_array();
    for (unsigned bit = 0; bit < ENGINE_FLAG_COUNT; bit++)
        if (flags & (1u << bit))
            json_array_append_new(list, json_string(engine_flag_name(1u << bit)));
    return list;
}

static json_t *json_codes(const engine_unit_result_t *const *list, size_t count)
{
    json_t *codes = json_array();
    for (size_t i = 0; i < count; i++)
        json_array_append_new(codes, json_string(list[i]->unit->code));
    return codes;
}

/* One criterion of a unit: the rule, the value counted, and where it came from. */
static json_t *json_criterion(const engine_criterion_result_t *cr)
{
    json_t *co = json_object();
    json_object_set_new(co, "id", json_string(cr->criterion->id));
    json_object_set_new(co, "item", json_string(cr->criterion->item));
    json_object_set_new(co, "kind", json_string(kind_name(cr->criterion->kind)));
    json_object_set_new(co, "op", json_string(cr->criterion->op == OP_EQ ? "==" : ">="));
    if (cr->criterion->kind == CRITERION_BOOL)
        json_object_set_new(co, "threshold", json_boolean(cr->criterion->threshold != 0));
    else
        json_object_set_new(co, "threshold", json_real2(cr->criterion->threshold));
    json_object_set_new(co, "value", json_value(&cr->value, cr->present));
    if (cr->criterion->kind == CRITERION_RATIO)
        json_object_set_new(co, "percent",
                            cr->present && cr->value.den
                                ? json_real2(100.0 * (double)cr->value.num / (double)cr->value.den)
                                : json_null());
    json_object_set_new(co, "passed", json_boolean(cr->passed));
    json_object_set_new(co, "source", json_string(tier_name(cr->source)));
    if (cr->source != ENGINE_TIER_SELF)
        json_object_set_new(co, "self_value", json_value(&cr->self_value, cr->self_present));
    json_object_set_new(co, "discrepancy", json_boolean(cr->discrepancy));
    if (cr->criterion->kind == CRITERION_RATIO)
        json_object_set_new(co, "margin",
                            cr->present && cr->value.den
                                ? json_real2((double)cr->margin_micro / 1e6)
                                : json_null());
    return co;
}

static json_t *json_unit(const engine_result_t *result, const engine_unit_result_t *u)
{
    const programme_t *programme = engine_result_programme(result);
    json_t *o = json_object();
    json_object_set_new(o, "code", json_string(u->unit->code));
    json_object_set_new(o, "name", json_string(u->unit->name ? u->unit->name : ""));
    json_object_set_new(o, "prefecture",
                        u->prefecture ? json_string(u->prefecture->code) : json_null());
    json_object_set_new(o, "status", json_string(engine_status_name(u->status)));
    json_object_set_new(o, "qualified", json_boolean(u->qualified));
    json_t *failed = json_array();
    for (size_t i = 0; i < programme_item_count(programme); i++)
        if (!u->item_passed[i])
            json_array_append_new(failed, json_string(programme_item(programme, i)->id));
    json_object_set_new(o, "failed", failed);
    json_object_set_new(o, "recommended", json_boolean(u->recommended));
    json_object_set_new(o, "demonstration", json_boolean(u->demonstration));
    json_object_set_new(o, "national_candidate", json_boolean(u->national_candidate));
    json_object_set_new(o, "flags", json_flags(u->flags));
    json_object_set_new(o, "recommended_auto", json_boolean(u->recommended_auto));
    json_object_set_new(o, "rank", u->rank ? json_integer(u->rank) : json_null());
    json_object_set_new(o, "items_passed", json_integer((json_int_t)u->items_passed));
    json_object_set_new(o, "items_total",
                        json_integer((json_int_t)programme_item_count(programme)));
    json_object_set_new(o, "mean_margin", json_real2(u->mean_margin));
    json_object_set_new(o, "designated_year",
                        u->designated_year ? json_integer(u->designated_year) : json_null());
    json_object_set_new(o, "report_id", u->report_id[0] ? json_string(u->report_id) : json_null());
    json_object_set_new(o, "version", u->version ? json_integer(u->version) : json_null());
    json_object_set_new(o, "versions", json_integer((json_int_t)u->version_count));
    json_object_set_new(o, "first_submitted_at", json_time(u->first_submitted_at));
    json_object_set_new(o, "submitted_at", json_time(u->submitted_at));
    json_object_set_new(o, "received_at", json_time(u->received_at));
    json_object_set_new(o, "return_reason",
                        u->return_reason ? json_string(u->return_reason) : json_null());
    json_t *criteria = json_array();
    for (size_t c = 0; c < programme_criterion_count(programme); c++)
        json_array_append_new(criteria, json_criterion(&u->criteria[c]));
    json_object_set_new(o, "criteria", criteria);
    return o;
}

static json_t *json_summary(const engine_summary_t *s, const programme_t *programme)
{
    json_t *o = json_object();
    json_t *completeness = json_object();
    json_object_set_new(completeness, "expected", json_integer((json_int_t)s->expected));
    json_object_set_new(completeness, "reported", json_integer((json_int_t)s->reported));
    json_object_set_new(completeness, "percent", json_real2(share(s->reported, s->expected)));
    json_object_set_new(o, "completeness", completeness);
    json_t *timeliness = json_object();
    json_object_set_new(timeliness, "expected", json_integer((json_int_t)s->expected));
    json_object_set_new(timeliness, "on_time", json_integer((json_int_t)s->on_time));
    json_object_set_new(timeliness, "late", json_integer((json_int_t)s->late));
    json_object_set_new(timeliness, "missing", json_integer((json_int_t)s->missing));
    json_object_set_new(timeliness, "percent", json_real2(share(s->on_time, s->expected)));
    json_object_set_new(o, "timeliness", timeliness);
    json_object_set_new(o, "qualified", json_integer((json_int_t)s->qualified));
    json_t *aggregates = json_array();
    for (size_t c = 0; c < programme_criterion_count(programme); c++) {
        const engine_aggregate_t *a = &s->aggregates[c];
        const programme_criterion_t *criterion = programme_criterion(programme, c);
        json_t *ao = json_object();
        json_object_set_new(ao, "id", json_string(criterion->id));
        json_object_set_new(ao, "kind", json_string(kind_name(criterion->kind)));
        json_object_set_new(ao, "units", json_integer((json_int_t)a->units));
        switch (criterion->kind) {
        case CRITERION_BOOL:
            json_object_set_new(ao, "true", json_integer((json_int_t)a->true_count));
            json_object_set_new(ao, "percent", json_real2(a->percent));
            break;
        case CRITERION_COUNT:
            json_object_set_new(ao, "sum", json_integer((json_int_t)a->sum));
            break;
        case CRITERION_RATIO:
            json_object_set_new(ao, "num", json_integer((json_int_t)a->sum));
            json_object_set_new(ao, "den", json_integer((json_int_t)a->den_sum));
            json_object_set_new(ao, "percent", a->den_sum ? json_real2(a->percent) : json_null());
            break;
        }
        json_array_append_new(aggregates, ao);
    }
    json_object_set_new(o, "aggregates", aggregates);
    return o;
}

static void json_merge_summary(json_t *o, const engine_summary_t *s, const programme_t *programme)
{
    json_t *summary = json_summary(s, programme);
    json_object_update(o, summary);
    json_decref(summary);
}

static json_t *json_prefecture(const engine_result_t *result, const engine_prefecture_result_t *p)
{
    json_t *o = json_object();
    json_object_set_new(o, "code", json_string(p->unit->code));
    json_object_set_new(o, "name", json_string(p->unit->name ? p->unit->name : ""));
    json_object_set_new(o, "quota", json_integer(p->quota));
    json_object_set_new(o, "recommended", json_codes(p->recommended, p->recommended_count));
    json_object_set_new(o, "source", json_string(engine_rec_source_name(p->source)));
    json_object_set_new(o, "provisional", json_boolean(p->provisional));
    json_object_set_new(o, "made_at", json_time(p->made_at));
    json_object_set_new(o, "revision", json_integer((json_int_t)p->revision));
    json_object_set_new(o, "late", json_boolean(p->late));
    json_object_set_new(o, "ignored", json_integer((json_int_t)p->ignored_count));
    json_object_set_new(o, "automatic", json_codes(p->automatic, p->automatic_count));
    json_object_set_new(o, "ranking", json_codes(p->ranking, p->ranking_count));
    json_merge_summary(o, &p->summary, engine_result_programme(result));
    return o;
}

static json_t *json_province(const engine_result_t *result, const engine_province_result_t *pr)
{
    json_t *o = json_object();
    json_object_set_new(o, "code", pr->unit ? json_string(pr->unit->code) : json_null());
    json_object_set_new(o, "name", json_string(pr->unit && pr->unit->name ? pr->unit->name : ""));
    json_object_set_new(o, "demonstration", json_codes(pr->demonstration, pr->demonstration_count));
    json_object_set_new(o, "national_candidates", json_codes(pr->national, pr->national_count));
    json_object_set_new(o, "national_quota", json_integer(pr->national_quota));
    json_object_set_new(o, "quota_total", json_integer(pr->quota_total));
    json_t *progress = json_object();
    json_t *years = json_array();
    for (size_t i = 0; i < pr->progress_count; i++) {
        const engine_progress_t *g = &pr->progress[i];
        json_t *y = json_object();
        json_object_set_new(y, "year", json_integer(g->year));
        json_object_set_new(y, "demonstration", json_integer((json_int_t)g->demonstration));
        json_object_set_new(y, "national", json_integer((json_int_t)g->national));
        json_object_set_new(y, "demonstration_total",
                            json_integer((json_int_t)g->demonstration_total));
        json_object_set_new(y, "national_total", json_integer((json_int_t)g->national_total));
        json_array_append_new(years, y);
    }
    const engine_progress_t *last =
        pr->progress_count ? &pr->progress[pr->progress_count - 1] : NULL;
    json_object_set_new(progress, "demonstration_total",
                        json_integer(last ? (json_int_t)last->demonstration_total : 0));
    json_object_set_new(progress, "national_total",
                        json_integer(last ? (json_int_t)last->national_total : 0));
    json_object_set_new(progress, "years", years);
    json_t *targets = json_array();
    for (size_t i = 0; i < pr->target_count; i++) {
        const engine_target_t *t = &pr->targets[i];
        json_t *to = json_object();
        json_object_set_new(to, "id", json_string(t->id ? t->id : ""));
        json_object_set_new(to, "of", json_string(t->national ? "national" : "demonstration"));
        json_object_set_new(to, "kind", json_string(t->share ? "share" : "count"));
        json_object_set_new(to, "value", json_real2(t->value));
        json_object_set_new(to, "by", json_integer(t->by));
        json_object_set_new(to, "needed", json_integer((json_int_t)t->needed));
        json_object_set_new(to, "achieved", json_integer((json_int_t)t->achieved));
        json_object_set_new(to, "percent", json_real2(t->percent));
        json_object_set_new(to, "title_zh", t->title_zh ? json_string(t->title_zh) : json_null());
        json_array_append_new(targets, to);
    }
    json_object_set_new(progress, "targets", targets);
    json_object_set_new(o, "progress", progress);
    json_merge_summary(o, &pr->summary, engine_result_programme(result));
    return o;
}

static json_t *json_result(const engine_result_t *result)
{
    const programme_t *programme = engine_result_programme(result);
    int year = engine_result_year(result);
    json_t *root = json_object();
    json_object_set_new(root, "format", json_integer(1));
    json_object_set_new(root, "programme", json_string(programme_id(programme)));
    json_object_set_new(root, "revision", json_integer((json_int_t)programme_revision(programme)));
    json_object_set_new(root, "standard_id", json_string(programme_standard_id(programme)));
    json_object_set_new(root, "year", json_integer(year));
    json_object_set_new(root, "evaluated_at", json_time(engine_result_now(result)));
    json_t *deadlines = json_object();
    json_object_set_new(deadlines, "self_assessment",
                        json_time(programme_deadline(programme, STAGE_SELF_ASSESSMENT, year)));
    json_object_set_new(deadlines, "recommendation",
                        json_time(programme_deadline(programme, STAGE_RECOMMENDATION, year)));
    json_object_set_new(root, "deadlines", deadlines);
    json_t *items = json_array();
    for (size_t i = 0; i < programme_item_count(programme); i++)
        json_array_append_new(items, json_string(programme_item(programme, i)->id));
    json_object_set_new(root, "items", items);
    json_t *units = json_array();
    for (size_t i = 0; i < engine_result_unit_count(result); i++)
        json_array_append_new(units, json_unit(result, engine_result_unit(result, i)));
    json_object_set_new(root, "units", units);
    json_t *prefectures = json_array();
    for (size_t i = 0; i < engine_result_prefecture_count(result); i++)
        json_array_append_new(prefectures,
                              json_prefecture(result, engine_result_prefecture(result, i)));
    json_object_set_new(root, "prefectures", prefectures);
    const engine_province_result_t *province = engine_result_province(result);
    json_object_set_new(root, "province", province ? json_province(result, province) : json_null());
    return root;
}

int render_json(const engine_result_t *result, char **out, size_t *len)
{
    if (!result || !out)
        return SF_EINVAL;
    json_t *root = json_result(result);
    if (!root)
        return SF_ENOMEM;
    /* Insertion order, two-decimal reals printed with no trailing noise. */
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
    json_decref(root);
    if (!text)
        return SF_ENOMEM;
    text_t t = {0};
    text_puts(&t, text);
    text_puts(&t, "\n");
    free(text);
    return text_finish(&t, out, len);
}

/* ---- CSV ---- */

static void csv_field(text_t *t, const char *value, bool first)
{
    if (!first)
        text_puts(t, ",");
    if (!strpbrk(value, ",\"\r\n")) {
        text_puts(t, value);
        return;
    }
    text_puts(t, "\"");
    for (const char *p = value; *p; p++) {
        if (*p == '"')
            text_puts(t, "\"");
        text_append(t, p, 1);
    }
    text_puts(t, "\"");
}

static void join_flags(char *buf, size_t size, unsigned flags)
{
    buf[0] = '\0';
    size_t used = 0;
    for (unsigned bit = 0; bit < ENGINE_FLAG_COUNT; bit++) {
        if (!(flags & (1u << bit)))
            continue;
        int n =
            snprintf(buf + used, size - used, "%s%s", used ? ";" : "", engine_flag_name(1u << bit));
        if (n < 0 || (size_t)n >= size - used)
            break;
        used += (size_t)n;
    }
}

static const char *csv_bool(bool value)
{
    return value ? "true" : "false";
}

/* The header row: the unit columns, then one per item of the standard. */
static void csv_header_row(text_t *t, const programme_t *programme)
{
    static const char *const columns[] = {"year",
                                          "code",
                                          "name",
                                          "prefecture",
                                          "prefecture_name",
                                          "status",
                                          "qualified",
                                          "failed",
                                          "flags",
                                          "items_passed",
                                          "mean_margin",
                                          "rank",
                                          "recommended",
                                          "recommended_auto",
                                          "demonstration",
                                          "national_candidate",
                                          "designated_year",
                                          "report_id",
                                          "version",
                                          "versions",
                                          "first_submitted_at",
                                          "submitted_at",
                                          "received_at",
                                          "prefecture_source"};
    for (size_t i = 0; i < sizeof columns / sizeof columns[0]; i++)
        csv_field(t, columns[i], i == 0);
    for (size_t i = 0; i < programme_item_count(programme); i++)
        text_printf(t, ",item_%s", programme_item(programme, i)->id);
    text_puts(t, "\r\n");
}

/* One unit's row (its items' pass/fail last), without the line end. */
static void csv_unit_row(text_t *t, const engine_result_t *result, const engine_unit_result_t *u)
{
    const programme_t *programme = engine_result_programme(result);
    size_t items = programme_item_count(programme);
    const engine_prefecture_result_t *p = prefecture_of(result, u);
    char buf[512], failed[1024] = "";
    size_t used = 0;
    for (size_t k = 0; k < items; k++) {
        if (u->item_passed[k])
            continue;
        int n = snprintf(failed + used, sizeof failed - used, "%s%s", used ? ";" : "",
                         programme_item(programme, k)->id);
        if (n < 0 || (size_t)n >= sizeof failed - used)
            break;
        used += (size_t)n;
    }
    snprintf(buf, sizeof buf, "%d", engine_result_year(result));
    csv_field(t, buf, true);
    csv_field(t, u->unit->code, false);
    csv_field(t, u->unit->name ? u->unit->name : "", false);
    csv_field(t, u->prefecture ? u->prefecture->code : "", false);
    csv_field(t, u->prefecture && u->prefecture->name ? u->prefecture->name : "", false);
    csv_field(t, engine_status_name(u->status), false);
    csv_field(t, csv_bool(u->qualified), false);
    csv_field(t, failed, false);
    join_flags(buf, sizeof buf, u->flags);
    csv_field(t, buf, false);
    snprintf(buf, sizeof buf, "%zu", u->items_passed);
    csv_field(t, buf, false);
    format2(buf, sizeof buf, u->mean_margin);
    csv_field(t, buf, false);
    snprintf(buf, sizeof buf, "%d", u->rank);
    csv_field(t, u->rank ? buf : "", false);
    csv_field(t, csv_bool(u->recommended), false);
    csv_field(t, csv_bool(u->recommended_auto), false);
    csv_field(t, csv_bool(u->demonstration), false);
    csv_field(t, csv_bool(u->national_candidate), false);
    snprintf(buf, sizeof buf, "%d", u->designated_year);
    csv_field(t, u->designated_year ? buf : "", false);
    csv_field(t, u->report_id, false);
    snprintf(buf, sizeof buf, "%u", (unsigned)u->version);
    csv_field(t, u->version ? buf : "", false);
    snprintf(buf, sizeof buf, "%zu", u->version_count);
    csv_field(t, buf, false);
    const int64_t times[] = {u->first_submitted_at, u->submitted_at, u->received_at};
    for (size_t k = 0; k < 3; k++)
        csv_field(t, times[k] ? stime_format(times[k], buf, sizeof buf) : "", false);
    csv_field(t, p ? engine_rec_source_name(p->source) : "", false);
    for (size_t k = 0; k < items; k++)
        csv_field(t, u->status == ENGINE_MISSING ? "" : u->item_passed[k] ? "pass" : "fail", false);
}

int render_csv(const engine_result_t *result, char **out, size_t *len)
{
    if (!result || !out)
        return SF_EINVAL;
    const programme_t *programme = engine_result_programme(result);
    text_t t = {0};
    csv_header_row(&t, programme);
    for (size_t i = 0; i < engine_result_unit_count(result); i++) {
        csv_unit_row(&t, result, engine_result_unit(result, i));
        text_puts(&t, "\r\n");
    }
    return text_finish(&t, out, len);
}

/* ---- HTML ---- */

static void html_text(text_t *t, const char *s)
{
    for (const char *p = s ? s : ""; *p; p++) {
        switch (*p) {
        case '&':
            text_puts(t, "&amp;");
            break;
        case '<':
            text_puts(t, "&lt;");
            break;
        case '>':
            text_puts(t, "&gt;");
            break;
        case '"':
            text_puts(t, "&quot;");
            break;
        case '\'':
            text_puts(t, "&#39;");
            break;
        default:
            text_append(t, p, 1);
        }
    }
}

static const char *status_zh(engine_status_t status)
{
    return status == ENGINE_ON_TIME ? "按时" : status == ENGINE_LATE ? "迟报" : "未报";
}

static const char *flag_zh(unsigned flag)
{
    switch (flag) {
    case ENGINE_FLAG_LATE:
        return "迟报";
    case ENGINE_FLAG_DISCREPANCY:
        return "核查不符（取消本年度推荐资格）";
    case ENGINE_FLAG_RETURNED:
        return "已退回修改";
    case ENGINE_FLAG_MISSING_VALUES:
        return "有缺项";
    case ENGINE_FLAG_INSPECTED:
        return "经核查";
    case ENGINE_FLAG_CORRECTED:
        return "已更正";
    case ENGINE_FLAG_NOT_YET_DUE:
        return "未到截止日期";
    case ENGINE_FLAG_DESIGNATED:
        return "往年已认定";
    }
    return "";
}

/* Yunnan designates counties (示范县), Qinhuangdao sites (示范点). */
static const char *demonstration_zh(const programme_t *programme)
{
    return programme_evaluated_level(programme) == LEVEL_SITE ? "示范点" : "示范县";
}

static const char *source_zh(engine_rec_source_t source)
{
    return source == ENGINE_REC_CONFIRMED     ? "已确认"
           : source == ENGINE_REC_PROVISIONAL ? "暂定（未确认）"
                                              : "自动排名（暂定）";
}

static void html_unit_names(text_t *t, const engine_unit_result_t *const *list, size_t count)
{
    if (!count) {
        text_puts(t, "无");
        return;
    }
    for (size_t i = 0; i < count; i++) {
        if (i)
            text_puts(t, "、");
        html_text(t, list[i]->unit->name);
        text_puts(t, "（");
        html_text(t, list[i]->unit->code);
        text_puts(t, "）");
    }
}

static const char html_style[] =
    "body{font-family:\"Noto Sans CJK SC\",\"Microsoft YaHei\",\"SimSun\",sans-serif;"
    "margin:2em;color:#111;font-size:14px}\n"
    "h1{font-size:20px}h2{font-size:17px;margin-top:1.6em;border-bottom:1px solid #888}\n"
    "table{border-collapse:collapse;margin:.6em 0}\n"
    "th,td{border:1px solid #999;padding:2px 5px;text-align:center}\n"
    "td{white-space:nowrap}td.name{text-align:left}th{background:#eee}\n"
    ".pass{color:#060}.fail{color:#b00;font-weight:bold}.missing{color:#888}\n"
    "tr.recommended td{background:#fff6cc}\n"
    ".note{color:#555;font-size:12px}\n"
    "@media print{body{margin:0;font-size:10px}h2{page-break-before:auto}"
    "section.prefecture{page-break-inside:avoid}th{background:#ddd!important;"
    "-webkit-print-color-adjust:exact;print-color-adjust:exact}}\n";

static void html_summary(text_t *t, const engine_summary_t *s)
{
    char a[32], b[32];
    format2(a, sizeof a, share(s->reported, s->expected));
    format2(b, sizeof b, share(s->on_time, s->expected));
    text_printf(t,
                "<p>应报 %zu，已报 %zu（完整率 %s%%），按时 %zu（及时率 %s%%），迟报 %zu，"
                "未报 %zu，合格 %zu</p>\n",
                s->expected, s->reported, a, s->on_time, b, s->late, s->missing, s->qualified);
}

/* One unit's row of its prefecture's table: items, result, rank, notes. */
static void html_unit_row(text_t *t, const programme_t *programme, const engine_unit_result_t *u)
{
    size_t items = programme_item_count(programme);
    text_puts(t, u->recommended ? "<tr class=\"recommended\">" : "<tr>");
    text_puts(t, "<td>");
    html_text(t, u->unit->code);
    text_puts(t, "</td><td class=\"name\">");
    html_text(t, u->unit->name);
    text_printf(t, "</td><td>%s</td>", status_zh(u->status));
    for (size_t k = 0; k < items; k++) {
        if (u->status == ENGINE_MISSING)
            text_puts(t, "<td class=\"missing\">–</td>");
        else if (u->item_passed[k])
            text_puts(t, "<td class=\"pass\">✓</td>");
        else
            text_puts(t, "<td class=\"fail\">✗</td>");
    }
    char margin[32];
    format2(margin, sizeof margin, u->mean_margin);
    text_printf(t, "<td class=\"%s\">%s</td><td>%s</td>", u->qualified ? "pass" : "fail",
                u->qualified ? "合格" : "不合格", u->status == ENGINE_MISSING ? "" : margin);
    if (u->rank)
        text_printf(t, "<td>%d</td>", u->rank);
    else
        text_puts(t, "<td></td>");
    text_printf(t, "<td>%s</td><td>%s</td><td>%s</td><td class=\"name\">",
                u->recommended ? "推荐" : "", u->demonstration ? demonstration_zh(programme) : "",
                u->national_candidate ? "国家级候选" : "");
    bool first = true;
    for (unsigned bit = 0; bit < ENGINE_FLAG_COUNT; bit++) {
        if (!(u->flags & (1u << bit)))
            continue;
        if (!first)
            text_puts(t, "；");
        first = false;
        text_puts(t, flag_zh(1u << bit));
        if ((1u << bit) == ENGINE_FLAG_RETURNED && u->return_reason) {
            text_puts(t, "：");
            html_text(t, u->return_reason);
        }
    }
    text_puts(t, "</td></tr>\n");
}

static void html_prefecture(text_t *t, const engine_result_t *result,
                            const engine_prefecture_result_t *p)
{
    const programme_t *programme = engine_result_programme(result);
    size_t items = programme_item_count(programme);
    text_puts(t, "<section class=\"prefecture\">\n<h2>");
    html_text(t, p->unit->name);
    text_puts(t, "（");
    html_text(t, p->unit->code);
    text_printf(t, "）</h2>\n<p>本年度名额 %d；推荐（%s", p->quota, source_zh(p->source));
    if (p->late)
        text_puts(t, "，逾期");
    text_puts(t, "）：");
    html_unit_names(t, p->recommended, p->recommended_count);
    text_puts(t, "</p>\n");
    html_summary(t, &p->summary);
    text_puts(t, "<table>\n<thead><tr><th>代码</th><th>名称</th><th>状态</th>");
    for (size_t i = 0; i < items; i++) {
        text_puts(t, "<th>");
        html_text(t, programme_item(programme, i)->id);
        text_puts(t, "</th>");
    }
    text_printf(t,
                "<th>结果</th><th>平均超出(百分点)</th><th>排名</th><th>推荐</th>"
                "<th>%s</th><th>国家级候选</th><th>备注</th></tr></thead>\n<tbody>\n",
                demonstration_zh(programme));
    for (size_t i = 0; i < engine_result_unit_count(result); i++) {
        const engine_unit_result_t *u = engine_result_unit(result, i);
        if (u->prefecture != p->unit)
            continue;
        html_unit_row(t, programme, u);
    }
    text_puts(t, "</tbody>\n</table>\n</section>\n");
}

static void html_province(text_t *t, const programme_t *programme,
                          const engine_province_result_t *pr)
{
    const char *label = demonstration_zh(programme);
    text_puts(t, "<section class=\"province\">\n<h2>汇总：");
    html_text(t, pr->unit ? pr->unit->name : "");
    text_printf(t, "</h2>\n<p>本年度%s（", label);
    text_printf(t, "%zu 个，名额合计 %d）：", pr->demonstration_count, pr->quota_total);
    html_unit_names(t, pr->demonstration, pr->demonstration_count);
    text_printf(t, "</p>\n<p>国家级候选（名额 %d）：", pr->national_quota);
    html_unit_names(t, pr->national, pr->national_count);
    text_puts(t, "</p>\n");
    html_summary(t, &pr->summary);
    text_printf(t,
                "<table>\n<thead><tr><th>年度</th><th>%s</th><th>国家级候选</th>"
                "<th>%s累计</th><th>国家级累计</th></tr></thead>\n<tbody>\n",
                label, label);
    for (size_t i = 0; i < pr->progress_count; i++) {
        const engine_progress_t *g = &pr->progress[i];
        text_printf(t, "<tr><td>%d</td><td>%zu</td><td>%zu</td><td>%zu</td><td>%zu</td></tr>\n",
                    g->year, g->demonstration, g->national, g->demonstration_total,
                    g->national_total);
    }
    text_puts(t, "</tbody>\n</table>\n");
    if (pr->target_count) {
        text_puts(t, "<table>\n<thead><tr><th>目标</th><th>期限</th><th>目标数</th>"
                     "<th>已完成</th><th>完成率</th></tr></thead>\n<tbody>\n");
        for (size_t i = 0; i < pr->target_count; i++) {
            const engine_target_t *g = &pr->targets[i];
            char percent[32];
            format2(percent, sizeof percent, g->percent);
            text_puts(t, "<tr><td class=\"name\">");
            html_text(t, g->title_zh ? g->title_zh : g->id);
            text_printf(t, "</td><td>%d</td><td>%zu</td><td>%zu</td><td>%s%%</td></tr>\n", g->by,
                        g->needed, g->achieved, percent);
        }
        text_puts(t, "</tbody>\n</table>\n");
    }
    text_puts(t, "</section>\n");
}

int render_html(const engine_result_t *result, char **out, size_t *len)
{
    if (!result || !out)
        return SF_EINVAL;
    const programme_t *programme = engine_result_programme(result);
    const engine_province_result_t *province = engine_result_province(result);
    char when[STIME_BUFSZ], deadline[STIME_BUFSZ];
    int year = engine_result_year(result);
    text_t t = {0};
    text_puts(&t, "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n"
                  "<title>");
    html_text(&t, programme_title(programme));
    text_printf(&t, " %d年度评估结果</title>\n<style>\n%s</style>\n</head>\n<body>\n<h1>", year,
                html_style);
    html_text(&t, programme_title(programme));
    text_printf(&t, "<br>%d年度评估结果</h1>\n", year);
    stime_format(engine_result_now(result), when, sizeof when);
    stime_format(programme_deadline(programme, STAGE_SELF_ASSESSMENT, year), deadline,
                 sizeof deadline);
    text_puts(&t, "<p class=\"note\">方案 ");
    html_text(&t, programme_id(programme));
    text_printf(&t, "（第 %llu 版），评估时间 %s，自评截止 %s。✓ 合格，✗ 不合格，– 未报。</p>\n",
                (unsigned long long)programme_revision(programme), when, deadline);
    if (province)
        html_province(&t, programme, province);
    for (size_t i = 0; i < engine_result_prefecture_count(result); i++)
        html_prefecture(&t, result, engine_result_prefecture(result, i));
    text_puts(&t, "</body>\n</html>\n");
    return text_finish(&t, out, len);
}

int render_format_parse(const char *name, render_format_t *format)
{
    if (!name || !format)
        return SF_EINVAL;
    if (strcmp(name, "json") == 0)
        *format = RENDER_JSON;
    else if (strcmp(name, "csv") == 0)
        *format = RENDER_CSV;
    else if (strcmp(name, "html") == 0)
        *format = RENDER_HTML;
    else
        return SF_EINVAL;
    return 0;
}

int render(const engine_result_t *result, render_format_t format, char **out, size_t *len)
{
    switch (format) {
    case RENDER_JSON:
        return render_json(result, out, len);
    case RENDER_CSV:
        return render_csv(result, out, len);
    case RENDER_HTML:
        return render_html(result, out, len);
    }
    return SF_EINVAL;
}
