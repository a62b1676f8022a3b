/* sources: mod_apigw/apigw_policy_rewrite.c */
/* libs: -lpcre2-8 */
/* Unit tests for mod_apigw/apigw_policy_rewrite.c: ApiPathRewrite rules
 * (strip-prefix, add-prefix, PCRE2 regex with $N), their configtest
 * errors, and rules applied in order. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#define UNIT_POOL
#include "unit_apr.h"

#include <apr_strings.h>

#include "apigw_policy_rewrite.h"

static apr_array_header_t *rules;

static void add(const char *kind, const char *arg, const char *repl)
{
    apigw_rewrite_rule *rule;
    const char *err = apigw_rewrite_compile(pool, kind, arg, repl, &rule);
    if (err) {
        fail_msg("%s %s %s: %s", kind, arg, repl ? repl : "", err);
    }
    if (!rules) {
        rules = apr_array_make(pool, 4, sizeof(apigw_rewrite_rule *));
    }
    APR_ARRAY_PUSH(rules, apigw_rewrite_rule *) = rule;
}

static void refused(const char *kind, const char *arg, const char *repl,
                    const char *why)
{
    apigw_rewrite_rule *rule;
    const char *err = apigw_rewrite_compile(pool, kind, arg, repl, &rule);
    if (!err) {
        fail_msg("%s %s accepted", kind, arg ? arg : "");
    }
    if (!strstr(err, why)) {
        fail_msg("%s %s: \"%s\" does not say \"%s\"", kind, arg, err, why);
    }
}

static void rewrites(const char *in, const char *want)
{
    const char *err = NULL;
    const char *got = apigw_rewrite_path(pool, rules, in, &err);
    if (!got) {
        fail_msg("%s: failed: %s", in, err);
    }
    assert_string_equal(got, want);
}

static int reset(void **state)
{
    rules = NULL;
    return setup(state);
}

#define R(f) cmocka_unit_test_setup_teardown(f, reset, teardown)

static void test_strip_prefix(void **state)
{
    (void)state;
    add("strip-prefix", "/api", NULL);
    rewrites("/api/users/1", "/users/1");
    rewrites("/api", "/");
    rewrites("/api/", "/");
    rewrites("/apiary", "/apiary");       /* whole segments only */
    rewrites("/other/api", "/other/api");
    rules = NULL;
    add("strip-prefix", "/v1/", NULL);    /* a trailing '/' is the same */
    rewrites("/v1/x", "/x");
    rules = NULL;
    add("strip-prefix", "/", NULL);
    rewrites("/x", "/x");
}

static void test_add_prefix(void **state)
{
    (void)state;
    add("add-prefix", "/internal", NULL);
    rewrites("/users/1", "/internal/users/1");
    rewrites("/", "/internal/");
    rules = NULL;
    add("add-prefix", "/internal/", NULL);
    rewrites("/users", "/internal/users");
}

static void test_regex(void **state)
{
    (void)state;
    add("regex", "^/old/(.*)", "/new/$1");
    rewrites("/old/a/b", "/new/a/b");
    rewrites("/older/a", "/older/a");      /* no match: unchanged */
    rules = NULL;
    add("regex", "^/u/([^/]+)/o/([^/]+)$", "/orders/${2}/of/$1");
    rewrites("/u/alice/o/42", "/orders/42/of/alice");
    rules = NULL;
    add("regex", "/v[0-9]+/", "/");         /* first match only */
    rewrites("/a/v1/b/v2/c", "/a/b/v2/c");
    rules = NULL;
    add("regex", "^/price", "/cost$$");     /* $$ is a '$' */
    rewrites("/price", "/cost$");
    rules = NULL;
    add("regex", "^/(.*)$", "$1");          /* a leading '/' is kept */
    rewrites("/x/y", "/x/y");
}

static void test_in_order(void **state)
{
    (void)state;
    add("strip-prefix", "/api", NULL);
    add("regex", "^/v1/(.*)", "/$1");
    add("add-prefix", "/svc", NULL);
    rewrites("/api/v1/users", "/svc/users");
    rewrites("/api/v2/users", "/svc/v2/users");
}

static void test_long_results(void **state)
{
    char in[3000];
    const char *want;
    (void)state;
    memset(in, 'a', sizeof(in) - 1);
    in[0] = '/';
    in[sizeof(in) - 1] = '\0';
    add("regex", "^/(a+)$", "/$1/$1/$1");
    want = apr_pstrcat(pool, in, in, in, NULL);
    rewrites(in, want);
}

static void test_refused(void **state)
{
    (void)state;
    refused("regex", "^/(old", "/new", "does not compile");
    refused("regex", "^/old/(.*)", "/new/$2", "has 1 group");
    refused("regex", "^/old", "/new/$x", "write $N");
    refused("regex", "^/old", "/new/${1", "write $N");
    refused("regex", "^/old", "/new/$", "write $N");
    refused("regex", "^/old", NULL, "needs a pattern and a replacement");
    refused("regex", "^/old", "/a\r\nX-Evil: 1", "control characters");
    refused("strip-prefix", "api", NULL, "must start with '/'");
    refused("add-prefix", "/a?b", NULL, "cannot hold");
    refused("add-prefix", "/a", "/b", "takes one argument");
    refused("add-prefix", "", NULL, "needs an argument");
    refused("replace", "/a", NULL, "unknown rewrite");
}

