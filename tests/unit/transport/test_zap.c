/* The ZAP handler (zap.h) on real sockets: a CURVE server made with
 * zap_secure_server() on loopback, clients with real key pairs, and the
 * handler answering from this test's loop. An allowed key's messages carry
 * "<code>:<key>" as User-Id; an unknown key never gets a message through
 * and is counted; a replaced table takes effect for the next handshake. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "base/error.h"
#include "base/stime.h"
#include "transport/keys.h"
#include "transport/zap.h"

#define CODE "530102"

typedef struct {
    void *ctx;
    zap_t *zap;
    void *server;
    char endpoint[128];
    keys_pair_t server_keys, client_keys, other_keys;
    char received[64]; /* body of the last message the server got */
    char user_id[128]; /* its User-Id */
    /* Sockets a test opened, closed by teardown even when an assertion
     * ends the test early (the context cannot terminate with one open). */
    void *sockets[8];
    int socket_count;
} fixture_t;

static void *open_socket(fixture_t *f, int type)
{
    assert_true(f->socket_count < 8);
    void *socket = zmq_socket(f->ctx, type);
    assert_non_null(socket);
    int linger = 0;
    zmq_setsockopt(socket, ZMQ_LINGER, &linger, sizeof linger);
    f->sockets[f->socket_count++] = socket;
    return socket;
}

