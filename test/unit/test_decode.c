/* sources: mod_apigw/apigw_decode.c mod_apigw/apigw_decode_feed.c mod_apigw/apigw_merge.c mod_apigw/apigw_encode.c mod_apigw/apigw_encode_buf.c mod_apigw/apigw_encode_json.c mod_apigw/apigw_encode_xml.c mod_apigw/apigw_encode_yaml.c */
/* libs: -ljansson -laprutil-1 */
/* Unit tests for mod_apigw/apigw_decode*.c: JSON objects, collections and
 * safejson, strings, XML (KrakenD's mxj shape) and RSS/Atom, and hostile
 * bodies: broken and deep JSON, huge numbers, invalid UTF-8, NUL bytes,
 * 10k keys, entity-expansion attacks, external entities. */
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

static json_t *dec_n(apigw_input_encoding enc, int collection,
                     const char *body, apr_size_t len)
{
    const char *err = NULL;
    json_t *v = apigw_decode_as(pool, enc, collection, body, len, &err);

    if (!v) {
        fail_msg("decode \"%.200s\": unexpected error \"%s\"", body, err);
    }
    assert_null(err);
    assert_true(json_is_object(v));
    return v;
}

static json_t *dec(apigw_input_encoding enc, int collection,
                   const char *body)
{
    return dec_n(enc, collection, body, strlen(body));
}

/* The error decoding body; want is a prefix of it when it ends in '*'. */
static void dec_err_n(apigw_input_encoding enc, int collection,
                      const char *body, apr_size_t len, const char *want)
{
    const char *err = NULL;
    json_t *v = apigw_decode_as(pool, enc, collection, body, len, &err);
    apr_size_t wl = strlen(want);

    if (v) {
        char *d = json_dumps(v, JSON_COMPACT);

        print_error("decoded to %s\n", d);
        free(d);
        json_decref(v);
        fail_msg("decode \"%.200s\": accepted, want \"%s\"", body, want);
    }
    assert_non_null(err);
    if (wl && want[wl - 1] == '*') {
        if (strncmp(err, want, wl - 1) != 0) {
            fail_msg("error \"%s\" does not start with \"%.*s\"", err,
                     (int)(wl - 1), want);
        }
    }
    else {
        assert_string_equal(err, want);
    }
}

static void dec_err(apigw_input_encoding enc, int collection,
                    const char *body, const char *want)
{
    dec_err_n(enc, collection, body, strlen(body), want);
}

/* "[[[...]]]" or {"a":{"a":...}} nested n deep. */
static char *nested(int n, int objects)
{
    char *s = apr_palloc(pool, (apr_size_t)n * 6 + 8), *o = s;
    int i;

    for (i = 0; i < n; i++) {
        if (objects) {
            memcpy(o, "{\"a\":", 5);
            o += 5;
        }
        else {
            *o++ = '[';
        }
    }
    *o++ = '1';
    for (i = 0; i < n; i++) {
        *o++ = objects ? '}' : ']';
    }
    *o = '\0';
    return s;
}

/* ---- JSON ---- */

static void test_json_object(void **state)
{
    (void)state;
    expect_json(dec(APIGW_IN_JSON, 0, "{\"a\":1,\"b\":[true,null]}"),
                "{\"a\":1,\"b\":[true,null]}");
    expect_json(dec(APIGW_IN_JSON, 0, " \r\n\t{}\n "), "{}");
    /* null is an empty response */
    expect_json(dec(APIGW_IN_JSON, 0, "null"), "{}");
    /* duplicate keys: the last wins, as Go */
    expect_json(dec(APIGW_IN_JSON, 0, "{\"a\":1,\"a\":2}"), "{\"a\":2}");
    /* NUL inside strings is kept */
    {
        json_t *v = dec(APIGW_IN_JSON, 0, "{\"a\":\"x\\u0000y\"}");

        assert_int_equal(json_string_length(json_object_get(v, "a")), 3);
        json_decref(v);
    }
    /* the shape-based entry point, and a NULL shape */
    {
        const char *err = NULL;
        apigw_shape *s = apigw_shape_create(pool);
        json_t *v;

        v = apigw_decode(pool, NULL, "{\"k\":1}", 7, &err);
        expect_json(v, "{\"k\":1}");
        assert_null(apigw_shape_set(pool, s, "collection", NULL));
        v = apigw_decode(pool, s, "[1]", 3, &err);
        expect_json(v, "{\"collection\":[1]}");
        /* the body need not be NUL-terminated */
        v = apigw_decode(pool, NULL, "{\"k\":2}garbage", 7, &err);
        expect_json(v, "{\"k\":2}");
    }
}

