/* drafts.h - the county console's drafts: one unsaved self-assessment per
 * unit-year, kept in the node's store (DB_DRAFTS) so that it survives a
 * browser restart and a killed daemon.
 *
 * A draft is the form's JSON text as the browser sent it (a report in the
 * JSON of docs/formats.md that may still be wrong: it is checked when it
 * is submitted, not when it is saved), with the time it was saved and, once
 * submitted, the version it became. Storage knows no report: the text is
 * opaque bytes here. docs/storage.md describes the layout.
 *
 * Each function runs its own transaction (store.h). Threading as store.h.
 * Errors: 0 or a negative sf_err_t. */
#ifndef SHIFAN_DRAFTS_H
#define SHIFAN_DRAFTS_H

#include <stddef.h>
#include <stdint.h>

#include "storage/store.h"

#define DRAFTS_TEXT_MAX (64 * 1024) /* bytes of one draft's text (REPORT_MAX_BYTES) */

typedef struct {
    int64_t saved_at;           /* unix seconds */
    uint32_t submitted_version; /* the version it was submitted as; 0: not submitted */
    char *text;                 /* NUL-terminated, malloc'd (drafts_get), owned by the caller */
    size_t len;
} drafts_record_t;

/* Writes the draft of unit/year, replacing the one there, in its own
 * write transaction: durable (fsync'd) when it returns 0. SF_EINVAL for an
 * empty unit or text longer than DRAFTS_TEXT_MAX; SF_ENOMEM; the store's
 * error (nothing written). */
int drafts_save(store_t *store, const char *unit, int year, const drafts_record_t *draft);

/* Reads the draft of unit/year into *draft (its text a malloc'd copy the
 * caller frees) in a read transaction. 0, SF_ENOTFOUND, SF_ECORRUPT (a
 * value too short), SF_ENOMEM or the store's error; on failure draft->text
 * is NULL. */
int drafts_load(store_t *store, const char *unit, int year, drafts_record_t *draft);

#endif
