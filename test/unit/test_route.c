/* sources: mod_apigw/apigw_route.c */
/* Unit tests for mod_apigw/apigw_route.c: pattern checks and their error
 * messages, matching and priority with backtracking, HEAD and 405 Allow,
 * conflicts (with the conflicting route's data) and SKIP_CONFLICT; the
 * redirect candidates (toggled trailing slash, cleaned path, fixed path
 * with case-insensitive static text). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "unit_apr.h"

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "apigw_route.h"

#define APIGW_ROUTE_MAX_SEGMENTS_FOR_TEST 64   /* apigw_route.c's bound */

#define MSG_SLASH     "the path must start with '/'"
#define MSG_CTL       "the path contains a space or a control character"
#define MSG_CLOSE     "'}' without a matching '{'"
#define MSG_STAR      "'*' is only allowed as the whole last segment (/*)"
#define MSG_OPEN      "'{' without a matching '}'"
#define MSG_NAME      "a variable name must be letters, digits and '_', " \
                      "not starting with a digit"
#define MSG_ONE       "only one {variable} is allowed per segment"
#define MSG_INNER     "a variable inside a segment (like /file.{ext}) needs " \
                      "ApiDisableRest on"
#define MSG_SEGMENTS  "the path has too many segments"

/* Distinct data pointers standing for endpoints. */
static int ep_a, ep_b, ep_c, ep_d, ep_e;
#define A (&ep_a)
#define B (&ep_b)
#define C (&ep_c)
#define D (&ep_d)
#define E (&ep_e)

static apr_pool_t *pool;
static apigw_route_table *tbl;

static int setup(void **state)
{
    (void)state;
    if (apr_pool_create(&pool, NULL) != APR_SUCCESS) {
        return -1;
    }
    tbl = apigw_route_table_make(pool);
    return tbl ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    apr_pool_destroy(pool);
    pool = NULL;
    tbl = NULL;
    return 0;
}

/* ---- helpers ---- */

static void add_ok(const char *pattern, const char *method, void *data,
                   int flags)
{
    void *conflict = (void *)&conflict;     /* must be reset */
    const char *err = apigw_route_add(tbl, pattern, method, data, flags,
                                      &conflict);
    if (err) {
        fail_msg("adding %s %s: unexpected error \"%s\"", method, pattern, err);
    }
    assert_null(conflict);
}

/* Adds and expects an error; returns *conflict. */
static void *add_err(const char *pattern, const char *method, void *data,
                     int flags, const char *want)
{
    void *conflict = (void *)&conflict;
    int before = apigw_route_count(tbl);
    const char *err = apigw_route_add(tbl, pattern, method, data, flags,
                                      &conflict);
    if (!err) {
        fail_msg("adding %s %s: accepted, want \"%s\"", method,
                 pattern ? pattern : "(null)", want);
    }
    assert_string_equal(err, want);
    assert_int_equal(apigw_route_count(tbl), before);
    return conflict;
}

static void check_err(const char *pattern, int flags, const char *want)
{
    const char *err = apigw_route_check(pool, pattern, flags);
    if (!err) {
        fail_msg("check \"%s\": accepted, want \"%s\"",
                 pattern ? pattern : "(null)", want);
    }
    assert_string_equal(err, want);
    /* apigw_route_add refuses it the same way, adding nothing */
    add_err(pattern, "GET", A, flags, want);
}

static void check_ok(const char *pattern, int flags)
{
    const char *err = apigw_route_check(pool, pattern, flags);
    if (err) {
        fail_msg("check \"%s\": unexpected error \"%s\"", pattern, err);
    }
}

/* "name=value;name=value" for the captured variables. */
static const char *vars_text(const apigw_route_match *m)
{
    const char *out = "";
    int i;

    assert_non_null(m->vars);
    assert_int_equal(m->vars->elt_size, sizeof(apigw_route_var));
    for (i = 0; i < m->vars->nelts; i++) {
        const apigw_route_var *v = &APR_ARRAY_IDX(m->vars, i, apigw_route_var);
        out = apr_pstrcat(pool, out, i ? ";" : "", v->name, "=", v->value,
                          NULL);
    }
    return out;
}

/* Expects FOUND with data and the variables rendered as vars_text does. */
static void found(const char *path, const char *method, void *data,
                  const char *vars)
{
    apigw_route_match m;
    apigw_route_status st = apigw_route_match_path(tbl, path, method, pool, &m);

    if (st != APIGW_ROUTE_FOUND) {
        fail_msg("%s %s: status %d, want FOUND", method, path, (int)st);
    }
    assert_ptr_equal(m.data, data);
    assert_null(m.allow);
    assert_string_equal(vars_text(&m), vars);
}

static void none(const char *path, const char *method)
{
    apigw_route_match m;
    apigw_route_status st = apigw_route_match_path(tbl, path, method, pool, &m);

    if (st != APIGW_ROUTE_NONE) {
        fail_msg("%s %s: status %d, want NONE", method,
                 path ? path : "(null)", (int)st);
    }
    assert_null(m.data);
    assert_null(m.vars);
    assert_null(m.allow);
}

static void no_method(const char *path, const char *method, const char *allow)
{
    apigw_route_match m;
    apigw_route_status st = apigw_route_match_path(tbl, path, method, pool, &m);

    if (st != APIGW_ROUTE_NO_METHOD) {
        fail_msg("%s %s: status %d, want NO_METHOD", method, path, (int)st);
    }
    assert_null(m.data);
    assert_null(m.vars);
    assert_non_null(m.allow);
    assert_string_equal(m.allow, allow);
}

/* "/s0/s1/.../s{n-1}" with each segment made by fmt ("%d" formats i). */
static const char *make_path(int n, const char *fmt)
{
    const char *out = "";
    int i;

    for (i = 0; i < n; i++) {
        out = apr_pstrcat(pool, out, "/", apr_psprintf(pool, fmt, i), NULL);
    }
    return out;
}

