/* prefecture-hub: stores, checks and forwards its counties' reports.
 * docs/prefecture-hub.md is its operator's page. */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "error.h"

static int verb_return(const cli_args_t *args, node_t *node)
{
    int year;
    if (cli_year(args, &year))
        return CLI_USAGE;
    const char *unit = cli_get(args, "unit");
    if (!unit) {
        fprintf(stderr, "error: --unit CODE is required\n");
        return CLI_USAGE;
    }
    char err[512];
    int rc = node_return(node, unit, year, cli_get(args, "reason"), err, sizeof err);
    if (rc) {
        fprintf(stderr, "error: %s\n", err);
        return cli_exit_code(rc);
    }
    printf("returned %s %d for correction\n", unit, year);
    return 0;
}

static const cli_verb_t hub_verbs[] = {
    {"return", "unit=,year=,reason=", 0,
     "--unit CODE --year Y --reason TEXT: send a report back for correction", verb_return},
    {NULL, NULL, 0, NULL, NULL},
};

int main(int argc, char **argv)
{
    return cli_main(argc, argv, ROLE_PREFECTURE, hub_verbs);
}
