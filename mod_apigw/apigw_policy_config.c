/* Edge policies: configuration and the request phases that apply them.
 *
 * This file owns the Api* directives of the policies, the create/merge of
 * struct apigw_policy_conf, the effective policy of each endpoint (its
 * settings over those of the server or virtual host it is declared in,
 * built at check_config) and the hooks:
 *
 *   translate_name  a CORS preflight is answered here, before access
 *                   control (browsers send preflights without credentials)
 *   header_parser   CORS and security headers into err_headers_out, so
 *                   every answer carries them, errors included
 *   fixups          request header rules (after the allow-list), then the
 *                   cache lookup (after access control and rate limits)
 *   insert_filter   the response filter: body limit, cache capture,
 *   insert_error_filter   response header rules
 *   handler         cache hits
 *
 * Each policy's own work is in apigw_policy_{cors,headers,rewrite,limits,
 * cache}.c. */
#include "apigw_policy_conf.h"
#include "apigw_config.h"
#include "apigw_request.h"
#include "apigw_query.h"
#include "apigw_parse.h"
#include "apigw_json_error.h"
#include "apigw_log.h"

#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "util_filter.h"
#include "apr_strings.h"

APLOG_USE_MODULE(apigw);

#define POLICY_FILTER "APIGW_POLICY_OUT"
#define REQ_KEY "apigw-policy-req"

static ap_filter_rec_t *policy_filter_handle;

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
    return c;
}

/* ---- directive helpers ---- */

/* Policies apply to endpoints: set in the server config, a virtual host
 * (for all its endpoints) or an <ApiEndpoint>, never in <Location>. */
