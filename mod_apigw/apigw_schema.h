/* JSON Schema validation of request bodies (ApiRequestSchema; KrakenD's
 * validation/json-schema). Pure: APR, jansson and PCRE2, no httpd. A
 * schema is compiled once, at configtest, and validated against from any
 * number of threads at once (a compiled schema is never written again).
 *
 * Keywords (draft-07, 2019-09 and 2020-12 alike):
 *   type (a name or a list; "integer" takes 1.0), enum, const (numbers
 *   compared by value: 1 equals 1.0), properties, required,
 *   additionalProperties, patternProperties, propertyNames,
 *   minProperties, maxProperties, dependentRequired, dependentSchemas,
 *   dependencies, items (a schema, or a list with additionalItems),
 *   prefixItems, minItems, maxItems, uniqueItems, contains, minContains,
 *   maxContains, minLength, maxLength (Unicode code points), pattern
 *   (PCRE2, see below), minimum, maximum, exclusiveMinimum,
 *   exclusiveMaximum (the number forms), multipleOf (exact for whole
 *   numbers, within 1e-9 of the quotient otherwise), allOf, anyOf, oneOf,
 *   not, if/then/else, and $ref to "#" or "#/..." (a JSON pointer into
 *   this schema: "#/definitions/x", "#/$defs/x").
 * Annotations, accepted and not checked: $schema, $id (a nested one only
 * as a "#name" fragment), $comment, title, description, default,
 * examples, format, readOnly, writeOnly, deprecated, contentMediaType,
 * contentEncoding, contentSchema, and any "x-..." key. Anything else is
 * refused when compiling, naming it and where it is: a validator that
 * checked less than a schema says would pass what it refuses. So are
 * remote and anchor $refs, $refs that loop without descending into the
 * value, draft-04's boolean exclusiveMinimum/exclusiveMaximum, and, when
 * $schema names draft-04, -06 or -07 (whose validators ignore what sits
 * beside a $ref), a constraint beside a $ref.
 *
 * Patterns are PCRE2 in UTF mode, searched anywhere in the string (as
 * ECMA-262's are): $ matches at the very end only, \uHHHH and \u{H...}
 * name code points. Each match is bounded (100,000 steps, 8 MiB of heap,
 * a 1 MiB JIT stack); so is the whole validation (steps in proportion to
 * the body, nesting): past a bound the verdict is UNDECIDED, never VALID.
 *
 * Messages are short printable ASCII: anything taken from the value (a
 * string, a property name) is escaped and cut to a few dozen
 * characters. */
#ifndef APIGW_SCHEMA_H
#define APIGW_SCHEMA_H

#include <apr_pools.h>
#include <jansson.h>

typedef struct apigw_schema apigw_schema;

/* The largest body apigw_schema_check_body parses, and the most JSON
 * values it lets the body hold (each costs jansson some 40 bytes). */
#define APIGW_SCHEMA_MAX_BODY (16 * 1024 * 1024)
#define APIGW_SCHEMA_MAX_VALUES (1024 * 1024)

/* Compiles len bytes of JSON text (a schema: an object, true or false).
 * NULL with *out set, allocated from p (PCRE2 codes and the document
 * freed with it); or a message from p, e.g.
 *   "not valid JSON at line 1, column 9: ..."
 *   "at /properties/id: keyword \"unevaluatedProperties\" is not supported"
 *   "at /items/$ref: remote $ref \"http://x/s.json\" is not supported; ..." */
const char *apigw_schema_compile(apr_pool_t *p, const char *text,
                                 apr_size_t len, apigw_schema **out);

/* The same from a parsed document, which the schema keeps a reference
 * to (released with p). */
const char *apigw_schema_compile_json(apr_pool_t *p, json_t *doc,
                                      apigw_schema **out);

typedef enum {
    APIGW_SCHEMA_VALID = 0,
    APIGW_SCHEMA_INVALID,          /* the value breaks the schema */
    APIGW_SCHEMA_MALFORMED,        /* the body is empty or not JSON */
    APIGW_SCHEMA_TOO_LARGE,        /* the body is over the bounds above */
    APIGW_SCHEMA_UNDECIDED         /* a bound was reached first */
} apigw_schema_verdict;

/* Validates value within max_steps steps. VALID; INVALID with *why
 * "POINTER: what is wrong", POINTER the JSON pointer of the first value
 * that breaks the schema ("(root)" for the value itself), e.g.
 * "/foo: 42 is not of type string"; UNDECIDED with *why saying which
 * bound. *why is from p; scratch memory too (use a pool that ends). */
apigw_schema_verdict apigw_schema_validate(apr_pool_t *p,
                                           const apigw_schema *s,
                                           const json_t *value,
                                           apr_size_t max_steps,
                                           const char **why);

/* A request body of len bytes against s: parsed (any JSON value;
 * duplicate object keys refused, as a backend may read either), then
 * validated with a step budget in proportion to its size. *why, from p,
 * is a whole sentence for the client:
 *   MALFORMED  "the request body is empty" (KrakenD: "could not validate
 *              an empty body"), "the request body is not valid JSON: ..."
 *   TOO_LARGE  "the request body is larger than ..." / "holds more
 *              than ... JSON values"
 *   INVALID    "the request body does not match the endpoint's schema:
 *              /foo: 42 is not of type string"
 *   UNDECIDED  "the request body could not be checked against the
 *              endpoint's schema: ..." */
apigw_schema_verdict apigw_schema_check_body(apr_pool_t *p,
                                             const apigw_schema *s,
                                             const char *body,
                                             apr_size_t len,
                                             const char **why);

#endif
