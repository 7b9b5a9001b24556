/* cli.h - the command line shared by the three programs.
 *
 *   PROGRAM --data DIR VERB [--option VALUE | --flag]... [FILE]
 *
 * Each verb declares the options it takes ("code=" takes a value, "json" is
 * a flag); anything else is a usage error. Exit codes: 0 success, 2 bad usage
 * or bad input (the message names the option, file, line or field), 1 any
 * other failure.
 *
 * The cli prints what the verbs produce: results on stdout, "error: ..." on
 * stderr (the library below writes only log lines, through slog); it never
 * exits on its own (cli_main returns the exit code).
 * Durability is the node's (node.h): a verb prints success only after the
 * node's transaction committed. Ownership: cli_args_t points into argv;
 * text the cli_*_json functions return is malloc'd for the caller to free.
 * Threads: one, the program's. */
#ifndef SHIFAN_CLI_H
#define SHIFAN_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"
#include "base/lang.h"
#include "base/msg.h"
#include "app/node.h"

#define CLI_MAX_OPTIONS 16
#define CLI_MAX_POSITIONAL 2

enum { CLI_OK = 0, CLI_FAILURE = 1, CLI_USAGE = 2 };

typedef struct {
    const char *data;
    const char *verb;
    const char *names[CLI_MAX_OPTIONS];
    const char *values[CLI_MAX_OPTIONS]; /* NULL for a flag */
    size_t count;
    const char *positional[CLI_MAX_POSITIONAL];
    size_t positional_count;
} cli_args_t;

/* The value of --name, NULL if not given (or a flag). */
const char *cli_get(const cli_args_t *args, const char *name);
/* True if --name was given. */
bool cli_flag(const cli_args_t *args, const char *name);
/* Parses --year: SF_EINVAL unless 1900..2200. Prints the error. */
int cli_year(const cli_args_t *args, int *year);
/* The language of what the verb writes for people (CSV headers and values):
 * --lang zh|en when given, else the locale's (lang_from_env: Chinese unless
 * LC_ALL, LC_MESSAGES or LANG starts with "en"). SF_EINVAL for another
 * --lang, error printed. */
int cli_lang(const cli_args_t *args, sf_lang_t *lang);

typedef int (*cli_verb_fn)(const cli_args_t *args, node_t *node);

typedef struct {
    const char *name;
    const char *options; /* comma-separated; "x=" takes a value */
    int positional;      /* how many positional arguments it needs (0..2) */
    const char *usage;   /* one line for --help, MSG_NOOP(): msg() when printed */
    cli_verb_fn fn;      /* gets an opened node */
} cli_verb_t;

/* Runs the program. extra: the tier's own verbs, ending with {NULL}.
 * Returns the exit code (CLI_OK, CLI_FAILURE, CLI_USAGE), never exits. */
int cli_main(int argc, char **argv, node_role_t role, const cli_verb_t *extra);

/* Maps an sf_err_t to an exit code (SF_EINVAL -> 2, else 1). */
int cli_exit_code(int err);

/* Reads a whole file (or stdin for "-") up to max bytes into a malloc'd,
 * NUL-terminated buffer. NULL on failure (missing, unreadable, larger than
 * max, out of memory), with a message naming the file printed. */
char *cli_read_file(const char *path, size_t max, size_t *len);
/* Writes len bytes to path (created or replaced), or to stdout when path is
 * NULL. Returns 0, or CLI_FAILURE with a message naming --out printed. */
int cli_write_file(const char *path, const char *text, size_t len);

/* Prints UTF-8 text padded to `width` terminal columns: CJK characters take
 * two columns, so printf's byte-counting widths misalign Chinese names. */
void cli_print_padded(const char *text, int width);

/* Reads FILE (or "-" for stdin: JSON, CSV or an .xlsx workbook,
 * report_load_any) and parses it as a report or inspection against the
 * node's programme. Prints the error and returns NULL on bad input; prints
 * a note naming the CSV columns it ignored; *source names the input for
 * later messages. */
report_t *cli_load_report(const char *path, node_t *node, const char *default_unit,
                          const char **source);

/* Evaluates --year over everything the node stores, for scope. On failure
 * prints the error and returns the exit code (non-zero). */
struct engine_result;
int cli_evaluate(const cli_args_t *args, node_t *node, const char *scope,
                 struct engine_result **result, int *year);

