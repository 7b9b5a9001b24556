/* node_rotate.c - rotate-keys (docs/signing.md, "Key life cycle"): a
 * county or hub makes a new signing pair (a county also a new CURVE pair)
 * in DATA/keys/next, queues the new keys to its parent signed by both the
 * old key and the new one, and from then on signs with the new key; a
 * county switches its CURVE key once the parent has the announcement. The
 * queue is kept throughout (node_internal.h). */
#include "app/node_internal.h"
#include "base/msg.h"
#include "base/slog.h"
#include "base/stime.h"
#include "storage/outbox.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define META_ROTATION_PENDING "rotation_pending" /* county: seq of the announcement */

/* dir/name (node.c's node_path_join; this file calls nothing of node.c,
 * which calls it). */
static void path_join(char *out, const char *dir, const char *name)
{
    if ((size_t)snprintf(out, PATH_MAX_LEN, "%s/%s", dir, name) >= PATH_MAX_LEN)
        out[0] = '\0';
}

static void next_dir(const node_t *self, char out[PATH_MAX_LEN])
{
    char keys[PATH_MAX_LEN];
    path_join(keys, self->dir, "keys");
    path_join(out, keys, "next");
}

/* Moves next/NAME over keys/NAME (rename is atomic), then syncs keys/. */
static int adopt_file(const node_t *self, const char *name)
{
    char next[PATH_MAX_LEN], from[PATH_MAX_LEN], keys[PATH_MAX_LEN], to[PATH_MAX_LEN];
    next_dir(self, next);
    path_join(from, next, name);
    path_join(keys, self->dir, "keys");
    path_join(to, keys, name);
    if (access(from, F_OK) != 0)
        return SF_ENOTFOUND;
    if (rename(from, to) != 0)
        return SF_EIO;
    int fd = open(keys, O_RDONLY | O_DIRECTORY);
    int rc = fd >= 0 && fsync(fd) == 0 ? 0 : SF_EIO;
    if (fd >= 0)
        close(fd);
    return rc;
}

struct rotate_arg {
    node_t *self;
    const sign_pair_t *next_sign;
    const char *next_curve; /* county: the new CURVE public key (Z85); NULL: none */
    int64_t now;
    bool queued_before;
};

static int rotation_pack(const struct rotate_arg *a, uint8_t **out, size_t *len)
{
    node_t *self = a->self;
    uint8_t previous_signature[CODEC_SIGNATURE_BYTES];
    Shifan__KeyAnnouncement ann = SHIFAN__KEY_ANNOUNCEMENT__INIT;
    ann.unit = self->code;
    ann.sign_key.data = (uint8_t *)a->next_sign->public_key;
    ann.sign_key.len = SIGN_PUBLIC_BYTES;
    ann.made_at = a->now;
    ann.has_previous_key = true;
    ann.previous_key.data = self->sign.public_key;
    ann.previous_key.len = SIGN_PUBLIC_BYTES;
    ann.curve_key = (char *)a->next_curve;
    int rc = codec_rotation_sign(&ann, self->sign.secret_key, previous_signature);
    if (rc)
        return rc;
    ann.has_previous_signature = true;
    ann.previous_signature.data = previous_signature;
    ann.previous_signature.len = sizeof previous_signature;
    Shifan__Payload payload = SHIFAN__PAYLOAD__INIT;
    payload.body_case = SHIFAN__PAYLOAD__BODY_KEY;
    payload.key = &ann;
    uint8_t *body = NULL;
    size_t body_len = 0;
    if ((rc = codec_payload_pack(&payload, &body, &body_len)))
        return rc;
    rc = codec_payload_sign(body, body_len, self->code, a->next_sign->public_key,
                            a->next_sign->secret_key, out, len);
    free(body);
    return rc;
}

