/* A node's key pair on disk (keys.h): created once and loaded back the
 * same, a secret others may read refused, missing and damaged files told
 * apart, Z85 checked before it is decoded. Real files in a temporary
 * directory. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "base/error.h"
#include "transport/keys.h"
#include "keydir_fixture.h"

static int setup(void **state)
{
    return keydir_setup(state, "keys", "node.secret", "node.public");
}

static void a_created_pair_loads_back_the_same(void **state)
{
    fixture_t *f = *state;
    keys_pair_t created, loaded;
    assert_int_equal(keys_create(f->dir, &created), 0);
    assert_true(keys_valid_z85(created.public_z85));
    assert_true(keys_valid_z85(created.secret_z85));
    assert_string_not_equal(created.public_z85, created.secret_z85);
    assert_int_equal(file_mode(f->secret_path), 0600);
    assert_int_equal(file_mode(f->public_path), 0644);
    memset(&loaded, 0, sizeof loaded);
    assert_int_equal(keys_load(f->dir, &loaded), 0);
    assert_string_equal(loaded.secret_z85, created.secret_z85);
    assert_string_equal(loaded.public_z85, created.public_z85);
    /* Written to a temporary name and renamed: none is left behind. */
    char tmp[160];
    snprintf(tmp, sizeof tmp, "%s.tmp", f->secret_path);
    assert_int_not_equal(access(tmp, F_OK), 0);
}

static void a_second_create_keeps_the_first_pair(void **state)
{
    fixture_t *f = *state;
    keys_pair_t first, second, loaded;
    assert_int_equal(keys_create(f->dir, &first), 0);
    assert_int_equal(keys_create(f->dir, &second), SF_EEXIST);
    assert_int_equal(keys_load(f->dir, &loaded), 0);
    assert_string_equal(loaded.secret_z85, first.secret_z85);
}

static void a_secret_readable_by_group_or_others_is_refused(void **state)
{
    fixture_t *f = *state;
    keys_pair_t pair;
    assert_int_equal(keys_create(f->dir, &pair), 0);
    assert_int_equal(chmod(f->secret_path, 0640), 0);
    assert_int_equal(keys_load(f->dir, &pair), SF_EDENIED);
    assert_int_equal(chmod(f->secret_path, 0604), 0);
    assert_int_equal(keys_load(f->dir, &pair), SF_EDENIED);
    assert_int_equal(chmod(f->secret_path, 0600), 0);
    assert_int_equal(keys_load(f->dir, &pair), 0);
}

static void missing_files_are_not_found(void **state)
{
    fixture_t *f = *state;
    keys_pair_t pair;
    assert_int_equal(keys_load(f->dir, &pair), SF_ENOTFOUND);
    char missing[128];
    snprintf(missing, sizeof missing, "%s/no-such-dir", f->dir);
    assert_int_equal(keys_load(missing, &pair), SF_ENOTFOUND);
    /* Only the public file is derived: without it the pair still loads. */
    keys_pair_t created;
    assert_int_equal(keys_create(f->dir, &created), 0);
    assert_int_equal(unlink(f->public_path), 0);
    assert_int_equal(keys_load(f->dir, &pair), 0);
    assert_string_equal(pair.public_z85, created.public_z85);
}

static void a_malformed_secret_is_corrupt(void **state)
{
    fixture_t *f = *state;
    keys_pair_t pair;
    const char *bad[] = {
        "",                                                     /* empty */
        "\n",                                                   /* an empty line */
        "012345678901234567890123456789012345678\n",            /* 39 characters */
        "012345678901234567890123456789012345678~\n",           /* '~' is not Z85 */
        "01234567890123456789012345678901234567890123456789\n", /* 50 */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_text(f->secret_path, bad[i], 0600);
        assert_int_equal(keys_load(f->dir, &pair), SF_ECORRUPT);
    }
}

static void the_public_key_is_derived_from_the_secret(void **state)
{
    fixture_t *f = *state;
    keys_pair_t created, other, loaded;
    assert_int_equal(keys_create(f->dir, &created), 0);
    assert_int_equal(zmq_curve_keypair(other.public_z85, other.secret_z85), 0);
    char line[64];
    snprintf(line, sizeof line, "%s\n", other.public_z85);
    write_text(f->public_path, line, 0644);
    assert_int_equal(keys_load(f->dir, &loaded), 0);
    assert_string_equal(loaded.public_z85, created.public_z85);
}

static void z85_is_checked_before_it_is_decoded(void **state)
{
    (void)state;
    keys_pair_t pair;
    assert_int_equal(zmq_curve_keypair(pair.public_z85, pair.secret_z85), 0);
    uint8_t key[32], again[32];
    assert_int_equal(keys_decode(pair.public_z85, key), 0);
    assert_non_null(zmq_z85_decode(again, pair.public_z85));
    assert_memory_equal(key, again, 32);

    assert_false(keys_valid_z85(NULL));
    assert_false(keys_valid_z85(""));
    char text[64];
    snprintf(text, sizeof text, "%.39s", pair.public_z85);
    assert_false(keys_valid_z85(text));
    assert_int_equal(keys_decode(text, key), SF_EINVAL);
    snprintf(text, sizeof text, "%.39s~", pair.public_z85 + 1);
    assert_false(keys_valid_z85(text));
    /* 45 valid characters would decode to 36 bytes: refused, not written. */
    snprintf(text, sizeof text, "%.40s12345", pair.public_z85);
    uint8_t guarded[48];
    memset(guarded, 0xAA, sizeof guarded);
    assert_int_equal(keys_decode(text, guarded), SF_EINVAL);
    for (size_t i = 0; i < sizeof guarded; i++)
        assert_int_equal(guarded[i], 0xAA);
}

