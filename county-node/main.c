/* county-node: a county's offline-first data entry, self-check and durable
 * outbox. docs/county-node.md is its operator's page. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/msg.h"
#include "base/stime.h"
#include "domain/engine.h"
#include "domain/render.h"
#include "domain/report.h"
#include "domain/verdict.h"
#include "domain/report_xlsx.h"
#include "app/cli.h"

/* Every criterion's verdict, item by item, and the report's overall one. */
static void print_check(const verdict_check_t *check)
{
    printf("检查（未保存）%s %s %d 年度自评：%s，%zu 项中 %zu 项合格%s\n", check->unit,
           check->unit_name ? check->unit_name : "", check->year,
           check->passed ? "全部合格" : "不合格", check->item_count, check->items_passed,
           check->late ? "；迟报（首次提交晚于截止日期）" : "");
    for (size_t i = 0; i < check->item_count; i++) {
        const programme_item_t *item = check->items[i].item;
        for (int c = 0; c < item->criterion_count; c++) {
            const verdict_criterion_t *criterion = &check->criteria[item->first_criterion + c];
            printf("  %s %-5s %s：%s\n", criterion->passed ? "✓" : "✗", criterion->criterion->id,
                   criterion->criterion->title_zh, criterion->reason);
        }
    }
}

/* A blank criterion fails: the official confirms it with --allow-blank. */
static void print_blanks(const verdict_check_t *check, const char *source, bool refused)
{
    char list[1024];
    size_t count = verdict_blank_list(check, list, sizeof list);
    if (!count)
        return;
    if (refused)
        fprintf(stderr,
                msg("error: %s: %zu 项指标未填写：%s；报告未保存。"
                    "确认留空（按不合格计）请加 --allow-blank\n"),
                source, count, list);
    else
        fprintf(stderr, "警告：%s: %zu 项指标未填写（按不合格计）：%s\n", source, count, list);
}

static int verb_submit(const cli_args_t *args, node_t *node)
{
    const char *source;
    report_t *report = cli_load_report(args->positional[0], node, node_code(node), &source);
    if (!report)
        return CLI_USAGE;
    char err[512];
    verdict_check_t *check = NULL;
    int rc = node_check(node, report, &check, err, sizeof err);
    bool check_only = cli_flag(args, "check");
    bool refused = !rc && !check_only && check->blank_count && !cli_flag(args, "allow-blank");
    if (!rc && check_only)
        print_check(check);
    if (!rc)
        print_blanks(check, source, refused);
    if (!rc && !check_only && !refused)
        rc = node_submit(node, report, err, sizeof err);
    if (rc) {
        /* A refusal of the input names the file, as report_load's do. */
        if (rc == SF_EINVAL)
            fprintf(stderr, msg("error: %s: %s\n"), source, err);
        else
            fprintf(stderr, msg("error: %s\n"), err);
    } else if (!check_only && !refused) {
        printf("%s\n", report->report_id);
    }
    verdict_check_destroy(&check);
    report_destroy(&report);
    return refused ? CLI_USAGE : cli_exit_code(rc);
}

static void print_value(const report_value_t *value)
{
    switch (value->kind) {
    case CRITERION_BOOL:
        printf("%s", value->flag ? "yes" : "no");
        break;
    case CRITERION_COUNT:
        printf("%llu", (unsigned long long)value->count);
        break;
    case CRITERION_RATIO:
        printf("%llu/%llu", (unsigned long long)value->num, (unsigned long long)value->den);
        if (value->den)
            printf(" = %.2f%%", 100.0 * (double)value->num / (double)value->den);
        break;
    }
}

