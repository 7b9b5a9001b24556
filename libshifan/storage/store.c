#include "storage/store.h"
#include "base/error.h"
#include "base/slog.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/statvfs.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const store_db_names[DB_COUNT] = {
    "meta",     "reports",     "latest",    "outbox",          "streams",    "children",
    "keys",     "inspections", "returns",   "recommendations", "programmes", "submissions",
    "refusals", "drafts",      "operators", "audit",           "signkeys",
};

struct store {
    MDB_env *env;
    MDB_dbi dbi[DB_COUNT];
    size_t mapsize;
    char *dir;
    bool failed;
};

bool store_failed(const store_t *self)
{
    return self->failed;
}

/* LMDB reports a short write as EIO; on a full disk that is the usual cause,
 * and "disk full" is what the operator must hear. */
static int store_commit_error(store_t *self, int rc)
{
    if (rc == MDB_PANIC)
        self->failed = true;
    if (rc == EIO || rc == ENOSPC) {
        struct statvfs fs;
        if (statvfs(self->dir, &fs) == 0 && (uint64_t)fs.f_bavail * fs.f_frsize < (4u << 20))
            return SF_ENOSPC;
    }
    return store_error(rc);
}

int store_error(int rc)
{
    switch (rc) {
    case 0:
        return 0;
    case MDB_MAP_FULL:
        return SF_EGROW;
    case MDB_TXN_FULL: /* too many pages in one txn: a bigger map does not help */
        return SF_ETOOBIG;
    case MDB_NOTFOUND:
        return SF_ENOTFOUND;
    case MDB_KEYEXIST:
        return SF_EEXIST;
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_INVALID:
    case MDB_VERSION_MISMATCH:
        return SF_ECORRUPT;
    case ENOSPC:
    case EDQUOT:
        return SF_ENOSPC;
    case ENOMEM:
        return SF_ENOMEM;
    case EIO:
    case EACCES:
    case EPERM:
    case ENOENT:
        return SF_EIO;
    default:
        return SF_ESTORE;
    }
}

static int store_open_dbis(store_t *self)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(self->env, NULL, 0, &txn);
    if (rc)
        return rc;
    for (int i = 0; i < DB_COUNT; i++) {
        rc = mdb_dbi_open(txn, store_db_names[i], MDB_CREATE, &self->dbi[i]);
        if (rc) {
            mdb_txn_abort(txn);
            return rc;
        }
    }
    return mdb_txn_commit(txn);
}

store_t *store_open(const char *dir, size_t initial_mapsize, sf_error_t *error)
{
    store_t *self = calloc(1, sizeof *self);
    int rc;
    if (!self || !(self->dir = strdup(dir))) {
        sf_error_set(error, SF_ENOMEM, "store %s: out of memory", dir);
        goto fail;
    }
    self->mapsize = initial_mapsize ? initial_mapsize : STORE_DEFAULT_MAPSIZE;
    if ((rc = mdb_env_create(&self->env)) || (rc = mdb_env_set_maxdbs(self->env, DB_COUNT + 2)) ||
        (rc = mdb_env_set_mapsize(self->env, self->mapsize)))
        goto lmdb_fail;
    /* Default flags on purpose: synced commits, no WRITEMAP (traps L1, L2). */
    if ((rc = mdb_env_open(self->env, dir, 0, 0600)))
        goto lmdb_fail;
    /* Another process may have grown the map beyond our request: adopt it. */
    MDB_envinfo info;
    mdb_env_info(self->env, &info);
    self->mapsize = info.me_mapsize;
    int dead = 0;
    mdb_reader_check(self->env, &dead);
    if (dead)
        slog_info("store %s: cleared %d reader slot(s) left by dead processes", dir, dead);
    for (;;) {
        rc = store_open_dbis(self);
        if (rc == MDB_MAP_RESIZED) {
            mdb_env_set_mapsize(self->env, 0);
            continue;
        }
        if (rc == MDB_MAP_FULL) {
            self->mapsize *= 2;
            if ((rc = mdb_env_set_mapsize(self->env, self->mapsize)))
                goto lmdb_fail;
            continue;
        }
        break;
    }
    if (rc)
        goto lmdb_fail;
    return self;
lmdb_fail:
    slog_error("store %s: %s", dir, mdb_strerror(rc));
    int code = store_error(rc);
    sf_error_set(error, code == SF_EGROW ? SF_ESTORE : code, "store %s: %s", dir, mdb_strerror(rc));
fail:
    store_destroy(&self);
    return NULL;
}

