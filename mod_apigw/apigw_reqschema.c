/* ApiRequestSchema at run time (see apigw_reqschema.h).
 *
 * fixups (after httpd's access control and authentication, mod_apigw_
 * ratelimit's limits and mod_apigw_breaker's breakers, and before the
 * response cache's lookup): a request another module refused is left to
 * it. Otherwise the body is read whole into the request's pool, within
 * the endpoint's limits (LimitRequestBody, ApiRequestBodyLimit:
 * apigw_policy_limits.c, whose 413s and log lines apply as for any
 * body) and APIGW_SCHEMA_MAX_BODY, and checked (apigw_schema.c). A body
 * that does not match is answered 400 by mod_apigw's handler with the
 * first mismatch (the request marked refused, so no later phase does
 * work for it and no breaker counts it); one that does is handed to the
 * next reader by a request input filter over the protocol's (request
 * filters added later sit below it and are never asked), which gives
 * exactly those bytes and then EOS: mod_proxy sends them to
 * the backend, an aggregating endpoint reads them as it reads any body
 * (apigw_agg.c), nobody reads the client connection again. A body with
 * a Content-Encoding is refused: what a backend would decode is not
 * what was checked. */
#include "apigw_reqschema.h"
#include "apigw_request.h"
#include "apigw_policy.h"
#include "apigw_policy_conf.h"
#include "apigw_schema.h"
#include "apigw_contract.h"
#include "apigw_log.h"

#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "util_filter.h"
#include "apr_strings.h"

APLOG_USE_MODULE(apigw);

ap_filter_rec_t *apigw_body_replay_filter_handle;

typedef struct {
    apr_bucket_brigade *bb;        /* what is left to give */
} replay_ctx;

apr_status_t apigw_body_replay_filter(ap_filter_t *f, apr_bucket_brigade *bb,
                                      ap_input_mode_t mode,
                                      apr_read_type_e block,
                                      apr_off_t readbytes)
{
    replay_ctx *ctx = f->ctx;
    apr_bucket *b, *after;
    apr_status_t rv;

    if (mode == AP_MODE_INIT) {
        return APR_SUCCESS;
    }
    if (APR_BRIGADE_EMPTY(ctx->bb)) {
        /* the body was given whole: EOS, as often as it is asked for */
        APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_eos_create(f->c->bucket_alloc));
        return APR_SUCCESS;
    }
    switch (mode) {
    case AP_MODE_READBYTES:
    case AP_MODE_SPECULATIVE:
        rv = apr_brigade_partition(ctx->bb, readbytes > 0 ? readbytes
                                                          : HUGE_STRING_LEN,
                                   &after);
        if (rv != APR_SUCCESS && rv != APR_INCOMPLETE) {
            return rv;
        }
        if (mode == AP_MODE_SPECULATIVE) {
            for (b = APR_BRIGADE_FIRST(ctx->bb); b != after;
                 b = APR_BUCKET_NEXT(b)) {
                apr_bucket *copy;
                if ((rv = apr_bucket_copy(b, &copy)) != APR_SUCCESS) {
                    return rv;
                }
                APR_BRIGADE_INSERT_TAIL(bb, copy);
            }
            return APR_SUCCESS;
        }
        while ((b = APR_BRIGADE_FIRST(ctx->bb)) != after) {
            APR_BUCKET_REMOVE(b);
            APR_BRIGADE_INSERT_TAIL(bb, b);
        }
        break;
    case AP_MODE_GETLINE:
        rv = apr_brigade_split_line(bb, ctx->bb, block, HUGE_STRING_LEN);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        break;
    case AP_MODE_EXHAUSTIVE:
        APR_BRIGADE_CONCAT(bb, ctx->bb);
        break;
    default:
        return APR_ENOTIMPL;
    }
    if (APR_BRIGADE_EMPTY(ctx->bb)) {
        /* with the last bytes, as HTTP_IN does */
        APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_eos_create(f->c->bucket_alloc));
    }
    return APR_SUCCESS;
}

/* The filters apigw_body_limit_check added to count a chunked body: it
 * has been counted whole. Left in place they would count it again as it
 * is replayed. */
