/* Path rewrite before the backend: strip a prefix, add a prefix, or replace
 * by a regular expression ("^/old/(.*)" -> "/new/$1"), applied in order to
 * the path of the backend URL. Regexes are PCRE2, compiled once at startup
 * (JIT where the library has it). Pure logic over APR and PCRE2. */
#ifndef APIGW_POLICY_REWRITE_H
#define APIGW_POLICY_REWRITE_H

#include <apr_pools.h>
#include <apr_tables.h>

typedef enum {
    APIGW_REWRITE_STRIP_PREFIX,
    APIGW_REWRITE_ADD_PREFIX,
    APIGW_REWRITE_REGEX
} apigw_rewrite_kind;

typedef struct {
    apigw_rewrite_kind kind;
    const char *arg;               /* the prefix, or the pattern */
    const char *replacement;       /* regex only */
    void *code;                    /* pcre2_code *, regex only */
} apigw_rewrite_rule;

/* Parses "strip-prefix", "add-prefix" or "regex" with its arguments; the
 * compiled code is freed with p. Returns NULL or a message from p. */
const char *apigw_rewrite_compile(apr_pool_t *p, const char *kind,
                                  const char *arg, const char *replacement,
                                  apigw_rewrite_rule **out);

/* The message of a rewrite refused because a rule's result holds a "." or
 * ".." segment (also spelt %2e) the rule's input did not: a rule capturing
 * part of a segment ("^/v1(.*)$" over "/v1../admin") must not climb out of
 * a prefix. Compare *err with it by address. */
extern const char apigw_rewrite_dot_segment[];

/* Applies rules (apigw_rewrite_rule *) in order to path (starts with '/').
 * Returns the new path from p (always starting with '/'), or NULL when a
 * substitution failed or the result climbs (*err says why). */
const char *apigw_rewrite_path(apr_pool_t *p, const apr_array_header_t *rules,
                               const char *path, const char **err);

#endif