void store_destroy(store_t **self_p)
{
    store_t *self = *self_p;
    if (!self)
        return;
    if (self->env)
        mdb_env_close(self->env);
    free(self->dir);
    free(self);
    *self_p = NULL;
}

unsigned int store_dbi(const store_t *self, store_db_t db)
{
    return self->dbi[db];
}

size_t store_mapsize(const store_t *self)
{
    return self->mapsize;
}

static int store_grow(store_t *self)
{
    if (self->mapsize >= STORE_MAX_MAPSIZE) {
        slog_error("store %s: map at its maximum (%zu MiB)", self->dir, self->mapsize >> 20);
        return SF_ENOSPC;
    }
    size_t grown = self->mapsize * 2;
    /* No transaction of ours is open here (single-threaded use, and
     * store_write aborted its own): the precondition of set_mapsize (L3). */
    int rc = mdb_env_set_mapsize(self->env, grown);
    if (rc) {
        slog_error("store %s: cannot grow the map to %zu MiB: %s", self->dir, grown >> 20,
                   mdb_strerror(rc));
        return store_error(rc);
    }
    slog_info("store %s: map grown from %zu to %zu MiB", self->dir, self->mapsize >> 20,
              grown >> 20);
    self->mapsize = grown;
    return 0;
}

/* Takes the map size another process set (trap L3). */
static void store_adopt_mapsize(store_t *self)
{
    mdb_env_set_mapsize(self->env, 0);
    MDB_envinfo info;
    mdb_env_info(self->env, &info);
    self->mapsize = info.me_mapsize;
}

static int store_begin(store_t *self, unsigned flags, MDB_txn **txn)
{
    for (int attempt = 0;; attempt++) {
        int rc = mdb_txn_begin(self->env, NULL, flags, txn);
        if (rc != MDB_MAP_RESIZED || attempt > 3)
            return rc;
        store_adopt_mapsize(self); /* another process grew the map (L3) */
    }
}

int store_write(store_t *self, store_txn_fn fn, void *arg)
{
    for (;;) {
        MDB_txn *txn;
        int rc = store_begin(self, 0, &txn);
        if (rc) {
            slog_error("store %s: cannot begin a write: %s", self->dir, mdb_strerror(rc));
            return store_commit_error(self, rc);
        }
        int result = fn(txn, arg);
        if (result == SF_EGROW) {
            mdb_txn_abort(txn);
            if ((result = store_grow(self)))
                return result;
            continue;
        }
        if (result) {
            mdb_txn_abort(txn);
            return result;
        }
        /* mdb_txn_commit frees the txn whatever it returns. */
        rc = mdb_txn_commit(txn);
        if (rc == MDB_MAP_FULL) {
            if ((result = store_grow(self)))
                return result;
            continue;
        }
        if (rc) {
            int err = store_commit_error(self, rc);
            slog_error("store %s: commit failed: %s%s", self->dir, mdb_strerror(rc),
                       err == SF_ENOSPC ? " (the disk is full: free space; nothing committed "
                                          "before was lost)"
                                        : "");
            return err;
        }
        return 0;
    }
}

int store_read(store_t *self, store_txn_fn fn, void *arg)
{
    MDB_txn *txn;
    int rc = store_begin(self, MDB_RDONLY, &txn);
    if (rc) {
        slog_error("store %s: cannot begin a read: %s", self->dir, mdb_strerror(rc));
        return store_error(rc);
    }
    int result = fn(txn, arg);
    mdb_txn_abort(txn);
    return result;
}

int store_check_readers(store_t *self)
{
    int dead = 0;
    mdb_reader_check(self->env, &dead);
    if (dead)
        slog_warn("store %s: cleared %d reader slot(s) left by dead processes", self->dir, dead);
    return dead;
}

