/* The apigw-health handler (see apigw_health.h): KrakenD's /__health
 * document, liveness and readiness. It answers from the child that took
 * the request, so a 200 says that child serves. Readiness reads the route
 * builder's atomics (apigw_rt_serve_stats) and the balancer members'
 * states in mod_proxy_balancer's shared memory; the only lock it takes is
 * a balancer's own thread mutex, for as long as mod_proxy_balancer's
 * every request takes it (to see members added in another child). */
#include "apigw_health.h"
#include "apigw_config.h"
#include "apigw_rt_serve.h"
#include "apigw_route_store.h"
#include "apigw_json.h"
#include "apigw_log.h"

#include "http_config.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "mod_proxy.h"
#include "apr_hash.h"
#include "apr_strings.h"
#include "apr_time.h"

#include <string.h>

APLOG_USE_MODULE(apigw);

typedef enum { HEALTH_KRAKEND, HEALTH_LIVE, HEALTH_READY } health_kind;

/* A check's outcome, worst last. */
typedef enum { CHECK_PASS, CHECK_DEGRADED, CHECK_FAIL } check_status;

static const char *const check_names[] = { "pass", "degraded", "fail" };

/* ---- shared bits ---- */

/* "<location>/live", "<location>/ready" (a non-empty location), or the
 * location itself (anything else under it too, as before). */
static health_kind kind_of(const request_rec *r)
{
    const char *slash = strrchr(r->uri, '/');

    if (!slash || slash == r->uri) {
        return HEALTH_KRAKEND;
    }
    if (strcmp(slash + 1, "live") == 0) {
        return HEALTH_LIVE;
    }
    if (strcmp(slash + 1, "ready") == 0) {
        return HEALTH_READY;
    }
    return HEALTH_KRAKEND;
}

/* t as a JSON string, RFC 3339 UTC to the second ("null" for 0). */
static const char *time_json(apr_pool_t *p, apr_time_t t)
{
    apr_time_exp_t x;

    if (t <= 0 || apr_time_exp_gmt(&x, t) != APR_SUCCESS) {
        return "null";
    }
    return apr_psprintf(p, "\"%04d-%02d-%02dT%02d:%02d:%02dZ\"",
                        x.tm_year + 1900, x.tm_mon + 1, x.tm_mday, x.tm_hour,
                        x.tm_min, x.tm_sec);
}

static int send_json(request_rec *r, int status, const char *body)
{
    r->status = status;
    ap_set_content_type(r, "application/json; charset=utf-8");
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    ap_set_content_length(r, (apr_off_t)strlen(body));
    if (!r->header_only) {
        ap_rputs(body, r);
    }
    return OK;
}

/* KrakenD's /__health, byte for byte. */
static int answer_krakend(request_rec *r)
{
    apr_time_exp_t t;

    apr_time_exp_gmt(&t, r->request_time);
    return send_json(r, HTTP_OK,
                     apr_psprintf(r->pool, "{\"agents\":{},\"now\":\""
                                  "%04d-%02d-%02dT%02d:%02d:%02dZ\","
                                  "\"status\":\"ok\"}",
                                  t.tm_year + 1900, t.tm_mon + 1, t.tm_mday,
                                  t.tm_hour, t.tm_min, t.tm_sec));
}

static int answer_live(request_rec *r)
{
    return send_json(r, HTTP_OK,
                     apr_pstrcat(r->pool, "{\"status\":\"alive\",\"now\":",
                                 time_json(r->pool, r->request_time), "}",
                                 NULL));
}

/* ---- readiness: the runtime routes of r's host ---- */

static const apigw_rt_env_stats *env_stats(request_rec *r)
{
    const apigw_server_conf *sc = ap_get_module_config(r->server->module_config,
                                                       &apigw_module);
    const char *name = sc->environment ? sc->environment
                                       : APIGW_ROUTE_STORE_DEFAULT_ENV;
    apr_array_header_t *all = apigw_rt_serve_stats(r->pool, r->server);
    int i;

    for (i = 0; i < all->nelts; i++) {
        const apigw_rt_env_stats *st = &APR_ARRAY_IDX(all, i,
                                                      apigw_rt_env_stats);
        if (strcmp(st->environment, name) == 0) {
            return st;
        }
    }
    return NULL;
}

/* {"status":..,"inUse":..,...}: fails while the builder has neither read
 * the store nor served the snapshot; degraded while the store does not
 * answer but routes loaded before (or the snapshot's) are served. */
#define NO_TABLE "no route table loaded: the route store has not answered " \
                 "and no snapshot of it is served"

