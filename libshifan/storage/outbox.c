#include "storage/outbox.h"
#include "base/error.h"

#include <lmdb.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STATE_KEY_MAX (4 + OUTBOX_STREAM_MAX)

static void state_key(char *key, const char *prefix, const char *stream)
{
    snprintf(key, STATE_KEY_MAX + 1, "%s%s", prefix, stream);
}

static void item_key(uint8_t *key, const char *stream, uint64_t seq)
{
    memset(key, 0, OUTBOX_STREAM_MAX);
    memcpy(key, stream, strnlen(stream, OUTBOX_STREAM_MAX));
    store_put_be64(key + OUTBOX_STREAM_MAX, seq);
}

int outbox_state(store_txn_t *txn, store_t *store, const char *stream, outbox_state_t *state)
{
    char key[STATE_KEY_MAX + 1];
    state_key(key, "out:", stream);
    MDB_val k = {strlen(key), key}, v;
    int rc = mdb_get(txn, store_dbi(store, DB_STREAMS), &k, &v);
    if (rc == MDB_NOTFOUND) {
        *state = (outbox_state_t){0, 1, 0};
        return 0;
    }
    if (rc)
        return store_error(rc);
    if (v.mv_size != 24)
        return SF_ECORRUPT;
    state->epoch = store_get_be64(v.mv_data);
    state->next_seq = store_get_be64((uint8_t *)v.mv_data + 8);
    state->acked = store_get_be64((uint8_t *)v.mv_data + 16);
    return 0;
}

static int outbox_put_state(store_txn_t *txn, store_t *store, const char *stream,
                            const outbox_state_t *state)
{
    char key[STATE_KEY_MAX + 1];
    uint8_t value[24];
    state_key(key, "out:", stream);
    store_put_be64(value, state->epoch);
    store_put_be64(value + 8, state->next_seq);
    store_put_be64(value + 16, state->acked);
    MDB_val k = {strlen(key), key}, v = {sizeof value, value};
    return store_error(mdb_put(txn, store_dbi(store, DB_STREAMS), &k, &v, 0));
}

static uint64_t outbox_new_epoch(void)
{
    uint64_t epoch = 0;
    while (epoch == 0) /* 0 means "no epoch" on the wire */
        randombytes_buf(&epoch, sizeof epoch);
    return epoch;
}

int outbox_open_stream(store_txn_t *txn, store_t *store, const char *stream, outbox_state_t *state)
{
    if (strlen(stream) >= OUTBOX_STREAM_MAX)
        return SF_EINVAL;
    int rc = outbox_state(txn, store, stream, state);
    if (rc || state->epoch != 0)
        return rc;
    state->epoch = outbox_new_epoch();
    return outbox_put_state(txn, store, stream, state);
}

int outbox_restart_stream(store_txn_t *txn, store_t *store, const char *stream,
                          outbox_state_t *state)
{
    outbox_state_t old;
    int rc = outbox_state(txn, store, stream, &old);
    if (rc)
        return rc;
    MDB_dbi dbi = store_dbi(store, DB_OUTBOX);
    uint64_t renumbered = 0;
    /* Ascending, each message moves to a lower or equal number, so a slot
     * written is always one already emptied. */
    for (uint64_t seq = old.acked + 1; seq < old.next_seq; seq++) {
        uint8_t key[OUTBOX_STREAM_MAX + 8];
        item_key(key, stream, seq);
        MDB_val k = {sizeof key, key}, v;
        if ((rc = mdb_get(txn, dbi, &k, &v)) == MDB_NOTFOUND)
            continue;
        if (rc)
            return store_error(rc);
        renumbered++;
        if (renumbered == seq)
            continue;                                   /* already in place */
        void *copy = malloc(v.mv_size ? v.mv_size : 1); /* v points into the map (L8) */
        if (!copy)
            return SF_ENOMEM;
        memcpy(copy, v.mv_data, v.mv_size);
        MDB_val moved = {v.mv_size, copy};
        uint8_t new_key[OUTBOX_STREAM_MAX + 8];
        item_key(new_key, stream, renumbered);
        MDB_val nk = {sizeof new_key, new_key};
        rc = mdb_del(txn, dbi, &k, NULL);
        if (rc == 0)
            rc = mdb_put(txn, dbi, &nk, &moved, 0);
        free(copy);
        if (rc)
            return store_error(rc);
    }
    state->epoch = outbox_new_epoch();
    state->acked = 0;
    state->next_seq = renumbered + 1;
    return outbox_put_state(txn, store, stream, state);
}

