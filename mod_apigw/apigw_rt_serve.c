/* Serving runtime routes (see apigw_rt_serve.h): the shared generation,
 * each child's builder thread (store sync, shard rebuilds, publishing,
 * the snapshot file, the store's API keys), the mod_watchdog poller for
 * other gateways' writes, the pooled workers of runtime backends, and the
 * request side: the route match and the API key lookup
 * (apigw_store_apikey_find), and what the builder says of its tables
 * (apigw_rt_serve_stats). */
#include "apigw_rt_serve.h"
#include "apigw_rt_table.h"
#include "apigw_apikeys_table.h"
#include "apigw_rt_compile.h"
#include "apigw_route_store.h"
#include "apigw_shm.h"
#include "apigw_log.h"

#include "http_log.h"
#include "http_protocol.h"
#include "mod_watchdog.h"
#include "apr_atomic.h"
#include "apr_hash.h"
#include "apr_strings.h"
#include "apr_thread_proc.h"
#include "apr_thread_mutex.h"

#include "apr_file_info.h"
#include "unixd.h"

#include <errno.h>
#include <jansson.h>
#include <unistd.h>

APLOG_USE_MODULE(apigw);

#define SHM_KEY "apigw-rt-generation"
#define SHM_MAGIC 0x61727467u              /* "artg" */
#define RETRY_AFTER apr_time_from_msec(200)
#define SNAPSHOT_AFTER apr_time_from_sec(2) /* of failing at startup */
#define PREFAULT_ROW_BYTES 512           /* of a route read from the store */
#define SNAPSHOT_QUIET apr_time_from_sec(2) /* routes unchanged this long */
#define SNAPSHOT_MAX_AGE apr_time_from_sec(30) /* while they keep changing */
#define SNAPSHOT_DIR "apigw-routes"        /* under DefaultRuntimeDir */
#define MAX_WORKERS 1024                   /* per child; then mod_proxy's */
#define WATCHDOG_NAME "_apigw_routes_"
#define FIRST_TABLE_WAIT (SNAPSHOT_AFTER + apr_time_from_sec(1))

/* In shared memory, kept across graceful restarts. */
typedef struct {
    apr_uint32_t magic;
    volatile apr_uint32_t generation;      /* bumped per change seen */
    volatile apr_uint64_t store_gen;       /* the poller's last reading */
    volatile apr_uint64_t snapshot_gen;    /* the last one a builder wrote
                                            * (no watchdog only) */
} rt_shared;

struct apigw_rt_env {
    const char *name;
    apigw_rt_set *set;
    apigw_rt_compile_ctx cx;
    apr_int64_t since;                     /* 0: read everything next */
    int prefaulted;                        /* its first read's memory */
    apr_time_t synced_at;
    int snap;                              /* the set is the snapshot's */
    apr_int64_t set_gen;                   /* the generation the set is */
    /* what requests read (apigw_rt_serve_stats); builder writes only */
    volatile apr_uint64_t st_routes;       /* in the table published */
    volatile apr_uint64_t st_gen;          /* that table's generation */
    volatile apr_uint64_t st_refreshed;    /* apr_time_t; 0 never */
    volatile apr_uint32_t st_snapshot;     /* that table is the snapshot's */
    volatile apr_uint32_t st_published;    /* a table of it is served */
};
typedef struct apigw_rt_env rt_env;

/* This generation's settings (parent, before the children fork). */
static int serving;
static const char *store_spec;
static const char *snapshot_path;
static apr_interval_time_t refresh;
static int poll_self;                      /* no watchdog: each child polls */
static rt_shared *shared;

/* When the snapshot file is written again: once the routes have been
 * quiet for SNAPSHOT_QUIET, or, under a steady stream of writes, once the
 * last snapshot is SNAPSHOT_MAX_AGE old. A full dump of 10,000 routes
 * takes about 50 ms of a core: every few seconds under churn it would be
 * a good share of what the writes cost. */
typedef struct {
    apr_int64_t seen;                      /* the last generation seen */
    apr_int64_t written;                   /* -1: none yet */
    apr_time_t changed_at;                 /* when seen last moved */
    apr_time_t written_at;
} rt_snap_clock;

static void snap_clock_init(rt_snap_clock *c)
{
    c->seen = c->written = -1;
    c->changed_at = c->written_at = 0;
}

/* Whether the routes at generation gen should be written now. */
static int snap_clock_due(rt_snap_clock *c, apr_int64_t gen,
                          apr_time_t now)
{
    if (gen != c->seen) {
        c->seen = gen;
        c->changed_at = now;
    }
    return gen != c->written
           && (now - c->changed_at >= SNAPSHOT_QUIET
               || now - c->written_at >= SNAPSHOT_MAX_AGE);
}

static void snap_clock_written(rt_snap_clock *c, apr_int64_t gen,
                               apr_time_t now)
{
    c->written = gen;
    c->written_at = now;
}

/* A child's. */
typedef struct {
    server_rec *s;
    apr_array_header_t *envs;              /* rt_env * */
    apr_pool_t *pool;                      /* the builder's own */
    apigw_route_store *store;
    volatile apr_uint32_t stopping;
    apr_thread_t *thread;
    apr_time_t retry_at;
    apr_time_t next_poll;
    int store_down;                        /* logged as down */
    int loaded;                            /* from the store or snapshot */
    volatile apr_uint32_t st_store_ok;     /* the last read succeeded
                                            * (apigw_rt_serve_stats) */
    apr_interval_time_t opened_in;         /* the last open of the store */
    apr_time_t failing_since;              /* 0: the store answers */
    int pending;                           /* a publish waits for a slot */
    int snapshot_due;                      /* changes not in a snapshot */
    int snapshot_warned;
    rt_snap_clock snapshot_clock;
    apr_int64_t gen;                       /* the store's, last synced */
    /* runtime backends' workers: origin|timeout -> proxy_worker * */
    apr_pool_t *wpool;
    apr_hash_t *workers;
    /* the store's API keys */
    apigw_apikeys *keys;                   /* the sets published */
    apr_int64_t keys_version;              /* the store's, last loaded;
                                            * -1: never */
    apr_pool_t *keys_pool;                 /* a loaded set waiting for a */
    apigw_apikey_set *keys_next;           /* free slot, in its own pool */
} rt_builder;

