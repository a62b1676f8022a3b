/* The GraphQL side of the management API: <admin location>/graphql.
 * This file owns the HTTP side (the request's JSON or query arguments,
 * the answer's media type and status, the bounds of the location) and
 * the resolvers of the root fields (routes, environments, API keys,
 * operations): each calls the operation the REST side calls
 * (apigw_admin_ops.h), so both check and write the same way;
 * route inputs travel as the REST API's JSON (the input types mirror it
 * field for field) through the route model's decoder. The language
 * itself (parsing, validation, execution, introspection) is
 * apigw_gql_exec.h's. The live state of pools, breakers and rate limits
 * comes from mod_apigw_breaker and mod_apigw_ratelimit through their
 * optional functions (common/apigw_contract.h), when they are loaded. */
#include "apigw_admin_graphql.h"
#include "apigw_admin.h"
#include "apigw_admin_ops.h"
#include "apigw_config.h"
#include "apigw_console.h"
#include "apigw_contract.h"
#include "apigw_gql_exec.h"
#include "apigw_log.h"

#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "apr_strings.h"

#include <jansson.h>

APLOG_USE_MODULE(apigw);

/* The bounds when the location sets none. */
#define DEFAULT_MAX_BYTES (256 * 1024)
#define DEFAULT_MAX_DEPTH 20
#define DEFAULT_MAX_FIELDS 1000
#define DEFAULT_MAX_ALIASES 100

static apigw_gql_schema *schema;         /* this generation's */

/* The schema's text: console/schema.graphql, one of the console's files
 * (so a client may read it at <admin>/console/schema.graphql too). */
static const char *schema_text(void)
{
    apr_size_t i;

    for (i = 0; i < apigw_console_asset_count; i++) {
        if (strcmp(apigw_console_assets[i].name, "schema.graphql") == 0) {
            /* embed.sh ends every file with a NUL */
            return (const char *)apigw_console_assets[i].bytes;
        }
    }
    return NULL;
}

int apigw_admin_graphql_post_config(apr_pool_t *pconf, server_rec *s)
{
    const char *text = schema_text();
    const char *err = text ? apigw_gql_schema_build(pconf, text, &schema)
                           : "console/schema.graphql is not built in";

    if (err) {
        schema = NULL;
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, APIGW_LOGNO(00730)
                     "the admin API's GraphQL schema does not build: %s "
                     "(a defect of mod_apigw)", err);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}

const char *apigw_admin_graphql_error(apr_pool_t *p, const char *message,
                                      const char *code)
{
    json_t *doc = json_pack("{s:[{s:s,s:{s:s}}]}", "errors", "message",
                            message, "extensions", "code", code);
    char *text = doc ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER)
                     : NULL;
    const char *out;

    json_decref(doc);
    out = text ? apr_pstrdup(p, text)
               : "{\"errors\":[{\"message\":\"the error cannot be written\","
                 "\"extensions\":{\"code\":\"INTERNAL_SERVER_ERROR\"}}]}";
    free(text);
    return out;
}

/* ---- resolvers ---- */

/* What the resolvers of one request share: the child's route store, taken
 * when a field first needs it and given back when the request ends. */
typedef struct {
    request_rec *r;
    apigw_route_store *st;
    apr_hash_t *routes;            /* environment -> json_t *: one read of
                                    * an environment per request, however
                                    * many aliases ask for it */
} gql_request;

static json_t *fault(apigw_gql_fault *f, const char *code,
                     const char *message, const char *field)
{
    f->code = code;
    f->message = message;
    f->field = field;
    return NULL;
}

/* An operation's error as a field's, field naming the argument path
 * (prefix "input." for an input object's members). */
static json_t *ops_fault(gql_request *g, apigw_gql_fault *f,
                         const apigw_ops_error *e, const char *prefix)
{
    static const char *const codes[] = { "INTERNAL_SERVER_ERROR",
        "BAD_USER_INPUT", "NOT_FOUND", "CONFLICT", "INTERNAL_SERVER_ERROR",
        "INTERNAL_SERVER_ERROR" };

    return fault(f, codes[e->code], e->message, e->field && prefix
                 ? apr_pstrcat(g->r->pool, prefix, e->field, NULL)
                 : e->field);
}

