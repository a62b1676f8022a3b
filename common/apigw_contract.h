/* The contract between the mod_apigw modules (mod_apigw,
 * mod_apigw_ratelimit, mod_apigw_breaker and those to come): the few
 * things one module tells another about a request. Each module may load
 * without the others, so nothing here needs another module to be there.
 *
 *   A refusal.  A module that answers a request itself instead of letting
 *               it reach a backend (429 from a rate limit, 503 from an
 *               open breaker, 401/403 from an auth provider) marks it
 *               once with apigw_refuse(), in the phase that decides. A
 *               later phase that would do work for the request (the
 *               response cache's lookup, aggregation's backend calls)
 *               asks apigw_refused() first and does nothing when it was.
 *
 *   The deadline of an endpoint request: mod_apigw owns it (the request
 *               time plus the endpoint's ApiTimeout) and offers it as the
 *               optional function apigw_endpoint_deadline; another module
 *               retrieves it at post_config and calls it only when it
 *               needs it (so the common path costs nothing).
 *
 *   mod_proxy's handler is wrapped one way: a handler that runs before
 *               mod_proxy's (hooked with mod_proxy.c as its successor)
 *               calls apigw_proxy_handler_run(), which runs the handler
 *               phase again with r->handler "proxy-server" and puts the
 *               caller's r->handler back. The wrapper must decline when it
 *               is entered again (its own state says it is wrapping).
 *
 *   Runtime routes (mod_apigw's, registered through the admin API) carry
 *               a rate limit and a circuit breaker as data
 *               (apigw_route_policy.h). The enforcing modules offer two
 *               optional functions each:
 *                 prepare  validates one route's settings and compiles
 *                          them into an opaque handle allocated from p.
 *                          mod_apigw calls it in a child when it builds a
 *                          route table, from any thread, never on the
 *                          request path; the admin API calls it with a
 *                          scratch pool to validate a route. It must not
 *                          touch shared memory (state is made on first
 *                          use) and is safe to call concurrently. The
 *                          handle lives as long as p: as long as some
 *                          route table still holds the route.
 *                 attach   at translate_name, hands r the handle of the
 *                          route it matched; the module then enforces it
 *                          in its own phases exactly as it would a
 *                          limit or breaker of an <ApiEndpoint> (429 or
 *                          503, headers, outcomes), its state shared by
 *                          every child and keyed by route_id, so a
 *                          changed route's handle finds the same state
 *                          when its settings did not change.
 *               The state of a route that is gone is reclaimed by the
 *               module (it is never used again, so it ages out).
 *
 *   Authentication: mod_apigw_auth offers the claims of the token that
 *               authenticated a request (apigw_auth_claim, for {JWT.name}
 *               URL variables); mod_apigw offers the route store's API
 *               keys (apigw_store_apikey_find, for ApiKeyStore). Each
 *               retrieves the other's at optional_fn_retrieve.
 *
 *   A backend connection's socket timeout is changed for one exchange
 *               with apigw_socket_timeout_scoped(): the old one comes back
 *               when the exchange's pool ends.
 *
 *   The error format of a request (ApiErrorFormat, mod_apigw's) is the
 *               note APIGW_NOTE_ERROR_FORMAT (apigw_json_error.h): set
 *               at post_read_request from the server's setting and at the
 *               route match from the endpoint's, absent for JSON. Every
 *               module's own answers (apigw_send_error, the shared error
 *               filter) read it, so they all answer in one shape.
 *
 *   Decisions for the logs: the module that decides sets a request note
 *               (LogFormat %{NAME}n), one word each:
 *                 APIGW_NOTE_RATELIMIT  admitted, delayed, rejected,
 *                                       unavailable (the store failed,
 *                                       failure closed)
 *                 APIGW_NOTE_BREAKER    closed, probe (admitted while
 *                                       recovering), fallback, open
 *                                       (refused)
 *                 APIGW_NOTE_CACHE      hit, miss, bypass
 *               absent when the request met no such policy. */
#ifndef APIGW_CONTRACT_H
#define APIGW_CONTRACT_H

#include "httpd.h"
#include "apr_network_io.h"
#include "apr_optional.h"

#include "apigw_route_policy.h"

#define APIGW_NOTE_RATELIMIT "apigw-ratelimit"
#define APIGW_NOTE_BREAKER   "apigw-breaker"
#define APIGW_NOTE_CACHE     "apigw-cache"

/* Marks r as answered by the gateway with status (the first mark stays). */
void apigw_refuse(request_rec *r, int status);

/* The status r was refused with, or 0. Looks at the main request too. */
int apigw_refused(const request_rec *r);

/* The claim name (a dotted path) of the JWT that authenticated r, as text
 * (arrays joined with ","), or NULL: offered by mod_apigw_auth for the
 * {JWT.name} variables of backend URL templates. */
APR_DECLARE_OPTIONAL_FN(const char *, apigw_auth_claim,
                        (request_rec *r, const char *name));

