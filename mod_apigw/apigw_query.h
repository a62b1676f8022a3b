/* Query-string allow-lists: which client parameters reach a backend.
 * Pure logic over APR. */
#ifndef APIGW_QUERY_H
#define APIGW_QUERY_H

#include <apr_pools.h>
#include <apr_tables.h>

/* Keeps the pairs of args (a raw query string, may be NULL) whose decoded
 * name is in names (case-sensitive). all=1 keeps everything. Pairs keep
 * their order and raw encoding. Returns NULL when nothing is kept. */
const char *apigw_query_filter(apr_pool_t *p, const char *args, int all,
                               const apr_array_header_t *names);

/* The deny-list form: keeps every pair of args whose decoded name is NOT
 * in names, in order and raw; NULL when nothing is left. */
const char *apigw_query_filter_deny(apr_pool_t *p, const char *args,
                                    const apr_array_header_t *names);

#endif
