/* Error-code lists of the suspension policies: which failures of a
 * balancer member count. Pure code over APR (no httpd), so it is unit
 * tested and fuzzed on its own.
 *
 * A list names transport errors, HTTP statuses and WSO2/Synapse's numeric
 * error codes (accepted as aliases for migrating configurations):
 *
 *     connect-refused,connect-timeout,read-timeout,closed,tls,dns
 *     503  500-504  5xx  101503  101504 ...
 *
 * separated by commas and/or blanks. */
#ifndef APIGW_SUS_CODES_H
#define APIGW_SUS_CODES_H

#include <apr.h>
#include <apr_pools.h>

/* Transport errors, one bit each. */
#define APIGW_SUS_CONNECT_REFUSED 0x01u  /* refused, unreachable, reset at connect */
#define APIGW_SUS_CONNECT_TIMEOUT 0x02u  /* no connection within the connect timeout */
#define APIGW_SUS_READ_TIMEOUT    0x04u  /* connected, no answer within the timeout */
#define APIGW_SUS_CLOSED          0x08u  /* closed or broke the exchange, bad answer */
#define APIGW_SUS_TLS             0x10u  /* TLS handshake with the member failed */
#define APIGW_SUS_DNS             0x20u  /* the member's name did not resolve */
#define APIGW_SUS_ALL_TRANSPORT   0x3fu

/* HTTP statuses a list can hold: 100-599. */
#define APIGW_SUS_STATUS_MIN 100
#define APIGW_SUS_STATUS_MAX 599
#define APIGW_SUS_STATUS_WORDS ((APIGW_SUS_STATUS_MAX + 64) / 64)

typedef struct {
    apr_uint32_t transport;                       /* APIGW_SUS_* bits */
    apr_uint64_t status[APIGW_SUS_STATUS_WORDS];  /* bit n: status n */
} apigw_sus_codes;

/* Parses a list into *out (cleared first). Returns NULL, or a message from
 * p naming the token that is wrong. An empty list is an error: a policy
 * that wants "any error" leaves codes= out. */
const char *apigw_sus_codes_parse(apr_pool_t *p, const char *list,
                                  apigw_sus_codes *out);

/* Does the list hold this transport error (one APIGW_SUS_* bit)? */
int apigw_sus_codes_has_transport(const apigw_sus_codes *c, apr_uint32_t bit);

/* Does the list hold this HTTP status? */
int apigw_sus_codes_has_status(const apigw_sus_codes *c, int status);

/* Does the list hold anything at all? */
int apigw_sus_codes_is_empty(const apigw_sus_codes *c);

/* The list written back in canonical form ("connect-refused,closed,
 * 500-504,599"): transport names in the order above, then statuses with
 * runs as ranges. Parsing it gives the same list. "" for an empty list. */
const char *apigw_sus_codes_format(apr_pool_t *p, const apigw_sus_codes *c);

/* The name of one transport bit ("read-timeout"), or NULL. */
const char *apigw_sus_transport_name(apr_uint32_t bit);

#endif
