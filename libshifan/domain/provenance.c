/* provenance.c - the rule of "Time you can check" (provenance.h). */
#include "domain/provenance.h"

#include "base/msg.h"

#include <stdio.h>

static int64_t later(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

provenance_judgement_t provenance_judge(const provenance_times_t *times)
{
    provenance_judgement_t j = {PROVENANCE_UNSIGNED, false, false, 0};
    /* An unsigned item's receipt is unsigned too: nothing the hub said of
     * it can be told apart from what anyone on the way wrote. */
    if (!times->is_signed)
        return j;
    j.verdict = PROVENANCE_NO_RECEIPT;
    if (!times->has_receipt)
        return j;
    j.verdict = PROVENANCE_RECEIPT_UNVERIFIED;
    if (!times->receipt_verifies)
        return j;
    j.checked = true;
    j.verdict = times->claimed_before || times->session_since ? PROVENANCE_PLAUSIBLE
                                                              : PROVENANCE_LINK_UNKNOWN;
    int64_t contact_gap = times->claimed_before ? times->claimed_before - times->submitted_at : 0;
    int64_t session_gap =
        times->session_since ? times->received_at - later(times->submitted_at, times->session_since)
                             : 0;
    if (contact_gap > PROVENANCE_MAX_DELAY) {
        j.verdict = PROVENANCE_LATER_ITEM_FIRST;
        j.gap = contact_gap;
    } else if (session_gap > PROVENANCE_MAX_DELAY) {
        j.verdict = PROVENANCE_SESSION_UP;
        j.gap = session_gap;
    }
    j.implausible = j.verdict == PROVENANCE_LATER_ITEM_FIRST || j.verdict == PROVENANCE_SESSION_UP;
    return j;
}

const char *provenance_verdict_name(provenance_verdict_t verdict)
{
    switch (verdict) {
    case PROVENANCE_UNSIGNED:
        return "unsigned";
    case PROVENANCE_NO_RECEIPT:
        return "no_receipt";
    case PROVENANCE_RECEIPT_UNVERIFIED:
        return "receipt_unverified";
    case PROVENANCE_PLAUSIBLE:
        return "plausible";
    case PROVENANCE_LINK_UNKNOWN:
        return "link_unknown";
    case PROVENANCE_LATER_ITEM_FIRST:
        return "later_item_first";
    case PROVENANCE_SESSION_UP:
        return "session_up";
    }
    return "unknown";
}

void provenance_reason(const provenance_judgement_t *judgement, sf_lang_t lang, char *buf,
                       size_t size)
{
    long long hours = (long long)(judgement->gap / 3600);
    long long minutes = (long long)(judgement->gap % 3600 / 60);
    switch (judgement->verdict) {
    case PROVENANCE_UNSIGNED:
        snprintf(buf, size, "%s",
                 msg_in(lang, "unsigned report: its time is not checked (its receipt cannot be "
                              "verified)"));
        return;
    case PROVENANCE_NO_RECEIPT:
        snprintf(buf, size, "%s", msg_in(lang, "no receipt from a hub: its time is not checked"));
        return;
    case PROVENANCE_RECEIPT_UNVERIFIED:
        snprintf(buf, size, "%s",
                 msg_in(lang, "the hub's receipt is not signed by the hub's registered key: its "
                              "time is not checked"));
        return;
    case PROVENANCE_PLAUSIBLE:
        snprintf(buf, size, "%s",
                 msg_in(lang, "the claimed time agrees with the hub's signed receipt"));
        return;
    case PROVENANCE_LINK_UNKNOWN:
        snprintf(buf, size, "%s",
                 msg_in(lang, "the hub's signed receipt tells nothing of its link before this "
                              "report: nothing contradicts the claimed time"));
        return;
    case PROVENANCE_LATER_ITEM_FIRST:
        snprintf(buf, size,
                 msg_in(lang, "the hub had already received an item the county made %lld h %02lld "
                              "min after the claimed time (a county's queue delivers in order)"),
                 hours, minutes);
        return;
    case PROVENANCE_SESSION_UP:
        snprintf(buf, size,
                 msg_in(lang, "the link was up %lld h %02lld min after the claimed time without "
                              "delivering this report"),
                 hours, minutes);
        return;
    }
    snprintf(buf, size, "%s", "");
}
