/*
 * faultproxy — a fault-injecting TCP proxy for the link tests (loopback only).
 *
 *   faultproxy --listen 127.0.0.1:PORT --target 127.0.0.1:PORT [--pidfile F] [--log F]
 *
 * Each accepted client gets its own connection to the target; bytes are forwarded both ways.
 * The first line on stdout is always "listening 127.0.0.1:NNNNN" (useful with PORT 0).
 * A test steers it by PID:
 *   SIGUSR1  blackhole on: nothing is forwarded either way, bytes are read and dropped, no
 *            connection is closed; new clients are still accepted and connected to the target.
 *   SIGUSR2  heal: forwarding resumes for every connection, including those made meanwhile.
 *   SIGHUP   cut: every connection pair is reset (SO_LINGER 0 → RST) on both sides.
 *   SIGTERM, SIGINT  exit.
 *
 * Closes: outside a blackhole a FIN from one side is passed on (after the bytes already buffered
 * for the other side) and a reset is passed on as a reset; either way the pair goes. During a
 * blackhole a dead middlebox passes nothing, so only the closing side is closed and its peer is
 * left half-open (an "orphan") — it must notice by itself, which is what heartbeats are for.
 * An orphan that still sends after the heal is reset, as the far host would do.
 *
 * Single-threaded poll() loop; signals arrive through a self-pipe; no dependency beyond libc.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BUFFER_CAPACITY (256 * 1024)
#define DISCARD_CHUNK (64 * 1024)

enum side { CLIENT = 0, TARGET = 1 };
static const char *const side_name[2] = {"client", "target"};

/* Bytes read from one side and not yet written to the other. */
typedef struct {
    char *data;
    size_t start;
    size_t end;
} flow_t;

typedef struct {
    uint64_t id;
    int fd[2];         /* -1 once that side is closed */
    bool connecting;   /* connect() to the target still in progress */
    bool draining;     /* a side sent FIN: flush what it sent, then close both */
    int drain_from;    /* side whose FIN started the drain */
    flow_t flow[2];    /* flow[s] holds bytes read from side s, to be written to side !s */
    uint64_t moved[2]; /* bytes forwarded from side s */
    uint64_t dropped;  /* bytes discarded while blackholed */
    bool dead;         /* fully closed; freed at the end of the loop iteration */
} conn_t;

typedef struct {
    int listen_fd;
    struct sockaddr_in target;
    FILE *log;
    bool blackhole;
    bool stopping;
    uint64_t next_id;
    conn_t **conns;
    size_t conn_count;
    size_t conn_capacity;
    char discard[DISCARD_CHUNK];
} proxy_t;

static int signal_pipe[2] = {-1, -1};

static void on_signal(int signum)
{
    int saved_errno = errno;
    unsigned char byte = (unsigned char)signum;
    /* Non-blocking: if the pipe is full, a signal is already pending there. */
    ssize_t ignored = write(signal_pipe[1], &byte, 1);
    (void)ignored;
    errno = saved_errno;
}

static void log_event(proxy_t *proxy, const char *format, ...)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct tm utc;
    gmtime_r(&now.tv_sec, &utc);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);
    fprintf(proxy->log, "%s.%03ldZ faultproxy[%ld] ", stamp, now.tv_nsec / 1000000L,
            (long)getpid());
    va_list args;
    va_start(args, format);
    vfprintf(proxy->log, format, args);
    va_end(args);
    fputc('\n', proxy->log);
    fflush(proxy->log);
}

static int set_nonblocking(int fd)
{
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
        return -1;
    return 0;
}

/* Loopback only: this tool must never forward anything off the machine. */
static int parse_endpoint(const char *text, struct sockaddr_in *address)
{
    const char *colon = strrchr(text, ':');
    if (!colon || colon == text || (size_t)(colon - text) >= INET_ADDRSTRLEN)
        return -1;
    char host[INET_ADDRSTRLEN];
    memcpy(host, text, (size_t)(colon - text));
    host[colon - text] = '\0';
    char *end;
    errno = 0;
    long port = strtol(colon + 1, &end, 10);
    if (errno || *end || end == colon + 1 || port < 0 || port > 65535)
        return -1;
    memset(address, 0, sizeof *address);
    address->sin_family = AF_INET;
    address->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &address->sin_addr) != 1)
        return -1;
    if ((ntohl(address->sin_addr.s_addr) >> 24) != 127)
        return -1;
    return 0;
}

