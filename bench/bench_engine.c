/* bench_engine.c - one evaluation at national scale, and writing its JSON.
 *
 *   ./scripts/build.sh build && ./build/bin/bench_engine [runs] [dir]
 *
 * Builds a synthetic programme in memory (one root, 340 prefectures, 2,850
 * counties, 4 years, 38 criteria in 19 items) and loads it with
 * programme_load_json, generates one or two report versions per county-year
 * plus a few inspections, then per run: times engine_evaluate for the last
 * year (which evaluates all four years); render_json into memory;
 * render_json_to /dev/null (the writer's CPU alone); render_json_to a file
 * in `dir` (default /var/tmp) with fflush and fsync; and, for the disk's
 * own rate in the same run, fwrite of the same bytes to another file there
 * with fflush and fsync. Prints `name value` lines: medians and ranges
 * over `runs` runs (default 9), MB = 10^6 bytes; never asserts on time. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

/* name_median, name_min, name_max of `runs` sorted samples. */
static void print_ms(const char *name, double *ms, int runs)
{
    qsort(ms, (size_t)runs, sizeof *ms, compare_ms);
    printf("%s_ms_median %.1f\n%s_ms_min %.1f\n%s_ms_max %.1f\n", name, ms[runs / 2], name, ms[0],
           name, ms[runs - 1]);
}

static void print_rate(const char *name, double *ms, int runs, size_t bytes)
{
    qsort(ms, (size_t)runs, sizeof *ms, compare_ms);
    printf("%s_mb_per_s_median %.0f\n%s_mb_per_s_min %.0f\n%s_mb_per_s_max %.0f\n", name,
           (double)bytes / 1e3 / ms[runs / 2], name, (double)bytes / 1e3 / ms[runs - 1], name,
           (double)bytes / 1e3 / ms[0]);
}

/* Time to write `data` (or, with data NULL, stream `result`) to `path`
 * until it is on the disk; -1 on failure. */
static double timed_write(const char *path, const engine_result_t *result, const char *data,
                          size_t len)
{
    double start = now_ms();
    FILE *file = fopen(path, "wb");
    if (!file)
        return -1;
    int rc = data ? (fwrite(data, 1, len, file) == len ? 0 : -1) : render_json_to(result, file);
    if (fflush(file) != 0 || (strcmp(path, "/dev/null") != 0 && fsync(fileno(file)) != 0))
        rc = -1;
    if (fclose(file) != 0)
        rc = -1;
    return rc ? -1 : now_ms() - start;
}

typedef struct {
    double *evaluate, *render_memory, *render_null, *render_file, *disk_file;
} samples_t;

/* One run: evaluate, then write the year's JSON every way. */
static int run_once(const engine_input_t *input, const char *dir, samples_t *s, int i,
                    size_t *json_bytes, size_t *demonstration)
{
    char err[512] = "", stream_path[4096], disk_path[4096];
    snprintf(stream_path, sizeof stream_path, "%s/bench_engine.stream.json", dir);
    snprintf(disk_path, sizeof disk_path, "%s/bench_engine.disk.json", dir);
    int64_t now = 0;
    stime_parse("2020-11-30", &now);
    engine_result_t *result = NULL;
    double start = now_ms();
    if (engine_evaluate(input, FIRST_YEAR + YEARS - 1, now, NULL, &result, err, sizeof err)) {
        fprintf(stderr, "evaluate: %s\n", err);
        return -1;
    }
    s->evaluate[i] = now_ms() - start;
    *demonstration = engine_result_province(result)->progress[YEARS - 1].demonstration_total;
    char *json = NULL;
    start = now_ms();
    if (render_json(result, &json, json_bytes)) {
        fprintf(stderr, "render_json failed\n");
        return -1;
    }
    s->render_memory[i] = now_ms() - start;
    s->render_null[i] = timed_write("/dev/null", result, NULL, 0);
    s->render_file[i] = timed_write(stream_path, result, NULL, 0);
    s->disk_file[i] = timed_write(disk_path, NULL, json, *json_bytes);
    free(json);
    engine_result_destroy(&result);
    if (s->render_null[i] < 0 || s->render_file[i] < 0 || s->disk_file[i] < 0) {
        fprintf(stderr, "cannot write in %s\n", dir);
        return -1;
    }
    return 0;
}

static size_t add_inputs(engine_input_t *input, const programme_t *programme)
{
    uint64_t prng = 42;
    size_t versions = 0;
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
    return versions;
}

int main(int argc, char **argv)
{
    int runs = argc > 1 ? atoi(argv[1]) : 9;
    if (runs < 1 || runs > 1000)
        runs = 9;
    const char *dir = argc > 2 ? argv[2] : "/var/tmp";
    char *text = programme_text();
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
    t0 = now_ms();
    size_t versions = add_inputs(input, programme);
    double input_ms = now_ms() - t0;

    samples_t s;
    double *block = calloc(5 * (size_t)runs, sizeof *block);
    s.evaluate = block, s.render_memory = block + runs, s.render_null = block + 2 * runs;
    s.render_file = block + 3 * runs, s.disk_file = block + 4 * runs;
    size_t json_bytes = 0, demonstration = 0;
    for (int i = 0; i < runs; i++)
        if (run_once(input, dir, &s, i, &json_bytes, &demonstration))
            return 1;
    printf("units %zu\ncriteria %zu\nitems %zu\nprogramme_load_ms %.1f\n",
           programme_unit_count(programme), programme_criterion_count(programme),
           programme_item_count(programme), load_ms);
    printf("report_versions %zu\nyears %d\ninput_add_ms %.1f\nruns %d\n", versions, YEARS, input_ms,
           runs);
    printf("demonstration_units %zu\njson_bytes %zu\n", demonstration, json_bytes);
    print_ms("evaluate", s.evaluate, runs);
    print_ms("render_json_memory", s.render_memory, runs);
    print_ms("render_json_to_devnull", s.render_null, runs);
    print_rate("render_json_to_devnull", s.render_null, runs, json_bytes);
    print_ms("render_json_to_file_fsync", s.render_file, runs);
    print_rate("render_json_to_file_fsync", s.render_file, runs, json_bytes);
    print_ms("disk_fwrite_fsync", s.disk_file, runs);
    print_rate("disk_fwrite_fsync", s.disk_file, runs, json_bytes);
    printf("ratio_render_to_disk %.2f\n", s.disk_file[runs / 2] / s.render_file[runs / 2]);
    char path[4096];
    snprintf(path, sizeof path, "%s/bench_engine.stream.json", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/bench_engine.disk.json", dir);
    unlink(path);
    free(block);
    engine_input_destroy(&input);
    programme_destroy(&programme);
    return 0;
}
