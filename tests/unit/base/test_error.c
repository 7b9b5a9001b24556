#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "base/error.h"

static void every_code_has_its_own_message(void **state)
{
    (void)state;
    for (int code = SF_OK; code >= SF_ERERUN; code--) {
        const char *msg = sf_strerror(code);
        assert_non_null(msg);
        assert_string_not_equal(msg, "unknown error");
        for (int other = code - 1; other >= SF_ERERUN; other--)
            assert_string_not_equal(msg, sf_strerror(other));
    }
    assert_string_equal(sf_strerror(-999), "unknown error");
}

static void an_error_carries_its_code_and_sentence(void **state)
{
    (void)state;
    sf_error_t error = {0};
    assert_int_equal(sf_error_set(&error, SF_EINVAL, "unit %s: %d", "530102", 7), SF_EINVAL);
    assert_int_equal(error.code, SF_EINVAL);
    assert_string_equal(error.text, "unit 530102: 7");
    assert_int_equal(sf_error_set(NULL, SF_ENOMEM, "ignored"), SF_ENOMEM);
    char longer[700];
    memset(longer, 'x', sizeof longer - 1);
    longer[sizeof longer - 1] = 0;
    sf_error_set(&error, SF_ETOOBIG, "%s", longer);
    assert_int_equal(strlen(error.text), sizeof error.text - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_code_has_its_own_message),
        cmocka_unit_test(an_error_carries_its_code_and_sentence),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