static const char *policy_context(cmd_parms *cmd, int endpoint_only)
{
    if (endpoint_only ? !apigw_cmd_in_endpoint(cmd) : (cmd->path && !apigw_cmd_in_endpoint(cmd))) {
        return apr_pstrcat(cmd->pool, cmd->cmd->name, endpoint_only
                           ? " is only allowed inside <ApiEndpoint>"
                           : " belongs in the server config, a <VirtualHost> "
                             "or an <ApiEndpoint>", NULL);
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
static apigw_cors_policy *cors_of(cmd_parms *cmd, void *dconf)
{
    apigw_cors_policy *c = &pol_of(dconf)->cors;

    if (!c->file) {
        c->file = cmd->directive->filename;
        c->line = (unsigned)cmd->directive->line_num;
    }
    return c;
}

static const char *star_with_credentials(cmd_parms *cmd)
{
    return apr_psprintf(cmd->pool, "%s: ApiCorsAllowOrigins * cannot be "
                        "combined with ApiCorsAllowCredentials On (browsers "
                        "refuse it); list the origins instead",
                        cmd->cmd->name);
}

/* ---- directive handlers ---- */

const char *apigw_policy_cmd_flag(cmd_parms *cmd, void *dconf, int flag)
{
    const char *what = cmd->info, *err;
    apigw_cors_policy *cors;

    if ((err = policy_context(cmd, 0)) != NULL) {
        return err;
    }
    if (strcmp(what, "security") == 0) {
        pol_of(dconf)->security_headers = flag;
        return NULL;
    }
    cors = cors_of(cmd, dconf);
    if (strcmp(what, "cors") == 0) {
        cors->enabled = flag;
        return NULL;
    }
    if (cors->enabled == -1) {
        cors->enabled = 1;
    }
    if (strcmp(what, "credentials") == 0) {
        if (flag && cors->any_origin) {
            return star_with_credentials(cmd);
        }
        cors->credentials = flag;
    }
    else if (strcmp(what, "pna") == 0) {
        cors->private_network = flag;
    }
    return NULL;
}

static const char *known_method(const char *m)
{
    static const char *const methods[] = {
        "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", NULL
    };
    int i;

    for (i = 0; methods[i]; i++) {
        if (strcmp(m, methods[i]) == 0) {
            return methods[i];
        }
    }
    return NULL;
}

static apr_array_header_t *push_name(apr_pool_t *p, apr_array_header_t **a,
                                     const char *name)
{
    if (!*a) {
        *a = apr_array_make(p, 4, sizeof(const char *));
    }
    APR_ARRAY_PUSH(*a, const char *) = name;
    return *a;
}

static const char *cors_list(cmd_parms *cmd, void *dconf, const char *what,
                             const char *w)
{
    apigw_cors_policy *c = cors_of(cmd, dconf);
    const char *err;

    if (c->enabled == -1) {
        c->enabled = 1;
    }
    if (strcmp(what, "origins") == 0) {
        if (strcmp(w, "*") == 0) {
            if (c->credentials == 1) {
                return star_with_credentials(cmd);
            }
            c->any_origin = 1;
            push_name(cmd->pool, &c->origins, "*");
            return NULL;
        }
        if ((err = apigw_cors_origin_check(cmd->pool, w)) != NULL) {
            return apr_psprintf(cmd->pool, "ApiCorsAllowOrigins %s: %s", w,
                                err);
        }
        push_name(cmd->pool, &c->origins, apr_pstrdup(cmd->pool, w));
        ap_str_tolower(APR_ARRAY_IDX(c->origins, c->origins->nelts - 1,
                                     char *));
        return NULL;
    }
    if (strcmp(what, "methods") == 0) {
        const char *m = known_method(w);
        if (!m) {
            return apr_psprintf(cmd->pool, "ApiCorsAllowMethods: unknown "
                                "method '%s' (GET, HEAD, POST, PUT, PATCH, "
                                "DELETE, OPTIONS; upper case)", w);
        }
        push_name(cmd->pool, &c->methods, m);
        return NULL;
    }
    if (strcmp(what, "headers") == 0 && strcmp(w, "*") == 0) {
        c->any_header = 1;
        push_name(cmd->pool, &c->headers, "*");
        return NULL;
    }
    if (!apigw_is_token(w)) {
        return apr_psprintf(cmd->pool, "%s: '%s' is not a valid header name",
                            cmd->cmd->name, w);
    }
    push_name(cmd->pool, strcmp(what, "headers") == 0 ? &c->headers
                                                      : &c->expose, w);
    return NULL;
}

const char *apigw_policy_cmd_list(cmd_parms *cmd, void *dconf, const char *w)
{
    const char *what = cmd->info, *err;

    if (strcmp(what, "qdeny") == 0) {
        apigw_policy_conf *c;
        if ((err = policy_context(cmd, 1)) != NULL) {
            return err;
        }
        if (!*w || strpbrk(w, "&= \t")) {
            return apr_psprintf(cmd->pool, "ApiDenyQueryStrings: '%s' is not "
                                "a valid query string name", w);
        }
        c = pol_of(dconf);
        if (!c->query_deny) {
            c->query_deny_file = cmd->directive->filename;
            c->query_deny_line = (unsigned)cmd->directive->line_num;
        }
        push_name(cmd->pool, &c->query_deny, w);
        return NULL;
    }
    if ((err = policy_context(cmd, 0)) != NULL) {
        return err;
    }
    return cors_list(cmd, dconf, what, w);
}

static const char *parse_limit(cmd_parms *cmd, const char *arg, apr_off_t *out)
{
    const char *err = apigw_parse_size(arg, out);

    if (err) {
        return apr_psprintf(cmd->pool, "%s %s: %s", cmd->cmd->name, arg, err);
    }
    if (*out <= 0) {
        return apr_psprintf(cmd->pool, "%s must be greater than zero",
                            cmd->cmd->name);
    }
    return NULL;
}

const char *apigw_policy_cmd_take1(cmd_parms *cmd, void *dconf, const char *a)
{
    const char *what = cmd->info, *err;

    if (strcmp(what, "store") == 0 || strcmp(what, "maxentry") == 0) {
        if ((err = ap_check_cmd_context(cmd, GLOBAL_ONLY)) != NULL) {
            return err;
        }
        return what[0] == 's' ? apigw_cache_set_store(cmd, a)
                              : apigw_cache_set_max_entry(cmd, a);
    }
    if ((err = policy_context(cmd, 0)) != NULL) {
        return err;
    }
    if (strcmp(what, "maxage") == 0) {
        apigw_cors_policy *c = cors_of(cmd, dconf);
        apr_interval_time_t t;
        if ((err = apigw_parse_duration(a, &t)) != NULL) {
            return apr_psprintf(cmd->pool, "ApiCorsMaxAge %s: %s", a, err);
        }
        if (t < 0) {
            return "ApiCorsMaxAge cannot be negative";
        }
        if (c->enabled == -1) {
            c->enabled = 1;
        }
        c->max_age = apr_time_sec(t);
        return NULL;
    }
    if (strcmp(what, "reqlimit") == 0) {
        return parse_limit(cmd, a, &pol_of(dconf)->request_body_limit);
    }
    return parse_limit(cmd, a, &pol_of(dconf)->response_body_limit);
}

const char *apigw_policy_cmd_take12(cmd_parms *cmd, void *dconf,
                                    const char *a, const char *b)
{
    apigw_cors_policy *c;
    const char *err;

    if ((err = policy_context(cmd, 0)) != NULL) {
        return err;
    }
    c = cors_of(cmd, dconf);
    if (c->enabled == -1) {
        c->enabled = 1;
    }
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
        if (*end || s < 200 || s > 299) {
            return apr_psprintf(cmd->pool, "ApiCorsPreflight answer %s: the "
                                "status must be a 2xx code, like 204 or 200",
                                b);
        }
        c->preflight_status = (int)s;
    }
    return NULL;
}

const char *apigw_policy_cmd_take23(cmd_parms *cmd, void *dconf,
                                    const char *a, const char *b,
                                    const char *c)
{
    const char *what = cmd->info, *err;
    apigw_policy_conf *pol;

    if ((err = policy_context(cmd, strcmp(what, "rewrite") == 0)) != NULL) {
        return err;
    }
    pol = pol_of(dconf);
    if (strcmp(what, "rewrite") == 0) {
        apigw_rewrite_rule *rule;
        if ((err = apigw_rewrite_compile(cmd->pool, a, b, c, &rule)) != NULL) {
            return apr_psprintf(cmd->pool, "ApiPathRewrite %s: %s", a, err);
        }
        if (!pol->rewrites) {
            pol->rewrites = apr_array_make(cmd->pool, 2,
                                           sizeof(apigw_rewrite_rule *));
        }
        APR_ARRAY_PUSH(pol->rewrites, apigw_rewrite_rule *) = rule;
        return NULL;
    }
    return apigw_header_rule_parse(cmd, strcmp(what, "reqhdr") == 0
                                   ? &pol->request_headers
                                   : &pol->response_headers, a, b, c);
}

const char *apigw_policy_cmd_argv(cmd_parms *cmd, void *dconf, int argc,
                                  char *const argv[])
{
    apigw_policy_conf *pol;
    const char *err;
    int i, flags = 0;

    if ((err = policy_context(cmd, 0)) != NULL) {
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
        if (ap_cstr_casecmp(argv[i], "authorization") == 0) {
            flags |= APIGW_CACHE_AUTHORIZATION;
        }
        else if (ap_cstr_casecmp(argv[i], "set-cookie") == 0) {
            flags |= APIGW_CACHE_SET_COOKIE;
        }
        else if (ap_cstr_casecmp(argv[i], "private") == 0) {
            flags |= APIGW_CACHE_PRIVATE;
        }
        else {
            return apr_psprintf(cmd->pool, "ApiCache: unknown option '%s' "
                                "(authorization, set-cookie, private)",
                                argv[i]);
        }
    }
    pol->cache.flags = flags;
    pol->cache.file = cmd->directive->filename;
    pol->cache.line = (unsigned)cmd->directive->line_num;
    return NULL;
}

/* ---- effective policies, at check_config ---- */

static int endpoint_check(apr_pool_t *p, server_rec *s, apigw_endpoint *ep,
                          apigw_policy_conf *eff, const apigw_server_conf *sc)
{
    const char *err;

    if (eff->cors.enabled == 1 && eff->cors.credentials == 1
        && (eff->cors.any_origin || !eff->cors.origins)) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, APIGW_LOGNO(00601)
                     "<ApiEndpoint \"%s\"> (%s:%u): ApiCorsAllowCredentials "
                     "On needs an ApiCorsAllowOrigins list (CORS settings from "
                     "%s:%u); every origin (*, or no list) with credentials "
                     "would let any site act as the user",
                     ep->pattern, ep->file, ep->line, eff->cors.file,
                     eff->cors.line);
        return !OK;
    }
    if (eff->query_deny && ep->conf->input_query.set) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, APIGW_LOGNO(00602)
                     "<ApiEndpoint \"%s\"> (%s:%u): ApiDenyQueryStrings "
                     "(%s:%u) and ApiInputQueryStrings cannot both be used; "
                     "an endpoint forwards all, an allow-list or all but a "
                     "deny-list", ep->pattern, ep->file, ep->line,
                     eff->query_deny_file, eff->query_deny_line);
        return !OK;
    }
    eff->cache_ttl = ep->conf->cache_ttl_set ? ep->conf->cache_ttl : 0;
    if (eff->cache.enabled == 1 && eff->cache_ttl <= 0
        && !(ep->conf->policy && ep->conf->policy->cache.enabled == 1)) {
        /* ApiCache On from the server: endpoints with a TTL cache */
        eff->cache.enabled = 0;
    }
    if (eff->cache.enabled == 1 && eff->cache_ttl <= 0) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, APIGW_LOGNO(00603)
                     "<ApiEndpoint \"%s\"> (%s:%u): ApiCache On (%s:%u) needs "
                     "an ApiCacheTTL in the endpoint: it says how long "
                     "responses are kept", ep->pattern, ep->file, ep->line,
                     eff->cache.file, eff->cache.line);
        return !OK;
    }
    eff->timeout = ep->conf->timeout_set ? ep->conf->timeout
                                         : apigw_server_timeout(sc);
    if (eff->cors.enabled == 1
        && (err = apigw_cors_compile(p, &eff->cors, ep)) != NULL) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, APIGW_LOGNO(00604)
                     "<ApiEndpoint \"%s\"> (%s:%u): %s", ep->pattern, ep->file,
                     ep->line, err);
        return !OK;
    }
    eff->response_work = eff->cors.enabled == 1 || eff->security_headers == 1
        || eff->response_headers || eff->response_body_limit > 0
        || eff->cache.enabled == 1;
    return OK;
}

