/* console_county.c - the county's console API: its form, the live check,
 * drafts, submit, versions and their journey, the published result
 * (console_county.h, docs/console.md). Every rule is the library's: the
 * check is report_load + the engine (console_check.h), submit is
 * node_submit, the versions are node_list as `list --json` writes them. */
#include "app/console_county.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/console_check.h"
#include "base/stime.h"
#include "storage/drafts.h"

#define FORM_SOURCE "form" /* names the page's input in messages, as FILE does on the CLI */

static const char *kind_name(criterion_kind_t kind)
{
    return kind == CRITERION_BOOL ? "bool" : kind == CRITERION_COUNT ? "count" : "ratio";
}

static json_t *criterion_json(const programme_criterion_t *criterion)
{
    return json_pack("{s:s, s:s, s:s, s:f, s:s, s:s?}", "id", criterion->id, "kind",
                     kind_name(criterion->kind), "op",
                     criterion->op == OP_EQ ? "==" : ">=", "threshold", criterion->threshold,
                     "title_zh", criterion->title_zh, "title_en", criterion->title_en);
}

/* The standard as sections > items > criteria, in the programme's order. */
static json_t *standard_json(const programme_t *programme)
{
    json_t *sections = json_array();
    for (size_t s = 0; s < programme_section_count(programme); s++) {
        const programme_section_t *section = programme_section(programme, s);
        json_array_append_new(sections,
                              json_pack("{s:s, s:s, s:s?, s:[]}", "id", section->id, "title_zh",
                                        section->title_zh, "title_en", section->title_en, "items"));
    }
    for (size_t i = 0; i < programme_item_count(programme); i++) {
        const programme_item_t *item = programme_item(programme, i);
        json_t *criteria = json_array();
        for (int c = 0; c < item->criterion_count; c++)
            json_array_append_new(criteria, criterion_json(programme_criterion(
                                                programme, (size_t)(item->first_criterion + c))));
        json_t *section = json_array_get(sections, (size_t)item->section_index);
        json_array_append_new(json_object_get(section, "items"),
                              json_pack("{s:s, s:o}", "id", item->id, "criteria", criteria));
    }
    return sections;
}

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
                  "sections", standard_json(programme), "draft", draft_json(node, year));
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
    json_t *versions = console_versions(console, year, node_code(node), false);
    if (!versions) {
        console_reply_error(response, 500, "cannot read the stored reports, or out of memory");
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
