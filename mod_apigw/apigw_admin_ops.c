/* The operations of the management API (see apigw_admin_ops.h): the
 * child's route store and its mutex, and each operation on routes,
 * environments and API keys (their checks, the making of a new key) as
 * the REST and the GraphQL sides both run it. */
#include "apigw_admin_ops.h"
#include "apigw_apikey.h"
#include "apigw_config.h"
#include "apigw_rt_serve.h"
#include "apigw_log.h"

#include "http_log.h"
#include "apr_base64.h"
#include "apr_strings.h"
#include "apr_thread_mutex.h"

#include <openssl/crypto.h>

APLOG_USE_MODULE(apigw);

static const char *store_spec;           /* this generation's */
static apr_pool_t *store_pool;           /* the child's, its own allocator */
static apr_time_t store_failed;          /* the last failed open, or 0 */
static apr_thread_mutex_t *store_mutex;
static apigw_route_store *store;         /* NULL until opened */

/* ---- the store ---- */

void apigw_ops_child_init(apr_pool_t *pchild, server_rec *s,
                          const char *spec)
{
    apr_allocator_t *alloc = NULL;
    apr_status_t rv;

    store_spec = spec;
    store = NULL;
    store_failed = 0;
    store_pool = NULL;
    /* the store is used by request threads under store_mutex only: a
     * pool of its own, never pchild's allocator, which other code uses
     * from request threads too */
    rv = apr_allocator_create(&alloc);
    if (rv == APR_SUCCESS) {
        rv = apr_pool_create_ex(&store_pool, pchild, NULL, alloc);
        if (rv == APR_SUCCESS) {
            apr_allocator_owner_set(alloc, store_pool);
        }
        else {
            apr_allocator_destroy(alloc);
        }
    }
    if (rv == APR_SUCCESS) {
        rv = apr_thread_mutex_create(&store_mutex, APR_THREAD_MUTEX_DEFAULT,
                                     pchild);
    }
    if (rv != APR_SUCCESS) {
        store_mutex = NULL;
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, APIGW_LOGNO(00701)
                     "admin API: no mutex for the route store; it answers "
                     "503 in this child");
    }
}

static const apigw_ops_error *failure(request_rec *r, apigw_ops_code code,
                                      const char *message, const char *field)
{
    apigw_ops_error *e = apr_palloc(r->pool, sizeof(*e));

    e->code = code;
    e->message = message;
    e->field = field;
    return e;
}

static const apigw_ops_error *unavailable(request_rec *r)
{
    return failure(r, APIGW_OPS_UNAVAILABLE, "the route store is "
                   "unavailable; try again", NULL);
}

/* Opens the store when this child has none (at most one attempt each
 * 200 ms after a failure). Under store_mutex. */
static const apigw_ops_error *open_store(request_rec *r)
{
    const apigw_route_store_error *se;
    apr_pool_t *sp;

    if (store) {
        return NULL;
    }
    if (!store_spec) {
        return failure(r, APIGW_OPS_UNAVAILABLE, "no route store: set "
                       "ApiRouteStore", NULL);
    }
    if (store_failed
        && apr_time_now() - store_failed < apr_time_from_msec(200)) {
        return unavailable(r);
    }
    apr_pool_create(&sp, store_pool);
    if ((se = apigw_route_store_open(sp, store_spec, &store)) != NULL) {
        store = NULL;
        store_failed = apr_time_now();
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, APIGW_LOGNO(00704)
                      "admin API: the route store cannot be opened: %s",
                      se->message);
        apr_pool_destroy(sp);         /* se's message was logged first */
        return unavailable(r);
    }
    store_failed = 0;
    return NULL;
}

const apigw_ops_error *apigw_ops_store_take(request_rec *r,
                                            apigw_route_store **st)
{
    const apigw_ops_error *e;

    *st = NULL;
    if (!store_mutex) {
        return failure(r, APIGW_OPS_UNAVAILABLE, "the admin API is "
                       "unavailable in this process", NULL);
    }
    apr_thread_mutex_lock(store_mutex);
    if ((e = open_store(r)) != NULL) {
        apr_thread_mutex_unlock(store_mutex);
        return e;
    }
    *st = store;
    return NULL;
}

void apigw_ops_store_give(void)
{
    apr_thread_mutex_unlock(store_mutex);
}

const apigw_rt_checks *apigw_ops_checks(void)
{
    return apigw_rt_serve_checks();
}

