/* The link protocol on real sockets: CURVE on loopback, our ZAP handler, two
 * real LMDB stores. Both ends run in this process, driven by a small poll
 * loop, so each test can restart either end at a chosen moment. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <lmdb.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "base/error.h"
#include "base/stime.h"
#include "storage/outbox.h"
#include "storage/store.h"
#include "transport/codec.h"
#include "transport/keys.h"
#include "transport/link.h"
#include "transport/zap.h"

#define CHILD_CODE "530102"

typedef struct {
    char dir[64];
    void *ctx;
    store_t *parent_store, *child_store;
    keys_pair_t parent_keys, child_keys;
    zap_t *zap;
    link_server_t *server;
    link_client_t *client;
    char endpoint[128];
    /* what each side applied, counted per payload text */
    int parent_applied, child_applied, parent_duplicates, parent_refused;
    int refuse_every; /* parent refuses payloads whose number % this == 0 */
    int poison_every; /* parent fails (not systemic) on payloads whose number % this == 0 */
    int later_left;   /* parent defers (LINK_LATER) this many applications */
    int state_generation, child_resyncs, parent_resyncs;
} fixture_t;

/* The parent records each payload under its own text in DB_REPORTS, so a
 * second application of the same item would be seen. */
static int parent_apply(void *arg, MDB_txn *txn, const char *peer, const uint8_t *payload,
                        size_t len, char *why, size_t whysize)
{
    fixture_t *f = arg;
    assert_string_equal(peer, CHILD_CODE);
    MDB_val k = {strcspn((const char *)payload, " "), (void *)payload}, v = {1, "x"};
    (void)len;
    if (f->later_left > 0 && atoi((const char *)payload + 5) == 7) {
        f->later_left--;
        return LINK_LATER;
    }
    if (f->poison_every && atoi((const char *)payload + 5) % f->poison_every == 0) {
        /* Write, then fail as a bad item would (an empty LMDB key): the link
         * must drop this item's writes with it and keep the others. */
        MDB_val junk = {5, "junk!"}, empty = {0, ""};
        mdb_put(txn, store_dbi(f->parent_store, DB_REPORTS), &junk, &junk, 0);
        return store_error(mdb_put(txn, store_dbi(f->parent_store, DB_META), &empty, &junk, 0));
    }
    /* A refusing hook writes nothing (link.h); the test counts refusals. */
    if (f->refuse_every && atoi((const char *)payload + 5) % f->refuse_every == 0) {
        snprintf(why, whysize, "refused for the test");
        f->parent_refused++;
        return LINK_REFUSED;
    }
    int rc = mdb_put(txn, store_dbi(f->parent_store, DB_REPORTS), &k, &v, MDB_NOOVERWRITE);
    if (rc == MDB_KEYEXIST) {
        f->parent_duplicates++;
        return 0;
    }
    return rc ? store_error(rc) : 0;
}

static int child_apply(void *arg, MDB_txn *txn, const char *peer, const uint8_t *payload,
                       size_t len, char *why, size_t whysize)
{
    fixture_t *f = arg;
    (void)why;
    (void)whysize;
    assert_string_equal(peer, "");
    MDB_val k = {strcspn((const char *)payload, " "), (void *)payload}, v = {1, "x"};
    (void)len;
    int rc = mdb_put(txn, store_dbi(f->child_store, DB_RETURNS), &k, &v, MDB_NOOVERWRITE);
    if (rc && rc != MDB_KEYEXIST)
        return store_error(rc);
    return 0;
}

/* The parent's "state" for a child: one item, queued at most once. */
static int parent_resync_child(void *arg, MDB_txn *txn, const char *peer)
{
    fixture_t *f = arg;
    char stream[OUTBOX_STREAM_MAX], item[64];
    link_down_stream(stream, sizeof stream, peer);
    int len = snprintf(item, sizeof item, "state-%d ", f->state_generation);
    f->child_resyncs++;
    return outbox_append_once(txn, f->parent_store, stream, item, (size_t)len, NULL);
}

