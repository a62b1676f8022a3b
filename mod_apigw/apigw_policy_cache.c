/* The response cache (ApiCache On, apigw_cache_policy): successful GET/HEAD
 * responses of an endpoint are kept for its ApiCacheTTL in one of httpd's
 * socache providers — shmcb by default (shared memory, every child sees
 * it, bounded), memcache or redis for a fleet (ApiCacheStore) — and served
 * from there without contacting the backend.
 *
 * Key: the endpoint's path pattern, the method class (GET, which HEAD
 * shares) and the backend URL as the gateway built it, so the path and
 * only the query strings that reach the backend count (the same on every
 * gateway of a fleet); hashed (SHA-1) to fit every provider's key rules.
 * A response with Vary leaves a small "vary record" under that key, naming
 * the headers; its entry is then keyed by their request values too (as
 * the backend received them).
 *
 * Not stored: anything but 200/203/204, responses with Set-Cookie or
 * Cache-Control private/no-store/no-cache, Vary: *, bodies over
 * ApiCacheMaxEntrySize; requests with Authorization are neither looked up
 * nor stored. ApiCache's options lift the first, second and last rule.
 *
 * Stampedes: the first miss of a key puts a short-lived lock entry next to
 * it and fetches; concurrent misses poll the store until the entry appears
 * (then serve it), the lock goes away without one (then fetch themselves),
 * or the endpoint's timeout passes. With shmcb the store calls run under a
 * global mutex (shmcb is not safe across processes without one); hits cost
 * one or two short lookups under it.
 *
 * Hits are served by a handler of their own (after access control, rate
 * limits and the request header rules, which all still run), through the
 * full output filter chain, so CORS, security and response header rules
 * apply to hits exactly as to misses. */
#include "apigw_policy_conf.h"
#include "apigw_config.h"
#include "apigw_request.h"
#include "apigw_contract.h"
#include "apigw_metrics.h"
#include "apigw_parse.h"
#include "apigw_log.h"

#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "ap_provider.h"
#include "util_mutex.h"
#include "apr_strings.h"
#include "apr_sha1.h"
#include "apr_global_mutex.h"
#include "apr_thread_proc.h"
#include "apr_lib.h"
#include "mod_status.h"

#include <errno.h>
#include <stdlib.h>

APLOG_USE_MODULE(apigw);

#define MUTEX_TYPE "apigw-cache"
#define CACHE_NAMESPACE "apigw-cache"
#define DEFAULT_MAX_ENTRY (256 * 1024)
#define DEFAULT_SHMCB_SIZE "8388608"
#define POLL_INTERVAL apr_time_from_msec(10)

/* Entry layout: a fixed head, then NUL-terminated name/value pairs, then
 * the body. A vary record has kind 1 and names only (values empty). */
#define ENTRY_MAGIC 0x41475743u            /* "AGWC" */
typedef struct {
    apr_uint32_t magic;
    apr_uint32_t kind;                     /* 0 response, 1 vary record */
    apr_int64_t stored;                    /* apr_time_t */
    apr_int64_t expires;
    apr_uint32_t status;
    apr_uint32_t nheaders;
    apr_uint32_t headers_len;
    apr_uint32_t body_len;
} entry_head;

/* ---- configuration (one store per httpd) ---- */

static const ap_socache_provider_t *provider;
static ap_socache_instance_t *instance;
static const char *store_name;
static apr_size_t max_entry = DEFAULT_MAX_ENTRY;
static apr_global_mutex_t *mutex;
static int store_ready;

/* A provider copies an entry into a buffer as large as the largest entry
 * could be. Each thread keeps one (freed when the thread ends), so a
 * lookup allocates only the entry's real size from the request pool. */
static apr_threadkey_t *buf_key;

typedef struct {
    apr_size_t cap;
    unsigned char data[];
} thread_buf;

static void free_thread_buf(void *data)
{
    free(data);
}

static unsigned char *get_thread_buf(apr_size_t cap)
{
    void *v = NULL;
    thread_buf *b;

    if (!buf_key || apr_threadkey_private_get(&v, buf_key) != APR_SUCCESS) {
        return NULL;
    }
    b = v;
    if (!b || b->cap < cap) {
        free(b);
        b = malloc(sizeof(*b) + cap);
        if (b) {
            b->cap = cap;
        }
        apr_threadkey_private_set(b, buf_key);
    }
    return b ? b->data : NULL;
}

