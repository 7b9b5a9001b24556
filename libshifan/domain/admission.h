/* admission.h - what a node admits from a peer.
 *
 * Every item that arrives over a link is checked here, against the
 * receiver's programme, before anything is stored or forwarded, whoever
 * sent it (a second implementation, an old version, a bug): as strictly as
 * the verbs that make the item (`submit`, `inspect`, `return`, `recommend`,
 * `publish`), plus the rule that a key speaks only for its own unit and the
 * units under it. A tier that stores what it did not check hands it to every
 * tier above; so each tier checks, not just the first.
 *
 * Pure functions: no storage, no transport, no clock (the caller passes its
 * own time in admission_t.now), no allocation that outlives a call except
 * the programme admit_programme hands back (the caller destroys it). The
 * admission_t and the message are borrowed for the call only. Safe from any
 * thread while the programme lives.
 *
 * Each admit_* returns 0 when the item may be applied, or:
 *   SF_EINVAL   refused: malformed or invalid     (Refusal reason MALFORMED)
 *   SF_EDENIED  refused: the sender may not speak for that unit (NOT_YOUR_UNIT)
 *   SF_ENOMEM   not a refusal: abort the transaction; the sender resends
 * with, on a refusal, one line of English in why that names the item, the
 * field and the value:
 *   "report 530102-2018-v1-3fa9c1d2: values[3]: criterion 9.9: unknown
 *    criterion (not in standard yunnan-2017-trial)".
 * Values that failed a check are shown with bytes outside printable ASCII
 * as '?' and cut at 40 characters, so a hostile string never reaches a log
 * or a Refusal whole. The rules, one table: docs/protocol.md, "What a
 * receiver admits". */
#ifndef SHIFAN_ADMISSION_H
#define SHIFAN_ADMISSION_H

#include <stddef.h>
#include <stdint.h>

#include "domain/programme.h"
#include "domain/report.h"
#include "shifan.pb-c.h"

/* Times in items (submitted_at, returned_at, made_at, published_at,
 * evaluated_at, received_at) lie in [ADMIT_EARLIEST, now + ADMIT_AHEAD_MAX].
 * Earlier is a clock that was never set (a box that boots in 1970 would
 * otherwise win every "earlier submission" tie and never be late); further
 * ahead is a clock gone wrong (a list "made" next year would outrank every
 * later list of its hub). One day covers time zones and drifting clocks. */
#define ADMIT_EARLIEST 946684800 /* 2000-01-01T00:00:00Z */
#define ADMIT_AHEAD_MAX 86400    /* seconds ahead of the receiver's clock */
/* Report ids: 1..63 bytes of A-Z a-z 0-9 - _ . (what submit and inspect
 * make: "530102-2018-v2-3fa9c1d2", "530102-2018-i-530100-0a1b2c3d"). They
 * are LMDB keys (non-empty, at most 511 bytes) and file and log text. */
#define ADMIT_REPORT_ID_MAX (REPORT_ID_MAX - 1)
#define ADMIT_REASON_MAX REPORT_COMMENT_MAX /* bytes of a return's reason, like a comment */
#define ADMIT_DOCUMENT_MAX (512 * 1024)     /* an evaluation document: one item payload */
#define ADMIT_RECEIPTS_MAX 4                /* one per tier that stored it, and room */
#define ADMIT_NOTICE_DETAIL_MAX 512         /* bytes of a refusal notice's reason */

typedef struct {
    const programme_t *programme; /* the receiver's programme in force */
    const char *receiver;         /* the receiver's own unit code (node_code) */
    const char *peer;             /* the sender: a child's code as its key proves it,
                                     or "" (or NULL) for the parent */
    int64_t now;                  /* the receiver's clock, unix seconds (stime_now()) */
    /* Standard ids of the programmes this node's programme replaced, NULL-
     * terminated, or NULL for none known. A report made under one of them
     * before the new revision reached its county is admitted when its values
     * fit the current standard, as stored reports are re-judged by it; a
     * report naming any other standard is refused. */
    const char *const *earlier_standards;
} admission_t;

/* The receiver's tier is its unit's place in the programme: the root is the
 * province, a prefecture-level unit a hub, a county-level unit a county. A
 * peer that is not a unit directly under the receiver is refused
 * (SF_EDENIED) by every function below. */

/* A Payload: one item is set, its receipts are well formed (from a child:
 * each names the child or a unit under it), then the item's own function
 * below. Call this once per decoded payload; the others are for callers that
 * hold the item alone. For a programme it parses the document and drops it:
 * call admit_programme to keep it. */
int admit_payload(const admission_t *at, const Shifan__Payload *payload, char *why, size_t whysize);

/* True if id is a report id a receiver admits (1..63 of A-Z a-z 0-9 - _ .). */
bool admit_report_id_ok(const char *id);

/* A self-assessment, from a child to a hub or the province. */
int admit_report(const admission_t *at, const Shifan__Report *report, char *why, size_t whysize);

/* A hub's inspection, to the province. */
int admit_inspection(const admission_t *at, const Shifan__Report *inspection, char *why,
                     size_t whysize);

/* A return for correction: from the parent to a county, or from a hub to
 * the province. */
int admit_return(const admission_t *at, const Shifan__Return *ret, char *why, size_t whysize);

/* A hub's recommendation for one quota holder and year, to the province. */
int admit_recommendation(const admission_t *at, const Shifan__Recommendation *rec, char *why,
                         size_t whysize);

/* A published programme, from the parent to a hub or a county. On success,
 * if loaded is not NULL, *loaded gets the parsed programme (the caller
 * destroys it), so that the document is parsed once. */
int admit_programme(const admission_t *at, const Shifan__Programme *programme, programme_t **loaded,
                    char *why, size_t whysize);

/* An evaluation result, from the parent to a hub or a county. */
int admit_evaluation(const admission_t *at, const Shifan__EvaluationResult *result, char *why,
                     size_t whysize);

/* The Refusal reason for a refusal returned above: NOT_YOUR_UNIT for
 * SF_EDENIED, MALFORMED otherwise. */
Shifan__Refusal__Reason admit_refusal_reason(int rc);

#endif
