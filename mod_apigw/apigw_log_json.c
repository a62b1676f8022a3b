/* %{NAME}J, a mod_log_config format item: one value of the request as a
 * JSON value, so that a LogFormat writes one valid JSON object per line
 * whatever a client sent (the apigw_json format, docs/logging.md).
 *
 *   %{NAME}J   a request note (apigw-endpoint, apigw-trace-id, ...) as a
 *              JSON string, or null when the request has none; or one of
 *              the request's own fields: method, uri, query, protocol,
 *              host, remote (the client's address), user-agent, referer,
 *              user, time (the request's start, ISO 8601 UTC with
 *              microseconds)
 *   %{#NAME}J  a note holding a whole number (apigw-backend-time) as a
 *              JSON number, or null
 *
 * Strings get JSON's escapes, and a byte that is not part of valid UTF-8
 * becomes U+FFFD (both common/apigw_json.c), so every line parses. */
#include "apigw_log_json.h"
#include "apigw_json.h"

#include "http_core.h"
#include "mod_log_config.h"
#include "apr_strings.h"
#include "apr_lib.h"

#include <string.h>

static const char *iso_time(request_rec *r)
{
    apr_time_exp_t t;

    apr_time_exp_gmt(&t, r->request_time);
    return apr_psprintf(r->pool, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ",
                        t.tm_year + 1900, t.tm_mon + 1, t.tm_mday,
                        t.tm_hour, t.tm_min, t.tm_sec, t.tm_usec);
}

/* The request's own field called name, or NULL (*known = 0) when name is
 * not one of them. */
static const char *request_field(request_rec *r, const char *name,
                                 int *known)
{
    *known = 1;
    switch (name[0]) {
    case 'h':
        if (strcmp(name, "host") == 0) {
            return r->hostname;
        }
        break;
    case 'm':
        if (strcmp(name, "method") == 0) {
            return r->method;
        }
        break;
    case 'p':
        if (strcmp(name, "protocol") == 0) {
            return r->protocol;
        }
        break;
    case 'q':
        if (strcmp(name, "query") == 0) {
            return r->args;
        }
        break;
    case 'r':
        if (strcmp(name, "remote") == 0) {
            return r->useragent_ip;
        }
        if (strcmp(name, "referer") == 0) {
            return apr_table_get(r->headers_in, "Referer");
        }
        break;
    case 't':
        if (strcmp(name, "time") == 0) {
            return iso_time(r);
        }
        break;
    case 'u':
        if (strcmp(name, "uri") == 0) {
            return r->uri;
        }
        if (strcmp(name, "user-agent") == 0) {
            return apr_table_get(r->headers_in, "User-Agent");
        }
        if (strcmp(name, "user") == 0) {
            return r->user;
        }
        break;
    }
    *known = 0;
    return NULL;
}

/* A note set on an internal redirect's original request still counts. */
static const char *note_of(request_rec *r, const char *name)
{
    const char *v;

    while (r) {
        if ((v = apr_table_get(r->notes, name)) != NULL) {
            return v;
        }
        r = r->prev;
    }
    return NULL;
}

static const char *number_or_null(const char *v)
{
    const char *c;

    if (!v || !*v || (v[0] == '0' && v[1])) {
        return "null";                 /* JSON has no leading zeros */
    }
    for (c = v; *c; c++) {
        if (!apr_isdigit(*c)) {
            return "null";
        }
    }
    return v;
}

static const char *log_json_item(request_rec *r, char *a)
{
    const char *v;
    int known;

    if (!a || !*a) {
        return "null";
    }
    if (a[0] == '#') {
        return number_or_null(note_of(r, a + 1));
    }
    v = request_field(r, a, &known);
    if (!known) {
        v = note_of(r, a);
    }
    return v ? apigw_json_str(r->pool, apigw_utf8_clean(r->pool, v)) : "null";
}

void apigw_log_json_register(apr_pool_t *p)
{
    APR_OPTIONAL_FN_TYPE(ap_register_log_handler) *reg =
        APR_RETRIEVE_OPTIONAL_FN(ap_register_log_handler);

    if (reg) {
        reg(p, "J", log_json_item, 0);
    }
}
