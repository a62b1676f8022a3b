/* The output buffer the encoders write into (see apigw_encode_int.h):
 * growing it, handing it to the caller's pool, integers, the UTF-8
 * reader the JSON, XML and YAML writers escape strings with, and the
 * stack of object members they write in key order. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* ---- object members in key order ---- */

/* First slots of a stack: enough for most answers' open objects. */
#define MEMBERS_FIRST 32

static int member_cmp(const void *a, const void *b)
{
    return strcmp(((const apigw_member *)a)->key,
                  ((const apigw_member *)b)->key);
}

apr_size_t apigw_members_push(apigw_members *ms, obuf *b, const json_t *obj,
                              apr_size_t *n)
{
    apr_size_t base = ms->used, size = json_object_size(obj), i;
    const char *key;
    json_t *val;
    int sorted = 1;

    *n = 0;
    if (size > ms->cap - ms->used) {
        apr_size_t cap = ms->cap ? ms->cap : MEMBERS_FIRST;
        apigw_member *m;

        while (cap - ms->used < size) {
            if (cap > ((apr_size_t)-1) / 2 / sizeof(apigw_member)) {
                b->failed = 1;
                return base;
            }
            cap *= 2;
        }
        m = apr_palloc(ms->p, cap * sizeof(apigw_member));
        if (!m) {
            b->failed = 1;
            return base;
        }
        if (ms->used) {
            memcpy(m, ms->m, ms->used * sizeof(apigw_member));
        }
        ms->m = m;
        ms->cap = cap;
    }
    i = base;
    json_object_foreach((json_t *)obj, key, val) {
        ms->m[i].key = key;
        ms->m[i].val = val;
        if (i > base && sorted && strcmp(ms->m[i - 1].key, key) > 0) {
            sorted = 0;
        }
        i++;
    }
    if (!sorted) {
        qsort(ms->m + base, size, sizeof(apigw_member), member_cmp);
    }
    ms->used = base + size;
    *n = size;
    return base;
}
