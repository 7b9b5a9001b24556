/* tier_inspections.c - a hub's or the province's own values for a
 * unit-year: stored here, and a hub queues them to the province in the same
 * commit. Inspections arriving from a hub are stored with the reports
 * (node.c, apply from a child). */
#include "app/tier_internal.h"
#include "base/msg.h"
#include "base/error.h"
#include "base/slog.h"
#include "storage/outbox.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct inspect_arg {
    tier_t *self;
    report_t *inspection;
};

static int inspect_fn(store_txn_t *txn, void *arg)
{
    struct inspect_arg *a = arg;
    tier_t *self = a->self;
    report_t *inspection = a->inspection;
    snprintf(inspection->report_id, sizeof inspection->report_id, "%s-%d-i-%s-%08x",
             inspection->unit, inspection->year, self->code, randombytes_random());
    struct Shifan__Report *wire = report_to_proto(inspection);
    if (!wire)
        return SF_ENOMEM;
    Shifan__Payload payload = SHIFAN__PAYLOAD__INIT;
    payload.body_case = SHIFAN__PAYLOAD__BODY_INSPECTION;
    payload.inspection = wire;
    uint8_t *bytes = NULL;
    size_t len = 0;
    int rc = codec_payload_pack(&payload, &bytes, &len);
    if (rc == 0)
        rc = tier_sign(self, &bytes, &len);
    if (rc == 0)
        rc = store_put(txn, self->store, DB_INSPECTIONS, inspection->report_id,
                       strlen(inspection->report_id), bytes, len, 0);
    if (rc == 0 && self->role == ROLE_PREFECTURE)
        rc = outbox_append(txn, self->store, TIER_UP_STREAM, bytes, len, NULL);
    if (rc == 0)
        rc = tier_touch_data(self, txn);
    free(bytes);
    report_proto_free(wire);
    return rc;
}

/* What makes an inspection one this node may record: SF_EINVAL with err. */
static int inspect_check(const tier_t *self, const report_t *inspection, char *err, size_t errsize)
{
    if (self->role == ROLE_COUNTY) {
        snprintf(err, errsize, msg("a county does not inspect"));
        return SF_EINVAL;
    }
    if (!inspection->unit[0]) {
        snprintf(err, errsize, msg("the inspection names no \"unit\""));
        return SF_EINVAL;
    }
    if (!programme_unit_within(self->programme, inspection->unit, self->code) ||
        strcmp(inspection->unit, self->code) == 0) {
        snprintf(err, errsize, msg("unit %s: not a unit under %s"), inspection->unit, self->code);
        return SF_EINVAL;
    }
    if (inspection->value_count == 0) {
        snprintf(err, errsize, msg("the inspection gives no values"));
        return SF_EINVAL;
    }
    return 0;
}

int tier_inspect(tier_t *self, report_t *inspection, int64_t now, char *err, size_t errsize)
{
    int rc = inspect_check(self, inspection, err, errsize);
    if (rc)
        return rc;
    inspection->submitted_at = now;
    inspection->version = 1;
    inspection->series = self->series;
    snprintf(inspection->origin, sizeof inspection->origin, "%s", self->code);
    snprintf(inspection->standard_id, sizeof inspection->standard_id, "%s",
             programme_standard_id(self->programme));
    struct inspect_arg arg = {self, inspection};
    rc = store_write(self->store, inspect_fn, &arg);
    if (rc)
        snprintf(err, errsize, msg("the inspection was NOT stored: %s"), sf_strerror(rc));
    else
        slog_info("recorded inspection %s of unit %s, year %d", inspection->report_id,
                  inspection->unit, inspection->year);
    return rc;
}
