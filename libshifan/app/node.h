/* node.h - one Shifan node: its data directory, its store, its keys, its
 * link(s) and its tier's policy for what arrives.
 *
 * A data directory holds store/ (the LMDB environment, docs/storage.md),
 * keys/ (node.secret 0600, node.public) and run/ (the daemon's lock and
 * status file). Every verb opens the node, does one short transaction and
 * closes it, so verbs work whether or not the daemon runs (offline first);
 * the daemon notices new outbox entries within LINK tick time (100 ms).
 *
 * Roles: a county connects up; a prefecture hub listens for counties and
 * connects up; the province listens. What each role accepts from a peer is
 * checked here against the programme's hierarchy: a key may speak only for
 * its own unit and the units under it.
 *
 * Durability: a verb that changes state (allow, revoke, set-upstream,
 * submit, return, publish, inspect, recommend --confirm, publishing an
 * evaluation, applying a payload) writes each change together with its
 * outbox entries in one store_write: when it returns 0 they are fsync'd
 * (store.h), and a failed transaction left nothing of itself behind.
 *
 * Ownership: the caller owns a node_t (node_open, node_destroy) and every
 * result handed out (node_status_t, node_versions_t, recommendations, an
 * engine result, a published document: each with its destroy function, or
 * free). Strings and the programme the accessors return are borrowed from
 * the node: valid until node_destroy (the programme: until the next
 * node_programme_reload).
 *
 * Threads: a node_t is used from one thread, as its store. Other processes
 * may open the same data directory at the same time (a verb beside the
 * daemon): LMDB serialises their writes.
 *
 * Time: each verb reads the clock once (stime_now: SHIFAN_NOW honoured) and
 * hands it to the tier, so one operation sees one "now".
 *
 * Errors: 0 or a negative sf_err_t; SF_EINVAL (with a sentence in err) for
 * anything the user must fix, other codes (with a sentence in err where the
 * function takes one) for what the node could not do. Constructors follow
 * error.h's shape. */
#ifndef SHIFAN_NODE_H
#define SHIFAN_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/store.h"
#include "domain/programme.h"
#include "domain/report.h"
#include "domain/verdict.h"
#include "app/tier.h"

/* ROLE_COUNTY, ROLE_PREFECTURE, ROLE_PROVINCE (tier.h). */
typedef tier_role_t node_role_t;
const char *node_role_name(node_role_t role);

typedef struct node node_t;

typedef struct {
    node_role_t role;
    const char *code;         /* NULL for the province: the programme's root */
    const char *listen;       /* prefecture, province */
    const char *upstream;     /* county, prefecture */
    const char *upstream_key; /* Z85 */
    const char *programme;    /* a programme file; NULL: the embedded default */
} node_init_options_t;

/* Creates a node in data_dir (created if missing, must be empty of a node):
 * directories, its CURVE and signing key pairs, and its configuration in one durable
 * transaction. On failure err says why: SF_EINVAL (bad options or
 * programme), SF_EEXIST (a node is there already), SF_EIO or SF_ENOSPC
 * (directories, keys), or the store's error. */
int node_init(const char *data_dir, const node_init_options_t *options, char *err, size_t errsize);

/* Opens an initialised node of the given role; a directory without a
 * signing pair (made before them) gets one, logged. NULL with error set:
 * SF_ESTATE (no node there: run init), SF_EINVAL (a node of another role),
 * SF_ENOMEM, or the store's or key files' error. */
node_t *node_open(const char *data_dir, node_role_t role, sf_error_t *error);
/* Closes the node and sets *self_p to NULL (NULL is fine). */
void node_destroy(node_t **self_p);

/* Accessors: never fail. */
node_role_t node_role(const node_t *self);
const char *node_code(const node_t *self);
const char *node_public_key(const node_t *self);
/* The node's Ed25519 signing public key (32 bytes; transport/sign.h). */
const uint8_t *node_sign_public_key(const node_t *self);
const programme_t *node_programme(const node_t *self);
store_t *node_store(node_t *self);

/* Registers a child's key (hub, province). SF_EINVAL with err for an unknown
 * or foreign code, a malformed key or one registered to another unit; the
 * store's error with err. A new key for a code replaces the old. */
int node_allow(node_t *self, const char *code, const char *key, char *err, size_t errsize);
/* After node_allow: the signing key (64 hex digits, as the child's `key`
 * prints it) the child's announcement must bring (docs/signing.md);
 * SF_EINVAL with err for a malformed key. */