/* The child's state: every item it ever queued up (kept in its DB_REPORTS). */
static int child_resync_parent(void *arg, MDB_txn *txn)
{
    fixture_t *f = arg;
    MDB_cursor *cursor;
    int rc = mdb_cursor_open(txn, store_dbi(f->child_store, DB_REPORTS), &cursor);
    if (rc)
        return store_error(rc);
    MDB_val k, v;
    f->parent_resyncs++;
    int result = 0;
    for (rc = mdb_cursor_get(cursor, &k, &v, MDB_FIRST); rc == 0 && result == 0;
         rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT)) {
        char payload[1024];
        memset(payload, 'r', sizeof payload);
        memcpy(payload, k.mv_data, k.mv_size);
        payload[k.mv_size] = ' ';
        result = outbox_append_once(txn, f->child_store, "up", payload, sizeof payload, NULL);
    }
    mdb_cursor_close(cursor);
    return result;
}

static bool parent_admit(void *arg, const char *code, const char *key_z85)
{
    fixture_t *f = arg;
    return zap_is_current(f->zap, code, key_z85);
}

static void start_server(fixture_t *f)
{
    link_hooks_t hooks = {.arg = f,
                          .apply = parent_apply,
                          .resync_child = parent_resync_child,
                          .admit = parent_admit};
    link_server_config_t config = {"530100", f->endpoint[0] ? f->endpoint : "tcp://127.0.0.1:*",
                                   f->parent_keys.secret_z85};
    sf_error_t error;
    /* A closed socket releases its port in libzmq's I/O thread, a moment
     * after zmq_close(): a restart on the same port retries briefly. */
    for (int attempt = 0; attempt < 100; attempt++) {
        f->server = link_server_new(f->ctx, f->parent_store, &config, &hooks, &error);
        if (f->server || error.code != SF_EEXIST)
            break;
        usleep(20000);
    }
    assert_non_null(f->server);
    snprintf(f->endpoint, sizeof f->endpoint, "%s", link_server_endpoint(f->server));
}

