/* bench_sign: what one Ed25519 signature and one verification cost on this
 * machine, over a payload the size of a report (docs/performance.md,
 * "Signed reports"): the costs each tier now pays per item.
 *
 *   build/bin/bench_sign [--size BYTES] [--count N]
 *
 * Prints sign_us, verify_us and blake2b_us (the body hash a receipt
 * covers), each the mean of N runs. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    size_t size = 1100;
    int count = 5000;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--size") == 0)
            size = (size_t)strtoul(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--count") == 0)
            count = atoi(argv[i + 1]);
    }
    if (sodium_init() < 0 || size == 0 || count <= 0) {
        fprintf(stderr, "usage: bench_sign [--size BYTES] [--count N]\n");
        return 2;
    }
    unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    unsigned char sig[crypto_sign_BYTES], hash[32];
    unsigned char *body = malloc(size);
    if (!body)
        return 1;
    randombytes_buf(body, size);
    crypto_sign_keypair(pk, sk);
    double start = seconds();
    for (int i = 0; i < count; i++)
        crypto_sign_detached(sig, NULL, body, size, sk);
    double sign = (seconds() - start) / count;
    int ok = 0;
    start = seconds();
    for (int i = 0; i < count; i++)
        ok += crypto_sign_verify_detached(sig, body, size, pk) == 0;
    double verify = (seconds() - start) / count;
    start = seconds();
    for (int i = 0; i < count; i++)
        crypto_generichash(hash, sizeof hash, body, size, NULL, 0);
    double blake = (seconds() - start) / count;
    printf("payload_bytes %zu\nsign_us %.1f\nverify_us %.1f\nblake2b_us %.2f\n", size, sign * 1e6,
           verify * 1e6, blake * 1e6);
    free(body);
    return ok == count ? 0 : 1;
}
