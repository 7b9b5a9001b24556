/* store.h - a node's LMDB environment: every database of one node in one
 * environment, so business state and outgoing messages commit together.
 *
 * Durability: every write transaction is committed with LMDB's default
 * flags, i.e. fsync'd before store_write() returns 0 (no NOSYNC, no
 * WRITEMAP: dependency-traps L1, L2). A caller may acknowledge or report
 * success only after store_write() returned 0.
 *
 * Growth: the map starts at `initial_mapsize` (sparse on Linux) and doubles
 * whenever a transaction hits MDB_MAP_FULL: the transaction is aborted, the
 * map grown and the transaction function run again from the start (L3). So a
 * write function must derive everything from the transaction it is given and
 * the argument, and may run more than once.
 *
 * Threads: one store per process, used from one thread. Other processes
 * (CLI verbs next to a running daemon) open the same directory; LMDB
 * serialises their writers, and a map grown by one is adopted by the other
 * (MDB_MAP_RESIZED). Readers left by a killed process are cleared at open and
 * by store_check_readers() (L4). */
#ifndef SHIFAN_STORE_H
#define SHIFAN_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

typedef enum {
    DB_META = 0,        /* string key -> value: node configuration and counters */
    DB_REPORTS,         /* report_id -> stored Payload (Report + receipts) */
    DB_LATEST,          /* "unit/year" -> latest version record (records.h) */
    DB_OUTBOX,          /* stream[16] | seq be64 -> Payload bytes */
    DB_STREAMS,         /* "out:"/"in:" + stream -> stream state */
    DB_CHILDREN,        /* child code -> Z85 public key */
    DB_KEYS,            /* Z85 public key -> child code */
    DB_INSPECTIONS,     /* inspection id -> stored Payload (inspection) */
    DB_RETURNS,         /* report_id -> stored Payload (return) */
    DB_RECOMMENDATIONS, /* prefecture/year -> stored Payload (recommendation) */
    DB_PROGRAMMES,      /* "programme" -> Payload (programme in force), "evaluation" -> Payload */
    DB_SUBMISSIONS,     /* county: report_id -> outbox seq (delivery state) */
    DB_REFUSALS,        /* "up/<report_id or epoch:seq>" (our item the parent refused) or
                         * "<child>/<...>" (ours a child refused) -> Payload(ItemRefused) */
    DB_DRAFTS,          /* county: "unit/year" -> the console's draft (drafts.h) */
    DB_OPERATORS,       /* operator name -> created_at | password hash (operators.h) */
    DB_AUDIT,           /* seq be64 -> a change made through the console (audit.h) */
    DB_SIGNKEYS,        /* "unit/<hex key>" -> a signing key held for that unit (signkeys.h) */
    DB_COUNT
} store_db_t;

typedef struct store store_t;
/* A transaction of the store: LMDB's, opaque above storage/. */
typedef struct MDB_txn store_txn_t;

#define STORE_DEFAULT_MAPSIZE ((size_t)256 << 20)
#define STORE_MAX_MAPSIZE ((size_t)1 << 40)

/* Opens (creating if needed) the environment in directory `dir`, which must
 * exist. initial_mapsize 0 means STORE_DEFAULT_MAPSIZE. Returns a new store
 * the caller owns (store_destroy), or NULL with error set (SF_EIO: no such
 * or unreadable directory; SF_ENOSPC; SF_ECORRUPT: no LMDB environment
 * there; SF_ENOMEM; SF_ESTORE; LMDB's own words in error->text) and the
 * failure logged. */
store_t *store_open(const char *dir, size_t initial_mapsize, sf_error_t *error);
void store_destroy(store_t **self_p);

/* LMDB's handle of a database (an MDB_dbi), for code that calls LMDB itself:
 * storage/ and tests. Everything above storage/ uses the functions below. */
unsigned int store_dbi(const store_t *self, store_db_t db);

typedef int (*store_txn_fn)(store_txn_t *txn, void *arg);

/* Runs fn in a write transaction and commits it durably. fn returns 0 to
 * commit or a negative sf_err_t to abort (returned as is). Errors of the
 * store_* calls inside fn are sf_err_t already; SF_EGROW (the map is full)
 * returned by fn is handled here by growing the map and re-running fn. */
int store_write(store_t *self, store_txn_fn fn, void *arg);

/* Runs fn in a read-only transaction (aborted afterwards). */
int store_read(store_t *self, store_txn_fn fn, void *arg);

/* Converts an LMDB or errno code into sf_err_t. MDB_MAP_FULL becomes
 * SF_EGROW, which store_write() handles; MDB_TXN_FULL (a transaction
 * dirtying more pages than LMDB allows: a bigger map does not help)
 * SF_ETOOBIG. */
