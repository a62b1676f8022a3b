/* The gateway's Prometheus metrics (see apigw_metrics.h): ApiMetrics,
 * the shared segment and its layout, the request path's counting (in
 * flight at the route match, the rest at log_transaction) and the
 * apigw-metrics handler that writes every family (apigw_metrics_text.c).
 * Change LAYOUT_MAGIC with the layout: a retained segment of the old one
 * must not be kept by a reloaded module. */
#include "apigw_metrics.h"
#include "apigw_metrics_text.h"
#include "apigw_contract.h"
#include "apigw_json_error.h"
#include "apigw_policy_conf.h"
#include "apigw_route_store.h"
#include "apigw_rt_serve.h"
#include "apigw_shm.h"
#include "apigw_log.h"

#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "apr_hash.h"
#include "apr_strings.h"

#include <jansson.h>
#include <string.h>

#define RETAINED_KEY "apigw_metrics_shm"
#define LAYOUT_MAGIC 0x4147574d45545232ULL  /* "AGWMETR2" */
#define KEY_BUSY (1ULL << 63)

#define NMETHODS 8
#define NCLASSES 5
#define NBOUNDS 11

static const char *const method_names[NMETHODS] = {
    "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "other"
};
static const char *const bounds[NBOUNDS] = {
    "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1.0", "2.5",
    "5.0", "10.0"
};
static const apr_interval_time_t bound_us[NBOUNDS] = {
    5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000,
    5000000, 10000000
};

/* One endpoint and method's numbers. */
typedef struct {
    apr_uint64_t requests[NCLASSES];      /* 1xx .. 5xx */
    apr_uint64_t duration[NBOUNDS + 1];   /* per bucket, not cumulative */
    apr_uint64_t duration_sum_us;
    apr_uint64_t backend[NBOUNDS + 1];
    apr_uint64_t backend_sum_us;
    apr_uint64_t bytes_in;
    apr_uint64_t bytes_out;
    apr_uint64_t in_flight;               /* read as signed */
} m_series;

typedef struct {
    m_series by_method[NMETHODS];
} m_slot;

/* A runtime route's slot: key 0 free, KEY_BUSY set while its labels are
 * written; slots are never given back. */
typedef struct {
    apr_uint64_t key;
    char environment[64];
    char route_id[128];
    char endpoint[256];
    m_slot s;
} m_route;

typedef struct {
    apr_uint64_t magic;
    apr_uint64_t fingerprint;             /* the static patterns, in order */
    apr_uint64_t nstatic;
    apr_uint64_t nroutes;
    apr_uint64_t cache[APIGW_METRICS_CACHE_EVENTS];
    apr_uint64_t agg_calls;
    apr_uint64_t agg_partial;
    apr_uint64_t trace_exported;          /* requests' spans (ApiTraceExport) */
    apr_uint64_t trace_dropped;
    m_slot overflow;                      /* runtime routes past the pool */
    /* then m_slot statics[nstatic], m_route routes[nroutes] */
} m_head;

/* this generation's segment and the static slots' labels (the parent's,
 * inherited by every child) */
static m_head *seg;
static m_slot *statics;
static m_route *routes;
static const char **static_patterns;
static unsigned *static_methods;          /* bit i: method_names[i] */
static int nstatic;
static int metrics_off;                   /* ApiMetrics Off */

static void add(apr_uint64_t *c, apr_uint64_t n)
{
    __atomic_fetch_add(c, n, __ATOMIC_RELAXED);
}

static apr_uint64_t get(const apr_uint64_t *c)
{
    return __atomic_load_n(c, __ATOMIC_RELAXED);
}

static int method_index(const char *m)
{
    int i;

    for (i = 0; i < NMETHODS - 1; i++) {
        if (strcmp(m, method_names[i]) == 0) {
            return i;
        }
    }
    return NMETHODS - 1;
}

/* FNV-1a over s and its NUL */
static apr_uint64_t fnv(apr_uint64_t h, const char *s)
{
    do {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ULL;
    } while (*s++);
    return h;
}

/* ---- configuration ---- */

static apr_status_t metrics_on_again(void *data)
{
    (void)data;
    metrics_off = 0;                /* the next configuration decides */
    return APR_SUCCESS;
}

const char *apigw_metrics_set(cmd_parms *cmd, void *dconf, int on)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);

    (void)dconf;
    if (err) {
        return err;
    }
    metrics_off = !on;
    apr_pool_cleanup_register(cmd->pool, NULL, metrics_on_again,
                              apr_pool_cleanup_null);
    return NULL;
}

/* ---- post_config ---- */

/* Numbers every server's endpoints: one slot per distinct pattern
 * (hosts declaring the same pattern share its series). */