static void start_client(fixture_t *f, const keys_pair_t *keys)
{
    link_hooks_t hooks = {.arg = f, .apply = child_apply, .resync_parent = child_resync_parent};
    link_client_config_t config = {CHILD_CODE, f->endpoint, f->parent_keys.public_z85,
                                   keys->public_z85, keys->secret_z85};
    f->client = link_client_new(f->ctx, f->child_store, &config, &hooks, NULL);
    assert_non_null(f->client);
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/shifan-link-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    char path[128];
    snprintf(path, sizeof path, "%s/parent", f->dir);
    mkdir(path, 0700);
    f->parent_store = store_open(path, 0, NULL);
    snprintf(path, sizeof path, "%s/child", f->dir);
    mkdir(path, 0700);
    f->child_store = store_open(path, 0, NULL);
    assert_non_null(f->parent_store);
    assert_non_null(f->child_store);
    assert_int_equal(zmq_curve_keypair(f->parent_keys.public_z85, f->parent_keys.secret_z85), 0);
    assert_int_equal(zmq_curve_keypair(f->child_keys.public_z85, f->child_keys.secret_z85), 0);
    f->ctx = zmq_ctx_new();
    f->zap = zap_new(f->ctx, NULL);
    assert_non_null(f->zap);
    zap_entry_t entry;
    keys_decode(f->child_keys.public_z85, entry.key);
    snprintf(entry.code, sizeof entry.code, CHILD_CODE);
    zap_set_entries(f->zap, &entry, 1);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    link_client_destroy(&f->client);
    link_server_destroy(&f->server);
    zap_destroy(&f->zap);
    zmq_ctx_term(f->ctx);
    store_destroy(&f->parent_store);
    store_destroy(&f->child_store);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* Drives both ends for up to ms, or until done(f) is true. */
static void pump(fixture_t *f, int ms, bool (*done)(fixture_t *))
{
    int64_t end = stime_mono_ms() + ms;
    while (stime_mono_ms() < end) {
        zmq_pollitem_t items[4];
        int n = 0;
        items[n++] = (zmq_pollitem_t){zap_socket(f->zap), 0, ZMQ_POLLIN, 0};
        if (f->server)
            items[n++] = (zmq_pollitem_t){link_server_socket(f->server), 0, ZMQ_POLLIN, 0};
        if (f->client) {
            items[n++] = (zmq_pollitem_t){link_client_socket(f->client), 0, ZMQ_POLLIN, 0};
            items[n++] = (zmq_pollitem_t){link_client_monitor(f->client), 0, ZMQ_POLLIN, 0};
        }
        zmq_poll(items, n, 20);
        zap_handle(f->zap);
        if (f->server) {
            link_server_on_readable(f->server);
            link_server_tick(f->server);
        }
        if (f->client) {
            link_client_on_monitor(f->client);
            link_client_on_readable(f->client);
            link_client_tick(f->client);
        }
        if (done && done(f))
            return;
    }
}

struct append_arg {
    store_t *store;
    const char *stream;
    int first, count;
};

static int append_fn(MDB_txn *txn, void *arg)
{
    struct append_arg *a = arg;
    for (int i = a->first; i < a->first + a->count; i++) {
        char payload[1024];
        memset(payload, 'r', sizeof payload);
        int len = snprintf(payload, sizeof payload, "item-%d", i);
        payload[len] = ' ';
        int rc = outbox_append(txn, a->store, a->stream, payload, sizeof payload, NULL);
        if (rc)
            return rc;
        if (strcmp(a->stream, "up") == 0) { /* the child's own record of what it sent */
            MDB_val k = {(size_t)len, payload}, v = {1, "x"};
            if ((rc = store_error(mdb_put(txn, store_dbi(a->store, DB_REPORTS), &k, &v, 0))))
                return rc;
        }
    }
    return 0;
}

static void child_queue(fixture_t *f, int first, int count)
{
    struct append_arg arg = {f->child_store, "up", first, count};
    assert_int_equal(store_write(f->child_store, append_fn, &arg), 0);
}

static int total_expected;

static bool parent_has_all(fixture_t *f)
{
    return store_count(f->parent_store, DB_REPORTS) == (size_t)total_expected &&
           store_count(f->child_store, DB_OUTBOX) == 0;
}

static void items_arrive_once_and_outbox_empties(void **state)
{
    fixture_t *f = *state;
    start_server(f);
    start_client(f, &f->child_keys);
    child_queue(f, 0, 5000);
    total_expected = 5000;
    pump(f, 20000, parent_has_all);
    assert_int_equal(store_count(f->parent_store, DB_REPORTS), 5000);
    assert_int_equal(store_count(f->child_store, DB_OUTBOX), 0);
    assert_int_equal(f->parent_duplicates, 0);
    assert_int_equal(link_client_state(f->client), LINK_UP);
}

static void restarts_of_either_end_lose_and_duplicate_nothing(void **state)
{
    fixture_t *f = *state;
    start_server(f);
    start_client(f, &f->child_keys);
    total_expected = 0;
    for (int round = 0; round < 6; round++) {
        child_queue(f, round * 1000, 1000);
        total_expected += 1000;
        pump(f, 30 + round * 15, NULL); /* part-way through */
        if (round % 2 == 0) {
            link_server_destroy(&f->server); /* the parent goes away mid-window */
            pump(f, 50, NULL);
            start_server(f);
        } else {
            link_client_destroy(&f->client); /* the child restarts */
            start_client(f, &f->child_keys);
        }
    }
    pump(f, 30000, parent_has_all);
    assert_int_equal(store_count(f->parent_store, DB_REPORTS), (size_t)total_expected);
    assert_int_equal(store_count(f->child_store, DB_OUTBOX), 0);
    /* Resends happen, but none is applied twice: the link drops them by seq. */
    assert_int_equal(f->parent_duplicates, 0);
}

/* 300 items and the state queued at first contact (parent_resync_child). */
static bool child_has_down(fixture_t *f)
{
    return store_count(f->child_store, DB_RETURNS) == 301;
}

static void parent_sends_down_on_the_same_link(void **state)
{
    fixture_t *f = *state;
    start_server(f);
    start_client(f, &f->child_keys);
    char stream[OUTBOX_STREAM_MAX];
    link_down_stream(stream, sizeof stream, CHILD_CODE);
    struct append_arg arg = {f->parent_store, stream, 0, 300};
    assert_int_equal(store_write(f->parent_store, append_fn, &arg), 0);
    pump(f, 10000, child_has_down);
    assert_int_equal(store_count(f->child_store, DB_RETURNS), 301);
    pump(f, 300, NULL); /* let the child's ack land */
    assert_int_equal(store_count(f->parent_store, DB_OUTBOX), 0);
}

static bool client_refused(fixture_t *f)
{
    return link_client_state(f->client) == LINK_REFUSED_KEY;
}

static void unregistered_key_is_refused(void **state)
{
    fixture_t *f = *state;
    start_server(f);
    keys_pair_t stranger;
    assert_int_equal(zmq_curve_keypair(stranger.public_z85, stranger.secret_z85), 0);
    start_client(f, &stranger);
    child_queue(f, 0, 10);
    pump(f, 5000, client_refused);
    assert_int_equal(link_client_state(f->client), LINK_REFUSED_KEY);
    assert_int_equal(store_count(f->parent_store, DB_REPORTS), 0);
    assert_true(zap_refused(f->zap) >= 1);
    assert_int_equal(store_count(f->child_store, DB_OUTBOX), 10); /* kept for later */
}

static void refused_items_are_consumed_not_resent(void **state)
{
    fixture_t *f = *state;
    f->refuse_every = 10;
    start_server(f);
    start_client(f, &f->child_keys);
    child_queue(f, 1, 100);
    total_expected = 90;
    pump(f, 10000, parent_has_all);
    assert_int_equal(store_count(f->parent_store, DB_REPORTS), 90);
    assert_int_equal(store_count(f->child_store, DB_OUTBOX), 0);
    assert_int_equal(link_server_refused_items(f->server), 10);
    assert_int_equal(f->parent_refused, 10); /* each refused once, never resent after */
}

static void garbage_frames_are_dropped_and_counted(void **state)
{
    fixture_t *f = *state;
    start_server(f);
    /* A registered key that speaks garbage: the server must survive it. */
    void *raw = zmq_socket(f->ctx, ZMQ_DEALER);
    uint8_t server_key[32], pub[32], sec[32];
    keys_decode(f->parent_keys.public_z85, server_key);
    keys_decode(f->child_keys.public_z85, pub);
    keys_decode(f->child_keys.secret_z85, sec);
    zmq_setsockopt(raw, ZMQ_CURVE_SERVERKEY, server_key, 32);
    zmq_setsockopt(raw, ZMQ_CURVE_PUBLICKEY, pub, 32);
    zmq_setsockopt(raw, ZMQ_CURVE_SECRETKEY, sec, 32);
    int linger = 0;
    zmq_setsockopt(raw, ZMQ_LINGER, &linger, sizeof linger);
    assert_int_equal(zmq_connect(raw, f->endpoint), 0);
    srand(7);
    for (int i = 0; i < 200; i++) {
        uint8_t junk[300];
        size_t len = (size_t)(rand() % (int)sizeof junk);
        for (size_t j = 0; j < len; j++)
            junk[j] = (uint8_t)rand();
        zmq_send(raw, junk, len, 0);
        pump(f, 2, NULL);
    }
    zmq_send(raw, "", 0, 0); /* empty frame */
    pump(f, 300, NULL);
    zmq_close(raw);
    assert_true(link_server_dropped_frames(f->server) >= 150);
    /* ... and a proper child still gets through afterwards. */
    start_client(f, &f->child_keys);
    child_queue(f, 0, 50);
    total_expected = 50;
    pump(f, 10000, parent_has_all);
    assert_int_equal(store_count(f->parent_store, DB_REPORTS), 50);
}

static bool parent_has_new_items(fixture_t *f)
{
    return store_count(f->parent_store, DB_REPORTS) == (size_t)total_expected &&
           store_count(f->child_store, DB_OUTBOX) == 0;
}

static void reopen_child(fixture_t *f, const char *from)
{
    char cmd[512], path[128];
    link_client_destroy(&f->client);
    store_destroy(&f->child_store);
    snprintf(path, sizeof path, "%s/child", f->dir);
    if (from) {
        snprintf(cmd, sizeof cmd, "rm -rf %s && cp -a %s %s", path, from, path);
        assert_int_equal(system(cmd), 0);
    }
    f->child_store = store_open(path, 0, NULL);
    assert_non_null(f->child_store);
}

/* A backup of the child is taken after it queued items 0-4; then items 5-9
 * are delivered too (the parent has applied 10); then the child's disk dies
 * and the backup is put back. */
static void deliver_ten_then_restore_the_child(fixture_t *f)
{
    start_server(f);
    child_queue(f, 0, 5);
    char backup[128], cmd[256];
    snprintf(backup, sizeof backup, "%s/child-backup", f->dir);
    reopen_child(f, NULL);
    snprintf(cmd, sizeof cmd, "cp -a %s/child %s", f->dir, backup);
    assert_int_equal(system(cmd), 0);
    child_queue(f, 5, 5);
    start_client(f, &f->child_keys);
    total_expected = 10;
    pump(f, 10000, parent_has_all);
    assert_int_equal(store_count(f->parent_store, DB_REPORTS), 10);
    reopen_child(f, backup);
}

/* A child restored from a backup taken before its last deliveries reuses
 * sequence numbers the parent has applied: without a new epoch its new
 * items would be skipped as duplicates and deleted on the ack. */
static void a_child_restored_from_backup_loses_nothing_new(void **state)
{
    fixture_t *f = *state;
    deliver_ten_then_restore_the_child(f); /* the backup holds items 0-4, unsent */
    child_queue(f, 100, 3);                /* new reports after the restore */
    start_client(f, &f->child_keys);
    total_expected = 13;
    pump(f, 10000, parent_has_new_items);
    assert_int_equal(store_count(f->parent_store, DB_REPORTS), 13);
    assert_int_equal(store_count(f->child_store, DB_OUTBOX), 0);
    assert_int_equal(f->parent_duplicates, 5); /* items 0-4 again, under the new epoch */
}

/* 'allow' with a new key for the same unit: the old key's session, already
 * past its handshake, must not deliver anything more. */
static void a_replaced_key_loses_its_open_session(void **state)
{
    fixture_t *f = *state;
    start_server(f);
    start_client(f, &f->child_keys);
    child_queue(f, 0, 10);
    total_expected = 10;
    pump(f, 10000, parent_has_all);
    assert_int_equal(store_count(f->parent_store, DB_REPORTS), 10);

    keys_pair_t replacement;
    assert_int_equal(zmq_curve_keypair(replacement.public_z85, replacement.secret_z85), 0);
    zap_entry_t entry;
    keys_decode(replacement.public_z85, entry.key);
    snprintf(entry.code, sizeof entry.code, CHILD_CODE);
    zap_set_entries(f->zap, &entry, 1);

    child_queue(f, 10, 5);
    pump(f, 2000, NULL);
    assert_int_equal(store_count(f->parent_store, DB_REPORTS), 10);
    assert_int_equal(store_count(f->child_store, DB_OUTBOX), 5); /* kept, not lost */
    assert_true(link_server_dropped_frames(f->server) > 0);
    assert_int_equal(link_client_state(f->client), LINK_REFUSED_KEY);
}

/* The same, but the restored child queues so much before reconnecting that
 * its numbers pass the parent's position: only the digest of the parent's
 * last applied item shows that the two histories differ. */
static void a_restored_child_that_queued_past_the_parent_loses_nothing(void **state)
{
    fixture_t *f = *state;
    deliver_ten_then_restore_the_child(f);
    child_queue(f, 100, 12); /* seqs 6..17: past the parent's 10 */
    start_client(f, &f->child_keys);
    total_expected = 22;
    pump(f, 10000, parent_has_new_items);
    assert_int_equal(store_count(f->parent_store, DB_REPORTS), 22);
    assert_int_equal(store_count(f->child_store, DB_OUTBOX), 0);
}

static void reopen_parent(fixture_t *f, const char *from)
{
    char cmd[512], path[128];
    link_server_destroy(&f->server);
    store_destroy(&f->parent_store);
    snprintf(path, sizeof path, "%s/parent", f->dir);
    if (from) {
        snprintf(cmd, sizeof cmd, "rm -rf %s && cp -a %s %s", path, from, path);
        assert_int_equal(system(cmd), 0);
    }
    f->parent_store = store_open(path, 0, NULL);
    assert_non_null(f->parent_store);
}

static void backup(fixture_t *f, const char *which, const char *name)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "cp -a %s/%s %s/%s", f->dir, which, f->dir, name);
    assert_int_equal(system(cmd), 0);
}

