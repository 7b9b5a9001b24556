/* audit.c - the audit trail in DB_AUDIT (audit.h).
 * Key: seq u64 be (DB_META "audit_seq" holds the last one given).
 * Value: at i64 be | who NUL node NUL action NUL target. */
#include "storage/audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AUDIT_SEQ_KEY "audit_seq"
#define AUDIT_VALUE_MAX (8 + sizeof(((audit_entry_t *)0)->who) + 32 + 64 + 256)

typedef struct {
    store_t *store;
    const audit_entry_t *in;
    audit_entry_t *entries;
    size_t skip, count, cap;
} audit_op_t;

/* Appends the text of one field, cut to its array, and the NUL after it. */
static size_t audit_put_field(uint8_t *out, const char *text, size_t size)
{
    size_t len = strnlen(text, size - 1);
    memcpy(out, text, len);
    out[len] = '\0';
    return len + 1;
}

static int audit_put_fn(store_txn_t *txn, void *arg)
{
    audit_op_t *op = arg;
    uint64_t seq = 0;
    int rc = store_get_u64(txn, op->store, DB_META, AUDIT_SEQ_KEY, &seq);
    if (rc && rc != SF_ENOTFOUND)
        return rc;
    uint8_t key[8], value[AUDIT_VALUE_MAX];
    store_put_be64(key, ++seq);
    store_put_be64(value, (uint64_t)op->in->at);
    size_t len = 8;
    len += audit_put_field(value + len, op->in->who, sizeof op->in->who);
    len += audit_put_field(value + len, op->in->node, sizeof op->in->node);
    len += audit_put_field(value + len, op->in->action, sizeof op->in->action);
    len += audit_put_field(value + len, op->in->target, sizeof op->in->target) - 1;
    if ((rc = store_put(txn, op->store, DB_AUDIT, key, sizeof key, value, len, STORE_NOOVERWRITE)))
        return rc;
    return store_put_u64(txn, op->store, DB_META, AUDIT_SEQ_KEY, seq);
}

int audit_append(store_t *store, const audit_entry_t *entry)
{
    audit_op_t op = {.store = store, .in = entry};
    return store_write(store, audit_put_fn, &op);
}

/* Copies the next NUL-ended field of [*p, end) into out (cut to size). */
static int audit_get_field(const char **p, const char *end, char *out, size_t size, bool last)
{
    const char *stop = last ? end : memchr(*p, '\0', (size_t)(end - *p));
    if (!stop)
        return SF_ECORRUPT;
    size_t len = (size_t)(stop - *p);
    snprintf(out, size, "%.*s", (int)len, *p);
    *p = last ? end : stop + 1;
    return 0;
}

static int audit_decode(const void *key, size_t klen, const void *value, size_t vlen,
                        audit_entry_t *entry)
{
    if (klen != 8 || vlen < 8)
        return SF_ECORRUPT;
    entry->seq = store_get_be64(key);
    entry->at = (int64_t)store_get_be64(value);
    const char *p = (const char *)value + 8, *end = (const char *)value + vlen;
    int rc = audit_get_field(&p, end, entry->who, sizeof entry->who, false);
    if (!rc)
        rc = audit_get_field(&p, end, entry->node, sizeof entry->node, false);
    if (!rc)
        rc = audit_get_field(&p, end, entry->action, sizeof entry->action, false);
    if (!rc)
        rc = audit_get_field(&p, end, entry->target, sizeof entry->target, true);
    return rc;
}

static int audit_each_fn(const void *key, size_t klen, const void *value, size_t vlen, void *arg)
{
    audit_op_t *op = arg;
    if (op->skip) {
        op->skip--;
        return 0;
    }
    audit_entry_t *entry =
        store_array_push((void **)&op->entries, &op->count, &op->cap, sizeof *entry);
    return entry ? audit_decode(key, klen, value, vlen, entry) : SF_ENOMEM;
}

static int audit_list_fn(store_txn_t *txn, void *arg)
{
    audit_op_t *op = arg;
    op->count = 0;
    return store_each(txn, op->store, DB_AUDIT, NULL, 0, audit_each_fn, op);
}

int audit_list(store_t *store, size_t max, audit_entry_t **entries, size_t *count)
{
    size_t total = store_count(store, DB_AUDIT);
    /* Entries written between the count and the walk only add at the end. */
    audit_op_t op = {.store = store, .skip = max && total > max ? total - max : 0};
    int rc = store_read(store, audit_list_fn, &op);
    if (rc) {
        free(op.entries);
        op.entries = NULL;
        op.count = 0;
    }
    *entries = op.entries;
    *count = op.count;
    return rc;
}