static void test_json_not_object(void **state)
{
    (void)state;
    dec_err(APIGW_IN_JSON, 0, "[1,2]", "the backend's JSON is an array, not "
            "an object (declare the backend a collection)");
    dec_err(APIGW_IN_JSON, 0, "\"s\"", "the backend's JSON is a string, not "
            "an object");
    dec_err(APIGW_IN_JSON, 0, "42", "the backend's JSON is a number, not an "
            "object");
    dec_err(APIGW_IN_JSON, 0, "4.5", "the backend's JSON is a number, not an "
            "object");
    dec_err(APIGW_IN_JSON, 0, "true", "the backend's JSON is a boolean, not "
            "an object");
}

static void test_json_broken(void **state)
{
    (void)state;
    dec_err(APIGW_IN_JSON, 0, "", "the backend's body is not valid JSON: *");
    dec_err(APIGW_IN_JSON, 0, "   ", "the backend's body is not valid JSON: "
            "*");
    dec_err(APIGW_IN_JSON, 0, "{\"a\":", "the backend's body is not valid "
            "JSON: *");
    dec_err(APIGW_IN_JSON, 0, "{\"a\":1,}", "the backend's body is not valid "
            "JSON: *");
    dec_err(APIGW_IN_JSON, 0, "{'a':1}", "the backend's body is not valid "
            "JSON: *");
    /* trailing data, a BOM, a raw NUL, bad UTF-8: refused */
    dec_err(APIGW_IN_JSON, 0, "{} {}", "the backend's body is not valid "
            "JSON: end of file expected near '{' (line 1, column 4)");
    dec_err(APIGW_IN_JSON, 0, "\xef\xbb\xbf{}", "the backend's body is not "
            "valid JSON: *");
    dec_err_n(APIGW_IN_JSON, 0, "{\"a\":\0}", 7, "the backend's body is not "
              "valid JSON: *");
    dec_err(APIGW_IN_JSON, 0, "{\"a\":\"\xff\"}", "the backend's body is "
            "not valid JSON: *");
    dec_err(APIGW_IN_JSON, 0, "{\"a\":\"\xed\xa0\x80\"}", "the backend's "
            "body is not valid JSON: *");
    /* NUL in a key is refused by jansson */
    dec_err(APIGW_IN_JSON, 0, "{\"a\\u0000b\":1}", "the backend's body is "
            "not valid JSON: NUL byte in object key not supported*");
    /* the message is fit for a log line: no control or raw 8-bit bytes */
    {
        const char *err = NULL;
        const char *c;

        assert_null(apigw_decode_as(pool, APIGW_IN_JSON, 0, "{\"a\x01\xff",
                                    5, &err));
        for (c = err; *c; c++) {
            assert_true((unsigned char)*c >= 0x20
                        && (unsigned char)*c < 0x7f);
        }
    }
}

static void test_json_numbers(void **state)
{
    json_t *v;

    (void)state;
    v = dec(APIGW_IN_JSON, 0, "{\"max\":9223372036854775807,"
            "\"min\":-9223372036854775808,\"r\":1.5e300,\"tiny\":5e-324}");
    assert_true(json_is_integer(json_object_get(v, "max")));
    assert_true(json_is_integer(json_object_get(v, "min")));
    assert_true(json_is_real(json_object_get(v, "r")));
    json_decref(v);
    /* beyond 64 bits: read again with every integer as a real */
    v = dec(APIGW_IN_JSON, 0, "{\"id\":123456789012345678901234567890,"
            "\"n\":5}");
    assert_true(json_is_real(json_object_get(v, "id")));
    assert_true(json_real_value(json_object_get(v, "id")) > 1.2e29);
    assert_true(json_is_real(json_object_get(v, "n")));
    json_decref(v);
    /* beyond doubles: an error */
    dec_err(APIGW_IN_JSON, 0, "{\"r\":1e400}", "the backend's body is not "
            "valid JSON: real number overflow*");
    dec_err(APIGW_IN_JSON, 0, "{\"r\":-1e400,\"i\":1234567890123456789012}",
            "the backend's body is not valid JSON: *");
}

