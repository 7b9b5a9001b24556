/* Workbooks as tables (domain/xlsx.h): the first sheet read as CSV, broken
 * and oversized workbooks refused with a clear message, a CSV written as a
 * workbook and read back, and a workbook form loaded as the same report as
 * its CSV (domain/report_xlsx.h). Test workbooks are built with libzip. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <zip.h>

#include "base/error.h"
#include "domain/programme.h"
#include "domain/report.h"
#include "domain/report_xlsx.h"
#include "domain/xlsx.h"

typedef struct {
    const char *name;
    const char *text; /* NULL: `size` bytes of filler */
    size_t size;
} entry_t;

static const char workbook_xml[] =
    "<?xml version=\"1.0\"?><workbook "
    "xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" "
    "xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\">"
    "<sheets><sheet name=\"表\" sheetId=\"1\" r:id=\"rId7\"/>"
    "<sheet name=\"second\" sheetId=\"2\" r:id=\"rId8\"/></sheets></workbook>";
static const char rels_xml[] =
    "<?xml version=\"1.0\"?><Relationships "
    "xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
    "<Relationship Id=\"rId8\" Type=\"http://x/worksheet\" Target=\"worksheets/sheet2.xml\"/>"
    "<Relationship Id=\"rId7\" Type=\"http://x/worksheet\" Target=\"/xl/worksheets/sheet1.xml\"/>"
    "<Relationship Id=\"rId9\" Type=\"http://x/sharedStrings\" Target=\"sharedStrings.xml\"/>"
    "</Relationships>";
static const char strings_xml[] =
    "<sst xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\">"
    "<si><t>unit</t></si><si><t>year</t></si><si><t>criterion</t></si><si><t>value</t></si>"
    "<si><r><t>说明</t></r><r><t xml:space=\"preserve\">, \"引号\"</t></r>"
    "<rPh><t>shuoming</t></rPh></si><si><t>是</t></si></sst>";
/* Row 3 absent, cells out of order, a gap in row 4, a boolean, an inline
 * string, a formula's cached value. */
static const char sheet_xml[] =
    "<worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData>"
    "<row r=\"1\"><c r=\"A1\" t=\"s\"><v>0</v></c><c r=\"B1\" t=\"s\"><v>1</v></c>"
    "<c r=\"C1\" t=\"s\"><v>2</v></c><c r=\"D1\" t=\"s\"><v>3</v></c><c r=\"E1\" "
    "t=\"s\"><v>4</v></c></row>"
    "<row r=\"2\"><c r=\"B2\"><v>2018</v></c><c r=\"A2\"><v>530102</v></c>"
    "<c r=\"C2\" t=\"inlineStr\"><is><t>1.1</t></is></c><c r=\"D2\" t=\"s\"><v>5</v></c></row>"
    "<row r=\"4\"><c r=\"C4\" t=\"str\"><f>\"1.2\"&amp;\"a\"</f><v>1.2a</v></c>"
    "<c r=\"D4\" t=\"b\"><v>1</v></c></row></sheetData></worksheet>";
static const char second_xml[] = "<worksheet><sheetData><row r=\"1\"><c r=\"A1\" "
                                 "t=\"inlineStr\"><is><t>wrong sheet</t></is></c></row>"
                                 "</sheetData></worksheet>";

/* A zip of the entries, as bytes. */
static char *make_zip(const entry_t *entries, size_t count, size_t *len)
{
    char path[] = "/tmp/shifan-test-xlsx-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    int err = 0;
    zip_t *zip = zip_open(path, ZIP_TRUNCATE, &err);
    assert_non_null(zip);
    for (size_t i = 0; i < count; i++) {
        size_t size = entries[i].text ? strlen(entries[i].text) : entries[i].size;
        char *bytes = malloc(size ? size : 1);
        assert_non_null(bytes);
        if (entries[i].text)
            memcpy(bytes, entries[i].text, size);
        else
            memset(bytes, ' ', size);
        zip_source_t *src = zip_source_buffer(zip, bytes, size, 1);
        assert_non_null(src);
        assert_true(zip_file_add(zip, entries[i].name, src, ZIP_FL_ENC_UTF_8) >= 0);
    }
    assert_int_equal(zip_close(zip), 0);
    FILE *file = fopen(path, "rb");
    assert_non_null(file);
    char *data = malloc(XLSX_FILE_MAX);
    assert_non_null(data);
    *len = fread(data, 1, XLSX_FILE_MAX, file);
    fclose(file);
    unlink(path);
    return data;
}

static int to_csv(const char *data, size_t len, char **csv, sf_error_t *error)
{
    size_t csv_len;
    return xlsx_to_csv(data, len, "form.xlsx", 64 * 1024, csv, &csv_len, error);
}

