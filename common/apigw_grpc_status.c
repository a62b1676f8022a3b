/* gRPC statuses and grpc-message (see apigw_grpc_status.h). */
#include "apigw_grpc_status.h"

#include <apr_strings.h>
#include <apr_lib.h>
#include <strings.h>

enum {
    GRPC_OK = 0, GRPC_CANCELLED = 1, GRPC_UNKNOWN = 2,
    GRPC_INVALID_ARGUMENT = 3, GRPC_DEADLINE_EXCEEDED = 4,
    GRPC_NOT_FOUND = 5, GRPC_ALREADY_EXISTS = 6, GRPC_PERMISSION_DENIED = 7,
    GRPC_RESOURCE_EXHAUSTED = 8, GRPC_FAILED_PRECONDITION = 9,
    GRPC_ABORTED = 10, GRPC_OUT_OF_RANGE = 11, GRPC_UNIMPLEMENTED = 12,
    GRPC_INTERNAL = 13, GRPC_UNAVAILABLE = 14, GRPC_DATA_LOSS = 15,
    GRPC_UNAUTHENTICATED = 16
};

int apigw_grpc_content_type(const char *ctype)
{
    static const char base[] = "application/grpc";
    const apr_size_t n = sizeof(base) - 1;

    if (!ctype || strncasecmp(ctype, base, n) != 0) {
        return 0;
    }
    return ctype[n] == '\0' || ctype[n] == '+' || ctype[n] == '-'
           || ctype[n] == ';';
}

int apigw_grpc_status_for_http(int http_status)
{
    switch (http_status) {
    case 200:
        return GRPC_OK;
    case 401:
        return GRPC_UNAUTHENTICATED;
    case 403:
        return GRPC_PERMISSION_DENIED;
    case 404:
    case 405:
    case 501:
        return GRPC_UNIMPLEMENTED;
    case 413:
    case 429:
        return GRPC_RESOURCE_EXHAUSTED;
    case 502:
    case 503:
        return GRPC_UNAVAILABLE;
    case 504:
        return GRPC_DEADLINE_EXCEEDED;
    default:
        if (http_status >= 400 && http_status < 500) {
            return GRPC_INVALID_ARGUMENT;
        }
        return http_status >= 500 ? GRPC_INTERNAL : GRPC_UNKNOWN;
    }
}

int apigw_http_status_for_grpc(int grpc_status)
{
    switch (grpc_status) {
    case GRPC_OK:
        return 200;
    case GRPC_CANCELLED:
        return 499;
    case GRPC_INVALID_ARGUMENT:
    case GRPC_FAILED_PRECONDITION:
    case GRPC_OUT_OF_RANGE:
        return 400;
    case GRPC_DEADLINE_EXCEEDED:
        return 504;
    case GRPC_NOT_FOUND:
        return 404;
    case GRPC_ALREADY_EXISTS:
    case GRPC_ABORTED:
        return 409;
    case GRPC_PERMISSION_DENIED:
        return 403;
    case GRPC_RESOURCE_EXHAUSTED:
        return 429;
    case GRPC_UNIMPLEMENTED:
        return 501;
    case GRPC_UNAVAILABLE:
        return 503;
    case GRPC_UNAUTHENTICATED:
        return 401;
    default:                            /* UNKNOWN, INTERNAL, DATA_LOSS */
        return 500;
    }
}

int apigw_grpc_status_parse(const char *value)
{
    int n = 0, digits = 0;

    if (!value) {
        return -1;
    }
    for (; *value >= '0' && *value <= '9'; value++) {
        if (++digits > 2) {
            return -1;
        }
        n = n * 10 + (*value - '0');
    }
    return digits && *value == '\0' ? n : -1;
}

const char *apigw_grpc_message_encode(apr_pool_t *p, const char *message)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *s;
    apr_size_t n = 0;
    char *out, *o;

    for (s = (const unsigned char *)message; *s; s++) {
        n += (*s < 0x20 || *s > 0x7E || *s == '%') ? 3 : 1;
    }
    o = out = apr_palloc(p, n + 1);
    for (s = (const unsigned char *)message; *s; s++) {
        if (*s < 0x20 || *s > 0x7E || *s == '%') {
            *o++ = '%';
            *o++ = hex[*s >> 4];
            *o++ = hex[*s & 0xF];
        }
        else {
            *o++ = (char)*s;
        }
    }
    *o = '\0';
    return out;
}
