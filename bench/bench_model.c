/*
 * bench_model — the minimal durable chain that Shifan's link is measured against (issue 10).
 *
 *   ./scripts/build.sh build && build/bin/bench_model [--count N] [--size S] [--batch B]
 *                                    [--window W] [--frames-per-commit F] [--dir D]
 *
 * county -> hub -> province as three real processes (this program re-executed with a role) on
 * tcp://127.0.0.1, CURVE on both hops, and nothing else: no protobuf, no dedup index, no
 * programme logic, no session or resend logic (loopback loses nothing; a gap is an error).
 *
 * - Before the clock: the county's outbox DB gets N values of S bytes (default 200000 × 1024),
 *   1000 per fsync'd txn, keyed by sequence number; a value's first 8 bytes are its id.
 * - The county sends frames of B items (default 64), at most W frames in flight (default 16).
 * - The hub commits each received frame to its store DB (by id) and its outbox DB (by its own
 *   sequence number) in one fsync'd txn, then acks, then forwards from its outbox like the
 *   county (B items per frame, W frames in flight).
 * - The province commits each frame to its reports DB (by id) in one fsync'd txn, then acks.
 * - The county and the hub delete acknowledged entries in fsync'd txns (one per batch of acks
 *   drained in one wake-up).
 * Every env has the default flags (no MDB_NOSYNC, no MDB_WRITEMAP): each commit is fsync'd.
 * F > 1 lets a receiver commit up to F frames that are already waiting in one txn (group
 * commit, as Shifan's receivers do: up to 64 frames per wake-up); the default 1 is the model of
 * issue 10. bench_link.sh runs both F = 1 and F = 64: with F = 1 the hub pays about four fsyncs
 * per 64 reports in series, so on a disk where fsync is slow the model is fsync-bound and can be
 * slower than the link, which group-commits.
 *
 * No ZAP handler: a CURVE server without one accepts any client key. Right for a benchmark
 * (it measures the encryption, not the key check), never for a server (dependency-traps A1).
 *
 * Measured like bench/bench_link.sh's end_to_end_reports_per_s: the province's reports DB is
 * polled every 20 ms from this process; the rate is (N - entries at the first poll that saw
 * any) / (time of the poll that saw N - time of that first poll). Prints
 * "model_end_to_end_reports_per_s R". The envs live in a fresh mkdtemp() under D (default
 * $TMPDIR, else /var/tmp: a real disk; on tmpfs fsync is free and the model meaningless),
 * removed at the end.
 *
 * Wire (one ZeroMQ frame each): Batch = 'B', u64 first seq, u32 n, n × (u32 size, bytes);
 * Ack = 'A', u64 last seq applied. Big-endian.
 */
#include <errno.h>
#include <lmdb.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

enum {
    BATCH_MAX = 1024,
    WINDOW_MAX = 1024,
    FRAMES_PER_COMMIT_MAX = 256,
    FRAME_HEADER = 13,
    ITEM_HEADER = 4,
    ACK_SIZE = 9,
    ID_SIZE = 8,
    FILL_PER_TXN = 1000,
    POLL_MS = 20,
    DEADLINE_MS = 300000,
};

typedef struct {
    long count;
    long size;
    long batch;
    long window;
    long frames_per_commit;
    const char *dir;
    /* Set only when re-executed as one node of the chain. */
    const char *role;
    const char *env;
    const char *secret;
    const char *public_key;
    const char *server_key;
    const char *upstream;
} options_t;

static const char *program = "bench_model";

static void die(const char *what, const char *why)
{
    fprintf(stderr, "%s: %s: %s\n", program, what, why);
    exit(1);
}

static void check_lmdb(const char *what, int rc)
{
    if (rc != 0)
        die(what, mdb_strerror(rc));
}

static void check_zmq(const char *what, int rc)
{
    if (rc < 0)
        die(what, zmq_strerror(zmq_errno()));
}

static int64_t now_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static void put_u64(unsigned char *p, uint64_t v)
{
    for (int b = 0; b < 8; b++)
        p[b] = (unsigned char)(v >> (56 - 8 * b));
}

static uint64_t get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int b = 0; b < 8; b++)
        v = v << 8 | p[b];
    return v;
}

static void put_u32(unsigned char *p, uint32_t v)
{
    for (int b = 0; b < 4; b++)
        p[b] = (unsigned char)(v >> (24 - 8 * b));
}

