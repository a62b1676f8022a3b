/* sources: mod_apigw/apigw_merge.c mod_apigw/apigw_encode.c mod_apigw/apigw_encode_buf.c mod_apigw/apigw_encode_json.c mod_apigw/apigw_encode_xml.c mod_apigw/apigw_encode_yaml.c mod_apigw/apigw_decode.c mod_apigw/apigw_decode_feed.c */
/* libs: -ljansson -laprutil-1 */
/* Unit tests for mod_apigw/apigw_merge.c: every backend option and its
 * error messages, the order of operations (collection -> target ->
 * allow/deny -> mapping -> group), conflicts, dot paths, the root merge,
 * and dot-path lookups for sequential URLs. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#define UNIT_POOL
#include "unit_apr.h"

#include <apr_strings.h>

#include "apigw_decode.h"
#include "apigw_merge.h"

/* ---- helpers ---- */

static json_t *J(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);

    if (!v) {
        fail_msg("test JSON \"%s\": %s", text, e.text);
    }
    return v;
}

/* Compares and releases got. */
static void expect_json(json_t *got, const char *want)
{
    json_t *w = J(want);

    if (!got || !json_equal(got, w)) {
        char *g = got ? json_dumps(got, JSON_ENCODE_ANY | JSON_SORT_KEYS)
                      : NULL;
        char *x = json_dumps(w, JSON_ENCODE_ANY | JSON_SORT_KEYS);

        print_error("got  %s\nwant %s\n", g ? g : "(null)", x);
        free(g);
        free(x);
        json_decref(got);
        json_decref(w);
        fail();
    }
    json_decref(got);
    json_decref(w);
}

/* Same, also comparing the key order of the top level. */
static void expect_json_ordered(json_t *got, const char *want)
{
    char *g = json_dumps(got, JSON_COMPACT);
    json_t *w = J(want);
    char *x = json_dumps(w, JSON_COMPACT);

    if (strcmp(g, x) != 0) {
        print_error("got  %s\nwant %s\n", g, x);
    }
    assert_string_equal(g, x);
    free(g);
    free(x);
    json_decref(w);
    json_decref(got);
}

/* Builds a shape from "key=value key2 ..." (space separated). */
static apigw_shape *shape(const char *opts)
{
    apigw_shape *s = apigw_shape_create(pool);
    char *copy = apr_pstrdup(pool, opts), *last, *tok;
    const char *err;

    for (tok = apr_strtok(copy, " ", &last); tok;
         tok = apr_strtok(NULL, " ", &last)) {
        char *eq = strchr(tok, '=');

        if (eq) {
            *eq++ = '\0';
        }
        err = apigw_shape_set(pool, s, tok, eq);
        if (err) {
            fail_msg("shape \"%s\": unexpected error \"%s\"", opts, err);
        }
    }
    err = apigw_shape_check(pool, s);
    if (err) {
        fail_msg("shape \"%s\": check failed: \"%s\"", opts, err);
    }
    return s;
}

/* The error from setting "opts" (the last one set fails, or check). */
static void shape_err(const char *opts, const char *want)
{
    apigw_shape *s = apigw_shape_create(pool);
    char *copy = apr_pstrdup(pool, opts), *last, *tok;
    const char *err = NULL;

    for (tok = apr_strtok(copy, " ", &last); tok && !err;
         tok = apr_strtok(NULL, " ", &last)) {
        char *eq = strchr(tok, '=');

        if (eq) {
            *eq++ = '\0';
        }
        err = apigw_shape_set(pool, s, tok, eq);
    }
    if (!err) {
        err = apigw_shape_check(pool, s);
    }
    if (!err) {
        fail_msg("shape \"%s\": accepted, want \"%s\"", opts, want);
    }
    assert_string_equal(err, want);
}

/* Decodes body with the shape's encoding, applies the shape. */
static json_t *run(const char *opts, const char *body)
{
    apigw_shape *s = shape(opts);
    const char *err = NULL;
    json_t *d = apigw_decode(pool, s, body, strlen(body), &err);

    if (!d) {
        fail_msg("decode \"%s\": %s", body, err);
    }
    d = apigw_shape_apply(s, d, &err);
    if (!d) {
        fail_msg("apply \"%s\": %s", opts, err);
    }
    return d;
}