static zap_entry_t entry_for(const keys_pair_t *keys, const char *code)
{
    zap_entry_t entry;
    assert_int_equal(keys_decode(keys->public_z85, entry.key), 0);
    snprintf(entry.code, sizeof entry.code, "%s", code);
    return entry;
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    assert_int_equal(zmq_curve_keypair(f->server_keys.public_z85, f->server_keys.secret_z85), 0);
    assert_int_equal(zmq_curve_keypair(f->client_keys.public_z85, f->client_keys.secret_z85), 0);
    assert_int_equal(zmq_curve_keypair(f->other_keys.public_z85, f->other_keys.secret_z85), 0);
    f->ctx = zmq_ctx_new();
    assert_non_null(f->ctx);
    sf_error_t error = {0};
    f->zap = zap_new(f->ctx, &error);
    assert_non_null(f->zap);
    f->server = open_socket(f, ZMQ_ROUTER);
    assert_int_equal(zap_secure_server(f->server, f->server_keys.secret_z85), 0);
    assert_int_equal(zmq_bind(f->server, "tcp://127.0.0.1:*"), 0);
    size_t size = sizeof f->endpoint;
    assert_int_equal(zmq_getsockopt(f->server, ZMQ_LAST_ENDPOINT, f->endpoint, &size), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    for (int i = 0; i < f->socket_count; i++)
        zmq_close(f->sockets[i]);
    zap_destroy(&f->zap);
    assert_null(f->zap);
    zmq_ctx_term(f->ctx);
    free(f);
    return 0;
}

/* A CURVE client with keys, connected to the server, with `text` queued:
 * libzmq sends it once (and only if) the handshake succeeds. */
static void *client_with(fixture_t *f, const keys_pair_t *keys, const char *text)
{
    uint8_t server_key[32], public_key[32], secret_key[32];
    keys_decode(f->server_keys.public_z85, server_key);
    keys_decode(keys->public_z85, public_key);
    keys_decode(keys->secret_z85, secret_key);
    void *client = open_socket(f, ZMQ_DEALER);
    zmq_setsockopt(client, ZMQ_CURVE_SERVERKEY, server_key, 32);
    zmq_setsockopt(client, ZMQ_CURVE_PUBLICKEY, public_key, 32);
    zmq_setsockopt(client, ZMQ_CURVE_SECRETKEY, secret_key, 32);
    assert_int_equal(zmq_connect(client, f->endpoint), 0);
    assert_int_equal(zmq_send(client, text, strlen(text), 0), (int)strlen(text));
    return client;
}

/* Serves ZAP and reads the server for up to ms, or until a message arrived
 * (true) or zap_refused() reached refusals (if not 0). */
static bool serve(fixture_t *f, int ms, uint64_t refusals)
{
    int64_t end = stime_mono_ms() + ms;
    while (stime_mono_ms() < end) {
        zmq_pollitem_t items[] = {{zap_socket(f->zap), 0, ZMQ_POLLIN, 0},
                                  {f->server, 0, ZMQ_POLLIN, 0}};
        zmq_poll(items, 2, 20);
        zap_handle(f->zap);
        zmq_msg_t rid, body;
        zmq_msg_init(&rid);
        zmq_msg_init(&body);
        if (zmq_msg_recv(&rid, f->server, ZMQ_DONTWAIT) >= 0) {
            assert_true(zmq_msg_more(&rid));
            assert_true(zmq_msg_recv(&body, f->server, 0) >= 0);
            snprintf(f->received, sizeof f->received, "%.*s", (int)zmq_msg_size(&body),
                     (const char *)zmq_msg_data(&body));
            const char *user_id = zmq_msg_gets(&body, "User-Id");
            snprintf(f->user_id, sizeof f->user_id, "%s", user_id ? user_id : "");
            zmq_msg_close(&rid);
            zmq_msg_close(&body);
            return true;
        }
        zmq_msg_close(&rid);
        zmq_msg_close(&body);
        if (refusals && zap_refused(f->zap) >= refusals)
            return false;
    }
    return false;
}

static void an_allowed_key_connects_and_carries_its_code_as_user_id(void **state)
{
    fixture_t *f = *state;
    zap_entry_t entry = entry_for(&f->client_keys, CODE);
    assert_int_equal(zap_set_entries(f->zap, &entry, 1), 0);
    client_with(f, &f->client_keys, "hello");
    assert_true(serve(f, 3000, 0));
    assert_string_equal(f->received, "hello");
    char expected[128];
    snprintf(expected, sizeof expected, "%s:%s", CODE, f->client_keys.public_z85);
    assert_string_equal(f->user_id, expected);
    assert_int_equal(zap_accepted(f->zap), 1);
    assert_int_equal(zap_refused(f->zap), 0);
}

static void an_unknown_key_is_refused_and_counted(void **state)
{
    fixture_t *f = *state;
    zap_entry_t entry = entry_for(&f->client_keys, CODE);
    assert_int_equal(zap_set_entries(f->zap, &entry, 1), 0);
    client_with(f, &f->other_keys, "intruder");
    assert_false(serve(f, 3000, 1));
    assert_true(zap_refused(f->zap) >= 1);
    /* Nothing of it reaches the server afterwards either. */
    assert_false(serve(f, 300, 0));
    assert_int_equal(zap_accepted(f->zap), 0);
}

static void an_empty_table_refuses_every_key(void **state)
{
    fixture_t *f = *state;
    client_with(f, &f->client_keys, "hello");
    assert_false(serve(f, 3000, 1));
    assert_true(zap_refused(f->zap) >= 1);
    assert_int_equal(zap_accepted(f->zap), 0);
}

static void replaced_entries_decide_the_next_handshake(void **state)
{
    fixture_t *f = *state;
    zap_entry_t old_entry = entry_for(&f->client_keys, CODE);
    assert_int_equal(zap_set_entries(f->zap, &old_entry, 1), 0);
    /* The unit got a new key: the table now holds that one only. */
    zap_entry_t new_entry = entry_for(&f->other_keys, CODE);
    assert_int_equal(zap_set_entries(f->zap, &new_entry, 1), 0);
    client_with(f, &f->client_keys, "old key");
    assert_false(serve(f, 3000, 1));
    client_with(f, &f->other_keys, "new key");
    assert_true(serve(f, 3000, 0));
    assert_string_equal(f->received, "new key");
    char expected[128];
    snprintf(expected, sizeof expected, "%s:%s", CODE, f->other_keys.public_z85);
    assert_string_equal(f->user_id, expected);
    assert_int_equal(zap_accepted(f->zap), 1);
}

static void is_current_only_for_the_registered_code_and_key(void **state)
{
    fixture_t *f = *state;
    assert_false(zap_is_current(f->zap, CODE, f->client_keys.public_z85)); /* empty table */
    zap_entry_t entries[] = {entry_for(&f->client_keys, CODE), entry_for(&f->other_keys, "530103")};
    assert_int_equal(zap_set_entries(f->zap, entries, 2), 0);
    assert_true(zap_is_current(f->zap, CODE, f->client_keys.public_z85));
    assert_true(zap_is_current(f->zap, "530103", f->other_keys.public_z85));
    assert_false(zap_is_current(f->zap, "530103", f->client_keys.public_z85));
    assert_false(zap_is_current(f->zap, CODE, f->server_keys.public_z85));
    assert_false(zap_is_current(f->zap, CODE, NULL));
    assert_false(zap_is_current(f->zap, CODE, "short"));
    char bad[64];
    snprintf(bad, sizeof bad, "%.39s~", f->client_keys.public_z85);
    assert_false(zap_is_current(f->zap, CODE, bad));
    /* Replaced: the old pair is no longer current. */
    assert_int_equal(zap_set_entries(f->zap, &entries[1], 1), 0);
    assert_false(zap_is_current(f->zap, CODE, f->client_keys.public_z85));
    assert_true(zap_is_current(f->zap, "530103", f->other_keys.public_z85));
    assert_int_equal(zap_set_entries(f->zap, NULL, 0), 0);
    assert_false(zap_is_current(f->zap, "530103", f->other_keys.public_z85));
}

/* A request that is not CURVE (here: NULL, six frames) is answered 400. */
static void a_malformed_request_is_refused(void **state)
{
    fixture_t *f = *state;
    void *req = open_socket(f, ZMQ_REQ);
    int timeout = 2000;
    zmq_setsockopt(req, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    assert_int_equal(zmq_connect(req, "inproc://zeromq.zap.01"), 0);
    const char *frames[] = {"1.0", "7", ZAP_DOMAIN, "127.0.0.1", "", "NULL"};
    for (int i = 0; i < 6; i++)
        zmq_send(req, frames[i], strlen(frames[i]), i < 5 ? ZMQ_SNDMORE : 0);
    zmq_pollitem_t item = {zap_socket(f->zap), 0, ZMQ_POLLIN, 0};
    assert_int_equal(zmq_poll(&item, 1, 2000), 1);
    zap_handle(f->zap);
    char reply[6][32];
    for (int i = 0; i < 6; i++) {
        int n = zmq_recv(req, reply[i], sizeof reply[i] - 1, 0);
        assert_true(n >= 0);
        reply[i][n] = '\0';
    }
    assert_string_equal(reply[0], "1.0");
    assert_string_equal(reply[1], "7"); /* the request id, echoed */
    assert_string_equal(reply[2], "400");
    assert_int_equal(zap_refused(f->zap), 1);
    assert_int_equal(zap_accepted(f->zap), 0);
}

static void a_second_handler_in_a_context_is_refused(void **state)
{
    fixture_t *f = *state;
    sf_error_t error = {0};
    assert_null(zap_new(f->ctx, &error));
    assert_int_equal(error.code, SF_ESTATE);
    assert_true(strlen(error.text) > 0);
    assert_null(zap_new(f->ctx, NULL)); /* error may be NULL */
}

static void a_secure_server_needs_a_valid_secret(void **state)
{
    fixture_t *f = *state;
    void *socket = open_socket(f, ZMQ_ROUTER);
    assert_int_equal(zap_secure_server(socket, "not a key"), SF_EINVAL);
    /* 45 valid Z85 characters: refused before anything is decoded. */
    char long_key[64];
    snprintf(long_key, sizeof long_key, "%.40s12345", f->server_keys.secret_z85);
    assert_int_equal(zap_secure_server(socket, long_key), SF_EINVAL);
    assert_int_equal(zap_secure_server(socket, f->server_keys.secret_z85), 0);
    int enforce = 0;
    size_t size = sizeof enforce;
    assert_int_equal(zmq_getsockopt(socket, 93 /* ZMQ_ZAP_ENFORCE_DOMAIN */, &enforce, &size), 0);
    assert_int_equal(enforce, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(an_allowed_key_connects_and_carries_its_code_as_user_id,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(an_unknown_key_is_refused_and_counted, setup, teardown),
        cmocka_unit_test_setup_teardown(an_empty_table_refuses_every_key, setup, teardown),
        cmocka_unit_test_setup_teardown(replaced_entries_decide_the_next_handshake, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(is_current_only_for_the_registered_code_and_key, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_malformed_request_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(a_second_handler_in_a_context_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(a_secure_server_needs_a_valid_secret, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
