/* sources: mod_apigw_auth/apigw_jwk.c mod_apigw_auth/apigw_b64url.c */
/* libs: -ljansson -lcrypto */
/* libFuzzer target for the key parser of mod_apigw_auth/apigw_jwk.c. The
 * input is the key data (a JWK set, a JWK or PEM). Beyond crashes and
 * leaks (each input gets its own pool, whose destruction frees the
 * EVP_PKEYs), it checks:
 *  - success exactly when at least one key came back, and none on error;
 *  - each key is whole and of its type: RSA, EC and OKP keys have an
 *    EVP_PKEY of that OpenSSL type and no secret, OCT keys a secret of at
 *    least APIGW_JWK_MIN_SECRET bytes and no EVP_PKEY; RSA keys have
 *    APIGW_JWK_MIN_RSA_BITS to 16384 bits (as OpenSSL counts them), EC
 *    keys one of the three curves, named alike by the JWK and OpenSSL,
 *    with the curve's bits and a point that passes OpenSSL's public check,
 *    OKP keys Ed25519 or Ed448 as OpenSSL has them;
 *  - for JSON that jansson parses (with duplicate members refused) into
 *    an object with a "keys" array: every element is either a key or a
 *    skipped line, exactly once, besides lines about the private parts
 *    of kept keys that have "d",
 *    and other JSON gives one key or skipped line at most;
 *    other data never yields more keys than it has "-----BEGIN ";
 *  - skipped lines and errors are printable ASCII (no input bytes of
 *    other kinds are echoed) and start as documented;
 *  - no OpenSSL error is left on the thread's queue. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/err.h>

#include "apigw_jwk.h"

#define FUZZ_TARGET "fuzz_jwk"
#include "fuzz_check.h"

#define PRIVATE_NOTE "holds private material; only its public part is used"

static apr_pool_t *root;

static int printable(const char *s)
{
    for (; *s; s++) {
        if (*s < 0x20 || *s > 0x7E) {
            return 0;
        }
    }
    return 1;
}

static int ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), t = strlen(tail);

    return n >= t && strcmp(s + n - t, tail) == 0;
}

static void check_ec(const apigw_jwk *k)
{
    static const struct {
        const char *crv, *group;
        int bits;
    } curves[] = {
        { "P-256", "prime256v1", 256 },
        { "P-384", "secp384r1", 384 },
        { "P-521", "secp521r1", 521 },
    };
    char group[80];
    size_t i, glen;
    EVP_PKEY_CTX *ctx;
    int found = 0, ok;

    CHECK(k->crv != NULL, "EC key without a curve");
    CHECK(EVP_PKEY_get_base_id(k->pkey) == EVP_PKEY_EC, "EC key of type %d",
          EVP_PKEY_get_base_id(k->pkey));
    CHECK(EVP_PKEY_get_utf8_string_param(k->pkey, OSSL_PKEY_PARAM_GROUP_NAME,
                                         group, sizeof(group), &glen),
          "EC key without a group");
    for (i = 0; i < sizeof(curves) / sizeof(curves[0]); i++) {
        if (strcmp(k->crv, curves[i].crv) == 0) {
            CHECK(strcmp(group, curves[i].group) == 0,
                  "crv %s but group %s", k->crv, group);
            CHECK(k->bits == curves[i].bits, "%s of %d bits", k->crv,
                  k->bits);
            found = 1;
        }
    }
    CHECK(found, "EC curve %s", k->crv);
    ctx = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey, NULL);
    ok = ctx && EVP_PKEY_public_check(ctx) == 1;
    EVP_PKEY_CTX_free(ctx);
    CHECK(ok, "EC point of %s fails the public check", k->crv);
}

static void check_key(const apigw_jwk *k)
{
    CHECK(k != NULL, "a NULL key");
    if (k->kty == APIGW_KTY_OCT) {
        CHECK(k->pkey == NULL, "OCT key with an EVP_PKEY");
        CHECK(k->secret != NULL && k->secret_len >= APIGW_JWK_MIN_SECRET,
              "OCT secret of %lu bytes", (unsigned long)k->secret_len);
        CHECK(k->crv == NULL, "OCT key with crv %s", k->crv);
        return;
    }
    CHECK(k->pkey != NULL, "key of kty %d without an EVP_PKEY", k->kty);
    CHECK(k->secret == NULL, "key of kty %d with a secret", k->kty);
    switch (k->kty) {
    case APIGW_KTY_RSA:
        CHECK(EVP_PKEY_get_base_id(k->pkey) == EVP_PKEY_RSA,
              "RSA key of type %d", EVP_PKEY_get_base_id(k->pkey));
        CHECK(k->bits >= APIGW_JWK_MIN_RSA_BITS && k->bits <= 16384,
              "RSA key of %d bits", k->bits);
        CHECK(EVP_PKEY_get_bits(k->pkey) == k->bits, "RSA bits %d vs %d",
              EVP_PKEY_get_bits(k->pkey), k->bits);
        CHECK(k->crv == NULL, "RSA key with crv %s", k->crv);
        break;
    case APIGW_KTY_EC:
        check_ec(k);
        break;
    case APIGW_KTY_OKP:
        CHECK(k->crv != NULL, "OKP key without a curve");
        CHECK((strcmp(k->crv, "Ed25519") == 0
               && EVP_PKEY_get_base_id(k->pkey) == EVP_PKEY_ED25519)
              || (strcmp(k->crv, "Ed448") == 0
                  && EVP_PKEY_get_base_id(k->pkey) == EVP_PKEY_ED448),
              "OKP crv %s of type %d", k->crv,
              EVP_PKEY_get_base_id(k->pkey));
        break;
    default:
        CHECK(0, "kty %d", k->kty);
    }
}

/* The size of the "keys" array jansson sees in data, and in *with_d how
 * many of its elements hold "d" with a kty of RSA, EC or OKP (those that
 * may be kept with a line about their private part); -1 for other JSON
 * (a single JWK at most), -2 for what is not JSON (PEM). */
