/* The output buffer the encoders write into (see apigw_encode_int.h):
 * growing it, handing it to the caller's pool, integers, and the UTF-8
 * reader the JSON, XML and YAML writers escape strings with. */
#include <stdio.h>
#include <stdlib.h>

#include "apigw_encode_int.h"

/* ---- output buffer ---- */

/* ob_room's slow path: doubles the capacity (from 256) until n more
 * bytes and a NUL fit. */
int apigw_ob_grow(obuf *b, apr_size_t n)
{
    apr_size_t cap;
    char *d;

    cap = b->cap ? b->cap : 256;
    while (cap - b->len <= n) {
        if (cap > ((apr_size_t)-1) / 2) {
            b->failed = 1;
            return 0;
        }
        cap *= 2;
    }
    d = realloc(b->data, cap);
    if (!d) {
        b->failed = 1;
        return 0;
    }
    b->data = d;
    b->cap = cap;
    return 1;
}

static apr_status_t free_cleanup(void *data)
{
    free(data);
    return APR_SUCCESS;
}

/* Hands the buffer to p; NULL (and frees it) when writing failed. */
const char *apigw_ob_finish(apr_pool_t *p, obuf *b, apr_size_t *len)
{
    if (!ob_room(b, 1)) {
        free(b->data);
        return NULL;
    }
    b->data[b->len] = '\0';
    apr_pool_cleanup_register(p, b->data, free_cleanup,
                              apr_pool_cleanup_null);
    *len = b->len;
    return b->data;
}

void apigw_ob_integer(obuf *b, json_int_t v)
{
    char num[32];
    int n = snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, v);

    ob_put(b, num, (apr_size_t)n);
}

/* ---- UTF-8 ---- */

long apigw_utf8_next(const unsigned char *s, apr_size_t n, apr_size_t *adv)
{
    unsigned char c = s[0];
    long cp;
    apr_size_t need, i;

    *adv = 1;
    if (c < 0x80) {
        return c;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        need = 1;
        cp = c & 0x1f;
    }
    else if (c >= 0xe0 && c <= 0xef) {
        need = 2;
        cp = c & 0x0f;
    }
    else if (c >= 0xf0 && c <= 0xf4) {
        need = 3;
        cp = c & 0x07;
    }
    else {
        return -1;
    }
    if (n <= need) {
        return -1;
    }
    for (i = 1; i <= need; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            return -1;
        }
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000)
        || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        return -1;
    }
    *adv = need + 1;
    return cp;
}