static apr_uint64_t number_endpoints(apr_pool_t *p, server_rec *main_s)
{
    apr_hash_t *seen = apr_hash_make(p);
    apr_array_header_t *pats = apr_array_make(p, 16, sizeof(const char *));
    apr_array_header_t *masks = apr_array_make(p, 16, sizeof(unsigned));
    apr_uint64_t h = 0xcbf29ce484222325ULL;
    server_rec *s;
    int i, j;

    for (s = main_s; s; s = s->next) {
        apigw_server_conf *sc = ap_get_module_config(s->module_config,
                                                     &apigw_module);

        for (i = 0; sc->endpoints && i < sc->endpoints->nelts; i++) {
            apigw_endpoint *ep = APR_ARRAY_IDX(sc->endpoints, i,
                                               apigw_endpoint *);
            int *idx = apr_hash_get(seen, ep->pattern, APR_HASH_KEY_STRING);
            unsigned mask = 0;

            if (!idx) {
                idx = apr_palloc(p, sizeof(*idx));
                *idx = pats->nelts;
                apr_hash_set(seen, ep->pattern, APR_HASH_KEY_STRING, idx);
                APR_ARRAY_PUSH(pats, const char *) = ep->pattern;
                APR_ARRAY_PUSH(masks, unsigned) = 0;
                h = fnv(h, ep->pattern);
            }
            for (j = 0; ep->methods && j < ep->methods->nelts; j++) {
                mask |= 1u << method_index(APR_ARRAY_IDX(ep->methods, j,
                                                         const char *));
            }
            APR_ARRAY_IDX(masks, *idx, unsigned) |= mask ? mask : 1u;
            ep->metrics_index = *idx + 1;
        }
    }
    static_patterns = (const char **)pats->elts;
    static_methods = (unsigned *)masks->elts;
    nstatic = pats->nelts;
    return h;
}

static apr_size_t segment_bytes(apr_uint64_t ns, apr_uint64_t nr)
{
    return sizeof(m_head) + (apr_size_t)ns * sizeof(m_slot)
           + (apr_size_t)nr * sizeof(m_route);
}

static void lay_out(m_head *h)
{
    statics = (m_slot *)(h + 1);
    routes = (m_route *)(statics + h->nstatic);
    seg = h;
}

int apigw_metrics_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                              apr_pool_t *ptemp, server_rec *s)
{
    apr_shm_t **shm;
    apr_uint64_t fp;
    apr_size_t bytes;
    apr_status_t rv;
    m_head *h;

    (void)plog;
    (void)ptemp;
    seg = NULL;
    fp = number_endpoints(pconf, s);
    /* the first pass at startup only checks the configuration */
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG
        || metrics_off) {
        return OK;                  /* a retained segment waits, unused */
    }
    bytes = segment_bytes((apr_uint64_t)nstatic, APIGW_METRICS_ROUTE_SLOTS);
    shm = apigw_shm_retained(RETAINED_KEY);
    if (*shm && apr_shm_size_get(*shm) == bytes) {
        h = apr_shm_baseaddr_get(*shm);
        if (h->magic == LAYOUT_MAGIC && h->fingerprint == fp
            && h->nstatic == (apr_uint64_t)nstatic
            && h->nroutes == APIGW_METRICS_ROUTE_SLOTS) {
            lay_out(h);
            ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, APIGW_LOGNO(00900)
                         "metrics: %d endpoint patterns, counters kept from "
                         "the previous generation", nstatic);
            return OK;
        }
    }
    if ((rv = apigw_shm_renew(shm, bytes, s)) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, APIGW_LOGNO(00901)
                     "metrics: cannot create %" APR_SIZE_T_FMT " bytes of "
                     "shared memory for the counters", bytes);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    h = apr_shm_baseaddr_get(*shm);
    memset(h, 0, bytes);
    h->magic = LAYOUT_MAGIC;
    h->fingerprint = fp;
    h->nstatic = (apr_uint64_t)nstatic;
    h->nroutes = APIGW_METRICS_ROUTE_SLOTS;
    lay_out(h);
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, APIGW_LOGNO(00902)
                 "metrics: %d endpoint patterns and %d runtime route slots "
                 "in %" APR_SIZE_T_FMT " bytes of new shared memory",
                 nstatic, APIGW_METRICS_ROUTE_SLOTS, bytes);
    return OK;
}

/* ---- runtime routes' slots ---- */

static const char *environment_of(const request_rec *r)
{
    const apigw_server_conf *sc = ap_get_module_config(r->server->module_config,
                                                       &apigw_module);

    return sc->environment ? sc->environment : APIGW_ROUTE_STORE_DEFAULT_ENV;
}

typedef struct {
    char environment[sizeof(((m_route *)0)->environment)];
    char route_id[sizeof(((m_route *)0)->route_id)];
    char endpoint[sizeof(((m_route *)0)->endpoint)];
} route_labels;

static int labels_equal(const m_route *m, const route_labels *l)
{
    return strcmp(m->environment, l->environment) == 0
           && strcmp(m->route_id, l->route_id) == 0
           && strcmp(m->endpoint, l->endpoint) == 0;
}

/* The slot (index + 1, as metrics_index) of a runtime route, claimed in
 * the pool when it has none yet; 0 when the pool is full (the overflow
 * series, for good). */
