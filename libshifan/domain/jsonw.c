/* jsonw.c - a streaming JSON writer that writes jansson's bytes (see jsonw.h).
 *
 * The layout rules are jansson 2.14's do_dump with JSON_INDENT(2): after
 * "[" or "{" and after every "," comes a newline and the depth's indent;
 * before a non-empty container's close, a newline and the outer indent;
 * empty containers are "[]" and "{}". Strings follow its dump_string, and
 * reals its jsonp_dtostr, through a fast path only where every build of it
 * agrees (see write_real). */
#include "domain/jsonw.h"

#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSONW_BUFFER (64 * 1024)
#define JSONW_DEPTH 32
#define JSONW_INDENT 2
#define JSONW_SMALL 512 /* what reserve() may be asked for */

struct jsonw {
    jsonw_sink_fn sink;
    void *context;
    int error;
    int depth;
    bool root_written;
    const char *key; /* for the next value inside an object */
    struct {
        bool object;
        size_t count;
    } levels[JSONW_DEPTH];
    size_t len;
    char buffer[JSONW_BUFFER];
};

jsonw_t *jsonw_new(jsonw_sink_fn sink, void *context, sf_error_t *error)
{
    if (!sink) {
        sf_error_set(error, SF_EINVAL, "no sink for the JSON writer");
        return NULL;
    }
    jsonw_t *self = malloc(sizeof *self);
    if (!self) {
        sf_error_set(error, SF_ENOMEM, "out of memory");
        return NULL;
    }
    memset(self, 0, offsetof(jsonw_t, buffer));
    self->sink = sink;
    self->context = context;
    return self;
}

void jsonw_destroy(jsonw_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free(*self_p);
    *self_p = NULL;
}

static void fail(jsonw_t *self, int error)
{
    if (!self->error)
        self->error = error;
}

static void flush(jsonw_t *self)
{
    if (self->len && !self->error) {
        int rc = self->sink(self->context, self->buffer, self->len);
        if (rc)
            fail(self, rc < 0 ? rc : SF_EIO);
    }
    self->len = 0;
}

static void put(jsonw_t *self, const char *data, size_t len)
{
    if (self->len + len > sizeof self->buffer) {
        flush(self);
        if (len > sizeof self->buffer) {
            int rc = self->error ? 0 : self->sink(self->context, data, len);
            if (rc)
                fail(self, rc < 0 ? rc : SF_EIO);
            return;
        }
    }
    memcpy(self->buffer + self->len, data, len);
    self->len += len;
}

/* Room for `len` more bytes (at most JSONW_SMALL) at the end of the
 * buffer, flushing first if need be; the caller writes there and
 * advances self->len. After a failure the bytes go nowhere. */
static char *reserve(jsonw_t *self, size_t len)
{
    if (self->len + len > sizeof self->buffer)
        flush(self);
    return self->buffer + self->len;
}

/* Printable ASCII, which jansson copies as it is: the common case, written
 * with one copy and no UTF-8 decoding. */
static bool plain(unsigned char c)
{
    return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

/* How many bytes of text, at most max, are plain; the whole string when
 * text[returned] is NUL. */
static size_t plain_prefix(const char *text, size_t max)
{
    size_t i = 0;
    while (i < max && plain((unsigned char)text[i]))
        i++;
    return i;
}

/* Copies `text` to dst while it is printable ASCII, at most `max` bytes;
 * returns how many. All of it was copied when text[returned] is NUL. */
static size_t copy_plain(char *dst, const char *text, size_t max)
{
    size_t i = 0;
    for (; i < max && plain((unsigned char)text[i]); i++)
        dst[i] = text[i];
    return i;
}

static void newline_indent(jsonw_t *self, int depth)
{
    static const char spaces[] = "\n                                "
                                 "                                ";
    _Static_assert(sizeof spaces >= 2 + JSONW_DEPTH * JSONW_INDENT, "indent fits");
    put(self, spaces, 1 + (size_t)depth * JSONW_INDENT);
}

/* jansson's utf8_check_first / utf8_check_full: the length of the sequence
 * at s (at most `left` bytes) and its code point, or 0 if it is not valid
 * UTF-8 (continuation or overlong lead, surrogate, beyond U+10FFFF). */
static size_t utf8_sequence(const unsigned char *s, size_t left, uint32_t *codepoint)
{
    unsigned char u = s[0];
    size_t count;
    uint32_t value;
    if (u < 0x80) {
        *codepoint = u;
        return 1;
    }
    if (u >= 0xC2 && u <= 0xDF)
        count = 2, value = u & 0x1F;
    else if (u >= 0xE0 && u <= 0xEF)
        count = 3, value = u & 0x0F;
    else if (u >= 0xF0 && u <= 0xF4)
        count = 4, value = u & 0x07;
    else
        return 0;
    if (count > left)
        return 0;
    for (size_t i = 1; i < count; i++) {
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
        value = (value << 6) + (s[i] & 0x3F);
    }
    if (value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF) || (count == 3 && value < 0x800) ||
        (count == 4 && value < 0x10000))
        return 0;
    *codepoint = value;
    return count;
}

