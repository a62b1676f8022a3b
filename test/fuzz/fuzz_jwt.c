/* sources: mod_apigw_auth/apigw_jwt.c mod_apigw_auth/apigw_jwt_verify.c mod_apigw_auth/apigw_b64url.c */
/* libs: -ljansson -lcrypto */
/* libFuzzer target for the JWT code of mod_apigw_auth/apigw_jwt.c and
 * apigw_jwt_verify.c, against an independent reference written here:
 *
 * - apigw_b64url_decode of the input accepts it exactly when every byte
 *   is in the base64url alphabet, its length is not 1 mod 4 and this
 *   file's encoding of the bytes gives the input back;
 * - apigw_jwt_decode succeeds exactly when the input has exactly two
 *   dots, no NUL, each part decodes as above, the signature is not empty,
 *   header and payload parse (jansson, no duplicates) as objects, "alg" is
 *   a string, "kid" a string or absent, and there is no "crit"; then the
 *   signing input is the input up to the second dot and the signature is
 *   the third part's bytes; a shorter max_len refuses it as too long;
 * - every message is one of the fixed ones (none quotes the token);
 * - claim lookups: a top-level name finds json_object_get's value, a
 *   dotted path the member of the member; claim_text of a scalar is
 *   matched by claim_has; each word of a "scope" string is granted;
 * - check_claims: a pass means exp, nbf and iat hold under the rules and
 *   iss and aud are accepted, and a larger leeway never turns a pass into
 *   a failure;
 * - pick_key gives a key that fits an allowed alg (and has the token's
 *   kid), *unknown_kid only when no key has that kid; verify_sig is
 *   deterministic, leaves OpenSSL's error queue empty, and an HMAC pass
 *   matches HMAC() computed here.
 *
 * Input: the token, as is. The keys: an HMAC secret built by hand and
 * RSA, EC P-256 and Ed25519 public keys from PEM (the seeds are tokens
 * signed with them, made with PyJWT). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <apr_tables.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include "apigw_jwt.h"
#include "apigw_jwt_verify.h"

#define FUZZ_TARGET "fuzz_jwt"
#include "fuzz_check.h"

#define NOW ((apr_time_t)1700000000 * APR_USEC_PER_SEC)

static const char PEM_RSA[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAuJKmZbw7LU4k6dlzYwKU\n"
    "sTX3XWO7m4UhDA/wj1XxU8IA2++gR18KAFzwv68jq9q91lFW+aoz6RgyEf60b60i\n"
    "XGy5W7hBg6XZw0h1LitqTEd7fSIlz8LrmzvERMd5hI0rmMZVL6uhpC/cBCi4BkTu\n"
    "rMCdwzKVo0Gnj/auu96M/mizReYbgeAMKm99DpYiblg5eopSvIlaphkQmDTpcrVg\n"
    "F6qWIhfzOiP16StONBbe1M9qokwsrn5tpvLy6Oz6blRYVT2LsSu+pNnsfxclwq/4\n"
    "LxDAukLvLZ+5Owsn+KEomOCUa2kPwdUfU9cEJLYT0RverspERvfe4QOjmMd7q85W\n"
    "KQIDAQAB\n"
    "-----END PUBLIC KEY-----\n";

static const char PEM_EC256[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEDmI6iC61SHjBJUAXbplopoxq4Q7X\n"
    "uZfbquAKW2g2kHddytBXaj9wt8Cui+25KUWuEwYgG+lxul3WN/xQZ48xww==\n"
    "-----END PUBLIC KEY-----\n";

static const char PEM_ED25519[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MCowBQYDK2VwAyEA3mF6nWKi8iGKu7tC2+EeLpwMUUQunwXuxykZGCpDVCI=\n"
    "-----END PUBLIC KEY-----\n";

static const char HMAC_SECRET[] = "fuzz-hmac-secret-of-at-least-32-bytes-long!";

static apr_pool_t *root;
static apr_array_header_t *keys;

/* ---- the reference ---- */