int node_allow_sign_key(node_t *self, const char *code, const char *hex, char *err, size_t errsize);
/* County, hub: a new signing key (a county also a new CURVE key), queued
 * to the parent signed by the old key and the new; the node signs with the
 * new one at once, and a county connects with its new CURVE key once the
 * parent has it. The queue is kept. fingerprint_out (SIGN_FINGERPRINT_LEN
 * + 1 bytes) gets the new key's fingerprint. SF_EINVAL at the province. */
int node_rotate_keys(node_t *self, char *fingerprint_out, size_t size, char *err, size_t errsize);

/* County, hub: the fingerprint of the province's signing key, read out of
 * band (docs/signing.md); a province key that does not match it is never
 * taken. SF_EINVAL with err for a malformed one. */
int node_set_province_fingerprint(node_t *self, const char *fingerprint, char *err, size_t errsize);

/* Removes a child's key (hub, province): within a second the daemon refuses
 * its handshakes and the frames of a session it already holds. Its signing
 * key is revoked from `since` (unix seconds; 0: now): what it signed
 * before stays valid, what it signed later is refused (docs/signing.md).
 * At the province a county's code revokes only its signing key. What the
 * child sent before stays; its queue stays with it. SF_EINVAL if the code
 * has no key here; the store's error with err. */
int node_revoke(node_t *self, const char *code, int64_t since, char *err, size_t errsize);

/* County or hub: points the node at another parent (moved, or re-keyed).
 * Checks endpoint and key as node_init does (SF_EINVAL with err; nothing
 * changes) and writes both to DB_META in one durable transaction; the
 * queue and every stream stay, so delivery resumes at the new parent from
 * where the old one left off (the new parent must have allowed this key).
 * A running daemon switches within a second. The province has none:
 * SF_EINVAL. The store's error with err (nothing changed). */
int node_set_upstream(node_t *self, const char *endpoint, const char *key, char *err,
                      size_t errsize);
/* The parent's endpoint and public key as stored ("" on the province). */
const char *node_upstream(const node_t *self);
const char *node_upstream_key(const node_t *self);

/* County: stores a validated report as the next version of its unit-year
 * and queues it upward, in one durable transaction. Fills report_id,
 * version, submitted_at, origin and standard_id of the report. SF_EINVAL
 * with err (not a county, another unit, a report the programme refuses);
 * the store's error with err ("the report was NOT stored"). */
int node_submit(node_t *self, report_t *report, char *err, size_t errsize);
/* The same for many reports in one transaction (one fsync for all): a batch
 * import, or the benchmark. All or nothing. */
int node_submit_many(node_t *self, report_t **reports, size_t count, char *err, size_t errsize);

/* County: what submit would check, and the engine's verdict of the report
 * alone as if submitted now (verdict.h), with nothing stored: the unit
 * defaults to the node's and must be its own (or a site under it). Returns
 * 0 and a new check in *check (the caller destroys it with
 * verdict_check_destroy), or SF_EINVAL with err (not a county, another
 * unit, a report the programme refuses), SF_ENOMEM. */
int node_check(node_t *self, report_t *report, verdict_check_t **check, char *err, size_t errsize);

/* Hub: queues a return-for-correction of the unit's latest report down to
 * the county (and up to the province). SF_EINVAL with err if this is no hub,
 * the unit is not under it, the reason is empty or no report of that
 * unit-year is stored; the store's error with err. */
int node_return(node_t *self, const char *unit, int year, const char *reason, char *err,
                size_t errsize);

/* Province: publishes a programme file to every prefecture and, through
 * them, every county (now and whenever one comes online later). Its
 * revision must exceed the current one: SF_EINVAL with err otherwise, or
 * for a file that is no programme of this province; the store's error
 * with err. */
int node_publish(node_t *self, const char *path, char *err, size_t errsize);

/* Hub or province: records its own values for a unit-year (an inspection,
 * same format as a report; only the criteria inspected need be given). A
 * hub forwards it upward. Fills report_id. SF_EINVAL with err for input
 * the programme refuses; the store's error with err ("NOT stored"). */
int node_inspect(node_t *self, report_t *inspection, char *err, size_t errsize);

