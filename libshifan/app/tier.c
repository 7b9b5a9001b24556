/* tier.c - the tier's context: role, code, the programme in force and the
 * standards it replaced, and the helpers every tier file uses. The policy
 * itself is in tier_programme.c, tier_inspections.c, tier_returns.c,
 * tier_evaluation.c and tier_recommend.c.
 *
 * Every change that crosses a link is written with its outbox entries in
 * one transaction: a hub that stores an inspection queues its forward in
 * the same commit; a published programme is queued to every child in the
 * commit that stores it. */
#include "app/tier_internal.h"
#include "base/msg.h"
#include "base/error.h"
#include "base/slog.h"
#include "storage/records.h"
#include "transport/link.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

tier_t *tier_new(tier_role_t role, const char *code, uint64_t series, store_t *store,
                 sf_error_t *error)
{
    tier_t *self = calloc(1, sizeof *self);
    if (!self) {
        sf_error_set(error, SF_ENOMEM, msg("out of memory"));
        return NULL;
    }
    self->role = role;
    snprintf(self->code, sizeof self->code, "%s", code);
    self->series = series;
    self->store = store;
    self->ranked_generation = UINT64_MAX; /* a daemon ranks once at start */
    /* The programme stored here (published to us, or given at init) if any;
     * the embedded default is parsed only when there is none. */
    tier_programme_reload(self, false);
    if (!self->programme && !(self->programme = programme_load_default(NULL))) {
        sf_error_set(error, SF_ENOMEM, msg("cannot load the programme"));
        tier_destroy(&self);
    }
    return self;
}

static void forget_earlier_standards(tier_t *self)
{
    for (size_t i = 0; self->earlier_standards[i]; i++) {
        free(self->earlier_standards[i]);
        self->earlier_standards[i] = NULL;
    }
}

void tier_rank_cache_drop(tier_t *self)
{
    struct tier_rank_cache *c = self->rank_cache;
    if (!c)
        return;
    engine_input_destroy(&c->input);
    free(c->keys);
    free(c->fresh);
    free(c);
    self->rank_cache = NULL;
}

void tier_destroy(tier_t **self_p)
{
    tier_t *self = *self_p;
    if (!self)
        return;
    tier_rank_cache_drop(self);
    programme_destroy(&self->programme);
    forget_earlier_standards(self);
    free(self);
    *self_p = NULL;
}

tier_role_t tier_role(const tier_t *self)
{
    return self->role;
}

const char *tier_code(const tier_t *self)
{
    return self->code;
}

const programme_t *tier_programme(const tier_t *self)
{
    return self->programme;
}

const char *const *tier_earlier_standards(const tier_t *self)
{
    return (const char *const *)self->earlier_standards;
}

const char *tier_programme_root(const programme_t *programme)
{
    for (size_t i = 0; i < programme_unit_count(programme); i++)
        if (programme_unit(programme, i)->parent < 0)
            return programme_unit(programme, i)->code;
    return "";
}

int tier_refuse(char *why, size_t whysize, const char *fmt, const char *a, const char *b)
{
    snprintf(why, whysize, fmt, a, b);
    slog_warn("refused: %s", why);
    return LINK_REFUSED;
}

int tier_touch_data(tier_t *self, store_txn_t *txn)
{
    return records_counter_bump(txn, self->store, META_DATA_GENERATION);
}

struct generation_read {
    tier_t *self;
    uint64_t generation;
};

static int data_generation_fn(store_txn_t *txn, void *arg)
{
    struct generation_read *a = arg;
    store_get_u64(txn, a->self->store, DB_META, META_DATA_GENERATION, &a->generation);
    return 0;
}

int tier_data_generation(tier_t *self, uint64_t *generation)
{
    struct generation_read arg = {self, 0};
    int rc = store_read(self->store, data_generation_fn, &arg);
    if (rc == 0)
        *generation = arg.generation;
    return rc;
}

struct each_child_arg {
    tier_t *self;
    store_txn_t *txn;
    tier_child_fn fn;
    void *arg;
};

static int each_child_one(const void *key, size_t klen, const void *value, size_t vlen, void *arg)
{
    struct each_child_arg *a = arg;
    (void)value, (void)vlen;
    char code[PROGRAMME_CODE_MAX];
    if (klen >= sizeof code)
        return 0;
    memcpy(code, key, klen);
    code[klen] = '\0';
    return a->fn(a->self, a->txn, code, a->arg);
}

int tier_each_child(tier_t *self, store_txn_t *txn, tier_child_fn fn, void *arg)
{
    struct each_child_arg each = {self, txn, fn, arg};
    return store_each(txn, self->store, DB_CHILDREN, NULL, 0, each_child_one, &each);
}

