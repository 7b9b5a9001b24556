/* tier.c - what each tier does with programmes, inspections, returns and
 * recommendations, and evaluation over everything a node stores.
 *
 * Every change that crosses a link is written with its outbox entries in
 * one transaction, as in node.c: a hub that stores an inspection queues its
 * forward in the same commit; a published programme is queued to every
 * child in the commit that stores it. */
#include "base/error.h"
#include "base/slog.h"
#include "base/stime.h"
#include "storage/outbox.h"
#include "domain/engine.h"
#include "app/node_internal.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROGRAMME_KEY "programme"

int node_touch_data(MDB_txn *txn, node_t *self)
{
    uint64_t generation = 0;
    MDB_dbi meta = store_dbi(self->store, DB_META);
    store_get_u64(txn, meta, META_DATA_GENERATION, &generation);
    return store_put_u64(txn, meta, META_DATA_GENERATION, generation + 1);
}

/* ---- programme ---- */

struct stored_programme {
    node_t *self;
    programme_t *programme;
    sf_error_t error;
};

static int read_programme_fn(MDB_txn *txn, void *arg)
{
    struct stored_programme *a = arg;
    MDB_val k = {strlen(PROGRAMME_KEY), PROGRAMME_KEY}, v;
    int rc = mdb_get(txn, store_dbi(a->self->store, DB_PROGRAMMES), &k, &v);
    if (rc)
        return store_error(rc);
    Shifan__Payload *payload = codec_payload_unpack(v.mv_data, v.mv_size);
    if (!payload || payload->body_case != SHIFAN__PAYLOAD__BODY_PROGRAMME) {
        codec_payload_free(payload);
        return SF_ECORRUPT;
    }
    const Shifan__Programme *programme = payload->programme;
    /* Cheap check first: most calls find the programme in use. */
    if (a->self->programme && programme->revision == programme_revision(a->self->programme) &&
        strcmp(programme->programme_id, programme_id(a->self->programme)) == 0) {
        codec_payload_free(payload);
        return SF_EEXIST;
    }
    a->programme =
        programme_load_json((const char *)programme->document.data, programme->document.len,
                            "published programme", &a->error);
    codec_payload_free(payload);
    return a->programme ? 0 : SF_ECORRUPT;
}

#define META_EARLIER_STANDARDS "earlier_standards"

/* DB_META "earlier_standards": the standard ids of programmes replaced here,
 * one per line, newest last, at most NODE_EARLIER_STANDARDS_MAX. */
static int read_earlier_fn(MDB_txn *txn, void *arg)
{
    node_t *self = arg;
    char list[NODE_EARLIER_STANDARDS_MAX * PROGRAMME_ID_MAX];
    int rc = store_get_string(txn, store_dbi(self->store, DB_META), META_EARLIER_STANDARDS, list,
                              sizeof list);
    for (size_t i = 0; self->earlier_standards[i]; i++) {
        free(self->earlier_standards[i]);
        self->earlier_standards[i] = NULL;
    }
    if (rc)
        return rc == SF_ENOTFOUND ? 0 : rc;
    size_t n = 0;
    for (char *save = NULL, *line = strtok_r(list, "\n", &save);
         line && n < NODE_EARLIER_STANDARDS_MAX; line = strtok_r(NULL, "\n", &save))
        if ((self->earlier_standards[n] = strdup(line)))
            n++;
    return 0;
}

/* Remembers the standard of the programme in use before a newer one is
 * stored, so reports made under it on their way still get in. */
static int remember_standard(node_t *self, MDB_txn *txn)
{
    const char *current = programme_standard_id(self->programme);
    MDB_dbi meta = store_dbi(self->store, DB_META);
    char list[NODE_EARLIER_STANDARDS_MAX * PROGRAMME_ID_MAX] = "";
    int rc = store_get_string(txn, meta, META_EARLIER_STANDARDS, list, sizeof list);
    if (rc && rc != SF_ENOTFOUND)
        return rc;
    size_t lines = 0;
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, "\n");
        if (len == strlen(current) && strncmp(p, current, len) == 0)
            return 0;
        lines++;
        p += len + (p[len] == '\n');
    }
    char *keep = list;
    if (lines >= NODE_EARLIER_STANDARDS_MAX) { /* drop the oldest */
        keep = strchr(list, '\n');
        keep = keep ? keep + 1 : list + strlen(list);
    }
    char next[sizeof list + PROGRAMME_ID_MAX + 2];
    snprintf(next, sizeof next, "%s%s%s", keep, *keep ? "\n" : "", current);
    return store_put_string(txn, meta, META_EARLIER_STANDARDS, next);
}

