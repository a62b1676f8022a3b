/* The management API of runtime routes: `SetHandler apigw-admin` in a
 * <Location> (protected by httpd's own Require and auth modules). This
 * file owns its HTTP side: the startup checks of the locations, paths
 * relative to the location, methods, cross-site checks, request bodies,
 * and the REST resources' JSON answers and errors naming the field (for
 * routes, environments and API keys). The
 * operations themselves (model, store, audit) are apigw_admin_ops.c's,
 * shared with the GraphQL resource (apigw_admin_graphql.c); the console's
 * files are apigw_console.c's.
 *
 *   GET    routes?environment=E     the routes of E (default "default")
 *   POST   routes                   register one (201, Location)
 *   DELETE routes?environment=E     delete all of E's routes
 *   GET    routes/ID                one route
 *   PUT    routes/ID                replace it (id and createdAt kept)
 *   PATCH  routes/ID                change the fields given
 *   DELETE routes/ID                delete it
 *   GET    environments             their names
 *   POST   environments             {"name","from","copyRoutes"}
 *   DELETE environments/NAME        delete it and its routes
 *   GET    apikeys                  {"apiKeys":[...]}: names, roles, times
 *   POST   apikeys                  {"name","roles"}: 201 with the new key,
 *                                   shown this once
 *   DELETE apikeys/NAME             revoke it (204)
 *   GET, POST graphql               the GraphQL API
 *   GET    /  console/FILE          the console (the location without its
 *                                   '/' is redirected to it)
 */
#include "apigw_admin.h"
#include "apigw_admin_graphql.h"
#include "apigw_admin_ops.h"
#include "apigw_console.h"
#include "apigw_config.h"
#include "apigw_rt_model.h"
#include "apigw_route_store.h"
#include "apigw_json.h"
#include "apigw_log.h"

#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "apr_strings.h"
#include "unixd.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>

APLOG_USE_MODULE(apigw);

#define DEFAULT_STORE_FILE "apigw-routes.sqlite"

static const char *store_spec;           /* this generation's */
static apr_array_header_t *admin_prefixes;  /* const char *: <Location>s */

/* ---- startup ---- */

/* The children open a SQLite store as httpd's User: its folder must be
 * theirs to write (the database, its -wal and -shm files). Says so at
 * startup when it is clearly not; only a root parent can tell. */
static void check_sqlite_folder(apr_pool_t *p, server_rec *s)
{
    char *dir;
    struct stat st;

    if (geteuid() != 0 || strncmp(store_spec, "sqlite3:", 8) != 0) {
        return;
    }
    dir = apr_pstrdup(p, store_spec + 8);
    if (strrchr(dir, '/')) {
        *strrchr(dir, '/') = '\0';
    }
    if (!*dir || stat(dir, &st) != 0) {
        return;                       /* the open will say what is wrong */
    }
    if (st.st_uid == ap_unixd_config.user_id
        || (st.st_gid == ap_unixd_config.group_id && (st.st_mode & S_IWGRP))
        || (st.st_mode & S_IWOTH)) {
        return;
    }
    ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, APIGW_LOGNO(00707)
                 "the route store's folder %s is not writable by httpd's "
                 "User: the admin API will answer 503; set ApiRouteStore to "
                 "a file in a folder the User owns", dir);
}

const char *apigw_admin_store_spec(void)
{
    return store_spec;
}

int apigw_admin_in_use(void)
{
    return admin_prefixes && admin_prefixes->nelts > 0;
}

int apigw_admin_post_config(apr_pool_t *pconf, server_rec *s)
{
    apigw_server_conf *sc = ap_get_module_config(s->module_config,
                                                 &apigw_module);

    store_spec = sc->route_store;
    if (!store_spec) {
        const char *file = ap_runtime_dir_relative(pconf, DEFAULT_STORE_FILE);
        store_spec = file ? apr_pstrcat(pconf, "sqlite3:", file, NULL) : NULL;
    }
    if (store_spec && admin_prefixes && admin_prefixes->nelts
        && ap_state_query(AP_SQ_MAIN_STATE) != AP_SQ_MS_CREATE_PRE_CONFIG) {
        check_sqlite_folder(pconf, s);
    }
    return apigw_admin_in_use() ? apigw_admin_graphql_post_config(pconf, s)
                                : OK;
}

/* Do SetHandler's arguments (as written, maybe quoted) name ours? */
static int is_admin_handler(apr_pool_t *p, const char *args)
{
    return ap_cstr_casecmp(ap_getword_conf(p, &args),
                           APIGW_ADMIN_HANDLER) == 0;
}

/* Does section (a <Location>-like block) set the admin handler, and does
 * it say who may use it? */