static void print_unit(const programme_t *programme, const engine_unit_result_t *unit)
{
    char when[STIME_BUFSZ];
    printf("%s %s: %s", unit->unit->code, unit->unit->name,
           unit->status == ENGINE_MISSING ? "no report"
           : unit->qualified              ? "QUALIFIED (合格)"
                                          : "NOT QUALIFIED (不合格)");
    if (unit->status != ENGINE_MISSING)
        printf(", version %u submitted %s (%s)", unit->version,
               stime_format(unit->submitted_at, when, sizeof when),
               engine_status_name(unit->status));
    printf("\n  items passed: %zu of %zu\n", unit->items_passed, programme_item_count(programme));
    for (unsigned bit = 1, i = 0; i < ENGINE_FLAG_COUNT; i++, bit <<= 1)
        if (unit->flags & bit)
            printf("  flag: %s%s%s\n", engine_flag_name(bit),
                   bit == ENGINE_FLAG_RETURNED && unit->return_reason ? ": " : "",
                   bit == ENGINE_FLAG_RETURNED && unit->return_reason ? unit->return_reason : "");
    for (size_t c = 0; c < programme_criterion_count(programme); c++) {
        const engine_criterion_result_t *criterion = &unit->criteria[c];
        if (criterion->passed)
            continue;
        const programme_criterion_t *def = criterion->criterion;
        printf("  FAIL %-5s %s: ", def->id, def->title_zh);
        if (criterion->present)
            print_value(&criterion->value);
        else
            printf("missing");
        if (def->kind == CRITERION_BOOL)
            printf(" (needs yes)\n");
        else if (def->kind == CRITERION_COUNT)
            printf(" (needs >= %g)\n", def->threshold);
        else
            printf(" (needs %s %g%%)\n", def->op == OP_EQ ? "==" : ">=", def->threshold);
    }
}

static int verb_evaluate(const cli_args_t *args, node_t *node)
{
    int year;
    engine_result_t *result = NULL;
    int rc = cli_evaluate(args, node, node_code(node), &result, &year);
    if (rc)
        return rc;
    if (cli_flag(args, "json")) {
        char *text;
        size_t len;
        if (render_json(result, &text, &len) == 0) {
            fwrite(text, 1, len, stdout);
            free(text);
        }
    } else {
        const programme_t *programme = engine_result_programme(result);
        printf("self-check (自评) for %d against %s, standard %s\n", year, programme_id(programme),
               programme_standard_id(programme));
        size_t silent = 0;
        for (size_t i = 0; i < engine_result_unit_count(result); i++) {
            const engine_unit_result_t *unit = engine_result_unit(result, i);
            /* A county reporting for sites has many; show the ones reported. */
            if (unit->status == ENGINE_MISSING && engine_result_unit_count(result) > 1)
                silent++;
            else
                print_unit(programme, unit);
        }
        if (silent)
            printf("(%zu more unit(s) of this county have no report for %d)\n", silent, year);
    }
    engine_result_destroy(&result);
    return 0;
}

/* A text of the document the parent sent, or "-": never NULL to printf. */
static const char *text_of(const char *text)
{
    return text ? text : "-";
}

static int verb_result(const cli_args_t *args, node_t *node)
{
    int year;
    if (cli_year(args, &year))
        return CLI_USAGE;
    const programme_t *programme = node_programme(node);
    if (!programme_has_year(programme, year)) {
        fprintf(stderr, msg("error: --year %d: programme %s covers %d-%d\n"), year,
                programme_id(programme), programme_first_year(programme),
                programme_last_year(programme));
        return CLI_USAGE;
    }
    char err[512];
    char *document = node_published_evaluation(node, year, err, sizeof err);
    if (!document) {
        fprintf(stderr, msg("error: %s\n"), err);
        return CLI_FAILURE;
    }
    if (cli_flag(args, "json")) {
        printf("%s\n", document);
        free(document);
        return 0;
    }
    cli_published_t *result = cli_published_parse(document, programme, NULL);
    free(document);
    if (!result) {
        fprintf(stderr, msg("error: out of memory\n"));
        return CLI_FAILURE;
    }
    printf("the province's evaluation of %d (省级评估), evaluated %s:\n", year,
           text_of(result->evaluated_at));
    for (size_t i = 0; i < result->unit_count; i++) {
        const cli_published_unit_t *unit = &result->units[i];
        printf("  %s %s: %s, %s%s%s%s\n", text_of(unit->code), text_of(unit->name),
               text_of(unit->status),
               unit->qualified ? "qualified (合格)" : "not qualified (不合格)",
               unit->recommended ? ", recommended (推荐)" : "",
               unit->demonstration ? ", demonstration unit (示范)" : "",
               unit->national_candidate ? ", national candidate (国家级候选)" : "");
        for (size_t r = 0; r < unit->reason_count; r++)
            printf("    %s\n", unit->reasons[r]);
    }
    cli_published_destroy(&result);
    return 0;
}

