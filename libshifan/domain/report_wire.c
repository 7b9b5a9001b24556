/* report_wire.c - a report in its wire form (Shifan__Report): built for
 * sending without copying, and read back with every field checked. */
#include "domain/report.h"
#include "base/error.h"
#include "domain/report_internal.h"

#include "shifan.pb-c.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One allocation per array, kept beside the message so that
 * report_proto_free knows them; the message is the first member. */
typedef struct {
    Shifan__Report msg;
    Shifan__Value *values;
    Shifan__Value **value_ptrs;
    Shifan__Ratio *ratios;
    Shifan__Comment *comments;
    Shifan__Comment **comment_ptrs;
} proto_bundle_t;

void report_proto_free(struct Shifan__Report *msg)
{
    proto_bundle_t *bundle = (proto_bundle_t *)msg;
    if (!bundle)
        return;
    free(bundle->values);
    free(bundle->value_ptrs);
    free(bundle->ratios);
    free(bundle->comments);
    free(bundle->comment_ptrs);
    free(bundle);
}

/* One value, its strings borrowed; `ratio` is its slot in the bundle. */
static void value_to_proto(const report_value_t *value, Shifan__Value *out, Shifan__Ratio *ratio)
{
    shifan__value__init(out);
    out->criterion = (char *)value->criterion;
    switch (value->kind) {
    case CRITERION_BOOL:
        out->value_case = SHIFAN__VALUE__VALUE_FLAG;
        out->flag = value->flag;
        break;
    case CRITERION_COUNT:
        out->value_case = SHIFAN__VALUE__VALUE_COUNT;
        out->count = value->count;
        break;
    case CRITERION_RATIO:
        shifan__ratio__init(ratio);
        ratio->num = value->num;
        ratio->den = value->den;
        out->value_case = SHIFAN__VALUE__VALUE_RATIO;
        out->ratio = ratio;
        break;
    }
}

struct Shifan__Report *report_to_proto(const report_t *self)
{
    proto_bundle_t *bundle = calloc(1, sizeof *bundle);
    if (!bundle)
        return NULL;
    size_t n = self->value_count, comments = 0;
    for (size_t v = 0; v < n; v++)
        comments += self->values[v].comment != NULL;
    bundle->values = calloc(n + 1, sizeof *bundle->values);
    bundle->value_ptrs = calloc(n + 1, sizeof *bundle->value_ptrs);
    bundle->ratios = calloc(n + 1, sizeof *bundle->ratios);
    bundle->comments = calloc(comments + 1, sizeof *bundle->comments);
    bundle->comment_ptrs = calloc(comments + 1, sizeof *bundle->comment_ptrs);
    if (!bundle->values || !bundle->value_ptrs || !bundle->ratios || !bundle->comments ||
        !bundle->comment_ptrs) {
        report_proto_free(&bundle->msg);
        return NULL;
    }
    Shifan__Report *msg = &bundle->msg;
    shifan__report__init(msg);
    /* protobuf-c's fields are char *: the strings are borrowed, never written. */
    msg->report_id = (char *)self->report_id;
    msg->unit = (char *)self->unit;
    msg->year = (uint32_t)self->year;
    msg->standard_id = (char *)self->standard_id;
    msg->version = self->version;
    msg->has_series = self->series != 0;
    msg->series = self->series;
    msg->submitted_at = self->submitted_at;
    msg->origin = (char *)self->origin;
    msg->n_values = n;
    msg->values = bundle->value_ptrs;
    msg->n_comments = comments;
    msg->comments = bundle->comment_ptrs;
    size_t c = 0;
    for (size_t v = 0; v < n; v++) {
        const report_value_t *value = &self->values[v];
        Shifan__Value *out = &bundle->values[v];
        value_to_proto(value, out, &bundle->ratios[v]);
        bundle->value_ptrs[v] = out;
        if (value->comment) {
            Shifan__Comment *comment = &bundle->comments[c];
            shifan__comment__init(comment);
            comment->criterion = (char *)value->criterion;
            comment->text = value->comment;
            bundle->comment_ptrs[c++] = comment;
        }
    }
    return msg;
}

