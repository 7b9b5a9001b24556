/* console_province.c - the province's console API: the year's evaluation,
 * a unit's versions and inspections, the exports, and a cheap counter the
 * page polls (console_province.h, docs/console.md). Every figure is the
 * engine's (node_evaluate, as `province-core evaluate` calls it), every
 * rendering render.h's. */
#include "app/console_province.h"
#include "base/msg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/engine.h"
#include "domain/render.h"
#include "domain/verdict.h"

/* GET /api/province/changes: what the page polls every few seconds; two
 * reads of counters, no evaluation. */
static void province_changes(console_t *console, const http_request_t *request,
                             http_response_t *response)
{
    (void)request;
    node_t *node = console_node(console);
    uint64_t generation = 0;
    int rc = node_data_generation(node, &generation);
    if (rc) {
        console_reply_error(response, 500, msg("cannot read the store: %s"), sf_strerror(rc));
        return;
    }
    console_reply(response, 200,
                  json_pack("{s:I, s:I}", "generation", (json_int_t)generation, "revision",
                            (json_int_t)programme_revision(node_programme(node))));
}

/* The evaluation of the request's year over everything stored, or NULL
 * after answering the error. scope: as node_evaluate's. */
static engine_result_t *province_evaluate(console_t *console, const http_request_t *request,
                                          const char *scope, http_response_t *response)
{
    engine_result_t *result = NULL;
    char err[512];
    int rc = node_evaluate(console_node(console), console_year(console, request), scope, &result,
                           err, sizeof err);
    if (rc)
        console_reply_error(response, rc == SF_EINVAL ? 400 : 500, "%s", err);
    return result;
}

/* result in format (CSV in lang) as render_to_lang writes it for the
 * verb: malloc'd into *out. */
static int province_render(const engine_result_t *result, render_format_t format, sf_lang_t lang,
                           char **out, size_t *len)
{
    FILE *stream = open_memstream(out, len);
    if (!stream)
        return SF_ENOMEM;
    int rc = render_to_lang(result, format, lang, stream);
    if (fclose(stream) != 0 && rc == 0)
        rc = SF_ENOMEM;
    if (rc) {
        free(*out);
        *out = NULL;
    }
    return rc;
}

/* GET /api/province/evaluation?year=Y: `evaluate --format json`'s bytes. */
static void province_evaluation(console_t *console, const http_request_t *request,
                                http_response_t *response)
{
    engine_result_t *result = province_evaluate(console, request, NULL, response);
    if (!result)
        return;
    char *text = NULL;
    size_t len = 0;
    int rc = province_render(result, RENDER_JSON, LANG_ZH, &text, &len);
    engine_result_destroy(&result);
    if (rc) {
        console_reply_error(response, 500, msg("cannot render the result: %s"), sf_strerror(rc));
        return;
    }
    http_response_take(response, 200, "application/json; charset=utf-8", text, len);
    http_response_header(response, "Cache-Control", "no-store");
}

