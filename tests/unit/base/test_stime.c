/* The clock and ISO 8601 times (base/stime.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/stime.h"

static void dates_and_times_parse_in_china_standard_time_unless_zoned(void **state)
{
    (void)state;
    int64_t t;
    assert_int_equal(stime_parse("2018-07-15", &t), 0);
    assert_int_equal(t, 1531584000); /* 2018-07-15T00:00:00+08:00 */
    assert_int_equal(stime_parse("2018-07-15T09:30", &t), 0);
    assert_int_equal(t, 1531584000 + 9 * 3600 + 30 * 60);
    assert_int_equal(stime_parse("2018-07-15T01:30:00Z", &t), 0);
    assert_int_equal(t, 1531584000 + 9 * 3600 + 30 * 60);
    assert_int_equal(stime_parse("2018-07-15T09:30:00+08:00", &t), 0);
    assert_int_equal(t, 1531584000 + 9 * 3600 + 30 * 60);
    assert_int_equal(stime_parse("2018-07-14T20:30:00.250-05:00", &t), 0);
    assert_int_equal(t, 1531584000 + 9 * 3600 + 30 * 60);
}

static void malformed_times_are_refused(void **state)
{
    (void)state;
    const char *bad[] = {"",
                         "2018",
                         "2018-13-01",
                         "2018-02-29", /* not a leap year */
                         "2018-07-15T24:00",
                         "2018-07-15T09:60",
                         "2018-07-15T09:30:00+15:00",
                         "2018-07-15T09:30:00 CST",
                         "2018/07/15",
                         "２０１８-07-15"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int64_t t = 42;
        assert_int_equal(stime_parse(bad[i], &t), SF_EINVAL);
    }
    int64_t t;
    assert_int_equal(stime_parse("2016-02-29", &t), 0); /* a leap year */
    assert_int_equal(stime_parse(NULL, &t), SF_EINVAL);
}

static void times_are_written_in_china_standard_time_within_the_format_range(void **state)
{
    (void)state;
    char buf[STIME_BUFSZ];
    assert_string_equal(stime_format(1531584000 + 9 * 3600, buf, sizeof buf),
                        "2018-07-15T09:00:00+08:00");
    int64_t back;
    assert_int_equal(stime_parse(buf, &back), 0);
    assert_int_equal(back, 1531584000 + 9 * 3600);
    assert_string_equal(stime_format(INT64_MAX, buf, sizeof buf), "9999-12-31T23:59:59+08:00");
    assert_string_equal(stime_format(INT64_MIN, buf, sizeof buf), "0000-01-01T00:00:00+08:00");
}

/* SHIFAN_NOW is read once per process: a later change of the environment
 * does not move the clock in the middle of the process's work. */
static void the_clock_reads_shifan_now_once(void **state)
{
    (void)state;
    assert_int_equal(setenv("SHIFAN_NOW", "2018-08-01T10:00:00+08:00", 1), 0);
    int64_t first = stime_now();
    int64_t expected;
    assert_int_equal(stime_parse("2018-08-01T10:00:00+08:00", &expected), 0);
    assert_int_equal(first, expected);
    assert_int_equal(setenv("SHIFAN_NOW", "2019-01-01", 1), 0);
    assert_int_equal(stime_now(), first);
    assert_int_equal(unsetenv("SHIFAN_NOW"), 0);
    assert_int_equal(stime_now(), first);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dates_and_times_parse_in_china_standard_time_unless_zoned),
        cmocka_unit_test(malformed_times_are_refused),
        cmocka_unit_test(times_are_written_in_china_standard_time_within_the_format_range),
        cmocka_unit_test(the_clock_reads_shifan_now_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
