/* console.c - what every tier's console serves: pages, static files, the
 * node's identity, JSON helpers and the dispatch to a tier's routes
 * (console.h, docs/console.md). */
#include "app/console.h"
#include "base/msg.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/sessions.h"
#include "app/cli.h"
#include "base/slog.h"
#include "base/stime.h"
#include "domain/embedded.h"
#include "storage/audit.h"
#include "storage/operators.h"

#define CONSOLE_AUDIT_MAX 10000 /* entries GET /api/audit gives at most */

struct console {
    node_t *node;
    http_t *http;
    const char *page;
    const console_route_t *routes;
    sessions_t *sessions;
    bool remote; /* listening beyond loopback: a login is needed even with no account */
    /* The request being served (one at a time, on the daemon's thread). */
    const sessions_entry_t *session; /* NULL: the open console (no account) */
    bool no_change;                  /* a POST that changed nothing (console_no_change) */
    char audit_target[256];          /* console_audit_target */
};

static const char console_json_type[] = "application/json; charset=utf-8";

void console_reply(http_response_t *response, int status, json_t *body)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (!text) {
        static const char failed[] = "{\"error\":\"out of memory\"}";
        http_response_static(response, 500, console_json_type, failed, sizeof failed - 1);
        return;
    }
    http_response_take(response, status, console_json_type, text, strlen(text));
    /* API answers are live state: never from a cache after a restart. */
    http_response_header(response, "Cache-Control", "no-store");
}

void console_reply_error(http_response_t *response, int status, const char *fmt, ...)
{
    char message[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    console_reply(response, status, json_pack("{s:s}", "error", message));
}

json_t *console_time(int64_t seconds)
{
    char text[STIME_BUFSZ];
    return seconds ? json_string(stime_format(seconds, text, sizeof text)) : json_null();
}

json_t *console_versions(console_t *self, int year, const char *unit, bool within)
{
    sf_error_t error = {0, ""};
    node_versions_t *all = node_list(self->node, &error);
    if (!all)
        return NULL;
    node_versions_t kept = {calloc(all->count + 1, sizeof *kept.versions), 0};
    for (size_t i = 0; kept.versions && i < all->count; i++) {
        const node_version_t *version = &all->versions[i];
        if (version->year == (uint32_t)year &&
            (within ? programme_unit_within(node_programme(self->node), version->unit, unit)
                    : strcmp(version->unit, unit) == 0))
            kept.versions[kept.count++] = *version; /* borrowed from all */
    }
    char *text = kept.versions ? cli_versions_json(&kept) : NULL;
    json_t *versions = text ? json_loads(text, 0, NULL) : NULL;
    free(text);
    free(kept.versions);
    node_versions_destroy(&all);
    return versions;
}

int console_year(console_t *self, const http_request_t *request)
{
    const programme_t *programme = node_programme(self->node);
    const char *text = http_request_param(request, "year");
    char *end;
    long year = text ? strtol(text, &end, 10) : 0;
    if (text && *text && *end == '\0' && year > 0 && year < 10000 &&
        programme_has_year(programme, (int)year))
        return (int)year;
    char now[STIME_BUFSZ];
    int this_year = atoi(stime_format(stime_now(), now, sizeof now));
    if (this_year < programme_first_year(programme))
        return programme_first_year(programme);
    return this_year > programme_last_year(programme) ? programme_last_year(programme) : this_year;
}

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

json_t *console_standard_json(const programme_t *programme)
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

static const char *console_type_of(const char *name)
{
    static const struct {
        const char *ext, *type;
    } types[] = {{".html", "text/html; charset=utf-8"},
                 {".js", "text/javascript; charset=utf-8"},
                 {".css", "text/css; charset=utf-8"},
                 {".svg", "image/svg+xml"}};
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].type;
    return "application/octet-stream";
}