void apigw_cache_pre_config(apr_pool_t *pconf)
{
    provider = NULL;
    instance = NULL;
    store_name = NULL;
    max_entry = DEFAULT_MAX_ENTRY;
    mutex = NULL;
    store_ready = 0;
    buf_key = NULL;
    ap_mutex_register(pconf, MUTEX_TYPE, NULL, APR_LOCK_DEFAULT, 0);
}

static const char *create_store(apr_pool_t *pconf, apr_pool_t *ptemp,
                                const char *name, const char *args)
{
    const char *err;

    provider = ap_lookup_provider(AP_SOCACHE_PROVIDER_GROUP, name,
                                  AP_SOCACHE_PROVIDER_VERSION);
    if (!provider) {
        return apr_psprintf(ptemp, "no socache provider '%s' is loaded (e.g. "
                            "LoadModule socache_%s_module "
                            "modules/mod_socache_%s.so)", name, name, name);
    }
    store_name = apr_pstrdup(pconf, name);
    err = provider->create(&instance, args, ptemp, pconf);
    if (err) {
        provider = NULL;
        return apr_psprintf(ptemp, "socache %s: %s", name, err);
    }
    return NULL;
}

const char *apigw_cache_set_store(cmd_parms *cmd, const char *arg)
{
    const char *colon = strchr(arg, ':'), *name, *args, *err;

    name = colon ? apr_pstrmemdup(cmd->temp_pool, arg,
                                  (apr_size_t)(colon - arg))
                 : arg;
    args = colon ? colon + 1 : NULL;
    if (provider) {
        return "ApiCacheStore can be set once (the cache is shared by the "
               "whole server)";
    }
    if (strcmp(name, "shmcb") == 0 && (!args || !*args)) {
        args = apr_pstrcat(cmd->pool, ap_runtime_dir_relative(cmd->pool,
                           CACHE_NAMESPACE), "(" DEFAULT_SHMCB_SIZE ")", NULL);
    }
    if ((err = create_store(cmd->pool, cmd->temp_pool, name, args)) != NULL) {
        return apr_psprintf(cmd->pool, "ApiCacheStore %s: %s", arg, err);
    }
    return NULL;
}

const char *apigw_cache_set_max_entry(cmd_parms *cmd, const char *arg)
{
    apr_off_t n;
    const char *err = apigw_parse_size(arg, &n);

    if (err) {
        return apr_psprintf(cmd->pool, "ApiCacheMaxEntrySize %s: %s", arg, err);
    }
    if (n < 1024 || n > 64 * 1024 * 1024) {
        return "ApiCacheMaxEntrySize must be between 1k and 64M";
    }
    max_entry = (apr_size_t)n;
    return NULL;
}

int apigw_cache_available(void)
{
    return provider || ap_lookup_provider(AP_SOCACHE_PROVIDER_GROUP, "shmcb",
                                          AP_SOCACHE_PROVIDER_VERSION);
}

int apigw_cache_check_config(apr_pool_t *pconf, server_rec *s, int used)
{
    const char *err;

    if (!used || provider) {
        return OK;
    }
    err = create_store(pconf, pconf, "shmcb", apr_pstrcat(pconf,
                       ap_runtime_dir_relative(pconf, CACHE_NAMESPACE),
                       "(" DEFAULT_SHMCB_SIZE ")", NULL));
    if (err) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, APIGW_LOGNO(00630)
                     "ApiCache On needs a store: %s, or an ApiCacheStore "
                     "line", err);
        return !OK;
    }
    return OK;
}

static apr_status_t destroy_store(void *data)
{
    server_rec *s = data;

    if (provider && instance) {
        provider->destroy(instance, s);
    }
    store_ready = 0;
    return APR_SUCCESS;
}

