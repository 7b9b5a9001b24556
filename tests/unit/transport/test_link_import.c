/* A package's items applied at the parent as the link would (link.h,
 * link_import), on a real LMDB store: items that continue the inbound
 * stream move its position (and its digest), a second import skips them as
 * duplicates, items beyond a gap or of another epoch go through the hook
 * without moving the position, and a refused item is consumed, listed and
 * noticed to the sender. The hook stores each payload under its own text
 * (dedup by id, as node_apply stores reports). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "storage/outbox.h"
#include "transport/link.h"
#include "../storage/store_fixture.h"

#define CHILD "530102"
#define EPOCH 0x5151515151515151ULL

typedef struct {
    store_t *store;
    int calls, stored, refused_notices;
    uint64_t last_refused_seq;
} hook_state_t;

static int test_apply(void *arg, store_txn_t *txn, const char *peer, const uint8_t *payload,
                      size_t len, char *why, size_t whysize)
{
    hook_state_t *state = arg;
    assert_string_equal(peer, CHILD);
    state->calls++;
    if (len >= 6 && memcmp(payload, "refuse", 6) == 0) {
        snprintf(why, whysize, "refused for the test");
        return LINK_REFUSED;
    }
    int rc = store_put(txn, state->store, DB_REPORTS, payload, len, "x", 1, STORE_NOOVERWRITE);
    if (rc == SF_EEXIST)
        return 0; /* known by id: changes nothing */
    if (rc == 0)
        state->stored++;
    return rc;
}

static int test_refused(void *arg, store_txn_t *txn, const char *peer, uint64_t epoch, uint64_t seq,
                        const uint8_t *payload, size_t len, int reason, const char *why)
{
    hook_state_t *state = arg;
    (void)txn, (void)peer, (void)epoch, (void)payload, (void)len, (void)reason, (void)why;
    state->refused_notices++;
    state->last_refused_seq = seq;
    return 0;
}

/* Items named "item-<seq>" (or the text given) from first to last. */
static link_import_result_t import(hook_state_t *state, uint64_t epoch, uint64_t first,
                                   const char *const *texts, size_t count)
{
    link_item_t items[16];
    for (size_t i = 0; i < count; i++)
        items[i] = (link_item_t){(const uint8_t *)texts[i], strlen(texts[i])};
    link_hooks_t hooks = {state, test_apply, test_refused, NULL, NULL, NULL, NULL};
    link_import_result_t result;
    assert_int_equal(link_import(state->store, &hooks, CHILD, epoch, first, items, count, &result),
                     0);
    return result;
}

static int inbound_fn(store_txn_t *txn, void *arg)
{
    hook_state_t *state = ((void **)arg)[0];
    return outbox_inbound_get(txn, state->store, "u:" CHILD, ((void **)arg)[1]);
}

static outbox_inbound_t inbound(hook_state_t *state)
{
    outbox_inbound_t in;
    void *args[2] = {state, &in};
    assert_int_equal(store_read(state->store, inbound_fn, args), 0);
    return in;
}

static const char *const numbered[] = {"item-1", "item-2", "item-3", "item-4", "item-5", "item-6"};

static void continuing_items_move_the_position_once(void **fixture)
{
    hook_state_t state = {((store_fixture_t *)*fixture)->store, 0, 0, 0, 0};
    link_import_result_t result = import(&state, EPOCH, 1, numbered, 3);
    assert_int_equal(result.applied, 3);
    assert_int_equal(result.in_stream, 3);
    assert_int_equal(result.duplicates, 0);
    assert_int_equal(result.position, 3);
    assert_int_equal(state.stored, 3);
    outbox_inbound_t in = inbound(&state);
    assert_true(in.epoch == EPOCH);
    assert_int_equal(in.applied, 3);
    uint8_t digest[OUTBOX_DIGEST_LEN];
    outbox_digest("item-3", 6, digest); /* what a restored sender compares */
    assert_memory_equal(in.digest, digest, sizeof digest);
    link_import_result_free(&result);

    /* Again, and one more: the three skipped, the fourth continues. */
    state.calls = 0;
    result = import(&state, EPOCH, 1, numbered, 4);
    assert_int_equal(result.duplicates, 3);
    assert_int_equal(result.applied, 1);
    assert_int_equal(result.in_stream, 1);
    assert_int_equal(state.calls, 1);
    assert_int_equal(inbound(&state).applied, 4);
    link_import_result_free(&result);
}

static void items_beyond_a_gap_apply_without_moving_the_position(void **fixture)
{
    hook_state_t state = {((store_fixture_t *)*fixture)->store, 0, 0, 0, 0};
    link_import_result_t result = import(&state, EPOCH, 1, numbered, 2);
    link_import_result_free(&result);
    result = import(&state, EPOCH, 5, numbered + 4, 2); /* 3 and 4 never came */
    assert_int_equal(result.applied, 2);
    assert_int_equal(result.in_stream, 0);
    assert_int_equal(result.position, 2);
    assert_int_equal(state.stored, 4);
    link_import_result_free(&result);
    /* The missing ones come (by the link or a package): 3..6 continue the
     * stream; 5 and 6 change nothing the second time. */
    result = import(&state, EPOCH, 3, numbered + 2, 4);
    assert_int_equal(result.in_stream, 4);
    assert_int_equal(result.position, 6);
    assert_int_equal(state.stored, 6);
    link_import_result_free(&result);
}

static void another_epoch_applies_without_moving_the_position(void **fixture)
{
    hook_state_t state = {((store_fixture_t *)*fixture)->store, 0, 0, 0, 0};
    link_import_result_t result = import(&state, EPOCH, 1, numbered, 2);
    link_import_result_free(&result);
    const char *const fresh[] = {"item-a", "item-1"};
    result = import(&state, EPOCH + 1, 1, fresh, 2);
    assert_int_equal(result.applied, 2);
    assert_int_equal(result.in_stream, 0);
    assert_int_equal(result.duplicates, 0);
    assert_int_equal(state.stored, 3); /* item-1 is known by id */
    outbox_inbound_t in = inbound(&state);
    assert_true(in.epoch == EPOCH);
    assert_int_equal(in.applied, 2);
    link_import_result_free(&result);
}

static void a_refused_item_is_consumed_listed_and_noticed(void **fixture)
{
    hook_state_t state = {((store_fixture_t *)*fixture)->store, 0, 0, 0, 0};
    const char *const texts[] = {"item-1", "refuse-2", "item-3"};
    link_import_result_t result = import(&state, EPOCH, 1, texts, 3);
    assert_int_equal(result.applied, 2);
    assert_int_equal(result.refused, 1);
    assert_non_null(result.refusals);
    assert_int_equal(result.refusals[0].seq, 2);
    assert_string_equal(result.refusals[0].why, "refused for the test");
    assert_int_equal(result.position, 3);
    assert_int_equal(state.refused_notices, 1);
    assert_int_equal(state.last_refused_seq, 2);
    link_import_result_free(&result);
    assert_null(result.refusals);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(continuing_items_move_the_position_once,
                                        store_fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(items_beyond_a_gap_apply_without_moving_the_position,
                                        store_fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(another_epoch_applies_without_moving_the_position,
                                        store_fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(a_refused_item_is_consumed_listed_and_noticed,
                                        store_fixture_setup, store_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
