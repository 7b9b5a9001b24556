/* operators.h - the console's operator accounts, kept in the node's store
 * (DB_OPERATORS): a name, when it was created, and its password hashed with
 * libsodium's crypto_pwhash_str (Argon2id, OPSLIMIT/MEMLIMIT_INTERACTIVE:
 * about 64 MiB and a tenth of a second per hash or check, so a login costs
 * a guesser as much as the operator; docs/console.md).
 *
 * The password itself is never stored, logged or kept beyond the call; the
 * check is crypto_pwhash_str_verify's (constant time in the password).
 * Hashing runs before the write transaction, so LMDB's writer lock is not
 * held for it.
 *
 * Each function runs its own transaction (store.h): a change is durable
 * (fsync'd) when it returns 0. Threading as store.h. Errors: 0 or a
 * negative sf_err_t. */
#ifndef SHIFAN_OPERATORS_H
#define SHIFAN_OPERATORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/store.h"

#define OPERATORS_NAME_MAX 64       /* bytes of a name */
#define OPERATORS_PASSWORD_MIN 8    /* bytes of a password */
#define OPERATORS_PASSWORD_MAX 1024 /* bytes of a password */

typedef struct {
    char name[OPERATORS_NAME_MAX + 1];
    int64_t created_at; /* unix seconds */
} operators_entry_t;

/* True if name is 1..OPERATORS_NAME_MAX bytes with no space, control
 * character or ':' (UTF-8 such as 张三 is fine). */
bool operators_name_valid(const char *name);

/* Creates the account name with password (hashed here), created at
 * created_at. SF_EINVAL for a bad name or a password outside
 * OPERATORS_PASSWORD_MIN..MAX bytes; SF_EEXIST if the name exists (nothing
 * changed); SF_ENOMEM if hashing cannot get its memory; the store's error. */
int operators_add(store_t *store, const char *name, const char *password, int64_t created_at);

/* Deletes the account: 0, SF_ENOTFOUND if there is none, the store's error. */
int operators_remove(store_t *store, const char *name);

/* Checks password against the stored hash: 0 if it matches; SF_EDENIED for a
 * wrong password or an unknown name (the caller cannot tell them apart, nor
 * by the time taken: an unknown name is checked against a hash too);
 * SF_ECORRUPT for a stored value that is no hash; the store's error. */
int operators_verify(store_t *store, const char *name, const char *password);

/* True if the account exists (false also when the store cannot be read). */
bool operators_exists(store_t *store, const char *name);

/* How many accounts exist (0 also when the store cannot be read). */
size_t operators_count(store_t *store);

/* Every account in name order into a malloc'd array (*entries, the caller
 * frees; NULL when there is none) of *count. 0, SF_ENOMEM, SF_ECORRUPT or
 * the store's error. */
int operators_list(store_t *store, operators_entry_t **entries, size_t *count);

#endif
