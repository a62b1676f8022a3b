/* The pure half of cluster mode: what ApiRateLimitStore says (parsed),
 * the Lua script and its arguments, the key of a bucket and the decoding
 * of the script's reply. APR and hiredis's reply type only: no httpd, no
 * connection, so all of it is unit-tested. apigw_rl_store.c does the I/O. */
#ifndef APIGW_RL_REDIS_H
#define APIGW_RL_REDIS_H

#include <apr.h>
#include <apr_pools.h>
#include <apr_time.h>
#include <hiredis/hiredis.h>

#include "apigw_rl_gcra.h"
#include "apigw_rl_table.h"

#define APIGW_RL_REDIS_DEFAULT_PORT 6379
#define APIGW_RL_REDIS_DEFAULT_TIMEOUT apr_time_from_msec(50)

/* ApiRateLimitStore redis://HOST:PORT[/DB] [password=] [timeout=] */
typedef struct {
    const char *url;            /* as shown in logs: never the password */
    const char *host;
    int port;
    int db;
    const char *password;       /* password=, or NULL */
    apr_interval_time_t timeout;
} apigw_rl_redis_target;

/* Parses the URL and options into *out (from p). NULL, or a message that
 * never repeats an option's value (it may be a mistyped password). */
const char *apigw_rl_redis_parse(apr_pool_t *p, const char *url,
                                 const char *const *opts, int nopts,
                                 apigw_rl_redis_target *out);

/* The GCRA script: KEYS[1] the bucket; ARGV interval (us), burst, mode
 * ("1" take a token, "0" give one back), delay (us). Returns
 * {admitted, remaining, retry_us, reset_us, wait_us}. */
extern const char apigw_rl_redis_script[];

/* "apigw:rl:" and the key's two hashes in hex (41 characters). */
const char *apigw_rl_redis_key(apr_pool_t *p, const apigw_rl_hash *h);

/* The script's four ARGV values for rate rt: interval and delay rounded
 * UP to whole microseconds (the limit never admits more than it says). */
typedef struct {
    const char *interval_us;
    const char *burst;
    const char *mode;
    const char *delay_us;
} apigw_rl_redis_args;

void apigw_rl_redis_make_args(apr_pool_t *p, const apigw_rl_rate *rt,
                              int take, apigw_rl_redis_args *out);

/* Copies an error text from Redis (or hiredis) into err for a log line:
 * cut to errlen, control characters as '?', never empty. */
void apigw_rl_redis_error_text(char *err, apr_size_t errlen, const char *text,
                               apr_size_t len);

/* Reads the script's reply into *d. Returns 1, or 0 with a short reason in
 * err (an error reply's own text, or what was unexpected). */
int apigw_rl_redis_decode(const redisReply *rep, apigw_rl_decision *d,
                          char *err, apr_size_t errlen);

#endif
