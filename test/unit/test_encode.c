/* sources: mod_apigw/apigw_encode.c mod_apigw/apigw_encode_buf.c mod_apigw/apigw_encode_json.c mod_apigw/apigw_encode_xml.c mod_apigw/apigw_encode_yaml.c mod_apigw/apigw_decode.c mod_apigw/apigw_decode_feed.c mod_apigw/apigw_merge.c */
/* libs: -ljansson -laprutil-1 */
/* Unit tests for mod_apigw/apigw_encode*.c: the ApiOutputEncoding words,
 * Accept negotiation (KrakenD's offered types, q-values, wildcards, ties),
 * shortest reals, and the JSON, JSON-collection, XML, YAML and string
 * writers, escaping and key order included; XML output is checked
 * well-formed with apr_xml and read back. */
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
#include <apr_xml.h>

#include "apigw_decode.h"
#include "apigw_encode.h"

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

/* Encodes the JSON text doc; checks the content type. */
static const char *enc_len(const char *doc, apigw_output_encoding enc,
                           apr_size_t *len)
{
    json_t *v = J(doc);
    const char *ct = NULL, *body;
    static const char *const want_ct[] = {
        "application/json; charset=utf-8", "application/json; charset=utf-8",
        "application/xml", "application/yaml; charset=utf-8",
        "text/plain; charset=utf-8", "application/json; charset=utf-8",
        "application/json; charset=utf-8"
    };

    body = apigw_encode(pool, v, enc, len, &ct);
    json_decref(v);
    if (!body) {
        fail_msg("encode %s as %s: NULL", doc, apigw_output_encoding_name(enc));
    }
    assert_string_equal(ct, want_ct[enc]);
    assert_int_equal(strlen(body) <= *len, 1);
    assert_int_equal(body[*len], '\0');
    return body;
}

static const char *enc(const char *doc, apigw_output_encoding e)
{
    apr_size_t len;

    return enc_len(doc, e, &len);
}

static void expect_enc(const char *doc, apigw_output_encoding e,
                       const char *want)
{
    const char *got = enc(doc, e);

    if (strcmp(got, want) != 0) {
        print_error("doc  %s\ngot  [%s]\nwant [%s]\n", doc, got, want);
    }
    assert_string_equal(got, want);
}

/* Whether body is well-formed XML to apr_xml (expat). */
static void expect_well_formed(const char *body)
{
    apr_xml_parser *p = apr_xml_parser_create(pool);
    apr_xml_doc *doc = NULL;
    char msg[200];

    if (apr_xml_parser_feed(p, body, strlen(body)) != APR_SUCCESS
        || apr_xml_parser_done(p, &doc) != APR_SUCCESS) {
        apr_xml_parser_geterror(p, msg, sizeof(msg));
        fail_msg("not well-formed (%s):\n%s", msg, body);
    }
}

/* doc -> XML -> decode gives back want (a JSON text). */
static void expect_xml_round_trip(const char *doc, const char *want)
{
    const char *x = enc(doc, APIGW_OUT_XML), *err = NULL;
    json_t *back, *w = J(want);

    expect_well_formed(x);
    back = apigw_decode_as(pool, APIGW_IN_XML, 0, x, strlen(x), &err);
    if (!back || !json_equal(back, w)) {
        char *g = back ? json_dumps(back, JSON_SORT_KEYS) : NULL;

        print_error("xml  %s\nback %s (%s)\nwant %s\n", x, g ? g : "NULL",
                    err ? err : "", want);
        free(g);
        fail();
    }
    json_decref(back);
    json_decref(w);
}

/* ---- words ---- */

static void test_words(void **state)
{
    static const char *const words[] = {
        "json", "json-collection", "xml", "yaml", "string", "negotiate",
        "no-op"
    };
    apigw_output_encoding e;
    int i;

    (void)state;
    for (i = 0; i < 7; i++) {
        e = APIGW_OUT_JSON;
        assert_null(apigw_output_encoding_parse(words[i], &e));
        assert_int_equal(e, (apigw_output_encoding)i);
        assert_string_equal(apigw_output_encoding_name(e), words[i]);
    }
    assert_null(apigw_output_encoding_parse("XML", &e));
    assert_int_equal(e, APIGW_OUT_XML);
    assert_null(apigw_output_encoding_parse("Negotiate", &e));
    assert_int_equal(e, APIGW_OUT_NEGOTIATE);
    e = APIGW_OUT_YAML;
    assert_string_equal(apigw_output_encoding_parse("html", &e),
                        "the output encoding must be one of json, "
                        "json-collection, xml, yaml, string, negotiate or "
                        "no-op");
    assert_int_equal(e, APIGW_OUT_YAML);
    assert_non_null(apigw_output_encoding_parse("", &e));
    assert_non_null(apigw_output_encoding_parse(NULL, &e));
    assert_non_null(apigw_output_encoding_parse("json ", &e));
}

/* ---- negotiate ---- */

