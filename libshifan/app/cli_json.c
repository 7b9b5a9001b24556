/* cli_json.c - the JSON the programs print and the daemon writes, rendered
 * from the typed results of node.h. The byte layout (key order, indent)
 * is part of the interface: scripts read it, e2e tests compare it. */
#include "app/cli.h"
#include "base/stime.h"
#include "domain/verdict.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *units_json(char *const *units, size_t count)
{
    json_t *list = json_array();
    for (size_t i = 0; i < count; i++)
        json_array_append_new(list, json_string(units[i]));
    return list;
}

char *cli_recommendations_json(const char *prefecture, int year,
                               const node_recommendations_t *lists)
{
    json_t *array = json_array();
    for (size_t i = 0; i < lists->count; i++) {
        const tier_recommendation_t *list = &lists->lists[i];
        json_array_append_new(array, json_pack("{s:s, s:i, s:b, s:o}", "holder", list->holder,
                                               "quota", list->quota, "confirmed", list->confirmed,
                                               "units", units_json(list->units, list->unit_count)));
    }
    json_t *out =
        json_pack("{s:s, s:i, s:o}", "prefecture", prefecture, "year", year, "lists", array);
    if (lists->count == 1) { /* one quota holder: its list at the top too */
        const tier_recommendation_t *only = &lists->lists[0];
        json_object_set_new(out, "quota", json_integer(only->quota));
        json_object_set_new(out, "confirmed", json_boolean(only->confirmed));
        json_object_set_new(out, "units", units_json(only->units, only->unit_count));
    }
    char *text = json_dumps(out, JSON_INDENT(2));
    json_decref(out);
    return text;
}

/* A time, or null for 0 (never, not reported). */
static json_t *time_or_null(int64_t when)
{
    char text[STIME_BUFSZ];
    return when ? json_string(stime_format(when, text, sizeof text)) : json_null();
}

static json_t *text_or_null(const char *text)
{
    return text[0] ? json_string(text) : json_null();
}

static json_t *count(uint64_t value)
{
    return json_integer((json_int_t)value);
}

static json_t *link_json(const node_link_status_t *link)
{
    json_t *out = json_object();
    json_object_set_new(out, "state", json_string(link->state));
    json_object_set_new(out, "upstream", json_string(link->upstream));
    json_object_set_new(out, "last_contact", time_or_null(link->last_contact));
    json_object_set_new(out, "unreachable_since", time_or_null(link->unreachable_since));
    if (!link->measured)
        return out;
    json_object_set_new(out, "rate_bytes_per_s", count(link->rate_bytes_per_s));
    json_object_set_new(out, "round_trip_ms", json_integer((json_int_t)link->round_trip_ms));
    json_object_set_new(out, "bytes_sent", count(link->bytes_sent));
    json_object_set_new(out, "bytes_resent", count(link->bytes_resent));
    json_object_set_new(out, "refused_by_parent", count(link->refused_by_parent));
    json_object_set_new(out, "resyncs", count(link->resyncs));
    json_object_set_new(out, "restarts", count(link->restarts));
    json_object_set_new(out, "last_event", text_or_null(link->last_event));
    return out;
}

static json_t *child_json(const node_child_status_t *child)
{
    json_t *out = json_object();
    json_object_set_new(out, "code", json_string(child->code));
    json_object_set_new(out, "connected", json_boolean(child->connected));
    json_object_set_new(out, "last_contact", time_or_null(child->last_contact));
    json_object_set_new(out, "down_pending", count(child->down_pending));
    json_object_set_new(out, "rate_bytes_per_s", count(child->rate_bytes_per_s));
    json_object_set_new(out, "round_trip_ms", json_integer((json_int_t)child->round_trip_ms));
    return out;
}

