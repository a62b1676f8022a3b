/* sources: mod_apigw/apigw_flatmap.c mod_apigw/apigw_merge.c mod_apigw/apigw_encode.c mod_apigw/apigw_encode_buf.c mod_apigw/apigw_encode_json.c mod_apigw/apigw_encode_xml.c mod_apigw/apigw_encode_yaml.c */
/* libs: -ljansson -laprutil-1 */
/* Unit tests for mod_apigw/apigw_flatmap.c (ApiFlatmap: KrakenD's
 * flatmap_filter): what the parser refuses and why, each operation on
 * objects and arrays, the examples of KrakenD's documentation and its
 * integration test, indices that stay put until the end, containers
 * emptied into null; and the backend side in apigw_merge.c: the operations
 * in a shape (after target, before group, in place of allow/deny/mapping),
 * error-details= and KrakenD's error details object. */
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

#include "apigw_flatmap.h"
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

/* Adds "op path path..." (space separated) to fm; the parser's answer. */
static const char *add(apigw_flatmap *fm, const char *line)
{
    char *copy = apr_pstrdup(pool, line), *last, *tok;
    const char *args[80];
    const char *op = apr_strtok(copy, " ", &last);
    int n = 0;

    while ((tok = apr_strtok(NULL, " ", &last)) != NULL && n < 80) {
        args[n++] = tok;
    }
    return apigw_flatmap_add(pool, fm, op, n, args);
}

/* The operations, one a string, NULL-terminated. */
static apigw_flatmap *program(const char *const *lines)
{
    apigw_flatmap *fm = apigw_flatmap_create(pool);
    const char *err;

    for (; *lines; lines++) {
        if ((err = add(fm, *lines)) != NULL) {
            fail_msg("\"%s\" refused: %s", *lines, err);
        }
    }
    return fm;
}

/* Runs the operations on in and compares with want. */
static void run(const char *const *lines, const char *in, const char *want)
{
    json_t *doc = J(in);
    const char *err = NULL;

    if (apigw_flatmap_apply(program(lines), doc, &err) != 0) {
        json_decref(doc);
        fail_msg("apply failed: %s", err);
    }
    expect_json(doc, want);
}

#define OPS(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* The message for line, which must be refused and mention part. */
static void refused(const char *line, const char *part)
{
    apigw_flatmap *fm = apigw_flatmap_create(pool);
    const char *err = add(fm, line);

    if (!err) {
        fail_msg("\"%s\" was accepted", line);
    }
    if (!strstr(err, part)) {
        fail_msg("\"%s\": message \"%s\" lacks \"%s\"", line, err, part);
    }
    assert_int_equal(apigw_flatmap_size(fm), 0);
}

/* ---- parsing ---- */

static void test_refuses_bad_operations(void **state)
{
    apigw_flatmap *fm = apigw_flatmap_create(pool);
    const char *deep[1] = { NULL };
    const char *two[2] = { "a", "b" };
    char *path;
    int i;

    (void)state;
    refused("rename a b", "unknown operation \"rename\"");
    refused("Move a b", "unknown operation");
    refused("move a", "two paths");
    refused("move a b c", "got 3");
    refused("append a", "two paths");
    refused("del", "at least one path");
    assert_non_null(apigw_flatmap_add(pool, fm, NULL, 0, NULL));
    assert_null(apigw_flatmap_add(pool, fm, "move", 2, two));
    assert_int_equal(apigw_flatmap_size(fm), 1);

    refused("del a..b", "segment is empty");
    refused("del .a", "segment is empty");
    refused("del a.", "segment is empty");
    refused("move a \xff", "not valid UTF-8");
    refused("del a\x01", "control character");
    path = apr_pstrdup(pool, "a");
    for (i = 1; i <= APIGW_FLATMAP_MAX_SEGMENTS; i++) {
        path = apr_pstrcat(pool, path, ".a", NULL);
    }
    deep[0] = path;
    assert_non_null(strstr(apigw_flatmap_add(pool, fm, "del", 1, deep),
                           "more than 64 segments"));
    deep[0] = "";
    assert_non_null(strstr(apigw_flatmap_add(pool, fm, "del", 1, deep),
                           "empty path"));
}

