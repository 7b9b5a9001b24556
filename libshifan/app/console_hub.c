/* console_hub.c - the prefecture hub's console API: its counties for a year
 * as the engine evaluates them, the recommendation and its confirmation,
 * inspections and returns (console_hub.h, docs/console.md). The overview is
 * `report --json` (node_evaluate, render_json) with the verdict lines
 * `report` prints and `recommend --json`; each change is the verb's own
 * node call. */
#include "app/console_hub.h"
#include "base/msg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/cli.h"
#include "base/slog.h"
#include "domain/render.h"
#include "domain/report_xlsx.h"
#include "domain/verdict.h"

#define FORM_SOURCE "form" /* names the page's input in messages, as FILE does on the CLI */

/* Who made a change through the page, for the log. Operator accounts
 * (sessions, issue 11) will name the signed-in operator here; until then
 * every change is the console's. */
/* Who made a change through the page: the operator logged in, or the open
 * console's name for the audit trail (no account exists). */
static const char *hub_operator(console_t *console)
{
    const char *name = console_operator(console);
    return name ? name : CONSOLE_NO_LOGIN;
}

/* {criterion id: verdict line} for the criteria that make a unit fail or
 * that an inspection contradicts: the lines `prefecture-hub report` prints
 * under the unit. */
static json_t *reasons_json(const programme_t *programme, const engine_unit_result_t *unit)
{
    json_t *reasons = json_object();
    char line[VERDICT_TEXT_MAX + 512];
    for (size_t c = 0; unit->status != ENGINE_MISSING && c < programme_criterion_count(programme);
         c++) {
        if (!verdict_notable(&unit->criteria[c]))
            continue;
        verdict_line(&unit->criteria[c], line, sizeof line);
        json_object_set_new(reasons, unit->criteria[c].criterion->id, json_string(line));
    }
    return reasons;
}

/* The evaluation as `report --json` writes it, each unit with its reasons. */
static json_t *evaluation_json(const engine_result_t *result)
{
    char *text = NULL;
    size_t len = 0;
    if (render_json(result, &text, &len))
        return NULL;
    json_t *document = json_loadb(text, len, 0, NULL);
    free(text);
    json_t *units = json_object_get(document, "units");
    const programme_t *programme = engine_result_programme(result);
    for (size_t i = 0; i < json_array_size(units); i++)
        json_object_set_new(json_array_get(units, i), "reasons",
                            reasons_json(programme, engine_result_unit(result, i)));
    return document;
}

/* The lists as `recommend --json` gives them, NULL with err on failure. */
static json_t *recommendation_json(node_t *node, int year, const node_recommend_request_t *request,
                                   int *rc, char *err, size_t errsize)
{
    node_recommendations_t *lists = NULL;
    *rc = node_recommend(node, year, request, &lists, err, errsize);
    if (*rc)
        return NULL;
    char *text = cli_recommendations_json(node_code(node), year, lists);
    node_recommendations_destroy(&lists);
    json_t *document = text ? json_loads(text, 0, NULL) : NULL;
    free(text);
    if (!document) {
        *rc = SF_ENOMEM;
        snprintf(err, errsize, "out of memory");
    }
    return document;
}

static int status_of(int rc)
{
    return rc == SF_EINVAL ? 400 : 500;
}

/* GET /api/hub/overview?year=Y: everything the page shows for the year. */
static void hub_overview(console_t *console, const http_request_t *request,
                         http_response_t *response)
{
    node_t *node = console_node(console);
    int year = console_year(console, request);
    char err[512];
    engine_result_t *result = NULL;
    int rc = node_evaluate(node, year, node_code(node), &result, err, sizeof err);
    if (rc) {
        console_reply_error(response, status_of(rc), "%s", err);
        return;
    }
    json_t *evaluation = evaluation_json(result);
    engine_result_destroy(&result);
    json_t *recommendation = recommendation_json(node, year, NULL, &rc, err, sizeof err);
    if (!evaluation || !recommendation) {
        json_decref(evaluation);
        json_decref(recommendation);
        console_reply_error(response, 500, "%s", evaluation ? err : "out of memory");
        return;
    }
    console_reply(response, 200,
                  json_pack("{s:i, s:o, s:o, s:o}", "year", year, "evaluation", evaluation,
                            "recommendation", recommendation, "standard",
                            console_standard_json(node_programme(node))));
}

/* The request's body as a JSON object; NULL after answering 400. */
static json_t *hub_body(const http_request_t *request, http_response_t *response)
{
    json_t *body = json_loadb(request->body, request->body_len, 0, NULL);
    if (json_is_object(body))
        return body;
    json_decref(body);
    console_reply_error(response, 400, msg("%s: expected a JSON object"), FORM_SOURCE);
    return NULL;
}