int apigw_cache_post_config(apr_pool_t *pconf, apr_pool_t *ptemp,
                            server_rec *s, int used)
{
    struct ap_socache_hints hints;
    apr_status_t rv;

    (void)ptemp;
    if (!used || !provider
        || ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) {
        return OK;
    }
    if (provider->flags & AP_SOCACHE_FLAG_NOTMPSAFE) {
        rv = ap_global_mutex_create(&mutex, NULL, MUTEX_TYPE, NULL, s, pconf, 0);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, APIGW_LOGNO(00631)
                         "cannot create the response cache's mutex");
            return !OK;
        }
    }
    memset(&hints, 0, sizeof(hints));
    hints.avg_id_len = 46;
    hints.avg_obj_size = 4096;
    hints.expiry_interval = 30;
    rv = provider->init(instance, CACHE_NAMESPACE, &hints, s, pconf);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, APIGW_LOGNO(00632)
                     "cannot initialize the response cache store (%s)",
                     store_name);
        return !OK;
    }
    apr_pool_cleanup_register(pconf, s, destroy_store, apr_pool_cleanup_null);
    store_ready = 1;
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, APIGW_LOGNO(00633)
                 "response cache ready: socache %s, entries up to %"
                 APR_SIZE_T_FMT " bytes", store_name, max_entry);
    return OK;
}

void apigw_cache_child_init(apr_pool_t *pchild, server_rec *s)
{
    apr_status_t rv;

    if (!store_ready) {
        return;
    }
    rv = apr_threadkey_private_create(&buf_key, free_thread_buf, pchild);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, APIGW_LOGNO(00638)
                     "cannot create the response cache's thread buffers; the "
                     "cache is off in this child");
        store_ready = 0;
        return;
    }
    if (!mutex) {
        return;
    }
    rv = apr_global_mutex_child_init(&mutex, apr_global_mutex_lockfile(mutex),
                                     pchild);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, APIGW_LOGNO(00634)
                     "cannot attach the response cache's mutex in a child; "
                     "the cache is off in it");
        store_ready = 0;
    }
}

/* ---- the store, under the mutex where the provider needs one ---- */

static int lock_store(request_rec *r)
{
    apr_status_t rv;

    if (!mutex) {
        return 1;
    }
    if ((rv = apr_global_mutex_lock(mutex)) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, APIGW_LOGNO(00635)
                      "cannot lock the response cache; request not cached");
        return 0;
    }
    return 1;
}

static void unlock_store(void)
{
    if (mutex) {
        apr_global_mutex_unlock(mutex);
    }
}

/* Fetches key; the entry is copied into r->pool. NULL when absent. The
 * caller holds the store lock. */
static unsigned char *fetch(request_rec *r, const char *key, apr_size_t cap,
                            apr_size_t *len)
{
    unsigned char *buf = get_thread_buf(cap);
    unsigned int n = (unsigned int)cap;
    apr_status_t rv;

    if (!buf) {
        return NULL;
    }
    rv = provider->retrieve(instance, r->server, (const unsigned char *)key,
                            (unsigned int)strlen(key), buf, &n, r->pool);
    if (rv != APR_SUCCESS) {
        return NULL;
    }
    *len = n;
    return apr_pmemdup(r->pool, buf, n);
}

static int entry_valid(const unsigned char *buf, apr_size_t len,
                       entry_head *h)
{
    if (!buf || len < sizeof(*h)) {
        return 0;
    }
    memcpy(h, buf, sizeof(*h));
    return h->magic == ENTRY_MAGIC
        && (apr_size_t)h->headers_len + h->body_len + sizeof(*h) == len
        && h->expires > apr_time_now();
}

/* ---- keys ---- */

static const char *hash_key(apr_pool_t *p, const char *material,
                            const char *suffix)
{
    unsigned char digest[APR_SHA1_DIGESTSIZE];
    char hex[APR_SHA1_DIGESTSIZE * 2 + 1];
    apr_sha1_ctx_t ctx;
    int i;

    apr_sha1_init(&ctx);
    apr_sha1_update(&ctx, material, (unsigned int)strlen(material));
    apr_sha1_final(digest, &ctx);
    for (i = 0; i < APR_SHA1_DIGESTSIZE; i++) {
        hex[2 * i] = "0123456789abcdef"[digest[i] >> 4];
        hex[2 * i + 1] = "0123456789abcdef"[digest[i] & 0xf];
    }
    hex[sizeof(hex) - 1] = '\0';
    return apr_pstrcat(p, "apigw:", hex, suffix, NULL);
}

/* What identifies the response before any Vary: the virtual host (as
 * configured, not the client's Host header; two vhosts may declare the
 * same endpoint for different sites), the endpoint and what reaches the
 * backend. */
