/* The pure half of cluster mode; see apigw_rl_redis.h.
 *
 * The script keeps the bucket's theoretical arrival time in microseconds
 * of Redis's own clock (TIME), so gateways whose clocks differ still share
 * one bucket exactly, and sets a TTL of "until the bucket is full again"
 * (+1 s), after which a missing key means the same as a full bucket. It is
 * the GCRA of apigw_rl_gcra.c, delay included, in Lua. ARGV[4] may be
 * missing (a gateway of an earlier version): no delay. */
#include "apigw_rl_redis.h"
#include "apigw_parse.h"

#include <string.h>
#include <apr_strings.h>

const char apigw_rl_redis_script[] =
    "local iv = tonumber(ARGV[1])\n"
    "local burst = tonumber(ARGV[2])\n"
    "local delay = tonumber(ARGV[4] or '0') or 0\n"
    "local tat = tonumber(redis.call('GET', KEYS[1]) or '0') or 0\n"
    "if ARGV[3] == '0' then\n"
    "  local ttl = redis.call('PTTL', KEYS[1])\n"
    "  if tat >= iv and ttl > 0 then\n"
    "    redis.call('SET', KEYS[1], string.format('%.0f', tat - iv), 'PX', ttl)\n"
    "  end\n"
    "  return {1, 0, 0, 0, 0}\n"
    "end\n"
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000000 + tonumber(t[2])\n"
    "if tat < now then tat = now end\n"
    "local debt = tat - now\n"
    "local tol = (burst - 1) * iv\n"
    "local wait = 0\n"
    "if debt > tol then\n"
    "  if debt - tol > delay then return {0, 0, debt - tol, debt, 0} end\n"
    "  wait = debt - tol\n"
    "end\n"
    "debt = debt + iv\n"
    "local rem = burst - math.ceil(debt / iv)\n"
    "if rem < 0 then rem = 0 end\n"
    "redis.call('SET', KEYS[1], string.format('%.0f', tat + iv), 'PX',\n"
    "           math.floor(debt / 1000) + 1000)\n"
    "return {1, rem, 0, debt, wait}\n";

/* ---- ApiRateLimitStore ---- */

/* digits only, at most max: the value, or -1 */
static long parse_number(const char *s, const char *end, long max)
{
    long n = 0;

    if (s == end) {
        return -1;
    }
    for (; s < end; s++) {
        if (*s < '0' || *s > '9') {
            return -1;
        }
        n = n * 10 + (*s - '0');
        if (n > max) {
            return -1;
        }
    }
    return n;
}

static const char *parse_options(apr_pool_t *p, const char *const *opts,
                                 int nopts, apigw_rl_redis_target *t)
{
    int i, seen_pw = 0, seen_to = 0;
    const char *err;

    for (i = 0; i < nopts; i++) {
        const char *o = opts[i];
        if (strncmp(o, "password=", 9) == 0) {
            if (seen_pw++ || !o[9]) {
                return "ApiRateLimitStore: password= is empty or given twice";
            }
            t->password = o + 9;
        }
        else if (strncmp(o, "timeout=", 8) == 0) {
            if (seen_to++) {
                return "ApiRateLimitStore: timeout= given twice";
            }
            if ((err = apigw_parse_duration(o + 8, &t->timeout)) != NULL) {
                return apr_psprintf(p, "ApiRateLimitStore: timeout=%s: %s",
                                    o + 8, err);
            }
            if (t->timeout <= 0) {
                return "ApiRateLimitStore: timeout= must be greater than zero";
            }
        }
        else {
            /* never echo the option: it may be a mistyped password */
            return "ApiRateLimitStore: unknown option (use password=SECRET "
                   "or timeout=DURATION)";
        }
    }
    return NULL;
}