static void reads_the_first_sheet_as_csv(void **state)
{
    (void)state;
    const entry_t entries[] = {{"xl/workbook.xml", workbook_xml, 0},
                               {"xl/_rels/workbook.xml.rels", rels_xml, 0},
                               {"xl/sharedStrings.xml", strings_xml, 0},
                               {"xl/worksheets/sheet1.xml", sheet_xml, 0},
                               {"xl/worksheets/sheet2.xml", second_xml, 0}};
    size_t len;
    char *data = make_zip(entries, 5, &len), *csv = NULL;
    assert_true(xlsx_is_workbook(data, len));
    sf_error_t error;
    assert_int_equal(to_csv(data, len, &csv, &error), 0);
    assert_string_equal(csv, "unit,year,criterion,value,\"说明, \"\"引号\"\"\"\r\n"
                             "530102,2018,1.1,是,\r\n"
                             ",,,,\r\n"
                             ",,1.2a,true,\r\n");
    free(csv);
    free(data);
}

static void expect_refused(const entry_t *entries, size_t count, int code, const char *words)
{
    size_t len;
    char *data = make_zip(entries, count, &len), *csv = (char *)"untouched";
    sf_error_t error;
    assert_int_equal(to_csv(data, len, &csv, &error), code);
    assert_int_equal(error.code, code);
    assert_null(csv);
    if (!strstr(error.text, words))
        fail_msg("expected \"%s\" in \"%s\"", words, error.text);
    assert_non_null(strstr(error.text, "form.xlsx"));
    free(data);
}

/* A workbook whose first sheet is `sheet`, refused with `words`. */
static void expect_sheet_refused(const char *sheet, size_t size, int code, const char *words)
{
    const entry_t entries[] = {{"xl/workbook.xml", workbook_xml, 0},
                               {"xl/_rels/workbook.xml.rels", rels_xml, 0},
                               {"xl/worksheets/sheet1.xml", sheet, size}};
    expect_refused(entries, 3, code, words);
}

static void refuses_what_is_no_workbook(void **state)
{
    (void)state;
    char *csv;
    sf_error_t error;
    const char text[] = "unit,year,criterion,value\r\n";
    assert_false(xlsx_is_workbook(text, sizeof text - 1));
    assert_int_equal(to_csv(text, sizeof text - 1, &csv, &error), SF_EINVAL);
    assert_non_null(strstr(error.text, "不是 XLSX 工作簿"));
    const char truncated[] = "PK\x03\x04\x14\x00\x00\x00";
    assert_true(xlsx_is_workbook(truncated, sizeof truncated - 1));
    assert_int_equal(to_csv(truncated, sizeof truncated - 1, &csv, &error), SF_EINVAL);
    assert_non_null(strstr(error.text, "form.xlsx"));

    const entry_t zip_only[] = {{"hello.txt", "hello", 0}};
    expect_refused(zip_only, 1, SF_EINVAL, "没有 xl/workbook.xml");
    const entry_t no_sheet[] = {{"xl/workbook.xml", "<workbook><sheets/></workbook>", 0},
                                {"xl/_rels/workbook.xml.rels", rels_xml, 0}};
    expect_refused(no_sheet, 2, SF_EINVAL, "没有工作表");
    const entry_t lost_sheet[] = {{"xl/workbook.xml", workbook_xml, 0},
                                  {"xl/_rels/workbook.xml.rels", rels_xml, 0}};
    expect_refused(lost_sheet, 2, SF_EINVAL, "缺少工作表 xl/worksheets/sheet1.xml");
    expect_sheet_refused("<worksheet><sheetData><row>", 0, SF_EINVAL, "不是有效的 XML");
    expect_sheet_refused("<worksheet><sheetData><row r=\"3\"><c r=\"A3\" t=\"s\"><v>9</v>"
                         "</c></row></sheetData></worksheet>",
                         0, SF_EINVAL, "第 3 行");
}

/* A zip bomb: a sheet of 33 MiB of spaces, a few KiB compressed. */
static void refuses_an_oversized_part(void **state)
{
    (void)state;
    expect_sheet_refused(NULL, XLSX_PART_MAX + 1024 * 1024, SF_ETOOBIG, "解压后超过 32 MiB");
    /* A cell far away would spell millions of empty fields: refused by the
     * CSV bound before any is written. */
    expect_sheet_refused("<worksheet><sheetData><row r=\"1048576\"><c r=\"XFD1048576\">"
                         "<v>1</v></c></row></sheetData></worksheet>",
                         0, SF_ETOOBIG, "超过 65536 字节");
}

