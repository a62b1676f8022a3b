/* Path rewrite rules (see apigw_policy_rewrite.h). Pure: APR and PCRE2. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "apigw_policy_rewrite.h"

#include <pcre2.h>
#include <apr_strings.h>
#include <string.h>

static apr_status_t free_code(void *data)
{
    pcre2_code_free(data);
    return APR_SUCCESS;
}

static int has_ctl(const char *s)
{
    for (; *s; s++) {
        if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f) {
            return 1;
        }
    }
    return 0;
}

/* The highest group "$N" or "${N}" in a replacement refers to, or -1 when
 * the replacement is malformed ("$x", "${", a lone "$" at the end). Every
 * digit counts, as when PCRE2 applies the replacement ("$00012" is group
 * 12); a number past MAX_GROUP stays there. */
#define MAX_GROUP 65536

static int highest_group(const char *s)
{
    int high = 0;

    for (; *s; s++) {
        int n = 0, digits = 0, braced;
        if (*s != '$') {
            continue;
        }
        s++;
        if (*s == '$') {
            continue;                       /* "$$" is a literal '$' */
        }
        braced = *s == '{';
        if (braced) {
            s++;
        }
        while (*s >= '0' && *s <= '9') {
            if (n < MAX_GROUP) {
                n = n * 10 + (*s - '0');
            }
            s++;
            digits++;
        }
        if (!digits || (braced && *s != '}')) {
            return -1;
        }
        if (!braced) {
            s--;
        }
        if (n > high) {
            high = n;
        }
    }
    return high;
}

/* What one match may cost: PCRE2's defaults (ten million steps, 20 GB of
 * heap) let a hostile pattern ("a*a*(?=[^!]*+!)") spend seconds of CPU on
 * an 8 KB path, per request. A hundred thousand steps is a few
 * milliseconds with the JIT, and ample for the usual patterns (anchored,
 * no nested repeats) on the longest request line; the interpreter's
 * backtracking frames are held to 8 MB. The JIT's own stack is 32 KB,
 * which a repeated group ("(a|b)*") outgrows on a path of a couple of KB;
 * such a match is run again on a 1 MB JIT stack. A match past these fails
 * the rewrite (AGW00605). Without the JIT (a PCRE2 built without it, or a
 * pattern it cannot compile) the interpreter counts the steps afresh at
 * each start position, so an unanchored hostile pattern still costs up to
 * the path's length times as much. */
#define MATCH_LIMIT 100000
#define HEAP_LIMIT_KIB 8192
#define JIT_STACK_MAX (1024 * 1024)

static const char *compile_regex(apr_pool_t *p, apigw_rewrite_rule *rule)
{
    int errcode, high;
    PCRE2_SIZE erroffset;
    uint32_t groups = 0, options = 0;
    pcre2_code *code;

    code = pcre2_compile((PCRE2_SPTR)rule->arg, PCRE2_ZERO_TERMINATED, 0,
                         &errcode, &erroffset, NULL);
    if (!code) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(errcode, msg, sizeof(msg));
        return apr_psprintf(p, "regex \"%s\" does not compile at offset %lu: "
                            "%s", rule->arg, (unsigned long)erroffset,
                            (const char *)msg);
    }
    apr_pool_cleanup_register(p, code, free_code, apr_pool_cleanup_null);
    /* JIT where the library has it; the interpreter otherwise */
    (void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
    pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &groups);
    high = highest_group(rule->replacement);
    if (high < 0) {
        return apr_psprintf(p, "replacement \"%s\": write $N or ${N} for a "
                            "group, $$ for a '$'", rule->replacement);
    }
    if ((uint32_t)high > groups) {
        return apr_psprintf(p, "replacement \"%s\" uses $%d but \"%s\" has "
                            "%u group(s)", rule->replacement, high, rule->arg,
                            groups);
    }
    if (strpbrk(rule->replacement, "?# ")) {
        return apr_psprintf(p, "replacement \"%s\": a path cannot hold '?', "
                            "'#' or a space", rule->replacement);
    }
    pcre2_pattern_info(code, PCRE2_INFO_ALLOPTIONS, &options);
    if (options & PCRE2_UTF) {
        /* PCRE2 checks a UTF pattern's replacement before any match: one
         * that is not UTF-8 would fail every request */
        pcre2_code *lit = pcre2_compile((PCRE2_SPTR)rule->replacement,
                                        PCRE2_ZERO_TERMINATED,
                                        PCRE2_UTF | PCRE2_LITERAL, &errcode,
                                        &erroffset, NULL);
        if (!lit) {
            return apr_psprintf(p, "replacement \"%s\" is not UTF-8 (byte "
                                "%lu), which \"%s\" asks for",
                                rule->replacement, (unsigned long)erroffset,
                                rule->arg);
        }
        pcre2_code_free(lit);
    }
    rule->code = code;
    return NULL;
}