static void admin_section(apr_pool_t *p, const ap_directive_t *section,
                          int *admin, int *guarded)
{
    const ap_directive_t *d;

    for (d = section->first_child; d; d = d->next) {
        if (ap_cstr_casecmp(d->directive, "SetHandler") == 0 && d->args
            && is_admin_handler(p, d->args)) {
            *admin = 1;
        }
        else if (ap_cstr_casecmp(d->directive, "Require") == 0
                 || ap_cstr_casecmpn(d->directive, "<Require", 8) == 0
                 || ap_cstr_casecmp(d->directive, "AuthType") == 0) {
            *guarded = 1;
        }
    }
}

/* The path of a <Location "PATH"> section, or NULL for any other
 * section (<LocationMatch>, <Location ~ ...>, <Directory>...). */
static const char *location_path(apr_pool_t *p, const ap_directive_t *d)
{
    char *args, *end;
    const char *path;

    if (ap_cstr_casecmp(d->directive, "<Location") != 0 || !d->args) {
        return NULL;
    }
    args = apr_pstrdup(p, d->args);
    if ((end = strrchr(args, '>')) != NULL) {
        *end = '\0';
    }
    path = ap_getword_conf(p, (const char **)&args);
    return *path == '/' ? path : NULL;
}

static void check_tree(apr_pool_t *p, const ap_directive_t *d, server_rec *s)
{
    for (; d; d = d->next) {
        int admin = 0, guarded = 0;

        if (d->first_child) {
            admin_section(p, d, &admin, &guarded);
            if (admin) {
                const char *path = location_path(p, d);
                if (path) {
                    APR_ARRAY_PUSH(admin_prefixes, const char *) = path;
                }
                else {
                    ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                                 APIGW_LOGNO(00706) "%s:%d: SetHandler "
                                 "apigw-admin belongs in a <Location "
                                 "\"/PATH\">: its resources are found "
                                 "under that path; here it answers 404",
                                 d->filename, d->line_num);
                }
            }
            if (admin && !guarded) {
                ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                             APIGW_LOGNO(00705) "%s:%d: SetHandler "
                             "apigw-admin in a section with no Require or "
                             "AuthType: anyone who reaches it can change "
                             "the routes; protect it with httpd's access "
                             "control", d->filename, d->line_num);
            }
            check_tree(p, d->first_child, s);
        }
    }
}

int apigw_admin_check_config(apr_pool_t *pconf, server_rec *s)
{
    admin_prefixes = apr_array_make(pconf, 2, sizeof(const char *));
    check_tree(pconf, ap_conftree, s);
    return OK;
}

void apigw_admin_child_init(apr_pool_t *pchild, server_rec *s)
{
    apigw_ops_child_init(pchild, s, store_spec);
}

/* ---- answers ---- */

int apigw_admin_answer(request_rec *r, int status, const char *type,
                       const char *json)
{
    r->status = status;
    ap_set_content_type(r, type);
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    apr_table_setn(r->headers_out, "X-Content-Type-Options", "nosniff");
    ap_set_content_length(r, (apr_off_t)strlen(json) + 1);
    if (!r->header_only) {
        ap_rputs(json, r);
        ap_rputs("\n", r);
    }
    return OK;
}

static int answer(request_rec *r, int status, const char *json)
{
    return apigw_admin_answer(r, status, "application/json", json);
}

/* The graphql resource answers its refusals as GraphQL errors. */
#define GRAPHQL_NOTE "apigw-admin-graphql"

static int fail(request_rec *r, int status, const char *message,
                const char *field)
{
    if (apr_table_get(r->notes, GRAPHQL_NOTE)) {
        return answer(r, status, apigw_admin_graphql_error(r->pool, message,
                      status == HTTP_FORBIDDEN ? "FORBIDDEN"
                      : status >= 500 ? "INTERNAL_SERVER_ERROR"
                      : "BAD_USER_INPUT"));
    }
    return answer(r, status, apr_psprintf(r->pool,
                  "{\"status\":%d,\"error\":%s%s%s}", status,
                  apigw_json_str(r->pool, message),
                  field ? ",\"field\":" : "",
                  field ? apigw_json_str(r->pool, field) : ""));
}

static int fail_model(request_rec *r, const apigw_rt_error *e)
{
    return fail(r, HTTP_BAD_REQUEST, e->field && *e->field
                ? apr_pstrcat(r->pool, e->field, ": ", e->message, NULL)
                : e->message, e->field && *e->field ? e->field : NULL);
}

static int fail_ops(request_rec *r, const apigw_ops_error *e)
{
    static const int status[] = { 0, HTTP_BAD_REQUEST, HTTP_NOT_FOUND,
                                  HTTP_CONFLICT, HTTP_SERVICE_UNAVAILABLE,
                                  HTTP_INTERNAL_SERVER_ERROR };

    return fail(r, status[e->code], e->message, e->field);
}

