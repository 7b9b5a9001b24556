/* tier_provenance.c - the province's check of who signed each counted
 * version and whether its claimed time stands (docs/signing.md, "Time you
 * can check"), attached to an evaluation's result.
 *
 * One stored record per unit in scope, after the engine has chosen the
 * version that counts: loading every version and the hub's ranking never
 * open a signature. An Ed25519 verification costs about 60 µs, two per
 * unit, which would triple a province's evaluation; so what the signatures
 * said of a stored item is remembered in `meta` under `seal/<report id>`
 * (docs/storage.md), bound to the digest of the stored bytes, and checked
 * again only for new items or when the hub's key in force changed. Which
 * keys are registered and in force is looked up every time: that changes. */
#include "app/tier_internal.h"
#include "base/error.h"
#include "base/slog.h"
#include "domain/provenance.h"
#include "storage/signkeys.h"
#include "transport/codec.h"
#include "transport/sign.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(SIGN_FINGERPRINT_LEN + 1 <= PROVENANCE_FINGERPRINT_MAX, "fingerprint fits");
_Static_assert(CODEC_SIGN_PUBLIC_BYTES == SIGNKEYS_KEY_BYTES, "one key size");

#define MEMO_PREFIX "seal/"
#define MEMO_FORMAT 1
#define MEMO_DIGEST 16
#define MEMO_KEY_MAX (sizeof MEMO_PREFIX + REPORT_ID_MAX)
/* format | flags | digest | signer key | body hash | receipt key | signer */
#define MEMO_FIXED (2 + MEMO_DIGEST + 3 * CODEC_SIGN_PUBLIC_BYTES)
#define MEMO_VERIFIES 1u
#define MEMO_RECEIPT_VERIFIES 2u

/* What the signatures of one stored item said. */
typedef struct {
    uint8_t digest[MEMO_DIGEST]; /* of the stored bytes it is about */
    codec_seal_t seal;
    bool receipt_verifies;
    uint8_t receipt_key[CODEC_SIGN_PUBLIC_BYTES]; /* checked against; zeros: none */
} memo_t;

typedef struct {
    char key[MEMO_KEY_MAX];
    uint8_t value[MEMO_FIXED + CODEC_SIGNER_MAX];
    size_t len;
} memo_record_t;

struct provenance_arg {
    tier_t *self;
    engine_result_t *result;
    codec_arena_t *arena;
    memo_record_t *fresh; /* to remember once the read is over */
    size_t fresh_count;
};

static void memo_key(char *key, const char *report_id)
{
    snprintf(key, MEMO_KEY_MAX, MEMO_PREFIX "%s", report_id);
}

static void memo_encode(const memo_t *memo, memo_record_t *record)
{
    uint8_t *v = record->value;
    v[0] = MEMO_FORMAT;
    v[1] = (uint8_t)((memo->seal.verifies ? MEMO_VERIFIES : 0) |
                     (memo->receipt_verifies ? MEMO_RECEIPT_VERIFIES : 0));
    memcpy(v + 2, memo->digest, MEMO_DIGEST);
    memcpy(v + 2 + MEMO_DIGEST, memo->seal.signer_key, CODEC_SIGN_PUBLIC_BYTES);
    memcpy(v + 2 + MEMO_DIGEST + 32, memo->seal.body_hash, CODEC_HASH_BYTES);
    memcpy(v + 2 + MEMO_DIGEST + 64, memo->receipt_key, CODEC_SIGN_PUBLIC_BYTES);
    size_t signer = strnlen(memo->seal.signer, CODEC_SIGNER_MAX - 1);
    memcpy(v + MEMO_FIXED, memo->seal.signer, signer);
    record->len = MEMO_FIXED + signer;
}

/* The remembered signatures of the item stored as (value, len), if any:
 * a record of another format or about other bytes is none. */
static bool memo_get(store_txn_t *txn, store_t *store, const char *report_id,
                     const uint8_t digest[MEMO_DIGEST], memo_t *memo)
{
    char key[MEMO_KEY_MAX];
    memo_key(key, report_id);
    const void *found;
    size_t len;
    if (store_get(txn, store, DB_META, key, strlen(key), &found, &len) != 0)
        return false;
    const uint8_t *v = found;
    if (len < MEMO_FIXED || len >= MEMO_FIXED + CODEC_SIGNER_MAX || v[0] != MEMO_FORMAT ||
        memcmp(v + 2, digest, MEMO_DIGEST) != 0)
        return false;
    memset(memo, 0, sizeof *memo);
    memcpy(memo->digest, digest, MEMO_DIGEST);
    memo->seal.is_signed = true;
    memo->seal.verifies = v[1] & MEMO_VERIFIES;
    memo->receipt_verifies = v[1] & MEMO_RECEIPT_VERIFIES;
    memcpy(memo->seal.signer_key, v + 2 + MEMO_DIGEST, CODEC_SIGN_PUBLIC_BYTES);
    memcpy(memo->seal.body_hash, v + 2 + MEMO_DIGEST + 32, CODEC_HASH_BYTES);
    memcpy(memo->receipt_key, v + 2 + MEMO_DIGEST + 64, CODEC_SIGN_PUBLIC_BYTES);
    memcpy(memo->seal.signer, v + MEMO_FIXED, len - MEMO_FIXED);
    return true;
}

/* The maker: its signature, and whether the key it names is the one
 * registered here for it, in force when it says it made the item, and it
 * is the unit or the county node above it (a site's). */