struct count_arg {
    MDB_dbi dbi;
    size_t entries;
};

static int store_count_fn(MDB_txn *txn, void *arg)
{
    struct count_arg *count = arg;
    MDB_stat st;
    int rc = mdb_stat(txn, count->dbi, &st);
    if (rc)
        return store_error(rc);
    count->entries = st.ms_entries;
    return 0;
}

size_t store_count(store_t *self, store_db_t db)
{
    struct count_arg count = {self->dbi[db], 0};
    store_read(self, store_count_fn, &count);
    return count.entries;
}

void store_put_be64(uint8_t *out, uint64_t value)
{
    for (int i = 7; i >= 0; i--, value >>= 8)
        out[i] = (uint8_t)value;
}

uint64_t store_get_be64(const uint8_t *in)
{
    uint64_t value = 0;
    for (int i = 0; i < 8; i++)
        value = value << 8 | in[i];
    return value;
}

void store_put_be32(uint8_t *out, uint32_t value)
{
    for (int i = 3; i >= 0; i--, value >>= 8)
        out[i] = (uint8_t)value;
}

uint32_t store_get_be32(const uint8_t *in)
{
    uint32_t value = 0;
    for (int i = 0; i < 4; i++)
        value = value << 8 | in[i];
    return value;
}

/* LMDB refuses an empty key or one over its maximum with MDB_BAD_VALSIZE;
 * say "bad input" before it is asked. */
static bool key_fits(size_t klen)
{
    return klen > 0 && klen <= 511;
}

int store_get(store_txn_t *txn, store_t *self, store_db_t db, const void *key, size_t klen,
              const void **value, size_t *vlen)
{
    *value = NULL;
    *vlen = 0;
    if (!key_fits(klen))
        return SF_EINVAL;
    MDB_val k = {klen, (void *)key}, v;
    int rc = mdb_get(txn, self->dbi[db], &k, &v);
    if (rc)
        return store_error(rc);
    *value = v.mv_data;
    *vlen = v.mv_size;
    return 0;
}

int store_put(store_txn_t *txn, store_t *self, store_db_t db, const void *key, size_t klen,
              const void *value, size_t vlen, unsigned flags)
{
    if (!key_fits(klen))
        return SF_EINVAL;
    MDB_val k = {klen, (void *)key}, v = {vlen, (void *)value};
    return store_error(
        mdb_put(txn, self->dbi[db], &k, &v, flags & STORE_NOOVERWRITE ? MDB_NOOVERWRITE : 0));
}

int store_del(store_txn_t *txn, store_t *self, store_db_t db, const void *key, size_t klen)
{
    if (!key_fits(klen))
        return SF_EINVAL;
    MDB_val k = {klen, (void *)key};
    return store_error(mdb_del(txn, self->dbi[db], &k, NULL));
}

int store_each(store_txn_t *txn, store_t *self, store_db_t db, const void *prefix, size_t plen,
               store_each_fn fn, void *arg)
{
    MDB_cursor *cursor;
    int rc = mdb_cursor_open(txn, self->dbi[db], &cursor);
    if (rc)
        return store_error(rc);
    MDB_val k = {plen, (void *)prefix}, v;
    int result = 0;
    for (rc = mdb_cursor_get(cursor, &k, &v, plen ? MDB_SET_RANGE : MDB_FIRST);
         rc == 0 && result == 0; rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT)) {
        /* Keys sort by bytes: past the prefix, nothing more matches. No
         * prefix (NULL, 0) walks everything: memcmp may not see NULL. */
        if (plen && (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0))
            break;
        result = fn(k.mv_data, k.mv_size, v.mv_data, v.mv_size, arg);
    }
    mdb_cursor_close(cursor);
    if (result)
        return result;
    return rc == 0 || rc == MDB_NOTFOUND ? 0 : store_error(rc);
}

int store_get_string(store_txn_t *txn, store_t *self, store_db_t db, const char *key, char *buf,
                     size_t size)
{
    const void *value;
    size_t len;
    int rc = store_get(txn, self, db, key, strlen(key), &value, &len);
    if (rc)
        return rc;
    if (len >= size)
        return SF_ETOOBIG;
    memcpy(buf, value, len);
    buf[len] = '\0';
    return 0;
}

