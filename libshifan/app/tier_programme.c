/* tier_programme.c - programmes: stored only when their revision is
 * higher, passed down by a hub in the commit that stores them, published by
 * the province, queued again to a child that lacks them. */
#include "app/tier_internal.h"
#include "base/msg.h"
#include "base/error.h"
#include "base/slog.h"
#include "storage/outbox.h"
#include "transport/link.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Remembers the standard of the programme in use before a newer one is
 * stored, so reports made under it on their way still get in. */
static int remember_standard(tier_t *self, store_txn_t *txn)
{
    const char *current = programme_standard_id(self->programme);
    char list[TIER_EARLIER_STANDARDS_MAX * PROGRAMME_ID_MAX] = "";
    int rc = store_get_string(txn, self->store, DB_META, META_EARLIER_STANDARDS, list, sizeof list);
    if (rc && rc != SF_ENOTFOUND)
        return rc;
    size_t lines = 0;
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, "\n");
        if (len == strlen(current) && strncmp(p, current, len) == 0)
            return 0;
        lines++;
        p += len + (p[len] == '\n');
    }
    char *keep = list;
    if (lines >= TIER_EARLIER_STANDARDS_MAX) { /* drop the oldest */
        keep = strchr(list, '\n');
        keep = keep ? keep + 1 : list + strlen(list);
    }
    char next[sizeof list + PROGRAMME_ID_MAX + 2];
    snprintf(next, sizeof next, "%s%s%s", keep, *keep ? "\n" : "", current);
    return store_put_string(txn, self->store, DB_META, META_EARLIER_STANDARDS, next);
}

int tier_queue_programme(tier_t *self, store_txn_t *txn, const char *child)
{
    const void *value;
    size_t len;
    int rc = store_get(txn, self->store, DB_PROGRAMMES, TIER_PROGRAMME_KEY,
                       strlen(TIER_PROGRAMME_KEY), &value, &len);
    if (rc == SF_ENOTFOUND)
        return 0; /* the embedded default: every node has it already */
    if (rc)
        return rc;
    char stream[OUTBOX_STREAM_MAX];
    link_down_stream(stream, sizeof stream, child);
    /* Copy: the value points into the map, and the append writes to it (L8). */
    uint8_t *copy = malloc(len);
    if (!copy)
        return SF_ENOMEM;
    memcpy(copy, value, len);
    rc = outbox_append_once(txn, self->store, stream, copy, len, NULL);
    free(copy);
    return rc;
}

static int queue_programme_fn(tier_t *self, store_txn_t *txn, const char *code, void *arg)
{
    (void)arg;
    return tier_queue_programme(self, txn, code);
}

/* Queues the stored programme to every registered child. */
static int queue_programme_to_children(tier_t *self, store_txn_t *txn)
{
    return tier_each_child(self, txn, queue_programme_fn, NULL);
}

/* The revision of a Programme payload; false if it is none. */
static bool programme_revision_of(const void *bytes, size_t len, uint64_t *revision)
{
    Shifan__Payload *payload = codec_payload_unpack(bytes, len);
    bool ok = payload && payload->body_case == SHIFAN__PAYLOAD__BODY_PROGRAMME;
    if (ok)
        *revision = payload->programme->revision;
    codec_payload_free(payload);
    return ok;
}

int tier_store_programme(store_t *store, store_txn_t *txn, const uint8_t *raw, size_t len,
                         bool *newer)
{
    *newer = false;
    uint64_t revision, current;
    if (!programme_revision_of(raw, len, &revision))
        return SF_EINVAL;
    const void *value;
    size_t value_len;
    int rc = store_get(txn, store, DB_PROGRAMMES, TIER_PROGRAMME_KEY, strlen(TIER_PROGRAMME_KEY),
                       &value, &value_len);
    if (rc == 0 && programme_revision_of(value, value_len, &current) && current >= revision)
        return 0;
    if (rc && rc != SF_ENOTFOUND)
        return rc;
    if ((rc = store_put(txn, store, DB_PROGRAMMES, TIER_PROGRAMME_KEY, strlen(TIER_PROGRAMME_KEY),
                        raw, len, 0)))
        return rc;
    *newer = true;
    return 0;
}