/* ---- option parsing ---- */

static void test_is_key(void **state)
{
    (void)state;
    assert_true(apigw_shape_is_key("group"));
    assert_true(apigw_shape_is_key("target"));
    assert_true(apigw_shape_is_key("allow"));
    assert_true(apigw_shape_is_key("deny"));
    assert_true(apigw_shape_is_key("mapping"));
    assert_true(apigw_shape_is_key("collection"));
    assert_true(apigw_shape_is_key("encoding"));
    assert_false(apigw_shape_is_key("Group"));
    assert_false(apigw_shape_is_key("timeout"));
    assert_false(apigw_shape_is_key(""));
    assert_false(apigw_shape_is_key(NULL));
    assert_false(apigw_shape_is_key("is_collection"));
}

static void test_defaults(void **state)
{
    apigw_shape *s = apigw_shape_create(pool);

    (void)state;
    assert_null(apigw_shape_group(s));
    assert_int_equal(apigw_shape_encoding(s), APIGW_IN_JSON);
    assert_false(apigw_shape_collection(s));
    assert_null(apigw_shape_check(pool, s));
    s = shape("group=g encoding=XML collection");
    assert_string_equal(apigw_shape_group(s), "g");
    assert_int_equal(apigw_shape_encoding(s), APIGW_IN_XML);
    assert_true(apigw_shape_collection(s));
    assert_false(apigw_shape_collection(shape("collection=off")));
    assert_true(apigw_shape_collection(shape("collection=on")));
    assert_true(apigw_shape_collection(shape("collection=true")));
    assert_false(apigw_shape_collection(shape("collection=false")));
    assert_int_equal(apigw_shape_encoding(shape("encoding=safejson")),
                     APIGW_IN_SAFEJSON);
    assert_int_equal(apigw_shape_encoding(shape("encoding=rss")),
                     APIGW_IN_RSS);
    assert_int_equal(apigw_shape_encoding(shape("encoding=string")),
                     APIGW_IN_STRING);
    assert_int_equal(apigw_shape_encoding(shape("encoding=no-op")),
                     APIGW_IN_NOOP);
    assert_int_equal(apigw_shape_encoding(shape("encoding=json")),
                     APIGW_IN_JSON);
    assert_string_equal(apigw_input_encoding_name(APIGW_IN_NOOP), "no-op");
    assert_string_equal(apigw_input_encoding_name(APIGW_IN_RSS), "rss");
}

