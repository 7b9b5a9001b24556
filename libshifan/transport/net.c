/* net.c - the daemon's ZeroMQ context and its one wait (net.h). */
#include "transport/net.h"

#include <errno.h>
#include <zmq.h>

#include "base/error.h"
#include "base/slog.h"

void *net_context_new(sf_error_t *error)
{
    void *ctx = zmq_ctx_new();
    if (!ctx)
        sf_error_set(error, SF_ESTATE, "cannot make a ZeroMQ context: %s", zmq_strerror(errno));
    return ctx;
}

void net_context_destroy(void **ctx_p)
{
    if (ctx_p && *ctx_p) {
        zmq_ctx_term(*ctx_p);
        *ctx_p = NULL;
    }
}

int net_serve(const net_watch_t *watch, int timeout_ms)
{
    zmq_pollitem_t items[6];
    int n = 0, zap_at = -1, server_at = -1, client_at = -1, monitor_at = -1, http_at = -1;
    if (watch->wake_fd >= 0)
        items[n++] = (zmq_pollitem_t){NULL, watch->wake_fd, ZMQ_POLLIN, 0};
    if (watch->zap) {
        zap_at = n;
        items[n++] = (zmq_pollitem_t){zap_socket(watch->zap), 0, ZMQ_POLLIN, 0};
    }
    if (watch->server) {
        server_at = n;
        items[n++] = (zmq_pollitem_t){link_server_socket(watch->server), 0, ZMQ_POLLIN, 0};
    }
    if (watch->client) {
        client_at = n;
        items[n++] = (zmq_pollitem_t){link_client_socket(watch->client), 0, ZMQ_POLLIN, 0};
        monitor_at = n;
        items[n++] = (zmq_pollitem_t){link_client_monitor(watch->client), 0, ZMQ_POLLIN, 0};
    }
    int http_due = watch->http ? http_timeout_ms(watch->http) : -1;
    if (watch->http) {
        http_at = n;
        items[n++] = (zmq_pollitem_t){NULL, http_fd(watch->http), ZMQ_POLLIN, 0};
        if (http_due >= 0 && http_due < timeout_ms)
            timeout_ms = http_due;
    }
    if (zmq_poll(items, n, timeout_ms) < 0) {
        if (errno == EINTR)
            return 0;
        slog_error("poll failed: %s", zmq_strerror(errno));
        return SF_EIO;
    }
    if (zap_at >= 0 && (items[zap_at].revents & ZMQ_POLLIN))
        zap_handle(watch->zap);
    if (server_at >= 0 && (items[server_at].revents & ZMQ_POLLIN))
        link_server_on_readable(watch->server);
    if (monitor_at >= 0 && (items[monitor_at].revents & ZMQ_POLLIN))
        link_client_on_monitor(watch->client);
    if (client_at >= 0 && (items[client_at].revents & ZMQ_POLLIN))
        link_client_on_readable(watch->client);
    if (http_at >= 0 &&
        ((items[http_at].revents & ZMQ_POLLIN) || http_timeout_ms(watch->http) == 0))
        http_run(watch->http);
    return 0;
}