static const char *key_material(request_rec *r, const apigw_policy_req *pr)
{
    const apigw_request *rq = apigw_request_get(r);
    const char *target = r->filename ? r->filename : r->uri;
    const char *host = r->server->server_hostname;

    if (rq && rq->query && !rq->backend) {
        /* an aggregating endpoint: its URL is built in its handler */
        target = apr_pstrcat(r->pool, target, "?", rq->query, NULL);
    }
    return apr_psprintf(r->pool, "%s:%u\n%s\nGET\n%s", host ? host : "",
                        (unsigned)r->server->port, pr->ep->pattern, target);
}

/* The material of a vary'd entry: the header values as the backend got
 * them (names are lower case, in the vary record's order). */
static const char *vary_material(request_rec *r, const char *base,
                                 const char *names, apr_size_t n)
{
    const char *s = names, *end = names + n;
    char *m = apr_pstrdup(r->pool, base);

    while (s < end && *s) {
        const char *v = apr_table_get(r->headers_in, s);
        m = apr_pstrcat(r->pool, m, "\n", s, ":", v ? v : "\001", NULL);
        s += strlen(s) + 2;                 /* name, NUL, empty value, NUL */
    }
    return m;
}

/* ---- lookup ---- */

typedef enum { LOOK_MISS, LOOK_HIT } look_result;

/* Looks the request up; on a hit pr->cache_entry holds it. On a miss
 * *final_key is where its entry would be (the vary'd key when a vary
 * record is known). Takes and releases the store lock. */
static look_result look(request_rec *r, apigw_policy_req *pr,
                        const char *material, const char **final_key)
{
    const char *k0 = hash_key(r->pool, material, "");
    apr_size_t cap = max_entry + sizeof(entry_head) + 8192, len = 0;
    unsigned char *buf;
    entry_head h;

    *final_key = k0;
    if (!lock_store(r)) {
        return LOOK_MISS;
    }
    buf = fetch(r, k0, cap, &len);
    if (entry_valid(buf, len, &h) && h.kind == 1) {
        const char *m = vary_material(r, material,
                                      (const char *)buf + sizeof(h),
                                      h.headers_len);
        *final_key = hash_key(r->pool, m, "");
        buf = fetch(r, *final_key, cap, &len);
    }
    unlock_store();
    if (entry_valid(buf, len, &h) && h.kind == 0) {
        pr->cache_entry = buf;
        pr->cache_entry_len = len;
        return LOOK_HIT;
    }
    return LOOK_MISS;
}

static apr_status_t release_lock(void *data)
{
    request_rec *r = data;
    apigw_policy_req *pr = apigw_policy_req_get(r);

    if (pr && pr->cache_lock_key && store_ready) {
        if (lock_store(r)) {
            provider->remove(instance, r->server,
                             (const unsigned char *)pr->cache_lock_key,
                             (unsigned int)pr->cache_lock_key_len, r->pool);
            unlock_store();
        }
        pr->cache_lock_key = NULL;
    }
    return APR_SUCCESS;
}

/* The first miss of a key takes the fill lock: 1 if this request fills. */
static int take_fill_lock(request_rec *r, apigw_policy_req *pr,
                          const char *key)
{
    const char *lock_key = apr_pstrcat(r->pool, key, ":fill", NULL);
    unsigned char one = 1, probe[8];
    unsigned int n = sizeof(probe);
    int mine = 0;

    if (!lock_store(r)) {
        return 0;
    }
    if (provider->retrieve(instance, r->server,
                           (const unsigned char *)lock_key,
                           (unsigned int)strlen(lock_key), probe, &n,
                           r->pool) != APR_SUCCESS) {
        mine = provider->store(instance, r->server,
                               (const unsigned char *)lock_key,
                               (unsigned int)strlen(lock_key),
                               apr_time_now() + pr->ep->timeout
                               + apr_time_from_sec(1), &one, 1, r->pool)
               == APR_SUCCESS;
    }
    unlock_store();
    if (mine) {
        pr->cache_lock_key = lock_key;
        pr->cache_lock_key_len = strlen(lock_key);
        apr_pool_cleanup_register(r->pool, r, release_lock,
                                  apr_pool_cleanup_null);
    }
    return mine;
}

static int fill_lock_held(request_rec *r, const char *key)
{
    const char *lock_key = apr_pstrcat(r->pool, key, ":fill", NULL);
    unsigned char probe[8];
    unsigned int n = sizeof(probe);
    int held;

    if (!lock_store(r)) {
        return 0;
    }
    held = provider->retrieve(instance, r->server,
                              (const unsigned char *)lock_key,
                              (unsigned int)strlen(lock_key), probe, &n,
                              r->pool) == APR_SUCCESS;
    unlock_store();
    return held;
}

