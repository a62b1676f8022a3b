/* CORS (apigw_cors_policy): origin allow-lists with wildcard subdomains,
 * preflights answered at the gateway (or passed through to the backend),
 * and the Access-Control-* headers of actual requests.
 *
 * An allowed preflight is answered as KrakenD's (rs/cors) answers it:
 * Access-Control-Allow-Methods holds the requested method alone and
 * Access-Control-Allow-Headers the requested headers as the client wrote
 * them, once each was checked; never the whole configured lists. A
 * preflight for a method no endpoint serves on the path is refused as
 * any other: the preflight status without a CORS header.
 *
 * The gateway owns CORS for an endpoint where it is on: the backend's own
 * Access-Control-* headers are dropped, so a browser never sees two
 * answers. A disallowed origin gets no CORS headers at all (the browser
 * then blocks the response) and its request is otherwise untouched. */
#include "apigw_policy_conf.h"
#include "apigw_config.h"
#include "apigw_request.h"
#include "apigw_log.h"
#include "apigw_policy_origin.h"

#include "http_log.h"
#include "http_protocol.h"
#include "apr_strings.h"
#include "apr_lib.h"

APLOG_USE_MODULE(apigw);

#define DEFAULT_PREFLIGHT_STATUS HTTP_NO_CONTENT

static int origin_allowed(const apigw_cors_policy *c, const char *origin)
{
    apr_size_t olen;
    int i;

    if (!origin || !*origin) {
        return 0;
    }
    if (!c->origins || c->any_origin) {
        return 1;                       /* no list: every origin */
    }
    olen = strlen(origin);
    for (i = 0; i < c->n_origin_pats; i++) {
        if (apigw_cors_origin_matches(&c->origin_pats[i], origin, olen)) {
            return 1;
        }
    }
    return 0;
}

/* ---- compiled strings ---- */

static const char *join_comma_space(apr_pool_t *p, const apr_array_header_t *a)
{
    char *s = NULL;
    int i;

    for (i = 0; a && i < a->nelts; i++) {
        const char *n = APR_ARRAY_IDX(a, i, const char *);
        s = s ? apr_pstrcat(p, s, ", ", n, NULL) : apr_pstrdup(p, n);
    }
    return s;
}

const char *apigw_cors_compile(apr_pool_t *p, apigw_cors_policy *c,
                               const struct apigw_endpoint *ep)
{
    (void)ep;
    if (c->origins && !c->any_origin) {
        apigw_origin_pattern *op = apr_palloc(p, c->origins->nelts
                                                 * sizeof(*op));
        int i;

        for (i = 0; i < c->origins->nelts; i++) {
            apigw_cors_origin_compile(&op[i], APR_ARRAY_IDX(c->origins, i,
                                                            const char *));
        }
        c->origin_pats = op;
        c->n_origin_pats = c->origins->nelts;
    }
    c->expose_str = c->expose ? join_comma_space(p, c->expose) : NULL;
    c->max_age_str = c->max_age >= 0
                     ? apr_psprintf(p, "%" APR_INT64_T_FMT, c->max_age) : NULL;
    return NULL;
}

/* ---- requests ---- */

/* How a field goes into a table: apr_table_setn, or apr_table_addn where
 * the table is known not to hold the name. */
typedef void (*put_field)(apr_table_t *t, const char *key, const char *val);

/* Access-Control-Allow-Origin: the request's origin, or "*" when every
 * origin is allowed and credentials are not. An origin sent back has
 * matched a listed pattern, so it holds only what a pattern may (every
 * origin with credentials fails configtest). */
static void allow_origin(const apigw_cors_policy *c, apr_table_t *t,
                         const char *origin, put_field put)
{
    if ((!c->origins || c->any_origin) && c->credentials != 1) {
        put(t, "Access-Control-Allow-Origin", "*");
    }
    else {
        /* the request's own value: it lives as long as the request */
        put(t, "Access-Control-Allow-Origin", origin);
    }
    if (c->credentials == 1) {
        put(t, "Access-Control-Allow-Credentials", "true");
    }
}

