/* mod_apigw_auth configuration: the ApiJwt* and ApiKey* directives, one
 * handler each, and create/merge. Every mistake is refused at configtest
 * with the directive's name; httpd adds the file and line. */
#include "mod_apigw_auth.h"
#include "apigw_auth_config.h"
#include "apigw_auth_cache.h"
#include "apigw_parse.h"
#include "apigw_contract.h"

#include "http_log.h"
#include "apr_strings.h"
#include "apr_lib.h"
#include "apr_file_io.h"

#define KEY_FILE_MAX (16 * 1024 * 1024)

/* ---- create / merge ---- */

void *apigw_auth_create_dir_conf(apr_pool_t *p, char *dir)
{
    apigw_auth_dir_conf *c = apr_pcalloc(p, sizeof(*c));

    (void)dir;
    c->leeway = -1;
    c->key_store = -1;
    return c;
}

#define PICK(field, unset) \
    (add->field != (unset) ? add->field : base->field)

void *apigw_auth_merge_dir_conf(apr_pool_t *p, void *basev, void *addv)
{
    const apigw_auth_dir_conf *base = basev, *add = addv;
    apigw_auth_dir_conf *c = apr_pcalloc(p, sizeof(*c));

    c->sources = PICK(sources, NULL);
    c->algs = PICK(algs, 0);
    c->issuers = PICK(issuers, NULL);
    c->audiences = PICK(audiences, NULL);
    c->leeway = PICK(leeway, -1);
    c->cookie = PICK(cookie, NULL);
    c->header = PICK(header, NULL);
    c->roles_claim = PICK(roles_claim, NULL);
    c->user_claim = PICK(user_claim, NULL);
    c->propagate = PICK(propagate, NULL);
    c->key_header = PICK(key_header, NULL);
    c->keys = PICK(keys, NULL);
    c->key_file = PICK(key_file, NULL);
    c->key_store = PICK(key_store, -1);
    return c;
}

const apigw_auth_dir_conf *apigw_auth_conf(const request_rec *r)
{
    return ap_get_module_config(r->per_dir_config, &apigw_auth_module);
}

/* ---- checks ---- */

/* Is s an HTTP field name (RFC 9110 token)? */
static int is_token(const char *s)
{
    static const char other[] = "!#$%&'*+-.^_`|~";

    if (!*s) {
        return 0;
    }
    for (; *s; s++) {
        if (!apr_isalnum(*s) && !strchr(other, *s)) {
            return 0;
        }
    }
    return 1;
}