static void drop_counting_filters(request_rec *r)
{
    ap_filter_t *f = r->input_filters;

    while (f && f != r->proto_input_filters) {
        ap_filter_t *next = f->next;
        if (f->frec == apigw_body_limit_filter_handle) {
            ap_remove_input_filter(f);
        }
        f = next;
    }
}

/* A body over what a schema check takes (*why says which bound, or NULL
 * for APIGW_SCHEMA_MAX_BODY): 413. */
static int too_large(request_rec *r, const apigw_endpoint *ep,
                     const char **why)
{
    if (!*why) {
        *why = apr_psprintf(r->pool, "the request body is larger than the "
                            "%d bytes this endpoint's schema checks",
                            APIGW_SCHEMA_MAX_BODY);
        /* some of it may be left unread */
        r->connection->keepalive = AP_CONN_CLOSE;
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, APIGW_LOGNO(00662)
                  "endpoint %s: ApiRequestSchema refused a request body: %s; "
                  "answered 413", ep->pattern, *why);
    return HTTP_REQUEST_ENTITY_TOO_LARGE;
}

/* A read of the body failed: the status to answer with. */
static int read_failed(request_rec *r, const apigw_endpoint *ep,
                       apr_status_t rv, const char **why)
{
    int status = ap_map_http_request_error(rv, HTTP_BAD_REQUEST);

    r->connection->keepalive = AP_CONN_CLOSE;
    if (status == HTTP_REQUEST_ENTITY_TOO_LARGE) {
        *why = "the request body is too large";
        return status;              /* apigw_policy_limits.c logged it */
    }
    if (!ap_is_HTTP_ERROR(status)) {
        status = HTTP_BAD_REQUEST;  /* AP_FILTER_ERROR: a filter's own */
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, rv, r, APIGW_LOGNO(00663)
                  "endpoint %s: the request body could not be read for "
                  "ApiRequestSchema", ep->pattern);
    *why = "the request body cannot be read";
    return status;
}

/* Appends n bytes of data to the body being read (*buf, *len, *cap from
 * r->pool): OK, or 413 past APIGW_SCHEMA_MAX_BODY. */
static int append(request_rec *r, const apigw_endpoint *ep, char **buf,
                  apr_size_t *len, apr_size_t *cap, const char *data,
                  apr_size_t n, const char **why)
{
    if (n > APIGW_SCHEMA_MAX_BODY - *len) {
        *why = NULL;
        return too_large(r, ep, why);
    }
    if (*len + n > *cap) {
        apr_size_t ncap = *cap ? *cap : 8192;
        char *nbuf;
        while (ncap < *len + n) {
            ncap *= 2;
        }
        if (ncap > APIGW_SCHEMA_MAX_BODY) {
            ncap = APIGW_SCHEMA_MAX_BODY;
        }
        nbuf = apr_palloc(r->pool, ncap);
        if (*len) {
            memcpy(nbuf, *buf, *len);
        }
        *buf = nbuf;
        *cap = ncap;
    }
    memcpy(*buf + *len, data, n);
    *len += n;
    return OK;
}

/* The whole body into r->pool: OK, or the status to answer with and
 * *why for the client. */