static long set_size(const uint8_t *data, size_t size, long *with_d)
{
    size_t i = 0;
    json_t *j, *set, *o;
    long n = -1;

    *with_d = 0;
    while (i < size && data[i] && strchr(" \t\r\n", data[i])) {
        i++;
    }
    if (i == size || data[i] != '{') {
        return -2;
    }
    j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    set = json_object_get(j, "keys");
    if (json_is_array(set)) {
        n = (long)json_array_size(set);
        json_array_foreach(set, i, o) {
            const char *kty = json_string_value(json_object_get(o, "kty"));

            if (json_object_get(o, "d") && kty
                && (strcmp(kty, "RSA") == 0 || strcmp(kty, "EC") == 0
                    || strcmp(kty, "OKP") == 0)) {
                (*with_d)++;
            }
        }
    }
    json_decref(j);
    return n;
}

/* How many "-----BEGIN " data holds (OpenSSL reads long lines in
 * pieces, so not only those at the start of a line count). */
static int begin_marks(const uint8_t *data, size_t size)
{
    size_t i;
    int n = 0;

    for (i = 0; i + 11 <= size; i++) {
        if (memcmp(data + i, "-----BEGIN ", 11) == 0) {
            n++;
        }
    }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    apr_array_header_t *keys, *skipped;
    const char *why;
    long n, with_d, extra;
    int i, notes = 0;

    if (!root) {
        apr_initialize();
        apr_pool_create(&root, NULL);
    }
    apr_pool_create(&p, root);
    keys = apr_array_make(p, 2, sizeof(apigw_jwk *));
    skipped = apr_array_make(p, 2, sizeof(const char *));
    why = apigw_jwk_parse(p, (const char *)data, size, keys, skipped);

    CHECK(ERR_peek_error() == 0, "an OpenSSL error left: %lu",
          ERR_peek_error());
    CHECK((why == NULL) == (keys->nelts > 0), "why [%s] with %d keys",
          why ? why : "", keys->nelts);
    if (why) {
        CHECK(printable(why), "unprintable error");
        CHECK(strncmp(why, "no usable key: ", 15) == 0
              || strncmp(why, "not a JWK set, a JWK or PEM", 27) == 0
              || strcmp(why, "key data over 16 MB") == 0,
              "error [%s]", why);
    }
    for (i = 0; i < keys->nelts; i++) {
        check_key(APR_ARRAY_IDX(keys, i, const apigw_jwk *));
    }
    for (i = 0; i < skipped->nelts; i++) {
        const char *line = APR_ARRAY_IDX(skipped, i, const char *);

        CHECK(line && printable(line), "unprintable skipped line");
        CHECK(strncmp(line, "key ", 4) == 0
              || strncmp(line, "PEM block ", 10) == 0,
              "skipped line [%s]", line);
        if (ends_with(line, ": " PRIVATE_NOTE)) {
            notes++;
        }
    }
    n = set_size(data, size, &with_d);
    if (n >= 0) {
        /* the lines beyond one per element not kept are notes about
         * private parts: no more than the lines that read so (some may
         * only look so, through an echoed kty), the elements with "d"
         * and the keys kept */
        extra = skipped->nelts - (n - keys->nelts);
        CHECK(extra >= 0 && extra <= notes && extra <= with_d
              && extra <= keys->nelts,
              "%d keys and %d skipped (%d notes, %ld with d) of a set of %ld",
              keys->nelts, skipped->nelts, notes, with_d, n);
    }
    else if (n == -1) {
        CHECK(keys->nelts + skipped->nelts - notes <= 1,
              "%d keys and %d skipped (%d notes) of one JWK", keys->nelts,
              skipped->nelts, notes);
    }
    else {
        CHECK(keys->nelts <= begin_marks(data, size),
              "%d keys of %d BEGIN marks", keys->nelts,
              begin_marks(data, size));
    }
    apr_pool_destroy(p);
    return 0;
}
