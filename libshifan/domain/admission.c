#include "domain/admission.h"
#include "base/error.h"
#include "base/msg.h"
#include "base/stime.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define SHOWN_MAX 40 /* characters of a refused value shown in a reason */
#define ITEM_MAX 128 /* "report 530102-2018-v1-3fa9c1d2", "recommendation of 530100 for 2018" */

typedef enum { TIER_COUNTY, TIER_HUB, TIER_PROVINCE } tier_t;

/* The tier's name and a unit's level, in the receiver's language. */
static const char *tier_name(tier_t tier)
{
    return tier == TIER_COUNTY ? msg("county")
           : tier == TIER_HUB  ? msg("prefecture hub")
                               : msg("province");
}

static const char *level_name(unit_level_t level)
{
    switch (level) {
    case LEVEL_PROVINCE:
        return msg("province");
    case LEVEL_PREFECTURE:
        return msg("prefecture");
    case LEVEL_COUNTY:
        return msg("county");
    default:
        return msg("site");
    }
}

#define AT(tier) (1u << (tier))

/* Where an item may arrive: the tiers that take it from a child and those
 * that take it from the parent (docs/protocol.md, "Messages"). */
typedef struct {
    unsigned from_child;
    unsigned from_parent;
    const char *travels; /* MSG_NOOP: msg() when shown */
} route_t;

static const route_t route_report = {
    AT(TIER_HUB) | AT(TIER_PROVINCE), 0,
    MSG_NOOP("reports travel up only, from a county to its prefecture hub and on to the province")};
static const route_t route_inspection = {
    AT(TIER_PROVINCE), 0,
    MSG_NOOP("inspections travel only from a prefecture hub to the province")};
static const route_t route_return = {
    AT(TIER_PROVINCE), AT(TIER_COUNTY),
    MSG_NOOP("returns travel from a prefecture hub down to the county and up to the province")};
static const route_t route_refused = {
    AT(TIER_HUB) | AT(TIER_PROVINCE), AT(TIER_HUB) | AT(TIER_COUNTY),
    MSG_NOOP("refusal notices travel back to the sender of the refused item")};
static const route_t route_recommendation = {
    AT(TIER_PROVINCE), 0,
    MSG_NOOP("recommendations travel only from a prefecture hub to the province")};
static const route_t route_programme = {
    0, AT(TIER_HUB) | AT(TIER_COUNTY),
    MSG_NOOP("programmes travel down only, from the province to the hubs and on to the counties")};
static const route_t route_evaluation = {0, AT(TIER_HUB) | AT(TIER_COUNTY),
                                         MSG_NOOP("evaluation results travel down only, from the "
                                                  "province to the hubs and on to the counties")};

static const route_t route_key = {
    AT(TIER_HUB) | AT(TIER_PROVINCE), 0,
    MSG_NOOP("signing keys are announced up only, to the parent and on to the province")};
static const route_t route_key_confirmation = {
    0, AT(TIER_HUB) | AT(TIER_COUNTY),
    MSG_NOOP("key confirmations travel down only, from the province to the key's owner")};

/* One check in progress: the context resolved once. */
typedef struct {
    const admission_t *at;
    const programme_t *programme;
    int receiver; /* unit index */
    int peer;     /* unit index of the sending child; -1 for the parent */
    tier_t tier;
    char *why;
    size_t whysize;
} check_t;

__attribute__((format(printf, 3, 4))) static int refuse(const check_t *c, int rc, const char *fmt,
                                                        ...)
{
    if (c->why && c->whysize) {
        va_list args;
        va_start(args, fmt);
        vsnprintf(c->why, c->whysize, fmt, args);
        va_end(args);
    }
    return rc;
}

/* Cuts a character that a cut at the end left incomplete: a Chinese reason
 * cut to its buffer stays Chinese. */
static void trim_partial(char *why)
{
    size_t len = strlen(why), lead = len;
    while (lead > 0 && len - lead < 4 && ((unsigned char)why[lead - 1] & 0xC0) == 0x80)
        lead--;
    if (lead == 0)
        return;
    unsigned char byte = (unsigned char)why[lead - 1];
    size_t need = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 1;
    if (len - (lead - 1) < need)
        why[lead - 1] = '\0';
}

/* Reasons quote unit names and loader messages, and a cut (vsnprintf's, or
 * "%.20s") can split a character: a reason still not UTF-8 once a cut
 * character at its end is gone loses its non-ASCII bytes, since it goes into logs and a Refusal's
 * string. */
static int settle(int rc, char *why, size_t whysize)
{
    if (rc && why && whysize && !report_text_valid(why, whysize))
        trim_partial(why);
    if (rc && why && whysize && !report_text_valid(why, whysize))
        for (char *p = why; *p; p++)
            if ((unsigned char)*p >= 0x80)
                *p = '?';
    return rc;
}

/* A value that failed a check, safe to log and to send back: printable
 * ASCII, other bytes as '?', cut to fit `size` with "..." at the end. */
