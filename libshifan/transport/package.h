/* package.h - a sneakernet package: a node's queued upward items in one
 * file, for a parent whose link is down (docs/packages.md).
 *
 * The file is the line "SHIFAN-PACKAGE-1\n" and then libsodium's
 * crypto_box_seal of a PackageSeal (proto/shifan.proto) to the parent's
 * CURVE public key: only the parent can read it, and anyone can make one.
 * Inside, the packed Package carries the sender's code, its "up" stream's
 * epoch, the seq of the first item and the items, and PackageSeal signs it
 * with the sender's Ed25519 key over "shifan-package-1" || package, so the
 * parent knows who made it (it then decides whether it holds that key for
 * that unit: package_open checks only that the signature holds for the key
 * the package names).
 *
 * Pure: no file, clock or store here. Items are opaque bytes, copied into
 * the file exactly as given (a signed item stays the bytes its maker signed).
 *
 * Ownership: package_seal's *out is malloc'd for the caller to free;
 * package_open returns a package_t the caller destroys with
 * package_destroy, whose items point into it.
 * Threads: no shared state; any thread.
 * Errors: 0 or a negative sf_err_t, with a sentence in error where given. */
#ifndef SHIFAN_PACKAGE_H
#define SHIFAN_PACKAGE_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#define PACKAGE_MAGIC "SHIFAN-PACKAGE-1\n"
#define PACKAGE_MAGIC_LEN 17
/* The signature's context: a signature over a package can never be taken
 * for one over an item (codec.h signs items with "shifan-item-1"). */
#define PACKAGE_SIGN_CONTEXT "shifan-package-1"
#define PACKAGE_CURVE_KEY_BYTES 32 /* X25519, as CURVE's keys decoded from Z85 */
#define PACKAGE_SIGN_PUBLIC_BYTES 32
#define PACKAGE_SIGN_SECRET_BYTES 64
#define PACKAGE_FROM_MAX 16 /* a unit code, with its NUL (as PROGRAMME_CODE_MAX) */
/* A whole file at most: a year of a hub's forward queue fits many times. */
#define PACKAGE_MAX_BYTES ((size_t)1 << 30)

/* One item: len bytes at data, borrowed. */
typedef struct {
    const uint8_t *data;
    size_t len;
} package_item_t;

/* What a package says. In a package_open result every pointer is owned by
 * the package_t; given to package_seal, every pointer is borrowed. */
typedef struct {
    char from[PACKAGE_FROM_MAX]; /* the sender's unit code */
    uint64_t epoch;              /* its "up" stream's epoch */
    uint64_t first_seq;          /* seq of items[0]; item i has first_seq + i */
    int64_t made_at;             /* unix seconds of the export */
    const package_item_t *items;
    size_t item_count;
    uint8_t signer_key[PACKAGE_SIGN_PUBLIC_BYTES]; /* who signed it (package_open) */
} package_t;

/* Makes the file's bytes: package (from, epoch, first_seq, made_at, items;
 * signer_key is ignored) signed with the Ed25519 pair (sign_public,
 * sign_secret) and sealed to recipient, the parent's CURVE public key. On
 * success *out (malloc'd) holds *out_len bytes. SF_EINVAL (no items, an
 * empty or too long `from`, first_seq 0), SF_ETOOBIG (over
 * PACKAGE_MAX_BYTES), SF_ENOMEM. */
int package_seal(const package_t *package, const uint8_t sign_public[PACKAGE_SIGN_PUBLIC_BYTES],
                 const uint8_t sign_secret[PACKAGE_SIGN_SECRET_BYTES],
                 const uint8_t recipient[PACKAGE_CURVE_KEY_BYTES], uint8_t **out, size_t *out_len,
                 sf_error_t *error);

/* Opens a file's bytes with the recipient's CURVE pair: checks the magic
 * line, decrypts, checks the signature against the signer_key it carries
 * and parses. Returns a new package the caller destroys, or NULL with
 * error: SF_EINVAL for a file that is no package, one sealed to another
 * key or altered (the seal does not open), a signature that does not hold,
 * or contents that do not parse (no items, first_seq 0, an empty or too
 * long `from`); SF_ETOOBIG over PACKAGE_MAX_BYTES; SF_ENOMEM. */
package_t *package_open(const uint8_t *file, size_t len,
                        const uint8_t recipient_public[PACKAGE_CURVE_KEY_BYTES],
                        const uint8_t recipient_secret[PACKAGE_CURVE_KEY_BYTES], sf_error_t *error);

/* Frees a package from package_open and sets *self_p to NULL (NULL: a
 * no-op). */
void package_destroy(package_t **self_p);

#endif
