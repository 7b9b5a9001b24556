/* fuzz_package: a sneakernet package as import-package opens it
 * (transport/package.h). The input is the plaintext the seal protects (a
 * PackageSeal: a signed Package), sealed here to a fixed recipient key as
 * a sender would, so the fuzzer reaches the parsing and the signature check
 * behind the seal; the raw input is also tried as a whole file.
 *
 * Properties: no sanitizer report or leak; a package that opens has a
 * sender code, a first sequence number and at least one item; it seals
 * again, under a key of our own, into a file that opens to the same
 * sender, numbers and item bytes. */
#include "fuzz_common.h"

#include "transport/package.h"

#include <sodium.h>

static uint8_t recipient_public[crypto_box_PUBLICKEYBYTES],
    recipient_secret[crypto_box_SECRETKEYBYTES];
static uint8_t sign_public[crypto_sign_PUBLICKEYBYTES], sign_secret[crypto_sign_SECRETKEYBYTES];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    uint8_t seed[32] = {7};
    if (sodium_init() < 0 || crypto_box_seed_keypair(recipient_public, recipient_secret, seed) ||
        crypto_sign_seed_keypair(sign_public, sign_secret, seed))
        abort();
    return 0;
}

/* The package sealed again by us opens to the same contents. */
static void check_round_trip(const package_t *package)
{
    uint8_t *file = NULL;
    size_t len = 0;
    sf_error_t error;
    if (package_seal(package, sign_public, sign_secret, recipient_public, &file, &len, &error))
        fuzz_fail("a package that opened does not seal again: %s", error.text);
    package_t *again = package_open(file, len, recipient_public, recipient_secret, &error);
    if (!again)
        fuzz_fail("a package sealed again does not open: %s", error.text);
    if (strcmp(again->from, package->from) || again->epoch != package->epoch ||
        again->first_seq != package->first_seq || again->made_at != package->made_at ||
        again->item_count != package->item_count)
        fuzz_fail("a package sealed again opens to other contents");
    for (size_t i = 0; i < package->item_count; i++)
        if (again->items[i].len != package->items[i].len ||
            (package->items[i].len &&
             memcmp(again->items[i].data, package->items[i].data, package->items[i].len)))
            fuzz_fail("item %zu differs after sealing again", i);
    package_destroy(&again);
    free(file);
}

static void try_file(const uint8_t *file, size_t len)
{
    sf_error_t error;
    package_t *package = package_open(file, len, recipient_public, recipient_secret, &error);
    if (!package)
        return;
    if (!package->from[0] || package->first_seq == 0 || package->item_count == 0)
        fuzz_fail("package_open accepted a package with no sender, sequence or item");
    check_round_trip(package);
    package_destroy(&package);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    try_file(data, size);
    static const char magic[] = PACKAGE_MAGIC;
    size_t len = sizeof magic - 1 + crypto_box_SEALBYTES + size;
    uint8_t *file = malloc(len);
    if (!file)
        return 0;
    memcpy(file, magic, sizeof magic - 1);
    crypto_box_seal(file + sizeof magic - 1, data, size, recipient_public);
    try_file(file, len);
    free(file);
    return 0;
}
