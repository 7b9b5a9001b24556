/* cli_operator.c - the verbs of the console's operator accounts (`operator
 * add|list|remove`) and of the audit trail (`audit`), on every program
 * (docs/console.md, docs/operations.md). A password is read from stdin,
 * prompted for without echo on a terminal: never from the command line,
 * where `ps` and the shell's history would show it. */
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "app/cli.h"
#include "base/msg.h"
#include "app/console.h"
#include "base/stime.h"
#include "storage/operators.h"

#define CLI_OPERATOR_WHO "(command line)" /* the audit trail's operator for verbs */

/* Reads one line of at most OPERATORS_PASSWORD_MAX bytes into buf (size
 * OPERATORS_PASSWORD_MAX + 2), without its line end; false at end of input
 * or for a longer line. */
static bool read_line(char *buf, size_t size)
{
    if (!fgets(buf, (int)size, stdin))
        return false;
    size_t len = strcspn(buf, "\r\n");
    bool whole = buf[len] != '\0' || feof(stdin);
    buf[len] = '\0';
    return whole;
}

/* Prompts on the terminal with echo off (restored after). */
static bool prompt_line(const char *prompt, char *buf, size_t size)
{
    struct termios old, quiet;
    bool terminal = tcgetattr(STDIN_FILENO, &old) == 0;
    fputs(prompt, stderr);
    fflush(stderr);
    if (terminal) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    bool ok = read_line(buf, size);
    if (terminal) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stderr);
    }
    return ok;
}

/* The new password: twice on a terminal, one line of stdin otherwise. */
static int read_password(const char *name, char *password, size_t size)
{
    char again[OPERATORS_PASSWORD_MAX + 2], prompt[128];
    int rc = 0;
    snprintf(prompt, sizeof prompt, "password for %s: ", name);
    if (!isatty(STDIN_FILENO)) {
        if (!read_line(password, size))
            rc = CLI_USAGE;
    } else if (!prompt_line(prompt, password, size) ||
               !prompt_line("the same again: ", again, sizeof again)) {
        rc = CLI_USAGE;
    } else if (strcmp(password, again) != 0) {
        fprintf(stderr, msg("error: the two passwords differ: nothing changed\n"));
        rc = CLI_USAGE;
    }
    sodium_memzero(again, sizeof again);
    if (rc && !password[0])
        fprintf(stderr, msg("error: no password on stdin (one line, %d to %d bytes)\n"),
                OPERATORS_PASSWORD_MIN, OPERATORS_PASSWORD_MAX);
    return rc;
}

/* An entry in the audit trail for a change made here; a failure is said. */
static void audit_cli_change(node_t *node, const char *action, const char *target)
{
    audit_entry_t entry = {.at = stime_now()};
    snprintf(entry.who, sizeof entry.who, "%s", CLI_OPERATOR_WHO);
    snprintf(entry.node, sizeof entry.node, "%s", node_code(node));
    snprintf(entry.action, sizeof entry.action, "%s", action);
    snprintf(entry.target, sizeof entry.target, "%s", target);
    int rc = audit_append(node_store(node), &entry);
    if (rc)
        fprintf(stderr, msg("warning: %s %s is NOT in the audit trail: %s\n"), action, target,
                sf_strerror(rc));
}

static int operator_add(node_t *node, const char *name)
{
    char password[OPERATORS_PASSWORD_MAX + 2] = "";
    int rc = read_password(name, password, sizeof password);
    size_t len = strlen(password);
    if (!rc && (len < OPERATORS_PASSWORD_MIN || len > OPERATORS_PASSWORD_MAX)) {
        fprintf(stderr, msg("error: a password has %d to %d bytes (this one %zu)\n"),
                OPERATORS_PASSWORD_MIN, OPERATORS_PASSWORD_MAX, len);
        rc = CLI_USAGE;
    }
    int err = rc ? 0 : operators_add(node_store(node), name, password, stime_now());
    sodium_memzero(password, sizeof password);
    if (rc)
        return rc;
    if (err == SF_EEXIST)
        fprintf(stderr,
                msg("error: operator %s exists (for a new password: operator remove --name %s, "
                    "then add it again)\n"),
                name, name);
    else if (err)
        fprintf(stderr, msg("error: operator %s was NOT added: %s\n"), name, sf_strerror(err));
    if (err)
        return err == SF_EEXIST ? CLI_USAGE : CLI_FAILURE;
    audit_cli_change(node, "operator/add", name);
    printf("operator %s added: the console now needs a login (a running daemon too)\n", name);
    return 0;
}

