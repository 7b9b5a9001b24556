/* drafts.c - the county console's drafts in DB_DRAFTS (drafts.h).
 * Value: saved_at i64 be | submitted_version u32 be | text. */
#include "storage/drafts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DRAFTS_HEADER 12

static int drafts_key(char *key, size_t size, const char *unit, int year)
{
    int n = snprintf(key, size, "%s/%d", unit ? unit : "", year);
    return (!unit || !*unit || n < 0 || (size_t)n >= size) ? SF_EINVAL : n;
}

int drafts_put(store_txn_t *txn, store_t *store, const char *unit, int year,
               const drafts_record_t *draft)
{
    char key[64];
    int klen = drafts_key(key, sizeof key, unit, year);
    if (klen < 0 || draft->len > DRAFTS_TEXT_MAX)
        return SF_EINVAL;
    uint8_t *value = malloc(DRAFTS_HEADER + draft->len);
    if (!value)
        return SF_ENOMEM;
    store_put_be64(value, (uint64_t)draft->saved_at);
    store_put_be32(value + 8, draft->submitted_version);
    memcpy(value + DRAFTS_HEADER, draft->text, draft->len);
    int rc =
        store_put(txn, store, DB_DRAFTS, key, (size_t)klen, value, DRAFTS_HEADER + draft->len, 0);
    free(value);
    return rc;
}

int drafts_get(store_txn_t *txn, store_t *store, const char *unit, int year, drafts_record_t *draft)
{
    char key[64];
    int klen = drafts_key(key, sizeof key, unit, year);
    draft->text = NULL;
    if (klen < 0)
        return SF_EINVAL;
    const void *value;
    size_t vlen;
    int rc = store_get(txn, store, DB_DRAFTS, key, (size_t)klen, &value, &vlen);
    if (rc)
        return rc;
    if (vlen < DRAFTS_HEADER)
        return SF_ECORRUPT;
    draft->saved_at = (int64_t)store_get_be64(value);
    draft->submitted_version = store_get_be32((const uint8_t *)value + 8);
    draft->len = vlen - DRAFTS_HEADER;
    if (!(draft->text = malloc(draft->len + 1)))
        return SF_ENOMEM;
    memcpy(draft->text, (const uint8_t *)value + DRAFTS_HEADER, draft->len);
    draft->text[draft->len] = '\0';
    return 0;
}

int drafts_del(store_txn_t *txn, store_t *store, const char *unit, int year)
{
    char key[64];
    int klen = drafts_key(key, sizeof key, unit, year);
    return klen < 0 ? SF_EINVAL : store_del(txn, store, DB_DRAFTS, key, (size_t)klen);
}
