/* Enforcement of ApiRateLimit.
 *
 *   fixups (FIRST)          every limit of the request's context takes a
 *                           token; RateLimit-* headers; a refusal is noted
 *   handler (REALLY_FIRST)  a refused request is answered here, before
 *                           mod_apigw or mod_proxy could contact a backend
 *
 * Why fixups: it runs after all of httpd's access control (access_checker,
 * check_user_id, auth_checker), so a request that Require, Basic auth or
 * mod_apigw itself refuses never spends a token, and after mod_apigw has
 * merged the <ApiEndpoint> section into the request's per-dir config
 * (post_perdir_config), so limits inside <ApiEndpoint> apply. FIRST puts it
 * before mod_apigw's own fixup, which strips the client headers an endpoint
 * does not forward: by=header:NAME still sees what the client sent.
 * The refusal is answered from a handler rather than by returning the
 * status, because httpd's error page for a returned status is HTML, and
 * mod_proxy's handler ignores r->handler: ours must simply run first.
 * With ApiRateLimitStore the buckets are on Redis (apigw_rl_store.c)
 * instead of the zone; a store error admits the request or refuses it with
 * 503, as ApiRateLimitStoreFailure says. */
#include "apigw_rl_request.h"
#include "apigw_rl_config.h"
#include "apigw_rl_zone.h"
#include "apigw_log.h"
#include "apigw_json_error.h"

#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "util_cookies.h"
#include "apr_strings.h"

APLOG_USE_MODULE(apigw_ratelimit);

#define NS_PER_SEC ((apr_uint64_t)1000000000)

typedef struct {
    int status;
    const char *error;
    apr_uint64_t retry_ns;
} rl_refusal;

static void refuse(request_rec *r, int status, const char *error,
                   apr_uint64_t retry_ns)
{
    rl_refusal *ref = apr_pcalloc(r->pool, sizeof(*ref));

    ref->status = status;
    ref->error = error;
    ref->retry_ns = retry_ns;
    ap_set_module_config(r->request_config, &apigw_ratelimit_module, ref);
}

static const char *store_key(request_rec *r, const apigw_rl_hash *h)
{
    return apr_psprintf(r->pool, "apigw:rl:%016" APR_UINT64_T_HEX_FMT
                        "%016" APR_UINT64_T_HEX_FMT, h->h1, h->h2);
}

static apr_uint64_t ceil_sec(apr_uint64_t ns)
{
    return ns / NS_PER_SEC + (ns % NS_PER_SEC ? 1 : 0);
}

static void hash_part(apigw_rl_hash *h, int kind, const char *value)
{
    unsigned char k = (unsigned char)kind;

    apigw_rl_hash_add(h, &k, 1);
    apigw_rl_hash_add(h, value ? value : "", value ? strlen(value) : 0);
}

/* The key of limit l for request r: the limit itself plus each by= part.
 * A missing header, cookie or variable counts as the empty value. */
static apigw_rl_hash request_key(request_rec *r, const apigw_rl_limit *l)
{
    apigw_rl_hash h;
    int i;

    apigw_rl_hash_init(&h);
    apigw_rl_hash_add(&h, l->ident, strlen(l->ident));
    for (i = 0; i < l->by->nelts; i++) {
        const apigw_rl_by *by = &APR_ARRAY_IDX(l->by, i, apigw_rl_by);
        const char *v = NULL;

        switch (by->kind) {
        case APIGW_RL_BY_IP:
            v = r->useragent_ip;
            break;
        case APIGW_RL_BY_HEADER:
            v = apr_table_get(r->headers_in, by->name);
            break;
        case APIGW_RL_BY_COOKIE:
            if (ap_cookie_read(r, by->name, &v, 0) != APR_SUCCESS) {
                v = NULL;
            }
            break;
        case APIGW_RL_BY_ENV:
            v = apr_table_get(r->subprocess_env, by->name);
            break;
        default:
            break;
        }
        hash_part(&h, (int)by->kind, v);
    }
    apigw_rl_hash_final(&h);
    return h;
}

static void set_headers(request_rec *r, const apigw_rl_limit *l,
                        const apigw_rl_decision *d)
{
    apr_table_t *t = r->err_headers_out;   /* kept on proxied answers too */

    apr_table_setn(t, "RateLimit-Limit",
                   apr_psprintf(r->pool, "%" APR_UINT64_T_FMT, l->average));
    apr_table_setn(t, "RateLimit-Remaining",
                   apr_psprintf(r->pool, "%" APR_UINT64_T_FMT, d->remaining));
    apr_table_setn(t, "RateLimit-Reset",
                   apr_psprintf(r->pool, "%" APR_UINT64_T_FMT,
                                ceil_sec(d->reset_ns)));
}

