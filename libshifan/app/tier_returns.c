/* tier_returns.c - returns for correction: a hub sends a report back to its
 * county (and tells the province, which evaluates the unit as returned);
 * the county and the province store what arrives. */
#include "app/tier_internal.h"
#include "base/msg.h"
#include "base/error.h"
#include "base/slog.h"
#include "storage/outbox.h"
#include "storage/records.h"
#include "transport/link.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct return_arg {
    tier_t *self;
    const char *unit;
    int year;
    const char *reason;
    int64_t now;
    char report_id[REPORT_ID_MAX];
};

/* The county that owns a unit: the unit itself, or its county for a site. */
static const char *owning_county(const programme_t *programme, const char *code)
{
    int index = programme_find_unit(programme, code);
    const programme_unit_t *unit = programme_unit(programme, (size_t)index);
    while (unit->level > LEVEL_COUNTY)
        unit = programme_unit(programme, (size_t)unit->parent);
    return unit->code;
}

static int return_pack(const struct return_arg *a, uint8_t **bytes, size_t *len)
{
    Shifan__Return ret = SHIFAN__RETURN__INIT;
    ret.report_id = (char *)a->report_id;
    ret.unit = (char *)a->unit;
    ret.year = (uint32_t)a->year;
    ret.reason = (char *)a->reason;
    ret.returned_at = a->now;
    ret.by = a->self->code;
    Shifan__Payload payload = SHIFAN__PAYLOAD__INIT;
    payload.body_case = SHIFAN__PAYLOAD__BODY_RETURN_FOR_CORRECTION;
    payload.return_for_correction = &ret;
    int rc = codec_payload_pack(&payload, bytes, len);
    return rc ? rc : tier_sign(a->self, bytes, len);
}

static int return_fn(store_txn_t *txn, void *arg)
{
    struct return_arg *a = arg;
    store_t *store = a->self->store;
    records_latest_t latest;
    int rc = records_latest_get(txn, store, a->unit, a->year, &latest);
    if (rc)
        return rc;
    snprintf(a->report_id, sizeof a->report_id, "%s", latest.report_id);
    uint8_t *bytes;
    size_t len;
    if ((rc = return_pack(a, &bytes, &len)))
        return rc;
    char stream[OUTBOX_STREAM_MAX];
    link_down_stream(stream, sizeof stream, owning_county(a->self->programme, a->unit));
    rc = store_put(txn, store, DB_RETURNS, a->report_id, strlen(a->report_id), bytes, len, 0);
    /* Down to the county, and up: the province evaluates it as returned. */
    if (rc == 0)
        rc = outbox_append(txn, store, stream, bytes, len, NULL);
    if (rc == 0)
        rc = outbox_append(txn, store, TIER_UP_STREAM, bytes, len, NULL);
    if (rc == 0)
        rc = tier_touch_data(a->self, txn);
    free(bytes);
    return rc;
}

int tier_return(tier_t *self, const char *unit, int year, const char *reason, int64_t now,
                char *err, size_t errsize)
{
    if (self->role != ROLE_PREFECTURE) {
        snprintf(err, errsize, msg("only a prefecture hub returns reports"));
        return SF_EINVAL;
    }
    if (!programme_unit_within(self->programme, unit, self->code) ||
        strcmp(unit, self->code) == 0) {
        snprintf(err, errsize, msg("--unit %s: not a unit under prefecture %s"), unit, self->code);
        return SF_EINVAL;
    }
    if (!reason || !*reason) {
        snprintf(err, errsize, msg("--reason TEXT is required: the county sees it"));
        return SF_EINVAL;
    }
    struct return_arg arg = {self, unit, year, reason, now, ""};
    int rc = store_write(self->store, return_fn, &arg);
    if (rc == SF_ENOTFOUND) {
        snprintf(err, errsize,
                 msg("--unit %s --year %d: no report of that unit-year is stored here"), unit,
                 year);
        return SF_EINVAL;
    }
    if (rc)
        snprintf(err, errsize, msg("cannot queue the return: %s"), sf_strerror(rc));
    return rc;
}

/* At a county: a return of one of its reports, from its hub. */
static int return_from_parent(tier_t *self, store_txn_t *txn, const Shifan__Return *ret,
                              const uint8_t *raw, size_t len, char *why, size_t whysize)
{
    /* Its id is the key it is stored under: LMDB refuses "" (and more
     * than 511 bytes), which would abort the link's txn for ever. */
    if (!report_id_valid(ret->report_id))
        return tier_refuse(why, whysize, "malformed: a return names no report id%s%s", "", "");
    if (!programme_unit_within(self->programme, ret->unit, self->code))
        return tier_refuse(why, whysize, "malformed: a return for unit %s is not ours (%s)",
                           ret->unit, self->code);
    int rc = store_put(txn, self->store, DB_RETURNS, ret->report_id, strlen(ret->report_id), raw,
                       len, 0);
    if (rc == 0)
        slog_warn("report %s (unit %s, year %u) returned for correction by %s: %s", ret->report_id,
                  ret->unit, ret->year, ret->by, ret->reason);
    return rc;
}

/* At the province: a return a hub made. */
static int return_from_child(tier_t *self, store_txn_t *txn, const char *peer,
                             const Shifan__Return *ret, const uint8_t *raw, size_t len, char *why,
                             size_t whysize)
{
    if (self->role != ROLE_PROVINCE || strcmp(ret->by, peer) != 0)
        return tier_refuse(why, whysize, "malformed: a return from %s names %s as its sender", peer,
                           ret->by);
    if (!programme_unit_within(self->programme, ret->unit, peer))
        return tier_refuse(why, whysize, "the key of %s may not return reports of unit %s", peer,
                           ret->unit);
    if (!report_id_valid(ret->report_id)) /* the key below: see return_from_parent */
        return tier_refuse(why, whysize, "malformed: a return from %s names no report id%s", peer,
                           "");
    int rc = store_put(txn, self->store, DB_RETURNS, ret->report_id, strlen(ret->report_id), raw,
                       len, 0);
    if (rc == 0)
        rc = tier_touch_data(self, txn);
    if (rc == 0)
        slog_info("%s returned report %s (unit %s, year %u) for correction: %s", peer,
                  ret->report_id, ret->unit, ret->year, ret->reason);
    return rc;
}

int tier_apply_return(tier_t *self, store_txn_t *txn, const char *peer,
                      const Shifan__Payload *payload, const uint8_t *raw, size_t len, char *why,
                      size_t whysize)
{
    const Shifan__Return *ret = payload->return_for_correction;
    return *peer ? return_from_child(self, txn, peer, ret, raw, len, why, whysize)
                 : return_from_parent(self, txn, ret, raw, len, why, whysize);
}
