/* sign.h - a node's Ed25519 signing key pair on disk, and its fingerprint.
 *
 * DATA/keys/sign.secret holds the libsodium secret key (64 bytes: seed and
 * public key, 128 lowercase hex characters, mode 0600) and
 * DATA/keys/sign.public the public key (64 hex characters), each on one
 * line, beside the CURVE pair of keys.h (docs/signing.md, "Keys"). Files
 * are written as keys_write_file writes them (temporary name, fsync,
 * rename, fsync of the directory); sign_keys_load refuses a secret file
 * readable by group or others, owned by another user, or whose two halves
 * disagree. Signing and verifying are codec.h's (codec_payload_sign, codec_payload_open).
 *
 * Ownership: the caller provides every buffer; nothing is allocated.
 * Threads: no shared state; any thread. */
#ifndef SHIFAN_SIGN_H
#define SHIFAN_SIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIGN_PUBLIC_BYTES 32
#define SIGN_SECRET_BYTES 64
#define SIGN_PUBLIC_HEX_LEN (2 * SIGN_PUBLIC_BYTES)
/* "XXXX-XXXX-XXXX-XXXX": 16 base32 characters in four groups. */
#define SIGN_FINGERPRINT_LEN 19

typedef struct {
    uint8_t public_key[SIGN_PUBLIC_BYTES];
    uint8_t secret_key[SIGN_SECRET_BYTES];
} sign_pair_t;

/* Makes a new signing pair in dir (which must exist) and fills pair. 0;
 * SF_EEXIST if dir/sign.secret is there already (nothing is changed);
 * SF_EIO (libsodium cannot start, or a write failed) or SF_ENOSPC. */
int sign_keys_create(const char *dir, sign_pair_t *pair);

/* Loads the signing pair of dir. The public key is taken from the secret
 * file (a sign.public that differs is logged and ignored). 0;
 * SF_ENOTFOUND if there is no sign.secret; SF_EDENIED if it is group/other
 * readable or another user's; SF_ECORRUPT if it is not a valid secret key;
 * SF_EIO. err gets a sentence for the user on every failure. */
int sign_keys_load(const char *dir, sign_pair_t *pair, char *err, size_t errsize);

/* Loads the pair of dir, making one first if there is none (a data
 * directory made before signing keys existed); the first creation is
 * logged. Returns as sign_keys_load, or as sign_keys_create. */
int sign_keys_open(const char *dir, sign_pair_t *pair, char *err, size_t errsize);

/* The fingerprint people compare: the first 10 bytes of BLAKE2b-256 of the
 * public key in RFC 4648 base32 (A-Z, 2-7), grouped XXXX-XXXX-XXXX-XXXX,
 * NUL-terminated in out. */
void sign_fingerprint(const uint8_t public_key[SIGN_PUBLIC_BYTES],
                      char out[SIGN_FINGERPRINT_LEN + 1]);

/* True if text is a fingerprint as sign_fingerprint writes it. */
bool sign_fingerprint_valid(const char *text);

/* The public key in lowercase hex, NUL-terminated. */
void sign_public_hex(const uint8_t public_key[SIGN_PUBLIC_BYTES],
                     char out[SIGN_PUBLIC_HEX_LEN + 1]);

#endif