static void test_json_depth(void **state)
{
    char msg[] = "the backend response nests deeper than 128 levels";

    (void)state;
    /* 128 levels in all are fine, 129 are not */
    json_decref(dec(APIGW_IN_JSON, 0, nested(APIGW_DECODE_MAX_DEPTH, 1)));
    dec_err(APIGW_IN_JSON, 0, nested(APIGW_DECODE_MAX_DEPTH + 1, 1), msg);
    {
        char *body = apr_psprintf(pool, "{\"a\":%s}",
                                  nested(APIGW_DECODE_MAX_DEPTH - 1, 0));

        json_decref(dec(APIGW_IN_JSON, 0, body));
        body = apr_psprintf(pool, "{\"a\":%s}",
                            nested(APIGW_DECODE_MAX_DEPTH, 0));
        dec_err(APIGW_IN_JSON, 0, body, msg);
    }
    /* a collection counts its wrapper */
    json_decref(dec(APIGW_IN_JSON, 1, nested(APIGW_DECODE_MAX_DEPTH - 1, 0)));
    dec_err(APIGW_IN_JSON, 1, nested(APIGW_DECODE_MAX_DEPTH, 0), msg);
    /* jansson's own limit (2048) and far beyond it */
    dec_err(APIGW_IN_JSON, 0, nested(5000, 1), "the backend's body is not "
            "valid JSON: maximum parsing depth reached*");
    dec_err(APIGW_IN_JSON, 1, nested(100000, 0), "the backend's body is not "
            "valid JSON: maximum parsing depth reached*");
}

static void test_json_many_keys(void **state)
{
    apr_size_t cap = 10000 * 16 + 4, len = 0;
    char *body = apr_palloc(pool, cap);
    json_t *v;
    int i;

    (void)state;
    body[len++] = '{';
    for (i = 0; i < 10000; i++) {
        len += (apr_size_t)snprintf(body + len, cap - len, "%s\"k%d\":%d",
                                    i ? "," : "", i, i);
    }
    body[len++] = '}';
    body[len] = '\0';
    v = dec(APIGW_IN_JSON, 0, body);
    assert_int_equal(json_object_size(v), 10000);
    assert_int_equal(json_integer_value(json_object_get(v, "k9999")), 9999);
    json_decref(v);
}

static void test_json_collection(void **state)
{
    (void)state;
    expect_json(dec(APIGW_IN_JSON, 1, "[1,{\"a\":2},[3]]"),
                "{\"collection\":[1,{\"a\":2},[3]]}");
    expect_json(dec(APIGW_IN_JSON, 1, "[]"), "{\"collection\":[]}");
    expect_json(dec(APIGW_IN_JSON, 1, "null"), "{\"collection\":[]}");
    dec_err(APIGW_IN_JSON, 1, "{\"a\":1}", "the backend's JSON is an object, "
            "not the array a collection backend must return");
    dec_err(APIGW_IN_JSON, 1, "7", "the backend's JSON is a number, not the "
            "array a collection backend must return");
    dec_err(APIGW_IN_JSON, 1, "[1,", "the backend's body is not valid JSON: "
            "*");
}

static void test_safejson(void **state)
{
    (void)state;
    expect_json(dec(APIGW_IN_SAFEJSON, 0, "{\"a\":1}"), "{\"a\":1}");
    expect_json(dec(APIGW_IN_SAFEJSON, 0, "[1]"), "{\"collection\":[1]}");
    expect_json(dec(APIGW_IN_SAFEJSON, 0, "\"s\""), "{\"content\":\"s\"}");
    expect_json(dec(APIGW_IN_SAFEJSON, 0, "3"), "{\"content\":3}");
    expect_json(dec(APIGW_IN_SAFEJSON, 0, "null"), "{\"content\":null}");
    expect_json(dec(APIGW_IN_SAFEJSON, 1, "[1]"), "{\"collection\":[1]}");
    dec_err(APIGW_IN_SAFEJSON, 0, "nul", "the backend's body is not valid "
            "JSON: *");
}

/* ---- string ---- */

static void test_string(void **state)
{
    json_t *v;

    (void)state;
    expect_json(dec(APIGW_IN_STRING, 0, "hello \"world\"\n"),
                "{\"content\":\"hello \\\"world\\\"\\n\"}");
    expect_json(dec(APIGW_IN_STRING, 0, ""), "{\"content\":\"\"}");
    expect_json(dec(APIGW_IN_STRING, 0, "{\"not\":\"parsed\"}"),
                "{\"content\":\"{\\\"not\\\":\\\"parsed\\\"}\"}");
    expect_json(dec(APIGW_IN_STRING, 0, "caf\xc3\xa9 \xf0\x9f\x98\x80"),
                "{\"content\":\"caf\xc3\xa9 \xf0\x9f\x98\x80\"}");
    /* invalid UTF-8 becomes U+FFFD, one per bad byte */
    expect_json(dec(APIGW_IN_STRING, 0, "a\xff" "b\xc3"),
                "{\"content\":\"a\xef\xbf\xbd" "b\xef\xbf\xbd\"}");
    expect_json(dec(APIGW_IN_STRING, 0, "\xed\xa0\x80"),
                "{\"content\":\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"}");
    expect_json(dec(APIGW_IN_STRING, 0, "\xc0\xaf"),
                "{\"content\":\"\xef\xbf\xbd\xef\xbf\xbd\"}");
    expect_json(dec(APIGW_IN_STRING, 0, "\xf4\x90\x80\x80!"),
                "{\"content\":\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
                "\xef\xbf\xbd!\"}");
    /* NUL bytes are kept */
    v = dec_n(APIGW_IN_STRING, 0, "a\0b\xff", 4);
    assert_int_equal(json_string_length(json_object_get(v, "content")), 6);
    assert_memory_equal(json_string_value(json_object_get(v, "content")),
                        "a\0b\xef\xbf\xbd", 6);
    json_decref(v);
    /* NULL body of length 0 */
    {
        const char *err = NULL;

        v = apigw_decode_as(pool, APIGW_IN_STRING, 0, NULL, 0, &err);
        expect_json(v, "{\"content\":\"\"}");
        assert_null(apigw_decode_as(pool, APIGW_IN_STRING, 0, NULL, 3, &err));
        assert_string_equal(err, "no body");
    }
}

