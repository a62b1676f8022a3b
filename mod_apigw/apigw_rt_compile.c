/* A runtime route as an endpoint (see apigw_rt_compile.h): the route
 * model's plain structs mapped onto apigw_dir_conf and the edge policies'
 * config as the directives would have set them, then the effective
 * policy built as check_config builds it for an <ApiEndpoint>. */
#include "apigw_rt_compile.h"
#include "apigw_policy_conf.h"
#include "apigw_agg_conf.h"
#include "apigw_encode.h"

#include "http_log.h"
#include "apr_strings.h"

APLOG_USE_MODULE(apigw);

static const char *const rewrite_kinds[] = { "strip-prefix", "add-prefix",
                                             "regex" };

/* Values with '%' or '\\' are expressions, as ApiRequestHeader reads
 * them; from the admin API, restricted (no file functions). */
const char *apigw_rt_header_expr(apr_pool_t *p, const char *value,
                                 const char *file, ap_expr_info_t **out)
{
    ap_expr_info_t *info = apr_pcalloc(p, sizeof(*info));
    const char *err;

    info->filename = file;
    info->line_number = 0;
    info->flags = AP_EXPR_FLAG_STRING_RESULT | AP_EXPR_FLAG_RESTRICTED
                  | AP_EXPR_FLAG_RESTRICTED_FILE_FUNC;
    info->module_index = APLOG_MODULE_INDEX;
    err = ap_expr_parse(p, p, info, value, NULL);
    if (err) {
        return apr_psprintf(p, "cannot parse the expression: %s", err);
    }
    *out = info;
    return NULL;
}

static const char *header_exprs(apr_pool_t *p, const char *file,
                                apr_array_header_t *rules, const char *group,
                                const char **field)
{
    const char *err;
    int i;

    for (i = 0; rules && i < rules->nelts; i++) {
        apigw_header_rule *rule = &APR_ARRAY_IDX(rules, i, apigw_header_rule);

        if (rule->value && (strchr(rule->value, '%')
                            || strchr(rule->value, '\\'))
            && (err = apigw_rt_header_expr(p, rule->value, file,
                                           &rule->expr)) != NULL) {
            *field = apr_psprintf(p, "%s[%d].value", group, i);
            return err;
        }
    }
    return NULL;
}

static const char *backend_of(apr_pool_t *p, const apigw_rt_compile_ctx *cx,
                              apigw_endpoint *ep, const apigw_rt_route *rt,
                              const char **field)
{
    apigw_backend *be = apr_pcalloc(p, sizeof(*be));
    const char *err;

    *field = "targetUrl";
    be->url = rt->target_url;
    be->options = apr_table_make(p, 1);
    be->name = "0";
    be->file = ep->file;
    if ((err = apigw_template_compile(p, be->url, &be->tpl)) != NULL) {
        return err;
    }
    be->is_balancer = strcmp(apigw_template_scheme(be->tpl), "balancer") == 0;
    be->websocket = !strcmp(apigw_template_scheme(be->tpl), "ws")
                    || !strcmp(apigw_template_scheme(be->tpl), "wss");
    if (be->is_balancer) {
        proxy_server_conf *pc = ap_get_module_config(cx->s->module_config,
                                                     &proxy_module);
        if (!ap_proxy_get_balancer(p, pc, be->url, 0)) {
            return "names no <Proxy balancer://...> of this server";
        }
    }
    else if (cx->worker) {
        be->worker = cx->worker(cx->worker_ctx,
                                apigw_template_origin(be->tpl), ep->timeout);
    }
    APR_ARRAY_PUSH(ep->conf->backends, apigw_backend *) = be;
    return NULL;
}

static const char *policy_of(apr_pool_t *p, apigw_endpoint *ep,
                             const apigw_rt_route *rt, const char **field)
{
    apigw_policy_conf *pol = ep->conf->policy;
    const char *err;

    if (rt->cors.enabled == 1) {
        pol->cors = rt->cors;
        pol->cors.file = ep->file;
        pol->any = 1;
    }
    pol->request_headers = rt->request_headers;
    pol->response_headers = rt->response_headers;
    if ((err = header_exprs(p, ep->file, pol->request_headers,
                            "requestHeaders", field)) != NULL
        || (err = header_exprs(p, ep->file, pol->response_headers,
                               "responseHeaders", field)) != NULL) {
        return err;
    }
    if (rt->path_rewrite) {
        apigw_rewrite_rule *rule;

        *field = "pathRewrite";
        err = apigw_rewrite_compile(p, rewrite_kinds[rt->path_rewrite->kind],
                                    rt->path_rewrite->value,
                                    rt->path_rewrite->replacement, &rule);
        if (err) {
            return err;
        }
        pol->rewrites = apr_array_make(p, 1, sizeof(apigw_rewrite_rule *));
        APR_ARRAY_PUSH(pol->rewrites, apigw_rewrite_rule *) = rule;
    }
    if (rt->query_mode == APIGW_RT_QUERY_DENY) {
        pol->query_deny = rt->query_names;
        pol->query_deny_file = ep->file;
    }
    pol->request_body_limit = rt->request_body_limit;
    pol->response_body_limit = rt->response_body_limit;
    if (rt->cache_ttl > 0) {
        pol->cache.enabled = 1;
        pol->cache.file = ep->file;
    }
    pol->any |= pol->request_headers || pol->response_headers
                || pol->rewrites || pol->query_deny
                || pol->request_body_limit >= 0
                || pol->response_body_limit >= 0 || rt->cache_ttl > 0;
    return NULL;
}

