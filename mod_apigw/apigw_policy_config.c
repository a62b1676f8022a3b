/* Edge policies' configuration: the Api* directives of the policies (one
 * handler each) and the create/merge of struct apigw_policy_conf. Each
 * handler parses its arguments into the plain structs of
 * apigw_policy_conf.h and has them checked by the validation functions of
 * apigw_policy_validate.c, the ones the admin API calls too. What is in
 * force for an endpoint is built in apigw_policy_effective.c; the request
 * phases are in apigw_policy_hooks.c. */
#include "apigw_policy_conf.h"
#include "apigw_policy_validate.h"
#include "apigw_config.h"

#include "http_config.h"
#include "apr_strings.h"

/* ---- create / merge ---- */

static void init_conf(apigw_policy_conf *c)
{
    c->cors.enabled = -1;
    c->cors.credentials = -1;
    c->cors.max_age = -1;
    c->cors.private_network = -1;
    c->cors.passthrough = -1;
    c->security_headers = -1;
    c->request_body_limit = -1;
    c->response_body_limit = -1;
    c->cache.enabled = -1;
    c->cache.flags = -1;
    c->bots.empty_ua = -1;
}

struct apigw_policy_conf *apigw_policy_create(apr_pool_t *p)
{
    apigw_policy_conf *c = apr_pcalloc(p, sizeof(*c));
    init_conf(c);
    return c;
}

#define PICK(f, unset) (add->f != (unset) ? add->f : base->f)
#define PICKP(f) (add->f ? add->f : base->f)

static void merge_cors(apigw_cors_policy *c, const apigw_cors_policy *base,
                       const apigw_cors_policy *add)
{
    c->enabled = PICK(enabled, -1);
    if (add->origins) {
        c->origins = add->origins;
        c->any_origin = add->any_origin;
    }
    else {
        c->origins = base->origins;
        c->any_origin = base->any_origin;
    }
    c->methods = PICKP(methods);
    if (add->headers) {
        c->headers = add->headers;
        c->any_header = add->any_header;
    }
    else {
        c->headers = base->headers;
        c->any_header = base->any_header;
    }
    c->expose = PICKP(expose);
    c->credentials = PICK(credentials, -1);
    c->max_age = PICK(max_age, -1);
    c->private_network = PICK(private_network, -1);
    c->passthrough = PICK(passthrough, -1);
    c->preflight_status = PICK(preflight_status, 0);
    c->file = PICKP(file);
    c->line = add->file ? add->line : base->line;
}

/* Each list with its compiled form, per directive. */
static void merge_bots(apigw_bot_policy *c, const apigw_bot_policy *base,
                       const apigw_bot_policy *add)
{
    const apigw_bot_policy *from;

    from = add->allow ? add : base;
    c->allow = from->allow;
    c->allow_set = from->allow_set;
    from = add->deny ? add : base;
    c->deny = from->deny;
    c->deny_set = from->deny_set;
    from = add->patterns ? add : base;
    c->patterns = from->patterns;
    c->codes = from->codes;
    c->empty_ua = PICK(empty_ua, -1);
    c->file = PICKP(file);
    c->line = add->file ? add->line : base->line;
}

/* Header rules add up: the outer context's first, then the inner's. */
static apr_array_header_t *merge_rules(apr_pool_t *p,
                                       apr_array_header_t *base,
                                       apr_array_header_t *add)
{
    if (!base) {
        return add;
    }
    if (!add) {
        return base;
    }
    return apr_array_append(p, base, add);
}

