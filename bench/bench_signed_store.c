/* bench_signed_store: fills a province's store as the link would leave it
 * once every county signs (issue 12), to time `province-core evaluate`:
 * every unit of evaluation of the node's programme gets V versions of a
 * full 2018 report, each signed by the county's key and stamped by its
 * prefecture hub's signed receipt, and both keys are registered in
 * DB_SIGNKEYS. One county in ten claims a time three days before the hub's
 * last contact with it, so the evaluation has flags to show.
 *
 *   province-core --data DIR init --listen tcp://127.0.0.1:1
 *   build/bin/bench_signed_store --data DIR [--versions V]
 *   time province-core --data DIR evaluate --year 2018 --format json --out /dev/null
 *
 * No daemon may run on DIR meanwhile. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/records.h"
#include "storage/signkeys.h"
#include "transport/codec.h"
#include "domain/programme.h"
#include "domain/report.h"
#include "app/node.h"

#define CLAIMED 1533000000 /* 2018-07-31T09:20:00+08:00 */
#define DAY (24 * 3600)

static const char *report_template =
    "{\"unit\":\"%s\",\"year\":2018,\"values\":{\"1.1\":true,\"1.2a\":true,\"1.2b\":true,"
    "\"1.2c\":3,\"1.3\":true,\"1.4a\":true,\"1.4b\":2,\"1.5\":true,\"2.1\":{\"num\":912,"
    "\"den\":1000},\"2.2\":{\"num\":850,\"den\":1000},\"2.3\":{\"num\":960,\"den\":1000},"
    "\"2.4\":{\"num\":930,\"den\":1000},\"2.5\":{\"num\":880,\"den\":1000},\"2.6\":{\"num\":870,"
    "\"den\":1000},\"2.7\":{\"num\":50,\"den\":50},\"2.8\":{\"num\":970,\"den\":1000},\"3.1\":"
    "true,\"3.2\":true,\"3.3a\":true,\"3.3b\":3,\"3.4\":true,\"3.5\":6,\"3.6\":2,\"4.1\":true,"
    "\"4.2\":true,\"4.3\":true,\"4.4\":true,\"4.5\":true,\"5.1\":true,\"5.2\":true,\"5.3\":2,"
    "\"5.4a\":1,\"5.4b\":1,\"5.4c\":12,\"5.5\":true,\"6.1\":{\"num\":95,\"den\":100},\"6.2\":{"
    "\"num\":92,\"den\":100},\"6.3\":{\"num\":97,\"den\":100}}}";

typedef struct {
    uint8_t public_key[CODEC_SIGN_PUBLIC_BYTES];
    uint8_t secret_key[CODEC_SIGN_SECRET_BYTES];
} pair_t;

struct fill {
    store_t *store;
    const programme_t *programme;
    const programme_unit_t *unit;
    const programme_unit_t *hub;
    const pair_t *county_pair, *hub_pair;
    int versions;
    bool rewound;
};

static int put_key(store_txn_t *txn, store_t *store, const char *unit, const pair_t *pair)
{
    signkey_t key;
    memset(&key, 0, sizeof key);
    snprintf(key.unit, sizeof key.unit, "%s", unit);
    memcpy(key.key, pair->public_key, sizeof key.key);
    key.since = CLAIMED - 365 * DAY;
    return signkeys_put(txn, store, &key);
}

