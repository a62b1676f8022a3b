/* What mod_apigw_ratelimit offers other modules (a status page of theirs;
 * none uses it yet): optional functions, so neither module needs the
 * other loaded.
 *
 *   APR_OPTIONAL_FN_TYPE(apigw_rl_status_json) *status =
 *       APR_RETRIEVE_OPTIONAL_FN(apigw_rl_status_json);
 *   if (status) body = status(r);
 */
#ifndef MOD_APIGW_RATELIMIT_H
#define MOD_APIGW_RATELIMIT_H

#include "httpd.h"
#include "apr_optional.h"

/* The rate limiter's state as one JSON object, from r->pool: the zone
 * (size, keys held), the store of r's server, and every ApiRateLimit with
 * its policies and their admitted/rejected/delayed/store-error counts,
 * summed over all child processes. The same document the
 * apigw-ratelimit-status handler answers. */
APR_DECLARE_OPTIONAL_FN(const char *, apigw_rl_status_json, (request_rec *r));

#endif
