/* The status document: `SetHandler apigw-ratelimit-status` answers it as
 * JSON, and the optional function apigw_rl_status_json gives it to other
 * modules. It reads the shared counters and scans the zone, takes no
 * lock, and holds no key's value (only counts), so it can be polled; still
 * protect it with Require like any admin page. */
#include "apigw_rl_status.h"
#include "mod_apigw_ratelimit.h"
#include "apigw_rl_config.h"
#include "apigw_rl_limits.h"
#include "apigw_rl_zone.h"
#include "apigw_json.h"

#include "http_protocol.h"
#include "http_request.h"
#include "apr_atomic.h"
#include "apr_strings.h"

const char *apigw_rl_status_by_text(apr_pool_t *p, const apigw_rl_limit *l)
{
    const char *s = "endpoint";
    int i;

    for (i = 0; i < l->by->nelts; i++) {
        const char *k = apigw_rl_key_text(p, &APR_ARRAY_IDX(l->by, i,
                                                            apigw_rl_by).key);
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

void apigw_rl_status_counts(const apigw_rl_policy *pol,
                            apigw_rl_status_counted *c)
{
    c->admitted = READ(pol, admitted);
    c->rejected = READ(pol, rejected);
    c->delayed = READ(pol, delayed);
    c->errors = READ(pol, errors);
}

static void add_policy(apr_pool_t *p, apr_array_header_t *out,
                       const apigw_rl_policy *pol)
{
    apigw_rl_status_counted c;

    apigw_rl_status_counts(pol, &c);
    APR_ARRAY_PUSH(out, const char *) = apr_psprintf(p,
        "\"average\":%" APR_UINT64_T_FMT ",\"period\":%s,"
        "\"burst\":%" APR_UINT64_T_FMT ",\"delay\":%s,"
        "\"admitted\":%" APR_UINT64_T_FMT ",\"rejected\":%" APR_UINT64_T_FMT
        ",\"delayed\":%" APR_UINT64_T_FMT ",\"store_errors\":%"
        APR_UINT64_T_FMT,
        pol->numbers.average, apigw_rl_seconds_text(p, pol->numbers.period),
        pol->numbers.burst, apigw_rl_seconds_text(p, pol->numbers.delay),
        c.admitted, c.rejected, c.delayed, c.errors);
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
            APR_ARRAY_PUSH(v, const char *) = apigw_json_str(p, key);
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
        apigw_json_str(p, l->spec.name), apigw_json_str(p, l->file), l->line,
        apigw_json_str(p, apigw_rl_status_by_text(p, l)), l->spec.status);
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
            apigw_json_str(p, apigw_rl_key_text(p, &l->tier_by->key)),
            apr_array_pstrcat(p, tiers, ','));
    }
    return apr_pstrcat(p, "{", apr_array_pstrcat(p, f, ','), "}", NULL);
}

const char *apigw_rl_status_json(request_rec *r)
{
    apr_pool_t *p = r->pool;
    apigw_rl_server_conf *sc = ap_get_module_config(r->server->module_config,
                                                    &apigw_ratelimit_module);
    apr_array_header_t *limits = apigw_rl_limits();
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
        const apigw_rl_redis_target *tg = &sc->store->target;

        store = apr_psprintf(p, "{\"url\":%s,\"timeout\":%s,\"failure\":%s,"
                             "\"down_in_this_process\":%s}",
                             apigw_json_str(p, tg->url),
                             apigw_rl_seconds_text(p, tg->timeout),
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

int apigw_rl_status_handler(request_rec *r)
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
