/* fuzz_report_csv: a report file as CSV (a spreadsheet export), read as
 * `county-node submit` reads it (report_load against the embedded
 * programme: "1"/"0" take the criterion's kind) and as report_parse_csv
 * reads it without a programme. Input that is not UTF-8 goes through the
 * GB18030 conversion, as a file from Excel on Chinese Windows does.
 *
 * Properties: no sanitizer report or leak; an accepted report, stamped as
 * node_submit stamps it, survives the wire and its JSON form unchanged;
 * whatever report_load accepts as CSV, report_parse_csv accepts too. */
#include "fuzz_common.h"

#include "domain/programme.h"

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
    const char *text = (const char *)data;
    char err[512];
    report_t *plain = report_parse_csv(text, size, "fuzz.csv", "530102", err, sizeof err);
    if (plain) {
        fuzz_stamp(plain, "530102", "yunnan-2017");
        fuzz_check_wire_round_trip(plain, SHIFAN__PAYLOAD__BODY_REPORT);
        fuzz_check_json_round_trip(plain);
    }
    /* report_load guesses the format (a BOM dropped, then blanks; '{' is
     * JSON): only CSV is this target's, fuzz_report_json has the rest. */
    size_t skip = size >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    while (skip < size &&
           (text[skip] == ' ' || text[skip] == '\t' || text[skip] == '\r' || text[skip] == '\n'))
        skip++;
    if (skip < size && text[skip] == '{') {
        report_destroy(&plain);
        return 0;
    }
    report_t *loaded = report_load(text, size, "fuzz.csv", "530102", programme, NULL);
    if (loaded) {
        if (!plain)
            fuzz_fail("report_load accepted CSV that report_parse_csv refused");
        fuzz_stamp(loaded, "530102", programme_standard_id(programme));
        fuzz_check_wire_round_trip(loaded, SHIFAN__PAYLOAD__BODY_REPORT);
        fuzz_check_json_round_trip(loaded);
    }
    report_destroy(&loaded);
    report_destroy(&plain);
    return 0;
}
