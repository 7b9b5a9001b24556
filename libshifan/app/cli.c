#include "app/cli.h"
#include "base/msg.h"
#include "app/console.h"
#include "app/console_county.h"
#include "app/console_hub.h"
#include "app/console_province.h"
#include "base/error.h"
#include "base/slog.h"
#include "base/stime.h"
#include "transport/keys.h"
#include "transport/sign.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How parsing ended: go on (CLI_CONTINUE), or exit with a code now. */
#define CLI_CONTINUE (-1)

const char *cli_get(const cli_args_t *args, const char *name)
{
    for (size_t i = 0; i < args->count; i++)
        if (strcmp(args->names[i], name) == 0)
            return args->values[i];
    return NULL;
}

bool cli_flag(const cli_args_t *args, const char *name)
{
    for (size_t i = 0; i < args->count; i++)
        if (strcmp(args->names[i], name) == 0)
            return true;
    return false;
}

int cli_exit_code(int err)
{
    return err == 0 ? CLI_OK : err == SF_EINVAL ? CLI_USAGE : CLI_FAILURE;
}

int cli_year(const cli_args_t *args, int *year)
{
    const char *text = cli_get(args, "year");
    char *end;
    if (!text) {
        fprintf(stderr, msg("error: --year YEAR is required\n"));
        return SF_EINVAL;
    }
    long value = strtol(text, &end, 10);
    if (*text == '\0' || *end != '\0' || value < 1900 || value > 2200) {
        fprintf(stderr, msg("error: --year %s: expected a year such as 2018\n"), text);
        return SF_EINVAL;
    }
    *year = (int)value;
    return 0;
}

int cli_lang(const cli_args_t *args, sf_lang_t *lang)
{
    const char *text = cli_get(args, "lang");
    if (!text) {
        *lang = msg_lang();
        return 0;
    }
    if (lang_parse(text, lang) == 0) {
        msg_set_lang(*lang); /* the messages follow the option, as the output does */
        return 0;
    }
    fprintf(stderr, msg("error: --lang %s: expected zh or en\n"), text);
    return SF_EINVAL;
}

int cli_write_file(const char *path, const char *text, size_t len)
{
    FILE *file = path ? fopen(path, "wb") : stdout;
    bool written = file && fwrite(text, 1, len, file) == len;
    if (file && file != stdout)
        written = fclose(file) == 0 && written;
    else if (file)
        written = fflush(file) == 0 && written;
    if (written)
        return 0;
    fprintf(stderr, msg("error: --out %s: cannot write: %s\n"), path ? path : "<stdout>",
            strerror(errno));
    return CLI_FAILURE;
}