/* The year a template is for when --year is not given: this year, within
 * the programme's years. */
static int template_year(const programme_t *programme)
{
    char now[STIME_BUFSZ];
    int year = atoi(stime_format(stime_now(), now, sizeof now));
    if (year < programme_first_year(programme))
        return programme_first_year(programme);
    return year > programme_last_year(programme) ? programme_last_year(programme) : year;
}

/* The template's bytes: the CSV form, or that table as a workbook. */
static int template_bytes(const programme_t *programme, const char *unit, int year, sf_lang_t lang,
                          bool xlsx, char **out, size_t *len)
{
    sf_error_t error = {0, ""};
    int rc = xlsx ? report_template_xlsx(programme, unit, year, lang, out, len, &error)
                  : report_template_csv(programme, unit, year, lang, out, len);
    if (rc)
        fprintf(stderr, msg("error: cannot write the template: %s\n"),
                error.text[0] ? error.text : sf_strerror(rc));
    return rc;
}

static int verb_template(const cli_args_t *args, node_t *node)
{
    const char *format = cli_get(args, "format");
    bool xlsx = format && strcmp(format, "xlsx") == 0;
    if (format && !xlsx && strcmp(format, "csv") != 0) {
        fprintf(stderr, msg("error: --format %s: expected csv or xlsx\n"), format);
        return CLI_USAGE;
    }
    const programme_t *programme = node_programme(node);
    sf_lang_t lang;
    int year = template_year(programme);
    if (cli_lang(args, &lang) || (cli_get(args, "year") && cli_year(args, &year)))
        return CLI_USAGE;
    if (!programme_has_year(programme, year)) {
        fprintf(stderr, msg("error: --year %d: programme %s covers %d-%d\n"), year,
                programme_id(programme), programme_first_year(programme),
                programme_last_year(programme));
        return CLI_USAGE;
    }
    /* The node's own code when it is a unit of evaluation (a Yunnan county);
     * blank when its sites are (Qinhuangdao): the official writes the site. */
    int unit = programme_find_unit(programme, node_code(node));
    bool evaluated = unit >= 0 && programme_unit(programme, (size_t)unit)->evaluated;
    char *bytes = NULL;
    size_t len = 0;
    if (template_bytes(programme, evaluated ? node_code(node) : "", year, lang, xlsx, &bytes, &len))
        return CLI_FAILURE;
    int rc = cli_write_file(cli_get(args, "out"), bytes, len);
    free(bytes);
    return rc;
}

static const cli_verb_t county_verbs[] = {
    {"submit", "check,allow-blank", 1,
     MSG_NOOP(
         "FILE|- [--check] [--allow-blank]: validate and store a report (JSON or CSV), print its "
         "id; --check evaluates it without storing; blank criteria need --allow-blank"),
     verb_submit},
    {"evaluate", "year=,json", 0,
     MSG_NOOP("--year Y [--json]: the self-check, offline, same engine as the province"),
     verb_evaluate},
    {"result", "year=,json", 0,
     MSG_NOOP("--year Y [--json]: the province's evaluation as published to this county"),
     verb_result},
    {"template", "format=,year=,out=,lang=", 0,
     MSG_NOOP("[--format csv|xlsx] [--year Y] [--lang zh|en] [--out FILE]: the fill-in form of the "
              "programme in force, for Excel; submit reads it back"),
     verb_template},
    CLI_ACCESS_VERBS,
    CLI_EXPORT_PACKAGE_VERB,
    {NULL, NULL, 0, NULL, NULL},
};

int main(int argc, char **argv)
{
    return cli_main(argc, argv, ROLE_COUNTY, county_verbs);
}