static rt_builder *builder;
static volatile apr_uint32_t first_wait_over;  /* a request waited in vain */
static volatile apr_uint32_t keys_wait_over;   /* the same, for API keys */
static apigw_rt_checks checks;
static APR_OPTIONAL_FN_TYPE(apigw_rl_route_prepare) *rl_prepare;
static APR_OPTIONAL_FN_TYPE(apigw_rl_route_attach) *rl_attach;
static APR_OPTIONAL_FN_TYPE(apigw_cb_route_prepare) *cb_prepare;
static APR_OPTIONAL_FN_TYPE(apigw_cb_route_attach) *cb_attach;

/* ---- startup ---- */

int apigw_rt_serve_wanted(server_rec *s, int admin_used)
{
    const apigw_server_conf *main_sc = ap_get_module_config(s->module_config,
                                                            &apigw_module);
    if (admin_used || main_sc->route_store) {
        return 1;
    }
    for (; s; s = s->next) {
        const apigw_server_conf *sc = ap_get_module_config(s->module_config,
                                                           &apigw_module);
        if (sc->environment) {
            return 1;
        }
    }
    return 0;
}

/* Beside a SQLite store (its folder is the children's already); for
 * PostgreSQL in a folder of DefaultRuntimeDir made for the children (the
 * snapshot is replaced by a rename, which needs the folder). */
static const char *snapshot_of(apr_pool_t *p, server_rec *s, const char *spec)
{
    const char *dir;
    apr_status_t rv;

    if (strncmp(spec, "sqlite3:", 8) == 0) {
        return apr_pstrcat(p, spec + 8, ".snapshot.json", NULL);
    }
    dir = ap_runtime_dir_relative(p, SNAPSHOT_DIR);
    if (!dir) {
        return NULL;
    }
    rv = apr_dir_make(dir, APR_FPROT_OS_DEFAULT, p);
    if (rv != APR_SUCCESS && !APR_STATUS_IS_EEXIST(rv)) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s, APIGW_LOGNO(00722)
                     "runtime routes: cannot make %s for the route "
                     "snapshot", dir);
    }
    else if (geteuid() == 0
             && chown(dir, ap_unixd_config.user_id,
                      ap_unixd_config.group_id) != 0) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, errno, s, APIGW_LOGNO(00723)
                     "runtime routes: cannot give %s to httpd's User for "
                     "the route snapshot", dir);
    }
    return apr_pstrcat(p, dir, "/snapshot.json", NULL);
}

static int shared_make(server_rec *s)
{
    apr_shm_t **slot = apigw_shm_retained(SHM_KEY);
    apr_status_t rv;

    if (!*slot || apr_shm_size_get(*slot) < sizeof(rt_shared)
        || ((rt_shared *)apr_shm_baseaddr_get(*slot))->magic != SHM_MAGIC) {
        if ((rv = apigw_shm_renew(slot, sizeof(rt_shared), s))
            != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, APIGW_LOGNO(00710)
                         "runtime routes: no shared memory for the route "
                         "generation");
            return !OK;
        }
        shared = apr_shm_baseaddr_get(*slot);
        memset(shared, 0, sizeof(*shared));
        shared->magic = SHM_MAGIC;
    }
    shared = apr_shm_baseaddr_get(*slot);
    /* a restart reads the store again in every new child */
    apr_atomic_inc32(&shared->generation);
    return OK;
}

/* One httpd, one poller: in one child, every ApiRouteRefresh. */
static apr_status_t poll_store(int state, void *data, apr_pool_t *pool);

static void poller_start(apr_pool_t *pconf, server_rec *s)
{
    APR_OPTIONAL_FN_TYPE(ap_watchdog_get_instance) *get_instance;
    APR_OPTIONAL_FN_TYPE(ap_watchdog_register_callback) *register_cb;
    ap_watchdog_t *wd = NULL;
    apr_status_t rv;

    get_instance = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_get_instance);
    register_cb = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_register_callback);
    poll_self = 1;
    if (!get_instance || !register_cb) {
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s, APIGW_LOGNO(00711)
                     "runtime routes: mod_watchdog is not loaded; each "
                     "child looks for other gateways' changes itself");
        return;
    }
    rv = get_instance(&wd, WATCHDOG_NAME, 0, 1, pconf);
    if (rv == APR_SUCCESS) {
        rv = register_cb(wd, refresh, s, poll_store);
    }
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s, APIGW_LOGNO(00712)
                     "runtime routes: no watchdog for the route store; each "
                     "child looks for other gateways' changes itself");
        return;
    }
    poll_self = 0;
}

int apigw_rt_serve_post_config(apr_pool_t *pconf, server_rec *s,
                               const char *spec, int admin_used)
{
    const apigw_server_conf *sc = ap_get_module_config(s->module_config,
                                                       &apigw_module);

    serving = spec && apigw_rt_serve_wanted(s, admin_used);
    shared = NULL;
    if (!serving || ap_state_query(AP_SQ_MAIN_STATE)
                    == AP_SQ_MS_CREATE_PRE_CONFIG) {
        return OK;
    }
    store_spec = spec;
    snapshot_path = snapshot_of(pconf, s, spec);
    refresh = sc->route_refresh ? sc->route_refresh : APIGW_RT_DEFAULT_REFRESH;
    if (shared_make(s) != OK) {
        return !OK;
    }
    poller_start(pconf, s);
    return OK;
}

