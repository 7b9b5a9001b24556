/* bench_fill: queues N reports of about S bytes each in a county node's
 * outbox, 1000 per durable transaction, for bench/bench_link.sh.
 *
 *   build/bin/bench_fill --data DIR [--count N] [--size S]
 *
 * Each report is a full self-assessment of the node's unit (38 criteria)
 * whose comment pads the serialized payload to S bytes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/stime.h"
#include "domain/report.h"
#include "app/node.h"

static const char *report_template =
    "{\"year\":2018,\"values\":{\"1.1\":true,\"1.2a\":true,\"1.2b\":true,\"1.2c\":3,\"1.3\":true,"
    "\"1.4a\":true,\"1.4b\":2,\"1.5\":true,\"2.1\":{\"num\":912,\"den\":1000},\"2.2\":{\"num\":850,"
    "\"den\":1000},\"2.3\":{\"num\":960,\"den\":1000},\"2.4\":{\"num\":930,\"den\":1000},\"2.5\":{"
    "\"num\":880,\"den\":1000},\"2.6\":{\"num\":870,\"den\":1000},\"2.7\":{\"num\":50,\"den\":50},"
    "\"2.8\":{\"num\":970,\"den\":1000},\"3.1\":true,\"3.2\":true,\"3.3a\":true,\"3.3b\":3,\"3.4\":"
    "true,\"3.5\":6,\"3.6\":2,\"4.1\":true,\"4.2\":true,\"4.3\":true,\"4.4\":true,\"4.5\":true,"
    "\"5.1\":true,\"5.2\":true,\"5.3\":2,\"5.4a\":1,\"5.4b\":1,\"5.4c\":12,\"5.5\":true,\"6.1\":{"
    "\"num\":95,\"den\":100},\"6.2\":{\"num\":92,\"den\":100},\"6.3\":{\"num\":97,\"den\":100}},"
    "\"comments\":{\"2.1\":\"%s\"}}";

int main(int argc, char **argv)
{
    const char *data = NULL;
    long count = 10000, size = 1024;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--data") == 0)
            data = argv[i + 1];
        else if (strcmp(argv[i], "--count") == 0)
            count = atol(argv[i + 1]);
        else if (strcmp(argv[i], "--size") == 0)
            size = atol(argv[i + 1]);
    }
    if (!data || count <= 0 || size < 300 || size > 60000) {
        fprintf(stderr, "usage: bench_fill --data DIR [--count N] [--size S>=300]\n");
        return 2;
    }
    char err[512];
    int rc;
    sf_error_t error = {0, ""};
    node_t *node = node_open(data, ROLE_COUNTY, &error);
    if (!node) {
        fprintf(stderr, "bench_fill: %s\n", error.text);
        return 1;
    }
    /* The template without comment serializes to about 330 bytes. */
    size_t pad = (size_t)size > 360 ? (size_t)size - 360 : 1;
    char *padding = malloc(pad + 1);
    memset(padding, 'x', pad);
    padding[pad] = '\0';
    size_t text_size = strlen(report_template) + pad + 1;
    char *text = malloc(text_size);
    snprintf(text, text_size, report_template, padding);
    enum { BATCH = 1000 };
    report_t *batch[BATCH];
    int64_t start = stime_mono_ms();
    for (long done = 0; done < count;) {
        size_t n = (size_t)(count - done < BATCH ? count - done : BATCH);
        for (size_t i = 0; i < n; i++) {
            batch[i] = report_load(text, strlen(text), "bench", node_code(node),
                                   node_programme(node), &error);
            if (!batch[i]) {
                fprintf(stderr, "bench_fill: %s\n", error.text);
                return 1;
            }
        }
        rc = node_submit_many(node, batch, n, err, sizeof err);
        for (size_t i = 0; i < n; i++)
            report_destroy(&batch[i]);
        if (rc) {
            fprintf(stderr, "bench_fill: %s\n", err);
            return 1;
        }
        done += (long)n;
    }
    int64_t elapsed = stime_mono_ms() - start;
    printf("filled %ld reports in %lld ms\n", count, (long long)elapsed);
    free(text);
    free(padding);
    node_destroy(&node);
    return 0;
}
