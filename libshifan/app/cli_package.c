/* cli_package.c - export-package and import-package (cli.h), over
 * node_export_package and node_import_package (docs/packages.md). */
#include "app/cli.h"
#include "base/msg.h"
#include "base/stime.h"

#include <stdio.h>

int cli_verb_export_package(const cli_args_t *args, node_t *node)
{
    char err[512];
    size_t items = 0;
    const char *path = cli_get(args, "out");
    int rc = node_export_package(node, path, &items, err, sizeof err);
    if (rc) {
        fprintf(stderr, msg("error: %s\n"), err);
        return cli_exit_code(rc);
    }
    printf(msg("exported %zu queued item(s) to %s; they stay queued until the parent "
               "acknowledges them\n"),
           items, path);
    return 0;
}

static void print_import(const node_import_t *done, const char *path)
{
    char when[STIME_BUFSZ];
    printf(msg("%s: a package of %zu item(s) from %s, made %s\n"), path, done->items, done->from,
           stime_format(done->made_at, when, sizeof when));
    printf(msg("  applied:    %zu (%zu continuing %s's sequence)\n"), done->applied,
           done->in_stream, done->from);
    printf(msg("  duplicates: %zu (already here: skipped)\n"), done->duplicates);
    printf(msg("  refused:    %zu\n"), done->refused);
    for (size_t i = 0; done->refusals && i < done->refused; i++)
        printf(msg("    item %llu: %s\n"), (unsigned long long)done->refusals[i].seq,
               done->refusals[i].why);
    if (done->later)
        printf(msg("  not applicable yet: %zu (the link or a later import brings them)\n"),
               done->later);
}

int cli_verb_import_package(const cli_args_t *args, node_t *node)
{
    char err[512];
    node_import_t done;
    const char *path = args->positional[0];
    int rc = node_import_package(node, path, &done, err, sizeof err);
    if (rc) {
        fprintf(stderr, msg("error: %s\n"), err);
        return cli_exit_code(rc);
    }
    if (done.signer_unregistered)
        fprintf(stderr,
                msg("warning: no signing key is held for %s yet: the package is taken on its "
                    "seal alone (it opened with this node's key and names its sender)\n"),
                done.from);
    print_import(&done, path);
    node_import_release(&done);
    return 0;
}
