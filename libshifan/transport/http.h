/* http.h - a small HTTP server for the console, run inside the daemon's one
 * loop (libmicrohttpd underneath; nothing above transport/ sees it).
 *
 * The server has no thread of its own: the daemon's state (LMDB handles,
 * the node) belongs to one thread, so the server runs in the loop's thread.
 * net_serve() watches http_fd() beside the sockets, caps its wait by
 * http_timeout_ms() and calls http_run(), which reads what arrived and
 * calls the handler once per complete request.
 *
 * The handler contract is ours: it gets a parsed request (method, path,
 * query parameters, the headers below, the whole body, at most
 * HTTP_BODY_MAX bytes: a larger body is answered 413 without calling the
 * handler) and fills a response (status, content type, body, a few extra
 * headers). Loopback unless the caller allows more: http_new refuses any
 * other address unless told the caller guards the console with logins
 * (app/console.c does so only while operator accounts exist).
 *
 * Ownership: the caller owns the http_t (http_new, http_destroy); the
 * request and everything in it are borrowed for the handler call; a
 * response body set with http_response_take is freed by the server.
 * Threads: one thread, the one that calls http_run (and net_serve). */
#ifndef SHIFAN_HTTP_H
#define SHIFAN_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"

#define HTTP_BODY_MAX ((size_t)2 << 20) /* larger request bodies get 413 */
#define HTTP_PARAMS_MAX 16              /* query parameters kept per request */
#define HTTP_HEADERS_MAX 4              /* extra response headers */

typedef struct {
    const char *name, *value;
} http_param_t;

/* One complete request. Strings are never NULL ("" when absent). */
typedef struct {
    const char *method; /* "GET", "POST", ... */
    const char *path;   /* decoded, without the query: "/api/form" */
    http_param_t params[HTTP_PARAMS_MAX];
    size_t param_count;
    const char *cookie, *content_type, *host, *origin; /* request headers */
    const char *csrf_token;                            /* X-CSRF-Token */
    const char *body;                                  /* NUL-terminated after body_len bytes */
    size_t body_len;
} http_request_t;

/* What the handler fills. Starts as 500 with an empty body. */
typedef struct {
    int status;
    const char *content_type; /* a static string */
    const char *body;
    size_t body_len;
    bool body_owned; /* the server frees body (malloc'd) after sending */
    struct {
        char name[64];
        char value[256];
    } headers[HTTP_HEADERS_MAX];
    size_t header_count;
} http_response_t;

typedef void (*http_handler_fn)(void *arg, const http_request_t *request,
                                http_response_t *response);

typedef struct http http_t;

/* Checks address: "127.0.0.1:PORT" (any of 127.0.0.0/8), "[::1]:PORT",
 * "localhost:PORT", or any other IPv4 "A.B.C.D:PORT" or IPv6 "[ADDR]:PORT"
 * (PORT 1-65535; no host names but localhost). 0 with *loopback set, or
 * SF_EINVAL with a sentence. */
int http_address_check(const char *address, bool *loopback, sf_error_t *error);

/* Starts listening on address (http_address_check's forms; one that is not
 * loopback only with allow_remote) and answers with handler(arg, ...).
 * NULL with error set: SF_EINVAL for a malformed address or one that is
 * not loopback without allow_remote (the sentence says why), SF_EIO when
 * the port cannot be bound (in use, not an address of this machine, ...),
 * SF_ENOMEM. */
http_t *http_new(const char *address, bool allow_remote, http_handler_fn handler, void *arg,
                 sf_error_t *error);
/* Stops the server, closing every connection, and sets *self_p to NULL. */
void http_destroy(http_t **self_p);

/* The descriptor to wait on for readability (an epoll descriptor). */
int http_fd(const http_t *self);
/* Milliseconds until the server needs http_run even without input (a
 * connection's timeout); -1 when it has nothing pending. */
int http_timeout_ms(const http_t *self);
/* Serves what is ready: reads, calls the handler, writes. Never blocks. */
void http_run(http_t *self);

/* The value of query parameter name, or NULL. */
const char *http_request_param(const http_request_t *request, const char *name);

/* Sets the response body: a copy-free borrow of static bytes
 * (http_response_static) or a malloc'd buffer the server frees
 * (http_response_take, also on failure paths). */
void http_response_static(http_response_t *response, int status, const char *content_type,
                          const void *body, size_t len);
void http_response_take(http_response_t *response, int status, const char *content_type, char *body,
                        size_t len);
/* Adds a response header; false when HTTP_HEADERS_MAX are set or it does
 * not fit (the header is dropped). */
bool http_response_header(http_response_t *response, const char *name, const char *value);

#endif