/* ---- apigw_route_check ---- */

static void test_check_valid(void **state)
{
    char name[65];

    (void)state;
    check_ok("/", 0);
    check_ok("/users", 0);
    check_ok("/users/", 0);
    check_ok("//", 0);
    check_ok("/a//b", 0);
    check_ok("/users/{id}", 0);
    check_ok("/users/{id}/orders/{order_id}", 0);
    check_ok("/{_}", 0);
    check_ok("/{a1}/{B_2}", 0);
    check_ok("/files/*", 0);
    check_ok("/*", 0);
    check_ok("/{id}/*", 0);
    check_ok("/a.b/c-d~e/%20/caf\xc3\xa9", 0);
    memset(name, 'v', 64);
    name[64] = '\0';
    check_ok(apr_pstrcat(pool, "/{", name, "}", NULL), 0);
    check_ok(make_path(64, "s%d"), 0);
    check_ok(make_path(64, "{v%d}"), 0);
    check_ok(apr_pstrcat(pool, make_path(63, "s%d"), "/*", NULL), 0);
    /* inner variables with the flag */
    check_ok("/file.{ext}", APIGW_ROUTE_INNER_VARS);
    check_ok("/{name}.json", APIGW_ROUTE_INNER_VARS);
    check_ok("/v{version}/x", APIGW_ROUTE_INNER_VARS);
    check_ok("/x/pre{a}post/{b}", APIGW_ROUTE_INNER_VARS);
    /* flags that do not matter to a pattern without them */
    check_ok("/users/{id}", APIGW_ROUTE_INNER_VARS | APIGW_ROUTE_SKIP_CONFLICT);
    assert_int_equal(apigw_route_count(tbl), 0);    /* check adds nothing */
}

static void test_check_leading_slash(void **state)
{
    (void)state;
    check_err(NULL, 0, MSG_SLASH);
    check_err("", 0, MSG_SLASH);
    check_err("users", 0, MSG_SLASH);
    check_err("*", 0, MSG_SLASH);
    check_err("{id}", 0, MSG_SLASH);
    check_err(" /users", 0, MSG_SLASH);
}

static void test_check_control_chars(void **state)
{
    (void)state;
    check_err("/a b", 0, MSG_CTL);
    check_err("/a\tb", 0, MSG_CTL);
    check_err("/a\x7f", 0, MSG_CTL);
    check_err("/ok/\x01", 0, MSG_CTL);
    check_err("/{a}\n", APIGW_ROUTE_INNER_VARS, MSG_CTL);
    check_err("/{a b}", 0, MSG_CTL);
    check_err("/x /*", 0, MSG_CTL);
}

static void test_check_braces(void **state)
{
    (void)state;
    check_err("/a}", 0, MSG_CLOSE);
    check_err("/}", 0, MSG_CLOSE);
    check_err("/ok/}{", 0, MSG_OPEN);      /* '{' first found, then no '}' */
    check_err("/{a", 0, MSG_OPEN);
    check_err("/{", 0, MSG_OPEN);
    check_err("/{a/b}", 0, MSG_OPEN);      /* a variable cannot span '/' */
    check_err("/{a}{b}", APIGW_ROUTE_INNER_VARS, MSG_ONE);
    check_err("/{a}x{b}", APIGW_ROUTE_INNER_VARS, MSG_ONE);
    check_err("/{a}}", APIGW_ROUTE_INNER_VARS, MSG_ONE);
    check_err("/}{a}", APIGW_ROUTE_INNER_VARS, MSG_ONE);
    check_err("/{a}{", APIGW_ROUTE_INNER_VARS, MSG_ONE);
}

static void test_check_variable_names(void **state)
{
    char name[66];

    (void)state;
    check_err("/{}", 0, MSG_NAME);
    check_err("/{1a}", 0, MSG_NAME);
    check_err("/{9}", 0, MSG_NAME);
    check_err("/{a-b}", 0, MSG_NAME);
    check_err("/{a.b}", 0, MSG_NAME);
    check_err("/{a:b}", 0, MSG_NAME);
    check_err("/{a~}", 0, MSG_NAME);
    check_err("/{*}", 0, MSG_NAME);
    check_err("/{caf\xc3\xa9}", 0, MSG_NAME);
    check_err("/{{a}}", 0, MSG_NAME);
    memset(name, 'v', 65);
    name[65] = '\0';
    check_err(apr_pstrcat(pool, "/{", name, "}", NULL), 0, MSG_NAME);
}

static void test_check_wildcard_position(void **state)
{
    (void)state;
    check_err("/*/a", 0, MSG_STAR);
    check_err("/*/", 0, MSG_STAR);
    check_err("/a*", 0, MSG_STAR);
    check_err("/*a", 0, MSG_STAR);
    check_err("/a/**", 0, MSG_STAR);
    check_err("/a/*/*", 0, MSG_STAR);
    check_err("/{a}*", 0, MSG_STAR);
    check_err("/{a}*", APIGW_ROUTE_INNER_VARS, MSG_STAR);
    check_err("/*{a}", APIGW_ROUTE_INNER_VARS, MSG_STAR);
}

static void test_check_inner_vars_need_flag(void **state)
{
    (void)state;
    check_err("/file.{ext}", 0, MSG_INNER);
    check_err("/{name}.json", 0, MSG_INNER);
    check_err("/v{n}", 0, MSG_INNER);
    check_err("/ok/{id}/a{b}c", APIGW_ROUTE_SKIP_CONFLICT, MSG_INNER);
}