int tier_programme_reload(node_t *self, bool announce)
{
    struct stored_programme arg = {self, NULL, {0, ""}};
    int rc = store_read(self->store, read_programme_fn, &arg);
    if (rc == SF_ENOTFOUND || rc == SF_EEXIST)
        return 0;
    if (rc) {
        slog_error("the stored programme cannot be used (%s); keeping %s", arg.error.text,
                   self->programme ? programme_id(self->programme) : "none");
        return rc;
    }
    if (self->programme && announce)
        slog_info(
            "programme %s revision %llu now in use (was %s revision %llu)",
            programme_id(arg.programme), (unsigned long long)programme_revision(arg.programme),
            programme_id(self->programme), (unsigned long long)programme_revision(self->programme));
    programme_destroy(&self->programme);
    self->programme = arg.programme;
    self->quota_cached = 0; /* areas may have changed */
    /* Standards are remembered only when a programme is stored, so a node
     * with none stored (node_open loads it here first) has none. */
    store_read(self->store, read_earlier_fn, self);
    return 0;
}

bool tier_programme_pending(node_t *self, MDB_txn *txn)
{
    MDB_val k = {strlen(PROGRAMME_KEY), PROGRAMME_KEY}, v;
    if (mdb_get(txn, store_dbi(self->store, DB_PROGRAMMES), &k, &v) != 0)
        return false;
    Shifan__Payload *stored = codec_payload_unpack(v.mv_data, v.mv_size);
    bool newer = stored && stored->body_case == SHIFAN__PAYLOAD__BODY_PROGRAMME &&
                 stored->programme->revision > programme_revision(self->programme);
    codec_payload_free(stored);
    return newer;
}

int tier_queue_programme(node_t *self, MDB_txn *txn, const char *child)
{
    MDB_val k = {strlen(PROGRAMME_KEY), PROGRAMME_KEY}, v;
    int rc = mdb_get(txn, store_dbi(self->store, DB_PROGRAMMES), &k, &v);
    if (rc == MDB_NOTFOUND)
        return 0; /* the embedded default: every node has it already */
    if (rc)
        return store_error(rc);
    char stream[OUTBOX_STREAM_MAX];
    link_down_stream(stream, sizeof stream, child);
    /* Copy: the value points into the map, and the append writes to it (L8). */
    uint8_t *copy = malloc(v.mv_size);
    if (!copy)
        return SF_ENOMEM;
    memcpy(copy, v.mv_data, v.mv_size);
    rc = outbox_append_once(txn, self->store, stream, copy, v.mv_size, NULL);
    free(copy);
    return rc;
}

typedef int (*child_fn)(node_t *self, MDB_txn *txn, const char *code, void *arg);

/* Calls fn for every registered child, in code order, inside txn. Writes by
 * fn go to other databases, which leaves this cursor valid. */
static int each_child(node_t *self, MDB_txn *txn, child_fn fn, void *arg)
{
    MDB_cursor *cursor;
    int rc = mdb_cursor_open(txn, store_dbi(self->store, DB_CHILDREN), &cursor);
    if (rc)
        return store_error(rc);
    MDB_val k, v;
    int result = 0;
    for (rc = mdb_cursor_get(cursor, &k, &v, MDB_FIRST); rc == 0 && result == 0;
         rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT)) {
        char code[PROGRAMME_CODE_MAX];
        if (k.mv_size >= sizeof code)
            continue;
        memcpy(code, k.mv_data, k.mv_size);
        code[k.mv_size] = '\0';
        result = fn(self, txn, code, arg);
    }
    mdb_cursor_close(cursor);
    return result;
}

static int queue_programme_fn(node_t *self, MDB_txn *txn, const char *code, void *arg)
{
    (void)arg;
    return tier_queue_programme(self, txn, code);
}

/* Queues the stored programme to every registered child. */
static int queue_programme_to_children(node_t *self, MDB_txn *txn)
{
    return each_child(self, txn, queue_programme_fn, NULL);
}

/* Keeps a programme payload if it is newer than the stored one. */
int tier_store_programme(store_t *store, MDB_txn *txn, const uint8_t *raw, size_t len, bool *newer)
{
    *newer = false;
    Shifan__Payload *incoming = codec_payload_unpack(raw, len);
    if (!incoming || incoming->body_case != SHIFAN__PAYLOAD__BODY_PROGRAMME) {
        codec_payload_free(incoming);
        return SF_EINVAL;
    }
    uint64_t revision = incoming->programme->revision;
    codec_payload_free(incoming);
    MDB_dbi dbi = store_dbi(store, DB_PROGRAMMES);
    MDB_val k = {strlen(PROGRAMME_KEY), PROGRAMME_KEY}, v;
    int rc = mdb_get(txn, dbi, &k, &v);
    if (rc == 0) {
        Shifan__Payload *current = codec_payload_unpack(v.mv_data, v.mv_size);
        bool older = current && current->body_case == SHIFAN__PAYLOAD__BODY_PROGRAMME &&
                     current->programme->revision >= revision;
        codec_payload_free(current);
        if (older)
            return 0;
    } else if (rc != MDB_NOTFOUND) {
        return store_error(rc);
    }
    v.mv_size = len;
    v.mv_data = (void *)raw;
    if ((rc = store_error(mdb_put(txn, dbi, &k, &v, 0))))
        return rc;
    *newer = true;
    return 0;
}