static void test_negotiate(void **state)
{
    static const struct {
        const char *accept;
        apigw_output_encoding want;
    } cases[] = {
        { NULL, APIGW_OUT_JSON },
        { "", APIGW_OUT_JSON },
        { "*/*", APIGW_OUT_JSON },
        /* KrakenD's offers: text/plain is YAML */
        { "application/json", APIGW_OUT_JSON },
        { "application/xml", APIGW_OUT_XML },
        { "text/plain", APIGW_OUT_YAML },
        { "application/x-yaml", APIGW_OUT_YAML },
        { "TEXT/PLAIN", APIGW_OUT_YAML },
        { "Application/JSON", APIGW_OUT_JSON },
        { "APPLICATION/Xml", APIGW_OUT_XML },
        /* the negotitate_json spec's */
        { "application/json; charset=utf-8", APIGW_OUT_JSON },
        /* not offered (as KrakenD): json */
        { "text/xml", APIGW_OUT_JSON },
        { "application/yaml", APIGW_OUT_JSON },
        { "text/yaml", APIGW_OUT_JSON },
        { "text/x-yaml", APIGW_OUT_JSON },
        { "image/png", APIGW_OUT_JSON },
        { "text/html", APIGW_OUT_JSON },
        { "application/x-yam", APIGW_OUT_JSON },
        /* client order breaks ties of equal q, then the offered order */
        { "application/xml, application/json", APIGW_OUT_XML },
        { "application/json, application/xml", APIGW_OUT_JSON },
        { "text/plain,application/xml", APIGW_OUT_YAML },
        { "application/x-yaml, application/json", APIGW_OUT_YAML },
        { "text/xml, application/yaml, application/xml", APIGW_OUT_XML },
        /* q-values */
        { "application/xml;q=0.5, application/json;q=0.9", APIGW_OUT_JSON },
        { "application/json;q=0.5, application/xml", APIGW_OUT_XML },
        { "application/json;q=0.1,application/x-yaml;q=0.2,"
          "application/xml;q=0.15", APIGW_OUT_YAML },
        { "application/xml;q=1.0,application/json;q=0.999", APIGW_OUT_XML },
        { "application/json;q=0.001,application/xml;q=0.002", APIGW_OUT_XML },
        { "application/json ; q=0.3 , text/plain ; q=0.4", APIGW_OUT_YAML },
        { "application/json;Q=0.1, application/xml", APIGW_OUT_XML },
        /* q=0 refuses */
        { "application/json;q=0, application/xml;q=0.1", APIGW_OUT_XML },
        { "*/*;q=0.5, application/json;q=0", APIGW_OUT_YAML },
        { "*/*;q=0.5, application/json;q=0, text/plain;q=0", APIGW_OUT_XML },
        { "application/json;q=0", APIGW_OUT_JSON },
        { "*/*;q=0", APIGW_OUT_JSON },
        /* the most specific range decides an offer's q */
        { "*/*;q=0.1, text/*;q=0.5, text/plain;q=0.9", APIGW_OUT_YAML },
        { "text/*;q=0.5, */*;q=0.9", APIGW_OUT_JSON },
        { "text/*", APIGW_OUT_YAML },
        { "text/*, text/plain;q=0", APIGW_OUT_JSON },
        { "application/*", APIGW_OUT_JSON },
        { "application/*, application/json;q=0.1", APIGW_OUT_XML },
        { "application/*;q=0.5, text/*;q=0.6", APIGW_OUT_YAML },
        /* browsers */
        { "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,"
          "image/webp,*/*;q=0.8", APIGW_OUT_XML },
        { "text/html, application/xhtml+xml, */*", APIGW_OUT_JSON },
        /* other parameters are ignored; quoted commas do not split */
        { "application/xml;charset=utf-8", APIGW_OUT_XML },
        { "application/xml;p=\"a,b;q=0\";q=0.4, application/json;q=0.3",
          APIGW_OUT_XML },
        { "text/plain; format=flowed; q=0.8, application/json; q=0.7",
          APIGW_OUT_YAML },
        /* malformed ranges or q-values are skipped */
        { "application/xml;q=2, text/plain;q=0.5", APIGW_OUT_YAML },
        { "application/xml;q=1.5, application/json;q=0.1", APIGW_OUT_JSON },
        { "application/xml;q=abc, text/plain;q=0.2", APIGW_OUT_YAML },
        { "application/xml;q=0.1234, text/plain;q=0.2", APIGW_OUT_YAML },
        { "application/xml;q=, text/plain;q=0.2", APIGW_OUT_YAML },
        { "application/xml;q=.5, text/plain;q=0.2", APIGW_OUT_YAML },
        { "application/xml;q=1.001, text/plain;q=0.2", APIGW_OUT_YAML },
        { "*/xml, text/plain;q=0.2", APIGW_OUT_YAML },
        { "application, text/plain;q=0.2", APIGW_OUT_YAML },
        { "/xml, text/plain;q=0.2", APIGW_OUT_YAML },
        { "application/, text/plain;q=0.2", APIGW_OUT_YAML },
        { "application/xml garbage, text/plain;q=0.2", APIGW_OUT_YAML },
        { "application/xml;p=\"unterminated, text/plain", APIGW_OUT_JSON },
        { ",,, ,application/xml,,", APIGW_OUT_XML },
        { "application/xml;", APIGW_OUT_XML },
        { "application/xml;;q=0.5, application/json;q=0.4", APIGW_OUT_XML },
        { "application/xml\t;\tq=0.5,\tapplication/json;q=0.4",
          APIGW_OUT_XML },
        { "application/xml-dtd", APIGW_OUT_JSON },
        { "application/jsonx, text/plainx", APIGW_OUT_JSON },
    };
    apr_size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        apigw_output_encoding got = apigw_negotiate(cases[i].accept);

        if (got != cases[i].want) {
            fail_msg("Accept: %s -> %s, want %s",
                     cases[i].accept ? cases[i].accept : "(null)",
                     apigw_output_encoding_name(got),
                     apigw_output_encoding_name(cases[i].want));
        }
    }
}

/* ---- reals ---- */

static void expect_real(double d, const char *want)
{
    char buf[APIGW_REAL_BUFSIZE];
    apr_size_t n = apigw_format_real(d, buf, sizeof(buf));

    assert_string_equal(buf, want);
    assert_int_equal(n, strlen(want));
}

