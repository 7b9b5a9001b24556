/* csvw.h - CSV written the way Excel on Chinese Windows opens it: UTF-8
 * with a byte order mark (without one Excel reads the bytes as GBK and
 * shows mojibake), RFC 4180 quoting, CRLF row ends. Used by every CSV the
 * programs write (render.c's evaluation, report_csv.c's template).
 *
 * A writer holds one growing document in memory (open_memstream), so a
 * caller writes fields and rows and takes the bytes at the end.
 * Ownership: csvw_new's writer is the caller's, freed by csvw_destroy;
 * csvw_finish hands over the bytes and frees the writer.
 * Threading: a writer belongs to one thread. No global state.
 * Failure: a write that fails (out of memory) is remembered, and
 * csvw_finish returns SF_ENOMEM. */
#ifndef SHIFAN_CSVW_H
#define SHIFAN_CSVW_H

#include <stdbool.h>
#include <stddef.h>

typedef struct csvw csvw_t;

/* A writer whose document starts with the UTF-8 byte order mark when bom
 * is true. NULL when out of memory. */
csvw_t *csvw_new(bool bom);
void csvw_destroy(csvw_t **self_p);

/* One field of the current row, quoted when it holds a comma, a quote or a
 * line end (NULL writes an empty field). */
void csvw_field(csvw_t *self, const char *value);
/* A field made by printf. */
void csvw_fieldf(csvw_t *self, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Ends the current row (CRLF). */
void csvw_row_end(csvw_t *self);

/* The document, NUL-terminated, in *out (malloc'd, the caller frees), its
 * length in *len when len is not NULL; frees the writer and sets *self_p to
 * NULL whatever the result. Returns 0, or SF_ENOMEM (then *out is NULL). */
int csvw_finish(csvw_t **self_p, char **out, size_t *len);

#endif