/* ---- outside checks: the other modules' optional functions ---- */

static const char *check_rate_limit(apr_pool_t *p,
                                    const apigw_rt_rate_limit *rl)
{
    void *h;
    return rl_prepare ? rl_prepare(p, "check", rl, &h) : NULL;
}

static const char *check_breaker(apr_pool_t *p, const apigw_rt_breaker *cb)
{
    void *h;
    return cb_prepare ? cb_prepare(p, "check", cb, &h) : NULL;
}

static const char *check_header_value(apr_pool_t *p, const char *value)
{
    ap_expr_info_t *info;
    return apigw_rt_header_expr(p, value, "admin API", &info);
}

static void retrieve_fns(void)
{
    rl_prepare = APR_RETRIEVE_OPTIONAL_FN(apigw_rl_route_prepare);
    rl_attach = APR_RETRIEVE_OPTIONAL_FN(apigw_rl_route_attach);
    cb_prepare = APR_RETRIEVE_OPTIONAL_FN(apigw_cb_route_prepare);
    cb_attach = APR_RETRIEVE_OPTIONAL_FN(apigw_cb_route_attach);
    checks.rate_limit = rl_prepare ? check_rate_limit : NULL;
    checks.breaker = cb_prepare ? check_breaker : NULL;
    checks.header_value = check_header_value;
}

const apigw_rt_checks *apigw_rt_serve_checks(void)
{
    if (!checks.header_value) {
        retrieve_fns();
    }
    return &checks;
}

/* ---- runtime backends' workers (builder thread only) ---- */

static proxy_worker *worker_for(void *ctx, const char *origin,
                                apr_interval_time_t timeout)
{
    rt_builder *b = ctx;
    char key[512];
    proxy_worker *w;
    const char *err;
    apr_status_t rv;

    /* looked up without allocating: every rebuild asks again */
    if (apr_snprintf(key, sizeof(key), "%s|%" APR_TIME_T_FMT, origin,
                     timeout) >= (int)sizeof(key) - 1) {
        return NULL;
    }
    w = apr_hash_get(b->workers, key, APR_HASH_KEY_STRING);
    if (w || apr_hash_count(b->workers) >= MAX_WORKERS) {
        return w;
    }
    err = ap_proxy_define_worker(b->wpool, &w, NULL, NULL, origin, 0);
    if (err) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, b->s, APIGW_LOGNO(00713)
                     "runtime routes: no pooled worker for %s (%s); "
                     "mod_proxy's default one is used", origin, err);
        return NULL;
    }
    w->s->timeout = timeout;
    w->s->timeout_set = 1;
    rv = ap_proxy_initialize_worker(w, b->s, b->wpool);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, b->s, APIGW_LOGNO(00714)
                     "runtime routes: cannot initialize the connection pool "
                     "to %s; mod_proxy's default worker is used", origin);
        return NULL;
    }
    apr_hash_set(b->workers, apr_pstrdup(b->wpool, key), APR_HASH_KEY_STRING,
                 w);
    return w;
}

/* ---- compiling (builder thread) ---- */

static const char *compile_route(void *ctx, apr_pool_t *p,
                                 apr_pool_t *scratch,
                                 const apigw_route_record *rec, void **data,
                                 const char **field)
{
    rt_env *env = ctx;
    apigw_endpoint *ep;
    const char *err = apigw_rt_compile(p, scratch, &env->cx, rec, &ep,
                                       field);

    *data = ep;
    return err;
}

static void report_route(void *ctx, const apigw_route_record *rec,
                         const char *field, const char *problem)
{
    rt_env *env = ctx;

    ap_log_error(APLOG_MARK, APLOG_ERR, 0, env->cx.s, APIGW_LOGNO(00715)
                 "runtime route %s (%s %s, environment %s) is not served: "
                 "%s%s%s", rec->id, rec->methods, rec->path, env->name,
                 field && *field ? field : "", field && *field ? ": " : "",
                 problem);
}

/* ---- the snapshot file ---- */

static json_t *record_json(const apigw_route_record *r)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:I, s:I, s:s}",
                     "id", r->id, "environment", r->environment,
                     "path", r->path, "targetUrl", r->target_url,
                     "methods", r->methods, "enabled", r->enabled,
                     "createdAt", (json_int_t)r->created_at,
                     "updatedAt", (json_int_t)r->updated_at,
                     "policies", r->policies);
}

/* recs (apigw_route_record) as the snapshot of generation gen: a new
 * file renamed over the old. Says so once (*warned) when it cannot. */
static void snapshot_write(server_rec *s, apr_pool_t *p, apr_int64_t gen,
                           const apr_array_header_t *recs, int *warned)
{
    json_t *doc = json_object(), *routes = json_array();
    const char *tmp = apr_psprintf(p, "%s.%" APR_PID_T_FMT, snapshot_path,
                                   getpid());
    int i;

    json_object_set_new(doc, "generation", json_integer(gen));
    for (i = 0; i < recs->nelts; i++) {
        json_array_append_new(routes, record_json(
            &APR_ARRAY_IDX(recs, i, apigw_route_record)));
    }
    json_object_set_new(doc, "routes", routes);
    if (json_dump_file(doc, tmp, JSON_COMPACT) != 0
        || rename(tmp, snapshot_path) != 0) {
        if (!*warned) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, errno, s,
                         APIGW_LOGNO(00716) "runtime routes: cannot write "
                         "the snapshot %s; a start without the store will "
                         "serve no runtime route", snapshot_path);
        }
        *warned = 1;
        unlink(tmp);
    }
    json_decref(doc);
}

