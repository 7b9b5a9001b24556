/*
 * bench_raw — the raw rates our durable link is compared against, measured in one run.
 *
 *   ./scripts/build.sh build && build/bin/bench_raw [--count N] [--size S] [--batch B]
 *                                  [--single-count M] [--dir D] [--json]
 *
 * (a) raw_curve_msgs_per_s: ZeroMQ DEALER → ROUTER over tcp://127.0.0.1 with CURVE, N messages
 *     of S bytes (default 200000 × 1024), from the first send to the last receive; the receiver
 *     thread answers "done" so the sender knows the count arrived. The CURVE handshake is done
 *     (one ping/pong) before the clock starts. No ZAP handler, so any client key is accepted:
 *     right for a benchmark, never for a server (dependency-traps.md A1).
 * (b) raw_lmdb_batched_puts_per_s: N puts of S-byte values, B puts per txn (default 1000),
 *     default env flags, so every commit is fsync'd; fresh env, 1 GiB map (more if N × S needs it).
 * (c) raw_lmdb_single_puts_per_s: M puts (default 2000), one fsync'd txn each; M = 0 skips it.
 * Envs live in a fresh mkdtemp() under D (default $TMPDIR or /tmp), removed at the end. A tmpfs
 * there makes fsync free and (b)/(c) meaningless.
 * Plain output is one "name value" line per figure; --json prints one JSON object.
 */
#include <errno.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

typedef struct {
    long count;
    long size;
    long batch;
    long single_count;
    const char *dir;
    bool json;
} options_t;

/* Shared with the receiver thread; written by it before it sends "done". */
typedef struct {
    void *router;
    long count;
    long size;
    double last_receive;
    int error;
} receiver_t;

