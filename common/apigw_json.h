/* JSON string literals for what the modules write themselves (error
 * bodies, status handlers): the one escaper every module uses. */
#ifndef APIGW_JSON_H
#define APIGW_JSON_H

#include "apr_pools.h"

/* s as a JSON string literal, quotes included, from p: '"' and '\' are
 * escaped with a backslash, control characters (and DEL) as \u00XX;
 * other bytes are copied as they are. NULL gives the literal null. */
const char *apigw_json_str(apr_pool_t *p, const char *s);

#endif
