/* xlsx_write.c - a CSV table as a one-sheet workbook, and the temporary file
 * every workbook goes through (xlsx.h). */
#include "domain/xlsx.h"

#include <csv.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xlsxwriter.h>

#define WIDTH_MIN 6.0
#define WIDTH_MAX 60.0

double xlsx_text_width(const char *text)
{
    double width = 0;
    for (const unsigned char *p = (const unsigned char *)text; p && *p;) {
        unsigned codepoint = *p;
        int bytes = *p < 0x80 ? 1 : *p < 0xE0 ? 2 : *p < 0xF0 ? 3 : 4;
        for (int i = 1; i < bytes && p[i]; i++)
            codepoint = (codepoint << 6) | (p[i] & 0x3F);
        /* CJK, full-width forms and their punctuation take two columns. */
        width += bytes >= 3 && (codepoint & 0xFFFF) >= 0x2E80 ? 2.0 : 1.0;
        for (int i = 0; i < bytes && *p; i++)
            p++;
    }
    width += 2; /* Excel's cell padding and the filter arrow's room */
    return width < WIDTH_MIN ? WIDTH_MIN : width > WIDTH_MAX ? WIDTH_MAX : width;
}

int xlsx_temp_path(char *path)
{
    const char *dir = getenv("TMPDIR");
    int n = snprintf(path, XLSX_PATH_MAX, "%s/shifan-xlsx-XXXXXX", dir && dir[0] ? dir : "/tmp");
    if (n < 0 || n >= XLSX_PATH_MAX)
        return SF_EIO;
    int fd = mkstemp(path);
    if (fd < 0)
        return SF_EIO;
    close(fd);
    return 0;
}

int xlsx_temp_take(const char *path, char **out, size_t *len, sf_error_t *error)
{
    *out = NULL;
    *len = 0;
    FILE *file = fopen(path, "rb");
    int rc = file ? 0 : SF_EIO;
    long size = -1;
    if (file && fseek(file, 0, SEEK_END) == 0)
        size = ftell(file);
    if (rc == 0 && (size < 0 || fseek(file, 0, SEEK_SET) != 0))
        rc = SF_EIO;
    if (rc == 0 && !(*out = malloc((size_t)size + 1)))
        rc = SF_ENOMEM;
    if (rc == 0 && fread(*out, 1, (size_t)size, file) != (size_t)size)
        rc = SF_EIO;
    if (rc)
        sf_error_set(error, rc, "cannot read the workbook written to %s: %s", path,
                     rc == SF_ENOMEM ? "out of memory" : strerror(errno));
    if (file)
        fclose(file);
    unlink(path);
    if (rc) {
        free(*out);
        *out = NULL;
        return rc;
    }
    (*out)[size] = '\0';
    *len = (size_t)size;
    return 0;
}

/* The sheet being filled as libcsv hands over fields. */
typedef struct {
    lxw_worksheet *sheet;
    lxw_format *header;
    lxw_row_t row;
    lxw_col_t col;
    double *widths;
    size_t width_count; /* allocated */
    size_t used;        /* columns seen */
    int rc;
} fill_t;

/* A whole number Excel keeps exactly (15 digits), without a leading zero
 * that a number cell would lose (a code like 0101). */
static bool whole_number(const char *text, size_t len)
{
    if (len == 0 || len > 15 || (len > 1 && text[0] == '0'))
        return false;
    for (size_t i = 0; i < len; i++)
        if (text[i] < '0' || text[i] > '9')
            return false;
    return true;
}

static int note_width(fill_t *fill, const char *text)
{
    if (fill->col >= fill->width_count) {
        size_t count = fill->col + 16u;
        double *bigger = realloc(fill->widths, count * sizeof *bigger);
        if (!bigger)
            return SF_ENOMEM;
        for (size_t i = fill->width_count; i < count; i++)
            bigger[i] = WIDTH_MIN;
        fill->widths = bigger;
        fill->width_count = count;
    }
    double width = xlsx_text_width(text);
    if (fill->col + 1u > fill->used)
        fill->used = fill->col + 1u;
    if (width > fill->widths[fill->col])
        fill->widths[fill->col] = width;
    return 0;
}

