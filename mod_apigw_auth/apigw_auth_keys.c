/* The sources of JWT verification keys (see apigw_auth_keys.h): the
 * ApiJwtKeys line read into a source, the JWK set URLs (one shared record
 * per distinct URL, its document in shared memory), the fetch with
 * libcurl, the mod_watchdog refresh, and each child's parsed snapshot. */
#include "mod_apigw_auth.h"
#include "apigw_auth_keys.h"
#include "apigw_jwk.h"
#include "apigw_parse.h"

#include "http_log.h"
#include "ap_mpm.h"
#include "http_core.h"
#include "util_mutex.h"
#include "mod_watchdog.h"
#include "apr_atomic.h"
#include "apr_shm.h"
#include "apr_global_mutex.h"
#include "apr_thread_mutex.h"
#include "apr_strings.h"

#include <curl/curl.h>
#include <stdlib.h>

APLOG_USE_MODULE(apigw_auth);

#define JWKS_DOC_MAX (256 * 1024)             /* a JWK set's largest size */
#define DEFAULT_REFRESH apr_time_from_sec(300)
#define MIN_REFRESH apr_time_from_sec(1)
#define RETRY_AFTER_FAILURE apr_time_from_sec(1)
#define STALE_CLAIM apr_time_from_sec(30)     /* a fetcher that died */
#define FETCH_TIMEOUT_MS 5000L
#define CONNECT_TIMEOUT_MS 2000L
#define FIRST_FETCH_WAIT apr_time_from_sec(6)
#define MUTEX_TYPE "apigw-auth-jwks"
#define WATCHDOG_NAME "_apigw_auth_jwks_"

/* One URL's document, shared by every child. generation changes when a
 * different document is stored; doc and len change only under the
 * global mutex. */
typedef struct {
    apr_uint32_t generation;
    apr_uint32_t len;
    apr_uint64_t claimed_at;        /* a fetch under way since; 0: none */
    apr_uint64_t attempt_at;        /* the last fetch began */
    apr_uint64_t fetched_at;        /* the last fetch succeeded */
    apr_uint32_t failing;           /* the last fetch failed */
    char doc[JWKS_DOC_MAX];
} jwks_shared;

/* A child's parse of one generation; requests pin it while they use its
 * keys. */
typedef struct {
    apr_pool_t *pool;
    apr_array_header_t *keys;       /* apigw_jwk * */
    apr_uint32_t generation;
    int refs;
    int retired;
} jwks_snapshot;

typedef struct {
    const char *url;
    apr_interval_time_t refresh;    /* the shortest of the lines naming it */
    int insecure;
    int symmetric;                  /* a line naming it uses its secrets */
    apr_shm_t *seg;
    jwks_shared *shared;
    apr_thread_mutex_t *mutex;      /* this child's snapshot */
    jwks_snapshot *current;
} jwks_url;

typedef struct {
    apr_array_header_t *keys;       /* static keys: apigw_jwk * */
    jwks_url *url;                  /* or a URL */
    int symmetric;                  /* this line uses the URL's secrets */
} key_source;

struct apigw_key_sources {
    apr_array_header_t *list;       /* key_source */
};

/* Every URL of the configuration (jwks_url *), from pconf. */
static apr_array_header_t *urls;
static const char *ca_file;
static apr_global_mutex_t *doc_mutex;
static server_rec *main_server;

/* ---- configuration ---- */

static jwks_url *url_record(apr_pool_t *p, const char *url)
{
    jwks_url *u;
    int i;

    for (i = 0; i < urls->nelts; i++) {
        u = APR_ARRAY_IDX(urls, i, jwks_url *);
        if (strcmp(u->url, url) == 0) {
            return u;
        }
    }
    u = apr_pcalloc(p, sizeof(*u));
    u->url = apr_pstrdup(p, url);
    u->refresh = -1;
    APR_ARRAY_PUSH(urls, jwks_url *) = u;
    return u;
}

