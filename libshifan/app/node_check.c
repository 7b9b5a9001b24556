/* node_check.c - a county's report checked without storing (node.h):
 * apart from node.c because it reads the stored versions (node_status.c),
 * which themselves use node.c. */
#include "app/node_internal.h"
#include "base/msg.h"
#include "base/stime.h"

#include <stdio.h>
#include <string.h>

/* When the unit-year's first stored version was submitted, 0 if none. */
static int64_t first_submitted(node_t *self, const report_t *report)
{
    node_versions_t *versions = node_list(self, NULL);
    int64_t first = 0;
    for (size_t i = 0; versions && i < versions->count; i++) {
        const node_version_t *v = &versions->versions[i];
        if (strcmp(v->unit, report->unit) == 0 && (int)v->year == report->year &&
            (!first || v->submitted_at < first))
            first = v->submitted_at;
    }
    node_versions_destroy(&versions);
    return first;
}

int node_check(node_t *self, report_t *report, verdict_check_t **check, char *err, size_t errsize)
{
    *check = NULL;
    if (self->role != ROLE_COUNTY) {
        snprintf(err, errsize, msg("only a county submits reports"));
        return SF_EINVAL;
    }
    int rc = node_own_unit(self, report, err, errsize);
    if (rc)
        return rc;
    sf_error_t error = {0, ""};
    *check = verdict_check(node_programme(self), report, stime_now(), first_submitted(self, report),
                           &error);
    if (!*check)
        snprintf(err, errsize, "%s", error.text);
    return *check ? 0 : error.code;
}
