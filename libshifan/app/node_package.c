/* node_package.c - export-package and import-package (node.h): the upward
 * queue carried by hand when the link is down (docs/packages.md). The
 * format is transport/package.h's; applying is transport/link.h's
 * link_import, with the same hooks as the daemon's link. */
#include "app/node_internal.h"
#include "base/msg.h"
#include "base/slog.h"
#include "base/stime.h"
#include "storage/outbox.h"
#include "storage/signkeys.h"
#include "transport/package.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- export ---- */

/* The unacknowledged items of "up", copied out of the map. */
typedef struct {
    outbox_state_t state;
    package_item_t *items;
    size_t count, cap;
    bool gap; /* the outbox lacks a seq it should hold */
} export_queue_t;

static void export_queue_free(export_queue_t *queue)
{
    for (size_t i = 0; i < queue->count; i++)
        free((void *)queue->items[i].data);
    free(queue->items);
    queue->items = NULL;
    queue->count = queue->cap = 0;
}

static int export_item_fn(uint64_t seq, const void *data, size_t len, void *arg)
{
    export_queue_t *queue = arg;
    if (seq >= queue->state.next_seq)
        return 1;
    if (seq != queue->state.acked + 1 + queue->count) {
        queue->gap = true;
        return 1;
    }
    if (queue->count == queue->cap) {
        size_t cap = queue->cap ? queue->cap * 2 : 64;
        package_item_t *grown = realloc(queue->items, cap * sizeof *grown);
        if (!grown)
            return SF_ENOMEM;
        queue->items = grown;
        queue->cap = cap;
    }
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy)
        return SF_ENOMEM;
    memcpy(copy, data, len);
    queue->items[queue->count].data = copy;
    queue->items[queue->count++].len = len;
    return 0;
}

struct export_arg {
    node_t *self;
    export_queue_t queue;
};

static int export_fn(store_txn_t *txn, void *varg)
{
    struct export_arg *arg = varg;
    export_queue_free(&arg->queue);
    arg->queue.gap = false;
    int rc = outbox_state(txn, arg->self->store, UP_STREAM, &arg->queue.state);
    if (rc || arg->queue.state.next_seq - 1 == arg->queue.state.acked)
        return rc;
    return outbox_scan(txn, arg->self->store, UP_STREAM, arg->queue.state.acked + 1, SIZE_MAX,
                       SIZE_MAX, export_item_fn, &arg->queue);
}

