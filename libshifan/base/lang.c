/* lang.c - Chinese unless the locale or an option asks for English. */
#include "base/lang.h"
#include "base/error.h"

#include <stdlib.h>
#include <string.h>

sf_lang_t lang_from_env(void)
{
    static const char *const names[] = {"LC_ALL", "LC_MESSAGES", "LANG"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *value = getenv(names[i]);
        if (value && *value)
            return strncmp(value, "en", 2) == 0 ? LANG_EN : LANG_ZH;
    }
    return LANG_ZH;
}

int lang_parse(const char *name, sf_lang_t *lang)
{
    if (!name || !lang)
        return SF_EINVAL;
    if (strcmp(name, "zh") == 0)
        *lang = LANG_ZH;
    else if (strcmp(name, "en") == 0)
        *lang = LANG_EN;
    else
        return SF_EINVAL;
    return 0;
}

const char *lang_name(sf_lang_t lang)
{
    return lang == LANG_EN ? "en" : "zh";
}
