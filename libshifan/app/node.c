#include "app/node.h"
#include "base/error.h"
#include "base/slog.h"
#include "base/stime.h"
#include "storage/outbox.h"
#include "storage/records.h"
#include "transport/codec.h"
#include "transport/keys.h"
#include "transport/link.h"
#include "transport/net.h"
#include "transport/zap.h"
#include "domain/admission.h"
#include "app/tier.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h> /* run/status.json: the daemon's own file, read back by status */
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define UP_STREAM "up"
#define PATH_MAX_LEN 4096
#define META_UPSTREAM_GENERATION "upstream_generation"
/* Bytes of reports and inspections one child may make us store per unit of
 * its area and programme year (a county's report is about 4 KB: 1,000
 * versions per unit-year). */
#define NODE_CHILD_BYTES_PER_UNIT ((uint64_t)4 << 20)

struct node {
    node_role_t role;
    char dir[PATH_MAX_LEN];
    char code[PROGRAMME_CODE_MAX];
    char listen[256];
    char upstream[256];
    char upstream_key[KEYS_Z85_LEN + 1];
    keys_pair_t keys;
    store_t *store;
    tier_t *tier; /* the tier's policy and the programme in force */
    /* daemon only */
    void *ctx;
    zap_t *zap;
    link_server_t *server;
    link_client_t *client;
    uint64_t keys_generation;
    uint64_t series; /* numbering series of what this node originates (its init time) */
    struct {
        char code[PROGRAMME_CODE_MAX];
        uint64_t limit;
    } quota_cache[64]; /* per child: bytes it may make us store per year */
    size_t quota_cached;
    uint64_t child_bytes_per_unit; /* NODE_CHILD_BYTES_PER_UNIT, or the environment's */
    codec_arena_t *arena;          /* decoding on the apply path (daemon thread only) */
    /* county, hub daemon: the parent it follows, how long out of reach */
    uint64_t upstream_generation;  /* meta upstream_generation the client was made for */
    int64_t unreachable_after_ms;  /* warn after this long without the link up */
    int64_t link_down_since_ms;    /* monotonic; 0 while the link is up */
    int64_t link_down_since;       /* the same moment, wall clock */
    int64_t unreachable_warned_ms; /* last warning of this outage, monotonic; 0: none */
};

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

const char *node_code(const node_t *self)
{
    return self->code;
}

const char *node_public_key(const node_t *self)
{
    return self->keys.public_z85;
}

const programme_t *node_programme(const node_t *self)
{
    return tier_programme(self->tier);
}

store_t *node_store(node_t *self)
{
    return self->store;
}

static void node_path_join(char *out, const char *dir, const char *name)
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
                     "--upstream %s: expected an endpoint such as tcp://10.1.2.3:7001", endpoint);
        else
            snprintf(err, errsize, "--upstream ENDPOINT is required, e.g. tcp://10.1.2.3:7001");
        return SF_EINVAL;
    }
    if (!keys_valid_z85(key)) {
        snprintf(err, errsize,
                 "--upstream-key: expected the parent's 40-character public key (its "
                 "'key' verb prints it)");
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
        snprintf(err, errsize, "--code CODE is required");
        return SF_EINVAL;
    }
    int index = programme_find_unit(programme, *code);
    unit_level_t want = options->role == ROLE_COUNTY ? LEVEL_COUNTY : LEVEL_PREFECTURE;
    if (index < 0) {
        snprintf(err, errsize, "--code %s: no such unit in programme %s", *code,
                 programme_id(programme));
        return SF_EINVAL;
    }
    if (programme_unit(programme, index)->level != want) {
        snprintf(err, errsize, "--code %s: %s is not a %s", *code,
                 programme_unit(programme, index)->name,
                 options->role == ROLE_COUNTY ? "county" : "prefecture");
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
            snprintf(err, errsize, "--listen %s: expected an endpoint such as tcp://0.0.0.0:7001",
                     options->listen);
        else
            snprintf(err, errsize, "--listen ENDPOINT is required, e.g. tcp://0.0.0.0:7001");
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
        snprintf(err, errsize, "cannot create %s: %s", data_dir, strerror(errno));
        return rc;
    }
    node_path_join(path, data_dir, "store");
    node_path_join(existing, path, "data.mdb");
    struct stat st;
    if (stat(existing, &st) == 0) {
        snprintf(err, errsize, "%s already holds a node; use another --data directory", data_dir);
        return SF_EEXIST;
    }
    node_path_join(keydir, data_dir, "keys");
    node_path_join(rundir, data_dir, "run");
    if ((rc = make_dir(path, 0700)) || (rc = make_dir(keydir, 0700)) ||
        (rc = make_dir(rundir, 0700))) {
        snprintf(err, errsize, "cannot create directories in %s: %s", data_dir, strerror(errno));
        return rc;
    }
    keys_pair_t keys;
    if ((rc = keys_create(keydir, &keys)) && rc != SF_EEXIST) {
        snprintf(err, errsize, "cannot write the key pair in %s: %s", keydir, sf_strerror(rc));
        return rc;
    }
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
        snprintf(err, errsize, "cannot open the store in %s: %s", path, sf_strerror(error.code));
        return error.code;
    }
    if (options->programme &&
        (rc = tier_programme_payload(programme, now, &programme_bytes, &programme_len))) {
        snprintf(err, errsize, "--programme %s: too large (%s)", options->programme,
                 sf_strerror(rc));
        store_destroy(&store);
        return SF_EINVAL;
    }
    struct meta_arg meta = {store, options, code, now, programme_bytes, programme_len};
    rc = store_write(store, write_meta_fn, &meta);
    store_destroy(&store);
    free(programme_bytes);
    if (rc)
        snprintf(err, errsize, "cannot write the configuration: %s", sf_strerror(rc));
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
        return sf_error_set(error, SF_ESTATE, "%s holds no node: run 'init' first", data_dir);
    sf_error_t opened = {0, ""};
    if (!(self->store = store_open(path, 0, &opened)))
        return sf_error_set(error, opened.code, "cannot open the store in %s: %s", path,
                            sf_strerror(opened.code));
    int rc;
    struct open_arg arg = {self, ""};
    if ((rc = store_read(self->store, read_meta_fn, &arg)))
        return sf_error_set(error, rc, "%s: the node's configuration is unreadable: %s", data_dir,
                            sf_strerror(rc));
    if (strcmp(arg.role, node_role_name(role)) != 0)
        return sf_error_set(error, SF_EINVAL, "%s holds a %s node, not a %s node", data_dir,
                            arg.role, node_role_name(role));
    return 0;
}

node_t *node_open(const char *data_dir, node_role_t role, sf_error_t *error)
{
    node_t *self = calloc(1, sizeof *self);
    if (!self) {
        sf_error_set(error, SF_ENOMEM, "out of memory");
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
        sf_error_set(error, rc, "cannot load the key pair in %s: %s", keydir, sf_strerror(rc));
        goto fail;
    }
    if (!(self->tier = tier_new(role, self->code, self->series, self->store, error)))
        goto fail;
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
    free(self);
    *self_p = NULL;
}

/* ---- allow ---- */

struct allow_arg {
    node_t *self;
    const char *code;
    const char *key;
    char owner[PROGRAMME_CODE_MAX]; /* out: the unit the key belongs to, on SF_EEXIST */
};