int tier_programme_payload(const programme_t *programme, uint8_t **bytes, size_t *len)
{
    const char *text = programme_json(programme);
    Shifan__Programme wire = SHIFAN__PROGRAMME__INIT;
    wire.programme_id = (char *)programme_id(programme);
    wire.revision = programme_revision(programme);
    wire.document.data = (uint8_t *)text;
    wire.document.len = strlen(text);
    wire.published_at = stime_now();
    Shifan__Payload payload = SHIFAN__PAYLOAD__INIT;
    payload.body_case = SHIFAN__PAYLOAD__BODY_PROGRAMME;
    payload.programme = &wire;
    return codec_payload_pack(&payload, bytes, len);
}

int tier_apply_programme(node_t *self, MDB_txn *txn, const Shifan__Payload *payload,
                         const uint8_t *raw, size_t len, char *why, size_t whysize)
{
    const Shifan__Programme *incoming = payload->programme;
    sf_error_t error;
    programme_t *check = programme_load_json((const char *)incoming->document.data,
                                             incoming->document.len, "programme", &error);
    if (!check)
        return node_refuse(why, whysize, "malformed: the published programme is invalid: %s%s", error.text,
                           "");
    programme_destroy(&check);
    bool newer;
    int rc = tier_store_programme(self->store, txn, raw, len, &newer);
    if (rc || !newer)
        return rc;
    if ((rc = remember_standard(self, txn)))
        return rc;
    slog_info("received programme %s revision %llu; it is used from now on", incoming->programme_id,
              (unsigned long long)incoming->revision);
    /* A hub passes it on to each of its counties, in the same commit. */
    if (self->role == ROLE_PREFECTURE)
        return queue_programme_to_children(self, txn);
    return 0;
}

struct publish_arg {
    node_t *self;
    const uint8_t *bytes;
    size_t len;
};

static int publish_fn(MDB_txn *txn, void *arg)
{
    struct publish_arg *a = arg;
    bool newer;
    int rc = tier_store_programme(a->self->store, txn, a->bytes, a->len, &newer);
    if (rc)
        return rc;
    if (!newer)
        return SF_EEXIST;
    if ((rc = remember_standard(a->self, txn)))
        return rc;
    return queue_programme_to_children(a->self, txn);
}

int node_publish(node_t *self, const char *path, char *err, size_t errsize)
{
    if (self->role != ROLE_PROVINCE) {
        snprintf(err, errsize, "only the province publishes the programme");
        return SF_EINVAL;
    }
    sf_error_t error;
    programme_t *programme = programme_load_file(path, &error);
    if (!programme)
        return snprintf(err, errsize, "%s", error.text), SF_EINVAL;
    int rc = SF_EINVAL;
    if (programme_revision(programme) <= programme_revision(self->programme) &&
        strcmp(programme_id(programme), programme_id(self->programme)) == 0) {
        snprintf(err, errsize,
                 "%s: revision %llu is not newer than the programme in use (%s revision %llu); "
                 "raise \"revision\"",
                 path, (unsigned long long)programme_revision(programme), programme_id(programme),
                 (unsigned long long)programme_revision(self->programme));
        goto out;
    }
    if (strcmp(node_programme_root(programme), self->code) != 0) {
        snprintf(err, errsize, "%s: its root unit is %s, but this province is %s", path,
                 node_programme_root(programme), self->code);
        goto out;
    }
    uint8_t *bytes;
    size_t len;
    if ((rc = tier_programme_payload(programme, &bytes, &len))) {
        snprintf(err, errsize, "%s: too large to publish (%s)", path, sf_strerror(rc));
        rc = SF_EINVAL;
        goto out;
    }
    struct publish_arg arg = {self, bytes, len};
    rc = store_write(self->store, publish_fn, &arg);
    free(bytes);
    if (rc == SF_EEXIST) {
        snprintf(err, errsize, "%s: a programme of the same or a newer revision is published",
                 path);
        rc = SF_EINVAL;
    } else if (rc) {
        snprintf(err, errsize, "cannot store the programme: %s", sf_strerror(rc));
    }
out:
    programme_destroy(&programme);
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
static int evaluation_put(node_t *self, MDB_txn *txn, unsigned year, const uint8_t *bytes,
                          size_t len)
{
    char key[32];
    evaluation_key(key, sizeof key, year);
    MDB_val k = {strlen(key), key}, v = {len, (void *)bytes};
    return store_error(mdb_put(txn, store_dbi(self->store, DB_PROGRAMMES), &k, &v, 0));
}

struct evaluation_part {
    const json_t *full;
    unsigned year;
    int64_t evaluated_at;
    bool skip_oversized; /* a hub: see evaluation_to_child */
};

/* Queues to one child the part of the result for its area. */
static int evaluation_to_child(node_t *self, MDB_txn *txn, const char *code, void *arg)
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

static int evaluation_to_children(node_t *self, MDB_txn *txn, const json_t *full, unsigned year,
                                  int64_t evaluated_at)
{
    struct evaluation_part part = {full, year, evaluated_at, self->role == ROLE_PREFECTURE};
    return each_child(self, txn, evaluation_to_child, &part);
}

int tier_queue_evaluations(node_t *self, MDB_txn *txn, const char *child)
{
    MDB_cursor *cursor;
    int rc = mdb_cursor_open(txn, store_dbi(self->store, DB_PROGRAMMES), &cursor);
    if (rc)
        return store_error(rc);
    static const char prefix[] = "evaluation/";
    MDB_val k = {sizeof prefix - 1, (void *)prefix}, v;
    int result = 0;
    for (rc = mdb_cursor_get(cursor, &k, &v, MDB_SET_RANGE); rc == 0 && result == 0;
         rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT)) {
        if (k.mv_size < sizeof prefix - 1 || memcmp(k.mv_data, prefix, sizeof prefix - 1) != 0)
            break;
        Shifan__Payload *payload = codec_payload_unpack(v.mv_data, v.mv_size);
        json_t *full = payload && payload->body_case == SHIFAN__PAYLOAD__BODY_EVALUATION
                           ? json_loadb((const char *)payload->evaluation->document.data,
                                        payload->evaluation->document.len, 0, NULL)
                           : NULL;
        if (full) {
            struct evaluation_part part = {full, payload->evaluation->year,
                                           payload->evaluation->evaluated_at, true};
            result = evaluation_to_child(self, txn, child, &part);
        }
        json_decref(full);
        codec_payload_free(payload);
    }
    mdb_cursor_close(cursor);
    return result;
}