static void test_check_duplicate_names(void **state)
{
    (void)state;
    check_err("/{id}/{id}", 0, "the variable {id} appears twice");
    check_err("/a/{id}/b/{x}/{id}", 0, "the variable {id} appears twice");
    check_err("/{id}/x{id}", APIGW_ROUTE_INNER_VARS,
              "the variable {id} appears twice");
    check_ok("/{id}/{Id}", 0);                       /* case-sensitive */
}

static void test_check_too_many_segments(void **state)
{
    const char *slashes;
    char buf[70];

    (void)state;
    check_err(make_path(65, "s%d"), 0, MSG_SEGMENTS);
    check_err(make_path(65, "{v%d}"), 0, MSG_SEGMENTS);
    check_err(apr_pstrcat(pool, make_path(64, "s%d"), "/*", NULL), 0,
              MSG_SEGMENTS);
    check_err(make_path(1000, "s%d"), 0, MSG_SEGMENTS);
    /* 64 empty segments are fine, 65 are not */
    memset(buf, '/', sizeof(buf));
    buf[64] = '\0';
    slashes = apr_pstrdup(pool, buf);
    check_ok(slashes, 0);
    buf[64] = '/';
    buf[65] = '\0';
    check_err(buf, 0, MSG_SEGMENTS);
}

/* ---- matching ---- */

static void test_empty_table(void **state)
{
    (void)state;
    assert_int_equal(apigw_route_count(tbl), 0);
    none("/", "GET");
    none("/users", "GET");
    none("", "GET");
}

static void test_static_routes(void **state)
{
    (void)state;
    add_ok("/users", "GET", A, 0);
    add_ok("/users/active", "GET", B, 0);
    add_ok("/", "GET", C, 0);
    assert_int_equal(apigw_route_count(tbl), 3);

    found("/users", "GET", A, "");
    found("/users/active", "GET", B, "");
    found("/", "GET", C, "");
    none("/users/", "GET");                 /* trailing slash is another path */
    none("/Users", "GET");                  /* case-sensitive */
    none("/user", "GET");
    none("/usersx", "GET");
    none("/users/active/x", "GET");
    none("//", "GET");
    none("users", "GET");                   /* must start with '/' */
    none("", "GET");
    none(NULL, "GET");
}

static void test_match_vars_array_is_empty_not_null(void **state)
{
    apigw_route_match m;

    (void)state;
    add_ok("/x", "GET", A, 0);
    assert_int_equal(apigw_route_match_path(tbl, "/x", "GET", pool, &m),
                     APIGW_ROUTE_FOUND);
    assert_non_null(m.vars);
    assert_int_equal(m.vars->nelts, 0);
}

static void test_trailing_slash_routes_are_distinct(void **state)
{
    (void)state;
    add_ok("/users", "GET", A, 0);
    add_ok("/users/", "GET", B, 0);
    found("/users", "GET", A, "");
    found("/users/", "GET", B, "");
    none("/users//", "GET");
}

static void test_empty_segments(void **state)
{
    (void)state;
    add_ok("/a//b", "GET", A, 0);
    add_ok("//", "GET", B, 0);
    add_ok("/v/{x}/end", "GET", C, 0);
    found("/a//b", "GET", A, "");
    none("/a/b", "GET");
    found("//", "GET", B, "");
    none("/", "GET");
    none("///", "GET");
    none("/v//end", "GET");                 /* a {var} is never empty */
    found("/v/q/end", "GET", C, "x=q");
}

static void test_variables(void **state)
{
    (void)state;
    add_ok("/users/{id}", "GET", A, 0);
    add_ok("/users/{id}/orders/{order}", "GET", B, 0);
    found("/users/42", "GET", A, "id=42");
    found("/users/42/orders/7", "GET", B, "id=42;order=7");
    none("/users/", "GET");
    none("/users", "GET");
    none("/users/42/", "GET");
    none("/users/42/orders", "GET");
    none("/users/42/orders/", "GET");
    none("/users/42/orders/7/x", "GET");
}

static void test_variable_values_are_raw(void **state)
{
    (void)state;
    add_ok("/u/{id}", "GET", A, 0);
    /* the table sees the path as given: nothing is decoded or refused */
    found("/u/a%2Fb", "GET", A, "id=a%2Fb");
    found("/u/a b", "GET", A, "id=a b");
    found("/u/caf\xc3\xa9", "GET", A, "id=caf\xc3\xa9");
    found("/u/..", "GET", A, "id=..");
    found("/u/.", "GET", A, "id=.");
    found("/u/{x}", "GET", A, "id={x}");
    found("/u/*", "GET", A, "id=*");
    found("/u/a;b=c?d", "GET", A, "id=a;b=c?d");
}

static void test_long_values(void **state)
{
    apigw_route_match m;
    char *big = apr_palloc(pool, 100001);
    const char *path;
    const apigw_route_var *v;

    (void)state;
    memset(big, 'x', 100000);
    big[100000] = '\0';
    add_ok("/u/{id}/x", "GET", A, 0);
    add_ok("/f/*", "GET", B, 0);

    path = apr_pstrcat(pool, "/u/", big, "/x", NULL);
    assert_int_equal(apigw_route_match_path(tbl, path, "GET", pool, &m),
                     APIGW_ROUTE_FOUND);
    assert_int_equal(m.vars->nelts, 1);
    v = &APR_ARRAY_IDX(m.vars, 0, apigw_route_var);
    assert_string_equal(v->name, "id");
    assert_int_equal(strlen(v->value), 100000);
    assert_string_equal(v->value, big);

    path = apr_pstrcat(pool, "/f/", big, "/", big, NULL);
    assert_int_equal(apigw_route_match_path(tbl, path, "GET", pool, &m),
                     APIGW_ROUTE_FOUND);
    v = &APR_ARRAY_IDX(m.vars, 0, apigw_route_var);
    assert_string_equal(v->name, "*");
    assert_string_equal(v->value, path + 3);
}

