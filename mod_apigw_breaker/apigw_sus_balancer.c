/* The suspension half's view of balancers: shared memory for the members'
 * states (made in post_config after mod_proxy_balancer has shared its own
 * members, inherited by the children), the mutex for state changes
 * (registered in pre_config, made in post_config, reopened in child_init),
 * and apigw_sus_report, the one place where an outcome moves a member.
 *
 * A suspended member is a member in mod_proxy_balancer's own error state:
 * PROXY_WORKER_IN_ERROR with error_time and retry set to the suspension,
 * so balancer-manager shows it and mod_proxy's own retry logic ends it.
 * Between suspensions a member's retry holds its next suspension's length,
 * so the error marks mod_proxy sets itself (a refused connection) already
 * last as long as the policy says until the outcome is reported here. */
#include "apigw_sus_balancer.h"
#include "apigw_log.h"

#include "http_log.h"
#include "util_mutex.h"
#include "apr_strings.h"
#include "apr_shm.h"
#include "apr_global_mutex.h"

APLOG_USE_MODULE(apigw_breaker);

#define MUTEX_TYPE "apigw-balancer-suspend"
#define ALIGN64(n) (((n) + 63) & ~(apr_size_t)63)

/* Made in the parent before the children fork. */
static apr_global_mutex_t *sus_mutex;
int apigw_sus_affinity_in_use;

typedef struct {
    apigw_sus_pool *pool;
    apr_size_t offset;
} pool_layout;

/* ---- lookups ---- */

apigw_sus_pool *apigw_sus_pool_of(const server_rec *s, const proxy_balancer *b)
{
    const struct apigw_sus_server_conf *sc = apigw_sus_server(s);

    if (!sc->pools || !b || !b->s) {
        return NULL;
    }
    return apr_hash_get(sc->pools, &b->s, sizeof(b->s));
}

apigw_sus_pool *apigw_sus_pool_of_url(const server_rec *s, apr_pool_t *p,
                                      const char *url)
{
    const struct apigw_sus_server_conf *sc = apigw_sus_server(s);
    const char *end;
    apigw_sus_pool *pool;
    proxy_balancer *b;

    if (!sc->pools_by_name) {
        return NULL;
    }
    /* mod_proxy writes balancer names in lower case (the common case),
     * else its own lookup decides */
    end = ap_strchr_c(url + sizeof("balancer://") - 1, '/');
    pool = apr_hash_get(sc->pools_by_name, url,
                        end ? (apr_ssize_t)(end - url) : APR_HASH_KEY_STRING);
    if (!pool) {
        b = ap_proxy_get_balancer(p, ap_get_module_config(s->module_config,
                                                          &proxy_module),
                                  url, 0);
        pool = b ? apigw_sus_pool_of(s, b) : NULL;
    }
    return pool;
}

const apigw_sus_policy *apigw_sus_policy_of(const apigw_sus_pool *pool,
                                            const proxy_worker *w)
{
    int idx = w->s->index;
    const apigw_sus_policy *p = NULL;

    if (idx >= 0 && (apr_uint32_t)idx < pool->nslots) {
        p = pool->policy[idx];
    }
    return p ? p : pool->fallback;
}

apigw_sus_slot *apigw_sus_slot_of(const apigw_sus_pool *pool,
                                  const proxy_worker *w)
{
    int idx = w->s->index;

    if (!pool->slots || idx < 0 || (apr_uint32_t)idx >= pool->nslots) {
        return NULL;
    }
    return &pool->slots[idx];
}

const char *apigw_sus_outcome_text(apr_pool_t *p, const apigw_sus_outcome *o)
{
    if (o->transport) {
        const char *n = apigw_sus_transport_name(o->transport);
        return n ? n : "transport error";
    }
    return apr_psprintf(p, "HTTP %d", o->status);
}

/* ---- applying a state change to the member ---- */

static void set_in_error(proxy_worker *w, apr_time_t error_time,
                         apr_interval_time_t retry)
{
    /* retry and error_time first: mod_proxy reads them once it sees the
     * flag */
    w->s->retry = retry;
    w->s->error_time = error_time;
    __atomic_or_fetch(&w->s->status, PROXY_WORKER_IN_ERROR, __ATOMIC_RELEASE);
}

static void clear_in_error(proxy_worker *w)
{
    __atomic_and_fetch(&w->s->status, ~(unsigned int)PROXY_WORKER_IN_ERROR,
                       __ATOMIC_RELEASE);
}

