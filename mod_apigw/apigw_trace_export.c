/* ApiTraceExport: sampled spans sent to an OpenTelemetry collector as
 * OTLP/HTTP JSON (see apigw_trace_export.h).
 *
 * The request path only queues: at log_transaction a request's spans
 * (built by apigw_trace_request.c) are copied into a bounded lock-free
 * queue of this child (a ring of cells with sequence numbers: any number
 * of producers, one consumer). One exporter thread per child takes up to
 * BATCH_MAX requests' spans at a time, every FLUSH_INTERVAL or sooner when
 * the queue is half full, and POSTs them with libcurl (a 2 s timeout).
 * When the queue is full, or the collector fails or is down, spans are
 * dropped and counted, never waited for; a failure is logged at most once
 * a minute. */
#include "apigw_trace_export.h"
#include "apigw_config.h"
#include "apigw_json.h"
#include "apigw_metrics.h"
#include "apigw_parse.h"
#include "apigw_log.h"

#include "http_log.h"
#include "apr_strings.h"
#include "apr_atomic.h"
#include "apr_thread_proc.h"
#include "apr_uri.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

APLOG_USE_MODULE(apigw);

#define QUEUE_DEFAULT 4096
#define QUEUE_MAX (1 << 20)
#define BATCH_MAX 256
#define FLUSH_INTERVAL apr_time_from_sec(1)
#define POLL_INTERVAL apr_time_from_msec(50)
#define POST_TIMEOUT_MS 2000L
#define FAILURE_LOG_INTERVAL apr_time_from_sec(60)
#define DRAIN_TIME apr_time_from_sec(2)
#define CONNECT_TIMEOUT_MS 500L

/* what ApiTraceExport says, copied at post_config for every child */
static const char *export_url;
static const char *service_name;
static apr_uint32_t queue_size;

typedef struct {
    volatile apr_uint64_t seq;
    char *item;                      /* malloc'd span text */
    apr_size_t len;
} cell;

typedef struct {
    cell *cells;
    apr_uint64_t mask;
    volatile apr_uint64_t head;      /* next to fill (producers) */
    apr_uint64_t tail;               /* next to take (the exporter) */
} ring;

static ring *queue;                  /* this child's; NULL: not exporting */
static volatile apr_uint64_t n_exported, n_dropped;

typedef struct {
    server_rec *s;
    apr_thread_t *thread;
    volatile apr_uint32_t stop;
    CURL *curl;
    apr_time_t last_failure_log;
    apr_uint64_t dropped_logged;
    apr_time_t drain_until;          /* stopping: sends end by then; 0 not */
} exporter;

/* This child's count and the shared one (apigw_metrics.c). */
static void count_dropped(apr_uint64_t n)
{
    __atomic_fetch_add(&n_dropped, n, __ATOMIC_RELAXED);
    apigw_metrics_trace(0, n);
}

int apigw_trace_export_on(void)
{
    return queue != NULL;
}

/* ---- the queue ---- */

int apigw_trace_export_push(const char *spans, apr_size_t len)
{
    ring *q = queue;
    apr_uint64_t pos;
    cell *c;
    char *copy;

    if (!q) {
        return 0;
    }
    pos = __atomic_load_n(&q->head, __ATOMIC_RELAXED);
    for (;;) {
        apr_uint64_t seq;
        apr_int64_t dif;

        c = &q->cells[pos & q->mask];
        seq = __atomic_load_n(&c->seq, __ATOMIC_ACQUIRE);
        dif = (apr_int64_t)(seq - pos);
        if (dif == 0) {
            if (__atomic_compare_exchange_n(&q->head, &pos, pos + 1, 1,
                                            __ATOMIC_RELAXED,
                                            __ATOMIC_RELAXED)) {
                break;
            }
        }
        else if (dif < 0) {
            count_dropped(1);
            return 0;                    /* full */
        }
        else {
            pos = __atomic_load_n(&q->head, __ATOMIC_RELAXED);
        }
    }
    copy = malloc(len + 1);
    if (copy) {
        memcpy(copy, spans, len);
        copy[len] = '\0';
    }
    else {
        count_dropped(1);
    }
    c->item = copy;                  /* NULL: the cell is skipped */
    c->len = copy ? len : 0;
    __atomic_store_n(&c->seq, pos + 1, __ATOMIC_RELEASE);
    return copy != NULL;
}

/* The next filled cell's item (the exporter alone takes), or 0. */
static int take(ring *q, char **item, apr_size_t *len)
{
    cell *c = &q->cells[q->tail & q->mask];

    if (__atomic_load_n(&c->seq, __ATOMIC_ACQUIRE) != q->tail + 1) {
        return 0;
    }
    *item = c->item;
    *len = c->len;
    c->item = NULL;
    __atomic_store_n(&c->seq, q->tail + q->mask + 1, __ATOMIC_RELEASE);
    q->tail++;
    return 1;
}

