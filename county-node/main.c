/* county-node: a county's offline-first data entry, self-check and durable
 * outbox. docs/county-node.md is its operator's page. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "error.h"
#include "report.h"

static int verb_submit(const cli_args_t *args, node_t *node)
{
    const char *path = args->positional[0];
    size_t len;
    char *text = cli_read_file(path, REPORT_MAX_BYTES, &len);
    if (!text)
        return CLI_USAGE;
    char err[512];
    const char *source = strcmp(path, "-") == 0 ? "<stdin>" : path;
    report_t *report =
        report_load(text, len, source, node_code(node), node_programme(node), err, sizeof err);
    free(text);
    if (!report) {
        fprintf(stderr, "error: %s\n", err);
        return CLI_USAGE;
    }
    int rc = node_submit(node, report, err, sizeof err);
    if (rc) {
        fprintf(stderr, "error: %s\n", err);
        report_destroy(&report);
        return cli_exit_code(rc);
    }
    char missing[1024];
    size_t count = report_missing(report, node_programme(node), missing, sizeof missing);
    if (count)
        fprintf(stderr, "note: %zu criteria not given (they count as failed): %s\n", count,
                missing);
    printf("%s\n", report->report_id);
    report_destroy(&report);
    return 0;
}

static const cli_verb_t county_verbs[] = {
    {"submit", "", 1, "FILE|-: validate and store a report (JSON or CSV), print its id",
     verb_submit},
    {NULL, NULL, 0, NULL, NULL},
};

int main(int argc, char **argv)
{
    return cli_main(argc, argv, ROLE_COUNTY, county_verbs);
}
