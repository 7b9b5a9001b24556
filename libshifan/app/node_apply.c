/* node_apply.c - what arrives over a link: the hooks, one dispatch, refusals and resyncs
 * (node_internal.h). */
#include "app/node_internal.h"
#include "base/slog.h"
#include "base/stime.h"
#include "storage/outbox.h"
#include "domain/admission.h"
#include "storage/signkeys.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
/* What an item arrived with besides its bytes. */
typedef struct {
    codec_seal_t seal;      /* who signed it */
    int64_t claimed_before; /* the latest time the child claimed for an earlier item (0: none) */
} arrival_t;

/* At the province: the hub's receipt on a signed item of one of its
 * counties must be the hub's (what the hub made itself needs none). */
static int check_hub_receipt(node_t *self, store_txn_t *txn, const char *peer,
                             const Shifan__Payload *payload, const arrival_t *arrival, char *why,
                             size_t whysize)
{
    signkey_t hub;
    if (!arrival->seal.is_signed || self->role != ROLE_PROVINCE ||
        strcmp(arrival->seal.signer, peer) == 0 ||
        signkeys_current(txn, self->store, peer, &hub) != 0)
        return 0;
    for (size_t i = payload->n_receipts; i-- > 0;)
        if (strcmp(payload->receipts[i]->node, peer) == 0)
            return codec_receipt_verifies(payload->receipts[i], arrival->seal.body_hash, hub.key)
                       ? 0
                       : tier_refuse(why, whysize,
                                     "signature: the receipt of %s does not verify against its "
                                     "registered key%s",
                                     peer, "");
    return tier_refuse(why, whysize, "signature: the item carries no receipt of %s, who sent it%s",
                       peer, "");
}

/* Our receipt, signed over the item's signed bytes: the province can then
 * tell "submitted on time, delivered late" from "submitted late", and
 * whether the claimed time can be true (docs/signing.md). The province's
 * own receipt stays unsigned: no one above it reads it, and a signature
 * costs a sixth of its time per report. */
static int stamp_receipt(node_t *self, const char *peer, const arrival_t *arrival,
                         const uint8_t *raw, size_t raw_len, int64_t now, uint8_t **bytes,
                         size_t *len)
{
    codec_receipt_t receipt = {
        .node = self->code,
        .received_at = now,
        .claimed_before = arrival->claimed_before,
        .session_since = node_session_since(self, peer),
        .body_hash = arrival->seal.is_signed ? arrival->seal.body_hash : NULL,
        .secret_key =
            arrival->seal.is_signed && self->role != ROLE_PROVINCE ? self->sign.secret_key : NULL,
    };
    return codec_payload_stamp(raw, raw_len, &receipt, bytes, len);
}

static int apply_from_child(node_t *self, store_txn_t *txn, const char *peer,
                            Shifan__Payload *payload, const arrival_t *arrival, const uint8_t *raw,
                            size_t raw_len, int64_t now, char *why, size_t whysize)
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
    if ((rc = check_hub_receipt(self, txn, peer, payload, arrival, why, whysize)) ||
        (rc = child_quota_take(self, txn, peer, wire->year, raw_len + 64, why, whysize)))
        return rc;

    uint8_t *bytes = NULL;
    size_t len = 0;
    rc = stamp_receipt(self, peer, arrival, raw, raw_len, now, &bytes, &len);
    if (rc)
        return rc == SF_ETOOBIG
                   ? tier_refuse(why, whysize, "malformed: payload from %s too large%s", peer, "")
                   : rc;
    bool stored = false;
    if (payload->body_case == SHIFAN__PAYLOAD__BODY_REPORT) {
        rc = node_report_store(txn, self->store, wire, bytes, len, &stored);
    } else {
        rc = store_put(txn, self->store, DB_INSPECTIONS, wire->report_id, strlen(wire->report_id),
                       bytes, len, STORE_NOOVERWRITE);
        stored = rc == 0;
        rc = rc == SF_EEXIST ? 0 : rc;
    }
    /* A hub forwards what it stored in the same transaction; both bump the generation. */
    if (rc == 0 && stored && self->role == ROLE_PREFECTURE)
        rc = outbox_append(txn, self->store, UP_STREAM, bytes, len, NULL);
    if (rc == 0 && stored)
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
                      const arrival_t *arrival, const uint8_t *bytes, size_t len, int64_t now,
                      char *why, size_t whysize)
{
    bool from_parent = !*peer;
    switch (payload->body_case) {
    case SHIFAN__PAYLOAD__BODY_KEY:
        if (!from_parent)
            return node_apply_key(self, txn, peer, payload, &arrival->seal, bytes, len, now, why,
                                  whysize);
        break;
    case SHIFAN__PAYLOAD__BODY_KEY_CONFIRMATION:
        if (from_parent)
            return node_apply_key_confirmation(self, txn, payload, bytes, len);
        break;
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
    return apply_from_child(self, txn, peer, payload, arrival, bytes, len, now, why, whysize);
}

/* Link hook: admission (admission.h), then apply_item. A refusal judged by
 * a programme about to be replaced is deferred instead. */
int node_apply(void *arg, store_txn_t *txn, const char *peer, const uint8_t *bytes, size_t len,
               char *why, size_t whysize)
{
    node_t *self = arg;
    if (!self->arena && !(self->arena = codec_arena_new(2u << 20, NULL)))
        return SF_ENOMEM;
    arrival_t arrival = {0};
    Shifan__Payload *payload = codec_payload_open(self->arena, bytes, len, &arrival.seal);
    if (!payload)
        return tier_refuse(why, whysize, "malformed: an item from %s does not decode%s",
                           *peer ? peer : "the parent", "");
    int64_t now = stime_now();
    if (*peer)
        arrival.claimed_before = node_claimed_before(self, txn, peer);
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
    else if (!(rc = node_check_signature(self, txn, peer, payload, &arrival.seal, now, why,
                                         whysize)))
        rc = apply_item(self, txn, peer, payload, &arrival, bytes, len, now, why, whysize);
    if (rc == 0 && *peer)
        rc = node_claimed_note(self, txn, peer, payload, arrival.claimed_before);
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

int node_on_refused(void *arg, store_txn_t *txn, const char *peer, uint64_t epoch, uint64_t seq,
                    const uint8_t *payload, size_t len, int reason, const char *why)
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

/* The signed key announcements kept (ours; a hub's counties'), first. */
static int requeue_keys(node_t *self, store_txn_t *txn, size_t *count)
{
    struct requeue_arg arg = {self, txn, UP_STREAM, NULL, NULL, count};
    return store_each(txn, self->store, DB_META, META_KEY_ANNOUNCEMENT_PREFIX,
                      strlen(META_KEY_ANNOUNCEMENT_PREFIX), requeue_one, &arg);
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
int node_resync_child(void *arg, store_txn_t *txn, const char *peer)
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
int node_resync_parent(void *arg, store_txn_t *txn)
{
    node_t *self = arg;
    size_t count = 0;
    /* Signing keys first, then what they signed. */
    int rc = requeue_keys(self, txn, &count);
    if (rc == 0)
        rc = requeue_values(self, txn, DB_REPORTS, UP_STREAM, NULL, NULL, &count);
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
bool node_admit(void *arg, const char *code, const char *key_z85)
{
    node_t *self = arg;
    return self->zap && zap_is_current(self->zap, code, key_z85);
}
