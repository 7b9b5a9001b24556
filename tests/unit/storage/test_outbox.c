/* The durable queue: group commit, map growth, restart recovery after
 * SIGKILL, acknowledgement and stale readers. Real LMDB files in a temp dir. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <lmdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/error.h"
#include "storage/outbox.h"
#include "storage/store.h"

static char tmpdir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/shifan-outbox-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    return system(cmd);
}

struct append_arg {
    int count;
    size_t size;
    int fail_after; /* abort the txn after this many appends, -1 never */
    uint64_t last_seq;
};

/* The store is needed inside the txn function; keep it beside the args. */
struct ctx {
    store_t *store;
    struct append_arg a;
    outbox_state_t state;
    int seen;
    uint64_t expect;
};

static int ctx_append(store_txn_t *txn, void *arg)
{
    struct ctx *c = arg;
    char payload[4096];
    for (int i = 0; i < c->a.count; i++) {
        if (i == c->a.fail_after)
            return SF_EINVAL;
        memset(payload, 'a' + i % 26, c->a.size);
        snprintf(payload, sizeof payload, "item-%d", i);
        int rc = outbox_append(txn, c->store, "up", payload, c->a.size, &c->a.last_seq);
        if (rc)
            return rc;
    }
    return 0;
}

static int ctx_state(store_txn_t *txn, void *arg)
{
    struct ctx *c = arg;
    return outbox_state(txn, c->store, "up", &c->state);
}

static int check_item(uint64_t seq, const void *data, size_t len, void *arg)
{
    struct ctx *c = arg;
    if (seq != c->expect || len != c->a.size)
        return SF_ECORRUPT;
    c->expect++;
    c->seen++;
    (void)data;
    return 0;
}

static int ctx_scan(store_txn_t *txn, void *arg)
{
    struct ctx *c = arg;
    return outbox_scan(txn, c->store, "up", c->expect, SIZE_MAX, SIZE_MAX, check_item, c);
}

static void group_commit_is_all_or_nothing(void **state)
{
    (void)state;
    sf_error_t err = {0, ""};
    struct ctx c = {0};
    c.store = store_open(tmpdir, 0, &err);
    assert_non_null(c.store);

    c.a = (struct append_arg){.count = 500, .size = 1024, .fail_after = -1};
    assert_int_equal(store_write(c.store, ctx_append, &c), 0);
    assert_int_equal(c.a.last_seq, 500);

    /* A transaction that fails half-way leaves nothing behind. */
    c.a = (struct append_arg){.count = 500, .size = 1024, .fail_after = 250};
    assert_int_equal(store_write(c.store, ctx_append, &c), SF_EINVAL);
    assert_int_equal(store_read(c.store, ctx_state, &c), 0);
    assert_int_equal(c.state.next_seq, 501);
    assert_int_equal(store_count(c.store, DB_OUTBOX), 500);

    c.expect = 1;
    assert_int_equal(store_read(c.store, ctx_scan, &c), 0);
    assert_int_equal(c.seen, 500);
    store_destroy(&c.store);
    assert_null(c.store);
}

static void map_grows_when_full_and_nothing_is_lost(void **state)
{
    (void)state;
    sf_error_t err = {0, ""};
    struct ctx c = {0};
    c.store = store_open(tmpdir, 256 * 1024, &err);
    assert_non_null(c.store);
    size_t before = store_mapsize(c.store);
    for (int round = 0; round < 20; round++) {
        c.a = (struct append_arg){.count = 200, .size = 2048, .fail_after = -1};
        assert_int_equal(store_write(c.store, ctx_append, &c), 0);
    }
    assert_true(store_mapsize(c.store) > before);
    assert_int_equal(store_count(c.store, DB_OUTBOX), 4000);
    store_destroy(&c.store);

    /* Reopening with a small request adopts the grown size from the file. */
    c.store = store_open(tmpdir, 256 * 1024, &err);
    assert_non_null(c.store);
    assert_true(store_mapsize(c.store) > before);
    c.expect = 1;
    c.a.size = 2048;
    assert_int_equal(store_read(c.store, ctx_scan, &c), 0);
    assert_int_equal(c.seen, 4000);
    store_destroy(&c.store);
}

struct ack_ctx {
    store_t *store;
    uint64_t epoch, applied;
    int rc;
};

static int ack_fn(store_txn_t *txn, void *arg)
{
    struct ack_ctx *a = arg;
    a->rc = outbox_ack(txn, a->store, "up", a->epoch, a->applied);
    return a->rc;
}

