/* bench_engine.c - how long one evaluation takes at national scale.
 *
 *   ./scripts/build.sh build && ./build/bin/bench_engine [runs]
 *
 * Builds a synthetic programme in memory (one root, 340 prefectures, 2,850
 * counties, 4 years, 38 criteria in 19 items) and loads it with
 * programme_load_json, generates one or two report versions per county-year
 * plus a few inspections and returns, then times engine_evaluate for the
 * last year (which evaluates all four years) and render_json. Prints the
 * median and range of `runs` runs (default 9); never asserts on time. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/stime.h"
#include "domain/engine.h"
#include "domain/render.h"

#define PREFECTURES 340
#define COUNTIES 2850
#define FIRST_YEAR 2017
#define YEARS 4
#define ITEMS 19 /* two criteria each: 38 */

typedef struct {
    char *data;
    size_t len, cap;
} buf_t;

static void put(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(buf_t *b, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        b->cap = b->cap * 2 + (size_t)(n > 0 ? n : 0) + 4096;
        b->data = realloc(b->data, b->cap);
        if (!b->data) {
            perror("realloc");
            exit(1);
        }
    }
}

static uint64_t next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Criterion c (0..37): item c/2 in section c/10 + 1; kinds rotate
 * bool, count, ratio so 12-13 of each; one ratio is "== 100". */
static void criterion_shape(int c, const char **kind, const char **op, double *threshold)
{
    switch (c % 3) {
    case 0:
        *kind = "bool", *op = "==", *threshold = 1;
        break;
    case 1:
        *kind = "count", *op = ">=", *threshold = 1 + c % 4;
        break;
    default:
        *kind = "ratio", *op = c == 2 ? "==" : ">=", *threshold = c == 2 ? 100 : 80 + c % 15;
        break;
    }
}

static char *programme_text(void)
{
    buf_t b = {0};
    put(&b,
        "{\"format\":1,\"id\":\"bench\",\"title\":\"基准\",\"revision\":1,"
        "\"standard_id\":\"bench-std\",\"years\":{\"first\":%d,\"last\":%d},"
        "\"evaluated_level\":\"county\",\"tolerance_pp\":5,\"late_disqualifies\":false,"
        "\"calendar\":[{\"stage\":\"self_assessment\",\"deadline\":\"07-31\",\"title_zh\":"
        "\"自评\"},{\"stage\":\"recommendation\",\"deadline\":\"09-30\",\"title_zh\":\"推荐\"},"
        "{\"stage\":\"materials\",\"deadline\":\"11-20\",\"title_zh\":\"材料\"},"
        "{\"stage\":\"evaluation\",\"deadline\":\"11-30\",\"title_zh\":\"评估\"}],"
        "\"targets\":[{\"id\":\"demonstration\",\"kind\":\"count\",\"of\":\"demonstration\","
        "\"value\":1000,\"by\":%d,\"title_zh\":\"示范县\"}],\"quotas\":{",
        FIRST_YEAR, FIRST_YEAR + YEARS - 1, FIRST_YEAR + YEARS - 1);
    for (int p = 0; p < PREFECTURES; p++) {
        put(&b, "%s\"%06d\":{", p ? "," : "", 100000 + (p + 1) * 100);
        for (int y = 0; y < YEARS; y++)
            put(&b, "%s\"%d\":%d", y ? "," : "", FIRST_YEAR + y, 1 + (p + y) % 2);
        put(&b, "}");
    }
    put(&b, "},\"national_quota\":{");
    for (int y = 0; y < YEARS; y++)
        put(&b, "%s\"%d\":50", y ? "," : "", FIRST_YEAR + y);
    put(&b, "},\"standard\":{\"sections\":[");
    for (int s = 1; s <= 4; s++)
        put(&b, "%s{\"id\":\"%d\",\"title_zh\":\"第%d部分\"}", s > 1 ? "," : "", s, s);
    put(&b, "],\"criteria\":[");
    for (int c = 0; c < 2 * ITEMS; c++) {
        const char *kind, *op;
        double threshold;
        criterion_shape(c, &kind, &op, &threshold);
        int section = c / 10 + 1, item = (c % 10) / 2 + 1;
        char threshold_text[32];
        if (strcmp(kind, "bool") == 0)
            snprintf(threshold_text, sizeof threshold_text, "true");
        else
            snprintf(threshold_text, sizeof threshold_text, "%g", threshold);
        put(&b,
            "%s{\"id\":\"%d.%d%c\",\"item\":\"%d.%d\",\"kind\":\"%s\",\"op\":\"%s\","
            "\"threshold\":%s,\"title_zh\":\"指标%d\"}",
            c ? "," : "", section, item, 'a' + c % 2, section, item, kind, op, threshold_text, c);
    }
    put(&b, "]},\"units\":[{\"code\":\"100000\",\"name\":\"全国\",\"level\":\"province\"}");
    for (int p = 0; p < PREFECTURES; p++)
        put(&b,
            ",{\"code\":\"%06d\",\"name\":\"市%d\",\"level\":\"prefecture\",\"parent\":"
            "\"100000\"}",
            100000 + (p + 1) * 100, p);
    for (int c = 0; c < COUNTIES; c++) {
        int p = c % PREFECTURES, k = c / PREFECTURES + 1;
        put(&b, ",{\"code\":\"%06d\",\"name\":\"县%d\",\"level\":\"county\",\"parent\":\"%06d\"}",
            100000 + (p + 1) * 100 + k, c, 100000 + (p + 1) * 100);
    }
    put(&b, "]}");
    return b.data;
}