/* The match copies values: they stay valid after the path buffer changes. */
static void test_values_are_copies(void **state)
{
    apigw_route_match m;
    char path[] = "/u/abc";

    (void)state;
    add_ok("/u/{id}", "GET", A, 0);
    assert_int_equal(apigw_route_match_path(tbl, path, "GET", pool, &m),
                     APIGW_ROUTE_FOUND);
    memset(path, 'z', sizeof(path) - 1);
    assert_string_equal(APR_ARRAY_IDX(m.vars, 0, apigw_route_var).value, "abc");
}

static void test_wildcard(void **state)
{
    (void)state;
    add_ok("/files/*", "GET", A, 0);
    found("/files/", "GET", A, "*=");
    found("/files/a", "GET", A, "*=a");
    found("/files/a/b/c", "GET", A, "*=a/b/c");
    found("/files/a/", "GET", A, "*=a/");
    found("/files//x", "GET", A, "*=/x");
    found("/files/../etc", "GET", A, "*=../etc");
    none("/files", "GET");
    none("/filesx", "GET");
    none("/file/x", "GET");
    none("/", "GET");
}

static void test_root_wildcard(void **state)
{
    (void)state;
    add_ok("/*", "GET", A, 0);
    add_ok("/health", "GET", B, 0);
    found("/", "GET", A, "*=");
    found("/anything", "GET", A, "*=anything");
    found("/a/b/c", "GET", A, "*=a/b/c");
    found("/health", "GET", B, "");
    found("/health/", "GET", A, "*=health/");
    found("/health/x", "GET", A, "*=health/x");
    none("", "GET");
}

static void test_wildcard_after_variables(void **state)
{
    (void)state;
    add_ok("/u/{id}/files/*", "GET", A, 0);
    found("/u/7/files/", "GET", A, "id=7;*=");
    found("/u/7/files/a/b", "GET", A, "id=7;*=a/b");
    none("/u/7/files", "GET");
    none("/u//files/a", "GET");
}

/* ---- priority and backtracking ---- */

static void test_static_beats_variable(void **state)
{
    (void)state;
    add_ok("/users/{id}", "GET", B, 0);      /* order of adding is irrelevant */
    add_ok("/users/me", "GET", A, 0);
    found("/users/me", "GET", A, "");
    found("/users/you", "GET", B, "id=you");
    found("/users/me2", "GET", B, "id=me2");
}

static void test_variable_beats_wildcard(void **state)
{
    (void)state;
    add_ok("/a/*", "GET", C, 0);
    add_ok("/a/{x}", "GET", B, 0);
    add_ok("/a/fixed", "GET", A, 0);
    found("/a/fixed", "GET", A, "");
    found("/a/other", "GET", B, "x=other");
    found("/a/other/deeper", "GET", C, "*=other/deeper");
    found("/a/", "GET", C, "*=");
}

static void test_backtrack_static_to_variable(void **state)
{
    (void)state;
    add_ok("/a/b/c", "GET", A, 0);
    add_ok("/a/{x}/d", "GET", B, 0);
    found("/a/b/c", "GET", A, "");
    found("/a/b/d", "GET", B, "x=b");
    none("/a/b/e", "GET");
}

/* Captures made on an abandoned branch must not leak into the result. */
static void test_backtrack_drops_captures(void **state)
{
    (void)state;
    add_ok("/a/{x}/{y}/end", "GET", A, 0);
    add_ok("/a/{x}/fixed/other", "GET", B, 0);
    add_ok("/a/*", "GET", C, 0);
    found("/a/1/2/end", "GET", A, "x=1;y=2");
    found("/a/1/fixed/other", "GET", B, "x=1");
    found("/a/1/fixed/end", "GET", A, "x=1;y=fixed");
    found("/a/1/2/nope", "GET", C, "*=1/2/nope");
    found("/a/1/fixed/nope", "GET", C, "*=1/fixed/nope");
}

static void test_backtrack_into_wildcard_when_variable_has_no_leaf(void **state)
{
    (void)state;
    add_ok("/a/{x}/b", "GET", A, 0);
    add_ok("/a/*", "GET", B, 0);
    found("/a/q", "GET", B, "*=q");          /* {x} node has no route itself */
    found("/a/q/b", "GET", A, "x=q");
    found("/a/q/c", "GET", B, "*=q/c");
}

/* GET /users/me is static, DELETE /users/{id} a variable: DELETE /users/me
 * must backtrack from the static node (no DELETE there) to the variable. */
static void test_backtrack_on_method(void **state)
{
    (void)state;
    add_ok("/users/me", "GET", A, 0);
    add_ok("/users/{id}", "DELETE", B, 0);
    found("/users/me", "DELETE", B, "id=me");
    found("/users/me", "GET", A, "");
    found("/users/me", "HEAD", A, "");
    found("/users/x", "DELETE", B, "id=x");
    no_method("/users/x", "GET", "DELETE");
    no_method("/users/me", "PUT", "DELETE, GET, HEAD");
}

static void test_inner_vars_longest_literal_first(void **state)
{
    const int f = APIGW_ROUTE_INNER_VARS;

    (void)state;
    /* added shortest first: the table orders them */
    add_ok("/f/{name}", "GET", C, f);
    add_ok("/f/{name}.gz", "GET", B, f);
    add_ok("/f/{name}.tar.gz", "GET", A, f);
    add_ok("/f/index", "GET", D, f);
    found("/f/x.tar.gz", "GET", A, "name=x");
    found("/f/x.gz", "GET", B, "name=x");
    found("/f/x", "GET", C, "name=x");
    found("/f/index", "GET", D, "");
    found("/f/index.gz", "GET", B, "name=index");
    /* the variable part is never empty: fall back to a shorter literal */
    found("/f/.tar.gz", "GET", B, "name=.tar");
    found("/f/.gz", "GET", C, "name=.gz");
}

