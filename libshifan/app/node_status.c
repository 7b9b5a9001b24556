/* node_status.c - status and list, as typed results (node_internal.h). */
#include "app/node_internal.h"
#include "storage/signkeys.h"
#include "base/msg.h"
#include "base/stime.h"
#include "storage/outbox.h"

#include <sodium.h>
#include <jansson.h> /* run/status.json: the daemon's own file, read back by status */
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

/* ---- status ---- */

struct status_arg {
    node_t *self;
    uint64_t queued;
    int64_t queue_oldest;
    node_signing_status_t *signing;
};

static void signing_status(store_txn_t *txn, node_t *self, node_signing_status_t *signing)
{
    sign_fingerprint(self->sign.public_key, signing->fingerprint);
    char hex[SIGN_PUBLIC_HEX_LEN + 8], pinned[SIGN_FINGERPRINT_LEN + 8];
    uint8_t key[SIGN_PUBLIC_BYTES];
    size_t len = 0;
    if (store_get_string(txn, self->store, DB_META, META_KEY_CONFIRMED, hex, sizeof hex) == 0 &&
        sodium_hex2bin(key, sizeof key, hex, strlen(hex), NULL, &len, NULL) == 0 &&
        len == sizeof key) {
        uint64_t since = 0;
        sign_fingerprint(key, signing->confirmed);
        store_get_u64(txn, self->store, DB_META, META_KEY_CONFIRMED_AT, &since);
        signing->confirmed_since = (int64_t)since;
    }
    signkey_t province;
    if (self->role != ROLE_PROVINCE &&
        signkeys_current(txn, self->store, tier_programme_root(node_programme(self)), &province) ==
            0)
        sign_fingerprint(province.key, signing->province_key);
    signing->province_key_pinned =
        store_get_string(txn, self->store, DB_META, META_PROVINCE_FINGERPRINT, pinned,
                         sizeof pinned) == 0;
}

/* The time a payload was made, by its body's own field; 0 if it has none. */
static int64_t payload_made_at(const Shifan__Payload *payload)
{
    switch (payload->body_case) {
    case SHIFAN__PAYLOAD__BODY_REPORT:
        return payload->report->submitted_at;
    case SHIFAN__PAYLOAD__BODY_INSPECTION:
        return payload->inspection->submitted_at;
    case SHIFAN__PAYLOAD__BODY_RETURN_FOR_CORRECTION:
        return payload->return_for_correction->returned_at;
    case SHIFAN__PAYLOAD__BODY_RECOMMENDATION:
        return payload->recommendation->made_at;
    case SHIFAN__PAYLOAD__BODY_KEY:
        return payload->key->made_at;
    default:
        return 0;
    }
}

struct oldest_arg {
    const char *code;
    int64_t since;
};

/* The first queued item: since when it waits here (node.h, queue_oldest). */
static int oldest_queued(uint64_t seq, const void *data, size_t len, void *arg)
{
    struct oldest_arg *a = arg;
    (void)seq;
    Shifan__Payload *payload = codec_payload_unpack(data, len);
    if (!payload)
        return 1;
    for (size_t i = 0; i < payload->n_receipts; i++)
        if (strcmp(payload->receipts[i]->node, a->code) == 0)
            a->since = payload->receipts[i]->received_at;
    if (!a->since)
        a->since = payload_made_at(payload);
    codec_payload_free(payload);
    return 1;
}

