/* node_keys.c - signing keys at work (docs/signing.md): a node announces its
 * key to its parent, parents register their children's keys, the province
 * confirms each key back to its owner, and every item that arrives is
 * checked against the key registered for the node that must have made it
 * (node_internal.h). */
#include "app/node_internal.h"
#include "base/msg.h"
#include "base/slog.h"
#include "base/stime.h"
#include "storage/outbox.h"
#include "storage/records.h"
#include "storage/signkeys.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- what must sign an item ---- */

/* The code of the node that must have signed the item, and the time the
 * item says it was made; NULL for an item no one signs (a refusal notice). */
static const char *expected_signer(const node_t *self, const char *peer,
                                   const Shifan__Payload *payload, int64_t *made_at)
{
    const programme_t *programme = node_programme(self);
    switch (payload->body_case) {
    case SHIFAN__PAYLOAD__BODY_REPORT:
        return *made_at = payload->report->submitted_at, payload->report->origin;
    case SHIFAN__PAYLOAD__BODY_INSPECTION:
        return *made_at = payload->inspection->submitted_at, payload->inspection->origin;
    case SHIFAN__PAYLOAD__BODY_RETURN_FOR_CORRECTION:
        *made_at = payload->return_for_correction->returned_at;
        return payload->return_for_correction->by;
    case SHIFAN__PAYLOAD__BODY_RECOMMENDATION:
        return *made_at = payload->recommendation->made_at, peer;
    case SHIFAN__PAYLOAD__BODY_PROGRAMME:
        *made_at = payload->programme->published_at;
        return tier_programme_root(programme);
    case SHIFAN__PAYLOAD__BODY_KEY_CONFIRMATION:
        *made_at = payload->key_confirmation->since;
        return tier_programme_root(programme);
    case SHIFAN__PAYLOAD__BODY_EVALUATION:
        /* The province's result at a hub; the hub's cut of it at a county. */
        *made_at = payload->evaluation->evaluated_at;
        return self->role == ROLE_PREFECTURE ? tier_programme_root(programme) : "";
    case SHIFAN__PAYLOAD__BODY_KEY:
        return *made_at = payload->key->made_at, payload->key->unit;
    default:
        return NULL;
    }
}

/* ---- registering a key ---- */

static int confirm_down(node_t *self, store_txn_t *txn, const char *peer, const signkey_t *key)
{
    Shifan__KeyConfirmation conf = SHIFAN__KEY_CONFIRMATION__INIT;
    conf.unit = (char *)key->unit;
    conf.sign_key.data = (uint8_t *)key->key;
    conf.sign_key.len = sizeof key->key;
    conf.since = key->since;
    conf.registered_by = (char *)key->registered_by;
    Shifan__Payload payload = SHIFAN__PAYLOAD__INIT;
    payload.body_case = SHIFAN__PAYLOAD__BODY_KEY_CONFIRMATION;
    payload.key_confirmation = &conf;
    uint8_t *bytes = NULL;
    size_t len = 0;
    int rc = codec_payload_pack(&payload, &bytes, &len);
    if (rc == 0)
        rc = tier_sign(self->tier, &bytes, &len);
    char stream[OUTBOX_STREAM_MAX];
    link_down_stream(stream, sizeof stream, peer);
    if (rc == 0)
        rc = outbox_append(txn, self->store, stream, bytes, len, NULL);
    free(bytes);
    return rc;
}

/* What limits a unit's first key: the key given at allow --sign-key for a
 * child, the province's fingerprint given at init for the root. */
static int check_pin(node_t *self, store_txn_t *txn, const char *unit, const uint8_t *key,
                     char *why, size_t whysize)
{
    char fingerprint[SIGN_FINGERPRINT_LEN + 1], name[64], pinned[SIGN_PUBLIC_HEX_LEN + 8];
    sign_fingerprint(key, fingerprint);
    if (strcmp(unit, tier_programme_root(node_programme(self))) == 0 &&
        store_get_string(txn, self->store, DB_META, META_PROVINCE_FINGERPRINT, pinned,
                         sizeof pinned) == 0 &&
        strcmp(pinned, fingerprint) != 0)
        return tier_refuse(why, whysize,
                           "signature: the province's key has fingerprint %s, not the %s given at "
                           "init",
                           fingerprint, pinned);
    char got[SIGN_PUBLIC_HEX_LEN + 1];
    sign_public_hex(key, got);
    snprintf(name, sizeof name, "%s%s", META_SIGN_PIN_PREFIX, unit);
    if (store_get_string(txn, self->store, DB_META, name, pinned, sizeof pinned) == 0 &&
        strcmp(pinned, got) != 0)
        return tier_refuse(why, whysize,
                           "signature: the key of %s (%s) is not the key given at allow "
                           "--sign-key",
                           unit, fingerprint);
    return 0;
}

