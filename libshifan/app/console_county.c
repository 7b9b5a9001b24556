/* console_county.c - the county's console API: its form, the live check,
 * drafts, submit, versions and their journey, the published result, the
 * form's import and download (console_county.h, docs/console.md). Every
 * rule is the library's: the check is report_load + node_check
 * (console_check.h), submit is node_submit, the versions are node_list as
 * `list --json` writes them, an import is read as `submit FILE` reads it
 * (report_load_any), a download is the template of `template` filled with
 * the form's values. */
#include "app/console_county.h"
#include "base/msg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/console_check.h"
#include "base/lang.h"
#include "base/stime.h"
#include "domain/report_xlsx.h"
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

/* The verdict per criterion (with node_check's reason), per item, and the
 * blank criteria, into criteria, items and blank. */
static void verdict_json(const verdict_check_t *verdict, json_t *criteria, json_t *items,
                         json_t *blank)
{
    for (size_t c = 0; c < verdict->criterion_count; c++) {
        const verdict_criterion_t *criterion = &verdict->criteria[c];
        json_object_set_new(criteria, criterion->criterion->id,
                            json_pack("{s:b, s:b, s:s}", "present", !criterion->blank, "passed",
                                      criterion->passed, "reason", criterion->reason));
        if (criterion->blank)
            json_array_append_new(blank, json_string(criterion->criterion->id));
    }
    for (size_t i = 0; i < verdict->item_count; i++)
        json_object_set_new(items, verdict->items[i].item->id,
                            json_boolean(verdict->items[i].passed));
}

/* The check's answer: errors per field, or the verdict of `submit --check`
 * per criterion (with its reason) and item, the unit's, and the blanks. */
static json_t *check_json(const console_check_t *check)
{
    json_t *fields = json_object();
    for (size_t i = 0; i < check->field_count; i++)
        json_object_set_new(fields, check->fields[i].criterion,
                            json_string(check->fields[i].message));
    if (!check->verdict)
        return json_pack("{s:b, s:s, s:o}", "valid", 0, "error", check->error, "fields", fields);
    const verdict_check_t *verdict = check->verdict;
    json_t *criteria = json_object(), *items = json_object(), *blank = json_array();
    verdict_json(verdict, criteria, items, blank);
    return json_pack("{s:b, s:o, s:o, s:o, s:I, s:I, s:b, s:b, s:b, s:o, s:I}", "valid", 1,
                     "fields", fields, "criteria", criteria, "items", items, "items_passed",
                     (json_int_t)verdict->items_passed, "item_count",
                     (json_int_t)verdict->item_count, "passed", verdict->passed, "late",
                     verdict->late, "qualified", verdict->qualified, "blank", blank, "blank_count",
                     (json_int_t)verdict->blank_count);
}

/* Runs the check of the request's body; NULL after answering 413 or 500. */
static console_check_t *county_run_check(console_t *console, const http_request_t *request,
                                         http_response_t *response)
{
    console_check_t *check = NULL;
    if (request->body_len > REPORT_MAX_BYTES) {
        console_reply_error(response, 413, msg("%s: larger than %d bytes"), FORM_SOURCE,
                            REPORT_MAX_BYTES);
        return NULL;
    }
    int rc =
        console_check(console_node(console), request->body, request->body_len, FORM_SOURCE, &check);
    if (rc) {
        console_reply_error(response, 500, msg("the form was not checked: %s"), sf_strerror(rc));
        return NULL;
    }
    return check;
}

/* POST /api/county/check: validates and evaluates the body, stores nothing. */
static void county_check(console_t *console, const http_request_t *request,
                         http_response_t *response)
{
    console_no_change(console);
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
        console_reply_error(response, 400, msg("a draft is a JSON object of at most %d bytes"),
                            DRAFTS_TEXT_MAX);
        return;
    }
    int64_t saved_at;
    int rc = county_store_draft(console_node(console), year, request->body, request->body_len, 0,
                                &saved_at);
    if (rc) {
        console_reply_error(response, 500, msg("the draft was NOT saved: %s"), sf_strerror(rc));
        return;
    }
    console_audit_target(console, "%s/%d", node_code(console_node(console)), year);
    console_reply(response, 200,
                  json_pack("{s:i, s:o}", "year", year, "saved_at", console_time(saved_at)));
}

/* The refusal of a report with blank criteria the official did not
 * confirm (`submit` without --allow-blank): the check's answer, and why. */
static void county_refuse_blanks(const console_check_t *check, http_response_t *response)
{
    char list[1024];
    size_t count = verdict_blank_list(check->verdict, list, sizeof list);
    json_t *body = check_json(check);
    char message[1400];
    snprintf(message, sizeof message,
             "%s: %zu 项指标未填写：%s；报告未保存。确认留空（按不合格计）后再提交", FORM_SOURCE,
             count, list);
    if (body) {
        json_object_set_new(body, "error", json_string(message));
        json_object_set_new(body, "confirm_blank", json_true());
    }
    console_reply(response, 400, body);
}

/* POST /api/county/submit[?allow_blank=1]: the same checks as `submit`
 * (blank criteria need allow_blank=1, as --allow-blank), then a new version
 * stored and queued up (node_submit). The draft stays, marked as submitted
 * with that version, so the form shows what was sent (docs/console.md). */