/* ---- errors and audit ---- */

static const apigw_ops_error *store_failure(request_rec *r,
                                            const apigw_route_store_error *e)
{
    switch (e->code) {
    case APIGW_RS_INVALID:
        return failure(r, APIGW_OPS_INVALID, e->message, NULL);
    case APIGW_RS_NOT_FOUND:
        return failure(r, APIGW_OPS_NOT_FOUND, e->message, NULL);
    case APIGW_RS_CONFLICT:
        return failure(r, APIGW_OPS_CONFLICT, e->message, NULL);
    default:
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, APIGW_LOGNO(00702)
                      "admin API: the route store failed: %s", e->message);
        return unavailable(r);
    }
}

/* A write of route: static endpoints always win, so a route that one
 * would shadow is refused (another route's collision is the store's
 * CONFLICT, inside the writing transaction). */
static const apigw_ops_error *write_failure(request_rec *r,
                                            const apigw_rt_route *route,
                                            const apigw_route_store_error *se)
{
    if (se->code == APIGW_RS_NOT_FOUND) {
        return failure(r, APIGW_OPS_NOT_FOUND, apr_psprintf(r->pool,
                       "environment: there is no environment %s",
                       route->environment), "environment");
    }
    if (se->code == APIGW_RS_CONFLICT) {
        return failure(r, APIGW_OPS_CONFLICT, se->message, "path");
    }
    return store_failure(r, se);
}

static const apigw_ops_error *shadowed(request_rec *r,
                                       const apigw_rt_route *route)
{
    const char *why = apigw_rt_serve_static_collision(r->pool,
                                                      ap_server_conf, route);

    return why ? failure(r, APIGW_OPS_CONFLICT, why, "path") : NULL;
}

static const apigw_ops_error *no_route(request_rec *r)
{
    return failure(r, APIGW_OPS_NOT_FOUND, "no such route", NULL);
}

void apigw_ops_audit(request_rec *r, const char *action, const char *what)
{
    ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r, APIGW_LOGNO(00700)
                  "admin API: %s %s by %s", action, what,
                  r->user ? r->user : "-");
}

/* A committed change of the store: audited, and every child told to
 * read the store again. */
static void changed(request_rec *r, const char *action, const char *what)
{
    apigw_rt_serve_changed();
    apigw_ops_audit(r, action, what);
}

static const char *route_text(request_rec *r, const apigw_rt_route *route)
{
    return apr_psprintf(r->pool, "%s (environment %s, %s)", route->id,
                        route->environment, route->path);
}

/* ---- routes ---- */

const apigw_ops_error *apigw_ops_routes(request_rec *r,
                                        apigw_route_store *st,
                                        const char *env,
                                        apr_array_header_t **routes)
{
    const apigw_route_store_error *se;
    apr_array_header_t *recs;
    apr_pool_t *scratch;
    int i;

    if ((se = apigw_route_store_list(st, r->pool, env, &recs)) != NULL) {
        return store_failure(r, se);
    }
    *routes = apr_array_make(r->pool, recs->nelts + 1,
                             sizeof(apigw_rt_route *));
    /* validation's own memory, reused from one route to the next */
    apr_pool_create(&scratch, r->pool);
    for (i = 0; i < recs->nelts; i++) {
        const apigw_route_record *rec = &APR_ARRAY_IDX(recs, i,
                                                       apigw_route_record);
        apigw_rt_route *route;
        const apigw_rt_error *e = apigw_rt_route_from_record(
            r->pool, scratch, rec, apigw_ops_checks(), &route);

        apr_pool_clear(scratch);
        if (e) {
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, APIGW_LOGNO(00703)
                          "admin API: stored route %s no longer validates "
                          "(%s: %s); left out", rec->id, e->field,
                          e->message);
            continue;
        }
        APR_ARRAY_PUSH(*routes, apigw_rt_route *) = route;
    }
    return NULL;
}

const apigw_ops_error *apigw_ops_route(request_rec *r, apigw_route_store *st,
                                       const char *id, apigw_rt_route **out)
{
    const apigw_route_store_error *se;
    const apigw_rt_error *e;
    apigw_route_record *rec;

    *out = NULL;
    if (!apigw_rt_is_uuid(id)) {
        return no_route(r);
    }
    if ((se = apigw_route_store_get(st, r->pool, id, &rec)) != NULL) {
        return store_failure(r, se);
    }
    if (!rec) {
        return no_route(r);
    }
    if ((e = apigw_rt_route_from_record(r->pool, NULL, rec,
                                        apigw_ops_checks(), out)) != NULL) {
        *out = NULL;
        return failure(r, APIGW_OPS_INTERNAL, apr_psprintf(r->pool,
                       "the stored route no longer validates (%s: %s)",
                       e->field, e->message), NULL);
    }
    return NULL;
}