static int claim_route(const request_rec *r, const apigw_endpoint *ep)
{
    apr_uint64_t n = seg->nroutes, key, start, i;
    route_labels l;
    int spins = 0;

    apr_cpystrn(l.environment, environment_of(r), sizeof(l.environment));
    apr_cpystrn(l.route_id, ep->route_id, sizeof(l.route_id));
    apr_cpystrn(l.endpoint, ep->pattern, sizeof(l.endpoint));
    key = fnv(fnv(fnv(0xcbf29ce484222325ULL, l.environment), l.route_id),
              l.endpoint) & ~KEY_BUSY;
    key = key ? key : 1;
    start = key % n;
    for (i = 0; i < n; i++) {
        m_route *m = &routes[(start + i) % n];
        apr_uint64_t k = __atomic_load_n(&m->key, __ATOMIC_ACQUIRE);

        if (k == 0) {
            if (!__atomic_compare_exchange_n(&m->key, &k, key | KEY_BUSY, 0,
                                             __ATOMIC_ACQ_REL,
                                             __ATOMIC_ACQUIRE)) {
                i--;                /* taken meanwhile: look at it again */
                continue;
            }
            memcpy(m->environment, l.environment, sizeof(l.environment));
            memcpy(m->route_id, l.route_id, sizeof(l.route_id));
            memcpy(m->endpoint, l.endpoint, sizeof(l.endpoint));
            __atomic_store_n(&m->key, key, __ATOMIC_RELEASE);
            return (int)((start + i) % n) + 1;
        }
        if (k & KEY_BUSY) {
            /* labels being written (ours, perhaps): wait for them, 10 ms
             * at most; a slot left busy by a child that died meanwhile is
             * passed over for good */
            if (++spins <= 100) {
                apr_sleep(100);
                i--;
            }
            else {
                spins = 0;
            }
            continue;
        }
        if (k == key && labels_equal(m, &l)) {
            return (int)((start + i) % n) + 1;
        }
    }
    return 0;
}

static m_slot *slot_of(const request_rec *r, apigw_endpoint *ep)
{
    int idx;

    if (!ep->route_id) {
        return ep->metrics_index > 0 && ep->metrics_index <= nstatic
               ? &statics[ep->metrics_index - 1] : NULL;
    }
    /* a runtime endpoint (this child's): its slot found once */
    idx = __atomic_load_n(&ep->metrics_index, __ATOMIC_RELAXED);
    if (idx == 0) {
        idx = claim_route(r, ep);
        idx = idx ? idx : -1;
        __atomic_store_n(&ep->metrics_index, idx, __ATOMIC_RELAXED);
    }
    return idx > 0 ? &routes[idx - 1].s : &seg->overflow;
}

/* ---- the request path ---- */

static apr_status_t in_flight_done(void *data)
{
    __atomic_fetch_sub((apr_uint64_t *)data, 1, __ATOMIC_RELAXED);
    return APR_SUCCESS;
}

void apigw_metrics_begin(request_rec *r, apigw_request *rq)
{
    m_slot *slot;
    m_series *ms;

    if (!seg || r->main || !rq->endpoint
        || !(slot = slot_of(r, rq->endpoint))) {
        return;                     /* a subrequest is not a request */
    }
    ms = &slot->by_method[method_index(r->method)];
    rq->metrics = ms;
    add(&ms->in_flight, 1);
    apr_pool_cleanup_register(r->pool, &ms->in_flight, in_flight_done,
                              apr_pool_cleanup_null);
}

static int bucket_of(apr_interval_time_t us)
{
    int i = 0;

    while (i < NBOUNDS && us > bound_us[i]) {
        i++;
    }
    return i;
}

static void observe(apr_uint64_t *buckets, apr_uint64_t *sum,
                    apr_interval_time_t us)
{
    us = us < 0 ? 0 : us;
    add(&buckets[bucket_of(us)], 1);
    add(sum, (apr_uint64_t)us);
}

/* The request body's size: what httpd read of it, else, once a backend
 * was called, its declared Content-Length (mod_proxy reads bodies without
 * counting them; a request refused or answered before has sent nothing,
 * and a body cannot be larger than httpd's own limit). */
static apr_uint64_t bytes_in(const request_rec *r, const apigw_request *rq)
{
    const char *cl = apr_table_get(r->headers_in, "Content-Length");
    apr_off_t n = 0, most = (apr_off_t)ap_get_limit_req_body(r);
    char *end;

    if (rq->backend_start && cl
        && apr_strtoff(&n, cl, &end, 10) == APR_SUCCESS && !*end
        && n > r->read_length) {
        return (apr_uint64_t)(most > 0 && n > most ? most : n);
    }
    return r->read_length > 0 ? (apr_uint64_t)r->read_length : 0;
}