/* Queues the announcement once: a rerun after a crash finds it queued. */
static int rotate_fn(store_txn_t *txn, void *arg)
{
    struct rotate_arg *a = arg;
    node_t *self = a->self;
    char announced[SIGN_PUBLIC_HEX_LEN + 1] = "", next[SIGN_PUBLIC_HEX_LEN + 1];
    sign_public_hex(a->next_sign->public_key, next);
    store_get_string(txn, self->store, DB_META, META_SIGN_ANNOUNCED, announced, sizeof announced);
    if ((a->queued_before = strcmp(announced, next) == 0))
        return 0;
    uint8_t *bytes = NULL;
    size_t len = 0;
    uint64_t seq = 0;
    char name[64];
    snprintf(name, sizeof name, "%s%s", META_KEY_ANNOUNCEMENT_PREFIX, self->code);
    int rc = rotation_pack(a, &bytes, &len);
    if (rc == 0)
        rc = outbox_append(txn, self->store, UP_STREAM, bytes, len, &seq);
    if (rc == 0)
        rc = store_put(txn, self->store, DB_META, name, strlen(name), bytes, len, 0);
    if (rc == 0)
        rc = store_put_string(txn, self->store, DB_META, META_SIGN_ANNOUNCED, next);
    if (rc == 0 && a->next_curve)
        rc = store_put_u64(txn, self->store, DB_META, META_ROTATION_PENDING, seq);
    free(bytes);
    return rc;
}

/* The new pairs in keys/next, made unless a rotation left them there. */
static int next_keys(node_t *self, sign_pair_t *sign, keys_pair_t *curve, char *err, size_t errsize)
{
    char dir[PATH_MAX_LEN];
    next_dir(self, dir);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errsize, msg("cannot make %s: %s"), dir, strerror(errno));
        return SF_EIO;
    }
    int rc = sign_keys_load(dir, sign, err, errsize);
    if (rc == SF_ENOTFOUND)
        rc = sign_keys_create(dir, sign);
    if (rc == 0 && self->role == ROLE_COUNTY && (rc = keys_load(dir, curve)) == SF_ENOTFOUND)
        rc = keys_create(dir, curve);
    if (rc)
        snprintf(err, errsize, msg("cannot make the new keys in %s: %s"), dir, sf_strerror(rc));
    return rc;
}

static int clear_pending_fn(store_txn_t *txn, void *arg)
{
    node_t *self = arg;
    int rc =
        store_del(txn, self->store, DB_META, META_ROTATION_PENDING, strlen(META_ROTATION_PENDING));
    return rc == SF_ENOTFOUND ? 0 : rc;
}

/* From now on the node signs with the new key. */
static int adopt_signing_key(node_t *self, char *err, size_t errsize)
{
    char keys[PATH_MAX_LEN];
    path_join(keys, self->dir, "keys");
    int rc = adopt_file(self, "sign.secret");
    if (rc == 0 || rc == SF_ENOTFOUND)
        rc = adopt_file(self, "sign.public");
    if (rc && rc != SF_ENOTFOUND) {
        snprintf(err, errsize, msg("cannot move the new signing key into %s: %s"), keys,
                 sf_strerror(rc));
        return rc;
    }
    return sign_keys_load(keys, &self->sign, err, errsize);
}

/* Whether a daemon holds run/daemon.lock: it signs with the key it loaded. */
static bool daemon_runs(const node_t *self)
{
    char path[PATH_MAX_LEN];
    path_join(path, self->dir, "run/daemon.lock");
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return false;
    bool held = flock(fd, LOCK_EX | LOCK_NB) != 0;
    close(fd);
    return held;
}

