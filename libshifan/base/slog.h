/* slog.h - one line per event, for people.
 *
 * Format: "2018-07-15T09:00:00+08:00 county-node 530102 INFO message".
 * The node name and code are set once by the program. Lines go to stderr
 * (a daemon's stderr is its log; deploy/ redirects it).
 *
 * The log is the one process-wide object of the library, as stderr is:
 * identity, level, the daemon's buffer and the held lines of a transaction.
 * Threads: call it from one thread (our code runs on one thread per
 * process; libzmq's own threads never log through it). Failure: none
 * reported; a line that cannot be written (stderr closed, disk full) is
 * dropped, because a log must never stop the daemon. Lines are cut at 2 KiB.
 * The level comes from SHIFAN_DEBUG, read at the first line, unless
 * slog_set_level() set it. */
#ifndef SHIFAN_SLOG_H
#define SHIFAN_SLOG_H

#include <stdbool.h>

typedef enum { SLOG_DEBUG, SLOG_INFO, SLOG_WARN, SLOG_ERROR } slog_level_t;

/* Names the process in every line: program name and its unit code. */
void slog_set_identity(const char *program, const char *code);
/* Lines below this level are dropped (default SLOG_INFO; SHIFAN_DEBUG=1 -> DEBUG). */
void slog_set_level(slog_level_t level);

/* Daemons: collect lines and write them with slog_flush() (called once per
 * loop iteration, so a line is out within ~100 ms). A busy hub logs one line
 * per stored report; one write(2) per line cost a tenth of its time.
 * Errors are still written at once. */
void slog_set_buffered(bool buffered);
void slog_flush(void);

/* Lines (below ERROR) logged from now on are held for a transaction: the
 * link calls slog_hold() when its transaction function starts (again, if
 * the store re-runs it) and slog_release(committed) after the commit, so
 * "stored report X" is logged once, and only if it was stored. */
void slog_hold(void);
void slog_release(bool keep);

void slog(slog_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define slog_debug(...) slog(SLOG_DEBUG, __VA_ARGS__)
#define slog_info(...) slog(SLOG_INFO, __VA_ARGS__)
#define slog_warn(...) slog(SLOG_WARN, __VA_ARGS__)
#define slog_error(...) slog(SLOG_ERROR, __VA_ARGS__)

#endif