int apigw_metrics_log(request_rec *r)
{
    request_rec *q, *last = r;
    apigw_request *rq = NULL;
    m_series *ms;
    int status, cls;

    for (q = r; q; q = q->next) {
        apigw_request *x = apigw_request_get(q);

        if (!rq && x && x->metrics) {
            rq = x;
        }
        last = q;
    }
    if (!rq || !seg) {
        return DECLINED;
    }
    ms = rq->metrics;
    status = apigw_outcome_status(last);
    cls = status >= 100 && status <= 599 ? status / 100 : 5;
    add(&ms->requests[cls - 1], 1);
    observe(ms->duration, &ms->duration_sum_us,
            apr_time_now() - r->request_time);
    if (rq->backend_start && rq->backend_end >= rq->backend_start) {
        observe(ms->backend, &ms->backend_sum_us,
                rq->backend_end - rq->backend_start);
    }
    add(&ms->bytes_in, bytes_in(r, rq));
    add(&ms->bytes_out, last->bytes_sent > 0 ? (apr_uint64_t)last->bytes_sent
                                             : 0);
    return DECLINED;
}

void apigw_metrics_cache(apigw_metrics_cache_event e)
{
    if (seg && (int)e >= 0 && (int)e < (int)APIGW_METRICS_CACHE_EVENTS) {
        add(&seg->cache[e], 1);
    }
}

void apigw_metrics_agg_calls(int n)
{
    if (seg && n > 0) {
        add(&seg->agg_calls, (apr_uint64_t)n);
    }
}

void apigw_metrics_trace(apr_uint64_t exported, apr_uint64_t dropped)
{
    if (seg) {
        add(&seg->trace_exported, exported);
        add(&seg->trace_dropped, dropped);
    }
}

void apigw_metrics_agg_partial(void)
{
    if (seg) {
        add(&seg->agg_partial, 1);
    }
}

/* ---- the scrape: endpoint families ---- */

typedef struct {
    const m_series *ms;
    const char *labels;             /* endpoint, method, route_id, env */
} row;

static int series_active(const m_series *ms)
{
    int i;

    for (i = 0; i < NCLASSES; i++) {
        if (get(&ms->requests[i])) {
            return 1;
        }
    }
    return get(&ms->in_flight) != 0;
}

static void push_rows(apr_pool_t *p, apr_array_header_t *rows,
                      const m_slot *slot, unsigned always,
                      const char *endpoint, const char *route_id,
                      const char *environment)
{
    static const char *const names[] = { "endpoint", "method", "route_id",
                                         "environment" };
    int m;

    for (m = 0; m < NMETHODS; m++) {
        const char *values[4];
        row *w;

        if (!(always & (1u << m)) && !series_active(&slot->by_method[m])) {
            continue;
        }
        values[0] = endpoint;
        values[1] = method_names[m];
        values[2] = route_id;
        values[3] = environment;
        w = apr_array_push(rows);
        w->ms = &slot->by_method[m];
        w->labels = apigw_mtext_labels(p, names, values, 4);
    }
}

static apr_array_header_t *endpoint_rows(apr_pool_t *p)
{
    apr_array_header_t *rows = apr_array_make(p, nstatic + 16, sizeof(row));
    apr_uint64_t i;
    int k;

    for (k = 0; k < nstatic; k++) {
        push_rows(p, rows, &statics[k], static_methods[k], static_patterns[k],
                  "", "");
    }
    for (i = 0; i < seg->nroutes; i++) {
        const m_route *m = &routes[i];
        apr_uint64_t key = __atomic_load_n(&m->key, __ATOMIC_ACQUIRE);

        if (key && !(key & KEY_BUSY)) {
            push_rows(p, rows, &m->s, 0, m->endpoint, m->route_id,
                      m->environment);
        }
    }
    /* runtime routes past the pool: one series, route_id "(overflow)" */
    push_rows(p, rows, &seg->overflow, 0, "", "(overflow)", "");
    return rows;
}

static void histogram_rows(apigw_mtext *t, const char *name,
                           const apr_array_header_t *rows, int backend)
{
    apr_uint64_t counts[NBOUNDS + 1];
    int i, b;

    for (i = 0; i < rows->nelts; i++) {
        const row *w = &APR_ARRAY_IDX(rows, i, row);
        const apr_uint64_t *src = backend ? w->ms->backend : w->ms->duration;

        for (b = 0; b <= NBOUNDS; b++) {
            counts[b] = get(&src[b]);
        }
        apigw_mtext_histogram(t, name, w->labels, bounds, NBOUNDS, counts,
                              get(backend ? &w->ms->backend_sum_us
                                          : &w->ms->duration_sum_us));
    }
}