static void test_noop(void **state)
{
    (void)state;
    dec_err(APIGW_IN_NOOP, 0, "{}", "a no-op backend's body is passed "
            "through, not decoded");
}

/* ---- XML ---- */

static void test_xml_shape(void **state)
{
    (void)state;
    /* KrakenD's own decoder test document */
    expect_json(dec(APIGW_IN_XML, 0,
                    "<Person id=\"1\">\n"
                    "  <FullName>Alice</FullName>\n"
                    "  <Company>Acme</Company>\n"
                    "  <Email where=\"home\"><Addr>gre@example.com</Addr>"
                    "</Email>\n"
                    "  <Email where='work'><Addr>gre@work.com</Addr></Email>\n"
                    "  <Group><Value>Friends</Value><Value>Squash</Value>"
                    "</Group>\n"
                    "</Person>"),
                "{\"Person\":{\"-id\":\"1\",\"FullName\":\"Alice\","
                "\"Company\":\"Acme\",\"Email\":[{\"-where\":\"home\","
                "\"Addr\":\"gre@example.com\"},{\"-where\":\"work\","
                "\"Addr\":\"gre@work.com\"}],\"Group\":{\"Value\":"
                "[\"Friends\",\"Squash\"]}}}");
    /* text only, empty, white space, mixed content, CDATA, entities */
    expect_json(dec(APIGW_IN_XML, 0, "<a>  x y \n</a>"), "{\"a\":\"x y\"}");
    expect_json(dec(APIGW_IN_XML, 0, "<a/>"), "{\"a\":\"\"}");
    expect_json(dec(APIGW_IN_XML, 0, "<a>   </a>"), "{\"a\":\"\"}");
    expect_json(dec(APIGW_IN_XML, 0, "<a k=\"v\">t</a>"),
                "{\"a\":{\"-k\":\"v\",\"#text\":\"t\"}}");
    expect_json(dec(APIGW_IN_XML, 0, "<a k=\"v\"/>"), "{\"a\":{\"-k\":\"v\"}}");
    expect_json(dec(APIGW_IN_XML, 0, "<a>one<b>2</b>three</a>"),
                "{\"a\":{\"#text\":\"onethree\",\"b\":\"2\"}}");
    expect_json(dec(APIGW_IN_XML, 0, "<a><![CDATA[<x>&]]></a>"),
                "{\"a\":\"<x>&\"}");
    expect_json(dec(APIGW_IN_XML, 0, "<a>&lt;&amp;&gt;&quot;&apos;&#233;"
                    "&#x1F600;</a>"),
                "{\"a\":\"<&>\\\"'\xc3\xa9\xf0\x9f\x98\x80\"}");
    /* attributes keep document order; three repeats; order of keys */
    expect_json(dec(APIGW_IN_XML, 0, "<r z=\"1\" a=\"2\"><i>1</i><j/><i>2"
                    "</i><i><k>3</k></i></r>"),
                "{\"r\":{\"-z\":\"1\",\"-a\":\"2\",\"i\":[\"1\",\"2\","
                "{\"k\":\"3\"}],\"j\":\"\"}}");
    /* comments, processing instructions, a declaration, a bare DOCTYPE */
    expect_json(dec(APIGW_IN_XML, 0, "<?xml version=\"1.0\"?>\n<!DOCTYPE r>"
                    "<!-- c --><r><?pi x?>v<!-- d --></r>"),
                "{\"r\":\"v\"}");
    /* a declared encoding is converted to UTF-8 */
    expect_json(dec(APIGW_IN_XML, 0, "<?xml version=\"1.0\" encoding=\"ISO-"
                    "8859-1\"?><a>caf\xe9</a>"), "{\"a\":\"caf\xc3\xa9\"}");
    /* collection: the whole document under "collection" */
    expect_json(dec(APIGW_IN_XML, 1, "<l><i>1</i></l>"),
                "{\"collection\":{\"l\":{\"i\":\"1\"}}}");
}