static void test_reals(void **state)
{
    char small[8] = "x";
    double zero = 0.0;

    (void)state;
    expect_real(0.1, "0.1");
    expect_real(1.0, "1.0");
    expect_real(-2.5, "-2.5");
    expect_real(0.0, "0.0");
    expect_real(-0.0, "-0.0");
    expect_real(100.0, "100.0");
    expect_real(1e23, "1e+23");
    expect_real(1e300, "1e+300");
    expect_real(1.5e-7, "1.5e-07");
    expect_real(5e-324, "4.94065645841247e-324");
    expect_real(0.1 + 0.2, "0.30000000000000004");
    expect_real(1.7976931348623157e308, "1.7976931348623157e+308");
    expect_real(123456789012345678.0, "1.2345678901234568e+17");
    expect_real(3.14159, "3.14159");
    expect_real(1.0 / 3.0, "0.3333333333333333");
    expect_real(zero / zero, "null");
    expect_real(1.0 / zero, "null");
    expect_real(-1.0 / zero, "null");
    /* too small a buffer: nothing written */
    assert_int_equal(apigw_format_real(1.0, small, sizeof(small)), 0);
    assert_string_equal(small, "");
}

/* ---- JSON ---- */

static void test_json(void **state)
{
    apr_size_t len;
    const char *body;

    (void)state;
    expect_enc("{}", APIGW_OUT_JSON, "{}");
    expect_enc("[]", APIGW_OUT_JSON, "[]");
    expect_enc("{\"b\":1,\"a\":[true,false,null,1.5,2.0,-3],\"c\":{}}",
               APIGW_OUT_JSON,
               "{\"a\":[true,false,null,1.5,2.0,-3],\"b\":1,\"c\":{}}");
    /* escaping */
    expect_enc("{\"q\\\"k\":\"a\\\"b\\\\c/d\"}", APIGW_OUT_JSON,
               "{\"q\\\"k\":\"a\\\"b\\\\c/d\"}");
    expect_enc("[\"\\b\\f\\n\\r\\t\\u0001\\u001f\\u007f\"]", APIGW_OUT_JSON,
               "[\"\\b\\f\\n\\r\\t\\u0001\\u001f\x7f\"]");
    expect_enc("[\"<script>&amp;</script>\"]", APIGW_OUT_JSON,
               "[\"\\u003cscript\\u003e\\u0026amp;\\u003c/script\\u003e\"]");
    expect_enc("[\"\\u2028\\u2029\"]", APIGW_OUT_JSON,
               "[\"\\u2028\\u2029\"]");
    expect_enc("[\"caf\xc3\xa9 \xf0\x9f\x98\x80\"]", APIGW_OUT_JSON,
               "[\"caf\xc3\xa9 \xf0\x9f\x98\x80\"]");
    /* NUL in a string */
    body = enc_len("[\"a\\u0000b\"]", APIGW_OUT_JSON, &len);
    assert_string_equal(body, "[\"a\\u0000b\"]");
    assert_int_equal(len, 12);
    /* large integers and reals */
    expect_enc("[9223372036854775807,-9223372036854775808,0.1,1e300]",
               APIGW_OUT_JSON,
               "[9223372036854775807,-9223372036854775808,0.1,1e+300]");
    /* negotiate and no-op write JSON */
    expect_enc("{\"a\":1}", APIGW_OUT_NEGOTIATE, "{\"a\":1}");
    expect_enc("{\"a\":1}", APIGW_OUT_NOOP, "{\"a\":1}");
    /* scalars at the top */
    expect_enc("\"s\"", APIGW_OUT_JSON, "\"s\"");
    expect_enc("null", APIGW_OUT_JSON, "null");
}

static void test_json_round_trip(void **state)
{
    static const char *const docs[] = {
        "{\"a\":[1,2.5,\"x\\u0000y\",{\"b\":null}],\"c\":true,\"\":\"\"}",
        "{\"r\":[0.1,1e-300,1.7976931348623157e308,-0.0,4.9e-324]}",
        "{\"u\":\"\\ud83d\\ude00\\u00e9\\u2028<>&'\\\"\\\\\"}",
    };
    int i;

    (void)state;
    for (i = 0; i < 3; i++) {
        json_t *v = J(docs[i]), *back;
        apr_size_t len;
        const char *ct, *body = apigw_encode(pool, v, APIGW_OUT_JSON, &len,
                                             &ct);
        json_error_t e;

        back = json_loadb(body, len, JSON_ALLOW_NUL, &e);
        assert_non_null(back);
        assert_true(json_equal(v, back));
        json_decref(v);
        json_decref(back);
    }
}

static void test_json_invalid_utf8(void **state)
{
    /* strings jansson was told not to check still come out valid */
    json_t *v = json_array();
    apr_size_t len;
    const char *ct, *body;

    (void)state;
    json_array_append_new(v, json_stringn_nocheck("a\xff\xc3(\xed\xa0\x80z",
                                                  8));
    body = apigw_encode(pool, v, APIGW_OUT_JSON, &len, &ct);
    assert_string_equal(body, "[\"a\\ufffd\\ufffd(\\ufffd\\ufffd\\ufffdz\"]");
    json_decref(v);
}

static void test_json_collection(void **state)
{
    (void)state;
    expect_enc("{\"collection\":[1,{\"a\":2}]}", APIGW_OUT_JSON_COLLECTION,
               "[1,{\"a\":2}]");
    expect_enc("{\"collection\":[]}", APIGW_OUT_JSON_COLLECTION, "[]");
    /* no "collection": [] (as KrakenD) */
    expect_enc("{\"items\":[1]}", APIGW_OUT_JSON_COLLECTION, "[]");
    expect_enc("[1,2]", APIGW_OUT_JSON_COLLECTION, "[]");
    /* whatever "collection" holds is written */
    expect_enc("{\"collection\":{\"a\":1}}", APIGW_OUT_JSON_COLLECTION,
               "{\"a\":1}");
    expect_enc("{\"collection\":\"<x>\"}", APIGW_OUT_JSON_COLLECTION,
               "\"\\u003cx\\u003e\"");
}

