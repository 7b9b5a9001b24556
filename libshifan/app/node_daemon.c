/* node_daemon.c - the daemon: signals, lock, sockets, the loop, the parent it follows
 * (node_internal.h). */
#include "app/node_internal.h"
#include "base/slog.h"
#include "base/stime.h"
#include "transport/net.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h> /* run/status.json: the daemon's own file, read back by status */
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

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

/* A county that rotated its keys connects with its new CURVE key once the
 * parent has it (node_rotate.c): the link client is made again. */
static void rotation_follow(node_t *self, const link_hooks_t *hooks)
{
    bool switched = false;
    int rc = node_rotate_curve_step(self, link_client_state(self->client) == LINK_REFUSED_KEY,
                                    &switched);
    if (rc)
        slog_error("cannot switch to the new CURVE key: %s", sf_strerror(rc));
    if (!switched)
        return;
    link_client_config_t config = {self->code, self->upstream, self->upstream_key,
                                   self->keys.public_z85, self->keys.secret_z85};
    sf_error_t error;
    link_client_t *client = link_client_new(self->ctx, self->store, &config, hooks, &error);
    if (!client) {
        slog_error("cannot connect with the new CURVE key (%s)", sf_strerror(error.code));
        return;
    }
    link_client_destroy(&self->client);
    self->client = client;
    upstream_watch_start(self);
}

/* Once a second: keys, programme, parent, ranking, status.json. */
static void daemon_second(node_t *self, const link_hooks_t *hooks, int64_t mono_ms)
{
    if (self->zap)
        node_reload_keys(self, false);
    node_programme_reload(self, true);
    if (self->client)
        upstream_follow(self, hooks);
    if (self->client && self->rotation_pending)
        rotation_follow(self, hooks);
    if (self->role == ROLE_PREFECTURE)
        tier_auto_recommend(self->tier, stime_now(), mono_ms);
    node_write_status(self);
}

/* The loop: wait (at most 100 ms), then tick the links; until a signal. */
static int daemon_loop(node_t *self, const link_hooks_t *hooks)
{
    int64_t last_second = 0, last_reader_check = stime_mono_ms();
    while (!node_stop_requested) {
        net_watch_t watch = {node_signal_pipe[0], self->zap, self->server, self->client,
                             self->http};
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

int node_run(node_t *self, struct http *http)
{
    int lock_fd = -1, rc;
    self->http = http;
    if ((rc = node_lock(self, &lock_fd))) {
        slog_error("another daemon already runs on %s (run/daemon.lock is held)", self->dir);
        return rc;
    }
    link_hooks_t hooks = {
        self,       node_apply,   node_on_refused, node_resync_child, node_resync_parent,
        node_admit, node_on_hello};
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
    self->http = NULL;
    slog_set_buffered(false);
    return rc;
}