static void server_json(const node_server_status_t *server, json_t *out)
{
    json_t *children = json_array();
    for (size_t i = 0; i < server->child_count; i++)
        json_array_append_new(children, child_json(&server->children[i]));
    json_object_set_new(out, "children", children);
    json_object_set_new(out, "dropped_frames", count(server->dropped_frames));
    json_object_set_new(out, "refused_items", count(server->refused_items));
    json_object_set_new(out, "refused_keys", count(server->refused_keys));
    json_object_set_new(out, "sessionless_frames", count(server->sessionless_frames));
    json_object_set_new(out, "children_event", text_or_null(server->children_event));
    json_t *down = json_object();
    json_object_set_new(down, "bytes_sent", count(server->down_bytes_sent));
    json_object_set_new(down, "bytes_resent", count(server->down_bytes_resent));
    json_object_set_new(down, "resyncs", count(server->down_resyncs));
    json_object_set_new(down, "restarts", count(server->down_restarts));
    json_object_set_new(out, "downlinks", down);
}

/* "confirmed": "yes" (the province holds our key), "mismatch" (another
 * one), "not yet"; null at the province, which confirms. */
static json_t *signing_json(const node_status_t *status)
{
    const node_signing_status_t *signing = &status->signing;
    json_t *out = json_object();
    json_object_set_new(out, "fingerprint", json_string(signing->fingerprint));
    json_object_set_new(out, "keys_held", count(signing->keys_held));
    if (status->role == ROLE_PROVINCE)
        return out;
    const char *confirmed = !*signing->confirmed                                    ? "not yet"
                            : strcmp(signing->confirmed, signing->fingerprint) == 0 ? "yes"
                                                                                    : "mismatch";
    json_object_set_new(out, "confirmed", json_string(confirmed));
    json_object_set_new(out, "province_holds",
                        *signing->confirmed ? json_string(signing->confirmed) : json_null());
    json_object_set_new(out, "province_key",
                        *signing->province_key ? json_string(signing->province_key) : json_null());
    json_object_set_new(out, "province_key_pinned", json_boolean(signing->province_key_pinned));
    return out;
}

char *cli_status_json(const node_status_t *status)
{
    json_t *out = json_object();
    json_object_set_new(out, "role", json_string(node_role_name(status->role)));
    json_object_set_new(out, "code", json_string(status->code));
    json_object_set_new(out, "programme", json_string(status->programme));
    json_object_set_new(out, "programme_revision", count(status->programme_revision));
    json_object_set_new(out, "reports", count(status->reports));
    if (status->role != ROLE_PROVINCE) {
        json_object_set_new(out, "queued", count(status->queued));
        json_object_set_new(out, "queue_oldest", time_or_null(status->queue_oldest));
    }
    if (status->role != ROLE_COUNTY) {
        json_object_set_new(out, "inspections", count(status->inspections));
        json_object_set_new(out, "children_registered", count(status->children_registered));
    }
    json_object_set_new(out, "returns", count(status->returns));
    json_object_set_new(out, "refused", count(status->refused));
    json_object_set_new(out, "daemon", json_string(status->daemon_running ? "running" : "stopped"));
    if (status->role != ROLE_PROVINCE)
        json_object_set_new(out, "link", link_json(&status->link));
    if (status->has_server)
        server_json(&status->server, out);
    json_object_set_new(out, "signing", signing_json(status));
    /* Sorted keys: the layout scripts and the e2e tests read. */
    char *text = json_dumps(out, JSON_INDENT(2) | JSON_SORT_KEYS);
    json_decref(out);
    return text;
}

const char *cli_version_state(const node_version_t *version, char *buf, size_t size)
{
    switch (version->state) {
    case NODE_VERSION_STORED:
        return NULL;
    case NODE_VERSION_QUEUED:
        return "queued";
    case NODE_VERSION_DELIVERED:
        return "delivered";
    case NODE_VERSION_RETURNED:
        return "returned";
    case NODE_VERSION_REFUSED:
        snprintf(buf, size, "refused: %s", version->refusal);
        return buf;
    }
    return NULL;
}

