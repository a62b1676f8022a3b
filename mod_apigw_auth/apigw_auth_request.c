/* A request's authentication (see apigw_auth_request.h): the credential
 * found where the section says, checked (a JWT through the per-child
 * cache, its keys and claims; an API key by its hash), r->user set, or
 * the request refused with WWW-Authenticate and the gateway's error body;
 * a failed Require turned into 403; claims propagated at fixups. */
#include "mod_apigw_auth.h"
#include "apigw_auth_request.h"
#include "apigw_auth_config.h"
#include "apigw_auth_cache.h"
#include "apigw_auth_keys.h"
#include "apigw_error_filter.h"
#include "apigw_contract.h"
#include "apigw_sha256.h"
#include "apigw_jwt.h"
#include "apigw_jwt_verify.h"

#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "util_cookies.h"
#include "mod_core.h"
#include "apr_strings.h"
#include "apr_lib.h"


APLOG_USE_MODULE(apigw_auth);

ap_filter_rec_t *apigw_auth_error_filter_handle;

static int header_safe(const char *v);

/* ---- the request's state ---- */

static apr_status_t state_free(void *data)
{
    apigw_auth_state *st = data;
    json_decref(st->claims);
    st->claims = NULL;
    return APR_SUCCESS;
}

static apigw_auth_state *state_make(request_rec *r, apigw_auth_kind kind)
{
    apigw_auth_state *st = apr_pcalloc(r->pool, sizeof(*st));

    st->kind = kind;
    apr_pool_cleanup_register(r->pool, st, state_free, apr_pool_cleanup_null);
    ap_set_module_config(r->request_config, &apigw_auth_module, st);
    return st;
}

apigw_auth_state *apigw_auth_state_get(const request_rec *r)
{
    for (; r; r = r->prev ? r->prev : r->main) {
        apigw_auth_state *st = ap_get_module_config(r->request_config,
                                                    &apigw_auth_module);
        if (st) {
            return st;
        }
    }
    return NULL;
}

/* ---- refusals ---- */

/* text fit for a quoted-string of WWW-Authenticate: no quote, backslash
 * or control character */
static const char *quotable(apr_pool_t *p, const char *s)
{
    char *out = apr_pstrdup(p, s), *c;

    for (c = out; *c; c++) {
        if (*c == '"' || *c == '\\' || apr_iscntrl(*c)) {
            *c = ' ';
        }
    }
    return out;
}

static const char *realm(request_rec *r)
{
    const char *name = ap_auth_name(r);
    return quotable(r->pool, name && *name ? name : "api");
}

/* Refuses r: status (401 or 503) with reason in the body; for a 401 the
 * challenge of the scheme. A reason is logged at debug level only: a
 * refused credential is the client's business, and never logged. */
static int refuse(request_rec *r, apigw_auth_state *st, int status,
                  const char *reason, int token_seen)
{
    st->status = status;
    st->reason = reason;
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, APIGW_LOGNO(03020)
                  "%s refused for %s %s: %s",
                  st->kind == APIGW_AUTH_JWT ? "JWT" : "API key",
                  r->method, r->uri, reason);
    if (status != HTTP_UNAUTHORIZED) {
        return status;
    }
    if (st->kind == APIGW_AUTH_APIKEY) {
        apr_table_setn(r->err_headers_out, "WWW-Authenticate",
                       apr_psprintf(r->pool, "ApiKey realm=\"%s\"",
                                    realm(r)));
    }
    else if (!token_seen) {
        apr_table_setn(r->err_headers_out, "WWW-Authenticate",
                       apr_psprintf(r->pool, "Bearer realm=\"%s\"", realm(r)));
    }
    else {
        apr_table_setn(r->err_headers_out, "WWW-Authenticate",
                       apr_psprintf(r->pool, "Bearer realm=\"%s\", "
                                    "error=\"invalid_token\", "
                                    "error_description=\"%s\"", realm(r),
                                    quotable(r->pool, reason)));
    }
    return status;
}

int apigw_auth_note_failure(request_rec *r, const char *auth_type)
{
    apigw_auth_state *st;

    if (strcasecmp(auth_type, "jwt") != 0
        && strcasecmp(auth_type, "apikey") != 0) {
        return DECLINED;
    }
    /* mod_authz_core calls this when a Require fails for the user the
     * credential named: that is a 403 (RFC 6750 3.1), not a new login */
    st = apigw_auth_state_get(r);
    if (st && !st->status) {
        st->forbidden = 1;
        if (st->kind == APIGW_AUTH_JWT) {
            apr_table_setn(r->err_headers_out, "WWW-Authenticate",
                           apr_psprintf(r->pool, "Bearer realm=\"%s\", "
                                        "error=\"insufficient_scope\"",
                                        realm(r)));
        }
    }
    return OK;
}