/* served: an endpoint on the path serves the method (the route table
 * said so); ApiCorsAllowMethods, when set, must list it too. Methods are
 * compared case-sensitively, as routes are. */
static int method_allowed(const apigw_cors_policy *c, const char *method,
                          int served)
{
    int i;

    if (!served) {
        return 0;
    }
    if (!c->methods) {
        return 1;
    }
    for (i = 0; i < c->methods->nelts; i++) {
        if (strcmp(APR_ARRAY_IDX(c->methods, i, const char *), method) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Every name of the comma-separated request list must be allowed. */
static int headers_allowed(request_rec *r, const apigw_cors_policy *c,
                           const char *requested)
{
    char *list, *name, *state;
    int i, found;

    if (!requested || c->any_header) {
        return 1;
    }
    list = apr_pstrdup(r->pool, requested);
    for (name = apr_strtok(list, ", \t", &state); name;
         name = apr_strtok(NULL, ", \t", &state)) {
        found = 0;
        for (i = 0; c->headers && i < c->headers->nelts && !found; i++) {
            found = ap_cstr_casecmp(APR_ARRAY_IDX(c->headers, i, const char *),
                                    name) == 0;
        }
        if (!found) {
            return 0;
        }
    }
    return 1;
}

static int no_ctl(const char *s)
{
    for (; *s; s++) {
        if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f) {
            return 0;
        }
    }
    return 1;
}

/* The preflight headers for an allowed preflight, into t: the requested
 * method and headers once checked (what the client asked, not the
 * configured lists). served: as method_allowed's. */
static int preflight_headers(request_rec *r, const apigw_cors_policy *c,
                             apr_table_t *t, int served)
{
    const char *origin = apr_table_get(r->headers_in, "Origin");
    const char *acrm = apr_table_get(r->headers_in,
                                     "Access-Control-Request-Method");
    const char *acrh = apr_table_get(r->headers_in,
                                     "Access-Control-Request-Headers");
    const char *pna = apr_table_get(r->headers_in,
                                    "Access-Control-Request-Private-Network");
    const char *why = NULL;

    apr_table_mergen(t, "Vary", c->private_network == 1
                     ? "Origin, Access-Control-Request-Method, "
                       "Access-Control-Request-Headers, "
                       "Access-Control-Request-Private-Network"
                     : "Origin, Access-Control-Request-Method, "
                       "Access-Control-Request-Headers");
    if (!origin_allowed(c, origin)) {
        why = "origin";
    }
    else if (!acrm || !method_allowed(c, acrm, served)) {
        why = "method";
    }
    else if (!headers_allowed(r, c, acrh) || (acrh && !no_ctl(acrh))) {
        why = "headers";
    }
    if (why) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, APIGW_LOGNO(00610)
                      "CORS preflight refused: its %s is not allowed", why);
        return 0;
    }
    allow_origin(c, t, origin, apr_table_setn);
    /* what was asked, checked: the method matched a route's, so it is
     * one of the configured (upper-case) names; the headers are each
     * allowed (or ApiCorsAllowHeaders * takes any: a literal * does not
     * work with credentials). Both live as long as the request. */
    apr_table_setn(t, "Access-Control-Allow-Methods", acrm);
    if (acrh && *acrh) {
        apr_table_setn(t, "Access-Control-Allow-Headers", acrh);
    }
    if (c->max_age_str) {
        apr_table_setn(t, "Access-Control-Max-Age", c->max_age_str);
    }
    if (c->private_network == 1 && pna && ap_cstr_casecmp(pna, "true") == 0) {
        apr_table_setn(t, "Access-Control-Allow-Private-Network", "true");
    }
    return 1;
}