/* ---- key order ---- */

/* Every object's keys in byte order, as Go writes a map (KrakenD), at
 * every depth, whatever order the merge left them in. */
static void test_key_order(void **state)
{
    (void)state;
    /* bytewise: "" first, punctuation, digits, upper before lower case,
     * a prefix before its extensions, UTF-8 after ASCII */
    expect_enc("{\"b\":1,\"B\":2,\"a0\":3,\"a\":4,\"ab\":5,\"\":6,"
               "\"\xc3\xa9\":7,\"z\":8,\"_\":9,\"-\":10,\"1\":11}",
               APIGW_OUT_JSON,
               "{\"\":6,\"-\":10,\"1\":11,\"B\":2,\"_\":9,\"a\":4,\"a0\":3,"
               "\"ab\":5,\"b\":1,\"z\":8,\"\xc3\xa9\":7}");
    /* at every depth, inside arrays too */
    expect_enc("{\"z\":{\"y\":[{\"b\":1,\"a\":2}],\"x\":{\"d\":{\"f\":1,"
               "\"e\":2}}},\"a\":null}", APIGW_OUT_JSON,
               "{\"a\":null,\"z\":{\"x\":{\"d\":{\"e\":2,\"f\":1}},"
               "\"y\":[{\"a\":2,\"b\":1}]}}");
    /* the collection spec: {"posts":[...],"foo":42} merged */
    expect_enc("{\"posts\":[{\"path\":\"/c\",\"i\":0}],\"foo\":42}",
               APIGW_OUT_JSON,
               "{\"foo\":42,\"posts\":[{\"i\":0,\"path\":\"/c\"}]}");
    expect_enc("{\"collection\":[{\"b\":1,\"a\":2}],\"x\":1}",
               APIGW_OUT_JSON_COLLECTION, "[{\"a\":2,\"b\":1}]");
    /* one key, already in order */
    expect_enc("{\"k\":{\"a\":1,\"b\":2,\"c\":3}}", APIGW_OUT_JSON,
               "{\"k\":{\"a\":1,\"b\":2,\"c\":3}}");
    /* XML and YAML alike */
    expect_enc("{\"b\":1,\"a\":{\"-z\":\"1\",\"-y\":\"2\",\"d\":1,\"c\":2}}",
               APIGW_OUT_XML,
               "<doc><a y=\"2\" z=\"1\"><c>2</c><d>1</d></a><b>1</b></doc>");
    expect_enc("{\"b\":1,\"a\":{\"d\":1,\"c\":2}}", APIGW_OUT_YAML,
               "a:\n  c: 2\n  d: 1\nb: 1\n");
}

/* Objects sorted while outer ones are open: the member slots grow (from
 * 32) in the middle of a walk, and the document is left as it was. */
static void test_key_order_nested_growth(void **state)
{
    json_t *doc = json_object();
    char *want = "{", key[8];
    const char *got, *ct;
    void *it;
    apr_size_t len;
    int i, j, e;

    (void)state;
    for (i = 39; i >= 0; i--) {
        json_t *inner = json_object();

        for (j = 39; j >= 0; j--) {
            snprintf(key, sizeof(key), "j%02d", j);
            json_object_set_new(inner, key, json_integer(j));
        }
        snprintf(key, sizeof(key), "k%02d", i);
        json_object_set_new(doc, key, inner);
    }
    for (i = 0; i < 40; i++) {
        want = apr_psprintf(pool, "%s%s\"k%02d\":{", want, i ? "," : "", i);
        for (j = 0; j < 40; j++) {
            want = apr_psprintf(pool, "%s%s\"j%02d\":%d", want, j ? "," : "",
                                j, j);
        }
        want = apr_pstrcat(pool, want, "}", NULL);
    }
    want = apr_pstrcat(pool, want, "}", NULL);
    got = apigw_encode(pool, doc, APIGW_OUT_JSON, &len, &ct);
    assert_non_null(got);
    assert_string_equal(got, want);
    for (e = APIGW_OUT_XML; e <= APIGW_OUT_YAML; e++) {
        got = apigw_encode(pool, doc, (apigw_output_encoding)e, &len, &ct);
        assert_non_null(got);
        assert_true(strstr(got, "k00") < strstr(got, "k39"));
    }
    it = json_object_iter(doc);
    assert_string_equal(json_object_iter_key(it), "k39");
    json_decref(doc);
}

/* ---- string ---- */

static void test_string(void **state)
{
    apr_size_t len;
    const char *body;

    (void)state;
    expect_enc("{\"content\":\"hello <b>\\n\"}", APIGW_OUT_STRING,
               "hello <b>\n");
    expect_enc("{\"content\":42}", APIGW_OUT_STRING, "");
    expect_enc("{\"other\":\"x\"}", APIGW_OUT_STRING, "");
    expect_enc("[\"content\"]", APIGW_OUT_STRING, "");
    expect_enc("{\"content\":\"\"}", APIGW_OUT_STRING, "");
    body = enc_len("{\"content\":\"a\\u0000b\"}", APIGW_OUT_STRING, &len);
    assert_int_equal(len, 3);
    assert_memory_equal(body, "a\0b", 3);
}

/* ---- XML ---- */