int tier_programme_payload(const programme_t *programme, int64_t now, uint8_t **bytes, size_t *len)
{
    const char *text = programme_json(programme);
    Shifan__Programme wire = SHIFAN__PROGRAMME__INIT;
    wire.programme_id = (char *)programme_id(programme);
    wire.revision = programme_revision(programme);
    wire.document.data = (uint8_t *)text;
    wire.document.len = strlen(text);
    wire.published_at = now;
    Shifan__Payload payload = SHIFAN__PAYLOAD__INIT;
    payload.body_case = SHIFAN__PAYLOAD__BODY_PROGRAMME;
    payload.programme = &wire;
    return codec_payload_pack(&payload, bytes, len);
}

int tier_apply_programme(tier_t *self, store_txn_t *txn, const Shifan__Payload *payload,
                         const uint8_t *raw, size_t len, char *why, size_t whysize)
{
    const Shifan__Programme *incoming = payload->programme;
    sf_error_t error;
    programme_t *check = programme_load_json((const char *)incoming->document.data,
                                             incoming->document.len, "programme", &error);
    if (!check)
        return tier_refuse(why, whysize, "malformed: the published programme is invalid: %s%s",
                           error.text, "");
    programme_destroy(&check);
    bool newer;
    int rc = tier_store_programme(self->store, txn, raw, len, &newer);
    if (rc || !newer)
        return rc;
    if ((rc = remember_standard(self, txn)))
        return rc;
    slog_info("received programme %s revision %llu; it is used from now on", incoming->programme_id,
              (unsigned long long)incoming->revision);
    /* A hub passes it on to each of its counties, in the same commit. */
    if (self->role == ROLE_PREFECTURE)
        return queue_programme_to_children(self, txn);
    return 0;
}

struct publish_arg {
    tier_t *self;
    const uint8_t *bytes;
    size_t len;
};

static int publish_fn(store_txn_t *txn, void *arg)
{
    struct publish_arg *a = arg;
    bool newer;
    int rc = tier_store_programme(a->self->store, txn, a->bytes, a->len, &newer);
    if (rc)
        return rc;
    if (!newer)
        return SF_EEXIST;
    if ((rc = remember_standard(a->self, txn)))
        return rc;
    return queue_programme_to_children(a->self, txn);
}

/* Why a programme file may not be published here: SF_EINVAL with err. */
static int publish_check(const tier_t *self, const programme_t *programme, const char *path,
                         char *err, size_t errsize)
{
    if (programme_revision(programme) <= programme_revision(self->programme) &&
        strcmp(programme_id(programme), programme_id(self->programme)) == 0) {
        snprintf(err, errsize,
                 msg("%s: revision %llu is not newer than the programme in use (%s revision %llu); "
                     "raise \"revision\""),
                 path, (unsigned long long)programme_revision(programme), programme_id(programme),
                 (unsigned long long)programme_revision(self->programme));
        return SF_EINVAL;
    }
    if (strcmp(tier_programme_root(programme), self->code) != 0) {
        snprintf(err, errsize, msg("%s: its root unit is %s, but this province is %s"), path,
                 tier_programme_root(programme), self->code);
        return SF_EINVAL;
    }
    return 0;
}

int tier_publish(tier_t *self, const char *path, int64_t now, char *err, size_t errsize)
{
    if (self->role != ROLE_PROVINCE) {
        snprintf(err, errsize, msg("only the province publishes the programme"));
        return SF_EINVAL;
    }
    sf_error_t error;
    programme_t *programme = programme_load_file(path, &error);
    if (!programme) {
        snprintf(err, errsize, "%s", error.text);
        return SF_EINVAL;
    }
    uint8_t *bytes = NULL;
    size_t len;
    int rc = publish_check(self, programme, path, err, errsize);
    if (rc)
        goto out;
    if ((rc = tier_programme_payload(programme, now, &bytes, &len)) ||
        (rc = tier_sign(self, &bytes, &len))) {
        snprintf(err, errsize, msg("%s: too large to publish (%s)"), path, sf_strerror(rc));
        rc = SF_EINVAL;
        goto out;
    }
    struct publish_arg arg = {self, bytes, len};
    rc = store_write(self->store, publish_fn, &arg);
    if (rc == SF_EEXIST) {
        snprintf(err, errsize, msg("%s: a programme of the same or a newer revision is published"),
                 path);
        rc = SF_EINVAL;
    } else if (rc) {
        snprintf(err, errsize, msg("cannot store the programme: %s"), sf_strerror(rc));
    }
out:
    free(bytes);
    programme_destroy(&programme);
    return rc;
}
