/* Enforcement of ApiRateLimit: per request, each limit of the context
 * picks its policy (a tier, or its own numbers), builds its key, takes a
 * token from the zone or from Redis, maybe waits for it (delay=), and the
 * response gets the rate-limit headers; a refusal is answered as JSON.
 *
 *   apigw_rl_fixups            every limit takes its token; headers; a
 *                              refusal is noted, and marked for the other
 *                              modules (apigw_refuse). The limits are the
 *                              context's, then the runtime route's one
 *                              attached at translate_name, if any
 *                              (apigw_rl_route.c): a route's limit adds to
 *                              the context's as an <ApiEndpoint>'s does
 *   apigw_rl_refusal_handler   a refused request is answered here, before
 *                              mod_apigw or mod_proxy could contact a
 *                              backend
 *   apigw_rl_request_child_init  the cap on waiting requests
 *
 * (mod_apigw_ratelimit.c registers them, and says which modules they run
 * before and after.)
 *
 * Why fixups, i.e. after access control, and not earlier (nginx's
 * limit_req runs before access): in httpd, everything that decides who the
 * client is has run by then — access_checker (Require ip/host/env),
 * check_user_id (authentication) and auth_checker (Require user/group...)
 * — so (1) a request httpd's access control refuses spends no token, and
 * one client's failed attempts cannot exhaust another's budget under a
 * shared key; (2) keys and tiers can use what authentication established:
 * REMOTE_USER and the variables auth modules set (by=expr:%{REMOTE_USER},
 * tier=env:AUTHENTICATE_PLAN), which do not exist earlier; (3) mod_apigw has
 * merged the <ApiEndpoint> section into the request's config
 * (post_perdir_config), so limits inside <ApiEndpoint> apply. This is the
 * Admit stage of the gateway's design: access control, then rate limit.
 * Flooding with requests that fail authentication is not what this module
 * limits; a limit on the authentication itself belongs to the auth
 * provider or to a firewall in front.
 *
 * The refusal is answered from a handler rather than by returning the
 * status, because httpd's error page for a returned status is HTML, and
 * mod_proxy's handler ignores r->handler: ours must simply run first —
 * before mod_apigw's handlers too, its response cache included, so a
 * refused client is not served from the cache either.
 *
 * delay=: a limit may admit a request with a wait (apigw_rl_gcra.h). The
 * request then holds its worker thread while it waits, so at most
 * ApiRateLimitMaxDelayed requests of a child wait at once (a per-process
 * atomic count, no lock); a request that finds them all taken is refused
 * as if it had no delay=, its reserved tokens given back. The wait is
 * slept in short slices and cut short (a refusal, tokens given back) when
 * the child is told to stop. */
#include "apigw_rl_request.h"
#include "apigw_rl_config.h"
#include "apigw_rl_headers.h"
#include "apigw_rl_zone.h"
#include "apigw_rl_route.h"
#include "apigw_log.h"
#include "apigw_json_error.h"
#include "apigw_contract.h"

#include "ap_mpm.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "util_cookies.h"
#include "apr_atomic.h"
#include "apr_strings.h"

APLOG_USE_MODULE(apigw_ratelimit);

#define WAIT_SLICE apr_time_from_msec(50)
#define EXPR_LOG_INTERVAL_SEC 10

typedef struct {
    int status;
    const char *error;
    apr_uint64_t retry_ns;
} rl_refusal;

/* One limit of the request that took (or reserved) a token. */
typedef struct {
    const apigw_rl_limit *limit;
    const apigw_rl_policy *pol;
    int index;                  /* its place among the context's limits */
    apigw_rl_slot *slot;        /* local zone */
    const char *key;            /* store */
    apigw_rl_decision d;
} rl_taken;

typedef struct {
    request_rec *r;
    apigw_rl_store *store;
    rl_taken *taken;
    int ntaken;
    int holding;                /* holds one of the child's delay slots */
} rl_pass;

/* per process: requests waiting for a token now, and how many may */
static volatile apr_uint32_t delayed_now;
static apr_uint32_t delayed_max;
/* per process: when an expression error was last logged (seconds) */
static volatile apr_uint32_t expr_logged_at;