static void test_xml_root(void **state)
{
    (void)state;
    /* one key: it is the root (as mxj) */
    expect_enc("{\"user\":{\"name\":\"n\"}}", APIGW_OUT_XML,
               "<user><name>n</name></user>");
    expect_enc("{\"v\":\"x\"}", APIGW_OUT_XML, "<v>x</v>");
    expect_enc("{\"v\":null}", APIGW_OUT_XML, "<v/>");
    /* several keys, an array, an attribute or text: <doc> */
    expect_enc("{\"a\":1,\"b\":2}", APIGW_OUT_XML,
               "<doc><a>1</a><b>2</b></doc>");
    expect_enc("{\"a\":[1,2]}", APIGW_OUT_XML,
               "<doc><a>1</a><a>2</a></doc>");
    expect_enc("{\"-id\":\"7\"}", APIGW_OUT_XML,
               "<doc id=\"7\"/>");
    expect_enc("{\"#text\":\"t\"}", APIGW_OUT_XML,
               "<doc>t</doc>");
    expect_enc("{}", APIGW_OUT_XML, "<doc/>");
    expect_enc("[1,\"x\",[2]]", APIGW_OUT_XML,
               "<doc><item>1</item><item>x</item><item><item>2"
               "</item></item></doc>");
    expect_enc("\"s\"", APIGW_OUT_XML, "<doc>s</doc>");
    expect_enc("[]", APIGW_OUT_XML, "<doc/>");
    /* the KrakenD renderer's test document */
    expect_enc("{\"a\":{\"content\":\"supu & tupu\"},\"content\":\"tupu\","
               "\"foo\":42}", APIGW_OUT_XML,
               "<doc><a><content>supu &amp; tupu</content></a>"
               "<content>tupu</content><foo>42</foo></doc>");
}

static void test_xml_values(void **state)
{
    (void)state;
    expect_enc("{\"a\":{\"t\":true,\"f\":false,\"n\":null,\"e\":\"\","
               "\"i\":-3,\"r\":2.0,\"o\":{},\"l\":[],\"ll\":[[1,2],[]]}}",
               APIGW_OUT_XML,
               "<a><e/><f>false</f><i>-3</i><ll><item>1</item><item>2</item>"
               "</ll><ll/><n/><o/><r>2.0</r><t>true</t></a>");
    /* attributes and text (the decoder's shape) */
    expect_enc("{\"p\":{\"-id\":\"1\",\"-n\":2,\"#text\":\"hi\",\"c\":\"x\"}}",
               APIGW_OUT_XML,
               "<p id=\"1\" n=\"2\">hi<c>x</c></p>");
    expect_enc("{\"p\":{\"-id\":\"1\",\"#text\":\"\"}}", APIGW_OUT_XML,
               "<p id=\"1\"/>");
    /* not attributes: "-" alone, a non-scalar, null */
    expect_enc("{\"p\":{\"-\":\"a\",\"-o\":{\"k\":1},\"-n\":null}}",
               APIGW_OUT_XML,
               "<p><_->a</_-><_-n/><_-o><k>1</k></_-o></p>");
    /* a "#text" that is not a scalar is a child */
    expect_enc("{\"p\":{\"#text\":[\"a\"]}}", APIGW_OUT_XML,
               "<p><_text>a</_text></p>");
}

static void test_xml_names(void **state)
{
    (void)state;
    expect_enc("{\"a\":{\"1st\":1,\"my key\":2,\"ns:k\":3,\"\":4,\"-x-\":5,"
                "\".dot\":6,\"ok_.-9\":7,\"<&>\":8}}", APIGW_OUT_XML,
               "<a x-=\"5\"><_>4</_><_.dot>6</_.dot><_1st>1</_1st><___>8</___>"
               "<my_key>2</my_key><ns_k>3</ns_k><ok_.-9>7</ok_.-9></a>");
    /* letters outside ASCII are kept where both XML editions agree */
    expect_enc("{\"r\":{\"n\xc3\xa9\":1,\"\xe5\x90\x8d\":2,\"\xd0\xb8\xd0\xbc"
               "\":3,\"\xf0\x9f\x98\x80\":4,\"a\xc2\xb7" "b\":5}}",
               APIGW_OUT_XML,
               "<r><a_b>5</a_b><n\xc3\xa9>1</n\xc3\xa9><\xd0\xb8\xd0\xbc>3"
               "</\xd0\xb8\xd0\xbc><\xe5\x90\x8d>2</\xe5\x90\x8d><_>4</_>"
               "</r>");
    /* xmlns attributes and duplicates after sanitising become children */
    expect_enc("{\"r\":{\"-xmlns\":\"u\",\"-XMLNS:x\":\"v\",\"-a:b\":\"1\","
               "\"-a_b\":\"2\",\"-c\":\"3\"}}", APIGW_OUT_XML,
               "<r a_b=\"1\" c=\"3\"><_-XMLNS_x>v</_-XMLNS_x><_-a_b>2</_-a_b>"
               "<_-xmlns>u</_-xmlns></r>");
}

static void test_xml_escaping(void **state)
{
    (void)state;
    expect_enc("{\"t\":\"<a href=\\\"x\\\">&amp;</a>]]>\"}", APIGW_OUT_XML,
               "<t>&lt;a href=\"x\"&gt;&amp;amp;&lt;/a&gt;]]&gt;</t>");
    expect_enc("{\"t\":{\"-a\":\"q\\\"<&>\\t\\n\\r'\"}}", APIGW_OUT_XML,
               "<t a=\"q&quot;&lt;&amp;&gt;&#9;&#10;&#13;'\"/>");
    expect_enc("{\"t\":\"l1\\nl2\\r\\n\\tx\"}", APIGW_OUT_XML,
               "<t>l1\nl2&#13;\n\tx</t>");
    /* characters XML cannot carry become U+FFFD */
    expect_enc("{\"t\":\"a\\u0000b\\u0001c\\u001fd\\uffff\\ufffee\"}",
               APIGW_OUT_XML,
               "<t>a\xef\xbf\xbd" "b\xef\xbf\xbd" "c\xef\xbf\xbd"
               "d\xef\xbf\xbd\xef\xbf\xbd" "e</t>");
    expect_enc("{\"t\":\"\xc2\x85\xe2\x80\xa8\xf0\x9f\x98\x80\"}",
               APIGW_OUT_XML,
               "<t>\xc2\x85\xe2\x80\xa8\xf0\x9f\x98\x80</t>");
}