/* A unit with no key in force here gets its first one: from a child, a
 * key of the child or of a unit under it (the hub vouches for its county,
 * which the province's confirmation lets the county check); from the
 * parent, the key of a node above us (the province's is checked against
 * the fingerprint given at init). The province confirms what it registers
 * to the unit, through the hub it came from. */
static int register_first(node_t *self, store_txn_t *txn, const char *peer, const char *unit,
                          const uint8_t *key_bytes, bool rotated, int64_t now, char *why,
                          size_t whysize)
{
    const programme_t *programme = node_programme(self);
    if (*peer
            ? !programme_unit_within(programme, unit, peer)
            : !programme_unit_within(programme, self->code, unit) || strcmp(unit, self->code) == 0)
        return tier_refuse(why, whysize, "signature: %s may not register a key for %s",
                           *peer ? peer : "the parent", unit);
    int rc = rotated ? 0 : check_pin(self, txn, unit, key_bytes, why, whysize);
    if (rc)
        return rc;
    signkey_t key = {.since = now};
    snprintf(key.unit, sizeof key.unit, "%s", unit);
    memcpy(key.key, key_bytes, sizeof key.key);
    snprintf(key.registered_by, sizeof key.registered_by, "%s",
             *peer && strcmp(peer, unit) != 0 ? peer : "");
    if ((rc = signkeys_put(txn, self->store, &key)))
        return rc;
    char fingerprint[SIGN_FINGERPRINT_LEN + 1];
    sign_fingerprint(key.key, fingerprint);
    slog_info("registered the signing key of %s (fingerprint %s), %s %s", unit, fingerprint,
              rotated ? "replacing the one before it, from" : "first seen from",
              *peer ? peer : "the parent");
    return self->role == ROLE_PROVINCE && *peer ? confirm_down(self, txn, peer, &key) : 0;
}

/* A signed item: signed by whom it must be, with a key held for it. */
static int check_signed(node_t *self, store_txn_t *txn, const char *peer, const char *signer,
                        int64_t made_at, const codec_seal_t *seal, int64_t now, char *why,
                        size_t whysize)
{
    char fingerprint[SIGN_FINGERPRINT_LEN + 1];
    sign_fingerprint(seal->signer_key, fingerprint);
    if (!seal->verifies)
        return tier_refuse(why, whysize,
                           "signature: does not verify (the item was altered after %s signed "
                           "it%s)",
                           seal->signer, "");
    if (*signer && strcmp(seal->signer, signer) != 0)
        return tier_refuse(why, whysize, "signature: signed by %s, not by %s, who made it",
                           seal->signer, signer);
    if (!*signer && !programme_unit_within(node_programme(self), self->code, seal->signer))
        return tier_refuse(why, whysize, "signature: signed by %s, not by a node above %s",
                           seal->signer, self->code);
    signkey_t key;
    int rc = signkeys_get(txn, self->store, seal->signer, seal->signer_key, &key);
    if (rc == 0 && !signkeys_valid_at(&key, made_at)) {
        char when[64];
        snprintf(when, sizeof when, "%s at %lld", key.revoked ? "revoked" : "replaced",
                 (long long)key.until);
        return tier_refuse(why, whysize, "signature: made with a key of %s %s (unix time)",
                           seal->signer, when);
    }
    if (rc != SF_ENOTFOUND)
        return rc;
    if (signkeys_current(txn, self->store, seal->signer, &key) == 0)
        return tier_refuse(why, whysize, "signature: key %s is not a key registered here for %s",
                           fingerprint, seal->signer);
    return register_first(self, txn, peer, seal->signer, seal->signer_key, false, now, why,
                          whysize);
}

int node_check_signature(node_t *self, store_txn_t *txn, const char *peer,
                         const Shifan__Payload *payload, const codec_seal_t *seal, int64_t now,
                         char *why, size_t whysize)
{
    int64_t made_at = 0;
    const char *signer = expected_signer(self, peer, payload, &made_at);
    if (!signer)
        return 0;
    if (payload->body_case == SHIFAN__PAYLOAD__BODY_KEY)
        return 0; /* node_apply_key checks who signed an announcement */
    if (seal->is_signed)
        return check_signed(self, txn, peer, signer, made_at, seal, now, why, whysize);
    /* Unsigned: an old version or a second implementation, taken until the
     * maker's key is registered here, never after. */
    signkey_t key;
    if (*signer && signkeys_current(txn, self->store, signer, &key) == 0)
        return tier_refuse(why, whysize,
                           "signature: the item is not signed, but %s has a signing key "
                           "registered here%s",
                           signer, "");
    return 0;
}