void apigw_auth_insert_error_filter(request_rec *r)
{
    apigw_auth_state *st = apigw_auth_state_get(r);
    const char *reason;

    if (!st || apigw_error_owned(r)) {
        return;
    }
    if (st->forbidden && r->status == HTTP_UNAUTHORIZED) {
        /* httpd chose the 401's page already: this body is always ours */
        r->status = HTTP_FORBIDDEN;
        r->status_line = NULL;
        if (st->kind == APIGW_AUTH_APIKEY) {
            apr_table_unset(r->err_headers_out, "WWW-Authenticate");
        }
        reason = st->kind == APIGW_AUTH_JWT
                 ? "the token does not grant access to this resource"
                 : "the API key does not grant access to this resource";
    }
    else if (st->status && st->status == r->status) {
        /* an ErrorDocument the operator wrote wins */
        if (ap_response_code_string(r, ap_index_of_response(r->status))) {
            return;
        }
        reason = st->reason;
    }
    else {
        return;
    }
    apigw_error_filter_add(r, apigw_auth_error_filter_handle, NULL, reason);
}

/* ---- JWT ---- */

/* The value of "Authorization: Bearer TOKEN" (any case), or NULL. */
static const char *bearer(request_rec *r)
{
    const char *v = apr_table_get(r->headers_in, "Authorization");
    apr_size_t n;

    if (!v || strncasecmp(v, "Bearer", 6) != 0 || (v[6] != ' '
                                                    && v[6] != '\t')) {
        return NULL;
    }
    for (v += 6; *v == ' ' || *v == '\t'; v++) {
    }
    n = strlen(v);
    while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t')) {
        n--;
    }
    return n ? apr_pstrmemdup(r->pool, v, n) : NULL;
}

/* The token r carries: ApiJwtHeader, ApiJwtCookie, then Bearer. */
static const char *find_token(request_rec *r, const apigw_auth_dir_conf *c)
{
    const char *v;

    if (c->header && (v = apr_table_get(r->headers_in, c->header)) && *v) {
        if (strncasecmp(v, "Bearer ", 7) == 0) {
            v += 7;
        }
        return v;
    }
    if (c->cookie && ap_cookie_read(r, c->cookie, &v, 0) == APR_SUCCESS
        && v && *v) {
        return v;
    }
    return bearer(r);
}

/* A JWT as far as the claim checks need it, for a cached token. */
static apigw_jwt cached_jwt(json_t *claims)
{
    apigw_jwt t;

    memset(&t, 0, sizeof(t));
    t.claims = claims;
    return t;
}

static apigw_jwt_rules rules_of(const apigw_auth_dir_conf *c)
{
    apigw_jwt_rules rules;

    rules.now = apr_time_now();
    rules.leeway = c->leeway > 0 ? c->leeway : 0;
    rules.issuers = c->issuers;
    rules.audiences = c->audiences;
    return rules;
}

static apigw_alg_set allowed_algs(const apigw_auth_dir_conf *c)
{
    return c->algs ? c->algs : APIGW_ALG_ALL;
}

/* Keys a token without a kid is tried with, at most: each costs a
 * signature check, and a client chooses how many keys fit. */
#define MAX_KEYS_TRIED 4

/* Verifies the token's signature with c's keys: the key its kid names,
 * or each that fits its algorithm (up to MAX_KEYS_TRIED); NULL or why
 * not, with *status 503 when there are no keys to verify with, and *gen
 * the generation of the keys used. */
