/* package.c - a sneakernet package's bytes (package.h): sign, seal, open. */
#include "transport/package.h"

#include "base/msg.h"
#include "shifan.pb-c.h"

#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What package_open hands out, with what its pointers point into. */
typedef struct {
    package_t package; /* first: package_destroy casts back */
    Shifan__Package *unpacked;
    package_item_t *items;
} package_owned_t;

static void owned_free(package_owned_t *owned)
{
    if (!owned)
        return;
    if (owned->unpacked)
        shifan__package__free_unpacked(owned->unpacked, NULL);
    free(owned->items);
    free(owned);
}

/* context || body, malloc'd: the bytes the signature covers. */
static uint8_t *signed_bytes(const uint8_t *body, size_t len, size_t *out_len)
{
    size_t context_len = strlen(PACKAGE_SIGN_CONTEXT);
    uint8_t *out = malloc(context_len + len + 1);
    if (!out)
        return NULL;
    memcpy(out, PACKAGE_SIGN_CONTEXT, context_len);
    if (len)
        memcpy(out + context_len, body, len);
    *out_len = context_len + len;
    return out;
}

static int package_check(const package_t *package, sf_error_t *error)
{
    if (!package->item_count)
        return sf_error_set(error, SF_EINVAL, msg("a package holds at least one item"));
    if (!package->from[0] || strnlen(package->from, PACKAGE_FROM_MAX) >= PACKAGE_FROM_MAX)
        return sf_error_set(error, SF_EINVAL, msg("a package names its sender's unit code"));
    if (package->first_seq == 0)
        return sf_error_set(error, SF_EINVAL, msg("a package's first item has seq 1 or more"));
    return 0;
}

/* The packed Package, malloc'd in *out. */
static int package_pack(const package_t *package, uint8_t **out, size_t *out_len, sf_error_t *error)
{
    ProtobufCBinaryData *items = calloc(package->item_count, sizeof *items);
    if (!items)
        return sf_error_set(error, SF_ENOMEM, msg("out of memory"));
    size_t total = 0;
    for (size_t i = 0; i < package->item_count; i++) {
        items[i].data = (uint8_t *)package->items[i].data;
        items[i].len = package->items[i].len;
        total += package->items[i].len + 16;
    }
    Shifan__Package message = SHIFAN__PACKAGE__INIT;
    message.from = (char *)package->from;
    message.epoch = package->epoch;
    message.first_seq = package->first_seq;
    message.made_at = package->made_at;
    message.n_items = package->item_count;
    message.items = items;
    int rc = 0;
    if (total > PACKAGE_MAX_BYTES) {
        rc = sf_error_set(error, SF_ETOOBIG, msg("the package would exceed %zu MiB"),
                          PACKAGE_MAX_BYTES >> 20);
    } else if (!(*out = malloc((*out_len = shifan__package__get_packed_size(&message)) + 1))) {
        rc = sf_error_set(error, SF_ENOMEM, msg("out of memory"));
    } else {
        shifan__package__pack(&message, *out);
    }
    free(items);
    return rc;
}

/* The PackageSeal around packed: signed, then packed itself into *out. */
static int package_sign(const uint8_t *packed, size_t packed_len,
                        const uint8_t sign_public[PACKAGE_SIGN_PUBLIC_BYTES],
                        const uint8_t sign_secret[PACKAGE_SIGN_SECRET_BYTES], uint8_t **out,
                        size_t *out_len, sf_error_t *error)
{
    size_t message_len;
    uint8_t *message = signed_bytes(packed, packed_len, &message_len);
    if (!message)
        return sf_error_set(error, SF_ENOMEM, msg("out of memory"));
    uint8_t signature[crypto_sign_BYTES];
    crypto_sign_detached(signature, NULL, message, message_len, sign_secret);
    free(message);
    Shifan__PackageSeal seal = SHIFAN__PACKAGE_SEAL__INIT;
    seal.package.data = (uint8_t *)packed;
    seal.package.len = packed_len;
    seal.signature.data = signature;
    seal.signature.len = sizeof signature;
    seal.signer_key.data = (uint8_t *)sign_public;
    seal.signer_key.len = PACKAGE_SIGN_PUBLIC_BYTES;
    if (!(*out = malloc((*out_len = shifan__package_seal__get_packed_size(&seal)) + 1)))
        return sf_error_set(error, SF_ENOMEM, msg("out of memory"));
    shifan__package_seal__pack(&seal, *out);
    return 0;
}

