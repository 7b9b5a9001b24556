/* net.h - the ZeroMQ context of a daemon and the one wait of its loop.
 *
 * The application never calls ZeroMQ itself: it makes a context here, hands
 * it to zap_new(), link_server_new() and link_client_new(), and calls
 * net_serve() from its loop, which waits for any of the daemon's sockets
 * (and one plain file descriptor, e.g. a signal pipe, and the console's
 * HTTP server) and lets each ready object read what arrived.
 *
 * Ownership: the caller owns the context, and terminates it last, after
 * destroying every object made in it (terminating blocks until every
 * socket in the context is closed). net_serve() borrows what it watches.
 * Threads: one context per process; net_serve() from the thread that made
 * the objects it serves (ZeroMQ sockets are not thread-safe). */
#ifndef SHIFAN_NET_H
#define SHIFAN_NET_H

#include "base/error.h"
#include "transport/http.h"
#include "transport/link.h"
#include "transport/zap.h"

/* A new ZeroMQ context, or NULL with error SF_ESTATE (and libzmq's reason
 * in its text). */
void *net_context_new(sf_error_t *error);
/* Terminates the context (every socket in it must be closed first: destroy
 * the link client, link server and ZAP handler, in that order) and sets
 * *ctx_p to NULL. A NULL *ctx_p is a no-op. */
void net_context_destroy(void **ctx_p);

/* What one daemon waits on; any member may be NULL (wake_fd -1). */
typedef struct {
    int wake_fd; /* read end of the signal pipe: wakes the wait, read by no one here */
    zap_t *zap;
    link_server_t *server;
    link_client_t *client;
    http_t *http; /* the console (run --http), or NULL */
} net_watch_t;

/* Waits up to timeout_ms (less when the HTTP server has a timeout due) for
 * something to read on the watched sockets and serves it: ZAP requests
 * first, then the server's frames, the client's monitor events, the
 * client's frames, then the HTTP server's requests (handlers run here, in
 * the caller's thread). Returns 0 (also when a signal
 * interrupted the wait), or SF_EIO if polling failed (logged). */
int net_serve(const net_watch_t *watch, int timeout_ms);

#endif