static void seal_facts(tier_t *self, store_txn_t *txn, const engine_unit_result_t *u,
                       const codec_seal_t *seal, provenance_t *p)
{
    p->is_signed = p->times.is_signed = seal->is_signed;
    if (!seal->is_signed)
        return;
    p->verifies = seal->verifies;
    snprintf(p->signer, sizeof p->signer, "%s", seal->signer);
    sign_fingerprint(seal->signer_key, p->fingerprint);
    signkey_t key;
    p->registered = programme_unit_within(self->programme, u->unit->code, seal->signer) &&
                    signkeys_get(txn, self->store, seal->signer, seal->signer_key, &key) == 0 &&
                    signkeys_valid_at(&key, u->submitted_at);
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
 * force registered here for its node signed it over this very item (as
 * remembered when checked against that same key). False when memo is to
 * be remembered anew. */
static bool receipt_facts(tier_t *self, store_txn_t *txn, const engine_unit_result_t *u,
                          const Shifan__Payload *payload, memo_t *memo, provenance_t *p)
{
    if (!payload->n_receipts)
        return true;
    const Shifan__Receipt *receipt = payload->receipts[0];
    p->times.has_receipt = true;
    snprintf(p->received_by, sizeof p->received_by, "%s", receipt->node);
    p->times.received_at = receipt->received_at;
    p->times.claimed_before = receipt->has_claimed_before ? receipt->claimed_before : 0;
    p->times.session_since = receipt->has_session_since ? receipt->session_since : 0;
    signkey_t hub;
    if (!memo->seal.is_signed || !hub_above(self->programme, receipt->node, u->unit->code) ||
        signkeys_current(txn, self->store, receipt->node, &hub) != 0)
        return true;
    bool remembered = memcmp(memo->receipt_key, hub.key, sizeof hub.key) == 0;
    if (!remembered) {
        memo->receipt_verifies = codec_receipt_verifies(receipt, memo->seal.body_hash, hub.key);
        memcpy(memo->receipt_key, hub.key, sizeof hub.key);
    }
    p->times.receipt_verifies = memo->receipt_verifies;
    return remembered;
}

/* The stored item of u, opened: its signature checked, or as remembered
 * (*known). NULL when it does not open (the load logged it). */
static Shifan__Payload *open_stored(struct provenance_arg *a, store_txn_t *txn,
                                    const engine_unit_result_t *u, memo_t *memo, bool *known)
{
    const void *value;
    size_t len;
    if (store_get(txn, a->self->store, DB_REPORTS, u->report_id, strlen(u->report_id), &value,
                  &len) != 0)
        return NULL;
    uint8_t digest[MEMO_DIGEST];
    crypto_generichash(digest, sizeof digest, value, len, NULL, 0);
    *known = memo_get(txn, a->self->store, u->report_id, digest, memo);
    if (*known)
        return codec_payload_open(a->arena, value, len, NULL);
    memset(memo, 0, sizeof *memo);
    memcpy(memo->digest, digest, sizeof digest);
    return codec_payload_open(a->arena, value, len, &memo->seal);
}

/* The provenance of one unit's counted version, attached to the result. */
static int provenance_of_unit(struct provenance_arg *a, store_txn_t *txn,
                              const engine_unit_result_t *u)
{
    memo_t memo;
    bool known = false;
    Shifan__Payload *payload = open_stored(a, txn, u, &memo, &known);
    if (!payload)
        return 0;
    provenance_t p;
    memset(&p, 0, sizeof p);
    p.times.submitted_at = u->submitted_at;
    seal_facts(a->self, txn, u, &memo.seal, &p);
    bool same_receipt_key = receipt_facts(a->self, txn, u, payload, &memo, &p);
    codec_payload_free_arena(a->arena, payload);
    p.judgement = provenance_judge(&p.times);
    if (memo.seal.is_signed && (!known || !same_receipt_key)) {
        memo_record_t *record = &a->fresh[a->fresh_count++];
        memo_key(record->key, u->report_id);
        memo_encode(&memo, record);
    }
    return engine_result_set_provenance(a->result, u->unit->code, &p);
}

static int provenance_fn(store_txn_t *txn, void *arg)
{
    struct provenance_arg *a = arg;
    a->fresh_count = 0;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < engine_result_unit_count(a->result); i++) {
        const engine_unit_result_t *u = engine_result_unit(a->result, i);
        if (u->report_id[0])
            rc = provenance_of_unit(a, txn, u);
    }
    return rc;
}

static int remember_fn(store_txn_t *txn, void *arg)
{
    struct provenance_arg *a = arg;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < a->fresh_count; i++)
        rc = store_put(txn, a->self->store, DB_META, a->fresh[i].key, strlen(a->fresh[i].key),
                       a->fresh[i].value, a->fresh[i].len, 0);
    return rc;
}

int tier_attach_provenance(tier_t *self, engine_result_t *result)
{
    size_t units = engine_result_unit_count(result);
    struct provenance_arg arg = {self, result, codec_arena_new(64u << 10, NULL),
                                 calloc(units ? units : 1, sizeof(memo_record_t)), 0};
    int rc = arg.arena && arg.fresh ? store_read(self->store, provenance_fn, &arg) : SF_ENOMEM;
    /* Only a cost saved next time: an evaluation does not fail for it. */
    int kept = rc == 0 && arg.fresh_count ? store_write(self->store, remember_fn, &arg) : 0;
    if (kept)
        slog_warn("cannot remember the checked signatures of %zu report(s): %s", arg.fresh_count,
                  sf_strerror(kept));
    codec_arena_destroy(&arg.arena);
    free(arg.fresh);
    return rc;
}
