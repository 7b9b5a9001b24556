/* fuzz_apply: the receiver's apply path. Each input is one item payload
 * applied by node_apply_payload() to a real node, in a durable LMDB
 * transaction, exactly as the link applies what arrives: a county (from
 * its hub), the prefecture hub 530100 (from the province, or from one of
 * its counties) or the province (from a hub). The first byte picks the
 * node and the sender; the rest is the payload.
 *
 * The nodes live in a temporary directory ($TMPDIR, else /tmp), are
 * created once and made again every RESET_EVERY inputs, so that the store
 * stays small; what earlier inputs stored stays in between, as in a real
 * node. After an item is applied, the node reads back what it stored as
 * its daemon and verbs would: the programme reload, `list`, `evaluate` of
 * the item's year, and at a hub `recommend`.
 *
 * Properties: no sanitizer report or leak; an item is applied (0) or
 * refused (LINK_REFUSED, with a reason): never an error. An error aborts
 * the link's whole transaction and the sender resends the same item for
 * ever (link.h), so a malformed item must not cause one; only the
 * environment's (no memory, disk full, I/O) may. */
#define _XOPEN_SOURCE 700 /* nftw */
#include "fuzz_common.h"

#include "base/error.h"
#include "transport/link.h"
#include "domain/engine.h"
#include "transport/codec.h"
#include "app/node.h"

#include <ftw.h>
#include <zmq.h>

#define RESET_EVERY 2000

static char base[4096];
static node_t *nodes[3]; /* county 530102, hub 530100, province 530000 */
static unsigned long inputs;

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void close_nodes(void)
{
    for (size_t n = 0; n < 3; n++)
        node_destroy(&nodes[n]);
    if (base[0])
        nftw(base, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static node_t *make_node(const char *name, const node_init_options_t *options)
{
    char dir[4200], err[512];
    snprintf(dir, sizeof dir, "%s/%s", base, name);
    int rc = node_init(dir, options, err, sizeof err);
    if (rc)
        fuzz_fail("cannot make the %s node in %s: %s", name, dir, err);
    sf_error_t error = {0, ""};
    node_t *node = node_open(dir, options->role, &error);
    if (!node)
        fuzz_fail("cannot open the %s node: %s", name, error.text);
    return node;
}

static void allow(node_t *parent, const char *code, const char *key)
{
    char err[512];
    if (node_allow(parent, code, key, err, sizeof err))
        fuzz_fail("allow %s: %s", code, err);
}

static void open_nodes(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(base, sizeof base, "%s/shifan-fuzz-apply.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(base))
        fuzz_fail("mkdtemp %s failed", base);
    node_init_options_t province = {ROLE_PROVINCE, NULL, "tcp://127.0.0.1:7001", NULL, NULL, NULL};
    nodes[2] = make_node("province", &province);
    node_init_options_t hub = {ROLE_PREFECTURE,           "530100",
                               "tcp://127.0.0.1:7002",    "tcp://127.0.0.1:7001",
                               node_public_key(nodes[2]), NULL};
    nodes[1] = make_node("hub", &hub);
    node_init_options_t county = {
        ROLE_COUNTY, "530102", NULL, "tcp://127.0.0.1:7002", node_public_key(nodes[1]), NULL};
    nodes[0] = make_node("county", &county);
    /* Two registered children each: the real one, and one that exists
     * only as a key (its stream is queued to, nothing more). */
    char public_z85[41], secret_z85[41];
    allow(nodes[2], "530100", node_public_key(nodes[1]));
    if (zmq_curve_keypair(public_z85, secret_z85))
        fuzz_fail("zmq_curve_keypair failed");
    allow(nodes[2], "530300", public_z85);
    allow(nodes[1], "530102", node_public_key(nodes[0]));
    if (zmq_curve_keypair(public_z85, secret_z85))
        fuzz_fail("zmq_curve_keypair failed");
    allow(nodes[1], "530103", public_z85);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* A fixed clock: receipts and rankings do not depend on when it runs. */
    setenv("SHIFAN_NOW", "2018-08-15T10:00:00+08:00", 1);
    open_nodes();
    atexit(close_nodes);
    return 0;
}

/* The sender, as the link names it: "" for the parent, else the child's
 * code proven by its key. Counties only hear from their hub, the province
 * only from hubs; a code the node never registered is there too. */
static const char *peer_for(size_t node, uint8_t choice)
{
    static const char *const hub_peers[] = {"", "530102", "530103", "530302"};
    static const char *const province_peers[] = {"530100", "530300", "530100", "110000"};
    if (node == 0)
        return "";
    return node == 1 ? hub_peers[choice % 4] : province_peers[choice % 4];
}

/* The year an item is about, to evaluate after it was stored. */
static int item_year(const uint8_t *data, size_t size, const programme_t *programme)
{
    Shifan__Payload *payload = codec_payload_unpack(data, size);
    unsigned year = 0;
    if (payload && payload->body_case == SHIFAN__PAYLOAD__BODY_REPORT)
        year = payload->report->year;
    else if (payload && payload->body_case == SHIFAN__PAYLOAD__BODY_INSPECTION)
        year = payload->inspection->year;
    else if (payload && payload->body_case == SHIFAN__PAYLOAD__BODY_RETURN_FOR_CORRECTION)
        year = payload->return_for_correction->year;
    else if (payload && payload->body_case == SHIFAN__PAYLOAD__BODY_RECOMMENDATION)
        year = payload->recommendation->year;
    else if (payload && payload->body_case == SHIFAN__PAYLOAD__BODY_EVALUATION)
        year = payload->evaluation->year;
    codec_payload_free(payload);
    return year <= 9999 && programme_has_year(programme, (int)year)
               ? (int)year
               : programme_first_year(programme);
}

/* What the daemon and the verbs do with the store after an item landed. */
static void read_back(node_t *node, size_t which, const uint8_t *data, size_t size)
{
    node_programme_reload(node, false);
    node_versions_t *list = node_list(node, NULL);
    node_versions_destroy(&list);
    int year = item_year(data, size, node_programme(node));
    char err[512];
    engine_result_t *result = NULL;
    if (node_evaluate(node, year, which == 2 ? NULL : node_code(node), &result, err, sizeof err) ==
        0)
        engine_result_destroy(&result);
    if (which == 1) {
        node_recommendations_t *lists = NULL;
        if (node_recommend(node, year, NULL, &lists, err, sizeof err) == 0)
            node_recommendations_destroy(&lists);
    }
    free(node_published_evaluation(node, year, err, sizeof err));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (++inputs % RESET_EVERY == 0) {
        close_nodes();
        open_nodes();
    }
    size_t which = data[0] % 3;
    const char *peer = peer_for(which, (uint8_t)(data[0] / 3));
    char why[256];
    int rc = node_apply_payload(nodes[which], peer, data + 1, size - 1, why, sizeof why);
    if (rc == LINK_REFUSED || rc == LINK_REFUSED_UNIT || rc == LINK_OVER_LIMIT) {
        if (!why[0])
            fuzz_fail("a refusal without a reason");
        return 0;
    }
    if (rc == LINK_LATER) /* a newer programme stored, not yet loaded */
        return 0;
    if (rc == SF_ENOMEM || rc == SF_ENOSPC || rc == SF_EIO)
        return 0;
    if (rc != 0)
        fuzz_fail("applying an item from \"%s\" at the %s failed with %d (%s): the link would "
                  "refuse it as CANNOT_STORE, but the node should have judged it",
                  peer, node_role_name((node_role_t)which), rc, sf_strerror(rc));
    read_back(nodes[which], which, data + 1, size - 1);
    return 0;
}