/* `recommend --json` of prefecture `prefecture` (cli_json.c): malloc'd
 * text, NULL if out of memory. */
char *cli_recommendations_json(const char *prefecture, int year,
                               const node_recommendations_t *lists);
/* `status --json` (cli_json.c): malloc'd text, NULL if out of memory. */
char *cli_status_json(const node_status_t *status);
/* signing-keys --json: an array of {unit, fingerprint, since, until,
 * revoked, registered_by} (times ISO 8601 or null), malloc'd. */
char *cli_signing_keys_json(const node_signing_key_t *keys, size_t count);
/* `list --json` (cli_json.c): malloc'd text, NULL if out of memory. */
char *cli_versions_json(const node_versions_t *versions);
/* The verbs of the console's operator accounts and its audit trail
 * (cli_operator.c), which every program lists among its own verbs with
 * CLI_ACCESS_VERBS (they are not common_verbs: cli.c starts the console,
 * which cli_operator.c reads the trail through). */
int cli_verb_operator(const cli_args_t *args, node_t *node);
int cli_verb_audit(const cli_args_t *args, node_t *node);
#define CLI_ACCESS_VERBS                                                                           \
    {"operator", "name=,json", 1,                                                                  \
     MSG_NOOP("add|list|remove [--name NAME] [--json]: the console's operator accounts (add "      \
              "reads the password from stdin, or prompts for it)"),                                \
     cli_verb_operator},                                                                           \
    {                                                                                              \
        "audit", "json,limit=", 0,                                                                 \
            MSG_NOOP(                                                                              \
                "[--json] [--limit N]: the changes made through the console, with the operator"),  \
            cli_verb_audit                                                                         \
    }
/* Sneakernet packages (cli_package.c, docs/packages.md): the county and the
 * hub list CLI_EXPORT_PACKAGE_VERB, the hub and the province
 * CLI_IMPORT_PACKAGE_VERB among their own verbs. */
int cli_verb_export_package(const cli_args_t *args, node_t *node);
int cli_verb_import_package(const cli_args_t *args, node_t *node);
#define CLI_EXPORT_PACKAGE_VERB                                                                    \
    {                                                                                              \
        "export-package", "out=", 0,                                                               \
            MSG_NOOP("--out FILE: the items queued for the parent, as one package to carry by "    \
                     "hand (USB stick, e-mail) while the link is down"),                           \
            cli_verb_export_package                                                                \
    }
#define CLI_IMPORT_PACKAGE_VERB                                                                    \
    {                                                                                              \
        "import-package", "", 1,                                                                   \
            MSG_NOOP("FILE: apply a child's package as the link would; a second import stores "    \
                     "nothing twice"),                                                             \
            cli_verb_import_package                                                                \
    }
/* A version's state as `list` shows it ("delivered", "refused: why", ...;
 * buf holds the longer ones), or NULL where there is none (hub, province). */
const char *cli_version_state(const node_version_t *version, char *buf, size_t size);

/* The evaluation of a year published to a county (node_published_evaluation's
 * document), as `result` prints it. A string the document lacks is NULL. */
typedef struct {
    char *code, *name, *status;
    bool qualified, recommended, demonstration, national_candidate;
    char **reasons; /* verdict_line per failed or contradicted criterion */
    size_t reason_count;
} cli_published_unit_t;

typedef struct {
    char *evaluated_at;
    cli_published_unit_t *units;
    size_t unit_count;
} cli_published_t;

/* Reads the document (cli_json.c); one that is no JSON object reads as no
 * units. With a programme, each reported unit gets the reasons of its
 * failed criteria (verdict_reason; criteria the programme lacks are left
 * out). Returns a new object the caller owns, or NULL with error set
 * (SF_ENOMEM). */
cli_published_t *cli_published_parse(const char *document, const programme_t *programme,
                                     sf_error_t *error);
void cli_published_destroy(cli_published_t **self_p);

/* Verbs shared by the hub and the province (cli_tier.c): an exit code. */
int cli_verb_inspect(const cli_args_t *args, node_t *node);
/* Renders an evaluation as json|csv|html to out_path, or stdout if NULL;
 * CSV in `lang`. Returns an exit code: CLI_USAGE for an unknown format,
 * CLI_FAILURE if it cannot be rendered or written (message printed). */
struct engine_result;
int cli_write_result(const struct engine_result *result, const char *format, sf_lang_t lang,
                     const char *out_path);

#endif