/* ---- the request ---- */

/* Is host (a Host field: name or address, maybe a port) a name of r's
 * server (ServerName, ServerAlias, localhost) or the address the client
 * reached?
 * A page of another site that rebinds its own name to this address sends
 * its own name in Host: that is not ours. */
static int host_is_ours(request_rec *r, const char *host)
{

    const server_rec *s = r->server;
    const char *colon = host[0] == '[' ? strchr(host, ']') : host;
    char *name;
    int i;

    colon = colon ? strrchr(colon, ':') : NULL;
    name = colon ? apr_pstrmemdup(r->pool, host, (apr_size_t)(colon - host))
                 : apr_pstrdup(r->pool, host);
    if (name[0] == '[') {                   /* [::1] */
        apr_size_t n = strlen(name);
        name = apr_pstrmemdup(r->pool, name + 1, n > 2 ? n - 2 : 0);
    }
    if ((s->server_hostname && ap_cstr_casecmp(name, s->server_hostname) == 0)
        || ap_cstr_casecmp(name, r->connection->local_ip) == 0
        || ap_cstr_casecmp(name, "localhost") == 0) {
        return 1;
    }
    for (i = 0; s->names && i < s->names->nelts; i++) {
        if (ap_cstr_casecmp(name, APR_ARRAY_IDX(s->names, i, char *)) == 0) {
            return 1;
        }
    }
    for (i = 0; s->wild_names && i < s->wild_names->nelts; i++) {
        if (!ap_strcasecmp_match(name, APR_ARRAY_IDX(s->wild_names, i,
                                                     char *))) {
            return 1;
        }
    }
    return 0;
}

/* Writes must come from the admin's own origin (a browser sends Origin
 * on every cross-site write: it must name this server as the client
 * reached it) and carry JSON, which no HTML form can. */
static int cross_site(request_rec *r, int has_body)
{
    const char *origin = apr_table_get(r->headers_in, "Origin");
    const char *host = apr_table_get(r->headers_in, "Host");
    const char *type;

    if (origin) {
        const char *own = host ? apr_pstrcat(r->pool, ap_http_scheme(r),
                                             "://", host, NULL) : NULL;
        if (!own || ap_cstr_casecmp(origin, own) != 0
            || !host_is_ours(r, host)) {
            return fail(r, HTTP_FORBIDDEN, "cross-site write refused: the "
                        "Origin is not this admin API's", NULL);
        }
    }
    if (has_body) {
        type = apr_table_get(r->headers_in, "Content-Type");
        if (!type || ap_cstr_casecmpn(type, "application/json", 16) != 0
            || (type[16] && type[16] != ';' && type[16] != ' ')) {
            return fail(r, HTTP_UNSUPPORTED_MEDIA_TYPE, "the body must be "
                        "application/json", NULL);
        }
    }
    return OK;
}

/* The request body, at most max bytes. */
static int read_body(request_rec *r, apr_size_t max, char **buf,
                     apr_size_t *len)
{
    apr_size_t cap = 8192, n = 0;
    char *b;
    long got;
    int rc;

    if ((rc = ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK)) != OK) {
        return rc;
    }
    if (r->remaining > (apr_off_t)max) {
        r->connection->keepalive = AP_CONN_CLOSE;
        return HTTP_REQUEST_ENTITY_TOO_LARGE;
    }
    if (r->remaining > 0) {
        cap = (apr_size_t)r->remaining + 1;   /* one more: the end is seen */
    }
    b = apr_palloc(r->pool, cap + 1);
    if (ap_should_client_block(r)) {
        while ((got = ap_get_client_block(r, b + n, cap - n)) > 0) {
            n += (apr_size_t)got;
            if (n > max) {
                r->connection->keepalive = AP_CONN_CLOSE;
                return HTTP_REQUEST_ENTITY_TOO_LARGE;
            }
            if (n == cap) {
                char *bigger = apr_palloc(r->pool, cap * 2 + 1);
                memcpy(bigger, b, n);
                b = bigger;
                cap *= 2;
            }
        }
        if (got < 0) {
            return HTTP_BAD_REQUEST;
        }
    }
    b[n] = '\0';
    *buf = b;
    *len = n;
    return OK;
}

static int body_of(request_rec *r, apr_size_t max, char **buf,
                   apr_size_t *len)
{
    int rc = read_body(r, max, buf, len);

    if (rc == HTTP_REQUEST_ENTITY_TOO_LARGE) {
        return fail(r, rc, apr_psprintf(r->pool, "the body is larger than "
                    "%" APR_SIZE_T_FMT " bytes", max), NULL);
    }
    if (rc != OK) {
        return fail(r, HTTP_BAD_REQUEST, "the body cannot be read", NULL);
    }
    return OK;
}

