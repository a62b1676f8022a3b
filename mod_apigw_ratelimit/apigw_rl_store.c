/* ApiRateLimitStore: GCRA buckets on Redis. See apigw_rl_store.h.
 *
 * Connections: a small pool per process and store, guarded by a thread
 * mutex (the worker MPM is threaded). A request takes an idle connection
 * or opens one (lazily, with the connect timeout), runs its commands with
 * the command timeout, and gives it back; a connection that failed is
 * closed, so the next request reconnects. A new connection authenticates
 * (password=), selects the database (/DB) and loads the script (SCRIPT
 * LOAD); requests then run EVALSHA, falling back to EVAL on NOSCRIPT.
 *
 * The script keeps the bucket's theoretical arrival time in microseconds
 * of Redis's own clock (TIME), so gateways whose clocks differ still share
 * one bucket exactly, and sets a TTL of "until the bucket is full again"
 * (+1s), after which a missing key means the same as a full bucket. */
#include "apigw_rl_store.h"
#include "apigw_rl_config.h"
#include "apigw_parse.h"
#include "apigw_log.h"

#include "http_log.h"
#include "apr_strings.h"

#include <stdlib.h>
#include <string.h>
#include <hiredis/hiredis.h>

APLOG_USE_MODULE(apigw_ratelimit);

static const char script[] =
    "local iv = tonumber(ARGV[1])\n"
    "local burst = tonumber(ARGV[2])\n"
    "local tat = tonumber(redis.call('GET', KEYS[1]) or '0') or 0\n"
    "if ARGV[3] == '0' then\n"
    "  local ttl = redis.call('PTTL', KEYS[1])\n"
    "  if tat >= iv and ttl > 0 then\n"
    "    redis.call('SET', KEYS[1], string.format('%.0f', tat - iv), 'PX', ttl)\n"
    "  end\n"
    "  return {1, 0, 0, 0}\n"
    "end\n"
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000000 + tonumber(t[2])\n"
    "if tat < now then tat = now end\n"
    "local debt = tat - now\n"
    "local tol = (burst - 1) * iv\n"
    "if debt > tol then return {0, 0, debt - tol, debt} end\n"
    "debt = debt + iv\n"
    "local rem = burst - math.ceil(debt / iv)\n"
    "if rem < 0 then rem = 0 end\n"
    "redis.call('SET', KEYS[1], string.format('%.0f', tat + iv), 'PX',\n"
    "           math.floor(debt / 1000) + 1000)\n"
    "return {1, rem, 0, debt}\n";

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
    const char *rest, *colon, *slash, *c;
    const char *err;
    long n;
    int i, seen_pw = 0, seen_to = 0;

    st->timeout = APIGW_RL_STORE_DEFAULT_TIMEOUT;
    st->port = 6379;
    if (strncmp(url, "redis://", 8) != 0) {
        return apr_psprintf(p, "ApiRateLimitStore: '%s' is not a redis:// "
                            "URL (redis://HOST:PORT[/DB])", url);
    }
    rest = url + 8;
    slash = strchr(rest, '/');
    colon = strchr(rest, ':');
    if (colon && slash && colon > slash) {
        colon = NULL;
    }
    st->host = apr_pstrmemdup(p, rest, (apr_size_t)((colon ? colon
                                  : slash ? slash : rest + strlen(rest)) - rest));
    if (!*st->host || strpbrk(st->host, "@[] \t")) {
        return apr_psprintf(p, "ApiRateLimitStore: '%s' needs a host name or "
                            "IPv4 address (redis://HOST:PORT[/DB])", url);
    }
    if (colon) {
        const char *end = slash ? slash : colon + strlen(colon);
        n = 0;
        if (end == colon + 1) {
            return apr_psprintf(p, "ApiRateLimitStore: '%s' has an empty "
                                "port", url);
        }
        for (c = colon + 1; c < end; c++) {
            if (*c < '0' || *c > '9' || n > 65535) {
                n = -1;
                break;
            }
            n = n * 10 + (*c - '0');
        }
        if (n < 1 || n > 65535) {
            return apr_psprintf(p, "ApiRateLimitStore: '%s': the port must "
                                "be a number from 1 to 65535", url);
        }
        st->port = (int)n;
    }
    if (slash && slash[1]) {
        n = 0;
        for (c = slash + 1; *c; c++) {
            if (*c < '0' || *c > '9' || n > 1000000) {
                return apr_psprintf(p, "ApiRateLimitStore: '%s': the database "
                                    "must be a number (redis://HOST:PORT/DB)",
                                    url);
            }
            n = n * 10 + (*c - '0');
        }
        st->db = (int)n;
    }
    for (i = 0; i < nopts; i++) {
        const char *o = opts[i];
        if (strncmp(o, "password=", 9) == 0) {
            if (seen_pw++ || !o[9]) {
                return "ApiRateLimitStore: password= is empty or given twice";
            }
            st->password = o + 9;
        }
        else if (strncmp(o, "timeout=", 8) == 0) {
            if (seen_to++) {
                return "ApiRateLimitStore: timeout= given twice";
            }
            if ((err = apigw_parse_duration(o + 8, &st->timeout)) != NULL) {
                return apr_psprintf(p, "ApiRateLimitStore: timeout=%s: %s",
                                    o + 8, err);
            }
            if (st->timeout <= 0) {
                return "ApiRateLimitStore: timeout= must be greater than zero";
            }
        }
        else {
            /* never echo the option: it may be a mistyped password */
            return "ApiRateLimitStore: unknown option (use password=SECRET "
                   "or timeout=DURATION)";
        }
    }
    st->url = apr_psprintf(p, "redis://%s:%d/%d", st->host, st->port, st->db);
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
        apr_cpystrn(err, k->c->errstr[0] ? k->c->errstr : "no reply", errlen);
        return NULL;
    }
    if (rep->type == REDIS_REPLY_ERROR) {
        apr_cpystrn(err, rep->str ? rep->str : "error reply", errlen);
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
    tv.tv_sec = (time_t)apr_time_sec(st->timeout);
    tv.tv_usec = (suseconds_t)apr_time_usec(st->timeout);
    k->c = redisConnectWithTimeout(st->host, st->port, tv);
    if (!k->c || k->c->err) {
        apr_cpystrn(err, k->c ? k->c->errstr : "cannot allocate a connection",
                    errlen);
        conn_close(k);
        return NULL;
    }
    if (redisSetTimeout(k->c, tv) != REDIS_OK) {
        apr_cpystrn(err, "cannot set the command timeout", errlen);
        conn_close(k);
        return NULL;
    }
    if (st->password) {
        if (!(rep = command_ok(k, err, errlen, "AUTH %s", st->password))) {
            conn_close(k);
            return NULL;
        }
        freeReplyObject(rep);
    }
    if (st->db) {
        if (!(rep = command_ok(k, err, errlen, "SELECT %d", st->db))) {
            conn_close(k);
            return NULL;
        }
        freeReplyObject(rep);
    }
    if (!(rep = command_ok(k, err, errlen, "SCRIPT LOAD %s", script))) {
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
                      "%d s in this process", st->url, err,
                      sc->failure_closed ? "refused with 503" : "admitted",
                      sc->failure_closed ? "closed" : "open",
                      (int)apr_time_sec(APIGW_RL_STORE_LOG_INTERVAL));
    }
}