/* ---- counting ---- */

static void count(const apigw_rl_policy *pol, size_t field)
{
    if (pol->counter) {
        apr_atomic_inc64((volatile apr_uint64_t *)
                         ((char *)pol->counter + field));
    }
}

#define COUNT(pol, f) count((pol), APR_OFFSETOF(apigw_rl_counter, f))

/* ---- keys ---- */

/* l's name in the error log */
static const char *log_name(const apigw_rl_limit *l)
{
    return l->spec.name ? l->spec.name : "(unnamed)";
}

/* where a limit or policy comes from: file:line, or a runtime route
 * (line 0) */
static const char *where(apr_pool_t *p, const char *file, unsigned line)
{
    return line ? apr_psprintf(p, "%s:%u", file, line) : file;
}

static void log_expr_error(request_rec *r, const apigw_rl_limit *l,
                           const char *err)
{
    apr_uint32_t now = (apr_uint32_t)apr_time_sec(apr_time_now());
    apr_uint32_t last = apr_atomic_read32(&expr_logged_at);

    if (last && now - last < EXPR_LOG_INTERVAL_SEC) {
        return;
    }
    if (apr_atomic_cas32(&expr_logged_at, now, last) != last) {
        return;                         /* another thread logs it */
    }
    ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, APIGW_LOGNO(01012)
                  "rate limit %s (%s): a key expression failed (%s); "
                  "its value counts as empty; not reported again for %d s "
                  "in this process",
                  log_name(l), where(r->pool, l->file, l->line), err,
                  EXPR_LOG_INTERVAL_SEC);
}

/* The value of one key part; NULL when the request has none. */
static const char *key_value(request_rec *r, const apigw_rl_limit *l,
                             const apigw_rl_by *by)
{
    const char *v = NULL, *err = NULL;

    switch (by->key.kind) {
    case APIGW_RL_BY_IP:
        return r->useragent_ip;
    case APIGW_RL_BY_HEADER:
        return apr_table_get(r->headers_in, by->key.name);
    case APIGW_RL_BY_COOKIE:
        return ap_cookie_read(r, by->key.name, &v, 0) == APR_SUCCESS ? v
                                                                     : NULL;
    case APIGW_RL_BY_ENV:
        return apr_table_get(r->subprocess_env, by->key.name);
    case APIGW_RL_BY_EXPR:
        v = ap_expr_str_exec(r, by->expr, &err);
        if (err) {
            log_expr_error(r, l, err);
            return NULL;
        }
        return v;
    default:
        return NULL;
    }
}

/* The key of a request under policy pol of limit l: the policy itself,
 * then each by= part (kind and value, length-delimited). A missing
 * header, cookie or variable counts as the empty value. */
static apigw_rl_hash request_key(request_rec *r, const apigw_rl_limit *l,
                                 const apigw_rl_policy *pol)
{
    apigw_rl_hash h;
    int i;

    if (l->by->nelts == 0) {
        return pol->ident_hash;
    }
    h = pol->seed;
    for (i = 0; i < l->by->nelts; i++) {
        const apigw_rl_by *by = &APR_ARRAY_IDX(l->by, i, apigw_rl_by);
        const char *v = key_value(r, l, by);

        apigw_rl_hash_add_tagged(&h, (unsigned char)(by->key.kind + 1),
                                 v ? v : "", v ? strlen(v) : 0);
    }
    apigw_rl_hash_final(&h);
    return h;
}

/* The policy of limit l for r: the tier its tier key's value selects, or
 * its own numbers. */
static const apigw_rl_policy *select_policy(request_rec *r,
                                            const apigw_rl_limit *l)
{
    const apigw_rl_policy *t = NULL;
    const char *value;

    if (l->tier_by && l->tier_of
            && (value = key_value(r, l, l->tier_by)) != NULL) {
        t = apr_hash_get(l->tier_of, value, APR_HASH_KEY_STRING);
    }
    return t ? t : &l->base;
}

/* ---- headers ---- */

static const char *policy_name(request_rec *r, const rl_taken *t)
{
    const char *name = t->limit->spec.name;

    return name ? name : apr_psprintf(r->pool, "limit-%d", t->index + 1);
}