static void query_of(apigw_dir_conf *c, const apigw_rt_route *rt)
{
    c->input_query.set = 1;
    switch (rt->query_mode) {
    case APIGW_RT_QUERY_ALL:
        c->input_query.all = 1;
        break;
    case APIGW_RT_QUERY_DENY:
        /* all but the deny-list: the policy's own (ApiDenyQueryStrings
         * without ApiInputQueryStrings) */
        c->input_query.set = 0;
        break;
    case APIGW_RT_QUERY_ALLOW:
        c->input_query.names = rt->query_names;
        break;
    case APIGW_RT_QUERY_NONE:
        break;
    }
}

static const char *handles_of(apr_pool_t *p, const apigw_rt_compile_ctx *cx,
                              apigw_endpoint *ep, const apigw_rt_route *rt,
                              const char **field)
{
    const char *err;

    const apigw_rt_error *e = NULL;

    if (rt->rate_limit && cx->rl_prepare
        && (err = cx->rl_prepare(p, rt->id, rt->rate_limit,
                                 &ep->rt_limit)) != NULL) {
        e = apigw_rt_outside_error(p, "rateLimit", err);
    }
    else if (rt->breaker && cx->cb_prepare
             && (err = cx->cb_prepare(p, rt->id, rt->breaker,
                                      &ep->rt_breaker)) != NULL) {
        e = apigw_rt_outside_error(p, "circuitBreaker", err);
    }
    if (e) {
        *field = e->field;
        return e->message;
    }
    return NULL;
}

static apigw_endpoint *endpoint_make(apr_pool_t *p,
                                     const apigw_rt_compile_ctx *cx,
                                     const apigw_rt_route *rt)
{
    apigw_endpoint *ep = apr_pcalloc(p, sizeof(*ep));
    apigw_dir_conf *c = apigw_create_dir_conf(p, NULL);

    ep->pattern = rt->path;
    ep->methods = rt->methods;
    ep->route_id = rt->id;
    ep->file = apr_pstrcat(p, "runtime route ", rt->id, NULL);
    ep->conf = c;
    /* a route is a proxy: the client's headers go through */
    c->input_headers.set = 1;
    c->input_headers.all = 1;
    query_of(c, rt);
    c->timeout_set = rt->timeout > 0;
    c->timeout = rt->timeout;
    c->cache_ttl_set = rt->cache_ttl > 0;
    c->cache_ttl = rt->cache_ttl;
    ep->timeout = c->timeout_set ? c->timeout : cx->server_timeout;
    ep->cache_control = rt->cache_ttl > 0
        ? apr_psprintf(p, "public, max-age=%" APR_TIME_T_FMT,
                       apr_time_sec(rt->cache_ttl))
        : NULL;
    ep->output = APIGW_OUT_NOOP;
    ep->status_from = -1;
    ep->completed_header = APIGW_DEFAULT_COMPLETED_HEADER;
    ep->max_backend_body = APIGW_DEFAULT_MAX_BACKEND_BODY;
    return ep;
}

const char *apigw_rt_compile(apr_pool_t *p, apr_pool_t *scratch,
                             const apigw_rt_compile_ctx *cx,
                             const apigw_route_record *rec,
                             apigw_endpoint **out, const char **field)
{
    const apigw_rt_error *e;
    apigw_rt_route *rt;
    apigw_endpoint *ep;
    const char *err;

    *out = NULL;
    *field = "";
    e = apigw_rt_route_from_record(p, scratch, rec, cx->checks, &rt);
    if (e) {
        *field = e->field;
        return e->message;
    }
    ep = endpoint_make(p, cx, rt);
    if ((err = backend_of(p, cx, ep, rt, field)) != NULL
        || (err = policy_of(p, ep, rt, field)) != NULL
        || (err = handles_of(p, cx, ep, rt, field)) != NULL
        || (err = apigw_policy_effective_runtime(p, cx->server_policy, ep,
                                                 field)) != NULL) {
        return err;
    }
    *out = ep;
    return NULL;
}
