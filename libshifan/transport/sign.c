#include "transport/sign.h"
#include "base/error.h"
#include "base/msg.h"
#include "base/slog.h"
#include "transport/keys.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SIGN_PATH_MAX 4096

static void sign_paths(const char *dir, char *secret_path, char *public_path)
{
    snprintf(secret_path, SIGN_PATH_MAX, "%s/sign.secret", dir);
    snprintf(public_path, SIGN_PATH_MAX, "%s/sign.public", dir);
}

/* One line of exactly 2 * len hex characters into bytes: 0, SF_ENOTFOUND,
 * SF_EIO or SF_ECORRUPT. */
static int read_hex_file(const char *path, uint8_t *bytes, size_t len)
{
    FILE *file = fopen(path, "r");
    if (!file)
        return errno == ENOENT ? SF_ENOTFOUND : SF_EIO;
    char line[2 * SIGN_SECRET_BYTES + 8] = "";
    char *got = fgets(line, sizeof line, file);
    fclose(file);
    if (!got)
        return SF_ECORRUPT;
    line[strcspn(line, "\r\n")] = '\0';
    size_t decoded = 0;
    const char *end = NULL;
    int rc = strlen(line) != 2 * len ||
                     sodium_hex2bin(bytes, len, line, strlen(line), NULL, &decoded, &end) != 0 ||
                     decoded != len || *end != '\0'
                 ? SF_ECORRUPT
                 : 0;
    sodium_memzero(line, sizeof line); /* it may hold the secret key */
    return rc;
}

static int write_hex_file(const char *path, const uint8_t *bytes, size_t len, unsigned mode)
{
    char line[2 * SIGN_SECRET_BYTES + 2];
    sodium_bin2hex(line, sizeof line - 1, bytes, len);
    strcat(line, "\n");
    int rc = keys_write_file(path, line, mode);
    sodium_memzero(line, sizeof line);
    return rc;
}

int sign_keys_create(const char *dir, sign_pair_t *pair)
{
    char secret_path[SIGN_PATH_MAX], public_path[SIGN_PATH_MAX];
    sign_paths(dir, secret_path, public_path);
    if (access(secret_path, F_OK) == 0)
        return SF_EEXIST;
    if (sodium_init() < 0) {
        slog_error("libsodium cannot start (no random source?)");
        return SF_EIO;
    }
    crypto_sign_keypair(pair->public_key, pair->secret_key);
    int rc = write_hex_file(secret_path, pair->secret_key, SIGN_SECRET_BYTES, 0600);
    if (rc)
        return rc;
    return write_hex_file(public_path, pair->public_key, SIGN_PUBLIC_BYTES, 0644);
}

/* The secret file's owner and mode, as keys_load checks node.secret. */
static int check_secret_file(const char *path, char *err, size_t errsize)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(err, errsize, msg("cannot read %s: %s"), path, strerror(errno));
        return errno == ENOENT ? SF_ENOTFOUND : SF_EIO;
    }
    if (st.st_mode & 077) {
        snprintf(err, errsize, msg("%s is readable by others (mode %03o): run chmod 600 %s"), path,
                 st.st_mode & 0777, path);
        return SF_EDENIED;
    }
    if (st.st_uid != geteuid()) {
        snprintf(err, errsize, msg("%s belongs to another user (uid %u)"), path,
                 (unsigned)st.st_uid);
        return SF_EDENIED;
    }
    return 0;
}

/* True if the secret key's seed gives the public key stored in its second
 * half: a flipped byte anywhere in the file is caught here. */
static int secret_consistent(const uint8_t secret_key[SIGN_SECRET_BYTES])
{
    uint8_t seed[crypto_sign_SEEDBYTES], public_key[SIGN_PUBLIC_BYTES], again[SIGN_SECRET_BYTES];
    crypto_sign_ed25519_sk_to_seed(seed, secret_key);
    crypto_sign_seed_keypair(public_key, again, seed);
    int same = sodium_memcmp(again, secret_key, SIGN_SECRET_BYTES) == 0;
    sodium_memzero(seed, sizeof seed);
    sodium_memzero(again, sizeof again);
    return same;
}

