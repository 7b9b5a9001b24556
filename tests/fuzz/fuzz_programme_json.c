/* fuzz_programme_json: a programme file, as `init --programme`, `publish`
 * and a node receiving a published programme read it (programme_load_json),
 * then what every node does with the programme in force: lookups, quotas,
 * deadlines, and one evaluation of its first year rendered as JSON, CSV and
 * HTML (a hub ranks with whatever programme its parent published).
 *
 * Properties: no sanitizer report or leak; the canonical text of an
 * accepted programme loads again into the same canonical text; every unit
 * and alias is found by its code, lies within the root, and reaches the
 * root through its parents; criteria are in programme_criterion_compare
 * order and found by their ids (programme.h promises both). */
#include "fuzz_common.h"

#include "domain/engine.h"
#include "domain/programme.h"
#include "domain/render.h"

static const programme_unit_t *check_units(const programme_t *programme)
{
    size_t count = programme_unit_count(programme);
    const programme_unit_t *root = NULL;
    for (size_t i = 0; i < count; i++) {
        const programme_unit_t *unit = programme_unit(programme, i);
        if (unit->parent < 0) {
            if (root)
                fuzz_fail("two roots: %s and %s", root->code, unit->code);
            root = unit;
        }
        if (programme_find_unit(programme, unit->code) != (int)i)
            fuzz_fail("unit %s is not found by its code", unit->code);
        size_t steps = 0;
        for (int at = (int)i; at >= 0; at = programme_unit(programme, (size_t)at)->parent)
            if (++steps > count)
                fuzz_fail("unit %s: its parents form a cycle", unit->code);
        (void)programme_quota_holder(programme, (int)i);
    }
    if (count && !root)
        fuzz_fail("no root among %zu units", count);
    for (size_t i = 0; root && i < count; i++)
        if (!programme_unit_within(programme, programme_unit(programme, i)->code, root->code))
            fuzz_fail("unit %s is not within the root", programme_unit(programme, i)->code);
    for (size_t a = 0; a < programme_alias_count(programme); a++) {
        const programme_alias_t *alias = programme_alias(programme, a);
        if (programme_find_unit(programme, alias->code) != alias->unit)
            fuzz_fail("former code %s does not resolve to its unit", alias->code);
    }
    return root;
}

static void check_criteria(const programme_t *programme)
{
    size_t count = programme_criterion_count(programme);
    for (size_t c = 0; c < count; c++) {
        const char *id = programme_criterion(programme, c)->id;
        if (c > 0 &&
            programme_criterion_compare(programme_criterion(programme, c - 1)->id, id) >= 0)
            fuzz_fail("criteria %s and %s are out of order",
                      programme_criterion(programme, c - 1)->id, id);
        if (programme_find_criterion(programme, id) != (int)c)
            fuzz_fail("criterion %s is not found by its id", id);
        int item = programme_criterion(programme, c)->item_index;
        if (item < 0 || (size_t)item >= programme_item_count(programme))
            fuzz_fail("criterion %s names item %d of %zu", id, item,
                      programme_item_count(programme));
    }
}

static void evaluate_first_year(const programme_t *programme, const programme_unit_t *root)
{
    engine_input_t *input = engine_input_new(programme, NULL);
    if (!input)
        return;
    int year = programme_first_year(programme);
    engine_result_t *result = NULL;
    char err[512];
    if (engine_evaluate(input, year, programme_deadline(programme, STAGE_EVALUATION, year),
                        root ? root->code : NULL, &result, err, sizeof err) == 0) {
        render_format_t formats[] = {RENDER_JSON, RENDER_CSV, RENDER_HTML};
        for (size_t f = 0; f < 3; f++) {
            char *text = NULL;
            size_t len = 0;
            if (render(result, formats[f], &text, &len) == 0 && !text)
                fuzz_fail("render %zu gave no text", f);
            free(text);
        }
    }
    engine_result_destroy(&result);
    engine_input_destroy(&input);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sf_error_t error;
    programme_t *programme = programme_load_json((const char *)data, size, "fuzz.json", &error);
    if (!programme)
        return 0;
    const char *canonical = programme_json(programme);
    programme_t *again = programme_load_json(canonical, strlen(canonical), "canonical", &error);
    if (!again)
        fuzz_fail("the canonical text does not load: %s", error.text);
    if (strcmp(programme_json(again), canonical) != 0)
        fuzz_fail("the canonical text changed when loaded again");
    programme_destroy(&again);

    const programme_unit_t *root = check_units(programme);
    check_criteria(programme);
    for (int year = programme_first_year(programme);
         year <= programme_last_year(programme) && year < programme_first_year(programme) + 50;
         year++) {
        for (size_t s = 0; s < programme_stage_count(programme); s++)
            (void)programme_deadline_named(programme, programme_stage_at(programme, s)->id, year);
        for (size_t u = 0; u < programme_unit_count(programme); u++)
            (void)programme_quota(programme, programme_unit(programme, u)->code, year);
        (void)programme_national_quota(programme, year);
    }
    evaluate_first_year(programme, root);
    programme_destroy(&programme);
    return 0;
}
