/* ApiStatic: static data an aggregating endpoint adds to its merged
 * answer. Pure logic over APR and jansson, no httpd: the directive's
 * arguments are read here (apigw_agg_config.c calls apigw_static_parse)
 * and the aggregator adds the data with apigw_static_add (apigw_agg.c).
 *
 *   ApiStatic [strategy=WORD] {"key": value, ...}
 *
 * WORD is always (the default), success (no backend failed in transport
 * or by status), errored (one did), incomplete (a backend failed in any
 * way: the answer is not complete) or complete; exact, lower case. A
 * backend whose body cannot be read or shaped makes the answer
 * incomplete without being errored. The data must be one JSON object
 * (duplicate keys refused); jansson bounds its nesting (2048). Each
 * applicable ApiStatic, in configuration order, is merged at the
 * root with apigw_merge_into: its keys replace the answer's keys of the
 * same name (nested objects are replaced, not merged), other keys stay. */
#ifndef APIGW_STATIC_H
#define APIGW_STATIC_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <jansson.h>

typedef enum {
    APIGW_STATIC_ALWAYS,
    APIGW_STATIC_SUCCESS,          /* no backend errored */
    APIGW_STATIC_ERRORED,          /* a backend failed (transport or status) */
    APIGW_STATIC_INCOMPLETE,       /* the response is not complete */
    APIGW_STATIC_COMPLETE          /* the response is complete */
} apigw_static_strategy;

typedef struct {
    apigw_static_strategy strategy;
    json_t *data;                  /* an object, released with its pool */
} apigw_static;

/* Reads ApiStatic's arguments (leading white space allowed). Returns NULL
 * with *out filled, its data an object released when p is cleaned up;
 * or a message from p starting "ApiStatic" with out->data NULL:
 *   "ApiStatic strategy=WORD: strategy is always, success, errored,
 *    incomplete or complete"
 *   "ApiStatic: not valid JSON at character N: jansson's text"
 *   "ApiStatic: the data must be a JSON object, like {...}" */
const char *apigw_static_parse(apr_pool_t *p, const char *args,
                               apigw_static *out);

/* Whether data with strategy s goes into an answer: complete when no
 * backend failed in any way, errored when one failed in transport or by
 * status. */
int apigw_static_applies(apigw_static_strategy s, int complete, int errored);

/* Merges into doc, in order, the data of each apigw_static of statics
 * (may be NULL) that applies. doc shares the data's values (see
 * apigw_merge_into); the data is only read. */
void apigw_static_add(json_t *doc, const apr_array_header_t *statics,
                      int complete, int errored);

#endif
