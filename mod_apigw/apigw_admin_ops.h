/* The operations of the management API on runtime routes and
 * environments (apigw_admin_ops.c), shared by its REST side
 * (apigw_admin.c) and its GraphQL side (apigw_admin_graphql.c), so both
 * run exactly the same checks and writes: each runs one operation through
 * the route model (apigw_rt_model.h) and the route store
 * (apigw_route_store.h), refuses a route a static endpoint would shadow,
 * and on a committed change logs one audit line with the authenticated
 * user and tells every child to read the store again.
 *
 * The store: each child opens it when first needed, as the user it runs
 * as, and keeps it; a store is one connection, so a request holds the
 * child's store (apigw_ops_store_take ... apigw_ops_store_give) for all
 * the operations it runs. */
#ifndef APIGW_ADMIN_OPS_H
#define APIGW_ADMIN_OPS_H

#include "httpd.h"

#include "apigw_rt_model.h"
#include "apigw_route_store.h"

typedef enum {
    APIGW_OPS_INVALID = 1,     /* the input is wrong: 400, BAD_USER_INPUT */
    APIGW_OPS_NOT_FOUND,       /* 404 */
    APIGW_OPS_CONFLICT,        /* 409: taken, or shadowed by an endpoint */
    APIGW_OPS_UNAVAILABLE,     /* 503: the store failed (logged) */
    APIGW_OPS_INTERNAL         /* 500 */
} apigw_ops_code;

/* message: what to tell the client (REST prefixes no field; the model's
 * errors read "cors.maxAgeSeconds: must be ..."); field: the input field
 * at fault ("path", "cors.allowOrigins[2]"), NULL when none. */
typedef struct {
    apigw_ops_code code;
    const char *message;
    const char *field;
} apigw_ops_error;

/* child_init: the child's store mutex (the store opens on first use). */
void apigw_ops_child_init(apr_pool_t *pchild, server_rec *s,
                          const char *store_spec);

/* Takes the child's store for r (opening it if need be): NULL and *st,
 * then apigw_ops_store_give(); or the error (and nothing to give back). */
const apigw_ops_error *apigw_ops_store_take(request_rec *r,
                                            apigw_route_store **st);
void apigw_ops_store_give(void);

/* The checks that need other modules, for decoding routes. */
const apigw_rt_checks *apigw_ops_checks(void);

/* The routes of env (apigw_rt_route *), by path; a stored route that
 * no longer validates is left out (and logged). */
const apigw_ops_error *apigw_ops_routes(request_rec *r,
                                        apigw_route_store *st,
                                        const char *env,
                                        apr_array_header_t **routes);

/* One route; NOT_FOUND when id names none (or is not a UUID). */
const apigw_ops_error *apigw_ops_route(request_rec *r, apigw_route_store *st,
                                       const char *id, apigw_rt_route **out);

/* Stores a new, validated route: gives it an id and its times. */
const apigw_ops_error *apigw_ops_register(request_rec *r,
                                          apigw_route_store *st,
                                          apigw_rt_route *route);

/* Stores a changed, validated route (id and createdAt its stored
 * ones'); action names the change in the audit line. */
const apigw_ops_error *apigw_ops_save(request_rec *r, apigw_route_store *st,
                                      apigw_rt_route *route,
                                      const char *action);

const apigw_ops_error *apigw_ops_delete(request_rec *r, apigw_route_store *st,
                                        const char *id);

const apigw_ops_error *apigw_ops_delete_routes_of(request_rec *r,
                                                  apigw_route_store *st,
                                                  const char *env,
                                                  int *deleted);

/* The environments' names (const char *), sorted. */
const apigw_ops_error *apigw_ops_environments(request_rec *r,
                                              apigw_route_store *st,
                                              apr_array_header_t **names);

/* A new environment name, empty or from another (copy: with copies of
 * its routes, *copied of them). */
const apigw_ops_error *apigw_ops_create_environment(request_rec *r,
                                                    apigw_route_store *st,
                                                    const char *name,
                                                    const char *from,
                                                    int copy, int *copied);

const apigw_ops_error *apigw_ops_delete_environment(request_rec *r,
                                                    apigw_route_store *st,
                                                    const char *name,
                                                    int *deleted);

/* An audit line for a change made outside the route store (a member
 * resumed, a breaker reset): "admin API: ACTION WHAT by USER". */
void apigw_ops_audit(request_rec *r, const char *action, const char *what);

#endif