/* The form's layout (docs/formats.md) as a workbook, and back. */
static const char form_csv[] = "\xEF\xBB\xBFunit,year,criterion,title,value,numerator,denominator,"
                               "comment\r\n"
                               "530102,2018,1.1,纳入规划,是,,,\r\n"
                               ",,1.2a,启动大会,1,,,\r\n"
                               ",,1.2b,实施方案,,,,\r\n"
                               ",,1.2c,专题会议（次/年）,3,,,\r\n"
                               ",,2.1,服务覆盖率（%）,,912,1000,\"含外来务工人员, 见附表\"\r\n"
                               ",,2.7,传染病报告率（%）,,0,0,本年无病例\r\n";

static char *part_of(const char *data, size_t len, const char *name)
{
    zip_source_t *src = zip_source_buffer_create(data, len, 0, NULL);
    zip_t *zip = zip_open_from_source(src, ZIP_RDONLY, NULL);
    assert_non_null(zip);
    zip_file_t *file = zip_fopen(zip, name, 0);
    assert_non_null(file);
    char *text = calloc(1, 1 << 20);
    assert_non_null(text);
    assert_true(zip_fread(file, text, (1 << 20) - 1) > 0);
    zip_fclose(file);
    zip_discard(zip);
    return text;
}

static void writes_a_form_and_reads_it_back(void **state)
{
    (void)state;
    char *xlsx = NULL, *csv = NULL;
    size_t len;
    sf_error_t error;
    assert_int_equal(xlsx_from_csv(form_csv, sizeof form_csv - 1, "自评表", &xlsx, &len, &error),
                     0);
    assert_true(xlsx_is_workbook(xlsx, len));
    char *sheet = part_of(xlsx, len, "xl/worksheets/sheet1.xml");
    assert_non_null(strstr(sheet, "state=\"frozen\"")); /* the header row */
    if (!strstr(sheet, "<c r=\"F6\"><v>912</v></c>"))   /* a number cell, not a string */
        fail_msg("912 is no number cell: %.300s", sheet);
    assert_non_null(strstr(sheet, "<col min=\"4\" max=\"4\" width=\"")); /* widths set */
    char *book = part_of(xlsx, len, "xl/workbook.xml");
    assert_non_null(strstr(book, "name=\"自评表\""));
    char *styles = part_of(xlsx, len, "xl/styles.xml");
    assert_non_null(strstr(styles, "<b/>")); /* the bold header */
    assert_int_equal(to_csv(xlsx, len, &csv, &error), 0);
    assert_string_equal(csv, form_csv + 3); /* the same table, without the BOM */
    free(styles);
    free(book);
    free(sheet);
    free(csv);
    free(xlsx);
}

static void a_workbook_form_is_the_same_report_as_its_csv(void **state)
{
    (void)state;
    programme_t *programme = programme_load_default(NULL);
    assert_non_null(programme);
    char *xlsx = NULL;
    size_t len;
    sf_error_t error;
    assert_int_equal(xlsx_from_csv(form_csv, sizeof form_csv - 1, NULL, &xlsx, &len, &error), 0);
    report_t *from_book =
        report_load_any(xlsx, len, "form.xlsx", "530102", programme, NULL, 0, &error);
    assert_non_null(from_book);
    report_t *from_csv = report_load_any(form_csv, sizeof form_csv - 1, "form.csv", "530102",
                                         programme, NULL, 0, &error);
    assert_non_null(from_csv);
    char *a = report_to_json(from_book), *b = report_to_json(from_csv);
    assert_string_equal(a, b);
    free(a);
    free(b);
    report_destroy(&from_book);
    report_destroy(&from_csv);
    free(xlsx);
    /* A mistake in the workbook is named by its row, as the CSV's line. */
    const char wrong[] = "unit,year,criterion,value\r\n530102,2018,1.1,是\r\n,,9.9,1\r\n";
    assert_int_equal(xlsx_from_csv(wrong, sizeof wrong - 1, NULL, &xlsx, &len, &error), 0);
    assert_null(report_load_any(xlsx, len, "form.xlsx", "530102", programme, NULL, 0, &error));
    assert_int_equal(error.code, SF_EINVAL);
    if (!strstr(error.text, "form.xlsx: line 3: criterion 9.9"))
        fail_msg("message: %s", error.text);
    free(xlsx);
    programme_destroy(&programme);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reads_the_first_sheet_as_csv),
        cmocka_unit_test(refuses_what_is_no_workbook),
        cmocka_unit_test(refuses_an_oversized_part),
        cmocka_unit_test(writes_a_form_and_reads_it_back),
        cmocka_unit_test(a_workbook_form_is_the_same_report_as_its_csv),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