static int proto_value(const parser_t *ps, const Shifan__Value *in, size_t index,
                       report_value_t *value)
{
    char where[WHERE_MAX];
    report_where_index(where, "values", index);
    memset(value, 0, sizeof *value);
    if (!in || !in->criterion || !is_criterion_id(in->criterion))
        return report_fail(ps, where, "not a criterion id");
    strcpy(value->criterion, in->criterion);
    switch (in->value_case) {
    case SHIFAN__VALUE__VALUE_FLAG:
        value->kind = CRITERION_BOOL;
        value->flag = in->flag != 0;
        break;
    case SHIFAN__VALUE__VALUE_COUNT:
        value->kind = CRITERION_COUNT;
        value->count = in->count;
        break;
    case SHIFAN__VALUE__VALUE_RATIO:
        if (!in->ratio)
            return report_fail(ps, where, "criterion %s: ratio without its numbers",
                               value->criterion);
        value->kind = CRITERION_RATIO;
        value->num = in->ratio->num;
        value->den = in->ratio->den;
        break;
    default:
        return report_fail(ps, where, "criterion %s: no value set", value->criterion);
    }
    const char *problem = report_value_problem(value);
    if (*problem)
        return report_fail(ps, where, "criterion %s: %s", value->criterion, problem);
    return 0;
}

report_t *report_from_proto(const struct Shifan__Report *msg, char *err, size_t errsize)
{
    report_t *report = NULL;
    report_read_proto(msg, "report message", &report, err, errsize);
    return report;
}

/* The fields other than values and comments. */
static int proto_header(const parser_t *ps, const struct Shifan__Report *msg)
{
    if (!msg)
        return report_fail(ps, NULL, "no message");
    if (!msg->unit || !is_code(msg->unit))
        return report_fail(ps, "unit", "not a 6- or 9-digit code");
    /* Never empty on the wire: it is the key the report is stored under. */
    if (!report_id_valid(msg->report_id))
        return report_fail(ps, "report_id", "not 1 to %d bytes of printable ASCII",
                           REPORT_ID_MAX - 1);
    if (!msg->standard_id || !is_standard_id(msg->standard_id))
        return report_fail(ps, "standard_id", "not a standard id");
    if (!msg->origin || !is_code_or_empty(msg->origin))
        return report_fail(ps, "origin", "not a 6- or 9-digit code");
    if (msg->year < 1 || msg->year > 9999)
        return report_fail(ps, "year", "%u is not a year", msg->year);
    if (msg->submitted_at < 0)
        return report_fail(ps, "submitted_at", "negative time");
    if (msg->n_values > REPORT_VALUES_MAX || msg->n_comments > msg->n_values)
        return report_fail(ps, "values", "%zu values and %zu comments: too many", msg->n_values,
                           msg->n_comments);
    return 0;
}

int report_read_proto(const struct Shifan__Report *msg, const char *source, report_t **out,
                      char *err, size_t errsize)
{
    parser_t ps = {source ? source : "report message", NULL, err, errsize, NULL, NULL, 0};
    *out = NULL;
    if (err && errsize)
        err[0] = '\0';
    int rc = proto_header(&ps, msg);
    if (rc)
        return rc;
    report_t *report = report_new(NULL);
    if (!report) {
        report_out_of_memory(&ps);
        return SF_ENOMEM;
    }
    strcpy(report->unit, msg->unit);
    strcpy(report->report_id, msg->report_id);
    strcpy(report->standard_id, msg->standard_id);
    strcpy(report->origin, msg->origin);
    report->year = (int)msg->year;
    report->version = msg->version;
    report->series = msg->has_series ? msg->series : 0;
    report->submitted_at = msg->submitted_at;
    for (size_t v = 0; v < msg->n_values && !rc; v++) {
        report_value_t value;
        if (!(rc = proto_value(&ps, msg->values[v], v, &value))) {
            char where[WHERE_MAX];
            report_where_index(where, "values", v);
            rc = report_add_value(&ps, report, where, &value);
        }
    }
    for (size_t c = 0; c < msg->n_comments && !rc; c++) {
        const Shifan__Comment *comment = msg->comments[c];
        char where[WHERE_MAX];
        report_where_index(where, "comments", c);
        report_value_t *value = comment && comment->criterion
                                    ? (report_value_t *)report_find(report, comment->criterion)
                                    : NULL;
        if (!value) {
            rc = report_fail(&ps, where, "a comment for a criterion without a value");
        } else if (value->comment) {
            rc = report_fail(&ps, where, "criterion %s: a second comment", value->criterion);
        } else if (!comment->text || !text_ok(comment->text, REPORT_COMMENT_MAX)) {
            rc = report_fail(&ps, where, "criterion %s: comment is not UTF-8 of at most %d bytes",
                             value->criterion, REPORT_COMMENT_MAX);
        } else if (!(value->comment = strdup(comment->text))) {
            report_out_of_memory(&ps);
            rc = SF_ENOMEM;
        }
    }
    if (rc)
        report_destroy(&report);
    *out = report;
    return rc;
}

