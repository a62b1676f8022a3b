/* sources: mod_apigw/apigw_schema.c */
/* libs: -ljansson -lpcre2-8 */
/* Unit tests for mod_apigw/apigw_schema.c: compiling schemas (every
 * keyword's checks, what is refused and how it is named), validating
 * values (each keyword, the first error's pointer and words, numbers by
 * value, code points, patterns as ECMA-262 reads them, $refs), request
 * bodies (empty, not JSON, duplicate keys, large numbers, bounds), and
 * the bounds of a validation (steps, patterns). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#define UNIT_POOL
#include "unit_apr.h"

#include <apr_strings.h>
#include <apr_thread_proc.h>

#include "apigw_schema.h"

#define INVALID_PREFIX "the request body does not match the endpoint's schema: "

static apigw_schema *compiled(const char *text)
{
    apigw_schema *s = NULL;
    const char *err = apigw_schema_compile(pool, text, strlen(text), &s);

    if (err) {
        fail_msg("%s: refused: %s", text, err);
    }
    assert_non_null(s);
    return s;
}

/* The compile error of text (the test fails when it compiles). */
static const char *refused(const char *text)
{
    apigw_schema *s = NULL;
    const char *err = apigw_schema_compile(pool, text, strlen(text), &s);

    if (!err) {
        fail_msg("%s: compiled, an error was expected", text);
    }
    assert_null(s);
    return err;
}

static void refused_with(const char *text, const char *part)
{
    const char *err = refused(text);

    if (!strstr(err, part)) {
        fail_msg("%s: error \"%s\" lacks \"%s\"", text, err, part);
    }
}

static apigw_schema_verdict verdict(const char *schema, const char *body,
                                    const char **why)
{
    return apigw_schema_check_body(pool, compiled(schema), body,
                                   strlen(body), why);
}

static void valid(const char *schema, const char *body)
{
    const char *why = NULL;

    if (verdict(schema, body, &why) != APIGW_SCHEMA_VALID) {
        fail_msg("%s on %s: refused: %s", schema, body, why);
    }
    assert_null(why);
}

/* body breaks schema with exactly this message (after the prefix). */
static void invalid(const char *schema, const char *body, const char *msg)
{
    const char *why = NULL;
    apigw_schema_verdict v = verdict(schema, body, &why);

    if (v != APIGW_SCHEMA_INVALID) {
        fail_msg("%s on %s: verdict %d (%s), INVALID expected", schema, body,
                 (int)v, why ? why : "-");
    }
    assert_non_null(why);
    assert_memory_equal(why, INVALID_PREFIX, strlen(INVALID_PREFIX));
    if (msg && strcmp(why + strlen(INVALID_PREFIX), msg) != 0) {
        fail_msg("%s on %s:\n  got  %s\n  want %s", schema, body,
                 why + strlen(INVALID_PREFIX), msg);
    }
}

static void test_krakend_spec(void **state)
{
    (void)state;
    /* krakend-ce's jsonschema_1: {"foo":42} against {"type":"number"} */
    invalid("{\"type\":\"number\"}", "{\"foo\":42}",
            "(root): an object is not of type number");
    valid("{\"type\":\"number\"}", "42");
    invalid("{\"type\":\"object\",\"properties\":{\"foo\":{\"type\":"
            "\"string\"}}}", "{\"foo\":42}",
            "/foo: 42 is not of type string");
}

static void test_types(void **state)
{
    static const char *const names[] = {
        "null", "boolean", "object", "array", "number", "string", "integer"
    };
    static const char *const values[] = {
        "null", "true", "{}", "[]", "1.5", "\"s\"", "7"
    };
    int i, j;

    (void)state;
    for (i = 0; i < 7; i++) {
        for (j = 0; j < 7; j++) {
            const char *schema = apr_psprintf(pool, "{\"type\":\"%s\"}",
                                              names[i]);
            int ok = i == j || (i == 4 && j == 6);
            if (ok) {
                valid(schema, values[j]);
            }
            else {
                invalid(schema, values[j], NULL);
            }
        }
    }
    /* 1.0 is an integer; 1.5 is not */
    valid("{\"type\":\"integer\"}", "1.0");
    valid("{\"type\":\"integer\"}", "-0.0");
    invalid("{\"type\":\"integer\"}", "1.5",
            "(root): 1.5 is not of type integer");
    valid("{\"type\":[\"string\",\"null\"]}", "null");
    invalid("{\"type\":[\"integer\",\"string\",\"null\"]}", "true",
            "(root): true is not of type string, integer or null");
    invalid("{\"type\":\"string\"}", "[1,2]",
            "(root): an array of 2 items is not of type string");
}

