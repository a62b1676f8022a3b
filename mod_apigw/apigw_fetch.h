/* Concurrent backend calls for aggregating endpoints, on libcurl's multi
 * interface. Each process keeps a pool of curl clients (one multi handle
 * with its connection cache and a few reusable easy handles each); a
 * request borrows one, runs all its calls on it at once, and gives it
 * back, so warm connections are reused across requests and no thread is
 * created per request. */
#ifndef APIGW_FETCH_H
#define APIGW_FETCH_H

#include "httpd.h"
#include "apr_tables.h"

typedef enum {
    APIGW_FETCH_OK = 0,        /* a complete HTTP response (any status) */
    APIGW_FETCH_CONNECT,       /* refused, unreachable, DNS */
    APIGW_FETCH_TIMEOUT,       /* the request's budget ran out */
    APIGW_FETCH_TOO_BIG,       /* the body went over max_body */
    APIGW_FETCH_BROKEN,        /* closed mid-response, not HTTP, ... */
    APIGW_FETCH_CANCELLED,     /* another call of its race won */
    APIGW_FETCH_NOT_RUN        /* never started (e.g. a URL could not be made) */
} apigw_fetch_outcome;

typedef struct {
    /* what to send */
    const char *url;
    const char *method;
    apr_table_t *headers;          /* sent as they are; may be NULL */
    const char *traceparent;       /* this call's own traceparent header
                                    * (headers should have none), or NULL */
    const char *body;              /* may be NULL */
    apr_size_t body_len;
    int chunked;                   /* a body (body_len > 0) goes out with
                                    * Transfer-Encoding: chunked, as Go's
                                    * client sends one of unknown length;
                                    * 0: with Content-Length. Either way a
                                    * POST, PUT or PATCH without a body
                                    * carries Content-Length: 0 (Go's
                                    * rule), other methods neither. No
                                    * Content-Type is sent unless headers
                                    * have one */
    apr_size_t max_body;           /* 0: no limit */
    int race;                      /* calls with the same race >= 0: the
                                    * first 2xx wins, the others are
                                    * cancelled; -1: on its own */
    int decode;                    /* ask for gzip (unless headers carry an
                                    * Accept-Encoding, then sent as it is)
                                    * and decode what comes back; a decoded
                                    * answer's resp_headers lose
                                    * Content-Encoding and Content-Length,
                                    * which described the encoded body */

    /* what came back */
    apigw_fetch_outcome outcome;
    int status;
    apr_table_t *resp_headers;
    char *resp_body;               /* NUL-terminated, from the pool */
    apr_size_t resp_len;
    const char *error;             /* curl's message when not OK */
    apr_interval_time_t elapsed;
    apr_time_t started;            /* when it was sent; 0 never */

    void *priv;                    /* the engine's, per call */
} apigw_fetch;

/* Redirects: a 301, 302, 303, 307 or 308 answer whose Location has the
 * same scheme, host and port as the URL that answered is followed, as
 * Go's net/http client does (a call makes at most
 * APIGW_FETCH_MAX_REQUESTS requests, its own included, so 9 redirects):
 * 301/302/303 go on with GET (HEAD stays HEAD) and no body (nor the
 * headers describing one), 307/308 keep method and body; each next
 * request carries Referer: the previous URL (without user info) unless
 * headers have a Referer. A redirect elsewhere, or one too many, is the
 * call's answer: the gateway never goes where a backend's Location says
 * on another host. No Accept header is sent unless headers have one. */
#define APIGW_FETCH_MAX_REQUESTS 10

/* Creates the process's client pool (child_init). max is the most clients
 * that can be borrowed at once (the MPM's threads per child). */
apr_status_t apigw_fetch_child_init(apr_pool_t *pchild, server_rec *s);

/* Runs calls[0..n-1] at once until all are done or deadline passes; calls
 * still running then end as APIGW_FETCH_TIMEOUT. Results are allocated
 * from r->pool. Returns APR_SUCCESS, or an error when no client could be
 * had (then every call is APIGW_FETCH_NOT_RUN). */
apr_status_t apigw_fetch_run(request_rec *r, apigw_fetch **calls, int n,
                             apr_time_t deadline);

/* "connection refused", "timed out", ... for logs and error bodies. */
const char *apigw_fetch_outcome_text(apigw_fetch_outcome o);

#endif
