/* jsonw.h - a streaming JSON writer that writes jansson's bytes.
 *
 * Writes one JSON document while the caller walks its data, so a document
 * of any size is never held in memory. The bytes are those of
 * json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
 * JSON_REAL_PRECISION(15)) for the tree the same calls would have built
 * with jansson (our results were written that way, and published results
 * are compared byte for byte): two-space indentation, ": " after keys,
 * strings escaped as jansson escapes them (", \, control characters; UTF-8
 * kept as is), integers as %lld, reals as jansson prints them. Like
 * json_object_set_new and json_array_append_new given the NULL that
 * json_string or json_real returns, a string that is NULL or not valid
 * UTF-8 and a real that is not finite are left out, with their key.
 *
 * Usage: w = jsonw_new(sink, context, &error); jsonw_object_begin(w);
 * jsonw_key(w, "year"); jsonw_integer(w, 2020); ...; jsonw_object_end(w);
 * rc = jsonw_finish(w); jsonw_destroy(&w). The writer buffers up to 64 KiB
 * and hands the sink whole chunks.
 *
 * Failure: the first error sticks (the sink's negative return, or
 * SF_EINVAL for calls out of order: a value in an object without a key, an
 * end that does not match, a second root, nesting deeper than 32); every
 * later call does nothing, and jsonw_finish returns it.
 *
 * Ownership: the sink's context is borrowed. Threading: a writer belongs to
 * one thread; no global state. */
#ifndef SHIFAN_JSONW_H
#define SHIFAN_JSONW_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"

/* Takes `len` bytes; returns 0 or a negative sf_err_t (SF_EIO, SF_ENOMEM). */
typedef int (*jsonw_sink_fn)(void *context, const char *data, size_t len);

typedef struct jsonw jsonw_t;

/* A writer for one document. NULL with SF_ENOMEM, or SF_EINVAL for no sink. */
jsonw_t *jsonw_new(jsonw_sink_fn sink, void *context, sf_error_t *error);
/* Frees the writer (without flushing: call jsonw_finish) and nulls *self_p. */
void jsonw_destroy(jsonw_t **self_p);

void jsonw_object_begin(jsonw_t *self);
void jsonw_object_end(jsonw_t *self);
void jsonw_array_begin(jsonw_t *self);
void jsonw_array_end(jsonw_t *self);
/* Names the next value written inside an object (borrowed until then). */
void jsonw_key(jsonw_t *self, const char *key);
void jsonw_string(jsonw_t *self, const char *value); /* NULL or bad UTF-8: left out */
void jsonw_integer(jsonw_t *self, long long value);
void jsonw_real(jsonw_t *self, double value); /* NaN or infinite: left out */
void jsonw_bool(jsonw_t *self, bool value);
void jsonw_null(jsonw_t *self);
/* Bytes outside the document, written as they are (a final newline). */
void jsonw_text(jsonw_t *self, const char *text, size_t len);

/* Flushes what is buffered; 0 once every container is closed and the sink
 * took everything, else the first error (SF_EINVAL if a container is open). */
int jsonw_finish(jsonw_t *self);

#endif
