/* Circuit breakers, one request at a time (the hooks are registered in
 * mod_apigw_breaker.c):
 *
 *   check_config, child_init
 *       the fallback backends' proxy workers: made in the parent (also by
 *       configtest, which fails when mod_proxy cannot make one), their
 *       connection pools in each child.
 *   fixups (FIRST, after mod_apigw_ratelimit and mod_rewrite)
 *       a proxied request of a section with a breaker, or of a runtime
 *       route whose breaker mod_apigw attached at translate_name (it
 *       takes the place of the section's: apigw_cb_route.c), not already
 *       refused by another module: the state moves on (fallback elapsed,
 *       or an evaluation due this check period), then the request is
 *       admitted, sent to the fallback backend, or refused (apigw_refuse,
 *       so later phases of other modules skip it). A runtime route's state
 *       is found (or claimed) in the pool of runtime slots here. After all
 *       of httpd's access control, so a request Require refuses never
 *       counts, and after mod_apigw has merged the <ApiEndpoint> section
 *       (post_perdir_config).
 *   handler (REALLY_FIRST)
 *       a refused request is answered with the breaker's status and a
 *       JSON body, before mod_apigw or mod_proxy could contact a backend.
 *   proxy pre_request (REALLY_FIRST)
 *       marks the request as proxied and times it; a request for the
 *       fallback backend gets that backend's URL and worker here.
 *   proxy request_status
 *       what mod_proxy itself concluded: OK when the backend answered,
 *       else its own error (refused, reset, timed out: 502/503/504).
 *   log_transaction
 *       the outcome goes into the window of the state it was admitted in,
 *       then the evaluation, if one is due, runs (so a breaker can trip
 *       without waiting for the next request).
 *
 * Network errors: mod_proxy's own 502, 503 and 504 (connection refused,
 * reset or timed out, no usable member), and any final 502 or 504, as
 * Traefik counts them. Only proxied requests are measured.
 *
 * Evaluation happens at most once per check period per state, by whichever
 * request finds it due first (a compare-and-swap on the state's next check
 * time); a state change is a compare-and-swap on its state word, so it is
 * made and logged exactly once across every child. No lock, no thread. */
#include "apigw_cb_request.h"
#include "apigw_cb_shm.h"
#include "apigw_cb_route.h"
#include "apigw_cb_url.h"
#include "apigw_contract.h"
#include "apigw_log.h"
#include "apigw_json_error.h"

#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "apr_hash.h"
#include "apr_strings.h"

APLOG_USE_MODULE(apigw_breaker);

/* What the breaker decided for one request. */
typedef struct {
    const apigw_cb_breaker *b;
    apigw_cb_slot *slot;
    apr_uint64_t key;
    const char *backend;        /* scope=backend: the origin */
    unsigned epoch;             /* of the state it was admitted in */
    int refuse;                 /* answer b->set.status */
    int fallback;               /* send to b->fallback_worker */
    int proxied;                /* mod_proxy took it */
    int status_seen;            /* mod_proxy's request_status ran */
    int proxy_status;           /* what it concluded */
    apr_time_t start;
    apr_interval_time_t retry_after;
} cb_note;

/* Fallback workers of this generation, made in the parent. */
static apr_array_header_t *fallback_workers;    /* proxy_worker * */

static cb_note *note_of(const request_rec *r)
{
    return ap_get_module_config(r->request_config, &apigw_breaker_module);
}

/* ---- evaluation and logging ---- */

int apigw_cb_evaluate(const apigw_cb_breaker *b, apigw_cb_slot *slot,
                      apr_time_t now, double *values, apr_uint64_t *total)
{
    apigw_cb_totals t;

    apigw_cb_window_totals(&slot->window, now,
                           apigw_cb_expr_uses_latency(b->expr), &t);
    apigw_cb_expr_measure(b->expr, &t, values);
    *total = t.total;
    return t.total >= b->set.min_requests
           && apigw_cb_expr_eval(b->expr, values);
}

static const char *values_text(apr_pool_t *p, const apigw_cb_breaker *b,
                               const double *values, apr_uint64_t total)
{
    const char *s = "";
    int i;

    for (i = 0; i < apigw_cb_expr_nterms(b->expr); i++) {
        s = apr_psprintf(p, "%s%s%s=%s", s, i ? ", " : "",
                         apigw_cb_expr_term(b->expr, i)->text,
                         apigw_cb_num_text(p, values[i], 3));
    }
    return apr_psprintf(p, "%s over %" APR_UINT64_T_FMT " request%s", s,
                        total, total == 1 ? "" : "s");
}

