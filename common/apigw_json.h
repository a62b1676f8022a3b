/* JSON string literals for what the modules write themselves (error
 * bodies, status handlers, JSON log lines): the one escaper every module
 * uses, and text made valid UTF-8 for it. */
#ifndef APIGW_JSON_H
#define APIGW_JSON_H

#include "apr_pools.h"

/* s as a JSON string literal, quotes included, from p: '"' and '\' are
 * escaped with a backslash, control characters (and DEL) as \u00XX;
 * other bytes are copied as they are. NULL gives the literal null. */
const char *apigw_json_str(apr_pool_t *p, const char *s);

/* s with every byte that is not part of a valid UTF-8 sequence (RFC 3629:
 * no overlong forms, no surrogates, nothing above U+10FFFF) replaced by
 * U+FFFD, one for each such byte; s itself when it is valid. */
const char *apigw_utf8_clean(apr_pool_t *p, const char *s);

#endif
