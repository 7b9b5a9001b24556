/* console.c - what every tier's console serves: pages, static files, the
 * node's identity, JSON helpers and the dispatch to a tier's routes
 * (console.h, docs/console.md). */
#include "app/console.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/cli.h"
#include "base/slog.h"
#include "base/stime.h"
#include "domain/embedded.h"

struct console {
    node_t *node;
    http_t *http;
    const char *page;
    const console_route_t *routes;
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
        console_reply_error(response, 404, "no such file: %s", name);
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

/* A change must come from this console's own page: a JSON POST (which no
 * plain form of another site can send) with no foreign Origin. */
static bool console_change_allowed(const http_request_t *request, http_response_t *response)
{
    char own[300];
    snprintf(own, sizeof own, "http://%s", request->host);
    if (strncmp(request->content_type, "application/json", 16) != 0) {
        console_reply_error(response, 415, "expected a JSON body (Content-Type: application/json)");
        return false;
    }
    if (*request->origin && strcmp(request->origin, own) != 0) {
        console_reply_error(response, 403, "a change from another site (%s) is refused",
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
        console_reply_error(response, 405, "%s not allowed on %s", request->method, request->path);
    else
        console_reply_error(response, 404, "no such API: %s", request->path);
}

static void console_handle(void *arg, const http_request_t *request, http_response_t *response)
{
    console_t *self = arg;
    if (strcmp(request->path, "/") == 0 || strcmp(request->path, "/index.html") == 0)
        console_static(self->page + strlen("console/"), response);
    else if (strncmp(request->path, "/static/", 8) == 0)
        console_static(request->path + 8, response);
    else if (strcmp(request->path, "/api/node") == 0 && strcmp(request->method, "GET") == 0)
        console_node_info(self, request, response);
    else if (strncmp(request->path, "/api/", 5) == 0)
        console_route(self, request, response);
    else
        console_reply_error(response, 404, "no such page: %s", request->path);
    slog_debug("http %s %s: %d", request->method, request->path, response->status);
}

console_t *console_new(node_t *node, const char *address, const char *page,
                       const console_route_t *routes, sf_error_t *error)
{
    console_t *self = calloc(1, sizeof *self);
    if (!self) {
        sf_error_set(error, SF_ENOMEM, "out of memory");
        return NULL;
    }
    *self = (console_t){node, NULL, page, routes};
    if (!(self->http = http_new(address, console_handle, self, error))) {
        free(self);
        return NULL;
    }
    slog_info("console on http://%s/", address);
    return self;
}

void console_destroy(console_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    http_destroy(&(*self_p)->http);
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