/* ---- the admission's one pass: checks without building a report_t ---- */

/* The criterion a received value names, when it is the one after `after` (a
 * sender's values come in the programme's order): one strcmp instead of a
 * search. */
static int criterion_after(const programme_t *programme, const char *id, int after)
{
    size_t next = (size_t)(after + 1);
    if (next < programme_criterion_count(programme) &&
        strcmp(programme_criterion(programme, next)->id, id) == 0)
        return (int)next;
    return programme_find_criterion(programme, id);
}

/* The criterion index of a value that proto_value, report_value_problem and
 * check_against would all take, past `after`; -1 otherwise. */
static int fitting_value(const Shifan__Value *in, const programme_t *programme, int after)
{
    const uint64_t max = (uint64_t)INT64_MAX;
    criterion_kind_t kind;
    if (!in || !in->criterion || !is_criterion_id(in->criterion))
        return -1;
    switch (in->value_case) {
    case SHIFAN__VALUE__VALUE_FLAG:
        kind = CRITERION_BOOL;
        break;
    case SHIFAN__VALUE__VALUE_COUNT:
        if (in->count > max)
            return -1;
        kind = CRITERION_COUNT;
        break;
    case SHIFAN__VALUE__VALUE_RATIO:
        if (!in->ratio || in->ratio->num > max || in->ratio->den > max ||
            in->ratio->num > in->ratio->den)
            return -1; /* num > den also covers den 0 with num > 0 */
        kind = CRITERION_RATIO;
        break;
    default:
        return -1;
    }
    int index = criterion_after(programme, in->criterion, after);
    if (index <= after || programme_criterion(programme, (size_t)index)->kind != kind)
        return -1;
    return index;
}

/* Each comment names a value (by its criterion index in `indices`, which
 * rise), one comment per value, and its text is UTF-8 of at most
 * REPORT_COMMENT_MAX bytes. */
static bool comments_fit(const struct Shifan__Report *msg, const programme_t *programme,
                         const int *indices)
{
    unsigned char commented[REPORT_VALUES_MAX / 8] = {0};
    for (size_t c = 0; c < msg->n_comments; c++) {
        const Shifan__Comment *comment = msg->comments[c];
        if (!comment || !comment->criterion || !comment->text)
            return false;
        int index = programme_find_criterion(programme, comment->criterion);
        size_t low = 0, high = msg->n_values;
        while (low < high) {
            size_t mid = low + (high - low) / 2;
            if (indices[mid] < index)
                low = mid + 1;
            else
                high = mid;
        }
        if (index < 0 || low == msg->n_values || indices[low] != index ||
            commented[low / 8] & (1u << (low % 8)))
            return false;
        commented[low / 8] |= (unsigned char)(1u << (low % 8));
        if (!text_ok(comment->text, REPORT_COMMENT_MAX))
            return false;
    }
    return true;
}

bool report_proto_fits(const struct Shifan__Report *msg, const programme_t *programme)
{
    parser_t quiet = {"", NULL, NULL, 0, NULL, NULL, 0}; /* no text: the long way words it */
    /* indices[] below holds one entry per value: more than it holds (a
     * programme of over REPORT_VALUES_MAX criteria would let strictly rising
     * indices get that far) goes the long way, which refuses it. */
    if (!programme || !msg || msg->n_values > REPORT_VALUES_MAX || proto_header(&quiet, msg))
        return false;
    int indices[REPORT_VALUES_MAX], after = -1;
    for (size_t v = 0; v < msg->n_values; v++) {
        if ((after = fitting_value(msg->values[v], programme, after)) < 0)
            return false;
        indices[v] = after;
    }
    return comments_fit(msg, programme, indices);
}