const char *apigw_rl_redis_parse(apr_pool_t *p, const char *url,
                                 const char *const *opts, int nopts,
                                 apigw_rl_redis_target *out)
{
    apigw_rl_redis_target t;
    const char *rest, *colon, *slash, *host_end, *err;
    long n;

    memset(&t, 0, sizeof(t));
    t.timeout = APIGW_RL_REDIS_DEFAULT_TIMEOUT;
    t.port = APIGW_RL_REDIS_DEFAULT_PORT;
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
    host_end = colon ? colon : slash ? slash : rest + strlen(rest);
    t.host = apr_pstrmemdup(p, rest, (apr_size_t)(host_end - rest));
    if (!*t.host || strpbrk(t.host, "@[] \t")) {
        return apr_psprintf(p, "ApiRateLimitStore: '%s' needs a host name or "
                            "IPv4 address (redis://HOST:PORT[/DB])", url);
    }
    if (colon) {
        const char *end = slash ? slash : colon + strlen(colon);
        if (end == colon + 1) {
            return apr_psprintf(p, "ApiRateLimitStore: '%s' has an empty "
                                "port", url);
        }
        n = parse_number(colon + 1, end, 65535);
        if (n < 1) {
            return apr_psprintf(p, "ApiRateLimitStore: '%s': the port must "
                                "be a number from 1 to 65535", url);
        }
        t.port = (int)n;
    }
    if (slash && slash[1]) {
        n = parse_number(slash + 1, slash + strlen(slash), 1000000);
        if (n < 0) {
            return apr_psprintf(p, "ApiRateLimitStore: '%s': the database "
                                "must be a number (redis://HOST:PORT/DB)",
                                url);
        }
        t.db = (int)n;
    }
    if ((err = parse_options(p, opts, nopts, &t)) != NULL) {
        return err;
    }
    t.url = apr_psprintf(p, "redis://%s:%d/%d", t.host, t.port, t.db);
    *out = t;
    return NULL;
}

/* ---- one call ---- */

const char *apigw_rl_redis_key(apr_pool_t *p, const apigw_rl_hash *h)
{
    return apr_psprintf(p, "apigw:rl:%016" APR_UINT64_T_HEX_FMT
                        "%016" APR_UINT64_T_HEX_FMT, h->h1, h->h2);
}

static apr_uint64_t ceil_us(apr_uint64_t ns)
{
    return ns / 1000 + (ns % 1000 ? 1 : 0);
}

void apigw_rl_redis_make_args(apr_pool_t *p, const apigw_rl_rate *rt,
                              int take, apigw_rl_redis_args *out)
{
    out->interval_us = apr_psprintf(p, "%" APR_UINT64_T_FMT,
                                    ceil_us(rt->interval));
    out->burst = apr_psprintf(p, "%" APR_UINT64_T_FMT, rt->burst);
    out->mode = take ? "1" : "0";
    /* rounded down: a delayed request never waits longer than delay= */
    out->delay_us = apr_psprintf(p, "%" APR_UINT64_T_FMT, rt->delay / 1000);
}

void apigw_rl_redis_error_text(char *err, apr_size_t errlen, const char *text,
                               apr_size_t len)
{
    apr_size_t i;

    if (errlen == 0) {
        return;
    }
    if (!text || len == 0 || !text[0]) {
        text = "error reply without a message";
        len = strlen(text);
    }
    for (i = 0; i < len && i + 1 < errlen && text[i]; i++) {
        unsigned char c = (unsigned char)text[i];
        err[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    err[i] = '\0';
}

static int read_int(const redisReply *e, long long *out)
{
    if (!e || e->type != REDIS_REPLY_INTEGER || e->integer < 0) {
        return 0;
    }
    *out = e->integer;
    return 1;
}

int apigw_rl_redis_decode(const redisReply *rep, apigw_rl_decision *d,
                          char *err, apr_size_t errlen)
{
    long long v[5] = { 0, 0, 0, 0, 0 };
    apr_size_t i;

    if (!rep) {
        apr_cpystrn(err, "no reply", errlen);
        return 0;
    }
    if (rep->type == REDIS_REPLY_ERROR) {
        apigw_rl_redis_error_text(err, errlen, rep->str, rep->len);
        return 0;
    }
    /* four elements: a script from before delay= (same meaning, no wait) */
    if (rep->type != REDIS_REPLY_ARRAY
            || (rep->elements != 4 && rep->elements != 5)) {
        apr_cpystrn(err, "unexpected script reply", errlen);
        return 0;
    }
    for (i = 0; i < rep->elements; i++) {
        if (!read_int(rep->element[i], &v[i])) {
            apr_cpystrn(err, "unexpected script reply", errlen);
            return 0;
        }
    }
    if (v[0] > 1 || v[2] > (long long)(APR_UINT64_MAX / 2000)
            || v[3] > (long long)(APR_UINT64_MAX / 2000)
            || v[4] > (long long)(APR_UINT64_MAX / 2000)) {
        apr_cpystrn(err, "script reply out of range", errlen);
        return 0;
    }
    d->admitted = v[0] == 1;
    d->remaining = (apr_uint64_t)v[1];
    d->retry_ns = (apr_uint64_t)v[2] * 1000;
    d->reset_ns = (apr_uint64_t)v[3] * 1000;
    d->wait_ns = d->admitted ? (apr_uint64_t)v[4] * 1000 : 0;
    return 1;
}