static void a_key_converts_to_hex_and_back(void **state)
{
    (void)state;
    keys_pair_t pair;
    assert_int_equal(zmq_curve_keypair(pair.public_z85, pair.secret_z85), 0);
    uint8_t key[32];
    assert_int_equal(keys_decode(pair.public_z85, key), 0);
    char hex[KEYS_HEX_LEN + 1], expected[KEYS_HEX_LEN + 1];
    for (size_t i = 0; i < sizeof key; i++)
        snprintf(expected + 2 * i, 3, "%02x", key[i]);
    assert_int_equal(keys_z85_to_hex(pair.public_z85, hex), 0);
    assert_string_equal(hex, expected);
    char z85[KEYS_Z85_LEN + 1];
    assert_int_equal(keys_from_text(hex, z85), 0);
    assert_string_equal(z85, pair.public_z85);
    for (char *c = hex; *c; c++) /* upper case is the same key */
        *c = (char)(*c >= 'a' && *c <= 'f' ? *c - 'a' + 'A' : *c);
    assert_int_equal(keys_from_text(hex, z85), 0);
    assert_string_equal(z85, pair.public_z85);
    assert_int_equal(keys_z85_to_hex("not a key", hex), SF_EINVAL);
    assert_string_equal(hex, "");
}

static void key_text_is_z85_or_hex_with_whitespace_around_ignored(void **state)
{
    (void)state;
    keys_pair_t pair;
    assert_int_equal(zmq_curve_keypair(pair.public_z85, pair.secret_z85), 0);
    char text[128], z85[KEYS_Z85_LEN + 1], hex[KEYS_HEX_LEN + 1];
    snprintf(text, sizeof text, "%s\n", pair.public_z85); /* node.public, as stored */
    assert_int_equal(keys_from_text(text, z85), 0);
    assert_string_equal(z85, pair.public_z85);
    assert_int_equal(keys_z85_to_hex(pair.public_z85, hex), 0);
    snprintf(text, sizeof text, "  %s \r\n\t", hex);
    assert_int_equal(keys_from_text(text, z85), 0);
    assert_string_equal(z85, pair.public_z85);

    assert_int_equal(keys_from_text(NULL, z85), SF_EINVAL);
    assert_int_equal(keys_from_text("", z85), SF_EINVAL);
    assert_string_equal(z85, "");
    snprintf(text, sizeof text, "%.63s", hex); /* one digit short */
    assert_int_equal(keys_from_text(text, z85), SF_EINVAL);
    snprintf(text, sizeof text, "%.63sg", hex); /* not a hex digit */
    assert_int_equal(keys_from_text(text, z85), SF_EINVAL);
    snprintf(text, sizeof text, "%s %s", pair.public_z85, pair.public_z85); /* two keys */
    assert_int_equal(keys_from_text(text, z85), SF_EINVAL);
    snprintf(text, sizeof text, "%.39s~", pair.public_z85);
    assert_int_equal(keys_from_text(text, z85), SF_EINVAL);
    assert_string_equal(z85, "");
}

static void a_written_file_replaces_the_old_whole_with_its_mode(void **state)
{
    fixture_t *f = *state;
    char path[128], text[32];
    snprintf(path, sizeof path, "%s/file", f->dir);
    assert_int_equal(keys_write_file(path, "first\n", 0600), 0);
    assert_int_equal(keys_write_file(path, "second\n", 0640), 0);
    assert_int_equal(file_mode(path), 0640);
    FILE *file = fopen(path, "r");
    assert_non_null(file);
    assert_non_null(fgets(text, sizeof text, file));
    fclose(file);
    assert_string_equal(text, "second\n");
    snprintf(path, sizeof path, "%s/no-such-dir/file", f->dir);
    assert_int_equal(keys_write_file(path, "x", 0600), SF_EIO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(a_created_pair_loads_back_the_same, setup, teardown),
        cmocka_unit_test_setup_teardown(a_second_create_keeps_the_first_pair, setup, teardown),
        cmocka_unit_test_setup_teardown(a_secret_readable_by_group_or_others_is_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(missing_files_are_not_found, setup, teardown),
        cmocka_unit_test_setup_teardown(a_malformed_secret_is_corrupt, setup, teardown),
        cmocka_unit_test_setup_teardown(the_public_key_is_derived_from_the_secret, setup, teardown),
        cmocka_unit_test(z85_is_checked_before_it_is_decoded),
        cmocka_unit_test(a_key_converts_to_hex_and_back),
        cmocka_unit_test(key_text_is_z85_or_hex_with_whitespace_around_ignored),
        cmocka_unit_test_setup_teardown(a_written_file_replaces_the_old_whole_with_its_mode, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
