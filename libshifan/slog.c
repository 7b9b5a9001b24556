#include "slog.h"
#include "stime.h"

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
static char slog_cached_when[STIME_BUFSZ];

void slog_set_buffered(bool buffered)
{
    slog_flush();
    slog_buffered = buffered;
}

void slog_flush(void)
{
    size_t done = 0;
    while (done < slog_buffered_len) {
        ssize_t wrote = write(STDERR_FILENO, slog_buffer + done, slog_buffered_len - done);
        if (wrote <= 0)
            break; /* a log that cannot be written must not stop the daemon */
        done += (size_t)wrote;
    }
    slog_buffered_len = 0;
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
    if (slog_buffered && level < SLOG_ERROR) {
        if (slog_buffered_len + (size_t)n > sizeof slog_buffer)
            slog_flush();
        memcpy(slog_buffer + slog_buffered_len, line, (size_t)n);
        slog_buffered_len += (size_t)n;
        return;
    }
    slog_flush();
    ssize_t ignored = write(STDERR_FILENO, line, (size_t)n);
    (void)ignored;
}