int package_seal(const package_t *package, const uint8_t sign_public[PACKAGE_SIGN_PUBLIC_BYTES],
                 const uint8_t sign_secret[PACKAGE_SIGN_SECRET_BYTES],
                 const uint8_t recipient[PACKAGE_CURVE_KEY_BYTES], uint8_t **out, size_t *out_len,
                 sf_error_t *error)
{
    *out = NULL;
    *out_len = 0;
    if (sodium_init() < 0)
        return sf_error_set(error, SF_EIO, msg("libsodium cannot start"));
    uint8_t *packed = NULL, *plain = NULL;
    size_t packed_len = 0, plain_len = 0;
    int rc = package_check(package, error);
    if (!rc)
        rc = package_pack(package, &packed, &packed_len, error);
    if (!rc)
        rc = package_sign(packed, packed_len, sign_public, sign_secret, &plain, &plain_len, error);
    free(packed);
    if (rc)
        return rc;
    size_t file_len = PACKAGE_MAGIC_LEN + crypto_box_SEALBYTES + plain_len;
    uint8_t *file = file_len <= PACKAGE_MAX_BYTES ? malloc(file_len) : NULL;
    if (!file) {
        sodium_memzero(plain, plain_len);
        free(plain);
        return file_len > PACKAGE_MAX_BYTES
                   ? sf_error_set(error, SF_ETOOBIG, msg("the package would exceed %zu MiB"),
                                  PACKAGE_MAX_BYTES >> 20)
                   : sf_error_set(error, SF_ENOMEM, msg("out of memory"));
    }
    memcpy(file, PACKAGE_MAGIC, PACKAGE_MAGIC_LEN);
    crypto_box_seal(file + PACKAGE_MAGIC_LEN, plain, plain_len, recipient);
    free(plain);
    *out = file;
    *out_len = file_len;
    return 0;
}

/* The seal's plaintext, malloc'd in *plain: NULL with error if the file is
 * no package or does not open with this pair. */
static uint8_t *package_unseal(const uint8_t *file, size_t len,
                               const uint8_t recipient_public[PACKAGE_CURVE_KEY_BYTES],
                               const uint8_t recipient_secret[PACKAGE_CURVE_KEY_BYTES],
                               size_t *plain_len, sf_error_t *error)
{
    if (len > PACKAGE_MAX_BYTES) {
        sf_error_set(error, SF_ETOOBIG, msg("the file exceeds %zu MiB: no package"),
                     PACKAGE_MAX_BYTES >> 20);
        return NULL;
    }
    if (len < PACKAGE_MAGIC_LEN + crypto_box_SEALBYTES ||
        memcmp(file, PACKAGE_MAGIC, PACKAGE_MAGIC_LEN) != 0) {
        sf_error_set(error, SF_EINVAL, msg("not a Shifan package (its first line is not %s)"),
                     "SHIFAN-PACKAGE-1");
        return NULL;
    }
    size_t sealed_len = len - PACKAGE_MAGIC_LEN;
    uint8_t *plain = malloc(sealed_len - crypto_box_SEALBYTES + 1);
    if (!plain) {
        sf_error_set(error, SF_ENOMEM, msg("out of memory"));
        return NULL;
    }
    if (crypto_box_seal_open(plain, file + PACKAGE_MAGIC_LEN, sealed_len, recipient_public,
                             recipient_secret) != 0) {
        free(plain);
        sf_error_set(error, SF_EINVAL,
                     msg("the package does not open with this node's key: it was made for "
                         "another node, or it was altered"));
        return NULL;
    }
    *plain_len = sealed_len - crypto_box_SEALBYTES;
    return plain;
}