static void test_enum_const(void **state)
{
    (void)state;
    valid("{\"enum\":[\"a\",1,null]}", "\"a\"");
    valid("{\"enum\":[\"a\",1,null]}", "1.0");
    valid("{\"enum\":[{\"a\":1,\"b\":[1,2]}]}", "{\"b\":[1,2.0],\"a\":1}");
    invalid("{\"enum\":[\"a\",1,null]}", "\"b\"",
            "(root): \"b\" is not one of the values allowed");
    invalid("{\"enum\":[]}", "1", NULL);
    valid("{\"const\":{\"x\":[true]}}", "{\"x\":[true]}");
    invalid("{\"const\":{\"x\":[true]}}", "{\"x\":[false]}",
            "(root): an object is not the one value allowed");
    invalid("{\"const\":1}", "true", NULL);
    valid("{\"const\":9007199254740993}", "9007199254740993");
    invalid("{\"const\":9007199254740993}", "9007199254740992", NULL);
}

static void test_numbers(void **state)
{
    (void)state;
    valid("{\"minimum\":0,\"maximum\":10}", "0");
    valid("{\"minimum\":0,\"maximum\":10}", "10.0");
    invalid("{\"minimum\":0}", "-1",
            "(root): -1 is less than the minimum of 0");
    invalid("{\"minimum\":0.5}", "0.25",
            "(root): 0.25 is less than the minimum of 0.5");
    invalid("{\"maximum\":10}", "10.5",
            "(root): 10.5 is greater than the maximum of 10");
    invalid("{\"exclusiveMinimum\":0}", "0",
            "(root): 0 is not greater than 0");
    valid("{\"exclusiveMinimum\":0}", "0.1");
    invalid("{\"exclusiveMaximum\":1.5}", "1.5",
            "(root): 1.5 is not less than 1.5");
    valid("{\"multipleOf\":3}", "9");
    invalid("{\"multipleOf\":3}", "10", "(root): 10 is not a multiple of 3");
    valid("{\"multipleOf\":0.1}", "0.3");
    valid("{\"multipleOf\":0.01}", "19.99");
    invalid("{\"multipleOf\":0.01}", "19.999", NULL);
    valid("{\"multipleOf\":0.5}", "4");
    /* numbers keywords say nothing of other types */
    valid("{\"minimum\":5}", "\"a\"");
    /* a whole number past 2^53 compared exactly with a real */
    invalid("{\"maximum\":9007199254740992.0}", "9007199254740993", NULL);
    valid("{\"maximum\":9007199254740992.0}", "9007199254740992");
    /* past 64 bits: read as a real, as Go reads it */
    valid("{\"type\":\"integer\",\"minimum\":1e19}", "123456789012345678901");
    refused_with("{\"multipleOf\":0}", "greater than 0");
    refused_with("{\"minimum\":\"1\"}", "must be a number");
    refused_with("{\"exclusiveMinimum\":true}", "draft-04");
}

