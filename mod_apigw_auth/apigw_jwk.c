/* Verification keys (see apigw_jwk.h): JWK sets and single JWKs (RFC
 * 7517, 7518, 8037) and PEM public keys and certificates, each checked
 * and turned into an OpenSSL 3 EVP_PKEY or an HMAC secret; and the strict
 * unpadded base64url decoder that the JWK members need. OpenSSL errors
 * raised here are popped before returning: none is left for the caller. */
#include "apigw_jwk.h"
#include "apigw_b64url.h"

#include <string.h>

#include <apr_strings.h>
#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

/* More key data than this is refused unparsed (BIO lengths are ints; a
 * real JWK set is a few kB). */
#define JWK_MAX_DATA ((apr_size_t)16 * 1024 * 1024)
/* Longer RSA moduli are refused: OpenSSL does not verify with them. */
#define JWK_MAX_RSA_BITS 16384
/* A kid or a PEM name is echoed in a skipped line only when it is at
 * most this long and printable ASCII. */
#define JWK_MAX_ECHO 64

#define NOT_KEYS "not a JWK set, a JWK or PEM"

typedef struct {
    apr_pool_t *p;
    apr_array_header_t *keys;        /* apigw_jwk * */
    apr_array_header_t *skipped;     /* const char *, or NULL */
    int nskipped;
    const char *first_skip;          /* the first skipped line */
} jwk_ctx;

typedef struct {
    const char *crv;                 /* JOSE name */
    const char *group;               /* OpenSSL group name */
    apr_size_t size;                 /* field size in bytes */
    int bits;
} ec_curve;

static const ec_curve ec_curves[] = {
    { "P-256", "prime256v1", 32, 256 },
    { "P-384", "secp384r1", 48, 384 },
    { "P-521", "secp521r1", 66, 521 },
};

#define N_CURVES (sizeof(ec_curves) / sizeof(ec_curves[0]))

/* ---- helpers ---- */

/* s when it may go into a log line as it is, else NULL. */
static const char *echo(const char *s)
{
    apr_size_t i, n = strlen(s);

    if (n == 0 || n > JWK_MAX_ECHO) {
        return NULL;
    }
    for (i = 0; i < n; i++) {
        if (s[i] < 0x20 || s[i] > 0x7E || s[i] == '"' || s[i] == '\\') {
            return NULL;
        }
    }
    return s;
}

static void note(jwk_ctx *c, const char *label, const char *why, int skip)
{
    const char *line = apr_pstrcat(c->p, label, ": ", why, NULL);

    if (c->skipped) {
        APR_ARRAY_PUSH(c->skipped, const char *) = line;
    }
    if (skip && c->nskipped++ == 0) {
        c->first_skip = line;
    }
}

static apr_status_t pkey_cleanup(void *data)
{
    EVP_PKEY_free(data);
    return APR_SUCCESS;
}

/* Pushes a copy of k on the keys; its EVP_PKEY is now p's to free. */
static apigw_jwk *keep(jwk_ctx *c, const apigw_jwk *k)
{
    apigw_jwk *kept = apr_pmemdup(c->p, k, sizeof(*k));

    if (kept->pkey) {
        apr_pool_cleanup_register(c->p, kept->pkey, pkey_cleanup,
                                  apr_pool_cleanup_null);
    }
    APR_ARRAY_PUSH(c->keys, apigw_jwk *) = kept;
    return kept;
}

/* Forgets the OpenSSL errors of one key (set again for the next). */
static void err_reset(void)
{
    ERR_pop_to_mark();
    ERR_set_mark();
}

static const ec_curve *curve_by_crv(const char *crv)
{
    apr_size_t i;

    for (i = 0; i < N_CURVES; i++) {
        if (strcmp(ec_curves[i].crv, crv) == 0) {
            return &ec_curves[i];
        }
    }
    return NULL;
}

static const ec_curve *curve_by_group(const char *group)
{
    apr_size_t i;

    for (i = 0; i < N_CURVES; i++) {
        if (strcmp(ec_curves[i].group, group) == 0
            || strcmp(ec_curves[i].crv, group) == 0) {
            return &ec_curves[i];
        }
    }
    return NULL;
}

