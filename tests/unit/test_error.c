#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "error.h"

static void every_code_has_its_own_message(void **state)
{
    (void)state;
    for (int code = SF_OK; code >= SF_ETOOBIG; code--) {
        const char *msg = sf_strerror(code);
        assert_non_null(msg);
        assert_string_not_equal(msg, "unknown error");
        for (int other = code - 1; other >= SF_ETOOBIG; other--)
            assert_string_not_equal(msg, sf_strerror(other));
    }
    assert_string_equal(sf_strerror(-999), "unknown error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_code_has_its_own_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