static void ack_deletes_exactly_what_was_applied(void **state)
{
    (void)state;
    sf_error_t err = {0, ""};
    struct ctx c = {0};
    c.store = store_open(tmpdir, 0, &err);
    c.a = (struct append_arg){.count = 100, .size = 100, .fail_after = -1};
    assert_int_equal(store_write(c.store, ctx_append, &c), 0);
    assert_int_equal(store_read(c.store, ctx_state, &c), 0);
    assert_int_not_equal(c.state.epoch, 0);

    struct ack_ctx a = {c.store, c.state.epoch + 1, 10, 0};
    assert_int_equal(store_write(c.store, ack_fn, &a), SF_EPROTO); /* wrong epoch */
    a.epoch = c.state.epoch;
    a.applied = 101; /* beyond what exists */
    assert_int_equal(store_write(c.store, ack_fn, &a), SF_EPROTO);
    a.applied = 40;
    assert_int_equal(store_write(c.store, ack_fn, &a), 0);
    assert_int_equal(store_count(c.store, DB_OUTBOX), 60);
    a.applied = 20; /* an old ack changes nothing */
    assert_int_equal(store_write(c.store, ack_fn, &a), 0);
    assert_int_equal(store_count(c.store, DB_OUTBOX), 60);

    c.expect = 41;
    c.a.size = 100;
    assert_int_equal(store_read(c.store, ctx_scan, &c), 0);
    assert_int_equal(c.seen, 60);

    /* A second stream in the same DB is untouched by acks of the first. */
    a.applied = 100;
    assert_int_equal(store_write(c.store, ack_fn, &a), 0);
    assert_int_equal(store_count(c.store, DB_OUTBOX), 0);
    assert_int_equal(store_read(c.store, ctx_state, &c), 0);
    assert_int_equal(c.state.acked, 100);
    assert_int_equal(c.state.next_seq, 101);
    store_destroy(&c.store);
}

/* A child process appends one item per commit and reports each committed
 * sequence number on a pipe; it is SIGKILLed mid-stream. Every number it
 * reported must be there after reopening, in order, with no gap. */
static void committed_items_survive_sigkill(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        sf_error_t err = {0, ""};
        struct ctx c = {0};
        c.store = store_open(tmpdir, 64 * 1024, &err);
        if (!c.store)
            _exit(3);
        for (;;) {
            c.a = (struct append_arg){.count = 3, .size = 700, .fail_after = -1};
            if (store_write(c.store, ctx_append, &c))
                _exit(4);
            if (write(fds[1], &c.a.last_seq, sizeof c.a.last_seq) != sizeof c.a.last_seq)
                _exit(5);
        }
    }
    close(fds[1]);
    uint64_t last = 0, seq;
    while (last < 300 && read(fds[0], &seq, sizeof seq) == sizeof seq)
        last = seq;
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    assert_true(WIFSIGNALED(status));
    while (read(fds[0], &seq, sizeof seq) == sizeof seq)
        last = seq;
    close(fds[0]);

    sf_error_t err = {0, ""};
    struct ctx c = {0};
    c.store = store_open(tmpdir, 64 * 1024, &err);
    assert_non_null(c.store);
    assert_int_equal(store_read(c.store, ctx_state, &c), 0);
    assert_true(c.state.next_seq - 1 >= last);
    c.expect = 1;
    c.a.size = 700;
    assert_int_equal(store_read(c.store, ctx_scan, &c), 0);
    assert_int_equal((uint64_t)c.seen, c.state.next_seq - 1);
    assert_int_equal(c.seen % 3, 0); /* whole transactions only */

    /* The killed writer's lock is recovered: we can write again. */
    c.a = (struct append_arg){.count = 1, .size = 700, .fail_after = -1};
    assert_int_equal(store_write(c.store, ctx_append, &c), 0);
    store_destroy(&c.store);
}

static void readers_of_killed_processes_are_cleared(void **state)
{
    (void)state;
    sf_error_t err = {0, ""};
    store_t *store = store_open(tmpdir, 0, &err);
    assert_non_null(store);
    int ready[2];
    assert_int_equal(pipe(ready), 0);
    pid_t pid = fork();
    if (pid == 0) {
        /* A reader that never ends: opens its own env (never share across fork, L6). */
        MDB_env *env;
        store_txn_t *txn;
        if (mdb_env_create(&env) || mdb_env_open(env, tmpdir, 0, 0600) ||
            mdb_txn_begin(env, NULL, MDB_RDONLY, &txn))
            _exit(3);
        char c = 1;
        if (write(ready[1], &c, 1) != 1)
            _exit(4);
        pause();
        _exit(0);
    }
    char c;
    assert_int_equal(read(ready[0], &c, 1), 1);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    close(ready[0]);
    close(ready[1]);
    assert_int_equal(store_check_readers(store), 1);
    assert_int_equal(store_check_readers(store), 0);
    store_destroy(&store);
}

static void big_endian_keys_sort_numerically(void **state)
{
    (void)state;
    uint8_t a[8], b[8];
    store_put_be64(a, 255);
    store_put_be64(b, 256);
    assert_true(memcmp(a, b, 8) < 0);
    assert_int_equal(store_get_be64(b), 256);
    store_put_be32(a, 0x01020304);
    assert_int_equal(a[0], 1);
    assert_int_equal(store_get_be32(a), 0x01020304);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(group_commit_is_all_or_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(map_grows_when_full_and_nothing_is_lost, setup, teardown),
        cmocka_unit_test_setup_teardown(ack_deletes_exactly_what_was_applied, setup, teardown),
        cmocka_unit_test_setup_teardown(committed_items_survive_sigkill, setup, teardown),
        cmocka_unit_test_setup_teardown(readers_of_killed_processes_are_cleared, setup, teardown),
        cmocka_unit_test(big_endian_keys_sort_numerically),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