static void test_set_errors(void **state)
{
    (void)state;
    shape_err("colour=red", "unknown backend option \"colour\" (known: "
              "group, target, allow, deny, mapping, collection, encoding, "
              "error-details)");
    shape_err("group", "group needs a value (group=...)");
    shape_err("target", "target needs a value (target=...)");
    shape_err("allow", "allow needs a value (allow=...)");
    shape_err("mapping", "mapping needs a value (mapping=...)");
    shape_err("encoding", "encoding needs a value (encoding=...)");
    shape_err("group=", "group: empty name");
    shape_err("group=a group=b", "group: given twice");
    shape_err("target=a target=b", "target: given twice");
    shape_err("encoding=xml encoding=json", "encoding: given twice");
    shape_err("collection collection", "collection: given twice");
    shape_err("collection=maybe", "collection: \"maybe\" is not on or off "
              "(a bare \"collection\" means on)");
    shape_err("target=", "target: empty field name");
    shape_err("target=a..b", "target: \"a..b\" is not a dot path (a "
              "segment is empty)");
    shape_err("target=.a", "target: \".a\" is not a dot path (a segment is "
              "empty)");
    shape_err("target=a.", "target: \"a.\" is not a dot path (a segment is "
              "empty)");
    shape_err("allow=", "allow: empty field name in \"\"");
    shape_err("allow=a,,b", "allow: empty field name in \"a,,b\"");
    shape_err("allow=a,", "allow: empty field name in \"a,\"");
    shape_err("deny=,a", "deny: empty field name in \",a\"");
    shape_err("deny=a.b..c", "deny: \"a.b..c\" is not a dot path (a "
              "segment is empty)");
    shape_err("allow=a deny=b", "allow and deny cannot be used together on "
              "one backend (use one or the other)");
    shape_err("deny=a allow=b", "allow and deny cannot be used together on "
              "one backend (use one or the other)");
    shape_err("mapping=ab", "mapping: \"ab\" has no colon (write old:new)");
    shape_err("mapping=a:b,cd", "mapping: \"cd\" has no colon (write "
              "old:new)");
    shape_err("mapping=:b", "mapping: \":b\" needs a field name on both "
              "sides of the colon");
    shape_err("mapping=a:", "mapping: \"a:\" needs a field name on both "
              "sides of the colon");
    shape_err("mapping=a:b:c", "mapping: \"a:b:c\" has more than one colon");
    shape_err("mapping=a.b:c", "mapping: \"a.b:c\": mapping renames "
              "top-level fields only, names may not hold a dot");
    shape_err("mapping=a:b.c", "mapping: \"a:b.c\": mapping renames "
              "top-level fields only, names may not hold a dot");
    shape_err("mapping=a:b,,c:d", "mapping: empty entry in \"a:b,,c:d\"");
    shape_err("mapping=a:b,a:c", "mapping: field \"a\" is renamed twice");
    shape_err("mapping=a:b mapping=a:c", "mapping: field \"a\" is renamed "
              "twice");
    shape_err("mapping=a:x,b:x", "mapping: fields \"a\" and \"b\" are both "
              "renamed to \"x\"");
    shape_err("encoding=yaml", "encoding: unknown encoding \"yaml\" (json, "
              "safejson, xml, rss, string or no-op)");
    shape_err("encoding=", "encoding: unknown encoding \"\" (json, "
              "safejson, xml, rss, string or no-op)");
}

static void test_control_chars(void **state)
{
    apigw_shape *s = apigw_shape_create(pool);

    (void)state;
    /* control characters and bad UTF-8 are refused, and shown escaped */
    assert_string_equal(apigw_shape_set(pool, s, "allow", "a\tb"),
                        "allow: \"a\\tb\" holds a control character");
    assert_string_equal(apigw_shape_set(pool, s, "target", "a\x7f"),
                        "target: \"a\\x7f\" holds a control character");
    assert_string_equal(apigw_shape_set(pool, s, "group", "g\n"),
                        "group: \"g\\n\" holds a control character");
    assert_string_equal(apigw_shape_set(pool, s, "mapping", "a:b\r"),
                        "mapping: \"a:b\\r\" holds a control character");
    assert_string_equal(apigw_shape_set(pool, s, "group", "g\xff"),
                        "group: \"g\\xff\" is not valid UTF-8");
    assert_string_equal(apigw_shape_set(pool, s, "deny", "x,a.\xc3"),
                        "deny: \"a.\\xc3\" is not valid UTF-8");
    assert_string_equal(apigw_shape_set(pool, s, "mapping", "a:\xed\xa0\x80"),
                        "mapping: \"a:\\xed\\xa0\\x80\" is not valid UTF-8");
    assert_string_equal(apigw_shape_set(pool, s, "target", "\xc0\xaf"),
                        "target: \"\\xc0\\xaf\" is not valid UTF-8");
    assert_string_equal(apigw_shape_set(pool, s, NULL, "x"),
                        "unknown backend option \"\" (known: group, target, "
                        "allow, deny, mapping, collection, encoding, "
                        "error-details)");
    /* spaces and non-ASCII are names like any other */
    assert_null(apigw_shape_set(pool, s, "allow", "first name,n\xc3\xa9"));
    assert_null(apigw_shape_set(pool, s, "group", "\xf0\x9f\x98\x80"));
    assert_null(apigw_shape_set(pool, s, "mapping", "\xe5\x90\x8d:name"));
}

