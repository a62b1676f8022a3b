/* The error responses httpd itself generates for an endpoint request
 * (401 and 403 from Require, 413 from LimitRequestBody, ...) rewritten to
 * the gateway's JSON body, {"status":N,"error":"..."}, by an output filter
 * added at insert_error_filter, so API clients never parse httpd's HTML
 * error pages. The body itself is common/apigw_json_error.c's. A request
 * to the admin API's GraphQL resource gets a GraphQL error instead
 * (UNAUTHENTICATED for a 401, FORBIDDEN for a 403, ...), a gRPC call a
 * gRPC status (common/apigw_json_error.h).
 *
 * ApiErrorFormat: which shape every module's own answers take for a
 * request is the note APIGW_NOTE_ERROR_FORMAT, set here from the server's
 * setting as the request is read and from the endpoint's once the route
 * matched; absent, JSON. With krakend, a path the host has no endpoint
 * for is answered KrakenD's way too (its router answers every path). */
#include "apigw_error.h"
#include "apigw_admin.h"
#include "apigw_admin_graphql.h"
#include "apigw_request.h"
#include "apigw_json_error.h"
#include "apigw_error_filter.h"

#include "http_protocol.h"
#include "mod_core.h"
#include "http_request.h"
#include "util_filter.h"
#include "apr_strings.h"

ap_filter_rec_t *apigw_json_error_filter_handle;

/* ---- the request's error format ---- */

static void format_note(request_rec *r, int format)
{
    const char *v = apigw_error_format_note((apigw_error_format)format);

    if (v) {
        apr_table_setn(r->notes, APIGW_NOTE_ERROR_FORMAT, v);
    }
    else {
        apr_table_unset(r->notes, APIGW_NOTE_ERROR_FORMAT);
    }
}

int apigw_error_post_read_request(request_rec *r)
{
    const apigw_server_conf *sc = ap_get_module_config(r->server->module_config,
                                                       &apigw_module);

    /* JSON, the default, is no note: nothing to do on the common path */
    if (sc->error_format && sc->error_format != APIGW_ERRORS_JSON) {
        format_note(r, sc->error_format);
    }
    return DECLINED;
}

void apigw_error_format_endpoint(request_rec *r, const apigw_endpoint *ep)
{
    if (ep && ep->conf && ep->conf->error_format) {
        format_note(r, ep->conf->error_format);
    }
}

/* ---- httpd's own errors ---- */

/* The GraphQL code of an error status httpd answered. */
static const char *graphql_code(int status)
{
    switch (status) {
    case HTTP_UNAUTHORIZED:
        return "UNAUTHENTICATED";
    case HTTP_FORBIDDEN:
        return "FORBIDDEN";
    case HTTP_NOT_FOUND:
        return "NOT_FOUND";
    default:
        return status >= 500 ? "INTERNAL_SERVER_ERROR" : "BAD_USER_INPUT";
    }
}

void apigw_error_insert_filter(request_rec *r)
{
    const char *body = NULL;

    /* an ErrorDocument the operator wrote wins; so does a module that
     * shapes this error itself (mod_apigw_auth's 401s) */
    if (r->status < 400 || apigw_error_owned(r)
        || ap_response_code_string(r, ap_index_of_response(r->status))) {
        return;
    }
    /* outside endpoints, only the admin API's GraphQL resource, gRPC
     * calls and, with ApiErrorFormat krakend, the host's 404 (KrakenD's
     * router answers every path) get an error of their own shape */
    if (!apigw_request_get(r)) {
        if (apigw_admin_is_graphql(r)) {
            body = apigw_admin_graphql_error(r->pool, apr_psprintf(r->pool,
                       "%d %s", r->status, apigw_status_reason(r->status)),
                       graphql_code(r->status));
        }
        else if (!apigw_error_for_grpc(r)
                 && (r->status != HTTP_NOT_FOUND
                     || apigw_error_format_of(r) == APIGW_ERRORS_JSON)) {
            return;
        }
    }
    apigw_error_filter_add(r, apigw_json_error_filter_handle, body, NULL);
}