/* Builds every endpoint's effective policy; returns whether any endpoint
 * caches through *cache_used. */
static int build_effective(apr_pool_t *p, server_rec *main_s, int *cache_used)
{
    server_rec *s;

    *cache_used = 0;
    for (s = main_s; s; s = s->next) {
        apigw_server_conf *sc = ap_get_module_config(s->module_config,
                                                     &apigw_module);
        apigw_dir_conf *sdc = ap_get_module_config(s->lookup_defaults,
                                                   &apigw_module);
        const apigw_policy_conf *server_pol = sdc ? sdc->policy : NULL;
        int i;

        for (i = 0; i < sc->endpoints->nelts; i++) {
            apigw_endpoint *ep = APR_ARRAY_IDX(sc->endpoints, i,
                                               apigw_endpoint *);
            apigw_policy_conf *own = ep->conf->policy, *eff;

            /* a private copy: compiled fields are per endpoint */
            eff = apr_pmemdup(p, server_pol ? apigw_policy_merge(p, server_pol,
                                                                 own)
                                            : own, sizeof(*eff));
            eff->effective = NULL;
            if (endpoint_check(p, s, ep, eff, sc) != OK) {
                return !OK;
            }
            own->effective = eff->any || eff->response_work ? eff : NULL;
            if (eff->cache.enabled == 1) {
                *cache_used = 1;
            }
        }
    }
    return OK;
}