/* A public key from params built in bld, or NULL. */
static EVP_PKEY *from_params(const char *type, OSSL_PARAM_BLD *bld)
{
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *pkey = NULL;

    if (params) {
        ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    }
    if (ctx && EVP_PKEY_fromdata_init(ctx) == 1
        && EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    return pkey;
}

/* ---- checks shared by JWKs and PEM ---- */

/* Modulus size and an exponent that makes a signature mean something
 * (odd, above 1, below n). */
static const char *check_rsa(apr_pool_t *p, const BIGNUM *n, const BIGNUM *e,
                             int *bits)
{
    *bits = BN_num_bits(n);
    if (*bits < APIGW_JWK_MIN_RSA_BITS) {
        return apr_psprintf(p, "RSA key of %d bits is below %d", *bits,
                            APIGW_JWK_MIN_RSA_BITS);
    }
    if (*bits > JWK_MAX_RSA_BITS) {
        return apr_psprintf(p, "RSA key of %d bits is over %d", *bits,
                            JWK_MAX_RSA_BITS);
    }
    if (!BN_is_odd(n)) {
        return "bad RSA modulus";
    }
    if (!BN_is_odd(e) || BN_is_one(e) || BN_cmp(e, n) >= 0) {
        return "bad RSA exponent";
    }
    return NULL;
}

static const char *check_rsa_pkey(apr_pool_t *p, EVP_PKEY *pkey, int *bits)
{
    BIGNUM *n = NULL, *e = NULL;
    const char *why = "unreadable RSA key";

    if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n)
        && EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e)) {
        why = check_rsa(p, n, e, bits);
    }
    BN_free(n);
    BN_free(e);
    return why;
}

/* One of the three curves, and a point on it (full public check). */
static const char *check_ec_pkey(EVP_PKEY *pkey, const ec_curve **curve)
{
    char group[80];
    size_t glen = 0;
    EVP_PKEY_CTX *ctx;
    int ok;

    if (!EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME,
                                        group, sizeof(group), &glen)
        || (*curve = curve_by_group(group)) == NULL) {
        return "unsupported curve";
    }
    ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    ok = ctx && EVP_PKEY_public_check(ctx) == 1;
    EVP_PKEY_CTX_free(ctx);
    return ok ? NULL : "point is not on the curve";
}

/* Fills k's kty, crv and bits from pkey, or says why it is of no use. */
static const char *describe_pkey(apr_pool_t *p, EVP_PKEY *pkey, apigw_jwk *k)
{
    const ec_curve *curve = NULL;
    const char *why;

    switch (EVP_PKEY_get_base_id(pkey)) {
    case EVP_PKEY_RSA:
        k->kty = APIGW_KTY_RSA;
        return check_rsa_pkey(p, pkey, &k->bits);
    case EVP_PKEY_EC:
        k->kty = APIGW_KTY_EC;
        if ((why = check_ec_pkey(pkey, &curve)) != NULL) {
            return why;
        }
        k->crv = curve->crv;
        k->bits = curve->bits;
        return NULL;
    case EVP_PKEY_ED25519:
        k->kty = APIGW_KTY_OKP;
        k->crv = "Ed25519";
        return NULL;
    case EVP_PKEY_ED448:
        k->kty = APIGW_KTY_OKP;
        k->crv = "Ed448";
        return NULL;
    default:
        return "unsupported key type";
    }
}

/* ---- JWK members ---- */

/* The bytes of the base64url member name of o. */
static const char *member_b64(apr_pool_t *p, json_t *o, const char *name,
                              unsigned char **buf, apr_size_t *len)
{
    json_t *v = json_object_get(o, name);

    if (!json_is_string(v)) {
        return apr_pstrcat(p, name, " is missing or not a string", NULL);
    }
    if (!apigw_b64url_decode(p, json_string_value(v), json_string_length(v),
                             buf, len)) {
        return apr_pstrcat(p, name, " is not base64url", NULL);
    }
    return NULL;
}

/* The "crv" member of o, or NULL when it is missing or not a string. */
static const char *member_crv(json_t *o)
{
    json_t *v = json_object_get(o, "crv");

    return json_is_string(v) ? json_string_value(v) : NULL;
}

static const char *unsupported_curve(apr_pool_t *p, const char *crv)
{
    const char *e;

    if (!crv) {
        return "crv is missing or not a string";
    }
    e = echo(crv);
    return e ? apr_pstrcat(p, "unsupported curve ", e, NULL)
             : "unsupported curve";
}

