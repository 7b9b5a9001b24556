/* provenance.h - who made the counted version of a report, who received it
 * when, and whether the time its maker claims can be believed
 * (docs/signing.md, "Time you can check").
 *
 * The rule lives here, pure: the app layer gathers the facts (the store's
 * bytes, the signature, the keys registered) into a provenance_t, and
 * provenance_judge decides. A county's outbox delivers all it queued as soon
 * as a session works, so a report claimed at T_s and received at T_r is
 * implausible when the hub's receipt verifies and either
 *   (a) claimed_before - T_s > 24 h: the hub had already received an item
 *       the county made (by its own clock) more than a day after the
 *       claimed time, which a queue delivering in order cannot do, or
 *   (b) session_since != 0 and T_r - max(T_s, session_since) > 24 h: the
 *       link was up for more than a day after the claimed time without
 *       delivering it.
 * Exactly 24 h is plausible. A gap the link was down for explains itself
 * (a package's import: session_since 0, claimed_before before T_s).
 *
 * No clock, no store, no keys; nothing allocates; any thread. */
#ifndef SHIFAN_PROVENANCE_H
#define SHIFAN_PROVENANCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/lang.h"

#define PROVENANCE_MAX_DELAY (24 * 3600) /* seconds a working link may hold a report */
#define PROVENANCE_CODE_MAX 32
#define PROVENANCE_FINGERPRINT_MAX 20 /* "XXXX-XXXX-XXXX-XXXX" and its NUL */
#define PROVENANCE_REASON_MAX 256

/* What the rule concluded, and why (provenance_reason words each). */
typedef enum {
    PROVENANCE_UNSIGNED = 0,       /* not checked: the report is not signed */
    PROVENANCE_NO_RECEIPT,         /* not checked: no hub receipt */
    PROVENANCE_RECEIPT_UNVERIFIED, /* not checked: receipt not by the hub's registered key */
    PROVENANCE_PLAUSIBLE,          /* checked: nothing contradicts the claimed time */
    PROVENANCE_LINK_UNKNOWN,       /* checked: the hub knew nothing of its link before */
    PROVENANCE_LATER_ITEM_FIRST,   /* rule (a) */
    PROVENANCE_SESSION_UP,         /* rule (b) */
} provenance_verdict_t;
#define PROVENANCE_VERDICT_COUNT 7

/* The times the rule reads, and what the caller verified. */
typedef struct {
    bool is_signed;         /* the report came as a SignedItem */
    bool has_receipt;       /* it carries a first receipt */
    bool receipt_verifies;  /* that receipt is signed by its node's registered key */
    int64_t submitted_at;   /* T_s, the county's claim (inside the signed body) */
    int64_t received_at;    /* T_r, the hub's clock */
    int64_t claimed_before; /* 0: unknown */
    int64_t session_since;  /* 0: unknown */
} provenance_times_t;

typedef struct {
    provenance_verdict_t verdict;
    bool checked;     /* the rule was applied (a verified receipt) */
    bool implausible; /* claimed_time_implausible */
    int64_t gap;      /* implausible: seconds the county was reachable after T_s */
} provenance_judgement_t;

/* The counted version's provenance, as the evaluation shows it. */
typedef struct {
    bool is_signed;
    bool verifies;   /* the signature holds for the key the item names */
    bool registered; /* that key is the signer's, registered and valid at submitted_at */
    char signer[PROVENANCE_CODE_MAX];
    char fingerprint[PROVENANCE_FINGERPRINT_MAX]; /* of the key the item names */
    char received_by[PROVENANCE_CODE_MAX];        /* the first receipt's node; "" none */
    provenance_times_t times;
    provenance_judgement_t judgement; /* provenance_judge(&times) */
} provenance_t;

/* Applies the rule to times. */
provenance_judgement_t provenance_judge(const provenance_times_t *times);

/* The verdict's stable name, for scripts: "unsigned", "no_receipt",
 * "receipt_unverified", "plausible", "link_unknown", "later_item_first",
 * "session_up". */
const char *provenance_verdict_name(provenance_verdict_t verdict);

/* The judgement in one line in lang (the English is the msg() key), into
 * buf (truncated to size, always NUL-terminated). */
void provenance_reason(const provenance_judgement_t *judgement, sf_lang_t lang, char *buf,
                       size_t size);

#endif