static int apigw_rl_fixups(request_rec *r)
{
    apigw_rl_dir_conf *dc = ap_get_module_config(r->per_dir_config,
                                                 &apigw_ratelimit_module);
    apigw_rl_server_conf *sc = ap_get_module_config(r->server->module_config,
                                                    &apigw_ratelimit_module);
    apigw_rl_store *store = sc ? sc->store : NULL;
    apigw_rl_table *table = apigw_rl_zone_table();
    apigw_rl_slot *taken[16];
    const char *taken_key[16];
    const apigw_rl_rate *taken_rate[16];
    const apigw_rl_limit *shown = NULL;
    apigw_rl_decision shown_d;
    apr_uint64_t now;
    int i, j, ntaken = 0;

    /* subrequests and internal redirects were counted as the original */
    if (r->main || r->prev || !dc || dc->limits->nelts == 0
            || (!table && !store)) {
        return DECLINED;
    }
    now = (apr_uint64_t)apr_time_now() * 1000;
    for (i = 0; i < dc->limits->nelts; i++) {
        const apigw_rl_limit *l = APR_ARRAY_IDX(dc->limits, i, apigw_rl_limit *);
        apigw_rl_hash h;
        apigw_rl_slot *slot = NULL;
        const char *key = NULL;
        apigw_rl_decision d;

        if (l->rate.unlimited) {
            continue;
        }
        h = request_key(r, l);
        if (store) {
            key = store_key(r, &h);
            if (apigw_rl_store_take(store, r, key, &l->rate, 1, &d)
                    != APR_SUCCESS) {
                if (!sc->failure_closed) {
                    continue;           /* failure open: this limit admits */
                }
                for (j = 0; j < ntaken; j++) {
                    apigw_rl_store_take(store, r, taken_key[j], taken_rate[j],
                                        0, NULL);
                }
                refuse(r, HTTP_SERVICE_UNAVAILABLE,
                       "rate limit store unavailable", 0);
                return DECLINED;
            }
        }
        else {
            slot = apigw_rl_table_find(table, h.h1, h.h2, now);
            if (!slot) {
                ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, APIGW_LOGNO(01004)
                              "rate limit %s: no slot free after retries, "
                              "request let through",
                              l->name ? l->name : "(unnamed)");
                continue;
            }
            apigw_rl_slot_take(slot, &l->rate, now, &d);
        }
        if (!d.admitted) {
            /* the limits that admitted it give their token back */
            for (j = 0; j < ntaken; j++) {
                if (store) {
                    apigw_rl_store_take(store, r, taken_key[j], taken_rate[j],
                                        0, NULL);
                }
                else {
                    apigw_rl_slot_refund(taken[j], taken_rate[j]);
                }
            }
            set_headers(r, l, &d);
            refuse(r, l->status, "rate limit exceeded", d.retry_ns);
            ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, APIGW_LOGNO(01001)
                          "rate limit %s (%s:%u) exceeded: answered %d",
                          l->name ? l->name : "(unnamed)", l->file, l->line,
                          l->status);
            return DECLINED;
        }
        if (ntaken < (int)(sizeof(taken) / sizeof(taken[0]))) {
            taken_rate[ntaken] = &l->rate;
            taken_key[ntaken] = key;
            taken[ntaken++] = slot;
        }
        if (!shown || d.remaining < shown_d.remaining) {
            shown = l;
            shown_d = d;
        }
    }
    if (shown) {
        set_headers(r, shown, &shown_d);
    }
    return DECLINED;
}

static int apigw_rl_handler(request_rec *r)
{
    rl_refusal *ref = ap_get_module_config(r->request_config,
                                           &apigw_ratelimit_module);

    if (!ref) {
        return DECLINED;
    }
    apr_table_setn(r->err_headers_out, "Retry-After",
                   apr_psprintf(r->pool, "%" APR_UINT64_T_FMT,
                                ref->retry_ns ? ceil_sec(ref->retry_ns) : 1));
    return apigw_send_error(r, ref->status, ref->error);
}

void apigw_rl_request_register_hooks(apr_pool_t *p)
{
    (void)p;
    ap_hook_fixups(apigw_rl_fixups, NULL, NULL, APR_HOOK_FIRST);
    ap_hook_handler(apigw_rl_handler, NULL, NULL, APR_HOOK_REALLY_FIRST);
}
