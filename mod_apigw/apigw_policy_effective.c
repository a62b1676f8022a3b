/* Each endpoint's effective policy: its own settings over those of the
 * server or virtual host it is declared in, built once at check_config,
 * checked as a whole (apigw_policy_validate_endpoint) and compiled (CORS
 * header strings, origin patterns). The request phases read only the
 * effective policy (apigw_policy_hooks.c). */
#include "apigw_policy_conf.h"
#include "apigw_policy_validate.h"
#include "apigw_config.h"
#include "apigw_log.h"

#include "http_log.h"
#include "apr_strings.h"

APLOG_USE_MODULE(apigw);

/* Logs what the validation found, in the words of the directives. */
static void log_invalid(server_rec *s, const apigw_endpoint *ep,
                        const apigw_policy_conf *eff, const apigw_invalid *inv)
{
    if (strcmp(inv->field, "cors.allowCredentials") == 0) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, APIGW_LOGNO(00601)
                     "<ApiEndpoint \"%s\"> (%s:%u): ApiCorsAllowCredentials "
                     "On needs an ApiCorsAllowOrigins list (CORS settings from "
                     "%s:%u): %s", ep->pattern, ep->file, ep->line,
                     eff->cors.file, eff->cors.line, inv->problem);
    }
    else if (strcmp(inv->field, "queryPolicy.names") == 0) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, APIGW_LOGNO(00602)
                     "<ApiEndpoint \"%s\"> (%s:%u): ApiDenyQueryStrings "
                     "(%s:%u) and ApiInputQueryStrings: %s", ep->pattern,
                     ep->file, ep->line, eff->query_deny_file,
                     eff->query_deny_line, inv->problem);
    }
    else if (strcmp(inv->field, "cacheTtlSeconds") == 0) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, APIGW_LOGNO(00603)
                     "<ApiEndpoint \"%s\"> (%s:%u): ApiCache On (%s:%u) needs "
                     "an ApiCacheTTL in the endpoint: %s", ep->pattern,
                     ep->file, ep->line, eff->cache.file, eff->cache.line,
                     inv->problem);
    }
    else {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, APIGW_LOGNO(00608)
                     "<ApiEndpoint \"%s\"> (%s:%u): %s: %s", ep->pattern,
                     ep->file, ep->line, inv->field, inv->problem);
    }
}

/* Checks and compiles eff, ep's effective policy: 0, or !0 with *inv
 * (a validation) or *err (CORS compilation) set. */
static int effective_compile(apr_pool_t *p, apigw_endpoint *ep,
                             apigw_policy_conf *eff,
                             const apigw_invalid **inv, const char **err)
{
    int own_cache = ep->conf->policy && ep->conf->policy->cache.enabled == 1;

    *inv = NULL;
    *err = NULL;
    eff->cache_ttl = ep->conf->cache_ttl_set ? ep->conf->cache_ttl : 0;
    if (eff->cache.enabled == 1 && eff->cache_ttl <= 0 && !own_cache) {
        /* ApiCache On from the server: endpoints with a TTL cache */
        eff->cache.enabled = 0;
    }
    *inv = apigw_policy_validate_endpoint(p, eff, ep->conf->input_query.set,
                                          eff->cache_ttl);
    if (*inv) {
        return !OK;
    }
    if (eff->cors.enabled == 1
        && (*err = apigw_cors_compile(p, &eff->cors, ep)) != NULL) {
        return !OK;
    }
    eff->response_work = eff->cors.enabled == 1 || eff->security_headers == 1
        || eff->response_headers || eff->response_body_limit > 0
        || eff->cache.enabled == 1;
    return OK;
}

/* eff: a private copy of server_pol merged with ep's own, compiled. */
static apigw_policy_conf *effective_of(apr_pool_t *p,
                                       const apigw_policy_conf *server_pol,
                                       const apigw_endpoint *ep)
{
    const apigw_policy_conf *own = ep->conf->policy;
    apigw_policy_conf *eff;

    /* a private copy: compiled fields are per endpoint */
    eff = apr_pmemdup(p, server_pol ? apigw_policy_merge(p, server_pol, own)
                                    : own, sizeof(*eff));
    eff->effective = NULL;
    return eff;
}

static int endpoint_check(apr_pool_t *p, server_rec *s, apigw_endpoint *ep,
                          apigw_policy_conf *eff)
{
    const apigw_invalid *inv;
    const char *err;

    if (effective_compile(p, ep, eff, &inv, &err) == OK) {
        return OK;
    }
    if (inv) {
        log_invalid(s, ep, eff, inv);
    }
    else {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, APIGW_LOGNO(00604)
                     "<ApiEndpoint \"%s\"> (%s:%u): %s", ep->pattern, ep->file,
                     ep->line, err);
    }
    return !OK;
}

const char *apigw_policy_effective_runtime(apr_pool_t *p,
                                           const apigw_policy_conf *server_pol,
                                           apigw_endpoint *ep,
                                           const char **field)
{
    apigw_policy_conf *eff = effective_of(p, server_pol, ep);
    const apigw_invalid *inv;
    const char *err;

    *field = "";
    if (effective_compile(p, ep, eff, &inv, &err) != OK) {
        if (inv) {
            *field = inv->field;
            return inv->problem;
        }
        *field = "cors";
        return err;
    }
    ep->conf->policy->effective = eff->any || eff->response_work ? eff : NULL;
    return NULL;
}

static int build_effective(apr_pool_t *p, server_rec *main_s, int *cache_used)
{
    server_rec *s;

    *cache_used = 0;
    for (s = main_s; s; s = s->next) {
        apigw_server_conf *sc = ap_get_module_config(s->module_config,
                                                     &apigw_module);
        apigw_dir_conf *sdc = ap_get_module_config(s->lookup_defaults,
                                                   &apigw_module);
        const apigw_policy_conf *server_pol = sdc ? sdc->policy : NULL;
        int i;

        for (i = 0; i < sc->endpoints->nelts; i++) {
            apigw_endpoint *ep = APR_ARRAY_IDX(sc->endpoints, i,
                                               apigw_endpoint *);
            apigw_policy_conf *own = ep->conf->policy;
            apigw_policy_conf *eff = effective_of(p, server_pol, ep);

            if (endpoint_check(p, s, ep, eff) != OK) {
                return !OK;
            }
            own->effective = eff->any || eff->response_work ? eff : NULL;
            if (eff->cache.enabled == 1) {
                *cache_used = 1;
            }
        }
    }
    return OK;
}

/* Whether any endpoint caches: the cache's store is set up only then. */
static int cache_used_flag;

int apigw_policy_check_config(apr_pool_t *pconf, server_rec *s,
                              int runtime_routes)
{
    if (build_effective(pconf, s, &cache_used_flag) != OK) {
        return !OK;
    }
    /* a runtime route may ask for the cache at any time: it gets one when
     * a store is at hand (else only its Cache-Control header) */
    cache_used_flag |= runtime_routes && apigw_cache_available();
    return apigw_cache_check_config(pconf, s, cache_used_flag);
}

int apigw_policy_cache_used(void)
{
    return cache_used_flag;
}
