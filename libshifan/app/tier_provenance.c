/* tier_provenance.c - the province's check of who signed each counted
 * version and whether its claimed time stands (docs/signing.md, "Time you
 * can check"), attached to an evaluation's result.
 *
 * One stored record per unit in scope, after the engine has chosen the
 * version that counts: the ranking and the loading of every version never
 * open a signature, so a province's evaluation pays one signature check
 * and one receipt check per unit (129 in Yunnan), not per version. */
#include "app/tier_internal.h"
#include "base/error.h"
#include "domain/provenance.h"
#include "storage/signkeys.h"
#include "transport/codec.h"
#include "transport/sign.h"

#include <stdio.h>
#include <string.h>

_Static_assert(SIGN_FINGERPRINT_LEN + 1 <= PROVENANCE_FINGERPRINT_MAX, "fingerprint fits");
_Static_assert(CODEC_SIGN_PUBLIC_BYTES == SIGNKEYS_KEY_BYTES, "one key size");

struct provenance_arg {
    tier_t *self;
    engine_result_t *result;
    codec_arena_t *arena;
};

/* The maker: its signature, and whether the key it names is the one
 * registered here for it, in force when it says it made the item. */
static void seal_facts(store_txn_t *txn, store_t *store, const codec_seal_t *seal,
                       int64_t submitted_at, provenance_t *p)
{
    p->is_signed = p->times.is_signed = seal->is_signed;
    if (!seal->is_signed)
        return;
    p->verifies = seal->verifies;
    snprintf(p->signer, sizeof p->signer, "%s", seal->signer);
    sign_fingerprint(seal->signer_key, p->fingerprint);
    signkey_t key;
    p->registered = signkeys_get(txn, store, seal->signer, seal->signer_key, &key) == 0 &&
                    signkeys_valid_at(&key, submitted_at);
}

/* Whether node is a prefecture hub above unit: only its receipt tells the
 * hub's time (admission refuses others; an old store is not trusted). */
static bool hub_above(const programme_t *programme, const char *node, const char *unit)
{
    int at = programme_find_unit(programme, node);
    return at >= 0 && programme_unit(programme, (size_t)at)->level == LEVEL_PREFECTURE &&
           programme_unit_within(programme, unit, node);
}

/* The first receipt (the county's hub): its times, and whether the key in
 * force registered here for its node signed it over this very item. */
static void receipt_facts(tier_t *self, store_txn_t *txn, const engine_unit_result_t *u,
                          const Shifan__Payload *payload, const codec_seal_t *seal, provenance_t *p)
{
    if (!payload->n_receipts)
        return;
    const Shifan__Receipt *receipt = payload->receipts[0];
    p->times.has_receipt = true;
    snprintf(p->received_by, sizeof p->received_by, "%s", receipt->node);
    p->times.received_at = receipt->received_at;
    p->times.contact_before = receipt->has_contact_before ? receipt->contact_before : 0;
    p->times.session_since = receipt->has_session_since ? receipt->session_since : 0;
    signkey_t hub;
    p->times.receipt_verifies = seal->is_signed &&
                                hub_above(self->programme, receipt->node, u->unit->code) &&
                                signkeys_current(txn, self->store, receipt->node, &hub) == 0 &&
                                codec_receipt_verifies(receipt, seal->body_hash, hub.key);
}

/* The provenance of one unit's counted version, attached to the result. A
 * record that does not open is left without one (the load logged it). */
static int provenance_of_unit(struct provenance_arg *a, store_txn_t *txn,
                              const engine_unit_result_t *u)
{
    store_t *store = a->self->store;
    const void *value;
    size_t len;
    int rc = store_get(txn, store, DB_REPORTS, u->report_id, strlen(u->report_id), &value, &len);
    if (rc)
        return rc == SF_ENOTFOUND ? 0 : rc;
    codec_seal_t seal;
    Shifan__Payload *payload = codec_payload_open(a->arena, value, len, &seal);
    if (!payload)
        return 0;
    provenance_t p;
    memset(&p, 0, sizeof p);
    p.times.submitted_at = u->submitted_at;
    seal_facts(txn, store, &seal, u->submitted_at, &p);
    receipt_facts(a->self, txn, u, payload, &seal, &p);
    codec_payload_free_arena(a->arena, payload);
    p.judgement = provenance_judge(&p.times);
    return engine_result_set_provenance(a->result, u->unit->code, &p);
}

static int provenance_fn(store_txn_t *txn, void *arg)
{
    struct provenance_arg *a = arg;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < engine_result_unit_count(a->result); i++) {
        const engine_unit_result_t *u = engine_result_unit(a->result, i);
        if (u->report_id[0])
            rc = provenance_of_unit(a, txn, u);
    }
    return rc;
}

int tier_attach_provenance(tier_t *self, engine_result_t *result)
{
    codec_arena_t *arena = codec_arena_new(64u << 10, NULL);
    if (!arena)
        return SF_ENOMEM;
    struct provenance_arg arg = {self, result, arena};
    int rc = store_read(self->store, provenance_fn, &arg);
    codec_arena_destroy(&arena);
    return rc;
}
