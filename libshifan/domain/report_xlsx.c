/* report_xlsx.c - a workbook's first sheet through the CSV loader
 * (report_xlsx.h). */
#include "domain/report_xlsx.h"

#include <stdlib.h>

report_t *report_load_any(const char *data, size_t len, const char *source,
                          const char *default_unit, const programme_t *programme, char *note,
                          size_t note_size, sf_error_t *error)
{
    if (note && note_size)
        *note = '\0';
    if (!xlsx_is_workbook(data, len))
        return report_load_as(data, len, REPORT_ANY, source, default_unit, programme, note,
                              note_size, error);
    char *csv;
    size_t csv_len;
    if (xlsx_to_csv(data, len, source ? source : "report", REPORT_MAX_BYTES, &csv, &csv_len,
                    error) != 0)
        return NULL;
    report_t *report = report_load_as(csv, csv_len, REPORT_CSV, source, default_unit, programme,
                                      note, note_size, error);
    free(csv);
    return report;
}

/* A template's CSV (taken: freed here) as a workbook. */
static int template_workbook(int rc, char *csv, size_t csv_len, sf_lang_t lang, char **out,
                             size_t *len, sf_error_t *error)
{
    *out = NULL;
    if (rc == 0)
        rc = xlsx_from_csv(csv, csv_len, lang == LANG_EN ? "form" : "自评表", out, len, error);
    else
        sf_error_set(error, rc, "%s", sf_strerror(rc));
    free(csv);
    return rc;
}

int report_template_xlsx(const programme_t *programme, const char *unit, int year, sf_lang_t lang,
                         char **out, size_t *len, sf_error_t *error)
{
    char *csv = NULL;
    size_t csv_len = 0;
    int rc = report_template_csv(programme, unit, year, lang, &csv, &csv_len);
    return template_workbook(rc, csv, csv_len, lang, out, len, error);
}

int report_to_template_xlsx(const report_t *self, const programme_t *programme, sf_lang_t lang,
                            char **out, size_t *len, sf_error_t *error)
{
    char *csv = NULL;
    size_t csv_len = 0;
    int rc = report_to_template_csv(self, programme, lang, &csv, &csv_len);
    return template_workbook(rc, csv, csv_len, lang, out, len, error);
}
