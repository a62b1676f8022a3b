/* The shared memory: two retained segments (apigw_shm.h), the bucket
 * table and the counters, made in the parent and inherited by every
 * child, found again after httpd reloads this module, so buckets and
 * counters survive a graceful restart. A changed ApiRateLimitZone size
 * makes a new, empty table; a configuration with more policies than the
 * counters hold makes larger counters, carrying the counts over. Children
 * of the previous generation keep their own mapping of a replaced
 * segment until they exit. */
#include "apigw_rl_zone.h"
#include "apigw_rl_config.h"
#include "apigw_rl_limits.h"
#include "apigw_shm.h"
#include "apigw_log.h"

#include "http_log.h"
#include "http_core.h"
#include "apr_strings.h"

APLOG_USE_MODULE(apigw_ratelimit);

#define RETAINED_KEY "apigw_ratelimit_zone"
#define RETAINED_COUNTERS_KEY "apigw_ratelimit_counters"
#define MIN_COUNTERS 64

static apigw_rl_table *zone_table;
static apr_size_t zone_bytes;

apigw_rl_table *apigw_rl_zone_table(void)
{
    return zone_table;
}

apr_size_t apigw_rl_zone_bytes(void)
{
    return zone_bytes;
}

/* The table in *shm, kept when it has the size asked for. */
static int make_table(apr_shm_t **shm, server_rec *s, apr_size_t size)
{
    apr_status_t rv;

    if (*shm && apr_shm_size_get(*shm) == size) {
        zone_table = apr_shm_baseaddr_get(*shm);
        zone_bytes = size;
        return OK;
    }
    if ((rv = apigw_shm_renew(shm, size, s)) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, APIGW_LOGNO(01003)
                     "ApiRateLimitZone: cannot create %" APR_SIZE_T_FMT
                     " bytes of shared memory", size);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    zone_bytes = size;
    zone_table = apigw_rl_table_init(apr_shm_baseaddr_get(*shm),
                                     apr_shm_size_get(*shm));
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, APIGW_LOGNO(01002)
                 "rate-limit zone: %" APR_SIZE_T_FMT " bytes, %"
                 APR_UINT64_T_FMT " keys", size,
                 zone_table ? zone_table->nslots : 0);
    return OK;
}

/* Every policy of the configuration. */
static apr_array_header_t *all_policies(apr_pool_t *p)
{
    apr_array_header_t *limits = apigw_rl_limits();
    apr_array_header_t *out = apr_array_make(p, 16, sizeof(apigw_rl_policy *));
    int i, j;

    for (i = 0; limits && i < limits->nelts; i++) {
        apigw_rl_limit *l = APR_ARRAY_IDX(limits, i, apigw_rl_limit *);
        APR_ARRAY_PUSH(out, apigw_rl_policy *) = &l->base;
        for (j = 0; j < l->tiers->nelts; j++) {
            APR_ARRAY_PUSH(out, apigw_rl_policy *) =
                APR_ARRAY_IDX(l->tiers, j, apigw_rl_policy *);
        }
    }
    return out;
}

/* New, empty counters for n policies (with room to grow) in *shm, which
 * is destroyed first. */
static apigw_rl_counters *new_counters(apr_shm_t **shm, apr_size_t n,
                                       server_rec *s)
{
    apr_size_t want = n < MIN_COUNTERS ? MIN_COUNTERS : 2 * n;
    apr_size_t bytes = apigw_rl_counters_bytes(want);
    apr_status_t rv = apigw_shm_renew(shm, bytes, s);

    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, APIGW_LOGNO(01011)
                     "rate-limit counters: cannot create %" APR_SIZE_T_FMT
                     " bytes of shared memory", bytes);
        return NULL;
    }
    return apigw_rl_counters_init(apr_shm_baseaddr_get(*shm),
                                  apr_shm_size_get(*shm));
}

/* Counters in *shm that hold the n keys: the retained ones, or larger
 * ones that take over their counts (from a copy: the old segment goes
 * when the new one is made). out[i]: key i's entry. */
static int assign_counters(apr_shm_t **shm, server_rec *s, apr_pool_t *ptemp,
                           const apigw_rl_hash *keys, apr_size_t n,
                           apigw_rl_counter **out)
{
    apigw_rl_counters *c, *old;

    if (!*shm) {
        if (!(c = new_counters(shm, n, s))) {
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    else {
        c = apr_shm_baseaddr_get(*shm);
    }
    if (apigw_rl_counters_assign(c, ptemp, keys, n, out) == 0) {
        return OK;
    }
    old = apr_pmemdup(ptemp, c, apr_shm_size_get(*shm));
    if (!(c = new_counters(shm, n, s))
            || apigw_rl_counters_assign(c, ptemp, keys, n, out) != 0) {
        return HTTP_INTERNAL_SERVER_ERROR;      /* 2n entries hold n keys */
    }
    apigw_rl_counters_carry(c, old, keys, n);
    return OK;
}

static int make_counters(apr_shm_t **shm, server_rec *s, apr_pool_t *ptemp)
{
    apr_array_header_t *pols = all_policies(ptemp);
    apr_size_t n = (apr_size_t)pols->nelts, i;
    apigw_rl_hash *keys = apr_pcalloc(ptemp, (n ? n : 1) * sizeof(*keys));
    apigw_rl_counter **out = apr_pcalloc(ptemp, (n ? n : 1) * sizeof(*out));
    int rv;

    for (i = 0; i < n; i++) {
        keys[i] = APR_ARRAY_IDX(pols, i, apigw_rl_policy *)->ident_hash;
    }
    if ((rv = assign_counters(shm, s, ptemp, keys, n, out)) != OK) {
        return rv;
    }
    for (i = 0; i < n; i++) {
        APR_ARRAY_IDX(pols, i, apigw_rl_policy *)->counter = out[i];
    }
    return OK;
}

int apigw_rl_zone_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                              apr_pool_t *ptemp, server_rec *s)
{
    apigw_rl_server_conf *sc = ap_get_module_config(s->module_config,
                                                    &apigw_ratelimit_module);
    apr_size_t size = (apr_size_t)(sc->zone_size ? sc->zone_size
                                                 : APIGW_RL_DEFAULT_ZONE);
    int rv;

    (void)pconf;
    (void)plog;
    /* the first pass at startup only checks the config: no shm yet */
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) {
        return OK;
    }
    if ((rv = make_table(apigw_shm_retained(RETAINED_KEY), s, size)) != OK) {
        return rv;
    }
    return make_counters(apigw_shm_retained(RETAINED_COUNTERS_KEY), s, ptemp);
}
