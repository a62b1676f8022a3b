/* Owns the rate limits of runtime routes: apigw_rl_route_prepare and
 * apigw_rl_route_attach (the optional functions of apigw_contract.h,
 * registered in mod_apigw_ratelimit.c), the attached limit a request
 * carries, and apigw_rl_policy_build, the last step of building any
 * limit, shared with the ApiRateLimit lines. See apigw_rl_route.h.
 *
 * prepare runs in a child, from any thread, concurrently with requests
 * and other prepares: it only allocates from its caller's pool and reads
 * constant tables. attach runs at translate_name; the limit is enforced
 * by apigw_rl_fixups with the limits of the request's context, so its
 * answers, headers and waits are theirs. */
#include "apigw_rl_route.h"
#include "apigw_rl_headers.h"

#include "http_log.h"
#include "apr_strings.h"

#include <string.h>

/* the expression's log messages name the module by it */
APLOG_USE_MODULE(apigw_ratelimit);

/* r->pool's user data: the attached limit */
#define ATTACHED_KEY "apigw_rl_route"

/* What an identity starts with: no limit name (letters, digits, . _ : -)
 * and no configuration file:line starts so. */
#define IDENT_PREFIX "route="

/* ---- policies ---- */

const char *apigw_rl_policy_build(apr_pool_t *p, apigw_rl_policy *pol,
                                  const apigw_rl_numbers *n,
                                  const char *owner)
{
    const char *err;

    pol->numbers = *n;
    if ((err = apigw_rl_rate_init(&pol->rate, n->average,
                                  (apr_uint64_t)n->period * 1000, n->burst,
                                  (apr_uint64_t)n->delay * 1000)) != NULL) {
        return err;             /* not after the validation */
    }
    pol->ident = apr_psprintf(p, "%s%s%s|%" APR_UINT64_T_FMT "|%"
                              APR_TIME_T_FMT "|%" APR_UINT64_T_FMT, owner,
                              pol->tier ? "|tier=" : "",
                              pol->tier ? pol->tier : "", n->average,
                              n->period, n->burst);
    apigw_rl_hash_init(&pol->seed);
    apigw_rl_hash_add(&pol->seed, pol->ident, strlen(pol->ident));
    pol->ident_hash = pol->seed;
    apigw_rl_hash_final(&pol->ident_hash);
    pol->average_text = apr_psprintf(p, "%" APR_UINT64_T_FMT, n->average);
    pol->quota_params = apigw_rl_quota_params(p, n->average,
                                              (apr_uint64_t)n->period * 1000);
    return NULL;
}

/* ---- the messages of the admin API ---- */

/* A message of apigw_rl_limit_validate or apigw_rl_key_parse, which name
 * the field as the directive writes it ("burst=0 is ...", "unknown key
 * 'x' in by= (use ...)"), as the admin API names it: "rateLimit.burst: 0
 * is ...", "rateLimit.by: unknown key 'x' (use ...)". */
static const char *api_message(apr_pool_t *p, const char *m)
{
    static const char *const numbers[] = { "average", "period", "burst",
                                           NULL };
    const char *in_by = strstr(m, " in by=");
    int i;

    for (i = 0; numbers[i]; i++) {
        apr_size_t len = strlen(numbers[i]);

        if (strncmp(m, numbers[i], len) == 0 && m[len] == '=') {
            m += len + 1;
            while (*m == ' ') {
                m++;
            }
            return apr_pstrcat(p, "rateLimit.", numbers[i], ": ", m, NULL);
        }
    }
    if (in_by) {
        return apr_pstrcat(p, "rateLimit.by: ",
                           apr_pstrmemdup(p, m, (apr_size_t)(in_by - m)),
                           in_by + strlen(" in by="), NULL);
    }
    return apr_pstrcat(p, "rateLimit: ", m, NULL);
}

/* ---- prepare ---- */

/* The key part k ready for requests; an expression is parsed here, as
 * ApiRateLimit's are at startup but without a cmd_parms. */
static const char *build_key(apr_pool_t *p, const char *where,
                             const apigw_rl_key *k, apigw_rl_by *out)
{
    ap_expr_info_t *info;
    const char *err;

    out->key = *k;
    out->expr = NULL;
    if (k->kind != APIGW_RL_BY_EXPR) {
        return NULL;
    }
    info = apr_pcalloc(p, sizeof(*info));
    info->filename = where;
    info->line_number = 0;
    /* DONT_VARY: a limit's key must not add Vary to the response;
     * RESTRICTED: an expression from the admin API reads no file */
    info->flags = AP_EXPR_FLAG_STRING_RESULT | AP_EXPR_FLAG_DONT_VARY
                  | AP_EXPR_FLAG_RESTRICTED
                  | AP_EXPR_FLAG_RESTRICTED_FILE_FUNC;
    info->module_index = APLOG_MODULE_INDEX;
    /* p for the scanner's scraps too: a temporary pool made from p could
     * race with the caller's other allocations from p's allocator */
    err = ap_expr_parse(p, p, info, k->name, NULL);
    if (err) {
        return apr_psprintf(p, "rateLimit.by: cannot parse the expression "
                            "'%s': %s", k->name, err);
    }
    out->expr = info;
    return NULL;
}

const char *apigw_rl_route_prepare(apr_pool_t *p, const char *route_id,
                                   const apigw_rt_rate_limit *spec,
                                   void **limit)
{
    apigw_rl_limit *l;
    apigw_rl_limit_spec *s;
    const apigw_rl_key *k;
    const char *err, *owner;

    *limit = NULL;
    if (!spec) {
        return "rateLimit: missing";
    }
    if (!route_id || !*route_id) {
        return "rateLimit: the route has no id";
    }
    l = apr_pcalloc(p, sizeof(*l));
    s = &l->spec;
    apigw_rl_limit_defaults(p, s);
    s->numbers.average = spec->average;
    s->numbers.period = spec->period;
    s->numbers.burst = spec->burst;
    err = apigw_rl_key_parse(p, "by", spec->by ? spec->by : "endpoint",
                             (apigw_rl_key *)apr_array_push(s->by));
    if (err || (err = apigw_rl_limit_validate(p, s)) != NULL) {
        return api_message(p, err);
    }
    l->file = l->base.file = apr_pstrcat(p, "runtime route ", route_id,
                                         NULL);
    l->line = l->base.line = 0;
    l->tiers = apr_array_make(p, 1, sizeof(apigw_rl_policy *));
    l->by = apr_array_make(p, 1, sizeof(apigw_rl_by));
    k = &APR_ARRAY_IDX(s->by, 0, apigw_rl_key);
    if (k->kind != APIGW_RL_BY_ENDPOINT
        && (err = build_key(p, l->file, k,
                            (apigw_rl_by *)apr_array_push(l->by))) != NULL) {
        return err;
    }
    owner = apr_pstrcat(p, IDENT_PREFIX, route_id, "|by=",
                        apigw_rl_key_text(p, k), NULL);
    if ((err = apigw_rl_policy_build(p, &l->base, &s->numbers, owner))
        != NULL) {
        return apr_pstrcat(p, "rateLimit: ", err, NULL);
    }
    *limit = l;
    return NULL;
}

/* ---- attach ---- */

void apigw_rl_route_attach(request_rec *r, void *limit)
{
    apr_pool_userdata_setn(limit, ATTACHED_KEY, NULL, r->pool);
}

const apigw_rl_limit *apigw_rl_route_attached(request_rec *r)
{
    void *limit = NULL;

    apr_pool_userdata_get(&limit, ATTACHED_KEY, r->pool);
    return limit;
}
