/* CORS origin patterns (see apigw_policy_origin.h). Pure: APR only. */
#include "apigw_policy_origin.h"

#include <apr_cstr.h>
#include <apr_lib.h>
#include <string.h>

static int is_host_char(char c)
{
    return apr_isalnum(c) || c == '-' || c == '.';
}

const char *apigw_cors_origin_check(apr_pool_t *p, const char *pattern)
{
    const char *sep = strstr(pattern, "://"), *host, *s;
    int port_digits = 0, in_port = 0;

    (void)p;
    if (strcmp(pattern, "null") == 0) {
        return NULL;
    }
    if (!sep || sep == pattern) {
        return "an origin is scheme://host[:port], like "
               "https://app.example.com";
    }
    for (s = pattern; s < sep; s++) {
        if (!apr_isalnum(*s) && *s != '+' && *s != '-' && *s != '.') {
            return "the scheme holds an invalid character";
        }
    }
    host = sep + 3;
    if (strncmp(host, "*.", 2) == 0) {
        host += 2;
    }
    if (!*host || *host == '.' || *host == ':') {
        return "the host is missing";
    }
    for (s = host; *s; s++) {
        if (*s == ':' && !in_port) {
            in_port = 1;
            continue;
        }
        if (in_port ? !apr_isdigit(*s) : !is_host_char(*s)) {
            return *s == '/' ? "an origin has no path (not even a trailing "
                               "'/')"
                             : *s == '*' ? "'*' is only allowed as the "
                                           "first label, like "
                                           "https://*.example.com"
                                         : "the host or port holds an "
                                           "invalid character";
        }
        port_digits += in_port;
    }
    if (in_port && (port_digits == 0 || port_digits > 5)) {
        return "the port is not a number";
    }
    return NULL;
}

void apigw_cors_origin_compile(apigw_origin_pattern *op, const char *pattern)
{
    const char *star = strstr(pattern, "://*.");

    op->pattern = pattern;
    op->len = strlen(pattern);
    op->scheme_len = star ? (apr_size_t)(star - pattern) + 3 : 0;
}

int apigw_cors_origin_matches(const apigw_origin_pattern *op,
                              const char *origin, apr_size_t olen)
{
    const char *suffix, *ohost;
    apr_size_t slen, hlen;

    if (!op->scheme_len) {
        /* browsers send origins in lower case, as the pattern is kept */
        return olen == op->len
               && (memcmp(op->pattern, origin, olen) == 0
                   || apr_cstr_casecmpn(op->pattern, origin, olen) == 0);
    }
    /* "https://" "*.example.com": same scheme, then one or more labels, then
     * ".example.com" and the same port (or none) */
    suffix = op->pattern + op->scheme_len + 1;     /* ".example.com[:port]" */
    slen = op->len - op->scheme_len - 1;
    if (olen <= op->scheme_len + slen
        || apr_cstr_casecmpn(op->pattern, origin, op->scheme_len) != 0) {
        return 0;
    }
    ohost = origin + op->scheme_len;
    hlen = olen - op->scheme_len;
    if (apr_cstr_casecmp(ohost + hlen - slen, suffix) != 0) {
        return 0;
    }
    /* the labels [ohost, ohost + hlen - slen): host characters, none
     * empty ("..example.com", "a..b.example.com" are not subdomains); the
     * last one is followed by the suffix's '.' */
    if (*ohost == '.') {
        return 0;
    }
    for (; hlen > slen; hlen--, ohost++) {
        if (!is_host_char(*ohost) || (ohost[0] == '.' && ohost[1] == '.')) {
            return 0;
        }
    }
    return 1;
}

int apigw_cors_origin_match(const char *pattern, const char *origin)
{
    apigw_origin_pattern op;

    apigw_cors_origin_compile(&op, pattern);
    return apigw_cors_origin_matches(&op, origin, strlen(origin));
}
