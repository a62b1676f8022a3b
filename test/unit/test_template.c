/* sources: mod_apigw/apigw_template.c */
/* Unit tests for mod_apigw/apigw_template.c: compiling backend URL
 * templates (every error message) and expanding them: percent-encoding,
 * the {*} tail, dot segments, control characters, query appending. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#define UNIT_POOL
#include "unit_apr.h"

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "apigw_route.h"
#include "apigw_template.h"

#define MSG_URL       "the backend must be a URL such as http://host:port/path"
#define MSG_SCHEME    "the backend URL's scheme must be lower case, " \
                      "like http or balancer"
#define MSG_CTL       "the backend URL contains a space or a control character"
#define MSG_HOST      "the backend URL has no host"
#define MSG_HOSTVAR   "variables are not allowed in the backend's host or port"
#define MSG_FRAGMENT  "the backend URL may not have a fragment (#)"
#define MSG_CLOSE     "'}' without a matching '{' in the backend URL"
#define MSG_OPEN      "'{' without a matching '}' in the backend URL"
#define MSG_NAME      "a backend URL variable must be {name} or {*}"

/* ---- helpers ---- */

static apigw_template *compile_ok(const char *url)
{
    apigw_template *t = NULL;
    const char *err = apigw_template_compile(pool, url, &t);

    if (err) {
        fail_msg("compile \"%s\": unexpected error \"%s\"", url, err);
    }
    assert_non_null(t);
    return t;
}

static void compile_err(const char *url, const char *want)
{
    apigw_template *t = (apigw_template *)&t;     /* must stay untouched */
    const char *err = apigw_template_compile(pool, url, &t);

    if (!err) {
        fail_msg("compile \"%s\": accepted, want \"%s\"",
                 url ? url : "(null)", want);
    }
    assert_string_equal(err, want);
    assert_ptr_equal(t, (apigw_template *)&t);
}

/* vars from "name", "value", ..., NULL */
static apr_array_header_t *make_vars(const char *name, ...)
{
    apr_array_header_t *a = apr_array_make(pool, 4, sizeof(apigw_route_var));
    va_list ap;

    va_start(ap, name);
    while (name) {
        apigw_route_var *v = apr_array_push(a);
        v->name = name;
        v->value = va_arg(ap, const char *);
        name = va_arg(ap, const char *);
    }
    va_end(ap);
    return a;
}

static void expand_ok(const apigw_template *t, const apr_array_header_t *vars,
                      const char *query, const char *want)
{
    const char *url = NULL, *bad = NULL;
    apigw_expand_status st = apigw_template_expand(t, vars, query, pool, &url,
                                                   &bad);
    if (st != APIGW_EXPAND_OK) {
        fail_msg("expand: status %d (bad {%s}), want \"%s\"", (int)st,
                 bad ? bad : "?", want);
    }
    assert_non_null(url);
    assert_string_equal(url, want);
}

static void expand_fails(const apigw_template *t,
                         const apr_array_header_t *vars,
                         apigw_expand_status want, const char *want_bad)
{
    const char *url = "untouched", *bad = NULL;
    apigw_expand_status st = apigw_template_expand(t, vars, "q=1", pool, &url,
                                                   &bad);
    if (st != want) {
        fail_msg("expand: status %d (url \"%s\"), want %d", (int)st,
                 st == APIGW_EXPAND_OK ? url : "-", (int)want);
    }
    assert_non_null(bad);
    assert_string_equal(bad, want_bad);
    assert_string_equal(url, "untouched");
}

/* One variable: expand "http://h/p/{v}" and "http://h/p?x={v}". */
static void path_value(const char *value, const char *want_encoded)
{
    apigw_template *t = compile_ok("http://h/p/{v}");
    expand_ok(t, make_vars("v", value, NULL), NULL,
              apr_pstrcat(pool, "http://h/p/", want_encoded, NULL));
}

static void query_value(const char *value, const char *want_encoded)
{
    apigw_template *t = compile_ok("http://h/p?x={v}");
    expand_ok(t, make_vars("v", value, NULL), NULL,
              apr_pstrcat(pool, "http://h/p?x=", want_encoded, NULL));
}