static const char *shown(const char *text, char *out, size_t size)
{
    if (!text)
        return msg("(none)");
    size_t max = size - 4, n = 0;
    for (; text[n] && n < max; n++)
        out[n] = text[n] >= 0x20 && text[n] <= 0x7E ? text[n] : '?';
    if (text[n])
        memcpy(out + n, "...", 4);
    else
        out[n] = '\0';
    return out;
}

static bool report_id_char(char ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           ch == '-' || ch == '_' || ch == '.';
}

static bool report_id_ok(const char *id)
{
    if (!id || !*id)
        return false;
    size_t len = 0;
    for (; id[len]; len++)
        if (len >= ADMIT_REPORT_ID_MAX || !report_id_char(id[len]))
            return false;
    return true;
}

/* "report 530102-2018-v1-3fa9c1d2" (`named`, a format of one %s), or just
 * "report" (`bare`) while the id is bad. */
__attribute__((format(printf, 2, 0))) static void name_item(char *out, const char *named,
                                                            const char *bare, const char *id)
{
    if (report_id_ok(id))
        snprintf(out, ITEM_MAX, named, id);
    else
        snprintf(out, ITEM_MAX, "%s", bare);
}

static const char *sender(const check_t *c)
{
    return c->peer >= 0 ? programme_unit(c->programme, (size_t)c->peer)->code : msg("the parent");
}

/* Resolves the receiver and the sender, and checks that the item may come
 * this way at all. */
static int start(check_t *c, const admission_t *at, const route_t *route, const char *item,
                 char *why, size_t whysize)
{
    memset(c, 0, sizeof *c);
    c->at = at;
    c->why = why;
    c->whysize = whysize;
    if (why && whysize)
        why[0] = '\0';
    if (!at || !at->programme || !at->receiver)
        return refuse(c, SF_EINVAL, msg("%s: no programme or receiver to check it against"), item);
    c->programme = at->programme;
    char buf[SHOWN_MAX + 4];
    c->receiver = programme_find_unit(c->programme, at->receiver);
    if (c->receiver < 0)
        return refuse(c, SF_EINVAL, msg("%s: this node (%s) is not in programme %s"), item,
                      shown(at->receiver, buf, sizeof buf), programme_id(c->programme));
    const programme_unit_t *self = programme_unit(c->programme, (size_t)c->receiver);
    if (self->parent < 0)
        c->tier = TIER_PROVINCE;
    else if (self->level == LEVEL_PREFECTURE)
        c->tier = TIER_HUB;
    else if (self->level == LEVEL_COUNTY)
        c->tier = TIER_COUNTY;
    else
        return refuse(c, SF_EINVAL, msg("%s: this node (%s) is a %s, which runs no node"), item,
                      self->code, level_name(self->level));
    c->peer = -1;
    if (at->peer && *at->peer) {
        c->peer = programme_find_unit(c->programme, at->peer);
        if (c->peer < 0 || programme_unit(c->programme, (size_t)c->peer)->parent != c->receiver)
            return refuse(c, SF_EDENIED,
                          msg("%s from %s: not a unit directly under this node (%s)"), item,
                          shown(at->peer, buf, sizeof buf), self->code);
    }
    unsigned allowed = c->peer >= 0 ? route->from_child : route->from_parent;
    if (!(allowed & AT(c->tier)))
        return refuse(c, SF_EINVAL, msg("%s from %s to the %s %s: %s"), item, sender(c),
                      tier_name(c->tier), self->code, msg(route->travels));
    return 0;
}

/* Never formats the value itself: stime_format overflows on extreme ones. */
static int check_time(const check_t *c, const char *item, const char *field, int64_t t)
{
    char when[STIME_BUFSZ];
    if (t < ADMIT_EARLIEST)
        return refuse(c, SF_EINVAL,
                      msg("%s: %s %lld: before 2000-01-01T00:00:00Z (a clock that was never set?)"),
                      item, field, (long long)t);
    if (t - ADMIT_AHEAD_MAX > c->at->now)
        return refuse(c, SF_EINVAL,
                      msg("%s: %s %lld: more than a day ahead of this node's clock (%s)"), item,
                      field, (long long)t, stime_format(c->at->now, when, sizeof when));
    return 0;
}

static int check_year(const check_t *c, const char *item, uint32_t year)
{
    if (year > INT32_MAX || !programme_has_year(c->programme, (int)year))
        return refuse(c, SF_EINVAL, msg("%s: year %u is outside the programme's years %d..%d"),
                      item, year, programme_first_year(c->programme),
                      programme_last_year(c->programme));
    return 0;
}