static uint32_t get_u32(const unsigned char *p)
{
    uint32_t v = 0;
    for (int b = 0; b < 4; b++)
        v = v << 8 | p[b];
    return v;
}

/* ---- LMDB ---- */

/* Sparse on Linux; big enough that no env ever has to grow during the run. */
static size_t map_size_for(long count, long size)
{
    return (size_t)count * ((size_t)size + 4096) * 2 + ((size_t)64 << 20);
}

static MDB_env *env_open(const char *path, size_t map_size, unsigned flags)
{
    MDB_env *env;
    check_lmdb("mdb_env_create", mdb_env_create(&env));
    check_lmdb("mdb_env_set_maxdbs", mdb_env_set_maxdbs(env, 4));
    check_lmdb("mdb_env_set_mapsize", mdb_env_set_mapsize(env, map_size));
    check_lmdb(path, mdb_env_open(env, path, flags, 0600));
    return env;
}

static MDB_dbi dbi_open(MDB_env *env, const char *name, unsigned txn_flags, unsigned flags)
{
    MDB_txn *txn;
    MDB_dbi dbi;
    check_lmdb("mdb_txn_begin", mdb_txn_begin(env, NULL, txn_flags, &txn));
    check_lmdb(name, mdb_dbi_open(txn, name, flags, &dbi));
    check_lmdb("mdb_txn_commit", mdb_txn_commit(txn));
    return dbi;
}

static void remove_env_dir(const char *path)
{
    char file[4096 + 16];
    snprintf(file, sizeof file, "%s/data.mdb", path);
    unlink(file);
    snprintf(file, sizeof file, "%s/lock.mdb", path);
    unlink(file);
    rmdir(path);
}

/* ---- sending from an outbox DB: frames of `batch` items, `window` frames in flight ---- */

typedef struct {
    MDB_env *env;
    MDB_dbi dbi;
    void *socket;
    long batch;
    long window;
    uint64_t head;      /* last seq in the outbox */
    uint64_t next_send; /* next seq to put on the wire */
    uint64_t acked;     /* last seq acknowledged */
    uint64_t deleted;   /* every seq up to this one is deleted */
    uint64_t flight_last[WINDOW_MAX];
    long flight_first;
    long flights;
} sender_t;

static void sender_pump(sender_t *s)
{
    if (s->flights >= s->window || s->next_send > s->head)
        return;
    MDB_txn *txn;
    MDB_cursor *cursor;
    MDB_val values[BATCH_MAX];
    check_lmdb("mdb_txn_begin (read)", mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn));
    check_lmdb("mdb_cursor_open", mdb_cursor_open(txn, s->dbi, &cursor));
    while (s->flights < s->window && s->next_send <= s->head) {
        uint64_t left = s->head - s->next_send + 1;
        long n = left < (uint64_t)s->batch ? (long)left : s->batch;
        unsigned char key_bytes[8];
        put_u64(key_bytes, s->next_send);
        MDB_val key = {.mv_size = sizeof key_bytes, .mv_data = key_bytes};
        size_t total = FRAME_HEADER;
        MDB_cursor_op op = MDB_SET_KEY;
        for (long i = 0; i < n; i++, op = MDB_NEXT) {
            check_lmdb("outbox read", mdb_cursor_get(cursor, &key, &values[i], op));
            if (key.mv_size != 8 || get_u64(key.mv_data) != s->next_send + (uint64_t)i)
                die("outbox read", "not the next sequence number");
            total += ITEM_HEADER + values[i].mv_size;
        }
        zmq_msg_t frame;
        check_zmq("zmq_msg_init_size", zmq_msg_init_size(&frame, total));
        unsigned char *p = zmq_msg_data(&frame);
        p[0] = 'B';
        put_u64(p + 1, s->next_send);
        put_u32(p + 9, (uint32_t)n);
        p += FRAME_HEADER;
        for (long i = 0; i < n; i++) {
            put_u32(p, (uint32_t)values[i].mv_size);
            memcpy(p + ITEM_HEADER, values[i].mv_data, values[i].mv_size);
            p += ITEM_HEADER + values[i].mv_size;
        }
        check_zmq("send batch", zmq_msg_send(&frame, s->socket, 0));
        s->next_send += (uint64_t)n;
        s->flight_last[(s->flight_first + s->flights) % WINDOW_MAX] = s->next_send - 1;
        s->flights++;
    }
    mdb_cursor_close(cursor);
    mdb_txn_abort(txn);
}