int outbox_append(store_txn_t *txn, store_t *store, const char *stream, const void *data,
                  size_t len, uint64_t *seq)
{
    if (strlen(stream) >= OUTBOX_STREAM_MAX)
        return SF_EINVAL;
    outbox_state_t state;
    int rc = outbox_state(txn, store, stream, &state);
    if (rc)
        return rc;
    if (state.epoch == 0)
        state.epoch = outbox_new_epoch();
    uint8_t key[OUTBOX_STREAM_MAX + 8];
    item_key(key, stream, state.next_seq);
    MDB_val k = {sizeof key, key}, v = {len, (void *)data};
    /* Keys grow within a stream, and streams interleave in one DB: only the
     * stream that sorts last ("up", after every "d:" stream) can append.
     * Appending fills a page before it starts the next, where an ordinary
     * put splits the last page in half: half the pages written per entry.
     * MDB_APPEND refuses a key not above the DB's last with MDB_KEYEXIST
     * and changes nothing (L9); any other stream then puts as usual. */
    MDB_dbi dbi = store_dbi(store, DB_OUTBOX);
    rc = mdb_put(txn, dbi, &k, &v, MDB_APPEND);
    if (rc == MDB_KEYEXIST)
        rc = mdb_put(txn, dbi, &k, &v, 0);
    if ((rc = store_error(rc)))
        return rc;
    if (seq)
        *seq = state.next_seq;
    state.next_seq++;
    return outbox_put_state(txn, store, stream, &state);
}

int outbox_ack(store_txn_t *txn, store_t *store, const char *stream, uint64_t epoch,
               uint64_t applied)
{
    outbox_state_t state;
    int rc = outbox_state(txn, store, stream, &state);
    if (rc)
        return rc;
    if (epoch != state.epoch || applied >= state.next_seq)
        return SF_EPROTO;
    if (applied <= state.acked)
        return 0;
    /* Sequence numbers of a stream have no gaps, so the acknowledged
     * messages are exactly acked+1 .. applied. */
    uint8_t key[OUTBOX_STREAM_MAX + 8];
    for (uint64_t seq = state.acked + 1; seq <= applied; seq++) {
        item_key(key, stream, seq);
        MDB_val k = {sizeof key, key};
        rc = mdb_del(txn, store_dbi(store, DB_OUTBOX), &k, NULL);
        if (rc && rc != MDB_NOTFOUND)
            return store_error(rc);
    }
    state.acked = applied;
    return outbox_put_state(txn, store, stream, &state);
}

int outbox_scan(store_txn_t *txn, store_t *store, const char *stream, uint64_t from,
                size_t max_items, size_t max_bytes, outbox_item_fn fn, void *arg)
{
    MDB_cursor *cursor;
    int rc = mdb_cursor_open(txn, store_dbi(store, DB_OUTBOX), &cursor);
    if (rc)
        return store_error(rc);
    uint8_t key[OUTBOX_STREAM_MAX + 8];
    item_key(key, stream, from);
    MDB_val k = {sizeof key, key}, v;
    size_t items = 0, bytes = 0;
    int result = 0;
    rc = mdb_cursor_get(cursor, &k, &v, MDB_SET_RANGE);
    while (rc == 0 && items < max_items && bytes < max_bytes) {
        if (k.mv_size != sizeof key || memcmp(k.mv_data, key, OUTBOX_STREAM_MAX) != 0)
            break;
        result =
            fn(store_get_be64((uint8_t *)k.mv_data + OUTBOX_STREAM_MAX), v.mv_data, v.mv_size, arg);
        if (result)
            break;
        items++;
        bytes += v.mv_size;
        rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cursor);
    if (result < 0)
        return result;
    if (rc && rc != MDB_NOTFOUND)
        return store_error(rc);
    return 0;
}