static void apply(proxy_worker *w, const apigw_sus_effect *eff,
                  apr_time_t attempt_start)
{
    unsigned int status = __atomic_load_n(&w->s->status, __ATOMIC_ACQUIRE);

    switch (eff->action) {
    case APIGW_SUS_KEEP:
        break;
    case APIGW_SUS_ACTIVATE:
        w->s->retry = eff->retry;
        if (status & PROXY_WORKER_IN_ERROR) {
            clear_in_error(w);
        }
        break;
    case APIGW_SUS_UNMARK:
        /* only a mark mod_proxy set during this very attempt */
        if ((status & PROXY_WORKER_IN_ERROR)
            && w->s->error_time >= attempt_start) {
            clear_in_error(w);
        }
        break;
    case APIGW_SUS_MARK:
        if (!(status & PROXY_WORKER_IN_ERROR)
            || w->s->error_time != eff->error_time
            || w->s->retry != eff->retry) {
            set_in_error(w, eff->error_time, eff->retry);
        }
        break;
    }
}

static int lock(request_rec *r)
{
    apr_status_t rv = apr_global_mutex_lock(sus_mutex);

    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, APIGW_LOGNO(02508)
                      "cannot take the member-suspension mutex; this "
                      "outcome is not recorded");
        return 0;
    }
    return 1;
}

static void unlock(void)
{
    apr_global_mutex_unlock(sus_mutex);
}

static void log_change(request_rec *r, const apigw_sus_pool *pool,
                       const proxy_worker *w, const apigw_sus_policy *pol,
                       const apigw_sus_state *st, const apigw_sus_outcome *o)
{
    const char *cause = apigw_sus_outcome_text(r->pool, o);

    switch (st->state) {
    case APIGW_SUS_SUSPENDED:
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, APIGW_LOGNO(02505)
                      "%s: member %s suspended for %" APR_TIME_T_FMT "ms "
                      "after %s (suspension %u since its last success)",
                      pool->name, w->s->name_ex, apr_time_as_msec(st->length),
                      cause, st->suspensions);
        break;
    case APIGW_SUS_TIMEOUT:
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, APIGW_LOGNO(02506)
                      "%s: member %s in the timeout state after %s (%u of "
                      "%d retries before suspension), skipped for %"
                      APR_TIME_T_FMT "ms", pool->name, w->s->name_ex, cause,
                      st->timeouts, pol->retries, apr_time_as_msec(st->length));
        break;
    default:
        ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r, APIGW_LOGNO(02507)
                      "%s: member %s is active again", pool->name,
                      w->s->name_ex);
        break;
    }
}

/* The slot belongs to another member (one added where a removed one was):
 * start afresh. Under the mutex. */
static void own_slot(apigw_sus_slot *slot, const proxy_worker *w)
{
    if (slot->worker_hash != w->s->hash.def) {
        memset(&slot->st, 0, sizeof(slot->st));
        slot->dirty = 0;
        slot->probe_until = 0;
        slot->worker_hash = w->s->hash.def;
    }
}

/* The member starts afresh: active, no progression (nor the reason of its
 * last suspension), its next suspension the first. Under the mutex. */
static void restart_progression(apigw_sus_slot *slot,
                                const apigw_sus_policy *pol, proxy_worker *w,
                                apr_time_t now)
{
    memset(&slot->st, 0, sizeof(slot->st));
    slot->st.since = now;
    slot->dirty = 0;
    w->s->retry = apigw_sus_next_suspension(pol, 0);
}

/* The member's counters (any pool, policy or not). */
static void count(apigw_sus_slot *slot, const apigw_sus_outcome *o)
{
    int kind;

    if (!slot) {
        return;
    }
    __atomic_fetch_add(&slot->attempts, 1, __ATOMIC_RELAXED);
    if ((kind = apigw_sus_error_kind(o)) >= 0) {
        __atomic_fetch_add(&slot->errors[kind], 1, __ATOMIC_RELAXED);
    }
}

void apigw_sus_report(request_rec *r, apigw_sus_pool *pool, proxy_worker *w,
                      const apigw_sus_outcome *o, apr_time_t attempt_start)
{
    const apigw_sus_policy *pol = apigw_sus_policy_of(pool, w);
    apigw_sus_slot *slot = apigw_sus_slot_of(pool, w);
    apigw_sus_class cls;
    apigw_sus_effect eff;
    apigw_sus_state after;
    apr_time_t now;

    count(slot, o);
    if (!pol || !slot || !sus_mutex) {
        return;
    }
    cls = apigw_sus_classify(pol, o);
    /* the common case: a success of a member with nothing to reset */
    if (cls == APIGW_SUS_SUCCESS
        && !__atomic_load_n(&slot->dirty, __ATOMIC_ACQUIRE)
        && __atomic_load_n(&slot->worker_hash, __ATOMIC_RELAXED)
           == w->s->hash.def) {
        return;
    }
    now = apr_time_now();
    if (!lock(r)) {
        return;
    }
    own_slot(slot, w);
    if (w->s->status & PROXY_WORKER_IGNORE_ERRORS) {
        /* an operator set "Ignore Errors" (balancer-manager): the member
         * is never suspended, and starts afresh when it is set back */
        int was_dirty = slot->dirty != 0;

        if (was_dirty) {
            restart_progression(slot, pol, w, now);
        }
        slot->probe_until = 0;
        unlock();
        if (was_dirty) {
            ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r, APIGW_LOGNO(02509)
                          "%s: member %s is set to ignore errors: its "
                          "suspension is over and its progression reset",
                          pool->name, w->s->name_ex);
        }
        return;
    }
    apigw_sus_step(pol, &slot->st, cls, apigw_sus_reason_of(o),
                   attempt_start, now, &eff);
    slot->dirty = apigw_sus_state_dirty(&slot->st);
    if (cls != APIGW_SUS_NEUTRAL || slot->st.state != APIGW_SUS_SUSPENDED) {
        slot->probe_until = 0;
    }
    apply(w, &eff, attempt_start);
    after = slot->st;
    unlock();
    if (eff.changed) {
        log_change(r, pool, w, pol, &after, o);
    }
}