/* Close with SO_LINGER 0 so the peer gets an RST rather than a FIN. */
static void close_abortive(int fd)
{
    struct linger linger = {.l_onoff = 1, .l_linger = 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, sizeof linger);
    close(fd);
}

static void close_side(conn_t *conn, int side, bool abortive)
{
    if (conn->fd[side] < 0)
        return;
    if (abortive)
        close_abortive(conn->fd[side]);
    else
        close(conn->fd[side]);
    conn->fd[side] = -1;
    if (conn->fd[CLIENT] < 0 && conn->fd[TARGET] < 0)
        conn->dead = true;
}

static void close_pair(proxy_t *proxy, conn_t *conn, bool abortive, const char *reason)
{
    log_event(proxy,
              "closed conn=%llu reason=\"%s\" client_to_target=%llu target_to_client=%llu "
              "dropped=%llu",
              (unsigned long long)conn->id, reason, (unsigned long long)conn->moved[CLIENT],
              (unsigned long long)conn->moved[TARGET], (unsigned long long)conn->dropped);
    close_side(conn, CLIENT, abortive);
    close_side(conn, TARGET, abortive);
}

static size_t flow_pending(const flow_t *flow)
{
    return flow->end - flow->start;
}

static void flow_clear(flow_t *flow)
{
    flow->start = flow->end = 0;
}

static conn_t *conn_new(proxy_t *proxy, int client_fd, int target_fd, bool connecting)
{
    if (proxy->conn_count == proxy->conn_capacity) {
        size_t capacity = proxy->conn_capacity ? proxy->conn_capacity * 2 : 16;
        conn_t **grown = realloc(proxy->conns, capacity * sizeof *grown);
        if (!grown)
            return NULL;
        proxy->conns = grown;
        proxy->conn_capacity = capacity;
    }
    conn_t *conn = calloc(1, sizeof *conn);
    if (!conn)
        return NULL;
    conn->flow[CLIENT].data = malloc(BUFFER_CAPACITY);
    conn->flow[TARGET].data = malloc(BUFFER_CAPACITY);
    if (!conn->flow[CLIENT].data || !conn->flow[TARGET].data) {
        free(conn->flow[CLIENT].data);
        free(conn->flow[TARGET].data);
        free(conn);
        return NULL;
    }
    conn->id = ++proxy->next_id;
    conn->fd[CLIENT] = client_fd;
    conn->fd[TARGET] = target_fd;
    conn->connecting = connecting;
    proxy->conns[proxy->conn_count++] = conn;
    return conn;
}

static void conn_destroy(conn_t **self_p)
{
    conn_t *conn = *self_p;
    if (!conn)
        return;
    for (int side = CLIENT; side <= TARGET; side++) {
        if (conn->fd[side] >= 0)
            close(conn->fd[side]);
        free(conn->flow[side].data);
    }
    free(conn);
    *self_p = NULL;
}

static void reap_dead(proxy_t *proxy)
{
    size_t kept = 0;
    for (size_t i = 0; i < proxy->conn_count; i++) {
        if (proxy->conns[i]->dead)
            conn_destroy(&proxy->conns[i]);
        else
            proxy->conns[kept++] = proxy->conns[i];
    }
    proxy->conn_count = kept;
}

