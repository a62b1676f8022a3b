/* Checking a decoded JWT (see apigw_jwt_verify.h): the JOSE algorithm
 * names, which key may verify which algorithm, picking the key, the
 * signature with OpenSSL 3 (RSA PKCS#1 v1.5 and PSS, ECDSA, EdDSA, HMAC)
 * and the registered claims. Messages never quote the token. */
#include "apigw_jwt_verify.h"

#include <math.h>
#include <string.h>
#include <apr_strings.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/hmac.h>
#include <openssl/obj_mac.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>

typedef enum { FAM_RS, FAM_PS, FAM_ES, FAM_ED, FAM_HS } alg_family;

static const struct {
    const char *name;
    alg_family fam;
    const char *md;                  /* digest name, NULL for EdDSA */
    const char *crv;                 /* ES: the JWK curve */
    int curve_nid;                   /* ES: the OpenSSL curve */
    apr_size_t size;                 /* ES: r||s length; HS: MAC length */
    const char *no_key;              /* pick_key's message */
} algs[APIGW_ALG_COUNT] = {
    [APIGW_ALG_RS256] = { "RS256", FAM_RS, "SHA256", NULL, 0, 0,
                          "no key for algorithm RS256" },
    [APIGW_ALG_RS384] = { "RS384", FAM_RS, "SHA384", NULL, 0, 0,
                          "no key for algorithm RS384" },
    [APIGW_ALG_RS512] = { "RS512", FAM_RS, "SHA512", NULL, 0, 0,
                          "no key for algorithm RS512" },
    [APIGW_ALG_PS256] = { "PS256", FAM_PS, "SHA256", NULL, 0, 0,
                          "no key for algorithm PS256" },
    [APIGW_ALG_PS384] = { "PS384", FAM_PS, "SHA384", NULL, 0, 0,
                          "no key for algorithm PS384" },
    [APIGW_ALG_PS512] = { "PS512", FAM_PS, "SHA512", NULL, 0, 0,
                          "no key for algorithm PS512" },
    [APIGW_ALG_ES256] = { "ES256", FAM_ES, "SHA256", "P-256",
                          NID_X9_62_prime256v1, 64,
                          "no key for algorithm ES256" },
    [APIGW_ALG_ES384] = { "ES384", FAM_ES, "SHA384", "P-384", NID_secp384r1,
                          96, "no key for algorithm ES384" },
    [APIGW_ALG_ES512] = { "ES512", FAM_ES, "SHA512", "P-521", NID_secp521r1,
                          132, "no key for algorithm ES512" },
    [APIGW_ALG_EDDSA] = { "EdDSA", FAM_ED, NULL, NULL, 0, 0,
                          "no key for algorithm EdDSA" },
    [APIGW_ALG_HS256] = { "HS256", FAM_HS, "SHA256", NULL, 0, 32,
                          "no key for algorithm HS256" },
    [APIGW_ALG_HS384] = { "HS384", FAM_HS, "SHA384", NULL, 0, 48,
                          "no key for algorithm HS384" },
    [APIGW_ALG_HS512] = { "HS512", FAM_HS, "SHA512", NULL, 0, 64,
                          "no key for algorithm HS512" },
};

int apigw_alg_from_name(const char *name)
{
    int i;

    if (!name) {
        return -1;
    }
    for (i = 0; i < APIGW_ALG_COUNT; i++) {
        if (strcmp(name, algs[i].name) == 0) {
            return i;
        }
    }
    return -1;
}

const char *apigw_alg_name(apigw_alg alg)
{
    return (unsigned)alg < APIGW_ALG_COUNT ? algs[alg].name : NULL;
}

/* ---- which key fits which algorithm ---- */

static int rsa_fits(alg_family fam, const apigw_jwk *k)
{
    if (k->kty != APIGW_KTY_RSA || !k->pkey
        || k->bits < APIGW_JWK_MIN_RSA_BITS
        || EVP_PKEY_get_bits(k->pkey) < APIGW_JWK_MIN_RSA_BITS) {
        return 0;
    }
    /* a key restricted to PSS never signs PKCS#1 v1.5 */
    return EVP_PKEY_is_a(k->pkey, "RSA")
           || (fam == FAM_PS && EVP_PKEY_is_a(k->pkey, "RSA-PSS"));
}