static json_t *model_fault(gql_request *g, apigw_gql_fault *f,
                           const apigw_rt_error *e)
{
    int named = e->field && *e->field;

    return fault(f, "BAD_USER_INPUT", named ? apr_pstrcat(g->r->pool,
                 e->field, ": ", e->message, NULL) : e->message,
                 named ? apr_pstrcat(g->r->pool, "input.", e->field, NULL)
                       : "input");
}

static apr_status_t release_json(void *data)
{
    json_decref(data);
    return APR_SUCCESS;
}

static const apigw_ops_error *with_store(gql_request *g)
{
    return g->st ? NULL : apigw_ops_store_take(g->r, &g->st);
}

static const char *arg_str(json_t *args, const char *name)
{
    return json_string_value(json_object_get(args, name));
}

static json_t *route_json(gql_request *g, const apigw_rt_route *route)
{
    return apigw_rt_route_json(g->r->pool, route);
}

static json_t *deleted_json(int n)
{
    return json_pack("{s:i}", "deletedCount", n);
}

/* Query.routes(environment) */
static json_t *q_routes(gql_request *g, json_t *args, apigw_gql_fault *f)
{
    const char *env = arg_str(args, "environment");
    const apigw_ops_error *e;
    const apigw_rt_error *ee;
    apr_array_header_t *routes;
    json_t *list;
    int i;

    if ((ee = apigw_rt_environment_check(g->r->pool, env)) != NULL) {
        return fault(f, "BAD_USER_INPUT", apr_pstrcat(g->r->pool,
                     "environment ", ee->message, NULL), "environment");
    }
    if ((list = apr_hash_get(g->routes, env, APR_HASH_KEY_STRING))) {
        return json_incref(list);
    }
    if ((e = with_store(g)) || (e = apigw_ops_routes(g->r, g->st, env,
                                                     &routes))) {
        return ops_fault(g, f, e, NULL);
    }
    list = json_array();
    for (i = 0; i < routes->nelts; i++) {
        json_array_append_new(list, route_json(g, APR_ARRAY_IDX(routes, i,
                                                    apigw_rt_route *)));
    }
    /* the request's own reference, released when it ends */
    apr_hash_set(g->routes, apr_pstrdup(g->r->pool, env),
                 APR_HASH_KEY_STRING, json_incref(list));
    apr_pool_cleanup_register(g->r->pool, list, release_json,
                              apr_pool_cleanup_null);
    return list;
}

/* Query.route(id): null when there is none. */
static json_t *q_route(gql_request *g, json_t *args, apigw_gql_fault *f)
{
    const apigw_ops_error *e;
    apigw_rt_route *route;

    if ((e = with_store(g)) != NULL) {
        return ops_fault(g, f, e, NULL);
    }
    if ((e = apigw_ops_route(g->r, g->st, arg_str(args, "id"), &route))) {
        return e->code == APIGW_OPS_NOT_FOUND ? json_null()
                                               : ops_fault(g, f, e, NULL);
    }
    return route_json(g, route);
}

/* Query.environments */
static json_t *q_environments(gql_request *g, json_t *args,
                              apigw_gql_fault *f)
{
    const apigw_ops_error *e;
    apr_array_header_t *names;
    json_t *list;
    int i;

    (void)args;
    if ((e = with_store(g)) || (e = apigw_ops_environments(g->r, g->st,
                                                           &names))) {
        return ops_fault(g, f, e, NULL);
    }
    list = json_array();
    for (i = 0; i < names->nelts; i++) {
        json_array_append_new(list, json_pack("{s:s}", "name",
                              APR_ARRAY_IDX(names, i, const char *)));
    }
    return list;
}

/* Another module's JSON text (an array), or null when it is not loaded
 * or its text does not parse (logged: a defect). */
