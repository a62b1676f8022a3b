/* The circuit breakers' status page: SetHandler apigw-breaker-status in a
 * <Location> answers GET with every breaker of this httpd as JSON, its
 * settings and, for each state (one, or one per backend with
 * scope=backend), the state, since when, the share of requests admitted,
 * the window's counts and the expression's values now. Viewing it moves
 * the states on as a request would (a fallback that elapsed, an
 * evaluation that is due), so it never shows a stale state. Then, once
 * some runtime route's breaker has a state in their pool, "route_slots"
 * (the pool's size) and "routes": each state's route id, the state as the
 * route's last request left it, the window's counts (the settings live in
 * mod_apigw's route table, not here).
 * Protect it like balancer-manager: Require. */
#include "apigw_cb_status.h"
#include "apigw_cb_request.h"
#include "apigw_cb_shm.h"
#include "apigw_json.h"

#include "http_core.h"
#include "http_protocol.h"
#include "apr_strings.h"

const char *apigw_cb_status_time(apr_pool_t *p, apr_time_t t)
{
    apr_time_exp_t tm;
    char buf[32];
    apr_size_t len;

    if (apr_time_exp_gmt(&tm, t) != APR_SUCCESS
        || apr_strftime(buf, &len, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm)
           != APR_SUCCESS) {
        return "null";
    }
    return apr_psprintf(p, "\"%s.%03dZ\"", buf, tm.tm_usec / 1000);
}

static const char *ms(apr_pool_t *p, apr_interval_time_t t)
{
    return apr_psprintf(p, "%" APR_TIME_T_FMT, apr_time_as_msec(t));
}

int apigw_cb_status_each_state(apr_pool_t *p, const apigw_cb_breaker *b,
                               apigw_cb_table *table,
                               apigw_cb_status_state_fn *fn, void *baton)
{
    apr_uint64_t i;
    int n = 0;

    if (!table) {
        return 0;                   /* no shared memory (yet) */
    }
    if (!b->set.scope_backend) {
        if (b->slot && apigw_cb_slot_is(b->slot, b->owner)) {
            fn(baton, b->slot, NULL, n++);
        }
        return n;
    }
    for (i = 0; i < table->nslots; i++) {
        apigw_cb_slot *s = &table->slots[i];
        apr_uint64_t key = __atomic_load_n(&s->key, __ATOMIC_ACQUIRE);

        /* free, being set up, or another breaker's */
        if (key == 0 || (key >> 63) || s->owner != b->owner) {
            continue;
        }
        fn(baton, s, apr_pstrdup(p, s->label), n++);
    }
    return n;
}

int apigw_cb_status_each_route(apigw_cb_table *pool,
                               apigw_cb_status_state_fn *fn, void *baton)
{
    apr_uint64_t i;
    int n = 0;

    for (i = 0; pool && i < pool->nslots; i++) {
        apigw_cb_slot *s = &pool->slots[i];
        apr_uint64_t key = __atomic_load_n(&s->key, __ATOMIC_ACQUIRE);

        if (key == 0 || (key >> 63)) {
            continue;                   /* free, or being set up */
        }
        fn(baton, s, s->label, n++);
    }
    return n;
}

static void state_json(request_rec *r, const apigw_cb_breaker *b,
                       apigw_cb_slot *slot, const char *backend,
                       apr_time_t now, int first)
{
    double values[APIGW_CB_EXPR_MAX_TERMS];
    apigw_cb_totals t;
    apr_uint64_t w, total;
    apigw_cb_view v;
    double admission;
    int i, cond;

    w = apigw_cb_advance(r->server, b, slot, backend, now);
    v = apigw_cb_view_of(w);
    cond = apigw_cb_evaluate(b, slot, now, values, &total);
    apigw_cb_window_totals(&slot->window, now, 0, &t);
    admission = apigw_cb_admission(w, &b->set.timing, now);
    ap_rprintf(r, "%s\n    {\"backend\": %s, \"state\": \"%s\", "
               "\"since\": %s, \"for_ms\": %s, \"admission\": %s, "
               "\"trips\": %" APR_UINT64_T_FMT ",\n     \"window\": "
               "{\"requests\": %" APR_UINT64_T_FMT ", \"network_errors\": %"
               APR_UINT64_T_FMT, first ? "" : ",",
               apigw_json_str(r->pool, backend),
               apigw_cb_state_name(v.state),
               apigw_cb_status_time(r->pool, v.since),
               ms(r->pool, now - v.since),
               apigw_cb_num_text(r->pool, admission, 3),
               __atomic_load_n(&slot->trips, __ATOMIC_RELAXED),
               t.total, t.neterr);
    for (i = 1; i < APIGW_CB_CLASSES; i++) {
        ap_rprintf(r, ", \"%dxx\": %" APR_UINT64_T_FMT, i, t.classes[i]);
    }
    ap_rputs("},\n     \"values\": {", r);
    for (i = 0; i < apigw_cb_expr_nterms(b->expr); i++) {
        ap_rprintf(r, "%s%s: %s", i ? ", " : "",
                   apigw_json_str(r->pool,
                                  apigw_cb_expr_term(b->expr, i)->text),
                   apigw_cb_num_text(r->pool, values[i], 6));
    }
    ap_rprintf(r, "}, \"condition\": %s}", cond ? "true" : "false");
}

typedef struct {
    request_rec *r;
    const apigw_cb_breaker *b;
    apr_time_t now;
} state_baton;