static int cache_used_flag;

static int policy_pre_config(apr_pool_t *pconf, apr_pool_t *plog,
                             apr_pool_t *ptemp)
{
    (void)plog;
    (void)ptemp;
    apigw_cache_pre_config(pconf);
    return OK;
}

static int policy_check_config(apr_pool_t *pconf, apr_pool_t *plog,
                               apr_pool_t *ptemp, server_rec *s)
{
    (void)plog;
    (void)ptemp;
    if (build_effective(pconf, s, &cache_used_flag) != OK) {
        return !OK;
    }
    return apigw_cache_check_config(pconf, s, cache_used_flag);
}

static int policy_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                              apr_pool_t *ptemp, server_rec *s)
{
    (void)plog;
    return apigw_cache_post_config(pconf, ptemp, s, cache_used_flag);
}

static void policy_child_init(apr_pool_t *pchild, server_rec *s)
{
    apigw_cache_child_init(pchild, s);
}

/* ---- per request ---- */

static const apigw_policy_conf *endpoint_policy(const apigw_endpoint *ep)
{
    return ep && ep->conf->policy ? ep->conf->policy->effective : NULL;
}

apigw_policy_req *apigw_policy_req_get(const request_rec *r)
{
    void *pr = NULL;
    apr_pool_userdata_get(&pr, REQ_KEY, r->pool);
    return pr;
}

