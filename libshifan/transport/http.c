/* http.c - the console's HTTP server over libmicrohttpd, in the daemon's
 * loop (http.h). The only file that calls MHD_*. */
#include "transport/http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "base/slog.h"

struct http {
    struct MHD_Daemon *daemon;
    http_handler_fn handler;
    void *arg;
};

/* One request being read: its body so far. */
typedef struct {
    char *body;
    size_t len, cap;
    bool too_big;
} http_pending_t;

/* The host part of address (without brackets) into host; the port. */
static int http_split_address(const char *address, char *host, size_t size, long *port,
                              sf_error_t *error)
{
    const char *colon = address ? strrchr(address, ':') : NULL;
    char *end;
    *port = colon ? strtol(colon + 1, &end, 10) : 0;
    size_t hostlen = colon ? (size_t)(colon - address) : 0;
    bool bracketed = hostlen >= 2 && address[0] == '[' && address[hostlen - 1] == ']';
    if (!colon || colon[1] == '\0' || *end != '\0' || *port < 1 || *port > 65535 || hostlen == 0 ||
        hostlen >= size) {
        return sf_error_set(error, SF_EINVAL, "--http %s: expected 127.0.0.1:PORT (a port 1-65535)",
                            address ? address : "");
    }
    snprintf(host, size, "%.*s", (int)(bracketed ? hostlen - 2 : hostlen),
             bracketed ? address + 1 : address);
    return 0;
}

/* Reads address (http_address_check's forms) into addr. */
static int http_parse_address(const char *address, struct sockaddr_storage *addr, bool *ipv6,
                              bool *loopback, sf_error_t *error)
{
    char host[INET6_ADDRSTRLEN + 2];
    long port;
    if (http_split_address(address, host, sizeof host, &port, error))
        return SF_EINVAL;
    struct sockaddr_in *in4 = (struct sockaddr_in *)addr;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)addr;
    memset(addr, 0, sizeof *addr);
    *ipv6 = strchr(host, ':') != NULL;
    if (strcmp(host, "localhost") == 0)
        snprintf(host, sizeof host, "127.0.0.1");
    if (*ipv6 && inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        *loopback = IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
        return 0;
    }
    if (!*ipv6 && inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)port);
        *loopback = (ntohl(in4->sin_addr.s_addr) >> 24) == 127;
        return 0;
    }
    return sf_error_set(error, SF_EINVAL,
                        "--http %s: expected an IP address and port, such as 127.0.0.1:8080, "
                        "[::1]:8080 or 192.168.1.10:8080 (no host names but localhost)",
                        address);
}

int http_address_check(const char *address, bool *loopback, sf_error_t *error)
{
    struct sockaddr_storage addr;
    bool ipv6;
    return http_parse_address(address, &addr, &ipv6, loopback, error);
}

/* Appends an upload chunk, up to HTTP_BODY_MAX; beyond it only notes it. */
static int http_pending_append(http_pending_t *pending, const char *data, size_t size)
{
    if (pending->too_big || size > HTTP_BODY_MAX - pending->len) {
        pending->too_big = true;
        return 0;
    }
    if (pending->len + size + 1 > pending->cap) {
        size_t cap = pending->cap ? pending->cap : 4096;
        while (cap < pending->len + size + 1)
            cap *= 2;
        char *grown = realloc(pending->body, cap);
        if (!grown)
            return SF_ENOMEM;
        pending->body = grown;
        pending->cap = cap;
    }
    memcpy(pending->body + pending->len, data, size);
    pending->len += size;
    pending->body[pending->len] = '\0';
    return 0;
}

static enum MHD_Result http_param_one(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    (void)kind;
    http_request_t *request = cls;
    if (request->param_count == HTTP_PARAMS_MAX)
        return MHD_NO;
    request->params[request->param_count++] = (http_param_t){key, value ? value : ""};
    return MHD_YES;
}

static const char *http_header(struct MHD_Connection *connection, const char *name)
{
    const char *value = MHD_lookup_connection_value(connection, MHD_HEADER_KIND, name);
    return value ? value : "";
}

static enum MHD_Result http_send(struct MHD_Connection *connection, http_response_t *out)
{
    struct MHD_Response *response = MHD_create_response_from_buffer(
        out->body_len, (void *)out->body,
        out->body_owned ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!response) {
        if (out->body_owned)
            free((void *)out->body);
        return MHD_NO;
    }
    MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE,
                            out->content_type ? out->content_type : "text/plain; charset=utf-8");
    /* Nothing of the console may be framed or sniffed into another type. */
    MHD_add_response_header(response, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(response, "X-Frame-Options", "DENY");
    for (size_t i = 0; i < out->header_count; i++)
        MHD_add_response_header(response, out->headers[i].name, out->headers[i].value);
    enum MHD_Result rc = MHD_queue_response(connection, (unsigned)out->status, response);
    MHD_destroy_response(response);
    return rc;
}

