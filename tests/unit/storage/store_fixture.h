/* A fresh store in a temp directory per test, for the storage tests:
 * cmocka's setup and teardown (the state is a store_fixture_t). */
#ifndef SHIFAN_STORE_FIXTURE_H
#define SHIFAN_STORE_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/error.h"
#include "storage/store.h"

typedef struct {
    char dir[64];
    store_t *store;
} store_fixture_t;

static int store_fixture_setup(void **state)
{
    store_fixture_t *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/shifan-store-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    sf_error_t error = {0, ""};
    f->store = store_open(f->dir, 0, &error);
    *state = f;
    return f->store ? 0 : -1;
}

/* The environment is two files (data.mdb, lock.mdb) in the directory. */
static int store_fixture_teardown(void **state)
{
    store_fixture_t *f = *state;
    store_destroy(&f->store);
    char path[96];
    int rc = 0;
    for (const char *const *name = (const char *const[]){"data.mdb", "lock.mdb", NULL}; *name;
         name++) {
        snprintf(path, sizeof path, "%s/%s", f->dir, *name);
        rc |= unlink(path);
    }
    rc |= rmdir(f->dir);
    free(f);
    return rc ? -1 : 0;
}

#endif
