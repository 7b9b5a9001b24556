/* store_backup (store.h) on real LMDB files: the copy is a store of its
 * own that opens and holds the same records as the original at the time
 * of the copy, compacted (deleted records leave no pages behind), with
 * mode 0600; a target that is not empty, or not there, is refused and
 * left as it was. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.h"
#include "storage/store.h"
#include "store_fixture.h"

#define RECORDS 400

struct fill {
    store_t *store;
    int first, last;
    bool remove;
};

static void record_key(char *key, size_t size, int i)
{
    snprintf(key, size, "report-%04d", i);
}

/* Puts (or deletes) reports first..last, each a 1 KiB value naming its key. */
static int fill_fn(store_txn_t *txn, void *arg)
{
    struct fill *a = arg;
    for (int i = a->first; i <= a->last; i++) {
        char key[32], value[1024];
        record_key(key, sizeof key, i);
        memset(value, 'x', sizeof value);
        memcpy(value, key, strlen(key));
        int rc = a->remove ? store_del(txn, a->store, DB_REPORTS, key, strlen(key))
                           : store_put(txn, a->store, DB_REPORTS, key, strlen(key), value,
                                       sizeof value, 0);
        if (rc)
            return rc;
    }
    return store_put_string(txn, a->store, DB_META, "role", "prefecture");
}

struct check {
    store_t *store;
    int first, last;
};

/* Every report first..last is there with its value; no other is. */
static int check_fn(store_txn_t *txn, void *arg)
{
    struct check *a = arg;
    for (int i = 0; i < RECORDS; i++) {
        char key[32];
        const void *value;
        size_t len;
        record_key(key, sizeof key, i);
        int rc = store_get(txn, a->store, DB_REPORTS, key, strlen(key), &value, &len);
        if (i < a->first || i > a->last) {
            assert_int_equal(rc, SF_ENOTFOUND);
            continue;
        }
        assert_int_equal(rc, 0);
        assert_int_equal(len, 1024);
        assert_memory_equal(value, key, strlen(key));
    }
    char role[32];
    assert_int_equal(store_get_string(txn, a->store, DB_META, "role", role, sizeof role), 0);
    assert_string_equal(role, "prefecture");
    return 0;
}

static void remove_dir(const char *dir)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static off_t file_size(const char *dir, const char *name, mode_t *mode)
{
    char path[128];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    assert_int_equal(stat(path, &st), 0);
    if (mode)
        *mode = st.st_mode & 0777;
    return st.st_size;
}

static void the_copy_opens_and_holds_the_same_records_compacted(void **state)
{
    store_fixture_t *f = *state;
    struct fill put = {f->store, 0, RECORDS - 1, false};
    assert_int_equal(store_write(f->store, fill_fn, &put), 0);
    /* Half of them deleted again: their pages are free in the original. */
    struct fill del = {f->store, 0, RECORDS / 2 - 1, true};
    assert_int_equal(store_write(f->store, fill_fn, &del), 0);

    char dir[] = "/tmp/shifan-backup-XXXXXX";
    assert_non_null(mkdtemp(dir));
    sf_error_t error = {0, ""};
    assert_int_equal(store_backup(f->store, dir, &error), 0);
    mode_t mode;
    off_t copied = file_size(dir, "data.mdb", &mode);
    assert_int_equal(mode, 0600);
    assert_true(copied < file_size(f->dir, "data.mdb", NULL));

    /* A write after the copy is not in it. */
    struct fill later = {f->store, 0, 0, false};
    assert_int_equal(store_write(f->store, fill_fn, &later), 0);

    store_t *copy = store_open(dir, 0, &error);
    assert_non_null(copy);
    assert_int_equal(store_count(copy, DB_REPORTS), RECORDS / 2);
    struct check check = {copy, RECORDS / 2, RECORDS - 1};
    assert_int_equal(store_read(copy, check_fn, &check), 0);
    store_destroy(&copy);
    assert_int_equal(store_count(f->store, DB_REPORTS), RECORDS / 2 + 1);
    remove_dir(dir);
}

static void a_target_that_is_not_empty_or_absent_is_refused(void **state)
{
    store_fixture_t *f = *state;
    char dir[] = "/tmp/shifan-backup-XXXXXX", path[64];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    FILE *file = fopen(path, "w");
    assert_non_null(file);
    fputs("an older backup", file);
    fclose(file);

    sf_error_t error = {0, ""};
    assert_int_equal(store_backup(f->store, dir, &error), SF_EEXIST);
    assert_int_equal(error.code, SF_EEXIST);
    assert_non_null(strstr(error.text, "not empty"));
    assert_int_equal(file_size(dir, "data.mdb", NULL), (off_t)strlen("an older backup"));

    /* Any other file counts too. */
    unlink(path);
    snprintf(path, sizeof path, "%s/notes.txt", dir);
    assert_non_null(file = fopen(path, "w"));
    fclose(file);
    assert_int_equal(store_backup(f->store, dir, &error), SF_EEXIST);
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    assert_int_not_equal(access(path, F_OK), 0);

    snprintf(path, sizeof path, "%s/missing", dir);
    assert_int_equal(store_backup(f->store, path, &error), SF_EIO);
    remove_dir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(the_copy_opens_and_holds_the_same_records_compacted,
                                        store_fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(a_target_that_is_not_empty_or_absent_is_refused,
                                        store_fixture_setup, store_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