/* The complete request: parse it into our contract and call the handler. */
static enum MHD_Result http_dispatch(http_t *self, struct MHD_Connection *connection,
                                     const char *url, const char *method, http_pending_t *pending)
{
    http_response_t response = {.status = 500};
    if (pending->too_big) {
        static const char too_big[] = "request body larger than 2 MiB\n";
        http_response_static(&response, 413, "text/plain; charset=utf-8", too_big,
                             sizeof too_big - 1);
        return http_send(connection, &response);
    }
    http_request_t request = {.method = method,
                              .path = url,
                              .cookie = http_header(connection, MHD_HTTP_HEADER_COOKIE),
                              .content_type = http_header(connection, MHD_HTTP_HEADER_CONTENT_TYPE),
                              .host = http_header(connection, MHD_HTTP_HEADER_HOST),
                              .origin = http_header(connection, "Origin"),
                              .csrf_token = http_header(connection, "X-CSRF-Token"),
                              .body = pending->body ? pending->body : "",
                              .body_len = pending->len};
    MHD_get_connection_values(connection, MHD_GET_ARGUMENT_KIND, http_param_one, &request);
    self->handler(self->arg, &request, &response);
    return http_send(connection, &response);
}

/* libmicrohttpd calls this first with *con_cls NULL, then once per body
 * chunk, then with no data when the request is complete. */
static enum MHD_Result http_access(void *cls, struct MHD_Connection *connection, const char *url,
                                   const char *method, const char *version, const char *upload_data,
                                   size_t *upload_data_size, void **con_cls)
{
    (void)version;
    http_pending_t *pending = *con_cls;
    if (!pending) {
        if (!(pending = calloc(1, sizeof *pending)))
            return MHD_NO;
        *con_cls = pending;
        return MHD_YES;
    }
    if (*upload_data_size) {
        int rc = http_pending_append(pending, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return rc ? MHD_NO : MHD_YES;
    }
    return http_dispatch(cls, connection, url, method, pending);
}

static void http_completed(void *cls, struct MHD_Connection *connection, void **con_cls,
                           enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)connection, (void)toe;
    http_pending_t *pending = *con_cls;
    if (pending) {
        free(pending->body);
        free(pending);
        *con_cls = NULL;
    }
}

static void http_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    line[strcspn(line, "\n")] = '\0';
    slog_warn("http: %s", line);
}

http_t *http_new(const char *address, bool allow_remote, http_handler_fn handler, void *arg,
                 sf_error_t *error)
{
    struct sockaddr_storage addr;
    bool ipv6, loopback;
    if (http_parse_address(address, &addr, &ipv6, &loopback, error))
        return NULL;
    if (!loopback && !allow_remote) {
        sf_error_set(error, SF_EINVAL,
                     "--http %s: the console listens on loopback only (127.0.0.1, [::1] or "
                     "localhost) unless it is guarded by logins",
                     address);
        return NULL;
    }
    http_t *self = calloc(1, sizeof *self);
    if (!self) {
        sf_error_set(error, SF_ENOMEM, "out of memory");
        return NULL;
    }
    self->handler = handler;
    self->arg = arg;
    /* External loop, epoll: no thread of MHD's own (http.h says why). */
    unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG | (ipv6 ? MHD_USE_IPv6 : 0);
    self->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, http_access, self, MHD_OPTION_EXTERNAL_LOGGER, http_log, self,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_NOTIFY_COMPLETED, http_completed,
        self, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)64, MHD_OPTION_END);
    if (!self->daemon) {
        sf_error_set(error, SF_EIO, "--http %s: cannot listen there (the port in use?)", address);
        free(self);
        return NULL;
    }
    return self;
}

void http_destroy(http_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    MHD_stop_daemon((*self_p)->daemon);
    free(*self_p);
    *self_p = NULL;
}

int http_fd(const http_t *self)
{
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(self->daemon, MHD_DAEMON_INFO_EPOLL_FD);
    return info ? info->epoll_fd : -1;
}

int http_timeout_ms(const http_t *self)
{
    MHD_UNSIGNED_LONG_LONG timeout;
    if (MHD_get_timeout(self->daemon, &timeout) != MHD_YES)
        return -1;
    return timeout > 60000 ? 60000 : (int)timeout;
}

void http_run(http_t *self)
{
    MHD_run(self->daemon);
}

const char *http_request_param(const http_request_t *request, const char *name)
{
    for (size_t i = 0; i < request->param_count; i++)
        if (strcmp(request->params[i].name, name) == 0)
            return request->params[i].value;
    return NULL;
}

void http_response_static(http_response_t *response, int status, const char *content_type,
                          const void *body, size_t len)
{
    if (response->body_owned)
        free((void *)response->body);
    response->status = status;
    response->content_type = content_type;
    response->body = body;
    response->body_len = len;
    response->body_owned = false;
}

void http_response_take(http_response_t *response, int status, const char *content_type, char *body,
                        size_t len)
{
    if (response->body_owned)
        free((void *)response->body);
    response->status = status;
    response->content_type = content_type;
    response->body = body ? body : "";
    response->body_len = body ? len : 0;
    response->body_owned = body != NULL;
}

bool http_response_header(http_response_t *response, const char *name, const char *value)
{
    if (response->header_count == HTTP_HEADERS_MAX ||
        strlen(name) >= sizeof response->headers[0].name ||
        strlen(value) >= sizeof response->headers[0].value)
        return false;
    strcpy(response->headers[response->header_count].name, name);
    strcpy(response->headers[response->header_count].value, value);
    response->header_count++;
    return true;
}