struct apigw_policy_conf *apigw_policy_merge(apr_pool_t *p,
                                             const struct apigw_policy_conf *base,
                                             const struct apigw_policy_conf *add)
{
    apigw_policy_conf *c;

    /* per request when a section is merged: usually nothing to do */
    if (!add->any) {
        return (struct apigw_policy_conf *)base;
    }
    if (!base->any) {
        return (struct apigw_policy_conf *)add;
    }
    c = apr_pcalloc(p, sizeof(*c));
    c->any = 1;
    merge_cors(&c->cors, &base->cors, &add->cors);
    c->request_headers = merge_rules(p, base->request_headers,
                                     add->request_headers);
    c->response_headers = merge_rules(p, base->response_headers,
                                      add->response_headers);
    c->security_headers = PICK(security_headers, -1);
    c->rewrites = PICKP(rewrites);
    c->query_deny = PICKP(query_deny);
    c->query_deny_file = add->query_deny ? add->query_deny_file
                                         : base->query_deny_file;
    c->query_deny_line = add->query_deny ? add->query_deny_line
                                         : base->query_deny_line;
    c->request_body_limit = PICK(request_body_limit, -1);
    c->response_body_limit = PICK(response_body_limit, -1);
    c->cache.enabled = PICK(cache.enabled, -1);
    c->cache.flags = PICK(cache.flags, -1);
    c->cache.file = add->cache.enabled != -1 ? add->cache.file : base->cache.file;
    c->cache.line = add->cache.enabled != -1 ? add->cache.line : base->cache.line;
    merge_bots(&c->bots, &base->bots, &add->bots);
    return c;
}

/* ---- directive helpers ---- */

/* Policies apply to endpoints: set in the server config, a virtual host
 * (for all its endpoints) or an <ApiEndpoint>, never in <Location>. */
static const char *policy_context(cmd_parms *cmd)
{
    if (cmd->path && !apigw_cmd_in_endpoint(cmd)) {
        return apr_pstrcat(cmd->pool, cmd->cmd->name, " belongs in the "
                           "server config, a <VirtualHost> or an "
                           "<ApiEndpoint>", NULL);
    }
    return NULL;
}

static const char *endpoint_context(cmd_parms *cmd)
{
    if (!apigw_cmd_in_endpoint(cmd)) {
        return apr_pstrcat(cmd->pool, cmd->cmd->name,
                           " is only allowed inside <ApiEndpoint>", NULL);
    }
    return NULL;
}

static apigw_policy_conf *pol_of(void *dconf)
{
    apigw_policy_conf *c = ((apigw_dir_conf *)dconf)->policy;
    c->any = 1;
    return c;
}

/* The first ApiCors* line of a context is where errors point, and any of
 * them turns CORS on unless ApiCors says otherwise. */
static apigw_cors_policy *cors_of(cmd_parms *cmd, void *dconf, int turn_on)
{
    apigw_cors_policy *c = &pol_of(dconf)->cors;

    if (!c->file) {
        c->file = cmd->directive->filename;
        c->line = (unsigned)cmd->directive->line_num;
    }
    if (turn_on && c->enabled == -1) {
        c->enabled = 1;
    }
    return c;
}

/* The directive's message for what a validation function found. */
static const char *invalid_msg(cmd_parms *cmd, const apigw_invalid *inv)
{
    if (!inv) {
        return NULL;
    }
    if (strcmp(inv->field, "cors.allowCredentials") == 0) {
        return apr_psprintf(cmd->pool, "%s: ApiCorsAllowOrigins * cannot be "
                            "combined with ApiCorsAllowCredentials On "
                            "(browsers refuse it); list the origins instead",
                            cmd->cmd->name);
    }
    return apr_psprintf(cmd->pool, "%s: %s", cmd->cmd->name, inv->problem);
}

/* CORS directives: context, the context's CORS settings (turned on), and
 * after the change, the validation of the whole. */
#define CORS_BEGIN(cmd, dconf, c) \
    const char *err_ = policy_context(cmd); \
    apigw_cors_policy *c; \
    if (err_) { \
        return err_; \
    } \
    c = cors_of(cmd, dconf, 1)

static const char *cors_end(cmd_parms *cmd, const apigw_cors_policy *c)
{
    return invalid_msg(cmd, apigw_cors_validate(cmd->pool, c));
}

static void push_name(apr_pool_t *p, apr_array_header_t **a, const char *name)
{
    if (!*a) {
        *a = apr_array_make(p, 4, sizeof(const char *));
    }
    APR_ARRAY_PUSH(*a, const char *) = name;
}

