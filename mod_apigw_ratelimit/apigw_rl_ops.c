/* Owns the rate limits of the management API: the optional function
 * apigw_ops_rate_limits (apigw_contract.h, registered in
 * mod_apigw_ratelimit.c), one RateLimitCounter per policy of every
 * ApiRateLimit line (its own numbers, then each ApiRateLimitTier's),
 * counted as the status document counts them (apigw_rl_status_counts).
 * A limit keeps its file and line, not its section: the section is read
 * from httpd's configuration tree (ap_conftree, alive for the whole
 * generation, as mod_info reads it). Runtime routes' limits have no
 * counters, so they are not listed. */
#include "apigw_rl_ops.h"
#include "apigw_rl_limits.h"
#include "apigw_rl_status.h"
#include "apigw_json.h"

#include "http_config.h"
#include "util_cfgtree.h"
#include "apr_hash.h"
#include "apr_strings.h"

static int is_conditional(const char *name)
{
    return ap_cstr_casecmpn(name, "<If", 3) == 0
        || ap_cstr_casecmpn(name, "<Else", 5) == 0;
}

/* "<Location /x>" as written: the nearest section around d that is not
 * a conditional, or "server config". */
static const char *section_of(apr_pool_t *p, const ap_directive_t *d)
{
    for (d = d->parent; d && is_conditional(d->directive); d = d->parent) {
    }
    if (!d) {
        return "server config";
    }
    return apr_pstrcat(p, d->directive, *d->args ? " " : "", d->args, NULL);
}

/* "file:line" of every ApiRateLimit line -> its section. */
static void index_sections(apr_pool_t *p, const ap_directive_t *d,
                           apr_hash_t *out)
{
    for (; d; d = d->next) {
        if (ap_cstr_casecmp(d->directive, "ApiRateLimit") == 0) {
            apr_hash_set(out, apr_psprintf(p, "%s:%d", d->filename,
                                           d->line_num),
                         APR_HASH_KEY_STRING, section_of(p, d));
        }
        index_sections(p, d->first_child, out);
    }
}

/* "gold: 100/1s, burst 20, by header:X-Api-Key, delay 0.5s, tier gold" */
static const char *policy_text(apr_pool_t *p, const apigw_rl_limit *l,
                               const apigw_rl_policy *pol)
{
    const apigw_rl_numbers *n = &pol->numbers;

    return apr_psprintf(p, "%s%s%" APR_UINT64_T_FMT "/%ss, burst %"
                        APR_UINT64_T_FMT ", by %s%s%s%s%s%s",
                        l->spec.name ? l->spec.name : "",
                        l->spec.name ? ": " : "", n->average,
                        apigw_rl_seconds_text(p, n->period), n->burst,
                        apigw_rl_status_by_text(p, l),
                        n->delay ? ", delay " : "",
                        n->delay ? apigw_rl_seconds_text(p, n->delay) : "",
                        n->delay ? "s" : "", pol->tier ? ", tier " : "",
                        pol->tier ? pol->tier : "");
}

static const char *counter_json(apr_pool_t *p, const char *section,
                                const apigw_rl_limit *l,
                                const apigw_rl_policy *pol)
{
    apigw_rl_status_counted c;

    apigw_rl_status_counts(pol, &c);
    return apr_psprintf(p, "{\"section\":%s,\"policy\":%s,\"admitted\":%"
                        APR_UINT64_T_FMT ",\"rejected\":%" APR_UINT64_T_FMT
                        ",\"delayed\":%" APR_UINT64_T_FMT "}",
                        apigw_json_str(p, section),
                        apigw_json_str(p, policy_text(p, l, pol)),
                        c.admitted, c.rejected, c.delayed);
}

const char *apigw_ops_rate_limits(request_rec *r)
{
    apr_pool_t *p = r->pool;
    apr_array_header_t *limits = apigw_rl_limits();
    apr_array_header_t *out = apr_array_make(p, 8, sizeof(const char *));
    apr_hash_t *sections = apr_hash_make(p);
    int i, j;

    if (limits && limits->nelts) {
        index_sections(p, ap_conftree, sections);
    }
    for (i = 0; limits && i < limits->nelts; i++) {
        const apigw_rl_limit *l = APR_ARRAY_IDX(limits, i, apigw_rl_limit *);
        const char *where = apr_psprintf(p, "%s:%u", l->file, l->line);
        const char *section = apr_hash_get(sections, where,
                                           APR_HASH_KEY_STRING);

        /* not in the tree (it should be): where the line is */
        section = section ? section : where;
        APR_ARRAY_PUSH(out, const char *) = counter_json(p, section, l,
                                                         &l->base);
        for (j = 0; l->tiers && j < l->tiers->nelts; j++) {
            APR_ARRAY_PUSH(out, const char *) = counter_json(
                p, section, l, APR_ARRAY_IDX(l->tiers, j, apigw_rl_policy *));
        }
    }
    return apr_pstrcat(p, "[", apr_array_pstrcat(p, out, ','), "]", NULL);
}
