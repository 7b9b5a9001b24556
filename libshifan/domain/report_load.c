/* report_load.c - a report from the bytes a person wrote: decoding (byte
 * order marks, UTF-16, GB18030), the format by content, and the checks
 * against the programme. */
#include "domain/report.h"
#include "base/error.h"
#include "base/msg.h"
#include "base/slog.h"
#include "domain/report_internal.h"

#include <iconv.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* text[0..len) converted from `charset` to UTF-8 in a new buffer. */
static int convert_text(const parser_t *ps, const char *charset, const char *text, size_t len,
                        bool guessed, char **out, size_t *out_len)
{
    iconv_t cd = iconv_open("UTF-8", charset);
    if (cd == (iconv_t)-1)
        return report_fail(ps, NULL, msg("%s conversion is unavailable"), charset);
    /* Two bytes of UTF-16 or GB18030 never need more than three of UTF-8,
     * four never more than four: twice the input is room enough. */
    size_t room = len * 2 + 4;
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
        size_t offset = (size_t)(in - text);
        return guessed ? report_fail(ps, NULL,
                                     msg("neither UTF-8 nor %s text (bad byte at offset %zu)"),
                                     charset, offset)
                       : report_fail(ps, NULL, msg("not %s text (bad byte at offset %zu)"), charset,
                                     offset);
    }
    *outp = '\0';
    *out = buffer;
    *out_len = (size_t)(outp - buffer);
    slog_debug("%s: read as %s", ps->source, charset);
    return 0;
}

static int copy_text(const char *text, size_t len, char **out, size_t *out_len)
{
    if (!(*out = malloc(len + 1)))
        return SF_ENOMEM;
    memcpy(*out, text, len);
    (*out)[len] = '\0';
    *out_len = len;
    return 0;
}

/* The charset a byte order mark names, and its length; NULL when none. */
static const char *bom_charset(const char *text, size_t len, size_t *bom_len)
{
    static const struct {
        const char *bytes, *charset;
        size_t len;
    } marks[] = {{"\xEF\xBB\xBF", "UTF-8", 3},
                 {"\x84\x31\x95\x33", "GB18030", 4},
                 {"\xFF\xFE", "UTF-16LE", 2},
                 {"\xFE\xFF", "UTF-16BE", 2}};
    for (size_t i = 0; i < sizeof marks / sizeof marks[0]; i++)
        if (len >= marks[i].len && memcmp(text, marks[i].bytes, marks[i].len) == 0) {
            *bom_len = marks[i].len;
            return marks[i].charset;
        }
    *bom_len = 0;
    return NULL;
}

/* The bytes as UTF-8 in a new buffer. A byte order mark says the charset:
 * UTF-8 (Excel's "CSV UTF-8"), GB18030, UTF-16LE or UTF-16BE (Excel's
 * "Unicode text"); it is dropped. Without one, text that is not UTF-8 is
 * taken for GB18030, a superset of the GBK that Excel writes as "CSV" on
 * Chinese Windows. Pure ASCII reads the same either way. */
static int decode_text(const parser_t *ps, const char *text, size_t len, char **out,
                       size_t *out_len)
{
    *out = NULL;
    if (!text)
        return report_fail(ps, NULL, msg("no input"));
    if (len > REPORT_MAX_BYTES)
        return report_fail(ps, NULL, msg("larger than %d bytes"), REPORT_MAX_BYTES);
    size_t bom_len;
    const char *charset = bom_charset(text, len, &bom_len);
    text += bom_len;
    len -= bom_len;
    int rc = 0;
    if (charset && strncmp(charset, "UTF-16", 6) == 0) {
        rc = convert_text(ps, charset, text, len, false, out, out_len);
    } else {
        const char *nul = memchr(text, '\0', len);
        if (nul)
            return report_fail(ps, NULL,
                               msg("contains a NUL byte at offset %zu: not a text file (UTF-16 "
                                   "needs its byte order mark)"),
                               (size_t)(nul - text) + bom_len);
        bool utf8 = report_utf8_valid((const unsigned char *)text, len);
        if (charset && strcmp(charset, "UTF-8") == 0 && !utf8)
            return report_fail(ps, NULL,
                               msg("starts with a UTF-8 byte order mark but is not UTF-8"));
        bool gb18030 = charset && strcmp(charset, "GB18030") == 0;
        if (utf8 && !gb18030)
            rc = copy_text(text, len, out, out_len);
        else
            rc = convert_text(ps, "GB18030", text, len, !gb18030, out, out_len);
    }
    if (!rc && memchr(*out, '\0', *out_len)) {
        free(*out);
        *out = NULL;
        return report_fail(ps, NULL, msg("contains a NUL character: not a text file"));
    }
    return rc;
}

static report_t *parse_any(const parser_t *ps, const char *text, size_t len,
                           const char *default_unit, report_format_t format)
{
    char *utf8;
    size_t utf8_len = 0;
    if (ps->err && ps->errsize)
        ps->err[0] = '\0';
    if (ps->note && ps->note_size)
        ps->note[0] = '\0';
    int rc = decode_text(ps, text, len, &utf8, &utf8_len);
    if (rc) {
        if (rc == SF_ENOMEM)
            report_out_of_memory(ps);
        return NULL;
    }
    if (format == REPORT_ANY) {
        size_t skip = strspn(utf8, " \t\r\n");
        format = utf8[skip] == '{' ? REPORT_JSON : REPORT_CSV;
    }
    report_t *report = format == REPORT_JSON ? report_json_read(ps, utf8, utf8_len, default_unit)
                                             : report_csv_read(ps, utf8, utf8_len, default_unit);
    free(utf8);
    return report;
}

report_t *report_parse_json(const char *text, size_t len, const char *source,
                            const char *default_unit, char *err, size_t errsize)
{
    parser_t ps = {source ? source : "report", NULL, err, errsize, NULL, NULL, 0};
    return parse_any(&ps, text, len, default_unit, REPORT_JSON);
}

report_t *report_parse_csv(const char *text, size_t len, const char *source,
                           const char *default_unit, char *err, size_t errsize)
{
    parser_t ps = {source ? source : "report", NULL, err, errsize, NULL, NULL, 0};
    return parse_any(&ps, text, len, default_unit, REPORT_CSV);
}

report_t *report_parse(const char *text, size_t len, const char *source, const char *default_unit,
                       char *err, size_t errsize)
{
    parser_t ps = {source ? source : "report", NULL, err, errsize, NULL, NULL, 0};
    return parse_any(&ps, text, len, default_unit, REPORT_ANY);
}

report_t *report_load_as(const char *text, size_t len, report_format_t format, const char *source,
                         const char *default_unit, const programme_t *programme, char *note,
                         size_t note_size, sf_error_t *error)
{
    int code = 0;
    if (error)
        error->code = 0;
    parser_t ps = {source ? source : "report",
                   programme,
                   error ? error->text : NULL,
                   error ? sizeof error->text : 0,
                   &code,
                   note,
                   note ? note_size : 0};
    report_t *report = parse_any(&ps, text, len, default_unit, format);
    if (report && programme &&
        (code = report_validate(report, programme, ps.source, ps.err, ps.errsize)))
        report_destroy(&report);
    if (!report && error)
        error->code = code ? code : SF_EINVAL;
    return report;
}

report_t *report_load(const char *text, size_t len, const char *source, const char *default_unit,
                      const programme_t *programme, sf_error_t *error)
{
    return report_load_as(text, len, REPORT_ANY, source, default_unit, programme, NULL, 0, error);
}