static const char ALPHABET[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static char *ref_encode(apr_pool_t *p, const unsigned char *s, size_t len)
{
    char *out = apr_palloc(p, len / 3 * 4 + 5), *o = out;
    size_t i;
    unsigned v;

    for (i = 0; i < len; i += 3) {
        v = (unsigned)s[i] << 16;
        if (i + 1 < len) {
            v |= (unsigned)s[i + 1] << 8;
        }
        if (i + 2 < len) {
            v |= s[i + 2];
        }
        *o++ = ALPHABET[(v >> 18) & 63];
        *o++ = ALPHABET[(v >> 12) & 63];
        if (i + 1 < len) {
            *o++ = ALPHABET[(v >> 6) & 63];
        }
        if (i + 2 < len) {
            *o++ = ALPHABET[v & 63];
        }
    }
    *o = '\0';
    return out;
}

/* Reference decode: the bytes in *out, or 0. Decodes whatever is in the
 * alphabet, then insists that encoding it again gives the input. */
static int ref_decode(apr_pool_t *p, const char *in, size_t len,
                      unsigned char **out, size_t *out_len)
{
    unsigned char *buf = apr_palloc(p, len + 1);
    size_t i, n = 0;
    unsigned acc = 0;
    int bits = 0;
    const char *c;

    if (len % 4 == 1) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        if (in[i] == '\0' || (c = strchr(ALPHABET, in[i])) == NULL) {
            return 0;
        }
        acc = (acc << 6) | (unsigned)(c - ALPHABET);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf[n++] = (unsigned char)((acc >> bits) & 0xFF);
        }
        acc &= 0xFFFF;
    }
    if (strlen(ref_encode(p, buf, n)) != len
        || memcmp(ref_encode(p, buf, n), in, len) != 0) {
        return 0;
    }
    *out = buf;
    *out_len = n;
    return 1;
}

/* Does part parse as a JSON object? It is released before returning. */
static json_t *ref_object(apr_pool_t *p, const char *in, size_t len)
{
    unsigned char *raw;
    size_t raw_len;
    json_t *v;

    if (!ref_decode(p, in, len, &raw, &raw_len)) {
        return NULL;
    }
    v = json_loadb((const char *)raw, raw_len, JSON_REJECT_DUPLICATES, NULL);
    if (v && !json_is_object(v)) {
        json_decref(v);
        v = NULL;
    }
    return v;
}

/* Should apigw_jwt_decode accept data? */
static int ref_token_ok(apr_pool_t *p, const char *data, size_t size)
{
    const char *d1, *d2;
    unsigned char *sig;
    size_t sig_len, dots = 0, i;
    json_t *h, *c, *kid;
    int ok;

    for (i = 0; i < size; i++) {
        if (data[i] == '\0') {
            return 0;
        }
        dots += data[i] == '.';
    }
    if (dots != 2) {
        return 0;
    }
    d1 = memchr(data, '.', size);
    d2 = memchr(d1 + 1, '.', size - (size_t)(d1 + 1 - data));
    if (d2 + 1 == data + size
        || !ref_decode(p, d2 + 1, size - (size_t)(d2 + 1 - data), &sig,
                       &sig_len)) {
        return 0;
    }
    h = ref_object(p, data, (size_t)(d1 - data));
    c = ref_object(p, d1 + 1, (size_t)(d2 - d1 - 1));
    kid = h ? json_object_get(h, "kid") : NULL;
    ok = h && c && json_is_string(json_object_get(h, "alg"))
         && (!kid || json_is_string(kid)) && !json_object_get(h, "crit");
    json_decref(h);
    json_decref(c);
    return ok;
}

static int one_of(const char *s, const char *const *list)
{
    for (; *list; list++) {
        if (strcmp(s, *list) == 0) {
            return 1;
        }
    }
    return 0;
}