/* A unit of evaluation of the programme, given by a field of the item. */
static int find_evaluated(const check_t *c, const char *item, const char *field, const char *code,
                          int *index)
{
    char buf[SHOWN_MAX + 4];
    *index = code ? programme_find_unit(c->programme, code) : -1;
    if (*index < 0)
        return refuse(c, SF_EINVAL, msg("%s: %s %s is not in programme %s"), item, field,
                      shown(code, buf, sizeof buf), programme_id(c->programme));
    const programme_unit_t *unit = programme_unit(c->programme, (size_t)*index);
    if (!unit->evaluated)
        return refuse(c, SF_EINVAL, msg("%s: %s %s (%s) is a %s, not a unit of evaluation (%s)"),
                      item, field, code, unit->name, level_name(unit->level),
                      level_name(programme_evaluated_level(c->programme)));
    return 0;
}

static const char *code_of(const check_t *c, int index)
{
    return programme_unit(c->programme, (size_t)index)->code;
}

static bool within(const check_t *c, int unit, int ancestor)
{
    return programme_unit_within(c->programme, code_of(c, unit), code_of(c, ancestor));
}

/* The county-level unit at or above a unit: the node that submits for it. */
static int county_of(const check_t *c, int unit)
{
    while (unit >= 0 && programme_unit(c->programme, (size_t)unit)->level > LEVEL_COUNTY)
        unit = programme_unit(c->programme, (size_t)unit)->parent;
    return unit;
}

/* ---- reports and inspections ---- */

static bool earlier_standard(const check_t *c, const char *standard)
{
    for (const char *const *earlier = c->at->earlier_standards; earlier && *earlier; earlier++)
        if (strcmp(*earlier, standard) == 0)
            return true;
    return false;
}

static int check_standard(const check_t *c, const char *item, const report_t *report)
{
    const char *ours = programme_standard_id(c->programme);
    if (!report->standard_id[0])
        return refuse(c, SF_EINVAL,
                      msg("%s: standard_id is empty; the programme's standard is \"%s\""), item,
                      ours);
    if (strcmp(report->standard_id, ours) != 0 && !earlier_standard(c, report->standard_id))
        return refuse(
            c, SF_EINVAL, msg("%s: standard_id: \"%s\" is not the programme's standard \"%s\"%s"),
            item, report->standard_id, ours,
            c->at->earlier_standards && *c->at->earlier_standards ? msg(" nor one it replaced")
                                                                  : "");
    return 0;
}

/* report is ours (decoded for this check): its standard_id is cleared once
 * checked. `values` is how many values the message gave. */
static int check_report(const check_t *c, const char *item, report_t *report, bool inspection,
                        size_t values)
{
    char buf[SHOWN_MAX + 4];
    if (!report_id_ok(report->report_id))
        return refuse(c, SF_EINVAL,
                      msg("%s: report_id \"%s\": not 1 to %d characters of A-Z a-z 0-9 - _ ."),
                      item, shown(report->report_id, buf, sizeof buf), ADMIT_REPORT_ID_MAX);
    int unit = programme_find_unit(c->programme, report->unit);
    if (unit < 0)
        return refuse(c, SF_EINVAL, msg("%s: unit %s is not in programme %s"), item, report->unit,
                      programme_id(c->programme));
    if (!within(c, unit, c->peer))
        return refuse(c, SF_EDENIED,
                      msg("%s: unit %s is not %s or under it: its key may not %s for it"), item,
                      report->unit, sender(c), inspection ? msg("inspect") : msg("report"));
    int rc = check_standard(c, item, report);
    if (rc)
        return rc;
    /* The standard is settled: validate the rest against the current one. */
    report->standard_id[0] = '\0';
    if (report_validate(report, c->programme, item, c->why, c->whysize))
        return SF_EINVAL;
    if (!report->origin[0])
        return refuse(c, SF_EINVAL, msg("%s: origin is empty"), item);
    int origin = programme_find_unit(c->programme, report->origin);
    if (inspection && origin != c->peer)
        return refuse(c, SF_EINVAL, msg("%s: origin %s: not the inspecting hub %s"), item,
                      report->origin, sender(c));
    int county = county_of(c, unit);
    if (!inspection && origin != county)
        return refuse(c, SF_EINVAL, msg("%s: origin %s: not the county of unit %s (%s)"), item,
                      report->origin, report->unit, code_of(c, county));
    if (report->version < 1)
        return refuse(c, SF_EINVAL, msg("%s: version 0: versions count from 1"), item);
    if (inspection && values == 0)
        return refuse(c, SF_EINVAL, msg("%s: no values: an inspection gives at least one"), item);
    return check_time(c, item, "submitted_at", report->submitted_at);
}

/* The usual case in one pass: values checked on the decoded message against
 * the programme (report_proto_fits), the rest by check_report on a report_t
 * of the header alone. False for any refusal, which the long way (read the
 * whole report, then check it) then words exactly as it always did. */
static bool report_passes(const check_t *c, const char *item, const Shifan__Report *wire,
                          bool inspection)
{
    if (!report_proto_fits(wire, c->programme))
        return false;
    report_t head; /* no values: report_proto_fits checked them */
    memset(&head, 0, sizeof head);
    strcpy(head.report_id, wire->report_id); /* lengths checked by report_proto_fits */
    strcpy(head.unit, wire->unit);
    strcpy(head.standard_id, wire->standard_id);
    strcpy(head.origin, wire->origin);
    head.year = (int)wire->year;
    head.version = wire->version;
    head.series = wire->has_series ? wire->series : 0;
    head.submitted_at = wire->submitted_at;
    return check_report(c, item, &head, inspection, wire->n_values) == 0;
}

