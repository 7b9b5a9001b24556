/* link_apply.c - the receiving half: a batch applied in the caller's
 * transaction (link_internal.h).
 *
 * Refusal is per item, never per commit. A hook that refuses (LINK_REFUSED,
 * LINK_OVER_LIMIT) wrote nothing: the item is consumed in place. A hook
 * error that is not about the node's ability to write (see
 * error_is_systemic) may have left the transaction half-done or dead: the
 * item is marked "poisoned" and the whole group transaction is run again,
 * this time refusing that item without calling the hook. So a bad item from
 * one child never takes down the commit it shares with others. */
#include "base/error.h"
#include "base/slog.h"
#include "storage/outbox.h"
#include "transport/codec.h"
#include "transport/link_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void refusals_add(link_refusals_t *list, uint64_t seq, int reason, const char *why)
{
    if (list->count == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 8;
        link_refusal_t *grown = realloc(list->items, cap * sizeof *grown);
        if (!grown)
            return; /* the refusal is still logged, counted and noticed durably */
        list->items = grown;
        list->cap = cap;
    }
    list->items[list->count].seq = seq;
    list->items[list->count].reason = reason;
    snprintf(list->items[list->count].why, sizeof list->items[list->count].why, "%s", why);
    list->count++;
}

static const link_poison_t *poison_find(const link_poisons_t *list, const char *inbound,
                                        uint64_t epoch, uint64_t seq)
{
    for (size_t i = 0; i < list->count; i++)
        if (list->items[i].seq == seq && list->items[i].epoch == epoch &&
            strcmp(list->items[i].inbound, inbound) == 0)
            return &list->items[i];
    return NULL;
}

static int poison_add(link_poisons_t *list, const char *inbound, uint64_t epoch, uint64_t seq,
                      const char *why)
{
    if (list->count == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 4;
        link_poison_t *grown = realloc(list->items, cap * sizeof *grown);
        if (!grown)
            return SF_ENOMEM;
        list->items = grown;
        list->cap = cap;
    }
    link_poison_t *p = &list->items[list->count++];
    snprintf(p->inbound, sizeof p->inbound, "%s", inbound);
    p->epoch = epoch;
    p->seq = seq;
    snprintf(p->why, sizeof p->why, "%s", why);
    list->added = true;
    return 0;
}

/* Errors that say "this node cannot write now", not "this item is bad":
 * they abort the group, and the senders resend later. */
static bool error_is_systemic(store_t *store, int rc)
{
    return rc == SF_ENOSPC || rc == SF_EIO || rc == SF_ENOMEM || rc == SF_EGROW ||
           store_failed(store);
}

static int refusal_reason(int outcome)
{
    if (outcome == LINK_OVER_LIMIT)
        return SHIFAN__REFUSAL__REASON__OVER_LIMIT;
    if (outcome == LINK_REFUSED_UNIT)
        return SHIFAN__REFUSAL__REASON__NOT_YOUR_UNIT;
    return SHIFAN__REFUSAL__REASON__MALFORMED;
}

/* Records a refusal: counted for the Refusal frame after the commit, and
 * noticed durably to the sender in this transaction (bounded per peer). */
static int apply_refuse(store_txn_t *txn, const link_apply_ctx_t *ctx, uint64_t epoch,
                        const Shifan__Item *item, int reason, const char *why)
{
    refusals_add(ctx->refusals, item->seq, reason, why);
    if (!ctx->hooks->refused)
        return 0;
    outbox_state_t back;
    int rc = outbox_state(txn, ctx->store, ctx->notice_stream, &back);
    if (rc)
        return rc;
    if (back.next_seq - 1 - back.acked >= LINK_REFUSALS_PENDING_MAX) {
        slog_warn("refusal of item %" PRIu64 " from %s not queued back: %d items already wait "
                  "for it",
                  item->seq, *ctx->peer ? ctx->peer : "the parent", LINK_REFUSALS_PENDING_MAX);
        return 0;
    }
    return ctx->hooks->refused(ctx->hooks->arg, txn, ctx->peer, epoch, item->seq,
                               item->payload.data, item->payload.len, reason, why);
}

/* Applies the next item of the stream, or refuses it: 0 when it is
 * consumed, *wait when it and the rest of its batch wait (LINK_LATER: the
 * sender resends), SF_ERERUN when the hook failed for this item alone (it
 * is poisoned, and the transaction runs again), or an error that aborts
 * the transaction. */
