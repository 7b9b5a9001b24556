/* audit.h - the audit trail of changes made through the console (and of
 * operator accounts made on the command line), kept in the node's store
 * (DB_AUDIT): when, who (the operator), on which node, what (the action)
 * and to what (the target). Entries are numbered in the order written and
 * never changed or deleted by the program.
 *
 * Storage knows no operator or route: the fields are opaque text here.
 * Each function runs its own transaction (store.h): an entry is durable
 * (fsync'd) when audit_append returns 0. Threading as store.h. Errors: 0 or
 * a negative sf_err_t. */
#ifndef SHIFAN_AUDIT_H
#define SHIFAN_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "storage/store.h"

typedef struct {
    uint64_t seq;  /* 1, 2, ... in the order written (set by audit_append) */
    int64_t at;    /* unix seconds */
    char who[65];  /* the operator's name */
    char node[32]; /* the node's code */
    char action[64];
    char target[256];
} audit_entry_t;

/* Appends entry (its seq ignored) as the next one, durably. Fields longer
 * than their arrays are cut; none may hold a NUL beyond its end. 0 or the
 * store's error (nothing written). */
int audit_append(store_t *store, const audit_entry_t *entry);

/* The newest max entries (max 0: all), oldest first, into a malloc'd array
 * (*entries, the caller frees; NULL when there is none) of *count. 0,
 * SF_ENOMEM, SF_ECORRUPT or the store's error. */
int audit_list(store_t *store, size_t max, audit_entry_t **entries, size_t *count);

#endif