static const char *verify_signature(request_rec *r,
                                    const apigw_auth_dir_conf *c,
                                    const apigw_jwt *t, int *status,
                                    apr_uint64_t *gen)
{
    const apr_array_header_t *keys;
    const apigw_jwk *k;
    const char *why = NULL, *unavailable = NULL;
    const char *err;
    int unknown_kid = 0, from = 0, tried, alg = apigw_alg_from_name(t->alg);

    /* the cheap refusal first: no key is fetched for a forbidden alg */
    if (alg < 0 || !(allowed_algs(c) & APIGW_ALG_BIT(alg))) {
        return "algorithm not allowed";
    }
    keys = apigw_key_sources_current(r, c->sources, &unavailable, gen);
    k = apigw_jwt_pick_next_key(t, keys, &from, allowed_algs(c), &why,
                                &unknown_kid);
    if (!k && unknown_kid && apigw_key_sources_refetch(r, c->sources)) {
        keys = apigw_key_sources_current(r, c->sources, &unavailable, gen);
        from = 0;
        k = apigw_jwt_pick_next_key(t, keys, &from, allowed_algs(c), &why,
                                    &unknown_kid);
    }
    if (!k) {
        if (keys->nelts == 0) {
            *status = HTTP_SERVICE_UNAVAILABLE;
            if (unavailable) {
                ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                              APIGW_LOGNO(03024) "no keys from %s yet",
                              unavailable);
            }
            return "no keys to verify tokens with yet";
        }
        return why ? why : "no key for this token";
    }
    for (tried = 1;; tried++) {
        if (!(err = apigw_jwt_verify_sig(r->pool, t, k)) || t->kid
            || tried == MAX_KEYS_TRIED
            || !(k = apigw_jwt_pick_next_key(t, keys, &from,
                                             allowed_algs(c), &why, NULL))) {
            return err;                /* NULL, or the last key's reason */
        }
    }
}

/* Checks token fully (or finds it in the cache); the verified claims
 * (a reference owned by the caller) or NULL with *why and *status. */
static json_t *verify_token(request_rec *r, const apigw_auth_dir_conf *c,
                            const char *token, const char **why, int *status)
{
    unsigned char hash[APIGW_SHA256_LEN];
    apigw_jwt_rules rules = rules_of(c);
    apr_size_t len = strlen(token);
    apr_time_t exp = 0;
    apr_uint64_t gen = apigw_key_sources_generation(c->sources), used = 0;
    apigw_jwt t;
    json_t *claims;
    int alg, hashed;

    *status = HTTP_UNAUTHORIZED;
    if (len > APIGW_JWT_MAX_LEN) {
        *why = "token too long";
        return NULL;
    }
    hashed = apigw_sha256(token, len, hash);
    if (hashed
        && (claims = apigw_auth_cache_get(hash, c->sources, gen, &alg))) {
        t = cached_jwt(claims);
        if (!(allowed_algs(c) & APIGW_ALG_BIT(alg))) {
            *why = "algorithm not allowed";
        }
        else {
            *why = apigw_jwt_check_claims(&t, &rules, &exp);
        }
        if (*why) {
            json_decref(claims);
            return NULL;
        }
        return claims;
    }
    if ((*why = apigw_jwt_decode(r->pool, token, len, APIGW_JWT_MAX_LEN, &t))
        || (*why = verify_signature(r, c, &t, status, &used))
        || (*why = apigw_jwt_check_claims(&t, &rules, &exp))) {
        return NULL;
    }
    alg = apigw_alg_from_name(t.alg);
    /* remembered under the generation of the keys it was checked with:
     * a child still on older keys makes entries later lookups miss */
    if (hashed && alg >= 0 && used == gen) {
        apigw_auth_cache_put(hash, c->sources, gen, alg, t.claims, exp);
    }
    return json_incref(t.claims);
}

int apigw_auth_check_jwt(request_rec *r)
{
    const apigw_auth_dir_conf *c;
    apigw_auth_state *st;
    const char *type = ap_auth_type(r), *token, *why = NULL, *user;
    int status;

    if (!type || strcasecmp(type, "jwt") != 0) {
        return DECLINED;
    }
    c = apigw_auth_conf(r);
    st = state_make(r, APIGW_AUTH_JWT);
    r->ap_auth_type = (char *)type;
    if (!c->sources) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, APIGW_LOGNO(03021)
                      "AuthType jwt without ApiJwtKeys for %s", r->uri);
        return refuse(r, st, HTTP_INTERNAL_SERVER_ERROR,
                      "authentication is not configured", 0);
    }
    if (!(token = find_token(r, c))) {
        return refuse(r, st, HTTP_UNAUTHORIZED, "a bearer token is required",
                      0);
    }
    st->claims = verify_token(r, c, token, &why, &status);
    if (!st->claims) {
        return refuse(r, st, status, why, 1);
    }
    user = apigw_jwt_claim_text(r->pool,
                                apigw_jwt_claim(st->claims, c->user_claim
                                    ? c->user_claim
                                    : APIGW_AUTH_DEFAULT_USER_CLAIM));
    /* r->user reaches logs and REMOTE_USER: no control characters */
    r->user = (char *)(user && *user && header_safe(user) ? user : "jwt");
    return OK;
}

