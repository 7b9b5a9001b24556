/* prefecture-hub: stores, checks, ranks and forwards its counties' reports.
 * docs/prefecture-hub.md is its operator's page. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/msg.h"
#include "domain/engine.h"
#include "domain/render.h"
#include "domain/verdict.h"
#include "app/cli.h"

static int verb_return(const cli_args_t *args, node_t *node)
{
    int year;
    if (cli_year(args, &year))
        return CLI_USAGE;
    const char *unit = cli_get(args, "unit");
    if (!unit) {
        fprintf(stderr, msg("error: --unit CODE is required\n"));
        return CLI_USAGE;
    }
    char err[512];
    int rc = node_return(node, unit, year, cli_get(args, "reason"), err, sizeof err);
    if (rc) {
        fprintf(stderr, msg("error: %s\n"), err);
        return cli_exit_code(rc);
    }
    printf("returned %s %d for correction\n", unit, year);
    return 0;
}

static void print_recommendation(const programme_t *programme, int year,
                                 const tier_recommendation_t *list)
{
    int at = programme_find_unit(programme, list->holder);
    printf("recommendation (推荐) of %s %s for %d, quota %lld: %s\n", list->holder,
           at >= 0 ? programme_unit(programme, (size_t)at)->name : "", year, (long long)list->quota,
           list->confirmed ? "CONFIRMED" : "provisional (confirm with --confirm)");
    for (size_t position = 0; position < list->unit_count; position++) {
        int u = programme_find_unit(programme, list->units[position]);
        printf("  %zu. %s %s\n", position + 1, list->units[position],
               u >= 0 ? programme_unit(programme, (size_t)u)->name : "");
    }
    if (list->unit_count == 0)
        printf("  (no qualified unit)\n");
}

static int verb_recommend(const cli_args_t *args, node_t *node)
{
    int year;
    if (cli_year(args, &year))
        return CLI_USAGE;
    if (cli_flag(args, "override") && !cli_flag(args, "confirm")) {
        fprintf(stderr, msg("error: --override goes with --confirm\n"));
        return CLI_USAGE;
    }
    char err[512];
    node_recommendations_t *lists = NULL;
    node_recommend_request_t request = {cli_flag(args, "confirm"), cli_flag(args, "override"),
                                        "command line"};
    int rc = node_recommend(node, year, &request, &lists, err, sizeof err);
    if (rc) {
        fprintf(stderr, msg("error: %s\n"), err);
        return cli_exit_code(rc);
    }
    if (cli_flag(args, "json")) {
        char *text = cli_recommendations_json(node_code(node), year, lists);
        printf("%s\n", text);
        free(text);
    } else {
        for (size_t i = 0; i < lists->count; i++)
            print_recommendation(node_programme(node), year, &lists->lists[i]);
    }
    node_recommendations_destroy(&lists);
    return 0;
}

/* Under a reported unit's row: which criteria failed and why. */
static void print_reasons(const programme_t *programme, const engine_unit_result_t *unit)
{
    if (unit->status == ENGINE_MISSING)
        return;
    char line[VERDICT_TEXT_MAX + 512];
    for (size_t c = 0; c < programme_criterion_count(programme); c++) {
        if (!verdict_notable(&unit->criteria[c]))
            continue;
        verdict_line(&unit->criteria[c], line, sizeof line);
        printf("    %s\n", line);
    }
}