static json_t *foreign(gql_request *g, const char *what, const char *text)
{
    json_error_t jerr;
    json_t *v;

    if (!text) {
        return json_null();
    }
    if (!(v = json_loads(text, 0, &jerr))) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, g->r, APIGW_LOGNO(00731)
                      "admin API: the %s state is not JSON (%s at %d:%d); "
                      "left out", what, jerr.text, jerr.line, jerr.column);
        return json_null();
    }
    return v;
}

/* Query.operations */
static json_t *q_operations(gql_request *g, json_t *args, apigw_gql_fault *f)
{
    APR_OPTIONAL_FN_TYPE(apigw_ops_pools) *pools =
        APR_RETRIEVE_OPTIONAL_FN(apigw_ops_pools);
    APR_OPTIONAL_FN_TYPE(apigw_ops_breakers) *breakers =
        APR_RETRIEVE_OPTIONAL_FN(apigw_ops_breakers);
    APR_OPTIONAL_FN_TYPE(apigw_ops_rate_limits) *limits =
        APR_RETRIEVE_OPTIONAL_FN(apigw_ops_rate_limits);
    json_t *o = json_object();

    (void)args;
    (void)f;
    json_object_set_new(o, "time", json_string(apigw_rt_time_text(
                            g->r->pool, apr_time_now())));
    json_object_set_new(o, "pools", foreign(g, "balancer pools",
                        pools ? pools(g->r) : NULL));
    json_object_set_new(o, "breakers", foreign(g, "circuit breakers",
                        breakers ? breakers(g->r) : NULL));
    json_object_set_new(o, "rateLimits", foreign(g, "rate limits",
                        limits ? limits(g->r) : NULL));
    return o;
}

/* An input object as the REST API's JSON text. */
static const char *input_text(gql_request *g, json_t *input, apr_size_t *len)
{
    char *text = json_dumps(input, JSON_COMPACT);
    const char *out = apr_pstrdup(g->r->pool, text ? text : "null");

    free(text);
    *len = strlen(out);
    return out;
}

/* Mutation.registerRoute(input) */
static json_t *m_register(gql_request *g, json_t *args, apigw_gql_fault *f)
{
    const apigw_ops_error *e;
    const apigw_rt_error *me;
    apigw_rt_route *route;
    const char *text;
    apr_size_t len;

    text = input_text(g, json_object_get(args, "input"), &len);
    if ((me = apigw_rt_route_decode(g->r->pool, text, len,
                                    apigw_ops_checks(), &route))) {
        return model_fault(g, f, me);
    }
    if ((e = with_store(g)) || (e = apigw_ops_register(g->r, g->st,
                                                       route))) {
        return ops_fault(g, f, e, "input.");
    }
    return route_json(g, route);
}

/* The stored route args' id names, or NULL with f filled. */
static apigw_rt_route *stored(gql_request *g, json_t *args,
                              apigw_gql_fault *f)
{
    const apigw_ops_error *e;
    apigw_rt_route *route;

    if ((e = with_store(g)) || (e = apigw_ops_route(g->r, g->st,
                                    arg_str(args, "id"), &route))) {
        ops_fault(g, f, e, NULL);
        if (e->code == APIGW_OPS_NOT_FOUND) {
            f->field = "id";
        }
        return NULL;
    }
    return route;
}

/* Mutation.updateRoute(id, input) */
static json_t *m_update(gql_request *g, json_t *args, apigw_gql_fault *f)
{
    apigw_rt_route *old, *route;
    const apigw_ops_error *e;
    const apigw_rt_error *me;
    const char *text;
    apr_size_t len;

    if (!(old = stored(g, args, f))) {
        return NULL;
    }
    text = input_text(g, json_object_get(args, "input"), &len);
    if ((me = apigw_rt_route_patch(g->r->pool, old, text, len,
                                   apigw_ops_checks(), &route))) {
        return model_fault(g, f, me);
    }
    if ((e = apigw_ops_save(g->r, g->st, route, "changed route"))) {
        return ops_fault(g, f, e, "input.");
    }
    return route_json(g, route);
}