static void test_refuses_moves_krakend_gets_wrong(void **state)
{
    (void)state;
    refused("move a.* b", "ends in *");
    refused("move a b.*", "cannot end in *");
    /* a rename changes the last segment only (KrakenD ignores the rest) */
    refused("move a.*.b1.*.c a.*.x.*.c", "a rename");
    refused("move a.b c.d", "segment 1 differs");
    /* an embedding keeps the source's parent path */
    refused("move a.*.b1.*.c a.*.x.*.c.d.e.f.g", "an embedding");
    refused("move a.*.b1.c a.*.b1.*.d.*.e", "cannot hold *");
    refused("move a.*.b1.*.c a.*.b1.*.d.*.e", "cannot hold *");
    refused("append a b.*", "cannot hold *");
}

static void test_accepts_the_documented_forms(void **state)
{
    apigw_flatmap *fm = apigw_flatmap_create(pool), *all;

    (void)state;
    assert_null(add(fm, "move a.*.b1.*.c a.*.b1.*.d"));
    assert_null(add(fm, "move a.0.b1.0.c c"));
    assert_null(add(fm, "move a.*.b1.*.c a.*.b1.*.c.d.e.f.g"));
    assert_null(add(fm, "move a.*.b1.*.c a.*.c"));
    assert_null(add(fm, "move zone.state shipping_state"));
    assert_null(add(fm, "del a.*.*.*.d kindergarten.0 *"));
    assert_null(add(fm, "append kindergarten schools"));
    assert_null(add(fm, "append a.*.b list"));
    assert_null(add(fm, "append a a"));
    assert_null(add(fm, "append a.b a"));
    assert_null(add(fm, "append a a.0"));
    assert_int_equal(apigw_flatmap_size(fm), 11);
    all = apigw_flatmap_create(pool);
    apigw_flatmap_extend(all, fm);
    apigw_flatmap_extend(all, fm);
    assert_int_equal(apigw_flatmap_size(all), 22);
    assert_int_equal(apigw_flatmap_size(fm), 11);
}

/* ---- KrakenD's examples ---- */

/* krakend-ce's tests/fixtures: /flatmap/{id} on a 10-element collection */
static void test_krakend_ce_flatmap_case(void **state)
{
    json_t *items = json_array(), *doc;
    char *want = apr_pstrdup(pool, "{\"paths\":[");
    const char *err = NULL;
    int i;

    (void)state;
    for (i = 0; i < 10; i++) {
        json_array_append_new(items, json_pack("{s:i,s:s}", "i", i, "path",
                                               "/collection/2"));
        want = apr_pstrcat(pool, want, i ? "," : "",
                           "{\"url\":\"/collection/2\"}", NULL);
    }
    want = apr_pstrcat(pool, want, "]}", NULL);
    doc = json_pack("{s:o}", "collection", items);
    assert_int_equal(apigw_flatmap_apply(program(OPS(
        "move collection paths", "del paths.*.i",
        "move paths.*.path paths.*.url")), doc, &err), 0);
    expect_json(doc, want);
}

static void test_docs_extract_objects(void **state)
{
    (void)state;
    run(OPS("move zone.state shipping_state", "move zone.zip shipping_zip",
            "del zone"),
        "{\"shipping_id\":\"f15f\",\"zone\":{\"state\":\"NY\","
        "\"zip\":\"10001\"}}",
        "{\"shipping_id\":\"f15f\",\"shipping_state\":\"NY\","
        "\"shipping_zip\":\"10001\"}");
    /* zone "became a null object after emptying it" */
    run(OPS("move zone.state shipping_state", "move zone.zip shipping_zip"),
        "{\"zone\":{\"state\":\"NY\",\"zip\":\"10001\"}}",
        "{\"shipping_state\":\"NY\",\"shipping_zip\":\"10001\","
        "\"zone\":null}");
}

/* The documentation's output lists kindergarten first; KrakenD's code
 * (tree.Append) puts the destination's elements first, as here. */
static void test_docs_arrays(void **state)
{
    (void)state;
    run(OPS("del kindergarten.0", "move schools.*.title schools.*.name",
            "append kindergarten schools"),
        "{\"kindergarten\":[{\"name\":\"TEST Kinder\"},"
        "{\"name\":\"Lil' Elephants\"},{\"name\":\"Bright Rainbows\"}],"
        "\"schools\":[{\"title\":\"Brookside Elementary\"},"
        "{\"title\":\"Oak Tree School\"}]}",
        "{\"schools\":[{\"name\":\"Brookside Elementary\"},"
        "{\"name\":\"Oak Tree School\"},{\"name\":\"Lil' Elephants\"},"
        "{\"name\":\"Bright Rainbows\"}]}");
}

