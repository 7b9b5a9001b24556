/* node_backup (backup --out) on a real county node in a temp dir: the
 * copy opens as a node of its own with the same reports and keys (modes
 * kept, keys/next/ included), while the original stays open; a target
 * that is not empty, inside the data directory or under a missing parent
 * is bad input and leaves nothing behind. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/error.h"
#include "app/node.h"
#include "report_fixture.h"

#include <zmq.h>

typedef struct {
    char dir[64], data[128];
    node_t *county;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    char key[41], secret[41], err[256];
    assert_int_equal(zmq_curve_keypair(key, secret), 0);
    snprintf(f->dir, sizeof f->dir, "/tmp/shifan-backup-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->data, sizeof f->data, "%s/data", f->dir);
    node_init_options_t options = {ROLE_COUNTY, "530102", NULL, "tcp://127.0.0.1:1", key, NULL};
    if (node_init(f->data, &options, err, sizeof err) != 0)
        fail_msg("init: %s", err);
    sf_error_t error = {0, ""};
    assert_non_null(f->county = node_open(f->data, ROLE_COUNTY, &error));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    node_destroy(&f->county);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    int rc = system(cmd);
    free(f);
    return rc;
}

static void submit(fixture_t *f)
{
    char err[512];
    report_t *report = fixture_report("530102");
    if (node_submit(f->county, report, err, sizeof err) != 0)
        fail_msg("submit: %s", err);
    report_destroy(&report);
}

static unsigned mode_of(const char *dir, const char *name)
{
    char path[256];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    assert_int_equal(stat(path, &st), 0);
    return st.st_mode & 0777;
}

/* The names in dir other than "." and "..", counted. */
static int entries(const char *dir)
{
    DIR *handle = opendir(dir);
    assert_non_null(handle);
    int count = 0;
    struct dirent *entry;
    while ((entry = readdir(handle)))
        count += strcmp(entry->d_name, ".") != 0 && strcmp(entry->d_name, "..") != 0;
    closedir(handle);
    return count;
}

static void the_copy_opens_as_a_node_with_the_same_reports_and_keys(void **state)
{
    fixture_t *f = *state;
    submit(f);
    submit(f);
    /* A rotation's leftovers are part of the keys. */
    char next[192], file[256], out[128], err[512];
    snprintf(next, sizeof next, "%s/keys/next", f->data);
    assert_int_equal(mkdir(next, 0700), 0);
    snprintf(file, sizeof file, "%s/sign.secret", next);
    FILE *handle = fopen(file, "w");
    assert_non_null(handle);
    fputs("pending", handle);
    fclose(handle);
    assert_int_equal(chmod(file, 0600), 0);

    snprintf(out, sizeof out, "%s/copy", f->dir);
    node_backup_t backup;
    assert_int_equal(node_backup(f->county, out, &backup, err, sizeof err), 0);
    assert_int_equal(backup.reports, 2);
    assert_int_equal(backup.key_files, 5);
    assert_true(backup.store_bytes > 0);
    assert_int_equal(mode_of(out, "store/data.mdb"), 0600);
    assert_int_equal(mode_of(out, "keys/node.secret"), 0600);
    assert_int_equal(mode_of(out, "keys/node.public"), 0644);
    assert_int_equal(mode_of(out, "keys/next/sign.secret"), 0600);
    assert_int_equal(entries(out), 3);    /* store, keys, run */
    assert_int_equal(entries(f->dir), 2); /* data, copy: no temporary left */

    sf_error_t error = {0, ""};
    node_t *copy = node_open(out, ROLE_COUNTY, &error);
    assert_non_null(copy);
    assert_string_equal(node_public_key(copy), node_public_key(f->county));
    node_versions_t *mine = node_list(f->county, NULL), *theirs = node_list(copy, NULL);
    assert_int_equal(theirs->count, 2);
    for (size_t i = 0; i < mine->count; i++)
        assert_string_equal(theirs->versions[i].report_id, mine->versions[i].report_id);
    node_versions_destroy(&mine);
    node_versions_destroy(&theirs);
    node_destroy(&copy);
}

static void a_target_not_empty_inside_the_data_or_without_a_parent_is_refused(void **state)
{
    fixture_t *f = *state;
    char out[160], err[512];
    node_backup_t backup;
    snprintf(out, sizeof out, "%s/data/keys", f->dir);
    assert_int_equal(node_backup(f->county, out, &backup, err, sizeof err), SF_EINVAL);
    assert_non_null(strstr(err, "exists and is not an empty directory"));

    snprintf(out, sizeof out, "%s/data/run/backup", f->dir);
    assert_int_equal(node_backup(f->county, out, &backup, err, sizeof err), SF_EINVAL);
    assert_non_null(strstr(err, "is inside the data directory"));
    snprintf(out, sizeof out, "%s/data/backup", f->dir);
    assert_int_equal(node_backup(f->county, out, &backup, err, sizeof err), SF_EINVAL);

    snprintf(out, sizeof out, "%s/missing/backup", f->dir);
    assert_int_equal(node_backup(f->county, out, &backup, err, sizeof err), SF_EINVAL);
    assert_int_equal(entries(f->dir), 1);

    /* An empty directory is taken, and replaced by the backup. */
    snprintf(out, sizeof out, "%s/empty", f->dir);
    assert_int_equal(mkdir(out, 0700), 0);
    assert_int_equal(node_backup(f->county, out, &backup, err, sizeof err), 0);
    assert_int_equal(entries(out), 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(the_copy_opens_as_a_node_with_the_same_reports_and_keys,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            a_target_not_empty_inside_the_data_or_without_a_parent_is_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