/* ---- API keys ---- */

/* mod_apigw's lookup of the route store's keys, when it is loaded */
static APR_OPTIONAL_FN_TYPE(apigw_store_apikey_find) *store_find;

void apigw_auth_retrieve_optional_fns(void)
{
    store_find = APR_RETRIEVE_OPTIONAL_FN(apigw_store_apikey_find);
}

/* The key of c's file, else of the route store (ApiKeyStore on). */
static const apigw_apikey *find_key(request_rec *r,
                                    const apigw_auth_dir_conf *c,
                                    const char *key)
{
    const apigw_apikey *k = NULL;
    apr_size_t len = strlen(key);

    if (c->keys) {
        k = apigw_apikey_find(c->keys, key, len);
    }
    if (!k && c->key_store == 1 && store_find) {
        k = store_find(r, key, len);
    }
    return k;
}

int apigw_auth_check_apikey(request_rec *r)
{
    const apigw_auth_dir_conf *c;
    apigw_auth_state *st;
    const char *type = ap_auth_type(r), *key;

    if (!type || strcasecmp(type, "apikey") != 0) {
        return DECLINED;
    }
    c = apigw_auth_conf(r);
    st = state_make(r, APIGW_AUTH_APIKEY);
    r->ap_auth_type = (char *)type;
    if (!c->keys && c->key_store != 1) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, APIGW_LOGNO(03022)
                      "AuthType apikey without ApiKeyFile or ApiKeyStore "
                      "on for %s", r->uri);
        return refuse(r, st, HTTP_INTERNAL_SERVER_ERROR,
                      "authentication is not configured", 0);
    }
    key = apr_table_get(r->headers_in, c->key_header
                            ? c->key_header : APIGW_AUTH_DEFAULT_KEY_HEADER);
    if (!key || !*key) {
        key = bearer(r);
    }
    if (!key) {
        return refuse(r, st, HTTP_UNAUTHORIZED, "an API key is required", 0);
    }
    st->key = find_key(r, c, key);
    if (!st->key) {
        return refuse(r, st, HTTP_UNAUTHORIZED, "unknown API key", 1);
    }
    r->user = (char *)st->key->name;
    return OK;
}

/* ---- claims to backends ---- */

const char *apigw_auth_claim(request_rec *r, const char *name)
{
    apigw_auth_state *st = apigw_auth_state_get(r);

    if (!st || !st->claims) {
        return NULL;
    }
    return apigw_jwt_claim_text(r->pool, apigw_jwt_claim(st->claims, name));
}

static int header_safe(const char *v)
{
    for (; *v; v++) {
        if (apr_iscntrl(*v) && *v != '\t') {
            return 0;
        }
    }
    return 1;
}

int apigw_auth_strip_fixups(request_rec *r)
{
    const apigw_auth_dir_conf *c = apigw_auth_conf(r);
    int i;

    for (i = 0; c && c->propagate && i < c->propagate->nelts; i++) {
        apr_table_unset(r->headers_in, APR_ARRAY_IDX(c->propagate, i,
                                                     apigw_auth_propagate)
                                           .header);
    }
    return DECLINED;
}

int apigw_auth_fixups(request_rec *r)
{
    const apigw_auth_dir_conf *c = apigw_auth_conf(r);
    apigw_auth_state *st;
    int i;

    if (!c || !c->propagate) {
        return DECLINED;
    }
    st = apigw_auth_state_get(r);
    for (i = 0; i < c->propagate->nelts; i++) {
        const apigw_auth_propagate *pr = &APR_ARRAY_IDX(c->propagate, i,
                                                        apigw_auth_propagate);
        const char *v;

        /* what the client sent under that name never reaches a backend */
        apr_table_unset(r->headers_in, pr->header);
        if (!st || !st->claims) {
            continue;
        }
        v = apigw_jwt_claim_text(r->pool, apigw_jwt_claim(st->claims,
                                                          pr->claim));
        if (!v) {
            continue;
        }
        if (!header_safe(v)) {
            ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, APIGW_LOGNO(03023)
                          "claim %s holds a control character: not sent "
                          "as %s", pr->claim, pr->header);
            continue;
        }
        apr_table_setn(r->headers_in, pr->header, v);
    }
    return DECLINED;
}