int apigw_cors_preflight(request_rec *r, const apigw_policy_conf *pol,
                         const struct apigw_endpoint *ep, int served)
{
    const apigw_cors_policy *c;

    if (!pol || pol->cors.enabled != 1 || pol->cors.passthrough == 1) {
        return DECLINED;
    }
    c = &pol->cors;
    preflight_headers(r, c, r->headers_out, served);
    if (pol->security_headers == 1) {
        apigw_security_headers_apply(r->headers_out);
    }
    if (pol->response_headers) {
        apigw_headers_apply(r, pol->response_headers, r->headers_out,
                            r->err_headers_out);
    }
    r->status = c->preflight_status ? c->preflight_status
                                    : DEFAULT_PREFLIGHT_STATUS;
    if (r->status != HTTP_NO_CONTENT) {
        ap_set_content_length(r, 0);
    }
    ap_log_rerror(APLOG_MARK, APLOG_TRACE1, 0, r, "CORS preflight for "
                  "endpoint %s answered by the gateway", ep->pattern);
    return DONE;
}

/* The client's own headers: once mod_apigw has filtered them for the
 * backend, headers_in is the allow-listed table until the backend has
 * answered. */
static const apr_table_t *client_in(const request_rec *r)
{
    const apigw_request *rq = apigw_request_get(r);

    return rq && rq->client_headers ? rq->client_headers : r->headers_in;
}

static int is_preflight(const request_rec *r)
{
    return r->method_number == M_OPTIONS
           && apr_table_get(client_in(r), "Access-Control-Request-Method");
}

void apigw_cors_passthrough_preflight(request_rec *r,
                                      const apigw_cors_policy *c, int served)
{
    if (is_preflight(r)) {
        /* the backend answers; the gateway's headers go on its response
         * (err_headers_out survives mod_proxy taking the backend's) */
        preflight_headers(r, c, r->err_headers_out, served);
    }
}

static int is_cors_field(const char *key)
{
    /* most names do not start with 'A': no compare for them */
    return key && (key[0] == 'A' || key[0] == 'a')
           && ap_cstr_casecmpn(key, "Access-Control-", 15) == 0;
}

/* Drops the backend's own Access-Control-* fields in one pass; most
 * responses have none. Unset removes every entry of the name and moves the
 * later ones down (the array is not reallocated), so the scan goes on at
 * the same index. */
static void strip_cors_fields(apr_table_t *t)
{
    const apr_array_header_t *h = apr_table_elts(t);
    const apr_table_entry_t *e = (const apr_table_entry_t *)h->elts;
    int i;

    for (i = 0; i < h->nelts; i++) {
        if (is_cors_field(e[i].key)) {
            apr_table_unset(t, e[i].key);
            i--;
        }
    }
}

/* Written as the response starts, into its own headers: nothing in
 * err_headers_out, so httpd has no table to overlay when it sends them.
 * On the backend's response (also a passed-through preflight's) the
 * gateway's fields replace the backend's; after the strip they are added
 * without a lookup. On httpd's own error response they are set. */
void apigw_cors_response(request_rec *r, const apigw_cors_policy *c,
                         apr_table_t *t, int from_backend)
{
    put_field put = from_backend ? apr_table_addn : apr_table_setn;
    const char *origin;

    if (from_backend) {
        strip_cors_fields(t);
    }
    if (is_preflight(r)) {
        return;
    }
    /* a response that depends on Origin says so, allowed or not, so no
     * shared cache hands one origin's answer to another */
    apr_table_mergen(t, "Vary", "Origin");
    origin = apr_table_get(client_in(r), "Origin");
    if (!origin_allowed(c, origin)) {
        return;
    }
    allow_origin(c, t, origin, put);
    if (c->expose_str) {
        put(t, "Access-Control-Expose-Headers", c->expose_str);
    }
}

/* ---- WebSocket handshakes (apigw_stream.c) ---- */

int apigw_cors_ws_origin_allowed(const struct apigw_endpoint *ep,
                                 const char *origin)
{
    const apigw_policy_conf *pol = ep->conf->policy
                                   ? ep->conf->policy->effective : NULL;

    if (!pol || pol->cors.enabled != 1 || !pol->cors.origins
        || pol->cors.any_origin || !origin) {
        return 1;
    }
    return origin_allowed(&pol->cors, origin);
}