static double now_seconds(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
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

static int parse_options(int argc, char **argv, options_t *options)
{
    const char *tmpdir = getenv("TMPDIR");
    *options = (options_t){.count = 200000,
                           .size = 1024,
                           .batch = 1000,
                           .single_count = 2000,
                           .dir = tmpdir && *tmpdir ? tmpdir : "/tmp"};
    for (int i = 1; i < argc; i++) {
        const char *name = argv[i];
        if (!strcmp(name, "--json")) {
            options->json = true;
            continue;
        }
        if (i + 1 >= argc)
            return -1;
        const char *value = argv[++i];
        int rc = 0;
        if (!strcmp(name, "--count"))
            rc = parse_long(value, 1, 1000000000L, &options->count);
        else if (!strcmp(name, "--size"))
            rc = parse_long(value, 1, 64L * 1024 * 1024, &options->size);
        else if (!strcmp(name, "--batch"))
            rc = parse_long(value, 1, 1000000000L, &options->batch);
        else if (!strcmp(name, "--single-count"))
            rc = parse_long(value, 0, 1000000000L, &options->single_count);
        else if (!strcmp(name, "--dir"))
            options->dir = value;
        else
            rc = -1;
        if (rc < 0)
            return -1;
    }
    return 0;
}

static void *receive_all(void *arg)
{
    receiver_t *receiver = arg;
    char routing_id[256];
    zmq_msg_t message;
    zmq_msg_init(&message);
    for (long i = 0; i < receiver->count; i++) {
        if (zmq_recv(receiver->router, routing_id, sizeof routing_id, 0) < 0 ||
            zmq_msg_recv(&message, receiver->router, 0) < 0) {
            receiver->error = zmq_errno();
            break;
        }
        if ((long)zmq_msg_size(&message) != receiver->size) {
            receiver->error = EPROTO;
            break;
        }
    }
    receiver->last_receive = now_seconds();
    zmq_msg_close(&message);
    return NULL;
}

/* One routing-id + payload exchange on the ROUTER side; returns the id length or -1. */
static int router_ping_pong(void *router, char *routing_id, size_t id_capacity)
{
    char payload[16];
    int id_size = zmq_recv(router, routing_id, id_capacity, 0);
    if (id_size < 0 || (size_t)id_size > id_capacity ||
        zmq_recv(router, payload, sizeof payload, 0) < 0)
        return -1;
    if (zmq_send(router, routing_id, (size_t)id_size, ZMQ_SNDMORE) < 0 ||
        zmq_send(router, "pong", 4, 0) < 0)
        return -1;
    return id_size;
}

static int set_option(void *socket, int option, const void *value, size_t length, const char *name)
{
    if (zmq_setsockopt(socket, option, value, length) == 0)
        return 0;
    fprintf(stderr, "bench_raw: zmq_setsockopt %s: %s\n", name, zmq_strerror(zmq_errno()));
    return -1;
}

static int bench_curve(const options_t *options, double *rate)
{
    char server_public[41], server_secret[41], client_public[41], client_secret[41];
    if (zmq_curve_keypair(server_public, server_secret) < 0 ||
        zmq_curve_keypair(client_public, client_secret) < 0) {
        fprintf(stderr, "bench_raw: zmq_curve_keypair: %s (libzmq without CURVE?)\n",
                zmq_strerror(zmq_errno()));
        return -1;
    }
    int status = -1;
    char *payload = NULL;
    void *context = zmq_ctx_new();
    void *router = zmq_socket(context, ZMQ_ROUTER);
    void *dealer = zmq_socket(context, ZMQ_DEALER);
    if (!router || !dealer)
        goto out;
    int zero = 0, one = 1;
    /* Security options apply only to later bind/connect calls: set them all first. */
    if (set_option(router, ZMQ_LINGER, &zero, sizeof zero, "LINGER") < 0 ||
        set_option(router, ZMQ_CURVE_SERVER, &one, sizeof one, "CURVE_SERVER") < 0 ||
        set_option(router, ZMQ_CURVE_SECRETKEY, server_secret, 40, "CURVE_SECRETKEY") < 0 ||
        set_option(dealer, ZMQ_LINGER, &zero, sizeof zero, "LINGER") < 0 ||
        set_option(dealer, ZMQ_CURVE_SERVERKEY, server_public, 40, "CURVE_SERVERKEY") < 0 ||
        set_option(dealer, ZMQ_CURVE_PUBLICKEY, client_public, 40, "CURVE_PUBLICKEY") < 0 ||
        set_option(dealer, ZMQ_CURVE_SECRETKEY, client_secret, 40, "CURVE_SECRETKEY") < 0)
        goto out;
    char endpoint[256];
    size_t endpoint_size = sizeof endpoint;
    if (zmq_bind(router, "tcp://127.0.0.1:*") < 0 ||
        zmq_getsockopt(router, ZMQ_LAST_ENDPOINT, endpoint, &endpoint_size) < 0 ||
        zmq_connect(dealer, endpoint) < 0) {
        fprintf(stderr, "bench_raw: bind/connect: %s\n", zmq_strerror(zmq_errno()));
        goto out;
    }

    /* Handshake and routing before timing: ping from the dealer, pong from the router. */
    char routing_id[256], pong[16];
    int routing_id_size = -1;
    if (zmq_send(dealer, "ping", 4, 0) < 0 ||
        (routing_id_size = router_ping_pong(router, routing_id, sizeof routing_id)) < 0 ||
        zmq_recv(dealer, pong, sizeof pong, 0) < 0) {
        fprintf(stderr, "bench_raw: CURVE warm-up failed: %s\n", zmq_strerror(zmq_errno()));
        goto out;
    }

    payload = malloc((size_t)options->size);
    if (!payload)
        goto out;
    memset(payload, 'r', (size_t)options->size);
    /* The router moves to the receiver thread; pthread_create is the memory barrier libzmq
     * requires when a socket changes threads. */
    receiver_t receiver = {.router = router, .count = options->count, .size = options->size};
    pthread_t thread;
    if (pthread_create(&thread, NULL, receive_all, &receiver) != 0) {
        fprintf(stderr, "bench_raw: pthread_create failed\n");
        goto out;
    }
    double first_send = now_seconds();
    int send_error = 0;
    for (long i = 0; i < options->count; i++) {
        if (zmq_send(dealer, payload, (size_t)options->size, 0) < 0) {
            send_error = zmq_errno();
            break;
        }
    }
    pthread_join(thread, NULL);
    if (send_error || receiver.error) {
        fprintf(stderr, "bench_raw: CURVE transfer failed: %s\n",
                zmq_strerror(send_error ? send_error : receiver.error));
        goto out;
    }
    /* Completion acknowledged by the receiver, back over the same link. */
    if (zmq_send(router, routing_id, (size_t)routing_id_size, ZMQ_SNDMORE) < 0 ||
        zmq_send(router, "done", 4, 0) < 0 || zmq_recv(dealer, pong, sizeof pong, 0) != 4 ||
        memcmp(pong, "done", 4) != 0) {
        fprintf(stderr, "bench_raw: completion ack failed: %s\n", zmq_strerror(zmq_errno()));
        goto out;
    }
    *rate = (double)options->count / (receiver.last_receive - first_send);
    status = 0;
out:
    free(payload);
    if (dealer)
        zmq_close(dealer);
    if (router)
        zmq_close(router);
    zmq_ctx_term(context);
    return status;
}

static int lmdb_failed(const char *what, int rc)
{
    fprintf(stderr, "bench_raw: %s: %s\n", what, mdb_strerror(rc));
    return -1;
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

/* count puts of size-byte values, per_txn puts per fully synced commit, in a fresh env. */
static int bench_lmdb(const char *root, const char *name, long count, long size, long per_txn,
                      double *rate)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", root, name);
    if (mkdir(path, 0700) < 0) {
        fprintf(stderr, "bench_raw: mkdir %s: %s\n", path, strerror(errno));
        return -1;
    }
    int status = -1;
    char *value_bytes = malloc((size_t)size);
    MDB_env *env = NULL;
    MDB_txn *txn = NULL;
    MDB_dbi dbi;
    int rc;
    if (!value_bytes)
        goto out;
    memset(value_bytes, 'v', (size_t)size);
    /* Values take about their size plus node and page overhead; overflow pages round up. */
    size_t needed = (size_t)count * ((size_t)size + 4096) + ((size_t)64 << 20);
    size_t map_size = (size_t)1 << 30;
    if (needed > map_size)
        map_size = needed;
    if ((rc = mdb_env_create(&env)) != 0) {
        env = NULL;
        status = lmdb_failed("mdb_env_create", rc);
        goto out;
    }
    if ((rc = mdb_env_set_mapsize(env, map_size)) != 0 ||
        (rc = mdb_env_open(env, path, 0, 0600)) != 0) {
        status = lmdb_failed("mdb_env_open", rc);
        goto out;
    }
    if ((rc = mdb_txn_begin(env, NULL, 0, &txn)) != 0 ||
        (rc = mdb_dbi_open(txn, NULL, 0, &dbi)) != 0 || (rc = mdb_txn_commit(txn)) != 0) {
        txn = NULL;
        status = lmdb_failed("mdb_dbi_open", rc);
        goto out;
    }
    txn = NULL;

    double start = now_seconds();
    for (long done = 0; done < count;) {
        if ((rc = mdb_txn_begin(env, NULL, 0, &txn)) != 0) {
            txn = NULL;
            status = lmdb_failed("mdb_txn_begin", rc);
            goto out;
        }
        for (long k = 0; k < per_txn && done < count; k++, done++) {
            /* Big-endian sequence keys: memcmp order is numeric order, like a queue. */
            unsigned char key_bytes[8];
            for (int b = 0; b < 8; b++)
                key_bytes[b] = (unsigned char)((uint64_t)done >> (56 - 8 * b));
            MDB_val key = {.mv_size = sizeof key_bytes, .mv_data = key_bytes};
            MDB_val value = {.mv_size = (size_t)size, .mv_data = value_bytes};
            if ((rc = mdb_put(txn, dbi, &key, &value, 0)) != 0) {
                status = lmdb_failed("mdb_put", rc);
                goto out;
            }
        }
        rc = mdb_txn_commit(txn);
        txn = NULL;
        if (rc != 0) {
            status = lmdb_failed("mdb_txn_commit", rc);
            goto out;
        }
    }
    *rate = (double)count / (now_seconds() - start);
    status = 0;
out:
    if (txn)
        mdb_txn_abort(txn);
    if (env)
        mdb_env_close(env);
    free(value_bytes);
    remove_env_dir(path);
    return status;
}

int main(int argc, char **argv)
{
    options_t options;
    if (parse_options(argc, argv, &options) < 0) {
        fprintf(stderr, "usage: bench_raw [--count N] [--size S] [--batch B] [--single-count M] "
                        "[--dir D] [--json]\n");
        return 2;
    }
    double curve_rate = 0, batched_rate = 0, single_rate = 0;
    if (bench_curve(&options, &curve_rate) < 0)
        return 1;

    char root[4096];
    if (snprintf(root, sizeof root, "%s/bench_raw.XXXXXX", options.dir) >= (int)sizeof root ||
        !mkdtemp(root)) {
        fprintf(stderr, "bench_raw: mkdtemp under %s: %s\n", options.dir, strerror(errno));
        return 1;
    }
    int status = 0;
    if (bench_lmdb(root, "batched", options.count, options.size, options.batch, &batched_rate) < 0)
        status = 1;
    if (status == 0 && options.single_count > 0 &&
        bench_lmdb(root, "single", options.single_count, options.size, 1, &single_rate) < 0)
        status = 1;
    rmdir(root);
    if (status)
        return status;

    if (options.json) {
        printf("{\"count\": %ld, \"size\": %ld, \"batch\": %ld, \"single_count\": %ld, "
               "\"raw_curve_msgs_per_s\": %.0f, \"raw_lmdb_batched_puts_per_s\": %.0f",
               options.count, options.size, options.batch, options.single_count, curve_rate,
               batched_rate);
        if (options.single_count > 0)
            printf(", \"raw_lmdb_single_puts_per_s\": %.0f", single_rate);
        printf("}\n");
    } else {
        printf("raw_curve_msgs_per_s %.0f\n", curve_rate);
        printf("raw_lmdb_batched_puts_per_s %.0f\n", batched_rate);
        if (options.single_count > 0)
            printf("raw_lmdb_single_puts_per_s %.0f\n", single_rate);
    }
    return 0;
}
