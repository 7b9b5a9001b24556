/*
 * slowwire — a slow, lossy Ethernet wire between two network namespaces, in userspace, for
 * the slow-link test on kernels without sch_netem (CONFIG_NET_SCH_NETEM unset).
 *
 *   slowwire --netns-a NS --netns-b NS [--dev NAME] --rate BITS_PER_S --delay MS
 *            --loss PERCENT --limit BYTES [--seed N]
 *
 * Creates a TAP device called NAME (default "sw0") in each of the two named namespaces
 * (/run/netns/NS, as made by `ip netns add`; never in the namespace it was started in) and
 * forwards Ethernet frames between them. Each direction is shaped like
 * `tc qdisc add dev X root netem rate R delay D loss L limit ...` on the sending end:
 *   loss     each frame is dropped with probability L/100 on arrival (before the rate);
 *   limit    a frame that would make the frames held in that direction exceed BYTES is
 *            dropped (tail drop; netem counts its limit in packets, this one in bytes);
 *   rate     frames leave one after another, each taking len*8/R seconds (len = the whole
 *            Ethernet frame, as netem counts it);
 *   delay    each frame is delivered D ms after its last bit left.
 * The devices exist as long as the process runs (not persistent): the test configures their
 * addresses after the first line on stdout, "ready NAME seed N", and they vanish at exit.
 * The test steers it by PID:
 *   SIGUSR1  link down: every frame held is discarded and every frame arriving is dropped,
 *            both ways, until
 *   SIGUSR2  link up.
 *   SIGTERM, SIGINT  exit, after the per-direction counters on stderr.
 *
 * Single-threaded ppoll() loop; signals arrive through a self-pipe; libc only.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define FRAME_MAX 65536

typedef struct frame {
    struct frame *next;
    int64_t due_ns; /* when it reaches the far end */
    size_t len;
    unsigned char data[];
} frame_t;

typedef struct {
    const char *name; /* "a->b" */
    int in_fd;        /* frames read here ... */
    int out_fd;       /* ... are written here */
    frame_t *head, *tail;
    size_t held_bytes;
    int64_t wire_free_ns; /* when the last frame queued has fully left */
    uint64_t frames_in, bytes_in;
    uint64_t lost, lost_bytes;         /* random loss */
    uint64_t overflow, overflow_bytes; /* queue limit */
    uint64_t down, down_bytes;         /* dropped while the link was down */
    uint64_t delivered, delivered_bytes;
} direction_t;

static int signal_pipe[2] = {-1, -1};