static const char *duration_text(apr_pool_t *p, apr_interval_time_t d)
{
    if (d % APR_USEC_PER_SEC == 0) {
        return apr_psprintf(p, "%" APR_TIME_T_FMT "s", apr_time_sec(d));
    }
    return apr_psprintf(p, "%" APR_TIME_T_FMT "ms", apr_time_as_msec(d));
}

static void log_change(server_rec *s, const apigw_cb_breaker *b,
                       const char *backend, const apigw_cb_change *ch,
                       const double *values, apr_uint64_t total)
{
    apr_pool_t *p;
    const char *who, *what;

    if (apr_pool_create(&p, NULL) != APR_SUCCESS) {
        return;
    }
    /* a runtime route's has no file */
    who = b->file ? apr_psprintf(p, "circuit breaker %s (%s:%u)%s%s",
                                 b->section, b->file, b->line,
                                 backend ? " for backend " : "",
                                 backend ? backend : "")
                  : apr_psprintf(p, "circuit breaker of %s", b->section);
    what = b->fallback_worker
           ? apr_psprintf(p, "sending requests to %s",
                          b->set.fallback_backend)
           : apr_psprintf(p, "answering %d", b->set.status);
    switch (ch->to) {
    case APIGW_CB_TRIPPED:
        if (ch->from == APIGW_CB_RECOVERING) {
            ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s, APIGW_LOGNO(02011)
                         "%s tripped again while recovering: %s [%s]; %s "
                         "for %s", who, values_text(p, b, values, total),
                         apigw_cb_expr_text(b->expr), what,
                         duration_text(p, b->set.timing.fallback));
        }
        else {
            ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s, APIGW_LOGNO(02010)
                         "%s tripped: %s [%s]; %s for %s", who,
                         values_text(p, b, values, total),
                         apigw_cb_expr_text(b->expr), what,
                         duration_text(p, b->set.timing.fallback));
        }
        break;
    case APIGW_CB_RECOVERING:
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s, APIGW_LOGNO(02012)
                     "%s recovering: admitting a growing share of requests "
                     "over %s", who,
                     duration_text(p, b->set.timing.recovery));
        break;
    default:
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s, APIGW_LOGNO(02013)
                     "%s back to standby: %s [%s]", who,
                     values_text(p, b, values, total),
                     apigw_cb_expr_text(b->expr));
        break;
    }
    apr_pool_destroy(p);
}

apr_uint64_t apigw_cb_advance(server_rec *s, const apigw_cb_breaker *b,
                              apigw_cb_slot *slot, const char *backend,
                              apr_time_t now)
{
    double values[APIGW_CB_EXPR_MAX_TERMS];
    apr_uint64_t w, total = 0;
    apigw_cb_change ch;
    int changed, cond;

    if (apigw_cb_slot_quiet(slot, now, &w)) {
        return w;
    }
    w = apigw_cb_slot_tick(slot, &b->set.timing, now, &ch, &changed);
    if (changed) {
        log_change(s, b, backend, &ch, NULL, 0);
    }
    if (apigw_cb_view_of(w).state == APIGW_CB_TRIPPED
        || !apigw_cb_slot_claim_check(slot, b->set.timing.check, now)) {
        return w;
    }
    cond = apigw_cb_evaluate(b, slot, now, values, &total);
    if (apigw_cb_slot_apply(slot, w, cond, &b->set.timing, now, &ch)) {
        log_change(s, b, backend, &ch, values, total);
    }
    return apigw_cb_slot_word(slot);
}

/* ---- the request ---- */

/* The URL a request is proxied to, or NULL when it is not proxied. */
static const char *proxied_url(const request_rec *r)
{
    if (r->filename && strncmp(r->filename, "proxy:", 6) == 0) {
        return r->filename + 6;
    }
    if (r->handler && strncmp(r->handler, "proxy:", 6) == 0) {
        return r->handler + 6;
    }
    return NULL;
}

/* A uniform number in [0, 1) for the admission during recovery. */
static double uniform(const request_rec *r, apr_time_t now)
{
    apr_uint64_t x = (apr_uint64_t)now * 0x9e3779b97f4a7c15ULL
                     ^ (apr_uint64_t)(apr_uintptr_t)r
                     ^ ((apr_uint64_t)r->connection->id << 40);

    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return (double)(x >> 11) * (1.0 / 9007199254740992.0);
}

/* The state of a runtime route's breaker, found or claimed in the pool:
 * NULL when the request is not tracked. */
