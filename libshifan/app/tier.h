/* tier.h - what each tier does: the policy for programmes, inspections,
 * returns, recommendations and evaluation results, and evaluation over
 * everything a node stores.
 *
 * A tier_t is the narrow context that policy needs: the node's role and
 * code, its store (borrowed: the caller keeps it open longer than the
 * tier), the programme in force (owned: loaded from the store, else the
 * embedded default), the standards it replaced, and the hub's ranking
 * state. It knows nothing of links, keys or the daemon.
 *
 * Durability: a tier_* function that takes a store_txn_t writes inside the
 * caller's transaction, so a change and its outbox entries commit together
 * (store_write: fsync'd before it returns 0); the verbs (tier_publish,
 * tier_inspect, tier_return, tier_recommend, tier_publish_evaluation) run
 * their own store_write and have committed durably when they return 0.
 * Transaction functions may run twice (store.h, map growth).
 *
 * Time: nothing here reads the clock; `now` (unix seconds, SHIFAN_NOW
 * honoured by the caller) and `mono_ms` come from the caller, once per
 * operation.
 *
 * Errors: 0 or a negative sf_err_t; the apply functions may also return
 * LINK_REFUSED (transport/link.h) with the reason in `why`, which the link
 * turns into a refusal of that item alone. Verbs return SF_EINVAL with a
 * sentence in err for input the user must fix.
 *
 * Threads: one thread, as the store. */
#ifndef SHIFAN_TIER_H
#define SHIFAN_TIER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "storage/store.h"
#include "transport/codec.h"
#include "domain/engine.h"
#include "domain/programme.h"
#include "domain/report.h"

typedef enum { ROLE_COUNTY = 0, ROLE_PREFECTURE, ROLE_PROVINCE } tier_role_t;

/* Standards a node remembers having replaced (DB_META "earlier_standards"). */
#define TIER_EARLIER_STANDARDS_MAX 16

typedef struct tier tier_t;

/* A tier for a node of `role` and `code` over `store` (borrowed). series is
 * the numbering series of what the node originates (its inspections). Loads
 * the programme stored in `store`, else the embedded default. Returns NULL
 * with error set (SF_ENOMEM: no programme could be loaded). */
tier_t *tier_new(tier_role_t role, const char *code, uint64_t series, store_t *store,
                 sf_error_t *error);
void tier_destroy(tier_t **self_p);

tier_role_t tier_role(const tier_t *self);
const char *tier_code(const tier_t *self);
/* The programme in force; valid until the next tier_programme_reload. */
const programme_t *tier_programme(const tier_t *self);
/* Standard ids of programmes the one in force replaced, NULL-terminated:
 * reports made under them are still admitted (admission.h). */
const char *const *tier_earlier_standards(const tier_t *self);

/* The root unit of a programme (the province's code), "" if none. */
const char *tier_programme_root(const programme_t *programme);

/* Gives the tier the node's Ed25519 signing pair (borrowed: the caller
 * keeps it as long as the tier): from then on every item the tier makes
 * (inspections, returns, recommendations, programmes, evaluation results)
 * is signed (docs/signing.md). */
void tier_set_signer(tier_t *self, const uint8_t public_key[CODEC_SIGN_PUBLIC_BYTES],
                     const uint8_t secret_key[CODEC_SIGN_SECRET_BYTES]);
/* Replaces the packed payload *bytes (malloc'd) by the same payload signed
 * by this node; unchanged without a signer. On failure *bytes is freed and
 * NULL. 0, SF_ETOOBIG or SF_ENOMEM. */
int tier_sign(const tier_t *self, uint8_t **bytes, size_t *len);

/* Logs a refusal and returns LINK_REFUSED with fmt (a, b) in why. */
int tier_refuse(char *why, size_t whysize, const char *fmt, const char *a, const char *b);

/* Bumps DB_META data_generation: the hub's daemon re-ranks when it moves,
 * the province's console refreshes. */
int tier_touch_data(tier_t *self, store_txn_t *txn);
/* Reads it (0 before the first change): 0, or the store's error. */
int tier_data_generation(tier_t *self, uint64_t *generation);

/* ---- programmes (tier.c, tier_programme.c) ---- */

/* Switches to the stored programme if it is another one than in force.
 * Returns 1 if it switched (announce: logged), 0 if not, or an error (the
 * programme in force stays). */
int tier_programme_reload(tier_t *self, bool announce);
/* True if a newer programme revision is stored than the one in force: what
 * it alone would accept must wait (LINK_LATER), not be refused. */
bool tier_programme_pending(tier_t *self, store_txn_t *txn);
/* The Programme payload of a programme, published at `now` (malloc'd). */
int tier_programme_payload(const programme_t *programme, int64_t now, uint8_t **bytes, size_t *len);
/* Stores a Programme payload as the node's programme if its revision is
 * higher than the stored one's (*newer says if it was). SF_EINVAL if the
 * bytes are no Programme. */
