/* render.h - an evaluation result as JSON, CSV, a printable HTML page or an
 * Excel workbook.
 *
 * The forms carry the same facts (docs/results-format.md lists every
 * JSON field and CSV column): JSON for scripts and the downward
 * EvaluationResult, CSV for spreadsheets, HTML (one self-contained page,
 * Chinese labels, inline CSS, printable) for officials, XLSX (render_xlsx.c:
 * a summary sheet and a sheet per prefecture, Chinese headers) for officials
 * in Excel. Output depends only on the result: the same result gives the
 * same bytes (fixed key order, fixed number formatting, no locale), except
 * XLSX, whose zip carries the time it was written.
 *
 * Ownership: every render_* but the *_to forms returns a malloc'd,
 * NUL-terminated buffer in *out (length in *len when len is not NULL) that
 * the caller frees; on failure *out is untouched or NULL and nothing needs
 * freeing. The *_to forms write to a stream the caller owns and leave it
 * open; JSON goes out while the result is walked (a national year is tens
 * of megabytes), so on failure part of it may have been written.
 * Threading: no global state; any number of threads may render the same
 * (immutable) result at once. No clock: "evaluated_at" is the result's now. */
#ifndef SHIFAN_RENDER_H
#define SHIFAN_RENDER_H

#include <stddef.h>
#include <stdio.h>

#include "base/lang.h"
#include "domain/engine.h"

typedef enum { RENDER_JSON = 0, RENDER_CSV, RENDER_HTML, RENDER_XLSX } render_format_t;

/* "json", "csv", "html" or "xlsx" -> format; SF_EINVAL for anything else. */
int render_format_parse(const char *name, render_format_t *format);

/* Returns 0, or SF_ENOMEM / SF_EINVAL. */
int render(const engine_result_t *result, render_format_t format, char **out, size_t *len);
int render_json(const engine_result_t *result, char **out, size_t *len);
/* CSV (docs/results-format.md) as Excel opens it: UTF-8 with a byte order
 * mark, CRLF. In Chinese (headers 年度, 单位代码, ...; values 是/否, 按时,
 * 合格, the HTML's labels), or in English with lang LANG_EN (headers year,
 * code, ...; values true/false, on_time, pass: the JSON's words).
 * render_csv is render_csv_lang in Chinese. */
int render_csv(const engine_result_t *result, char **out, size_t *len);
int render_csv_lang(const engine_result_t *result, sf_lang_t lang, char **out, size_t *len);
int render_html(const engine_result_t *result, char **out, size_t *len);
/* The workbook's bytes (not NUL-terminated text). libxlsxwriter writes only
 * to a named file: it is built in one temporary file (domain/xlsx.h) that is
 * removed before returning. Also SF_EIO when that file fails. */
int render_xlsx(const engine_result_t *result, char **out, size_t *len);

/* The same bytes as render_json, streamed to `out` in chunks of 64 KiB
 * without the document in memory. Returns 0, SF_EINVAL, SF_ENOMEM, or
 * SF_EIO when a write failed (errno says why; `out` is not flushed). */
int render_json_to(const engine_result_t *result, FILE *out);
/* Any format to `out`: JSON as render_json_to, the others rendered then
 * written; CSV in `lang` (render_to: Chinese). Same returns. */
int render_to(const engine_result_t *result, render_format_t format, FILE *out);
int render_to_lang(const engine_result_t *result, render_format_t format, sf_lang_t lang,
                   FILE *out);

#endif