const apigw_ops_error *apigw_ops_register(request_rec *r,
                                          apigw_route_store *st,
                                          apigw_rt_route *route)
{
    const apigw_route_store_error *se;
    const apigw_ops_error *e;
    apigw_route_record rec;

    if (!(route->id = apigw_rt_uuid(r->pool))) {
        return failure(r, APIGW_OPS_INTERNAL, "no random id", NULL);
    }
    route->created_at = route->updated_at = apr_time_now();
    if ((e = shadowed(r, route)) != NULL) {
        return e;
    }
    apigw_rt_route_to_record(r->pool, route, &rec);
    if ((se = apigw_route_store_insert(st, r->pool, &rec)) != NULL) {
        return write_failure(r, route, se);
    }
    changed(r, "registered route", route_text(r, route));
    return NULL;
}

const apigw_ops_error *apigw_ops_save(request_rec *r, apigw_route_store *st,
                                      apigw_rt_route *route,
                                      const char *action)
{
    const apigw_route_store_error *se;
    const apigw_ops_error *e;
    apigw_route_record rec;
    int found = 0;

    route->updated_at = apr_time_now();
    if (route->updated_at <= route->created_at) {
        route->updated_at = route->created_at + 1;
    }
    if ((e = shadowed(r, route)) != NULL) {
        return e;
    }
    apigw_rt_route_to_record(r->pool, route, &rec);
    if ((se = apigw_route_store_update(st, r->pool, &rec, &found))) {
        return write_failure(r, route, se);
    }
    if (!found) {
        return no_route(r);
    }
    changed(r, action, route_text(r, route));
    return NULL;
}

const apigw_ops_error *apigw_ops_delete(request_rec *r, apigw_route_store *st,
                                        const char *id)
{
    const apigw_route_store_error *se;
    int found = 0;

    if (!apigw_rt_is_uuid(id)) {
        return no_route(r);
    }
    if ((se = apigw_route_store_delete(st, r->pool, id, &found)) != NULL) {
        return store_failure(r, se);
    }
    if (!found) {
        return no_route(r);
    }
    changed(r, "deleted route", id);
    return NULL;
}

const apigw_ops_error *apigw_ops_delete_routes_of(request_rec *r,
                                                  apigw_route_store *st,
                                                  const char *env,
                                                  int *deleted)
{
    const apigw_route_store_error *se;
    const apigw_rt_error *e;

    *deleted = 0;
    if ((e = apigw_rt_environment_check(r->pool, env)) != NULL) {
        return failure(r, APIGW_OPS_INVALID, apr_pstrcat(r->pool,
                       "environment ", e->message, NULL), "environment");
    }
    se = apigw_route_store_delete_environment_routes(st, r->pool, env,
                                                     deleted);
    if (se) {
        return store_failure(r, se);
    }
    changed(r, "deleted the routes of environment", apr_psprintf(r->pool,
            "%s (%d)", env, *deleted));
    return NULL;
}

/* ---- environments ---- */

const apigw_ops_error *apigw_ops_environments(request_rec *r,
                                              apigw_route_store *st,
                                              apr_array_header_t **names)
{
    const apigw_route_store_error *se;

    if ((se = apigw_route_store_environments(st, r->pool, names))) {
        return store_failure(r, se);
    }
    return NULL;
}

const apigw_ops_error *apigw_ops_create_environment(request_rec *r,
                                                    apigw_route_store *st,
                                                    const char *name,
                                                    const char *from,
                                                    int copy, int *copied)
{
    const apigw_route_store_error *se;
    const apigw_rt_error *e;

    *copied = 0;
    if ((e = apigw_rt_environment_check(r->pool, name)) != NULL) {
        return failure(r, APIGW_OPS_INVALID, apr_pstrcat(r->pool, "name ",
                       e->message, NULL), "name");
    }
    if (copy && !from) {
        return failure(r, APIGW_OPS_INVALID, "copyRoutes needs from: the "
                       "environment to copy", "copyRoutes");
    }
    se = apigw_route_store_create_environment(st, r->pool, name, from,
                                              copy, apigw_rt_uuid, copied);
    if (se) {
        return store_failure(r, se);
    }
    changed(r, "created environment", apr_psprintf(r->pool, "%s (from %s, "
            "%d routes copied)", name, from ? from : "-", *copied));
    return NULL;
}