static const char *const DECODE_MSGS[] = {
    "token too long", "unsupported crit header",
    "malformed token: empty", "malformed token: NUL byte",
    "malformed token: not three parts", "malformed token: no signature",
    "malformed token: signature is not base64url",
    "malformed token: header is not base64url",
    "malformed token: header is not JSON",
    "malformed token: header is not a JSON object",
    "malformed token: payload is not base64url",
    "malformed token: payload is not JSON",
    "malformed token: payload is not a JSON object",
    "malformed token: no alg", "malformed token: alg is not a string",
    "malformed token: kid is not a string", NULL
};
static const char *const PICK_MSGS[] = {
    "algorithm not allowed", "unknown key id",
    "key id names a key of another type",
    "no key for algorithm RS256", "no key for algorithm RS384",
    "no key for algorithm RS512", "no key for algorithm PS256",
    "no key for algorithm PS384", "no key for algorithm PS512",
    "no key for algorithm ES256", "no key for algorithm ES384",
    "no key for algorithm ES512", "no key for algorithm EdDSA",
    "no key for algorithm HS256", "no key for algorithm HS384",
    "no key for algorithm HS512", NULL
};
static const char *const VERIFY_MSGS[] = {
    "algorithm not supported", "key does not fit the algorithm",
    "bad signature", "signature check failed", NULL
};
static const char *const CLAIM_MSGS[] = {
    "token expired", "token not valid yet", "token issued in the future",
    "issuer not accepted", "audience not accepted", "exp is not a number",
    "nbf is not a number", "iat is not a number", NULL
};

/* ---- the keys ---- */

/* In static storage: APR's pool memory may be mmap()ed, out of sight of
 * LeakSanitizer, which would then take the EVP_PKEYs for leaks. */
static apigw_jwk key_store[4];

static void pem_key(apigw_jwk *k, const char *pem, apigw_kty kty,
                    const char *crv, const char *kid)
{
    BIO *bio = BIO_new_mem_buf(pem, -1);

    k->pkey = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    if (!k->pkey) {
        abort();
    }
    k->kty = kty;
    k->crv = crv;
    k->kid = kid;
    k->bits = EVP_PKEY_get_bits(k->pkey);
}

static void make_keys(void)
{
    apigw_jwk *hs = &key_store[0];
    int i;

    hs->kty = APIGW_KTY_OCT;
    hs->kid = "hs";
    hs->secret = (const unsigned char *)HMAC_SECRET;
    hs->secret_len = strlen(HMAC_SECRET);
    pem_key(&key_store[1], PEM_RSA, APIGW_KTY_RSA, NULL, "rsa");
    pem_key(&key_store[2], PEM_EC256, APIGW_KTY_EC, "P-256", "ec");
    pem_key(&key_store[3], PEM_ED25519, APIGW_KTY_OKP, "Ed25519", "ed");
    keys = apr_array_make(root, 4, sizeof(apigw_jwk *));
    for (i = 0; i < 4; i++) {
        APR_ARRAY_PUSH(keys, apigw_jwk *) = &key_store[i];
    }
}

/* ---- the checks ---- */

static void check_b64(apr_pool_t *p, const char *data, size_t size)
{
    unsigned char *out = NULL, *ref = NULL;
    apr_size_t out_len = 0;
    size_t ref_len = 0;
    int got = apigw_b64url_decode(p, data, size, &out, &out_len);
    int want = ref_decode(p, data, size, &ref, &ref_len);

    CHECK(got == want, "b64url_decode of %zu bytes: %d, want %d", size, got,
          want);
    if (got) {
        CHECK(out_len == ref_len && memcmp(out, ref, ref_len) == 0
              && out[out_len] == '\0', "b64url_decode bytes differ");
    }
}

static void check_decoded(apr_pool_t *p, const char *data, size_t size,
                          const apigw_jwt *t)
{
    const char *d1 = memchr(data, '.', size);
    const char *d2 = memchr(d1 + 1, '.', size - (size_t)(d1 + 1 - data));
    const char *enc;

    CHECK(t->signing_input == data
          && t->signing_input_len == (size_t)(d2 - data),
          "signing input %zu, want %zu", t->signing_input_len,
          (size_t)(d2 - data));
    enc = ref_encode(p, t->sig, t->sig_len);
    CHECK(strlen(enc) == size - (size_t)(d2 + 1 - data)
          && memcmp(enc, d2 + 1, strlen(enc)) == 0,
          "signature does not re-encode to the third part");
    CHECK(t->alg && json_is_object(t->header) && json_is_object(t->claims)
          && json_string_value(json_object_get(t->header, "alg")) == t->alg,
          "alg or objects missing");
    CHECK(t->kid == json_string_value(json_object_get(t->header, "kid")),
          "kid is not the header's");
}

