/* Cluster mode of mod_apigw_ratelimit: buckets kept on Redis, so every
 * gateway sharing the Redis shares them (ApiRateLimitStore,
 * ApiRateLimitStoreFailure). One GCRA update = one EVALSHA of a small Lua
 * script, atomic on the Redis side. This is the I/O half: connections,
 * their pool, outage logging. The script, its arguments and its reply are
 * in apigw_rl_redis.c. */
#ifndef APIGW_RL_STORE_H
#define APIGW_RL_STORE_H

#include "httpd.h"
#include "apr_thread_mutex.h"

#include "apigw_rl_gcra.h"
#include "apigw_rl_redis.h"

#define APIGW_RL_STORE_LOG_INTERVAL apr_time_from_sec(10)

typedef struct apigw_rl_store {
    apigw_rl_redis_target target;
    /* per process, made in child_init */
    apr_thread_mutex_t *mutex;
    apr_array_header_t *idle;   /* of rl_conn *, guarded by mutex */
    apr_time_t last_logged;     /* outage logged at, guarded by mutex */
    int down;                   /* an error since the last success */
} apigw_rl_store;

/* Parses "redis://HOST:PORT[/DB]" and the options; NULL or a message. */
const char *apigw_rl_store_parse(apr_pool_t *p, const char *url,
                                 const char *const *opts, int nopts,
                                 apigw_rl_store **out);

/* child_init: the per-process connection pool of every store. */
void apigw_rl_store_child_init(apr_pool_t *p, server_rec *s);

/* One request against key on the store. take: 1 takes a token, 0 gives the
 * one taken back. Returns APR_SUCCESS and fills *d (take only), or an
 * error (logged at most once per APIGW_RL_STORE_LOG_INTERVAL). */
apr_status_t apigw_rl_store_take(apigw_rl_store *st, request_rec *r,
                                 const char *key, const apigw_rl_rate *rt,
                                 int take, apigw_rl_decision *d);

/* For the status page: whether the last call of this process failed. */
int apigw_rl_store_is_down(apigw_rl_store *st);

#endif