static void test_inner_vars_prefix(void **state)
{
    const int f = APIGW_ROUTE_INNER_VARS;

    (void)state;
    add_ok("/{p}/x", "GET", B, f);
    add_ok("/v{n}/x", "GET", A, f);
    add_ok("/pre{a}post", "GET", C, f);
    found("/v2/x", "GET", A, "n=2");
    found("/w2/x", "GET", B, "p=w2");
    found("/v/x", "GET", B, "p=v");
    found("/preZpost", "GET", C, "a=Z");
    found("/prepostpost", "GET", C, "a=post");
    none("/prepost", "GET");
    none("/prpost", "GET");
    /* backtrack from the longer literal when the rest does not match */
    add_ok("/v{n}/only", "GET", D, f);
    found("/v9/only", "GET", D, "n=9");
    no_method("/v9/x", "POST", "GET, HEAD");
}

/* ---- methods, HEAD and Allow ---- */

static void test_head_matches_get(void **state)
{
    (void)state;
    add_ok("/g", "GET", A, 0);
    add_ok("/h", "GET", A, 0);
    add_ok("/h", "HEAD", B, 0);
    add_ok("/p", "POST", C, 0);
    found("/g", "HEAD", A, "");
    found("/h", "HEAD", B, "");              /* an explicit HEAD wins */
    found("/h", "GET", A, "");
    no_method("/p", "HEAD", "POST");
    no_method("/p", "GET", "POST");
}

static void test_get_does_not_match_head_route(void **state)
{
    (void)state;
    add_ok("/h", "HEAD", A, 0);
    found("/h", "HEAD", A, "");
    no_method("/h", "GET", "HEAD");
}

static void test_methods_are_case_sensitive(void **state)
{
    (void)state;
    add_ok("/x", "GET", A, 0);
    no_method("/x", "get", "GET, HEAD");
    no_method("/x", "Get", "GET, HEAD");
    add_ok("/x", "get", B, 0);               /* a different method */
    found("/x", "get", B, "");
    found("/x", "GET", A, "");
}

static void test_allow_sorted_with_head(void **state)
{
    (void)state;
    add_ok("/r", "PUT", A, 0);
    add_ok("/r", "GET", A, 0);
    add_ok("/r", "DELETE", A, 0);
    add_ok("/r", "POST", A, 0);
    add_ok("/r", "PATCH", A, 0);
    add_ok("/r", "OPTIONS", A, 0);
    no_method("/r", "TRACE", "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT");
    no_method("/r", "BREW", "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT");
}

static void test_allow_head_listed_once(void **state)
{
    (void)state;
    add_ok("/r", "HEAD", A, 0);
    add_ok("/r", "GET", A, 0);
    no_method("/r", "POST", "GET, HEAD");
}

static void test_allow_without_get_has_no_head(void **state)
{
    (void)state;
    add_ok("/r", "POST", A, 0);
    add_ok("/r", "DELETE", A, 0);
    no_method("/r", "GET", "DELETE, POST");
}

/* Allow is the union over every route whose pattern matches the path. */
static void test_allow_union_across_routes(void **state)
{
    (void)state;
    add_ok("/x", "GET", A, 0);
    add_ok("/{a}", "POST", B, 0);
    add_ok("/*", "PUT", C, 0);
    add_ok("/*", "POST", C, 0);
    no_method("/x", "DELETE", "GET, HEAD, POST, PUT");
    no_method("/y", "DELETE", "POST, PUT");
    no_method("/y/z", "DELETE", "POST, PUT");
    found("/x", "PUT", C, "*=x");
    found("/x", "POST", B, "a=x");
    found("/y/z", "POST", C, "*=y/z");
}

static void test_wildcard_no_method(void **state)
{
    (void)state;
    add_ok("/files/*", "GET", A, 0);
    no_method("/files/x", "POST", "GET, HEAD");
    no_method("/files/", "POST", "GET, HEAD");
    none("/files", "POST");
}

static void test_no_method_vs_none(void **state)
{
    (void)state;
    add_ok("/a/{id}", "POST", A, 0);
    no_method("/a/1", "GET", "POST");
    none("/a", "GET");                       /* intermediate node: no routes */
    none("/a/1/2", "GET");
    none("/b", "POST");
}

static void test_no_method_names_another_route(void **state)
{
    apigw_route_match m;

    (void)state;
    add_ok("/a/{id}", "POST", A, 0);
    add_ok("/a/{id}", "PUT", B, 0);
    add_ok("/a/me", "DELETE", C, 0);
    assert_int_equal(apigw_route_match_path(tbl, "/a/1", "GET", pool, &m),
                     APIGW_ROUTE_NO_METHOD);
    assert_ptr_equal(m.other, A);           /* the first one added */
    /* the most specific path's first: the static one, then backtracked */
    assert_int_equal(apigw_route_match_path(tbl, "/a/me", "GET", pool, &m),
                     APIGW_ROUTE_NO_METHOD);
    assert_ptr_equal(m.other, C);
    assert_string_equal(m.allow, "DELETE, POST, PUT");
    assert_int_equal(apigw_route_match_path(tbl, "/a/1", "POST", pool, &m),
                     APIGW_ROUTE_FOUND);
    assert_null(m.other);
    assert_int_equal(apigw_route_match_path(tbl, "/b", "GET", pool, &m),
                     APIGW_ROUTE_NONE);
    assert_null(m.other);
}

/* ---- redirect candidates ---- */

static void clean_is(const char *path, const char *want)
{
    assert_string_equal(apigw_route_clean_path(pool, path), want);
}

