/* A node's signing pair on disk (sign.h): created once and loaded back the
 * same, made on open when a directory has none, a secret others may read
 * or a damaged one refused with a sentence (and never replaced), and the
 * fingerprint against vectors computed outside libsodium. Real files in a
 * temporary directory. */
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
#include "transport/sign.h"
#include "keydir_fixture.h"

/* RFC 8032, section 7.1, TEST 1: the secret key (seed) and its public key. */
#define RFC8032_SEED "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
#define RFC8032_PUBLIC "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
/* Computed independently of libsodium, with python3:
 *   d = hashlib.blake2b(bytes.fromhex(PUBLIC), digest_size=32).digest()[:10]
 *   base64.b32encode(d).decode()  ->  grouped by four with '-' */
#define RFC8032_FINGERPRINT "PBE2-YMCJ-NAF6-D33W"
/* The same for the key bytes 0x00, 0x01, ..., 0x1f. */
#define COUNTING_FINGERPRINT "ZMXV-CYH4-D57A-LJK6"

static int setup(void **state)
{
    return keydir_setup(state, "sign", "sign.secret", "sign.public");
}

static void read_line(const char *path, char *out, size_t size)
{
    FILE *file = fopen(path, "r");
    assert_non_null(file);
    assert_non_null(fgets(out, (int)size, file));
    fclose(file);
}

static void a_created_pair_loads_back_the_same(void **state)
{
    fixture_t *f = *state;
    sign_pair_t created, loaded;
    char err[512] = "";
    assert_int_equal(sign_keys_create(f->dir, &created), 0);
    assert_int_equal(file_mode(f->secret_path), 0600);
    assert_int_equal(file_mode(f->public_path), 0644);
    memset(&loaded, 0, sizeof loaded);
    assert_int_equal(sign_keys_load(f->dir, &loaded, err, sizeof err), 0);
    assert_memory_equal(loaded.secret_key, created.secret_key, SIGN_SECRET_BYTES);
    assert_memory_equal(loaded.public_key, created.public_key, SIGN_PUBLIC_BYTES);
    /* sign.public holds the public key in hex, on one line. */
    char hex[SIGN_PUBLIC_HEX_LEN + 1], line[128];
    sign_public_hex(created.public_key, hex);
    read_line(f->public_path, line, sizeof line);
    assert_int_equal(strlen(line), SIGN_PUBLIC_HEX_LEN + 1);
    assert_memory_equal(line, hex, SIGN_PUBLIC_HEX_LEN);
    char tmp[160];
    snprintf(tmp, sizeof tmp, "%s.tmp", f->secret_path);
    assert_int_not_equal(access(tmp, F_OK), 0);
    /* A second create changes nothing. */
    sign_pair_t again;
    assert_int_equal(sign_keys_create(f->dir, &again), SF_EEXIST);
    assert_int_equal(sign_keys_load(f->dir, &loaded, err, sizeof err), 0);
    assert_memory_equal(loaded.public_key, created.public_key, SIGN_PUBLIC_BYTES);
}

static void open_makes_a_pair_where_there_is_none_and_keeps_it(void **state)
{
    fixture_t *f = *state;
    sign_pair_t first, second;
    char err[512] = "";
    assert_int_equal(sign_keys_load(f->dir, &first, err, sizeof err), SF_ENOTFOUND);
    assert_int_equal(sign_keys_open(f->dir, &first, err, sizeof err), 0);
    assert_int_equal(file_mode(f->secret_path), 0600);
    assert_int_equal(access(f->public_path, F_OK), 0);
    assert_int_equal(sign_keys_open(f->dir, &second, err, sizeof err), 0);
    assert_memory_equal(second.secret_key, first.secret_key, SIGN_SECRET_BYTES);
}

static void a_known_secret_gives_its_public_key_and_fingerprint(void **state)
{
    fixture_t *f = *state;
    write_text(f->secret_path, RFC8032_SEED RFC8032_PUBLIC "\n", 0600);
    sign_pair_t pair;
    char err[512] = "", hex[SIGN_PUBLIC_HEX_LEN + 1], fingerprint[SIGN_FINGERPRINT_LEN + 1];
    assert_int_equal(sign_keys_load(f->dir, &pair, err, sizeof err), 0);
    sign_public_hex(pair.public_key, hex);
    assert_string_equal(hex, RFC8032_PUBLIC);
    sign_fingerprint(pair.public_key, fingerprint);
    assert_string_equal(fingerprint, RFC8032_FINGERPRINT);
    /* A missing sign.public is written again from the secret. */
    char line[128];
    read_line(f->public_path, line, sizeof line);
    assert_string_equal(line, RFC8032_PUBLIC "\n");
}

static void the_fingerprint_matches_an_independent_computation(void **state)
{
    (void)state;
    uint8_t key[SIGN_PUBLIC_BYTES];
    for (int i = 0; i < SIGN_PUBLIC_BYTES; i++)
        key[i] = (uint8_t)i;
    char fingerprint[SIGN_FINGERPRINT_LEN + 1];
    memset(fingerprint, 'x', sizeof fingerprint);
    sign_fingerprint(key, fingerprint);
    assert_string_equal(fingerprint, COUNTING_FINGERPRINT);
    assert_int_equal(strlen(fingerprint), SIGN_FINGERPRINT_LEN);
}

static void a_secret_others_may_read_is_refused(void **state)
{
    fixture_t *f = *state;
    sign_pair_t pair;
    char err[512] = "";
    assert_int_equal(sign_keys_create(f->dir, &pair), 0);
    assert_int_equal(chmod(f->secret_path, 0640), 0);
    assert_int_equal(sign_keys_open(f->dir, &pair, err, sizeof err), SF_EDENIED);
    assert_non_null(strstr(err, "chmod 600"));
}

/* Each damaged secret is refused with a sentence, and open does not make a
 * new pair over it: the operator decides. */
static void a_damaged_secret_is_refused_and_kept(void **state)
{
    fixture_t *f = *state;
    static const char *damaged[] = {
        "",
        "not hex at all\n",
        RFC8032_SEED "\n", /* the seed alone */
        RFC8032_SEED "e75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a\n",
    };
    for (size_t i = 0; i < sizeof damaged / sizeof *damaged; i++) {
        write_text(f->secret_path, damaged[i], 0600);
        sign_pair_t pair;
        char err[512] = "", line[256] = "";
        assert_int_equal(sign_keys_open(f->dir, &pair, err, sizeof err), SF_ECORRUPT);
        assert_non_null(strstr(err, "is not a signing secret key"));
        assert_non_null(strstr(err, f->secret_path));
        FILE *file = fopen(f->secret_path, "r");
        assert_non_null(file);
        if (!fgets(line, sizeof line, file))
            line[0] = '\0';
        fclose(file);
        assert_string_equal(line, damaged[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(a_created_pair_loads_back_the_same, setup, teardown),
        cmocka_unit_test_setup_teardown(open_makes_a_pair_where_there_is_none_and_keeps_it, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_known_secret_gives_its_public_key_and_fingerprint, setup,
                                        teardown),
        cmocka_unit_test(the_fingerprint_matches_an_independent_computation),
        cmocka_unit_test_setup_teardown(a_secret_others_may_read_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(a_damaged_secret_is_refused_and_kept, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
