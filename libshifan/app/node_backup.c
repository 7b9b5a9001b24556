/* node_backup.c - backup --out DIR: a copy of a node that can serve as its
 * data directory, taken beside the running daemon (docs/operations.md,
 * "Backup"). The store is copied by LMDB in one read transaction
 * (store_backup); the keys are plain files. All of it goes to a temporary
 * directory next to DIR that is renamed into place only once every file
 * and directory is on disk, so a crash leaves no half backup named DIR. */
#include "app/node_internal.h"
#include "base/msg.h"
#include "base/slog.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int fsync_path(const char *path)
{
    int fd = open(path, O_RDONLY);
    int rc = fd >= 0 && fsync(fd) == 0 ? 0 : SF_EIO;
    if (fd >= 0)
        close(fd);
    return rc;
}

/* 0 if out_dir is absent or an empty directory; SF_EINVAL otherwise. */
static int backup_check_target(const char *out_dir, char *err, size_t errsize)
{
    struct stat st;
    if (stat(out_dir, &st) != 0) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, errsize, msg("--out %s: %s"), out_dir, strerror(errno));
        return SF_EIO;
    }
    DIR *dir = S_ISDIR(st.st_mode) ? opendir(out_dir) : NULL;
    bool empty = dir != NULL;
    struct dirent *entry;
    while (dir && empty && (entry = readdir(dir)))
        empty = strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0;
    if (dir)
        closedir(dir);
    if (empty)
        return 0;
    snprintf(err, errsize, msg("--out %s exists and is not an empty directory: give a new one"),
             out_dir);
    return SF_EINVAL;
}

/* Copies a regular file with its permission bits, durably. */
static int copy_file(const char *from, const char *to, mode_t mode)
{
    char buf[8192];
    int in = open(from, O_RDONLY);
    int out = in >= 0 ? open(to, O_WRONLY | O_CREAT | O_EXCL, mode & 0777) : -1;
    bool ok = out >= 0;
    ssize_t got;
    while (ok && (got = read(in, buf, sizeof buf)) != 0)
        ok = got > 0 && write(out, buf, (size_t)got) == got;
    /* The umask may have narrowed the mode at open: a public key stays 0644. */
    ok = ok && fchmod(out, mode & 0777) == 0 && fsync(out) == 0;
    if (out >= 0 && close(out) != 0)
        ok = false;
    if (in >= 0)
        close(in);
    return ok ? 0 : errno == ENOSPC || errno == EDQUOT ? SF_ENOSPC : SF_EIO;
}

/* Copies the regular files and directories under from into to (which
 * exists), modes kept, each fsync'd, then to itself; counts the files. */
static int copy_tree(const char *from, const char *to, size_t *files)
{
    DIR *dir = opendir(from);
    if (!dir)
        return SF_EIO;
    int rc = 0;
    struct dirent *entry;
    while (rc == 0 && (entry = readdir(dir))) {
        char source[PATH_MAX_LEN], target[PATH_MAX_LEN];
        struct stat st;
        if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
            continue;
        node_path_join(source, from, entry->d_name);
        node_path_join(target, to, entry->d_name);
        if (!*source || !*target || lstat(source, &st) != 0)
            rc = SF_EIO;
        else if (S_ISREG(st.st_mode) && (rc = copy_file(source, target, st.st_mode)) == 0)
            (*files)++;
        else if (S_ISDIR(st.st_mode))
            rc = mkdir(target, st.st_mode & 0777) == 0 ? copy_tree(source, target, files) : SF_EIO;
    }
    closedir(dir);
    return rc ? rc : fsync_path(to);
}

/* Removes what a failed backup left in path (files and directories). */
static void remove_tree(const char *path)
{
    DIR *dir = opendir(path);
    struct dirent *entry;
    while (dir && (entry = readdir(dir))) {
        char child[PATH_MAX_LEN];
        struct stat st;
        if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
            continue;
        node_path_join(child, path, entry->d_name);
        if (*child && lstat(child, &st) == 0 && S_ISDIR(st.st_mode))
            remove_tree(child);
        else if (*child)
            unlink(child);
    }
    if (dir)
        closedir(dir);
    rmdir(path);
}

/* Reads the copy back as a store of its own: it opens, and holds this many
 * reports. Its lock file is not part of a backup. */