/* krakend/flatmap's tree example: deletes through wildcards */
static void test_tree_example_deletes(void **state)
{
    (void)state;
    run(OPS("del a.b", "del a.collection.0", "del a.collection2.*.d.*.d"),
        "{\"a\":{\"b\":true,\"c\":42,"
        "\"collection\":[{\"b\":false},{\"b\":true,\"c\":42}],"
        "\"collection2\":[{\"d\":[{\"a\":1,\"d\":[1,2]},{\"d\":[1]},"
        "{\"d\":[1]}]},{\"d\":[1,2]}]}}",
        "{\"a\":{\"c\":42,\"collection\":[{\"b\":true,\"c\":42}],"
        "\"collection2\":[{\"d\":[{\"a\":1},null,null]},{\"d\":[1,2]}]}}");
}

/* ---- move ---- */

static void test_move_renames_embeds_extracts(void **state)
{
    (void)state;
    /* a rename at every level a wildcard reaches */
    run(OPS("move a.*.b1.*.c a.*.b1.*.x"),
        "{\"a\":[{\"b1\":[{\"c\":1,\"d\":\"foo\"},{\"c\":2}],\"b2\":true},"
        "{\"b1\":[{\"d\":\"vaz\"}]}]}",
        "{\"a\":[{\"b1\":[{\"x\":1,\"d\":\"foo\"},{\"x\":2}],\"b2\":true},"
        "{\"b1\":[{\"d\":\"vaz\"}]}]}");
    /* an embedding adds levels below the source's parent */
    run(OPS("move a.*.c a.*.c.d.e"),
        "{\"a\":[{\"c\":1},{\"k\":2}]}",
        "{\"a\":[{\"c\":{\"d\":{\"e\":1}}},{\"k\":2}]}");
    run(OPS("move a a.wrapped"), "{\"a\":[1,2],\"b\":3}",
        "{\"a\":{\"wrapped\":[1,2]},\"b\":3}");
    /* an extraction: * in the destination stands for the source's label */
    run(OPS("move a.0.b1.0.c c"),
        "{\"a\":[{\"b1\":[{\"c\":1},{\"c\":2}]}]}",
        "{\"a\":[{\"b1\":[null,{\"c\":2}]}],\"c\":1}");
    run(OPS("move a.*.b.c a.*.c"),
        "{\"a\":{\"x\":{\"b\":{\"c\":1,\"k\":0}},\"y\":{\"b\":{\"c\":2}}}}",
        "{\"a\":{\"x\":{\"b\":{\"k\":0},\"c\":1},\"y\":{\"b\":null,"
        "\"c\":2}}}");
    /* several values to one place: the last wins */
    run(OPS("move l.*.v last"), "{\"l\":[{\"v\":1},{\"v\":2},{\"w\":3}]}",
        "{\"l\":[null,null,{\"w\":3}],\"last\":2}");
}

static void test_move_destinations(void **state)
{
    (void)state;
    /* missing levels are made, a value in the place is replaced, a
     * scalar in the way becomes an object (as KrakenD) */
    run(OPS("move x y.z.w"), "{\"x\":1}", "{\"y\":{\"z\":{\"w\":1}}}");
    run(OPS("move x.v y"), "{\"x\":{\"v\":1,\"k\":1},\"y\":{\"old\":1}}",
        "{\"x\":{\"k\":1},\"y\":1}");
    run(OPS("move x y.z"), "{\"x\":1,\"y\":\"scalar\"}",
        "{\"y\":{\"z\":1}}");
    /* an array cannot be the parent: nothing moves (KrakenD would append
     * the value to it) */
    run(OPS("move x list.k"), "{\"x\":1,\"list\":[0]}",
        "{\"x\":1,\"list\":[0]}");
    run(OPS("move l.0 l.x"), "{\"l\":[1,2]}", "{\"l\":[1,2]}");
    run(OPS("move x list.5.k"), "{\"x\":1,\"list\":[0]}",
        "{\"x\":1,\"list\":[0]}");
    /* an element's own place can be a level: it becomes an object */
    run(OPS("move l.0 l.0.was"), "{\"l\":[1,2]}",
        "{\"l\":[{\"was\":1},2]}");
    run(OPS("move l.1.k l.1.k.deeper"), "{\"l\":[0,{\"k\":[1]}]}",
        "{\"l\":[0,{\"k\":{\"deeper\":[1]}}]}");
    /* nothing to move, or onto itself */
    run(OPS("move nope x", "move a.*.q b"), "{\"a\":[1,{\"k\":1}]}",
        "{\"a\":[1,{\"k\":1}]}");
    run(OPS("move a a", "move o.k o.k"), "{\"a\":1,\"o\":{\"k\":2}}",
        "{\"a\":1,\"o\":{\"k\":2}}");
    /* a segment of digits is an object key too */
    run(OPS("move o.0 o.zero"), "{\"o\":{\"0\":1}}", "{\"o\":{\"zero\":1}}");
    /* "01" is not an index */
    run(OPS("move l.01 x"), "{\"l\":[1,2]}", "{\"l\":[1,2]}");
}

