/* province-core: stores everything, evaluates and publishes the programme.
 * docs/province-core.md is its operator's page. */
#include <errno.h>
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

/* programme [--export FILE [--force]]: the programme in force, as the
 * canonical JSON the province stores and publishes (programme_json; the
 * embedded default's when none was published), to edit, raise "revision"
 * and publish. An existing FILE is kept unless --force: it may be the
 * edited copy. */
static int verb_programme(const cli_args_t *args, node_t *node)
{
    const programme_t *programme = node_programme(node);
    const char *path = cli_get(args, "export");
    unsigned long long revision = (unsigned long long)programme_revision(programme);
    if (!path) {
        printf("%s revision %llu: %s\n", programme_id(programme), revision,
               programme_title(programme));
        return 0;
    }
    FILE *file = fopen(path, cli_flag(args, "force") ? "w" : "wx");
    if (!file && errno == EEXIST) {
        fprintf(stderr, msg("error: --export %s: the file exists (--force replaces it)\n"), path);
        return CLI_USAGE;
    }
    if (!file) {
        fprintf(stderr, msg("error: --export %s: cannot write: %s\n"), path, strerror(errno));
        return CLI_FAILURE;
    }
    const char *text = programme_json(programme);
    bool written = fprintf(file, "%s\n", text) >= 0;
    if (fclose(file) != 0 || !written) {
        fprintf(stderr, msg("error: --export %s: cannot write: %s\n"), path, strerror(errno));
        return CLI_FAILURE;
    }
    printf("exported %s revision %llu to %s\n", programme_id(programme), revision, path);
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
    {"programme", "export=,force", 0,
     MSG_NOOP("[--export FILE [--force]]: the programme in force (id, revision); --export writes "
              "its JSON to edit, raise \"revision\" and publish"),
     verb_programme},
    CLI_ACCESS_VERBS,
    CLI_IMPORT_PACKAGE_VERB,
    {NULL, NULL, 0, NULL, NULL},
};

int main(int argc, char **argv)
{
    return cli_main(argc, argv, ROLE_PROVINCE, province_verbs);
}