static void test_strings(void **state)
{
    (void)state;
    valid("{\"minLength\":2,\"maxLength\":3}", "\"ab\"");
    invalid("{\"minLength\":2}", "\"a\"",
            "(root): \"a\" is shorter than 2 characters");
    invalid("{\"maxLength\":1}", "\"ab\"",
            "(root): \"ab\" is longer than 1 character");
    /* code points, not bytes: "héé" is 3, "😀" is 1 */
    valid("{\"maxLength\":3}", "\"h\\u00e9\xc3\xa9\"");
    valid("{\"maxLength\":1,\"minLength\":1}", "\"\xf0\x9f\x98\x80\"");
    invalid("{\"maxLength\":2}", "\"\xf0\x9f\x98\x80\xf0\x9f\x98\x80x\"",
            "(root): \"\\uD83D\\uDE00\\uD83D\\uDE00x\" is longer than 2 "
            "characters");
    valid("{\"pattern\":\"^[a-z]+$\"}", "\"abc\"");
    invalid("{\"pattern\":\"^[a-z]+$\"}", "\"ab1\"",
            "(root): \"ab1\" does not match the pattern ^[a-z]+$");
    /* $ is the very end, as in ECMA-262: no newline before it */
    invalid("{\"pattern\":\"^[a-z]+$\"}", "\"abc\\n\"", NULL);
    /* searched anywhere */
    valid("{\"pattern\":\"b\"}", "\"abc\"");
    /* \uHHHH and \u{H...} name code points; '.' is one code point */
    valid("{\"pattern\":\"^\\\\u00e9$\"}", "\"\\u00e9\"");
    valid("{\"pattern\":\"^\\\\u{1F600}$\"}", "\"\xf0\x9f\x98\x80\"");
    valid("{\"pattern\":\"^.$\"}", "\"\xf0\x9f\x98\x80\"");
    /* a NUL inside a string is part of it */
    invalid("{\"maxLength\":2}", "\"a\\u0000b\"",
            "(root): \"a\\u0000b\" is longer than 2 characters");
    /* long values are cut, quotes and controls escaped */
    invalid("{\"maxLength\":3}",
            "\"0123456789012345678901234567890123456789\"",
            "(root): \"01234567890123456789012345678901...\" is longer than "
            "3 characters");
    invalid("{\"maxLength\":1}", "\"a\\\"\\\\\\t\"",
            "(root): \"a\\\"\\\\\\t\" is longer than 1 character");
    refused_with("{\"pattern\":\"[a-\"}", "does not compile");
    refused_with("{\"pattern\":\"\\\\C\"}", "does not compile");
    refused_with("{\"minLength\":-1}", "whole number of 0 or more");
    refused_with("{\"maxLength\":1.5}", "whole number of 0 or more");
    valid("{\"maxLength\":2.0}", "\"ab\"");
}

static void test_arrays(void **state)
{
    (void)state;
    valid("{\"items\":{\"type\":\"integer\"}}", "[1,2,3]");
    invalid("{\"items\":{\"type\":\"integer\"}}", "[1,\"x\",3]",
            "/1: \"x\" is not of type integer");
    invalid("{\"minItems\":2}", "[1]",
            "(root): the array has 1 item, fewer than 2");
    invalid("{\"maxItems\":1}", "[1,2]",
            "(root): the array has 2 items, more than 1");
    valid("{\"prefixItems\":[{\"type\":\"string\"},{\"type\":\"integer\"}],"
          "\"items\":false}", "[\"a\",1]");
    valid("{\"prefixItems\":[{\"type\":\"string\"}]}", "[]");
    invalid("{\"prefixItems\":[{\"type\":\"string\"},{\"type\":\"integer\"}],"
            "\"items\":false}", "[\"a\",1,2]",
            "(root): the array has 3 items, more than the 2 allowed");
    invalid("{\"prefixItems\":[{\"type\":\"string\"}],\"items\":{\"type\":"
            "\"integer\"}}", "[\"a\",1,\"b\"]",
            "/2: \"b\" is not of type integer");
    /* draft-07's list form and additionalItems */
    invalid("{\"items\":[{\"type\":\"string\"}],\"additionalItems\":"
            "{\"type\":\"integer\"}}", "[1]", "/0: 1 is not of type string");
    invalid("{\"items\":[true],\"additionalItems\":false}", "[1,2]", NULL);
    valid("{\"items\":[true]}", "[1,2]");
    valid("{\"uniqueItems\":true}", "[1,\"1\",[1],{\"a\":1},{\"a\":2}]");
    invalid("{\"uniqueItems\":true}", "[1,2,1.0]",
            "(root): items 0 and 2 are equal, and the items must be unique");
    invalid("{\"uniqueItems\":true}", "[{\"a\":1,\"b\":2},{\"b\":2,\"a\":1}]",
            NULL);
    valid("{\"uniqueItems\":false}", "[1,1]");
    valid("{\"contains\":{\"const\":2}}", "[1,2]");
    invalid("{\"contains\":{\"const\":2}}", "[1,3]",
            "(root): no item matches the schema of contains");
    invalid("{\"contains\":{\"const\":2},\"minContains\":2}", "[2,3]",
            "(root): 1 item matches the schema of contains, fewer than 2");
    invalid("{\"contains\":{\"const\":2},\"maxContains\":1}", "[2,2]",
            "(root): more than 1 item match the schema of contains");
    valid("{\"contains\":{\"const\":2},\"minContains\":0}", "[]");
    refused_with("{\"prefixItems\":[true],\"items\":[true]}",
                 "write the list once");
    refused_with("{\"prefixItems\":[true],\"additionalItems\":false}",
                 "additionalItems goes with a list of items");
    refused_with("{\"uniqueItems\":1}", "true or false");
}