/* Mutation.setRouteEnabled(id, enabled) */
static json_t *m_set_enabled(gql_request *g, json_t *args,
                             apigw_gql_fault *f)
{
    const apigw_ops_error *e;
    apigw_rt_route *route;
    int on = json_is_true(json_object_get(args, "enabled"));

    if (!(route = stored(g, args, f))) {
        return NULL;
    }
    route->enabled = on;
    if ((e = apigw_ops_save(g->r, g->st, route, on ? "enabled route"
                                                   : "disabled route"))) {
        return ops_fault(g, f, e, NULL);
    }
    return route_json(g, route);
}

/* Mutation.deleteRoute(id) */
static json_t *m_delete(gql_request *g, json_t *args, apigw_gql_fault *f)
{
    const apigw_ops_error *e;

    if ((e = with_store(g)) || (e = apigw_ops_delete(g->r, g->st,
                                                     arg_str(args, "id")))) {
        ops_fault(g, f, e, NULL);
        if (e->code == APIGW_OPS_NOT_FOUND) {
            f->field = "id";
        }
        return NULL;
    }
    return deleted_json(1);
}

/* Mutation.deleteRoutesByEnvironment(input) */
static json_t *m_delete_routes_of(gql_request *g, json_t *args,
                                  apigw_gql_fault *f)
{
    const char *env = arg_str(json_object_get(args, "input"),
                              "environment");
    const apigw_ops_error *e;
    int n = 0;

    if ((e = with_store(g)) || (e = apigw_ops_delete_routes_of(g->r, g->st,
                                                               env, &n))) {
        return ops_fault(g, f, e, "input.");
    }
    return deleted_json(n);
}

/* Mutation.createEnvironment(input) */
static json_t *m_create_environment(gql_request *g, json_t *args,
                                    apigw_gql_fault *f)
{
    json_t *in = json_object_get(args, "input");
    const char *name = arg_str(in, "name");
    const apigw_ops_error *e;
    int copied = 0;

    if ((e = with_store(g)) || (e = apigw_ops_create_environment(g->r,
                                    g->st, name, arg_str(in, "from"),
                                    json_is_true(json_object_get(in,
                                                 "copyRoutes")), &copied))) {
        return ops_fault(g, f, e, "input.");
    }
    return json_pack("{s:s,s:i}", "name", name, "copiedRoutes", copied);
}

/* Mutation.deleteEnvironment(name) */
static json_t *m_delete_environment(gql_request *g, json_t *args,
                                    apigw_gql_fault *f)
{
    const apigw_ops_error *e;
    int n = 0;

    if ((e = with_store(g)) || (e = apigw_ops_delete_environment(g->r,
                                    g->st, arg_str(args, "name"), &n))) {
        return ops_fault(g, f, e, NULL);
    }
    return deleted_json(n);
}

/* ---- API keys ---- */

/* Query.apiKeys */
static json_t *q_apikeys(gql_request *g, json_t *args, apigw_gql_fault *f)
{
    const apigw_ops_error *e;
    apr_array_header_t *keys;
    json_t *list;
    int i;

    (void)args;
    if ((e = with_store(g)) || (e = apigw_ops_apikeys(g->r, g->st, &keys))) {
        return ops_fault(g, f, e, NULL);
    }
    list = json_array();
    for (i = 0; i < keys->nelts; i++) {
        json_array_append_new(list, apigw_ops_apikey_json(g->r->pool,
                              APR_ARRAY_IDX(keys, i, apigw_ops_apikey *)));
    }
    return list;
}

/* The roles argument ([String!], maybe null) as an array, from p. */
static apr_array_header_t *roles_arg(apr_pool_t *p, json_t *v)
{
    apr_array_header_t *roles;
    json_t *role;
    size_t i;

    if (!json_is_array(v)) {
        return NULL;
    }
    roles = apr_array_make(p, (int)json_array_size(v) + 1,
                           sizeof(const char *));
    json_array_foreach(v, i, role) {
        /* the executor coerced every member to a string */
        APR_ARRAY_PUSH(roles, const char *) =
            apr_pstrdup(p, json_string_value(role));
    }
    return roles;
}

