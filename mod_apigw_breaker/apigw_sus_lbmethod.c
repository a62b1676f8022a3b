/* Two lbmethods for mod_proxy_balancer (providers registered by
 * mod_apigw_breaker.c), listed in balancer-manager's method menu like the
 * stock ones (ProxySet lbmethod=failover):
 *
 *   failover    the first usable member in declared order: the primary
 *               while it is active, then the next one
 *   roundrobin  one member after the other, a turn counter in shared
 *               memory so every child takes the next turn
 *
 * Both go through mod_proxy's own ap_proxy_balancer_get_best_worker, so
 * lbsets, hot standbys and spares, draining and retry after an error work
 * as with the stock methods; on top of it they skip members this request
 * has already tried (a retry goes to the next one), let one request at a
 * time probe a member whose suspension is over, and follow the balancer's
 * ApiBalancerAffinity session. mod_proxy_balancer calls them under its
 * per-process balancer lock. */
#include "apigw_sus_lbmethod.h"
#include "apigw_sus_request.h"

typedef struct {
    const apigw_sus_req *st;
    apr_uint64_t excluded[2];       /* members another request probes */
    int skip_tried;
    proxy_balancer *balancer;
    int start;                      /* roundrobin: this turn's position */
} pick_ctx;

static int excluded(const pick_ctx *ctx, const proxy_worker *w)
{
    int idx = w->s->index;

    return idx >= 0 && idx < 128
           && ((ctx->excluded[idx / 64] >> (idx % 64)) & 1);
}

static void exclude(pick_ctx *ctx, const proxy_worker *w)
{
    int idx = w->s->index;

    if (idx >= 0 && idx < 128) {
        ctx->excluded[idx / 64] |= (apr_uint64_t)1 << (idx % 64);
    }
}

static int eligible(const pick_ctx *ctx, const proxy_worker *w)
{
    return !excluded(ctx, w)
           && !(ctx->skip_tried && apigw_sus_req_tried(ctx->st, w));
}

static int is_best_first(proxy_worker *current, proxy_worker *prev_best,
                         void *baton)
{
    return !prev_best && eligible(baton, current);
}

static int position(const proxy_balancer *b, const proxy_worker *w)
{
    int i;

    for (i = 0; i < b->workers->nelts; i++) {
        if (APR_ARRAY_IDX(b->workers, i, proxy_worker *) == w) {
            return i;
        }
    }
    return 0;
}

static int is_best_turn(proxy_worker *current, proxy_worker *prev_best,
                        void *baton)
{
    pick_ctx *ctx = baton;
    int n = ctx->balancer->workers->nelts;
    int d_cur, d_prev;

    if (!eligible(ctx, current)) {
        return 0;
    }
    if (!prev_best) {
        return 1;
    }
    d_cur = (position(ctx->balancer, current) - ctx->start + n) % n;
    d_prev = (position(ctx->balancer, prev_best) - ctx->start + n) % n;
    return d_cur < d_prev;
}

static proxy_worker *worker_with_index(const proxy_balancer *b, int idx)
{
    int i;

    for (i = 0; i < b->workers->nelts; i++) {
        proxy_worker *w = APR_ARRAY_IDX(b->workers, i, proxy_worker *);
        if (w->s->index == idx) {
            return w;
        }
    }
    return NULL;
}

static apr_interval_time_t probe_ttl(const proxy_worker *w)
{
    return (w->s->timeout_set ? w->s->timeout : apr_time_from_sec(10))
           + apr_time_from_sec(1);
}

/* May this request use w? Claims the probe of a member whose suspension
 * is over. */
static int take(apigw_sus_pool *pool, apigw_sus_req *st, proxy_worker *w,
                apr_time_t now)
{
    int claimed;

    if (!apigw_sus_probe_claim(pool, w, now, probe_ttl(w), &claimed)) {
        return 0;
    }
    if (claimed && st) {
        st->probe = w;
    }
    return 1;
}

/* The member the request's affinity session went to, while it is usable
 * and not already tried by this request. */
static proxy_worker *session_member(apigw_sus_pool *pool, apigw_sus_req *st,
                                    proxy_balancer *b, apr_time_t now)
{
    proxy_worker *w;
    int idx;

    if (!pool || !pool->affinity || !pool->sessions || !st
        || !st->session_key) {
        return NULL;
    }
    idx = apigw_sus_session_find(pool->sessions,
                                 (apr_uint32_t)pool->affinity->sessions,
                                 st->session_key, now, pool->affinity->timeout);
    if (idx < 0 || !(w = worker_with_index(b, idx))
        || PROXY_WORKER_IS_DRAINING(w) || apigw_sus_req_tried(st, w)) {
        return NULL;
    }
    if (!PROXY_WORKER_IS_USABLE(w) || !take(pool, st, w, now)) {
        return NULL;
    }
    return w;
}

static proxy_worker *find(proxy_balancer *b, request_rec *r, int by_turn)
{
    apigw_sus_pool *pool = apigw_sus_pool_of(r->server, b);
    apigw_sus_req *st = apigw_sus_req_get(r);
    apr_time_t now = apr_time_now();
    proxy_worker *w;
    pick_ctx ctx;
    int pass, i;

    if ((w = session_member(pool, st, b, now)) != NULL) {
        return w;
    }
    memset(&ctx, 0, sizeof(ctx));
    ctx.st = st;
    ctx.balancer = b;
    if (by_turn && b->workers->nelts > 0) {
        static apr_uint64_t local_turn;     /* without shared memory */
        apr_uint64_t *turn = pool && pool->shared ? &pool->shared->rr
                                                  : &local_turn;
        ctx.start = (int)(__atomic_fetch_add(turn, 1, __ATOMIC_RELAXED)
                          % (apr_uint64_t)b->workers->nelts);
    }
    /* first the members this request has not tried yet, then any */
    for (pass = 0; pass < 2; pass++) {
        ctx.skip_tried = pass == 0 && st != NULL;
        for (i = 0; i <= b->workers->nelts; i++) {
            w = ap_proxy_balancer_get_best_worker(b, r, by_turn ? is_best_turn
                                                                : is_best_first,
                                                  &ctx);
            if (!w) {
                break;
            }
            if (take(pool, st, w, now)) {
                return w;
            }
            exclude(&ctx, w);       /* another request is probing it */
        }
        if (!ctx.skip_tried) {
            break;
        }
    }
    return NULL;
}

static proxy_worker *find_failover(proxy_balancer *b, request_rec *r)
{
    return find(b, r, 0);
}

static proxy_worker *find_roundrobin(proxy_balancer *b, request_rec *r)
{
    return find(b, r, 1);
}

static apr_status_t nothing_to_reset(proxy_balancer *b, server_rec *s)
{
    (void)b;
    (void)s;
    return APR_SUCCESS;
}

const proxy_balancer_method apigw_sus_lbmethod_failover = {
    "failover", find_failover, NULL, nothing_to_reset, nothing_to_reset, NULL
};

const proxy_balancer_method apigw_sus_lbmethod_roundrobin = {
    "roundrobin", find_roundrobin, NULL, nothing_to_reset, nothing_to_reset,
    NULL
};

int apigw_sus_lbmethod_is_failover(const proxy_balancer *b)
{
    return b->lbmethod == &apigw_sus_lbmethod_failover;
}
