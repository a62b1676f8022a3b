/* sources: mod_apigw/apigw_schema.c */
/* libs: -ljansson -lpcre2-8 */
/* libFuzzer target for mod_apigw/apigw_schema.c: JSON Schemas compiled,
 * and request bodies checked against them.
 *
 * Input: the schema's text up to the first newline, the body after it
 * (no newline: the schema alone, an empty body).
 *
 * Checked, besides crashes, leaks and undefined behaviour:
 *   - a refused schema gets a message: non-empty, printable ASCII, "not
 *     valid JSON ..." or "at POINTER: ..." (or "out of memory"), and no
 *     schema; compiling the parsed document gives the same answer;
 *   - a compiled schema's verdict on the body is deterministic: twice the
 *     same verdict and the same words; the words are printable ASCII,
 *     short, and start as apigw_schema.h says for that verdict; INVALID
 *     names a pointer ("(root)", "/..." or "...");
 *   - true and {} take every body that is JSON (VALID, or MALFORMED /
 *     TOO_LARGE for one that is not), false none (INVALID instead), and
 *     the three agree on which bodies are not JSON;
 *   - when the schema wrapped as {"not": S} compiles, it gives the
 *     opposite verdict of S on every body both decide (S is then applied
 *     without messages: the same decision either way), and
 *     {"allOf": [S, true]} the same verdict with the same words. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <jansson.h>

#include "apigw_schema.h"

#define FUZZ_TARGET "fuzz_schema"
#include "fuzz_check.h"

#define MAX_FUZZ_INPUT 8192
#define MAX_WHY 600

static apr_pool_t *root_pool;
static apigw_schema *s_true, *s_empty, *s_false;

static const char PREFIX_INVALID[] =
    "the request body does not match the endpoint's schema: ";
static const char PREFIX_UNDECIDED[] =
    "the request body could not be checked against the endpoint's schema: ";

static int is_printable(const char *s)
{
    for (; *s; s++) {
        if (*s < 0x20 || *s > 0x7e) {
            return 0;
        }
    }
    return 1;
}

static int starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void check_refusal(const char *text, const char *err,
                          const apigw_schema *s)
{
    CHECK(s == NULL, "[%s] refused (%s) but a schema was made", text, err);
    CHECK(*err, "[%s] an empty message", text);
    CHECK(is_printable(err), "[%s] message not printable: %s", text, err);
    CHECK(starts(err, "not valid JSON") || starts(err, "at ")
          || strcmp(err, "out of memory") == 0,
          "[%s] message \"%s\"", text, err);
}

static void check_words(apigw_schema_verdict v, const char *why)
{
    if (v == APIGW_SCHEMA_VALID) {
        CHECK(why == NULL, "VALID with words: %s", why);
        return;
    }
    CHECK(why != NULL && *why, "verdict %d without words", (int)v);
    CHECK(is_printable(why), "words not printable: %s", why);
    CHECK(strlen(why) < MAX_WHY, "%lu bytes of words: %s",
          (unsigned long)strlen(why), why);
    switch (v) {
    case APIGW_SCHEMA_INVALID:
        CHECK(starts(why, PREFIX_INVALID), "INVALID: %s", why);
        why += sizeof(PREFIX_INVALID) - 1;
        CHECK(starts(why, "(root): ") || why[0] == '/'
              || starts(why, "..."), "INVALID without a pointer: %s", why);
        break;
    case APIGW_SCHEMA_UNDECIDED:
        CHECK(starts(why, PREFIX_UNDECIDED), "UNDECIDED: %s", why);
        break;
    case APIGW_SCHEMA_MALFORMED:
        CHECK(strcmp(why, "the request body is empty") == 0
              || starts(why, "the request body is not valid JSON: "),
              "MALFORMED: %s", why);
        break;
    case APIGW_SCHEMA_TOO_LARGE:
        CHECK(starts(why, "the request body "), "TOO_LARGE: %s", why);
        break;
    default:
        CHECK(0, "unknown verdict %d", (int)v);
    }
}

/* The verdict of s on body, checked to be the same twice. */
static apigw_schema_verdict check_body(apr_pool_t *p, const apigw_schema *s,
                                       const char *body, size_t len,
                                       const char **why)
{
    const char *again = NULL;
    apigw_schema_verdict v = apigw_schema_check_body(p, s, body, len, why);
    apigw_schema_verdict w = apigw_schema_check_body(p, s, body, len, &again);

    check_words(v, *why);
    CHECK(v == w, "verdicts %d then %d", (int)v, (int)w);
    CHECK((!*why && !again) || (*why && again && strcmp(*why, again) == 0),
          "words \"%s\" then \"%s\"", *why ? *why : "-",
          again ? again : "-");
    return v;
}

static int decided(apigw_schema_verdict v)
{
    return v == APIGW_SCHEMA_VALID || v == APIGW_SCHEMA_INVALID;
}

static apigw_schema *compile_text(apr_pool_t *p, const char *text)
{
    apigw_schema *s = NULL;

    return apigw_schema_compile(p, text, strlen(text), &s) ? NULL : s;
}

