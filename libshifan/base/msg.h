/* msg.h - the Chinese of a message, looked up by its English format.
 *
 * Messages are written in English where they are formed, wrapped in msg():
 *     sf_error_set(error, SF_EINVAL, msg("line %d: no criterion"), line);
 * msg() returns the Chinese format for that exact English format when the
 * process's language is Chinese (the default, base/lang.h), else its
 * argument. format_arg lets gcc check the English format against the
 * arguments; the catalogue (msg_zh.c) keeps each Chinese format to the same
 * conversions in the same order, which tests/unit/base/test_msg.c enforces.
 * A format missing from the catalogue stays English.
 * Threading: safe from any thread; the language is read from the
 * environment once, on first use, unless msg_set_lang came first.
 * Nothing allocates; returned strings are static. */
#ifndef SHIFAN_MSG_H
#define SHIFAN_MSG_H

#include "base/lang.h"

#include <stddef.h>

/* Marks a message kept in a table to be passed to msg() when shown: it
 * expands to its literal, and tools/check-msgs.py counts it as a user of the
 * catalogue entry. */
#define MSG_NOOP(english) (english)

/* The format to use for english_format in the process's language. */
const char *msg(const char *english_format) __attribute__((format_arg(1)));

/* The same, in the language given. */
const char *msg_in(sf_lang_t lang, const char *english_format) __attribute__((format_arg(2)));

/* The process's language: lang_from_env() on first use, read once. */
sf_lang_t msg_lang(void);

/* Sets the process's language (a `--lang` option), overriding the locale. */
void msg_set_lang(sf_lang_t lang);

/* One entry of the catalogue. */
typedef struct {
    const char *english;
    const char *chinese;
} msg_entry_t;

/* The catalogue, sorted by english under strcmp, without duplicates;
 * *count gets its length. For msg() and its tests. */
const msg_entry_t *msg_catalogue(size_t *count);

#endif
