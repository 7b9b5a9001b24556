/* fuzz_xlsx: a file handed in as an Excel workbook, read as `county-node
 * submit F.xlsx` reads it: xlsx_to_csv (libzip, libxml2; docs/formats.md,
 * "XLSX"), then the CSV loader on what came out (report_load_as, as
 * report_load_any does).
 *
 * Properties: no sanitizer report or leak; a refusal sets its error and
 * yields nothing; an accepted sheet's CSV is NUL-terminated, no longer than
 * the bound asked for, and holds no NUL byte. */
#include "fuzz_common.h"

#include "domain/programme.h"
#include "domain/xlsx.h"

static programme_t *programme;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (!(programme = programme_load_default(NULL)))
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!xlsx_is_workbook(data, size))
        return 0; /* not a zip: report_load_any hands it to the text loaders */
    char *csv = NULL;
    size_t csv_len = 0;
    sf_error_t error = {0, ""};
    int rc = xlsx_to_csv(data, size, "fuzz.xlsx", REPORT_MAX_BYTES, &csv, &csv_len, &error);
    if (rc) {
        if (csv)
            fuzz_fail("xlsx_to_csv refused the workbook but returned CSV");
        if (!error.code || !error.text[0])
            fuzz_fail("xlsx_to_csv refused the workbook without saying why");
        return 0;
    }
    if (!csv || csv_len > REPORT_MAX_BYTES || csv[csv_len] != '\0' || strlen(csv) != csv_len)
        fuzz_fail("xlsx_to_csv returned CSV out of its bounds or with a NUL inside");
    char note[256];
    report_t *report = report_load_as(csv, csv_len, REPORT_CSV, "fuzz.xlsx", "530102", programme,
                                      note, sizeof note, &error);
    report_destroy(&report);
    free(csv);
    return 0;
}
