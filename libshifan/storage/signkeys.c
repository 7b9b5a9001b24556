#include "storage/signkeys.h"
#include "base/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Value: since be64 | until be64 | revoked u8 | registered_by (rest). */
#define RECORD_FIXED 17

static int record_key(const char *unit, const uint8_t key[SIGNKEYS_KEY_BYTES],
                      char out[SIGNKEYS_CODE_MAX + 2 * SIGNKEYS_KEY_BYTES + 2])
{
    size_t len = strlen(unit);
    if (!len || len >= SIGNKEYS_CODE_MAX || strchr(unit, '/'))
        return SF_EINVAL;
    int n = snprintf(out, SIGNKEYS_CODE_MAX + 2, "%s/", unit);
    for (size_t i = 0; i < SIGNKEYS_KEY_BYTES; i++)
        snprintf(out + n + 2 * i, 3, "%02x", key[i]);
    return 0;
}

static int decode(const void *k, size_t klen, const void *v, size_t vlen, signkey_t *out)
{
    const char *key = k;
    const char *slash = memchr(key, '/', klen);
    size_t unit_len = slash ? (size_t)(slash - key) : 0;
    size_t regby = vlen >= RECORD_FIXED ? vlen - RECORD_FIXED : 0;
    if (!slash || !unit_len || unit_len >= SIGNKEYS_CODE_MAX ||
        klen - unit_len - 1 != 2 * SIGNKEYS_KEY_BYTES || vlen < RECORD_FIXED ||
        regby >= SIGNKEYS_CODE_MAX)
        return SF_ECORRUPT;
    memset(out, 0, sizeof *out);
    memcpy(out->unit, key, unit_len);
    for (size_t i = 0; i < SIGNKEYS_KEY_BYTES; i++) {
        unsigned byte;
        char hex[3] = {slash[1 + 2 * i], slash[2 + 2 * i], '\0'};
        if (sscanf(hex, "%2x", &byte) != 1)
            return SF_ECORRUPT;
        out->key[i] = (uint8_t)byte;
    }
    const uint8_t *value = v;
    out->since = (int64_t)store_get_be64(value);
    out->until = (int64_t)store_get_be64(value + 8);
    out->revoked = value[16] != 0;
    memcpy(out->registered_by, value + RECORD_FIXED, regby);
    return 0;
}

int signkeys_put(store_txn_t *txn, store_t *store, const signkey_t *key)
{
    char name[SIGNKEYS_CODE_MAX + 2 * SIGNKEYS_KEY_BYTES + 2];
    int rc = record_key(key->unit, key->key, name);
    size_t regby = strnlen(key->registered_by, SIGNKEYS_CODE_MAX);
    if (rc || regby >= SIGNKEYS_CODE_MAX)
        return SF_EINVAL;
    uint8_t value[RECORD_FIXED + SIGNKEYS_CODE_MAX];
    store_put_be64(value, (uint64_t)key->since);
    store_put_be64(value + 8, (uint64_t)key->until);
    value[16] = key->revoked ? 1 : 0;
    memcpy(value + RECORD_FIXED, key->registered_by, regby);
    return store_put(txn, store, DB_SIGNKEYS, name, strlen(name), value, RECORD_FIXED + regby, 0);
}

int signkeys_get(store_txn_t *txn, store_t *store, const char *unit,
                 const uint8_t key[SIGNKEYS_KEY_BYTES], signkey_t *out)
{
    char name[SIGNKEYS_CODE_MAX + 2 * SIGNKEYS_KEY_BYTES + 2];
    if (record_key(unit, key, name))
        return SF_ENOTFOUND;
    const void *value;
    size_t len;
    int rc = store_get(txn, store, DB_SIGNKEYS, name, strlen(name), &value, &len);
    return rc ? rc : decode(name, strlen(name), value, len, out);
}

struct walk {
    signkey_t *found;
    bool want_current;
    signkey_t **items;
    size_t count, cap;
};

static int walk_one(const void *key, size_t klen, const void *value, size_t vlen, void *arg)
{
    struct walk *walk = arg;
    signkey_t record;
    int rc = decode(key, klen, value, vlen, &record);
    if (rc)
        return rc;
    if (walk->found) {
        if (walk->want_current && record.until != 0)
            return 0;
        *walk->found = record;
        return 1;
    }
    signkey_t *slot =
        store_array_push((void **)walk->items, &walk->count, &walk->cap, sizeof *slot);
    if (!slot)
        return SF_ENOMEM;
    *slot = record;
    return 0;
}

static int walk_unit(store_txn_t *txn, store_t *store, const char *unit, bool current,
                     signkey_t *out)
{
    char prefix[SIGNKEYS_CODE_MAX + 2];
    size_t len = strlen(unit);
    if (!len || len >= SIGNKEYS_CODE_MAX || strchr(unit, '/'))
        return SF_ENOTFOUND;
    snprintf(prefix, sizeof prefix, "%s/", unit);
    struct walk walk = {.found = out, .want_current = current};
    int rc = store_each(txn, store, DB_SIGNKEYS, prefix, strlen(prefix), walk_one, &walk);
    return rc == 1 ? 0 : rc ? rc : SF_ENOTFOUND;
}

int signkeys_current(store_txn_t *txn, store_t *store, const char *unit, signkey_t *out)
{
    return walk_unit(txn, store, unit, true, out);
}

bool signkeys_known(store_txn_t *txn, store_t *store, const char *unit)
{
    signkey_t any;
    return walk_unit(txn, store, unit, false, &any) == 0;
}

int signkeys_list(store_txn_t *txn, store_t *store, signkey_t **keys, size_t *count)
{
    *keys = NULL;
    *count = 0;
    struct walk walk = {.items = keys};
    int rc = store_each(txn, store, DB_SIGNKEYS, NULL, 0, walk_one, &walk);
    if (rc) {
        free(*keys);
        *keys = NULL;
        return rc;
    }
    *count = walk.count;
    return 0;
}

bool signkeys_valid_at(const signkey_t *key, int64_t made_at)
{
    return key->until == 0 || made_at < key->until;
}
