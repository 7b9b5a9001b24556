/* cli_json.c - the JSON the programs print and the daemon writes, rendered
 * from the typed results of node.h. The byte layout (key order, indent)
 * is part of the interface: scripts read it, e2e tests compare it. */
#include "app/cli.h"

#include <jansson.h>
#include <stdlib.h>

static json_t *units_json(char *const *units, size_t count)
{
    json_t *list = json_array();
    for (size_t i = 0; i < count; i++)
        json_array_append_new(list, json_string(units[i]));
    return list;
}

char *cli_recommendations_json(const char *prefecture, int year,
                               const node_recommendations_t *lists)
{
    json_t *array = json_array();
    for (size_t i = 0; i < lists->count; i++) {
        const tier_recommendation_t *list = &lists->lists[i];
        json_array_append_new(array, json_pack("{s:s, s:i, s:b, s:o}", "holder", list->holder,
                                               "quota", list->quota, "confirmed", list->confirmed,
                                               "units", units_json(list->units, list->unit_count)));
    }
    json_t *out =
        json_pack("{s:s, s:i, s:o}", "prefecture", prefecture, "year", year, "lists", array);
    if (lists->count == 1) { /* one quota holder: its list at the top too */
        const tier_recommendation_t *only = &lists->lists[0];
        json_object_set_new(out, "quota", json_integer(only->quota));
        json_object_set_new(out, "confirmed", json_boolean(only->confirmed));
        json_object_set_new(out, "units", units_json(only->units, only->unit_count));
    }
    char *text = json_dumps(out, JSON_INDENT(2));
    json_decref(out);
    return text;
}