static void tail_value(const char *value, const char *want_encoded)
{
    apigw_template *t = compile_ok("http://h/files/{*}");
    expand_ok(t, make_vars("*", value, NULL), NULL,
              apr_pstrcat(pool, "http://h/files/", want_encoded, NULL));
}

static const char *vars_list(const apigw_template *t)
{
    const apr_array_header_t *names = apigw_template_vars(t);
    const char *out = "";
    int i;

    assert_non_null(names);
    for (i = 0; i < names->nelts; i++) {
        out = apr_pstrcat(pool, out, i ? "," : "",
                          APR_ARRAY_IDX(names, i, const char *), NULL);
    }
    return out;
}

/* ---- compile ---- */

static void test_compile_parts(void **state)
{
    apigw_template *t;

    (void)state;
    t = compile_ok("http://127.0.0.1:9001/users/{user}?id={user}");
    assert_string_equal(apigw_template_scheme(t), "http");
    assert_string_equal(apigw_template_origin(t), "http://127.0.0.1:9001");
    assert_string_equal(vars_list(t), "user");

    t = compile_ok("balancer://users-cluster/api/{*}");
    assert_string_equal(apigw_template_scheme(t), "balancer");
    assert_string_equal(apigw_template_origin(t), "balancer://users-cluster");
    assert_string_equal(vars_list(t), "*");

    t = compile_ok("https://user@Example.COM:8443");
    assert_string_equal(apigw_template_scheme(t), "https");
    assert_string_equal(apigw_template_origin(t),
                        "https://user@Example.COM:8443");
    assert_string_equal(vars_list(t), "");

    t = compile_ok("h2c+x-y.z0://[::1]:80/p");
    assert_string_equal(apigw_template_scheme(t), "h2c+x-y.z0");
    assert_string_equal(apigw_template_origin(t), "h2c+x-y.z0://[::1]:80");

    t = compile_ok("http://h?x=1");
    assert_string_equal(apigw_template_origin(t), "http://h");
}

static void test_compile_vars_listed_once_in_order(void **state)
{
    (void)state;
    assert_string_equal(vars_list(compile_ok("http://h/{b}/{a}/{b}?x={*}&y={a}")),
                        "b,a,*");
    assert_string_equal(vars_list(compile_ok("http://h/{*}?all={*}")), "*");
}

static void test_compile_not_a_url(void **state)
{
    (void)state;
    compile_err(NULL, MSG_URL);
    compile_err("", MSG_URL);
    compile_err("host:80/x", MSG_URL);
    compile_err("://h/x", MSG_URL);
    compile_err("http:/h", MSG_URL);
    compile_err("/users/{id}", MSG_URL);
}

static void test_compile_scheme(void **state)
{
    (void)state;
    compile_err("HTTP://h/", MSG_SCHEME);
    compile_err("Http://h/", MSG_SCHEME);
    compile_err("ht_tp://h/", MSG_SCHEME);
    compile_err("h t://h/", MSG_SCHEME);
    compile_err("http{a}://h/", MSG_SCHEME);
    compile_err("a/b://h/", MSG_SCHEME);
}

static void test_compile_control_chars(void **state)
{
    (void)state;
    compile_err("http://h/a b", MSG_CTL);
    compile_err("http://h/a\tb", MSG_CTL);
    compile_err("http://h/\x7f", MSG_CTL);
    compile_err("http://h/{a}\n", MSG_CTL);
    compile_err("http://h/?x= ", MSG_CTL);
    compile_err("http:// h/", MSG_CTL);
}

static void test_compile_no_host(void **state)
{
    (void)state;
    compile_err("http://", MSG_HOST);
    compile_err("http:///x", MSG_HOST);
    compile_err("http://?x=1", MSG_HOST);
    compile_err("http://#f", MSG_HOST);
}

static void test_compile_vars_in_authority(void **state)
{
    (void)state;
    compile_err("http://{host}/", MSG_HOSTVAR);
    compile_err("http://h:{port}/", MSG_HOSTVAR);
    compile_err("http://h:{port}", MSG_HOSTVAR);
    compile_err("http://{*}", MSG_HOSTVAR);
    compile_err("http://h}/", MSG_HOSTVAR);
    compile_err("http://a{b/c}", MSG_HOSTVAR);
}