static void endpoint_families(apr_pool_t *p, apigw_mtext *t)
{
    static const char *const classes[NCLASSES] = {
        "code_class=\"1xx\"", "code_class=\"2xx\"", "code_class=\"3xx\"",
        "code_class=\"4xx\"", "code_class=\"5xx\""
    };
    apr_array_header_t *rows = endpoint_rows(p);
    int i, c;

    apigw_mtext_family(t, "apigw_requests", APIGW_MTYPE_COUNTER,
                       "Requests an endpoint answered, by status class "
                       "(the status the client got; gRPC: its grpc-status "
                       "as HTTP).");
    for (i = 0; i < rows->nelts; i++) {
        const row *w = &APR_ARRAY_IDX(rows, i, row);

        for (c = 0; c < NCLASSES; c++) {
            apigw_mtext_counter(t, "apigw_requests", w->labels, classes[c],
                                get(&w->ms->requests[c]));
        }
    }
    apigw_mtext_family(t, "apigw_request_duration_seconds",
                       APIGW_MTYPE_HISTOGRAM, "Whole requests, from their "
                       "first line read to their logging.");
    histogram_rows(t, "apigw_request_duration_seconds", rows, 0);
    apigw_mtext_family(t, "apigw_backend_duration_seconds",
                       APIGW_MTYPE_HISTOGRAM, "Time in the backend exchange "
                       "(mod_proxy's run, or an aggregation's calls and "
                       "answer).");
    histogram_rows(t, "apigw_backend_duration_seconds", rows, 1);
    apigw_mtext_family(t, "apigw_requests_in_flight", APIGW_MTYPE_GAUGE,
                       "Requests matched to the endpoint and not finished.");
    for (i = 0; i < rows->nelts; i++) {
        const row *w = &APR_ARRAY_IDX(rows, i, row);

        apigw_mtext_gauge(t, "apigw_requests_in_flight", w->labels, NULL,
                          (apr_int64_t)get(&w->ms->in_flight));
    }
    apigw_mtext_family(t, "apigw_request_bytes", APIGW_MTYPE_COUNTER,
                       "Request body bytes (read, or as Content-Length "
                       "declared).");
    for (i = 0; i < rows->nelts; i++) {
        const row *w = &APR_ARRAY_IDX(rows, i, row);

        apigw_mtext_counter(t, "apigw_request_bytes", w->labels, NULL,
                            get(&w->ms->bytes_in));
    }
    apigw_mtext_family(t, "apigw_response_bytes", APIGW_MTYPE_COUNTER,
                       "Response body bytes sent to the client (headers "
                       "not counted).");
    for (i = 0; i < rows->nelts; i++) {
        const row *w = &APR_ARRAY_IDX(rows, i, row);

        apigw_mtext_counter(t, "apigw_response_bytes", w->labels, NULL,
                            get(&w->ms->bytes_out));
    }
}

static void single_counter(apigw_mtext *t, const char *name, const char *help,
                           apr_uint64_t v)
{
    apigw_mtext_family(t, name, APIGW_MTYPE_COUNTER, help);
    apigw_mtext_counter(t, name, "", NULL, v);
}

static void own_families(apigw_mtext *t, apr_int64_t evictions)
{
    apr_uint64_t used = 0, i;

    single_counter(t, "apigw_cache_hits", "Responses served from the "
                   "response cache.", get(&seg->cache[APIGW_METRICS_CACHE_HIT]));
    single_counter(t, "apigw_cache_misses", "Cacheable requests not found in "
                   "the response cache.",
                   get(&seg->cache[APIGW_METRICS_CACHE_MISS]));
    single_counter(t, "apigw_cache_stores", "Responses stored in the "
                   "response cache.",
                   get(&seg->cache[APIGW_METRICS_CACHE_STORE]));
    if (evictions >= 0) {
        single_counter(t, "apigw_cache_evictions", "Entries the response "
                       "cache's store dropped before they expired, to make "
                       "room (all of the store's users).",
                       (apr_uint64_t)evictions);
    }
    single_counter(t, "apigw_aggregate_backend_calls", "Backend calls made "
                   "by aggregating endpoints.", get(&seg->agg_calls));
    single_counter(t, "apigw_aggregate_partial_responses", "Aggregated "
                   "answers merged while some backends failed.",
                   get(&seg->agg_partial));
    single_counter(t, "apigw_trace_exported_requests", "Requests whose "
                   "spans were sent to the ApiTraceExport collector.",
                   get(&seg->trace_exported));
    single_counter(t, "apigw_trace_dropped_requests", "Requests whose "
                   "spans were dropped: the export queue was full or the "
                   "collector failed.", get(&seg->trace_dropped));
    for (i = 0; i < seg->nroutes; i++) {
        used += __atomic_load_n(&routes[i].key, __ATOMIC_RELAXED) != 0;
    }
    apigw_mtext_family(t, "apigw_metrics_route_slots", APIGW_MTYPE_GAUGE,
                       "Runtime routes' metric slots, by state (past them, "
                       "routes count under route_id=\"(overflow)\").");
    apigw_mtext_gauge(t, "apigw_metrics_route_slots", "", "state=\"used\"",
                      (apr_int64_t)used);
    apigw_mtext_gauge(t, "apigw_metrics_route_slots", "", "state=\"free\"",
                      (apr_int64_t)(seg->nroutes - used));
}

/* Runtime routes per environment, as the child answering the scrape
 * serves them (every child follows the store on its own). */
