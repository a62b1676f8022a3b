/* W3C Trace Context (https://www.w3.org/TR/trace-context/): reading a
 * client's traceparent and tracestate headers, and writing the
 * traceparent a backend call carries. Pure: no httpd, no I/O; the request
 * phases decide what to continue, start or replace.
 *
 * A traceparent is "VERSION-TRACEID-PARENTID-FLAGS": 2, 32, 16 and 2
 * lower-case hex digits. Version 00 is exactly that; a later version
 * (01 to fe) may go on after a '-', and its first four fields are read as
 * version 00's; version ff, upper-case hex, an all-zero trace id or parent
 * id, or anything else makes the header invalid, and an invalid header is
 * replaced, never forwarded (nor its tracestate). */
#ifndef APIGW_TRACE_H
#define APIGW_TRACE_H

#include <apr_pools.h>

#define APIGW_TRACE_ID_LEN 16          /* bytes */
#define APIGW_SPAN_ID_LEN 8
#define APIGW_TRACE_SAMPLED 0x01       /* the flags' sampled bit */
#define APIGW_TRACEPARENT_LEN 55       /* "00-" 32 "-" 16 "-" 2 */
#define APIGW_TRACESTATE_MAX_MEMBERS 32
#define APIGW_TRACESTATE_MAX_LEN 512   /* longer ones are not passed on */

typedef struct {
    unsigned char trace_id[APIGW_TRACE_ID_LEN];
    unsigned char parent_id[APIGW_SPAN_ID_LEN];
    unsigned char flags;
} apigw_traceparent;

/* 1 and *out when value is a valid traceparent, else 0 (*out untouched).
 * NULL is not valid. */
int apigw_traceparent_parse(const char *value, apigw_traceparent *out);

/* The version 00 traceparent of trace_id, span_id and flags, from p. */
char *apigw_traceparent_format(apr_pool_t *p, const unsigned char *trace_id,
                               const unsigned char *span_id,
                               unsigned char flags);

/* Whether value may be passed on as tracestate: 1 to 32 comma-separated
 * members "key=value" (optional spaces and tabs around each, empty
 * members allowed), keys as the specification has them (lower-case
 * letters, digits and _-*\/, starting with a letter, at most 256; or
 * "tenant@system", at most 241 and 14), values of 1 to 256 printable
 * ASCII characters but ',' and '=', no key twice, at most
 * APIGW_TRACESTATE_MAX_LEN in all. */
int apigw_tracestate_valid(const char *value);

/* Whether a new trace is sampled at ratio (0 to 1), given a random
 * 64-bit number: ratio 1 always, 0 never. */
int apigw_trace_sample(double ratio, apr_uint64_t random);

#endif
