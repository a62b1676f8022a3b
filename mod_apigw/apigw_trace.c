/* W3C Trace Context headers: traceparent read and written, tracestate
 * checked (see apigw_trace.h). */
#include "apigw_trace.h"

#include <string.h>

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    return -1;                       /* upper case is not allowed either */
}

/* n bytes from 2n lower-case hex digits at s; 0 when one is not. */
static int hex_bytes(const char *s, unsigned char *out, int n)
{
    int i;

    for (i = 0; i < n; i++) {
        int hi = hex_value(s[2 * i]), lo;

        if (hi < 0 || (lo = hex_value(s[2 * i + 1])) < 0) {
            return 0;
        }
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return 1;
}

static int all_zero(const unsigned char *b, int n)
{
    int i;

    for (i = 0; i < n; i++) {
        if (b[i]) {
            return 0;
        }
    }
    return 1;
}

int apigw_traceparent_parse(const char *value, apigw_traceparent *out)
{
    apigw_traceparent tp;
    unsigned char version;
    apr_size_t len;

    if (!value) {
        return 0;
    }
    len = strlen(value);
    if (len < APIGW_TRACEPARENT_LEN
        || !hex_bytes(value, &version, 1) || version == 0xff
        || value[2] != '-' || value[35] != '-' || value[52] != '-') {
        return 0;
    }
    /* version 00 is exactly its four fields; a later one may add its own
     * after a '-' */
    if (version == 0 ? len != APIGW_TRACEPARENT_LEN
                     : len > APIGW_TRACEPARENT_LEN
                       && value[APIGW_TRACEPARENT_LEN] != '-') {
        return 0;
    }
    if (!hex_bytes(value + 3, tp.trace_id, APIGW_TRACE_ID_LEN)
        || !hex_bytes(value + 36, tp.parent_id, APIGW_SPAN_ID_LEN)
        || !hex_bytes(value + 53, &tp.flags, 1)
        || all_zero(tp.trace_id, APIGW_TRACE_ID_LEN)
        || all_zero(tp.parent_id, APIGW_SPAN_ID_LEN)) {
        return 0;
    }
    *out = tp;
    return 1;
}

static char *put_hex(char *at, const unsigned char *b, int n)
{
    static const char digits[] = "0123456789abcdef";
    int i;

    for (i = 0; i < n; i++) {
        *at++ = digits[b[i] >> 4];
        *at++ = digits[b[i] & 0x0f];
    }
    return at;
}

char *apigw_traceparent_format(apr_pool_t *p, const unsigned char *trace_id,
                               const unsigned char *span_id,
                               unsigned char flags)
{
    char *s = apr_palloc(p, APIGW_TRACEPARENT_LEN + 1), *at = s;

    *at++ = '0';
    *at++ = '0';
    *at++ = '-';
    at = put_hex(at, trace_id, APIGW_TRACE_ID_LEN);
    *at++ = '-';
    at = put_hex(at, span_id, APIGW_SPAN_ID_LEN);
    *at++ = '-';
    at = put_hex(at, &flags, 1);
    *at = '\0';
    return s;
}

/* ---- tracestate ---- */

static int key_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'
           || c == '-' || c == '*' || c == '/';
}

static int lcalpha(char c)
{
    return c >= 'a' && c <= 'z';
}

/* A key of len bytes at k: simple, or tenant@system. */
static int key_valid(const char *k, apr_size_t len)
{
    const char *at = memchr(k, '@', len);
    apr_size_t i, tenant, system;

    if (!at) {
        if (len < 1 || len > 256 || !lcalpha(k[0])) {
            return 0;
        }
        for (i = 1; i < len; i++) {
            if (!key_char(k[i])) {
                return 0;
            }
        }
        return 1;
    }
    tenant = (apr_size_t)(at - k);
    system = len - tenant - 1;
    if (tenant < 1 || tenant > 241 || system < 1 || system > 14
        || !(lcalpha(k[0]) || (k[0] >= '0' && k[0] <= '9'))
        || !lcalpha(at[1])) {
        return 0;
    }
    for (i = 1; i < len; i++) {
        if (i != tenant && !key_char(k[i])) {
            return 0;
        }
    }
    return 1;
}

/* A value of len bytes: printable ASCII but ',' and '=' (a space it
 * ends in is the list's, trimmed before). */
static int value_valid(const char *v, apr_size_t len)
{
    apr_size_t i;

    if (len < 1 || len > 256) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        if (v[i] < 0x20 || v[i] > 0x7e || v[i] == ',' || v[i] == '=') {
            return 0;
        }
    }
    return 1;
}

static int ows(char c)
{
    return c == ' ' || c == '\t';
}

int apigw_tracestate_valid(const char *value)
{
    const char *keys[APIGW_TRACESTATE_MAX_MEMBERS];
    apr_size_t key_lens[APIGW_TRACESTATE_MAX_MEMBERS];
    const char *s = value;
    int n = 0, j;

    if (!value || strlen(value) > APIGW_TRACESTATE_MAX_LEN) {
        return 0;
    }
    for (;;) {
        const char *start, *end, *eq;

        while (ows(*s)) {
            s++;
        }
        start = s;
        while (*s && *s != ',') {
            s++;
        }
        end = s;
        while (end > start && ows(end[-1])) {
            end--;
        }
        if (end > start) {                  /* an empty member is allowed */
            eq = memchr(start, '=', (apr_size_t)(end - start));
            if (!eq || n == APIGW_TRACESTATE_MAX_MEMBERS
                || !key_valid(start, (apr_size_t)(eq - start))
                || !value_valid(eq + 1, (apr_size_t)(end - eq - 1))) {
                return 0;
            }
            for (j = 0; j < n; j++) {
                if (key_lens[j] == (apr_size_t)(eq - start)
                    && memcmp(keys[j], start, key_lens[j]) == 0) {
                    return 0;                /* a key twice */
                }
            }
            keys[n] = start;
            key_lens[n++] = (apr_size_t)(eq - start);
        }
        if (!*s) {
            break;
        }
        s++;                                 /* the ',' */
    }
    return n > 0;
}

int apigw_trace_sample(double ratio, apr_uint64_t random)
{
    if (!(ratio > 0.0)) {
        return 0;
    }
    if (ratio >= 1.0) {
        return 1;
    }
    /* the top 53 bits as a number in [0, 1) */
    return (double)(random >> 11) * (1.0 / 9007199254740992.0) < ratio;
}