/* ---- del ---- */

static void test_del_keeps_indices_until_the_end(void **state)
{
    (void)state;
    run(OPS("del l.0", "del l.1"), "{\"l\":[0,1,2,3]}", "{\"l\":[2,3]}");
    run(OPS("del l.0 l.0 l.2"), "{\"l\":[0,1,2,3]}", "{\"l\":[1,3]}");
    /* ... and a moved element too */
    run(OPS("move l.1 second", "move l.2 third"), "{\"l\":[0,1,2,3]}",
        "{\"l\":[0,3],\"second\":1,\"third\":2}");
    run(OPS("del l.9 l.x nope.a"), "{\"l\":[0]}", "{\"l\":[0]}");
}

static void test_emptied_containers_become_null(void **state)
{
    (void)state;
    run(OPS("del a.x"), "{\"a\":{\"x\":1},\"b\":{}}",
        "{\"a\":null,\"b\":{}}");
    run(OPS("del a.*"), "{\"a\":[1,2],\"e\":[]}", "{\"a\":null,\"e\":[]}");
    run(OPS("del a.*", "del e.*"), "{\"a\":{\"k\":1},\"e\":{}}",
        "{\"a\":null,\"e\":{}}");
    /* refilled before the end: not null */
    run(OPS("del a.x", "move b a.y"), "{\"a\":{\"x\":1},\"b\":2}",
        "{\"a\":{\"y\":2}}");
    /* the answer itself stays an object */
    run(OPS("del *"), "{\"a\":1,\"b\":[1]}", "{}");
    run(OPS("del *.*"), "{\"a\":{\"k\":1},\"b\":[1],\"c\":3}",
        "{\"a\":null,\"b\":null,\"c\":3}");
}

/* ---- append ---- */

static void test_append(void **state)
{
    (void)state;
    run(OPS("append a b"), "{\"a\":[1,2],\"b\":[3]}", "{\"b\":[3,1,2]}");
    /* only arrays */
    run(OPS("append a b"), "{\"a\":{\"k\":1},\"b\":[3]}",
        "{\"a\":{\"k\":1},\"b\":[3]}");
    run(OPS("append a b"), "{\"a\":[1],\"b\":{}}", "{\"a\":[1],\"b\":{}}");
    run(OPS("append a b"), "{\"a\":[1]}", "{\"a\":[1]}");
    /* a * collects what it matches, null where it is missing */
    run(OPS("append a.*.x b"),
        "{\"a\":[{\"x\":1},{\"y\":2},{\"x\":[3]}],\"b\":[0]}",
        "{\"a\":[null,{\"y\":2},null],\"b\":[0,1,null,[3]]}");
    run(OPS("append a.*.*.v b"),
        "{\"a\":[[{\"v\":1},{\"v\":2}],[{\"v\":3}]],\"b\":[]}",
        "{\"a\":[[null,null],[null]],\"b\":[[1,2],[3]]}");
    /* an emptied array is null to append (as KrakenD) */
    run(OPS("del b.0", "append a b"), "{\"a\":[1],\"b\":[9]}",
        "{\"a\":[1],\"b\":null}");
    run(OPS("del a.0", "append a b"), "{\"a\":[1],\"b\":[9]}",
        "{\"a\":null,\"b\":[9]}");
    /* holes are left out, and the result is numbered afresh */
    run(OPS("del a.0", "del b.0", "append a b", "del b.0"),
        "{\"a\":[1,2],\"b\":[8,9]}", "{\"b\":[2]}");
    /* onto itself: KrakenD appends, then deletes the source */
    run(OPS("append a a"), "{\"a\":[1],\"k\":1}", "{\"k\":1}");
    /* into an array's element */
    run(OPS("append a l.1"), "{\"a\":[1],\"l\":[[0],[2]]}",
        "{\"l\":[[0],[2,1]]}");
    run(OPS("append l.0 l"), "{\"l\":[[1],[2]]}", "{\"l\":[[2],1]}");
    /* into itself: copies, then the source goes (as KrakenD) */
    run(OPS("append l l.0"), "{\"l\":[[1],2],\"k\":0}", "{\"k\":0}");
    run(OPS("append a.*.x a.0.x"), "{\"a\":[{\"x\":[1]},{\"x\":[2]}]}",
        "{\"a\":[null,null]}");
    /* what is appended is a copy: arrays closed up, emptied ones null;
     * changing it later leaves nothing else changed */
    run(OPS("del a.0.l.0 a.0.e.k", "append a b", "del b.1.l.0"),
        "{\"a\":[{\"l\":[1,2,3],\"e\":{\"k\":1},\"o\":{}}],\"b\":[0]}",
        "{\"b\":[0,{\"l\":[3],\"e\":null,\"o\":{}}]}");
    run(OPS("append a.*.v b", "del b.0.k"),
        "{\"a\":[{\"v\":{\"k\":1,\"j\":2}}],\"b\":[]}",
        "{\"a\":[null],\"b\":[{\"j\":2}]}");
}