/* Reads every ack waiting on the socket (none is fine). */
static void sender_drain_acks(sender_t *s)
{
    unsigned char ack[ACK_SIZE];
    int size;
    while ((size = zmq_recv(s->socket, ack, sizeof ack, ZMQ_DONTWAIT)) >= 0) {
        if (size != ACK_SIZE || ack[0] != 'A')
            die("ack", "malformed");
        uint64_t applied = get_u64(ack + 1);
        if (applied > s->acked)
            s->acked = applied;
    }
    if (zmq_errno() != EAGAIN)
        check_zmq("receive ack", -1);
    while (s->flights > 0 && s->flight_last[s->flight_first] <= s->acked) {
        s->flight_first = (s->flight_first + 1) % WINDOW_MAX;
        s->flights--;
    }
}

static void sender_delete_acked(sender_t *s)
{
    if (s->deleted >= s->acked)
        return;
    MDB_txn *txn;
    check_lmdb("mdb_txn_begin", mdb_txn_begin(s->env, NULL, 0, &txn));
    for (uint64_t seq = s->deleted + 1; seq <= s->acked; seq++) {
        unsigned char key_bytes[8];
        put_u64(key_bytes, seq);
        MDB_val key = {.mv_size = sizeof key_bytes, .mv_data = key_bytes};
        check_lmdb("outbox delete", mdb_del(txn, s->dbi, &key, NULL));
    }
    check_lmdb("mdb_txn_commit (delete)", mdb_txn_commit(txn));
    s->deleted = s->acked;
}

/* ---- sockets ---- */

static void set_option(void *socket, int option, const void *value, size_t size, const char *name)
{
    check_zmq(name, zmq_setsockopt(socket, option, value, size));
}

static void *curve_dealer(void *context, const options_t *o)
{
    void *dealer = zmq_socket(context, ZMQ_DEALER);
    if (!dealer)
        check_zmq("zmq_socket", -1);
    int zero = 0;
    set_option(dealer, ZMQ_LINGER, &zero, sizeof zero, "LINGER");
    set_option(dealer, ZMQ_CURVE_SERVERKEY, o->server_key, 40, "CURVE_SERVERKEY");
    set_option(dealer, ZMQ_CURVE_PUBLICKEY, o->public_key, 40, "CURVE_PUBLICKEY");
    set_option(dealer, ZMQ_CURVE_SECRETKEY, o->secret, 40, "CURVE_SECRETKEY");
    check_zmq(o->upstream, zmq_connect(dealer, o->upstream));
    return dealer;
}

/* Binds a CURVE server ROUTER to a free loopback port and tells the parent where, on stdout. */
static void *curve_router(void *context, const options_t *o)
{
    void *router = zmq_socket(context, ZMQ_ROUTER);
    if (!router)
        check_zmq("zmq_socket", -1);
    int zero = 0, one = 1;
    set_option(router, ZMQ_LINGER, &zero, sizeof zero, "LINGER");
    set_option(router, ZMQ_CURVE_SERVER, &one, sizeof one, "CURVE_SERVER");
    set_option(router, ZMQ_CURVE_SECRETKEY, o->secret, 40, "CURVE_SECRETKEY");
    check_zmq("bind", zmq_bind(router, "tcp://127.0.0.1:*"));
    char endpoint[256];
    size_t endpoint_size = sizeof endpoint;
    check_zmq("ZMQ_LAST_ENDPOINT",
              zmq_getsockopt(router, ZMQ_LAST_ENDPOINT, endpoint, &endpoint_size));
    printf("ready %s\n", endpoint);
    fflush(stdout);
    return router;
}

/* ---- receiving: up to F waiting frames, one fsync'd txn, then acks ---- */

typedef struct {
    MDB_env *env;
    MDB_dbi store;   /* by id */
    MDB_dbi outbox;  /* hub only: by own sequence number */
    sender_t *up;    /* hub only: the outbox's sender (its head grows here) */
    uint64_t expect; /* next seq expected from the one child */
    long frames_per_commit;
} receiver_t;

typedef struct {
    char id[256];
    size_t id_size;
    uint64_t last;
} from_t;

