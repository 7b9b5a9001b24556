#include "base/error.h"
#include "base/msg.h"
#include "domain/engine.h"
#include "domain/render.h"
#include "domain/report.h"
#include "domain/report_xlsx.h"
#include "app/cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cli_print_padded(const char *text, int width)
{
    int columns = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p;) {
        unsigned codepoint = *p;
        int bytes = *p < 0x80 ? 1 : *p < 0xE0 ? 2 : *p < 0xF0 ? 3 : 4;
        for (int i = 1; i < bytes && p[i]; i++)
            codepoint = (codepoint << 6) | (p[i] & 0x3F);
        columns += bytes >= 3 && (codepoint & 0xFFFF) >= 0x2E80 ? 2 : 1;
        p += bytes;
    }
    fputs(text, stdout);
    for (; columns < width; columns++)
        putchar(' ');
}

report_t *cli_load_report(const char *path, node_t *node, const char *default_unit,
                          const char **source)
{
    size_t len;
    char *text = cli_read_file(path, REPORT_INPUT_MAX_BYTES, &len);
    if (!text)
        return NULL;
    sf_error_t error;
    char note[512];
    *source = strcmp(path, "-") == 0 ? "<stdin>" : path;
    report_t *report = report_load_any(text, len, *source, default_unit, node_programme(node), note,
                                       sizeof note, &error);
    free(text);
    if (!report)
        fprintf(stderr, msg("error: %s\n"), error.text);
    else if (*note)
        fprintf(stderr, msg("note: %s: %s\n"), *source, note);
    return report;
}

int cli_evaluate(const cli_args_t *args, node_t *node, const char *scope, engine_result_t **result,
                 int *year)
{
    if (cli_year(args, year))
        return CLI_USAGE;
    char err[512];
    int rc = node_evaluate(node, *year, scope, result, err, sizeof err);
    if (rc)
        fprintf(stderr, msg("error: %s\n"), err);
    return cli_exit_code(rc);
}

int cli_verb_inspect(const cli_args_t *args, node_t *node)
{
    const char *source;
    report_t *inspection = cli_load_report(args->positional[0], node, NULL, &source);
    if (!inspection)
        return CLI_USAGE;
    char err[512];
    int rc = node_inspect(node, inspection, err, sizeof err);
    if (rc)
        fprintf(stderr, msg("error: %s: %s\n"), source, err);
    else
        printf("%s\n", inspection->report_id);
    report_destroy(&inspection);
    return cli_exit_code(rc);
}

int cli_write_result(const engine_result_t *result, const char *format_name, sf_lang_t lang,
                     const char *out_path)
{
    render_format_t format;
    if (render_format_parse(format_name ? format_name : "json", &format) != 0) {
        fprintf(stderr, msg("error: --format %s: expected json, csv, html or xlsx\n"), format_name);
        return CLI_USAGE;
    }
    /* Streamed: a national year's JSON is never held in memory. */
    FILE *file = out_path ? fopen(out_path, "wb") : stdout;
    int rc = file ? render_to_lang(result, format, lang, file) : SF_EIO;
    if (file && file != stdout && fclose(file) != 0 && rc == 0)
        rc = SF_EIO;
    if (rc == SF_EIO && out_path)
        fprintf(stderr, msg("error: --out %s: cannot write: %s\n"), out_path, strerror(errno));
    else if (rc && rc != SF_EIO)
        fprintf(stderr, msg("error: cannot render the result\n"));
    return rc ? CLI_FAILURE : 0;
}