/* ---- a key announcement arrives (hub: from a county; province: from a hub) ---- */

/* The key replaces the unit's key in force: a rotation, signed by the old
 * key; or, at the province only, a key its hub registered anew after its
 * operator allowed a new CURVE key (a re-initialised county): the province
 * then confirms the new key to the county, which sees a key it does not
 * hold at once (docs/signing.md). */
static int key_replace(node_t *self, store_txn_t *txn, const char *peer,
                       const Shifan__KeyAnnouncement *ann, signkey_t *current, bool *rotation,
                       char *why, size_t whysize)
{
    char held[SIGN_FINGERPRINT_LEN + 1];
    sign_fingerprint(current->key, held);
    *rotation = codec_rotation_verifies(ann) &&
                memcmp(ann->previous_key.data, current->key, SIGN_PUBLIC_BYTES) == 0;
    bool rotated = *rotation;
    if (!rotated && (self->role != ROLE_PROVINCE || strcmp(peer, ann->unit) == 0))
        return tier_refuse(why, whysize,
                           "signing key of %s: another key (%s) is registered here; a new key "
                           "must be signed by it, or the unit allowed again",
                           ann->unit, held);
    if (!rotated)
        slog_warn("the signing key of %s (fingerprint %s) is replaced on the word of %s, which "
                  "registered it anew; the unit is told which key we hold",
                  ann->unit, held, peer);
    current->until = ann->made_at;
    return signkeys_put(txn, self->store, current);
}

/* A rotation by a direct child also replaces its CURVE key: from the
 * commit on only the new key connects (the child switches when this item
 * is acknowledged, or when the old key is refused). */
static int rotate_curve_key(node_t *self, store_txn_t *txn, const char *child, const char *key,
                            char *why, size_t whysize)
{
    char old[KEYS_Z85_LEN + 1], owner[PROGRAMME_CODE_MAX];
    if (!keys_valid_z85(key))
        return tier_refuse(why, whysize, "signing key of %s: curve_key %s is not a Z85 key", child,
                           "");
    if (store_get_string(txn, self->store, DB_KEYS, key, owner, sizeof owner) == 0)
        return strcmp(owner, child) == 0
                   ? 0
                   : tier_refuse(why, whysize,
                                 "signing key of %s: its new curve_key is registered to %s", child,
                                 owner);
    int rc = store_get_string(txn, self->store, DB_CHILDREN, child, old, sizeof old);
    if (rc)
        return rc == SF_ENOTFOUND ? 0 : rc;
    if ((rc = store_del(txn, self->store, DB_KEYS, old, strlen(old))) && rc != SF_ENOTFOUND)
        return rc;
    if ((rc = store_put_string(txn, self->store, DB_CHILDREN, child, key)) ||
        (rc = store_put_string(txn, self->store, DB_KEYS, key, child)))
        return rc;
    slog_info("%s rotated its keys: its CURVE key is now %s", child, key);
    return records_counter_bump(txn, self->store, "keys_generation");
}

int node_apply_key(node_t *self, store_txn_t *txn, const char *peer, const Shifan__Payload *payload,
                   const codec_seal_t *seal, const uint8_t *bytes, size_t len, int64_t now,
                   char *why, size_t whysize)
{
    const Shifan__KeyAnnouncement *ann = payload->key;
    if (!seal->is_signed || !seal->verifies || strcmp(seal->signer, ann->unit) != 0 ||
        memcmp(seal->signer_key, ann->sign_key.data, SIGN_PUBLIC_BYTES) != 0)
        return tier_refuse(why, whysize,
                           "signing key of %s: the announcement is not signed by the key it "
                           "announces%s",
                           ann->unit, "");
    signkey_t current;
    int rc = signkeys_current(txn, self->store, ann->unit, &current);
    if (rc == 0 && memcmp(current.key, ann->sign_key.data, SIGN_PUBLIC_BYTES) == 0)
        return 0; /* known: a resend, or the same key by a second path */
    if (rc && rc != SF_ENOTFOUND)
        return rc;
    bool replaced = rc == 0, rotation = false;
    if (replaced && (rc = key_replace(self, txn, peer, ann, &current, &rotation, why, whysize)))
        return rc;
    if ((rc = register_first(self, txn, peer, ann->unit, ann->sign_key.data, replaced, now, why,
                             whysize)))
        return rc;
    if (rotation && ann->curve_key && strcmp(peer, ann->unit) == 0 &&
        (rc = rotate_curve_key(self, txn, ann->unit, ann->curve_key, why, whysize)))
        return rc;
    /* A hub passes it on as its county signed it, and keeps it to send
     * again to a parent that lost it (node_resync_parent). */
    char name[64];
    snprintf(name, sizeof name, "%s%s", META_KEY_ANNOUNCEMENT_PREFIX, ann->unit);
    if (self->role == ROLE_PREFECTURE &&
        !(rc = store_put(txn, self->store, DB_META, name, strlen(name), bytes, len, 0)))
        rc = outbox_append(txn, self->store, UP_STREAM, bytes, len, NULL);
    return rc;
}