static const char *jwk_rsa(apr_pool_t *p, json_t *o, apigw_jwk *k)
{
    unsigned char *nb, *eb;
    apr_size_t nl, el;
    BIGNUM *n = NULL, *e = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    const char *why;

    if ((why = member_b64(p, o, "n", &nb, &nl)) != NULL
        || (why = member_b64(p, o, "e", &eb, &el)) != NULL) {
        return why;
    }
    /* both fit an int: the data is at most JWK_MAX_DATA */
    n = BN_bin2bn(nb, (int)nl, NULL);
    e = BN_bin2bn(eb, (int)el, NULL);
    if (!n || !e) {
        why = "out of memory";
    }
    else if ((why = check_rsa(p, n, e, &k->bits)) == NULL) {
        bld = OSSL_PARAM_BLD_new();
        if (!bld || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n)
            || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e)
            || (k->pkey = from_params("RSA", bld)) == NULL) {
            why = "OpenSSL refused the key";
        }
    }
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(e);
    k->kty = APIGW_KTY_RSA;
    return why;
}

static const char *jwk_ec(apr_pool_t *p, json_t *o, apigw_jwk *k)
{
    const ec_curve *curve, *got = NULL;
    const char *crv = member_crv(o), *why;
    unsigned char *x, *y, *pub;
    apr_size_t xl, yl;
    OSSL_PARAM_BLD *bld;

    if (!crv || (curve = curve_by_crv(crv)) == NULL) {
        return unsupported_curve(p, crv);
    }
    if ((why = member_b64(p, o, "x", &x, &xl)) != NULL
        || (why = member_b64(p, o, "y", &y, &yl)) != NULL) {
        return why;
    }
    /* RFC 7518 6.2.1.2 wants the full field size, but common libraries
     * drop leading zero bytes: shorter coordinates are padded back */
    if (xl == 0 || yl == 0 || xl > curve->size || yl > curve->size) {
        return apr_psprintf(p, "x and y are not %d bytes each",
                            (int)curve->size);
    }
    pub = apr_pcalloc(p, 2 * curve->size + 1);
    pub[0] = 0x04;                   /* uncompressed: 04 || x || y */
    memcpy(pub + 1 + (curve->size - xl), x, xl);
    memcpy(pub + 1 + curve->size + (curve->size - yl), y, yl);
    bld = OSSL_PARAM_BLD_new();
    if (!bld
        || !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
                                            curve->group, 0)
        || !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
                                             pub, 2 * curve->size + 1)) {
        OSSL_PARAM_BLD_free(bld);
        return "out of memory";
    }
    k->pkey = from_params("EC", bld);
    OSSL_PARAM_BLD_free(bld);
    k->kty = APIGW_KTY_EC;
    /* OpenSSL refuses a point off the curve already; checked again */
    why = k->pkey ? check_ec_pkey(k->pkey, &got)
                  : "point is not on the curve";
    if (!why && got != curve) {
        why = "unsupported curve";
    }
    if (why) {
        EVP_PKEY_free(k->pkey);
        k->pkey = NULL;
        return why;
    }
    k->crv = curve->crv;
    k->bits = curve->bits;
    return NULL;
}

static const char *jwk_okp(apr_pool_t *p, json_t *o, apigw_jwk *k)
{
    const char *crv = member_crv(o), *why;
    unsigned char *x;
    apr_size_t xl, want;
    int type;

    if (crv && strcmp(crv, "Ed25519") == 0) {
        type = EVP_PKEY_ED25519;
        want = 32;
        k->crv = "Ed25519";
    }
    else if (crv && strcmp(crv, "Ed448") == 0) {
        type = EVP_PKEY_ED448;
        want = 57;
        k->crv = "Ed448";
    }
    else {
        return unsupported_curve(p, crv);
    }
    if ((why = member_b64(p, o, "x", &x, &xl)) != NULL) {
        return why;
    }
    if (xl != want) {
        return apr_psprintf(p, "x is not %d bytes", (int)want);
    }
    k->kty = APIGW_KTY_OKP;
    k->pkey = EVP_PKEY_new_raw_public_key(type, NULL, x, xl);
    return k->pkey ? NULL : "OpenSSL refused the key";
}

static const char *jwk_oct(apr_pool_t *p, json_t *o, apigw_jwk *k)
{
    unsigned char *s;
    apr_size_t sl;
    const char *why;
    apigw_jwk *made;

    if ((why = member_b64(p, o, "k", &s, &sl)) != NULL) {
        return why;
    }
    if ((made = apigw_jwk_secret(p, s, sl, &why)) == NULL) {
        return why;
    }
    *k = *made;
    return NULL;
}