int tier_apply_evaluation(node_t *self, MDB_txn *txn, const Shifan__Payload *payload, char *why,
                          size_t whysize)
{
    const Shifan__EvaluationResult *result = payload->evaluation;
    json_error_t error;
    json_t *document = json_loadb((const char *)result->document.data, result->document.len,
                                  JSON_REJECT_DUPLICATES, &error);
    if (!json_is_object(document)) {
        json_decref(document);
        return node_refuse(why, whysize, "malformed: an evaluation result is not JSON: %s%s",
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
    node_t *self;
    const json_t *document;
    unsigned year;
};

static int publish_evaluation_fn(MDB_txn *txn, void *arg)
{
    struct publish_evaluation_arg *a = arg;
    return evaluation_to_children(a->self, txn, a->document, a->year, stime_now());
}

int node_publish_evaluation(node_t *self, int year, const char *document, char *err, size_t errsize)
{
    if (self->role != ROLE_PROVINCE) {
        snprintf(err, errsize, "only the province publishes evaluations");
        return SF_EINVAL;
    }
    json_error_t error;
    json_t *full = json_loads(document, 0, &error);
    if (!full) {
        snprintf(err, errsize, "the result is not JSON: %s", error.text);
        return SF_EINVAL;
    }
    struct publish_evaluation_arg arg = {self, full, (unsigned)year};
    int rc = store_write(self->store, publish_evaluation_fn, &arg);
    json_decref(full);
    if (rc)
        snprintf(err, errsize, "cannot queue the evaluation: %s", sf_strerror(rc));
    return rc;
}

struct published_arg {
    node_t *self;
    unsigned year;
    char *document;
};

static int published_fn(MDB_txn *txn, void *arg)
{
    struct published_arg *a = arg;
    char key[32];
    evaluation_key(key, sizeof key, a->year);
    MDB_val k = {strlen(key), key}, v;
    int rc = mdb_get(txn, store_dbi(a->self->store, DB_PROGRAMMES), &k, &v);
    if (rc)
        return store_error(rc);
    Shifan__Payload *payload = codec_payload_unpack(v.mv_data, v.mv_size);
    if (payload && payload->body_case == SHIFAN__PAYLOAD__BODY_EVALUATION)
        a->document = strndup((const char *)payload->evaluation->document.data,
                              payload->evaluation->document.len);
    codec_payload_free(payload);
    return a->document ? 0 : SF_ECORRUPT;
}

char *node_published_evaluation(node_t *self, int year, char *err, size_t errsize)
{
    struct published_arg arg = {self, (unsigned)year, NULL};
    int rc = store_read(self->store, published_fn, &arg);
    if (rc == SF_ENOTFOUND)
        snprintf(err, errsize, "no evaluation of %d has been published to this node yet", year);
    else if (rc)
        snprintf(err, errsize, "cannot read the published evaluation: %s", sf_strerror(rc));
    return arg.document;
}

/* ---- inspections ---- */

struct inspect_arg {
    node_t *self;
    report_t *inspection;
};

static int inspect_fn(MDB_txn *txn, void *arg)
{
    struct inspect_arg *a = arg;
    node_t *self = a->self;
    report_t *inspection = a->inspection;
    snprintf(inspection->report_id, sizeof inspection->report_id, "%s-%d-i-%s-%08x",
             inspection->unit, inspection->year, self->code, randombytes_random());
    struct Shifan__Report *wire = report_to_proto(inspection);
    if (!wire)
        return SF_ENOMEM;
    Shifan__Payload payload = SHIFAN__PAYLOAD__INIT;
    payload.body_case = SHIFAN__PAYLOAD__BODY_INSPECTION;
    payload.inspection = wire;
    uint8_t *bytes = NULL;
    size_t len = 0;
    int rc = codec_payload_pack(&payload, &bytes, &len);
    if (rc == 0) {
        MDB_val k = {strlen(inspection->report_id), inspection->report_id}, v = {len, bytes};
        rc = store_error(mdb_put(txn, store_dbi(self->store, DB_INSPECTIONS), &k, &v, 0));
    }
    if (rc == 0 && self->role == ROLE_PREFECTURE)
        rc = outbox_append(txn, self->store, "up", bytes, len, NULL);
    if (rc == 0)
        rc = node_touch_data(txn, self);
    free(bytes);
    report_proto_free(wire);
    return rc;
}

int node_inspect(node_t *self, report_t *inspection, char *err, size_t errsize)
{
    if (self->role == ROLE_COUNTY) {
        snprintf(err, errsize, "a county does not inspect");
        return SF_EINVAL;
    }
    if (!inspection->unit[0]) {
        snprintf(err, errsize, "the inspection names no \"unit\"");
        return SF_EINVAL;
    }
    if (!programme_unit_within(self->programme, inspection->unit, self->code) ||
        strcmp(inspection->unit, self->code) == 0) {
        snprintf(err, errsize, "unit %s: not a unit under %s", inspection->unit, self->code);
        return SF_EINVAL;
    }
    if (inspection->value_count == 0) {
        snprintf(err, errsize, "the inspection gives no values");
        return SF_EINVAL;
    }
    inspection->submitted_at = stime_now();
    inspection->version = 1;
    inspection->series = self->series;
    snprintf(inspection->origin, sizeof inspection->origin, "%s", self->code);
    snprintf(inspection->standard_id, sizeof inspection->standard_id, "%s",
             programme_standard_id(self->programme));
    struct inspect_arg arg = {self, inspection};
    int rc = store_write(self->store, inspect_fn, &arg);
    if (rc)
        snprintf(err, errsize, "the inspection was NOT stored: %s", sf_strerror(rc));
    else
        slog_info("recorded inspection %s of unit %s, year %d", inspection->report_id,
                  inspection->unit, inspection->year);
    return rc;
}

/* ---- returns and recommendations arriving at the province ---- */

int tier_apply_return_from_child(node_t *self, MDB_txn *txn, const char *peer,
                                 const Shifan__Payload *payload, const uint8_t *raw, size_t len,
                                 char *why, size_t whysize)
{
    const Shifan__Return *ret = payload->return_for_correction;
    if (self->role != ROLE_PROVINCE || strcmp(ret->by, peer) != 0)
        return node_refuse(why, whysize, "malformed: a return from %s names %s as its sender", peer,
                           ret->by);
    if (!programme_unit_within(self->programme, ret->unit, peer))
        return node_refuse(why, whysize, "the key of %s may not return reports of unit %s", peer,
                           ret->unit);
    if (!report_id_valid(ret->report_id)) /* the key below: see apply_from_parent */
        return node_refuse(why, whysize, "malformed: a return from %s names no report id%s", peer,
                           "");
    MDB_val k = {strlen(ret->report_id), ret->report_id}, v = {len, (void *)raw};
    int rc = store_error(mdb_put(txn, store_dbi(self->store, DB_RETURNS), &k, &v, 0));
    if (rc == 0)
        slog_info("%s returned report %s (unit %s, year %u) for correction: %s", peer,
                  ret->report_id, ret->unit, ret->year, ret->reason);
    return rc;
}

static void recommendation_key(char *key, size_t size, const char *prefecture, unsigned year)
{
    snprintf(key, size, "%s/%u", prefecture, year);
}

/* The stored recommendation of a prefecture-year, decoded (NULL if none). */
static Shifan__Payload *recommendation_get(MDB_txn *txn, node_t *self, const char *prefecture,
                                           unsigned year)
{
    char key[48];
    recommendation_key(key, sizeof key, prefecture, year);
    MDB_val k = {strlen(key), key}, v;
    if (mdb_get(txn, store_dbi(self->store, DB_RECOMMENDATIONS), &k, &v) != 0)
        return NULL;
    Shifan__Payload *payload = codec_payload_unpack(v.mv_data, v.mv_size);
    if (payload && payload->body_case != SHIFAN__PAYLOAD__BODY_RECOMMENDATION) {
        codec_payload_free(payload);
        return NULL;
    }
    return payload;
}

int tier_apply_recommendation(node_t *self, MDB_txn *txn, const char *peer,
                              const Shifan__Payload *payload, const uint8_t *raw, size_t len,
                              char *why, size_t whysize)
{
    const Shifan__Recommendation *rec = payload->recommendation;
    /* A hub recommends for the quota holders in its area: itself, or (sites
     * programmes) each of its counties. */
    if (self->role != ROLE_PROVINCE ||
        !programme_unit_within(self->programme, rec->prefecture, peer))
        return node_refuse(why, whysize, "the key of %s may not recommend for %s", peer,
                           rec->prefecture);
    for (size_t i = 0; i < rec->n_units; i++)
        if (!programme_unit_within(self->programme, rec->units[i], rec->prefecture))
            return node_refuse(why, whysize, "%s recommends %s, which is not its unit", peer,
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
    MDB_val k = {strlen(key), key}, v = {len, (void *)raw};
    int rc = store_error(mdb_put(txn, store_dbi(self->store, DB_RECOMMENDATIONS), &k, &v, 0));
    if (rc == 0)
        slog_info("%s %s recommendation for %u (revision %llu): %zu unit(s)", peer,
                  rec->confirmed ? "confirmed its" : "sent a provisional", rec->year,
                  (unsigned long long)rec->revision, rec->n_units);
    return rc;
}

/* ---- evaluation over the store ---- */

struct load_arg {
    node_t *self;
    engine_input_t *input;
};

static int load_reports(MDB_txn *txn, struct load_arg *a, store_db_t db)
{
    MDB_cursor *cursor;
    int rc = mdb_cursor_open(txn, store_dbi(a->self->store, db), &cursor);
    if (rc)
        return store_error(rc);
    const char *root = node_programme_root(a->self->programme);
    MDB_val k, v;
    int result = 0;
    for (rc = mdb_cursor_get(cursor, &k, &v, MDB_FIRST); rc == 0 && result == 0;
         rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT)) {
        Shifan__Payload *payload = codec_payload_unpack(v.mv_data, v.mv_size);
        const Shifan__Report *wire = NULL;
        if (payload && payload->body_case == SHIFAN__PAYLOAD__BODY_REPORT)
            wire = payload->report;
        else if (payload && payload->body_case == SHIFAN__PAYLOAD__BODY_INSPECTION)
            wire = payload->inspection;
        char err[256];
        report_t *report = wire ? report_from_proto(wire, err, sizeof err) : NULL;
        if (!report) {
            slog_warn("skipping an unreadable record in the store (%.*s)", (int)k.mv_size,
                      (const char *)k.mv_data);
        } else if (db == DB_REPORTS) {
            int64_t received = payload->n_receipts ? payload->receipts[0]->received_at : 0;
            result = engine_input_add_report(a->input, report, received);
        } else {
            engine_tier_t tier =
                strcmp(report->origin, root) == 0 ? ENGINE_TIER_PROVINCE : ENGINE_TIER_PREFECTURE;
            result = engine_input_add_inspection(a->input, report, tier);
        }
        /* A record the programme in use does not know (an old unit, say) is
         * left out of this evaluation, not an error of the whole run. */
        if (result == SF_EINVAL)
            result = 0;
        report_destroy(&report);
        codec_payload_free(payload);
    }
    mdb_cursor_close(cursor);
    return result;
}

static int load_fn(MDB_txn *txn, void *arg)
{
    struct load_arg *a = arg;
    int rc;
    if ((rc = load_reports(txn, a, DB_REPORTS)) || (rc = load_reports(txn, a, DB_INSPECTIONS)))
        return rc;
    MDB_cursor *cursor;
    MDB_val k, v;
    if ((rc = mdb_cursor_open(txn, store_dbi(a->self->store, DB_RETURNS), &cursor)))
        return store_error(rc);
    for (rc = mdb_cursor_get(cursor, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT)) {
        Shifan__Payload *payload = codec_payload_unpack(v.mv_data, v.mv_size);
        if (payload && payload->body_case == SHIFAN__PAYLOAD__BODY_RETURN_FOR_CORRECTION) {
            const Shifan__Return *ret = payload->return_for_correction;
            engine_input_add_return(a->input, ret->unit, (int)ret->year, ret->report_id,
                                    ret->reason, ret->returned_at);
        }
        codec_payload_free(payload);
    }
    mdb_cursor_close(cursor);
    if ((rc = mdb_cursor_open(txn, store_dbi(a->self->store, DB_RECOMMENDATIONS), &cursor)))
        return store_error(rc);
    for (rc = mdb_cursor_get(cursor, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT)) {
        Shifan__Payload *payload = codec_payload_unpack(v.mv_data, v.mv_size);
        if (payload && payload->body_case == SHIFAN__PAYLOAD__BODY_RECOMMENDATION) {
            const Shifan__Recommendation *rec = payload->recommendation;
            /* A hub's own unconfirmed list is only a copy of its ranking:
             * the engine recomputes that from current data. */
            if (a->self->role != ROLE_PREFECTURE || rec->confirmed)
                engine_input_add_recommendation(a->input, rec->prefecture, (int)rec->year,
                                                (const char *const *)rec->units, rec->n_units,
                                                rec->confirmed, rec->made_at, rec->revision);
        }
        codec_payload_free(payload);
    }
    mdb_cursor_close(cursor);
    return 0;
}

/* Everything stored here, as engine input (read once, evaluated per year). */
static engine_input_t *load_input(node_t *self, char *err, size_t errsize)
{
    engine_input_t *input = engine_input_new(self->programme, NULL);
    if (!input) {
        snprintf(err, errsize, "out of memory");
        return NULL;
    }
    struct load_arg arg = {self, input};
    int rc = store_read(self->store, load_fn, &arg);
    if (rc) {
        snprintf(err, errsize, "cannot read the store: %s", sf_strerror(rc));
        engine_input_destroy(&input);
    }
    return input;
}

int node_evaluate(node_t *self, int year, const char *scope, engine_result_t **result, char *err,
                  size_t errsize)
{
    if (!programme_has_year(self->programme, year)) {
        snprintf(err, errsize, "--year %d: programme %s covers %d-%d", year,
                 programme_id(self->programme), programme_first_year(self->programme),
                 programme_last_year(self->programme));
        return SF_EINVAL;
    }
    engine_input_t *input = load_input(self, err, errsize);
    if (!input)
        return SF_ESTORE;
    int rc = engine_evaluate(input, year, stime_now(), scope, result, err, errsize);
    engine_input_destroy(&input);
    return rc;
}

/* ---- the hub's recommendation ---- */

struct recommend_arg {
    node_t *self;
    unsigned year;
    const char *holder; /* the quota holder the list is for */
    const char *const *units;
    size_t count;
    bool confirm;
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

static int recommend_fn(MDB_txn *txn, void *arg)
{
    struct recommend_arg *a = arg;
    node_t *self = a->self;
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
    Shifan__Recommendation rec = SHIFAN__RECOMMENDATION__INIT;
    rec.prefecture = (char *)a->holder;
    rec.year = a->year;
    rec.units = (char **)a->units;
    rec.n_units = a->count;
    rec.confirmed = a->confirm;
    rec.made_at = stime_now();
    rec.revision = revision;
    Shifan__Payload payload = SHIFAN__PAYLOAD__INIT;
    payload.body_case = SHIFAN__PAYLOAD__BODY_RECOMMENDATION;
    payload.recommendation = &rec;
    uint8_t *bytes;
    size_t len;
    int rc = codec_payload_pack(&payload, &bytes, &len);
    if (rc)
        return rc;
    char key[48];
    recommendation_key(key, sizeof key, a->holder, a->year);
    MDB_val k = {strlen(key), key}, v = {len, bytes};
    rc = store_error(mdb_put(txn, store_dbi(self->store, DB_RECOMMENDATIONS), &k, &v, 0));
    if (rc == 0)
        rc = outbox_append(txn, self->store, "up", bytes, len, NULL);
    free(bytes);
    a->queued = rc == 0;
    return rc;
}

static int existing_fn(MDB_txn *txn, void *arg)
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
static int current_rankings(node_t *self, const engine_input_t *input, int year,
                            engine_result_t **result, ranking_t **rankings, size_t *count,
                            char *err, size_t errsize)
{
    int rc = engine_evaluate(input, year, stime_now(), self->code, result, err, errsize);
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

static json_t *units_json(const char *const *units, size_t count)
{
    json_t *list = json_array();
    for (size_t i = 0; i < count; i++)
        json_array_append_new(list, json_string(units[i]));
    return list;
}

int node_recommend(node_t *self, int year, bool confirm, json_t **lists, char *err, size_t errsize)
{
    if (self->role != ROLE_PREFECTURE) {
        snprintf(err, errsize, "only a prefecture hub recommends");
        return SF_EINVAL;
    }
    if (!programme_has_year(self->programme, year)) {
        snprintf(err, errsize, "--year %d: programme %s covers %d-%d", year,
                 programme_id(self->programme), programme_first_year(self->programme),
                 programme_last_year(self->programme));
        return SF_EINVAL;
    }
    engine_result_t *result = NULL;
    ranking_t *rankings = NULL;
    size_t count = 0;
    engine_input_t *input = load_input(self, err, errsize);
    int rc = input ? current_rankings(self, input, year, &result, &rankings, &count, err, errsize)
                   : SF_ESTORE;
    engine_input_destroy(&input);
    *lists = json_array();
    for (size_t i = 0; rc == 0 && i < count; i++) {
        const ranking_t *ranking = &rankings[i];
        /* An empty list is not confirmed: a holder whose units report late
         * must not be locked out of the year by a confirm of the others. */
        bool confirm_this = confirm && ranking->count > 0;
        struct recommend_arg arg = {self,           (unsigned)year, ranking->holder, ranking->units,
                                    ranking->count, confirm_this,   false,           NULL};
        rc = confirm_this ? store_write(self->store, recommend_fn, &arg)
                          : store_read(self->store, existing_fn, &arg);
        if (rc) {
            snprintf(err, errsize, "cannot store the recommendation: %s", sf_strerror(rc));
            break;
        }
        const Shifan__Recommendation *earlier = arg.existing ? arg.existing->recommendation : NULL;
        /* Confirmed once: that list stands, whatever the ranking says now. */
        bool final = earlier && earlier->confirmed;
        json_array_append_new(
            *lists,
            json_pack("{s:s, s:i, s:b, s:o}", "holder", ranking->holder, "quota", ranking->quota,
                      "confirmed", final || confirm_this, "units",
                      final ? units_json((const char *const *)earlier->units, earlier->n_units)
                            : units_json(ranking->units, ranking->count)));
        if (confirm_this && arg.queued)
            slog_info("recommendation of %s for %d confirmed: %zu unit(s); queued to the "
                      "province",
                      ranking->holder, year, ranking->count);
        codec_payload_free(arg.existing);
    }
    rankings_free(rankings, count);
    engine_result_destroy(&result);
    if (rc) {
        json_decref(*lists);
        *lists = NULL;
    }
    return rc;
}

struct generation_arg {
    node_t *self;
    uint64_t generation;
};

static int generation_fn(MDB_txn *txn, void *arg)
{
    struct generation_arg *a = arg;
    a->generation = 0;
    store_get_u64(txn, store_dbi(a->self->store, DB_META), META_DATA_GENERATION, &a->generation);
    return 0;
}

/* Ranking reads everything stored, so it must not run on every frame: it
 * runs once the data has been quiet for a moment, or every half minute under
 * a continuous flow, and reads the store once for all years. */
#define RANK_QUIET_MS 2000
#define RANK_EVERY_MS 30000

void tier_auto_recommend(node_t *self)
{
    struct generation_arg gen = {self, 0};
    if (store_read(self->store, generation_fn, &gen) || gen.generation == self->ranked_generation)
        return;
    int64_t now = stime_mono_ms();
    if (gen.generation != self->seen_generation) {
        self->seen_generation = gen.generation;
        self->seen_changed_ms = now;
    }
    bool quiet = now - self->seen_changed_ms >= RANK_QUIET_MS;
    bool overdue = now - self->ranked_ms >= RANK_EVERY_MS;
    if (!quiet && !overdue && self->ranked_ms != 0)
        return;
    char err[256];
    engine_input_t *input = load_input(self, err, sizeof err);
    if (!input) {
        slog_warn("cannot rank: %s", err);
        return;
    }
    int first = programme_first_year(self->programme), last = programme_last_year(self->programme);
    for (int year = first; year <= last; year++) {
        engine_result_t *result = NULL;
        ranking_t *rankings = NULL;
        size_t count = 0;
        if (current_rankings(self, input, year, &result, &rankings, &count, err, sizeof err) == 0) {
            for (size_t i = 0; i < count; i++) {
                if (rankings[i].quota == 0)
                    continue; /* nothing to recommend this year */
                struct recommend_arg arg = {self,
                                            (unsigned)year,
                                            rankings[i].holder,
                                            rankings[i].units,
                                            rankings[i].count,
                                            false,
                                            false,
                                            NULL};
                if (store_write(self->store, recommend_fn, &arg) == 0 && arg.queued)
                    slog_info("ranking of %s for %d changed: provisional recommendation of %zu "
                              "unit(s) queued to the province",
                              rankings[i].holder, year, rankings[i].count);
                codec_payload_free(arg.existing);
            }
        } else {
            slog_warn("cannot rank year %d: %s", year, err);
        }
        rankings_free(rankings, count);
        engine_result_destroy(&result);
    }
    engine_input_destroy(&input);
    self->ranked_generation = gen.generation;
    self->ranked_ms = stime_mono_ms();
}