static void serve_hit(request_rec *r, apigw_policy_req *pr)
{
    pr->cache_hit = 1;
    pr->cache_key = NULL;
    apigw_metrics_cache(APIGW_METRICS_CACHE_HIT);
    r->handler = APIGW_CACHE_HIT_HANDLER;
    apr_table_setn(r->err_headers_out, "X-Cache", "HIT");
    apr_table_setn(r->notes, APIGW_NOTE_CACHE, "hit");
}

static int request_cacheable(request_rec *r, const apigw_policy_req *pr)
{
    const apigw_request *rq = apigw_request_get(r);
    const apr_table_t *client = rq && rq->client_headers ? rq->client_headers
                                                         : r->headers_in;

    if (r->method_number != M_GET || r->main || r->prev
        || (rq && rq->websocket)) {
        return 0;                    /* HEAD is M_GET with header_only */
    }
    /* credentials: an Authorization header, or any other a module
     * authenticated the request by (an API key header, a token cookie) */
    if (!((pr->pol->cache.flags > 0 ? pr->pol->cache.flags : 0)
          & APIGW_CACHE_AUTHORIZATION)
        && (apr_table_get(client, "Authorization") || r->user)) {
        return 0;
    }
    return 1;
}

void apigw_cache_lookup(request_rec *r, apigw_policy_req *pr)
{
    const char *material, *key;
    apr_time_t deadline;

    if (!store_ready) {
        return;
    }
    if (!request_cacheable(r, pr)) {
        apr_table_setn(r->notes, APIGW_NOTE_CACHE, "bypass");
        return;
    }
    material = key_material(r, pr);
    if (look(r, pr, material, &key) == LOOK_HIT) {
        serve_hit(r, pr);
        return;
    }
    apr_table_setn(r->err_headers_out, "X-Cache", "MISS");
    apr_table_setn(r->notes, APIGW_NOTE_CACHE, "miss");
    apigw_metrics_cache(APIGW_METRICS_CACHE_MISS);
    pr->cache_key = material;
    pr->cache_key_len = strlen(material);
    if (r->header_only) {
        return;                      /* a HEAD miss fills nothing */
    }
    if (take_fill_lock(r, pr, key)) {
        return;                      /* this request fetches and stores */
    }
    /* another request is fetching this key: wait for its entry */
    deadline = apigw_endpoint_deadline(r);
    while (apr_time_now() < deadline) {
        apr_sleep(POLL_INTERVAL);
        if (look(r, pr, material, &key) == LOOK_HIT) {
            serve_hit(r, pr);
            return;
        }
        if (!fill_lock_held(r, key)) {
            break;                   /* it stored nothing: fetch ourselves */
        }
    }
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, APIGW_LOGNO(00636)
                  "cache: no entry after waiting for a concurrent fetch; "
                  "going to the backend");
}

/* ---- capture (the output filter's part) ---- */

typedef struct {
    int off;                         /* not storable */
    char *body;
    apr_size_t len, cap;
    char *headers;                   /* serialized pairs */
    apr_size_t headers_len;
    apr_uint32_t nheaders;
    char *vary;                      /* serialized vary names */
    apr_size_t vary_len;
    int vary_count;
    int status;
    apr_off_t declared;              /* Content-Length, -1 when chunked */
} capture;