/* Mutation.createApiKey(name, roles) */
static json_t *m_create_apikey(gql_request *g, json_t *args,
                               apigw_gql_fault *f)
{
    const apigw_ops_error *e;
    apigw_ops_apikey *k;

    if ((e = with_store(g)) || (e = apigw_ops_create_apikey(g->r, g->st,
                                    arg_str(args, "name"),
                                    roles_arg(g->r->pool, json_object_get(
                                              args, "roles")), &k))) {
        return ops_fault(g, f, e, NULL);
    }
    return apigw_ops_apikey_json(g->r->pool, k);
}

/* Mutation.revokeApiKey(name): true; a NOT_FOUND error when there is no
 * such key (as deleteRoute's). */
static json_t *m_revoke_apikey(gql_request *g, json_t *args,
                               apigw_gql_fault *f)
{
    const apigw_ops_error *e;

    if ((e = with_store(g)) || (e = apigw_ops_revoke_apikey(g->r, g->st,
                                    arg_str(args, "name")))) {
        ops_fault(g, f, e, NULL);
        if (e->code == APIGW_OPS_NOT_FOUND) {
            f->field = "name";
        }
        return NULL;
    }
    return json_true();
}

/* What another module answered an action with: its JSON, or a fault. */
static json_t *acted(gql_request *g, apigw_gql_fault *f, const char *what,
                     const char *err, const char *json, int not_found,
                     const char *field)
{
    json_error_t jerr;
    json_t *v;

    if (err) {
        return fault(f, not_found ? "NOT_FOUND" : "INTERNAL_SERVER_ERROR",
                     err, not_found ? field : NULL);
    }
    if (!json || !(v = json_loads(json, 0, &jerr))) {
        return fault(f, "INTERNAL_SERVER_ERROR", apr_psprintf(g->r->pool,
                     "the %s's state cannot be read", what), NULL);
    }
    return v;
}

/* Mutation.resumeMember(pool, member) */
static json_t *m_resume_member(gql_request *g, json_t *args,
                               apigw_gql_fault *f)
{
    APR_OPTIONAL_FN_TYPE(apigw_ops_resume_member) *resume =
        APR_RETRIEVE_OPTIONAL_FN(apigw_ops_resume_member);
    const char *pool = arg_str(args, "pool");
    const char *member = arg_str(args, "member");
    const char *json = NULL, *err;
    int not_found = 0;
    json_t *v;

    if (!resume) {
        return fault(f, "NOT_FOUND", "no balancer member can be resumed "
                     "here: mod_apigw_breaker is not loaded", NULL);
    }
    err = resume(g->r, pool, member, &json, &not_found);
    if ((v = acted(g, f, "member", err, json, not_found, "member"))) {
        apigw_ops_audit(g->r, "resumed member", apr_psprintf(g->r->pool,
                        "%s of %s", member, pool));
    }
    return v;
}

/* Mutation.resetBreaker(id) */
static json_t *m_reset_breaker(gql_request *g, json_t *args,
                               apigw_gql_fault *f)
{
    APR_OPTIONAL_FN_TYPE(apigw_ops_reset_breaker) *reset =
        APR_RETRIEVE_OPTIONAL_FN(apigw_ops_reset_breaker);
    const char *id = arg_str(args, "id");
    const char *json = NULL, *err;
    int not_found = 0;
    json_t *v;

    if (!reset) {
        return fault(f, "NOT_FOUND", "no circuit breaker can be reset here: "
                     "mod_apigw_breaker is not loaded", NULL);
    }
    err = reset(g->r, id, &json, &not_found);
    if ((v = acted(g, f, "breaker", err, json, not_found, "id"))) {
        apigw_ops_audit(g->r, "reset circuit breaker", id);
    }
    return v;
}

typedef json_t *field_fn(gql_request *g, json_t *args, apigw_gql_fault *f);

