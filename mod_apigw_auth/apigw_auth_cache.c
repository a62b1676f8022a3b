/* The per-child verified-token cache (see apigw_auth_cache.h): a
 * direct-mapped table of ApiJwtCache slots, indexed by the token's
 * SHA-256, with one mutex per stripe of slots so threads rarely meet. */
#include "mod_apigw_auth.h"
#include "apigw_auth_cache.h"

#include "http_config.h"
#include "apr_strings.h"
#include "apr_thread_mutex.h"

#include <openssl/crypto.h>

#define DEFAULT_SIZE 1024
#define MAX_SIZE (1 << 20)
#define STRIPES 64
#define MAX_AGE apr_time_from_sec(300)

typedef struct {
    unsigned char hash[APIGW_AUTH_CACHE_HASH];
    const void *key_set;
    int alg;
    apr_uint64_t gen;                /* the key set's generation */
    json_t *claims;                  /* NULL: empty */
    apr_time_t expires;
} slot;

static int size = DEFAULT_SIZE;
static slot *slots;
static apr_thread_mutex_t *locks[STRIPES];

const char *apigw_auth_cache_set_size(cmd_parms *cmd, void *dummy,
                                      const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    char *end;
    long n;

    (void)dummy;
    if (err) {
        return err;
    }
    n = strtol(arg, &end, 10);
    if (*end || end == arg || n < 0 || n > MAX_SIZE) {
        return apr_psprintf(cmd->pool, "ApiJwtCache: '%s' is not a number "
                            "of entries from 0 to %d", arg, MAX_SIZE);
    }
    size = (int)n;
    return NULL;
}

static unsigned slot_of(const unsigned char *hash)
{
    unsigned v = ((unsigned)hash[0] << 24) | ((unsigned)hash[1] << 16)
                 | ((unsigned)hash[2] << 8) | hash[3];
    return v % (unsigned)size;
}

json_t *apigw_auth_cache_get(const unsigned char *hash, const void *key_set,
                             apr_uint64_t gen, int *alg)
{
    json_t *claims = NULL;
    unsigned i;
    slot *s;

    if (!slots) {
        return NULL;
    }
    i = slot_of(hash);
    s = &slots[i];
    apr_thread_mutex_lock(locks[i % STRIPES]);
    if (s->claims && s->key_set == key_set
        && CRYPTO_memcmp(s->hash, hash, APIGW_AUTH_CACHE_HASH) == 0) {
        if (s->gen == gen && apr_time_now() < s->expires) {
            claims = json_incref(s->claims);
            *alg = s->alg;
        }
        else {
            json_decref(s->claims);
            s->claims = NULL;
        }
    }
    apr_thread_mutex_unlock(locks[i % STRIPES]);
    return claims;
}

void apigw_auth_cache_put(const unsigned char *hash, const void *key_set,
                          apr_uint64_t gen, int alg, json_t *claims,
                          apr_time_t expires)
{
    apr_time_t limit = apr_time_now() + MAX_AGE;
    json_t *old;
    unsigned i;
    slot *s;

    if (!slots) {
        return;
    }
    i = slot_of(hash);
    s = &slots[i];
    apr_thread_mutex_lock(locks[i % STRIPES]);
    old = s->claims;
    memcpy(s->hash, hash, APIGW_AUTH_CACHE_HASH);
    s->key_set = key_set;
    s->alg = alg;
    s->gen = gen;
    s->claims = json_incref(claims);
    s->expires = expires && expires < limit ? expires : limit;
    apr_thread_mutex_unlock(locks[i % STRIPES]);
    json_decref(old);
}

int apigw_auth_cache_pre_config(apr_pool_t *pconf, apr_pool_t *plog,
                                apr_pool_t *ptemp)
{
    (void)pconf;
    (void)plog;
    (void)ptemp;
    size = DEFAULT_SIZE;
    slots = NULL;
    return OK;
}

static apr_status_t cache_free(void *data)
{
    int i;

    (void)data;
    for (i = 0; slots && i < size; i++) {
        json_decref(slots[i].claims);
    }
    slots = NULL;
    return APR_SUCCESS;
}

void apigw_auth_cache_child_init(apr_pool_t *p, server_rec *s)
{
    int i;

    (void)s;
    if (size == 0) {
        return;
    }
    for (i = 0; i < STRIPES; i++) {
        if (apr_thread_mutex_create(&locks[i], APR_THREAD_MUTEX_DEFAULT, p)
                != APR_SUCCESS) {
            return;                    /* no cache: every token is checked */
        }
    }
    slots = apr_pcalloc(p, sizeof(slot) * (apr_size_t)size);
    apr_pool_cleanup_register(p, NULL, cache_free, apr_pool_cleanup_null);
}
