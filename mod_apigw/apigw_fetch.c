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
 * by libcurl when their handle is removed. A same-origin redirect is
 * followed by the engine itself (libcurl's CURLOPT_FOLLOWLOCATION would
 * go anywhere): the call's handle is taken out of the multi, set up for
 * the Location and put back, on the same connection when it is kept
 * alive. */
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
    int header_error;              /* a header line could not be added */
    /* the current request: f's own, or a redirect's */
    const char *url;
    const char *method;
    const char *body;
    apr_size_t body_len;
    apr_size_t sent;               /* how much of a chunked body libcurl
                                    * has read */
    int bodiless;                  /* a 301/302/303 dropped the body and
                                    * the headers describing it */
    int has_type;                  /* a Content-Type line was added */
    const char *referer;           /* the previous URL, or NULL */
    int hops;                      /* redirects followed */
} call_state;

/* What happened to an answer that may be a redirect. */
typedef enum {
    REDIRECT_NONE,                 /* the call's answer */
    REDIRECT_FOLLOWED,             /* the call runs again, on the Location */
    REDIRECT_FAILED                /* could not be followed: f says why */
} redirect_step;

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

static int add_line(call_state *cs, const char *line)
{
    struct curl_slist *l = curl_slist_append(cs->headers, line);

    if (!l) {
        cs->header_error = 1;
        return 0;
    }
    cs->headers = l;
    return 1;
}

/* Headers describing a body: not sent once a redirect dropped it. */
static const char *const body_headers[] = {
    "Content-Type", "Content-Encoding", "Content-Language",
    "Content-Location", NULL
};

static int add_header(void *data, const char *key, const char *value)
{
    call_state *cs = data;
    int i;

    if (cs->bodiless) {
        for (i = 0; body_headers[i]; i++) {
            if (ap_cstr_casecmp(key, body_headers[i]) == 0) {
                return 1;
            }
        }
    }
    if (ap_cstr_casecmp(key, "Content-Type") == 0) {
        cs->has_type = 1;
    }
    return add_line(cs, apr_pstrcat(cs->r->pool, key, ": ", value, NULL));
}

/* Is the current request's body sent chunked? */
static int sends_chunked(const call_state *cs)
{
    return cs->f->chunked && cs->body && cs->body_len;
}

/* The caller's headers; a name with no value makes libcurl leave out a
 * header of its own: Expect (it would make large bodies wait for a 100
 * Continue), Accept unless the caller sends one, and the Content-Type
 * (application/x-www-form-urlencoded) it gives any POST body unless the
 * caller sends one. */
static int build_headers(call_state *cs)
{
    const apr_table_t *h = cs->f->headers;

    cs->header_error = 0;
    cs->has_type = 0;
    if (h) {
        apr_table_do(add_header, cs, h, NULL);
    }
    if (!cs->header_error) {
        add_line(cs, "Expect:");
    }
    if (!cs->header_error && !(h && apr_table_get(h, "Accept"))) {
        add_line(cs, "Accept:");
    }
    if (!cs->header_error && !cs->has_type) {
        add_line(cs, "Content-Type:");
    }
    if (!cs->header_error && sends_chunked(cs)) {
        add_line(cs, "Transfer-Encoding: chunked");
    }
    if (!cs->header_error && cs->f->traceparent) {
        add_line(cs, apr_pstrcat(cs->r->pool, "traceparent: ",
                                 cs->f->traceparent, NULL));
    }
    return !cs->header_error;
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

/* A chunked body, read from memory. */
static size_t on_read(char *buf, size_t size, size_t nitems, void *userp)
{
    call_state *cs = userp;
    apr_size_t room = size * nitems, n = cs->body_len - cs->sent;

    if (n > room) {
        n = room;
    }
    memcpy(buf, cs->body + cs->sent, n);
    cs->sent += n;
    return n;                      /* 0 at the end: the last chunk */
}

/* libcurl rewinds a chunked body to send it again: on a fresh connection
 * when a kept-alive one turned out dead after part of it was sent. */
static int on_seek(void *userp, curl_off_t offset, int origin)
{
    call_state *cs = userp;

    if (origin != SEEK_SET || offset < 0
        || (apr_uint64_t)offset > (apr_uint64_t)cs->body_len) {
        return CURL_SEEKFUNC_FAIL;
    }
    cs->sent = (apr_size_t)offset;
    return CURL_SEEKFUNC_OK;
}

/* Go's client sends Content-Length: 0 with these when they have no body
 * ("many servers expect a Content-Length for these methods"). */
static int wants_length(const char *method)
{
    return strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0
           || strcmp(method, "PATCH") == 0;
}

/* The method and the body: with Content-Length (libcurl sends it for
 * POSTFIELDS, 0 for an empty one), or chunked (a read callback and no
 * size; build_headers added the Transfer-Encoding line). */
static void set_method(CURL *e, call_state *cs)
{
    int custom = strcmp(cs->method, "POST") != 0;

    if (sends_chunked(cs)) {
        cs->sent = 0;
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(e, CURLOPT_READDATA, cs);
        curl_easy_setopt(e, CURLOPT_SEEKFUNCTION, on_seek);
        curl_easy_setopt(e, CURLOPT_SEEKDATA, cs);
    }
    else if (cs->body && cs->body_len) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, cs->body);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)cs->body_len);
    }
    else if (wants_length(cs->method)) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
    }
    else if (strcmp(cs->method, "HEAD") == 0) {
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
        custom = 0;
    }
    else if (strcmp(cs->method, "GET") == 0) {
        custom = 0;
    }
    if (custom) {
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, cs->method);
    }
}

