/* node.c - a node: init, open, keys of children, set-upstream, submit and the tier's verbs
 * (node_internal.h). */
#include "app/node_internal.h"
#include "base/msg.h"
#include "base/slog.h"
#include "base/stime.h"
#include "storage/outbox.h"
#include "storage/signkeys.h"
#include "storage/records.h"

#include <errno.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *node_role_name(node_role_t role)
{
    switch (role) {
    case ROLE_COUNTY:
        return "county";
    case ROLE_PREFECTURE:
        return "prefecture";
    case ROLE_PROVINCE:
        return "province";
    }
    return "unknown";
}

node_role_t node_role(const node_t *self)
{
    return self->role;
}

const char *node_code(const node_t *self)
{
    return self->code;
}

const char *node_public_key(const node_t *self)
{
    return self->keys.public_z85;
}

const uint8_t *node_sign_public_key(const node_t *self)
{
    return self->sign.public_key;
}

const programme_t *node_programme(const node_t *self)
{
    return tier_programme(self->tier);
}

store_t *node_store(node_t *self)
{
    return self->store;
}

void node_path_join(char *out, const char *dir, const char *name)
{
    /* Data directories are short; a path that does not fit fails to open. */
    if (snprintf(out, PATH_MAX_LEN, "%s/%s", dir, name) >= PATH_MAX_LEN)
        out[0] = '\0';
}

static int make_dir(const char *path, mode_t mode)
{
    if (mkdir(path, mode) == 0 || errno == EEXIST)
        return 0;
    return errno == ENOSPC ? SF_ENOSPC : SF_EIO;
}

