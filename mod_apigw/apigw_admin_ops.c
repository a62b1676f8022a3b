/* The operations of the management API (see apigw_admin_ops.h): the
 * child's route store and its mutex, and each operation on routes and
 * environments as the REST and the GraphQL sides both run it. */
#include "apigw_admin_ops.h"
#include "apigw_config.h"
#include "apigw_rt_serve.h"
#include "apigw_log.h"

#include "http_log.h"
#include "apr_strings.h"
#include "apr_thread_mutex.h"

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
    int i;

    if ((se = apigw_route_store_list(st, r->pool, env, &recs)) != NULL) {
        return store_failure(r, se);
    }
    *routes = apr_array_make(r->pool, recs->nelts + 1,
                             sizeof(apigw_rt_route *));
    for (i = 0; i < recs->nelts; i++) {
        const apigw_route_record *rec = &APR_ARRAY_IDX(recs, i,
                                                       apigw_route_record);
        apigw_rt_route *route;
        const apigw_rt_error *e = apigw_rt_route_from_record(r->pool, rec,
                                          apigw_ops_checks(), &route);
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
    if ((e = apigw_rt_route_from_record(r->pool, rec, apigw_ops_checks(),
                                        out)) != NULL) {
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