/* The API key kept in the route store (ApiRouteStore; keys created and
 * revoked through the admin API) whose SHA-256 is that of key[0..len), or
 * NULL: offered by mod_apigw for mod_apigw_auth's ApiKeyStore. The key
 * record stays valid as long as r. */
struct apigw_apikey;
APR_DECLARE_OPTIONAL_FN(const struct apigw_apikey *, apigw_store_apikey_find,
                        (request_rec *r, const char *key, apr_size_t len));

/* mod_apigw's: the absolute time by which an endpoint request must be
 * answered, or 0 when r is not an endpoint request. */
APR_DECLARE_OPTIONAL_FN(apr_time_t, apigw_endpoint_deadline,
                        (request_rec *r));

/* mod_apigw_ratelimit's, for runtime routes (see above): NULL or the
 * problem (in the words of the admin API's rateLimit fields). */
APR_DECLARE_OPTIONAL_FN(const char *, apigw_rl_route_prepare,
                        (apr_pool_t *p, const char *route_id,
                         const apigw_rt_rate_limit *spec, void **limit));
APR_DECLARE_OPTIONAL_FN(void, apigw_rl_route_attach,
                        (request_rec *r, void *limit));

/* mod_apigw_breaker's, for runtime routes: NULL or the problem. */
APR_DECLARE_OPTIONAL_FN(const char *, apigw_cb_route_prepare,
                        (apr_pool_t *p, const char *route_id,
                         const apigw_rt_breaker *spec, void **breaker));
APR_DECLARE_OPTIONAL_FN(void, apigw_cb_route_attach,
                        (request_rec *r, void *breaker));

/* Runs mod_proxy's handler for r (see above); returns its status. */
int apigw_proxy_handler_run(request_rec *r);

/* Sets sock's timeout to t until pool p ends, then back to saved (what
 * apr_socket_timeout_get said before). */
void apigw_socket_timeout_scoped(apr_pool_t *p, apr_socket_t *sock,
                                 apr_interval_time_t t,
                                 apr_interval_time_t saved);

/* ---- Operations: the live state for mod_apigw's management API ----
 *
 * mod_apigw_breaker's (pools, breakers, the two actions) and
 * mod_apigw_ratelimit's (rate limits), retrieved by mod_apigw at
 * optional_fn_retrieve; a function that is NULL means its module is not
 * loaded. Each answers JSON text from r->pool, in the shapes of the
 * GraphQL schema's types (mod_apigw/console/schema.graphql); times
 * are RFC 3339 UTC with milliseconds, or null. Any thread of a child, on
 * the request path of an admin request; the reads take no lock. The
 * actions change the state every child sees (shared memory) and log
 * themselves at notice; the caller logs who asked. */

/* [Pool, ...]: every balancer:// of r's server with its members:
 * {"name":"balancer://NAME","lbmethod":"byrequests","members":[Member]}.
 * Member: {"pool","name" (the BalancerMember URL),"state" ("active",
 * "timeout", "suspended", "disabled"),"suspendedSince","suspendedUntil",
 * "reason" (the code that put it there, as ApiBalancerSuspend's and
 * ApiBalancerMarkForSuspension's codes= name it: "connect-refused",
 * "503", ...; null when active, disabled, or put in error by mod_proxy
 * itself),
 * "suspensions","retries"}. */
APR_DECLARE_OPTIONAL_FN(const char *, apigw_ops_pools, (request_rec *r));

/* [Breaker, ...]: every circuit breaker state (one per backend for
 * scope=backend), runtime routes' too: {"id","section","backend",
 * "expression","state" ("closed", "open", "recovering"),"since","trips",
 * "window":{"requests","networkErrors","status5xx","status4xx"}}. id is
 * "FILE:LINE", "FILE:LINE#BACKEND" or "route:ID". */
APR_DECLARE_OPTIONAL_FN(const char *, apigw_ops_breakers, (request_rec *r));

/* [RateLimitCounter, ...]: one per ApiRateLimit policy (its own numbers,
 * and each ApiRateLimitTier's): {"section","policy","admitted",
 * "rejected","delayed"}, summed over every child. */
APR_DECLARE_OPTIONAL_FN(const char *, apigw_ops_rate_limits,
                        (request_rec *r));

/* Ends a member's suspension (or timeout state) now, as balancer-manager's
 * "enable" does and with its progression reset: NULL and *member_json (a
 * Member), or an error message; *not_found = 1 when r's server has no
 * such pool ("balancer://NAME" or NAME) or member. */
APR_DECLARE_OPTIONAL_FN(const char *, apigw_ops_resume_member,
                        (request_rec *r, const char *pool,
                         const char *member, const char **member_json,
                         int *not_found));

/* Closes a breaker and empties its window: NULL and *breaker_json (a
 * Breaker), or an error message; *not_found = 1 when no breaker state
 * has this id. */
APR_DECLARE_OPTIONAL_FN(const char *, apigw_ops_reset_breaker,
                        (request_rec *r, const char *id,
                         const char **breaker_json, int *not_found));

#endif
