/* Bot detection (KrakenD's security/bot-detector): which User-Agent
 * values an endpoint refuses. An allow-list of exact values always
 * admitted, a deny-list of exact values, regular expressions (PCRE2,
 * unanchored search, compiled once at startup, JIT where the library has
 * it, each match bounded) and whether a request without User-Agent is
 * refused, checked in that order. Pure logic over APR and PCRE2; the
 * request side (the 403, the log lines) is apigw_policy_hooks.c's. */
#ifndef APIGW_POLICY_BOTS_H
#define APIGW_POLICY_BOTS_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_hash.h>

/* The lists as written (so a validation can read them as the directives
 * fill them), and what is compiled from them as they are written: each
 * list moves with its compiled form when settings are merged. */
typedef struct {
    apr_array_header_t *allow;     /* const char *, exact; NULL unset */
    apr_array_header_t *deny;      /* const char *, exact; NULL unset */
    apr_array_header_t *patterns;  /* const char *, PCRE2; NULL unset */
    int empty_ua;                  /* -1 unset, 0 allow (default), 1 deny */
    const char *file;              /* where the context's first ApiBot* is */
    unsigned line;
    /* compiled */
    apr_hash_t *allow_set;         /* UA -> UA, with allow */
    apr_hash_t *deny_set;          /* with deny */
    apr_array_header_t *codes;     /* pcre2_code *, one per pattern */
} apigw_bot_policy;

typedef enum {
    APIGW_BOT_LIST_ALLOW,
    APIGW_BOT_LIST_DENY,
    APIGW_BOT_LIST_PATTERN
} apigw_bot_list;

/* An unset policy (nothing refused). */
void apigw_bot_init(apigw_bot_policy *b);

/* Adds value to one list of b: appended as written and compiled (a
 * pattern's code is freed with p). NULL, or why not from p (a pattern
 * that does not compile: the pattern, the offset and PCRE2's reason). */
const char *apigw_bot_add(apr_pool_t *p, apigw_bot_policy *b,
                          apigw_bot_list list, const char *value);

/* Can b refuse anything at all? (A deny-list, a pattern or the empty
 * User-Agent denied; an allow-list alone refuses nothing.) */
#define APIGW_BOT_ACTIVE(b) \
    ((b)->deny_set || (b)->codes || (b)->empty_ua == 1)

typedef enum {
    APIGW_BOT_ADMIT,               /* no rule refuses it */
    APIGW_BOT_ALLOWED,             /* on the allow-list */
    APIGW_BOT_DENIED,              /* on the deny-list */
    APIGW_BOT_PATTERN,             /* a pattern matches (*which) */
    APIGW_BOT_EMPTY,               /* none or empty, and that is denied */
    APIGW_BOT_FAILED               /* a pattern could not be matched within
                                    * its bounds (*which, *err): refused */
} apigw_bot_verdict;

/* The verdict of b on a User-Agent of len bytes (ua NULL: the request had
 * none). Allocates only to match patterns, from p; *which is the index of
 * the pattern that decided (-1 otherwise); *err, for APIGW_BOT_FAILED,
 * PCRE2's reason from p. */
apigw_bot_verdict apigw_bot_check(apr_pool_t *p, const apigw_bot_policy *b,
                                  const char *ua, apr_size_t len, int *which,
                                  const char **err);

#endif
