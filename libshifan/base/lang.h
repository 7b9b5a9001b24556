/* lang.h - the language of what a person reads: Chinese or English.
 *
 * Shifan's readers are Chinese health-bureau officials, so Chinese is the
 * default; English is given on request (an option such as `--lang en`) or
 * when the locale asks for it. This is the one place that decides, so CSV
 * exports, templates and messages follow the same rule.
 * Threading: lang_from_env reads the environment (getenv), which is safe
 * while no thread changes it; the others are pure. Nothing allocates. */
#ifndef SHIFAN_LANG_H
#define SHIFAN_LANG_H

typedef enum { LANG_ZH = 0, LANG_EN } sf_lang_t;

/* The language the locale asks for: the first of LC_ALL, LC_MESSAGES and
 * LANG that is set and not empty (POSIX's order) decides; English when it
 * starts with "en" ("en_US.UTF-8", "en"), Chinese otherwise, including
 * "C", "POSIX" and no locale at all. */
sf_lang_t lang_from_env(void);

/* "zh" or "en" -> *lang: 0, or SF_EINVAL (and *lang untouched) for
 * anything else, NULL included. */
int lang_parse(const char *name, sf_lang_t *lang);

/* "zh" or "en". */
const char *lang_name(sf_lang_t lang);

#endif