static check_status check_routes(request_rec *r, const char **json)
{
    const apigw_rt_env_stats *st = env_stats(r);
    check_status cs;
    const char *source, *reason;

    if (!st) {
        *json = "{\"status\":\"pass\",\"inUse\":false}";
        return CHECK_PASS;
    }
    source = st->from_snapshot ? "snapshot"
             : st->refreshed ? "store" : "none";
    if (!st->published) {
        /* read, perhaps, but its table not served yet: the pools check
         * must not wait for it either */
        cs = CHECK_FAIL;
        reason = st->refreshed ? "the route store was read; its table is "
                                 "not served yet in this process"
                               : NO_TABLE;
    }
    else if (st->store_ok) {
        cs = CHECK_PASS;
        reason = NULL;
    }
    else if (st->from_snapshot) {
        cs = CHECK_DEGRADED;
        reason = apr_psprintf(r->pool, "the route store does not answer; "
                              "serving the routes of the snapshot file "
                              "(store generation %" APR_UINT64_T_FMT ")",
                              st->generation);
    }
    else if (st->refreshed) {
        cs = CHECK_DEGRADED;
        reason = "the route store does not answer; serving the routes "
                 "read from it last";
    }
    else {
        cs = CHECK_FAIL;
        reason = NO_TABLE;
    }
    *json = apr_psprintf(r->pool, "{\"status\":\"%s\",\"inUse\":true,"
                         "\"environment\":%s,\"routes\":%" APR_UINT64_T_FMT
                         ",\"generation\":%" APR_UINT64_T_FMT ",\"refreshed\""
                         ":%s,\"source\":\"%s\"%s%s}", check_names[cs],
                         apigw_json_str(r->pool, st->environment), st->routes,
                         st->generation, time_json(r->pool, st->refreshed),
                         source, reason ? ",\"reason\":" : "",
                         reason ? apigw_json_str(r->pool, reason) : "");
    return cs;
}

/* ---- readiness: the balancer pools r's host's endpoints use ---- */

/* Why mod_proxy_balancer would not send a request to w now, or NULL. A
 * member in error whose retry time is over counts as usable: the
 * balancer tries it on the next request (were it counted down, a host
 * taken out of rotation for it would never get that request). */
static const char *member_down(const proxy_worker *w, apr_time_t now)
{
    unsigned int st = __atomic_load_n(&w->s->status, __ATOMIC_ACQUIRE);

    if (st & PROXY_WORKER_DISABLED) {
        return "disabled";
    }
    if (st & PROXY_WORKER_STOPPED) {
        return "stopped";
    }
    if (st & PROXY_WORKER_IN_SHUTDOWN) {
        return "shutting-down";
    }
    if (st & PROXY_WORKER_HC_FAIL) {
        return "health-check-failed";
    }
    if ((st & PROXY_WORKER_IN_ERROR)
        && !(st & PROXY_WORKER_IGNORE_ERRORS)
        && now <= w->s->error_time + w->s->retry) {
        return "suspended";
    }
    return NULL;
}

/* Members balancer-manager added in another child, as mod_proxy_balancer
 * sees them for each request (and the ops view of mod_apigw_breaker). */
static void sync_members(request_rec *r, proxy_balancer *b,
                         proxy_server_conf *pc)
{
    apr_status_t rv = PROXY_THREAD_LOCK(b);

    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, rv, r, APIGW_LOGNO(00960)
                      "readiness: cannot take the lock of %s; its members "
                      "are checked as this process knows them", b->s->name);
        return;
    }
    ap_proxy_sync_balancer(b, r->server, pc);
    PROXY_THREAD_UNLOCK(b);
}

/* NULL when some member of b is usable, else its members as JSON. */
static const char *pool_down(request_rec *r, proxy_balancer *b,
                             proxy_server_conf *pc, apr_time_t now)
{
    apr_array_header_t *m;
    int i;

    sync_members(r, b, pc);
    m = apr_array_make(r->pool, b->workers->nelts, sizeof(const char *));
    for (i = 0; i < b->workers->nelts; i++) {
        const proxy_worker *w = APR_ARRAY_IDX(b->workers, i, proxy_worker *);
        const char *why = member_down(w, now);

        if (!why) {
            return NULL;
        }
        APR_ARRAY_PUSH(m, const char *) = apr_psprintf(
            r->pool, "{\"name\":%s,\"state\":\"%s\"}",
            apigw_json_str(r->pool, w->s->name_ex), why);
    }
    return apr_psprintf(r->pool, "{\"name\":%s,\"members\":[%s]}",
                        apigw_json_str(r->pool, b->s->name),
                        apr_array_pstrcat(r->pool, m, ','));
}

typedef struct {
    request_rec *r;
    proxy_server_conf *pc;
    apr_hash_t *seen;              /* balancer name -> "" */
    apr_array_header_t *failing;   /* const char *, JSON */
    apr_time_t now;
} pools_ctx;