static const char *read_file_keys(cmd_parms *cmd, const char *path,
                                  apr_array_header_t *keys)
{
    apr_array_header_t *skipped = apr_array_make(cmd->temp_pool, 2,
                                                 sizeof(const char *));
    apr_file_t *f;
    apr_finfo_t fi;
    apr_size_t len;
    char *data;
    const char *err;
    apr_status_t rv;
    int i;

    path = ap_server_root_relative(cmd->temp_pool, path);
    if (!path) {
        return "invalid file path";
    }
    if ((rv = apr_file_open(&f, path, APR_READ, 0, cmd->temp_pool))
            != APR_SUCCESS
        || (rv = apr_file_info_get(&fi, APR_FINFO_SIZE, f)) != APR_SUCCESS) {
        return apr_psprintf(cmd->pool, "cannot read %s: %pm", path, &rv);
    }
    if (fi.size > JWKS_DOC_MAX) {
        apr_file_close(f);
        return apr_psprintf(cmd->pool, "%s is larger than %d bytes", path,
                            JWKS_DOC_MAX);
    }
    len = (apr_size_t)fi.size;
    data = apr_palloc(cmd->temp_pool, len + 1);
    rv = apr_file_read_full(f, data, len, &len);
    apr_file_close(f);
    if (rv != APR_SUCCESS && rv != APR_EOF) {
        return apr_psprintf(cmd->pool, "cannot read %s: %pm", path, &rv);
    }
    data[len] = '\0';
    err = apigw_jwk_parse(cmd->pool, data, len, keys, skipped);
    if (err) {
        return apr_psprintf(cmd->pool, "%s: %s", path, err);
    }
    for (i = 0; i < skipped->nelts; i++) {
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, cmd->server,
                     APIGW_LOGNO(03001) "ApiJwtKeys file:%s (%s:%d): %s",
                     path, cmd->directive->filename,
                     cmd->directive->line_num,
                     APR_ARRAY_IDX(skipped, i, const char *));
    }
    return NULL;
}

static const char *read_secret(cmd_parms *cmd, const char *var,
                               apr_array_header_t *keys)
{
    const char *value = getenv(var), *why = NULL;
    apigw_jwk *k;

    if (!*var) {
        return "secret: needs the name of an environment variable";
    }
    if (!value) {
        return apr_psprintf(cmd->pool, "environment variable %s is not set",
                            var);
    }
    k = apigw_jwk_secret(cmd->pool, (const unsigned char *)value,
                         strlen(value), &why);
    if (!k) {
        return apr_psprintf(cmd->pool, "secret in %s: %s", var, why);
    }
    APR_ARRAY_PUSH(keys, apigw_jwk *) = k;
    return NULL;
}

/* The refresh=, insecure and symmetric words after the source. */
static const char *source_options(cmd_parms *cmd, int argc,
                                  char *const argv[],
                                  apr_interval_time_t *refresh, int *insecure,
                                  int *symmetric)
{
    int i;

    for (i = 1; i < argc; i++) {
        if (strncasecmp(argv[i], "refresh=", 8) == 0) {
            const char *err = apigw_parse_duration(argv[i] + 8, refresh);
            if (err) {
                return apr_psprintf(cmd->pool, "%s: %s", argv[i], err);
            }
            if (*refresh < MIN_REFRESH) {
                return apr_psprintf(cmd->pool, "%s: at least 1s", argv[i]);
            }
        }
        else if (strcasecmp(argv[i], "insecure") == 0) {
            *insecure = 1;
        }
        else if (strcasecmp(argv[i], "symmetric") == 0) {
            *symmetric = 1;
        }
        else {
            return apr_psprintf(cmd->pool, "unknown option '%s' (refresh= "
                                "insecure or symmetric)", argv[i]);
        }
    }
    return NULL;
}