static void check_wrapped(apr_pool_t *p, const char *schema,
                          const char *body, size_t len,
                          apigw_schema_verdict v, const char *why)
{
    apigw_schema *neg, *all;
    apigw_schema_verdict w;
    const char *wwhy;

    neg = compile_text(p, apr_pstrcat(p, "{\"not\":", schema, "}", NULL));
    if (neg) {
        w = check_body(p, neg, body, len, &wwhy);
        if (decided(v) && decided(w)) {
            CHECK(v != w, "S and {\"not\": S} agree (%d) on the body", (int)v);
        }
        if (!decided(v) && v != APIGW_SCHEMA_UNDECIDED) {
            CHECK(w == v, "not JSON for S (%d) but %d for not S", (int)v,
                  (int)w);
        }
    }
    all = compile_text(p, apr_pstrcat(p, "{\"allOf\":[", schema, ",true]}",
                                      NULL));
    if (all) {
        w = check_body(p, all, body, len, &wwhy);
        if (decided(v) && decided(w)) {
            CHECK(v == w, "S gives %d, {\"allOf\": [S, true]} %d", (int)v,
                  (int)w);
            CHECK(v == APIGW_SCHEMA_VALID || strcmp(why, wwhy) == 0,
                  "S says \"%s\", allOf says \"%s\"", why, wwhy);
        }
    }
}

/* The schemas made once are released at exit (before the leak check,
 * which libFuzzer registered first). */
static void release_all(void)
{
    apr_pool_destroy(root_pool);
    apr_terminate();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    apr_initialize();
    atexit(release_all);
    if (apr_pool_create(&root_pool, NULL) != APR_SUCCESS) {
        abort();
    }
    s_true = compile_text(root_pool, "true");
    s_empty = compile_text(root_pool, "{}");
    s_false = compile_text(root_pool, "false");
    CHECK(s_true && s_empty && s_false, "true, {} or false refused");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    const uint8_t *nl;
    const char *schema, *body, *err, *why, *twhy, *ewhy, *fwhy;
    size_t slen, blen;
    apigw_schema *s = NULL, *s2 = NULL;
    apigw_schema_verdict v, vt, ve, vf;
    json_t *doc;

    if (size > MAX_FUZZ_INPUT || apr_pool_create(&p, root_pool) != APR_SUCCESS) {
        return 0;
    }
    nl = memchr(data, '\n', size);
    slen = nl ? (size_t)(nl - data) : size;
    schema = apr_pstrmemdup(p, (const char *)data, slen);
    body = nl ? apr_pstrmemdup(p, (const char *)nl + 1, size - slen - 1) : "";
    blen = nl ? size - slen - 1 : 0;

    /* the body against true, {} and false */
    vt = check_body(p, s_true, body, blen, &twhy);
    ve = check_body(p, s_empty, body, blen, &ewhy);
    vf = check_body(p, s_false, body, blen, &fwhy);
    CHECK(vt == ve, "true gives %d, {} %d", (int)vt, (int)ve);
    CHECK(vt != APIGW_SCHEMA_INVALID && vt != APIGW_SCHEMA_UNDECIDED,
          "true refuses a body: %s", twhy);
    CHECK(vf != APIGW_SCHEMA_VALID && vf != APIGW_SCHEMA_UNDECIDED,
          "false takes a body (%d)", (int)vf);
    CHECK((vt == APIGW_SCHEMA_VALID) == (vf == APIGW_SCHEMA_INVALID),
          "true gives %d, false %d", (int)vt, (int)vf);

    /* the schema */
    err = apigw_schema_compile(p, schema, slen, &s);
    doc = json_loadb(schema, slen, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY,
                     NULL);
    if (doc) {
        const char *err2 = apigw_schema_compile_json(p, doc, &s2);
        CHECK((err == NULL) == (err2 == NULL), "[%s] from text: %s; from "
              "JSON: %s", schema, err ? err : "compiled",
              err2 ? err2 : "compiled");
        CHECK(!err || strcmp(err, err2) == 0, "[%s] \"%s\" then \"%s\"",
              schema, err, err2);
        json_decref(doc);
    }
    else {
        CHECK(err != NULL, "[%s] jansson refuses it, compiled", schema);
    }
    if (err) {
        check_refusal(schema, err, s);
        apr_pool_destroy(p);
        return 0;
    }
    CHECK(s != NULL, "[%s] no error, no schema", schema);
    v = check_body(p, s, body, blen, &why);
    if (s2) {
        const char *why2;
        apigw_schema_verdict v2 = check_body(p, s2, body, blen, &why2);
        CHECK(v == v2 && (!why || strcmp(why, why2) == 0),
              "[%s] from text %d (%s), from JSON %d (%s)", schema, (int)v,
              why ? why : "-", (int)v2, why2 ? why2 : "-");
    }
    /* a body that is not JSON is not JSON whatever the schema */
    if (vt == APIGW_SCHEMA_MALFORMED || vt == APIGW_SCHEMA_TOO_LARGE) {
        CHECK(v == vt && strcmp(why, twhy) == 0, "[%s] not JSON for true "
              "(%s), %d for the schema", schema, twhy, (int)v);
    }
    else {
        CHECK(v != APIGW_SCHEMA_MALFORMED && v != APIGW_SCHEMA_TOO_LARGE,
              "[%s] JSON for true, %d for the schema: %s", schema, (int)v,
              why);
    }
    check_wrapped(p, schema, body, blen, v, why);
    apr_pool_destroy(p);
    return 0;
}