/* The value of query argument name (decoded), NULL when absent, "" when
 * it cannot be decoded (or decodes to a '/'). */
static const char *query_arg(request_rec *r, const char *name)
{
    apr_size_t nlen = strlen(name);
    const char *a = r->args;

    while (a && *a) {
        const char *end = strchr(a, '&');
        apr_size_t len = end ? (apr_size_t)(end - a) : strlen(a);
        if (len > nlen && strncmp(a, name, nlen) == 0 && a[nlen] == '=') {
            char *v = apr_pstrmemdup(r->pool, a + nlen + 1, len - nlen - 1);
            char *s;
            for (s = v; *s; s++) {
                if (*s == '+') {
                    *s = ' ';
                }
            }
            return ap_unescape_url(v) == OK && !strchr(v, '/') ? v : "";
        }
        a = end ? end + 1 : NULL;
    }
    return NULL;
}

/* The environment= argument, "default" when absent; NULL (answered 400)
 * when it is not a valid environment name. */
static const char *environment_arg(request_rec *r)
{
    const char *e = query_arg(r, "environment");
    const apigw_rt_error *err;

    if (!e) {
        return APIGW_ROUTE_STORE_DEFAULT_ENV;
    }
    if ((err = apigw_rt_environment_check(r->pool, e)) != NULL) {
        fail(r, HTTP_BAD_REQUEST, apr_pstrcat(r->pool, "environment ",
             err->message, NULL), "environment");
        return NULL;
    }
    return e;
}

/* ---- routes ---- */

static int list_routes(request_rec *r, apigw_route_store *st)
{
    const char *env = environment_arg(r);
    const apigw_ops_error *e;
    apr_array_header_t *routes, *parts;
    int i;

    if (!env) {
        return OK;
    }
    if ((e = apigw_ops_routes(r, st, env, &routes)) != NULL) {
        return fail_ops(r, e);
    }
    parts = apr_array_make(r->pool, routes->nelts + 1, sizeof(const char *));
    for (i = 0; i < routes->nelts; i++) {
        APR_ARRAY_PUSH(parts, const char *) = apigw_rt_route_encode(r->pool,
            APR_ARRAY_IDX(routes, i, apigw_rt_route *));
    }
    return answer(r, HTTP_OK, apr_pstrcat(r->pool, "[",
                  apr_array_pstrcat(r->pool, parts, ','), "]", NULL));
}

static int register_route(request_rec *r, apigw_route_store *st,
                          const char *body, apr_size_t len)
{
    const apigw_ops_error *oe;
    const apigw_rt_error *e;
    apigw_rt_route *route;

    if ((e = apigw_rt_route_decode(r->pool, body, len, apigw_ops_checks(),
                                   &route))) {
        return fail_model(r, e);
    }
    if ((oe = apigw_ops_register(r, st, route)) != NULL) {
        return fail_ops(r, oe);
    }
    apr_table_setn(r->headers_out, "Location",
                   apr_pstrcat(r->pool, ap_escape_uri(r->pool, r->uri),
                               r->uri[strlen(r->uri) - 1] == '/' ? "" : "/",
                               route->id, NULL));
    return answer(r, HTTP_CREATED, apigw_rt_route_encode(r->pool, route));
}

static int delete_environment_routes(request_rec *r, apigw_route_store *st)
{
    const apigw_ops_error *e;
    const char *env;
    int deleted = 0;

    /* never by default: an empty id in a script's "routes/$ID" must not
     * empty an environment */
    if (!query_arg(r, "environment")) {
        return fail(r, HTTP_BAD_REQUEST, "environment: deleting routes "
                    "needs ?environment=NAME", "environment");
    }
    if (!(env = environment_arg(r))) {
        return OK;
    }
    if ((e = apigw_ops_delete_routes_of(r, st, env, &deleted)) != NULL) {
        return fail_ops(r, e);
    }
    return answer(r, HTTP_OK, apr_psprintf(r->pool, "{\"deletedCount\":%d}",
                                           deleted));
}