int tier_store_programme(store_t *store, store_txn_t *txn, const uint8_t *bytes, size_t len,
                         bool *newer);
/* Queues the stored programme (if any) to a child, once. */
int tier_queue_programme(tier_t *self, store_txn_t *txn, const char *child);
/* A programme from the parent: stored if newer, and a hub queues it to
 * every child in the same transaction. */
int tier_apply_programme(tier_t *self, store_txn_t *txn, const Shifan__Payload *payload,
                         const uint8_t *raw, size_t len, char *why, size_t whysize);
/* Province: publishes a programme file downward (durable on 0). SF_EINVAL
 * with err unless its revision is newer and its root is this province. */
int tier_publish(tier_t *self, const char *path, int64_t now, char *err, size_t errsize);

/* ---- inspections (tier_inspections.c) ---- */

/* Hub or province: stores its own values for a unit-year (a hub queues them
 * upward), durable on 0. Fills report_id, submitted_at (now), origin. */
int tier_inspect(tier_t *self, report_t *inspection, int64_t now, char *err, size_t errsize);

/* ---- returns (tier_returns.c) ---- */

/* Hub: returns the latest report of unit-year for correction, down to the
 * county and up to the province, durable on 0. SF_EINVAL with err for a
 * unit not under the hub, no reason, or no stored report. */
int tier_return(tier_t *self, const char *unit, int year, const char *reason, int64_t now,
                char *err, size_t errsize);
/* A return arriving: from the parent (peer "") at a county, or from a hub
 * at the province. */
int tier_apply_return(tier_t *self, store_txn_t *txn, const char *peer,
                      const Shifan__Payload *payload, const uint8_t *raw, size_t len, char *why,
                      size_t whysize);

/* ---- evaluation (tier_evaluation.c) ---- */

/* Evaluates a year with everything stored here (engine.h), as at `now`.
 * scope: a unit, a prefecture or NULL for the whole programme. */
int tier_evaluate(tier_t *self, int year, const char *scope, int64_t now, engine_result_t **result,
                  char *err, size_t errsize);
/* Province: queues each registered hub its part of a year's result
 * (render_json's document), durable on 0. */
int tier_publish_evaluation(tier_t *self, int year, const char *document, int64_t now, char *err,
                            size_t errsize);
/* The evaluation of a year published to this node (malloc'd JSON), or NULL
 * with a reason in err. */
char *tier_published_evaluation(tier_t *self, int year, char *err, size_t errsize);
/* Queues to a child its part of every evaluation kept here, once each. */
int tier_queue_evaluations(tier_t *self, store_txn_t *txn, const char *child);
/* An evaluation result from the parent: kept (DB_PROGRAMMES
 * evaluation/<year>), and a hub queues each county its part. */
int tier_apply_evaluation(tier_t *self, store_txn_t *txn, const Shifan__Payload *payload, char *why,
                          size_t whysize);

/* ---- recommendations (tier_recommend.c) ---- */

/* One quota holder's list for a year. */
typedef struct {
    char holder[PROGRAMME_CODE_MAX];
    int quota;
    bool confirmed;
    char **units; /* unit codes, best first */
    size_t unit_count;
} tier_recommendation_t;

typedef struct {
    tier_recommendation_t *lists;
    size_t count;
} tier_recommendations_t;

void tier_recommendations_destroy(tier_recommendations_t **self_p);

/* What a `recommend` asks for; NULL: only show the lists. */
typedef struct {
    bool confirm;              /* make the current rankings final and queue them up */
    bool override_deadline;    /* confirm even after the programme's recommendation deadline */
    const char *operator_name; /* who asks, named in the log ("command line", "console", an
                                  operator's name); NULL: "command line" */
} tier_recommend_request_t;

/* Hub: the recommendation of a year, one list per quota holder in its area.
 * With request->confirm, makes the current rankings final and queues them
 * upward (durable on 0). After the calendar's `recommendation` deadline of
 * the year a confirm is refused (SF_EINVAL with err, nothing changed)
 * unless request->override_deadline, and then the override is logged
 * (slog_warn: who, the year, the deadline overridden). *out is the
 * caller's. */
int tier_recommend(tier_t *self, int year, const tier_recommend_request_t *request, int64_t now,
                   tier_recommendations_t **out, char *err, size_t errsize);
/* Hub daemon, about once a second: when the data changed and has been quiet
 * (or half a minute passed), re-ranks and stores and queues a provisional
 * recommendation for every holder-year whose list changed. */
void tier_auto_recommend(tier_t *self, int64_t now, int64_t mono_ms);
/* A recommendation arriving at the province from a hub. */
int tier_apply_recommendation(tier_t *self, store_txn_t *txn, const char *peer,
                              const Shifan__Payload *payload, const uint8_t *raw, size_t len,
                              char *why, size_t whysize);

#endif
