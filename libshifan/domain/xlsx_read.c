/* xlsx_read.c - the first worksheet of a workbook as CSV text (xlsx.h).
 *
 * An .xlsx is a zip of XML parts: xl/workbook.xml names the sheets in
 * order, xl/_rels/workbook.xml.rels says which part each one is and where
 * the shared strings are, and the sheet's cells point into those strings or
 * hold their value inline. Each part is read into memory with a bound (a
 * zip bomb stops at XLSX_PART_MAX) and walked with libxml2's reader, which
 * never fetches from the network nor expands external entities. */
#include "domain/xlsx.h"

#include <libxml/xmlreader.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

#define XLSX_MAX_ROW 1048576u /* Excel's own limits */
#define XLSX_MAX_COL 16384u

typedef struct {
    char *data;
    size_t len;
} part_t;

typedef struct {
    char **items;
    size_t count, cap;
} strings_t;

typedef struct {
    uint32_t row, col; /* 1-based */
    size_t order;      /* position in the file: the first of two equal refs wins */
    char *text;
} cell_t;

typedef struct {
    cell_t *cells;
    size_t count, cap;
    uint32_t max_row, max_col;
} sheet_t;

/* What every step needs: the zip, the name for messages, the error. */
typedef struct {
    zip_t *zip;
    const char *source;
    sf_error_t *error;
} reading_t;

bool xlsx_is_workbook(const void *data, size_t len)
{
    return data && len >= 4 && memcmp(data, "PK\x03\x04", 4) == 0;
}

static int grow(void **items, size_t *cap, size_t count, size_t size)
{
    if (count < *cap)
        return 0;
    size_t next = *cap ? *cap * 2 : 64;
    void *bigger = realloc(*items, next * size);
    if (!bigger)
        return SF_ENOMEM;
    *items = bigger;
    *cap = next;
    return 0;
}

/* Reads one part whole, refusing it beyond XLSX_PART_MAX uncompressed bytes
 * whatever its header claims. A missing part is SF_ENOTFOUND, no message. */
static int read_part(const reading_t *rd, const char *name, part_t *part)
{
    part->data = NULL;
    part->len = 0;
    zip_int64_t index = zip_name_locate(rd->zip, name, 0);
    if (index < 0)
        return SF_ENOTFOUND;
    zip_file_t *file = zip_fopen_index(rd->zip, (zip_uint64_t)index, 0);
    if (!file)
        return sf_error_set(rd->error, SF_EINVAL, "%s：无法读取工作簿中的 %s（%s）", rd->source,
                            name, zip_strerror(rd->zip));
    size_t cap = 0;
    int rc = 0;
    for (;;) {
        if (part->len == cap) {
            if (cap >= XLSX_PART_MAX + (size_t)1) {
                rc = sf_error_set(rd->error, SF_ETOOBIG,
                                  "%s：工作簿中的 %s 解压后超过 %d MiB，拒绝读取", rd->source, name,
                                  XLSX_PART_MAX / (1024 * 1024));
                break;
            }
            cap = cap ? cap * 2 : 64 * 1024;
            if (cap > XLSX_PART_MAX + (size_t)1)
                cap = XLSX_PART_MAX + (size_t)1;
            char *bigger = realloc(part->data, cap);
            if (!bigger) {
                rc = sf_error_set(rd->error, SF_ENOMEM, "%s：内存不足", rd->source);
                break;
            }
            part->data = bigger;
        }
        zip_int64_t got = zip_fread(file, part->data + part->len, cap - part->len);
        if (got < 0) {
            rc = sf_error_set(rd->error, SF_EINVAL, "%s：工作簿已损坏，无法解压 %s（%s）",
                              rd->source, name, zip_file_strerror(file));
            break;
        }
        if (got == 0)
            break;
        part->len += (size_t)got;
    }
    zip_fclose(file);
    if (rc) {
        free(part->data);
        part->data = NULL;
    }
    return rc;
}

