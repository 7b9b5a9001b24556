/* console_province.h - the province's console API (docs/console.md):
 *
 *   GET /api/province/changes               {"generation","revision"}: moves
 *                                           whenever a report, inspection,
 *                                           return or recommendation is
 *                                           stored, or a programme published
 *   GET /api/province/evaluation?year=Y     the year's evaluation: the bytes
 *                                           of `province-core evaluate
 *                                           --format json` (same call, same now)
 *   GET /api/province/unit?code=C&year=Y    a prefecture or county: its
 *                                           versions, inspections and the
 *                                           reasons of its units' verdicts
 *   GET /api/province/export?year=Y&format=html|csv|json|xlsx[&lang=en]
 *                                           the evaluation as a download
 *                                           (Content-Disposition), rendered
 *                                           as `evaluate --format F` does
 *
 * Everything is read: nothing here changes the store. The evaluation is
 * node_evaluate over everything stored (the verb's own call), rendered by
 * domain/render.h; the versions are node_list's entries (`list --json`),
 * the inspections node_inspections'. Errors: {"error"} with 400 (a year
 * outside the programme, an unknown unit or format) or 500. Handlers run in
 * the daemon's thread. */
#ifndef SHIFAN_CONSOLE_PROVINCE_H
#define SHIFAN_CONSOLE_PROVINCE_H

#include "app/console.h"

/* The routes, for console_new; ends with {NULL}. */
extern const console_route_t console_province_routes[];

#endif