static json_t *version_json(const node_version_t *version)
{
    char when[STIME_BUFSZ], state[640]; /* state: the width `list` always had */
    json_t *entry = json_object();
    json_object_set_new(entry, "report_id", json_string(version->report_id));
    json_object_set_new(entry, "unit", json_string(version->unit));
    json_object_set_new(entry, "year", json_integer(version->year));
    json_object_set_new(entry, "version", json_integer(version->version));
    json_object_set_new(entry, "submitted_at",
                        json_string(stime_format(version->submitted_at, when, sizeof when)));
    json_object_set_new(entry, "origin", json_string(version->origin));
    if (version->received)
        json_object_set_new(entry, "received_at",
                            json_string(stime_format(version->received_at, when, sizeof when)));
    if (version->state == NODE_VERSION_REFUSED) {
        json_object_set_new(entry, "refusal_reason", json_string(version->refusal));
        json_object_set_new(entry, "refused_by", json_string(version->refused_by));
    } else if (version->state == NODE_VERSION_RETURNED) {
        json_object_set_new(entry, "return_reason", json_string(version->return_reason));
    }
    const char *text = cli_version_state(version, state, sizeof state);
    if (text)
        json_object_set_new(entry, "state", json_string(text));
    return entry;
}

char *cli_versions_json(const node_versions_t *versions)
{
    json_t *list = json_array();
    for (size_t i = 0; i < versions->count; i++)
        json_array_append_new(list, version_json(&versions->versions[i]));
    /* Keys in the order above (not sorted): the layout `list --json` always had. */
    char *text = json_dumps(list, JSON_INDENT(2));
    json_decref(list);
    return text;
}

/* A string member, copied; NULL if absent or not a string. */
static char *text_copy(const json_t *object, const char *key)
{
    const char *text = json_string_value(json_object_get(object, key));
    return text ? strdup(text) : NULL;
}

/* A value of the published JSON as a report value of the criterion's kind. */
static void published_value(const json_t *json, criterion_kind_t kind, bool *present,
                            report_value_t *value)
{
    memset(value, 0, sizeof *value);
    value->kind = kind;
    *present = json && !json_is_null(json);
    value->flag = json_is_true(json);
    value->count = (uint64_t)json_integer_value(json);
    value->num = (uint64_t)json_integer_value(json_object_get(json, "num"));
    value->den = (uint64_t)json_integer_value(json_object_get(json, "den"));
}

static engine_tier_t published_source(const char *name)
{
    return name && strcmp(name, "province") == 0     ? ENGINE_TIER_PROVINCE
           : name && strcmp(name, "prefecture") == 0 ? ENGINE_TIER_PREFECTURE
                                                     : ENGINE_TIER_SELF;
}

/* verdict_line of one published criterion of the programme's. */
static char *published_reason(const json_t *item, const programme_criterion_t *criterion)
{
    engine_criterion_result_t result = {.criterion = criterion};
    result.passed = json_is_true(json_object_get(item, "passed"));
    result.discrepancy = json_is_true(json_object_get(item, "discrepancy"));
    result.source = published_source(json_string_value(json_object_get(item, "source")));
    published_value(json_object_get(item, "value"), criterion->kind, &result.present,
                    &result.value);
    published_value(json_object_get(item, "self_value"), criterion->kind, &result.self_present,
                    &result.self_value);
    char line[VERDICT_TEXT_MAX + 512];
    verdict_line(&result, line, sizeof line);
    return strdup(line);
}