const apigw_ops_error *apigw_ops_delete_environment(request_rec *r,
                                                    apigw_route_store *st,
                                                    const char *name,
                                                    int *deleted)
{
    const apigw_route_store_error *se;

    *deleted = 0;
    if (apigw_rt_environment_check(r->pool, name)) {
        return failure(r, APIGW_OPS_NOT_FOUND, "no such environment", NULL);
    }
    se = apigw_route_store_delete_environment(st, r->pool, name, deleted);
    if (se) {
        return store_failure(r, se);
    }
    changed(r, "deleted environment", apr_psprintf(r->pool, "%s (%d routes)",
            name, *deleted));
    return NULL;
}

/* ---- API keys ---- */

#define APIKEY_NAME_RULE "1 to 64 characters of A-Z a-z 0-9 . _ @ -"

static int is_key_name(const char *s)
{
    apr_size_t n = 0;

    if (!s) {
        return 0;
    }
    for (; s[n]; n++) {
        char c = s[n];

        if (n == APIGW_OPS_APIKEY_MAX_NAME
            || !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
                 || (c >= '0' && c <= '9') || c == '.' || c == '_'
                 || c == '@' || c == '-')) {
            return 0;
        }
    }
    return n > 0;
}

/* roles checked, as the store keeps them: "a,b", "" for none. */
static const apigw_ops_error *roles_text(request_rec *r,
                                         const apr_array_header_t *roles,
                                         const char **csv)
{
    int i, j, n = roles ? roles->nelts : 0;

    *csv = "";
    if (n > APIGW_OPS_APIKEY_MAX_ROLES) {
        return failure(r, APIGW_OPS_INVALID, apr_psprintf(r->pool,
                       "roles: at most %d roles, not %d",
                       APIGW_OPS_APIKEY_MAX_ROLES, n), "roles");
    }
    for (i = 0; i < n; i++) {
        const char *role = APR_ARRAY_IDX(roles, i, const char *);
        const char *field = apr_psprintf(r->pool, "roles[%d]", i);

        if (!is_key_name(role)) {
            return failure(r, APIGW_OPS_INVALID, apr_pstrcat(r->pool, field,
                           ": a role is " APIKEY_NAME_RULE, NULL), field);
        }
        for (j = 0; j < i; j++) {
            if (strcmp(role, APR_ARRAY_IDX(roles, j, const char *)) == 0) {
                return failure(r, APIGW_OPS_INVALID, apr_psprintf(r->pool,
                               "%s: %s is given twice", field, role), field);
            }
        }
    }
    if (n > 0) {
        *csv = apr_array_pstrcat(r->pool, roles, ',');
    }
    return NULL;
}

/* The roles of the store's text: "" is none. */
static apr_array_header_t *roles_of(apr_pool_t *p, const char *csv)
{
    apr_array_header_t *roles = apr_array_make(p, 2, sizeof(const char *));
    char *copy = apr_pstrdup(p, csv), *last, *role;

    for (role = apr_strtok(copy, ",", &last); role;
         role = apr_strtok(NULL, ",", &last)) {
        APR_ARRAY_PUSH(roles, const char *) = role;
    }
    return roles;
}

/* A new key: the prefix and the base64url text (RFC 4648 section 5, no
 * padding) of APIGW_OPS_APIKEY_RANDOM_BYTES random bytes; NULL when the
 * system has no random bytes to give. The working copies are wiped. */
static const char *new_key(apr_pool_t *p)
{
    unsigned char raw[APIGW_OPS_APIKEY_RANDOM_BYTES];
    char text[2 * APIGW_OPS_APIKEY_RANDOM_BYTES];   /* base64 fits */
    const char *key = NULL;
    apr_size_t i;

    if (apr_generate_random_bytes(raw, sizeof(raw)) == APR_SUCCESS) {
        apr_base64_encode_binary(text, raw, (int)sizeof(raw));
        for (i = 0; text[i] && text[i] != '='; i++) {
            text[i] = text[i] == '+' ? '-' : text[i] == '/' ? '_' : text[i];
        }
        text[i] = '\0';
        key = apr_pstrcat(p, APIGW_OPS_APIKEY_PREFIX, text, NULL);
    }
    OPENSSL_cleanse(raw, sizeof(raw));
    OPENSSL_cleanse(text, sizeof(text));
    return key;
}