static int change_route(request_rec *r, apigw_route_store *st,
                        const char *id, int whole, const char *body,
                        apr_size_t len)
{
    apigw_rt_route *old, *route;
    const apigw_ops_error *oe;
    const apigw_rt_error *e;

    if ((oe = apigw_ops_route(r, st, id, &old)) != NULL) {
        return fail_ops(r, oe);
    }
    if (whole) {
        if ((e = apigw_rt_route_decode(r->pool, body, len,
                                       apigw_ops_checks(), &route))) {
            return fail_model(r, e);
        }
        route->id = old->id;
        route->created_at = old->created_at;
    }
    else if ((e = apigw_rt_route_patch(r->pool, old, body, len,
                                       apigw_ops_checks(),
                                       &route)) != NULL) {
        return fail_model(r, e);
    }
    if ((oe = apigw_ops_save(r, st, route, whole ? "replaced route"
                                                 : "changed route"))) {
        return fail_ops(r, oe);
    }
    return answer(r, HTTP_OK, apigw_rt_route_encode(r->pool, route));
}

static int one_route(request_rec *r, apigw_route_store *st, const char *id,
                     const char *body, apr_size_t len)
{
    const apigw_ops_error *e;
    apigw_rt_route *route;

    switch (r->method_number) {
    case M_GET:
        if ((e = apigw_ops_route(r, st, id, &route)) != NULL) {
            return fail_ops(r, e);
        }
        return answer(r, HTTP_OK, apigw_rt_route_encode(r->pool, route));
    case M_PUT:
        return change_route(r, st, id, 1, body, len);
    case M_PATCH:
        return change_route(r, st, id, 0, body, len);
    default:                        /* DELETE: method_allowed said so */
        if ((e = apigw_ops_delete(r, st, id)) != NULL) {
            return fail_ops(r, e);
        }
        return answer(r, HTTP_OK, "{\"deletedCount\":1}");
    }
}

static int routes(request_rec *r, apigw_route_store *st, const char *body,
                  apr_size_t len)
{
    switch (r->method_number) {
    case M_GET:
        return list_routes(r, st);
    case M_POST:
        return register_route(r, st, body, len);
    default:                        /* DELETE */
        return delete_environment_routes(r, st);
    }
}

/* ---- environments ---- */

static int list_environments(request_rec *r, apigw_route_store *st)
{
    const apigw_ops_error *e;
    apr_array_header_t *names, *parts;
    int i;

    if ((e = apigw_ops_environments(r, st, &names)) != NULL) {
        return fail_ops(r, e);
    }
    parts = apr_array_make(r->pool, names->nelts + 1, sizeof(const char *));
    for (i = 0; i < names->nelts; i++) {
        APR_ARRAY_PUSH(parts, const char *) = apr_pstrcat(r->pool,
            "{\"name\":", apigw_json_str(r->pool, APR_ARRAY_IDX(names, i,
                                                                const char *)),
            "}", NULL);
    }
    return answer(r, HTTP_OK, apr_pstrcat(r->pool, "[",
                  apr_array_pstrcat(r->pool, parts, ','), "]", NULL));
}

/* {"name": N, "from": F or null, "copyRoutes": bool}; NULL or the
 * problem, with *field. */
static const char *environment_body(request_rec *r, const char *body,
                                    apr_size_t len, const char **name,
                                    const char **from, int *copy,
                                    const char **field)
{
    json_error_t jerr;
    json_t *doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    const char *key, *problem = NULL;
    json_t *v;

    *name = *from = NULL;
    *copy = 0;
    *field = NULL;
    if (!doc || !json_is_object(doc)) {
        json_decref(doc);
        return "the body must be a JSON object";
    }
    json_object_foreach(doc, key, v) {
        if (strcmp(key, "name") == 0 && json_is_string(v)) {
            *name = apr_pstrdup(r->pool, json_string_value(v));
        }
        else if (strcmp(key, "from") == 0 && (json_is_string(v)
                                              || json_is_null(v))) {
            *from = json_is_string(v) ? apr_pstrdup(r->pool,
                                                    json_string_value(v))
                                      : NULL;
        }
        else if (strcmp(key, "copyRoutes") == 0 && json_is_boolean(v)) {
            *copy = json_is_true(v);
        }
        else {
            *field = apr_pstrdup(r->pool, key);
            problem = strcmp(key, "name") == 0 || strcmp(key, "from") == 0
                      || strcmp(key, "copyRoutes") == 0
                      ? "has the wrong type" : "is not a field of an "
                                               "environment";
            break;
        }
    }
    json_decref(doc);
    if (problem) {
        return problem;
    }
    if (!*name) {
        *field = "name";
        return "is required";
    }
    return NULL;
}

static int create_environment(request_rec *r, apigw_route_store *st,
                              const char *body, apr_size_t len)
{
    const char *name, *from, *field, *problem;
    const apigw_ops_error *e;
    int copy, copied = 0;

    problem = environment_body(r, body, len, &name, &from, &copy, &field);
    if (problem) {
        return fail(r, HTTP_BAD_REQUEST, field ? apr_pstrcat(r->pool, field,
                    " ", problem, NULL) : problem, field);
    }
    e = apigw_ops_create_environment(r, st, name, from, copy, &copied);
    if (e) {
        return fail_ops(r, e);
    }
    return answer(r, HTTP_CREATED, apr_psprintf(r->pool, "{\"name\":%s,"
                  "\"copiedRoutes\":%d}", apigw_json_str(r->pool, name),
                  copied));
}