static void county_submit(console_t *console, const http_request_t *request,
                          http_response_t *response)
{
    node_t *node = console_node(console);
    console_check_t *check = county_run_check(console, request, response);
    const char *allow = http_request_param(request, "allow_blank");
    char err[512];
    int rc = SF_EINVAL;
    if (check && !check->verdict)
        console_reply(response, 400, check_json(check));
    else if (check && check->verdict->blank_count && !(allow && strcmp(allow, "1") == 0))
        county_refuse_blanks(check, response);
    else if (check && (rc = node_submit(node, check->report, err, sizeof err)))
        console_reply_error(response, rc == SF_EINVAL ? 400 : 500, "%s%s%s",
                            rc == SF_EINVAL ? FORM_SOURCE : "", rc == SF_EINVAL ? ": " : "", err);
    if (!check || rc) {
        console_check_destroy(&check);
        return;
    }
    console_audit_target(console, "%s", check->report->report_id);
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
        console_reply_error(response, 500, msg("cannot read the stored reports, or out of memory"));
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

/* The uploaded file's name from ?name= for messages (as `submit FILE`
 * names its file): its last path part, or "upload" when there is none
 * or it is not short UTF-8. */
static void import_source(const http_request_t *request, char *source, size_t size)
{
    const char *name = http_request_param(request, "name");
    const char *slash = name ? strrchr(name, '/') : NULL, *backslash;
    name = slash ? slash + 1 : name;
    if (name && (backslash = strrchr(name, '\\')))
        name = backslash + 1;
    snprintf(source, size, "%s",
             name && *name && report_text_valid(name, size - 1) ? name : "upload");
}

static int status_of(int code)
{
    return code == SF_EINVAL ? 400 : code == SF_ETOOBIG ? 413 : 500;
}

/* POST /api/county/import?name=FILE: a filled form (its bytes: CSV in
 * Excel's encodings, an .xlsx workbook or JSON) read as `submit FILE` reads
 * it (report_load_any, the same messages) and checked to be this county's
 * (node_check); answered as report JSON for the page to fill its form.
 * Nothing is stored: the official sees the values, then saves or submits. */
static void county_import(console_t *console, const http_request_t *request,
                          http_response_t *response)
{
    node_t *node = console_node(console);
    char source[128], note[512], err[512];
    import_source(request, source, sizeof source);
    sf_error_t error = {0, ""};
    report_t *report = report_load_any(request->body, request->body_len, source, node_code(node),
                                       node_programme(node), note, sizeof note, &error);
    if (!report) {
        console_reply_error(response, status_of(error.code), "%s", error.text);
        return;
    }
    verdict_check_t *verdict = NULL;
    int rc = node_check(node, report, &verdict, err, sizeof err);
    verdict_check_destroy(&verdict);
    char *text = rc ? NULL : report_to_json(report);
    json_t *document = text ? json_loads(text, 0, NULL) : NULL;
    if (rc)
        console_reply_error(response, status_of(rc), "%s: %s", source, err);
    else
        console_reply(response, document ? 200 : 500,
                      document ? json_pack("{s:s, s:s, s:o}", "source", source, "note", note,
                                           "report", document)
                               : NULL);
    free(text);
    report_destroy(&report);
}

/* The form's report as the template: CSV, or the workbook. */
static int export_bytes(const report_t *report, const programme_t *programme, sf_lang_t lang,
                        bool xlsx, char **out, size_t *len, sf_error_t *error)
{
    if (xlsx)
        return report_to_template_xlsx(report, programme, lang, out, len, error);
    int rc = report_to_template_csv(report, programme, lang, out, len);
    if (rc)
        sf_error_set(error, rc, "%s", sf_strerror(rc));
    return rc;
}

/* POST /api/county/export?format=xlsx|csv[&lang=en]: the form (its body,
 * as for check) as the fill-in template of `county-node template` filled
 * with its values (the empty template when it has none), to take to Excel
 * and import again. A form that does not read is answered as check does. */
static void county_export(console_t *console, const http_request_t *request,
                          http_response_t *response)
{
    const char *format = http_request_param(request, "format");
    const char *lang_name = http_request_param(request, "lang");
    sf_lang_t lang = LANG_ZH;
    bool xlsx = !format || strcmp(format, "xlsx") == 0;
    if ((!xlsx && strcmp(format, "csv") != 0) || (lang_name && lang_parse(lang_name, &lang))) {
        console_reply_error(response, 400, msg("expected format=xlsx or csv, lang=zh or en"));
        return;
    }
    console_check_t *check = county_run_check(console, request, response);
    if (check && !check->report)
        console_reply(response, 400, check_json(check));
    if (!check || !check->report) {
        console_check_destroy(&check);
        return;
    }
    char *bytes = NULL, disposition[128];
    size_t len = 0;
    sf_error_t error = {0, ""};
    if (export_bytes(check->report, node_programme(console_node(console)), lang, xlsx, &bytes, &len,
                     &error)) {
        console_reply_error(response, 500, msg("cannot write the form: %s"), error.text);
    } else {
        http_response_take(response, 200,
                           xlsx
                               ? "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                               : "text/csv; charset=utf-8",
                           bytes, len);
        snprintf(disposition, sizeof disposition, "attachment; filename=\"form-%s-%d.%s\"",
                 check->report->unit, check->report->year, xlsx ? "xlsx" : "csv");
        http_response_header(response, "Content-Disposition", disposition);
        http_response_header(response, "Cache-Control", "no-store");
    }
    console_check_destroy(&check);
}

const console_route_t console_county_routes[] = {
    {"GET", "/api/county/form", county_form},
    {"POST", "/api/county/check", county_check},
    {"POST", "/api/county/draft", county_draft},
    {"POST", "/api/county/submit", county_submit},
    {"GET", "/api/county/history", county_history},
    {"GET", "/api/county/result", county_result},
    {"POST", "/api/county/import", county_import},
    {"POST", "/api/county/export", county_export},
    {NULL, NULL, NULL},
};