/* Evaluates a year with everything stored here (the engine of engine.h).
 * scope: a unit, a prefecture or NULL for the whole programme. Reads only.
 * *result is the caller's (engine_result_destroy). SF_EINVAL with err for a
 * year outside the programme or an unknown scope; SF_ESTORE with err if
 * the store cannot be read. */
struct engine_result;
int node_evaluate(node_t *self, int year, const char *scope, struct engine_result **result,
                  char *err, size_t errsize);

/* Hub: the recommendation for a year, one list per quota holder in its area
 * (the prefecture itself, or each county when sites are evaluated). request
 * NULL (or without confirm) only shows it; with confirm, makes the current
 * rankings final and queues them upward, one durable transaction per list,
 * refused after the programme's recommendation deadline unless
 * override_deadline (then logged with operator_name: tier_recommend).
 * *lists is the caller's: node_recommendations_destroy. On failure *lists
 * is NULL and err says why (SF_EINVAL: not a hub, a year outside the
 * programme, a confirm past the deadline without override). */
typedef tier_recommendations_t node_recommendations_t;
typedef tier_recommend_request_t node_recommend_request_t;
int node_recommend(node_t *self, int year, const node_recommend_request_t *request,
                   node_recommendations_t **lists, char *err, size_t errsize);
void node_recommendations_destroy(node_recommendations_t **self_p);

/* Province: sends each prefecture the part of a year's evaluation result
 * (render_json) that concerns its area; hubs pass each county its part.
 * document is the whole result JSON. SF_EINVAL with err if this is not
 * the province or the document is not JSON; the store's
 * error with err. */
int node_publish_evaluation(node_t *self, int year, const char *document, char *err,
                            size_t errsize);

/* The evaluation of a year published to this node (the JSON document), or
 * NULL with a reason in err if none arrived. Caller frees. */
char *node_published_evaluation(node_t *self, int year, char *err, size_t errsize);

/* Applies one received item payload (a serialized Payload) as the link
 * would, in its own durable transaction: peer is the sending child's code,
 * or "" (or NULL) for the parent. Returns 0 (applied), a positive link
 * outcome (LINK_REFUSED: refused, with the reason in why) or a negative
 * sf_err_t. For tests and fuzzing; the daemon applies through its link. */
int node_apply_payload(node_t *self, const char *peer, const uint8_t *bytes, size_t len, char *why,
                       size_t whysize);

/* Switches to a newer programme stored here (the daemon does it every
 * second; a verb loads it at open). 0, or an error with the old one kept. */
int node_programme_reload(node_t *self, bool announce);

/* Runs the daemon until SIGTERM or SIGINT. http: the console's server
 * (app/console.h), served in the daemon's one loop, or NULL; borrowed, the
 * caller destroys it after node_run returned. Returns 0 on a clean stop;
 * SF_EEXIST if another daemon holds run/daemon.lock, SF_EIO if the lock or
 * the signal pipe cannot be made, the link's error if its sockets cannot
 * start, SF_ESTORE once the store reported MDB_PANIC (logged each time). */
struct http;
int node_run(node_t *self, struct http *http);

/* ---- status and list: typed results, rendered by the programs (cli_json.c) ---- */

/* The link to the parent as `status` shows it (county, hub). */
typedef struct {
    char state[32];            /* link_state_name(); "starting"/"stopped" without a live view */
    char upstream[256];        /* the parent's endpoint */
    int64_t last_contact;      /* unix seconds of the last frame from the parent; 0: never */
    int64_t unreachable_since; /* out of reach since (once warned about); 0: not */
    bool measured;             /* the running daemon's measurements below are set */
    uint64_t rate_bytes_per_s;
    int64_t round_trip_ms;
    uint64_t bytes_sent, bytes_resent, refused_by_parent, resyncs, restarts;
    char last_event[160]; /* the last restore/resync event; "": none */
} node_link_status_t;

/* One registered child as the running daemon's server sees it. */
typedef struct {
    char code[PROGRAMME_CODE_MAX];
    bool connected;
    int64_t last_contact; /* unix seconds; 0: never */
    uint64_t down_pending;
    uint64_t rate_bytes_per_s;
    int64_t round_trip_ms;
} node_child_status_t;

/* The running daemon's server (hub, province). */
typedef struct {
    node_child_status_t *children; /* owned by the node_status_t */
    size_t child_count;
    uint64_t dropped_frames, refused_items, refused_keys, sessionless_frames;
    char children_event[160];                                                 /* "": none */
    uint64_t down_bytes_sent, down_bytes_resent, down_resyncs, down_restarts; /* "downlinks" */
} node_server_status_t;

