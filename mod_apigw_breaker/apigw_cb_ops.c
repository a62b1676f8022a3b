/* Owns the circuit breakers of the management API: the optional functions
 * apigw_ops_breakers and apigw_ops_reset_breaker (apigw_contract.h,
 * registered in mod_apigw_breaker.c), and a breaker's one state change
 * that no request makes: the reset. The states are the ones the status
 * page shows, found the same way (apigw_cb_status_each_state and _route)
 * and moved on the same way (apigw_cb_advance) before they are read.
 *
 * A state's id, stable across views, children and graceful restarts that
 * keep the line:
 *   FILE:LINE            an ApiCircuitBreaker line (scope=endpoint)
 *   FILE:LINE#BACKEND    one backend's state of a scope=backend line
 *   route:ID             a runtime route's (its most recently used state:
 *                        a route whose breaker changed leaves its old
 *                        state to age out) */
#include "apigw_cb_ops.h"
#include "apigw_cb_request.h"
#include "apigw_cb_shm.h"
#include "apigw_cb_status.h"
#include "apigw_json.h"
#include "apigw_log.h"

#include "http_log.h"
#include "apr_hash.h"
#include "apr_strings.h"

APLOG_USE_MODULE(apigw_breaker);

#define ROUTE_PREFIX "route:"

/* One state as the API shows it. */
typedef struct {
    const char *id;
    const char *section;
    const char *backend;            /* scope=backend's, or NULL */
    const char *expression;         /* NULL for a runtime route's */
    const apigw_cb_breaker *b;      /* NULL for a runtime route's */
    apigw_cb_slot *slot;
    apr_uint64_t used;              /* a runtime route's last use */
} ops_state;

typedef struct {
    request_rec *r;
    const apigw_cb_breaker *b;
    apr_array_header_t *out;        /* ops_state */
    apr_hash_t *routes;             /* route id -> index in out */
} ops_baton;

static const char *state_name(apigw_cb_state s)
{
    switch (s) {
    case APIGW_CB_STANDBY:
        return "closed";
    case APIGW_CB_TRIPPED:
        return "open";
    default:
        return "recovering";
    }
}

static const char *state_json(apr_pool_t *p, const ops_state *os,
                              apr_time_t now)
{
    apigw_cb_view v = apigw_cb_view_of(apigw_cb_slot_word(os->slot));
    apigw_cb_totals t;

    apigw_cb_window_totals(&os->slot->window, now, 0, &t);
    return apr_psprintf(p, "{\"id\":%s,\"section\":%s,\"backend\":%s,"
                        "\"expression\":%s,\"state\":\"%s\",\"since\":%s,"
                        "\"trips\":%" APR_UINT64_T_FMT ",\"window\":{"
                        "\"requests\":%" APR_UINT64_T_FMT
                        ",\"networkErrors\":%" APR_UINT64_T_FMT
                        ",\"status5xx\":%" APR_UINT64_T_FMT
                        ",\"status4xx\":%" APR_UINT64_T_FMT "}}",
                        apigw_json_str(p, os->id),
                        apigw_json_str(p, os->section),
                        apigw_json_str(p, os->backend),
                        apigw_json_str(p, os->expression),
                        state_name(v.state),
                        apigw_cb_status_time(p, v.since),
                        __atomic_load_n(&os->slot->trips, __ATOMIC_RELAXED),
                        t.total, t.neterr, t.classes[5], t.classes[4]);
}

/* ---- every state ---- */

static void add_breaker_state(void *baton, apigw_cb_slot *slot,
                              const char *backend, int n)
{
    ops_baton *ob = baton;
    const apigw_cb_breaker *b = ob->b;
    apr_pool_t *p = ob->r->pool;
    ops_state *os = apr_array_push(ob->out);

    (void)n;
    os->id = apr_psprintf(p, "%s:%u%s%s", b->file ? b->file : "", b->line,
                          backend ? "#" : "", backend ? backend : "");
    os->section = b->section;
    os->backend = backend;
    os->expression = apigw_cb_expr_text(b->expr);
    os->b = b;
    os->slot = slot;
    os->used = 0;
}