/* Sets up cs->easy (new or reset) for the current request and adds it to
 * the multi handle; on failure f->error says why. */
static int call_launch(curl_client *c, call_state *cs, apr_time_t deadline)
{
    apigw_fetch *f = cs->f;
    long ms = (long)apr_time_as_msec(deadline - apr_time_now());
    CURL *e = cs->easy;

    if (ms < 1) {
        ms = 1;
    }
    if (!build_headers(cs)) {
        f->error = "cannot build the request headers";
        return 0;
    }
    curl_easy_setopt(e, CURLOPT_URL, cs->url);
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
    if (f->decode) {
        /* an Accept-Encoding of the caller's is sent instead of this one;
         * libcurl decodes whatever it knows of either way */
        curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "gzip");
    }
    if (cs->referer) {
        curl_easy_setopt(e, CURLOPT_REFERER, cs->referer);
    }
    set_method(e, cs);
    if (curl_multi_add_handle(c->multi, e) != CURLM_OK) {
        f->error = "cannot start the call";
        return 0;
    }
    cs->running = 1;
    return 1;
}

static int call_start(curl_client *c, call_state *cs, apr_time_t deadline)
{
    apigw_fetch *f = cs->f;

    if (!(cs->easy = easy_get(c))) {
        f->error = "cannot create a libcurl handle";
        return 0;
    }
    cs->url = f->url;
    cs->method = f->method;
    cs->body = f->body;
    cs->body_len = f->body_len;
    cs->start = cs->f->started = apr_time_now();
    return call_launch(c, cs, deadline);
}

/* How libcurl reads url: its origin, "scheme://host:port" with the port
 * written out when it is the scheme's default too, and, when referer is
 * not NULL, the URL without user info and fragment. 0 when libcurl
 * cannot read it. */
static int read_url(apr_pool_t *p, const char *url, const char **origin,
                    const char **referer)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL, *clean = NULL;
    int ok = 0;

    if (!u) {
        return 0;
    }
    if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK
        && curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK
        && curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK
        && curl_url_get(u, CURLUPART_PORT, &port,
                        CURLU_DEFAULT_PORT) == CURLUE_OK
        && (!referer
            || (curl_url_set(u, CURLUPART_USER, NULL, 0) == CURLUE_OK
                && curl_url_set(u, CURLUPART_PASSWORD, NULL, 0) == CURLUE_OK
                && curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0) == CURLUE_OK
                && curl_url_get(u, CURLUPART_URL, &clean, 0) == CURLUE_OK))) {
        *origin = apr_pstrcat(p, scheme, "://", host, ":", port, NULL);
        if (referer) {
            *referer = apr_pstrdup(p, clean);
        }
        ok = 1;
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(clean);
    curl_url_cleanup(u);
    return ok;
}

/* Go's rules for the request a redirect makes (see apigw_fetch.h). */
static void redirect_request(call_state *cs, int status)
{
    if (status == 307 || status == 308) {
        return;                    /* the same method and body */
    }
    if (strcmp(cs->method, "GET") != 0 && strcmp(cs->method, "HEAD") != 0) {
        cs->method = "GET";
    }
    cs->body = NULL;
    cs->body_len = 0;
    cs->bodiless = 1;
}

/* A finished exchange with an HTTP answer: when it is a redirect the call
 * may follow, the call is set up again for its Location. */