/* ---- the programme in force ---- */

struct stored_programme {
    tier_t *self;
    programme_t *programme;
    sf_error_t error;
};

static int read_programme_fn(store_txn_t *txn, void *arg)
{
    struct stored_programme *a = arg;
    const void *value;
    size_t len;
    int rc = store_get(txn, a->self->store, DB_PROGRAMMES, TIER_PROGRAMME_KEY,
                       strlen(TIER_PROGRAMME_KEY), &value, &len);
    if (rc)
        return rc;
    Shifan__Payload *payload = codec_payload_unpack(value, len);
    if (!payload || payload->body_case != SHIFAN__PAYLOAD__BODY_PROGRAMME) {
        codec_payload_free(payload);
        return SF_ECORRUPT;
    }
    const Shifan__Programme *programme = payload->programme;
    /* Cheap check first: most calls find the programme in use. */
    if (a->self->programme && programme->revision == programme_revision(a->self->programme) &&
        strcmp(programme->programme_id, programme_id(a->self->programme)) == 0) {
        codec_payload_free(payload);
        return SF_EEXIST;
    }
    a->programme = programme_load_json((const char *)programme->document.data,
                                       programme->document.len, "published programme", &a->error);
    codec_payload_free(payload);
    return a->programme ? 0 : SF_ECORRUPT;
}

/* DB_META "earlier_standards": the standard ids of programmes replaced here,
 * one per line, newest last, at most TIER_EARLIER_STANDARDS_MAX. */
static int read_earlier_fn(store_txn_t *txn, void *arg)
{
    tier_t *self = arg;
    char list[TIER_EARLIER_STANDARDS_MAX * PROGRAMME_ID_MAX];
    int rc = store_get_string(txn, self->store, DB_META, META_EARLIER_STANDARDS, list, sizeof list);
    forget_earlier_standards(self);
    if (rc)
        return rc == SF_ENOTFOUND ? 0 : rc;
    size_t n = 0;
    for (char *save = NULL, *line = strtok_r(list, "\n", &save);
         line && n < TIER_EARLIER_STANDARDS_MAX; line = strtok_r(NULL, "\n", &save))
        if ((self->earlier_standards[n] = strdup(line)))
            n++;
    return 0;
}

int tier_programme_reload(tier_t *self, bool announce)
{
    struct stored_programme arg = {self, NULL, {0, ""}};
    int rc = store_read(self->store, read_programme_fn, &arg);
    if (rc == SF_ENOTFOUND || rc == SF_EEXIST)
        return 0;
    if (rc) {
        slog_error("the stored programme cannot be used (%s); keeping %s", arg.error.text,
                   self->programme ? programme_id(self->programme) : "none");
        return rc;
    }
    if (self->programme && announce)
        slog_info(
            "programme %s revision %llu now in use (was %s revision %llu)",
            programme_id(arg.programme), (unsigned long long)programme_revision(arg.programme),
            programme_id(self->programme), (unsigned long long)programme_revision(self->programme));
    tier_rank_cache_drop(self); /* its input points into the programme */
    programme_destroy(&self->programme);
    self->programme = arg.programme;
    /* Standards are remembered only when a programme is stored, so a node
     * with none stored (tier_new loads it here first) has none. */
    store_read(self->store, read_earlier_fn, self);
    return 1;
}

bool tier_programme_pending(tier_t *self, store_txn_t *txn)
{
    const void *value;
    size_t len;
    if (store_get(txn, self->store, DB_PROGRAMMES, TIER_PROGRAMME_KEY, strlen(TIER_PROGRAMME_KEY),
                  &value, &len) != 0)
        return false;
    Shifan__Payload *stored = codec_payload_unpack(value, len);
    bool newer = stored && stored->body_case == SHIFAN__PAYLOAD__BODY_PROGRAMME &&
                 stored->programme->revision > programme_revision(self->programme);
    codec_payload_free(stored);
    return newer;
}

void tier_set_signer(tier_t *self, const uint8_t public_key[CODEC_SIGN_PUBLIC_BYTES],
                     const uint8_t secret_key[CODEC_SIGN_SECRET_BYTES])
{
    self->sign_public = public_key;
    self->sign_secret = secret_key;
}

int tier_sign(const tier_t *self, uint8_t **bytes, size_t *len)
{
    if (!self->sign_secret)
        return 0;
    uint8_t *signed_bytes = NULL;
    size_t signed_len = 0;
    int rc = codec_payload_sign(*bytes, *len, self->code, self->sign_public, self->sign_secret,
                                &signed_bytes, &signed_len);
    free(*bytes);
    *bytes = rc ? NULL : signed_bytes;
    *len = rc ? 0 : signed_len;
    return rc;
}
