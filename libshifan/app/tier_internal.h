/* tier_internal.h - what the files of the tier module (tier*.c) share: the
 * tier's state and helpers over it. Nothing else includes it: node.c and
 * the programs see tier.h only. */
#ifndef SHIFAN_TIER_INTERNAL_H
#define SHIFAN_TIER_INTERNAL_H

#include "app/tier.h"

#define TIER_PROGRAMME_KEY "programme"
#define TIER_UP_STREAM "up"
#define META_DATA_GENERATION "data_generation"
#define META_EARLIER_STANDARDS "earlier_standards"

/* The hub's ranking input, kept between rankings (filled by tier_rank.c,
 * freed by tier.c). Keys are those of DB_REPORTS: report ids, at most 63
 * bytes. */
#define TIER_RANK_KEY_MAX 64
typedef struct {
    uint8_t len;
    char bytes[TIER_RANK_KEY_MAX];
} tier_rank_key_t;

struct tier_rank_cache {
    engine_input_t *input;
    uint64_t digest;       /* of inspections, returns and counted recommendations */
    tier_rank_key_t *keys; /* of the reports in input, ascending (memcmp, then length) */
    size_t count;
    tier_rank_key_t *fresh; /* keys added by the running load, ascending */
    size_t fresh_count, fresh_cap;
    size_t cursor; /* the running load's position in keys */
};

struct tier {
    tier_role_t role;
    char code[PROGRAMME_CODE_MAX];
    uint64_t series;
    store_t *store;         /* borrowed */
    programme_t *programme; /* in force */
    char *earlier_standards[TIER_EARLIER_STANDARDS_MAX + 1];
    /* hub daemon: the ranking (tier_recommend.c) */
    uint64_t ranked_generation; /* data_generation last ranked */
    uint64_t seen_generation;   /* data_generation last seen changing */
    int64_t seen_changed_ms, ranked_ms;
    int64_t rank_cost_ms;               /* how long the last ranking took */
    struct tier_rank_cache *rank_cache; /* its input, kept between rankings (tier_rank.c) */
    const uint8_t *sign_public;         /* the node's signing pair (borrowed); NULL: sign nothing */
    const uint8_t *sign_secret;
};

typedef int (*tier_child_fn)(tier_t *self, store_txn_t *txn, const char *code, void *arg);

/* Calls fn for every registered child, in code order, inside txn, until fn
 * returns non-zero (returned). fn may write to databases other than
 * DB_CHILDREN. */
int tier_each_child(tier_t *self, store_txn_t *txn, tier_child_fn fn, void *arg);

/* Everything stored here, as engine input (read once, evaluated per year);
 * NULL with err on failure. */
engine_input_t *tier_load_input(tier_t *self, char *err, size_t errsize);

/* Called with the key of every record of DB_REPORTS that a load adds to the
 * input, in key order; non-zero stops the load. */
typedef int (*tier_loaded_fn)(const void *key, size_t klen, void *arg);
/* A report the load skips: true if key is in the input already. */
typedef bool (*tier_known_fn)(const void *key, size_t klen, void *arg);
typedef struct {
    tier_known_fn known; /* NULL: every report is new */
    tier_loaded_fn loaded;
    void *arg;
} tier_load_watch_t;

/* Adds to input, inside txn, what the store holds: with reports_only, the
 * records of DB_REPORTS alone, else also inspections, returns and
 * recommendations. watch (may be NULL) sees each report key. */
int tier_load_into(tier_t *self, store_txn_t *txn, engine_input_t *input, bool reports_only,
                   const tier_load_watch_t *watch);

/* Attaches to result the provenance of every counted version in its scope
 * (tier_provenance.c): signature, registered key, the hub's receipt and the
 * rule of docs/signing.md "Time you can check". One read transaction. 0 or
 * the store's error, SF_ENOMEM. */
int tier_attach_provenance(tier_t *self, engine_result_t *result);

/* True if an evaluation here takes this stored recommendation into account. */
bool tier_recommendation_counts(const tier_t *self, const Shifan__Recommendation *rec);

/* The hub's ranking input (tier_rank.c): what the store holds, loaded once,
 * then brought up to date by decoding only the reports stored since (a
 * stored report is never changed or removed); loaded again in full when the
 * inspections, returns or confirmed recommendations differ from those it
 * holds. Borrowed: valid until the next call, tier_rank_cache_drop() or
 * tier_destroy(). NULL with err on failure (the cache is dropped). */
const engine_input_t *tier_rank_input(tier_t *self, char *err, size_t errsize);
/* Frees the ranking's kept input: before the programme it points to goes. */
void tier_rank_cache_drop(tier_t *self);

#endif