static int skip_stored_header(const char *name)
{
    static const char *const skip[] = {
        "Connection", "Keep-Alive", "Transfer-Encoding", "Date",
        "Set-Cookie", "Set-Cookie2", "Content-Length", "Age", "X-Cache",
        "Cache-Control", "Expires", "Proxy-Connection", "Upgrade", "TE",
        "Trailer", NULL
    };
    int i;

    for (i = 0; skip[i]; i++) {
        if (ap_cstr_casecmp(name, skip[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

static void add_pair(apr_pool_t *p, char **buf, apr_size_t *len,
                     const char *name, const char *value)
{
    apr_size_t nl = strlen(name) + 1, vl = strlen(value) + 1;
    char *nb = apr_palloc(p, *len + nl + vl);

    if (*len) {
        memcpy(nb, *buf, *len);
    }
    memcpy(nb + *len, name, nl);
    memcpy(nb + *len + nl, value, vl);
    *buf = nb;
    *len += nl + vl;
}

typedef struct {
    apr_pool_t *p;
    capture *c;
} pair_ctx;

static int collect_header(void *data, const char *key, const char *value)
{
    pair_ctx *pc = data;

    if (!skip_stored_header(key)) {
        add_pair(pc->p, &pc->c->headers, &pc->c->headers_len, key, value);
        pc->c->nheaders++;
    }
    return 1;
}

static int collect_vary(void *data, const char *key, const char *value)
{
    pair_ctx *pc = data;
    char *list = apr_pstrdup(pc->p, value), *name, *state;

    (void)key;
    for (name = apr_strtok(list, ", \t", &state); name;
         name = apr_strtok(NULL, ", \t", &state)) {
        if (strcmp(name, "*") == 0) {
            pc->c->off = 1;
            return 0;
        }
        ap_str_tolower(name);
        add_pair(pc->p, &pc->c->vary, &pc->c->vary_len, name, "");
        pc->c->vary_count++;
    }
    return 1;
}

static int has_token(const char *list, const char *token)
{
    return list && ap_find_token(NULL, list, token);
}

/* Decides at the response's head whether it may be stored. */
static capture *capture_start(request_rec *r, apigw_policy_req *pr)
{
    capture *c = apr_pcalloc(r->pool, sizeof(*c));
    int flags = pr->pol->cache.flags > 0 ? pr->pol->cache.flags : 0;
    const char *cc = apr_table_get(r->headers_out, "Cache-Control");
    const char *cl = apr_table_get(r->headers_out, "Content-Length");
    pair_ctx pc;

    c->status = r->status;
    c->declared = cl ? apr_atoi64(cl) : -1;
    if ((r->status != HTTP_OK && r->status != HTTP_NON_AUTHORITATIVE
         && r->status != HTTP_NO_CONTENT) || r->header_only) {
        c->off = 1;
    }
    else if (!(flags & APIGW_CACHE_SET_COOKIE)
             && (apr_table_get(r->headers_out, "Set-Cookie")
                 || apr_table_get(r->err_headers_out, "Set-Cookie"))) {
        c->off = 1;
    }
    else if (!(flags & APIGW_CACHE_PRIVATE) && cc
             && (has_token(cc, "private") || has_token(cc, "no-store")
                 || has_token(cc, "no-cache"))) {
        c->off = 1;
    }
    else if (cl && apr_atoi64(cl) > (apr_int64_t)max_entry) {
        c->off = 1;
    }
    if (c->off) {
        return c;
    }
    pc.p = r->pool;
    pc.c = c;
    apr_table_do(collect_header, &pc, r->headers_out, NULL);
    if (r->content_type) {
        add_pair(r->pool, &c->headers, &c->headers_len, "Content-Type",
                 r->content_type);
        c->nheaders++;
    }
    apr_table_do(collect_vary, &pc, r->headers_out, "Vary", NULL);
    return c;
}

static unsigned char *build_entry(apr_pool_t *p, int kind, int status,
                                  apr_uint32_t nheaders, const char *headers,
                                  apr_size_t headers_len, const char *body,
                                  apr_size_t body_len, apr_time_t expires,
                                  apr_size_t *len)
{
    entry_head h;
    unsigned char *buf;

    memset(&h, 0, sizeof(h));
    h.magic = ENTRY_MAGIC;
    h.kind = (apr_uint32_t)kind;
    h.stored = apr_time_now();
    h.expires = expires;
    h.status = (apr_uint32_t)status;
    h.nheaders = nheaders;
    h.headers_len = (apr_uint32_t)headers_len;
    h.body_len = (apr_uint32_t)body_len;
    *len = sizeof(h) + headers_len + body_len;
    buf = apr_palloc(p, *len);
    memcpy(buf, &h, sizeof(h));
    if (headers_len) {
        memcpy(buf + sizeof(h), headers, headers_len);
    }
    if (body_len) {
        memcpy(buf + sizeof(h) + headers_len, body, body_len);
    }
    return buf;
}

static void store_entry(request_rec *r, apigw_policy_req *pr, capture *c)
{
    apr_time_t expires = apr_time_now() + pr->pol->cache_ttl;
    const char *key = hash_key(r->pool, pr->cache_key, "");
    unsigned char *buf, *vbuf = NULL;
    apr_size_t len, vlen = 0;
    apr_status_t rv;

    if (c->vary_count) {
        /* the record outlives its entries a little: they are re-keyed by
         * it on every lookup */
        vbuf = build_entry(r->pool, 1, 0, (apr_uint32_t)c->vary_count,
                           c->vary, c->vary_len, NULL, 0,
                           expires + apr_time_from_sec(1), &vlen);
        key = hash_key(r->pool, vary_material(r, pr->cache_key, c->vary,
                                              c->vary_len), "");
    }
    buf = build_entry(r->pool, 0, c->status, c->nheaders, c->headers,
                      c->headers_len, c->body, c->len, expires, &len);
    if (!lock_store(r)) {
        return;
    }
    if (vbuf) {
        const char *k0 = hash_key(r->pool, pr->cache_key, "");
        provider->store(instance, r->server, (const unsigned char *)k0,
                        (unsigned int)strlen(k0),
                        expires + apr_time_from_sec(1), vbuf,
                        (unsigned int)vlen, r->pool);
    }
    rv = provider->store(instance, r->server, (const unsigned char *)key,
                         (unsigned int)strlen(key), expires, buf,
                         (unsigned int)len, r->pool);
    unlock_store();
    if (rv == APR_SUCCESS) {
        apigw_metrics_cache(APIGW_METRICS_CACHE_STORE);
    }
    else {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, rv, r, APIGW_LOGNO(00637)
                      "cache: the store refused an entry of %" APR_SIZE_T_FMT
                      " bytes (too large for it?)", len);
    }
}

apr_status_t apigw_cache_capture(ap_filter_t *f, apigw_policy_req *pr,
                                 apr_bucket_brigade *bb, void **state)
{
    request_rec *r = f->r;
    capture *c = *state;
    apr_bucket *b;

    if (!pr->cache_key || !store_ready) {
        return APR_SUCCESS;
    }
    if (!c) {
        c = *state = capture_start(r, pr);
    }
    if (c->off) {
        release_lock(r);
        pr->cache_key = NULL;
        return APR_SUCCESS;
    }
    for (b = APR_BRIGADE_FIRST(bb); b != APR_BRIGADE_SENTINEL(bb);
         b = APR_BUCKET_NEXT(b)) {
        const char *data;
        apr_size_t n;

        if (APR_BUCKET_IS_EOS(b)) {
            if (c->declared >= 0 && (apr_off_t)c->len != c->declared) {
                c->off = 1;          /* cut short: not stored */
                break;
            }
            store_entry(r, pr, c);
            release_lock(r);
            pr->cache_key = NULL;
            return APR_SUCCESS;
        }
        if (APR_BUCKET_IS_METADATA(b)) {
            if (AP_BUCKET_IS_ERROR(b)) {
                c->off = 1;
                break;
            }
            continue;
        }
        if (apr_bucket_read(b, &data, &n, APR_BLOCK_READ) != APR_SUCCESS
            || c->len + n > max_entry) {
            c->off = 1;
            break;
        }
        if (c->len + n > c->cap) {
            apr_size_t cap = c->cap ? c->cap * 2 : 8192;
            char *nb;
            while (cap < c->len + n) {
                cap *= 2;
            }
            if (cap > max_entry) {
                cap = max_entry;
            }
            nb = apr_palloc(r->pool, cap);
            if (c->len) {
                memcpy(nb, c->body, c->len);
            }
            c->body = nb;
            c->cap = cap;
        }
        memcpy(c->body + c->len, data, n);
        c->len += n;
        if (c->declared >= 0 && (apr_off_t)c->len == c->declared) {
            /* whole: store before the client can see the last byte, so
             * its next request finds the entry */
            store_entry(r, pr, c);
            release_lock(r);
            pr->cache_key = NULL;
            return APR_SUCCESS;
        }
    }
    if (c->off) {
        release_lock(r);
        pr->cache_key = NULL;
    }
    return APR_SUCCESS;
}

/* ---- hits ---- */

int apigw_cache_handler(request_rec *r)
{
    apigw_policy_req *pr;
    apigw_request *rq;
    entry_head h;
    const char *s, *end, *body;
    apr_bucket_brigade *bb;
    apr_int64_t age, left;

    if (!r->handler || strcmp(r->handler, APIGW_CACHE_HIT_HANDLER) != 0
        || !(pr = apigw_policy_req_get(r)) || !pr->cache_entry) {
        return DECLINED;
    }
    memcpy(&h, pr->cache_entry, sizeof(h));
    s = (const char *)pr->cache_entry + sizeof(h);
    end = s + h.headers_len;
    body = end;
    r->status = (int)h.status;
    while (s < end) {
        const char *name = s, *value = s + strlen(s) + 1;
        s = value + strlen(value) + 1;
        if (ap_cstr_casecmp(name, "Content-Type") == 0) {
            ap_set_content_type(r, apr_pstrdup(r->pool, value));
        }
        else {
            apr_table_addn(r->headers_out, name, value);
        }
    }
    age = apr_time_sec(apr_time_now() - h.stored);
    left = apr_time_sec(h.expires - apr_time_now());
    apr_table_setn(r->headers_out, "Age",
                   apr_psprintf(r->pool, "%" APR_INT64_T_FMT,
                                age < 0 ? 0 : age));
    apr_table_setn(r->headers_out, "Cache-Control",
                   apr_psprintf(r->pool, "public, max-age=%" APR_INT64_T_FMT,
                                left < 1 ? 1 : left));
    ap_set_content_length(r, h.body_len);
    /* the request is the client's again (as after a proxied exchange) */
    rq = apigw_request_get(r);
    if (rq && rq->client_headers) {
        r->headers_in = rq->client_headers;
    }
    ap_discard_request_body(r);
    bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    if (!r->header_only && h.body_len) {
        APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_pool_create(body, h.body_len,
                                r->pool, r->connection->bucket_alloc));
    }
    APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_eos_create(
                            r->connection->bucket_alloc));
    ap_log_rerror(APLOG_MARK, APLOG_TRACE1, 0, r, "endpoint %s: cache hit",
                  pr->ep->pattern);
    return ap_pass_brigade(r->output_filters, bb) == APR_SUCCESS
           ? OK : AP_FILTER_ERROR;
}

/* ---- evictions, from the provider's own status ---- */

ap_filter_rec_t *apigw_cache_status_filter_handle;

#define STATUS_MAX 4096                     /* shmcb's short status: ~600 */

typedef struct {
    char text[STATUS_MAX];
    apr_size_t len;
} status_text;

apr_status_t apigw_cache_status_filter(ap_filter_t *f, apr_bucket_brigade *bb)
{
    status_text *st = f->ctx;
    apr_bucket *e;

    for (e = APR_BRIGADE_FIRST(bb); e != APR_BRIGADE_SENTINEL(bb);
         e = APR_BUCKET_NEXT(e)) {
        const char *data;
        apr_size_t n;

        if (APR_BUCKET_IS_METADATA(e)
            || apr_bucket_read(e, &data, &n, APR_BLOCK_READ) != APR_SUCCESS) {
            continue;
        }
        n = n < STATUS_MAX - 1 - st->len ? n : STATUS_MAX - 1 - st->len;
        memcpy(st->text + st->len, data, n);
        st->len += n;
    }
    st->text[st->len] = '\0';
    apr_brigade_cleanup(bb);                /* kept here, never sent */
    return APR_SUCCESS;
}

/* "NAME: N" of a short status text, or -1. */
static apr_int64_t status_number(const char *text, const char *name)
{
    const char *at = ap_strstr_c(text, name);
    char *end;
    apr_int64_t v;

    if (!at || (at != text && at[-1] != '\n')) {
        return -1;
    }
    at += strlen(name);
    while (*at == ' ') {
        at++;
    }
    if (!apr_isdigit(*at)) {
        return -1;
    }
    errno = 0;
    v = apr_strtoi64(at, &end, 10);
    return errno == ERANGE || v < 0 ? -1 : v;
}

apr_int64_t apigw_cache_evictions(request_rec *r)
{
    status_text *st;
    ap_filter_t *f;

    if (!store_ready || !provider || !provider->status
        || r->connection->aborted) {
        return -1;
    }
    st = apr_pcalloc(r->pool, sizeof(*st));
    /* the provider writes with ap_rprintf: through r's filters, where this
     * one, first in the chain, keeps what it writes */
    f = ap_add_output_filter_handle(apigw_cache_status_filter_handle, st, r,
                                    r->connection);
    if (!f) {
        return -1;
    }
    if (lock_store(r)) {
        provider->status(instance, r, AP_STATUS_SHORT);
        unlock_store();
    }
    ap_rflush(r);                           /* ap_rprintf's buffer, to us */
    ap_remove_output_filter(f);
    return status_number(st->text, "CacheDiscardCount:");
}
