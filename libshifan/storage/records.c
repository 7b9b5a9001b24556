#include "storage/records.h"
#include "base/error.h"

#include <stdio.h>
#include <string.h>

#define LATEST_HEAD 20

size_t records_latest_encode(const records_latest_t *latest, uint8_t *out, size_t size)
{
    size_t idlen = strnlen(latest->report_id, sizeof latest->report_id);
    if (idlen == 0 || idlen >= sizeof latest->report_id || size < LATEST_HEAD + idlen)
        return 0;
    store_put_be32(out, latest->version);
    store_put_be64(out + 4, latest->series);
    store_put_be64(out + 12, (uint64_t)latest->submitted_at);
    memcpy(out + LATEST_HEAD, latest->report_id, idlen);
    return LATEST_HEAD + idlen;
}

int records_latest_decode(const void *value, size_t len, records_latest_t *latest)
{
    const uint8_t *p = value;
    /* Byte 4: the series' top byte (0) now, the id's first digit in 0.1. */
    size_t head = len >= LATEST_HEAD + 1 && p[4] == 0 ? LATEST_HEAD : 4;
    if (len < head || len - head >= sizeof latest->report_id)
        return SF_ECORRUPT;
    latest->version = store_get_be32(p);
    latest->series = head == LATEST_HEAD ? store_get_be64(p + 4) : 0;
    latest->submitted_at = head == LATEST_HEAD ? (int64_t)store_get_be64(p + 12) : 0;
    memcpy(latest->report_id, p + head, len - head);
    latest->report_id[len - head] = '\0';
    return 0;
}

bool records_latest_newer(const records_latest_t *candidate, const records_latest_t *current)
{
    if (candidate->series != current->series)
        return candidate->series > current->series;
    if (candidate->submitted_at != current->submitted_at)
        return candidate->submitted_at > current->submitted_at;
    if (candidate->version != current->version)
        return candidate->version > current->version;
    return strcmp(candidate->report_id, current->report_id) > 0;
}

static void latest_key(char *key, size_t size, const char *unit, long year)
{
    snprintf(key, size, "%s/%ld", unit, year);
}

int records_latest_get(store_txn_t *txn, store_t *store, const char *unit, int year,
                       records_latest_t *latest)
{
    char key[48];
    latest_key(key, sizeof key, unit, year);
    const void *value;
    size_t len;
    int rc = store_get(txn, store, DB_LATEST, key, strlen(key), &value, &len);
    return rc ? rc : records_latest_decode(value, len, latest);
}

static int latest_update(store_txn_t *txn, store_t *store, const records_report_t *report)
{
    records_latest_t candidate = {report->version, report->series, report->submitted_at, ""};
    if (strlen(report->report_id) >= sizeof candidate.report_id)
        return SF_EINVAL;
    snprintf(candidate.report_id, sizeof candidate.report_id, "%s", report->report_id);
    records_latest_t current;
    int rc = records_latest_get(txn, store, report->unit, (int)report->year, &current);
    if (rc == 0 && !records_latest_newer(&candidate, &current))
        return 0;
    if (rc && rc != SF_ENOTFOUND)
        return rc;
    char key[48];
    uint8_t value[LATEST_HEAD + RECORDS_ID_MAX];
    latest_key(key, sizeof key, report->unit, report->year);
    size_t len = records_latest_encode(&candidate, value, sizeof value);
    if (!len)
        return SF_EINVAL;
    return store_put(txn, store, DB_LATEST, key, strlen(key), value, len, 0);
}

int records_report_store(store_txn_t *txn, store_t *store, const records_report_t *report,
                         const void *payload, size_t len, bool *stored)
{
    *stored = false;
    int rc = store_put(txn, store, DB_REPORTS, report->report_id, strlen(report->report_id),
                       payload, len, STORE_NOOVERWRITE);
    if (rc == SF_EEXIST)
        return 0; /* deduplication by report id: a resend, or a second path */
    if (rc)
        return rc;
    *stored = true;
    return latest_update(txn, store, report);
}

int records_counter_bump(store_txn_t *txn, store_t *store, const char *name)
{
    uint64_t value = 0;
    /* Unreadable counts as 0, as it always has: a counter only says "look
     * again", so restarting it costs one extra reload, never data. */
    store_get_u64(txn, store, DB_META, name, &value);
    return store_put_u64(txn, store, DB_META, name, value + 1);
}