static int environments(request_rec *r, apigw_route_store *st,
                        const char *name, const char *body, apr_size_t len)
{
    const apigw_ops_error *e;
    int deleted = 0;

    if (name) {                     /* DELETE: method_allowed said so */
        if ((e = apigw_ops_delete_environment(r, st, name, &deleted))) {
            return fail_ops(r, e);
        }
        return answer(r, HTTP_OK, apr_psprintf(r->pool,
                      "{\"deletedCount\":%d}", deleted));
    }
    if (r->method_number == M_GET) {
        return list_environments(r, st);
    }
    return create_environment(r, st, body, len);
}

/* ---- API keys ---- */

static int list_apikeys(request_rec *r, apigw_route_store *st)
{
    const apigw_ops_error *e;
    apr_array_header_t *keys;
    json_t *list, *doc;
    char *text;
    int i, rc;

    if ((e = apigw_ops_apikeys(r, st, &keys)) != NULL) {
        return fail_ops(r, e);
    }
    list = json_array();
    for (i = 0; i < keys->nelts; i++) {
        json_array_append_new(list, apigw_ops_apikey_json(r->pool,
                              APR_ARRAY_IDX(keys, i, apigw_ops_apikey *)));
    }
    doc = json_pack("{s:o}", "apiKeys", list);
    text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (!text) {
        return fail(r, HTTP_INTERNAL_SERVER_ERROR, "the API keys cannot be "
                    "written", NULL);
    }
    rc = answer(r, HTTP_OK, apr_pstrdup(r->pool, text));
    free(text);
    return rc;
}

/* The roles member: an array of strings, or null for none. NULL or the
 * problem, with *field. */
static const char *apikey_roles(request_rec *r, json_t *v,
                                apr_array_header_t **roles,
                                const char **field)
{
    size_t i;
    json_t *role;

    *roles = NULL;
    if (json_is_null(v)) {
        return NULL;
    }
    if (!json_is_array(v)) {
        *field = "roles";
        return "must be an array of strings";
    }
    *roles = apr_array_make(r->pool, (int)json_array_size(v) + 1,
                            sizeof(const char *));
    json_array_foreach(v, i, role) {
        if (!json_is_string(role)) {
            *field = apr_psprintf(r->pool, "roles[%d]", (int)i);
            return "must be a string";
        }
        APR_ARRAY_PUSH(*roles, const char *) =
            apr_pstrdup(r->pool, json_string_value(role));
    }
    return NULL;
}

/* {"name": N, "roles": [R, ...] or null (default: none)}; NULL or the
 * problem, with *field (the checks of name and roles are the
 * operation's). */
static const char *apikey_body(request_rec *r, const char *body,
                               apr_size_t len, const char **name,
                               apr_array_header_t **roles,
                               const char **field)
{
    json_error_t jerr;
    json_t *doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    const char *key, *problem = NULL;
    json_t *v;

    *name = NULL;
    *roles = NULL;
    *field = NULL;
    if (!doc || !json_is_object(doc)) {
        json_decref(doc);
        return "the body must be a JSON object {\"name\", \"roles\"}";
    }
    json_object_foreach(doc, key, v) {
        if (strcmp(key, "name") == 0) {
            if (!json_is_string(v)) {
                *field = "name";
                problem = "must be a string";
                break;
            }
            *name = apr_pstrdup(r->pool, json_string_value(v));
        }
        else if (strcmp(key, "roles") == 0) {
            if ((problem = apikey_roles(r, v, roles, field)) != NULL) {
                break;
            }
        }
        else {
            *field = apr_pstrdup(r->pool, key);
            problem = "is not a field of an API key";
            break;
        }
    }
    json_decref(doc);
    if (!problem && !*name) {
        *field = "name";
        problem = "is required";
    }
    return problem;
}