static void test_compile_fragment(void **state)
{
    (void)state;
    compile_err("http://h#f", MSG_FRAGMENT);
    compile_err("http://h/p#f", MSG_FRAGMENT);
    compile_err("http://h/p?x=1#f", MSG_FRAGMENT);
    compile_err("http://h/{a}#", MSG_FRAGMENT);
}

static void test_compile_braces(void **state)
{
    (void)state;
    compile_err("http://h/a}", MSG_CLOSE);
    compile_err("http://h/{a}}", MSG_CLOSE);
    compile_err("http://h/?x=}", MSG_CLOSE);
    compile_err("http://h/{a", MSG_OPEN);
    compile_err("http://h/{", MSG_OPEN);
    compile_err("http://h/?x={a", MSG_OPEN);
}

static void test_compile_variable_names(void **state)
{
    (void)state;
    compile_err("http://h/{}", MSG_NAME);
    compile_err("http://h/{a/b}", MSG_NAME);
    compile_err("http://h/?{a?b}", MSG_NAME);
    compile_err("http://h/?x={a&b}", MSG_NAME);
    compile_err("http://h/?x={a=b}", MSG_NAME);
    compile_err("http://h/{{a}", MSG_NAME);
}

/* ---- expand: plain values ---- */

static void test_expand_basic(void **state)
{
    apigw_template *t;

    (void)state;
    t = compile_ok("http://127.0.0.1:9001/users/{user}?id={user}");
    expand_ok(t, make_vars("user", "alice", NULL), NULL,
              "http://127.0.0.1:9001/users/alice?id=alice");

    t = compile_ok("http://h/a/{x}/b/{y}");
    expand_ok(t, make_vars("y", "2", "x", "1", NULL), NULL, "http://h/a/1/b/2");
    /* extra route variables are ignored */
    expand_ok(t, make_vars("x", "1", "y", "2", "z", "3", NULL), NULL,
              "http://h/a/1/b/2");
}

static void test_expand_no_path(void **state)
{
    (void)state;
    expand_ok(compile_ok("http://h"), NULL, NULL, "http://h/");
    expand_ok(compile_ok("http://h:81"), NULL, "a=1", "http://h:81/?a=1");
    expand_ok(compile_ok("http://h?x=1"), NULL, NULL, "http://h/?x=1");
    expand_ok(compile_ok("http://h?x=1"), NULL, "a=1", "http://h/?x=1&a=1");
    expand_ok(compile_ok("http://h/"), NULL, NULL, "http://h/");
}

/* Only the template's first '?' opens the query: a later '?' is data, so
 * the appended query still takes a '&' after it (see also
 * test_expand_query_after_open_query). */
static void test_expand_query_separator(void **state)
{
    (void)state;
    expand_ok(compile_ok("http://h/p?x={v}"), make_vars("v", "", NULL), "z=9",
              "http://h/p?x=&z=9");
    expand_ok(compile_ok("http://h/p??"), NULL, "z=9", "http://h/p??&z=9");
    /* the fuzz_template finding: {user} empty, the template's last '?' */
    expand_ok(compile_ok("http://h/users/{user}?id?{user}"),
              make_vars("user", "", NULL), "a=1&b=2",
              "http://h/users/?id?&a=1&b=2");
    expand_ok(compile_ok("http://h/users/{user}?id?{user}"),
              make_vars("user", "?", NULL), "a=1",
              "http://h/users/%3F?id?%3F&a=1");
}

static void test_expand_literals_kept_as_written(void **state)
{
    (void)state;
    expand_ok(compile_ok("http://h/a%20b/{x}/~c;d=e,f"),
              make_vars("x", "v", NULL), NULL, "http://h/a%20b/v/~c;d=e,f");
    expand_ok(compile_ok("http://h/file.{ext}"), make_vars("ext", "json", NULL),
              NULL, "http://h/file.json");
    expand_ok(compile_ok("http://h/{a}{b}"), make_vars("a", "x", "b", "y", NULL),
              NULL, "http://h/xy");
}

