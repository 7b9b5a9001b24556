/* A temp directory per test for the key files' tests (test_keys,
 * test_sign): its two file paths, and the helpers both read and write
 * them with. Include after cmocka.h. */
#ifndef SHIFAN_KEYDIR_FIXTURE_H
#define SHIFAN_KEYDIR_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    char dir[64];
    char secret_path[128], public_path[128];
} fixture_t;

/* A new fixture in *state: a directory /tmp/shifan-PREFIX-XXXXXX, and the
 * paths of the two files named there. */
static int keydir_setup(void **state, const char *prefix, const char *secret_name,
                        const char *public_name)
{
    fixture_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/shifan-%s-XXXXXX", prefix);
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->secret_path, sizeof f->secret_path, "%s/%s", f->dir, secret_name);
    snprintf(f->public_path, sizeof f->public_path, "%s/%s", f->dir, public_name);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static unsigned file_mode(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_mode & 0777;
}

static void write_text(const char *path, const char *text, unsigned mode)
{
    FILE *file = fopen(path, "w");
    assert_non_null(file);
    fputs(text, file);
    fclose(file);
    assert_int_equal(chmod(path, mode), 0);
}

#endif
