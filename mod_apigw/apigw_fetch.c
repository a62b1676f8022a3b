/* Concurrent backend calls on libcurl's multi interface (see
 * apigw_fetch.h).
 *
 * A client is one multi handle (its connection cache and DNS cache live
 * there) plus a few idle easy handles. Clients sit in an apr_reslist per
 * process: borrowing one takes the reslist's mutex for a moment, never
 * across I/O. A request adds all its calls to its client's multi handle
 * and drives them with curl_multi_perform/curl_multi_poll in its own
 * thread until they finish or the budget runs out. Finished transfers
 * leave their connections in the multi's cache for the next request;
 * cut-off ones (timeout, cancelled race, body over the limit) are closed
 * by libcurl when their handle is removed. */
#include "apigw_fetch.h"
#include "apigw_log.h"

#include "http_log.h"
#include "ap_mpm.h"
#include "apr_reslist.h"
#include "apr_strings.h"

#include <curl/curl.h>

APLOG_USE_MODULE(apigw);

#define IDLE_EASY_MAX 8            /* idle easy handles a client keeps */
#define CLIENT_MAX_CONNECTS 32     /* connections a client's cache keeps */

typedef struct {
    CURLM *multi;
    CURL *idle[IDLE_EASY_MAX];
    int n_idle;
} curl_client;

typedef struct {
    apigw_fetch *f;
    request_rec *r;
    CURL *easy;
    struct curl_slist *headers;
    apr_size_t cap;
    apr_time_t start;
    int too_big;
    int running;
} call_state;

static apr_reslist_t *clients;

/* ---- the client pool ---- */

static apr_status_t client_make(void **out, void *params, apr_pool_t *p)
{
    curl_client *c = apr_pcalloc(p, sizeof(*c));

    (void)params;
    c->multi = curl_multi_init();
    if (!c->multi) {
        return APR_ENOMEM;
    }
    curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS,
                      (long)CLIENT_MAX_CONNECTS);
    *out = c;
    return APR_SUCCESS;
}

static apr_status_t client_free(void *res, void *params, apr_pool_t *p)
{
    curl_client *c = res;
    int i;

    (void)params;
    (void)p;
    for (i = 0; i < c->n_idle; i++) {
        curl_easy_cleanup(c->idle[i]);
    }
    c->n_idle = 0;
    curl_multi_cleanup(c->multi);
    return APR_SUCCESS;
}

static apr_status_t curl_global_done(void *data)
{
    (void)data;
    curl_global_cleanup();
    return APR_SUCCESS;
}

apr_status_t apigw_fetch_child_init(apr_pool_t *pchild, server_rec *s)
{
    int threads = 0;
    apr_status_t rv;

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, APIGW_LOGNO(00130)
                     "libcurl could not be initialized; aggregating "
                     "endpoints will answer 500");
        return APR_EGENERAL;
    }
    /* registered first, so it runs after the reslist's own cleanup */
    apr_pool_cleanup_register(pchild, NULL, curl_global_done,
                              apr_pool_cleanup_null);
    if (ap_mpm_query(AP_MPMQ_MAX_THREADS, &threads) != APR_SUCCESS
        || threads < 1) {
        threads = 1;
    }
    rv = apr_reslist_create(&clients, 0, threads, threads, 0, client_make,
                            client_free, NULL, pchild);
    if (rv != APR_SUCCESS) {
        clients = NULL;
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, APIGW_LOGNO(00131)
                     "cannot create the backend client pool; aggregating "
                     "endpoints will answer 500");
        return rv;
    }
    apr_reslist_cleanup_order_set(clients, APR_RESLIST_CLEANUP_FIRST);
    return APR_SUCCESS;
}

/* ---- one call ---- */

static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
    call_state *cs = userp;
    apigw_fetch *f = cs->f;
    apr_size_t n = size * nmemb;

    if (f->max_body && f->resp_len + n > f->max_body) {
        cs->too_big = 1;
        return 0;                  /* libcurl ends the transfer */
    }
    if (f->resp_len + n + 1 > cs->cap) {
        apr_size_t cap = cs->cap ? cs->cap : 4096;
        char *buf;
        while (cap < f->resp_len + n + 1) {
            cap *= 2;
        }
        buf = apr_palloc(cs->r->pool, cap);
        if (f->resp_len) {
            memcpy(buf, f->resp_body, f->resp_len);
        }
        f->resp_body = buf;
        cs->cap = cap;
    }
    memcpy(f->resp_body + f->resp_len, data, n);
    f->resp_len += n;
    f->resp_body[f->resp_len] = '\0';
    return n;
}

static int has_control(const char *s, apr_size_t len)
{
    apr_size_t i;

    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f) {
            return 1;
        }
    }
    return 0;
}