static void builder_snapshot(rt_builder *b, apr_pool_t *p)
{
    apr_array_header_t *all = apr_array_make(p, 16,
                                             sizeof(apigw_route_record));
    int i;

    for (i = 0; i < b->envs->nelts; i++) {
        rt_env *env = APR_ARRAY_IDX(b->envs, i, rt_env *);
        apr_array_cat(all, apigw_rt_set_records(env->set, p));
    }
    snapshot_write(b->s, p, b->gen, all, &b->snapshot_warned);
}

/* Without the watchdog (which writes the snapshot off the builders' way):
 * one child writes each generation, when its clock says so. */
static void snapshot_maybe(rt_builder *b, apr_pool_t *p, apr_time_t now)
{
    apr_uint64_t old;

    if (!poll_self || !snapshot_path) {
        b->snapshot_due = 0;
        return;
    }
    if (!snap_clock_due(&b->snapshot_clock, b->gen, now)) {
        return;                    /* due later: asked again next round */
    }
    b->snapshot_due = 0;
    snap_clock_written(&b->snapshot_clock, b->gen, now);
    old = apr_atomic_read64(&shared->snapshot_gen);
    if ((apr_uint64_t)b->gen <= old
        || apr_atomic_cas64(&shared->snapshot_gen, (apr_uint64_t)b->gen, old)
           != old) {
        return;                    /* another child has it in hand */
    }
    builder_snapshot(b, p);
}

static rt_env *env_named(rt_builder *b, const char *name)
{
    int i;

    for (i = 0; i < b->envs->nelts; i++) {
        rt_env *env = APR_ARRAY_IDX(b->envs, i, rt_env *);
        if (strcmp(env->name, name) == 0) {
            return env;
        }
    }
    return NULL;
}

static apigw_route_record snapshot_record(json_t *o)
{
    apigw_route_record r;
    json_int_t created = 0, updated = 0;
    int enabled = 0;

    memset(&r, 0, sizeof(r));
    if (json_unpack(o, "{s:s, s:s, s:s, s:s, s:s, s:b, s:I, s:I, s:s}",
                    "id", &r.id, "environment", &r.environment,
                    "path", &r.path, "targetUrl", &r.target_url,
                    "methods", &r.methods, "enabled", &enabled,
                    "createdAt", &created, "updatedAt", &updated,
                    "policies", &r.policies) != 0) {
        r.id = NULL;
    }
    r.enabled = enabled;
    r.created_at = created;
    r.updated_at = updated;
    return r;
}

/* The store cannot be reached and nothing was loaded yet. */
static void snapshot_load(rt_builder *b)
{
    json_error_t jerr;
    json_t *doc = NULL, *routes, *o;
    json_int_t gen;
    size_t i;
    int n = 0;

    jerr.text[0] = '\0';
    if (snapshot_path) {
        doc = json_load_file(snapshot_path, 0, &jerr);
    }
    if (!doc) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, b->s, APIGW_LOGNO(00717)
                     "runtime routes: the store is unreachable and there is "
                     "no snapshot to start from (%s: %s); no runtime route "
                     "is served until the store answers",
                     snapshot_path ? snapshot_path : "-", jerr.text);
        return;
    }
    gen = json_integer_value(json_object_get(doc, "generation"));
    for (i = 0; i < (size_t)b->envs->nelts; i++) {
        rt_env *env = APR_ARRAY_IDX(b->envs, i, rt_env *);
        env->snap = 1;
        env->set_gen = gen;
    }
    routes = json_object_get(doc, "routes");
    json_array_foreach(routes, i, o) {
        apigw_route_record r = snapshot_record(o);
        rt_env *env = r.id ? env_named(b, r.environment) : NULL;

        if (env) {
            apigw_rt_set_upsert(env->set, &r);
            n++;
        }
    }
    ap_log_error(APLOG_MARK, APLOG_WARNING, 0, b->s, APIGW_LOGNO(00718)
                 "runtime routes: the store is unreachable; serving the %d "
                 "routes of the snapshot %s (store generation %"
                 JSON_INTEGER_FORMAT ") until it answers", n, snapshot_path,
                 gen);
    json_decref(doc);
}

/* ---- following the store (builder thread) ---- */

/* A child's first read of a large environment: the memory of its rows (in
 * p, from the builder's own allocator, which keeps all it is given back)
 * faulted in at once. The count is only a hint: an error leaves it out. */
static void prefault_first_read(rt_builder *b, rt_env *env, apr_pool_t *p)
{
    apr_int64_t n;

    if (!apigw_route_store_count(b->store, p, env->name, &n)
        && n >= APIGW_RT_PREFAULT_MIN) {
        apigw_rt_prefault(apr_pool_allocator_get(p),
                          (apr_size_t)n * PREFAULT_ROW_BYTES, 0);
    }
}

