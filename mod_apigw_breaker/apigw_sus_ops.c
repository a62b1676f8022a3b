/* Owns the balancer pools of the management API: the optional functions
 * apigw_ops_pools and apigw_ops_resume_member (apigw_contract.h,
 * registered in mod_apigw_breaker.c). A pool and its members are read
 * from mod_proxy_balancer's shared memory (synced as balancer-manager
 * syncs them), a member's suspension and its request and error counters
 * from its slot in the suspension half's shared memory
 * (apigw_sus_balancer.c); resuming is apigw_sus_resume's. Nothing is kept
 * here. */
#include "apigw_sus_ops.h"
#include "apigw_sus_balancer.h"
#include "apigw_cb_status.h"
#include "apigw_json.h"
#include "apigw_log.h"

#include "http_log.h"
#include "apr_strings.h"

APLOG_USE_MODULE(apigw_breaker);

#define MEMBER_OFF (PROXY_WORKER_DISABLED | PROXY_WORKER_STOPPED)

/* A member's suspension state as its slot holds it, read without the
 * mutex (each field atomically); zeros when the slot is another member's,
 * or there is none. */
static void slot_state(const apigw_sus_pool *pool, const proxy_worker *w,
                       apigw_sus_state *st)
{
    apigw_sus_slot *slot = pool ? apigw_sus_slot_of(pool, w) : NULL;

    memset(st, 0, sizeof(*st));
    if (!slot
        || __atomic_load_n(&slot->worker_hash, __ATOMIC_ACQUIRE)
           != w->s->hash.def
        || !__atomic_load_n(&slot->dirty, __ATOMIC_ACQUIRE)) {
        return;
    }
    st->state = __atomic_load_n(&slot->st.state, __ATOMIC_ACQUIRE);
    st->timeouts = __atomic_load_n(&slot->st.timeouts, __ATOMIC_RELAXED);
    st->suspensions = __atomic_load_n(&slot->st.suspensions,
                                      __ATOMIC_RELAXED);
    st->reason = __atomic_load_n(&slot->st.reason, __ATOMIC_RELAXED);
    st->since = __atomic_load_n(&slot->st.since, __ATOMIC_RELAXED);
    st->length = __atomic_load_n(&slot->st.length, __ATOMIC_RELAXED);
}

/* The error code that put the member in its state ("connect-refused",
 * "503") as JSON; null when the state names none (a read that raced the
 * member's return to active). */
static const char *reason_json(apr_pool_t *p, apr_uint32_t reason)
{
    const char *name = apigw_sus_reason_name(p, reason);

    return name ? apigw_json_str(p, name) : "null";
}

/* The member's counters from its slot: ,"requests":N,"errors":{...}
 * with the kinds it had (none for a member without a slot). */
static const char *counters_json(apr_pool_t *p, const apigw_sus_pool *pool,
                                 const proxy_worker *w)
{
    apigw_sus_slot *slot = pool ? apigw_sus_slot_of(pool, w) : NULL;
    apr_array_header_t *errs = apr_array_make(p, 4, sizeof(const char *));
    apr_uint64_t n;
    int k;

    if (!slot) {
        return ",\"requests\":0,\"errors\":{}";
    }
    for (k = 0; k < APIGW_SUS_ERROR_KINDS; k++) {
        if ((n = __atomic_load_n(&slot->errors[k], __ATOMIC_RELAXED)) > 0) {
            APR_ARRAY_PUSH(errs, const char *) = apr_psprintf(
                p, "\"%s\":%" APR_UINT64_T_FMT,
                apigw_sus_error_kind_name(k), n);
        }
    }
    return apr_psprintf(p, ",\"requests\":%" APR_UINT64_T_FMT
                        ",\"errors\":{%s}",
                        __atomic_load_n(&slot->attempts, __ATOMIC_RELAXED),
                        apr_array_pstrcat(p, errs, ','));
}

static const char *member_json(apr_pool_t *p, const proxy_balancer *b,
                               const apigw_sus_pool *pool,
                               const proxy_worker *w)
{
    unsigned int status = __atomic_load_n(&w->s->status, __ATOMIC_ACQUIRE);
    const char *state = "active", *since = "null", *until = "null";
    const char *reason = "null";
    apr_uint32_t suspensions = 0;
    apigw_sus_state st;

    slot_state(pool, w, &st);
    if (status & MEMBER_OFF) {
        state = "disabled";
    }
    else if (st.state == APIGW_SUS_SUSPENDED) {
        state = "suspended";
        since = apigw_cb_status_time(p, st.since);
        until = apigw_cb_status_time(p, st.since + st.length);
        suspensions = st.suspensions;
        reason = reason_json(p, st.reason);
    }
    else if (st.state == APIGW_SUS_TIMEOUT) {
        state = "timeout";
        suspensions = st.suspensions;
        reason = reason_json(p, st.reason);
    }
    else if (status & PROXY_WORKER_IN_ERROR) {
        /* mod_proxy's own error state, without a policy of ours (or
         * before our outcome of the attempt is in) */
        apr_time_t at = w->s->error_time;

        state = "suspended";
        if (at > 0) {
            since = apigw_cb_status_time(p, at);
            until = apigw_cb_status_time(p, at + w->s->retry);
        }
    }
    else if (status & PROXY_WORKER_HC_FAIL) {
        state = "suspended";        /* mod_proxy_hcheck's */
    }
    return apr_psprintf(p, "{\"pool\":%s,\"name\":%s,\"state\":\"%s\","
                        "\"suspendedSince\":%s,\"suspendedUntil\":%s,"
                        "\"reason\":%s,\"suspensions\":%u,"
                        "\"retries\":%u%s}",
                        apigw_json_str(p, b->s->name),
                        apigw_json_str(p, w->s->name_ex), state, since,
                        until, reason, suspensions, st.timeouts,
                        counters_json(p, pool, w));
}