int apigw_sus_resume(request_rec *r, apigw_sus_pool *pool, proxy_worker *w)
{
    const apigw_sus_policy *pol = pool ? apigw_sus_policy_of(pool, w) : NULL;
    apigw_sus_slot *slot = pool ? apigw_sus_slot_of(pool, w) : NULL;
    int locked = 0;

    if (pol && slot && sus_mutex) {
        if (!(locked = lock(r))) {
            return 0;
        }
        own_slot(slot, w);
        restart_progression(slot, pol, w, apr_time_now());
        slot->probe_until = 0;
    }
    /* balancer-manager's "enable" (w_status_D=0), then mod_proxy's own
     * end of an error state (ap_proxy_retry_worker) */
    __atomic_and_fetch(&w->s->status, ~(unsigned int)PROXY_WORKER_DISABLED,
                       __ATOMIC_RELEASE);
    clear_in_error(w);
    if (locked) {
        unlock();
    }
    return 1;
}

int apigw_sus_probe_claim(apigw_sus_pool *pool, proxy_worker *w,
                          apr_time_t now, apr_interval_time_t ttl,
                          int *claimed)
{
    apigw_sus_slot *slot;
    apr_time_t until, since;
    apr_interval_time_t length;

    *claimed = 0;
    if (!pool || !(slot = apigw_sus_slot_of(pool, w))
        || !__atomic_load_n(&slot->dirty, __ATOMIC_ACQUIRE)
        || __atomic_load_n(&slot->st.state, __ATOMIC_ACQUIRE)
           != APIGW_SUS_SUSPENDED) {
        return 1;
    }
    since = __atomic_load_n(&slot->st.since, __ATOMIC_ACQUIRE);
    length = __atomic_load_n(&slot->st.length, __ATOMIC_ACQUIRE);
    if (now < since + length) {
        return 1;           /* still suspended: mod_proxy keeps it out */
    }
    until = __atomic_load_n(&slot->probe_until, __ATOMIC_ACQUIRE);
    if (until > now) {
        return 0;           /* another request is probing it */
    }
    if (!__atomic_compare_exchange_n(&slot->probe_until, &until, now + ttl, 0,
                                     __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        return 0;
    }
    *claimed = 1;
    return 1;
}

void apigw_sus_probe_release(apigw_sus_pool *pool, proxy_worker *w)
{
    apigw_sus_slot *slot = pool ? apigw_sus_slot_of(pool, w) : NULL;

    if (slot) {
        __atomic_store_n(&slot->probe_until, 0, __ATOMIC_RELEASE);
    }
}

/* ---- startup ---- */

int apigw_sus_balancer_pre_config(apr_pool_t *pconf, apr_pool_t *plog,
                                  apr_pool_t *ptemp)
{
    (void)plog;
    (void)ptemp;
    /* registered before the config is read, so a Mutex line can set it */
    return ap_mutex_register(pconf, MUTEX_TYPE, NULL, APR_LOCK_DEFAULT, 0)
           == APR_SUCCESS ? OK : !OK;
}

/* Builds the pools of one server: policies and sizes; the shared memory
 * comes later. Returns whether any member has a policy. */
static int make_pools(apr_pool_t *pconf, server_rec *s,
                      apr_array_header_t *layouts, apr_size_t *size)
{
    struct apigw_sus_server_conf *sc = apigw_sus_server(s);
    proxy_server_conf *pc = ap_get_module_config(s->module_config,
                                                 &proxy_module);
    proxy_balancer *balancers = (proxy_balancer *)pc->balancers->elts;
    int i, j, managed = 0;

    sc->pools = apr_hash_make(pconf);
    sc->pools_by_name = apr_hash_make(pconf);
    for (i = 0; i < pc->balancers->nelts; i++) {
        proxy_balancer *b = &balancers[i];
        apigw_sus_pool *pool = apr_pcalloc(pconf, sizeof(*pool));
        pool_layout *l;
        const char *err;

        if (!b->s || b->max_workers <= 0) {
            continue;
        }
        pool->balancer = b;
        pool->s = s;
        pool->name = apr_pstrdup(pconf, b->s->name);
        pool->nslots = (apr_uint32_t)b->max_workers;
        pool->policy = apr_pcalloc(pconf, sizeof(*pool->policy) * pool->nslots);
        pool->fallback = apigw_sus_resolve(pconf, sc, pool->name, NULL, &err);
        pool->managed = pool->fallback != NULL;
        for (j = 0; j < b->workers->nelts; j++) {
            proxy_worker *w = APR_ARRAY_IDX(b->workers, j, proxy_worker *);
            const apigw_sus_policy *pol;

            if (w->s->index < 0 || (apr_uint32_t)w->s->index >= pool->nslots) {
                continue;
            }
            pol = apigw_sus_resolve(pconf, sc, pool->name, w->s->name_ex,
                                    &err);
            pool->policy[w->s->index] = pol;
            if (pol) {
                pool->managed = 1;
                /* the member's first suspension, should mod_proxy mark it
                 * before its outcome reaches us */
                w->s->retry = apigw_sus_next_suspension(pol, 0);
                w->s->retry_set = 1;
            }
        }
        pool->affinity = apigw_sus_find_affinity(sc, pool->name);
        managed |= pool->managed;

        l = apr_array_push(layouts);
        l->pool = pool;
        l->offset = *size;
        *size += ALIGN64(sizeof(apigw_sus_shared))
                 + ALIGN64(sizeof(apigw_sus_slot) * pool->nslots)
                 + ALIGN64(pool->affinity ? sizeof(apigw_sus_session)
                                            * (apr_size_t)pool->affinity->sessions
                                          : 0);
        apr_hash_set(sc->pools, &b->s, sizeof(b->s), pool);
        apr_hash_set(sc->pools_by_name, pool->name, APR_HASH_KEY_STRING, pool);
        if (pool->affinity) {
            apigw_sus_affinity_in_use = 1;
        }
    }
    return managed;
}

int apigw_sus_balancer_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                                   apr_pool_t *ptemp, server_rec *s)
{
    apr_array_header_t *layouts = apr_array_make(ptemp, 8,
                                                 sizeof(pool_layout));
    apr_size_t size = 0;
    apr_shm_t *shm;
    apr_status_t rv;
    char *base;
    server_rec *vs;
    int i, managed = 0;

    (void)plog;
    /* the first pass at startup only checks the config */
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) {
        return OK;
    }
    sus_mutex = NULL;
    apigw_sus_affinity_in_use = 0;
    for (vs = s; vs; vs = vs->next) {
        managed |= make_pools(pconf, vs, layouts, &size);
    }
    if (!size) {
        return OK;
    }
    /* one segment per configuration generation, inherited by the children;
     * a restart starts every progression afresh (a suspended member stays
     * in mod_proxy's error state for its current suspension) */
    rv = apr_shm_create(&shm, size, NULL, pconf);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, APIGW_LOGNO(02503)
                     "cannot create %" APR_SIZE_T_FMT " bytes of shared "
                     "memory for the balancer members' states", size);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    base = apr_shm_baseaddr_get(shm);
    memset(base, 0, size);
    for (i = 0; i < layouts->nelts; i++) {
        pool_layout *l = &APR_ARRAY_IDX(layouts, i, pool_layout);
        char *p = base + l->offset;

        l->pool->shared = (apigw_sus_shared *)p;
        p += ALIGN64(sizeof(apigw_sus_shared));
        l->pool->slots = (apigw_sus_slot *)p;
        p += ALIGN64(sizeof(apigw_sus_slot) * l->pool->nslots);
        l->pool->sessions = l->pool->affinity ? (apigw_sus_session *)p : NULL;
    }
    if (managed) {
        rv = ap_global_mutex_create(&sus_mutex, NULL, MUTEX_TYPE, NULL, s,
                                    pconf, 0);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, APIGW_LOGNO(02504)
                         "cannot create the %s mutex", MUTEX_TYPE);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    return OK;
}

void apigw_sus_balancer_child_init(apr_pool_t *pchild, server_rec *s)
{
    apr_status_t rv;

    if (!sus_mutex) {
        return;
    }
    rv = apr_global_mutex_child_init(&sus_mutex,
                                     apr_global_mutex_lockfile(sus_mutex),
                                     pchild);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, APIGW_LOGNO(02510)
                     "cannot reopen the %s mutex in a child; member "
                     "suspension is off in it", MUTEX_TYPE);
        sus_mutex = NULL;
    }
}