static void on_signal(int signum)
{
    int saved_errno = errno;
    unsigned char byte = (unsigned char)signum;
    ssize_t ignored = write(signal_pipe[1], &byte, 1);
    (void)ignored;
    errno = saved_errno;
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* xorshift64*: reproducible from --seed. */
static uint64_t rng_state;
static double rng_unit(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (double)((rng_state * 0x2545F4914F6CDD1DULL) >> 11) / 9007199254740992.0;
}

static void usage(void)
{
    fprintf(stderr, "usage: slowwire --netns-a NS --netns-b NS [--dev NAME] --rate BITS_PER_S "
                    "--delay MS --loss PERCENT --limit BYTES [--seed N]\n");
    exit(2);
}

static bool same_netns(int fd_a, int fd_b)
{
    struct stat a, b;
    return fstat(fd_a, &a) == 0 && fstat(fd_b, &b) == 0 && a.st_dev == b.st_dev &&
           a.st_ino == b.st_ino;
}

/* A non-persistent TAP device NAME inside the named namespace; the fd, or -1. */
static int tap_in_netns(const char *netns, const char *name, int home_fd)
{
    char path[256];
    snprintf(path, sizeof path, "/run/netns/%s", netns);
    int ns_fd = open(path, O_RDONLY | O_CLOEXEC);
    if (ns_fd < 0) {
        fprintf(stderr, "slowwire: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (same_netns(ns_fd, home_fd)) {
        fprintf(stderr, "slowwire: %s is the namespace this was started in: refused\n", netns);
        close(ns_fd);
        return -1;
    }
    if (setns(ns_fd, CLONE_NEWNET) != 0) {
        fprintf(stderr, "slowwire: setns %s: %s\n", netns, strerror(errno));
        close(ns_fd);
        return -1;
    }
    close(ns_fd);
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "slowwire: /dev/net/tun: %s\n", strerror(errno));
        return -1;
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
    if (ioctl(fd, TUNSETIFF, &ifr) != 0) {
        fprintf(stderr, "slowwire: TUNSETIFF %s in %s: %s\n", name, netns, strerror(errno));
        close(fd);
        return -1;
    }
    if (setns(home_fd, CLONE_NEWNET) != 0) {
        fprintf(stderr, "slowwire: setns back: %s\n", strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

static void discard_held(direction_t *dir)
{
    while (dir->head) {
        frame_t *frame = dir->head;
        dir->head = frame->next;
        dir->down++;
        dir->down_bytes += frame->len;
        free(frame);
    }
    dir->tail = NULL;
    dir->held_bytes = 0;
    dir->wire_free_ns = 0; /* what was on the wire is gone with it */
}

/* Reads every frame waiting on dir->in_fd and queues (or drops) it. */
static void take_frames(direction_t *dir, bool link_down, long rate, int64_t delay_ns, double loss,
                        size_t limit, unsigned char *buffer)
{
    for (;;) {
        ssize_t got = read(dir->in_fd, buffer, FRAME_MAX);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return; /* EAGAIN, or the device went away */
        }
        if (got == 0)
            return;
        size_t len = (size_t)got;
        dir->frames_in++;
        dir->bytes_in += len;
        if (link_down) {
            dir->down++;
            dir->down_bytes += len;
            continue;
        }
        if (loss > 0 && rng_unit() * 100.0 < loss) {
            dir->lost++;
            dir->lost_bytes += len;
            continue;
        }
        if (dir->held_bytes + len > limit) {
            dir->overflow++;
            dir->overflow_bytes += len;
            continue;
        }
        frame_t *frame = malloc(sizeof *frame + len);
        if (!frame) {
            dir->overflow++;
            dir->overflow_bytes += len;
            continue;
        }
        memcpy(frame->data, buffer, len);
        frame->len = len;
        frame->next = NULL;
        int64_t now = now_ns();
        int64_t start = dir->wire_free_ns > now ? dir->wire_free_ns : now;
        dir->wire_free_ns = start + (int64_t)((double)len * 8.0 * 1e9 / (double)rate);
        frame->due_ns = dir->wire_free_ns + delay_ns;
        if (dir->tail)
            dir->tail->next = frame;
        else
            dir->head = frame;
        dir->tail = frame;
        dir->held_bytes += len;
    }
}

static void deliver_due(direction_t *dir)
{
    int64_t now = now_ns();
    while (dir->head && dir->head->due_ns <= now) {
        frame_t *frame = dir->head;
        dir->head = frame->next;
        if (!dir->head)
            dir->tail = NULL;
        dir->held_bytes -= frame->len;
        /* A TAP write takes the whole frame or fails; a failure is a drop. */
        if (write(dir->out_fd, frame->data, frame->len) == (ssize_t)frame->len) {
            dir->delivered++;
            dir->delivered_bytes += frame->len;
        } else {
            dir->overflow++;
            dir->overflow_bytes += frame->len;
        }
        free(frame);
    }
}

static void print_counters(const direction_t *dir)
{
    fprintf(stderr,
            "slowwire %s: in %llu frames %llu bytes; lost %llu (%llu B); overflow %llu (%llu B); "
            "down %llu (%llu B); delivered %llu (%llu B)\n",
            dir->name, (unsigned long long)dir->frames_in, (unsigned long long)dir->bytes_in,
            (unsigned long long)dir->lost, (unsigned long long)dir->lost_bytes,
            (unsigned long long)dir->overflow, (unsigned long long)dir->overflow_bytes,
            (unsigned long long)dir->down, (unsigned long long)dir->down_bytes,
            (unsigned long long)dir->delivered, (unsigned long long)dir->delivered_bytes);
}

int main(int argc, char **argv)
{
    const char *netns_a = NULL, *netns_b = NULL, *dev = "sw0";
    long rate = 0, delay_ms = -1, limit = 0;
    double loss = -1;
    uint64_t seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (i + 1 >= argc)
            usage();
        const char *value = argv[++i];
        char *end = NULL;
        if (!strcmp(arg, "--netns-a"))
            netns_a = value;
        else if (!strcmp(arg, "--netns-b"))
            netns_b = value;
        else if (!strcmp(arg, "--dev"))
            dev = value;
        else if (!strcmp(arg, "--rate"))
            rate = strtol(value, &end, 10);
        else if (!strcmp(arg, "--delay"))
            delay_ms = strtol(value, &end, 10);
        else if (!strcmp(arg, "--loss"))
            loss = strtod(value, &end);
        else if (!strcmp(arg, "--limit"))
            limit = strtol(value, &end, 10);
        else if (!strcmp(arg, "--seed"))
            seed = strtoull(value, &end, 10);
        else
            usage();
        if (end && (*end || end == value))
            usage();
    }
    if (!netns_a || !netns_b || !strcmp(netns_a, netns_b) || rate <= 0 || delay_ms < 0 ||
        loss < 0 || loss > 100 || limit < 1600 || strlen(dev) >= IFNAMSIZ)
        usage();
    rng_state = seed ? seed : 1;

    int home_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    if (home_fd < 0) {
        fprintf(stderr, "slowwire: /proc/self/ns/net: %s\n", strerror(errno));
        return 1;
    }
    int fd_a = tap_in_netns(netns_a, dev, home_fd);
    int fd_b = fd_a < 0 ? -1 : tap_in_netns(netns_b, dev, home_fd);
    if (fd_b < 0)
        return 1;

    if (pipe(signal_pipe) != 0 || fcntl(signal_pipe[0], F_SETFL, O_NONBLOCK) != 0 ||
        fcntl(signal_pipe[1], F_SETFL, O_NONBLOCK) != 0)
        return 1;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_signal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGUSR1, &action, NULL);
    sigaction(SIGUSR2, &action, NULL);
    sigaction(SIGTERM, &action, NULL);
    sigaction(SIGINT, &action, NULL);

    direction_t dirs[2] = {{.name = "a->b", .in_fd = fd_a, .out_fd = fd_b},
                           {.name = "b->a", .in_fd = fd_b, .out_fd = fd_a}};
    unsigned char *buffer = malloc(FRAME_MAX);
    if (!buffer)
        return 1;
    printf("ready %s seed %llu\n", dev, (unsigned long long)seed);
    fflush(stdout);

    int64_t delay_ns = delay_ms * 1000000LL;
    bool link_down = false, stopping = false;
    while (!stopping) {
        int64_t next = -1;
        for (int d = 0; d < 2; d++)
            if (dirs[d].head && (next < 0 || dirs[d].head->due_ns < next))
                next = dirs[d].head->due_ns;
        struct timespec timeout, *timeout_p = NULL;
        if (next >= 0) {
            int64_t wait = next - now_ns();
            if (wait < 0)
                wait = 0;
            timeout.tv_sec = wait / 1000000000LL;
            timeout.tv_nsec = wait % 1000000000LL;
            timeout_p = &timeout;
        }
        struct pollfd fds[3] = {{.fd = fd_a, .events = POLLIN},
                                {.fd = fd_b, .events = POLLIN},
                                {.fd = signal_pipe[0], .events = POLLIN}};
        if (ppoll(fds, 3, timeout_p, NULL) < 0 && errno != EINTR) {
            fprintf(stderr, "slowwire: ppoll: %s\n", strerror(errno));
            break;
        }
        unsigned char signum;
        while (read(signal_pipe[0], &signum, 1) == 1) {
            if (signum == SIGUSR1) {
                link_down = true;
                discard_held(&dirs[0]);
                discard_held(&dirs[1]);
            } else if (signum == SIGUSR2) {
                link_down = false;
            } else {
                stopping = true;
            }
        }
        for (int d = 0; d < 2; d++)
            take_frames(&dirs[d], link_down, rate, delay_ns, loss, (size_t)limit, buffer);
        for (int d = 0; d < 2; d++)
            deliver_due(&dirs[d]);
    }
    print_counters(&dirs[0]);
    print_counters(&dirs[1]);
    discard_held(&dirs[0]);
    discard_held(&dirs[1]);
    free(buffer);
    close(fd_a);
    close(fd_b);
    return 0;
}
