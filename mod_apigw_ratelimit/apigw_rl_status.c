/* The status document: `SetHandler apigw-ratelimit-status` answers it as
 * JSON, and the optional function apigw_rl_status_json gives it to other
 * modules. It reads the shared counters and scans the zone, takes no
 * lock, and holds no key's value (only counts), so it can be polled; still
 * protect it with Require like any admin page. */
#include "apigw_rl_status.h"
#include "mod_apigw_ratelimit.h"
#include "apigw_rl_config.h"
#include "apigw_rl_zone.h"

#include "http_protocol.h"
#include "http_request.h"
#include "apr_atomic.h"
#include "apr_strings.h"

static const char *json_str(apr_pool_t *p, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    apr_size_t n = 2;
    const char *c;
    char *out, *o;

    for (c = s; *c; c++) {
        n += ((unsigned char)*c < 0x20 || *c == '"' || *c == '\\') ? 6 : 1;
    }
    o = out = apr_palloc(p, n + 1);
    *o++ = '"';
    for (c = s; *c; c++) {
        unsigned char u = (unsigned char)*c;
        if (u < 0x20 || u == '"' || u == '\\') {
            *o++ = '\\';
            *o++ = 'u';
            *o++ = '0';
            *o++ = '0';
            *o++ = hex[u >> 4];
            *o++ = hex[u & 0xf];
        }
        else {
            *o++ = (char)u;
        }
    }
    *o++ = '"';
    *o = '\0';
    return out;
}

/* microseconds as a JSON number of seconds: 0.5, 60, 0.000250 */
static const char *seconds(apr_pool_t *p, apr_interval_time_t us)
{
    char *s = apr_psprintf(p, "%" APR_TIME_T_FMT ".%06" APR_TIME_T_FMT,
                           us / APR_USEC_PER_SEC, us % APR_USEC_PER_SEC);
    char *e = s + strlen(s) - 1;

    while (*e == '0') {
        *e-- = '\0';
    }
    if (*e == '.') {
        *e = '\0';
    }
    return s;
}

static const char *key_text(apr_pool_t *p, const apigw_rl_by *by)
{
    static const char *const kinds[] = { "endpoint", "ip", "header", "cookie",
                                         "env", "expr" };
    const char *kind = kinds[by->kind];

    return by->name ? apr_pstrcat(p, kind, ":", by->name, NULL) : kind;
}

static const char *by_text(apr_pool_t *p, const apigw_rl_limit *l)
{
    const char *s = "endpoint";
    int i;

    for (i = 0; i < l->by->nelts; i++) {
        const char *k = key_text(p, &APR_ARRAY_IDX(l->by, i, apigw_rl_by));
        s = i ? apr_pstrcat(p, s, ",", k, NULL) : k;
    }
    return s;
}

static apr_uint64_t read_counter(const apigw_rl_policy *pol, size_t field)
{
    return pol->counter
           ? apr_atomic_read64((volatile apr_uint64_t *)
                               ((char *)pol->counter + field))
           : 0;
}

#define READ(pol, f) read_counter((pol), APR_OFFSETOF(apigw_rl_counter, f))

static void add_policy(apr_pool_t *p, apr_array_header_t *out,
                       const apigw_rl_policy *pol)
{
    APR_ARRAY_PUSH(out, const char *) = apr_psprintf(p,
        "\"average\":%" APR_UINT64_T_FMT ",\"period\":%s,"
        "\"burst\":%" APR_UINT64_T_FMT ",\"delay\":%s,"
        "\"admitted\":%" APR_UINT64_T_FMT ",\"rejected\":%" APR_UINT64_T_FMT
        ",\"delayed\":%" APR_UINT64_T_FMT ",\"store_errors\":%"
        APR_UINT64_T_FMT,
        pol->average, seconds(p, pol->period), pol->burst,
        seconds(p, pol->delay), READ(pol, admitted), READ(pol, rejected),
        READ(pol, delayed), READ(pol, errors));
}

/* the values of l that select tier t, as a JSON array */
static const char *tier_values(apr_pool_t *p, const apigw_rl_limit *l,
                               const apigw_rl_policy *t)
{
    apr_array_header_t *v = apr_array_make(p, 2, sizeof(const char *));
    apr_hash_index_t *hi;

    for (hi = apr_hash_first(p, l->tier_of); hi; hi = apr_hash_next(hi)) {
        const void *key;
        void *val;
        apr_hash_this(hi, &key, NULL, &val);
        if (val == t) {
            APR_ARRAY_PUSH(v, const char *) = json_str(p, key);
        }
    }
    return apr_pstrcat(p, "[", apr_array_pstrcat(p, v, ','), "]", NULL);
}