static void test_expand_missing_variable_is_empty(void **state)
{
    apigw_template *t = compile_ok("http://h/a/{x}/b?y={y}");

    (void)state;
    expand_ok(t, NULL, NULL, "http://h/a//b?y=");
    expand_ok(t, make_vars("other", "1", NULL), NULL, "http://h/a//b?y=");
    expand_ok(compile_ok("http://h/f/{*}"), NULL, NULL, "http://h/f/");
}

/* ---- expand: encoding ---- */

static void test_expand_unreserved_kept(void **state)
{
    (void)state;
    path_value("AZaz09-._~", "AZaz09-._~");
    query_value("AZaz09-._~", "AZaz09-._~");
    tail_value("AZaz09-._~/x", "AZaz09-._~/x");
}

static void test_expand_reserved_encoded(void **state)
{
    (void)state;
    path_value("a b", "a%20b");
    path_value("!*'();:@&=+$,?#[]", "%21%2A%27%28%29%3B%3A%40%26%3D%2B%24%2C"
               "%3F%23%5B%5D");
    path_value("%", "%25");
    path_value("%2F", "%252F");               /* never decoded again */
    path_value("\"<>\\^`{|}", "%22%3C%3E%5C%5E%60%7B%7C%7D");
    path_value("caf\xc3\xa9", "caf%C3%A9");
    path_value("\x80\xff", "%80%FF");
    query_value("a&b=c", "a%26b%3Dc");
    query_value("a+b c", "a%2Bb%20c");
    query_value("#frag", "%23frag");
}

/* Every byte other than the unreserved ones comes out as %XX (upper-case
 * hex), in the path, the query and the tail. */
static void test_expand_every_byte(void **state)
{
    int c;

    (void)state;
    for (c = 0x20; c <= 0xff; c++) {
        char value[4] = { 'x', (char)c, 'x', '\0' };
        char want[8];
        int unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
                         || (c >= '0' && c <= '9') || c == '-' || c == '.'
                         || c == '_' || c == '~';

        if (c == 0x7f) {
            continue;                          /* a control character */
        }
        if (unreserved) {
            snprintf(want, sizeof(want), "x%cx", c);
        }
        else {
            snprintf(want, sizeof(want), "x%%%02Xx", c);
        }
        query_value(value, want);
        if (c != '/') {
            path_value(value, want);
            tail_value(value, want);
        }
    }
}

static void test_expand_long_value(void **state)
{
    apigw_template *t = compile_ok("http://h/p/{v}?q={v}");
    char *value = apr_palloc(pool, 100001);
    const char *url = NULL, *bad = NULL;
    size_t i;

    (void)state;
    memset(value, ' ', 100000);
    value[100000] = '\0';
    assert_int_equal(apigw_template_expand(t, make_vars("v", value, NULL),
                                           "z=1", pool, &url, &bad),
                     APIGW_EXPAND_OK);
    /* "http://h/p/" + 3e5 + "?q=" + 3e5 + "&z=1" */
    assert_int_equal(strlen(url), 11 + 300000 + 3 + 300000 + 4);
    assert_memory_equal(url, "http://h/p/%20%20", 17);
    for (i = 11; i < 11 + 300000; i += 3) {
        assert_memory_equal(url + i, "%20", 3);
    }
    assert_string_equal(url + strlen(url) - 4, "&z=1");
}

/* ---- expand: refusals ---- */

static void test_expand_dot_segments_refused(void **state)
{
    apigw_template *t = compile_ok("http://h/p/{v}");

    (void)state;
    expand_fails(t, make_vars("v", ".", NULL), APIGW_EXPAND_NOT_FOUND, "v");
    expand_fails(t, make_vars("v", "..", NULL), APIGW_EXPAND_NOT_FOUND, "v");
    /* inside a segment too: the value alone must not be a dot segment */
    t = compile_ok("http://h/file.{ext}");
    expand_fails(t, make_vars("ext", ".", NULL), APIGW_EXPAND_NOT_FOUND,
                 "ext");
    /* other dots are plain text */
    path_value("...", "...");
    path_value(".a", ".a");
    path_value("a.", "a.");
    path_value("..a", "..a");
    path_value(". .", ".%20.");
}