/* The fields go to err_headers_out, which survives mod_proxy replacing
 * headers_out with the backend's. They are added (not set): a request
 * gets them once, either admitted or refused, so the scan for an earlier
 * value would be wasted on every request. */
static void set_legacy(request_rec *r, const rl_taken *t)
{
    apr_table_t *h = r->err_headers_out;

    apr_table_addn(h, "RateLimit-Limit", t->pol->average_text);
    apr_table_addn(h, "RateLimit-Remaining",
                   apigw_rl_u64_text(r->pool, t->d.remaining));
    apr_table_addn(h, "RateLimit-Reset",
                   apigw_rl_u64_text(r->pool,
                                     apigw_rl_ceil_sec(t->d.reset_ns)));
}

/* a structured-field list: items joined with ", " */
static const char *join(apr_pool_t *p, const char *const *items, int n)
{
    apr_size_t len = 0, l;
    char *out, *o;
    int i;

    for (i = 0; i < n; i++) {
        len += strlen(items[i]) + 2;
    }
    o = out = apr_palloc(p, len + 1);
    for (i = 0; i < n; i++) {
        if (i) {
            *o++ = ',';
            *o++ = ' ';
        }
        l = strlen(items[i]);
        memcpy(o, items[i], l);
        o += l;
    }
    *o = '\0';
    return out;
}

static void set_draft(request_rec *r, const rl_taken *t, int n)
{
    const char **pol = apr_palloc(r->pool, 2 * sizeof(*pol) * (apr_size_t)n);
    const char **now = pol + n;
    int i;

    for (i = 0; i < n; i++) {
        const char *name = policy_name(r, &t[i]);
        pol[i] = apigw_rl_policy_item(r->pool, name, t[i].pol->quota_params);
        now[i] = apigw_rl_state_item(r->pool, name, t[i].d.remaining,
                                     t[i].d.reset_ns);
    }
    apr_table_addn(r->err_headers_out, "RateLimit-Policy",
                   n == 1 ? pol[0] : join(r->pool, pol, n));
    apr_table_addn(r->err_headers_out, "RateLimit",
                   n == 1 ? now[0] : join(r->pool, now, n));
}

/* The headers for the limits in t (n of them): legacy shows the one with
 * the fewest tokens left, draft lists them all. */
static void set_headers(request_rec *r, const apigw_rl_dir_conf *dc,
                        const rl_taken *t, int n)
{
    apigw_rl_headers_mode mode = apigw_rl_headers(dc);
    int i, least = 0;

    if (n == 0) {
        return;
    }
    if (mode & APIGW_RL_HEADERS_LEGACY) {
        for (i = 1; i < n; i++) {
            if (t[i].d.remaining < t[least].d.remaining) {
                least = i;
            }
        }
        set_legacy(r, &t[least]);
    }
    if (mode & APIGW_RL_HEADERS_DRAFT) {
        set_draft(r, t, n);
    }
}

/* ---- tokens ---- */

static void give_back(rl_pass *ps, const rl_taken *t)
{
    if (ps->store) {
        apigw_rl_store_take(ps->store, ps->r, t->key, &t->pol->rate, 0, NULL);
    }
    else if (t->slot) {
        apigw_rl_slot_refund(t->slot, &t->pol->rate);
    }
}

static void delay_slot_give(void);

/* Every token taken or reserved so far goes back, and the delay slot the
 * request held is free again: the request is refused. */
static void give_all_back(rl_pass *ps)
{
    int i;

    for (i = 0; i < ps->ntaken; i++) {
        give_back(ps, &ps->taken[i]);
    }
    ps->ntaken = 0;
    if (ps->holding) {
        delay_slot_give();
        ps->holding = 0;
    }
}

static const char store_unavailable[] = "rate limit store unavailable";

/* r is refused: our handler answers it, and the other modules' later
 * phases know to do nothing for it. */
static void note_refusal(request_rec *r, int status, const char *error,
                         apr_uint64_t retry_ns)
{
    rl_refusal *ref = apr_pcalloc(r->pool, sizeof(*ref));

    ref->status = status;
    ref->error = error;
    ref->retry_ns = retry_ns;
    ap_set_module_config(r->request_config, &apigw_ratelimit_module, ref);
    apr_table_setn(r->notes, APIGW_NOTE_RATELIMIT,
                   error == store_unavailable ? "unavailable" : "rejected");
    apigw_refuse(r, status);
}

