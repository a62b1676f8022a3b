/* The breakers' states in shared memory (post_config): one retained
 * anonymous segment (apigw_shm.h) made in the parent and inherited by
 * every child through fork(), so a breaker tripped in one child is
 * tripped in all. The segment outlives graceful restarts: states survive
 * one, each breaker finding its slot by its identity. The segment is made
 * again (states start afresh) only when it is too small for the new
 * configuration's breakers or of another layout.
 *
 * The runtime routes' breakers have a second retained segment, a pool of
 * ApiRouteBreakerSlots slots that routes claim at first use
 * (apigw_cb_route.c): made whenever mod_apigw is loaded, even without a
 * configured breaker, and made again only when its size changes. */
#include "apigw_cb_shm.h"
#include "apigw_cb_config.h"
#include "apigw_shm.h"
#include "apigw_log.h"

#include "http_log.h"
#include "http_core.h"
#include "http_config.h"

APLOG_USE_MODULE(apigw_breaker);

#define RETAINED_KEY "apigw_breaker_cb_shm"
#define RETAINED_ROUTE_KEY "apigw_breaker_cb_route_shm"
#define MIN_SLOTS 16

static apigw_cb_table *cb_table;
static apigw_cb_table *route_pool;

apigw_cb_table *apigw_cb_shm_table(void)
{
    return cb_table;
}

apigw_cb_table *apigw_cb_shm_route_pool(void)
{
    return route_pool;
}

/* The runtime routes' pool of n slots: the retained one when it has
 * exactly n, else a new one. */
static int make_route_pool(server_rec *s, apr_uint64_t n)
{
    apr_shm_t **shm = apigw_shm_retained(RETAINED_ROUTE_KEY);
    apr_size_t bytes = apigw_cb_table_bytes(n);
    apigw_cb_table *t;
    apr_status_t rv;

    if (*shm && (t = apigw_cb_table_attach(apr_shm_baseaddr_get(*shm),
                                           apr_shm_size_get(*shm))) != NULL
        && t->nslots == n) {
        route_pool = t;
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, APIGW_LOGNO(02007)
                     "runtime routes' circuit breakers: %" APR_UINT64_T_FMT
                     " state slots in the retained shared memory", n);
        return OK;
    }
    if ((rv = apigw_shm_renew(shm, bytes, s)) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, APIGW_LOGNO(02008)
                     "runtime routes' circuit breakers: cannot create %"
                     APR_SIZE_T_FMT " bytes of shared memory for %"
                     APR_UINT64_T_FMT " states (ApiRouteBreakerSlots)",
                     bytes, n);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    route_pool = apigw_cb_table_init(apr_shm_baseaddr_get(*shm),
                                     apr_shm_size_get(*shm));
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, APIGW_LOGNO(02007)
                 "runtime routes' circuit breakers: %" APR_UINT64_T_FMT
                 " state slots of %" APR_SIZE_T_FMT " bytes in new shared "
                 "memory", route_pool ? route_pool->nslots : 0,
                 sizeof(apigw_cb_slot));
    return route_pool ? OK : HTTP_INTERNAL_SERVER_ERROR;
}

/* The table to use: the retained one when it still fits, else a new one.
 * *kept says which. */
static apigw_cb_table *table_for(server_rec *s, apr_uint64_t need,
                                 apr_uint64_t want, int *kept)
{
    apr_shm_t **shm = apigw_shm_retained(RETAINED_KEY);
    apigw_cb_table *t;
    apr_size_t bytes;
    apr_status_t rv;

    if (*shm) {
        t = apigw_cb_table_attach(apr_shm_baseaddr_get(*shm),
                                  apr_shm_size_get(*shm));
        if (t && t->nslots >= need) {
            *kept = 1;
            return t;
        }
    }
    *kept = 0;
    bytes = apigw_cb_table_bytes(want);
    rv = apigw_shm_renew(shm, bytes, s);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, APIGW_LOGNO(02002)
                     "circuit breakers: cannot create %" APR_SIZE_T_FMT
                     " bytes of shared memory for their states", bytes);
        return NULL;
    }
    return apigw_cb_table_init(apr_shm_baseaddr_get(*shm),
                               apr_shm_size_get(*shm));
}

int apigw_cb_shm_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                             apr_pool_t *ptemp, server_rec *s)
{
    apr_array_header_t *all = apigw_cb_breakers();
    apr_uint64_t *owners, need = 0, want;
    apr_time_t now = apr_time_now();
    int i, kept = 0, per_backend = 0;

    (void)plog;
    (void)ptemp;
    /* the first pass at startup only checks the configuration */
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) {
        return OK;
    }
    cb_table = NULL;
    route_pool = NULL;
    /* mod_apigw serves runtime routes, whose breakers need the pool */
    if (ap_find_linked_module("mod_apigw.c")
        && make_route_pool(s, (apr_uint64_t)apigw_cb_route_slots(s)) != OK) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (!all || all->nelts == 0) {
        return OK;                  /* a retained segment waits, unused */
    }
    owners = apr_palloc(pconf, sizeof(*owners) * (apr_size_t)all->nelts);
    for (i = 0; i < all->nelts; i++) {
        apigw_cb_breaker *b = APR_ARRAY_IDX(all, i, apigw_cb_breaker *);
        owners[i] = b->owner;
        /* a scope=backend breaker may track up to a neighbourhood */
        need += b->set.scope_backend ? APIGW_CB_PROBE : 1;
        per_backend += b->set.scope_backend;
    }
    want = need * 2 < MIN_SLOTS ? MIN_SLOTS : need * 2;
    if (!(cb_table = table_for(s, need, want, &kept))) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    apigw_cb_table_free_unowned(cb_table, owners, all->nelts);
    for (i = 0; i < all->nelts; i++) {
        apigw_cb_breaker *b = APR_ARRAY_IDX(all, i, apigw_cb_breaker *);

        b->slot = NULL;
        if (b->set.scope_backend) {
            continue;
        }
        b->slot = apigw_cb_table_claim(cb_table, b->owner, b->owner, NULL,
                                       now);
        if (!b->slot) {
            /* the table is twice the need: only a full neighbourhood */
            ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, APIGW_LOGNO(02003)
                         "circuit breaker %s (%s:%u): no free state slot; "
                         "it stays in standby", b->section, b->file, b->line);
            continue;
        }
        b->slot->pinned = 1;
    }
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, APIGW_LOGNO(02001)
                 "circuit breakers: %d (%d per backend), %" APR_UINT64_T_FMT
                 " state slots of %" APR_SIZE_T_FMT " bytes in %s shared "
                 "memory", all->nelts, per_backend, cb_table->nslots,
                 sizeof(apigw_cb_slot), kept ? "the retained" : "new");
    return OK;
}