const char *apigw_key_sources_add(cmd_parms *cmd, apigw_key_sources **srcs,
                                  int argc, char *const argv[])
{
    apr_interval_time_t refresh = -1;
    int insecure = 0, symmetric = 0, is_url;
    const char *src, *err;
    key_source *ks;

    if (argc < 1) {
        return "ApiJwtKeys needs a source: file:PATH, secret:ENV_VAR or a "
               "JWK set URL";
    }
    src = argv[0];
    if ((err = source_options(cmd, argc, argv, &refresh, &insecure,
                              &symmetric))) {
        return apr_pstrcat(cmd->pool, "ApiJwtKeys: ", err, NULL);
    }
    is_url = strncasecmp(src, "https://", 8) == 0
             || strncasecmp(src, "http://", 7) == 0;
    if (!is_url && (refresh >= 0 || insecure || symmetric)) {
        return "ApiJwtKeys: refresh=, insecure and symmetric are for JWK "
               "set URLs";
    }
    if (!*srcs) {
        *srcs = apr_pcalloc(cmd->pool, sizeof(**srcs));
        (*srcs)->list = apr_array_make(cmd->pool, 2, sizeof(key_source));
    }
    ks = apr_array_push((*srcs)->list);
    memset(ks, 0, sizeof(*ks));
    if (is_url) {
        if (strncasecmp(src, "http://", 7) == 0 && !insecure) {
            return apr_psprintf(cmd->pool, "ApiJwtKeys %s: keys over plain "
                                "http can be forged in transit; use https, "
                                "or add 'insecure' to accept the risk", src);
        }
        ks->url = url_record(cmd->pool, src);
        if (refresh < 0) {
            refresh = DEFAULT_REFRESH;
        }
        if (ks->url->refresh < 0 || refresh < ks->url->refresh) {
            ks->url->refresh = refresh;
        }
        ks->url->insecure |= insecure;
        ks->url->symmetric |= symmetric;
        ks->symmetric = symmetric;
        return NULL;
    }
    ks->keys = apr_array_make(cmd->pool, 2, sizeof(apigw_jwk *));
    if (strncmp(src, "file:", 5) == 0) {
        err = read_file_keys(cmd, src + 5, ks->keys);
    }
    else if (strncmp(src, "secret:", 7) == 0) {
        err = read_secret(cmd, src + 7, ks->keys);
    }
    else {
        err = "unknown source: file:PATH, secret:ENV_VAR, https://URL";
    }
    return err ? apr_psprintf(cmd->pool, "ApiJwtKeys %s: %s", src, err)
               : NULL;
}

const char *apigw_key_sources_set_ca(cmd_parms *cmd, void *dummy,
                                     const char *file)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    apr_finfo_t fi;

    (void)dummy;
    if (err) {
        return err;
    }
    file = ap_server_root_relative(cmd->pool, file);
    if (!file || apr_stat(&fi, file, APR_FINFO_TYPE, cmd->temp_pool)
                     != APR_SUCCESS || fi.filetype != APR_REG) {
        return apr_pstrcat(cmd->pool, "ApiJwtKeysCA: no such file: ",
                           file ? file : "(invalid path)", NULL);
    }
    ca_file = file;
    return NULL;
}

/* The keys of a URL's document: parsed, without its HMAC secrets unless
 * the line says symmetric (a JWK set anyone may fetch publishes public
 * keys; a secret in one would let anyone sign). NULL or why not. */
static const char *url_keys(apr_pool_t *p, const jwks_url *u, const char *doc,
                            apr_size_t len, apr_array_header_t *keys)
{
    const char *err = apigw_jwk_parse(p, doc, len, keys, NULL);
    int i, kept = 0;

    if (err) {
        return err;
    }
    for (i = 0; i < keys->nelts; i++) {
        apigw_jwk *k = APR_ARRAY_IDX(keys, i, apigw_jwk *);
        if (k->kty != APIGW_KTY_OCT || u->symmetric) {
            APR_ARRAY_IDX(keys, kept++, apigw_jwk *) = k;
        }
    }
    keys->nelts = kept;
    return kept ? NULL : "no usable key (HMAC secrets from a URL are used "
                         "only with 'symmetric')";
}

/* ---- the fetch ---- */

typedef struct {
    char *buf;
    apr_size_t len;
    int too_big;
} fetch_buf;