static redirect_step follow_redirect(curl_client *c, call_state *cs,
                                     apr_time_t deadline)
{
    apigw_fetch *f = cs->f;
    request_rec *r = cs->r;
    char *location = NULL;
    const char *next, *from = NULL, *to = NULL, *referer = NULL;

    if (f->status != 301 && f->status != 302 && f->status != 303
        && f->status != 307 && f->status != 308) {
        return REDIRECT_NONE;
    }
    if (curl_easy_getinfo(cs->easy, CURLINFO_REDIRECT_URL,
                          &location) != CURLE_OK || !location) {
        return REDIRECT_NONE;      /* no Location libcurl could use */
    }
    next = apr_pstrdup(r->pool, location);  /* the handle's, until reset */
    if (!read_url(r->pool, cs->url, &from, &referer)
        || !read_url(r->pool, next, &to, NULL)
        || ap_cstr_casecmp(from, to) != 0) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, APIGW_LOGNO(00133)
                      "backend redirect (status %d) to another origin not "
                      "followed: %s", f->status, to ? to : "(unreadable)");
        return REDIRECT_NONE;
    }
    if (cs->hops + 1 >= APIGW_FETCH_MAX_REQUESTS) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, APIGW_LOGNO(00134)
                      "backend redirect (status %d) not followed: %d "
                      "requests made already", f->status, cs->hops + 1);
        return REDIRECT_NONE;
    }
    curl_multi_remove_handle(c->multi, cs->easy);
    cs->running = 0;
    curl_easy_reset(cs->easy);
    curl_slist_free_all(cs->headers);
    cs->headers = NULL;
    redirect_request(cs, f->status);
    cs->url = next;
    cs->referer = referer;
    cs->hops++;
    cs->too_big = 0;
    f->outcome = APIGW_FETCH_NOT_RUN;
    f->status = 0;
    f->resp_len = 0;
    if (cs->cap) {
        f->resp_body[0] = '\0';
    }
    apr_table_clear(f->resp_headers);
    if (!call_launch(c, cs, deadline)) {
        f->outcome = APIGW_FETCH_BROKEN;
        f->error = apr_pstrcat(r->pool, "cannot follow its redirect: ",
                               f->error, NULL);
        return REDIRECT_FAILED;
    }
    return REDIRECT_FOLLOWED;
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

/* Returns 1 when the call goes on (a redirect it follows). */
static int call_done(curl_client *c, call_state *cs, CURLcode rc,
                     apr_time_t deadline)
{
    apigw_fetch *f = cs->f;
    long status = 0;

    f->outcome = outcome_of(rc, cs);
    if (f->outcome == APIGW_FETCH_OK) {
        curl_easy_getinfo(cs->easy, CURLINFO_RESPONSE_CODE, &status);
        f->status = (int)status;
        if (follow_redirect(c, cs, deadline) == REDIRECT_FOLLOWED) {
            return 1;
        }
        if (f->outcome == APIGW_FETCH_OK && f->decode
            && apr_table_get(f->resp_headers, "Content-Encoding")) {
            /* libcurl decoded the body (or failed the call): the
             * headers now describe a body nobody has */
            apr_table_unset(f->resp_headers, "Content-Encoding");
            apr_table_unset(f->resp_headers, "Content-Length");
        }
    }
    else {
        f->error = f->outcome == APIGW_FETCH_TOO_BIG
                   ? apr_psprintf(cs->r->pool, "the body is over %"
                                  APR_SIZE_T_FMT " bytes", f->max_body)
                   : apr_pstrdup(cs->r->pool, curl_easy_strerror(rc));
    }
    f->elapsed = apr_time_now() - cs->start;
    call_stop(c, cs);
    return 0;
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

/* Returns how many calls went on to a redirect's Location. */
static int collect(curl_client *c, call_state *states, int n,
                   apr_time_t deadline)
{
    CURLMsg *msg;
    int left, relaunched = 0;

    while ((msg = curl_multi_info_read(c->multi, &left)) != NULL) {
        call_state *cs = NULL;
        CURLcode rc;
        if (msg->msg != CURLMSG_DONE) {
            continue;
        }
        rc = msg->data.result;     /* msg ends with its handle's removal */
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&cs);
        if (!cs || !cs->running) {
            continue;
        }
        if (call_done(c, cs, rc, deadline)) {
            relaunched++;
            continue;
        }
        settle_race(c, states, n, cs);
    }
    return relaunched;
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
        int numfds, relaunched;

        if (curl_multi_perform(c->multi, &running) != CURLM_OK) {
            break;
        }
        relaunched = collect(c, states, n, deadline);
        /* a settled race removes calls libcurl still counted; a followed
         * redirect adds one it did not count yet */
        if ((!running && !relaunched) || !still_running(states, n)) {
            break;
        }
        left = deadline - apr_time_now();
        if (left <= 0) {
            break;
        }
        if (relaunched) {
            continue;              /* start them before waiting */
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