static void test_objects(void **state)
{
    const char *person = "{\"type\":\"object\",\"properties\":{\"name\":"
        "{\"type\":\"string\"},\"age\":{\"type\":\"integer\",\"minimum\":0}},"
        "\"required\":[\"name\"],\"additionalProperties\":false}";

    (void)state;
    valid(person, "{\"name\":\"a\",\"age\":3}");
    invalid(person, "{\"age\":3}",
            "(root): the property \"name\" is required");
    invalid(person, "{\"name\":\"a\",\"age\":-1}",
            "/age: -1 is less than the minimum of 0");
    invalid(person, "{\"name\":\"a\",\"x\":1}",
            "(root): the property \"x\" is not allowed");
    invalid("{\"additionalProperties\":{\"type\":\"string\"}}",
            "{\"a\":\"s\",\"b\":1}", "/b: 1 is not of type string");
    valid("{\"patternProperties\":{\"^x-\":{\"type\":\"string\"}},"
          "\"additionalProperties\":false}", "{\"x-a\":\"s\"}");
    invalid("{\"patternProperties\":{\"^x-\":{\"type\":\"string\"}},"
            "\"additionalProperties\":false}", "{\"x-a\":1}",
            "/x-a: 1 is not of type string");
    invalid("{\"patternProperties\":{\"^x-\":true},\"additionalProperties\":"
            "false}", "{\"y\":1}", "(root): the property \"y\" is not "
            "allowed");
    invalid("{\"propertyNames\":{\"maxLength\":2}}", "{\"abc\":1}",
            "(root): \"abc\" is longer than 2 characters");
    invalid("{\"minProperties\":1}", "{}",
            "(root): the object has 0 properties, fewer than 1");
    invalid("{\"maxProperties\":1}", "{\"a\":1,\"b\":2}",
            "(root): the object has 2 properties, more than 1");
    invalid("{\"dependentRequired\":{\"a\":[\"b\"]}}", "{\"a\":1}",
            "(root): the property \"b\" is required when \"a\" is present");
    valid("{\"dependentRequired\":{\"a\":[\"b\"]}}", "{\"c\":1}");
    invalid("{\"dependencies\":{\"a\":[\"b\"],\"c\":{\"required\":[\"d\"]}}}",
            "{\"c\":1}", "(root): the property \"d\" is required");
    invalid("{\"dependentSchemas\":{\"a\":{\"maxProperties\":1}}}",
            "{\"a\":1,\"b\":2}", NULL);
    /* object keywords say nothing of other types */
    valid(person, "{\"name\":\"a\"}");
    valid("{\"required\":[\"a\"]}", "[]");
    /* keys in pointers: ~ and / escaped, others cut and made printable */
    invalid("{\"additionalProperties\":{\"type\":\"string\"}}",
            "{\"a/b~c\":1}", "/a~1b~0c: 1 is not of type string");
    invalid("{\"additionalProperties\":{\"type\":\"string\"}}",
            "{\"\\u00e9\\n\":1}", "/\\u00E9\\n: 1 is not of type string");
    invalid("{\"additionalProperties\":false}", "{\"a\\\"b\":1}",
            "(root): the property \"a\\\"b\" is not allowed");
    /* jansson takes no NUL in a key: such a body is not read at all */
    {
        const char *why;
        assert_int_equal(verdict("true", "{\"a\\u0000b\":1}", &why),
                         APIGW_SCHEMA_MALFORMED);
        assert_non_null(strstr(why, "NUL"));
    }
    refused_with("{\"required\":\"a\"}", "list of property names");
    refused_with("{\"properties\":[]}", "object of schemas");
    refused_with("{\"patternProperties\":{\"(\":true}}", "does not compile");
}

