/* The shared-memory zone: one anonymous apr_shm made in the parent's
 * process pool, inherited by every child through fork(). The process pool
 * outlives graceful restarts, and ap_retained_data finds the segment again
 * after httpd reloads this module, so counters survive a graceful restart;
 * a changed ApiRateLimitZone size makes a new, empty zone. */
#include "apigw_rl_zone.h"
#include "apigw_rl_config.h"
#include "apigw_log.h"

#include "http_log.h"
#include "http_core.h"
#include "apr_shm.h"

APLOG_USE_MODULE(apigw_ratelimit);

#define RETAINED_KEY "apigw_ratelimit_zone"

typedef struct {
    apr_shm_t *shm;
    apr_size_t size;
} zone_retained;

static apigw_rl_table *zone_table;

apigw_rl_table *apigw_rl_zone_table(void)
{
    return zone_table;
}

int apigw_rl_zone_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                              apr_pool_t *ptemp, server_rec *s)
{
    apigw_rl_server_conf *sc = ap_get_module_config(s->module_config,
                                                    &apigw_ratelimit_module);
    apr_size_t size = (apr_size_t)(sc->zone_size ? sc->zone_size
                                                 : APIGW_RL_DEFAULT_ZONE);
    zone_retained *zr;
    apr_status_t rv;

    (void)pconf;
    (void)plog;
    (void)ptemp;
    /* the first pass at startup only checks the config: no shm yet */
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) {
        return OK;
    }
    zr = ap_retained_data_get(RETAINED_KEY);
    if (!zr) {
        zr = ap_retained_data_create(RETAINED_KEY, sizeof(*zr));
    }
    if (zr->shm && zr->size == size) {
        zone_table = apr_shm_baseaddr_get(zr->shm);
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
    zone_table = apigw_rl_table_init(apr_shm_baseaddr_get(zr->shm),
                                     apr_shm_size_get(zr->shm));
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, APIGW_LOGNO(01002)
                 "rate-limit zone: %" APR_SIZE_T_FMT " bytes, %"
                 APR_UINT64_T_FMT " keys", size,
                 zone_table ? zone_table->nslots : 0);
    return OK;
}