/* ---- the province's confirmation arrives (from the parent) ---- */

int node_apply_key_confirmation(node_t *self, store_txn_t *txn, const Shifan__Payload *payload,
                                const uint8_t *bytes, size_t len)
{
    const Shifan__KeyConfirmation *conf = payload->key_confirmation;
    if (strcmp(conf->unit, self->code) != 0) {
        /* A hub passes its county's confirmation down, as the province signed it. */
        char stream[OUTBOX_STREAM_MAX], key[KEYS_Z85_LEN + 1];
        if (store_get_string(txn, self->store, DB_CHILDREN, conf->unit, key, sizeof key) != 0)
            return 0; /* not (or no longer) our child: nothing to pass on */
        link_down_stream(stream, sizeof stream, conf->unit);
        return outbox_append(txn, self->store, stream, bytes, len, NULL);
    }
    char held[SIGN_PUBLIC_HEX_LEN + 1], fingerprint[SIGN_FINGERPRINT_LEN + 1];
    sign_public_hex(conf->sign_key.data, held);
    sign_fingerprint(conf->sign_key.data, fingerprint);
    bool ours = memcmp(conf->sign_key.data, self->sign.public_key, SIGN_PUBLIC_BYTES) == 0;
    if (ours)
        slog_info("the province confirmed our signing key (fingerprint %s)", fingerprint);
    else
        slog_error("the province holds another signing key for us: fingerprint %s (ours is "
                   "announced again only by a rotation); tell the province",
                   fingerprint);
    int rc = store_put_string(txn, self->store, DB_META, META_KEY_CONFIRMED, held);
    return rc ? rc
              : store_put_u64(txn, self->store, DB_META, META_KEY_CONFIRMED_AT,
                              (uint64_t)conf->since);
}

/* ---- contact with children, for receipts ---- */

static char *claimed_key(char *out, size_t size, const char *peer)
{
    snprintf(out, size, "claimed/%s", peer);
    return out;
}

int64_t node_claimed_before(node_t *self, store_txn_t *txn, const char *peer)
{
    char key[64];
    uint64_t value = 0;
    store_get_u64(txn, self->store, DB_META, claimed_key(key, sizeof key, peer), &value);
    return (int64_t)value;
}

int node_claimed_note(node_t *self, store_txn_t *txn, const char *peer,
                      const Shifan__Payload *payload, int64_t before)
{
    int64_t made_at = 0;
    const char *maker = expected_signer(self, peer, payload, &made_at);
    if (!maker || strcmp(maker, peer) != 0 || made_at <= before)
        return 0; /* only what the child itself made, and the latest time it claimed */
    char key[64];
    return store_put_u64(txn, self->store, DB_META, claimed_key(key, sizeof key, peer),
                         (uint64_t)made_at);
}

int64_t node_session_since(const node_t *self, const char *peer)
{
    for (size_t i = 0; i < self->sessions_count; i++)
        if (strcmp(self->sessions[i].code, peer) == 0)
            return self->sessions[i].since;
    return 0;
}

int node_on_hello(void *arg, store_txn_t *txn, const char *peer)
{
    node_t *self = arg;
    (void)txn;
    int64_t now = stime_now();
    for (size_t i = 0; i < self->sessions_count; i++)
        if (strcmp(self->sessions[i].code, peer) == 0)
            return self->sessions[i].since = now, 0;
    if (self->sessions_count == self->sessions_cap) {
        size_t cap = self->sessions_cap ? 2 * self->sessions_cap : 16;
        void *grown = realloc(self->sessions, cap * sizeof *self->sessions);
        if (!grown)
            return SF_ENOMEM;
        self->sessions = grown;
        self->sessions_cap = cap;
    }
    snprintf(self->sessions[self->sessions_count].code, sizeof self->sessions[0].code, "%s", peer);
    self->sessions[self->sessions_count++].since = now;
    return 0;
}