static int verb_report(const cli_args_t *args, node_t *node)
{
    const char *format = cli_get(args, "format");
    if (format && cli_flag(args, "json")) {
        fprintf(stderr, msg("error: --json and --format: give one\n"));
        return CLI_USAGE;
    }
    sf_lang_t lang;
    if (cli_lang(args, &lang))
        return CLI_USAGE;
    int year;
    engine_result_t *result = NULL;
    int rc = cli_evaluate(args, node, node_code(node), &result, &year);
    if (rc)
        return rc;
    if (cli_flag(args, "json") || format || cli_get(args, "out")) {
        rc = cli_write_result(result, format ? format : "json", lang, cli_get(args, "out"));
        engine_result_destroy(&result);
        return rc;
    }
    /* One block per quota holder: the prefecture itself, or each county of
     * a city whose sites are evaluated. */
    const programme_t *programme = engine_result_programme(result);
    for (size_t p = 0; p < engine_result_prefecture_count(result); p++) {
        const engine_prefecture_result_t *pref = engine_result_prefecture(result, p);
        const engine_summary_t *sum = &pref->summary;
        printf("%s %s, %d: %zu expected, %zu reported (completeness %.0f%%), %zu on time "
               "(timeliness %.0f%%), %zu late, %zu missing, %zu qualified; quota %d\n",
               pref->unit->code, pref->unit->name, year, sum->expected, sum->reported,
               sum->expected ? 100.0 * (double)sum->reported / (double)sum->expected : 0.0,
               sum->on_time,
               sum->expected ? 100.0 * (double)sum->on_time / (double)sum->expected : 0.0,
               sum->late, sum->missing, sum->qualified, pref->quota);
        printf("  recommended (%s):", engine_rec_source_name(pref->source));
        for (size_t i = 0; i < pref->recommended_count; i++)
            printf(" %s", pref->recommended[i]->unit->code);
        printf("%s\n  aggregates (Σnum/Σden):", pref->recommended_count ? "" : " none");
        for (size_t c = 0; c < programme_criterion_count(programme); c++)
            if (programme_criterion(programme, c)->kind == CRITERION_RATIO &&
                sum->aggregates[c].den_sum)
                printf(" %s=%.1f%%", programme_criterion(programme, c)->id,
                       sum->aggregates[c].percent);
        printf("\n");
    }
    printf("%-9s ", "code");
    cli_print_padded("name", 20);
    printf("%-8s %-9s %-6s %-5s %s\n", "status", "qualified", "items", "rank", "flags");
    for (size_t i = 0; i < engine_result_unit_count(result); i++) {
        const engine_unit_result_t *unit = engine_result_unit(result, i);
        char flags[128] = "";
        for (unsigned bit = 1, f = 0; f < ENGINE_FLAG_COUNT; f++, bit <<= 1)
            if (unit->flags & bit)
                snprintf(flags + strlen(flags), sizeof flags - strlen(flags), "%s%s",
                         flags[0] ? "," : "", engine_flag_name(bit));
        char rank[16] = "-";
        if (unit->rank > 0)
            snprintf(rank, sizeof rank, "%d", unit->rank);
        printf("%-9s ", unit->unit->code);
        cli_print_padded(unit->unit->name, 20);
        printf("%-8s %-9s %2zu/%-3zu %-5s %s\n", engine_status_name(unit->status),
               unit->qualified ? "yes" : "no", unit->items_passed, programme_item_count(programme),
               rank, flags);
        print_reasons(programme, unit);
    }
    engine_result_destroy(&result);
    return 0;
}

static const cli_verb_t hub_verbs[] = {
    {"inspect", "", 1, MSG_NOOP("FILE|-: record the prefecture's own values for a unit-year"),
     cli_verb_inspect},
    {"return", "unit=,year=,reason=", 0,
     MSG_NOOP("--unit CODE --year Y --reason TEXT: send a report back for correction"),
     verb_return},
    {"recommend", "year=,confirm,override,json", 0,
     MSG_NOOP(
         "--year Y [--confirm [--override]] [--json]: show the recommendation; --confirm makes it "
         "final (after the programme's recommendation deadline only with --override, logged)"),
     verb_recommend},
    {"report", "year=,json,format=,out=,lang=", 0,
     MSG_NOOP("--year Y [--json | --format json|csv|html|xlsx] [--lang zh|en] [--out FILE]: "
              "completeness, timeliness, "
              "ranking, aggregates and failed items of the prefecture"),
     verb_report},
    CLI_ACCESS_VERBS,
    CLI_EXPORT_PACKAGE_VERB,
    CLI_IMPORT_PACKAGE_VERB,
    {NULL, NULL, 0, NULL, NULL},
};

int main(int argc, char **argv)
{
    return cli_main(argc, argv, ROLE_PREFECTURE, hub_verbs);
}