/* Upward, the parent restored: it acknowledged items 5-9 after the backup
 * was taken, and the child deleted them. The child must queue them again. */
static void a_parent_restored_from_backup_gets_what_it_lost(void **state)
{
    fixture_t *f = *state;
    start_server(f);
    start_client(f, &f->child_keys);
    child_queue(f, 0, 5);
    total_expected = 5;
    pump(f, 10000, parent_has_all);
    reopen_parent(f, NULL);
    backup(f, "parent", "parent-backup");
    start_server(f);
    child_queue(f, 5, 5);
    total_expected = 10;
    pump(f, 10000, parent_has_all);
    assert_int_equal(store_count(f->parent_store, DB_REPORTS), 10);
    char path[128];
    snprintf(path, sizeof path, "%s/parent-backup", f->dir);
    reopen_parent(f, path); /* holds 0-4 only */
    assert_int_equal(store_count(f->parent_store, DB_REPORTS), 5);
    child_queue(f, 100, 3);
    start_server(f);
    total_expected = 13;
    pump(f, 15000, parent_has_new_items);
    assert_int_equal(store_count(f->parent_store, DB_REPORTS), 13);
    assert_int_equal(store_count(f->child_store, DB_OUTBOX), 0);
    assert_int_equal(f->parent_resyncs, 1);
    link_stats_t stats;
    link_client_stats(f->client, &stats);
    assert_int_equal(stats.resyncs, 1);
}

