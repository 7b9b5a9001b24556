#include "slog.h"
#include "stime.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The identity is process-wide by nature (one program, one unit per process). */
static char slog_program[32] = "shifan";
static char slog_code[16] = "-";
static int slog_min = -1;

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
    char line[2048], when[STIME_BUFSZ];
    /* Log lines carry the wall clock, or SHIFAN_NOW when a test sets it. */
    int n =
        snprintf(line, sizeof line, "%s %s %s %s ", stime_format(stime_now(), when, sizeof when),
                 slog_program, slog_code, names[level]);
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
    ssize_t ignored = write(STDERR_FILENO, line, (size_t)n);
    (void)ignored;
}