static size_t fetch_write(char *data, size_t size, size_t n, void *ctx)
{
    fetch_buf *fb = ctx;
    size_t bytes = size * n;

    if (bytes > JWKS_DOC_MAX - fb->len) {
        fb->too_big = 1;
        return 0;
    }
    memcpy(fb->buf + fb->len, data, bytes);
    fb->len += bytes;
    return bytes;
}

/* GETs u's document into fb (JWKS_DOC_MAX bytes); NULL or why not. */
static const char *fetch_url(apr_pool_t *p, const jwks_url *u, fetch_buf *fb)
{
    CURL *curl = curl_easy_init();
    char errbuf[CURL_ERROR_SIZE] = "";
    long status = 0;
    CURLcode rc;

    if (!curl) {
        return "curl_easy_init failed";
    }
    curl_easy_setopt(curl, CURLOPT_URL, u->url);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, FETCH_TIMEOUT_MS);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "mod_apigw_auth");
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, fetch_write);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, fb);
    if (ca_file) {
        curl_easy_setopt(curl, CURLOPT_CAINFO, ca_file);
    }
    rc = curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(curl);
    if (fb->too_big) {
        return apr_psprintf(p, "the document is larger than %d bytes",
                            JWKS_DOC_MAX);
    }
    if (rc != CURLE_OK) {
        return apr_pstrdup(p, *errbuf ? errbuf : curl_easy_strerror(rc));
    }
    if (status != 200) {
        return apr_psprintf(p, "answered %ld", status);
    }
    return NULL;
}

/* Claims u's next fetch for this process when none is under way and the
 * last attempt is at least min_gap old. */
static int claim_fetch(jwks_url *u, apr_time_t now, apr_interval_time_t min_gap)
{
    jwks_shared *sh = u->shared;
    apr_uint64_t claimed = apr_atomic_read64(&sh->claimed_at);
    apr_uint64_t attempt = apr_atomic_read64(&sh->attempt_at);

    if (claimed && now - (apr_time_t)claimed < STALE_CLAIM) {
        return 0;
    }
    if (attempt && now - (apr_time_t)attempt < min_gap) {
        return 0;
    }
    if (apr_atomic_cas64(&sh->claimed_at, (apr_uint64_t)now, claimed)
            != claimed) {
        return 0;
    }
    apr_atomic_set64(&sh->attempt_at, (apr_uint64_t)now);
    return 1;
}

/* Stores doc when it differs from the shared one; 1 when it did. */
static int store_doc(jwks_url *u, const char *doc, apr_size_t len)
{
    jwks_shared *sh = u->shared;
    int changed = 0;

    if (apr_global_mutex_lock(doc_mutex) != APR_SUCCESS) {
        return 0;
    }
    if (len != sh->len || memcmp(sh->doc, doc, len) != 0
        || apr_atomic_read32(&sh->generation) == 0) {
        memcpy(sh->doc, doc, len);
        sh->len = (apr_uint32_t)len;
        apr_atomic_inc32(&sh->generation);
        changed = 1;
    }
    apr_global_mutex_unlock(doc_mutex);
    return changed;
}

/* Fetches u (claimed by the caller), checks the document holds keys and
 * stores it; releases the claim. 1 when the shared document changed. */