static void check_lookups(apr_pool_t *p, json_t *claims)
{
    const char *key, *text;
    json_t *v, *sub;
    const char *subkey;

    json_object_foreach(claims, key, v) {
        CHECK(apigw_jwt_claim(claims, key) == v, "claim [%s]", key);
        text = apigw_jwt_claim_text(p, v);
        if (json_is_string(v) || json_is_number(v) || json_is_boolean(v)) {
            CHECK(text && apigw_jwt_claim_has(v, text),
                  "claim_has of [%s]'s own text", key);
        }
        else if (json_is_object(v) || json_is_null(v)) {
            CHECK(!text, "text of an object or null [%s]", key);
        }
        if (json_is_object(v) && !strchr(key, '.')) {
            json_object_foreach(v, subkey, sub) {
                const char *path = apr_pstrcat(p, key, ".", subkey, NULL);

                if (!json_object_get(claims, path)
                    && !strchr(subkey, '.')) {
                    CHECK(apigw_jwt_claim(claims, path) == sub, "claim [%s]",
                          path);
                }
            }
        }
    }
    v = json_object_get(claims, "scope");
    if (json_is_string(v)) {
        char *words = apr_pstrdup(p, json_string_value(v)), *last, *w;

        for (w = apr_strtok(words, " ", &last); w;
             w = apr_strtok(NULL, " ", &last)) {
            CHECK(apigw_jwt_has_scope(claims, w), "scope word [%s]", w);
        }
    }
    (void)apigw_jwt_has_scope(claims, "read");
    (void)apigw_jwt_claim_text(p, apigw_jwt_claim(claims,
                                                  "realm_access.roles"));
    (void)apigw_jwt_claim_has(apigw_jwt_claim(claims, "aud"), "api");
}

/* exp/nbf/iat in seconds, as double, when numbers. */
static int num(json_t *claims, const char *name, double *out)
{
    json_t *v = json_object_get(claims, name);

    if (!json_is_number(v)) {
        return 0;
    }
    *out = json_number_value(v);
    return 1;
}

static int str_in(json_t *v, const apr_array_header_t *list)
{
    int i;

    for (i = 0; json_is_string(v) && i < list->nelts; i++) {
        if (strcmp(json_string_value(v), APR_ARRAY_IDX(list, i, char *))
            == 0) {
            return 1;
        }
    }
    return 0;
}

static void check_claims(apr_pool_t *p, const apigw_jwt *t)
{
    apr_array_header_t *iss = apr_array_make(p, 1, sizeof(char *));
    apr_array_header_t *aud = apr_array_make(p, 2, sizeof(char *));
    apigw_jwt_rules r0 = { NOW, 0, NULL, NULL }, r1 = { NOW, 0, iss, aud };
    const char *why0, *why1, *wide;
    apr_time_t exp = -1;
    double d, now_s = 1700000000.0;
    json_t *a;
    size_t i;
    int any;

    APR_ARRAY_PUSH(iss, char *) = "https://issuer.example";
    APR_ARRAY_PUSH(aud, char *) = "api";
    APR_ARRAY_PUSH(aud, char *) = "web";
    why0 = apigw_jwt_check_claims(t, &r0, &exp);
    CHECK(!why0 || one_of(why0, CLAIM_MSGS), "claims message [%s]", why0);
    CHECK(exp == 0 || json_is_number(json_object_get(t->claims, "exp")),
          "exp_out without exp");
    if (!why0) {
        /* a second's margin for rounding of reals */
        CHECK(!num(t->claims, "exp", &d) || d > now_s - 1, "passed exp");
        CHECK(!num(t->claims, "nbf", &d) || d < now_s + 1, "passed nbf");
        CHECK(!num(t->claims, "iat", &d) || d < now_s + 1, "passed iat");
    }
    r0.leeway = (apr_interval_time_t)3600 * APR_USEC_PER_SEC;
    wide = apigw_jwt_check_claims(t, &r0, NULL);
    CHECK(!why0 ? !wide : 1, "a larger leeway failed: [%s]", wide);
    why1 = apigw_jwt_check_claims(t, &r1, NULL);
    CHECK(!why1 || one_of(why1, CLAIM_MSGS), "claims message [%s]", why1);
    if (!why1) {
        CHECK(!why0, "rules passed with issuers but not without");
        CHECK(str_in(json_object_get(t->claims, "iss"), iss), "iss passed");
        a = json_object_get(t->claims, "aud");
        any = str_in(a, aud);
        for (i = 0; json_is_array(a) && i < json_array_size(a); i++) {
            any = any || str_in(json_array_get(a, i), aud);
        }
        CHECK(any, "aud passed");
    }
}

