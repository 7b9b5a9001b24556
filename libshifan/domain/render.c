/* render.c - JSON, CSV and HTML forms of an engine result (see render.h).
 *
 * Numbers that are not integers (percentages, margins) are rounded to two
 * decimals before they are written, so the bytes never depend on the last
 * bits of a double. */
#include "domain/render.h"
#include "base/error.h"
#include "base/lang.h"
#include "base/stime.h"
#include "domain/csvw.h"
#include "domain/jsonw.h"
#include "domain/provenance.h"
#include "domain/verdict.h"

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

/* The JSON form is written while the result is walked (jsonw.h), in the
 * key order and with the number formatting it always had. */

static void member_string(jsonw_t *w, const char *key, const char *value)
{
    jsonw_key(w, key);
    jsonw_string(w, value);
}

static void member_integer(jsonw_t *w, const char *key, long long value)
{
    jsonw_key(w, key);
    jsonw_integer(w, value);
}

static void member_bool(jsonw_t *w, const char *key, bool value)
{
    jsonw_key(w, key);
    jsonw_bool(w, value);
}

static void member_null(jsonw_t *w, const char *key)
{
    jsonw_key(w, key);
    jsonw_null(w);
}

/* Two decimals, never "-0.0". */
static void member_real2(jsonw_t *w, const char *key, double value)
{
    double r = round2(value);
    jsonw_key(w, key);
    jsonw_real(w, r == 0.0 ? 0.0 : r);
}

static void member_time(jsonw_t *w, const char *key, int64_t t)
{
    char buf[STIME_BUFSZ];
    jsonw_key(w, key);
    if (t)
        jsonw_string(w, stime_format(t, buf, sizeof buf));
    else
        jsonw_null(w);
}

