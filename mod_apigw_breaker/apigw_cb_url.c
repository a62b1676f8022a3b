/* URLs as the circuit breaker sees them (see apigw_cb_url.h). */
#include "apigw_cb_url.h"

#include <string.h>
#include <strings.h>

#include <apr_strings.h>

/* Where the authority of url ends (its path, query or end), or NULL. */
static const char *authority_end(const char *url)
{
    const char *base = url, *s;

    if (strncasecmp(url, "unix:", 5) == 0 && (s = strchr(url, '|')) != NULL) {
        base = s + 1;
    }
    s = strstr(base, "://");
    if (!s || s == base) {
        return NULL;
    }
    s += 3;
    return s + strcspn(s, "/?#");
}

const char *apigw_cb_url_origin(apr_pool_t *p, const char *url)
{
    const char *end = authority_end(url);

    return end ? apr_pstrmemdup(p, url, (apr_size_t)(end - url)) : NULL;
}

const char *apigw_cb_url_rebase(apr_pool_t *p, const char *url,
                                const char *origin, const char *prefix)
{
    const char *rest = authority_end(url);

    if (!rest) {
        return NULL;
    }
    return apr_pstrcat(p, origin, prefix, *rest == '/' ? "" : "/", rest,
                       NULL);
}

const char *apigw_cb_url_parse_fallback(apr_pool_t *p, const char *url,
                                        const char **origin,
                                        const char **prefix)
{
    const char *host, *end, *c, *colon = NULL;
    apr_size_t plen;

    if (strncasecmp(url, "http://", 7) == 0) {
        host = url + 7;
    }
    else if (strncasecmp(url, "https://", 8) == 0) {
        host = url + 8;
    }
    else {
        return "must be an http:// or https:// URL";
    }
    for (c = url; *c; c++) {
        if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f) {
            return "must not hold spaces or control characters";
        }
    }
    end = host + strcspn(host, "/?#");
    if (end == host) {
        return "has no host";
    }
    for (c = host; c < end; c++) {
        if (*c == '@') {
            return "must not hold a user or password";
        }
        if (*c == ']') {
            colon = NULL;               /* an IPv6 literal's colons */
        }
        else if (*c == ':') {
            colon = c;
        }
    }
    if (colon) {
        apr_size_t digits = (apr_size_t)(end - colon - 1);
        long port = 0;

        if (digits == 0 || digits > 5) {
            return "has a bad port";
        }
        for (c = colon + 1; c < end; c++) {
            if (*c < '0' || *c > '9') {
                return "has a bad port";
            }
            port = port * 10 + (*c - '0');
        }
        if (port < 1 || port > 65535) {
            return "has a bad port";
        }
        if (colon == host) {
            return "has no host";
        }
    }
    if (*end == '?' || *end == '#' || strpbrk(end, "?#")) {
        return "must not have a query or fragment (the request's own are "
               "kept)";
    }
    plen = strlen(end);
    while (plen > 0 && end[plen - 1] == '/') {
        plen--;
    }
    *origin = apr_pstrmemdup(p, url, (apr_size_t)(end - url));
    *prefix = apr_pstrmemdup(p, end, plen);
    return NULL;
}