/* The reasons of the unit's failed (or contradicted) criteria. */
static int published_reasons(const json_t *criteria, const programme_t *programme,
                             cli_published_unit_t *unit)
{
    size_t count = json_array_size(criteria);
    if (!programme || !count)
        return 0;
    if (!(unit->reasons = calloc(count, sizeof *unit->reasons)))
        return SF_ENOMEM;
    for (size_t i = 0; i < count; i++) {
        const json_t *item = json_array_get(criteria, i);
        const char *id = json_string_value(json_object_get(item, "id"));
        int at = id ? programme_find_criterion(programme, id) : -1;
        if (at < 0 || (json_is_true(json_object_get(item, "passed")) &&
                       !json_is_true(json_object_get(item, "discrepancy"))))
            continue;
        char *line = published_reason(item, programme_criterion(programme, (size_t)at));
        if (!line)
            return SF_ENOMEM;
        unit->reasons[unit->reason_count++] = line;
    }
    return 0;
}

static int published_unit(const json_t *item, const programme_t *programme,
                          cli_published_unit_t *unit)
{
    unit->code = text_copy(item, "code");
    unit->name = text_copy(item, "name");
    unit->status = text_copy(item, "status");
    unit->qualified = json_is_true(json_object_get(item, "qualified"));
    unit->recommended = json_is_true(json_object_get(item, "recommended"));
    unit->demonstration = json_is_true(json_object_get(item, "demonstration"));
    unit->national_candidate = json_is_true(json_object_get(item, "national_candidate"));
    bool lost = (json_is_string(json_object_get(item, "code")) && !unit->code) ||
                (json_is_string(json_object_get(item, "name")) && !unit->name) ||
                (json_is_string(json_object_get(item, "status")) && !unit->status);
    if (lost)
        return SF_ENOMEM;
    if (unit->status && strcmp(unit->status, "missing") == 0)
        return 0; /* no report: every criterion fails, nothing to explain */
    return published_reasons(json_object_get(item, "criteria"), programme, unit);
}

cli_published_t *cli_published_parse(const char *document, const programme_t *programme,
                                     sf_error_t *error)
{
    cli_published_t *self = calloc(1, sizeof *self);
    json_t *root = json_loads(document, 0, NULL); /* not JSON: nothing but the header */
    const json_t *units = json_object_get(root, "units");
    size_t count = json_array_size(units);
    int rc = self ? 0 : SF_ENOMEM;
    if (!rc && count && !(self->units = calloc(count, sizeof *self->units)))
        rc = SF_ENOMEM;
    if (!rc && json_is_string(json_object_get(root, "evaluated_at")) &&
        !(self->evaluated_at = text_copy(root, "evaluated_at")))
        rc = SF_ENOMEM;
    for (size_t i = 0; !rc && i < count; i++)
        rc = published_unit(json_array_get(units, i), programme, &self->units[self->unit_count++]);
    json_decref(root);
    if (rc) {
        cli_published_destroy(&self);
        sf_error_set(error, rc, "out of memory");
    }
    return self;
}

void cli_published_destroy(cli_published_t **self_p)
{
    cli_published_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->unit_count; i++) {
        free(self->units[i].code);
        free(self->units[i].name);
        free(self->units[i].status);
        for (size_t r = 0; r < self->units[i].reason_count; r++)
            free(self->units[i].reasons[r]);
        free(self->units[i].reasons);
    }
    free(self->units);
    free(self->evaluated_at);
    free(self);
    *self_p = NULL;
}

char *cli_signing_keys_json(const node_signing_key_t *keys, size_t count)
{
    json_t *out = json_array();
    for (size_t i = 0; i < count; i++) {
        json_t *key = json_object();
        json_object_set_new(key, "unit", json_string(keys[i].unit));
        json_object_set_new(key, "fingerprint", json_string(keys[i].fingerprint));
        json_object_set_new(key, "since", time_or_null(keys[i].since));
        json_object_set_new(key, "until", time_or_null(keys[i].until));
        json_object_set_new(key, "revoked", json_boolean(keys[i].revoked));
        json_object_set_new(key, "registered_by",
                            *keys[i].registered_by ? json_string(keys[i].registered_by)
                                                   : json_null());
        json_array_append_new(out, key);
    }
    char *text = json_dumps(out, JSON_INDENT(2) | JSON_SORT_KEYS);
    json_decref(out);
    return text;
}
