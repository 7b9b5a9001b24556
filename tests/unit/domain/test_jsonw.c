#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "domain/jsonw.h"

/* Every call goes to the streaming writer and, as the jansson call it
 * stands for, to a tree; the test then compares the writer's bytes with
 * json_dumps of the tree. */
typedef struct {
    jsonw_t *w;
    json_t *root;
    json_t *stack[16];
    int depth;
    const char *key;
    char *out;
    size_t len, cap;
} dual_t;

static int sink_memory(void *context, const char *data, size_t len)
{
    dual_t *d = context;
    if (d->len + len + 1 > d->cap) {
        d->cap = (d->len + len + 1) * 2;
        d->out = realloc(d->out, d->cap);
    }
    memcpy(d->out + d->len, data, len);
    d->len += len;
    d->out[d->len] = '\0';
    return 0;
}

static void dual_add(dual_t *d, json_t *value)
{
    if (d->depth == 0) {
        d->root = value;
        return;
    }
    json_t *top = d->stack[d->depth - 1];
    if (json_is_object(top))
        json_object_set_new(top, d->key, value); /* a NULL value: nothing set */
    else
        json_array_append_new(top, value);
}

static void key(dual_t *d, const char *name)
{
    jsonw_key(d->w, name);
    d->key = name;
}

static void begin(dual_t *d, bool object)
{
    json_t *container = object ? json_object() : json_array();
    if (object)
        jsonw_object_begin(d->w);
    else
        jsonw_array_begin(d->w);
    dual_add(d, container); /* the parent (or d->root) owns it */
    d->stack[d->depth++] = container;
}

static void end(dual_t *d, bool object)
{
    if (object)
        jsonw_object_end(d->w);
    else
        jsonw_array_end(d->w);
    d->depth--;
}

static void string(dual_t *d, const char *value)
{
    jsonw_string(d->w, value);
    dual_add(d, value ? json_string(value) : NULL);
}

static void real(dual_t *d, double value)
{
    jsonw_real(d->w, value);
    dual_add(d, json_real(value));
}

static void integer(dual_t *d, long long value)
{
    jsonw_integer(d->w, value);
    dual_add(d, json_integer(value));
}

static void dual_start(dual_t *d)
{
    memset(d, 0, sizeof *d);
    d->w = jsonw_new(sink_memory, d, NULL);
    assert_non_null(d->w);
}