static void test_clean_path(void **state)
{
    (void)state;
    clean_is("/", "/");
    clean_is("", "/");
    clean_is("//", "/");
    clean_is("/a/b", "/a/b");
    clean_is("/a/b/", "/a/b/");
    clean_is("//a///b//", "/a/b/");
    clean_is("/a/./b", "/a/b");
    clean_is("/a/.", "/a/");
    clean_is("/a/..", "/");
    clean_is("/a/b/../c", "/a/c");
    clean_is("/a/b/..", "/a/");
    clean_is("/../../x", "/x");
    clean_is("/..", "/");
    clean_is("/.../a", "/.../a");            /* not a dot segment */
    clean_is("/..a/.b", "/..a/.b");
    clean_is("a/b", "/a/b");
    clean_is("//evil.com/x", "/evil.com/x");
    clean_is("/\\evil.com", "/\\evil.com");  /* not a separator */
}

static void test_toggle_slash(void **state)
{
    (void)state;
    assert_null(apigw_route_toggle_slash(pool, "/"));
    assert_null(apigw_route_toggle_slash(pool, "x"));
    assert_null(apigw_route_toggle_slash(pool, NULL));
    assert_string_equal(apigw_route_toggle_slash(pool, "/a"), "/a/");
    assert_string_equal(apigw_route_toggle_slash(pool, "/a/"), "/a");
    assert_string_equal(apigw_route_toggle_slash(pool, "/a//"), "/a/");
}

static void fixed_is(const char *path, const char *method, const char *want)
{
    const char *got = apigw_route_fix_path(tbl, path, method, pool);

    if (want == NULL ? got != NULL : got == NULL || strcmp(got, want) != 0) {
        fail_msg("fix %s %s: \"%s\", want \"%s\"", method, path,
                 got ? got : "(null)", want ? want : "(null)");
    }
}

static void test_fix_path(void **state)
{
    (void)state;
    fixed_is("/static", "GET", NULL);        /* an empty table */
    add_ok("/static", "GET", A, 0);
    add_ok("/v1/Users/{user}/Orders", "GET", B, 0);
    add_ok("/v1/Users/{user}/Orders", "POST", B, 0);
    add_ok("/files/*", "GET", C, 0);
    add_ok("/r/Report.{fmt}", "GET", D, APIGW_ROUTE_INNER_VARS);
    add_ok("/slash/", "PUT", E, 0);

    fixed_is("/StAtic", "GET", "/static");
    fixed_is("/STATIC", "HEAD", "/static");  /* HEAD: a GET route */
    fixed_is("/static", "GET", "/static");   /* the caller compares */
    fixed_is("/StAtic", "POST", NULL);       /* no route of that method */
    fixed_is("/V1/USERS/AlIce/ORDERS", "GET", "/v1/Users/AlIce/Orders");
    fixed_is("/V1/USERS/AlIce/ORDERS", "POST", "/v1/Users/AlIce/Orders");
    fixed_is("/v1/users//orders", "GET", NULL); /* cleaned: no {user} */
    fixed_is("/FILES/A/b", "GET", "/files/A/b");
    fixed_is("/FILES/", "GET", "/files/");
    fixed_is("/r/REPORT.Csv", "GET", "/r/Report.Csv");
    fixed_is("/r/REPORT.", "GET", NULL);     /* an empty {fmt} */
    /* cleaned first */
    fixed_is("//StAtic", "GET", "/static");
    fixed_is("/x/../v1/./USERS/b/orders", "GET", "/v1/Users/b/Orders");
    fixed_is("/../../static", "GET", "/static");
    /* then with the trailing slash toggled */
    fixed_is("/STATIC/", "GET", "/static");
    fixed_is("/SLASH", "PUT", "/slash/");
    fixed_is("/FILES", "GET", "/files/");
    fixed_is("/STATIC//", "GET", "/static");
    fixed_is("/nothing", "GET", NULL);
    fixed_is("/static/x", "GET", NULL);
    fixed_is("/", "GET", NULL);
    fixed_is("x", "GET", NULL);
    fixed_is("/static", NULL, NULL);
}

static void test_fix_path_spellings(void **state)
{
    (void)state;
    /* several spellings: the exact one first, else any that leads on */
    add_ok("/Api/a", "GET", A, 0);
    add_ok("/API/b", "GET", B, 0);
    add_ok("/api/{x}/c", "GET", C, 0);
    fixed_is("/api/A", "GET", "/Api/a");
    fixed_is("/api/B", "GET", "/API/b");
    fixed_is("/API/A", "GET", "/Api/a");
    fixed_is("/aPi/Q/C", "GET", "/api/Q/c");
    /* a static spelling wins over a variable, as in a match */
    fixed_is("/api/A/C", "GET", "/api/A/c");
    /* never an empty segment: the cleaned path has none */
    add_ok("//x", "GET", D, 0);
    fixed_is("//X", "GET", NULL);
    fixed_is("/X", "GET", NULL);
}

static void test_fix_path_deep(void **state)
{
    const char *path = "", *want = "";
    int i;

    (void)state;
    for (i = 0; i < APIGW_ROUTE_MAX_SEGMENTS_FOR_TEST - 1; i++) {
        path = apr_pstrcat(pool, path, "/S", NULL);
        want = apr_pstrcat(pool, want, "/s", NULL);
    }
    add_ok(apr_pstrcat(pool, want, "/end", NULL), "GET", A, 0);
    fixed_is(apr_pstrcat(pool, path, "/END", NULL), "GET",
             apr_pstrcat(pool, want, "/end", NULL));
    fixed_is(apr_pstrcat(pool, path, "/nope", NULL), "GET", NULL);
}

/* ---- conflicts ---- */

