/* Bot detection (see apigw_policy_bots.h). Pure: APR and PCRE2. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "apigw_policy_bots.h"

#include <pcre2.h>
#include <apr_strings.h>
#include <string.h>

/* What one match may cost, as for ApiPathRewrite's patterns
 * (apigw_policy_rewrite.c): the User-Agent is the client's to choose, so
 * a pattern with nested repeats must not let it spend seconds of CPU.
 * KrakenD's patterns are Go regexps, linear in the input; PCRE2
 * backtracks, so each match is held to a hundred thousand steps, 8 MB of
 * heap and a JIT stack of 1 MB (32 KB first). A User-Agent is at most
 * LimitRequestFieldSize (8 KB) long. */
#define MATCH_LIMIT 100000
#define HEAP_LIMIT_KIB 8192
#define JIT_STACK_START (32 * 1024)
#define JIT_STACK_MAX (1024 * 1024)

void apigw_bot_init(apigw_bot_policy *b)
{
    memset(b, 0, sizeof(*b));
    b->empty_ua = -1;
}

static apr_status_t free_code(void *data)
{
    pcre2_code_free(data);
    return APR_SUCCESS;
}

static const char *compile_pattern(apr_pool_t *p, apigw_bot_policy *b,
                                   const char *pattern)
{
    int errcode;
    PCRE2_SIZE erroffset;
    pcre2_code *code;

    code = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, 0,
                         &errcode, &erroffset, NULL);
    if (!code) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(errcode, msg, sizeof(msg));
        return apr_psprintf(p, "regex \"%s\" does not compile at offset %lu: "
                            "%s", pattern, (unsigned long)erroffset,
                            (const char *)msg);
    }
    apr_pool_cleanup_register(p, code, free_code, apr_pool_cleanup_null);
    /* JIT where the library has it; the interpreter otherwise */
    (void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
    if (!b->codes) {
        b->codes = apr_array_make(p, 4, sizeof(pcre2_code *));
    }
    APR_ARRAY_PUSH(b->codes, pcre2_code *) = code;
    return NULL;
}

static void push(apr_pool_t *p, apr_array_header_t **a, const char *value)
{
    if (!*a) {
        *a = apr_array_make(p, 4, sizeof(const char *));
    }
    APR_ARRAY_PUSH(*a, const char *) = value;
}

static void add_exact(apr_pool_t *p, apr_array_header_t **a, apr_hash_t **set,
                      const char *value)
{
    push(p, a, value);
    if (!*set) {
        *set = apr_hash_make(p);
    }
    apr_hash_set(*set, value, APR_HASH_KEY_STRING, value);
}

const char *apigw_bot_add(apr_pool_t *p, apigw_bot_policy *b,
                          apigw_bot_list list, const char *value)
{
    const char *err;

    if (!value || !*value) {
        return "an empty value (a request without User-Agent is "
               "ApiBotEmptyUserAgent's)";
    }
    value = apr_pstrdup(p, value);
    switch (list) {
    case APIGW_BOT_LIST_ALLOW:
        add_exact(p, &b->allow, &b->allow_set, value);
        return NULL;
    case APIGW_BOT_LIST_DENY:
        add_exact(p, &b->deny, &b->deny_set, value);
        return NULL;
    case APIGW_BOT_LIST_PATTERN:
        if ((err = compile_pattern(p, b, value)) != NULL) {
            return err;
        }
        push(p, &b->patterns, value);
        return NULL;
    }
    return "unknown list";
}

/* PCRE2 allocates its contexts and match data through these: from the
 * caller's pool (the request's), freed with it. */
static void *pool_malloc(PCRE2_SIZE size, void *data)
{
    return apr_palloc(data, size);
}

static void pool_free(void *block, void *data)
{
    (void)block;
    (void)data;
}

/* Does any pattern of b match ua? 1 (*which the first that does), 0, or
 * -1 when one could not be matched (*which, *err). */
static int patterns_match(apr_pool_t *p, const apigw_bot_policy *b,
                          const char *ua, apr_size_t len, int *which,
                          const char **err)
{
    pcre2_general_context *gc = pcre2_general_context_create(pool_malloc,
                                                             pool_free, p);
    pcre2_match_context *mc = NULL;
    pcre2_match_data *md = NULL;
    pcre2_jit_stack *stack = NULL;
    int i, rc = PCRE2_ERROR_NOMATCH, found = 0;

    if (!gc || !(mc = pcre2_match_context_create(gc))
        || !(md = pcre2_match_data_create(1, gc))) {
        *which = 0;
        *err = "out of memory";
        return -1;
    }
    pcre2_set_match_limit(mc, MATCH_LIMIT);
    pcre2_set_depth_limit(mc, MATCH_LIMIT);
    pcre2_set_heap_limit(mc, HEAP_LIMIT_KIB);
    for (i = 0; i < b->codes->nelts; i++) {
        const pcre2_code *code = APR_ARRAY_IDX(b->codes, i, pcre2_code *);

        rc = pcre2_match(code, (PCRE2_SPTR)ua, len, 0, 0, md, mc);
        if (rc == PCRE2_ERROR_JIT_STACKLIMIT && !stack
            && (stack = pcre2_jit_stack_create(JIT_STACK_START,
                                               JIT_STACK_MAX, gc)) != NULL) {
            pcre2_jit_stack_assign(mc, NULL, stack);
            rc = pcre2_match(code, (PCRE2_SPTR)ua, len, 0, 0, md, mc);
        }
        if (rc != PCRE2_ERROR_NOMATCH) {
            *which = i;
            break;
        }
    }
    if (stack) {
        pcre2_jit_stack_free(stack);
    }
    if (rc >= 0) {
        found = 1;
    }
    else if (rc != PCRE2_ERROR_NOMATCH) {
        PCRE2_UCHAR msg[120];
        pcre2_get_error_message(rc, msg, sizeof(msg));
        *err = apr_pstrdup(p, (const char *)msg);
        found = -1;
    }
    return found;
}

apigw_bot_verdict apigw_bot_check(apr_pool_t *p, const apigw_bot_policy *b,
                                  const char *ua, apr_size_t len, int *which,
                                  const char **err)
{
    *which = -1;
    if (!ua) {
        ua = "";
        len = 0;
    }
    if (len && b->allow_set
        && apr_hash_get(b->allow_set, ua, (apr_ssize_t)len)) {
        return APIGW_BOT_ALLOWED;
    }
    if (len && b->deny_set
        && apr_hash_get(b->deny_set, ua, (apr_ssize_t)len)) {
        return APIGW_BOT_DENIED;
    }
    if (b->codes) {
        switch (patterns_match(p, b, ua, len, which, err)) {
        case 1:
            return APIGW_BOT_PATTERN;
        case -1:
            return APIGW_BOT_FAILED;
        default:
            break;
        }
    }
    if (!len && b->empty_ua == 1) {
        return APIGW_BOT_EMPTY;
    }
    return APIGW_BOT_ADMIT;
}