/* Writes bytes to path durably: a temporary name, fsync, rename. */
static int write_durably(const char *path, const uint8_t *bytes, size_t len, char *err,
                         size_t errsize)
{
    char tmp[PATH_MAX_LEN];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) {
        snprintf(err, errsize, msg("--out %s: the path is too long"), path);
        return SF_EINVAL;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    bool ok = fd >= 0;
    for (size_t done = 0; ok && done < len;) {
        ssize_t n = write(fd, bytes + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        ok = n > 0;
        done += ok ? (size_t)n : 0;
    }
    ok = ok && fsync(fd) == 0;
    int saved = errno;
    if (fd >= 0 && close(fd) != 0 && ok)
        ok = false, saved = errno;
    if (ok && rename(tmp, path) != 0)
        ok = false, saved = errno;
    if (ok)
        return 0;
    if (fd >= 0)
        unlink(tmp);
    snprintf(err, errsize, msg("cannot write %s: %s"), path, strerror(saved));
    return saved == ENOSPC ? SF_ENOSPC : SF_EIO;
}

/* Seals the queue to the parent's key and writes it to path. */
static int export_write(node_t *self, const export_queue_t *queue, const char *path, char *err,
                        size_t errsize)
{
    uint8_t recipient[PACKAGE_CURVE_KEY_BYTES];
    if (keys_decode(self->upstream_key, recipient) != 0) {
        snprintf(err, errsize, msg("the parent's stored key is not a Z85 key: run set-upstream"));
        return SF_EINVAL;
    }
    package_t package = {.epoch = queue->state.epoch,
                         .first_seq = queue->state.acked + 1,
                         .made_at = stime_now(),
                         .items = queue->items,
                         .item_count = queue->count};
    snprintf(package.from, sizeof package.from, "%s", self->code);
    uint8_t *bytes = NULL;
    size_t len = 0;
    sf_error_t error = {0, ""};
    int rc = package_seal(&package, self->sign.public_key, self->sign.secret_key, recipient, &bytes,
                          &len, &error);
    if (rc) {
        snprintf(err, errsize, msg("cannot make the package: %s"), error.text);
        return rc;
    }
    rc = write_durably(path, bytes, len, err, errsize);
    free(bytes);
    return rc;
}

int node_export_package(node_t *self, const char *path, size_t *items, char *err, size_t errsize)
{
    *items = 0;
    if (self->role == ROLE_PROVINCE) {
        snprintf(err, errsize, msg("the province has no parent to send a package to"));
        return SF_EINVAL;
    }
    if (!path || !*path) {
        snprintf(err, errsize, msg("export-package needs --out FILE"));
        return SF_EINVAL;
    }
    struct export_arg arg = {self, {{0, 1, 0}, NULL, 0, 0, false}};
    int rc = store_read(self->store, export_fn, &arg);
    if (rc) {
        snprintf(err, errsize, msg("cannot read the queue: %s"), sf_strerror(rc));
    } else if (arg.queue.gap) {
        snprintf(err, errsize, msg("the queue lacks item %llu: the store is damaged"),
                 (unsigned long long)(arg.queue.state.acked + 1 + arg.queue.count));
        rc = SF_ECORRUPT;
    } else if (arg.queue.count == 0) {
        snprintf(err, errsize,
                 msg("nothing is queued for the parent: every item was acknowledged, no package "
                     "is needed"));
        rc = SF_EINVAL;
    } else if (!(rc = export_write(self, &arg.queue, path, err, errsize))) {
        *items = arg.queue.count;
        slog_info("exported %zu queued item(s) to %s", arg.queue.count, path);
    }
    export_queue_free(&arg.queue);
    return rc;
}

/* ---- import ---- */

/* The whole file, malloc'd; NULL with err. */
static uint8_t *read_package_file(const char *path, size_t *len, char *err, size_t errsize)
{
    FILE *file = fopen(path, "rb");
    struct stat st;
    if (!file || fstat(fileno(file), &st) != 0) {
        snprintf(err, errsize, msg("cannot read %s: %s"), path, strerror(errno));
        if (file)
            fclose(file);
        return NULL;
    }
    uint8_t *bytes = NULL;
    if ((uint64_t)st.st_size > PACKAGE_MAX_BYTES)
        snprintf(err, errsize, msg("%s is larger than a package can be"), path);
    else if (!(bytes = malloc((size_t)st.st_size + 1)))
        snprintf(err, errsize, msg("out of memory"));
    else if ((*len = fread(bytes, 1, (size_t)st.st_size, file)) != (size_t)st.st_size) {
        snprintf(err, errsize, msg("cannot read %s: %s"), path, strerror(errno ? errno : EIO));
        free(bytes);
        bytes = NULL;
    }
    fclose(file);
    return bytes;
}

/* Opens the package with this node's CURVE pair. */
static package_t *import_open(node_t *self, const char *path, char *err, size_t errsize, int *rc)
{
    size_t len = 0;
    uint8_t *bytes = read_package_file(path, &len, err, errsize);
    if (!bytes) {
        *rc = SF_EIO;
        return NULL;
    }
    uint8_t public_key[PACKAGE_CURVE_KEY_BYTES], secret_key[PACKAGE_CURVE_KEY_BYTES];
    sf_error_t error = {0, ""};
    package_t *package = NULL;
    if (keys_decode(self->keys.public_z85, public_key) ||
        keys_decode(self->keys.secret_z85, secret_key))
        sf_error_set(&error, SF_ECORRUPT, msg("this node's CURVE keys do not decode"));
    else
        package = package_open(bytes, len, public_key, secret_key, &error);
    sodium_memzero(secret_key, sizeof secret_key);
    free(bytes);
    if (!package) {
        snprintf(err, errsize, msg("%s: %s"), path, error.text);
        *rc = error.code ? error.code : SF_EINVAL;
    }
    return package;
}

struct import_check_arg {
    node_t *self;
    const package_t *package;
    bool child, known, held;
};

static int import_check_fn(store_txn_t *txn, void *varg)
{
    struct import_check_arg *arg = varg;
    const void *value;
    size_t vlen;
    store_t *store = arg->self->store;
    const char *from = arg->package->from;
    int rc = store_get(txn, store, DB_CHILDREN, from, strlen(from), &value, &vlen);
    if (rc && rc != SF_ENOTFOUND)
        return rc;
    arg->child = rc == 0;
    arg->known = signkeys_known(txn, store, from);
    signkey_t key;
    arg->held = arg->known && signkeys_get(txn, store, from, arg->package->signer_key, &key) == 0 &&
                signkeys_valid_at(&key, arg->package->made_at);
    return 0;
}

/* The sender must be a registered child, signing with a key held for it. */
static int import_check(node_t *self, const package_t *package, node_import_t *result, char *err,
                        size_t errsize)
{
    struct import_check_arg arg = {self, package, false, false, false};
    int rc = store_read(self->store, import_check_fn, &arg);
    if (rc) {
        snprintf(err, errsize, msg("cannot read the registered children: %s"), sf_strerror(rc));
        return rc;
    }
    if (!arg.child) {
        snprintf(err, errsize,
                 msg("the package comes from %s, which is not a child registered here (allow)"),
                 package->from);
        return SF_EINVAL;
    }
    if (arg.known && !arg.held) {
        snprintf(err, errsize,
                 msg("the package is signed by a key this node does not hold for %s (or one not "
                     "valid when the package was made)"),
                 package->from);
        return SF_EINVAL;
    }
    result->signer_unregistered = !arg.known;
    return 0;
}

/* Applies the package's items as the link would. */
static int import_apply(node_t *self, const package_t *package, node_import_t *result, char *err,
                        size_t errsize)
{
    link_item_t *items = calloc(package->item_count, sizeof *items);
    if (!items) {
        snprintf(err, errsize, msg("out of memory"));
        return SF_ENOMEM;
    }
    for (size_t i = 0; i < package->item_count; i++)
        items[i] = (link_item_t){package->items[i].data, package->items[i].len};
    link_hooks_t hooks = {self, node_apply, node_on_refused, NULL, NULL, NULL, NULL};
    link_import_result_t done;
    int rc = link_import(self->store, &hooks, package->from, package->epoch, package->first_seq,
                         items, package->item_count, &done);
    free(items);
    if (rc) {
        snprintf(err, errsize, msg("the package's items were NOT stored: %s"), sf_strerror(rc));
        return rc;
    }
    result->applied = done.applied;
    result->in_stream = done.in_stream;
    result->duplicates = done.duplicates;
    result->later = done.later;
    result->refused = done.refused;
    if (done.refusals && (result->refusals = calloc(done.refused, sizeof *result->refusals)))
        for (size_t i = 0; i < done.refused; i++) {
            result->refusals[i].seq = done.refusals[i].seq;
            snprintf(result->refusals[i].why, sizeof result->refusals[i].why, "%s",
                     done.refusals[i].why);
        }
    link_import_result_free(&done);
    return 0;
}

int node_import_package(node_t *self, const char *path, node_import_t *result, char *err,
                        size_t errsize)
{
    memset(result, 0, sizeof *result);
    if (self->role == ROLE_COUNTY) {
        snprintf(err, errsize, msg("a county has no children to import a package from"));
        return SF_EINVAL;
    }
    int rc = 0;
    package_t *package = import_open(self, path, err, errsize, &rc);
    if (!package)
        return rc;
    snprintf(result->from, sizeof result->from, "%s", package->from);
    result->made_at = package->made_at;
    result->items = package->item_count;
    if (!(rc = import_check(self, package, result, err, errsize)) &&
        !(rc = import_apply(self, package, result, err, errsize)))
        slog_info("imported a package of %zu item(s) from %s: %zu applied, %zu duplicate(s), "
                  "%zu refused",
                  result->items, result->from, result->applied, result->duplicates,
                  result->refused);
    package_destroy(&package);
    return rc;
}

void node_import_release(node_import_t *result)
{
    if (!result)
        return;
    free(result->refusals);
    result->refusals = NULL;
}