/* Is the EC key on the curve of nid? */
static int ec_on_curve(EVP_PKEY *pkey, int nid)
{
    char group[64];
    size_t glen = 0;

    if (!EVP_PKEY_is_a(pkey, "EC")
        || !EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME,
                                           group, sizeof(group), &glen)) {
        ERR_clear_error();
        return 0;
    }
    return OBJ_sn2nid(group) == nid || OBJ_txt2nid(group) == nid;
}

static int ec_fits(apigw_alg alg, const apigw_jwk *k)
{
    return k->kty == APIGW_KTY_EC && k->pkey && k->crv
           && strcmp(k->crv, algs[alg].crv) == 0
           && ec_on_curve(k->pkey, algs[alg].curve_nid);
}

static int okp_fits(const apigw_jwk *k)
{
    if (k->kty != APIGW_KTY_OKP || !k->pkey || !k->crv) {
        return 0;
    }
    if (strcmp(k->crv, "Ed25519") == 0) {
        return EVP_PKEY_is_a(k->pkey, "ED25519");
    }
    if (strcmp(k->crv, "Ed448") == 0) {
        return EVP_PKEY_is_a(k->pkey, "ED448");
    }
    return 0;
}

int apigw_alg_fits_key(apigw_alg alg, const apigw_jwk *k)
{
    if ((unsigned)alg >= APIGW_ALG_COUNT || !k) {
        return 0;
    }
    if (k->alg && strcmp(k->alg, algs[alg].name) != 0) {
        return 0;
    }
    switch (algs[alg].fam) {
    case FAM_RS:
    case FAM_PS:
        return rsa_fits(algs[alg].fam, k);
    case FAM_ES:
        return ec_fits(alg, k);
    case FAM_ED:
        return okp_fits(k);
    case FAM_HS:
        return k->kty == APIGW_KTY_OCT && k->secret
               && k->secret_len >= APIGW_JWK_MIN_SECRET;
    }
    return 0;
}

/* ---- picking the key ---- */

static const apigw_jwk *key_at(const apr_array_header_t *keys, int i)
{
    return APR_ARRAY_IDX(keys, i, const apigw_jwk *);
}

const apigw_jwk *apigw_jwt_pick_key(const apigw_jwt *t,
                                    const apr_array_header_t *keys,
                                    apigw_alg_set allowed, const char **why,
                                    int *unknown_kid)
{
    int from = 0;
    return apigw_jwt_pick_next_key(t, keys, &from, allowed, why, unknown_kid);
}

const apigw_jwk *apigw_jwt_pick_next_key(const apigw_jwt *t,
                                         const apr_array_header_t *keys,
                                         int *from, apigw_alg_set allowed,
                                         const char **why, int *unknown_kid)
{
    int a = apigw_alg_from_name(t->alg), i, named = 0;
    int n = keys ? keys->nelts : 0;
    const apigw_jwk *k;

    *why = NULL;
    if (unknown_kid) {
        *unknown_kid = 0;
    }
    if (a < 0 || !(allowed & APIGW_ALG_BIT(a))) {
        *why = "algorithm not allowed";
        return NULL;
    }
    for (i = *from; i < n; i++) {
        if ((k = key_at(keys, i)) == NULL) {
            continue;
        }
        if (t->kid) {
            if (!k->kid || strcmp(k->kid, t->kid) != 0) {
                continue;
            }
            named = 1;
        }
        if (apigw_alg_fits_key((apigw_alg)a, k)) {
            *from = i + 1;
            return k;
        }
    }
    *from = n;
    if (!t->kid) {
        *why = algs[a].no_key;
    }
    else if (named) {
        *why = "key id names a key of another type";
    }
    else {
        *why = "unknown key id";
        if (unknown_kid) {
            *unknown_kid = 1;
        }
    }
    return NULL;
}

/* ---- signatures ---- */

static const EVP_MD *md_of(apigw_alg alg)
{
    return algs[alg].md ? EVP_get_digestbyname(algs[alg].md) : NULL;
}

static const char *hmac_verify(const apigw_jwt *t, const apigw_jwk *k,
                               apigw_alg alg)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    const EVP_MD *md = md_of(alg);
    int ok;

    if (t->sig_len != algs[alg].size) {
        return "bad signature";
    }
    if (!md || k->secret_len > (apr_size_t)APR_INT32_MAX
        || !HMAC(md, k->secret, (int)k->secret_len,
                 (const unsigned char *)t->signing_input,
                 t->signing_input_len, mac, &mac_len)) {
        ERR_clear_error();
        return "signature check failed";
    }
    ok = mac_len == t->sig_len && CRYPTO_memcmp(mac, t->sig, mac_len) == 0;
    OPENSSL_cleanse(mac, sizeof(mac));
    return ok ? NULL : "bad signature";
}