static bool child_has_count(fixture_t *f)
{
    return store_count(f->child_store, DB_RETURNS) == (size_t)total_expected &&
           store_count(f->parent_store, DB_OUTBOX) == 0;
}

static void parent_queue_down(fixture_t *f, int first, int count)
{
    char stream[OUTBOX_STREAM_MAX];
    link_down_stream(stream, sizeof stream, CHILD_CODE);
    struct append_arg arg = {f->parent_store, stream, first, count};
    assert_int_equal(store_write(f->parent_store, append_fn, &arg), 0);
}

/* Downward, the child restored: it acknowledged items the backup lacks; the
 * parent deleted them. The child must not wait for them forever: the parent
 * queues its state again, and what comes after arrives. */
static void a_child_restored_behind_the_parent_is_not_stalled(void **state)
{
    fixture_t *f = *state;
    start_server(f);
    start_client(f, &f->child_keys);
    parent_queue_down(f, 0, 2);
    total_expected = 3; /* items 0-1 and the state of first contact */
    pump(f, 10000, child_has_count);
    reopen_child(f, NULL);
    backup(f, "child", "child-backup");
    start_client(f, &f->child_keys);
    parent_queue_down(f, 2, 3);
    total_expected = 6;
    pump(f, 10000, child_has_count);
    assert_int_equal(store_count(f->child_store, DB_RETURNS), 6);
    char path[128];
    snprintf(path, sizeof path, "%s/child-backup", f->dir);
    reopen_child(f, path);   /* applied 0-1 and the state only */
    f->state_generation = 2; /* the state changed meanwhile */
    parent_queue_down(f, 10, 2);
    start_client(f, &f->child_keys);
    total_expected = 3 + 2 + 1; /* what it kept, the new items, the new state */
    pump(f, 10000, child_has_count);
    assert_int_equal(store_count(f->child_store, DB_RETURNS), 6);
    assert_int_equal(store_count(f->parent_store, DB_OUTBOX), 0);
}