/* An embedded file under data/console/ ("console/NAME"); 404 otherwise. */
static void console_static(const char *name, http_response_t *response)
{
    char path[128];
    size_t len;
    const unsigned char *bytes = NULL;
    if (strlen(name) < 64 && !strstr(name, "..") && !strchr(name, '/')) {
        snprintf(path, sizeof path, "console/%s", name);
        bytes = embedded_find(path, &len);
    }
    if (!bytes) {
        console_reply_error(response, 404, msg("no such file: %s"), name);
        return;
    }
    http_response_static(response, 200, console_type_of(name), bytes, len);
    http_response_header(response, "Cache-Control", "no-cache");
}

/* GET /api/node: who this is, its programme, its queue and link. */
static void console_node_info(console_t *self, const http_request_t *request,
                              http_response_t *response)
{
    const programme_t *programme = node_programme(self->node);
    int index = programme_find_unit(programme, node_code(self->node));
    const programme_unit_t *unit = index >= 0 ? programme_unit(programme, (size_t)index) : NULL;
    json_t *years = json_array();
    for (int y = programme_first_year(programme); y <= programme_last_year(programme); y++)
        json_array_append_new(years, json_integer(y));
    json_t *body =
        json_pack("{s:s, s:s, s:s?, s:{s:s, s:s, s:s, s:I}, s:o, s:i}", "role",
                  node_role_name(node_role(self->node)), "code", node_code(self->node), "name",
                  unit ? unit->name : NULL, "programme", "id", programme_id(programme), "title",
                  programme_title(programme), "standard", programme_standard_id(programme),
                  "revision", (json_int_t)programme_revision(programme), "years", years, "year",
                  console_year(self, request));
    sf_error_t error = {0, ""};
    node_status_t *status = node_status(self->node, &error);
    if (status && body) {
        json_object_set_new(body, "reports", json_integer((json_int_t)status->reports));
        json_object_set_new(body, "queued", json_integer((json_int_t)status->queued));
        json_object_set_new(body, "link", json_string(status->link.state));
        json_object_set_new(body, "last_contact", console_time(status->link.last_contact));
    }
    node_status_destroy(&status);
    console_reply(response, body ? 200 : 500, body);
}

/* A change must come from this console's own page: a POST of JSON, or of
 * a file's bytes (application/octet-stream), neither of which a plain form
 * of another site can send, with no foreign Origin. */
static bool console_change_allowed(const http_request_t *request, http_response_t *response)
{
    char own[300];
    snprintf(own, sizeof own, "http://%s", request->host);
    if (strncmp(request->content_type, "application/json", 16) != 0 &&
        strncmp(request->content_type, "application/octet-stream", 24) != 0) {
        console_reply_error(response, 415,
                            msg("expected a JSON body (Content-Type: application/json) or a file's "
                                "bytes (application/octet-stream)"));
        return false;
    }
    if (*request->origin && strcmp(request->origin, own) != 0) {
        console_reply_error(response, 403, msg("a change from another site (%s) is refused"),
                            request->origin);
        return false;
    }
    return true;
}

/* The tier's route for the request: 404 for no path, 405 for another
 * method. */
static void console_route(console_t *self, const http_request_t *request, http_response_t *response)
{
    bool path_known = false;
    for (const console_route_t *route = self->routes; route && route->path; route++) {
        if (strcmp(route->path, request->path) != 0)
            continue;
        path_known = true;
        if (strcmp(route->method, request->method) != 0)
            continue;
        if (strcmp(route->method, "GET") == 0 || console_change_allowed(request, response))
            route->fn(self, request, response);
        return;
    }
    if (path_known)
        console_reply_error(response, 405, msg("%s not allowed on %s"), request->method,
                            request->path);
    else
        console_reply_error(response, 404, msg("no such API: %s"), request->path);
}

/* ---- access: logins, sessions, CSRF tokens, the audit trail ---- */

/* True when a login is needed: beyond loopback, or once an account exists. */
static bool console_guarded(console_t *self)
{
    return self->remote || operators_count(node_store(self->node)) > 0;
}

