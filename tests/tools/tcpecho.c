/*
 * tcpecho — a loopback TCP echo server for e2e tests.
 *
 *   tcpecho --listen 127.0.0.1:PORT [--log F]
 *
 * PORT 0 picks a free port; the first line on stdout is always "listening 127.0.0.1:NNNNN".
 * Every byte received is sent back on the same connection. One log line per accept and per
 * close (with the reason: "eof" or the socket error, e.g. "Connection reset by peer") goes to
 * stderr or --log. SIGTERM/SIGINT exit. Single-threaded poll() loop, libc only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CLIENTS 64
#define ECHO_CAPACITY (64 * 1024)

typedef struct {
    int fd;
    uint64_t id;
    size_t start;
    size_t end;
    char data[ECHO_CAPACITY];
} client_t;

static volatile sig_atomic_t stop_requested;

static void on_stop(int signum)
{
    (void)signum;
    stop_requested = 1;
}

static FILE *log_file;

static void log_line(const char *what, uint64_t id, const char *detail)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct tm utc;
    gmtime_r(&now.tv_sec, &utc);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);
    fprintf(log_file, "%s.%03ldZ tcpecho %s conn=%llu %s\n", stamp, now.tv_nsec / 1000000L, what,
            (unsigned long long)id, detail);
    fflush(log_file);
}

static void drop_client(client_t *client, const char *reason)
{
    log_line("closed", client->id, reason);
    close(client->fd);
    client->fd = -1;
}

static void serve_client(client_t *client, short revents)
{
    if (revents & POLLOUT) {
        ssize_t n = send(client->fd, client->data + client->start, client->end - client->start,
                         MSG_NOSIGNAL);
        if (n < 0 && errno != EAGAIN && errno != EINTR) {
            drop_client(client, strerror(errno));
            return;
        }
        if (n > 0)
            client->start += (size_t)n;
        if (client->start == client->end)
            client->start = client->end = 0;
    }
    if (revents & (POLLIN | POLLERR | POLLHUP)) {
        if (client->end == ECHO_CAPACITY)
            return;
        ssize_t n = recv(client->fd, client->data + client->end, ECHO_CAPACITY - client->end, 0);
        if (n > 0)
            client->end += (size_t)n;
        else if (n == 0)
            drop_client(client, "eof");
        else if (errno != EAGAIN && errno != EINTR)
            drop_client(client, strerror(errno));
    }
}

int main(int argc, char **argv)
{
    const char *listen_text = NULL;
    log_file = stderr;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--listen"))
            listen_text = argv[i + 1];
        else if (!strcmp(argv[i], "--log")) {
            log_file = fopen(argv[i + 1], "a");
            if (!log_file) {
                fprintf(stderr, "tcpecho: cannot open %s: %s\n", argv[i + 1], strerror(errno));
                return 1;
            }
        } else
            break;
    }
    struct sockaddr_in address = {.sin_family = AF_INET};
    const char *colon = listen_text ? strrchr(listen_text, ':') : NULL;
    char host[INET_ADDRSTRLEN] = "";
    if (colon && (size_t)(colon - listen_text) < sizeof host)
        memcpy(host, listen_text, (size_t)(colon - listen_text));
    if (!colon || inet_pton(AF_INET, host, &address.sin_addr) != 1 ||
        (ntohl(address.sin_addr.s_addr) >> 24) != 127) {
        fprintf(stderr, "usage: tcpecho --listen 127.0.0.1:PORT [--log F]  (loopback only)\n");
        return 2;
    }
    address.sin_port = htons((uint16_t)atoi(colon + 1));

    signal(SIGPIPE, SIG_IGN);
    struct sigaction action = {.sa_handler = on_stop};
    sigemptyset(&action.sa_mask);
    sigaction(SIGTERM, &action, NULL);
    sigaction(SIGINT, &action, NULL);

    int listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    if (listen_fd < 0 || setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(listen_fd, (struct sockaddr *)&address, sizeof address) < 0 ||
        listen(listen_fd, 64) < 0) {
        fprintf(stderr, "tcpecho: cannot listen on %s: %s\n", listen_text, strerror(errno));
        return 1;
    }
    socklen_t length = sizeof address;
    getsockname(listen_fd, (struct sockaddr *)&address, &length);
    printf("listening %s:%u\n", host, ntohs(address.sin_port));
    fflush(stdout);

    static client_t clients[MAX_CLIENTS];
    for (int i = 0; i < MAX_CLIENTS; i++)
        clients[i].fd = -1;
    uint64_t next_id = 0;
    while (!stop_requested) {
        struct pollfd fds[MAX_CLIENTS + 1];
        int owner[MAX_CLIENTS + 1];
        nfds_t count = 0;
        fds[count++] = (struct pollfd){.fd = listen_fd, .events = POLLIN};
        for (int i = 0; i < MAX_CLIENTS; i++) {
            if (clients[i].fd < 0)
                continue;
            short events = 0;
            if (clients[i].end < ECHO_CAPACITY)
                events |= POLLIN;
            if (clients[i].end > clients[i].start)
                events |= POLLOUT;
            owner[count] = i;
            fds[count++] = (struct pollfd){.fd = clients[i].fd, .events = events};
        }
        if (poll(fds, count, -1) < 0) {
            if (errno == EINTR)
                continue;
            perror("tcpecho: poll");
            return 1;
        }
        for (nfds_t k = 1; k < count; k++)
            if (fds[k].revents)
                serve_client(&clients[owner[k]], fds[k].revents);
        if (fds[0].revents & POLLIN) {
            int fd = accept(listen_fd, NULL, NULL);
            if (fd < 0)
                continue;
            int slot = 0;
            while (slot < MAX_CLIENTS && clients[slot].fd >= 0)
                slot++;
            if (slot == MAX_CLIENTS) {
                close(fd);
                continue;
            }
            fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
            clients[slot].fd = fd;
            clients[slot].id = ++next_id;
            clients[slot].start = clients[slot].end = 0;
            log_line("accepted", clients[slot].id, "");
        }
    }
    for (int i = 0; i < MAX_CLIENTS; i++)
        if (clients[i].fd >= 0)
            close(clients[i].fd);
    close(listen_fd);
    return 0;
}