static const apigw_route_store_error *env_sync(rt_builder *b, rt_env *env,
                                               apr_pool_t *p, apr_time_t now)
{
    const apigw_route_store_error *err;
    apr_array_header_t *changed, *deleted;
    apr_int64_t since = env->since, gen = 0;
    int i;

    if (now - env->synced_at > APIGW_ROUTE_STORE_FOLLOW_LIMIT) {
        since = 0;
    }
    if (!b->loaded && !env->prefaulted) {
        env->prefaulted = 1;               /* once, even if the read fails */
        prefault_first_read(b, env, p);
    }
    err = apigw_route_store_changes(b->store, p, env->name, since, &gen,
                                    &changed, &deleted);
    if (err) {
        return err;
    }
    if (since == 0) {
        apigw_rt_set_mark(env->set);
    }
    for (i = 0; i < deleted->nelts; i++) {
        apigw_rt_set_remove(env->set, APR_ARRAY_IDX(deleted, i, const char *));
    }
    for (i = 0; i < changed->nelts; i++) {
        apigw_rt_set_upsert(env->set, &APR_ARRAY_IDX(changed, i,
                                                     apigw_route_record));
    }
    if (since == 0) {
        apigw_rt_set_drop_unmarked(env->set);
    }
    if (since == 0 || changed->nelts || deleted->nelts) {
        b->snapshot_due = 1;
    }
    env->since = gen;
    env->synced_at = now;
    env->snap = 0;
    env->set_gen = gen;
    apr_atomic_set64(&env->st_refreshed, (apr_uint64_t)now);
    if (gen > b->gen) {
        b->gen = gen;
    }
    return NULL;
}

/* The keys of recs as a set in a pool of its own, waiting to be
 * published (replacing one that still waits). A key that does not load
 * is left out and said, by name: never by its hash. */
static void keys_stage(rt_builder *b, const apr_array_header_t *recs,
                       apr_int64_t version)
{
    apigw_apikey_set *set;
    apr_pool_t *kp;
    int i;

    if (apr_pool_create(&kp, b->pool) != APR_SUCCESS) {
        return;                    /* keys_version unchanged: next sync */
    }
    set = apigw_apikey_set_make(kp);
    for (i = 0; i < recs->nelts; i++) {
        const apigw_apikey_record *k = &APR_ARRAY_IDX(recs, i,
                                                      apigw_apikey_record);
        const char *why = apigw_apikey_add(kp, set, k->name, k->hash,
                                           *k->roles ? k->roles : NULL);
        if (why) {
            ap_log_error(APLOG_MARK, APLOG_ERR, 0, b->s, APIGW_LOGNO(00724)
                         "API keys: the stored key \"%s\" is not accepted: "
                         "%s", k->name, why);
        }
    }
    if (b->keys_pool) {
        apr_pool_destroy(b->keys_pool);
    }
    b->keys_pool = kp;
    b->keys_next = set;
    b->keys_version = version;
    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, b->s, "API keys: %d loaded "
                 "from the store (version %" APR_INT64_T_FMT ")",
                 apigw_apikey_count(set), version);
}

/* The store's API keys, read again only when a key was written since
 * they were last read (a route's write leaves their version alone). */
static const apigw_route_store_error *keys_sync(rt_builder *b,
                                                apr_pool_t *p)
{
    const apigw_route_store_error *err;
    apr_array_header_t *recs;
    apr_int64_t version = 0;

    err = apigw_route_store_apikeys_version(b->store, p, &version);
    if (err || version == b->keys_version) {
        return err;
    }
    err = apigw_route_store_apikeys_load(b->store, p, &version, &recs);
    if (!err) {
        keys_stage(b, recs, version);
    }
    return err;
}

/* Failures for less than SNAPSHOT_AFTER at startup are a store being
 * created by another process, not worth a word. */
static void store_lost(rt_builder *b, const apigw_route_store_error *err,
                       apr_time_t now)
{
    if (!b->failing_since) {
        b->failing_since = now;
    }
    if (!b->loaded) {
        if (now - b->failing_since < SNAPSHOT_AFTER) {
            return;
        }
        snapshot_load(b);
        b->loaded = 1;
    }
    if (!b->store_down) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, b->s, APIGW_LOGNO(00719)
                     "runtime routes: %s; serving the routes loaded last, "
                     "trying again every second", err->message);
    }
    b->store_down = 1;
}

static int builder_sync(rt_builder *b, apr_pool_t *p, apr_time_t now)
{
    const apigw_route_store_error *err = NULL;
    int i;

    if (!b->store) {
        apr_time_t t0 = apr_time_now();

        err = apigw_route_store_open(b->pool, store_spec, &b->store);
        b->opened_in = apr_time_now() - t0;
        if (err) {
            apr_atomic_set32(&b->st_store_ok, 0);
            store_lost(b, err, now);
            return !OK;
        }
    }
    for (i = 0; !err && i < b->envs->nelts; i++) {
        err = env_sync(b, APR_ARRAY_IDX(b->envs, i, rt_env *), p, now);
    }
    if (!err) {
        err = keys_sync(b, p);
    }
    if (err) {
        apr_atomic_set32(&b->st_store_ok, 0);
        store_lost(b, err, now);
        return !OK;
    }
    apr_atomic_set32(&b->st_store_ok, 1);
    b->loaded = 1;
    b->failing_since = 0;
    if (b->store_down) {
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, b->s, APIGW_LOGNO(00720)
                     "runtime routes: the store %s answers again",
                     apigw_route_store_name(b->store));
        b->store_down = 0;
    }
    return OK;
}

/* The loaded key set, when one waits, made current; the sets no lookup
 * holds any more freed. */
static void keys_publish(rt_builder *b)
{
    apigw_apikeys_sweep(b->keys);
    if (b->keys_pool
        && apigw_apikeys_publish(b->keys, b->keys_pool, b->keys_next)) {
        b->keys_pool = NULL;       /* the table's now */
        b->keys_next = NULL;
    }
}

/* env's table just published, for apigw_rt_serve_stats. */
static void stats_published(rt_env *env)
{
    apr_atomic_set64(&env->st_routes,
                     (apr_uint64_t)apigw_rt_set_served(env->set));
    apr_atomic_set64(&env->st_gen, (apr_uint64_t)env->set_gen);
    apr_atomic_set32(&env->st_snapshot, env->snap ? 1 : 0);
    apr_atomic_set32(&env->st_published, 1);
}