static void test_xml_well_formed(void **state)
{
    static const char *const docs[] = {
        "{\"a\":{\"-x\":\"<\\\"&'>\",\"#text\":\"]]>\\u0000\\r\",\"b\":[{},"
        "[],[[]],null,\"\"]}}",
        "{\"1\":1,\"-\":2,\"#text\":3,\"\":4,\"-xmlns\":5,\"xml\":6}",
        "{\"\\u00e9\\u00b7\":{\"\\u0300x\":1,\"x\\u0300\":2,\"\\u2070\":3}}",
        "[[[[]]],{\"-a\":\"1\",\"-a\":\"2\"}]",
        "{\"a\":{\"-A\":\"1\",\"-a\":\"2\",\"-a:\":\"3\",\"-a_\":\"4\"}}",
    };
    int i;

    (void)state;
    for (i = 0; i < 5; i++) {
        expect_well_formed(enc(docs[i], APIGW_OUT_XML));
    }
}

static void test_xml_round_trip(void **state)
{
    (void)state;
    /* XML from a backend reads back the same after encoding */
    expect_xml_round_trip("{\"Person\":{\"-id\":\"1\",\"FullName\":\"A & B\","
                          "\"Email\":[{\"-where\":\"home\",\"Addr\":\"a@x\"},"
                          "{\"-where\":\"work\",\"Addr\":\"b@x\"}],"
                          "\"Empty\":\"\",\"T\":{\"-k\":\"v\",\"#text\":"
                          "\"text\"}}}",
                          "{\"Person\":{\"-id\":\"1\",\"FullName\":\"A & B\","
                          "\"Email\":[{\"-where\":\"home\",\"Addr\":\"a@x\"},"
                          "{\"-where\":\"work\",\"Addr\":\"b@x\"}],"
                          "\"Empty\":\"\",\"T\":{\"-k\":\"v\",\"#text\":"
                          "\"text\"}}}");
    /* numbers come back as strings (XML has no types) */
    expect_xml_round_trip("{\"a\":1,\"b\":[true,2.5]}",
                          "{\"doc\":{\"a\":\"1\",\"b\":[\"true\",\"2.5\"]}}");
}

/* ---- YAML ---- */

static void test_yaml(void **state)
{
    (void)state;
    expect_enc("{}", APIGW_OUT_YAML, "{}\n");
    expect_enc("[]", APIGW_OUT_YAML, "[]\n");
    expect_enc("\"s\"", APIGW_OUT_YAML, "s\n");
    expect_enc("null", APIGW_OUT_YAML, "null\n");
    expect_enc("{\"a\":1,\"b\":\"x\",\"c\":true,\"d\":null,\"e\":2.5,"
               "\"f\":{},\"g\":[],\"h\":-0.0}", APIGW_OUT_YAML,
               "a: 1\nb: x\nc: true\nd: null\ne: 2.5\nf: {}\ng: []\n"
               "h: -0.0\n");
    expect_enc("{\"u\":{\"name\":\"Ann\",\"addr\":{\"city\":\"X\"}},"
               "\"l\":[1,[2,3],{\"k\":1,\"j\":[4]},[],{}]}", APIGW_OUT_YAML,
               "l:\n"
               "  - 1\n"
               "  - - 2\n"
               "    - 3\n"
               "  - j:\n"
               "      - 4\n"
               "    k: 1\n"
               "  - []\n"
               "  - {}\n"
               "u:\n"
               "  addr:\n"
               "    city: X\n"
               "  name: Ann\n");
    expect_enc("[[[1]],{\"a\":{\"b\":1}}]", APIGW_OUT_YAML,
               "- - - 1\n"
               "- a:\n"
               "    b: 1\n");
    /* reals always read as floats, YAML 1.1 included */
    expect_enc("[1e300,1.5e-7,2.0,0.1]", APIGW_OUT_YAML,
               "- 1.0e+300\n- 1.5e-07\n- 2.0\n- 0.1\n");
}

