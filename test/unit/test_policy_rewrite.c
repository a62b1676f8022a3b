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

int main(void)
{
    const struct CMUnitTest tests[] = {
        R(test_strip_prefix),
        R(test_add_prefix),
        R(test_regex),
        R(test_in_order),
        R(test_long_results),
        R(test_refused),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