static void test_applicators(void **state)
{
    (void)state;
    invalid("{\"allOf\":[{\"type\":\"integer\"},{\"minimum\":3}]}", "2",
            "(root): 2 is less than the minimum of 3");
    valid("{\"anyOf\":[{\"type\":\"string\"},{\"minimum\":3}]}", "\"x\"");
    invalid("{\"anyOf\":[{\"type\":\"string\"},{\"minimum\":3}]}", "2",
            "(root): 2 matches none of the schemas of anyOf");
    valid("{\"oneOf\":[{\"type\":\"integer\"},{\"type\":\"string\"}]}", "1");
    invalid("{\"oneOf\":[{\"type\":\"integer\"},{\"minimum\":0}]}", "1",
            "(root): 1 matches more than one schema of oneOf (0 and 1)");
    invalid("{\"oneOf\":[{\"type\":\"integer\"},{\"type\":\"string\"}]}",
            "null", "(root): null matches none of the schemas of oneOf");
    invalid("{\"not\":{\"type\":\"null\"}}", "null",
            "(root): null matches the schema of not");
    valid("{\"if\":{\"properties\":{\"kind\":{\"const\":\"a\"}}},"
          "\"then\":{\"required\":[\"x\"]},\"else\":{\"required\":[\"y\"]}}",
          "{\"kind\":\"b\",\"y\":1}");
    invalid("{\"if\":{\"properties\":{\"kind\":{\"const\":\"a\"}}},"
            "\"then\":{\"required\":[\"x\"]},\"else\":{\"required\":[\"y\"]}}",
            "{\"kind\":\"a\",\"y\":1}",
            "(root): the property \"x\" is required");
    valid("{\"then\":false}", "1");
    valid("true", "{\"anything\":[1]}");
    invalid("false", "1", "(root): 1 is not allowed here");
    valid("{}", "null");
    invalid("{\"properties\":{\"a\":false}}", "{\"a\":\"x\"}",
            "/a: \"x\" is not allowed here");
    refused_with("{\"allOf\":[]}", "at least one");
    refused_with("{\"anyOf\":{}}", "list of schemas");
    refused_with("{\"not\":1}", "a schema is an object, true or false");
}

static void test_refs(void **state)
{
    const char *tree = "{\"$defs\":{\"node\":{\"type\":\"object\","
        "\"properties\":{\"v\":{\"type\":\"integer\"},\"kids\":{\"type\":"
        "\"array\",\"items\":{\"$ref\":\"#/$defs/node\"}}},\"required\":"
        "[\"v\"]}},\"$ref\":\"#/$defs/node\"}";

    (void)state;
    valid(tree, "{\"v\":1,\"kids\":[{\"v\":2},{\"v\":3,\"kids\":[]}]}");
    invalid(tree, "{\"v\":1,\"kids\":[{\"v\":2},{\"v\":3,\"kids\":[{}]}]}",
            "/kids/1/kids/0: the property \"v\" is required");
    valid("{\"definitions\":{\"s\":{\"type\":\"string\"}},\"properties\":"
          "{\"a\":{\"$ref\":\"#/definitions/s\"}}}", "{\"a\":\"x\"}");
    invalid("{\"definitions\":{\"a b\":{\"type\":\"string\"}},"
            "\"$ref\":\"#/definitions/a%20b\"}", "1", NULL);
    invalid("{\"definitions\":{\"a/b\":{\"type\":\"string\"}},"
            "\"$ref\":\"#/definitions/a~1b\"}", "1", NULL);
    /* the root, recursively, through items */
    valid("{\"type\":\"array\",\"items\":{\"$ref\":\"#\"}}", "[[],[[]]]");
    invalid("{\"type\":\"array\",\"items\":{\"$ref\":\"#\"}}", "[[1]]",
            "/0/0: 1 is not of type array");
    /* any pointer into the document */
    valid("{\"properties\":{\"a\":{\"type\":\"string\"},\"b\":{\"$ref\":"
          "\"#/properties/a\"}}}", "{\"b\":\"x\"}");
    /* beside $ref, siblings apply too (2019-09 and later) */
    invalid("{\"$defs\":{\"s\":{\"type\":\"string\"}},\"$ref\":\"#/$defs/s\","
            "\"maxLength\":1}", "\"ab\"", NULL);
    refused_with("{\"$ref\":\"http://example.com/s.json\"}",
                 "remote $ref \"http://example.com/s.json\" is not supported");
    refused_with("{\"$ref\":\"other.json#/a\"}", "remote $ref");
    refused_with("{\"$ref\":\"#foo\"}", "anchor");
    refused_with("{\"$ref\":\"#/definitions/none\"}", "points at nothing");
    refused_with("{\"$ref\":\"#/a%zz\"}", "hex digits");
    refused_with("{\"$ref\":\"#/a~2\"}", "followed by 0 or 1");
    refused_with("{\"$ref\":1}", "must be a string");
    /* loops that never descend into the value */
    refused_with("{\"$ref\":\"#\"}", "never end");
    refused_with("{\"$defs\":{\"a\":{\"$ref\":\"#/$defs/b\"},\"b\":"
                 "{\"allOf\":[{\"$ref\":\"#/$defs/a\"}]}},\"$ref\":"
                 "\"#/$defs/a\"}", "never end");
    refused_with("{\"$defs\":{\"a\":{\"not\":{\"$ref\":\"#/$defs/a\"}}}}",
                 "never end");
    /* a $ref to a value that is no schema */
    refused_with("{\"title\":\"t\",\"$ref\":\"#/title\"}",
                 "a schema is an object, true or false");
    /* draft-07 validators ignore what sits beside a $ref: refused */
    refused_with("{\"$schema\":\"http://json-schema.org/draft-07/schema#\","
                 "\"definitions\":{\"s\":{\"type\":\"string\"}},\"properties\":"
                 "{\"a\":{\"$ref\":\"#/definitions/s\",\"maxLength\":3}}}",
                 "at /properties/a: beside \"$ref\", \"maxLength\" is ignored "
                 "by draft-07");
    /* annotations and definitions beside it are fine */
    compiled("{\"$schema\":\"http://json-schema.org/draft-07/schema#\","
             "\"definitions\":{\"s\":{\"type\":\"string\"}},"
             "\"$ref\":\"#/definitions/s\",\"description\":\"d\"}");
    refused_with("{\"$schema\":\"http://json-schema.org/draft-03/schema#\"}",
                 "draft-03");
}