static xmlTextReaderPtr reader_for(const part_t *part)
{
    return xmlReaderForMemory(part->data, (int)part->len, NULL, NULL,
                              XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
}

static bool element_is(xmlTextReaderPtr reader, const char *name)
{
    const xmlChar *local = xmlTextReaderConstLocalName(reader);
    return xmlTextReaderNodeType(reader) == XML_READER_TYPE_ELEMENT && local &&
           strcmp((const char *)local, name) == 0;
}

static char *attribute(xmlTextReaderPtr reader, const char *name)
{
    return (char *)xmlTextReaderGetAttribute(reader, (const xmlChar *)name);
}

/* The relationship id of the first <sheet> of the workbook: the attribute
 * named "id" in a namespace (r:id, whatever the prefix). */
static char *first_sheet_id(xmlTextReaderPtr reader)
{
    int rc;
    while ((rc = xmlTextReaderRead(reader)) == 1) {
        if (!element_is(reader, "sheet"))
            continue;
        while (xmlTextReaderMoveToNextAttribute(reader) == 1) {
            const xmlChar *local = xmlTextReaderConstLocalName(reader);
            if (xmlTextReaderConstNamespaceUri(reader) && local &&
                strcmp((const char *)local, "id") == 0)
                return (char *)xmlTextReaderValue(reader);
        }
        return NULL;
    }
    return NULL;
}

/* A relationship's target as a name in the zip: "/xl/worksheets/a.xml" is
 * absolute (openpyxl), "worksheets/a.xml" relative to xl/ (Excel). */
static void target_name(const char *target, char *name, size_t size)
{
    if (target[0] == '/')
        snprintf(name, size, "%s", target + 1);
    else
        snprintf(name, size, "xl/%s", target);
}

/* Finds in the workbook's relationships the part of sheet `id` and of the
 * shared strings (empty when there are none). */
static int find_targets(const reading_t *rd, const part_t *rels, const char *id, char *sheet,
                        char *strings, size_t size)
{
    sheet[0] = strings[0] = '\0';
    xmlTextReaderPtr reader = reader_for(rels);
    if (!reader)
        return sf_error_set(rd->error, SF_ENOMEM, "%s：内存不足", rd->source);
    int rc;
    while ((rc = xmlTextReaderRead(reader)) == 1) {
        if (!element_is(reader, "Relationship"))
            continue;
        char *rid = attribute(reader, "Id"), *type = attribute(reader, "Type");
        char *target = attribute(reader, "Target");
        size_t type_len = type ? strlen(type) : 0;
        if (target && rid && strcmp(rid, id) == 0)
            target_name(target, sheet, size);
        else if (target && type_len >= 14 && strcmp(type + type_len - 14, "/sharedStrings") == 0)
            target_name(target, strings, size);
        xmlFree(rid);
        xmlFree(type);
        xmlFree(target);
    }
    xmlFreeTextReader(reader);
    if (rc < 0)
        return sf_error_set(rd->error, SF_EINVAL,
                            "%s：工作簿已损坏（xl/_rels/workbook.xml.rels "
                            "不是有效的 XML）",
                            rd->source);
    if (!sheet[0])
        return sf_error_set(rd->error, SF_EINVAL, "%s：工作簿中没有工作表", rd->source);
    return 0;
}

/* The part name of the first worksheet, and of the shared strings. */
static int locate_sheet(const reading_t *rd, char *sheet, char *strings, size_t size)
{
    part_t workbook, rels;
    int rc = read_part(rd, "xl/workbook.xml", &workbook);
    if (rc == SF_ENOTFOUND)
        return sf_error_set(rd->error, SF_EINVAL,
                            "%s：不是 Excel 工作簿（压缩包中没有 xl/workbook.xml）", rd->source);
    if (rc)
        return rc;
    xmlTextReaderPtr reader = reader_for(&workbook);
    char *id = reader ? first_sheet_id(reader) : NULL;
    xmlFreeTextReader(reader);
    free(workbook.data);
    if (!id)
        return sf_error_set(rd->error, SF_EINVAL, "%s：工作簿中没有工作表", rd->source);
    rc = read_part(rd, "xl/_rels/workbook.xml.rels", &rels);
    if (rc == SF_ENOTFOUND)
        rc = sf_error_set(rd->error, SF_EINVAL,
                          "%s：工作簿已损坏（缺少 xl/_rels/workbook.xml.rels）", rd->source);
    if (rc == 0)
        rc = find_targets(rd, &rels, id, sheet, strings, size);
    xmlFree(id);
    free(rels.data);
    return rc;
}

static void strings_free(strings_t *strings)
{
    for (size_t i = 0; i < strings->count; i++)
        xmlFree(strings->items[i]);
    free(strings->items);
}

/* Appends the text of a <t> to the current shared string. */
static int string_append(strings_t *strings, const char *text)
{
    char **last = &strings->items[strings->count - 1];
    size_t had = *last ? strlen(*last) : 0, more = strlen(text);
    char *joined = xmlMalloc(had + more + 1);
    if (!joined)
        return SF_ENOMEM;
    memcpy(joined, *last ? *last : "", had);
    memcpy(joined + had, text, more + 1);
    xmlFree(*last);
    *last = joined;
    return 0;
}

/* The shared strings: one per <si>, the text of its <t> runs joined, the
 * phonetic runs (<rPh>) left out. */
static int read_strings(xmlTextReaderPtr reader, strings_t *strings)
{
    int rc, depth_rph = -1;
    while ((rc = xmlTextReaderRead(reader)) == 1) {
        int depth = xmlTextReaderDepth(reader);
        if (depth_rph >= 0 && depth <= depth_rph)
            depth_rph = -1;
        if (element_is(reader, "si")) {
            if (grow((void **)&strings->items, &strings->cap, strings->count, sizeof(char *)))
                return SF_ENOMEM;
            strings->items[strings->count++] = NULL;
        } else if (element_is(reader, "rPh") && !xmlTextReaderIsEmptyElement(reader)) {
            depth_rph = depth;
        } else if (element_is(reader, "t") && strings->count && depth_rph < 0) {
            xmlChar *text = xmlTextReaderReadString(reader);
            int failed = text ? string_append(strings, (const char *)text) : 0;
            xmlFree(text);
            if (failed)
                return SF_ENOMEM;
        }
    }
    return rc < 0 ? SF_EINVAL : 0;
}

static int load_strings(const reading_t *rd, const char *name, strings_t *strings)
{
    part_t part;
    if (!name[0])
        return 0;
    int rc = read_part(rd, name, &part);
    if (rc == SF_ENOTFOUND)
        return 0; /* named but absent: every cell is inline or a number */
    if (rc)
        return rc;
    xmlTextReaderPtr reader = reader_for(&part);
    rc = reader ? read_strings(reader, strings) : SF_ENOMEM;
    xmlFreeTextReader(reader);
    free(part.data);
    if (rc == SF_EINVAL)
        return sf_error_set(rd->error, rc, "%s：工作簿已损坏（%s 不是有效的 XML）", rd->source,
                            name);
    if (rc)
        return sf_error_set(rd->error, rc, "%s：内存不足", rd->source);
    return 0;
}

/* "AB12" -> column 28, row 12; false unless within Excel's limits. A
 * reference without its row ("AB") keeps *row. */
static bool parse_ref(const char *ref, uint32_t *col, uint32_t *row)
{
    uint32_t c = 0, r = 0;
    const char *p = ref;
    for (; *p >= 'A' && *p <= 'Z'; p++)
        if ((c = c * 26 + (uint32_t)(*p - 'A' + 1)) > XLSX_MAX_COL)
            return false;
    for (const char *digits = p; *p >= '0' && *p <= '9'; p++)
        if ((r = r * 10 + (uint32_t)(*p - '0')) > XLSX_MAX_ROW || (r == 0 && p > digits))
            return false;
    if (*p || c == 0)
        return false;
    *col = c;
    if (r)
        *row = r;
    return true;
}

static void sheet_free(sheet_t *sheet)
{
    for (size_t i = 0; i < sheet->count; i++)
        free(sheet->cells[i].text);
    free(sheet->cells);
}

/* One cell's text from its raw value and type ("s" shared string, "b"
 * boolean, anything else as written). */
static int cell_text(const reading_t *rd, const strings_t *strings, const char *type,
                     const char *raw, uint32_t row, char **text)
{
    const char *value = raw;
    if (type && strcmp(type, "s") == 0) {
        char *end;
        unsigned long index = strtoul(raw, &end, 10);
        if (end == raw || *end || index >= strings->count)
            return sf_error_set(rd->error, SF_EINVAL,
                                "%s：第 %u 行：单元格引用的共享字符串 \"%.20s\" 不存在", rd->source,
                                (unsigned)row, raw);
        value = strings->items[index] ? strings->items[index] : "";
    } else if (type && strcmp(type, "b") == 0) {
        value = strcmp(raw, "1") == 0 ? "true" : "false";
    }
    *text = strdup(value);
    return *text ? 0 : sf_error_set(rd->error, SF_ENOMEM, "%s：内存不足", rd->source);
}

static int sheet_add(const reading_t *rd, sheet_t *sheet, uint32_t row, uint32_t col, char *text)
{
    if (!text[0]) {
        free(text);
        return 0;
    }
    if (grow((void **)&sheet->cells, &sheet->cap, sheet->count, sizeof(cell_t))) {
        free(text);
        return sf_error_set(rd->error, SF_ENOMEM, "%s：内存不足", rd->source);
    }
    sheet->cells[sheet->count] = (cell_t){row, col, sheet->count, text};
    sheet->count++;
    if (row > sheet->max_row)
        sheet->max_row = row;
    if (col > sheet->max_col)
        sheet->max_col = col;
    return 0;
}

/* Where the cell the reader is on sits: its r="B7", or the next column. */
static int cell_position(const reading_t *rd, xmlTextReaderPtr reader, uint32_t *row, uint32_t *col)
{
    char *ref = attribute(reader, "r");
    uint32_t at_col = *col + 1;
    bool ok = ref ? parse_ref(ref, &at_col, row) : at_col <= XLSX_MAX_COL;
    int rc = ok ? 0
                : sf_error_set(rd->error, SF_EINVAL, "%s：第 %u 行：单元格位置 \"%.20s\" 无效",
                               rd->source, (unsigned)*row, ref ? ref : "");
    *col = at_col;
    xmlFree(ref);
    return rc;
}

/* A <row>: its r="7", or the row after the last. */
static int row_position(const reading_t *rd, xmlTextReaderPtr reader, uint32_t *row)
{
    char *ref = attribute(reader, "r");
    char *end = NULL;
    unsigned long at = ref ? strtoul(ref, &end, 10) : *row + 1ul;
    int rc = 0;
    if ((ref && (end == ref || *end)) || at == 0 || at > XLSX_MAX_ROW)
        rc = sf_error_set(rd->error, SF_EINVAL, "%s：第 %u 行之后：行号 \"%.20s\" 无效", rd->source,
                          (unsigned)*row, ref ? ref : "");
    else
        *row = (uint32_t)at;
    xmlFree(ref);
    return rc;
}

/* The cells of <sheetData>: a value is <v> (typed by the cell's t=) or an
 * inline string <is>; formulas (<f>) are left for their cached <v>. */
static int read_cells(const reading_t *rd, xmlTextReaderPtr reader, const strings_t *strings,
                      sheet_t *sheet)
{
    uint32_t row = 0, col = 0;
    char *type = NULL;
    int rc = 0, read = 1;
    while (rc == 0 && (read = xmlTextReaderRead(reader)) == 1) {
        if (element_is(reader, "row")) {
            rc = row_position(rd, reader, &row);
            col = 0;
        } else if (element_is(reader, "c")) {
            xmlFree(type);
            type = attribute(reader, "t");
            rc = row ? cell_position(rd, reader, &row, &col)
                     : sf_error_set(rd->error, SF_EINVAL, "%s：单元格不在任何行中", rd->source);
        } else if ((element_is(reader, "v") || element_is(reader, "is")) && col) {
            bool inline_string = element_is(reader, "is");
            xmlChar *raw = xmlTextReaderReadString(reader);
            char *text = NULL;
            rc = raw ? cell_text(rd, strings, inline_string ? NULL : type, (const char *)raw, row,
                                 &text)
                     : 0;
            if (rc == 0 && text)
                rc = sheet_add(rd, sheet, row, col, text);
            xmlFree(raw);
        }
    }
    xmlFree(type);
    if (rc == 0 && read < 0)
        rc = sf_error_set(rd->error, SF_EINVAL, "%s：工作表已损坏（不是有效的 XML）", rd->source);
    return rc;
}

static int cell_order(const void *a, const void *b)
{
    const cell_t *x = a, *y = b;
    if (x->row != y->row)
        return x->row < y->row ? -1 : 1;
    if (x->col != y->col)
        return x->col < y->col ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

typedef struct {
    char *data;
    size_t len, cap, max;
} csv_out_t;

static int put(csv_out_t *out, const char *bytes, size_t n)
{
    if (out->len + n > out->max)
        return SF_ETOOBIG;
    while (out->len + n + 1 > out->cap) {
        size_t next = out->cap ? out->cap * 2 : 4096;
        char *bigger = realloc(out->data, next);
        if (!bigger)
            return SF_ENOMEM;
        out->data = bigger;
        out->cap = next;
    }
    memcpy(out->data + out->len, bytes, n);
    out->len += n;
    out->data[out->len] = '\0';
    return 0;
}

/* RFC 4180: quoted when it holds a comma, quote or line break. */
static int put_field(csv_out_t *out, const char *text)
{
    if (!strpbrk(text, ",\"\r\n"))
        return put(out, text, strlen(text));
    int rc = put(out, "\"", 1);
    for (const char *p = text; rc == 0 && *p; p++)
        rc = *p == '"' ? put(out, "\"\"", 2) : put(out, p, 1);
    return rc ? rc : put(out, "\"", 1);
}

/* Rows 1..max_row, each with max_col fields, so that line N is row N. */
static int write_csv(const sheet_t *sheet, csv_out_t *out)
{
    if ((uint64_t)sheet->max_row * (sheet->max_col + 1u) > out->max)
        return SF_ETOOBIG; /* the commas alone would not fit */
    size_t next = 0;
    int rc = 0;
    for (uint32_t row = 1; rc == 0 && row <= sheet->max_row; row++) {
        for (uint32_t col = 1; rc == 0 && col <= sheet->max_col; col++) {
            if (col > 1)
                rc = put(out, ",", 1);
            const cell_t *cell = next < sheet->count ? &sheet->cells[next] : NULL;
            if (rc == 0 && cell && cell->row == row && cell->col == col)
                rc = put_field(out, cell->text);
            while (next < sheet->count && sheet->cells[next].row == row &&
                   sheet->cells[next].col <= col)
                next++; /* a second cell at the same place is dropped */
        }
        if (rc == 0)
            rc = put(out, "\r\n", 2);
    }
    return rc;
}

static int read_sheet(const reading_t *rd, const char *name, const strings_t *strings,
                      sheet_t *sheet)
{
    part_t part;
    int rc = read_part(rd, name, &part);
    if (rc == SF_ENOTFOUND)
        return sf_error_set(rd->error, SF_EINVAL, "%s：工作簿已损坏（缺少工作表 %s）", rd->source,
                            name);
    if (rc)
        return rc;
    xmlTextReaderPtr reader = reader_for(&part);
    rc = reader ? read_cells(rd, reader, strings, sheet)
                : sf_error_set(rd->error, SF_ENOMEM, "%s：内存不足", rd->source);
    xmlFreeTextReader(reader);
    free(part.data);
    if (rc == 0)
        qsort(sheet->cells, sheet->count, sizeof(cell_t), cell_order);
    return rc;
}

static int convert(const reading_t *rd, size_t max_csv, char **csv, size_t *csv_len)
{
    char sheet_name[XLSX_PATH_MAX], strings_name[XLSX_PATH_MAX];
    strings_t strings = {0};
    sheet_t sheet = {0};
    csv_out_t out = {NULL, 0, 0, max_csv};
    int rc = locate_sheet(rd, sheet_name, strings_name, sizeof sheet_name);
    if (rc == 0)
        rc = load_strings(rd, strings_name, &strings);
    if (rc == 0)
        rc = read_sheet(rd, sheet_name, &strings, &sheet);
    if (rc == 0 && sheet.count == 0)
        rc = sf_error_set(rd->error, SF_EINVAL, "%s：第一个工作表是空的", rd->source);
    if (rc == 0 && (rc = write_csv(&sheet, &out)) == SF_ETOOBIG)
        sf_error_set(rd->error, rc, "%s：第一个工作表转换后超过 %zu 字节，拒绝读取", rd->source,
                     max_csv);
    else if (rc == SF_ENOMEM && rd->error && !rd->error->code)
        sf_error_set(rd->error, rc, "%s：内存不足", rd->source);
    strings_free(&strings);
    sheet_free(&sheet);
    if (rc) {
        free(out.data);
        return rc;
    }
    *csv = out.data;
    *csv_len = out.len;
    return 0;
}

int xlsx_to_csv(const void *data, size_t len, const char *source, size_t max_csv, char **csv,
                size_t *csv_len, sf_error_t *error)
{
    if (error)
        error->code = 0;
    if (!data || !csv || !csv_len)
        return sf_error_set(error, SF_EINVAL, "xlsx_to_csv: no input");
    *csv = NULL;
    *csv_len = 0;
    source = source ? source : "workbook";
    if (len > XLSX_FILE_MAX)
        return sf_error_set(error, SF_ETOOBIG, "%s：工作簿超过 %d MiB，拒绝读取", source,
                            XLSX_FILE_MAX / (1024 * 1024));
    xmlInitParser();
    zip_error_t zerr;
    zip_error_init(&zerr);
    zip_source_t *src = zip_source_buffer_create(data, len, 0, &zerr);
    zip_t *zip = src ? zip_open_from_source(src, ZIP_RDONLY, &zerr) : NULL;
    int rc = 0;
    if (!zip) {
        rc = zip_error_code_zip(&zerr) == ZIP_ER_NOZIP || zip_error_code_zip(&zerr) == ZIP_ER_INCONS
                 ? sf_error_set(error, SF_EINVAL, "%s：不是 XLSX 工作簿（不是有效的 zip 文件）",
                                source)
                 : sf_error_set(error, SF_EINVAL, "%s：无法打开工作簿（%s）", source,
                                zip_error_strerror(&zerr));
        zip_source_free(src);
    } else {
        reading_t rd = {zip, source, error};
        rc = convert(&rd, max_csv, csv, csv_len);
        zip_discard(zip);
    }
    zip_error_fini(&zerr);
    return rc;
}
