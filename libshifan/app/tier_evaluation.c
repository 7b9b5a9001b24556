/* tier_evaluation.c - evaluation over everything a node stores, and the
 * province's published results: each hub gets the part of its area and
 * passes each county its own, in the commit that keeps it. */
#include "app/tier_internal.h"
#include "base/msg.h"
#include "base/error.h"
#include "base/slog.h"
#include "storage/outbox.h"
#include "transport/link.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct load_arg {
    tier_t *self;
    engine_input_t *input;
    codec_arena_t *arena; /* decoding every stored record: no malloc per field */
    const tier_load_watch_t *watch;
};

struct load_walk {
    struct load_arg *load;
    store_db_t db;
    const char *root;
};

static int load_report_one(const void *key, size_t klen, const void *value, size_t len, void *arg)
{
    struct load_walk *w = arg;
    const tier_load_watch_t *watch = w->db == DB_REPORTS ? w->load->watch : NULL;
    if (watch && watch->known && watch->known(key, klen, watch->arg))
        return 0;
    Shifan__Payload *payload = codec_payload_unpack_arena(w->load->arena, value, len);
    const Shifan__Report *wire = NULL;
    if (payload && payload->body_case == SHIFAN__PAYLOAD__BODY_REPORT)
        wire = payload->report;
    else if (payload && payload->body_case == SHIFAN__PAYLOAD__BODY_INSPECTION)
        wire = payload->inspection;
    char err[256];
    report_t *report = wire ? report_from_proto(wire, err, sizeof err) : NULL;
    int result = 0;
    if (!report) {
        slog_warn("skipping an unreadable record in the store (%.*s)", (int)klen,
                  (const char *)key);
    } else if (w->db == DB_REPORTS) {
        int64_t received = payload->n_receipts ? payload->receipts[0]->received_at : 0;
        result = engine_input_add_report(w->load->input, report, received);
    } else {
        engine_tier_t tier =
            strcmp(report->origin, w->root) == 0 ? ENGINE_TIER_PROVINCE : ENGINE_TIER_PREFECTURE;
        result = engine_input_add_inspection(w->load->input, report, tier);
    }
    /* A record the programme in use does not know (an old unit, say) is
     * left out of this evaluation, not an error of the whole run. */
    if (result == SF_EINVAL)
        result = 0;
    if (result == 0 && watch && watch->loaded)
        result = watch->loaded(key, klen, watch->arg);
    report_destroy(&report);
    codec_payload_free_arena(w->load->arena, payload);
    return result;
}

static int load_return_one(const void *key, size_t klen, const void *value, size_t len, void *arg)
{
    struct load_arg *a = arg;
    (void)key, (void)klen;
    Shifan__Payload *payload = codec_payload_unpack(value, len);
    if (payload && payload->body_case == SHIFAN__PAYLOAD__BODY_RETURN_FOR_CORRECTION) {
        const Shifan__Return *ret = payload->return_for_correction;
        engine_input_add_return(a->input, ret->unit, (int)ret->year, ret->report_id, ret->reason,
                                ret->returned_at);
    }
    codec_payload_free(payload);
    return 0;
}

bool tier_recommendation_counts(const tier_t *self, const Shifan__Recommendation *rec)
{
    /* A hub's own unconfirmed list is only a copy of its ranking: the
     * engine recomputes that from current data. */
    return self->role != ROLE_PREFECTURE || rec->confirmed;
}

static int load_recommendation_one(const void *key, size_t klen, const void *value, size_t len,
                                   void *arg)
{
    struct load_arg *a = arg;
    (void)key, (void)klen;
    Shifan__Payload *payload = codec_payload_unpack(value, len);
    if (payload && payload->body_case == SHIFAN__PAYLOAD__BODY_RECOMMENDATION) {
        const Shifan__Recommendation *rec = payload->recommendation;
        if (tier_recommendation_counts(a->self, rec))
            engine_input_add_recommendation(a->input, rec->prefecture, (int)rec->year,
                                            (const char *const *)rec->units, rec->n_units,
                                            rec->confirmed, rec->made_at, rec->revision);
    }
    codec_payload_free(payload);
    return 0;
}

