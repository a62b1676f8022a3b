/* The apigw-openapi handler (see apigw_openapi.h): owns the OpenAPI 3.1
 * document of a host's endpoints, from the configuration (static and
 * imported <ApiEndpoint>s) and the runtime route table its environment
 * serves now (apigw_rt_serve_each), with the gateway's own error answers
 * as components. Built per request from r->pool and jansson (freed before
 * returning); no lock, no shared state written. docs/openapi.md says
 * what is described and what is approximated. */
#include "apigw_openapi.h"
#include "apigw_json.h"
#include "apigw_config.h"
#include "apigw_policy_conf.h"
#include "apigw_rt_serve.h"
#include "apigw_encode.h"
#include "apigw_json_error.h"
#include "apigw_log.h"

#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_main.h"
#include "http_protocol.h"
#include "apr_hash.h"
#include "apr_lib.h"
#include "apr_strings.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

APLOG_USE_MODULE(apigw);

#define OPENAPI_HANDLER "apigw-openapi"
#define OPENAPI_VERSION "3.1.0"

/* security schemes in use (components.securitySchemes) */
#define SCHEME_JWT    0x1
#define SCHEME_APIKEY 0x2
#define SCHEME_BASIC  0x4

/* One operation before it is placed: sorted by path, then method, static
 * before runtime; the first of a path and method wins. */
typedef struct {
    const char *path;              /* OpenAPI path template */
    const char *method;            /* lower case */
    const char *id_hint;           /* operationId before de-duplication */
    int runtime;
    json_t *op;
} oa_op;

typedef struct {
    request_rec *r;
    apr_array_header_t *ops;       /* oa_op */
    int rl_loaded;                 /* mod_apigw_ratelimit is loaded */
    const char *environment;       /* runtime routes' environment or NULL */
    const char *server_auth;       /* AuthType outside any section */
    unsigned schemes;              /* SCHEME_* used */
} oa_ctx;

/* ---- strings ---- */

/* jansson takes only valid UTF-8: common/apigw_json.c's apigw_utf8_clean */
static json_t *jstr(apr_pool_t *p, const char *s)
{
    return json_string(apigw_utf8_clean(p, s ? s : ""));
}

/* obj[key] = v, with key made valid UTF-8 (v's reference is taken) */
static void jset(apr_pool_t *p, json_t *obj, const char *key, json_t *v)
{
    json_object_set_new(obj, apigw_utf8_clean(p, key), v);
}