static int fetch_and_store(apr_pool_t *parent, server_rec *s, jwks_url *u)
{
    apr_pool_t *p;
    fetch_buf fb = { NULL, 0, 0 };
    apr_array_header_t *keys;
    const char *err;
    int changed = 0;

    apr_pool_create(&p, parent);
    fb.buf = apr_palloc(p, JWKS_DOC_MAX);
    keys = apr_array_make(p, 4, sizeof(apigw_jwk *));
    err = fetch_url(p, u, &fb);
    if (!err) {
        err = url_keys(p, u, fb.buf, fb.len, keys);
    }
    if (err) {
        if (!apr_atomic_xchg32(&u->shared->failing, 1)) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, APIGW_LOGNO(03002)
                         "ApiJwtKeys %s: %s; %s", u->url, err,
                         apr_atomic_read32(&u->shared->generation)
                             ? "the keys fetched before stay in use"
                             : "no keys yet: tokens cannot be verified");
        }
    }
    else {
        changed = store_doc(u, fb.buf, fb.len);
        apr_atomic_set64(&u->shared->fetched_at, (apr_uint64_t)apr_time_now());
        if (apr_atomic_xchg32(&u->shared->failing, 0)) {
            ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s, APIGW_LOGNO(03003)
                         "ApiJwtKeys %s: fetched again (%d keys)", u->url,
                         keys->nelts);
        }
        else {
            ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, APIGW_LOGNO(03004)
                         "ApiJwtKeys %s: fetched, %d keys%s", u->url,
                         keys->nelts, changed ? " (changed)" : "");
        }
    }
    apr_atomic_set64(&u->shared->claimed_at, 0);
    apr_pool_destroy(p);
    return changed;
}

/* ---- each child's snapshot ---- */

static void snapshot_release(jwks_url *u, jwks_snapshot *snap)
{
    int gone;

    apr_thread_mutex_lock(u->mutex);
    gone = --snap->refs == 0 && snap->retired;
    apr_thread_mutex_unlock(u->mutex);
    if (gone) {
        apr_pool_destroy(snap->pool);
    }
}

typedef struct {
    jwks_url *u;
    jwks_snapshot *snap;
} pin;

static apr_status_t unpin(void *data)
{
    pin *pn = data;
    snapshot_release(pn->u, pn->snap);
    return APR_SUCCESS;
}

/* A snapshot of the shared document as it is now, or NULL when it holds
 * no keys (never fetched). */
static jwks_snapshot *snapshot_make(jwks_url *u)
{
    jwks_shared *sh = u->shared;
    jwks_snapshot *snap;
    apr_pool_t *p;
    char *doc;
    apr_size_t len;
    apr_uint32_t gen;

    apr_pool_create(&p, NULL);
    snap = apr_pcalloc(p, sizeof(*snap));
    snap->pool = p;
    snap->keys = apr_array_make(p, 4, sizeof(apigw_jwk *));
    if (apr_global_mutex_lock(doc_mutex) != APR_SUCCESS) {
        apr_pool_destroy(p);
        return NULL;
    }
    gen = apr_atomic_read32(&sh->generation);
    len = sh->len;
    doc = apr_palloc(p, len + 1);
    memcpy(doc, sh->doc, len);
    apr_global_mutex_unlock(doc_mutex);
    doc[len] = '\0';
    if (gen == 0 || url_keys(p, u, doc, len, snap->keys)) {
        apr_pool_destroy(p);
        return NULL;
    }
    snap->generation = gen;
    return snap;
}

/* The child's snapshot of u, brought up to the shared generation and
 * pinned until r->pool is cleared; NULL when u has no keys. */
static jwks_snapshot *snapshot_pin(request_rec *r, jwks_url *u)
{
    apr_uint32_t gen = apr_atomic_read32(&u->shared->generation);
    jwks_snapshot *snap, *old = NULL;
    pin *pn;

    apr_thread_mutex_lock(u->mutex);
    snap = u->current;
    if (snap) {
        snap->refs++;
    }
    apr_thread_mutex_unlock(u->mutex);
    if (gen != 0 && (!snap || snap->generation != gen)) {
        jwks_snapshot *fresh = snapshot_make(u);
        if (snap) {
            snapshot_release(u, snap);
            snap = NULL;
        }
        apr_thread_mutex_lock(u->mutex);
        if (fresh && (!u->current
                      || u->current->generation != fresh->generation)) {
            old = u->current;
            u->current = fresh;
            fresh = NULL;
            if (old) {
                old->retired = 1;
                if (old->refs > 0) {
                    old = NULL;          /* the last user destroys it */
                }
            }
        }
        snap = u->current;
        if (snap) {
            snap->refs++;
        }
        apr_thread_mutex_unlock(u->mutex);
        if (old) {
            apr_pool_destroy(old->pool);
        }
        if (fresh) {
            apr_pool_destroy(fresh->pool);   /* another thread was first */
        }
    }
    if (!snap) {
        return NULL;
    }
    pn = apr_palloc(r->pool, sizeof(*pn));
    pn->u = u;
    pn->snap = snap;
    apr_pool_cleanup_register(r->pool, pn, unpin, apr_pool_cleanup_null);
    return snap;
}