static int operator_remove(node_t *node, const char *name)
{
    int rc = operators_remove(node_store(node), name);
    if (rc == SF_ENOTFOUND) {
        fprintf(stderr, msg("error: no operator %s (see operator list)\n"), name);
        return CLI_USAGE;
    }
    if (rc) {
        fprintf(stderr, msg("error: operator %s was NOT removed: %s\n"), name, sf_strerror(rc));
        return CLI_FAILURE;
    }
    audit_cli_change(node, "operator/remove", name);
    printf("operator %s removed: their console sessions end at their next request\n", name);
    return 0;
}

static int operator_list(node_t *node, bool as_json)
{
    operators_entry_t *entries;
    size_t count;
    char when[STIME_BUFSZ];
    if (operators_list(node_store(node), &entries, &count)) {
        fprintf(stderr, msg("error: cannot read the operator accounts\n"));
        return CLI_FAILURE;
    }
    json_t *list = as_json ? json_array() : NULL;
    for (size_t i = 0; i < count; i++) {
        stime_format(entries[i].created_at, when, sizeof when);
        if (list)
            json_array_append_new(
                list, json_pack("{s:s, s:s}", "name", entries[i].name, "created_at", when));
        else
            printf("%-20s created %s\n", entries[i].name, when);
    }
    if (list) {
        json_dumpf(list, stdout, JSON_COMPACT);
        putchar('\n');
    } else if (!count) {
        printf("no operator accounts: the console is open on loopback, refused elsewhere\n");
    }
    json_decref(list);
    free(entries);
    return 0;
}

int cli_verb_operator(const cli_args_t *args, node_t *node)
{
    const char *action = args->positional[0], *name = cli_get(args, "name");
    bool needs_name = strcmp(action, "add") == 0 || strcmp(action, "remove") == 0;
    if (strcmp(action, "list") == 0)
        return operator_list(node, cli_flag(args, "json"));
    if (!needs_name) {
        fprintf(stderr, msg("error: operator %s: expected add, list or remove\n"), action);
        return CLI_USAGE;
    }
    if (!name || !operators_name_valid(name)) {
        fprintf(stderr,
                msg("error: operator %s needs --name NAME (1 to %d bytes, no spaces, control "
                    "characters or ':')\n"),
                action, OPERATORS_NAME_MAX);
        return CLI_USAGE;
    }
    return strcmp(action, "add") == 0 ? operator_add(node, name) : operator_remove(node, name);
}

int cli_verb_audit(const cli_args_t *args, node_t *node)
{
    const char *text = cli_get(args, "limit");
    char *end = NULL, when[STIME_BUFSZ];
    long limit = text ? strtol(text, &end, 10) : 0;
    if (text && (!*text || *end || limit < 1)) {
        fprintf(stderr, msg("error: --limit %s: expected a number of entries (1 or more)\n"), text);
        return CLI_USAGE;
    }
    audit_entry_t *entries;
    size_t count;
    if (audit_list(node_store(node), (size_t)limit, &entries, &count)) {
        fprintf(stderr, msg("error: cannot read the audit trail\n"));
        return CLI_FAILURE;
    }
    json_t *list = cli_flag(args, "json") ? console_audit_json(entries, count) : NULL;
    char *json = list ? json_dumps(list, JSON_COMPACT) : NULL;
    json_decref(list);
    if (json)
        printf("%s\n", json);
    for (size_t i = 0; !json && i < count; i++)
        printf("%-5llu %s  %-16s %-8s %-16s %s\n", (unsigned long long)entries[i].seq,
               stime_format(entries[i].at, when, sizeof when), entries[i].who, entries[i].node,
               entries[i].action, entries[i].target);
    free(json);
    free(entries);
    return 0;
}