/* Downward, the parent restored: it reuses numbers the child applied for
 * other items; it must restart its stream so the new items are not skipped. */
static void a_parent_restored_behind_the_child_restarts_its_stream(void **state)
{
    fixture_t *f = *state;
    start_server(f);
    start_client(f, &f->child_keys);
    parent_queue_down(f, 0, 2);
    total_expected = 3;
    pump(f, 10000, child_has_count);
    reopen_parent(f, NULL);
    backup(f, "parent", "parent-backup");
    start_server(f);
    parent_queue_down(f, 2, 3);
    total_expected = 6;
    pump(f, 10000, child_has_count);
    char path[128];
    snprintf(path, sizeof path, "%s/parent-backup", f->dir);
    link_client_destroy(&f->client);
    reopen_parent(f, path);
    parent_queue_down(f, 20, 4); /* take numbers the child applied for items 2-4 */
    start_server(f);
    start_client(f, &f->child_keys);
    total_expected = 10;
    pump(f, 10000, child_has_count);
    assert_int_equal(store_count(f->child_store, DB_RETURNS), 10);
    link_stats_t stats;
    link_server_stats(f->server, &stats);
    assert_int_equal(stats.restarts, 1);
}

/* One item whose apply fails for a reason of its own (a key LMDB refuses)
 * is refused alone; the rest of its batch and of the group commit through,
 * and its half-done writes are not kept. */