static void test_check_errors(void **state)
{
    (void)state;
    shape_err("encoding=no-op group=g", "encoding=no-op passes the body "
              "through untouched: group, target, allow, deny, mapping and "
              "collection do not apply");
    shape_err("allow=a encoding=no-op", "encoding=no-op passes the body "
              "through untouched: group, target, allow, deny, mapping and "
              "collection do not apply");
    shape_err("encoding=no-op collection", "encoding=no-op passes the body "
              "through untouched: group, target, allow, deny, mapping and "
              "collection do not apply");
    shape_err("encoding=rss collection", "collection applies to the json "
              "and xml encodings only, not rss");
    shape_err("encoding=string collection", "collection applies to the json "
              "and xml encodings only, not string");
    shape_err("encoding=safejson collection", "collection applies to the "
              "json and xml encodings only, not safejson");
    /* allowed: no-op alone, collection=off with anything */
    shape("encoding=no-op");
    shape("encoding=no-op collection=off");
    shape("encoding=rss collection=off group=g");
    shape("encoding=xml collection");
}

/* ---- target ---- */

static void test_target(void **state)
{
    (void)state;
    expect_json(run("target=data", "{\"data\":{\"a\":1},\"meta\":2}"),
                "{\"a\":1}");
    expect_json(run("target=a.b.c",
                    "{\"a\":{\"b\":{\"c\":{\"x\":true}},\"z\":1}}"),
                "{\"x\":true}");
    /* missing, or not an object: {} (KrakenD's extractTarget) */
    expect_json(run("target=nope", "{\"a\":1}"), "{}");
    expect_json(run("target=a.nope", "{\"a\":{\"b\":1}}"), "{}");
    expect_json(run("target=a", "{\"a\":[1,2]}"), "{}");
    expect_json(run("target=a", "{\"a\":\"s\"}"), "{}");
    expect_json(run("target=a.b", "{\"a\":5}"), "{}");
    expect_json(run("target=a", "{\"a\":null}"), "{}");
    /* segments are keys, never array indexes */
    expect_json(run("target=a.0", "{\"a\":[{\"x\":1}]}"), "{}");
    expect_json(run("target=a.0", "{\"a\":{\"0\":{\"x\":1}}}"),
                "{\"x\":1}");
    /* an empty object stays empty; group still wraps */
    expect_json(run("target=a group=g", "{\"a\":{}}"), "{\"g\":{}}");
}

/* ---- allow ---- */

static void test_allow(void **state)
{
    (void)state;
    expect_json(run("allow=a,c", "{\"a\":1,\"b\":2,\"c\":[3],\"d\":{}}"),
                "{\"a\":1,\"c\":[3]}");
    expect_json(run("allow=x", "{\"a\":1}"), "{}");
    /* nested: parents keep only the named children */
    expect_json(run("allow=u.name,u.addr.city,id",
                    "{\"id\":1,\"x\":2,\"u\":{\"name\":\"n\",\"pw\":\"s\","
                    "\"addr\":{\"city\":\"c\",\"zip\":\"z\"}}}"),
                "{\"id\":1,\"u\":{\"name\":\"n\",\"addr\":{\"city\":\"c\"}}}");
    /* a parent that is not an object, or ends up empty, is dropped */
    expect_json(run("allow=a.b,c", "{\"a\":5,\"c\":1}"), "{\"c\":1}");
    expect_json(run("allow=a.b,c", "{\"a\":{\"x\":1},\"c\":1}"), "{\"c\":1}");
    expect_json(run("allow=a.b,c", "{\"a\":{},\"c\":1}"), "{\"c\":1}");
    expect_json(run("allow=a.b.c", "{\"a\":{\"b\":{\"d\":1}}}"), "{}");
    /* ... but a named leaf that is itself empty is kept */
    expect_json(run("allow=a.b", "{\"a\":{\"b\":{}}}"), "{\"a\":{\"b\":{}}}");
    expect_json(run("allow=a.b", "{\"a\":{\"b\":null}}"),
                "{\"a\":{\"b\":null}}");
    /* the whole field wins over a nested entry, in either order */
    expect_json(run("allow=a,a.b", "{\"a\":{\"b\":1,\"c\":2}}"),
                "{\"a\":{\"b\":1,\"c\":2}}");
    expect_json(run("allow=a.b,a", "{\"a\":{\"b\":1,\"c\":2}}"),
                "{\"a\":{\"b\":1,\"c\":2}}");
    expect_json(run("allow=a.b allow=a", "{\"a\":{\"b\":1,\"c\":2}}"),
                "{\"a\":{\"b\":1,\"c\":2}}");
    /* arrays are not descended into (KrakenD: use flatmap) */
    expect_json(run("allow=items.id,n", "{\"items\":[{\"id\":1,\"x\":2}],"
                    "\"n\":1}"), "{\"n\":1}");
    expect_json(run("allow=items", "{\"items\":[{\"id\":1,\"x\":2}]}"),
                "{\"items\":[{\"id\":1,\"x\":2}]}");
    /* several allow= add up; case matters */
    expect_json(run("allow=a allow=b", "{\"a\":1,\"b\":2,\"c\":3}"),
                "{\"a\":1,\"b\":2}");
    expect_json(run("allow=A", "{\"a\":1}"), "{}");
    /* keys with spaces and non-ASCII */
    expect_json(run("allow=n\xc3\xa9", "{\"n\xc3\xa9\":1,\"ne\":2}"),
                "{\"n\xc3\xa9\":1}");
}