/* The path of url (after its origin_len bytes of scheme://host:port, up
 * to any '?') through the endpoint's rewrites; *query gets what follows
 * the '?' (NULL when none). */
static const char *rewritten_path(request_rec *r,
                                  const struct apigw_endpoint *ep,
                                  const apigw_policy_conf *pol,
                                  const char *url, apr_size_t origin_len,
                                  const char **query)
{
    const char *q = strchr(url + origin_len, '?'), *path, *in, *err = NULL;

    path = q ? apr_pstrmemdup(r->pool, url + origin_len,
                              (apr_size_t)(q - url - origin_len))
             : url + origin_len;
    *query = q ? q + 1 : NULL;
    if (!pol->rewrites) {
        return path;
    }
    in = *path ? path : "/";
    path = apigw_rewrite_path(r->pool, pol->rewrites, in, &err);
    if (!path) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, APIGW_LOGNO(00605)
                      "endpoint %s: ApiPathRewrite failed (%s); the path "
                      "is forwarded unchanged", ep->pattern, err);
        path = in;
    }
    return path;
}

/* url's origin (its first origin_len bytes), path and query. */
static const char *join_url(request_rec *r, const char *url,
                            apr_size_t origin_len, const char *path,
                            const char *query)
{
    return apr_pstrcat(r->pool, apr_pstrmemdup(r->pool, url, origin_len),
                       path, query ? "?" : "", query ? query : "", NULL);
}

const char *apigw_policy_backend_url(request_rec *r,
                                     const struct apigw_endpoint *ep,
                                     const char *url)
{
    const apigw_policy_conf *pol = endpoint_policy(ep);
    const char *origin, *path, *query;
    apr_size_t origin_len;

    if (!pol || (!pol->rewrites && !pol->query_deny)) {
        return url;
    }
    origin = apigw_template_origin(APR_ARRAY_IDX(ep->conf->backends, 0,
                                                 apigw_backend *)->tpl);
    origin_len = strlen(origin);
    if (strncmp(url, origin, origin_len) != 0) {
        return url;                     /* not ours to touch */
    }
    path = rewritten_path(r, ep, pol, url, origin_len, &query);
    if (pol->query_deny) {
        const char *kept = apigw_query_filter_deny(r->pool, r->args,
                                                   pol->query_deny);
        if (kept) {
            query = query && *query
                    ? apr_pstrcat(r->pool, query,
                                  query[strlen(query) - 1] == '&' ? "" : "&",
                                  kept, NULL)
                    : kept;
        }
    }
    return join_url(r, url, origin_len, path, query);
}