static void test_annotations_and_unsupported(void **state)
{
    (void)state;
    valid("{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\","
          "\"$id\":\"https://example.com/s\",\"$comment\":\"c\",\"title\":"
          "\"t\",\"description\":\"d\",\"default\":1,\"examples\":[1],"
          "\"format\":\"email\",\"readOnly\":true,\"writeOnly\":false,"
          "\"deprecated\":false,\"contentMediaType\":\"text/plain\","
          "\"contentEncoding\":\"base64\",\"x-internal\":{\"a\":1}}",
          "\"not an email\"");
    compiled("{\"properties\":{\"a\":{\"$id\":\"#a\",\"type\":\"string\"}}}");
    refused_with("{\"properties\":{\"a\":{\"$id\":\"http://x/a\"}}}",
                 "nested $id");
    refused_with("{\"$comment\":1}", "must be a string");
    refused_with("{\"type\":\"object\",\"unevaluatedProperties\":false}",
                 "at the root: keyword \"unevaluatedProperties\" is not "
                 "supported (additionalProperties is)");
    refused_with("{\"properties\":{\"a\":{\"if\":true,\"$dynamicRef\":"
                 "\"#x\"}}}", "at /properties/a: keyword \"$dynamicRef\"");
    refused_with("{\"nullable\":true}", "keyword \"nullable\" is not "
                 "supported");
    refused_with("{\"$defs\":{\"unused\":{\"frobnicate\":1}}}",
                 "at /$defs/unused: keyword \"frobnicate\"");
    refused_with("{\"type\":\"str\"}", "unknown type \"str\"");
    refused_with("{\"type\":[\"string\",\"string\"]}", "listed twice");
    refused_with("{\"type\":[]}", "list of them");
    refused_with("42", "a schema is an object, true or false; found a "
                 "number");
    refused_with("{\"type\":", "not valid JSON at line 1");
    refused_with("{\"a\":1,\"a\":2}", "not valid JSON");
}

static void test_messages_printable(void **state)
{
    const char *err;
    size_t i;

    (void)state;
    err = refused("{\"properties\":{\"\\u0001\\u00e9\":{\"bad\\ttype\":1}}}");
    for (i = 0; err[i]; i++) {
        assert_true(err[i] >= 0x20 && err[i] < 0x7f);
    }
    assert_non_null(strstr(err, "\\u0001"));
    /* a long pointer keeps its end */
    {
        const char *schema = "{\"additionalProperties\":{\"$ref\":\"#\"},"
                             "\"type\":\"object\"}";
        char *body = apr_pstrdup(pool, "");
        const char *why;
        for (i = 0; i < 40; i++) {
            body = apr_pstrcat(pool, body, "{\"key", apr_itoa(pool, (int)i),
                               "\":", NULL);
        }
        body = apr_pstrcat(pool, body, "1", NULL);
        for (i = 0; i < 40; i++) {
            body = apr_pstrcat(pool, body, "}", NULL);
        }
        assert_int_equal(verdict(schema, body, &why), APIGW_SCHEMA_INVALID);
        assert_non_null(strstr(why, ": ...") );
        assert_non_null(strstr(why, "/key39: 1 is not of type object"));
        assert_true(strlen(why) < 260);
    }
}