const char *apigw_rewrite_compile(apr_pool_t *p, const char *kind,
                                  const char *arg, const char *replacement,
                                  apigw_rewrite_rule **out)
{
    apigw_rewrite_rule *rule = apr_pcalloc(p, sizeof(*rule));

    rule->arg = arg;
    rule->replacement = replacement;
    if (!arg || !*arg) {
        return "needs an argument";
    }
    if (has_ctl(arg) || (replacement && has_ctl(replacement))) {
        return "control characters (CR, LF...) are not allowed";
    }
    if (strcmp(kind, "strip-prefix") == 0 || strcmp(kind, "add-prefix") == 0) {
        rule->kind = kind[0] == 's' ? APIGW_REWRITE_STRIP_PREFIX
                                    : APIGW_REWRITE_ADD_PREFIX;
        if (replacement) {
            return apr_psprintf(p, "%s takes one argument", kind);
        }
        if (arg[0] != '/') {
            return apr_psprintf(p, "%s %s: the prefix must start with '/'",
                                kind, arg);
        }
        if (strpbrk(arg, "?# ")) {
            return apr_psprintf(p, "%s %s: a path prefix cannot hold '?', "
                                "'#' or a space", kind, arg);
        }
        *out = rule;
        return NULL;
    }
    if (strcmp(kind, "regex") == 0) {
        const char *err;
        rule->kind = APIGW_REWRITE_REGEX;
        if (!replacement) {
            return "regex needs a pattern and a replacement, like "
                   "regex ^/old/(.*) /new/$1";
        }
        if ((err = compile_regex(p, rule)) != NULL) {
            return err;
        }
        *out = rule;
        return NULL;
    }
    return apr_psprintf(p, "unknown rewrite '%s' (use strip-prefix, "
                        "add-prefix or regex)", kind);
}

static const char *strip_prefix(apr_pool_t *p, const char *path,
                                const char *prefix)
{
    apr_size_t n = strlen(prefix);

    while (n > 1 && prefix[n - 1] == '/') {
        n--;                             /* "/v1/" strips like "/v1" */
    }
    if (strncmp(path, prefix, n) != 0) {
        return path;
    }
    if (n == 1) {
        return path;                     /* stripping "/" changes nothing */
    }
    if (path[n] == '\0') {
        return "/";
    }
    if (path[n] != '/') {
        return path;                     /* "/v1" does not strip "/v10" */
    }
    return apr_pstrdup(p, path + n);
}

static const char *add_prefix(apr_pool_t *p, const char *path,
                              const char *prefix)
{
    apr_size_t n = strlen(prefix);

    while (n > 0 && prefix[n - 1] == '/') {
        n--;
    }
    return apr_pstrcat(p, apr_pstrmemdup(p, prefix, n), path, NULL);
}

/* PCRE2 allocates its match data through these: from the request's pool,
 * freed with it. */
static void *pool_malloc(PCRE2_SIZE size, void *data)
{
    return apr_palloc(data, size);
}

static void pool_free(void *block, void *data)
{
    (void)block;
    (void)data;
}

/* The first match of rule in path replaced. A group that took no part in
 * the match ("(b)?") is empty. */
