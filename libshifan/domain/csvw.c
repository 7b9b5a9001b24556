/* csvw.c - CSV for Excel: BOM, RFC 4180 quoting, CRLF (see csvw.h). */
#include "domain/csvw.h"
#include "base/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct csvw {
    FILE *stream;
    char *data; /* open_memstream's buffer, valid after fflush/fclose */
    size_t size;
    size_t fields; /* in the current row */
    bool failed;   /* a field could not be made */
};

csvw_t *csvw_new(bool bom)
{
    csvw_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->stream = open_memstream(&self->data, &self->size);
    if (!self->stream) {
        free(self);
        return NULL;
    }
    if (bom)
        fputs("\xEF\xBB\xBF", self->stream);
    return self;
}

void csvw_destroy(csvw_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    csvw_t *self = *self_p;
    fclose(self->stream);
    free(self->data);
    free(self);
    *self_p = NULL;
}

void csvw_field(csvw_t *self, const char *value)
{
    if (self->fields++)
        putc(',', self->stream);
    if (!value)
        return;
    if (!strpbrk(value, ",\"\r\n")) {
        fputs(value, self->stream);
        return;
    }
    putc('"', self->stream);
    for (const char *p = value; *p; p++) {
        if (*p == '"')
            putc('"', self->stream);
        putc(*p, self->stream);
    }
    putc('"', self->stream);
}

void csvw_fieldf(csvw_t *self, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < sizeof small) {
        csvw_field(self, small);
        return;
    }
    char *big = n < 0 ? NULL : malloc((size_t)n + 1);
    if (big) {
        va_start(ap, fmt);
        vsnprintf(big, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    if (!big)
        self->failed = true;
    csvw_field(self, big);
    free(big);
}

void csvw_row_end(csvw_t *self)
{
    fputs("\r\n", self->stream);
    self->fields = 0;
}

int csvw_finish(csvw_t **self_p, char **out, size_t *len)
{
    csvw_t *self = *self_p;
    *out = NULL;
    bool failed = self->failed || ferror(self->stream) != 0;
    failed = fclose(self->stream) != 0 || failed;
    self->stream = NULL;
    if (!failed && self->data) {
        *out = self->data;
        if (len)
            *len = self->size;
        self->data = NULL;
    }
    free(self->data);
    free(self);
    *self_p = NULL;
    return *out ? 0 : SF_ENOMEM;
}
