/* drafts.c - the county console's drafts in DB_DRAFTS (drafts.h).
 * Value: saved_at i64 be | submitted_version u32 be | text. */
#include "storage/drafts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DRAFTS_HEADER 12

/* One draft operation: its key, and the record written or read. */
typedef struct {
    store_t *store;
    char key[64];
    size_t klen;
    const drafts_record_t *in;
    drafts_record_t *out;
} drafts_op_t;

static int drafts_key(drafts_op_t *op, store_t *store, const char *unit, int year)
{
    int n = snprintf(op->key, sizeof op->key, "%s/%d", unit ? unit : "", year);
    op->store = store;
    op->klen = n > 0 ? (size_t)n : 0;
    return (!unit || !*unit || n < 0 || (size_t)n >= sizeof op->key) ? SF_EINVAL : 0;
}

static int drafts_put_fn(store_txn_t *txn, void *arg)
{
    drafts_op_t *op = arg;
    uint8_t *value = malloc(DRAFTS_HEADER + op->in->len);
    if (!value)
        return SF_ENOMEM;
    store_put_be64(value, (uint64_t)op->in->saved_at);
    store_put_be32(value + 8, op->in->submitted_version);
    memcpy(value + DRAFTS_HEADER, op->in->text, op->in->len);
    int rc = store_put(txn, op->store, DB_DRAFTS, op->key, op->klen, value,
                       DRAFTS_HEADER + op->in->len, 0);
    free(value);
    return rc;
}

int drafts_save(store_t *store, const char *unit, int year, const drafts_record_t *draft)
{
    drafts_op_t op = {.in = draft};
    if (drafts_key(&op, store, unit, year) || draft->len > DRAFTS_TEXT_MAX)
        return SF_EINVAL;
    return store_write(store, drafts_put_fn, &op);
}

static int drafts_get_fn(store_txn_t *txn, void *arg)
{
    drafts_op_t *op = arg;
    const void *value;
    size_t vlen;
    int rc = store_get(txn, op->store, DB_DRAFTS, op->key, op->klen, &value, &vlen);
    if (rc)
        return rc;
    if (vlen < DRAFTS_HEADER)
        return SF_ECORRUPT;
    op->out->saved_at = (int64_t)store_get_be64(value);
    op->out->submitted_version = store_get_be32((const uint8_t *)value + 8);
    op->out->len = vlen - DRAFTS_HEADER;
    /* Copied before the transaction ends: the map's bytes do not outlive it. */
    if (!(op->out->text = malloc(op->out->len + 1)))
        return SF_ENOMEM;
    memcpy(op->out->text, (const uint8_t *)value + DRAFTS_HEADER, op->out->len);
    op->out->text[op->out->len] = '\0';
    return 0;
}

int drafts_load(store_t *store, const char *unit, int year, drafts_record_t *draft)
{
    drafts_op_t op = {.out = draft};
    draft->text = NULL;
    if (drafts_key(&op, store, unit, year))
        return SF_EINVAL;
    return store_read(store, drafts_get_fn, &op);
}