static void receive_apply_ack(receiver_t *r, void *router)
{
    zmq_msg_t frames[FRAMES_PER_COMMIT_MAX];
    from_t from[FRAMES_PER_COMMIT_MAX];
    long n = 0;
    while (n < r->frames_per_commit) {
        int id_size = zmq_recv(router, from[n].id, sizeof from[n].id, n ? ZMQ_DONTWAIT : 0);
        if (id_size < 0 && zmq_errno() == EAGAIN)
            break;
        check_zmq("receive routing id", id_size);
        if ((size_t)id_size > sizeof from[n].id)
            die("receive", "routing id too long");
        from[n].id_size = (size_t)id_size;
        zmq_msg_init(&frames[n]);
        check_zmq("receive batch", zmq_msg_recv(&frames[n], router, 0));
        n++;
    }

    MDB_txn *txn;
    check_lmdb("mdb_txn_begin", mdb_txn_begin(r->env, NULL, 0, &txn));
    for (long f = 0; f < n; f++) {
        const unsigned char *p = zmq_msg_data(&frames[f]);
        size_t left = zmq_msg_size(&frames[f]);
        if (left < FRAME_HEADER || p[0] != 'B' || get_u64(p + 1) != r->expect)
            die("batch", "malformed or out of sequence");
        uint32_t items = get_u32(p + 9);
        p += FRAME_HEADER;
        left -= FRAME_HEADER;
        for (uint32_t i = 0; i < items; i++) {
            if (left < ITEM_HEADER)
                die("batch", "truncated");
            uint32_t size = get_u32(p);
            if (size < ID_SIZE || left - ITEM_HEADER < size)
                die("batch", "truncated item");
            MDB_val id = {.mv_size = ID_SIZE, .mv_data = (void *)(p + ITEM_HEADER)};
            MDB_val value = {.mv_size = size, .mv_data = (void *)(p + ITEM_HEADER)};
            check_lmdb("store put", mdb_put(txn, r->store, &id, &value, 0));
            if (r->up) {
                unsigned char seq_bytes[8];
                put_u64(seq_bytes, ++r->up->head);
                MDB_val seq = {.mv_size = sizeof seq_bytes, .mv_data = seq_bytes};
                check_lmdb("outbox put", mdb_put(txn, r->outbox, &seq, &value, 0));
            }
            p += ITEM_HEADER + size;
            left -= ITEM_HEADER + size;
        }
        r->expect += items;
        from[f].last = r->expect - 1;
    }
    int rc = mdb_txn_commit(txn); /* fsync'd: default env flags */
    check_lmdb("mdb_txn_commit", rc);

    /* One cumulative ack per child and commit: the last frame from each routing id. */
    for (long f = 0; f < n; f++) {
        bool later = false;
        for (long g = f + 1; g < n; g++)
            later = later || (from[g].id_size == from[f].id_size &&
                              !memcmp(from[g].id, from[f].id, from[f].id_size));
        if (!later) {
            unsigned char ack[ACK_SIZE];
            ack[0] = 'A';
            put_u64(ack + 1, from[f].last);
            check_zmq("send ack id", zmq_send(router, from[f].id, from[f].id_size, ZMQ_SNDMORE));
            check_zmq("send ack", zmq_send(router, ack, sizeof ack, 0));
        }
        zmq_msg_close(&frames[f]);
    }
}

/* ---- the three roles ---- */

static int run_county(const options_t *o)
{
    MDB_env *env = env_open(o->env, map_size_for(o->count, o->size), 0);
    void *context = zmq_ctx_new();
    sender_t s = {.env = env,
                  .dbi = dbi_open(env, "outbox", 0, 0),
                  .socket = curve_dealer(context, o),
                  .batch = o->batch,
                  .window = o->window,
                  .head = (uint64_t)o->count,
                  .next_send = 1};
    while (s.acked < s.head) {
        sender_pump(&s);
        zmq_pollitem_t item = {.socket = s.socket, .events = ZMQ_POLLIN};
        check_zmq("zmq_poll", zmq_poll(&item, 1, -1));
        sender_drain_acks(&s);
        sender_pump(&s); /* refill the window before paying for the delete's fsync */
        sender_delete_acked(&s);
    }
    zmq_close(s.socket);
    zmq_ctx_term(context);
    mdb_env_close(env);
    return 0;
}