static int backup_verify(const char *store_dir, node_backup_t *result, char *err, size_t errsize)
{
    sf_error_t error = {0, ""};
    store_t *copy = store_open(store_dir, 0, &error);
    if (!copy) {
        snprintf(err, errsize, msg("the copy does not open: %s"), error.text);
        return error.code ? error.code : SF_ESTORE;
    }
    result->reports = store_count(copy, DB_REPORTS);
    store_destroy(&copy);
    char path[PATH_MAX_LEN], data[PATH_MAX_LEN];
    node_path_join(path, store_dir, "lock.mdb");
    unlink(path);
    node_path_join(data, store_dir, "data.mdb");
    struct stat st;
    result->store_bytes = stat(data, &st) == 0 ? (uint64_t)st.st_size : 0;
    return fsync_path(store_dir);
}

/* store/, keys/ and run/ of the copy in tmp. */
static int backup_fill(node_t *self, const char *tmp, node_backup_t *result, char *err,
                       size_t errsize)
{
    char store[PATH_MAX_LEN], keys[PATH_MAX_LEN], run[PATH_MAX_LEN], own_keys[PATH_MAX_LEN];
    node_path_join(store, tmp, "store");
    node_path_join(keys, tmp, "keys");
    node_path_join(run, tmp, "run");
    node_path_join(own_keys, self->dir, "keys");
    if (mkdir(store, 0700) != 0 || mkdir(keys, 0700) != 0 || mkdir(run, 0700) != 0) {
        snprintf(err, errsize, msg("cannot create directories in %s: %s"), tmp, strerror(errno));
        return SF_EIO;
    }
    sf_error_t error = {0, ""};
    int rc = store_backup(self->store, store, &error);
    if (rc) {
        snprintf(err, errsize, msg("cannot copy the store: %s"), error.text);
        return rc;
    }
    if ((rc = copy_tree(own_keys, keys, &result->key_files))) {
        snprintf(err, errsize, msg("cannot copy %s: %s"), own_keys, sf_strerror(rc));
        return rc;
    }
    if ((rc = backup_verify(store, result, err, errsize)))
        return rc;
    if ((rc = fsync_path(run)) || (rc = fsync_path(tmp)))
        snprintf(err, errsize, msg("cannot write %s: %s"), tmp, sf_strerror(rc));
    return rc;
}

/* A backup inside the data directory would be lost with it, and one under
 * keys/ would copy itself: refused, as is a DIR whose parent is missing. */
static int backup_check_place(const node_t *self, const char *parent_dir, const char *out_dir,
                              char *err, size_t errsize)
{
    char parent[PATH_MAX_LEN], data[PATH_MAX_LEN];
    if (!realpath(parent_dir, parent)) {
        snprintf(err, errsize, msg("--out %s: %s"), out_dir, strerror(errno));
        return errno == ENOENT || errno == ENOTDIR ? SF_EINVAL : SF_EIO;
    }
    size_t len = realpath(self->dir, data) ? strlen(data) : 0;
    if (len && strncmp(parent, data, len) == 0 && (parent[len] == '/' || parent[len] == '\0')) {
        snprintf(err, errsize, msg("--out %s is inside the data directory %s: put it elsewhere"),
                 out_dir, self->dir);
        return SF_EINVAL;
    }
    return 0;
}

int node_backup(node_t *self, const char *out_dir, node_backup_t *result, char *err, size_t errsize)
{
    memset(result, 0, sizeof *result);
    int rc = backup_check_target(out_dir, err, errsize);
    if (rc)
        return rc;
    char parent[PATH_MAX_LEN], name[PATH_MAX_LEN], tmp[PATH_MAX_LEN];
    snprintf(parent, sizeof parent, "%s", out_dir);
    snprintf(name, sizeof name, "%s", out_dir);
    const char *parent_dir = dirname(parent);
    if ((rc = backup_check_place(self, parent_dir, out_dir, err, errsize)))
        return rc;
    if (snprintf(tmp, sizeof tmp, "%s/.%s.partial-XXXXXX", parent_dir, basename(name)) >=
            (int)sizeof tmp ||
        !mkdtemp(tmp)) {
        snprintf(err, errsize, msg("cannot create a temporary directory beside %s: %s"), out_dir,
                 strerror(errno));
        return SF_EIO;
    }
    rc = backup_fill(self, tmp, result, err, errsize);
    /* rename() replaces an empty directory; then the parent's entry is synced. */
    if (rc == 0 && rename(tmp, out_dir) != 0) {
        snprintf(err, errsize, msg("cannot rename %s to %s: %s"), tmp, out_dir, strerror(errno));
        rc = SF_EIO;
    }
    if (rc == 0 && (rc = fsync_path(parent_dir)))
        snprintf(err, errsize, msg("cannot write %s: %s"), parent_dir, sf_strerror(rc));
    if (rc) {
        remove_tree(tmp);
        return rc;
    }
    slog_info("backup written to %s (%llu bytes of store, %zu reports)", out_dir,
              (unsigned long long)result->store_bytes, result->reports);
    return 0;
}