static void publish_all(rt_builder *b)
{
    int i;

    keys_publish(b);
    /* nothing before the first load: requests wait for it */
    if (!b->loaded) {
        return;
    }
    b->pending = 0;
    for (i = 0; i < b->envs->nelts; i++) {
        rt_env *env = APR_ARRAY_IDX(b->envs, i, rt_env *);
        apigw_rt_set_sweep(env->set);
        if (!apigw_rt_set_publish(env->set)) {
            b->pending = 1;        /* every slot held: next round */
        }
        else {
            stats_published(env);
        }
    }
}

/* The child's first tables, timed: what a start on a large store costs.
 * Their build is reading every route and compiling and publishing them;
 * opening the store (a connection, the schema's checks) comes before. */
static void first_built(rt_builder *b, apr_time_t began, apr_time_t read_at)
{
    apr_time_t done = apr_time_now();
    apr_interval_time_t open = b->opened_in < read_at - began
                               ? b->opened_in : 0;
    int i, routes = 0;

    for (i = 0; i < b->envs->nelts; i++) {
        routes += apigw_rt_set_count(APR_ARRAY_IDX(b->envs, i,
                                                   rt_env *)->set);
    }
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, b->s, APIGW_LOGNO(00725)
                 "runtime routes: first tables built: %d route(s) in %d "
                 "environment(s) in %" APR_TIME_T_FMT " ms (reading the "
                 "store %" APR_TIME_T_FMT " ms, compiling %" APR_TIME_T_FMT
                 " ms), after opening the store in %" APR_TIME_T_FMT " ms",
                 routes, b->envs->nelts,
                 apr_time_as_msec(done - began - open),
                 apr_time_as_msec(read_at - began - open),
                 apr_time_as_msec(done - read_at), apr_time_as_msec(open));
}

static void *APR_THREAD_FUNC builder_main(apr_thread_t *thread, void *data)
{
    rt_builder *b = data;
    apr_uint32_t seen = 0, g;
    apr_time_t now;
    apr_time_t read_at;
    apr_pool_t *p;
    int first = 1, timed = 0, due;

    apr_pool_create(&p, b->pool);
    while (!apr_atomic_read32(&b->stopping)) {
        now = apr_time_now();
        g = apr_atomic_read32(&shared->generation);
        due = first || g != seen || b->pending
              || (b->retry_at && now >= b->retry_at)
              || (poll_self && now >= b->next_poll);

        if (due) {
            /* read before syncing: a write during the sync bumps it again */
            seen = g;
            first = 0;
            b->next_poll = now + refresh;
            b->retry_at = builder_sync(b, p, now) == OK ? 0 : now + RETRY_AFTER;
            read_at = apr_time_now();
            publish_all(b);
            if (!timed && b->loaded) {
                first_built(b, now, read_at);
                timed = 1;
            }
            apr_pool_clear(p);
        }
        else {
            publish_all(b);        /* sweeps; publishes nothing new */
        }
        if (b->snapshot_due) {
            snapshot_maybe(b, p, now);
            apr_pool_clear(p);
        }
        apr_sleep(APIGW_RT_POLL);
    }
    apigw_route_store_close(b->store);
    b->store = NULL;
    /* returns rather than apr_thread_exit: the thread's pool goes with
     * pchild, and ASan takes pthread_exit's unwinding for stack misuse */
    (void)thread;
    return NULL;
}

/* The watchdog's callback, in one child. */
static apr_status_t poll_store(int state, void *data, apr_pool_t *pool)
{
    static apigw_route_store *st;
    static apr_pool_t *sp;
    static rt_snap_clock snap_clock = { -1, -1, 0, 0 };
    static int snap_warned;
    server_rec *s = data;
    const apigw_route_store_error *err;
    apr_int64_t gen;
    apr_pool_t *p;

    if (state == AP_WATCHDOG_STATE_STOPPING) {
        if (sp) {
            apr_pool_destroy(sp);
        }
        sp = NULL;
        st = NULL;
        return APR_SUCCESS;
    }
    if (state != AP_WATCHDOG_STATE_RUNNING || !shared) {
        return APR_SUCCESS;
    }
    /* pool is the watchdog's, cleared between calls: the connection
     * needs a pool of its own, gone when the watchdog stops */
    if (!sp && apr_pool_create_unmanaged_ex(&sp, NULL, NULL)
               != APR_SUCCESS) {
        sp = NULL;
        return APR_SUCCESS;
    }
    (void)pool;
    apr_pool_create(&p, sp);
    err = st ? NULL : apigw_route_store_open(sp, store_spec, &st);
    if (!err) {
        err = apigw_route_store_generation(st, p, &gen);
    }
    if (!err && (apr_uint64_t)gen != apr_atomic_read64(&shared->store_gen)) {
        apr_atomic_set64(&shared->store_gen, (apr_uint64_t)gen);
        apr_atomic_inc32(&shared->generation);
    }
    /* the snapshot, here rather than in a builder: a full dump of 10,000
     * routes takes a builder away from following changes for 0.1-0.3 s */
    if (!err && snapshot_path
        && snap_clock_due(&snap_clock, gen, apr_time_now())) {
        apr_array_header_t *recs;

        err = apigw_route_store_list(st, p, NULL, &recs);
        if (!err) {
            snapshot_write(s, p, gen, recs, &snap_warned);
            snap_clock_written(&snap_clock, gen, apr_time_now());
        }
    }
    if (err) {
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, "runtime routes: "
                     "polling the store: %s", err->message);
    }
    apr_pool_destroy(p);
    return APR_SUCCESS;
}

/* ---- the child ---- */