static apr_uint64_t queued(const ring *q)
{
    return __atomic_load_n(&q->head, __ATOMIC_RELAXED) - q->tail;
}

void apigw_trace_export_counts(apr_uint64_t *exported, apr_uint64_t *dropped)
{
    *exported = __atomic_load_n(&n_exported, __ATOMIC_RELAXED);
    *dropped = __atomic_load_n(&n_dropped, __ATOMIC_RELAXED);
}

/* ---- the exporter thread ---- */

static size_t discard_body(char *data, size_t size, size_t n, void *ctx)
{
    (void)data;
    (void)ctx;
    return size * n;
}

/* The OTLP document around spans (each request's, joined by ','). */
static char *document(apr_pool_t *p, const char *spans)
{
    return apr_pstrcat(p, "{\"resourceSpans\":[{\"resource\":{\"attributes\":"
                       "[{\"key\":\"service.name\",\"value\":{\"stringValue\":",
                       apigw_json_str(p, service_name), "}}]},\"scopeSpans\":"
                       "[{\"scope\":{\"name\":\"mod_apigw\"},\"spans\":[",
                       spans, "]}]}]}", NULL);
}

static void note_failure(exporter *e, const char *why, apr_uint64_t lost)
{
    apr_time_t now = apr_time_now();

    count_dropped(lost);
    if (now - e->last_failure_log < FAILURE_LOG_INTERVAL) {
        return;
    }
    e->last_failure_log = now;
    ap_log_error(APLOG_MARK, APLOG_WARNING, 0, e->s, APIGW_LOGNO(00821)
                 "trace export to %s failed (%s); %" APR_UINT64_T_FMT
                 " request(s)' spans dropped by this child so far",
                 export_url, why, __atomic_load_n(&n_dropped,
                                                  __ATOMIC_RELAXED));
}

