/* tier_rank.c - the hub's ranking input, kept between rankings.
 *
 * Ranking used to decode every stored report each time (protobuf, then a
 * report_t, then the engine's form: about 100,000 instructions a report),
 * so a hub holding a backlog spent most of its CPU re-reading what it had
 * read before. A stored report never changes and is never removed
 * (records_report_store puts with STORE_NOOVERWRITE), so the input of the
 * last ranking stays right for every report it holds: the next ranking
 * walks the keys of DB_REPORTS beside the sorted keys it holds and decodes
 * only the new ones. Inspections, returns and recommendations can change
 * in place and are few: the cache keeps a digest of them, and loads
 * everything again when it differs. */
#include "app/tier_internal.h"
#include "base/msg.h"
#include "base/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* LMDB's default order: memcmp over the shorter length, then the shorter first. */
static int key_cmp(const tier_rank_key_t *a, const void *key, size_t klen)
{
    size_t n = a->len < klen ? a->len : klen;
    int c = memcmp(a->bytes, key, n);
    return c ? c : (a->len > klen) - (a->len < klen);
}

static bool known_fn(const void *key, size_t klen, void *arg)
{
    struct tier_rank_cache *c = arg;
    while (c->cursor < c->count && key_cmp(&c->keys[c->cursor], key, klen) < 0)
        c->cursor++;
    return c->cursor < c->count && key_cmp(&c->keys[c->cursor], key, klen) == 0;
}

static int loaded_fn(const void *key, size_t klen, void *arg)
{
    struct tier_rank_cache *c = arg;
    if (klen >= TIER_RANK_KEY_MAX)
        return SF_EINVAL; /* no report id is this long: do not cache a store we misread */
    if (c->fresh_count == c->fresh_cap) {
        size_t cap = c->fresh_cap ? 2 * c->fresh_cap : 1024;
        tier_rank_key_t *grown = realloc(c->fresh, cap * sizeof *grown);
        if (!grown)
            return SF_ENOMEM;
        c->fresh = grown, c->fresh_cap = cap;
    }
    tier_rank_key_t *k = &c->fresh[c->fresh_count++];
    k->len = (uint8_t)klen;
    memcpy(k->bytes, key, klen);
    return 0;
}

/* Merges the fresh keys into keys (both ascending, disjoint). */
static int merge_fresh(struct tier_rank_cache *c)
{
    if (c->fresh_count == 0)
        return 0;
    size_t total = c->count + c->fresh_count;
    tier_rank_key_t *merged = malloc(total * sizeof *merged);
    if (!merged)
        return SF_ENOMEM;
    size_t i = 0, j = 0, n = 0;
    while (i < c->count || j < c->fresh_count) {
        bool take_old =
            j == c->fresh_count ||
            (i < c->count && key_cmp(&c->keys[i], c->fresh[j].bytes, c->fresh[j].len) < 0);
        merged[n++] = take_old ? c->keys[i++] : c->fresh[j++];
    }
    free(c->keys);
    c->keys = merged, c->count = total;
    c->fresh_count = 0;
    return 0;
}

/* FNV-1a over the bytes, continuing from h. */
static uint64_t fnv(uint64_t h, const void *data, size_t len)
{
    const uint8_t *p = data;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 0x100000001b3ULL;
    return h;
}

struct digest_arg {
    const tier_t *self;
    store_db_t db;
    uint64_t h;
};

static int digest_one(const void *key, size_t klen, const void *value, size_t vlen, void *arg)
{
    struct digest_arg *a = arg;
    if (a->db == DB_RECOMMENDATIONS) {
        Shifan__Payload *payload = codec_payload_unpack(value, vlen);
        bool counts = payload && payload->body_case == SHIFAN__PAYLOAD__BODY_RECOMMENDATION &&
                      tier_recommendation_counts(a->self, payload->recommendation);
        codec_payload_free(payload);
        if (!counts)
            return 0;
    }
    uint64_t lens[3] = {a->db, klen, vlen};
    a->h = fnv(fnv(fnv(a->h, lens, sizeof lens), key, klen), value, vlen);
    return 0;
}

/* The digest of what a load takes besides reports. */
static int others_digest(const tier_t *self, store_txn_t *txn, uint64_t *digest)
{
    static const store_db_t dbs[] = {DB_INSPECTIONS, DB_RETURNS, DB_RECOMMENDATIONS};
    struct digest_arg a = {self, DB_INSPECTIONS, 0xcbf29ce484222325ULL};
    for (size_t i = 0; i < sizeof dbs / sizeof dbs[0]; i++) {
        a.db = dbs[i];
        int rc = store_each(txn, self->store, dbs[i], NULL, 0, digest_one, &a);
        if (rc)
            return rc;
    }
    *digest = a.h;
    return 0;
}

struct refresh_arg {
    tier_t *self;
    struct tier_rank_cache *cache;
};

/* Inside one read transaction: the digest, then either the new reports or
 * everything, into the cache's input. */
static int refresh_fn(store_txn_t *txn, void *arg)
{
    struct refresh_arg *a = arg;
    struct tier_rank_cache *c = a->cache;
    uint64_t digest;
    int rc = others_digest(a->self, txn, &digest);
    if (rc)
        return rc;
    bool full = !c->input || digest != c->digest;
    if (full) {
        engine_input_destroy(&c->input);
        c->count = c->fresh_count = 0;
        if (!(c->input = engine_input_new(a->self->programme, NULL)))
            return SF_ENOMEM;
    }
    c->cursor = 0;
    tier_load_watch_t watch = {full ? NULL : known_fn, loaded_fn, c};
    if ((rc = tier_load_into(a->self, txn, c->input, !full, &watch)))
        return rc;
    c->digest = digest;
    return merge_fresh(c);
}

const engine_input_t *tier_rank_input(tier_t *self, char *err, size_t errsize)
{
    if (!self->rank_cache && !(self->rank_cache = calloc(1, sizeof *self->rank_cache))) {
        snprintf(err, errsize, msg("out of memory"));
        return NULL;
    }
    struct refresh_arg arg = {self, self->rank_cache};
    int rc = store_read(self->store, refresh_fn, &arg);
    if (rc) {
        /* A load cut short leaves an input that lacks what it did not
         * reach: start again from nothing next time. */
        snprintf(err, errsize, msg("cannot read the store: %s"), sf_strerror(rc));
        tier_rank_cache_drop(self);
        return NULL;
    }
    return self->rank_cache->input;
}