static bool console_is_change(const http_request_t *request)
{
    return strcmp(request->method, "GET") != 0 && strcmp(request->method, "HEAD") != 0;
}

/* GET /api/session: whether a login is needed, who is logged in and the
 * CSRF token the page sends with every change. */
static void console_session_info(console_t *self, const http_request_t *request,
                                 http_response_t *response)
{
    const sessions_entry_t *session =
        sessions_find(self->sessions, request->cookie, stime_mono_ms());
    console_reply(response, 200,
                  json_pack("{s:b, s:s?, s:s?}", "login_required", console_guarded(self),
                            "operator", session ? session->who : NULL, "csrf_token",
                            session ? session->csrf : NULL));
}

/* Checks the name and password of a login body; answers and returns false
 * when they do not admit anyone. */
static bool console_login_admits(console_t *self, const char *name, const char *password,
                                 http_response_t *response)
{
    int64_t wait_ms = sessions_login_wait_ms(self->sessions, name, stime_mono_ms());
    if (wait_ms > 0) {
        console_reply_error(response, 429, msg("too many failed logins as %s: try again in %lld s"),
                            name, (long long)(wait_ms + 999) / 1000);
        return false;
    }
    int rc = operators_verify(node_store(self->node), name, password);
    if (rc == SF_EDENIED) {
        sessions_login_failed(self->sessions, name, stime_mono_ms());
        slog_warn("console: failed login as %s", name);
        console_reply_error(response, 401, msg("wrong operator name or password"));
        return false;
    }
    if (rc) {
        console_reply_error(response, 500, msg("cannot check the password: %s"), sf_strerror(rc));
        return false;
    }
    sessions_login_succeeded(self->sessions, name);
    return true;
}

/* POST /api/login {"name","password"}: a session cookie and its CSRF token. */
static void console_login(console_t *self, const http_request_t *request, http_response_t *response)
{
    json_t *body = json_loadb(request->body, request->body_len, 0, NULL);
    const char *name = json_string_value(json_object_get(body, "name"));
    const char *password = json_string_value(json_object_get(body, "password"));
    if (!name || !password)
        console_reply_error(response, 400, msg("expected {\"name\": ..., \"password\": ...}"));
    else if (console_login_admits(self, name, password, response)) {
        const sessions_entry_t *session = sessions_open(self->sessions, name, stime_mono_ms());
        char cookie[256];
        snprintf(cookie, sizeof cookie, "%s=%s; HttpOnly; SameSite=Strict; Path=/", SESSIONS_COOKIE,
                 session->id);
        slog_info("console: %s logged in", name);
        console_reply(response, 200,
                      json_pack("{s:s, s:s}", "operator", name, "csrf_token", session->csrf));
        http_response_header(response, "Set-Cookie", cookie);
    }
    json_decref(body);
}

