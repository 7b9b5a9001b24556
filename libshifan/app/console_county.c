/* console_county.c - the county's console API: its form, the live check,
 * drafts, submit, versions and their journey, the published result
 * (console_county.h, docs/console.md). Every rule is the library's: the
 * check is report_load + the engine (console_check.h), submit is
 * node_submit, the versions are node_list as `list --json` writes them. */
#include "app/console_county.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/cli.h"
#include "app/console_check.h"
#include "base/stime.h"
#include "storage/drafts.h"

#define FORM_SOURCE "form" /* names the page's input in messages, as FILE does on the CLI */

/* The stored draft of unit/year as {text, saved_at, submitted_version}, or
 * JSON null when there is none. */
static json_t *draft_json(node_t *node, int year)
{
    drafts_record_t draft;
    if (drafts_load(node_store(node), node_code(node), year, &draft))
        return json_null();
    json_t *out =
        json_pack("{s:s%, s:o, s:i}", "text", draft.text, draft.len, "saved_at",
                  console_time(draft.saved_at), "submitted_version", (int)draft.submitted_version);
    free(draft.text);
    return out ? out : json_null();
}

/* GET /api/county/form?year=Y: the form of the programme in force and the
 * draft kept for it. */
static void county_form(console_t *console, const http_request_t *request,
                        http_response_t *response)
{
    node_t *node = console_node(console);
    const programme_t *programme = node_programme(node);
    int year = console_year(console, request);
    json_t *body =
        json_pack("{s:s, s:i, s:s, s:o, s:o, s:o}", "unit", node_code(node), "year", year,
                  "programme", programme_id(programme), "deadline",
                  console_time(programme_deadline(programme, STAGE_SELF_ASSESSMENT, year)),
                  "sections", console_standard_json(programme), "draft", draft_json(node, year));
    console_reply(response, body ? 200 : 500, body);
}

/* The check's answer: errors per field, or pass/fail per criterion and
 * item and the unit's verdict as the engine gives them. */
static json_t *check_json(const console_check_t *check)
{
    json_t *fields = json_object();
    for (size_t i = 0; i < check->field_count; i++)
        json_object_set_new(fields, check->fields[i].criterion,
                            json_string(check->fields[i].message));
    if (!check->unit)
        return json_pack("{s:b, s:s, s:o}", "valid", 0, "error", check->error, "fields", fields);
    const programme_t *programme = engine_result_programme(check->result);
    json_t *criteria = json_object(), *items = json_object();
    for (size_t c = 0; c < programme_criterion_count(programme); c++) {
        const engine_criterion_result_t *criterion = &check->unit->criteria[c];
        json_object_set_new(
            criteria, criterion->criterion->id,
            json_pack("{s:b, s:b}", "present", criterion->present, "passed", criterion->passed));
    }
    for (size_t i = 0; i < programme_item_count(programme); i++)
        json_object_set_new(items, programme_item(programme, i)->id,
                            json_boolean(check->unit->item_passed[i]));
    return json_pack("{s:b, s:o, s:o, s:o, s:I, s:I, s:b, s:s, s:I}", "valid", 1, "fields", fields,
                     "criteria", criteria, "items", items, "items_passed",
                     (json_int_t)check->unit->items_passed, "item_count",
                     (json_int_t)programme_item_count(programme), "qualified",
                     check->unit->qualified, "missing", check->missing, "missing_count",
                     (json_int_t)check->missing_count);
}

/* Runs the check of the request's body; NULL after answering 500. */
static console_check_t *county_run_check(console_t *console, const http_request_t *request,
                                         http_response_t *response)
{
    node_t *node = console_node(console);
    console_check_t *check = NULL;
    if (request->body_len > REPORT_MAX_BYTES) {
        console_reply_error(response, 413, "%s: larger than %d bytes", FORM_SOURCE,
                            REPORT_MAX_BYTES);
        return NULL;
    }
    if (console_check(node_programme(node), request->body, request->body_len, FORM_SOURCE,
                      node_code(node), stime_now(), &check)) {
        console_reply_error(response, 500, "out of memory");
        return NULL;
    }
    return check;
}

/* POST /api/county/check: validates and evaluates the body, stores nothing. */
static void county_check(console_t *console, const http_request_t *request,
                         http_response_t *response)
{
    console_check_t *check = county_run_check(console, request, response);
    if (check)
        console_reply(response, 200, check_json(check));
    console_check_destroy(&check);
}

/* Stores text as the draft of year, durably (fsync'd before this returns). */
static int county_store_draft(node_t *node, int year, const char *text, size_t len,
                              uint32_t submitted_version, int64_t *saved_at)
{
    *saved_at = stime_now();
    drafts_record_t draft = {*saved_at, submitted_version, (char *)text, len};
    return drafts_save(node_store(node), node_code(node), year, &draft);
}

