#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <cmocka.h>

#include "base/error.h"
#include "base/lang.h"

static void locale(const char *all, const char *messages, const char *lang)
{
    const char *names[] = {"LC_ALL", "LC_MESSAGES", "LANG"};
    const char *values[] = {all, messages, lang};
    for (int i = 0; i < 3; i++) {
        if (values[i])
            setenv(names[i], values[i], 1);
        else
            unsetenv(names[i]);
    }
}

static void chinese_unless_the_first_locale_variable_set_says_english(void **state)
{
    (void)state;
    locale(NULL, NULL, NULL);
    assert_int_equal(lang_from_env(), LANG_ZH);
    locale(NULL, NULL, "en_US.UTF-8");
    assert_int_equal(lang_from_env(), LANG_EN);
    locale(NULL, NULL, "zh_CN.UTF-8");
    assert_int_equal(lang_from_env(), LANG_ZH);
    locale(NULL, NULL, "C.UTF-8");
    assert_int_equal(lang_from_env(), LANG_ZH);
    /* LC_ALL before LC_MESSAGES before LANG; an empty one counts as unset. */
    locale("zh_CN.UTF-8", "en_GB.UTF-8", "en_US.UTF-8");
    assert_int_equal(lang_from_env(), LANG_ZH);
    locale(NULL, "en_GB.UTF-8", "zh_CN.UTF-8");
    assert_int_equal(lang_from_env(), LANG_EN);
    locale("", "", "en");
    assert_int_equal(lang_from_env(), LANG_EN);
    locale("POSIX", NULL, "en_US.UTF-8");
    assert_int_equal(lang_from_env(), LANG_ZH);
}

static void only_zh_and_en_are_languages(void **state)
{
    (void)state;
    sf_lang_t lang = LANG_ZH;
    assert_int_equal(lang_parse("en", &lang), 0);
    assert_int_equal(lang, LANG_EN);
    assert_int_equal(lang_parse("zh", &lang), 0);
    assert_int_equal(lang, LANG_ZH);
    assert_int_equal(lang_parse("fr", &lang), SF_EINVAL);
    assert_int_equal(lang_parse("EN", &lang), SF_EINVAL);
    assert_int_equal(lang_parse(NULL, &lang), SF_EINVAL);
    assert_int_equal(lang, LANG_ZH);
    assert_string_equal(lang_name(LANG_EN), "en");
    assert_string_equal(lang_name(LANG_ZH), "zh");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(chinese_unless_the_first_locale_variable_set_says_english),
        cmocka_unit_test(only_zh_and_en_are_languages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