static int create_apikey(request_rec *r, apigw_route_store *st,
                         const char *body, apr_size_t len)
{
    const char *name, *field, *problem;
    const apigw_ops_error *e;
    apr_array_header_t *roles;
    apigw_ops_apikey *k;
    json_t *doc;
    char *text;
    int rc;

    problem = apikey_body(r, body, len, &name, &roles, &field);
    if (problem) {
        return fail(r, HTTP_BAD_REQUEST, field ? apr_pstrcat(r->pool, field,
                    ": ", problem, NULL) : problem, field);
    }
    if ((e = apigw_ops_create_apikey(r, st, name, roles, &k)) != NULL) {
        return fail_ops(r, e);
    }
    doc = apigw_ops_apikey_json(r->pool, k);
    text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (!text) {
        /* stored, but its key cannot be shown: it is of no use */
        return fail(r, HTTP_INTERNAL_SERVER_ERROR, "the new API key cannot "
                    "be written; revoke it and create another", NULL);
    }
    apr_table_setn(r->headers_out, "Location",
                   apr_pstrcat(r->pool, ap_escape_uri(r->pool, r->uri),
                               r->uri[strlen(r->uri) - 1] == '/' ? "" : "/",
                               name, NULL));
    rc = answer(r, HTTP_CREATED, apr_pstrdup(r->pool, text));
    OPENSSL_cleanse(text, strlen(text));
    free(text);
    return rc;
}

static int apikeys(request_rec *r, apigw_route_store *st, const char *name,
                   const char *body, apr_size_t len)
{
    const apigw_ops_error *e;

    if (name) {                     /* DELETE: method_allowed said so */
        if ((e = apigw_ops_revoke_apikey(r, st, name)) != NULL) {
            return fail_ops(r, e);
        }
        r->status = HTTP_NO_CONTENT;
        apr_table_setn(r->headers_out, "Cache-Control", "no-store");
        return OK;
    }
    if (r->method_number == M_GET) {
        return list_apikeys(r, st);
    }
    return create_apikey(r, st, body, len);
}

/* ---- dispatch ---- */

/* The admin <Location> r is under: the longest of them that is a prefix
 * of r->uri at a segment boundary; NULL when none is. */
static const char *admin_base(const request_rec *r)
{
    const char *best = NULL;
    apr_size_t best_len = 0;
    int i;

    for (i = 0; admin_prefixes && i < admin_prefixes->nelts; i++) {
        const char *pre = APR_ARRAY_IDX(admin_prefixes, i, const char *);
        apr_size_t n = strlen(pre);
        while (n > 1 && pre[n - 1] == '/') {
            n--;
        }
        if (strncmp(r->uri, pre, n) == 0
            && (r->uri[n] == '/' || r->uri[n] == '\0' || n == 1)
            && (!best || n > best_len)) {
            best = pre;
            best_len = n;
        }
    }
    return best ? apr_pstrmemdup(r->pool, best, best_len) : NULL;
}

typedef enum {
    RES_NONE = 0,
    RES_ROUTES,            /* routes, routes/ID */
    RES_ENVIRONMENTS,      /* environments, environments/NAME */
    RES_APIKEYS,           /* apikeys, apikeys/NAME */
    RES_GRAPHQL,           /* graphql */
    RES_CONSOLE,           /* the base with a '/' (the page), console/NAME */
    RES_BARE               /* the base without its '/': redirected */
} resource;

/* What r's path names relative to its admin location, and the item
 * (a route id, an environment or a console file; NULL for none). */
static resource sub_path(request_rec *r, const char **item)
{
    const char *base = admin_base(r), *rel, *slash;
    apr_size_t n;
    resource res;

    *item = NULL;
    if (!base) {
        return RES_NONE;
    }
    rel = r->uri + (strcmp(base, "/") == 0 ? 0 : strlen(base));
    if (*rel != '/') {
        return *rel ? RES_NONE : RES_BARE;
    }
    rel++;
    if (!*rel) {
        return RES_CONSOLE;
    }
    slash = strchr(rel, '/');
    n = slash ? (apr_size_t)(slash - rel) : strlen(rel);
    if (n == 6 && strncmp(rel, "routes", 6) == 0) {
        res = RES_ROUTES;
    }
    else if (n == 12 && strncmp(rel, "environments", 12) == 0) {
        res = RES_ENVIRONMENTS;
    }
    else if (n == 7 && strncmp(rel, "apikeys", 7) == 0) {
        res = RES_APIKEYS;
    }
    else if (n == 7 && strncmp(rel, "graphql", 7) == 0) {
        return slash && slash[1] ? RES_NONE : RES_GRAPHQL;
    }
    else if (n == 7 && strncmp(rel, "console", 7) == 0 && slash
             && slash[1] && !strchr(slash + 1, '/')) {
        *item = slash + 1;
        return RES_CONSOLE;
    }
    else {
        return RES_NONE;
    }
    if (!slash || !slash[1]) {
        return res;
    }
    rel = slash + 1;
    slash = strchr(rel, '/');
    if (slash && slash[1]) {
        return RES_NONE;            /* deeper than an item */
    }
    *item = slash ? apr_pstrmemdup(r->pool, rel, (apr_size_t)(slash - rel))
                  : rel;
    return res;
}

