/* province-core: stores everything, evaluates and publishes the programme.
 * docs/province-core.md is its operator's page. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/msg.h"
#include "domain/engine.h"
#include "domain/render.h"
#include "app/cli.h"

static int verb_evaluate(const cli_args_t *args, node_t *node)
{
    const char *format = cli_get(args, "format");
    render_format_t parsed;
    if (format && render_format_parse(format, &parsed) != 0) {
        fprintf(stderr, msg("error: --format %s: expected json, csv, html or xlsx\n"), format);
        return CLI_USAGE;
    }
    sf_lang_t lang;
    if (cli_lang(args, &lang))
        return CLI_USAGE;
    int year;
    engine_result_t *result = NULL;
    int rc = cli_evaluate(args, node, NULL, &result, &year);
    if (rc)
        return rc;
    rc = cli_write_result(result, format, lang, cli_get(args, "out"));
    if (rc == 0 && cli_flag(args, "publish")) {
        char *json = NULL, err[512];
        size_t len;
        if (render_json(result, &json, &len) != 0) {
            fprintf(stderr, msg("error: cannot render the result to publish\n"));
            rc = CLI_FAILURE;
        } else if ((rc = node_publish_evaluation(node, year, json, err, sizeof err)) != 0) {
            fprintf(stderr, msg("error: %s\n"), err);
            rc = cli_exit_code(rc);
        } else {
            fprintf(stderr,
                    msg("published the %d evaluation to every prefecture and, through "
                        "them, every county\n"),
                    year);
        }
        free(json);
    }
    engine_result_destroy(&result);
    return rc;
}

static int verb_publish(const cli_args_t *args, node_t *node)
{
    char err[512];
    int rc = node_publish(node, args->positional[0], err, sizeof err);
    if (rc) {
        fprintf(stderr, msg("error: %s\n"), err);
        return cli_exit_code(rc);
    }
    printf("published %s; it reaches every prefecture and county over the links\n",
           args->positional[0]);
    return 0;
}

static const cli_verb_t province_verbs[] = {
    {"evaluate", "year=,format=,out=,publish,lang=", 0,
     MSG_NOOP(
         "--year Y [--format json|csv|html|xlsx] [--lang zh|en] [--out FILE] [--publish]: evaluate "
         "the year (CSV in Chinese unless --lang en or an English locale); "
         "--publish sends each prefecture and county its part"),
     verb_evaluate},
    {"inspect", "", 1, MSG_NOOP("FILE|-: record the province's own values for a unit-year"),
     cli_verb_inspect},
    {"publish", "", 1, MSG_NOOP("FILE: publish a programme (standard, quotas, calendar) downward"),
     verb_publish},
    CLI_ACCESS_VERBS,
    CLI_IMPORT_PACKAGE_VERB,
    {NULL, NULL, 0, NULL, NULL},
};

int main(int argc, char **argv)
{
    return cli_main(argc, argv, ROLE_PROVINCE, province_verbs);
}
