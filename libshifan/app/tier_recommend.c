/* tier_recommend.c - the hub's recommendation: its ranking per quota
 * holder, provisional lists its daemon refreshes when the data changed,
 * lists confirmed by `recommend --confirm`, and their arrival at the
 * province. */
#include "app/tier_internal.h"
#include "base/msg.h"
#include "base/error.h"
#include "base/slog.h"
#include "base/stime.h"
#include "storage/outbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void recommendation_key(char *key, size_t size, const char *prefecture, unsigned year)
{
    snprintf(key, size, "%s/%u", prefecture, year);
}

/* The stored recommendation of a prefecture-year, decoded (NULL if none). */
static Shifan__Payload *recommendation_get(store_txn_t *txn, tier_t *self, const char *prefecture,
                                           unsigned year)
{
    char key[48];
    recommendation_key(key, sizeof key, prefecture, year);
    const void *value;
    size_t len;
    if (store_get(txn, self->store, DB_RECOMMENDATIONS, key, strlen(key), &value, &len) != 0)
        return NULL;
    Shifan__Payload *payload = codec_payload_unpack(value, len);
    if (payload && payload->body_case != SHIFAN__PAYLOAD__BODY_RECOMMENDATION) {
        codec_payload_free(payload);
        return NULL;
    }
    return payload;
}

int tier_apply_recommendation(tier_t *self, store_txn_t *txn, const char *peer,
                              const Shifan__Payload *payload, const uint8_t *raw, size_t len,
                              char *why, size_t whysize)
{
    const Shifan__Recommendation *rec = payload->recommendation;
    /* A hub recommends for the quota holders in its area: itself, or (sites
     * programmes) each of its counties. */
    if (self->role != ROLE_PROVINCE ||
        !programme_unit_within(self->programme, rec->prefecture, peer))
        return tier_refuse(why, whysize, "the key of %s may not recommend for %s", peer,
                           rec->prefecture);
    for (size_t i = 0; i < rec->n_units; i++)
        if (!programme_unit_within(self->programme, rec->units[i], rec->prefecture))
            return tier_refuse(why, whysize, "%s recommends %s, which is not its unit", peer,
                               rec->units[i]);
    /* A confirmed list is final: no provisional one replaces it. Between
     * lists of the same kind the newest wins by the time it was made, then
     * by revision: a hub restored from an older backup counts revisions from
     * a lower number again, and its new lists must still count. */
    Shifan__Payload *current = recommendation_get(txn, self, rec->prefecture, rec->year);
    const Shifan__Recommendation *held = current ? current->recommendation : NULL;
    bool older = held && ((held->confirmed && !rec->confirmed) ||
                          (held->confirmed == rec->confirmed &&
                           (held->made_at > rec->made_at ||
                            (held->made_at == rec->made_at && held->revision >= rec->revision))));
    codec_payload_free(current);
    if (older) {
        slog_info("%s sent an older recommendation for %u (revision %llu); kept the newer one",
                  peer, rec->year, (unsigned long long)rec->revision);
        return 0;
    }
    char key[48];
    recommendation_key(key, sizeof key, rec->prefecture, rec->year);
    int rc = store_put(txn, self->store, DB_RECOMMENDATIONS, key, strlen(key), raw, len, 0);
    if (rc == 0)
        rc = tier_touch_data(self, txn);
    if (rc == 0)
        slog_info("%s %s recommendation for %u (revision %llu): %zu unit(s)", peer,
                  rec->confirmed ? "confirmed its" : "sent a provisional", rec->year,
                  (unsigned long long)rec->revision, rec->n_units);
    return rc;
}

/* ---- the hub's recommendation ---- */

struct recommend_arg {
    tier_t *self;
    unsigned year;
    const char *holder; /* the quota holder the list is for */
    const char *const *units;
    size_t count;
    bool confirm;
    int64_t now;
    bool queued;
    Shifan__Payload *existing; /* out: the list stored before */
};

static bool same_units(const Shifan__Recommendation *rec, const char *const *units, size_t count)
{
    if (rec->n_units != count)
        return false;
    for (size_t i = 0; i < count; i++)
        if (strcmp(rec->units[i], units[i]) != 0)
            return false;
    return true;
}