/* Runs until the driver sends SIGTERM. */
static _Noreturn void run_hub(const options_t *o)
{
    MDB_env *env = env_open(o->env, map_size_for(o->count, o->size), 0);
    void *context = zmq_ctx_new();
    sender_t up = {.env = env,
                   .dbi = dbi_open(env, "outbox", 0, MDB_CREATE),
                   .socket = curve_dealer(context, o),
                   .batch = o->batch,
                   .window = o->window,
                   .next_send = 1};
    receiver_t r = {.env = env,
                    .store = dbi_open(env, "store", 0, MDB_CREATE),
                    .outbox = up.dbi,
                    .up = &up,
                    .expect = 1,
                    .frames_per_commit = o->frames_per_commit};
    void *router = curve_router(context, o);
    for (;;) {
        zmq_pollitem_t items[2] = {{.socket = router, .events = ZMQ_POLLIN},
                                   {.socket = up.socket, .events = ZMQ_POLLIN}};
        check_zmq("zmq_poll", zmq_poll(items, 2, -1));
        if (items[0].revents & ZMQ_POLLIN)
            receive_apply_ack(&r, router);
        if (items[1].revents & ZMQ_POLLIN)
            sender_drain_acks(&up);
        sender_pump(&up);
        sender_delete_acked(&up);
    }
}

static _Noreturn void run_province(const options_t *o)
{
    MDB_env *env = env_open(o->env, map_size_for(o->count, o->size), 0);
    void *context = zmq_ctx_new();
    receiver_t r = {.env = env,
                    .store = dbi_open(env, "reports", 0, MDB_CREATE),
                    .expect = 1,
                    .frames_per_commit = o->frames_per_commit};
    void *router = curve_router(context, o);
    for (;;)
        receive_apply_ack(&r, router);
}

/* ---- the driver ---- */

typedef struct {
    pid_t pid;
    const char *role;
} child_t;

/* Re-executes this program as ROLE with its stdout on a pipe; returns the endpoint it bound
 * (empty for the county, which binds nothing and says nothing). */
static child_t spawn(const options_t *o, const char *role, const char *env, const char *secret,
                     const char *public_key, const char *server_key, const char *upstream,
                     char *endpoint, size_t endpoint_size)
{
    char count[32], size[32], batch[32], window[32], frames[32];
    snprintf(count, sizeof count, "%ld", o->count);
    snprintf(size, sizeof size, "%ld", o->size);
    snprintf(batch, sizeof batch, "%ld", o->batch);
    snprintf(window, sizeof window, "%ld", o->window);
    snprintf(frames, sizeof frames, "%ld", o->frames_per_commit);
    char *argv[32];
    int argc = 0;
    argv[argc++] = (char *)program;
#define ARG(name, value)                                                                           \
    do {                                                                                           \
        const char *given = (value);                                                               \
        if (given) {                                                                               \
            argv[argc++] = name;                                                                   \
            argv[argc++] = (char *)given;                                                          \
        }                                                                                          \
    } while (0)
    ARG("--role", role);
    ARG("--env", env);
    ARG("--count", count);
    ARG("--size", size);
    ARG("--batch", batch);
    ARG("--window", window);
    ARG("--frames-per-commit", frames);
    ARG("--secret", secret);
    ARG("--public", public_key);
    ARG("--server-key", server_key);
    ARG("--upstream", upstream);
#undef ARG
    argv[argc] = NULL;

    int out[2];
    if (pipe(out) < 0)
        die("pipe", strerror(errno));
    pid_t parent = getpid();
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        die("fork", strerror(errno));
    if (pid == 0) {
        /* Gone with the driver, however it ends. */
        if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
            _exit(1);
        dup2(out[1], STDOUT_FILENO);
        close(out[0]);
        close(out[1]);
        execv("/proc/self/exe", argv);
        fprintf(stderr, "%s: exec: %s\n", program, strerror(errno));
        _exit(127);
    }
    close(out[1]);
    endpoint[0] = '\0';
    if (strcmp(role, "county") != 0) {
        char line[300];
        size_t used = 0;
        while (used + 1 < sizeof line) {
            ssize_t got = read(out[0], line + used, 1);
            if (got < 0 && errno == EINTR)
                continue;
            if (got <= 0 || line[used] == '\n')
                break;
            used++;
        }
        line[used] = '\0';
        if (strncmp(line, "ready ", 6) != 0 || strlen(line + 6) >= endpoint_size)
            die(role, "did not start");
        strcpy(endpoint, line + 6);
    }
    close(out[0]);
    return (child_t){.pid = pid, .role = role};
}