static void test_xml_namespaces(void **state)
{
    (void)state;
    expect_json(dec(APIGW_IN_XML, 0, "<x:a xmlns:x=\"urn:x\" xmlns=\"urn:d\" "
                    "x:k=\"1\" xml:lang=\"en\"><x:b>t</x:b><c/></x:a>"),
                "{\"a\":{\"-k\":\"1\",\"b\":\"t\",\"c\":\"\"}}");
    dec_err(APIGW_IN_XML, 0, "<y:a/>", "the backend's body is not "
            "well-formed XML: *");
}

static void test_xml_errors(void **state)
{
    (void)state;
    dec_err(APIGW_IN_XML, 0, "", "the backend's body is not well-formed "
            "XML: *");
    dec_err(APIGW_IN_XML, 0, "<a>", "the backend's body is not well-formed "
            "XML: *");
    dec_err(APIGW_IN_XML, 0, "<a></b>", "the backend's body is not "
            "well-formed XML: *");
    dec_err(APIGW_IN_XML, 0, "<a/><b/>", "the backend's body is not "
            "well-formed XML: *");
    dec_err(APIGW_IN_XML, 0, "{\"json\":1}", "the backend's body is not "
            "well-formed XML: *");
    dec_err_n(APIGW_IN_XML, 0, "<a>\0</a>", 8, "the backend's body is not "
              "well-formed XML: *");
    dec_err(APIGW_IN_XML, 0, "<a>\xff</a>", "the backend's body is not "
            "well-formed XML: *");
    dec_err(APIGW_IN_XML, 0, "<a>&#0;</a>", "the backend's body is not "
            "well-formed XML: *");
    dec_err(APIGW_IN_XML, 0, "<a>&undefined;</a>", "the backend's body is "
            "not well-formed XML: *");
}

static void test_xml_entities(void **state)
{
    /* billion laughs: refused at the first entity declaration */
    static const char laughs[] =
        "<?xml version=\"1.0\"?>\n"
        "<!DOCTYPE lolz [\n"
        " <!ENTITY lol \"lol\">\n"
        " <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
        " <!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
        " <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
        " <!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n"
        " <!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">\n"
        " <!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">\n"
        " <!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">\n"
        " <!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">\n"
        " <!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">\n"
        "]>\n"
        "<lolz>&lol9;</lolz>";
    const char *want = "the backend's body is not well-formed XML: XML parser "
                       "error code: parsing aborted (35) (a DTD entity "
                       "declaration, which is refused)";

    (void)state;
    dec_err(APIGW_IN_XML, 0, laughs, want);
    dec_err(APIGW_IN_RSS, 0, laughs, want);
    /* external entities (XXE): a declaration too, never loaded */
    dec_err(APIGW_IN_XML, 0, "<!DOCTYPE a [<!ENTITY x SYSTEM "
            "\"file:///etc/passwd\">]><a>&x;</a>", want);
    dec_err(APIGW_IN_XML, 0, "<!DOCTYPE a [<!ENTITY % p SYSTEM "
            "\"http://127.0.0.1:1/x.dtd\"> %p;]><a/>", want);
    /* an external DTD subset is never fetched: its entities are skipped */
    expect_json(dec(APIGW_IN_XML, 0, "<!DOCTYPE a SYSTEM "
                    "\"http://127.0.0.1:1/x.dtd\"><a>&x;</a>"),
                "{\"a\":\"\"}");
}