static apr_status_t builder_stop(void *data)
{
    rt_builder *b = data;
    apr_status_t rv;

    if (b->thread) {
        apr_atomic_set32(&b->stopping, 1);
        apr_thread_join(&rv, b->thread);
        b->thread = NULL;
    }
    return APR_SUCCESS;
}

static rt_env *env_make(rt_builder *b, apr_pool_t *pchild, server_rec *s,
                        const char *name)
{
    const apigw_server_conf *sc = ap_get_module_config(s->module_config,
                                                       &apigw_module);
    const apigw_dir_conf *sdc = ap_get_module_config(s->lookup_defaults,
                                                     &apigw_module);
    rt_env *env = apr_pcalloc(pchild, sizeof(*env));

    env->name = name;
    env->cx.s = s;
    env->cx.server_policy = sdc ? sdc->policy : NULL;
    env->cx.server_timeout = apigw_server_timeout(sc);
    env->cx.worker = worker_for;
    env->cx.worker_ctx = b;
    env->cx.checks = NULL;         /* prepare checks them itself */
    env->cx.rl_prepare = rl_prepare;
    env->cx.cb_prepare = cb_prepare;
    env->set = apigw_rt_set_make(pchild, compile_route, report_route, env);
    return env->set ? env : NULL;
}

static int envs_make(rt_builder *b, apr_pool_t *pchild, server_rec *main_s)
{
    server_rec *s;

    for (s = main_s; s; s = s->next) {
        apigw_server_conf *sc = ap_get_module_config(s->module_config,
                                                     &apigw_module);
        const char *name = sc->environment ? sc->environment
                                           : APIGW_ROUTE_STORE_DEFAULT_ENV;
        rt_env *env = env_named(b, name);

        if (!env) {
            if (!(env = env_make(b, pchild, s, name))) {
                return !OK;
            }
            APR_ARRAY_PUSH(b->envs, rt_env *) = env;
        }
        sc->rt_env = env;
    }
    return OK;
}

static apr_status_t own_pool(apr_pool_t **out, apr_pool_t *parent,
                             int with_mutex)
{
    apr_allocator_t *alloc;
    apr_thread_mutex_t *mutex;
    apr_status_t rv = apr_allocator_create(&alloc);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    if ((rv = apr_pool_create_ex(out, parent, NULL, alloc)) != APR_SUCCESS) {
        apr_allocator_destroy(alloc);
        return rv;
    }
    apr_allocator_owner_set(alloc, *out);
    if (with_mutex) {
        rv = apr_thread_mutex_create(&mutex, APR_THREAD_MUTEX_DEFAULT, *out);
        if (rv == APR_SUCCESS) {
            apr_allocator_mutex_set(alloc, mutex);
        }
    }
    return rv;
}

void apigw_rt_serve_child_init(apr_pool_t *pchild, server_rec *s)
{
    rt_builder *b;
    apr_status_t rv;

    builder = NULL;
    first_wait_over = 0;
    keys_wait_over = 0;
    retrieve_fns();
    if (!serving || !shared) {
        return;
    }
    b = apr_pcalloc(pchild, sizeof(*b));
    b->s = s;
    snap_clock_init(&b->snapshot_clock);
    b->envs = apr_array_make(pchild, 2, sizeof(rt_env *));
    b->keys = apigw_apikeys_make(pchild);
    b->keys_version = -1;
    /* the builder's pool is its own; the workers' is shared with request
     * threads through mod_proxy's connection pools: it has a mutex */
    rv = own_pool(&b->pool, pchild, 0);
    if (rv == APR_SUCCESS) {
        rv = own_pool(&b->wpool, pchild, 1);
    }
    if (rv == APR_SUCCESS) {
        b->workers = apr_hash_make(b->wpool);
        rv = envs_make(b, pchild, s) == OK ? APR_SUCCESS : APR_ENOMEM;
    }
    if (rv == APR_SUCCESS) {
        /* runs before the sets' cleanups: the thread stops first */
        apr_pool_pre_cleanup_register(pchild, b, builder_stop);
        rv = apr_thread_create(&b->thread, NULL, builder_main, b, pchild);
    }
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, APIGW_LOGNO(00721)
                     "runtime routes: cannot start this child's route "
                     "builder; it serves no runtime route");
        return;
    }
    builder = b;
}

apr_array_header_t *apigw_rt_serve_stats(apr_pool_t *p, server_rec *s)
{
    rt_builder *b = builder;
    apr_array_header_t *out = apr_array_make(p, b ? b->envs->nelts : 1,
                                             sizeof(apigw_rt_env_stats));
    int i;

    (void)s;                       /* one builder serves every host */
    for (i = 0; b && i < b->envs->nelts; i++) {
        rt_env *env = APR_ARRAY_IDX(b->envs, i, rt_env *);
        apigw_rt_env_stats *st = apr_array_push(out);

        st->environment = env->name;
        st->routes = apr_atomic_read64(&env->st_routes);
        st->generation = apr_atomic_read64(&env->st_gen);
        st->refreshed = (apr_time_t)apr_atomic_read64(&env->st_refreshed);
        st->store_ok = apr_atomic_read32(&b->st_store_ok) != 0;
        st->from_snapshot = apr_atomic_read32(&env->st_snapshot) != 0;
        st->published = apr_atomic_read32(&env->st_published) != 0;
    }
    return out;
}

void apigw_rt_serve_changed(void)
{
    if (shared) {
        apr_atomic_inc32(&shared->generation);
    }
}

/* ---- requests ---- */

/* A new child's first table is being built (after a restart, or when a
 * child replaces another): its first requests wait for it rather than
 * miss a runtime route, up to FIRST_TABLE_WAIT (past the snapshot's
 * delay when the store is down). */