/* A group that took no part in the match is empty, not an error that
 * would forward the path unrewritten (found by fuzz_rewrite). */
static void test_unset_group_is_empty(void **state)
{
    (void)state;
    add("regex", "^/api(/v[0-9]+)?/(.*)$", "/svc$1/$2");
    rewrites("/api/users", "/svc/users");
    rewrites("/api/v2/users", "/svc/v2/users");
    rules = NULL;
    add("regex", "^/a(b)?/(.*)", "/x${1}/$2");
    rewrites("/a/c", "/x/c");
}

/* "$N" reads every digit, as PCRE2 does when it applies the replacement:
 * configtest no longer accepts "$00012" against one group (a failure on
 * every request) nor refuses "${00001}" (found by fuzz_rewrite). */
static void test_group_number_digits(void **state)
{
    (void)state;
    refused("regex", "^/(a)", "$00012", "has 1 group");
    refused("regex", "^/(a)", "/$99999999999999999999", "has 1 group");
    add("regex", "^/(a)", "/${00001}x$0001");
    rewrites("/a", "/axa");
}

/* PCRE2's default limits let a hostile pattern spend seconds of CPU on a
 * long path; the rewrite gives up after 100,000 steps (found by
 * fuzz_rewrite: "a*a*(?=[^!]*+!)" took 1.7-4.4 s on an 8 KB path). */
static void test_match_limit(void **state)
{
    const char *err = NULL;
    char in[8002];
    (void)state;
    /* 2^20 ways to split the a's: under PCRE2's default limit this ends as
     * no match; under the rewrite's it stops at the limit */
    add("regex", "^/(?:a+)+$", "/x");
    assert_null(apigw_rewrite_path(pool, rules, "/aaaaaaaaaaaaaaaaaaaa!",
                                   &err));
    assert_string_equal(err, "match limit exceeded");
    rules = NULL;
    add("regex", "a*a*(?=[^!]*+!)", "/x");
    memset(in, 'a', sizeof(in) - 1);
    in[0] = '/';
    in[sizeof(in) - 1] = '\0';
    err = NULL;
    assert_null(apigw_rewrite_path(pool, rules, in, &err));
    assert_string_equal(err, "match limit exceeded");
}

/* A repeated group outgrows the JIT's 32 KB stack on a long path; the
 * match runs again on a larger one instead of failing (found by
 * fuzz_rewrite). */
static void test_long_path_jit_stack(void **state)
{
    char in[8002];
    size_t i;
    (void)state;
    in[0] = '/';
    for (i = 1; i < sizeof(in) - 1; i++) {
        in[i] = i % 2 ? 'a' : 'b';
    }
    in[sizeof(in) - 1] = '\0';
    add("regex", "^/((?:a|b)*)$", "/x/$1");
    rewrites(in, apr_pstrcat(pool, "/x", in, NULL));
}

/* A replacement is a path, as a prefix is: no '?', '#' or space (found by
 * fuzz_rewrite: "/b c" made the backend URL hold a space); and one for a
 * UTF pattern must be UTF-8, which PCRE2 checks on every request. */
static void test_replacement_refused(void **state)
{
    (void)state;
    refused("regex", "^/a", "/b c", "cannot hold");
    refused("regex", "^/a", "/b?debug=1", "cannot hold");
    refused("regex", "^/a", "/b#top", "cannot hold");
    refused("regex", "(*UTF)^/(.)", "/x\xff$1", "not UTF-8");
    add("regex", "(*UTF)^/(.)", "/caf\xc3\xa9/$1");
    rewrites("/a", "/caf\xc3\xa9/a");
}

/* A rule capturing part of a segment must not make a dot segment that
 * climbs out of a prefix (found by fuzz_rewrite); one the input already
 * had (the operator's own template) is not the rewrite's doing. */
static void test_dot_segment_refused(void **state)
{
    static const char *const climbing[] = {
        "/v1../admin", "/v1./admin", "/v1..", "/v1%2e%2e/admin",
        "/v1.%2E/admin", "/v1%2e", NULL
    };
    const char *err;
    int i;

    (void)state;
    add("regex", "^/v1(.*)$", "$1");
    add("add-prefix", "/internal", NULL);
    for (i = 0; climbing[i]; i++) {
        err = NULL;
        if (apigw_rewrite_path(pool, rules, climbing[i], &err)) {
            fail_msg("%s: rewritten", climbing[i]);
        }
        assert_ptr_equal(err, apigw_rewrite_dot_segment);
    }
    rewrites("/v1.../admin", "/internal/.../admin");
    rewrites("/v1.a/b", "/internal/.a/b");
    rewrites("/v1/users", "/internal/users");
    rewrites("/v1/a/./b", "/internal/a/./b");
    /* the path holds no query: a '?' in it does not end a segment */
    rules = NULL;
    add("add-prefix", "/.", NULL);
    err = NULL;
    assert_null(apigw_rewrite_path(pool, rules, "/%2E?b", &err));
    assert_ptr_equal(err, apigw_rewrite_dot_segment);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        R(test_strip_prefix),
        R(test_add_prefix),
        R(test_regex),
        R(test_in_order),
        R(test_long_results),
        R(test_refused),
        R(test_unset_group_is_empty),
        R(test_group_number_digits),
        R(test_match_limit),
        R(test_long_path_jit_stack),
        R(test_replacement_refused),
        R(test_dot_segment_refused),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