/* ---- deny ---- */

static void test_deny(void **state)
{
    (void)state;
    expect_json(run("deny=b,d", "{\"a\":1,\"b\":2,\"c\":3}"),
                "{\"a\":1,\"c\":3}");
    expect_json(run("deny=u.pw,u.addr.zip",
                    "{\"u\":{\"name\":\"n\",\"pw\":\"s\",\"addr\":{\"city\":"
                    "\"c\",\"zip\":\"z\"}}}"),
                "{\"u\":{\"name\":\"n\",\"addr\":{\"city\":\"c\"}}}");
    /* parents stay, even emptied */
    expect_json(run("deny=a.b", "{\"a\":{\"b\":1}}"), "{\"a\":{}}");
    /* a path through a non-object or an array does nothing */
    expect_json(run("deny=a.b", "{\"a\":5}"), "{\"a\":5}");
    expect_json(run("deny=a.b", "{\"a\":[{\"b\":1}]}"),
                "{\"a\":[{\"b\":1}]}");
    expect_json(run("deny=a.b.c", "{\"x\":1}"), "{\"x\":1}");
    /* the whole field wins */
    expect_json(run("deny=a.b,a", "{\"a\":{\"b\":1},\"c\":1}"), "{\"c\":1}");
    expect_json(run("deny=a,a.b", "{\"a\":{\"b\":1},\"c\":1}"), "{\"c\":1}");
    expect_json(run("deny=a deny=c", "{\"a\":1,\"b\":2,\"c\":3}"),
                "{\"b\":2}");
}

/* ---- mapping ---- */

static void test_mapping(void **state)
{
    (void)state;
    expect_json(run("mapping=a:x", "{\"a\":1,\"b\":2}"), "{\"x\":1,\"b\":2}");
    /* absent: nothing */
    expect_json(run("mapping=z:x", "{\"a\":1}"), "{\"a\":1}");
    /* simultaneous: swap and chain */
    expect_json(run("mapping=a:b,b:a", "{\"a\":1,\"b\":2}"),
                "{\"a\":2,\"b\":1}");
    expect_json(run("mapping=a:b,b:c", "{\"a\":1,\"b\":2}"),
                "{\"b\":1,\"c\":2}");
    expect_json(run("mapping=b:c,a:b", "{\"a\":1,\"b\":2}"),
                "{\"b\":1,\"c\":2}");
    expect_json(run("mapping=a:b,b:c", "{\"a\":1}"), "{\"b\":1}");
    /* a renamed field overwrites one of the new name */
    expect_json(run("mapping=a:b", "{\"a\":1,\"b\":2,\"c\":3}"),
                "{\"b\":1,\"c\":3}");
    /* identity */
    expect_json(run("mapping=a:a", "{\"a\":1}"), "{\"a\":1}");
    /* several mapping= add up */
    expect_json(run("mapping=a:x mapping=b:y", "{\"a\":1,\"b\":2}"),
                "{\"x\":1,\"y\":2}");
    /* renamed fields go last */
    expect_json_ordered(run("mapping=a:z", "{\"a\":1,\"b\":2,\"c\":3}"),
                        "{\"b\":2,\"c\":3,\"z\":1}");
    /* nested values move whole */
    expect_json(run("mapping=u:user", "{\"u\":{\"n\":[1,{\"k\":2}]}}"),
                "{\"user\":{\"n\":[1,{\"k\":2}]}}");
}