static void runtime_families(request_rec *r, apigw_mtext *t)
{
    static const char *const names[] = { "environment" };
    static const struct {
        const char *name, *help;
    } fam[] = {
        { "apigw_runtime_routes", "Runtime routes served." },
        { "apigw_runtime_routes_generation", "The route store generation "
          "the served table reflects." },
        { "apigw_runtime_routes_refresh_timestamp_seconds", "When the route "
          "store was last read successfully (Unix time; 0 never)." },
        { "apigw_runtime_routes_store_ok", "1 when the last read of the "
          "route store succeeded." },
        { "apigw_runtime_routes_from_snapshot", "1 when the served table "
          "came from the snapshot file." }
    };
    apr_array_header_t *st = apigw_rt_serve_stats(r->pool, r->server);
    const char **labels;
    int f, i;

    if (st->nelts == 0) {
        return;                     /* runtime routes are not in use */
    }
    labels = apr_palloc(r->pool, sizeof(*labels) * (apr_size_t)st->nelts);
    for (i = 0; i < st->nelts; i++) {
        const apigw_rt_env_stats *e = &APR_ARRAY_IDX(st, i,
                                                     apigw_rt_env_stats);

        labels[i] = apigw_mtext_labels(r->pool, names, &e->environment, 1);
    }
    for (f = 0; f < 5; f++) {
        apigw_mtext_family(t, fam[f].name, APIGW_MTYPE_GAUGE, fam[f].help);
        for (i = 0; i < st->nelts; i++) {
            const apigw_rt_env_stats *e = &APR_ARRAY_IDX(st, i,
                                                         apigw_rt_env_stats);
            apr_int64_t v = f == 0 ? (apr_int64_t)e->routes
                          : f == 1 ? (apr_int64_t)e->generation
                          : f == 2 ? (apr_int64_t)apr_time_sec(e->refreshed)
                          : f == 3 ? e->store_ok : e->from_snapshot;

            apigw_mtext_gauge(t, fam[f].name, labels[i], NULL, v);
        }
    }
}

/* ---- the scrape: the other modules' numbers ---- */

static json_t *ops_json(request_rec *r, const char *(*fn)(request_rec *),
                        const char *what)
{
    const char *text = fn(r);
    json_error_t jerr;
    json_t *v = text ? json_loads(text, 0, &jerr) : NULL;

    if (!json_is_array(v)) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, APIGW_LOGNO(00903)
                      "metrics: the %s state could not be read; left out of "
                      "this scrape", what);
        json_decref(v);
        return NULL;
    }
    return v;
}

static apr_uint64_t num(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);

    return json_is_integer(v) && json_integer_value(v) > 0
           ? (apr_uint64_t)json_integer_value(v) : 0;
}

static const char *str(const json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));

    return v ? v : "";
}

/* Whether labels were seen in this family already (each series once). */
static int duplicate(apr_hash_t *seen, const char *labels)
{
    if (apr_hash_get(seen, labels, APR_HASH_KEY_STRING)) {
        return 1;
    }
    apr_hash_set(seen, labels, APR_HASH_KEY_STRING, "");
    return 0;
}

/* every member of every pool, with its labels */
typedef struct {
    const json_t *m;
    const char *labels;
} item;

static apr_array_header_t *member_items(apr_pool_t *p, const json_t *pools)
{
    static const char *const names[] = { "pool", "member" };
    apr_array_header_t *items = apr_array_make(p, 8, sizeof(item));
    apr_hash_t *seen = apr_hash_make(p);
    size_t i, j;

    for (i = 0; i < json_array_size(pools); i++) {
        const json_t *pool = json_array_get(pools, i);
        const json_t *members = json_object_get(pool, "members");

        for (j = 0; j < json_array_size(members); j++) {
            const json_t *m = json_array_get(members, j);
            const char *values[2];
            item *it;

            values[0] = str(pool, "name");
            values[1] = str(m, "name");
            it = apr_array_push(items);
            it->m = m;
            it->labels = apigw_mtext_labels(p, names, values, 2);
            if (duplicate(seen, it->labels)) {
                apr_array_pop(items);
            }
        }
    }
    return items;
}

/* Attempts on each member, and its failures by the suspension error-code
 * names ("connect-refused", "503", "5xx"): only the codes it had. */
static void member_traffic(request_rec *r, apigw_mtext *t,
                           const apr_array_header_t *items)
{
    int i;

    apigw_mtext_family(t, "apigw_member_requests", APIGW_MTYPE_COUNTER,
                       "Attempts on a member that came to an outcome.");
    for (i = 0; i < items->nelts; i++) {
        const item *it = &APR_ARRAY_IDX(items, i, item);

        apigw_mtext_counter(t, "apigw_member_requests", it->labels, NULL,
                            num(it->m, "requests"));
    }
    apigw_mtext_family(t, "apigw_member_errors", APIGW_MTYPE_COUNTER,
                       "A member's failed attempts by error code.");
    for (i = 0; i < items->nelts; i++) {
        const item *it = &APR_ARRAY_IDX(items, i, item);
        json_t *errors = json_object_get(it->m, "errors");
        const char *code;
        json_t *n;

        json_object_foreach(errors, code, n) {
            if (json_is_integer(n) && json_integer_value(n) > 0) {
                apigw_mtext_counter(
                    t, "apigw_member_errors", it->labels,
                    apr_pstrcat(r->pool, "code=\"",
                                apigw_mtext_escape(r->pool, code), "\"",
                                NULL),
                    (apr_uint64_t)json_integer_value(n));
            }
        }
    }
}