/* Collects the last response's header fields (a 100 Continue head or any
 * other interim one starts the table over). */
static size_t on_header(char *data, size_t size, size_t nmemb, void *userp)
{
    call_state *cs = userp;
    apr_size_t n = size * nmemb, len = n;
    const char *colon;
    char *name, *value;

    while (len && (data[len - 1] == '\n' || data[len - 1] == '\r')) {
        len--;
    }
    if (len >= 5 && memcmp(data, "HTTP/", 5) == 0) {
        apr_table_clear(cs->f->resp_headers);
        return n;
    }
    colon = memchr(data, ':', len);
    if (!colon || colon == data) {
        return n;                  /* the blank line, or folding we ignore */
    }
    if (has_control(data, len)) {
        return n;                  /* a CR or NUL inside: never passed on */
    }
    name = apr_pstrmemdup(cs->r->pool, data, (apr_size_t)(colon - data));
    colon++;
    while (colon < data + len && (*colon == ' ' || *colon == '\t')) {
        colon++;
    }
    value = apr_pstrmemdup(cs->r->pool, colon,
                           (apr_size_t)(data + len - colon));
    apr_table_addn(cs->f->resp_headers, name, value);
    return n;
}

static int add_header(void *data, const char *key, const char *value)
{
    call_state *cs = data;
    struct curl_slist *l;
    const char *line = apr_pstrcat(cs->r->pool, key, ": ", value, NULL);

    if (!(l = curl_slist_append(cs->headers, line))) {
        return 0;
    }
    cs->headers = l;
    return 1;
}

static CURL *easy_get(curl_client *c)
{
    return c->n_idle ? c->idle[--c->n_idle] : curl_easy_init();
}

static void easy_put(curl_client *c, CURL *e)
{
    if (c->n_idle < IDLE_EASY_MAX) {
        curl_easy_reset(e);
        c->idle[c->n_idle++] = e;
    }
    else {
        curl_easy_cleanup(e);
    }
}

static void set_method(CURL *e, const apigw_fetch *f)
{
    if (f->body && f->body_len) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, f->body);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)f->body_len);
        if (strcmp(f->method, "POST") != 0) {
            curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, f->method);
        }
    }
    else if (strcmp(f->method, "HEAD") == 0) {
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    }
    else if (strcmp(f->method, "GET") != 0) {
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, f->method);
    }
}

static int call_start(curl_client *c, call_state *cs, apr_time_t deadline)
{
    apigw_fetch *f = cs->f;
    long ms = (long)apr_time_as_msec(deadline - apr_time_now());
    CURL *e;

    if (ms < 1) {
        ms = 1;
    }
    if (!(e = easy_get(c))) {
        f->error = "cannot create a libcurl handle";
        return 0;
    }
    cs->easy = e;
    if (f->headers) {
        apr_table_do(add_header, cs, f->headers, NULL);
    }
    /* libcurl would ask large bodies to wait for 100 Continue */
    add_header(cs, "Expect", "");
    curl_easy_setopt(e, CURLOPT_URL, f->url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, ms);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, cs->headers);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, cs);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, cs);
    curl_easy_setopt(e, CURLOPT_PRIVATE, cs);
    set_method(e, f);
    if (curl_multi_add_handle(c->multi, e) != CURLM_OK) {
        f->error = "cannot start the call";
        return 0;
    }
    cs->start = apr_time_now();
    cs->running = 1;
    return 1;
}

static apigw_fetch_outcome outcome_of(CURLcode rc, const call_state *cs)
{
    switch (rc) {
    case CURLE_OK:
        return APIGW_FETCH_OK;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return APIGW_FETCH_CONNECT;
    case CURLE_OPERATION_TIMEDOUT:
        return APIGW_FETCH_TIMEOUT;
    case CURLE_WRITE_ERROR:
        return cs->too_big ? APIGW_FETCH_TOO_BIG : APIGW_FETCH_BROKEN;
    default:
        return APIGW_FETCH_BROKEN;
    }
}

static void call_stop(curl_client *c, call_state *cs)
{
    if (cs->easy) {
        if (cs->running) {
            curl_multi_remove_handle(c->multi, cs->easy);
            cs->running = 0;
        }
        easy_put(c, cs->easy);
        cs->easy = NULL;
    }
    if (cs->headers) {
        curl_slist_free_all(cs->headers);
        cs->headers = NULL;
    }
}