static apigw_cb_slot *route_slot(request_rec *r, const apigw_cb_route *rt,
                                 apr_time_t now)
{
    apigw_cb_slot *slot = apigw_cb_route_slot(apigw_cb_shm_route_pool(), rt,
                                              now);

    if (!slot) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, APIGW_LOGNO(02009)
                      "circuit breaker of %s: no state slot (no pool, or "
                      "every try lost a race); request not tracked",
                      rt->breaker.section);
    }
    return slot;
}

int apigw_cb_request_fixups(request_rec *r)
{
    apigw_br_dir_conf *d;
    const apigw_cb_route *rt;
    const apigw_cb_breaker *b;
    apigw_cb_table *table = NULL;
    apigw_cb_slot *slot;
    const char *url, *backend = NULL;
    apr_uint64_t key, w;
    apr_time_t now;
    apigw_cb_view v;
    cb_note *note;

    /* subrequests and internal redirects were decided as the original */
    if (r->main || r->prev) {
        return DECLINED;
    }
    /* a runtime route's breaker is the route's own: it replaces the
     * context's, as a section's own replaces the one it inherits */
    if ((rt = apigw_cb_route_attached(r)) != NULL) {
        b = &rt->breaker;
    }
    else {
        d = ap_get_module_config(r->per_dir_config, &apigw_breaker_module);
        if (!d || !d->cb || !(b = d->cb->breaker)
            || !(table = apigw_cb_shm_table())) {
            return DECLINED;
        }
    }
    if (!(url = proxied_url(r))) {
        return DECLINED;
    }
    /* another module refused it already (a rate limit): not measured */
    if (apigw_refused(r)) {
        return DECLINED;
    }
    now = apr_time_now();
    if (rt) {
        key = b->owner;
        if (!(slot = route_slot(r, rt, now))) {
            return DECLINED;
        }
    }
    else if (b->set.scope_backend) {
        if (!(backend = apigw_cb_url_origin(r->pool, url))) {
            return DECLINED;
        }
        key = apigw_cb_key(b->id, backend);
        slot = apigw_cb_table_claim(table, key, b->owner, backend, now);
        if (!slot) {
            ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, APIGW_LOGNO(02005)
                          "circuit breaker %s (%s:%u): no state slot free for "
                          "backend %s; request not tracked", b->section,
                          b->file, b->line, backend);
            return DECLINED;
        }
    }
    else {
        key = b->owner;
        if (!(slot = b->slot) || !apigw_cb_slot_is(slot, key)) {
            return DECLINED;
        }
    }
    w = apigw_cb_advance(r->server, b, slot, backend, now);
    v = apigw_cb_view_of(w);
    note = apr_pcalloc(r->pool, sizeof(*note));
    note->b = b;
    note->slot = slot;
    note->key = key;
    note->backend = backend;
    note->epoch = v.epoch;
    ap_set_module_config(r->request_config, &apigw_breaker_module, note);
    if (v.state == APIGW_CB_STANDBY) {
        apr_table_setn(r->notes, APIGW_NOTE_BREAKER, "closed");
        return DECLINED;
    }
    if (v.state == APIGW_CB_RECOVERING
        && apigw_cb_admit(w, &b->set.timing, now, uniform(r, now))) {
        apr_table_setn(r->notes, APIGW_NOTE_BREAKER, "probe");
        return DECLINED;
    }
    if (b->fallback_worker) {
        note->fallback = 1;
        apr_table_setn(r->notes, APIGW_NOTE_BREAKER, "fallback");
        return DECLINED;
    }
    apr_table_setn(r->notes, APIGW_NOTE_BREAKER, "open");
    /* a request sent to the fallback backend above is answered by a
     * backend, so it is not a refusal */
    note->refuse = 1;
    note->retry_after = v.state == APIGW_CB_TRIPPED
                        ? v.since + b->set.timing.fallback - now
                        : APR_USEC_PER_SEC;
    apigw_refuse(r, b->set.status);
    return DECLINED;
}

int apigw_cb_request_handler(request_rec *r)
{
    cb_note *note = note_of(r);
    apr_interval_time_t ra;

    if (!note || !note->refuse) {
        return DECLINED;
    }
    /* whole seconds, rounded up, at least one */
    ra = (note->retry_after + APR_USEC_PER_SEC - 1) / APR_USEC_PER_SEC;
    apr_table_setn(r->err_headers_out, "Retry-After",
                   apr_psprintf(r->pool, "%" APR_TIME_T_FMT, ra > 0 ? ra : 1));
    return apigw_send_error(r, note->b->set.status,
                            "circuit breaker open");
}