/* Members balancer-manager added in another child, as its own page and
 * every balancer request do. */
static void sync_members(request_rec *r, proxy_balancer *b,
                         proxy_server_conf *conf)
{
    apr_status_t rv = PROXY_THREAD_LOCK(b);

    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, rv, r, APIGW_LOGNO(02042)
                      "%s: cannot take the balancer's lock; its members "
                      "are shown as this process knows them", b->s->name);
        return;
    }
    ap_proxy_sync_balancer(b, r->server, conf);
    PROXY_THREAD_UNLOCK(b);
}

static const char *pool_json(request_rec *r, proxy_balancer *b)
{
    apr_pool_t *p = r->pool;
    apigw_sus_pool *pool = apigw_sus_pool_of(r->server, b);
    apr_array_header_t *m = apr_array_make(p, b->workers->nelts,
                                           sizeof(const char *));
    const char *lbmethod = b->lbmethod ? b->lbmethod->name : b->s->lbpname;
    int i;

    for (i = 0; i < b->workers->nelts; i++) {
        APR_ARRAY_PUSH(m, const char *) = member_json(
            p, b, pool, APR_ARRAY_IDX(b->workers, i, proxy_worker *));
    }
    return apr_psprintf(p, "{\"name\":%s,\"lbmethod\":%s,\"members\":[%s]}",
                        apigw_json_str(p, b->s->name),
                        apigw_json_str(p, lbmethod),
                        apr_array_pstrcat(p, m, ','));
}

const char *apigw_ops_pools(request_rec *r)
{
    proxy_server_conf *conf = ap_get_module_config(r->server->module_config,
                                                   &proxy_module);
    apr_array_header_t *out;
    proxy_balancer *b;
    int i;

    if (!conf || !conf->balancers) {
        return "[]";
    }
    out = apr_array_make(r->pool, conf->balancers->nelts,
                         sizeof(const char *));
    b = (proxy_balancer *)conf->balancers->elts;
    for (i = 0; i < conf->balancers->nelts; i++, b++) {
        if (!b->s || !b->workers) {
            continue;
        }
        sync_members(r, b, conf);
        APR_ARRAY_PUSH(out, const char *) = pool_json(r, b);
    }
    return apr_pstrcat(r->pool, "[", apr_array_pstrcat(r->pool, out, ','),
                       "]", NULL);
}

/* The balancer "balancer://NAME" (or NAME) of r's server, or NULL. */
static proxy_balancer *find_balancer(request_rec *r, proxy_server_conf *conf,
                                     const char *name)
{
    static const char prefix[] = "balancer://";

    if (ap_cstr_casecmpn(name, prefix, sizeof(prefix) - 1) != 0) {
        name = apr_pstrcat(r->pool, prefix, name, NULL);
    }
    return ap_proxy_get_balancer(r->pool, conf, name, 0);
}

const char *apigw_ops_resume_member(request_rec *r, const char *pool,
                                    const char *member,
                                    const char **member_json_out,
                                    int *not_found)
{
    proxy_server_conf *conf = ap_get_module_config(r->server->module_config,
                                                   &proxy_module);
    proxy_balancer *b;
    proxy_worker *w = NULL;
    apigw_sus_pool *sp;
    int i;

    *member_json_out = NULL;
    *not_found = 0;
    if (!pool || !*pool || !member || !*member) {
        return "pool and member are required";
    }
    if (!conf || !(b = find_balancer(r, conf, pool)) || !b->s) {
        *not_found = 1;
        return apr_psprintf(r->pool, "no balancer %s", pool);
    }
    sync_members(r, b, conf);
    for (i = 0; i < b->workers->nelts && !w; i++) {
        proxy_worker *c = APR_ARRAY_IDX(b->workers, i, proxy_worker *);

        if (apigw_sus_member_is(c, member)) {
            w = c;
        }
    }
    if (!w) {
        *not_found = 1;
        return apr_psprintf(r->pool, "%s has no member %s", b->s->name,
                            member);
    }
    sp = apigw_sus_pool_of(r->server, b);
    if (!apigw_sus_resume(r, sp, w)) {
        return "the member-suspension mutex could not be taken";
    }
    ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r, APIGW_LOGNO(02040)
                  "%s: member %s resumed by the management API: enabled, "
                  "out of its error state, its suspension progression "
                  "reset", b->s->name, w->s->name_ex);
    *member_json_out = member_json(r->pool, b, sp, w);
    return NULL;
}