static void test_expand_slash_in_name_refused(void **state)
{
    apigw_template *t = compile_ok("http://h/p/{v}");

    (void)state;
    expand_fails(t, make_vars("v", "a/b", NULL), APIGW_EXPAND_NOT_FOUND, "v");
    expand_fails(t, make_vars("v", "/", NULL), APIGW_EXPAND_NOT_FOUND, "v");
    expand_fails(t, make_vars("v", "a/", NULL), APIGW_EXPAND_NOT_FOUND, "v");
    expand_fails(t, make_vars("v", "../x", NULL), APIGW_EXPAND_NOT_FOUND, "v");
    expand_fails(t, make_vars("v", "a/\x01", NULL), APIGW_EXPAND_NOT_FOUND, "v");
}

static void test_expand_control_chars_refused(void **state)
{
    apigw_template *path = compile_ok("http://h/p/{v}");
    apigw_template *query = compile_ok("http://h/p?x={v}");
    apigw_template *tail = compile_ok("http://h/p/{*}");
    const char *bad_values[] = { "\x01", "a\tb", "a\nb", "\r", "\x1f", "\x7f",
                                 "ok\x7f", NULL };
    int i;

    (void)state;
    for (i = 0; bad_values[i]; i++) {
        expand_fails(path, make_vars("v", bad_values[i], NULL),
                     APIGW_EXPAND_BAD_REQUEST, "v");
        expand_fails(query, make_vars("v", bad_values[i], NULL),
                     APIGW_EXPAND_BAD_REQUEST, "v");
        expand_fails(tail, make_vars("*", bad_values[i], NULL),
                     APIGW_EXPAND_BAD_REQUEST, "*");
        expand_fails(tail, make_vars("*", apr_pstrcat(pool, "a/b/",
                                                      bad_values[i], NULL),
                                     NULL),
                     APIGW_EXPAND_BAD_REQUEST, "*");
    }
}

static void test_expand_reports_first_bad_variable(void **state)
{
    apigw_template *t = compile_ok("http://h/{a}/{b}?c={c}");

    (void)state;
    expand_fails(t, make_vars("a", "ok", "b", "..", "c", "x", NULL),
                 APIGW_EXPAND_NOT_FOUND, "b");
    expand_fails(t, make_vars("a", "..", "b", "\x01", NULL),
                 APIGW_EXPAND_NOT_FOUND, "a");
    expand_fails(t, make_vars("a", "ok", "b", "ok", "c", "\x02", NULL),
                 APIGW_EXPAND_BAD_REQUEST, "c");
}

/* ---- expand: query values ---- */

static void test_expand_query_values_may_hold_slash_and_dots(void **state)
{
    (void)state;
    query_value("a/b", "a%2Fb");
    query_value("..", "..");
    query_value(".", ".");
    query_value("../../etc/passwd", "..%2F..%2Fetc%2Fpasswd");
    expand_ok(compile_ok("http://h/p?path={*}"),
              make_vars("*", "a/../b", NULL), NULL,
              "http://h/p?path=a%2F..%2Fb");
}

/* ---- expand: the wildcard tail ---- */

static void test_expand_tail(void **state)
{
    (void)state;
    tail_value("", "");
    tail_value("a", "a");
    tail_value("a/b/c", "a/b/c");
    tail_value("a/b/", "a/b/");
    tail_value("a//b", "a//b");
    tail_value("/a", "/a");
    tail_value("a b/c%d/caf\xc3\xa9", "a%20b/c%25d/caf%C3%A9");
    tail_value(".../x/...", ".../x/...");
    tail_value(".a/b./..c", ".a/b./..c");
    tail_value("a?b#c", "a%3Fb%23c");
    expand_ok(compile_ok("http://h/{*}/end"), make_vars("*", "x/y", NULL), NULL,
              "http://h/x/y/end");
    expand_ok(compile_ok("http://h/u/{id}/{*}"),
              make_vars("id", "7", "*", "a/b", NULL), "q=1",
              "http://h/u/7/a/b?q=1");
}

