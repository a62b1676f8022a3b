/* Where each value of a JSON text starts: JSON pointer → line number, so
 * an error in a krakend.json names its line as well as its pointer.
 * jansson keeps no positions, hence this small scanner. Pure: APR only. */
#ifndef APIGW_KD_LINES_H
#define APIGW_KD_LINES_H

#include <apr_pools.h>
#include <apr_hash.h>

/* Scans text (len bytes, which a JSON parser has already accepted; any
 * bytes are safe) and returns pointer → line (unsigned, from 1) for every
 * value up to a nesting depth of 64. Never reads past len. */
apr_hash_t *apigw_kd_lines(apr_pool_t *p, const char *text, apr_size_t len);

/* The line of pointer, or of its nearest ancestor in the map; 0 when
 * there is none. */
unsigned apigw_kd_line_of(apr_hash_t *lines, apr_pool_t *p,
                          const char *pointer);

#endif