static void test_yaml_quoting(void **state)
{
    static const struct {
        const char *json;
        const char *yaml;
    } cases[] = {
        { "\"plain text\"", "plain text" },
        { "\"a_b-c.d/e@f\"", "a_b-c.d/e@f" },
        { "\"_x\"", "_x" },
        { "\"\"", "\"\"" },
        { "\"123\"", "\"123\"" },
        { "\"1.5\"", "\"1.5\"" },
        { "\"-1\"", "\"-1\"" },
        { "\"0x1F\"", "\"0x1F\"" },
        { "\".inf\"", "\".inf\"" },
        { "\"true\"", "\"true\"" },
        { "\"False\"", "\"False\"" },
        { "\"yes\"", "\"yes\"" },
        { "\"NO\"", "\"NO\"" },
        { "\"on\"", "\"on\"" },
        { "\"Off\"", "\"Off\"" },
        { "\"y\"", "\"y\"" },
        { "\"n\"", "\"n\"" },
        { "\"null\"", "\"null\"" },
        { "\"Null\"", "\"Null\"" },
        { "\"~\"", "\"~\"" },
        { "\"yes please\"", "yes please" },
        { "\" lead\"", "\" lead\"" },
        { "\"trail \"", "\"trail \"" },
        { "\"a: b\"", "\"a: b\"" },
        { "\"a #b\"", "\"a #b\"" },
        { "\"-x\"", "-x" },
        { "\"-type\"", "-type" },
        { "\"-_x\"", "-_x" },
        { "\"-\"", "\"-\"" },
        { "\"--x\"", "\"--x\"" },
        { "\"-.5\"", "\"-.5\"" },
        { "\"- x\"", "\"- x\"" },
        { "\"https://facebook.com\"", "https://facebook.com" },
        { "\"http://h:8080/p?q=1&r=a%20b+c~d!e$(f)*g;h\"",
          "http://h:8080/p?q=1&r=a%20b+c~d!e$(f)*g;h" },
        { "\"it's <ok> ^|`\"", "it's <ok> ^|`" },
        { "\"a:\"", "\"a:\"" },
        { "\"a::b\"", "a::b" },
        { "\"a#b\"", "\"a#b\"" },
        { "\"a\\\"b\"", "\"a\\\"b\"" },
        { "\"a[0]\"", "\"a[0]\"" },
        { "\"a{b}\"", "\"a{b}\"" },
        { "\"a\\tb\"", "\"a\\tb\"" },
        { "\"\\u00e9t\\u00e9\"", "\xc3\xa9t\xc3\xa9" },
        { "\"a\\u0085\"", "\"a\\x85\"" },
        { "\"a\\u2028\"", "\"a\\u2028\"" },
        { "\"*ref\"", "\"*ref\"" },
        { "\"&anchor\"", "\"&anchor\"" },
        { "\"!tag\"", "\"!tag\"" },
        { "\"{x}\"", "\"{x}\"" },
        { "\"[x]\"", "\"[x]\"" },
        { "\"a,b\"", "\"a,b\"" },
        { "\"'q'\"", "\"'q'\"" },
        { "\"%x\"", "\"%x\"" },
        { "\"@x\"", "\"@x\"" },
        { "\"`x`\"", "\"`x`\"" },
        { "\"|\"", "\"|\"" },
        { "\">\"", "\">\"" },
        { "\"2024-01-01\"", "\"2024-01-01\"" },
        { "\"12:30\"", "\"12:30\"" },
        { "\"caf\\u00e9\"", "caf\xc3\xa9" },
        { "\"q\\\"b\\\\s\"", "\"q\\\"b\\\\s\"" },
        { "\"l1\\nl2\\r\\t\"", "\"l1\\nl2\\r\\t\"" },
        { "\"a\\u0000b\\u0001\\u001b\\u007f\"", "\"a\\0b\\x01\\x1b\\x7f\"" },
        { "\"\\u0085\\u009f\\u00a0\"", "\"\\x85\\x9f\xc2\xa0\"" },
        { "\"\\u2028\\u2029\\ufeff\\ufffe\\uffff\"",
          "\"\\u2028\\u2029\\ufeff\\ufffe\\uffff\"" },
        { "\"\\ud83d\\ude00\"", "\xf0\x9f\x98\x80" },
    };
    apr_size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *got = enc(cases[i].json, APIGW_OUT_YAML);
        char *want = apr_pstrcat(pool, cases[i].yaml, "\n", NULL);

        if (strcmp(got, want) != 0) {
            fail_msg("%s -> [%s], want [%s]", cases[i].json, got, want);
        }
    }
    /* keys are quoted by the same rule (and sorted) */
    expect_enc("{\"true\":1,\"a b\":2,\"\":3,\"1\":4,\"x:y\":5,"
               "\"x: y\":6}", APIGW_OUT_YAML,
               "\"\": 3\n\"1\": 4\na b: 2\n\"true\": 1\n\"x: y\": 6\n"
               "x:y: 5\n");
    /* the negotitate_plain spec's document, byte for byte */
    expect_enc("{\"user\":{\"-type\":\"admin\",\"name\":\"Elliot\",\"social\":"
               "{\"facebook\":\"https://facebook.com\",\"twitter\":"
               "\"https://twitter.com\",\"youtube\":\"https://youtube.com\"}}}",
               APIGW_OUT_YAML,
               "user:\n  -type: admin\n  name: Elliot\n  social:\n"
               "    facebook: https://facebook.com\n"
               "    twitter: https://twitter.com\n"
               "    youtube: https://youtube.com\n");
}

/* A key written longer than 1024 bytes is an explicit key: YAML refuses
 * an implicit one whose ':' comes more than 1024 characters after its
 * start (fuzz_encode, regress-yaml-long-key). */
static void test_yaml_long_key(void **state)
{
    char *k1024 = apr_palloc(pool, 1201), *k1100, *doc, *want;

    (void)state;
    memset(k1024, 'k', 1200);
    k1024[1024] = '\0';
    k1100 = apr_pstrndup(pool, memset(apr_palloc(pool, 1100), 'k', 1100),
                         1100);
    /* 1024 bytes: still implicit */
    doc = apr_psprintf(pool, "{\"%s\":1}", k1024);
    expect_enc(doc, APIGW_OUT_YAML, apr_psprintf(pool, "%s: 1\n", k1024));
    /* 1025 bytes, and 1023 characters that quoting makes 1025 bytes */
    doc = apr_psprintf(pool, "{\"%sk\":1,\"z\":2}", k1024);
    expect_enc(doc, APIGW_OUT_YAML,
               apr_psprintf(pool, "? %sk\n: 1\nz: 2\n", k1024));
    k1024[1023] = ' ';
    k1024[1022] = ' ';
    doc = apr_psprintf(pool, "{\"%s\":1}", k1024 + 1);
    expect_enc(doc, APIGW_OUT_YAML,
               apr_psprintf(pool, "? \"%s\"\n: 1\n", k1024 + 1));
    /* nested values, and the first key of a mapping inside a sequence */
    doc = apr_psprintf(pool, "{\"a\":{\"%s\":{\"b\":[1]}}}", k1100);
    want = apr_psprintf(pool, "a:\n  ? %s\n  :\n    b:\n      - 1\n", k1100);
    expect_enc(doc, APIGW_OUT_YAML, want);
    doc = apr_psprintf(pool, "[{\"%s\":[1,2],\"%s\":null}]", k1100, "z");
    want = apr_psprintf(pool, "- ? %s\n  :\n    - 1\n    - 2\n  z: null\n",
                        k1100);
    expect_enc(doc, APIGW_OUT_YAML, want);
}