int store_error(int mdb_rc);

/* ---- records inside a transaction ----
 *
 * Keys are 1..511 bytes (LMDB's limit: SF_EINVAL otherwise, never an
 * aborted environment). A value handed out points into the map: it is
 * valid until the transaction ends or the next write in it (trap L8), so
 * copy it before writing or committing. */

#define STORE_NOOVERWRITE 1u /* store_put: fail with SF_EEXIST if the key exists */

/* Looks a key up. Returns 0 with *value and *vlen set, SF_ENOTFOUND, or an
 * error. */
int store_get(store_txn_t *txn, store_t *self, store_db_t db, const void *key, size_t klen,
              const void **value, size_t *vlen);

/* Writes a key (replacing its value unless flags has STORE_NOOVERWRITE, then
 * SF_EEXIST). SF_EGROW means the map is full: return it from the txn function
 * and store_write() grows the map and runs it again. */
int store_put(store_txn_t *txn, store_t *self, store_db_t db, const void *key, size_t klen,
              const void *value, size_t vlen, unsigned flags);

/* Deletes a key: 0, SF_ENOTFOUND if it was absent, or an error. */
int store_del(store_txn_t *txn, store_t *self, store_db_t db, const void *key, size_t klen);

/* Called per record by store_each; a non-zero return stops the walk. */
typedef int (*store_each_fn)(const void *key, size_t klen, const void *value, size_t vlen,
                             void *arg);

/* Calls fn for every record whose key starts with prefix (plen 0: every
 * record), in key order, until fn returns non-zero. Returns that value, 0
 * when the walk ended, or an error. fn may write to other databases of the
 * transaction, not to the one walked. */
int store_each(store_txn_t *txn, store_t *self, store_db_t db, const void *prefix, size_t plen,
               store_each_fn fn, void *arg);

/* For store_each functions that collect records: a pointer to a new slot
 * at the end of the malloc'd array *items (*count used of *cap elements of
 * size bytes, grown by doubling; *count is incremented), or NULL when out
 * of memory (the array is kept as it was). */
void *store_array_push(void **items, size_t *count, size_t *cap, size_t size);

/* True once LMDB reported MDB_PANIC: the environment is unusable until it
 * is reopened, so a daemon should exit and be restarted (L2). */
bool store_failed(const store_t *self);

/* Clears reader slots of dead processes; returns how many were cleared. */
int store_check_readers(store_t *self);

/* Online backup: writes a compacted, consistent copy of the environment to
 * `dir`/data.mdb (mode 0600), `dir` being an existing empty directory. The
 * copy is taken in one read transaction, so it is the state of one commit;
 * writers (a daemon beside this process) go on meanwhile (the copy only
 * keeps the pages it reads from being reused until it ends: L10). The copy
 * and `dir` are fsync'd before 0 is returned; on failure data.mdb is
 * removed again. Errors, with error set: SF_EEXIST (`dir` is not empty),
 * SF_EIO (no such directory, or a write failed), SF_ENOSPC, SF_ESTORE or
 * SF_ECORRUPT (LMDB could not copy: its words in error->text). The copy
 * opens with store_open() as a store of its own, never in this process
 * while `self` is that same directory. */
int store_backup(store_t *self, const char *dir, sf_error_t *error);

size_t store_mapsize(const store_t *self);
/* Number of entries in a database (from a short read transaction). */
size_t store_count(store_t *self, store_db_t db);

/* Fixed-width big-endian integers, so memcmp order is numeric order (L9). */
void store_put_be64(uint8_t *out, uint64_t value);
uint64_t store_get_be64(const uint8_t *in);
void store_put_be32(uint8_t *out, uint32_t value);
uint32_t store_get_be32(const uint8_t *in);

/* String-keyed values (DB_META and the like). store_get_string copies the
 * value NUL-terminated into buf: SF_ENOTFOUND, SF_ETOOBIG if it does not
 * fit. A u64 is stored as 8 bytes big-endian (SF_ECORRUPT if not 8). */
int store_get_string(store_txn_t *txn, store_t *self, store_db_t db, const char *key, char *buf,
                     size_t size);
int store_put_string(store_txn_t *txn, store_t *self, store_db_t db, const char *key,
                     const char *value);
int store_get_u64(store_txn_t *txn, store_t *self, store_db_t db, const char *key, uint64_t *value);
int store_put_u64(store_txn_t *txn, store_t *self, store_db_t db, const char *key, uint64_t value);

#endif