/* Refused by limit t (not among the taken ones): the others give their
 * tokens back; the response shows t alone. */
static int refuse(rl_pass *ps, const apigw_rl_dir_conf *dc, rl_taken *t,
                  const char *why)
{
    request_rec *r = ps->r;

    give_all_back(ps);
    COUNT(t->pol, rejected);
    t->d.admitted = 0;
    t->d.remaining = 0;
    set_headers(r, dc, t, 1);
    note_refusal(r, t->limit->spec.status, "rate limit exceeded",
                 t->d.retry_ns);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, APIGW_LOGNO(01001)
                  "rate limit %s (%s)%s%s exceeded%s: answered %d",
                  log_name(t->limit),
                  where(r->pool, t->pol->file, t->pol->line),
                  t->pol->tier ? ", tier " : "",
                  t->pol->tier ? t->pol->tier : "", why,
                  t->limit->spec.status);
    return DECLINED;
}

/* ---- delay= ---- */

static int delay_slot_take(void)
{
    for (;;) {
        apr_uint32_t n = apr_atomic_read32(&delayed_now);
        if (n >= delayed_max) {
            return 0;
        }
        if (apr_atomic_cas32(&delayed_now, n + 1, n) == n) {
            return 1;
        }
    }
}

static void delay_slot_give(void)
{
    apr_atomic_dec32(&delayed_now);
}

static int child_stopping(void)
{
    int state = AP_MPMQ_RUNNING;

    return ap_mpm_query(AP_MPMQ_MPM_STATE, &state) == APR_SUCCESS
           && state == AP_MPMQ_STOPPING;
}

/* Sleeps until `until`; 0 when cut short because the child is stopping. */
static int wait_until(apr_time_t until)
{
    for (;;) {
        apr_time_t now = apr_time_now();
        if (now >= until) {
            return 1;
        }
        if (child_stopping()) {
            return 0;
        }
        apr_sleep(until - now < WAIT_SLICE ? until - now : WAIT_SLICE);
    }
}

void apigw_rl_request_child_init(apr_pool_t *p, server_rec *s)
{
    apigw_rl_server_conf *sc = ap_get_module_config(s->module_config,
                                                    &apigw_ratelimit_module);
    int threads = 1;

    (void)p;
    if (ap_mpm_query(AP_MPMQ_MAX_THREADS, &threads) != APR_SUCCESS
            || threads < 1) {
        threads = 1;
    }
    delayed_max = (apr_uint32_t)(sc->max_delayed >= 0 ? sc->max_delayed
                                 : threads / 4 > 0 ? threads / 4 : 1);
    apr_atomic_set32(&delayed_now, 0);
}

/* ---- the fixup ---- */

/* One limit: t->d filled. APR_SUCCESS, or an error of the store (the
 * caller applies ApiRateLimitStoreFailure); APR_NOTFOUND: no slot. */
static apr_status_t take_one(rl_pass *ps, apigw_rl_table *table,
                             rl_taken *t, apr_uint64_t now)
{
    apigw_rl_hash h = request_key(ps->r, t->limit, t->pol);

    if (ps->store) {
        t->key = apigw_rl_redis_key(ps->r->pool, &h);
        return apigw_rl_store_take(ps->store, ps->r, t->key, &t->pol->rate, 1,
                                   &t->d);
    }
    t->slot = apigw_rl_table_find(table, h.h1, h.h2, now);
    if (!t->slot) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, ps->r, APIGW_LOGNO(01004)
                      "rate limit %s: no slot free after retries, request "
                      "let through",
                      log_name(t->limit));
        return APR_NOTFOUND;
    }
    apigw_rl_slot_take(t->slot, &t->pol->rate, now, &t->d);
    return APR_SUCCESS;
}