static report_t *make_report(const programme_t *programme, const char *unit, int year,
                             uint32_t version, uint64_t *prng)
{
    report_t *r = report_new(NULL);
    snprintf(r->unit, sizeof r->unit, "%s", unit);
    snprintf(r->origin, sizeof r->origin, "%s", unit);
    snprintf(r->report_id, sizeof r->report_id, "%s-%d-v%u", unit, year, (unsigned)version);
    r->year = year;
    r->version = version;
    r->submitted_at = stime_parse("2017-07-01", &r->submitted_at) == 0
                          ? r->submitted_at + (int64_t)(year - FIRST_YEAR) * 365 * 86400 +
                                (int64_t)(next(prng) % (50 * 86400))
                          : 0;
    size_t n = programme_criterion_count(programme);
    r->values = calloc(n, sizeof *r->values);
    r->value_count = n;
    for (size_t c = 0; c < n; c++) {
        const programme_criterion_t *criterion = programme_criterion(programme, c);
        report_value_t *v = &r->values[c];
        snprintf(v->criterion, sizeof v->criterion, "%s", criterion->id);
        v->kind = criterion->kind;
        /* Mostly passing, so rankings have many candidates. */
        bool fail = next(prng) % 200 == 0;
        switch (criterion->kind) {
        case CRITERION_BOOL:
            v->flag = !fail;
            break;
        case CRITERION_COUNT:
            v->count = fail ? 0 : (uint64_t)criterion->threshold + next(prng) % 5;
            break;
        case CRITERION_RATIO:
            v->den = 1000 + next(prng) % 20000;
            v->num = criterion->op == OP_EQ && !fail
                         ? v->den
                         : v->den * (uint64_t)(fail ? 50 : criterion->threshold + 1) / 100 +
                               next(prng) % (v->den / 100 + 1);
            if (v->num > v->den)
                v->num = v->den;
            break;
        }
    }
    return r;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int compare_ms(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    int runs = argc > 1 ? atoi(argv[1]) : 9;
    if (runs < 1 || runs > 1000)
        runs = 9;
    char *text = programme_text();
    char err[512] = "";
    sf_error_t error;
    double t0 = now_ms();
    programme_t *programme = programme_load_json(text, strlen(text), "bench", &error);
    double load_ms = now_ms() - t0;
    free(text);
    if (!programme) {
        fprintf(stderr, "bench programme: %s\n", error.text);
        return 1;
    }
    engine_input_t *input = engine_input_new(programme, NULL);
    uint64_t prng = 42;
    size_t versions = 0;
    t0 = now_ms();
    for (size_t u = 0; u < programme_unit_count(programme); u++) {
        const programme_unit_t *unit = programme_unit(programme, u);
        if (!unit->evaluated)
            continue;
        for (int y = FIRST_YEAR; y < FIRST_YEAR + YEARS; y++) {
            if (next(&prng) % 50 == 0)
                continue; /* 2 % never report */
            uint32_t count = next(&prng) % 10 == 0 ? 2 : 1;
            for (uint32_t v = 1; v <= count; v++) {
                report_t *r = make_report(programme, unit->code, y, v, &prng);
                if (engine_input_add_report(input, r, r->submitted_at + 3600) == 0)
                    versions++;
                if (next(&prng) % 20 == 0)
                    engine_input_add_inspection(input, r, ENGINE_TIER_PREFECTURE);
                report_destroy(&r);
            }
        }
    }
    double input_ms = now_ms() - t0;

    double *ms = calloc((size_t)runs, sizeof *ms), *render_ms = calloc((size_t)runs, sizeof *ms);
    size_t json_bytes = 0, demonstration = 0;
    int64_t now = 0;
    stime_parse("2020-11-30", &now);
    for (int i = 0; i < runs; i++) {
        engine_result_t *result = NULL;
        double start = now_ms();
        if (engine_evaluate(input, FIRST_YEAR + YEARS - 1, now, NULL, &result, err, sizeof err)) {
            fprintf(stderr, "evaluate: %s\n", err);
            return 1;
        }
        double mid = now_ms();
        char *json = NULL;
        render_json(result, &json, &json_bytes);
        double end = now_ms();
        ms[i] = mid - start;
        render_ms[i] = end - mid;
        demonstration = engine_result_province(result)->progress[YEARS - 1].demonstration_total;
        free(json);
        engine_result_destroy(&result);
    }
    qsort(ms, (size_t)runs, sizeof *ms, compare_ms);
    qsort(render_ms, (size_t)runs, sizeof *ms, compare_ms);
    printf("programme: %zu units, %zu criteria, %zu items; loaded in %.1f ms\n",
           programme_unit_count(programme), programme_criterion_count(programme),
           programme_item_count(programme), load_ms);
    printf("input: %zu report versions over %d years added in %.1f ms\n", versions, YEARS,
           input_ms);
    printf("engine_evaluate (all %d years, whole province): median %.1f ms (min %.1f, max %.1f) "
           "over %d runs\n",
           YEARS, ms[runs / 2], ms[0], ms[runs - 1], runs);
    printf("render_json of the last year: median %.1f ms, %zu bytes; %zu demonstration units "
           "in %d years\n",
           render_ms[runs / 2], json_bytes, demonstration, YEARS);
    free(ms);
    free(render_ms);
    engine_input_destroy(&input);
    programme_destroy(&programme);
    return 0;
}