static void json_value(jsonw_t *w, const report_value_t *value, bool present)
{
    if (!present) {
        jsonw_null(w);
        return;
    }
    switch (value->kind) {
    case CRITERION_BOOL:
        jsonw_bool(w, value->flag);
        return;
    case CRITERION_COUNT:
        jsonw_integer(w, (long long)value->count);
        return;
    case CRITERION_RATIO:
        jsonw_object_begin(w);
        member_integer(w, "num", (long long)value->num);
        member_integer(w, "den", (long long)value->den);
        jsonw_object_end(w);
        return;
    }
    jsonw_null(w);
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

static void json_flags(jsonw_t *w, unsigned flags)
{
    jsonw_array_begin(w);
    for (unsigned bit = 0; bit < ENGINE_FLAG_COUNT; bit++)
        if (flags & (1u << bit))
            jsonw_string(w, engine_flag_name(1u << bit));
    jsonw_array_end(w);
}

static void member_codes(jsonw_t *w, const char *key, const engine_unit_result_t *const *list,
                         size_t count)
{
    jsonw_key(w, key);
    jsonw_array_begin(w);
    for (size_t i = 0; i < count; i++)
        jsonw_string(w, list[i]->unit->code);
    jsonw_array_end(w);
}

/* One criterion of a unit: the rule, the value counted, and where it came from. */
static void json_criterion(jsonw_t *w, const engine_criterion_result_t *cr)
{
    const programme_criterion_t *criterion = cr->criterion;
    bool ratio = criterion->kind == CRITERION_RATIO;
    jsonw_object_begin(w);
    member_string(w, "id", criterion->id);
    member_string(w, "item", criterion->item);
    member_string(w, "kind", kind_name(criterion->kind));
    member_string(w, "op", criterion->op == OP_EQ ? "==" : ">=");
    if (criterion->kind == CRITERION_BOOL)
        member_bool(w, "threshold", criterion->threshold != 0);
    else
        member_real2(w, "threshold", criterion->threshold);
    jsonw_key(w, "value");
    json_value(w, &cr->value, cr->present);
    if (ratio && cr->present && cr->value.den)
        member_real2(w, "percent", 100.0 * (double)cr->value.num / (double)cr->value.den);
    else if (ratio)
        member_null(w, "percent");
    member_bool(w, "passed", cr->passed);
    member_string(w, "source", tier_name(cr->source));
    if (cr->source != ENGINE_TIER_SELF) {
        jsonw_key(w, "self_value");
        json_value(w, &cr->self_value, cr->self_present);
    }
    member_bool(w, "discrepancy", cr->discrepancy);
    if (ratio && cr->present && cr->value.den)
        member_real2(w, "margin", (double)cr->margin_micro / 1e6);
    else if (ratio)
        member_null(w, "margin");
    jsonw_object_end(w);
}

/* The version counted: its id, number, times and any return. */
static void json_unit_counted(jsonw_t *w, const engine_unit_result_t *u)
{
    if (u->report_id[0])
        member_string(w, "report_id", u->report_id);
    else
        member_null(w, "report_id");
    if (u->version)
        member_integer(w, "version", u->version);
    else
        member_null(w, "version");
    member_integer(w, "versions", (long long)u->version_count);
    member_time(w, "first_submitted_at", u->first_submitted_at);
    member_time(w, "submitted_at", u->submitted_at);
    member_time(w, "received_at", u->received_at);
    if (u->return_reason)
        member_string(w, "return_reason", u->return_reason);
    else
        member_null(w, "return_reason");
}

static void member_code(jsonw_t *w, const char *key, const char *code)
{
    if (code[0])
        member_string(w, key, code);
    else
        member_null(w, key);
}

/* Who signed the counted version, who received it when, and whether its
 * claimed time stands (docs/results-format.md); null when not established.
 * The reason is English whatever the language: JSON is for scripts. */
static void json_provenance(jsonw_t *w, const provenance_t *p)
{
    if (!p) {
        jsonw_null(w);
        return;
    }
    char reason[PROVENANCE_REASON_MAX];
    provenance_reason(&p->judgement, LANG_EN, reason, sizeof reason);
    jsonw_object_begin(w);
    member_bool(w, "signed", p->is_signed);
    member_bool(w, "verifies", p->verifies);
    member_code(w, "signer", p->signer);
    member_code(w, "fingerprint", p->fingerprint);
    member_bool(w, "registered", p->registered);
    member_code(w, "received_by", p->received_by);
    member_time(w, "received_at", p->times.received_at);
    member_time(w, "claimed_before", p->times.claimed_before);
    member_time(w, "session_since", p->times.session_since);
    member_bool(w, "receipt_verifies", p->times.receipt_verifies);
    member_bool(w, "time_checked", p->judgement.checked);
    member_string(w, "verdict", provenance_verdict_name(p->judgement.verdict));
    member_bool(w, "claimed_time_implausible", p->judgement.implausible);
    member_string(w, "reason", reason);
    jsonw_object_end(w);
}

static void json_unit(jsonw_t *w, const engine_result_t *result, const engine_unit_result_t *u)
{
    const programme_t *programme = engine_result_programme(result);
    jsonw_object_begin(w);
    member_string(w, "code", u->unit->code);
    member_string(w, "name", u->unit->name ? u->unit->name : "");
    if (u->prefecture)
        member_string(w, "prefecture", u->prefecture->code);
    else
        member_null(w, "prefecture");
    member_string(w, "status", engine_status_name(u->status));
    member_bool(w, "qualified", u->qualified);
    jsonw_key(w, "failed");
    jsonw_array_begin(w);
    for (size_t i = 0; i < programme_item_count(programme); i++)
        if (!u->item_passed[i])
            jsonw_string(w, programme_item(programme, i)->id);
    jsonw_array_end(w);
    member_bool(w, "recommended", u->recommended);
    member_bool(w, "demonstration", u->demonstration);
    member_bool(w, "national_candidate", u->national_candidate);
    jsonw_key(w, "flags");
    json_flags(w, u->flags);
    member_bool(w, "recommended_auto", u->recommended_auto);
    if (u->rank)
        member_integer(w, "rank", u->rank);
    else
        member_null(w, "rank");
    member_integer(w, "items_passed", (long long)u->items_passed);
    member_integer(w, "items_total", (long long)programme_item_count(programme));
    member_real2(w, "mean_margin", u->mean_margin);
    if (u->designated_year)
        member_integer(w, "designated_year", u->designated_year);
    else
        member_null(w, "designated_year");
    json_unit_counted(w, u);
    jsonw_key(w, "criteria");
    jsonw_array_begin(w);
    for (size_t c = 0; c < programme_criterion_count(programme); c++)
        json_criterion(w, &u->criteria[c]);
    jsonw_array_end(w);
    jsonw_key(w, "provenance");
    json_provenance(w, u->provenance);
    jsonw_object_end(w);
}

static void json_aggregate(jsonw_t *w, const engine_aggregate_t *a,
                           const programme_criterion_t *criterion)
{
    jsonw_object_begin(w);
    member_string(w, "id", criterion->id);
    member_string(w, "kind", kind_name(criterion->kind));
    member_integer(w, "units", (long long)a->units);
    switch (criterion->kind) {
    case CRITERION_BOOL:
        member_integer(w, "true", (long long)a->true_count);
        member_real2(w, "percent", a->percent);
        break;
    case CRITERION_COUNT:
        member_integer(w, "sum", (long long)a->sum);
        break;
    case CRITERION_RATIO:
        member_integer(w, "num", (long long)a->sum);
        member_integer(w, "den", (long long)a->den_sum);
        if (a->den_sum)
            member_real2(w, "percent", a->percent);
        else
            member_null(w, "percent");
        break;
    }
    jsonw_object_end(w);
}

/* The summary's members, written into the object that is open. */
static void json_summary_members(jsonw_t *w, const engine_summary_t *s,
                                 const programme_t *programme)
{
    jsonw_key(w, "completeness");
    jsonw_object_begin(w);
    member_integer(w, "expected", (long long)s->expected);
    member_integer(w, "reported", (long long)s->reported);
    member_real2(w, "percent", share(s->reported, s->expected));
    jsonw_object_end(w);
    jsonw_key(w, "timeliness");
    jsonw_object_begin(w);
    member_integer(w, "expected", (long long)s->expected);
    member_integer(w, "on_time", (long long)s->on_time);
    member_integer(w, "late", (long long)s->late);
    member_integer(w, "missing", (long long)s->missing);
    member_real2(w, "percent", share(s->on_time, s->expected));
    jsonw_object_end(w);
    member_integer(w, "qualified", (long long)s->qualified);
    jsonw_key(w, "aggregates");
    jsonw_array_begin(w);
    for (size_t c = 0; c < programme_criterion_count(programme); c++)
        json_aggregate(w, &s->aggregates[c], programme_criterion(programme, c));
    jsonw_array_end(w);
}

static void json_prefecture(jsonw_t *w, const engine_result_t *result,
                            const engine_prefecture_result_t *p)
{
    jsonw_object_begin(w);
    member_string(w, "code", p->unit->code);
    member_string(w, "name", p->unit->name ? p->unit->name : "");
    member_integer(w, "quota", p->quota);
    member_codes(w, "recommended", p->recommended, p->recommended_count);
    member_string(w, "source", engine_rec_source_name(p->source));
    member_bool(w, "provisional", p->provisional);
    member_time(w, "made_at", p->made_at);
    member_integer(w, "revision", (long long)p->revision);
    member_bool(w, "late", p->late);
    member_integer(w, "ignored", (long long)p->ignored_count);
    member_codes(w, "automatic", p->automatic, p->automatic_count);
    member_codes(w, "ranking", p->ranking, p->ranking_count);
    json_summary_members(w, &p->summary, engine_result_programme(result));
    jsonw_object_end(w);
}

static void json_progress_year(jsonw_t *w, const engine_progress_t *g)
{
    jsonw_object_begin(w);
    member_integer(w, "year", g->year);
    member_integer(w, "demonstration", (long long)g->demonstration);
    member_integer(w, "national", (long long)g->national);
    member_integer(w, "demonstration_total", (long long)g->demonstration_total);
    member_integer(w, "national_total", (long long)g->national_total);
    jsonw_object_end(w);
}

static void json_target(jsonw_t *w, const engine_target_t *t)
{
    jsonw_object_begin(w);
    member_string(w, "id", t->id ? t->id : "");
    member_string(w, "of", t->national ? "national" : "demonstration");
    member_string(w, "kind", t->share ? "share" : "count");
    member_real2(w, "value", t->value);
    member_integer(w, "by", t->by);
    member_integer(w, "needed", (long long)t->needed);
    member_integer(w, "achieved", (long long)t->achieved);
    member_real2(w, "percent", t->percent);
    if (t->title_zh)
        member_string(w, "title_zh", t->title_zh);
    else
        member_null(w, "title_zh");
    jsonw_object_end(w);
}

static void json_progress(jsonw_t *w, const engine_province_result_t *pr)
{
    const engine_progress_t *last =
        pr->progress_count ? &pr->progress[pr->progress_count - 1] : NULL;
    jsonw_object_begin(w);
    member_integer(w, "demonstration_total", last ? (long long)last->demonstration_total : 0);
    member_integer(w, "national_total", last ? (long long)last->national_total : 0);
    jsonw_key(w, "years");
    jsonw_array_begin(w);
    for (size_t i = 0; i < pr->progress_count; i++)
        json_progress_year(w, &pr->progress[i]);
    jsonw_array_end(w);
    jsonw_key(w, "targets");
    jsonw_array_begin(w);
    for (size_t i = 0; i < pr->target_count; i++)
        json_target(w, &pr->targets[i]);
    jsonw_array_end(w);
    jsonw_object_end(w);
}

static void json_province(jsonw_t *w, const engine_result_t *result,
                          const engine_province_result_t *pr)
{
    jsonw_object_begin(w);
    if (pr->unit)
        member_string(w, "code", pr->unit->code);
    else
        member_null(w, "code");
    member_string(w, "name", pr->unit && pr->unit->name ? pr->unit->name : "");
    member_codes(w, "demonstration", pr->demonstration, pr->demonstration_count);
    member_codes(w, "national_candidates", pr->national, pr->national_count);
    member_integer(w, "national_quota", pr->national_quota);
    member_integer(w, "quota_total", pr->quota_total);
    jsonw_key(w, "progress");
    json_progress(w, pr);
    json_summary_members(w, &pr->summary, engine_result_programme(result));
    jsonw_object_end(w);
}

static void json_result(jsonw_t *w, const engine_result_t *result)
{
    const programme_t *programme = engine_result_programme(result);
    int year = engine_result_year(result);
    jsonw_object_begin(w);
    member_integer(w, "format", 1);
    member_string(w, "programme", programme_id(programme));
    member_integer(w, "revision", (long long)programme_revision(programme));
    member_string(w, "standard_id", programme_standard_id(programme));
    member_integer(w, "year", year);
    member_time(w, "evaluated_at", engine_result_now(result));
    jsonw_key(w, "deadlines");
    jsonw_object_begin(w);
    member_time(w, "self_assessment", programme_deadline(programme, STAGE_SELF_ASSESSMENT, year));
    member_time(w, "recommendation", programme_deadline(programme, STAGE_RECOMMENDATION, year));
    jsonw_object_end(w);
    jsonw_key(w, "items");
    jsonw_array_begin(w);
    for (size_t i = 0; i < programme_item_count(programme); i++)
        jsonw_string(w, programme_item(programme, i)->id);
    jsonw_array_end(w);
    jsonw_key(w, "units");
    jsonw_array_begin(w);
    for (size_t i = 0; i < engine_result_unit_count(result); i++)
        json_unit(w, result, engine_result_unit(result, i));
    jsonw_array_end(w);
    jsonw_key(w, "prefectures");
    jsonw_array_begin(w);
    for (size_t i = 0; i < engine_result_prefecture_count(result); i++)
        json_prefecture(w, result, engine_result_prefecture(result, i));
    jsonw_array_end(w);
    const engine_province_result_t *province = engine_result_province(result);
    jsonw_key(w, "province");
    if (province)
        json_province(w, result, province);
    else
        jsonw_null(w);
    jsonw_object_end(w);
    jsonw_text(w, "\n", 1);
}

/* The one JSON writer behind both entry points: into a sink. */
static int json_write(const engine_result_t *result, jsonw_sink_fn sink, void *context)
{
    if (!result)
        return SF_EINVAL;
    jsonw_t *w = jsonw_new(sink, context, NULL);
    if (!w)
        return SF_ENOMEM;
    json_result(w, result);
    int rc = jsonw_finish(w);
    jsonw_destroy(&w);
    return rc;
}

static int sink_file(void *context, const char *data, size_t len)
{
    return fwrite(data, 1, len, (FILE *)context) == len ? 0 : SF_EIO;
}

static int sink_text(void *context, const char *data, size_t len)
{
    text_t *t = context;
    text_append(t, data, len);
    return t->failed ? SF_ENOMEM : 0;
}

int render_json_to(const engine_result_t *result, FILE *out)
{
    if (!result || !out)
        return SF_EINVAL;
    return json_write(result, sink_file, out);
}

int render_json(const engine_result_t *result, char **out, size_t *len)
{
    if (!result || !out)
        return SF_EINVAL;
    text_t t = {0};
    int rc = json_write(result, sink_text, &t);
    if (rc) {
        free(t.data);
        return rc;
    }
    return text_finish(&t, out, len);
}

/* ---- CSV ---- */

/* The HTML's Chinese labels (below), so that both forms word a fact alike. */
static const char *status_zh(engine_status_t status);
static const char *flag_zh(unsigned flag);
static const char *demonstration_zh(const programme_t *programme);
static const char *source_zh(engine_rec_source_t source);

static void join_flags(char *buf, size_t size, unsigned flags, sf_lang_t lang)
{
    buf[0] = '\0';
    size_t used = 0;
    for (unsigned bit = 0; bit < ENGINE_FLAG_COUNT; bit++) {
        if (!(flags & (1u << bit)))
            continue;
        const char *name = lang == LANG_EN ? engine_flag_name(1u << bit) : flag_zh(1u << bit);
        int n = snprintf(buf + used, size - used, "%s%s", used ? ";" : "", name);
        if (n < 0 || (size_t)n >= size - used)
            break;
        used += (size_t)n;
    }
}

static const char *csv_bool(bool value, sf_lang_t lang)
{
    if (lang == LANG_EN)
        return value ? "true" : "false";
    return value ? "是" : "否";
}

/* The header row: the unit columns, then one per item of the standard. */
static void csv_header_row(csvw_t *w, const programme_t *programme, sf_lang_t lang)
{
    static const char *const columns[][2] = {{"year", "年度"},
                                             {"code", "单位代码"},
                                             {"name", "单位名称"},
                                             {"prefecture", "市（州）代码"},
                                             {"prefecture_name", "市（州）名称"},
                                             {"status", "上报情况"},
                                             {"qualified", "是否合格"},
                                             {"failed", "不合格条目"},
                                             {"flags", "标记"},
                                             {"items_passed", "合格条目数"},
                                             {"mean_margin", "平均超出（百分点）"},
                                             {"rank", "排名"},
                                             {"recommended", "推荐"},
                                             {"recommended_auto", "自动排名推荐"},
                                             {"demonstration", NULL}, /* 示范县 or 示范点 */
                                             {"national_candidate", "国家级候选"},
                                             {"designated_year", "认定年度"},
                                             {"report_id", "报告编号"},
                                             {"version", "版本"},
                                             {"versions", "版本数"},
                                             {"first_submitted_at", "首次提交时间"},
                                             {"submitted_at", "提交时间"},
                                             {"received_at", "接收时间"},
                                             {"prefecture_source", "推荐来源"}};
    for (size_t i = 0; i < sizeof columns / sizeof columns[0]; i++)
        csvw_field(w, lang == LANG_EN ? columns[i][0]
                      : columns[i][1] ? columns[i][1]
                                      : demonstration_zh(programme));
    for (size_t i = 0; i < programme_item_count(programme); i++)
        csvw_fieldf(w, "%s%s", lang == LANG_EN ? "item_" : "条目",
                    programme_item(programme, i)->id);
    csvw_row_end(w);
}

/* The ids of the unit's failed items, ";"-separated. */
static void failed_items(char *buf, size_t size, const programme_t *programme,
                         const engine_unit_result_t *u)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t k = 0; k < programme_item_count(programme); k++) {
        if (u->item_passed[k])
            continue;
        int n = snprintf(buf + used, size - used, "%s%s", used ? ";" : "",
                         programme_item(programme, k)->id);
        if (n < 0 || (size_t)n >= size - used)
            break;
        used += (size_t)n;
    }
}