static void test_conflict_variable_names(void **state)
{
    void *conflict;

    (void)state;
    add_ok("/users/{id}", "GET", A, 0);
    conflict = add_err("/users/{uid}", "GET", B, 0,
                       "{uid} is named {id} by an earlier route at the "
                       "same position");
    assert_ptr_equal(conflict, A);
    /* another method does not help: the position is shared */
    conflict = add_err("/users/{uid}", "DELETE", B, 0,
                       "{uid} is named {id} by an earlier route at the "
                       "same position");
    assert_ptr_equal(conflict, A);
    /* nor does a longer pattern */
    conflict = add_err("/users/{uid}/orders", "GET", C, 0,
                       "{uid} is named {id} by an earlier route at the "
                       "same position");
    assert_ptr_equal(conflict, A);
    /* the table is unchanged */
    assert_int_equal(apigw_route_count(tbl), 1);
    found("/users/5", "GET", A, "id=5");
    no_method("/users/5", "DELETE", "GET, HEAD");
    none("/users/5/orders", "GET");
}

/* *conflict names the route that created the shared {var} node. */
static void test_conflict_reports_earlier_owner(void **state)
{
    void *conflict;

    (void)state;
    add_ok("/a/{x}", "GET", A, 0);
    add_ok("/a/{x}/b", "GET", B, 0);
    add_ok("/a/{x}/b/{y}", "GET", C, 0);
    conflict = add_err("/a/{z}/c", "GET", D, 0,
                       "{z} is named {x} by an earlier route at the same "
                       "position");
    assert_ptr_equal(conflict, A);
    conflict = add_err("/a/{x}/b/{w}", "POST", D, 0,
                       "{w} is named {y} by an earlier route at the same "
                       "position");
    assert_ptr_equal(conflict, C);
    assert_int_equal(apigw_route_count(tbl), 3);
}

static void test_conflict_inner_vars(void **state)
{
    const int f = APIGW_ROUTE_INNER_VARS;
    void *conflict;

    (void)state;
    add_ok("/f/{name}.json", "GET", A, f);
    add_ok("/f/{other}.xml", "GET", B, f);   /* a different literal: fine */
    add_ok("/f/{third}", "GET", C, f);
    conflict = add_err("/f/{n}.json", "POST", D, f,
                       "{n} is named {name} by an earlier route at the same "
                       "position");
    assert_ptr_equal(conflict, A);
    found("/f/a.json", "GET", A, "name=a");
    found("/f/a.xml", "GET", B, "other=a");
    found("/f/a", "GET", C, "third=a");
}

static void test_conflict_duplicate_route(void **state)
{
    void *conflict;

    (void)state;
    add_ok("/users/{id}", "GET", A, 0);
    conflict = add_err("/users/{id}", "GET", B, 0,
                       "GET /users/{id} is defined twice");
    assert_ptr_equal(conflict, A);
    found("/users/1", "GET", A, "id=1");
    add_ok("/users/{id}", "DELETE", B, 0);   /* another method is fine */
    conflict = add_err("/users/{id}", "DELETE", C, 0,
                       "DELETE /users/{id} is defined twice");
    assert_ptr_equal(conflict, B);
    add_ok("/", "GET", C, 0);
    conflict = add_err("/", "GET", D, 0, "GET / is defined twice");
    assert_ptr_equal(conflict, C);
    add_ok("/w/*", "PUT", D, 0);
    conflict = add_err("/w/*", "PUT", E, 0, "PUT /w/* is defined twice");
    assert_ptr_equal(conflict, D);
    assert_int_equal(apigw_route_count(tbl), 4);
}

static void test_no_conflict_between_static_variable_wildcard(void **state)
{
    (void)state;
    add_ok("/a/b", "GET", A, 0);
    add_ok("/a/{x}", "GET", B, 0);
    add_ok("/a/*", "GET", C, 0);
    add_ok("/a/{x}/c", "GET", D, 0);         /* same name, same position */
    assert_int_equal(apigw_route_count(tbl), 4);
}

static void test_skip_conflict_duplicate(void **state)
{
    void *conflict = NULL;
    const char *err;

    (void)state;
    add_ok("/users/{id}", "GET", A, 0);
    err = apigw_route_add(tbl, "/users/{id}", "GET", B,
                          APIGW_ROUTE_SKIP_CONFLICT, &conflict);
    assert_null(err);
    assert_ptr_equal(conflict, A);
    assert_int_equal(apigw_route_count(tbl), 1);
    found("/users/1", "GET", A, "id=1");
}

static void test_skip_conflict_variable_name(void **state)
{
    void *conflict = NULL;
    const char *err;

    (void)state;
    add_ok("/users/{id}", "GET", A, 0);
    err = apigw_route_add(tbl, "/users/{uid}/x", "POST", B,
                          APIGW_ROUTE_SKIP_CONFLICT, &conflict);
    assert_null(err);
    assert_ptr_equal(conflict, A);
    assert_int_equal(apigw_route_count(tbl), 1);
    none("/users/1/x", "POST");              /* nothing was added */
    no_method("/users/1", "POST", "GET, HEAD");
    /* and no half-built node was left: the same route still conflicts */
    conflict = add_err("/users/{uid}/x", "POST", B, 0,
                       "{uid} is named {id} by an earlier route at the "
                       "same position");
    assert_ptr_equal(conflict, A);
}

static void test_skip_conflict_without_conflict_adds(void **state)
{
    void *conflict = (void *)&conflict;

    (void)state;
    add_ok("/users/{id}", "GET", A, 0);
    assert_null(apigw_route_add(tbl, "/users/{id}", "DELETE", B,
                                APIGW_ROUTE_SKIP_CONFLICT, &conflict));
    assert_null(conflict);
    assert_int_equal(apigw_route_count(tbl), 2);
    found("/users/9", "DELETE", B, "id=9");
}