static int admit_report_or_inspection(const admission_t *at, const Shifan__Report *wire,
                                      bool inspection, char *why, size_t whysize)
{
    char item[ITEM_MAX];
    name_item(item, inspection ? msg("inspection %s") : msg("report %s"),
              inspection ? msg("inspection") : msg("report"), wire ? wire->report_id : NULL);
    check_t c;
    int rc = start(&c, at, inspection ? &route_inspection : &route_report, item, why, whysize);
    if (rc)
        return rc;
    if (report_passes(&c, item, wire, inspection)) {
        if (why && whysize)
            why[0] = '\0';
        return 0;
    }
    /* Refused: start again, so that the reason is the one it always was. */
    if ((rc = start(&c, at, inspection ? &route_inspection : &route_report, item, why, whysize)))
        return rc;
    report_t *report = NULL;
    rc = report_read_proto(wire, item, &report, why, whysize);
    if (rc)
        return rc;
    rc = check_report(&c, item, report, inspection, report->value_count);
    report_destroy(&report);
    return rc;
}

/* ---- returns ---- */

static int return_checked(const admission_t *at, const Shifan__Return *ret, char *why,
                          size_t whysize)
{
    char item[ITEM_MAX], buf[SHOWN_MAX + 4];
    name_item(item, msg("return of %s"), msg("return"), ret ? ret->report_id : NULL);
    check_t c;
    int rc = start(&c, at, &route_return, item, why, whysize);
    if (rc)
        return rc;
    if (!ret)
        return refuse(&c, SF_EINVAL, msg("%s: no message"), item);
    if (!report_id_ok(ret->report_id))
        return refuse(&c, SF_EINVAL,
                      msg("%s: report_id \"%s\": not 1 to %d characters of A-Z a-z 0-9 - _ ."),
                      item, shown(ret->report_id, buf, sizeof buf), ADMIT_REPORT_ID_MAX);
    int unit;
    if ((rc = find_evaluated(&c, item, "unit", ret->unit, &unit)))
        return rc;
    /* The hub that returns: the sending child, or this county's own parent. */
    int hub = c.peer >= 0 ? c.peer : programme_unit(c.programme, (size_t)c.receiver)->parent;
    int owner = c.peer >= 0 ? c.peer : c.receiver;
    if (!within(&c, unit, owner))
        return refuse(&c, SF_EDENIED, msg("%s: unit %s is not %s or under it"), item, ret->unit,
                      code_of(&c, owner));
    int by = ret->by ? programme_find_unit(c.programme, ret->by) : -1;
    if (by != hub)
        return refuse(&c, SF_EINVAL, msg("%s: by %s: not the returning hub %s"), item,
                      shown(ret->by, buf, sizeof buf), code_of(&c, hub));
    if ((rc = check_year(&c, item, ret->year)))
        return rc;
    if (!ret->reason || !*ret->reason)
        return refuse(&c, SF_EINVAL, msg("%s: reason is empty: the county must be told why"), item);
    if (!report_text_valid(ret->reason, ADMIT_REASON_MAX))
        return refuse(&c, SF_EINVAL, msg("%s: reason is not UTF-8 text of at most %d bytes"), item,
                      ADMIT_REASON_MAX);
    return check_time(&c, item, "returned_at", ret->returned_at);
}

/* ---- recommendations ---- */

/* Does the programme rank any unit of evaluation under this holder? */
static bool recommends_any(const check_t *c, int holder)
{
    for (size_t u = 0; u < programme_unit_count(c->programme); u++)
        if (programme_unit(c->programme, u)->evaluated &&
            programme_recommender(c->programme, (int)u) == holder)
            return true;
    return false;
}

static int check_units(const check_t *c, const char *item, const Shifan__Recommendation *rec,
                       int holder)
{
    int quota = programme_quota(c->programme, code_of(c, holder), (int)rec->year);
    if (rec->n_units > (size_t)(quota > 0 ? quota : 0))
        return refuse(c, SF_EINVAL, msg("%s: %zu units listed, beyond the quota of %d"), item,
                      rec->n_units, quota);
    if (rec->n_units && !rec->units)
        return refuse(c, SF_EINVAL, msg("%s: units missing"), item);
    for (size_t i = 0; i < rec->n_units; i++) {
        char field[32];
        snprintf(field, sizeof field, "units[%zu]", i);
        int unit, rc = find_evaluated(c, item, field, rec->units[i], &unit);
        if (rc)
            return rc;
        if (programme_recommender(c->programme, unit) != holder)
            return refuse(c, SF_EDENIED, msg("%s: %s %s is not ranked under %s"), item, field,
                          rec->units[i], code_of(c, holder));
        /* A former code and its successor are one unit. The list is within
         * the quota, so short. */
        for (size_t j = 0; j < i; j++)
            if (programme_find_unit(c->programme, rec->units[j]) == unit)
                return refuse(c, SF_EINVAL, msg("%s: %s %s is listed twice (units[%zu] %s)"), item,
                              field, rec->units[i], j, rec->units[j]);
    }
    return 0;
}