int store_put_string(store_txn_t *txn, store_t *self, store_db_t db, const char *key,
                     const char *value)
{
    return store_put(txn, self, db, key, strlen(key), value, strlen(value), 0);
}

int store_get_u64(store_txn_t *txn, store_t *self, store_db_t db, const char *key, uint64_t *value)
{
    const void *stored;
    size_t len;
    int rc = store_get(txn, self, db, key, strlen(key), &stored, &len);
    if (rc)
        return rc;
    if (len != 8)
        return SF_ECORRUPT;
    *value = store_get_be64(stored);
    return 0;
}

int store_put_u64(store_txn_t *txn, store_t *self, store_db_t db, const char *key, uint64_t value)
{
    uint8_t buf[8];
    store_put_be64(buf, value);
    return store_put(txn, self, db, key, strlen(key), buf, sizeof buf, 0);
}

void *store_array_push(void **items, size_t *count, size_t *cap, size_t size)
{
    if (*count == *cap) {
        size_t grown_cap = *cap ? *cap * 2 : 16;
        void *grown = realloc(*items, grown_cap * size);
        if (!grown)
            return NULL;
        *items = grown;
        *cap = grown_cap;
    }
    return (char *)*items + size * (*count)++;
}

/* True if dir holds nothing but "." and "..". */
static int store_dir_empty(const char *dir)
{
    DIR *handle = opendir(dir);
    if (!handle)
        return SF_EIO;
    struct dirent *entry;
    int rc = 0;
    while (rc == 0 && (entry = readdir(handle)))
        if (strcmp(entry->d_name, ".") != 0 && strcmp(entry->d_name, "..") != 0)
            rc = SF_EEXIST;
    closedir(handle);
    return rc;
}

static int store_fsync_path(const char *path)
{
    int fd = open(path, O_RDONLY);
    int rc = fd >= 0 && fsync(fd) == 0 ? 0 : errno;
    if (fd >= 0)
        close(fd);
    return rc;
}

/* mdb_env_copyfd2 begins its own read transaction: after another process
 * grew the map it fails with MDB_MAP_RESIZED until this env adopts the new
 * size (L3); the partial copy is then discarded and made again. */
static int store_copy_to(store_t *self, int fd)
{
    for (int attempt = 0;; attempt++) {
        int rc = mdb_env_copyfd2(self->env, fd, MDB_CP_COMPACT);
        if (rc != MDB_MAP_RESIZED || attempt > 3)
            return rc;
        store_adopt_mapsize(self);
        if (ftruncate(fd, 0) != 0 || lseek(fd, 0, SEEK_SET) != 0)
            return errno;
    }
}

int store_backup(store_t *self, const char *dir, sf_error_t *error)
{
    char path[4096];
    int rc = store_dir_empty(dir);
    if (rc == SF_EEXIST)
        return sf_error_set(error, rc, "%s is not empty", dir);
    if (rc || snprintf(path, sizeof path, "%s/data.mdb", dir) >= (int)sizeof path)
        return sf_error_set(error, SF_EIO, "%s: %s", dir, rc ? strerror(errno) : "path too long");
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0)
        return sf_error_set(error, store_error(errno), "%s: %s", path, strerror(errno));
    rc = store_copy_to(self, fd);
    /* mdb_env_copy* never syncs: the copy counts only once it is on disk (L10). */
    if (rc == 0 && fsync(fd) != 0)
        rc = errno;
    if (close(fd) != 0 && rc == 0)
        rc = errno;
    if (rc == 0)
        rc = store_fsync_path(dir);
    if (rc == 0)
        return 0;
    unlink(path);
    slog_error("store %s: backup to %s failed: %s", self->dir, dir, mdb_strerror(rc));
    int code = store_error(rc);
    return sf_error_set(error, code == SF_EGROW || code == SF_ENOTFOUND ? SF_ESTORE : code,
                        "cannot copy the store to %s: %s", dir, mdb_strerror(rc));
}