static void test_apply_refuses_non_objects(void **state)
{
    apigw_flatmap *fm = program(OPS("del a"));
    json_t *doc = J("[1]");
    const char *err = NULL;

    (void)state;
    assert_int_equal(apigw_flatmap_apply(fm, doc, &err), -1);
    assert_non_null(err);
    json_decref(doc);
    doc = J("{\"a\":1}");
    assert_int_equal(apigw_flatmap_apply(apigw_flatmap_create(pool), doc,
                                         &err), 0);
    expect_json(doc, "{\"a\":1}");
}

/* A key with a NUL byte (jansson allows it) is matched by * as itself. */
static void test_keys_with_nul(void **state)
{
    json_t *doc = json_object(), *o = json_object(), *x = json_object();
    const char *err = NULL;

    (void)state;
    json_object_setn_new(o, "a\0b", 3, json_integer(1));
    json_object_setn_new(x, "a\0b", 3, json_integer(1));
    json_object_setn_new(x, "a", 1, json_integer(2));
    json_object_set_new(doc, "o", o);
    json_object_set_new(doc, "x", x);
    assert_int_equal(apigw_flatmap_apply(program(OPS("move o p.q",
                                                     "append x.* l",
                                                     "del x.*")),
                                         doc, &err), 0);
    o = json_object_get(json_object_get(doc, "p"), "q");
    assert_int_equal(json_integer_value(json_object_getn(o, "a\0b", 3)), 1);
    assert_int_equal(json_object_size(o), 1);
    assert_true(json_is_null(json_object_get(doc, "x")));
    json_decref(doc);
}

/* ---- the backend side (apigw_merge.c) ---- */

static int step(const void *data, json_t *doc, const char **err)
{
    return apigw_flatmap_apply(data, doc, err);
}

static void test_shape_runs_ops_after_target_before_group(void **state)
{
    apigw_shape *s = apigw_shape_create(pool);
    const char *err = NULL;
    json_t *doc;

    (void)state;
    assert_null(apigw_shape_set(pool, s, "collection", NULL));
    assert_null(apigw_shape_set(pool, s, "group", "g"));
    assert_null(apigw_shape_set(pool, s, "target", "collection.0"));
    assert_int_equal(apigw_shape_has_filters(s), 0);
    apigw_shape_set_ops(s, step, program(OPS("move k renamed")));
    doc = apigw_shape_apply(s, J("{\"collection\":{\"0\":{\"k\":1,"
                                 "\"m\":2}}}"), &err);
    expect_json(doc, "{\"g\":{\"renamed\":1,\"m\":2}}");
    /* allow, deny and mapping do not run where operations are set */
    s = apigw_shape_create(pool);
    assert_null(apigw_shape_set(pool, s, "mapping", "a:b"));
    assert_int_equal(apigw_shape_has_filters(s), 1);
    apigw_shape_set_ops(s, step, program(OPS("del x")));
    expect_json(apigw_shape_apply(s, J("{\"a\":1,\"x\":2}"), &err),
                "{\"a\":1}");
}

