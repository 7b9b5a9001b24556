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
