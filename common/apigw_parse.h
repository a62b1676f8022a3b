/* Parsing shared by the mod_apigw modules: durations, sizes, the HTTP
 * methods an endpoint may declare and header names (tokens). Pure functions over APR types:
 * no httpd, no allocation. */
#ifndef APIGW_PARSE_H
#define APIGW_PARSE_H

#include <apr.h>
#include <apr_time.h>

/* Parses a duration written as one or more <number><unit> terms, Go style:
 * "2s", "1500ms", "1m30s", "0.5s", "250us", "250µs", "10ns", "1h".
 * A bare number means seconds, as httpd's own Timeout does.
 * Returns NULL and sets *out (microseconds) on success, or a static
 * message saying what is wrong. Sub-microsecond remainders round up so a
 * non-zero duration never becomes zero. */
const char *apigw_parse_duration(const char *s, apr_interval_time_t *out);

/* Parses a size: "512", "10k", "2M", "1G" (binary multiples, case-
 * insensitive unit, optional trailing "B"). Returns NULL and sets *out on
 * success, or a static message. */
const char *apigw_parse_size(const char *s, apr_off_t *out);

/* The methods an endpoint may declare (GET HEAD POST PUT PATCH DELETE
 * OPTIONS): the table's own upper-case name for m, or NULL when m is not
 * one of them. exact_case: m must be written in upper case (a CORS method
 * list compares case-sensitively); else any case. */
const char *apigw_method_known(const char *m, int exact_case);

/* Is s a non-empty HTTP token (a valid header name)? */
int apigw_is_token(const char *s);

#endif
