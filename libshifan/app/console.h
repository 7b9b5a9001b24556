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
 * Access: loopback only (transport/http.h refuses any other address, since
 * operator accounts, sessions and CSRF tokens are not built yet). A request
 * that changes state must be a POST with a JSON body and, when the browser
 * sends an Origin, one naming this console: so another site open in the
 * same browser cannot post a form to it.
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
/* The report versions of year stored here whose unit is `unit` (with
 * within: or a unit under it), as `list --json` writes them (node_list);
 * NULL when the store cannot be read or out of memory. */
json_t *console_versions(console_t *self, int year, const char *unit, bool within);

#endif