static void member_families(request_rec *r, apigw_mtext *t,
                            APR_OPTIONAL_FN_TYPE(apigw_ops_pools) *fn)
{
    static const char *const states[] = { "active", "timeout", "suspended",
                                          "disabled" };
    json_t *pools = ops_json(r, fn, "balancer members'");
    apr_array_header_t *items;
    int i, k;

    if (!pools) {
        return;
    }
    items = member_items(r->pool, pools);
    apigw_mtext_family(t, "apigw_member_state", APIGW_MTYPE_GAUGE,
                       "Balancer members' state: 1 for the current one.");
    for (i = 0; i < items->nelts; i++) {
        const item *it = &APR_ARRAY_IDX(items, i, item);
        const char *now = str(it->m, "state");

        for (k = 0; k < 4; k++) {
            apigw_mtext_gauge(t, "apigw_member_state", it->labels,
                              apr_pstrcat(r->pool, "state=\"", states[k], "\"",
                                          NULL),
                              strcmp(now, states[k]) == 0);
        }
    }
    apigw_mtext_family(t, "apigw_member_suspended_reason", APIGW_MTYPE_GAUGE,
                       "1 with the error code that put a suspended or "
                       "timed-out member there.");
    for (i = 0; i < items->nelts; i++) {
        const item *it = &APR_ARRAY_IDX(items, i, item);
        const char *why = json_string_value(json_object_get(it->m, "reason"));

        if (why) {
            apigw_mtext_gauge(t, "apigw_member_suspended_reason", it->labels,
                              apr_pstrcat(r->pool, "reason=\"",
                                          apigw_mtext_escape(r->pool, why),
                                          "\"", NULL), 1);
        }
    }
    apigw_mtext_family(t, "apigw_member_suspensions", APIGW_MTYPE_COUNTER,
                       "Times a member was suspended.");
    for (i = 0; i < items->nelts; i++) {
        const item *it = &APR_ARRAY_IDX(items, i, item);

        apigw_mtext_counter(t, "apigw_member_suspensions", it->labels, NULL,
                            num(it->m, "suspensions"));
    }
    apigw_mtext_family(t, "apigw_member_retries", APIGW_MTYPE_COUNTER,
                       "Retries of a suspended member.");
    for (i = 0; i < items->nelts; i++) {
        const item *it = &APR_ARRAY_IDX(items, i, item);

        apigw_mtext_counter(t, "apigw_member_retries", it->labels, NULL,
                            num(it->m, "retries"));
    }
    member_traffic(r, t, items);
    json_decref(pools);
}

static apr_array_header_t *keyed_items(apr_pool_t *p, const json_t *list,
                                       const char *const *names,
                                       const char *const *keys, int n)
{
    apr_array_header_t *items = apr_array_make(p, 8, sizeof(item));
    apr_hash_t *seen = apr_hash_make(p);
    size_t i;
    int k;

    for (i = 0; i < json_array_size(list); i++) {
        const json_t *o = json_array_get(list, i);
        const char *values[4];
        item *it = apr_array_push(items);

        for (k = 0; k < n; k++) {
            values[k] = str(o, keys[k]);
        }
        it->m = o;
        it->labels = apigw_mtext_labels(p, names, values, n);
        if (duplicate(seen, it->labels)) {
            apr_array_pop(items);
        }
    }
    return items;
}

static void each_value(apigw_mtext *t, const apr_array_header_t *items,
                       const char *name, apigw_mtype type, const char *help,
                       const char *window_key, const char *key)
{
    int i;

    apigw_mtext_family(t, name, type, help);
    for (i = 0; i < items->nelts; i++) {
        const item *it = &APR_ARRAY_IDX(items, i, item);
        const json_t *o = window_key ? json_object_get(it->m, window_key)
                                     : it->m;

        if (type == APIGW_MTYPE_COUNTER) {
            apigw_mtext_counter(t, name, it->labels, NULL, num(o, key));
        }
        else {
            apigw_mtext_gauge(t, name, it->labels, NULL,
                              (apr_int64_t)num(o, key));
        }
    }
}