static int allow_fn(store_txn_t *txn, void *arg)
{
    struct allow_arg *a = arg;
    store_t *store = a->self->store;
    char old[KEYS_Z85_LEN + 1];
    int rc = store_get_string(txn, store, DB_CHILDREN, a->code, old, sizeof old);
    if (rc == 0 && strcmp(old, a->key) != 0) /* the replaced key may not connect any more */
        store_del(txn, store, DB_KEYS, old, strlen(old));
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
        snprintf(err, errsize, "a county has no children to allow");
        return SF_EINVAL;
    }
    if (!code || !key) {
        snprintf(err, errsize, "allow needs --code CODE and --key KEY");
        return SF_EINVAL;
    }
    if (!keys_valid_z85(key)) {
        snprintf(err, errsize, "--key %s: expected a 40-character Z85 public key", key);
        return SF_EINVAL;
    }
    int index = programme_find_unit(node_programme(self), code);
    unit_level_t want = self->role == ROLE_PREFECTURE ? LEVEL_COUNTY : LEVEL_PREFECTURE;
    if (index < 0) {
        snprintf(err, errsize, "--code %s: no such unit in programme %s", code,
                 programme_id(node_programme(self)));
        return SF_EINVAL;
    }
    const programme_unit_t *unit = programme_unit(node_programme(self), index);
    if (unit->level != want || unit->parent < 0 ||
        strcmp(programme_unit(node_programme(self), unit->parent)->code, self->code) != 0) {
        snprintf(err, errsize, "--code %s: %s is not a %s under %s", code, unit->name,
                 want == LEVEL_COUNTY ? "county" : "prefecture", self->code);
        return SF_EINVAL;
    }
    if (strcmp(key, self->keys.public_z85) == 0) {
        snprintf(err, errsize, "--key is this node's own key; use the child's 'key' output");
        return SF_EINVAL;
    }
    struct allow_arg arg = {self, unit->code, key, ""};
    int rc = store_write(self->store, allow_fn, &arg);
    if (rc == SF_EEXIST)
        snprintf(err, errsize, "--key is already registered to %s; one key, one unit", arg.owner);
    else if (rc)
        snprintf(err, errsize, "cannot store the key: %s", sf_strerror(rc));
    return rc == SF_EEXIST ? SF_EINVAL : rc;
}

struct revoke_arg {
    node_t *self;
    const char *code;
};

static int revoke_fn(store_txn_t *txn, void *arg)
{
    struct revoke_arg *a = arg;
    store_t *store = a->self->store;
    char key[KEYS_Z85_LEN + 1];
    int rc = store_get_string(txn, store, DB_CHILDREN, a->code, key, sizeof key);
    if (rc)
        return rc;
    if ((rc = store_del(txn, store, DB_CHILDREN, a->code, strlen(a->code))) ||
        ((rc = store_del(txn, store, DB_KEYS, key, strlen(key))) && rc != SF_ENOTFOUND))
        return rc;
    return records_counter_bump(txn, store, "keys_generation");
}