int link_apply_item(store_txn_t *txn, const link_apply_ctx_t *ctx, uint64_t epoch,
                    const Shifan__Item *item, bool *wait)
{
    const link_poison_t *poisoned = poison_find(ctx->poisons, ctx->inbound, epoch, item->seq);
    if (poisoned) {
        slog_warn("refused an item from %s: %s", *ctx->peer ? ctx->peer : "the parent",
                  poisoned->why);
        return apply_refuse(txn, ctx, epoch, item, SHIFAN__REFUSAL__REASON__CANNOT_STORE,
                            poisoned->why);
    }
    char why[LINK_WHY_MAX] = "";
    int rc = ctx->hooks->apply(ctx->hooks->arg, txn, ctx->peer, item->payload.data,
                               item->payload.len, why, sizeof why);
    if (rc == LINK_LATER) {
        *wait = true;
        return 0;
    }
    if (rc < 0) {
        if (error_is_systemic(ctx->store, rc))
            return rc;
        char reason[LINK_WHY_MAX];
        snprintf(reason, sizeof reason, "cannot store item %" PRIu64 ": %.100s", item->seq,
                 why[0] ? why : sf_strerror(rc));
        if ((rc = poison_add(ctx->poisons, ctx->inbound, epoch, item->seq, reason)))
            return rc;
        return SF_ERERUN;
    }
    if (rc == LINK_REFUSED || rc == LINK_OVER_LIMIT || rc == LINK_REFUSED_UNIT) {
        const char *text = why[0] ? why : "refused";
        return apply_refuse(txn, ctx, epoch, item, refusal_reason(rc), text);
    }
    return 0;
}

/* Reads the inbound stream's position into in and result. False if the
 * batch belongs to another epoch than the one established: nothing of it
 * is applied (the Hello/Welcome exchange settles the epoch). */
static bool apply_epoch_matches(const Shifan__Batch *batch, outbox_inbound_t *in,
                                link_batch_result_t *result)
{
    result->epoch = in->epoch;
    result->applied = in->applied;
    result->matched = false;
    result->applied_now = 0;
    if (batch->epoch != in->epoch) {
        /* A stream first used after the session began starts at seq 1. */
        if (in->epoch != 0 || batch->n_items == 0 || batch->items[0]->seq != 1)
            return false;
        memset(in, 0, sizeof *in);
        in->epoch = batch->epoch;
    }
    result->matched = true;
    return true;
}

int link_apply_batch(store_txn_t *txn, const link_apply_ctx_t *ctx, const Shifan__Batch *batch,
                     link_batch_result_t *result)
{
    outbox_inbound_t in;
    int rc = outbox_inbound_get(txn, ctx->store, ctx->inbound, &in);
    if (rc)
        return rc;
    if (!apply_epoch_matches(batch, &in, result))
        return 0;
    const Shifan__Item *last = NULL;
    for (size_t i = 0; i < batch->n_items; i++) {
        const Shifan__Item *item = batch->items[i];
        if (item->seq <= in.applied)
            continue; /* a resend of something applied: acknowledge again, apply never */
        if (item->seq != in.applied + 1)
            break; /* a gap: earlier frames were lost; the sender will rewind */
        bool wait = false;
        if ((rc = link_apply_item(txn, ctx, in.epoch, item, &wait)))
            return rc;
        if (wait)
            break; /* this item and the rest of the batch wait: the sender resends */
        in.applied = item->seq;
        result->applied_now++;
        last = item;
    }
    /* Only the newest applied item's digest is kept: it is what a restored
     * sender compares with its own item of that number. */
    if (last)
        outbox_digest(last->payload.data, last->payload.len, in.digest);
    if ((rc = outbox_inbound_put(txn, ctx->store, ctx->inbound, &in)))
        return rc;
    result->epoch = in.epoch;
    result->applied = in.applied;
    return 0;
}

/* Runs a transaction function that applies items, again without each item
 * it poisons, until it commits or fails for a systemic reason. */
int link_write_refusing(store_t *store, store_txn_fn fn, void *arg, link_poisons_t *poisons)
{
    poisons->count = 0;
    for (int attempt = 0;; attempt++) {
        poisons->added = false;
        int rc = store_write(store, fn, arg);
        if (rc != SF_ERERUN || attempt > CODEC_MAX_ITEMS * LINK_DRAIN_MAX)
            return rc == SF_ERERUN ? SF_ESTORE : rc;
    }
}

void link_send_refusals(void (*send)(void *, const Shifan__Envelope *), void *ctx,
                        const link_refusals_t *refusals)
{
    for (size_t i = 0; i < refusals->count; i++) {
        Shifan__Refusal refusal = SHIFAN__REFUSAL__INIT;
        refusal.reason = (Shifan__Refusal__Reason)refusals->items[i].reason;
        refusal.has_seq = 1;
        refusal.seq = refusals->items[i].seq;
        refusal.detail = (char *)refusals->items[i].why;
        Shifan__Envelope envelope;
        link_envelope_init(&envelope);
        envelope.body_case = SHIFAN__ENVELOPE__BODY_REFUSAL;
        envelope.refusal = &refusal;
        send(ctx, &envelope);
    }
}
