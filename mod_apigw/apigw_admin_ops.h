/* The operations of the management API on runtime routes, environments
 * and API keys (apigw_admin_ops.c), shared by its REST side
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

#include <jansson.h>

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

/* ---- API keys ----
 *
 * Kept in the route store as their SHA-256 (the key itself is made here,
 * shown once in the answer that created it, and neither stored nor
 * logged); served by every child through apigw_store_apikey_find. */

/* Names and roles: 1 to APIGW_OPS_APIKEY_MAX_NAME characters of
 * A-Z a-z 0-9 . _ @ - (common/apigw_apikey.h's rule); a key has at most
 * APIGW_OPS_APIKEY_MAX_ROLES roles, none given twice. */
#define APIGW_OPS_APIKEY_MAX_NAME 64
#define APIGW_OPS_APIKEY_MAX_ROLES 32

/* "agw_" and the base64url text (no padding) of this many random bytes. */
#define APIGW_OPS_APIKEY_PREFIX "agw_"
#define APIGW_OPS_APIKEY_RANDOM_BYTES 32

typedef struct {
    const char *name;
    apr_array_header_t *roles;     /* const char *, as given */
    apr_time_t created_at;
    const char *key;               /* the key: apigw_ops_create_apikey's
                                    * answer only, else NULL */
} apigw_ops_apikey;

/* Every key (apigw_ops_apikey *, key NULL), sorted by name. */
const apigw_ops_error *apigw_ops_apikeys(request_rec *r,
                                         apigw_route_store *st,
                                         apr_array_header_t **keys);

/* A new key named name with roles (const char *; NULL for none): checks
 * them (INVALID, field "name", "roles" or "roles[N]"), makes the key
 * from apr_generate_random_bytes and stores its SHA-256 (CONFLICT, field
 * "name", when the name is taken). *out holds the key. */
const apigw_ops_error *apigw_ops_create_apikey(request_rec *r,
                                               apigw_route_store *st,
                                               const char *name,
                                               const apr_array_header_t *roles,
                                               apigw_ops_apikey **out);

/* Deletes the key named name: it stops working in every child within
 * milliseconds. NOT_FOUND when there is none. */
const apigw_ops_error *apigw_ops_revoke_apikey(request_rec *r,
                                               apigw_route_store *st,
                                               const char *name);

/* k as the API shows it: {"name","roles","createdAt"} and, when k holds
 * it, "key" (a new reference). */
json_t *apigw_ops_apikey_json(apr_pool_t *p, const apigw_ops_apikey *k);

/* An audit line for a change made outside the route store (a member
 * resumed, a breaker reset): "admin API: ACTION WHAT by USER". */
void apigw_ops_audit(request_rec *r, const char *action, const char *what);

#endif
