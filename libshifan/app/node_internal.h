/* node_internal.h - what the files of the node module (node*.c) share: the
 * node's state and a few helpers over it. Nothing else includes it: the
 * programs, cli and tier see node.h (and tier.h) only.
 *
 *   node.c         init, open, allow/revoke, set-upstream, submit, the tier's verbs
 *   node_apply.c   the link hooks: what arrives (one dispatch), refusals, resyncs
 *   node_daemon.c  run: signals, lock, sockets, the loop, the parent it follows,
 *                  run/status.json
 *   node_status.c  status and list, as typed results
 *   node_package.c export-package, import-package (docs/packages.md)
 *   node_backup.c  backup: a copy of the store and the keys beside the daemon */
#ifndef SHIFAN_NODE_INTERNAL_H
#define SHIFAN_NODE_INTERNAL_H

#include "app/node.h"
#include "app/tier.h"
#include "transport/codec.h"
#include "transport/keys.h"
#include "transport/link.h"
#include "transport/sign.h"
#include "transport/zap.h"

#define UP_STREAM "up"
#define PATH_MAX_LEN 4096
#define META_UPSTREAM_GENERATION "upstream_generation"
#define META_PROVINCE_FINGERPRINT "province_fingerprint" /* given at init: the root's key */
#define META_KEY_CONFIRMED "key_confirmed"               /* hex key the province holds for us */
#define META_KEY_CONFIRMED_AT "key_confirmed_at"         /* since when, as the province says */
#define META_SIGN_PIN_PREFIX "sign_pin/"     /* + child: key given at allow --sign-key */
#define META_SIGN_ANNOUNCED "sign_announced" /* hex of our key the parent was sent */
#define META_KEY_ANNOUNCEMENT_PREFIX "key_announcement/" /* + unit: its signed announcement */
/* Bytes of reports and inspections one child may make us store per unit of
 * its area and programme year (a county's report is about 4 KB: 1,000
 * versions per unit-year). */
#define NODE_CHILD_BYTES_PER_UNIT ((uint64_t)4 << 20)

struct node {
    node_role_t role;
    char dir[PATH_MAX_LEN];
    char code[PROGRAMME_CODE_MAX];
    char listen[256];
    char upstream[256];
    char upstream_key[KEYS_Z85_LEN + 1];
    keys_pair_t keys;
    sign_pair_t sign; /* the signing pair beside the CURVE one (docs/signing.md) */
    store_t *store;
    tier_t *tier; /* the tier's policy and the programme in force */
    /* daemon only */
    void *ctx;
    zap_t *zap;
    link_server_t *server;
    link_client_t *client;
    struct http *http; /* the console's server (run --http), borrowed; NULL: none */
    uint64_t keys_generation;
    uint64_t series; /* numbering series of what this node originates (its init time) */
    struct {
        char code[PROGRAMME_CODE_MAX];
        uint64_t limit;
    } quota_cache[64]; /* per child: bytes it may make us store per year */
    size_t quota_cached;
    uint64_t child_bytes_per_unit; /* NODE_CHILD_BYTES_PER_UNIT, or the environment's */
    codec_arena_t *arena;          /* decoding on the apply path (daemon thread only) */
    /* county, hub daemon: the parent it follows, how long out of reach */
    uint64_t upstream_generation;  /* meta upstream_generation the client was made for */
    int64_t unreachable_after_ms;  /* warn after this long without the link up */
    int64_t link_down_since_ms;    /* monotonic; 0 while the link is up */
    int64_t link_down_since;       /* the same moment, wall clock */
    int64_t unreachable_warned_ms; /* last warning of this outage, monotonic; 0: none */
    /* parent daemon: when each child's session opened (node_on_hello) */
    struct {
        char code[PROGRAMME_CODE_MAX];
        int64_t since;
    } * sessions;
    size_t sessions_count, sessions_cap;
    uint64_t rotation_pending; /* county: a CURVE key switch waits (node_rotate.c) */
};

/* dir/name into out (PATH_MAX_LEN bytes); "" if it does not fit. */
void node_path_join(char *out, const char *dir, const char *name);
/* A county reports for its own unit (or its sites): an empty unit becomes
 * the node's code; another unit is SF_EINVAL with err (node.c). */
int node_own_unit(const node_t *self, report_t *report, char *err, size_t errsize);

/* node.c: stores a report payload (already carrying this node's receipt)
 * unless its id is known; *stored says whether it was new. */
int node_report_store(store_txn_t *txn, store_t *store, const Shifan__Report *report,
                      const uint8_t *payload, size_t len, bool *stored);

/* node_apply.c: the hooks the daemon gives its links (transport/link.h). */
int node_apply(void *arg, store_txn_t *txn, const char *peer, const uint8_t *bytes, size_t len,
               char *why, size_t whysize);
int node_on_refused(void *arg, store_txn_t *txn, const char *peer, uint64_t epoch, uint64_t seq,
                    const uint8_t *payload, size_t len, int reason, const char *why);
int node_resync_child(void *arg, store_txn_t *txn, const char *peer);
int node_resync_parent(void *arg, store_txn_t *txn);
bool node_admit(void *arg, const char *code, const char *key_z85);

/* node_keys.c: signing keys at work (docs/signing.md). */
/* Queues our signing key to the parent unless it was (county, hub). */
int node_announce_key(node_t *self, int64_t now);
/* Whether an admitted item is signed as it must be: 0, or LINK_REFUSED
 * with why; may learn the province's (or the hub's) key from the parent. */
int node_check_signature(node_t *self, store_txn_t *txn, const char *peer,
                         const Shifan__Payload *payload, const codec_seal_t *seal, int64_t now,
                         char *why, size_t whysize);
/* A KeyAnnouncement from a child: registered, passed on (hub) or
 * confirmed (province); 0 or LINK_REFUSED. */
int node_apply_key(node_t *self, store_txn_t *txn, const char *peer, const Shifan__Payload *payload,
                   const codec_seal_t *seal, const uint8_t *bytes, size_t len, int64_t now,
                   char *why, size_t whysize);
/* A KeyConfirmation from the parent: ours is recorded, a child's passed down. */
int node_apply_key_confirmation(node_t *self, store_txn_t *txn, const Shifan__Payload *payload,
                                const uint8_t *bytes, size_t len);
/* The latest time peer claimed for an item it made (submitted_at,
 * made_at, ...) among those that arrived here (0: none), and its update
 * after an item applied (given the value read before it, so the store is
 * read once per item); since when peer's session is open in this daemon
 * (0: not known). A receipt carries the first two (docs/signing.md). */
int64_t node_claimed_before(node_t *self, store_txn_t *txn, const char *peer);
int node_claimed_note(node_t *self, store_txn_t *txn, const char *peer,
                      const Shifan__Payload *payload, int64_t before);
int64_t node_session_since(const node_t *self, const char *peer);
/* node_rotate.c: at open, finishes a rotation that stopped half-way; a
 * county daemon's tick switches to the new CURVE key once the parent has
 * it (its announcement acknowledged, or the old key refused). */
int node_rotate_resume(node_t *self, char *err, size_t errsize);
int node_rotate_curve_step(node_t *self, bool key_refused, bool *switched);

/* Link hook: a child's Hello was applied. */
int node_on_hello(void *arg, store_txn_t *txn, const char *peer);

#endif