int tier_load_into(tier_t *self, store_txn_t *txn, engine_input_t *input, bool reports_only,
                   const tier_load_watch_t *watch)
{
    codec_arena_t *arena = codec_arena_new(256u << 10, NULL);
    if (!arena)
        return SF_ENOMEM;
    struct load_arg a = {self, input, arena, watch};
    store_t *store = self->store;
    struct load_walk reports = {&a, DB_REPORTS, tier_programme_root(self->programme)};
    struct load_walk inspections = {&a, DB_INSPECTIONS, reports.root};
    int rc = store_each(txn, store, DB_REPORTS, NULL, 0, load_report_one, &reports);
    if (rc == 0 && !reports_only &&
        !(rc = store_each(txn, store, DB_INSPECTIONS, NULL, 0, load_report_one, &inspections)) &&
        !(rc = store_each(txn, store, DB_RETURNS, NULL, 0, load_return_one, &a)))
        rc = store_each(txn, store, DB_RECOMMENDATIONS, NULL, 0, load_recommendation_one, &a);
    codec_arena_destroy(&arena);
    return rc;
}

struct load_all_arg {
    tier_t *self;
    engine_input_t *input;
};

static int load_fn(store_txn_t *txn, void *arg)
{
    struct load_all_arg *a = arg;
    return tier_load_into(a->self, txn, a->input, false, NULL);
}

engine_input_t *tier_load_input(tier_t *self, char *err, size_t errsize)
{
    engine_input_t *input = engine_input_new(self->programme, NULL);
    if (!input) {
        snprintf(err, errsize, msg("out of memory"));
        return NULL;
    }
    struct load_all_arg arg = {self, input};
    int rc = store_read(self->store, load_fn, &arg);
    if (rc) {
        snprintf(err, errsize, msg("cannot read the store: %s"), sf_strerror(rc));
        engine_input_destroy(&input);
    }
    return input;
}

int tier_evaluate(tier_t *self, int year, const char *scope, int64_t now, engine_result_t **result,
                  char *err, size_t errsize)
{
    if (!programme_has_year(self->programme, year)) {
        snprintf(err, errsize, msg("--year %d: programme %s covers %d-%d"), year,
                 programme_id(self->programme), programme_first_year(self->programme),
                 programme_last_year(self->programme));
        return SF_EINVAL;
    }
    engine_input_t *input = tier_load_input(self, err, errsize);
    if (!input)
        return SF_ESTORE;
    int rc = engine_evaluate(input, year, now, scope, result, err, errsize);
    engine_input_destroy(&input);
    /* Only the province holds every county's and hub's signing key: a
     * hub's or county's check would tell what it cannot know. */
    if (rc == 0 && self->role == ROLE_PROVINCE && (rc = tier_attach_provenance(self, *result))) {
        snprintf(err, errsize, msg("cannot check the reports' signatures: %s"), sf_strerror(rc));
        engine_result_destroy(result);
    }
    return rc;
}

/* ---- evaluation results, downward ---- */

static void evaluation_key(char *key, size_t size, unsigned year)
{
    snprintf(key, size, "evaluation/%u", year);
}

/* The part of a result that concerns `area`: its units, the quota holders
 * in it or above it, and the province summary. */
static json_t *result_for(const programme_t *programme, const json_t *full, const char *area)
{
    json_t *part = json_deep_copy(full);
    json_t *units = json_array(), *prefectures = json_array();
    size_t index;
    json_t *item;
    json_array_foreach(json_object_get(full, "units"), index, item)
    {
        const char *code = json_string_value(json_object_get(item, "code"));
        if (code && programme_unit_within(programme, code, area))
            json_array_append(units, item);
    }
    json_array_foreach(json_object_get(full, "prefectures"), index, item)
    {
        const char *code = json_string_value(json_object_get(item, "code"));
        if (code && (programme_unit_within(programme, code, area) ||
                     programme_unit_within(programme, area, code)))
            json_array_append(prefectures, item);
    }
    json_object_set_new(part, "units", units);
    json_object_set_new(part, "prefectures", prefectures);
    json_object_set_new(part, "published_for", json_string(area));
    return part;
}