char *cli_read_file(const char *path, size_t max, size_t *len)
{
    FILE *file = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!file) {
        fprintf(stderr, msg("error: %s: %s\n"), path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(max + 2);
    size_t total = 0, got;
    while (buf && (got = fread(buf + total, 1, max + 1 - total, file)) > 0)
        total += got;
    bool failed = buf == NULL || ferror(file);
    if (file != stdin)
        fclose(file);
    if (failed) {
        fprintf(stderr, msg("error: %s: cannot read: %s\n"), path, strerror(errno));
        free(buf);
        return NULL;
    }
    if (total > max) {
        fprintf(stderr, msg("error: %s: larger than %zu bytes\n"), path, max);
        free(buf);
        return NULL;
    }
    buf[total] = '\0';
    *len = total;
    return buf;
}

/* ---- common verbs ---- */

/* A public key given as --NAME KEY (Z85, or 64 hex digits a shell leaves
 * alone) or --NAME-file FILE (as `key` prints it, or a node.public):
 * *key points to its Z85 form in z85, or is NULL when neither is given.
 * A --NAME that is no key is passed on as typed, for the node's own
 * message naming it. CLI_CONTINUE, or CLI_USAGE (message printed) for both
 * forms or a file that holds no key. */
static int key_option(const cli_args_t *args, const char *name, char z85[KEYS_Z85_LEN + 1],
                      const char **key)
{
    char file_option[32];
    snprintf(file_option, sizeof file_option, "%s-file", name);
    const char *text = cli_get(args, name), *path = cli_get(args, file_option);
    *key = NULL;
    if (text && path) {
        fprintf(stderr, msg("error: give --%s KEY or --%s FILE, not both\n"), name, file_option);
        return CLI_USAGE;
    }
    if (text) {
        *key = keys_from_text(text, z85) == 0 ? z85 : text;
        return CLI_CONTINUE;
    }
    if (!path)
        return CLI_CONTINUE;
    size_t len;
    char *content = cli_read_file(path, 4096, &len);
    if (!content)
        return CLI_USAGE;
    bool valid = strlen(content) == len && keys_from_text(content, z85) == 0;
    free(content);
    if (!valid) {
        fprintf(stderr,
                msg("error: --%s %s: expected one public key as 'key' prints it (40 Z85 "
                    "characters, or 64 hex digits)\n"),
                file_option, path);
        return CLI_USAGE;
    }
    *key = z85;
    return CLI_CONTINUE;
}

/* The CURVE key stays alone on stdout: scripts take the whole output,
 * `--key "$(county-node --data DIR key)"`. The signing key and its
 * fingerprint follow on stderr, for the person at the terminal; --json
 * gives all three on stdout. */
static int verb_key(const cli_args_t *args, node_t *node)
{
    char sign_hex[SIGN_PUBLIC_HEX_LEN + 1], fingerprint[SIGN_FINGERPRINT_LEN + 1];
    char curve_hex[KEYS_HEX_LEN + 1];
    sign_public_hex(node_sign_public_key(node), sign_hex);
    sign_fingerprint(node_sign_public_key(node), fingerprint);
    keys_z85_to_hex(node_public_key(node), curve_hex);
    if (cli_flag(args, "json")) {
        /* Z85, hex and base32 hold no character JSON would escape. */
        printf("{\"curve\": \"%s\", \"curve_hex\": \"%s\", \"sign\": \"%s\", "
               "\"fingerprint\": \"%s\"}\n",
               node_public_key(node), curve_hex, sign_hex, fingerprint);
        return 0;
    }
    printf("%s\n", node_public_key(node));
    fflush(stdout); /* the key first, then its companions, on a terminal too */
    /* Z85 holds $ & ! ^ * ( ): the hex form survives an unquoted shell. */
    fprintf(stderr, msg("public key (hex): %s\n"), curve_hex);
    fprintf(stderr, msg("signing key: %s\n"), sign_hex);
    fprintf(stderr, msg("signing key fingerprint: %s\n"), fingerprint);
    return 0;
}

static int verb_allow(const cli_args_t *args, node_t *node)
{
    char err[512], z85[KEYS_Z85_LEN + 1];
    const char *sign_key = cli_get(args, "sign-key"), *key;
    if (key_option(args, "key", z85, &key) != CLI_CONTINUE)
        return CLI_USAGE;
    int rc = sign_key && cli_get(args, "code")
                 ? node_allow_sign_key(node, cli_get(args, "code"), sign_key, err, sizeof err)
                 : 0;
    if (rc == 0)
        rc = node_allow(node, cli_get(args, "code"), key, err, sizeof err);
    if (rc) {
        fprintf(stderr, msg("error: %s\n"), err);
        return cli_exit_code(rc);
    }
    printf("allowed %s\n", cli_get(args, "code"));
    return 0;
}

/* The console each tier serves with run --http: its page at "/" and its
 * API. */
static const struct {
    const char *page;
    const console_route_t *routes;
} console_of_role[] = {
    [ROLE_COUNTY] = {"console/county.html", console_county_routes},
    [ROLE_PREFECTURE] = {"console/hub.html", console_hub_routes},
    [ROLE_PROVINCE] = {"console/province.html", console_province_routes},
};

/* run [--http ADDR]: the daemon, with the tier's console in its loop when
 * asked. */
static int verb_run(const cli_args_t *args, node_t *node)
{
    const char *address = cli_get(args, "http");
    console_t *console = NULL;
    if (address) {
        node_role_t role = node_role(node);
        sf_error_t error = {0, ""};
        console = console_new(node, address, console_of_role[role].page,
                              console_of_role[role].routes, &error);
        if (!console) {
            fprintf(stderr, msg("error: %s\n"), error.text);
            return cli_exit_code(error.code);
        }
    }
    int rc = node_run(node, console ? console_http(console) : NULL);
    console_destroy(&console);
    return rc == 0 ? 0 : CLI_FAILURE;
}

static void print_status_text(const node_status_t *status)
{
    char when[STIME_BUFSZ];
    printf("%s %s (programme %s revision %llu), daemon %s\n", node_role_name(status->role),
           status->code, status->programme, (unsigned long long)status->programme_revision,
           status->daemon_running ? "running" : "stopped");
    printf("  reports stored:   %llu\n", (unsigned long long)status->reports);
    printf("  returns:          %llu\n", (unsigned long long)status->returns);
    printf("  refused:          %llu%s\n", (unsigned long long)status->refused,
           status->refused ? " (items of ours a peer refused: see list)" : "");
    if (status->role != ROLE_PROVINCE) {
        const node_link_status_t *link = &status->link;
        printf("  queued upstream:  %llu\n", (unsigned long long)status->queued);
        if (status->queue_oldest)
            printf("  oldest queued item waiting since %s\n",
                   stime_format(status->queue_oldest, when, sizeof when));
        printf("  link to %s: %s, last contact %s\n", link->upstream, link->state,
               link->last_contact ? stime_format(link->last_contact, when, sizeof when) : "never");
        if (link->unreachable_since)
            printf("  parent unreachable since %s: check --upstream (set-upstream)\n",
                   stime_format(link->unreachable_since, when, sizeof when));
    }
    const node_signing_status_t *signing = &status->signing;
    printf("  signing key:      %s", signing->fingerprint);
    if (status->role != ROLE_PROVINCE && !*signing->confirmed)
        printf(", not yet confirmed by the province\n");
    else if (status->role != ROLE_PROVINCE && strcmp(signing->confirmed, signing->fingerprint))
        printf(", MISMATCH: the province holds %s\n", signing->confirmed);
    else
        printf("%s\n", status->role != ROLE_PROVINCE ? ", confirmed by the province" : "");
    if (status->role != ROLE_PROVINCE)
        printf("  province's key:   %s%s\n",
               *signing->province_key ? signing->province_key : "not yet known",
               !*signing->province_key ? ""
               : signing->province_key_pinned
                   ? " (matches the fingerprint given at init)"
                   : " (learned on first use; no fingerprint given at init)");
    for (size_t i = 0; status->has_server && i < status->server.child_count; i++) {
        const node_child_status_t *child = &status->server.children[i];
        printf("  child %s: %s, last contact %s\n", child->code,
               child->connected ? "connected" : "disconnected",
               child->last_contact ? stime_format(child->last_contact, when, sizeof when)
                                   : "never");
    }
}

static int verb_signing_keys(const cli_args_t *args, node_t *node)
{
    node_signing_key_t *keys = NULL;
    size_t count = 0;
    int rc = node_signing_keys(node, &keys, &count);
    if (rc) {
        fprintf(stderr, msg("error: cannot read the signing keys: %s\n"), sf_strerror(rc));
        return CLI_FAILURE;
    }
    char since[STIME_BUFSZ], until[STIME_BUFSZ];
    if (cli_flag(args, "json")) {
        char *text = cli_signing_keys_json(keys, count);
        printf("%s\n", text);
        free(text);
    }
    for (size_t i = 0; !cli_flag(args, "json") && i < count; i++)
        printf("%-8s %s  since %s  %s%s%s%s\n", keys[i].unit, keys[i].fingerprint,
               stime_format(keys[i].since, since, sizeof since),
               !keys[i].until    ? "in force"
               : keys[i].revoked ? "revoked at "
                                 : "replaced at ",
               keys[i].until ? stime_format(keys[i].until, until, sizeof until) : "",
               *keys[i].registered_by ? "  via " : "", keys[i].registered_by);
    free(keys);
    return 0;
}

static int verb_status(const cli_args_t *args, node_t *node)
{
    sf_error_t error = {0, ""};
    node_status_t *status = node_status(node, &error);
    if (!status) {
        fprintf(stderr, msg("error: %s\n"), error.text);
        return CLI_FAILURE;
    }
    if (cli_flag(args, "json")) {
        char *text = cli_status_json(status);
        printf("%s\n", text);
        free(text);
    } else {
        print_status_text(status);
    }
    node_status_destroy(&status);
    return 0;
}

static void print_versions_text(const node_versions_t *list)
{
    char when[STIME_BUFSZ], state[640];
    for (size_t i = 0; i < list->count; i++) {
        const node_version_t *version = &list->versions[i];
        const char *text = cli_version_state(version, state, sizeof state);
        printf("%-28s %-9s %u v%u %s%s%s\n", version->report_id, version->unit, version->year,
               version->version, stime_format(version->submitted_at, when, sizeof when),
               text ? " " : "", text ? text : "");
        if (version->return_reason)
            printf("    reason: %s\n", version->return_reason);
    }
}

static int verb_list(const cli_args_t *args, node_t *node)
{
    node_versions_t *list = node_list(node, NULL);
    if (!list) {
        fprintf(stderr, msg("error: cannot read the stored reports\n"));
        return CLI_FAILURE;
    }
    if (cli_flag(args, "json")) {
        char *text = cli_versions_json(list);
        printf("%s\n", text);
        free(text);
    } else {
        print_versions_text(list);
    }
    node_versions_destroy(&list);
    return 0;
}

static int verb_revoke(const cli_args_t *args, node_t *node)
{
    char err[512];
    const char *text = cli_get(args, "since");
    int64_t since = 0;
    if (text && stime_parse(text, &since) != 0) {
        fprintf(stderr, msg("error: --since %s: expected an ISO 8601 time such as %s\n"), text,
                "2018-07-01T00:00:00+08:00");
        return CLI_USAGE;
    }
    int rc = node_revoke(node, cli_get(args, "code"), since, err, sizeof err);
    if (rc) {
        fprintf(stderr, msg("error: %s\n"), err);
        return cli_exit_code(rc);
    }
    printf("revoked %s\n", cli_get(args, "code"));
    return 0;
}

static int verb_rotate_keys(const cli_args_t *args, node_t *node)
{
    (void)args;
    char err[512], fingerprint[SIGN_FINGERPRINT_LEN + 1];
    int rc = node_rotate_keys(node, fingerprint, sizeof fingerprint, err, sizeof err);
    if (rc) {
        fprintf(stderr, msg("error: %s\n"), err);
        return cli_exit_code(rc);
    }
    printf("new signing key fingerprint: %s\n", fingerprint);
    printf("%s\n", node_role(node) == ROLE_COUNTY
                       ? "new CURVE key: used once the parent has the announcement (queue kept)"
                       : "queued to the parent, signed by the old key and the new (queue kept)");
    return 0;
}

static void print_change(const char *what, const char *old_value, const char *new_value)
{
    if (strcmp(old_value, new_value) == 0)
        printf("%-13s %s (unchanged)\n", what, new_value);
    else
        printf("%-13s %s -> %s\n", what, old_value, new_value);
}

static int verb_set_upstream(const cli_args_t *args, node_t *node)
{
    char old_endpoint[256], old_key[64], err[512], z85[KEYS_Z85_LEN + 1];
    snprintf(old_endpoint, sizeof old_endpoint, "%s", node_upstream(node));
    snprintf(old_key, sizeof old_key, "%s", node_upstream_key(node));
    const char *endpoint = cli_get(args, "upstream"), *key;
    if (key_option(args, "upstream-key", z85, &key) != CLI_CONTINUE)
        return CLI_USAGE;
    int rc = node_set_upstream(node, endpoint, key, err, sizeof err);
    if (rc) {
        fprintf(stderr, msg("error: %s\n"), err);
        return cli_exit_code(rc);
    }
    print_change("upstream:", old_endpoint, endpoint);
    print_change("upstream key:", old_key, key);
    node_status_t *status = node_status(node, NULL);
    bool running = status && status->daemon_running;
    bool changed = strcmp(old_endpoint, endpoint) != 0 || strcmp(old_key, key) != 0;
    printf("queue kept: %llu item(s) wait for the parent; %s\n",
           status ? (unsigned long long)status->queued : 0ULL,
           !changed  ? "nothing to switch"
           : running ? "the running daemon switches within a second"
                     : "the daemon connects there when it runs");
    node_status_destroy(&status);
    return 0;
}

/* backup --out DIR: beside a running daemon too (node_backup). */
static int verb_backup(const cli_args_t *args, node_t *node)
{
    const char *out = cli_get(args, "out");
    if (!out || !*out) {
        fprintf(stderr, msg("error: --out DIR is required: a new or empty directory\n"));
        return CLI_USAGE;
    }
    char err[8192];
    node_backup_t backup;
    int rc = node_backup(node, out, &backup, err, sizeof err);
    if (rc) {
        fprintf(stderr, msg("error: %s\n"), err);
        return cli_exit_code(rc);
    }
    printf(msg("backup written to %s\n"), out);
    printf(msg("  store/data.mdb: %llu bytes (compacted), %zu report version(s)\n"),
           (unsigned long long)backup.store_bytes, backup.reports);
    printf(msg("  keys/: %zu file(s), run/: empty\n"), backup.key_files);
    printf(msg("to restore: stop the daemon, move the data directory aside, move %s into its "
               "place, start the daemon (docs/operations.md, \"Restoring a node from a "
               "backup\")\n"),
           out);
    return 0;
}

static const cli_verb_t common_verbs[] = {
    {"key", "json", 0,
     MSG_NOOP("[--json]: print this node's public key (below: where it goes), its signing key and "
              "fingerprint"),
     verb_key},
    {"allow", "code=,key=,key-file=,sign-key=", 0,
     MSG_NOOP("--code CODE --key KEY|--key-file FILE [--sign-key HEX]: register a child's public "
              "key, Z85 or hex (and the signing key it must announce)"),
     verb_allow},
    {"revoke", "code=,since=", 0,
     MSG_NOOP("--code CODE [--since ISO-8601]: remove a child's keys; its open session ends too, "
              "and what its signing key signed from then on is refused"),
     verb_revoke},
    {"rotate-keys", "", 0,
     MSG_NOOP("new signing key (a county: also a new CURVE key), announced to the parent under "
              "the old one; the queue is kept (stop the daemon first)"),
     verb_rotate_keys},
    {"set-upstream", "upstream=,upstream-key=,upstream-key-file=", 0,
     MSG_NOOP("--upstream ENDPOINT --upstream-key KEY|--upstream-key-file FILE: a moved or "
              "re-keyed parent; queue kept"),
     verb_set_upstream},
    {"run", "http=", 0,
     MSG_NOOP("[--http 127.0.0.1:PORT]: run the daemon in the foreground (SIGTERM/SIGINT stop it); "
              "--http serves the web console (another address needs an operator account)"),
     verb_run},
    {"status", "json", 0, MSG_NOOP("[--json]: stored reports, queue, link state"), verb_status},
    {"signing-keys", "json", 0,
     MSG_NOOP("[--json]: the signing keys held here, by unit: fingerprint, since, in force, "
              "replaced or revoked, and the node each came through"),
     verb_signing_keys},
    {"list", "json", 0,
     MSG_NOOP("[--json]: every stored report version (and, on a county, its state)"), verb_list},
    {"backup", "out=", 0,
     MSG_NOOP("--out DIR: a consistent copy of the store and the keys, taken while the daemon "
              "runs; DIR must be new or empty"),
     verb_backup},
    {NULL, NULL, 0, NULL, NULL},
};

static const char *init_options(node_role_t role)
{
    switch (role) {
    case ROLE_COUNTY:
        return "code=,upstream=,upstream-key=,upstream-key-file=,programme=,province-fingerprint=";
    case ROLE_PREFECTURE:
        return "code=,listen=,upstream=,upstream-key=,upstream-key-file=,programme=,"
               "province-fingerprint=";
    default:
        return "listen=,programme=";
    }
}

static int do_init(const cli_args_t *args, node_role_t role)
{
    char err[512], z85[KEYS_Z85_LEN + 1];
    const char *upstream_key;
    if (key_option(args, "upstream-key", z85, &upstream_key) != CLI_CONTINUE)
        return CLI_USAGE;
    node_init_options_t options = {
        role,         cli_get(args, "code"),     cli_get(args, "listen"), cli_get(args, "upstream"),
        upstream_key, cli_get(args, "programme")};
    const char *fingerprint = cli_get(args, "province-fingerprint");
    if (fingerprint && !sign_fingerprint_valid(fingerprint)) {
        fprintf(stderr,
                msg("error: --province-fingerprint %s: expected XXXX-XXXX-XXXX-XXXX (A-Z, 2-7), "
                    "as the province's 'key' prints it\n"),
                fingerprint);
        return CLI_USAGE;
    }
    int rc = node_init(args->data, &options, err, sizeof err);
    if (rc) {
        fprintf(stderr, msg("error: %s\n"), err);
        return rc == SF_EEXIST ? CLI_USAGE : cli_exit_code(rc);
    }
    sf_error_t error = {0, ""};
    node_t *node = node_open(args->data, role, &error);
    if (!node) {
        fprintf(stderr, msg("error: %s\n"), error.text);
        return CLI_FAILURE;
    }
    printf("initialised %s %s in %s\npublic key: %s\n", node_role_name(role), node_code(node),
           args->data, node_public_key(node));
    if (fingerprint && (rc = node_set_province_fingerprint(node, fingerprint, err, sizeof err)))
        fprintf(stderr, msg("error: %s\n"), err);
    node_destroy(&node);
    return rc ? cli_exit_code(rc) : 0;
}

/* --help and a usage error: in the process's language, as the messages. */
static void usage(FILE *out, const char *program, node_role_t role, const cli_verb_t *extra)
{
    fprintf(out, msg("usage: %s --data DIR VERB [OPTIONS]\n\nverbs:\n"), program);
    fprintf(out, "  %-12s %s\n", "init",
            role == ROLE_COUNTY
                ? "--code CODE --upstream ENDPOINT --upstream-key KEY|--upstream-key-file FILE "
                  "[--programme FILE]"
            : role == ROLE_PREFECTURE ? "--code CODE --listen ENDPOINT --upstream ENDPOINT "
                                        "--upstream-key KEY|--upstream-key-file FILE "
                                        "[--programme FILE]"
                                      : "--listen ENDPOINT [--programme FILE]");
    fprintf(out, "  %-12s %s\n", "", msg("(without --programme: the embedded Yunnan 2017-2020)"));
    for (const cli_verb_t *verb = common_verbs; verb->name; verb++)
        if ((role != ROLE_COUNTY || (verb->fn != verb_allow && verb->fn != verb_revoke)) &&
            (role != ROLE_PROVINCE || verb->fn != verb_set_upstream))
            fprintf(out, "  %-12s %s\n", verb->name, msg(verb->usage));
    for (const cli_verb_t *verb = extra; verb && verb->name; verb++)
        fprintf(out, "  %-12s %s\n", verb->name, msg(verb->usage));
    fprintf(out, "  %-12s %s\n", "--version", msg("print the program and its version (no --data)"));
    fprintf(out,
            msg("\n%s\nSHIFAN_NOW=ISO-8601 sets the clock; exit codes: 0 ok, 2 bad input, 1 "
                "failure.\n"),
            role == ROLE_COUNTY
                ? msg("The key goes to the hub: prefecture-hub allow --code CODE --key KEY.")
            : role == ROLE_PREFECTURE
                ? msg("The key goes to the province (province-core allow --code CODE --key KEY) "
                      "and to each county (init --upstream-key KEY).")
                : msg("The key goes to each hub (prefecture-hub init --upstream-key KEY)."));
}

/* True if `name` is in the comma-separated spec; *takes_value says if "name=". */
static bool option_allowed(const char *spec, const char *name, bool *takes_value)
{
    size_t len = strlen(name);
    for (const char *p = spec; p && *p;) {
        const char *end = strchr(p, ',');
        size_t item = end ? (size_t)(end - p) : strlen(p);
        bool value = item > 0 && p[item - 1] == '=';
        if ((value ? item - 1 : item) == len && strncmp(p, name, len) == 0) {
            *takes_value = value;
            return true;
        }
        p = end ? end + 1 : NULL;
    }
    return false;
}

/* True if some verb of this program takes --name; *takes_value as above. The
 * first pass needs it to skip an option's value before the verb is known (no
 * name is a flag for one verb and takes a value for another). */
static bool option_known(node_role_t role, const cli_verb_t *extra, const char *name,
                         bool *takes_value)
{
    if (option_allowed(init_options(role), name, takes_value))
        return true;
    for (const cli_verb_t *v = common_verbs; v->name; v++)
        if (option_allowed(v->options, name, takes_value))
            return true;
    for (const cli_verb_t *v = extra; v && v->name; v++)
        if (option_allowed(v->options, name, takes_value))
            return true;
    return false;
}

static bool is_help(const char *arg)
{
    return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

/* --data DIR at argv[i]: its value, unless missing or given twice. */
static int take_data(int argc, char **argv, int i, cli_args_t *args)
{
    if (i + 1 >= argc || argv[i + 1][0] == '\0') {
        fprintf(stderr, msg("error: --data needs a directory\n"));
        return CLI_USAGE;
    }
    if (!args->data) {
        args->data = argv[i + 1];
    } else if (args->data != argv[i + 1]) {
        fprintf(stderr, msg("error: --data given twice\n"));
        return CLI_USAGE;
    }
    return CLI_CONTINUE;
}

/* --version: the program's own name, whatever argv[0] is, and the
 * version of CMake's project() (SHIFAN_VERSION_TEXT). */
static void print_version(node_role_t role)
{
    static const char *const programs[] = {
        [ROLE_COUNTY] = "county-node",
        [ROLE_PREFECTURE] = "prefecture-hub",
        [ROLE_PROVINCE] = "province-core",
    };
    printf("%s (Shifan) %s\n", programs[role], SHIFAN_VERSION_TEXT);
}

/* First pass: --data and the verb, wherever they stand. Sets *verb_at. */
static int find_verb_at(int argc, char **argv, node_role_t role, const cli_verb_t *extra,
                        const char *program, cli_args_t *args, int *verb_at)
{
    for (int i = 1; i < argc; i++) {
        if (is_help(argv[i])) {
            usage(stdout, program, role, extra);
            return 0;
        }
        if (strcmp(argv[i], "--version") == 0) {
            print_version(role);
            return 0;
        }
        if (strcmp(argv[i], "--data") == 0) {
            if (args->data && i + 1 < argc && argv[i + 1][0] != '\0') {
                fprintf(stderr, msg("error: --data given twice\n"));
                return CLI_USAGE;
            }
            int rc = take_data(argc, argv, i++, args);
            if (rc != CLI_CONTINUE)
                return rc;
            continue;
        }
        if (strncmp(argv[i], "--", 2) == 0 && argv[i][2] != '\0') {
            bool takes_value = false;
            if (!option_known(role, extra, argv[i] + 2, &takes_value)) {
                fprintf(stderr, msg("error: unknown option %s (see %s --help)\n"), argv[i],
                        program);
                return CLI_USAGE;
            }
            if (takes_value)
                i++; /* its value; the option itself is checked in the second pass */
            continue;
        }
        *verb_at = i;
        return CLI_CONTINUE;
    }
    fprintf(stderr, msg("error: no verb given (see %s --help)\n"), program);
    usage(stderr, program, role, extra);
    return CLI_USAGE;
}

/* The verb named args->verb (NULL for init); CLI_USAGE if there is none. */
static int find_verb(node_role_t role, const cli_verb_t *extra, const char *program,
                     const cli_args_t *args, const cli_verb_t **verb)
{
    *verb = NULL;
    if (strcmp(args->verb, "init") == 0)
        return CLI_CONTINUE;
    for (const cli_verb_t *v = common_verbs; v->name && !*verb; v++)
        if (strcmp(v->name, args->verb) == 0 &&
            !(role == ROLE_COUNTY && (v->fn == verb_allow || v->fn == verb_revoke)))
            *verb = v;
    for (const cli_verb_t *v = extra; v && v->name && !*verb; v++)
        if (strcmp(v->name, args->verb) == 0)
            *verb = v;
    if (*verb)
        return CLI_CONTINUE;
    fprintf(stderr, msg("error: unknown verb '%s' (see %s --help)\n"), args->verb, program);
    return CLI_USAGE;
}

/* One --option of the verb at argv[*i] (its value taken too). */
static int take_option(int argc, char **argv, int *i, const char *spec, const char *program,
                       cli_args_t *args)
{
    const char *name = argv[*i] + 2;
    bool takes_value = false;
    if (!option_allowed(spec, name, &takes_value)) {
        fprintf(stderr, msg("error: %s %s does not take --%s (see %s --help)\n"), program,
                args->verb, name, program);
        return CLI_USAGE;
    }
    if (args->count == CLI_MAX_OPTIONS || cli_get(args, name) || cli_flag(args, name)) {
        fprintf(stderr, msg("error: --%s given twice\n"), name);
        return CLI_USAGE;
    }
    args->names[args->count] = name;
    if (takes_value) {
        if (*i + 1 >= argc) {
            fprintf(stderr, msg("error: --%s needs a value\n"), name);
            return CLI_USAGE;
        }
        args->values[args->count] = argv[++*i];
    }
    args->count++;
    return CLI_CONTINUE;
}

/* Second pass: every option must be one the verb takes; positional
 * arguments as many as it needs. */
static int take_arguments(int argc, char **argv, int verb_at, const char *spec, int positional,
                          node_role_t role, const cli_verb_t *extra, const char *program,
                          cli_args_t *args)
{
    for (int i = 1; i < argc; i++) {
        int rc = CLI_CONTINUE;
        if (i == verb_at)
            continue;
        if (strcmp(argv[i], "--data") == 0)
            rc = take_data(argc, argv, i++, args);
        else if (is_help(argv[i])) {
            usage(stdout, program, role, extra);
            return 0;
        } else if (strncmp(argv[i], "--", 2) == 0 && argv[i][2] != '\0')
            rc = take_option(argc, argv, &i, spec, program, args);
        else if ((int)args->positional_count >= positional) {
            fprintf(stderr, msg("error: unexpected argument '%s'\n"), argv[i]);
            return CLI_USAGE;
        } else
            args->positional[args->positional_count++] = argv[i];
        if (rc != CLI_CONTINUE)
            return rc;
    }
    if ((int)args->positional_count < positional) {
        fprintf(stderr, msg("error: %s %s needs %s\n"), program, args->verb,
                strcmp(args->verb, "operator") == 0 ? "add, list or remove"
                : positional == 1                   ? "a FILE argument (or - for stdin)"
                                                    : "more arguments");
        return CLI_USAGE;
    }
    if (!args->data) {
        fprintf(stderr, msg("error: --data DIR is required\n"));
        return CLI_USAGE;
    }
    return CLI_CONTINUE;
}

/* Opens the node and runs the verb on it. */
static int run_verb(const cli_args_t *args, node_role_t role, const cli_verb_t *verb)
{
    sf_error_t error = {0, ""};
    node_t *node = node_open(args->data, role, &error);
    if (!node) {
        fprintf(stderr, msg("error: %s\n"), error.text);
        return error.code == SF_ESTATE || error.code == SF_EINVAL ? CLI_USAGE : CLI_FAILURE;
    }
    int exit_code = verb->fn(args, node);
    node_destroy(&node);
    return exit_code;
}

int cli_main(int argc, char **argv, node_role_t role, const cli_verb_t *extra)
{
    const char *program = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
    cli_args_t args = {0};
    slog_set_identity(program, NULL);
    int verb_at = -1;
    int rc = find_verb_at(argc, argv, role, extra, program, &args, &verb_at);
    if (rc != CLI_CONTINUE)
        return rc;
    args.verb = argv[verb_at];
    const cli_verb_t *verb;
    if ((rc = find_verb(role, extra, program, &args, &verb)) != CLI_CONTINUE)
        return rc;
    const char *spec = verb ? verb->options : init_options(role);
    int positional = verb ? verb->positional : 0;
    rc = take_arguments(argc, argv, verb_at, spec, positional, role, extra, program, &args);
    if (rc != CLI_CONTINUE)
        return rc;
    return verb ? run_verb(&args, role, verb) : do_init(&args, role);
}
