#include "transport/keys.h"
#include "base/error.h"
#include "base/slog.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

static int fsync_dir_of(const char *path)
{
    char copy[4096];
    snprintf(copy, sizeof copy, "%s", path);
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return SF_EIO;
    int rc = fsync(fd);
    close(fd);
    return rc ? SF_EIO : 0;
}

int keys_write_file(const char *path, const char *data, unsigned mode)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    /* O_EXCL after unlink: the mode is set at creation, never widened later. */
    unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, mode);
    if (fd < 0)
        return errno == ENOSPC ? SF_ENOSPC : SF_EIO;
    size_t len = strlen(data);
    ssize_t written = write(fd, data, len);
    int rc = (written == (ssize_t)len && fchmod(fd, mode) == 0 && fsync(fd) == 0) ? 0 : SF_EIO;
    if (written >= 0 && written != (ssize_t)len && errno == ENOSPC)
        rc = SF_ENOSPC;
    close(fd);
    if (rc == 0 && rename(tmp, path) != 0)
        rc = SF_EIO;
    if (rc) {
        unlink(tmp);
        return rc;
    }
    return fsync_dir_of(path);
}

bool keys_valid_z85(const char *text)
{
    uint8_t key[32];
    return text && strlen(text) == KEYS_Z85_LEN && zmq_z85_decode(key, text) != NULL;
}

int keys_decode(const char *z85, uint8_t key[32])
{
    return keys_valid_z85(z85) && zmq_z85_decode(key, z85) ? 0 : SF_EINVAL;
}

int keys_z85_to_hex(const char *z85, char hex[KEYS_HEX_LEN + 1])
{
    static const char digits[] = "0123456789abcdef";
    uint8_t key[32];
    hex[0] = '\0';
    if (keys_decode(z85, key) != 0)
        return SF_EINVAL;
    for (size_t i = 0; i < sizeof key; i++) {
        hex[2 * i] = digits[key[i] >> 4];
        hex[2 * i + 1] = digits[key[i] & 0x0f];
    }
    hex[KEYS_HEX_LEN] = '\0';
    return 0;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* 64 hex digits to Z85 (zmq_z85_encode): 0 or SF_EINVAL. */
static int hex_to_z85(const char *hex, char z85[KEYS_Z85_LEN + 1])
{
    uint8_t key[32];
    for (size_t i = 0; i < sizeof key; i++) {
        int high = hex_digit(hex[2 * i]), low = high < 0 ? -1 : hex_digit(hex[2 * i + 1]);
        if (high < 0 || low < 0)
            return SF_EINVAL;
        key[i] = (uint8_t)(high << 4 | low);
    }
    return zmq_z85_encode(z85, key, sizeof key) ? 0 : SF_EINVAL;
}

int keys_from_text(const char *text, char z85[KEYS_Z85_LEN + 1])
{
    z85[0] = '\0';
    if (!text)
        return SF_EINVAL;
    while (isspace((unsigned char)*text))
        text++;
    size_t len = strlen(text);
    while (len > 0 && isspace((unsigned char)text[len - 1]))
        len--;
    if (len == KEYS_HEX_LEN && hex_to_z85(text, z85) == 0)
        return 0;
    z85[0] = '\0';
    if (len != KEYS_Z85_LEN)
        return SF_EINVAL;
    char candidate[KEYS_Z85_LEN + 1];
    memcpy(candidate, text, KEYS_Z85_LEN);
    candidate[KEYS_Z85_LEN] = '\0';
    if (!keys_valid_z85(candidate))
        return SF_EINVAL;
    memcpy(z85, candidate, sizeof candidate);
    return 0;
}

static int read_key_file(const char *path, char *out)
{
    FILE *file = fopen(path, "r");
    if (!file)
        return errno == ENOENT ? SF_ENOTFOUND : SF_EIO;
    char line[128] = "";
    char *got = fgets(line, sizeof line, file);
    fclose(file);
    if (!got)
        return SF_ECORRUPT;
    line[strcspn(line, "\r\n")] = '\0';
    if (!keys_valid_z85(line))
        return SF_ECORRUPT;
    memcpy(out, line, KEYS_Z85_LEN + 1);
    return 0;
}

int keys_create(const char *dir, keys_pair_t *pair)
{
    char secret_path[4096], public_path[4096];
    snprintf(secret_path, sizeof secret_path, "%s/node.secret", dir);
    snprintf(public_path, sizeof public_path, "%s/node.public", dir);
    if (access(secret_path, F_OK) == 0)
        return SF_EEXIST;
    if (zmq_curve_keypair(pair->public_z85, pair->secret_z85) != 0) {
        slog_error("cannot generate a CURVE key pair: %s (libzmq built without CURVE?)",
                   zmq_strerror(errno));
        return SF_EIO;
    }
    char line[KEYS_Z85_LEN + 2];
    snprintf(line, sizeof line, "%s\n", pair->secret_z85);
    int rc = keys_write_file(secret_path, line, 0600);
    if (rc)
        return rc;
    snprintf(line, sizeof line, "%s\n", pair->public_z85);
    return keys_write_file(public_path, line, 0644);
}

int keys_load(const char *dir, keys_pair_t *pair)
{
    char secret_path[4096], public_path[4096];
    snprintf(secret_path, sizeof secret_path, "%s/node.secret", dir);
    snprintf(public_path, sizeof public_path, "%s/node.public", dir);
    struct stat st;
    if (stat(secret_path, &st) != 0)
        return errno == ENOENT ? SF_ENOTFOUND : SF_EIO;
    if (st.st_mode & 077) {
        slog_error("%s is readable by others (mode %03o): run chmod 600 %s", secret_path,
                   st.st_mode & 0777, secret_path);
        return SF_EDENIED;
    }
    if (st.st_uid != geteuid()) {
        slog_error("%s belongs to another user (uid %u)", secret_path, (unsigned)st.st_uid);
        return SF_EDENIED;
    }
    int rc = read_key_file(secret_path, pair->secret_z85);
    if (rc)
        return rc;
    /* The public key is derived, so a damaged node.public cannot mislead. */
    if (zmq_curve_public(pair->public_z85, pair->secret_z85) != 0)
        return SF_ECORRUPT;
    char stored[KEYS_Z85_LEN + 1];
    if (read_key_file(public_path, stored) == 0 && strcmp(stored, pair->public_z85) != 0)
        slog_warn("%s does not match the secret key; using the key derived from the secret",
                  public_path);
    return 0;
}