static void accept_clients(proxy_t *proxy)
{
    for (;;) {
        struct sockaddr_in peer;
        socklen_t peer_len = sizeof peer;
        int client_fd = accept(proxy->listen_fd, (struct sockaddr *)&peer, &peer_len);
        if (client_fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
                log_event(proxy, "accept failed: %s", strerror(errno));
            return;
        }
        int one = 1;
        setsockopt(client_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        int target_fd = socket(AF_INET, SOCK_STREAM, 0);
        if (target_fd < 0 || set_nonblocking(client_fd) < 0 || set_nonblocking(target_fd) < 0) {
            log_event(proxy, "cannot set up a target socket: %s", strerror(errno));
            if (target_fd >= 0)
                close(target_fd);
            close_abortive(client_fd);
            continue;
        }
        setsockopt(target_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        bool connecting = false;
        if (connect(target_fd, (struct sockaddr *)&proxy->target, sizeof proxy->target) < 0) {
            if (errno != EINPROGRESS) {
                log_event(proxy, "connect to target failed: %s; resetting client 127.0.0.1:%u",
                          strerror(errno), ntohs(peer.sin_port));
                close(target_fd);
                close_abortive(client_fd);
                continue;
            }
            connecting = true;
        }
        conn_t *conn = conn_new(proxy, client_fd, target_fd, connecting);
        if (!conn) {
            log_event(proxy, "out of memory; resetting client");
            close_abortive(target_fd);
            close_abortive(client_fd);
            continue;
        }
        log_event(proxy, "accepted conn=%llu client=127.0.0.1:%u%s", (unsigned long long)conn->id,
                  ntohs(peer.sin_port), proxy->blackhole ? " (blackholed)" : "");
    }
}

static void finish_connect(proxy_t *proxy, conn_t *conn)
{
    int error = 0;
    socklen_t length = sizeof error;
    if (getsockopt(conn->fd[TARGET], SOL_SOCKET, SO_ERROR, &error, &length) < 0)
        error = errno;
    if (error == EINPROGRESS || error == EALREADY)
        return;
    if (error) {
        char reason[128];
        snprintf(reason, sizeof reason, "connect to target failed: %s", strerror(error));
        close_pair(proxy, conn, true, reason);
        return;
    }
    conn->connecting = false;
}

/* During a blackhole the peer of a closing side learns nothing: close that side only. */
static void close_blackholed_side(proxy_t *proxy, conn_t *conn, int side, const char *how)
{
    log_event(proxy, "%s %s conn=%llu during blackhole; peer left half-open", side_name[side], how,
              (unsigned long long)conn->id);
    flow_clear(&conn->flow[side]);
    flow_clear(&conn->flow[!side]);
    close_side(conn, side, false);
}

static void read_discarding(proxy_t *proxy, conn_t *conn, int side)
{
    ssize_t n = recv(conn->fd[side], proxy->discard, sizeof proxy->discard, 0);
    if (n > 0) {
        conn->dropped += (uint64_t)n;
        return;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    close_blackholed_side(proxy, conn, side, n == 0 ? "closed" : "reset");
}

/* An orphan is a side whose peer was closed during a blackhole. Once healed, the peer host no
 * longer knows the connection, so anything the orphan sends is answered with a reset. */
static void read_orphan(proxy_t *proxy, conn_t *conn, int side)
{
    ssize_t n = recv(conn->fd[side], proxy->discard, sizeof proxy->discard, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    log_event(proxy, "orphan %s conn=%llu %s", side_name[side], (unsigned long long)conn->id,
              n > 0 ? "sent data after heal; reset" : "closed");
    close_side(conn, side, n > 0);
}

static void start_drain(proxy_t *proxy, conn_t *conn, int side)
{
    conn->draining = true;
    conn->drain_from = side;
    flow_clear(&conn->flow[!side]);
    if (flow_pending(&conn->flow[side]) == 0 || conn->fd[!side] < 0) {
        char reason[64];
        snprintf(reason, sizeof reason, "%s closed", side_name[side]);
        close_pair(proxy, conn, false, reason);
    }
}

static void read_forwarding(proxy_t *proxy, conn_t *conn, int side)
{
    flow_t *flow = &conn->flow[side];
    if (flow->start == flow->end)
        flow_clear(flow);
    else if (flow->end == BUFFER_CAPACITY && flow->start > 0) {
        memmove(flow->data, flow->data + flow->start, flow_pending(flow));
        flow->end -= flow->start;
        flow->start = 0;
    }
    if (flow->end == BUFFER_CAPACITY)
        return;
    ssize_t n = recv(conn->fd[side], flow->data + flow->end, BUFFER_CAPACITY - flow->end, 0);
    if (n > 0) {
        flow->end += (size_t)n;
        return;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (n == 0) {
        start_drain(proxy, conn, side);
        return;
    }
    char reason[96];
    snprintf(reason, sizeof reason, "%s error: %s", side_name[side], strerror(errno));
    close_pair(proxy, conn, true, reason);
}

/* Writes bytes read from side `from` to the other side. */
static void write_forwarding(proxy_t *proxy, conn_t *conn, int from)
{
    flow_t *flow = &conn->flow[from];
    int to = !from;
    if (flow_pending(flow) > 0) {
        ssize_t n = send(conn->fd[to], flow->data + flow->start, flow_pending(flow), MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                return;
            char reason[96];
            snprintf(reason, sizeof reason, "%s error: %s", side_name[to], strerror(errno));
            close_pair(proxy, conn, true, reason);
            return;
        }
        flow->start += (size_t)n;
        conn->moved[from] += (uint64_t)n;
    }
    if (conn->draining && conn->drain_from == from && flow_pending(flow) == 0) {
        char reason[64];
        snprintf(reason, sizeof reason, "%s closed", side_name[from]);
        close_pair(proxy, conn, false, reason);
    }
}

static short wanted_events(const proxy_t *proxy, const conn_t *conn, int side)
{
    if (conn->fd[side] < 0)
        return 0;
    if (side == TARGET && conn->connecting)
        return POLLOUT;
    if (proxy->blackhole || conn->fd[!side] < 0)
        return POLLIN; /* read and drop, or watch an orphan */
    short events = 0;
    if (conn->draining) {
        if (conn->drain_from != side)
            events |= POLLOUT;
        return events;
    }
    if (conn->flow[side].end < BUFFER_CAPACITY || conn->flow[side].start > 0)
        events |= POLLIN;
    if (flow_pending(&conn->flow[!side]) > 0 && !conn->connecting)
        events |= POLLOUT;
    return events;
}

static void handle_events(proxy_t *proxy, conn_t *conn, int side, short revents)
{
    if (conn->dead || conn->fd[side] < 0)
        return;
    if (side == TARGET && conn->connecting) {
        if (revents & (POLLOUT | POLLERR | POLLHUP))
            finish_connect(proxy, conn);
        return;
    }
    if (proxy->blackhole) {
        if (revents & (POLLIN | POLLERR | POLLHUP))
            read_discarding(proxy, conn, side);
        return;
    }
    if (conn->fd[!side] < 0) {
        if (revents & (POLLIN | POLLERR | POLLHUP))
            read_orphan(proxy, conn, side);
        return;
    }
    /* A reset (or a hang-up, which we never cause by a half-close) ends the pair: pass it on as
     * a reset. Checked first because poll reports it even when the side is not being read. */
    if (revents & (POLLERR | POLLHUP)) {
        int error = 0;
        socklen_t length = sizeof error;
        getsockopt(conn->fd[side], SOL_SOCKET, SO_ERROR, &error, &length);
        char reason[96];
        snprintf(reason, sizeof reason, "%s error: %s", side_name[side],
                 error ? strerror(error) : "hung up");
        close_pair(proxy, conn, true, reason);
        return;
    }
    if ((revents & POLLOUT) && !conn->connecting)
        write_forwarding(proxy, conn, !side);
    if (conn->dead || conn->draining)
        return;
    if (revents & POLLIN)
        read_forwarding(proxy, conn, side);
}

static void set_blackhole(proxy_t *proxy, bool on)
{
    if (proxy->blackhole == on) {
        log_event(proxy, "blackhole already %s", on ? "on" : "off");
        return;
    }
    proxy->blackhole = on;
    if (on) {
        /* A dead middlebox loses whatever it had not yet passed on. */
        for (size_t i = 0; i < proxy->conn_count; i++) {
            flow_clear(&proxy->conns[i]->flow[CLIENT]);
            flow_clear(&proxy->conns[i]->flow[TARGET]);
        }
    }
    log_event(proxy, "blackhole %s (%zu connections)", on ? "on" : "off", proxy->conn_count);
}

static void cut_all(proxy_t *proxy)
{
    size_t cut = 0;
    for (size_t i = 0; i < proxy->conn_count; i++) {
        conn_t *conn = proxy->conns[i];
        if (conn->dead)
            continue;
        close_pair(proxy, conn, true, "cut");
        cut++;
    }
    log_event(proxy, "cut %zu connections", cut);
}

static void handle_signals(proxy_t *proxy)
{
    unsigned char signals[64];
    ssize_t n;
    while ((n = read(signal_pipe[0], signals, sizeof signals)) > 0) {
        for (ssize_t i = 0; i < n; i++) {
            switch (signals[i]) {
            case SIGUSR1:
                set_blackhole(proxy, true);
                break;
            case SIGUSR2:
                set_blackhole(proxy, false);
                break;
            case SIGHUP:
                cut_all(proxy);
                break;
            default:
                proxy->stopping = true;
                break;
            }
        }
    }
}

static int install_signals(void)
{
    if (pipe(signal_pipe) < 0 || set_nonblocking(signal_pipe[0]) < 0 ||
        set_nonblocking(signal_pipe[1]) < 0)
        return -1;
    fcntl(signal_pipe[0], F_SETFD, FD_CLOEXEC);
    fcntl(signal_pipe[1], F_SETFD, FD_CLOEXEC);
    struct sigaction action;
    memset(&action, 0, sizeof action);
    sigemptyset(&action.sa_mask);
    action.sa_handler = SIG_IGN;
    if (sigaction(SIGPIPE, &action, NULL) < 0)
        return -1;
    action.sa_handler = on_signal;
    const int handled[] = {SIGUSR1, SIGUSR2, SIGHUP, SIGTERM, SIGINT};
    for (size_t i = 0; i < sizeof handled / sizeof handled[0]; i++)
        if (sigaction(handled[i], &action, NULL) < 0)
            return -1;
    return 0;
}

static int run(proxy_t *proxy)
{
    struct pollfd *fds = NULL;
    size_t *owner = NULL; /* index into proxy->conns * 2 + side, for fds[2..] */
    size_t fds_capacity = 0;
    int status = 0;
    while (!proxy->stopping) {
        size_t needed = 2 + proxy->conn_count * 2;
        if (needed > fds_capacity) {
            struct pollfd *grown_fds = realloc(fds, needed * sizeof *fds);
            if (grown_fds)
                fds = grown_fds;
            size_t *grown_owner = realloc(owner, needed * sizeof *owner);
            if (grown_owner)
                owner = grown_owner;
            if (!grown_fds || !grown_owner) {
                log_event(proxy, "out of memory");
                status = 1;
                break;
            }
            fds_capacity = needed;
        }
        nfds_t count = 0;
        fds[count++] = (struct pollfd){.fd = signal_pipe[0], .events = POLLIN};
        fds[count++] = (struct pollfd){.fd = proxy->listen_fd, .events = POLLIN};
        for (size_t i = 0; i < proxy->conn_count; i++) {
            for (int side = CLIENT; side <= TARGET; side++) {
                short events = wanted_events(proxy, proxy->conns[i], side);
                if (!events)
                    continue;
                owner[count] = i * 2 + (size_t)side;
                fds[count++] = (struct pollfd){.fd = proxy->conns[i]->fd[side], .events = events};
            }
        }
        if (poll(fds, count, -1) < 0) {
            if (errno == EINTR)
                continue;
            log_event(proxy, "poll failed: %s", strerror(errno));
            status = 1;
            break;
        }
        /* Signals first, so a cut or blackhole applies before this round's bytes move. */
        if (fds[0].revents)
            handle_signals(proxy);
        if (proxy->stopping)
            break;
        for (nfds_t k = 2; k < count; k++) {
            if (fds[k].revents)
                handle_events(proxy, proxy->conns[owner[k] / 2], (int)(owner[k] % 2),
                              fds[k].revents);
        }
        reap_dead(proxy);
        if (fds[1].revents)
            accept_clients(proxy);
    }
    free(fds);
    free(owner);
    return status;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: faultproxy --listen 127.0.0.1:PORT --target 127.0.0.1:PORT "
                 "[--pidfile F] [--log F]\n"
                 "  SIGUSR1 blackhole on, SIGUSR2 heal, SIGHUP cut all (RST), SIGTERM exit\n");
}

int main(int argc, char **argv)
{
    const char *listen_text = NULL, *target_text = NULL, *pidfile = NULL, *log_path = NULL;
    for (int i = 1; i < argc; i++) {
        const char **slot = NULL;
        if (!strcmp(argv[i], "--listen"))
            slot = &listen_text;
        else if (!strcmp(argv[i], "--target"))
            slot = &target_text;
        else if (!strcmp(argv[i], "--pidfile"))
            slot = &pidfile;
        else if (!strcmp(argv[i], "--log"))
            slot = &log_path;
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        }
        if (!slot || i + 1 >= argc) {
            usage(stderr);
            return 2;
        }
        *slot = argv[++i];
    }
    static proxy_t proxy = {.listen_fd = -1};
    struct sockaddr_in listen_address;
    if (!listen_text || !target_text || parse_endpoint(listen_text, &listen_address) < 0 ||
        parse_endpoint(target_text, &proxy.target) < 0 || proxy.target.sin_port == 0) {
        fprintf(stderr, "faultproxy: --listen and --target must be 127.x.x.x:PORT "
                        "(target port non-zero)\n");
        usage(stderr);
        return 2;
    }
    proxy.log = stderr;
    if (log_path) {
        proxy.log = fopen(log_path, "a");
        if (!proxy.log) {
            fprintf(stderr, "faultproxy: cannot open log %s: %s\n", log_path, strerror(errno));
            return 1;
        }
    }
    if (install_signals() < 0) {
        fprintf(stderr, "faultproxy: cannot install signal handlers: %s\n", strerror(errno));
        return 1;
    }
    proxy.listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    if (proxy.listen_fd < 0 ||
        setsockopt(proxy.listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(proxy.listen_fd, (struct sockaddr *)&listen_address, sizeof listen_address) < 0 ||
        listen(proxy.listen_fd, 128) < 0 || set_nonblocking(proxy.listen_fd) < 0) {
        fprintf(stderr, "faultproxy: cannot listen on %s: %s\n", listen_text, strerror(errno));
        return 1;
    }
    socklen_t length = sizeof listen_address;
    getsockname(proxy.listen_fd, (struct sockaddr *)&listen_address, &length);
    char host[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &listen_address.sin_addr, host, sizeof host);
    printf("listening %s:%u\n", host, ntohs(listen_address.sin_port));
    fflush(stdout);
    if (pidfile) {
        FILE *file = fopen(pidfile, "w");
        if (!file || fprintf(file, "%ld\n", (long)getpid()) < 0 || fclose(file) != 0) {
            fprintf(stderr, "faultproxy: cannot write pidfile %s\n", pidfile);
            return 1;
        }
    }
    log_event(&proxy, "listening %s:%u target %s", host, ntohs(listen_address.sin_port),
              target_text);

    int status = run(&proxy);

    log_event(&proxy, "closing %zu connections at exit", proxy.conn_count);
    for (size_t i = 0; i < proxy.conn_count; i++)
        conn_destroy(&proxy.conns[i]);
    free(proxy.conns);
    close(proxy.listen_fd);
    if (pidfile)
        unlink(pidfile);
    log_event(&proxy, "exit");
    if (proxy.log != stderr)
        fclose(proxy.log);
    return status;
}