int apigw_cb_request_pre_request(proxy_worker **worker,
                                 proxy_balancer **balancer, request_rec *r,
                                 proxy_server_conf *conf, char **url)
{
    cb_note *note = note_of(r);
    const char *to;

    (void)conf;
    if (!note || note->refuse) {
        return DECLINED;
    }
    if (!note->fallback) {
        if (!note->proxied) {
            note->proxied = 1;
            note->start = apr_time_now();
        }
        return DECLINED;
    }
    to = apigw_cb_url_rebase(r->pool, *url, note->b->fallback_origin,
                             note->b->fallback_prefix);
    if (!to) {
        return DECLINED;
    }
    if (!PROXY_WORKER_IS_INITIALIZED(note->b->fallback_worker)) {
        return HTTP_SERVICE_UNAVAILABLE;
    }
    *url = apr_pstrdup(r->pool, to);
    *worker = note->b->fallback_worker;
    *balancer = NULL;
    return OK;
}

int apigw_cb_request_status(int *status, request_rec *r)
{
    cb_note *note = note_of(r);

    if (note && note->proxied) {
        note->status_seen = 1;
        note->proxy_status = *status;
    }
    return DECLINED;
}

int apigw_cb_request_log_transaction(request_rec *r)
{
    const request_rec *last = r, *rr;
    cb_note *note = NULL;
    apigw_cb_sample smp;
    apr_time_t now;
    const apigw_cb_breaker *b;

    for (rr = r; rr; rr = rr->next) {
        cb_note *n = note_of(rr);
        if (n) {
            note = n;
        }
        last = rr;
    }
    if (!note || !note->proxied || note->fallback || note->refuse
        || !apigw_cb_slot_is(note->slot, note->key)) {
        return DECLINED;
    }
    b = note->b;
    now = apr_time_now();
    smp.status = apigw_outcome_status(last);
    if (note->status_seen && note->proxy_status != OK
        && note->proxy_status != DONE) {
        smp.neterr = note->proxy_status == HTTP_BAD_GATEWAY
                     || note->proxy_status == HTTP_SERVICE_UNAVAILABLE
                     || note->proxy_status == HTTP_GATEWAY_TIME_OUT;
    }
    else {
        smp.neterr = smp.status == HTTP_BAD_GATEWAY
                     || smp.status == HTTP_GATEWAY_TIME_OUT;
    }
    smp.latency = now - note->start;
    apigw_cb_slot_record(note->slot, note->epoch, now, &smp,
                         apigw_cb_expr_ranges(b->expr),
                         apigw_cb_expr_nranges(b->expr));
    apigw_cb_advance(r->server, b, note->slot, note->backend, now);
    return DECLINED;
}

/* ---- fallback workers ---- */

/* Also run by configtest: a fallback backend mod_proxy cannot make a
 * worker for fails there. */
int apigw_cb_request_check_config(apr_pool_t *pconf, apr_pool_t *plog,
                                  apr_pool_t *ptemp, server_rec *s)
{
    apr_array_header_t *all = apigw_cb_breakers();
    apr_hash_t *by_origin = apr_hash_make(pconf);
    int i;

    (void)plog;
    (void)ptemp;
    fallback_workers = apr_array_make(pconf, 4, sizeof(proxy_worker *));
    for (i = 0; all && i < all->nelts; i++) {
        apigw_cb_breaker *b = APR_ARRAY_IDX(all, i, apigw_cb_breaker *);
        proxy_worker *w;
        const char *err;

        if (!b->fallback_origin) {
            continue;
        }
        w = apr_hash_get(by_origin, b->fallback_origin, APR_HASH_KEY_STRING);
        if (!w) {
            err = ap_proxy_define_worker(pconf, &w, NULL, NULL,
                                         b->fallback_origin, 0);
            if (err) {
                ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, APIGW_LOGNO(02004)
                             "circuit breaker %s (%s:%u): cannot create a "
                             "proxy worker for fallback-backend=%s: %s",
                             b->section, b->file, b->line,
                             b->set.fallback_backend, err);
                return !OK;
            }
            apr_hash_set(by_origin, b->fallback_origin, APR_HASH_KEY_STRING,
                         w);
            APR_ARRAY_PUSH(fallback_workers, proxy_worker *) = w;
        }
        b->fallback_worker = w;
    }
    return OK;
}

void apigw_cb_request_child_init(apr_pool_t *pchild, server_rec *s)
{
    int i;

    for (i = 0; fallback_workers && i < fallback_workers->nelts; i++) {
        proxy_worker *w = APR_ARRAY_IDX(fallback_workers, i, proxy_worker *);
        apr_status_t rv = ap_proxy_initialize_worker(w, s, pchild);

        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, APIGW_LOGNO(02006)
                         "cannot initialize the connection pool to the "
                         "fallback backend %s; its breakers will answer 503 "
                         "while open", w->s->name_ex);
        }
    }
}