/* The writer's bytes are json_dumps's, and every call succeeded. */
static void assert_dual_equal(dual_t *d)
{
    assert_int_equal(jsonw_finish(d->w), 0);
    jsonw_destroy(&d->w);
    assert_null(d->w);
    char *dump =
        json_dumps(d->root, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
    assert_non_null(dump);
    assert_non_null(d->out);
    assert_string_equal(d->out, dump);
    free(dump);
    free(d->out);
    json_decref(d->root);
}

static const double reals[] = {
    0.0,
    -0.0,
    0.1,
    0.01,
    -0.01,
    1e5,
    100.0,
    89.99,
    90.0,
    12.35,
    -3.5,
    99.995,
    1.0 / 3,
    200.0 / 3,
    1e-5,
    1e-4,
    0.00015,
    1e13,
    9999999999999.99,
    1e15,
    1e16,
    1e17,
    1e20,
    -1e20,
    123456789.125,
    12345678901234567.0,
    5e-324,
    1.7976931348623157e308,
    42.4242424242424,
};

static void numbers_are_printed_as_jansson_prints_them(void **state)
{
    (void)state;
    dual_t d;
    dual_start(&d);
    begin(&d, false);
    for (size_t i = 0; i < sizeof reals / sizeof reals[0]; i++) {
        real(&d, reals[i]);
        real(&d, round(reals[i] * 100.0) / 100.0);
    }
    /* Not finite: json_real refuses them, so they are left out. */
    real(&d, NAN);
    real(&d, INFINITY);
    static const long long integers[] = {0, 1, -1, 42, 2020, LLONG_MAX, LLONG_MIN};
    for (size_t i = 0; i < sizeof integers / sizeof integers[0]; i++)
        integer(&d, integers[i]);
    for (int k = -100000; k <= 100000; k += 7)
        real(&d, (double)k / 100.0);
    end(&d, false);
    assert_dual_equal(&d);
}

static void strings_are_escaped_as_jansson_escapes_them(void **state)
{
    (void)state;
    dual_t d;
    dual_start(&d);
    begin(&d, true);
    key(&d, "plain");
    string(&d, "530102-2018-v2-3fa9c1d2");
    key(&d, "chinese");
    string(&d, "昆明市五华区 示范县");
    key(&d, "escapes");
    string(&d, "quote \" backslash \\ slash / tab \t nl \n cr \r bs \b ff \f");
    key(&d, "controls");
    string(&d, "\x01\x02\x1f\x7f end");
    key(&d, "astral");
    string(&d, "𝄞 😀");
    key(&d, "empty");
    string(&d, "");
    key(&d, "键 \"quoted\"");
    string(&d, "a key that needs escaping");
    /* What json_string refuses is left out with its key. */
    key(&d, "bad_utf8");
    string(&d, "\xff\xfe");
    key(&d, "overlong");
    string(&d, "\xc0\xaf");
    key(&d, "surrogate");
    string(&d, "\xed\xa0\x80");
    key(&d, "truncated");
    string(&d, "ok \xe6\x98");
    key(&d, "null_pointer");
    string(&d, NULL);
    key(&d, "after");
    string(&d, "still written");
    end(&d, true);
    assert_dual_equal(&d);
}

static void layout_matches_for_nesting_empties_and_literals(void **state)
{
    (void)state;
    dual_t d;
    dual_start(&d);
    begin(&d, true);
    key(&d, "empty_array");
    begin(&d, false);
    end(&d, false);
    key(&d, "empty_object");
    begin(&d, true);
    end(&d, true);
    key(&d, "deep");
    for (int i = 0; i < 10; i++)
        begin(&d, false);
    jsonw_null(d.w);
    dual_add(&d, json_null());
    jsonw_bool(d.w, true);
    dual_add(&d, json_true());
    jsonw_bool(d.w, false);
    dual_add(&d, json_false());
    for (int i = 0; i < 10; i++)
        end(&d, false);
    key(&d, "rows");
    begin(&d, false);
    /* Far more than the writer's 64 KiB buffer, with strings longer than
     * its fast path, so chunks end everywhere. */
    char long_text[3000];
    memset(long_text, 'x', sizeof long_text - 1);
    long_text[sizeof long_text - 1] = '\0';
    long_text[1500] = '\n';
    for (int i = 0; i < 2000; i++) {
        begin(&d, true);
        key(&d, "i");
        integer(&d, i);
        key(&d, "share");
        real(&d, (double)i / 7.0);
        key(&d, "text");
        string(&d, i % 50 ? "a row" : long_text);
        end(&d, true);
    }
    end(&d, false);
    end(&d, true);
    assert_dual_equal(&d);
}

static void calls_out_of_order_fail_and_stick(void **state)
{
    (void)state;
    dual_t d;
    memset(&d, 0, sizeof d);
    jsonw_t *w = jsonw_new(sink_memory, &d, NULL);
    jsonw_object_begin(w);
    jsonw_integer(w, 1); /* no key */
    jsonw_key(w, "later");
    jsonw_integer(w, 2);
    jsonw_object_end(w);
    assert_int_equal(jsonw_finish(w), SF_EINVAL);
    jsonw_destroy(&w);

    w = jsonw_new(sink_memory, &d, NULL);
    jsonw_array_begin(w);
    jsonw_object_end(w); /* mismatched */
    assert_int_equal(jsonw_finish(w), SF_EINVAL);
    jsonw_destroy(&w);

    w = jsonw_new(sink_memory, &d, NULL);
    jsonw_array_begin(w); /* never closed */
    assert_int_equal(jsonw_finish(w), SF_EINVAL);
    jsonw_destroy(&w);
    free(d.out);

    sf_error_t error;
    assert_null(jsonw_new(NULL, NULL, &error));
    assert_int_equal(error.code, SF_EINVAL);
}

static int sink_failing(void *context, const char *data, size_t len)
{
    (void)data;
    (void)len;
    ++*(int *)context;
    return SF_EIO;
}

static void a_failing_sink_stops_the_writer(void **state)
{
    (void)state;
    int calls = 0;
    jsonw_t *w = jsonw_new(sink_failing, &calls, NULL);
    jsonw_array_begin(w);
    for (int i = 0; i < 100000; i++)
        jsonw_string(w, "enough to flush several times");
    jsonw_array_end(w);
    assert_int_equal(jsonw_finish(w), SF_EIO);
    assert_int_equal(calls, 1);
    jsonw_destroy(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(numbers_are_printed_as_jansson_prints_them),
        cmocka_unit_test(strings_are_escaped_as_jansson_escapes_them),
        cmocka_unit_test(layout_matches_for_nesting_empties_and_literals),
        cmocka_unit_test(calls_out_of_order_fail_and_stick),
        cmocka_unit_test(a_failing_sink_stops_the_writer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