static bool utf8_valid(const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *)text;
    uint32_t codepoint;
    for (size_t i = 0; i < len;) {
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        size_t count = utf8_sequence(s + i, len - i, &codepoint);
        if (!count)
            return false;
        i += count;
    }
    return true;
}

/* A valid UTF-8 string, quoted and escaped as jansson's dump_string does
 * without JSON_ENSURE_ASCII or JSON_ESCAPE_SLASH. */
static void put_quoted(jsonw_t *self, const char *text, size_t len)
{
    put(self, "\"", 1);
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        put(self, text + run, i - run);
        run = i + 1;
        char seq[8];
        switch (c) {
        case '"':
            put(self, "\\\"", 2);
            break;
        case '\\':
            put(self, "\\\\", 2);
            break;
        case '\b':
            put(self, "\\b", 2);
            break;
        case '\f':
            put(self, "\\f", 2);
            break;
        case '\n':
            put(self, "\\n", 2);
            break;
        case '\r':
            put(self, "\\r", 2);
            break;
        case '\t':
            put(self, "\\t", 2);
            break;
        default:
            snprintf(seq, sizeof seq, "\\u%04X", (unsigned)c);
            put(self, seq, 6);
        }
    }
    put(self, text + run, len - run);
    put(self, "\"", 1);
}

/* Before a value: the separator, the indent and, in an object, the key.
 * False when the writer has failed or the call is out of order. */
static bool begin_value(jsonw_t *self)
{
    if (self->error)
        return false;
    if (self->depth == 0) {
        if (self->root_written) {
            fail(self, SF_EINVAL);
            return false;
        }
        self->root_written = true;
        return true;
    }
    int level = self->depth - 1;
    bool object = self->levels[level].object, first = self->levels[level].count++ == 0;
    if (object && !self->key) {
        fail(self, SF_EINVAL);
        return false;
    }
    /* The hot path: ",\n  \"key\": " straight into the buffer, the key
     * copied while it is plain ASCII; anything else takes put_quoted. */
    size_t indent = (size_t)self->depth * JSONW_INDENT;
    char *start = reserve(self, JSONW_SMALL), *p = start;
    if (!first)
        *p++ = ',';
    *p++ = '\n';
    memset(p, ' ', indent);
    p += indent;
    if (!object) {
        self->len += (size_t)(p - start);
        return true;
    }
    *p++ = '"';
    size_t room = JSONW_SMALL - 4 - (size_t)(p - start);
    size_t copied = copy_plain(p, self->key, room);
    if (!self->key[copied]) {
        p += copied;
        memcpy(p, "\": ", 3);
        self->len += (size_t)(p + 3 - start);
        self->key = NULL;
        return true;
    }
    if (!first)
        put(self, ",", 1);
    newline_indent(self, self->depth);
    if (object) {
        put_quoted(self, self->key, strlen(self->key));
        put(self, ": ", 2);
    }
    self->key = NULL;
    return true;
}

/* A value jansson could not have made: it and its key are left out. */
static void skip_value(jsonw_t *self)
{
    self->key = NULL;
}

static void begin_container(jsonw_t *self, bool object)
{
    if (!begin_value(self))
        return;
    if (self->depth == JSONW_DEPTH) {
        fail(self, SF_EINVAL);
        return;
    }
    self->levels[self->depth].object = object;
    self->levels[self->depth].count = 0;
    self->depth++;
    put(self, object ? "{" : "[", 1);
}

static void end_container(jsonw_t *self, bool object)
{
    if (self->error)
        return;
    if (self->depth == 0 || self->levels[self->depth - 1].object != object || self->key) {
        fail(self, SF_EINVAL);
        return;
    }
    self->depth--;
    if (self->levels[self->depth].count)
        newline_indent(self, self->depth);
    put(self, object ? "}" : "]", 1);
}

void jsonw_object_begin(jsonw_t *self)
{
    begin_container(self, true);
}