static apigw_rt_table *first_table(apigw_rt_set *set)
{
    apr_time_t until;
    apigw_rt_table *t = NULL;

    if (apr_atomic_read32(&first_wait_over)) {
        return NULL;
    }
    until = apr_time_now() + FIRST_TABLE_WAIT;
    while (!(t = apigw_rt_table_acquire(set)) && apr_time_now() < until) {
        apr_sleep(apr_time_from_msec(1));
    }
    if (!t) {
        apr_atomic_set32(&first_wait_over, 1);
    }
    return t;
}

static apr_status_t table_release(void *data)
{
    apigw_rt_table_release(data);
    return APR_SUCCESS;
}

apigw_route_status apigw_rt_serve_match(request_rec *r, const char *method,
                                        apigw_route_match *m)
{
    const apigw_server_conf *sc = ap_get_module_config(r->server->module_config,
                                                       &apigw_module);
    apigw_rt_table *t;
    apigw_route_status st;

    if (!builder || !sc->rt_env) {
        return APIGW_ROUTE_NONE;
    }
    if (!(t = apigw_rt_table_acquire(sc->rt_env->set))
        && !(t = first_table(sc->rt_env->set))) {
        return APIGW_ROUTE_NONE;
    }
    st = apigw_rt_table_match(t, r->uri, method, r->pool, m);
    if (st == APIGW_ROUTE_NONE) {
        apigw_rt_table_release(t);
        return st;
    }
    apr_pool_cleanup_register(r->pool, t, table_release,
                              apr_pool_cleanup_null);
    return st;
}

int apigw_rt_serve_each(request_rec *r, apigw_rt_table_each_fn *fn,
                        void *ctx, const char **environment)
{
    const apigw_server_conf *sc = ap_get_module_config(r->server->module_config,
                                                       &apigw_module);
    apigw_rt_table *t;
    int rc;

    *environment = NULL;
    if (!builder || !sc->rt_env) {
        return 0;
    }
    *environment = sc->rt_env->name;
    if (!(t = apigw_rt_table_acquire(sc->rt_env->set))
        && !(t = first_table(sc->rt_env->set))) {
        return 0;
    }
    rc = apigw_rt_table_each(t, fn, ctx);
    apigw_rt_table_release(t);
    return rc;
}

/* A new child's first key lookups wait for its first key set, as its
 * first requests wait for its first route table: a valid key is not
 * refused because the child is young. */
static int keys_ready(apigw_apikeys *keys)
{
    apr_time_t until;

    if (apigw_apikeys_published(keys)) {
        return 1;
    }
    if (apr_atomic_read32(&keys_wait_over)) {
        return 0;
    }
    until = apr_time_now() + FIRST_TABLE_WAIT;
    while (!apigw_apikeys_published(keys) && apr_time_now() < until) {
        apr_sleep(apr_time_from_msec(1));
    }
    if (!apigw_apikeys_published(keys)) {
        apr_atomic_set32(&keys_wait_over, 1);
        return 0;
    }
    return 1;
}

const apigw_apikey *apigw_store_apikey_find(request_rec *r, const char *key,
                                            apr_size_t len)
{
    rt_builder *b = builder;

    if (!b || !key || !keys_ready(b->keys)) {
        return NULL;
    }
    return apigw_apikeys_find(b->keys, r->pool, key, len);
}

void apigw_rt_serve_attach(request_rec *r, const apigw_endpoint *ep)
{
    if (ep->rt_limit && rl_attach) {
        rl_attach(r, ep->rt_limit);
    }
    if (ep->rt_breaker && cb_attach) {
        cb_attach(r, ep->rt_breaker);
    }
}

/* ---- the admin API's collision check ---- */

static int has_method(const apr_array_header_t *methods, const char *m)
{
    int i;

    for (i = 0; i < methods->nelts; i++) {
        if (strcmp(APR_ARRAY_IDX(methods, i, const char *), m) == 0) {
            return 1;
        }
    }
    return 0;
}

static const char *endpoint_collision(apr_pool_t *p, const apigw_endpoint *ep,
                                      const char *shape,
                                      const apigw_rt_route *route)
{
    int i;

    if (strcmp(apigw_route_shape(p, ep->pattern), shape) != 0) {
        return NULL;
    }
    for (i = 0; i < route->methods->nelts; i++) {
        const char *m = APR_ARRAY_IDX(route->methods, i, const char *);

        /* a GET endpoint answers HEAD too */
        if (has_method(ep->methods, m)
            || (strcmp(m, "HEAD") == 0 && has_method(ep->methods, "GET"))) {
            return apr_psprintf(p, "%s %s collides with <ApiEndpoint \"%s\"> "
                                "(%s:%u), which is served first", m,
                                route->path, ep->pattern, ep->file, ep->line);
        }
    }
    return NULL;
}

const char *apigw_rt_serve_static_collision(apr_pool_t *p, server_rec *main_s,
                                            const apigw_rt_route *route)
{
    const char *shape = apigw_route_shape(p, route->path);
    server_rec *s;
    int i;

    for (s = main_s; s; s = s->next) {
        const apigw_server_conf *sc = ap_get_module_config(s->module_config,
                                                           &apigw_module);
        const char *env = sc->environment ? sc->environment
                                          : APIGW_ROUTE_STORE_DEFAULT_ENV;
        const char *why;

        /* the main server's endpoints are every host's too */
        if (s != main_s && strcmp(env, route->environment) != 0) {
            continue;
        }
        for (i = 0; i < sc->endpoints->nelts; i++) {
            why = endpoint_collision(p, APR_ARRAY_IDX(sc->endpoints, i,
                                                      apigw_endpoint *),
                                     shape, route);
            if (why) {
                return why;
            }
        }
    }
    return NULL;
}