static const char *substitute(apr_pool_t *p, const apigw_rewrite_rule *rule,
                              const char *path, const char **err)
{
    pcre2_general_context *gc = pcre2_general_context_create(pool_malloc,
                                                             pool_free, p);
    pcre2_match_context *mc = NULL;
    pcre2_match_data *md = NULL;
    pcre2_jit_stack *stack = NULL;
    PCRE2_SIZE len = strlen(path) * 2 + strlen(rule->replacement) + 64;
    PCRE2_UCHAR *out;
    int rc;

    if (!gc || !(mc = pcre2_match_context_create(gc))
        || !(md = pcre2_match_data_create_from_pattern(rule->code, gc))) {
        *err = "out of memory";
        return NULL;
    }
    pcre2_set_match_limit(mc, MATCH_LIMIT);
    pcre2_set_depth_limit(mc, MATCH_LIMIT);
    pcre2_set_heap_limit(mc, HEAP_LIMIT_KIB);
    for (;;) {
        PCRE2_SIZE outlen = len;
        out = apr_palloc(p, len);
        rc = pcre2_substitute(rule->code, (PCRE2_SPTR)path,
                              PCRE2_ZERO_TERMINATED, 0,
                              PCRE2_SUBSTITUTE_OVERFLOW_LENGTH
                              | PCRE2_SUBSTITUTE_UNSET_EMPTY, md, mc,
                              (PCRE2_SPTR)rule->replacement,
                              PCRE2_ZERO_TERMINATED, out, &outlen);
        if (rc == PCRE2_ERROR_NOMEMORY && outlen > len) {
            len = outlen;                /* what it needs, with the NUL */
            continue;
        }
        if (rc == PCRE2_ERROR_JIT_STACKLIMIT && !stack
            && (stack = pcre2_jit_stack_create(32 * 1024, JIT_STACK_MAX,
                                               gc)) != NULL) {
            pcre2_jit_stack_assign(mc, NULL, stack);
            continue;
        }
        break;
    }
    if (stack) {
        pcre2_jit_stack_free(stack);
    }
    if (rc < 0) {
        PCRE2_UCHAR msg[120];
        pcre2_get_error_message(rc, msg, sizeof(msg));
        *err = apr_pstrdup(p, (const char *)msg);
        return NULL;
    }
    return (const char *)out;
}

const char apigw_rewrite_dot_segment[] =
    "the rewritten path has a '.' or '..' segment";

/* '.' or "%2e" (any case) at s; its length, or 0. */
static apr_size_t dot_at(const char *s)
{
    if (*s == '.') {
        return 1;
    }
    if (s[0] == '%' && s[1] == '2' && (s[2] == 'e' || s[2] == 'E')) {
        return 3;
    }
    return 0;
}

/* Whether path (no query) has a "." or ".." segment, plain or
 * percent-encoded. */
static int has_dot_segment(const char *path)
{
    const char *s = path;

    while ((s = strchr(s, '/')) != NULL) {
        apr_size_t n = dot_at(++s);
        if (n) {
            apr_size_t m = dot_at(s + n);
            const char *end = s + n + m;
            if (*end == '/' || *end == '\0') {
                return 1;
            }
        }
    }
    return 0;
}

const char *apigw_rewrite_path(apr_pool_t *p, const apr_array_header_t *rules,
                               const char *path, const char **err)
{
    int had_dot = has_dot_segment(path), has_dot;
    int i;

    for (i = 0; rules && i < rules->nelts; i++) {
        const apigw_rewrite_rule *rule = APR_ARRAY_IDX(rules, i,
                                                       apigw_rewrite_rule *);
        switch (rule->kind) {
        case APIGW_REWRITE_STRIP_PREFIX:
            path = strip_prefix(p, path, rule->arg);
            break;
        case APIGW_REWRITE_ADD_PREFIX:
            path = add_prefix(p, path, rule->arg);
            break;
        case APIGW_REWRITE_REGEX:
            if (!(path = substitute(p, rule, path, err))) {
                return NULL;
            }
            break;
        }
        if (path[0] != '/') {
            path = apr_pstrcat(p, "/", path, NULL);
        }
        has_dot = has_dot_segment(path);
        if (has_dot && !had_dot) {
            *err = apigw_rewrite_dot_segment;
            return NULL;
        }
        had_dot = has_dot;
    }
    return path;
}