int sign_keys_load(const char *dir, sign_pair_t *pair, char *err, size_t errsize)
{
    char secret_path[SIGN_PATH_MAX], public_path[SIGN_PATH_MAX];
    sign_paths(dir, secret_path, public_path);
    int rc = check_secret_file(secret_path, err, errsize);
    if (rc)
        return rc;
    if (sodium_init() < 0) {
        snprintf(err, errsize, msg("libsodium cannot start (no random source?)"));
        return SF_EIO;
    }
    rc = read_hex_file(secret_path, pair->secret_key, SIGN_SECRET_BYTES);
    if (rc == 0 && !secret_consistent(pair->secret_key))
        rc = SF_ECORRUPT;
    if (rc) {
        snprintf(err, errsize,
                 rc == SF_ECORRUPT ? msg("%s is not a signing secret key (one line of 128 hex "
                                         "characters, as init writes it): %s")
                                   : msg("cannot read %s: %s"),
                 secret_path, sf_strerror(rc));
        return rc;
    }
    crypto_sign_ed25519_sk_to_pk(pair->public_key, pair->secret_key);
    uint8_t stored[SIGN_PUBLIC_BYTES];
    rc = read_hex_file(public_path, stored, sizeof stored);
    if (rc == SF_ENOTFOUND) /* derived, so rewriting it loses nothing */
        write_hex_file(public_path, pair->public_key, SIGN_PUBLIC_BYTES, 0644);
    else if (rc || memcmp(stored, pair->public_key, sizeof stored) != 0)
        slog_warn("%s does not match the secret key; using the key derived from the secret",
                  public_path);
    return 0;
}

int sign_keys_open(const char *dir, sign_pair_t *pair, char *err, size_t errsize)
{
    int rc = sign_keys_load(dir, pair, err, errsize);
    if (rc != SF_ENOTFOUND)
        return rc;
    rc = sign_keys_create(dir, pair);
    if (rc && rc != SF_EEXIST) {
        snprintf(err, errsize, msg("cannot write the signing key pair in %s: %s"), dir,
                 sf_strerror(rc));
        return rc;
    }
    /* Loaded back: should another process have made one at the same moment,
     * both then hold the pair on disk, whichever rename came last. */
    if ((rc = sign_keys_load(dir, pair, err, errsize)))
        return rc;
    char fingerprint[SIGN_FINGERPRINT_LEN + 1];
    sign_fingerprint(pair->public_key, fingerprint);
    slog_info("created a signing key pair in %s (fingerprint %s): this data directory was made "
              "before signing keys",
              dir, fingerprint);
    return 0;
}

void sign_fingerprint(const uint8_t public_key[SIGN_PUBLIC_BYTES],
                      char out[SIGN_FINGERPRINT_LEN + 1])
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    uint8_t digest[32];
    if (sodium_init() < 0) /* BLAKE2b needs no random source: it runs regardless */
        slog_warn("libsodium cannot start (no random source?)");
    crypto_generichash(digest, sizeof digest, public_key, SIGN_PUBLIC_BYTES, NULL, 0);
    /* 10 bytes are 80 bits: exactly 16 base32 characters, no padding. */
    size_t at = 0;
    for (int i = 0; i < 16; i++) {
        int bit = i * 5;
        unsigned pair =
            ((unsigned)digest[bit / 8] << 8) | (bit / 8 + 1 < 10 ? digest[bit / 8 + 1] : 0);
        unsigned value = (pair >> (11 - bit % 8)) & 31;
        if (i > 0 && i % 4 == 0)
            out[at++] = '-';
        out[at++] = alphabet[value];
    }
    out[at] = '\0';
}

void sign_public_hex(const uint8_t public_key[SIGN_PUBLIC_BYTES], char out[SIGN_PUBLIC_HEX_LEN + 1])
{
    sodium_bin2hex(out, SIGN_PUBLIC_HEX_LEN + 1, public_key, SIGN_PUBLIC_BYTES);
}

bool sign_fingerprint_valid(const char *text)
{
    if (strlen(text) != SIGN_FINGERPRINT_LEN)
        return false;
    for (size_t i = 0; i < SIGN_FINGERPRINT_LEN; i++) {
        char c = text[i];
        bool ok = i % 5 == 4 ? c == '-' : (c >= 'A' && c <= 'Z') || (c >= '2' && c <= '7');
        if (!ok)
            return false;
    }
    return true;
}