/* The columns from the unit's verdict to its recommendation. */
static void csv_unit_verdict(csvw_t *w, const engine_result_t *result,
                             const engine_unit_result_t *u, sf_lang_t lang)
{
    char buf[1024];
    const programme_t *programme = engine_result_programme(result);
    csvw_field(w, lang == LANG_EN ? engine_status_name(u->status) : status_zh(u->status));
    csvw_field(w, csv_bool(u->qualified, lang));
    failed_items(buf, sizeof buf, programme, u);
    csvw_field(w, buf);
    join_flags(buf, sizeof buf, u->flags, lang);
    csvw_field(w, buf);
    csvw_fieldf(w, "%zu", u->items_passed);
    format2(buf, sizeof buf, u->mean_margin);
    csvw_field(w, buf);
    if (u->rank)
        csvw_fieldf(w, "%d", u->rank);
    else
        csvw_field(w, "");
    csvw_field(w, csv_bool(u->recommended, lang));
    csvw_field(w, csv_bool(u->recommended_auto, lang));
    csvw_field(w, csv_bool(u->demonstration, lang));
    csvw_field(w, csv_bool(u->national_candidate, lang));
}

/* One unit's row (its items' pass/fail last). */
static void csv_unit_row(csvw_t *w, const engine_result_t *result, const engine_unit_result_t *u,
                         sf_lang_t lang)
{
    const programme_t *programme = engine_result_programme(result);
    const engine_prefecture_result_t *p = prefecture_of(result, u);
    char buf[STIME_BUFSZ];
    csvw_fieldf(w, "%d", engine_result_year(result));
    csvw_field(w, u->unit->code);
    csvw_field(w, u->unit->name);
    csvw_field(w, u->prefecture ? u->prefecture->code : "");
    csvw_field(w, u->prefecture ? u->prefecture->name : "");
    csv_unit_verdict(w, result, u, lang);
    if (u->designated_year)
        csvw_fieldf(w, "%d", u->designated_year);
    else
        csvw_field(w, "");
    csvw_field(w, u->report_id);
    if (u->version)
        csvw_fieldf(w, "%u", (unsigned)u->version);
    else
        csvw_field(w, "");
    csvw_fieldf(w, "%zu", u->version_count);
    const int64_t times[] = {u->first_submitted_at, u->submitted_at, u->received_at};
    for (size_t k = 0; k < 3; k++)
        csvw_field(w, times[k] ? stime_format(times[k], buf, sizeof buf) : "");
    csvw_field(w, !p                ? ""
                  : lang == LANG_EN ? engine_rec_source_name(p->source)
                                    : source_zh(p->source));
    const char *pass = lang == LANG_EN ? "pass" : "合格",
               *fail = lang == LANG_EN ? "fail" : "不合格";
    for (size_t k = 0; k < programme_item_count(programme); k++)
        csvw_field(w, u->status == ENGINE_MISSING ? "" : u->item_passed[k] ? pass : fail);
    csvw_row_end(w);
}

