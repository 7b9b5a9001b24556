/* console_hub.h - the prefecture hub's console API (docs/console.md):
 *
 *   GET  /api/hub/overview?year=Y  the year as `report --json` gives it (the
 *                                  engine's evaluation of the hub's area:
 *                                  units with status, failed items, rank,
 *                                  criteria; quota holders with ranking,
 *                                  aggregates, completeness), each unit's
 *                                  verdict lines (verdict.h, as `report`
 *                                  prints them), the recommendation as
 *                                  `recommend --json` gives it, the standard
 *   POST /api/hub/confirm          {"year","override"}: `recommend --confirm
 *                                  [--override]`
 *   POST /api/hub/inspect          an inspection in the report JSON of
 *                                  docs/formats.md: `inspect`
 *   POST /api/hub/return           {"unit","year","reason"}: `return`
 *
 * Every answer comes from the function the verb calls (node_evaluate +
 * render_json, node_recommend, node_inspect, node_return): no rule of its
 * own. Bad input is 400 with the verb's message. Each change is durable
 * before 200 and logged (slog) naming the operator: "console" until
 * operator accounts exist (hub_operator in console_hub.c is the hook).
 * Handlers run in the daemon's thread. */
#ifndef SHIFAN_CONSOLE_HUB_H
#define SHIFAN_CONSOLE_HUB_H

#include "app/console.h"

/* The routes, for console_new; ends with {NULL}. */
extern const console_route_t console_hub_routes[];

#endif