static void a_bad_item_is_refused_alone_not_with_its_commit(void **state)
{
    fixture_t *f = *state;
    f->poison_every = 25;
    start_server(f);
    start_client(f, &f->child_keys);
    child_queue(f, 1, 100);
    total_expected = 96;
    pump(f, 10000, parent_has_all);
    assert_int_equal(store_count(f->parent_store, DB_REPORTS), 96); /* no "junk!" kept */
    assert_int_equal(store_count(f->child_store, DB_OUTBOX), 0);
    assert_int_equal(link_server_refused_items(f->server), 4);
}

/* A hook that says "not now" is asked again later; nothing is refused. */
static void a_deferred_item_waits_and_arrives(void **state)
{
    fixture_t *f = *state;
    f->later_left = 2;
    start_server(f);
    start_client(f, &f->child_keys);
    child_queue(f, 1, 20);
    total_expected = 20;
    pump(f, 20000, parent_has_all);
    assert_int_equal(store_count(f->parent_store, DB_REPORTS), 20);
    assert_int_equal(f->later_left, 0);
    assert_int_equal(link_server_refused_items(f->server), 0);
}

/* A registered key that sends a Batch with no Hello on its connection has
 * no session: nothing is applied. Hellos with ever new downward epochs make
 * the parent queue its state once, not once per Hello. */