static int recommendation_checked(const admission_t *at, const Shifan__Recommendation *rec,
                                  char *why, size_t whysize)
{
    char item[ITEM_MAX], buf[SHOWN_MAX + 4];
    if (rec)
        snprintf(item, sizeof item, msg("recommendation of %s for %u"),
                 shown(rec->prefecture, buf, sizeof buf), rec->year);
    else
        snprintf(item, sizeof item, "%s", msg("recommendation"));
    check_t c;
    int rc = start(&c, at, &route_recommendation, item, why, whysize);
    if (rc)
        return rc;
    if (!rec)
        return refuse(&c, SF_EINVAL, msg("%s: no message"), item);
    int holder = rec->prefecture ? programme_find_unit(c.programme, rec->prefecture) : -1;
    if (holder < 0)
        return refuse(&c, SF_EINVAL, msg("%s: prefecture %s is not in programme %s"), item,
                      shown(rec->prefecture, buf, sizeof buf), programme_id(c.programme));
    if (!within(&c, holder, c.peer))
        return refuse(&c, SF_EDENIED,
                      msg("%s: %s is not %s or under it: its key may not recommend"), item,
                      rec->prefecture, sender(&c));
    if ((rc = check_year(&c, item, rec->year)))
        return rc;
    if (!recommends_any(&c, holder))
        return refuse(&c, SF_EINVAL,
                      msg("%s: %s (%s) recommends no unit of evaluation in programme %s (not a "
                          "quota holder)"),
                      item, rec->prefecture, programme_unit(c.programme, (size_t)holder)->name,
                      programme_id(c.programme));
    if ((rc = check_units(&c, item, rec, holder)))
        return rc;
    if (rec->revision < 1)
        return refuse(&c, SF_EINVAL, msg("%s: revision 0: revisions count from 1"), item);
    return check_time(&c, item, "made_at", rec->made_at);
}

/* ---- programmes ---- */

static const programme_unit_t *root_of(const programme_t *programme)
{
    for (size_t u = 0; u < programme_unit_count(programme); u++)
        if (programme_unit(programme, u)->parent < 0)
            return programme_unit(programme, u);
    return NULL;
}

/* The new programme must keep this node where it is: same root, same unit
 * at the same level under the same parent, or the node and its links would
 * no longer fit the hierarchy. */
static int check_placement(const check_t *c, const char *item, const programme_t *incoming)
{
    const programme_unit_t *root = root_of(incoming), *our_root = root_of(c->programme);
    if (!root || !our_root || strcmp(root->code, our_root->code) != 0)
        return refuse(c, SF_EINVAL, msg("%s: its root unit is %s, this node's programme's is %s"),
                      item, root ? root->code : msg("none"),
                      our_root ? our_root->code : msg("none"));
    const programme_unit_t *self = programme_unit(c->programme, (size_t)c->receiver);
    int index = programme_find_unit(incoming, self->code);
    if (index < 0)
        return refuse(c, SF_EINVAL, msg("%s: this node's unit %s is not in it"), item, self->code);
    const programme_unit_t *there = programme_unit(incoming, (size_t)index);
    if (there->level != self->level || there->parent < 0)
        return refuse(c, SF_EINVAL, msg("%s: this node's unit %s is a %s in it, not a %s"), item,
                      self->code, level_name(there->level), level_name(self->level));
    const char *parent = programme_unit(c->programme, (size_t)self->parent)->code;
    const char *parent_there = programme_unit(incoming, (size_t)there->parent)->code;
    if (strcmp(parent, parent_there) != 0)
        return refuse(c, SF_EINVAL, msg("%s: this node's unit %s is under %s in it, not under %s"),
                      item, self->code, parent_there, parent);
    return 0;
}