static int read_int(const redisReply *e, long long *out)
{
    if (e->type != REDIS_REPLY_INTEGER) {
        return 0;
    }
    *out = e->integer < 0 ? 0 : e->integer;
    return 1;
}

apr_status_t apigw_rl_store_take(apigw_rl_store *st, request_rec *r,
                                 const char *key, const apigw_rl_rate *rt,
                                 int take, apigw_rl_decision *d)
{
    char err[160] = "";
    rl_conn *k = NULL;
    redisReply *rep;
    const char *iv, *burst, *mode = take ? "1" : "0";
    long long v[4];
    int i, ok = 0, recovered = 0;

    if (!st->mutex) {
        report(st, r, "no connection pool in this process");
        return APR_EGENERAL;
    }
    iv = apr_psprintf(r->pool, "%" APR_UINT64_T_FMT,
                      rt->interval / 1000 + (rt->interval % 1000 ? 1 : 0));
    burst = apr_psprintf(r->pool, "%" APR_UINT64_T_FMT, rt->burst);

    apr_thread_mutex_lock(st->mutex);
    if (st->idle->nelts) {
        k = *(rl_conn **)apr_array_pop(st->idle);
    }
    apr_thread_mutex_unlock(st->mutex);
    if (!k && !(k = conn_open(st, err, sizeof(err)))) {
        report(st, r, err);
        return APR_EGENERAL;
    }
    rep = redisCommand(k->c, "EVALSHA %s 1 %s %s %s %s", k->sha, key, iv,
                       burst, mode);
    if (rep && rep->type == REDIS_REPLY_ERROR && rep->str
            && strncmp(rep->str, "NOSCRIPT", 8) == 0) {
        freeReplyObject(rep);
        rep = redisCommand(k->c, "EVAL %s 1 %s %s %s %s", script, key, iv,
                           burst, mode);
    }
    if (!rep) {
        apr_cpystrn(err, k->c->errstr[0] ? k->c->errstr : "no reply",
                    sizeof(err));
    }
    else if (rep->type == REDIS_REPLY_ERROR) {
        apr_cpystrn(err, rep->str ? rep->str : "error reply", sizeof(err));
    }
    else if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 4) {
        apr_cpystrn(err, "unexpected script reply", sizeof(err));
    }
    else {
        ok = 1;
        for (i = 0; i < 4; i++) {
            ok = ok && read_int(rep->element[i], &v[i]);
        }
        if (!ok) {
            apr_cpystrn(err, "unexpected script reply", sizeof(err));
        }
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
                      "rate limit store %s reachable again", st->url);
    }
    if (d) {
        d->admitted = v[0] != 0;
        d->remaining = (apr_uint64_t)v[1];
        d->retry_ns = (apr_uint64_t)v[2] * 1000;
        d->reset_ns = (apr_uint64_t)v[3] * 1000;
    }
    return APR_SUCCESS;
}