static void each_state_json(void *baton, apigw_cb_slot *slot,
                            const char *backend, int n)
{
    state_baton *sb = baton;

    state_json(sb->r, sb->b, slot, backend, sb->now, n == 0);
}

static void breaker_json(request_rec *r, const apigw_cb_breaker *b,
                         apigw_cb_table *table, apr_time_t now, int first)
{
    apr_pool_t *p = r->pool;
    state_baton sb;

    ap_rprintf(r, "%s\n  {\"section\": %s, \"file\": %s, \"line\": %u,\n   "
               "\"expression\": %s, \"preset\": %s, \"scope\": \"%s\",\n   "
               "\"check_ms\": %s, \"fallback_ms\": %s, \"recovery_ms\": %s, "
               "\"status\": %d, \"min_requests\": %" APR_UINT64_T_FMT
               ", \"fallback_backend\": %s,\n   \"states\": [",
               first ? "" : ",", apigw_json_str(p, b->section),
               apigw_json_str(p, b->file),
               b->line, apigw_json_str(p, apigw_cb_expr_text(b->expr)),
               apigw_json_str(p, b->preset),
               b->set.scope_backend ? "backend" : "endpoint",
               ms(p, b->set.timing.check), ms(p, b->set.timing.fallback),
               ms(p, b->set.timing.recovery), b->set.status,
               b->set.min_requests,
               apigw_json_str(p, b->set.fallback_backend));
    sb.r = r;
    sb.b = b;
    sb.now = now;
    apigw_cb_status_each_state(p, b, table, each_state_json, &sb);
    ap_rputs("]}", r);
}

/* The state slot of a runtime route, as its last request left it. */
static void route_json(request_rec *r, apigw_cb_slot *slot, apr_time_t now,
                       int first)
{
    apigw_cb_view v = apigw_cb_view_of(apigw_cb_slot_word(slot));
    apr_uint64_t used = __atomic_load_n(&slot->last_used, __ATOMIC_RELAXED);
    apigw_cb_totals t;
    int i;

    apigw_cb_window_totals(&slot->window, now, 0, &t);
    ap_rprintf(r, "%s\n  {\"route\": %s, \"state\": \"%s\", \"since\": %s, "
               "\"last_used\": %s, \"trips\": %" APR_UINT64_T_FMT ",\n   "
               "\"window\": {\"requests\": %" APR_UINT64_T_FMT
               ", \"network_errors\": %" APR_UINT64_T_FMT, first ? "" : ",",
               apigw_json_str(r->pool, apr_pstrndup(r->pool, slot->label,
                                                 APIGW_CB_LABEL_LEN)),
               apigw_cb_state_name(v.state),
               apigw_cb_status_time(r->pool, v.since),
               apigw_cb_status_time(r->pool,
                                    apr_time_from_sec((apr_time_t)used)),
               __atomic_load_n(&slot->trips, __ATOMIC_RELAXED), t.total,
               t.neterr);
    for (i = 1; i < APIGW_CB_CLASSES; i++) {
        ap_rprintf(r, ", \"%dxx\": %" APR_UINT64_T_FMT, i, t.classes[i]);
    }
    ap_rputs("}}", r);
}

typedef struct {
    request_rec *r;
    apigw_cb_table *pool;
    apr_time_t now;
} route_baton;

/* ,"route_slots": N, "routes": [ before the first route */
static void each_route_json(void *baton, apigw_cb_slot *slot,
                            const char *route, int n)
{
    route_baton *rb = baton;

    (void)route;
    if (n == 0) {
        ap_rprintf(rb->r, ",\n\"route_slots\": %" APR_UINT64_T_FMT
                   ", \"routes\": [", rb->pool->nslots);
    }
    route_json(rb->r, slot, rb->now, n == 0);
}

/* ,"route_slots": N, "routes": [...] when some runtime route has a state
 * in the pool; nothing else. */
static void routes_json(request_rec *r, apigw_cb_table *pool, apr_time_t now)
{
    route_baton rb;

    rb.r = r;
    rb.pool = pool;
    rb.now = now;
    if (apigw_cb_status_each_route(pool, each_route_json, &rb)) {
        ap_rputs("\n]", r);
    }
}

int apigw_cb_status_handler(request_rec *r)
{
    apr_array_header_t *all = apigw_cb_breakers();
    apigw_cb_table *table = apigw_cb_shm_table();
    apr_time_t now = apr_time_now();
    int i;

    if (!r->handler || strcmp(r->handler, APIGW_CB_STATUS_HANDLER) != 0) {
        return DECLINED;
    }
    r->allowed = (AP_METHOD_BIT << M_GET);
    if (r->method_number != M_GET) {
        return HTTP_METHOD_NOT_ALLOWED;
    }
    ap_set_content_type(r, "application/json");
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    if (r->header_only) {
        return OK;
    }
    ap_rprintf(r, "{\"time\": %s, \"slots\": %" APR_UINT64_T_FMT
               ", \"breakers\": [", apigw_cb_status_time(r->pool, now),
               table ? table->nslots : 0);
    for (i = 0; all && i < all->nelts; i++) {
        breaker_json(r, APR_ARRAY_IDX(all, i, apigw_cb_breaker *), table, now,
                     i == 0);
    }
    ap_rputs("\n]", r);
    routes_json(r, apigw_cb_shm_route_pool(), now);
    ap_rputs("}\n", r);
    return OK;
}