int outbox_inbound_get(store_txn_t *txn, store_t *store, const char *stream, outbox_inbound_t *in)
{
    char key[STATE_KEY_MAX + 1];
    state_key(key, "in:", stream);
    MDB_val k = {strlen(key), key}, v;
    memset(in, 0, sizeof *in);
    int rc = mdb_get(txn, store_dbi(store, DB_STREAMS), &k, &v);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc)
        return store_error(rc);
    if (v.mv_size != 16 && v.mv_size != 16 + OUTBOX_DIGEST_LEN)
        return SF_ECORRUPT;
    in->epoch = store_get_be64(v.mv_data);
    in->applied = store_get_be64((uint8_t *)v.mv_data + 8);
    if (v.mv_size > 16)
        memcpy(in->digest, (uint8_t *)v.mv_data + 16, OUTBOX_DIGEST_LEN);
    return 0;
}

void outbox_digest(const void *data, size_t len, uint8_t digest[OUTBOX_DIGEST_LEN])
{
    crypto_generichash(digest, OUTBOX_DIGEST_LEN, data, len, NULL, 0);
}

bool outbox_item_differs(store_txn_t *txn, store_t *store, const char *stream, uint64_t seq,
                         const uint8_t *digest, size_t digest_len)
{
    static const uint8_t unknown[OUTBOX_DIGEST_LEN];
    if (!digest || digest_len != OUTBOX_DIGEST_LEN || memcmp(digest, unknown, digest_len) == 0)
        return false;
    uint8_t key[OUTBOX_STREAM_MAX + 8];
    item_key(key, stream, seq);
    MDB_val k = {sizeof key, key}, v;
    if (mdb_get(txn, store_dbi(store, DB_OUTBOX), &k, &v) != 0)
        return false;
    uint8_t mine[OUTBOX_DIGEST_LEN];
    outbox_digest(v.mv_data, v.mv_size, mine);
    return memcmp(mine, digest, OUTBOX_DIGEST_LEN) != 0;
}

int outbox_inbound_put(store_txn_t *txn, store_t *store, const char *stream,
                       const outbox_inbound_t *in)
{
    char key[STATE_KEY_MAX + 1];
    uint8_t value[16 + OUTBOX_DIGEST_LEN];
    state_key(key, "in:", stream);
    store_put_be64(value, in->epoch);
    store_put_be64(value + 8, in->applied);
    memcpy(value + 16, in->digest, OUTBOX_DIGEST_LEN);
    MDB_val k = {strlen(key), key}, v = {sizeof value, value};
    return store_error(mdb_put(txn, store_dbi(store, DB_STREAMS), &k, &v, 0));
}

struct holds_arg {
    const void *data;
    size_t len;
    bool held;
};

static int holds_fn(uint64_t seq, const void *data, size_t len, void *arg)
{
    (void)seq;
    struct holds_arg *a = arg;
    if (len == a->len && memcmp(data, a->data, len) == 0) {
        a->held = true;
        return 1;
    }
    return 0;
}

int outbox_append_once(store_txn_t *txn, store_t *store, const char *stream, const void *data,
                       size_t len, bool *queued)
{
    outbox_state_t state;
    int rc = outbox_state(txn, store, stream, &state);
    if (rc)
        return rc;
    struct holds_arg arg = {data, len, false};
    if ((rc = outbox_scan(txn, store, stream, state.acked + 1, SIZE_MAX, SIZE_MAX, holds_fn, &arg)))
        return rc;
    if (queued)
        *queued = !arg.held;
    return arg.held ? 0 : outbox_append(txn, store, stream, data, len, NULL);
}
