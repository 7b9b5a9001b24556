#include "base/slog.h"
#include "base/stime.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The identity is process-wide by nature (one program, one unit per process). */
static char slog_program[32] = "shifan";
static char slog_code[16] = "-";
static int slog_min = -1;
static bool slog_buffered;
static char slog_buffer[64 * 1024];
static size_t slog_buffered_len;
static int64_t slog_cached_second = INT64_MIN;
/* Lines held for a transaction (slog_hold): kept or dropped with it. */
#define SLOG_HOLD_MAX (4u << 20)
static bool slog_holding;
static char *slog_held;
static size_t slog_held_len, slog_held_cap, slog_held_dropped;
static char slog_cached_when[STIME_BUFSZ];

void slog_set_buffered(bool buffered)
{
    slog_flush();
    slog_buffered = buffered;
}

static void write_all(const char *text, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t wrote = write(STDERR_FILENO, text + done, len - done);
        if (wrote <= 0)
            break; /* a log that cannot be written must not stop the daemon */
        done += (size_t)wrote;
    }
}

void slog_flush(void)
{
    write_all(slog_buffer, slog_buffered_len);
    slog_buffered_len = 0;
}

static void slog_out(const char *line, size_t n, bool at_once);

void slog_hold(void)
{
    slog_holding = true;
    slog_held_len = 0;
    slog_held_dropped = 0;
}

void slog_release(bool keep)
{
    slog_holding = false;
    if (keep) {
        if (slog_held_len)
            slog_out(slog_held, slog_held_len, false); /* whole lines, in one piece */
        if (slog_held_dropped)
            slog(SLOG_WARN, "%zu log line(s) of that transaction were not kept (too many)",
                 slog_held_dropped);
    }
    slog_held_len = 0;
    slog_held_dropped = 0;
}

void slog_set_identity(const char *program, const char *code)
{
    snprintf(slog_program, sizeof slog_program, "%s", program ? program : "shifan");
    snprintf(slog_code, sizeof slog_code, "%s", code && *code ? code : "-");
}

void slog_set_level(slog_level_t level)
{
    slog_min = (int)level;
}

void slog(slog_level_t level, const char *fmt, ...)
{
    static const char *names[] = {"DEBUG", "INFO", "WARN", "ERROR"};
    if (slog_min < 0) {
        const char *debug = getenv("SHIFAN_DEBUG");
        slog_min = debug && *debug && *debug != '0' ? SLOG_DEBUG : SLOG_INFO;
    }
    if ((int)level < slog_min)
        return;
    char line[2048];
    /* Log lines carry the wall clock, or SHIFAN_NOW when a test sets it;
     * formatted once per second. */
    int64_t now = stime_now();
    if (now != slog_cached_second) {
        stime_format(now, slog_cached_when, sizeof slog_cached_when);
        slog_cached_second = now;
    }
    int n = snprintf(line, sizeof line, "%s %s %s %s ", slog_cached_when, slog_program, slog_code,
                     names[level]);
    va_list ap;
    va_start(ap, fmt);
    if (n > 0 && (size_t)n < sizeof line)
        n += vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof line - 1)
        n = (int)sizeof line - 2;
    line[n++] = '\n';
    if (slog_holding && level < SLOG_ERROR) {
        if (slog_held_len + (size_t)n > slog_held_cap) {
            size_t cap = slog_held_cap ? slog_held_cap * 2 : 64 * 1024;
            char *grown = cap <= SLOG_HOLD_MAX ? realloc(slog_held, cap) : NULL;
            if (!grown) {
                slog_held_dropped++;
                return;
            }
            slog_held = grown;
            slog_held_cap = cap;
        }
        memcpy(slog_held + slog_held_len, line, (size_t)n);
        slog_held_len += (size_t)n;
        return;
    }
    slog_out(line, (size_t)n, level >= SLOG_ERROR);
}

/* Errors are written at once; other lines wait in the daemon's buffer. */
static void slog_out(const char *line, size_t n, bool at_once)
{
    if (slog_buffered && !at_once) {
        if (slog_buffered_len + n > sizeof slog_buffer)
            slog_flush();
        if (n <= sizeof slog_buffer) {
            memcpy(slog_buffer + slog_buffered_len, line, n);
            slog_buffered_len += n;
            return;
        }
    }
    slog_flush();
    write_all(line, n);
}
