/* msg.c - English format in, the process's language out (see msg.h). */
#include "base/msg.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* The process's language: -1 until first read. Atomic because console
 * threads format messages too; racing first reads store the same value. */
static atomic_int process_lang = -1;

sf_lang_t msg_lang(void)
{
    int lang = atomic_load_explicit(&process_lang, memory_order_relaxed);
    if (lang < 0) {
        lang = (int)lang_from_env();
        atomic_store_explicit(&process_lang, lang, memory_order_relaxed);
    }
    return (sf_lang_t)lang;
}

void msg_set_lang(sf_lang_t lang)
{
    atomic_store_explicit(&process_lang, (int)lang, memory_order_relaxed);
}

static int entry_compare(const void *key, const void *member)
{
    return strcmp((const char *)key, ((const msg_entry_t *)member)->english);
}

const char *msg_in(sf_lang_t lang, const char *english_format)
{
    if (lang == LANG_EN || !english_format)
        return english_format;
    size_t count;
    const msg_entry_t *catalogue = msg_catalogue(&count);
    const msg_entry_t *found =
        bsearch(english_format, catalogue, count, sizeof *catalogue, entry_compare);
    return found ? found->chinese : english_format;
}

const char *msg(const char *english_format)
{
    return msg_in(msg_lang(), english_format);
}