const apigw_ops_error *apigw_ops_apikeys(request_rec *r,
                                         apigw_route_store *st,
                                         apr_array_header_t **keys)
{
    const apigw_route_store_error *se;
    apr_array_header_t *recs;
    int i;

    *keys = NULL;
    if ((se = apigw_route_store_apikeys(st, r->pool, &recs)) != NULL) {
        return store_failure(r, se);
    }
    *keys = apr_array_make(r->pool, recs->nelts + 1,
                           sizeof(apigw_ops_apikey *));
    for (i = 0; i < recs->nelts; i++) {
        const apigw_apikey_record *rec = &APR_ARRAY_IDX(recs, i,
                                                        apigw_apikey_record);
        apigw_ops_apikey *k = apr_pcalloc(r->pool, sizeof(*k));

        k->name = rec->name;
        k->roles = roles_of(r->pool, rec->roles);
        k->created_at = rec->created_at;
        APR_ARRAY_PUSH(*keys, apigw_ops_apikey *) = k;
    }
    return NULL;
}

const apigw_ops_error *apigw_ops_create_apikey(request_rec *r,
                                               apigw_route_store *st,
                                               const char *name,
                                               const apr_array_header_t *roles,
                                               apigw_ops_apikey **out)
{
    const apigw_route_store_error *se;
    const apigw_ops_error *e;
    apigw_apikey_record rec;
    apigw_ops_apikey *k;
    const char *key;

    *out = NULL;
    if (!is_key_name(name)) {
        return failure(r, APIGW_OPS_INVALID, "name: an API key's name is "
                       APIKEY_NAME_RULE, "name");
    }
    if ((e = roles_text(r, roles, &rec.roles)) != NULL) {
        return e;
    }
    if (!(key = new_key(r->pool))) {
        return failure(r, APIGW_OPS_INTERNAL, "no random bytes for a new "
                       "API key", NULL);
    }
    rec.name = name;
    rec.hash = apigw_apikey_hash_hex(r->pool, key, strlen(key));
    rec.created_at = apr_time_now();
    if (!rec.hash) {
        return failure(r, APIGW_OPS_INTERNAL, "the new API key cannot be "
                       "hashed", NULL);
    }
    if ((se = apigw_route_store_apikey_create(st, r->pool, &rec)) != NULL) {
        return se->code == APIGW_RS_CONFLICT
               ? failure(r, APIGW_OPS_CONFLICT, se->message, "name")
               : store_failure(r, se);
    }
    changed(r, "created API key", apr_psprintf(r->pool, "%s (roles %s)",
            name, *rec.roles ? rec.roles : "none"));
    k = apr_pcalloc(r->pool, sizeof(*k));
    k->name = name;
    k->roles = roles_of(r->pool, rec.roles);
    k->created_at = rec.created_at;
    k->key = key;
    *out = k;
    return NULL;
}

const apigw_ops_error *apigw_ops_revoke_apikey(request_rec *r,
                                               apigw_route_store *st,
                                               const char *name)
{
    const apigw_route_store_error *se;

    if (!is_key_name(name)) {
        return failure(r, APIGW_OPS_NOT_FOUND, "no such API key", NULL);
    }
    if ((se = apigw_route_store_apikey_delete(st, r->pool, name)) != NULL) {
        return se->code == APIGW_RS_NOT_FOUND
               ? failure(r, APIGW_OPS_NOT_FOUND, "no such API key", NULL)
               : store_failure(r, se);
    }
    changed(r, "revoked API key", name);
    return NULL;
}

json_t *apigw_ops_apikey_json(apr_pool_t *p, const apigw_ops_apikey *k)
{
    json_t *o = json_object(), *roles = json_array();
    int i;

    for (i = 0; k->roles && i < k->roles->nelts; i++) {
        json_array_append_new(roles, json_string(
                              APR_ARRAY_IDX(k->roles, i, const char *)));
    }
    json_object_set_new(o, "name", json_string(k->name));
    json_object_set_new(o, "roles", roles);
    json_object_set_new(o, "createdAt",
                        json_string(apigw_rt_time_text(p, k->created_at)));
    if (k->key) {
        json_object_set_new(o, "key", json_string(k->key));
    }
    return o;
}