/* Signing keys (docs/signing.md): ours, what the province confirmed, the
 * province's key as held here. Fingerprints as sign.h prints them; "":
 * none. */
typedef struct {
    char fingerprint[24];
    char confirmed[24];       /* the key the province holds for us (county, hub) */
    int64_t confirmed_since;  /* as the province says */
    char province_key[24];    /* the province's key held here (county, hub) */
    bool province_key_pinned; /* its fingerprint was given at init */
    uint64_t keys_held;       /* signing keys registered here (every unit's, any state) */
} node_signing_status_t;

typedef struct {
    node_role_t role;
    char code[PROGRAMME_CODE_MAX];
    char programme[PROGRAMME_ID_MAX];
    uint64_t programme_revision;
    uint64_t reports, returns, refused; /* refused: items of ours a peer refused */
    uint64_t queued;                    /* county, hub: items not yet acknowledged upstream */
    /* County, hub: unix seconds since the oldest queued item waits (0: none,
     * or no time in it). Items carry no append time: this is when this
     * node stored it (its own receipt, a hub's forward), else the time the
     * item was made (a report's submitted_at, a return's returned_at, a
     * recommendation's or key announcement's made_at). */
    int64_t queue_oldest;
    uint64_t inspections, children_registered; /* hub, province */
    bool daemon_running;
    node_link_status_t link; /* county, hub */
    bool has_server;         /* hub, province whose running daemon wrote its view */
    node_server_status_t server;
    node_signing_status_t signing;
} node_status_t;

/* The node's status (docs/operations.md): counts from the store, and the
 * live view the running daemon rewrites every second in run/status.json.
 * Reads only; a count it cannot read shows as 0. Returns a new object the
 * caller owns, or NULL with error set (SF_ENOMEM). */
node_status_t *node_status(node_t *self, sf_error_t *error);

/* One signing key held here (docs/signing.md): whose, its fingerprint,
 * since when, until when (0: in force), whether that was a revocation,
 * and the node it came through ("": the unit itself). */
typedef struct {
    char unit[32];
    char fingerprint[24];
    int64_t since, until;
    bool revoked;
    char registered_by[32];
} node_signing_key_t;

/* Every signing key held here, by unit, into a malloc'd array the caller
 * frees (NULL when none). 0, or the store's error. */
int node_signing_keys(node_t *self, node_signing_key_t **keys, size_t *count);
void node_status_destroy(node_status_t **self_p);

/* Where a county's own report version is. */
typedef enum {
    NODE_VERSION_STORED = 0, /* hub, province: no delivery state */
    NODE_VERSION_QUEUED,     /* still in the upward outbox */
    NODE_VERSION_DELIVERED,  /* acknowledged by the parent */
    NODE_VERSION_RETURNED,   /* returned for correction (return_reason) */
    NODE_VERSION_REFUSED,    /* refused by a tier above (refusal, refused_by) */
} node_version_state_t;

/* One stored report version. Strings are owned by the node_versions_t. */
typedef struct {
    char *report_id, *unit, *origin;
    uint32_t year, version;
    int64_t submitted_at;
    bool received;       /* a receipt is stored (hub, province) */
    int64_t received_at; /* the first receipt stamped on it: the hub's when it came up
                          * through one (so at the province too), this node's at a hub */
    node_version_state_t state;
    char *return_reason; /* RETURNED: the hub's reason; else NULL */
    char *refusal;       /* REFUSED: why; else NULL */
    char *refused_by;    /* REFUSED: the refusing unit ("" if not said); else NULL */
} node_version_t;

typedef struct {
    node_version_t *versions; /* oldest id first */
    size_t count;
} node_versions_t;

/* Every stored report version, in one read transaction. Returns a new
 * object the caller owns, or NULL with error set (SF_ENOMEM, or the
 * store's error). */
node_versions_t *node_list(node_t *self, sf_error_t *error);
void node_versions_destroy(node_versions_t **self_p);

/* ---- what the province's console shows (node_status.c) ---- */

/* Hub, province: a counter that moves (in the same commit) whenever this
 * node stores something an evaluation reads: a report, an inspection, a
 * return or a recommendation. The hub's daemon re-ranks when it moves; the
 * province's console polls it to know its page is stale. 0 before the
 * first change. Returns 0, or the store's error (*generation untouched). */