/* ---- CORS ---- */

const char *apigw_policy_set_cors(cmd_parms *cmd, void *dconf, int flag)
{
    const char *err = policy_context(cmd);

    if (err) {
        return err;
    }
    cors_of(cmd, dconf, 0)->enabled = flag;
    return NULL;
}

const char *apigw_policy_set_cors_origins(cmd_parms *cmd, void *dconf,
                                          const char *w)
{
    const char *err;
    CORS_BEGIN(cmd, dconf, c);

    if (strcmp(w, "*") == 0) {
        c->any_origin = 1;
        push_name(cmd->pool, &c->origins, "*");
        return cors_end(cmd, c);
    }
    push_name(cmd->pool, &c->origins, apr_pstrdup(cmd->pool, w));
    if ((err = cors_end(cmd, c)) != NULL) {
        return err;
    }
    ap_str_tolower(APR_ARRAY_IDX(c->origins, c->origins->nelts - 1, char *));
    return NULL;
}

const char *apigw_policy_set_cors_methods(cmd_parms *cmd, void *dconf,
                                          const char *w)
{
    const char *known = apigw_method_known(w, 1);
    CORS_BEGIN(cmd, dconf, c);

    /* the table's own copy when known; the validation refuses the rest */
    push_name(cmd->pool, &c->methods, known ? known : w);
    return cors_end(cmd, c);
}

const char *apigw_policy_set_cors_headers(cmd_parms *cmd, void *dconf,
                                          const char *w)
{
    CORS_BEGIN(cmd, dconf, c);

    if (strcmp(w, "*") == 0) {
        c->any_header = 1;
    }
    push_name(cmd->pool, &c->headers, w);
    return cors_end(cmd, c);
}

const char *apigw_policy_set_cors_expose(cmd_parms *cmd, void *dconf,
                                         const char *w)
{
    CORS_BEGIN(cmd, dconf, c);

    push_name(cmd->pool, &c->expose, w);
    return cors_end(cmd, c);
}

const char *apigw_policy_set_cors_credentials(cmd_parms *cmd, void *dconf,
                                              int flag)
{
    CORS_BEGIN(cmd, dconf, c);

    c->credentials = flag;
    return cors_end(cmd, c);
}

const char *apigw_policy_set_cors_max_age(cmd_parms *cmd, void *dconf,
                                          const char *a)
{
    apr_interval_time_t t;
    const char *err;
    CORS_BEGIN(cmd, dconf, c);

    if ((err = apigw_parse_duration(a, &t)) != NULL) {
        return apr_psprintf(cmd->pool, "ApiCorsMaxAge %s: %s", a, err);
    }
    c->max_age = t < 0 ? -2 : apr_time_sec(t);
    return cors_end(cmd, c);
}

const char *apigw_policy_set_cors_pna(cmd_parms *cmd, void *dconf, int flag)
{
    CORS_BEGIN(cmd, dconf, c);

    c->private_network = flag;
    return NULL;
}

const char *apigw_policy_set_cors_preflight(cmd_parms *cmd, void *dconf,
                                            const char *a, const char *b)
{
    CORS_BEGIN(cmd, dconf, c);

    if (ap_cstr_casecmp(a, "passthrough") == 0) {
        if (b) {
            return "ApiCorsPreflight passthrough takes no status: the "
                   "backend answers";
        }
        c->passthrough = 1;
        return NULL;
    }
    if (ap_cstr_casecmp(a, "answer") != 0) {
        return apr_psprintf(cmd->pool, "ApiCorsPreflight: '%s' is neither "
                            "answer nor passthrough", a);
    }
    c->passthrough = 0;
    if (b) {
        char *end;
        long s = strtol(b, &end, 10);
        if (*end || end == b || s < 100 || s > 999) {
            return apr_psprintf(cmd->pool, "ApiCorsPreflight answer %s: the "
                                "status must be a 2xx code, like 204 or 200",
                                b);
        }
        c->preflight_status = (int)s;
    }
    return cors_end(cmd, c);
}