void jsonw_object_end(jsonw_t *self)
{
    end_container(self, true);
}

void jsonw_array_begin(jsonw_t *self)
{
    begin_container(self, false);
}

void jsonw_array_end(jsonw_t *self)
{
    end_container(self, false);
}

void jsonw_key(jsonw_t *self, const char *key)
{
    if (self->error)
        return;
    if (!key || self->depth == 0 || !self->levels[self->depth - 1].object)
        fail(self, SF_EINVAL);
    self->key = key;
}

void jsonw_string(jsonw_t *self, const char *value)
{
    if (!value) {
        skip_value(self);
        return;
    }
    /* Plain ASCII that fits goes in with one copy; the rest is checked
     * first, since a string jansson refuses is left out with its key. */
    size_t len = plain_prefix(value, JSONW_SMALL - 2);
    if (!value[len]) {
        if (begin_value(self)) {
            char *p = reserve(self, len + 2);
            *p++ = '"';
            memcpy(p, value, len);
            p[len] = '"';
            self->len += len + 2;
        }
        return;
    }
    len += strlen(value + len);
    if (!utf8_valid(value, len)) {
        skip_value(self);
        return;
    }
    if (begin_value(self))
        put_quoted(self, value, len);
}

/* "%lld", without printf's cost on the hot path. */
static size_t format_integer(char *end, long long value)
{
    char *p = end;
    unsigned long long magnitude =
        value < 0 ? 0ull - (unsigned long long)value : (unsigned long long)value;
    do {
        *--p = (char)('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude);
    if (value < 0)
        *--p = '-';
    return (size_t)(end - p);
}

void jsonw_integer(jsonw_t *self, long long value)
{
    if (!begin_value(self))
        return;
    char digits[24];
    size_t len = format_integer(digits + sizeof digits, value);
    memcpy(reserve(self, len), digits + sizeof digits - len, len);
    self->len += len;
}

/* A real as jansson prints it with precision 15. Our reals are almost all
 * hundredths (rounded percentages): for a double that is exactly the one
 * nearest k/100 with |k| < 1e15, both of jansson's printers (printf "%.15g"
 * and, when built with dtoa, the shortest string within 15 digits) give
 * the decimal k/100 without trailing zeros, with ".0" when it is whole.
 * Anything else is printed by jansson itself. Returns the length, 0 for
 * a value jansson refuses. */
static size_t format_real(char *buffer, size_t size, double value)
{
    if (!isfinite(value))
        return 0;
    if (fabs(value) < 1e13 && !(value == 0 && signbit(value))) {
        long long hundredths = llround(value * 100.0);
        if ((double)hundredths / 100.0 == value) {
            unsigned long long magnitude = (unsigned long long)llabs(hundredths);
            char *end = buffer + size, *p = end;
            unsigned cents = (unsigned)(magnitude % 100);
            if (cents % 10)
                *--p = (char)('0' + cents % 10);
            *--p = (char)('0' + cents / 10);
            *--p = '.';
            p -= format_integer(p, (long long)(magnitude / 100));
            if (hundredths < 0)
                *--p = '-';
            size_t len = (size_t)(end - p);
            memmove(buffer, p, len);
            return len;
        }
    }
    json_t *real = json_real(value);
    size_t len =
        real ? json_dumpb(real, buffer, size, JSON_ENCODE_ANY | JSON_REAL_PRECISION(15)) : 0;
    json_decref(real);
    return len < size ? len : 0;
}

void jsonw_real(jsonw_t *self, double value)
{
    char buffer[128];
    size_t len = format_real(buffer, sizeof buffer, value);
    if (!len) {
        skip_value(self);
        return;
    }
    if (begin_value(self)) {
        memcpy(reserve(self, len), buffer, len);
        self->len += len;
    }
}

void jsonw_bool(jsonw_t *self, bool value)
{
    if (begin_value(self)) {
        memcpy(reserve(self, 5), value ? "true" : "false", 5);
        self->len += value ? 4 : 5;
    }
}

void jsonw_null(jsonw_t *self)
{
    if (begin_value(self)) {
        memcpy(reserve(self, 4), "null", 4);
        self->len += 4;
    }
}

void jsonw_text(jsonw_t *self, const char *text, size_t len)
{
    if (!self->error)
        put(self, text, len);
}

int jsonw_finish(jsonw_t *self)
{
    if (!self)
        return SF_EINVAL;
    if (self->depth)
        fail(self, SF_EINVAL);
    flush(self);
    return self->error;
}
