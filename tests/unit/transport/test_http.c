/* transport/http: the console's server driven from this one thread, as the
 * daemon's loop drives it: loopback only (any other address refused with
 * the reason), a request reaches the handler parsed (method, path, query,
 * headers, body) and its response goes back with status, type and headers,
 * and a body over HTTP_BODY_MAX is answered 413 without the handler. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/error.h"
#include "transport/http.h"

typedef struct {
    int calls;
    char method[16], path[64], a[16], b[16], type[64], body[64], csrf[16];
} seen_t;

static void handler(void *arg, const http_request_t *request, http_response_t *response)
{
    seen_t *seen = arg;
    seen->calls++;
    snprintf(seen->method, sizeof seen->method, "%s", request->method);
    snprintf(seen->path, sizeof seen->path, "%s", request->path);
    const char *a = http_request_param(request, "a"), *b = http_request_param(request, "b");
    snprintf(seen->a, sizeof seen->a, "%s", a ? a : "(none)");
    snprintf(seen->b, sizeof seen->b, "%s", b ? b : "(none)");
    snprintf(seen->type, sizeof seen->type, "%s", request->content_type);
    snprintf(seen->csrf, sizeof seen->csrf, "%s", request->csrf_token);
    snprintf(seen->body, sizeof seen->body, "%.*s", (int)request->body_len, request->body);
    char *body = strdup("created");
    http_response_take(response, 201, "text/plain; charset=utf-8", body, strlen(body));
    assert_true(http_response_header(response, "X-Test", "yes"));
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof addr;
    assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof addr), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&addr, &len), 0);
    close(fd);
    return ntohs(addr.sin_port);
}

/* Sends request (len bytes) and reads the answer into out, serving the
 * server in between as net_serve would; returns the answer's length. */
static size_t exchange(http_t *http, int port, const char *request, size_t len, char *out,
                       size_t size)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET,
                               .sin_port = htons((uint16_t)port),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(connect(fd, (struct sockaddr *)&addr, sizeof addr), 0);
    fcntl(fd, F_SETFL, O_NONBLOCK);
    size_t sent = 0, got = 0;
    for (int round = 0; round < 2000; round++) {
        ssize_t n = sent < len ? send(fd, request + sent, len - sent, MSG_NOSIGNAL) : 0;
        if (n > 0)
            sent += (size_t)n;
        struct pollfd wait = {http_fd(http), POLLIN, 0};
        int timeout = http_timeout_ms(http);
        poll(&wait, 1, timeout >= 0 && timeout < 5 ? timeout : 5);
        http_run(http);
        n = recv(fd, out + got, size - 1 - got, 0);
        if (n > 0)
            got += (size_t)n;
        else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
            break;
    }
    close(fd);
    out[got] = '\0';
    return got;
}

static void test_only_loopback(void **state)
{
    (void)state;
    seen_t seen = {0};
    sf_error_t error = {0, ""};
    assert_null(http_new("0.0.0.0:8080", false, handler, &seen, &error));
    assert_int_equal(error.code, SF_EINVAL);
    assert_non_null(strstr(error.text, "loopback only"));
    assert_null(http_new("192.168.1.5:8080", false, handler, &seen, &error));
    assert_int_equal(error.code, SF_EINVAL);
    assert_null(http_new("127.0.0.1:0", true, handler, &seen, &error));
    assert_non_null(strstr(error.text, "a port 1-65535"));
    assert_null(http_new("127.0.0.1", true, handler, &seen, &error));
    assert_int_equal(error.code, SF_EINVAL);
    assert_null(http_new("example.org:8080", true, handler, &seen, &error));
    assert_non_null(strstr(error.text, "no host names"));
}

/* Which addresses are loopback: the whole of 127.0.0.0/8, ::1, localhost. */
static void test_address_check(void **state)
{
    (void)state;
    static const struct {
        const char *address;
        bool loopback;
    } cases[] = {{"127.0.0.1:80", true},     {"127.0.0.2:80", true},  {"localhost:80", true},
                 {"[::1]:80", true},         {"0.0.0.0:80", false},   {"[::]:80", false},
                 {"192.168.1.10:80", false}, {"[fe80::1]:80", false}, {"128.0.0.1:80", false}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bool loopback = !cases[i].loopback;
        sf_error_t error = {0, ""};
        assert_int_equal(http_address_check(cases[i].address, &loopback, &error), 0);
        assert_int_equal(loopback, cases[i].loopback);
    }
    bool loopback;
    assert_int_equal(http_address_check("[::1:80", &loopback, NULL), SF_EINVAL);
    assert_int_equal(http_address_check("1.2.3:80", &loopback, NULL), SF_EINVAL);
}

static void test_request_and_response(void **state)
{
    (void)state;
    seen_t seen = {0};
    sf_error_t error = {0, ""};
    int port = free_port();
    char address[32], request[512], answer[4096];
    snprintf(address, sizeof address, "localhost:%d", port);
    http_t *http = http_new(address, false, handler, &seen, &error);
    assert_non_null(http);
    int len = snprintf(request, sizeof request,
                       "POST /api/x?a=1&b=two%%20words HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                       "Content-Type: application/json\r\nContent-Length: 7\r\n"
                       "X-CSRF-Token: t0k3n\r\nConnection: close\r\n\r\n{\"k\":1}",
                       port);
    exchange(http, port, request, (size_t)len, answer, sizeof answer);
    assert_int_equal(seen.calls, 1);
    assert_string_equal(seen.method, "POST");
    assert_string_equal(seen.path, "/api/x");
    assert_string_equal(seen.a, "1");
    assert_string_equal(seen.b, "two words");
    assert_string_equal(seen.type, "application/json");
    assert_string_equal(seen.csrf, "t0k3n");
    assert_string_equal(seen.body, "{\"k\":1}");
    assert_non_null(strstr(answer, "HTTP/1.1 201"));
    assert_non_null(strstr(answer, "X-Test: yes"));
    assert_non_null(strstr(answer, "\r\n\r\ncreated"));
    http_destroy(&http);
    assert_null(http);
}

static void test_body_too_big(void **state)
{
    (void)state;
    seen_t seen = {0};
    sf_error_t error = {0, ""};
    int port = free_port();
    char address[32], answer[4096];
    snprintf(address, sizeof address, "127.0.0.1:%d", port);
    http_t *http = http_new(address, false, handler, &seen, &error);
    assert_non_null(http);
    size_t body = HTTP_BODY_MAX + 1;
    char *request = malloc(body + 256);
    int head = snprintf(request, 256,
                        "POST /api/x HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\n"
                        "Connection: close\r\n\r\n",
                        body);
    memset(request + head, 'x', body);
    exchange(http, port, request, (size_t)head + body, answer, sizeof answer);
    assert_int_equal(seen.calls, 0);
    assert_non_null(strstr(answer, "HTTP/1.1 413"));
    free(request);
    http_destroy(&http);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_only_loopback),
        cmocka_unit_test(test_address_check),
        cmocka_unit_test(test_request_and_response),
        cmocka_unit_test(test_body_too_big),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