static void test_skip_conflict_still_reports_bad_patterns(void **state)
{
    void *conflict;

    (void)state;
    conflict = add_err("/x/{", "GET", A, APIGW_ROUTE_SKIP_CONFLICT, MSG_OPEN);
    assert_null(conflict);
    conflict = add_err("nope", "GET", A, APIGW_ROUTE_SKIP_CONFLICT, MSG_SLASH);
    assert_null(conflict);
}

/* ---- counting, depth, size ---- */

static void test_count(void **state)
{
    (void)state;
    assert_int_equal(apigw_route_count(tbl), 0);
    add_ok("/a", "GET", A, 0);
    add_ok("/a", "POST", A, 0);
    add_ok("/a/{b}", "GET", B, 0);
    add_ok("/a/*", "GET", C, 0);
    assert_int_equal(apigw_route_count(tbl), 4);
    add_err("/a", "GET", D, 0, "GET /a is defined twice");
    assert_int_equal(apigw_route_count(tbl), 4);
}

static void test_deep_variables(void **state)
{
    apigw_route_match m;
    const char *path = make_path(64, "val%d");
    int i;

    (void)state;
    add_ok(make_path(64, "{v%d}"), "GET", A, 0);
    assert_int_equal(apigw_route_match_path(tbl, path, "GET", pool, &m),
                     APIGW_ROUTE_FOUND);
    assert_ptr_equal(m.data, A);
    assert_int_equal(m.vars->nelts, 64);
    for (i = 0; i < 64; i++) {
        const apigw_route_var *v = &APR_ARRAY_IDX(m.vars, i, apigw_route_var);
        assert_string_equal(v->name, apr_psprintf(pool, "v%d", i));
        assert_string_equal(v->value, apr_psprintf(pool, "val%d", i));
    }
    none(make_path(63, "val%d"), "GET");
    none(make_path(65, "val%d"), "GET");
    none(make_path(1000, "val%d"), "GET");
}

static void test_deep_wildcard(void **state)
{
    apigw_route_match m;
    const char *prefix = make_path(63, "{v%d}");
    const char *path = make_path(2000, "%d");
    const apigw_route_var *last;

    (void)state;
    add_ok(apr_pstrcat(pool, prefix, "/*", NULL), "GET", A, 0);
    assert_int_equal(apigw_route_match_path(tbl, path, "GET", pool, &m),
                     APIGW_ROUTE_FOUND);
    assert_int_equal(m.vars->nelts, 64);
    last = &APR_ARRAY_IDX(m.vars, 63, apigw_route_var);
    assert_string_equal(last->name, "*");
    assert_string_equal(last->value,
                        strstr(path, "/63/") + 1);   /* "63/64/.../1999" */
}

static void test_deep_static_and_many_routes(void **state)
{
    static char tags[500];
    int i;

    (void)state;
    add_ok(make_path(64, "s%d"), "GET", A, 0);
    found(make_path(64, "s%d"), "GET", A, "");
    none(make_path(63, "s%d"), "GET");
    for (i = 0; i < 500; i++) {
        add_ok(apr_psprintf(pool, "/r%d/{id}", i), "GET",
               &tags[i], 0);
    }
    assert_int_equal(apigw_route_count(tbl), 501);
    for (i = 0; i < 500; i += 37) {
        found(apr_psprintf(pool, "/r%d/x%d", i, i), "GET",
              &tags[i], apr_psprintf(pool, "id=x%d", i));
    }
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_check_valid),
        T(test_check_leading_slash),
        T(test_check_control_chars),
        T(test_check_braces),
        T(test_check_variable_names),
        T(test_check_wildcard_position),
        T(test_check_inner_vars_need_flag),
        T(test_check_duplicate_names),
        T(test_check_too_many_segments),
        T(test_empty_table),
        T(test_static_routes),
        T(test_match_vars_array_is_empty_not_null),
        T(test_trailing_slash_routes_are_distinct),
        T(test_empty_segments),
        T(test_variables),
        T(test_variable_values_are_raw),
        T(test_long_values),
        T(test_values_are_copies),
        T(test_wildcard),
        T(test_root_wildcard),
        T(test_wildcard_after_variables),
        T(test_static_beats_variable),
        T(test_variable_beats_wildcard),
        T(test_backtrack_static_to_variable),
        T(test_backtrack_drops_captures),
        T(test_backtrack_into_wildcard_when_variable_has_no_leaf),
        T(test_backtrack_on_method),
        T(test_inner_vars_longest_literal_first),
        T(test_inner_vars_prefix),
        T(test_head_matches_get),
        T(test_get_does_not_match_head_route),
        T(test_methods_are_case_sensitive),
        T(test_allow_sorted_with_head),
        T(test_allow_head_listed_once),
        T(test_allow_without_get_has_no_head),
        T(test_allow_union_across_routes),
        T(test_wildcard_no_method),
        T(test_no_method_vs_none),
        T(test_no_method_names_another_route),
        T(test_clean_path),
        T(test_toggle_slash),
        T(test_fix_path),
        T(test_fix_path_spellings),
        T(test_fix_path_deep),
        T(test_conflict_variable_names),
        T(test_conflict_reports_earlier_owner),
        T(test_conflict_inner_vars),
        T(test_conflict_duplicate_route),
        T(test_no_conflict_between_static_variable_wildcard),
        T(test_skip_conflict_duplicate),
        T(test_skip_conflict_variable_name),
        T(test_skip_conflict_without_conflict_adds),
        T(test_skip_conflict_still_reports_bad_patterns),
        T(test_count),
        T(test_deep_variables),
        T(test_deep_wildcard),
        T(test_deep_static_and_many_routes),
    };
    return cmocka_run_group_tests_name("apigw_route", tests, group_setup,
                                       group_teardown);
}