int apigw_rl_fixups(request_rec *r)
{
    apigw_rl_dir_conf *dc = ap_get_module_config(r->per_dir_config,
                                                 &apigw_ratelimit_module);
    apigw_rl_server_conf *sc = ap_get_module_config(r->server->module_config,
                                                    &apigw_ratelimit_module);
    apigw_rl_table *table = apigw_rl_zone_table();
    const apigw_rl_limit *route;
    apr_time_t until = 0;
    rl_taken *waiter = NULL;
    rl_pass ps;
    apr_uint64_t now;
    int i, n, nconf;

    /* subrequests and internal redirects were counted as the original */
    if (r->main || r->prev || !dc) {
        return DECLINED;
    }
    route = apigw_rl_route_attached(r);
    nconf = dc->limits->nelts;
    if (nconf == 0 && !route) {
        return DECLINED;
    }
    ps.r = r;
    ps.store = sc ? sc->store : NULL;
    if (!table && !ps.store) {
        return DECLINED;
    }
    n = nconf + (route ? 1 : 0);
    ps.taken = apr_palloc(r->pool, (apr_size_t)n * sizeof(rl_taken));
    ps.ntaken = 0;
    ps.holding = 0;
    now = (apr_uint64_t)apr_time_now() * 1000;
    for (i = 0; i < n; i++) {
        rl_taken *t = &ps.taken[ps.ntaken];
        apr_status_t rv;

        memset(t, 0, sizeof(*t));
        t->limit = i < nconf ? APR_ARRAY_IDX(dc->limits, i, apigw_rl_limit *)
                             : route;
        t->pol = select_policy(r, t->limit);
        t->index = i;
        if (t->pol->rate.unlimited) {
            COUNT(t->pol, admitted);
            continue;
        }
        rv = take_one(&ps, table, t, now);
        if (rv == APR_NOTFOUND) {
            continue;                   /* no slot: let through */
        }
        if (rv != APR_SUCCESS) {
            COUNT(t->pol, errors);
            if (!sc->failure_closed) {
                continue;               /* failure open: this limit admits */
            }
            give_all_back(&ps);
            note_refusal(r, HTTP_SERVICE_UNAVAILABLE, store_unavailable, 0);
            return DECLINED;
        }
        if (!t->d.admitted) {
            return refuse(&ps, dc, t, "");
        }
        if (t->d.wait_ns) {
            apr_time_t at = apr_time_now()
                            + (apr_time_t)((t->d.wait_ns + 999) / 1000);
            if (!ps.holding && !(ps.holding = delay_slot_take())) {
                /* no room to wait: refused as without delay= */
                give_back(&ps, t);
                t->d.retry_ns = t->d.wait_ns;
                return refuse(&ps, dc, t, " (ApiRateLimitMaxDelayed "
                              "requests already waiting)");
            }
            if (at > until) {
                until = at;
                waiter = t;
            }
        }
        ps.ntaken++;
    }
    if (ps.holding) {
        int waited = wait_until(until);
        delay_slot_give();
        ps.holding = 0;
        if (!waited) {
            rl_taken w = *waiter;
            apr_time_t left = until - apr_time_now();
            w.d.retry_ns = left > 0 ? (apr_uint64_t)left * 1000 : 0;
            return refuse(&ps, dc, &w, " (the server is stopping: the wait "
                          "was cut short)");
        }
    }
    apr_table_setn(r->notes, APIGW_NOTE_RATELIMIT, until ? "delayed"
                                                         : "admitted");
    for (i = 0; i < ps.ntaken; i++) {
        COUNT(ps.taken[i].pol, admitted);
        if (ps.taken[i].d.wait_ns) {
            COUNT(ps.taken[i].pol, delayed);
        }
    }
    if (apigw_rl_headers_admitted(dc)) {
        set_headers(r, dc, ps.taken, ps.ntaken);
    }
    return DECLINED;
}

int apigw_rl_refusal_handler(request_rec *r)
{
    rl_refusal *ref = ap_get_module_config(r->request_config,
                                           &apigw_ratelimit_module);

    if (!ref) {
        return DECLINED;
    }
    apr_table_setn(r->err_headers_out, "Retry-After",
                   apigw_rl_u64_text(r->pool, ref->retry_ns
                                     ? apigw_rl_ceil_sec(ref->retry_ns) : 1));
    return apigw_send_error(r, ref->status, ref->error);
}
