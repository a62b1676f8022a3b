/* Serving the embedded console (apigw_console.h): a lookup in the
 * generated table, conditional GETs on the ETag, the security headers. */
#include "apigw_console.h"

#include "http_protocol.h"
#include "http_request.h"
#include "apr_strings.h"

#include <string.h>

#define CONSOLE_CSP "default-src 'none'; script-src 'self'; " \
    "style-src 'self'; img-src 'self' data:; connect-src 'self'; " \
    "form-action 'none'; frame-ancestors 'none'; base-uri 'none'"

static const apigw_console_asset *find_asset(const char *name)
{
    apr_size_t i;

    if (!name || !*name) {
        name = "index.html";
    }
    for (i = 0; i < apigw_console_asset_count; i++) {
        if (strcmp(apigw_console_assets[i].name, name) == 0) {
            return &apigw_console_assets[i];
        }
    }
    return NULL;
}

/* Does the If-None-Match list (maybe weak tags, maybe "*") name etag? */
static int none_match_hits(apr_pool_t *p, const char *list, const char *etag)
{
    char *copy, *tok, *last;

    copy = apr_pstrdup(p, list);
    for (tok = apr_strtok(copy, ",", &last); tok;
         tok = apr_strtok(NULL, ",", &last)) {
        apr_size_t n;

        while (*tok == ' ' || *tok == '\t') {
            tok++;
        }
        n = strlen(tok);
        while (n && (tok[n - 1] == ' ' || tok[n - 1] == '\t')) {
            tok[--n] = '\0';
        }
        if (strcmp(tok, "*") == 0) {
            return 1;
        }
        if (strncmp(tok, "W/", 2) == 0) {  /* weak comparison (RFC 9110) */
            tok += 2;
        }
        if (strcmp(tok, etag) == 0) {
            return 1;
        }
    }
    return 0;
}

static void security_headers(request_rec *r)
{
    /* err_headers_out: kept on the error answers httpd writes too */
    apr_table_t *h = r->err_headers_out;

    apr_table_setn(h, "Content-Security-Policy", CONSOLE_CSP);
    apr_table_setn(h, "X-Content-Type-Options", "nosniff");
    apr_table_setn(h, "Referrer-Policy", "no-referrer");
    apr_table_setn(h, "X-Frame-Options", "DENY");
}

int apigw_console_answer(request_rec *r, const char *name)
{
    const apigw_console_asset *a = find_asset(name);
    const char *inm;

    if (!a) {
        return HTTP_NOT_FOUND;
    }
    security_headers(r);
    if (r->method_number != M_GET) {     /* HEAD is M_GET with header_only */
        ap_allow_methods(r, 1, "GET", "HEAD", NULL);
        return HTTP_METHOD_NOT_ALLOWED;
    }
    apr_table_setn(r->headers_out, "ETag", a->etag);
    apr_table_setn(r->headers_out, "Cache-Control", "no-cache");
    inm = apr_table_get(r->headers_in, "If-None-Match");
    if (inm && none_match_hits(r->pool, inm, a->etag)) {
        r->status = HTTP_NOT_MODIFIED;
        return OK;
    }
    ap_set_content_type(r, a->content_type);
    ap_set_content_length(r, (apr_off_t)a->length);
    if (!r->header_only) {
        ap_rwrite(a->bytes, (int)a->length, r);
    }
    return OK;
}
