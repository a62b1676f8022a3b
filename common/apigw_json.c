/* The JSON string escaper shared by every module, and UTF-8 made valid
 * (see apigw_json.h). */
#include "apigw_json.h"

#include <string.h>

static int needs_u_escape(unsigned char u)
{
    return u < 0x20 || u == 0x7f;
}

const char *apigw_json_str(apr_pool_t *p, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    apr_size_t n = 2;
    const char *c;
    char *out, *o;

    if (!s) {
        return "null";
    }
    for (c = s; *c; c++) {
        unsigned char u = (unsigned char)*c;
        n += needs_u_escape(u) ? 6 : (u == '"' || u == '\\') ? 2 : 1;
    }
    o = out = apr_palloc(p, n + 1);
    *o++ = '"';
    for (c = s; *c; c++) {
        unsigned char u = (unsigned char)*c;
        if (u == '"' || u == '\\') {
            *o++ = '\\';
            *o++ = (char)u;
        }
        else if (needs_u_escape(u)) {
            *o++ = '\\';
            *o++ = 'u';
            *o++ = '0';
            *o++ = '0';
            *o++ = hex[u >> 4];
            *o++ = hex[u & 0xf];
        }
        else {
            *o++ = (char)u;
        }
    }
    *o++ = '"';
    *o = '\0';
    return out;
}

/* The length of the valid UTF-8 sequence at s, or 0. */
static apr_size_t utf8_len(const unsigned char *s)
{
    apr_size_t n, i;
    unsigned int cp;

    if (s[0] < 0x80) {
        return 1;
    }
    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        n = 2;
        cp = s[0] & 0x1f;
    }
    else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        n = 3;
        cp = s[0] & 0x0f;
    }
    else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        n = 4;
        cp = s[0] & 0x07;
    }
    else {
        return 0;
    }
    for (i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            return 0;                /* the NUL ends it here too */
        }
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff)))
        || (n == 4 && (cp < 0x10000 || cp > 0x10ffff))) {
        return 0;                    /* overlong, surrogate, too large */
    }
    return n;
}

const char *apigw_utf8_clean(apr_pool_t *p, const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    apr_size_t i = 0, n, bad = 0;
    char *out, *o;

    while (u[i]) {
        if ((n = utf8_len(u + i)) == 0) {
            bad++;
            n = 1;
        }
        i += n;
    }
    if (!bad) {
        return s;
    }
    o = out = apr_palloc(p, i + 2 * bad + 1);
    for (i = 0; u[i]; ) {
        if ((n = utf8_len(u + i)) == 0) {
            memcpy(o, "\xef\xbf\xbd", 3);
            o += 3;
            i++;
            continue;
        }
        memcpy(o, u + i, n);
        o += n;
        i += n;
    }
    *o = '\0';
    return out;
}