static void test_xml_deep(void **state)
{
    apr_size_t n = 200000, i;
    char *body = apr_palloc(pool, n * 7 + 1), *o = body;
    int depth;

    (void)state;
    for (i = 0; i < n; i++) {
        memcpy(o, "<a>", 3);
        o += 3;
    }
    for (i = 0; i < n; i++) {
        memcpy(o, "</a>", 4);
        o += 4;
    }
    *o = '\0';
    /* apr_xml (Debian's apr-util) stops at 256 nested elements itself */
    dec_err(APIGW_IN_XML, 0, body, "the backend's body is not well-formed "
            "XML: *");
    /* 200 is under that limit and over ours */
    o = body;
    for (i = 0; i < 200; i++) {
        memcpy(o, "<a>", 3);
        o += 3;
    }
    for (i = 0; i < 200; i++) {
        memcpy(o, "</a>", 4);
        o += 4;
    }
    *o = '\0';
    dec_err(APIGW_IN_XML, 0, body, "the backend's XML nests deeper than 128 "
            "levels");
    /* the deepest that fits: the root wrapper, then one level per element
     * (an element with an attribute is an object) */
    o = body;
    for (depth = 0; depth < APIGW_DECODE_MAX_DEPTH - 1; depth++) {
        memcpy(o, "<a k=\"v\">", 9);
        o += 9;
    }
    for (depth = 0; depth < APIGW_DECODE_MAX_DEPTH - 1; depth++) {
        memcpy(o, "</a>", 4);
        o += 4;
    }
    *o = '\0';
    json_decref(dec(APIGW_IN_XML, 0, body));
    /* one more, or a repetition at the bottom (an array level): too deep */
    o = body;
    for (depth = 0; depth < APIGW_DECODE_MAX_DEPTH - 2; depth++) {
        memcpy(o, "<a k=\"v\">", 9);
        o += 9;
    }
    memcpy(o, "<b/><b/>", 8);
    o += 8;
    for (depth = 0; depth < APIGW_DECODE_MAX_DEPTH - 2; depth++) {
        memcpy(o, "</a>", 4);
        o += 4;
    }
    *o = '\0';
    json_decref(dec(APIGW_IN_XML, 0, body));
    o = body;
    for (depth = 0; depth < APIGW_DECODE_MAX_DEPTH - 1; depth++) {
        memcpy(o, "<a k=\"v\">", 9);
        o += 9;
    }
    memcpy(o, "<b/><b/>", 8);
    o += 8;
    for (depth = 0; depth < APIGW_DECODE_MAX_DEPTH - 1; depth++) {
        memcpy(o, "</a>", 4);
        o += 4;
    }
    *o = '\0';
    dec_err(APIGW_IN_XML, 0, body, "the backend response nests deeper than "
            "128 levels");
    o = body;
    for (depth = 0; depth < APIGW_DECODE_MAX_DEPTH; depth++) {
        memcpy(o, "<a k=\"v\">", 9);
        o += 9;
    }
    for (depth = 0; depth < APIGW_DECODE_MAX_DEPTH; depth++) {
        memcpy(o, "</a>", 4);
        o += 4;
    }
    *o = '\0';
    dec_err(APIGW_IN_XML, 0, body, "the backend's XML nests deeper than 128 "
            "levels");
    /* deep text for RSS is cut, not a crash */
    o = body;
    memcpy(o, "<rss><channel><title>", 21);
    o += 21;
    for (i = 0; i < 250; i++) {
        memcpy(o, "<b>x", 4);
        o += 4;
    }
    for (i = 0; i < 250; i++) {
        memcpy(o, "</b>", 4);
        o += 4;
    }
    memcpy(o, "</title></channel></rss>", 25);
    {
        json_t *v = dec(APIGW_IN_RSS, 0, body);
        const char *t = json_string_value(json_object_get(v, "title"));

        assert_non_null(t);
        assert_true(strlen(t) > 100 && strlen(t) < 200);
        json_decref(v);
    }
}

static void test_xml_many(void **state)
{
    apr_size_t cap = 10000 * 24 + 16, len = 0;
    char *body = apr_palloc(pool, cap);
    json_t *v;
    int i;

    (void)state;
    len += (apr_size_t)snprintf(body, cap, "<r>");
    for (i = 0; i < 10000; i++) {
        len += (apr_size_t)snprintf(body + len, cap - len, "<k%d>%d</k%d>",
                                    i, i, i);
    }
    len += (apr_size_t)snprintf(body + len, cap - len, "</r>");
    v = dec(APIGW_IN_XML, 0, body);
    assert_int_equal(json_object_size(json_object_get(v, "r")), 10000);
    json_decref(v);
    /* 10k repeats of one name: one array */
    len = (apr_size_t)snprintf(body, cap, "<r>");
    for (i = 0; i < 10000; i++) {
        len += (apr_size_t)snprintf(body + len, cap - len, "<i>%d</i>", i);
    }
    snprintf(body + len, cap - len, "</r>");
    v = dec(APIGW_IN_XML, 0, body);
    assert_int_equal(json_array_size(json_object_get(json_object_get(v, "r"),
                                                     "i")), 10000);
    json_decref(v);
}

/* ---- RSS and Atom ---- */