/* Headers a claim may never set: they frame the message or route it. */
static int is_reserved_header(const char *name)
{
    static const char *const reserved[] = {
        "Host", "Content-Length", "Transfer-Encoding", "Connection",
        "Upgrade", "TE", "Trailer", "Keep-Alive", "Proxy-Connection",
        "Expect", "Content-Type", "Authorization", NULL
    };
    int i;

    for (i = 0; reserved[i]; i++) {
        if (strcasecmp(name, reserved[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

/* ---- handlers ---- */

static const char *set_keys(cmd_parms *cmd, void *dc, int argc,
                            char *const argv[])
{
    apigw_auth_dir_conf *c = dc;
    return apigw_key_sources_add(cmd, &c->sources, argc, argv);
}

static const char *set_algorithm(cmd_parms *cmd, void *dc, const char *arg)
{
    apigw_auth_dir_conf *c = dc;
    int alg = apigw_alg_from_name(arg);

    if (alg < 0) {
        return apr_psprintf(cmd->pool, "ApiJwtAlgorithms: '%s' is not one "
                            "of RS256 RS384 RS512 PS256 PS384 PS512 ES256 "
                            "ES384 ES512 EdDSA HS256 HS384 HS512%s", arg,
                            strcasecmp(arg, "none") == 0
                                ? " (unsigned tokens are never accepted)"
                                : "");
    }
    c->algs |= APIGW_ALG_BIT(alg);
    return NULL;
}

static const char *add_word(cmd_parms *cmd, apr_array_header_t **list,
                            const char *arg)
{
    if (!*arg) {
        return apr_pstrcat(cmd->pool, cmd->cmd->name, ": an empty value",
                           NULL);
    }
    if (!*list) {
        *list = apr_array_make(cmd->pool, 2, sizeof(const char *));
    }
    APR_ARRAY_PUSH(*list, const char *) = arg;
    return NULL;
}

static const char *add_issuer(cmd_parms *cmd, void *dc, const char *arg)
{
    return add_word(cmd, &((apigw_auth_dir_conf *)dc)->issuers, arg);
}

static const char *add_audience(cmd_parms *cmd, void *dc, const char *arg)
{
    return add_word(cmd, &((apigw_auth_dir_conf *)dc)->audiences, arg);
}

static const char *set_leeway(cmd_parms *cmd, void *dc, const char *arg)
{
    apigw_auth_dir_conf *c = dc;
    const char *err = apigw_parse_duration(arg, &c->leeway);

    if (err) {
        return apr_pstrcat(cmd->pool, "ApiJwtLeeway: ", err, NULL);
    }
    if (c->leeway > apr_time_from_sec(3600)) {
        return "ApiJwtLeeway: at most 1h";
    }
    return NULL;
}

static const char *set_field_name(cmd_parms *cmd, void *dc, const char *arg)
{
    char **field = (char **)((char *)dc + (apr_size_t)cmd->info);

    if (!is_token(arg)) {
        return apr_psprintf(cmd->pool, "%s: '%s' is not a header or cookie "
                            "name", cmd->cmd->name, arg);
    }
    *field = apr_pstrdup(cmd->pool, arg);
    return NULL;
}

static const char *set_claim_path(cmd_parms *cmd, void *dc, const char *arg)
{
    char **field = (char **)((char *)dc + (apr_size_t)cmd->info);

    if (!*arg || strlen(arg) > 256) {
        return apr_psprintf(cmd->pool, "%s: a claim name of 1 to 256 "
                            "characters", cmd->cmd->name);
    }
    *field = apr_pstrdup(cmd->pool, arg);
    return NULL;
}

static const char *add_propagate(cmd_parms *cmd, void *dc, const char *claim,
                                 const char *header)
{
    apigw_auth_dir_conf *c = dc;
    apigw_auth_propagate *pr;

    if (!*claim) {
        return "ApiJwtPropagate: an empty claim name";
    }
    if (!is_token(header)) {
        return apr_psprintf(cmd->pool, "ApiJwtPropagate: '%s' is not a "
                            "header name", header);
    }
    if (is_reserved_header(header)) {
        return apr_psprintf(cmd->pool, "ApiJwtPropagate: a claim may not "
                            "set %s", header);
    }
    if (!c->propagate) {
        c->propagate = apr_array_make(cmd->pool, 2, sizeof(*pr));
    }
    pr = apr_array_push(c->propagate);
    pr->claim = claim;
    pr->header = header;
    return NULL;
}

static const char *read_key_file(cmd_parms *cmd, const char *path,
                                 char **text, apr_size_t *len)
{
    apr_file_t *f;
    apr_finfo_t fi;
    apr_status_t rv;

    if ((rv = apr_file_open(&f, path, APR_READ, 0, cmd->temp_pool))
            != APR_SUCCESS
        || (rv = apr_file_info_get(&fi, APR_FINFO_SIZE, f)) != APR_SUCCESS) {
        return apr_psprintf(cmd->pool, "ApiKeyFile: cannot read %s: %pm",
                            path, &rv);
    }
    if (fi.size > KEY_FILE_MAX) {
        apr_file_close(f);
        return apr_psprintf(cmd->pool, "ApiKeyFile: %s is larger than "
                            "16 MB", path);
    }
    *len = (apr_size_t)fi.size;
    *text = apr_palloc(cmd->temp_pool, *len + 1);
    rv = apr_file_read_full(f, *text, *len, len);
    apr_file_close(f);
    if (rv != APR_SUCCESS && rv != APR_EOF) {
        return apr_psprintf(cmd->pool, "ApiKeyFile: cannot read %s: %pm",
                            path, &rv);
    }
    (*text)[*len] = '\0';
    return NULL;
}

static const char *set_key_file(cmd_parms *cmd, void *dc, const char *arg)
{
    apigw_auth_dir_conf *c = dc;
    const char *path = ap_server_root_relative(cmd->pool, arg), *err;
    apr_size_t len = 0;
    char *text = NULL;

    if (!path) {
        return apr_pstrcat(cmd->pool, "ApiKeyFile: invalid path ", arg, NULL);
    }
    if ((err = read_key_file(cmd, path, &text, &len))) {
        return err;
    }
    c->keys = apigw_apikey_set_make(cmd->pool);
    if ((err = apigw_apikey_parse(cmd->pool, text, len, c->keys))) {
        return apr_psprintf(cmd->pool, "ApiKeyFile %s: %s", path, err);
    }
    c->key_file = path;
    return NULL;
}

/* Where ApiKeyStore On was first written, for the check below. */
static const char *key_store_where;

static const char *set_key_store(cmd_parms *cmd, void *dc, int on)
{
    ((apigw_auth_dir_conf *)dc)->key_store = on;
    if (on && !key_store_where) {
        key_store_where = apr_psprintf(cmd->pool, "%s:%d",
                                       cmd->directive->filename,
                                       cmd->directive->line_num);
    }
    return NULL;
}

int apigw_auth_config_pre_config(apr_pool_t *pconf, apr_pool_t *plog,
                                 apr_pool_t *ptemp)
{
    (void)pconf;
    (void)plog;
    (void)ptemp;
    key_store_where = NULL;
    return OK;
}

int apigw_auth_config_check(apr_pool_t *pconf, apr_pool_t *plog,
                            apr_pool_t *ptemp, server_rec *s)
{
    (void)pconf;
    (void)plog;
    (void)ptemp;
    if (key_store_where
        && !APR_RETRIEVE_OPTIONAL_FN(apigw_store_apikey_find)) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_CRIT, 0, s,
                     APIGW_LOGNO(03010) "ApiKeyStore On (%s) needs "
                     "mod_apigw, whose route store holds the keys: "
                     "LoadModule apigw_module", key_store_where);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}

const command_rec apigw_auth_cmds[] = {
    AP_INIT_TAKE_ARGV("ApiJwtKeys", set_keys, NULL, RSRC_CONF | ACCESS_CONF,
                      "where the keys that verify tokens come from: "
                      "file:PATH, secret:ENV_VAR or a JWK set URL "
                      "[refresh=DURATION] [insecure]"),
    AP_INIT_TAKE1("ApiJwtKeysCA", apigw_key_sources_set_ca, NULL, RSRC_CONF,
                  "the CA bundle that checks https JWK set URLs"),
    AP_INIT_ITERATE("ApiJwtAlgorithms", set_algorithm, NULL,
                    RSRC_CONF | ACCESS_CONF,
                    "the signature algorithms accepted (default: all but "
                    "none)"),
    AP_INIT_ITERATE("ApiJwtIssuer", add_issuer, NULL, RSRC_CONF | ACCESS_CONF,
                    "the accepted values of the iss claim"),
    AP_INIT_ITERATE("ApiJwtAudience", add_audience, NULL,
                    RSRC_CONF | ACCESS_CONF,
                    "the audiences of which aud must name one"),
    AP_INIT_TAKE1("ApiJwtLeeway", set_leeway, NULL, RSRC_CONF | ACCESS_CONF,
                  "the clock skew allowed for exp, nbf and iat (default 0)"),
    AP_INIT_TAKE1("ApiJwtCookie", set_field_name,
                  (void *)APR_OFFSETOF(apigw_auth_dir_conf, cookie),
                  RSRC_CONF | ACCESS_CONF,
                  "a cookie that carries the token"),
    AP_INIT_TAKE1("ApiJwtHeader", set_field_name,
                  (void *)APR_OFFSETOF(apigw_auth_dir_conf, header),
                  RSRC_CONF | ACCESS_CONF,
                  "a request header that carries the token"),
    AP_INIT_TAKE1("ApiJwtRolesClaim", set_claim_path,
                  (void *)APR_OFFSETOF(apigw_auth_dir_conf, roles_claim),
                  RSRC_CONF | ACCESS_CONF,
                  "the claim (dotted path) Require jwt-role reads "
                  "(default roles)"),
    AP_INIT_TAKE1("ApiJwtUserClaim", set_claim_path,
                  (void *)APR_OFFSETOF(apigw_auth_dir_conf, user_claim),
                  RSRC_CONF | ACCESS_CONF,
                  "the claim that names the user (default sub)"),
    AP_INIT_TAKE2("ApiJwtPropagate", add_propagate, NULL,
                  RSRC_CONF | ACCESS_CONF,
                  "CLAIM HEADER: send a claim to the backend as a header"),
    AP_INIT_TAKE1("ApiJwtCache", apigw_auth_cache_set_size, NULL, RSRC_CONF,
                  "verified tokens each child remembers (default 1024, "
                  "0: off)"),
    AP_INIT_TAKE1("ApiKeyHeader", set_field_name,
                  (void *)APR_OFFSETOF(apigw_auth_dir_conf, key_header),
                  RSRC_CONF | ACCESS_CONF,
                  "the request header that carries an API key "
                  "(default X-API-Key)"),
    AP_INIT_TAKE1("ApiKeyFile", set_key_file, NULL, RSRC_CONF | ACCESS_CONF,
                  "a file of API keys: NAME SHA256-HEX [ROLES] per line"),
    AP_INIT_FLAG("ApiKeyStore", set_key_store, NULL,
                 RSRC_CONF | ACCESS_CONF,
                 "also accept the API keys of the route store, managed "
                 "through the admin API (default off)"),
    { NULL }
};
