/* fuzz_inspection_json: an inspection file (a hub's or the province's own
 * values for a unit-year, `inspect FILE`), read as cli_load_report reads it
 * there: report_load with no default unit, against the embedded Yunnan
 * programme (counties evaluated) and against Qinhuangdao 2018 (sites
 * evaluated, 9-digit codes).
 *
 * Properties: no sanitizer report or leak; an accepted inspection, stamped
 * as node_inspect stamps it, survives the wire as an Inspection payload and
 * its JSON form unchanged. */
#include "fuzz_common.h"

#include "domain/programme.h"

#ifndef SHIFAN_SOURCE_DIR
#error "SHIFAN_SOURCE_DIR: set by CMakeLists.txt for the fuzz harnesses"
#endif

static programme_t *programmes[2];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    sf_error_t error = {0, ""};
    programmes[0] = programme_load_default(&error);
    programmes[1] =
        programme_load_file(SHIFAN_SOURCE_DIR "/programmes/qinhuangdao-2018.json", &error);
    if (!programmes[0] || !programmes[1]) {
        fprintf(stderr, "fuzz_inspection_json: %s\n", error.text);
        abort();
    }
    return 0;
}

/* The inspecting prefecture: the prefecture-level ancestor of the unit. */
static const char *inspector(const programme_t *programme, const char *unit)
{
    int index = programme_find_unit(programme, unit);
    if (index < 0)
        fuzz_fail("an inspection of unknown unit %s was accepted", unit);
    int prefecture = programme_unit(programme, (size_t)index)->prefecture;
    if (prefecture < 0)
        fuzz_fail("an inspection of unit %s, which has no prefecture, was accepted", unit);
    return programme_unit(programme, (size_t)prefecture)->code;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    /* JSON only (see fuzz_report_json): a BOM, blanks, then '{'. */
    size_t skip = size >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    while (skip < size &&
           (text[skip] == ' ' || text[skip] == '\t' || text[skip] == '\r' || text[skip] == '\n'))
        skip++;
    if (skip == size || text[skip] != '{')
        return 0;
    for (size_t p = 0; p < 2; p++) {
        report_t *inspection =
            report_load(text, size, "inspection.json", NULL, programmes[p], NULL);
        if (!inspection)
            continue;
        char origin[PROGRAMME_CODE_MAX];
        snprintf(origin, sizeof origin, "%s", inspector(programmes[p], inspection->unit));
        fuzz_stamp(inspection, origin, programme_standard_id(programmes[p]));
        snprintf(inspection->report_id, sizeof inspection->report_id, "%s-%d-i-%s-%08x",
                 inspection->unit, inspection->year, origin, 0xabcdu);
        fuzz_check_wire_round_trip(inspection, SHIFAN__PAYLOAD__BODY_INSPECTION);
        fuzz_check_json_round_trip(inspection);
        report_destroy(&inspection);
    }
    return 0;
}
