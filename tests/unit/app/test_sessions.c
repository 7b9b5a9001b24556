/* The console's sessions (sessions.h): a login's id found from the Cookie
 * header among other cookies, ids and CSRF tokens random and distinct, the
 * CSRF check (right, wrong, missing, short), the idle expiry, logout and
 * the end of an operator's sessions, a full table, and the lockout after
 * repeated failed logins. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "app/sessions.h"

static const char *cookie_of(const sessions_entry_t *session, char *buf, size_t size)
{
    snprintf(buf, size, "lang=en; %s=%s; other=1", SESSIONS_COOKIE, session->id);
    return buf;
}

static void test_login_cookie_and_csrf(void **state)
{
    (void)state;
    sessions_t *sessions = sessions_new(NULL);
    assert_non_null(sessions);
    const sessions_entry_t *a = sessions_open(sessions, "wang", 1000);
    char id_a[SESSIONS_TOKEN_HEX + 1], csrf_a[SESSIONS_TOKEN_HEX + 1], cookie[256];
    snprintf(id_a, sizeof id_a, "%s", a->id);
    snprintf(csrf_a, sizeof csrf_a, "%s", a->csrf);
    assert_int_equal(strlen(id_a), SESSIONS_TOKEN_HEX);
    assert_string_not_equal(id_a, csrf_a);
    const sessions_entry_t *b = sessions_open(sessions, "li", 1000);
    assert_string_not_equal(b->id, id_a);

    snprintf(cookie, sizeof cookie, "%s=%s", SESSIONS_COOKIE, id_a);
    const sessions_entry_t *found = sessions_find(sessions, cookie, 2000);
    assert_non_null(found);
    assert_string_equal(found->who, "wang");
    assert_true(sessions_csrf_ok(found, csrf_a));
    assert_false(sessions_csrf_ok(found, b->csrf));
    assert_false(sessions_csrf_ok(found, ""));
    assert_false(sessions_csrf_ok(found, "abc"));
    assert_false(sessions_csrf_ok(NULL, csrf_a));

    assert_string_equal(sessions_find(sessions, cookie_of(b, cookie, sizeof cookie), 2000)->who,
                        "li");
    assert_null(sessions_find(sessions, "", 2000));
    assert_null(sessions_find(sessions, "shifan_session=abc", 2000));
    snprintf(cookie, sizeof cookie, "%s=%.*s0", SESSIONS_COOKIE, SESSIONS_TOKEN_HEX - 1,
             id_a); /* one digit changed or added */
    if (id_a[SESSIONS_TOKEN_HEX - 1] == '0')
        cookie[strlen(cookie) - 1] = '1';
    assert_null(sessions_find(sessions, cookie, 2000));
    sessions_destroy(&sessions);
    assert_null(sessions);
}

static void test_expiry_logout_and_removal(void **state)
{
    (void)state;
    sessions_t *sessions = sessions_new(NULL);
    char cookie[256], cookie2[256], cookie3[256];
    cookie_of(sessions_open(sessions, "wang", 0), cookie, sizeof cookie);
    /* Seen within the idle time: kept, and the idle time starts again. */
    assert_non_null(sessions_find(sessions, cookie, SESSIONS_IDLE_MS - 1));
    assert_non_null(sessions_find(sessions, cookie, 2 * SESSIONS_IDLE_MS - 2));
    assert_null(sessions_find(sessions, cookie, 3 * SESSIONS_IDLE_MS));
    assert_null(sessions_find(sessions, cookie, 3 * SESSIONS_IDLE_MS + 1)); /* gone */

    const sessions_entry_t *s = sessions_open(sessions, "wang", 0);
    cookie_of(s, cookie, sizeof cookie);
    sessions_close(sessions, s->id);
    assert_null(sessions_find(sessions, cookie, 1));

    cookie_of(sessions_open(sessions, "wang", 0), cookie, sizeof cookie);
    cookie_of(sessions_open(sessions, "wang", 0), cookie2, sizeof cookie2);
    cookie_of(sessions_open(sessions, "li", 0), cookie3, sizeof cookie3);
    sessions_close_operator(sessions, "wang");
    assert_null(sessions_find(sessions, cookie, 1));
    assert_null(sessions_find(sessions, cookie2, 1));
    assert_non_null(sessions_find(sessions, cookie3, 1));
    sessions_destroy(&sessions);
}

/* A full table ends the session seen longest ago, not a fresh one. */
static void test_full_table(void **state)
{
    (void)state;
    sessions_t *sessions = sessions_new(NULL);
    char first[256], second[256], name[16];
    cookie_of(sessions_open(sessions, "first", 0), first, sizeof first);
    cookie_of(sessions_open(sessions, "second", 1), second, sizeof second);
    for (int i = 2; i < SESSIONS_MAX; i++) {
        snprintf(name, sizeof name, "op%d", i);
        sessions_open(sessions, name, 2 + i);
    }
    assert_non_null(sessions_find(sessions, first, 10000)); /* now the most recent */
    sessions_open(sessions, "one more", 10001);
    assert_non_null(sessions_find(sessions, first, 10002));
    assert_null(sessions_find(sessions, second, 10002));
    sessions_destroy(&sessions);
}

static void test_lockout(void **state)
{
    (void)state;
    sessions_t *sessions = sessions_new(NULL);
    for (int i = 0; i < SESSIONS_FREE_FAILURES; i++) {
        assert_int_equal(sessions_login_wait_ms(sessions, "wang", 100), 0);
        sessions_login_failed(sessions, "wang", 100);
    }
    assert_int_equal(sessions_login_wait_ms(sessions, "wang", 100), SESSIONS_LOCK_MS);
    assert_int_equal(sessions_login_wait_ms(sessions, "wang", 100 + SESSIONS_LOCK_MS - 1), 1);
    assert_int_equal(sessions_login_wait_ms(sessions, "li", 100), 0); /* per name */
    assert_int_equal(sessions_login_wait_ms(sessions, "wang", 100 + SESSIONS_LOCK_MS), 0);
    sessions_login_failed(sessions, "wang", 50000); /* still counted: locked again */
    assert_true(sessions_login_wait_ms(sessions, "wang", 50000) > 0);
    sessions_login_succeeded(sessions, "wang");
    assert_int_equal(sessions_login_wait_ms(sessions, "wang", 50000), 0);
    /* Many other names forget the oldest, never overflow. */
    char name[16];
    for (int i = 0; i < 200; i++) {
        snprintf(name, sizeof name, "guess%d", i);
        sessions_login_failed(sessions, name, 60000 + i);
    }
    sessions_destroy(&sessions);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_login_cookie_and_csrf),
        cmocka_unit_test(test_expiry_logout_and_removal),
        cmocka_unit_test(test_full_table),
        cmocka_unit_test(test_lockout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