const char *apigw_policy_rewrite_url(request_rec *r,
                                     const struct apigw_endpoint *ep,
                                     const char *url)
{
    const apigw_policy_conf *pol = endpoint_policy(ep);
    const char *sep, *path, *query;
    apr_size_t origin_len;

    if (!pol || !pol->rewrites || !(sep = strstr(url, "://"))) {
        return url;
    }
    origin_len = strcspn(sep + 3, "/?") + (apr_size_t)(sep + 3 - url);
    path = rewritten_path(r, ep, pol, url, origin_len, &query);
    return join_url(r, url, origin_len, path, query);
}

apr_off_t apigw_policy_body_limit(request_rec *r, apr_off_t httpd_limit)
{
    const apigw_request *rq = apigw_request_get(r);
    const apigw_policy_conf *pol = rq ? endpoint_policy(rq->endpoint) : NULL;

    return pol ? apigw_limits_request_body(pol, httpd_limit) : httpd_limit;
}

/* A preflight is OPTIONS with Origin and Access-Control-Request-Method. */
static int policy_translate(request_rec *r)
{
    const apigw_server_conf *sc;
    const char *acrm;
    apigw_route_match m;

    if (r->method_number != M_OPTIONS || r->main || r->prev
        || !r->uri || r->uri[0] != '/'
        || !(acrm = apr_table_get(r->headers_in,
                                  "Access-Control-Request-Method"))
        || !apr_table_get(r->headers_in, "Origin")) {
        return DECLINED;
    }
    sc = ap_get_module_config(r->server->module_config, &apigw_module);
    if (apigw_route_match_path(sc->routes, r->uri, acrm, r->pool, &m)
        != APIGW_ROUTE_FOUND) {
        return DECLINED;
    }
    return apigw_cors_preflight(r, endpoint_policy(m.data), m.data);
}

/* The policy state of an endpoint request, or NULL. Only the cache keeps
 * state between phases (pool userdata, created at fixups); without it
 * each phase reads the effective policy from the endpoint directly. */
static apigw_policy_req *policy_req(request_rec *r, int create)
{
    apigw_request *rq = apigw_request_get(r);
    const apigw_policy_conf *pol;
    apigw_policy_req *pr;

    if (!rq || !rq->endpoint || !(pol = endpoint_policy(rq->endpoint))) {
        return NULL;
    }
    if (pol->cache.enabled == 1 && (pr = apigw_policy_req_get(r)) != NULL) {
        return pr;
    }
    if (!create) {
        return NULL;
    }
    pr = apr_pcalloc(r->pool, sizeof(*pr));
    pr->pol = pol;
    pr->ep = rq->endpoint;
    if (pol->cache.enabled == 1) {
        apr_pool_userdata_setn(pr, REQ_KEY, NULL, r->pool);
    }
    return pr;
}

static int policy_header_parser(request_rec *r)
{
    apigw_request *rq = apigw_request_get(r);
    const apigw_policy_conf *pol;

    if (!rq || !rq->endpoint || !(pol = endpoint_policy(rq->endpoint))
        || r->prev || r->main) {
        return DECLINED;
    }
    if (rq->endpoint->aggregate && pol->query_deny) {
        /* an aggregating endpoint builds its backend URLs in its handler,
         * from rq->query */
        rq->query = apigw_query_filter_deny(r->pool, r->args, pol->query_deny);
    }
    if (pol->cors.enabled == 1) {
        apigw_cors_passthrough_preflight(r, &pol->cors);
    }
    return DECLINED;
}

