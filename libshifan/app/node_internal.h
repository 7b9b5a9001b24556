/* node_internal.h - what node.c and tier.c share; not part of the library's
 * public interface. */
#ifndef SHIFAN_NODE_INTERNAL_H
#define SHIFAN_NODE_INTERNAL_H

#include "transport/codec.h"
#include "transport/keys.h"
#include "transport/link.h"
#include "transport/zap.h"
#include "app/node.h"

#define UP_STREAM "up"
#define PATH_MAX_LEN 4096
#define META_DATA_GENERATION "data_generation"
/* Bytes of reports and inspections one child may make us store per unit of
 * its area and programme year (a county's report is about 4 KB: 1,000
 * versions per unit-year). */
#define NODE_CHILD_BYTES_PER_UNIT ((uint64_t)4 << 20)
#define NODE_EARLIER_STANDARDS_MAX 16
#define META_UPSTREAM_GENERATION "upstream_generation"

struct node {
    node_role_t role;
    char dir[PATH_MAX_LEN];
    char code[PROGRAMME_CODE_MAX];
    char listen[256];
    char upstream[256];
    char upstream_key[KEYS_Z85_LEN + 1];
    keys_pair_t keys;
    store_t *store;
    programme_t *programme;
    /* daemon only */
    void *ctx;
    zap_t *zap;
    link_server_t *server;
    link_client_t *client;
    uint64_t keys_generation;
    uint64_t series; /* numbering series of what this node originates (its init time) */
    struct {
        char code[PROGRAMME_CODE_MAX];
        uint64_t limit;
    } quota_cache[64]; /* per child: bytes it may make us store per year */
    size_t quota_cached;
    uint64_t child_bytes_per_unit; /* NODE_CHILD_BYTES_PER_UNIT, or the environment's */
    /* Standard ids of programmes this node's programme replaced (DB_META
     * "earlier_standards"), NULL-terminated: reports made under them are
     * still admitted (admission.h). */
    char *earlier_standards[NODE_EARLIER_STANDARDS_MAX + 1];
    codec_arena_t *arena;       /* decoding on the apply path (daemon thread only) */
    uint64_t ranked_generation; /* hub: data_generation last ranked */
    uint64_t seen_generation;   /* hub: data_generation last seen changing */
    int64_t seen_changed_ms, ranked_ms;
    /* county, hub daemon: the parent it follows, how long out of reach */
    uint64_t upstream_generation;  /* meta upstream_generation the client was made for */
    int64_t unreachable_after_ms;  /* warn after this long without the link up */
    int64_t link_down_since_ms;    /* monotonic; 0 while the link is up */
    int64_t link_down_since;       /* the same moment, wall clock */
    int64_t unreachable_warned_ms; /* last warning of this outage, monotonic; 0: none */
};

void node_path_join(char *out, const char *dir, const char *name);
const char *node_programme_root(const programme_t *programme);

/* DB_LATEST: the latest version (and its id) of a unit-year. */
int node_latest_get(store_txn_t *txn, store_t *store, const char *unit, int year, uint32_t *version,
                    char *report_id, size_t idsize);
/* Stores a report payload unless its id is known; *stored says if it was new. */
int node_report_store(store_txn_t *txn, store_t *store, const Shifan__Report *report,
                      const uint8_t *payload, size_t len, bool *stored);
/* Logs a refusal and returns LINK_REFUSED with the reason in why. */
int node_refuse(char *why, size_t whysize, const char *fmt, const char *a, const char *b);
/* Bumps the counter the hub's daemon watches to re-rank its counties. */
int node_touch_data(store_txn_t *txn, node_t *self);

/* tier.c: the policy for programmes, inspections, returns and
 * recommendations as they arrive, and the hub's automatic ranking. */
/* Loads the stored programme if it is newer; announce logs the switch. */
int tier_programme_reload(node_t *self, bool announce);
/* The Programme payload of a loaded programme (malloc'd bytes). */
int tier_programme_payload(const programme_t *programme, uint8_t **bytes, size_t *len);
/* Stores a Programme payload as the node's programme (newer revisions only;
 * *newer says if it was stored). */
int tier_store_programme(store_t *store, store_txn_t *txn, const uint8_t *bytes, size_t len,
                         bool *newer);
int tier_queue_programme(node_t *self, store_txn_t *txn, const char *child);
/* True if a newer programme revision is stored than the one loaded: what
 * it alone would accept must wait (LINK_LATER), not be refused. */
bool tier_programme_pending(node_t *self, store_txn_t *txn);
/* Queues to a new child its part of every evaluation published here. */
int tier_queue_evaluations(node_t *self, store_txn_t *txn, const char *child);
int tier_apply_programme(node_t *self, store_txn_t *txn, const Shifan__Payload *payload,
                         const uint8_t *raw, size_t len, char *why, size_t whysize);
int tier_apply_return_from_child(node_t *self, store_txn_t *txn, const char *peer,
                                 const Shifan__Payload *payload, const uint8_t *raw, size_t len,
                                 char *why, size_t whysize);
int tier_apply_recommendation(node_t *self, store_txn_t *txn, const char *peer,
                              const Shifan__Payload *payload, const uint8_t *raw, size_t len,
                              char *why, size_t whysize);
/* A published evaluation from the parent: kept, and a hub passes each
 * county its part. */
int tier_apply_evaluation(node_t *self, store_txn_t *txn, const Shifan__Payload *payload, char *why,
                          size_t whysize);

/* Hub daemon: re-ranks when the data changed and queues a provisional
 * recommendation upward for every year whose list changed. */
void tier_auto_recommend(node_t *self);

#endif
