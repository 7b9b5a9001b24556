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
 * its own unit and the units under it. */
#ifndef SHIFAN_NODE_H
#define SHIFAN_NODE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/store.h"
#include "domain/programme.h"
#include "domain/report.h"
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

/* Creates a node in data_dir (created if missing, must be empty of a node).
 * On bad input returns SF_EINVAL with the reason in err. */
int node_init(const char *data_dir, const node_init_options_t *options, char *err, size_t errsize);

/* Opens an initialised node of the given role. NULL with error set:
 * SF_ESTATE (no node there: run init), SF_EINVAL (a node of another role),
 * SF_ENOMEM, or the store's or key files' error. */
node_t *node_open(const char *data_dir, node_role_t role, sf_error_t *error);
void node_destroy(node_t **self_p);

const char *node_code(const node_t *self);
const char *node_public_key(const node_t *self);
const programme_t *node_programme(const node_t *self);
store_t *node_store(node_t *self);

/* Registers a child's key (hub, province). SF_EINVAL with err for an unknown
 * or foreign code or a malformed key. A new key for a code replaces the old. */
int node_allow(node_t *self, const char *code, const char *key, char *err, size_t errsize);

/* Removes a child's key (hub, province): within a second the daemon refuses
 * its handshakes and the frames of a session it already holds. What the
 * child sent before stays; its queue stays with it. SF_EINVAL if the code
 * has no key here. */
int node_revoke(node_t *self, const char *code, char *err, size_t errsize);

/* County or hub: points the node at another parent (moved, or re-keyed).
 * Checks endpoint and key as node_init does (SF_EINVAL with err; nothing
 * changes) and writes both to DB_META in one durable transaction; the
 * queue and every stream stay, so delivery resumes at the new parent from
 * where the old one left off (the new parent must have allowed this key).
 * A running daemon switches within a second. The province has none:
 * SF_EINVAL. */
int node_set_upstream(node_t *self, const char *endpoint, const char *key, char *err,
                      size_t errsize);
/* The parent's endpoint and public key as stored ("" on the province). */
const char *node_upstream(const node_t *self);
const char *node_upstream_key(const node_t *self);

/* County: stores a validated report as the next version of its unit-year
 * and queues it upward, in one durable transaction. Fills report_id,
 * version, submitted_at, origin and standard_id of the report. */
int node_submit(node_t *self, report_t *report, char *err, size_t errsize);
/* The same for many reports in one transaction (one fsync for all): a batch
 * import, or the benchmark. All or nothing. */
int node_submit_many(node_t *self, report_t **reports, size_t count, char *err, size_t errsize);

/* Hub: queues a return-for-correction of the unit's latest report down to
 * the county. SF_ENOTFOUND if no report of that unit-year is stored. */
int node_return(node_t *self, const char *unit, int year, const char *reason, char *err,
                size_t errsize);

/* Province: publishes a programme file to every prefecture and, through
 * them, every county (now and whenever one comes online later). Its
 * revision must exceed the current one. */
int node_publish(node_t *self, const char *path, char *err, size_t errsize);

/* Hub or province: records its own values for a unit-year (an inspection,
 * same format as a report; only the criteria inspected need be given). A
 * hub forwards it upward. Fills report_id. */
int node_inspect(node_t *self, report_t *inspection, char *err, size_t errsize);

/* Evaluates a year with everything stored here (the engine of engine.h).
 * scope: a unit, a prefecture or NULL for the whole programme. */
struct engine_result;
int node_evaluate(node_t *self, int year, const char *scope, struct engine_result **result,
                  char *err, size_t errsize);

/* Hub: the recommendation for a year, one list per quota holder in its area
 * (the prefecture itself, or each county when sites are evaluated). With
 * confirm, makes the current rankings final and queues them upward. *lists
 * is the caller's: node_recommendations_destroy. */
typedef tier_recommendations_t node_recommendations_t;
int node_recommend(node_t *self, int year, bool confirm, node_recommendations_t **lists, char *err,
                   size_t errsize);
void node_recommendations_destroy(node_recommendations_t **self_p);

/* Province: sends each prefecture the part of a year's evaluation result
 * (render_json) that concerns its area; hubs pass each county its part.
 * document is the whole result JSON. */
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

/* Runs the daemon until SIGTERM or SIGINT. Returns 0 on a clean stop. */
int node_run(node_t *self);

/* Status as JSON (see docs/operations.md): reports, queued, link, peers. */
json_t *node_status(node_t *self);

/* Every stored report version as a JSON array, oldest id first:
 * report_id, unit, year, version, submitted_at, origin, received_at and, on a
 * county, state ("queued", "delivered" or "returned") and return_reason. */
json_t *node_list(node_t *self);

#endif