static void call_done(curl_client *c, call_state *cs, CURLcode rc)
{
    apigw_fetch *f = cs->f;
    long status = 0;

    f->elapsed = apr_time_now() - cs->start;
    f->outcome = outcome_of(rc, cs);
    if (f->outcome == APIGW_FETCH_OK) {
        curl_easy_getinfo(cs->easy, CURLINFO_RESPONSE_CODE, &status);
        f->status = (int)status;
    }
    else {
        f->error = f->outcome == APIGW_FETCH_TOO_BIG
                   ? apr_psprintf(cs->r->pool, "the body is over %"
                                  APR_SIZE_T_FMT " bytes", f->max_body)
                   : apr_pstrdup(cs->r->pool, curl_easy_strerror(rc));
    }
    curl_multi_remove_handle(c->multi, cs->easy);
    cs->running = 0;
    call_stop(c, cs);
}

/* The first 2xx of a race cancels the rest of it. */
static void settle_race(curl_client *c, call_state *states, int n,
                        const call_state *winner)
{
    int i;

    if (winner->f->race < 0 || winner->f->outcome != APIGW_FETCH_OK
        || winner->f->status < 200 || winner->f->status > 299) {
        return;
    }
    for (i = 0; i < n; i++) {
        call_state *cs = &states[i];
        if (cs != winner && cs->running && cs->f->race == winner->f->race) {
            cs->f->outcome = APIGW_FETCH_CANCELLED;
            cs->f->error = "another call of the same request answered first";
            cs->f->elapsed = apr_time_now() - cs->start;
            call_stop(c, cs);
        }
    }
}

static void collect(curl_client *c, call_state *states, int n)
{
    CURLMsg *msg;
    int left;

    while ((msg = curl_multi_info_read(c->multi, &left)) != NULL) {
        call_state *cs = NULL;
        if (msg->msg != CURLMSG_DONE) {
            continue;
        }
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&cs);
        if (!cs || !cs->running) {
            continue;
        }
        call_done(c, cs, msg->data.result);
        settle_race(c, states, n, cs);
    }
}

static int still_running(const call_state *states, int n)
{
    int i, k = 0;

    for (i = 0; i < n; i++) {
        k += states[i].running;
    }
    return k;
}

static void drive(curl_client *c, call_state *states, int n,
                  apr_time_t deadline)
{
    int running = 1;

    for (;;) {
        apr_interval_time_t left;
        int numfds;

        if (curl_multi_perform(c->multi, &running) != CURLM_OK) {
            break;
        }
        collect(c, states, n);
        /* a settled race removes calls libcurl still counted */
        if (!running || !still_running(states, n)) {
            break;
        }
        left = deadline - apr_time_now();
        if (left <= 0) {
            break;
        }
        curl_multi_poll(c->multi, NULL, 0,
                        (int)(apr_time_as_msec(left) > 1000
                              ? 1000 : apr_time_as_msec(left) + 1),
                        &numfds);
    }
}

apr_status_t apigw_fetch_run(request_rec *r, apigw_fetch **calls, int n,
                             apr_time_t deadline)
{
    call_state *states = apr_pcalloc(r->pool, sizeof(*states) * (n ? n : 1));
    curl_client *c = NULL;
    apr_status_t rv;
    int i;

    for (i = 0; i < n; i++) {
        calls[i]->outcome = APIGW_FETCH_NOT_RUN;
        calls[i]->status = 0;
        calls[i]->resp_headers = apr_table_make(r->pool, 8);
        calls[i]->resp_body = "";
        calls[i]->resp_len = 0;
        calls[i]->error = NULL;
        states[i].f = calls[i];
        states[i].r = r;
    }
    if (!clients) {
        return APR_EGENERAL;
    }
    if ((rv = apr_reslist_acquire(clients, (void **)&c)) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, APIGW_LOGNO(00132)
                      "no backend client is available");
        return rv;
    }
    for (i = 0; i < n; i++) {
        if (!call_start(c, &states[i], deadline)) {
            call_stop(c, &states[i]);
        }
    }
    drive(c, states, n, deadline);
    for (i = 0; i < n; i++) {
        if (states[i].running) {
            calls[i]->outcome = APIGW_FETCH_TIMEOUT;
            calls[i]->error = "no answer within the endpoint's timeout";
            calls[i]->elapsed = apr_time_now() - states[i].start;
        }
        call_stop(c, &states[i]);
    }
    apr_reslist_release(clients, c);
    return APR_SUCCESS;
}

const char *apigw_fetch_outcome_text(apigw_fetch_outcome o)
{
    switch (o) {
    case APIGW_FETCH_OK:        return "answered";
    case APIGW_FETCH_CONNECT:   return "unreachable";
    case APIGW_FETCH_TIMEOUT:   return "timed out";
    case APIGW_FETCH_TOO_BIG:   return "body too large";
    case APIGW_FETCH_BROKEN:    return "broken response";
    case APIGW_FETCH_CANCELLED: return "cancelled";
    case APIGW_FETCH_NOT_RUN:   return "not called";
    }
    return "unknown";
}
