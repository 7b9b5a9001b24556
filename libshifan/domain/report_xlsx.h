/* report_xlsx.h - a report or inspection from what a person hands in: an
 * Excel workbook or the text report_load reads; and the fill-in form handed
 * out as a workbook.
 *
 * A workbook (by content: a zip, xlsx_is_workbook) has the CSV form's layout
 * on its first sheet (docs/formats.md); it becomes CSV text (xlsx_to_csv)
 * and goes through report_load_as as CSV, so there is one set of rules and
 * a message names the sheet's row as "line N". Anything else goes to
 * report_load_as as it is (format by content). `note` as report_load_as's
 * (the columns it skipped; may be NULL). Ownership, threading and failure
 * as report_load (report.h): a new
 * report, or NULL with error->code SF_EINVAL (bad input: a broken or
 * oversized workbook, or what report_load refuses), SF_ETOOBIG (a part
 * beyond the bounds of xlsx.h) or SF_ENOMEM, and the sentence in
 * error->text; error may be NULL. */
#ifndef SHIFAN_REPORT_XLSX_H
#define SHIFAN_REPORT_XLSX_H

#include <stddef.h>

#include "base/error.h"
#include "domain/programme.h"
#include "domain/report.h"
#include "domain/xlsx.h"

/* Largest input read whole: a workbook may be up to XLSX_FILE_MAX, text up
 * to REPORT_MAX_BYTES (report_load refuses more). */
#define REPORT_INPUT_MAX_BYTES XLSX_FILE_MAX

report_t *report_load_any(const char *data, size_t len, const char *source,
                          const char *default_unit, const programme_t *programme, char *note,
                          size_t note_size, sf_error_t *error);

/* The fill-in template (report_template_csv) as a one-sheet workbook
 * (xlsx_from_csv; the sheet is 自评表, or "form" with LANG_EN), so the CSV
 * and the workbook have one layout. report_to_template_xlsx: the same,
 * filled with the report's values (report_to_template_csv); it reads back
 * through report_load_any as the same report. 0 with a malloc'd workbook
 * in *out (its length in *len), or report_template_csv's and
 * xlsx_from_csv's errors (error may be NULL). */
int report_template_xlsx(const programme_t *programme, const char *unit, int year, sf_lang_t lang,
                         char **out, size_t *len, sf_error_t *error);
int report_to_template_xlsx(const report_t *self, const programme_t *programme, sf_lang_t lang,
                            char **out, size_t *len, sf_error_t *error);

#endif