int render_csv_lang(const engine_result_t *result, sf_lang_t lang, char **out, size_t *len)
{
    if (!result || !out)
        return SF_EINVAL;
    csvw_t *w = csvw_new(true);
    if (!w)
        return SF_ENOMEM;
    csv_header_row(w, engine_result_programme(result), lang);
    for (size_t i = 0; i < engine_result_unit_count(result); i++)
        csv_unit_row(w, result, engine_result_unit(result, i), lang);
    return csvw_finish(&w, out, len);
}

int render_csv(const engine_result_t *result, char **out, size_t *len)
{
    return render_csv_lang(result, LANG_ZH, out, len);
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
    case ENGINE_FLAG_CLAIMED_TIME:
        return "申报时间存疑";
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

/* Beside a unit whose claimed time is implausible; explained under its table. */
#define HTML_TIME_MARK "⚠"

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

/* A4 landscape by default, and a table that fits 277 mm and a 1400 px
 * window: item columns are narrow, names and notes wrap. */
static const char html_style[] =
    "@page{size:A4 landscape;margin:10mm}\n"
    "body{font-family:\"Noto Sans CJK SC\",\"Microsoft YaHei\",\"SimSun\",sans-serif;"
    "margin:1.5em;color:#111;font-size:13px}\n"
    "h1{font-size:20px}h2{font-size:17px;margin-top:1.6em;border-bottom:1px solid #888}\n"
    "h3{font-size:14px;margin:.8em 0 .3em}\n"
    "table{border-collapse:collapse;margin:.6em 0}table.units{width:100%}\n"
    "th,td{border:1px solid #999;padding:2px 3px;text-align:center}\n"
    "td.name{text-align:left}th{background:#eee;font-weight:normal}\n"
    "th.item,table.units td{padding:2px 1px}th.item{font-size:11px}\n"
    "table.units td{white-space:nowrap}table.units td.name{white-space:normal}\n"
    ".pass{color:#060}.fail{color:#b00;font-weight:bold}.missing{color:#888}"
    ".mark{color:#b60;font-weight:bold}\n"
    "tr.recommended td{background:#fff6cc}\n"
    ".note{color:#555;font-size:12px}ul.reasons{margin:.2em 0;padding-left:1.5em}\n"
    "@media print{body{margin:0;font-size:9px}h1{font-size:15px}h2{font-size:12px}"
    "h3{font-size:10px}th.item{font-size:8px}tr{page-break-inside:avoid}"
    "th{background:#ddd!important;-webkit-print-color-adjust:exact;print-color-adjust:exact}}\n";

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

/* One aggregate as officials read it: Σnum/Σden and its percentage, a
 * count's sum, or how many units answered yes. */
static void html_aggregate_cells(text_t *t, const programme_criterion_t *criterion,
                                 const engine_aggregate_t *a)
{
    char rule[128], percent[32];
    verdict_rule_text(criterion, rule, sizeof rule);
    format2(percent, sizeof percent, a->percent);
    text_puts(t, "<td>");
    html_text(t, criterion->id);
    text_puts(t, "</td><td>");
    html_text(t, rule);
    text_printf(t, "</td><td>%zu</td>", a->units);
    if (criterion->kind == CRITERION_RATIO && a->den_sum)
        text_printf(t, "<td>%llu/%llu</td><td>%s%%</td>", (unsigned long long)a->sum,
                    (unsigned long long)a->den_sum, percent);
    else if (criterion->kind == CRITERION_RATIO)
        text_puts(t, "<td>0/0</td><td></td>");
    else if (criterion->kind == CRITERION_COUNT)
        text_printf(t, "<td>%llu</td><td></td>", (unsigned long long)a->sum);
    else
        text_printf(t, "<td>%zu/%zu 是</td><td>%s%%</td>", a->true_count, a->units, percent);
}

/* Per criterion over the units with a value (ratios Σnum/Σden, never a
 * mean of percentages), two criteria a row to keep the page short. */
static void html_aggregates(text_t *t, const programme_t *programme, const engine_summary_t *s)
{
    static const char head[] = "<th>指标</th><th>要求</th><th>填报单位</th><th>合计</th>"
                               "<th>比例</th>";
    size_t count = programme_criterion_count(programme), half = (count + 1) / 2;
    text_printf(t,
                "<h3>分项汇总（比例为 Σ分子/Σ分母）</h3>\n<table class=\"aggregates\">\n"
                "<thead><tr>%s%s</tr></thead>\n<tbody>\n",
                head, count > 1 ? head : "");
    for (size_t r = 0; r < half; r++) {
        text_puts(t, "<tr>");
        html_aggregate_cells(t, programme_criterion(programme, r), &s->aggregates[r]);
        if (r + half < count)
            html_aggregate_cells(t, programme_criterion(programme, r + half),
                                 &s->aggregates[r + half]);
        text_puts(t, "</tr>\n");
    }
    text_puts(t, "</tbody>\n</table>\n");
}

/* Which criteria each reported unit of the table failed, and why. */
static void html_reasons(text_t *t, const engine_result_t *result,
                         const engine_prefecture_result_t *p)
{
    const programme_t *programme = engine_result_programme(result);
    char line[VERDICT_TEXT_MAX + 512];
    bool any = false;
    for (size_t i = 0; i < engine_result_unit_count(result); i++) {
        const engine_unit_result_t *u = engine_result_unit(result, i);
        if (u->prefecture != p->unit || u->status == ENGINE_MISSING)
            continue;
        bool open = false;
        for (size_t c = 0; c < programme_criterion_count(programme); c++) {
            if (!verdict_notable(&u->criteria[c]))
                continue;
            if (!any)
                text_puts(t, "<h3>不合格项目及原因</h3>\n<ul class=\"reasons\">\n");
            if (!open) {
                text_puts(t, "<li>");
                html_text(t, u->unit->name);
                text_puts(t, "（");
                html_text(t, u->unit->code);
                text_puts(t, "）<ul>\n");
            }
            any = open = true;
            verdict_line(&u->criteria[c], line, sizeof line);
            text_puts(t, "<li>");
            html_text(t, line);
            text_puts(t, "</li>\n");
        }
        if (open)
            text_puts(t, "</ul></li>\n");
    }
    if (any)
        text_puts(t, "</ul>\n");
}

/* The units of the table whose claimed time the hub's signed receipt
 * contradicts (the mark beside their names), and why. */
static void html_time_legend(text_t *t, const engine_result_t *result,
                             const engine_prefecture_result_t *p)
{
    char reason[PROVENANCE_REASON_MAX];
    bool any = false;
    for (size_t i = 0; i < engine_result_unit_count(result); i++) {
        const engine_unit_result_t *u = engine_result_unit(result, i);
        if (u->prefecture != p->unit || !(u->flags & ENGINE_FLAG_CLAIMED_TIME) || !u->provenance)
            continue;
        if (!any)
            text_puts(t, "<h3>" HTML_TIME_MARK " 申报时间存疑（与州（市）级节点签名的回执不符）"
                         "</h3>\n<ul class=\"reasons\">\n");
        any = true;
        provenance_reason(&u->provenance->judgement, LANG_ZH, reason, sizeof reason);
        text_puts(t, "<li>" HTML_TIME_MARK " ");
        html_text(t, u->unit->name);
        text_puts(t, "（");
        html_text(t, u->unit->code);
        text_puts(t, "）：");
        html_text(t, reason);
        text_puts(t, "</li>\n");
    }
    if (any)
        text_puts(t, "</ul>\n");
}

/* The items' titles: the tables name items by number only. */
static void html_legend(text_t *t, const programme_t *programme)
{
    char rule[128];
    text_puts(t, "<section class=\"legend\">\n<h2>项目说明</h2>\n<table>\n<thead><tr><th>项目"
                 "</th><th>指标</th><th>内容</th><th>要求</th></tr></thead>\n<tbody>\n");
    for (size_t c = 0; c < programme_criterion_count(programme); c++) {
        const programme_criterion_t *criterion = programme_criterion(programme, c);
        verdict_rule_text(criterion, rule, sizeof rule);
        text_puts(t, "<tr><td>");
        html_text(t, criterion->item);
        text_puts(t, "</td><td>");
        html_text(t, criterion->id);
        text_puts(t, "</td><td class=\"name\">");
        html_text(t, criterion->title_zh);
        text_puts(t, "</td><td>");
        html_text(t, rule);
        text_puts(t, "</td></tr>\n");
    }
    text_puts(t, "</tbody>\n</table>\n</section>\n");
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
    if (u->flags & ENGINE_FLAG_CLAIMED_TIME)
        text_puts(t, " <span class=\"mark\" title=\"申报时间存疑\">" HTML_TIME_MARK "</span>");
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
    text_puts(t, "<table class=\"units\">\n<thead><tr><th>代码</th><th>名称</th><th>状态</th>");
    for (size_t i = 0; i < items; i++) {
        text_puts(t, "<th class=\"item\">");
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
    text_puts(t, "</tbody>\n</table>\n");
    html_reasons(t, result, p);
    html_time_legend(t, result, p);
    html_aggregates(t, programme, &p->summary);
    text_puts(t, "</section>\n");
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
    html_aggregates(t, programme, &pr->summary);
    text_puts(t, "</section>\n");
}

/* The page is headed with the evaluating tier's name (the scope: the
 * province, or the prefecture when a hub renders), then the programme. */
static void html_heading(text_t *t, const engine_result_t *result)
{
    const programme_t *programme = engine_result_programme(result);
    const programme_unit_t *scope = engine_result_scope(result);
    const char *name = scope && scope->name ? scope->name : "";
    int year = engine_result_year(result);
    text_puts(t, "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n"
                 "<title>");
    html_text(t, name);
    text_printf(t, " %d年度评估结果</title>\n<style>\n%s</style>\n</head>\n<body>\n<h1>", year,
                html_style);
    html_text(t, name);
    text_printf(t, " %d年度评估结果<br><small>", year);
    html_text(t, programme_title(programme));
    text_puts(t, "</small></h1>\n");
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
    html_heading(&t, result);
    stime_format(engine_result_now(result), when, sizeof when);
    stime_format(programme_deadline(programme, STAGE_SELF_ASSESSMENT, year), deadline,
                 sizeof deadline);
    text_puts(&t, "<p class=\"note\">方案 ");
    html_text(&t, programme_id(programme));
    text_printf(&t,
                "（第 %llu 版），评估时间 %s，自评截止 %s。✓ 合格，✗ 不合格，– 未报；"
                "表头为项目编号，见文末项目说明。</p>\n",
                (unsigned long long)programme_revision(programme), when, deadline);
    if (province)
        html_province(&t, programme, province);
    for (size_t i = 0; i < engine_result_prefecture_count(result); i++)
        html_prefecture(&t, result, engine_result_prefecture(result, i));
    html_legend(&t, programme);
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
    else if (strcmp(name, "xlsx") == 0)
        *format = RENDER_XLSX;
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
    case RENDER_XLSX:
        return render_xlsx(result, out, len);
    }
    return SF_EINVAL;
}

int render_to_lang(const engine_result_t *result, render_format_t format, sf_lang_t lang, FILE *out)
{
    if (!result || !out)
        return SF_EINVAL;
    if (format == RENDER_JSON)
        return render_json_to(result, out);
    char *text = NULL;
    size_t len = 0;
    int rc = format == RENDER_CSV ? render_csv_lang(result, lang, &text, &len)
                                  : render(result, format, &text, &len);
    if (rc == 0 && fwrite(text, 1, len, out) != len)
        rc = SF_EIO;
    free(text);
    return rc;
}

int render_to(const engine_result_t *result, render_format_t format, FILE *out)
{
    return render_to_lang(result, format, LANG_ZH, out);
}
