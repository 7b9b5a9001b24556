/* operators.c - operator accounts in DB_OPERATORS (operators.h).
 * Key: the name. Value: created_at i64 be | crypto_pwhash_str's string. */
#include "storage/operators.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define OPERATORS_HEADER 8

/* One operation: the name, and what is written or read. */
typedef struct {
    store_t *store;
    const char *name;
    int64_t created_at;
    char hash[crypto_pwhash_STRBYTES];
    operators_entry_t *entries;
    size_t count, cap;
} operators_op_t;

bool operators_name_valid(const char *name)
{
    size_t len = name ? strlen(name) : 0;
    if (len == 0 || len > OPERATORS_NAME_MAX)
        return false;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p <= ' ' || *p == 0x7f || *p == ':')
            return false;
    return true;
}

/* Argon2id at the interactive limits (operators.h says why). */
static int operators_hash(const char *password, char hash[crypto_pwhash_STRBYTES])
{
    if (sodium_init() < 0)
        return SF_ENOMEM;
    if (crypto_pwhash_str(hash, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        return SF_ENOMEM; /* libsodium fails here only when it cannot get the memory */
    return 0;
}

static int operators_put_fn(store_txn_t *txn, void *arg)
{
    operators_op_t *op = arg;
    size_t hlen = strlen(op->hash);
    uint8_t value[OPERATORS_HEADER + crypto_pwhash_STRBYTES];
    store_put_be64(value, (uint64_t)op->created_at);
    memcpy(value + OPERATORS_HEADER, op->hash, hlen);
    return store_put(txn, op->store, DB_OPERATORS, op->name, strlen(op->name), value,
                     OPERATORS_HEADER + hlen, STORE_NOOVERWRITE);
}

int operators_add(store_t *store, const char *name, const char *password, int64_t created_at)
{
    size_t plen = password ? strlen(password) : 0;
    if (!operators_name_valid(name) || plen < OPERATORS_PASSWORD_MIN ||
        plen > OPERATORS_PASSWORD_MAX)
        return SF_EINVAL;
    if (operators_exists(store, name))
        return SF_EEXIST; /* before the costly hash; the put checks again */
    operators_op_t op = {.store = store, .name = name, .created_at = created_at};
    int rc = operators_hash(password, op.hash);
    if (rc == 0)
        rc = store_write(store, operators_put_fn, &op);
    sodium_memzero(op.hash, sizeof op.hash);
    return rc;
}

static int operators_del_fn(store_txn_t *txn, void *arg)
{
    operators_op_t *op = arg;
    return store_del(txn, op->store, DB_OPERATORS, op->name, strlen(op->name));
}

int operators_remove(store_t *store, const char *name)
{
    if (!operators_name_valid(name))
        return SF_ENOTFOUND;
    operators_op_t op = {.store = store, .name = name};
    return store_write(store, operators_del_fn, &op);
}

/* Copies the hash of op->name into op->hash (NUL-terminated). */
static int operators_get_fn(store_txn_t *txn, void *arg)
{
    operators_op_t *op = arg;
    const void *value;
    size_t vlen;
    int rc = store_get(txn, op->store, DB_OPERATORS, op->name, strlen(op->name), &value, &vlen);
    if (rc)
        return rc;
    if (vlen <= OPERATORS_HEADER || vlen - OPERATORS_HEADER >= sizeof op->hash)
        return SF_ECORRUPT;
    op->created_at = (int64_t)store_get_be64(value);
    memcpy(op->hash, (const uint8_t *)value + OPERATORS_HEADER, vlen - OPERATORS_HEADER);
    op->hash[vlen - OPERATORS_HEADER] = '\0';
    return 0;
}

int operators_verify(store_t *store, const char *name, const char *password)
{
    size_t plen = password ? strlen(password) : 0;
    operators_op_t op = {.store = store, .name = name};
    int rc = operators_name_valid(name) && plen <= OPERATORS_PASSWORD_MAX
                 ? store_read(store, operators_get_fn, &op)
                 : SF_ENOTFOUND;
    if (rc == SF_ENOTFOUND) {
        /* As slow as a check, so the time taken does not tell which names exist. */
        char discard[crypto_pwhash_STRBYTES];
        if (plen <= OPERATORS_PASSWORD_MAX)
            (void)operators_hash(password ? password : "", discard);
        return SF_EDENIED;
    }
    if (rc)
        return rc;
    if (sodium_init() < 0)
        return SF_ENOMEM;
    rc = crypto_pwhash_str_verify(op.hash, password, plen) == 0 ? 0 : SF_EDENIED;
    sodium_memzero(op.hash, sizeof op.hash);
    return rc;
}

bool operators_exists(store_t *store, const char *name)
{
    operators_op_t op = {.store = store, .name = name};
    return operators_name_valid(name) && store_read(store, operators_get_fn, &op) == 0;
}

size_t operators_count(store_t *store)
{
    return store_count(store, DB_OPERATORS);
}

static int operators_each_fn(const void *key, size_t klen, const void *value, size_t vlen,
                             void *arg)
{
    operators_op_t *op = arg;
    if (klen > OPERATORS_NAME_MAX || vlen < OPERATORS_HEADER)
        return SF_ECORRUPT;
    operators_entry_t *entry =
        store_array_push((void **)&op->entries, &op->count, &op->cap, sizeof *entry);
    if (!entry)
        return SF_ENOMEM;
    memcpy(entry->name, key, klen);
    entry->name[klen] = '\0';
    entry->created_at = (int64_t)store_get_be64(value);
    return 0;
}

static int operators_list_fn(store_txn_t *txn, void *arg)
{
    operators_op_t *op = arg;
    op->count = 0; /* a read runs once, but keep the function re-runnable */
    return store_each(txn, op->store, DB_OPERATORS, NULL, 0, operators_each_fn, op);
}

int operators_list(store_t *store, operators_entry_t **entries, size_t *count)
{
    operators_op_t op = {.store = store};
    int rc = store_read(store, operators_list_fn, &op);
    if (rc) {
        free(op.entries);
        op.entries = NULL;
        op.count = 0;
    }
    *entries = op.entries;
    *count = op.count;
    return rc;
}
