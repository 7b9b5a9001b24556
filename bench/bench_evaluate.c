/* bench_evaluate: the time of one evaluation over a node's store, as
 * `evaluate` makes it (node_evaluate: load, engine, the province's
 * signature and time check) and as it is written (render_json), without the
 * process's start and the programme's loading that a command's wall time
 * also counts.
 *
 *   build/bin/bench_evaluate --data DIR --role province [--year Y] [--runs N]
 *
 * Prints `evaluate_ms_min`, `evaluate_ms_median`, `render_json_ms_median`
 * and `units`. No daemon may write DIR meanwhile. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "domain/engine.h"
#include "domain/render.h"
#include "app/node.h"

static int compare_ms(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int main(int argc, char **argv)
{
    const char *data = NULL, *role_name = "province";
    int year = 2018, runs = 50;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--data") == 0)
            data = argv[i + 1];
        else if (strcmp(argv[i], "--role") == 0)
            role_name = argv[i + 1];
        else if (strcmp(argv[i], "--year") == 0)
            year = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--runs") == 0)
            runs = atoi(argv[i + 1]);
    }
    node_role_t role = strcmp(role_name, "county") == 0       ? ROLE_COUNTY
                       : strcmp(role_name, "prefecture") == 0 ? ROLE_PREFECTURE
                                                              : ROLE_PROVINCE;
    if (!data || runs < 1 || runs > 10000) {
        fprintf(stderr, "usage: bench_evaluate --data DIR [--role R] [--year Y] [--runs N]\n");
        return 2;
    }
    sf_error_t error = {0, ""};
    node_t *node = node_open(data, role, &error);
    if (!node) {
        fprintf(stderr, "bench_evaluate: %s\n", error.text);
        return 1;
    }
    int64_t *evaluate_us = calloc((size_t)runs, sizeof *evaluate_us);
    int64_t *render_us = calloc((size_t)runs, sizeof *render_us);
    size_t units = 0;
    char err[512];
    for (int r = 0; r < runs; r++) {
        engine_result_t *result = NULL;
        int64_t start = now_us();
        if (node_evaluate(node, year, NULL, &result, err, sizeof err)) {
            fprintf(stderr, "bench_evaluate: %s\n", err);
            return 1;
        }
        int64_t evaluated = now_us();
        char *json = NULL;
        render_json(result, &json, NULL);
        render_us[r] = now_us() - evaluated;
        evaluate_us[r] = evaluated - start;
        units = engine_result_unit_count(result);
        free(json);
        engine_result_destroy(&result);
    }
    qsort(evaluate_us, (size_t)runs, sizeof *evaluate_us, compare_ms);
    qsort(render_us, (size_t)runs, sizeof *render_us, compare_ms);
    printf("evaluate_ms_min %.2f\n", (double)evaluate_us[0] / 1000);
    printf("evaluate_ms_median %.2f\n", (double)evaluate_us[runs / 2] / 1000);
    printf("render_json_ms_median %.2f\n", (double)render_us[runs / 2] / 1000);
    printf("units %zu\n", units);
    free(evaluate_us);
    free(render_us);
    node_destroy(&node);
    return 0;
}
