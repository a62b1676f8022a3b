/* mod_apigw_auth: JWT validation and API keys as httpd authentication
 * types and Require providers, so they combine with <RequireAll>,
 * <RequireAny>, Require ip, the rate limiter and every other module, in
 * <Location>, <ApiEndpoint> and virtual hosts alike. It loads alone,
 * without the other mod_apigw modules. This file is the table of
 * contents: the module record, which file owns what, and every
 * registration, in the order a server and a request meet them.
 *
 *   apigw_auth_config.c   the directives, create/merge
 *   apigw_auth_keys.c     ApiJwtKeys sources: files, secrets, JWK set
 *                         URLs in shared memory, their refresh
 *   apigw_auth_cache.c    each child's verified-token cache
 *   apigw_auth_request.c  AuthType jwt / apikey, refusals, propagation
 *   apigw_auth_authz.c    Require jwt-claim, jwt-scope, jwt-role,
 *                         apikey-role
 *   apigw_jwt.c           a token split and decoded, claims (pure)
 *   apigw_b64url.c        strict unpadded base64url (pure)
 *   apigw_jwt_verify.c    algorithms, signatures, registered claims (pure)
 *   apigw_jwk.c           JWK sets, PEM and secrets into keys (pure)
 *   common/apigw_apikey.c the API key table and its lookup (pure;
 *                         mod_apigw keeps the route store's keys in one)
 *
 * Registrations:
 *   optional fn      apigw_auth_request.c  apigw_auth_claim, for
 *                                          mod_apigw's {JWT.name}
 *                                          URL variables
 *   authz providers  apigw_auth_authz.c    jwt-claim, jwt-scope,
 *                                          jwt-role, apikey-role
 *   pre_config       apigw_auth_config.c   ApiKeyStore's first line
 *                    apigw_auth_keys.c     the URL list, the key mutex
 *                    apigw_auth_cache.c    the cache size
 *   check_config     apigw_auth_config.c   ApiKeyStore On needs mod_apigw
 *   post_config      apigw_auth_keys.c     shared memory per URL, the
 *                                          refresh watchdog (before
 *                                          mod_watchdog's post_config)
 *   child_init       apigw_auth_keys.c     the mutex, snapshot locks
 *                    apigw_auth_cache.c    the verified-token cache
 *   check_authn      apigw_auth_request.c  AuthType jwt, AuthType apikey
 *   note_auth_failure apigw_auth_request.c a failed Require: 403
 *   insert_error_filter apigw_auth_request.c  the refusal's body (first,
 *                                          so its reason wins)
 *   optional_fn_retrieve apigw_auth_request.c  mod_apigw's
 *                                          apigw_store_apikey_find
 *   fixups           apigw_auth_request.c  ApiJwtPropagate: the client's
 *                                          headers of those names removed
 *                                          first (before mod_apigw's
 *                                          header rules and cache lookup),
 *                                          the claims set last (after
 *                                          mod_apigw keeps the headers an
 *                                          endpoint forwards) */
#include "mod_apigw_auth.h"
#include "apigw_auth_config.h"
#include "apigw_auth_keys.h"
#include "apigw_auth_cache.h"
#include "apigw_auth_request.h"
#include "apigw_auth_authz.h"
#include "apigw_error_filter.h"
#include "apigw_contract.h"

#include "http_protocol.h"
#include "http_request.h"
#include "mod_auth.h"

static void apigw_auth_register_hooks(apr_pool_t *p)
{
    static const char *const before_watchdog[] = { "mod_watchdog.c", NULL };
    static const char *const after_apigw[] = { "mod_apigw.c", NULL };
    static const char *const before_apigw[] = { "mod_apigw.c", NULL };

    APR_REGISTER_OPTIONAL_FN(apigw_auth_claim);
    apigw_auth_register_providers(p);
    ap_hook_pre_config(apigw_auth_config_pre_config, NULL, NULL,
                       APR_HOOK_MIDDLE);
    ap_hook_pre_config(apigw_auth_keys_pre_config, NULL, NULL,
                       APR_HOOK_MIDDLE);
    ap_hook_check_config(apigw_auth_config_check, NULL, NULL,
                         APR_HOOK_MIDDLE);
    ap_hook_pre_config(apigw_auth_cache_pre_config, NULL, NULL,
                       APR_HOOK_MIDDLE);
    ap_hook_post_config(apigw_auth_keys_post_config, NULL, before_watchdog,
                        APR_HOOK_LAST);
    ap_hook_child_init(apigw_auth_keys_child_init, NULL, NULL,
                       APR_HOOK_MIDDLE);
    ap_hook_child_init(apigw_auth_cache_child_init, NULL, NULL,
                       APR_HOOK_MIDDLE);
    ap_hook_check_authn(apigw_auth_check_jwt, NULL, NULL, APR_HOOK_MIDDLE,
                        AP_AUTH_INTERNAL_PER_CONF);
    ap_hook_check_authn(apigw_auth_check_apikey, NULL, NULL, APR_HOOK_MIDDLE,
                        AP_AUTH_INTERNAL_PER_CONF);
    ap_hook_note_auth_failure(apigw_auth_note_failure, NULL, NULL,
                              APR_HOOK_MIDDLE);
    ap_hook_insert_error_filter(apigw_auth_insert_error_filter, NULL, NULL,
                                APR_HOOK_FIRST);
    ap_hook_optional_fn_retrieve(apigw_auth_retrieve_optional_fns, NULL,
                                 NULL, APR_HOOK_MIDDLE);
    ap_hook_fixups(apigw_auth_strip_fixups, NULL, before_apigw,
                   APR_HOOK_FIRST);
    ap_hook_fixups(apigw_auth_fixups, after_apigw, NULL, APR_HOOK_MIDDLE);
    apigw_auth_error_filter_handle =
        ap_register_output_filter("APIGW_AUTH_ERROR", apigw_error_filter,
                                  NULL, AP_FTYPE_CONTENT_SET);
}

APIGW_MODULE_EXPORT AP_DECLARE_MODULE(apigw_auth) = {
    STANDARD20_MODULE_STUFF,
    apigw_auth_create_dir_conf,
    apigw_auth_merge_dir_conf,
    NULL,
    NULL,
    apigw_auth_cmds,
    apigw_auth_register_hooks
};
