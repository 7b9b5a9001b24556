/* A sneakernet package (package.h): what is sealed opens to the same items,
 * byte for byte, with its sender, stream position and signer; it opens only
 * with the recipient's CURVE pair; a flipped byte anywhere, a signature by
 * another key than the one it names, or a file that is no package is
 * refused with a sentence. Keys are real CURVE pairs from libzmq, decoded
 * from Z85 as a node holds them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "base/error.h"
#include "transport/package.h"

typedef struct {
    uint8_t public_key[32], secret_key[32];
} curve_pair_t;

typedef struct {
    uint8_t public_key[PACKAGE_SIGN_PUBLIC_BYTES], secret_key[PACKAGE_SIGN_SECRET_BYTES];
} signing_pair_t;

static void curve_pair(curve_pair_t *pair)
{
    char public_z85[41], secret_z85[41];
    assert_int_equal(zmq_curve_keypair(public_z85, secret_z85), 0);
    assert_non_null(zmq_z85_decode(pair->public_key, public_z85));
    assert_non_null(zmq_z85_decode(pair->secret_key, secret_z85));
}

static void sign_pair(signing_pair_t *pair)
{
    assert_true(sodium_init() >= 0);
    crypto_sign_keypair(pair->public_key, pair->secret_key);
}

/* Three items, one with NULs and high bytes, as outbox payloads are. */
static const uint8_t item_a[] = {0x0a, 0x03, 'a', 'b', 'c'};
static const uint8_t item_b[] = {0x00, 0xff, 0x00, 0x80, 0x7f};
static const uint8_t item_c[] = {'r', 'e', 'p', 'o', 'r', 't'};
static const package_item_t items[] = {
    {item_a, sizeof item_a}, {item_b, sizeof item_b}, {item_c, sizeof item_c}};

static package_t sample_package(void)
{
    package_t package = {.from = "530102",
                         .epoch = 0x1122334455667788ULL,
                         .first_seq = 7,
                         .made_at = 1783000000,
                         .items = items,
                         .item_count = 3};
    return package;
}

static void seal_sample(const signing_pair_t *signer, const uint8_t *claimed_public,
                        const curve_pair_t *recipient, uint8_t **file, size_t *len)
{
    package_t package = sample_package();
    sf_error_t error = {0, ""};
    assert_int_equal(package_seal(&package, claimed_public, signer->secret_key,
                                  recipient->public_key, file, len, &error),
                     0);
}

static void a_package_opens_to_what_was_sealed(void **state)
{
    (void)state;
    curve_pair_t parent;
    signing_pair_t county;
    curve_pair(&parent);
    sign_pair(&county);
    uint8_t *file = NULL;
    size_t len = 0;
    seal_sample(&county, county.public_key, &parent, &file, &len);
    assert_memory_equal(file, "SHIFAN-PACKAGE-1\n", PACKAGE_MAGIC_LEN);
    sf_error_t error = {0, ""};
    package_t *opened = package_open(file, len, parent.public_key, parent.secret_key, &error);
    assert_non_null(opened);
    assert_string_equal(opened->from, "530102");
    assert_true(opened->epoch == 0x1122334455667788ULL);
    assert_int_equal(opened->first_seq, 7);
    assert_int_equal(opened->made_at, 1783000000);
    assert_memory_equal(opened->signer_key, county.public_key, PACKAGE_SIGN_PUBLIC_BYTES);
    assert_int_equal(opened->item_count, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(opened->items[i].len, items[i].len);
        assert_memory_equal(opened->items[i].data, items[i].data, items[i].len);
    }
    package_destroy(&opened);
    assert_null(opened);
    free(file);
}