static json_t *ref(const char *what, const char *name)
{
    char buf[128];

    apr_snprintf(buf, sizeof(buf), "#/components/%s/%s", what, name);
    return json_pack("{s:s}", "$ref", buf);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* header names: case-insensitively, then as written (a stable order) */
static int cmp_header(const void *a, const void *b)
{
    int d = strcasecmp(*(const char *const *)a, *(const char *const *)b);
    return d ? d : cmp_str(a, b);
}

/* names (const char *) sorted, duplicates dropped (case-insensitively
 * for headers); from p */
static apr_array_header_t *sorted_names(apr_pool_t *p,
                                        const apr_array_header_t *names,
                                        int headers)
{
    apr_array_header_t *out = apr_array_copy(p, names);
    int i, j = 0;

    qsort(out->elts, (size_t)out->nelts, sizeof(char *),
          headers ? cmp_header : cmp_str);
    for (i = 0; i < out->nelts; i++) {
        const char *s = APR_ARRAY_IDX(out, i, const char *);
        const char *prev = j ? APR_ARRAY_IDX(out, j - 1, const char *) : NULL;

        if (!prev || (headers ? strcasecmp(prev, s) : strcmp(prev, s))) {
            APR_ARRAY_IDX(out, j++, const char *) = s;
        }
    }
    out->nelts = j;
    return out;
}

/* ---- paths and parameters ---- */

static int has_name(const apr_array_header_t *names, const char *name)
{
    int i;

    for (i = 0; i < names->nelts; i++) {
        if (strcmp(APR_ARRAY_IDX(names, i, const char *), name) == 0) {
            return 1;
        }
    }
    return 0;
}

/* pattern as an OpenAPI path template: {var}s kept (their names pushed on
 * vars, in path order), a trailing wildcard segment "*" written as a
 * variable of its own (*wild: its name, "rest" unless a {var} has it;
 * NULL when there is none). */
static const char *template_of(apr_pool_t *p, const char *pattern,
                               apr_array_header_t *vars, const char **wild)
{
    const char *c = pattern, *open, *close;
    apr_size_t len = strlen(pattern);
    const char *name = "rest";

    *wild = NULL;
    while ((open = strchr(c, '{')) && (close = strchr(open, '}'))) {
        APR_ARRAY_PUSH(vars, const char *) =
            apr_pstrndup(p, open + 1, (apr_size_t)(close - open - 1));
        c = close + 1;
    }
    if (len < 2 || strcmp(pattern + len - 2, "/*") != 0) {
        return pattern;
    }
    while (has_name(vars, name)) {
        name = apr_pstrcat(p, name, "_", NULL);
    }
    *wild = name;
    return apr_pstrcat(p, apr_pstrndup(p, pattern, len - 1), "{", name, "}",
                       NULL);
}

static json_t *param(apr_pool_t *p, const char *name, const char *in,
                     int required, const char *description)
{
    json_t *o = json_pack("{s:s, s:b, s:{s:s}}", "in", in, "required",
                          required, "schema", "type", "string");

    if (o) {
        jset(p, o, "name", jstr(p, name));
        if (description) {
            jset(p, o, "description", jstr(p, description));
        }
    }
    return o;
}

/* OpenAPI says these three are described by other fields (content types,
 * security schemes) and ignores them as header parameters. */
static int header_reserved(const char *name)
{
    return strcasecmp(name, "Accept") == 0
           || strcasecmp(name, "Content-Type") == 0
           || strcasecmp(name, "Authorization") == 0;
}

/* The query strings and headers ep forwards: parameters, and notes for
 * what a list cannot say. */
static void forwarded_params(apr_pool_t *p, const apigw_endpoint *ep,
                             const apigw_policy_conf *eff, json_t *params,
                             const char **notes)
{
    const apigw_allow_list *q = &ep->conf->input_query;
    const apigw_allow_list *h = &ep->conf->input_headers;
    apr_array_header_t *names;
    int i;

    if (q->set && q->all) {
        *notes = apr_pstrcat(p, *notes, "Every query string parameter is "
                             "forwarded to the backend. ", NULL);
    }
    else if (!q->set && eff && eff->query_deny) {
        *notes = apr_pstrcat(p, *notes, "Every query string parameter is "
                             "forwarded to the backend but: ",
                             apr_array_pstrcat(p, sorted_names(p,
                                               eff->query_deny, 0), ','),
                             ". ", NULL);
    }
    else if (q->names && q->names->nelts) {
        names = sorted_names(p, q->names, 0);
        for (i = 0; i < names->nelts; i++) {
            json_array_append_new(params, param(p, APR_ARRAY_IDX(names, i,
                                  const char *), "query", 0, NULL));
        }
    }
    if (h->set && h->all) {
        *notes = apr_pstrcat(p, *notes, "Every request header is forwarded "
                             "to the backend. ", NULL);
    }
    else if (h->names && h->names->nelts) {
        names = sorted_names(p, h->names, 1);
        for (i = 0; i < names->nelts; i++) {
            const char *n = APR_ARRAY_IDX(names, i, const char *);
            if (!header_reserved(n)) {
                json_array_append_new(params, param(p, n, "header", 0,
                                                    NULL));
            }
        }
    }
}

static json_t *path_params(apr_pool_t *p, const apr_array_header_t *vars,
                           const char *wild)
{
    json_t *params = json_array();
    int i;

    for (i = 0; params && i < vars->nelts; i++) {
        json_array_append_new(params, param(p, APR_ARRAY_IDX(vars, i,
                              const char *), "path", 1, NULL));
    }
    if (params && wild) {
        json_t *w = param(p, wild, "path", 1, "The rest of the path after "
                          "the last static segment (a trailing wildcard: it "
                          "may hold '/' and may be empty).");
        if (w) {
            json_object_set_new(w, "x-apigw-wildcard", json_true());
        }
        json_array_append_new(params, w);
    }
    return params;
}

/* ---- responses and security ---- */

static const char *auth_type_of(request_rec *r, const apigw_endpoint *ep)
{
    request_rec *fake = apr_pmemdup(r->pool, r, sizeof(*r));

    /* the endpoint's section over the server's defaults: what the request
     * phases merge (apigw_request_post_perdir_config), without the
     * <Location> sections around the path */
    fake->per_dir_config = ep && ep->foreign_config
        ? ap_merge_per_dir_configs(r->pool, r->server->lookup_defaults,
                                   ep->foreign_config)
        : r->server->lookup_defaults;
    return ap_auth_type(fake);
}

/* The security requirement of an AuthType (NULL: none this module knows). */
static json_t *security_of(oa_ctx *c, const char *type)
{
    const char *scheme = NULL;

    if (!type) {
        return NULL;
    }
    if (strcasecmp(type, "jwt") == 0) {
        c->schemes |= SCHEME_JWT;
        scheme = "jwt";
    }
    else if (strcasecmp(type, "apikey") == 0) {
        c->schemes |= SCHEME_APIKEY;
        scheme = "apiKey";
    }
    else if (strcasecmp(type, "basic") == 0) {
        c->schemes |= SCHEME_BASIC;
        scheme = "basic";
    }
    return scheme ? json_pack("[{s:[]}]", scheme) : NULL;
}

static void respond(json_t *rs, const char *status, const char *name)
{
    json_object_set_new(rs, status, ref("responses", name));
}

/* The media types an aggregating endpoint answers in (apigw_encode.c's) */
static json_t *merged_content(int output)
{
    json_t *c = json_object();

    if (output == APIGW_OUT_XML || output == APIGW_OUT_NEGOTIATE) {
        json_object_set_new(c, "application/xml", json_object());
    }
    if (output == APIGW_OUT_YAML || output == APIGW_OUT_NEGOTIATE) {
        json_object_set_new(c, "application/yaml", json_object());
    }
    if (output == APIGW_OUT_STRING) {
        json_object_set_new(c, "text/plain", json_object());
    }
    if (output == APIGW_OUT_JSON || output == APIGW_OUT_JSON_COLLECTION
        || output == APIGW_OUT_NEGOTIATE) {
        json_object_set_new(c, "application/json", json_object());
    }
    return c;
}

static json_t *responses_of(const apigw_endpoint *ep, int limited,
                            const apigw_policy_conf *eff, int secured)
{
    json_t *rs = json_object();

    if (!rs) {
        return NULL;
    }
    if (ep->aggregate && ep->output != APIGW_OUT_NOOP) {
        json_object_set_new(rs, "200", json_pack("{s:s, s:o}",
            "description", "The backends' answers merged by the gateway "
            "(ApiOutputEncoding).", "content", merged_content(ep->output)));
    }
    else {
        json_object_set_new(rs, "default", json_pack("{s:s}", "description",
            "The backend's response, passed through."));
    }
    respond(rs, "502", "BadGateway");
    respond(rs, "503", "ServiceUnavailable");
    respond(rs, "504", "GatewayTimeout");
    if (limited) {
        respond(rs, "429", "TooManyRequests");
    }
    if (eff && eff->request_body_limit > 0) {
        respond(rs, "413", "PayloadTooLarge");
    }
    if (ep->conf->request_schema) {
        respond(rs, "400", "BadRequest");
    }
    if (secured) {
        respond(rs, "401", "Unauthorized");
        respond(rs, "403", "Forbidden");
    }
    return rs;
}

/* ---- operations ---- */

static const char *method_of(apr_pool_t *p, const char *m)
{
    static const char *const known[] = { "get", "put", "post", "delete",
                                         "options", "head", "patch",
                                         "trace", NULL };
    char *low = apr_pstrdup(p, m);
    int i;

    ap_str_tolower(low);
    for (i = 0; known[i]; i++) {
        if (strcmp(known[i], low) == 0) {
            return known[i];
        }
    }
    return NULL;
}

/* method + "_" + s with every run of characters but [A-Za-z0-9] as one
 * '_', none at the end: "get_users_id" for get /users/{id} */
static const char *id_of(apr_pool_t *p, const char *method, const char *s)
{
    const char *c = apr_pstrcat(p, method, "_", s, NULL);
    char *id = apr_palloc(p, strlen(c) + 1), *o = id;

    for (; *c; c++) {
        if (apr_isalnum(*c)) {
            *o++ = *c;
        }
        else if (o > id && o[-1] != '_') {
            *o++ = '_';
        }
    }
    if (o > id && o[-1] == '_') {
        o--;
    }
    *o = '\0';
    return id;
}

static json_t *operation_of(oa_ctx *c, const apigw_endpoint *ep,
                            const char *upper, const char *auth,
                            const apr_array_header_t *vars, const char *wild,
                            int runtime)
{
    apr_pool_t *p = c->r->pool;
    const apigw_policy_conf *eff = ep->conf->policy
                                   ? ep->conf->policy->effective : NULL;
    const char *notes = "";
    json_t *op = json_object(), *params = path_params(p, vars, wild), *sec;
    int limited = runtime ? ep->rt_limit != NULL : c->rl_loaded;

    if (!op || !params) {
        json_decref(op);
        json_decref(params);
        return NULL;
    }
    forwarded_params(p, ep, eff, params, &notes);
    sec = security_of(c, auth);
    jset(p, op, "summary", jstr(p, apr_pstrcat(p, upper, " ", ep->pattern,
                                               NULL)));
    json_object_set_new(op, "parameters", params);
    json_object_set_new(op, "responses", responses_of(ep, limited, eff,
                                                      sec != NULL));
    if (sec) {
        json_object_set_new(op, "security", sec);
    }
    if (*notes) {
        jset(p, op, "description", jstr(p, apr_pstrndup(p, notes,
                                                        strlen(notes) - 1)));
    }
    json_object_set_new(op, "tags", json_pack("[s]", runtime ? "runtime"
                                                              : "static"));
    json_object_set_new(op, "x-apigw-timeout-ms",
                        json_integer((json_int_t)apr_time_as_msec(ep->timeout)));
    if (ep->aggregate) {
        json_object_set_new(op, "x-apigw-aggregate", json_true());
    }
    if (runtime) {
        jset(p, op, "x-apigw-route-id", jstr(p, ep->route_id));
        jset(p, op, "x-apigw-environment", jstr(p, c->environment));
    }
    else {
        jset(p, op, "x-apigw-source", jstr(p, apr_psprintf(p, "%s:%u",
                                           ep->file, ep->line)));
    }
    return op;
}

/* ep's operations, one per method (copied: nothing of ep is kept) */
static void add_endpoint(oa_ctx *c, const apigw_endpoint *ep, int runtime)
{
    apr_pool_t *p = c->r->pool;
    apr_array_header_t *vars = apr_array_make(p, 4, sizeof(const char *));
    const char *wild, *tpl = template_of(p, ep->pattern, vars, &wild);
    const char *auth;
    int i;

    if (!ep->methods->nelts) {
        return;
    }
    tpl = apr_pstrdup(p, apigw_utf8_clean(p, tpl));
    auth = runtime ? c->server_auth : auth_type_of(c->r, ep);
    for (i = 0; i < ep->methods->nelts; i++) {
        const char *m = APR_ARRAY_IDX(ep->methods, i, const char *);
        const char *method = method_of(p, m);
        oa_op *o;

        if (!method) {
            continue;
        }
        o = apr_array_push(c->ops);
        o->path = tpl;
        o->method = method;
        o->runtime = runtime;
        o->id_hint = runtime ? id_of(p, method, apr_pstrcat(p, "route_",
                                     ep->route_id ? ep->route_id : "", NULL))
                             : id_of(p, method, tpl);
        o->op = operation_of(c, ep, m, auth, vars, wild, runtime);
    }
}

static int add_runtime(void *ctx, void *data)
{
    add_endpoint(ctx, data, 1);
    return 0;
}

static int endpoint_flags(const apigw_endpoint *ep)
{
    return ep->conf->disable_rest == 1 ? APIGW_ROUTE_INNER_VARS : 0;
}

/* The host's own endpoints, then the main server's it inherits: those
 * that do not collide with its own (as apigw_merge_server_conf adds
 * them). */
static void add_static(oa_ctx *c)
{
    request_rec *r = c->r;
    const apigw_server_conf *sc = ap_get_module_config(r->server->module_config,
                                                       &apigw_module);
    const apigw_server_conf *msc;
    apigw_route_table *t;
    int i, j;

    for (i = 0; i < sc->endpoints->nelts; i++) {
        add_endpoint(c, APR_ARRAY_IDX(sc->endpoints, i, apigw_endpoint *), 0);
    }
    if (!r->server->is_virtual || !ap_server_conf) {
        return;
    }
    msc = ap_get_module_config(ap_server_conf->module_config, &apigw_module);
    if (!msc || msc->endpoints == sc->endpoints || !msc->endpoints->nelts) {
        return;
    }
    t = apigw_route_table_make(r->pool);
    for (i = 0; i < sc->endpoints->nelts; i++) {
        apigw_endpoint *ep = APR_ARRAY_IDX(sc->endpoints, i, apigw_endpoint *);
        for (j = 0; j < ep->methods->nelts; j++) {
            void *other = NULL;
            apigw_route_add(t, ep->pattern, APR_ARRAY_IDX(ep->methods, j,
                            const char *), ep, endpoint_flags(ep), &other);
        }
    }
    for (i = 0; i < msc->endpoints->nelts; i++) {
        apigw_endpoint *ep = APR_ARRAY_IDX(msc->endpoints, i,
                                           apigw_endpoint *);
        apigw_endpoint *one = apr_pmemdup(r->pool, ep, sizeof(*ep));

        one->methods = apr_array_make(r->pool, 2, sizeof(const char *));
        for (j = 0; j < ep->methods->nelts; j++) {
            const char *m = APR_ARRAY_IDX(ep->methods, j, const char *);
            void *other = NULL;
            apigw_route_add(t, ep->pattern, m, ep, endpoint_flags(ep)
                            | APIGW_ROUTE_SKIP_CONFLICT, &other);
            if (!other) {
                APR_ARRAY_PUSH(one->methods, const char *) = m;
            }
        }
        add_endpoint(c, one, 0);
    }
}

static int cmp_op(const void *a, const void *b)
{
    const oa_op *x = a, *y = b;
    int d = strcmp(x->path, y->path);

    if (!d) {
        d = strcmp(x->method, y->method);
    }
    if (!d) {
        d = x->runtime - y->runtime;
    }
    /* two runtime routes of one path and method (one lost it to the
     * other): the same one first in every child and answer */
    return d ? d : strcmp(x->id_hint ? x->id_hint : "",
                          y->id_hint ? y->id_hint : "");
}

/* The operations into a paths object, sorted, each path and method once,
 * with unique operationIds; every op's reference is taken or dropped. */
static json_t *paths_of(oa_ctx *c)
{
    apr_pool_t *p = c->r->pool;
    apr_hash_t *ids = apr_hash_make(p);
    json_t *paths = json_object();
    oa_op *ops = (oa_op *)c->ops->elts;
    int i;

    qsort(ops, (size_t)c->ops->nelts, sizeof(oa_op), cmp_op);
    for (i = 0; i < c->ops->nelts; i++) {
        oa_op *o = &ops[i];
        const char *id = o->id_hint;
        json_t *item;
        int n = 2;

        if (!paths || !o->op || (i > 0 && !strcmp(o->path, ops[i - 1].path)
                                 && !strcmp(o->method, ops[i - 1].method))) {
            json_decref(o->op);
            continue;
        }
        while (apr_hash_get(ids, id, APR_HASH_KEY_STRING)) {
            id = apr_psprintf(p, "%s_%d", o->id_hint, n++);
        }
        apr_hash_set(ids, id, APR_HASH_KEY_STRING, id);
        json_object_set_new(o->op, "operationId", json_string(id));
        if (!(item = json_object_get(paths, o->path))) {
            item = json_object();
            json_object_set_new(paths, o->path, item);
        }
        json_object_set_new(item, o->method, o->op);
    }
    return paths;
}

/* ---- components ---- */

static json_t *error_response(const char *description, int status)
{
    return json_pack("{s:s, s:{s:{s:o, s:{s:i, s:s}}}}",
                     "description", description,
                     "content", "application/json",
                     "schema", ref("schemas", "Error"),
                     "example", "status", status,
                     "error", apigw_status_reason(status));
}

static json_t *rate_limit_headers(void)
{
    return json_pack("{s:o, s:o, s:o}",
                     "Retry-After", ref("headers", "Retry-After"),
                     "RateLimit", ref("headers", "RateLimit"),
                     "RateLimit-Policy", ref("headers", "RateLimit-Policy"));
}

static json_t *components_of(const oa_ctx *c)
{
    json_t *comp, *rs, *schemes, *tmr;

    rs = json_object();
    if (!rs) {
        return NULL;
    }
    json_object_set_new(rs, "BadRequest", error_response(
        "The request body does not match the endpoint's ApiRequestSchema.",
        400));
    json_object_set_new(rs, "Unauthorized", error_response(
        "No valid credentials (a WWW-Authenticate header says which).", 401));
    json_object_set_new(rs, "Forbidden", error_response(
        "The credentials are valid but not allowed here.", 403));
    json_object_set_new(rs, "NotFound", json_pack("{s:s, s:{s:{}}}",
        "description", "No endpoint of this host has the path: httpd's own "
        "Not Found page (with ApiErrorFormat krakend, KrakenD's text).",
        "content", "text/html"));
    json_object_set_new(rs, "MethodNotAllowed", error_response(
        "The path has endpoints, but not for this method (the Allow header "
        "lists those it has).", 405));
    json_object_set_new(rs, "PayloadTooLarge", error_response(
        "The request body is larger than the endpoint's limit.", 413));
    tmr = error_response("A rate limit refused the request "
                         "(mod_apigw_ratelimit).", 429);
    if (tmr) {
        json_object_set_new(tmr, "headers", rate_limit_headers());
    }
    json_object_set_new(rs, "TooManyRequests", tmr);
    json_object_set_new(rs, "BadGateway", error_response(
        "The backend could not be reached or gave an invalid answer.", 502));
    json_object_set_new(rs, "ServiceUnavailable", error_response(
        "No backend can take the request: a circuit breaker is open, or "
        "every member of the backend's pool is suspended.", 503));
    json_object_set_new(rs, "GatewayTimeout", error_response(
        "The backend did not answer within the endpoint's timeout.", 504));

    comp = json_pack("{s:{s:{s:s, s:s, s:[s,s], s:{s:{s:s, s:i, s:i, s:s}, "
                     "s:{s:s, s:s}}}}, s:o, s:{s:{s:s, s:{s:s, s:i}}, "
                     "s:{s:s, s:{s:s}}, s:{s:s, s:{s:s}}}}",
        "schemas", "Error",
            "type", "object",
            "description", "The body of every answer the gateway gives "
                "itself (with Cache-Control: no-store), unless "
                "ApiErrorFormat krakend is in force.",
            "required", "status", "error",
            "properties",
                "status", "type", "integer", "minimum", 400, "maximum", 599,
                    "description", "The HTTP status of the answer.",
                "error", "type", "string",
                    "description", "What went wrong.",
        "responses", rs,
        "headers",
            "Retry-After", "description", "Seconds until a request may be "
                "admitted.", "schema", "type", "integer", "minimum", 1,
            "RateLimit", "description", "The limit's remaining quota and "
                "reset (draft-ietf-httpapi-ratelimit-headers), when "
                "ApiRateLimitHeaders asks for it.",
                "schema", "type", "string",
            "RateLimit-Policy", "description", "The limits in force, when "
                "ApiRateLimitHeaders asks for them.",
                "schema", "type", "string");
    if (!comp || !c->schemes) {
        return comp;
    }
    schemes = json_object();
    if (c->schemes & SCHEME_JWT) {
        json_object_set_new(schemes, "jwt", json_pack("{s:s, s:s, s:s, s:s}",
            "type", "http", "scheme", "bearer", "bearerFormat", "JWT",
            "description", "AuthType jwt (mod_apigw_auth): a JSON Web Token "
            "as a Bearer token, or in the header ApiJwtHeader names."));
    }
    if (c->schemes & SCHEME_APIKEY) {
        json_object_set_new(schemes, "apiKey", json_pack(
            "{s:s, s:s, s:s, s:s}", "type", "apiKey", "in", "header",
            "name", "X-API-Key",
            "description", "AuthType apikey (mod_apigw_auth): the key in "
            "X-API-Key (or the header ApiKeyHeader names), or as a Bearer "
            "token."));
    }
    if (c->schemes & SCHEME_BASIC) {
        json_object_set_new(schemes, "basic", json_pack("{s:s, s:s}",
            "type", "http", "scheme", "basic"));
    }
    json_object_set_new(comp, "securitySchemes", schemes);
    return comp;
}

static json_t *info_of(const oa_ctx *c)
{
    request_rec *r = c->r;
    const apigw_server_conf *sc = ap_get_module_config(r->server->module_config,
                                                       &apigw_module);
    const char *host = r->server->server_hostname;
    const char *desc = "The endpoints of this host as mod_apigw serves "
        "them: <ApiEndpoint>s (declared and imported with "
        "ApiImportKrakenD)";
    json_t *info;

    desc = apr_pstrcat(r->pool, desc, c->environment
                       ? apr_pstrcat(r->pool, " and the runtime routes of "
                                     "the environment ", c->environment,
                                     " at the time of the request", NULL)
                       : "", ". The gateway's own answers (JSON errors) are "
                       "components.responses; a path without an endpoint is "
                       "404 (NotFound), a method the path does not have 405 "
                       "(MethodNotAllowed).", NULL);
    if (sc->error_format && sc->error_format != APIGW_ERRORS_JSON) {
        desc = apr_pstrcat(r->pool, desc, " ApiErrorFormat krakend is in "
                           "force: those answers have KrakenD's bodies "
                           "instead.", NULL);
    }
    info = json_object();
    if (info) {
        jset(r->pool, info, "version", jstr(r->pool, sc->openapi_version
                                            ? sc->openapi_version : "1.0.0"));
        jset(r->pool, info, "title", jstr(r->pool, sc->openapi_title
                                          ? sc->openapi_title
                                          : host && *host
                                          ? apr_pstrcat(r->pool, host, " API",
                                                        NULL)
                                          : "mod_apigw API"));
        jset(r->pool, info, "description", jstr(r->pool, desc));
    }
    return info;
}

/* ---- the directive ---- */

const char *apigw_openapi_set_info(cmd_parms *cmd, void *dconf,
                                   const char *title, const char *version)
{
    const char *err;
    apigw_server_conf *sc = apigw_cmd_server_conf(cmd, &err);

    (void)dconf;
    if (!sc) {
        return err;
    }
    if (!*title || !*version) {
        return "ApiOpenApiInfo: the title and the version must not be empty";
    }
    sc->openapi_title = title;
    sc->openapi_version = version;
    return NULL;
}

/* ---- the handler ---- */

static json_t *document_of(request_rec *r)
{
    oa_ctx c;
    json_t *doc;

    memset(&c, 0, sizeof(c));
    c.r = r;
    c.ops = apr_array_make(r->pool, 32, sizeof(oa_op));
    c.rl_loaded = ap_find_linked_module("mod_apigw_ratelimit.c") != NULL;
    c.server_auth = auth_type_of(r, NULL);
    add_static(&c);
    apigw_rt_serve_each(r, add_runtime, &c, &c.environment);
    if (c.environment) {
        c.environment = apr_pstrdup(r->pool, c.environment);
    }
    doc = json_pack("{s:s, s:o, s:o}", "openapi", OPENAPI_VERSION,
                    "paths", paths_of(&c), "info", info_of(&c));
    if (doc) {
        json_object_set_new(doc, "components", components_of(&c));
    }
    return doc;
}

int apigw_openapi_handler(request_rec *r)
{
    json_t *doc;
    char *text;
    apr_size_t len;

    if (!r->handler || strcmp(r->handler, OPENAPI_HANDLER) != 0) {
        return DECLINED;
    }
    ap_allow_methods(r, REPLACE_ALLOW, "GET", NULL);
    if (r->method_number != M_GET) {
        return HTTP_METHOD_NOT_ALLOWED;
    }
    doc = document_of(r);
    text = doc ? json_dumps(doc, JSON_SORT_KEYS | JSON_INDENT(2)) : NULL;
    json_decref(doc);
    if (!text) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, APIGW_LOGNO(00940)
                      "apigw-openapi: the document could not be built (out "
                      "of memory)");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    len = strlen(text);
    ap_set_content_type(r, "application/json");
    apr_table_setn(r->headers_out, "Cache-Control", "no-cache");
    ap_set_content_length(r, (apr_off_t)len + 1);
    if (!r->header_only) {
        ap_rwrite(text, (int)len, r);
        ap_rputs("\n", r);
    }
    free(text);
    return OK;
}