static void test_rss2(void **state)
{
    (void)state;
    expect_json(dec(APIGW_IN_RSS, 0,
        "<?xml version=\"1.0\"?>\n"
        "<rss version=\"2.0\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\" "
        "xmlns:content=\"http://purl.org/rss/1.0/modules/content/\">"
        "<channel><title>News</title><link>http://x/</link>"
        "<description>Latest</description><language>en-us</language>"
        "<copyright>(c) X</copyright>"
        "<managingEditor>ed@x.org (The Editor)</managingEditor>"
        "<pubDate>Mon, 01 Jan 2024 00:00:00 GMT</pubDate>"
        "<lastBuildDate>Tue, 02 Jan 2024 00:00:00 GMT</lastBuildDate>"
        "<category>tech</category><category>news</category>"
        "<image><url>http://x/i.png</url><title>i</title></image>"
        "<item><title>One</title><link>http://x/1</link>"
        "<description>d &amp; 1</description>"
        "<content:encoded><![CDATA[<p>hi</p>]]></content:encoded>"
        "<pubDate>Mon, 01 Jan 2024 00:00:00 GMT</pubDate>"
        "<guid isPermaLink=\"false\">g1</guid><dc:creator>Bob</dc:creator>"
        "<dc:date>2024-01-01</dc:date>"
        "<enclosure url=\"http://x/a.mp3\" length=\"12\" type=\"audio/mpeg\"/>"
        "<category>c1</category></item>"
        "<item><title>Two</title><author>Ann &lt;ann@x.org&gt;</author></item>"
        "</channel></rss>"),
        "{\"title\":\"News\",\"description\":\"Latest\",\"language\":"
        "\"en-us\",\"copyright\":\"(c) X\",\"published\":\"Mon, 01 Jan 2024 "
        "00:00:00 GMT\",\"updated\":\"Tue, 02 Jan 2024 00:00:00 GMT\","
        "\"type\":\"rss\",\"author\":{\"name\":\"The Editor\",\"email\":"
        "\"ed@x.org\"},\"categories\":[\"tech\",\"news\"],\"custom\":null,"
        "\"img_url\":\"http://x/i.png\",\"items\":["
        "{\"title\":\"One\",\"link\":\"http://x/1\",\"links\":[\"http://x/1\"],"
        "\"description\":\"d & 1\",\"content\":\"<p>hi</p>\",\"published\":"
        "\"Mon, 01 Jan 2024 00:00:00 GMT\",\"updated\":\"2024-01-01\","
        "\"guid\":\"g1\",\"author\":{\"name\":\"Bob\"},\"authors\":[{\"name\":"
        "\"Bob\"}],\"enclosures\":[{\"url\":\"http://x/a.mp3\",\"length\":"
        "\"12\",\"type\":\"audio/mpeg\"}],\"categories\":[\"c1\"]},"
        "{\"title\":\"Two\",\"author\":{\"name\":\"Ann\",\"email\":"
        "\"ann@x.org\"},\"authors\":[{\"name\":\"Ann\",\"email\":"
        "\"ann@x.org\"}]}]}");
    /* the bare minimum */
    expect_json(dec(APIGW_IN_RSS, 0, "<rss><channel/></rss>"),
                "{\"title\":\"\",\"description\":\"\",\"language\":\"\","
                "\"copyright\":\"\",\"published\":\"\",\"updated\":\"\","
                "\"type\":\"rss\",\"author\":null,\"categories\":null,"
                "\"custom\":null,\"items\":[]}");
    /* webMaster, dc:rights/dc:language/dc:date fallbacks, a bare email */
    {
        json_t *v = dec(APIGW_IN_RSS, 0,
            "<rss xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><channel>"
            "<webMaster>wm@x.org</webMaster><dc:rights>R</dc:rights>"
            "<dc:language>fr</dc:language><dc:date>D</dc:date>"
            "</channel></rss>");

        expect_json(json_incref(json_object_get(v, "author")),
                    "{\"email\":\"wm@x.org\"}");
        assert_string_equal(json_string_value(json_object_get(v, "copyright")),
                            "R");
        assert_string_equal(json_string_value(json_object_get(v, "language")),
                            "fr");
        assert_string_equal(json_string_value(json_object_get(v, "updated")),
                            "D");
        json_decref(v);
    }
    /* an element in another namespace is not the feed's own */
    {
        json_t *v = dec(APIGW_IN_RSS, 0,
            "<rss xmlns:o=\"urn:other\"><channel><o:title>no</o:title>"
            "</channel></rss>");

        assert_string_equal(json_string_value(json_object_get(v, "title")),
                            "");
        json_decref(v);
    }
}