/* Appends a URL's keys to all: its secrets only for a symmetric line
 * (another line naming the same URL may say symmetric). */
static void add_url_keys(apr_array_header_t *all,
                         const apr_array_header_t *keys, int symmetric)
{
    int i;

    if (symmetric) {
        apr_array_cat(all, keys);
        return;
    }
    for (i = 0; i < keys->nelts; i++) {
        apigw_jwk *k = APR_ARRAY_IDX(keys, i, apigw_jwk *);
        if (k->kty != APIGW_KTY_OCT) {
            APR_ARRAY_PUSH(all, apigw_jwk *) = k;
        }
    }
}

/* u has never had keys: fetch it now, or wait for the process fetching. */
static void first_fetch(request_rec *r, jwks_url *u)
{
    apr_time_t until = apr_time_now() + FIRST_FETCH_WAIT;

    while (apr_atomic_read32(&u->shared->generation) == 0) {
        apr_time_t now = apr_time_now();
        if (claim_fetch(u, now, RETRY_AFTER_FAILURE)) {
            fetch_and_store(r->pool, r->server, u);
            return;
        }
        if (now >= until || !apr_atomic_read64(&u->shared->claimed_at)) {
            return;                  /* failed a moment ago: no new try */
        }
        apr_sleep(apr_time_from_msec(10));
    }
}

const apr_array_header_t *apigw_key_sources_current(request_rec *r,
                                                    const apigw_key_sources *srcs,
                                                    const char **unavailable,
                                                    apr_uint64_t *gen)
{
    apr_array_header_t *all = apr_array_make(r->pool, 4, sizeof(apigw_jwk *));
    int i;

    *unavailable = NULL;
    *gen = 0;
    for (i = 0; srcs && i < srcs->list->nelts; i++) {
        const key_source *ks = &APR_ARRAY_IDX(srcs->list, i, key_source);
        jwks_snapshot *snap;

        if (ks->keys) {
            apr_array_cat(all, ks->keys);
            continue;
        }
        if (apr_atomic_read32(&ks->url->shared->generation) == 0) {
            first_fetch(r, ks->url);
        }
        snap = snapshot_pin(r, ks->url);
        if (snap) {
            add_url_keys(all, snap->keys, ks->symmetric);
            *gen += snap->generation;
        }
        else if (!*unavailable) {
            *unavailable = ks->url->url;
        }
    }
    return all;
}

apr_uint64_t apigw_key_sources_generation(const apigw_key_sources *srcs)
{
    apr_uint64_t sum = 0;
    int i;

    for (i = 0; srcs && i < srcs->list->nelts; i++) {
        const key_source *ks = &APR_ARRAY_IDX(srcs->list, i, key_source);
        if (ks->url && ks->url->shared) {
            sum += apr_atomic_read32(&ks->url->shared->generation);
        }
    }
    return sum;
}

int apigw_key_sources_refetch(request_rec *r, const apigw_key_sources *srcs)
{
    int i, changed = 0;

    for (i = 0; srcs && i < srcs->list->nelts; i++) {
        const key_source *ks = &APR_ARRAY_IDX(srcs->list, i, key_source);
        if (ks->url && claim_fetch(ks->url, apr_time_now(),
                                   ks->url->refresh)) {
            changed |= fetch_and_store(r->pool, r->server, ks->url);
        }
    }
    return changed;
}

/* ---- the background refresh ---- */