/* A child that ended early: the county may end once all is acked, with status 0. */
static const char *child_failed(child_t *children, int n)
{
    for (int i = 0; i < n; i++) {
        int status;
        pid_t done = waitpid(children[i].pid, &status, WNOHANG);
        if (done == children[i].pid) {
            children[i].pid = -1; /* reaped: not to be signalled or waited for again */
            if (strcmp(children[i].role, "county") != 0 || !WIFEXITED(status) ||
                WEXITSTATUS(status) != 0)
                return children[i].role;
        }
    }
    return NULL;
}

static void fill_county(const options_t *o, const char *path)
{
    MDB_env *env = env_open(path, map_size_for(o->count, o->size), 0);
    MDB_dbi dbi = dbi_open(env, "outbox", 0, MDB_CREATE);
    unsigned char *value_bytes = malloc((size_t)o->size);
    if (!value_bytes)
        die("malloc", strerror(errno));
    memset(value_bytes, 'r', (size_t)o->size);
    for (long done = 0; done < o->count;) {
        MDB_txn *txn;
        check_lmdb("mdb_txn_begin", mdb_txn_begin(env, NULL, 0, &txn));
        for (long k = 0; k < FILL_PER_TXN && done < o->count; k++) {
            done++;
            unsigned char key_bytes[8];
            put_u64(key_bytes, (uint64_t)done);
            put_u64(value_bytes, (uint64_t)done); /* the report's id */
            MDB_val key = {.mv_size = sizeof key_bytes, .mv_data = key_bytes};
            MDB_val value = {.mv_size = (size_t)o->size, .mv_data = value_bytes};
            check_lmdb("fill put", mdb_put(txn, dbi, &key, &value, 0));
        }
        check_lmdb("fill commit", mdb_txn_commit(txn));
    }
    free(value_bytes);
    mdb_env_close(env);
}

static int run_driver(const options_t *o)
{
    char root[4096];
    if (snprintf(root, sizeof root, "%s/bench_model.XXXXXX", o->dir) >= (int)sizeof root ||
        !mkdtemp(root))
        die("mkdtemp", strerror(errno));
    char county_dir[4200], hub_dir[4200], province_dir[4200];
    snprintf(county_dir, sizeof county_dir, "%s/county", root);
    snprintf(hub_dir, sizeof hub_dir, "%s/hub", root);
    snprintf(province_dir, sizeof province_dir, "%s/province", root);
    if (mkdir(county_dir, 0700) < 0 || mkdir(hub_dir, 0700) < 0 || mkdir(province_dir, 0700) < 0)
        die("mkdir", strerror(errno));

    /* The hub uses one key pair as the county's server and as the province's client. */
    char province_public[41], province_secret[41], hub_public[41], hub_secret[41];
    char county_public[41], county_secret[41];
    if (zmq_curve_keypair(province_public, province_secret) < 0 ||
        zmq_curve_keypair(hub_public, hub_secret) < 0 ||
        zmq_curve_keypair(county_public, county_secret) < 0)
        die("zmq_curve_keypair", zmq_strerror(zmq_errno()));

    fill_county(o, county_dir); /* before any process or clock starts */

    child_t children[3];
    int n = 0;
    char province_endpoint[256], hub_endpoint[256], none[8];
    children[n++] = spawn(o, "province", province_dir, province_secret, NULL, NULL, NULL,
                          province_endpoint, sizeof province_endpoint);
    children[n++] = spawn(o, "hub", hub_dir, hub_secret, hub_public, province_public,
                          province_endpoint, hub_endpoint, sizeof hub_endpoint);
    children[n++] = spawn(o, "county", county_dir, county_secret, county_public, hub_public,
                          hub_endpoint, none, sizeof none);

    /* The province created its reports DB before it said "ready". */
    MDB_env *province = env_open(province_dir, map_size_for(o->count, o->size), MDB_RDONLY);
    MDB_dbi reports = dbi_open(province, "reports", MDB_RDONLY, 0);
    long count = 0, first_count = 0;
    int64_t first = 0, t = 0, deadline = now_ms() + DEADLINE_MS;
    const char *failed = NULL;
    while (count < o->count) {
        MDB_txn *txn;
        MDB_stat stat;
        check_lmdb("mdb_txn_begin (poll)", mdb_txn_begin(province, NULL, MDB_RDONLY, &txn));
        check_lmdb("mdb_stat", mdb_stat(txn, reports, &stat));
        mdb_txn_abort(txn);
        count = (long)stat.ms_entries;
        t = now_ms();
        if (first == 0 && count > 0) {
            first = t;
            first_count = count;
        }
        if (count >= o->count)
            break;
        if ((failed = child_failed(children, n)) != NULL || t >= deadline)
            break;
        nanosleep(&(struct timespec){.tv_nsec = POLL_MS * 1000000L}, NULL);
    }
    mdb_env_close(province);
    for (int i = 0; i < n; i++)
        if (children[i].pid > 0)
            kill(children[i].pid, SIGTERM);
    for (int i = 0; i < n; i++)
        if (children[i].pid > 0)
            waitpid(children[i].pid, NULL, 0);
    remove_env_dir(county_dir);
    remove_env_dir(hub_dir);
    remove_env_dir(province_dir);
    rmdir(root);
    if (failed) {
        fprintf(stderr, "%s: the %s ended early, at %ld of %ld\n", program, failed, count,
                o->count);
        return 1;
    }
    if (count < o->count) {
        fprintf(stderr, "%s: timed out at %ld of %ld\n", program, count, o->count);
        return 1;
    }
    int64_t elapsed = t - first;
    if (elapsed <= 0)
        elapsed = 1;
    printf("model_end_to_end_reports_per_s %lld\n",
           (long long)((o->count - first_count) * 1000 / elapsed));
    return 0;
}