static int policy_fixups(request_rec *r)
{
    apigw_request *rq = apigw_request_get(r);
    const apigw_policy_conf *pol;

    if (!rq || !rq->endpoint || !(pol = endpoint_policy(rq->endpoint))
        || r->main) {
        return DECLINED;
    }
    if (rq->endpoint->aggregate && pol->request_body_limit > 0) {
        int status = apigw_limits_aggregate_request(r, pol);
        if (status != OK) {
            return status;
        }
    }
    if (pol->request_headers) {
        /* The client's own table stays for the logs: with no allow-list
         * the gateway has not copied it yet, so copy it now (apigw_request.c
         * puts rq->client_headers back once the backend has answered). */
        if (!rq->client_headers) {
            rq->client_headers = r->headers_in;
            r->headers_in = apr_table_copy(r->pool, r->headers_in);
        }
        apigw_headers_apply(r, pol->request_headers, r->headers_in, NULL);
    }
    if (pol->cache.enabled == 1 && r->handler
        && strcmp(r->handler, APIGW_HANDLER) == 0) {
        apigw_cache_lookup(r, policy_req(r, 1));
    }
    return DECLINED;
}

/* ---- the response filter ---- */

typedef struct {
    apigw_policy_req *pr;          /* the request's policy state */
    int started;
    int error_path;                /* added by insert_error_filter */
    int dead;                      /* answered 502 ourselves: drop the rest */
    apr_off_t seen;
    void *cache_state;
} policy_filter_ctx;

static apr_status_t answer_too_large(ap_filter_t *f, apr_bucket_brigade *bb,
                                     apr_off_t limit)
{
    request_rec *r = f->r;
    const char *body = apigw_json_error_body(r, HTTP_BAD_GATEWAY,
        apr_psprintf(r->pool, "the backend's response is larger than %"
                     APR_OFF_T_FMT " bytes", limit));
    apr_size_t len = strlen(body);

    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, APIGW_LOGNO(00606)
                  "endpoint response declared over ApiResponseBodyLimit (%"
                  APR_OFF_T_FMT " bytes); answered 502", limit);
    apr_brigade_cleanup(bb);
    r->status = HTTP_BAD_GATEWAY;
    r->status_line = NULL;
    apr_table_clear(r->headers_out);
    ap_set_content_type(r, "application/json");
    ap_set_content_length(r, (apr_off_t)len);
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    r->connection->keepalive = AP_CONN_CLOSE;
    if (!r->header_only) {
        APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_immortal_create(body, len,
                                f->c->bucket_alloc));
    }
    APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_eos_create(f->c->bucket_alloc));
    ap_pass_brigade(f->next, bb);
    apr_brigade_cleanup(bb);
    /* the handler stops sending (mod_proxy closes the backend connection) */
    return AP_FILTER_ERROR;
}

/* An undeclared body crossed the limit after the head went out: the
 * client must not take what it got for the whole body. */
static apr_status_t abort_too_large(ap_filter_t *f, apr_bucket_brigade *bb,
                                    apr_off_t limit)
{
    request_rec *r = f->r;

    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, APIGW_LOGNO(00607)
                  "endpoint response body crossed ApiResponseBodyLimit (%"
                  APR_OFF_T_FMT " bytes) while streaming; connection aborted",
                  limit);
    apr_brigade_cleanup(bb);
    r->connection->keepalive = AP_CONN_CLOSE;
    APR_BRIGADE_INSERT_TAIL(bb, ap_bucket_error_create(HTTP_BAD_GATEWAY, NULL,
                            r->pool, f->c->bucket_alloc));
    APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_eos_create(f->c->bucket_alloc));
    ap_pass_brigade(f->next, bb);
    apr_brigade_cleanup(bb);
    return AP_FILTER_ERROR;
}

