/* province-core: stores everything and evaluates.
 * docs/province-core.md is its operator's page. */
#include "cli.h"

static const cli_verb_t province_verbs[] = {
    {NULL, NULL, 0, NULL, NULL},
};

int main(int argc, char **argv)
{
    return cli_main(argc, argv, ROLE_PROVINCE, province_verbs);
}