/* The DER ECDSA-Sig-Value of the JOSE r||s in sig (2 * half bytes), from
 * p, or NULL. */
static unsigned char *ecdsa_der(apr_pool_t *p, const unsigned char *sig,
                                apr_size_t half, apr_size_t *der_len)
{
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, (int)half, NULL);
    BIGNUM *s = BN_bin2bn(sig + half, (int)half, NULL);
    unsigned char *der = NULL, *q;
    int n;

    if (!es || !r || !s || !ECDSA_SIG_set0(es, r, s)) {
        BN_free(r);
        BN_free(s);
        ECDSA_SIG_free(es);
        return NULL;
    }
    /* es owns r and s now */
    if ((n = i2d_ECDSA_SIG(es, NULL)) > 0) {
        der = q = apr_palloc(p, (apr_size_t)n);
        if (i2d_ECDSA_SIG(es, &q) != n) {
            der = NULL;
        }
        *der_len = (apr_size_t)n;
    }
    ECDSA_SIG_free(es);
    return der;
}

/* Sets PSS padding, salt length = hash length, MGF1 with md. */
static int set_pss(EVP_PKEY_CTX *pctx, const EVP_MD *md)
{
    return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0
           && EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) > 0
           && EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) > 0;
}

/* RSA, ECDSA (sig already DER) or EdDSA (md NULL) with EVP_DigestVerify. */
static const char *pkey_verify(const apigw_jwt *t, EVP_PKEY *pkey,
                               const EVP_MD *md, int pss,
                               const unsigned char *sig, apr_size_t sig_len)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    const char *why = NULL;
    int rc;

    if (!ctx || EVP_DigestVerifyInit(ctx, &pctx, md, NULL, pkey) != 1
        || (pss && !set_pss(pctx, md))) {
        why = "signature check failed";
    }
    else {
        rc = EVP_DigestVerify(ctx, sig, sig_len,
                              (const unsigned char *)t->signing_input,
                              t->signing_input_len);
        why = rc == 1 ? NULL : "bad signature";
    }
    EVP_MD_CTX_free(ctx);           /* frees pctx too */
    if (why) {
        ERR_clear_error();
    }
    return why;
}

static const char *ecdsa_verify(apr_pool_t *p, const apigw_jwt *t,
                                const apigw_jwk *k, apigw_alg alg)
{
    const EVP_MD *md = md_of(alg);
    unsigned char *der;
    apr_size_t der_len = 0;

    if (t->sig_len != algs[alg].size) {
        return "bad signature";
    }
    if (!md || (der = ecdsa_der(p, t->sig, algs[alg].size / 2, &der_len))
               == NULL) {
        ERR_clear_error();
        return "signature check failed";
    }
    return pkey_verify(t, k->pkey, md, 0, der, der_len);
}

const char *apigw_jwt_verify_sig(apr_pool_t *p, const apigw_jwt *t,
                                 const apigw_jwk *k)
{
    int a = apigw_alg_from_name(t->alg);
    const EVP_MD *md;

    if (a < 0) {
        return "algorithm not supported";
    }
    if (!apigw_alg_fits_key((apigw_alg)a, k)) {
        return "key does not fit the algorithm";
    }
    if (!t->sig || t->sig_len == 0 || !t->signing_input) {
        return "bad signature";
    }
    switch (algs[a].fam) {
    case FAM_HS:
        return hmac_verify(t, k, (apigw_alg)a);
    case FAM_ES:
        return ecdsa_verify(p, t, k, (apigw_alg)a);
    case FAM_ED:
        return pkey_verify(t, k->pkey, NULL, 0, t->sig, t->sig_len);
    case FAM_RS:
    case FAM_PS:
        if ((md = md_of((apigw_alg)a)) == NULL) {
            ERR_clear_error();
            return "signature check failed";
        }
        return pkey_verify(t, k->pkey, md, algs[a].fam == FAM_PS, t->sig,
                           t->sig_len);
    }
    return "algorithm not supported";
}

/* ---- registered claims ---- */

#define USEC_PER_SEC 1000000
/* Seconds beyond which a time is clamped (about 292,000 years). */
#define MAX_SECONDS (APR_INT64_MAX / USEC_PER_SEC)