static int programme_checked(const admission_t *at, const Shifan__Programme *programme,
                             programme_t **loaded, char *why, size_t whysize)
{
    char item[ITEM_MAX], buf[SHOWN_MAX + 4];
    if (loaded)
        *loaded = NULL;
    if (programme)
        snprintf(item, sizeof item, msg("programme %s revision %llu"),
                 shown(programme->programme_id, buf, sizeof buf),
                 (unsigned long long)programme->revision);
    else
        snprintf(item, sizeof item, "%s", msg("programme"));
    check_t c;
    int rc = start(&c, at, &route_programme, item, why, whysize);
    if (rc)
        return rc;
    if (!programme)
        return refuse(&c, SF_EINVAL, msg("%s: no message"), item);
    if (!programme->programme_id || !*programme->programme_id)
        return refuse(&c, SF_EINVAL, msg("%s: programme_id is empty"), item);
    if (programme->revision < 1)
        return refuse(&c, SF_EINVAL, msg("%s: revision 0: revisions count from 1"), item);
    if ((rc = check_time(&c, item, "published_at", programme->published_at)))
        return rc;
    if (!programme->document.data || programme->document.len == 0)
        return refuse(&c, SF_EINVAL, msg("%s: document is empty"), item);
    sf_error_t error;
    programme_t *incoming = programme_load_json((const char *)programme->document.data,
                                                programme->document.len, item, &error);
    if (!incoming) {
        if (why && whysize)
            snprintf(why, whysize, "%s", error.text);
        return SF_EINVAL;
    }
    if (strcmp(programme_id(incoming), programme->programme_id) != 0)
        rc = refuse(&c, SF_EINVAL, msg("%s: the document's id is \"%s\""), item,
                    programme_id(incoming));
    else if (programme_revision(incoming) != programme->revision)
        rc = refuse(&c, SF_EINVAL, msg("%s: the document's revision is %llu"), item,
                    (unsigned long long)programme_revision(incoming));
    else
        rc = check_placement(&c, item, incoming);
    if (rc == 0 && loaded)
        *loaded = incoming;
    else
        programme_destroy(&incoming);
    return rc;
}

/* ---- evaluation results ---- */

static int check_document(const check_t *c, const char *item, const json_t *document, uint32_t year)
{
    char buf[SHOWN_MAX + 4];
    json_t *member = json_object_get(document, "year");
    if (!json_is_integer(member) || json_integer_value(member) != (json_int_t)year)
        return refuse(c, SF_EINVAL, msg("%s: document: $.year is not %u"), item, year);
    member = json_object_get(document, "published_for");
    const char *area = json_string_value(member);
    if (!area)
        return refuse(c, SF_EINVAL, msg("%s: document: $.published_for is missing"), item);
    if (programme_find_unit(c->programme, area) != c->receiver)
        return refuse(c, SF_EDENIED, msg("%s: document: $.published_for is %s, not this node (%s)"),
                      item, shown(area, buf, sizeof buf), code_of(c, c->receiver));
    return 0;
}

/* ---- signing keys (docs/signing.md) ---- */

#define KEY_BYTES 32
#define CURVE_Z85_LEN 40

static int key_checked(const admission_t *at, const Shifan__KeyAnnouncement *key, char *why,
                       size_t whysize)
{
    char item[ITEM_MAX], buf[SHOWN_MAX + 4];
    name_item(item, msg("signing key of %s"), msg("signing key"), key ? key->unit : NULL);
    check_t c;
    int rc = start(&c, at, &route_key, item, why, whysize);
    if (rc)
        return rc;
    if (!key)
        return refuse(&c, SF_EINVAL, msg("%s: no message"), item);
    int unit = key->unit ? programme_find_unit(c.programme, key->unit) : -1;
    if (unit < 0)
        return refuse(&c, SF_EINVAL, msg("%s: unit %s is not in programme %s"), item,
                      shown(key->unit, buf, sizeof buf), programme_id(c.programme));
    if (!within(&c, unit, c.peer))
        return refuse(&c, SF_EDENIED, msg("%s: unit %s is not %s or under it"), item, key->unit,
                      code_of(&c, c.peer));
    if (key->sign_key.len != KEY_BYTES ||
        (key->has_previous_key && key->previous_key.len && key->previous_key.len != KEY_BYTES))
        return refuse(&c, SF_EINVAL, msg("%s: a signing key is not %d bytes"), item, KEY_BYTES);
    if (key->curve_key && (strlen(key->curve_key) != CURVE_Z85_LEN ||
                           !report_text_valid(key->curve_key, CURVE_Z85_LEN)))
        return refuse(&c, SF_EINVAL, msg("%s: curve_key is not a Z85 key of %d characters"), item,
                      CURVE_Z85_LEN);
    return check_time(&c, item, "made_at", key->made_at);
}

static int key_confirmation_checked(const admission_t *at, const Shifan__KeyConfirmation *conf,
                                    char *why, size_t whysize)
{
    char item[ITEM_MAX], buf[SHOWN_MAX + 4];
    name_item(item, msg("key confirmation for %s"), msg("key confirmation"),
              conf ? conf->unit : NULL);
    check_t c;
    int rc = start(&c, at, &route_key_confirmation, item, why, whysize);
    if (rc)
        return rc;
    if (!conf)
        return refuse(&c, SF_EINVAL, msg("%s: no message"), item);
    int unit = conf->unit ? programme_find_unit(c.programme, conf->unit) : -1;
    if (unit < 0 || !within(&c, unit, c.receiver))
        return refuse(&c, SF_EINVAL, msg("%s: unit %s is not this node (%s) or under it"), item,
                      shown(conf->unit, buf, sizeof buf), at->receiver);
    if (conf->sign_key.len != KEY_BYTES)
        return refuse(&c, SF_EINVAL, msg("%s: a signing key is not %d bytes"), item, KEY_BYTES);
    if (!conf->registered_by ||
        (*conf->registered_by && programme_find_unit(c.programme, conf->registered_by) < 0))
        return refuse(&c, SF_EINVAL, msg("%s: registered_by %s is not in programme %s"), item,
                      shown(conf->registered_by, buf, sizeof buf), programme_id(c.programme));
    return check_time(&c, item, "since", conf->since);
}