/* ---- collection ---- */

static void test_collection(void **state)
{
    (void)state;
    expect_json(run("collection", "[1,{\"a\":2}]"),
                "{\"collection\":[1,{\"a\":2}]}");
    expect_json(run("collection mapping=collection:items", "[1,2]"),
                "{\"items\":[1,2]}");
    expect_json(run("collection group=g mapping=collection:items", "[]"),
                "{\"g\":{\"items\":[]}}");
    expect_json(run("collection allow=collection", "[1]"),
                "{\"collection\":[1]}");
    expect_json(run("collection deny=collection", "[1]"), "{}");
    /* the array is not an object: target finds nothing */
    expect_json(run("collection target=collection", "[{\"a\":1}]"), "{}");
    /* allow does not descend into the collection */
    expect_json(run("collection allow=collection.a", "[{\"a\":1}]"), "{}");
    /* xml collection: the whole document under "collection" */
    expect_json(run("encoding=xml collection mapping=collection:c",
                    "<r><i>1</i><i>2</i></r>"),
                "{\"c\":{\"r\":{\"i\":[\"1\",\"2\"]}}}");
}

/* ---- group and order of operations ---- */

static void test_group(void **state)
{
    (void)state;
    expect_json(run("group=user", "{\"a\":1}"), "{\"user\":{\"a\":1}}");
    expect_json(run("group=user allow=x", "{\"a\":1}"), "{\"user\":{}}");
    expect_json(run("group=a.b", "{\"a\":1}"), "{\"a.b\":{\"a\":1}}");
    expect_json(run("group=g encoding=string", "hello"),
                "{\"g\":{\"content\":\"hello\"}}");
}

static void test_order(void **state)
{
    (void)state;
    /* target first: allow paths are relative to it */
    expect_json(run("target=data allow=id,user.name",
                    "{\"id\":0,\"data\":{\"id\":1,\"x\":2,\"user\":{\"name\":"
                    "\"n\",\"pw\":\"p\"}}}"),
                "{\"id\":1,\"user\":{\"name\":\"n\"}}");
    /* allow names fields before mapping renames them */
    expect_json(run("allow=a mapping=a:b", "{\"a\":1,\"b\":2}"),
                "{\"b\":1}");
    expect_json(run("allow=b mapping=a:b", "{\"a\":1,\"b\":2}"),
                "{\"b\":2}");
    /* deny first, then the rename */
    expect_json(run("deny=a mapping=a:b", "{\"a\":1,\"c\":2}"),
                "{\"c\":2}");
    expect_json(run("deny=b mapping=a:b", "{\"a\":1,\"b\":2}"),
                "{\"b\":1}");
    /* group wraps last, after mapping */
    expect_json(run("group=g mapping=a:x target=t allow=a,b",
                    "{\"t\":{\"a\":1,\"b\":2,\"c\":3}}"),
                "{\"g\":{\"x\":1,\"b\":2}}");
    /* options given in any order mean the same */
    expect_json(run("allow=a,b target=t group=g mapping=a:x",
                    "{\"t\":{\"a\":1,\"b\":2,\"c\":3}}"),
                "{\"g\":{\"x\":1,\"b\":2}}");
    /* deny with target and nested paths */
    expect_json(run("target=d deny=u.pw group=out",
                    "{\"d\":{\"u\":{\"pw\":1,\"n\":2}}}"),
                "{\"out\":{\"u\":{\"n\":2}}}");
}