static const char *limit_json(apr_pool_t *p, const apigw_rl_limit *l)
{
    apr_array_header_t *f = apr_array_make(p, 16, sizeof(const char *));
    int i;

    APR_ARRAY_PUSH(f, const char *) = apr_psprintf(p,
        "\"name\":%s,\"file\":%s,\"line\":%u,\"by\":%s,\"status\":%d",
        l->name ? json_str(p, l->name) : "null", json_str(p, l->file),
        l->line, json_str(p, by_text(p, l)), l->status);
    add_policy(p, f, &l->base);
    if (l->tier_by) {
        apr_array_header_t *tiers = apr_array_make(p, 4, sizeof(const char *));
        for (i = 0; i < l->tiers->nelts; i++) {
            const apigw_rl_policy *t = APR_ARRAY_IDX(l->tiers, i,
                                                     apigw_rl_policy *);
            apr_array_header_t *tf = apr_array_make(p, 4,
                                                    sizeof(const char *));
            APR_ARRAY_PUSH(tf, const char *) = apr_psprintf(p,
                "\"values\":%s,\"line\":%u", tier_values(p, l, t), t->line);
            add_policy(p, tf, t);
            APR_ARRAY_PUSH(tiers, const char *) =
                apr_pstrcat(p, "{", apr_array_pstrcat(p, tf, ','), "}", NULL);
        }
        APR_ARRAY_PUSH(f, const char *) = apr_psprintf(p,
            "\"tier\":%s,\"tiers\":[%s]",
            json_str(p, key_text(p, l->tier_by)),
            apr_array_pstrcat(p, tiers, ','));
    }
    return apr_pstrcat(p, "{", apr_array_pstrcat(p, f, ','), "}", NULL);
}

static const char *apigw_rl_status_json(request_rec *r)
{
    apr_pool_t *p = r->pool;
    apigw_rl_server_conf *sc = ap_get_module_config(r->server->module_config,
                                                    &apigw_ratelimit_module);
    apr_array_header_t *limits = apigw_rl_config_limits();
    apr_array_header_t *items = apr_array_make(p, 8, sizeof(const char *));
    apigw_rl_table *t = apigw_rl_zone_table();
    apr_uint64_t keys = 0, active = 0;
    const char *store = "null";
    int i;

    if (t) {
        apigw_rl_table_count(t, (apr_uint64_t)apr_time_now() * 1000, &keys,
                             &active);
    }
    if (sc && sc->store) {
        store = apr_psprintf(p, "{\"url\":%s,\"timeout\":%s,\"failure\":%s,"
                             "\"down_in_this_process\":%s}",
                             json_str(p, sc->store->target.url),
                             seconds(p, sc->store->target.timeout),
                             sc->failure_closed ? "\"closed\"" : "\"open\"",
                             apigw_rl_store_is_down(sc->store) ? "true"
                                                               : "false");
    }
    for (i = 0; limits && i < limits->nelts; i++) {
        APR_ARRAY_PUSH(items, const char *) =
            limit_json(p, APR_ARRAY_IDX(limits, i, apigw_rl_limit *));
    }
    return apr_psprintf(p, "{\"zone\":{\"bytes\":%" APR_SIZE_T_FMT
                        ",\"slots\":%" APR_UINT64_T_FMT ",\"keys\":%"
                        APR_UINT64_T_FMT ",\"active\":%" APR_UINT64_T_FMT
                        "},\"store\":%s,\"limits\":[%s]}\n",
                        apigw_rl_zone_bytes(), t ? t->nslots : 0, keys,
                        active, store, apr_array_pstrcat(p, items, ','));
}

static int status_handler(request_rec *r)
{
    const char *body;

    if (!r->handler || strcmp(r->handler, APIGW_RL_STATUS_HANDLER) != 0) {
        return DECLINED;
    }
    if (r->method_number != M_GET) {
        ap_allow_methods(r, REPLACE_ALLOW, "GET", NULL);
        return HTTP_METHOD_NOT_ALLOWED;
    }
    body = apigw_rl_status_json(r);
    ap_set_content_type(r, "application/json");
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    ap_set_content_length(r, (apr_off_t)strlen(body));
    if (!r->header_only) {
        ap_rputs(body, r);
    }
    return OK;
}

void apigw_rl_status_register_hooks(apr_pool_t *p)
{
    (void)p;
    APR_REGISTER_OPTIONAL_FN(apigw_rl_status_json);
    ap_hook_handler(status_handler, NULL, NULL, APR_HOOK_MIDDLE);
}