static apr_status_t refresh_callback(int state, void *data, apr_pool_t *p)
{
    int i;

    (void)data;
    if (state == AP_WATCHDOG_STATE_STOPPING) {
        return APR_SUCCESS;
    }
    for (i = 0; i < urls->nelts; i++) {
        jwks_url *u = APR_ARRAY_IDX(urls, i, jwks_url *);
        apr_interval_time_t gap = apr_atomic_read32(&u->shared->failing)
                                  || !apr_atomic_read32(&u->shared->generation)
                                  ? RETRY_AFTER_FAILURE : u->refresh;
        if (claim_fetch(u, apr_time_now(), gap)) {
            fetch_and_store(p, main_server, u);
        }
    }
    return APR_SUCCESS;
}

/* ---- hooks ---- */

int apigw_auth_keys_pre_config(apr_pool_t *pconf, apr_pool_t *plog,
                               apr_pool_t *ptemp)
{
    (void)plog;
    (void)ptemp;
    urls = apr_array_make(pconf, 2, sizeof(jwks_url *));
    ca_file = NULL;
    doc_mutex = NULL;
    return ap_mutex_register(pconf, MUTEX_TYPE, NULL, APR_LOCK_DEFAULT, 0);
}

static apr_status_t curl_done(void *data)
{
    (void)data;
    curl_global_cleanup();
    return APR_SUCCESS;
}

static int start_watchdog(apr_pool_t *pconf, server_rec *s)
{
    APR_OPTIONAL_FN_TYPE(ap_watchdog_get_instance) *get_instance;
    APR_OPTIONAL_FN_TYPE(ap_watchdog_register_callback) *register_callback;
    ap_watchdog_t *wd;
    apr_status_t rv;

    get_instance = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_get_instance);
    register_callback = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_register_callback);
    if (!get_instance || !register_callback) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, APIGW_LOGNO(03005)
                     "ApiJwtKeys with a URL needs mod_watchdog to refresh "
                     "the keys: LoadModule watchdog_module "
                     "modules/mod_watchdog.so");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if ((rv = get_instance(&wd, WATCHDOG_NAME, 0, 1, pconf)) != APR_SUCCESS
        || (rv = register_callback(wd, AP_WD_TM_SLICE, NULL,
                                   refresh_callback)) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, APIGW_LOGNO(03006)
                     "ApiJwtKeys: cannot start the key refresh watchdog");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}

int apigw_auth_keys_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                                apr_pool_t *ptemp, server_rec *s)
{
    apr_status_t rv;
    int i;

    (void)plog;
    (void)ptemp;
    main_server = s;
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG
        || urls->nelts == 0) {
        return OK;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, APIGW_LOGNO(03007)
                     "ApiJwtKeys: curl_global_init failed");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    apr_pool_cleanup_register(pconf, NULL, curl_done, apr_pool_cleanup_null);
    rv = ap_global_mutex_create(&doc_mutex, NULL, MUTEX_TYPE, NULL, s,
                                pconf, 0);
    if (rv != APR_SUCCESS) {
        return HTTP_INTERNAL_SERVER_ERROR;   /* httpd logged why */
    }
    for (i = 0; i < urls->nelts; i++) {
        jwks_url *u = APR_ARRAY_IDX(urls, i, jwks_url *);
        rv = apr_shm_create(&u->seg, sizeof(jwks_shared), NULL, pconf);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, APIGW_LOGNO(03008)
                         "ApiJwtKeys %s: cannot create shared memory",
                         u->url);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        u->shared = apr_shm_baseaddr_get(u->seg);
        memset(u->shared, 0, sizeof(*u->shared));
    }
    return start_watchdog(pconf, s);
}

void apigw_auth_keys_child_init(apr_pool_t *p, server_rec *s)
{
    int i;

    if (!doc_mutex) {
        return;
    }
    if (apr_global_mutex_child_init(&doc_mutex,
                                    apr_global_mutex_lockfile(doc_mutex),
                                    p) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, APIGW_LOGNO(03009)
                     "ApiJwtKeys: cannot attach the key mutex in a child");
    }
    for (i = 0; i < urls->nelts; i++) {
        jwks_url *u = APR_ARRAY_IDX(urls, i, jwks_url *);
        apr_thread_mutex_create(&u->mutex, APR_THREAD_MUTEX_DEFAULT, p);
    }
}