/* mkdir -p: the data directory's parents are created too. */
static int make_dirs(const char *path, mode_t mode)
{
    char partial[PATH_MAX_LEN];
    snprintf(partial, sizeof partial, "%s", path);
    for (char *slash = strchr(partial + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
        *slash = '\0';
        int rc = make_dir(partial, 0755);
        *slash = '/';
        if (rc)
            return rc;
    }
    return make_dir(path, mode);
}

/* ---- init ---- */

struct meta_arg {
    store_t *store;
    const node_init_options_t *options;
    const char *code;
    int64_t now;
    const uint8_t *programme; /* Programme payload to store, or NULL */
    size_t programme_len;
};

static int write_meta_fn(store_txn_t *txn, void *arg)
{
    struct meta_arg *a = arg;
    store_t *store = a->store;
    int rc;
    char created[STIME_BUFSZ];
    if ((rc = store_put_string(txn, store, DB_META, "role", node_role_name(a->options->role))) ||
        (rc = store_put_string(txn, store, DB_META, "code", a->code)) ||
        (rc = store_put_string(txn, store, DB_META, "created_at",
                               stime_format(a->now, created, sizeof created))) ||
        (rc = store_put_u64(txn, store, DB_META, "keys_generation", 1)) ||
        (rc = store_put_u64(txn, store, DB_META, "series", (uint64_t)a->now)))
        return rc;
    if (a->options->listen &&
        (rc = store_put_string(txn, store, DB_META, "listen", a->options->listen)))
        return rc;
    if (a->options->upstream &&
        ((rc = store_put_string(txn, store, DB_META, "upstream", a->options->upstream)) ||
         (rc = store_put_string(txn, store, DB_META, "upstream_key", a->options->upstream_key))))
        return rc;
    bool newer;
    if (a->programme &&
        (rc = tier_store_programme(a->store, txn, a->programme, a->programme_len, &newer)))
        return rc;
    /* The upward stream gets its epoch now, so the first Hello carries it. */
    outbox_state_t state;
    if (a->options->role != ROLE_PROVINCE &&
        (rc = outbox_open_stream(txn, a->store, UP_STREAM, &state)))
        return rc;
    return 0;
}

static bool endpoint_valid(const char *endpoint)
{
    return endpoint && strncmp(endpoint, "tcp://", 6) == 0 && strrchr(endpoint + 6, ':') &&
           strlen(endpoint) < 200;
}

/* The parent's endpoint and key, as init and set-upstream take them. */
static int upstream_check(const char *endpoint, const char *key, char *err, size_t errsize)
{
    if (!endpoint_valid(endpoint)) {
        if (endpoint)
            snprintf(err, errsize,
                     msg("--upstream %s: expected an endpoint such as tcp://10.1.2.3:7001"),
                     endpoint);
        else
            snprintf(err, errsize,
                     msg("--upstream ENDPOINT is required, e.g. tcp://10.1.2.3:7001"));
        return SF_EINVAL;
    }
    if (!keys_valid_z85(key)) {
        snprintf(err, errsize,
                 msg("--upstream-key: expected the parent's 40-character public key or its 64 "
                     "hex digits, or --upstream-key-file FILE (its 'key' verb prints them)"));
        return SF_EINVAL;
    }
    return 0;
}

/* The node's own code, checked against the programme: a county's or
 * hub's must name a unit of its level; the province defaults to the root. */
static int init_code(const node_init_options_t *options, const programme_t *programme,
                     const char **code, char *err, size_t errsize)
{
    *code = options->code;
    if (options->role == ROLE_PROVINCE) {
        *code = *code ? *code : tier_programme_root(programme);
        return 0;
    }
    if (!*code) {
        snprintf(err, errsize, msg("--code CODE is required"));
        return SF_EINVAL;
    }
    int index = programme_find_unit(programme, *code);
    unit_level_t want = options->role == ROLE_COUNTY ? LEVEL_COUNTY : LEVEL_PREFECTURE;
    if (index < 0) {
        snprintf(err, errsize, msg("--code %s: no such unit in programme %s"), *code,
                 programme_id(programme));
        return SF_EINVAL;
    }
    if (programme_unit(programme, index)->level != want) {
        snprintf(err, errsize, msg("--code %s: %s is not a %s"), *code,
                 programme_unit(programme, index)->name,
                 options->role == ROLE_COUNTY ? msg("county") : msg("prefecture"));
        return SF_EINVAL;
    }
    *code = programme_unit(programme, index)->code;
    return 0;
}

/* --listen and --upstream as the role needs them. */
static int init_endpoints(const node_init_options_t *options, char *err, size_t errsize)
{
    if (options->role != ROLE_COUNTY && !endpoint_valid(options->listen)) {
        if (options->listen)
            snprintf(err, errsize,
                     msg("--listen %s: expected an endpoint such as tcp://0.0.0.0:7001"),
                     options->listen);
        else
            snprintf(err, errsize, msg("--listen ENDPOINT is required, e.g. tcp://0.0.0.0:7001"));
        return SF_EINVAL;
    }
    if (options->role != ROLE_PROVINCE)
        return upstream_check(options->upstream, options->upstream_key, err, errsize);
    return 0;
}

/* The directories and the key pair of a new node; SF_EEXIST if one is there. */
static int init_dirs(const char *data_dir, char *err, size_t errsize)
{
    char path[PATH_MAX_LEN], existing[PATH_MAX_LEN], keydir[PATH_MAX_LEN], rundir[PATH_MAX_LEN];
    int rc;
    if ((rc = make_dirs(data_dir, 0700))) {
        snprintf(err, errsize, msg("cannot create %s: %s"), data_dir, strerror(errno));
        return rc;
    }
    node_path_join(path, data_dir, "store");
    node_path_join(existing, path, "data.mdb");
    struct stat st;
    if (stat(existing, &st) == 0) {
        snprintf(err, errsize, msg("%s already holds a node; use another --data directory"),
                 data_dir);
        return SF_EEXIST;
    }
    node_path_join(keydir, data_dir, "keys");
    node_path_join(rundir, data_dir, "run");
    if ((rc = make_dir(path, 0700)) || (rc = make_dir(keydir, 0700)) ||
        (rc = make_dir(rundir, 0700))) {
        snprintf(err, errsize, msg("cannot create directories in %s: %s"), data_dir,
                 strerror(errno));
        return rc;
    }
    keys_pair_t keys;
    if ((rc = keys_create(keydir, &keys)) && rc != SF_EEXIST) {
        snprintf(err, errsize, msg("cannot write the key pair in %s: %s"), keydir, sf_strerror(rc));
        return rc;
    }
    sign_pair_t sign;
    if ((rc = sign_keys_create(keydir, &sign)) && rc != SF_EEXIST) {
        snprintf(err, errsize, msg("cannot write the signing key pair in %s: %s"), keydir,
                 sf_strerror(rc));
        return rc;
    }
    sodium_memzero(&sign, sizeof sign);
    return 0;
}

/* The configuration (and a programme given with --programme) in one
 * durable transaction. */
static int init_store(const char *data_dir, const node_init_options_t *options, const char *code,
                      const programme_t *programme, char *err, size_t errsize)
{
    char path[PATH_MAX_LEN];
    node_path_join(path, data_dir, "store");
    uint8_t *programme_bytes = NULL;
    size_t programme_len = 0;
    int64_t now = stime_now();
    int rc;
    sf_error_t error = {0, ""};
    store_t *store = store_open(path, 0, &error);
    if (!store) {
        snprintf(err, errsize, msg("cannot open the store in %s: %s"), path,
                 sf_strerror(error.code));
        return error.code;
    }
    if (options->programme &&
        (rc = tier_programme_payload(programme, now, &programme_bytes, &programme_len))) {
        snprintf(err, errsize, msg("--programme %s: too large (%s)"), options->programme,
                 sf_strerror(rc));
        store_destroy(&store);
        return SF_EINVAL;
    }
    struct meta_arg meta = {store, options, code, now, programme_bytes, programme_len};
    rc = store_write(store, write_meta_fn, &meta);
    store_destroy(&store);
    free(programme_bytes);
    if (rc)
        snprintf(err, errsize, msg("cannot write the configuration: %s"), sf_strerror(rc));
    return rc;
}

int node_init(const char *data_dir, const node_init_options_t *options, char *err, size_t errsize)
{
    sf_error_t error;
    programme_t *programme = options->programme ? programme_load_file(options->programme, &error)
                                                : programme_load_default(NULL);
    if (!programme) {
        snprintf(err, errsize, "%s",
                 options->programme ? error.text : "cannot load the embedded programme");
        return options->programme ? SF_EINVAL : SF_ENOMEM;
    }
    const char *code;
    int rc;
    if (!(rc = init_code(options, programme, &code, err, errsize)) &&
        !(rc = init_endpoints(options, err, errsize)) && !(rc = init_dirs(data_dir, err, errsize)))
        rc = init_store(data_dir, options, code, programme, err, errsize);
    programme_destroy(&programme);
    return rc;
}

/* ---- open ---- */

struct open_arg {
    node_t *self;
    char role[32];
};

static int read_meta_fn(store_txn_t *txn, void *arg)
{
    struct open_arg *a = arg;
    node_t *self = a->self;
    store_t *store = self->store;
    int rc;
    if ((rc = store_get_string(txn, store, DB_META, "role", a->role, sizeof a->role)) ||
        (rc = store_get_string(txn, store, DB_META, "code", self->code, sizeof self->code)))
        return rc;
    store_get_string(txn, store, DB_META, "listen", self->listen, sizeof self->listen);
    store_get_string(txn, store, DB_META, "upstream", self->upstream, sizeof self->upstream);
    store_get_string(txn, store, DB_META, "upstream_key", self->upstream_key,
                     sizeof self->upstream_key);
    store_get_u64(txn, store, DB_META, "keys_generation", &self->keys_generation);
    store_get_u64(txn, store, DB_META, "series", &self->series);
    /* The bound per child (docs/operations.md, "Bounds per child"); load
     * tests that send one county's year many thousand times raise it. */
    self->child_bytes_per_unit = NODE_CHILD_BYTES_PER_UNIT;
    const char *bound = getenv("SHIFAN_CHILD_BYTES_PER_UNIT");
    char *end;
    unsigned long long value = bound ? strtoull(bound, &end, 10) : 0;
    if (bound && *bound && !*end && value > 0)
        self->child_bytes_per_unit = value;
    /* With upstream in one snapshot: a later set-upstream is then noticed. */
    store_get_u64(txn, store, DB_META, META_UPSTREAM_GENERATION, &self->upstream_generation);
    return 0;
}

/* The store of an initialised node of this role, and its configuration. */
static int node_open_store(node_t *self, const char *data_dir, node_role_t role, sf_error_t *error)
{
    char path[PATH_MAX_LEN], probe[PATH_MAX_LEN];
    node_path_join(path, data_dir, "store");
    node_path_join(probe, path, "data.mdb");
    if (access(probe, F_OK) != 0)
        return sf_error_set(error, SF_ESTATE, msg("%s holds no node: run 'init' first"), data_dir);
    sf_error_t opened = {0, ""};
    if (!(self->store = store_open(path, 0, &opened)))
        return sf_error_set(error, opened.code, msg("cannot open the store in %s: %s"), path,
                            sf_strerror(opened.code));
    int rc;
    struct open_arg arg = {self, ""};
    if ((rc = store_read(self->store, read_meta_fn, &arg)))
        return sf_error_set(error, rc, msg("%s: the node's configuration is unreadable: %s"),
                            data_dir, sf_strerror(rc));
    if (strcmp(arg.role, node_role_name(role)) != 0)
        return sf_error_set(error, SF_EINVAL, msg("%s holds a %s node, not a %s node"), data_dir,
                            arg.role, node_role_name(role));
    return 0;
}

node_t *node_open(const char *data_dir, node_role_t role, sf_error_t *error)
{
    node_t *self = calloc(1, sizeof *self);
    if (!self) {
        sf_error_set(error, SF_ENOMEM, msg("out of memory"));
        return NULL;
    }
    self->role = role;
    snprintf(self->dir, sizeof self->dir, "%s", data_dir);
    if (node_open_store(self, data_dir, role, error))
        goto fail;
    char keydir[PATH_MAX_LEN];
    node_path_join(keydir, data_dir, "keys");
    int rc = keys_load(keydir, &self->keys);
    if (rc) {
        sf_error_set(error, rc, msg("cannot load the key pair in %s: %s"), keydir, sf_strerror(rc));
        goto fail;
    }
    char why[512];
    if ((rc = sign_keys_open(keydir, &self->sign, why, sizeof why)) ||
        (rc = node_rotate_resume(self, why, sizeof why))) {
        sf_error_set(error, rc, "%s", why);
        goto fail;
    }
    if (!(self->tier = tier_new(role, self->code, self->series, self->store, error)))
        goto fail;
    tier_set_signer(self->tier, self->sign.public_key, self->sign.secret_key);
    /* A node made before signing keys, or whose key is new: its parent
     * learns the key before anything it signs (docs/signing.md). */
    if ((rc = node_announce_key(self, stime_now()))) {
        sf_error_set(error, rc, msg("cannot queue the signing key to the parent: %s"),
                     sf_strerror(rc));
        goto fail;
    }
    slog_set_identity(role == ROLE_COUNTY       ? "county-node"
                      : role == ROLE_PREFECTURE ? "prefecture-hub"
                                                : "province-core",
                      self->code);
    return self;
fail:
    node_destroy(&self);
    return NULL;
}

void node_destroy(node_t **self_p)
{
    node_t *self = *self_p;
    if (!self)
        return;
    tier_destroy(&self->tier); /* before the store it borrows */
    store_destroy(&self->store);
    codec_arena_destroy(&self->arena);
    free(self->sessions);
    sodium_memzero(self, sizeof *self);
    free(self);
    *self_p = NULL;
}

/* ---- announcing our key ---- */

static int announce_pack(const node_t *self, const uint8_t *previous, int64_t now, uint8_t **out,
                         size_t *out_len)
{
    Shifan__KeyAnnouncement key = SHIFAN__KEY_ANNOUNCEMENT__INIT;
    key.unit = (char *)self->code;
    key.sign_key.data = (uint8_t *)self->sign.public_key;
    key.sign_key.len = SIGN_PUBLIC_BYTES;
    key.made_at = now;
    if (previous) {
        key.has_previous_key = true;
        key.previous_key.data = (uint8_t *)previous;
        key.previous_key.len = SIGN_PUBLIC_BYTES;
    }
    Shifan__Payload payload = SHIFAN__PAYLOAD__INIT;
    payload.body_case = SHIFAN__PAYLOAD__BODY_KEY;
    payload.key = &key;
    uint8_t *body = NULL;
    size_t len = 0;
    int rc = codec_payload_pack(&payload, &body, &len);
    if (rc)
        return rc;
    rc = codec_payload_sign(body, len, self->code, self->sign.public_key, self->sign.secret_key,
                            out, out_len);
    free(body);
    return rc;
}

struct announce_arg {
    node_t *self;
    int64_t now;
    bool needed;
};

static void key_hex(const uint8_t *key, char out[SIGN_PUBLIC_HEX_LEN + 1])
{
    sign_public_hex(key, out);
}

static int announce_check_fn(store_txn_t *txn, void *arg)
{
    struct announce_arg *a = arg;
    char announced[SIGN_PUBLIC_HEX_LEN + 1] = "", ours[SIGN_PUBLIC_HEX_LEN + 1];
    key_hex(a->self->sign.public_key, ours);
    int rc = store_get_string(txn, a->self->store, DB_META, META_SIGN_ANNOUNCED, announced,
                              sizeof announced);
    if (rc && rc != SF_ENOTFOUND && rc != SF_ETOOBIG)
        return rc;
    a->needed = strcmp(announced, ours) != 0;
    return 0;
}

static int announce_fn(store_txn_t *txn, void *arg)
{
    struct announce_arg *a = arg;
    if ((a->needed = false, announce_check_fn(txn, arg)) || !a->needed)
        return 0;
    uint8_t *bytes = NULL;
    size_t len = 0;
    char ours[SIGN_PUBLIC_HEX_LEN + 1];
    key_hex(a->self->sign.public_key, ours);
    int rc = announce_pack(a->self, NULL, a->now, &bytes, &len);
    char name[64];
    snprintf(name, sizeof name, "%s%s", META_KEY_ANNOUNCEMENT_PREFIX, a->self->code);
    if (rc == 0)
        rc = outbox_append(txn, a->self->store, UP_STREAM, bytes, len, NULL);
    if (rc == 0) /* kept to send again to a parent that lost it (node_resync_parent) */
        rc = store_put(txn, a->self->store, DB_META, name, strlen(name), bytes, len, 0);
    if (rc == 0)
        rc = store_put_string(txn, a->self->store, DB_META, META_SIGN_ANNOUNCED, ours);
    free(bytes);
    return rc;
}

int node_announce_key(node_t *self, int64_t now)
{
    if (self->role == ROLE_PROVINCE)
        return 0; /* the root has no parent: its key travels with what it signs */
    struct announce_arg arg = {self, now, false};
    int rc = store_read(self->store, announce_check_fn, &arg);
    if (rc || !arg.needed)
        return rc;
    if ((rc = store_write(self->store, announce_fn, &arg)) == 0) {
        char fingerprint[SIGN_FINGERPRINT_LEN + 1];
        sign_fingerprint(self->sign.public_key, fingerprint);
        slog_debug("queued our signing key (fingerprint %s) to the parent", fingerprint);
    }
    return rc;
}

/* ---- allow ---- */

struct pin_arg {
    node_t *self;
    const char *code;
    const char *hex;
};

static int pin_fn(store_txn_t *txn, void *arg)
{
    struct pin_arg *a = arg;
    char name[64];
    snprintf(name, sizeof name, "%s%s", META_SIGN_PIN_PREFIX, a->code);
    return store_put_string(txn, a->self->store, DB_META, name, a->hex);
}

struct fingerprint_arg {
    node_t *self;
    const char *fingerprint;
};

static int fingerprint_fn(store_txn_t *txn, void *arg)
{
    struct fingerprint_arg *a = arg;
    return store_put_string(txn, a->self->store, DB_META, META_PROVINCE_FINGERPRINT,
                            a->fingerprint);
}

int node_set_province_fingerprint(node_t *self, const char *fingerprint, char *err, size_t errsize)
{
    if (self->role == ROLE_PROVINCE || !sign_fingerprint_valid(fingerprint)) {
        snprintf(err, errsize,
                 msg("--province-fingerprint %s: not for a province, or not "
                     "XXXX-XXXX-XXXX-XXXX"),
                 fingerprint);
        return SF_EINVAL;
    }
    struct fingerprint_arg arg = {self, fingerprint};
    int rc = store_write(self->store, fingerprint_fn, &arg);
    if (rc)
        snprintf(err, errsize, msg("cannot store the key: %s"), sf_strerror(rc));
    return rc;
}

int node_allow_sign_key(node_t *self, const char *code, const char *hex, char *err, size_t errsize)
{
    uint8_t key[SIGN_PUBLIC_BYTES];
    size_t decoded = 0;
    const char *end = NULL;
    if (!hex || strlen(hex) != SIGN_PUBLIC_HEX_LEN ||
        sodium_hex2bin(key, sizeof key, hex, strlen(hex), NULL, &decoded, &end) != 0 ||
        decoded != sizeof key || *end) {
        snprintf(err, errsize, msg("--sign-key %s: expected the child's 64-hex-digit signing key"),
                 hex ? hex : "");
        return SF_EINVAL;
    }
    char lower[SIGN_PUBLIC_HEX_LEN + 1];
    sign_public_hex(key, lower);
    struct pin_arg arg = {self, code, lower};
    int rc = store_write(self->store, pin_fn, &arg);
    if (rc)
        snprintf(err, errsize, msg("cannot store the key: %s"), sf_strerror(rc));
    return rc;
}

struct allow_arg {
    node_t *self;
    const char *code;
    const char *key;
    int64_t now;
    char owner[PROGRAMME_CODE_MAX]; /* out: the unit the key belongs to, on SF_EEXIST */
};

/* A child allowed with a new CURVE key is a new node (re-initialised, or
 * replaced): its signing key in force is retired, valid for what it signed
 * before now, and the next key it announces is registered as a first one. */
static int retire_sign_key(store_txn_t *txn, store_t *store, const char *code, int64_t now)
{
    signkey_t current;
    int rc = signkeys_current(txn, store, code, &current);
    if (rc)
        return rc == SF_ENOTFOUND ? 0 : rc;
    current.until = now;
    return signkeys_put(txn, store, &current);
}

static int allow_fn(store_txn_t *txn, void *arg)
{
    struct allow_arg *a = arg;
    store_t *store = a->self->store;
    char old[KEYS_Z85_LEN + 1];
    int rc = store_get_string(txn, store, DB_CHILDREN, a->code, old, sizeof old);
    if (rc == 0 && strcmp(old, a->key) != 0) { /* the replaced key may not connect any more */
        store_del(txn, store, DB_KEYS, old, strlen(old));
        if ((rc = retire_sign_key(txn, store, a->code, a->now)))
            return rc;
    }
    if (store_get_string(txn, store, DB_KEYS, a->key, a->owner, sizeof a->owner) == 0 &&
        strcmp(a->owner, a->code) != 0)
        return SF_EEXIST; /* one key, one unit */
    if ((rc = store_put_string(txn, store, DB_CHILDREN, a->code, a->key)) ||
        (rc = store_put_string(txn, store, DB_KEYS, a->key, a->code)) ||
        (rc = records_counter_bump(txn, store, "keys_generation")))
        return rc;
    char stream[OUTBOX_STREAM_MAX];
    outbox_state_t state;
    link_down_stream(stream, sizeof stream, a->code);
    if ((rc = outbox_open_stream(txn, store, stream, &state)))
        return rc;
    /* A new child gets the programme in force, however late it comes online. */
    if (state.next_seq != 1)
        return 0;
    return (rc = tier_queue_programme(a->self->tier, txn, a->code))
               ? rc
               : tier_queue_evaluations(a->self->tier, txn, a->code);
}

int node_allow(node_t *self, const char *code, const char *key, char *err, size_t errsize)
{
    if (self->role == ROLE_COUNTY) {
        snprintf(err, errsize, msg("a county has no children to allow"));
        return SF_EINVAL;
    }
    if (!code || !key) {
        snprintf(err, errsize, msg("allow needs --code CODE and --key KEY (or --key-file FILE)"));
        return SF_EINVAL;
    }
    if (!keys_valid_z85(key)) {
        snprintf(err, errsize,
                 msg("--key %s: expected a 40-character Z85 public key or 64 hex digits"), key);
        return SF_EINVAL;
    }
    int index = programme_find_unit(node_programme(self), code);
    unit_level_t want = self->role == ROLE_PREFECTURE ? LEVEL_COUNTY : LEVEL_PREFECTURE;
    if (index < 0) {
        snprintf(err, errsize, msg("--code %s: no such unit in programme %s"), code,
                 programme_id(node_programme(self)));
        return SF_EINVAL;
    }
    const programme_unit_t *unit = programme_unit(node_programme(self), index);
    if (unit->level != want || unit->parent < 0 ||
        strcmp(programme_unit(node_programme(self), unit->parent)->code, self->code) != 0) {
        snprintf(err, errsize, msg("--code %s: %s is not a %s under %s"), code, unit->name,
                 want == LEVEL_COUNTY ? msg("county") : msg("prefecture"), self->code);
        return SF_EINVAL;
    }
    if (strcmp(key, self->keys.public_z85) == 0) {
        snprintf(err, errsize, msg("--key is this node's own key; use the child's 'key' output"));
        return SF_EINVAL;
    }
    struct allow_arg arg = {self, unit->code, key, stime_now(), ""};
    int rc = store_write(self->store, allow_fn, &arg);
    if (rc == SF_EEXIST)
        snprintf(err, errsize, msg("--key is already registered to %s; one key, one unit"),
                 arg.owner);
    else if (rc)
        snprintf(err, errsize, msg("cannot store the key: %s"), sf_strerror(rc));
    return rc == SF_EEXIST ? SF_EINVAL : rc;
}

struct revoke_arg {
    node_t *self;
    const char *code;
    int64_t since;
};

/* The unit's signing key in force is revoked from since; SF_ENOTFOUND if
 * it has none. */
static int revoke_sign_key(store_txn_t *txn, store_t *store, const char *code, int64_t since)
{
    signkey_t current;
    int rc = signkeys_current(txn, store, code, &current);
    if (rc)
        return rc;
    current.until = since;
    current.revoked = true;
    return signkeys_put(txn, store, &current);
}

static int revoke_fn(store_txn_t *txn, void *arg)
{
    struct revoke_arg *a = arg;
    store_t *store = a->self->store;
    char key[KEYS_Z85_LEN + 1];
    int rc = store_get_string(txn, store, DB_CHILDREN, a->code, key, sizeof key);
    if (rc == SF_ENOTFOUND && a->self->role == ROLE_PROVINCE)
        return revoke_sign_key(txn, store, a->code, a->since); /* a county's, under a hub */
    if (rc)
        return rc;
    if ((rc = revoke_sign_key(txn, store, a->code, a->since)) && rc != SF_ENOTFOUND)
        return rc;
    if ((rc = store_del(txn, store, DB_CHILDREN, a->code, strlen(a->code))) ||
        ((rc = store_del(txn, store, DB_KEYS, key, strlen(key))) && rc != SF_ENOTFOUND))
        return rc;
    return records_counter_bump(txn, store, "keys_generation");
}

int node_revoke(node_t *self, const char *code, int64_t since, char *err, size_t errsize)
{
    if (self->role == ROLE_COUNTY) {
        snprintf(err, errsize, msg("a county has no children to revoke"));
        return SF_EINVAL;
    }
    if (!code) {
        snprintf(err, errsize, msg("revoke needs --code CODE"));
        return SF_EINVAL;
    }
    struct revoke_arg arg = {self, code, since ? since : stime_now()};
    int rc = store_write(self->store, revoke_fn, &arg);
    if (rc == SF_ENOTFOUND) {
        snprintf(err, errsize, msg("--code %s: no key is registered for it here"), code);
        return SF_EINVAL;
    }
    if (rc)
        snprintf(err, errsize, msg("cannot remove the key: %s"), sf_strerror(rc));
    else
        slog_info("revoked the key of %s", code);
    return rc;
}

/* ---- set-upstream (county, hub) ---- */

struct set_upstream_arg {
    const node_t *self;
    const char *endpoint;
    const char *key;
};

static int set_upstream_fn(store_txn_t *txn, void *arg)
{
    struct set_upstream_arg *a = arg;
    store_t *store = a->self->store;
    int rc;
    if ((rc = store_put_string(txn, store, DB_META, "upstream", a->endpoint)) ||
        (rc = store_put_string(txn, store, DB_META, "upstream_key", a->key)))
        return rc;
    /* The daemon watches this counter, as it watches keys_generation. */
    return records_counter_bump(txn, store, META_UPSTREAM_GENERATION);
}

int node_set_upstream(node_t *self, const char *endpoint, const char *key, char *err,
                      size_t errsize)
{
    if (self->role == ROLE_PROVINCE) {
        snprintf(
            err, errsize,
            msg("the province has no upstream: set-upstream is for a county or a prefecture hub"));
        return SF_EINVAL;
    }
    int rc = upstream_check(endpoint, key, err, errsize);
    if (rc)
        return rc;
    /* Only the two meta values: streams, queue and epochs stay, so the new
     * parent starts its view of our stream where the old one left it. */
    struct set_upstream_arg arg = {self, endpoint, key};
    if ((rc = store_write(self->store, set_upstream_fn, &arg))) {
        snprintf(err, errsize, msg("cannot store the upstream: %s"), sf_strerror(rc));
        return rc;
    }
    snprintf(self->upstream, sizeof self->upstream, "%s", endpoint);
    snprintf(self->upstream_key, sizeof self->upstream_key, "%s", key);
    return 0;
}

const char *node_upstream(const node_t *self)
{
    return self->upstream;
}

const char *node_upstream_key(const node_t *self)
{
    return self->upstream_key;
}

/* ---- reports: storage shared by every tier ---- */

/* Stores a report payload (already carrying this node's receipt) unless its
 * id is known. *stored says whether it was new. */
int node_report_store(store_txn_t *txn, store_t *store, const Shifan__Report *report,
                      const uint8_t *payload, size_t len, bool *stored)
{
    /* The order of a unit-year's versions (docs/results-format.md, "which
     * version counts") is records_latest_newer's; the engine orders the same
     * way. A report without a series is series 0. */
    records_report_t record = {report->report_id,
                               report->unit,
                               report->year,
                               report->version,
                               report->has_series ? report->series : 0,
                               report->submitted_at};
    return records_report_store(txn, store, &record, payload, len, stored);
}

/* ---- submit (county) ---- */

struct submit_arg {
    node_t *self;
    report_t **reports;
    size_t count;
};

static int submit_one(store_txn_t *txn, node_t *self, report_t *report)
{
    records_latest_t latest = {0, 0, 0, ""};
    int rc = records_latest_get(txn, self->store, report->unit, report->year, &latest);
    if (rc && rc != SF_ENOTFOUND)
        return rc;
    report->version = latest.version + 1;
    report->series = self->series;
    snprintf(report->report_id, sizeof report->report_id, "%s-%d-v%u-%08x", report->unit,
             report->year, report->version, randombytes_random());

    struct Shifan__Report *wire = report_to_proto(report);
    if (!wire)
        return SF_ENOMEM;
    Shifan__Payload payload = SHIFAN__PAYLOAD__INIT;
    payload.body_case = SHIFAN__PAYLOAD__BODY_REPORT;
    payload.report = wire;
    uint8_t *bytes = NULL;
    size_t len = 0;
    rc = codec_payload_pack(&payload, &bytes, &len);
    if (rc == 0)
        rc = tier_sign(self->tier, &bytes, &len);
    if (rc == 0) {
        bool stored;
        if (!(rc = node_report_store(txn, self->store, wire, bytes, len, &stored)))
            rc = outbox_append(txn, self->store, UP_STREAM, bytes, len, NULL);
    }
    free(bytes);
    report_proto_free(wire);
    return rc;
}

static int submit_fn(store_txn_t *txn, void *arg)
{
    struct submit_arg *a = arg;
    for (size_t i = 0; i < a->count; i++) {
        int rc = submit_one(txn, a->self, a->reports[i]);
        if (rc)
            return rc;
    }
    return 0;
}

int node_own_unit(const node_t *self, report_t *report, char *err, size_t errsize)
{
    if (!report->unit[0])
        snprintf(report->unit, sizeof report->unit, "%s", self->code);
    if (programme_unit_within(node_programme(self), report->unit, self->code))
        return 0;
    snprintf(err, errsize, msg("unit %s: this node (%s) may report only for its own unit%s"),
             report->unit, self->code,
             programme_find_unit(node_programme(self), report->unit) < 0
                 ? msg(" (and it is unknown)")
                 : "");
    return SF_EINVAL;
}

int node_submit_many(node_t *self, report_t **reports, size_t count, char *err, size_t errsize)
{
    if (self->role != ROLE_COUNTY) {
        snprintf(err, errsize, msg("only a county submits reports"));
        return SF_EINVAL;
    }
    int64_t now = stime_now();
    for (size_t i = 0; i < count; i++) {
        report_t *report = reports[i];
        int rc = node_own_unit(self, report, err, errsize);
        if (rc)
            return rc;
        rc = report_validate(report, node_programme(self), "report", err, errsize);
        if (rc)
            return rc;
        report->submitted_at = now;
        snprintf(report->origin, sizeof report->origin, "%s", self->code);
        snprintf(report->standard_id, sizeof report->standard_id, "%s",
                 programme_standard_id(node_programme(self)));
    }
    /* All of them in one durable transaction: one fsync however many. */
    struct submit_arg arg = {self, reports, count};
    int rc = store_write(self->store, submit_fn, &arg);
    if (rc)
        snprintf(err, errsize, msg("the report was NOT stored: %s"), sf_strerror(rc));
    return rc;
}

int node_submit(node_t *self, report_t *report, char *err, size_t errsize)
{
    return node_submit_many(self, &report, 1, err, errsize);
}

/* ---- the tier's verbs: its policy, with one clock reading each ---- */

int node_return(node_t *self, const char *unit, int year, const char *reason, char *err,
                size_t errsize)
{
    return tier_return(self->tier, unit, year, reason, stime_now(), err, errsize);
}

int node_publish(node_t *self, const char *path, char *err, size_t errsize)
{
    return tier_publish(self->tier, path, stime_now(), err, errsize);
}

int node_inspect(node_t *self, report_t *inspection, char *err, size_t errsize)
{
    return tier_inspect(self->tier, inspection, stime_now(), err, errsize);
}

int node_evaluate(node_t *self, int year, const char *scope, engine_result_t **result, char *err,
                  size_t errsize)
{
    return tier_evaluate(self->tier, year, scope, stime_now(), result, err, errsize);
}

int node_recommend(node_t *self, int year, const node_recommend_request_t *request,
                   node_recommendations_t **lists, char *err, size_t errsize)
{
    return tier_recommend(self->tier, year, request, stime_now(), lists, err, errsize);
}

void node_recommendations_destroy(node_recommendations_t **self_p)
{
    tier_recommendations_destroy(self_p);
}

int node_publish_evaluation(node_t *self, int year, const char *document, char *err, size_t errsize)
{
    return tier_publish_evaluation(self->tier, year, document, stime_now(), err, errsize);
}

char *node_published_evaluation(node_t *self, int year, char *err, size_t errsize)
{
    return tier_published_evaluation(self->tier, year, err, errsize);
}

/* A newer programme stored (published, or arrived): use it from now on. */
int node_programme_reload(node_t *self, bool announce)
{
    int rc = tier_programme_reload(self->tier, announce);
    if (rc == 1)
        self->quota_cached = 0; /* areas may have changed */
    return rc < 0 ? rc : 0;
}
