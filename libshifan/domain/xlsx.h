/* xlsx.h - Excel workbooks (.xlsx) as tables, for officials who live in Excel.
 *
 * Reading (xlsx_read.c, libzip and libxml2): the first worksheet of a
 * workbook becomes CSV text (UTF-8, RFC 4180 quoting, "\r\n" line ends), one
 * line per sheet row, so that the CSV loader (report_load) applies its one
 * set of rules and its "line N" is the sheet's row N (unless a cell above
 * holds a line break). Cells: shared strings, inline strings, numbers as
 * written in the file (912, 0.5), booleans as true/false, formula results
 * as their cached value. Every row has as many fields as the widest row.
 * Bounds against zip bombs: each part read (workbook, relationships, shared
 * strings, the sheet) is refused beyond XLSX_PART_MAX bytes uncompressed,
 * and the CSV beyond the caller's max_csv bytes.
 *
 * Writing (xlsx_write.c, libxlsxwriter): a CSV table becomes a one-sheet
 * workbook with a bold, frozen header row and columns wide enough for
 * Chinese text; whole numbers become number cells, everything else text.
 * libxlsxwriter 1.1 writes only to a named file, so the workbook is built in
 * one temporary file under $TMPDIR (else /tmp), read back and removed before
 * returning: the only disk this module touches. render_xlsx.c (the
 * evaluation's workbook) shares that step through xlsx_temp_*.
 *
 * Ownership: buffers returned in *csv and *xlsx are malloc'd for the caller
 * to free; on failure they are NULL. Inputs are borrowed.
 * Errors: 0, or SF_EINVAL (the input is not what it should be; error->text
 * names `source` and says why, in Chinese, for the official), SF_ETOOBIG (a
 * bound above), SF_ENOMEM, SF_EIO (the temporary file). error may be NULL.
 * Threading: no global state of ours; libxml2 is initialised on first use
 * (xmlInitParser, idempotent), so call it once from one thread before
 * reading from several. */
#ifndef SHIFAN_XLSX_H
#define SHIFAN_XLSX_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"

#define XLSX_FILE_MAX (8 * 1024 * 1024)  /* a workbook file read whole */
#define XLSX_PART_MAX (32 * 1024 * 1024) /* uncompressed bytes of one part read */
#define XLSX_PATH_MAX 512

/* True when the bytes start like a zip archive ("PK\3\4"), as every .xlsx
 * does: callers tell a workbook from CSV or JSON by content. */
bool xlsx_is_workbook(const void *data, size_t len);

/* The first worksheet of the workbook in data[0..len) as CSV (see above),
 * NUL-terminated, its length in *csv_len. */
int xlsx_to_csv(const void *data, size_t len, const char *source, size_t max_csv, char **csv,
                size_t *csv_len, sf_error_t *error);

/* A one-sheet workbook (the sheet named sheet_name, UTF-8; NULL: "Sheet1")
 * of the CSV table csv[0..len) (UTF-8, a BOM dropped; its first row is the
 * header). */
int xlsx_from_csv(const char *csv, size_t len, const char *sheet_name, char **xlsx,
                  size_t *xlsx_len, sf_error_t *error);

/* The width in Excel's character units that fits UTF-8 text: CJK and other
 * wide characters count two, others one, plus a margin; at most 60. */
double xlsx_text_width(const char *text);

/* A new empty temporary file's name in path (XLSX_PATH_MAX bytes) for a
 * workbook to be written to; 0 or SF_EIO. */
int xlsx_temp_path(char *path);
/* Reads the file at path into a malloc'd buffer (*out, *len) and removes
 * the file, whatever happens. 0, SF_EIO, SF_ENOMEM. */
int xlsx_temp_take(const char *path, char **out, size_t *len, sf_error_t *error);

#endif