static int evaluation_checked(const admission_t *at, const Shifan__EvaluationResult *result,
                              char *why, size_t whysize)
{
    char item[ITEM_MAX];
    if (result)
        snprintf(item, sizeof item, msg("evaluation of %u"), result->year);
    else
        snprintf(item, sizeof item, "%s", msg("evaluation"));
    check_t c;
    int rc = start(&c, at, &route_evaluation, item, why, whysize);
    if (rc)
        return rc;
    if (!result)
        return refuse(&c, SF_EINVAL, msg("%s: no message"), item);
    if ((rc = check_year(&c, item, result->year)) ||
        (rc = check_time(&c, item, "evaluated_at", result->evaluated_at)))
        return rc;
    if (!result->document.data || result->document.len == 0)
        return refuse(&c, SF_EINVAL, msg("%s: document is empty"), item);
    if (result->document.len > ADMIT_DOCUMENT_MAX)
        return refuse(&c, SF_EINVAL, msg("%s: document of %zu bytes, more than %d"), item,
                      result->document.len, ADMIT_DOCUMENT_MAX);
    json_error_t error;
    json_t *document = json_loadb((const char *)result->document.data, result->document.len,
                                  JSON_REJECT_DUPLICATES, &error);
    char buf[SHOWN_MAX * 2 + 4];
    if (!document)
        return refuse(&c, SF_EINVAL, msg("%s: document is not JSON: line %d: %s"), item, error.line,
                      shown(error.text, buf, sizeof buf));
    rc = json_is_object(document)
             ? check_document(&c, item, document, result->year)
             : refuse(&c, SF_EINVAL, msg("%s: document is not a JSON object"), item);
    json_decref(document);
    return rc;
}

/* ---- refusal notices ---- */

static int refused_checked(const admission_t *at, const Shifan__ItemRefused *notice, char *why,
                           size_t whysize)
{
    const char *item = msg("refusal notice");
    check_t c;
    int rc = start(&c, at, &route_refused, item, why, whysize);
    if (rc)
        return rc;
    if (!notice)
        return refuse(&c, SF_EINVAL, msg("%s: no message"), item);
    if (!report_text_valid(notice->detail, ADMIT_NOTICE_DETAIL_MAX))
        return refuse(&c, SF_EINVAL, msg("%s: detail is not UTF-8 text of at most %d bytes"), item,
                      ADMIT_NOTICE_DETAIL_MAX);
    if (notice->report_id && !report_id_ok(notice->report_id))
        return refuse(&c, SF_EINVAL,
                      msg("%s: report_id is not 1 to %d characters of A-Z a-z 0-9 - _ ."), item,
                      ADMIT_REPORT_ID_MAX);
    if (notice->kind && !report_text_valid(notice->kind, 32))
        return refuse(&c, SF_EINVAL, msg("%s: kind is not UTF-8 text of at most 32 bytes"), item);
    /* Who refused: the sender, or (a notice a hub passes down) a unit above
     * this node. */
    if (notice->refused_by) {
        int by = programme_find_unit(c.programme, notice->refused_by);
        if (by < 0 ||
            (c.peer >= 0 ? by != c.peer : by == c.receiver || !within(&c, c.receiver, by)))
            return refuse(&c, SF_EINVAL, msg("%s: refused_by %s is not the sender or above it"),
                          item, notice->refused_by ? msg("(given)") : msg("(none)"));
    }
    return 0;
}

/* ---- payloads ---- */

static int check_receipts(const check_t *c, const char *item, const Shifan__Payload *payload)
{
    char buf[SHOWN_MAX + 4];
    if (payload->n_receipts > ADMIT_RECEIPTS_MAX)
        return refuse(c, SF_EINVAL, msg("%s: %zu receipts, more than %d"), item,
                      payload->n_receipts, ADMIT_RECEIPTS_MAX);
    for (size_t i = 0; i < payload->n_receipts; i++) {
        const Shifan__Receipt *receipt = payload->receipts[i];
        int node = receipt && receipt->node ? programme_find_unit(c->programme, receipt->node) : -1;
        if (node < 0)
            return refuse(c, SF_EINVAL, msg("%s: receipts[%zu]: node %s is not in programme %s"),
                          item, i, shown(receipt ? receipt->node : NULL, buf, sizeof buf),
                          programme_id(c->programme));
        /* Only the tiers an item passed on its way here stamp it. */
        if (c->peer >= 0 && !within(c, node, c->peer))
            return refuse(c, SF_EDENIED, msg("%s: receipts[%zu]: node %s is not %s or under it"),
                          item, i, receipt->node, sender(c));
        /* ... and only a prefecture hub stores and passes an item on: a
         * county's own "receipt" would be taken for its hub's time. */
        if (programme_unit(c->programme, (size_t)node)->level != LEVEL_PREFECTURE)
            return refuse(c, SF_EINVAL,
                          msg("%s: receipts[%zu]: node %s is a %s, and only a prefecture "
                              "hub stamps a receipt"),
                          item, i, receipt->node,
                          level_name(programme_unit(c->programme, (size_t)node)->level));
        char field[48];
        snprintf(field, sizeof field, "receipts[%zu].received_at", i);
        int rc = check_time(c, item, field, receipt->received_at);
        if (rc)
            return rc;
    }
    return 0;
}

