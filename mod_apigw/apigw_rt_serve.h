/* Serving runtime routes: each child keeps one route table per
 * environment its hosts serve (ApiEnvironment), follows the route store
 * in a thread of its own and hands requests the current table without a
 * lock (apigw_rt_table.h).
 *
 *   A write through the admin API of this httpd bumps a generation number
 *   in shared memory (apigw_rt_serve_changed); every child's builder sees
 *   it within APIGW_RT_POLL, reads what changed from the store and
 *   publishes a new table.
 *   Writes by other gateways on the same store: one poller per httpd (a
 *   mod_watchdog callback in one child) reads the store's generation
 *   every ApiRouteRefresh and bumps the shared number when it moved.
 *   The store unreachable: the current tables stay; at startup, the last
 *   route set written to the snapshot file (by the poller, at most every
 *   few seconds after changes; by the builders without mod_watchdog) is
 *   served until the store answers.
 *   A new child's first requests wait for its first table
 *   (apigw_rt_serve_match) rather than miss a runtime route.
 *   API keys kept in the store (created and revoked through the admin
 *   API) follow the same way: the builder reads them again when a key
 *   was written (the store's keys version moved) and publishes them for
 *   request threads (apigw_apikeys_table.h); mod_apigw_auth's
 *   ApiKeyStore asks apigw_store_apikey_find. */
#ifndef APIGW_RT_SERVE_H
#define APIGW_RT_SERVE_H

#include "apigw_config.h"
#include "apigw_rt_model.h"
#include "apigw_rt_table.h"
#include "apigw_apikey.h"

#define APIGW_RT_POLL apr_time_from_msec(2)
#define APIGW_RT_DEFAULT_REFRESH apr_time_from_sec(1)

/* Whether this configuration serves runtime routes: an ApiRouteStore, an
 * ApiEnvironment or an apigw-admin location (admin_used). */
int apigw_rt_serve_wanted(server_rec *s, int admin_used);

/* post_config: whether routes are served (an ApiRouteStore, an
 * ApiEnvironment or an admin location), the shared generation, the
 * poller. store_spec: the store in use (apigw_admin_store_spec). */
int apigw_rt_serve_post_config(apr_pool_t *pconf, server_rec *s,
                               const char *store_spec, int admin_used);

/* child_init: the tables and their builder thread. */
void apigw_rt_serve_child_init(apr_pool_t *pchild, server_rec *s);

/* translate_name, after the static endpoints: r's path and method (r's
 * own, or a CORS preflight's requested one) against the runtime routes of
 * its server's environment. On FOUND or NO_METHOD the table stays held
 * until r ends (m->data is an apigw_endpoint *). */
apigw_route_status apigw_rt_serve_match(request_rec *r, const char *method,
                                        apigw_route_match *m);

/* Read-only: fn(ctx, apigw_endpoint *) for each runtime route r's server
 * serves now (its environment's current table, held while fn runs; in
 * no order; the builder is never blocked). *environment: the
 * environment's name, NULL when runtime routes are not served. Returns
 * the first non-zero return of fn, else 0. */
int apigw_rt_serve_each(request_rec *r, apigw_rt_table_each_fn *fn,
                        void *ctx, const char **environment);

/* A runtime endpoint's rate limit and breaker, handed to their modules. */
void apigw_rt_serve_attach(request_rec *r, const apigw_endpoint *ep);

/* The optional function apigw_store_apikey_find (common/apigw_contract.h):
 * the store's key whose SHA-256 is that of key[0..len), copied into
 * r->pool, or NULL (none; no route store in this configuration; or, in a
 * child younger than a few seconds, the store's keys not loaded yet after
 * waiting for them). */
const apigw_apikey *apigw_store_apikey_find(request_rec *r, const char *key,
                                            apr_size_t len);

/* What this child serves of one environment's runtime routes (for
 * metrics and readiness): written by the builder thread with atomics,
 * read by any request without a lock. */
typedef struct {
    const char *environment;
    apr_uint64_t routes;        /* routes in the table this child serves now */
    apr_uint64_t generation;    /* the store generation that table reflects */
    apr_time_t refreshed;       /* when this child's builder last read the
                                 * store successfully, 0 never */
    int store_ok;               /* the builder's last read of the store
                                 * succeeded */
    int from_snapshot;          /* the table being served came from the
                                 * snapshot file */
    int published;              /* this child serves a table of it (the
                                 * store read is not enough: the table
                                 * built from it is published after) */
} apigw_rt_env_stats;

/* One element per environment this child serves (empty when runtime
 * routes are not in use); from p. */
apr_array_header_t *apigw_rt_serve_stats(apr_pool_t *p, server_rec *s);

/* The admin API committed a write: every child reads the store again. */
void apigw_rt_serve_changed(void);

/* The route model's checks that live in other modules (NULL members when
 * those are not loaded). */
const apigw_rt_checks *apigw_rt_serve_checks(void);

/* NULL, or why route collides with an <ApiEndpoint> of a host serving
 * its environment (static endpoints always win): names its file:line. */
const char *apigw_rt_serve_static_collision(apr_pool_t *p, server_rec *s,
                                            const apigw_rt_route *route);

#endif
