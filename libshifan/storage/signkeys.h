/* signkeys.h - the Ed25519 signing keys a node holds for units: its
 * children's (registered at the parent), the province's (pinned at every
 * node), and at the province every unit's (docs/signing.md).
 *
 * A unit may have several keys over time: the one in force (until == 0)
 * and the ones rotated out or revoked, each valid for items made before
 * its `until`. Records live in DB_SIGNKEYS under "unit/<64 hex>", so the
 * keys of one unit are one prefix walk.
 *
 * Functions take the caller's transaction (store.h); nothing here reads the
 * clock. Errors: 0 or a negative sf_err_t. */
#ifndef SHIFAN_SIGNKEYS_H
#define SHIFAN_SIGNKEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/store.h"

#define SIGNKEYS_KEY_BYTES 32
#define SIGNKEYS_CODE_MAX 32

typedef struct {
    char unit[SIGNKEYS_CODE_MAX];
    uint8_t key[SIGNKEYS_KEY_BYTES];
    int64_t since;                         /* registered here at (unix s) */
    int64_t until;                         /* 0: in force; else rotated out or revoked at */
    bool revoked;                          /* until is a revocation, not a rotation */
    char registered_by[SIGNKEYS_CODE_MAX]; /* node it came through; "" typed here */
} signkey_t;

/* Writes (or replaces) the record of (key->unit, key->key). SF_EINVAL for
 * an empty or too long unit. */
int signkeys_put(store_txn_t *txn, store_t *store, const signkey_t *key);

/* The record of exactly this unit and key: 0 or SF_ENOTFOUND. */
int signkeys_get(store_txn_t *txn, store_t *store, const char *unit,
                 const uint8_t key[SIGNKEYS_KEY_BYTES], signkey_t *out);

/* The unit's key in force (until == 0): 0 or SF_ENOTFOUND. */
int signkeys_current(store_txn_t *txn, store_t *store, const char *unit, signkey_t *out);

/* True if the unit has any key recorded (in force, rotated or revoked). */
bool signkeys_known(store_txn_t *txn, store_t *store, const char *unit);

/* Every record (unit, then key order) into a malloc'd array the caller
 * frees (NULL when none). 0, SF_ENOMEM, SF_ECORRUPT or the store's error. */
int signkeys_list(store_txn_t *txn, store_t *store, signkey_t **keys, size_t *count);

/* Whether an item made at made_at may be signed by this record: the key is
 * in force, or made_at is before its until. */
bool signkeys_valid_at(const signkey_t *key, int64_t made_at);

#endif