static void on_field(void *data, size_t len, void *context)
{
    fill_t *fill = context;
    const char *text = data ? data : ""; /* CSV_APPEND_NULL: NUL-terminated */
    if (fill->rc || fill->col >= LXW_COL_MAX || fill->row >= LXW_ROW_MAX) {
        fill->rc = fill->rc ? fill->rc : SF_ETOOBIG;
        return;
    }
    lxw_error err = LXW_NO_ERROR;
    if (fill->row == 0)
        err = worksheet_write_string(fill->sheet, 0, fill->col, text, fill->header);
    else if (whole_number(text, len))
        err = worksheet_write_number(fill->sheet, fill->row, fill->col, strtod(text, NULL), NULL);
    else if (len)
        err = worksheet_write_string(fill->sheet, fill->row, fill->col, text, NULL);
    if (err != LXW_NO_ERROR)
        fill->rc = err == LXW_ERROR_MEMORY_MALLOC_FAILED ? SF_ENOMEM : SF_EINVAL;
    else
        fill->rc = note_width(fill, text);
    fill->col++;
}

static void on_row(int terminator, void *context)
{
    (void)terminator;
    fill_t *fill = context;
    fill->row++;
    fill->col = 0;
}

/* Feeds the CSV to the sheet; the header row bold, frozen, with a rule
 * under it, and each column as wide as its widest text. */
static int fill_sheet(lxw_workbook *book, lxw_worksheet *sheet, const char *csv, size_t len,
                      sf_error_t *error)
{
    struct csv_parser parser;
    if (csv_init(&parser, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0)
        return sf_error_set(error, SF_ENOMEM, "out of memory");
    lxw_format *header = workbook_add_format(book);
    format_set_bold(header);
    format_set_bottom(header, LXW_BORDER_THIN);
    format_set_bg_color(header, 0xDDEBF7);
    fill_t fill = {sheet, header, 0, 0, NULL, 0, 0, 0};
    if (csv_parse(&parser, csv, len, on_field, on_row, &fill) != len ||
        csv_fini(&parser, on_field, on_row, &fill) != 0)
        fill.rc = fill.rc ? fill.rc
                          : sf_error_set(error, SF_EINVAL, "CSV 格式错误：%s",
                                         csv_strerror(csv_error(&parser)));
    csv_free(&parser);
    for (size_t col = 0; fill.rc == 0 && col < fill.used; col++)
        worksheet_set_column(sheet, (lxw_col_t)col, (lxw_col_t)col, fill.widths[col], NULL);
    worksheet_freeze_panes(sheet, 1, 0);
    free(fill.widths);
    if (fill.rc && error && !error->code)
        sf_error_set(error, fill.rc,
                     fill.rc == SF_ETOOBIG ? "the table exceeds Excel's size"
                                           : "cannot write the workbook");
    return fill.rc;
}

int xlsx_from_csv(const char *csv, size_t len, const char *sheet_name, char **xlsx,
                  size_t *xlsx_len, sf_error_t *error)
{
    if (error)
        error->code = 0;
    if (!csv || !xlsx || !xlsx_len)
        return sf_error_set(error, SF_EINVAL, "xlsx_from_csv: no input");
    *xlsx = NULL;
    if (len >= 3 && memcmp(csv, "\xEF\xBB\xBF", 3) == 0) {
        csv += 3;
        len -= 3;
    }
    char path[XLSX_PATH_MAX];
    if (xlsx_temp_path(path) != 0)
        return sf_error_set(error, SF_EIO, "cannot create a temporary file: %s", strerror(errno));
    lxw_workbook *book = workbook_new(path);
    lxw_worksheet *sheet = NULL;
    if (book) {
        bool named = sheet_name && workbook_validate_sheet_name(book, sheet_name) == LXW_NO_ERROR;
        sheet = workbook_add_worksheet(book, named ? sheet_name : NULL);
    }
    int rc = sheet ? fill_sheet(book, sheet, csv, len, error)
                   : sf_error_set(error, SF_ENOMEM, "out of memory");
    lxw_error closed = book ? workbook_close(book) : LXW_NO_ERROR;
    if (rc == 0 && closed != LXW_NO_ERROR)
        rc = sf_error_set(error, SF_EIO, "cannot write the workbook: %s", lxw_strerror(closed));
    if (rc) {
        unlink(path);
        return rc;
    }
    return xlsx_temp_take(path, xlsx, xlsx_len, error);
}