/* ---- header shaping ---- */

const char *apigw_policy_set_request_header(cmd_parms *cmd, void *dconf,
                                            const char *a, const char *b,
                                            const char *c)
{
    const char *err = policy_context(cmd);

    return err ? err
               : apigw_header_rule_parse(cmd, &pol_of(dconf)->request_headers,
                                         "requestHeaders", a, b, c);
}

const char *apigw_policy_set_response_header(cmd_parms *cmd, void *dconf,
                                             const char *a, const char *b,
                                             const char *c)
{
    const char *err = policy_context(cmd);

    return err ? err
               : apigw_header_rule_parse(cmd, &pol_of(dconf)->response_headers,
                                         "responseHeaders", a, b, c);
}

const char *apigw_policy_set_security_headers(cmd_parms *cmd, void *dconf,
                                              int flag)
{
    const char *err = policy_context(cmd);

    if (!err) {
        pol_of(dconf)->security_headers = flag;
    }
    return err;
}

/* ---- path and query ---- */

const char *apigw_policy_set_path_rewrite(cmd_parms *cmd, void *dconf,
                                          const char *a, const char *b,
                                          const char *c)
{
    const char *err = endpoint_context(cmd);
    apigw_policy_conf *pol;
    apigw_rewrite_rule *rule;

    if (err) {
        return err;
    }
    if ((err = apigw_rewrite_compile(cmd->pool, a, b, c, &rule)) != NULL) {
        return apr_psprintf(cmd->pool, "ApiPathRewrite %s: %s", a, err);
    }
    pol = pol_of(dconf);
    if (!pol->rewrites) {
        pol->rewrites = apr_array_make(cmd->pool, 2,
                                       sizeof(apigw_rewrite_rule *));
    }
    APR_ARRAY_PUSH(pol->rewrites, apigw_rewrite_rule *) = rule;
    return NULL;
}

const char *apigw_policy_set_deny_query(cmd_parms *cmd, void *dconf,
                                        const char *w)
{
    const char *err = endpoint_context(cmd);
    apigw_policy_conf *c;

    if (err) {
        return err;
    }
    c = pol_of(dconf);
    if (!c->query_deny) {
        c->query_deny_file = cmd->directive->filename;
        c->query_deny_line = (unsigned)cmd->directive->line_num;
    }
    push_name(cmd->pool, &c->query_deny, w);
    return invalid_msg(cmd, apigw_query_deny_validate(cmd->pool,
                                                      c->query_deny));
}

/* ---- body limits ---- */

static const char *body_limit(cmd_parms *cmd, const char *arg,
                              const char *field, apr_off_t *out)
{
    const char *err = policy_context(cmd);

    if (err) {
        return err;
    }
    if ((err = apigw_parse_size(arg, out)) != NULL) {
        return apr_psprintf(cmd->pool, "%s %s: %s", cmd->cmd->name, arg, err);
    }
    return invalid_msg(cmd, apigw_body_limit_validate(cmd->pool, field,
                                                      *out < 0 ? 0 : *out));
}

const char *apigw_policy_set_request_body_limit(cmd_parms *cmd, void *dconf,
                                                const char *a)
{
    return body_limit(cmd, a, "requestBodyLimit",
                      &pol_of(dconf)->request_body_limit);
}

const char *apigw_policy_set_response_body_limit(cmd_parms *cmd, void *dconf,
                                                 const char *a)
{
    return body_limit(cmd, a, "responseBodyLimit",
                      &pol_of(dconf)->response_body_limit);
}

/* ---- bot detection ---- */

static apigw_bot_policy *bots_of(cmd_parms *cmd, void *dconf)
{
    apigw_bot_policy *b = &pol_of(dconf)->bots;

    if (!b->file) {
        b->file = cmd->directive->filename;
        b->line = (unsigned)cmd->directive->line_num;
    }
    return b;
}