/* ---- limits ---- */

static void test_depth_limit(void **state)
{
    json_t *root = json_array(), *cur = root;
    apr_size_t len = 7;
    const char *ct = "unchanged";
    int i, e;

    (void)state;
    for (i = 1; i < APIGW_ENCODE_MAX_DEPTH; i++) {
        json_t *next = json_array();

        json_array_append_new(cur, next);
        cur = next;
    }
    /* exactly the limit: fine in every encoding */
    for (e = APIGW_OUT_JSON; e <= APIGW_OUT_YAML; e++) {
        json_t *doc = e == APIGW_OUT_JSON_COLLECTION ? json_pack("{sO}",
                                                                 "collection",
                                                                 root)
                                                     : json_incref(root);
        const char *body = apigw_encode(pool, doc, (apigw_output_encoding)e,
                                        &len, &ct);

        json_decref(doc);
        if (e == APIGW_OUT_JSON_COLLECTION) {
            continue;
        }
        assert_non_null(body);
    }
    /* one more: NULL, *len and *content_type untouched */
    json_array_append_new(cur, json_array());
    for (e = APIGW_OUT_JSON; e <= APIGW_OUT_YAML; e++) {
        json_t *doc = e == APIGW_OUT_JSON_COLLECTION ? json_pack("{sO}",
                                                                 "collection",
                                                                 root)
                                                     : json_incref(root);

        len = 7;
        ct = "unchanged";
        assert_null(apigw_encode(pool, doc, (apigw_output_encoding)e, &len,
                                 &ct));
        assert_int_equal(len, 7);
        assert_string_equal(ct, "unchanged");
        json_decref(doc);
    }
    json_decref(root);
    assert_null(apigw_encode(pool, NULL, APIGW_OUT_JSON, &len, &ct));
}

/* A document n levels of {"a": ...} deep around leaf (NULL: an object
 * with one attribute and text), or of {"a": [...]} when arrays. */
static json_t *nested(int n, int arrays, json_t *leaf)
{
    json_t *v = leaf ? leaf : json_pack("{s:s,s:s}", "-id", "1", "#text",
                                        "t");
    int i;

    for (i = 0; i < n; i++) {
        v = arrays && i % 2 ? json_pack("[o]", v) : json_pack("{s:o}", "a", v);
    }
    return v;
}

/* XML gives up on exactly the documents JSON and YAML give up on: depth
 * is the JSON nesting, arrays under keys (which add no element), the
 * root key, attributes and text included (fuzz_encode,
 * regress-xml-depth). */
static void test_xml_depth_as_json(void **state)
{
    static const struct {
        int levels, arrays, with_leaf;
    } shapes[] = {
        { APIGW_ENCODE_MAX_DEPTH - 1, 0, 1 },   /* 512 deep with the 1 */
        { APIGW_ENCODE_MAX_DEPTH, 0, 1 },       /* 513 */
        { APIGW_ENCODE_MAX_DEPTH - 1, 1, 1 },
        { APIGW_ENCODE_MAX_DEPTH, 1, 1 },
        { APIGW_ENCODE_MAX_DEPTH - 2, 0, 0 },   /* 512: "-id" at the limit */
        { APIGW_ENCODE_MAX_DEPTH - 1, 0, 0 },   /* 513 */
    };
    apr_size_t i, len;
    const char *ct;
    int e;

    (void)state;
    for (i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
        json_t *doc = nested(shapes[i].levels, shapes[i].arrays,
                             shapes[i].with_leaf ? json_integer(1) : NULL);
        int fits = (int)(i % 2 == 0);

        for (e = APIGW_OUT_JSON; e <= APIGW_OUT_YAML; e++) {
            const char *body;

            if (e == APIGW_OUT_JSON_COLLECTION) {
                continue;
            }
            body = apigw_encode(pool, doc, (apigw_output_encoding)e, &len,
                                &ct);
            if ((body != NULL) != fits) {
                fail_msg("shape %d as %s: %s", (int)i,
                         apigw_output_encoding_name((apigw_output_encoding)e),
                         body ? "written" : "NULL");
            }
        }
        json_decref(doc);
    }
}

static void test_large(void **state)
{
    json_t *doc = json_object();
    apr_size_t len;
    const char *ct, *body;
    int i, e;

    (void)state;
    for (i = 0; i < 10000; i++) {
        char key[16];

        snprintf(key, sizeof(key), "k%d", i);
        json_object_set_new(doc, key, json_pack("{s:i,s:[s,f]}", "-id", i,
                                                "v", "x<y>", 0.5));
    }
    for (e = APIGW_OUT_JSON; e <= APIGW_OUT_STRING; e++) {
        body = apigw_encode(pool, doc, (apigw_output_encoding)e, &len, &ct);
        assert_non_null(body);
        assert_int_equal(strlen(body), len);
    }
    body = apigw_encode(pool, doc, APIGW_OUT_XML, &len, &ct);
    expect_well_formed(body);
    json_decref(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_words),
        T(test_negotiate),
        T(test_reals),
        T(test_json),
        T(test_json_round_trip),
        T(test_json_invalid_utf8),
        T(test_json_collection),
        T(test_key_order),
        T(test_key_order_nested_growth),
        T(test_string),
        T(test_xml_root),
        T(test_xml_values),
        T(test_xml_names),
        T(test_xml_escaping),
        T(test_xml_well_formed),
        T(test_xml_round_trip),
        T(test_yaml),
        T(test_yaml_quoting),
        T(test_yaml_long_key),
        T(test_depth_limit),
        T(test_xml_depth_as_json),
        T(test_large),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