static int recommendation_pack(const struct recommend_arg *a, uint64_t revision, uint8_t **bytes,
                               size_t *len)
{
    Shifan__Recommendation rec = SHIFAN__RECOMMENDATION__INIT;
    rec.prefecture = (char *)a->holder;
    rec.year = a->year;
    rec.units = (char **)a->units;
    rec.n_units = a->count;
    rec.confirmed = a->confirm;
    rec.made_at = a->now;
    rec.revision = revision;
    Shifan__Payload payload = SHIFAN__PAYLOAD__INIT;
    payload.body_case = SHIFAN__PAYLOAD__BODY_RECOMMENDATION;
    payload.recommendation = &rec;
    int rc = codec_payload_pack(&payload, bytes, len);
    return rc ? rc : tier_sign(a->self, bytes, len);
}

static int recommend_fn(store_txn_t *txn, void *arg)
{
    struct recommend_arg *a = arg;
    tier_t *self = a->self;
    a->queued = false;
    codec_payload_free(a->existing);
    a->existing = recommendation_get(txn, self, a->holder, a->year);
    uint64_t revision = 1;
    if (a->existing) {
        const Shifan__Recommendation *current = a->existing->recommendation;
        if (current->confirmed)
            return 0; /* final: neither the ranking nor a second confirm changes it */
        if (!a->confirm && same_units(current, a->units, a->count))
            return 0;
        revision = current->revision + 1;
    }
    uint8_t *bytes;
    size_t len;
    int rc = recommendation_pack(a, revision, &bytes, &len);
    if (rc)
        return rc;
    char key[48];
    recommendation_key(key, sizeof key, a->holder, a->year);
    rc = store_put(txn, self->store, DB_RECOMMENDATIONS, key, strlen(key), bytes, len, 0);
    if (rc == 0)
        rc = outbox_append(txn, self->store, TIER_UP_STREAM, bytes, len, NULL);
    free(bytes);
    a->queued = rc == 0;
    return rc;
}

static int existing_fn(store_txn_t *txn, void *arg)
{
    struct recommend_arg *a = arg;
    a->existing = recommendation_get(txn, a->self, a->holder, a->year);
    return 0;
}

/* The automatic list of one quota holder: the prefecture itself in Yunnan,
 * each county of the city in Qinhuangdao (whose sites are evaluated). */
typedef struct {
    const char *holder;
    int quota;
    const char **units;
    size_t count;
} ranking_t;

static void rankings_free(ranking_t *rankings, size_t count)
{
    for (size_t i = 0; rankings && i < count; i++)
        free(rankings[i].units);
    free(rankings);
}

/* The hub's current rankings for a year, one per quota holder in its area.
 * Strings point into *result: destroy it after the rankings. */
static int current_rankings(tier_t *self, const engine_input_t *input, int year, int64_t now,
                            engine_result_t **result, ranking_t **rankings, size_t *count,
                            char *err, size_t errsize)
{
    int rc = engine_evaluate(input, year, now, self->code, result, err, errsize);
    if (rc)
        return rc;
    *count = engine_result_prefecture_count(*result);
    *rankings = calloc(*count ? *count : 1, sizeof **rankings);
    if (!*rankings)
        return SF_ENOMEM;
    for (size_t i = 0; i < *count; i++) {
        const engine_prefecture_result_t *pref = engine_result_prefecture(*result, i);
        ranking_t *ranking = &(*rankings)[i];
        ranking->holder = pref->unit->code;
        ranking->quota = pref->quota;
        ranking->count = pref->automatic_count;
        if (!(ranking->units = calloc(ranking->count + 1, sizeof *ranking->units)))
            return SF_ENOMEM;
        for (size_t u = 0; u < ranking->count; u++)
            ranking->units[u] = pref->automatic[u]->unit->code;
    }
    return 0;
}

void tier_recommendations_destroy(tier_recommendations_t **self_p)
{
    tier_recommendations_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->count; i++) {
        for (size_t u = 0; u < self->lists[i].unit_count; u++)
            free(self->lists[i].units[u]);
        free(self->lists[i].units);
    }
    free(self->lists);
    free(self);
    *self_p = NULL;
}

/* Fills one list of the answer (copies: the caller's outlive the ranking). */
static int list_fill(tier_recommendation_t *list, const char *holder, int quota, bool confirmed,
                     const char *const *units, size_t count)
{
    snprintf(list->holder, sizeof list->holder, "%s", holder);
    list->quota = quota;
    list->confirmed = confirmed;
    if (!(list->units = calloc(count ? count : 1, sizeof *list->units)))
        return SF_ENOMEM;
    for (size_t i = 0; i < count; i++) {
        if (!(list->units[i] = strdup(units[i])))
            return SF_ENOMEM;
        list->unit_count = i + 1;
    }
    return 0;
}

/* One holder's answer to `recommend`: with confirm (and units), its list is
 * made final and queued; a list confirmed before stands whatever the
 * ranking says now. */