static const struct {
    const char *type;
    const char *field;
    field_fn *fn;
} fields[] = {
    { "Query", "routes", q_routes },
    { "Query", "route", q_route },
    { "Query", "environments", q_environments },
    { "Query", "operations", q_operations },
    { "Query", "apiKeys", q_apikeys },
    { "Mutation", "registerRoute", m_register },
    { "Mutation", "updateRoute", m_update },
    { "Mutation", "setRouteEnabled", m_set_enabled },
    { "Mutation", "deleteRoute", m_delete },
    { "Mutation", "deleteRoutesByEnvironment", m_delete_routes_of },
    { "Mutation", "createEnvironment", m_create_environment },
    { "Mutation", "deleteEnvironment", m_delete_environment },
    { "Mutation", "resumeMember", m_resume_member },
    { "Mutation", "resetBreaker", m_reset_breaker },
    { "Mutation", "createApiKey", m_create_apikey },
    { "Mutation", "revokeApiKey", m_revoke_apikey },
};

static json_t *resolve(void *baton, apr_pool_t *p, const char *type,
                       const char *field, json_t *args, apigw_gql_fault *f)
{
    apr_size_t i;

    (void)p;
    for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        if (strcmp(fields[i].type, type) == 0
            && strcmp(fields[i].field, field) == 0) {
            gql_request *g = baton;
            json_t *v = fields[i].fn(g, args, f);

            /* the child's store is held by one field at a time: a request
             * of many fields never keeps the others waiting throughout */
            if (g->st) {
                apigw_ops_store_give();
                g->st = NULL;
            }
            return v;
        }
    }
    return fault(f, "INTERNAL_SERVER_ERROR", apr_psprintf(((gql_request *)
                 baton)->r->pool, "%s.%s has no resolver", type, field),
                 NULL);
}

/* ---- the request ---- */

static void limits_of(request_rec *r, apigw_gql_limits *l)
{
    const apigw_dir_conf *dc = ap_get_module_config(r->per_dir_config,
                                                    &apigw_module);

    l->max_bytes = dc->gql_max_bytes ? dc->gql_max_bytes : DEFAULT_MAX_BYTES;
    l->max_depth = dc->gql_max_depth ? dc->gql_max_depth : DEFAULT_MAX_DEPTH;
    l->max_fields = dc->gql_max_fields ? dc->gql_max_fields
                                       : DEFAULT_MAX_FIELDS;
    l->max_aliases = dc->gql_max_aliases ? dc->gql_max_aliases
                                         : DEFAULT_MAX_ALIASES;
}

/* Does the client take GraphQL's own media type (then a refused request
 * is a 400, as the GraphQL over HTTP draft says)? */
static int wants_graphql_response(request_rec *r)
{
    const char *accept = apr_table_get(r->headers_in, "Accept");

    return accept && ap_strcasestr(accept,
                                   "application/graphql-response+json");
}

static int answer(request_rec *r, int status, const char *json)
{
    return apigw_admin_answer(r, status, wants_graphql_response(r)
                              ? "application/graphql-response+json"
                              : "application/json", json);
}

static int refuse(request_rec *r, const char *message)
{
    return answer(r, HTTP_BAD_REQUEST, apigw_admin_graphql_error(r->pool,
                  message, "BAD_USER_INPUT"));
}

/* The request's three parts. */
typedef struct {
    const char *query;
    apr_size_t qlen;
    json_t *variables;             /* an object, or NULL */
    const char *operation;         /* NULL: the only one */
} gql_params;

/* variables as given: an object, null, or (GET) its JSON text. NULL or
 * the problem; p->variables holds a reference to release. */
static const char *take_variables(json_t *v, gql_params *p)
{
    json_error_t jerr;

    if (!v || json_is_null(v)) {
        return NULL;
    }
    if (json_is_string(v)) {
        v = json_loads(json_string_value(v), JSON_REJECT_DUPLICATES, &jerr);
        if (!v || !json_is_object(v)) {
            json_decref(v);
            return "variables must be a JSON object";
        }
        p->variables = v;
        return NULL;
    }
    if (!json_is_object(v)) {
        return "variables must be a JSON object";
    }
    p->variables = json_incref(v);
    return NULL;
}