static int parse_long(const char *text, long minimum, long maximum, long *value)
{
    char *end;
    errno = 0;
    long parsed = strtol(text, &end, 10);
    if (errno || end == text || *end || parsed < minimum || parsed > maximum)
        return -1;
    *value = parsed;
    return 0;
}

static int parse_options(int argc, char **argv, options_t *o)
{
    const char *tmpdir = getenv("TMPDIR");
    *o = (options_t){.count = 200000,
                     .size = 1024,
                     .batch = 64,
                     .window = 16,
                     .frames_per_commit = 1,
                     .dir = tmpdir && *tmpdir ? tmpdir : "/var/tmp"};
    for (int i = 1; i < argc; i++) {
        const char *name = argv[i];
        if (i + 1 >= argc)
            return -1;
        const char *value = argv[++i];
        int rc = 0;
        if (!strcmp(name, "--count"))
            rc = parse_long(value, 1, 1000000000L, &o->count);
        else if (!strcmp(name, "--size"))
            rc = parse_long(value, ID_SIZE, 1L << 20, &o->size);
        else if (!strcmp(name, "--batch"))
            rc = parse_long(value, 1, BATCH_MAX, &o->batch);
        else if (!strcmp(name, "--window"))
            rc = parse_long(value, 1, WINDOW_MAX, &o->window);
        else if (!strcmp(name, "--frames-per-commit"))
            rc = parse_long(value, 1, FRAMES_PER_COMMIT_MAX, &o->frames_per_commit);
        else if (!strcmp(name, "--dir"))
            o->dir = value;
        else if (!strcmp(name, "--role"))
            o->role = value;
        else if (!strcmp(name, "--env"))
            o->env = value;
        else if (!strcmp(name, "--secret"))
            o->secret = value;
        else if (!strcmp(name, "--public"))
            o->public_key = value;
        else if (!strcmp(name, "--server-key"))
            o->server_key = value;
        else if (!strcmp(name, "--upstream"))
            o->upstream = value;
        else
            rc = -1;
        if (rc < 0)
            return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    options_t o;
    if (parse_options(argc, argv, &o) < 0) {
        fprintf(stderr, "usage: bench_model [--count N] [--size S] [--batch B] [--window W] "
                        "[--frames-per-commit F] [--dir D]\n");
        return 2;
    }
    if (!o.role)
        return run_driver(&o);
    bool keys = o.env && o.secret;
    bool client = o.public_key && o.server_key && o.upstream;
    if (!strcmp(o.role, "county") && keys && client) {
        program = "bench_model county";
        return run_county(&o);
    }
    if (!strcmp(o.role, "hub") && keys && client) {
        program = "bench_model hub";
        run_hub(&o);
    }
    if (!strcmp(o.role, "province") && keys) {
        program = "bench_model province";
        run_province(&o);
    }
    fprintf(stderr, "bench_model: bad --role arguments\n");
    return 2;
}