/* Why a key's "use", "key_ops" and "alg" make it of no use, or NULL. */
static const char *check_purpose(json_t *o)
{
    json_t *use = json_object_get(o, "use");
    json_t *ops = json_object_get(o, "key_ops");
    json_t *alg = json_object_get(o, "alg");
    json_t *op;
    size_t i;
    int verify = 0;

    if (alg && !json_is_string(alg)) {
        return "alg is not a string";
    }
    if (use && (!json_is_string(use)
                || strcmp(json_string_value(use), "sig") != 0)) {
        return "not for signatures (use)";
    }
    if (!ops) {
        return NULL;
    }
    if (!json_is_array(ops)) {
        return "key_ops is not an array";
    }
    json_array_foreach(ops, i, op) {
        if (!json_is_string(op)) {
            return "key_ops holds a non-string";
        }
        if (strcmp(json_string_value(op), "verify") == 0) {
            verify = 1;
        }
    }
    return verify ? NULL : "not for verification (key_ops)";
}

/* The key of JWK o by its "kty" into k, or why not. */
static const char *jwk_key(apr_pool_t *p, json_t *o, apigw_jwk *k)
{
    const char *type = json_string_value(json_object_get(o, "kty"));

    if (!type) {
        return "kty is missing or not a string";
    }
    if (strcmp(type, "RSA") == 0) {
        return jwk_rsa(p, o, k);
    }
    if (strcmp(type, "EC") == 0) {
        return jwk_ec(p, o, k);
    }
    if (strcmp(type, "OKP") == 0) {
        return jwk_okp(p, o, k);
    }
    if (strcmp(type, "oct") == 0) {
        return jwk_oct(p, o, k);
    }
    return echo(type) ? apr_pstrcat(p, "unsupported key type ", type, NULL)
                      : "unsupported key type";
}

/* One JWK (the index-th of its set, from 1). */
static void parse_jwk(jwk_ctx *c, json_t *o, size_t index)
{
    const char *label = apr_psprintf(c->p, "key #%lu", (unsigned long)index);
    const char *why, *name;
    json_t *kid, *alg;
    apigw_jwk k;
    apigw_jwk *kept;

    memset(&k, 0, sizeof(k));
    if (!json_is_object(o)) {
        note(c, label, "not a JSON object", 1);
        return;
    }
    kid = json_object_get(o, "kid");
    if (kid && !json_is_string(kid)) {
        note(c, label, "kid is not a string", 1);
        return;
    }
    if (kid && (name = echo(json_string_value(kid))) != NULL) {
        label = apr_pstrcat(c->p, "key ", name, NULL);
    }
    if ((why = check_purpose(o)) != NULL
        || (why = jwk_key(c->p, o, &k)) != NULL) {
        EVP_PKEY_free(k.pkey);       /* NULL unless a helper forgot it */
        note(c, label, why, 1);
        return;
    }
    kept = keep(c, &k);
    if (kid) {
        kept->kid = apr_pstrdup(c->p, json_string_value(kid));
    }
    if ((alg = json_object_get(o, "alg")) != NULL) {
        kept->alg = apr_pstrdup(c->p, json_string_value(alg));
    }
    if (kept->kty != APIGW_KTY_OCT && json_object_get(o, "d")) {
        note(c, label, "holds private material; only its public part is used",
             0);
    }
}

static const char *parse_json(jwk_ctx *c, const char *data, apr_size_t len)
{
    json_error_t err;
    json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &err);
    json_t *set, *o;
    const char *why = NULL;
    size_t i;

    if (!root) {
        return apr_psprintf(c->p, NOT_KEYS ": invalid JSON at line %d",
                            err.line);
    }
    set = json_object_get(root, "keys");
    if (set && !json_is_array(set)) {
        why = NOT_KEYS ": keys is not an array";
    }
    else if (set) {
        json_array_foreach(set, i, o) {
            parse_jwk(c, o, i + 1);
            err_reset();
        }
    }
    else if (json_is_object(root) && json_object_get(root, "kty")) {
        parse_jwk(c, root, 1);
    }
    else {
        why = NOT_KEYS;
    }
    json_decref(root);
    return why;
}

/* ---- PEM ---- */

/* The public key of a PEM block's DER, or NULL. */
static EVP_PKEY *pem_pkey(const char *name, const unsigned char *der,
                          long len)
{
    const unsigned char *q = der;
    EVP_PKEY *pkey = NULL;
    X509 *x;

    if (strcmp(name, "PUBLIC KEY") == 0) {
        pkey = d2i_PUBKEY(NULL, &q, len);
    }
    else if (strcmp(name, "RSA PUBLIC KEY") == 0) {
        pkey = d2i_PublicKey(EVP_PKEY_RSA, NULL, &q, len);
    }
    else if ((x = d2i_X509(NULL, &q, len)) != NULL) {
        pkey = X509_get_pubkey(x);
        X509_free(x);
    }
    if (pkey && q != der + len) {
        EVP_PKEY_free(pkey);         /* bytes after the DER */
        pkey = NULL;
    }
    return pkey;
}