/* POST /api/logout: ends the session (with its CSRF token, as any change). */
static void console_logout(console_t *self, const http_request_t *request,
                           http_response_t *response)
{
    const sessions_entry_t *session =
        sessions_find(self->sessions, request->cookie, stime_mono_ms());
    if (session && !sessions_csrf_ok(session, request->csrf_token)) {
        console_reply_error(response, 403, msg("logout needs the session's X-CSRF-Token"));
        return;
    }
    if (session) {
        slog_info("console: %s logged out", session->who);
        sessions_close(self->sessions, session->id);
    }
    console_reply(response, 200, json_pack("{s:n}", "operator"));
    http_response_header(response, "Set-Cookie",
                         SESSIONS_COOKIE "=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
}

/* The files the login page needs before anyone is logged in. */
static bool console_public_file(const char *path)
{
    return strcmp(path, "/static/login.js") == 0 || strcmp(path, "/static/console.js") == 0 ||
           strcmp(path, "/static/console.css") == 0;
}

/* The session of the request, if its operator still has an account. */
static const sessions_entry_t *console_session(console_t *self, const http_request_t *request)
{
    const sessions_entry_t *session =
        sessions_find(self->sessions, request->cookie, stime_mono_ms());
    if (session && !operators_exists(node_store(self->node), session->who)) {
        slog_info("console: %s has no account any more: session ended", session->who);
        sessions_close_operator(self->sessions, session->who);
        return NULL;
    }
    return session;
}

/* Lets the request on to its page or route (true), or answers it: the
 * access routes, 401 without a session (the login page for a page), 403
 * for a change without the session's CSRF token. */
static bool console_access(console_t *self, const http_request_t *request,
                           http_response_t *response)
{
    static const console_route_t access_routes[] = {{"GET", "/api/session", console_session_info},
                                                    {"POST", "/api/login", console_login},
                                                    {"POST", "/api/logout", console_logout},
                                                    {NULL, NULL, NULL}};
    for (const console_route_t *route = access_routes; route->path; route++)
        if (strcmp(route->path, request->path) == 0 &&
            strcmp(route->method, request->method) == 0) {
            if (!console_is_change(request) || console_change_allowed(request, response))
                route->fn(self, request, response);
            return false;
        }
    if (console_public_file(request->path) || !console_guarded(self))
        return true;
    if (!(self->session = console_session(self, request))) {
        if (strcmp(request->path, "/") == 0 || strcmp(request->path, "/index.html") == 0) {
            console_static("login.html", response);
            response->status = 401;
        } else {
            console_reply_error(response, 401, msg("log in first (POST /api/login)"));
        }
        return false;
    }
    if (console_is_change(request) && !sessions_csrf_ok(self->session, request->csrf_token)) {
        console_reply_error(
            response, 403,
            msg("a change needs this session's CSRF token in the X-CSRF-Token header "
                "(GET /api/session gives it): reload the page"));
        return false;
    }
    return true;
}

void console_no_change(console_t *self)
{
    self->no_change = true;
}

void console_audit_target(console_t *self, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(self->audit_target, sizeof self->audit_target, fmt, ap);
    va_end(ap);
}

const char *console_operator(console_t *self)
{
    return self->session ? self->session->who : NULL;
}

/* A change that succeeded: a log line and an entry in the audit trail. */
static void console_audit_change(console_t *self, const http_request_t *request,
                                 const http_response_t *response)
{
    if (!console_is_change(request) || self->no_change || response->status < 200 ||
        response->status > 299 || strncmp(request->path, "/api/", 5) != 0)
        return;
    audit_entry_t entry = {.at = stime_now()};
    snprintf(entry.who, sizeof entry.who, "%s",
             self->session ? self->session->who : CONSOLE_NO_LOGIN);
    snprintf(entry.node, sizeof entry.node, "%s", node_code(self->node));
    snprintf(entry.action, sizeof entry.action, "%s", request->path + 5);
    snprintf(entry.target, sizeof entry.target, "%s", self->audit_target);
    slog_info("console: %s by %s: %s", entry.action, entry.who, entry.target);
    int rc = audit_append(node_store(self->node), &entry);
    if (rc)
        slog_error("console: %s by %s NOT in the audit trail: %s", entry.action, entry.who,
                   sf_strerror(rc));
}

json_t *console_audit_json(const audit_entry_t *entries, size_t count)
{
    char when[STIME_BUFSZ];
    json_t *list = json_array();
    for (size_t i = 0; list && i < count; i++)
        json_array_append_new(
            list, json_pack("{s:I, s:s, s:s, s:s, s:s, s:s}", "seq", (json_int_t)entries[i].seq,
                            "at", stime_format(entries[i].at, when, sizeof when), "operator",
                            entries[i].who, "node", entries[i].node, "action", entries[i].action,
                            "target", entries[i].target));
    return list;
}

/* GET /api/audit?limit=N: the newest N entries of the trail (default 200),
 * oldest first, as `audit --json` writes them. */
static void console_audit(console_t *self, const http_request_t *request, http_response_t *response)
{
    const char *text = http_request_param(request, "limit");
    long limit = text ? strtol(text, NULL, 10) : 200;
    audit_entry_t *entries = NULL;
    size_t count = 0;
    int rc =
        audit_list(node_store(self->node),
                   limit > 0 && limit <= CONSOLE_AUDIT_MAX ? (size_t)limit : 200, &entries, &count);
    json_t *list = rc ? NULL : console_audit_json(entries, count);
    free(entries);
    if (!list)
        console_reply_error(response, 500, msg("cannot read the audit trail: %s"), sf_strerror(rc));
    else
        console_reply(response, 200, json_pack("{s:o}", "entries", list));
}

static void console_serve(console_t *self, const http_request_t *request, http_response_t *response)
{
    if (strcmp(request->path, "/") == 0 || strcmp(request->path, "/index.html") == 0)
        console_static(self->page + strlen("console/"), response);
    else if (strncmp(request->path, "/static/", 8) == 0)
        console_static(request->path + 8, response);
    else if (strcmp(request->path, "/api/node") == 0 && strcmp(request->method, "GET") == 0)
        console_node_info(self, request, response);
    else if (strcmp(request->path, "/api/audit") == 0 && strcmp(request->method, "GET") == 0)
        console_audit(self, request, response);
    else if (strncmp(request->path, "/api/", 5) == 0)
        console_route(self, request, response);
    else
        console_reply_error(response, 404, msg("no such page: %s"), request->path);
}

static void console_handle(void *arg, const http_request_t *request, http_response_t *response)
{
    console_t *self = arg;
    self->session = NULL;
    self->no_change = false;
    self->audit_target[0] = '\0';
    if (console_access(self, request, response)) {
        console_serve(self, request, response);
        console_audit_change(self, request, response);
    }
    slog_debug("http %s %s: %d", request->method, request->path, response->status);
}

/* The program whose verb makes accounts, for the refusal's sentence. */
static const char *console_program(const node_t *node)
{
    return node_role(node) == ROLE_COUNTY       ? "county-node"
           : node_role(node) == ROLE_PREFECTURE ? "prefecture-hub"
                                                : "province-core";
}

/* Beyond loopback only with an account (so with logins). */
static int console_check_address(node_t *node, const char *address, bool *remote, sf_error_t *error)
{
    bool loopback;
    if (http_address_check(address, &loopback, error))
        return SF_EINVAL;
    *remote = !loopback;
    if (loopback || operators_count(node_store(node)) > 0)
        return 0;
    return sf_error_set(error, SF_EINVAL,
                        "--http %s: not a loopback address, and this node has no operator "
                        "account, so anyone who reaches the port could use the console: create "
                        "one first with `%s --data DIR operator add --name NAME` (or listen on "
                        "127.0.0.1)",
                        address, console_program(node));
}

console_t *console_new(node_t *node, const char *address, const char *page,
                       const console_route_t *routes, sf_error_t *error)
{
    bool remote;
    if (console_check_address(node, address, &remote, error))
        return NULL;
    console_t *self = calloc(1, sizeof *self);
    if (!self) {
        sf_error_set(error, SF_ENOMEM, "out of memory");
        return NULL;
    }
    self->node = node;
    self->page = page;
    self->routes = routes;
    self->remote = remote;
    if (!(self->sessions = sessions_new(error)) ||
        !(self->http = http_new(address, remote, console_handle, self, error))) {
        sessions_destroy(&self->sessions);
        free(self);
        return NULL;
    }
    slog_info("console on http://%s/ (%s)", address,
              console_guarded(self) ? "operators log in" : "open: no operator account");
    return self;
}

void console_destroy(console_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    http_destroy(&(*self_p)->http);
    sessions_destroy(&(*self_p)->sessions);
    free(*self_p);
    *self_p = NULL;
}

http_t *console_http(console_t *self)
{
    return self->http;
}

node_t *console_node(console_t *self)
{
    return self->node;
}