static void add_route_state(void *baton, apigw_cb_slot *slot,
                            const char *label, int n)
{
    ops_baton *ob = baton;
    apr_pool_t *p = ob->r->pool;
    const char *route = apr_pstrndup(p, label, APIGW_CB_LABEL_LEN);
    apr_uint64_t used = __atomic_load_n(&slot->last_used, __ATOMIC_RELAXED);
    int *at = apr_hash_get(ob->routes, route, APR_HASH_KEY_STRING);
    ops_state *os;

    (void)n;
    if (at) {
        os = &APR_ARRAY_IDX(ob->out, *at, ops_state);
        if (os->used >= used) {
            return;                 /* an older state of the same route */
        }
    }
    else {
        at = apr_palloc(p, sizeof(*at));
        *at = ob->out->nelts;
        apr_hash_set(ob->routes, route, APR_HASH_KEY_STRING, at);
        os = apr_array_push(ob->out);
    }
    os->id = apr_pstrcat(p, ROUTE_PREFIX, route, NULL);
    os->section = os->id;
    os->backend = NULL;
    os->expression = NULL;          /* in mod_apigw's route table */
    os->b = NULL;
    os->slot = slot;
    os->used = used;
}

/* Every state, in the order of the status page: the configuration's
 * breakers (moved on to now), then the runtime routes'. */
static apr_array_header_t *all_states(request_rec *r, apr_time_t now)
{
    apr_array_header_t *all = apigw_cb_breakers();
    apigw_cb_table *table = apigw_cb_shm_table();
    ops_baton ob;
    int i;

    ob.r = r;
    ob.out = apr_array_make(r->pool, 16, sizeof(ops_state));
    ob.routes = apr_hash_make(r->pool);
    for (i = 0; all && i < all->nelts; i++) {
        ob.b = APR_ARRAY_IDX(all, i, apigw_cb_breaker *);
        apigw_cb_status_each_state(r->pool, ob.b, table, add_breaker_state,
                                   &ob);
    }
    for (i = 0; i < ob.out->nelts; i++) {
        ops_state *os = &APR_ARRAY_IDX(ob.out, i, ops_state);

        apigw_cb_advance(r->server, os->b, os->slot, os->backend, now);
    }
    ob.b = NULL;
    apigw_cb_status_each_route(apigw_cb_shm_route_pool(), add_route_state,
                               &ob);
    return ob.out;
}

const char *apigw_ops_breakers(request_rec *r)
{
    apr_time_t now = apr_time_now();
    apr_array_header_t *states = all_states(r, now);
    apr_array_header_t *out = apr_array_make(r->pool, states->nelts + 1,
                                             sizeof(const char *));
    int i;

    for (i = 0; i < states->nelts; i++) {
        APR_ARRAY_PUSH(out, const char *) =
            state_json(r->pool, &APR_ARRAY_IDX(states, i, ops_state), now);
    }
    return apr_pstrcat(r->pool, "[", apr_array_pstrcat(r->pool, out, ','),
                       "]", NULL);
}

/* ---- reset ---- */

/* Closes the state now, in a new epoch (outcomes of requests admitted
 * before it are not counted), and empties its window. Returns the state
 * it was in. */
static apigw_cb_state slot_reset(apigw_cb_slot *s, apr_time_t now)
{
    apr_uint64_t w = apigw_cb_slot_word(s), nw;
    apigw_cb_view v;

    do {
        v = apigw_cb_view_of(w);
        nw = apigw_cb_word(APIGW_CB_STANDBY, v.epoch + 1, now);
    } while (!__atomic_compare_exchange_n(&s->word, &w, nw, 0,
                                          __ATOMIC_ACQ_REL,
                                          __ATOMIC_ACQUIRE));
    apigw_cb_window_reset(&s->window);
    return v.state;
}

const char *apigw_ops_reset_breaker(request_rec *r, const char *id,
                                    const char **breaker_json,
                                    int *not_found)
{
    apr_time_t now = apr_time_now();
    apr_array_header_t *states;
    const ops_state *found = NULL;
    apigw_cb_state was;
    int i;

    *breaker_json = NULL;
    *not_found = 0;
    if (!id || !*id) {
        return "id is required";
    }
    states = all_states(r, now);
    for (i = 0; i < states->nelts && !found; i++) {
        const ops_state *os = &APR_ARRAY_IDX(states, i, ops_state);

        if (strcmp(os->id, id) == 0) {
            found = os;
        }
    }
    if (!found) {
        *not_found = 1;
        return apr_psprintf(r->pool, "no circuit breaker has the id %s", id);
    }
    was = slot_reset(found->slot, now);
    ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r, APIGW_LOGNO(02041)
                  "circuit breaker %s (%s%s%s) reset by the management API: "
                  "closed (was %s), its window emptied", found->id,
                  found->section, found->backend ? ", backend " : "",
                  found->backend ? found->backend : "",
                  state_name(was));
    *breaker_json = state_json(r->pool, found, now);
    return NULL;
}