static void check_endpoint(pools_ctx *c, const apigw_endpoint *ep)
{
    const apr_array_header_t *bes = ep->conf ? ep->conf->backends : NULL;
    int j;

    for (j = 0; bes && j < bes->nelts; j++) {
        const apigw_backend *be = APR_ARRAY_IDX(bes, j, apigw_backend *);
        proxy_balancer *b;
        const char *down;

        if (!be->is_balancer) {
            continue;              /* a direct backend: no pool state */
        }
        b = ap_proxy_get_balancer(c->r->pool, c->pc, be->url, 0);
        if (!b || !b->s || !b->workers
            || apr_hash_get(c->seen, b->s->name, APR_HASH_KEY_STRING)) {
            continue;
        }
        apr_hash_set(c->seen, b->s->name, APR_HASH_KEY_STRING, "");
        if ((down = pool_down(c->r, b, c->pc, c->now)) != NULL) {
            APR_ARRAY_PUSH(c->failing, const char *) = down;
        }
    }
}

static void check_endpoints(pools_ctx *c, const apr_array_header_t *eps)
{
    int i;

    for (i = 0; i < eps->nelts; i++) {
        check_endpoint(c, APR_ARRAY_IDX(eps, i, apigw_endpoint *));
    }
}

/* apigw_rt_serve_each's callback: a runtime route's endpoint. */
static int check_runtime_endpoint(void *ctx, void *data)
{
    check_endpoint(ctx, data);
    return 0;
}

/* {"status":..,"checked":N,"failing":[..]}: fails when every member of a
 * pool that an endpoint of r's host sends to is unusable: its
 * <ApiEndpoint>s, the main server's (which every host inherits) and,
 * once a route table is served (with_runtime), its runtime routes. */
static check_status check_pools(request_rec *r, int with_runtime,
                                const char **json)
{
    const char *env;
    const apigw_server_conf *sc = ap_get_module_config(r->server->module_config,
                                                       &apigw_module);
    const apigw_server_conf *msc = ap_get_module_config(
        ap_server_conf->module_config, &apigw_module);
    pools_ctx c;
    check_status cs;

    c.r = r;
    c.pc = ap_get_module_config(r->server->module_config, &proxy_module);
    c.seen = apr_hash_make(r->pool);
    c.failing = apr_array_make(r->pool, 2, sizeof(const char *));
    c.now = apr_time_now();
    if (c.pc) {
        check_endpoints(&c, sc->endpoints);
        if (msc && msc != sc) {
            check_endpoints(&c, msc->endpoints);
        }
        if (with_runtime) {
            apigw_rt_serve_each(r, check_runtime_endpoint, &c, &env);
        }
    }
    cs = c.failing->nelts ? CHECK_FAIL : CHECK_PASS;
    *json = apr_psprintf(r->pool, "{\"status\":\"%s\",\"checked\":%u,"
                         "\"failing\":[%s]%s}", check_names[cs],
                         apr_hash_count(c.seen),
                         apr_array_pstrcat(r->pool, c.failing, ','),
                         cs == CHECK_FAIL
                         ? ",\"reason\":\"every member of a pool an "
                           "endpoint uses is unusable\"" : "");
    return cs;
}

static int answer_ready(request_rec *r)
{
    static const char *const overall[] = { "ready", "degraded", "unready" };
    const char *routes, *pools;
    check_status rs = check_routes(r, &routes);
    /* without a table, the runtime routes' pools would wait for one */
    check_status ps = check_pools(r, rs != CHECK_FAIL, &pools);
    check_status worst = rs > ps ? rs : ps;

    if (worst == CHECK_FAIL) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, APIGW_LOGNO(00961)
                      "readiness: unready (routes %s, pools %s)",
                      check_names[rs], check_names[ps]);
    }
    return send_json(r, worst == CHECK_FAIL ? HTTP_SERVICE_UNAVAILABLE
                                            : HTTP_OK,
                     apr_pstrcat(r->pool, "{\"status\":\"", overall[worst],
                                 "\",\"now\":",
                                 time_json(r->pool, r->request_time),
                                 ",\"checks\":{\"routes\":", routes,
                                 ",\"pools\":", pools, "}}", NULL));
}

int apigw_health_handler(request_rec *r)
{
    if (!r->handler || strcmp(r->handler, "apigw-health") != 0) {
        return DECLINED;
    }
    ap_allow_methods(r, REPLACE_ALLOW, "GET", NULL);
    if (r->method_number != M_GET) {
        return HTTP_METHOD_NOT_ALLOWED;
    }
    switch (kind_of(r)) {
    case HEALTH_LIVE:
        return answer_live(r);
    case HEALTH_READY:
        return answer_ready(r);
    default:
        return answer_krakend(r);
    }
}
