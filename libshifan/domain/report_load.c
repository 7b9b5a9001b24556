/* report_load.c - a report from the bytes a person wrote: decoding (BOM,
 * GB18030), the format by content, and the checks against the programme. */
#include "domain/report.h"
#include "base/error.h"
#include "base/slog.h"
#include "domain/report_internal.h"

#include <iconv.h>
#include <stdlib.h>
#include <string.h>

/* The bytes as UTF-8 in a new buffer: a UTF-8 BOM is dropped (Excel's "CSV
 * UTF-8"), and text that is not UTF-8 is taken for GB18030, a superset of the
 * GBK that Excel writes on Chinese Windows. Pure ASCII reads the same. */
static int decode_text(const parser_t *ps, const char *text, size_t len, char **out,
                       size_t *out_len)
{
    *out = NULL;
    if (!text)
        return report_fail(ps, NULL, "no input");
    if (len > REPORT_MAX_BYTES)
        return report_fail(ps, NULL, "larger than %d bytes", REPORT_MAX_BYTES);
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
        text += 3;
        len -= 3;
    }
    const char *nul = memchr(text, '\0', len);
    if (nul)
        return report_fail(ps, NULL, "contains a NUL byte at offset %zu: not a text file",
                           (size_t)(nul - text));
    if (report_utf8_valid((const unsigned char *)text, len)) {
        if (!(*out = malloc(len + 1)))
            return SF_ENOMEM;
        memcpy(*out, text, len);
        (*out)[len] = '\0';
        *out_len = len;
        return 0;
    }
    iconv_t cd = iconv_open("UTF-8", "GB18030");
    if (cd == (iconv_t)-1)
        return report_fail(ps, NULL, "not UTF-8, and GB18030 conversion is unavailable");
    size_t room = len * 2 + 4; /* a GB18030 byte never needs more than 2 UTF-8 bytes */
    char *buffer = malloc(room);
    if (!buffer) {
        iconv_close(cd);
        return SF_ENOMEM;
    }
    char *in = (char *)text, *outp = buffer;
    size_t in_left = len, out_left = room - 1;
    size_t done = iconv(cd, &in, &in_left, &outp, &out_left);
    if (done != (size_t)-1)
        done = iconv(cd, NULL, NULL, &outp, &out_left);
    iconv_close(cd);
    if (done == (size_t)-1) {
        free(buffer);
        return report_fail(ps, NULL, "neither UTF-8 nor GB18030 text (bad byte at offset %zu)",
                           (size_t)(in - text));
    }
    *outp = '\0';
    *out = buffer;
    *out_len = (size_t)(outp - buffer);
    slog_debug("%s: read as GB18030", ps->source);
    return 0;
}

typedef enum { AS_JSON, AS_CSV, AS_GUESS } input_kind_t;

static report_t *parse_any(const parser_t *ps, const char *text, size_t len,
                           const char *default_unit, input_kind_t kind)
{
    char *utf8;
    size_t utf8_len = 0;
    if (ps->err && ps->errsize)
        ps->err[0] = '\0';
    int rc = decode_text(ps, text, len, &utf8, &utf8_len);
    if (rc) {
        if (rc == SF_ENOMEM)
            report_out_of_memory(ps);
        return NULL;
    }
    if (kind == AS_GUESS) {
        size_t skip = strspn(utf8, " \t\r\n");
        kind = utf8[skip] == '{' ? AS_JSON : AS_CSV;
    }
    report_t *report = kind == AS_JSON ? report_json_read(ps, utf8, utf8_len, default_unit)
                                       : report_csv_read(ps, utf8, utf8_len, default_unit);
    free(utf8);
    return report;
}

report_t *report_parse_json(const char *text, size_t len, const char *source,
                            const char *default_unit, char *err, size_t errsize)
{
    parser_t ps = {source ? source : "report", NULL, err, errsize, NULL};
    return parse_any(&ps, text, len, default_unit, AS_JSON);
}

report_t *report_parse_csv(const char *text, size_t len, const char *source,
                           const char *default_unit, char *err, size_t errsize)
{
    parser_t ps = {source ? source : "report", NULL, err, errsize, NULL};
    return parse_any(&ps, text, len, default_unit, AS_CSV);
}

report_t *report_parse(const char *text, size_t len, const char *source, const char *default_unit,
                       char *err, size_t errsize)
{
    parser_t ps = {source ? source : "report", NULL, err, errsize, NULL};
    return parse_any(&ps, text, len, default_unit, AS_GUESS);
}

report_t *report_load(const char *text, size_t len, const char *source, const char *default_unit,
                      const programme_t *programme, sf_error_t *error)
{
    int code = 0;
    if (error)
        error->code = 0;
    parser_t ps = {source ? source : "report", programme, error ? error->text : NULL,
                   error ? sizeof error->text : 0, &code};
    report_t *report = parse_any(&ps, text, len, default_unit, AS_GUESS);
    if (report && programme &&
        (code = report_validate(report, programme, ps.source, ps.err, ps.errsize)))
        report_destroy(&report);
    if (!report && error)
        error->code = code ? code : SF_EINVAL;
    return report;
}