/* Version v of the unit's report as the province stores it. */
static int signed_version(const struct fill *f, int v, uint8_t **out, size_t *len, report_t **kept)
{
    char text[4096];
    snprintf(text, sizeof text, report_template, f->unit->code);
    sf_error_t error = {0, ""};
    report_t *report =
        report_load(text, strlen(text), "bench", f->unit->code, f->programme, &error);
    if (!report)
        return SF_EINVAL;
    snprintf(report->report_id, sizeof report->report_id, "%s-2018-v%d-bench", f->unit->code, v);
    snprintf(report->origin, sizeof report->origin, "%s", f->unit->code);
    report->version = (uint32_t)v;
    report->submitted_at = CLAIMED + v * 3600 - (f->rewound ? 3 * DAY : 0);
    Shifan__Report *wire = report_to_proto(report);
    Shifan__Payload payload = SHIFAN__PAYLOAD__INIT;
    payload.body_case = SHIFAN__PAYLOAD__BODY_REPORT;
    payload.report = wire;
    uint8_t *body = NULL, *item = NULL;
    size_t body_len, item_len;
    int rc = wire ? codec_payload_pack(&payload, &body, &body_len) : SF_ENOMEM;
    report_proto_free(wire);
    if (rc == 0)
        rc = codec_payload_sign(body, body_len, f->unit->code, f->county_pair->public_key,
                                f->county_pair->secret_key, &item, &item_len);
    codec_seal_t seal;
    Shifan__Payload *opened = rc ? NULL : codec_payload_open(NULL, item, item_len, &seal);
    int64_t received = CLAIMED + v * 3600 + 30;
    codec_receipt_t receipt = {f->hub->code,   received,       received - 60,
                               received - 600, seal.body_hash, f->hub_pair->secret_key};
    if (rc == 0)
        rc = opened ? codec_payload_stamp(item, item_len, &receipt, out, len) : SF_EINVAL;
    codec_payload_free(opened);
    free(body);
    free(item);
    *kept = report;
    return rc;
}

static int fill_unit(store_txn_t *txn, void *arg)
{
    const struct fill *f = arg;
    int rc = put_key(txn, f->store, f->unit->code, f->county_pair);
    for (int v = 1; rc == 0 && v <= f->versions; v++) {
        uint8_t *bytes = NULL;
        size_t len = 0;
        report_t *report = NULL;
        rc = signed_version(f, v, &bytes, &len, &report);
        records_report_t record = {
            report ? report->report_id : "",  f->unit->code, 2018, (uint32_t)v, 0,
            report ? report->submitted_at : 0};
        bool stored;
        if (rc == 0)
            rc = records_report_store(txn, f->store, &record, bytes, len, &stored);
        free(bytes);
        report_destroy(&report);
    }
    return rc;
}

static int put_hub_key(store_txn_t *txn, void *arg)
{
    const struct fill *f = arg;
    return put_key(txn, f->store, f->hub->code, f->hub_pair);
}

int main(int argc, char **argv)
{
    const char *data = NULL;
    int versions = 1;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--data") == 0)
            data = argv[i + 1];
        else if (strcmp(argv[i], "--versions") == 0)
            versions = atoi(argv[i + 1]);
    }
    if (!data || versions < 1 || sodium_init() < 0) {
        fprintf(stderr, "usage: bench_signed_store --data DIR [--versions V]\n");
        return 2;
    }
    sf_error_t error = {0, ""};
    node_t *node = node_open(data, ROLE_PROVINCE, &error);
    if (!node) {
        fprintf(stderr, "bench_signed_store: %s\n", error.text);
        return 1;
    }
    const programme_t *programme = node_programme(node);
    pair_t hub_pair, county_pair;
    crypto_sign_keypair(hub_pair.public_key, hub_pair.secret_key);
    size_t units = 0, flagged = 0;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < programme_unit_count(programme); i++) {
        const programme_unit_t *unit = programme_unit(programme, i);
        if (!unit->evaluated || unit->prefecture < 0)
            continue;
        crypto_sign_keypair(county_pair.public_key, county_pair.secret_key);
        struct fill f = {node_store(node), programme, unit,     NULL,
                         &county_pair,     &hub_pair, versions, units % 10 == 0};
        f.hub = programme_unit(programme, (size_t)unit->prefecture);
        /* One hub key for the bench: registered under every prefecture. */
        rc = store_write(f.store, put_hub_key, &f);
        if (rc == 0)
            rc = store_write(f.store, fill_unit, &f);
        units++;
        flagged += f.rewound;
    }
    node_destroy(&node);
    if (rc) {
        fprintf(stderr, "bench_signed_store: %s\n", sf_strerror(rc));
        return 1;
    }
    printf("units %zu versions %d rewound %zu\n", units, versions, flagged);
    return 0;
}