static int read_body(request_rec *r, const apigw_endpoint *ep, char **out,
                     apr_size_t *out_len, const char **why)
{
    apr_bucket_brigade *bb;
    const char *cl, *ce;
    char *buf = NULL;
    apr_size_t len = 0, cap = 0;
    apr_status_t rv;
    int status = OK, seen_eos = 0;

    /* the endpoint's limits: a declared length over them is 413 now; a
     * chunked body is counted as it is read */
    if ((status = apigw_policy_body_limit_check(r, ep)) != OK) {
        *why = "the request body is too large";
        return status;
    }
    if ((cl = apr_table_get(r->headers_in, "Content-Length")) != NULL) {
        apr_off_t declared;
        char *end;
        if (apr_strtoff(&declared, cl, &end, 10) == APR_SUCCESS && !*end
            && declared > 0) {
            if (declared > APIGW_SCHEMA_MAX_BODY) {
                *why = NULL;
                return too_large(r, ep, why);
            }
            /* room for what is declared, up to 64 KiB: a client may
             * declare more than it sends */
            cap = declared < 65536 ? (apr_size_t)declared : 65536;
            buf = apr_palloc(r->pool, cap);
        }
    }
    if ((ce = apr_table_get(r->headers_in, "Content-Encoding")) != NULL
        && ap_cstr_casecmp(ce, "identity") != 0) {
        *why = "the request body has a Content-Encoding; the endpoint's "
               "schema checks plain JSON only";
        return HTTP_BAD_REQUEST;
    }
    bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    while (!seen_eos && status == OK) {
        apr_bucket *b;

        rv = ap_get_brigade(r->input_filters, bb, AP_MODE_READBYTES,
                            APR_BLOCK_READ, HUGE_STRING_LEN);
        if (rv != APR_SUCCESS) {
            status = read_failed(r, ep, rv, why);
            break;
        }
        for (b = APR_BRIGADE_FIRST(bb);
             b != APR_BRIGADE_SENTINEL(bb) && status == OK;
             b = APR_BUCKET_NEXT(b)) {
            const char *data;
            apr_size_t n;

            if (APR_BUCKET_IS_EOS(b)) {
                seen_eos = 1;
                break;
            }
            if (AP_BUCKET_IS_ERROR(b)) {
                status = read_failed(r, ep, ((ap_bucket_error *)b->data)
                                     ->status == HTTP_REQUEST_ENTITY_TOO_LARGE
                                     ? APR_ENOSPC : APR_EGENERAL, why);
                break;
            }
            if (APR_BUCKET_IS_METADATA(b)) {
                continue;
            }
            if ((rv = apr_bucket_read(b, &data, &n, APR_BLOCK_READ))
                != APR_SUCCESS) {
                status = read_failed(r, ep, rv, why);
                break;
            }
            if (n) {
                status = append(r, ep, &buf, &len, &cap, data, n, why);
            }
        }
        apr_brigade_cleanup(bb);
    }
    apr_brigade_destroy(bb);
    if (status != OK) {
        return status;
    }
    drop_counting_filters(r);
    *out = buf;
    *out_len = len;
    return OK;
}

/* The gateway answers status with why (mod_apigw's handler sends it);
 * the request is marked refused for the phases and modules after this. */
static int refuse(request_rec *r, apigw_request *rq, int status,
                  const char *why)
{
    apigw_refuse(r, status);
    rq->error_status = status;
    rq->error_message = why;
    return OK;
}

int apigw_reqschema_fixups(request_rec *r)
{
    apigw_request *rq = apigw_request_get(r);
    const apigw_schema *s;
    apigw_schema_verdict v;
    const char *why = NULL;
    replay_ctx *ctx;
    char *body = NULL;
    apr_size_t len = 0;
    int status;

    if (!rq || !rq->endpoint || rq->error_status || r->main
        || !(s = rq->endpoint->conf->request_schema)) {
        return DECLINED;
    }
    if (apigw_refused(r)) {
        return DECLINED;            /* whoever refused it answers it */
    }
    if ((status = read_body(r, rq->endpoint, &body, &len, &why)) != OK) {
        return refuse(r, rq, status, why);
    }
    v = apigw_schema_check_body(r->pool, s, body, len, &why);
    switch (v) {
    case APIGW_SCHEMA_VALID:
        ctx = apr_palloc(r->pool, sizeof(*ctx));
        ctx->bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
        APR_BRIGADE_INSERT_TAIL(ctx->bb, apr_bucket_pool_create(body, len,
                                r->pool, r->connection->bucket_alloc));
        ap_add_input_filter_handle(apigw_body_replay_filter_handle, ctx, r,
                                   r->connection);
        return OK;
    case APIGW_SCHEMA_UNDECIDED:
        /* the schema's cost, not only the client's: the operator should
         * know */
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, APIGW_LOGNO(00661)
                      "endpoint %s: ApiRequestSchema refused a request body "
                      "it could not check: %s", rq->endpoint->pattern, why);
        status = HTTP_BAD_REQUEST;
        break;
    case APIGW_SCHEMA_TOO_LARGE:
        status = too_large(r, rq->endpoint, &why);
        break;
    default:
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, APIGW_LOGNO(00660)
                      "endpoint %s: ApiRequestSchema refused a request "
                      "body: %s", rq->endpoint->pattern, why);
        status = HTTP_BAD_REQUEST;
        break;
    }
    return refuse(r, rq, status, why);
}
