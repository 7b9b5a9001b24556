/* embedded.h - data files compiled into the library from libshifan/data/.
 * The bytes are followed by a NUL, so text files can be used as C strings. */
#ifndef SHIFAN_EMBEDDED_H
#define SHIFAN_EMBEDDED_H
#include <stddef.h>

/* The bytes of the embedded file NAME and their length, or NULL. */
const unsigned char *embedded_find(const char *name, size_t *len);

#endif
