#include "base/stime.h"
#include "base/error.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * algorithm): no timegm(), no TZ environment, no locale. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

static int days_in_month(int y, unsigned m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 ? 28 + leap : days[m - 1];
}

static int read_digits(const char **p, int count, int *out)
{
    int value = 0;
    for (int i = 0; i < count; i++) {
        if ((*p)[i] < '0' || (*p)[i] > '9')
            return -1;
        value = value * 10 + ((*p)[i] - '0');
    }
    *p += count;
    *out = value;
    return 0;
}

int stime_parse(const char *text, int64_t *out)
{
    const char *p = text;
    int y, mo, d, h = 0, mi = 0, s = 0;
    if (!text || read_digits(&p, 4, &y) || *p++ != '-' || read_digits(&p, 2, &mo) || *p++ != '-' ||
        read_digits(&p, 2, &d))
        return SF_EINVAL;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, (unsigned)mo))
        return SF_EINVAL;
    int64_t offset = STIME_CST_OFFSET;
    if (*p == 'T' || *p == ' ') {
        p++;
        if (read_digits(&p, 2, &h) || *p++ != ':' || read_digits(&p, 2, &mi))
            return SF_EINVAL;
        if (*p == ':') {
            p++;
            if (read_digits(&p, 2, &s))
                return SF_EINVAL;
            if (*p == '.') /* fractions of a second are accepted and dropped */
                for (p++; *p >= '0' && *p <= '9'; p++)
                    ;
        }
        if (h > 23 || mi > 59 || s > 60)
            return SF_EINVAL;
        if (*p == 'Z') {
            offset = 0;
            p++;
        } else if (*p == '+' || *p == '-') {
            int sign = *p++ == '-' ? -1 : 1, oh, om;
            if (read_digits(&p, 2, &oh))
                return SF_EINVAL;
            if (*p == ':')
                p++;
            if (read_digits(&p, 2, &om) || oh > 14 || om > 59)
                return SF_EINVAL;
            offset = sign * (oh * 3600 + om * 60);
        }
    }
    if (*p != '\0')
        return SF_EINVAL;
    *out = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + s - offset;
    return 0;
}

/* The first and last second that "%04d-..." can show: 0000-01-01T00:00:00
 * and 9999-12-31T23:59:59, China Standard Time. */
#define STIME_FIRST (-62167219200LL - STIME_CST_OFFSET)
#define STIME_LAST (253402300799LL - STIME_CST_OFFSET)

char *stime_format(int64_t t, char *buf, size_t size)
{
    /* Times come from other nodes too (the province lists what hubs
     * forwarded unchecked): beyond the format's range, the nearest end of
     * it, so that t + offset cannot overflow (UBSan, via tests/fuzz/fuzz_apply). */
    t = t < STIME_FIRST ? STIME_FIRST : t > STIME_LAST ? STIME_LAST : t;
    int64_t local = t + STIME_CST_OFFSET;
    int64_t days = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
    int64_t secs = local - days * 86400;
    int y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    snprintf(buf, size, "%04d-%02u-%02uT%02d:%02d:%02d+08:00", y, m, d, (int)(secs / 3600),
             (int)(secs / 60 % 60), (int)(secs % 60));
    return buf;
}

/* The clock is read from the environment once per process: a library
 * that consults getenv() on every call can change its idea of "now" in the
 * middle of one operation, and getenv() is not safe against a setenv() in
 * another thread. */
static pthread_once_t clock_once = PTHREAD_ONCE_INIT;
static bool clock_fixed;
static int64_t clock_fixed_at;

static void clock_read_environment(void)
{
    const char *env = getenv("SHIFAN_NOW");
    if (!env || !*env)
        return;
    if (stime_parse(env, &clock_fixed_at) == 0)
        clock_fixed = true;
    else
        fprintf(stderr, "warning: SHIFAN_NOW='%s' is not ISO 8601; using the system clock\n", env);
}

int64_t stime_now(void)
{
    pthread_once(&clock_once, clock_read_environment);
    return clock_fixed ? clock_fixed_at : (int64_t)time(NULL);
}

int64_t stime_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
