/* The JSON string escaper shared by every module (see apigw_json.h). */
#include "apigw_json.h"

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
