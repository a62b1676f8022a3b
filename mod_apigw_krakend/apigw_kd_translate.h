/* A krakend.json (version 3) translated into httpd configuration lines:
 * <ApiEndpoint> blocks, <Proxy balancer://> pools and the directives of
 * the sibling modules, each line tagged with the JSON pointer it came
 * from. What cannot be honoured is a note (skipped, approximated, or the
 * endpoint refused) rather than a line. Pure: APR and jansson, no httpd. */
#ifndef APIGW_KD_TRANSLATE_H
#define APIGW_KD_TRANSLATE_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <jansson.h>

typedef struct {
    const char *text;      /* one configuration line, no newline */
    const char *pointer;   /* RFC 6901 pointer into the file ("" = root) */
} apigw_kd_line;

typedef enum {
    APIGW_KD_SKIPPED,      /* left out; the endpoint is served without it */
    APIGW_KD_APPROXIMATED, /* mapped onto something close, said how */
    APIGW_KD_REFUSED       /* the endpoint is not served */
} apigw_kd_action;

typedef struct {
    const char *pointer;
    const char *component; /* "validation/cel", "field port", ... */
    apigw_kd_action action;
    const char *why;
} apigw_kd_note;

/* Which sibling modules are loaded: a component needing one that is not
 * becomes a note (the endpoint refused when it guards access). */
#define APIGW_KD_HAVE_RATELIMIT 0x1
#define APIGW_KD_HAVE_BREAKER   0x2
#define APIGW_KD_HAVE_AUTH      0x4
#define APIGW_KD_HAVE_BALANCER  0x8

typedef struct {
    int strict;            /* any note at all refuses the file */
    unsigned have;         /* APIGW_KD_HAVE_* */
    const char *prefix;    /* balancer names: balancer://PREFIX-N */
} apigw_kd_options;

typedef struct {
    apr_array_header_t *lines;  /* apigw_kd_line */
    apr_array_header_t *notes;  /* apigw_kd_note */
    int endpoints;              /* endpoints translated */
    int refused;                /* endpoints left out by a REFUSED note */
    const char *error;          /* set when the file is refused */
    const char *error_pointer;  /* where, "" for the root */
} apigw_kd_result;

/* Translates root (a parsed krakend.json) into out, allocating from p.
 * Returns NULL, or out->error ("wrong type: ... expected an array") with
 * out->error_pointer when the file cannot be loaded: a wrong type, an
 * unknown encoding or method, a backend without host, a value that cannot
 * be written as a directive argument, or, in strict mode, any note. */
const char *apigw_kd_translate(apr_pool_t *p, json_t *root,
                               const apigw_kd_options *opts,
                               apigw_kd_result *out);

/* "skipped", "approximated", "endpoint refused" */
const char *apigw_kd_action_name(apigw_kd_action a);

/* s as one configuration word (quoted when it must be), or NULL when it
 * cannot be one: a control character, or a backslash before a quote or
 * at the end. */
const char *apigw_kd_word(apr_pool_t *p, const char *s);

#endif
