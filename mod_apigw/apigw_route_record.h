/* A runtime route as the store keeps it: the columns of one row. The
 * route's policy groups (cors, rateLimit, requestHeaders, ...) travel as
 * one JSON object, validated by the route model (apigw_rt_model.h) before
 * anything is stored and read back through it, so the store never needs
 * to know a policy's fields. Strings are NUL-terminated, from the pool
 * the record was made in. */
#ifndef APIGW_ROUTE_RECORD_H
#define APIGW_ROUTE_RECORD_H

#include <apr_pools.h>
#include <apr_time.h>

typedef struct {
    const char *id;                /* a UUID, lower case, 36 characters */
    const char *environment;
    const char *path;              /* <ApiEndpoint> path syntax */
    const char *target_url;
    const char *methods;           /* "GET,POST": upper case, comma-separated */
    int enabled;                   /* 0 or 1 */
    apr_time_t created_at;         /* microseconds since the epoch */
    apr_time_t updated_at;
    const char *policies;          /* a JSON object, "{}" for none */
} apigw_route_record;

#endif