static apr_time_t sat_add(apr_time_t a, apr_time_t b)
{
    if (b > 0 && a > APR_INT64_MAX - b) {
        return APR_INT64_MAX;
    }
    if (b < 0 && a < APR_INT64_MIN - b) {
        return APR_INT64_MIN;
    }
    return a + b;
}

/* The NumericDate claim name as apr_time_t in *out (clamped), *present
 * set; a message when it is there but not a number. */
static const char *numeric_date(const json_t *claims, const char *name,
                                const char *not_number, apr_time_t *out,
                                int *present)
{
    const json_t *v = json_object_get(claims, name);
    json_int_t i;
    double d;

    *out = 0;
    *present = v != NULL;
    if (!v) {
        return NULL;
    }
    if (json_is_integer(v)) {
        i = json_integer_value(v);
        *out = i > MAX_SECONDS ? APR_INT64_MAX
             : i < -MAX_SECONDS ? APR_INT64_MIN
             : (apr_time_t)i * USEC_PER_SEC;
        return NULL;
    }
    if (json_is_real(v) && !isnan(d = json_real_value(v))) {
        *out = d >= (double)MAX_SECONDS ? APR_INT64_MAX
             : d <= -(double)MAX_SECONDS ? APR_INT64_MIN
             : (apr_time_t)(d * USEC_PER_SEC);
        return NULL;
    }
    return not_number;
}

static const char *check_times(const json_t *claims,
                               const apigw_jwt_rules *rules,
                               apr_time_t *exp_out)
{
    apr_interval_time_t leeway = rules->leeway > 0 ? rules->leeway : 0;
    apr_time_t exp, nbf, iat;
    int has_exp, has_nbf, has_iat;
    const char *why;

    if ((why = numeric_date(claims, "exp", "exp is not a number", &exp,
                            &has_exp)) != NULL
        || (why = numeric_date(claims, "nbf", "nbf is not a number", &nbf,
                               &has_nbf)) != NULL
        || (why = numeric_date(claims, "iat", "iat is not a number", &iat,
                               &has_iat)) != NULL) {
        return why;
    }
    if (has_exp) {
        *exp_out = exp;
        if (rules->now >= sat_add(exp, leeway)) {
            return "token expired";
        }
    }
    if (has_nbf && sat_add(rules->now, leeway) < nbf) {
        return "token not valid yet";
    }
    if (has_iat && iat > sat_add(rules->now, leeway)) {
        return "token issued in the future";
    }
    return NULL;
}

/* Is the JSON string v one of list (const char *)? */
static int in_list(const json_t *v, const apr_array_header_t *list)
{
    const char *s = json_string_value(v), *e;
    size_t len = json_string_length(v);
    int i;

    if (!s) {
        return 0;
    }
    for (i = 0; i < list->nelts; i++) {
        e = APR_ARRAY_IDX(list, i, const char *);
        if (e && strlen(e) == len && memcmp(e, s, len) == 0) {
            return 1;
        }
    }
    return 0;
}

static int aud_accepted(const json_t *aud, const apr_array_header_t *list)
{
    size_t i;
    int found = 0;

    if (json_is_string(aud)) {
        return in_list(aud, list);
    }
    if (!json_is_array(aud)) {
        return 0;
    }
    for (i = 0; i < json_array_size(aud); i++) {
        const json_t *e = json_array_get(aud, i);

        if (!json_is_string(e)) {
            return 0;                /* an array of strings, or nothing */
        }
        found = found || in_list(e, list);
    }
    return found;
}

const char *apigw_jwt_check_claims(const apigw_jwt *t,
                                   const apigw_jwt_rules *rules,
                                   apr_time_t *exp_out)
{
    apr_time_t exp = 0;
    const char *why;

    if (exp_out) {
        *exp_out = 0;
    }
    if (!t || !json_is_object(t->claims) || !rules) {
        return "no claims";
    }
    why = check_times(t->claims, rules, &exp);
    if (exp_out) {
        *exp_out = exp;
    }
    if (why) {
        return why;
    }
    if (rules->issuers && rules->issuers->nelts > 0
        && !in_list(json_object_get(t->claims, "iss"), rules->issuers)) {
        return "issuer not accepted";
    }
    if (rules->audiences && rules->audiences->nelts > 0
        && !aud_accepted(json_object_get(t->claims, "aud"),
                         rules->audiences)) {
        return "audience not accepted";
    }
    return NULL;
}