/* The body's "year" as a whole number; 0 after answering 400. */
static int hub_body_year(const json_t *body, http_response_t *response)
{
    const json_t *year = json_object_get(body, "year");
    if (json_is_integer(year) && json_integer_value(year) > 0 && json_integer_value(year) < 10000)
        return (int)json_integer_value(year);
    console_reply_error(response, 400, msg("%s: \"year\" must be a year such as 2018"),
                        FORM_SOURCE);
    return 0;
}

/* POST /api/hub/confirm {"year","override"}: `recommend --confirm
 * [--override]`, refused after the deadline without the override. */
static void hub_confirm(console_t *console, const http_request_t *request,
                        http_response_t *response)
{
    json_t *body = hub_body(request, response);
    int year = body ? hub_body_year(body, response) : 0;
    bool override = json_is_true(json_object_get(body, "override"));
    json_decref(body);
    if (!year)
        return;
    node_recommend_request_t ask = {true, override, hub_operator(console)};
    char err[512];
    int rc;
    json_t *answer = recommendation_json(console_node(console), year, &ask, &rc, err, sizeof err);
    if (!answer) {
        console_reply_error(response, status_of(rc), "%s", err);
        return;
    }
    slog_info("%s: confirmed the recommendation for %d through the web console%s",
              hub_operator(console), year, override ? " (deadline override ticked)" : "");
    console_audit_target(console, "%s/%d%s", node_code(console_node(console)), year,
                         override ? " (deadline overridden)" : "");
    console_reply(response, 200, answer);
}

/* The ids of the criteria an inspection gives, joined by commas. */
static void inspected_ids(const report_t *inspection, char *buf, size_t size)
{
    buf[0] = '\0';
    for (size_t i = 0; i < inspection->value_count; i++)
        snprintf(buf + strlen(buf), size - strlen(buf), "%s%s", i ? "," : "",
                 inspection->values[i].criterion);
}

/* POST /api/hub/inspect: the hub's own values for chosen criteria of a
 * unit-year (the report JSON), stored and queued up as `inspect` does. */
static void hub_inspect(console_t *console, const http_request_t *request,
                        http_response_t *response)
{
    node_t *node = console_node(console);
    if (request->body_len > REPORT_MAX_BYTES) {
        console_reply_error(response, 413, msg("%s: larger than %d bytes"), FORM_SOURCE,
                            REPORT_MAX_BYTES);
        return;
    }
    char note[512], err[512], ids[1024];
    sf_error_t error = {0, ""};
    report_t *inspection = report_load_any(request->body, request->body_len, FORM_SOURCE, NULL,
                                           node_programme(node), note, sizeof note, &error);
    if (!inspection) {
        console_reply_error(response, status_of(error.code), "%s", error.text);
        return;
    }
    int rc = node_inspect(node, inspection, err, sizeof err);
    if (rc) {
        console_reply_error(response, status_of(rc), "%s: %s", FORM_SOURCE, err);
    } else {
        inspected_ids(inspection, ids, sizeof ids);
        console_audit_target(console, "%s", inspection->report_id);
        slog_info("%s: recorded inspection %s of %s %d (criteria %s) through the web console",
                  hub_operator(console), inspection->report_id, inspection->unit, inspection->year,
                  ids);
        console_reply(response, 200,
                      json_pack("{s:s, s:s, s:i, s:s}", "report_id", inspection->report_id, "unit",
                                inspection->unit, "year", inspection->year, "criteria", ids));
    }
    report_destroy(&inspection);
}

/* POST /api/hub/return {"unit","year","reason"}: `return`, down to the
 * county and up to the province. */
static void hub_return(console_t *console, const http_request_t *request, http_response_t *response)
{
    json_t *body = hub_body(request, response);
    int year = body ? hub_body_year(body, response) : 0;
    if (!year) {
        json_decref(body);
        return;
    }
    const char *unit = json_string_value(json_object_get(body, "unit"));
    const char *reason = json_string_value(json_object_get(body, "reason"));
    char err[512];
    int rc =
        unit ? node_return(console_node(console), unit, year, reason, err, sizeof err) : SF_EINVAL;
    if (!unit)
        snprintf(err, sizeof err, "\"unit\" is required");
    if (rc) {
        console_reply_error(response, status_of(rc), "%s: %s", FORM_SOURCE, err);
    } else {
        slog_info("%s: returned %s %d for correction through the web console: %s",
                  hub_operator(console), unit, year, reason);
        console_audit_target(console, "%s/%d", unit, year);
        console_reply(response, 200,
                      json_pack("{s:s, s:i, s:s}", "unit", unit, "year", year, "reason", reason));
    }
    json_decref(body);
}

const console_route_t console_hub_routes[] = {
    {"GET", "/api/hub/overview", hub_overview},
    {"POST", "/api/hub/confirm", hub_confirm},
    {"POST", "/api/hub/inspect", hub_inspect},
    {"POST", "/api/hub/return", hub_return},
    {NULL, NULL, NULL},
};