int node_data_generation(node_t *self, uint64_t *generation);

/* One stored inspection (hub, province). */
typedef struct {
    report_t *inspection; /* the values inspected; origin: who inspected, submitted_at: when */
    int64_t received_at;  /* this node's receipt of another tier's inspection; 0 for its own */
} node_inspection_t;

typedef struct {
    node_inspection_t *inspections; /* by inspection id */
    size_t count;
} node_inspections_t;

/* The stored inspections of year whose unit is `within` or under it (NULL:
 * every unit), in one read transaction. Returns a new object the caller
 * owns, or NULL with error set (SF_ENOMEM, or the store's error). */
node_inspections_t *node_inspections(node_t *self, const char *within, int year, sf_error_t *error);
void node_inspections_destroy(node_inspections_t **self_p);

/* ---- packages: the upward queue by hand when the link is down (node_package.c) ---- */

/* County, hub: writes every item of the "up" stream not yet acknowledged by
 * the parent (seq acked + 1 .. next_seq - 1) to path as one package
 * (transport/package.h, docs/packages.md): sealed to the parent's CURVE
 * key, signed with this node's signing key. The queue is left as it is:
 * the items go on waiting for the link, and the parent skips the ones a
 * package brought. path is written to a temporary name, fsync'd and
 * renamed. Fills *items. SF_EINVAL with err when nothing is queued, on the
 * province (no parent) or for a stored parent key that is not Z85; SF_EIO
 * or SF_ENOSPC (the file), the store's error. */
int node_export_package(node_t *self, const char *path, size_t *items, char *err, size_t errsize);

typedef struct {
    uint64_t seq;
    char why[160];
} node_package_refusal_t;

/* What an import did. */
typedef struct {
    char from[PROGRAMME_CODE_MAX]; /* the child that made the package */
    int64_t made_at;
    size_t items;      /* in the package */
    size_t applied;    /* applied here (a report known by id changes nothing) ... */
    size_t in_stream;  /* ... of which continued the child's stream: it drops them */
    size_t duplicates; /* already applied from the link or an earlier import: skipped */
    size_t later;      /* not applicable yet (LINK_LATER); the link brings them */
    size_t refused;    /* refused, the child told as over the link */
    node_package_refusal_t *refusals; /* `refused` of them, or NULL: node_import_release */
    bool signer_unregistered; /* no signing key is held for `from` yet: taken on its CURVE seal */
} node_import_t;

/* Hub, province: opens the package at path with this node's CURVE pair,
 * checks its signature, that its sender is a registered child and that the
 * signing key is one held for it (signkeys.h, valid at made_at; a child of
 * which no key is held yet is accepted: signer_unregistered), and applies
 * its items as the link would, in one durable transaction (link_import,
 * transport/link.h): importing a package twice stores nothing twice. Works
 * whether or not the daemon runs on this directory. On 0 *result is
 * filled: release it with node_import_release. SF_EINVAL with err for a
 * file that is no package for this node, an altered one, a sender not
 * registered here, or a key not held for it; SF_EIO (the file), SF_ENOMEM,
 * the store's error: then nothing was applied. */
int node_import_package(node_t *self, const char *path, node_import_t *result, char *err,
                        size_t errsize);
void node_import_release(node_import_t *result);

/* ---- online backup (node_backup.c) ---- */

/* What a backup wrote. */
typedef struct {
    uint64_t store_bytes; /* of store/data.mdb, the compacted copy */
    size_t reports;       /* report versions in the copy (read back from it) */
    size_t key_files;     /* files copied from keys/ (keys/next/ included) */
} node_backup_t;

/* Writes a copy of the node usable as a data directory to out_dir: the
 * store compacted and consistent (store_backup: one read transaction, so
 * the daemon may run and write meanwhile; its lock is not taken), keys/
 * with its files' modes (keys/next/ too, if a rotation left one), and an
 * empty run/. Everything is written to a temporary directory beside
 * out_dir, every file and directory fsync'd, the copy opened to count its
 * reports, and then renamed to out_dir, so out_dir either is a complete
 * backup or is not there. SF_EINVAL with err if out_dir exists and is not
 * an empty directory; SF_EIO, SF_ENOSPC or the store's error with err
 * (nothing left behind). */
int node_backup(node_t *self, const char *out_dir, node_backup_t *result, char *err,
                size_t errsize);

#endif
