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
    int64_t rank_cost_ms; /* how long the last ranking took */
};

typedef int (*tier_child_fn)(tier_t *self, store_txn_t *txn, const char *code, void *arg);

/* Calls fn for every registered child, in code order, inside txn, until fn
 * returns non-zero (returned). fn may write to databases other than
 * DB_CHILDREN. */
int tier_each_child(tier_t *self, store_txn_t *txn, tier_child_fn fn, void *arg);

/* Everything stored here, as engine input (read once, evaluated per year);
 * NULL with err on failure. */
engine_input_t *tier_load_input(tier_t *self, char *err, size_t errsize);

#endif
