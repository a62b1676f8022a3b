/* The Require providers of mod_apigw_auth, for mod_authz_core:
 *   Require jwt-claim NAME VALUE...   the claim (dotted path) holds one
 *                                     of the values (arrays: any element)
 *   Require jwt-scope SCOPE...        the token grants one of the scopes
 *   Require jwt-role ROLE...          the roles claim (ApiJwtRolesClaim)
 *                                     holds one of the roles
 *   Require apikey-role ROLE...       the API key has one of the roles
 * Each grants on any one of its words, like Require user; <RequireAll>
 * asks for several. Without an authenticated user they answer "no user
 * yet", so httpd authenticates first. */
#include "mod_apigw_auth.h"
#include "apigw_auth_authz.h"
#include "apigw_auth_config.h"
#include "apigw_auth_request.h"
#include "apigw_jwt.h"

#include "http_request.h"
#include "mod_auth.h"
#include "apr_strings.h"

/* A Require line's words, split once at configtest. */
typedef struct {
    const char *name;                /* jwt-claim: the claim */
    apr_array_header_t *values;      /* const char * */
} require_words;

static const char *parse_words(cmd_parms *cmd, const char *provider,
                               const char *line, const void **parsed,
                               int with_name)
{
    require_words *w = apr_pcalloc(cmd->pool, sizeof(*w));
    const char *word;

    w->values = apr_array_make(cmd->pool, 2, sizeof(const char *));
    while (*(word = ap_getword_conf(cmd->pool, &line))) {
        if (with_name && !w->name) {
            w->name = word;
        }
        else {
            APR_ARRAY_PUSH(w->values, const char *) = word;
        }
    }
    if (w->values->nelts == 0) {
        return apr_psprintf(cmd->pool, "Require %s needs %s", provider,
                            with_name ? "a claim name and at least one value"
                                      : "at least one value");
    }
    *parsed = w;
    return NULL;
}

#define PARSER(fn, provider, with_name)                                  \
    static const char *fn(cmd_parms *cmd, const char *line,             \
                          const void **parsed)                          \
    {                                                                   \
        return parse_words(cmd, provider, line, parsed, with_name);     \
    }
PARSER(parse_claim_line, "jwt-claim", 1)
PARSER(parse_scope_line, "jwt-scope", 0)
PARSER(parse_role_line, "jwt-role", 0)
PARSER(parse_key_role_line, "apikey-role", 0)

/* The JWT claims of r when a token authenticated it; NULL and *result
 * set otherwise. */
static json_t *jwt_claims(request_rec *r, authz_status *result)
{
    apigw_auth_state *st;

    if (!r->user) {
        *result = AUTHZ_DENIED_NO_USER;
        return NULL;
    }
    st = apigw_auth_state_get(r);
    *result = AUTHZ_DENIED;
    return st && st->kind == APIGW_AUTH_JWT ? st->claims : NULL;
}

static authz_status check_claim(request_rec *r, const char *line,
                                const void *parsed)
{
    const require_words *w = parsed;
    authz_status result;
    json_t *claims = jwt_claims(r, &result), *v;
    int i;

    (void)line;
    if (!claims || !(v = apigw_jwt_claim(claims, w->name))) {
        return result;
    }
    for (i = 0; i < w->values->nelts; i++) {
        if (apigw_jwt_claim_has(v, APR_ARRAY_IDX(w->values, i,
                                                 const char *))) {
            return AUTHZ_GRANTED;
        }
    }
    return AUTHZ_DENIED;
}

static authz_status check_scope(request_rec *r, const char *line,
                                const void *parsed)
{
    const require_words *w = parsed;
    authz_status result;
    json_t *claims = jwt_claims(r, &result);
    int i;

    (void)line;
    for (i = 0; claims && i < w->values->nelts; i++) {
        if (apigw_jwt_has_scope(claims, APR_ARRAY_IDX(w->values, i,
                                                      const char *))) {
            return AUTHZ_GRANTED;
        }
    }
    return result;
}

static authz_status check_role(request_rec *r, const char *line,
                               const void *parsed)
{
    const require_words *w = parsed;
    const apigw_auth_dir_conf *c = apigw_auth_conf(r);
    authz_status result;
    json_t *claims = jwt_claims(r, &result), *roles;
    int i;

    (void)line;
    if (!claims) {
        return result;
    }
    roles = apigw_jwt_claim(claims, c->roles_claim
                                    ? c->roles_claim
                                    : APIGW_AUTH_DEFAULT_ROLES_CLAIM);
    for (i = 0; roles && i < w->values->nelts; i++) {
        if (apigw_jwt_claim_has(roles, APR_ARRAY_IDX(w->values, i,
                                                     const char *))) {
            return AUTHZ_GRANTED;
        }
    }
    return AUTHZ_DENIED;
}

static authz_status check_key_role(request_rec *r, const char *line,
                                   const void *parsed)
{
    const require_words *w = parsed;
    apigw_auth_state *st;
    int i;

    (void)line;
    if (!r->user) {
        return AUTHZ_DENIED_NO_USER;
    }
    st = apigw_auth_state_get(r);
    for (i = 0; st && st->key && i < w->values->nelts; i++) {
        if (apigw_apikey_has_role(st->key, APR_ARRAY_IDX(w->values, i,
                                                         const char *))) {
            return AUTHZ_GRANTED;
        }
    }
    return AUTHZ_DENIED;
}

static const authz_provider claim_provider = { check_claim,
                                               parse_claim_line };
static const authz_provider scope_provider = { check_scope,
                                               parse_scope_line };
static const authz_provider role_provider = { check_role, parse_role_line };
static const authz_provider key_role_provider = { check_key_role,
                                                  parse_key_role_line };

void apigw_auth_register_providers(apr_pool_t *p)
{
    static const struct {
        const char *name;
        const authz_provider *provider;
    } all[] = {
        { "jwt-claim", &claim_provider },
        { "jwt-scope", &scope_provider },
        { "jwt-role", &role_provider },
        { "apikey-role", &key_role_provider },
    };
    apr_size_t i;

    for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, all[i].name,
                                  AUTHZ_PROVIDER_VERSION, all[i].provider,
                                  AP_AUTH_INTERNAL_PER_CONF);
    }
}