static const struct {
    render_format_t format;
    const char *name, *type;
} province_exports[] = {
    {RENDER_HTML, "html", "text/html; charset=utf-8"},
    {RENDER_CSV, "csv", "text/csv; charset=utf-8"},
    {RENDER_JSON, "json", "application/json; charset=utf-8"},
    {RENDER_XLSX, "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
};

/* GET /api/province/export?year=Y&format=F[&lang=en]: the evaluation as a
 * file to save, e.g. shifan-530000-2018.xlsx (CSV in English: -en.csv). */
static void province_export(console_t *console, const http_request_t *request,
                            http_response_t *response)
{
    const char *name = http_request_param(request, "format");
    const char *lang_name = http_request_param(request, "lang");
    size_t which = 0, count = sizeof province_exports / sizeof province_exports[0];
    while (which < count && (!name || strcmp(name, province_exports[which].name) != 0))
        which++;
    sf_lang_t lang = LANG_ZH;
    if (which == count || (lang_name && lang_parse(lang_name, &lang) != 0)) {
        console_reply_error(response, 400,
                            msg("expected format=html|csv|json|xlsx and lang=zh|en"));
        return;
    }
    engine_result_t *result = province_evaluate(console, request, NULL, response);
    if (!result)
        return;
    char *bytes = NULL, disposition[160];
    size_t len = 0;
    int rc = province_render(result, province_exports[which].format, lang, &bytes, &len);
    snprintf(disposition, sizeof disposition, "attachment; filename=\"shifan-%s-%d%s.%s\"",
             engine_result_scope(result)->code, engine_result_year(result),
             province_exports[which].format == RENDER_CSV && lang == LANG_EN ? "-en" : "", name);
    engine_result_destroy(&result);
    if (rc) {
        console_reply_error(response, 500, msg("cannot render the result: %s"), sf_strerror(rc));
        return;
    }
    http_response_take(response, 200, province_exports[which].type, bytes, len);
    http_response_header(response, "Content-Disposition", disposition);
    http_response_header(response, "Cache-Control", "no-store");
}

/* The inspections of year of the units within code: each as its report
 * JSON (report_to_json) with this node's receipt time. */
static json_t *inspections_json(node_t *node, const char *code, int year)
{
    sf_error_t error = {0, ""};
    node_inspections_t *list = node_inspections(node, code, year, &error);
    json_t *array = list ? json_array() : NULL;
    for (size_t i = 0; array && i < list->count; i++) {
        char *text = report_to_json(list->inspections[i].inspection);
        json_t *inspection = text ? json_loads(text, 0, NULL) : NULL;
        free(text);
        if (!inspection) {
            json_decref(array);
            array = NULL;
            break;
        }
        json_object_set_new(inspection, "received_at",
                            console_time(list->inspections[i].received_at));
        json_array_append_new(array, inspection);
    }
    node_inspections_destroy(&list);
    return array;
}

/* Per reported unit of the result, why it is not qualified: verdict_line
 * of each failed or contradicted criterion (the HTML's 不合格项目及原因). */
static json_t *reasons_json(const engine_result_t *result)
{
    const programme_t *programme = engine_result_programme(result);
    json_t *reasons = json_object();
    char line[VERDICT_TEXT_MAX];
    for (size_t u = 0; u < engine_result_unit_count(result); u++) {
        const engine_unit_result_t *unit = engine_result_unit(result, u);
        if (unit->status == ENGINE_MISSING)
            continue;
        json_t *lines = json_array();
        for (size_t c = 0; c < programme_criterion_count(programme); c++)
            if (verdict_notable(&unit->criteria[c])) {
                verdict_line(&unit->criteria[c], line, sizeof line);
                json_array_append_new(lines, json_string(line));
            }
        json_object_set_new(reasons, unit->unit->code, lines);
    }
    return reasons;
}

/* GET /api/province/unit?code=C&year=Y: a prefecture or county drilled
 * into. Its flags and figures are in the evaluation the page holds. */
static void province_unit(console_t *console, const http_request_t *request,
                          http_response_t *response)
{
    node_t *node = console_node(console);
    const programme_t *programme = node_programme(node);
    const char *asked = http_request_param(request, "code");
    int index = asked ? programme_find_unit(programme, asked) : -1;
    if (index < 0) {
        console_reply_error(response, 404, msg("no unit %s in programme %s"),
                            asked ? asked : "(none)", programme_id(programme));
        return;
    }
    const programme_unit_t *unit = programme_unit(programme, (size_t)index);
    int year = console_year(console, request);
    engine_result_t *result = province_evaluate(console, request, unit->code, response);
    if (!result)
        return;
    json_t *versions = console_versions(console, year, unit->code, true);
    json_t *inspections = inspections_json(node, unit->code, year);
    json_t *body = NULL;
    if (versions && inspections) /* json_pack takes both, also when it fails */
        body = json_pack("{s:s, s:s?, s:i, s:o, s:o, s:o}", "code", unit->code, "name", unit->name,
                         "year", year, "versions", versions, "inspections", inspections, "reasons",
                         reasons_json(result));
    else
        json_decref(versions), json_decref(inspections);
    engine_result_destroy(&result);
    if (body)
        console_reply(response, 200, body);
    else
        console_reply_error(response, 500, msg("cannot read the store, or out of memory"));
}

const console_route_t console_province_routes[] = {
    {"GET", "/api/province/changes", province_changes},
    {"GET", "/api/province/evaluation", province_evaluation},
    {"GET", "/api/province/unit", province_unit},
    {"GET", "/api/province/export", province_export},
    {NULL, NULL, NULL},
};