static void test_apply_errors(void **state)
{
    apigw_shape *s = shape("group=g");
    const char *err = NULL;

    (void)state;
    assert_null(apigw_shape_apply(s, J("[1]"), &err));
    assert_string_equal(err, "the backend response is not a JSON object");
    err = NULL;
    assert_null(apigw_shape_apply(s, NULL, &err));
    assert_string_equal(err, "the backend response is not a JSON object");
    /* no options: the same object back */
    {
        json_t *in = J("{\"a\":1}");
        json_t *out = apigw_shape_apply(apigw_shape_create(pool), in, &err);

        assert_ptr_equal(in, out);
        json_decref(out);
    }
}

static void test_shape_threadsafe_reuse(void **state)
{
    /* one shape, many documents: nothing in the shape changes */
    apigw_shape *s = shape("target=d allow=a,b.c mapping=a:x group=g");
    const char *err = NULL;
    int i;

    (void)state;
    for (i = 0; i < 50; i++) {
        json_t *in = J("{\"d\":{\"a\":1,\"b\":{\"c\":2,\"d\":3},"
                       "\"z\":0}}");

        expect_json(apigw_shape_apply(s, in, &err),
                    "{\"g\":{\"x\":1,\"b\":{\"c\":2}}}");
    }
}

/* ---- merge ---- */

static void test_merge(void **state)
{
    json_t *dst = json_object(), *a, *b, *c;

    (void)state;
    a = run("group=one", "{\"x\":1}");
    b = run("", "{\"k\":1,\"shared\":\"from b\"}");
    c = run("", "{\"k\":2,\"z\":[1]}");
    assert_int_equal(apigw_merge_into(dst, a), 0);
    assert_int_equal(apigw_merge_into(dst, b), 0);
    assert_int_equal(apigw_merge_into(dst, c), 0);
    json_decref(a);
    json_decref(b);
    json_decref(c);
    /* the later backend wins; the key keeps its first position */
    expect_json_ordered(dst, "{\"one\":{\"x\":1},\"k\":2,\"shared\":"
                        "\"from b\",\"z\":[1]}");
}

static void test_merge_shallow(void **state)
{
    json_t *dst = J("{\"a\":{\"x\":1,\"y\":2}}");
    json_t *src = J("{\"a\":{\"z\":3}}");

    (void)state;
    /* at the root only, as KrakenD: the whole of "a" is replaced */
    assert_int_equal(apigw_merge_into(dst, src), 0);
    json_decref(src);
    expect_json(dst, "{\"a\":{\"z\":3}}");
}

static void test_merge_errors(void **state)
{
    json_t *obj = J("{\"a\":1}"), *arr = J("[1]");

    (void)state;
    assert_int_equal(apigw_merge_into(obj, arr), -1);
    assert_int_equal(apigw_merge_into(arr, obj), -1);
    assert_int_equal(apigw_merge_into(NULL, obj), -1);
    assert_int_equal(apigw_merge_into(obj, NULL), -1);
    assert_int_equal(apigw_merge_into(obj, obj), 0);
    expect_json(obj, "{\"a\":1}");
    json_decref(arr);
}

static void test_merge_shared_src(void **state)
{
    /* a read-only src (static data) merged into several documents */
    json_t *st = J("{\"s\":{\"k\":[1,2]}}");
    int i;

    (void)state;
    for (i = 0; i < 3; i++) {
        json_t *dst = J("{\"a\":1}");

        assert_int_equal(apigw_merge_into(dst, st), 0);
        expect_json(dst, "{\"a\":1,\"s\":{\"k\":[1,2]}}");
    }
    expect_json(st, "{\"s\":{\"k\":[1,2]}}");
}

/* ---- dot-path lookup ---- */

