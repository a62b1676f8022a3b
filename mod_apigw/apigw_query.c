/* Query-string allow-lists (see apigw_query.h). */
#include "apigw_query.h"

#include <apr_strings.h>
#include <string.h>

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Does the form-encoded name [s, s+len) decode to want? */
static int name_is(const char *s, apr_size_t len, const char *want)
{
    apr_size_t i = 0;

    if (len && s[0] != *want && s[0] != '%' && s[0] != '+') {
        return 0;                       /* the common miss, decided at once */
    }
    if (strncmp(s, want, len) == 0 && want[len] == '\0'
        && !memchr(s, '%', len) && !memchr(s, '+', len)) {
        return 1;                       /* written as it is, nothing encoded */
    }
    while (i < len) {
        char c = s[i];
        if (c == '+') {
            c = ' ';
            i++;
        }
        else if (c == '%' && i + 2 < len && hexval(s[i + 1]) >= 0
                 && hexval(s[i + 2]) >= 0) {
            c = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 3;
        }
        else {
            i++;
        }
        if (*want == '\0' || *want != c) {
            return 0;
        }
        want++;
    }
    return *want == '\0';
}

static int allowed(const char *pair, apr_size_t len,
                   const apr_array_header_t *names)
{
    const char *eq = memchr(pair, '=', len);
    apr_size_t nlen = eq ? (apr_size_t)(eq - pair) : len;
    int i;

    for (i = 0; names && i < names->nelts; i++) {
        if (name_is(pair, nlen, APR_ARRAY_IDX(names, i, const char *))) {
            return 1;
        }
    }
    return 0;
}

/* Copies the pairs of args for which allowed(pair) == keep. */
static const char *filter_pairs(apr_pool_t *p, const char *args,
                                const apr_array_header_t *names, int keep)
{
    char *out, *o;
    const char *s;

    o = out = apr_palloc(p, strlen(args) + 1);
    for (s = args; *s; ) {
        const char *amp = strchr(s, '&');
        apr_size_t len = amp ? (apr_size_t)(amp - s) : strlen(s);

        if (len && allowed(s, len, names) == keep) {
            if (o != out) {
                *o++ = '&';
            }
            memcpy(o, s, len);
            o += len;
        }
        s += len;
        if (*s == '&') {
            s++;
        }
    }
    *o = '\0';
    return o == out ? NULL : out;
}

/* edge policies (ApiDenyQueryStrings): every pair but the denied ones */
const char *apigw_query_filter_deny(apr_pool_t *p, const char *args,
                                    const apr_array_header_t *names)
{
    if (!args || !*args) {
        return NULL;
    }
    if (!names || names->nelts == 0) {
        return args;
    }
    return filter_pairs(p, args, names, 0);
}

const char *apigw_query_filter(apr_pool_t *p, const char *args, int all,
                               const apr_array_header_t *names)
{
    if (!args || !*args) {
        return NULL;
    }
    if (all) {
        return args;
    }
    if (!names || names->nelts == 0) {
        return NULL;
    }
    return filter_pairs(p, args, names, 1);
}