static int payload_checked(const admission_t *at, const Shifan__Payload *payload, char *why,
                           size_t whysize)
{
    check_t c = {.why = why, .whysize = whysize};
    if (!payload)
        return refuse(&c, SF_EINVAL, msg("payload: no message"));
    int rc;
    const char *kind;
    switch (payload->body_case) {
    case SHIFAN__PAYLOAD__BODY_REPORT:
        kind = msg("report");
        rc = admit_report(at, payload->report, why, whysize);
        break;
    case SHIFAN__PAYLOAD__BODY_INSPECTION:
        kind = msg("inspection");
        rc = admit_inspection(at, payload->inspection, why, whysize);
        break;
    case SHIFAN__PAYLOAD__BODY_RETURN_FOR_CORRECTION:
        kind = msg("return");
        rc = admit_return(at, payload->return_for_correction, why, whysize);
        break;
    case SHIFAN__PAYLOAD__BODY_RECOMMENDATION:
        kind = msg("recommendation");
        rc = admit_recommendation(at, payload->recommendation, why, whysize);
        break;
    case SHIFAN__PAYLOAD__BODY_PROGRAMME:
        kind = msg("programme");
        rc = admit_programme(at, payload->programme, NULL, why, whysize);
        break;
    case SHIFAN__PAYLOAD__BODY_EVALUATION:
        kind = msg("evaluation");
        rc = admit_evaluation(at, payload->evaluation, why, whysize);
        break;
    case SHIFAN__PAYLOAD__BODY_KEY:
        kind = msg("signing key");
        rc = settle(key_checked(at, payload->key, why, whysize), why, whysize);
        break;
    case SHIFAN__PAYLOAD__BODY_KEY_CONFIRMATION:
        kind = msg("key confirmation");
        rc = settle(key_confirmation_checked(at, payload->key_confirmation, why, whysize), why,
                    whysize);
        break;
    case SHIFAN__PAYLOAD__BODY_REFUSED:
        kind = msg("refusal notice");
        rc = settle(refused_checked(at, payload->refused, why, whysize), why, whysize);
        break;
    default:
        return refuse(&c, SF_EINVAL, msg("payload: carries no item this version knows"));
    }
    if (rc)
        return rc;
    /* The item passed, so the context resolves: start() cannot fail here. */
    const route_t any = {~0u, ~0u, ""};
    char item[ITEM_MAX];
    if ((rc = start(&c, at, &any, kind, why, whysize)))
        return rc;
    snprintf(item, sizeof item, msg("%s from %s"), kind, sender(&c));
    return check_receipts(&c, item, payload);
}

int admit_report(const admission_t *at, const Shifan__Report *report, char *why, size_t whysize)
{
    return settle(admit_report_or_inspection(at, report, false, why, whysize), why, whysize);
}

int admit_inspection(const admission_t *at, const Shifan__Report *inspection, char *why,
                     size_t whysize)
{
    return settle(admit_report_or_inspection(at, inspection, true, why, whysize), why, whysize);
}

int admit_return(const admission_t *at, const Shifan__Return *ret, char *why, size_t whysize)
{
    return settle(return_checked(at, ret, why, whysize), why, whysize);
}

int admit_recommendation(const admission_t *at, const Shifan__Recommendation *rec, char *why,
                         size_t whysize)
{
    return settle(recommendation_checked(at, rec, why, whysize), why, whysize);
}

int admit_programme(const admission_t *at, const Shifan__Programme *programme, programme_t **loaded,
                    char *why, size_t whysize)
{
    return settle(programme_checked(at, programme, loaded, why, whysize), why, whysize);
}

int admit_evaluation(const admission_t *at, const Shifan__EvaluationResult *result, char *why,
                     size_t whysize)
{
    return settle(evaluation_checked(at, result, why, whysize), why, whysize);
}

bool admit_report_id_ok(const char *id)
{
    return report_id_ok(id);
}

int admit_payload(const admission_t *at, const Shifan__Payload *payload, char *why, size_t whysize)
{
    return settle(payload_checked(at, payload, why, whysize), why, whysize);
}

Shifan__Refusal__Reason admit_refusal_reason(int rc)
{
    return rc == SF_EDENIED ? SHIFAN__REFUSAL__REASON__NOT_YOUR_UNIT
                            : SHIFAN__REFUSAL__REASON__MALFORMED;
}