static void test_bodies(void **state)
{
    const char *why;
    char *big;

    (void)state;
    /* KrakenD refuses an empty body whatever the schema */
    assert_int_equal(verdict("true", "", &why), APIGW_SCHEMA_MALFORMED);
    assert_string_equal(why, "the request body is empty");
    assert_int_equal(verdict("true", "{", &why), APIGW_SCHEMA_MALFORMED);
    assert_string_equal(why, "the request body is not valid JSON: it ends "
                        "before its value does (at character 1)");
    assert_int_equal(verdict("true", "{\"a\":1,\"a\":2}", &why),
                     APIGW_SCHEMA_MALFORMED);
    assert_non_null(strstr(why, "an object repeats a key"));
    assert_int_equal(verdict("true", "1 2", &why), APIGW_SCHEMA_MALFORMED);
    assert_non_null(strstr(why, "something follows its value"));
    assert_int_equal(verdict("true", "\"\xff\"", &why),
                     APIGW_SCHEMA_MALFORMED);
    assert_non_null(strstr(why, "not UTF-8"));
    assert_int_equal(verdict("true", "  ", &why), APIGW_SCHEMA_MALFORMED);
    /* the body's text is never quoted */
    assert_int_equal(verdict("true", "secret-token", &why),
                     APIGW_SCHEMA_MALFORMED);
    assert_null(strstr(why, "secret"));
    assert_int_equal(verdict("true", "1e999", &why), APIGW_SCHEMA_MALFORMED);
    valid("true", " {\"a\":[1,2,{}]} ");
    valid("{\"type\":\"string\"}", "\"scalar\"");
    /* too many values: refused before jansson spends memory on them */
    big = apr_palloc(pool, 2 * APIGW_SCHEMA_MAX_VALUES + 8);
    big[0] = '[';
    memset(big + 1, ',', 2 * APIGW_SCHEMA_MAX_VALUES);
    {
        size_t i;
        for (i = 1; i < 2 * APIGW_SCHEMA_MAX_VALUES; i += 2) {
            big[i] = '0';
        }
    }
    big[2 * APIGW_SCHEMA_MAX_VALUES] = '0';
    big[2 * APIGW_SCHEMA_MAX_VALUES + 1] = ']';
    big[2 * APIGW_SCHEMA_MAX_VALUES + 2] = '\0';
    assert_int_equal(apigw_schema_check_body(pool, compiled("true"), big,
                                             strlen(big), &why),
                     APIGW_SCHEMA_TOO_LARGE);
    assert_non_null(strstr(why, "JSON values"));
    assert_int_equal(apigw_schema_check_body(pool, compiled("true"), big,
                                             APIGW_SCHEMA_MAX_BODY + 1, &why),
                     APIGW_SCHEMA_TOO_LARGE);
}