/* POSTs one batch; the spans are counted as exported or dropped. */
static void post(exporter *e, apr_pool_t *p, const char *spans,
                 apr_uint64_t n)
{
    struct curl_slist *h = curl_slist_append(NULL,
                                             "Content-Type: application/json");
    char *body = document(p, spans);
    long status = 0;
    CURLcode rc;

    if (!h) {
        note_failure(e, "out of memory", n);
        return;
    }
    curl_easy_reset(e->curl);
    curl_easy_setopt(e->curl, CURLOPT_URL, export_url);
    curl_easy_setopt(e->curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(e->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    curl_easy_setopt(e->curl, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(e->curl, CURLOPT_TIMEOUT_MS, e->drain_until
                     ? (long)apr_time_as_msec(e->drain_until > apr_time_now()
                                              ? e->drain_until - apr_time_now()
                                              : 1) + 1
                     : POST_TIMEOUT_MS);
    curl_easy_setopt(e->curl, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
    curl_easy_setopt(e->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e->curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e->curl, CURLOPT_WRITEFUNCTION, discard_body);
    rc = curl_easy_perform(e->curl);
    curl_slist_free_all(h);
    if (rc != CURLE_OK) {
        note_failure(e, curl_easy_strerror(rc), n);
        return;
    }
    curl_easy_getinfo(e->curl, CURLINFO_RESPONSE_CODE, &status);
    if (status < 200 || status > 299) {
        note_failure(e, apr_psprintf(p, "the collector answered %ld", status),
                     n);
        return;
    }
    __atomic_fetch_add(&n_exported, n, __ATOMIC_RELAXED);
    apigw_metrics_trace(n, 0);
}

/* Takes up to BATCH_MAX requests' spans and sends them; 0 when the queue
 * was empty. */
static int flush(exporter *e, apr_pool_t *p)
{
    apr_array_header_t *parts = apr_array_make(p, 64, sizeof(char *));
    apr_uint64_t n = 0;
    char *item;
    apr_size_t len;

    while (n < BATCH_MAX && take(queue, &item, &len)) {
        if (item) {
            APR_ARRAY_PUSH(parts, char *) = apr_pstrmemdup(p, item, len);
            free(item);
            n++;
        }
    }
    if (n) {
        post(e, p, apr_array_pstrcat(p, parts, ','), n);
    }
    return n != 0;
}

static void *APR_THREAD_FUNC exporter_main(apr_thread_t *thread, void *data)
{
    exporter *e = data;
    apr_pool_t *p;
    apr_time_t last = apr_time_now();

    (void)thread;
    if (apr_pool_create(&p, NULL) != APR_SUCCESS) {
        return NULL;
    }
    while (!apr_atomic_read32(&e->stop)) {
        apr_time_t now = apr_time_now();

        if (queued(queue) >= (queue->mask + 1) / 2
            || (now - last >= FLUSH_INTERVAL && queued(queue))) {
            while (flush(e, p) && queued(queue) >= BATCH_MAX
                   && !apr_atomic_read32(&e->stop)) {
                apr_pool_clear(p);
            }
            apr_pool_clear(p);
            last = now;
        }
        apr_sleep(POLL_INTERVAL);
    }
    /* what is left is sent once more, for DRAIN_TIME at most (the child
     * is stopping); what is left after is dropped by exporter_stop */
    e->drain_until = apr_time_now() + DRAIN_TIME;
    while (apr_time_now() < e->drain_until && flush(e, p)) {
        apr_pool_clear(p);
    }
    apr_pool_destroy(p);
    /* returns rather than apr_thread_exit, which destroys the thread's
     * pool before exporter_stop has joined it */
    return NULL;
}

static apr_status_t exporter_stop(void *data)
{
    exporter *e = data;
    apr_status_t rv;
    char *item;
    apr_size_t len;

    apr_atomic_set32(&e->stop, 1);
    apr_thread_join(&rv, e->thread);
    while (take(queue, &item, &len)) {
        if (item) {
            free(item);
            count_dropped(1);          /* past the last send's deadline */
        }
    }
    if (e->curl) {
        curl_easy_cleanup(e->curl);
    }
    queue = NULL;
    return APR_SUCCESS;
}

void apigw_trace_export_post_config(server_rec *s)
{
    const apigw_server_conf *sc = ap_get_module_config(s->module_config,
                                                       &apigw_module);

    export_url = sc->trace_export;
    service_name = sc->trace_service ? sc->trace_service : "mod_apigw";
    queue_size = sc->trace_queue ? (apr_uint32_t)sc->trace_queue
                                 : QUEUE_DEFAULT;
}

void apigw_trace_export_child_init(apr_pool_t *pchild, server_rec *s)
{
    exporter *e;
    ring *q;
    apr_uint64_t i, cap;
    apr_status_t rv;

    queue = NULL;
    if (!export_url) {
        return;
    }
    cap = 2;                         /* the ring needs two cells at least */
    while (cap < queue_size) {
        cap <<= 1;
    }
    q = apr_pcalloc(pchild, sizeof(*q));
    q->cells = apr_pcalloc(pchild, cap * sizeof(cell));
    q->mask = cap - 1;
    for (i = 0; i < cap; i++) {
        q->cells[i].seq = i;
    }
    e = apr_pcalloc(pchild, sizeof(*e));
    e->s = s;
    if (!(e->curl = curl_easy_init())) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, APIGW_LOGNO(00822)
                     "trace export: libcurl could not be set up; this "
                     "child exports no span");
        return;
    }
    queue = q;
    rv = apr_thread_create(&e->thread, NULL, exporter_main, e, pchild);
    if (rv != APR_SUCCESS) {
        queue = NULL;
        curl_easy_cleanup(e->curl);
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, APIGW_LOGNO(00823)
                     "trace export: cannot start this child's exporter "
                     "thread; it exports no span");
        return;
    }
    /* runs before the pool's other cleanups: the thread stops first */
    apr_pool_pre_cleanup_register(pchild, e, exporter_stop);
}

/* ---- ApiTraceExport URL [service=NAME] [queue=N] (main server) ---- */

const char *apigw_trace_set_export(cmd_parms *cmd, void *dconf,
                                   const char *args)
{
    apigw_server_conf *sc = ap_get_module_config(cmd->server->module_config,
                                                 &apigw_module);
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    const char *url, *w;
    apr_uri_t uri;

    (void)dconf;
    if (err) {
        return err;
    }
    url = ap_getword_conf(cmd->pool, &args);
    if (!*url) {
        return "ApiTraceExport needs the collector's URL, e.g. "
               "http://127.0.0.1:4318/v1/traces";
    }
    if (apr_uri_parse(cmd->pool, url, &uri) != APR_SUCCESS || !uri.scheme
        || (strcmp(uri.scheme, "http") != 0
            && strcmp(uri.scheme, "https") != 0)
        || !uri.hostname || !*uri.hostname || strpbrk(url, " \t\r\n")) {
        return apr_psprintf(cmd->pool, "ApiTraceExport %s: an http:// or "
                            "https:// URL expected, e.g. "
                            "http://127.0.0.1:4318/v1/traces", url);
    }
    while (*(w = ap_getword_conf(cmd->pool, &args))) {
        if (strncmp(w, "service=", 8) == 0 && w[8]) {
            sc->trace_service = w + 8;
        }
        else if (strncmp(w, "queue=", 6) == 0) {
            char *end;
            long n = strtol(w + 6, &end, 10);

            if (end == w + 6 || *end || n < 2 || n > QUEUE_MAX) {
                return apr_psprintf(cmd->pool, "ApiTraceExport %s: queue= "
                                    "takes a number from 2 to %d", w,
                                    QUEUE_MAX);
            }
            sc->trace_queue = (int)n;
        }
        else {
            return apr_psprintf(cmd->pool, "ApiTraceExport: unknown option "
                                "%s (service=NAME, queue=N)", w);
        }
    }
    sc->trace_export = url;
    return NULL;
}