static void pem_block(jwk_ctx *c, int index, const char *name,
                      const unsigned char *der, long len)
{
    const char *label = apr_psprintf(c->p, "PEM block %d", index);
    const char *why, *e;
    apigw_jwk k;

    memset(&k, 0, sizeof(k));
    if (strstr(name, "PRIVATE KEY")) {
        note(c, label, "private keys are not used", 1);
        return;
    }
    if (strcmp(name, "PUBLIC KEY") != 0 && strcmp(name, "RSA PUBLIC KEY") != 0
        && strcmp(name, "CERTIFICATE") != 0
        && strcmp(name, "X509 CERTIFICATE") != 0) {
        e = echo(name);
        note(c, label, e ? apr_pstrcat(c->p, "unsupported block ", e, NULL)
                         : "unsupported block", 1);
        return;
    }
    if ((k.pkey = pem_pkey(name, der, len)) == NULL) {
        note(c, label, "malformed key", 1);
        return;
    }
    if ((why = describe_pkey(c->p, k.pkey, &k)) != NULL) {
        EVP_PKEY_free(k.pkey);
        note(c, label, why, 1);
        return;
    }
    keep(c, &k);
}

static int pem_at_end(void)
{
    unsigned long e = ERR_peek_last_error();

    return ERR_GET_LIB(e) == ERR_LIB_PEM
        && ERR_GET_REASON(e) == PEM_R_NO_START_LINE;
}

static const char *parse_pem(jwk_ctx *c, const char *data, apr_size_t len)
{
    BIO *bio = BIO_new_mem_buf(data, (int)len);
    int blocks = 0;

    if (!bio) {
        return "out of memory";
    }
    for (;;) {
        char *name = NULL, *header = NULL;
        unsigned char *der = NULL;
        long dlen = 0;
        size_t left = BIO_pending(bio);

        if (PEM_read_bio(bio, &name, &header, &der, &dlen)) {
            pem_block(c, ++blocks, name, der, dlen);
        }
        else if (pem_at_end() || (size_t)BIO_pending(bio) >= left) {
            break;                   /* no further block (or no progress) */
        }
        else {
            note(c, apr_psprintf(c->p, "PEM block %d", ++blocks),
                 "malformed PEM", 1);
        }
        OPENSSL_free(name);
        OPENSSL_free(header);
        OPENSSL_free(der);
        err_reset();
    }
    BIO_free(bio);
    return blocks ? NULL : NOT_KEYS;
}

/* ---- API ---- */

const char *apigw_jwk_parse(apr_pool_t *p, const char *data, apr_size_t len,
                            apr_array_header_t *keys,
                            apr_array_header_t *skipped)
{
    jwk_ctx c = { p, keys, skipped, 0, NULL };
    int before = keys->nelts;
    apr_size_t i = 0;
    const char *why;

    if (!data || len == 0) {
        return NOT_KEYS;
    }
    if (len > JWK_MAX_DATA) {
        return "key data over 16 MB";
    }
    while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r'
                       || data[i] == '\n')) {
        i++;
    }
    ERR_set_mark();
    why = i < len && data[i] == '{' ? parse_json(&c, data, len)
                                    : parse_pem(&c, data, len);
    ERR_pop_to_mark();
    if (why || keys->nelts > before) {
        return why;
    }
    if (c.nskipped == 0) {
        return "no usable key: the set is empty";
    }
    return apr_psprintf(p, "no usable key: %s%s", c.first_skip,
                        c.nskipped > 1
                            ? apr_psprintf(p, " (and %d more)", c.nskipped - 1)
                            : "");
}

apigw_jwk *apigw_jwk_secret(apr_pool_t *p, const unsigned char *secret,
                            apr_size_t len, const char **why)
{
    apigw_jwk *k;

    if (!secret || len < APIGW_JWK_MIN_SECRET) {
        if (why) {
            *why = apr_psprintf(p, "HMAC secret of %lu bytes is below %d",
                                secret ? (unsigned long)len : 0UL,
                                APIGW_JWK_MIN_SECRET);
        }
        return NULL;
    }
    k = apr_pcalloc(p, sizeof(*k));
    k->kty = APIGW_KTY_OCT;
    k->secret = apr_pmemdup(p, secret, len);
    k->secret_len = len;
    return k;
}
