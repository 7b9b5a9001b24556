/* stime.h - the current time, and ISO 8601 in and out.
 *
 * Every program takes "now" from stime_now(): the environment variable
 * SHIFAN_NOW (ISO 8601, e.g. 2018-07-15T09:00:00+08:00) when it is set, so
 * tests and rehearsals can set the clock; the system clock otherwise.
 * Times are unix seconds (int64_t, UTC). Every function here is
 * thread-safe and allocates nothing. */
#ifndef SHIFAN_STIME_H
#define SHIFAN_STIME_H
#include <stdint.h>
#include <stddef.h>

/* Unix seconds now: SHIFAN_NOW if set and valid, else the system clock.
 * SHIFAN_NOW is read once per process, at the first call (thread-safe); an
 * invalid one is reported then on stderr and ignored. The library's
 * domain layer never calls this: the application reads the clock once per
 * operation and passes the time in. */
int64_t stime_now(void);

/* Monotonic milliseconds, for timers (never affected by SHIFAN_NOW). */
int64_t stime_mono_ms(void);

/* Parses "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS]" with "Z" or "+HH:MM"/"-HH:MM"
 * (no zone means +08:00, China Standard Time, the programmes' own zone).
 * Returns 0 and sets *out, or SF_EINVAL. */
int stime_parse(const char *text, int64_t *out);

/* Writes the time as "YYYY-MM-DDTHH:MM:SS+08:00" (China Standard Time) into
 * buf (at least 26 bytes). A time before year 0000 or after 9999 is written
 * as 0000-01-01T00:00:00+08:00 or 9999-12-31T23:59:59+08:00. Returns buf. */
char *stime_format(int64_t t, char *buf, size_t size);

#define STIME_BUFSZ 32
#define STIME_CST_OFFSET (8 * 3600)

#endif