static void test_expand_tail_dot_segments_refused(void **state)
{
    apigw_template *t = compile_ok("http://h/files/{*}");
    const char *bad[] = { ".", "..", "../x", "./x", "a/..", "a/.", "a/../b",
                          "a/./b", "a//../b", "/..", "../", "./", NULL };
    int i;

    (void)state;
    for (i = 0; bad[i]; i++) {
        expand_fails(t, make_vars("*", bad[i], NULL), APIGW_EXPAND_NOT_FOUND,
                     "*");
    }
}

/* ---- expand: query appending ---- */

static void test_expand_query_appending(void **state)
{
    apigw_template *plain = compile_ok("http://h/p/{v}");
    apigw_template *with_query = compile_ok("http://h/p/{v}?fixed=1");
    apr_array_header_t *vars;

    (void)state;
    vars = make_vars("v", "x", NULL);
    expand_ok(plain, vars, NULL, "http://h/p/x");
    expand_ok(plain, vars, "", "http://h/p/x");
    expand_ok(plain, vars, "a=1&b=2", "http://h/p/x?a=1&b=2");
    expand_ok(with_query, vars, NULL, "http://h/p/x?fixed=1");
    expand_ok(with_query, vars, "", "http://h/p/x?fixed=1");
    expand_ok(with_query, vars, "a=1", "http://h/p/x?fixed=1&a=1");
    /* the query is already encoded: appended as is */
    expand_ok(plain, vars, "a=%20+b&c=%2F/?", "http://h/p/x?a=%20+b&c=%2F/?");
    /* only the first '?' starts the template's query */
    expand_ok(compile_ok("http://h/p?a?b={v}"), make_vars("v", "x/y", NULL),
              "q=1", "http://h/p?a?b=x%2Fy&q=1");
    /* a '?' inside a variable's value does not start a query */
    expand_ok(plain, make_vars("v", "a?b", NULL), "q=1", "http://h/p/a%3Fb?q=1");
}

static void test_expand_is_repeatable(void **state)
{
    apigw_template *t = compile_ok("http://h/u/{id}");
    int i;

    (void)state;
    for (i = 0; i < 100; i++) {
        const char *id = apr_psprintf(pool, "user %d", i);
        expand_ok(t, make_vars("id", id, NULL), NULL,
                  apr_psprintf(pool, "http://h/u/user%%20%d", i));
    }
    expand_fails(t, make_vars("id", "..", NULL), APIGW_EXPAND_NOT_FOUND, "id");
    expand_ok(t, make_vars("id", "ok", NULL), NULL, "http://h/u/ok");
}

/* A template that already ends its query with '?' or '&' gets the client's
 * query appended without an empty pair. */
static void test_expand_query_after_open_query(void **state)
{
    (void)state;
    expand_ok(compile_ok("http://h/p?"), NULL, "a=1", "http://h/p?a=1");
    expand_ok(compile_ok("http://h/p?x=1&"), NULL, "a=1", "http://h/p?x=1&a=1");
    expand_ok(compile_ok("http://h/p?x=1"), NULL, "a=1", "http://h/p?x=1&a=1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_compile_parts),
        T(test_compile_vars_listed_once_in_order),
        T(test_compile_not_a_url),
        T(test_compile_scheme),
        T(test_compile_control_chars),
        T(test_compile_no_host),
        T(test_compile_vars_in_authority),
        T(test_compile_fragment),
        T(test_compile_braces),
        T(test_compile_variable_names),
        T(test_expand_basic),
        T(test_expand_no_path),
        T(test_expand_query_separator),
        T(test_expand_literals_kept_as_written),
        T(test_expand_missing_variable_is_empty),
        T(test_expand_unreserved_kept),
        T(test_expand_reserved_encoded),
        T(test_expand_every_byte),
        T(test_expand_long_value),
        T(test_expand_dot_segments_refused),
        T(test_expand_slash_in_name_refused),
        T(test_expand_control_chars_refused),
        T(test_expand_reports_first_bad_variable),
        T(test_expand_query_values_may_hold_slash_and_dots),
        T(test_expand_tail),
        T(test_expand_tail_dot_segments_refused),
        T(test_expand_query_appending),
        T(test_expand_is_repeatable),
        T(test_expand_query_after_open_query),
    };
    return cmocka_run_group_tests_name("apigw_template", tests, group_setup,
                                       group_teardown);
}
