/* console.h - the web console a daemon serves with `run --http ADDR`:
 * static pages built into the program (libshifan/data/console/) and a
 * small JSON API over the same node functions the CLI verbs call
 * (docs/console.md).
 *
 * console.c holds what every tier serves: the page for "/", the static
 * files under /static/, GET /api/node (who this node is, its programme and
 * status), JSON helpers, and the dispatch to a tier's own routes, which the
 * caller hands in (console_county_routes for a county; NULL for the tiers
 * whose pages are not built yet).
 *
 * Access, a layer every page and route gets here, before its handler:
 * loopback unless another address is given, and another address only while
 * the node has an operator account (storage/operators.h). With no account,
 * on loopback, the console is open as a local tool. Once an account exists
 * (or beyond loopback), every page and API needs a login (POST /api/login:
 * a session cookie, app/sessions.h), and every change (any method but GET)
 * the session's CSRF token in X-CSRF-Token (GET /api/session gives it):
 * 401 and 403 otherwise. A change must also be a JSON body with no foreign
 * Origin. Every change that succeeds is logged and written to the audit
 * trail (storage/audit.h) with the operator's name, the route as action and
 * the target its handler names (console_audit_target); GET /api/audit
 * reads the trail.
 *
 * Ownership: the caller owns the console (console_new, console_destroy)
 * and the node it borrows, which must outlive it. Threads: one, the
 * daemon's (the handlers run inside net_serve). Errors: console_new
 * returns NULL with error set (http_new's codes); handlers answer errors as
 * {"error": "..."} with a 4xx/5xx status. */
#ifndef SHIFAN_CONSOLE_H
#define SHIFAN_CONSOLE_H

#include <jansson.h>

#include "app/node.h"
#include "storage/audit.h"
#include "transport/http.h"

typedef struct console console_t;

typedef void (*console_fn)(console_t *console, const http_request_t *request,
                           http_response_t *response);

/* One API route of a tier: method and exact path. */
typedef struct {
    const char *method;
    const char *path;
    console_fn fn;
} console_route_t;

/* Starts the console of node on address (http_new's rules). page: the
 * embedded page served at "/" (e.g. "console/county.html"); routes: the
 * tier's own, ending with {NULL}, or NULL. */
console_t *console_new(node_t *node, const char *address, const char *page,
                       const console_route_t *routes, sf_error_t *error);
/* Stops serving (closes every connection) and sets *self_p to NULL. */
void console_destroy(console_t **self_p);

/* The server, for node_run to watch; borrowed. */
http_t *console_http(console_t *self);
node_t *console_node(console_t *self);

/* ---- helpers for the tiers' handlers ---- */

/* Answers body (stolen: decref'd here) as JSON with status; 500 if it
 * cannot be written. */
void console_reply(http_response_t *response, int status, json_t *body);
/* Answers {"error": message} with status (400, 404, 405, 500, ...). */
void console_reply_error(http_response_t *response, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The request's ?year= if it names a year of the programme, else the year
 * the console shows by default (this year if the programme has it, its
 * last year before, or its first). */
int console_year(console_t *self, const http_request_t *request);
/* An ISO 8601 string of unix seconds (0: JSON null). */
json_t *console_time(int64_t seconds);
/* The programme's standard as sections > items > criteria, in its order:
 * [{id,title_zh,title_en,items:[{id,criteria:[{id,kind,op,threshold,
 * title_zh,title_en}]}]}] (the county's form, the hub's matrix and
 * inspection). */
json_t *console_standard_json(const programme_t *programme);

/* ---- access, for the tiers' handlers ---- */

/* The audit trail's operator for changes made while no account exists. */
#define CONSOLE_NO_LOGIN "(no login)"

/* Names what the current change acted on, for its audit entry (e.g. a
 * report id); the entry is written only if the handler answers 2xx. */
void console_audit_target(console_t *self, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Says the current POST changed nothing (a check): no audit entry. It
 * still needed the CSRF token. */
void console_no_change(console_t *self);
/* The audit trail's entries as `audit --json` and GET /api/audit give
 * them: [{seq, at, operator, node, action, target}], oldest first; a new
 * array (NULL if out of memory). */
json_t *console_audit_json(const audit_entry_t *entries, size_t count);
/* The operator logged in for the current request; NULL on the open
 * console (no account, loopback). */
const char *console_operator(console_t *self);

/* The report versions of year stored here whose unit is `unit` (with
 * within: or a unit under it), as `list --json` writes them (node_list);
 * NULL when the store cannot be read or out of memory. */
json_t *console_versions(console_t *self, int year, const char *unit, bool within);

#endif
