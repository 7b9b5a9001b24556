/* records.h - the record layouts of a node's store that more than one
 * caller writes: the latest version of a unit-year (DB_LATEST), a stored
 * report deduplicated by id (DB_REPORTS), and the counters in DB_META that
 * daemons watch. docs/storage.md describes every layout.
 *
 * Plain fields in, plain fields out: storage knows no protobuf and no
 * programme. Every function works inside the caller's transaction, so a
 * record commits (durably, with store_write) with everything else the
 * caller writes; none keeps a pointer into the map after it returns.
 * Threading as store.h: one thread per store. */
#ifndef SHIFAN_RECORDS_H
#define SHIFAN_RECORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/store.h"

#define RECORDS_ID_MAX 64 /* report ids, NUL included (REPORT_ID_MAX) */

/* The version of a unit-year that counts, as DB_LATEST holds it. */
typedef struct {
    uint32_t version;
    uint64_t series; /* numbering series of the report's origin; 0: none */
    int64_t submitted_at;
    char report_id[RECORDS_ID_MAX];
} records_latest_t;

/* DB_LATEST value: version be32 | series be64 | submitted_at be64 | id.
 * records_latest_encode writes it to out (size >= 20 + RECORDS_ID_MAX) and
 * returns its length, 0 if the id does not fit. records_latest_decode
 * reads that form and the one of version 0.1, version be32 | id (a digit
 * where the series' top byte, always 0, stands), as series 0 and
 * submitted_at 0: SF_ECORRUPT for anything else. */
size_t records_latest_encode(const records_latest_t *latest, uint8_t *out, size_t size);
int records_latest_decode(const void *value, size_t len, records_latest_t *latest);

/* True if `candidate` counts over `current` (docs/results-format.md, "which
 * version counts"): the later series, then the later submission, then the
 * higher version, then the larger id. */
bool records_latest_newer(const records_latest_t *candidate, const records_latest_t *current);

/* The latest version of unit/year: 0, SF_ENOTFOUND, SF_ECORRUPT or an
 * error. */
int records_latest_get(store_txn_t *txn, store_t *store, const char *unit, int year,
                       records_latest_t *latest);

/* What DB_REPORTS and DB_LATEST need of a report. */
typedef struct {
    const char *report_id;
    const char *unit;
    unsigned year;
    uint32_t version;
    uint64_t series;
    int64_t submitted_at;
} records_report_t;

/* Stores a report's payload bytes under its id unless the id is stored
 * already (a resend, or a second path: *stored false, nothing written),
 * and makes it the unit-year's latest if it counts over the one there.
 * Returns 0, SF_EINVAL for an id that is no key (empty, too long) or an
 * error (SF_EGROW: see store_put). */
int records_report_store(store_txn_t *txn, store_t *store, const records_report_t *report,
                         const void *payload, size_t len, bool *stored);

/* Adds one to the u64 counter `name` of DB_META (absent counts as 0). */
int records_counter_bump(store_txn_t *txn, store_t *store, const char *name);

#endif