static void no_session_no_apply_and_hellos_queue_state_once(void **state)
{
    fixture_t *f = *state;
    start_server(f);
    void *raw = zmq_socket(f->ctx, ZMQ_DEALER);
    uint8_t server_key[32], pub[32], sec[32];
    keys_decode(f->parent_keys.public_z85, server_key);
    keys_decode(f->child_keys.public_z85, pub);
    keys_decode(f->child_keys.secret_z85, sec);
    zmq_setsockopt(raw, ZMQ_CURVE_SERVERKEY, server_key, 32);
    zmq_setsockopt(raw, ZMQ_CURVE_PUBLICKEY, pub, 32);
    zmq_setsockopt(raw, ZMQ_CURVE_SECRETKEY, sec, 32);
    int linger = 0;
    zmq_setsockopt(raw, ZMQ_LINGER, &linger, sizeof linger);
    assert_int_equal(zmq_connect(raw, f->endpoint), 0);
    char text[16] = "item-1 ";
    Shifan__Item item = SHIFAN__ITEM__INIT, *items[1] = {&item};
    item.seq = 1;
    item.payload.data = (uint8_t *)text;
    item.payload.len = sizeof text;
    Shifan__Batch batch = SHIFAN__BATCH__INIT;
    batch.epoch = 42;
    batch.n_items = 1;
    batch.items = items;
    Shifan__Envelope envelope = SHIFAN__ENVELOPE__INIT;
    envelope.version = CODEC_WIRE_VERSION;
    envelope.body_case = SHIFAN__ENVELOPE__BODY_BATCH;
    envelope.batch = &batch;
    uint8_t frame[256];
    size_t len = shifan__envelope__pack(&envelope, frame);
    for (int i = 0; i < 5; i++) {
        zmq_send(raw, frame, len, 0);
        pump(f, 50, NULL);
    }
    assert_int_equal(store_count(f->parent_store, DB_REPORTS), 0);
    assert_true(link_server_sessionless_frames(f->server) >= 1);
    for (int i = 0; i < 20; i++) {
        Shifan__Hello hello = SHIFAN__HELLO__INIT;
        hello.code = CHILD_CODE;
        hello.up_epoch = 7;
        hello.down_epoch = 1000 + (uint64_t)i; /* never the parent's */
        Shifan__Envelope env = SHIFAN__ENVELOPE__INIT;
        env.version = CODEC_WIRE_VERSION;
        env.body_case = SHIFAN__ENVELOPE__BODY_HELLO;
        env.hello = &hello;
        len = shifan__envelope__pack(&env, frame);
        zmq_send(raw, frame, len, 0);
        pump(f, 30, NULL);
    }
    pump(f, 200, NULL);
    zmq_close(raw);
    assert_int_equal(f->child_resyncs, 20);
    assert_int_equal(store_count(f->parent_store, DB_OUTBOX), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(items_arrive_once_and_outbox_empties, setup, teardown),
        cmocka_unit_test_setup_teardown(restarts_of_either_end_lose_and_duplicate_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(parent_sends_down_on_the_same_link, setup, teardown),
        cmocka_unit_test_setup_teardown(unregistered_key_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(refused_items_are_consumed_not_resent, setup, teardown),
        cmocka_unit_test_setup_teardown(garbage_frames_are_dropped_and_counted, setup, teardown),
        cmocka_unit_test_setup_teardown(a_child_restored_from_backup_loses_nothing_new, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_replaced_key_loses_its_open_session, setup, teardown),
        cmocka_unit_test_setup_teardown(a_parent_restored_from_backup_gets_what_it_lost, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_child_restored_behind_the_parent_is_not_stalled, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_parent_restored_behind_the_child_restarts_its_stream,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(a_bad_item_is_refused_alone_not_with_its_commit, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_deferred_item_waits_and_arrives, setup, teardown),
        cmocka_unit_test_setup_teardown(no_session_no_apply_and_hellos_queue_state_once, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_restored_child_that_queued_past_the_parent_loses_nothing,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