static int recommend_holder(tier_t *self, int year, const ranking_t *ranking, bool confirm,
                            const char *operator_name, int64_t now, tier_recommendation_t *list)
{
    /* An empty list is not confirmed: a holder whose units report late
     * must not be locked out of the year by a confirm of the others. */
    bool confirm_this = confirm && ranking->count > 0;
    struct recommend_arg arg = {self,
                                (unsigned)year,
                                ranking->holder,
                                ranking->units,
                                ranking->count,
                                confirm_this,
                                now,
                                false,
                                NULL};
    int rc = confirm_this ? store_write(self->store, recommend_fn, &arg)
                          : store_read(self->store, existing_fn, &arg);
    if (rc)
        return rc;
    const Shifan__Recommendation *earlier = arg.existing ? arg.existing->recommendation : NULL;
    bool final = earlier && earlier->confirmed;
    rc = final ? list_fill(list, ranking->holder, ranking->quota, true,
                           (const char *const *)earlier->units, earlier->n_units)
               : list_fill(list, ranking->holder, ranking->quota, confirm_this, ranking->units,
                           ranking->count);
    if (confirm_this && arg.queued)
        slog_info("recommendation of %s for %d confirmed by %s: %zu unit(s); queued to the "
                  "province",
                  ranking->holder, year, operator_name, ranking->count);
    codec_payload_free(arg.existing);
    return rc;
}

/* The calendar's deadline for the year's list: a confirm after it is
 * refused unless the operator overrides it, and an override is logged. */
static int recommend_deadline(const tier_t *self, int year, const tier_recommend_request_t *request,
                              const char *who, int64_t now, char *err, size_t errsize)
{
    int64_t deadline = programme_deadline(self->programme, STAGE_RECOMMENDATION, year);
    if (!request || !request->confirm || now <= deadline)
        return 0;
    char due[STIME_BUFSZ];
    stime_format(deadline, due, sizeof due);
    if (!request->override_deadline) {
        snprintf(err, errsize,
                 msg("the recommendation for %d was due by %s (the calendar of programme %s): "
                     "confirming it now needs an override (--override; on the console, the "
                     "override box), which is logged"),
                 year, due, programme_id(self->programme));
        return SF_EINVAL;
    }
    slog_warn("%s overrode the recommendation deadline of %d (%s): confirming after it", who, year,
              due);
    return 0;
}

static int recommend_check(const tier_t *self, int year, char *err, size_t errsize)
{
    if (self->role != ROLE_PREFECTURE) {
        snprintf(err, errsize, msg("only a prefecture hub recommends"));
        return SF_EINVAL;
    }
    if (!programme_has_year(self->programme, year)) {
        snprintf(err, errsize, msg("--year %d: programme %s covers %d-%d"), year,
                 programme_id(self->programme), programme_first_year(self->programme),
                 programme_last_year(self->programme));
        return SF_EINVAL;
    }
    return 0;
}

int tier_recommend(tier_t *self, int year, const tier_recommend_request_t *request, int64_t now,
                   tier_recommendations_t **out, char *err, size_t errsize)
{
    *out = NULL;
    bool confirm = request && request->confirm;
    const char *who = request && request->operator_name ? request->operator_name : "command line";
    int rc = recommend_check(self, year, err, errsize);
    if (rc == 0)
        rc = recommend_deadline(self, year, request, who, now, err, errsize);
    if (rc)
        return rc;
    engine_result_t *result = NULL;
    ranking_t *rankings = NULL;
    size_t count = 0;
    engine_input_t *input = tier_load_input(self, err, errsize);
    rc = input ? current_rankings(self, input, year, now, &result, &rankings, &count, err, errsize)
               : SF_ESTORE;
    engine_input_destroy(&input);
    tier_recommendations_t *answer = calloc(1, sizeof *answer);
    if (rc == 0 && (!answer || !(answer->lists = calloc(count ? count : 1, sizeof *answer->lists))))
        rc = SF_ENOMEM;
    for (size_t i = 0; rc == 0 && i < count; i++) {
        rc = recommend_holder(self, year, &rankings[i], confirm, who, now, &answer->lists[i]);
        answer->count = i + 1;
        if (rc)
            snprintf(err, errsize, msg("cannot store the recommendation: %s"), sf_strerror(rc));
    }
    rankings_free(rankings, count);
    engine_result_destroy(&result);
    if (rc)
        tier_recommendations_destroy(&answer);
    *out = answer;
    return rc;
}

struct generation_arg {
    tier_t *self;
    uint64_t generation;
    uint64_t forward_backlog; /* items queued up, not yet acknowledged */
};