int apigw_admin_is_graphql(request_rec *r)
{
    const char *item;

    return r->uri && r->uri[0] == '/' && sub_path(r, &item) == RES_GRAPHQL;
}

/* The methods a resource takes, as an Allow field. */
static const char *allowed(resource res, const char *item)
{
    switch (res) {
    case RES_ROUTES:
        return item ? "GET, PUT, PATCH, DELETE" : "GET, POST, DELETE";
    case RES_ENVIRONMENTS:
    case RES_APIKEYS:
        return item ? "DELETE" : "GET, POST";
    case RES_GRAPHQL:
        return "GET, POST";
    default:
        return "GET";
    }
}

static int method_allowed(const request_rec *r, const char *allow)
{
    const char *m = r->method_number == M_GET && r->header_only ? "GET"
                                                                 : r->method;
    apr_size_t n = strlen(m);
    const char *a;

    for (a = allow; (a = strstr(a, m)) != NULL; a += n) {
        if ((a == allow || a[-1] == ' ') && (a[n] == ',' || !a[n])) {
            return 1;
        }
    }
    return 0;
}

static int is_write(const request_rec *r)
{
    return r->method_number == M_POST || r->method_number == M_PUT
        || r->method_number == M_PATCH || r->method_number == M_DELETE;
}

static int rest(request_rec *r, resource res, const char *item,
                const char *body, apr_size_t len)
{
    const apigw_ops_error *e;
    apigw_route_store *st;
    int rc;

    if ((e = apigw_ops_store_take(r, &st)) != NULL) {
        return fail_ops(r, e);
    }
    if (res == RES_ROUTES) {
        rc = item ? one_route(r, st, item, body, len)
                  : routes(r, st, body, len);
    }
    else if (res == RES_APIKEYS) {
        rc = apikeys(r, st, item, body, len);
    }
    else {
        rc = environments(r, st, item, body, len);
    }
    apigw_ops_store_give();
    return rc;
}

/* The page and its files; the base without its '/' is sent to the base
 * with it, so the page's relative links resolve under the base. */
static int console(request_rec *r, resource res, const char *item)
{
    int rc;

    if (res == RES_BARE) {
        apr_table_setn(r->headers_out, "Location", apr_pstrcat(r->pool,
                       ap_escape_uri(r->pool, r->uri), "/", NULL));
        return HTTP_MOVED_PERMANENTLY;
    }
    rc = apigw_console_answer(r, item ? item : "");
    if (rc == HTTP_NOT_FOUND) {
        return fail(r, HTTP_NOT_FOUND, "no such console file", NULL);
    }
    return rc;
}

int apigw_admin_handler(request_rec *r)
{
    const char *item, *host;
    char *body = NULL;
    apr_size_t len = 0;
    int rc, has_body;
    resource res;

    if (!r->handler || strcmp(r->handler, APIGW_ADMIN_HANDLER) != 0) {
        return DECLINED;
    }
    if ((res = sub_path(r, &item)) == RES_NONE) {
        return fail(r, HTTP_NOT_FOUND, "no such admin resource: use "
                    "routes, environments, apikeys or graphql", NULL);
    }
    if (res == RES_GRAPHQL) {
        apr_table_setn(r->notes, GRAPHQL_NOTE, "1");
    }
    /* a page that rebinds its own name to this address must not read
     * the routes either */
    if ((host = apr_table_get(r->headers_in, "Host")) != NULL
        && !host_is_ours(r, host)) {
        return fail(r, HTTP_FORBIDDEN, "this admin API answers to its own "
                    "host names only", NULL);
    }
    if (!method_allowed(r, allowed(res, item))) {
        apr_table_setn(r->headers_out, "Allow", allowed(res, item));
        return fail(r, HTTP_METHOD_NOT_ALLOWED, apr_pstrcat(r->pool,
                    "use ", allowed(res, item), " here", NULL), NULL);
    }
    if (res == RES_CONSOLE || res == RES_BARE) {
        return console(r, res, item);
    }
    has_body = r->method_number == M_POST || r->method_number == M_PUT
               || r->method_number == M_PATCH;
    if (is_write(r)) {
        rc = cross_site(r, has_body);
        if (rc != OK || r->status != HTTP_OK) {
            return rc;
        }
    }
    /* the body is read before the store is taken: a slow client holds
     * no other admin request of this child */
    if (has_body && ((rc = body_of(r, res == RES_GRAPHQL
                                      ? APIGW_GQL_MAX_BODY
                                      : APIGW_RT_MAX_BODY, &body, &len)) != OK
                     || r->status != HTTP_OK)) {
        return rc;
    }
    if (res == RES_GRAPHQL) {
        return apigw_admin_graphql(r, body, len);
    }
    return rest(r, res, item, body, len);
}