/* POST: {"query", "variables", "operationName", "extensions"}. */
static const char *post_params(request_rec *r, const char *body,
                               apr_size_t len, gql_params *p)
{
    json_error_t jerr;
    json_t *doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    json_t *q, *op;
    const char *problem = NULL;

    if (!doc || !json_is_object(doc)) {
        json_decref(doc);
        return "the body must be a JSON object {\"query\", \"variables\", "
               "\"operationName\"}";
    }
    q = json_object_get(doc, "query");
    op = json_object_get(doc, "operationName");
    if (!json_is_string(q)) {
        problem = "query must be a string: the GraphQL document";
    }
    else if (op && !json_is_null(op) && !json_is_string(op)) {
        problem = "operationName must be a string or null";
    }
    else if (!(problem = take_variables(json_object_get(doc, "variables"),
                                        p))) {
        p->qlen = json_string_length(q);
        p->query = apr_pstrmemdup(r->pool, json_string_value(q), p->qlen);
        p->operation = json_is_string(op)
                       ? apr_pstrdup(r->pool, json_string_value(op)) : NULL;
    }
    json_decref(doc);
    return problem;
}

/* GET: ?query=...&variables=...&operationName=... (form-encoded). */
static const char *get_params(request_rec *r, gql_params *p)
{
    char *args = apr_pstrdup(r->pool, r->args ? r->args : "");
    char *pair, *last = NULL;
    json_t *vars = NULL;
    const char *problem;

    for (pair = apr_strtok(args, "&", &last); pair;
         pair = apr_strtok(NULL, "&", &last)) {
        char *eq = strchr(pair, '=');
        char *v = eq ? eq + 1 : pair + strlen(pair);

        if (eq) {
            *eq = '\0';
        }
        if (ap_unescape_urlencoded(v) != OK) {
            json_decref(vars);
            return apr_psprintf(r->pool, "the %s argument is not "
                                "URL-encoded", pair);
        }
        if (strcmp(pair, "query") == 0) {
            p->query = v;
            p->qlen = strlen(v);
        }
        else if (strcmp(pair, "operationName") == 0) {
            p->operation = *v ? v : NULL;
        }
        else if (strcmp(pair, "variables") == 0 && *v) {
            json_decref(vars);
            vars = json_string(v);
        }
    }
    if (!p->query) {
        json_decref(vars);
        return "a GET needs ?query=: the GraphQL document";
    }
    problem = take_variables(vars, p);
    json_decref(vars);
    return problem;
}

int apigw_admin_graphql(request_rec *r, const char *body, apr_size_t len)
{
    gql_request g = { r, NULL, NULL };
    gql_params p = { NULL, 0, NULL, NULL };
    apigw_gql_limits limits;
    apigw_gql_outcome out;
    const char *problem, *response;

    if (!schema) {
        return answer(r, HTTP_SERVICE_UNAVAILABLE, apigw_admin_graphql_error(
                      r->pool, "the GraphQL schema is unavailable",
                      "INTERNAL_SERVER_ERROR"));
    }
    problem = r->method_number == M_POST ? post_params(r, body, len, &p)
                                         : get_params(r, &p);
    if (problem) {
        json_decref(p.variables);
        return refuse(r, problem);
    }
    limits_of(r, &limits);
    g.routes = apr_hash_make(r->pool);
    out = apigw_gql_execute(r->pool, schema, &limits, p.query, p.qlen,
                            p.variables, p.operation,
                            r->method_number == M_POST, resolve, &g,
                            &response);
    json_decref(p.variables);
    if (out == APIGW_GQL_MUTATION_BY_GET) {
        apr_table_setn(r->headers_out, "Allow", "POST");
        return answer(r, HTTP_METHOD_NOT_ALLOWED, apigw_admin_graphql_error(
                      r->pool, "a mutation must be sent with POST",
                      "BAD_USER_INPUT"));
    }
    return answer(r, out == APIGW_GQL_REFUSED && wants_graphql_response(r)
                  ? HTTP_BAD_REQUEST : HTTP_OK, response);
}