static void test_bounds(void **state)
{
    const char *why;
    const char *nest = "{\"$defs\":{\"n\":{\"oneOf\":[{\"type\":\"array\","
        "\"items\":{\"$ref\":\"#/$defs/n\"}},{\"type\":\"array\",\"items\":"
        "{\"$ref\":\"#/$defs/n\"}},{\"type\":\"integer\"}]}},\"$ref\":"
        "\"#/$defs/n\"}";
    char body[200];
    json_t *doc;
    int i;

    (void)state;
    /* a schema whose cost doubles at each level: stopped by the budget */
    for (i = 0; i < 60; i++) {
        body[i] = '[';
        body[61 + i] = ']';
    }
    body[60] = '1';
    body[121] = '\0';
    assert_int_equal(verdict(nest, body, &why), APIGW_SCHEMA_UNDECIDED);
    assert_non_null(strstr(why, "could not be checked"));
    assert_non_null(strstr(why, "steps"));
    /* a pattern that backtracks without end: stopped by its bound */
    doc = json_pack("s", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab");
    assert_non_null(doc);
    assert_int_equal(apigw_schema_validate(pool,
                     compiled("{\"pattern\":\"^(a|aa)+$\"}"), doc, 1000000,
                     &why), APIGW_SCHEMA_UNDECIDED);
    assert_non_null(strstr(why, "pattern"));
    json_decref(doc);
    /* the step budget is the caller's */
    doc = json_pack("[iii]", 1, 2, 3);
    assert_int_equal(apigw_schema_validate(pool,
                     compiled("{\"items\":{\"type\":\"integer\"}}"), doc, 2,
                     &why), APIGW_SCHEMA_UNDECIDED);
    assert_int_equal(apigw_schema_validate(pool,
                     compiled("{\"items\":{\"type\":\"integer\"}}"), doc, 100,
                     &why), APIGW_SCHEMA_VALID);
    json_decref(doc);
}

static void test_deep_values(void **state)
{
    /* jansson's own bound (2048) on the body; a recursive schema follows
     * it all the way down */
    const char *schema = "{\"anyOf\":[{\"type\":\"integer\"},{\"type\":"
                         "\"array\",\"items\":{\"$ref\":\"#\"}}]}";
    size_t depth = 2000, i;
    char *body = apr_palloc(pool, 2 * depth + 2);
    const char *why;

    (void)state;
    for (i = 0; i < depth; i++) {
        body[i] = '[';
        body[depth + 1 + i] = ']';
    }
    body[depth] = '1';
    body[2 * depth + 1] = '\0';
    assert_int_equal(verdict(schema, body, &why), APIGW_SCHEMA_UNDECIDED);
    assert_non_null(strstr(why, "nests"));
    depth = 300;                   /* three levels of schema each */
    body[depth] = '1';
    for (i = 0; i < depth; i++) {
        body[depth + 1 + i] = ']';
    }
    body[2 * depth + 1] = '\0';
    valid(schema, body);
}

/* One compiled schema, validated from several threads at once (as
 * httpd's threads do): every validation gives the same verdict and
 * words. */
#define THREADS 4
#define ROUNDS 300

static const char *const thread_bodies[] = {
    "{\"ab\":1,\"c\":\"x\"}", "{\"ab\":1,\"cd\":[1,2,3]}",
    "{\"ab\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab\"}", "[1]"
};

typedef struct {
    const apigw_schema *s;
    const char *first[4];
    int mismatches;
} thread_job;

static void *APR_THREAD_FUNC validate_many(apr_thread_t *t, void *data)
{
    thread_job *job = data;
    apr_pool_t *p;
    int i, k;

    (void)t;        /* returning ends the thread (no apr_thread_exit:
                     * its pthread_exit upsets ASan) */
    if (apr_pool_create(&p, NULL) != APR_SUCCESS) {
        job->mismatches++;
        return NULL;
    }
    for (i = 0; i < ROUNDS; i++) {
        for (k = 0; k < 4; k++) {
            const char *why;
            apigw_schema_check_body(p, job->s, thread_bodies[k],
                                    strlen(thread_bodies[k]), &why);
            if (!why != !job->first[k]
                || (why && strcmp(why, job->first[k]) != 0)) {
                job->mismatches++;
            }
        }
        apr_pool_clear(p);
    }
    apr_pool_destroy(p);
    return NULL;
}

static void test_concurrent_use_is_read_only(void **state)
{
    apigw_schema *s = compiled("{\"type\":\"object\",\"patternProperties\":"
                               "{\"^[a-z]+$\":{\"anyOf\":[{\"type\":"
                               "\"integer\"},{\"pattern\":\"^(a|aa)+$\"}]}},"
                               "\"additionalProperties\":false}");
    apr_thread_t *threads[THREADS];
    thread_job jobs[THREADS];
    const char *first[4];
    int i, k;

    (void)state;
    for (k = 0; k < 4; k++) {
        apigw_schema_check_body(pool, s, thread_bodies[k],
                                strlen(thread_bodies[k]), &first[k]);
    }
    assert_null(first[1]);                 /* an array: no pattern */
    assert_string_equal(first[0], INVALID_PREFIX "/c: \"x\" matches none "
                        "of the schemas of anyOf");
    assert_non_null(strstr(first[2], "could not be checked"));
    for (i = 0; i < THREADS; i++) {
        jobs[i].s = s;
        memcpy(jobs[i].first, first, sizeof(first));
        jobs[i].mismatches = 0;
        assert_int_equal(apr_thread_create(&threads[i], NULL, validate_many,
                                           &jobs[i], pool), APR_SUCCESS);
    }
    for (i = 0; i < THREADS; i++) {
        apr_status_t rv;
        apr_thread_join(&rv, threads[i]);
        assert_int_equal(jobs[i].mismatches, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_krakend_spec),
        T(test_types),
        T(test_enum_const),
        T(test_numbers),
        T(test_strings),
        T(test_arrays),
        T(test_objects),
        T(test_applicators),
        T(test_refs),
        T(test_annotations_and_unsupported),
        T(test_messages_printable),
        T(test_bodies),
        T(test_bounds),
        T(test_deep_values),
        T(test_concurrent_use_is_read_only),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