/* POST /api/county/draft?year=Y: keeps the body (a JSON object, possibly
 * still wrong) as the draft of year; 200 only once it is on disk. */
static void county_draft(console_t *console, const http_request_t *request,
                         http_response_t *response)
{
    int year = console_year(console, request);
    json_t *document = json_loadb(request->body, request->body_len, 0, NULL);
    bool object = json_is_object(document);
    json_decref(document);
    if (!object || request->body_len > DRAFTS_TEXT_MAX) {
        console_reply_error(response, 400, "a draft is a JSON object of at most %d bytes",
                            DRAFTS_TEXT_MAX);
        return;
    }
    int64_t saved_at;
    int rc = county_store_draft(console_node(console), year, request->body, request->body_len, 0,
                                &saved_at);
    if (rc) {
        console_reply_error(response, 500, "the draft was NOT saved: %s", sf_strerror(rc));
        return;
    }
    console_reply(response, 200,
                  json_pack("{s:i, s:o}", "year", year, "saved_at", console_time(saved_at)));
}

/* POST /api/county/submit: the same checks as `submit`, then a new version
 * stored and queued up (node_submit). The draft stays, marked as submitted
 * with that version, so the form shows what was sent (docs/console.md). */
static void county_submit(console_t *console, const http_request_t *request,
                          http_response_t *response)
{
    node_t *node = console_node(console);
    console_check_t *check = county_run_check(console, request, response);
    if (!check)
        return;
    if (!check->report) {
        console_reply(response, 400, check_json(check));
        console_check_destroy(&check);
        return;
    }
    char err[512];
    int rc = node_submit(node, check->report, err, sizeof err);
    if (rc) {
        console_reply_error(response, rc == SF_EINVAL ? 400 : 500, "%s%s%s",
                            rc == SF_EINVAL ? FORM_SOURCE : "", rc == SF_EINVAL ? ": " : "", err);
        console_check_destroy(&check);
        return;
    }
    int64_t saved_at;
    bool marked = county_store_draft(node, check->report->year, request->body, request->body_len,
                                     check->report->version, &saved_at) == 0;
    console_reply(response, 200,
                  json_pack("{s:s, s:i, s:i, s:o, s:b}", "report_id", check->report->report_id,
                            "version", (int)check->report->version, "year", check->report->year,
                            "submitted_at", console_time(check->report->submitted_at),
                            "draft_marked", marked));
    console_check_destroy(&check);
}

/* GET /api/county/history?year=Y: this unit's versions of the year, each
 * with its state as `list --json` gives it. */
static void county_history(console_t *console, const http_request_t *request,
                           http_response_t *response)
{
    node_t *node = console_node(console);
    int year = console_year(console, request);
    sf_error_t error = {0, ""};
    node_versions_t *all = node_list(node, &error);
    if (!all) {
        console_reply_error(response, 500, "%s", error.text);
        return;
    }
    node_versions_t mine = {calloc(all->count + 1, sizeof *mine.versions), 0};
    for (size_t i = 0; mine.versions && i < all->count; i++)
        if (all->versions[i].year == (uint32_t)year &&
            strcmp(all->versions[i].unit, node_code(node)) == 0)
            mine.versions[mine.count++] = all->versions[i]; /* borrowed from all */
    char *text = mine.versions ? cli_versions_json(&mine) : NULL;
    json_t *versions = text ? json_loads(text, 0, NULL) : NULL;
    free(text);
    free(mine.versions);
    node_versions_destroy(&all);
    if (!versions) {
        console_reply_error(response, 500, "out of memory");
        return;
    }
    console_reply(response, 200, json_pack("{s:i, s:o}", "year", year, "versions", versions));
}

/* GET /api/county/result?year=Y: the province's evaluation as published to
 * this county (`county-node result --json`), or null with the reason. */
static void county_result(console_t *console, const http_request_t *request,
                          http_response_t *response)
{
    int year = console_year(console, request);
    char err[512];
    char *document = node_published_evaluation(console_node(console), year, err, sizeof err);
    json_t *published = document ? json_loads(document, 0, NULL) : NULL;
    free(document);
    console_reply(response, 200,
                  json_pack("{s:i, s:o, s:s?}", "year", year, "published",
                            published ? published : json_null(), "reason", published ? NULL : err));
}

const console_route_t console_county_routes[] = {
    {"GET", "/api/county/form", county_form},
    {"POST", "/api/county/check", county_check},
    {"POST", "/api/county/draft", county_draft},
    {"POST", "/api/county/submit", county_submit},
    {"GET", "/api/county/history", county_history},
    {"GET", "/api/county/result", county_result},
    {NULL, NULL, NULL},
};
