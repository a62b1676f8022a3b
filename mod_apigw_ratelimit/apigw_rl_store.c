/* ApiRateLimitStore: GCRA buckets on Redis, the I/O half (see
 * apigw_rl_store.h; the script and its reply are in apigw_rl_redis.c).
 *
 * Connections: a small pool per process and store, guarded by a thread
 * mutex (the worker MPM is threaded). A request takes an idle connection
 * or opens one (lazily, with the connect timeout), runs its commands with
 * the command timeout, and gives it back; a connection that failed is
 * closed, so the next request reconnects. A new connection authenticates
 * (password=), selects the database (/DB) and loads the script (SCRIPT
 * LOAD); requests then run EVALSHA, falling back to EVAL on NOSCRIPT. */
#include "apigw_rl_store.h"
#include "apigw_rl_config.h"
#include "apigw_log.h"

#include "http_log.h"
#include "apr_strings.h"

#include <stdlib.h>
#include <string.h>
#include <hiredis/hiredis.h>

APLOG_USE_MODULE(apigw_ratelimit);

typedef struct {
    redisContext *c;
    char sha[48];
} rl_conn;

/* ---- configuration ---- */

const char *apigw_rl_store_parse(apr_pool_t *p, const char *url,
                                 const char *const *opts, int nopts,
                                 apigw_rl_store **out)
{
    apigw_rl_store *st = apr_pcalloc(p, sizeof(*st));
    const char *err = apigw_rl_redis_parse(p, url, opts, nopts, &st->target);

    if (err) {
        return err;
    }
    *out = st;
    return NULL;
}

/* ---- connections ---- */

static void conn_close(rl_conn *k)
{
    if (k) {
        if (k->c) {
            redisFree(k->c);
        }
        free(k);
    }
}

static apr_status_t pool_cleanup(void *data)
{
    apigw_rl_store *st = data;
    while (st->idle && st->idle->nelts) {
        conn_close(*(rl_conn **)apr_array_pop(st->idle));
    }
    return APR_SUCCESS;
}

void apigw_rl_store_child_init(apr_pool_t *p, server_rec *s)
{
    for (; s; s = s->next) {
        apigw_rl_server_conf *sc = ap_get_module_config(s->module_config,
                                                        &apigw_ratelimit_module);
        apigw_rl_store *st = sc ? sc->store : NULL;

        if (!st || st->mutex) {
            continue;                   /* none, or shared with main */
        }
        if (apr_thread_mutex_create(&st->mutex, APR_THREAD_MUTEX_DEFAULT, p)
                != APR_SUCCESS) {
            st->mutex = NULL;
            continue;
        }
        st->idle = apr_array_make(p, 8, sizeof(rl_conn *));
        apr_pool_cleanup_register(p, st, pool_cleanup, apr_pool_cleanup_null);
    }
}

static redisReply *command_ok(rl_conn *k, char *err, apr_size_t errlen,
                              const char *fmt, ...)
{
    redisReply *rep;
    va_list ap;

    va_start(ap, fmt);
    rep = redisvCommand(k->c, fmt, ap);
    va_end(ap);
    if (!rep) {
        apigw_rl_redis_error_text(err, errlen, k->c->errstr[0] ? k->c->errstr
                                                               : "no reply",
                                  strlen(k->c->errstr[0] ? k->c->errstr
                                                         : "no reply"));
        return NULL;
    }
    if (rep->type == REDIS_REPLY_ERROR) {
        apigw_rl_redis_error_text(err, errlen, rep->str, rep->len);
        freeReplyObject(rep);
        return NULL;
    }
    return rep;
}

static rl_conn *conn_open(apigw_rl_store *st, char *err, apr_size_t errlen)
{
    struct timeval tv;
    rl_conn *k = calloc(1, sizeof(*k));
    redisReply *rep;

    if (!k) {
        apr_cpystrn(err, "out of memory", errlen);
        return NULL;
    }
    tv.tv_sec = (time_t)apr_time_sec(st->target.timeout);
    tv.tv_usec = (suseconds_t)apr_time_usec(st->target.timeout);
    k->c = redisConnectWithTimeout(st->target.host, st->target.port, tv);
    if (!k->c || k->c->err) {
        const char *why = k->c ? k->c->errstr : "cannot allocate a connection";
        apigw_rl_redis_error_text(err, errlen, why, strlen(why));
        conn_close(k);
        return NULL;
    }
    if (redisSetTimeout(k->c, tv) != REDIS_OK) {
        apr_cpystrn(err, "cannot set the command timeout", errlen);
        conn_close(k);
        return NULL;
    }
    if (st->target.password) {
        if (!(rep = command_ok(k, err, errlen, "AUTH %s",
                               st->target.password))) {
            conn_close(k);
            return NULL;
        }
        freeReplyObject(rep);
    }
    if (st->target.db) {
        if (!(rep = command_ok(k, err, errlen, "SELECT %d", st->target.db))) {
            conn_close(k);
            return NULL;
        }
        freeReplyObject(rep);
    }
    if (!(rep = command_ok(k, err, errlen, "SCRIPT LOAD %s",
                           apigw_rl_redis_script))) {
        conn_close(k);
        return NULL;
    }
    if (rep->type != REDIS_REPLY_STRING || !rep->str || rep->len >= 48) {
        apr_cpystrn(err, "unexpected SCRIPT LOAD reply", errlen);
        freeReplyObject(rep);
        conn_close(k);
        return NULL;
    }
    memcpy(k->sha, rep->str, rep->len);
    k->sha[rep->len] = '\0';
    freeReplyObject(rep);
    return k;
}