static void breaker_families(request_rec *r, apigw_mtext *t,
                             APR_OPTIONAL_FN_TYPE(apigw_ops_breakers) *fn)
{
    static const char *const names[] = { "breaker" };
    static const char *const keys[] = { "id" };
    static const char *const states[] = { "closed", "open", "recovering" };
    json_t *list = ops_json(r, fn, "circuit breakers'");
    apr_array_header_t *items;
    int i, k;

    if (!list) {
        return;
    }
    items = keyed_items(r->pool, list, names, keys, 1);
    apigw_mtext_family(t, "apigw_breaker_state", APIGW_MTYPE_GAUGE,
                       "Circuit breakers' state: 1 for the current one.");
    for (i = 0; i < items->nelts; i++) {
        const item *it = &APR_ARRAY_IDX(items, i, item);
        const char *now = str(it->m, "state");

        for (k = 0; k < 3; k++) {
            apigw_mtext_gauge(t, "apigw_breaker_state", it->labels,
                              apr_pstrcat(r->pool, "state=\"", states[k], "\"",
                                          NULL),
                              strcmp(now, states[k]) == 0);
        }
    }
    each_value(t, items, "apigw_breaker_trips", APIGW_MTYPE_COUNTER,
               "Times a breaker opened.", NULL, "trips");
    each_value(t, items, "apigw_breaker_window_requests", APIGW_MTYPE_GAUGE,
               "Requests in the breaker's current window.", "window",
               "requests");
    each_value(t, items, "apigw_breaker_window_network_errors",
               APIGW_MTYPE_GAUGE, "Network errors in the breaker's current "
               "window.", "window", "networkErrors");
    each_value(t, items, "apigw_breaker_window_status_5xx", APIGW_MTYPE_GAUGE,
               "5xx answers in the breaker's current window.", "window",
               "status5xx");
    each_value(t, items, "apigw_breaker_window_status_4xx", APIGW_MTYPE_GAUGE,
               "4xx answers in the breaker's current window.", "window",
               "status4xx");
    json_decref(list);
}

static void ratelimit_families(request_rec *r, apigw_mtext *t,
                               APR_OPTIONAL_FN_TYPE(apigw_ops_rate_limits) *fn)
{
    static const char *const names[] = { "section", "policy" };
    static const char *const keys[] = { "section", "policy" };
    json_t *list = ops_json(r, fn, "rate limits'");
    apr_array_header_t *items;

    if (!list) {
        return;
    }
    items = keyed_items(r->pool, list, names, keys, 2);
    each_value(t, items, "apigw_ratelimit_admitted", APIGW_MTYPE_COUNTER,
               "Requests a rate limit admitted (all children).", NULL,
               "admitted");
    each_value(t, items, "apigw_ratelimit_rejected", APIGW_MTYPE_COUNTER,
               "Requests a rate limit rejected.", NULL, "rejected");
    each_value(t, items, "apigw_ratelimit_delayed", APIGW_MTYPE_COUNTER,
               "Requests a rate limit delayed before admitting them.", NULL,
               "delayed");
    json_decref(list);
}

static void other_modules(request_rec *r, apigw_mtext *t)
{
    APR_OPTIONAL_FN_TYPE(apigw_ops_pools) *pools =
        APR_RETRIEVE_OPTIONAL_FN(apigw_ops_pools);
    APR_OPTIONAL_FN_TYPE(apigw_ops_breakers) *breakers =
        APR_RETRIEVE_OPTIONAL_FN(apigw_ops_breakers);
    APR_OPTIONAL_FN_TYPE(apigw_ops_rate_limits) *limits =
        APR_RETRIEVE_OPTIONAL_FN(apigw_ops_rate_limits);

    if (pools) {
        member_families(r, t, pools);
    }
    if (breakers) {
        breaker_families(r, t, breakers);
    }
    if (limits) {
        ratelimit_families(r, t, limits);
    }
}

int apigw_metrics_handler(request_rec *r)
{
    apigw_mtext *t;
    const char *body;
    apr_size_t len;
    int om;

    if (!r->handler || strcmp(r->handler, APIGW_METRICS_HANDLER) != 0) {
        return DECLINED;
    }
    ap_allow_methods(r, REPLACE_ALLOW, "GET", NULL);
    if (r->method_number != M_GET) {
        return HTTP_METHOD_NOT_ALLOWED;
    }
    if (metrics_off) {
        return HTTP_NOT_FOUND;      /* ApiMetrics Off */
    }
    if (!seg) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, APIGW_LOGNO(00904)
                      "metrics: no shared counters in this process");
        return HTTP_SERVICE_UNAVAILABLE;
    }
    om = apigw_mtext_wants_openmetrics(apr_table_get(r->headers_in,
                                                     "Accept"));
    t = apigw_mtext_create(r->pool, om, 16384 + (apr_size_t)nstatic * 4096);
    endpoint_families(r->pool, t);
    own_families(t, apigw_cache_evictions(r));
    runtime_families(r, t);
    other_modules(r, t);
    body = apigw_mtext_finish(t, &len);
    ap_set_content_type(r, om ? APIGW_MTEXT_OPENMETRICS_TYPE
                              : APIGW_MTEXT_PROMETHEUS_TYPE);
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    apr_table_mergen(r->headers_out, "Vary", "Accept");
    ap_set_content_length(r, (apr_off_t)len);
    if (!r->header_only) {
        ap_rwrite(body, (int)len, r);
    }
    return OK;
}