/* The PackageSeal's signature holds for the key it names. */
static bool seal_verifies(const Shifan__PackageSeal *seal)
{
    if (seal->signature.len != crypto_sign_BYTES ||
        seal->signer_key.len != PACKAGE_SIGN_PUBLIC_BYTES)
        return false;
    size_t message_len;
    uint8_t *message = signed_bytes(seal->package.data, seal->package.len, &message_len);
    if (!message)
        return false;
    bool ok = crypto_sign_verify_detached(seal->signature.data, message, message_len,
                                          seal->signer_key.data) == 0;
    free(message);
    return ok;
}

/* The Package inside a verified seal, as a package_owned_t. */
static package_owned_t *package_parse(const Shifan__PackageSeal *seal, sf_error_t *error)
{
    package_owned_t *owned = calloc(1, sizeof *owned);
    if (!owned) {
        sf_error_set(error, SF_ENOMEM, msg("out of memory"));
        return NULL;
    }
    owned->unpacked = shifan__package__unpack(NULL, seal->package.len, seal->package.data);
    if (!owned->unpacked)
        goto malformed;
    package_t *package = &owned->package;
    const Shifan__Package *message = owned->unpacked;
    if (strlen(message->from) >= PACKAGE_FROM_MAX)
        goto malformed;
    snprintf(package->from, sizeof package->from, "%s", message->from);
    package->epoch = message->epoch;
    package->first_seq = message->first_seq;
    package->made_at = message->made_at;
    package->item_count = message->n_items;
    memcpy(package->signer_key, seal->signer_key.data, PACKAGE_SIGN_PUBLIC_BYTES);
    if (message->n_items > SIZE_MAX / sizeof *owned->items ||
        !(owned->items = calloc(message->n_items ? message->n_items : 1, sizeof *owned->items))) {
        owned_free(owned);
        sf_error_set(error, SF_ENOMEM, msg("out of memory"));
        return NULL;
    }
    for (size_t i = 0; i < message->n_items; i++) {
        owned->items[i].data = message->items[i].data;
        owned->items[i].len = message->items[i].len;
    }
    package->items = owned->items;
    if (package_check(package, error) == 0)
        return owned;
    owned_free(owned);
    return NULL;
malformed:
    owned_free(owned);
    sf_error_set(error, SF_EINVAL, msg("the package's contents do not parse"));
    return NULL;
}

package_t *package_open(const uint8_t *file, size_t len,
                        const uint8_t recipient_public[PACKAGE_CURVE_KEY_BYTES],
                        const uint8_t recipient_secret[PACKAGE_CURVE_KEY_BYTES], sf_error_t *error)
{
    if (sodium_init() < 0) {
        sf_error_set(error, SF_EIO, msg("libsodium cannot start"));
        return NULL;
    }
    size_t plain_len = 0;
    uint8_t *plain =
        package_unseal(file, len, recipient_public, recipient_secret, &plain_len, error);
    if (!plain)
        return NULL;
    Shifan__PackageSeal *seal = shifan__package_seal__unpack(NULL, plain_len, plain);
    free(plain);
    package_owned_t *owned = NULL;
    if (!seal)
        sf_error_set(error, SF_EINVAL, msg("the package's contents do not parse"));
    else if (!seal_verifies(seal))
        sf_error_set(error, SF_EINVAL,
                     msg("the package's signature does not hold: it was altered"));
    else
        owned = package_parse(seal, error);
    if (seal)
        shifan__package_seal__free_unpacked(seal, NULL);
    return owned ? &owned->package : NULL;
}

void package_destroy(package_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    owned_free((package_owned_t *)*self_p);
    *self_p = NULL;
}