int node_rotate_keys(node_t *self, char *fingerprint_out, size_t size, char *err, size_t errsize)
{
    if (self->role == ROLE_PROVINCE) {
        snprintf(err, errsize,
                 msg("the province's signing key is the one every node checks by its "
                     "fingerprint: it is not rotated (docs/operations.md)"));
        return SF_EINVAL;
    }
    if (daemon_runs(self)) {
        snprintf(err, errsize,
                 msg("the daemon runs on %s: stop it, rotate the keys, start it again"), self->dir);
        return SF_EINVAL;
    }
    sign_pair_t sign;
    keys_pair_t curve;
    int rc = next_keys(self, &sign, &curve, err, errsize);
    if (rc)
        return rc;
    struct rotate_arg arg = {self, &sign, self->role == ROLE_COUNTY ? curve.public_z85 : NULL,
                             stime_now(), false};
    if ((rc = store_write(self->store, rotate_fn, &arg))) {
        snprintf(err, errsize, msg("cannot queue the new keys to the parent: %s"), sf_strerror(rc));
        return rc;
    }
    sign_fingerprint(sign.public_key, fingerprint_out);
    (void)size;
    sodium_memzero(&sign, sizeof sign);
    sodium_memzero(&curve, sizeof curve);
    if ((rc = adopt_signing_key(self, err, errsize)))
        return rc;
    if ((rc = node_rotate_resume(self, err, errsize)))
        return rc;
    slog_info("rotated our signing key (now %s)%s; queued to the parent", fingerprint_out,
              self->role == ROLE_COUNTY ? " and made a new CURVE key, used once the parent has it"
                                        : "");
    return 0;
}

struct pending_arg {
    node_t *self;
    char announced[SIGN_PUBLIC_HEX_LEN + 8];
    uint64_t pending, acked;
};

static int pending_fn(store_txn_t *txn, void *arg)
{
    struct pending_arg *a = arg;
    outbox_state_t up = {0};
    a->announced[0] = '\0';
    a->pending = 0;
    store_get_string(txn, a->self->store, DB_META, META_SIGN_ANNOUNCED, a->announced,
                     sizeof a->announced);
    store_get_u64(txn, a->self->store, DB_META, META_ROTATION_PENDING, &a->pending);
    int rc = outbox_state(txn, a->self->store, UP_STREAM, &up);
    a->acked = up.acked;
    return rc == SF_ENOTFOUND ? 0 : rc;
}

/* At open: a rotation that stopped after queuing its announcement takes
 * the new signing key now; a county remembers a CURVE switch to make. */
int node_rotate_resume(node_t *self, char *err, size_t errsize)
{
    if (self->role == ROLE_PROVINCE)
        return 0;
    struct pending_arg arg = {self, "", 0, 0};
    int rc = store_read(self->store, pending_fn, &arg);
    if (rc)
        return rc;
    self->rotation_pending = arg.pending;
    char dir[PATH_MAX_LEN], hex[SIGN_PUBLIC_HEX_LEN + 1], ignored[256];
    next_dir(self, dir);
    sign_pair_t next;
    if (sign_keys_load(dir, &next, ignored, sizeof ignored) != 0)
        return 0;
    sign_public_hex(next.public_key, hex);
    sodium_memzero(&next, sizeof next);
    return strcmp(arg.announced, hex) == 0 ? adopt_signing_key(self, err, errsize) : 0;
}

int node_rotate_curve_step(node_t *self, bool key_refused, bool *switched)
{
    *switched = false;
    if (!self->rotation_pending)
        return 0;
    struct pending_arg arg = {self, "", 0, 0};
    int rc = store_read(self->store, pending_fn, &arg);
    if (rc || (arg.acked < arg.pending && !key_refused))
        return rc;
    char dir[PATH_MAX_LEN], keys[PATH_MAX_LEN];
    next_dir(self, dir);
    path_join(keys, self->dir, "keys");
    if ((rc = adopt_file(self, "node.secret")) && rc != SF_ENOTFOUND)
        return rc;
    if ((rc = adopt_file(self, "node.public")) && rc != SF_ENOTFOUND)
        return rc;
    if ((rc = keys_load(keys, &self->keys)))
        return rc;
    rmdir(dir);
    if ((rc = store_write(self->store, clear_pending_fn, self)))
        return rc;
    self->rotation_pending = 0;
    *switched = true;
    slog_warn("switched to our new CURVE key %s: the parent %s", self->keys.public_z85,
              key_refused ? "refused the old one" : "acknowledged it");
    return 0;
}