static int failing_step(const void *data, json_t *doc, const char **err)
{
    (void)data;
    (void)doc;
    *err = "no";
    return -1;
}

static void test_shape_ops_failure(void **state)
{
    apigw_shape *s = apigw_shape_create(pool);
    const char *err = NULL;

    (void)state;
    apigw_shape_set_ops(s, failing_step, NULL);
    assert_null(apigw_shape_apply(s, J("{\"a\":1}"), &err));
    assert_string_equal(err, "no");
}

static void test_error_details_option(void **state)
{
    apigw_shape *s = apigw_shape_create(pool);
    const char *err;

    (void)state;
    assert_true(apigw_shape_is_key("error-details"));
    assert_null(apigw_shape_error_details(s));
    assert_null(apigw_shape_set(pool, s, "error-details", "backend_b"));
    assert_string_equal(apigw_shape_error_details(s), "backend_b");
    assert_null(apigw_shape_check(pool, s));
    assert_non_null(strstr(apigw_shape_set(pool, s, "error-details", "x"),
                           "given twice"));
    s = apigw_shape_create(pool);
    assert_non_null(strstr(apigw_shape_set(pool, s, "error-details", NULL),
                           "needs a value"));
    assert_non_null(strstr(apigw_shape_set(pool, s, "error-details", ""),
                           "letters, digits"));
    assert_non_null(strstr(apigw_shape_set(pool, s, "error-details", "a.b"),
                           "letters, digits"));
    assert_null(apigw_shape_set(pool, s, "error-details", "b-1_x"));
    assert_null(apigw_shape_set(pool, s, "encoding", "no-op"));
    err = apigw_shape_check(pool, s);
    assert_non_null(err);
    assert_non_null(strstr(err, "error-details"));
    assert_non_null(strstr(apigw_shape_set(pool, s, "colour", "x"),
                           "error-details"));
}

static void test_error_details_object(void **state)
{
    json_t *d;
    char *text;

    (void)state;
    /* krakend-ce's detail_error: a 404 in text */
    d = apigw_error_details_object(404, "404 page not found\n", 19,
                                   "text/plain; charset=utf-8");
    text = json_dumps(d, JSON_COMPACT);
    assert_string_equal(text, "{\"http_status_code\":404,\"http_body\":"
                        "\"404 page not found\\n\",\"http_body_encoding\":"
                        "\"text/plain; charset=utf-8\"}");
    free(text);
    json_decref(d);
    /* a JSON body stays a string (KrakenD's http_body is string(body)) */
    expect_json(apigw_error_details_object(500, "{\"a\":1}", 7,
                                           "application/json"),
                "{\"http_status_code\":500,\"http_body\":\"{\\\"a\\\":1}\","
                "\"http_body_encoding\":\"application/json\"}");
    /* empty parts are left out (omitempty) */
    expect_json(apigw_error_details_object(503, "", 0, NULL),
                "{\"http_status_code\":503}");
    expect_json(apigw_error_details_object(503, "x", 1, ""),
                "{\"http_status_code\":503,\"http_body\":\"x\"}");
    /* bytes that are not UTF-8 become U+FFFD each; NUL bytes stay */
    expect_json(apigw_error_details_object(400, "a\xff\xc3(\xed\xa0\x80\xf0"
                                           "\x9f\x98\x80\0z", 13, NULL),
                "{\"http_status_code\":400,\"http_body\":"
                "\"a\\ufffd\\ufffd(\\ufffd\\ufffd\\ufffd\\ud83d\\ude00"
                "\\u0000z\"}");
    expect_json(apigw_error_details_object(400, "\xe2\x82", 2, NULL),
                "{\"http_status_code\":400,\"http_body\":"
                "\"\\ufffd\\ufffd\"}");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_refuses_bad_operations),
        T(test_refuses_moves_krakend_gets_wrong),
        T(test_accepts_the_documented_forms),
        T(test_krakend_ce_flatmap_case),
        T(test_docs_extract_objects),
        T(test_docs_arrays),
        T(test_tree_example_deletes),
        T(test_move_renames_embeds_extracts),
        T(test_move_destinations),
        T(test_del_keeps_indices_until_the_end),
        T(test_emptied_containers_become_null),
        T(test_append),
        T(test_apply_refuses_non_objects),
        T(test_keys_with_nul),
        T(test_shape_runs_ops_after_target_before_group),
        T(test_shape_ops_failure),
        T(test_error_details_option),
        T(test_error_details_object),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