static apr_status_t policy_out_filter(ap_filter_t *f, apr_bucket_brigade *bb)
{
    request_rec *r = f->r;
    policy_filter_ctx *ctx = f->ctx;
    apigw_policy_req *pr = ctx->pr;
    const apigw_policy_conf *pol = pr->pol;
    apr_off_t limit;

    limit = pol->response_body_limit;
    if (ctx->dead) {
        apr_brigade_cleanup(bb);
        return AP_FILTER_ERROR;
    }
    if (!ctx->started && limit > 0 && !ctx->error_path && !pr->cache_hit) {
        const char *cl = apr_table_get(r->headers_out, "Content-Length");
        apr_off_t n;
        char *end;
        if (cl && apr_strtoff(&n, cl, &end, 10) == APR_SUCCESS && !*end
            && n > limit) {
            ctx->dead = 1;
            return answer_too_large(f, bb, limit);
        }
    }
    if (limit > 0 && !ctx->error_path && !pr->cache_hit) {
        apr_off_t len = 0;
        apr_brigade_length(bb, 1, &len);
        ctx->seen += len;
        if (ctx->seen > limit) {
            ctx->dead = 1;
            return abort_too_large(f, bb, limit);
        }
    }
    /* the cache keeps the response as the backend sent it (before the
     * header rules, which run again on every hit) */
    if (pol->cache.enabled == 1 && !ctx->error_path && !pr->cache_hit) {
        apr_status_t rv = apigw_cache_capture(f, pr, bb, &ctx->cache_state);
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    if (!ctx->started) {
        /* the gateway's own CORS and security headers win over the
         * backend's; they go into the response's own headers now (on an
         * error of httpd's, headers_out is what err_headers_out was) */
        ctx->started = 1;
        if (pol->cors.enabled == 1) {
            apigw_cors_response(r, &pol->cors, r->headers_out,
                                !ctx->error_path);
        }
        if (pol->security_headers == 1) {
            apigw_security_headers_apply(r->headers_out);
        }
        if (pol->response_headers) {
            apigw_headers_apply(r, pol->response_headers, r->headers_out,
                                r->err_headers_out);
        }
    }
    return ap_pass_brigade(f->next, bb);
}

static void add_policy_filter(request_rec *r, int error_path)
{
    apigw_policy_req *pr = r->main ? NULL : policy_req(r, 1);
    policy_filter_ctx *ctx;

    if (!pr || !pr->pol->response_work) {
        return;
    }
    ctx = apr_pcalloc(r->pool, sizeof(*ctx));
    ctx->pr = pr;
    ctx->error_path = error_path;
    ap_add_output_filter_handle(policy_filter_handle, ctx, r, r->connection);
}

static void policy_insert_filter(request_rec *r)
{
    add_policy_filter(r, 0);
}

/* httpd's own error responses start a fresh filter chain. */
static void policy_insert_error_filter(request_rec *r)
{
    add_policy_filter(r, 1);
}

void apigw_policy_register_hooks(apr_pool_t *p)
{
    static const char *const after_rewrite[] = { "mod_rewrite.c", NULL };

    (void)p;
    ap_hook_pre_config(policy_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_check_config(policy_check_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(policy_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(policy_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    /* before mod_apigw's own route match (APR_HOOK_FIRST), after rewrite */
    ap_hook_translate_name(policy_translate, after_rewrite, NULL,
                           APR_HOOK_FIRST - 1);
    ap_hook_header_parser(policy_header_parser, NULL, NULL, APR_HOOK_MIDDLE);
    /* after the allow-list (mod_apigw, MIDDLE) and the rate limiter */
    ap_hook_fixups(policy_fixups, NULL, NULL, APR_HOOK_LAST);
    ap_hook_insert_filter(policy_insert_filter, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_insert_error_filter(policy_insert_error_filter, NULL, NULL,
                                APR_HOOK_MIDDLE);
    /* before mod_proxy's, which takes any request with a proxy: filename */
    ap_hook_handler(apigw_cache_handler, NULL, NULL, APR_HOOK_REALLY_FIRST);
    apigw_limits_register();
    policy_filter_handle = ap_register_output_filter(POLICY_FILTER,
                                                     policy_out_filter, NULL,
                                                     AP_FTYPE_RESOURCE);
}
