/* link_import.c - a package's items applied at the parent as the link
 * would (link.h, link_import): the same batch apply, refusals and poison
 * handling as link_server.c, in one transaction of its own. */
#include "base/error.h"
#include "storage/outbox.h"
#include "transport/link.h"
#include "transport/link_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    store_t *store;
    const link_hooks_t *hooks;
    const char *peer;
    char inbound[OUTBOX_STREAM_MAX]; /* "u:<peer>" */
    char notice[OUTBOX_STREAM_MAX];  /* "d:<peer>" */
    Shifan__Batch batch;
    link_refusals_t refusals;
    link_poisons_t poisons;
    link_import_result_t counts; /* of the run that committed */
} import_t;

/* Everything the batch apply did not consume in the stream: applied (or
 * refused) without moving the position. */
static int import_loose(store_txn_t *txn, import_t *self, const link_apply_ctx_t *ctx,
                        const link_batch_result_t *at, uint64_t before)
{
    for (size_t i = 0; i < self->batch.n_items; i++) {
        const Shifan__Item *item = self->batch.items[i];
        if (at->matched && item->seq <= before) {
            self->counts.duplicates++;
            continue;
        }
        if (at->matched && item->seq <= at->applied) {
            self->counts.in_stream++;
            continue;
        }
        bool wait = false;
        int rc = link_apply_item(txn, ctx, self->batch.epoch, item, &wait);
        if (rc)
            return rc;
        if (wait)
            self->counts.later++;
        else
            self->counts.applied++;
    }
    return 0;
}

static int import_txn_fn(store_txn_t *txn, void *arg)
{
    import_t *self = arg;
    memset(&self->counts, 0, sizeof self->counts);
    self->refusals.count = 0;
    link_apply_ctx_t ctx = {self->store,  self->hooks,     self->peer,    self->inbound,
                            self->notice, &self->refusals, &self->poisons};
    outbox_inbound_t in;
    int rc = outbox_inbound_get(txn, self->store, self->inbound, &in);
    if (rc)
        return rc;
    uint64_t before = in.epoch == self->batch.epoch ? in.applied : 0;
    link_batch_result_t at;
    if ((rc = link_apply_batch(txn, &ctx, &self->batch, &at)) ||
        (rc = import_loose(txn, self, &ctx, &at, before)))
        return rc;
    self->counts.applied += self->counts.in_stream;
    self->counts.epoch = at.epoch;
    self->counts.position = at.applied;
    return 0;
}

/* The items as the Batch the link would have carried. */
static int import_batch(import_t *self, uint64_t epoch, uint64_t first_seq,
                        const link_item_t *items, size_t count, Shifan__Item **storage)
{
    Shifan__Item *list = calloc(count ? count : 1, sizeof *list);
    Shifan__Item **pointers = calloc(count ? count : 1, sizeof *pointers);
    if (!list || !pointers) {
        free(list);
        free(pointers);
        return SF_ENOMEM;
    }
    for (size_t i = 0; i < count; i++) {
        shifan__item__init(&list[i]);
        list[i].seq = first_seq + i;
        list[i].payload.data = (uint8_t *)items[i].data;
        list[i].payload.len = items[i].len;
        pointers[i] = &list[i];
    }
    shifan__batch__init(&self->batch);
    self->batch.epoch = epoch;
    self->batch.n_items = count;
    self->batch.items = pointers;
    *storage = list;
    return 0;
}

/* The refusals of the committed run, into result (their list NULL if
 * memory runs out: they were noticed durably to the sender all the same). */
static void import_refusals(const import_t *self, link_import_result_t *result)
{
    result->refused = self->refusals.count;
    result->refusals = NULL;
    if (!self->refusals.count ||
        !(result->refusals = calloc(self->refusals.count, sizeof *result->refusals)))
        return;
    for (size_t i = 0; i < self->refusals.count; i++) {
        result->refusals[i].seq = self->refusals.items[i].seq;
        snprintf(result->refusals[i].why, sizeof result->refusals[i].why, "%s",
                 self->refusals.items[i].why);
    }
}

int link_import(store_t *store, const link_hooks_t *hooks, const char *peer, uint64_t epoch,
                uint64_t first_seq, const link_item_t *items, size_t count,
                link_import_result_t *result)
{
    memset(result, 0, sizeof *result);
    if (!peer || !*peer || strlen(peer) + 3 > OUTBOX_STREAM_MAX)
        return SF_EINVAL;
    import_t self;
    memset(&self, 0, sizeof self);
    self.store = store;
    self.hooks = hooks;
    self.peer = peer;
    link_inbound_up_stream(self.inbound, sizeof self.inbound, peer);
    link_down_stream(self.notice, sizeof self.notice, peer);
    Shifan__Item *storage = NULL;
    int rc = import_batch(&self, epoch, first_seq, items, count, &storage);
    if (rc)
        return rc;
    rc = link_write_refusing(store, import_txn_fn, &self, &self.poisons);
    if (rc == 0) {
        *result = self.counts;
        import_refusals(&self, result);
        /* A refused item was counted as consumed (in the stream or not). */
        result->applied -=
            result->applied >= self.refusals.count ? self.refusals.count : result->applied;
    }
    free(self.refusals.items);
    free(self.poisons.items);
    free(self.batch.items);
    free(storage);
    return rc;
}

void link_import_result_free(link_import_result_t *result)
{
    if (!result)
        return;
    free(result->refusals);
    memset(result, 0, sizeof *result);
}