static void a_package_for_another_node_does_not_open(void **state)
{
    (void)state;
    curve_pair_t parent, other;
    signing_pair_t county;
    curve_pair(&parent);
    curve_pair(&other);
    sign_pair(&county);
    uint8_t *file = NULL;
    size_t len = 0;
    seal_sample(&county, county.public_key, &parent, &file, &len);
    sf_error_t error = {0, ""};
    assert_null(package_open(file, len, other.public_key, other.secret_key, &error));
    assert_int_equal(error.code, SF_EINVAL);
    assert_non_null(strstr(error.text, "does not open with this node's key"));
    free(file);
}

static void a_flipped_byte_anywhere_is_refused(void **state)
{
    (void)state;
    curve_pair_t parent;
    signing_pair_t county;
    curve_pair(&parent);
    sign_pair(&county);
    uint8_t *file = NULL;
    size_t len = 0;
    seal_sample(&county, county.public_key, &parent, &file, &len);
    /* The magic line, the ephemeral key, the MAC, the ciphertext, its end. */
    const size_t at[] = {
        0, PACKAGE_MAGIC_LEN, PACKAGE_MAGIC_LEN + 40, PACKAGE_MAGIC_LEN + 60, len / 2, len - 1};
    for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
        file[at[i]] ^= 0x01;
        sf_error_t error = {0, ""};
        assert_null(package_open(file, len, parent.public_key, parent.secret_key, &error));
        assert_int_equal(error.code, SF_EINVAL);
        file[at[i]] ^= 0x01;
    }
    sf_error_t error = {0, ""};
    package_t *intact = package_open(file, len, parent.public_key, parent.secret_key, &error);
    assert_non_null(intact);
    package_destroy(&intact);
    free(file);
}

static void a_signature_by_another_key_than_the_one_named_is_refused(void **state)
{
    (void)state;
    curve_pair_t parent;
    signing_pair_t county, impostor;
    curve_pair(&parent);
    sign_pair(&county);
    sign_pair(&impostor);
    uint8_t *file = NULL;
    size_t len = 0;
    /* Names the county's key, signed by another: anyone can seal to the
     * parent, so only the signature says who made it. */
    seal_sample(&impostor, county.public_key, &parent, &file, &len);
    sf_error_t error = {0, ""};
    assert_null(package_open(file, len, parent.public_key, parent.secret_key, &error));
    assert_int_equal(error.code, SF_EINVAL);
    assert_non_null(strstr(error.text, "signature does not hold"));
    free(file);
}

static void what_is_no_package_is_refused(void **state)
{
    (void)state;
    curve_pair_t parent;
    signing_pair_t county;
    curve_pair(&parent);
    sign_pair(&county);
    const char *texts[] = {"", "SHIFAN-PACKAGE-1\n",
                           "SHIFAN-PACKAGE-2\n0123456789012345678901234"
                           "567890123456789012345678901234567890123"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        sf_error_t error = {0, ""};
        assert_null(package_open((const uint8_t *)texts[i], strlen(texts[i]), parent.public_key,
                                 parent.secret_key, &error));
        assert_int_equal(error.code, SF_EINVAL);
        assert_non_null(strstr(error.text, "not a Shifan package"));
    }
    /* Nor is a package of nothing, or one with no sender, made. */
    package_t empty = sample_package();
    empty.item_count = 0;
    uint8_t *file = NULL;
    size_t len = 0;
    sf_error_t error = {0, ""};
    assert_int_equal(package_seal(&empty, county.public_key, county.secret_key, parent.public_key,
                                  &file, &len, &error),
                     SF_EINVAL);
    package_t anonymous = sample_package();
    anonymous.from[0] = '\0';
    assert_int_equal(package_seal(&anonymous, county.public_key, county.secret_key,
                                  parent.public_key, &file, &len, &error),
                     SF_EINVAL);
    assert_null(file);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_package_opens_to_what_was_sealed),
        cmocka_unit_test(a_package_for_another_node_does_not_open),
        cmocka_unit_test(a_flipped_byte_anywhere_is_refused),
        cmocka_unit_test(a_signature_by_another_key_than_the_one_named_is_refused),
        cmocka_unit_test(what_is_no_package_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
