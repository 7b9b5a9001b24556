/* sessions.c - the console's logins in memory (sessions.h). */
#include "app/sessions.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SESSIONS_FAILURE_NAMES 64

typedef struct {
    char who[65]; /* "" for a free slot */
    unsigned failures;
    int64_t last_failure_ms;
} sessions_failures_t;

struct sessions {
    sessions_entry_t entries[SESSIONS_MAX];
    sessions_failures_t failures[SESSIONS_FAILURE_NAMES];
};

sessions_t *sessions_new(sf_error_t *error)
{
    if (sodium_init() < 0) {
        sf_error_set(error, SF_EIO, "libsodium cannot start (no random source?)");
        return NULL;
    }
    sessions_t *self = calloc(1, sizeof *self);
    if (!self)
        sf_error_set(error, SF_ENOMEM, "out of memory");
    return self;
}

void sessions_destroy(sessions_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sodium_memzero(*self_p, sizeof **self_p);
    free(*self_p);
    *self_p = NULL;
}

static void sessions_random_hex(char out[SESSIONS_TOKEN_HEX + 1])
{
    unsigned char bytes[SESSIONS_TOKEN_HEX / 2];
    randombytes_buf(bytes, sizeof bytes);
    sodium_bin2hex(out, SESSIONS_TOKEN_HEX + 1, bytes, sizeof bytes);
    sodium_memzero(bytes, sizeof bytes);
}

const sessions_entry_t *sessions_open(sessions_t *self, const char *who, int64_t now_ms)
{
    sessions_entry_t *slot = &self->entries[0];
    for (size_t i = 0; i < SESSIONS_MAX; i++) {
        sessions_entry_t *entry = &self->entries[i];
        if (!entry->id[0] || now_ms - entry->last_seen_ms >= SESSIONS_IDLE_MS) {
            slot = entry;
            break;
        }
        if (entry->last_seen_ms < slot->last_seen_ms)
            slot = entry;
    }
    sessions_random_hex(slot->id);
    sessions_random_hex(slot->csrf);
    snprintf(slot->who, sizeof slot->who, "%s", who);
    slot->last_seen_ms = now_ms;
    return slot;
}

/* The value of SESSIONS_COOKIE in a Cookie header ("a=1; shifan_session=ID")
 * if it has the length of an id, else NULL. */
static const char *sessions_cookie_value(const char *cookie)
{
    static const char name[] = SESSIONS_COOKIE "=";
    for (const char *p = cookie; p && *p;) {
        while (*p == ' ' || *p == ';')
            p++;
        size_t len = strcspn(p, ";");
        if (strncmp(p, name, sizeof name - 1) == 0 && len - (sizeof name - 1) == SESSIONS_TOKEN_HEX)
            return p + sizeof name - 1;
        p += len;
    }
    return NULL;
}

const sessions_entry_t *sessions_find(sessions_t *self, const char *cookie, int64_t now_ms)
{
    const char *id = sessions_cookie_value(cookie);
    if (!id)
        return NULL;
    for (size_t i = 0; i < SESSIONS_MAX; i++) {
        sessions_entry_t *entry = &self->entries[i];
        if (!entry->id[0] || sodium_memcmp(entry->id, id, SESSIONS_TOKEN_HEX) != 0)
            continue;
        if (now_ms - entry->last_seen_ms >= SESSIONS_IDLE_MS) {
            sodium_memzero(entry, sizeof *entry);
            return NULL;
        }
        entry->last_seen_ms = now_ms;
        return entry;
    }
    return NULL;
}

void sessions_close(sessions_t *self, const char *id)
{
    for (size_t i = 0; i < SESSIONS_MAX; i++)
        if (self->entries[i].id[0] && strcmp(self->entries[i].id, id) == 0)
            sodium_memzero(&self->entries[i], sizeof self->entries[i]);
}

void sessions_close_operator(sessions_t *self, const char *who)
{
    for (size_t i = 0; i < SESSIONS_MAX; i++)
        if (self->entries[i].id[0] && strcmp(self->entries[i].who, who) == 0)
            sodium_memzero(&self->entries[i], sizeof self->entries[i]);
}

bool sessions_csrf_ok(const sessions_entry_t *session, const char *token)
{
    return session && token && strlen(token) == SESSIONS_TOKEN_HEX &&
           sodium_memcmp(session->csrf, token, SESSIONS_TOKEN_HEX) == 0;
}

/* The failure count of who; with create, a slot for it (the oldest reused). */
static sessions_failures_t *sessions_failures_of(sessions_t *self, const char *who, bool create)
{
    sessions_failures_t *oldest = &self->failures[0];
    for (size_t i = 0; i < SESSIONS_FAILURE_NAMES; i++) {
        sessions_failures_t *slot = &self->failures[i];
        if (slot->who[0] && strncmp(slot->who, who, sizeof slot->who - 1) == 0)
            return slot;
        if (!slot->who[0] || (oldest->who[0] && slot->last_failure_ms < oldest->last_failure_ms))
            oldest = slot;
    }
    if (!create)
        return NULL;
    memset(oldest, 0, sizeof *oldest);
    snprintf(oldest->who, sizeof oldest->who, "%s", who);
    return oldest;
}

int64_t sessions_login_wait_ms(sessions_t *self, const char *who, int64_t now_ms)
{
    const sessions_failures_t *slot = sessions_failures_of(self, who, false);
    if (!slot || slot->failures < SESSIONS_FREE_FAILURES)
        return 0;
    int64_t left = slot->last_failure_ms + SESSIONS_LOCK_MS - now_ms;
    return left > 0 ? left : 0;
}

void sessions_login_failed(sessions_t *self, const char *who, int64_t now_ms)
{
    sessions_failures_t *slot = sessions_failures_of(self, who, true);
    slot->failures++;
    slot->last_failure_ms = now_ms;
}

void sessions_login_succeeded(sessions_t *self, const char *who)
{
    sessions_failures_t *slot = sessions_failures_of(self, who, false);
    if (slot)
        memset(slot, 0, sizeof *slot);
}
