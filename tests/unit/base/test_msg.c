#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/lang.h"
#include "base/msg.h"

#define SPECS_MAX 16
#define SPEC_LEN 16

/* The conversion specifications of a printf format, in order, each as its
 * text ("%d", "%.40s", "%zu", "%%"). False for anything this project does
 * not write: positional arguments, %n, an unknown conversion, a lone '%'. */
static bool conversions(const char *format, char specs[SPECS_MAX][SPEC_LEN], size_t *count)
{
    *count = 0;
    for (const char *p = strchr(format, '%'); p; p = strchr(p, '%')) {
        const char *start = p++;
        p += strspn(p, "-+ #0");
        p += *p == '*' ? 1 : strspn(p, "0123456789");
        if (*p == '$')
            return false;
        if (*p == '.') {
            p++;
            p += *p == '*' ? 1 : strspn(p, "0123456789");
        }
        p += strspn(p, "hljztL");
        if (*p == '\0' || !strchr("%diouxXeEfFgGaAcsp", *p))
            return false;
        size_t len = (size_t)(p + 1 - start);
        if (len >= SPEC_LEN || *count == SPECS_MAX)
            return false;
        memcpy(specs[*count], start, len);
        specs[(*count)++][len] = '\0';
        p++;
    }
    return true;
}

static void the_parser_sees_each_conversion(void **state)
{
    (void)state;
    char specs[SPECS_MAX][SPEC_LEN];
    size_t count;
    assert_true(conversions("第 %d 行：%.*s 100%% %-12s %zu %lld %llu %g", specs, &count));
    const char *expected[] = {"%d", "%.*s", "%%", "%-12s", "%zu", "%lld", "%llu", "%g"};
    assert_int_equal(count, 8);
    for (size_t i = 0; i < count; i++)
        assert_string_equal(specs[i], expected[i]);
    assert_false(conversions("%1$s", specs, &count));
    assert_false(conversions("%n", specs, &count));
    assert_false(conversions("50%", specs, &count));
    assert_false(conversions("%y", specs, &count));
}

/* What makes a translated format safe to hand to printf with the English
 * format's arguments: the same conversions, in the same order. */
static void each_chinese_format_takes_the_english_conversions(void **state)
{
    (void)state;
    size_t count;
    const msg_entry_t *catalogue = msg_catalogue(&count);
    assert_true(count > 100);
    for (size_t i = 0; i < count; i++) {
        char english[SPECS_MAX][SPEC_LEN], chinese[SPECS_MAX][SPEC_LEN];
        size_t english_count, chinese_count;
        const char *en = catalogue[i].english, *zh = catalogue[i].chinese;
        if (!conversions(en, english, &english_count) || !conversions(zh, chinese, &chinese_count))
            fail_msg("entry %zu: not a plain printf format: \"%s\" / \"%s\"", i, en, zh);
        if (english_count != chinese_count)
            fail_msg("\"%s\": %zu conversions, \"%s\": %zu", en, english_count, zh, chinese_count);
        for (size_t c = 0; c < english_count; c++)
            if (strcmp(english[c], chinese[c]) != 0)
                fail_msg("\"%s\" / \"%s\": conversion %zu is %s / %s", en, zh, c + 1, english[c],
                         chinese[c]);
    }
}

static bool has_non_ascii(const char *text)
{
    for (; *text; text++)
        if ((unsigned char)*text >= 0x80)
            return true;
    return false;
}

static bool ends_with_newline(const char *text)
{
    size_t len = strlen(text);
    return len > 0 && text[len - 1] == '\n';
}

/* Sorted and unique, so bsearch finds every key; each entry translated. */
static void the_catalogue_is_sorted_unique_and_translated(void **state)
{
    (void)state;
    size_t count;
    const msg_entry_t *catalogue = msg_catalogue(&count);
    for (size_t i = 0; i < count; i++) {
        const char *en = catalogue[i].english, *zh = catalogue[i].chinese;
        assert_non_null(en);
        assert_non_null(zh);
        if (*en == '\0' || !has_non_ascii(zh))
            fail_msg("entry %zu \"%s\": \"%s\" is no translation", i, en, zh);
        if (ends_with_newline(en) != ends_with_newline(zh))
            fail_msg("\"%s\": ends a line, \"%s\" does not (or the reverse)", en, zh);
        if (i > 0 && strcmp(catalogue[i - 1].english, en) >= 0)
            fail_msg("entry %zu \"%s\" is not after \"%s\"", i, en, catalogue[i - 1].english);
        assert_ptr_equal(msg_in(LANG_ZH, en), zh);
        assert_ptr_equal(msg_in(LANG_EN, en), en);
    }
}

/* Chinese with no locale at all; read once, so a later LANG changes nothing
 * until msg_set_lang (a --lang option) says otherwise. */
static void chinese_by_default_english_on_request(void **state)
{
    (void)state;
    unsetenv("LC_ALL");
    unsetenv("LC_MESSAGES");
    unsetenv("LANG");
    assert_int_equal(msg_lang(), LANG_ZH);
    char text[128];
    snprintf(text, sizeof text, msg("error: --year %d: programme %s covers %d-%d\n"), 2031,
             "yunnan-2017", 2017, 2020);
    assert_string_equal(text, "错误：--year 2031：方案 yunnan-2017 适用于 2017-2020 年\n");
    snprintf(text, sizeof text, msg("line %d"), 7);
    assert_string_equal(text, "第 7 行");
    setenv("LANG", "en_US.UTF-8", 1);
    assert_int_equal(msg_lang(), LANG_ZH);
    msg_set_lang(LANG_EN);
    assert_int_equal(msg_lang(), LANG_EN);
    snprintf(text, sizeof text, msg("line %d"), 7);
    assert_string_equal(text, "line 7");
    msg_set_lang(LANG_ZH);
    assert_string_equal(msg("numerator"), "分子");
}

/* A format with no entry stays English in either language. */
static void an_unknown_format_stays_english(void **state)
{
    (void)state;
    const char *format = "not in the catalogue: %d\n";
    assert_ptr_equal(msg_in(LANG_ZH, format), format);
    assert_ptr_equal(msg_in(LANG_EN, format), format);
    assert_null(msg_in(LANG_ZH, NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(chinese_by_default_english_on_request),
        cmocka_unit_test(the_parser_sees_each_conversion),
        cmocka_unit_test(each_chinese_format_takes_the_english_conversions),
        cmocka_unit_test(the_catalogue_is_sorted_unique_and_translated),
        cmocka_unit_test(an_unknown_format_stays_english),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