static void test_rss1(void **state)
{
    (void)state;
    expect_json(dec(APIGW_IN_RSS, 0,
        "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\" "
        "xmlns=\"http://purl.org/rss/1.0/\" "
        "xmlns:dc=\"http://purl.org/dc/elements/1.1/\">"
        "<channel rdf:about=\"http://x/\"><title>R1</title>"
        "<description>D</description><dc:creator>C</dc:creator></channel>"
        "<image><url>http://x/logo.png</url></image>"
        "<item rdf:about=\"http://x/1\"><title>I1</title>"
        "<link>http://x/1</link></item>"
        "<item><title>I2</title></item></rdf:RDF>"),
        "{\"title\":\"R1\",\"description\":\"D\",\"language\":\"\","
        "\"copyright\":\"\",\"published\":\"\",\"updated\":\"\","
        "\"type\":\"rss\",\"author\":{\"name\":\"C\"},\"categories\":null,"
        "\"custom\":null,\"img_url\":\"http://x/logo.png\",\"items\":["
        "{\"title\":\"I1\",\"link\":\"http://x/1\",\"links\":"
        "[\"http://x/1\"]},{\"title\":\"I2\"}]}");
}

static void test_atom(void **state)
{
    (void)state;
    expect_json(dec(APIGW_IN_RSS, 0,
        "<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"en\">"
        "<title>A</title><subtitle>S</subtitle><rights>R</rights>"
        "<updated>2024-01-02T00:00:00Z</updated><logo>http://a/l.png</logo>"
        "<author><name>N</name><email>e@x</email></author>"
        "<category term=\"t\"/>"
        "<entry><title>E1</title><id>urn:1</id>"
        "<link rel=\"self\" href=\"http://a/self\"/>"
        "<link href=\"http://a/1\"/>"
        "<link rel=\"enclosure\" href=\"http://a/1.mp3\" type=\"audio/mpeg\" "
        "length=\"5\"/>"
        "<published>2024-01-01T00:00:00Z</published>"
        "<updated>2024-01-01T01:00:00Z</updated>"
        "<summary>sum</summary>"
        "<content type=\"xhtml\"><div xmlns=\"http://www.w3.org/1999/xhtml\">"
        "<p>Hello <b>there</b></p></div></content>"
        "<author><name>A1</name></author><author><name>A2</name></author>"
        "<category term=\"t1\"/><category term=\"t2\"/></entry>"
        "<entry><title>E2</title><link rel=\"self\" href=\"http://a/2\"/>"
        "</entry></feed>"),
        "{\"title\":\"A\",\"description\":\"S\",\"language\":\"en\","
        "\"copyright\":\"R\",\"published\":\"\",\"updated\":"
        "\"2024-01-02T00:00:00Z\",\"type\":\"atom\",\"author\":{\"name\":"
        "\"N\",\"email\":\"e@x\"},\"categories\":[\"t\"],\"custom\":null,"
        "\"img_url\":\"http://a/l.png\",\"items\":["
        "{\"title\":\"E1\",\"guid\":\"urn:1\",\"link\":\"http://a/1\","
        "\"links\":[\"http://a/self\",\"http://a/1\"],\"enclosures\":["
        "{\"url\":\"http://a/1.mp3\",\"type\":\"audio/mpeg\",\"length\":"
        "\"5\"}],\"published\":\"2024-01-01T00:00:00Z\",\"updated\":"
        "\"2024-01-01T01:00:00Z\",\"description\":\"sum\",\"content\":"
        "\"Hello there\",\"author\":{\"name\":\"A1\"},\"authors\":["
        "{\"name\":\"A1\"},{\"name\":\"A2\"}],\"categories\":[\"t1\",\"t2\"]},"
        "{\"title\":\"E2\",\"link\":\"http://a/2\",\"links\":"
        "[\"http://a/2\"]}]}");
}

static void test_rss_errors(void **state)
{
    (void)state;
    dec_err(APIGW_IN_RSS, 0, "<html><body/></html>", "the backend's XML is "
            "not an RSS or Atom feed (its root element is <html>)");
    dec_err(APIGW_IN_RSS, 0, "<rss><item/></rss>", "the backend's RSS has no "
            "<channel>");
    dec_err(APIGW_IN_RSS, 0, "{}", "the backend's body is not well-formed "
            "XML: *");
    dec_err(APIGW_IN_RSS, 0, "", "the backend's body is not well-formed "
            "XML: *");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_json_object),
        T(test_json_not_object),
        T(test_json_broken),
        T(test_json_numbers),
        T(test_json_depth),
        T(test_json_many_keys),
        T(test_json_collection),
        T(test_safejson),
        T(test_string),
        T(test_noop),
        T(test_xml_shape),
        T(test_xml_namespaces),
        T(test_xml_errors),
        T(test_xml_entities),
        T(test_xml_deep),
        T(test_xml_many),
        T(test_rss2),
        T(test_rss1),
        T(test_atom),
        T(test_rss_errors),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