static const char *bot_add(cmd_parms *cmd, void *dconf, apigw_bot_list list,
                           const char *w)
{
    const char *err = policy_context(cmd);
    apigw_bot_policy *b;

    if (err) {
        return err;
    }
    b = bots_of(cmd, dconf);
    if ((err = apigw_bot_add(cmd->pool, b, list, w)) != NULL) {
        return apr_psprintf(cmd->pool, "%s: %s", cmd->cmd->name, err);
    }
    return invalid_msg(cmd, apigw_bots_validate(cmd->pool, b));
}

const char *apigw_policy_set_bot_allow(cmd_parms *cmd, void *dconf,
                                       const char *w)
{
    return bot_add(cmd, dconf, APIGW_BOT_LIST_ALLOW, w);
}

const char *apigw_policy_set_bot_deny(cmd_parms *cmd, void *dconf,
                                      const char *w)
{
    return bot_add(cmd, dconf, APIGW_BOT_LIST_DENY, w);
}

const char *apigw_policy_set_bot_patterns(cmd_parms *cmd, void *dconf,
                                          const char *w)
{
    return bot_add(cmd, dconf, APIGW_BOT_LIST_PATTERN, w);
}

const char *apigw_policy_set_bot_empty_ua(cmd_parms *cmd, void *dconf,
                                          const char *a)
{
    const char *err = policy_context(cmd);
    apigw_bot_policy *b;

    if (err) {
        return err;
    }
    b = bots_of(cmd, dconf);
    if (ap_cstr_casecmp(a, "allow") == 0) {
        b->empty_ua = 0;
    }
    else if (ap_cstr_casecmp(a, "deny") == 0) {
        b->empty_ua = 1;
    }
    else {
        return apr_psprintf(cmd->pool, "ApiBotEmptyUserAgent: '%s' is "
                            "neither allow nor deny", a);
    }
    return NULL;
}

/* ---- the response cache ---- */

static const char *cache_flag(cmd_parms *cmd, const char *opt, int *flags)
{
    if (ap_cstr_casecmp(opt, "authorization") == 0) {
        *flags |= APIGW_CACHE_AUTHORIZATION;
    }
    else if (ap_cstr_casecmp(opt, "set-cookie") == 0) {
        *flags |= APIGW_CACHE_SET_COOKIE;
    }
    else if (ap_cstr_casecmp(opt, "private") == 0) {
        *flags |= APIGW_CACHE_PRIVATE;
    }
    else {
        return apr_psprintf(cmd->pool, "ApiCache: unknown option '%s' "
                            "(authorization, set-cookie, private)", opt);
    }
    return NULL;
}

const char *apigw_policy_set_cache(cmd_parms *cmd, void *dconf, int argc,
                                   char *const argv[])
{
    apigw_policy_conf *pol;
    const char *err = policy_context(cmd);
    int i, flags = 0;

    if (err) {
        return err;
    }
    if (argc < 1) {
        return "ApiCache needs On or Off";
    }
    pol = pol_of(dconf);
    if (ap_cstr_casecmp(argv[0], "on") == 0) {
        pol->cache.enabled = 1;
    }
    else if (ap_cstr_casecmp(argv[0], "off") == 0) {
        if (argc > 1) {
            return "ApiCache Off takes no options";
        }
        pol->cache.enabled = 0;
    }
    else {
        return apr_psprintf(cmd->pool, "ApiCache: '%s' is neither On nor Off",
                            argv[0]);
    }
    for (i = 1; i < argc; i++) {
        if ((err = cache_flag(cmd, argv[i], &flags)) != NULL) {
            return err;
        }
    }
    pol->cache.flags = flags;
    pol->cache.file = cmd->directive->filename;
    pol->cache.line = (unsigned)cmd->directive->line_num;
    return NULL;
}

const char *apigw_policy_set_cache_store(cmd_parms *cmd, void *dconf,
                                         const char *a)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);

    (void)dconf;
    return err ? err : apigw_cache_set_store(cmd, a);
}

const char *apigw_policy_set_cache_max_entry(cmd_parms *cmd, void *dconf,
                                             const char *a)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);

    (void)dconf;
    return err ? err : apigw_cache_set_max_entry(cmd, a);
}