static void expect_path(const char *doc, const char *path, const char *want)
{
    json_t *root = J(doc);
    const char *got = apigw_json_path_string(pool, root, path);

    json_decref(root);
    if (!want) {
        if (got) {
            fail_msg("%s in %s: got \"%s\", want NULL", path, doc, got);
        }
        return;
    }
    if (!got) {
        fail_msg("%s in %s: got NULL, want \"%s\"", path, doc, want);
    }
    assert_string_equal(got, want);
}

static void test_path_string(void **state)
{
    const char *doc = "{\"id\":42,\"neg\":-7,\"big\":9223372036854775807,"
                      "\"pi\":3.25,\"r\":0.1,\"two\":2.0,\"e\":1e300,"
                      "\"t\":true,\"f\":false,\"n\":null,\"s\":\"a b/c\","
                      "\"empty\":\"\",\"user\":{\"name\":\"Ann\",\"addr\":"
                      "{\"city\":\"X\"}},\"items\":[{\"id\":\"i0\"},"
                      "{\"id\":\"i1\"}],\"ids\":[1,\"two\",3.5,true],"
                      "\"none\":[],\"mixed\":[1,{}],\"nested\":[[1]],"
                      "\"nul\":[null],\"0\":{\"k\":\"zero\"},"
                      "\"nulstr\":\"a\\u0000b\"}";

    (void)state;
    expect_path(doc, "id", "42");
    expect_path(doc, "neg", "-7");
    expect_path(doc, "big", "9223372036854775807");
    expect_path(doc, "pi", "3.25");
    expect_path(doc, "r", "0.1");
    expect_path(doc, "two", "2.0");
    expect_path(doc, "e", "1e+300");
    expect_path(doc, "t", "true");
    expect_path(doc, "f", "false");
    expect_path(doc, "s", "a b/c");
    expect_path(doc, "empty", "");
    expect_path(doc, "user.name", "Ann");
    expect_path(doc, "user.addr.city", "X");
    expect_path(doc, "items.0.id", "i0");
    expect_path(doc, "items.1.id", "i1");
    expect_path(doc, "ids", "1,two,3.5,true");
    expect_path(doc, "none", "");
    expect_path(doc, "0.k", "zero");
    /* NULL: absent, null, objects, arrays of non-scalars, NUL bytes */
    expect_path(doc, "n", NULL);
    expect_path(doc, "user", NULL);
    expect_path(doc, "user.nope", NULL);
    expect_path(doc, "nope.deeper", NULL);
    expect_path(doc, "items", NULL);
    expect_path(doc, "items.2.id", NULL);
    expect_path(doc, "items.01.id", NULL);
    expect_path(doc, "items.-1.id", NULL);
    expect_path(doc, "items.x.id", NULL);
    expect_path(doc, "items.99999999999999999999999.id", NULL);
    expect_path(doc, "mixed", NULL);
    expect_path(doc, "nested", NULL);
    expect_path(doc, "nul", NULL);
    expect_path(doc, "nulstr", NULL);
    expect_path(doc, "id.x", NULL);
    expect_path(doc, "s.0", NULL);
    /* malformed paths */
    expect_path(doc, "", NULL);
    expect_path(doc, ".id", NULL);
    expect_path(doc, "id.", NULL);
    expect_path(doc, "user..name", NULL);
    assert_null(apigw_json_path_string(pool, NULL, "a"));
    {
        json_t *root = J("{\"a\":1}");

        assert_null(apigw_json_path_string(pool, root, NULL));
        json_decref(root);
    }
    /* the root itself may be an array */
    expect_path("[\"x\",[\"y\"]]", "0", "x");
    expect_path("[\"x\",[\"y\"]]", "1.0", "y");
    expect_path("[\"x\",[\"y\"]]", "1", "y");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_is_key),
        T(test_defaults),
        T(test_set_errors),
        T(test_control_chars),
        T(test_check_errors),
        T(test_target),
        T(test_allow),
        T(test_deny),
        T(test_mapping),
        T(test_collection),
        T(test_group),
        T(test_order),
        T(test_apply_errors),
        T(test_shape_threadsafe_reuse),
        T(test_merge),
        T(test_merge_shallow),
        T(test_merge_errors),
        T(test_merge_shared_src),
        T(test_path_string),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