static void check_hmac(const apigw_jwt *t, const apigw_jwk *k)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    const EVP_MD *md = strcmp(t->alg, "HS256") == 0 ? EVP_sha256()
                       : strcmp(t->alg, "HS384") == 0 ? EVP_sha384()
                       : EVP_sha512();

    CHECK(HMAC(md, k->secret, (int)k->secret_len,
               (const unsigned char *)t->signing_input, t->signing_input_len,
               mac, &mac_len)
          && mac_len == t->sig_len && memcmp(mac, t->sig, mac_len) == 0,
          "HMAC passed but the reference differs");
}

static void check_keys(apr_pool_t *p, const apigw_jwt *t)
{
    static const apigw_alg_set sets[] = {
        APIGW_ALG_ALL, APIGW_ALG_BIT(APIGW_ALG_RS256)
        | APIGW_ALG_BIT(APIGW_ALG_ES256), APIGW_ALG_BIT(APIGW_ALG_HS256)
    };
    const apigw_jwk *k;
    const char *why, *v1, *v2;
    int unknown, a, i, j, has_kid;
    size_t s;

    a = apigw_alg_from_name(t->alg);
    CHECK(a < 0 || strcmp(apigw_alg_name((apigw_alg)a), t->alg) == 0,
          "alg name round trip");
    for (s = 0; s < sizeof(sets) / sizeof(sets[0]); s++) {
        k = apigw_jwt_pick_key(t, keys, sets[s], &why, &unknown);
        CHECK(!k == !!why, "key and why");
        CHECK(k || one_of(why, PICK_MSGS), "pick message [%s]", why);
        if (k) {
            CHECK(a >= 0 && (sets[s] & APIGW_ALG_BIT(a))
                  && apigw_alg_fits_key((apigw_alg)a, k),
                  "picked a key that does not fit");
            CHECK(!t->kid || strcmp(k->kid, t->kid) == 0, "kid mismatch");
        }
        has_kid = 0;
        for (i = 0; t->kid && i < keys->nelts; i++) {
            has_kid |= !strcmp(APR_ARRAY_IDX(keys, i, apigw_jwk *)->kid,
                               t->kid);
        }
        CHECK(!unknown || (t->kid && !has_kid && a >= 0),
              "unknown_kid with a known kid");
    }
    for (j = 0; j < keys->nelts; j++) {
        k = APR_ARRAY_IDX(keys, j, apigw_jwk *);
        v1 = apigw_jwt_verify_sig(p, t, k);
        CHECK(ERR_peek_error() == 0, "OpenSSL error queue left non-empty");
        CHECK(!v1 || one_of(v1, VERIFY_MSGS), "verify message [%s]", v1);
        CHECK(!v1 ? a >= 0 && apigw_alg_fits_key((apigw_alg)a, k) : 1,
              "verified with a key that does not fit");
        v2 = apigw_jwt_verify_sig(p, t, k);
        CHECK(!v1 == !v2, "verify_sig is not deterministic");
        if (!v1 && k->kty == APIGW_KTY_OCT) {
            check_hmac(t, k);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *tok = (const char *)data, *err;
    apr_pool_t *p;
    apigw_jwt t;
    int want;

    if (!root) {
        apr_initialize();
        apr_pool_create(&root, NULL);
        make_keys();
    }
    apr_pool_create(&p, root);
    check_b64(p, tok, size);
    err = apigw_jwt_decode(p, tok, size, 0, &t);
    want = ref_token_ok(p, tok, size);
    CHECK((err == NULL) == want, "decode of %zu bytes: [%s], want %s", size,
          err ? err : "ok", want ? "ok" : "a refusal");
    CHECK(!err || one_of(err, DECODE_MSGS), "decode message [%s]", err);
    if (!err) {
        check_decoded(p, tok, size, &t);
        if (size > 0) {
            apigw_jwt t2;

            CHECK(strcmp(apigw_jwt_decode(p, tok, size, size - 1, &t2),
                         "token too long") == 0, "max_len not applied");
        }
        check_lookups(p, t.claims);
        check_claims(p, &t);
        check_keys(p, &t);
    }
    apr_pool_destroy(p);
    return 0;
}