static int status_fn(store_txn_t *txn, void *arg)
{
    struct status_arg *a = arg;
    signing_status(txn, a->self, a->signing);
    outbox_state_t up;
    if (a->self->role != ROLE_PROVINCE) {
        int rc = outbox_state(txn, a->self->store, UP_STREAM, &up);
        if (rc)
            return rc;
        a->queued = up.next_seq - 1 - up.acked;
        struct oldest_arg oldest = {a->self->code, 0};
        if (a->queued && (rc = outbox_scan(txn, a->self->store, UP_STREAM, up.acked + 1, 1,
                                           SIZE_MAX, oldest_queued, &oldest)) != 0)
            return rc;
        a->queue_oldest = oldest.since;
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
    struct status_arg arg = {self, 0, 0, &status->signing};
    store_read(self->store, status_fn, &arg);
    status->signing.keys_held = store_count(self->store, DB_SIGNKEYS);
    status->role = self->role;
    snprintf(status->code, sizeof status->code, "%s", self->code);
    snprintf(status->programme, sizeof status->programme, "%s", programme_id(node_programme(self)));
    status->programme_revision = programme_revision(node_programme(self));
    status->reports = store_count(self->store, DB_REPORTS);
    status->queued = arg.queued;
    status->queue_oldest = arg.queue_oldest;
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
        sf_error_set(error, SF_ENOMEM, msg("out of memory"));
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
        sf_error_set(error, rc, msg("out of memory"));
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
    /* bsearch may not see a NULL array, even of no entries (UBSan). */
    bool queued = a->pending_count &&
                  bsearch(&id, a->pending, a->pending_count, sizeof *a->pending, compare_ids);
    version->state = queued ? NODE_VERSION_QUEUED : NODE_VERSION_DELIVERED;
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
        sf_error_set(error, SF_ENOMEM, msg("out of memory"));
        return NULL;
    }
    struct list_arg arg = {self, NULL, list, 0, NULL, 0, 0};
    int rc = store_read(self->store, list_fn, &arg);
    for (size_t i = 0; i < arg.pending_count; i++)
        free(arg.pending[i]);
    free(arg.pending);
    if (rc) {
        node_versions_destroy(&list);
        sf_error_set(error, rc, msg("cannot read the stored reports: %s"), sf_strerror(rc));
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

/* ---- what the province's console shows ---- */

int node_data_generation(node_t *self, uint64_t *generation)
{
    return tier_data_generation(self->tier, generation);
}

struct inspections_arg {
    node_t *self;
    const char *within;
    int year;
    node_inspections_t *list;
    size_t cap;
};

/* Appends one inspection (owned by the list from here on). */
static int inspections_add(struct inspections_arg *a, report_t *inspection, int64_t received_at)
{
    node_inspections_t *list = a->list;
    if (list->count == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 16;
        node_inspection_t *grown = realloc(list->inspections, cap * sizeof *grown);
        if (!grown) {
            report_destroy(&inspection);
            return SF_ENOMEM;
        }
        list->inspections = grown;
        a->cap = cap;
    }
    list->inspections[list->count++] = (node_inspection_t){inspection, received_at};
    return 0;
}

static int inspections_one(const void *key, size_t klen, const void *value, size_t len, void *arg)
{
    struct inspections_arg *a = arg;
    (void)key, (void)klen;
    Shifan__Payload *payload = codec_payload_unpack(value, len);
    const Shifan__Report *wire = payload && payload->body_case == SHIFAN__PAYLOAD__BODY_INSPECTION
                                     ? payload->inspection
                                     : NULL;
    int rc = 0;
    if (wire && (int)wire->year == a->year &&
        (!a->within || programme_unit_within(node_programme(a->self), wire->unit, a->within))) {
        char err[256];
        report_t *inspection = report_from_proto(wire, err, sizeof err);
        int64_t received_at = payload->n_receipts ? payload->receipts[0]->received_at : 0;
        rc = inspection ? inspections_add(a, inspection, received_at) : 0;
    }
    codec_payload_free(payload);
    return rc;
}

static int inspections_fn(store_txn_t *txn, void *arg)
{
    struct inspections_arg *a = arg;
    return store_each(txn, a->self->store, DB_INSPECTIONS, NULL, 0, inspections_one, a);
}

node_inspections_t *node_inspections(node_t *self, const char *within, int year, sf_error_t *error)
{
    node_inspections_t *list = calloc(1, sizeof *list);
    if (!list) {
        sf_error_set(error, SF_ENOMEM, msg("out of memory"));
        return NULL;
    }
    struct inspections_arg arg = {self, within, year, list, 0};
    int rc = store_read(self->store, inspections_fn, &arg);
    if (rc) {
        node_inspections_destroy(&list);
        sf_error_set(error, rc, msg("cannot read the stored inspections: %s"), sf_strerror(rc));
    }
    return list;
}

void node_inspections_destroy(node_inspections_t **self_p)
{
    node_inspections_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->count; i++)
        report_destroy(&self->inspections[i].inspection);
    free(self->inspections);
    free(self);
    *self_p = NULL;
}

struct signing_keys_arg {
    node_t *self;
    signkey_t *keys;
    size_t count;
};

static int signing_keys_fn(store_txn_t *txn, void *arg)
{
    struct signing_keys_arg *a = arg;
    free(a->keys); /* a transaction function may run twice */
    return signkeys_list(txn, a->self->store, &a->keys, &a->count);
}

int node_signing_keys(node_t *self, node_signing_key_t **keys, size_t *count)
{
    *keys = NULL;
    *count = 0;
    struct signing_keys_arg arg = {self, NULL, 0};
    int rc = store_read(self->store, signing_keys_fn, &arg);
    if (rc || !arg.count) {
        free(arg.keys);
        return rc;
    }
    node_signing_key_t *out = calloc(arg.count, sizeof *out);
    if (!out) {
        free(arg.keys);
        return SF_ENOMEM;
    }
    for (size_t i = 0; i < arg.count; i++) {
        const signkey_t *key = &arg.keys[i];
        snprintf(out[i].unit, sizeof out[i].unit, "%s", key->unit);
        sign_fingerprint(key->key, out[i].fingerprint);
        out[i].since = key->since;
        out[i].until = key->until;
        out[i].revoked = key->revoked;
        snprintf(out[i].registered_by, sizeof out[i].registered_by, "%s", key->registered_by);
    }
    free(arg.keys);
    *keys = out;
    *count = arg.count;
    return 0;
}
