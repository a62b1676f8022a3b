/* The shared memory: two anonymous apr_shm segments made in the parent's
 * process pool and inherited by every child through fork(), the bucket
 * table and the counters. The process pool outlives graceful restarts,
 * and ap_retained_data finds the segments again after httpd reloads this
 * module, so buckets and counters survive a graceful restart. A changed
 * ApiRateLimitZone size makes a new, empty table; a configuration with
 * more policies than the counters hold makes larger counters, carrying
 * the counts over. Children of the previous generation keep their own
 * mapping of a replaced segment until they exit. */
#include "apigw_rl_zone.h"
#include "apigw_rl_config.h"
#include "apigw_log.h"

#include "http_log.h"
#include "http_core.h"
#include "apr_shm.h"

APLOG_USE_MODULE(apigw_ratelimit);

#define RETAINED_KEY "apigw_ratelimit_zone"
#define RETAINED_COUNTERS_KEY "apigw_ratelimit_counters"
#define MIN_COUNTERS 64

typedef struct {
    apr_shm_t *shm;
    apr_size_t size;
} zone_retained;

typedef struct {
    apr_shm_t *shm;
} counters_retained;

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

static int make_table(zone_retained *zr, server_rec *s, apr_size_t size)
{
    apr_status_t rv;

    if (zr->shm && zr->size == size) {
        zone_table = apr_shm_baseaddr_get(zr->shm);
        zone_bytes = size;
        return OK;
    }
    if (zr->shm) {
        apr_shm_destroy(zr->shm);
        zr->shm = NULL;
    }
    rv = apr_shm_create(&zr->shm, size, NULL, s->process->pool);
    if (rv != APR_SUCCESS) {
        zr->shm = NULL;
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, APIGW_LOGNO(01003)
                     "ApiRateLimitZone: cannot create %" APR_SIZE_T_FMT
                     " bytes of shared memory", size);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    zr->size = size;
    zone_bytes = size;
    zone_table = apigw_rl_table_init(apr_shm_baseaddr_get(zr->shm),
                                     apr_shm_size_get(zr->shm));
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, APIGW_LOGNO(01002)
                 "rate-limit zone: %" APR_SIZE_T_FMT " bytes, %"
                 APR_UINT64_T_FMT " keys", size,
                 zone_table ? zone_table->nslots : 0);
    return OK;
}

/* Every policy of the configuration, and its identity's hash. */
static apr_array_header_t *all_policies(apr_pool_t *p)
{
    apr_array_header_t *limits = apigw_rl_config_limits();
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

static apigw_rl_counters *new_counters(apr_shm_t **shm, apr_size_t n,
                                       server_rec *s)
{
    apr_size_t want = n < MIN_COUNTERS ? MIN_COUNTERS : 2 * n;
    apr_status_t rv = apr_shm_create(shm, apigw_rl_counters_bytes(want),
                                     NULL, s->process->pool);

    if (rv != APR_SUCCESS) {
        *shm = NULL;
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, APIGW_LOGNO(01011)
                     "rate-limit counters: cannot create %" APR_SIZE_T_FMT
                     " bytes of shared memory",
                     apigw_rl_counters_bytes(want));
        return NULL;
    }
    return apigw_rl_counters_init(apr_shm_baseaddr_get(*shm),
                                  apr_shm_size_get(*shm));
}

static int make_counters(counters_retained *zr, server_rec *s,
                         apr_pool_t *ptemp)
{
    apr_array_header_t *pols = all_policies(ptemp);
    apr_size_t n = (apr_size_t)pols->nelts, i;
    apigw_rl_hash *keys = apr_pcalloc(ptemp, (n ? n : 1) * sizeof(*keys));
    apigw_rl_counter **out = apr_pcalloc(ptemp, (n ? n : 1) * sizeof(*out));
    apigw_rl_counters *c = NULL, *bigger;
    apr_shm_t *shm;

    for (i = 0; i < n; i++) {
        keys[i] = APR_ARRAY_IDX(pols, i, apigw_rl_policy *)->ident_hash;
    }
    if (zr->shm) {
        c = apr_shm_baseaddr_get(zr->shm);
    }
    else if (!(c = new_counters(&zr->shm, n, s))) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (apigw_rl_counters_assign(c, ptemp, keys, n, out) != 0) {
        if (!(bigger = new_counters(&shm, n, s))) {
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        if (apigw_rl_counters_assign(bigger, ptemp, keys, n, out) != 0) {
            return HTTP_INTERNAL_SERVER_ERROR;      /* cannot happen: 2n */
        }
        apigw_rl_counters_carry(bigger, c, keys, n);
        apr_shm_destroy(zr->shm);
        zr->shm = shm;
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
    zone_retained *zr;
    counters_retained *cr;
    int rv;

    (void)pconf;
    (void)plog;
    /* the first pass at startup only checks the config: no shm yet */
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) {
        return OK;
    }
    zr = ap_retained_data_get(RETAINED_KEY);
    if (!zr) {
        zr = ap_retained_data_create(RETAINED_KEY, sizeof(*zr));
    }
    if ((rv = make_table(zr, s, size)) != OK) {
        return rv;
    }
    cr = ap_retained_data_get(RETAINED_COUNTERS_KEY);
    if (!cr) {
        cr = ap_retained_data_create(RETAINED_COUNTERS_KEY, sizeof(*cr));
    }
    return make_counters(cr, s, ptemp);
}