/* ---- one request ---- */

static void report(apigw_rl_store *st, request_rec *r, const char *err)
{
    apigw_rl_server_conf *sc = ap_get_module_config(r->server->module_config,
                                                    &apigw_ratelimit_module);
    apr_time_t now = apr_time_now();
    int log_it = 0;

    apr_thread_mutex_lock(st->mutex);
    st->down = 1;
    if (!st->last_logged || now - st->last_logged >= APIGW_RL_STORE_LOG_INTERVAL) {
        st->last_logged = now;
        log_it = 1;
    }
    apr_thread_mutex_unlock(st->mutex);
    if (log_it) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, APIGW_LOGNO(01005)
                      "rate limit store %s unavailable (%s): requests are %s "
                      "(ApiRateLimitStoreFailure %s); not reported again for "
                      "%d s in this process", st->target.url, err,
                      sc->failure_closed ? "refused with 503" : "admitted",
                      sc->failure_closed ? "closed" : "open",
                      (int)apr_time_sec(APIGW_RL_STORE_LOG_INTERVAL));
    }
}

apr_status_t apigw_rl_store_take(apigw_rl_store *st, request_rec *r,
                                 const char *key, const apigw_rl_rate *rt,
                                 int take, apigw_rl_decision *d)
{
    char err[160] = "";
    rl_conn *k = NULL;
    redisReply *rep;
    apigw_rl_redis_args a;
    apigw_rl_decision dd;
    int ok, recovered = 0;

    if (!st->mutex) {
        report(st, r, "no connection pool in this process");
        return APR_EGENERAL;
    }
    apigw_rl_redis_make_args(r->pool, rt, take, &a);

    apr_thread_mutex_lock(st->mutex);
    if (st->idle->nelts) {
        k = *(rl_conn **)apr_array_pop(st->idle);
    }
    apr_thread_mutex_unlock(st->mutex);
    if (!k && !(k = conn_open(st, err, sizeof(err)))) {
        report(st, r, err);
        return APR_EGENERAL;
    }
    rep = redisCommand(k->c, "EVALSHA %s 1 %s %s %s %s %s", k->sha, key,
                       a.interval_us, a.burst, a.mode, a.delay_us);
    if (rep && rep->type == REDIS_REPLY_ERROR && rep->str
            && strncmp(rep->str, "NOSCRIPT", 8) == 0) {
        freeReplyObject(rep);
        rep = redisCommand(k->c, "EVAL %s 1 %s %s %s %s %s",
                           apigw_rl_redis_script, key, a.interval_us,
                           a.burst, a.mode, a.delay_us);
    }
    ok = apigw_rl_redis_decode(rep, d ? d : &dd, err, sizeof(err));
    if (!rep && k->c->errstr[0]) {
        apigw_rl_redis_error_text(err, sizeof(err), k->c->errstr,
                                  strlen(k->c->errstr));
    }
    if (rep) {
        freeReplyObject(rep);
    }
    if (!ok) {
        conn_close(k);                  /* the next request reconnects */
        report(st, r, err);
        return APR_EGENERAL;
    }
    apr_thread_mutex_lock(st->mutex);
    APR_ARRAY_PUSH(st->idle, rl_conn *) = k;
    if (st->down) {
        st->down = 0;
        recovered = 1;
    }
    apr_thread_mutex_unlock(st->mutex);
    if (recovered) {
        ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r, APIGW_LOGNO(01006)
                      "rate limit store %s reachable again",
                      st->target.url);
    }
    return APR_SUCCESS;
}

int apigw_rl_store_is_down(apigw_rl_store *st)
{
    int down;

    if (!st->mutex) {
        return 1;
    }
    apr_thread_mutex_lock(st->mutex);
    down = st->down;
    apr_thread_mutex_unlock(st->mutex);
    return down;
}