int node_revoke(node_t *self, const char *code, char *err, size_t errsize)
{
    if (self->role == ROLE_COUNTY) {
        snprintf(err, errsize, "a county has no children to revoke");
        return SF_EINVAL;
    }
    if (!code) {
        snprintf(err, errsize, "revoke needs --code CODE");
        return SF_EINVAL;
    }
    struct revoke_arg arg = {self, code};
    int rc = store_write(self->store, revoke_fn, &arg);
    if (rc == SF_ENOTFOUND) {
        snprintf(err, errsize, "--code %s: no key is registered for it here", code);
        return SF_EINVAL;
    }
    if (rc)
        snprintf(err, errsize, "cannot remove the key: %s", sf_strerror(rc));
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
        snprintf(err, errsize,
                 "the province has no upstream: set-upstream is for a county or a prefecture hub");
        return SF_EINVAL;
    }
    int rc = upstream_check(endpoint, key, err, errsize);
    if (rc)
        return rc;
    /* Only the two meta values: streams, queue and epochs stay, so the new
     * parent starts its view of our stream where the old one left it. */
    struct set_upstream_arg arg = {self, endpoint, key};
    if ((rc = store_write(self->store, set_upstream_fn, &arg))) {
        snprintf(err, errsize, "cannot store the upstream: %s", sf_strerror(rc));
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
static int report_store(store_txn_t *txn, store_t *store, const Shifan__Report *report,
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
    if (rc == 0) {
        bool stored;
        if (!(rc = report_store(txn, self->store, wire, bytes, len, &stored)))
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

int node_submit_many(node_t *self, report_t **reports, size_t count, char *err, size_t errsize)
{
    if (self->role != ROLE_COUNTY) {
        snprintf(err, errsize, "only a county submits reports");
        return SF_EINVAL;
    }
    int64_t now = stime_now();
    for (size_t i = 0; i < count; i++) {
        report_t *report = reports[i];
        if (!report->unit[0])
            snprintf(report->unit, sizeof report->unit, "%s", self->code);
        if (!programme_unit_within(node_programme(self), report->unit, self->code)) {
            snprintf(err, errsize, "unit %s: this node (%s) may report only for its own unit%s",
                     report->unit, self->code,
                     programme_find_unit(node_programme(self), report->unit) < 0
                         ? " (and it is unknown)"
                         : "");
            return SF_EINVAL;
        }
        int rc = report_validate(report, node_programme(self), "report", err, errsize);
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
        snprintf(err, errsize, "the report was NOT stored: %s", sf_strerror(rc));
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

int node_recommend(node_t *self, int year, bool confirm, node_recommendations_t **lists, char *err,
                   size_t errsize)
{
    return tier_recommend(self->tier, year, confirm, stime_now(), lists, err, errsize);
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

/* ---- what arrives over a link ---- */

/* What one child may make us store: NODE_CHILD_BYTES_PER_UNIT per unit of
 * its area (its own unit and every unit under it) and programme year, in
 * reports and inspections (docs/protocol.md, "Bounds per child"). Counted in
 * DB_META "bytes/<child>/<year>" in the transaction that stores. */
static uint64_t child_quota_limit(node_t *self, const char *child)
{
    for (size_t i = 0; i < self->quota_cached; i++)
        if (strcmp(self->quota_cache[i].code, child) == 0)
            return self->quota_cache[i].limit;
    uint64_t units = 0;
    for (size_t i = 0; i < programme_unit_count(node_programme(self)); i++)
        units += programme_unit_within(node_programme(self),
                                       programme_unit(node_programme(self), i)->code, child);
    uint64_t limit = (units ? units : 1) * self->child_bytes_per_unit;
    if (self->quota_cached < sizeof self->quota_cache / sizeof self->quota_cache[0]) {
        snprintf(self->quota_cache[self->quota_cached].code,
                 sizeof self->quota_cache[self->quota_cached].code, "%s", child);
        self->quota_cache[self->quota_cached++].limit = limit;
    }
    return limit;
}

static int child_quota_take(node_t *self, store_txn_t *txn, const char *child, uint32_t year,
                            size_t bytes, char *why, size_t whysize)
{
    char key[64];
    snprintf(key, sizeof key, "bytes/%s/%u", child, year);
    uint64_t used = 0;
    int rc = store_get_u64(txn, self->store, DB_META, key, &used);
    if (rc && rc != SF_ENOTFOUND)
        return rc;
    if (used + bytes > self->child_bytes_per_unit) { /* only then is the area's size needed */
        uint64_t limit = child_quota_limit(self, child);
        if (used + bytes > limit) {
            snprintf(why, whysize,
                     "over limit: %s has stored %" PRIu64 " bytes for year %u here, the bound is "
                     "%" PRIu64,
                     child, used, year, limit);
            slog_warn("refused: %s", why);
            return LINK_OVER_LIMIT;
        }
    }
    return store_put_u64(txn, self->store, DB_META, key, used + bytes);
}

/* A report or inspection arriving from a child (hub: from a county; province:
 * from a hub). The sender's key may speak only for units under its code. */
static int apply_from_child(node_t *self, store_txn_t *txn, const char *peer,
                            Shifan__Payload *payload, const uint8_t *raw, size_t raw_len,
                            int64_t now, char *why, size_t whysize)
{
    int rc;
    Shifan__Report *wire = payload->body_case == SHIFAN__PAYLOAD__BODY_REPORT ? payload->report
                           : payload->body_case == SHIFAN__PAYLOAD__BODY_INSPECTION
                               ? payload->inspection
                               : NULL;
    if (!wire)
        return tier_refuse(why, whysize, "malformed: %s sent a message type it may not send%s",
                           peer, "");
    /* Its content was admitted in node_apply (admission.h), at every tier;
     * what follows only re-states the authorisation as a last guard. */
    if (!programme_unit_within(node_programme(self), wire->unit, peer))
        return tier_refuse(why, whysize, "the key of %s may not report for unit %s", peer,
                           wire->unit);
    if (payload->body_case == SHIFAN__PAYLOAD__BODY_INSPECTION && self->role != ROLE_PROVINCE)
        return tier_refuse(why, whysize, "malformed: %s may not send inspections to %s", peer,
                           self->code);

    /* A resend of what we hold changes nothing (and is never over limit). */
    store_db_t db =
        payload->body_case == SHIFAN__PAYLOAD__BODY_REPORT ? DB_REPORTS : DB_INSPECTIONS;
    const void *known;
    size_t known_len;
    rc = store_get(txn, self->store, db, wire->report_id, strlen(wire->report_id), &known,
                   &known_len);
    if (rc == 0)
        return 0;
    if (rc != SF_ENOTFOUND)
        return rc;
    if ((rc = child_quota_take(self, txn, peer, wire->year, raw_len + 64, why, whysize)))
        return rc;

    /* Stamp our receipt: the province can then tell "submitted on time,
     * delivered late" from "submitted late". */
    uint8_t *bytes = NULL;
    size_t len = 0;
    rc = codec_payload_append_receipt(raw, raw_len, self->code, now, &bytes, &len);
    if (rc)
        return rc == SF_ETOOBIG
                   ? tier_refuse(why, whysize, "malformed: payload from %s too large%s", peer, "")
                   : rc;
    bool stored = false;
    if (payload->body_case == SHIFAN__PAYLOAD__BODY_REPORT) {
        rc = report_store(txn, self->store, wire, bytes, len, &stored);
    } else {
        rc = store_put(txn, self->store, DB_INSPECTIONS, wire->report_id, strlen(wire->report_id),
                       bytes, len, STORE_NOOVERWRITE);
        stored = rc == 0;
        rc = rc == SF_EEXIST ? 0 : rc;
    }
    /* A hub forwards what it stored in the same transaction, and re-ranks. */
    if (rc == 0 && stored && self->role == ROLE_PREFECTURE)
        rc = outbox_append(txn, self->store, UP_STREAM, bytes, len, NULL);
    if (rc == 0 && stored && self->role == ROLE_PREFECTURE)
        rc = tier_touch_data(self->tier, txn);
    if (rc == 0 && stored)
        slog_info("stored %s %s (unit %s, year %u, version %u) from %s",
                  payload->body_case == SHIFAN__PAYLOAD__BODY_REPORT ? "report" : "inspection",
                  wire->report_id, wire->unit, wire->year, wire->version, peer);
    free(bytes);
    return rc;
}

static int apply_refused(node_t *self, store_txn_t *txn, const char *peer,
                         const Shifan__Payload *payload, const uint8_t *bytes, size_t len,
                         char *why, size_t whysize);

/* The one dispatch of what arrives over a link, after admission: by the
 * item's type and whether the parent ("") or a child sent it. */
static int apply_item(node_t *self, store_txn_t *txn, const char *peer, Shifan__Payload *payload,
                      const uint8_t *bytes, size_t len, int64_t now, char *why, size_t whysize)
{
    bool from_parent = !*peer;
    switch (payload->body_case) {
    case SHIFAN__PAYLOAD__BODY_REFUSED:
        return apply_refused(self, txn, peer, payload, bytes, len, why, whysize);
    case SHIFAN__PAYLOAD__BODY_RETURN_FOR_CORRECTION:
        return tier_apply_return(self->tier, txn, peer, payload, bytes, len, why, whysize);
    case SHIFAN__PAYLOAD__BODY_PROGRAMME:
        if (from_parent)
            return tier_apply_programme(self->tier, txn, payload, bytes, len, why, whysize);
        break;
    case SHIFAN__PAYLOAD__BODY_EVALUATION:
        if (from_parent)
            return tier_apply_evaluation(self->tier, txn, payload, why, whysize);
        break;
    case SHIFAN__PAYLOAD__BODY_RECOMMENDATION:
        if (!from_parent)
            return tier_apply_recommendation(self->tier, txn, peer, payload, bytes, len, why,
                                             whysize);
        break;
    default:
        break;
    }
    if (from_parent)
        return tier_refuse(why, whysize, "malformed: the parent sent a message type %s%s",
                           "a child does not take", "");
    /* Reports and inspections; apply_from_child refuses any other type. */
    return apply_from_child(self, txn, peer, payload, bytes, len, now, why, whysize);
}

/* Link hook: admission (admission.h), then apply_item. A refusal judged by
 * a programme about to be replaced is deferred instead. */
static int node_apply(void *arg, store_txn_t *txn, const char *peer, const uint8_t *bytes,
                      size_t len, char *why, size_t whysize)
{
    node_t *self = arg;
    if (!self->arena && !(self->arena = codec_arena_new(2u << 20, NULL)))
        return SF_ENOMEM;
    Shifan__Payload *payload = codec_payload_unpack_arena(self->arena, bytes, len);
    if (!payload)
        return tier_refuse(why, whysize, "malformed: an item from %s does not decode%s",
                           *peer ? peer : "the parent", "");
    int64_t now = stime_now();
    admission_t at = {.programme = node_programme(self),
                      .receiver = self->code,
                      .peer = peer,
                      .now = now,
                      .earlier_standards = tier_earlier_standards(self->tier)};
    int verdict = admit_payload(&at, payload, why, whysize), rc;
    if (verdict == SF_ENOMEM) {
        codec_payload_free_arena(self->arena, payload);
        return SF_ENOMEM; /* not the item's fault: the whole group is retried */
    }
    if (verdict)
        rc = verdict == SF_EDENIED ? LINK_REFUSED_UNIT : LINK_REFUSED;
    else
        rc = apply_item(self, txn, peer, payload, bytes, len, now, why, whysize);
    codec_payload_free_arena(self->arena, payload);
    if ((rc == LINK_REFUSED || rc == LINK_REFUSED_UNIT) && *peer &&
        tier_programme_pending(self->tier, txn)) {
        /* Judged by a programme about to be replaced: ask again after the
         * reload (within a tick) instead of refusing for good. */
        slog_info("deferred an item from %s until programme revision reload: %s", peer, why);
        rc = LINK_LATER;
    } else if (verdict) {
        slog_warn("refused an item from %s: %s", *peer ? peer : "the parent", why);
    }
    return rc;
}

struct apply_one_arg {
    node_t *self;
    const char *peer;
    const uint8_t *bytes;
    size_t len;
    char *why;
    size_t whysize;
    int outcome;
};

static int apply_one_fn(store_txn_t *txn, void *arg)
{
    struct apply_one_arg *a = arg;
    a->why[0] = '\0';
    int rc = node_apply(a->self, txn, a->peer, a->bytes, a->len, a->why, a->whysize);
    if (rc < 0)
        return rc;
    a->outcome = rc;
    return 0;
}

int node_apply_payload(node_t *self, const char *peer, const uint8_t *bytes, size_t len, char *why,
                       size_t whysize)
{
    struct apply_one_arg arg = {self, peer ? peer : "", bytes, len, why, whysize, 0};
    int rc = store_write(self->store, apply_one_fn, &arg);
    return rc ? rc : arg.outcome;
}

/* ---- refusals, told durably ---- */

/* The stream back to the sender of an item: "up" to the parent, "d:<code>"
 * to a child. */
static void reverse_stream(char *out, size_t size, const char *peer)
{
    if (*peer)
        link_down_stream(out, size, peer);
    else
        snprintf(out, size, "%s", UP_STREAM);
}

/* What a refused payload was, as far as it decodes. */
static void payload_identity(const uint8_t *bytes, size_t len, char *kind, size_t kindsize,
                             char *id, size_t idsize)
{
    snprintf(kind, kindsize, "item");
    id[0] = '\0';
    Shifan__Payload *payload = codec_payload_unpack(bytes, len);
    if (!payload)
        return;
    const char *name = NULL, *ref = NULL;
    switch (payload->body_case) {
    case SHIFAN__PAYLOAD__BODY_REPORT:
        name = "report", ref = payload->report->report_id;
        break;
    case SHIFAN__PAYLOAD__BODY_INSPECTION:
        name = "inspection", ref = payload->inspection->report_id;
        break;
    case SHIFAN__PAYLOAD__BODY_RETURN_FOR_CORRECTION:
        name = "return", ref = payload->return_for_correction->report_id;
        break;
    case SHIFAN__PAYLOAD__BODY_RECOMMENDATION:
        name = "recommendation";
        break;
    case SHIFAN__PAYLOAD__BODY_PROGRAMME:
        name = "programme";
        break;
    case SHIFAN__PAYLOAD__BODY_EVALUATION:
        name = "evaluation";
        break;
    case SHIFAN__PAYLOAD__BODY_REFUSED:
        name = "refusal notice";
        break;
    default:
        break;
    }
    if (name)
        snprintf(kind, kindsize, "%s", name);
    /* Only an id we could store as a key and print safely. */
    if (admit_report_id_ok(ref) && strlen(ref) < idsize)
        snprintf(id, idsize, "%s", ref);
    codec_payload_free(payload);
}

static int node_on_refused(void *arg, store_txn_t *txn, const char *peer, uint64_t epoch,
                           uint64_t seq, const uint8_t *payload, size_t len, int reason,
                           const char *why)
{
    node_t *self = arg;
    char kind[32], id[REPORT_ID_MAX], detail[ADMIT_NOTICE_DETAIL_MAX + 1];
    payload_identity(payload, len, kind, sizeof kind, id, sizeof id);
    /* A reason cut short may have split a character: the notice must be
     * admitted by its receiver, so non-ASCII goes if the text is not UTF-8. */
    snprintf(detail, sizeof detail, "%s", why);
    if (!report_text_valid(detail, ADMIT_NOTICE_DETAIL_MAX))
        for (char *p = detail; *p; p++)
            if ((unsigned char)*p >= 0x80)
                *p = '?';
    Shifan__ItemRefused notice = SHIFAN__ITEM_REFUSED__INIT;
    notice.epoch = epoch;
    notice.seq = seq;
    notice.reason = (uint32_t)reason;
    notice.detail = detail;
    notice.report_id = id[0] ? id : NULL;
    notice.kind = kind;
    notice.refused_by = self->code;
    Shifan__Payload out = SHIFAN__PAYLOAD__INIT;
    out.body_case = SHIFAN__PAYLOAD__BODY_REFUSED;
    out.refused = &notice;
    uint8_t *bytes;
    size_t out_len;
    int rc = codec_payload_pack(&out, &bytes, &out_len);
    if (rc)
        return rc;
    char stream[OUTBOX_STREAM_MAX];
    reverse_stream(stream, sizeof stream, peer);
    rc = outbox_append(txn, self->store, stream, bytes, out_len, NULL);
    free(bytes);
    return rc;
}

/* A notice that the peer refused an item of ours: kept (DB_REFUSALS), shown
 * by list and status; a hub passes a refusal of a county's report down to
 * that county. */
static int apply_refused(node_t *self, store_txn_t *txn, const char *peer,
                         const Shifan__Payload *payload, const uint8_t *bytes, size_t len,
                         char *why, size_t whysize)
{
    (void)why, (void)whysize; /* admitted in node_apply (admission.c) */
    const Shifan__ItemRefused *notice = payload->refused;
    char key[PROGRAMME_CODE_MAX + REPORT_ID_MAX + 48];
    const char *who = *peer ? peer : "up";
    if (notice->report_id && *notice->report_id)
        snprintf(key, sizeof key, "%s/%s", who, notice->report_id);
    else
        snprintf(key, sizeof key, "%s/%016" PRIx64 ":%" PRIu64, who, notice->epoch, notice->seq);
    int rc = store_put(txn, self->store, DB_REFUSALS, key, strlen(key), bytes, len, 0);
    if (rc)
        return rc;
    slog_warn("%s refused our %s %s: %s", *peer ? peer : "the parent",
              notice->kind ? notice->kind : "item", notice->report_id ? notice->report_id : "",
              notice->detail);
    /* A hub tells the county whose report the province refused. */
    if (!*peer && self->role == ROLE_PREFECTURE && notice->report_id && *notice->report_id) {
        const void *stored;
        size_t stored_len;
        if (store_get(txn, self->store, DB_REPORTS, notice->report_id, strlen(notice->report_id),
                      &stored, &stored_len) == 0) {
            Shifan__Payload *report = codec_payload_unpack(stored, stored_len);
            char county[PROGRAMME_CODE_MAX] = "";
            if (report && report->body_case == SHIFAN__PAYLOAD__BODY_REPORT &&
                programme_find_unit(node_programme(self), report->report->origin) >= 0 &&
                strcmp(report->report->origin, self->code) != 0)
                snprintf(county, sizeof county, "%s", report->report->origin);
            codec_payload_free(report);
            if (county[0]) { /* the notice as received: not in the map (L8) */
                char stream[OUTBOX_STREAM_MAX];
                link_down_stream(stream, sizeof stream, county);
                rc = outbox_append(txn, self->store, stream, bytes, len, NULL);
            }
        }
    }
    return rc;
}

/* ---- state queued again for a peer that lost it ---- */

/* Queues the values of a database again on a stream, once each (those that
 * `keep` accepts, all if it is NULL); *count (may be NULL) adds how many
 * were queued. */
typedef bool (*keep_fn)(node_t *self, const void *value, size_t len, const void *arg);

struct requeue_arg {
    node_t *self;
    store_txn_t *txn;
    const char *stream;
    keep_fn keep;
    const void *keep_arg;
    size_t *count;
};

static int requeue_one(const void *key, size_t klen, const void *value, size_t len, void *arg)
{
    struct requeue_arg *a = arg;
    (void)key, (void)klen;
    if (a->keep && !a->keep(a->self, value, len, a->keep_arg))
        return 0;
    uint8_t *copy = malloc(len); /* the append writes to the map (L8) */
    if (!copy)
        return SF_ENOMEM;
    memcpy(copy, value, len);
    bool queued = false;
    int rc = outbox_append_once(a->txn, a->self->store, a->stream, copy, len, &queued);
    free(copy);
    if (a->count)
        *a->count += queued;
    return rc;
}

static int requeue_values(node_t *self, store_txn_t *txn, store_db_t db, const char *stream,
                          keep_fn keep, const void *keep_arg, size_t *count)
{
    struct requeue_arg arg = {self, txn, stream, keep, keep_arg, count};
    return store_each(txn, self->store, db, NULL, 0, requeue_one, &arg);
}

/* A stored return of a unit of this child. */
static bool return_for_child(node_t *self, const void *value, size_t len, const void *child)
{
    Shifan__Payload *payload = codec_payload_unpack(value, len);
    bool ours =
        payload && payload->body_case == SHIFAN__PAYLOAD__BODY_RETURN_FOR_CORRECTION &&
        programme_unit_within(node_programme(self), payload->return_for_correction->unit, child);
    codec_payload_free(payload);
    return ours;
}

/* Link hook: a child lacks our downward state (first contact, a
 * re-initialised child, one restored from a backup). It gets the programme
 * in force, its part of every published evaluation and, from a hub, the
 * returns of its reports; each only if not already waiting for it. */
static int node_resync_child(void *arg, store_txn_t *txn, const char *peer)
{
    node_t *self = arg;
    int rc = tier_queue_programme(self->tier, txn, peer);
    if (rc == 0)
        rc = tier_queue_evaluations(self->tier, txn, peer);
    if (rc == 0 && self->role == ROLE_PREFECTURE) {
        char stream[OUTBOX_STREAM_MAX];
        link_down_stream(stream, sizeof stream, peer);
        rc = requeue_values(self, txn, DB_RETURNS, stream, return_for_child, peer, NULL);
    }
    return rc;
}

/* Link hook: the parent lacks what it once acknowledged. A county queues
 * every report version it made; a hub everything it forwards: reports,
 * its inspections, returns and recommendations. The parent dedupes. */
static int node_resync_parent(void *arg, store_txn_t *txn)
{
    node_t *self = arg;
    size_t count = 0;
    int rc = requeue_values(self, txn, DB_REPORTS, UP_STREAM, NULL, NULL, &count);
    if (rc == 0 && self->role == ROLE_PREFECTURE) {
        store_db_t more[] = {DB_INSPECTIONS, DB_RETURNS, DB_RECOMMENDATIONS};
        for (size_t i = 0; i < 3 && rc == 0; i++)
            rc = requeue_values(self, txn, more[i], UP_STREAM, NULL, NULL, &count);
    }
    if (rc == 0)
        slog_info("queued %zu item(s) again for the parent", count);
    return rc;
}

/* Every frame's key must still be the one registered for its code. */
static bool node_admit(void *arg, const char *code, const char *key_z85)
{
    node_t *self = arg;
    return self->zap && zap_is_current(self->zap, code, key_z85);
}

/* ---- the daemon ---- */

static volatile sig_atomic_t node_stop_requested;
static int node_signal_pipe[2] = {-1, -1};

static void node_on_signal(int signo)
{
    (void)signo;
    node_stop_requested = 1;
    int saved = errno;
    ssize_t ignored = write(node_signal_pipe[1], "x", 1);
    (void)ignored;
    errno = saved;
}

static int install_signals(void)
{
    if (node_signal_pipe[0] < 0 && pipe(node_signal_pipe) != 0)
        return SF_EIO;
    fcntl(node_signal_pipe[0], F_SETFL, O_NONBLOCK);
    fcntl(node_signal_pipe[1], F_SETFL, O_NONBLOCK);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = node_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

struct keys_load_arg {
    node_t *self;
    zap_entry_t *entries;
    size_t count, cap;
    uint64_t generation;
};

static int keys_load_one(const void *key, size_t klen, const void *value, size_t vlen, void *arg)
{
    struct keys_load_arg *a = arg;
    char z85[KEYS_Z85_LEN + 1];
    if (klen != KEYS_Z85_LEN || vlen >= ZAP_CODE_MAX)
        return 0;
    if (a->count == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 32;
        zap_entry_t *grown = realloc(a->entries, cap * sizeof *grown);
        if (!grown)
            return SF_ENOMEM;
        a->entries = grown;
        a->cap = cap;
    }
    memcpy(z85, key, KEYS_Z85_LEN);
    z85[KEYS_Z85_LEN] = '\0';
    zap_entry_t *entry = &a->entries[a->count];
    if (keys_decode(z85, entry->key))
        return 0;
    memcpy(entry->code, value, vlen);
    entry->code[vlen] = '\0';
    a->count++;
    return 0;
}

static int keys_load_fn(store_txn_t *txn, void *arg)
{
    struct keys_load_arg *a = arg;
    store_get_u64(txn, a->self->store, DB_META, "keys_generation", &a->generation);
    return store_each(txn, a->self->store, DB_KEYS, NULL, 0, keys_load_one, a);
}

/* The ZAP table is rebuilt when 'allow' bumped keys_generation. */
static void node_reload_keys(node_t *self, bool force)
{
    struct keys_load_arg arg = {self, NULL, 0, 0, 0};
    if (store_read(self->store, keys_load_fn, &arg) == 0 &&
        (force || arg.generation != self->keys_generation)) {
        zap_set_entries(self->zap, arg.entries, arg.count);
        slog_info("key table loaded: %zu child key(s)", arg.count);
        self->keys_generation = arg.generation;
    }
    free(arg.entries);
}

/* ---- the daemon: the parent it follows ---- */

#define UNREACHABLE_WARN_MS 60000
#define UNREACHABLE_REPEAT_MS (5 * 60000)

/* SHIFAN_UNREACHABLE_AFTER=SECONDS replaces the minute (tests). */
static int64_t unreachable_after_ms(void)
{
    const char *env = getenv("SHIFAN_UNREACHABLE_AFTER");
    if (!env || !*env)
        return UNREACHABLE_WARN_MS;
    char *end;
    long seconds = strtol(env, &end, 10);
    return *end == '\0' && seconds > 0 && seconds <= 86400 ? (int64_t)seconds * 1000
                                                           : UNREACHABLE_WARN_MS;
}

/* A new link (at start, or to another parent) gets the whole grace period. */
static void upstream_watch_start(node_t *self)
{
    self->link_down_since_ms = stime_mono_ms();
    self->link_down_since = stime_now();
    self->unreachable_warned_ms = 0;
}

/* A wrong --upstream otherwise shows only as "connecting": after a minute
 * without the link up, say so naming the endpoint, then every 5 minutes.
 * Reads the link's public state only. */
static void upstream_watch(node_t *self)
{
    link_state_t state = link_client_state(self->client);
    int64_t now = stime_mono_ms();
    if (state == LINK_UP) {
        if (self->unreachable_warned_ms)
            slog_info("the parent at %s is reachable again", self->upstream);
        self->link_down_since_ms = 0;
        self->unreachable_warned_ms = 0;
        return;
    }
    if (!self->link_down_since_ms) {
        self->link_down_since_ms = now;
        self->link_down_since = stime_now();
    }
    int64_t down_ms = now - self->link_down_since_ms;
    if (down_ms < self->unreachable_after_ms ||
        (self->unreachable_warned_ms && now - self->unreachable_warned_ms < UNREACHABLE_REPEAT_MS))
        return;
    self->unreachable_warned_ms = now;
    slog_warn("cannot reach the parent at %s for %" PRId64 " s (state %s): check --upstream "
              "(set-upstream) and that the parent runs and allows our key",
              self->upstream, down_ms / 1000, link_state_name(state));
}

/* For status: since when the parent is out of reach, once that is reported. */
static json_t *upstream_unreachable_since(const node_t *self)
{
    char when[STIME_BUFSZ];
    if (!self->link_down_since_ms ||
        stime_mono_ms() - self->link_down_since_ms < self->unreachable_after_ms)
        return json_null();
    return json_string(stime_format(self->link_down_since, when, sizeof when));
}

struct upstream_read_arg {
    node_t *self;
    uint64_t generation;
    char endpoint[256];
    char key[KEYS_Z85_LEN + 1];
};

static int upstream_read_fn(store_txn_t *txn, void *arg)
{
    struct upstream_read_arg *a = arg;
    store_t *store = a->self->store;
    store_get_u64(txn, store, DB_META, META_UPSTREAM_GENERATION, &a->generation);
    int rc = store_get_string(txn, store, DB_META, "upstream", a->endpoint, sizeof a->endpoint);
    return rc ? rc : store_get_string(txn, store, DB_META, "upstream_key", a->key, sizeof a->key);
}

/* set-upstream stored another parent: replace the link client. Queue and
 * streams live in the store, so the new client resumes from them. If no
 * client can be made for it, the old one stays (logged once). */
static void upstream_follow(node_t *self, const link_hooks_t *hooks)
{
    struct upstream_read_arg arg = {self, 0, "", ""};
    if (store_read(self->store, upstream_read_fn, &arg) != 0 ||
        arg.generation == self->upstream_generation)
        return;
    self->upstream_generation = arg.generation;
    if (strcmp(arg.endpoint, self->upstream) == 0 && strcmp(arg.key, self->upstream_key) == 0)
        return;
    link_client_config_t config = {self->code, arg.endpoint, arg.key, self->keys.public_z85,
                                   self->keys.secret_z85};
    sf_error_t error;
    link_client_t *client = link_client_new(self->ctx, self->store, &config, hooks, &error);
    if (!client) {
        slog_error("cannot switch the parent to %s (%s): keeping %s", arg.endpoint,
                   sf_strerror(error.code), self->upstream);
        return;
    }
    link_client_destroy(&self->client);
    self->client = client;
    slog_warn("parent changed by set-upstream: %s -> %s (key %s); the queue resumes there",
              self->upstream, arg.endpoint, arg.key);
    snprintf(self->upstream, sizeof self->upstream, "%s", arg.endpoint);
    snprintf(self->upstream_key, sizeof self->upstream_key, "%s", arg.key);
    upstream_watch_start(self);
}

/* status.json "link": the client's state and measurements. */
static json_t *status_link_json(node_t *self)
{
    char when[STIME_BUFSZ];
    json_t *link = json_object();
    int64_t contact = link_client_last_contact(self->client);
    json_object_set_new(link, "state",
                        json_string(link_state_name(link_client_state(self->client))));
    json_object_set_new(link, "upstream", json_string(self->upstream));
    json_object_set_new(link, "last_contact",
                        contact ? json_string(stime_format(contact, when, sizeof when))
                                : json_null());
    link_stats_t stats;
    link_client_stats(self->client, &stats);
    json_object_set_new(link, "rate_bytes_per_s", json_integer((json_int_t)stats.rate_Bps));
    json_object_set_new(link, "round_trip_ms", json_integer((json_int_t)stats.srtt_ms));
    json_object_set_new(link, "bytes_sent", json_integer((json_int_t)stats.bytes_sent));
    json_object_set_new(link, "bytes_resent", json_integer((json_int_t)stats.bytes_resent));
    json_object_set_new(link, "refused_by_parent", json_integer((json_int_t)stats.refused));
    json_object_set_new(link, "resyncs", json_integer((json_int_t)stats.resyncs));
    json_object_set_new(link, "restarts", json_integer((json_int_t)stats.restarts));
    json_object_set_new(link, "last_event",
                        stats.last_event[0] ? json_string(stats.last_event) : json_null());
    json_object_set_new(link, "unreachable_since", upstream_unreachable_since(self));
    return link;
}

/* status.json's children and downlink counters, from the server. */
static void status_server_json(node_t *self, json_t *status)
{
    char when[STIME_BUFSZ];
    link_peer_info_t peers[512];
    size_t count = link_server_peers(self->server, peers, 512);
    json_t *list = json_array();
    for (size_t i = 0; i < count && i < 512; i++) {
        json_t *peer = json_object();
        json_object_set_new(peer, "code", json_string(peers[i].code));
        json_object_set_new(peer, "connected", json_boolean(peers[i].connected));
        json_object_set_new(peer, "last_contact",
                            peers[i].last_contact ? json_string(stime_format(peers[i].last_contact,
                                                                             when, sizeof when))
                                                  : json_null());
        json_object_set_new(peer, "down_pending", json_integer((json_int_t)peers[i].down_pending));
        json_object_set_new(peer, "rate_bytes_per_s", json_integer((json_int_t)peers[i].rate_Bps));
        json_object_set_new(peer, "round_trip_ms", json_integer((json_int_t)peers[i].srtt_ms));
        json_array_append_new(list, peer);
    }
    json_object_set_new(status, "children", list);
    json_object_set_new(status, "listen", json_string(self->listen));
    json_object_set_new(status, "dropped_frames",
                        json_integer((json_int_t)link_server_dropped_frames(self->server)));
    json_object_set_new(status, "refused_items",
                        json_integer((json_int_t)link_server_refused_items(self->server)));
    json_object_set_new(status, "refused_keys", json_integer((json_int_t)zap_refused(self->zap)));
    json_object_set_new(status, "sessionless_frames",
                        json_integer((json_int_t)link_server_sessionless_frames(self->server)));
    link_stats_t stats;
    link_server_stats(self->server, &stats);
    json_object_set_new(status, "children_event",
                        stats.last_event[0] ? json_string(stats.last_event) : json_null());
    json_t *down = json_object();
    json_object_set_new(down, "bytes_sent", json_integer((json_int_t)stats.bytes_sent));
    json_object_set_new(down, "bytes_resent", json_integer((json_int_t)stats.bytes_resent));
    json_object_set_new(down, "resyncs", json_integer((json_int_t)stats.resyncs));
    json_object_set_new(down, "restarts", json_integer((json_int_t)stats.restarts));
    json_object_set_new(status, "downlinks", down);
}

static void node_write_status(node_t *self)
{
    json_t *status = json_object();
    char when[STIME_BUFSZ];
    json_object_set_new(status, "pid", json_integer(getpid()));
    json_object_set_new(status, "updated_at",
                        json_string(stime_format(stime_now(), when, sizeof when)));
    if (self->client)
        json_object_set_new(status, "link", status_link_json(self));
    if (self->server)
        status_server_json(self, status);
    char path[PATH_MAX_LEN], tmp[PATH_MAX_LEN + 8];
    node_path_join(path, self->dir, "run/status.json");
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    /* A status snapshot is rebuilt every second: rename for atomicity, no fsync. */
    if (json_dump_file(status, tmp, JSON_INDENT(2)) == 0)
        rename(tmp, path);
    json_decref(status);
}

static int node_lock(node_t *self, int *fd_out)
{
    char path[PATH_MAX_LEN];
    node_path_join(path, self->dir, "run/daemon.lock");
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return SF_EIO;
    /* `status` takes the lock for an instant to see whether a daemon runs:
     * try for a second before concluding that another daemon holds it. */
    for (int attempt = 0; flock(fd, LOCK_EX | LOCK_NB) != 0; attempt++) {
        if (attempt == 20) {
            close(fd);
            return SF_EEXIST;
        }
        usleep(50000);
    }
    *fd_out = fd;
    return 0;
}

/* The daemon's sockets: ZAP and the server (hub, province), the client
 * (county, hub). */
static int daemon_start(node_t *self, const link_hooks_t *hooks)
{
    sf_error_t error;
    if (!(self->ctx = net_context_new(&error)))
        return error.code;
    if (self->role != ROLE_COUNTY) {
        /* ZAP before the server binds, so no connection is ever unauthenticated (A1). */
        if (!(self->zap = zap_new(self->ctx, &error)))
            return error.code;
        node_reload_keys(self, true);
        link_server_config_t config = {self->code, self->listen, self->keys.secret_z85};
        if (!(self->server = link_server_new(self->ctx, self->store, &config, hooks, &error)))
            return error.code;
        slog_info("listening on %s", self->listen);
    }
    if (self->role != ROLE_PROVINCE) {
        link_client_config_t config = {self->code, self->upstream, self->upstream_key,
                                       self->keys.public_z85, self->keys.secret_z85};
        if (!(self->client = link_client_new(self->ctx, self->store, &config, hooks, &error)))
            return error.code;
        slog_info("connecting to %s", self->upstream);
        self->unreachable_after_ms = unreachable_after_ms();
        upstream_watch_start(self);
    }
    return 0;
}

/* Once a second: keys, programme, parent, ranking, status.json. */
static void daemon_second(node_t *self, const link_hooks_t *hooks, int64_t mono_ms)
{
    if (self->zap)
        node_reload_keys(self, false);
    node_programme_reload(self, true);
    if (self->client)
        upstream_follow(self, hooks);
    if (self->role == ROLE_PREFECTURE)
        tier_auto_recommend(self->tier, stime_now(), mono_ms);
    node_write_status(self);
}

/* The loop: wait (at most 100 ms), then tick the links; until a signal. */
static int daemon_loop(node_t *self, const link_hooks_t *hooks)
{
    int64_t last_second = 0, last_reader_check = stime_mono_ms();
    while (!node_stop_requested) {
        net_watch_t watch = {node_signal_pipe[0], self->zap, self->server, self->client};
        int rc = net_serve(&watch, 100);
        if (rc)
            return rc;
        if (store_failed(self->store)) {
            slog_error("the store reported a fatal error (MDB_PANIC): exiting so that the "
                       "service manager restarts the daemon on a freshly opened store");
            return SF_ESTORE;
        }
        if (self->server)
            link_server_tick(self->server);
        if (self->client) {
            link_client_tick(self->client);
            upstream_watch(self);
        }
        slog_flush();
        int64_t now = stime_mono_ms();
        if (now - last_second >= 1000) {
            last_second = now;
            daemon_second(self, hooks, now);
        }
        if (now - last_reader_check >= 30000) {
            last_reader_check = now;
            store_check_readers(self->store);
        }
    }
    slog_info("stopping");
    return 0;
}

int node_run(node_t *self)
{
    int lock_fd = -1, rc;
    if ((rc = node_lock(self, &lock_fd))) {
        slog_error("another daemon already runs on %s (run/daemon.lock is held)", self->dir);
        return rc;
    }
    link_hooks_t hooks = {
        self, node_apply, node_on_refused, node_resync_child, node_resync_parent, node_admit};
    slog_set_buffered(true);
    if (!(rc = install_signals()) && !(rc = daemon_start(self, &hooks)))
        rc = daemon_loop(self, &hooks);
    /* Servers before the ZAP handler, so no connection slips in unchecked (A1). */
    link_client_destroy(&self->client);
    link_server_destroy(&self->server);
    zap_destroy(&self->zap);
    net_context_destroy(&self->ctx);
    char path[PATH_MAX_LEN];
    node_path_join(path, self->dir, "run/status.json");
    unlink(path);
    close(lock_fd);
    slog_set_buffered(false);
    return rc;
}

/* ---- status ---- */

struct status_arg {
    node_t *self;
    uint64_t queued;
};

static int status_fn(store_txn_t *txn, void *arg)
{
    struct status_arg *a = arg;
    outbox_state_t up;
    if (a->self->role != ROLE_PROVINCE) {
        int rc = outbox_state(txn, a->self->store, UP_STREAM, &up);
        if (rc)
            return rc;
        a->queued = up.next_seq - 1 - up.acked;
    }
    return 0;
}

/* Whether a daemon holds run/daemon.lock and, if so, the view it last wrote
 * to run/status.json (NULL if none yet). */
static bool daemon_running(const char *dir, json_t **daemon_status)
{
    char path[PATH_MAX_LEN];
    node_path_join(path, dir, "run/daemon.lock");
    int fd = open(path, O_RDWR | O_CLOEXEC);
    bool running = false;
    if (fd >= 0) {
        running = flock(fd, LOCK_EX | LOCK_NB) != 0;
        close(fd);
    }
    node_path_join(path, dir, "run/status.json");
    *daemon_status = running ? json_load_file(path, 0, NULL) : NULL;
    return running;
}

/* status.json's values, as node_write_status wrote them: a time (or null)
 * back to unix seconds (0 for null), a text (or null) into buf. */
static int64_t view_time(const json_t *object, const char *key)
{
    int64_t when = 0;
    const char *text = json_string_value(json_object_get(object, key));
    if (text && stime_parse(text, &when) != 0)
        when = 0;
    return when;
}

static void view_text(const json_t *object, const char *key, char *buf, size_t size)
{
    const char *text = json_string_value(json_object_get(object, key));
    snprintf(buf, size, "%s", text ? text : "");
}

static uint64_t view_count(const json_t *object, const char *key)
{
    return (uint64_t)json_integer_value(json_object_get(object, key));
}

/* The link as the running daemon measured it, or, without that view, its
 * state from the lock alone. */
static void status_link(const node_t *self, const json_t *daemon, bool running,
                        node_link_status_t *link)
{
    const json_t *view = daemon ? json_object_get(daemon, "link") : NULL;
    if (!json_is_object(view)) {
        snprintf(link->state, sizeof link->state, "%s", running ? "starting" : "stopped");
        snprintf(link->upstream, sizeof link->upstream, "%s", self->upstream);
        return;
    }
    link->measured = true;
    view_text(view, "state", link->state, sizeof link->state);
    view_text(view, "upstream", link->upstream, sizeof link->upstream);
    link->last_contact = view_time(view, "last_contact");
    link->unreachable_since = view_time(view, "unreachable_since");
    link->rate_bytes_per_s = view_count(view, "rate_bytes_per_s");
    link->round_trip_ms = (int64_t)view_count(view, "round_trip_ms");
    link->bytes_sent = view_count(view, "bytes_sent");
    link->bytes_resent = view_count(view, "bytes_resent");
    link->refused_by_parent = view_count(view, "refused_by_parent");
    link->resyncs = view_count(view, "resyncs");
    link->restarts = view_count(view, "restarts");
    view_text(view, "last_event", link->last_event, sizeof link->last_event);
}

/* The children and downlink counters the running daemon's server wrote. */
static int status_server(const json_t *daemon, node_server_status_t *server)
{
    const json_t *children = json_object_get(daemon, "children");
    size_t count = json_array_size(children);
    if (count && !(server->children = calloc(count, sizeof *server->children)))
        return SF_ENOMEM;
    for (size_t i = 0; i < count; i++) {
        const json_t *view = json_array_get(children, i);
        node_child_status_t *child = &server->children[server->child_count++];
        view_text(view, "code", child->code, sizeof child->code);
        child->connected = json_is_true(json_object_get(view, "connected"));
        child->last_contact = view_time(view, "last_contact");
        child->down_pending = view_count(view, "down_pending");
        child->rate_bytes_per_s = view_count(view, "rate_bytes_per_s");
        child->round_trip_ms = (int64_t)view_count(view, "round_trip_ms");
    }
    server->dropped_frames = view_count(daemon, "dropped_frames");
    server->refused_items = view_count(daemon, "refused_items");
    server->refused_keys = view_count(daemon, "refused_keys");
    server->sessionless_frames = view_count(daemon, "sessionless_frames");
    view_text(daemon, "children_event", server->children_event, sizeof server->children_event);
    const json_t *down = json_object_get(daemon, "downlinks");
    server->down_bytes_sent = view_count(down, "bytes_sent");
    server->down_bytes_resent = view_count(down, "bytes_resent");
    server->down_resyncs = view_count(down, "resyncs");
    server->down_restarts = view_count(down, "restarts");
    return 0;
}

/* The counts from the store. */
static void status_counts(node_t *self, node_status_t *status)
{
    struct status_arg arg = {self, 0};
    store_read(self->store, status_fn, &arg);
    status->role = self->role;
    snprintf(status->code, sizeof status->code, "%s", self->code);
    snprintf(status->programme, sizeof status->programme, "%s", programme_id(node_programme(self)));
    status->programme_revision = programme_revision(node_programme(self));
    status->reports = store_count(self->store, DB_REPORTS);
    status->queued = arg.queued;
    if (self->role != ROLE_COUNTY) {
        status->inspections = store_count(self->store, DB_INSPECTIONS);
        status->children_registered = store_count(self->store, DB_CHILDREN);
    }
    status->returns = store_count(self->store, DB_RETURNS);
    status->refused = store_count(self->store, DB_REFUSALS);
}

node_status_t *node_status(node_t *self, sf_error_t *error)
{
    node_status_t *status = calloc(1, sizeof *status);
    if (!status) {
        sf_error_set(error, SF_ENOMEM, "out of memory");
        return NULL;
    }
    status_counts(self, status);
    json_t *daemon = NULL;
    status->daemon_running = daemon_running(self->dir, &daemon);
    if (self->role != ROLE_PROVINCE)
        status_link(self, daemon, status->daemon_running, &status->link);
    int rc = 0;
    if (json_is_object(daemon) && self->role != ROLE_COUNTY &&
        json_object_get(daemon, "children")) { /* the server's parts are written together */
        status->has_server = true;
        rc = status_server(daemon, &status->server);
    }
    json_decref(daemon);
    if (rc) {
        node_status_destroy(&status);
        sf_error_set(error, rc, "out of memory");
    }
    return status;
}

void node_status_destroy(node_status_t **self_p)
{
    node_status_t *self = *self_p;
    if (!self)
        return;
    free(self->server.children);
    free(self);
    *self_p = NULL;
}

/* ---- list ---- */

struct list_arg {
    node_t *self;
    store_txn_t *txn;
    node_versions_t *list;
    size_t cap;
    char **pending; /* report ids still in the upward outbox, sorted before lookups */
    size_t pending_count, pending_cap;
};

static int compare_ids(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "queued" means "still in the outbox": read from the outbox itself, so the
 * answer stays right when a stream is renumbered after a restore. */
static int collect_pending(uint64_t seq, const void *data, size_t len, void *arg)
{
    struct list_arg *a = arg;
    (void)seq;
    Shifan__Payload *payload = codec_payload_unpack(data, len);
    int rc = 0;
    if (payload && payload->body_case == SHIFAN__PAYLOAD__BODY_REPORT) {
        if (a->pending_count == a->pending_cap) {
            size_t cap = a->pending_cap ? a->pending_cap * 2 : 64;
            char **grown = realloc(a->pending, cap * sizeof *grown);
            a->pending = grown ? grown : a->pending;
            a->pending_cap = grown ? cap : a->pending_cap;
        }
        char *id = a->pending_count < a->pending_cap ? strdup(payload->report->report_id) : NULL;
        if (id)
            a->pending[a->pending_count++] = id;
        else
            rc = SF_ENOMEM;
    }
    codec_payload_free(payload);
    return rc;
}

/* A county's own version: refused by a tier above, returned, or where it
 * is on the way up. */
static int list_add_state(struct list_arg *a, node_version_t *version)
{
    const void *value;
    size_t len;
    const char *id = version->report_id;
    version->state = bsearch(&id, a->pending, a->pending_count, sizeof *a->pending, compare_ids)
                         ? NODE_VERSION_QUEUED
                         : NODE_VERSION_DELIVERED;
    char refusal_key[REPORT_ID_MAX + 8];
    snprintf(refusal_key, sizeof refusal_key, "up/%s", id);
    Shifan__Payload *payload = NULL;
    if (store_get(a->txn, a->self->store, DB_REFUSALS, refusal_key, strlen(refusal_key), &value,
                  &len) == 0 &&
        (payload = codec_payload_unpack(value, len)) &&
        payload->body_case == SHIFAN__PAYLOAD__BODY_REFUSED) {
        const char *by = payload->refused->refused_by ? payload->refused->refused_by : "";
        version->state = NODE_VERSION_REFUSED;
        version->refusal = strdup(payload->refused->detail);
        version->refused_by = strdup(by);
        codec_payload_free(payload);
        return version->refusal && version->refused_by ? 0 : SF_ENOMEM;
    }
    codec_payload_free(payload);
    payload = NULL;
    if (store_get(a->txn, a->self->store, DB_RETURNS, id, strlen(id), &value, &len) == 0 &&
        (payload = codec_payload_unpack(value, len)) &&
        payload->body_case == SHIFAN__PAYLOAD__BODY_RETURN_FOR_CORRECTION) {
        version->state = NODE_VERSION_RETURNED;
        version->return_reason = strdup(payload->return_for_correction->reason);
        codec_payload_free(payload);
        return version->return_reason ? 0 : SF_ENOMEM;
    }
    codec_payload_free(payload);
    return 0;
}

/* The next version of the list, zeroed; NULL if out of memory. */
static node_version_t *list_grow(struct list_arg *a)
{
    node_versions_t *list = a->list;
    if (list->count == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 32;
        node_version_t *grown = realloc(list->versions, cap * sizeof *grown);
        if (!grown)
            return NULL;
        list->versions = grown;
        a->cap = cap;
    }
    node_version_t *version = &list->versions[list->count++];
    memset(version, 0, sizeof *version);
    return version;
}

static int list_one(const void *key, size_t klen, const void *value, size_t len, void *arg)
{
    struct list_arg *a = arg;
    (void)key, (void)klen;
    Shifan__Payload *payload = codec_payload_unpack(value, len);
    if (!payload || payload->body_case != SHIFAN__PAYLOAD__BODY_REPORT) {
        codec_payload_free(payload);
        return 0;
    }
    const Shifan__Report *report = payload->report;
    node_version_t *version = list_grow(a);
    int rc = SF_ENOMEM;
    if (version && (version->report_id = strdup(report->report_id)) &&
        (version->unit = strdup(report->unit)) && (version->origin = strdup(report->origin))) {
        version->year = report->year;
        version->version = report->version;
        version->submitted_at = report->submitted_at;
        version->received = payload->n_receipts > 0;
        version->received_at = version->received ? payload->receipts[0]->received_at : 0;
        rc = a->self->role == ROLE_COUNTY ? list_add_state(a, version) : 0;
    }
    codec_payload_free(payload);
    return rc;
}

static int list_fn(store_txn_t *txn, void *arg)
{
    struct list_arg *a = arg;
    a->txn = txn;
    if (a->self->role == ROLE_COUNTY) {
        int scanned =
            outbox_scan(txn, a->self->store, UP_STREAM, 1, SIZE_MAX, SIZE_MAX, collect_pending, a);
        if (scanned)
            return scanned;
        if (a->pending_count)
            qsort(a->pending, a->pending_count, sizeof *a->pending, compare_ids);
    }
    return store_each(txn, a->self->store, DB_REPORTS, NULL, 0, list_one, a);
}

node_versions_t *node_list(node_t *self, sf_error_t *error)
{
    node_versions_t *list = calloc(1, sizeof *list);
    if (!list) {
        sf_error_set(error, SF_ENOMEM, "out of memory");
        return NULL;
    }
    struct list_arg arg = {self, NULL, list, 0, NULL, 0, 0};
    int rc = store_read(self->store, list_fn, &arg);
    for (size_t i = 0; i < arg.pending_count; i++)
        free(arg.pending[i]);
    free(arg.pending);
    if (rc) {
        node_versions_destroy(&list);
        sf_error_set(error, rc, "cannot read the stored reports: %s", sf_strerror(rc));
    }
    return list;
}

void node_versions_destroy(node_versions_t **self_p)
{
    node_versions_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->count; i++) {
        node_version_t *version = &self->versions[i];
        free(version->report_id);
        free(version->unit);
        free(version->origin);
        free(version->return_reason);
        free(version->refusal);
        free(version->refused_by);
    }
    free(self->versions);
    free(self);
    *self_p = NULL;
}