/* Stores a result document for a year here (overwriting an older one). */
static int evaluation_put(tier_t *self, store_txn_t *txn, unsigned year, const uint8_t *bytes,
                          size_t len)
{
    char key[32];
    evaluation_key(key, sizeof key, year);
    return store_put(txn, self->store, DB_PROGRAMMES, key, strlen(key), bytes, len, 0);
}

struct evaluation_part {
    const json_t *full;
    unsigned year;
    int64_t evaluated_at;
    bool skip_oversized; /* a hub: see evaluation_to_child */
};

/* Queues to one child the part of the result for its area. */
static int evaluation_to_child(tier_t *self, store_txn_t *txn, const char *code, void *arg)
{
    const struct evaluation_part *a = arg;
    json_t *part = result_for(self->programme, a->full, code);
    char *text = json_dumps(part, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(part);
    if (!text)
        return SF_ENOMEM;
    Shifan__EvaluationResult result = SHIFAN__EVALUATION_RESULT__INIT;
    result.year = a->year;
    result.document.data = (uint8_t *)text;
    result.document.len = strlen(text);
    result.evaluated_at = a->evaluated_at;
    Shifan__Payload payload = SHIFAN__PAYLOAD__INIT;
    payload.body_case = SHIFAN__PAYLOAD__BODY_EVALUATION;
    payload.evaluation = &result;
    uint8_t *bytes;
    size_t len;
    int rc = codec_payload_pack(&payload, &bytes, &len);
    if (rc == 0)
        rc = tier_sign(self, &bytes, &len);
    free(text);
    /* jansson writes reals in full (1e5 becomes 100000.0), so a part can
     * outgrow the document it came from. A hub must not fail the item from
     * its parent, nor a child's Hello, for it: the link would retry for
     * ever. The county goes without, and the log says so. */
    if (rc == SF_ETOOBIG && a->skip_oversized) {
        slog_error("the evaluation of %u for %s is too large to pass on; not sent", a->year, code);
        return 0;
    }
    if (rc)
        return rc;
    char stream[OUTBOX_STREAM_MAX];
    link_down_stream(stream, sizeof stream, code);
    rc = outbox_append_once(txn, self->store, stream, bytes, len, NULL);
    free(bytes);
    return rc;
}

static int evaluation_to_children(tier_t *self, store_txn_t *txn, const json_t *full, unsigned year,
                                  int64_t evaluated_at)
{
    struct evaluation_part part = {full, year, evaluated_at, self->role == ROLE_PREFECTURE};
    return tier_each_child(self, txn, evaluation_to_child, &part);
}

struct queue_evaluations_arg {
    tier_t *self;
    store_txn_t *txn;
    const char *child;
};

static int queue_evaluation_one(const void *key, size_t klen, const void *value, size_t len,
                                void *arg)
{
    struct queue_evaluations_arg *a = arg;
    (void)key, (void)klen;
    Shifan__Payload *payload = codec_payload_unpack(value, len);
    json_t *full = payload && payload->body_case == SHIFAN__PAYLOAD__BODY_EVALUATION
                       ? json_loadb((const char *)payload->evaluation->document.data,
                                    payload->evaluation->document.len, 0, NULL)
                       : NULL;
    int result = 0;
    if (full) {
        struct evaluation_part part = {full, payload->evaluation->year,
                                       payload->evaluation->evaluated_at, true};
        result = evaluation_to_child(a->self, a->txn, a->child, &part);
    }
    json_decref(full);
    codec_payload_free(payload);
    return result;
}

int tier_queue_evaluations(tier_t *self, store_txn_t *txn, const char *child)
{
    static const char prefix[] = "evaluation/";
    struct queue_evaluations_arg arg = {self, txn, child};
    return store_each(txn, self->store, DB_PROGRAMMES, prefix, sizeof prefix - 1,
                      queue_evaluation_one, &arg);
}

int tier_apply_evaluation(tier_t *self, store_txn_t *txn, const Shifan__Payload *payload, char *why,
                          size_t whysize)
{
    const Shifan__EvaluationResult *result = payload->evaluation;
    json_error_t error;
    json_t *document = json_loadb((const char *)result->document.data, result->document.len,
                                  JSON_REJECT_DUPLICATES, &error);
    if (!json_is_object(document)) {
        json_decref(document);
        return tier_refuse(why, whysize, "malformed: an evaluation result is not JSON: %s%s",
                           error.text, "");
    }
    uint8_t *bytes;
    size_t len;
    int rc = codec_payload_pack(payload, &bytes, &len);
    if (rc == 0)
        rc = evaluation_put(self, txn, result->year, bytes, len);
    free(bytes);
    if (rc == 0 && self->role == ROLE_PREFECTURE)
        rc = evaluation_to_children(self, txn, document, result->year, result->evaluated_at);
    if (rc == 0)
        slog_info("received the province's evaluation of %u", result->year);
    json_decref(document);
    return rc;
}

struct publish_evaluation_arg {
    tier_t *self;
    const json_t *document;
    unsigned year;
    int64_t now;
};

static int publish_evaluation_fn(store_txn_t *txn, void *arg)
{
    struct publish_evaluation_arg *a = arg;
    return evaluation_to_children(a->self, txn, a->document, a->year, a->now);
}

int tier_publish_evaluation(tier_t *self, int year, const char *document, int64_t now, char *err,
                            size_t errsize)
{
    if (self->role != ROLE_PROVINCE) {
        snprintf(err, errsize, msg("only the province publishes evaluations"));
        return SF_EINVAL;
    }
    json_error_t error;
    json_t *full = json_loads(document, 0, &error);
    if (!full) {
        snprintf(err, errsize, msg("the result is not JSON: %s"), error.text);
        return SF_EINVAL;
    }
    struct publish_evaluation_arg arg = {self, full, (unsigned)year, now};
    int rc = store_write(self->store, publish_evaluation_fn, &arg);
    json_decref(full);
    if (rc)
        snprintf(err, errsize, msg("cannot queue the evaluation: %s"), sf_strerror(rc));
    return rc;
}

struct published_arg {
    tier_t *self;
    unsigned year;
    char *document;
};

static int published_fn(store_txn_t *txn, void *arg)
{
    struct published_arg *a = arg;
    char key[32];
    evaluation_key(key, sizeof key, a->year);
    const void *value;
    size_t len;
    int rc = store_get(txn, a->self->store, DB_PROGRAMMES, key, strlen(key), &value, &len);
    if (rc)
        return rc;
    Shifan__Payload *payload = codec_payload_unpack(value, len);
    if (payload && payload->body_case == SHIFAN__PAYLOAD__BODY_EVALUATION)
        a->document = strndup((const char *)payload->evaluation->document.data,
                              payload->evaluation->document.len);
    codec_payload_free(payload);
    return a->document ? 0 : SF_ECORRUPT;
}

char *tier_published_evaluation(tier_t *self, int year, char *err, size_t errsize)
{
    struct published_arg arg = {self, (unsigned)year, NULL};
    int rc = store_read(self->store, published_fn, &arg);
    if (rc == SF_ENOTFOUND)
        snprintf(err, errsize, msg("no evaluation of %d has been published to this node yet"),
                 year);
    else if (rc)
        snprintf(err, errsize, msg("cannot read the published evaluation: %s"), sf_strerror(rc));
    return arg.document;
}