static int generation_fn(store_txn_t *txn, void *arg)
{
    struct generation_arg *a = arg;
    a->generation = 0;
    store_get_u64(txn, a->self->store, DB_META, META_DATA_GENERATION, &a->generation);
    outbox_state_t up;
    if (outbox_state(txn, a->self->store, TIER_UP_STREAM, &up) == 0 && up.next_seq > up.acked + 1)
        a->forward_backlog = up.next_seq - 1 - up.acked;
    return 0;
}

/* Ranking evaluates every year over everything stored (its input is kept
 * between rankings and only what was stored since is decoded: tier_rank.c),
 * so it must not run on every frame: it runs once the data has been quiet
 * for a moment, or every half minute under a continuous flow. And it takes
 * at most a tenth of the daemon's time: after a ranking that took d ms, the
 * next starts no sooner than RANK_COST_SHARE x d after it started. A hub
 * holding a large backlog (a county back after a season offline,
 * bench/bench_province.sh) would otherwise spend most of its one thread
 * ranking, serving no frames meanwhile. */
#define RANK_QUIET_MS 2000
#define RANK_EVERY_MS 30000
#define RANK_COST_SHARE 10
/* A provisional list would only queue behind the hub's forward backlog, and
 * ranking would take the CPU that drains it: while more than this many
 * items wait to go up, the ranking waits too (`recommend` ranks on demand
 * regardless). 16 hubs on one machine (bench_province.sh) spent most of
 * their CPU ranking while their backlogs drained. */
#define RANK_BACKLOG_MAX 1000

/* True when the data moved since the last ranking and it is time to rank. */
static bool ranking_due(tier_t *self, uint64_t generation, uint64_t backlog, int64_t mono_ms)
{
    if (generation == self->ranked_generation || backlog > RANK_BACKLOG_MAX)
        return false;
    if (generation != self->seen_generation) {
        self->seen_generation = generation;
        self->seen_changed_ms = mono_ms;
    }
    if (self->ranked_ms && mono_ms - self->ranked_ms < RANK_COST_SHARE * self->rank_cost_ms)
        return false;
    bool quiet = mono_ms - self->seen_changed_ms >= RANK_QUIET_MS;
    bool overdue = mono_ms - self->ranked_ms >= RANK_EVERY_MS;
    return quiet || overdue || self->ranked_ms == 0;
}

/* Stores and queues a provisional list for every holder of a year whose
 * ranking changed. */
static void auto_recommend_year(tier_t *self, const engine_input_t *input, int year, int64_t now)
{
    char err[256];
    engine_result_t *result = NULL;
    ranking_t *rankings = NULL;
    size_t count = 0;
    bool ranked =
        current_rankings(self, input, year, now, &result, &rankings, &count, err, sizeof err) == 0;
    if (!ranked)
        slog_warn("cannot rank year %d: %s", year, err);
    for (size_t i = 0; ranked && i < count; i++) {
        if (rankings[i].quota == 0)
            continue; /* nothing to recommend this year */
        struct recommend_arg arg = {self,
                                    (unsigned)year,
                                    rankings[i].holder,
                                    rankings[i].units,
                                    rankings[i].count,
                                    false,
                                    now,
                                    false,
                                    NULL};
        if (store_write(self->store, recommend_fn, &arg) == 0 && arg.queued)
            slog_info("ranking of %s for %d changed: provisional recommendation of %zu "
                      "unit(s) queued to the province",
                      rankings[i].holder, year, rankings[i].count);
        codec_payload_free(arg.existing);
    }
    rankings_free(rankings, count);
    engine_result_destroy(&result);
}

void tier_auto_recommend(tier_t *self, int64_t now, int64_t mono_ms)
{
    struct generation_arg gen = {self, 0, 0};
    if (store_read(self->store, generation_fn, &gen) ||
        !ranking_due(self, gen.generation, gen.forward_backlog, mono_ms))
        return;
    char err[256];
    /* The ranking's own duration, on the monotonic clock (a cost, not a
     * time of day); ranked_ms stays in the caller's mono_ms terms. */
    int64_t started = stime_mono_ms();
    const engine_input_t *input = tier_rank_input(self, err, sizeof err);
    if (!input) {
        slog_warn("cannot rank: %s", err);
        return;
    }
    int first = programme_first_year(self->programme), last = programme_last_year(self->programme);
    for (int year = first; year <= last; year++)
        auto_recommend_year(self, input, year, now);
    self->ranked_generation = gen.generation;
    self->ranked_ms = mono_ms;
    self->rank_cost_ms = stime_mono_ms() - started;
}
