/* console_county.h - the county's console API (docs/console.md):
 *
 *   GET  /api/county/form?year=Y     the standard as sections > items >
 *                                    criteria, the deadline, the stored draft
 *   POST /api/county/check           validate + evaluate a report, store nothing
 *   POST /api/county/draft?year=Y    keep the form as the draft (fsync'd first)
 *   POST /api/county/submit          a new version, the checks of `submit`
 *   GET  /api/county/history?year=Y  this unit's versions and their states
 *   GET  /api/county/result?year=Y   the province's published evaluation
 *
 * Bodies are the report JSON of docs/formats.md; a draft may hold values
 * that are still wrong (it is checked on check and submit only). Answers
 * are JSON; bad input is 400 with the CLI's message ({"error"}, and per
 * criterion in {"fields"}). Handlers run in the daemon's thread and call
 * the node as the verbs do (node.h); each change is durable before 200. */
#ifndef SHIFAN_CONSOLE_COUNTY_H
#define SHIFAN_CONSOLE_COUNTY_H

#include "app/console.h"

/* The routes, for console_new; ends with {NULL}. */
extern const console_route_t console_county_routes[];

#endif
